# Licensed under a 3-clause BSD style license - see LICENSE
"""
Downloading image cutouts: resumable, concurrent, validated, and exact about what failed.

`fetch_cutouts` requests one JPEG per row of a table from the SDSS SkyServer
``ImgCutout`` service or the DESI Legacy Surveys viewer, or, with
``survey="hips"``, a multi-band FITS cube (SDSS g, r, i by default) from
HiPS surveys through the CDS hips2fits service (request parameters made by
`astroquery.hips2fits`), with bounded concurrency and retries.  It returns
the input table with the file name and a ``cutout_status`` per row (and
writes the manifest ``manifest.ecsv`` beside the files, `read_manifest`):

===========  =================================================================
status       meaning
===========  =================================================================
``ok``       downloaded and valid
``cached``   a valid file was already there; nothing was requested
``blank``    the service answered with a constant image (outside the footprint)
``corrupt``  never decoded as a valid image after all retries
``failed``   HTTP error, time-out or connection error after all retries, or no
             usable coordinates; ``cutout_reason`` says which
===========  =================================================================

Retries use exponential back-off with jitter on 5xx answers, time-outs and
connection errors; a 429 or 503 answer waits for its ``Retry-After``; other 4xx
answers are not retried.  A file is written under a temporary name,
validated (it decodes, has the requested size, is not constant, and at most
``max_dead_fraction`` of its pixels are pure black), then renamed: a broken
file is never left in place, and a run killed at any moment and started
again requests only what is missing.

Examples
--------
>>> from galzoo_cnn.cutouts import cutout_url
>>> cutout_url("sdss", 150.1, 2.2, base_url="https://skyserver.sdss.org")
'https://skyserver.sdss.org/dr9/SkyServerWS/ImgCutout/getjpeg?ra=150.1&dec=2.2&scale=0.396&width=100&height=100'
"""


import hashlib
import math
import os
import re
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
from astropy import log
from astropy import units as u
from astropy.table import MaskedColumn, Table

from ..columns import PROVENANCE_KEY, describe_columns
from ..config import conf
from ..exceptions import CutoutError, InputError, InputTypeError  # noqa: F401  (CutoutError: its old home)
from ..tables import (
    as_table,
    check_integer,
    provenance,
    refuse_overwrite,
    require_columns,
    stale_parts,
    write_table_atomic,
)
from ..utils._deprecation import renamed_arguments
from ..utils._signals import interruptible
from ..utils._values import degrees
from ._http import _Fetcher
from ._scale import GZ2_FRAME_RADII, _row_pixel_scales, gz2_pixel_scale
from ._services import (
    HIPS_BANDS,
    SURVEYS,
    CutoutService,
    Hips2FitsCutouts,
    LegacySurveyCutouts,
    SDSSCutouts,
    _service,
    cutout_services,
    cutout_url,
    register_survey,
)
from ._validate import _valid_file_bytes, validate_cutout, validate_fits_cutout

__all__ = ["SURVEYS", "register_survey", "cutout_services", "CutoutService", "SDSSCutouts",
           "LegacySurveyCutouts", "Hips2FitsCutouts", "HIPS_BANDS", "GZ2_FRAME_RADII", "gz2_pixel_scale",
           "cutout_url", "validate_cutout", "validate_fits_cutout", "fetch_cutouts", "read_manifest",
           "MANIFEST_NAME", "CUTOUT_STATUSES", "ADDED_COLUMNS"]

#: File name of the manifest `fetch_cutouts` writes in its directory.
MANIFEST_NAME = "manifest.ecsv"
#: Statuses of a cutout (the manifest's ``status``, the returned table's ``cutout_status``).
CUTOUT_STATUSES = ("ok", "cached", "blank", "corrupt", "failed")
#: Columns `fetch_cutouts` adds to its input table.
ADDED_COLUMNS = ("filename", "cutout_fov", "cutout_status", "cutout_reason")



