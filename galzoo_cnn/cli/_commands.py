# Licensed under a 3-clause BSD style license - see LICENSE
"""The handlers of the ``galzoo-cnn`` sub-commands: each checks its input, calls one library function
and prints what it did."""

import json
import textwrap
from pathlib import Path

import numpy as np
from astropy import units as u

from .. import __version__, labels, taxonomy
from ..catalog import CATALOG_FORMATS, read_catalog_metadata
from ..config import conf
from ..cutouts import fetch_cutouts
from ..exceptions import InputError, MissingColumnsError
from ..samples import build_samples, query_sdss_targets
from ..tables import as_table, table_or_folder, writable_table_format, write_table_atomic

#: Exit statuses of ``galzoo-cnn`` (documented in the CLI page).
EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 128


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


def cmd_taxonomy(args):
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


def cmd_labels(args):
    labelled = _label_table(as_table(args.table), args)
    path = write_table_atomic(labelled, args.output, overwrite=args.overwrite)
    labels.label_summary(labelled).pprint_all()
    print(f"Wrote {len(labelled)} rows to {path}")
    return 0


def cmd_demo(args):
    from ..classify import quality_summary
    from ..demo import DEMO_FEATURES_MODEL, run_demo

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


def cmd_classify(args):
    from ..catalog import classify_catalog

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
    from ..classify import quality_summary  # here: torch loads only once the input has been checked

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

    from ..utils._configs import bundled_config

    path = bundled_config(args.config)  # a mistyped name, key or value is refused before torch loads
    from .._train_config import TrainConfig

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
    config = dataclasses.replace(config, **overrides)
    config._check_kinds()
    return config


def cmd_train(args):
    config = _training_config(args)
    from ..training import train

    model, card_path = train(config, progress=not args.no_progress)
    if card_path is not None:
        test = model.card.test_metrics
        print(f"Saved {card_path} (test: {json.dumps(test.get('accuracy', test.get('roc_auc')))})")
    return 0


def _vector_table_path(path, overwrite):
    """An output table that holds a vector per row and the name of the model that made it (FITS, ECSV), not
    already there: checked before torch loads."""
    if writable_table_format(path, overwrite=overwrite) not in ("fits", "ascii.ecsv"):
        raise InputError(f"--output {path}: an embedding is a vector per row, with the name of the model "
                         f"that made it: write FITS (.fits) or ECSV (.ecsv)")


def cmd_embed(args):
    table, image_dir = table_or_folder(args.table, args.image_dir, image_column=args.image_column,
                                       recursive=args.recursive)
    _vector_table_path(args.output, args.overwrite)
    from ..similarity import embed_table

    given = {k: getattr(args, k) for k in ("batch_size", "fov_column", "radius_column")
             if getattr(args, k) is not None}
    embedded = embed_table(table, model=args.model, image_column=args.image_column, image_dir=image_dir,
                           device=args.device, progress=not args.no_progress, reframe=not args.no_reframe,
                           tta=args.tta, overwrite=args.overwrite, **given)
    path = write_table_atomic(embedded, args.output, overwrite=args.overwrite)
    ok = int((embedded["status"] == "ok").sum())
    print(f"Embedded {ok} of {len(embedded)} rows ({embedded.meta['provenance']['model']}, "
          f"{embedded['embedding'].shape[1]} features); wrote {path}: the reference of galzoo-cnn similar")
    return 0 if ok else EXIT_USAGE


def _check_similar_outputs(args, outputs):
    """The pairs table's format, the figure's format and size, and no file replaced unasked."""
    from matplotlib.figure import Figure

    writable_table_format(outputs[0], overwrite=args.overwrite)
    if args.figure:
        kinds = Figure().canvas.get_supported_filetypes()
        if outputs[1].suffix.lstrip(".").lower() not in kinds:
            raise InputError(f"--figure {args.figure}: matplotlib writes {', '.join(sorted(kinds))}; give "
                             f"the file one of those extensions")
        if args.figure_rows < 1:
            raise InputError(f"--figure-rows {args.figure_rows}: draw at least one query galaxy")
        if outputs[1].exists() and not args.overwrite:
            raise FileExistsError(f"{str(outputs[1])!r} exists; pass overwrite=True to replace it")


def cmd_similar(args):
    query, query_dir = table_or_folder(args.query, args.image_dir, image_column=args.image_column)
    reference, reference_dir = table_or_folder(args.reference, args.reference_image_dir or args.image_dir,
                                               image_column=args.image_column)
    outputs = [Path(args.output)] + ([Path(args.figure)] if args.figure else [])
    _check_similar_outputs(args, outputs)  # before the images are embedded, the long part
    from ..io._transaction import FileSetTransaction
    from ..plots import plot_similar
    from ..similarity import similar_galaxies

    given = {"batch_size": args.batch_size} if args.batch_size is not None else {}
    pairs = similar_galaxies(query, reference, k=args.k, model=args.model, id_column=args.id_column,
                             image_column=args.image_column, image_dir=query_dir,
                             reference_image_dir=reference_dir, device=args.device,
                             progress=not args.no_progress, **given)
    with FileSetTransaction(outputs[0].with_suffix(""), outputs) as transaction:  # both files or neither
        write_table_atomic(pairs, transaction.staged(outputs[0]), overwrite=True)
        if args.figure:
            shown = pairs[np.isin(pairs["query_row"], np.unique(pairs["query_row"])[:args.figure_rows])]
            figure = plot_similar(shown, query, reference, image_dir=query_dir,
                                  reference_image_dir=reference_dir, image_column=args.image_column)
            figure.savefig(transaction.staged(outputs[1]), dpi=110, bbox_inches="tight")
    n_query = len(np.unique(pairs["query_row"]))
    print(f"{pairs.meta['k']} nearest of {len(reference)} reference galaxies for {n_query} query galaxies "
          f"({pairs.meta['n_query_unusable']} without a usable image); wrote " + ", ".join(map(str, outputs)))
    return 0


def cmd_adversarial(args):
    # before torch loads; either sample may be a folder of images
    training, training_dir = table_or_folder(args.training, args.training_image_dir,
                                             image_column=args.image_column)
    inference, inference_dir = table_or_folder(args.inference, args.inference_image_dir,
                                               image_column=args.image_column)
    from ..adversarial import adversarial_validation
    from ..plots import plot_adversarial_scores

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


def cmd_query(args):
    from ..samples import query_gz2, query_gz_decals

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


def cmd_samples(args):
    samples = build_samples(args.targets, args.gz2, decals=args.decals, radius=args.radius * u.arcsec)
    path = write_table_atomic(samples, args.output, overwrite=args.overwrite)
    print(f"Wrote {path}: {json.dumps(samples.meta['samples'])}")
    return 0


def cmd_fetch(args):
    from ..cutouts import MANIFEST_NAME

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


def cmd_evaluate(args):
    table = as_table(args.table)  # a missing or unreadable table is refused before torch loads
    from ..report import evaluate_model

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


def cmd_compare_backbones(args):
    # --output is the comparison's directory, not one training run's: each backbone gets its own below it
    config = _training_config(args, ignore=("output",))
    from ..comparison import compare_backbones

    backbones = {"backbones": args.backbones} if args.backbones else {}  # else the function's default
    result = compare_backbones(config, output=args.output, progress=not args.no_progress, **backbones)
    result.pprint(max_lines=-1, max_width=-1)
    print(f"Wrote {Path(args.output) / 'backbones.ecsv'}")
    return 0


def cmd_report(args):
    from ..report import write_report

    print(f"Wrote {write_report(args.evaluation, output=args.output, title=args.title)}")
    return 0

