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

import datetime
import email.utils
import hashlib
import http.client
import io
import math
import os
import random
import re
import socket
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
from astropy.table import MaskedColumn, Table

from .columns import PROVENANCE_KEY, describe_columns
from .config import conf
from .exceptions import CutoutError, InputError, InputTypeError
from .tables import (
    as_table,
    atomic_write,
    check_integer,
    provenance,
    refuse_overwrite,
    require_columns,
    stale_parts,
    write_table_atomic,
)
from .utils._cards import default_frame_r90
from .utils._deprecation import keyword_options, renamed_arguments
from .utils._optional import astroquery
from .utils._pillow import UnreadableImage, decode, open_image
from .utils._registry import Registry
from .utils._signals import interruptible
from .utils._values import angle, degrees

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

#: HiPS surveys of the bands of a ``survey="hips"`` FITS cube, by default (SDSS DR9 g, r, i).
HIPS_BANDS = ("CDS/P/SDSS9/g", "CDS/P/SDSS9/r", "CDS/P/SDSS9/i")

#: Width of a Galaxy Zoo 2 image in Petrosian radii: 424 pixels of 0.02 petroR90_r each
#: (Willett et al. 2013, Sect. 2; the Kaggle challenge images are these frames).
GZ2_FRAME_RADII = 424 * 0.02

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
#: Longest id used as a file name as it is; longer or unsafe ids get a hashed name (`_file_names`).
_MAX_ID_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Longest wait a ``Retry-After`` or a back-off may impose, and the largest answer accepted.
_MAX_RETRY_WAIT = 120.0
_MAX_CUTOUT_BYTES = 64 * 2**20


#: The cutout services by name (`register_survey`); `fetch_cutouts`'s ``survey`` is a key.
SURVEYS = Registry("survey", make=lambda cls: cls())


def register_survey(name):
    """Class decorator adding a `CutoutService` to `SURVEYS` under ``name``.

    Parameters
    ----------
    name : str
        The survey's name (``fetch_cutouts(survey=name)``).

    Examples
    --------
    >>> from galzoo_cnn.cutouts import SURVEYS
    >>> sorted(SURVEYS)
    ['hips', 'legacy', 'sdss']
    """
    return SURVEYS.register(name)


def cutout_services():
    """The registered cutout services as a table: name, file type, default pixel scale, bands, service.

    Examples
    --------
    >>> from galzoo_cnn.cutouts import cutout_services
    >>> cutout_services()["name", "extension", "bands"].pprint()
     name  extension bands
    ------ --------- -----
      hips     .fits  True
    legacy      .jpg False
      sdss      .jpg False
    """
    rows = [(name, svc.extension, svc.pixel_scale.to_value(u.arcsec), svc.takes_bands,
             svc.__doc__.strip().splitlines()[0]) for name, svc in ((n, SURVEYS[n]) for n in SURVEYS.names())]
    table = Table(rows=rows, names=("name", "extension", "pixel_scale", "bands", "description"))
    table["pixel_scale"].unit = u.arcsec
    return table


class CutoutService:
    """Base class of a cutout service: how to ask for one cutout and how to check the answer.

    A new survey is one subclass registered with `register_survey`, giving
    the root URL's configuration item, the default pixel scale, the file
    extension and `band_urls`; a service whose files are not JPEGs also
    overrides `check_answer`, `assemble` and `check_file`.
    """

    #: Name in `SURVEYS` (set by `register_survey`).
    name = None
    #: Default angle per pixel.
    pixel_scale = 0.396 * u.arcsec
    #: Attribute of `galzoo_cnn.config.conf` holding the service root.
    config_item = None
    #: Extension of the files written.
    extension = ".jpg"
    #: Whether the service takes ``bands`` (one request per band).
    takes_bands = False

    def root(self, base_url=None):
        return (base_url or getattr(conf, self.config_item)).rstrip("/")

    def band_urls(self, ra, dec, size, scale, *, base_url=None, data_release=None, bands=None,
                  layer=None):
        """The URLs of one cutout (one per band); ``scale`` in arcsec per pixel.

        ``data_release``, ``bands`` and ``layer`` are for the services that
        have them (SDSS data release, HiPS surveys, Legacy Surveys layer).
        """
        raise NotImplementedError

    def check_answer(self, data, size, max_dead_fraction):
        """The validated content of one answer (raises `CutoutError`)."""
        validate_cutout(data, size=size, max_dead_fraction=max_dead_fraction)
        return data

    def assemble(self, contents, urls):
        """The bytes of the file from the validated answers of `band_urls`."""
        return contents[0]

    def check_file(self, data, size, max_dead_fraction, n_bands):
        """Raise `CutoutError` unless ``data`` is a valid finished file (a cached cutout)."""
        validate_cutout(data, size=size, max_dead_fraction=max_dead_fraction)


