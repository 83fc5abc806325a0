# Licensed under a 3-clause BSD style license - see LICENSE
"""Optional dependencies, imported when first needed, with an error that says how to install them."""

import importlib


def astroquery(module, purpose):
    """``astroquery.<module>``, or an ImportError that says how to install it."""
    try:
        return importlib.import_module(f"astroquery.{module}")
    except ImportError:
        raise ImportError(f"{purpose} needs astroquery: pip install 'galzoo_cnn[all]' "
                          f"(or pip install astroquery)") from None
