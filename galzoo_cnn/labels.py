# Licensed under a 3-clause BSD style license - see LICENSE
"""
Training labels from Galaxy Zoo 2 vote tables.

`five_class_labels` assigns the five classes of the paper's single-label
classifier; `feature_labels` gives the 34 boolean detailed-feature labels of
its multi-label classifier, masked where Galaxy Zoo 2 did not sample the
question well enough to know, and `feature_fractions` their vote fractions
(soft labels), masked alike.  They take a table (or a file path) in the
Willett et al. (2013) or Hart et al. (2016) layout, or the Kaggle
challenge's, and return a new table.

Examples
--------
>>> from galzoo_cnn.datasets import gz2_sample_path
>>> from galzoo_cnn.labels import five_class_labels
>>> labelled = five_class_labels(gz2_sample_path(layout="hart2016"))
>>> labelled.meta["five_class"]["counts"]["spiral"] > 0
True
"""

import json
import warnings

import numpy as np
from astropy import log
from astropy.table import MaskedColumn, Table

from . import taxonomy
from .columns import CRITERIA_COLUMN, FEATURE_PREFIX, FIVE_CLASS_COLUMN, FRACTION_PREFIX, PROVENANCE_KEY
from .exceptions import GalzooWarning, InputError, InputTypeError, MissingColumnsError
from .tables import as_table, check_integer, provenance, refuse_overwrite, require_columns
from .utils._deprecation import keyword_options
from .utils._values import floats

__all__ = ["five_class_labels", "feature_labels", "feature_fractions", "decals_feature_labels",
           "well_sampled", "min_votes_per_row", "label_summary", "FIVE_CLASS_COLUMN", "CRITERIA_COLUMN",
           "FEATURE_PREFIX"]



def _check_fractions(fractions):
    if fractions not in taxonomy.FRACTION_SUFFIXES:
        raise InputError(
            f"fractions={fractions!r} is not a GZ2 vote-fraction suffix; expected one of "
            f"{taxonomy.FRACTION_SUFFIXES}"
        )


def _check_votes(table, fraction_columns, count_columns):
    """Refuse vote fractions outside [0, 1] and negative vote counts, naming column, row and value."""
    for name in dict.fromkeys(fraction_columns):
        values = floats(table, name)
        bad = ~np.isnan(values) & ((values < 0) | (values > 1))  # NaN is a missing value; +-inf is not
        if bad.any():
            row = int(np.argmax(bad))
            hint = ("; the column looks like percentages: divide it by 100"
                    if np.nanmax(values) <= 100 and np.nanmin(values) >= 0 else "")
            raise InputError(f"column {name!r}, row {row}: vote fraction {values[row]:g} is outside [0, 1] "
                             f"({int(bad.sum())} such rows){hint}")
    for name in dict.fromkeys(count_columns):
        values = floats(table, name)
        bad = ~np.isnan(values) & ((values < 0) | ~np.isfinite(values))
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(f"column {name!r}, row {row}: vote count {values[row]:g} is not a finite "
                             f"number >= 0 ({int(bad.sum())} such rows)")


def _check_threshold(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name}={value!r} must be a number in [0, 1]") from None
    if not 0 <= value <= 1:
        raise InputError(f"{name}={value!r} is outside [0, 1]: thresholds are vote fractions")
    return value


def _row_depths(table, depth):
    """Per-row imaging depth: 'coadd' for Stripe 82 coadd rows, else 'normal'."""
    if depth in taxonomy.DEPTHS:
        return np.full(len(table), depth)
    if depth != "auto":
        raise InputError(f"depth={depth!r}; expected 'auto' or one of {tuple(taxonomy.DEPTHS)}")
    if "sample" not in table.colnames:
        return np.full(len(table), "normal")
    # Willett et al. (2013) table 5 truncates 'stripe82_coadd_N' to 'stripe82_c'.
    sample = np.char.lower(np.asarray(table["sample"]).astype(str))
    return np.where(np.char.startswith(sample, "stripe82_c"), "coadd", "normal")


