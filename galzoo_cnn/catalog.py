# Licensed under a 3-clause BSD style license - see LICENSE
"""
Catalogues: `write_catalog` writes any table as VizieR-ready FITS, VOTable and CDS files.

The column metadata comes from `galzoo_cnn.columns` and the writers from the
format registry of `galzoo_cnn.io` (`~galzoo_cnn.io.catalog_formats`):

* **FITS**: a binary table with ``TUNITn``, ``TCOMMn`` (description) and
  ``TUCDn`` cards, title, provenance and references as keywords (long values
  on ``CONTINUE`` cards, ``LONGSTRN``), ``DATE`` / ``CREATOR``, checksums;
* **VOTable 1.4** (BINARY2): ``unit``, ``ucd`` and ``DESCRIPTION`` on every
  ``FIELD``, the TABLE's name and description, an ICRS ``COOSYS`` referenced
  by the coordinates, ``INFO`` elements for the provenance and references;
* **CDS**: a ``ReadMe`` and a fixed-width data file (cdspyreadme) ready for
  a VizieR submission.

`check_catalog` prepares the table and says, before any long computation,
everything that would stop the writers: coordinates, undescribed columns,
non-ASCII text, multidimensional or object columns, names too long, integer
types no format holds.  Nulls are uniform: masked values, NaN and +-inf in
floats and empty strings are all written as nulls in every format.

All or nothing: every format is written to temporary files, each is read
back and checked, and only then are they swapped in together, with a
journal that the next run uses to finish or roll back a killed one.  Files
the package did not write are never touched.

Examples
--------
>>> from galzoo_cnn.catalog import column_spec
>>> spec = column_spec("prob_spiral")
>>> spec.ucd, spec.description
('stat.probability', 'Probability that the galaxy is a disk galaxy with spiral arms, not edge-on')
"""

import os
import re
import tempfile
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Column, MaskedColumn, QTable, Table
from astropy.time import Time

from . import taxonomy
from .columns import (
    PROVENANCE_KEY,
    REFERENCES_KEY,
    ColumnSpec,
    catalog_columns,
    cds_label,
    column_spec,
    describe_columns,
)
from .exceptions import CatalogError, InputError
from .io import FORMATS, CatalogMetadata, get_format
from .io._transaction import FileSetTransaction, locked, recover
from .tables import as_table, table_or_folder
from .utils._deprecation import keyword_options
from .utils._values import degrees, is_text

__all__ = ["ColumnSpec", "column_spec", "describe_columns", "catalog_columns", "write_catalog",
           "classify_catalog", "check_catalog", "check_outputs", "recover_catalog", "read_catalog_metadata",
           "CatalogMetadata", "CATALOG_FORMATS",
           "PROVENANCE_KEY", "REFERENCES_KEY", "MAX_LABEL_LENGTH", "CatalogError", "MAX_NAME_LENGTH"]

#: The formats `write_catalog` writes by default: the registered VizieR formats (not ``ecsv``).
CATALOG_FORMATS = tuple(name for name in FORMATS.names() if FORMATS[name].written_by_default)

#: Longest column name every format holds (a FITS TTYPEn value).
MAX_NAME_LENGTH = 68

#: Longest CDS label (the column's name, or its CDS form) the ReadMe's 80-character lines hold beside
#: the byte positions, format and unit of a wide table.
MAX_LABEL_LENGTH = 40


