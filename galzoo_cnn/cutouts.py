# Licensed under a 3-clause BSD style license - see LICENSE
"""
Downloading image cutouts: resumable, concurrent, validated, and exact about what failed.

`fetch_cutouts` requests one JPEG per row of a table from the SDSS SkyServer
``ImgCutout`` service or the DESI Legacy Surveys viewer, or, with
``survey="hips"``, a multi-band FITS cube (SDSS g, r, i by default) from
HiPS surveys through the CDS hips2fits service (request parameters made by
`astroquery.hips2fits`), with bounded concurrency and retries, and returns a
manifest with one row per input row:

===========  =================================================================
status       meaning
===========  =================================================================
``ok``       downloaded and valid
``cached``   a valid file was already there; nothing was requested
``blank``    the service answered with a constant image (outside the footprint)
``corrupt``  never decoded as a valid image after all retries
``failed``   HTTP error, time-out or connection error after all retries, or no
             usable coordinates; ``reason`` says which
===========  =================================================================

Retries use exponential back-off with jitter on 5xx answers, time-outs and
connection errors; a 429 answer waits for its ``Retry-After``; other 4xx
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
import http.client
import io
import os
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
from astropy import log
from astropy import units as u
from astropy.table import Table
from PIL import Image, UnidentifiedImageError

from .config import conf
from .exceptions import GalzooError
from .samples import _astroquery
from .tables import _angle, _degrees, as_table

__all__ = ["SURVEYS", "HIPS_BANDS", "GZ2_FRAME_RADII", "gz2_pixel_scale", "cutout_url", "validate_cutout",
           "validate_fits_cutout", "fetch_cutouts",
           "CutoutError"]

#: Services: default pixel scale and the URL of one cutout (``base`` from `galzoo_cnn.config.conf`).
SURVEYS = {
    "sdss": {"pixel_scale": 0.396 * u.arcsec, "config": "sdss_cutout_url",
             "path": "/dr{data_release}/SkyServerWS/ImgCutout/getjpeg?ra={ra}&dec={dec}&scale={scale}"
                     "&width={size}&height={size}"},
    "legacy": {"pixel_scale": 0.262 * u.arcsec, "config": "legacy_cutout_url",
               "path": "/jpeg-cutout?ra={ra}&dec={dec}&layer={layer}&pixscale={scale}&size={size}"},
    "hips": {"pixel_scale": 0.396 * u.arcsec, "config": "hips2fits_url", "path": None},
}

#: HiPS surveys of the bands of a ``survey="hips"`` FITS cube, by default (SDSS DR9 g, r, i).
HIPS_BANDS = ("CDS/P/SDSS9/g", "CDS/P/SDSS9/r", "CDS/P/SDSS9/i")

#: Width of a Galaxy Zoo 2 image in Petrosian radii: 424 pixels of 0.02 petroR90_r each
#: (Willett et al. 2013, Sect. 2; the Kaggle challenge images are these frames).
GZ2_FRAME_RADII = 424 * 0.02

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class CutoutError(GalzooError, ValueError):
    """A downloaded cutout that is not a valid image; the message says why."""


def gz2_pixel_scale(petro_r90, size=100, radii_per_frame=GZ2_FRAME_RADII):
    """Pixel scale that frames each galaxy as Galaxy Zoo 2 did, for cutouts of ``size`` pixels.

    GZ2 images span ``radii_per_frame`` Petrosian radii (424 pixels of
    0.02 ``petroR90_r``, Willett et al. 2013, Sect. 2), whatever the size of
    the galaxy; the same framing with ``size`` pixels needs
    ``radii_per_frame * petroR90_r / size`` per pixel.  ``sample-gz2`` was
    trained on the central 6 R90 of such frames (``radii_per_frame=6``), and
    with its scale augmentation holds from about 2.7 to 12 R90 per frame
    (see its model card's ``input['pixel_scale']``).

    Parameters
    ----------
    petro_r90 : `~astropy.units.Quantity`, column or array
        Petrosian radius containing 90 % of the r-band flux (``petroR90_r``
        of `~galzoo_cnn.samples.query_sdss_targets`); plain numbers are
        arcseconds.
    size : int
        Side of the cutouts in pixels.
    radii_per_frame : float
        Width of the frame in units of ``petro_r90``.

    Returns
    -------
    `~astropy.units.Quantity`
        Arcseconds per pixel, one per galaxy; pass it to `fetch_cutouts` as
        ``pixel_scale``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from galzoo_cnn.cutouts import gz2_pixel_scale
    >>> gz2_pixel_scale([5.0, 12.0] * u.arcsec, size=424)
    <Quantity [0.1 , 0.24] arcsec>
    >>> gz2_pixel_scale(5.0 * u.arcsec, size=100, radii_per_frame=6)
    <Quantity 0.3 arcsec>
    """
    if int(size) <= 0:
        raise ValueError(f"size={size!r} must be a positive number of pixels")
    radius = u.Quantity(getattr(petro_r90, "quantity", petro_r90), u.arcsec)
    return (radius * float(radii_per_frame) / int(size)).to(u.arcsec)


def _row_pixel_scales(table, pixel_scale, survey):
    """Arcseconds per pixel for every row: a default, one Quantity, a Quantity per row or a column."""
    if pixel_scale is None:
        pixel_scale = SURVEYS[survey]["pixel_scale"]
    if isinstance(pixel_scale, str):
        if pixel_scale not in table.colnames:
            raise KeyError(f"pixel_scale column {pixel_scale!r} is not in the table")
        pixel_scale = _angle(table[pixel_scale], pixel_scale, u.arcsec) * u.arcsec
    try:
        scales = u.Quantity(pixel_scale, u.arcsec)
    except u.UnitsError:
        raise u.UnitsError(f"pixel_scale must be an angle per pixel, got {pixel_scale!r}") from None
    scales = np.broadcast_to(np.asarray(scales.value, dtype=float), (len(table),))
    if scales.size and np.isfinite(scales).any() and np.nanmin(scales) <= 0:
        raise ValueError(f"pixel_scale must be positive; row {int(np.nanargmin(scales))} has "
                         f"{np.nanmin(scales):g} arcsec")
    return scales


def cutout_url(survey, ra, dec, size=100, pixel_scale=None, data_release=9, base_url=None,
               layer="ls-dr10", hips=HIPS_BANDS[1]):
    """URL of one cutout (``ra``, ``dec`` in degrees).

    For ``survey="hips"`` the URL asks hips2fits for one band, the HiPS
    survey ``hips``, as a FITS image in the TAN projection, north up; its
    parameters are made by `astroquery.hips2fits`.

    Examples
    --------
    >>> from galzoo_cnn.cutouts import cutout_url
    >>> cutout_url("legacy", 150.1, 2.2, base_url="http://127.0.0.1:8000")
    'http://127.0.0.1:8000/jpeg-cutout?ra=150.1&dec=2.2&layer=ls-dr10&pixscale=0.262&size=100'
    >>> print(cutout_url("hips", 150.1, 2.2, size=64, base_url="http://127.0.0.1:8000/hips2fits"))
    ... # doctest: +ELLIPSIS
    http://127.0.0.1:8000/hips2fits?width=64&height=64&projection=TAN&coordsys=icrs&...&hips=CDS%2FP%2FSDSS9%2Fr...
    """
    if survey not in SURVEYS:
        raise ValueError(f"unknown survey {survey!r}; expected one of {tuple(SURVEYS)}")
    spec = SURVEYS[survey]
    scale = u.Quantity(pixel_scale if pixel_scale is not None else spec["pixel_scale"], u.arcsec).value
    base = (base_url or getattr(conf, spec["config"])).rstrip("/")
    if survey == "hips":
        return f"{base}?{urllib.parse.urlencode(_hips2fits_payload(hips, ra, dec, size, scale))}"
    return base + spec["path"].format(data_release=data_release, ra=repr(float(ra)), dec=repr(float(dec)),
                                      scale=f"{scale:g}", size=int(size), layer=layer)


def _hips2fits_payload(hips, ra, dec, size, scale):
    from astropy.coordinates import Angle, Latitude, Longitude
    hips2fits = _astroquery("hips2fits", "survey='hips' (FITS cutouts)").hips2fits

    payload = hips2fits.query(hips=hips, width=int(size), height=int(size), projection="TAN",
                              ra=Longitude(float(ra) * u.deg), dec=Latitude(float(dec) * u.deg),
                              fov=Angle(int(size) * scale * u.arcsec), format="fits",
                              get_query_payload=True)
    return payload


def validate_fits_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a one-band FITS cutout; return ``(float32 image, header)`` or raise.

    Blank (every pixel NaN or equal: outside the survey) and dead pixels
    (NaN or exactly 0) are judged as for JPEGs (`validate_cutout`).

    Examples
    --------
    >>> import io, numpy as np
    >>> from astropy.io import fits
    >>> from galzoo_cnn.cutouts import validate_fits_cutout
    >>> buffer = io.BytesIO()
    >>> fits.PrimaryHDU(np.full((100, 100), np.nan, np.float32)).writeto(buffer)
    >>> validate_fits_cutout(buffer.getvalue())
    Traceback (most recent call last):
    ...
    galzoo_cnn.cutouts.CutoutError: blank: no finite pixel
    """
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(data)) as hdul:
            hdu = next((h for h in hdul if h.data is not None), None)
            if hdu is None:
                raise CutoutError("does not decode: no image in the FITS file")
            image, header = np.asarray(hdu.data, dtype=np.float32), hdu.header.copy()
    except CutoutError:
        raise
    except Exception as err:  # astropy raises OSError, ValueError, TypeError... on broken files
        raise CutoutError(f"does not decode: {err}") from None
    return _check_float_image(np.squeeze(image), size, max_dead_fraction), header


