# Licensed under a 3-clause BSD style license - see LICENSE
import hashlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galzoo_cnn.cutouts import cutout_url, fetch_cutouts, validate_cutout
from galzoo_cnn.images import read_image
from galzoo_cnn.tests.cutout_server import CutoutServer, fetch_manifest

FAST = dict(retries=4, backoff=0.05, timeout=1.0, progress=False)


def _targets(n=12):
    """Real GZ2 galaxy positions (Hart et al. 2016)."""
    from galzoo_cnn.datasets import load_gz2_sample

    return load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"][:n]


def test_every_image_arrives_intact(tmp_path):
    targets = _targets()
    with CutoutServer(latency=0.02) as server:
        manifest = fetch_manifest(targets, tmp_path, id_column="dr7objid", base_url=server.url,
                                 max_workers=4, **FAST)
    assert list(manifest["status"]) == ["ok"] * 12 and manifest.meta["counts"]["ok"] == 12
    for row in manifest:
        path = tmp_path / row["path"]
        assert path.name == f"{targets['dr7objid'][row['row']]}.jpg"
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == row["nbytes"]
        assert read_image(path).shape == (100, 100, 3)
    assert len(server.requests) == 12


def test_faults_are_retried_or_reported(tmp_path):
    targets = _targets(9)
    ra = [repr(float(v)) for v in targets["ra"]]
    with CutoutServer(stall=2.0) as server:
        server.plan[ra[0]] = ["500", "500"]                  # recovers on the third attempt
        server.plan[ra[1]] = ["429"]                         # waits for Retry-After: 1
        server.plan[ra[2]] = ["timeout"]                     # then answers in time
        server.plan[ra[3]] = ["truncated", "garbage"]        # broken bodies, then a good one
        server.plan[ra[4]] = ["500"] * 10                    # never recovers
        server.plan[ra[5]] = ["404"]                         # not retried
        server.plan[ra[6]] = ["blank"]                       # outside the footprint
        server.plan[ra[7]] = ["garbage"] * 10                # never decodes
        server.plan[ra[8]] = ["small"] * 10                  # always the wrong size
        start = time.perf_counter()
        manifest = fetch_manifest(targets, tmp_path, base_url=server.url, max_workers=3, **FAST)
        elapsed = time.perf_counter() - start
    status = dict(zip(range(9), zip(manifest["status"], manifest["attempts"], manifest["reason"])))
    assert status[0][:2] == ("ok", 3)
    assert status[1][:2] == ("ok", 2) and elapsed >= 1.0
    assert status[2][:2] == ("ok", 2)
    assert status[3][:2] == ("ok", 3)
    assert status[4] == ("failed", 4, "HTTP 500 Internal Server Error")
    assert status[5] == ("failed", 1, "HTTP 404 Not Found")
    assert status[6][0] == "blank" and status[6][2].startswith("blank: every pixel is")
    assert status[7][:2] == ("corrupt", 4) and "does not decode" in status[7][2]
    assert status[8][:2] == ("corrupt", 4) and "is 100 x 50 pixels, expected 100 x 100" in status[8][2]
    # only valid images are on disk, and no temporary files
    on_disk = sorted(p.name for p in tmp_path.iterdir())
    assert on_disk == sorted([*manifest["path"][np.isin(manifest["status"], ["ok"])], "manifest.ecsv"])
    assert manifest.meta["counts"] == {"ok": 4, "cached": 0, "blank": 1, "corrupt": 2, "failed": 2}


def test_timeout_reason(tmp_path):
    targets = _targets(1)
    with CutoutServer(stall=1.5) as server:
        server.plan[repr(float(targets["ra"][0]))] = ["timeout"] * 5
        manifest = fetch_manifest(targets, tmp_path, base_url=server.url,
                                  **dict(FAST, retries=2, timeout=0.5))
    assert manifest["status"][0] == "failed" and manifest["reason"][0] == "timed out after 0.5 s"


def test_second_run_requests_nothing(tmp_path):
    targets = _targets(6)
    with CutoutServer() as server:
        first = fetch_manifest(targets, tmp_path, base_url=server.url, **FAST)
        (tmp_path / first["path"][2]).write_bytes(b"\xff\xd8 broken")  # damaged since
        (tmp_path / first["path"][4]).unlink()                          # deleted since
        server.requests.clear()
        second = fetch_manifest(targets, tmp_path, base_url=server.url, **FAST)
    assert list(second["status"]) == ["cached", "cached", "ok", "cached", "ok", "cached"]
    assert sorted(r for r, _ in server.requests) == sorted(repr(float(v)) for v in targets["ra"][[2, 4]])
    assert list(second["sha256"]) == list(first["sha256"])


