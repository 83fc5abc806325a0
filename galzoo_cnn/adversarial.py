# Licensed under a 3-clause BSD style license - see LICENSE
"""
Adversarial validation: how different are the training and inference images?

A domain classifier (ResNet-101 by default; Khramtsov et al. 2022, Sect. 3.3) learns to tell
training galaxies (label 1) from inference galaxies (label 0) on a 75 / 25
split.  Its validation accuracy measures the domain shift (the paper: about
91 %), and its probability P(training), the *adversarial score*, of every
galaxy lets `adversarial_split` choose a test set that looks like the
inference sample.

Examples
--------
>>> from astropy.table import Table
>>> from galzoo_cnn.adversarial import adversarial_split
>>> table = Table({"adversarial_score": [0.1, 0.2, 0.9, 0.95, 0.25]})
>>> split = adversarial_split(table, n_test=2, seed=0)  # among scores <= 0.3
>>> bool((split["adversarial_score"][split["split"] == "test"] <= 0.3).all())
True
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
from astropy import log
from astropy.table import Table, vstack

from ._inference import predict_images, status_names
from .augment import AdversarialShrink
from .columns import PROVENANCE_KEY, describe_columns
from .exceptions import FewCandidatesWarning, InputError, UnusableImagesWarning
from .images import resolve_image_paths
from .tables import as_table, provenance, require_columns, table_or_folder
from .training import TrainConfig, train
from .utils._deprecation import keyword_options
from .utils._values import floats

__all__ = ["adversarial_validation", "adversarial_scores", "adversarial_split", "DOMAIN_COLUMN",
           "DOMAIN_SPLIT_COLUMN", "SCORE_COLUMN"]

#: Column of the domain labels given to the classifier.
DOMAIN_COLUMN = "domain"
#: Column of the domain classifier's own train / val rows (not the classifier's ``split``).
DOMAIN_SPLIT_COLUMN = "domain_split"
#: Column of P(training).
SCORE_COLUMN = "adversarial_score"


def _combined_table(training_table, inference_table, image_column, image_dir):
    dirs = image_dir if isinstance(image_dir, (tuple, list)) else (image_dir, image_dir)
    parts = []
    for table, directory, domain in ((training_table, dirs[0], "training"),
                                     (inference_table, dirs[1], "inference")):
        table, directory = table_or_folder(table, directory, image_column=image_column)
        # a row without an image is one row without a score, as in classify_table, not a refusal
        paths = resolve_image_paths(table, image_column=image_column, image_dir=directory, allow_empty=True)
        table[image_column] = ["" if p is None else str(p) for p in paths]
        table[DOMAIN_COLUMN] = domain
        parts.append(table)
    return vstack(parts, metadata_conflicts="silent")


@keyword_options
def adversarial_scores(model, table, image_column="filename", image_dir=None, transform=None,
                       batch_size=256, progress=False):
    """P(training) of each galaxy of ``table`` under a domain classifier.

    The images go through the package's one prediction path (as in
    `~galzoo_cnn.classify_table`), at the crop of the model's card.

    Parameters
    ----------
    model : `~galzoo_cnn.models.GalaxyClassifier`
        A domain classifier (classes ``inference``, ``training``).
    table : `~astropy.table.Table` or path
        Rows with image paths in ``image_column`` (relative to ``image_dir``).
    transform : callable, optional
        Applied to each uint8 image first (e.g.
        ``AdversarialShrink(k=0.8, m=0.7)`` for the shift experiment of Fig. 4b).
    batch_size : int
        Images per forward pass.
    progress : bool
        Show a progress bar.
    image_column : str
        Column of image paths.
    image_dir : str or `~pathlib.Path`, optional
        Directory the image paths are relative to.

    Returns
    -------
    `~numpy.ndarray`
        float32, one score per row; NaN where the image cannot be used
        (missing, corrupt...: an `~galzoo_cnn.exceptions.UnusableImagesWarning`
        names the first such row and counts them).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.adversarial import adversarial_scores
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.models import build_model
    >>> sample, image_dir = load_demo_sample()
    >>> domain = build_model(objective="adversarial", backbone="test_resnet")  # untrained, for the shape
    >>> adversarial_scores(domain, sample[:3], image_dir=image_dir).shape
    (3,)
    """
    classes = list(model.classes)
    if "training" not in classes:
        raise InputError(f"model classes {classes} have no 'training' class: not a domain classifier")
    paths = resolve_image_paths(as_table(table, copy=False), image_column=image_column, image_dir=image_dir,
                                allow_empty=True)
    crop = model.card.crop
    codes, _, probabilities, _ = predict_images([model.eval()], paths, [crop], batch_size=batch_size,
                                                progress=progress, transform=transform)
    score = probabilities[0][:, classes.index("training")].astype(np.float32)
    status = status_names(codes)
    unusable = status != "ok"
    if unusable.any():
        first = int(np.argmax(unusable))
        warnings.warn(UnusableImagesWarning(
            f"adversarial_scores: {int(unusable.sum())} of {len(paths)} images cannot be used and have no "
            f"score (NaN); first: row {first}, {status[first]} ({paths[first]})"), stacklevel=3)
        score[unusable] = np.nan
    return score


@keyword_options
def adversarial_validation(training_table, inference_table, output, image_column="filename",
                           image_dir=None, backbone=None, shift=(0.8, 0.7), progress=True,
                           **config):
    """Train the domain classifier and score every galaxy.

    Parameters
    ----------
    training_table, inference_table : `~astropy.table.Table` or path
        The two samples; ``image_column`` holds their image paths.  Either
        may be a folder of images (`~galzoo_cnn.tables.image_table`; its
        ``image_dir`` is then `None`), e.g. the cutouts to classify.
    output : str or `~pathlib.Path`
        Directory of the run (checkpoints, split, model); a killed run resumes.
    image_dir : str or (str, str), optional
        Image directory of both tables, or one per table.
    backbone : str, optional
        timm backbone; default the ``adversarial`` objective's, ResNet-101
        as in the paper.
    shift : (float, float) or None
        ``(k, m)`` of the fixed adversarial augmentation whose effect on the
        training galaxies' scores is measured (Fig. 4b; the paper's 0.8, 0.7).
    **config
        More `~galzoo_cnn.training.TrainConfig` fields (``epochs``, ``lr``,
        ``batch_size``, ``devices``...); the defaults are the paper's.
    image_column : str
        Column of image paths in both tables.
    progress : bool
        Show progress bars.

    Returns
    -------
    `~astropy.table.Table`
        Both tables stacked, with ``domain`` (``training`` / ``inference``),
        ``domain_split`` (``train`` / ``val`` of the domain classifier),
        ``adversarial_score`` = P(training) and, if ``shift``,
        ``adversarial_score_shifted`` (training galaxies only).  A row whose
        image cannot be read is left out of training (the classifier's card
        lists it) and comes back with these columns masked.
        ``meta['adversarial']`` holds the validation accuracy and the model path.

    Examples
    --------
    Train the domain classifier on the images of two tables (hours on a GPU
    with the paper's ResNet-101 and 40 000 images; see the Adversarial
    validation page)::

        from galzoo_cnn.adversarial import adversarial_validation
        scores = adversarial_validation("training.fits", "inference.fits", "runs/adversarial",
                                        image_dir=("cutouts/", "cutouts/"))
        scores.meta["adversarial"]["val_accuracy"]
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    combined = _combined_table(training_table, inference_table, image_column, image_dir)
    # the combined table goes to training in memory: its image paths are absolute already
    settings = dict(objective="adversarial", name="adversarial", backbone=backbone, table=combined,
                    output=str(out), image_column=image_column, image_dir=None, label_column=DOMAIN_COLUMN,
                    classes=["inference", "training"], test_fraction=0.0, val_fraction=0.25,
                    adversarial_augmentation=False)
    settings.update(config)
    model, card_path = train(TrainConfig(**settings), progress=progress)
    split = Table.read(out / "split.ecsv")
    # rows whose image cannot be read were left out of training (its card lists them): they stay here,
    # with no domain split and no score
    used = np.isin(np.asarray(combined[image_column]).astype(str),
                   np.asarray(split[image_column]).astype(str))
    result = combined.copy()
    domain_split = np.full(len(result), "", dtype="U5")
    domain_split[used] = split["split"]
    result[DOMAIN_SPLIT_COLUMN] = np.ma.masked_array(domain_split, mask=~used)
    batch = settings.get("batch_size", 64)
    score = np.full(len(result), np.nan, dtype=np.float32)
    score[used] = adversarial_scores(model, result[used], image_column=image_column, batch_size=batch,
                                     progress=progress)
    result[SCORE_COLUMN] = np.ma.masked_invalid(score)
    val = used & (domain_split == "val")
    is_training_val = result[DOMAIN_COLUMN][val] == "training"
    accuracy = float(np.mean((score[val] >= 0.5) == is_training_val))
    if shift is not None:
        k, m = shift
        shifted = np.full(len(result), np.nan, dtype=np.float32)
        is_training = used & np.asarray(result[DOMAIN_COLUMN] == "training")
        shifted[is_training] = adversarial_scores(model, result[is_training], image_column=image_column,
                                                  transform=AdversarialShrink(k=k, m=m),
                                                  batch_size=batch, progress=progress)
        result[SCORE_COLUMN + "_shifted"] = np.ma.masked_invalid(shifted)
    result.meta[PROVENANCE_KEY] = provenance(
        "adversarial_validation", inputs=[training_table, inference_table], backbone=model.card.backbone,
        model=str(card_path), val_accuracy=round(accuracy, 4), shift=str(list(shift)) if shift else None)
    result.meta["adversarial"] = {"val_accuracy": accuracy, "model": str(card_path),
                                  "shift": list(shift) if shift else None}
    log.info(f"adversarial validation: validation accuracy {accuracy:.3f}")
    return describe_columns(result, copy=False)


