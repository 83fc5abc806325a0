# Licensed under a 3-clause BSD style license - see LICENSE
"""What the bootstrap intervals of `feature_metrics` and `class_metrics` cost, on real labels and outputs.

The sample features model (``sample-gz2-features``) reads its 1 077 bundled held-out Kaggle GZ2 test
galaxies (``gz2_kaggle_votes``, ``--data``), and the default five-class model the 3 941 of the five-class
models (``gz2_kaggle_5class``); their rows, with their real labels and outputs, are then drawn again with
replacement up to each of ``--rows`` (a larger table of the same kind), and `feature_metrics` (16
features) and `class_metrics` (five classes) are timed with ``--bootstrap`` drawings and without
intervals (``n_bootstrap=0``), best of ``--repeat`` runs after a warm start.

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
from galzoo_cnn.config import conf
from galzoo_cnn.evaluation import class_metrics, feature_metrics


def best_time(measure, table, n_bootstrap, repeat, **options):
    """The shortest of ``repeat`` timed ``measure(table, n_bootstrap=n_bootstrap, **options)``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        measure(table, n_bootstrap=n_bootstrap, **options)
        times.append(time.perf_counter() - start)
    return min(times)


def time_sizes(measure, scored, args, **options):
    """Print ``measure``'s time with and without intervals on ``scored`` drawn up to each ``--rows``."""
    measure(scored, n_bootstrap=10, **options)  # imports and caches warmed
    rng = np.random.default_rng(0)
    for n_rows in args.rows:
        table = scored[rng.integers(0, len(scored), n_rows)]
        with_intervals = best_time(measure, table, args.bootstrap, args.repeat, **options)
        without = best_time(measure, table, 0, args.repeat, **options)
        print(f"{n_rows:>7} rows: {with_intervals:6.2f} s with intervals, {without:5.2f} s without")


def classified(model, rows_name, image_dir):
    """Bundled test rows ``rows_name`` classified by ``model`` from their images (rows read ``ok`` only)."""
    rows = Table.read(files("galzoo_cnn") / "data" / "models" / f"{rows_name}-test.ecsv")
    scored = classify_table(rows, model=model, image_dir=image_dir, progress=False)
    return scored[scored["status"] == "ok"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", default="sample-gz2-features")
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scored = classified(args.model, args.model, args.data / "gz2_kaggle_votes" / "images")
    features = [name[len("label_"):] for name in scored.colnames if name.startswith("label_")]
    print(f"feature_metrics: {args.model}, {len(scored)} real test galaxies, {len(features)} features, "
          f"{args.bootstrap} drawings, {torch.get_num_threads()} threads")
    time_sizes(feature_metrics, scored, args, features=features)
    scored = classified(conf.default_model, "sample-gz2", args.data / "gz2_kaggle_5class" / "images")
    print(f"class_metrics: {conf.default_model}, {len(scored)} real test galaxies, five classes")
    time_sizes(class_metrics, scored, args, truth_column="gz2_five_class")


if __name__ == "__main__":
    main()
