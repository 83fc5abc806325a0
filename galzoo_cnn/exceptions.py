# Licensed under a 3-clause BSD style license - see LICENSE
"""
The exceptions and warnings of galzoo_cnn.

Every error the package raises for bad input derives from `GalzooError`
(and from the built-in class that describes it, so ``except ValueError``
keeps working); every warning derives from `GalzooWarning`, an
`~astropy.utils.exceptions.AstropyUserWarning`, so that
``warnings.filterwarnings`` and ``pytest.warns`` can select them.

Examples
--------
>>> import warnings
>>> from galzoo_cnn.exceptions import GalzooWarning, PixelScaleWarning
>>> issubclass(PixelScaleWarning, GalzooWarning)
True
>>> warnings.filterwarnings("ignore", category=PixelScaleWarning)  # silence one kind
"""

from astropy.utils.exceptions import AstropyUserWarning

__all__ = ["GalzooError", "CatalogError", "GalzooWarning", "PixelScaleWarning"]


class GalzooError(Exception):
    """Base class of the errors galzoo_cnn raises for unusable input."""


class CatalogError(GalzooError, ValueError):
    """A table that cannot be written as a catalogue; the message names the column or row."""


class GalzooWarning(AstropyUserWarning):
    """Base class of the warnings of galzoo_cnn."""


class PixelScaleWarning(GalzooWarning):
    """Images at an angular scale far from the one the model was trained at."""