def _with_coordinates(table, ra_column, dec_column):
    """``table`` with finite ICRS right ascensions and declinations in degrees, and the names of those two
    columns; errors name the rows.  Text (sexagesimal or decimal) stays as written, beside new ``ra`` /
    ``dec`` columns in degrees."""
    _unpack_skycoords(table, ra_column, dec_column)
    names = []
    for name, axis, low, high in ((ra_column, "ra", 0, 360), (dec_column, "dec", -90, 90)):
        column = table[name]
        text = is_text(column)
        if not text and getattr(column, "dtype", np.dtype(object)).kind not in "fiu":
            raise CatalogError(f"coordinate column {name!r} holds {column.dtype} values; give degrees, "
                               f"angles or text (sexagesimal or decimal)")
        try:
            values = degrees(column, name, axis=axis)
        except InputError as err:
            raise CatalogError(str(err)) from None
        bad = np.flatnonzero(~np.isfinite(values) | (values < low) | (values > high))
        if bad.size:
            raise CatalogError(f"coordinate column {name!r} has {bad.size} missing, NaN or out-of-range "
                               f"value(s), first at row(s) {bad[:10].tolist()}; a catalogue row needs a "
                               f"position: remove those rows, or classify them with classify_table, which "
                               f"needs none")
        if not text and column.dtype == np.float32:  # float32 degrees: no float64 noise digits
            values = np.array([float(str(v)) for v in np.asarray(column, dtype=np.float32)])
        if axis == "ra":
            values = np.where(values == 360, 0.0, values)  # the same meridian, in the range [0, 360)
        if text and name != axis:  # the text as written stays; the degrees go beside it
            if axis in table.colnames:
                raise CatalogError(f"coordinate column {name!r} holds text, whose degrees would go into a "
                                   f"new column {axis!r}, which the table already has: pass {axis}_column="
                                   f"{axis!r}, or rename it")
            table.add_column(Column(values, unit=u.deg), name=axis, index=table.colnames.index(name))
            name = axis
        else:
            table[name] = values
            table[name].unit = u.deg
        names.append(name)
    return table, names


def _unpack_skycoords(table, ra_column, dec_column):
    """The table's `SkyCoord` columns as ICRS degrees: the first as ``ra_column`` / ``dec_column`` where
    the table has none, the others as ``<name>_ra`` / ``<name>_dec`` (never dropped)."""
    coords = [n for n in table.colnames if isinstance(table[n], SkyCoord)]
    if coords and ra_column not in table.colnames:
        first = coords.pop(0)
        icrs = table[first].icrs
        table[ra_column], table[dec_column] = icrs.ra.deg, icrs.dec.deg
        table.remove_column(first)
    for name in coords:  # other positions become two more columns (ICRS degrees), never dropped
        icrs, where = table[name].icrs, table.colnames.index(name)
        description = table[name].info.description or f"position {name}"
        table.remove_column(name)
        for axis, values, ucd in (("ra", icrs.ra.deg, "pos.eq.ra"), ("dec", icrs.dec.deg, "pos.eq.dec")):
            table.add_column(Column(values, unit=u.deg, description=f"{axis.upper()} (ICRS) of {description}",
                                    meta={"ucd": ucd}), name=f"{name}_{axis}", index=where)
            where += 1
    missing = [c for c in (ra_column, dec_column) if c not in table.colnames]
    if missing:
        raise CatalogError(f"a catalogue needs coordinates: no column {' or '.join(map(repr, missing))} "
                           f"(columns: {', '.join(table.colnames[:15])}); pass ra_column= and "
                           f"dec_column=, or a SkyCoord column; or write an ECSV table, which needs no "
                           f"positions: formats=['ecsv']")


def _has_position(table, ra_column, dec_column):
    return ra_column in table.colnames or dec_column in table.colnames or \
        any(isinstance(table[name], SkyCoord) for name in table.colnames)


