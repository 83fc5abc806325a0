# Licensed under a 3-clause BSD style license - see LICENSE
"""Fuzzing every input a user hands over: image bytes of every Pillow format, model cards, training
configurations, vote tables and catalogue tables.

The property is the same everywhere: the package either does its job or raises one of its own
errors (`~galzoo_cnn.exceptions.GalzooError`, naming the problem), never another exception, and an
image file never starts a program.
"""

import io
import json
import math
import shutil

import numpy as np
import pytest
import yaml
from astropy.table import Table
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from galzoo_cnn.catalog import check_catalog, write_catalog
from galzoo_cnn.datasets import load_gz2_sample
from galzoo_cnn.exceptions import GalzooError
from galzoo_cnn.images import IMAGE_PROBLEMS, READ_FORMATS, ImageError, read_image
from galzoo_cnn.labels import feature_labels, five_class_labels
from galzoo_cnn.models import load_model
from galzoo_cnn.taxonomy import GZ2_ANSWERS
from galzoo_cnn.tests.hostile import install_ghostscript_recorder
from galzoo_cnn.training import TrainConfig
from galzoo_cnn.utils._cards import card_path

Image.init()
#: Every format this Pillow writes (so a real file of it can be made), JPEG and PNG among them.
WRITABLE = sorted(set(Image.SAVE) - {"PDF", "WMF", "HDF5", "GRIB", "BUFR", "AVIF", "PALM", "SPIDER", "MPO",
                                     "IM"})  # IM: deprecated by Pillow
MODES = ["RGB", "L", "RGBA", "P", "1", "I;16", "I", "F", "CMYK", "LA"]
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats()
                        | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
