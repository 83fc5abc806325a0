# Licensed under a 3-clause BSD style license - see LICENSE
"""
Catalogues: the column-metadata registry and the FITS / VOTable / CDS writers.

Every column the package writes is described once, here: its unit, its IVOA
UCD (UCD1+), a description and a display format (`column_spec`).  The label
makers, the sample builder, `galzoo_cnn.classify_table` and every writer read
them from this registry, so a column means the same thing in every product.

`write_catalog` writes a table as

* **FITS**: a binary table with ``TUNITn``, ``TCOMMn`` (description) and
  ``TUCDn`` cards, provenance and references in the header, checksums;
* **VOTable 1.4**: ``unit``, ``ucd`` and ``DESCRIPTION`` on every ``FIELD``,
  an ICRS ``COOSYS`` referenced by the coordinates, ``INFO`` elements for the
  provenance and the references;
* **CDS**: a ``ReadMe`` and a fixed-width data file made by cdspyreadme, ready
  for a VizieR submission.

Each file is validated after writing (FITS re-read and verified, the VOTable
checked by astropy's validator with zero warnings, the CDS table re-read with
its ReadMe) before it replaces anything: a failed write leaves no file.

Examples
--------
>>> from galzoo_cnn.catalog import column_spec
>>> spec = column_spec("prob_spiral")
>>> spec.ucd, spec.description
('stat.probability', 'Probability that the galaxy is a disk galaxy with spiral arms, not edge-on')
"""

import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable, Table

from . import taxonomy
from .tables import _current_umask, _degrees, as_table, atomic_write, fits_safe_meta
from .exceptions import GalzooError

__all__ = ["ColumnSpec", "column_spec", "describe_columns", "catalog_columns", "write_catalog",
           "check_catalog",
           "CATALOG_FORMATS", "PROVENANCE_KEY", "REFERENCES_KEY", "CatalogError"]

#: ``meta`` key of the provenance dictionary (software, model, date...).
PROVENANCE_KEY = "provenance"
#: ``meta`` key of the list of references a catalogue must cite.
REFERENCES_KEY = "references"

#: The formats `write_catalog` writes, and where each goes for a ``basename``.
CATALOG_FORMATS = {"fits": "{basename}.fits", "votable": "{basename}.vot", "cds": "{basename}_cds"}


class CatalogError(GalzooError, ValueError):
    """A table that cannot be written as a catalogue; the message names the column or row."""


@dataclass(frozen=True)
class ColumnSpec:
    """Metadata of one catalogue column.

    Attributes
    ----------
    name : str
        Column name.
    unit : str or None
        Astropy unit string; `None` for dimensionless and non-numeric columns.
    ucd : str
        IVOA UCD1+ word(s).
    description : str
        One-line description (VOTable DESCRIPTION, FITS TCOMMn, CDS Explanations).
    format : str or None
        Python format specification for display, e.g. ``'.6f'``.
    values : tuple of str or None
        The only values the column takes; a column of that name holding
        others is not this one (e.g. the ``sample`` column of a GZ2 table).
    """

    name: str
    unit: str | None
    ucd: str
    description: str
    format: str | None = None
    values: tuple | None = None

    def fits(self, column):
        """Whether ``column`` can be the column this describes (its values are allowed)."""
        if self.values is None:
            return True
        present = set(np.unique(np.ma.compressed(np.ma.asarray(column)).astype(str)).tolist())
        return present <= set(self.values)


_PROB_FORMAT = ".4f"

