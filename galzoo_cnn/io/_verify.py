# Licensed under a 3-clause BSD style license - see LICENSE
"""Reading a written catalogue back: every row, column, value and null must survive."""

import numpy as np

from ..exceptions import CatalogError

__all__ = ["compare_tables"]


def compare_tables(table, reread, what, path, atol=None):
    """Raise `CatalogError` if ``reread`` lost a column, a row, a value or a null of ``table``.

    Nulls: a masked cell must come back masked (or NaN), and only those;
    the prepared tables hold no empty strings (they are nulls), so an empty
    string read back counts as a null.  ``atol``: ``{column: tolerance}`` for the
    formats that write decimals (CDS: float64 to 15 significant digits).
    """
    if list(reread.colnames) != list(table.colnames) or len(reread) != len(table):
        raise CatalogError(f"{what} file {str(path)!r} reads back as {len(reread)} rows x "
                           f"{reread.colnames}, not {len(table)} rows x {table.colnames}")
    for name in table.colnames:
        mine, theirs = table[name], reread[name]
        mask, their_mask = np.ma.getmaskarray(mine), np.ma.getmaskarray(theirs).copy()
        numeric = np.asarray(mine).dtype.kind in "fiub"
        if numeric:
            filled = np.ma.filled(np.ma.asarray(theirs, dtype=float), np.nan)
            their_mask |= np.isnan(filled) & ~np.isnan(np.asarray(np.ma.filled(mine, 0), dtype=float))
        else:
            their_mask |= np.char.strip(np.ma.filled(theirs, "").astype(str)) == ""
        if (mask != their_mask).any():
            row = int(np.argmax(mask != their_mask))
            raise CatalogError(f"{what} file {str(path)!r}: column {name!r} does not keep its nulls "
                               f"(row {row})")
        a = np.asarray(mine)[~mask]
        b = np.asarray(np.ma.filled(theirs, theirs.dtype.type()))[~mask]
        if numeric:
            same = np.allclose(a.astype(float), b.astype(float), rtol=0.0, atol=(atol or {}).get(name, 0.0),
                               equal_nan=True)
        else:
            same = np.array_equal(a.astype(str), np.char.rstrip(b.astype(str)))
        if not same:
            raise CatalogError(f"{what} file {str(path)!r}: column {name!r} does not read back "
                               f"as written")
