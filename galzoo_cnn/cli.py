# Licensed under a 3-clause BSD style license - see LICENSE
"""
The ``galzoo-cnn`` command.

Each sub-command is a thin wrapper around one Table-in/Table-out function of
the package; run ``galzoo-cnn COMMAND --help`` for its options.

Examples
--------
>>> from galzoo_cnn.cli import main
>>> main(["taxonomy", "--thresholds"])  # doctest: +IGNORE_OUTPUT
0
"""

import inspect
import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import numpy as np
from astropy import log
from astropy import units as u

from . import __version__, labels, taxonomy
from .catalog import CATALOG_FORMATS, read_catalog_metadata
from .config import conf
from .cutouts import SURVEYS, fetch_cutouts
from .exceptions import GalzooError, InputError, Interrupted, MissingColumnsError
from .io import FORMATS
from .objectives import DECISIONS
from .samples import build_samples, query_sdss_targets
from .tables import as_table, table_or_folder, write_table_atomic
from .utils._argparse import OptionParser, add_renamed, as_options
from .utils._signals import STOP_SIGNALS, die_with_parent, interruptible, stop_signals_ignored

__all__ = ["main", "build_parser"]


def _default(function, name, index=None):
    """The default of ``function``'s parameter ``name``: the CLI shows and uses the function's own."""
    value = inspect.signature(function).parameters[name].default
    return value if index is None else value[index]


def _devices(value):
    """Lightning's ``devices`` from the command line: a count ("2" -> 2), or "auto", "0,1"..."""
    return int(value) if value and value.isdigit() else value


def _descriptions(items):
    """``--describe NAME=TEXT`` items as a mapping; an item without ``=`` or a name is refused."""
    descriptions = {}
    for item in items or []:
        name, equals, text = item.partition("=")
        if not equals or not name.strip() or not text.strip():
            raise InputError(f"--describe {item!r}: expected NAME=TEXT, e.g. --describe 'z=redshift of the "
                             f"galaxy'")
        descriptions[name.strip()] = text.strip()
    return descriptions


def _cmd_taxonomy(args):
    if args.thresholds:
        table = taxonomy.thresholds_table()
    elif args.five_class:
        table = taxonomy.five_class_criteria()
    else:
        table = taxonomy.tree_table()
    table.pprint_all()
    print(f"Reference: {table.meta['reference']}")
    return 0


def _label_table(table, args):
    given = {k: getattr(args, k) for k in ("fractions", "min_votes") if getattr(args, k) is not None}
    if args.gz_decals:  # the deep test: GZ2 features from GZ DECaLS votes (fractions / min votes of its own)
        if args.feature_fractions:
            raise InputError("--feature-fractions reads GZ2 votes; a GZ DECaLS table (--gz-decals) gives "
                             "labels only")
        return labels.decals_feature_labels(table, threshold=args.threshold, **given)
    labelled = labels.five_class_labels(table, depth=args.depth, **given)
    if args.features:
        labelled = labels.feature_labels(labelled, threshold=args.threshold, depth=args.depth, **given)
    if args.feature_fractions:
        labelled = labels.feature_fractions(labelled, depth=args.depth, **given)
    return labelled


def _cmd_labels(args):
    labelled = _label_table(as_table(args.table), args)
    path = write_table_atomic(labelled, args.output, overwrite=args.overwrite)
    labels.label_summary(labelled).pprint_all()
    print(f"Wrote {len(labelled)} rows to {path}")
    return 0


def _cmd_demo(args):
    from .classify import quality_summary
    from .demo import DEMO_FEATURES_MODEL, run_demo

    print(f"galzoo_cnn {__version__} demo: classifying 36 real SDSS galaxies (Hart et al. 2016 GZ2 subset "
          f"bundled with the package) with the sample models {conf.default_model!r} (five classes) and "
          f"{DEMO_FEATURES_MODEL!r} (detailed features), in one pass")
    demo = run_demo(args.output, progress=not args.no_progress)
    print("\nGZ2 five-class label (rows; Khramtsov et al. 2022 criteria on the volunteers' votes) against "
          "the model's class (columns):")
    demo.classes.pprint_all()
    _print_lines(quality_summary(demo.catalog))
    for name, (matches, compared) in demo.agreement.items():
        what = "galaxies with a GZ2 five-class label" if name == "five classes" else \
            "galaxies (GZ2 class string)"
        print(f"Agreement with GZ2, {name}: {matches} of {compared} {what} "
              f"({matches / max(compared, 1):.0%}; faulty images left out)")
    print(textwrap.fill(demo.framing, width=110))
    print("\nDetailed features: galaxies the model flags (flag_<feature>, the card's thresholds), and on the "
          "galaxies whose GZ2 question was well sampled (known) the volunteers' yes (debiased fraction >= "
          "0.5) and the agreement:")
    demo.features.pprint_all()
    _print_paths(demo.paths)
    return 0