_STATIC = (
    ColumnSpec("objid", None, "meta.id;meta.main", "SDSS photometric object identifier (objID)"),
    ColumnSpec("dr7objid", None, "meta.id;meta.main", "SDSS DR7 photometric object identifier (objID)"),
    ColumnSpec("dr8objid", None, "meta.id", "SDSS DR8 photometric object identifier (objID)"),
    ColumnSpec("ra", "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS)", ".6f"),
    ColumnSpec("dec", "deg", "pos.eq.dec;meta.main", "Declination (ICRS)", ".6f"),
    ColumnSpec("z", None, "src.redshift", "Spectroscopic redshift (SDSS)", ".5f"),
    ColumnSpec("z_err", None, "stat.error;src.redshift", "Error of the spectroscopic redshift", ".5f"),
    ColumnSpec("petroMag_r", "mag", "phot.mag;em.opt.R", "SDSS Petrosian r magnitude", ".3f"),
    ColumnSpec("modelMag_u", "mag", "phot.mag;em.opt.U", "SDSS model u magnitude", ".3f"),
    ColumnSpec("modelMag_r", "mag", "phot.mag;em.opt.R", "SDSS model r magnitude", ".3f"),
    ColumnSpec("extinction_u", "mag", "phys.absorption;em.opt.U", "Galactic extinction in u (SDSS)", ".3f"),
    ColumnSpec("extinction_r", "mag", "phys.absorption;em.opt.R", "Galactic extinction in r (SDSS)", ".3f"),
    ColumnSpec("petroR90_r", "arcsec", "phys.angSize;em.opt.R",
               "Radius containing 90 per cent of the r-band Petrosian flux", ".3f"),
    ColumnSpec("m_r", "mag", "phot.mag;em.opt.R",
               "Petrosian r magnitude corrected for Galactic extinction (petroMag_r - extinction_r)", ".3f"),
    ColumnSpec("abs_mag_r", "mag", "phys.magAbs;em.opt.R",
               "Absolute r magnitude, m_r - 5 log10(D_L / 10 pc), no K-correction", ".3f"),
    ColumnSpec("u_r", "mag", "phot.color;em.opt.U;em.opt.R",
               "Colour u - r of the extinction-corrected model magnitudes", ".3f"),
    ColumnSpec("v_lg", "km/s", "spect.dopplerVeloc;pos.lg",
               "Velocity in the Local Group frame (Karachentsev & Makarov 1996 apex)", ".1f"),
    ColumnSpec("sample", None, "meta.code",
               "Sample: training (matched to Galaxy Zoo 2) or inference (not matched)",
               values=("training", "inference")),
    ColumnSpec("rastring", None, "pos.eq.ra", "Right ascension, sexagesimal hours (GZ2 table)"),
    ColumnSpec("decstring", None, "pos.eq.dec", "Declination, sexagesimal degrees (GZ2 table)"),
    ColumnSpec("total_classifications", None, "meta.number", "Number of GZ2 classifications of the galaxy"),
    ColumnSpec("total_votes", None, "meta.number", "Total number of GZ2 votes on the galaxy"),
    ColumnSpec("gz2_index", None, "meta.id.cross", "Row of the matched galaxy in the GZ2 table (-1: none)"),
    ColumnSpec("gz2_sep", "arcsec", "pos.angDistance", "Separation from the matched GZ2 galaxy", ".3f"),
    ColumnSpec("gz2_duplicate", None, "meta.code.multip",
               "Within the match radius of a GZ2 galaxy already matched to a nearer target"),
    ColumnSpec("deep_test", None, "meta.code",
               "In the deep test set: an inference galaxy matched to Galaxy Zoo DECaLS"),
    ColumnSpec("decals_sep", "arcsec", "pos.angDistance", "Separation from the matched GZ DECaLS galaxy",
               ".3f"),
    ColumnSpec("gz2_class", None, "src.morph.type", "GZ2 morphology string (Willett et al. 2013)"),
    ColumnSpec("gz2_five_class", None, "src.morph.type",
               "Five-class type from the GZ2 votes (empty: no criterion or several met)"),
    ColumnSpec("gz2_five_class_criteria", None, "meta.note", "Five-class criteria the GZ2 votes met"),
    ColumnSpec("filename", None, "meta.id;meta.file", "Image file, relative to the image directory"),
    ColumnSpec("predicted_class", None, "src.morph.type",
               "Class of highest probability (empty when the image could not be used)"),
    ColumnSpec("status", None, "meta.code.status",
               "Classification status: ok, or why the image could not be used"),
    ColumnSpec("adversarial_score", None, "stat.probability",
               "Adversarial score: probability of belonging to the training sample (domain classifier)",
               _PROB_FORMAT),
    ColumnSpec("adversarial_score_shifted", None, "stat.probability",
               "Adversarial score after the fixed adversarial shift (k, m)", _PROB_FORMAT),
)
_STATIC_INDEX = {spec.name: spec for spec in _STATIC}

