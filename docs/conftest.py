# Licensed under a 3-clause BSD style license - see LICENSE
import pytest


@pytest.fixture(autouse=True)
def _astropy_log_warnings_only():
    """The examples show results, not the INFO lines the functions log."""
    from astropy import log
    level = log.level
    log.setLevel("WARNING")
    yield
    log.setLevel(level)
