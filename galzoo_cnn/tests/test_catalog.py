# Licensed under a 3-clause BSD style license - see LICENSE
"""The column registry and the FITS / VOTable / CDS writers, on real classified galaxies."""

import io
import re
import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits, votable
from astropy.io.votable.ucd import check_ucd
from astropy.table import MaskedColumn, Table

from galzoo_cnn import classify_table, taxonomy
from galzoo_cnn.catalog import (
    CatalogError,
    catalog_columns,
    check_catalog,
    column_spec,
    describe_columns,
    write_catalog,
)
from galzoo_cnn.columns import cds_label
from galzoo_cnn.datasets import load_demo_sample, load_gz2_sample
from galzoo_cnn.labels import feature_labels, five_class_labels


@pytest.fixture(scope="module")
def catalogue():
    """36 real galaxies classified, with one missing image (masked outputs) and GZ2 labels."""
    sample, image_dir = load_demo_sample()
    sample = five_class_labels(sample)[["dr7objid", "ra", "dec", "gz2_class", "gz2_five_class", "filename"]]
    sample["filename"][3] = "missing.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the astropy log's warning about the missing image
        return classify_table(sample, model="sample-gz1", image_dir=image_dir, progress=False)


def test_registry_ucds_units_and_descriptions_are_valid():
    columns = catalog_columns()
    assert len(columns) > 100
    for row in columns:
        assert check_ucd(row["ucd"], check_controlled_vocabulary=True), row["name"]
        if row["unit"]:
            u.Unit(row["unit"])
        assert len(row["description"]) > 15 and "?" not in row["description"][-1:], row["name"]
    # every taxonomy answer and class has its probability column described from the taxonomy
    for answer in taxonomy.GZ2_ANSWERS:
        assert answer.label in column_spec(f"prob_{answer.feature}", gz2_answers=True).description
        for suffix in taxonomy.COLUMN_SUFFIXES:
            assert answer.label in column_spec(answer.column(suffix)).description
    for name, text in taxonomy.CLASS_DESCRIPTIONS.items():
        assert text in column_spec(f"prob_{name}").description
    # 'spiral' is a class and a GZ2 answer: the model's task says which the column holds
    assert "Is there any sign of a spiral arm pattern?" not in column_spec("prob_spiral").description
    question = "Is there any sign of a spiral arm pattern?"
    assert question in column_spec("prob_spiral", gz2_answers=True).description


def test_every_column_the_package_produces_is_in_the_registry(catalogue):
    labelled = feature_labels(five_class_labels(load_gz2_sample(layout="hart2016")))
    new = [c for c in labelled.colnames if c.startswith("label_") or c.startswith("gz2_five")]
    vote_columns = [c for c in labelled.colnames if c.startswith("t0") or c.startswith("t1")]
    for name in catalogue.colnames + new + vote_columns:
        assert column_spec(name) is not None, name
    # and the label makers take their descriptions from it
    assert labelled["label_bar"].description == column_spec("label_bar").description
    assert labelled["label_bar"].meta["ucd"] == "meta.code;src.morph"


def test_describe_columns_converts_units():
    table = describe_columns(Table({"ra": [np.pi] * u.rad, "gz2_sep": [0.5 / 60] * u.arcmin}))
    assert table["ra"].unit == u.deg and table["ra"][0] == pytest.approx(180)
    assert table["gz2_sep"].unit == u.arcsec and table["gz2_sep"][0] == pytest.approx(0.5)
    with pytest.raises(CatalogError, match="column 'ra' is in km, which does not convert to deg"):
        describe_columns(Table({"ra": [1.0] * u.km}))


