# Licensed under a 3-clause BSD style license - see LICENSE
"""
The paper's samples: SDSS targets, and their split into training, inference and deep-test galaxies.

* **target**: SDSS spectroscopic galaxies with 0.003 < z < 0.1,
  -24 < M_r < -19.4, m_r < 17.7 and V_LG > 1500 km/s (`query_sdss_targets`,
  `select_targets`);
* **training**: targets matching a Galaxy Zoo 2 galaxy; **inference**: the
  others; **deep test**: inference galaxies matching Galaxy Zoo DECaLS
  (`build_samples`).

How the derived quantities are computed (the paper does not say; these are
the package's documented choices, all parameters):

* ``m_r`` is the Petrosian r magnitude corrected for Galactic extinction,
  ``petroMag_r - extinction_r`` (the SDSS main-sample selection magnitude).
* ``V_LG`` is the velocity in the Local Group frame,
  ``V_LG = c z + V_apex [sin b sin b_A + cos b cos b_A cos(l - l_A)]`` with
  the apex of Karachentsev & Makarov (1996): ``V_apex = 316 km/s``,
  ``l_A = 93 deg``, ``b_A = -4 deg``; ``l, b`` are Galactic coordinates.
* ``M_r = m_r - 5 log10(D_L / 10 pc)``, with ``D_L`` the luminosity distance
  of ``z`` in a given cosmology (default `~astropy.cosmology.Planck18`); no
  K-correction is applied (at z < 0.1 it is below about 0.1 mag in r).

Examples
--------
>>> from galzoo_cnn.samples import query_sdss_targets
>>> print(query_sdss_targets(get_query_payload=True))  # doctest: +ELLIPSIS
SELECT g.objID AS objid, g.ra, g.dec, s.z, ...
"""

import warnings

import numpy as np
from astropy import constants as const
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn

from .columns import PROVENANCE_KEY, describe_columns
from .config import conf
from .exceptions import DuplicateMatchWarning, InputError, ServiceError
from .tables import as_table, positive_angle, provenance, require_columns
from .utils._deprecation import keyword_options
from .utils._network import service_errors
from .utils._optional import astroquery
from .utils._values import degrees

__all__ = ["LOCAL_GROUP_APEX", "VIZIER_CATALOGS", "sdss_target_sql", "query_sdss_targets", "query_gz2",
           "query_gz_decals", "query_vizier", "local_group_velocity",
           "absolute_magnitude", "select_targets", "sky_coordinates", "nearest_match", "build_samples"]

#: Apex of the Sun's motion relative to the Local Group (Karachentsev & Makarov 1996).
LOCAL_GROUP_APEX = {"v": 316 * u.km / u.s, "l": 93 * u.deg, "b": -4 * u.deg}


@keyword_options
def sdss_target_sql(z_range=(0.003, 0.1), mag_r_max=17.7, limit=None):
    """The SkyServer SQL of the target query: spectroscopic galaxies in a redshift range.

    The absolute-magnitude and V_LG cuts need a cosmology and are applied
    afterwards by `select_targets`.

    Parameters
    ----------
    z_range : (float, float)
        Redshift range (exclusive).
    mag_r_max : float
        Faintest Petrosian r magnitude.
    limit : int, optional
        At most this many rows.

    Examples
    --------
    >>> from galzoo_cnn.samples import sdss_target_sql
    >>> "s.z > 0.003 AND s.z < 0.1" in sdss_target_sql()
    True
    """
    top = f"TOP {int(limit)} " if limit else ""
    return (
        f"SELECT {top}g.objID AS objid, g.ra, g.dec, s.z, s.zErr AS z_err, g.petroMag_r, "
        "g.extinction_r, g.petroR90_r, g.modelMag_u, g.modelMag_r, g.extinction_u "
        "FROM Galaxy AS g JOIN SpecObj AS s ON s.bestObjID = g.objID "
        f"WHERE s.class = 'GALAXY' AND s.zWarning = 0 AND s.z > {z_range[0]} AND s.z < {z_range[1]} "
        f"AND g.petroMag_r - g.extinction_r < {mag_r_max}"
    )