@keyword_options
def min_votes_per_row(table, min_votes=None, depth="auto"):
    """Minimum number of votes a task needs, for each row of ``table``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        GZ2 table.
    min_votes : int or None
        One minimum for every row.  `None` takes it from each row's depth:
        20 votes at normal depth, 10 in the Stripe 82 coadd (Willett et al. 2013).
    depth : {'auto', 'normal', 'coadd'}
        ``'auto'`` treats rows whose ``sample`` column starts with
        ``stripe82_c`` as coadd and every other row as normal depth.

    Returns
    -------
    `~numpy.ndarray` of int

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.labels import min_votes_per_row
    >>> min_votes_per_row(Table({"sample": ["original", "stripe82_coadd_1"]}))
    array([20, 10])
    """
    if min_votes is not None:
        if not isinstance(min_votes, (int, float, np.integer, np.floating)) or isinstance(min_votes, bool) \
                or not np.isfinite(min_votes) or int(min_votes) != min_votes or min_votes < 0:
            raise InputError(f"min_votes={min_votes!r} must be a non-negative integer")
        return np.full(len(table), int(min_votes))
    depths = _row_depths(table, depth)
    return np.where(depths == "coadd", taxonomy.DEPTHS["coadd"], taxonomy.DEPTHS["normal"])


def _task_votes(table, task_code):
    return sum(floats(table, a.column("count")) for a in taxonomy.task(task_code).answers)


def _task_columns(task_code, fractions):
    columns = [a.column("count") for a in taxonomy.task(task_code).answers]
    for required, _, _ in taxonomy.well_sampled_conditions(task_code):
        columns.append(required.column(fractions))
        columns += [a.column("count") for a in taxonomy.task(required.task).answers]
    return columns


class _CatalogueVotes:
    """Vote fractions and counts of the GZ2 catalogues (Willett et al. 2013; Hart et al. 2016 layout)."""

    def __init__(self, table, fractions, min_votes, depth):
        _check_fractions(fractions)
        self.table, self.fractions = table, fractions
        self.layout = taxonomy.detect_layout(table) or "GZ2 catalogue columns"
        self.needed = min_votes_per_row(table, min_votes=min_votes, depth=depth)
        self.coadd = _row_depths(table, depth) == "coadd"

    def require(self, answers, purpose):
        """Check the columns the answers' fractions and their tasks' well-sampled rule need."""
        columns = [a.column(self.fractions) for a in answers]
        for t in dict.fromkeys(a.task for a in answers):
            columns += _task_columns(t, self.fractions)
        _require_gz2(self.table, list(dict.fromkeys(columns)), purpose)
        self.check_values()

    def check_values(self):
        """Every vote column the table has, not only those needed: a value out of range anywhere means
        the columns are not what their names say."""
        present = set(self.table.colnames)
        fraction_columns = [a.column(self.fractions) for a in taxonomy.GZ2_ANSWERS]
        count_columns = [a.column("count") for a in taxonomy.GZ2_ANSWERS]
        _check_votes(self.table, [c for c in fraction_columns if c in present],
                     [c for c in count_columns if c in present])

    def has(self, task_code):
        return True

    def fraction(self, answer):
        return floats(self.table, answer.column(self.fractions))

    def votes(self, task_code):
        return _task_votes(self.table, task_code)


class _KaggleVotes:
    """The Kaggle challenge's cumulative fractions (`galzoo_cnn.taxonomy.kaggle_table`): per-question
    fractions are each column over its task's sum, the task's votes that sum times
    ``taxonomy.KAGGLE_CLASSIFICATIONS``; normal-depth thresholds (the challenge's images are the main
    sample's)."""

    layout = "kaggle"
    fractions = "kaggle"

    def __init__(self, table, min_votes):
        self.table = table
        self.needed = min_votes_per_row(table, min_votes=min_votes, depth="normal")
        self.coadd = np.zeros(len(table), dtype=bool)

    def require(self, answers, purpose):
        present = [a.kaggle_column for a in taxonomy.GZ2_ANSWERS if a.kaggle_column in self.table.colnames]
        if not present:
            raise MissingColumnsError(f"{purpose}: no Kaggle answer column (Class1.1 ... Class11.6) in the "
                                      f"table")
        _check_votes(self.table, present, [])
        for t in taxonomy.GZ2_TASKS:  # the answers of a task sum to the fraction that reached it: <= 1
            if self.has(t.code):
                total = self.reached(t.code)
                bad = total > 1 + 1e-3
                if bad.any():
                    row = int(np.argmax(bad))
                    columns = ", ".join(a.kaggle_column for a in t.answers)
                    raise InputError(f"columns {columns}, row {row}: they sum to {total[row]:.4g} > 1; "
                                     f"cumulative Kaggle fractions of one task sum to at most 1")

    def has(self, task_code):
        return all(a.kaggle_column in self.table.colnames for a in taxonomy.task(task_code).answers)

    def reached(self, task_code):
        return sum(floats(self.table, a.kaggle_column) for a in taxonomy.task(task_code).answers)

    def fraction(self, answer):
        if not self.has(answer.task):
            return np.full(len(self.table), np.nan)
        reached = self.reached(answer.task)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(reached > 0, floats(self.table, answer.kaggle_column) / reached, np.nan)

    def votes(self, task_code):
        if not self.has(task_code):
            return np.zeros(len(self.table))
        return self.reached(task_code) * taxonomy.KAGGLE_CLASSIFICATIONS