_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
#: Longest id used as a file name as it is; longer or unsafe ids get a hashed name (`_file_names`).
_MAX_ID_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _file_names(table, id_column, ext=".jpg"):
    """One file name per row: ``row<N>``, the id, or for ids unsafe as file names a hashed name.

    An id with control characters (a stray newline or tab from a text file)
    is refused, naming the row; an id longer than `_MAX_ID_LENGTH`, or with
    characters other than letters, digits and ``._+-`` (``"NGC 1234"``),
    becomes ``<its safe characters, up to 40>-<16 hex digits of its SHA-256>``;
    the manifest's ``id`` column keeps the original.
    """
    if id_column is None:
        width = len(str(max(len(table) - 1, 0)))
        return [f"row{i:0{width}d}{ext}" for i in range(len(table))]
    require_columns(table, id_column, role="id")
    column = table[id_column]
    masked = np.ma.getmaskarray(column)
    if masked.any():
        raise InputError(f"id column {id_column!r} is masked in row {int(np.argmax(masked))}")
    ids = np.asarray(column).astype(str).tolist()
    names, seen = [], {}
    for row, value in enumerate(ids):
        if _CONTROL.search(value):
            raise InputError(f"id column {id_column!r}, row {row}: {value!r} has control characters; "
                             f"strip them (e.g. a trailing newline) before fetching")
        if not value.strip():
            raise InputError(f"id column {id_column!r}, row {row}: empty id")
        name = value
        if len(value) > _MAX_ID_LENGTH or not _SAFE_NAME.fullmatch(value):
            safe = re.sub(r"^[^A-Za-z0-9]+", "", re.sub(r"[^A-Za-z0-9._+-]+", "_", value))[:40] or "id"
            name = f"{safe}-{hashlib.sha256(value.encode()).hexdigest()[:16]}"
        if name in seen:
            raise InputError(f"id column {id_column!r} has duplicate values, e.g. {value!r} in rows "
                             f"{seen[name]} and {row}")
        seen[name] = row
        names.append(f"{name}{ext}")
    return names