def test_fits_has_units_descriptions_ucds_and_provenance(catalogue, tmp_path):
    path = write_catalog(catalogue, tmp_path / "cat", formats=["fits"])["fits"]
    with fits.open(path, checksum=True) as hdul:
        header = hdul["CAT"].header
        primary = hdul[0].header
    names = [header[f"TTYPE{i}"] for i in range(1, header["TFIELDS"] + 1)]
    assert names == catalogue.colnames
    for i, name in enumerate(names, start=1):
        spec = column_spec(name)
        assert header[f"TCOMM{i}"] == spec.description
        assert header[f"TUCD{i}"] == spec.ucd
        assert header.get(f"TUNIT{i}") == spec.unit
    # provenance as keywords of the table HDU, full values (long strings continue, LONGSTRN says so)
    assert header["MODELSHA"] == catalogue.meta["provenance"]["model_sha256"]
    assert header["MODEL"] == "sample-gz1" and header["LONGSTRN"] == "OGIP 1.0"
    assert header["REFER1"].startswith("Khramtsov") and header["RADESYS"] == "ICRS"
    assert header["CREATOR"].startswith("galzoo_cnn") and header["DATE"] == primary["DATE"]
    assert header["TITLE"] == "Morphological classification of galaxies with galzoo_cnn"
    assert "HISTORY" not in header and "COMMENT" not in primary
    reread = Table.read(path, hdu="CAT")
    assert reread["prob_spiral"].mask.tolist() == catalogue["prob_spiral"].mask.tolist()
    assert reread["status"][3] == "missing"
    np.testing.assert_array_equal(reread["ra"], catalogue["ra"])


def test_votable_validates_with_zero_warnings(catalogue, tmp_path):
    path = write_catalog(catalogue, tmp_path / "cat", formats=["votable"])["votable"]
    report = io.StringIO()
    assert votable.validate(str(path), output=report) is True, report.getvalue()
    vot = votable.parse(str(path))
    assert vot.version == "1.4"
    table = vot.get_first_table()
    for field in table.fields:
        spec = column_spec(field.name)
        assert field.ucd == spec.ucd and " ".join(field.description.split()) == spec.description
        assert (str(field.unit) if field.unit is not None else None) == spec.unit
    coosys = vot.resources[0].coordinate_systems[0]
    assert coosys.system == "ICRS"
    assert {f.name for f in table.fields if f.ref == coosys.ID} == {"ra", "dec"}
    infos = {info.name: info.value for info in vot.infos}
    assert infos["provenance_model"] == "sample-gz1"
    assert infos["provenance_model_sha256"] == catalogue.meta["provenance"]["model_sha256"]
    assert table.name == "cat" and "galzoo_cnn" in table.description
    references = [info.value for info in vot.infos if info.name == "reference"]
    assert references == catalogue.meta["references"]
    data = table.to_table()
    # the masked class of the missing image comes back null (or empty), the others as written
    assert np.ma.is_masked(data["predicted_class"][3]) or data["predicted_class"][3] == ""
    assert data["predicted_class"][2] == catalogue["predicted_class"][2]
    assert data["prob_merger"].mask.tolist() == catalogue["prob_merger"].mask.tolist()
    np.testing.assert_array_equal(data["prob_merger"], catalogue["prob_merger"])


def test_cds_readme_explains_every_column_and_reads_back(catalogue, tmp_path):
    directory = write_catalog(catalogue, tmp_path / "cat", formats=["cds"])["cds"]
    assert sorted(p.name for p in directory.iterdir()) == ["ReadMe", "cat.dat"]
    readme = (directory / "ReadMe").read_text()
    for name in catalogue.colnames:  # cdspyreadme's placeholder for an unexplained column
        assert f"Description of {name}" not in readme
    assert "Right ascension (ICRS)" in readme
    assert "J/MNRAS/435/2835" in readme and "Khramtsov" in readme
    reread = Table.read(directory / "cat.dat", format="ascii.cds", readme=str(directory / "ReadMe"))
    assert reread.colnames == [cds_label(n) for n in catalogue.colnames]
    assert reread.colnames[1:3] == ["RAdeg", "DEdeg"]
    reread.rename_columns(reread.colnames, catalogue.colnames)
    assert str(reread["ra"].unit) == "deg"
    for name in ("prob_spiral", "prob_elliptical", "prob_merger"):  # float32: the same numbers as FITS
        shown = ~catalogue[name].mask
        np.testing.assert_array_equal(np.asarray(reread[name])[shown].astype(np.float32),
                                      np.asarray(catalogue[name])[shown])
    small = shown & (np.asarray(catalogue["prob_spiral"]) > 0)
    assert (np.asarray(reread["prob_spiral"])[small] > 0).all()  # no probability written as 0.0000
    assert reread["prob_spiral"].mask[3] and reread["status"][3] == "missing"
    assert reread["dr7objid"].tolist() == catalogue["dr7objid"].tolist()
    # every line of the data file has the record length the ReadMe declares
    widths = {len(line) for line in (directory / "cat.dat").read_text().splitlines()}
    assert len(widths) == 1
    assert re.search(rf"^cat\.dat\s+{widths.pop()}\s+{len(catalogue)}\s", readme, re.MULTILINE)


