# Licensed under a 3-clause BSD style license - see LICENSE
"""The argument parser of ``galzoo-cnn``: one sub-command per stage, options named as the library
functions' keywords, defaults read from those functions."""

import inspect

from .. import __version__, labels, taxonomy
from ..catalog import CATALOG_FORMATS
from ..config import conf
from ..cutouts import SURVEYS, fetch_cutouts
from ..io import FORMATS
from ..objectives import DECISIONS
from ..samples import build_samples, query_sdss_targets
from ..utils._argparse import OptionParser, add_renamed
from . import _commands as c

__all__ = ["build_parser"]


def _default(function, name, index=None):
    """The default of ``function``'s parameter ``name``: the CLI shows and uses the function's own."""
    value = inspect.signature(function).parameters[name].default
    return value if index is None else value[index]


def _lightning_options(parser, options=("accelerator", "devices", "num_nodes", "strategy", "precision")):
    """The Lightning Trainer options, declared once for every command that runs one."""
    helps = {
        "accelerator": (str, "Lightning accelerator: cpu, gpu, auto (default: auto)"),
        "devices": (str, "Lightning devices, e.g. 4 or 0,1 (multi-GPU; default: auto)"),
        "num_nodes": (int, "Lightning num_nodes (default 1)"),
        "strategy": (str, "Lightning strategy, e.g. ddp (default: auto)"),
        "precision": (str, "Lightning precision (default: 16-mixed on GPU, else 32-true)"),
    }
    for option in options:
        kind, text = helps[option]
        parser.add_argument("--" + option.replace("_", "-"), type=kind, help=text)


def _framing_options(parser):
    """--tta, --no-reframe, --fov-column and --radius-column, as classify_table names them."""
    parser.add_argument("--tta", action="store_true",
                        help="test-time augmentation: mean over the 8 rotated / flipped views of each image "
                             "(8x the forward passes)")
    parser.add_argument("--no-reframe", action="store_true",
                        help="do not reframe rows to the model's frame from the cutout side and the galaxy's "
                             "Petrosian radius")
    parser.add_argument("--fov-column", help="column of each cutout's side on the sky (default: cutout_fov)")
    parser.add_argument("--radius-column",
                        help="column of each galaxy's Petrosian radius (default: petroR90_r)")


def _image_options(parser, **model_options):
    """--model, --image-dir, --image-column, --batch-size, --device, as classify_table names them."""
    parser.add_argument("--model", help=f"model name or model card path (default: the configuration item "
                                        f"default_model, {conf.default_model})", **model_options)
    parser.add_argument("--image-dir", help="directory the image paths are relative to")
    parser.add_argument("--image-column", default="filename",
                        help="column of image paths (default: filename)")
    parser.add_argument("--batch-size", type=int, help="images per forward pass (default 256)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1... (default: a GPU if there is one)")


def _decision_option(parser):
    parser.add_argument("--decision", choices=DECISIONS,
                        help="predicted_class: the class of highest probability (default), or balanced: "
                             "times the model card's class factors, rare classes found more often")


def _add_label_options(parser):
    fractions = _default(labels.five_class_labels, "fractions")
    decals_fractions = _default(labels.decals_feature_labels, "fractions")
    parser.add_argument("--fractions", choices=sorted({*taxonomy.FRACTION_SUFFIXES,
                                                       *taxonomy.GZ_DECALS_TREE.fraction_suffixes}),
                        help=f"vote fractions to threshold (default: {fractions}; with --gz-decals "
                             f"{decals_fractions})")
    parser.add_argument("--min-votes", type=int, default=None,
                        help="minimum votes per task (default: 20, or 10 for Stripe 82 coadd rows; with "
                             f"--gz-decals {_default(labels.decals_feature_labels, 'min_votes')})")
    parser.add_argument("--depth", default=_default(labels.five_class_labels, "depth"),
                        choices=("auto", *taxonomy.DEPTHS),
                        help="imaging depth of the rows (default: from the 'sample' column)")
    threshold = _default(labels.feature_labels, "threshold")
    parser.add_argument("--threshold", type=float, default=threshold,
                        help=f"vote fraction at which a detailed feature is present (default: {threshold})")


