# Licensed under a 3-clause BSD style license - see LICENSE
"""The GZ2 tree as data: its answers and tasks (Willett et al. 2013), the detailed features, the five
classes and their criteria, the catalogue layouts and the well-sampled rule."""

import warnings
from dataclasses import dataclass

import numpy as np
from astropy.table import Table

from ..exceptions import GalzooDeprecationWarning, InputError, UnknownNameError
from ..utils._deprecation import keyword_options

#: References for the facts in this module, cited in tables' ``meta``.
WALMSLEY2022 = "Walmsley et al. 2022, MNRAS 509, 3966 (2022MNRAS.509.3966W)"
WILLETT2013 = "Willett et al. 2013, MNRAS 435, 2835 (2013MNRAS.435.2835W)"
HART2016 = "Hart et al. 2016, MNRAS 461, 3663 (2016MNRAS.461.3663H)"
DIELEMAN2015 = "Dieleman, Willett & Dambre 2015, MNRAS 450, 1441 (2015MNRAS.450.1441D)"
LINTOTT2008 = "Lintott et al. 2008, MNRAS 389, 1179 (2008MNRAS.389.1179L)"
LINTOTT2011 = "Lintott et al. 2011, MNRAS 410, 166 (2011MNRAS.410..166L)"
KHRAMTSOV2022 = (
    "Khramtsov V., Vavilova I.B., Dobrycheva D.V. et al. 2022, Machine learning technique for "
    "morphological classification of galaxies from the SDSS. III, Space Science and Technology 28, 27; "
    "arXiv:2209.12194 (2022arXiv220912194K)"
)

#: Suffixes of the six per-answer columns of the GZ2 catalogues.
COLUMN_SUFFIXES = ("count", "weight", "fraction", "weighted_fraction", "debiased", "flag")

#: Suffixes that hold vote fractions, usable as ``fractions=`` in `galzoo_cnn.labels`.
FRACTION_SUFFIXES = ("debiased", "weighted_fraction", "fraction")


@dataclass(frozen=True)
class Answer:
    """One answer of the GZ2 decision tree.

    Attributes
    ----------
    task : str
        Code of the task the answer belongs to, e.g. ``"t04"``.
    code : str
        GZ2 answer code, e.g. ``"a08"``.
    stem : str
        Answer part of the catalogue column name, e.g. ``"spiral"``.
    feature : str
        Name used by this package (unique over the tree), e.g. ``"spiral"``.
    label : str
        Human-readable answer.
    leads_to : str or None
        Code of the next task, or `None` where the classification ends.
    """

    task: str
    code: str
    stem: str
    feature: str
    label: str
    leads_to: str | None

    @property
    def column_stem(self):
        """Catalogue column stem, e.g. ``'t04_spiral_a08_spiral'``."""
        return f"{task(self.task).column_prefix}_{self.code}_{self.stem}"

    def column(self, suffix):
        """Catalogue column name for one of `COLUMN_SUFFIXES`.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import answer
        >>> answer("edge_on_no").column("count")
        't02_edgeon_a05_no_count'
        """
        if suffix not in COLUMN_SUFFIXES:
            raise InputError(f"unknown column suffix {suffix!r}; expected one of {COLUMN_SUFFIXES}")
        return f"{self.column_stem}_{suffix}"

    @property
    def detailed(self):
        """Whether the answer is one of the 34 detailed features."""
        return self.feature not in EXCLUDED_FEATURES

    @property
    def kaggle_column(self):
        """Column of the answer in the Kaggle Galaxy Zoo challenge layout (``training_solutions_rev1.csv``:
        ``Class<task>.<answer>``, tasks and answers in GZ2's order; Dieleman et al. 2015, Table 1).

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import answer
        >>> answer("dust_lane").kaggle_column, answer("arms_cant_tell").kaggle_column
        ('Class8.7', 'Class11.6')
        """
        t = task(self.task)
        return f"Class{int(self.task[1:])}.{t.answers.index(self) + 1}"