def _vote_source(table, layout, fractions, min_votes, depth):
    """How ``table`` gives vote fractions and votes: the GZ2 catalogues' columns or the Kaggle layout."""
    if layout is None:
        layout = "kaggle" if taxonomy.detect_layout(table) == "kaggle" else "catalogue"
    if layout == "kaggle":
        return _KaggleVotes(table, min_votes)
    if layout not in ("catalogue", *taxonomy.LAYOUTS):
        raise InputError(f"layout={layout!r}; expected one of {('kaggle', *taxonomy.LAYOUTS)} or None "
                         f"(detected)")
    return _CatalogueVotes(table, fractions, min_votes, depth)


def _well_sampled(votes, task_code):
    """Willett et al. (2013, Table 3): enough votes for the task and, on the way to it, each required
    answer above its threshold in a task with enough votes."""
    ok = votes.votes(task_code) >= votes.needed
    for required, p_coadd, p_normal in taxonomy.well_sampled_conditions(task_code):
        ok &= votes.fraction(required) > np.where(votes.coadd, p_coadd, p_normal)
        ok &= votes.votes(required.task) >= votes.needed
    return ok


@keyword_options
def well_sampled(gz2_table, task_code, fractions="debiased", min_votes=None, depth="auto", *, layout=None):
    """Whether a GZ2 task is well sampled for each galaxy (Willett et al. 2013, Table 3).

    A task is well sampled when (1) it has at least ``min_votes`` votes, and
    (2) for each answer required on the way to it, that answer's vote fraction
    exceeds its threshold and that answer's task has at least ``min_votes``
    votes.  Thresholds are those of `galzoo_cnn.taxonomy.thresholds_table`,
    the coadd column for coadd rows and the normal-depth column otherwise.

    Parameters
    ----------
    gz2_table : `~astropy.table.Table` or path
        GZ2 table.
    task_code : str
        Task code, ``'t01'`` to ``'t11'``.
    fractions, min_votes, depth, layout
        As in `feature_labels`.

    Returns
    -------
    `~numpy.ndarray` of bool

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> from galzoo_cnn.labels import well_sampled
    >>> ok = well_sampled(gz2_sample_path(layout="hart2016"), "t10")
    >>> bool(ok.any()) and not bool(ok.all())
    True
    """
    table = as_table(gz2_table, copy=False)
    votes = _vote_source(table, layout, fractions, min_votes, depth)
    votes.require(taxonomy.task(task_code).answers, f"well_sampled({task_code!r})")
    return _well_sampled(votes, task_code)


def _criteria_table(criteria):
    if criteria is None:
        return taxonomy.five_class_criteria()
    criteria = as_table(criteria)
    require_columns(criteria, ["class", "feature", "min_fraction"], role="criteria")
    for row, feature in enumerate(criteria["feature"]):
        try:
            taxonomy.answer(str(feature))
        except KeyError as err:
            raise InputError(f"criteria row {row}: {err.args[0]}") from None
    return criteria


