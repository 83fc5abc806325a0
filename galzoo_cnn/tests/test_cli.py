# Licensed under a 3-clause BSD style license - see LICENSE
import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn.cli import build_parser, main
from galzoo_cnn.columns import QUALITY_FLAGS
from galzoo_cnn.datasets import gz2_sample_path, load_gz2_sample
from galzoo_cnn.exceptions import GalzooDeprecationWarning
from galzoo_cnn.labels import five_class_labels
from galzoo_cnn.utils._argparse import as_options


def test_labels_command_writes_table(tmp_path, capsys):
    out = tmp_path / "labels.fits"
    assert main(["labels", str(gz2_sample_path(layout="willett2013")), "--output", str(out),
                "--features"]) == 0
    written = Table.read(out)
    expected = five_class_labels(gz2_sample_path(layout="willett2013"))
    assert len(written) == 300 and "label_arms_tight" in written.colnames
    # FITS reads an empty string back as masked
    criteria = np.ma.filled(np.ma.asarray(written["gz2_five_class_criteria"]), "")
    assert list(criteria) == list(expected["gz2_five_class_criteria"])
    assert "five_class = " in "".join(written.meta["comments"])
    assert np.array_equal(written["gz2_five_class"].mask, expected["gz2_five_class"].mask)
    assert "class: spiral" in capsys.readouterr().out
    # an existing output is not replaced without --overwrite, and stays intact
    before = out.read_bytes()
    assert main(["labels", str(gz2_sample_path(layout="hart2016")), "--output", str(out)]) == 2
    assert "exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.fits"]  # no temporary files left


def test_labels_command_writes_feature_fractions(tmp_path, capsys, real_data):
    """Soft labels of real Kaggle-layout rows beside the labels, with their metadata in the file."""
    out = tmp_path / "labels.ecsv"
    votes = real_data / "gz2_kaggle_votes" / "votes.csv"
    assert main(["labels", str(votes), "-o", str(out), "--features", "--feature-fractions"]) == 0
    written = Table.read(out)
    known = ~written["fraction_ring"].mask
    assert known.sum() == 612 and written["fraction_ring"].unit is None
    assert np.array_equal(written["fraction_ring"][known] >= 0.5, written["label_ring"][known])
    assert "Fraction of the GZ2 votes" in written["fraction_odd_yes"].description
    decals = real_data / "gz_decals_rings" / "labels.csv"
    assert main(["labels", str(decals), "-o", str(tmp_path / "d.ecsv"), "--gz-decals",
                 "--feature-fractions"]) == 2
    assert "--feature-fractions reads GZ2 votes" in capsys.readouterr().err


def test_labels_command_errors(tmp_path, capsys):
    assert main(["labels", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "x.ecsv")]) == 2
    assert "missing.csv' does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.ecsv"
    Table({"objid": [1, 2]}).write(bad)
    assert main(["labels", str(bad), "-o", str(tmp_path / "x.ecsv")]) == 2
    assert "five_class_labels: GZ2 columns" in capsys.readouterr().err


def test_taxonomy_command(capsys):
    assert main(["taxonomy", "--five-class"]) == 0
    out = capsys.readouterr().out
    assert "edge_on_no" in out and "0.715" in out and "Khramtsov" in out


def test_demo_runs_as_a_command(tmp_path):
    # the console script as users run it, in a separate process
    result = subprocess.run([sys.executable, "-m", "galzoo_cnn.cli", "demo", "--output", str(tmp_path),
                             "--no-progress"], capture_output=True, text=True, check=True)
    assert "classifying 36 real SDSS galaxies" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery.png", "galzoo_demo.fits",
                                                          "galzoo_demo.vot", "galzoo_demo_cds"]
    catalogue = Table.read(tmp_path / "galzoo_demo.fits")
    assert len(catalogue) == 36 and set(catalogue["status"]) == {"ok"}
    assert "filename" not in catalogue.colnames  # no local file names in a published catalogue
    assert "sample-gz2" in result.stdout
    # the summary's agreement counts are the catalogue's, faulty frames (a flag but bright_border) left out
    five = np.ma.filled(catalogue["gz2_five_class"], "").astype(str)
    flags = np.ma.filled(catalogue["quality_flags"], 0)
    border = QUALITY_FLAGS["bright_border"][0]
    labelled = (five != "") & (flags & ~border == 0)
    agree = int(np.sum(five[labelled] == np.asarray(catalogue["predicted_class"]).astype(str)[labelled]))
    assert f"five classes: {agree} of {labelled.sum()} galaxies" in result.stdout
    # and the close-ups are said to be close-ups, with what the card measured on such frames
    assert f"{np.count_nonzero(flags & border)} of 36 frames raise bright_border" in result.stdout
    assert "gives the GZ2 five-class label to 54%" in " ".join(result.stdout.split())
    spirals = (five == "spiral").sum()
    assert re.search(r"^\s+spiral(\s+\d+){5}$", result.stdout, re.MULTILINE)
    row = re.search(r"^\s+spiral((?:\s+\d+){5})$", result.stdout, re.MULTILINE).group(1).split()
    assert sum(map(int, row)) == spirals
    from PIL import Image

    with Image.open(tmp_path / "gallery.png") as gallery:
        assert gallery.size[0] > 800 and gallery.size[1] > 800