def _print_lines(lines):
    for line in lines:
        print(line)


def _print_paths(paths):
    for fmt, path in paths.items():
        print(f"Wrote {fmt:8s} {path}")


def _readme_fields(args):
    """Catalogue metadata from --readme (a YAML mapping) and --bibcode; --title, --authors and
    --abstract given on the command line win over the file's."""
    fields = read_catalog_metadata(args.readme) if args.readme else {}
    for key in ("title", "authors", "abstract"):
        if key in fields and getattr(args, key) is None:
            setattr(args, key, fields[key])
        fields.pop(key, None)
    if args.bibcode:
        fields["bibcode"] = args.bibcode
    return fields


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


def _decision_option(parser):
    parser.add_argument("--decision", choices=DECISIONS,
                        help="predicted_class: the class of highest probability (default), or balanced: "
                             "times the model card's class factors, rare classes found more often")


def _cmd_classify(args):
    from .catalog import classify_catalog

    folder = Path(args.table).expanduser().is_dir()  # cutouts without a table: no positions, so ECSV
    table, image_dir = table_or_folder(args.table, args.image_dir, image_column=args.image_column,
                                       recursive=args.recursive)
    formats = args.formats or (["ecsv"] if folder else CATALOG_FORMATS)
    if args.keep:
        missing = [c for c in args.keep if c not in table.colnames]
        if missing:
            raise MissingColumnsError(f"--keep: no column(s) {', '.join(missing)} in {args.table}")
        table = table[list(dict.fromkeys([*args.keep, args.image_column]))]
    # options not given keep classify_table's defaults (one source for each)
    given = {k: getattr(args, k) for k in ("batch_size", "num_nodes", "strategy", "fov_column",
                                           "radius_column", "decision") if getattr(args, k) is not None}
    readme = _readme_fields(args)
    result, paths = classify_catalog(
        table, args.output, formats=formats, overwrite=args.overwrite, ra_column=args.ra_column,
        dec_column=args.dec_column, descriptions=_descriptions(args.describe), title=args.title,
        authors=args.authors, abstract=args.abstract, readme=readme,
        model=args.model, image_column=args.image_column, image_dir=image_dir, device=args.device,
        num_workers=args.num_workers, progress=not args.no_progress, strict=args.strict,
        adversarial_model=args.adversarial_model, crop=args.crop, features_model=args.features_model,
        reframe=not args.no_reframe, tta=args.tta, devices=_devices(args.devices), precision=args.precision,
        decode=args.decode, packed=args.packed, **given)
    if paths is None:  # not the first process of a multi-device run: it writes nothing
        return 0
    from .classify import quality_summary  # here: torch loads only once the input has been checked

    print(f"Classified {len(result)} rows: {result.meta['provenance']['status_counts']}")
    if "predicted_class" in result.colnames:
        classes, counts = np.unique(result["predicted_class"].compressed(), return_counts=True)
        print("Predicted: " + ", ".join(f"{c} {n}" for c, n in zip(classes, counts)))
    _print_lines(quality_summary(result))
    _print_paths(paths)
    return 0


def _training_config(args, *, ignore=()):
    """The ``--config`` training configuration with the options given on the command line (but those in
    ``ignore``)."""
    import dataclasses

    from .utils._configs import bundled_config

    path = bundled_config(args.config)  # a mistyped name is refused before torch loads
    from .training import TrainConfig

    config = TrainConfig.from_file(path)
    keys = ("table", "image_dir", "output", "backbone", "epochs", "batch_size", "num_workers", "accelerator",
            "devices", "num_nodes", "strategy", "precision", "seed")
    overrides = {key: getattr(args, key) for key in keys
                 if key not in ignore and getattr(args, key, None) is not None}
    for key in ("table", "image_dir", "output"):
        if key in overrides:
            overrides[key] = str(Path(overrides[key]).expanduser().resolve())
    if "devices" in overrides:
        overrides["devices"] = _devices(overrides["devices"])
    return dataclasses.replace(config, **overrides)