def five_class_labels(gz2_table, *, criteria=None, fractions="debiased", min_votes=None, depth="auto",
                      layout=None, overwrite=False):
    """Five-class training labels from GZ2 vote fractions.

    A galaxy belongs to a class when every condition of that class in
    ``criteria`` holds: the vote fraction of the condition's feature is at
    least ``min_fraction``, and the task of that feature has at least
    ``min_votes`` votes.  Galaxies meeting no criterion, or two or more, get a
    masked class; the second kind is counted as ambiguous (logged and in
    ``meta``).

    Parameters
    ----------
    gz2_table : `~astropy.table.Table` or path
        GZ2 table in the Willett et al. (2013) or Hart et al. (2016) layout,
        or a FITS / VOTable / ECSV / CSV file holding one.
    criteria : `~astropy.table.Table` or None
        Columns ``class``, ``feature``, ``min_fraction``, one row per
        condition.  `None` uses `galzoo_cnn.taxonomy.five_class_criteria`.
    fractions : {'debiased', 'weighted_fraction', 'fraction'}
        Which GZ2 vote fractions to compare with the thresholds.
    min_votes : int or None
        Minimum number of votes of each task used.  `None`: 20 at normal
        depth, 10 for Stripe 82 coadd rows (see `min_votes_per_row`).
    depth : {'auto', 'normal', 'coadd'}
        How to tell the depth of each row when ``min_votes`` is `None`.
    layout : {None, 'kaggle', 'willett2013', 'hart2016'}
        How the table gives its votes (`None`: detected); see
        `feature_labels`.  With the Kaggle layout the criteria compare the
        per-question fractions (not debiased); a class whose criteria need
        answer columns the table lacks is not assigned (``meta['five_class']
        ['not_assessed']``, and a warning).
    overwrite : bool
        Replace the output columns when the table already has them (an
        earlier run); otherwise they raise, so that no result is lost.

    Returns
    -------
    `~astropy.table.Table`
        A copy of the input with two new columns: ``gz2_five_class`` (masked
        where no single class applies) and ``gz2_five_class_criteria`` (the
        classes whose criteria the galaxy met, comma-separated).
        ``meta['five_class']`` holds the counts per class, the number of
        ambiguous and unclassified galaxies and the settings used.

    Raises
    ------
    galzoo_cnn.exceptions.MissingColumnsError
        If a column needed by the criteria is missing; the message names it.

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> from galzoo_cnn.labels import five_class_labels
    >>> labelled = five_class_labels(gz2_sample_path(layout="willett2013"))
    >>> labelled["objid", "gz2_five_class"][:2]  # doctest: +IGNORE_OUTPUT
    >>> sorted(labelled.meta["five_class"]["counts"])
    ['cigar_shaped', 'completely_round', 'edge_on', 'rounded_in_between', 'spiral']
    """
    criteria = _criteria_table(criteria)
    table = as_table(gz2_table)
    features = [taxonomy.answer(str(f)) for f in criteria["feature"]]
    votes = _vote_source(table, layout, fractions, min_votes, depth)
    if votes.layout == "kaggle":
        votes.require(features, "five_class_labels")
    else:  # the catalogues: the criteria's fractions and their tasks' counts (no well-sampled chain)
        tasks = sorted({a.task for a in features})
        counts = [a.column("count") for t in tasks for a in taxonomy.task(t).answers]
        _require_gz2(table, list(dict.fromkeys([a.column(fractions) for a in features] + counts)),
                     "five_class_labels")
        votes.check_values()
    table.remove_columns(refuse_overwrite(table, [FIVE_CLASS_COLUMN, CRITERIA_COLUMN], overwrite=overwrite,
                                          earlier="an earlier five_class_labels"))

    enough_votes = {t: votes.votes(t) >= votes.needed for t in {a.task for a in features}}
    classes = list(dict.fromkeys(str(c) for c in criteria["class"]))
    # a class whose criteria need answers the table lacks (a Kaggle subset) is not assigned, never guessed
    unassessed = sorted({str(c) for c, f in zip(criteria["class"], features) if not votes.has(f.task)})
    met = np.ones((len(table), len(classes)), dtype=bool)
    for cls, feature, minimum in zip(criteria["class"], features, criteria["min_fraction"]):
        k = classes.index(str(cls))
        met[:, k] &= votes.fraction(feature) >= minimum
        met[:, k] &= enough_votes[feature.task]

    n_met = met.sum(axis=1)
    chosen = np.array(classes)[met.argmax(axis=1)] if classes else np.full(len(table), "")
    table[FIVE_CLASS_COLUMN] = MaskedColumn(
        chosen.astype(f"U{max(map(len, classes), default=1)}"), mask=n_met != 1)
    table[CRITERIA_COLUMN] = [",".join(c for c, m in zip(classes, row) if m) for row in met]
    _describe(table, [FIVE_CLASS_COLUMN, CRITERIA_COLUMN])

    summary = {
        "counts": {c: int(np.sum(met[:, k] & (n_met == 1))) for k, c in enumerate(classes)},
        "n_ambiguous": int(np.sum(n_met > 1)),
        "n_unclassified": int(np.sum(n_met == 0)),
        "fractions": votes.fractions,
        "min_votes": (f"auto (20 normal, 10 coadd){_KAGGLE_VOTES if votes.layout == 'kaggle' else ''}"
                      if min_votes is None else int(min_votes)),
        "reference": criteria.meta.get("reference", "user-supplied criteria"),
        "not_assessed": unassessed,
    }
    table.meta["five_class"] = summary
    table.meta[PROVENANCE_KEY] = provenance("five_class_labels", inputs=[gz2_table], layout=votes.layout,
                                            fractions=votes.fractions, min_votes=summary["min_votes"],
                                            depth=depth, criteria=summary["reference"])
    if unassessed:
        log.warning(f"five_class_labels: the table has no answer columns for the criteria of "
                    f"{', '.join(unassessed)}: those classes are not assigned")
    log.info(f"five_class_labels: {sum(summary['counts'].values())} labelled, "
             f"{summary['n_ambiguous']} excluded for meeting two or more criteria, "
             f"{summary['n_unclassified']} meeting none")
    return table


