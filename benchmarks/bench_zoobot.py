# Licensed under a 3-clause BSD style license - see LICENSE
"""classify_table beside Zoobot's predict_on_catalog: the same backbone, weights and images.

Zoobot (Walmsley et al. 2023, JOSS 8, 5312) is the Galaxy Zoo team's package for the same job. Its
inference entry point, ``zoobot.pytorch.predictions.predict_on_catalog.predict``, reads a catalogue
of image files through galaxy-datasets' ``CatalogDataModule`` and a Lightning ``Trainer``. Here both
packages classify the same ``--rows`` real Kaggle GZ2 JPEGs (150 px, the project's development data)
with the same network: the bundled model's timm backbone and trained head (``--model``) inside
Zoobot's ``FinetuneableZoobotClassifier``, fed the same 100 x 100 central crops scaled as Eq. 1, on
the same threads and loader processes. Printed: images/s of each, their ratio, and the share of rows
where the two give the same class (the two resample the JPEGs differently: PIL's reduced-scale
decode here, torchvision's resize there).

Zoobot is not a dependency. Install it beside the package without touching its torch::

    python -m venv --system-site-packages zoobot-env
    zoobot-env/bin/pip install "zoobot[pytorch]" -c constraints.txt
    zoobot-env/bin/python benchmarks/bench_zoobot.py --data ../shared/data --rows 2048
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from astropy.table import Table


def zoobot_images_per_second(model, files, args):
    import pandas as pd
    from torchvision.transforms import v2
    from zoobot.pytorch.predictions import predict_on_catalog
    from zoobot.pytorch.training.finetune import FinetuneableZoobotClassifier

    wrapped = FinetuneableZoobotClassifier(encoder=model.backbone, num_classes=len(model.classes),
                                           prog_bar=False)
    wrapped.head = model.head  # the trained head: the same network end to end
    wrapped.eval()
    catalog = pd.DataFrame({"file_loc": [str(f) for f in files], "id_str": [f.stem for f in files]})
    # the same 100 x 100 input (the card's central crop, resampled), scaled as Eq. 1: (I - 127.5) / 255
    side = int(round(150 * model.card.crop))
    transform = v2.Compose([v2.ToImage(), v2.CenterCrop(side), v2.Resize((100, 100), antialias=True),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.5] * 3, [1.0] * 3)])
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        predictions = predict_on_catalog.predict(
            catalog, wrapped, save_loc=str(Path(directory) / "zoobot.csv"), label_cols=list(model.classes),
            inference_transform=transform,
            datamodule_kwargs={"batch_size": args.batch_size, "num_workers": args.num_workers},
            trainer_kwargs={"accelerator": "cpu", "devices": 1, "logger": False,
                            "enable_progress_bar": False})
        seconds = time.perf_counter() - start
    return len(files) / seconds, predictions


def ours_images_per_second(model, table, image_dir, args):
    from galzoo_cnn import classify_table

    start = time.perf_counter()
    result = classify_table(table, model=model, image_dir=image_dir, batch_size=args.batch_size,
                            num_workers=args.num_workers, progress=False)
    return len(table) / (time.perf_counter() - start), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", default="sample-gz2-robust")
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each; the best is printed")
    args = parser.parse_args()
    try:
        import zoobot  # noqa: F401 (installed)
    except ImportError:
        print("Zoobot is not installed here: no comparison (see this script's docstring to install it)")
        return
    from galzoo_cnn.models import load_model

    model = load_model(args.model)
    if model.view_pooling:
        raise SystemExit(f"{args.model} pools views before its head; compare a one-view model")
    image_dir = args.data / "gz2_kaggle_5class" / "images"
    table = Table.read(args.data / "gz2_kaggle_5class" / "labels.csv")[: args.rows]["filename",]
    files = [image_dir / name for name in table["filename"]]
    from importlib.metadata import version

    from bench_classify import machine

    print(machine())
    print(f"{len(table)} Kaggle GZ2 JPEGs (150 px), {model.card.name} ({model.card.backbone}) at 100 px, "
          f"batch {args.batch_size}, {args.num_workers} loader workers, {torch.get_num_threads()} torch "
          f"threads; zoobot {version('zoobot')}")
    ours = zoobot_rate = 0.0
    for _ in range(args.repeats):
        rate, result = ours_images_per_second(model, table, image_dir, args)
        ours = max(ours, rate)
        rate, predictions = zoobot_images_per_second(model, files, args)
        zoobot_rate = max(zoobot_rate, rate)
    print(f"  galzoo_cnn classify_table          {ours:7.1f} images/s (read, quality flags, Eq. 1, forward, "
          f"output table)")
    print(f"  zoobot predict_on_catalog.predict  {zoobot_rate:7.1f} images/s (read, transform, forward, CSV)")
    print(f"  ratio galzoo_cnn / zoobot          {ours / zoobot_rate:7.2f}")
    zoobot_class = np.asarray(model.classes)[predictions[list(model.classes)].to_numpy().argmax(1)]
    print(f"  same class in {np.mean(zoobot_class == np.asarray(result['predicted_class'])):.3f} of rows")


if __name__ == "__main__":
    main()
