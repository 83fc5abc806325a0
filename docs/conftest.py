# Licensed under a 3-clause BSD style license - see LICENSE
# The documentation's examples run with the package's test settings.
from galzoo_cnn.conftest import _astropy_log_warnings_only, _close_figures  # noqa: F401