@keyword_options
def check_catalog(table, ra_column="ra", dec_column="dec", descriptions=None, require_coordinates=True):
    """The table `write_catalog` would write, or a `CatalogError` saying what stops it.

    Checks, naming the column (and row): coordinates present, numeric, finite
    and in range (a `SkyCoord` column becomes ``ra`` / ``dec``); a non-empty
    table; one value per cell; names of at most `MAX_NAME_LENGTH`
    characters; ASCII text; integer types every format holds (int8 and
    unsigned types are widened; uint64 beyond int64 is refused); and that
    every column is described (`describe_columns`, ``descriptions``).
    Prepares the values: NaN and +-inf in float columns and empty strings
    become nulls (masked), float32 coordinates lose no digits and gain no
    noise.  Call it before a long computation whose result is to become a
    catalogue.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.table.QTable` or path
        The rows.
    ra_column, dec_column : str
        ICRS coordinates (degrees, angle units, or text: decimal degrees or
        sexagesimal, right ascension in hours).
    descriptions : dict, optional
        Descriptions of columns the registry does not know.
    require_coordinates : bool
        Whether a table without coordinate columns is refused (the formats
        written need them: `~galzoo_cnn.io.catalog_formats`); coordinates
        that are there are checked either way.

    Returns
    -------
    `~astropy.table.Table`
        A prepared copy.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import check_catalog
    >>> check_catalog(Table({"ra": [1.0], "dec": [2.0], "mystery": [3]}))
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.CatalogError: no description for column(s) mystery: every catalogue column ...
    >>> t = check_catalog(Table({"ra": [1.0, 2.0], "dec": [2.0, 3.0], "z": [0.1, float("nan")]}))
    >>> t["z"].mask.tolist()
    [False, True]
    """
    table = as_table(table)
    if isinstance(table, QTable):
        table = Table(table)
    if len(table) == 0:
        raise CatalogError("the table is empty: nothing to write")
    located = require_coordinates or _has_position(table, ra_column, dec_column)
    if located:
        table, (ra_column, dec_column) = _with_coordinates(table, ra_column, dec_column)
    folded = {}
    for name in table.colnames:
        _check_name(name)
        if name.lower() in folded:  # FITS and CDS labels are read without regard to case
            raise CatalogError(f"columns {folded[name.lower()]!r} and {name!r} differ only in case, which "
                               f"FITS and CDS readers do not tell apart: rename one")
        folded[name.lower()] = name
        if isinstance(table[name], Time):  # a faithful conversion: the epoch as MJD, in days
            time = table[name]
            table[name] = Column(time.mjd, unit=u.d, meta={"ucd": "time.epoch"},
                                 description=f"{time.info.description or name} (MJD, {time.scale.upper()})")
        column = table[name]
        if getattr(column, "dtype", None) is None:
            raise CatalogError(f"column {name!r} is a {type(column).__name__}, which no catalogue format "
                               f"holds: give its values as numbers or strings")
        if column.dtype.kind == "O":
            raise CatalogError(f"column {name!r} holds Python objects; give it a numeric or string type")
        if column.ndim > 1:
            raise CatalogError(f"column {name!r} is multidimensional {column.shape[1:]}; the "
                               f"catalogue formats need one value per cell")
        table[name] = _prepared_column(column, name)
    table = describe_columns(table, descriptions=descriptions, copy=False)
    for name, spec in ((ra_column, column_spec("ra")), (dec_column, column_spec("dec"))) if located else ():
        table[name].info.meta = dict(table[name].info.meta or {}, ucd=spec.ucd)
        table[name].info.description = table[name].info.description or spec.description
    undescribed = [n for n in table.colnames if not table[n].info.description]
    if undescribed:
        raise CatalogError(f"no description for column(s) {', '.join(undescribed)}: every catalogue "
                           f"column must be explained; pass descriptions={{name: text}} or drop them")
    for name in table.colnames:
        _check_ascii(table[name].info.description, f"the description of column {name!r}")
    labels = {}
    for name in table.colnames:  # two columns may map to one CDS label (ra and RAdeg)
        label = cds_label(name)
        if len(label) > MAX_LABEL_LENGTH:
            raise CatalogError(f"column {name!r} has a CDS label of {len(label)} characters; the ReadMe's "
                               f"80-character lines hold labels of up to {MAX_LABEL_LENGTH}: rename it")
        if label in labels:
            raise CatalogError(f"columns {labels[label]!r} and {name!r} would both be labelled {label!r} in "
                               f"the CDS ReadMe: drop or rename one")
        labels[label] = name
    return table


def _check_name(name):
    if len(name) > MAX_NAME_LENGTH:
        raise CatalogError(f"column name {name!r} has {len(name)} characters; FITS holds at most "
                           f"{MAX_NAME_LENGTH}: rename it")
    _check_ascii(name, "column name")
    if not name.strip() or any(c in name for c in " \t,|"):
        raise CatalogError(f"column name {name!r} is empty or holds blanks, commas or bars: rename it")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        suggestion = re.sub(r"\W+", "_", name).strip("_")
        suggestion = suggestion if suggestion[:1].isalpha() else f"c_{suggestion}"
        raise CatalogError(f"column name {name!r} is not letters, digits and underscores starting with a "
                           f"letter, which is all that FITS, VOTable and CDS names share (VOTable would "
                           f"rename it): rename it, e.g. to {suggestion!r}")


def _check_ascii(text, what, row=None):
    try:
        str(text).encode("ascii")
    except UnicodeEncodeError:
        where = f" (row {row})" if row is not None else ""
        raise CatalogError(f"{what}{where} holds non-ASCII text {str(text)!r}; FITS and CDS files are "
                           f"ASCII: transliterate it") from None


#: Deletes the ASCII control characters (str.translate table).
_CONTROL_CHARACTERS = {code: None for code in [*range(32), 127]}


