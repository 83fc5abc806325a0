# Licensed under a 3-clause BSD style license - see LICENSE
"""Faults and fuzz: what users and servers throw at the package, and what must come back.

Every case here was once a crash, a hang, a traceback or a silent wrong answer: one bad row
must cost one row, a signal must stop a run cleanly, a user error must be one line and exit
status 2, and values outside their range must be refused with the column, row and value named.
"""

import hashlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from astropy import units as u
from astropy.coordinates import Angle
from astropy.table import Table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from galzoo_cnn import classify_table
from galzoo_cnn.cli import main
from galzoo_cnn.columns import QUALITY_FLAGS, column_notes
from galzoo_cnn.cutouts import (
    _MAX_ID_LENGTH,
    _SAFE_NAME,
    CutoutError,
    _file_names,
    fetch_cutouts,
    validate_cutout,
)
from galzoo_cnn.cutouts._http import _retry_after
from galzoo_cnn.datasets import load_demo_sample, load_gz2_sample
from galzoo_cnn.exceptions import CatalogError, GalzooError, InputError, UnusableImagesWarning
from galzoo_cnn.images import ImageError, batch_quality_flags, image_quality_flags, read_image
from galzoo_cnn.labels import feature_labels, five_class_labels
from galzoo_cnn.taxonomy import GZ2_ANSWERS
from galzoo_cnn.tests.cutout_server import CutoutServer, bomb_png, fetch_manifest
from galzoo_cnn.utils._lightning import usable_cores

#: DDP on CPU and decoding workers need cores of their own (conf.max_cpu_processes).
TWO_CORES = pytest.mark.skipif(usable_cores() < 2, reason="needs two usable CPU cores")
FAST = dict(retries=3, backoff=0.05, timeout=1.0, progress=False)
ENV = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
#: Off-centre frame of the demo set (Hart et al. 2016 GZ2 galaxy at the frame's edge).
OFF_CENTRE = "587742013298245704.jpg"
#: A GZ1 "cutout" that is SkyServer's error message on black (outside the footprint).
ERROR_PAGE = "587729387686002878.jpg"


def _targets(n):
    return load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"][:n]


def _ra_key(value):
    return repr(float(value))


# ---------------------------------------------------------------- cutouts: one bad row, one row


def test_decompression_bomb_costs_one_row_served_or_cached(tmp_path):
    targets = _targets(3)
    bomb_png()  # made once before the server answers: making it takes longer than the 1 s timeout
    with CutoutServer() as server:
        server.plan[_ra_key(targets["ra"][0])] = ["bomb"] * 5
        manifest = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
        assert list(manifest["status"]) == ["corrupt", "ok", "ok"]
        assert "too large to decode safely" in manifest["reason"][0]
        (tmp_path / manifest["path"][1]).write_bytes(bomb_png())  # a bomb in the cache
        rerun = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
    assert list(rerun["status"]) == ["ok", "ok", "cached"]  # refetched, not a stopped run
    assert read_image(tmp_path / rerun["path"][1]).shape == (100, 100, 3)


def test_dripping_server_is_cut_at_the_deadline(tmp_path):
    targets = _targets(2)
    with CutoutServer(drip=0.1) as server:
        server.plan[_ra_key(targets["ra"][0])] = ["drip"] * 5
        start = time.perf_counter()
        manifest = fetch_manifest(targets, tmp_path, base_url=server.url, retries=1, timeout=1.0,
                                 deadline=1.5, progress=False)
        elapsed = time.perf_counter() - start
    assert list(manifest["status"]) == ["failed", "ok"]
    assert manifest["reason"][0] == "no complete answer within the deadline of 1.5 s"
    assert elapsed < 6  # every read arrived within the 1 s timeout: only the deadline stops it


@pytest.mark.parametrize("action", ["drip_headers", "continue_forever"])
def test_a_server_dripping_its_headers_is_cut_at_the_deadline(tmp_path, action):
    targets = _targets(2)
    with CutoutServer(drip=0.25) as server:
        server.plan[_ra_key(targets["ra"][0])] = [action] * 5
        start = time.perf_counter()
        manifest = fetch_manifest(targets, tmp_path, retries=2, backoff=0.05, timeout=2.0, deadline=3.0,
                                  progress=False, base_url=server.url)
        elapsed = time.perf_counter() - start
    assert list(manifest["status"]) == ["failed", "ok"]
    assert "deadline of 3 s" in manifest["reason"][0]
    assert elapsed < 2 * 3.0 + 5  # two attempts of at most the deadline each, not the 135 s it took