def test_bad_coordinates_name_the_rows(catalogue, tmp_path):
    bad = catalogue.copy()
    bad["dec"][[2, 5]] = np.nan
    with pytest.raises(CatalogError, match=r"'dec' has 2 missing, NaN or out-of-range value\(s\), first "
                                           r"at row\(s\) \[2, 5\]; .*remove those rows, or classify them "
                                           r"with classify_table"):
        write_catalog(bad, tmp_path / "x")
    bad = catalogue.copy()
    bad["ra"][0] = 400
    with pytest.raises(CatalogError, match=r"'ra' has 1 .* \[0\]"):
        write_catalog(bad, tmp_path / "x")
    with pytest.raises(CatalogError, match="a catalogue needs coordinates: no column 'ra' or 'dec'"):
        write_catalog(catalogue[["dr7objid", "prob_spiral"]], tmp_path / "x")
    strings = Table({"ra": ["12:00:00", "12:00:xx"], "dec": ["+10:00:00", "+10:00:00"]})
    with pytest.raises(CatalogError, match=r"column 'ra', row 1: '12:00:xx' is not an angle \(decimal "
                                           r"degrees, or sexagesimal hours\)"):
        write_catalog(strings, tmp_path / "x")
    with pytest.raises(CatalogError, match="'flags' holds bool values; give degrees, angles or text"):
        write_catalog(Table({"ra": [1.0], "flags": [True]}), tmp_path / "x", dec_column="flags")
    with pytest.raises(CatalogError, match="the table is empty"):
        write_catalog(catalogue[:0], tmp_path / "x")
    assert list(tmp_path.iterdir()) == []  # nothing written by any of these


def test_skycoord_and_radians_are_accepted(tmp_path):
    coords = SkyCoord([10.0, 20.0] * u.deg, [-5.0, 5.0] * u.deg, frame="fk5")
    table = Table({"coord": coords, "prob_spiral": np.float32([0.2, 0.9])})
    written = Table.read(write_catalog(table, tmp_path / "sky", formats=["fits"])["fits"])
    np.testing.assert_allclose(written["ra"], coords.icrs.ra.deg)
    radians = Table({"ra": [np.pi / 2] * u.rad, "dec": [0.1] * u.rad})
    assert check_catalog(radians)["ra"][0] == pytest.approx(90)


def test_gz2_decstring_lost_the_sign_of_declinations_just_below_zero(real_data):
    """The figure the catalogue page gives: of the 1 650 Hart et al. (2016) rows of the development data,
    all 37 with -1 < dec < 0 have a decstring of "+00:..."; every other decstring reads as dec."""
    from astropy.table import vstack

    from galzoo_cnn.utils._values import degrees

    folder = real_data / "gz2_hart16_sdss"
    rows = vstack([Table.read(folder / "gz2_hart16.csv"), Table.read(folder / "gz2_hart16_no_images.csv")])
    text = degrees(rows["decstring"], "decstring", axis="dec")
    wrong = np.abs(text - rows["dec"]) * 3600 > 1
    just_below_zero = (rows["dec"] < 0) & (rows["dec"] > -1)
    assert len(rows) == 1650 and wrong.sum() == 37 and (wrong == just_below_zero).all()
    assert all(str(d).startswith("+00:") for d in rows["decstring"][wrong])


