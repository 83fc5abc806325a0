# Licensed under a 3-clause BSD style license - see LICENSE
"""Galaxy Zoo decision trees as objects: GZ2 (Willett et al. 2013) and GZ DECaLS DR5 (Walmsley et
al. 2022), with the catalogue column names of each and the GZ2 feature each DECaLS answer matches."""

from dataclasses import dataclass

from astropy.table import Table

from ..exceptions import UnknownNameError
from ._gz2 import FRACTION_SUFFIXES, GZ2_TASKS, WALMSLEY2022, WILLETT2013, Answer, Task, answer


@dataclass(frozen=True)
class DecisionTree:
    """A Galaxy Zoo decision tree as data: its tasks, answers and catalogue column names.

    One object per survey: `GZ2_TREE` (Willett et al. 2013) and
    `GZ_DECALS_TREE` (Walmsley et al. 2022, DECaLS DR5).  ``answer_column``
    is a `str.format` pattern of an answer's catalogue column with the
    fields ``task``, ``task_code``, ``answer``, ``answer_code`` and
    ``suffix``; each answer of a non-GZ2 tree may name the GZ2 feature it
    corresponds to (``Answer.feature`` of the GZ2 tree), which is how the
    paper's deep test (Sect. 2.2) compares a GZ2 model with GZ DECaLS votes.

    Attributes
    ----------
    name : str
        Short name (``'gz2'``, ``'gz_decals'``).
    tasks : tuple of `Task`
        The tasks in tree order.
    reference : str
        Where the tree is published.
    answer_column : str
        Pattern of an answer's column name.
    fraction_suffixes : tuple of str
        Suffixes of the answer columns holding vote fractions.
    votes_column : str or None
        Pattern of the column of a task's total votes (field ``task``).
    gz2_features : dict
        GZ2 feature -> the answer keys (``'<task>_<answer>'``) whose vote
        fractions add up to it (GZ2 tree: each feature to itself).

    Examples
    --------
    >>> from galzoo_cnn.taxonomy import GZ_DECALS_TREE
    >>> GZ_DECALS_TREE.column("bar_strong", "fraction")
    'bar_strong_fraction'
    >>> GZ_DECALS_TREE.gz2_features["bar"]
    ('bar_strong', 'bar_weak')
    """

    name: str
    tasks: tuple
    reference: str
    answer_column: str
    fraction_suffixes: tuple
    votes_column: str | None = None
    gz2_features: dict | None = None

    def __post_init__(self):
        if self.gz2_features is None:  # a GZ2 tree: each answer is its own feature
            object.__setattr__(self, "gz2_features", {a.feature: (a.feature,) for a in self.answers})

    @property
    def answers(self):
        """All answers in tree order."""
        return tuple(a for t in self.tasks for a in t.answers)

    def answer(self, key):
        """An answer by its feature name or ``'<task>_<answer>'`` key.

        Parameters
        ----------
        key : str
            The answer's name.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import GZ_DECALS_TREE
        >>> GZ_DECALS_TREE.answer("how-rounded_cigar-shaped").label
        'Cigar-shaped'
        """
        for a in self.answers:
            if key in (a.feature, f"{a.task}_{a.code}"):
                return a
        raise UnknownNameError(f"the {self.name} tree has no answer {key!r}; its answers: "
                               f"{', '.join(a.feature for a in self.answers)}")

    def task(self, key):
        """A task by its code or stem.

        Parameters
        ----------
        key : str
            Task code or stem.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import GZ2_TREE
        >>> GZ2_TREE.task("t02").stem
        'edgeon'
        """
        for t in self.tasks:
            if key in (t.code, t.stem):
                return t
        raise UnknownNameError(f"the {self.name} tree has no task {key!r}; its tasks: "
                               f"{', '.join(t.code for t in self.tasks)}")

    def column(self, key, suffix):
        """The catalogue column of an answer's ``suffix`` (``''``: the vote count where that has none).

        Parameters
        ----------
        key : str
            The answer (see `answer`).
        suffix : str
            Column suffix, e.g. ``'fraction'``.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import GZ2_TREE
        >>> GZ2_TREE.column("spiral", "debiased")
        't04_spiral_a08_spiral_debiased'
        """
        a = self.answer(key)
        t = self.task(a.task)
        name = self.answer_column.format(task=t.stem, task_code=t.code, answer=a.stem, answer_code=a.code,
                                         suffix=suffix)
        return name.rstrip("_")

    def task_votes_column(self, key):
        """The column of a task's total votes, or `None` where the catalogue has none.

        Parameters
        ----------
        key : str
            Task code or stem.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import GZ_DECALS_TREE
        >>> GZ_DECALS_TREE.task_votes_column("merging")
        'merging_total-votes'
        """
        t = self.task(key)
        return self.votes_column.format(task=t.stem, task_code=t.code) if self.votes_column else None

    def mapping_table(self):
        """The GZ2 features this tree can label, with the answers that make each.

        Examples
        --------
        >>> from galzoo_cnn.taxonomy import GZ_DECALS_TREE
        >>> mapping = GZ_DECALS_TREE.mapping_table()
        >>> int(mapping["detailed"].sum())  # the paper's 28 comparable features
        28
        """
        rows = [(feature, ", ".join(keys), answer(feature).detailed)
                for feature, keys in self.gz2_features.items()]
        table = Table(rows=rows, names=("gz2_feature", f"{self.name}_answers", "detailed"))
        table.meta["reference"] = self.reference
        return table


