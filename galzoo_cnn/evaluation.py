# Licensed under a 3-clause BSD style license - see LICENSE
"""
Evaluating a classifier the way Khramtsov et al. (2022, Sect. 5) do: tables in, tables out.

`class_metrics` compares a column of true classes with a column of
predicted ones and returns a `~astropy.table.QTable` of per-class precision,
recall and F1 with bootstrap confidence intervals (the overall accuracy and
its interval in ``meta``); `confusion_table` gives the confusion matrix as a
table.  With ``grouped=True`` both columns are first mapped to the broad
morphology of `galzoo_cnn.taxonomy.BROAD_GROUPS` (smooth / edge-on /
spiral), so that models and catalogues with different class lists (the five
GZ2 classes, Galaxy Zoo 1 classes, ``gz2_class`` strings) can be compared.
Metrics come from scikit-learn.

Examples
--------
>>> from astropy.table import Table
>>> from galzoo_cnn.evaluation import class_metrics
>>> t = Table({"truth": ["spiral", "spiral", "edge_on", "completely_round"],
...            "predicted_class": ["spiral", "edge_on", "edge_on", "completely_round"]})
>>> metrics = class_metrics(t, "truth", n_bootstrap=0)
>>> metrics["class", "n_true", "recall"].pprint()
     class       n_true recall
---------------- ------ ------
completely_round      1  1.000
         edge_on      1  1.000
          spiral      2  0.500
>>> metrics.meta["accuracy"]
0.75
"""

import warnings

import numpy as np
from astropy.table import QTable, Table

from . import taxonomy
from .exceptions import InputError
from .tables import as_table, require_columns

__all__ = ["class_metrics", "confusion_table", "paired_labels"]


def paired_labels(table, truth_column, predicted_column="predicted_class", *, grouped=False):
    """The rows' true and predicted classes as two string arrays, unlabelled rows dropped.

    Masked or empty values on either side drop the row; with ``grouped``
    both sides are mapped by `galzoo_cnn.taxonomy.broad_group` and rows
    without a group (e.g. mergers) are dropped too.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        One row per galaxy.
    truth_column, predicted_column : str
        Columns of class names.
    grouped : bool
        Compare broad groups (smooth / edge-on / spiral) instead of classes.

    Returns
    -------
    truth, predicted : `numpy.ndarray` of str
    kept : `numpy.ndarray` of bool
        Which rows of ``table`` were kept.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import paired_labels
    >>> t = Table({"gz2_class": ["Ei", "Seb", "A"], "predicted_class": ["cigar_shaped", "spiral", "spiral"]})
    >>> truth, predicted, kept = paired_labels(t, "gz2_class", grouped=True)
    >>> truth.tolist(), predicted.tolist(), kept.tolist()
    (['smooth', 'edge_on'], ['smooth', 'spiral'], [True, True, False])
    """
    table = as_table(table, copy=False)
    require_columns(table, [truth_column, predicted_column])
    sides = []
    for name in (truth_column, predicted_column):
        values = np.ma.filled(np.ma.asarray(table[name]).astype(str), "")
        values = np.char.strip(values.astype(str))
        if grouped:
            values = np.array([taxonomy.broad_group(v) or "" if v else "" for v in values], dtype=str)
        sides.append(values)
    kept = (sides[0] != "") & (sides[1] != "")
    return sides[0][kept], sides[1][kept], kept


def _interval(values, confidence):
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():  # a class never predicted in a resampling has no precision
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(values, [tail, 100 - tail], axis=0)


