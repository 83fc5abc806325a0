# Licensed under a 3-clause BSD style license - see LICENSE
"""
Calibration of a classifier's probabilities: how often a class given with
probability 0.9 is right.

A catalogue's probabilities are read as probabilities (a user keeps the
galaxies with ``prob_spiral > 0.8``), so they should match the observed
frequencies.  `calibration_error` measures the top-label expected
calibration error (ECE: the mean gap between confidence and accuracy over
bins of confidence, weighted by their counts), `reliability_table` gives the
bins (for the top label and for each class one-vs-rest), and
`fit_temperature` fits temperature scaling (Guo et al. 2017, ICML: the
logits divided by one number ``T`` fitted on held-out rows by maximum
likelihood), which leaves every row's class unchanged.  A model card stores
``T`` under ``calibration`` and `~galzoo_cnn.models.GalaxyClassifier.predict_proba`
applies it, once; training fits it on the validation split
(`~galzoo_cnn.training.train`), `~galzoo_cnn.evaluation.calibrate_model`
on any labelled table.

The probabilities also decide the class.  The class of highest probability
finds a rare class less often than the others; `decision_entry` fits the
per-class factors of the ``'balanced'`` decision on held-out rows (logit
adjustment, Menon et al. 2021), which a card stores under ``decision``
(`~galzoo_cnn.evaluation.balance_model`; `~galzoo_cnn.objectives.decided_classes`
applies them); the probabilities themselves stay as calibrated.

Examples
--------
>>> import numpy as np
>>> from galzoo_cnn.calibration import calibration_error
>>> p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
>>> float(round(calibration_error(p, [0, 0, 0, 1], n_bins=10), 3))   # 0.9 right twice, 0.6 right half
0.1
"""

import numpy as np
from astropy.table import QTable

from .exceptions import InputError
from .tables import check_integer

__all__ = ["calibration_error", "calibration_floor", "reliability_table", "fit_temperature",
           "apply_temperature", "temperature_entry", "decision_entry", "CALIBRATION_BINS", "DECISION_TAUS"]

#: Bins of confidence of the calibration error (equal widths over [0, 1]).
CALIBRATION_BINS = 15


def _checked(probabilities, labels):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise InputError(f"probabilities must be (n_rows, n_classes) with one label per row; got shapes "
                         f"{probabilities.shape} and {labels.shape}")
    if labels.dtype.kind not in "iu" or (len(labels) and (labels.min() < 0
                                                          or labels.max() >= probabilities.shape[1])):
        raise InputError(f"labels must be class indices in [0, {probabilities.shape[1]})")
    if not np.isfinite(probabilities).all():
        raise InputError("probabilities must be finite")
    return probabilities, labels.astype(np.int64)


def _confidence_bins(confidence, n_bins):
    """Equal-width bins of ``confidence`` over [0, 1]: the edges, each row's bin, and per bin the count
    and the mean confidence."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(index, confidence, n_bins) / count
    return edges, index, count, mean_confidence


def _gap(index, count, mean_confidence, correct):
    """The observed frequency of right answers per bin, and the ECE: the count-weighted mean gap between
    it and the bin's mean confidence."""
    with np.errstate(invalid="ignore"):
        frequency = np.bincount(index, correct.astype(float), len(count)) / count
    gaps = np.where(count > 0, np.abs(mean_confidence - frequency), 0.0)
    return frequency, float((count * gaps).sum() / max(count.sum(), 1))


def _binned_gap(confidence, correct, n_bins):
    """Per equal-width bin of ``confidence``: count, mean confidence, observed frequency; and the ECE."""
    edges, index, count, mean_confidence = _confidence_bins(confidence, n_bins)
    frequency, ece = _gap(index, count, mean_confidence, correct)
    return edges, count, mean_confidence, frequency, ece


def calibration_error(probabilities, labels, *, n_bins=CALIBRATION_BINS):
    """Top-label expected calibration error (ECE).

    The rows are binned by their highest probability (``n_bins`` equal
    bins over [0, 1]); the ECE is the count-weighted mean over the bins of
    |mean highest probability - fraction of rows whose class is right|.

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` class probabilities.
    labels : array-like of int
        True class index of each row.
    n_bins : int
        Number of confidence bins.

    Returns
    -------
    float
        The ECE, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import calibration_error
    >>> calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 1])
    0.0
    """
    check_integer("n_bins", n_bins, 1)
    probabilities, labels = _checked(probabilities, labels)
    predicted = probabilities.argmax(1)
    return _binned_gap(probabilities.max(1), predicted == labels, n_bins)[-1]


