# Licensed under a 3-clause BSD style license - see LICENSE
"""Catalogues that third-party tools accept: the whole registry, hostile tables, kills, the ReadMe."""

import base64
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits, votable
from astropy.io.votable.ucd import check_ucd
from astropy.table import MaskedColumn, Table

from galzoo_cnn import taxonomy
from galzoo_cnn.catalog import CatalogError, check_catalog, recover_catalog, write_catalog
from galzoo_cnn.columns import STATUSES, column_spec
from galzoo_cnn.datasets import load_gz2_sample
from galzoo_cnn.labels import feature_labels, five_class_labels

STILTS, FITSVERIFY = shutil.which("stilts"), shutil.which("fitsverify")


def _every_registry_name():
    names = [n for n in ("objid", "dr7objid", "dr8objid", "ra", "dec", "z", "z_err", "petroMag_r",
                         "modelMag_u", "modelMag_r", "extinction_u", "extinction_r", "petroR90_r", "m_r",
                         "abs_mag_r", "u_r", "v_lg", "sample", "rastring", "decstring",
                         "total_classifications", "total_votes", "gz2_index", "gz2_sep", "gz2_duplicate",
                         "deep_test", "decals_sep", "gz2_class", "gz2_five_class", "gz2_five_class_criteria",
                         "filename", "pixel_scale", "cutout_fov", "predicted_class", "status",
                         "adversarial_score", "adversarial_score_shifted")]
    names += [f"prob_{c}" for c in (*taxonomy.FIVE_CLASSES, "elliptical", "merger")]
    for feature in taxonomy.DETAILED_FEATURES:
        names += [f"prob_{feature}", f"prob_feature_{feature}", f"flag_{feature}", f"label_{feature}"]
    for answer in taxonomy.GZ2_ANSWERS:  # the same vote columns in both GZ2 layouts
        names += [answer.column(suffix) for suffix in taxonomy.COLUMN_SUFFIXES]
    return names


def test_the_whole_registry_is_valid_ucd1plus_and_units():
    names = _every_registry_name()
    assert len(names) > 350
    for name in names:
        spec = column_spec(name)
        assert spec is not None, name
        assert check_ucd(spec.ucd, check_controlled_vocabulary=True), (name, spec.ucd)
        if spec.unit:
            unit = u.Unit(spec.unit)
            for fmt in ("vounit", "cds", "fits"):
                assert u.Unit(unit.to_string(fmt), format=fmt) == unit, (name, fmt)
    # the model's class is the main morphology: the volunteers' classes are not
    ucds = {n: column_spec(n).ucd for n in ("predicted_class", "gz2_class", "gz2_five_class")}
    assert ucds == {"predicted_class": "src.morph.type;meta.main", "gz2_class": "src.morph.type",
                    "gz2_five_class": "src.morph.type"}
    assert column_spec("extinction_r").ucd.startswith("phys.absorption.gal")


def _hostile_table():
    """A real GZ2 table with every vote column, labels, masks, empty strings, NaN / inf, odd integers."""
    table = feature_labels(five_class_labels(load_gz2_sample(layout="hart2016")))
    assert any(v == "" for v in np.ma.filled(table["gz2_five_class_criteria"], ""))
    table["prob_spiral"] = MaskedColumn(np.linspace(0, 1, len(table)), mask=np.arange(len(table)) % 7 == 0)
    table["prob_spiral"][[1, 2, 3]] = [np.nan, np.inf, -np.inf]
    table["flag_bar"] = MaskedColumn(np.arange(len(table)) % 2 == 0, mask=np.arange(len(table)) % 5 == 0)
    table["gz2_index"] = (np.arange(len(table)) % 200 - 100).astype(np.int8)
    table["objid"] = np.asarray(table["dr7objid"], dtype=np.uint64)
    table["status"] = ["ok"] * (len(table) - 1) + ["missing"]
    table["ra"][0] = 359.99999999  # prints as 360.000000 at six decimals
    return table