def _decoded(values, name):
    """A bytes column as text, refusing bytes that are not ASCII (naming the row)."""
    out = []
    for row, value in enumerate(np.asarray(values).tolist()):
        try:
            out.append(value.decode("ascii"))
        except UnicodeDecodeError:
            raise CatalogError(f"column {name!r}, row {row}: {value!r} is not ASCII text; FITS and CDS "
                               f"files are ASCII: transliterate it") from None
    return np.asarray(out, dtype=str)


def _prepared_column(column, name):
    """Uniform nulls, and types every format can hold."""
    kind, mask = column.dtype.kind, np.ma.getmaskarray(column)
    info = column.info
    values = np.ma.getdata(column)
    if kind == "f":
        mask = mask | ~np.isfinite(values)
    elif kind in "US":
        if kind == "S":
            values = _decoded(values, name)
        # blanks around a value do not survive: FITS drops trailing ones, CDS columns are blank-padded
        text = np.char.strip(np.asarray(values).astype(str))
        mask = mask | (text == "")
        row = next((i for i, t in enumerate(text) if not mask[i] and not t.isascii()), None)
        if row is not None:
            _check_ascii(text[row], f"column {name!r}", row)
        control = np.flatnonzero(~mask & (np.char.str_len(text) != np.char.str_len(
            np.char.translate(text, _CONTROL_CHARACTERS))))
        if control.size:
            raise CatalogError(f"column {name!r}, row {int(control[0])}: {str(text[control[0]])!r} holds "
                               f"control characters (a tab, a newline...), which no catalogue format keeps "
                               f"as they are: remove them ({control.size} row(s))")
        values = np.where(mask, "", text)
    elif kind == "u" and column.dtype.itemsize >= 8:
        if values.size and values[~mask].max(initial=0) > np.iinfo(np.int64).max:
            raise CatalogError(f"column {name!r} holds unsigned 64-bit values above 2**63 - 1, which "
                               f"VOTable cannot hold: store them as strings")
        values = values.astype(np.int64)
    elif kind == "u" and column.dtype.itemsize > 1:  # VOTable's only unsigned type is a byte
        values = values.astype(np.dtype(f"int{column.dtype.itemsize * 16}"))
    elif kind == "i" and column.dtype.itemsize == 1:  # VOTable and FITS have no signed byte
        values = values.astype(np.int16)
    new = MaskedColumn(values, mask=mask, name=name, unit=info.unit, description=info.description,
                       format=info.format, meta=info.meta) if mask.any() else \
        type(column)(values, name=name, unit=info.unit, description=info.description,
                     format=info.format, meta=info.meta)
    return new


def recover_catalog(basename):
    """Finish or roll back a `write_catalog` to ``basename`` that was killed; remove its temporaries.

    `write_catalog` does this itself before writing; call it to restore a
    set of catalogue files without writing a new one.

    Parameters
    ----------
    basename : str or `~pathlib.Path`
        The basename the catalogue was written to.

    Returns
    -------
    str
        ``'clean'``, ``'rolled back'`` or ``'completed'``.

    Examples
    --------
    >>> import tempfile
    >>> from galzoo_cnn.catalog import recover_catalog
    >>> recover_catalog(tempfile.mkdtemp() + "/nothing_here")
    'clean'
    """
    basename = Path(basename).expanduser()
    if not basename.parent.is_dir():
        return "clean"
    with locked(basename):
        return recover(basename)


