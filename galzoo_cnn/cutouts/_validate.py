# Licensed under a 3-clause BSD style license - see LICENSE
"""What a valid cutout is: it decodes, has the requested size, is not constant, and has few dead
pixels (JPEG through the package's safe Pillow opener, FITS through astropy)."""

import io

import numpy as np

from ..exceptions import CutoutError
from ..utils._deprecation import keyword_options
from ..utils._pillow import UnreadableImage, decode, open_image


@keyword_options
def validate_fits_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a one-band FITS cutout; return ``(float32 image, header)`` or raise.

    Blank (every pixel NaN or equal: outside the survey) and dead pixels
    (NaN or exactly 0) are judged as for JPEGs (`validate_cutout`).

    Parameters
    ----------
    data : bytes
        The answer of the service.
    size : int
        Expected side in pixels.
    max_dead_fraction : float
        Largest fraction of NaN or zero pixels.

    Examples
    --------
    >>> import io, numpy as np
    >>> from astropy.io import fits
    >>> from galzoo_cnn.cutouts import validate_fits_cutout
    >>> buffer = io.BytesIO()
    >>> fits.PrimaryHDU(np.full((100, 100), np.nan, np.float32)).writeto(buffer)
    >>> validate_fits_cutout(buffer.getvalue())
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.CutoutError: blank: no finite pixel
    """
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(data)) as hdul:
            hdu = next((h for h in hdul if h.data is not None), None)
            if hdu is None:
                raise CutoutError("does not decode: no image in the FITS file")
            image, header = np.asarray(hdu.data, dtype=np.float32), hdu.header.copy()
    except CutoutError:
        raise
    except Exception as err:  # astropy raises OSError, ValueError, TypeError... on broken files
        raise CutoutError(f"does not decode: {err}") from None
    return _check_float_image(np.squeeze(image), size, max_dead_fraction), header


def _check_float_image(image, size, max_dead_fraction):
    if image.shape != (size, size):
        raise CutoutError(f"is {' x '.join(map(str, image.shape[::-1]))} pixels, expected {size} x {size}")
    finite = np.isfinite(image)
    if not finite.any():
        raise CutoutError("blank: no finite pixel", "blank")
    if np.nanmin(image) == np.nanmax(image):
        raise CutoutError(f"blank: every pixel is {np.nanmin(image)}", "blank")
    dead = float(np.mean(~finite | (image == 0)))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are NaN or 0 "
                          f"(limit {max_dead_fraction:.0%})")
    return image


@keyword_options
def validate_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a cutout; return the decoded uint8 array or raise.

    Parameters
    ----------
    data : bytes
        The answer of the service.
    size : int
        Expected side in pixels.
    max_dead_fraction : float
        Largest fraction of pure-black pixels.

    Raises
    ------
    CutoutError
        ``"does not decode: ..."``, ``"is W x H, expected ..."``, ``"blank: ..."``
        (constant image) or ``"dead pixels: ..."``.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> from galzoo_cnn.cutouts import validate_cutout
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(buffer, "JPEG")
    >>> validate_cutout(buffer.getvalue())
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.CutoutError: blank: every pixel is 0
    """
    try:
        image = open_image(io.BytesIO(data))
        with image:
            if image.size != (size, size):  # from the header: a decompression bomb is never decoded
                raise CutoutError(f"is {image.size[0]} x {image.size[1]} pixels, expected {size} x {size}")
            with decode():
                image.load()
                array = np.asarray(image.convert("RGB"))
    except UnreadableImage as err:
        raise CutoutError(f"is too large to decode safely: {err}" if err.reason == "too_large"
                          else str(err)) from None
    if array.shape[:2] != (size, size):
        raise CutoutError(f"is {array.shape[1]} x {array.shape[0]} pixels, expected {size} x {size}")
    if array.min() == array.max():
        raise CutoutError(f"blank: every pixel is {array.min()}", "blank")
    dead = float(np.mean(array.max(axis=2) == 0))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are black (limit {max_dead_fraction:.0%})")
    return array


def _valid_file_bytes(service, path, size, max_dead_fraction, n_bands=1):
    """The bytes of an existing valid cutout, or None (missing or invalid)."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        service.check_file(data, size, max_dead_fraction, n_bands)
    except CutoutError:
        return None
    return data


def _validate_cube(data, size, max_dead_fraction, n_bands):
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(data)) as hdul:
            cube = np.asarray(hdul[0].data, dtype=np.float32)
    except Exception as err:
        raise CutoutError(f"does not decode: {err}") from None
    if cube.shape != (n_bands, size, size):
        raise CutoutError(f"is a {cube.shape} cube, expected {(n_bands, size, size)}")
    for plane in cube:
        _check_float_image(plane, size, max_dead_fraction)