def _validators(paths):
    """Third-party verdicts: (tool, output) for every complaint."""
    complaints = []
    report = io.StringIO()
    if votable.validate(str(paths["votable"]), output=report) is not True:
        complaints.append(("astropy votable", report.getvalue()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(paths["fits"], checksum=True) as hdul:
            hdul.verify("exception")
    if STILTS:
        out = subprocess.run([STILTS, "votlint", f"votable={paths['votable']}"], capture_output=True,
                             text=True, timeout=120)
        if out.stdout.strip() or out.stderr.strip() or out.returncode:
            complaints.append(("votlint", out.stdout + out.stderr))
    if FITSVERIFY:
        out = subprocess.run([FITSVERIFY, "-q", str(paths["fits"])], capture_output=True, text=True,
                             timeout=120)
        if "verification OK" not in out.stdout or out.returncode:
            complaints.append(("fitsverify", out.stdout + out.stderr))
    return complaints


def test_a_hostile_real_table_writes_in_every_format_and_validates(tmp_path):
    table = _hostile_table()
    paths = write_catalog(table, tmp_path / "gz2", authors="Doe J., Roe R.", title="GZ2 test catalogue")
    assert _validators(paths) == []
    fits_back = Table.read(paths["fits"], hdu=1)
    vot_back = Table.read(paths["votable"])
    for back in (fits_back, vot_back):
        assert back["prob_spiral"].mask[[0, 1, 2, 3]].all()  # masked, NaN, +inf, -inf: nulls
        assert not back["prob_spiral"].mask[4]
    assert vot_back["flag_bar"].mask.tolist() == (np.arange(len(table)) % 5 == 0).tolist()
    assert fits_back["gz2_index"].tolist() == table["gz2_index"].tolist()
    cds = Table.read(paths["cds"] / "gz2.dat", format="ascii.cds", readme=str(paths["cds"] / "ReadMe"))
    assert cds["RAdeg"][0] == 0.0  # RA wraps to 0 rather than printing 360.000000
    assert cds["gz2_five_cl"].mask.any() if "gz2_five_cl" in cds.colnames else True


def test_five_classes_and_features_of_real_galaxies_write_valid_catalogues(tmp_path):
    """One classify_table call with the bundled five-class and features models on the demo's real SDSS
    galaxies: every format validates, both families of columns keep their own descriptions."""
    from galzoo_cnn import classify_table
    from galzoo_cnn.datasets import load_demo_sample

    sample, image_dir = load_demo_sample()
    result = classify_table(sample["dr7objid", "ra", "dec", "filename"], features_model="sample-gz2-features",
                            image_dir=image_dir, progress=False)
    result.remove_column("filename")
    paths = write_catalog(result, tmp_path / "both", authors="Doe J.", title="Classes and features")
    assert _validators(paths) == []
    fields = {f.name: f for f in votable.parse_single_table(paths["votable"]).fields}
    class_column, feature_column = fields["prob_completely_round"], fields["prob_feature_completely_round"]
    assert class_column.ucd == feature_column.ucd == "stat.probability"
    assert class_column.description != feature_column.description
    readme = (paths["cds"] / "ReadMe").read_text()
    assert "How rounded is it?" in readme and "flag_ring" in result.colnames


@pytest.mark.skipif(STILTS is None or FITSVERIFY is None,
                    reason="needs STILTS votlint and fitsverify (Debian packages stilts, fitsverify)")
def test_third_party_validators_are_run():
    """The hostile-table test above only means something where the tools exist."""
    assert subprocess.run([STILTS, "-version"], capture_output=True, timeout=120).returncode == 0


def test_check_catalog_refuses_up_front_naming_the_column(tmp_path):
    base = Table({"ra": [1.0, 2.0], "dec": [3.0, 4.0]})
    cases = [
        ({"gz2_class": ["Ei", "Sé"]}, r"column 'gz2_class' \(row 1\) holds non-ASCII text 'Sé'"),
        ({"x" * 80: [1, 2]}, r"column name 'x{80}' has 80 characters; FITS holds at most 68"),
        ({"objid": np.array([1, 2**63 + 5], dtype=np.uint64)}, "column 'objid' holds unsigned 64-bit"),
        ({"prob_spiral": [[0.1, 0.2], [0.3, 0.4]]}, "column 'prob_spiral' is multidimensional"),
    ]
    for columns, message in cases:
        table = base.copy()
        for name, values in columns.items():
            table[name] = values
        with pytest.raises(CatalogError, match=message):
            check_catalog(table, descriptions={"x" * 80: "long"})
        with pytest.raises(CatalogError, match=message):
            write_catalog(table, tmp_path / "x", descriptions={"x" * 80: "long"})
    with pytest.raises(CatalogError, match="catalogue authors .* non-ASCII"):
        write_catalog(base, tmp_path / "x", authors="Müller J.")
    assert list(tmp_path.iterdir()) == []


def _digest(paths):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


_WRITER = textwrap.dedent("""
    import sys
    from galzoo_cnn.catalog import write_catalog
    from galzoo_cnn.datasets import load_gz2_sample
    from galzoo_cnn.labels import five_class_labels
    table = five_class_labels(load_gz2_sample(layout="hart2016"))
    write_catalog(table[:int(sys.argv[2])], sys.argv[1], overwrite=True)
    print("done", flush=True)
""")


def test_killing_the_writer_never_leaves_a_mixed_set(tmp_path):
    """SIGKILL at random points: after recovery the set is wholly the old one or wholly the new."""
    base = tmp_path / "cat"
    files = [tmp_path / "cat.fits", tmp_path / "cat.vot", tmp_path / "cat_cds" / "ReadMe",
             tmp_path / "cat_cds" / "cat.dat"]
    subprocess.run([sys.executable, "-c", _WRITER, str(base), "20"], check=True, timeout=300)
    old = _digest(files)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _WRITER, str(base), "200"], check=True, timeout=300)
    full = time.perf_counter() - start
    new = _digest(files)  # the DATE of the new files differs from run to run: compare row counts too
    subprocess.run([sys.executable, "-c", _WRITER, str(base), "20"], check=True, timeout=300)
    rng = random.Random(7)
    outcomes = set()
    for attempt in range(4):
        old = _digest(files)
        process = subprocess.Popen([sys.executable, "-c", _WRITER, str(base), "200"],
                                   stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.0) * full)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        state = recover_catalog(base)
        now = _digest(files)
        rows = {len(Table.read(files[0], hdu=1)), len(Table.read(files[1])),
                len(files[3].read_text().splitlines())}
        assert len(rows) == 1, f"attempt {attempt}: mixed set after a kill ({state}): {rows} rows"
        if now == old:
            outcomes.add("old")
        else:
            assert rows == {200}, f"attempt {attempt}: changed files but not the new set"
            outcomes.add("new")
            subprocess.run([sys.executable, "-c", _WRITER, str(base), "20"], check=True, timeout=300)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "cat.vot", "cat_cds"]
        assert sorted(p.name for p in (tmp_path / "cat_cds").iterdir()) == ["ReadMe", "cat.dat"]
    assert new != old and outcomes  # the kills fell at different points of the write


