# Licensed under a 3-clause BSD style license - see LICENSE
"""Choose a five-class model's frame (``input['frame_r90']``) and bare-name crop on its validation rows.

The frame width at which the model reads a galaxy best, and the crop it should apply to images of
unknown framing, are model facts chosen on rows it was not trained on and not tested on: the
validation split of its training run (``split.ecsv``), 150 px Kaggle crops spanning 6 Petrosian R90.
Wider frames are made from them with sky (`galzoo_cnn.images.pad_with_sky`), which on real native
GZ2 frames reproduces their accuracy (benchmarks/framing_accuracy.py).

* ``frame_r90``: the width of highest validation accuracy among ``--widths``;
* ``crop``: for images that come either as 6 R90 crops or as 8.48 R90 GZ2 frames (the two framings
  of the Kaggle / GZ2 images users hold), the mean validation accuracy over both, and of the crops
  within one standard error of the best, the largest (`widest_within_one_error`).

``--update-card`` writes both into the bundled card, with the curve.

    python benchmarks/select_framing.py --model sample-gz2-robust --split runs/sample-gz2-robust/split.ecsv \\
        --data ../shared/data --update-card
"""

import argparse
from pathlib import Path

import numpy as np
from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn.models import load_model
from galzoo_cnn.utils._cards import update_card_file

SOURCE_R90 = 6.0  # the 150 px Kaggle crops: the central 300 of GZ2's 424 px frames
GZ2_R90 = 8.48


#: The images of the five-class models' training table, below ``--data``.
KAGGLE_IMAGES = "gz2_kaggle_5class/images"


def card_parser(doc, *, default_model):
    """The options of a script that chooses a bundled five-class model's facts on its training run's
    rows: ``--model``, ``--split``, ``--data`` and ``--update-card`` (this script's and
    ``select_decision.py``'s)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--model", default=default_model)
    parser.add_argument("--split", type=Path, required=True, help="split.ecsv of the model's training run")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--update-card", action="store_true", help="write the result into the bundled card")
    return parser


def split_rows(path, name):
    """The rows of one split (``val``, ``test``) of a training run's ``split.ecsv``."""
    split = Table.read(path)
    return split[split["split"] == name]


def accuracy(model, rows, image_dir, crop):
    out = classify_table(rows, model=model, image_dir=image_dir, progress=False, crop=crop)
    return float(np.mean(np.asarray(out["predicted_class"]) == np.asarray(out["gz2_five_class"])))


def widest_within_one_error(by_crop, n):
    """The largest crop whose accuracy is within one standard error of the best one's (the one-standard-
    error rule, Breiman et al. 1984): crops the validation rows cannot tell apart are decided for the
    one that keeps most of the image, which holds best on cutouts framed tighter than the training
    images (measured: sample-gz2-dihedral on the Hart et al. 2016 cutouts, grouped accuracy 0.857 at
    0.75 against 0.890 at 0.85, validation accuracy 0.922 and 0.921)."""
    best = max(by_crop.values())
    error = (best * (1 - best) / n) ** 0.5
    return max(c for c, value in by_crop.items() if value >= best - error)


def main():
    parser = card_parser(__doc__, default_model="sample-gz2-robust")
    parser.add_argument("--widths", nargs="+", type=float, default=[4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 8.0])
    parser.add_argument("--crops", nargs="+", type=float, default=[0.7, 0.75, 0.8, 0.85, 0.9, 1.0])
    args = parser.parse_args()
    model = load_model(args.model)
    val = split_rows(args.split, "val")
    images = args.data / KAGGLE_IMAGES
    by_width = {w: accuracy(model, val, images, w / SOURCE_R90) for w in args.widths}
    print("validation accuracy by frame width (R90):", {k: round(v, 4) for k, v in by_width.items()})
    frame = max(by_width, key=by_width.get)
    # a bare image is a 6 R90 crop (read at crop c: 6c R90) or an 8.48 R90 frame (8.48c R90)
    by_crop = {c: (accuracy(model, val, images, c)
                   + accuracy(model, val, images, c * GZ2_R90 / SOURCE_R90)) / 2 for c in args.crops}
    print("mean validation accuracy over 6 and 8.48 R90 framings, by crop:",
          {k: round(v, 4) for k, v in by_crop.items()})
    crop = widest_within_one_error(by_crop, len(val))
    print(f"frame_r90 = {frame:g}, crop = {crop:g} ({len(val)} validation rows)")
    if args.update_card:
        update_card_file(args.model, lambda card: card["input"].update(
            frame_r90=frame, crop=crop, framing_chosen_on=(
                f"{len(val)} validation rows (benchmarks/select_framing.py): accuracy by frame width "
                f"{ {f'{k:g}': round(v, 4) for k, v in by_width.items()} }; by bare-name crop (mean over 6 "
                f"and 8.48 R90 framings) { {f'{k:g}': round(v, 4) for k, v in by_crop.items()} }")))


if __name__ == "__main__":
    main()