def test_sexagesimal_text_coordinates_become_degrees(tmp_path):
    """A GZ2 table's own rastring / decstring (sexagesimal hours / degrees) give the catalogue its ra / dec
    in degrees beside them, equal to the table's degrees to the strings' precision; text in ra / dec
    (sexagesimal or decimal) is read in place."""
    sample = load_demo_sample()[0]
    table = sample["dr7objid", "rastring", "decstring"]
    path = write_catalog(table, tmp_path / "sexa", formats=["votable"], ra_column="rastring",
                         dec_column="decstring")["votable"]
    written = Table.read(path)
    assert written.colnames == ["dr7objid", "ra", "rastring", "dec", "decstring"]
    assert written["rastring"].tolist() == sample["rastring"].tolist()
    # to the strings' last digits (0.01 s, 0.1 arcsec) and the float32 degrees of the table
    assert np.max(np.abs(written["ra"] - sample["ra"]) * np.cos(np.radians(sample["dec"]))) * 3600 < 0.1
    # but GZ2's decstring lost the minus sign of declinations between -1 and 0 degrees ("+00:17:29.2" for
    # -0.2914): all 37 such rows of the 1 650 Hart et al. (2016) rows of the development data, one here
    wrong_sign = (sample["dec"] < 0) & (sample["dec"] > -1)
    assert wrong_sign.sum() == 1 and sample["decstring"][wrong_sign][0] == "+00:17:29.2"
    np.testing.assert_allclose(written["dec"][wrong_sign], -sample["dec"][wrong_sign], atol=1e-4)
    assert np.max(np.abs(written["dec"] - sample["dec"])[~wrong_sign]) * 3600 < 0.06
    fields = {f.name: f for f in votable.parse_single_table(str(path)).fields}
    assert fields["ra"].ucd == "pos.eq.ra;meta.main" and str(fields["ra"].unit) == "deg"
    mixed = check_catalog(Table({"ra": ["12:00:00", "12h30m", " 180.5 "],
                                 "dec": ["-00:30:00", "10 30 00", "-1"]}))
    np.testing.assert_allclose(mixed["ra"], [180.0, 187.5, 180.5], rtol=1e-15)
    np.testing.assert_allclose(mixed["dec"], [-0.5, 10.5, -1.0], rtol=1e-15)
    with pytest.raises(CatalogError, match="holds text, whose degrees would go into a new column 'ra', which "
                                           "the table already has: pass ra_column='ra'"):
        check_catalog(sample["ra", "dec", "rastring"], ra_column="rastring")


def test_existing_files_are_kept_and_failures_leave_nothing(catalogue, tmp_path):
    paths = write_catalog(catalogue, tmp_path / "cat")
    before = {fmt: (p / "ReadMe" if p.is_dir() else p).read_bytes() for fmt, p in paths.items()}
    with pytest.raises(FileExistsError, match="cat.fits"):
        write_catalog(catalogue[:5], tmp_path / "cat")
    after = {fmt: (p / "ReadMe" if p.is_dir() else p).read_bytes() for fmt, p in paths.items()}
    assert after == before
    # overwrite replaces all three, including the CDS directory
    write_catalog(catalogue[:5], tmp_path / "cat", overwrite=True)
    assert len(Table.read(tmp_path / "cat.vot")) == 5
    assert len((tmp_path / "cat_cds" / "cat.dat").read_text().splitlines()) == 5
    # a write that fails validation leaves the old file: an object column cannot be written
    bad = catalogue.copy()
    bad["prob_bar"] = np.array([object()] * len(bad), dtype=object)
    with pytest.raises(CatalogError, match="column 'prob_bar' holds Python objects"):
        write_catalog(bad, tmp_path / "cat", formats=["fits"], overwrite=True)
    assert len(Table.read(tmp_path / "cat.fits")) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "cat.vot", "cat_cds"]
    # overwrite=True replaces the package's files only: a user's file in the CDS directory stays
    (tmp_path / "cat_cds" / "my_notes.txt").write_text("mine")
    write_catalog(catalogue[:4], tmp_path / "cat", overwrite=True)
    assert (tmp_path / "cat_cds" / "my_notes.txt").read_text() == "mine"


def test_masked_flags_of_a_multilabel_model_in_every_format(catalogue, tmp_path):
    """A flag is unknown (masked) where the image was missing: every format keeps that."""
    table = catalogue["dr7objid", "ra", "dec", "status"].copy()
    flags = np.arange(len(table)) % 3 == 0
    table["flag_bar"] = MaskedColumn(flags, mask=table["status"] != "ok")
    paths = write_catalog(table, tmp_path / "flags")
    vot_table = Table.read(paths["votable"])
    cds_table = Table.read(paths["cds"] / "flags.dat", format="ascii.cds",
                           readme=str(paths["cds"] / "ReadMe"))
    fits_table = Table.read(paths["fits"], hdu=1)
    for reread in (fits_table, vot_table, cds_table):
        assert reread["flag_bar"].mask.tolist() == (table["status"] != "ok").tolist()
        known = ~reread["flag_bar"].mask
        assert np.asarray(reread["flag_bar"])[known].astype(bool).tolist() == flags[known].tolist()
    with fits.open(paths["fits"]) as hdul:
        assert hdul[1].header["TCOMM5"].endswith("(1 true, 0 false)")
        assert hdul[1].header["TFORM5"] == "B" and hdul[1].header["TNULL5"] == 255
    # the same FITS type when nothing is masked: one type for the column, whatever its masks
    table["flag_bar"] = flags
    path = write_catalog(table, tmp_path / "unmasked", formats=["fits"])["fits"]
    with fits.open(path) as hdul:
        assert hdul[1].header["TFORM5"] == "B"