#: The GZ2 tree of Willett et al. (2013) with the column names of its catalogues.
GZ2_TREE = DecisionTree("gz2", GZ2_TASKS, WILLETT2013, "{task_code}_{task}_{answer_code}_{answer}_{suffix}",
                        FRACTION_SUFFIXES)


def _decals_task(stem, question, *answers):
    """A GZ DECaLS task: ``answers`` are ``(stem, label, leads_to, gz2_feature)``."""
    return Task(stem, stem, question, tuple(Answer(stem, a, a, f"{stem}_{a}", label, leads_to)
                                            for a, label, leads_to, _ in answers))


# Walmsley et al. (2022, Fig. 4 and Table 2): the GZ DECaLS DR5 tree, with the GZ2 feature each answer
# corresponds to.  The paper's deep test (Sect. 2.2) keeps the 28 of the 34 detailed features that such
# a correspondence exists for: the "odd feature" task has no DECaLS counterpart except the merger
# question, whose minor and major disturbances together stand for GZ2's "disturbed".  Where DECaLS has
# finer answers (bar strength, bulge size) their fractions add up to the GZ2 answer.
_DECALS = (
    ("smooth-or-featured", "Is the galaxy simply smooth and rounded, with no sign of a disk?",
                 ("smooth", "Smooth", "how-rounded", "smooth"),
                 ("featured-or-disk", "Featured or disk", "disk-edge-on", "features_or_disk"),
                 ("artifact", "Star or artifact", None, "star_or_artifact")),
    ("disk-edge-on", "Could this be a disk viewed edge-on?",
                 ("yes", "Edge-on: yes", "edge-on-bulge", "edge_on_yes"),
                 ("no", "Edge-on: no", "bar", "edge_on_no")),
    ("has-spiral-arms", "Are there any signs of spiral arms?",
                 ("yes", "Spiral arms: yes", "spiral-winding", "spiral"),
                 ("no", "Spiral arms: no", "bulge-size", "no_spiral")),
    ("bar", "Is there a bar?",
                 ("strong", "Bar: strong", "has-spiral-arms", "bar"),
                 ("weak", "Bar: weak", "has-spiral-arms", "bar"),
                 ("no", "Bar: no", "has-spiral-arms", "no_bar")),
    ("bulge-size", "How prominent is the central bulge, compared with the rest of the galaxy?",
                 ("dominant", "Bulge: dominant", "merging", "bulge_dominant"),
                 ("large", "Bulge: large", "merging", "bulge_obvious"),
                 ("moderate", "Bulge: moderate", "merging", "bulge_obvious"),
                 ("small", "Bulge: small", "merging", "bulge_just_noticeable"),
                 ("none", "Bulge: none", "merging", "bulge_none")),
    ("how-rounded", "How rounded is it?",
                 ("round", "Round", "merging", "completely_round"),
                 ("in-between", "In between", "merging", "in_between"),
                 ("cigar-shaped", "Cigar-shaped", "merging", "cigar_shaped")),
    ("edge-on-bulge", "Does the galaxy have a bulge at its centre? If so, what shape?",
                 ("boxy", "Bulge shape: boxy", "merging", "bulge_shape_boxy"),
                 ("none", "Bulge shape: none", "merging", "bulge_shape_none"),
                 ("rounded", "Bulge shape: rounded", "merging", "bulge_shape_rounded")),
    ("spiral-winding", "How tightly wound do the spiral arms appear?",
                 ("tight", "Arms winding: tight", "spiral-arm-count", "arms_tight"),
                 ("medium", "Arms winding: medium", "spiral-arm-count", "arms_medium"),
                 ("loose", "Arms winding: loose", "spiral-arm-count", "arms_loose")),
    ("spiral-arm-count", "How many spiral arms are there?",
                 ("1", "Arms number: 1", "bulge-size", "arms_1"),
                 ("2", "Arms number: 2", "bulge-size", "arms_2"),
                 ("3", "Arms number: 3", "bulge-size", "arms_3"),
                 ("4", "Arms number: 4", "bulge-size", "arms_4"),
                 ("more-than-4", "Arms number: more than 4", "bulge-size", "arms_more_than_4"),
                 ("cant-tell", "Arms number: can't tell", "bulge-size", "arms_cant_tell")),
    ("merging", "Is the galaxy currently merging or is there any sign of tidal debris?",
                 ("none", "Merging: none", None, None),
                 ("minor-disturbance", "Merging: minor disturbance", None, "disturbed"),
                 ("major-disturbance", "Merging: major disturbance", None, "disturbed"),
                 ("merger", "Merging: merger", None, "merger")),
)

#: GZ DECaLS answer key (``'<task>_<answer>'``) -> the GZ2 feature it corresponds to (None: no counterpart).
DECALS_ANSWERS = {f"{task_spec[0]}_{a[0]}": a[3] for task_spec in _DECALS for a in task_spec[2:]}


def _decals_gz2_features():
    features = {}
    for key, feature in DECALS_ANSWERS.items():
        if feature is not None:
            features.setdefault(feature, ())
            features[feature] += (key,)
    return features


#: The GZ DECaLS DR5 tree of Walmsley et al. (2022) with the column names of its volunteer catalogue
#: (``<task>_<answer>`` vote counts, ``_fraction`` and ``_debiased`` fractions, ``<task>_total-votes``).
GZ_DECALS_TREE = DecisionTree("gz_decals", tuple(_decals_task(*spec) for spec in _DECALS), WALMSLEY2022,
                              "{task}_{answer}_{suffix}", ("fraction", "debiased"), "{task}_total-votes",
                              _decals_gz2_features())