def test_killed_run_resumes_without_refetching(tmp_path):
    targets = _targets(40)
    targets.write(tmp_path / "targets.ecsv")
    out = tmp_path / "cutouts"
    with CutoutServer(latency=0.1) as server:
        script = textwrap.dedent(f"""
            from galzoo_cnn.cutouts import fetch_cutouts
            fetch_cutouts({str(tmp_path / 'targets.ecsv')!r}, {str(out)!r}, base_url={server.url!r},
                          max_workers=2, progress=False)
        """)
        process = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.time() + 60
        while time.time() < deadline and len(list(out.glob("*.jpg"))) < 10:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        done = {p.name for p in out.glob("*.jpg")}
        assert 10 <= len(done) < 40
        for name in done:  # whatever the kill interrupted, what is there is whole
            validate_cutout((out / name).read_bytes())
        seen = -1
        while seen != len(server.requests):  # the killed client's requests still in the server
            seen = len(server.requests)
            time.sleep(0.3)
        server.requests.clear()
        manifest = fetch_manifest(tmp_path / "targets.ecsv", out, base_url=server.url, **FAST)
    assert manifest.meta["counts"]["cached"] == len(done)
    assert manifest.meta["counts"]["ok"] == 40 - len(done)
    assert len(server.requests) == 40 - len(done)
    assert not list(out.glob(".*.galzoo-part"))


def test_legacy_survey_endpoint(tmp_path):
    with CutoutServer() as server:
        manifest = fetch_manifest(_targets(2), tmp_path, survey="legacy", size=64, base_url=server.url,
                                 **FAST)
    assert list(manifest["status"]) == ["ok", "ok"]
    assert read_image(tmp_path / manifest["path"][0], size=64).shape == (64, 64, 3)
    url = cutout_url("legacy", 10, 20, size=64, base_url=server.url)
    assert url.endswith("/jpeg-cutout?ra=10.0&dec=20.0&layer=ls-dr10&pixscale=0.262&size=64")


def test_hips2fits_url_is_astroquerys():
    """astroquery.hips2fits.conf.server is the one place hips2fits' URL is set; the old item warns."""
    pytest.importorskip("astroquery")
    from astroquery.hips2fits import conf as astroquery_conf

    from galzoo_cnn.config import conf
    from galzoo_cnn.exceptions import GalzooDeprecationWarning

    assert cutout_url("hips", 10, 20).startswith(astroquery_conf.server.rstrip("/") + "?")
    mirror = "https://alaskybis.cds.unistra.fr/hips-image-services/hips2fits"  # astroquery's second
    with astroquery_conf.set_temp("server", mirror):
        assert cutout_url("hips", 10, 20).startswith(mirror + "?")
    with conf.set_temp("hips2fits_url", "http://127.0.0.1:8/h2f"), \
            pytest.warns(GalzooDeprecationWarning, match="astroquery.hips2fits.conf.server"):
        assert cutout_url("hips", 10, 20).startswith("http://127.0.0.1:8/h2f?")


def test_hips2fits_fits_cubes(tmp_path):
    from astropy.io import fits
    from astropy.wcs import WCS
    from PIL import Image

    from galzoo_cnn.tests.cutout_server import IMAGES

    targets = _targets(4)
    ra = [repr(float(v)) for v in targets["ra"]]
    base = None
    with CutoutServer() as server:
        base = server.url + "/hips2fits"
        server.plan[ra[1]] = ["500"]           # the g band is retried, then all three arrive
        server.plan[ra[2]] = ["ok", "blank"]   # the r band lies outside the survey
        manifest = fetch_manifest(targets, tmp_path, survey="hips", id_column="dr7objid", base_url=base,
                                 **FAST)
        assert list(manifest["status"]) == ["ok", "ok", "blank", "ok"]
        assert manifest["reason"][2] == "blank: no finite pixel" and manifest["attempts"][1] == 4
        assert len(server.requests) == 3 + 4 + 2 + 3
        again = fetch_manifest(targets, tmp_path, survey="hips", id_column="dr7objid", base_url=base, **FAST)
        assert list(again["status"]) == ["cached", "cached", "ok", "cached"]
    for row in manifest[manifest["status"] == "ok"]:
        path = tmp_path / row["path"]
        assert path.name == f"{row['id']}.fits"
        with fits.open(path) as hdul:
            cube, header = hdul[0].data, hdul[0].header
        assert cube.shape == (3, 100, 100) and cube.dtype.name == "float32"  # big-endian in FITS
        assert [header[f"BAND{k}"] for k in (1, 2, 3)] == ["CDS/P/SDSS9/g", "CDS/P/SDSS9/r", "CDS/P/SDSS9/i"]
        # each plane is the served band (the JPEG plane of the real cutout), rows south to north
        index = int(float(row["ra"]) * 1000) % len(IMAGES)
        with Image.open(IMAGES[index]) as image:
            rgb = np.asarray(image.convert("RGB").resize((100, 100), Image.Resampling.LANCZOS))
        for k, plane in enumerate((2, 1, 0)):
            np.testing.assert_array_equal(cube[k], rgb[::-1, :, plane].astype(np.float32))
        centre = WCS(header).celestial.pixel_to_world(49.5, 49.5)
        assert abs(centre.ra.deg - row["ra"]) < 1e-6 and abs(centre.dec.deg - row["dec"]) < 1e-6
        assert WCS(header).celestial.proj_plane_pixel_scales()[0].to(u.arcsec).value == pytest.approx(0.396)
    assert not list(tmp_path.glob(".*.galzoo-part"))