def feature_labels(gz2_table, *, threshold=0.5, fractions="debiased", features=None,
                   min_votes=None, depth="auto", layout=None, overwrite=False):
    """Boolean detailed-feature labels, masked where the question was not well sampled.

    For each feature, the label is True where the feature's vote fraction is
    at least ``threshold`` and False where it is below, **but masked
    (unknown)** where the feature's task is not well sampled for that galaxy
    (`well_sampled`): a galaxy few volunteers were asked about is not a
    negative example.  Masked input values also give masked labels.

    Parameters
    ----------
    gz2_table : `~astropy.table.Table` or path
        GZ2 table in the Willett et al. (2013) or Hart et al. (2016) layout,
        or a FITS / VOTable / ECSV / CSV file holding one.
    threshold : float or dict
        Vote fraction at or above which a feature counts as present; a dict
        maps feature names to thresholds (features not in it use 0.5).
    fractions : {'debiased', 'weighted_fraction', 'fraction'}
        Which GZ2 vote fractions to use.
    features : sequence of str or None
        Feature names; `None` means the 34 of
        `galzoo_cnn.taxonomy.DETAILED_FEATURES`.
    min_votes : int or None
        Minimum number of votes of a task (see `min_votes_per_row`).
    depth : {'auto', 'normal', 'coadd'}
        Which Willett et al. thresholds apply to each row.
    layout : {None, 'kaggle', 'willett2013', 'hart2016'}
        How the table gives its votes; `None` detects it.  ``'kaggle'``: the
        Kaggle Galaxy Zoo challenge's ``Class1.1`` ... ``Class11.6``
        cumulative fractions (`galzoo_cnn.taxonomy.kaggle_table`), turned
        into per-question fractions; without vote counts, a task's votes are
        estimated as `~galzoo_cnn.taxonomy.KAGGLE_CLASSIFICATIONS` times the
        fraction of volunteers who reached it, and the Willett et al.
        normal-depth rule applies to those; features of a task whose columns
        are absent are masked.  ``fractions`` and ``depth`` do not apply.
    overwrite : bool
        Replace the output columns when the table already has them (an
        earlier run); otherwise they raise, so that no result is lost.

    Returns
    -------
    `~astropy.table.Table`
        A copy of the input with one masked boolean column ``label_<feature>``
        per feature.  ``meta['feature_labels']`` holds, per feature, the
        numbers of positive, negative and unknown labels.

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> from galzoo_cnn.labels import feature_labels
    >>> labelled = feature_labels(gz2_sample_path(layout="hart2016"))
    >>> column = labelled["label_arms_tight"]
    >>> bool(column.mask.any())   # arm winding is unknown for galaxies without spiral arms
    True
    """
    features = _feature_names(features)
    if not isinstance(threshold, dict):
        threshold = dict.fromkeys(features, threshold)
    threshold = {f: _check_threshold(f"threshold[{f!r}]", v) for f, v in threshold.items()}
    unknown = set(threshold) - set(features)
    if unknown:
        raise InputError(f"threshold given for features not labelled: {sorted(unknown)}")
    table, votes, known = _known_fractions(
        gz2_table, features, FEATURE_PREFIX, "feature_labels", fractions=fractions,
        min_votes=min_votes, depth=depth, layout=layout, overwrite=overwrite)
    labels = {f: (values >= threshold.get(f, 0.5), unknown) for f, (values, unknown) in known.items()}
    _store_feature_labels(table, labels)
    table.meta[PROVENANCE_KEY] = _provenance(
        "feature_labels", gz2_table, votes, depth, min_votes,
        threshold=(json.dumps(threshold) if len(set(threshold.values())) > 1
                   else next(iter(threshold.values()), 0.5)))
    return table