@keyword_options
def query_sdss_targets(data_release=None, z_range=(0.003, 0.1), abs_mag_r=(-24, -19.4), mag_r_max=17.7,
                       v_lg_min=1500 * u.km / u.s, cosmology=None, limit=None, timeout=600,
                       get_query_payload=False):
    """Query SDSS for the target sample (needs network; astroquery's SDSS service).

    Parameters
    ----------
    data_release : int, optional
        SDSS data release; default `galzoo_cnn.config.conf`'s
        ``sdss_data_release`` (9, the paper's).
    z_range, abs_mag_r, mag_r_max, v_lg_min, cosmology
        The selection (see the module docstring and `select_targets`).
    limit : int, optional
        At most this many rows (``TOP n``), for trials.
    timeout : float
        Seconds to wait for SkyServer.
    get_query_payload : bool
        Return the SQL instead of running it.

    Returns
    -------
    `~astropy.table.QTable` or str
        The selected targets with ``m_r``, ``abs_mag_r``, ``v_lg``, ``u_r``
        and units, or the SQL.

    Examples
    --------
    >>> from galzoo_cnn.samples import query_sdss_targets
    >>> query_sdss_targets(limit=10, get_query_payload=True).startswith("SELECT TOP 10 ")
    True
    """
    sql = sdss_target_sql(z_range=z_range, mag_r_max=mag_r_max, limit=limit)
    if get_query_payload:
        return sql
    table = _run_sdss_sql(sql, data_release, timeout)
    return select_targets(table, abs_mag_r=abs_mag_r, v_lg_min=v_lg_min, cosmology=cosmology)


def _run_sdss_sql(sql, data_release, timeout):
    """Rows of a SkyServer SQL query (astroquery); no rows is an error naming the query."""
    data_release = conf.sdss_data_release if data_release is None else data_release
    SDSS = astroquery("sdss", "querying SDSS").SDSS
    with service_errors(f"SDSS DR{data_release} SkyServer", timeout=timeout):
        table = SDSS.query_sql(sql, data_release=data_release, timeout=timeout)
    if table is None:
        raise ServiceError(f"SDSS DR{data_release} returned no rows for: {sql}")
    return table


#: VizieR catalogues of the Galaxy Zoo samples the paper uses.
VIZIER_CATALOGS = {
    "gz2": "J/MNRAS/435/2835",        # Willett et al. 2013
    "gz_decals": "J/MNRAS/509/3966",  # Walmsley et al. 2022
}


@keyword_options
def query_vizier(catalog, table=None, limit=None, get_query_payload=False):
    """Every column of a VizieR table, with the positions VizieR computes as ``ra`` / ``dec``.

    The positions are VizieR's computed ``_RAJ2000`` / ``_DEJ2000`` (degrees,
    ICRS / J2000), which every positional VizieR table provides whatever its
    own column names, renamed ``ra`` / ``dec`` (a column already called so
    becomes ``ra_catalog`` / ``dec_catalog``).  The other columns keep
    VizieR's names.

    Parameters
    ----------
    catalog : str
        VizieR catalogue, e.g. ``"J/MNRAS/509/3966"`` (`VIZIER_CATALOGS`).
    table : str, optional
        Table of the catalogue; needed when it has several (the error
        lists them).
    limit : int, optional
        At most this many rows (default: all).
    get_query_payload : bool
        Return the request (astroquery's payload) without sending it.

    Examples
    --------
    >>> from galzoo_cnn.samples import query_vizier
    >>> print(query_vizier("J/MNRAS/509/3966", limit=10, get_query_payload=True))
    -source=J/MNRAS/509/3966
    -out.max=10
    -out=*
    -out.add=_RAJ2000,_DEJ2000
    -out.meta=huUD
    -out.form=mini
    -oc.form=d
    """
    Vizier = astroquery("vizier", "querying VizieR").Vizier

    vizier = Vizier(columns=["_RAJ2000", "_DEJ2000", "*"], row_limit=int(limit) if limit else -1)
    source = catalog if table is None else f"{catalog.rstrip('/')}/{table}"
    if get_query_payload:
        return vizier.get_catalogs(source, get_query_payload=True)
    with service_errors(f"VizieR ({source})"):
        tables = vizier.get_catalogs(source)
    return _vizier_result(tables, catalog, source)