def test_bad_input(tmp_path):
    targets = _targets(4)
    targets["dec"][1] = np.nan
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, base_url=server.url, **FAST)
        assert list(manifest["status"]) == ["ok", "failed", "ok", "ok"]
        assert manifest["reason"][1].startswith("no finite coordinates") and manifest["attempts"][1] == 0
        radians = _targets(2)
        radians["ra"] = (radians["ra"] * u.deg).to(u.rad)
        radians["dec"] = (radians["dec"] * u.deg).to(u.rad)
        manifest = fetch_manifest(radians, tmp_path / "rad", base_url=server.url, **FAST)
        assert np.allclose(manifest["ra"], _targets(2)["ra"]) and manifest.meta["counts"]["ok"] == 2
    duplicated = _targets(3)
    duplicated["dr7objid"][2] = duplicated["dr7objid"][0]
    with pytest.raises(ValueError, match="duplicate values, e.g. .* in rows 0 and 2"):
        fetch_cutouts(duplicated, tmp_path, id_column="dr7objid", **FAST)
    with pytest.raises(ValueError, match="column 'ra' holds bool values"):  # text is read: sexagesimal
        fetch_cutouts(Table({"ra": [True], "dec": [1.0]}), tmp_path, **FAST)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="cannot create the cutout directory .*file/sub"):
        fetch_cutouts(targets, blocker / "sub", **FAST)
    with pytest.raises(ValueError, match=r"id column 'id', row 1: 'b\\n' has control characters"):
        fetch_cutouts(Table({"id": ["a", "b\n"], "ra": [1.0] * 2, "dec": [1.0] * 2}), tmp_path / "c",
                      id_column="id", **FAST)
    assert not (tmp_path / "c").exists()  # refused before anything was made


@pytest.mark.remote_data
def test_real_sdss_cutout(tmp_path):
    targets = _targets(2)
    manifest = fetch_manifest(targets, tmp_path, progress=False)
    assert list(manifest["status"]) == ["ok", "ok"]
    assert read_image(tmp_path / manifest["path"][0]).shape == (100, 100, 3)


@pytest.mark.remote_data
def test_real_hips2fits_cube(tmp_path):
    from astropy.io import fits

    manifest = fetch_manifest(_targets(1), tmp_path, survey="hips", progress=False)
    assert list(manifest["status"]) == ["ok"]
    with fits.open(tmp_path / manifest["path"][0]) as hdul:
        assert hdul[0].data.shape == (3, 100, 100)
        assert np.isfinite(hdul[0].data).mean() > 0.9


def test_per_row_pixel_scale_frames_each_galaxy_as_gz2(tmp_path):
    """gz2_pixel_scale from real petroR90_r values drives one scale per request; the manifest records it."""
    from galzoo_cnn.cutouts import GZ2_FRAME_RADII, gz2_pixel_scale

    targets = _targets(3)
    targets["petroR90_r"] = [4.0, 9.5, 15.2] * u.arcsec  # typical GZ2 radii (r < 17 mag)
    scales = gz2_pixel_scale(targets["petroR90_r"], size=64, radii_per_frame=GZ2_FRAME_RADII)
    assert scales.unit == u.arcsec
    assert np.allclose(scales.value, targets["petroR90_r"].value * 0.02 * 424 / 64)
    assert GZ2_FRAME_RADII == pytest.approx(8.48)
    # by default, the frame the default model reads (its card's frame_r90): every pixel fetched is used
    from galzoo_cnn.config import conf
    from galzoo_cnn.models import load_model
    frame = load_model(conf.default_model).frame_r90
    assert np.allclose(gz2_pixel_scale(targets["petroR90_r"], size=64).value,
                       targets["petroR90_r"].value * frame / 64)
    targets["scale"] = scales
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, size=64, pixel_scale="scale", base_url=server.url,
                                 **FAST)
        sent = {q["ra"]: float(q["scale"]) for q in server.queries}
    assert list(manifest["status"]) == ["ok"] * 3
    for row in manifest:
        assert sent[repr(float(row["ra"]))] == pytest.approx(scales[row["row"]].value, rel=1e-5)
    assert manifest["pixel_scale"].unit == u.arcsec
    assert np.allclose(manifest["cutout_fov"].quantity.to_value(u.arcsec), 64 * scales.value)
    # the frame spans 8.48 R90 for every galaxy, whatever its size
    assert np.allclose(manifest["cutout_fov"].quantity.to_value(u.arcsec) / targets["petroR90_r"].value, 8.48)