def test_retry_after_as_an_http_date_is_honoured(tmp_path):
    targets = _targets(1)
    with CutoutServer() as server:
        server.plan[_ra_key(targets["ra"][0])] = ["429date"]
        start = time.perf_counter()
        manifest = fetch_manifest(targets, tmp_path, base_url=server.url, **FAST)
        elapsed = time.perf_counter() - start
    assert manifest["status"][0] == "ok" and manifest["attempts"][0] == 2
    assert elapsed >= 0.9  # waited for the date (2 s ahead, to the second), not the 0.05 s back-off


def test_coordinates_outside_the_sky_are_failed_rows_without_a_request(tmp_path):
    targets = _targets(6)
    targets["ra"] = targets["ra"].astype(float)
    targets["dec"] = targets["dec"].astype(float)
    targets["dec"][0], targets["dec"][1], targets["ra"][2], targets["ra"][3] = 95.0, -91.0, -10.0, 400.0
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, **FAST, base_url=server.url)
        requested = {float(q["ra"]) for q in server.queries}
    assert list(manifest["status"]) == ["failed"] * 4 + ["ok"] * 2
    assert all("coordinates out of range" in r for r in manifest["reason"][:4])
    assert requested == {float(ra) for ra in targets["ra"][4:]}
    # sexagesimal text is read (hours / degrees); text that is not an angle is one failed row
    text = _targets(3)
    text["ra"] = [Angle(v, u.deg).to_string(u.hourangle, sep=":") for v in text["ra"]]
    text["dec"] = [Angle(v, u.deg).to_string(u.deg, sep=":", alwayssign=True) for v in text["dec"]]
    text["ra"][1] = "12:xx:00"
    with CutoutServer() as server:
        manifest = fetch_manifest(text, tmp_path / "text", **FAST, base_url=server.url)
        requested = [(float(q["ra"]), float(q["dec"])) for q in server.queries]
    assert list(manifest["status"]) == ["ok", "failed", "ok"]
    assert manifest["reason"][1].startswith("no finite coordinates (missing, NaN, or text that is not")
    expected = _targets(3)[[0, 2]]
    np.testing.assert_allclose(sorted(requested), sorted(zip(expected["ra"], expected["dec"])), atol=1e-6)


def test_long_and_unsafe_ids_get_hashed_names_and_resume(tmp_path):
    targets = _targets(3)
    targets["name"] = ["x" * 250, "NGC 1234", "../../etc/passwd"]
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, id_column="name", base_url=server.url, **FAST)
        again = fetch_manifest(targets, tmp_path, id_column="name", base_url=server.url, **FAST)
    assert list(manifest["status"]) == ["ok"] * 3 and list(again["status"]) == ["cached"] * 3
    assert manifest["id"].tolist() == targets["name"].tolist()  # the mapping, in the manifest
    for path in manifest["path"]:
        assert len(path) <= 62 and _SAFE_NAME.fullmatch(path) and (tmp_path / path).is_file()
    assert manifest["path"][1].startswith("NGC_1234-")
    # nothing outside the directory, nothing else in it
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*manifest["path"], "manifest.ecsv"])


@pytest.mark.parametrize(("options", "message"), [
    (dict(size=0), "size=0 must be an integer >= 1"),
    (dict(size=-5), "size=-5 must be an integer >= 1"),
    (dict(size=100.5), "size=100.5 must be an integer >= 1"),
    (dict(bands=["CDS/P/SDSS9/g"]), "bands apply to survey='hips'"),
    (dict(survey="hips", bands="CDS/P/SDSS9/g"), "bands must be a list of HiPS survey names"),
    (dict(max_workers=0), "max_workers=0 must be an integer >= 1"),
    (dict(retries=0), "retries=0 must be an integer >= 1"),
    (dict(timeout=-1), "timeout=-1 must be a positive, finite number of seconds"),
    (dict(timeout=float("inf")), "timeout=inf must be a positive, finite number of seconds"),
    (dict(deadline=float("nan")), "deadline=nan must be a positive, finite number of seconds"),
    (dict(data_release="nine"), "data_release='nine' must be an integer >= 1"),
    (dict(survey="panstarrs"), "unknown survey 'panstarrs'"),
])
def test_fetch_options_are_refused_before_anything_is_made(tmp_path, options, message):
    with pytest.raises(GalzooError, match=message):
        fetch_cutouts(_targets(2), tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=5))
def test_any_id_gives_safe_unique_names_or_a_named_refusal(ids):
    table = Table({"id": ids})
    try:
        names = _file_names(table, "id")
    except InputError as err:
        assert "id column 'id'" in str(err)
        assert any(not i.strip() or any(ord(c) < 32 or 127 <= ord(c) <= 159 for c in i) for i in ids) \
            or len(set(ids)) < len(ids)
        return
    assert len(set(names)) == len(names) == len(ids)
    for name in names:
        assert _SAFE_NAME.fullmatch(name) and len(name) <= _MAX_ID_LENGTH + 4


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_retry_after_never_raises(value):
    wait = _retry_after(value)
    assert wait is None or wait >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.integers(0, 10_000))
