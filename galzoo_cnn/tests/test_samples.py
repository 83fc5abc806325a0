# Licensed under a 3-clause BSD style license - see LICENSE
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.cosmology import WMAP9, Planck18
from astropy.table import Table

from galzoo_cnn.datasets import load_gz2_sample
from galzoo_cnn.samples import (
    absolute_magnitude,
    build_samples,
    local_group_velocity,
    query_sdss_targets,
    select_targets,
    sky_coordinates,
)


@pytest.fixture
def galaxies():
    """252 real GZ2 galaxies (Hart et al. 2016): positions of real SDSS targets."""
    return load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"]


def _offset(table, arcsec, seed=0):
    coords = SkyCoord(table["ra"] * u.deg, table["dec"] * u.deg)
    angle = np.random.default_rng(seed).uniform(0, 360, len(table)) * u.deg
    moved = coords.directional_offset_by(angle, arcsec * u.arcsec)
    out = table.copy()
    out["ra"], out["dec"] = moved.ra.deg, moved.dec.deg
    return out


def test_training_inference_and_deep_test(galaxies):
    gz2 = _offset(galaxies[:150], 0.4)
    decals = _offset(galaxies[200:231], 0.5, seed=1)
    samples = build_samples(galaxies, gz2, decals=decals)
    assert samples.meta["samples"] == {"targets": 252, "training": 150, "inference": 102, "deep_test": 31,
                                       "gz2_duplicates": 0, "radius_arcsec": 1.0}
    assert list(samples["gz2_index"][:150]) == list(range(150))
    assert (samples["gz2_index"][150:] == -1).all()
    assert np.allclose(samples["gz2_sep"][:150], 0.4, atol=1e-6) and samples["gz2_sep"].mask[150:].all()
    assert samples["deep_test"][200:231].all() and samples["deep_test"].sum() == 31
    assert np.allclose(samples["decals_sep"][200:231], 0.5, atol=1e-6)
    assert samples["gz2_sep"].unit == u.arcsec
    # beyond the radius nothing matches
    assert build_samples(galaxies, _offset(galaxies[:150], 1.5)).meta["samples"]["training"] == 0


def test_duplicates_resolved_nearest_first(galaxies):
    from galzoo_cnn.exceptions import DuplicateMatchWarning

    targets = galaxies[:10].copy()
    shredded = _offset(galaxies[3:4], 0.6)
    targets.add_row(shredded[0])
    gz2 = _offset(galaxies[:10], 0.2)
    with pytest.warns(DuplicateMatchWarning, match="1 target.* flagged gz2_duplicate"):
        samples = build_samples(targets, gz2)
    assert samples["sample"][3] == "training" and samples["sample"][10] == "inference"
    assert list(np.flatnonzero(samples["gz2_duplicate"])) == [10]
    assert samples.meta["samples"]["gz2_duplicates"] == 1


def test_coordinates_with_units_and_bad_coordinates(galaxies):
    in_radians = galaxies.copy()
    in_radians["ra"] = (in_radians["ra"] * u.deg).to(u.rad)
    in_radians["dec"] = (in_radians["dec"] * u.deg).to(u.rad)
    assert np.allclose(sky_coordinates(in_radians).ra.deg, galaxies["ra"])
    assert build_samples(in_radians, galaxies[:5]).meta["samples"]["training"] == 5
    bad = galaxies[:6].copy()
    bad["dec"][[2, 4]] = np.nan
    with pytest.raises(ValueError, match="2 row.s. without finite coordinates in 'ra' / 'dec': 2, 4"):
        build_samples(bad, galaxies)
    strings = Table({"ra": ["10:00:00", "150.25"], "dec": ["+01:00:00", "-2:30"]})  # hours / degrees
    assert np.allclose(sky_coordinates(strings).ra.deg, [150, 150.25])
    assert np.allclose(sky_coordinates(strings).dec.deg, [1, -2.5])
    strings["dec"][1] = "south"
    with pytest.raises(ValueError, match="column 'dec', row 1: 'south' is not an angle"):
        sky_coordinates(strings)
    with pytest.raises(ValueError, match="column 'ra' holds bool values; give decimal degrees or angles"):
        sky_coordinates(Table({"ra": [True], "dec": [1.0]}))
    metres = Table({"ra": [1.0] * u.m, "dec": [1.0] * u.deg})
    with pytest.raises(ValueError, match="column 'ra' has unit m, not an angle"):
        sky_coordinates(metres)
    with pytest.raises(KeyError, match="coordinate column 'RA' is not in the table"):
        sky_coordinates(galaxies, ra_column="RA")