def write_catalog(table, basename, *, formats=CATALOG_FORMATS, overwrite=False, ra_column="ra",
                  dec_column="dec", descriptions=None, title=None, authors=None, abstract=None,
                  readme=None, metadata=None):
    """Write ``table`` as VizieR-ready catalogues, all formats or none.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.table.QTable` or path
        One row per galaxy, with coordinates.  Every column must be known to
        the registry (`column_spec`) or described (``descriptions``).
        ``meta['provenance']`` (a dict) and ``meta['references']`` (a list)
        are written to every format; `galzoo_cnn.classify_table` sets them.
    basename : str or `~pathlib.Path`
        Output name without extension: ``<basename>.fits``,
        ``<basename>.vot`` and, in the directory ``<basename>_cds/``,
        ``ReadMe`` and ``<name>.dat`` (see `galzoo_cnn.io.catalog_formats`).
    formats : sequence of str
        Registered formats to write (default: all).
    overwrite : bool
        Replace existing files of the set; otherwise an existing one raises
        `FileExistsError` before anything is written.
    ra_column, dec_column : str
        ICRS coordinates in degrees (or with angle units, or text: decimal
        degrees or sexagesimal, right ascension in hours).  A `SkyCoord`
        column is used when these are absent.
    descriptions : dict, optional
        Descriptions of columns the registry does not know.
    title, authors, abstract : str, optional
        The catalogue's title, authors ("Surname I., Surname J." or a list)
        and abstract, in every format.
    readme : dict, optional
        More `~galzoo_cnn.io.CatalogMetadata` fields: ``description``,
        ``bibcode``, ``catalogue`` (CDS designation), ``date`` (year),
        ``keywords``, ``acknowledgements``, ``see_also`` (list of (VizieR
        catalogue, title)).
    metadata : `~galzoo_cnn.io.CatalogMetadata`, optional
        All of it at once (the other options then override its fields).

    Returns
    -------
    dict
        ``{format: path}`` of what was written: the file, or for a format of
        several files (CDS) their directory.

    Raises
    ------
    CatalogError
        Whatever `check_catalog` refuses, or a file that does not read back
        as written: nothing of the set is replaced then.

    Examples
    --------
    >>> import tempfile
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import write_catalog
    >>> t = Table({"objid": [587722983371178200], "ra": [179.043], "dec": [60.523],
    ...            "prob_spiral": [0.91]})
    >>> paths = write_catalog(t, tempfile.mkdtemp() + "/demo", authors="Doe J., Roe R.",
    ...                       title="Spiral probabilities of one galaxy")
    >>> sorted(p.name for p in paths.values())
    ['demo.fits', 'demo.vot', 'demo_cds']
    >>> write_catalog(Table({"ra": [float("nan")], "dec": [1.0]}), tempfile.mkdtemp() + "/x")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.CatalogError: coordinate column 'ra' has 1 missing, NaN or out-of-range ...
    """
    writers, outputs = check_outputs(basename, formats=formats, overwrite=overwrite)
    basename = Path(basename).expanduser()
    table = check_catalog(table, ra_column=ra_column, dec_column=dec_column, descriptions=descriptions,
                          require_coordinates=_need_coordinates(writers))
    metadata = catalog_metadata(table, basename, metadata=metadata, title=title, authors=authors,
                                abstract=abstract, **(readme or {}))
    targets = [p for paths in outputs.values() for p in paths]
    basename.parent.mkdir(parents=True, exist_ok=True)
    with locked(basename):  # a second writer of the same set is told so, at once
        recover(basename)
        existing = [str(p) for p in targets if p.exists()]
        if existing and not overwrite:
            raise FileExistsError(f"{', '.join(existing)} exist(s); pass overwrite=True to replace")
        with FileSetTransaction(basename, targets) as transaction:
            for name, writer in writers.items():
                staged = [transaction.staged(p) for p in outputs[name]]
                writer.write(table, staged, metadata)
                writer.verify(table, staged)
    return {name: paths[0] if len(paths) == 1 else paths[0].parent for name, paths in outputs.items()}