def class_metrics(table, truth_column, predicted_column="predicted_class", *, classes=None,
                  grouped=False, n_bootstrap=1000, confidence=0.95, seed=0):
    """Per-class precision, recall and F1 with bootstrap confidence intervals.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        One row per galaxy with true and predicted classes (e.g. the output
        of `~galzoo_cnn.classify.classify_table` with a label column).
    truth_column, predicted_column : str
        Columns of class names.
    classes : sequence of str, optional
        Classes (rows) in order; default: every class in either column,
        sorted (with ``grouped``: `~galzoo_cnn.taxonomy.BROAD_GROUPS`).
    grouped : bool
        Compare smooth / edge-on / spiral (`paired_labels`).
    n_bootstrap : int
        Resamplings of the rows for the intervals; 0 for none.
    confidence : float
        Probability content of the intervals (central, percentile method).
    seed : int
        Seed of the resampling.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``class``, ``n_true``, ``n_predicted``, ``precision``,
        ``recall``, ``f1`` and, with bootstrap, ``<metric>_low`` /
        ``<metric>_high``.  ``meta``: ``accuracy`` (with
        ``accuracy_low`` / ``accuracy_high``), ``n``, ``classes``,
        ``confusion_matrix`` (rows true, columns predicted), ``grouped``,
        ``truth_column``, ``confidence``, ``n_bootstrap``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import class_metrics
    >>> t = Table({"gz1_class": ["elliptical"] * 3 + ["spiral"] * 2,
    ...            "predicted_class": ["completely_round", "rounded_in_between", "spiral", "spiral",
    ...                                "spiral"]})
    >>> m = class_metrics(t, "gz1_class", grouped=True, n_bootstrap=200)
    >>> round(m.meta["accuracy"], 2), m["class"].tolist()
    (0.8, ['smooth', 'edge_on', 'spiral'])
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    truth, predicted, _ = paired_labels(table, truth_column, predicted_column, grouped=grouped)
    if not len(truth):
        raise InputError(f"no row has both a {truth_column!r} and a {predicted_column!r} class")
    if classes is None:
        classes = list(taxonomy.BROAD_GROUPS) if grouped else sorted(set(truth) | set(predicted))
    classes = [str(c) for c in classes]

    def scores(t, p):
        precision, recall, f1, _ = precision_recall_fscore_support(
            t, p, labels=classes, average=None, zero_division=np.nan)
        return np.stack([precision, recall, f1]), accuracy_score(t, p)

    values, accuracy = scores(truth, predicted)
    result = QTable({"class": classes,
                     "n_true": [int((truth == c).sum()) for c in classes],
                     "n_predicted": [int((predicted == c).sum()) for c in classes],
                     "precision": values[0], "recall": values[1], "f1": values[2]})
    meta = {"accuracy": float(accuracy), "n": int(len(truth)), "classes": classes, "grouped": grouped,
            "truth_column": truth_column, "confidence": confidence, "n_bootstrap": int(n_bootstrap),
            "confusion_matrix": confusion_matrix(truth, predicted, labels=classes).tolist()}
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        draws = [rng.integers(0, len(truth), len(truth)) for _ in range(int(n_bootstrap))]
        samples = [scores(truth[i], predicted[i]) for i in draws]
        low, high = _interval(np.stack([s[0] for s in samples]), confidence)
        for k, name in enumerate(("precision", "recall", "f1")):
            result[f"{name}_low"], result[f"{name}_high"] = low[k], high[k]
        meta["accuracy_low"], meta["accuracy_high"] = map(float, _interval([s[1] for s in samples],
                                                                           confidence))
    for name in ("precision", "recall", "f1"):
        for column in (c for c in result.colnames if c.startswith(name)):
            result[column].info.format = ".3f"
    result.meta.update(meta)
    return result


def confusion_table(metrics, *, normalize=False):
    """The confusion matrix of `class_metrics` as a table: one row per true class.

    Parameters
    ----------
    metrics : `~astropy.table.QTable`
        The output of `class_metrics`.
    normalize : bool
        Divide each row by its number of galaxies (rows then give recall
        on the diagonal).

    Returns
    -------
    `~astropy.table.Table`
        Column ``true_class``, then one column per predicted class.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import class_metrics, confusion_table
    >>> t = Table({"truth": ["a", "a", "b"], "predicted_class": ["a", "b", "b"]})
    >>> confusion_table(class_metrics(t, "truth", n_bootstrap=0)).pprint()
    true_class  a   b
    ---------- --- ---
             a   1   1
             b   0   1
    """
    matrix = np.asarray(metrics.meta["confusion_matrix"], dtype=float)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = matrix / matrix.sum(axis=1, keepdims=True)
    else:
        matrix = matrix.astype(int)
    classes = metrics.meta["classes"]
    table = Table([classes, *matrix.T], names=["true_class", *classes])
    table.meta["normalized"] = bool(normalize)
    return table