def _check_float_image(image, size, max_dead_fraction):
    if image.shape != (size, size):
        raise CutoutError(f"is {' x '.join(map(str, image.shape[::-1]))} pixels, expected {size} x {size}")
    finite = np.isfinite(image)
    if not finite.any():
        raise CutoutError("blank: no finite pixel")
    if np.nanmin(image) == np.nanmax(image):
        raise CutoutError(f"blank: every pixel is {np.nanmin(image)}")
    dead = float(np.mean(~finite | (image == 0)))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are NaN or 0 "
                          f"(limit {max_dead_fraction:.0%})")
    return image


def validate_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a cutout; return the decoded uint8 array or raise.

    Raises
    ------
    CutoutError
        ``"does not decode: ..."``, ``"is W x H, expected ..."``, ``"blank: ..."``
        (constant image) or ``"dead pixels: ..."``.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> from galzoo_cnn.cutouts import validate_cutout
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(buffer, "JPEG")
    >>> validate_cutout(buffer.getvalue())
    Traceback (most recent call last):
    ...
    galzoo_cnn.cutouts.CutoutError: blank: every pixel is 0
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            array = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise CutoutError(f"does not decode: {err}") from None
    if array.shape[:2] != (size, size):
        raise CutoutError(f"is {array.shape[1]} x {array.shape[0]} pixels, expected {size} x {size}")
    if array.min() == array.max():
        raise CutoutError(f"blank: every pixel is {array.min()}")
    dead = float(np.mean(array.max(axis=2) == 0))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are black (limit {max_dead_fraction:.0%})")
    return array


