# Licensed under a 3-clause BSD style license - see LICENSE
"""The CDS catalogue for VizieR: a ReadMe and a fixed-width data file, made with cdspyreadme.

The ReadMe follows the CDS standard (https://cds.unistra.fr/doc/catstd.htx):
a first line ``J/xxx/yyy  Title  (Author+, year)`` within 80 characters,
CDS labels (`galzoo_cnn.columns.cds_label`), ``[min/max]`` ranges, a Note
for every coded column (`galzoo_cnn.columns.column_notes`), References with
bibcodes, and the closing ``(End)`` line; every line fits in 80 characters.
"""

import io
import re
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from astropy.table import MaskedColumn, Table

from ..columns import cds_label, column_notes
from ..exceptions import CatalogError
from . import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["CDSCatalog", "readme_header"]

_WIDTH = 80

_TEMPLATE = """$header
================================================================================
$title
    $authors
$bibcode================================================================================
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
        cds, _ = _cds_table(table)
        with tempfile.TemporaryDirectory(dir=readme_path.parent) as folder:
            workdir = Path(folder)
            maker = CDSTablesMaker(outfolder=str(workdir))
            data_name = f"{metadata.name}.dat"  # the final name, which the ReadMe lists
            cds_table = maker.addTable(cds, name=data_name, description=metadata.title)
            for name in cds.colnames:
                column = cds_table.get_column(name)
                fortran = cds[name].meta.get("fortran")
                if fortran:
                    column.set_format(fortran)
                column.name = cds[name].meta["label"]
                note = column_notes(cds[name].meta["source"], table)
                if note:
                    column.note = _wrap_note(note)
            maker.writeCDSTables()
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
            maker.makeReadMe(out=text)
            readme_path.write_text(_tidy(text.getvalue()))
            (workdir / data_name).replace(data_path)

    def verify(self, table, paths):
        readme_path, data_path = map(Path, paths)
        long_lines = [i for i, line in enumerate(readme_path.read_text().splitlines(), start=1)
                      if len(line) > _WIDTH]
        if long_lines:
            raise CatalogError(f"the CDS ReadMe has lines longer than {_WIDTH} characters: "
                               f"{long_lines[:10]}")
        cds, tolerance = _cds_table(table)
        reread = Table.read(data_path, format="ascii.cds", readme=str(readme_path))
        reread.rename_columns(reread.colnames, cds.colnames)
        compare_tables(cds, reread, "CDS", data_path, atol=tolerance)


def _cds_table(table):
    """The table as CDS writes it: booleans 0 / 1, RA in [0, 360), labels and formats in ``meta``."""
    cds = Table(table, copy=True)
    tolerance = {}
    for name in cds.colnames:
        column = cds[name]
        description = column.info.description or ""
        if column.dtype.kind == "b":  # no logical type: 0 / 1 (int32: cdspyreadme's null is -999999)
            column = cds[name] = MaskedColumn(np.asarray(column, dtype=np.int32),
                                              mask=np.ma.getmaskarray(column),
                                              description=f"[0/1] {description} (1 true, 0 false)")
        elif column.dtype.kind == "f" and column.info.meta.get("ucd", "").startswith("pos.eq.ra"):
            values = np.asarray(column, dtype=float)  # 359.9999999 would print as 360.000000
            column[:] = np.where(np.round(values, 6) >= 360, 0.0, values)
        column = cds[name]  # the table holds a copy of a replaced column
        label = cds_label(name)
        if label != name and not _is_vote_column(name, label):  # vote columns: see their Note
            column.info.description = f"{column.info.description} ({name})"
        column.info.description = _range(column) + column.info.description
        fortran, tolerance[name] = _fortran_format(column)
        column.info.meta = {"label": label, "source": name, "fortran": fortran}
    return cds, tolerance


def _is_vote_column(name, label):
    return label.startswith("t") and label[1:3].isdigit() and name.startswith(label[:3] + "_")


def _range(column):
    """``[min/max] `` where cdspyreadme leaves it out (formats we set, and a bound of 0)."""
    if column.dtype.kind not in "fiu" or (column.info.description or "").startswith("["):
        return ""
    values = np.ma.compressed(np.ma.masked_invalid(np.ma.asarray(column, dtype=float)))
    if not values.size:
        return ""
    low, high = values.min(), values.max()
    if column.dtype.kind in "iu":
        # cdspyreadme writes integer ranges itself unless a bound is 0 (or they are huge)
        return f"[{int(low)}/{int(high)}] " if (low == 0 or high == 0) and abs(high) < 1e9 else ""
    return f"[{np.floor(low * 100) / 100:g}/{np.ceil(high * 100) / 100:g}] "


def _fortran_format(column):
    """CDS Fortran format of a float column with a registry format, and its rounding tolerance."""
    fmt = column.info.format
    if column.dtype.kind != "f" or not fmt or not fmt.lstrip(".").rstrip("f").isdigit():
        return None, 0.0
    decimals = int(fmt.lstrip(".").rstrip("f"))
    values = np.ma.compressed(np.ma.masked_invalid(np.ma.asarray(column, dtype=float)))
    width = max([len(f"{v:.{decimals}f}") for v in (values.min(), values.max())] if values.size else [1])
    return f"F{max(width, decimals + 2)}.{decimals}", 0.5001 * 10.0 ** -decimals


def _tidy(readme):
    """One separator line where cdspyreadme's notes and its template each end with one."""
    return re.sub(r"(-{80}\n)\n*-{80}\n", r"\1", readme)


def _wrap_note(text):
    return "\n    ".join(textwrap.wrap(text, width=_WIDTH - 8))


def _description(metadata):
    """The data's description, then the provenance the FITS keywords and VOTable INFOs carry (but the
    software and the date, which the ReadMe gives in its own lines)."""
    text = metadata.description or metadata.abstract or metadata.title
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
        "bibcode": f"    ={metadata.bibcode}\n" if metadata.bibcode else "",
        "references": "\n".join(textwrap.fill(r, width=_WIDTH, initial_indent="  ",
                                              subsequent_indent="    ") for r in references) or "  (none)",
        "seealso_section": f"See also:\n{see_also}\n" if see_also else "",
        "acknowledgements_section": ("Acknowledgements:\n" + textwrap.fill(
            metadata.acknowledgements, width=_WIDTH, initial_indent="  ", subsequent_indent="  ")
            + "\n") if metadata.acknowledgements else "",
        "closing": f"(End) {closing_who:>30s}   [{metadata.creator}]   {metadata.written[:10]}"[:_WIDTH],
    }
