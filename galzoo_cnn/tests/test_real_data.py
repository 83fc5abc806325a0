# Licensed under a 3-clause BSD style license - see LICENSE
"""Label rules on the full real tables of ../shared/data (skipped where absent)."""

from galzoo_cnn.tests.test_labels import (
    check_feature_masks_against_reference,
    check_five_class_against_reference,
)


def test_willett2013_table5_full(real_data):
    path = real_data / "gz2_willett2013_table5_stripe82_coadd.csv.gz"
    labelled = check_five_class_against_reference(path, "objid")
    assert len(labelled) == 19761
    info = labelled.meta["five_class"]
    assert sum(info["counts"].values()) + info["n_ambiguous"] + info["n_unclassified"] == 19761


def test_willett2013_table5_feature_masks(real_data):
    check_feature_masks_against_reference(real_data / "gz2_willett2013_table5_stripe82_coadd.csv.gz",
                                          "objid")


def test_hart2016_full(real_data):
    for name in ("gz2_hart16_sdss/gz2_hart16.csv", "gz2_hart16_sdss/gz2_hart16_no_images.csv"):
        check_five_class_against_reference(real_data / name, "dr7objid")
        check_feature_masks_against_reference(real_data / name, "dr7objid")
