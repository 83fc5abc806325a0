# Licensed under a 3-clause BSD style license - see LICENSE
"""
The column registry: name, unit, UCD, description and display format of every column.

Every column the package writes is described once, here: its unit, its IVOA
UCD (UCD1+), a description and a display format (`column_spec`), and for
coded columns the values it takes and what they mean (`column_notes`).  Every
stage (labels, samples, cutouts, classification, evaluation) and every
catalogue writer reads them from this module, so a column means the same
thing in every product.  It imports nothing but the taxonomy.

Examples
--------
>>> from galzoo_cnn.columns import column_spec
>>> spec = column_spec("prob_spiral")
>>> spec.ucd, spec.description
('stat.probability', 'Probability that the galaxy is a disk galaxy with spiral arms, not edge-on')
"""

from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.table import Table

from . import taxonomy
from .exceptions import CatalogError
from .tables import as_table
from .utils._deprecation import keyword_options

__all__ = ["ColumnSpec", "column_spec", "fitting_spec", "column_notes", "cds_label", "describe_columns",
           "catalog_columns", "PROVENANCE_KEY", "REFERENCES_KEY", "STATUSES", "QUALITY_FLAGS",
           "FRAMING_FLAGS", "FIVE_CLASS_COLUMN", "CRITERIA_COLUMN", "FEATURE_PREFIX", "FRACTION_PREFIX",
           "SPLITS", "CatalogError"]

#: ``meta`` key of the provenance dictionary (software, model, date...).
PROVENANCE_KEY = "provenance"
#: ``meta`` key of the list of references a catalogue must cite.
REFERENCES_KEY = "references"

#: Name of the output column of `~galzoo_cnn.labels.five_class_labels`.
FIVE_CLASS_COLUMN = "gz2_five_class"
#: Name of the column listing the five-class criteria each galaxy met.
CRITERIA_COLUMN = "gz2_five_class_criteria"
#: Prefix of the volunteers' feature labels (`~galzoo_cnn.labels.feature_labels`), which training
#: of a multi-label objective reads.
FEATURE_PREFIX = "label_"
#: Prefix of the volunteers' vote fraction of each feature (`~galzoo_cnn.labels.feature_fractions`):
#: the soft labels a multi-label model can train on.
FRACTION_PREFIX = "fraction_"
#: Prefix of a multi-label model's feature probabilities (``prob_feature_ring``), distinct from a
#: single-label model's ``prob_<class>``: the five-class ``prob_completely_round`` and the GZ2 answer
#: "completely round" are different quantities, and one catalogue may hold both.
FEATURE_PROBABILITY_PREFIX = "prob_feature_"

#: The one vocabulary of ``split`` columns: training rows, validation rows (learning-rate schedule
#: and checkpoint choice) and held-out test rows.
SPLITS = ("train", "val", "test")

#: Values of the ``status`` column of `~galzoo_cnn.classify.classify_table` and what they mean.
STATUSES = {
    "ok": "classified",
    "no_image": "the image path is empty or masked",
    "missing": "the image file does not exist",
    "url": "the image path is a URL: images are read from local files (download them first: galzoo-cnn "
           "fetch, galzoo_cnn.cutouts.fetch_cutouts)",
    "not_a_file": "the image path is not a regular file (a directory, a pipe, a device)",
    "too_large": "the image has more pixels than the configured limit (max_image_pixels)",
    "not_8bit": "the image has 16- or 32-bit samples",
    "not_rgb": "the image is CMYK, Lab, HSV or YCbCr",
    "translucent": "the image has transparent pixels",
    "undecodable": "the file does not decode as an image (corrupt, truncated, not an image)",
    "fits_image": "the file is a FITS image: the models read gri colour composites as JPEG or PNG "
                  "(astropy.visualization.make_lupton_rgb makes one from three bands)",
    "model_error": "the model gave non-finite outputs for the image",
    "bad_framing": "the row's cutout_fov or petroR90_r is not a positive finite angle, or reframing the "
                   "galaxy to the model's frame would need a crop below 0.1 or a frame widened more than 2x",
    "blank": "the image is near-constant (quality flag blank): no source to classify (a cutout outside the "
             "survey's footprint, an empty or black frame)",
}