@dataclass(frozen=True)
class Task:
    """One task (question) of the GZ2 decision tree.

    ``requires`` is the answer that must be given before the task is trusted,
    with its Willett et al. (2013, Table 3) debiased-fraction thresholds for the
    Stripe 82 coadd (N >= 10 votes) and for normal-depth imaging (N >= 20 votes).
    """

    code: str
    stem: str
    question: str
    answers: tuple
    requires: str | None = None
    p_coadd: float | None = None
    p_normal: float | None = None

    @property
    def column_prefix(self):
        """Task part of the catalogue column names, e.g. ``'t04_spiral'``."""
        return f"{self.code}_{self.stem}"


def _answers(task_code, *rows):
    return tuple(Answer(task_code, *row) for row in rows)


# Willett et al. 2013, Table 2 (questions, answers, next task) and Table 3
# (well-sampled thresholds). The chain of earlier conditions is not repeated:
# `well_sampled_conditions` follows ``requires`` back to the first task.
GZ2_TASKS = (
    Task("t01", "smooth_or_features",
         "Is the galaxy simply smooth and rounded, with no sign of a disk?",
         _answers("t01",
                  ("a01", "smooth", "smooth", "Smooth", "t07"),
                  ("a02", "features_or_disk", "features_or_disk", "Features or disk", "t02"),
                  ("a03", "star_or_artifact", "star_or_artifact", "Star or artifact", None))),
    Task("t02", "edgeon", "Could this be a disk viewed edge-on?",
         _answers("t02",
                  ("a04", "yes", "edge_on_yes", "Edge-on: yes", "t09"),
                  ("a05", "no", "edge_on_no", "Edge-on: no", "t03")),
         requires="features_or_disk", p_coadd=0.227, p_normal=0.430),
    Task("t03", "bar", "Is there a sign of a bar feature through the centre of the galaxy?",
         _answers("t03",
                  ("a06", "bar", "bar", "Bar", "t04"),
                  ("a07", "no_bar", "no_bar", "No bar", "t04")),
         requires="edge_on_no", p_coadd=0.519, p_normal=0.715),
    Task("t04", "spiral", "Is there any sign of a spiral arm pattern?",
         _answers("t04",
                  ("a08", "spiral", "spiral", "Spiral", "t10"),
                  ("a09", "no_spiral", "no_spiral", "No spiral", "t05")),
         requires="edge_on_no", p_coadd=0.519, p_normal=0.715),
    Task("t05", "bulge_prominence",
         "How prominent is the central bulge, compared with the rest of the galaxy?",
         _answers("t05",
                  ("a10", "no_bulge", "bulge_none", "Bulge: none", "t06"),
                  ("a11", "just_noticeable", "bulge_just_noticeable", "Bulge: just noticeable", "t06"),
                  ("a12", "obvious", "bulge_obvious", "Bulge: obvious", "t06"),
                  ("a13", "dominant", "bulge_dominant", "Bulge: dominant", "t06")),
         requires="edge_on_no", p_coadd=0.519, p_normal=0.715),
    Task("t06", "odd", "Is there anything odd?",
         _answers("t06",
                  ("a14", "yes", "odd_yes", "Odd: yes", "t08"),
                  ("a15", "no", "odd_no", "Odd: no", None))),
    Task("t07", "rounded", "How rounded is it?",
         _answers("t07",
                  ("a16", "completely_round", "completely_round", "Completely round", "t06"),
                  ("a17", "in_between", "in_between", "In between", "t06"),
                  ("a18", "cigar_shaped", "cigar_shaped", "Cigar-shaped", "t06")),
         requires="smooth", p_coadd=0.263, p_normal=0.469),
    Task("t08", "odd_feature", "Is the odd feature a ring, or is the galaxy disturbed or irregular?",
         _answers("t08",
                  ("a19", "ring", "ring", "Ring", None),
                  ("a20", "lens_or_arc", "lens_or_arc", "Lens or arc", None),
                  ("a21", "disturbed", "disturbed", "Disturbed", None),
                  ("a22", "irregular", "irregular", "Irregular", None),
                  ("a23", "other", "odd_other", "Other", None),
                  ("a24", "merger", "merger", "Merger", None),
                  ("a38", "dust_lane", "dust_lane", "Dust lane", None)),
         requires="odd_yes", p_coadd=0.223, p_normal=0.420),
    Task("t09", "bulge_shape", "Does the galaxy have a bulge at its centre? If so, what shape?",
         _answers("t09",
                  ("a25", "rounded", "bulge_shape_rounded", "Bulge shape: rounded", "t06"),
                  ("a26", "boxy", "bulge_shape_boxy", "Bulge shape: boxy", "t06"),
                  ("a27", "no_bulge", "bulge_shape_none", "Bulge shape: no bulge", "t06")),
         requires="edge_on_yes", p_coadd=0.326, p_normal=0.602),
    Task("t10", "arms_winding", "How tightly wound do the spiral arms appear?",
         _answers("t10",
                  ("a28", "tight", "arms_tight", "Arms winding: tight", "t11"),
                  ("a29", "medium", "arms_medium", "Arms winding: medium", "t11"),
                  ("a30", "loose", "arms_loose", "Arms winding: loose", "t11")),
         requires="spiral", p_coadd=0.402, p_normal=0.619),
    Task("t11", "arms_number", "How many spiral arms are there?",
         _answers("t11",
                  ("a31", "1", "arms_1", "Arms number: 1", "t05"),
                  ("a32", "2", "arms_2", "Arms number: 2", "t05"),
                  ("a33", "3", "arms_3", "Arms number: 3", "t05"),
                  ("a34", "4", "arms_4", "Arms number: 4", "t05"),
                  ("a36", "more_than_4", "arms_more_than_4", "Arms number: more than 4", "t05"),
                  ("a37", "cant_tell", "arms_cant_tell", "Arms number: can't tell", "t05")),
         requires="spiral", p_coadd=0.402, p_normal=0.619),
)