def calibration_floor(probabilities, *, n_bins=CALIBRATION_BINS, n_draws=500, seed=0):
    """The ECE that perfectly calibrated probabilities read on the same rows: the yardstick of a measured ECE.

    On a few hundred rows the binned ECE is far from zero even for perfect
    probabilities (each bin's fraction of right answers scatters around its
    mean probability).  Here each draw gives every row a label drawn from its
    own probabilities -- so the probabilities are exactly calibrated -- and
    `calibration_error` is measured; a measured ECE within the spread of these
    draws is what perfect calibration looks like on that many rows.

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` class probabilities.
    n_bins : int
        Bins of `calibration_error`.
    n_draws : int
        Number of label draws.
    seed : int
        Seed of the draws (the result is reproducible).

    Returns
    -------
    dict
        ``median`` and ``p95`` (95th percentile) of the drawn ECEs, and ``n_rows``.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import calibration_floor
    >>> p = np.tile([[0.7, 0.2, 0.1]], (300, 1))
    >>> floor = calibration_floor(p)
    >>> 0.01 < floor["median"] < floor["p95"] < 0.1   # 300 rows: about 0.02, never 0
    True
    >>> calibration_floor(np.tile([[0.7, 0.2, 0.1]], (30_000, 1)))["p95"] < 0.01
    True
    """
    check_integer("n_bins", n_bins, 1)
    check_integer("n_draws", n_draws, 1)
    probabilities, _ = _checked(probabilities, np.zeros(len(np.asarray(probabilities)), dtype=np.int64))
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(probabilities / probabilities.sum(1, keepdims=True), axis=1)
    predicted = probabilities.argmax(1)
    _, index, count, mean_confidence = _confidence_bins(probabilities.max(1), n_bins)  # the same every draw
    draws = []
    for _ in range(n_draws):
        labels = (rng.random((len(cumulative), 1)) > cumulative[:, :-1]).sum(1)
        draws.append(_gap(index, count, mean_confidence, predicted == labels)[1])
    return {"median": float(np.median(draws)), "p95": float(np.percentile(draws, 95)),
            "n_rows": len(probabilities)}


def reliability_table(probabilities, labels, *, classes=None, n_bins=10):
    """The reliability diagram's numbers: per confidence bin, how often the model is right.

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` class probabilities.
    labels : array-like of int
        True class index of each row.
    classes : sequence of str, optional
        Class names (default ``class_0``, ``class_1``...).
    n_bins : int
        Number of equal-width bins over [0, 1].

    Returns
    -------
    `~astropy.table.QTable`
        One row per bin and curve: ``curve`` (``top_label``, or a class
        one-vs-rest: P(class) against whether the row is of that class),
        ``bin_low``, ``bin_high``, ``n``, ``mean_probability``,
        ``frequency``.  ``meta`` holds ``ece`` (top label,
        `CALIBRATION_BINS` bins), ``ece_if_calibrated`` (median and 95th
        percentile of the ECE exact probabilities read on these rows,
        `calibration_floor`), ``class_ece`` (per class, one-vs-rest) and
        ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import reliability_table
    >>> p = np.array([[0.95, 0.05], [0.95, 0.05], [0.3, 0.7], [0.45, 0.55]])
    >>> t = reliability_table(p, [0, 0, 1, 0], classes=["round", "spiral"], n_bins=2)
    >>> top = t[t["curve"] == "top_label"]
    >>> top["n"].tolist(), top["frequency"].round(2).tolist()
    ([0, 4], [nan, 0.75])
    """
    check_integer("n_bins", n_bins, 1)
    probabilities, labels = _checked(probabilities, labels)
    names = list(classes) if classes is not None else [f"class_{k}" for k in range(probabilities.shape[1])]
    if len(names) != probabilities.shape[1]:
        raise InputError(f"{len(names)} class names for {probabilities.shape[1]} probability columns")
    curves = {"top_label": (probabilities.max(1), probabilities.argmax(1) == labels)}
    curves.update({name: (probabilities[:, k], labels == k) for k, name in enumerate(names)})
    rows, class_ece = [], {}
    for curve, (confidence, correct) in curves.items():
        edges, count, mean_confidence, frequency, ece = _binned_gap(confidence, correct, n_bins)
        if curve != "top_label":
            class_ece[curve] = _binned_gap(confidence, correct, CALIBRATION_BINS)[-1]
        rows += [(curve, edges[b], edges[b + 1], count[b], mean_confidence[b], frequency[b])
                 for b in range(n_bins)]
    table = QTable(rows=rows, names=("curve", "bin_low", "bin_high", "n", "mean_probability", "frequency"))
    floor = calibration_floor(probabilities, n_draws=200)
    table.meta.update(ece=calibration_error(probabilities, labels), class_ece=class_ece, n=len(labels),
                      n_bins=n_bins, ece_if_calibrated=[floor["median"], floor["p95"]])
    return table