class _Fetcher:
    """Downloads one cutout with retries; shared by the worker threads."""

    def __init__(self, retries, timeout, backoff, size, max_dead_fraction):
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        self.size, self.max_dead_fraction = size, max_dead_fraction
        self.rng = random.Random()
        self.lock = threading.Lock()

    def _sleep(self, attempt, retry_after=None):
        if retry_after is not None:
            delay = retry_after
        else:
            with self.lock:
                jitter = self.rng.uniform(0.5, 1.5)
            delay = self.backoff * 2 ** (attempt - 1) * jitter
        time.sleep(min(delay, 120.0))

    def fetch(self, urls, path):
        """Download ``urls`` (one, or one per band) into ``path``; return (status, reason, attempts,
        nbytes, sha256)."""
        fits_cube = path.suffix == ".fits"
        bands, total_attempts = [], 0
        for url in urls:
            status, reason, attempts, band = self._get(url, fits_cube)
            total_attempts += attempts
            if status != "ok":
                return status, reason, total_attempts, 0, ""
            bands.append(band)
        data = _fits_cube(bands, urls) if fits_cube else bands[0]
        _write_atomic(path, data)
        return "ok", "", total_attempts, len(data), hashlib.sha256(data).hexdigest()

    def _get(self, url, fits_image):
        """One URL with retries: (status, reason, attempts, validated content)."""
        reason = ""
        for attempt in range(1, self.retries + 1):
            retry_after = None
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "galzoo_cnn"})
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = response.read()
            except urllib.error.HTTPError as err:
                reason = f"HTTP {err.code} {err.reason}"
                if err.code == 429:
                    retry_after = _retry_after(err.headers.get("Retry-After"))
                elif 400 <= err.code < 500:
                    return "failed", reason, attempt, None
            except TimeoutError:
                reason = f"timed out after {self.timeout} s"
            except urllib.error.URLError as err:
                if isinstance(err.reason, TimeoutError):
                    reason = f"timed out after {self.timeout} s"
                else:
                    reason = f"connection error: {err.reason}"
            except http.client.IncompleteRead as err:
                reason = f"corrupt: truncated body ({len(err.partial)} bytes received)"
            except (ConnectionError, http.client.HTTPException) as err:
                reason = f"connection error: {err!r}"
            else:
                try:
                    if fits_image:
                        content = validate_fits_cutout(data, self.size, self.max_dead_fraction)
                    else:
                        validate_cutout(data, self.size, self.max_dead_fraction)
                        content = data
                except CutoutError as err:
                    if str(err).startswith("blank"):
                        return "blank", str(err), attempt, None
                    reason = f"corrupt: {err}"
                else:
                    return "ok", "", attempt, content
            if attempt < self.retries:
                self._sleep(attempt, retry_after)
        status = "corrupt" if reason.startswith("corrupt") else "failed"
        return status, reason.removeprefix("corrupt: "), self.retries, None