#: All 37 answers in tree order.
GZ2_ANSWERS = tuple(a for t in GZ2_TASKS for a in t.answers)

#: The three sparse answers the paper leaves out of the multi-label model.
EXCLUDED_FEATURES = ("bulge_dominant", "lens_or_arc", "bulge_shape_boxy")

#: The 34 detailed features of the multi-label classifier, in tree order.
DETAILED_FEATURES = tuple(a.feature for a in GZ2_ANSWERS if a.feature not in EXCLUDED_FEATURES)

#: The five classes of the single-label classifier, in the paper's order.
FIVE_CLASSES = ("completely_round", "rounded_in_between", "cigar_shaped", "edge_on", "spiral")

#: What the class names of the package's single-label models mean: the five
#: classes of Khramtsov et al. (2022) and the Galaxy Zoo 1 classes of the
#: bundled ``sample-gz1`` model (Lintott et al. 2008 majority vote).
CLASS_DESCRIPTIONS = {
    "completely_round": "smooth, completely round galaxy",
    "rounded_in_between": "smooth galaxy of in-between roundness",
    "cigar_shaped": "smooth, cigar-shaped galaxy",
    "edge_on": "disk galaxy seen edge-on",
    "spiral": "disk galaxy with spiral arms, not edge-on",
    "elliptical": "elliptical galaxy (Galaxy Zoo 1 class)",
    "merger": "merger of galaxies (Galaxy Zoo 1 class)",
}

#: Broad morphology shared by every classification the package compares: the
#: five classes, the Galaxy Zoo 1 classes and the leading letters of a GZ2
#: ``gz2_class`` string (Willett et al. 2013, Table 10: ``E`` smooth, ``Se``
#: edge-on disk, other ``S`` disks).  Classes without a group (mergers) are
#: left out of grouped comparisons.
BROAD_GROUPS = ("smooth", "edge_on", "spiral")
CLASS_GROUPS = {
    "completely_round": "smooth", "rounded_in_between": "smooth", "cigar_shaped": "smooth",
    "edge_on": "edge_on", "spiral": "spiral",
    "elliptical": "smooth", "spiral_clockwise": "spiral", "spiral_anticlockwise": "spiral",
}