def test_coordinates_under_other_names(catalogue, tmp_path):
    table = catalogue["dr7objid", "ra", "dec"].copy()
    table.rename_columns(["ra", "dec"], ["RAJ2000", "DEJ2000"])
    path = write_catalog(table, tmp_path / "c", formats=["votable"], ra_column="RAJ2000",
                         dec_column="DEJ2000")["votable"]
    fields = {f.name: f for f in votable.parse_single_table(str(path)).fields}
    assert fields["RAJ2000"].ucd == "pos.eq.ra;meta.main" and fields["RAJ2000"].ref == "icrs"
    assert str(fields["DEJ2000"].unit) == "deg"


def test_undescribed_columns_are_refused_unless_described(tmp_path):
    table = Table({"ra": [1.0], "dec": [2.0], "my_mass": [1e10]})
    with pytest.raises(CatalogError, match="no description for column.s. my_mass"):
        write_catalog(table, tmp_path / "x")
    paths = write_catalog(table, tmp_path / "x", formats=["votable"],
                          descriptions={"my_mass": "Stellar mass from my SED fit"})
    assert "Stellar mass from my SED fit" in paths["votable"].read_text()


def test_cds_limits_and_nulls_follow_the_cds_syntax_once(tmp_path):
    table = Table({"ra": [10.0, 20.0, 30.0], "dec": [-5.0, 0.0, 5.0],
                   "flag_ring": MaskedColumn([True, False, True], mask=[0, 1, 0]),
                   "myval": MaskedColumn([1.5, 2.5, 2.0], mask=[0, 0, 1]),
                   "n": MaskedColumn([0, 5, 3], mask=[0, 0, 1])})
    descriptions = {"myval": "a value", "n": "a count"}
    directory = write_catalog(table, tmp_path / "cat", descriptions=descriptions)["cds"]
    readme = (directory / "ReadMe").read_text()
    for text in ("[0/1]? Model's verdict", "[1.5/2.5]? a value", "[0/5]? a count"):
        assert text in readme
    assert "? [" not in readme and "] [" not in readme  # the CDS order, one range a column
    reread = Table.read(directory / "cat.dat", format="ascii.cds", readme=str(directory / "ReadMe"))
    assert reread["flag_ring"].mask.tolist() == [False, True, False]


def test_times_and_extra_positions_are_written_and_label_clashes_refused(tmp_path):
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    table = Table({"ra": [10.0, 20.0], "dec": [-5.0, 0.0]})
    table["obs_time"] = Time(["2020-01-01", "2021-06-01"])
    table["obs_time"].info.description = "Time of observation"
    table["neighbour"] = SkyCoord([11, 21] * u.deg, [-4, 1] * u.deg)
    table["neighbour"].info.description = "the nearest neighbour"
    paths = write_catalog(table, tmp_path / "cat")
    back = Table.read(paths["fits"], hdu=1)
    assert back.colnames == ["ra", "dec", "obs_time", "neighbour_ra", "neighbour_dec"]  # nothing dropped
    assert back["obs_time"].tolist() == [58849.0, 59366.0] and str(back["obs_time"].unit) == "d"
    assert back["neighbour_dec"].tolist() == [-4.0, 1.0]
    readme = " ".join((paths["cds"] / "ReadMe").read_text().split())  # explanations wrap over lines
    assert "Time of observation (MJD, UTC)" in readme and "the nearest neighbour" in readme
    with pytest.raises(CatalogError, match="'ra' and 'RAdeg' would both be labelled 'RAdeg'"):
        check_catalog(Table({"ra": [1.0], "dec": [2.0], "RAdeg": [3.0]}), descriptions={"RAdeg": "x"})