def test_validate_cutout_refuses_any_damaged_bytes_with_a_cutout_error(noise, position):
    real = sorted((Path(__file__).parent / "data" / "gz1_images").glob("*.jpg"))[0]
    data = real.read_bytes()
    with Image.open(real) as image:
        size = image.size[0]
    position %= len(data)
    damaged = data[:position] + noise + data[position + len(noise):]
    try:
        array = validate_cutout(damaged, size=size)
    except CutoutError:
        return
    assert array.shape == (size, size, 3) and array.dtype == np.uint8


# ------------------------------------------------------------------ images: one bad file, one row


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_read_image_gives_an_image_or_a_reason_for_any_bytes(tmp_path, data):
    path = tmp_path / "fuzz.jpg"
    path.write_bytes(data)
    try:
        image = read_image(path)
    except ImageError as err:
        assert err.reason in ("undecodable", "too_large", "not_8bit", "not_rgb", "translucent", "fits_image")
        assert err.reason != "fits_image" or data.startswith(b"SIMPLE  =")  # a FITS file, and only then
        return
    assert image.shape == (100, 100, 3) and image.dtype == np.uint8


def test_symlink_farm_classifies_every_link_and_a_dangling_one_is_missing(tmp_path):
    sample, image_dir = load_demo_sample()
    farm = tmp_path / "farm"
    farm.mkdir()
    for name in sample["filename"][:3]:
        (farm / name).symlink_to(image_dir / name)  # links leading outside the farm
    (farm / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (farm / "sub").symlink_to(image_dir, target_is_directory=True)
    table = Table({"filename": [*sample["filename"][:3], "gone.jpg", f"sub/{sample['filename'][4]}"]})
    out = classify_table(table, image_dir=farm, progress=False)
    assert out["status"].tolist() == ["ok", "ok", "ok", "missing", "ok"]
    with pytest.raises(InputError, match="row 0: image path '../escape.jpg' leaves image_dir"):
        classify_table(Table({"filename": ["../escape.jpg"]}), image_dir=farm, progress=False)


def test_rows_without_images_cost_nothing_and_the_crop_is_checked(tmp_path):
    sample, image_dir = load_demo_sample()
    with pytest.raises(InputError, match=r"crop=0.01 must lie in \[0.1, 2.0\]"):
        classify_table(sample[:2], image_dir=image_dir, crop=0.01, progress=False)
    with pytest.raises(InputError, match=r"crop=2.5 must lie in \[0.1, 2.0\].*widened with sky"):
        classify_table(sample[:2], image_dir=image_dir, crop=2.5, progress=False)
    with pytest.raises(InputError, match="the table is empty"):
        classify_table(sample[:0], image_dir=image_dir, progress=False)
    missing = Table({"filename": [f"none{i}.jpg" for i in range(2000)]})
    start = time.perf_counter()
    expected = r"2000 of 2000 rows not classified \(\{'missing': 2000\}\)"
    with pytest.warns(UnusableImagesWarning, match=expected):
        out = classify_table(missing, image_dir=tmp_path, progress=False, batch_size=64)
    assert set(out["status"]) == {"missing"} and out["quality_flags"].mask.all()
    assert time.perf_counter() - start < 30  # no forward pass for batches of missing images


# ---------------------------------------------------------------------------- image quality flags


def test_quality_flags_find_the_off_centre_demo_galaxy():
    sample, image_dir = load_demo_sample()
    out = classify_table(sample, image_dir=image_dir, progress=False)
    border = QUALITY_FLAGS["bright_border"][0]
    defects = {name: int(f) & ~border for name, f in zip(out["filename"], out["quality_flags"])
               if f & ~border}
    assert defects == {OFF_CENTRE: QUALITY_FLAGS["no_central_source"][0]}
    # the demo frames are 30-arcsec close-ups filled by their galaxies; the off-centre one is mostly sky
    close_ups = (np.asarray(out["quality_flags"]) & border) != 0
    assert close_ups.sum() == 35 and not close_ups[list(out["filename"]).index(OFF_CENTRE)]
    assert "1 (no_central_source)" in column_notes("quality_flags")


def test_quality_flags_on_real_sdss_cutouts(real_data):
    """The thresholds on real frames: centred galaxies pass, broken frames are flagged."""
    kaggle = sorted((real_data / "gz2_kaggle_5class" / "images").glob("*.jpg"))[:300]
    flagged = {p.name: image_quality_flags(read_image(p)) for p in kaggle}
    # one frame of a faint galaxy on a bright, reddish sky: its border is a quarter of its peak
    assert {name: f for name, f in flagged.items() if f} == {"103500.jpg": QUALITY_FLAGS["bright_border"][0]}
    error_page = read_image(real_data / "gz1_sdss" / "images" / ERROR_PAGE)
    bits = image_quality_flags(error_page)
    assert bits == QUALITY_FLAGS["no_central_source"][0] | QUALITY_FLAGS["truncated"][0]
    galaxy = read_image(kaggle[0])
    assert image_quality_flags(galaxy) == 0
    burnt = galaxy.copy()
    burnt[30:70, 30:70] = 255  # a saturated star over the centre: 16 % of the pixels at 255
    assert image_quality_flags(burnt) == QUALITY_FLAGS["saturated"][0]
    flat = np.full_like(galaxy, int(np.median(galaxy)))
    assert image_quality_flags(flat) & QUALITY_FLAGS["blank"][0]


def test_a_blank_frame_gets_a_status_not_a_class(tmp_path):
    """A constant sky read as a confident spiral, a black frame as a round galaxy, with status ok: now
    such rows get ``status='blank'``, no class and no features, and keep the flags that say why."""
    sample, image_dir = load_demo_sample()
    real = sample["filename"][0]
    galaxy = read_image(image_dir / real, size=300)
    shutil.copy(image_dir / real, tmp_path / real)
    Image.fromarray(np.full_like(galaxy, int(np.median(galaxy)))).save(tmp_path / "sky.png")
    Image.fromarray(np.zeros_like(galaxy)).save(tmp_path / "black.png")
    table = Table({"filename": [real, "sky.png", "black.png"]})
    out = classify_table(table, image_dir=tmp_path, features_model="sample-gz2-features", progress=False)
    assert out["status"].tolist() == ["ok", "blank", "blank"]
    for name in ("predicted_class", "prob_spiral", "prob_feature_smooth", "flag_ring"):
        assert out[name].mask.tolist() == [False, True, True], name
    blank = QUALITY_FLAGS["blank"][0]
    assert [int(f) & blank for f in out["quality_flags"]] == [0, blank, blank]
    assert out["quality_flags"][2] & QUALITY_FLAGS["truncated"][0]  # black edges, as the flags say
    assert out.meta["provenance"]["status_counts"] == "ok=1, blank=2"
    with pytest.raises(ImageError, match=r"row 1: the image is near-constant.*sky\.png"):
        classify_table(table, image_dir=tmp_path, strict=True, progress=False)

def test_a_grey_scale_cutout_is_flagged_and_colour_ones_are_not(real_data, tmp_path):
    """The models read gri colour: a grey copy of a real frame (saved as an RGB JPEG or a one-channel
    one, as a single-band cutout would be) is flagged ``grey``; no real frame, even the least colourful
    of the development data's, is."""
    from PIL import Image

    grey = QUALITY_FLAGS["grey"][0]
    kaggle = sorted((real_data / "gz2_kaggle_5class" / "images").glob("*.jpg"))[:50]
    least_colourful = real_data / "gz2_kaggle_5class" / "images" / "576207.jpg"  # spread 14 of 255
    decals = sorted((real_data / "gz_decals_rings" / "images").glob("*"))[:10]
    for path in [*kaggle, least_colourful, *decals]:
        assert not image_quality_flags(read_image(path)) & grey, path.name
        Image.open(path).convert("L").convert("RGB").save(tmp_path / "rgb.jpg", quality=75)
        Image.open(path).convert("L").save(tmp_path / "one_band.jpg")
        for copy in ("rgb.jpg", "one_band.jpg"):
            assert image_quality_flags(read_image(tmp_path / copy)) == grey, (path.name, copy)


def _reference_flags(rgb):
    """The flags' definition (columns.QUALITY_FLAGS) written out per image with NumPy, as first shipped."""
    grey = rgb.mean(axis=2, dtype=np.float64)
    smooth = np.lib.stride_tricks.sliding_window_view(np.pad(grey, 1, mode="edge"), (3, 3)).mean(axis=(2, 3))
    height, width = smooth.shape
    y, x = np.ogrid[:height, :width]
    centre = np.hypot(y - (height - 1) / 2, x - (width - 1) / 2) <= 0.1 * min(height, width)
    faint = np.percentile(smooth, 5)
    peak, central = smooth.max() - faint, smooth[centre].max() - faint
    black = rgb.max(axis=2) <= 3
    band = max(1, round(0.05 * min(height, width)))
    border = np.ones_like(black)
    border[band:-band, band:-band] = False
    sums = np.rint(smooth * 27).astype(int)   # the 3 x 3 sums of the three colours, integers
    raised = {"no_central_source": central < 0.25 * peak or peak < 8, "blank": peak < 8,
              "bright_border": 20 * np.median(sums[border]) > 3 * sums.max(),   # > 0.15 of it, exactly
              "saturated": (rgb.max(axis=2) >= 255).mean() > 0.02,
              "truncated": any(e.all() for e in (black[:band], black[-band:], black[:, :band],
                                                  black[:, -band:])),
              "grey": int((rgb.max(axis=2).astype(int) - rgb.min(axis=2)).max()) <= 4}
    return sum(QUALITY_FLAGS[name][0] for name, up in raised.items() if up)


def test_batched_flags_equal_the_definition_on_every_real_image(real_data):
    from concurrent.futures import ThreadPoolExecutor

    paths = sorted(real_data.rglob("*.jpg")) + sorted(load_demo_sample()[1].glob("*.jpg"))
    assert len(paths) > 37_000
    with ThreadPoolExecutor(2) as pool:  # Pillow decodes with the GIL released
        images = np.stack(list(pool.map(read_image, paths, chunksize=256)))
    batch = torch.from_numpy(images).permute(0, 3, 1, 2)
    flags = torch.cat([batch_quality_flags(batch[i:i + 512]) for i in range(0, len(batch), 512)]).numpy()
    expected = np.array([_reference_flags(image) for image in images])
    differ = np.flatnonzero(flags != expected)
    assert not len(differ), [(paths[i].name, flags[i], expected[i]) for i in differ[:10]]
    border = QUALITY_FLAGS["bright_border"][0]
    assert 0 < np.count_nonzero(expected & ~border) < 100  # broken frames exist in the data and are few
    assert not (flags & QUALITY_FLAGS["grey"][0]).any()  # every real frame is in colour
    assert not (flags & QUALITY_FLAGS["blank"][0]).any()  # status blank costs no real galaxy
    # bright_border: the Hart et al. (2016) and demo close-ups (30 arcsec, filled by their galaxies) and
    # few of the survey-scale and GZ2-framed ones (bright sky near a star, a galaxy filling its frame)
    close_up = np.array([p.parent.parent.name == "gz2_hart16_sdss" or p.parent.name == "demo_images"
                         for p in paths])
    assert close_up.sum() == 136 and np.mean(flags[close_up] & border > 0) > 0.9
    assert 0 < np.mean(flags[~close_up] & border > 0) < 0.005


@settings(max_examples=150, deadline=None)
@given(st.integers(8, 60), st.integers(8, 60), st.integers(0, 2**32 - 1),
       st.sampled_from(["noise", "flat", "dark"]))
def test_batched_flags_equal_the_definition_on_any_image(height, width, seed, kind):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if kind == "flat":
        image = np.clip(image // 40 + 100, 0, 255).astype(np.uint8)
    elif kind == "dark":
        image = (image // 64).astype(np.uint8)  # levels 0-3: black for the truncation test
    assert image_quality_flags(image) == _reference_flags(image)


# ---------------------------------------------------------------------- value ranges (labels)


@pytest.fixture(scope="module")
def hart():
    return load_gz2_sample(layout="hart2016")[:40]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(allow_nan=False).filter(lambda v: not 0 <= v <= 1), st.integers(0, 39),
       st.sampled_from([a.column("debiased") for a in GZ2_ANSWERS]), st.sampled_from(["five", "features"]))
def test_vote_fractions_outside_0_1_are_refused_in_every_column(hart, value, row, column, labels):
    """Any answer's column, needed by the labels or not (star_or_artifact, bar...), and +-inf too."""
    table = hart.copy()
    table[column] = table[column].astype(float)
    table[column][row] = value
    with pytest.raises(InputError, match=f"column '{column}', row {row}: vote fraction"):
        (five_class_labels if labels == "five" else feature_labels)(table)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([float("inf"), -1.0, -1e308, 1e308 * 10]), st.integers(0, 39),
       st.sampled_from([a.column("count") for a in GZ2_ANSWERS]))
def test_vote_counts_that_are_not_finite_and_non_negative_are_refused(hart, value, row, column):
    table = hart.copy()
    table[column] = table[column].astype(float)
    table[column][row] = value
    with pytest.raises(InputError, match=f"column '{column}', row {row}: vote count"):
        five_class_labels(table)


def test_text_in_a_vote_column_and_nan_min_votes_are_named(hart):
    table = hart.copy()
    column = "t01_smooth_or_features_a01_smooth_debiased"
    table[column] = table[column].astype(str)
    table[column][7] = "n/a"
    with pytest.raises(InputError, match=f"column '{column}', row 7: 'n/a' is not a number"):
        five_class_labels(table)
    for bad in (float("nan"), float("inf"), -1, 2.5, "20"):
        with pytest.raises(InputError, match="min_votes=.* must be a non-negative integer"):
            feature_labels(hart, min_votes=bad)


def test_percentages_and_negative_counts_are_named(hart):
    table = hart.copy()
    column = "t01_smooth_or_features_a02_features_or_disk_debiased"
    table[column] = table[column] * 100
    with pytest.raises(InputError, match="looks like percentages: divide it by 100"):
        five_class_labels(table)
    table = hart.copy()
    table["t04_spiral_a08_spiral_count"][5] = -3
    with pytest.raises(InputError, match="'t04_spiral_a08_spiral_count', row 5: vote count -3 is not a"):
        feature_labels(table)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_thresholds_are_vote_fractions(hart, value):
    if 0 <= value <= 1:
        assert "label_bar" in feature_labels(hart, features=["bar"], threshold=value).colnames
    else:
        with pytest.raises(InputError, match="threshold"):
            feature_labels(hart, features=["bar"], threshold=value)


def test_labels_refuse_to_overwrite_their_own_output(hart):
    labelled = five_class_labels(hart)
    with pytest.raises(InputError, match="already has the output column.* gz2_five_class"):
        five_class_labels(labelled)
    again = five_class_labels(labelled, overwrite=True)
    assert again["gz2_five_class"].tolist() == labelled["gz2_five_class"].tolist()
    with pytest.raises(TypeError, match="features must be a list"):
        feature_labels(hart, features="bar")


# ------------------------------------------------------------------- CLI: one line, exit status 2


def _model_copy(tmp_path, name, change):
    """A copy of sample-gz2 whose card ``change`` edits."""
    from galzoo_cnn.utils._cards import card_path as _card_path

    card = _card_path("sample-gz2")
    shutil.copy(card.with_suffix(".safetensors"), tmp_path / f"{name}.safetensors")
    values = json.loads(card.read_text())
    values["weights"] = f"{name}.safetensors"
    change(values)
    (tmp_path / f"{name}.json").write_text(json.dumps(values))
    return str(tmp_path / f"{name}.json")


def _user_errors(tmp_path):
    sample, image_dir = load_demo_sample()
    sample[:2].write(tmp_path / "in.ecsv")
    (tmp_path / "scalar.yaml").write_text("just a string\n")
    (tmp_path / "broken.yaml").write_text("table: [unclosed\n")
    (tmp_path / "garbage.fits").write_bytes(b"SIMPLE  =  no FITS at all" * 10)
    classify = ["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "-o",
                str(tmp_path / "cat"), "--no-progress"]
    return {
        "no GPU": (classify + ["--device", "cuda:7"], "--device 'cuda:7' is not available"),
        "unknown device": (classify + ["--device", "tpu-ish"], "--device 'tpu-ish' is not a device"),
        "card lacks a key": (classify + ["--model", _model_copy(
            tmp_path, "keyless", lambda c: c.pop("weights_sha256"))], "lacks the key(s) weights_sha256"),
        "card classes vs weights": (classify + ["--model", _model_copy(
            tmp_path, "three", lambda c: c.update(classes=c["classes"][:3], decision=None))],
            "does not match its weights"),
        "card classes vs decision factors": (classify + ["--model", _model_copy(
            tmp_path, "three_factors", lambda c: c.update(classes=c["classes"][:3]))],
            "expected a positive number for each of the card's classes"),
        "tiny crop": (classify + ["--crop", "0.01"], "--crop 0.01 must lie in"),
        "batch size 0": (classify + ["--batch-size", "0"], "--batch-size 0 must be an integer >= 1"),
        "unreadable table": (["classify", str(tmp_path / "garbage.fits"), "-o", str(tmp_path / "x")],
                             "cannot be read as fits"),
        "YAML scalar": (["train", "--config", str(tmp_path / "scalar.yaml")], "expected a YAML mapping"),
        "broken YAML": (["train", "--config", str(tmp_path / "broken.yaml")], "is not valid YAML"),
        "bands with sdss": (["fetch", str(tmp_path / "in.ecsv"), "--image-dir", str(tmp_path / "c"),
                             "--bands", "CDS/P/SDSS9/g"], "bands apply to --survey 'hips'"),
        "size 0": (["fetch", str(tmp_path / "in.ecsv"), "--image-dir", str(tmp_path / "c"), "--size", "0"],
                   "--size 0 must be an integer >= 1"),
        "missing table": (["labels", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "l.ecsv")],
                          "does not exist"),
        **_second_round_user_errors(tmp_path, classify),
    }


