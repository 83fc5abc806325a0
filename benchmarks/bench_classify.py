"""End-to-end classify_table throughput against the bare model, and its memory at 1 000 vs 20 000 rows.

Usage::

    python benchmarks/bench_classify.py stages --models sample-gz2-robust densenet201 --rows 1024
    python benchmarks/bench_classify.py throughput --models sample-gz1 densenet201 --rows 2048
    python benchmarks/bench_classify.py features --rows 1024
    python benchmarks/bench_classify.py memory --rows 1000 20000
    python benchmarks/bench_classify.py catalog --rows 20000

``throughput`` measures, in one process and one run, the bare model's
forward images/s on preloaded tensors (``model.predict_proba`` on
``batch_size`` images already in memory, no file access, and on 64 at a time
as `galzoo_cnn.classify_table` runs it on a CPU) and
`galzoo_cnn.classify_table`'s images/s on a table of ``--rows`` real SDSS
JPEGs (the demo's 36 images, repeated): reading, decoding, cropping,
resampling, Eq. 1, forward, softmax and writing the output columns.  The
ratio is the share of the model's speed the whole pipeline keeps.

``stages`` says where the time goes, in CPU seconds per image on
``--threads`` torch threads (one by default: a busy shared machine then does
not blur the figures): resolving a million rows' image paths, `read_image`
(decode at reduced scale, crop, resample), the batched quality flags, Eq. 1,
the model's forward, and `classify_table` end to end; then the end-to-end
share of the forward's speed and the peak resident memory.

``features`` compares `galzoo_cnn.classify_table` with the default model alone, with
``features_model`` in the same pass (each image read once), and the two models in two calls.

``memory`` classifies tables of each size in a fresh process and prints the
peak resident memory (``ru_maxrss``): it must not grow with the rows beyond
the output columns themselves.

``catalog`` times `galzoo_cnn.write_catalog` (write and read back) for each
format on a table shaped as the paper's catalogue (``--rows``, default its
316 000 galaxies; ~85 columns) with the peak memory each format adds to what
the process held before it (Linux), and STILTS writing the same table from
FITS to VOTable BINARY2 and to text where STILTS is installed.
"""

import argparse
import resource
import subprocess
import sys
import time

import torch
from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn._inference import CPU_FORWARD_IMAGES
from galzoo_cnn.datasets import load_demo_sample
from galzoo_cnn.models import build_model, load_model


def machine():
    """One line naming the machine the figures come from."""
    import os
    import platform

    model = platform.processor()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        model = names[0] if names else model
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"machine: {model}, {cores} usable cores, {memory:.0f} GiB, {gpu}; torch {torch.__version__}"


def demo_table(rows):
    sample, image_dir = load_demo_sample()
    names = [str(sample["filename"][i % len(sample)]) for i in range(rows)]
    ra = [float(sample["ra"][i % len(sample)]) for i in range(rows)]
    dec = [float(sample["dec"][i % len(sample)]) for i in range(rows)]
    return Table({"ra": ra, "dec": dec, "filename": names}), image_dir