def broad_group(label):
    """The `BROAD_GROUPS` member of a class name or a GZ2 ``gz2_class`` string; None if it has none.

    Parameters
    ----------
    label : str
        A five-class name, a GZ2 class string, or a model class.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import broad_group
    >>> [broad_group(c) for c in ("cigar_shaped", "Ei", "Seb", "SBc2m", "merger")]
    ['smooth', 'smooth', 'edge_on', 'spiral', None]
    """
    label = str(label)
    if label in CLASS_GROUPS:
        return CLASS_GROUPS[label]
    if label.startswith("E"):
        return "smooth"
    if label.startswith("Se"):
        return "edge_on"
    if label.startswith("S"):
        return "spiral"
    return None


# Five-class criteria (Khramtsov et al. 2022, Sect. 2.2, listed in their Paper II; after Vavilova et
# al. 2021): (class, feature, minimum debiased fraction), all must hold.
_FIVE_CLASS_CONDITIONS = (
    ("completely_round", "smooth", 0.469),
    ("completely_round", "completely_round", 0.5),
    ("rounded_in_between", "smooth", 0.469),
    ("rounded_in_between", "in_between", 0.5),
    ("cigar_shaped", "smooth", 0.469),
    ("cigar_shaped", "cigar_shaped", 0.5),
    ("edge_on", "features_or_disk", 0.430),
    ("edge_on", "edge_on_yes", 0.602),
    ("spiral", "features_or_disk", 0.430),
    ("spiral", "edge_on_no", 0.715),
    ("spiral", "spiral", 0.619),
)

#: Catalogue layouts whose columns the package reads: name -> (id column, reference).
LAYOUTS = {
    "willett2013": ("objid", WILLETT2013 + ", table 5 (VizieR J/MNRAS/435/2835)"),
    "hart2016": ("dr7objid", HART2016 + ", gz2_hart16 (data.galaxyzoo.org)"),
    "kaggle": ("GalaxyID", "Kaggle Galaxy Zoo challenge, training_solutions_rev1.csv (" + DIELEMAN2015
               + "): Class<task>.<answer> cumulative vote fractions"),
}

#: Classifications of a typical GZ2 galaxy (the median of the main sample, Willett et al. 2013): the
#: Kaggle layout gives fractions without vote counts, so a task's votes are estimated as this number
#: times the cumulative fraction of volunteers who reached the task (`kaggle_table`).
KAGGLE_CLASSIFICATIONS = 44

#: Imaging depths of GZ2 and the minimum votes a task needs on each (Willett et al. 2013).
DEPTHS = {"normal": 20, "coadd": 10}

_ANSWER_INDEX = {a.feature: a for a in GZ2_ANSWERS} | {f"{a.task}_{a.code}": a for a in GZ2_ANSWERS}
_TASK_INDEX = {t.code: t for t in GZ2_TASKS} | {t.stem: t for t in GZ2_TASKS}


def answer(key):
    """Look up an answer by feature name (``"spiral"``) or code (``"t04_a08"``).

    Parameters
    ----------
    key : str
        Feature name or answer code.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import answer
    >>> answer("t08_a38").feature, answer("dust_lane").label
    ('dust_lane', 'Dust lane')
    """
    try:
        return _ANSWER_INDEX[key]
    except KeyError:
        raise UnknownNameError(
            f"unknown GZ2 answer {key!r}; expected a feature name such as 'spiral' or a "
            f"code such as 't04_a08' (see galzoo_cnn.taxonomy.tree_table())"
        ) from None


def task(key):
    """Look up a task by code (``"t04"``) or stem (``"spiral"``).

    Parameters
    ----------
    key : str
        Task code or stem.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import task
    >>> task("t07").question
    'How rounded is it?'
    """
    try:
        return _TASK_INDEX[key]
    except KeyError:
        raise UnknownNameError(f"unknown GZ2 task {key!r}; expected a code 't01'..'t11'") from None


