# Licensed under a 3-clause BSD style license - see LICENSE
"""The measures of a classifier, computed in one place: a training run's test metrics (the objectives),
`galzoo_cnn.evaluation` and the ROC figure all call these, so a model card and an evaluation of the
same rows give the same numbers.  scikit-learn is imported inside: the catalogue stages import the
objectives without it."""

import warnings

import numpy as np

__all__ = ["single_label_scores", "single_label_intervals", "known_labels", "feature_auc",
           "feature_auc_interval", "mean_auc_interval", "mean_auc"]


#: Drawn rows counted at once by the bootstrap intervals (drawings x rows): bounds their memory on large
#: tables.
_BOOTSTRAP_CELLS = 2_000_000


def single_label_scores(truth, predicted, labels):
    """Accuracy, per-label precision, recall and F1 (NaN where undefined), and the confusion matrix
    (rows true, columns predicted) of one class per object.

    Examples
    --------
    >>> from galzoo_cnn.utils._metrics import single_label_scores
    >>> s = single_label_scores(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(s["accuracy"], 3), s["recall"].tolist(), s["confusion_matrix"]
    (0.667, [0.5, 1.0], [[1, 1], [0, 1]])
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(truth, predicted, labels=labels, average=None,
                                                               zero_division=np.nan)
    return {"accuracy": float(accuracy_score(truth, predicted)), "precision": precision, "recall": recall,
            "f1": f1, "confusion_matrix": confusion_matrix(truth, predicted, labels=labels).tolist()}


def _drawings(n_rows, n_bootstrap, seed):
    """The bootstrap drawings of ``n_rows`` rows with replacement, a chunk of drawings at a time:
    ``(n_drawings, n_rows)`` row numbers, from one generator seeded ``seed``."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CELLS // max(1, n_rows))
    for start in range(0, int(n_bootstrap), chunk):
        yield rng.integers(0, n_rows, (min(chunk, int(n_bootstrap) - start), n_rows))


def _tally(values, n_values):
    """How many times each drawing (a row of ``values``) holds each of ``0 .. n_values - 1``."""
    offsets = n_values * np.arange(len(values))[:, None]
    return np.bincount((values + offsets).ravel(), minlength=len(values) * n_values).reshape(len(values), -1)


def _percentiles(values, confidence):
    """The two-sided percentile interval over the first axis, NaN (undefined) drawings left out."""
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():  # a class never predicted in a resampling has no precision
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(values, [tail, 100 - tail], axis=0)


def single_label_intervals(truth, predicted, labels, *, n_bootstrap=1000, confidence=0.95, seed=0):
    """Bootstrap percentile intervals of `single_label_scores`: the rows drawn again with replacement.

    Each drawing's confusion matrix is counted at once from the rows' (true, predicted) pairs, so the
    scores are those `single_label_scores` gives on the drawn rows (rows of other labels count as
    in scikit-learn: wrong for the labels they were given or taken for).

    Parameters
    ----------
    truth, predicted, labels
        As in `single_label_scores`.
    n_bootstrap : int
        Drawings (at least 1).
    confidence : float
        Two-sided coverage of the percentile intervals.
    seed : int
        Seed of the drawings' generator (`numpy.random.default_rng`).

    Returns
    -------
    low, high : `~numpy.ndarray`
        ``(3, n_labels)``: precision, recall and F1; NaN where no drawing defines one.
    accuracy_low, accuracy_high : float

    Examples
    --------
    >>> from galzoo_cnn.utils._metrics import single_label_intervals
    >>> low, high, *accuracy = single_label_intervals(list("aabbab"), list("abbbaa"), ["a", "b"])
    >>> low.shape, bool(0 <= accuracy[0] < 0.5 < accuracy[1] <= 1)
    ((3, 2), True)
    """
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    n_rows, n_labels = len(truth), len(labels)
    # each label's number, n_labels for any other value: a pair's code indexes a flattened matrix
    code = {label: k for k, label in enumerate(labels)}
    pairs = np.array([code.get(t, n_labels) * (n_labels + 1) + code.get(p, n_labels)
                      for t, p in zip(truth.tolist(), predicted.tolist())], dtype=np.int64)
    correct = truth == predicted
    scores, accuracies = [], []
    for index in _drawings(n_rows, n_bootstrap, seed):
        matrices = _tally(pairs[index], (n_labels + 1) ** 2).reshape(len(index), n_labels + 1, -1)
        hits = np.diagonal(matrices, axis1=1, axis2=2)[:, :n_labels]
        called, true = matrices.sum(axis=1)[:, :n_labels], matrices.sum(axis=2)[:, :n_labels]
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: undefined, as zero_division=nan
            scores.append(np.stack([hits / called, hits / true, 2 * hits / (called + true)], axis=1))
        accuracies.append(correct[index].mean(axis=1))
    low, high = _percentiles(np.concatenate(scores), confidence)
    accuracy_low, accuracy_high = _percentiles(np.concatenate(accuracies), confidence)
    return low, high, float(accuracy_low), float(accuracy_high)