def test_readme_front_matter_fits_the_table(tmp_path):
    from galzoo_cnn.datasets import load_gz2_sample

    labels = five_class_labels(load_gz2_sample(layout="hart2016"))
    labels = labels[["dr8objid", "ra", "dec", "gz2_five_class"]][:5]
    paths = write_catalog(labels, tmp_path / "labels",
                          readme={"adc_keywords": ["Galaxy catalogs", "Morphology", "Photometry, SDSS"]})
    readme = (paths["cds"] / "ReadMe").read_text()
    # a keyword with a comma stays one keyword: they are separated by semicolons (J/other/KNIT/28.3)
    assert "ADC_Keywords: Galaxy catalogs ; Morphology ; Photometry, SDSS\n" in readme
    default = (write_catalog(labels, tmp_path / "default", formats=["cds"])["cds"] / "ReadMe").read_text()
    assert "ADC_Keywords: Galaxy catalogs ; Morphology\n" in default
    flat = " ".join(readme.split())
    assert "Galaxy Zoo morphological labels" in flat and "convolutional neural network" not in flat
    abstract = flat.split("Abstract: ")[1].split(" Description: ")[0]
    assert abstract not in flat.split(" Description: ")[1]  # the description does not repeat it


def test_a_name_too_long_for_the_readme_is_refused_up_front(tmp_path):
    name = "x" * 46  # accepted by FITS (68), but no ReadMe line holds it
    with pytest.raises(CatalogError, match="CDS label of 46 characters"):
        write_catalog(Table({"ra": [1.0], "dec": [2.0], name: [1.5]}), tmp_path / "cat",
                      descriptions={name: "a value"})
    assert not list(tmp_path.iterdir())
    forty = "y" * 40
    write_catalog(Table({"ra": [1.0], "dec": [2.0], forty: [1.5]}), tmp_path / "cat",
                  descriptions={forty: "v"})


def test_ecsv_keeps_the_metadata_and_is_the_one_format_without_positions(catalogue, tmp_path):
    paths = write_catalog(catalogue, tmp_path / "cat", formats=["fits", "ecsv"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.ecsv", "cat.fits"]
    written, fits_table = Table.read(paths["ecsv"]), Table.read(paths["fits"])
    assert written.colnames == fits_table.colnames
    assert written["ra"].unit == u.deg and written["ra"].meta["ucd"] == "pos.eq.ra;meta.main"
    assert written["prob_spiral"].mask.tolist() == fits_table["prob_spiral"].mask.tolist()  # missing image
    assert np.array_equal(written["prob_spiral"].compressed(), fits_table["prob_spiral"].compressed())
    prepared = check_catalog(catalogue)  # what every format is written from
    for name in written.colnames:
        assert written[name].description == prepared[name].description, name
        assert written[name].unit == prepared[name].unit, name
        assert written[name].meta.get("ucd") == prepared[name].meta.get("ucd"), name
    assert written.meta["provenance"]["model"] == "sample-gz1" and written.meta["references"]
    # without positions: ECSV alone is written; with a VizieR format the set is refused, nothing written
    anonymous = catalogue.copy()
    anonymous.remove_columns(["ra", "dec"])
    write_catalog(anonymous, tmp_path / "anon", formats=["ecsv"])
    assert "ra" not in Table.read(tmp_path / "anon.ecsv").colnames
    with pytest.raises(CatalogError, match=r"needs coordinates.*formats=\['ecsv'\]"):
        write_catalog(anonymous, tmp_path / "anon2", formats=["votable", "ecsv"])
    assert not list(tmp_path.glob("anon2*"))
    # a table of more rows than are written (and read back) at a time: one header, every row once
    from astropy.table import vstack

    big = vstack([anonymous] * 1200)  # 43 200 rows, three blocks
    write_catalog(big, tmp_path / "big", formats=["ecsv"])
    text = (tmp_path / "big.ecsv").read_text()
    assert text.count("%ECSV") == 1 and text.count("\n" + " ".join(big.colnames) + "\n") == 1
    reread = Table.read(tmp_path / "big.ecsv")
    assert len(reread) == len(big) and reread["filename"].tolist() == big["filename"].tolist()
    assert np.array_equal(reread["prob_spiral"].mask, big["prob_spiral"].mask)
    # positions that are there are checked as in every format
    located = catalogue.copy()
    located["ra"][2] = np.nan
    with pytest.raises(CatalogError, match=r"'ra' has 1 missing.*row\(s\) \[2\]"):
        write_catalog(located, tmp_path / "nan", formats=["ecsv"])