def _cmd_train(args):
    config = _training_config(args)
    from .training import train

    model, card_path = train(config, progress=not args.no_progress)
    if card_path is not None:
        test = model.card.test_metrics
        print(f"Saved {card_path} (test: {json.dumps(test.get('accuracy', test.get('roc_auc')))})")
    return 0


def _cmd_adversarial(args):
    # before torch loads; either sample may be a folder of images
    training, training_dir = table_or_folder(args.training, args.training_image_dir,
                                             image_column=args.image_column)
    inference, inference_dir = table_or_folder(args.inference, args.inference_image_dir,
                                               image_column=args.image_column)
    from .adversarial import adversarial_validation
    from .plots import plot_adversarial_scores

    options = {k: getattr(args, k) for k in ("epochs", "batch_size", "seed", "devices", "accelerator")
               if getattr(args, k) is not None}
    if "devices" in options:
        options["devices"] = _devices(options["devices"])
    result = adversarial_validation(training, inference, args.output,
                                    image_column=args.image_column, image_dir=(training_dir, inference_dir),
                                    backbone=args.backbone, progress=not args.no_progress, **options)
    out = Path(args.output)
    path = write_table_atomic(result, out / "adversarial_scores.ecsv", overwrite=True)
    ax = plot_adversarial_scores(result)
    ax.figure.savefig(out / "adversarial_scores.png", dpi=120, bbox_inches="tight")
    print(f"Validation accuracy {result.meta['adversarial']['val_accuracy']:.3f}; wrote {path} "
          f"and {out / 'adversarial_scores.png'}")
    return 0


def _cmd_query(args):
    from .samples import query_gz2, query_gz_decals

    if args.output is None and not args.sql:
        raise InputError("--output is needed to run the query (or --sql to print it)")
    if args.catalog == "targets":
        result = query_sdss_targets(data_release=args.data_release, z_range=(args.z_min, args.z_max),
                                    mag_r_max=args.mag_r_max, limit=args.limit, get_query_payload=args.sql)
    elif args.catalog == "gz2":
        result = query_gz2(source=args.source or "sdss", data_release=args.data_release, limit=args.limit,
                           get_query_payload=args.sql, table=args.vizier_table)
    else:
        result = query_gz_decals(source="vizier", table=args.vizier_table, limit=args.limit,
                                 get_query_payload=args.sql)
    if args.sql:
        print(result)
        return 0
    path = write_table_atomic(result, args.output, overwrite=args.overwrite)
    print(f"Wrote {len(result)} rows ({args.catalog}) to {path}"
          + (f"; selection: {result.meta['selection']}" if "selection" in result.meta else ""))
    return 0


def _cmd_samples(args):
    samples = build_samples(args.targets, args.gz2, decals=args.decals, radius=args.radius * u.arcsec)
    path = write_table_atomic(samples, args.output, overwrite=args.overwrite)
    print(f"Wrote {path}: {json.dumps(samples.meta['samples'])}")
    return 0


def _cmd_fetch(args):
    from .cutouts import MANIFEST_NAME

    options = {k: getattr(args, k) for k in ("data_release", "size", "max_workers", "retries", "timeout",
                                             "deadline", "base_url", "bands") if getattr(args, k) is not None}
    if args.image_dir is None:
        raise InputError("--image-dir DIR is required: the directory of the cutouts and their manifest")
    if args.output is not None and Path(args.output).exists() and not args.overwrite:
        raise InputError(f"--output {args.output} exists; pass --overwrite to replace it")
    result = fetch_cutouts(args.table, args.image_dir, survey=args.survey, id_column=args.id_column,
                           progress=not args.no_progress, overwrite=args.overwrite, **options)
    print(f"{json.dumps(result.meta['counts'])}; manifest: {Path(args.image_dir) / MANIFEST_NAME}")
    if args.output is not None:
        path = write_table_atomic(result, args.output, overwrite=args.overwrite)
        print(f"Wrote {path}: the table with filename and cutout_status; classify it with "
              f"galzoo-cnn classify {path} --image-dir {args.image_dir}")
    return 0 if result.meta["counts"]["failed"] + result.meta["counts"]["corrupt"] == 0 else 2