def fuzz(examples):
    """Hypothesis settings of these tests: ``examples`` cases, no per-case deadline."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def image_files(draw):
    """``(format, bytes)``: a real file of a Pillow format, perhaps truncated or with bytes flipped."""
    kind, mode = draw(st.sampled_from(WRITABLE)), draw(st.sampled_from(MODES))
    side = draw(st.integers(1, 64))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    try:
        image = image.convert(mode)
        buffer = io.BytesIO()
        image.save(buffer, kind)
    except (OSError, ValueError, KeyError, TypeError):
        assume(False)  # a mode this format cannot hold
    data = bytearray(buffer.getvalue())
    damage = draw(st.sampled_from(["none", "truncate", "flip"]))
    if damage == "truncate" and len(data) > 1:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip" and data:
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            data[position] ^= draw(st.integers(1, 255))
    return kind, bytes(data)


@pytest.fixture
def no_ghostscript(tmp_path, monkeypatch):
    """A ``gs`` first on PATH that records any call (none may happen)."""
    return install_ghostscript_recorder(tmp_path, monkeypatch)


@fuzz(300)
@given(image_files())
def test_any_file_of_any_format_is_an_image_or_a_reason(tmp_path, no_ghostscript, file):
    kind, data = file
    path = tmp_path / "galaxy.jpg"  # every file named like a JPEG, whatever it holds
    path.write_bytes(data)
    try:
        image = read_image(path)
    except ImageError as err:
        assert err.reason in IMAGE_PROBLEMS
    else:
        assert kind in READ_FORMATS and image.shape == (100, 100, 3) and image.dtype == np.uint8
    assert not no_ghostscript.exists()


#: Places of a model card that code reads, as paths of keys.
CARD_PLACES = [("objective",), ("backbone",), ("classes",), ("weights",), ("weights_sha256",), ("input",),
               ("input", "size"), ("input", "crop"), ("input", "frame_r90"), ("calibration",),
               ("calibration", "temperature"), ("thresholds",), ("name",)]


@pytest.fixture(scope="module")
def card_dir(tmp_path_factory):
    """A copy of the bundled sample-gz1 model (weights beside the card)."""
    directory = tmp_path_factory.mktemp("cards")
    card = card_path("sample-gz1")
    shutil.copy(card.with_suffix(".safetensors"), directory / "fuzz.safetensors")
    return directory, json.loads(card.read_text())


@fuzz(120)
@given(st.sampled_from(CARD_PLACES), ANY_JSON)
def test_any_model_card_loads_or_is_refused_naming_the_card(card_dir, place, value):
    directory, original = card_dir
    card = json.loads(json.dumps(original))
    card["weights"] = "fuzz.safetensors"
    holder = card
    for key in place[:-1]:
        if not isinstance(holder.get(key), dict):
            holder[key] = {}
        holder = holder[key]
    holder[place[-1]] = value
    path = directory / "fuzz.json"
    path.write_text(json.dumps(card))
    try:
        model = load_model(path)
    except GalzooError as err:
        assert "fuzz" in str(err)  # the message names the card or its weights
    else:
        assert len(model.classes) >= 1


#: Keys of a training configuration, each with values of the kind it takes and of every other kind.
CONFIG_KEYS = ["epochs", "lr", "batch_size", "num_workers", "crop", "k", "m", "frame_fraction", "class_map",
               "classes", "pixel_scale", "test_fraction", "val_fraction", "devices", "accelerator", "seed",
               "objective", "class_weights", "scheduler", "decode_size", "frame_r90", "patience", "factor"]


@fuzz(200)
@given(st.dictionaries(st.sampled_from(CONFIG_KEYS), ANY_JSON, min_size=1, max_size=4))
def test_any_training_configuration_resolves_or_is_refused(tmp_path, values):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"table": "labels.csv", "output": "run", **values}))
    try:
        config = TrainConfig.from_file(path).resolved()
    except GalzooError:
        return
    for key, value in values.items():
        if key not in ("objective",):
            assert getattr(config, key) == value or value is None


@pytest.fixture(scope="module")
def hart():
    return load_gz2_sample(layout="hart2016")[:30]


VOTE_VALUES = st.one_of(st.floats(), st.integers(-10, 10**6), st.sampled_from(["n/a", "", "0.5", "--"]))


@fuzz(150)
@given(st.lists(st.tuples(st.sampled_from([a.column(s) for a in GZ2_ANSWERS for s in ("debiased", "count")]),
                          st.integers(0, 29), VOTE_VALUES), min_size=1, max_size=4),
       st.sampled_from([five_class_labels, feature_labels]))
def test_any_vote_table_is_labelled_or_refused_naming_column_and_row(hart, edits, labels):
    table = hart.copy()
    for column, row, value in edits:
        if isinstance(value, str) or table[column].dtype.kind in "OUS":
            table[column] = np.array([str(v) for v in table[column]], dtype=object)
        else:
            table[column] = table[column].astype(float)
        table[column][row] = value
    try:
        labels(table)
    except GalzooError as err:
        assert "column" in str(err) or "row" in str(err), err
        return
    for column, row, _ in edits:  # accepted: every edited cell holds a usable vote value
        value = table[column][row]
        number = float(value) if not isinstance(value, str) else float(value or "nan")
        assert math.isnan(number) or (number >= 0 and (column.endswith("_count") or number <= 1))


COLUMN_NAMES = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True),
                         st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                                 max_size=12))
COLUMNS = st.one_of(  # one kind of value a column, as tables hold them
    st.lists(st.integers(-2**63, 2**63 - 1), min_size=3, max_size=3).map(np.array),
    st.lists(st.floats(width=64), min_size=3, max_size=3).map(np.array),
    st.lists(st.floats(width=32), min_size=3, max_size=3).map(lambda v: np.array(v, dtype=np.float32)),
    st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10) | st.text(max_size=10),
             min_size=3, max_size=3).map(lambda v: np.array(v, dtype=str)),
    st.lists(st.booleans(), min_size=3, max_size=3).map(np.array))


@fuzz(80)
@given(st.dictionaries(COLUMN_NAMES, COLUMNS, min_size=1, max_size=3))
# found by this test: 3.4025002e38 rounded to four digits (3.403E+38) is beyond the largest float32
@example(columns={"A": np.array([0.0, 0.0, 3.4025002e38], np.float32)})
def test_any_catalogue_table_is_written_whole_or_refused(tmp_path, columns):
    table = Table({"ra": [10.0, 20.0, 30.0], "dec": [-5.0, 0.0, 5.0]})
    for name, cells in columns.items():
        if name in table.colnames:
            continue
        try:
            table[name] = cells
        except (TypeError, ValueError, OverflowError):
            assume(False)  # astropy itself cannot make such a column
    descriptions = {name: "a fuzzed column" for name in columns}
    try:
        check_catalog(table, descriptions=descriptions)
        paths = write_catalog(table, tmp_path / "cat", descriptions=descriptions, overwrite=True)
    except GalzooError:
        assert not list(tmp_path.glob(".*")), "temporaries left after a refusal"
        return
    assert paths.keys() == {"fits", "votable", "cds"}  # each read back as written by the writer's check
