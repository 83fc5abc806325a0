# Licensed under a 3-clause BSD style license - see LICENSE
"""The angular scale of a cutout: Galaxy Zoo 2's framing of a galaxy in Petrosian radii, and the
per-row pixel scale a fetch requests."""


import numpy as np
from astropy import units as u

from ..exceptions import InputError
from ..tables import (
    require_columns,
)
from ..utils._cards import default_frame_r90
from ..utils._deprecation import keyword_options
from ..utils._values import angle
from ._services import _service

#: Width of a Galaxy Zoo 2 image in Petrosian radii: 424 pixels of 0.02 petroR90_r each
#: (Willett et al. 2013, Sect. 2; the Kaggle challenge images are these frames).
GZ2_FRAME_RADII = 424 * 0.02


@keyword_options
def gz2_pixel_scale(petro_r90, size=100, radii_per_frame=None):
    """Pixel scale that frames each galaxy as Galaxy Zoo 2 did, for cutouts of ``size`` pixels.

    GZ2 scaled its images to each galaxy (Willett et al. 2013, Sect. 2):
    424 pixels of 0.02 ``petroR90_r``, a frame `GZ2_FRAME_RADII` = 8.48
    Petrosian radii wide, whatever the size of the galaxy.  A frame
    ``radii_per_frame`` radii wide with ``size`` pixels needs
    ``radii_per_frame * petroR90_r / size`` per pixel.  By default it is the
    frame the default model reads (`~galzoo_cnn.models.GalaxyClassifier.frame_r90`:
    6 R90, the central 300 pixels of a GZ2 frame, for the bundled models), so
    that every pixel fetched reaches the model; pass ``GZ2_FRAME_RADII`` for
    GZ2's own framing (`~galzoo_cnn.classify_table` reframes such cutouts
    from their ``cutout_fov`` and ``petroR90_r``).

    Parameters
    ----------
    petro_r90 : `~astropy.units.Quantity`, column or array
        Petrosian radius containing 90 % of the r-band flux (``petroR90_r``
        of `~galzoo_cnn.samples.query_sdss_targets`); plain numbers are
        arcseconds.
    size : int
        Side of the cutouts in pixels.
    radii_per_frame : float, optional
        Width of the frame in units of ``petro_r90``; default the default
        model's frame (`galzoo_cnn.config.conf.default_model`).

    Returns
    -------
    `~astropy.units.Quantity`
        Arcseconds per pixel, one per galaxy; pass it to `fetch_cutouts` as
        ``pixel_scale``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from galzoo_cnn.cutouts import gz2_pixel_scale
    >>> from galzoo_cnn.cutouts import GZ2_FRAME_RADII
    >>> gz2_pixel_scale([5.0, 12.0] * u.arcsec, size=424, radii_per_frame=GZ2_FRAME_RADII)
    <Quantity [0.1 , 0.24] arcsec>
    >>> gz2_pixel_scale(5.0 * u.arcsec, size=100)     # the default model's frame: 5.5 R90
    <Quantity 0.275 arcsec>
    """
    if radii_per_frame is None:
        radii_per_frame = default_frame_r90() or GZ2_FRAME_RADII
    if int(size) <= 0:
        raise InputError(f"size={size!r} must be a positive number of pixels")
    radius = u.Quantity(getattr(petro_r90, "quantity", petro_r90), u.arcsec)
    return (radius * float(radii_per_frame) / int(size)).to(u.arcsec)


def _row_pixel_scales(table, pixel_scale, survey):
    """Arcseconds per pixel for every row: a default, one Quantity, a Quantity per row or a column."""
    if pixel_scale is None:
        pixel_scale = _service(survey).pixel_scale
    if isinstance(pixel_scale, str):
        require_columns(table, pixel_scale, role="pixel_scale")
        pixel_scale = angle(table[pixel_scale], pixel_scale, u.arcsec) * u.arcsec
    try:
        scales = u.Quantity(pixel_scale, u.arcsec)
    except u.UnitsError:
        raise u.UnitsError(f"pixel_scale must be an angle per pixel, got {pixel_scale!r}") from None
    scales = np.broadcast_to(np.asarray(scales.value, dtype=float), (len(table),))
    if scales.size and np.isfinite(scales).any() and np.nanmin(scales) <= 0:
        raise InputError(f"pixel_scale must be positive; row {int(np.nanargmin(scales))} has "
                         f"{np.nanmin(scales):g} arcsec")
    return scales
