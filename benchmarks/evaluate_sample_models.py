# Licensed under a 3-clause BSD style license - see LICENSE
"""Accuracy of the bundled sample models on every real image source of the development data.

For each model (default: sample-gz1 and sample-gz2) and each source:

``kaggle-test``
    sample-gz2's held-out test rows (bundled), the Kaggle GZ2 images (150 px,
    about 6 Petrosian radii R90 per frame): five classes, and grouped.
``hart16``
    the 100 ``gz2_hart16_sdss`` images (300 px at 0.1 arcsec/px), GZ2 classes
    from `five_class_labels` on their debiased votes, grouped (and five).
``gz1``
    the 6 664 ``gz1_sdss`` cutouts (423 px), Galaxy Zoo 1 majority classes
    (mergers and "don't know" have no group), grouped.

Grouped = smooth / edge-on / spiral (`galzoo_cnn.taxonomy.BROAD_GROUPS`).
Each model classifies with its card's crop, as ``classify_table`` does for a
user.  ``--update-cards`` writes the figures into the cards' ``metrics``
(``other_sources``) in the source tree.

    python benchmarks/evaluate_sample_models.py --data ../shared/data
"""

import argparse
import json
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy.table import Table

from galzoo_cnn import classify_table, five_class_labels
from galzoo_cnn.evaluation import class_metrics
from galzoo_cnn.utils._cards import update_card_file

MODEL_DIR = Path(str(files("galzoo_cnn") / "data" / "models"))


def sources(data):
    """(name, table, image_dir, truth column, five-class comparison possible)."""
    kaggle = Table.read(MODEL_DIR / "sample-gz2-test.ecsv")
    yield "kaggle-test", kaggle, data / "gz2_kaggle_5class" / "images", "gz2_five_class", True
    hart = five_class_labels(Table.read(data / "gz2_hart16_sdss" / "gz2_hart16.csv"))
    hart = hart["dr7objid", "filename", "gz2_class", "gz2_five_class"]
    yield "hart16", hart, data / "gz2_hart16_sdss" / "images", "gz2_five_class", True
    gz1 = Table.read(data / "gz1_sdss" / "labels.csv")["dr7objid", "filename", "gz1_class"]
    yield "gz1", gz1, data / "gz1_sdss" / "images", "gz1_class", False


def evaluate(model, data, n_bootstrap):
    results = {}
    for name, table, image_dir, truth, five in sources(data):
        start = time.perf_counter()
        out = classify_table(table, model=model, image_dir=image_dir, progress=False)
        seconds = time.perf_counter() - start
        grouped = class_metrics(out, truth, grouped=True, n_bootstrap=n_bootstrap)
        entry = {"n": grouped.meta["n"], "grouped_accuracy": grouped.meta["accuracy"],
                 "grouped_accuracy_interval": [grouped.meta.get("accuracy_low"),
                                               grouped.meta.get("accuracy_high")],
                 "grouped_recall": dict(zip(grouped["class"], map(float, grouped["recall"]))),
                 "grouped_confusion_matrix": grouped.meta["confusion_matrix"],
                 "classes": grouped.meta["classes"], "images_per_s": len(out) / seconds}
        if five and "prob_completely_round" in out.colnames:  # a five-class model
            metrics = class_metrics(out, truth, n_bootstrap=n_bootstrap,
                                    classes=[c.removeprefix("prob_") for c in out.colnames
                                             if c.startswith("prob_")])
            entry.update(five_class_n=metrics.meta["n"], five_class_accuracy=metrics.meta["accuracy"],
                         five_class_recall=dict(zip(metrics["class"], map(float, metrics["recall"]))),
                         five_class_confusion_matrix=metrics.meta["confusion_matrix"])
        results[name] = entry
        print(f"{model:11s} {name:12s} n={entry['n']:5d} grouped acc {entry['grouped_accuracy']:.3f} "
              f"[{entry['grouped_accuracy_interval'][0]:.3f}, {entry['grouped_accuracy_interval'][1]:.3f}]"
              + (f"  five-class acc {entry['five_class_accuracy']:.3f} (n={entry['five_class_n']})"
                 if "five_class_accuracy" in entry else "")
              + f"  {entry['images_per_s']:.0f} img/s", flush=True)
        print("    grouped recall: " + ", ".join(f"{k} {v:.3f}" for k, v in entry["grouped_recall"].items()))
        if "five_class_recall" in entry:
            print("    five-class recall: " + ", ".join(f"{k} {v:.3f}"
                                                       for k, v in entry["five_class_recall"].items()))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", type=Path, help="the development data")
    parser.add_argument("--models", nargs="+", default=["sample-gz1", "sample-gz2"])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--update-cards", action="store_true",
                        help="write the figures into the cards in galzoo_cnn/data/models")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args()
    everything = {}
    for model in args.models:
        everything[model] = evaluate(model, args.data, args.bootstrap)
        if args.update_cards:
            sources = {name: {k: v for k, v in entry.items() if k != "images_per_s"}
                       for name, entry in everything[model].items()}
            path = update_card_file(model, lambda card, sources=sources: card["metrics"].update(
                other_sources=sources,
                other_sources_note="benchmarks/evaluate_sample_models.py; grouped = smooth / edge-on / "
                "spiral; each model with its card's crop; hart16 classes from five_class_labels on the "
                "debiased votes"))
            print(f"updated {path}")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