def test_a_failure_in_a_later_format_keeps_the_earlier_set(tmp_path):
    table = five_class_labels(load_gz2_sample(layout="hart2016"))[:10]
    write_catalog(table, tmp_path / "cat")
    files = [tmp_path / "cat.fits", tmp_path / "cat.vot", tmp_path / "cat_cds" / "ReadMe"]
    before = _digest(files)
    shutil.rmtree(tmp_path / "cat_cds")
    (tmp_path / "cat_cds").write_text("a file where the CDS directory goes")
    with pytest.raises(OSError):
        write_catalog(table[:5], tmp_path / "cat", overwrite=True)
    assert _digest(files[:2]) == {k: v for k, v in before.items() if "cat_cds" not in k}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_the_readme_is_submittable(tmp_path):
    table = five_class_labels(load_gz2_sample(layout="hart2016"))[:30]
    table["predicted_class"] = table["gz2_five_class"]
    table["status"] = "ok"
    paths = write_catalog(
        table, tmp_path / "morph", title="Morphology of SDSS galaxies with CNNs",
        authors="Khramtsov V., Vavilova I.B., Dobrycheva D.V.", abstract="CNN classes of GZ2 galaxies.",
        readme={"bibcode": "2022arXiv220912194K", "catalogue": "J/other/KNT/28.27", "date": "2022",
                "keywords": "galaxies: general; methods: data analysis",
                "acknowledgements": "We thank the Galaxy Zoo volunteers."})
    readme = (paths["cds"] / "ReadMe").read_text()
    lines = readme.splitlines()
    assert max(map(len, lines)) <= 80
    assert re.fullmatch(r"J/other/KNT/28\.27  Morphology of SDSS galaxies with CNNs +\(Khramtsov\+, 2022\)",
                        lines[0]) and len(lines[0]) == 80
    for placeholder in ("?", "Authors ?", "First author ?", "Publication date", "=References ?",
                        "galzoo_cnn users"):
        assert placeholder not in readme.split("Byte-by-byte")[0], placeholder
    assert "    =2022arXiv220912194K" in readme and "Acknowledgements:\n  We thank" in readme
    assert re.search(r"\bRAdeg\b", readme) and re.search(r"\bDEdeg\b", readme)
    notes = readme.split("Byte-by-byte")[1]
    for value in (*taxonomy.FIVE_CLASSES, *STATUSES):  # the coded columns' values explained in Notes
        assert f"{value}:" in notes.replace("\n    ", " "), value
    references = readme.split("References:\n")[1].split("=" * 80)[0]
    assert "2022arXiv220912194K" in references and "Objects:" not in readme
    assert lines[-1].startswith("(End)") and "Khramtsov V." in lines[-1]
    assert re.search(r"\[0/1\]|\[\d+(\.\d+)?/\d+(\.\d+)?\]", readme)  # ranges