@register_survey("sdss")
class SDSSCutouts(CutoutService):
    """SDSS SkyServer ImgCutout: gri colour JPEGs."""

    pixel_scale = 0.396 * u.arcsec
    config_item = "sdss_cutout_url"

    def band_urls(self, ra, dec, size, scale, *, base_url=None, data_release=None, bands=None,
                  layer=None):
        release = conf.sdss_data_release if data_release is None else data_release
        return [f"{self.root(base_url)}/dr{int(release)}/SkyServerWS/ImgCutout/getjpeg?ra={float(ra)!r}"
                f"&dec={float(dec)!r}&scale={scale:g}&width={int(size)}&height={int(size)}"]


@register_survey("legacy")
class LegacySurveyCutouts(CutoutService):
    """DESI Legacy Imaging Surveys viewer: grz colour JPEGs of DR10."""

    pixel_scale = 0.262 * u.arcsec
    config_item = "legacy_cutout_url"
    layer = "ls-dr10"

    def band_urls(self, ra, dec, size, scale, *, base_url=None, data_release=None, bands=None,
                  layer=None):
        return [f"{self.root(base_url)}/jpeg-cutout?ra={float(ra)!r}&dec={float(dec)!r}"
                f"&layer={layer or self.layer}&pixscale={scale:g}&size={int(size)}"]


@register_survey("hips")
class Hips2FitsCutouts(CutoutService):
    """CDS hips2fits: FITS cubes, one plane per HiPS survey (default SDSS9 g, r, i)."""

    pixel_scale = 0.396 * u.arcsec
    config_item = "hips2fits_url"
    extension = ".fits"
    takes_bands = True

    def band_urls(self, ra, dec, size, scale, *, base_url=None, data_release=None, bands=None,
                  layer=None):
        # one FITS image per band, TAN projection, north up; parameters made by astroquery.hips2fits
        root = self.root(base_url)
        return [f"{root}?{urllib.parse.urlencode(_hips2fits_payload(band, ra, dec, size, scale))}"
                for band in (HIPS_BANDS if bands is None else bands)]

    def check_answer(self, data, size, max_dead_fraction):
        return validate_fits_cutout(data, size=size, max_dead_fraction=max_dead_fraction)

    def assemble(self, contents, urls):
        return _fits_cube(contents, urls)

    def check_file(self, data, size, max_dead_fraction, n_bands):
        _validate_cube(data, size, max_dead_fraction, n_bands)


@keyword_options
def gz2_pixel_scale(petro_r90, size=100, radii_per_frame=None):
    """Pixel scale that frames each galaxy as Galaxy Zoo 2 did, for cutouts of ``size`` pixels.

    GZ2 scaled its images to each galaxy (Willett et al. 2013, Sect. 2):
    424 pixels of 0.02 ``petroR90_r``, a frame `GZ2_FRAME_RADII` = 8.48
    Petrosian radii wide, whatever the size of the galaxy.  A frame
    ``radii_per_frame`` radii wide with ``size`` pixels needs
    ``radii_per_frame * petroR90_r / size`` per pixel.  By default it is the
    frame the default model reads (`~galzoo_cnn.models.GalaxyClassifier.frame_r90`:
    6 R90, the central 300 pixels of a GZ2 frame, for the bundled models), so
    that every pixel fetched reaches the model; pass ``GZ2_FRAME_RADII`` for
    GZ2's own framing (`~galzoo_cnn.classify_table` reframes such cutouts
    from their ``cutout_fov`` and ``petroR90_r``).

    Parameters
    ----------
    petro_r90 : `~astropy.units.Quantity`, column or array
        Petrosian radius containing 90 % of the r-band flux (``petroR90_r``
        of `~galzoo_cnn.samples.query_sdss_targets`); plain numbers are
        arcseconds.
    size : int
        Side of the cutouts in pixels.
    radii_per_frame : float, optional
        Width of the frame in units of ``petro_r90``; default the default
        model's frame (`galzoo_cnn.config.conf.default_model`).

    Returns
    -------
    `~astropy.units.Quantity`
        Arcseconds per pixel, one per galaxy; pass it to `fetch_cutouts` as
        ``pixel_scale``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from galzoo_cnn.cutouts import gz2_pixel_scale
    >>> from galzoo_cnn.cutouts import GZ2_FRAME_RADII
    >>> gz2_pixel_scale([5.0, 12.0] * u.arcsec, size=424, radii_per_frame=GZ2_FRAME_RADII)
    <Quantity [0.1 , 0.24] arcsec>
    >>> gz2_pixel_scale(5.0 * u.arcsec, size=100)     # the default model's frame: 5.5 R90
    <Quantity 0.275 arcsec>
    """
    if radii_per_frame is None:
        radii_per_frame = default_frame_r90() or GZ2_FRAME_RADII
    if int(size) <= 0:
        raise InputError(f"size={size!r} must be a positive number of pixels")
    radius = u.Quantity(getattr(petro_r90, "quantity", petro_r90), u.arcsec)
    return (radius * float(radii_per_frame) / int(size)).to(u.arcsec)