def _vizier_result(tables, catalog, source):
    """The one table of astroquery's answer, with VizieR's computed positions as ``ra`` / ``dec``."""
    if len(tables) == 0:
        raise ServiceError(f"VizieR returned no table for {source!r}")
    if len(tables) > 1:
        names = [name.rsplit("/", 1)[-1] for name in tables.keys()]
        raise InputError(f"VizieR catalogue {catalog!r} has {len(tables)} tables ({', '.join(names)}); "
                         f"choose one with table=")
    result = tables[0]
    missing = [c for c in ("_RAJ2000", "_DEJ2000") if c not in result.colnames]
    if missing:
        raise ServiceError(f"VizieR's answer for {source!r} has no computed position ({', '.join(missing)}): "
                           f"is it a table without coordinates?")
    for computed, name in (("_RAJ2000", "ra"), ("_DEJ2000", "dec")):
        if name in result.colnames:
            result.rename_column(name, f"{name}_catalog")
        result.rename_column(computed, name)
    result.meta["vizier"] = source
    return result


@keyword_options
def query_gz_decals(source="vizier", table=None, limit=None, get_query_payload=False):
    """The Galaxy Zoo DECaLS catalogue (Walmsley et al. 2022), for the deep test set.

    Parameters
    ----------
    source : str or `~pathlib.Path`
        ``"vizier"`` queries VizieR J/MNRAS/509/3966 (`query_vizier`;
        ``table`` chooses among its tables); otherwise a file (FITS,
        VOTable, ECSV, CSV), e.g. ``gz_decals_volunteers_5.csv`` of Zenodo.
    table, limit, get_query_payload
        As in `query_vizier`.

    Returns
    -------
    `~astropy.table.Table`
        With ``ra`` / ``dec``, ready for `build_samples` (``decals=``).

    Examples
    --------
    >>> from galzoo_cnn.samples import query_gz_decals
    >>> query_gz_decals(limit=1, get_query_payload=True).splitlines()[0]
    '-source=J/MNRAS/509/3966'
    """
    if str(source) != "vizier":
        return as_table(source)
    return query_vizier(VIZIER_CATALOGS["gz_decals"], table=table, limit=limit,
                        get_query_payload=get_query_payload)


@keyword_options
def query_gz2(source="sdss", data_release=None, limit=None, timeout=600, get_query_payload=False, table=None):
    """The Galaxy Zoo 2 catalogue: from SDSS CAS (``zoo2MainSpecz``), VizieR or a local file.

    Parameters
    ----------
    source : str or `~pathlib.Path`
        ``"sdss"`` queries the CAS table ``zoo2MainSpecz`` (the GZ2 main
        sample with spectroscopic redshifts, Willett et al. 2013), whose
        columns follow the layout `galzoo_cnn.taxonomy` reads.  ``"vizier"``
        queries J/MNRAS/435/2835 (`query_vizier`; ``table`` chooses among
        its tables): good for the cross-match, but its columns keep VizieR's
        names, which the label makers do not read.  Otherwise a file (FITS,
        VOTable, ECSV, CSV), e.g. ``gz2_hart16.csv`` of data.galaxyzoo.org.
    data_release, limit, timeout, get_query_payload
        As in `query_sdss_targets`.
    table : str, optional
        VizieR table, with ``source="vizier"``.

    Returns
    -------
    `~astropy.table.Table` or str

    Examples
    --------
    >>> from galzoo_cnn.samples import query_gz2
    >>> query_gz2(limit=5, get_query_payload=True)
    'SELECT TOP 5 * FROM zoo2MainSpecz'
    >>> query_gz2(source="vizier", limit=5, get_query_payload=True).splitlines()[0]
    '-source=J/MNRAS/435/2835'
    """
    if str(source) == "vizier":
        return query_vizier(VIZIER_CATALOGS["gz2"], table=table, limit=limit,
                            get_query_payload=get_query_payload)
    if str(source) != "sdss":
        return as_table(source)
    sql = f"SELECT {'TOP ' + str(int(limit)) + ' ' if limit else ''}* FROM zoo2MainSpecz"
    if get_query_payload:
        return sql
    return _run_sdss_sql(sql, data_release, timeout)


