"""Training throughput per backbone, and data-loading throughput beside it.

Usage::

    python benchmarks/bench_training.py --image-dir ../shared/data/gz1_sdss/images \
        --backbones mobilenetv3_small_100 efficientnet_b0 densenet201

Prints, for each backbone, training images/s (forward + backward + Adam step
on 100 x 100 inputs) and the data pipeline's images/s (read + augment +
Eq. 1) from JPEG files and from the packed uint8 store, so one sees whether
the loader can keep up.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from astropy.table import Table

from galzoo_cnn.augment import training_transform
from galzoo_cnn.images import ImageTableDataset, pack_images
from galzoo_cnn.models import build_model


def model_rate(backbone, batch_size, steps, device):
    model = build_model(objective="five_class", backbone=backbone).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(batch_size, 3, 100, 100, device=device)
    y = torch.randint(0, 5, (batch_size,), device=device)
    for step in range(steps + 1):
        if step == 1:  # the first step warms up allocators and kernels
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - start)


def loader_rate(dataset, n, num_workers, batch_size=64):
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, range(n)),
                                         batch_size=batch_size, num_workers=num_workers)
    start = time.perf_counter()
    count = sum(len(images) for images, _ in loader)
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image-dir", required=True, help="directory of JPEG cutouts")
    parser.add_argument("--backbones", nargs="+",
                        default=["test_resnet", "mobilenetv3_small_100", "efficientnet_b0", "densenet121",
                                 "densenet201"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--n-images", type=int, default=1000)
    parser.add_argument("--num-workers", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    names = sorted(p.name for p in Path(args.images).glob("*.jpg"))[:args.n_images]
    table = Table({"filename": names})
    transform = training_transform()
    from_files = ImageTableDataset(table, image_dir=args.images, transform=transform)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        packed = pack_images(table, Path(tmp) / "images.npy", image_dir=args.images, progress=False)
        pack_time = time.perf_counter() - start
        from_pack = ImageTableDataset(table, image_dir=args.images, transform=transform, packed=packed)
        jpeg = loader_rate(from_files, len(names), args.num_workers)
        npy = loader_rate(from_pack, len(names), args.num_workers)
    print(f"device: {device}; torch threads: {torch.get_num_threads()}; "
          f"DataLoader workers: {args.num_workers}; {len(names)} images")
    print(f"packing: {len(names) / pack_time:8.1f} images/s (decoded once)")
    print(f"loader, JPEG + augmentation:   {jpeg:8.1f} images/s")
    print(f"loader, packed + augmentation: {npy:8.1f} images/s")
    print(f"{'backbone':28s} {'train images/s':>15s} {'loader/model (JPEG)':>20s}")
    for backbone in args.backbones:
        rate = model_rate(backbone, args.batch_size, args.steps, device)
        print(f"{backbone:28s} {rate:15.1f} {jpeg / rate:20.1f}")


if __name__ == "__main__":
    main()