@keyword_options
def adversarial_split(table, score_column=SCORE_COLUMN, threshold=0.7, n_test=9000,
                      side="inference_like", seed=None, *, overwrite=False):
    """Choose a test set among the galaxies on one side of the adversarial-score threshold.

    The paper's text is ambiguous about the direction; here it is explicit:

    * ``side="inference_like"`` (default): candidates are the galaxies the
      domain classifier takes for inference galaxies with confidence at
      least ``threshold``, i.e. ``score <= 1 - threshold``;
    * ``side="training_like"``: candidates have ``score >= threshold``.

    ``n_test`` candidates are drawn at random (all of them, with a warning,
    if fewer); the other rows are ``train``.  Training with this column as
    ``split_column`` draws its validation rows from ``train``.  A table that
    already has a ``split`` column raises unless ``overwrite``.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Galaxies with adversarial scores (e.g. the training rows of
        `adversarial_validation`).
    score_column : str
        Column of P(training).
    threshold : float
        Confidence of the domain classifier that defines the candidates
        (the paper: 0.7).
    n_test : int
        Size of the test set (the paper: 9 000).
    side : {'inference_like', 'training_like'}
        Which galaxies are candidates (see above).
    seed : int, optional
        Seed of the random choice among the candidates.
    overwrite : bool
        Replace an existing ``split`` column.

    Returns
    -------
    `~astropy.table.Table`
        A copy with a ``split`` column (``test`` / ``train``); ``meta['adversarial_split']``
        records the settings and the number of candidates.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.adversarial import adversarial_split
    >>> split = adversarial_split(Table({"adversarial_score": [0.1, 0.9, 0.2]}), n_test=1, seed=0)
    >>> sorted(split["split"].tolist())
    ['test', 'train', 'train']
    """
    table = as_table(table)
    require_columns(table, score_column, role="score")
    if not 0 <= threshold <= 1:
        raise InputError(f"threshold={threshold} must lie in [0, 1]")
    if "split" in table.colnames and not overwrite:
        raise InputError("the table already has a 'split' column (e.g. the domain classifier's, from "
                         "adversarial_validation); pass overwrite=True to replace it")
    score = floats(table, score_column)
    if side == "inference_like":
        candidates = np.flatnonzero(score <= 1 - threshold)
    elif side == "training_like":
        candidates = np.flatnonzero(score >= threshold)
    else:
        raise InputError(f"side={side!r}; expected 'inference_like' or 'training_like'")
    if len(candidates) < n_test:
        warnings.warn(FewCandidatesWarning(
            f"adversarial_split: only {len(candidates)} galaxies on the {side} side of {threshold}; all of "
            f"them form the test set (asked for {n_test})"), stacklevel=2)
    chosen = np.random.default_rng(seed).choice(candidates, min(n_test, len(candidates)), replace=False)
    split = np.full(len(table), "train", dtype="U5")
    split[chosen] = "test"
    table["split"] = split
    table.meta["adversarial_split"] = dataclasses.asdict(_SplitInfo(
        score_column, threshold, side, n_test, len(candidates), int(len(chosen)), seed))
    return table


@dataclasses.dataclass
class _SplitInfo:
    score_column: str
    threshold: float
    side: str
    n_requested: int
    n_candidates: int
    n_test: int
    seed: int | None