def _card_case(tmp_path, name, change):
    return _model_copy(tmp_path, name, change)


def _second_round_user_errors(tmp_path, classify):
    """The second hostile-input probe's CLI cases: each one line, exit 2, before any work."""
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 a zip of pickles, never to be opened")
    config = f"table: {tmp_path / 'in.ecsv'}\noutput: {tmp_path / 'run'}\nlabel_column: label\n"
    yaml_cases = {"pixel_scale as a string": ("pixel_scale: '0.396 arcsec'\n", "pixel_scale='0.396 arcsec'"),
                  "class_map as a list": ("class_map: [E, S]\n", "class_map=['E', 'S']"),
                  "k reversed": ("k: [1.0, 0.6]\n", "a range is (low, high), low first"),
                  "devices 99 in a config": ("accelerator: cpu\ndevices: 99\n", "devices=99 would start 99")}
    cases = {}
    for case, (line, message) in yaml_cases.items():
        path = tmp_path / f"{case.replace(' ', '_')}.yaml"
        path.write_text(config + line)
        cases[case] = (["train", "--config", str(path)], message)
    cards = {
        "size 0": (lambda c: c["input"].update(size=0), "input 'size' is 0"),
        "size negative": (lambda c: c["input"].update(size=-3), "input 'size' is -3"),
        "size a string": (lambda c: c["input"].update(size="100"), "input 'size' is '100'"),
        "classes a string": (lambda c: c.update(classes="spiral"), "'classes' is 'spiral'"),
        "weights upwards": (lambda c: c.update(weights="../.."), "'weights' is '../..'"),
        "weights a device": (lambda c: c.update(weights="/dev/zero"), "'weights' is '/dev/zero'"),
        "weights a dot": (lambda c: c.update(weights="."), "'weights' is '.'"),
        "weights null": (lambda c: c.update(weights=None), "'weights' is None"),
        "weights a pickle": (lambda c: c.update(weights="model.pt"), "'weights' is 'model.pt'"),
    }
    for case, (change, message) in cards.items():
        cases[f"card {case}"] = (classify + ["--model", _card_case(tmp_path, case.replace(" ", "_"), change)],
                                 message)
    fake = _model_copy(tmp_path, "zip", lambda c: c.update(weights="zip.safetensors"))
    (tmp_path / "zip.safetensors").write_bytes((tmp_path / "model.pt").read_bytes())
    card = json.loads(Path(fake).read_text())
    card["weights_sha256"] = hashlib.sha256((tmp_path / "zip.safetensors").read_bytes()).hexdigest()
    Path(fake).write_text(json.dumps(card))
    cases["weights not safetensors"] = (classify + ["--model", fake], "are not a safetensors file")
    (tmp_path / "exists.fits").write_text("")
    (tmp_path / "a_file").write_text("")
    output = classify.index("-o") + 1
    cases.update({
        "devices -1": (classify + ["--devices", "-1"], "--devices '-1' is not a number of devices >= 1"),
        "devices abc": (classify + ["--devices", "abc"], "--devices 'abc' is not a number of devices"),
        "devices 0": (classify + ["--devices", "0"], "--devices 0 is not a number of devices >= 1"),
        "devices 99 on CPU": (classify + ["--device", "cpu", "--devices", "99"],
                              "--devices 99 would start 99"),
        "describe without =": (classify + ["--describe", "z"], "--describe 'z': expected NAME=TEXT"),
        "batch of 10^9": (classify + ["--batch-size", "1000000000"], "--batch-size 1000000000 would hold"),
        "catalogue name with a blank": (classify[:output] + [str(tmp_path / "my cat")]
                                        + classify[output + 1:], "catalogue name 'my cat'"),
        "empty model name": (classify + ["--model", ""], "the model name is empty"),
        "output exists": (classify[:output] + [str(tmp_path / "exists")] + classify[output + 1:],
                          "exists.fits exist(s); pass --overwrite"),
        "output under a file": (classify[:output] + [str(tmp_path / "a_file" / "cat")]
                                + classify[output + 1:], "is a file, not a directory"),
        "output with a newline": (classify[:output] + [str(tmp_path / "ca\nt")] + classify[output + 1:],
                                  "holds control characters"),
    })
    return cases


