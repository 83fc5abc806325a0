# Licensed under a 3-clause BSD style license - see LICENSE
"""
The Galaxy Zoo 2 decision tree, the detailed features and the five classes.

Everything the package knows about the GZ2 taxonomy is defined here, once, as
data: the 11 tasks and 37 answers of the tree (Willett et al. 2013, Table 2),
which answer leads to which task, the catalogue column stems, the
"well-sampled" thresholds (Willett et al. 2013, Table 3), the 34 detailed
features classified by the multi-label model and the criteria of the five
classes (Khramtsov et al. 2022, after Vavilova et al. 2021).  The label makers
in `galzoo_cnn.labels` and every later stage read these tables; nothing else
hard-codes a GZ2 column name or a threshold.

Examples
--------
>>> from galzoo_cnn import taxonomy
>>> len(taxonomy.GZ2_TASKS), len(taxonomy.GZ2_ANSWERS), len(taxonomy.DETAILED_FEATURES)
(11, 37, 34)
>>> taxonomy.answer("spiral").column("debiased")
't04_spiral_a08_spiral_debiased'
>>> taxonomy.FIVE_CLASSES
('completely_round', 'rounded_in_between', 'cigar_shaped', 'edge_on', 'spiral')
"""

from ..exceptions import MissingColumnsError  # noqa: F401 (re-exported: what require_columns raises)
from ._gz2 import (  # noqa: F401 (re-exported)
    BROAD_GROUPS,
    CLASS_DESCRIPTIONS,
    CLASS_GROUPS,
    COLUMN_SUFFIXES,
    DEPTHS,
    DETAILED_FEATURES,
    DIELEMAN2015,
    EXCLUDED_FEATURES,
    FIVE_CLASSES,
    FRACTION_SUFFIXES,
    GZ2_ANSWERS,
    GZ2_COLUMN_HINT,
    GZ2_TASKS,
    HART2016,
    KAGGLE_CLASSIFICATIONS,
    KHRAMTSOV2022,
    LAYOUTS,
    LINTOTT2008,
    LINTOTT2011,
    WALMSLEY2022,
    WILLETT2013,
    Answer,
    Task,
    answer,
    broad_group,
    detect_layout,
    five_class_criteria,
    kaggle_table,
    require_columns,
    task,
    thresholds_table,
    tree_table,
    well_sampled_conditions,
)
from ._trees import DECALS_ANSWERS, GZ2_TREE, GZ_DECALS_TREE, DecisionTree

__all__ = [
    "Answer",
    "Task",
    "GZ2_TASKS",
    "GZ2_ANSWERS",
    "DETAILED_FEATURES",
    "EXCLUDED_FEATURES",
    "FIVE_CLASSES",
    "CLASS_DESCRIPTIONS",
    "BROAD_GROUPS",
    "CLASS_GROUPS",
    "broad_group",
    "FRACTION_SUFFIXES",
    "LAYOUTS",
    "DEPTHS",
    "answer",
    "task",
    "well_sampled_conditions",
    "tree_table",
    "thresholds_table",
    "five_class_criteria",
    "detect_layout",
    "require_columns",
    "MissingColumnsError",
    "DecisionTree",
    "GZ2_TREE",
    "GZ_DECALS_TREE",
    "DECALS_ANSWERS",
    "kaggle_table",
    "KAGGLE_CLASSIFICATIONS",
    "GZ2_COLUMN_HINT",
]