def _cmd_evaluate(args):
    table = as_table(args.table)  # a missing or unreadable table is refused before torch loads
    from .report import evaluate_model

    given = {k: getattr(args, k) for k in ("truth_column", "batch_size", "device", "image_column", "rule",
                                           "figure_formats", "decision") if getattr(args, k) is not None}
    if args.bootstrap is not None:
        given["n_bootstrap"] = args.bootstrap
    if args.labels is not None:
        given.update(labels=args.labels, id_column=args.id_column)
    if args.radius is not None:
        given["radius"] = args.radius * u.arcsec
    metrics = evaluate_model(table, output=args.output, model=args.model, grouped=args.grouped,
                             image_dir=args.image_dir, progress=not args.no_progress, tta=args.tta,
                             reframe=not args.no_reframe, overwrite=args.overwrite, **given)
    if "accuracy" in metrics.meta:
        interval = (f" (95% interval {metrics.meta['accuracy_low']:.3f}-{metrics.meta['accuracy_high']:.3f})"
                    if "accuracy_low" in metrics.meta else "")
        print(f"Accuracy {metrics.meta['accuracy']:.3f}{interval} on {metrics.meta['n']} galaxies")
    else:
        low, high = metrics.meta["mean_roc_auc_low"], metrics.meta["mean_roc_auc_high"]
        interval = f" (95% interval {low:.3f}-{high:.3f})" if np.isfinite(low) else ""
        auc = np.ma.filled(np.ma.asarray(metrics["roc_auc"], dtype=float), np.nan)
        alike = [str(name) for name, value in zip(metrics["feature"], auc) if not np.isfinite(value)]
        print(f"Mean ROC AUC {metrics.meta['mean_roc_auc']:.3f}{interval} over "
              f"{metrics.meta['n_in_mean']} of {len(metrics)} features"
              + (f"; no AUC for {', '.join(alike)}: their known labels are all alike" if alike else ""))
    metrics.pprint(max_lines=-1, max_width=-1)
    print(f"Wrote {len(metrics.meta['files'])} files to {args.output}; "
          f"`galzoo-cnn report {args.output}` makes the HTML report")
    return 0


def _cmd_compare_backbones(args):
    # --output is the comparison's directory, not one training run's: each backbone gets its own below it
    config = _training_config(args, ignore=("output",))
    from .comparison import compare_backbones

    backbones = {"backbones": args.backbones} if args.backbones else {}  # else the function's default
    result = compare_backbones(config, output=args.output, progress=not args.no_progress, **backbones)
    result.pprint(max_lines=-1, max_width=-1)
    print(f"Wrote {Path(args.output) / 'backbones.ecsv'}")
    return 0