_SUFFIX_SPECS = {
    "count": (None, "meta.number", "Number of GZ2 votes for"),
    "weight": (None, "meta.number;stat.weight", "Weighted number of GZ2 votes for"),
    "fraction": (None, "stat.value", "Fraction of GZ2 votes for"),
    "weighted_fraction": (None, "stat.value;stat.weight", "Weighted fraction of GZ2 votes for"),
    "debiased": (None, "stat.value", "Debiased fraction of GZ2 votes for"),
    "flag": (None, "meta.code", "GZ2 clean-sample flag of"),
}


def _subject(name, prefer_answer=True):
    """A phrase for a class or feature name, from the taxonomy; `None` if unknown."""
    if name in taxonomy.CLASS_DESCRIPTIONS and not (prefer_answer and _is_answer(name)):
        return f"the galaxy is a {taxonomy.CLASS_DESCRIPTIONS[name]}".replace("a elliptical",
                                                                               "an elliptical")
    try:
        answer = taxonomy.answer(name)
    except KeyError:
        return None
    return f"GZ2 answer '{answer.label}' to '{taxonomy.task(answer.task).question}'"


def _is_answer(name):
    try:
        taxonomy.answer(name)
    except KeyError:
        return False
    return True


def _gz2_vote_spec(name):
    for suffix in sorted(_SUFFIX_SPECS, key=len, reverse=True):
        if not name.endswith("_" + suffix):
            continue
        stem = name[: -len(suffix) - 1]
        for answer in taxonomy.GZ2_ANSWERS:
            if stem == answer.column_stem:
                unit, ucd, text = _SUFFIX_SPECS[suffix]
                return ColumnSpec(name, unit, ucd, f"{text} '{answer.label}' "
                                  f"({taxonomy.task(answer.task).question})", None)
    return None


def column_spec(name, task=None):
    """The registry's metadata of column ``name``, or `None` if it has none.

    ``task`` is the task of the model that made the column, for the names
    that are both a class and a GZ2 answer (``spiral``, ``completely_round``,
    ``cigar_shaped``, ``merger``): ``'features'`` describes ``prob_spiral``
    as the probability of the GZ2 answer, any other task as that of the class.

    Besides the fixed columns (identifiers, coordinates, photometry, sample
    flags, classification outputs) the registry knows the column families
    whose names follow the taxonomy: ``prob_<class or feature>``,
    ``flag_<feature>``, ``label_<feature>`` and the GZ2 vote columns
    ``tNN_<task>_aMM_<answer>_<suffix>``.

    Examples
    --------
    >>> from galzoo_cnn.catalog import column_spec
    >>> column_spec("ra").unit, column_spec("ra").ucd
    ('deg', 'pos.eq.ra;meta.main')
    >>> print(column_spec("flag_bar").description)  # doctest: +NORMALIZE_WHITESPACE
    Model's verdict on GZ2 answer 'Bar' to 'Is there a sign of a bar feature through the
    centre of the galaxy?' (prob_bar >= the model's threshold)
    >>> column_spec("my_column") is None
    True
    """
    if name in _STATIC_INDEX:
        return _STATIC_INDEX[name]
    prefix, _, rest = name.partition("_")
    if prefix == "prob" and rest:
        subject = (_subject(rest, prefer_answer=task == "features")
                   or f"the galaxy belongs to class '{rest}'")
        text = (f"Probability of {subject}" if subject.startswith("GZ2") else f"Probability that {subject}")
        return ColumnSpec(name, None, "stat.probability", text, _PROB_FORMAT)
    if prefix == "flag" and rest and _subject(rest):
        return ColumnSpec(name, None, "meta.code;src.morph",
                          f"Model's verdict on {_subject(rest)} (prob_{rest} >= the model's threshold)")
    if prefix == "label" and rest and _subject(rest):
        return ColumnSpec(name, None, "meta.code;src.morph",
                          f"GZ2 volunteers' verdict on {_subject(rest)} (empty: task not well sampled)")
    return _gz2_vote_spec(name)