def write_example_readme(directory):
    """The documentation's example ReadMe: real GZ2 rows (Hart et al. 2016) with votes and labels."""
    table = five_class_labels(load_gz2_sample(layout="hart2016"))[:12]
    columns = ["dr7objid", "ra", "dec", "gz2_class", "total_votes",
               "t01_smooth_or_features_a01_smooth_debiased", "t04_spiral_a08_spiral_debiased",
               "gz2_five_class"]
    paths = write_catalog(
        table[columns], directory / "gz2_sample", formats=["cds"], overwrite=True,
        title="Five GZ2 classes of twelve SDSS galaxies", authors="Surname A., Other B.",
        abstract="Debiased Galaxy Zoo 2 vote fractions and the five classes of Khramtsov et al. "
                 "(2022) for twelve SDSS galaxies: an example of a galzoo_cnn catalogue.",
        readme={"date": "2027", "bibcode": "2027MNRAS.000....0S", "catalogue": "J/MNRAS/000/0",
                "acknowledgements": "Galaxy Zoo 2 was made possible by its volunteers.",
                "written": "2027-01-01T00:00:00"})
    return paths["cds"] / "ReadMe"


def test_the_documentation_example_readme_is_current(tmp_path):
    from pathlib import Path

    shown = Path(__file__).parents[2] / "docs" / "_static" / "example_ReadMe.txt"
    if not shown.exists():
        pytest.skip("the documentation sources are not beside the installed package")
    written = write_example_readme(tmp_path).read_text()
    creator = [line for line in written.splitlines() if line.startswith("(End)")]
    expected = shown.read_text()
    # the closing line names the package version that wrote it
    assert written.splitlines()[:-1] == expected.splitlines()[:-1]
    assert creator and max(map(len, written.splitlines())) <= 80


def test_a_real_cutout_manifest_is_a_valid_catalogue(tmp_path):
    """fetch_cutouts' manifest (from the local test server, one row failing) in every format."""
    from galzoo_cnn.tests.cutout_server import CutoutServer, fetch_manifest

    targets = load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"][:4]
    with CutoutServer() as server:
        server.plan[repr(float(targets["ra"][2]))] = ["404"]
        manifest = fetch_manifest(targets, tmp_path / "img", id_column="dr7objid", base_url=server.url,
                                 retries=2, backoff=0.01, progress=False)
    assert list(manifest["status"]) == ["ok", "ok", "failed", "ok"]
    paths = write_catalog(manifest, tmp_path / "manifest")
    assert _validators(paths) == []
    readme = (paths["cds"] / "ReadMe").read_text()
    assert "cached (already there)" in readme and "Cutout download status" in readme


