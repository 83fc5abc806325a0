# Licensed under a 3-clause BSD style license - see LICENSE
"""
Reading the tables every Table-in/Table-out function of the package accepts.

Examples
--------
>>> from galzoo_cnn.tables import as_table
>>> from galzoo_cnn.datasets import gz2_sample_path
>>> table = as_table(gz2_sample_path(layout="hart2016"))
>>> "dr7objid" in table.colnames
True
"""

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import QTable, Table
from PIL import Image

from .exceptions import InputError, InputTypeError, MissingColumnsError
from .utils._deprecation import keyword_options
from .utils._files import current_umask
from .utils._pillow import READ_FORMATS

__all__ = ["as_table", "image_table", "image_suffixes", "table_or_folder", "require_columns",
           "refuse_overwrite", "check_integer", "write_table_atomic", "atomic_write", "stale_parts",
           "positive_angle", "fits_safe_meta", "provenance", "file_sha256", "writable_table_format",
           "TABLE_FORMATS"]

#: File-name endings and the astropy format used to read them.
TABLE_FORMATS = {
    ".fits": "fits",
    ".fit": "fits",
    ".fits.gz": "fits",
    ".fit.gz": "fits",
    ".xml": "votable",
    ".vot": "votable",
    ".votable": "votable",
    ".ecsv": "ascii.ecsv",
    ".ecsv.gz": "ascii.ecsv",
    ".csv": "ascii.csv",
    ".csv.gz": "ascii.csv",
}


def writable_table_format(path, *, overwrite=False):
    """The astropy format of a table file about to be written, checked as `write_table_atomic` checks it:
    a command calls it before computing what goes into the file.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The table file: its name says the format (`TABLE_FORMATS`); not compressed.
    overwrite : bool
        Whether an existing file may be replaced; otherwise it raises `FileExistsError`.

    Examples
    --------
    >>> from galzoo_cnn.tables import writable_table_format
    >>> writable_table_format("pairs.ecsv"), writable_table_format("targets.fits")
    ('ascii.ecsv', 'fits')
    """
    path = Path(path).expanduser()
    fmt = _format_for(path)
    if path.suffix.lower() == ".gz":
        raise InputError(f"cannot write compressed tables ({str(path)!r}); drop the '.gz'")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    return fmt


def _format_for(path):
    name = path.name.lower()
    for ending, fmt in sorted(TABLE_FORMATS.items(), key=lambda item: -len(item[0])):
        if name.endswith(ending):
            return fmt
    raise InputError(
        f"cannot tell the table format of {str(path)!r} from its name; expected one of "
        f"{', '.join(TABLE_FORMATS)}"
    )


@keyword_options
def as_table(table, copy=True):
    """Return ``table`` as an astropy `~astropy.table.Table`.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.table.QTable`, str or `~pathlib.Path`
        A table, or the path of a FITS, VOTable, ECSV or CSV file (optionally
        gzip-compressed).
    copy : bool
        Copy an in-memory table so that the caller's table is never modified.

    Returns
    -------
    `~astropy.table.Table`
        A `~astropy.table.QTable` stays a `~astropy.table.QTable`.

    Raises
    ------
    TypeError
        If ``table`` is neither a table nor a path.
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.tables import as_table
    >>> t = Table({"ra": [1.0]})
    >>> as_table(t) is t
    False
    >>> as_table([1, 2])
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputTypeError: expected an astropy Table, QTable or the path of a table file, ...
    """
    if isinstance(table, (Table, QTable)):
        return table.copy(copy_data=True) if copy else table
    if isinstance(table, (str, Path)):
        path = Path(table).expanduser()
        if path.is_dir():
            raise InputError(f"{str(path)!r} is a folder, not a table file; for the images in a folder, "
                             f"image_table({str(path)!r}) makes their table (classify_table and galzoo-cnn "
                             f"classify take the folder itself)")
        if not path.is_file():
            raise FileNotFoundError(f"table file {str(path)!r} does not exist")
        fmt = _format_for(path)
        try:
            return Table.read(path, format=fmt)
        except (PermissionError, IsADirectoryError):
            raise
        except Exception as err:  # astropy's readers raise OSError, ValueError, InconsistentTableError...
            raise InputError(f"table file {str(path)!r} cannot be read as {fmt}: "
                             f"{' '.join(str(err).split())}") from None
    raise InputTypeError(
        f"expected an astropy Table, QTable or the path of a table file, got {type(table).__name__}"
    )