def describe_columns(table, descriptions=None, copy=True, task=None):
    """Set unit, description, display format and UCD of every column the registry knows.

    A column with a unit in the registry and no unit of its own is given the
    registry's; one with another, convertible unit (e.g. radians for ``ra``)
    is converted.  The UCD goes to ``column.meta['ucd']``, where the
    VOTable writer looks for it.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        The table.
    descriptions : dict, optional
        ``{column: description}`` for columns the registry does not know
        (or to override it).
    copy : bool
        Work on a copy (default) rather than on ``table`` itself.
    task : str, optional
        Task of the model whose outputs the table holds (see `column_spec`);
        default: ``meta['provenance']['model_task']`` when present.

    Returns
    -------
    `~astropy.table.Table`

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import describe_columns
    >>> t = describe_columns(Table({"ra": [10.5], "prob_spiral": [0.9]}))
    >>> str(t["ra"].unit), t["prob_spiral"].meta["ucd"]
    ('deg', 'stat.probability')
    """
    table = as_table(table, copy=copy)
    descriptions = descriptions or {}
    task = task or (table.meta.get(PROVENANCE_KEY) or {}).get("model_task")
    for name in table.colnames:
        spec = column_spec(name, task)
        column = table[name]
        if spec is not None and not spec.fits(column):
            spec = None
        if spec is not None and spec.unit is not None:
            unit = u.Unit(spec.unit)
            current = getattr(column, "unit", None)
            if current is None or current == u.dimensionless_unscaled:
                if isinstance(column, u.Quantity):
                    table[name] = column.value * unit
                else:
                    column.unit = unit
            elif current != unit:
                try:
                    if isinstance(column, u.Quantity):
                        table[name] = column.to(unit)
                    else:
                        column.convert_unit_to(unit)
                except u.UnitConversionError:
                    raise CatalogError(f"column {name!r} is in {current}, which does not convert to "
                                       f"{unit} ({spec.description})") from None
        column = table[name]
        info = column.info
        if name in descriptions:
            info.description = descriptions[name]
        elif spec is not None:
            info.description = spec.description
        if spec is not None:
            info.meta = dict(info.meta or {}, ucd=spec.ucd)
            if spec.format and getattr(column, "dtype", np.dtype(object)).kind == "f":
                info.format = spec.format
    return table


def catalog_columns(classes=None, features=None):
    """The registry as a table: name, unit, UCD and description of every output column.

    Parameters
    ----------
    classes : sequence of str, optional
        Classes of a single-label model, to list their ``prob_`` columns
        (default: the five classes).
    features : sequence of str, optional
        Features of a multi-label model (default: the 34 detailed features).

    Examples
    --------
    >>> from galzoo_cnn.catalog import catalog_columns
    >>> table = catalog_columns()
    >>> str(table[table["name"] == "predicted_class"]["ucd"][0])
    'src.morph.type'
    """
    classes = taxonomy.FIVE_CLASSES if classes is None else classes
    features = taxonomy.DETAILED_FEATURES if features is None else features
    names = [s.name for s in _STATIC]
    names += [f"prob_{c}" for c in classes]
    names += [n for f in features for n in (f"prob_{f}", f"flag_{f}")]
    names += [f"label_{f}" for f in features]
    rows = []
    for name in dict.fromkeys(names):
        spec = column_spec(name)
        rows.append((spec.name, spec.unit or "", spec.ucd, spec.description))
    return Table(rows=rows, names=("name", "unit", "ucd", "description"))


