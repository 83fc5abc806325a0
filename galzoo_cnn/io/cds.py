# Licensed under a 3-clause BSD style license - see LICENSE
"""The CDS catalogue for VizieR: a ReadMe and a fixed-width data file, made with cdspyreadme.

The ReadMe follows the CDS standard (https://cds.unistra.fr/doc/catstd.htx):
a first line ``J/xxx/yyy  Title  (Author+, year)`` within 80 characters,
CDS labels (`galzoo_cnn.columns.cds_label`), ``[min/max]`` ranges, a Note
for every coded column (`galzoo_cnn.columns.column_notes`), References with
bibcodes, and the closing ``(End)`` line; every line fits in 80 characters.
"""

import decimal
import io
import itertools
import re
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from astropy.table import MaskedColumn, Table

from ..columns import cds_label, column_notes
from ..exceptions import CatalogError
from ._base import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["CDSCatalog", "CDSField", "cds_field", "float64_tolerance", "readme_header"]

_WIDTH = 80

_TEMPLATE = """$header
================================================================================
$title
    $authors
$bibcode================================================================================
ADC_Keywords: $adc_keywords
Keywords: $keywords

Abstract:
  $abstract

Description:
  $description

File Summary:
--------------------------------------------------------------------------------
$tablesIndex
--------------------------------------------------------------------------------

$bytebybyte
$seealso_section$acknowledgements_section
References:
$references
================================================================================
$closing
"""


def readme_header(catalogue, title, first_author, n_authors, year):
    """The first line of a CDS ReadMe, at most 80 characters: designation, title, (Author+, year).

    Parameters
    ----------
    catalogue : str
        CDS designation of the catalogue.
    title : str
        Title of the catalogue.
    first_author : str
        Surname of the first author.
    n_authors : int
        Number of authors.
    year : str or int
        Year of the catalogue.

    Examples
    --------
    >>> from galzoo_cnn.io.cds import readme_header
    >>> line = readme_header("J/MNRAS/999/1", "Morphology of 316 031 SDSS galaxies from CNNs",
    ...                      "Khramtsov V.", 5, "2022")
    >>> line
    'J/MNRAS/999/1  Morphology of 316 031 SDSS galaxies from CNNs  (Khramtsov+, 2022)'
    >>> len(readme_header("", "A very long title " * 8, "Doe J.", 1, "2026")) <= 80
    True
    """
    surname = (first_author or "Anonymous").split()[0].rstrip(",")
    tail = f"({surname}{'+' if n_authors > 1 else ''}, {year})"
    lead = f"{catalogue}  " if catalogue else ""
    room = _WIDTH - len(lead) - len(tail) - 2
    short = title if len(title) <= room else title[: max(room - 3, 0)].rstrip() + "..."
    return f"{lead}{short}".ljust(_WIDTH - len(tail)) + tail