def test_pixel_scale_as_quantity_array_and_bad_values(tmp_path):
    targets = _targets(3)
    with CutoutServer() as server:
        manifest = fetch_manifest(targets, tmp_path, size=32, base_url=server.url,
                                 pixel_scale=[0.2, np.nan, 0.5] * u.arcsec, **FAST)
        sent = sorted(float(q["scale"]) for q in server.queries)
    assert list(manifest["status"]) == ["ok", "failed", "ok"]
    assert manifest["reason"][1] == "no finite pixel scale"
    assert sent == [0.2, 0.5]
    with pytest.raises(ValueError, match="pixel_scale must be positive; row 1"):
        fetch_cutouts(targets, tmp_path, pixel_scale=[0.2, -1, 0.5] * u.arcsec, **FAST)
    with pytest.raises(u.UnitsError, match="angle per pixel"):
        fetch_cutouts(targets, tmp_path, pixel_scale=3 * u.kg, **FAST)
    with pytest.raises(KeyError, match="pixel_scale column 'nope'"):
        fetch_cutouts(targets, tmp_path, pixel_scale="nope", **FAST)
    with pytest.raises(ValueError, match="size=0 must be an integer >= 1"):
        fetch_cutouts(targets, tmp_path, size=0, **FAST)


def test_a_new_survey_is_one_registered_class(tmp_path):
    from galzoo_cnn.cutouts import SURVEYS, CutoutService, cutout_services, register_survey

    @register_survey("toy")
    class ToyCutouts(CutoutService):
        """A toy service: the Legacy Surveys endpoint of the test server, at its own scale."""

        pixel_scale = 0.5 * u.arcsec
        config_item = "legacy_cutout_url"

        def band_urls(self, ra, dec, size, scale, *, base_url=None, **options):
            return [f"{self.root(base_url)}/jpeg-cutout?ra={float(ra)!r}&dec={float(dec)!r}&layer=toy"
                    f"&pixscale={scale:g}&size={size}"]

    try:
        assert "toy" in cutout_services()["name"]
        with CutoutServer() as server:
            manifest = fetch_manifest(_targets(3), tmp_path, survey="toy", size=64, base_url=server.url,
                                     **FAST)
        assert list(manifest["status"]) == ["ok"] * 3
        assert {(q["layer"], q["pixscale"], q["size"]) for q in server.queries} == {("toy", "0.5", "64")}
        assert np.allclose(manifest["cutout_fov"].quantity.to_value(u.arcsec), 32.0)
        assert read_image(tmp_path / manifest["path"][0], size=64).shape == (64, 64, 3)
    finally:
        SURVEYS.pop("toy")


def test_the_returned_table_goes_straight_into_classify_table(tmp_path):
    """fetch_cutouts returns its input with filename and statuses: fetch and classify chain."""
    from galzoo_cnn import classify_table
    from galzoo_cnn.cutouts import ADDED_COLUMNS, read_manifest

    targets = _targets(4)
    targets["dec"][2] = np.nan
    with CutoutServer() as server:
        server.plan[repr(float(targets["ra"][1]))] = ["404"]
        fetched = fetch_cutouts(targets, tmp_path, id_column="dr7objid", base_url=server.url, **FAST)
        with pytest.raises(ValueError, match="already has the column.*filename.*overwrite=True"):
            fetch_cutouts(fetched, tmp_path, id_column="dr7objid", base_url=server.url, **FAST)
        again = fetch_cutouts(fetched, tmp_path, id_column="dr7objid", base_url=server.url, overwrite=True,
                              **FAST)
    assert fetched.colnames == [*targets.colnames, *ADDED_COLUMNS] and "filename" not in targets.colnames
    assert fetched["cutout_status"].tolist() == ["ok", "failed", "failed", "ok"]
    assert fetched["cutout_reason"][1].startswith("HTTP 404") and fetched["filename"].mask.tolist() == [
        False, True, True, False]
    assert fetched["cutout_status"].meta["ucd"] == "meta.code.status"
    assert again["cutout_status"].tolist() == ["cached", "ok", "failed", "cached"]
    manifest = read_manifest(tmp_path)
    assert manifest["path"].tolist() == [f"{i}.jpg" for i in targets["dr7objid"]]
    result = classify_table(fetched, image_dir=tmp_path, progress=False)
    assert result["status"].tolist() == ["ok", "no_image", "no_image", "ok"]
