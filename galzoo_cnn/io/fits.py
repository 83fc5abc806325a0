# Licensed under a 3-clause BSD style license - see LICENSE
"""The FITS catalogue: one binary table with units, UCDs, descriptions and provenance keywords."""

import io
import warnings

import numpy as np
from astropy.table import MaskedColumn, Table

from ._base import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["FitsCatalog", "PROVENANCE_KEYWORDS"]

#: FITS keywords of the provenance entries `galzoo_cnn.classify_table` records (others get
#: ``PROVnnn``); the entry's name is the card's comment.
PROVENANCE_KEYWORDS = {
    "software": "SOFTWARE", "function": "FUNCTION", "model": "MODEL", "model_objective": "OBJECTIV",
    "model_backbone": "BACKBONE",
    "model_sha256": "MODELSHA", "crop": "CROP", "precision": "PRECISN", "date": "CLASDATE",
    "status_counts": "NSTATUS", "thresholds": "THRESHLD", "model_outputs": "MODOUTS",
    "adversarial_model": "ADVMODEL", "adversarial_model_sha256": "ADVSHA",
    "tta": "TTA", "temperature": "TEMPERAT", "reframed": "REFRAMED", "packed_images": "PACKED",
}

#: Rows encoded at a time.
_ROWS = 8192

#: FITS block size (bytes): headers and data are padded to a multiple of it.
_BLOCK = 2880

#: Byte written for a null boolean (FITS logicals have no null that every reader honours).
_BOOL_NULL = 255


@register_format("fits")
class FitsCatalog(CatalogFormat):
    """FITS binary table: TUNITn, TUCDn, TCOMMn; title, provenance and references as keywords."""

    rank = 1
    output_patterns = ("{basename}.fits",)

    def write(self, table, paths, metadata):
        from astropy.io import fits

        ready = _fits_columns(table)
        hdu = fits.table_to_hdu(ready[:1])  # the header: each column's format and null, for every row
        header = hdu.header
        header["NAXIS2"] = len(ready)
        for i, name in enumerate(ready.colnames, start=1):
            header[f"TCOMM{i}"] = ready[name].info.description
            if table[name].info.meta.get("ucd"):
                header[f"TUCD{i}"] = table[name].info.meta["ucd"]
        hdu.name = metadata.name.upper()[:68] or "CATALOG"
        cards = [("LONGSTRN", "OGIP 1.0", "long strings continue on CONTINUE cards"),
                 ("RADESYS", "ICRS", "frame of the RA / Dec columns"),
                 ("DATE", metadata.written, "UTC date the file was written"),
                 ("CREATOR", metadata.creator, "software that wrote the file"),
                 ("ORIGIN", "galzoo_cnn", "organisation or software of origin"),
                 ("TITLE", metadata.title, "title of the catalogue")]
        if metadata.description or metadata.abstract:
            cards.append(("DESCRIP", metadata.description or metadata.abstract, "description"))
        if metadata.bibcode:
            cards.append(("BIBCODE", metadata.bibcode, "paper presenting the catalogue"))
        for key, value in metadata.provenance.items():
            keyword = PROVENANCE_KEYWORDS.get(key) or f"PROV{len(cards):03d}"
            cards.append((keyword, _card_value(value), key.replace("_", " ")))
        for i, reference in enumerate(metadata.references, start=1):
            cards.append((f"REFER{i}", reference, "reference to cite"))
        for keyword, value, comment in cards:
            # a long string continues on CONTINUE cards; a comment would be cut, so it is left off
            header[keyword] = (value, comment) if len(str(value)) + len(comment) < 60 else value
        primary = fits.PrimaryHDU()
        for keyword, value, comment in cards[:5]:
            primary.header[keyword] = (value, comment)
        for part in (primary.header, header):  # room for the checksums, filled in place below
            part["CHECKSUM"], part["DATASUM"] = "0" * 16, "0"
        with open(paths[0], "wb") as out:
            out.write(primary.header.tostring().encode("ascii"))
            out.write(header.tostring().encode("ascii"))
            for rows in _binary_rows(ready, hdu.columns):
                out.write(rows)
            out.write(b"\0" * (-header["NAXIS1"] * len(ready) % _BLOCK))
        with fits.open(paths[0], mode="update", memmap=True) as hdul:  # the data stays on disk
            for part in hdul:
                part.add_checksum()

    def verify(self, table, paths):
        from astropy.io import fits

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a checksum mismatch is only a warning in astropy
            with fits.open(paths[0], checksum=True) as hdul:
                hdul.verify("exception")
        reread = Table.read(paths[0], hdu=1, memmap=True)  # columns are views of the file: no copy
        for name in table.colnames:  # booleans travel as bytes with a TNULL
            if table[name].dtype.kind == "b":
                reread[name] = MaskedColumn(np.asarray(reread[name]) == 1,
                                            mask=np.ma.getmaskarray(reread[name]))
        compare_tables(table, reread, "FITS", paths[0])


def _binary_rows(ready, columns):
    """The binary-table bytes of the rows, `_ROWS` at a time, each block encoded by astropy as a table
    of its own (the whole table's copy in FITS form would be several times its size in memory)."""
    from astropy.io import fits

    primary = len(fits.PrimaryHDU().header.tostring())
    for start in range(0, len(ready), _ROWS):
        block = fits.table_to_hdu(ready[start:start + _ROWS])
        if block.columns.formats != columns.formats or block.columns.nulls != columns.nulls:
            raise AssertionError(f"rows {start}-{start + len(block.data)} encode as {block.columns}, not as "
                                 f"the header's {columns}")
        encoded = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(), block]).writeto(encoded)
        offset = primary + len(block.header.tostring())
        yield encoded.getbuffer()[offset:offset + block.header["NAXIS1"] * len(block.data)]


def _fits_columns(table):
    """Booleans as bytes 0 / 1 with a TNULL, whatever their masks: one FITS type for the column."""
    out = Table(table, copy=False)
    out.meta = {}
    for name in out.colnames:
        column = out[name]
        column.info.meta = {}
        column.info.format = None  # python format specs are not TDISPn codes
        if column.dtype.kind == "b":
            out[name] = MaskedColumn(np.asarray(column, dtype=np.uint8), mask=np.ma.getmaskarray(column),
                                     fill_value=_BOOL_NULL, dtype=np.uint8,
                                     description=f"{column.info.description} (1 true, 0 false)")
        elif column.dtype.kind in "iu" and np.ma.getmaskarray(column).any():
            column.fill_value = _integer_null(column)  # the TNULL: never one of the column's values
    return out


def _integer_null(column):
    """A TNULL for a masked integer column that none of its values equals (astropy's default, 999999,
    made a real 999999 read back as null): the type's extremes first, then the first free value."""
    values = set(np.ma.compressed(column).tolist())
    info = np.iinfo(column.dtype)
    for candidate in (info.min, info.max, *range(info.min + 1, info.min + len(values) + 2)):
        if candidate not in values:
            return candidate
    raise AssertionError("a column of n values leaves one of n + 1 candidates free")


def _card_value(value):
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return value
    return str(value)
