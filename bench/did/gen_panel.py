"""Synthetic staggered panel for the did benchmark (issue 4 item 5).

Usage: python gen_panel.py N_UNITS OUT.csv
N_UNITS units × 24 periods, cohorts first treated in periods 6, 10, 14, 18 plus a
never-treated group, one covariate `x` that shifts both adoption and trends.
"""

import sys

import numpy as np
import pandas as pd


def main():
    n_units = int(sys.argv[1])
    out = sys.argv[2]
    n_periods = 24
    rng = np.random.default_rng(12345)
    x = rng.normal(0.0, 1.0, n_units)
    score = 0.5 * x + rng.normal(0.0, 1.0, n_units)
    cuts = np.quantile(score, [0.2, 0.4, 0.6, 0.8])
    cohort = np.select([score < cuts[0], score < cuts[1], score < cuts[2], score < cuts[3]],
                       [0, 18, 14, 10], default=6)
    unit_fe = rng.normal(0.0, 1.0, n_units) + 0.3 * x
    t = np.arange(1, n_periods + 1)
    tt = np.tile(t, n_units)
    ids = np.repeat(np.arange(1, n_units + 1), n_periods)
    g = np.repeat(cohort, n_periods)
    xx = np.repeat(x, n_periods)
    effect = np.where((g > 0) & (tt >= g), 1.0 + 0.05 * (tt - g), 0.0)
    y = np.repeat(unit_fe, n_periods) + 0.1 * tt + 0.05 * tt * xx + effect \
        + rng.normal(0.0, 1.0, n_units * n_periods)
    pd.DataFrame({"id": ids, "period": tt, "first_treat": g, "y": y, "x": xx}).to_csv(
        out, index=False, float_format="%.10g")


if __name__ == "__main__":
    main()