@renamed_arguments(directory="image_dir")
def fetch_cutouts(table, image_dir, *, survey="sdss", data_release=None, size=100, pixel_scale=None,
                  id_column=None, ra_column="ra", dec_column="dec", max_workers=None, retries=None,
                  timeout=None, deadline=None, base_url=None, progress=True, backoff=1.0,
                  max_dead_fraction=0.5, bands=None, overwrite=False):
    """Download a cutout for every row of ``table`` into ``directory``.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Rows to fetch; ``ra`` / ``dec`` in degrees or with angle units.
    image_dir : str or `~pathlib.Path`
        Where the JPEGs go (``<id>.jpg``); created if needed (the
        ``image_dir`` of `~galzoo_cnn.classify_table`; formerly
        ``directory``).
    survey : {'sdss', 'legacy', 'hips'}
        SDSS SkyServer ImgCutout or the Legacy Surveys viewer (ls-dr10),
        JPEG colour composites; or ``'hips'``: FITS cubes, one plane per
        HiPS survey of ``bands``, from the CDS hips2fits service.
    data_release : int, optional
        SDSS data release in the URL; default `galzoo_cnn.config.conf`'s
        ``sdss_data_release`` (9).
    size : int
        Cutout side in pixels.
    pixel_scale : `~astropy.units.Quantity`, str, optional
        Angle per pixel: one for every row, one per row (a Quantity array,
        e.g. from `gz2_pixel_scale`), or the name of a column (an angle
        column, or plain arcseconds).  Default: 0.396 arcsec (SDSS) or
        0.262 arcsec (Legacy Surveys).  A row whose scale is not finite gets
        status ``failed``.
    id_column : str, optional
        Column naming the files; default ``row<N>``.  Ids must be unique and
        usable as file names.
    max_workers : int, optional
        Requests in flight at once; default ``conf.cutout_workers`` (8).
    retries : int, optional
        Attempts per cutout; default ``conf.cutout_retries`` (5).
    timeout : float, optional
        Seconds to wait for each read from the server; default
        `galzoo_cnn.config.conf.cutout_timeout`.
    deadline : float, optional
        Seconds one whole answer may take (a server sending a byte now and
        then never holds a request longer); default
        `galzoo_cnn.config.conf.cutout_deadline`.
    base_url : str, optional
        Service root; default from `galzoo_cnn.config.conf`.
    progress : bool
        Show a tqdm progress bar.
    backoff : float
        First retry delay in seconds, doubled each attempt, with +-50 % jitter.
    max_dead_fraction : float
        Largest fraction of pure-black pixels a valid cutout may have.
    bands : sequence of str, optional
        HiPS surveys of the planes of a ``survey="hips"`` cube (default:
        `HIPS_BANDS`, SDSS DR9 g, r, i); each is one request.  Only for
        ``survey="hips"``.
    overwrite : bool
        Replace the columns this function adds when the table already has
        them (e.g. fetching again from an earlier result); otherwise they
        raise, so that nothing is lost.
    ra_column, dec_column : str
        Coordinate columns.

    Raises
    ------
    `~galzoo_cnn.exceptions.InputError`
        Before any request: an unknown survey, ``size`` or counts that are
        not positive, ``bands`` with a JPEG survey, an id column with control
        characters or duplicates, coordinate columns missing.
    `~galzoo_cnn.exceptions.Interrupted`
        On SIGINT (Ctrl-C) or SIGTERM: the requests in flight are
        abandoned, finished files are kept and a rerun resumes there.

    Returns
    -------
    `~astropy.table.Table`
        A copy of ``table`` with ``filename`` (the cutout's file, relative to
        ``directory``; masked where there is none), ``cutout_fov`` (the side
        of the frame, ``size * pixel_scale``), ``cutout_status`` and
        ``cutout_reason``; ``meta['counts']`` counts the statuses.  It goes
        straight into `~galzoo_cnn.classify.classify_table` with
        ``image_dir=directory``, which compares ``cutout_fov`` with the scale
        the model was trained at.  The full manifest (also ``id``,
        ``pixel_scale``, ``attempts``, ``nbytes``, ``sha256`` per row) is
        written to ``directory/manifest.ecsv`` (`read_manifest`).

    Examples
    --------
    Fetch and classify in one line (needs the network)::

        from galzoo_cnn import classify_table
        from galzoo_cnn.cutouts import fetch_cutouts
        result = classify_table(fetch_cutouts(targets, "cutouts/"), image_dir="cutouts/")
    """
    table = as_table(table)
    # the configuration items are the defaults (astropy's conf: set_temp or galzoo_cnn.cfg)
    data_release = conf.sdss_data_release if data_release is None else data_release
    max_workers = conf.cutout_workers if max_workers is None else max_workers
    retries = conf.cutout_retries if retries is None else retries
    service = _check_fetch_options(survey, size, bands, max_workers, retries, timeout, deadline, data_release)
    clashing = refuse_overwrite(table, ADDED_COLUMNS, overwrite=overwrite, what="column(s)",
                                earlier="an earlier fetch_cutouts")  # removed at the end: the id may be one
    ext = service.extension
    names = _file_names(table, id_column, ext)
    require_columns(table, [ra_column, dec_column], role="coordinate")
    # one row's unreadable text is one failed row, as a NaN is
    ra, dec = (degrees(table[c], c, axis=axis, strict=False) for c, axis in ((ra_column, "ra"),
                                                                            (dec_column, "dec")))
    scales = _row_pixel_scales(table, pixel_scale, survey)
    directory = Path(image_dir).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the cutout directory {str(directory)!r}: {err.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"the cutout directory {str(directory)!r} is not writable")
    for stale in stale_parts(directory, names):  # left by a killed run; a user's own *.part files stay
        stale.unlink(missing_ok=True)
    fetcher = _Fetcher(service, retries, conf.cutout_timeout if timeout is None else timeout, backoff, size,
                       max_dead_fraction, conf.cutout_deadline if deadline is None else deadline)

    rows = [None] * len(table)
    todo = []
    for i, name in enumerate(names):
        path = directory / name
        if not (np.isfinite(ra[i]) and np.isfinite(dec[i])):
            rows[i] = ("failed", "no finite coordinates (missing, NaN, or text that is not an angle)",
                       0, 0, "")
        elif not (0 <= ra[i] <= 360 and -90 <= dec[i] <= 90):
            rows[i] = ("failed", f"coordinates out of range (ra {ra[i]:g}, dec {dec[i]:g}; ra in [0, 360], "
                                 f"dec in [-90, 90] degrees)", 0, 0, "")
        elif not np.isfinite(scales[i]):
            rows[i] = ("failed", "no finite pixel scale", 0, 0, "")
        elif (data := _valid_file_bytes(service, path, size, max_dead_fraction,
                                        len(HIPS_BANDS if bands is None else bands))) is not None:
            rows[i] = ("cached", "", 0, len(data), hashlib.sha256(data).hexdigest())
        else:
            todo.append(i)
    workers = int(max_workers)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with interruptible():  # Ctrl-C / SIGTERM raise Interrupted in the waiting main thread
            _run_requests(pool, workers, fetcher, todo, rows, names, directory, progress, lambda i: (
                service.band_urls(ra[i], dec[i], size, scales[i], base_url=base_url,
                                  data_release=data_release, bands=bands)))
    except BaseException:  # an interrupt: abandon what is queued or in flight; finished files stay
        fetcher.halt()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()

    manifest = Table({
        "row": np.arange(len(table)),
        "id": ([n[: -len(ext)] for n in names] if id_column is None
               else np.asarray(table[id_column]).astype(str)),
        "ra": ra, "dec": dec,
        "path": names,
        "pixel_scale": scales * u.arcsec,
        "cutout_fov": scales * int(size) * u.arcsec,
        "status": [r[0] for r in rows],
        "reason": [r[1] for r in rows],
        "attempts": np.array([r[2] for r in rows], dtype=int),
        "nbytes": np.array([r[3] for r in rows], dtype=int),
        "sha256": [r[4] for r in rows],
    })
    manifest["ra"].unit = manifest["dec"].unit = u.deg
    counts = {s: int(np.sum(manifest["status"] == s)) for s in CUTOUT_STATUSES}
    manifest.meta.update(counts=counts, survey=survey, directory=str(directory), size=size)
    write_table_atomic(describe_columns(manifest, copy=False), directory / MANIFEST_NAME, overwrite=True)
    log.info(f"fetch_cutouts: {counts}")

    has_file = np.isin(manifest["status"], ("ok", "cached"))
    table.remove_columns(clashing)
    table["filename"] = MaskedColumn(np.asarray(names), mask=~has_file)
    table["cutout_fov"] = manifest["cutout_fov"]
    table["cutout_status"] = manifest["status"]
    table["cutout_reason"] = manifest["reason"]
    table.meta.update(counts=counts, survey=survey, directory=str(directory), size=size,
                      manifest=str(directory / MANIFEST_NAME))
    table.meta[PROVENANCE_KEY] = provenance("fetch_cutouts", survey=survey, size=int(size),
                                            data_release=data_release, base_url=base_url or service.root(),
                                            status_counts=", ".join(f"{k}={v}" for k, v in counts.items()))
    return describe_columns(table, copy=False)


