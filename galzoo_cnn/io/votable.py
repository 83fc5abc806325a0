# Licensed under a 3-clause BSD style license - see LICENSE
"""The VOTable 1.4 catalogue: FIELDs with unit, UCD and DESCRIPTION; COOSYS; INFOs; BINARY2."""

import base64
import io
import re

import numpy as np

from ..exceptions import CatalogError
from ._base import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["VOTableCatalog"]


@register_format("votable")
class VOTableCatalog(CatalogFormat):
    """VOTable 1.4 (BINARY2 serialisation): unit, UCD, description per FIELD, ICRS COOSYS, INFOs.

    BINARY2 marks nulls of every datatype in a bitmap, so masked booleans,
    strings and numbers are exact, and no TABLEDATA text (``+InF``, empty
    ``<TD/>``) is left to the reader's interpretation.
    """

    rank = 2
    output_patterns = ("{basename}.vot",)

    def write(self, table, paths, metadata):
        from astropy.io import votable
        from astropy.io.votable.tree import CooSys, Info

        vot = votable.from_table(table[:0])  # the header only: the rows are encoded below, vectorised
        vot.version = "1.4"
        resource = vot.resources[0]
        resource.coordinate_systems.append(CooSys(ID="icrs", system="ICRS"))
        element = vot.get_first_table()
        element.name = metadata.name
        element.ID = _xml_id(metadata.name)  # else astropy makes one from the name, invalid for '1cat', 'a b'
        element.description = " ".join(t for t in (metadata.title + ".", metadata.description) if t)
        for field in element.fields:
            if field.datatype == "bit":  # astropy's choice for numpy bool; VOTable's logical is boolean
                field.datatype, field.arraysize = "boolean", None
            if field.datatype == "unicodeChar":  # the catalogue's text is ASCII (check_catalog)
                field.datatype = "char"
            if table[field.name].info.meta.get("ucd", "").startswith(("pos.eq.ra", "pos.eq.dec")):
                field.ref = "icrs"
        infos = [("title", metadata.title), ("creator", metadata.creator), ("date", metadata.written)]
        if metadata.bibcode:
            infos.append(("bibcode", metadata.bibcode))
        infos += [(f"provenance_{k}", v) for k, v in metadata.provenance.items()]
        for name, value in infos:
            vot.infos.append(Info(ID=name, name=name, value=str(value)))
        for i, reference in enumerate(metadata.references, start=1):
            vot.infos.append(Info(ID=f"reference_{i}", name="reference", value=reference))
        header = io.BytesIO()
        vot.to_xml(header)
        head, tail = header.getvalue().decode("utf-8").rsplit("</TABLE>", 1)
        with open(paths[0], "wb") as out:
            out.write(head.encode("utf-8"))
            out.write(b'<DATA><BINARY2><STREAM encoding="base64">\n')
            for chunk in _binary2_chunks(table, element.fields):
                out.write(base64.encodebytes(chunk))
            out.write(b"</STREAM></BINARY2></DATA>\n  </TABLE>")
            out.write(tail.encode("utf-8"))

    def verify(self, table, paths):
        from astropy.io import votable
        from astropy.io.votable.exceptions import VOWarning

        try:  # one parse: every warning of the VOTable standard is an error here
            reread = votable.parse_single_table(str(paths[0]), verify="exception").to_table()
        except (VOWarning, ValueError) as err:
            raise CatalogError(f"the VOTable does not validate: {err}") from None
        compare_tables(table, reread, "VOTable", paths[0])


#: Big-endian NumPy type of each VOTable datatype in BINARY2 (char: one byte a character).
_BINARY2_TYPES = {"long": ">i8", "int": ">i4", "short": ">i2", "unsignedByte": "u1", "float": ">f4",
                  "double": ">f8", "boolean": "S1"}

#: Rows encoded at a time: a multiple of 3, so that the base64 of the chunks joins into one stream.
_ROWS = 3 * 8192


def _binary2_chunks(table, fields):
    """The BINARY2 bytes of the rows, `_ROWS` at a time: a null bitmap (the first field in the high bit of
    the first byte) and each field big-endian, every column converted at once."""
    n_mask = (len(fields) + 7) // 8
    kinds = [("nulls", "u1", (n_mask,))]
    for k, field in enumerate(fields):
        kind = f"S{int(field.arraysize)}" if field.datatype == "char" else _BINARY2_TYPES[field.datatype]
        kinds.append((f"f{k}", kind))
    record = np.dtype(kinds)
    for start in range(0, len(table), _ROWS):
        rows = table[start:start + _ROWS]
        out = np.zeros(len(rows), dtype=record)
        for k, field in enumerate(fields):
            column = rows[field.name]
            null = np.ma.getmaskarray(column).copy()
            values = np.ma.getdata(column)
            if field.datatype == "boolean":
                out[f"f{k}"] = np.where(values.astype(bool), b"T", b"F")
            elif field.datatype == "char":
                out[f"f{k}"] = np.char.encode(np.asarray(values).astype(str), "ascii")
            else:
                if values.dtype.kind == "f":
                    null |= ~np.isfinite(values)
                out[f"f{k}"] = values
            if null.any():
                out["nulls"][null, k // 8] |= np.uint8(0x80 >> (k % 8))
                if field.datatype in ("float", "double"):
                    out[f"f{k}"][null] = np.nan
                elif field.datatype == "boolean":
                    out[f"f{k}"][null] = b"?"
        yield out.tobytes()


def _xml_id(name):
    """A valid XML ID (letters, digits, ``_.-``, not starting with a digit, ``.`` or ``-``) from ``name``.

    Examples
    --------
    >>> from galzoo_cnn.io.votable import _xml_id
    >>> _xml_id("1cat & dog"), _xml_id("galzoo_catalogue")
    ('t_1cat_dog', 'galzoo_catalogue')
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    return safe if re.match(r"[A-Za-z_]", safe) else f"t_{safe}"