@register_format("cds")
class CDSCatalog(CatalogFormat):
    """CDS ReadMe and fixed-width data file for a VizieR submission (cdspyreadme)."""

    rank = 3
    output_patterns = ("{basename}_cds/ReadMe", "{basename}_cds/{name}.dat")

    def write(self, table, paths, metadata):
        from cdspyreadme import CDSTablesMaker

        readme_path, data_path = map(Path, paths)
        cds = _cds_table(table)
        fields = {name: cds_field(cds[name]) for name in cds.colnames}
        with tempfile.TemporaryDirectory(dir=readme_path.parent) as folder:
            workdir = Path(folder)
            maker = CDSTablesMaker(outfolder=str(workdir))
            data_name = f"{metadata.name}.dat"  # the final name, which the ReadMe lists
            # cdspyreadme reads each column cell by cell (its integer ranges through Python's min and max):
            # it is given only the rows that hold each column's extremes and nulls, which decide what it
            # writes, and told the true number of records
            cds_table = maker.addTable(cds[_telling_rows(cds)], name=data_name, description=metadata.title)
            cds_table.nlines = len(cds)
            cds_table.init_meta_columns()
            for name in cds.colnames:
                column = cds_table.get_column(name)
                column.set_format(fields[name].fortran)  # every width ours: the data file is written below
                with np.errstate(all="ignore"):  # its ranges take abs() of int64's minimum, which overflows
                    column.parse()
                # limits and the null flag are in our description, in the CDS order ("[0/1]? text")
                column.min = column.max = None
                column.hasNull = False
                column.description = cds[name].info.description
                column.name = cds[name].meta["label"]
                note = column_notes(cds[name].meta["source"], table=table)
                if note:
                    column.note = _wrap_note(note)
            template = workdir / "ReadMe.template"
            template.write_text(_TEMPLATE)
            maker.setReadmeTemplate(str(template), _template_values(metadata))
            maker.title = metadata.title
            maker.abstract = metadata.abstract or metadata.title
            maker.more_description = _description(metadata)
            maker.keywords = metadata.keywords
            maker.authors = ", ".join(metadata.authors) or "Anonymous"
            maker.author = (metadata.authors or ["Anonymous"])[0]
            for catalogue, title in metadata.see_also:
                maker.putRef(catalogue, title)
            text = io.StringIO()
            with np.errstate(all="ignore"):
                maker.makeReadMe(out=text)
            readme_path.write_text(_tidy(text.getvalue()))
        _write_data(data_path, [fields[name] for name in cds.colnames], len(cds))

    def verify(self, table, paths):
        readme_path, data_path = map(Path, paths)
        long_lines = [i for i, line in enumerate(readme_path.read_text().splitlines(), start=1)
                      if len(line) > _WIDTH]
        if long_lines:
            raise CatalogError(f"the CDS ReadMe has lines longer than {_WIDTH} characters: "
                               f"{long_lines[:10]}")
        cds = _cds_table(table)
        atol = {name: float64_tolerance(cds[name]) for name in cds.colnames if cds[name].dtype.kind == "f"}
        # astropy's reader holds every cell as a string: the file is read back _CHUNK rows at a time
        # (each chunk under the data file's own name, which the ReadMe lists), so memory stays flat
        with open(data_path) as data, tempfile.TemporaryDirectory(dir=data_path.parent) as folder:
            chunk_path = Path(folder) / data_path.name
            for start in range(0, len(cds), _CHUNK):
                chunk_path.write_text("".join(itertools.islice(data, _CHUNK)))
                reread = Table.read(chunk_path, format="ascii.cds", readme=str(readme_path))
                reread.rename_columns(reread.colnames, cds.colnames)
                for name in atol:  # a float32 column is read as float64: compare in its own type
                    if reread[name].dtype.kind == "f":
                        reread[name] = reread[name].astype(cds[name].dtype)
                compare_tables(cds[start:start + _CHUNK], reread, "CDS", data_path, atol=atol)


def _cds_table(table):
    """The table as CDS writes it: booleans 0 / 1, RA in [0, 360), labels in ``meta``.

    Columns CDS writes as they are share their data with ``table`` (a 316 000-row catalogue is not
    copied); the others are new columns: nothing of ``table`` changes."""
    cds = Table(table, copy=False)
    for name in cds.colnames:
        column = cds[name]
        description = column.info.description or ""
        if column.dtype.kind == "b":  # no logical type: 0 / 1 (int32: cdspyreadme's null is -999999)
            column = cds[name] = MaskedColumn(np.asarray(column, dtype=np.int32),
                                              mask=np.ma.getmaskarray(column),
                                              description=f"{description} (1 true, 0 false)")
        elif column.dtype.kind == "f" and column.info.meta.get("ucd", "").startswith("pos.eq.ra"):
            values = np.asarray(column, dtype=float)  # 359.9999999 would print as 360.000000
            wrapped = np.round(values, 6) >= 360
            if wrapped.any():  # a new column: the caller's stays as it was
                cds[name] = column.__class__(np.where(wrapped, 0.0, values).astype(column.dtype),
                                             unit=column.unit, description=description,
                                             meta=dict(column.info.meta or {}),
                                             **({"mask": np.ma.getmaskarray(column)}
                                                if isinstance(column, MaskedColumn) else {}))
        column = cds[name]  # the table holds a copy of a replaced column
        label = cds_label(name)
        if label != name and not _is_vote_column(name, label):  # vote columns: see their Note
            column.info.description = f"{column.info.description} ({name})"
        limits = "[0/1]" if table[name].dtype.kind == "b" else _range(column)
        null = bool(np.ma.getmaskarray(column).any()
                    or (column.dtype.kind == "f" and not np.isfinite(np.ma.filled(column, 0.0)).all()))
        # the CDS syntax: limits, then "?" where the column has nulls, then the explanation
        column.info.description = f"{limits}{'?' if null else ''} {column.info.description}".lstrip()
        column.info.meta = {"label": label, "source": name}
    return cds