def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys):
    for case, (argv, message) in _user_errors(tmp_path).items():
        assert main(argv) == 2, case
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (case, err)
        assert len(err.strip().splitlines()) == 1, (case, err)
    assert not list(tmp_path.glob("cat*")) and not (tmp_path / "c").exists()


def test_every_public_error_is_a_galzoo_error():
    from galzoo_cnn import exceptions

    for name in set(exceptions.__all__) - {"Interrupted"}:
        kind = getattr(exceptions, name)
        assert issubclass(kind, (exceptions.GalzooError, exceptions.GalzooWarning)), name
    # a stop is not an error: no "except Exception" on its way may swallow it (as KeyboardInterrupt)
    assert not issubclass(exceptions.Interrupted, Exception)


def test_an_interrupt_is_not_swallowed_by_library_code():
    """The signal may arrive inside code that turns any Exception into another error; here inspect,
    which Lightning calls in every training step (a SIGTERM there once ended a run with exit 1 and a
    TypeError instead of 143)."""
    import inspect
    import os

    from galzoo_cnn.exceptions import Interrupted
    from galzoo_cnn.utils._signals import interruptible

    class Probe:
        def __call__(self):
            pass

        @property
        def __signature__(self):  # inspect reads this inside its "except Exception: raise TypeError"
            os.kill(os.getpid(), signal.SIGTERM)
            return None

    with pytest.raises(Interrupted), interruptible():
        inspect.getfullargspec(Probe())