# ----------------------------------------------------------------------------------------------
# writing


def _with_coordinates(table, ra_column, dec_column):
    """``table`` with finite ICRS ``ra`` / ``dec`` columns in degrees; errors name the rows."""
    coords = [n for n in table.colnames if isinstance(table[n], SkyCoord)]
    if coords and ra_column not in table.colnames:
        icrs = table[coords[0]].icrs
        table[ra_column], table[dec_column] = icrs.ra.deg, icrs.dec.deg
    for name in coords:
        table.remove_column(name)
    missing = [c for c in (ra_column, dec_column) if c not in table.colnames]
    if missing:
        raise CatalogError(f"a catalogue needs coordinates: no column {' or '.join(map(repr, missing))} "
                           f"(columns: {', '.join(table.colnames[:15])}); pass ra_column= and "
                           f"dec_column=, or a SkyCoord column")
    for name, low, high in ((ra_column, 0, 360), (dec_column, -90, 90)):
        column = table[name]
        if getattr(column, "dtype", np.dtype(object)).kind not in "fiu":
            raise CatalogError(f"coordinate column {name!r} is not numeric ({column.dtype}); give "
                               f"degrees, or convert sexagesimal strings with SkyCoord first")
        values = _degrees(column, name)
        bad = np.flatnonzero(~np.isfinite(values) | (values < low) | (values > high))
        if bad.size:
            raise CatalogError(f"coordinate column {name!r} has {bad.size} missing, NaN or out-of-range "
                               f"value(s), first at row(s) {bad[:10].tolist()}; a catalogue row needs a "
                               f"position")
        table[name] = values
        table[name].unit = u.deg
    return table


def check_catalog(table, ra_column="ra", dec_column="dec", descriptions=None):
    """The table `write_catalog` would write, or a `CatalogError` saying what stops it.

    Checks the coordinates (present, numeric, finite, in range; a `SkyCoord`
    column is turned into ``ra`` / ``dec``), that the table is not empty,
    that every column is described and has one value per cell, and applies
    `describe_columns`.  Call it before a long computation whose result is
    to become a catalogue.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import check_catalog
    >>> check_catalog(Table({"ra": [1.0], "dec": [2.0], "mystery": [3]}))
    Traceback (most recent call last):
    ...
    galzoo_cnn.catalog.CatalogError: no description for column(s) mystery: every catalogue column ...
    """
    table = as_table(table)
    if isinstance(table, QTable):
        table = Table(table)
    if len(table) == 0:
        raise CatalogError("the table is empty: nothing to write")
    table = _with_coordinates(table, ra_column, dec_column)
    for name in table.colnames:
        if table[name].dtype.kind == "O":
            raise CatalogError(f"column {name!r} holds Python objects; give it a numeric or string type")
        if table[name].ndim > 1:
            raise CatalogError(f"column {name!r} is multidimensional {table[name].shape[1:]}; the "
                               f"catalogue formats need one value per cell")
    table = describe_columns(table, descriptions, copy=False)
    for name, spec in ((ra_column, column_spec("ra")), (dec_column, column_spec("dec"))):
        table[name].info.meta = dict(table[name].info.meta or {}, ucd=spec.ucd)
        table[name].info.description = table[name].info.description or spec.description
    undescribed = [n for n in table.colnames if not table[n].info.description]
    if undescribed:
        raise CatalogError(f"no description for column(s) {', '.join(undescribed)}: every catalogue "
                           f"column must be explained; pass descriptions={{name: text}} or drop them")
    return table


def _provenance_items(meta):
    provenance = dict(meta.get(PROVENANCE_KEY) or {})
    references = list(meta.get(REFERENCES_KEY) or [])
    return provenance, references


