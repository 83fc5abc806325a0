# Licensed under a 3-clause BSD style license - see LICENSE
"""How often ``classify_table`` raises each image-quality flag on every set of real images, and the
five-class accuracy of the frames with and without ``bright_border`` where GZ2 labels exist (of the
Kaggle crops, only the 3 941 held out from the default model's training: ``sample-gz2-test.ecsv``).

The flags are measured as ``classify_table`` measures them, on the default model's view of each image;
the figures of the documentation's flag table come from here::

    python benchmarks/quality_flags.py --data ../shared/data
"""

import argparse
import warnings
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy.table import MaskedColumn, Table

from galzoo_cnn import classify_table, five_class_labels
from galzoo_cnn.columns import QUALITY_FLAGS
from galzoo_cnn.datasets import load_demo_sample


def image_sets(data):
    """``(name, table, image folder, label column or None)`` of each real image set; the Kaggle crops'
    labels are masked but on the held-out test rows."""
    demo, demo_dir = load_demo_sample()
    crops = Table.read(data / "gz2_kaggle_5class" / "labels.csv", fill_values=[])
    held_out = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
    crops["gz2_five_class"] = MaskedColumn(crops["gz2_five_class"],
                                           mask=~np.isin(crops["filename"], held_out["filename"]))
    return [
        ("kaggle crops", crops, data / "gz2_kaggle_5class" / "images", "gz2_five_class"),
        ("kaggle native", Table.read(data / "gz2_kaggle_native" / "labels.csv"),
         data / "gz2_kaggle_native" / "images", "gz2_five_class"),
        ("gz1", Table.read(data / "gz1_sdss" / "labels.csv"), data / "gz1_sdss" / "images", None),
        ("decals", Table.read(data / "gz_decals_rings" / "labels.csv"), data / "gz_decals_rings" / "images",
         None),
        ("hart16", five_class_labels(Table.read(data / "gz2_hart16_sdss" / "gz2_hart16.csv")),
         data / "gz2_hart16_sdss" / "images", "gz2_five_class"),
        ("demo", five_class_labels(demo), demo_dir, "gz2_five_class"),
    ]


def measure(name, table, images, truth):
    """One line: the rows raising each flag, and the accuracy of the ``bright_border`` frames."""
    columns = ["filename"] + ([truth] if truth else [])
    out = classify_table(table[columns], image_dir=images, progress=False)
    flags = np.ma.filled(out["quality_flags"], 0)
    counts = ", ".join(f"{flag} {np.count_nonzero(flags & bit)}" for flag, (bit, _) in QUALITY_FLAGS.items())
    line = f"{name:14s} {len(out):6d} rows: {counts}"
    if truth:
        label = np.ma.filled(out[truth].astype(str), "")
        labelled = ~np.ma.getmaskarray(out[truth]) & (label != "")
        right = np.asarray(out["predicted_class"].filled("")).astype(str) == label
        border = (flags & QUALITY_FLAGS["bright_border"][0]) != 0
        for which, rows in (("bright_border", labelled & border), ("others", labelled & ~border)):
            if rows.any():
                line += f"; five-class accuracy, {which} {right[rows].mean():.3f} ({rows.sum()})"
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data",
                        help="the development data folder (default: ../shared/data)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # unusable rows and framing warnings: counted, not shown
    for image_set in image_sets(args.data):
        print(measure(*image_set), flush=True)


if __name__ == "__main__":
    main()
