# Licensed under a 3-clause BSD style license - see LICENSE
"""Table columns as plain float arrays: numbers and angles, masked entries as NaN, errors naming the
column and row (shared by the stages that read coordinates, radii and probabilities)."""

import numpy as np
from astropy import units as u

from ..exceptions import InputError

__all__ = ["degrees", "floats", "angle"]


def degrees(column, name):
    """A coordinate column as float degrees (NaN where masked); plain numbers are degrees."""
    return angle(column, name, u.deg)


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
                         f"(or convert sexagesimal strings with SkyCoord first)")
    return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