def _write_fits(table, path):
    from astropy.io import fits

    def write(tmp):
        ready = _fits_ready(table)
        hdu = fits.table_to_hdu(ready)
        for i, name in enumerate(table.colnames, start=1):
            column = table[name]
            hdu.header[f"TCOMM{i}"] = ready[name].info.description
            if column.info.meta.get("ucd"):
                hdu.header[f"TUCD{i}"] = column.info.meta["ucd"]
        hdu.header["RADESYS"] = ("ICRS", "coordinates of the ra / dec columns")
        primary = fits.PrimaryHDU()
        provenance, references = _provenance_items(table.meta)
        for key, value in provenance.items():
            primary.header.add_history(f"{key}: {value}")
        for reference in references:
            primary.header.add_comment(f"Reference: {reference}")
        hdu.name = "CATALOG"
        fits.HDUList([primary, hdu]).writeto(tmp, overwrite=True, checksum=True)
        _verify_fits(tmp, table)

    return atomic_write(path, write)


def _fits_ready(table):
    out = table.copy(copy_data=False)
    meta = {k: v for k, v in out.meta.items() if k not in (PROVENANCE_KEY, REFERENCES_KEY)}
    out.meta = fits_safe_meta(meta)
    for name in out.colnames:
        out[name].info.meta = {}
        out[name].info.format = None  # python format specs are not TDISPn codes
        if out[name].dtype.kind == "b" and np.ma.getmaskarray(out[name]).any():
            # FITS logicals have no null that astropy writes: 0 / 1 bytes with TNULL instead
            out[name] = MaskedColumn(np.asarray(out[name], dtype=np.uint8), mask=out[name].mask,
                                     description=out[name].info.description + " (1 true, 0 false)")
    return out


def _verify_fits(path, table):
    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checksum mismatch is a warning in astropy
        with fits.open(path, checksum=True) as hdul:
            hdul.verify("exception")
    _compare(table, Table.read(path, hdu="CATALOG"), "FITS", path)


def _write_votable(table, path, ra_column, dec_column):
    from astropy.io import votable
    from astropy.io.votable.tree import CooSys, Info

    def write(tmp):
        vot = votable.from_table(table)
        vot.version = "1.4"
        resource = vot.resources[0]
        resource.coordinate_systems.append(CooSys(ID="icrs", system="ICRS"))
        fields = vot.get_first_table().fields
        for field in fields:
            if field.name in (ra_column, dec_column):
                field.ref = "icrs"
        provenance, references = _provenance_items(table.meta)
        for key, value in provenance.items():
            vot.infos.append(Info(ID=f"provenance_{key}", name=key, value=str(value)))
        for i, reference in enumerate(references, start=1):
            vot.infos.append(Info(ID=f"reference_{i}", name="reference", value=reference))
        vot.to_xml(tmp)
        report = io.StringIO()
        if votable.validate(tmp, output=report) is not True:
            raise CatalogError(f"the VOTable written for {str(path)!r} does not validate:\n"
                               f"{report.getvalue()}")
        _compare(table, votable.parse_single_table(tmp).to_table(), "VOTable", path)

    return atomic_write(path, write)


