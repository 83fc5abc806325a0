# Licensed under a 3-clause BSD style license - see LICENSE
"""What every run of a model over a table's images does before the forward passes (classify,
embed, evaluate): the model loaded, the table and options checked, and the part of each image the
model reads (its card's crop, or the frame worked out per row from the cutout's field and the
galaxy's radius)."""

import warnings
from pathlib import Path

import numpy as np
from astropy import units as u

from ._inference import _CODES, _accelerator
from .exceptions import InputError, InputTypeError, PixelScaleWarning
from .images import MAX_FRAME_FRACTION, MIN_CROP, resolve_image_paths
from .models import GalaxyClassifier, load_model
from .tables import check_integer, table_or_folder
from .utils._lightning import check_devices
from .utils._values import angle

__all__ = ["as_model", "start_run", "row_crops", "model_crop", "frame_crops", "check_pixel_scale"]


def as_model(model, device="cpu"):
    """A loaded model in evaluation mode from a name, a card path or a model."""
    if isinstance(model, GalaxyClassifier):
        return model.eval()
    if isinstance(model, (str, Path)):
        return load_model(model, device=device)
    raise InputTypeError(f"model must be a model name, the path of a model card or a GalaxyClassifier, "
                         f"got {type(model).__name__}")


def start_run(table, verb, *, image_column, image_dir, **options):
    """A copy of ``table`` (or the `~galzoo_cnn.tables.image_table` of a folder given in its place) and its
    rows' image paths, once the run's options are checked: what every run over a table's images
    (classify, embed) does before it loads a model."""
    table, image_dir = table_or_folder(table, image_dir, image_column=image_column)
    if len(table) == 0:
        raise InputError(f"the table is empty: no galaxies to {verb}")
    check_run_options(**options)
    return table, resolve_image_paths(table, image_column=image_column, image_dir=image_dir, allow_empty=True)


def check_run_options(*, batch_size, num_workers, num_nodes=None, crop, device, devices=None):
    """The options of a run over images, checked before any model is loaded or image read."""
    for name, value, low in (("batch_size", batch_size, 1), ("num_workers", num_workers, 0),
                             ("num_nodes", num_nodes, 1)):
        if value is not None:
            check_integer(name, value, low)
    if crop is not None and not MIN_CROP <= crop <= MAX_FRAME_FRACTION:
        raise InputError(f"crop={crop!r} must lie in [{MIN_CROP}, {MAX_FRAME_FRACTION}]: the central "
                         f"fraction of each image side the model sees (above 1: the frame widened with sky)")
    accelerator, _ = _accelerator(device)  # a device this machine lacks fails before any model is loaded
    check_devices(devices, accelerator=accelerator)


def row_crops(table, model, crop, *, reframe, fov_column, radius_column):
    """What ``model`` reads of each row's image: the crop (one, or per row when the rows are reframed,
    `frame_crops`), the status codes fixed before reading (``bad_framing``; or None), and the framing."""
    framing = frame_crops(table, model, fov_column=fov_column, radius_column=radius_column) \
        if reframe and crop is None else None
    if framing is None:
        check_pixel_scale(table, model, crop=model_crop(model, crop), fov_column=fov_column,
                          radius_column=radius_column)
        return model_crop(model, crop), None, None
    crops = np.where(framing.mask, model_crop(model), framing.filled(1.0))
    return crops, np.where(framing.mask, _CODES["bad_framing"], 0).astype(np.int32), framing


def model_crop(model, crop=None):
    """The central fraction a model sees: ``crop`` if given, else its card's (what it was trained with)."""
    return float(crop) if crop is not None else model.card.crop


def frame_crops(table, model, *, fov_column="cutout_fov", radius_column="petroR90_r"):
    """Per-row fraction of each image side that frames the galaxy as ``model`` was trained.

    A cutout of side ``fov`` around a galaxy of Petrosian radius ``R90``
    spans ``fov / R90`` radii; the model reads ``model.frame_r90`` radii
    (`~galzoo_cnn.models.GalaxyClassifier.frame_r90`), so the fraction is
    ``frame_r90 * R90 / fov``: below 1 the central part is cropped, above 1
    the frame is widened with sky (`~galzoo_cnn.images.pad_with_sky`).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows to classify.
    model : `~galzoo_cnn.models.GalaxyClassifier`
        The model (its card's frame).
    fov_column, radius_column : str
        The cutouts' side and the galaxies' Petrosian radius (angles; plain
        numbers are arcseconds).

    Returns
    -------
    `numpy.ma.MaskedArray` or None
        The fraction per row, masked where the radius or the side is not a
        positive finite angle or the fraction lies outside
        [`~galzoo_cnn.images.MIN_CROP`, `~galzoo_cnn.images.MAX_FRAME_FRACTION`];
        `None` when the table lacks either column or the model's card gives
        no frame in radii.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import Table
    >>> from galzoo_cnn.classify import frame_crops
    >>> from galzoo_cnn.models import load_model
    >>> rows = Table({"cutout_fov": [60, 60, 60] * u.arcsec, "petroR90_r": [5, 12, 0] * u.arcsec})
    >>> frame_crops(rows, load_model("sample-gz2"))   # 6 R90 of 12 R90 in the frame; 1.2; no radius
    masked_array(data=[0.5, 1.2, --],
                 mask=[False, False,  True],
           fill_value=1e+20)
    """
    frame = model.frame_r90
    if frame is None or fov_column not in table.colnames or radius_column not in table.colnames:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = frame * angle(table[radius_column], radius_column, u.arcsec) \
            / angle(table[fov_column], fov_column, u.arcsec)
    bad = ~np.isfinite(fraction) | (fraction < MIN_CROP) | (fraction > MAX_FRAME_FRACTION)
    return np.ma.MaskedArray(np.where(bad, np.nan, fraction).round(6), mask=bad)


