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

import numpy as np
from astropy import units as u
from astropy.table import QTable, Table

from . import taxonomy
from .calibration import CALIBRATION_BINS, DECISION_TAUS, decision_entry, temperature_entry
from .columns import FEATURE_PREFIX, FEATURE_PROBABILITY_PREFIX
from .exceptions import InputError, InputTypeError
from .objectives import SingleLabel
from .tables import as_table, positive_angle, provenance, require_columns
from .utils._deprecation import keyword_options
from .utils._metrics import (
    feature_auc,
    feature_auc_interval,
    known_labels,
    mean_auc,
    single_label_intervals,
    single_label_scores,
)

__all__ = ["calibrate_model", "balance_model", "labelled_probabilities", "class_metrics", "confusion_table",
           "paired_labels",
           "feature_metrics", "acceptance_threshold", "THRESHOLD_RULES", "crosstab", "feature_table",
           "match_labels"]


@keyword_options
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


@keyword_options
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

    truth, predicted, _ = paired_labels(table, truth_column, predicted_column=predicted_column,
                                        grouped=grouped)
    if not len(truth):
        raise InputError(f"no row has both a {truth_column!r} and a {predicted_column!r} class")
    if classes is None:
        classes = list(taxonomy.BROAD_GROUPS) if grouped else sorted(set(truth) | set(predicted))
    classes = [str(c) for c in classes]

    measured = single_label_scores(truth, predicted, classes)
    result = QTable({"class": classes,
                     "n_true": [int((truth == c).sum()) for c in classes],
                     "n_predicted": [int((predicted == c).sum()) for c in classes],
                     "precision": measured["precision"], "recall": measured["recall"], "f1": measured["f1"]})
    meta = {"accuracy": measured["accuracy"], "n": int(len(truth)), "classes": classes, "grouped": grouped,
            "truth_column": truth_column, "confidence": confidence, "n_bootstrap": int(n_bootstrap),
            "confusion_matrix": measured["confusion_matrix"]}
    if n_bootstrap > 0:
        low, high, meta["accuracy_low"], meta["accuracy_high"] = single_label_intervals(
            truth, predicted, classes, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
        for k, name in enumerate(("precision", "recall", "f1")):
            result[f"{name}_low"], result[f"{name}_high"] = low[k], high[k]
    for name in ("precision", "recall", "f1"):
        for column in (c for c in result.colnames if c.startswith(name)):
            result[column].info.format = ".3f"
    result.meta.update(meta, provenance=provenance("class_metrics", truth_column=truth_column,
                                                   predicted_column=predicted_column, grouped=grouped,
                                                   n_bootstrap=int(n_bootstrap), confidence=confidence,
                                                   seed=seed))
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
    if normalize:
        for name in classes:
            table[name].info.format = ".3f"
    table.meta["normalized"] = bool(normalize)
    return table


#: Rules choosing a feature's acceptance threshold on the predicted probability from labelled
#: rows (Khramtsov et al. 2022, Tables 2-3, use "the best threshold" without naming the rule):
#: ``best_f1`` (default) maximises F1; ``youden`` maximises TPR - FPR (Youden's J);
#: ``precision`` takes the lowest threshold whose precision reaches ``target_precision``.
THRESHOLD_RULES = ("best_f1", "youden", "precision")


@keyword_options
def acceptance_threshold(labels, probabilities, rule="best_f1", *, target_precision=0.9):
    """The probability above which a feature is accepted, chosen on labelled rows by ``rule``.

    Parameters
    ----------
    labels : array-like of bool
        True where the feature is present.
    probabilities : array-like of float
        The model's probabilities for the same rows.
    rule : {'best_f1', 'youden', 'precision'}
        See `THRESHOLD_RULES`.
    target_precision : float
        Precision the ``precision`` rule asks for.

    Returns
    -------
    float
        The threshold (NaN where the rows hold one class only, or no
        threshold reaches ``target_precision``).

    Examples
    --------
    >>> from galzoo_cnn.evaluation import acceptance_threshold
    >>> acceptance_threshold([False, False, True, True], [0.1, 0.4, 0.35, 0.8], rule="youden")
    0.8
    >>> acceptance_threshold([False, False, True, True], [0.1, 0.4, 0.35, 0.8], rule="best_f1")
    0.35
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    labels = np.asarray(labels, dtype=bool)
    probabilities = np.asarray(probabilities, dtype=float)
    if rule not in THRESHOLD_RULES:
        raise InputError(f"rule={rule!r}; expected one of {THRESHOLD_RULES}")
    if labels.all() or not labels.any():
        return float("nan")
    if rule == "youden":
        fpr, tpr, thresholds = roc_curve(labels, probabilities)
        return float(thresholds[np.argmax(tpr - fpr)])
    precision, recall, thresholds = precision_recall_curve(labels, probabilities)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    if rule == "best_f1":
        f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                       where=precision + recall > 0)
        return float(thresholds[np.argmax(f1)])
    reached = np.flatnonzero(precision >= target_precision)
    return float(thresholds[reached[0]]) if len(reached) else float("nan")


def _n_accepted(table, column, threshold):
    """Galaxies whose probability in ``column`` reaches ``threshold`` (none where there is no threshold)."""
    return int(np.sum(np.asarray(table[column], dtype=float) >= threshold)) if np.isfinite(threshold) else 0


@keyword_options
def feature_metrics(table, features=None, *, label_prefix=FEATURE_PREFIX,
                    probability_prefix=FEATURE_PROBABILITY_PREFIX,
                    rule="best_f1", target_precision=0.9, apply_to=None, n_bootstrap=1000, confidence=0.95,
                    seed=0):
    """Per-feature ROC AUC (with a bootstrap interval), average precision and acceptance threshold.

    Rows whose label is masked (the GZ2 task was not well sampled) are left
    out of each feature's metrics, as in training.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Labelled rows with ``<label_prefix><feature>`` (boolean, masked where
        unknown) and ``<probability_prefix><feature>`` columns.
    features : sequence of str, optional
        Features to evaluate; default every feature with both columns.
    label_prefix, probability_prefix : str
        Column-name prefixes.
    rule : {'best_f1', 'youden', 'precision'}
        How the threshold is chosen (`acceptance_threshold`).
    target_precision : float
        For ``rule='precision'``.
    apply_to : `~astropy.table.Table`, optional
        A table of probabilities (e.g. the inference set) in which the
        galaxies at or above each threshold are counted (``n_accepted``).
    n_bootstrap, confidence, seed
        As in `class_metrics` (no intervals with 0 resamplings); with a few
        dozen positives an AUC's 95 % interval spans about +-0.1.

    Returns
    -------
    `~astropy.table.QTable`
        One row per feature: ``feature``, ``n_known``, ``n_positive``,
        ``roc_auc`` with ``roc_auc_low`` / ``roc_auc_high`` (NaN without
        bootstrap), ``average_precision``, ``threshold``, ``precision`` and
        ``recall`` at the threshold, and ``n_accepted``; ``meta`` has
        ``mean_roc_auc`` and its interval (``mean_roc_auc_low`` / ``_high``).

    Examples
    --------
    >>> from astropy.table import MaskedColumn, Table
    >>> from galzoo_cnn.evaluation import feature_metrics
    >>> t = Table({"label_bar": MaskedColumn([True, False, True, False, True], mask=[0, 0, 0, 0, 1]),
    ...            "prob_feature_bar": [0.9, 0.2, 0.6, 0.7, 0.1]})
    >>> row = feature_metrics(t)[0]
    >>> str(row["feature"]), int(row["n_known"]), round(float(row["roc_auc"]), 3)
    ('bar', 4, 0.75)
    """
    from sklearn.metrics import average_precision_score, precision_score, recall_score

    table = as_table(table, copy=False)
    if features is None:
        features = [c[len(label_prefix):] for c in table.colnames if c.startswith(label_prefix)
                    and probability_prefix + c[len(label_prefix):] in table.colnames]
    elif isinstance(features, str):
        raise InputTypeError(f"features must be a list of feature names, got the string {features!r}")
    labels, scores = ([prefix + f for f in features] for prefix in (label_prefix, probability_prefix))
    require_columns(table, labels + scores)
    bootstrap = dict(n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    counted = table if apply_to is None else apply_to
    rows = []
    for feature in features:
        y, p = known_labels(table[label_prefix + feature], table[probability_prefix + feature])
        both = 0 < y.sum() < len(y)
        threshold = acceptance_threshold(y, p, rule=rule, target_precision=target_precision)
        accepted = p >= threshold if np.isfinite(threshold) else np.zeros(len(p), bool)
        rows.append((feature, len(y), int(y.sum()), feature_auc(y, p),
                     *feature_auc_interval(y, p, **bootstrap),
                     float(average_precision_score(y, p)) if both else np.nan, threshold,
                     float(precision_score(y, accepted, zero_division=0)) if both else np.nan,
                     float(recall_score(y, accepted, zero_division=0)) if both else np.nan,
                     _n_accepted(counted, probability_prefix + feature, threshold)))
    result = QTable(rows=rows or None, names=("feature", "n_known", "n_positive", "roc_auc", "roc_auc_low",
                                              "roc_auc_high", "average_precision", "threshold", "precision",
                                              "recall", "n_accepted"),
                    dtype=(str, int, int, float, float, float, float, float, float, float, int))
    for name in result.colnames[3:10]:  # roc_auc ... recall
        result[name].info.format = ".3f"
    result.meta.update(mean_auc(table, labels, scores, **bootstrap),
                       rule=rule, target_precision=target_precision if rule == "precision" else None,
                       confidence=confidence, n_bootstrap=int(n_bootstrap),
                       provenance=provenance("feature_metrics", rule=rule, **bootstrap))
    return result


def _auc(table, features, **options):
    """Feature -> ROC AUC on a labelled table (NaN where a feature has no labels there)."""
    if table is None:
        return {}
    table = as_table(table, copy=False)
    present = [f for f in features if f"{FEATURE_PREFIX}{f}" in table.colnames
               and f"{FEATURE_PROBABILITY_PREFIX}{f}" in table.colnames]
    metrics = feature_metrics(table, features=present, **options) if present else []
    return {str(row["feature"]): float(row["roc_auc"]) for row in metrics}


def feature_table(test, *, test_without_augmentation=None, deep_test=None,
                  deep_test_without_augmentation=None, target=None, inference=None, features=None,
                  rule="best_f1", target_precision=0.9):
    """Per-feature results in the layout of the paper's Tables 2 and 3.

    Each labelled argument is a table with ``label_<feature>`` and
    ``prob_feature_<feature>`` columns: a multi-label model's probabilities
    (`~galzoo_cnn.classify_table`) next to GZ2 labels
    (`~galzoo_cnn.labels.feature_labels`) for the test set, or GZ DECaLS
    labels (`~galzoo_cnn.labels.decals_feature_labels`) for the deep test
    set.  ``test`` and ``deep_test`` come from the model trained with the
    adversarial augmentation, the ``*_without_augmentation`` tables from
    the same model trained without it.  The acceptance threshold is chosen
    on ``test`` by ``rule`` (`acceptance_threshold`) and applied to the
    probabilities of ``target`` (the whole target set) and ``inference``.

    Parameters
    ----------
    test : `~astropy.table.Table` or path
        Test set, model with the adversarial augmentation.
    test_without_augmentation, deep_test, deep_test_without_augmentation : `~astropy.table.Table`, optional
        The other three labelled sets; columns of a missing one are masked.
    target, inference : `~astropy.table.Table`, optional
        Probabilities of the whole target set and of the inference set
        (no labels needed), in which galaxies above the threshold are counted.
    features : sequence of str, optional
        Rows in order; default every feature labelled in ``test``.
    rule : {'best_f1', 'youden', 'precision'}
        Threshold rule (`THRESHOLD_RULES`).
    target_precision : float
        For ``rule='precision'``.

    Returns
    -------
    `~astropy.table.QTable`
        ``feature``; ``auc_test_no_aug``, ``auc_test_aug``, ``auc_test_diff``;
        ``auc_deep_no_aug``, ``auc_deep_aug``, ``auc_deep_diff`` (masked where
        a set lacks the feature, as the paper's empty cells);
        ``threshold``; ``n_target``; ``n_inference``.  Differences are
        augmented minus not augmented.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import feature_table
    >>> with_aug = Table({"label_bar": [True, False, True, False],
    ...                   "prob_feature_bar": [0.9, 0.2, 0.6, 0.7]})
    >>> without = Table({"label_bar": [True, False, True, False],
    ...                  "prob_feature_bar": [0.9, 0.2, 0.8, 0.7]})
    >>> row = feature_table(with_aug, test_without_augmentation=without, inference=with_aug)[0]
    >>> float(row["auc_test_aug"]), float(row["auc_test_no_aug"]), float(row["auc_test_diff"])
    (0.75, 1.0, -0.25)
    >>> float(row["threshold"]), int(row["n_inference"])
    (0.6, 3)
    """
    options = dict(rule=rule, target_precision=target_precision, n_bootstrap=0)  # the table shows no interval
    test = as_table(test, copy=False)
    main = feature_metrics(test, features=features, **options)
    if not len(main):
        raise InputError("the test table has no pair of label_<feature> and prob_feature_<feature> columns")
    features = [str(f) for f in main["feature"]]
    aucs = {"test_aug": {str(r["feature"]): float(r["roc_auc"]) for r in main},
            "test_no_aug": _auc(test_without_augmentation, features, **options),
            "deep_aug": _auc(deep_test, features, **options),
            "deep_no_aug": _auc(deep_test_without_augmentation, features, **options)}
    result = QTable({"feature": features})
    for name in ("test_no_aug", "test_aug", "test_diff", "deep_no_aug", "deep_aug", "deep_diff"):
        if name.endswith("diff"):
            stem = name[:-len("diff")]
            values = [aucs[stem + "aug"].get(f, np.nan) - aucs[stem + "no_aug"].get(f, np.nan)
                      for f in features]
        else:
            values = [aucs[name].get(f, np.nan) for f in features]
        values = np.array(values, dtype=float)
        result[f"auc_{name}"] = np.ma.MaskedArray(values, mask=~np.isfinite(values))
        result[f"auc_{name}"].info.format = ".4f"
    result["threshold"] = main["threshold"]
    for name, table in (("n_target", target), ("n_inference", inference)):
        if table is None:
            result[name] = np.ma.MaskedArray(np.zeros(len(features), int), mask=True)
            continue
        table = as_table(table, copy=False)
        columns = [f"{FEATURE_PROBABILITY_PREFIX}{f}" for f in features]
        require_columns(table, columns, role="probability")
        result[name] = [_n_accepted(table, c, t) for c, t in zip(columns, main["threshold"])]
    result.meta.update(rule=rule, threshold_from="test", layout="Khramtsov et al. 2022, Tables 2-3",
                       provenance=provenance("feature_table", rule=rule))
    return result


def _match_rows(table, other, id_column, radius, ra_column, dec_column):
    """For each row of ``table``, its row in ``other`` (-1: none), by id or by nearest sky position."""
    if id_column is not None:
        require_columns(table, id_column, role="id")
        require_columns(other, id_column, role="id")
        index = {value: row for row, value in enumerate(np.asarray(other[id_column]).tolist())}
        return np.array([index.get(value, -1) for value in np.asarray(table[id_column]).tolist()], dtype=int)
    from .samples import nearest_match, sky_coordinates

    found, separation = nearest_match(sky_coordinates(table, ra_column=ra_column, dec_column=dec_column),
                                      sky_coordinates(other, ra_column=ra_column, dec_column=dec_column))
    return np.where(separation <= radius, found, -1)


def match_labels(table, labelled, *, id_column=None, radius=1 * u.arcsec, ra_column="ra", dec_column="dec",
                 label_prefix="label_"):
    """The rows of ``table`` that have a match in ``labelled``, with its label columns added.

    This pairs a classified table with labels made elsewhere, e.g. the
    inference galaxies with GZ DECaLS labels for the deep test
    (`~galzoo_cnn.labels.decals_feature_labels`), matched by ``id_column``
    or by sky position within ``radius`` (as `crosstab`).

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        E.g. the output of `~galzoo_cnn.classify_table`.
    labelled : `~astropy.table.Table` or path
        A table with ``<label_prefix>*`` columns.
    id_column : str, optional
        Identifier column of both tables; default: match by position.
    radius : `~astropy.units.Quantity`
        Match radius of a positional match.
    ra_column, dec_column : str
        Coordinate columns of both tables.
    label_prefix : str
        Prefix of the columns copied.

    Returns
    -------
    `~astropy.table.Table`
        The matched rows of ``table`` with the label columns (and
        ``match_row``, the row in ``labelled``); ``meta['n_matched']``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import match_labels
    >>> classified = Table({"ra": [10.0, 20.0], "dec": [1.0, 2.0], "prob_feature_bar": [0.9, 0.1]})
    >>> decals = Table({"ra": [20.0001], "dec": [2.0], "label_bar": [False]})
    >>> matched = match_labels(classified, decals)
    >>> matched["prob_feature_bar", "label_bar"].pprint()
    prob_feature_bar label_bar
    ---------------- ---------
                 0.1     False
    """
    table = as_table(table, copy=False)
    labelled = as_table(labelled, copy=False)
    labels = [c for c in labelled.colnames if c.startswith(label_prefix)]
    if not labels:
        raise InputError(f"the labelled table has no {label_prefix}* column")
    clashing = [c for c in labels if c in table.colnames]
    if clashing:
        raise InputError(f"both tables have the column(s) {clashing}: remove them from one")
    match = _match_rows(table, labelled, id_column, positive_angle(radius, "radius"), ra_column, dec_column)
    matched = table[match >= 0]
    rows = match[match >= 0]
    for name in labels:
        matched[name] = labelled[name][rows]
    matched["match_row"] = rows
    matched.meta["n_matched"] = int(len(rows))
    return matched


def crosstab(cnn_table, other_table, other_column, *, class_column="predicted_class", id_column=None,
             radius=1 * u.arcsec, ra_column="ra", dec_column="dec"):
    """Counts of the CNN's classes against another classification, in the layout of Table 4.

    Rows are matched by ``id_column`` when given, else by sky position
    within ``radius`` (nearest neighbour, `~astropy.coordinates.SkyCoord`).

    Parameters
    ----------
    cnn_table : `~astropy.table.Table` or path
        Output of `~galzoo_cnn.classify_table` (``class_column``).
    other_table : `~astropy.table.Table` or path
        The other catalogue, with ``other_column`` (e.g. photometric early /
        late types).
    other_column : str
        Its class column.
    class_column : str
        The CNN's class column.
    id_column : str, optional
        Column of identifiers in both tables.
    radius : `~astropy.units.Quantity`
        Match radius for a positional match.
    ra_column, dec_column : str
        Coordinate columns of both tables.

    Returns
    -------
    `~astropy.table.Table`
        One row per CNN class (``N_gal`` galaxies with a class and a match),
        one column per class of the other catalogue; ``meta['n_matched']``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import crosstab
    >>> cnn = Table({"id": [1, 2, 3], "predicted_class": ["spiral", "spiral", "completely_round"]})
    >>> other = Table({"id": [3, 2, 1], "type": ["early", "late", "late"]})
    >>> crosstab(cnn, other, "type", id_column="id").pprint()
       predicted_class    N_gal early late
    ---------------- ----- ----- ----
    completely_round     1     1    0
              spiral     2     0    2
    """
    cnn = as_table(cnn_table, copy=False)
    other = as_table(other_table, copy=False)
    require_columns(cnn, class_column, role="class")
    require_columns(other, other_column, role="class")
    match = _match_rows(cnn, other, id_column, positive_angle(radius, "radius"), ra_column, dec_column)
    mine = np.ma.filled(np.ma.asarray(cnn[class_column]).astype(str), "")
    theirs = np.full(len(cnn), "", dtype=object)
    matched = match >= 0
    theirs[matched] = np.ma.filled(np.ma.asarray(other[other_column]).astype(str), "")[match[matched]]
    usable = matched & (mine != "") & (theirs != "")
    rows_classes = sorted(set(mine[usable]))
    other_classes = sorted(set(theirs[usable]))
    result = Table({class_column: rows_classes,
                    "N_gal": [int(np.sum(usable & (mine == c))) for c in rows_classes]})
    for o in other_classes:
        result[o] = [int(np.sum(usable & (mine == c) & (theirs == o))) for c in rows_classes]
    result.meta["provenance"] = provenance("crosstab", class_column=class_column, other_column=other_column,
                                           match=f"id {id_column}" if id_column else f"sky within {radius}")
    result.meta.update(n_matched=int(matched.sum()), other_column=other_column,
                       match=f"id {id_column}" if id_column else f"sky within {radius}")
    return result


def labelled_probabilities(classified, truth_column, classes):
    """The class probabilities and true class indices of the classified rows whose label is a class.

    What every calibration measure reads (`~galzoo_cnn.calibration`): rows
    classified ``ok`` whose ``truth_column`` is one of ``classes``, the
    ``prob_<class>`` columns in the order of ``classes``.

    Parameters
    ----------
    classified : `~astropy.table.Table`
        Output of `~galzoo_cnn.classify_table` with a label column.
    truth_column : str
        True class of each row.
    classes : sequence of str
        The model's classes, in its output order.

    Returns
    -------
    probabilities : `numpy.ndarray`
        ``(n_kept, n_classes)``.
    labels : `numpy.ndarray` of int
        Index of each kept row's true class in ``classes``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import labelled_probabilities
    >>> t = Table({"truth": ["a", "b", "x"], "prob_a": [0.9, 0.3, 0.5], "prob_b": [0.1, 0.7, 0.5],
    ...            "status": ["ok", "ok", "ok"]})
    >>> p, labels = labelled_probabilities(t, "truth", ["a", "b"])
    >>> p.tolist(), labels.tolist()
    ([[0.9, 0.1], [0.3, 0.7]], [0, 1])
    """
    classes = list(classes)
    truth = np.asarray(classified[truth_column]).astype(str)
    keep = (np.asarray(classified["status"]) == "ok") & np.isin(truth, classes)
    probabilities = np.column_stack([np.ma.getdata(classified[f"prob_{c}"])[keep] for c in classes])
    return probabilities, np.array([classes.index(t) for t in truth[keep]], dtype=int)


def _classified_labels(model, table, truth_column, fits, *, without=None, **options):
    """`labelled_probabilities` of ``table`` classified by ``model`` (a single-label model, else an error
    starting with ``fits``), with the card entry ``without`` left out while classifying (the entry
    being refitted) and put back after."""
    from .classify import classify_table

    if not isinstance(getattr(model, "objective", None), SingleLabel):
        raise InputError(f"{fits} of a single-label (softmax) model")
    table = as_table(table)
    require_columns(table, truth_column, role="label")
    previous = model.card.pop(without, None) if without else None
    try:
        classified = classify_table(table, model=model, overwrite=True, **options)
    finally:
        if previous is not None:
            model.card[without] = previous
    return labelled_probabilities(classified, truth_column, model.classes)


def calibrate_model(model, table, *, truth_column="gz2_five_class", image_column="filename", image_dir=None,
                    n_bins=CALIBRATION_BINS, only_if_better=True, **options):
    """Fit ``model``'s temperature on a labelled table and store it in its card.

    The rows are classified through `~galzoo_cnn.classify_table` (the one
    prediction path, so the images are read as a user's are) with the
    model's current temperature removed; `fit_temperature` fits ``T`` on
    the rows classified ``ok``.  ``model.card['calibration']`` then holds
    ``temperature``, ``n``, ``ece_before`` and ``ece_after``; with
    ``only_if_better`` the temperature stays 1 unless it lowers the ECE.
    Use rows the model was not trained on (its validation split); save the
    model afterwards (`~galzoo_cnn.models.save_model`) to keep it.

    Parameters
    ----------
    model : `~galzoo_cnn.models.GalaxyClassifier`
        A single-label (softmax) model.
    table : `~astropy.table.Table` or path
        Labelled galaxies with images.
    truth_column : str
        True class of each row (one of the model's classes; other rows are
        left out).
    image_column, image_dir
        As for `~galzoo_cnn.classify_table`.
    n_bins : int
        Bins of the calibration error.
    only_if_better : bool
        Keep ``T = 1`` where the fitted temperature does not lower the ECE.
    **options
        More `~galzoo_cnn.classify_table` options (``batch_size``, ``tta``...).

    Returns
    -------
    dict
        The ``calibration`` entry written into the card.

    Examples
    --------
    >>> from galzoo_cnn import five_class_labels
    >>> from galzoo_cnn.evaluation import calibrate_model
    >>> from galzoo_cnn.models import load_model
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> sample, image_dir = load_demo_sample()
    >>> model = load_model("sample-gz2")
    >>> entry = calibrate_model(model, sample, truth_column="gz2_five_class", image_dir=image_dir,
    ...                         progress=False)  # doctest: +SKIP
    >>> sorted(entry)  # doctest: +SKIP
    ['ece_after', 'ece_before', 'fitted_on', 'method', 'n', 'temperature']
    """
    probabilities, labels = _classified_labels(
        model, table, truth_column, "calibrate_model fits the temperature", without="calibration",
        image_column=image_column, image_dir=image_dir, **options)
    if len(labels) < 2:
        raise InputError(f"fewer than two rows of {truth_column!r} are of the model's classes and classified")
    entry = temperature_entry(probabilities, labels, n_bins=n_bins, only_if_better=only_if_better)
    model.card["calibration"] = entry
    return entry


def balance_model(model, table, *, truth_column="gz2_five_class", image_column="filename", image_dir=None,
                  taus=DECISION_TAUS, **options):
    """Fit ``model``'s ``'balanced'`` decision on a labelled table and store it in its card.

    The rows are classified through `~galzoo_cnn.classify_table` (the one
    prediction path, with the card's temperature);
    `~galzoo_cnn.calibration.decision_entry` fits
    the per-class factors on the rows classified ``ok``, and
    ``model.card['decision']`` holds them.  ``classify_table(...,
    decision='balanced')`` then uses them.  Use rows the model was not
    trained on (its validation split); save the model afterwards
    (`~galzoo_cnn.models.save_model`) to keep it.

    Parameters
    ----------
    model : `~galzoo_cnn.models.GalaxyClassifier`
        A single-label (softmax) model.
    table : `~astropy.table.Table` or path
        Labelled galaxies with images, with rows of every class.
    truth_column : str
        True class of each row (rows of other values are left out).
    image_column, image_dir
        As for `~galzoo_cnn.classify_table`.
    taus : sequence of float
        Exponents of the prior to try (`~galzoo_cnn.calibration.decision_entry`).
    **options
        More `~galzoo_cnn.classify_table` options (``batch_size``, ``tta``...).

    Returns
    -------
    dict
        The ``decision`` entry written into the card.

    Examples
    --------
    The bundled test rows of ``sample-gz2`` (labels only: the images are the
    Kaggle GZ2 set's, not bundled):

    >>> from importlib.resources import files
    >>> from astropy.table import Table
    >>> from galzoo_cnn import classify_table
    >>> from galzoo_cnn.evaluation import balance_model
    >>> from galzoo_cnn.models import load_model
    >>> rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")[:800]
    >>> model = load_model("sample-gz2")
    >>> entry = balance_model(model, rows, image_dir="gz2_kaggle_5class/images",
    ...                       progress=False)  # doctest: +SKIP
    >>> max(entry["weights"], key=entry["weights"].get)  # doctest: +SKIP
    'cigar_shaped'
    >>> classify_table(rows, model=model, image_dir="gz2_kaggle_5class/images",
    ...                decision="balanced")  # doctest: +SKIP
    """
    probabilities, labels = _classified_labels(
        model, table, truth_column, "balance_model fits the decision", image_column=image_column,
        image_dir=image_dir, **options)
    entry = decision_entry(probabilities, labels, model.classes, taus=taus,
                           fitted_on=f"{len(labels)} rows of {truth_column!r}")
    model.card["decision"] = entry
    return entry
