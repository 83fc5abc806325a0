# Licensed under a 3-clause BSD style license - see LICENSE
"""The ECSV table: astropy's text format, whose YAML header keeps units, UCDs, descriptions and the
provenance; the one format that needs no coordinates."""

from astropy.table import Table

from ._base import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["EcsvTable"]


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
        out.write(paths[0], format="ascii.ecsv", overwrite=True)

    def verify(self, table, paths):
        compare_tables(table, Table.read(paths[0], format="ascii.ecsv"), "ECSV", paths[0])