def apply_temperature(probabilities, temperature):
    """Probabilities of a softmax model as if its logits had been divided by ``temperature``.

    ``softmax(log p / T)`` equals ``softmax(z / T)`` for logits ``z``, since
    ``log p`` differs from ``z`` by a constant per row.

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` softmax probabilities.
    temperature : float
        Positive; above 1 softens, below 1 sharpens.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import apply_temperature
    >>> apply_temperature(np.array([[0.8, 0.2]]), 1.0).round(3).tolist()
    [[0.8, 0.2]]
    """
    if not np.isfinite(temperature) or temperature <= 0:
        raise InputError(f"temperature={temperature!r} must be a positive number")
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, None)) / temperature
    logits -= logits.max(1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(1, keepdims=True)


def fit_temperature(probabilities, labels, *, bounds=(0.05, 20.0)):
    """The temperature minimising the negative log-likelihood of ``labels`` (temperature scaling).

    Fit it on rows the model was not trained on (a validation split), then
    store it in the model card (``card['calibration']['temperature']``).

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` softmax probabilities of the uncalibrated model.
    labels : array-like of int
        True class index of each row.
    bounds : (float, float)
        Range searched.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 2000)
    >>> right = rng.random(2000) < 0.75                  # the model is right 75 % of the time...
    >>> predicted = np.where(right, labels, 1 - labels)
    >>> p = np.where(predicted[:, None] == [0, 1], 0.99, 0.01)   # ...but says 99 %
    >>> bool(fit_temperature(p, labels) > 3)               # too confident: softened
    True
    """
    from scipy.optimize import minimize_scalar

    probabilities, labels = _checked(probabilities, labels)
    log_p = np.log(np.clip(probabilities, 1e-12, None))

    def nll(log_t):
        z = log_p / np.exp(log_t)
        z -= z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(z)), labels]))

    found = minimize_scalar(nll, bounds=np.log(bounds), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))



def temperature_entry(probabilities, labels, *, n_bins=CALIBRATION_BINS, only_if_better=True, fitted_on=None):
    """The ``calibration`` entry of a model card: `fit_temperature` on held-out rows, with the ECE before
    and after; with ``only_if_better`` the temperature stays 1 unless it lowers the ECE.

    Parameters
    ----------
    probabilities : array-like
        ``(n_rows, n_classes)`` softmax probabilities of the uncalibrated model.
    labels : array-like of int
        True class index of each row.
    n_bins : int
        Bins of the calibration error.
    only_if_better : bool
        Keep ``T = 1`` where the fitted temperature does not lower the ECE.
    fitted_on : str, optional
        What the rows are (default: their number).

    Returns
    -------
    dict
        ``method``, ``temperature``, ``fitted_on``, ``n``, ``ece_before``, ``ece_after``.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import temperature_entry
    >>> entry = temperature_entry(np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.99, 0.01]]),
    ...                           [0, 0, 1, 1])
    >>> entry["temperature"] > 1, entry["ece_after"] < entry["ece_before"]
    (True, True)
    """
    probabilities, labels = _checked(probabilities, labels)
    temperature = fit_temperature(probabilities, labels)
    before = calibration_error(probabilities, labels, n_bins=n_bins)
    after = calibration_error(apply_temperature(probabilities, temperature), labels, n_bins=n_bins)
    if only_if_better and after >= before:
        temperature, after = 1.0, before
    return {"method": "temperature scaling (Guo et al. 2017), fitted by maximum likelihood",
            "temperature": round(float(temperature), 4),
            "fitted_on": fitted_on or f"{len(labels)} labelled rows", "n": int(len(labels)),
            "ece_before": round(float(before), 5), "ece_after": round(float(after), 5)}