#: Writes the 200-row set over the 20-row one in a forked child that dies (os._exit, like SIGKILL: no
#: clean-up of any kind runs) at file-system step N of the write: each rename, unlink or rmdir,
#: including those of shutil.rmtree.  The parent then recovers (or writes again) and reports which
#: set is in place.  One process imports once; each step costs a fork.
_STEP_KILLER = textwrap.dedent("""
    import hashlib, json, os, sys
    from pathlib import Path
    from galzoo_cnn.catalog import recover_catalog, write_catalog
    from galzoo_cnn.datasets import load_gz2_sample
    from galzoo_cnn.labels import five_class_labels

    base, then = Path(sys.argv[1]), sys.argv[2]
    table = five_class_labels(load_gz2_sample(layout="hart2016"))
    cds = base.parent / f"{base.name}_cds"
    files = [base.parent / f"{base.name}.fits", base.parent / f"{base.name}.vot", cds / "ReadMe",
             cds / f"{base.name}.dat"]

    def digest():
        return [hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else None for f in files]

    def rows():
        from astropy.table import Table
        return [len(Table.read(files[0], hdu=1)), len(Table.read(files[1])),
                len(files[3].read_text().splitlines())]

    def killing_at(step):
        count = [0]
        def wrap(function):
            def counted(*args, **kwargs):
                if count[0] == step:
                    os._exit(9)
                count[0] += 1
                return function(*args, **kwargs)
            return counted
        for name in ("replace", "rename", "unlink", "remove", "rmdir"):
            setattr(os, name, wrap(getattr(os, name)))

    write_catalog(table[:20], base, overwrite=True)
    old = digest()
    outcomes = []
    for step in range(500):
        pid = os.fork()
        if pid == 0:
            killing_at(step)
            write_catalog(table[:40], base, overwrite=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        finished = os.waitstatus_to_exitcode(status) == 0
        if not finished:
            if then == "recover":
                recover_catalog(base)
            else:
                write_catalog(table[:20], base, overwrite=True)  # the old set again, written afresh
        now = digest()
        leftovers = sorted(p.name for p in base.parent.iterdir() if p.name.startswith("."))
        outcomes.append({"step": step, "finished": finished, "old": now == old, "rows": rows(),
                         "per_file_old": [a == b for a, b in zip(now, old)], "leftovers": leftovers})
        if finished:
            break
        write_catalog(table[:20], base, overwrite=True)
        old = digest()
    print(json.dumps(outcomes))
""")


def _tmpfs_dir():
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@pytest.mark.parametrize("then", ["recover", "write"])
@pytest.mark.parametrize("filesystem", ["disk", "tmpfs"])
def test_a_kill_at_every_step_of_a_commit_leaves_one_whole_set(tmp_path, filesystem, then):
    if filesystem == "tmpfs":
        if _tmpfs_dir() is None:
            pytest.skip("no writable /dev/shm (tmpfs) on this machine")
        root = Path(tempfile.mkdtemp(dir=_tmpfs_dir()))
    else:
        root = tmp_path
    try:
        out = subprocess.run([sys.executable, "-c", _STEP_KILLER, str(root / "cat"), then], check=True,
                             timeout=900, capture_output=True, text=True).stdout
    finally:
        if filesystem == "tmpfs":
            shutil.rmtree(root)
    outcomes = json.loads(out.splitlines()[-1])
    assert outcomes[-1]["finished"] and len(outcomes) > 10  # every step of the write was a kill point
    for outcome in outcomes[:-1]:
        assert outcome["leftovers"] == [], outcome  # no staging, backup or lock left behind
        if then == "write":  # the fresh write of the 20-row set lands whole, whatever the kill left
            assert outcome["rows"] == [20, 20, 20], outcome
            continue
        files_old = outcome["per_file_old"]
        # after recovery: all four files old (rolled back) or none old (completed), never a mix
        assert all(files_old) or not any(files_old), outcome
        assert outcome["rows"] == ([20] * 3 if all(files_old) else [40] * 3), outcome
    if then == "recover":
        kinds = {o["old"] for o in outcomes[:-1]}
        assert kinds == {True, False}  # early kills roll back, kills after the commit complete it