#: A yes/no target counts as yes from this value: a label (1 / 0) or a volunteers' vote fraction
#: (`~galzoo_cnn.labels.feature_fractions`), yes at `~galzoo_cnn.labels.feature_labels`' default threshold.
YES_FROM = 0.5


def known_labels(labels, scores):
    """The yes/no labels that are known (not masked, not NaN) as booleans (`YES_FROM`), and their scores."""
    labels = np.ma.masked_invalid(np.ma.asarray(labels, dtype=float))
    known = ~np.ma.getmaskarray(labels)
    yes = np.asarray(labels.filled(0), dtype=float) >= YES_FROM
    return yes[known], np.asarray(scores, dtype=float)[known]


def feature_auc(labels, scores):
    """ROC AUC of one yes/no output over its known labels; NaN where they are all one answer.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.utils._metrics import feature_auc
    >>> feature_auc([1, 0, np.nan, 1], [0.9, 0.2, 0.99, 0.4]), feature_auc([1, 1], [0.1, 0.2])
    (1.0, nan)
    """
    from sklearn.metrics import roc_auc_score

    y, p = known_labels(labels, scores)
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def _ranking(labels, scores):
    """One output's known rows as `_weighted_auc` reads them: the negatives' row numbers in the order of
    their scores, the positives' row numbers, and for each positive how many negatives score below it
    and how many at most as high (the two differ by its ties)."""
    known = np.flatnonzero(np.isfinite(labels))
    positive = labels[known] >= YES_FROM
    negatives = known[~positive][np.argsort(scores[known[~positive]], kind="stable")]
    ordered, positives = scores[negatives], known[positive]
    return (negatives, positives, *(np.searchsorted(ordered, scores[positives], side=side)
                                    for side in ("left", "right")))


