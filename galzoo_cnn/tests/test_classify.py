# Licensed under a 3-clause BSD style license - see LICENSE
"""classify_table on the real SDSS galaxies bundled for the demo."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from astropy import units as u
from astropy.table import QTable, Table
from PIL import Image

from galzoo_cnn import classify_table, taxonomy
from galzoo_cnn.columns import class_probability_columns
from galzoo_cnn.datasets import load_demo_sample
from galzoo_cnn.exceptions import InputError, UnusableImagesWarning
from galzoo_cnn.images import ImageError
from galzoo_cnn.models import build_model, load_model
from galzoo_cnn.utils._lightning import usable_cores

#: DDP on CPU starts one process a device: refused (conf.max_cpu_processes) with fewer usable cores.
TWO_CORES = pytest.mark.skipif(usable_cores() < 2, reason="DDP with two CPU processes needs two usable cores")


@pytest.fixture(scope="module")
def demo():
    sample, image_dir = load_demo_sample()
    return sample[["dr7objid", "ra", "dec", "gz2_class", "filename"]], image_dir


@pytest.fixture(scope="module")
def classified(demo):
    sample, image_dir = demo
    return classify_table(sample, model="sample-gz1", image_dir=image_dir, progress=False)


def _reference_probabilities(model, paths, crop):
    """The model's softmax on images prepared here with PIL alone (centre crop, Lanczos, Eq. 1)."""
    batch = []
    for path in paths:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        side = round(rgb.size[0] * crop)
        left = (rgb.size[0] - side) // 2
        rgb = rgb.crop((left, left, left + side, left + side)).resize((100, 100), Image.Resampling.LANCZOS)
        batch.append((np.asarray(rgb, dtype=np.float32) - 127.5) / 255)
    with torch.no_grad():
        logits = model(torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2))
    return torch.softmax(logits, 1).numpy()