def image_suffixes():
    """File-name endings of the image formats the package reads (`~galzoo_cnn.images.READ_FORMATS`), as
    Pillow registers them.

    Examples
    --------
    >>> from galzoo_cnn.tables import image_suffixes
    >>> {".jpg", ".jpeg", ".png"} <= set(image_suffixes())
    True
    """
    return tuple(sorted(s for s, fmt in Image.registered_extensions().items() if fmt in READ_FORMATS))


@keyword_options
def image_table(directory, recursive=False, image_column="filename"):
    """A table of the image files in ``directory``, one row each, by name.

    For cutouts that come without a table.  Files whose name ends in one of
    `image_suffixes` (``.jpg``, ``.jpeg``, ``.png``, in any case) are listed,
    sorted, by their path relative to ``directory``, which is then the
    ``image_dir`` of the functions that read the table
    (`~galzoo_cnn.classify_table` and ``galzoo-cnn classify`` take the
    folder itself and do this).  Hidden files (``.name``) are left out.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        The folder.
    recursive : bool
        Also list the images of its sub-folders (as ``sub/name.jpg``).
    image_column : str
        Name of the column of paths.

    Returns
    -------
    `~astropy.table.Table`
        The one column ``image_column``; ``meta['image_dir']`` is the folder.

    Raises
    ------
    `~galzoo_cnn.exceptions.InputError`
        The folder does not exist, is a file, or holds no image file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from galzoo_cnn.tables import image_table
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.jpg", "a.PNG", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> image_table(d)["filename"].tolist()
    ['a.PNG', 'b.jpg']
    """
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise InputError(f"image folder {str(folder)!r} {what}")
    suffixes = image_suffixes()
    found = folder.rglob("*") if recursive else folder.iterdir()
    names = sorted(p.relative_to(folder).as_posix() for p in found
                   if p.suffix.lower() in suffixes and not p.name.startswith(".") and not p.is_dir())
    if not names:
        raise InputError(f"image folder {str(folder)!r} holds no image file (names ending in "
                         f"{', '.join(suffixes)})" + ("" if recursive else "; sub-folders were not searched"))
    table = Table({image_column: names})
    table.meta["image_dir"] = str(folder)
    return table


def table_or_folder(table, image_dir, *, image_column="filename", recursive=False):
    """``(table, image_dir)``: a copy of the table (or the table file read) and its image folder, or, for
    a folder of images given in place of the table, its `image_table` and the folder.

    Parameters
    ----------
    table : `~astropy.table.Table`, str or `~pathlib.Path`
        A table, a table file, or a folder of images.
    image_dir : str, `~pathlib.Path` or None
        The folder a table's image paths are relative to; `None` with a
        folder of images (which is its own).
    image_column : str
        Column of paths of a folder's table.
    recursive : bool
        Whether a folder's table lists the images of its sub-folders too.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.tables import table_or_folder
    >>> _, folder = load_demo_sample()
    >>> table, image_dir = table_or_folder(folder, None)
    >>> len(table), image_dir == str(folder)
    (36, True)
    """
    if isinstance(table, (str, Path)) and Path(table).expanduser().is_dir():
        if image_dir is not None:
            raise InputError(f"{str(table)!r} is a folder of images, read by name; image_dir (the folder a "
                             f"table's image paths are relative to) does not go with it")
        folder = str(Path(table).expanduser())
        return image_table(folder, image_column=image_column, recursive=recursive), folder
    return as_table(table), image_dir