#: Exponents ``tau`` of the prior that `decision_entry` tries (0: the class of highest probability).
DECISION_TAUS = tuple(round(0.05 * k, 2) for k in range(21))


def decision_entry(probabilities, labels, classes, *, taus=DECISION_TAUS, fitted_on=None):
    """The ``decision`` entry of a model card: per-class factors that balance the recall of the classes.

    Logit adjustment (Menon et al. 2021, ICLR): the predicted class is the
    one of highest ``p_k / prior_k ** tau``, where ``prior_k`` is the
    fraction of class ``k`` among the rows given.  ``tau`` is the value of
    ``taus`` of highest balanced accuracy (the mean recall over the
    classes) on those rows, the smallest where several tie; ``tau = 0`` is
    the class of highest probability.  A class 2 % of the rows (the
    cigar-shaped galaxies of GZ2) is otherwise found less often than the
    others because its probability rarely comes out on top.

    Parameters
    ----------
    probabilities : `numpy.ndarray`
        ``(n, n_classes)`` class probabilities of labelled rows the model was
        not trained on (its validation split).
    labels : `numpy.ndarray` of int
        Index of each row's true class in ``classes``.
    classes : sequence of str
        The model's classes, in its output order.
    taus : sequence of float
        Exponents to try.
    fitted_on : str, optional
        What the rows are, for the card.

    Returns
    -------
    dict
        ``method``, ``tau``, ``prior``, ``weights`` (the factor of each
        class, what `~galzoo_cnn.objectives.decided_classes` multiplies by),
        ``fitted_on``, ``n``, the accuracy and balanced accuracy of the rows
        before and after, and the balanced accuracy at each ``tau`` tried.

    Examples
    --------
    A rare class whose probability rarely reaches the top:

    >>> import numpy as np
    >>> from galzoo_cnn.calibration import decision_entry
    >>> p = np.array([[0.9, 0.1]] * 6 + [[0.6, 0.4]] * 2 + [[0.45, 0.55]])
    >>> labels = np.array([0] * 6 + [1] * 3)
    >>> entry = decision_entry(p, labels, ["common", "rare"])
    >>> entry["tau"] > 0, entry["balanced_accuracy_before"], entry["balanced_accuracy_after"]
    (True, 0.6667, 1.0)
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    classes = [str(c) for c in classes]
    probabilities, labels = _checked(probabilities, labels)
    if probabilities.shape[1] != len(classes):
        raise InputError(f"{len(classes)} class names for {probabilities.shape[1]} probability columns")
    prior = np.bincount(labels, minlength=len(classes)) / max(len(labels), 1)
    if (prior == 0).any():
        missing = [c for c, f in zip(classes, prior) if f == 0]
        raise InputError(f"decision_entry needs rows of every class; none of {missing}")

    def scores(tau):
        predicted = (probabilities * prior ** -tau).argmax(1)
        return balanced_accuracy_score(labels, predicted), accuracy_score(labels, predicted)

    by_tau = {tau: scores(tau) for tau in taus}
    tau = max(by_tau, key=lambda t: (round(by_tau[t][0], 12), -t))
    weights = prior ** -tau
    weights = weights / weights.min()  # the most common class keeps its probability
    (balanced_before, accuracy_before), (balanced_after, accuracy_after) = scores(0.0), by_tau[tau]
    return {"method": "logit adjustment (Menon et al. 2021): the class of highest p_k / prior_k**tau, tau of "
                      "highest balanced accuracy",
            "tau": float(tau), "prior": {c: round(float(f), 5) for c, f in zip(classes, prior)},
            "weights": {c: round(float(w), 5) for c, w in zip(classes, weights)},
            "fitted_on": fitted_on or f"{len(labels)} labelled rows", "n": int(len(labels)),
            "accuracy_before": round(float(accuracy_before), 4),
            "accuracy_after": round(float(accuracy_after), 4),
            "balanced_accuracy_before": round(float(balanced_before), 4),
            "balanced_accuracy_after": round(float(balanced_after), 4),
            "balanced_accuracy_by_tau": {f"{t:g}": round(float(v[0]), 4) for t, v in by_tau.items()}}