def _row_pixel_scales(table, pixel_scale, survey):
    """Arcseconds per pixel for every row: a default, one Quantity, a Quantity per row or a column."""
    if pixel_scale is None:
        pixel_scale = _service(survey).pixel_scale
    if isinstance(pixel_scale, str):
        require_columns(table, pixel_scale, role="pixel_scale")
        pixel_scale = angle(table[pixel_scale], pixel_scale, u.arcsec) * u.arcsec
    try:
        scales = u.Quantity(pixel_scale, u.arcsec)
    except u.UnitsError:
        raise u.UnitsError(f"pixel_scale must be an angle per pixel, got {pixel_scale!r}") from None
    scales = np.broadcast_to(np.asarray(scales.value, dtype=float), (len(table),))
    if scales.size and np.isfinite(scales).any() and np.nanmin(scales) <= 0:
        raise InputError(f"pixel_scale must be positive; row {int(np.nanargmin(scales))} has "
                         f"{np.nanmin(scales):g} arcsec")
    return scales


@keyword_options
def cutout_url(survey, ra, dec, size=100, pixel_scale=None, data_release=None, base_url=None,
               layer="ls-dr10", hips=HIPS_BANDS[1]):
    """URL of one cutout (``ra``, ``dec`` in degrees).

    For ``survey="hips"`` the URL asks hips2fits for one band, the HiPS
    survey ``hips``, as a FITS image in the TAN projection, north up; its
    parameters are made by `astroquery.hips2fits`.

    Parameters
    ----------
    survey : str
        A key of `SURVEYS`.
    ra, dec : float
        Position in degrees.
    size : int
        Side of the cutout in pixels.
    pixel_scale : `~astropy.units.Quantity`, optional
        Angle per pixel; default the survey's.
    data_release : int, optional
        SDSS data release; default ``conf.sdss_data_release``.
    base_url : str, optional
        Service root; default from `galzoo_cnn.config.conf`.
    layer : str
        Legacy Surveys layer.
    hips : str
        HiPS survey of the band (``survey='hips'``).

    Examples
    --------
    >>> from galzoo_cnn.cutouts import cutout_url
    >>> cutout_url("legacy", 150.1, 2.2, base_url="http://127.0.0.1:8000")
    'http://127.0.0.1:8000/jpeg-cutout?ra=150.1&dec=2.2&layer=ls-dr10&pixscale=0.262&size=100'
    >>> print(cutout_url("hips", 150.1, 2.2, size=64, base_url="http://127.0.0.1:8000/hips2fits"))
    ... # doctest: +ELLIPSIS
    http://127.0.0.1:8000/hips2fits?width=64&height=64&projection=TAN&coordsys=icrs&...&hips=CDS%2FP%2FSDSS9%2Fr...
    """
    service = _service(survey)
    scale = u.Quantity(pixel_scale if pixel_scale is not None else service.pixel_scale, u.arcsec).value
    return service.band_urls(ra, dec, size, scale, base_url=base_url, data_release=data_release,
                             bands=[hips] if service.takes_bands else None, layer=layer)[0]


def _service(survey):
    return SURVEYS.get(survey)


def _hips2fits_payload(hips, ra, dec, size, scale):
    from astropy.coordinates import Angle, Latitude, Longitude
    hips2fits = astroquery("hips2fits", "survey='hips' (FITS cutouts)").hips2fits

    payload = hips2fits.query(hips=hips, width=int(size), height=int(size), projection="TAN",
                              ra=Longitude(float(ra) * u.deg), dec=Latitude(float(dec) * u.deg),
                              fov=Angle(int(size) * scale * u.arcsec), format="fits",
                              get_query_payload=True)
    return payload