def feature_fractions(gz2_table, *, fractions="debiased", features=None, min_votes=None, depth="auto",
                      layout=None, overwrite=False):
    """Detailed-feature vote fractions, masked where the question was not well sampled: soft labels.

    The fraction of the volunteers answering each feature's question who
    gave the feature's answer, where `feature_labels` would give a label,
    masked where it would not.  ``fraction_<feature> >= 0.5`` is
    `feature_labels`' ``label_<feature>`` at its default threshold; the
    fraction also says how sure the volunteers were, which a multi-label
    model can learn from (binary cross-entropy takes a fraction as its
    target).  ``sample-gz2-features`` is trained on these.

    Parameters
    ----------
    gz2_table : `~astropy.table.Table` or path
        As in `feature_labels`.
    fractions, features, min_votes, depth, layout
        As in `feature_labels`.
    overwrite : bool
        Replace ``fraction_<feature>`` columns the table already has.

    Returns
    -------
    `~astropy.table.Table`
        A copy of the input with one masked float column ``fraction_<feature>``
        per feature.

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> from galzoo_cnn.labels import feature_fractions, feature_labels
    >>> soft = feature_fractions(gz2_sample_path(layout="hart2016"), features=["bar"])
    >>> hard = feature_labels(gz2_sample_path(layout="hart2016"), features=["bar"])
    >>> bool(((soft["fraction_bar"] >= 0.5) == hard["label_bar"]).all())
    True
    """
    features = _feature_names(features)
    table, votes, known = _known_fractions(
        gz2_table, features, FRACTION_PREFIX, "feature_fractions", fractions=fractions,
        min_votes=min_votes, depth=depth, layout=layout, overwrite=overwrite)
    for feature, (values, unknown) in known.items():
        table[FRACTION_PREFIX + feature] = MaskedColumn(np.where(unknown, 0.0, values), mask=unknown)
    _describe(table, [FRACTION_PREFIX + f for f in known])
    table.meta[PROVENANCE_KEY] = _provenance("feature_fractions", gz2_table, votes, depth, min_votes)
    return table


def _feature_names(features):
    if isinstance(features, str):
        raise InputTypeError(f"features must be a list of feature names, got the string {features!r}")
    return taxonomy.DETAILED_FEATURES if features is None else tuple(features)


def _known_fractions(gz2_table, features, prefix, purpose, *, fractions, min_votes, depth, layout, overwrite):
    """The table (copied, without earlier output columns), its vote source and, per feature, the
    per-question vote fractions and where they are unknown (task not well sampled, or no value)."""
    answers = [taxonomy.answer(f) for f in features]
    table = as_table(gz2_table)
    votes = _vote_source(table, layout, fractions, min_votes, depth)
    votes.require(answers, purpose)
    table.remove_columns(refuse_overwrite(table, [prefix + a.feature for a in answers],
                                          overwrite=overwrite, earlier=f"an earlier {purpose}"))
    trusted = {t: _well_sampled(votes, t) for t in dict.fromkeys(a.task for a in answers)}
    known = {}
    for a in answers:
        values = votes.fraction(a)  # NaN where the layout lacks the task's columns: unknown, never guessed
        known[a.feature] = values, ~trusted[a.task] | np.isnan(values)
    return table, votes, known


def _provenance(function, gz2_table, votes, depth, min_votes, **more):
    return provenance(
        function, inputs=[gz2_table], layout=votes.layout, fractions=votes.fractions, depth=depth,
        min_votes=(f"auto (20 normal, 10 coadd){_KAGGLE_VOTES if votes.layout == 'kaggle' else ''}"
                   if min_votes is None else int(min_votes)), **more)


