"""Generate a seeded staffing problem around Huzhou: people.csv and posts.csv for `grassroots staffing match`.

People and posts cluster around township seats; skills follow a Zipf law, and a few skills are held by people only
(the idle members whose backgrounds match no opening), so some unmatched groups have no post at all.
"""
import csv
import sys

import numpy as np


def main(people_count: int, post_count: int, seed: int, out_dir: str) -> None:
    rng = np.random.default_rng(seed)
    towns = np.column_stack([rng.uniform(30.40, 31.15, 70), rng.uniform(119.25, 120.45, 70)])
    skills = [f"s{i:02d}" for i in range(36)]
    weights = 1.0 / np.arange(1, 37) ** 0.9
    weights /= weights.sum()
    post_skills = skills[:30]  # s30..s35: held by people, asked by no post
    post_weights = weights[:30] / weights[:30].sum()

    def place(count):
        town = rng.integers(0, len(towns), count)
        spread = rng.normal(0.0, 0.03, (count, 2))  # ~3 km around the seat
        return towns[town] + spread, town

    where, town = place(people_count)
    with open(f"{out_dir}/people.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "unit", "lat", "lon", "skills"])
        for i in range(people_count):
            k = rng.integers(1, 4)
            s = rng.choice(skills, size=k, replace=False, p=weights)
            w.writerow([f"p{i:05d}", f"3305{town[i]:04d}", f"{where[i, 0]:.6f}", f"{where[i, 1]:.6f}", ";".join(s)])
    where, town = place(post_count)
    with open(f"{out_dir}/posts.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "unit", "lat", "lon", "skills", "places"])
        for j in range(post_count):
            k = rng.integers(1, 3)
            s = rng.choice(post_skills, size=k, replace=False, p=post_weights)
            places = 1 + rng.poisson(0.6)
            w.writerow([f"q{j:04d}", f"3305{town[j]:04d}", f"{where[j, 0]:.6f}", f"{where[j, 1]:.6f}", ";".join(s), places])


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