def test_classify_command_writes_catalogues(tmp_path, capsys):
    from galzoo_cnn.datasets import load_demo_sample

    sample, image_dir = load_demo_sample()
    sample[:6].write(tmp_path / "in.ecsv")
    base = tmp_path / "out" / "cat"
    args = ["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output", str(base),
            "--keep", "dr7objid", "ra", "dec", "--no-progress", "--formats", "fits", "votable"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Classified 6 rows: ok=6" in out
    written = Table.read(f"{base}.fits")
    assert written.colnames[:4] == ["dr7objid", "ra", "dec", "filename"]
    assert "prob_spiral" in written.colnames and not (tmp_path / "out" / "cat_cds").exists()
    with_features = ["--formats", "fits", "--features-model", "sample-gz2-features", "--overwrite"]
    assert main(args[:-3] + with_features) == 0
    both = Table.read(f"{base}.fits")
    assert {"prob_spiral", "prob_feature_ring", "flag_ring"} <= set(both.colnames)
    assert (both["prob_spiral"] == written["prob_spiral"]).all()  # the five classes as without features
    assert main(args[:-3] + ["--formats", "fits", "--features-model", "sample-gz1", "--overwrite"]) == 2
    assert "features_model is a 'five_class' model" in capsys.readouterr().err
    # an input column the registry does not know stops the command before any classification
    sample["my_flag"] = 1
    sample[:6][["dr7objid", "ra", "dec", "sample", "filename", "my_flag"]].write(tmp_path / "in2.ecsv")
    assert main(["classify", str(tmp_path / "in2.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "x"), "--no-progress"]) == 2
    # GZ2's own 'sample' column (original, extra...) is known as well as the registry's training one
    assert "no description for column(s) my_flag" in capsys.readouterr().err
    assert main(["classify", str(tmp_path / "in2.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "x"), "--no-progress", "--formats", "votable",
                 "--describe", "my_flag=A flag of mine"]) == 0
    assert "<DESCRIPTION>\n     A flag of mine" in (tmp_path / "x.vot").read_text()


def test_classify_command_on_a_folder_of_images(real_data, tmp_path, capsys):
    """Cutouts without a table: every image of the folder classified by name, one bad file a row with its
    status, and an ECSV table (no positions, so no VizieR formats) holding the registry's metadata."""
    import shutil

    from galzoo_cnn import classify_table

    source = real_data / "gz2_kaggle_native" / "images"
    folder = tmp_path / "cutouts"
    folder.mkdir()
    names = sorted(p.name for p in source.iterdir())[:5]
    for name in names:
        shutil.copy(source / name, folder / name)
    (folder / "broken.jpg").write_bytes((source / names[0]).read_bytes()[:300])  # a cut-off download
    (folder / "notes.txt").write_text("not an image")
    (folder / "field2").mkdir()
    shutil.copy(source / names[0], folder / "field2" / "again.jpg")  # read with --recursive only
    base = tmp_path / "out" / "cutouts"
    assert main(["classify", str(folder), "-o", str(base), "--no-progress"]) == 0
    assert "Classified 6 rows: ok=5" in capsys.readouterr().out
    assert sorted(p.name for p in base.parent.iterdir()) == ["cutouts.ecsv"]
    written = Table.read(f"{base}.ecsv")
    assert written["filename"].tolist() == [*names, "broken.jpg"]  # sorted by name: digits first
    assert written["status"].tolist() == ["ok"] * 5 + ["undecodable"]
    assert "spiral arms" in written["prob_spiral"].description
    assert written["prob_spiral"].meta["ucd"] == "stat.probability"
    assert written.meta["provenance"]["model"] == "sample-gz2-dihedral"
    by_table = classify_table(Table({"filename": names}), image_dir=source, progress=False)
    assert np.allclose(written["prob_spiral"][:5], by_table["prob_spiral"], rtol=0, atol=1e-6)
    assert main(["classify", str(folder), "-o", str(base), "--no-progress", "--recursive",
                 "--overwrite"]) == 0
    nested = Table.read(f"{base}.ecsv")
    assert nested["filename"][-1] == "field2/again.jpg" and nested["status"][-1] == "ok"
    assert nested["prob_spiral"][-1] == pytest.approx(written["prob_spiral"][0], abs=1e-6)
    # a table of file names without positions is told how to get a table anyway
    Table({"filename": names}).write(tmp_path / "names.csv")
    assert main(["classify", str(tmp_path / "names.csv"), "--image-dir", str(source), "-o",
                 str(tmp_path / "names"), "--no-progress"]) == 2
    assert "needs no positions: --formats ecsv" in capsys.readouterr().err
    assert main(["classify", str(tmp_path / "names.csv"), "--image-dir", str(source), "-o",
                 str(tmp_path / "names"), "--no-progress", "--formats", "ecsv"]) == 0
    assert Table.read(tmp_path / "names.ecsv")["filename"].tolist() == names


def test_classify_command_takes_the_catalogue_metadata(tmp_path, capsys):
    from galzoo_cnn.datasets import load_demo_sample

    sample, image_dir = load_demo_sample()
    sample[:3]["dr7objid", "ra", "dec", "filename"].write(tmp_path / "in.ecsv")
    (tmp_path / "readme.yaml").write_text(
        "title: Ignored, the option wins\nbibcode: 2027MNRAS.000....0S\ncatalogue: J/MNRAS/000/0\n"
        "date: '2027'\nacknowledgements: Thanks to the Galaxy Zoo volunteers.\n")
    base = tmp_path / "cat"
    assert main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output", str(base),
                 "--no-progress", "--title", "Three SDSS galaxies", "--authors", "Doe J., Roe R.",
                 "--readme", str(tmp_path / "readme.yaml")]) == 0
    readme = (tmp_path / "cat_cds" / "ReadMe").read_text()
    assert readme.startswith("J/MNRAS/000/0  Three SDSS galaxies")
    assert "(Doe+, 2027)" in readme.splitlines()[0]
    assert "=2027MNRAS.000....0S" in readme and "Thanks to the Galaxy Zoo volunteers." in readme
    from astropy.io import fits

    with fits.open(f"{base}.fits") as hdul:
        assert hdul[1].header["TITLE"] == "Three SDSS galaxies"
        assert hdul[1].header["BIBCODE"] == "2027MNRAS.000....0S"
    # a YAML file that is not a mapping, and non-ASCII metadata, are one-line errors before any work
    (tmp_path / "bad.yaml").write_text("just a string\n")
    assert main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "y"), "--readme", str(tmp_path / "bad.yaml")]) == 2
    assert "expected a YAML mapping" in capsys.readouterr().err
    assert main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "y"), "--authors", "Müller J."]) == 2
    assert "non-ASCII" in capsys.readouterr().err and not list(tmp_path.glob("y*"))