@keyword_options
def validate_fits_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a one-band FITS cutout; return ``(float32 image, header)`` or raise.

    Blank (every pixel NaN or equal: outside the survey) and dead pixels
    (NaN or exactly 0) are judged as for JPEGs (`validate_cutout`).

    Parameters
    ----------
    data : bytes
        The answer of the service.
    size : int
        Expected side in pixels.
    max_dead_fraction : float
        Largest fraction of NaN or zero pixels.

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
    galzoo_cnn.exceptions.CutoutError: blank: no finite pixel
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
        raise CutoutError("blank: no finite pixel", "blank")
    if np.nanmin(image) == np.nanmax(image):
        raise CutoutError(f"blank: every pixel is {np.nanmin(image)}", "blank")
    dead = float(np.mean(~finite | (image == 0)))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are NaN or 0 "
                          f"(limit {max_dead_fraction:.0%})")
    return image


@keyword_options
def validate_cutout(data, size=100, max_dead_fraction=0.5):
    """Check the bytes of a cutout; return the decoded uint8 array or raise.

    Parameters
    ----------
    data : bytes
        The answer of the service.
    size : int
        Expected side in pixels.
    max_dead_fraction : float
        Largest fraction of pure-black pixels.

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
    galzoo_cnn.exceptions.CutoutError: blank: every pixel is 0
    """
    try:
        image = open_image(io.BytesIO(data))
        with image:
            if image.size != (size, size):  # from the header: a decompression bomb is never decoded
                raise CutoutError(f"is {image.size[0]} x {image.size[1]} pixels, expected {size} x {size}")
            with decode():
                image.load()
                array = np.asarray(image.convert("RGB"))
    except UnreadableImage as err:
        raise CutoutError(f"is too large to decode safely: {err}" if err.reason == "too_large"
                          else str(err)) from None
    if array.shape[:2] != (size, size):
        raise CutoutError(f"is {array.shape[1]} x {array.shape[0]} pixels, expected {size} x {size}")
    if array.min() == array.max():
        raise CutoutError(f"blank: every pixel is {array.min()}", "blank")
    dead = float(np.mean(array.max(axis=2) == 0))
    if dead > max_dead_fraction:
        raise CutoutError(f"dead pixels: {dead:.0%} of the pixels are black (limit {max_dead_fraction:.0%})")
    return array


