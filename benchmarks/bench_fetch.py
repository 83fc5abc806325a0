"""Cutout download throughput against the local test server, and peak memory.

Usage::

    python benchmarks/bench_fetch.py --latency 0.05 --rows 400

Prints images/s for max_workers 1, 4, 8, 16, 32 with the given server
latency, then the peak memory (tracemalloc, Python allocations) of a
fetch_cutouts run over --memory-rows rows whose files are already cached
(the bookkeeping cost of a large table) and of one that downloads.
"""

import argparse
import tempfile
import time
import tracemalloc

import numpy as np
from astropy.table import Table

from galzoo_cnn.cutouts import fetch_cutouts
from galzoo_cnn.tests.cutout_server import CutoutServer


def table(n, seed=0):
    rng = np.random.default_rng(seed)
    return Table({"ra": rng.uniform(0, 360, n), "dec": rng.uniform(-10, 60, n)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument("--rows", type=int, default=400, help="rows per throughput run")
    parser.add_argument("--memory-rows", type=int, default=10_000)
    args = parser.parse_args()

    with CutoutServer(latency=args.latency) as server:
        print(f"server latency {args.latency * 1000:.0f} ms, {args.rows} cutouts of 100 x 100")
        for workers in (1, 4, 8, 16, 32):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                manifest = fetch_cutouts(table(args.rows), tmp, base_url=server.url, max_workers=workers,
                                         progress=False)
                rate = args.rows / (time.perf_counter() - start)
            print(f"max_workers={workers:3d}: {rate:8.1f} images/s ({manifest.meta['counts']['ok']} ok)")
        with tempfile.TemporaryDirectory() as tmp:
            rows = table(args.memory_rows, seed=1)
            tracemalloc.start()
            fetch_cutouts(rows, tmp, base_url=server.url, max_workers=16, progress=False)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{args.memory_rows} rows, downloading: peak Python memory {peak / 2**20:.1f} MiB")
            tracemalloc.start()
            fetch_cutouts(rows, tmp, base_url=server.url, max_workers=16, progress=False)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{args.memory_rows} rows, all cached:  peak Python memory {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