def test_match_radii_must_be_positive_finite_angles():
    from astropy import units as u

    from galzoo_cnn.evaluation import match_labels
    from galzoo_cnn.samples import build_samples

    targets = _targets(3)
    labelled = targets.copy()
    labelled["label_bar"] = [True, False, True]
    for radius in (-1 * u.arcsec, 0 * u.arcsec, float("nan") * u.arcsec, [1, 2] * u.arcsec, 1 * u.kg):
        with pytest.raises(InputError, match="radius="):
            build_samples(targets, load_gz2_sample(layout="hart2016"), radius=radius)
        with pytest.raises(InputError, match="radius="):
            match_labels(targets, labelled, radius=radius)


def test_catalogue_outputs_are_checked_before_anything_is_written(tmp_path):
    from galzoo_cnn.catalog import write_catalog

    table = Table({"ra": [1.0, 2.0], "dec": [3.0, 4.0], "objid": ["a", "b"]})
    descriptions = {"objid": "identifier"}
    for formats in (None, [], ()):
        with pytest.raises(InputError, match="names no format"):
            write_catalog(table, tmp_path / "cat", formats=formats, descriptions=descriptions)
    for base in ("a b", ".hidden", "-dash", "new\nline"):
        with pytest.raises(InputError, match="catalogue"):
            write_catalog(table, tmp_path / base, descriptions=descriptions)
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is a file, not a directory"):
        write_catalog(table, tmp_path / "file" / "cat", descriptions=descriptions)
    for bad in ("tab\there", "esc\x1b[31m", "new\nline", "c\rr"):
        ids = Table({"ra": [1.0, 2.0], "dec": [3.0, 4.0], "objid": ["fine", bad]})
        with pytest.raises(CatalogError, match="column 'objid', row 1: .* holds control characters"):
            write_catalog(ids, tmp_path / "cat", descriptions=descriptions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written, nothing left
    odd = Table({"ra": [1.0, 2.0, 3.0], "dec": [3.0, 4.0, 5.0], "objid": ["a|b", "   ", " padded "]})
    paths = write_catalog(odd, tmp_path / "cat", descriptions=descriptions)
    back = Table.read(paths["cds"] / "cat.dat", format="ascii.cds", readme=str(paths["cds"] / "ReadMe"))
    assert back["objid"].tolist()[0] == "a|b" and back["objid"].mask.tolist() == [False, True, False]
    assert Table.read(paths["fits"], hdu=1)["objid"].tolist() == ["a|b", "", "padded"]


def test_ra_of_360_degrees_is_written_as_0():
    from galzoo_cnn.catalog import check_catalog

    prepared = check_catalog(Table({"ra": [360.0, 359.5], "dec": [0.0, 1.0]}))
    assert prepared["ra"].tolist() == [0.0, 359.5]


def test_the_cds_writer_changes_nothing_of_the_table_it_writes(tmp_path):
    """The CDS table shares the caller's columns (no copy of a large catalogue); the columns it must
    write otherwise (RA that prints as 360, booleans) are new ones."""
    from galzoo_cnn.catalog import write_catalog

    table = Table({"ra": [359.99999999, 10.0], "dec": [0.0, 1.0], "flag_bar": [True, False]})
    before = {name: table[name].copy() for name in table.colnames}
    descriptions = {name: table[name].info.description for name in table.colnames}
    paths = write_catalog(table, tmp_path / "cat", formats=["cds"])
    for name in table.colnames:
        assert table[name].dtype == before[name].dtype and table[name].tolist() == before[name].tolist()
        assert table[name].info.description == descriptions[name]
    data = (paths["cds"] / "cat.dat").read_text().splitlines()
    assert float(data[0].split()[0]) == 0.0  # not 360