def well_sampled_conditions(task_code):
    """The answers, and their thresholds, that make a task well sampled.

    Follows ``requires`` back to the first task, so the conditions of the
    earlier tasks are included (Willett et al. 2013, Table 3).

    Parameters
    ----------
    task_code : str
        A task code (``'t04'``).

    Returns
    -------
    list of (Answer, float, float)
        The answer, its threshold for the Stripe 82 coadd and for normal depth,
        earliest task first.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import well_sampled_conditions
    >>> [(a.feature, p) for a, _, p in well_sampled_conditions("t10")]
    [('features_or_disk', 0.43), ('edge_on_no', 0.715), ('spiral', 0.619)]
    """
    conditions = []
    t = task(task_code)
    while t.requires is not None:
        required = answer(t.requires)
        conditions.insert(0, (required, t.p_coadd, t.p_normal))
        t = task(required.task)
    return conditions


def tree_table():
    """The GZ2 decision tree as a table, one row per answer.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import tree_table
    >>> tree = tree_table()
    >>> tree["feature", "leads_to"][:3]  # doctest: +IGNORE_OUTPUT
    >>> int(tree["detailed"].sum())
    34
    """
    rows = [(a.task, task(a.task).question, a.code, a.feature, a.label, a.leads_to or "end",
             a.detailed, a.column_stem) for a in GZ2_ANSWERS]
    table = Table(rows=rows, names=("task", "question", "answer", "feature", "label",
                                    "leads_to", "detailed", "column_stem"))
    table.meta["reference"] = WILLETT2013
    return table


def thresholds_table():
    """Willett et al. (2013) thresholds for a well-sampled task, as a table.

    A task is well sampled for a galaxy when it has at least ``min_votes``
    votes and the debiased fraction of the required answer exceeds the
    threshold, recursively for the task that answer belongs to.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import thresholds_table
    >>> thresholds_table()["task", "requires", "p_normal"][1:3]  # doctest: +FLOAT_CMP
    <Table length=2>
    task   requires  p_normal
    str3     str16   float64
    ---- ---------------- --------
     t02 features_or_disk     0.43
     t03       edge_on_no    0.715
    """
    rows = []
    for t in GZ2_TASKS:
        rows.append((t.code, t.question, t.requires or "", answer(t.requires).task if t.requires else "",
                     np.nan if t.p_coadd is None else t.p_coadd,
                     np.nan if t.p_normal is None else t.p_normal))
    table = Table(rows=rows, names=("task", "question", "requires", "requires_task",
                                    "p_coadd", "p_normal"))
    table["p_coadd"].description = f"threshold with >= {DEPTHS['coadd']} votes (Stripe 82 coadd)"
    table["p_normal"].description = f"threshold with >= {DEPTHS['normal']} votes (normal depth)"
    table.meta["reference"] = WILLETT2013 + ", Table 3"
    table.meta["min_votes"] = dict(DEPTHS)
    return table


def five_class_criteria():
    """The default criteria of the five classes, one row per condition.

    A galaxy belongs to a class when every condition of that class holds:
    the debiased fraction of ``feature`` is at least ``min_fraction`` and the
    task of ``feature`` has at least the minimum number of votes (20 at
    normal depth, 10 in the Stripe 82 coadd).  Pass a modified copy as
    ``criteria=`` to `galzoo_cnn.labels.five_class_labels` to override.

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import five_class_criteria
    >>> criteria = five_class_criteria()
    >>> print(criteria[criteria["class"] == "spiral"])
     class      feature      min_fraction
    ------ ---------------- ------------
    spiral features_or_disk         0.43
    spiral       edge_on_no        0.715
    spiral           spiral        0.619
    """
    table = Table(rows=_FIVE_CLASS_CONDITIONS, names=("class", "feature", "min_fraction"))
    table.meta["reference"] = KHRAMTSOV2022 + "; thresholds from " + WILLETT2013
    return table