class _Fetcher:
    """Downloads one cutout with retries; shared by the worker threads."""

    def __init__(self, service, retries, timeout, backoff, size, max_dead_fraction, deadline):
        self.service = service
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        self.size, self.max_dead_fraction, self.deadline = size, max_dead_fraction, deadline
        self.rng = random.Random()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set when the run is interrupted: no new attempt starts
        self.watches = set()  # the requests in flight, cut by halt()

    def _sleep(self, attempt, retry_after=None):
        if retry_after is not None:
            delay = retry_after
        else:
            with self.lock:
                jitter = self.rng.uniform(0.5, 1.5)
            delay = self.backoff * 2 ** (attempt - 1) * jitter
        self.stop.wait(min(delay, _MAX_RETRY_WAIT))

    def _read(self, url):
        """The body of ``url``, within ``timeout`` per socket read and ``deadline`` for the whole answer,
        status line and headers included (a server dripping bytes never holds a request longer), at most
        `_MAX_CUTOUT_BYTES`."""
        watch = _Watch()
        timer = threading.Timer(self.deadline, watch.cut)
        timer.daemon = True
        with self.lock:
            self.watches.add(watch)
        timer.start()
        start = time.monotonic()
        request = urllib.request.Request(url, headers={"User-Agent": "galzoo_cnn"})
        chunks, total = [], 0
        try:
            opener = urllib.request.build_opener(_WatchedHTTPHandler(watch), _WatchedHTTPSHandler(watch))
            with opener.open(request, timeout=self.timeout) as response:
                while chunk := response.read1(65536):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > _MAX_CUTOUT_BYTES:
                        raise _TooLarge(f"answer larger than {_MAX_CUTOUT_BYTES // 2**20} MiB")
                    if time.monotonic() - start > self.deadline:
                        raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s")
                    if self.stop.is_set():
                        raise _Stopped()
        except (_TooLarge, _Deadline, _Stopped):
            raise
        except Exception:
            # a cut socket surfaces as whatever the read in progress raises: say why it was cut
            if self.stop.is_set():
                raise _Stopped() from None
            if watch.expired:
                raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s") from None
            raise
        finally:
            timer.cancel()
            with self.lock:
                self.watches.discard(watch)
        if watch.expired:  # cut between two reads: what arrived may look complete but is not
            raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s")
        return b"".join(chunks)

    def halt(self):
        """Stop the run: no new attempt starts, and the requests in flight are cut at once."""
        self.stop.set()
        with self.lock:
            watches = list(self.watches)
        for watch in watches:
            watch.cut()

    def fetch(self, urls, path):
        """Download ``urls`` (one, or one per band) into ``path``; return (status, reason, attempts,
        nbytes, sha256)."""
        contents, total_attempts = [], 0
        for url in urls:
            status, reason, attempts, content = self._get(url)
            total_attempts += attempts
            if status != "ok":
                return status, reason, total_attempts, 0, ""
            contents.append(content)
        data = self.service.assemble(contents, urls)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
        return "ok", "", total_attempts, len(data), hashlib.sha256(data).hexdigest()

    def _get(self, url):
        """One URL with retries: (status, reason, attempts, validated content); the status of a
        failure is that of the last attempt (``corrupt`` for an answer that arrived unusable)."""
        status, reason = "failed", ""
        for attempt in range(1, self.retries + 1):
            retry_after = None
            if self.stop.is_set():
                return "failed", "interrupted", attempt - 1, None
            try:
                data = self._read(url)
            except _Stopped:
                return "failed", "interrupted", attempt, None
            except _TooLarge as err:
                return "corrupt", str(err), attempt, None
            except urllib.error.HTTPError as err:
                status, reason = "failed", f"HTTP {err.code} {err.reason}"
                if err.code in (429, 503):
                    retry_after = _retry_after(err.headers.get("Retry-After"))
                if 400 <= err.code < 500 and err.code != 429:
                    return status, reason, attempt, None
            except TimeoutError as err:
                status, reason = "failed", (str(err) if isinstance(err, _Deadline)
                                            else f"timed out after {self.timeout} s")
            except urllib.error.URLError as err:
                timed_out = isinstance(err.reason, TimeoutError)
                status, reason = "failed", (f"timed out after {self.timeout} s" if timed_out
                                            else f"connection error: {err.reason}")
            except http.client.IncompleteRead as err:
                status, reason = "corrupt", f"truncated body ({len(err.partial)} bytes received)"
            except (ConnectionError, http.client.HTTPException) as err:
                status, reason = "failed", f"connection error: {err!r}"
            else:
                try:
                    content = self.service.check_answer(data, self.size, self.max_dead_fraction)
                except CutoutError as err:
                    if err.reason == "blank":  # the survey has no data there: asking again will not help
                        return "blank", str(err), attempt, None
                    status, reason = "corrupt", str(err)
                else:
                    return "ok", "", attempt, content
            if attempt < self.retries:
                self._sleep(attempt, retry_after)
        return status, reason, self.retries, None


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


def _retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110, 10.2.3).

    Examples
    --------
    >>> from galzoo_cnn.cutouts import _retry_after
    >>> _retry_after("3"), _retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    (3.0, 10.0)
    """
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Watch:
    """The sockets of one request, shut down together when its deadline passes or the run stops: a
    socket timeout bounds each read, not a server that sends its status line or headers a byte at a
    time, or ``100 Continue`` forever."""

    def __init__(self):
        self.sockets, self.expired = [], False
        self.lock = threading.Lock()

    def add(self, sock):
        with self.lock:
            self.sockets.append(sock)
            expired = self.expired
        if expired:
            self.cut()

    def cut(self):
        with self.lock:
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Watched:
    """A connection whose socket joins a `_Watch` as soon as it is connected."""

    def __init__(self, *args, watch, **kwargs):
        super().__init__(*args, **kwargs)
        self.watch = watch

    def connect(self):
        super().connect()
        self.watch.add(self.sock)


class _WatchedConnection(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def http_open(self, req):
        return self.do_open(lambda *a, **k: _WatchedConnection(*a, watch=self.watch, **k), req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def https_open(self, req):
        return self.do_open(lambda *a, **k: _WatchedHTTPSConnection(*a, watch=self.watch, **k), req,
                            context=self._context)


class _Stopped(Exception):
    """The run was interrupted while this request was in flight."""


class _Deadline(TimeoutError):
    """The whole answer took longer than the deadline."""


class _TooLarge(Exception):
    """The answer outgrew `_MAX_CUTOUT_BYTES`."""


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
    ra, dec = (degrees(table[c], c) for c in (ra_column, dec_column))
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
            rows[i] = ("failed", "no finite coordinates", 0, 0, "")
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
    with tqdm(total=len(todo), desc="cutouts", disable=not progress) as bar:
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


def _valid_file_bytes(service, path, size, max_dead_fraction, n_bands=1):
    """The bytes of an existing valid cutout, or None (missing or invalid)."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        service.check_file(data, size, max_dead_fraction, n_bands)
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
