# Licensed under a 3-clause BSD style license - see LICENSE
"""Calibrate a bundled five-class model on its validation rows and restate its test metrics.

For a card whose input settings changed after training (``input['crop']`` chosen by
``benchmarks/select_framing.py``), or that was trained before ``train`` fitted temperatures:

1. the temperature is fitted on the validation rows of the training run's ``split.ecsv``
   through `galzoo_cnn.evaluation.calibrate_model` (kept where it lowers the ECE), as ``train``
   does for new runs;
2. the test metrics (accuracy, recall, confusion matrix, ECE) are recomputed on the test rows with
   `galzoo_cnn.classify_table` at the card's settings -- what a user gets.

    python tools/calibrate_card.py --model sample-gz2-robust --split runs/sample-gz2-robust/split.ecsv \\
        --data ../shared/data
"""

import argparse
import json
from pathlib import Path

from astropy.table import Table

from galzoo_cnn import classify_table
from galzoo_cnn.evaluation import calibrate_model, labelled_probabilities
from galzoo_cnn.models import load_model
from galzoo_cnn.utils._cards import update_card_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--split", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--images", default="gz2_kaggle_5class/images")
    parser.add_argument("--truth", default="gz2_five_class")
    args = parser.parse_args()
    model = load_model(args.model)
    split = Table.read(args.split)
    images = args.data / args.images
    entry = calibrate_model(model, split[split["split"] == "val"], truth_column=args.truth, image_dir=images,
                            progress=False)
    entry["fitted_on"] = f"validation split ({entry['n']} rows)"
    test = split[split["split"] == "test"]
    out = classify_table(test, model=model, image_dir=images, progress=False)
    probabilities, targets = labelled_probabilities(out, args.truth, model.classes)
    metrics = model.objective.evaluate(probabilities, targets, list(model.classes))
    metrics["note"] = (f"classify_table on the test rows at the card's settings (crop "
                       f"{model.card['input'].get('crop', 1.0):g}, temperature {entry['temperature']:g})")
    test_metrics = json.loads(json.dumps(metrics, default=float))

    def change(card):
        card["calibration"] = entry
        card["metrics"]["test"] = test_metrics

    update_card_file(args.model, change)
    print(json.dumps({"calibration": entry, "accuracy": metrics["accuracy"], "ece": metrics["ece"]}))


if __name__ == "__main__":
    main()
