# Licensed under a 3-clause BSD style license - see LICENSE
"""What the bootstrap intervals of `feature_metrics` cost, on real labels and real model outputs.

The sample features model (``sample-gz2-features``) reads its 1 077 bundled held-out Kaggle GZ2 test
galaxies (``gz2_kaggle_votes``, ``--data``); their rows, with their 16 real labels and scores, are then
drawn again with replacement up to each of ``--rows`` (a larger table of the same kind), and
`feature_metrics` is timed with ``--bootstrap`` drawings and without intervals (``n_bootstrap=0``),
best of ``--repeat`` runs after a warm start.

Usage: python benchmarks/bench_metrics.py [--data ../shared/data] [--rows 1000 20000]
"""

import argparse
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn.evaluation import feature_metrics


def best_time(table, features, n_bootstrap, repeat):
    """The shortest of ``repeat`` timed `feature_metrics` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        feature_metrics(table, features=features, n_bootstrap=n_bootstrap)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", default="sample-gz2-features")
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    test_rows = Table.read(files("galzoo_cnn") / "data" / "models" / f"{args.model}-test.ecsv")
    scored = classify_table(test_rows, model=args.model, image_dir=args.data / "gz2_kaggle_votes" / "images",
                            progress=False)
    scored = scored[scored["status"] == "ok"]
    features = [name[len("label_"):] for name in scored.colnames if name.startswith("label_")]
    print(f"{args.model}: {len(scored)} real test galaxies, {len(features)} features, "
          f"{args.bootstrap} drawings, {torch.get_num_threads()} threads")
    feature_metrics(scored, features=features, n_bootstrap=10)  # imports and caches warmed
    rng = np.random.default_rng(0)
    for n_rows in args.rows:
        table = scored[rng.integers(0, len(scored), n_rows)]
        with_intervals = best_time(table, features, args.bootstrap, args.repeat)
        without = best_time(table, features, 0, args.repeat)
        print(f"{n_rows:>7} rows: {with_intervals:6.2f} s with intervals, {without:5.2f} s without")


if __name__ == "__main__":
    main()
