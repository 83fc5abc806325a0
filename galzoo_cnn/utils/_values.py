# Licensed under a 3-clause BSD style license - see LICENSE
"""Table columns as plain float arrays: numbers and angles, masked entries as NaN, errors naming the
column and row (shared by the stages that read coordinates, radii and probabilities)."""

import numpy as np
from astropy import units as u

from ..exceptions import InputError

__all__ = ["degrees", "floats", "angle", "is_text"]


def is_text(column):
    """Whether a column holds text (str, bytes or Python objects) rather than numbers."""
    return getattr(column, "dtype", np.dtype(object)).kind in "USO"


def degrees(column, name, *, axis=None, strict=True):
    """A coordinate column as float degrees (NaN where masked); plain numbers are degrees.

    With ``axis`` (``'ra'`` or ``'dec'``) text is read too, as astronomers write it: decimal degrees, or
    sexagesimal (``'11:56:10.32'``, ``'11h56m10.32s'``, ``'11 56 10.32'``) in hours for a right ascension
    and in degrees for a declination; empty text is a missing value, and text that is not an angle raises
    `InputError` naming the row (``strict=False``: NaN, for a run that gives such rows a status)."""
    if axis is not None and is_text(column):
        return _text_angles(column, name, *((u.hourangle, "hours") if axis == "ra" else (u.deg, "degrees")),
                            strict=strict)
    return angle(column, name, u.deg)


def _text_angles(column, name, sexagesimal, unit_name, strict):
    from astropy.coordinates import Angle

    texts = np.char.strip(np.asarray(np.ma.filled(column, ""), dtype=str))
    values = np.full(len(texts), np.nan)
    for row in np.flatnonzero((texts != "") & ~np.ma.getmaskarray(column)):
        try:
            values[row] = float(texts[row])  # decimal: degrees
        except ValueError:
            try:
                values[row] = Angle(texts[row], unit=sexagesimal).deg
            except (ValueError, u.UnitsError):
                if not strict:
                    continue
                raise InputError(f"column {name!r}, row {row}: {str(texts[row])!r} is not an angle (decimal "
                                 f"degrees, or sexagesimal {unit_name})") from None
    return values


def floats(table, name):
    """A column as a float array, masked entries as NaN (so every comparison with them is False).

    Text that is not a number ("n/a" in a CSV column) raises `InputError` naming the column and row.
    """
    column = table[name]
    try:
        return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
    except (TypeError, ValueError):
        pass
    values, mask = np.asarray(column), np.ma.getmaskarray(column)
    for row, value in enumerate(values.tolist()):
        if mask[row]:
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            raise InputError(f"column {name!r}, row {row}: {value!r} is not a number") from None
    raise InputError(f"column {name!r} ({column.dtype}) does not hold numbers")


def angle(column, name, unit):
    """An angle column as floats in ``unit`` (NaN where masked); plain numbers are in ``unit``."""
    if getattr(column, "unit", None) is not None:
        try:
            values = np.array(u.Quantity(column).to_value(unit), dtype=float)
            values[np.ma.getmaskarray(column)] = np.nan  # a Quantity keeps the data under the mask
            return values
        except u.UnitConversionError:
            raise InputError(f"column {name!r} has unit {column.unit}, not an angle") from None
    if column.dtype.kind not in "iuf":
        raise InputError(f"column {name!r} holds {column.dtype} values; give decimal {unit.long_names[0]}s "
                         f"or angles")
    return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
