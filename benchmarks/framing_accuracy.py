# Licensed under a 3-clause BSD style license - see LICENSE
"""Five-class accuracy against the width of the frame, test-time augmentation and calibration.

Real images only (the project's development data, ``--data``):

``native``
    ``gz2_kaggle_native``: 355 of sample-gz2's held-out test galaxies as
    Galaxy Zoo 2 framed them, 424 px frames spanning 8.48 Petrosian R90
    (Willett et al. 2013) -- how a GZ2-scale SDSS cutout looks.
``crops``
    the same models' 3 941 held-out test rows (``sample-gz2-test.ecsv``) as
    150 px central crops of those frames, spanning 6 R90.

For each model it measures, on both sets:

* bare file names (the card's crop; what a user without a radius gets), with
  and without test-time augmentation (``tta=True``: the mean over the eight
  dihedral views), and its cost (``tta_cost``: wall time with over without,
  both with the images in the file cache);
* reframed from the table (``cutout_fov`` / ``petroR90_r`` columns; for GZ2
  frames their ratio is 8.48 for the native frames, 6 for the crops);
* accuracy and cigar-shaped recall against frame width from 3 to 12 R90
  (central crops below the image's own width, frames widened with sky
  above it);
* top-label expected calibration error (ECE) and the temperature, with the
  median and 95th percentile of the ECE that perfectly calibrated
  probabilities read on the same rows (``ece_if_calibrated``,
  `galzoo_cnn.calibration.calibration_floor`): on 355 rows that is not zero;
* the crops widened with sky to GZ2's 8.48 R90 and read by bare file name
  (``bare_as_gz2_frames``): GZ2-framed images of all 3 941 test galaxies, where
  the native set has 355, with the median and 95th percentile of the ECE read
  on random subsets of 355 of them (``ece_of_native_sized_subsets``): how much
  of the native frames' ECE is their number.

``--update-cards`` writes the figures into the cards' ``metrics['framing']`` and the range of
widths where the accuracy on the test crops stays within 0.02 of its best into
``input['frame_range_r90']`` (what `classify_table`'s scale warning uses); ``--figure`` draws
accuracy against frame width for the docs.

    python benchmarks/framing_accuracy.py --data ../shared/data --figure docs/_static/framing_accuracy.png
"""

import argparse
import json
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn.calibration import calibration_error, calibration_floor
from galzoo_cnn.evaluation import labelled_probabilities
from galzoo_cnn.models import load_model
from galzoo_cnn.utils._cards import update_card_file

MODEL_DIR = Path(str(files("galzoo_cnn") / "data" / "models"))
#: Width of each image set's frames in Petrosian R90 (GZ2: 424 px at 0.02 R90 per pixel; crops: 300 px).
SETS = {"native": 8.48, "crops": 6.0}
WIDTHS = (3.0, 4.0, 5.0, 6.0, 7.0, 8.48, 10.0, 12.0)


def image_sets(data):
    native = Table.read(data / "gz2_kaggle_native" / "labels.csv")
    yield "native", native, data / "gz2_kaggle_native" / "images"
    crops = Table.read(MODEL_DIR / "sample-gz2-test.ecsv")
    yield "crops", crops, data / "gz2_kaggle_5class" / "images"


def reframed(table, width_r90):
    """A copy of ``table`` with the columns that reframe its images: ``cutout_fov`` ``width_r90`` times
    ``petroR90_r`` (only their ratio matters for reframing)."""
    framed = table.copy()
    framed["petroR90_r"] = np.ones(len(table)) * u.arcsec
    framed["cutout_fov"] = width_r90 * framed["petroR90_r"]
    return framed


def subset_ece(out, classes, n_rows, *, n_draws=300, seed=0):
    """Median and 95th percentile of the top-label ECE of ``n_draws`` random subsets of ``n_rows`` of the
    rows classified ``ok`` (drawn without replacement)."""
    probabilities, labels = labelled_probabilities(out, "gz2_five_class", classes)
    rng = np.random.default_rng(seed)
    eces = [calibration_error(probabilities[rows], labels[rows])
            for rows in (rng.choice(len(labels), n_rows, replace=False) for _ in range(n_draws))]
    return [round(float(np.median(eces)), 4), round(float(np.percentile(eces, 95)), 4)]


def scores(out, classes):
    truth = np.asarray(out["gz2_five_class"]).astype(str)
    ok = np.asarray(out["status"]) == "ok"
    predicted = np.asarray(out["predicted_class"]).astype(str)
    cigar = ok & (truth == "cigar_shaped")
    probabilities, labels = labelled_probabilities(out, "gz2_five_class", classes)
    floor = calibration_floor(probabilities)
    return {"n": int(ok.sum()), "accuracy": round(float((predicted[ok] == truth[ok]).mean()), 4),
            "cigar_recall": round(float((predicted[cigar] == "cigar_shaped").mean()), 4),
            "ece": round(float(calibration_error(probabilities, labels)), 4),
            "ece_if_calibrated": [round(floor["median"], 4), round(floor["p95"], 4)]}


