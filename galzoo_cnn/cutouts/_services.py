# Licensed under a 3-clause BSD style license - see LICENSE
"""The cutout services: one registered class per survey (its URL, pixel scale, what its answers are and
how several bands make one file), and the registry `SURVEYS`."""

import io
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..config import conf
from ..exceptions import GalzooDeprecationWarning
from ..utils._deprecation import keyword_options
from ..utils._optional import astroquery
from ..utils._registry import Registry
from ._validate import _validate_cube, validate_cutout, validate_fits_cutout

#: HiPS surveys of the bands of a ``survey="hips"`` FITS cube, by default (SDSS DR9 g, r, i).
HIPS_BANDS = ("CDS/P/SDSS9/g", "CDS/P/SDSS9/r", "CDS/P/SDSS9/i")


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
    extension = ".fits"
    takes_bands = True

    def band_urls(self, ra, dec, size, scale, *, base_url=None, data_release=None, bands=None,
                  layer=None):
        # one FITS image per band, TAN projection, north up; parameters made by astroquery.hips2fits
        root = self.root(base_url)
        return [f"{root}?{urllib.parse.urlencode(_hips2fits_payload(band, ra, dec, size, scale))}"
                for band in (HIPS_BANDS if bands is None else bands)]

    def root(self, base_url=None):
        # astroquery.hips2fits.conf.server is the one place the service's URL is configured
        if base_url is None and conf.hips2fits_url:
            warnings.warn(GalzooDeprecationWarning(
                "conf.hips2fits_url is deprecated: set astroquery.hips2fits.conf.server instead"),
                stacklevel=3)
            base_url = conf.hips2fits_url
        if base_url is None:
            base_url = astroquery("hips2fits", "survey='hips' (FITS cutouts)").conf.server
        return base_url.rstrip("/")

    def check_answer(self, data, size, max_dead_fraction):
        return validate_fits_cutout(data, size=size, max_dead_fraction=max_dead_fraction)

    def assemble(self, contents, urls):
        return _fits_cube(contents, urls)

    def check_file(self, data, size, max_dead_fraction, n_bands):
        _validate_cube(data, size, max_dead_fraction, n_bands)


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