def _progress_option(parser):
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _overwrite_option(parser):
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _override_options(parser, keys, of="the configuration's"):
    """Integer options overriding the configuration keys of their name (``--batch-size``: ``batch_size``)."""
    for key in keys:
        parser.add_argument("--" + key.replace("_", "-"), type=int,
                            help=f"{_OVERRIDDEN[key]} (default: {of})")


_OVERRIDDEN = {"epochs": "training epochs", "batch_size": "images per training step",
               "num_workers": "image-decoding processes", "seed": "random seed of the split, weights and "
                                                                 "augmentation"}


def build_parser():
    """The argument parser of ``galzoo-cnn``.

    Examples
    --------
    >>> from galzoo_cnn.cli import build_parser
    >>> build_parser().parse_args(["labels", "in.csv", "--output", "out.fits"]).command
    'labels'
    """
    parser = OptionParser(
        prog="galzoo-cnn",
        description="Morphological classification of galaxies with CNNs (Khramtsov et al. 2022).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show INFO log messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("taxonomy", help="print the GZ2 tree, the thresholds or the five-class criteria")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--thresholds", action="store_true", help="Willett et al. 2013 thresholds")
    group.add_argument("--five-class", action="store_true", help="criteria of the five classes")
    p.set_defaults(func=c.cmd_taxonomy)

    p = commands.add_parser("labels", help="five-class and detailed-feature labels from a GZ2 (or GZ DECaLS) "
                                           "table")
    p.add_argument("table", help="GZ2 table (FITS, VOTable, ECSV or CSV)")
    p.add_argument("--output", "-o", required=True, help="output table (format from its extension)")
    p.add_argument("--features", action="store_true", help="also write the 34 detailed-feature labels")
    p.add_argument("--feature-fractions", action="store_true",
                   help="also write fraction_<feature>: each detailed feature's share of its question's "
                        "votes where the question was well sampled (soft labels a features model can train "
                        "on)")
    p.add_argument("--gz-decals", action="store_true",
                   help="the table is a Galaxy Zoo DECaLS vote table (Walmsley et al. 2022): write the "
                        "labels of the 28 GZ2 features it can tell (the deep test set)")
    _overwrite_option(p)
    _add_label_options(p)
    p.set_defaults(func=c.cmd_labels)

    p = commands.add_parser("query", help="query SDSS targets, GZ2 or GZ DECaLS (network)")
    p.add_argument("--catalog", default="targets", choices=("targets", "gz2", "gz-decals"),
                   help="targets: SDSS target sample (default); gz2: Galaxy Zoo 2; gz-decals: GZ DECaLS")
    p.add_argument("--source", choices=("sdss", "vizier"), help="for gz2: SDSS CAS (default) or VizieR")
    p.add_argument("--vizier-table", help="table of the VizieR catalogue, where it has several")
    p.add_argument("--data-release", type=int, help="SDSS data release (default: configuration item, 9)")
    for option, default, text in (
            ("--z-min", _default(query_sdss_targets, "z_range", 0), "lowest spectroscopic redshift"),
            ("--z-max", _default(query_sdss_targets, "z_range", 1), "highest spectroscopic redshift"),
            ("--mag-r-max", _default(query_sdss_targets, "mag_r_max"), "faintest Petrosian r magnitude")):
        p.add_argument(option, type=float, default=default, help=f"{text} (default {default:g})")
    p.add_argument("--limit", type=int, help="at most this many rows")
    p.add_argument("--sql", action="store_true", help="print the query (SQL or VizieR payload) and stop")
    p.add_argument("--output", "-o", help="output table (format from its extension)")
    _overwrite_option(p)
    p.set_defaults(func=c.cmd_query)

    p = commands.add_parser("fetch", help="download image cutouts (resumable)")
    p.add_argument("table", help="table with ra, dec (degrees)")
    p.add_argument("--image-dir", help="directory of the images and manifest.ecsv (required)")
    add_renamed(p, "--out", "--image-dir", "image_dir")
    p.add_argument("--output", "-o", help="write the table with filename, cutout_fov, cutout_status and "
                                          "cutout_reason added (ready for galzoo-cnn classify)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --output, and the columns fetch adds if the table already has them")
    p.add_argument("--survey", default=_default(fetch_cutouts, "survey"), choices=sorted(SURVEYS),
                   help="sdss / legacy: JPEG colour cutouts; hips: FITS cubes from CDS hips2fits")
    p.add_argument("--bands", nargs="+", metavar="HIPS",
                   help="HiPS surveys of the FITS planes (--survey hips; default SDSS9 g r i)")
    p.add_argument("--data-release", type=int, help="SDSS data release (default 9)")
    p.add_argument("--size", type=int, help="cutout side in pixels (default 100)")
    p.add_argument("--id-column", help="column naming the files (default: row number)")
    p.add_argument("--max-workers", type=int, help="requests in flight at once (default 8)")
    p.add_argument("--retries", type=int, help="attempts per cutout (default 5)")
    p.add_argument("--timeout", type=float, help="seconds per read (default: configuration item)")
    p.add_argument("--deadline", type=float,
                   help="seconds one whole answer may take (default: configuration item)")
    p.add_argument("--base-url", help="service root (default from the astropy configuration)")
    _progress_option(p)
    p.set_defaults(func=c.cmd_fetch)

    p = commands.add_parser("samples", help="training / inference / deep-test samples by cross-match")
    p.add_argument("targets", help="target table (ra, dec in degrees)")
    p.add_argument("gz2", help="Galaxy Zoo 2 table")
    p.add_argument("--decals", help="Galaxy Zoo DECaLS table (deep test set)")
    radius = _default(build_samples, "radius").to_value("arcsec")
    p.add_argument("--radius", type=float, default=radius,
                   help=f"match radius in arcsec (default {radius:g})")
    p.add_argument("--output", "-o", required=True,
                   help="the targets with sample (training / inference), gz2_index and deep_test columns "
                        "(format from its extension)")
    _overwrite_option(p)
    p.set_defaults(func=c.cmd_samples)

    p = commands.add_parser("train", help="train a classifier from a configuration file")
    p.add_argument("--config", required=True,
                   help="YAML configuration: a path, or a bundled one (sample-gz1, paper-five-class, "
                        "paper-features, paper-adversarial)")
    p.add_argument("--table", help="training table (overrides the configuration)")
    p.add_argument("--image-dir", help="directory of the images")
    p.add_argument("--output", help="output directory (checkpoints, split, model)")
    p.add_argument("--backbone", help="timm backbone name")
    _override_options(p, ("epochs", "batch_size", "num_workers", "seed"))
    _lightning_options(p)
    _progress_option(p)
    # its options override a configuration file's keys: its errors name those keys, as the file does
    p.set_defaults(func=c.cmd_train, configured=True)

    p = commands.add_parser("embed", help="each galaxy's CNN features, for similarity search")
    p.add_argument("table", help="table with image paths (FITS, VOTable, ECSV or CSV), or a folder of images")
    p.add_argument("--output", "-o", required=True, help="table to write with an embedding column: FITS, "
                                                         "ECSV or VOTable")
    _image_options(p)
    p.add_argument("--recursive", action="store_true", help="a folder's sub-folders' images too")
    _framing_options(p)
    p.add_argument("--overwrite", action="store_true",
                   help="replace the output file, and an embedding column the table already has")
    _progress_option(p)
    p.set_defaults(func=c.cmd_embed)

    p = commands.add_parser("similar", help="the nearest reference galaxies of each query galaxy in a "
                                            "model's feature space (paper Figs. 5, 8)")
    p.add_argument("query", help="table (or folder of images) of the galaxies to look up")
    p.add_argument("reference", help="table (or folder) to search among; one written by galzoo-cnn embed is "
                                     "not embedded again")
    p.add_argument("--output", "-o", required=True, help="table of pairs: query_row, rank, reference_row, "
                                                         "similarity (format from its extension)")
    p.add_argument("--k", type=int, default=5, help="neighbours per query galaxy (default 5)")
    p.add_argument("--id-column", help="identifier column of both tables, copied to query_id / reference_id")
    _image_options(p)
    p.add_argument("--reference-image-dir", help="directory of the reference images (default: --image-dir)")
    p.add_argument("--figure", help="also draw the first query galaxies and their neighbours (PNG, PDF...)")
    p.add_argument("--figure-rows", type=int, default=8, help="query galaxies drawn (default 8)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _progress_option(p)
    p.set_defaults(func=c.cmd_similar)

    p = commands.add_parser("adversarial", help="adversarial validation of training vs inference images")
    p.add_argument("training", help="table of the training (e.g. GZ2-matched) galaxies, or a folder of "
                                    "images")
    p.add_argument("inference", help="table of the inference galaxies, or a folder of images")
    p.add_argument("--training-image-dir", help="image directory of the training table")
    p.add_argument("--inference-image-dir", help="image directory of the inference table")
    add_renamed(p, "--training-images", "--training-image-dir", "training_image_dir")
    add_renamed(p, "--inference-images", "--inference-image-dir", "inference_image_dir")
    p.add_argument("--image-column", default="filename",
                   help="column of image paths in both tables (default: filename)")
    p.add_argument("--output", "-o", required=True, help="output directory")
    p.add_argument("--backbone", help="timm backbone (default: the adversarial objective's, resnet101)")
    _override_options(p, ("epochs", "batch_size", "seed"), of="the adversarial objective's")
    _lightning_options(p, ("accelerator", "devices"))
    _progress_option(p)
    p.set_defaults(func=c.cmd_adversarial)

    p = commands.add_parser("classify", help="classify the galaxy images of a table; write catalogues")
    p.add_argument("table", help="table with image paths and ra, dec (FITS, VOTable, ECSV or CSV), or a "
                                 "folder of JPEG / PNG images")
    _image_options(p, once_hint="a features model goes in --features-model, a domain classifier in "
                                "--adversarial-model")
    add_renamed(p, "--images", "--image-dir", "image_dir")
    p.add_argument("--recursive", action="store_true", help="a folder's sub-folders' images too")
    p.add_argument("--output", "-o", required=True,
                   help="output basename: BASENAME.fits, BASENAME.vot, BASENAME_cds/, BASENAME.ecsv")
    p.add_argument("--formats", nargs="+", choices=FORMATS.names(),
                   help=f"output formats (default: {' '.join(CATALOG_FORMATS)}; ecsv, which needs no "
                        f"positions, for a folder of images)")
    p.add_argument("--title", help="catalogue title (FITS, VOTable and CDS ReadMe)")
    p.add_argument("--authors", help='catalogue authors, "Surname I., Surname J."')
    p.add_argument("--abstract", help="catalogue abstract")
    p.add_argument("--bibcode", help="bibcode of the paper presenting the catalogue")
    p.add_argument("--readme", metavar="YAML",
                   help="YAML file of catalogue metadata: title, authors, abstract, bibcode, description, "
                        "catalogue (CDS designation), date, keywords, acknowledgements, see_also")
    p.add_argument("--ra-column", default="ra",
                   help="column of right ascensions, ICRS: degrees, or sexagesimal hours (default: ra)")
    p.add_argument("--dec-column", default="dec",
                   help="column of declinations, ICRS: degrees, or sexagesimal text (default: dec)")
    p.add_argument("--keep", nargs="+", metavar="COLUMN", help="input columns to keep (default: all)")
    p.add_argument("--describe", action="append", metavar="NAME=TEXT",
                   help="description of an input column the package does not know (repeatable)")
    p.add_argument("--adversarial-model", help="domain classifier: adds adversarial_score")
    p.add_argument("--features-model", help="multi-label model of detailed features run in the same pass "
                   "(e.g. sample-gz2-features): adds prob_feature_<feature> and flag_<feature>")
    p.add_argument("--crop", type=float, help="central fraction of each image, the same for every row "
                                               "(default: the model card's, or per row with reframing)")
    _framing_options(p)
    _decision_option(p)
    p.add_argument("--num-workers", type=int, help="image-decoding processes")
    p.add_argument("--decode", choices=("auto", "cpu", "device"), default="auto",
                   help="where JPEGs are decoded: on the GPU in batches (device), in the loader (cpu); "
                        "auto: the GPU when there is one")
    _lightning_options(p, ("devices", "num_nodes", "strategy", "precision"))
    p.add_argument("--packed", metavar="NPY",
                   help="the table's images decoded once (images.pack_images at the model's size and crop), "
                        "read instead of the image files")
    p.add_argument("--strict", action="store_true", help="stop at the first missing or unreadable image")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing catalogue files, and output columns the table already has")
    _progress_option(p)
    p.set_defaults(func=c.cmd_classify)

    from ..evaluation import THRESHOLD_RULES
    from ..plots import FIGURE_FORMATS

    p = commands.add_parser("evaluate",
                            help="classify a labelled table; write the paper's metrics and figures")
    p.add_argument("table", help="table with image paths and labels (FITS, VOTable, ECSV or CSV)")
    p.add_argument("--output", "-o", required=True, help="directory to write (tables, figures, summary.json)")
    _image_options(p)
    p.add_argument("--truth-column", help="column of true classes (default: gz2_five_class)")
    p.add_argument("--grouped", action="store_true",
                   help="compare smooth / edge-on / spiral (GZ1 classes, gz2_class strings)")
    p.add_argument("--rule", choices=THRESHOLD_RULES,
                   help="acceptance-threshold rule of a multi-label model (default: best_f1)")
    p.add_argument("--bootstrap", type=int, help="resamplings for the confidence intervals (default 1000)")
    p.add_argument("--labels", help="table of label_<feature> columns made elsewhere (e.g. labels "
                                    "--gz-decals: the deep test), joined to TABLE's rows")
    p.add_argument("--id-column", help="identifier column joining --labels (default: sky position)")
    p.add_argument("--figure-formats", nargs="+", choices=FIGURE_FORMATS,
                   help="figure file formats (default: png; png is always written, the report embeds it)")
    p.add_argument("--radius", type=float, help="match radius for --labels in arcsec (default 1)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: mean over the 8 rotated / flipped views of each image")
    p.add_argument("--no-reframe", action="store_true",
                   help="do not reframe rows from cutout_fov / petroR90_r")
    _decision_option(p)
    p.add_argument("--overwrite", action="store_true", help="replace an earlier evaluation in --output")
    _progress_option(p)
    p.set_defaults(func=c.cmd_evaluate)

    p = commands.add_parser("compare-backbones",
                            help="train one model per backbone on the same split; the paper's Table 1")
    p.add_argument("--config", required=True, help="training configuration (path or bundled name, e.g. "
                                                    "paper-five-class)")
    p.add_argument("--backbones", nargs="+",
                   help="timm backbone names (default: the paper's eleven, models.PAPER_BACKBONES)")
    p.add_argument("--output", "-o", required=True, help="directory: one run per backbone, backbones.ecsv")
    p.add_argument("--table", help="training table (overrides the configuration)")
    p.add_argument("--image-dir", help="directory of the images")
    _override_options(p, ("epochs", "batch_size", "seed"))
    _lightning_options(p, ("accelerator", "devices", "precision"))
    _progress_option(p)
    p.set_defaults(func=c.cmd_compare_backbones, configured=True)

    p = commands.add_parser("report", help="one self-contained HTML file from an evaluation directory")
    p.add_argument("evaluation", help="directory written by galzoo-cnn evaluate")
    p.add_argument("--output", "-o", help="HTML file (default: EVALUATION/report.html)")
    p.add_argument("--title", help="page title")
    p.set_defaults(func=c.cmd_report)

    p = commands.add_parser("demo", help="classify bundled real SDSS galaxies and write catalogues, offline")
    p.add_argument("--output", "-o", default="galzoo_demo", help="output directory (default: galzoo_demo)")
    _progress_option(p)
    p.set_defaults(func=c.cmd_demo)
    return parser