def classify_catalog(table, basename, *, formats=CATALOG_FORMATS, overwrite=False, ra_column="ra",
                     dec_column="dec", descriptions=None, title=None, authors=None, abstract=None,
                     readme=None, **options):
    """Classify a table's galaxies and write their catalogue, refusing before the long part whatever
    would stop the catalogue being written.

    `check_outputs`, `check_catalog` and the metadata run first (a file in
    the way, a bad coordinate, an undescribed column or a non-ASCII title
    fail at once), then `~galzoo_cnn.classify_table`, then `write_catalog`.
    What ``galzoo-cnn classify`` does.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Image paths and coordinates, or a folder of images (then the only
        format that fits is ``'ecsv'``: its rows have no positions).
    basename : str or `~pathlib.Path`
        Output name without extension (see `write_catalog`).
    formats, overwrite, ra_column, dec_column, descriptions, title, authors, abstract, readme
        As for `write_catalog` (``overwrite`` also lets ``classify_table``
        replace output columns the table already has).
    **options
        Passed to `~galzoo_cnn.classify_table` (``model``, ``image_dir``,
        ``features_model``, ``devices``...).

    Returns
    -------
    result : `~astropy.table.Table`
        The classified table.
    paths : dict or None
        ``{format: path}`` written; `None` in the processes of a multi-device
        run other than the first (every process has the merged table, one
        writes it).

    Raises
    ------
    InputError
        No row could be classified (e.g. a wrong ``image_dir``): nothing is
        written.

    Examples
    --------
    >>> import tempfile
    >>> from galzoo_cnn.catalog import classify_catalog
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> sample, image_dir = load_demo_sample()
    >>> result, paths = classify_catalog(sample[:2]["dr7objid", "ra", "dec", "filename"],
    ...                                  tempfile.mkdtemp() + "/two", image_dir=image_dir,
    ...                                  formats=["votable"], progress=False)
    >>> result["status"].tolist(), sorted(paths)
    (['ok', 'ok'], ['votable'])
    """
    table, options["image_dir"] = table_or_folder(table, options.get("image_dir"),
                                                  image_column=options.get("image_column", "filename"))
    readme = dict(readme or {})
    writers, _ = check_outputs(basename, formats=formats, overwrite=overwrite)
    check_catalog(table, ra_column=ra_column, dec_column=dec_column, descriptions=descriptions,
                  require_coordinates=_need_coordinates(writers))
    catalog_metadata(table, basename, title=title, authors=authors, abstract=abstract, **readme)
    # imported after the checks: torch and Lightning take seconds to load, a refusal should not
    from lightning.pytorch.utilities import rank_zero_only

    from .classify import classify_table

    result = classify_table(table, overwrite=overwrite, **options)
    if rank_zero_only.rank != 0:
        return result, None
    if not (result["status"] == "ok").any():  # e.g. a mistyped image_dir: no catalogue of nothing
        raise InputError(f"no row could be classified ({result.meta[PROVENANCE_KEY]['status_counts']}); "
                         f"check the image folder and the image column; nothing was written")
    paths = write_catalog(result, basename, formats=formats, overwrite=overwrite, ra_column=ra_column,
                          dec_column=dec_column, descriptions=descriptions, title=title, authors=authors,
                          abstract=abstract, readme=readme)
    return result, paths


def _need_coordinates(writers):
    return any(writer.needs_coordinates for writer in writers.values())


def check_outputs(basename, *, formats=CATALOG_FORMATS, overwrite=False):
    """Check where `write_catalog` would write, before any work: return its writers and their files.

    For a run that ends in a catalogue (``galzoo-cnn classify``), so that
    an output it could not write is found before hours of work, not after.

    Parameters
    ----------
    basename : str or `~pathlib.Path`
        The catalogue's basename (see `write_catalog`).
    formats : sequence of str
        Registered formats, at least one.
    overwrite : bool
        Whether existing files of the set may be replaced.

    Returns
    -------
    writers : dict
        ``{format: CatalogFormat instance}``.
    outputs : dict
        ``{format: [paths]}``.

    Raises
    ------
    `~galzoo_cnn.exceptions.InputError`
        No formats, an unknown one, a basename that is empty, holds control
        characters or names a directory; a parent path that is a file.
    FileExistsError
        Files of the set exist and ``overwrite`` is false.
    PermissionError
        The directory cannot be written.

    Examples
    --------
    >>> from galzoo_cnn.catalog import check_outputs
    >>> check_outputs("cat", formats=[])
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: formats=[] names no format; choose from ['fits', 'votable', ...]
    """
    if isinstance(formats, str):
        formats = [formats]
    if formats is None or not hasattr(formats, "__iter__") or not list(formats):
        raise InputError(f"formats={formats!r} names no format; choose from {list(FORMATS.names())}")
    writers = {name: get_format(name) for name in formats}
    name = Path(str(basename)).name
    if not str(basename).strip() or not name or name in (".", "..") or str(basename).endswith(("/", os.sep)):
        raise InputError(f"catalogue basename {str(basename)!r} names no file: give e.g. 'out/catalogue'")
    if any(ord(c) < 32 or c == "\x7f" for c in str(basename)):
        raise InputError(f"catalogue basename {str(basename)!r} holds control characters (a newline, a tab)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
        raise InputError(f"catalogue name {name!r} (the last part of the basename) must be letters, digits "
                         f"and _.+- starting with a letter or digit: it names the files, the VOTable's table "
                         f"and the CDS data file that VizieR ingests")
    basename = Path(basename).expanduser()
    outputs = {fmt: writer.outputs(basename) for fmt, writer in writers.items()}
    ancestor = basename.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"catalogue basename {str(basename)!r}: {str(ancestor)!r} is a file, "
                         f"not a directory")
    try:  # a real file, not os.access: root ignores modes, and read-only mounts are only found so
        with tempfile.NamedTemporaryFile(dir=ancestor, prefix=".galzoo-probe-"):
            pass
    except OSError as err:
        raise PermissionError(f"cannot write the catalogue {str(basename)!r}: {str(ancestor)!r} "
                              f"is not writable ({err.strerror})") from None
    existing = [str(p) for paths in outputs.values() for p in paths if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(existing)} exist(s); pass overwrite=True to replace")
    return writers, outputs


