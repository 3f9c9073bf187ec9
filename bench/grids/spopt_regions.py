"""Regionalise the same cells as `grassroots grids design` with PySAL spopt (max-p and SKATER) and compare balance and time.

Input: the CSV of `grids design --cells-csv` (cell, workload, current_grid, proposed_grid, neighbours) and the JSON of
the same run (its `seconds`: the design alone). max-p gets the threshold `0.8 × total / N` so that it aims at about N
regions of at least that workload; SKATER gets N clusters on the workload attribute.
"""
import csv
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from libpysal.weights import W

warnings.filterwarnings("ignore")


def balance(workload, labels):
    sums = pd.Series(workload).groupby(np.asarray(labels)).sum()
    return len(sums), float(sums.max() / sums.min()) if sums.min() > 0 else float("inf"), float(sums.std(ddof=0) / sums.mean())


def main(cells_csv, design_json):
    rows = list(csv.DictReader(open(cells_csv)))
    design = json.load(open(design_json))
    ids = [r["cell"] for r in rows]
    workload = np.array([float(r["workload"]) for r in rows])
    position = {cell: at for at, cell in enumerate(ids)}
    neighbours = {at: [position[n] for n in r["neighbours"].split(";") if n] for at, r in enumerate(rows)}
    w = W(neighbours, silence_warnings=True)
    df = pd.DataFrame({"workload": workload, "count": np.ones(len(rows))})
    n = design["proposed"]["grids"]
    out = {"cells": len(rows), "grids": n}
    out["current"] = balance(workload, [r["current_grid"] for r in rows])
    out["grassroots"] = balance(workload, [r["proposed_grid"] for r in rows]) + (design["seconds"],)
    from spopt.region import MaxPHeuristic, Skater
    threshold = 0.8 * workload.sum() / n
    t0 = time.perf_counter()
    maxp = MaxPHeuristic(df, w, ["workload"], "workload", threshold, top_n=2, max_iterations_construction=10,
                         max_iterations_sa=2)
    maxp.solve()
    out["maxp"] = balance(workload, maxp.labels_) + (time.perf_counter() - t0,)
    t0 = time.perf_counter()
    skater = Skater(df, w, ["workload"], n_clusters=n, floor=1, trace=False, islands="increase")
    skater.solve()
    out["skater"] = balance(workload, skater.labels_) + (time.perf_counter() - t0,)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