_RACER = textwrap.dedent("""
    import sys, time
    from galzoo_cnn.catalog import CatalogError, write_catalog
    from galzoo_cnn.datasets import load_gz2_sample
    from galzoo_cnn.labels import five_class_labels
    table = five_class_labels(load_gz2_sample(layout="hart2016"))[:int(sys.argv[2])]
    start = float(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))
    try:
        write_catalog(table, sys.argv[1], overwrite=True)
    except CatalogError as err:
        print("refused:", err)
    else:
        print("written")
""")


def test_concurrent_writers_end_with_one_set_and_clear_errors(tmp_path):
    base = tmp_path / "cat"
    refusals = 0
    for round_ in range(10):
        start = time.time() + 4  # the four processes import first, then start together
        processes = [subprocess.Popen([sys.executable, "-c", _RACER, str(base), str(20 + 10 * k), str(start)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for k in range(4)]
        results = [((out.strip().splitlines()[-1:] or [""])[0], err) for out, err in
                   (p.communicate(timeout=300) for p in processes)]
        for (out, err), process in zip(results, processes):
            assert process.returncode == 0, err  # no crash, no traceback
            assert out.startswith("written") or "is being written by another process" in out, out
        written = [k for k, (out, _) in enumerate(results) if out.startswith("written")]
        refusals += len(results) - len(written)
        assert written, f"round {round_}: every writer refused"
        rows = {len(Table.read(f"{base}.fits", hdu=1)), len(Table.read(f"{base}.vot")),
                len((tmp_path / "cat_cds" / "cat.dat").read_text().splitlines())}
        assert len(rows) == 1 and rows.pop() in {20 + 10 * k for k in written}, f"round {round_}: mixed set"
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert refusals  # the writers did overlap: the lock, not luck, kept the sets whole


def test_a_planted_journal_is_refused_and_touches_nothing(tmp_path):
    table = five_class_labels(load_gz2_sample(layout="hart2016"))[:10]
    out = tmp_path / "out"
    write_catalog(table, out / "cat")
    outside = tmp_path / "precious.txt"
    outside.write_text("a file outside the output directory")
    backup = out / ".cat.galzoo-old"
    backup.mkdir()
    journals = [
        [{"target": str(outside), "backup": None}],  # the first version's layout, pointing outside
        {"format": "galzoo_cnn file-set journal 2", "set": "cat",
         "entries": [{"target": "../precious.txt", "backup": None}]},
        {"format": "galzoo_cnn file-set journal 2", "set": "cat",
         "entries": [{"target": str(outside), "backup": None}]},
        {"format": "galzoo_cnn file-set journal 2", "set": "cat",
         "entries": [{"target": "cat.fits", "backup": "../../precious.txt"}]},
        {"format": "galzoo_cnn file-set journal 2", "set": "other",
         "entries": [{"target": "cat.fits", "backup": None}]},
    ]
    before = _digest([out / "cat.fits", out / "cat.vot"])
    for journal in journals:
        (backup / "JOURNAL.json").write_text(json.dumps(journal))
        with pytest.raises(CatalogError, match="was not written by galzoo_cnn for .*nothing was changed"):
            recover_catalog(out / "cat")
        with pytest.raises(CatalogError, match="was not written by galzoo_cnn"):
            write_catalog(table, out / "cat", overwrite=True)
        assert outside.read_text() == "a file outside the output directory"
        assert _digest([out / "cat.fits", out / "cat.vot"]) == before
    (backup / "JOURNAL.json").unlink()
    backup.rmdir()
    backup.symlink_to(tmp_path, target_is_directory=True)  # a link where the backup directory goes
    with pytest.raises(CatalogError, match="not a directory galzoo_cnn made"):
        recover_catalog(out / "cat")
    assert outside.exists() and (out / "cat.fits").exists()


def _awkward_tables():
    """Issue 20's awkward tables: name -> (table, descriptions), each to be refused or written valid."""
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    def base():
        return Table({"ra": [10.0, 20.0, 30.0], "dec": [-5.0, 0.0, 5.0]})

    cases = {}
    values = {
        "float32 1e-5..0.99999": np.array([1e-5, 0.5, 0.99999], np.float32),
        "float32 3.4e38": np.array([3.4e38, -3.4e38, 1.0], np.float32),
        "wide-range float64": np.array([1.5e-300, 2.0, 3.7e300]),
        "float64 redshifts below 0.1": np.array([0.05, 0.0523417, 0.0712345]),
        "tiny probabilities": np.array([3e-6, 1e-9, 0.25], np.float32),
        "strings with blanks around": np.array([" padded ", "x", "y "]),
        "a tab inside a string": np.array(["a\tb", "x", "y"]),
        "a newline inside a string": np.array(["a\nb", "x", "y"]),
        "a bar inside a string": np.array(["a|b", "x", "y"]),
        "utf-8 bytes": np.array([b"caf\xc3\xa9", b"x", b"y"]),
        "masked int holding 999999": MaskedColumn([999999, 1, 2], mask=[False, True, False]),
        "int64 extremes": np.array([-2**63, 0, 2**63 - 1]),
    }
    for case, column in values.items():
        table = base()
        table["value"] = column
        cases[case] = (table, {"value": f"an awkward {case}"})
    for name in ("2mass_j", "a&b", "ratio/ratio", "flux-r", "x.y", "z" * 46):
        table = base()
        table[name] = [1.0, 2.0, 3.0]
        cases[f"name {name[:12]}"] = (table, {name: "an awkward name"})
    table = base()
    table["Flux"], table["flux"] = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    cases["Flux beside flux"] = (table, {"Flux": "one", "flux": "two"})
    table = base()
    table["RAdeg"] = [1.0, 2.0, 3.0]
    cases["ra beside RAdeg"] = (table, {"RAdeg": "another RA"})
    table = base()
    table["when"] = Time(["2020-01-01", "2021-01-01", "2022-01-01"])
    cases["a Time column"] = (table, {"when": "time of observation"})
    table = base()
    table["other"] = SkyCoord([1, 2, 3] * u.deg, [4, 5, 6] * u.deg)
    cases["a SkyCoord beside ra/dec"] = (table, {"other": "a second position"})
    return cases


@pytest.mark.parametrize("case", list(_awkward_tables()))
def test_every_awkward_table_is_refused_up_front_or_written_valid(tmp_path, case):
    table, descriptions = _awkward_tables()[case]
    try:
        prepared = check_catalog(table, descriptions=descriptions)
    except CatalogError as err:
        assert "column" in str(err)  # named
        with pytest.raises(CatalogError):
            write_catalog(table, tmp_path / "cat", descriptions=descriptions)
        assert not list(tmp_path.iterdir())  # refused before any file existed
        return
    paths = write_catalog(table, tmp_path / "cat", descriptions=descriptions)
    assert _validators(paths) == []
    fits_back = Table.read(paths["fits"], hdu=1)
    cds_back = Table.read(paths["cds"] / "cat.dat", format="ascii.cds", readme=str(paths["cds"] / "ReadMe"))
    assert len(cds_back.colnames) == len(fits_back.colnames) == len(prepared.colnames)
    for fits_column, cds_column in zip(fits_back.colnames, cds_back.colnames):
        a, b = fits_back[fits_column], cds_back[cds_column]
        assert np.ma.getmaskarray(a).tolist() == np.ma.getmaskarray(b).tolist(), (case, fits_column)
        shown = ~np.ma.getmaskarray(a)
        if a.dtype.kind == "f" and a.dtype.itemsize == 4:  # float32: the very same numbers
            assert np.array_equal(np.asarray(b)[shown].astype(np.float32), np.asarray(a)[shown]), fits_column
        elif a.dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(b)[shown], np.asarray(a)[shown], rtol=1e-14)
        else:
            assert np.asarray(b)[shown].astype(str).tolist() == np.asarray(a)[shown].astype(str).tolist()


def test_votable_read_back_runs_block_by_block_agrees_with_astropy_and_catches_damage(tmp_path):
    """The VOTable check reads the stream `_ROWS` rows at a time (bounded memory): on a real table of
    3 000 rows its blocks decode to what astropy reads from the whole file, and a value changed past
    astropy's sample rows, a lost row or half a row are each reported."""
    from astropy.table import vstack

    from galzoo_cnn.io import get_format
    from galzoo_cnn.io.votable import _binary2_record, _decoded, _stream_blocks, _stream_bounds

    table = check_catalog(vstack([_hostile_table()] * 31)[:3000])
    path = write_catalog(table, tmp_path / "big", formats=["votable"])["votable"]
    head, tail, stream = _stream_bounds(path)
    fields = votable.parse_single_table(str(path)).fields
    record = _binary2_record(fields)
    blocks = list(_stream_blocks(path, stream, record, rows=700))  # block edges fall inside base64 lines
    assert max(len(b) for b in blocks) <= 700 and len(blocks) >= 5 and sum(len(b) for b in blocks) == 3000
    whole = vstack([_decoded(b, fields, table.colnames) for b in blocks])
    astropy_back = Table.read(path)
    for name in table.colnames:
        ours, theirs = whole[name], astropy_back[name]
        their_nulls = np.ma.getmaskarray(theirs)
        if theirs.dtype.kind in "US":  # astropy reads a null string as an empty one (astropy issue 8995)
            their_nulls = their_nulls | (np.ma.filled(theirs, "") == "")
        assert (np.ma.getmaskarray(ours) == their_nulls).all(), name
        keep = ~np.ma.getmaskarray(ours)
        assert np.asarray(ours)[keep].tolist() == np.asarray(theirs)[keep].tolist(), name

    rows = np.frombuffer(b"".join(b.tobytes() for b in blocks), dtype=record).copy()  # big-endian kept
    writer = get_format("votable")

    def damaged(new_rows, name):
        broken = tmp_path / name
        broken.write_bytes(head + base64.encodebytes(new_rows.tobytes()) + tail)
        with pytest.raises(CatalogError) as caught:
            writer.verify(table, [broken])
        return str(caught.value)

    changed = rows.copy()
    k = table.colnames.index("prob_spiral")
    changed[f"f{k}"][2500] = changed[f"f{k}"][2500] + np.float64(0.25)  # a row astropy's sample never sees
    assert "column 'prob_spiral' does not read back" in damaged(changed, "changed.vot")
    assert "holds 2999 rows, not 3000" in damaged(rows[:-1], "short.vot")
    half = tmp_path / "half.vot"
    half.write_bytes(head + base64.encodebytes(rows.tobytes()[:-3]) + tail)
    with pytest.raises(CatalogError, match="ends inside a row"):
        writer.verify(table, [half])


def test_fits_written_block_by_block_validates_and_reads_back_whole(tmp_path):
    """The FITS rows are encoded a block at a time (bounded memory): a real table longer than a block
    (20 000 rows, masks, NaN, booleans, TNULLs, strings) passes fitsverify and astropy's checksum, and reads
    back equal row for row, across the block edges."""
    from astropy.table import vstack

    from galzoo_cnn.io.fits import _ROWS

    table = check_catalog(vstack([_hostile_table()] * 200)[:20_000])
    assert len(table) > 2 * _ROWS
    path = write_catalog(table, tmp_path / "long", formats=["fits"])["fits"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            hdul.verify("exception")
            assert hdul[1].header["NAXIS2"] == 20_000 and "DATASUM" in hdul[1].header
    if FITSVERIFY:
        out = subprocess.run([FITSVERIFY, "-q", str(path)], capture_output=True, text=True, timeout=120)
        assert "verification OK" in out.stdout, out.stdout + out.stderr
    back = Table.read(path, hdu=1)
    for name in ("prob_spiral", "gz2_index", "objid", "status", "ra"):
        assert (np.ma.getmaskarray(back[name]) == np.ma.getmaskarray(table[name])).all(), name
        keep = ~np.ma.getmaskarray(table[name])
        theirs, ours = np.asarray(back[name])[keep], np.asarray(table[name])[keep]
        if ours.dtype.kind == "U":  # FITS strings come back as bytes
            theirs = np.char.decode(theirs, "ascii")
        assert theirs.tolist() == ours.tolist(), name
    assert (np.asarray(back["flag_bar"])[~table["flag_bar"].mask] == 1).tolist() == \
        np.asarray(table["flag_bar"])[~table["flag_bar"].mask].tolist()