#: Bits of the ``quality_flags`` column of `~galzoo_cnn.classify.classify_table`: what the
#: decoded image looks like (`galzoo_cnn.images.image_quality_flags` measures them; 0: none).
QUALITY_FLAGS = {
    "no_central_source": (1, "nothing bright at the centre: the brightest pixel within 0.1 of the image "
                             "side from the centre rises above the faint (5th percentile) level by less "
                             "than 0.25 of the brightest pixel anywhere (galaxy off-centre or absent)"),
    "blank": (2, "near-constant: the brightest pixel is within 8 of 255 levels of the faint level (the row "
                 "gets status blank and no class)"),
    "saturated": (4, "more than 2 per cent of the pixels are at 255 in some colour"),
    "truncated": (8, "a band of at least 5 per cent of the side along an edge is black (max level <= 3): "
                     "the cutout reaches beyond the survey's footprint"),
    "grey": (16, "no colour: no pixel's three colours differ by more than 4 of 255 levels (a grey-scale "
                 "image, where the models read gri colour composites)"),
    "bright_border": (32, "the median brightness of a band of 5 per cent of the side along the edges exceeds "
                          "0.15 of the brightest pixel: the galaxy fills the frame (a cutout much tighter "
                          "than the frames the models learnt from, with sky all round the galaxy) or the sky "
                          "is bright (light scattered by a nearby star)"),
}

#: The `QUALITY_FLAGS` that say how a galaxy is framed rather than that the image is faulty: its class is
#: read outside the frames the models learnt from (compare it with care), not from a broken image.
FRAMING_FLAGS = ("bright_border",)


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
    ColumnSpec("extinction_u", "mag", "phys.absorption.gal;em.opt.U", "Galactic extinction in u (SDSS)",
               ".3f"),
    ColumnSpec("extinction_r", "mag", "phys.absorption.gal;em.opt.R", "Galactic extinction in r (SDSS)",
               ".3f"),
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
               "Sample: training = matched to Galaxy Zoo 2 (labelled); inference = not matched",
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
    ColumnSpec("row", None, "meta.record", "Row of the galaxy in the input table"),
    ColumnSpec("id", None, "meta.id", "Identifier the cutout file is named after"),
    ColumnSpec("path", None, "meta.id;meta.file", "Cutout file, relative to the cutout directory"),
    ColumnSpec("reason", None, "meta.note", "Why the cutout was not downloaded (empty: it was)"),
    ColumnSpec("cutout_status", None, "meta.code.status",
               "Cutout download status: ok, cached (already there), blank (outside the footprint), "
               "corrupt or failed (see cutout_reason)",
               values=("ok", "cached", "blank", "corrupt", "failed")),
    ColumnSpec("cutout_reason", None, "meta.note", "Why the cutout was not downloaded (empty: it was)"),
    ColumnSpec("attempts", None, "meta.number", "Requests made for the cutout"),
    ColumnSpec("nbytes", "byte", "phys.size;meta.file", "Size of the cutout file"),
    ColumnSpec("sha256", None, "meta.checksum", "SHA-256 of the cutout file"),
    ColumnSpec("pixel_scale", "arcsec", "instr.scale", "Angular size of one pixel of the image cutout",
               ".4f"),
    ColumnSpec("cutout_fov", "arcsec", "phys.angSize;instr.fov", "Side of the image cutout on the sky",
               ".3f"),
    ColumnSpec("predicted_class", None, "src.morph.type;meta.main",
               "Predicted class: of highest probability, or by the decision rule in the provenance "
               "(empty when the image could not be used)"),
    ColumnSpec("status", None, "meta.code.status",
               "Classification status: ok, or why the image could not be used",
               values=tuple(STATUSES)),
    ColumnSpec("split", None, "meta.code", "Role in training: train, val (validation) or test (held out)",
               values=SPLITS),
    ColumnSpec("domain_split", None, "meta.code",
               "Role in training the domain classifier of adversarial validation: train or val",
               values=SPLITS),
    ColumnSpec("domain", None, "meta.code", "Sample of the galaxy: training or inference"),
    ColumnSpec("frame_fraction", None, "instr.scale;arith.ratio",
               "Side of the image the model read, in units of the image side (above 1: the frame was "
               "widened with sky noise), chosen so the galaxy spans the model's frame in Petrosian radii",
               ".4f"),
    ColumnSpec("quality_flags", None, "meta.code.qual",
               "Image quality bit flags (0: none; " + ", ".join(
                   f"{bit} {flag.replace('_', ' ')}" for flag, (bit, _) in QUALITY_FLAGS.items()) + ")"),
    ColumnSpec("adversarial_score", None, "stat.probability",
               "Adversarial score: probability of belonging to the training sample (domain classifier)",
               _PROB_FORMAT),
    ColumnSpec("adversarial_score_shifted", None, "stat.probability",
               "Adversarial score after the fixed adversarial shift (k, m)", _PROB_FORMAT),
)
_STATIC_INDEX = {spec.name: spec for spec in _STATIC}