def model_for(name):
    from galzoo_cnn.utils._cards import model_names

    if name in model_names():
        return load_model(name)
    model = build_model(objective="five_class", backbone=name)  # untrained: speed does not depend on weights
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
    step = CPU_FORWARD_IMAGES
    print(f"torch threads {torch.get_num_threads()}; batch {args.batch_size}; {args.rows} rows; "
          f"classify_table's forward passes on a CPU take {step} images")
    print(f"{'model':22s} {f'forward@{args.batch_size}':>12s} {f'forward@{step}':>11s} {'classify':>9s} "
          f"{'ratio':>6s}  (images/s; ratio: classify / forward@{step})")
    for name in args.models:
        model = model_for(name)
        table, image_dir = demo_table(args.rows)
        whole = forward_rate(model, args.batch_size, max(2, args.rows // args.batch_size))
        chunked = forward_rate(model, step, max(2, args.rows // step))
        classify_table(table[: args.batch_size], model=model, image_dir=image_dir, progress=False,
                       batch_size=args.batch_size)  # warm-up
        start = time.perf_counter()
        classify_table(table, model=model, image_dir=image_dir, progress=False, batch_size=args.batch_size,
                       num_workers=args.num_workers)
        end_to_end = len(table) / (time.perf_counter() - start)
        print(f"{name:22s} {whole:12.1f} {chunked:11.1f} {end_to_end:9.1f} {end_to_end / chunked:6.2f}")


def features(args):
    """Five classes alone, with the features model in the same pass, and the two models in two calls."""
    table, image_dir = demo_table(args.rows)
    options = dict(image_dir=image_dir, progress=False, batch_size=args.batch_size)
    classify_table(table[:64], features_model=args.features_model, **options)  # warm-up

    def rate(**extra):
        start = time.perf_counter()
        for call in extra.pop("calls", [extra]):
            classify_table(table, **options, **call)
        return len(table) / (time.perf_counter() - start)

    from galzoo_cnn.config import conf

    print(f"torch threads {torch.get_num_threads()}; batch {args.batch_size}; {args.rows} rows; "
          f"five classes: {conf.default_model} (the default), features: {args.features_model}")
    alone = rate()
    one_pass = rate(features_model=args.features_model)
    two_calls = rate(calls=[{}, {"model": args.features_model}])
    print(f"five classes alone                     {alone:8.1f} images/s")
    print(f"five classes + features, one pass      {one_pass:8.1f} images/s")
    print(f"five classes, then features (2 calls)  {two_calls:8.1f} images/s")


def _cpu_ms(function, n_images, repeats=1):
    """CPU milliseconds per image of ``function()`` (process time: all threads, no waiting)."""
    function()  # warm-up
    start = time.process_time()
    for _ in range(repeats):
        function()
    return 1000 * (time.process_time() - start) / (repeats * n_images)


def _stage_row(name, model, paths, uint8, table, image_dir, batch_size):
    from galzoo_cnn.images import batch_quality_flags, read_image, scale_intensity

    size, crop = model.card["input"]["size"], model.card["input"].get("crop", 1.0)
    read = _cpu_ms(lambda: [read_image(p, size=size, crop=crop) for p in paths], len(paths))
    flags = _cpu_ms(lambda: batch_quality_flags(uint8), len(uint8), repeats=5)
    scale = _cpu_ms(lambda: scale_intensity(uint8), len(uint8), repeats=5)
    x = scale_intensity(uint8)
    step = CPU_FORWARD_IMAGES  # as classify_table runs the model on a CPU
    forward = _cpu_ms(lambda: [model.predict_proba(x[i:i + step]) for i in range(0, len(x), step)], len(x),
                      repeats=2)
    end_to_end = _cpu_ms(lambda: classify_table(table, model=model, image_dir=image_dir, progress=False,
                                                batch_size=batch_size, num_workers=0), len(table))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (f"{name:20s} {read:6.3f} {flags:6.3f} {scale:6.3f} {forward:8.3f} {end_to_end:9.3f} "
            f"{forward / end_to_end:6.2f} {peak:6.0f} MiB")


def stages(args):
    import numpy as np

    from galzoo_cnn.images import read_image, resolve_image_paths

    torch.set_num_threads(args.threads)
    table, image_dir = demo_table(args.rows)
    paths = resolve_image_paths(table, image_dir=image_dir)
    million = Table({"filename": np.array([f"sub/{i:07d}.jpg" for i in range(1_000_000)])})
    start = time.perf_counter()
    resolve_image_paths(million, image_dir=image_dir)
    print(f"torch threads {args.threads}; {args.rows} rows of real SDSS JPEGs; batch {args.batch_size}")
    print(f"path resolution: {time.perf_counter() - start:.1f} s per million rows")
    images = [read_image(p) for p in paths[: args.batch_size]]
    uint8 = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    rows = [f"{'model':20s} {'read':>6s} {'flags':>6s} {'scale':>6s} {'forward':>8s} {'classify':>9s} "
            f"{'ratio':>6s} {'peak RSS':>9s}"]
    for name in args.models:
        rows.append(_stage_row(name, model_for(name), paths[:256], uint8, table, image_dir, args.batch_size))
    print("CPU ms per image (ratio: forward / classify_table, 1 = the network's own speed)")
    print("\n".join(rows))


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


def paper_table(n, seed=0):
    """A catalogue shaped as the paper's: ids, coordinates, z, five probabilities and the class, 34
    feature probabilities and flags, quality flags and status (~85 columns), float32 model outputs."""
    import numpy as np
    from astropy.table import MaskedColumn

    from galzoo_cnn.columns import FEATURE_PREFIX
    from galzoo_cnn.taxonomy import DETAILED_FEATURES, FIVE_CLASSES

    rng = np.random.default_rng(seed)
    table = Table({"objid": np.arange(n, dtype=np.int64) + 587722983371178200,
                   "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-10, 70, n),
                   "z": np.round(rng.uniform(0.003, 0.1, n), 5)})
    logits = rng.normal(0, 3, (n, len(FIVE_CLASSES)))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    for k, name in enumerate(FIVE_CLASSES):
        table[f"prob_{name}"] = p[:, k].astype(np.float32)
    table["predicted_class"] = MaskedColumn(np.asarray(FIVE_CLASSES)[p.argmax(1)], mask=rng.random(n) < 0.01)
    for name in DETAILED_FEATURES:
        table[f"prob_{name}"] = rng.beta(0.3, 1.5, n).astype(np.float32)
        table[f"{FEATURE_PREFIX}{name}"] = table[f"prob_{name}"] > 0.5
    table["quality_flags"] = rng.choice([0, 0, 0, 1, 8], n).astype(np.int16)
    table["status"] = "ok"
    return table


def _status_mib(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith(key))


def _reset_peak_rss():
    """Linux: reset the process's peak resident memory (VmHWM) and return the resident memory now; None
    elsewhere."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return _status_mib("VmRSS:")
    except OSError:
        return None


def _peak_rss():
    return _status_mib("VmHWM:")


def catalog_one(fmt, rows, directory):
    """Write one format of the paper-shaped catalogue; print its time and the peak memory it added."""
    from galzoo_cnn import write_catalog

    table = paper_table(rows)
    if fmt == "fits":
        size = sum(table[name].nbytes for name in table.colnames) / 2**20
        print(f"{len(table)} rows x {len(table.colnames)} columns ({size:.0f} MiB in memory)")
    before = _reset_peak_rss()
    start = time.perf_counter()
    write_catalog(table, f"{directory}/catalogue_{fmt}", formats=[fmt])
    extra = f"peak memory +{_peak_rss() - before:.0f} MiB" if before is not None else "peak not measured"
    print(f"  galzoo_cnn {fmt:8s} {time.perf_counter() - start:7.1f} s (written and read back; {extra})",
          flush=True)


def catalog(args):
    """Write the paper-shaped catalogue in each format (written and read back), then STILTS beside it."""
    import shutil
    import tempfile

    from galzoo_cnn.io import FORMATS

    directory = tempfile.mkdtemp()
    for fmt in FORMATS.names():  # each in a fresh process: its peak is its own
        subprocess.run([sys.executable, __file__, "_catalog_one", fmt, str(args.rows), directory], check=True)
    stilts = shutil.which("stilts")
    if stilts is None:
        print("  STILTS is not installed: no comparison")
        return
    source = f"{directory}/catalogue_fits.fits"
    for ofmt, ext in (("votable(format=BINARY2)", "vot"), ("ascii", "txt")):
        start = time.perf_counter()
        subprocess.run([stilts, "tcopy", f"in={source}", f"out={directory}/stilts.{ext}", f"ofmt={ofmt}"],
                       check=True, capture_output=True)
        print(f"  STILTS tcopy FITS -> {ofmt:24s} {time.perf_counter() - start:7.1f} s (written only)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("stages")
    p.add_argument("--models", nargs="+", default=["sample-gz2-robust", "densenet201"])
    p.add_argument("--rows", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p = commands.add_parser("throughput")
    p.add_argument("--models", nargs="+", default=["sample-gz1", "densenet201"])
    p.add_argument("--rows", type=int, default=2048)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--num-workers", type=int, default=None)
    p = commands.add_parser("features")
    p.add_argument("--features-model", default="sample-gz2-features")
    p.add_argument("--rows", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=256)
    p = commands.add_parser("memory")
    p.add_argument("--rows", dest="rows_list", type=int, nargs="+", default=[1000, 20000])
    p.add_argument("--model", default="sample-gz1")
    p = commands.add_parser("catalog")
    p.add_argument("--rows", type=int, default=316_000)
    p = commands.add_parser("_memory_one")
    p.add_argument("rows", type=int)
    p.add_argument("model")
    p = commands.add_parser("_catalog_one")
    p.add_argument("format")
    p.add_argument("rows", type=int)
    p.add_argument("directory")
    args = parser.parse_args()
    if not args.command.startswith("_"):
        print(machine())
    if args.command == "stages":
        stages(args)
    elif args.command == "throughput":
        throughput(args)
    elif args.command == "features":
        features(args)
    elif args.command == "memory":
        memory(args)
    elif args.command == "catalog":
        catalog(args)
    elif args.command == "_catalog_one":
        catalog_one(args.format, args.rows, args.directory)
    else:
        memory_one(args.rows, args.model)


if __name__ == "__main__":
    main()