def _default_abstract(table, version):
    """What the table is: a CNN's classification, Galaxy Zoo labels, or a galaxy table."""
    if any(name.startswith("prob_") for name in table.colnames):
        return (f"Galaxy morphology from a convolutional neural network (galzoo_cnn {version}), after "
                f"Khramtsov et al. (2022).")
    if any(name in ("gz2_five_class", "gz2_class") or name.startswith("label_") for name in table.colnames):
        return (f"Galaxy Zoo morphological labels of galaxies from the volunteers' votes (galzoo_cnn "
                f"{version}), as defined by Khramtsov et al. (2022).")
    return f"A table of galaxies written by galzoo_cnn {version}."


def read_catalog_metadata(path):
    r"""Catalogue metadata from a YAML mapping file (title, authors, abstract, bibcode, description...).

    What ``galzoo-cnn classify --readme`` reads; the keys are the fields of
    `~galzoo_cnn.io.CatalogMetadata`, passed on to `write_catalog`.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        A YAML file holding one mapping.

    Returns
    -------
    dict

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from galzoo_cnn.catalog import read_catalog_metadata
    >>> path = Path(tempfile.mkdtemp()) / "readme.yaml"
    >>> _ = path.write_text("title: My catalogue\nbibcode: 2022A&A...658A..54K\n")
    >>> read_catalog_metadata(path)
    {'title': 'My catalogue', 'bibcode': '2022A&A...658A..54K'}
    """
    import yaml

    try:
        fields = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"catalogue metadata file {str(path)!r} does not exist") from None
    except yaml.YAMLError as err:
        raise InputError(f"catalogue metadata {str(path)!r}: not valid YAML: {' '.join(str(err).split())}") \
            from None
    if not isinstance(fields, dict):
        raise InputError(f"catalogue metadata {str(path)!r}: expected a YAML mapping of catalogue metadata "
                         f"(title, authors, abstract, bibcode, ...), got {type(fields).__name__}")
    return fields


def catalog_metadata(table, basename, *, metadata=None, authors=None, **fields):
    """The `~galzoo_cnn.io.CatalogMetadata` of a catalogue: the table's meta plus what is given.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import catalog_metadata
    >>> m = catalog_metadata(Table({"ra": [1.0]}), "out/my_cat", authors="Doe J., Roe R.")
    >>> m.name, m.authors
    ('my_cat', ['Doe J.', 'Roe R.'])
    """
    import dataclasses

    from . import __version__

    unknown = set(fields) - {f.name for f in dataclasses.fields(CatalogMetadata)}
    if unknown:
        raise InputError(f"unknown catalogue metadata {sorted(unknown)}; expected some of "
                         f"{[f.name for f in dataclasses.fields(CatalogMetadata)]}")
    base = metadata or CatalogMetadata(
        name=Path(basename).name, provenance=dict(table.meta.get(PROVENANCE_KEY) or {}),
        references=list(dict.fromkeys(table.meta.get(REFERENCES_KEY) or [])),
        abstract=_default_abstract(table, __version__))
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.split(",") if a.strip()]
    given = {k: v for k, v in dict(fields, authors=authors).items() if v is not None}
    given.setdefault("columns", list(table.colnames))
    if "title" not in given and table.meta.get("title"):
        given["title"] = table.meta["title"]
    result = dataclasses.replace(base, **given)
    if not any(r.startswith("Khramtsov") for r in result.references):  # the method's paper, always
        result.references = [taxonomy.KHRAMTSOV2022, *result.references]
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        for text in (value if isinstance(value, list) else [value]):
            _check_ascii(text if isinstance(text, str) else " ".join(map(str, text)),
                         f"catalogue {field.name}")
    return result