def evaluate(name, data, widths, tta_sets=tuple(SETS)):
    model = load_model(name)
    classes = list(model.classes)
    result = {"temperature": model.temperature}
    n_rows = {}
    for set_name, table, image_dir in image_sets(data):
        n_rows[set_name] = len(table)
        entry = {}
        bare = classify_table(table, model=model, image_dir=image_dir, progress=False)
        entry["bare"] = scores(bare, classes)
        if set_name in tta_sets:  # both timed with the images in the file cache (read just above)
            start = time.perf_counter()
            classify_table(table, model=model, image_dir=image_dir, progress=False)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            entry["bare_tta"] = scores(classify_table(table, model=model, image_dir=image_dir, progress=False,
                                                      tta=True), classes)
            entry["tta_cost"] = round((time.perf_counter() - start) / seconds, 2)
        framed = reframed(table, SETS[set_name])
        if model.frame_r90 is not None:
            entry["reframed"] = scores(classify_table(framed, model=model, image_dir=image_dir,
                                                      progress=False), classes)
            if set_name in tta_sets:
                entry["reframed_tta"] = scores(classify_table(framed, model=model, image_dir=image_dir,
                                                              progress=False, tta=True), classes)
        if set_name != "native":  # GZ2's framing, widened with sky, for as many galaxies as the set has
            as_gz2 = classify_table(table, model=model, image_dir=image_dir, progress=False,
                                    crop=model.card.crop * SETS["native"] / SETS[set_name])
            subsets = subset_ece(as_gz2, classes, n_rows["native"])
            entry["bare_as_gz2_frames"] = dict(scores(as_gz2, classes), ece_of_native_sized_subsets=subsets)
        entry["by_width"] = {}
        for width in widths:
            crop = width / SETS[set_name]
            out = classify_table(table, model=model, image_dir=image_dir, progress=False, crop=crop)
            entry["by_width"][f"{width:g}"] = scores(out, classes)
        result[set_name] = entry
        print(name, set_name, json.dumps({k: v for k, v in entry.items() if k != "by_width"}))
        print(name, set_name, "by width:",
              {w: (s["accuracy"], s["cigar_recall"]) for w, s in entry["by_width"].items()}, flush=True)
    return result


def holding_range(curve, tolerance=0.02):
    """The contiguous frame widths around the best one where the accuracy stays within ``tolerance`` of
    it: what the card states as ``input['frame_range_r90']`` (read on the 3 941 test crops)."""
    widths = sorted(curve, key=float)
    accuracy = [curve[w]["accuracy"] for w in widths]
    best = int(np.argmax(accuracy))
    low = high = best
    while low > 0 and accuracy[low - 1] >= accuracy[best] - tolerance:
        low -= 1
    while high < len(widths) - 1 and accuracy[high + 1] >= accuracy[best] - tolerance:
        high += 1
    return [float(widths[low]), float(widths[high])]


def update_card(name, result):
    """Write the figures into the bundled card: ``metrics['framing']`` and ``input['frame_range_r90']``."""
    def change(card):
        card.setdefault("metrics", {})["framing"] = dict(
            result, note="benchmarks/framing_accuracy.py; native = gz2_kaggle_native (424 px, 8.48 R90), "
                         "crops = the held-out test rows as 150 px crops (6 R90); reframed = from "
                         "cutout_fov / petroR90_r columns; bare_as_gz2_frames = the crops widened with "
                         "sky to 8.48 R90, read by bare file name; by_width = frame width read, in R90")
        card["input"]["frame_range_r90"] = holding_range(result["crops"]["by_width"])

    update_card_file(name, change)


def draw(results, path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, set_name in zip(axes, SETS):
        for (name, result), colour in zip(results.items(), ("tab:grey", "tab:blue", "tab:orange")):
            curve = result[set_name]["by_width"]
            widths = [float(w) for w in curve]
            ax.plot(widths, [curve[w]["accuracy"] for w in curve], "o-", color=colour, label=name)
            ax.plot(widths, [curve[w]["cigar_recall"] for w in curve], "s:", color=colour, alpha=0.6,
                    label=f"{name}: cigar-shaped recall")
        ax.axvline(SETS[set_name], color="k", lw=0.8, ls="--")
        ax.set_title(f"{set_name}: {'424 px GZ2 frames' if set_name == 'native' else '150 px crops'} "
                     f"({SETS[set_name]:g} R90 wide)", fontsize=10)
        ax.set_xlabel("frame width read by the model (Petrosian R90)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("five-class accuracy / recall")
    axes[1].legend(fontsize=7, loc="lower center")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--models", nargs="+",
                        default=["sample-gz2", "sample-gz2-robust", "sample-gz2-dihedral"])
    parser.add_argument("--widths", nargs="+", type=float, default=WIDTHS)
    parser.add_argument("--tta-sets", nargs="*", default=list(SETS), choices=list(SETS),
                        help="image sets measured with test-time augmentation too (8x the forward passes)")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--figure", type=Path, help="draw accuracy against frame width")
    parser.add_argument("--update-cards", action="store_true")
    parser.add_argument("--from-json", type=Path, help="update the cards / draw from an earlier --json run")
    args = parser.parse_args()
    results = (json.loads(args.from_json.read_text()) if args.from_json else
               {name: evaluate(name, args.data, args.widths, args.tta_sets) for name in args.models})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.figure:
        draw(results, args.figure)
    if args.update_cards:
        for name, result in results.items():
            update_card(name, result)


if __name__ == "__main__":
    main()