def _fits_cube(bands, urls):
    """One FITS file: the bands as a (band, y, x) float32 cube, the first band's WCS, BANDn keywords."""
    from astropy.io import fits
    from astropy.wcs import WCS

    header = WCS(bands[0][1]).celestial.to_header()
    for k, url in enumerate(urls, start=1):
        header[f"BAND{k}"] = (dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)).get("hips", ""),
                              "HiPS survey of plane k")
    header["ORIGIN"] = "galzoo_cnn fetch_cutouts (CDS hips2fits)"
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.stack([b[0] for b in bands]), header=header).writeto(buffer)
    return buffer.getvalue()


def _retry_after(value):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _write_atomic(path, data):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _file_names(table, id_column, ext=".jpg"):
    if id_column is None:
        width = len(str(max(len(table) - 1, 0)))
        return [f"row{i:0{width}d}{ext}" for i in range(len(table))]
    if id_column not in table.colnames:
        raise KeyError(f"id column {id_column!r} is not in the table")
    ids = np.asarray(table[id_column]).astype(str).tolist()
    bad = [(i, v) for i, v in enumerate(ids) if not _SAFE_NAME.match(v)]
    if bad:
        raise ValueError(f"id column {id_column!r} holds values that cannot be file names, e.g. row "
                         f"{bad[0][0]}: {bad[0][1]!r}")
    seen = {}
    for row, value in enumerate(ids):
        if value in seen:
            raise ValueError(f"id column {id_column!r} has duplicate values, e.g. {value!r} in rows "
                             f"{seen[value]} and {row}")
        seen[value] = row
    return [f"{v}{ext}" for v in ids]


