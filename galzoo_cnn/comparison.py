# Licensed under a 3-clause BSD style license - see LICENSE
"""
Comparing backbones on the same data and split: the paper's Table 1.

Khramtsov et al. (2022, Table 1) train the five-class classifier with eleven
backbones (`~galzoo_cnn.models.PAPER_BACKBONES`) and compare their validation
accuracy.  `compare_backbones` does the same for any list of timm backbones:
one training run per backbone from one `~galzoo_cnn.training.TrainConfig`,
all on the split the first run draws (later runs read its ``split.ecsv``),
then each model is scored on the validation and test rows through
`~galzoo_cnn.classify_table` (the one prediction path) and timed.  Finished
runs are reused when the comparison is started again, so an interrupted
comparison resumes.  The paper's eleven backbones need a GPU: run
``galzoo-cnn compare-backbones --config paper-five-class ...`` there.

Examples
--------
>>> from galzoo_cnn.comparison import COMPARISON_COLUMNS
>>> COMPARISON_COLUMNS[:4]
('backbone', 'n_parameters', 'val_accuracy', 'test_accuracy')
"""

import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np
from astropy.table import QTable, Table

from .classify import classify_table
from .evaluation import feature_metrics
from .exceptions import InputError
from .models import PAPER_BACKBONES, load_model
from .tables import provenance, write_table_atomic
from .training import TrainConfig, bundled_config, train
from .utils._deprecation import keyword_options
from .utils._timm import require_backbone

__all__ = ["compare_backbones", "COMPARISON_COLUMNS", "PAPER_BACKBONES"]

#: Columns of the comparison table, one row per backbone.
COMPARISON_COLUMNS = ("backbone", "n_parameters", "val_accuracy", "test_accuracy", "test_roc_auc",
                      "images_per_second", "epochs_run")


def _scores(model, rows, config, batch_size):
    """Accuracy, macro one-vs-rest ROC AUC (single-label) or mean AUC (multi-label), images/s."""
    from sklearn.metrics import roc_auc_score

    if not len(rows):
        return np.nan, np.nan, np.nan
    start = time.perf_counter()
    classified = classify_table(rows, model=model, image_column=config.image_column,
                                image_dir=config.image_dir, batch_size=batch_size, progress=False,
                                overwrite=True)
    rate = len(rows) / (time.perf_counter() - start)
    ok = np.asarray(classified["status"]) == "ok"
    prefix = model.objective.probability_prefix
    probabilities = np.stack([np.ma.getdata(classified[prefix + c]) for c in model.classes], axis=1)[ok]
    if config.label_column:
        truth = np.asarray(classified[config.label_column]).astype(str)[ok]
        predicted = np.asarray(model.classes)[probabilities.argmax(1)]
        present = [k for k, c in enumerate(model.classes) if 0 < np.sum(truth == c) < len(truth)]
        auc = (roc_auc_score(np.stack([truth == model.classes[k] for k in present], 1),
                             probabilities[:, present], average="macro") if len(present) > 1 else np.nan)
        return float(np.mean(truth == predicted)), float(auc), rate
    # the label columns under the names feature_metrics reads, whatever the configuration called them
    labels = {f"label_{c}": classified[column][ok] for c, column in zip(model.classes, config.label_columns)}
    pairs = Table(labels | {prefix + c: probabilities[:, k] for k, c in enumerate(model.classes)})
    auc = np.asarray(feature_metrics(pairs, features=list(model.classes))["roc_auc"], dtype=float)
    return np.nan, float(np.nanmean(auc)) if np.isfinite(auc).any() else np.nan, rate


@keyword_options
def compare_backbones(config, backbones=PAPER_BACKBONES, *, output, batch_size=64, progress=True):
    """Train one model per backbone on the same data and split; one row of scores per backbone.

    Parameters
    ----------
    config : `~galzoo_cnn.training.TrainConfig`, path or bundled name
        The training run (data, objective, epochs...); its ``backbone`` and
        ``output`` are replaced per backbone.
    backbones : sequence of str
        timm backbone names; default the paper's eleven.
    output : str or `~pathlib.Path`
        Directory: one subdirectory per backbone, and ``backbones.ecsv``.
    batch_size : int
        Images per forward pass when scoring.
    progress : bool
        Show training progress bars.

    Returns
    -------
    `~astropy.table.QTable`
        `COMPARISON_COLUMNS`: the parameters of each model, its accuracy on
        the validation rows (the paper's Table 1 measure) and test rows,
        the macro one-vs-rest ROC AUC on the test rows (a multi-label
        model: the mean over features), the classification rate in
        images/s (reading, scaling and the forward pass, on this machine),
        and the epochs run.  Also written to ``<output>/backbones.ecsv``.

    Examples
    --------
    >>> from galzoo_cnn.comparison import compare_backbones
    >>> compare_backbones("paper-five-class", backbones=[], output="unused")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: no backbones to compare
    """
    if isinstance(backbones, str):
        backbones = [backbones]
    backbones = list(dict.fromkeys(backbones))
    if not backbones:
        raise InputError("no backbones to compare")
    for backbone in backbones:  # a typo in the tenth name must not wait for nine trainings
        require_backbone(backbone)
    if not isinstance(config, TrainConfig):
        config = TrainConfig.from_file(bundled_config(config))
    output = Path(output)
    rows, split = [], None
    for backbone in backbones:
        directory = output / backbone
        run = dataclasses.replace(config, backbone=backbone, output=str(directory), name=backbone)
        card = directory / f"{backbone}.json"
        if split is not None and not (directory / "split.ecsv").exists():
            directory.mkdir(parents=True, exist_ok=True)  # every backbone on the first run's split
            shutil.copyfile(split, directory / "split.ecsv")
        if card.exists():
            model = load_model(card)  # finished earlier: the comparison resumes
        else:
            model, card = train(run, progress=progress)
        split = directory / "split.ecsv"
        table = Table.read(split)
        run = run.resolved()
        which = np.asarray(table["split"]).astype(str)
        val_accuracy, _, _ = _scores(model, table[which == "val"], run, batch_size)
        test_accuracy, test_auc, rate = _scores(model, table[which == "test"], run, batch_size)
        rows.append((backbone, int(sum(p.numel() for p in model.parameters())), val_accuracy, test_accuracy,
                     test_auc, rate, int(model.card.training.get("epochs_run", -1))))
    result = QTable(rows=rows, names=COMPARISON_COLUMNS,
                    dtype=(str, np.int64, float, float, float, float, np.int64))
    for name in ("val_accuracy", "test_accuracy", "test_roc_auc"):
        result[name].info.format = ".4f"
    result["images_per_second"].info.format = ".1f"
    result.meta.update(objective=config.objective, epochs=config.epochs, split=str(output / backbones[0]),
                       layout="Khramtsov et al. 2022, Table 1",
                       provenance=provenance("compare_backbones", backbones=", ".join(backbones)))
    write_table_atomic(result, output / "backbones.ecsv", overwrite=True)
    return result