def kaggle_table():
    """How the Kaggle Galaxy Zoo challenge layout maps onto the GZ2 tree, one row per answer.

    The challenge's ``Class<task>.<answer>`` values are cumulative: each
    answer's vote fraction times the fractions of the answers that lead to
    its question (Dieleman et al. 2015, Sect. 2), so the answers of a task sum
    to the fraction of volunteers who reached it (``reached``: 1 for the first
    task and "Is there anything odd?").  The per-question fraction is the
    column over that sum, which needs every answer column of the task; a task
    is well sampled when Willett et al. (2013, Table 3)'s normal-depth
    thresholds hold along the way (`well_sampled_conditions`) and it has at
    least 20 estimated votes, ``KAGGLE_CLASSIFICATIONS`` times the reached
    fraction (the layout has no vote counts).

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import kaggle_table
    >>> t = kaggle_table()
    >>> print(t[t["task"] == "t07"]["kaggle_column", "feature", "reached_after"])
    kaggle_column     feature      reached_after
    ------------- ---------------- -------------
         Class7.1 completely_round        smooth
         Class7.2       in_between        smooth
         Class7.3     cigar_shaped        smooth
    """
    leads = {}
    for a in GZ2_ANSWERS:
        if a.leads_to:
            leads.setdefault(a.leads_to, []).append(a.feature)
    rows = [(a.kaggle_column, a.task, a.code, a.feature, a.label,
             " or ".join(leads.get(a.task, [])) if a.task not in ("t01", "t06") else "(every volunteer)")
            for a in GZ2_ANSWERS]
    table = Table(rows=rows, names=("kaggle_column", "task", "answer", "feature", "label", "reached_after"))
    table.meta["reference"] = DIELEMAN2015 + "; " + WILLETT2013
    table.meta["classifications"] = KAGGLE_CLASSIFICATIONS
    return table


def detect_layout(table):
    """Name of the GZ2 catalogue layout of ``table`` or `None`.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A GZ2 table.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.taxonomy import detect_layout
    >>> detect_layout(Table(names=["dr7objid", "ra"]))
    'hart2016'
    """
    for name, (id_column, _) in LAYOUTS.items():
        if id_column in table.colnames:
            return name
    if any(a.kaggle_column in table.colnames for a in GZ2_ANSWERS):
        return "kaggle"
    return None


#: How GZ2 catalogue columns are named, for messages about missing ones
#: (``tables.require_columns(..., hint=GZ2_COLUMN_HINT)``).
GZ2_COLUMN_HINT = ("GZ2 columns are named tNN_<task>_aMM_<answer>_<suffix>, as in the layouts: "
                   + "; ".join(f"{name} (id column {idc!r}; {ref})" for name, (idc, ref) in LAYOUTS.items()))


@keyword_options
def require_columns(table, columns, purpose="this operation"):
    """Deprecated: `galzoo_cnn.tables.require_columns` with ``hint=GZ2_COLUMN_HINT``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The table.
    columns : sequence of str
        Columns needed.
    purpose : str
        What needs them (for the message).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.tables import require_columns
    >>> from galzoo_cnn.taxonomy import GZ2_COLUMN_HINT
    >>> require_columns(Table(names=["objid"]), ["t01_smooth_or_features_a01_smooth_debiased"],
    ...                 role="GZ2", hint=GZ2_COLUMN_HINT)
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.MissingColumnsError: GZ2 column 't01_smooth_or_features_a01_smooth_debiased' is not in the table (columns: objid). GZ2 columns are named ...
    """
    from ..tables import require_columns as require

    warnings.warn(GalzooDeprecationWarning("taxonomy.require_columns is deprecated: use "
                                           "tables.require_columns(..., hint=taxonomy.GZ2_COLUMN_HINT)"),
                  stacklevel=3)
    require(table, columns, role=f"{purpose}: GZ2", hint=GZ2_COLUMN_HINT)