def fetch_cutouts(table, directory, survey="sdss", data_release=9, size=100, pixel_scale=None,
                  id_column=None, ra_column="ra", dec_column="dec", max_workers=8, retries=5,
                  timeout=None, base_url=None, progress=True, backoff=1.0, max_dead_fraction=0.5,
                  bands=HIPS_BANDS):
    """Download a cutout for every row of ``table`` into ``directory``.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Rows to fetch; ``ra`` / ``dec`` in degrees or with angle units.
    directory : str or `~pathlib.Path`
        Where the JPEGs go (``<id>.jpg``); created if needed.
    survey : {'sdss', 'legacy', 'hips'}
        SDSS SkyServer ImgCutout or the Legacy Surveys viewer (ls-dr10),
        JPEG colour composites; or ``'hips'``: FITS cubes, one plane per
        HiPS survey of ``bands``, from the CDS hips2fits service.
    data_release : int
        SDSS data release in the URL.
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
    max_workers : int
        Requests in flight at once.
    retries : int
        Attempts per cutout.
    timeout : float, optional
        Seconds per request; default `galzoo_cnn.config.conf.cutout_timeout`.
    base_url : str, optional
        Service root; default from `galzoo_cnn.config.conf`.
    progress : bool
        Show a tqdm progress bar.
    backoff : float
        First retry delay in seconds, doubled each attempt, with +-50 % jitter.
    max_dead_fraction : float
        Largest fraction of pure-black pixels a valid cutout may have.
    bands : sequence of str
        HiPS surveys of the planes of a ``survey="hips"`` cube (default:
        `HIPS_BANDS`, SDSS DR9 g, r, i); each is one request.

    Returns
    -------
    `~astropy.table.Table`
        The manifest: ``row``, ``id``, ``ra``, ``dec``, ``path`` (relative to
        ``directory``), ``pixel_scale`` and ``cutout_fov`` (the side of the
        frame, ``size * pixel_scale``), ``status``, ``reason``, ``attempts``,
        ``nbytes``, ``sha256``; counts per status in ``meta['counts']``.
        `~galzoo_cnn.classify.classify_table` compares ``cutout_fov`` with the
        scale a model was trained at.
    """
    from tqdm.auto import tqdm

    table = as_table(table, copy=False)
    directory = Path(directory).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the cutout directory {str(directory)!r}: {err.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"the cutout directory {str(directory)!r} is not writable")
    for stale in directory.glob(".*.part"):  # left by a killed run
        stale.unlink()
    ext = ".fits" if survey == "hips" else ".jpg"
    if survey not in SURVEYS:
        raise ValueError(f"unknown survey {survey!r}; expected one of {tuple(SURVEYS)}")
    names = _file_names(table, id_column, ext)
    ra, dec = (_degrees(table[c], c) if c in table.colnames else None for c in (ra_column, dec_column))
    if ra is None or dec is None:
        raise KeyError(f"coordinate columns {ra_column!r} / {dec_column!r} are not both in the table")
    if int(size) <= 0:
        raise ValueError(f"size={size!r} must be a positive number of pixels")
    scales = _row_pixel_scales(table, pixel_scale, survey)
    timeout = conf.cutout_timeout if timeout is None else timeout
    fetcher = _Fetcher(retries, timeout, backoff, size, max_dead_fraction)

    rows = [None] * len(table)
    todo = []
    for i, name in enumerate(names):
        path = directory / name
        if not (np.isfinite(ra[i]) and np.isfinite(dec[i])):
            rows[i] = ("failed", "no finite coordinates", 0, 0, "")
        elif not np.isfinite(scales[i]):
            rows[i] = ("failed", "no finite pixel scale", 0, 0, "")
        elif (data := _valid_file_bytes(path, size, max_dead_fraction, len(bands))) is not None:
            rows[i] = ("cached", "", 0, len(data), hashlib.sha256(data).hexdigest())
        else:
            todo.append(i)
    workers = max(1, int(max_workers))
    with ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=len(todo), desc="cutouts", disable=not progress) as bar:
        pending = {}
        queue = iter(todo)
        while True:
            # keep a bounded number of requests queued: memory stays flat for any table size
            for i in queue:
                urls = [cutout_url(survey, ra[i], dec[i], size, scales[i] * u.arcsec, data_release, base_url,
                                   hips=band) for band in (bands if survey == "hips" else bands[:1])]
                pending[pool.submit(fetcher.fetch, urls, directory / names[i])] = i
                if len(pending) >= 4 * workers:
                    break
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                rows[pending.pop(future)] = future.result()
                bar.update()

    manifest = Table({
        "row": np.arange(len(table)),
        "id": [n[: -len(ext)] for n in names],
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
    counts = {s: int(np.sum(manifest["status"] == s)) for s in ("ok", "cached", "blank", "corrupt", "failed")}
    manifest.meta.update(counts=counts, survey=survey, directory=str(directory), size=size)
    log.info(f"fetch_cutouts: {counts}")
    return manifest


def _valid_file_bytes(path, size, max_dead_fraction, n_bands=1):
    """The bytes of an existing valid cutout, or None (missing or invalid)."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        if path.suffix == ".fits":
            _validate_cube(data, size, max_dead_fraction, n_bands)
        else:
            validate_cutout(data, size, max_dead_fraction)
    except CutoutError:
        return None
    return data


def _validate_cube(data, size, max_dead_fraction, n_bands):
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(data)) as hdul:
            cube = np.asarray(hdul[0].data, dtype=np.float32)
    except Exception as err:
        raise CutoutError(f"does not decode: {err}") from None
    if cube.shape != (n_bands, size, size):
        raise CutoutError(f"is a {cube.shape} cube, expected {(n_bands, size, size)}")
    for plane in cube:
        _check_float_image(plane, size, max_dead_fraction)
