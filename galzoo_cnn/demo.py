# Licensed under a 3-clause BSD style license - see LICENSE
"""
The package's demonstration, offline: the bundled models on real SDSS galaxies.

`run_demo` classifies the 36 galaxies of the Hart et al. (2016) GZ2 subset
bundled with the package (`galzoo_cnn.datasets.load_demo_sample`) with the
default five-class model and the detailed-feature model in one pass, writes
the catalogue in every format and a gallery, and compares the model with the
volunteers: what ``galzoo-cnn demo`` prints.

Examples
--------
>>> from galzoo_cnn.demo import run_demo
>>> demo = run_demo("galzoo_demo", progress=False)  # doctest: +SKIP
>>> demo.agreement["smooth / edge-on / spiral"]  # doctest: +SKIP
(30, 34)
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from . import labels, taxonomy
from .catalog import REFERENCES_KEY, write_catalog
from .classify import classify_table
from .columns import FRAMING_FLAGS, QUALITY_FLAGS, class_probability_columns
from .datasets import DEMO_IMAGE_FOV, SDSS_DR7, load_demo_sample
from .plots import plot_gallery
from .tables import atomic_write
from .utils._cards import card_path, read_card

__all__ = ["run_demo", "DemoResult", "DEMO_FEATURES_MODEL"]

#: The detailed-feature model the demo runs beside the default five-class model.
DEMO_FEATURES_MODEL = "sample-gz2-features"

#: Columns of the bundled sample the demo's catalogue keeps.
_KEEP = ["dr7objid", "ra", "dec", "gz2_class", "gz2_five_class", "filename"]


@dataclasses.dataclass
class DemoResult:
    """What `run_demo` made and measured.

    Attributes
    ----------
    catalog : `~astropy.table.Table`
        The classified rows (``classify_table``'s output).
    paths : dict
        Format name (``fits``, ``votable``, ``cds``..., and ``gallery``) to the file written.
    classes : `~astropy.table.Table`
        GZ2 five-class label (rows) against the model's class (columns), counts.
    features : `~astropy.table.Table`
        Per feature: galaxies flagged, galaxies whose question was well sampled (known), the
        volunteers' yes, both yes, agreement.
    agreement : dict
        ``{comparison: (matches, compared)}`` for the five classes and the smooth / edge-on / spiral
        groups (faulty images, with a quality flag other than the `~galzoo_cnn.columns.FRAMING_FLAGS`,
        left out).
    framing : str
        How many frames raise the framing flags, and what the model's card measured on such frames.
    """

    catalog: Table
    paths: dict
    classes: Table
    features: Table
    agreement: dict
    framing: str = ""


def run_demo(output, *, progress=True):
    """Classify the bundled real SDSS galaxies, write catalogues and a gallery, compare with GZ2.

    Parameters
    ----------
    output : str or `~pathlib.Path`
        Directory to write: ``galzoo_demo.fits``, ``.vot``, the CDS ReadMe folder, ``gallery.png``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    `DemoResult`

    Examples
    --------
    >>> from galzoo_cnn.demo import run_demo
    >>> demo = run_demo("galzoo_demo", progress=False)  # doctest: +SKIP
    >>> sorted(demo.paths)  # doctest: +SKIP
    ['cds', 'fits', 'gallery', 'votable']
    """
    out = Path(output)
    sample, image_dir = load_demo_sample()
    labelled = labels.five_class_labels(sample)
    result = classify_table(labelled[_KEEP], features_model=DEMO_FEATURES_MODEL, image_dir=image_dir,
                            progress=progress)
    result.meta[REFERENCES_KEY] += [taxonomy.WILLETT2013, taxonomy.HART2016, SDSS_DR7]
    model = result.meta["provenance"]["model"]
    published = result.copy(copy_data=False)
    published.remove_column("filename")  # a local file name is not catalogue content
    paths = write_catalog(published, out / "galzoo_demo", overwrite=True, authors="galzoo_cnn demo",
                          title=f"galzoo_cnn demo: {model} classes of 36 SDSS galaxies from GZ2",
                          readme={"description": "Demo of galzoo_cnn on SDSS gri images of Galaxy Zoo 2 "
                                                 "galaxies (Hart et al. 2016) bundled with the package."})
    matches = _matches(result)
    figure = plot_gallery(result, image_dir=image_dir, agreement=matches["grouped"],
                          fov=DEMO_IMAGE_FOV * u.arcsec,
                          title=f"galzoo_cnn demo: {model} classes, {DEMO_FEATURES_MODEL} odd features (last "
                                f"line), on SDSS gri images\nframe green: same broad "
                                f"class as GZ2; red dashed: different; none: faulty image or no GZ2 group")
    paths["gallery"] = atomic_write(out / "gallery.png",
                                    lambda tmp: figure.savefig(tmp, format="png", dpi=90))
    agreement = {name: (sum(m for m in matches[key] if m is not None),
                        sum(m is not None for m in matches[key]))
                 for name, key in (("five classes", "five"), ("smooth / edge-on / spiral", "grouped"))}
    return DemoResult(catalog=result, paths=paths, classes=_class_table(result),
                      features=_feature_table(result, sample), agreement=agreement,
                      framing=_framing_note(result, read_card(card_path(model))))  # not the weights again


def _framing_note(result, card):
    """The demo frames are close-ups of bright galaxies: how many raise ``bright_border``, and what the
    model's card measured on such close-ups (the Hart et al. 2016 frames of the test data) and on the
    GZ2-framed test rows."""
    bit = QUALITY_FLAGS["bright_border"][0]
    raised = int(((np.ma.filled(result["quality_flags"], 0) & bit) != 0).sum())
    note = (f"{raised} of {len(result)} frames raise bright_border: these {DEMO_IMAGE_FOV:g}-arcsec SDSS "
            f"close-ups are filled by their galaxies, a tighter frame than the GZ2 frames the models learnt "
            f"from.")
    hart16 = card.get("metrics", {}).get("other_sources", {}).get("hart16", {})
    if "five_class_accuracy" in hart16 and "accuracy" in card.test_metrics:
        note += (f"  On the {hart16['five_class_n']} such close-ups of Hart et al. (2016) measured for its "
                 f"card, {card.name} gives the GZ2 five-class label to {hart16['five_class_accuracy']:.0%} "
                 f"(smooth / edge-on / spiral: {hart16['grouped_accuracy']:.0%}), and to "
                 f"{card.test_metrics['accuracy']:.0%} of its GZ2-framed test galaxies.")
    return note + ("  For a catalogue, fetch each galaxy at its GZ2 scale (fetch_cutouts with "
                   "pixel_scale=gz2_pixel_scale(petroR90_r)).")


#: The quality-flag bits of faulty images (every flag but the framing ones).
_DEFECT_BITS = sum(bit for name, (bit, _) in QUALITY_FLAGS.items() if name not in FRAMING_FLAGS)


def _matches(result):
    """Per row: the model's class against GZ2's five-class label and broad group (or None).

    A frame with a defect flag (e.g. the galaxy off-centre) is not compared: the model's class of such an
    image says nothing about the model, even where it happens to agree.  The framing flags are no defect:
    nearly every demo frame is a close-up raising ``bright_border``, and the comparison is of those."""
    flagged = (np.ma.filled(result["quality_flags"], 0) & _DEFECT_BITS) != 0
    predicted = np.where(flagged, "", result["predicted_class"].filled("").astype(str))
    five = result["gz2_five_class"].filled("").astype(str)
    gz2_group = [taxonomy.broad_group(c) for c in result["gz2_class"].astype(str)]
    model_group = [taxonomy.broad_group(c) if c else None for c in predicted]
    return {
        "five": [None if not t or not p else t == p for t, p in zip(five, predicted)],
        "grouped": [None if g is None or m is None else g == m for g, m in zip(gz2_group, model_group)],
    }


def _class_table(result):
    """GZ2 five-class label (rows) against the model's class (columns)."""
    predicted = result["predicted_class"].filled("-").astype(str)
    five = result["gz2_five_class"].filled("no class").astype(str)
    classes = class_probability_columns(result)
    rows = [(g, *(int(((five == g) & (predicted == c)).sum()) for c in classes))
            for g in [*taxonomy.FIVE_CLASSES, "no class"] if (five == g).any()]
    return Table(rows=rows, names=("GZ2 class", *classes))


def _feature_table(result, sample):
    """The features model's flags against the volunteers' verdicts (debiased GZ2 fractions of the same
    galaxies, where the question was well sampled)."""
    features = [c.removeprefix("flag_") for c in result.colnames if c.startswith("flag_")]
    with warnings.catch_warnings():  # tasks not well sampled are masked: that is the point here
        warnings.simplefilter("ignore")
        volunteers = labels.feature_labels(sample, features=features)
    ok = np.asarray(result["status"]) == "ok"
    rows = []
    for feature in features:
        flagged = np.ma.filled(result[f"flag_{feature}"], False).astype(bool) & ok
        label = np.ma.asarray(volunteers[f"label_{feature}"])
        known = ~np.ma.getmaskarray(label) & ok
        truth = np.ma.filled(label, False).astype(bool)
        rows.append((feature, int(flagged.sum()), int(known.sum()), int((truth & known).sum()),
                     int((flagged & truth & known).sum()), int(((flagged == truth) & known).sum())))
    return Table(rows=rows, names=("feature", "flagged", "known", "volunteers_yes", "both_yes", "agree"))