@renamed_arguments(directory="image_dir")
def read_manifest(image_dir):
    """The manifest `fetch_cutouts` wrote in ``image_dir``: one row per input row.

    Columns ``row``, ``id``, ``ra``, ``dec``, ``path`` (relative to
    ``image_dir``), ``pixel_scale``, ``cutout_fov``, ``status``, ``reason``,
    ``attempts``, ``nbytes``, ``sha256``; ``meta['counts']`` per status.

    Parameters
    ----------
    image_dir : str or `~pathlib.Path`
        The cutout directory (formerly ``directory``).

    Examples
    --------
    >>> import tempfile
    >>> from galzoo_cnn.cutouts import read_manifest
    >>> read_manifest(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    FileNotFoundError: no cutout manifest in ...: fetch_cutouts writes one there
    """
    path = Path(image_dir).expanduser() / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no cutout manifest in {str(path.parent)!r}: fetch_cutouts writes one there")
    return as_table(path)


def _check_fetch_options(survey, size, bands, max_workers, retries, timeout, deadline, data_release):
    """The survey's service; options that cannot work raise before a directory is made or a request sent."""
    service = _service(survey)
    for name, value in (("size", size), ("max_workers", max_workers), ("retries", retries),
                        ("data_release", data_release)):
        check_integer(name, value, 1)
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                      and math.isfinite(value) and value > 0):
            raise InputError(f"{name}={value!r} must be a positive, finite number of seconds")
    if bands is not None:
        if not service.takes_bands:
            takers = [name for name, svc in SURVEYS.items() if svc.takes_bands]
            raise InputError(f"bands apply to survey={takers[0]!r} (FITS planes); survey={survey!r} gives "
                             f"colour JPEGs of fixed bands")
        if isinstance(bands, str) or not len(bands) or not all(isinstance(b, str) for b in bands):
            raise InputTypeError(f"bands must be a list of HiPS survey names such as {list(HIPS_BANDS)}, "
                                 f"got {bands!r}")
    return service


def _run_requests(pool, workers, fetcher, todo, rows, names, directory, progress, urls_of):
    """Fetch rows ``todo`` on ``pool``, filling ``rows``; a bounded queue keeps memory flat."""
    from tqdm.auto import tqdm

    pending, queue = {}, iter(todo)
    with tqdm(total=len(todo), desc="fetching", unit=" cutouts", disable=not progress) as bar:
        while True:
            for i in queue:
                pending[pool.submit(fetcher.fetch, urls_of(i), directory / names[i])] = i
                if len(pending) >= 4 * workers:
                    break
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                rows[pending.pop(future)] = future.result()
                bar.update()