#: Columns of the same name in other products (Galaxy Zoo tables, cutout manifests), told apart
#: by their values.
_ALTERNATIVES = {
    "status": ColumnSpec("status", None, "meta.code.status",
                         "Cutout download status: ok, cached (already there), blank (outside the "
                         "footprint), corrupt or failed (see reason)",
                         values=("ok", "cached", "blank", "corrupt", "failed")),
    "sample": ColumnSpec("sample", None, "meta.code",
                         "GZ2 sample of the galaxy: original, extra (Legacy), stripe82 (normal depth), "
                         "stripe82_coadd_1 / _2 or stripe82_c (coadded depth) (Willett et al. 2013)",
                         values=("original", "extra", "stripe82", "stripe82_coadd_1", "stripe82_coadd_2",
                                 "stripe82_c")),
}

# UCD1+: stat.weight may only be a primary word, so the weighted counts are "stat.weight;src.morph"
# and the fractions (plain, weighted, debiased) "stat.value;src.morph".
_SUFFIX_SPECS = {
    "count": (None, "meta.number;src.morph", "Number of GZ2 votes for", None),
    "weight": (None, "stat.weight;src.morph", "Weighted number of GZ2 votes for", ".3f"),
    "fraction": (None, "stat.value;src.morph", "Fraction of GZ2 votes for", ".3f"),
    "weighted_fraction": (None, "stat.value;src.morph", "Weighted fraction of GZ2 votes for", ".3f"),
    "debiased": (None, "stat.value;src.morph", "Debiased fraction of GZ2 votes for", ".3f"),
    "flag": (None, "meta.code;src.morph", "GZ2 clean-sample flag (1: in the clean sample) of", None),
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


def _parent_clause(name):
    """For a GZ2 answer whose question follows another answer: the flag also needs that one's."""
    try:
        parent = taxonomy.task(taxonomy.answer(name).task).requires
    except KeyError:
        return ""
    return f", and flag_{parent} where the model has it" if parent else ""


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
                unit, ucd, text, fmt = _SUFFIX_SPECS[suffix]
                return ColumnSpec(name, unit, ucd, f"{text} '{answer.label}' "
                                  f"({taxonomy.task(answer.task).question})", fmt)
    return None


@keyword_options
def column_spec(name, gz2_answers=False):
    """The registry's metadata of column ``name``, or `None` if it has none.

    ``gz2_answers`` says whether the model's outputs are GZ2 answers (the
    ``features`` objective, `galzoo_cnn.objectives`), for the names that are
    both a class and a GZ2 answer (``spiral``, ``completely_round``,
    ``cigar_shaped``, ``merger``): then ``prob_spiral`` is described as the
    probability of the GZ2 answer, otherwise as that of the class.

    Besides the fixed columns (identifiers, coordinates, photometry, sample
    flags, classification outputs) the registry knows the column families
    whose names follow the taxonomy: ``prob_<class or feature>``,
    ``flag_<feature>``, ``label_<feature>``, ``fraction_<feature>`` and the GZ2 vote columns
    ``tNN_<task>_aMM_<answer>_<suffix>``.

    Parameters
    ----------
    name : str
        Column name.
    gz2_answers : bool
        Whether ``prob_`` columns are probabilities of GZ2 answers.

    Examples
    --------
    >>> from galzoo_cnn.columns import column_spec
    >>> column_spec("ra").unit, column_spec("ra").ucd
    ('deg', 'pos.eq.ra;meta.main')
    >>> print(column_spec("flag_bar").description)  # doctest: +NORMALIZE_WHITESPACE
    Model's verdict on GZ2 answer 'Bar' to 'Is there a sign of a bar feature through the
    centre of the galaxy?' (prob_feature_bar >= the model's threshold, and flag_edge_on_no where the
    model has it)
    >>> column_spec("my_column") is None
    True
    """
    if name in _STATIC_INDEX:
        return _STATIC_INDEX[name]
    feature = name.removeprefix(FEATURE_PROBABILITY_PREFIX)
    if feature != name and _is_answer(feature):
        return ColumnSpec(name, None, "stat.probability",
                          f"Probability of {_subject(feature)} (multi-label model)", _PROB_FORMAT)
    prefix, _, rest = name.partition("_")
    if prefix == "prob" and rest:
        subject = (_subject(rest, prefer_answer=gz2_answers)
                   or f"the galaxy belongs to class '{rest}'")
        text = (f"Probability of {subject}" if subject.startswith("GZ2") else f"Probability that {subject}")
        return ColumnSpec(name, None, "stat.probability", text, _PROB_FORMAT)
    if prefix == "flag" and rest and _subject(rest):
        return ColumnSpec(name, None, "meta.code;src.morph",
                          f"Model's verdict on {_subject(rest)} ({FEATURE_PROBABILITY_PREFIX}{rest} >= the "
                          f"model's threshold{_parent_clause(rest)})")
    if prefix == "label" and rest and _subject(rest):
        return ColumnSpec(name, None, "meta.code;src.morph",
                          f"GZ2 volunteers' verdict on {_subject(rest)} (empty: task not well sampled)")
    if prefix == "fraction" and rest and _subject(rest):
        return ColumnSpec(name, None, "stat.value;src.morph",
                          f"Fraction of the GZ2 votes on its question for {_subject(rest)} (empty: task "
                          f"not well sampled)", ".3f")
    return _gz2_vote_spec(name)


_GZ2_CLASS_NOTE = (
    "GZ2 morphology string (Willett et al. 2013, Table 10): E = smooth (Er round, Ei in-between, "
    "Ec cigar-shaped), S = features or disk (Se edge-on, with bulge r rounded, b boxy, n none; "
    "SB barred; a-d bulge dominance; 1-4, + or ? number of arms; t/m/l arm winding), A = star or "
    "artefact; suffixes in parentheses: odd features (r ring, l lens, d disturbed, i irregular, "
    "o other, m merger, u dust lane)")


@keyword_options
def fitting_spec(name, column, gz2_answers=False):
    """The registry's spec of ``name`` whose allowed values ``column`` holds; `None` if none fits.

    Names shared by several products (``status`` of a classification or of a
    cutout manifest, ``sample`` of galzoo_cnn or of GZ2) are told apart by
    their values.

    Parameters
    ----------
    name : str
        Column name.
    column : `~astropy.table.Column`
        Its values.
    gz2_answers : bool
        As for `column_spec`.

    Examples
    --------
    >>> from astropy.table import Column
    >>> from galzoo_cnn.columns import fitting_spec
    >>> fitting_spec("status", Column(["ok", "cached"])).description[:23]
    'Cutout download status:'
    """
    for spec in (column_spec(name, gz2_answers=gz2_answers), _ALTERNATIVES.get(name)):
        if spec is not None and spec.fits(column):
            return spec
    return None


@keyword_options
def column_notes(name, table=None):
    """What the values of a coded column mean, as text for a catalogue's notes; `None` if not coded.

    Parameters
    ----------
    name : str
        Column name.
    table : `~astropy.table.Table`, optional
        The table holding it: the classes of a ``predicted_class`` column
        are read from its ``prob_<class>`` columns.

    Examples
    --------
    >>> from galzoo_cnn.columns import column_notes
    >>> print(column_notes("status")[:80])
    ok: classified; no_image: the image path is empty or masked; missing: the image
    """
    def listing(values):
        return "; ".join(f"{value}: {meaning}" for value, meaning in values)

    if name in _ALTERNATIVES and table is not None:  # a same-named column of another product
        spec = fitting_spec(name, table[name])
        if spec is not None and spec is not _STATIC_INDEX[name]:
            return spec.description.split(": ", 1)[-1]
    if name == "status":
        return listing(STATUSES.items())
    if name == "quality_flags":
        return listing((f"{bit} ({flag})", meaning) for flag, (bit, meaning) in QUALITY_FLAGS.items())
    if name in ("gz2_five_class", "predicted_class"):
        classes = list(taxonomy.FIVE_CLASSES)
        if name == "predicted_class" and table is not None:
            classes = class_probability_columns(table) or classes
        return listing((c, taxonomy.CLASS_DESCRIPTIONS.get(c, "class of the model")) for c in classes)
    if name == "gz2_class":
        return _GZ2_CLASS_NOTE
    if name == "sample" and table is not None:
        spec = fitting_spec(name, table[name])
        return None if spec is None else spec.description.split(": ", 1)[-1]
    return None


#: CDS labels where the column name breaks the CDS conventions (``u_``, ``m_``, ``e_``... are
#: prefixes with a meaning there; positions are RAdeg / DEdeg).
_CDS_LABELS = {
    "ra": "RAdeg", "dec": "DEdeg", "z_err": "e_z", "petroMag_r": "rPmag", "modelMag_u": "umag",
    "modelMag_r": "rmag", "extinction_u": "Au", "extinction_r": "Ar", "petroR90_r": "R90r",
    "m_r": "rPmag0", "abs_mag_r": "rPMAG", "u_r": "u-r", "v_lg": "VLG",
    "total_classifications": "Nclass", "total_votes": "Nvotes",
}
_CDS_SUFFIXES = {"count": "N", "weight": "W", "fraction": "f", "weighted_fraction": "wf",
                 "debiased": "d", "flag": "fl"}


def cds_label(name):
    """The label of column ``name`` in a CDS ReadMe.

    CDS labels are short and some prefixes mean something there (``e_``
    error, ``u_`` uncertainty flag, ``m_`` multiplicity), so positions become
    ``RAdeg`` / ``DEdeg``, magnitudes and colours the usual ``rmag`` /
    ``u-r``, and the GZ2 vote columns ``tNNaMM`` plus a suffix (``N`` count,
    ``W`` weighted count, ``f`` fraction, ``wf`` weighted fraction, ``d``
    debiased, ``fl`` flag); the ReadMe's explanation names the full column.

    Parameters
    ----------
    name : str
        Column name.

    Examples
    --------
    >>> from galzoo_cnn.columns import cds_label
    >>> [cds_label(n) for n in ("ra", "u_r", "t01_smooth_or_features_a01_smooth_weighted_fraction",
    ...                         "prob_spiral")]
    ['RAdeg', 'u-r', 't01a01wf', 'prob_spiral']
    """
    if name in _CDS_LABELS:
        return _CDS_LABELS[name]
    spec = _gz2_vote_spec(name)
    if spec is not None:
        for suffix in sorted(_CDS_SUFFIXES, key=len, reverse=True):
            if name.endswith("_" + suffix):
                parts = name[: -len(suffix) - 1].split("_")
                task, answer = parts[0], next(p for p in parts[1:] if p[:1] == "a" and p[1:].isdigit())
                return f"{task}{answer}{_CDS_SUFFIXES[suffix]}"
    return name


@keyword_options
def describe_columns(table, descriptions=None, copy=True, gz2_answers=None):
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
    gz2_answers : bool, optional
        Whether the table's ``prob_`` columns are probabilities of GZ2
        answers (see `column_spec`); default: what the table's
        ``meta['provenance']['model_outputs']`` says.

    Returns
    -------
    `~astropy.table.Table`

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.columns import describe_columns
    >>> t = describe_columns(Table({"ra": [10.5], "prob_spiral": [0.9]}))
    >>> str(t["ra"].unit), t["prob_spiral"].meta["ucd"]
    ('deg', 'stat.probability')
    """
    table = as_table(table, copy=copy)
    descriptions = descriptions or {}
    if gz2_answers is None:
        gz2_answers = (table.meta.get(PROVENANCE_KEY) or {}).get("model_outputs") == "gz2_answers"
    for name in table.colnames:
        column = table[name]
        spec = fitting_spec(name, column, gz2_answers=gz2_answers)
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


def class_probability_columns(table):
    """The classes of a single-label model's ``prob_<class>`` columns in ``table``, in order (a
    multi-label model's ``prob_feature_<feature>`` columns are not classes).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.columns import class_probability_columns
    >>> class_probability_columns(Table(names=["prob_spiral", "prob_feature_ring", "prob_edge_on"]))
    ['spiral', 'edge_on']
    """
    return [name.removeprefix("prob_") for name in table.colnames
            if name.startswith("prob_") and not name.startswith(FEATURE_PROBABILITY_PREFIX)]


@keyword_options
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
    >>> from galzoo_cnn.columns import catalog_columns
    >>> table = catalog_columns()
    >>> str(table[table["name"] == "predicted_class"]["ucd"][0])
    'src.morph.type;meta.main'
    """
    classes = taxonomy.FIVE_CLASSES if classes is None else classes
    features = taxonomy.DETAILED_FEATURES if features is None else features
    names = [s.name for s in _STATIC]
    names += [f"prob_{c}" for c in classes]
    names += [n for f in features for n in (f"{FEATURE_PROBABILITY_PREFIX}{f}", f"flag_{f}")]
    names += [f"label_{f}" for f in features]
    rows = []
    for name in dict.fromkeys(names):
        spec = column_spec(name)
        rows.append((spec.name, spec.unit or "", spec.ucd, spec.description))
    return Table(rows=rows, names=("name", "unit", "ucd", "description"))

