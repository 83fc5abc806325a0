# Licensed under a 3-clause BSD style license - see LICENSE
"""
An independent transcription of the label rules, for the tests.

The five-class criteria and the Willett et al. (2013) thresholds are written
out again here from the paper (Khramtsov et al. 2022, Sect. 2.2, and its Paper II) and Willett et
al. (2013), by hand, and applied row by row to the raw
CSV text with the ``csv`` module, so that the package's tables and vectorised
code are checked against something that shares none of their code.
"""

import csv
import gzip

# class -> [(column stem, minimum debiased fraction)]
FIVE_CLASS = {
    "completely_round": [("t01_smooth_or_features_a01_smooth", 0.469),
                         ("t07_rounded_a16_completely_round", 0.5)],
    "rounded_in_between": [("t01_smooth_or_features_a01_smooth", 0.469),
                           ("t07_rounded_a17_in_between", 0.5)],
    "cigar_shaped": [("t01_smooth_or_features_a01_smooth", 0.469),
                     ("t07_rounded_a18_cigar_shaped", 0.5)],
    "edge_on": [("t01_smooth_or_features_a02_features_or_disk", 0.430),
                ("t02_edgeon_a04_yes", 0.602)],
    "spiral": [("t01_smooth_or_features_a02_features_or_disk", 0.430),
               ("t02_edgeon_a05_no", 0.715),
               ("t04_spiral_a08_spiral", 0.619)],
}

_FEATURES = "t01_smooth_or_features_a02_features_or_disk", 0.227, 0.430
_NOT_EDGEON = "t02_edgeon_a05_no", 0.519, 0.715
# task -> the chain of (column stem, p for N >= 10, p for N >= 20) to reach it
CHAIN = {
    "t01": [],
    "t02": [_FEATURES],
    "t03": [_FEATURES, _NOT_EDGEON],
    "t04": [_FEATURES, _NOT_EDGEON],
    "t05": [_FEATURES, _NOT_EDGEON],
    "t06": [],
    "t07": [("t01_smooth_or_features_a01_smooth", 0.263, 0.469)],
    "t08": [("t06_odd_a14_yes", 0.223, 0.420)],
    "t09": [_FEATURES, ("t02_edgeon_a04_yes", 0.326, 0.602)],
    "t10": [_FEATURES, _NOT_EDGEON, ("t04_spiral_a08_spiral", 0.402, 0.619)],
    "t11": [_FEATURES, _NOT_EDGEON, ("t04_spiral_a08_spiral", 0.402, 0.619)],
}


def read_rows(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        yield from csv.DictReader(f)


def votes(row, task):
    return sum(float(v) for k, v in row.items() if k.startswith(task + "_") and k.endswith("_count"))


def min_votes(row):
    return 10 if row.get("sample", "").startswith("stripe82_c") else 20


def five_class(row):
    """The list of classes whose criteria the row meets."""
    n = min_votes(row)
    return [name for name, conditions in FIVE_CLASS.items()
            if all(float(row[stem + "_debiased"]) >= p and votes(row, stem[:3]) >= n
                   for stem, p in conditions)]


def task_well_sampled(row, task):
    n = min_votes(row)
    coadd = n == 10
    return votes(row, task) >= n and all(
        float(row[stem + "_debiased"]) > (p10 if coadd else p20) and votes(row, stem[:3]) >= n
        for stem, p10, p20 in CHAIN[task])