@keyword_options
def sky_coordinates(table, ra_column="ra", dec_column="dec"):
    """`~astropy.coordinates.SkyCoord` of a table's rows; plain numbers are taken as degrees.

    Raises `ValueError` naming the rows whose coordinates are missing or not finite.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows with positions.
    ra_column, dec_column : str
        Coordinate columns (angles, plain degrees, or text: decimal degrees
        or sexagesimal, right ascension in hours).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.samples import sky_coordinates
    >>> sky_coordinates(Table({"ra": [10.0, float("nan")], "dec": [1.0, 2.0]}))
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: 1 row(s) without finite coordinates in 'ra' / 'dec': 1
    """
    require_columns(table, [ra_column, dec_column], role="coordinate")
    ra, dec = (degrees(table[name], name, axis=axis)
               for name, axis in ((ra_column, "ra"), (dec_column, "dec")))
    bad = ~(np.isfinite(ra) & np.isfinite(dec))
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        raise InputError(f"{len(rows)} row(s) without finite coordinates in {ra_column!r} / "
                         f"{dec_column!r}: {shown}")
    return SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")


def local_group_velocity(coords, z):
    """Velocity in the Local Group frame, ``c z`` plus the apex term (Karachentsev & Makarov 1996).

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        Positions.
    z : array-like
        Heliocentric redshifts.

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> from galzoo_cnn.samples import local_group_velocity
    >>> apex = SkyCoord(l=93, b=-4, unit="deg", frame="galactic")
    >>> local_group_velocity(apex, 0.0).round(1)
    <Quantity 316. km / s>
    """
    galactic = coords.galactic
    l_a, b_a = LOCAL_GROUP_APEX["l"], LOCAL_GROUP_APEX["b"]
    projection = (np.sin(galactic.b) * np.sin(b_a)
                  + np.cos(galactic.b) * np.cos(b_a) * np.cos(galactic.l - l_a))
    return (const.c * np.asarray(z) + LOCAL_GROUP_APEX["v"] * projection).to(u.km / u.s)


@keyword_options
def absolute_magnitude(apparent, z, cosmology=None):
    """``m - 5 log10(D_L / 10 pc)`` (no K-correction); default cosmology Planck18.

    Parameters
    ----------
    apparent : array-like
        Apparent magnitudes.
    z : array-like
        Redshifts.
    cosmology : `~astropy.cosmology.Cosmology`, optional
        Default: Planck18.

    Examples
    --------
    >>> from galzoo_cnn.samples import absolute_magnitude
    >>> round(float(absolute_magnitude(17.0, 0.05)), 2)
    -19.81
    """
    if cosmology is None:
        from astropy.cosmology import Planck18 as cosmology
    distance = cosmology.luminosity_distance(np.asarray(z, dtype=float))
    return np.asarray(apparent, dtype=float) - 5 * np.log10((distance / (10 * u.pc)).decompose().value)