def _cmd_report(args):
    from .report import write_report

    print(f"Wrote {write_report(args.evaluation, output=args.output, title=args.title)}")
    return 0


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
    p.set_defaults(func=_cmd_taxonomy)

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
    p.set_defaults(func=_cmd_labels)

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
    p.set_defaults(func=_cmd_query)

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
    p.set_defaults(func=_cmd_fetch)

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
    p.set_defaults(func=_cmd_samples)

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
    p.set_defaults(func=_cmd_train, configured=True)

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
    p.set_defaults(func=_cmd_adversarial)

    p = commands.add_parser("classify", help="classify the galaxy images of a table; write catalogues")
    p.add_argument("table", help="table with image paths and ra, dec (FITS, VOTable, ECSV or CSV), or a "
                                 "folder of JPEG / PNG images")
    p.add_argument("--image-dir", help="directory the image paths are relative to")
    add_renamed(p, "--images", "--image-dir", "image_dir")
    p.add_argument("--recursive", action="store_true", help="a folder's sub-folders' images too")
    p.add_argument("--model", help=f"model name or model card path (default: the configuration item "
                                    f"default_model, {conf.default_model})",
                   once_hint="a features model goes in --features-model, a domain classifier in "
                             "--adversarial-model")
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
    p.add_argument("--image-column", default="filename", help="column of image paths (default: filename)")
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
    p.add_argument("--batch-size", type=int, help="images per forward pass (default 256)")
    p.add_argument("--device", help="cpu, cuda, cuda:1... (default: a GPU if there is one)")
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
    p.set_defaults(func=_cmd_classify)

    from .evaluation import THRESHOLD_RULES
    from .plots import FIGURE_FORMATS

    p = commands.add_parser("evaluate",
                            help="classify a labelled table; write the paper's metrics and figures")
    p.add_argument("table", help="table with image paths and labels (FITS, VOTable, ECSV or CSV)")
    p.add_argument("--output", "-o", required=True, help="directory to write (tables, figures, summary.json)")
    p.add_argument("--model", help=f"model name or model card path (default: the configuration item "
                                    f"default_model, {conf.default_model})")
    p.add_argument("--image-dir", help="directory the image paths are relative to")
    p.add_argument("--image-column", help="column of image paths (default: filename)")
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
    p.add_argument("--batch-size", type=int, help="images per forward pass (default 256)")
    p.add_argument("--device", help="cpu, cuda, cuda:1... (default: a GPU if there is one)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier evaluation in --output")
    _progress_option(p)
    p.set_defaults(func=_cmd_evaluate)

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
    p.set_defaults(func=_cmd_compare_backbones, configured=True)

    p = commands.add_parser("report", help="one self-contained HTML file from an evaluation directory")
    p.add_argument("evaluation", help="directory written by galzoo-cnn evaluate")
    p.add_argument("--output", "-o", help="HTML file (default: EVALUATION/report.html)")
    p.add_argument("--title", help="page title")
    p.set_defaults(func=_cmd_report)

    p = commands.add_parser("demo", help="classify bundled real SDSS galaxies and write catalogues, offline")
    p.add_argument("--output", "-o", default="galzoo_demo", help="output directory (default: galzoo_demo)")
    _progress_option(p)
    p.set_defaults(func=_cmd_demo)
    return parser


#: Exit statuses of ``galzoo-cnn`` (documented in the CLI page).
EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 128


def main(argv=None):
    """Run ``galzoo-cnn`` with ``argv`` (default: the command line); return the exit status.

    0: success; 2: a user error (one line on stderr naming the problem: a
    bad option value, a missing file or column, an unusable configuration or
    model card, a device that is not there), or a run in which nothing
    succeeded; 128 + N: stopped by signal N (130 for Ctrl-C, 143 for
    SIGTERM).  Any other exception is a bug and shows its traceback.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``galzoo-cnn``; default: the command line.

    Examples
    --------
    >>> from galzoo_cnn.cli import main
    >>> main(["taxonomy", "--five-class"])  # doctest: +IGNORE_OUTPUT
    0
    """
    if os.environ.get("LOCAL_RANK") not in (None, "0"):  # a worker a DDP launcher started: dies with it
        die_with_parent()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = log.level
    log.setLevel("INFO" if args.verbose else "WARNING")
    try:
        with interruptible():
            return args.func(args)
    except Interrupted as err:
        with stop_signals_ignored():  # a second Ctrl-C must not cut the message short
            print(f"galzoo-cnn {args.command}: {err}; finished files are kept, nothing partial was written",
                  file=sys.stderr)
        return EXIT_INTERRUPTED + err.signum
    except (GalzooError, OSError) as err:  # OSError: the user's files (missing, unreadable, no space)
        text = _one_line(err) if getattr(args, "configured", False) else as_options(
            _one_line(err), parser, args.command)
        print(f"galzoo-cnn {args.command}: error: {text}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        log.setLevel(level)


def _one_line(err):
    text = " ".join(str(err).split())
    if isinstance(err, OSError) and err.filename and str(err.filename) not in text:
        text = f"{err.filename}: {text}"
    return text or type(err).__name__


def console_main():
    """The ``galzoo-cnn`` program: `main` on the command line, then exit with its status.

    After a stop by a signal the process only exits: a repeated Ctrl-C (impatient users press it
    twice) is ignored rather than killing the interpreter during its shutdown (exit -2, clean-up of
    worker processes cut short).
    """
    try:
        status = main()
    except KeyboardInterrupt:  # Ctrl-C before the run's own handlers were in place (while importing)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("galzoo-cnn: interrupted by SIGINT; nothing was written", file=sys.stderr)
        status = EXIT_INTERRUPTED + signal.SIGINT
    if status >= EXIT_INTERRUPTED:
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_IGN)
    sys.exit(status)


if __name__ == "__main__":
    console_main()
