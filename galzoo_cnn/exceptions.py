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

from astropy.utils.exceptions import AstropyDeprecationWarning, AstropyUserWarning

__all__ = ["GalzooError", "InputError", "InputTypeError", "MissingColumnsError", "UnknownNameError",
           "ServiceError", "CatalogError", "ImageError", "CutoutError", "Interrupted", "GalzooWarning",
           "GalzooDeprecationWarning", "UnusableImagesWarning", "DuplicateMatchWarning",
           "FewCandidatesWarning", "PixelScaleWarning"]


class GalzooError(Exception):
    """Base class of the errors galzoo_cnn raises for unusable input.

    ``galzoo-cnn`` prints the message of these errors on one line and exits
    with status 2; any other exception is a bug and shows its traceback.
    """


class InputError(GalzooError, ValueError):
    """A value given to the package cannot be used; the message names it (argument, column, row)."""


class InputTypeError(GalzooError, TypeError):
    """An argument of the wrong kind (e.g. a string where a list is expected)."""


class MissingColumnsError(GalzooError, KeyError):
    """A table lacks columns the package needs; the message names them."""

    def __str__(self):  # KeyError would quote the whole message
        return str(self.args[0])


class UnknownNameError(InputError, KeyError):
    """A name (GZ2 task or answer, objective, format, survey...) the package does not know; an input, a
    lookup and a value error."""

    def __str__(self):
        return str(self.args[0])


class ServiceError(GalzooError, RuntimeError):
    """A remote service (SDSS, VizieR...) answered, but not with what was asked for."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run; what was finished is kept where it can be resumed.

    Like `KeyboardInterrupt` it is not an `Exception`: the signal may arrive
    inside any library code, and an ``except Exception`` there (``inspect``
    turns any error into a ``TypeError``; file readers turn them into "cannot
    read") would otherwise swallow the stop or report it as something else.
    """

    def __init__(self, signum):
        import signal

        self.signum = int(signum)
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")


class CatalogError(GalzooError, ValueError):
    """A table that cannot be written as a catalogue; the message names the column or row."""


class ImageError(GalzooError, ValueError):
    """An image that cannot be used; the message names the file, ``reason`` says why in one word.

    ``reason`` is one of `galzoo_cnn.images.IMAGE_PROBLEMS`.
    """

    def __init__(self, message, reason="undecodable"):
        super().__init__(message)
        self.reason = reason


class CutoutError(GalzooError, ValueError):
    """A downloaded cutout that is not a valid image; the message says why, ``reason`` is the status
    the cutout gets (``corrupt``, or ``blank`` where the survey has no data)."""

    def __init__(self, message, reason="corrupt"):
        super().__init__(message)
        self.reason = reason


class GalzooWarning(AstropyUserWarning):
    """Base class of the warnings of galzoo_cnn."""


class GalzooDeprecationWarning(GalzooWarning, AstropyDeprecationWarning):
    """A name or option that still works but will be removed; the message gives the new one."""


class UnusableImagesWarning(GalzooWarning):
    """Some rows could not be classified; their ``status`` says why."""


class DuplicateMatchWarning(GalzooWarning):
    """Targets matched a catalogue galaxy already matched to a nearer target (flagged, not dropped)."""


class FewCandidatesWarning(GalzooWarning):
    """Fewer galaxies than asked for qualify for a selection; all of them were taken."""


class PixelScaleWarning(GalzooWarning):
    """Images at an angular scale far from the one the model was trained at."""