def _is_vote_column(name, label):
    return label.startswith("t") and label[1:3].isdigit() and name.startswith(label[:3] + "_")


def _range(column):
    """``[min/max]`` of a numeric column (floats widened to two decimals, or two significant digits below
    0.1; one value: ``[value]``)."""
    if column.dtype.kind not in "fiu":
        return ""
    values = np.ma.compressed(np.ma.masked_invalid(np.ma.asarray(column, dtype=float)))
    if not values.size:
        return ""
    low, high = values.min(), values.max()
    if column.dtype.kind in "iu":
        if max(abs(low), abs(high)) >= 1e9:  # identifiers: a range says nothing
            return ""
        low, high = f"{int(low)}", f"{int(high)}"
    else:
        low, high = _widened(low, np.floor), _widened(high, np.ceil)
    return f"[{low}]" if low == high else f"[{low}/{high}]"


def _widened(value, rounding):
    """``value`` rounded outwards to two decimals, or to two significant digits below 0.1 (redshifts of
    0.02 to 0.07 are ``[0.02/0.07]``, not ``[0.02/0.08]``; errors of 1e-4 are not ``[0/0.01]``); beyond
    1e15 two decimals mean nothing (and ``value * 100`` can overflow), so the value is written exactly.

    Examples
    --------
    >>> from numpy import ceil, floor
    >>> from galzoo_cnn.io.cds import _widened
    >>> _widened(0.0723, ceil), _widened(0.00012, floor), _widened(0.731, ceil), _widened(0.0, floor)
    ('0.073', '0.00012', '0.74', '0')
    """
    if abs(value) >= 1e15:
        return repr(float(value))
    decimals = 2 if abs(value) >= 0.1 or value == 0 else 1 - int(np.floor(np.log10(abs(value))))
    # on the shortest decimal that reads back as the value (0.07, where value * 100 is 7.000000000000001)
    mode = decimal.ROUND_CEILING if rounding is np.ceil else decimal.ROUND_FLOOR
    rounded = float(decimal.Decimal(repr(float(value))).quantize(decimal.Decimal(1).scaleb(-decimals), mode))
    text = f"{rounded:g}"
    return text if float(text) == rounded else repr(rounded)  # %g keeps six digits: never lose any


#: Rows formatted at a time: memory stays flat whatever the length of the table.
_CHUNK = 4_000

#: Most decimals of an F format; values that need more (a probability of 1e-13) make the column E.
_MAX_DECIMALS = 12




class CDSField:
    """One column of the CDS data file: its Fortran format and its fixed-width cells.

    Every float32 value is written so that it reads back exactly as the same
    float32, float64 values to 15 significant digits (`float64_tolerance`):
    a float column takes the fewest decimals (F) or significant digits (E)
    with which all its values survive the round trip, F where that fits in
    `_MAX_DECIMALS` decimals; nulls (masked, NaN) are blank.

    Attributes
    ----------
    fortran : str
        The format of the ReadMe's byte-by-byte description (``F12.9``, ``E15.8``, ``I5``, ``A12``).
    width : int
        Characters of every cell.
    """

    def __init__(self, values, mask, fortran, template):
        self.values, self.mask = values, mask
        self.fortran, self.template = fortran, template
        self.width = int(re.match(r"[A-Z](\d+)", fortran).group(1))

    def cells(self, start, stop):
        """The cells of rows ``start:stop``: strings of exactly `width` characters."""
        blank = " " * self.width
        template = self.template
        return [blank if null else template % value
                for value, null in zip(self.values[start:stop].tolist(), self.mask[start:stop].tolist())]