def test_adversarial_command_on_real_cutouts(real_data, tmp_path):
    """The inference sample as users often have it: a folder of cutouts without a table."""
    import shutil

    gz1 = Table.read(real_data / "gz1_sdss" / "labels.csv")[:60]
    (tmp_path / "gz1").mkdir()
    for name in gz1["filename"]:
        shutil.copy(real_data / "gz1_sdss" / "images" / name, tmp_path / "gz1" / name)
    gz2 = real_data / "gz2_hart16_sdss" / "gz2_hart16.csv"
    status = main(["adversarial", str(gz2), str(tmp_path / "gz1"),
                   "--training-image-dir", str(real_data / "gz2_hart16_sdss" / "images"),
                   "--output", str(tmp_path / "adv"), "--backbone", "test_resnet", "--epochs", "2",
                   "--batch-size", "16", "--no-progress"])
    assert status == 0
    scores = Table.read(tmp_path / "adv" / "adversarial_scores.ecsv")
    assert len(scores) == 160 and "adversarial_score" in scores.colnames
    inference = scores[scores["domain"] == "inference"]
    assert sorted(Path(p).name for p in inference["filename"]) == sorted(gz1["filename"])
    assert (tmp_path / "adv" / "adversarial_scores.png").stat().st_size > 10_000