def _weighted_auc(counts, negatives, positives, below, not_above):
    """The ROC AUC of each drawing, ``counts`` ``(n_rows, n_drawings)`` saying how often it drew each row:
    the Mann-Whitney count of (positive, negative) pairs with the positive scored higher, ties counting
    half (as `sklearn.metrics.roc_auc_score`), from the negatives sorted once (`_ranking`) instead of
    ranking every drawing.  NaN where a drawing holds one answer only."""
    # drawn negatives scored below each sorted position: a cumulative sum with a leading zero
    cumulative = np.zeros((len(negatives) + 1, counts.shape[1]))
    np.cumsum(counts[negatives], axis=0, out=cumulative[1:])
    drawn = counts[positives]
    pairs = drawn.sum(axis=0) * cumulative[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (drawn * (cumulative[below] + cumulative[not_above])).sum(axis=0) / (2 * pairs)
    return np.where(pairs > 0, auc, np.nan)


def feature_auc_interval(labels, scores, *, n_bootstrap=1000, confidence=0.95, seed=0):
    """Bootstrap percentile interval of `feature_auc`: the known rows resampled with replacement.

    Each resampling's AUC is the Mann-Whitney statistic (ties count half, as in
    `sklearn.metrics.roc_auc_score`); resamplings drawn with one answer only are left out.  (NaN, NaN)
    where the known labels are all one answer or ``n_bootstrap`` is 0.

    Examples
    --------
    >>> from galzoo_cnn.utils._metrics import feature_auc_interval
    >>> low, high = feature_auc_interval([1, 0, 1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3, 0.2, 0.7])
    >>> bool(0 <= low < 0.67 < high <= 1)
    True
    """
    y, p = known_labels(labels, scores)
    if not 0 < y.sum() < len(y):
        return float("nan"), float("nan")
    # the known rows as one output of `mean_auc_interval`: the same drawings and statistic
    return mean_auc_interval(y[:, None].astype(float), p[:, None], n_bootstrap=n_bootstrap,
                             confidence=confidence, seed=seed)


def mean_auc_interval(labels, scores, *, n_bootstrap=1000, confidence=0.95, seed=0):
    """Bootstrap percentile interval of the mean ROC AUC of several yes/no outputs over the same rows.

    The rows are drawn again with replacement together (a galaxy brings all its labels), each output's
    AUC is taken over the drawn rows whose label is known (NaN: unknown), and the drawings where some
    output's known labels are all one answer are left out.  Each output's rows are sorted once; a
    drawing is the number of times it drew each row, so that its AUC costs no sort.

    Parameters
    ----------
    labels : array-like
        ``(n_rows, n_outputs)``: 1 / 0, NaN where unknown.
    scores : array-like
        ``(n_rows, n_outputs)`` probabilities.
    n_bootstrap, confidence, seed
        As in `single_label_intervals`; no drawing (0) gives (NaN, NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.utils._metrics import mean_auc_interval
    >>> labels = np.array([[1, 0], [0, 1], [1, np.nan], [0, 0], [1, 1], [0, 0]])
    >>> scores = np.array([[0.9, 0.2], [0.1, 0.8], [0.8, 0.5], [0.3, 0.1], [0.2, 0.7], [0.7, 0.3]])
    >>> low, high = mean_auc_interval(labels, scores)
    >>> bool(0 <= low < high <= 1)
    True
    """
    labels, scores = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    if n_bootstrap <= 0 or not labels.size:
        return float("nan"), float("nan")
    n_rows, n_outputs = labels.shape
    rankings = [_ranking(labels[:, k], scores[:, k]) for k in range(n_outputs)]
    means = []
    for index in _drawings(n_rows, n_bootstrap, seed):
        # how often each row was drawn: the AUC of a drawing is that of its rows weighted so
        counts = _tally(index, n_rows).T.copy()
        aucs = np.column_stack([_weighted_auc(counts, *ranking) for ranking in rankings])
        means.append(aucs[np.isfinite(aucs).all(axis=1)].mean(axis=1))
    drawn_means = np.concatenate(means)
    if not len(drawn_means):
        return float("nan"), float("nan")
    low, high = _percentiles(drawn_means, confidence)
    return float(low), float(high)


def mean_auc(table, label_columns, score_columns, *, n_bootstrap=1000, confidence=0.95, seed=0):
    """``mean_roc_auc`` over the outputs of ``table`` whose known labels hold both answers, and its interval
    (`mean_auc_interval`: ``mean_roc_auc_low`` / ``_high``); labels masked or NaN where unknown.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.utils._metrics import mean_auc
    >>> t = Table({"label_a": [1, 0, 1, 0], "label_b": [1, 1, 1, 1],
    ...            "p_a": [0.9, 0.2, 0.6, 0.7], "p_b": [0.5] * 4})
    >>> summary = mean_auc(t, ["label_a", "label_b"], ["p_a", "p_b"], n_bootstrap=0)
    >>> summary["mean_roc_auc"], summary["n_in_mean"]
    (0.75, 1)
    """
    columns = [(np.ma.filled(np.ma.masked_invalid(np.ma.asarray(table[y], dtype=float)), np.nan),
                np.asarray(table[p], dtype=float)) for y, p in zip(label_columns, score_columns)]
    aucs = [feature_auc(y, p) for y, p in columns]
    kept = [column for column, auc in zip(columns, aucs) if np.isfinite(auc)]
    if not kept:
        return {"mean_roc_auc": float("nan"), "mean_roc_auc_low": float("nan"),
                "mean_roc_auc_high": float("nan"), "n_in_mean": 0}
    labels, scores = (np.column_stack(side) for side in zip(*kept))
    low, high = mean_auc_interval(labels, scores, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    return {"mean_roc_auc": float(np.nanmean(aucs)), "mean_roc_auc_low": low,
            "mean_roc_auc_high": high, "n_in_mean": len(kept)}