_KAGGLE_VOTES = f"; Kaggle layout: votes = {taxonomy.KAGGLE_CLASSIFICATIONS} x the fraction reaching the task"


def _store_feature_labels(table, labels):
    """Add ``label_<feature>`` (masked where unknown) for ``{feature: (present, unknown)}``, their
    counts in ``meta['feature_labels']`` and their description from the column registry."""
    summary = {}
    for feature, (present, unknown) in labels.items():
        table[FEATURE_PREFIX + feature] = MaskedColumn(present, mask=unknown, dtype=bool)
        summary[feature] = {"positive": int(np.sum(present & ~unknown)),
                            "negative": int(np.sum(~present & ~unknown)),
                            "unknown": int(np.sum(unknown))}
    table.meta["feature_labels"] = summary
    _describe(table, [FEATURE_PREFIX + f for f in labels])


def decals_feature_labels(decals_table, *, threshold=0.5, fractions="fraction", min_votes=10, features=None,
                          overwrite=False):
    """GZ2 detailed-feature labels from a Galaxy Zoo DECaLS vote table: the paper's deep test (Sect. 2.2).

    Each GZ2 feature with a GZ DECaLS counterpart
    (`galzoo_cnn.taxonomy.GZ_DECALS_TREE`, the 28 comparable features) is
    True where the vote fractions of its DECaLS answers add up to at least
    ``threshold`` and False below, **masked** where the DECaLS question had
    fewer than ``min_votes`` votes (``<task>_total-votes``) or no fraction:
    a question volunteers were hardly asked about is not a negative example.
    The columns are those of the Walmsley et al. (2022) volunteer
    catalogue (``<task>_<answer>_fraction``, ``_debiased``,
    ``<task>_total-votes``).

    Parameters
    ----------
    decals_table : `~astropy.table.Table` or path
        A GZ DECaLS table (e.g. ``gz_decals_volunteers_5``), or its file.
    threshold : float
        Summed vote fraction at or above which a feature counts as present.
    fractions : {'fraction', 'debiased'}
        Which vote fractions to use.
    min_votes : int
        Votes a DECaLS question needs for its labels to be known.  The
        paper gives none; 10 is the minimum GZ2 uses for its deepest
        imaging (Willett et al. 2013).
    features : sequence of str, optional
        GZ2 features to label; default the comparable ones among the 34
        detailed features.
    overwrite : bool
        Replace ``label_<feature>`` columns the table already has.

    Returns
    -------
    `~astropy.table.Table`
        A copy with one masked boolean ``label_<feature>`` column per
        feature, as `feature_labels` makes from GZ2 votes (so that
        `~galzoo_cnn.evaluation.feature_metrics` scores both alike);
        ``meta['feature_labels']`` counts positive, negative and unknown.

    Examples
    --------
    Two galaxies with the GZ DECaLS columns of the bar question:

    >>> from astropy.table import Table
    >>> from galzoo_cnn.labels import decals_feature_labels
    >>> t = Table({"bar_strong_fraction": [0.3, 0.0], "bar_weak_fraction": [0.3, 0.1],
    ...            "bar_no_fraction": [0.4, 0.9], "bar_total-votes": [20, 3]})
    >>> labels = decals_feature_labels(t, features=["bar", "no_bar"])
    >>> labels["label_bar"].tolist(), labels["label_no_bar"].tolist()
    ([True, None], [False, None])
    """
    tree = taxonomy.GZ_DECALS_TREE
    if fractions not in tree.fraction_suffixes:
        raise InputError(f"fractions={fractions!r} is not a GZ DECaLS vote-fraction suffix; expected one of "
                         f"{tree.fraction_suffixes}")
    if isinstance(features, str):
        raise InputTypeError(f"features must be a list of feature names, got the string {features!r}")
    threshold = _check_threshold("threshold", threshold)
    check_integer("min_votes", min_votes, 0)
    comparable = [f for f in taxonomy.DETAILED_FEATURES if f in tree.gz2_features]
    given = features is not None
    features = comparable if features is None else list(features)
    unmapped = [f for f in features if f not in tree.gz2_features]
    if unmapped:
        raise InputError(f"GZ DECaLS has no counterpart of the GZ2 feature(s) {unmapped}; comparable: "
                         f"{', '.join(tree.gz2_features)}")
    table = as_table(decals_table)
    keys = {f: tree.gz2_features[f] for f in features}
    columns = {f: [tree.column(k, fractions) for k in keys[f]] for f in features}
    if not given:  # every comparable feature the table's fractions give; the others are not guessed
        features = [f for f in features if all(c in table.colnames for c in columns[f])] or features
    tasks = {f: tree.answer(keys[f][0]).task for f in features}
    votes = {t: tree.task_votes_column(t) for t in set(tasks.values())}
    hint = ("GZ DECaLS columns are named <task>_<answer>_fraction and <task>_total-votes, as in the "
            "volunteer catalogue of Walmsley et al. (2022)")
    require_columns(table, list(dict.fromkeys(c for f in features for c in columns[f])), role="GZ DECaLS",
                    hint=hint)
    uncounted = sorted(t for t, column in votes.items() if column not in table.colnames)
    if uncounted and min_votes > 0:
        if given:
            require_columns(table, [votes[t] for t in uncounted], role="GZ DECaLS vote-count",
                            hint=hint + "; min_votes=0 labels without them")
        warnings.warn(GalzooWarning(
            f"decals_feature_labels: no vote counts ({', '.join(votes[t] for t in uncounted)}): those "
            f"questions' labels are not limited to min_votes={min_votes}; labelled: {', '.join(features)}"),
            stacklevel=2)
    votes = {t: column for t, column in votes.items() if column in table.colnames}
    _check_votes(table, [c for f in features for c in columns[f]], list(votes.values()))
    table.remove_columns(refuse_overwrite(table, [FEATURE_PREFIX + f for f in features], overwrite=overwrite,
                                          earlier="an earlier labelling"))
    labels = {}
    for feature in features:
        total = sum(floats(table, c) for c in columns[feature])
        counted = (floats(table, votes[tasks[feature]]) >= min_votes if tasks[feature] in votes
                   else np.ones(len(table), dtype=bool))
        labels[feature] = (total >= threshold - 1e-9,  # summed fractions carry rounding
                           ~counted | np.isnan(total))
    _store_feature_labels(table, labels)
    table.meta[PROVENANCE_KEY] = provenance("decals_feature_labels", inputs=[decals_table],
                                            fractions=fractions,
                                            threshold=threshold, min_votes=int(min_votes),
                                            tree=taxonomy.WALMSLEY2022)
    return table