def cds_field(column):
    """The `CDSField` of a prepared column (integers, floats, text; booleans already 0 / 1).

    Parameters
    ----------
    column : `~astropy.table.Column` or `~astropy.table.MaskedColumn`
        A column as `~galzoo_cnn.catalog.check_catalog` prepares it.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.table import MaskedColumn
    >>> from galzoo_cnn.io.cds import cds_field
    >>> probabilities = MaskedColumn(np.array([1e-5, 0.5, 0.99999], np.float32), mask=[0, 0, 1])
    >>> field = cds_field(probabilities)
    >>> field.fortran, field.cells(0, 3)
    ('F7.5', ['0.00001', '0.50000', '       '])
    >>> cds_field(MaskedColumn(np.array([1.2e-9, 0.25], np.float32))).fortran   # still exact in F
    'F12.10'
    >>> cds_field(MaskedColumn(np.array([1.5e-20, 3e-19]))).cells(0, 2)          # beyond 15 decimals: E
    ['1.5E-20', '3.0E-19']
    >>> cds_field(MaskedColumn(np.array([0.05, 0.0712]))).cells(0, 2)            # float64 redshifts: F
    ['0.0500', '0.0712']
    """
    mask = np.ma.getmaskarray(column)
    values = np.ma.getdata(column)
    kind = values.dtype.kind
    if kind in "iu":
        present = values[~mask]
        width = max(len(str(present.min())), len(str(present.max()))) if present.size else 1
        return CDSField(values, mask, f"I{width}", f"%{width}d")  # tolist() gives Python ints: no copy
    if kind == "f":
        return _float_field(values, mask | ~np.isfinite(values))
    text = np.asarray(values).astype(str)
    width = max(1, int(np.char.str_len(text[~mask]).max(initial=1)))
    return CDSField(text, mask, f"A{width}", f"%-{width}s")


def _round_trips(values, template):
    """Rows of ``values`` (a float dtype) that ``template % value`` does not give back exactly."""
    text = [template % value for value in values.tolist()]
    with np.errstate(over="ignore"):  # 3.4025e38 rounded up to 3.403E+38 leaves float32: inf, no match
        return np.flatnonzero(np.array(text, dtype=np.float64).astype(values.dtype) != values)


def _fewest(values, templates):
    """The first of ``templates`` with which every value round-trips (None if none): chosen on a sample,
    then checked on every value, the failures deciding the next try."""
    rng = np.random.default_rng(0)
    probe = values if values.size <= 4096 else np.concatenate(
        [rng.choice(values, 4096, replace=False), values[[values.argmin(), values.argmax()]]])
    start = 0
    while True:
        chosen = next((k for k in range(start, len(templates)) if not _round_trips(probe, templates[k]).size),
                      None)
        if chosen is None:
            return None
        failed = _round_trips(values, templates[chosen])
        if not failed.size:
            return chosen
        probe, start = values[failed], chosen + 1


def _float_field(values, null):
    finite = values[~null]
    if not finite.size:
        return CDSField(values, null, "F3.1", "%3.1f")
    if values.dtype.itemsize > 4:
        return _float64_field(values, null, finite)
    decimals = _fewest(finite, [f"%.{d}f" for d in range(1, _MAX_DECIMALS + 1)])
    if decimals is not None:
        decimals += 1
        width = max(len(f"%.{decimals}f" % v) for v in (finite.min(), finite.max()))
        if width <= 20:
            return CDSField(values, null, f"F{width}.{decimals}", f"%{width}.{decimals}f")
    return _e_field(values, null, finite, digits=9)  # 9 significant digits hold any float32


def _float64_field(values, null, finite):
    """float64: 15 significant digits of the column's largest value (`float64_tolerance`), in as few
    decimals as the values need; E notation (15 significant digits each) when they need more than
    `_MAX_DECIMALS` + 3 or the numbers are huge."""
    decimals = 14 - _exponent(finite)
    if decimals >= 0:
        # the decimals the values need, not those 15 digits of the largest could take: redshifts of
        # 0.05 and 0.07 are F4.2, however small they are
        rounded = np.round(np.where(null, 0.0, values), decimals)
        candidates = list(range(1, max(decimals, 1) + 1))  # a decimal point always: 10.0, not 10
        fewest = candidates[_fewest(rounded[~null], [f"%.{d}f" for d in candidates])]
        if fewest <= _MAX_DECIMALS + 3:
            width = max(len(f"%.{fewest}f" % v) for v in (rounded[~null].min(), rounded[~null].max()))
            return CDSField(rounded, null, f"F{width}.{fewest}", f"%{width}.{fewest}f")
    return _e_field(values, null, np.array([float(f"{v:.15g}") for v in finite.tolist()]), digits=15)


def _exponent(values):
    top = float(np.abs(values).max())
    return int(np.floor(np.log10(top))) if top > 0 else 0


