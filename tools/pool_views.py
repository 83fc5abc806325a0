# Licensed under a 3-clause BSD style license - see LICENSE
"""Make a model that reads each galaxy through its eight dihedral views, from one trained on single views.

The new model is the source model's network unchanged -- the same backbone and head weights --
with ``view_pooling: dihedral``: the pooled backbone features of the eight views of an image (its
rotations by 90 degrees and their mirror images; a galaxy has no up) are averaged before the head
(Dieleman et al. 2015 combined rotated views the same way). Nothing is trained, so it holds
wherever the source model held; its outputs no longer depend on the image's orientation.

Then, on the source model's validation rows, choose its frame and bare-name crop and fit its
temperature and the factors of its balanced decision, and measure it (each step writes into the
bundled card)::

    python tools/pool_views.py --source sample-gz2-robust --name sample-gz2-dihedral
    python benchmarks/select_framing.py --model sample-gz2-dihedral \\
        --split runs/sample-gz2-robust/split.ecsv --update-card
    python tools/calibrate_card.py --model sample-gz2-dihedral --split runs/sample-gz2-robust/split.ecsv
    python benchmarks/select_decision.py --model sample-gz2-dihedral \\
        --split runs/sample-gz2-robust/split.ecsv --update-card
    python benchmarks/framing_accuracy.py --models sample-gz2-dihedral --json framing.json
    python benchmarks/evaluate_sample_models.py --models sample-gz2-dihedral --update-cards

The bundled detailed-feature model is made the same way from its fine-tuned single-view run
(``--output`` writes the pooled card elsewhere than the bundled models, e.g. for its run without the
adversarial augmentation)::

    python tools/pool_views.py --source runs/sample-gz2-features/sample-gz2-features.json \
        --name sample-gz2-features

A head retrained on the averaged features (a first version of this model) read the Kaggle crops
better (validation accuracy 0.931 against 0.920 here) but called most smooth galaxies of the Hart
et al. (2016) close-up cutouts spiral (grouped accuracy 0.57 against 0.89): the source's head,
trained on single views at many framings, generalises across image sources; it is kept.
"""

import argparse
from importlib.resources import files
from pathlib import Path

from galzoo_cnn.models import derived_model, load_model, save_model
from galzoo_cnn.utils._cards import portable_run_paths

MODEL_DIR = Path(str(files("galzoo_cnn") / "data" / "models"))
POOLING = "It reads each galaxy through its eight rotated and flipped views, whose features are averaged " \
          "before the head."
#: The pooled model's description by objective; others keep the source's, with `POOLING` added.
DESCRIPTIONS = {"five_class": (
    "Sample model: the five GZ2 classes of Khramtsov et al. (2022) (completely round, rounded in-between, "
    "cigar-shaped, edge-on, spiral): {source} reading each galaxy through its eight rotated and flipped "
    "views, whose features are averaged before the head. A compact CPU-trained model, not the paper's "
    "DenseNet-201.")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="sample-gz2-robust")
    parser.add_argument("--name", default="sample-gz2-dihedral")
    parser.add_argument("--output", type=Path, default=MODEL_DIR, help="directory of the pooled model")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="development data folder: the card names its files relative to it (and runs "
                             "relative to the working directory)")
    args = parser.parse_args()
    source = load_model(args.source)
    description = DESCRIPTIONS.get(source.objective.name, "{source_description} {pooling}").format(
        source=source.card.name, source_description=source.card["description"], pooling=POOLING)
    pooled = derived_model(
        source, head=dict(source.card["head"], view_pooling="dihedral"), name=args.name,
        description=description, package_version=None, calibration=None, decision=None,
        metrics={},  # measured again for this model by the commands above
        # the card travels with the package: the run's files named relative to the data and runs folders
        **portable_run_paths(source.card, [args.data.resolve(), Path.cwd().resolve()]),
        derived_from={"model": source.card.name, "weights_sha256": source.card.weights_sha256,
                      "how": "the same weights; view_pooling: dihedral (tools/pool_views.py)"})
    print(f"Saved {save_model(pooled, args.output / args.name)}")


if __name__ == "__main__":
    main()
