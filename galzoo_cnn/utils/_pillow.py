# Licensed under a 3-clause BSD style license - see LICENSE
"""Pillow opened safely: only the formats galzoo_cnn reads, and every failure of Pillow's as one exception.

Pillow identifies a file by its content, whatever its name, among some forty
formats: an EPS file named ``galaxy.jpg`` makes it start Ghostscript, and
rarely used decoders (PPM, DDS, QOI...) raise ``ValueError``, ``IndexError``
or ``struct.error`` on damaged files.  `open_image` passes ``formats=`` so that
nothing but the formats of `READ_FORMATS` is ever tried, and `decode` turns
whatever Pillow raises while decoding into `UnreadableImage`, whose
``reason`` the callers turn into a row's status.
"""

import contextlib
import warnings

from PIL import Image

__all__ = ["READ_FORMATS", "FITS_SIGNATURE", "UnreadableImage", "open_image", "decode"]

#: The only formats Pillow is allowed to identify: SDSS and Legacy Survey cutouts are JPEGs,
#: PNG is what people save arrays as.  Neither plugin starts an external program.
READ_FORMATS = ("JPEG", "PNG")


#: The first bytes of every FITS file (its first card, ``SIMPLE  =``; FITS standard 4.0, Sect. 4.4.1.1).
FITS_SIGNATURE = b"SIMPLE  ="


class UnreadableImage(ValueError):
    """Pillow could not open or decode an image; ``reason`` is ``'too_large'``, ``'fits_image'`` or
    ``'undecodable'``."""

    def __init__(self, message, reason="undecodable"):
        super().__init__(message)
        self.reason = reason


def _as_unreadable(err):
    if isinstance(err, UnreadableImage):
        return err
    if isinstance(err, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return UnreadableImage(f"has more pixels than Pillow's decompression-bomb limit ({err})", "too_large")
    if isinstance(err, ValueError) and "too large" in str(err):
        # PNG text / ICC chunks that inflate beyond PngImagePlugin.MAX_TEXT_CHUNK or MAX_TEXT_MEMORY
        return UnreadableImage(f"has a compressed chunk that inflates beyond Pillow's limit ({err})",
                               "too_large")
    if isinstance(err, Image.UnidentifiedImageError):
        return UnreadableImage(f"does not decode: not a {' or '.join(READ_FORMATS)} image", "undecodable")
    return UnreadableImage(f"does not decode: {type(err).__name__}: {err}", "undecodable")


def open_image(source):
    """``PIL.Image.open(source)`` limited to `READ_FORMATS`; the caller checks the size.

    Raises `UnreadableImage` for anything Pillow raises, except that a
    missing file still raises `FileNotFoundError`.

    Examples
    --------
    >>> import io
    >>> from galzoo_cnn.utils._pillow import open_image
    >>> open_image(io.BytesIO(b"%!PS-Adobe-3.0 EPSF-3.0\\n"))
    Traceback (most recent call last):
    ...
    galzoo_cnn.utils._pillow.UnreadableImage: does not decode: not a JPEG or PNG image
    >>> open_image(io.BytesIO(b"SIMPLE  =                    T"))
    Traceback (most recent call last):
    ...
    galzoo_cnn.utils._pillow.UnreadableImage: is a FITS file; the models read colour composites ...
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # callers check the size
            return Image.open(source, formats=READ_FORMATS)
    except FileNotFoundError:
        raise
    except Image.UnidentifiedImageError as err:
        # astronomers' own cutouts are FITS: say so, rather than call the file corrupt
        if _starts_with(source, FITS_SIGNATURE):
            raise UnreadableImage("is a FITS file; the models read colour composites of the g, r and i "
                                  "bands as JPEG or PNG (astropy.visualization.make_lupton_rgb makes one)",
                                  "fits_image") from None
        raise _as_unreadable(err) from None
    except Exception as err:  # any exception of a decoder is a property of the file, not a bug of ours
        raise _as_unreadable(err) from None


def _starts_with(source, signature):
    """Whether the file (a path or a seekable binary file) begins with ``signature``."""
    try:
        if hasattr(source, "read"):
            source.seek(0)
            return source.read(len(signature)) == signature
        with open(source, "rb") as file:
            return file.read(len(signature)) == signature
    except OSError:
        return False


@contextlib.contextmanager
def decode():
    """Turn what Pillow raises inside the block (``load``, ``convert``, ``draft``) into `UnreadableImage`.

    Exceptions of galzoo_cnn's own (`~galzoo_cnn.exceptions.GalzooError`)
    pass through unchanged.

    Examples
    --------
    >>> from galzoo_cnn.utils._pillow import decode
    >>> with decode():
    ...     raise IndexError("tile cannot extend outside image")
    Traceback (most recent call last):
    ...
    galzoo_cnn.utils._pillow.UnreadableImage: does not decode: IndexError: tile cannot extend outside image
    """
    from ..exceptions import GalzooError

    try:
        yield
    except (GalzooError, FileNotFoundError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as err:
        raise _as_unreadable(err) from None
