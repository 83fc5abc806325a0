# Licensed under a 3-clause BSD style license - see LICENSE
import gzip

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn import taxonomy
from galzoo_cnn.datasets import gz2_sample_path


def test_tree_shape():
    assert [t.code for t in taxonomy.GZ2_TASKS] == [f"t{i:02d}" for i in range(1, 12)]
    codes = [a.code for a in taxonomy.GZ2_ANSWERS]
    # a35 was never used in GZ2; dust lane was added late as a38
    assert codes == ([f"a{i:02d}" for i in range(1, 25)] + ["a38"]
                     + [f"a{i:02d}" for i in range(25, 38) if i != 35])
    features = [a.feature for a in taxonomy.GZ2_ANSWERS]
    assert len(set(features)) == 37


def test_every_task_reachable_and_tree_ends():
    reached, frontier = {"t01"}, ["t01"]
    while frontier:
        for a in taxonomy.task(frontier.pop()).answers:
            if a.leads_to and a.leads_to not in reached:
                reached.add(a.leads_to)
                frontier.append(a.leads_to)
    assert reached == {t.code for t in taxonomy.GZ2_TASKS}
    ends = {a.feature for a in taxonomy.GZ2_ANSWERS if a.leads_to is None}
    assert {"star_or_artifact", "odd_no", "merger", "dust_lane"} <= ends


def test_detailed_features_are_37_less_three():
    assert len(taxonomy.DETAILED_FEATURES) == 34
    assert set(taxonomy.EXCLUDED_FEATURES) == {"bulge_dominant", "lens_or_arc", "bulge_shape_boxy"}
    assert set(taxonomy.DETAILED_FEATURES).isdisjoint(taxonomy.EXCLUDED_FEATURES)
    assert int(taxonomy.tree_table()["detailed"].sum()) == 34


@pytest.mark.parametrize("layout", ["willett2013", "hart2016"])
def test_every_column_stem_exists_in_real_layouts(layout):
    with gzip.open(gz2_sample_path(layout=layout), "rt") as f:
        header = f.readline().strip().split(",")
    expected = {a.column(s) for a in taxonomy.GZ2_ANSWERS for s in taxonomy.COLUMN_SUFFIXES}
    assert expected <= set(header)
    gz2_columns = {c for c in header if c[:1] == "t" and c[1:3].isdigit()}
    assert gz2_columns == expected  # and the package knows every GZ2 column of the layout
    assert taxonomy.detect_layout(Table(names=header)) == layout


def test_thresholds_match_willett_table3():
    table = taxonomy.thresholds_table()
    row = {r["task"]: r for r in table}
    assert (row["t02"]["p_coadd"], row["t02"]["p_normal"]) == (0.227, 0.430)
    for t in ("t03", "t04", "t05"):
        assert (row[t]["requires"], row[t]["p_coadd"], row[t]["p_normal"]) == ("edge_on_no", 0.519, 0.715)
    assert (row["t07"]["requires"], row["t07"]["p_normal"]) == ("smooth", 0.469)
    assert (row["t08"]["requires"], row["t08"]["p_normal"]) == ("odd_yes", 0.420)
    assert (row["t09"]["requires"], row["t09"]["p_coadd"]) == ("edge_on_yes", 0.326)
    assert (row["t10"]["p_coadd"], row["t11"]["p_normal"]) == (0.402, 0.619)
    assert np.isnan(row["t01"]["p_normal"]) and np.isnan(row["t06"]["p_normal"])
    assert table.meta["min_votes"] == {"normal": 20, "coadd": 10}


def test_well_sampled_conditions_follow_the_tree_back():
    chain = [(a.feature, pc, pn) for a, pc, pn in taxonomy.well_sampled_conditions("t09")]
    assert chain == [("features_or_disk", 0.227, 0.430), ("edge_on_yes", 0.326, 0.602)]
    assert taxonomy.well_sampled_conditions("t01") == []
    assert [a.feature for a, _, _ in taxonomy.well_sampled_conditions("t08")] == ["odd_yes"]


def test_five_class_criteria_table():
    criteria = taxonomy.five_class_criteria()
    assert list(dict.fromkeys(criteria["class"])) == list(taxonomy.FIVE_CLASSES)
    spiral = criteria[criteria["class"] == "spiral"]
    assert dict(zip(spiral["feature"], spiral["min_fraction"])) == {
        "features_or_disk": 0.430, "edge_on_no": 0.715, "spiral": 0.619}
    assert "Khramtsov" in criteria.meta["reference"]


def test_lookups_and_errors():
    assert taxonomy.answer("t08_a38") is taxonomy.answer("dust_lane")
    assert taxonomy.task("rounded") is taxonomy.task("t07")
    with pytest.raises(KeyError, match="unknown GZ2 answer 'spirals'"):
        taxonomy.answer("spirals")
    with pytest.raises(KeyError, match="unknown GZ2 task"):
        taxonomy.task("t12")
    with pytest.raises(ValueError, match="unknown column suffix"):
        taxonomy.answer("spiral").column("debias")


def test_require_columns_names_missing_and_layouts():
    from galzoo_cnn.exceptions import GalzooDeprecationWarning
    from galzoo_cnn.labels import five_class_labels

    table = Table(names=["objid", "t04_spiral_a08_spiral_debiased"])
    with pytest.warns(GalzooDeprecationWarning, match="tables.require_columns"):
        taxonomy.require_columns(table, ["objid"])  # the old name still checks, with a warning
    with pytest.raises(taxonomy.MissingColumnsError) as err:
        five_class_labels(table)
    message = str(err.value)
    assert "five_class_labels: GZ2 columns 't01_smooth_or_features_a01_smooth_debiased', " in message
    assert "t07_rounded_a16_completely_round_debiased" in message
    assert "willett2013" in message and "hart2016" in message and "dr7objid" in message