def test_outputs_match_the_model_on_independently_prepared_images(demo, classified):
    sample, image_dir = demo
    model = load_model("sample-gz1")
    assert model.card["input"]["crop"] == 0.5  # the card's crop must be applied by default
    expected = _reference_probabilities(model, [image_dir / f for f in sample["filename"]], 0.5)
    got = np.stack([np.asarray(classified[f"prob_{c}"]) for c in model.classes], axis=1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    assert classified["predicted_class"].tolist() == [model.classes[k] for k in expected.argmax(1)]
    # the input columns are kept, unchanged and first
    assert classified.colnames[:5] == sample.colnames
    for name in sample.colnames:
        assert classified[name].tolist() == sample[name].tolist()
    assert set(classified["status"]) == {"ok"}


def test_metadata_and_provenance(classified):
    card = load_model("sample-gz1").card
    provenance = classified.meta["provenance"]
    assert provenance["model"] == "sample-gz1" and provenance["crop"] == 0.5
    assert provenance["model_sha256"] == card["weights_sha256"]
    assert provenance["status_counts"] == "ok=36" and provenance["software"].startswith("galzoo_cnn ")
    assert any("Lintott et al. 2008" in r for r in classified.meta["references"])
    assert classified["prob_spiral"].meta["ucd"] == "stat.probability"
    assert str(classified["ra"].unit) == "deg"
    assert "elliptical" in classified["prob_elliptical"].description


def test_crop_override_and_input_types(demo, tmp_path):
    sample, image_dir = demo
    table = sample[:5]
    whole = classify_table(table, model="sample-gz1", image_dir=image_dir, crop=1.0, progress=False)
    assert whole.meta["provenance"]["crop"] == 1.0
    # a path (any supported format) and a QTable give the same outputs as a Table
    table.write(tmp_path / "t.fits")
    from_file = classify_table(tmp_path / "t.fits", model="sample-gz1", image_dir=image_dir, crop=1.0,
                               progress=False)
    from_qtable = classify_table(QTable(table), model="sample-gz1", image_dir=image_dir, crop=1.0,
                                 progress=False)
    for other in (from_file, from_qtable):
        np.testing.assert_array_equal(other["prob_spiral"], whole["prob_spiral"])


def test_batches_and_worker_processes_keep_the_input_order(demo, classified):
    sample, image_dir = demo
    shuffled = sample[np.random.default_rng(1).permutation(len(sample))]
    result = classify_table(shuffled, model="sample-gz1", image_dir=image_dir, batch_size=5, num_workers=2,
                            progress=False)
    by_id = {row["dr7objid"]: row["prob_merger"] for row in classified}
    assert [by_id[i] for i in result["dr7objid"]] == pytest.approx(result["prob_merger"].tolist(), abs=1e-6)


def test_missing_broken_and_empty_images_are_reported_per_row(demo, classified, tmp_path):
    sample, image_dir = demo
    for name in sample["filename"][:4]:
        (tmp_path / name).write_bytes((image_dir / name).read_bytes())
    (tmp_path / "garbage.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    (tmp_path / "truncated.jpg").write_bytes((image_dir / sample["filename"][0]).read_bytes()[:300])
    table = Table(sample[:4], masked=True)
    table.add_row(sample[4])
    table.add_row(sample[5])
    table.add_row(sample[6])
    table.add_row(sample[7])
    table["filename"][4] = "not_there.jpg"
    table["filename"][5] = "garbage.jpg"
    table["filename"][6] = "truncated.jpg"
    table["filename"].mask[7] = True
    result = classify_table(table, model="sample-gz1", image_dir=tmp_path, progress=False)
    assert result["status"].tolist() == ["ok"] * 4 + ["missing", "undecodable", "undecodable", "no_image"]
    assert result["prob_spiral"].mask.tolist() == [False] * 4 + [True] * 4
    assert result["predicted_class"].mask.tolist() == [False] * 4 + [True] * 4
    np.testing.assert_allclose(result["prob_spiral"][:4], classified["prob_spiral"][:4], atol=1e-6)
    assert result.meta["provenance"]["status_counts"] == "ok=4, no_image=1, missing=1, undecodable=2"
    with pytest.raises(ImageError, match=r"row 4: the image file does not exist .*not_there.jpg"):
        classify_table(table, model="sample-gz1", image_dir=tmp_path, progress=False, strict=True,
                       batch_size=2)


def test_a_fits_cutout_is_named_as_such_and_its_colour_composite_is_classified(demo, tmp_path):
    """Astronomers' own cutouts are FITS: such a row is told so (not called corrupt), and the remedy its
    status names, make_lupton_rgb of three bands, gives an image that is classified."""
    from astropy.io import fits
    from astropy.visualization import make_lupton_rgb

    sample, image_dir = demo
    bands = np.asarray(Image.open(image_dir / sample["filename"][0]), dtype=np.float32).transpose(2, 0, 1)
    fits.HDUList([fits.PrimaryHDU(bands[1])]).writeto(tmp_path / "galaxy_r.fits")  # one band, as SDSS gives
    fits.HDUList([fits.PrimaryHDU(bands[1])]).writeto(tmp_path / "named_like.jpg")  # whatever its name
    Image.fromarray(make_lupton_rgb(*bands, stretch=255, Q=0)).save(tmp_path / "composite.png")
    table = Table({"filename": ["galaxy_r.fits", "named_like.jpg", "composite.png"]})
    with pytest.warns(UnusableImagesWarning, match="fits_image"):
        result = classify_table(table, image_dir=tmp_path, progress=False)
    assert result["status"].tolist() == ["fits_image", "fits_image", "ok"]
    with pytest.raises(ImageError, match="row 0: the file is a FITS image.*make_lupton_rgb"):
        classify_table(table, image_dir=tmp_path, progress=False, strict=True)


def test_bad_input_is_refused_with_clear_errors(demo, classified):
    sample, image_dir = demo
    with pytest.raises(ValueError, match="row 0: image path '../x.jpg' leaves image_dir"):
        classify_table(Table({"filename": ["../x.jpg"]}), image_dir=image_dir, progress=False)
    with pytest.raises(ValueError, match="the table is empty"):
        classify_table(sample[:0], image_dir=image_dir, progress=False)
    with pytest.raises(TypeError, match="expected an astropy Table, QTable or the path"):
        classify_table({"filename": ["a.jpg"]}, progress=False)
    with pytest.raises(ValueError, match="no model 'densenet-9000'"):
        classify_table(sample[:1], model="densenet-9000", image_dir=image_dir, progress=False)
    with pytest.raises(KeyError, match="image column 'image' is not in the table"):
        classify_table(sample[:1], image_column="image", image_dir=image_dir, progress=False)
    with pytest.raises(FileNotFoundError, match="table file 'nowhere.fits' does not exist"):
        classify_table("nowhere.fits", progress=False)
    with pytest.raises(ValueError, match=r"already has the output column\(s\) prob_elliptical, .*status "
                                         r".*overwrite=True"):
        classify_table(classified[:2], model="sample-gz1", image_dir=image_dir, progress=False)
    again = classify_table(classified[:2], model="sample-gz1", image_dir=image_dir, progress=False,
                           overwrite=True)
    assert again.colnames == classified.colnames
    with pytest.raises(ValueError, match="not a domain classifier"):
        classify_table(sample[:1], image_dir=image_dir, adversarial_model="sample-gz1", progress=False)


def test_multilabel_model_flags_use_the_card_thresholds(demo):
    sample, image_dir = demo
    torch.manual_seed(0)
    model = build_model(objective="features", backbone="test_resnet").eval()
    thresholds = {feature: 0.3 + 0.4 * (k % 2) for k, feature in enumerate(model.classes)}
    model.card["thresholds"] = thresholds
    result = classify_table(sample[:8], model=model, image_dir=image_dir, progress=False)
    assert "predicted_class" not in result.colnames
    expected = {}
    for feature in model.classes:  # in the tree's order: a question's leading answer comes first
        assert result[f"prob_feature_{feature}"].dtype == np.float32
        expected[feature] = np.asarray(result[f"prob_feature_{feature}"]) >= thresholds[feature]
        leading = taxonomy.task(taxonomy.answer(feature).task).requires
        if leading is not None:  # e.g. ring only where odd_yes is flagged (GZ2 asks t08 after t06)
            expected[feature] &= expected[leading]
        assert result[f"flag_{feature}"].tolist() == expected[feature].tolist()
    assert result.meta["provenance"]["thresholds"] == "model card"
    assert "Bar" in result["flag_bar"].description


def test_the_progress_bar_counts_images(demo, capsys):
    """Lightning's bar counted batches ("Predicting DataLoader 0: 1/1"); ours counts the images, so its
    rate reads in images a second, and says what it does."""
    from galzoo_cnn.similarity import embed_table

    sample, image_dir = demo
    classify_table(sample[:7], image_dir=image_dir, batch_size=3, progress=True)
    out = capsys.readouterr().out
    assert "classifying: 100%" in out and "7/7 [" in out and "images/s]" in out
    assert "Predicting" not in out and "DataLoader" not in out
    embed_table(sample[:5], image_dir=image_dir, progress=True)
    assert "embedding: 100%" in capsys.readouterr().out
    classify_table(sample[:3], image_dir=image_dir, progress=False)
    assert capsys.readouterr().out == ""


def test_packed_images_give_the_same_classes_without_opening_a_file(demo, tmp_path, monkeypatch,
                                                                   count_image_opens):
    """Real SDSS images packed once at the model's size and crop: classify_table reads the file, opens no
    image, and returns the same probabilities; a row whose image was missing when packed is read from its
    file (and gets its status); reframed rows and another table's file are handled as documented."""

    from galzoo_cnn.images import pack_images

    sample, image_dir = demo
    rows = sample[:8]["dr7objid", "filename"]
    rows["filename"][3] = "not_there.jpg"
    model = load_model("sample-gz2-robust")
    packed = pack_images(rows, tmp_path / "images.npy", image_dir=image_dir, crop=model.card.crop,
                         progress=False, strict=False)
    assert sorted(packed.unreadable) == [3] and packed.crop == model.card.crop
    with pytest.warns(UnusableImagesWarning):
        direct = classify_table(rows, model=model, image_dir=image_dir, progress=False)
    opened = count_image_opens()
    with pytest.warns(UnusableImagesWarning):
        from_file = classify_table(rows, model=model, image_dir=image_dir, progress=False, num_workers=0,
                                   packed=tmp_path / "images.npy")
    monkeypatch.undo()
    assert opened == []  # the one unpacked row's file does not exist: nothing to open
    assert from_file["status"].tolist() == direct["status"].tolist() and from_file["status"][3] == "missing"
    for name in class_probability_columns(direct):
        np.testing.assert_array_equal(np.ma.filled(from_file[f"prob_{name}"], -1),
                                      np.ma.filled(direct[f"prob_{name}"], -1))
    assert from_file.meta["provenance"]["packed_images"] == str(tmp_path / "images.npy")
    # rows reframed to another crop are read from their files: the same result as without the file
    framed = rows.copy()
    framed["cutout_fov"] = [30.0] * len(rows) * u.arcsec
    framed["petroR90_r"] = [4.0] * len(rows) * u.arcsec
    with pytest.warns(UnusableImagesWarning):
        reframed = classify_table(framed, model=model, image_dir=image_dir, progress=False, packed=packed)
    with pytest.warns(UnusableImagesWarning):
        expected = classify_table(framed, model=model, image_dir=image_dir, progress=False)
    np.testing.assert_array_equal(np.ma.filled(reframed["prob_spiral"], -1),
                                  np.ma.filled(expected["prob_spiral"], -1))
    with pytest.raises(InputError, match="other images than the 7 rows"):
        classify_table(rows[:7], model=model, image_dir=image_dir, progress=False, packed=packed)


def test_five_classes_and_features_in_one_pass_read_each_image_once(demo, monkeypatch, count_image_opens):
    """A five-class and a features model framing images alike: one read per image, both sets of columns
    under names that cannot collide, each as the model gives it alone."""

    sample, image_dir = demo
    torch.manual_seed(0)
    five = build_model(objective="five_class", backbone="test_resnet").eval()
    features = build_model(objective="features", backbone="test_resnet", view_pooling="dihedral").eval()
    opened = count_image_opens()
    rows = sample[:6]
    both = classify_table(rows, model=five, features_model=features, image_dir=image_dir, progress=False,
                          num_workers=0)
    assert sorted(opened) == sorted(rows["filename"])
    monkeypatch.undo()
    alone = classify_table(rows, model=features, image_dir=image_dir, progress=False)
    assert "prob_completely_round" in both.colnames and "prob_feature_completely_round" in both.colnames
    assert both["prob_completely_round"].description != both["prob_feature_completely_round"].description
    assert "How rounded is it?" in both["prob_feature_completely_round"].description
    for feature in features.classes:
        column = f"prob_feature_{feature}"
        np.testing.assert_allclose(both[column], alone[column], atol=1e-6)
        assert both[f"flag_{feature}"].tolist() == alone[f"flag_{feature}"].tolist()
    assert both["predicted_class"].tolist() == classify_table(rows, model=five, image_dir=image_dir,
                                                              progress=False)["predicted_class"].tolist()
    provenance = both.meta["provenance"]
    assert provenance["features_model_sha256"] == "unsaved" and provenance["features_thresholds"]
    # another frame: each image read once per frame, twice in all
    features.card["input"] = dict(features.card["input"], crop=0.7)
    opened = count_image_opens()
    classify_table(rows, model=five, features_model=features, image_dir=image_dir, progress=False,
                   num_workers=0)
    assert len(opened) == 2 * len(rows) and len(set(opened)) == len(rows)


def test_features_model_must_be_multilabel(demo):
    sample, image_dir = demo
    with pytest.raises(ValueError, match="features_model is a 'five_class' model"):
        classify_table(sample[:1], features_model="sample-gz1", image_dir=image_dir, progress=False)
    features = build_model(objective="features", backbone="test_resnet").eval()
    with pytest.raises(ValueError, match="model is a multi-label model already"):
        classify_table(sample[:1], model=features, features_model=features, image_dir=image_dir,
                       progress=False)


def test_adversarial_score_from_a_domain_model(demo, classified):
    sample, image_dir = demo
    torch.manual_seed(0)
    domain = build_model(objective="adversarial", backbone="test_resnet").eval()
    result = classify_table(sample[:6], model="sample-gz1", image_dir=image_dir, adversarial_model=domain,
                            progress=False)
    # the domain model saw the whole frame (its card's crop, 1.0), the classifier the card's 0.5
    expected = _reference_probabilities(domain, [image_dir / f for f in sample["filename"][:6]], 1.0)
    got = np.asarray(result["adversarial_score"])
    # PIL's JPEG draft decoding (read_image, 300 -> 150 px) differs slightly from a full decode
    np.testing.assert_allclose(got, expected[:, 1], atol=0.05)
    np.testing.assert_allclose(result["prob_spiral"], classified["prob_spiral"][:6], atol=1e-6)


@TWO_CORES
@pytest.mark.parametrize("n_rows", [11, 1])
def test_two_process_ddp_inference_merges_rows_in_input_order(demo, classified, tmp_path, n_rows):
    """The CLI under Lightning's DDP with two CPU processes (gloo): each takes every other row; with
    one row, the process without rows of its own still joins the merge."""
    sample, image_dir = demo
    sample[:n_rows].write(tmp_path / "in.ecsv")
    command = [sys.executable, "-m", "galzoo_cnn.cli", "classify", str(tmp_path / "in.ecsv"),
               "--image-dir", str(image_dir), "--output", str(tmp_path / "ddp"), "--formats", "votable",
               "--device", "cpu", "--devices", "2", "--strategy", "ddp", "--batch-size", "3",
               "--model", "sample-gz1", "--no-progress"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(f"Classified {n_rows} rows") == 1  # only rank 0 writes and reports
    written = Table.read(tmp_path / "ddp.vot")
    np.testing.assert_allclose(written["prob_spiral"], classified["prob_spiral"][:n_rows], atol=1e-6)
    assert written["dr7objid"].tolist() == sample["dr7objid"][:n_rows].tolist()
    assert json.dumps(list(set(written["status"]))) == '["ok"]'


def test_warns_once_when_cutouts_are_far_from_the_training_scale(demo):
    """Rows whose frames are far from the model's training scale give one PixelScaleWarning."""
    import warnings

    import astropy.units as u

    from galzoo_cnn.exceptions import PixelScaleWarning

    sample, image_dir = demo
    model = build_model(objective="five_class", backbone="test_resnet").eval()
    model.card["input"]["pixel_scale"] = {"unit": "R90", "per_pixel": 0.06, "trained_range": [0.027, 0.12]}
    rows = sample[:4].copy()
    rows["cutout_fov"] = [30.0] * 4 * u.arcsec  # the demo images: 300 px of 0.1 arcsec
    rows["petroR90_r"] = [5.0, 5.0, 5.0, 5.0] * u.arcsec  # 0.06 R90 per input pixel: as in training
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classify_table(rows, model=model, image_dir=image_dir, progress=False)
    rows["petroR90_r"] = [5.0, 1.0, 0.8, 5.0] * u.arcsec  # 0.3 and 0.375 R90/px: galaxies far too small
    with warnings.catch_warnings():  # by default such rows are reframed to the model's 6 R90: no warning
        warnings.simplefilter("error")
        out = classify_table(rows, model=model, image_dir=image_dir, progress=False)
    assert out["frame_fraction"].tolist() == pytest.approx([1.0, 0.2, 0.16, 1.0])
    match = r"2 of 4 rows .* \(row 1\), outside the 0.027-0.12 R90"
    with pytest.warns(PixelScaleWarning, match=match) as caught:
        out = classify_table(rows, model=model, image_dir=image_dir, progress=False, reframe=False)
    assert len(caught) == 1 and list(out["status"]) == ["ok"] * 4  # a warning, never a refusal
    assert caught[0].filename == __file__  # pointing at the caller
    # an arcsec-scaled card needs no radius; without cutout_fov nothing can be compared
    model.card["input"]["pixel_scale"] = {"unit": "arcsec", "per_pixel": 0.9}  # 0.3"/px is outside 0.6-1.35
    with pytest.warns(PixelScaleWarning, match="4 of 4 rows"):
        classify_table(rows, model=model, image_dir=image_dir, progress=False)
    rows.remove_column("cutout_fov")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classify_table(rows, model=model, image_dir=image_dir, progress=False)


def test_default_model_is_the_configured_one(demo):
    """classify_table's default is conf.default_model (sample-gz2-dihedral), and follows the configuration."""
    from galzoo_cnn.config import conf

    sample, image_dir = demo
    assert conf.default_model == "sample-gz2-dihedral"
    out = classify_table(sample[:2], image_dir=image_dir, progress=False)
    assert out.meta["provenance"]["model"] == "sample-gz2-dihedral"
    assert out.colnames[-8:-3] == [f"prob_{c}" for c in load_model("sample-gz2-dihedral").classes]
    with conf.set_temp("default_model", "sample-gz1"):
        out = classify_table(sample[:2], image_dir=image_dir, progress=False)
    assert out.meta["provenance"]["model"] == "sample-gz1"


def test_every_unusable_image_gets_its_own_status(demo, tmp_path):
    """Real SDSS images made hostile: each row says why, the others are classified, nothing hangs."""
    import os

    from galzoo_cnn.config import conf

    sample, image_dir = demo
    source = np.asarray(Image.open(image_dir / sample["filename"][0]).convert("RGB"))
    Image.fromarray(source).save(tmp_path / "ok.png")
    # a 16-bit RGB PNG (Pillow would silently read it as 8-bit)
    import struct
    import zlib  # noqa: E401

    def png16(path, rgb):
        h, w, _ = rgb.shape
        raw = b"".join(b"\x00" + (rgb[y].astype(">u2") * 257).tobytes() for y in range(h))
        chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                         + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

    png16(tmp_path / "deep.png", source[:50, :50])
    rgba = np.dstack([source, np.full(source.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "glass.png")
    Image.fromarray(source).convert("CMYK").save(tmp_path / "print.jpg")
    Image.fromarray(np.zeros((3000, 3000, 3), np.uint8)).save(tmp_path / "huge.png")
    (tmp_path / "folder.jpg").mkdir()
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it for reading would block forever
    names = ["ok.png", "deep.png", "glass.png", "print.jpg", "huge.png", "folder.jpg", "pipe.jpg"]
    table = Table({"filename": names})
    with conf.set_temp("max_image_pixels", 4_000_000):
        result = classify_table(table, model="sample-gz1", image_dir=tmp_path, progress=False)
    assert result["status"].tolist() == ["ok", "not_8bit", "translucent", "not_rgb", "too_large",
                                         "not_a_file", "not_a_file"]
    assert result["prob_spiral"].mask.tolist() == [False] + [True] * 6
    with pytest.raises(ImageError, match="row 1: .*16- or 32-bit"):
        classify_table(table, model="sample-gz1", image_dir=tmp_path, progress=False, strict=True)


def test_non_finite_model_outputs_are_a_model_error(demo):
    sample, image_dir = demo
    model = build_model(objective="five_class", backbone="test_resnet").eval()
    with torch.no_grad():
        model.head[-1].bias[0] = float("nan")  # a broken model: NaN logits for every image
    result = classify_table(sample[:3], model=model, image_dir=image_dir, progress=False)
    assert result["status"].tolist() == ["model_error"] * 3
    assert result["predicted_class"].mask.all() and result["prob_spiral"].mask.all()


def test_mixed_precision_keeps_the_classes_of_the_bundled_test_rows(real_data):
    """The GPU default (16-bit mixed precision) against float32, on real held-out rows.  Measured on the
    CPU, where Lightning runs bf16 (8-bit mantissa, coarser than a GPU's fp16): on all 3 941 bundled test
    rows 99.7 % of the classes are the same, probabilities within 0.083."""
    from importlib.resources import files

    rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")[:400]
    image_dir = real_data / "gz2_kaggle_5class" / "images"
    full = classify_table(rows, image_dir=image_dir, progress=False, precision="32-true")
    mixed = classify_table(rows, image_dir=image_dir, progress=False, precision="bf16-mixed")
    assert mixed.meta["provenance"]["precision"] == "bf16-mixed"
    same = np.asarray(mixed["predicted_class"]) == np.asarray(full["predicted_class"])
    assert same.mean() >= 0.99, same.mean()
    gap = max(float(np.abs(np.asarray(mixed[c]) - np.asarray(full[c])).max())
              for c in full.colnames if c.startswith("prob_"))
    assert gap < 0.1, gap