def _describe(table, names):
    """Unit, UCD and description of the new columns, from the catalogue registry."""
    from .columns import describe_columns

    described = describe_columns(table[names])
    for name in names:
        table[name].info.description = described[name].info.description
        table[name].info.meta = described[name].info.meta


def label_summary(labelled):
    """Counts of the five classes and features of a labelled table, as a table.

    Parameters
    ----------
    labelled : `~astropy.table.Table`
        Output of `five_class_labels` or `feature_labels`.

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> from galzoo_cnn.labels import five_class_labels, label_summary
    >>> summary = label_summary(five_class_labels(gz2_sample_path(layout="hart2016")))
    >>> summary.colnames
    ['label', 'n']
    >>> from galzoo_cnn.labels import feature_labels
    >>> summary = label_summary(feature_labels(gz2_sample_path(layout="hart2016")))
    >>> summary[[label.startswith("feature: ring") for label in summary["label"]]].pprint()
                    label                  n
    ------------------------------------- ---
    feature: ring (positive, of 48 known)  26
    """
    rows = []
    info = labelled.meta.get("five_class")
    if info:
        rows += [(f"class: {c}", n) for c, n in info["counts"].items()]
        rows += [("excluded: two or more criteria", info["n_ambiguous"]),
                 ("unclassified: no criterion", info["n_unclassified"])]
    for feature, counts in labelled.meta.get("feature_labels", {}).items():
        known = counts["positive"] + counts["negative"]  # 0: the table cannot tell (no columns, never asked)
        rows.append((f"feature: {feature} (positive, of {known} known)", counts["positive"]))
    return Table(rows=rows, names=("label", "n"), dtype=(str, int))


def _require_gz2(table, columns, purpose):
    """`MissingColumnsError` naming every GZ2 column of ``columns`` not in ``table``, what needs it and
    how GZ2 columns are named."""
    require_columns(table, columns, role=f"{purpose}: GZ2", hint=taxonomy.GZ2_COLUMN_HINT)