@keyword_options
def require_columns(table, columns, role="", *, hint=""):
    """Raise one `~galzoo_cnn.exceptions.MissingColumnsError` naming every column of ``columns`` not in
    ``table``, the role they play and the columns the table has.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The table.
    columns : str or sequence of str
        Columns needed (`None` entries are ignored).
    role : str
        What the columns are (``"image"``, ``"coordinate"``...), for the message.
    hint : str
        A sentence added to the message (how such columns are named).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.tables import require_columns
    >>> require_columns(Table({"ra": [1.0]}), ["ra", "dec"], role="coordinate")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.MissingColumnsError: coordinate column 'dec' is not in the table (columns: ra)
    """
    columns = [columns] if isinstance(columns, str) else [c for c in columns if c is not None]
    missing = [c for c in columns if c not in table.colnames]
    if not missing:
        return
    role = f"{role} " if role else ""
    shown = ", ".join(map(repr, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10
                                                  else "")
    have = ", ".join(table.colnames[:20]) + (", ..." if len(table.colnames) > 20 else "")
    noun, verb = ("column", "is") if len(missing) == 1 else ("columns", "are")
    raise MissingColumnsError(f"{role}{noun} {shown} {verb} not in the table (columns: {have or 'none'})"
                              + (f". {hint}" if hint else ""))


def refuse_overwrite(table, names, *, overwrite, what="output column(s)", earlier="an earlier run"):
    """One policy for the columns a stage adds: an earlier result is replaced only when asked.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The table the stage will add ``names`` to.
    names : sequence of str
        The columns the stage adds.
    overwrite : bool
        Whether replacing them was asked for.
    what, earlier : str
        Wording of the message: what the columns are, and what probably made them.

    Returns
    -------
    list of str
        The columns of ``names`` the table already has (to be removed by the caller).

    Raises
    ------
    `~galzoo_cnn.exceptions.InputError`
        If there are some and ``overwrite`` is False.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.tables import refuse_overwrite
    >>> refuse_overwrite(Table({"status": ["ok"]}), ["prob_spiral", "status"], overwrite=True)
    ['status']
    """
    clashing = [name for name in names if name in table.colnames]
    if clashing and not overwrite:
        shown = ", ".join(clashing[:10]) + (f" and {len(clashing) - 10} more" if len(clashing) > 10 else "")
        raise InputError(f"the table already has the {what} {shown} (from {earlier}?); pass overwrite=True "
                         f"to replace them")
    return clashing


def check_integer(name, value, minimum):
    """Raise `~galzoo_cnn.exceptions.InputError` unless ``value`` is an integer (not a bool) >= ``minimum``.

    The one check of the integer options of the package's functions, so that
    every such message reads alike.

    Parameters
    ----------
    name : str
        The option's name, for the message.
    value : object
        Its value.
    minimum : int
        The smallest value allowed.

    Returns
    -------
    int
        ``value``.

    Examples
    --------
    >>> from galzoo_cnn.tables import check_integer
    >>> check_integer("k", 5, 1)
    5
    >>> check_integer("batch_size", 0, 1)
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: batch_size=0 must be an integer >= 1
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def provenance(function, *, inputs=(), **entries):
    """The ``meta['provenance']`` of a product: software, date, the function, its settings, inputs' hashes.

    Every Table a stage returns records where it came from with this one
    helper; the catalogue formats write it (FITS keywords, VOTable ``INFO``,
    the CDS ReadMe).

    Parameters
    ----------
    function : str
        The function that made the product (``"five_class_labels"``).
    inputs : sequence of str or `~pathlib.Path`
        Input files: each gets ``input_<name>_sha256`` (tables given in
        memory have no file to hash).
    **entries
        The settings that shaped the product (scalars; others are shown as
        text).

    Returns
    -------
    dict

    Examples
    --------
    >>> from galzoo_cnn.tables import provenance
    >>> entry = provenance("five_class_labels", fractions="debiased")
    >>> sorted(entry), entry["software"].split()[0]
    (['date', 'fractions', 'function', 'software'], 'galzoo_cnn')
    """
    import datetime

    from . import __version__

    record = {"software": f"galzoo_cnn {__version__}", "function": function,
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    for name, value in entries.items():
        record[name] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
    for path in inputs:
        if isinstance(path, (str, Path)) and Path(path).is_file():
            record[f"input_{Path(path).name}_sha256"] = file_sha256(path)
    return record


def file_sha256(path):
    """SHA-256 of a file, read in blocks.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The file.

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from galzoo_cnn.tables import file_sha256
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = path.write_bytes(b"")
    >>> file_sha256(path)[:12]
    'e3b0c44298fc'
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fits_safe_meta(meta):
    """Table ``meta`` that a FITS header can hold.

    Scalars under keywords of at most 8 characters stay header cards; every
    other entry (long keywords, nested dicts and lists) becomes a ``COMMENT``
    card ``key = <JSON>``, split over as many cards as it needs.

    Parameters
    ----------
    meta : dict
        A table's ``meta``.

    Examples
    --------
    >>> from galzoo_cnn.tables import fits_safe_meta
    >>> fits_safe_meta({"ORIGIN": "x", "counts": {"spiral": 3}})
    {'ORIGIN': 'x', 'COMMENT': ['counts = {"spiral": 3}']}
    """
    safe, comments = {}, list(meta.get("COMMENT", []))
    for key, value in meta.items():
        if key == "COMMENT":
            continue
        if len(key) <= 8 and isinstance(value, (str, int, float, bool)):
            safe[key.upper()] = value
        else:
            text = f"{key} = {json.dumps(value, default=str)}"
            comments += [text[i:i + 72] for i in range(0, len(text), 72)]
    if comments:
        safe["COMMENT"] = comments
    return safe


@keyword_options
def write_table_atomic(table, path, overwrite=False, **kwargs):
    """Write ``table`` to ``path`` so that a crash never leaves a partial file.

    The table is written to a temporary file in the same directory, then
    renamed over ``path`` in one step.  The format follows the file name as in
    `as_table`.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Table to write.
    path : str or `~pathlib.Path`
        Destination file.
    overwrite : bool
        Replace an existing file; otherwise an existing file raises
        `FileExistsError`.
    **kwargs
        Passed to `~astropy.table.Table.write`.

    Returns
    -------
    `~pathlib.Path`
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.table import Table
    >>> from galzoo_cnn.tables import write_table_atomic
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.ecsv"
    >>> write_table_atomic(Table({"a": [1, 2]}), out).name
    't.ecsv'
    """
    path = Path(path).expanduser()
    fmt = writable_table_format(path, overwrite=overwrite)
    vectors = [name for name in table.colnames if getattr(table[name], "ndim", 1) > 1] \
        if fmt == "ascii.csv" else []
    if vectors:
        raise InputError(f"column {vectors[0]!r} holds a vector per row, which CSV cannot: write "
                         f"{path.stem}.fits, .ecsv or .vot instead")
    if fmt == "fits":
        table = table.copy(copy_data=False)
        table.meta = fits_safe_meta(table.meta)
    return atomic_write(path, lambda tmp: table.write(tmp, format=fmt, overwrite=True, **kwargs))


#: Suffix of `atomic_write`'s temporary files: the package's name in it tells them from a user's own
#: ``*.part`` files, which `stale_parts` never touches.
_PART_SUFFIX = ".galzoo-part"


def stale_parts(directory, names):
    """The temporary files `atomic_write` left in ``directory`` for the files ``names`` (a killed run).

    Only regular files named as `atomic_write` names them
    (``.<name>.<8 random characters>.galzoo-part``) for one of ``names``:
    a user's own ``*.part`` file, or a directory so named, is never one.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        Where the files were written.
    names : iterable of str
        The names of the files whose temporaries are looked for.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from galzoo_cnn.tables import stale_parts
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in (".a.jpg.x1y2z3w4.galzoo-part", ".a.jpg.notes.part", ".b.jpg.x1y2z3w4.galzoo-part"):
    ...     _ = (d / name).write_text("")
    >>> [p.name for p in stale_parts(d, ["a.jpg"])]
    ['.a.jpg.x1y2z3w4.galzoo-part']
    """
    names = set(names)
    pattern = re.compile(r"\.(.+)\.[a-z0-9_]{8}" + re.escape(_PART_SUFFIX))
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and match.group(1) in names and entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
    return found


def atomic_write(path, write):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    A crash leaves either the old file or the new one, never a partial one;
    the temporary file is removed on failure.  The new file gets the usual
    permissions (0666 less the umask), not mkstemp's 0600.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        Destination file.
    write : callable
        ``write(tmp)`` writes the file at the temporary path ``tmp``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from galzoo_cnn.tables import atomic_write
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write(path, lambda tmp: pathlib.Path(tmp).write_text("done")).read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_PART_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


@keyword_options
def positive_angle(value, name, unit=u.arcsec):
    """One positive, finite angle as a Quantity (plain numbers are ``unit``); anything else raises.

    Parameters
    ----------
    value : `~astropy.units.Quantity` or float
        The angle.
    name : str
        The option's name, for the message.
    unit : `~astropy.units.Unit`
        Unit of plain numbers.

    Examples
    --------
    >>> from galzoo_cnn.tables import positive_angle
    >>> positive_angle(2, "radius")
    <Quantity 2. arcsec>
    >>> positive_angle(-1, "radius")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: radius=<Quantity -1. arcsec> must be one positive, finite angle
    """
    try:
        angle = u.Quantity(value, unit)
    except (TypeError, ValueError, u.UnitsError):
        raise InputError(f"{name}={value!r} is not an angle (e.g. 1 * u.arcsec)") from None
    if not angle.isscalar or not np.isfinite(angle.value) or angle.value <= 0:
        raise InputError(f"{name}={angle!r} must be one positive, finite angle")
    return angle