def test_local_group_velocity_against_vectors(galaxies):
    coords = SkyCoord(galaxies["ra"] * u.deg, galaxies["dec"] * u.deg)
    apex = SkyCoord(l=93 * u.deg, b=-4 * u.deg, frame="galactic")
    z = np.linspace(0.01, 0.09, len(galaxies))
    expected = 299792.458 * z + 316 * np.sum(coords.galactic.cartesian.xyz.value.T
                                              * apex.cartesian.xyz.value, axis=1)
    assert np.allclose(local_group_velocity(coords, z).to_value(u.km / u.s), expected, atol=1e-6)
    anti = SkyCoord(l=273 * u.deg, b=4 * u.deg, frame="galactic")
    assert local_group_velocity(anti, 0.0).to_value(u.km / u.s) == pytest.approx(-316)


def test_absolute_magnitude_is_the_distance_modulus():
    z = np.array([0.005, 0.05, 0.1])
    assert np.allclose(absolute_magnitude(17.0, z), 17.0 - Planck18.distmod(z).value)
    assert np.allclose(absolute_magnitude(17.0, z, cosmology=WMAP9), 17.0 - WMAP9.distmod(z).value)


def test_select_targets_applies_every_cut(galaxies):
    n = len(galaxies)
    table = galaxies.copy()
    table["z"] = np.full(n, 0.05)
    table["petroMag_r"] = np.full(n, 16.0)
    table["extinction_r"] = np.full(n, 0.1)
    table["z"][:5] = 0.2               # outside 0.003 < z < 0.1
    table["petroMag_r"][5:10] = 18.5   # fainter than m_r = 17.7
    table["petroMag_r"][10:15] = 10.0  # M_r brighter than -24 at z = 0.05
    table["z"][15:20] = 0.0035         # V_LG well below 1500 km/s (bright enough for M_r)
    table["petroMag_r"][15:20] = 10.6
    table["petroR90_r"] = np.full(n, 5.0)
    selected = select_targets(table)
    assert len(selected) == n - 20
    removed = selected.meta["selection"]["removed"]
    assert list(removed.values()) == [5, 5, 5, 5]
    assert selected["abs_mag_r"].unit == u.mag and selected["v_lg"].unit == u.km / u.s
    assert selected["petroR90_r"].unit == u.arcsec
    assert np.allclose(selected["m_r"].value, 15.9)


def test_query_payload_is_offline():
    sql = query_sdss_targets(z_range=(0.01, 0.05), mag_r_max=17.0, get_query_payload=True)
    assert "s.z > 0.01 AND s.z < 0.05" in sql and "petroMag_r - g.extinction_r < 17.0" in sql
    assert "JOIN SpecObj" in sql and "TOP" not in sql


class _SkyServer:
    """SkyServer's SQL endpoint on 127.0.0.1 (astroquery's request, the CSV it parses), with faults:
    ``answers`` lists what the next requests get: ``rows``, ``500``, ``slow`` (after 3 s)."""

    def __init__(self, galaxies):
        import io
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        rows = galaxies.copy()
        rows.rename_column("dr7objid", "objid")
        rows["z"], rows["z_err"], rows["petroMag_r"], rows["extinction_r"] = 0.05, 1e-4, 16.0, 0.1
        rows["petroR90_r"], rows["modelMag_u"] = 5.0, 18.4
        rows["modelMag_r"], rows["extinction_u"] = 16.1, 0.2
        rows["z"][:7] = 0.2  # outside 0.003 < z < 0.1: select_targets removes them
        text = io.StringIO()
        rows.write(text, format="ascii.csv")
        body = ("#Table1\n" + text.getvalue()).encode()
        self.answers, self.requests = [], []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                answer = server.answers.pop(0) if server.answers else "rows"
                if answer == "500":
                    self.send_error(500)
                    return
                if answer == "slow":
                    time.sleep(3)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # "slow": the client gave up first
                    pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/"