@keyword_options
def select_targets(table, abs_mag_r=(-24, -19.4), v_lg_min=1500 * u.km / u.s, z_range=(0.003, 0.1),
                   mag_r_max=17.7, cosmology=None, ra_column="ra", dec_column="dec"):
    """Add the derived columns to an SDSS table and keep the paper's target sample.

    ``table`` needs ``ra``, ``dec``, ``z``, ``petroMag_r`` and ``extinction_r``
    (as returned by `sdss_target_sql`); ``modelMag_u`` / ``modelMag_r`` /
    ``extinction_u`` add ``u_r``.  The counts removed by each cut are in
    ``meta['selection']``.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        SDSS galaxies (columns as above).
    z_range : (float, float)
        Redshift range.
    mag_r_max : float
        Faintest apparent r magnitude.
    abs_mag_r : (float, float)
        Range of absolute r magnitudes kept (no K-correction).
    v_lg_min : `~astropy.units.Quantity`
        Smallest velocity relative to the Local Group.
    cosmology : `~astropy.cosmology.Cosmology`, optional
        Default: Planck18.
    ra_column, dec_column : str
        Coordinate columns.

    Returns
    -------
    `~astropy.table.QTable`

    Examples
    --------
    Apply the paper's cuts to the answer of `query_sdss_targets` (network)::

        from galzoo_cnn.samples import query_sdss_targets, select_targets
        targets = select_targets(query_sdss_targets())
        targets.meta["selection"]
    """
    from astropy.table import QTable

    table = QTable(as_table(table))
    coords = sky_coordinates(table, ra_column=ra_column, dec_column=dec_column)
    z = np.asarray(table["z"], dtype=float)
    table["m_r"] = (np.asarray(table["petroMag_r"], float) - np.asarray(table["extinction_r"], float)) * u.mag
    table["abs_mag_r"] = absolute_magnitude(table["m_r"].value, z, cosmology=cosmology) * u.mag
    table["v_lg"] = local_group_velocity(coords, z)
    if {"modelMag_u", "modelMag_r", "extinction_u"} <= set(table.colnames):
        table["u_r"] = (np.asarray(table["modelMag_u"], float) - np.asarray(table["extinction_u"], float)
                        - np.asarray(table["modelMag_r"], float) + np.asarray(table["extinction_r"], float)
                        ) * u.mag
    if "petroR90_r" in table.colnames and getattr(table["petroR90_r"], "unit", None) is None:
        table["petroR90_r"] = np.asarray(table["petroR90_r"], float) * u.arcsec
    cuts = {
        f"{z_range[0]} < z < {z_range[1]}": (z > z_range[0]) & (z < z_range[1]),
        f"m_r < {mag_r_max}": table["m_r"].value < mag_r_max,
        f"{abs_mag_r[0]} < M_r < {abs_mag_r[1]}": (table["abs_mag_r"].value > abs_mag_r[0])
        & (table["abs_mag_r"].value < abs_mag_r[1]),
        f"V_LG > {v_lg_min}": table["v_lg"] > v_lg_min,
    }
    keep = np.ones(len(table), dtype=bool)
    removed = {}
    for name, passed in cuts.items():
        removed[name] = int(np.sum(keep & ~passed))
        keep &= passed
    selected = table[keep]
    selected.meta["selection"] = {"input": len(table), "removed": removed, "selected": int(keep.sum())}
    return describe_columns(selected, copy=False)


