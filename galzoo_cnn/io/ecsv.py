# Licensed under a 3-clause BSD style license - see LICENSE
"""The ECSV table: astropy's text format, whose YAML header keeps units, UCDs, descriptions and the
provenance; the one format that needs no coordinates."""

import gc
import io
import itertools

from astropy.table import Table

from ..exceptions import CatalogError
from ._base import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["EcsvTable"]

#: Rows written, and read back, at a time: astropy's ECSV writer and reader hold a whole table as
#: text (2.5 GiB for the paper's 316 000 x 77), so each block is one small ECSV text of its own.
_ROWS = 20_000


@register_format("ecsv")
class EcsvTable(CatalogFormat):
    """ECSV text table (astropy, TOPCAT): units, UCDs, descriptions, provenance; positions optional.

    Not a VizieR format, and not written unless asked for: it is the output
    for galaxies without positions (a folder of cutouts, a table of file
    names), read back with ``Table.read(path)`` with every unit and
    description in place.
    """

    rank = 4
    output_patterns = ("{basename}.ecsv",)
    needs_coordinates = False
    written_by_default = False

    def write(self, table, paths, metadata):
        out = Table(table, copy=False)  # the columns are shared, the header is this file's own
        out.meta = {key: value for key, value in (
            ("name", metadata.name), ("title", metadata.title), ("abstract", metadata.abstract),
            ("description", metadata.description), ("authors", list(metadata.authors)),
            ("bibcode", metadata.bibcode), ("creator", metadata.creator), ("date", metadata.written),
            ("provenance", dict(metadata.provenance)), ("references", list(metadata.references)),
        ) if value}
        with open(paths[0], "w", encoding="ascii", newline="") as file:
            for start in range(0, len(out), _ROWS):
                text = io.StringIO()
                out[start:start + _ROWS].write(text, format="ascii.ecsv")
                lines = text.getvalue().splitlines(keepends=True)
                # the header and the column names once; a value holds no newline (check_catalog)
                file.writelines(lines if start == 0 else lines[_header_length(lines):])
                gc.collect()  # the block's tables sit in reference cycles: free them before the next
    def verify(self, table, paths):
        with open(paths[0], encoding="ascii", newline="") as file:
            header = []
            for line in file:  # the header, then the column names
                header.append(line)
                if not line.startswith("#"):
                    break
            start = 0
            while block := list(itertools.islice(file, _ROWS)):
                # lines, not one string: astropy would first parse a string as a URL, and urllib caches
                # what it parsed, a copy of each block
                reread = Table.read([line.rstrip("\r\n") for line in header + block], format="ascii.ecsv")
                compare_tables(table[start:start + len(block)], reread, "ECSV", paths[0])
                start += len(block)
                gc.collect()
        if start != len(table):
            raise CatalogError(f"ECSV file {str(paths[0])!r} reads back as {start} rows, not {len(table)}")


def _header_length(lines):
    """Lines of an ECSV text before its first row: the ``#`` header and the line of column names."""
    return next(i for i, line in enumerate(lines) if not line.startswith("#")) + 1