def _write_cds(table, directory, title, authors, abstract, readme):
    from cdspyreadme import CDSTablesMaker

    directory = Path(directory)
    data_name = f"{directory.name.removesuffix('_cds')}.dat"
    cds = table.copy(copy_data=True)
    for name in cds.colnames:
        if cds[name].dtype.kind == "b":  # no logical type: 0 / 1 (int32: cdspyreadme's null is -999999)
            cds[name] = MaskedColumn(np.asarray(cds[name], dtype=np.int32),
                                     mask=np.ma.getmaskarray(cds[name]),
                                     description=cds[name].info.description + " (1 true, 0 false)")
    provenance, references = _provenance_items(table.meta)
    description = "; ".join(f"{k}: {v}" for k, v in provenance.items())
    if references:
        description += (". " if description else "") + "References: " + "; ".join(references) + "."
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".part", dir=directory.parent))
    try:
        maker = CDSTablesMaker(outfolder=str(tmp))
        maker.title, maker.authors, maker.abstract = title, authors, abstract
        maker.author = authors.split(",")[0].strip()
        maker.more_description = description or "Classified with galzoo_cnn."
        maker.keywords = "galaxies: general; methods: data analysis"
        readme = dict(readme or {})
        for catalogue, ref_title in readme.pop("see_also", _SEE_ALSO):
            maker.putRef(catalogue, ref_title)
        for key, value in readme.items():
            setattr(maker, key, value)
        cds_table = maker.addTable(cds, name=data_name, description=title)
        tolerance = {}
        for name in cds.colnames:  # the registry's precision, not every float32 digit
            fortran, tolerance[name] = _fortran_format(cds[name])
            if fortran:
                cds_table.get_column(name).set_format(fortran)
        maker.writeCDSTables()
        maker.makeReadMe()
        reread = Table.read(tmp / data_name, format="ascii.cds", readme=str(tmp / "ReadMe"))
        _compare(cds, reread, "CDS", directory, atol=tolerance)
        os.chmod(tmp, 0o777 & ~_current_umask())
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
            os.replace(directory, old / directory.name)
            os.replace(tmp, directory)
            shutil.rmtree(old)
        else:
            os.replace(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return directory


#: VizieR catalogues a galzoo_cnn catalogue relates to ("See also" of the CDS ReadMe).
_SEE_ALSO = (("J/MNRAS/435/2835", "Galaxy Zoo 2 morphologies (Willett+, 2013)"),)


def _fortran_format(column):
    """CDS Fortran format of a float column with a registry format, and its rounding tolerance."""
    fmt = column.info.format
    if column.dtype.kind != "f" or not fmt or not fmt.lstrip(".").rstrip("f").isdigit():
        return None, 0.0
    decimals = int(fmt.lstrip(".").rstrip("f"))
    values = np.ma.compressed(np.ma.masked_invalid(np.ma.asarray(column, dtype=float)))
    width = max([len(f"{v:.{decimals}f}") for v in (values.min(), values.max())] if values.size else [1])
    return f"F{max(width, decimals + 2)}.{decimals}", 0.5001 * 10.0 ** -decimals


def _compare(table, reread, what, path, atol=None):
    """Raise if ``reread`` lost a column, a row or a value of ``table``."""
    if reread.colnames != table.colnames or len(reread) != len(table):
        raise CatalogError(f"{what} file {str(path)!r} reads back as {len(reread)} rows x "
                           f"{reread.colnames}, not {len(table)} rows x {table.colnames}")
    for name in table.colnames:
        mine, theirs = table[name], reread[name]
        mask, their_mask = np.ma.getmaskarray(mine), np.ma.getmaskarray(theirs)
        numeric = np.asarray(mine).dtype.kind in "fiub"
        if numeric:  # a masked number must come back masked (or NaN), and only those
            filled = np.ma.filled(np.ma.asarray(theirs, dtype=float), np.nan)
            lost = mask & ~their_mask & ~np.isnan(filled)
        else:  # VOTable and FITS have no null string: a masked string comes back masked or empty
            lost = mask & ~their_mask & (np.char.strip(np.ma.filled(theirs, "").astype(str)) != "")
        if lost.any() or (their_mask & ~mask).any():
            raise CatalogError(f"{what} file {str(path)!r}: column {name!r} does not keep its masked "
                               f"(empty) values")
        a, b = np.asarray(mine)[~mask], np.asarray(np.ma.filled(theirs, theirs.dtype.type()))[~mask]
        if numeric:
            rtol = 1e-6 if atol is not None else 0.0  # CDS writes float32 with 7 significant digits
            same = np.allclose(a.astype(float), b.astype(float), rtol=rtol,
                               atol=(atol or {}).get(name, 0.0), equal_nan=True)
        else:
            same = np.array_equal(a.astype(str), np.char.rstrip(b.astype(str)))
        if not same:
            raise CatalogError(f"{what} file {str(path)!r}: column {name!r} does not read back "
                               f"as written")


def write_catalog(table, basename, formats=("fits", "votable", "cds"), overwrite=False,
                  ra_column="ra", dec_column="dec", descriptions=None, title=None,
                  authors="galzoo_cnn users", abstract=None, readme=None):
    """Write ``table`` as VizieR-ready FITS, VOTable and CDS catalogues.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.table.QTable` or path
        One row per galaxy, with coordinates.  Every column must be known to
        the registry (`column_spec`) or described (``descriptions``).
        ``meta['provenance']`` (a dict) and ``meta['references']`` (a list)
        are written to every format; `galzoo_cnn.classify_table` sets them.
    basename : str or `~pathlib.Path`
        Output name without extension: ``<basename>.fits``,
        ``<basename>.vot`` and the directory ``<basename>_cds/`` holding
        ``ReadMe`` and ``<name>.dat``.
    formats : sequence of {'fits', 'votable', 'cds'}
        Which to write.
    overwrite : bool
        Replace existing files; otherwise an existing file raises
        `FileExistsError` before anything is written.
    ra_column, dec_column : str
        ICRS coordinates in degrees (or with angle units).  A `SkyCoord`
        column is used when these are absent.
    descriptions : dict, optional
        Descriptions of columns the registry does not know.
    title, authors, abstract : str, optional
        For the CDS ReadMe.
    readme : dict, optional
        More `cdspyreadme.CDSTablesMaker` attributes for the ReadMe, e.g.
        ``{"catalogue": "J/MNRAS/509/3966", "date": "2027", "bibcode":
        "2027MNRAS.xxx.yyyyA", "keywords": "..."}``, and ``"see_also"``: a
        list of ``(VizieR catalogue, title)`` (default: GZ2,
        J/MNRAS/435/2835).  The ones left out keep cdspyreadme's
        placeholders ("Publication date ?"...), which a VizieR submission
        must fill.

    Returns
    -------
    dict
        ``{format: path}`` of what was written.

    Raises
    ------
    CatalogError
        Missing, NaN or out-of-range coordinates (naming the rows), an empty
        table, a column without a description, or a file that does not read
        back as written (nothing is left behind).

    Examples
    --------
    >>> import tempfile
    >>> from astropy.table import Table
    >>> from galzoo_cnn.catalog import write_catalog
    >>> t = Table({"objid": [587722983371178200], "ra": [179.043], "dec": [60.523],
    ...            "prob_spiral": [0.91]})
    >>> paths = write_catalog(t, tempfile.mkdtemp() + "/demo")
    >>> sorted(p.name for p in paths.values())
    ['demo.fits', 'demo.vot', 'demo_cds']
    >>> write_catalog(Table({"ra": [float("nan")], "dec": [1.0]}), tempfile.mkdtemp() + "/x")
    Traceback (most recent call last):
    ...
    galzoo_cnn.catalog.CatalogError: coordinate column 'ra' has 1 missing, NaN or out-of-range ...
    """
    unknown = [f for f in formats if f not in CATALOG_FORMATS]
    if unknown:
        raise ValueError(f"unknown catalogue format(s) {unknown}; expected some of {tuple(CATALOG_FORMATS)}")
    basename = Path(basename).expanduser()
    paths = {f: Path(CATALOG_FORMATS[f].format(basename=basename)) for f in formats}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(existing)} exist(s); pass overwrite=True to replace")
    table = check_catalog(table, ra_column, dec_column, descriptions)
    from . import __version__

    title = title or table.meta.get("title") or "Morphological classification of galaxies with galzoo_cnn"
    abstract = abstract or (f"Galaxy morphology from a convolutional neural network (galzoo_cnn "
                            f"{__version__}), after Khramtsov et al. (2022).")
    written = {}
    for fmt, path in paths.items():
        if fmt == "fits":
            written[fmt] = _write_fits(table, path)
        elif fmt == "votable":
            written[fmt] = _write_votable(table, path, ra_column, dec_column)
        else:
            written[fmt] = _write_cds(table, path, title, authors, abstract, readme)
    return written