def test_query_sdss_targets_from_a_local_skyserver_and_its_faults(galaxies, capsys, tmp_path, monkeypatch):
    """astroquery's request and parsing against a real HTTP server; a failing, silent or absent
    service is one line naming it (not requests' chain of retries around the SQL), as a ServiceError."""
    pytest.importorskip("astroquery")
    from astroquery.sdss import SDSS
    from astroquery.sdss import conf as sdss_conf

    # astroquery caches every SQL answer (query_sql's cache=True): each query here differs in its limit,
    # so each reaches the server, and the cache is this test's own
    monkeypatch.setattr(SDSS, "cache_location", tmp_path)

    from galzoo_cnn.cli import main
    from galzoo_cnn.exceptions import ServiceError

    server = _SkyServer(galaxies)
    try:
        with sdss_conf.set_temp("skyserver_baseurl", server.url):
            targets = query_sdss_targets(limit=300)
            assert len(targets) == len(galaxies) - 7 and targets["v_lg"].unit == u.km / u.s
            assert "TOP+300" in server.requests[-1] and "/dr9/" in server.requests[-1]
            server.answers = ["500"]
            with pytest.raises(ServiceError, match=r"^SDSS DR9 SkyServer answered HTTP 500 .*try again"):
                query_sdss_targets(limit=301)
            server.answers = ["slow"]
            with pytest.raises(ServiceError, match=r"^SDSS DR9 SkyServer did not answer within 1 s"):
                query_sdss_targets(limit=302, timeout=1)
            server.answers = ["500"]
            assert main(["query", "--output", str(tmp_path / "never.fits"), "--limit", "303"]) == 2
            err = capsys.readouterr().err
            assert err.startswith("galzoo-cnn query: error: SDSS DR9 SkyServer answered HTTP 500")
            assert len(err) < 200 and not (tmp_path / "never.fits").exists()
            assert len(server.requests) == 4
    finally:
        server.http.shutdown()
        server.http.server_close()
    with sdss_conf.set_temp("skyserver_baseurl", server.url):
        with pytest.raises(ServiceError, match=r"cannot be reached: .*Connection refused") as refused:
            query_sdss_targets(limit=304)
    assert "SELECT" not in str(refused.value)


@pytest.mark.remote_data
def test_query_sdss_targets_remote():
    targets = query_sdss_targets(limit=50)
    assert 0 < len(targets) <= 50
    assert (targets["v_lg"] > 1500 * u.km / u.s).all() and (targets["m_r"] < 17.7 * u.mag).all()


def test_query_gz2_from_a_file_and_payload(tmp_path):
    from galzoo_cnn.datasets import gz2_sample_path
    from galzoo_cnn.samples import query_gz2

    assert query_gz2(get_query_payload=True) == "SELECT * FROM zoo2MainSpecz"
    gz2 = query_gz2(source=gz2_sample_path(layout="hart2016"))
    assert len(gz2) == 252 and "t01_smooth_or_features_a01_smooth_debiased" in gz2.colnames


@pytest.mark.remote_data
def test_query_gz2_remote_has_the_taxonomy_columns():
    from galzoo_cnn.labels import feature_labels
    from galzoo_cnn.samples import query_gz2

    gz2 = query_gz2(limit=20)
    assert len(gz2) == 20
    labelled = feature_labels(gz2)  # every column the labels need is there
    assert "label_spiral" in labelled.colnames