def check_pixel_scale(table, model, *, crop=None, fov_column="cutout_fov", radius_column="petroR90_r"):
    """Warn when rows' cutouts are at angular scales the model was not trained at.

    The scale of one input pixel is ``fov * crop / size`` (the cutout's side
    ``fov``, the model's central ``crop`` and input side ``size``); for a
    model whose card gives its frame in Petrosian radii (``frame_r90``, or a
    ``pixel_scale`` of unit ``R90``, as for the bundled five-class models) it
    is divided by the galaxy's ``petroR90_r``.  Rows outside the frame widths
    where the model's accuracy was measured to hold (the card's
    ``input['frame_range_r90']``; for older cards the scale range trained at,
    ``trained_range``) are counted in one
    `~galzoo_cnn.exceptions.PixelScaleWarning`.  `classify_table` calls it
    for rows it does not reframe.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows to classify, with ``fov_column`` (an angle; plain numbers are
        arcseconds) and, for R90-scaled models, ``radius_column``.
    model : `~galzoo_cnn.models.GalaxyClassifier`
        The model (its card's ``input``).
    crop : float, optional
        Central fraction kept; default the card's.
    fov_column, radius_column : str
        Names of the frame-size and Petrosian-radius columns.

    Returns
    -------
    numpy.ndarray or None
        The scale of one input pixel per row (in the card's unit), or
        `None` when the card or the table does not say.

    Examples
    --------
    >>> import warnings
    >>> import astropy.units as u
    >>> from astropy.table import Table
    >>> from galzoo_cnn.classify import check_pixel_scale
    >>> from galzoo_cnn.models import load_model
    >>> model = load_model("sample-gz2")
    >>> rows = Table({"cutout_fov": [39.6, 39.6] * u.arcsec, "petroR90_r": [6.0, 1.0] * u.arcsec})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     scales = check_pixel_scale(rows, model)
    >>> scales.round(3).tolist(), caught[0].category.__name__
    ([0.066, 0.396], 'PixelScaleWarning')
    """
    card = model.card
    scale = card.pixel_scale or ({"unit": "R90"} if card.frame_r90 else None)
    if not scale or fov_column not in table.colnames:
        return None
    crop = model_crop(model, crop)
    size = card.input_size
    per_pixel = angle(table[fov_column], fov_column, u.arcsec) * crop / size  # arcsec per input pixel
    if scale["unit"] == "R90":
        if radius_column not in table.colnames:
            return None
        values = per_pixel / angle(table[radius_column], radius_column, u.arcsec)
    else:
        values = (per_pixel * u.arcsec).to_value(u.Unit(scale["unit"]))
    measured = card.frame_range_r90  # where its accuracy holds, measured on real frames
    if measured and scale["unit"] == "R90":
        low, high = measured[0] / size, measured[1] / size
    elif scale.get("trained_range") or scale.get("per_pixel"):
        low, high = scale.get("trained_range") or (scale["per_pixel"] / 1.5, scale["per_pixel"] * 1.5)
    else:
        return values
    outside = np.isfinite(values) & ((values < low) | (values > high))
    if outside.any():
        first = int(np.argmax(outside))
        warnings.warn(PixelScaleWarning(
            f"{int(outside.sum())} of {len(values)} rows have cutouts at {values[first]:.3g} {scale['unit']} "
            f"per input pixel or similar (row {first}), outside the {low:.4g}-{high:.4g} {scale['unit']} "
            f"where the model {card.name!r} holds: expect less reliable classes there "
            f"(give the table petroR90_r and cutout_fov to reframe each row, or fetch_cutouts(..., "
            f"pixel_scale=gz2_pixel_scale(...)) to frame galaxies as in training)"),
            stacklevel=4)
    return values
