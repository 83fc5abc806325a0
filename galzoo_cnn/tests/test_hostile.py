# Licensed under a 3-clause BSD style license - see LICENSE
"""Hostile files: no input starts a program, and each damaged or disguised file costs its own row only."""

import re
import subprocess

import numpy as np
import pytest
from astropy.table import Table
from PIL import Image

from galzoo_cnn import classify_table
from galzoo_cnn.cutouts import CutoutError, validate_cutout
from galzoo_cnn.datasets import load_demo_sample
from galzoo_cnn.exceptions import UnusableImagesWarning
from galzoo_cnn.images import READ_FORMATS, ImageError, image_problem, read_image, resolve_image_paths
from galzoo_cnn.tests.cutout_server import CutoutServer, fetch_manifest
from galzoo_cnn.tests.hostile import EPS, hostile_files, install_ghostscript_recorder

FAST = dict(retries=2, backoff=0.05, timeout=2.0, progress=False)


@pytest.fixture(scope="module")
def demo():
    sample, image_dir = load_demo_sample()
    return sample, image_dir


@pytest.fixture(scope="module")
def cutout(demo):
    sample, image_dir = demo
    return read_image(image_dir / sample["filename"][0])


@pytest.fixture
def ghostscript_recorder(tmp_path, monkeypatch):
    """A ``gs`` first on PATH that records each call: Pillow's EPS reader would start it."""
    return install_ghostscript_recorder(tmp_path, monkeypatch)


def test_a_disguised_eps_never_starts_ghostscript(tmp_path, ghostscript_recorder):
    evil = tmp_path / "evil.jpg"
    evil.write_bytes(EPS)
    with pytest.raises(ImageError, match="evil.jpg' does not decode: not a JPEG or PNG image") as err:
        read_image(evil)
    assert err.value.reason == "undecodable"
    with pytest.raises(CutoutError, match="not a JPEG or PNG image"):
        validate_cutout(EPS)
    assert not ghostscript_recorder.exists()
    # the recorder works: Pillow left to itself does start it on this file
    with pytest.raises(subprocess.CalledProcessError), Image.open(evil) as image:
        image.load()  # the recorder ran, drew nothing and failed
    assert "-dSAFER" in ghostscript_recorder.read_text()


def test_read_formats_are_jpeg_and_png():
    assert READ_FORMATS == ("JPEG", "PNG")


def test_every_hostile_file_costs_its_own_row(tmp_path, demo, cutout):
    sample, image_dir = demo
    files = hostile_files(cutout)
    for name, (data, _) in files.items():
        (tmp_path / name).write_bytes(data)
    good = list(sample["filename"][:4])
    for name in good:
        (tmp_path / name).symlink_to(image_dir / name)
    (tmp_path / "folder.jpg").mkdir()
    url = "https://skyserver.sdss.org/dr16/SkyServerWS/ImgCutout/getjpeg?ra=180.1&dec=2.5"
    names = [good[0], *files, good[1], "nul\0byte.jpg", "folder.jpg", good[2], "absent.jpg", url,
             "C:/galaxy.jpg", good[3]]
    expected = (["ok"] + [status for _, status in files.values()]
                + ["ok", "not_a_file", "not_a_file", "ok", "missing", "url", "missing", "ok"])
    with pytest.warns(UnusableImagesWarning, match=f"{len(names) - 4} of {len(names)} rows not classified"):
        out = classify_table(Table({"filename": names}), image_dir=tmp_path, progress=False, batch_size=8)
    assert dict(zip(names, out["status"])) == dict(zip(names, expected))
    with pytest.raises(ImageError, match=f"row 0: .*is a URL: .*download them first.*\\({re.escape(url)}\\)"):
        classify_table(Table({"filename": [url]}), image_dir=tmp_path, progress=False, strict=True)
    assert image_problem(url) == "url" and resolve_image_paths(Table({"filename": [url]}))[0] == url
    reference = classify_table(sample[:4], image_dir=image_dir, progress=False)
    ok = out["status"] == "ok"
    assert list(out["predicted_class"][ok]) == list(reference["predicted_class"])
    np.testing.assert_allclose(out["prob_spiral"][ok], reference["prob_spiral"], atol=1e-6)


def test_hostile_answers_cost_one_row_served_or_cached(tmp_path, demo, cutout):
    from galzoo_cnn.tests.test_faults import _ra_key, _targets

    files = hostile_files(cutout)
    targets = _targets(len(files) + 1)
    with CutoutServer() as server:
        for target, (data, _) in zip(targets, files.values()):
            server.plan[_ra_key(target["ra"])] = [data] * FAST["retries"]
        manifest = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
        assert list(manifest["status"]) == ["corrupt"] * len(files) + ["ok"]
        reasons = dict(zip(files, manifest["reason"]))
        assert "not a JPEG or PNG image" in reasons["evil_eps.jpg"]
        assert "too large to decode safely" in reasons["icc_bomb.png"]
        for path, (data, _) in zip(manifest["path"], files.values()):
            (tmp_path / path).write_bytes(data)  # the cache now holds every hostile kind
        (tmp_path / manifest["path"][-1]).write_bytes(EPS)
        rerun = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
    assert list(rerun["status"]) == ["ok"] * len(targets)  # each refetched, none stopped the run


def test_fetch_removes_only_its_own_temporary_files(tmp_path):
    from galzoo_cnn.tests.test_faults import _targets

    targets = _targets(2)
    own = tmp_path / ".notes.txt.part"
    own.write_text("a user's file")
    (tmp_path / ".draft.part").mkdir()
    stale = tmp_path / ".row0.jpg.abcd1234.galzoo-part"  # as a killed run of fetch_cutouts leaves it
    stale.write_bytes(b"half a jpeg")
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
    assert list(manifest["status"]) == ["ok", "ok"]
    assert own.read_text() == "a user's file" and (tmp_path / ".draft.part").is_dir()
    assert not stale.exists()
