# Licensed under a 3-clause BSD style license - see LICENSE
"""Test configuration: the pytest-astropy header and the real-data fixtures."""

import os
from pathlib import Path

import pytest

try:
    from pytest_astropy_header.display import PYTEST_HEADER_MODULES, TESTED_VERSIONS
except ImportError:  # pytest-astropy-header is optional outside tox
    PYTEST_HEADER_MODULES, TESTED_VERSIONS = {}, {}


def pytest_configure(config):
    config.option.astropy_header = True
    try:  # the fuzz tests write no example database into the user's working directory
        from hypothesis import settings
    except ImportError:
        pass
    else:
        settings.register_profile("galzoo_cnn", database=None)
        settings.load_profile("galzoo_cnn")
    PYTEST_HEADER_MODULES.clear()
    PYTEST_HEADER_MODULES.update({name: name for name in (
        "numpy", "astropy", "torch", "torchvision", "timm", "lightning", "sklearn",
        "matplotlib", "astroquery", "pyvo")})
    from galzoo_cnn import __version__
    TESTED_VERSIONS["galzoo_cnn"] = __version__


def _real_data_dir():
    """The project's real SDSS / Galaxy Zoo data (``../shared/data``), or None."""
    candidates = [os.environ.get("GALZOO_CNN_REAL_DATA"),
                  Path(__file__).resolve().parents[2] / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def real_data():
    """Directory of the real data set; skips the test where it is absent."""
    path = _real_data_dir()
    if path is None:
        pytest.skip("the real SDSS / Galaxy Zoo data (../shared/data, or $GALZOO_CNN_REAL_DATA) "
                    "is not available on this machine")
    return path


@pytest.fixture(autouse=True)
def _astropy_log_warnings_only():
    """Doctests show results, not INFO lines; tests of logging raise the level themselves."""
    from astropy import log
    level = log.level
    log.setLevel("WARNING")
    yield
    log.setLevel(level)


@pytest.fixture(autouse=True)
def _close_figures():
    """Figures a test (or a page of examples) draws are closed after it: pyplot keeps every open
    figure, and more than 20 raise matplotlib's warning, an error under the test settings."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(scope="session")
def gz1_images():
    """The 16 real SDSS GZ1 cutouts bundled with the tests: (labels table, image directory)."""
    from astropy.table import Table

    directory = Path(__file__).parent / "tests" / "data" / "gz1_images"
    return Table.read(directory / "labels.csv"), directory


@pytest.fixture
def count_image_opens(monkeypatch):
    """``count_image_opens()`` starts recording the file name of every ``PIL.Image.open`` call and returns
    the list it fills (until ``monkeypatch.undo()``): how many times a run decodes each image."""
    import PIL.Image

    def start():
        opened, real_open = [], PIL.Image.open

        def counting_open(source, *args, **kwargs):
            opened.append(os.path.basename(str(getattr(source, "name", source))))
            return real_open(source, *args, **kwargs)

        monkeypatch.setattr(PIL.Image, "open", counting_open)
        return opened

    return start