@keyword_options
def build_samples(targets, gz2, decals=None, radius=1 * u.arcsec, ra_column="ra", dec_column="dec"):
    """Split targets into training (GZ2 match) and inference galaxies, and flag the deep test set.

    Cross-matches on the sky (`~astropy.coordinates.SkyCoord.match_to_catalog_sky`).
    Each GZ2 galaxy labels at most one target, the nearest: other targets
    within ``radius`` of the same GZ2 galaxy (e.g. shredded photometry)
    are treated as unmatched, flagged ``gz2_duplicate`` and reported.

    Parameters
    ----------
    targets, gz2, decals : `~astropy.table.Table` or path
        Tables with ``ra`` / ``dec`` in degrees (or angle units); ``decals``
        (Galaxy Zoo DECaLS) is optional.
    radius : `~astropy.units.Quantity`
        Match radius (default 1 arcsec).
    ra_column, dec_column : str
        Coordinate columns of every table.

    Returns
    -------
    `~astropy.table.Table`
        The targets with ``sample`` (``training`` / ``inference``),
        ``gz2_index`` (row of ``gz2``, -1 if none), ``gz2_sep`` (arcsec,
        masked if none), ``gz2_duplicate``, ``deep_test`` and ``decals_sep``;
        counts in ``meta['samples']``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.samples import build_samples
    >>> targets = Table({"ra": [10.0, 20.0], "dec": [0.0, 5.0]})
    >>> gz2 = Table({"ra": [10.0001], "dec": [0.0]})
    >>> build_samples(targets, gz2)["sample"].tolist()
    ['training', 'inference']
    """
    radius = positive_angle(radius, "radius")
    inputs = [targets, gz2, decals]  # files among them are hashed into the provenance
    targets = as_table(targets)
    coords = sky_coordinates(targets, ra_column=ra_column, dec_column=dec_column)
    index, sep = nearest_match(coords, sky_coordinates(as_table(gz2, copy=False), ra_column=ra_column,
                                                       dec_column=dec_column))
    within = sep <= radius
    duplicate = np.zeros(len(targets), dtype=bool)
    for gz2_row in np.unique(index[within]):  # nearest target keeps the match
        rows = np.flatnonzero(within & (index == gz2_row))
        if len(rows) > 1:
            losers = rows[np.argsort(sep[rows])[1:]]
            duplicate[losers] = True
    matched = within & ~duplicate
    targets["sample"] = np.where(matched, "training", "inference")
    targets["gz2_index"] = np.where(matched, index, -1)
    targets["gz2_sep"] = MaskedColumn(sep.to_value(u.arcsec), mask=~matched, unit=u.arcsec)
    targets["gz2_duplicate"] = duplicate
    targets["deep_test"] = np.zeros(len(targets), dtype=bool)
    if decals is not None:
        d_index, d_sep = nearest_match(coords, sky_coordinates(as_table(decals, copy=False),
                                                               ra_column=ra_column,
                                                          dec_column=dec_column))
        d_within = (d_sep <= radius) & ~matched
        targets["deep_test"] = d_within
        targets["decals_sep"] = MaskedColumn(d_sep.to_value(u.arcsec), mask=~d_within, unit=u.arcsec)
    summary = {"targets": len(targets), "training": int(matched.sum()),
               "inference": int((~matched).sum()), "deep_test": int(targets["deep_test"].sum()),
               "gz2_duplicates": int(duplicate.sum()), "radius_arcsec": float(radius.value)}
    targets.meta["samples"] = summary
    targets.meta[PROVENANCE_KEY] = provenance("build_samples", inputs=inputs,
                                              radius_arcsec=float(radius.to_value(u.arcsec)))
    targets = describe_columns(targets, copy=False)
    if duplicate.any():
        warnings.warn(DuplicateMatchWarning(
            f"build_samples: {duplicate.sum()} target(s) lie within {radius} of a GZ2 galaxy already "
            f"matched to a nearer target; they are flagged gz2_duplicate"), stacklevel=2)
    return targets


def nearest_match(coords, catalog):
    """Row of the nearest ``catalog`` position to each of ``coords``, and its separation.

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        Positions to match.
    catalog : `~astropy.coordinates.SkyCoord`
        Positions to match them to; an empty catalogue matches nothing.

    Returns
    -------
    index : numpy.ndarray
        Row in ``catalog`` (-1 where the catalogue is empty).
    separation : `~astropy.units.Quantity`
        In arcseconds (infinite where nothing matched).

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> from galzoo_cnn.samples import nearest_match
    >>> catalog = SkyCoord([20.0, 10.0], [0.0, 0.0001], unit="deg")
    >>> index, sep = nearest_match(SkyCoord([10.0], [0.0], unit="deg"), catalog)
    >>> int(index[0]), round(float(sep[0].value), 2)
    (1, 0.36)
    """
    if len(catalog) == 0:
        return np.full(len(coords), -1), np.full(len(coords), np.inf) * u.arcsec
    index, sep, _ = coords.match_to_catalog_sky(catalog)
    return np.asarray(index), sep.to(u.arcsec)
