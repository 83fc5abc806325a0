# Licensed under a 3-clause BSD style license - see LICENSE
"""The VOTable 1.4 catalogue: FIELDs with unit, UCD and DESCRIPTION; COOSYS; INFOs; BINARY2."""

import base64
import io
import re
from pathlib import Path

import numpy as np
from astropy.table import MaskedColumn, Table

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
        """Read the file back in bounded memory (`_ROWS` rows at a time, whatever the table's length).

        astropy parses the header and then the header with the first rows, every
        warning of the VOTable standard an error; the whole stream is then decoded
        against the FIELDs astropy read, and each block compared with the table.
        The first rows are compared twice (astropy's reading and the block
        decoder's), so the decoder is checked against astropy on every file.
        """
        from astropy.io import votable
        from astropy.io.votable.exceptions import VOWarning

        path = Path(paths[0])
        head, tail, stream = _stream_bounds(path)

        def parsed(rows=b""):
            document = io.BytesIO(head + base64.encodebytes(rows) + tail)
            try:
                return votable.parse_single_table(document, verify="exception")
            except (VOWarning, ValueError) as err:
                raise CatalogError(f"the VOTable {str(path)!r} does not validate: {err}") from None

        element = parsed()
        names = element.to_table().colnames
        record = _binary2_record(element.fields)
        start = 0
        for block in _stream_blocks(path, stream, record):
            if start == 0:
                sample = min(len(block), _SAMPLE_ROWS)
                compare_tables(table[:sample], parsed(block[:sample].tobytes()).to_table(), "VOTable", path)
            compare_tables(table[start:start + len(block)], _decoded(block, element.fields, names),
                           "VOTable", path)
            start += len(block)
        if start != len(table):
            raise CatalogError(f"VOTable file {str(path)!r} holds {start} rows, not {len(table)}")


#: Big-endian NumPy type of each VOTable datatype in BINARY2 (char: one byte a character).
_BINARY2_TYPES = {"long": ">i8", "int": ">i4", "short": ">i2", "unsignedByte": "u1", "float": ">f4",
                  "double": ">f8", "boolean": "S1"}

#: Rows encoded (and read back) at a time: a multiple of 3, so that the base64 of the chunks joins into
#: one stream.
_ROWS = 3 * 8192

#: Rows that astropy's parser reads back beside the block decoder.
_SAMPLE_ROWS = 2048

_STREAM_OPEN = b'<STREAM encoding="base64">'
_STREAM_CLOSE = b"</STREAM>"


def _binary2_record(fields):
    """The NumPy record of one BINARY2 row: the null bitmap, then each field big-endian."""
    kinds = [("nulls", "u1", ((len(fields) + 7) // 8,))]
    for k, field in enumerate(fields):
        if field.datatype == "char":
            kind = f"S{int(field.arraysize)}"
        elif field.datatype in _BINARY2_TYPES and not field.arraysize:
            kind = _BINARY2_TYPES[field.datatype]
        else:
            raise CatalogError(f"VOTable field {field.name!r} ({field.datatype}, arraysize "
                               f"{field.arraysize}) is not one this package writes")
        kinds.append((f"f{k}", kind))
    return np.dtype(kinds)


def _binary2_chunks(table, fields):
    """The BINARY2 bytes of the rows, `_ROWS` at a time: a null bitmap (the first field in the high bit of
    the first byte) and each field big-endian, every column converted at once."""
    record = _binary2_record(fields)
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


def _stream_bounds(path, block=1 << 20):
    """The bytes before the rows (up to the STREAM tag), those after them, and the rows' byte range."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        head = b""
        while _STREAM_OPEN not in head and len(head) < size:
            head += file.read(block)
        file.seek(max(0, size - block))
        end = file.read()
    opening, closing = head.find(_STREAM_OPEN), end.rfind(_STREAM_CLOSE)
    if opening < 0 or closing < 0:
        raise CatalogError(f"VOTable file {str(path)!r} has no base64 BINARY2 stream")
    head = head[:opening + len(_STREAM_OPEN)] + b"\n"
    tail = end[closing:]
    return head, tail, (opening + len(_STREAM_OPEN), size - len(tail))


def _stream_blocks(path, stream, record, rows=_ROWS):
    """The rows of the base64 stream in ``stream`` (a byte range of ``path``), as arrays of ``record`` of
    at most ``rows`` rows each (the file is read ``rows`` rows' worth of base64 text at a time)."""
    whitespace = b" \t\r\n"
    text_size = 4 * ((rows * record.itemsize + 2) // 3)
    pending_text, pending_bytes = b"", b""
    with open(path, "rb") as file:
        file.seek(stream[0])
        left = stream[1] - stream[0]
        while left > 0 or pending_text:
            chunk = file.read(min(text_size, left))
            left -= len(chunk)
            pending_text += chunk.translate(None, whitespace)
            usable = len(pending_text) if left <= 0 else len(pending_text) - len(pending_text) % 4
            try:
                pending_bytes += base64.b64decode(pending_text[:usable], validate=True)
            except ValueError as err:
                raise CatalogError(f"VOTable file {str(path)!r}: the BINARY2 stream is not base64 ({err})") \
                    from None
            pending_text = pending_text[usable:]
            whole = len(pending_bytes) - len(pending_bytes) % record.itemsize
            if whole:
                yield np.frombuffer(pending_bytes[:whole], dtype=record)
                pending_bytes = pending_bytes[whole:]
    if pending_bytes:
        raise CatalogError(f"VOTable file {str(path)!r}: the BINARY2 stream ends inside a row")


def _decoded(block, fields, names):
    """The rows of a BINARY2 ``block`` as a table: a null where the bitmap says so, or a float is NaN,
    or a boolean is ``?``."""
    columns = []
    for k, (field, name) in enumerate(zip(fields, names)):
        values = block[f"f{k}"]
        null = (block["nulls"][:, k // 8] & np.uint8(0x80 >> (k % 8))) != 0
        if field.datatype == "boolean":
            null |= values == b"?"
            values = values == b"T"
        elif field.datatype == "char":
            try:
                values = np.char.decode(values, "ascii")
            except UnicodeDecodeError:
                raise CatalogError(f"VOTable field {name!r} holds non-ASCII bytes where ASCII was written") \
                    from None
        else:
            values = values.astype(values.dtype.newbyteorder("="))
            if values.dtype.kind == "f":
                null |= np.isnan(values)
        columns.append(MaskedColumn(values, mask=null, name=name))
    return Table(columns, copy=False)


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
