# Licensed under a 3-clause BSD style license - see LICENSE
"""evaluate_model / write_report and their commands on real GZ2 images; the report in a real browser."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn.cli import main
from galzoo_cnn.evaluation import feature_metrics
from galzoo_cnn.exceptions import InputError
from galzoo_cnn.report import evaluate_model, write_report


@pytest.fixture(scope="module")
def kaggle_rows(real_data):
    """120 real Kaggle GZ2 galaxies of sample-gz2's held-out test rows, with their five classes."""
    from importlib.resources import files

    test_rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
    return test_rows[:120], real_data / "gz2_kaggle_5class" / "images"


@pytest.fixture(scope="module")
def evaluation(kaggle_rows, tmp_path_factory):
    rows, image_dir = kaggle_rows
    output = tmp_path_factory.mktemp("evaluation") / "sample-gz2"
    metrics = evaluate_model(rows, output=output, image_dir=image_dir, n_bootstrap=200, progress=False)
    return metrics, output


def _no_constant(name):
    raise AssertionError(f"{name} in a JSON file: strict parsers refuse it")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]


def test_evaluation_files_hold_what_the_classifier_did(evaluation):
    metrics, output = evaluation
    classified = Table.read(output / "classified.ecsv")
    truth, predicted = np.asarray(classified["gz2_five_class"]), np.asarray(classified["predicted_class"])
    assert metrics.meta["accuracy"] == pytest.approx(np.mean(truth == predicted))
    for row in metrics:
        chosen = predicted == row["class"]
        assert row["precision"] == pytest.approx(np.mean(truth[chosen] == row["class"]))
    written = Table.read(output / "metrics.ecsv")
    assert written["class"].tolist() == metrics["class"].tolist()
    assert written.meta["accuracy"] == metrics.meta["accuracy"]
    confusion = Table.read(output / "confusion.ecsv")
    assert confusion["spiral"][confusion["true_class"] == "spiral"][0] == np.sum(
        (truth == "spiral") & (predicted == "spiral"))
    summary = json.loads((output / "summary.json").read_text(), parse_constant=_no_constant)
    for tex in output.glob("*.tex"):  # captioned, and missing values as --, not nan
        text = tex.read_text()
        assert "\\caption{" in text and not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert summary["model"]["name"] == "sample-gz2-dihedral"  # the default model
    assert summary["figures"] == ["confusion", "reliability", "mistakes"]
    # the reliability table and the headline's ECE recomputed from the classified rows
    from galzoo_cnn.calibration import calibration_error
    classes = summary["model"]["classes"]
    probabilities = np.column_stack([np.asarray(classified[f"prob_{c}"]) for c in classes])
    ece = calibration_error(probabilities, [classes.index(t) for t in truth])
    assert summary["headline"]["ece"] == pytest.approx(ece)
    from galzoo_cnn.calibration import calibration_floor
    floor = calibration_floor(probabilities, n_draws=200)  # what exact probabilities read on these rows
    assert summary["headline"]["ece_if_calibrated"] == pytest.approx([floor["median"], floor["p95"]])
    assert 0 < floor["median"] < floor["p95"]
    reliability = Table.read(output / "reliability.ecsv")
    top = reliability[reliability["curve"] == "top_label"]
    assert top["n"].sum() == len(classified)
    assert "most confident disagreements" in summary["captions"]["mistakes"]
    from galzoo_cnn.report import _most_confident_mistakes

    shown = _most_confident_mistakes(classified, "gz2_five_class", False)
    confidence = np.array([classified[f"prob_{p}"][i] for i, p in enumerate(predicted)])
    wrong = np.flatnonzero(truth != predicted)
    assert len(shown) == min(12, len(wrong)) and set(shown) <= set(wrong)
    assert confidence[shown].min() >= np.sort(confidence[wrong])[::-1][len(shown) - 1]
    assert "accuracy" in summary["captions"]["confusion"]
    tex = (output / "metrics.tex").read_text()
    assert "n\\_true" in tex and "rounded\\_in\\_between" in tex  # underscores escaped for LaTeX
    assert (output / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluation_is_not_overwritten_and_fails_before_writing(evaluation, kaggle_rows, tmp_path):
    _, output = evaluation
    rows, image_dir = kaggle_rows
    before = {p.name: p.stat().st_mtime_ns for p in output.iterdir()}
    with pytest.raises(InputError, match=r"unknown format\(s\) \['jpeg'\]"):
        evaluate_model(rows[:5], output=tmp_path / "x", figure_formats=["jpeg"], image_dir=image_dir)
    with pytest.raises(InputError, match="already holds an evaluation"):
        evaluate_model(rows[:5], output=output, image_dir=image_dir, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in output.iterdir()} == before
    with pytest.raises(KeyError, match="no_such_column"):
        evaluate_model(rows[:5], output=tmp_path / "new", truth_column="no_such_column", image_dir=image_dir,
                       progress=False)
    assert not (tmp_path / "new").exists()


def test_report_is_one_self_contained_file(evaluation, tmp_path):
    _, output = evaluation
    page = write_report(output, output=tmp_path / "report.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert parser.links and all(link.startswith("data:image/png;base64,") for link in parser.links)
    # nothing fetched: no script, no remote source or link (base64 data may spell "http" by chance)
    assert "<script" not in page and not re.search(r"""(src|href)=["']?https?:""", page)
    assert parser.tags.count("table") == 4 and parser.tags.count("img") == 3  # reliability: table and figure
    assert "Accuracy" in page and "mobilenetv3_small_100" in page
    summary = json.loads((output / "summary.json").read_text())
    ece, (median, _) = summary["headline"]["ece"], summary["headline"]["ece_if_calibrated"]
    assert f"Top-label ECE {ece:.3f}; exact probabilities would read {median:.3f}" in page


def test_multilabel_evaluation_on_real_gz2_images(real_data, tmp_path):
    from galzoo_cnn.labels import feature_labels
    from galzoo_cnn.training import TrainConfig, train

    labelled = feature_labels(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")
    image_dir = real_data / "gz2_hart16_sdss" / "images"
    config = TrainConfig(objective="features", table=labelled, image_dir=str(image_dir),
                         output=str(tmp_path / "m"), backbone="test_resnet", epochs=1, batch_size=16,
                         test_fraction=0.3, seed=1)
    model, _ = train(config, progress=False)
    metrics = evaluate_model(labelled, model=model, output=tmp_path / "e", image_dir=image_dir,
                             progress=False)
    classified = Table.read(tmp_path / "e" / "classified.ecsv")
    again = feature_metrics(classified)
    np.testing.assert_allclose(np.asarray(metrics["roc_auc"]), np.asarray(again["roc_auc"]), equal_nan=True)
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert summary["figures"] == ["roc"] and summary["headline"]["n_features"] == len(metrics)
    # the headline mean and its interval: the classified rows drawn again together (same seed)
    assert summary["headline"]["mean_roc_auc_interval"] == pytest.approx(
        [again.meta["mean_roc_auc_low"], again.meta["mean_roc_auc_high"]], abs=1e-12)
    finite = np.isfinite(np.asarray(again["roc_auc"], dtype=float))
    assert summary["headline"]["n_in_mean"] == finite.sum() and summary["headline"]["mean_roc_auc"] == (
        pytest.approx(np.mean(np.asarray(again["roc_auc"])[finite])))
    low, high = summary["headline"]["mean_roc_auc_interval"]
    assert low < summary["headline"]["mean_roc_auc"] < high
    report = write_report(tmp_path / "e").read_text()
    mean = summary["headline"]["mean_roc_auc"]
    assert f"Mean ROC AUC {mean:.3f} (95% interval {low:.3f}-{high:.3f})" in report
    # a summary written before the mean had an interval still reads
    for key in ("n_in_mean", "mean_roc_auc_interval"):
        del summary["headline"][key]
    (tmp_path / "e" / "summary.json").write_text(json.dumps(summary))
    assert f"Mean ROC AUC {mean:.3f} over {len(metrics)} features" in write_report(tmp_path / "e").read_text()

    # the deep-test flow: labels made elsewhere (here the GZ2 labels of 60 of the galaxies, in another
    # order) joined by sky position to the classified rows
    images = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")["dr7objid", "ra", "dec", "filename"]
    elsewhere = labelled[::-1][:60]
    elsewhere.keep_columns(["ra", "dec"] + [c for c in labelled.colnames if c.startswith("label_")])
    deep = evaluate_model(images, model=model, labels=elsewhere, output=tmp_path / "d", image_dir=image_dir,
                          progress=False)
    matched = Table.read(tmp_path / "d" / "classified.ecsv")
    assert len(matched) == 60 and set(matched["dr7objid"]) == set(labelled["dr7objid"][::-1][:60])
    np.testing.assert_allclose(np.asarray(deep["roc_auc"]), np.asarray(feature_metrics(matched)["roc_auc"]),
                               equal_nan=True)


def test_evaluate_and_report_commands(kaggle_rows, tmp_path, capsys):
    rows, image_dir = kaggle_rows
    rows[:20].write(tmp_path / "rows.ecsv")
    assert main(["evaluate", str(tmp_path / "rows.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "ev"), "--bootstrap", "50", "--figure-formats", "pdf", "--no-progress"]) == 0
    assert "Accuracy" in capsys.readouterr().out
    assert (tmp_path / "ev" / "confusion.pdf").read_bytes()[:5] == b"%PDF-"  # for a paper
    assert (tmp_path / "ev" / "confusion.png").read_bytes()[:4] == b"\x89PNG"  # for the report
    assert main(["report", str(tmp_path / "ev"), "--output", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert main(["report", str(tmp_path)]) == 2  # not an evaluation directory: one line, exit 2
    assert "has no summary.json" in capsys.readouterr().err
    (tmp_path / "summary.json").write_text("{not json")
    assert main(["report", str(tmp_path)]) == 2
    assert "summary.json is not valid JSON" in capsys.readouterr().err
    (tmp_path / "summary.json").write_text('{"model": {}}')
    assert main(["report", str(tmp_path)]) == 2
    assert "lacks the key(s) headline" in capsys.readouterr().err


def test_deep_test_on_real_decals_images_whose_labels_are_all_yes(real_data, tmp_path, capsys):
    """The GZ DECaLS deep test from the shell on the 100 real DECaLS galaxies, a sample chosen featured and
    face-on: every known label is yes, so no AUC can be measured, and the summary and the figure say why
    instead of printing NaN alone (and matplotlib's warning about an empty legend)."""
    import warnings

    decals = real_data / "gz_decals_rings"
    unlabelled = ["evaluate", str(decals / "labels.csv"), "--image-dir", str(decals / "images"), "--model",
                  "sample-gz2-features", "--output", str(tmp_path / "unlabelled"), "--no-progress"]
    assert main(unlabelled) == 2  # the volunteers' fractions, not yet label_<feature> columns: said up front
    err = capsys.readouterr().err
    assert "the table has no label column for the model's features (label_smooth," in err
    assert "galzoo-cnn labels --gz-decals" in err and not (tmp_path / "unlabelled").exists()
    assert main(unlabelled + ["--labels", str(decals / "labels.csv"), "--id-column", "iauname"]) == 2
    assert "neither the table nor labels has a label column" in capsys.readouterr().err
    labels = tmp_path / "deep.ecsv"
    with pytest.warns(UserWarning, match="no vote counts"):   # the subset has fractions only
        assert main(["labels", str(decals / "labels.csv"), "--gz-decals", "-o", str(labels)]) == 0
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert main(["evaluate", str(decals / "labels.csv"), "--image-dir", str(decals / "images"), "--model",
                     "sample-gz2-features", "--labels", str(labels), "--id-column", "iauname",
                     "--output", str(tmp_path / "deep"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "no AUC for features_or_disk, edge_on_no: their known labels are all alike" in out
    caption = json.loads((tmp_path / "deep" / "summary.json").read_text())["captions"]["roc"]
    assert caption.endswith("Not drawn, their known labels all alike: features_or_disk, edge_on_no.")


def _browser():
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium on this machine "
                                               "(apt-get install chromium-headless-shell)")
def test_report_renders_offline_in_a_real_browser(evaluation, tmp_path):
    from PIL import Image

    _, output = evaluation
    page = write_report(output, output=tmp_path / "report.html")
    shot = tmp_path / "report.png"
    # --no-sandbox: the test may run as root in a container; no network is needed (all inline)
    subprocess.run([_browser(), "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
                    "--window-size=1000,1800", page.resolve().as_uri()], check=True, timeout=120,
                   capture_output=True)
    image = np.asarray(Image.open(shot).convert("L"))
    assert image.shape == (1800, 1000)
    # the embedded confusion matrix was drawn: a dark block (its most populated cell) below the tables
    assert (image < 80).sum() > 2000 and image.std() > 20


def test_grouped_evaluation_on_real_gz1_images(gz1_images, tmp_path):
    """Galaxy Zoo 1 classes against the five GZ2 classes, compared as smooth / edge-on / spiral."""
    from galzoo_cnn.taxonomy import broad_group

    labels, directory = gz1_images
    metrics = evaluate_model(labels, output=tmp_path / "gz1", truth_column="gz1_class", grouped=True,
                             image_dir=directory, n_bootstrap=0, progress=False)
    classified = Table.read(tmp_path / "gz1" / "classified.ecsv")
    truth = [broad_group(c) for c in classified["gz1_class"]]
    predicted = [broad_group(c) for c in classified["predicted_class"]]
    pairs = [(t, p) for t, p in zip(truth, predicted) if t and p]  # mergers, "don't know": no group
    assert metrics.meta["n"] == len(pairs)
    assert metrics.meta["accuracy"] == pytest.approx(np.mean([t == p for t, p in pairs]))
    assert metrics["class"].tolist() == ["smooth", "edge_on", "spiral"]


def _tampered(evaluation, tmp_path, edit):
    """A copy of the evaluation directory whose summary.json ``edit`` changes."""
    _, output = evaluation
    copy = tmp_path / "tampered"
    shutil.copytree(output, copy)
    summary = json.loads((copy / "summary.json").read_text())
    edit(summary, copy)
    (copy / "summary.json").write_text(json.dumps(summary))
    return copy


def test_a_tampered_evaluation_reads_nothing_outside_and_runs_no_script(evaluation, tmp_path, capsys):
    secret = tmp_path / "secret.ecsv"
    Table({"secret": ["outside the evaluation"]}).write(secret)
    script = "<script>alert('x')</script>"
    refused = {
        "table upwards": (lambda s, d: s["tables"].append("../secret"), "not a plain file name"),
        "table absolute": (lambda s, d: s["tables"].append(str(secret.with_suffix(""))),
                           "not a plain file name"),
        "figure upwards": (lambda s, d: s["figures"].append("../../../../etc/hostname"),
                           "not a plain file name"),
        "table through a link": (lambda s, d: (d / "link.ecsv").symlink_to(secret)
                                 or s["tables"].append("link"), "is not a file inside"),
        "n_rows markup": (lambda s, d: s.update(n_rows=script), "n_rows is \"<script>"),
        "accuracy a string": (lambda s, d: s["headline"].update(accuracy="0.9"),
                              "headline accuracy is '0.9'"),
    }
    for case, (edit, message) in refused.items():
        directory = _tampered(evaluation, tmp_path, edit)
        with pytest.raises(InputError, match=message):
            write_report(directory)
        assert main(["report", str(directory)]) == 2, case
        err = capsys.readouterr().err
        assert message.replace("\\", "") in err and len(err.strip().splitlines()) == 1, (case, err)
        assert not (directory / "report.html").exists()
        shutil.rmtree(directory)

    def inject(summary, directory):  # markup in every string the report shows
        name = summary["tables"][0]
        (directory / f"{name}.html").write_text(f"<table><tr><td>{script}</td></tr></table>")
        table = Table.read(directory / f"{name}.ecsv")
        first = table.colnames[0]
        table[first] = [script, *map(str, table[first][1:])]
        table.write(directory / f"{name}.ecsv", overwrite=True)
        summary["captions"][summary["figures"][0]] = script
        summary["headline"]["truth_column"] = script
        summary["model"]["backbone"] = script

    page = write_report(_tampered(evaluation, tmp_path, inject)).read_text()
    parser = _Links()
    parser.feed(page)
    assert "script" not in parser.tags and "&lt;script&gt;" in page
    assert "outside the evaluation" not in page