def float64_tolerance(column):
    """How far a float64 column's CDS values may lie from the FITS ones: a unit in the 15th
    significant digit of its largest value (0 for other columns).

    Parameters
    ----------
    column : array-like
        The column's values (masked or NaN entries ignored).

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.io.cds import float64_tolerance
    >>> float64_tolerance(np.array([179.04298400878906, -2.0]))
    1e-12
    """
    values = np.ma.compressed(np.ma.masked_invalid(np.ma.asarray(column)))
    if values.dtype.kind != "f" or values.dtype.itemsize <= 4 or not values.size:
        return 0.0
    return float(10.0 ** (_exponent(values) - 14))


def _e_field(values, null, finite, digits):
    significant = _fewest(finite, [f"%.{p - 1}E" for p in range(1, digits + 1)]) + 1
    if values.dtype.itemsize > 4:
        values = np.where(null, 0.0, values)
        values[~null] = finite
    extremes = (finite.min(), finite.max(), finite[np.abs(finite).argmin()], finite[np.abs(finite).argmax()])
    width = max(len(f"%.{significant - 1}E" % v) for v in extremes)
    return CDSField(values, null, f"E{width}.{significant - 1}", f"%{width}.{significant - 1}E")


def _telling_rows(table):
    """Indices of the rows holding each column's smallest and largest value and its first null."""
    rows = {0}
    for name in table.colnames:
        column = table[name]
        mask = np.ma.getmaskarray(column)
        if mask.any():
            rows.add(int(np.argmax(mask)))
        if column.dtype.kind in "iuf" and not mask.all():
            values = np.ma.masked_invalid(np.ma.asarray(column, dtype=float))
            rows.update((int(values.argmin()), int(values.argmax())))
    return sorted(rows)


def _write_data(path, fields, n_rows):
    """The fixed-width data file: the fields' cells, one blank between columns, `_CHUNK` rows at a time."""
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for start in range(0, n_rows, _CHUNK):
            stop = min(start + _CHUNK, n_rows)
            columns = [field.cells(start, stop) for field in fields]
            out.write("\n".join(" ".join(row) for row in zip(*columns)))
            out.write("\n")


def _tidy(readme):
    """One separator line where cdspyreadme's notes and its template each end with one."""
    return re.sub(r"(-{80}\n)\n*-{80}\n", r"\1", readme)


def _wrap_note(text):
    return "\n    ".join(textwrap.wrap(text, width=_WIDTH - 8))


def _description(metadata):
    """The data's description, then the provenance the FITS keywords and VOTable INFOs carry (but the
    software and the date, which the ReadMe gives in its own lines)."""
    # not the abstract again: what the file holds
    text = metadata.description or (f"One row a galaxy, {len(metadata.columns)} columns (byte-by-byte "
                                    f"description below).")
    shown = {k: v for k, v in metadata.provenance.items() if k not in ("software", "date")}
    if shown:
        text += " Provenance: " + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items()) + "."
    if any(_is_vote_column(n, cds_label(n)) for n in metadata.columns):
        text += (" Galaxy Zoo 2 vote columns are labelled tNNaMM (task NN, answer MM) followed by "
                 "N (votes), W (weighted votes), f (fraction), wf (weighted fraction), d (debiased "
                 "fraction) or fl (flag), after the columns tNN_<task>_aMM_<answer>_<suffix> of "
                 "Willett et al. (2013).")
    return text


def _template_values(metadata):
    authors = metadata.authors or ["Anonymous"]
    references = metadata.references or []
    see_also = "".join(f" {c:<18s}: {t}\n" for c, t in metadata.see_also)
    closing_who = authors[0]
    return {
        "header": readme_header(metadata.catalogue, metadata.title, authors[0], len(authors),
                                metadata.date),
        "adc_keywords": " ; ".join(metadata.adc_keywords),
        "bibcode": f"    ={metadata.bibcode}\n" if metadata.bibcode else "",
        "references": "\n".join(textwrap.fill(r, width=_WIDTH, initial_indent="  ",
                                              subsequent_indent="    ") for r in references) or "  (none)",
        "seealso_section": f"See also:\n{see_also}\n" if see_also else "",
        "acknowledgements_section": ("Acknowledgements:\n" + textwrap.fill(
            metadata.acknowledgements, width=_WIDTH, initial_indent="  ", subsequent_indent="  ")
            + "\n") if metadata.acknowledgements else "",
        "closing": f"(End) {closing_who:>30s}   [{metadata.creator}]   {metadata.written[:10]}"[:_WIDTH],
    }
