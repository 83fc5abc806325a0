"""End-to-end classify_table throughput against the bare model, and its memory at 1 000 vs 20 000 rows.

Usage::

    python benchmarks/bench_classify.py throughput --models sample-gz1 densenet201 --rows 2048
    python benchmarks/bench_classify.py memory --rows 1000 20000
    python benchmarks/bench_classify.py catalog --rows 20000

``throughput`` measures, in one process and one run, the bare model's
forward images/s on preloaded tensors (``model.predict_proba`` on
``batch_size`` images already in memory, no file access) and
`galzoo_cnn.classify_table`'s images/s on a table of ``--rows`` real SDSS
JPEGs (the demo's 36 images, repeated): reading, decoding, cropping,
resampling, Eq. 1, forward, softmax and writing the output columns.  The
ratio is the share of the model's speed the whole pipeline keeps.

``memory`` classifies tables of each size in a fresh process and prints the
peak resident memory (``ru_maxrss``): it must not grow with the rows beyond
the output columns themselves.

``catalog`` times `galzoo_cnn.write_catalog` (write and validate) for each
format on a classification-shaped table of ``--rows`` rows.
"""

import argparse
import resource
import subprocess
import sys
import time

import torch
from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn.datasets import load_demo_sample
from galzoo_cnn.models import build_model, load_model


def demo_table(rows):
    sample, image_dir = load_demo_sample()
    names = [str(sample["filename"][i % len(sample)]) for i in range(rows)]
    ra = [float(sample["ra"][i % len(sample)]) for i in range(rows)]
    dec = [float(sample["dec"][i % len(sample)]) for i in range(rows)]
    return Table({"ra": ra, "dec": dec, "filename": names}), image_dir


def model_for(name):
    if name == "sample-gz1":
        return load_model(name)
    model = build_model("five_class", backbone=name)  # untrained: speed does not depend on weights
    model.card["name"] = name
    return model.eval()


def forward_rate(model, batch_size, repeats):
    x = torch.randn(batch_size, 3, 100, 100)
    model.predict_proba(x)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict_proba(x)
    return repeats * batch_size / (time.perf_counter() - start)


def throughput(args):
    print(f"torch threads {torch.get_num_threads()}; batch {args.batch_size}; {args.rows} rows")
    print(f"{'model':22s} {'forward img/s':>14s} {'classify img/s':>15s} {'ratio':>6s}")
    for name in args.models:
        model = model_for(name)
        table, image_dir = demo_table(args.rows)
        repeats = max(2, args.rows // args.batch_size)
        forward = forward_rate(model, args.batch_size, repeats)
        classify_table(table[: args.batch_size], model=model, image_dir=image_dir, progress=False,
                       batch_size=args.batch_size)  # warm-up
        start = time.perf_counter()
        classify_table(table, model=model, image_dir=image_dir, progress=False, batch_size=args.batch_size,
                       num_workers=args.num_workers)
        end_to_end = len(table) / (time.perf_counter() - start)
        print(f"{name:22s} {forward:14.1f} {end_to_end:15.1f} {end_to_end / forward:6.2f}")


def memory_one(rows, model):
    table, image_dir = demo_table(rows)
    start = time.perf_counter()
    result = classify_table(table, model=model, image_dir=image_dir, progress=False)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows:8d} rows  {elapsed:7.1f} s  peak RSS {peak:7.1f} MiB  ({len(result)} rows out)")


def memory(args):
    for rows in args.rows_list:
        subprocess.run([sys.executable, __file__, "_memory_one", str(rows), args.model], check=True)


def catalog(args):
    import tempfile

    import numpy as np
    from astropy.table import MaskedColumn

    from galzoo_cnn import write_catalog
    from galzoo_cnn.taxonomy import FIVE_CLASSES

    n, rng = args.rows, np.random.default_rng(0)
    table = Table({"objid": np.arange(n, dtype=np.int64) + 587722983371178200,
                   "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-10, 70, n),
                   "z": rng.uniform(0.003, 0.1, n)})
    for name in FIVE_CLASSES:
        table[f"prob_{name}"] = rng.random(n).astype(np.float32)
    table["predicted_class"] = MaskedColumn(rng.choice(FIVE_CLASSES, n), mask=rng.random(n) < 0.01)
    table["status"] = "ok"
    directory = tempfile.mkdtemp()
    for fmt in ("fits", "votable", "cds"):
        start = time.perf_counter()
        write_catalog(table, f"{directory}/catalogue", formats=[fmt])
        print(f"{n} rows  {fmt:8s} {time.perf_counter() - start:6.2f} s (written and validated)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("throughput")
    p.add_argument("--models", nargs="+", default=["sample-gz1", "densenet201"])
    p.add_argument("--rows", type=int, default=2048)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--num-workers", type=int, default=None)
    p = commands.add_parser("memory")
    p.add_argument("--rows", dest="rows_list", type=int, nargs="+", default=[1000, 20000])
    p.add_argument("--model", default="sample-gz1")
    p = commands.add_parser("catalog")
    p.add_argument("--rows", type=int, default=20000)
    p = commands.add_parser("_memory_one")
    p.add_argument("rows", type=int)
    p.add_argument("model")
    args = parser.parse_args()
    if args.command == "throughput":
        throughput(args)
    elif args.command == "memory":
        memory(args)
    elif args.command == "catalog":
        catalog(args)
    else:
        memory_one(args.rows, args.model)


if __name__ == "__main__":
    main()