def test_query_sql_and_samples_commands(tmp_path, capsys):
    assert main(["query", "--sql", "--z-max", "0.08"]) == 0
    assert "s.z < 0.08" in capsys.readouterr().out
    assert main(["query"]) == 2
    assert "--output is needed" in capsys.readouterr().err
    gz2 = load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"]
    gz2[:100].write(tmp_path / "gz2.fits")
    gz2.write(tmp_path / "targets.ecsv")
    assert main(["samples", str(tmp_path / "targets.ecsv"), str(tmp_path / "gz2.fits"),
                 "--output", str(tmp_path / "samples.fits")]) == 0
    samples = Table.read(tmp_path / "samples.fits")
    assert (samples["sample"] == "training").sum() == 100 and len(samples) == 252


def test_fetch_command_writes_manifest(tmp_path, capsys):
    from galzoo_cnn.tests.cutout_server import CutoutServer

    targets = load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"][:5]
    targets.write(tmp_path / "targets.fits")
    with CutoutServer() as server:
        server.plan[repr(float(targets["ra"][3]))] = ["404"]
        status = main(["fetch", str(tmp_path / "targets.fits"), "--image-dir", str(tmp_path / "img"),
                       "--id-column", "dr7objid", "--base-url", server.url, "--no-progress"])
    assert status == 2  # something failed: the shell can tell
    manifest = Table.read(tmp_path / "img" / "manifest.ecsv")
    assert list(manifest["status"]) == ["ok", "ok", "ok", "failed", "ok"]
    assert '"failed": 1' in capsys.readouterr().out
    # the former option name still works, with a deprecation warning; --output writes the table,
    # which galzoo-cnn classify reads as it is
    with CutoutServer() as server, pytest.warns(GalzooDeprecationWarning, match="--out is now --image-dir"):
        status = main(["fetch", str(tmp_path / "targets.fits"), "--out", str(tmp_path / "img"),
                       "--id-column", "dr7objid", "--base-url", server.url, "--no-progress",
                       "--output", str(tmp_path / "fetched.ecsv")])
    assert status == 0 and Table.read(tmp_path / "fetched.ecsv")["cutout_status"].tolist() == [
        "cached", "cached", "cached", "ok", "cached"]
    assert main(["classify", str(tmp_path / "fetched.ecsv"), "--image-dir", str(tmp_path / "img"),
                 "--output", str(tmp_path / "cat"), "--formats", "votable", "--no-progress"]) == 0
    assert Table.read(tmp_path / "cat.vot")["status"].tolist() == ["ok"] * 5