def test_vizier_payloads_and_files(tmp_path):
    from galzoo_cnn.samples import query_gz2, query_gz_decals, query_vizier

    payload = query_gz_decals(limit=7, get_query_payload=True).splitlines()
    assert payload[:2] == ["-source=J/MNRAS/509/3966", "-out.max=7"]
    assert "-out.add=_RAJ2000,_DEJ2000" in payload  # VizieR's computed positions become ra / dec
    assert query_gz2(source="vizier", table="table2", get_query_payload=True).splitlines()[0] == \
        "-source=J/MNRAS/435/2835/table2"
    assert "-out.max=unlimited" in query_vizier("J/MNRAS/435/2835", get_query_payload=True)  # all rows
    # a local file is read as it is, e.g. for build_samples(decals=...)
    decals = Table({"iauname": ["J000000.00+000000.0"], "ra": [179.043], "dec": [60.5225]})
    decals.write(tmp_path / "decals.ecsv")
    assert query_gz_decals(source=tmp_path / "decals.ecsv")["iauname"][0] == "J000000.00+000000.0"


def _vizier_table(catalog):
    """The first table of a VizieR catalogue, choosing it from the error if there are several."""
    import re

    from galzoo_cnn.samples import query_vizier

    try:
        return query_vizier(catalog, limit=5)
    except ValueError as err:
        first = re.search(r"tables \(([^,)]+)", str(err)).group(1)
        return query_vizier(catalog, table=first, limit=5)


@pytest.mark.remote_data
@pytest.mark.parametrize("catalog", ["J/MNRAS/435/2835", "J/MNRAS/509/3966"])
def test_vizier_remote_gives_positions(catalog):
    table = _vizier_table(catalog)
    assert 0 < len(table) <= 5
    assert np.isfinite(table["ra"]).all() and ((table["dec"] >= -90) & (table["dec"] <= 90)).all()
    assert table.meta["vizier"].startswith(catalog)


def _vizier_answer(*tables):
    """A VOTable answer as VizieR gives it (a RESOURCE per table), parsed by astroquery's own parser."""
    import io

    from astropy.io.votable import from_table
    from astropy.io.votable.tree import Resource, VOTableFile
    from astroquery.vizier.core import _parse_vizier_votable

    vot = VOTableFile()
    for name, table in tables:
        resource = Resource(name=name)
        part = from_table(table).get_first_table()
        part.name = name
        resource.tables.append(part)
        vot.resources.append(resource)
    buffer = io.BytesIO()
    vot.to_xml(buffer)
    return _parse_vizier_votable(buffer.getvalue())


def test_vizier_answers_become_tables_with_ra_dec():
    from galzoo_cnn.samples import _vizier_result

    gz2 = load_gz2_sample(layout="hart2016")[:4]
    table = Table({"_RAJ2000": gz2["ra"], "_DEJ2000": gz2["dec"], "dr7objid": gz2["dr7objid"],
                   "ra": gz2["rastring"]})
    result = _vizier_result(_vizier_answer(("J/MNRAS/509/3966/gz5", table)), "J/MNRAS/509/3966",
                            "J/MNRAS/509/3966/gz5")
    assert result.colnames == ["ra", "dec", "dr7objid", "ra_catalog"]
    np.testing.assert_allclose(result["ra"], gz2["ra"])
    assert result["ra_catalog"].tolist() == gz2["rastring"].tolist()
    # the samples can be built from it directly
    assert build_samples(gz2["ra", "dec"], result).meta["samples"]["training"] == 4
    two = _vizier_answer(("J/MNRAS/509/3966/gz12", table), ("J/MNRAS/509/3966/gz5", table))
    with pytest.raises(ValueError, match=r"has 2 tables \(gz12, gz5\); choose one with table="):
        _vizier_result(two, "J/MNRAS/509/3966", "J/MNRAS/509/3966")
    with pytest.raises(RuntimeError, match="no computed position .*_RAJ2000"):
        _vizier_result(_vizier_answer(("x", Table({"a": [1]}))), "J/x", "J/x")
