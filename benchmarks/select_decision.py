# Licensed under a 3-clause BSD style license - see LICENSE
"""Fit a five-class model's ``'balanced'`` decision (``card['decision']``) on its validation rows.

`galzoo_cnn.evaluation.balance_model` classifies the validation split of the model's training run
(``split.ecsv``; 150 px Kaggle crops the model was neither trained nor tested on) and chooses the
exponent ``tau`` of the logit adjustment (Menon et al. 2021) of highest balanced accuracy there;
``classify_table(..., decision='balanced')`` then multiplies each class's probability by its factor.
It then classifies the run's test rows under the rule (``entry['test']``: accuracy and recall of each
class, which the tests recompute from the bundled test rows), prints the entry, and ``--update-card``
writes it into the bundled card.  What the rule does on the native GZ2 frames and the Hart et al.
cutouts too: ``five_class_acceptance.py --decision balanced``.

    python benchmarks/select_decision.py --model sample-gz2-dihedral \\
        --split runs/sample-gz2-robust/split.ecsv --data ../shared/data --update-card
"""

import json

from select_framing import KAGGLE_IMAGES, card_parser, split_rows  # beside this one

from galzoo_cnn import classify_table
from galzoo_cnn.evaluation import balance_model, class_metrics
from galzoo_cnn.models import load_model
from galzoo_cnn.utils._cards import update_card_file


def main():
    args = card_parser(__doc__, default_model="sample-gz2-dihedral").parse_args()
    model = load_model(args.model)
    images = args.data / KAGGLE_IMAGES
    entry = balance_model(model, split_rows(args.split, "val"), image_dir=images, progress=False)
    entry["fitted_on"] = f"validation split ({entry['n']} rows; benchmarks/select_decision.py)"
    test = classify_table(split_rows(args.split, "test"), model=model, image_dir=images, progress=False,
                          decision="balanced")
    metrics = class_metrics(test, "gz2_five_class", classes=list(model.classes), n_bootstrap=0)
    entry["test"] = {"n_test": int(metrics.meta["n"]), "accuracy": round(float(metrics.meta["accuracy"]), 4),
                     "recall": {c: round(float(r), 4) for c, r in zip(metrics["class"], metrics["recall"])},
                     "note": "classify_table(decision='balanced') on the test rows at the card's settings"}
    print(json.dumps(entry, indent=1))
    if args.update_card:
        update_card_file(args.model, lambda card: card.update(decision=entry))


if __name__ == "__main__":
    main()
