"""Solve the same staffing problem with scipy's linear_sum_assignment and print its optimum and solve time as JSON.

Posts are expanded into one column per place. The fit is computed as grassroots does: in ten-thousandths of a point,
100,000 × shared skills − great-circle metres (rounded), on a sphere of radius 6371.0088 km. A forbidden pair (no
shared skill, or beyond max-km) costs 0 here, the same as leaving the place empty: every allowed fit is positive
when max-km < 100 km, so the minimum-cost full assignment is then exactly the maximum-total-fit partial one. (A large
cost instead would make scipy first maximise the number of allowed pairs, which is a different objective.)
"""
import csv
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

R = 6371.0088


def read(path, with_places):
    ids, lat, lon, skills, places = [], [], [], [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            ids.append(row["id"])
            lat.append(float(row["lat"]))
            lon.append(float(row["lon"]))
            skills.append({s.strip() for s in row["skills"].split(";") if s.strip()})
            places.append(int(row["places"]) if with_places else 0)
    return ids, np.radians(lat), np.radians(lon), skills, places


def main(people_path, posts_path, max_km):
    assert max_km < 100, "fits must be positive for cost 0 to mean 'left empty'"
    p_ids, p_lat, p_lon, p_sk, _ = read(people_path, False)
    q_ids, q_lat, q_lon, q_sk, q_places = read(posts_path, True)
    names = sorted(set().union(*p_sk, *q_sk))
    bit = {s: 1 << i for i, s in enumerate(names)}
    assert len(names) <= 63
    p_mask = np.array([sum(bit[s] for s in sk) for sk in p_sk], dtype=np.int64)
    q_mask = np.array([sum(bit[s] for s in sk) for sk in q_sk], dtype=np.int64)
    t0 = time.perf_counter()
    shared = np.bitwise_count(p_mask[:, None] & q_mask[None, :]).astype(np.int64)
    h = (np.sin((q_lat[None, :] - p_lat[:, None]) / 2) ** 2
         + np.cos(p_lat)[:, None] * np.cos(q_lat)[None, :] * np.sin((q_lon[None, :] - p_lon[:, None]) / 2) ** 2)
    km = 2 * R * np.arcsin(np.minimum(np.sqrt(h), 1.0))
    allowed = (shared > 0) & (km <= max_km)
    fit = 100_000 * shared - np.floor(km * 1000 + 0.5).astype(np.int64)
    columns = np.repeat(np.arange(len(q_ids)), q_places)
    cost = np.where(allowed, -fit, 0)[:, columns].astype(np.float64)
    t1 = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    t2 = time.perf_counter()
    posts = columns[cols]
    keep = allowed[rows, posts]
    total = int(fit[rows[keep], posts[keep]].sum())
    print(json.dumps({
        "total_scaled_fit": total,
        "total_fit": total / 10_000,
        "assigned": int(keep.sum()),
        "allowed_pairs": int(allowed.sum()),
        "matrix": list(cost.shape),
        "build_seconds": t1 - t0,
        "solve_seconds": t2 - t1,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