def test_classify_command_fails_when_no_row_is_classified(tmp_path, capsys):
    """A mistyped --image-dir leaves every row 'missing': exit 2, a one-line error, no catalogue."""
    from galzoo_cnn.datasets import load_demo_sample

    sample, _ = load_demo_sample()
    sample[:3]["dr7objid", "ra", "dec", "filename"].write(tmp_path / "in.ecsv")
    (tmp_path / "empty").mkdir()
    status = main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(tmp_path / "empty"),
                   "--output", str(tmp_path / "cat"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and "no row could be classified (missing=3)" in err
    assert "Traceback" not in err and not list(tmp_path.glob("cat*"))


def test_errors_name_the_command_line_options(real_data, tmp_path, capsys):
    """The API's hints (``ra_column=``, ``crop=0.01``) reach a command-line user as the options to type;
    a keyword that is no option of the command, and text like 'missing=3', stay as they are."""
    decals = real_data / "gz_decals_rings"
    status = main(["classify", str(decals / "labels.csv"), "--image-dir", str(decals / "images"),
                   "--output", str(tmp_path / "cat"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and "no column 'ra' or 'dec'" in err
    assert "pass --ra-column and --dec-column, or a SkyCoord column" in err and "ra_column=" not in err
    hart = real_data / "gz2_hart16_sdss"
    status = main(["classify", str(hart / "gz2_hart16.csv"), "--image-dir", str(hart / "images"),
                   "--output", str(tmp_path / "cat"), "--crop", "0.01", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and "error: --crop 0.01 must lie in [0.1," in err
    assert not list(tmp_path.glob("cat*"))
    parser = build_parser()
    assert as_options("give the features model as model= alone (missing=3)", parser, "classify") == (
        "give the features model as --model alone (missing=3)")
    assert as_options("rule='x'; expected one of", parser, "classify") == "rule='x'; expected one of"
    assert as_options("rule='x'; expected one of", parser, "evaluate") == "--rule 'x'; expected one of"
    assert as_options("pass overwrite=True; progress=False", parser, "classify") == (
        "pass --overwrite; progress=False")  # the option is --no-progress, dest no_progress
    assert as_options("overwrite=False", parser, "classify") == "overwrite=False"


def test_an_option_given_twice_stops_the_command(real_data, tmp_path, capsys):
    """argparse keeps the last of two values: ``--model A --model B`` would classify with B alone and
    write a catalogue without A's columns. The command stops instead, saying what to type."""
    images = str(real_data / "gz2_kaggle_native" / "images")
    argv = ["classify", images, "-o", str(tmp_path / "cat"), "--model", "sample-gz2-dihedral",
            "--model", "sample-gz2-features"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "--model sample-gz2-dihedral and --model sample-gz2-features given twice" in err
    assert "a features model goes in --features-model" in err
    with pytest.raises(SystemExit):
        main(["classify", images, "-o", str(tmp_path / "cat"), "--formats", "fits", "--formats", "ecsv"])
    assert "give them all after one --formats: --formats fits ecsv" in capsys.readouterr().err
    with pytest.raises(SystemExit), pytest.warns(GalzooDeprecationWarning):  # a former name counts too
        main(["classify", images, "--images", images, "--image-dir", images, "-o", str(tmp_path / "cat")])
    assert "--images" in capsys.readouterr().err and not list(tmp_path.iterdir())
    parser = build_parser()  # once each is fine, in every command, and a parser parses again
    for _ in range(2):
        args = parser.parse_args(["classify", images, "-o", "cat", "--model", "m", "--features-model", "f"])
        assert (args.model, args.features_model) == ("m", "f")


def test_embed_and_similar_commands_on_real_images(tmp_path, capsys):
    """Similarity search from the shell (paper Figs. 5, 8): a reference embedded once, then searched."""
    from galzoo_cnn.datasets import load_demo_sample
    from galzoo_cnn.similarity import similar_galaxies

    sample, image_dir = load_demo_sample()
    table = tmp_path / "galaxies.ecsv"
    sample["dr7objid", "ra", "dec", "filename"].write(table)
    reference = tmp_path / "reference.fits"
    assert main(["embed", str(table), "--image-dir", str(image_dir), "-o", str(reference),
                 "--no-progress"]) == 0
    assert "Embedded 36 of 36 rows (sample-gz2-dihedral, 1024 features)" in capsys.readouterr().out
    embedded = Table.read(reference)
    assert embedded["embedding"].shape == (36, 1024) and embedded.meta["EMBMODEL"] == "sample-gz2-dihedral"
    pairs = tmp_path / "pairs.ecsv"
    search = ["similar", str(table), str(reference), "--image-dir", str(image_dir), "-o", str(pairs),
              "--k", "3", "--id-column", "dr7objid", "--no-progress"]
    # the reference's embedding is read, not computed again: its images need not be there
    assert main(search + ["--reference-image-dir", str(tmp_path / "elsewhere")]) == 0
    found = Table.read(pairs)
    nearest = found[found["rank"] == 1]
    assert len(found) == 36 * 3 and (nearest["query_id"] == nearest["reference_id"]).all()  # each is its own
    expected = similar_galaxies(sample, embedded, k=3, image_dir=image_dir, progress=False)
    assert found["reference_row"].tolist() == expected["reference_row"].tolist()
    assert main(search) == 2 and "pass --overwrite" in capsys.readouterr().err
    figure = tmp_path / "similar.png"
    assert main(search + ["--overwrite", "--figure", str(figure), "--figure-rows", "2"]) == 0
    assert figure.stat().st_size > 10_000 and Table.read(pairs).meta["k"] == 3
    assert main(["embed", str(table), "-o", str(tmp_path / "e.csv")]) == 2  # no vector column in CSV
    assert "write FITS (.fits) or ECSV (.ecsv)" in capsys.readouterr().err


def test_evaluate_help_states_the_defaults_of_evaluate_model():
    """The parser cannot import evaluate_model (it would load torch at every start), so its help
    repeats the defaults in words: they must be the function's own."""
    import inspect

    from astropy import units as u

    from galzoo_cnn.cli import build_parser
    from galzoo_cnn.columns import FIVE_CLASS_COLUMN
    from galzoo_cnn.config import conf
    from galzoo_cnn.report import evaluate_model

    evaluate = build_parser()._subparsers._group_actions[0].choices["evaluate"]
    helps = {action.dest: action.help for action in evaluate._actions}
    defaults = {name: p.default for name, p in inspect.signature(evaluate_model).parameters.items()}
    assert defaults["model"] is None and defaults["truth_column"] is None  # conf / the five classes
    expected = {"model": conf.default_model, "truth_column": FIVE_CLASS_COLUMN,
                "image_column": defaults["image_column"], "rule": defaults["rule"],
                "bootstrap": defaults["n_bootstrap"], "figure_formats": defaults["figure_formats"][0],
                "radius": f"{defaults['radius'].to_value(u.arcsec):g}"}
    for dest, value in expected.items():
        stated = rf"\(default:? (the configuration item \w+, )?{re.escape(str(value))}[;)]"
        assert re.search(stated, helps[dest]), (dest, helps[dest])


def test_every_option_of_every_command_says_what_it_does():
    """``galzoo-cnn COMMAND --help`` is the reference a user reads first: no option is left bare."""
    bare = [f"{name} {'/'.join(action.option_strings) or action.dest}"
            for name, command in build_parser()._subparsers._group_actions[0].choices.items()
            for action in command._actions
            if not action.help and action.help is not argparse.SUPPRESS]
    assert not bare, bare


@pytest.mark.parametrize("command", [
    ["classify", "{table}", "-o", "{tmp}/cat"],       # no coordinates: refused by the catalogue checks
    ["evaluate", "{tmp}/missing.csv", "-o", "{tmp}/ev"],
    ["report", "{tmp}"],                              # not an evaluation directory
    ["train", "--config", "paper-five-clas"],         # a mistyped configuration name
    ["train", "--config", "{tmp}/typo.yaml"],         # a mistyped key ("epoch")
    ["train", "--config", "paper-five-class", "--epochs", "0"],  # a value out of range
    ["compare-backbones", "--config", "{tmp}/run.yaml", "--output", "{tmp}/cmp"],
    ["adversarial", "{table}", "{tmp}/missing.csv", "--output", "{tmp}/adv"],
    ["classify", "{images}", "--image-dir", "{tmp}", "-o", "{tmp}/cat"],  # a folder is its own image_dir
    ["classify", "{images}", "-o", "{tmp}/cat", "--formats", "fits"],     # no positions for FITS
    ["embed", "{table}", "-o", "{tmp}/embedded.csv"],                     # no vector column in CSV
    ["similar", "{images}", "{tmp}/missing.fits", "-o", "{tmp}/pairs.ecsv"],
    ["similar", "{images}", "{images}", "-o", "{tmp}/pairs.txt"],          # no table format in the name
    ["similar", "{images}", "{images}", "-o", "{tmp}/pairs.ecsv", "--figure", "{tmp}/similar.xyz"],
    ["similar", "{images}", "{images}", "-o", "{tmp}/pairs.ecsv", "--figure", "{tmp}/s.png", "--figure-rows",
     "0"],
])
def test_refusals_come_before_torch_loads(tmp_path, real_data, command):
    """A mistake in the input is reported in about a second: torch and Lightning (seconds to load)
    are imported only after the checks."""
    table = real_data / "gz_decals_rings" / "labels.csv"   # real rows without ra / dec
    (tmp_path / "typo.yaml").write_text(f"objective: five_class\ntable: {table}\noutput: run\nepoch: 3\n")
    argv = [part.format(table=table, tmp=tmp_path, images=table.parent / "images") for part in command]
    code = ("import sys; from galzoo_cnn.cli import main; status = main(sys.argv[1:]); "
            "print(status, 'torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["2", "False"], run.stderr
    assert "error:" in run.stderr and "Traceback" not in run.stderr
