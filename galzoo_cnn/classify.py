# Licensed under a 3-clause BSD style license - see LICENSE
"""
Classifying a table of galaxies: `classify_table`.

The table comes in with one image per row and goes out with every input
column plus the model's outputs:

======================  ============================================================
column                  content
======================  ============================================================
``prob_<class>``        float32 probability of each class (single-label model)
``predicted_class``     the class of highest probability (or as ``decision`` says)
``prob_feature_<f>``    float32 probability of each feature ``f`` (multi-label model)
``flag_<f>``            ``prob_feature_<f> >= threshold`` (the card's) and the flag of
                        the answer that leads to the feature's question
``adversarial_score``   P(training sample) when a domain model is given
``frame_fraction``      side of the image read, when rows are reframed (`frame_crops`)
``quality_flags``       bit flags of the image: no central source, blank, saturated,
                        truncated, grey, bright border (`~galzoo_cnn.columns.QUALITY_FLAGS`;
                        0: none)
``status``              ``ok``, or why the row has no outputs (`STATUSES`)
======================  ============================================================

A row whose image is missing or unusable keeps its place with masked
outputs and a ``status`` saying why; ``strict=True`` raises instead.  Images
are read, scaled and classified in batches, so memory does not grow with the
number of rows.  Inference runs through Lightning's ``Trainer.predict``:
``devices=4`` (or ``num_nodes``, ``strategy='ddp'``) shares the rows between
GPUs and nodes, and the outputs are merged back in input order.

Examples
--------
>>> from galzoo_cnn.classify import STATUSES
>>> list(STATUSES)  # doctest: +NORMALIZE_WHITESPACE
['ok', 'no_image', 'missing', 'url', 'not_a_file', 'too_large', 'not_8bit', 'not_rgb', 'translucent',
 'undecodable', 'fits_image', 'model_error', 'bad_framing', 'blank']
"""

import warnings

import numpy as np
from astropy.table import MaskedColumn

from . import taxonomy
from ._inference import predict_images, status_names
from ._runs import as_model, check_pixel_scale, frame_crops, model_crop, row_crops, start_run
from .columns import PROVENANCE_KEY, QUALITY_FLAGS, REFERENCES_KEY, STATUSES, describe_columns
from .config import conf
from .exceptions import InputError, UnusableImagesWarning
from .images import PackedImages
from .tables import provenance as make_provenance
from .tables import refuse_overwrite

__all__ = ["classify_table", "quality_summary", "frame_crops", "check_pixel_scale", "STATUSES",
           "STATUS_COLUMN", "QUALITY_COLUMN", "FRAME_COLUMN"]

#: Column of the per-row status.
STATUS_COLUMN = "status"
#: Column of the image-quality bit flags (`~galzoo_cnn.columns.QUALITY_FLAGS`).
QUALITY_COLUMN = "quality_flags"
#: Column of the per-row fraction of the image side the model read, when rows are reframed.
FRAME_COLUMN = "frame_fraction"
_SCORE_COLUMN = "adversarial_score"


def classify_table(table, *, model=None, features_model=None, image_column="filename", image_dir=None,
                   batch_size=256,
                   device=None, num_workers=None, progress=True, strict=False, adversarial_model=None,
                   crop=None, reframe=True, fov_column="cutout_fov", radius_column="petroR90_r", tta=False,
                   devices=None, num_nodes=1, strategy="auto", precision=None, overwrite=False,
                   decode="auto", packed=None, decision="most_probable"):
    """Classify the galaxy image of every row of ``table``.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.table.QTable` or path
        One row per galaxy (FITS, VOTable, ECSV or CSV file accepted), or a
        folder of images: one row per JPEG or PNG file in it, by name
        (`~galzoo_cnn.tables.image_table`).
    model : str, `~pathlib.Path` or `~galzoo_cnn.models.GalaxyClassifier`, optional
        A model name (`galzoo_cnn.models.available_models`), the path of a
        model card, or a loaded model.  Default: ``conf.default_model``
        (`galzoo_cnn.config`), the bundled five-class model ``sample-gz2-dihedral``.
    features_model : str, `~pathlib.Path` or `~galzoo_cnn.models.GalaxyClassifier`, optional
        A multi-label model of detailed features (objective ``features``,
        e.g. the bundled ``sample-gz2-features``), run in the same pass:
        each image is read once for both models when they frame it alike.
        Adds ``prob_feature_<feature>`` and ``flag_<feature>`` per feature
        (the card's acceptance thresholds), masked where the row has no
        usable image.
    image_column : str
        Column of image paths, relative to ``image_dir``.
    image_dir : str or `~pathlib.Path`, optional
        Directory of the images.  A path that leads outside it raises.
    batch_size : int
        Images per forward pass.
    device : str, optional
        ``'cpu'``, ``'cuda'``, ``'cuda:1'``...; default: a GPU if there is one.
    num_workers : int, optional
        Processes decoding images; default 0 on a machine with two cores or
        fewer, else up to 8.
    progress : bool
        Show a progress bar, counting images (under DDP, the first
        process's share).
    strict : bool
        Raise at the first missing or unreadable image instead of marking
        the row.
    adversarial_model : str, path or `~galzoo_cnn.models.GalaxyClassifier`, optional
        A domain classifier (`galzoo_cnn.adversarial`); adds
        ``adversarial_score`` = P(training sample).
    crop : float, optional
        Central fraction of each image to keep, the same for every row (no
        reframing; above 1, up to 2, the frame is widened with sky,
        `~galzoo_cnn.images.pad_with_sky`); default: the model card's (the fraction the model was
        trained with), or per row with ``reframe``.
    reframe : bool
        Where the table gives each cutout's side on the sky (``fov_column``)
        and the galaxy's Petrosian radius (``radius_column``), and the model
        reads a galaxy-scaled frame (`~galzoo_cnn.models.GalaxyClassifier.frame_r90`),
        crop each image, or widen it with sky (`~galzoo_cnn.images.pad_with_sky`),
        so that the galaxy spans that frame; the fraction read is in the
        ``frame_fraction`` column.  Rows whose radius or field is not a
        positive finite angle, or that would need a crop below 0.1 or a frame
        widened more than twice, get ``status='bad_framing'``.
    fov_column, radius_column : str
        Names of those two columns (angles; plain numbers are arcseconds).
    tta : bool
        Test-time augmentation: average the probabilities over the eight
        views of each image under 90-degree rotations and flips (a galaxy
        has no up); eight times the forward passes.  A model that pools the
        eight views itself (``view_pooling='dihedral'``, as the default
        ``sample-gz2-dihedral``) gives the same output for each view, so it is
        run once.
    devices, num_nodes, strategy, precision
        Lightning ``Trainer`` settings for multi-GPU / multi-node inference
        (e.g. ``devices=4``); ``precision`` defaults to ``'16-mixed'`` on a
        GPU and ``'32-true'`` on the CPU.
    overwrite : bool
        Replace output columns the input table already has (e.g. when
        classifying an earlier output again); otherwise they raise, so that
        no earlier result is lost.
    decode : {'auto', 'cpu', 'device'}
        Where JPEG files are decoded: ``'device'`` in batches on the model's
        device (nvJPEG on a GPU, `~galzoo_cnn.images.decode_jpegs`; a few
        levels from the CPU reader's pixels), ``'cpu'`` by
        `~galzoo_cnn.images.read_image` in the loader; ``'auto'`` (default):
        the device on a GPU, the CPU elsewhere.  Other formats and frames
        widened with sky are always read on the CPU.
    packed : str, `~pathlib.Path` or `~galzoo_cnn.images.PackedImages`, optional
        The same rows' images decoded once into a file
        (`~galzoo_cnn.images.pack_images` at the model's input size and
        crop), for repeated runs over the same images: a row read at the
        packed crop is taken from the file instead of decoding its image
        again (same pixels, same results); rows reframed to another crop,
        and rows whose image could not be packed, are read from their files.
        A file that packs other paths, or at another size, raises.
    decision : {'most_probable', 'balanced'}
        How ``predicted_class`` is chosen (`~galzoo_cnn.objectives.DECISIONS`):
        the class of highest probability (default: the most accurate
        catalogue), or ``'balanced'``: that probability times the card's
        per-class factor (``card['decision']``, fitted on the validation rows
        by `~galzoo_cnn.evaluation.balance_model`), which finds rare classes
        (cigar-shaped galaxies) more often at some cost in accuracy and in
        their purity.  The probabilities are the same either way.

    Warns
    -----
    `~galzoo_cnn.exceptions.UnusableImagesWarning`
        Once, when some rows could not be classified (counted by status;
        the first is named).
    `~galzoo_cnn.exceptions.PixelScaleWarning`
        When the table records the frame of its cutouts (a ``cutout_fov``
        column, as `~galzoo_cnn.cutouts.fetch_cutouts` writes; with
        ``petroR90_r`` for models whose card gives the scale in Petrosian
        radii) and some rows lie outside the range of scales the model was
        trained at (its card's ``input['pixel_scale']``).

    Returns
    -------
    `~astropy.table.Table`
        A new table (the input is not modified): every input column, the
        outputs described in `galzoo_cnn.classify`, column metadata from
        `galzoo_cnn.catalog`, and in ``meta['provenance']`` the package
        version, model name, weights' SHA-256, crop, date and status counts.

    Raises
    ------
    TypeError
        ``table`` is not a table or a path; ``model`` is not a model.
    ValueError
        Unknown model; an empty table; an image path leaving ``image_dir``;
        output columns already in the table (without ``overwrite``).
    KeyError
        ``image_column`` is not in the table.
    `~galzoo_cnn.exceptions.InputError`
        ``decision='balanced'`` for a model whose card has no class factors.
    `~galzoo_cnn.exceptions.ImageError`
        With ``strict=True``, at the first unusable image (naming row and file).

    Examples
    --------
    Classify the real SDSS galaxies bundled for the demo:

    >>> from galzoo_cnn import classify_table
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> sample, image_dir = load_demo_sample()
    >>> result = classify_table(sample[:4], image_dir=image_dir, progress=False)
    >>> result["predicted_class"].tolist()  # doctest: +SKIP
    ['elliptical', 'elliptical', 'elliptical', 'elliptical']
    >>> sorted(set(result["status"].tolist()))
    ['ok']
    >>> classify_table(sample[:1], model="no-such-model")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: no model 'no-such-model': ...
    """
    table, paths = start_run(table, "classify", image_column=image_column, image_dir=image_dir,
                             batch_size=batch_size, num_workers=num_workers, num_nodes=num_nodes, crop=crop,
                             device=device, devices=devices)
    models = [as_model(conf.default_model if model is None else model)]
    models[0].objective.check_decision(models[0].card, decision)
    if features_model is not None:
        models.append(_features_model(features_model, models[0]))
    if adversarial_model is not None:
        domain = as_model(adversarial_model)
        if "training" not in domain.classes:
            raise InputError(f"adversarial_model has classes {list(domain.classes)}, no 'training': "
                             f"not a domain classifier")
        models.append(domain)
    outputs = _output_columns(models, has_domain=adversarial_model is not None)
    table.remove_columns(refuse_overwrite(table, outputs, overwrite=overwrite,
                                          earlier="an earlier classification"))
    crops = [model_crop(m, crop) for m in models]
    crops[0], preset, framing = row_crops(table, models[0], crop, reframe=reframe, fov_column=fov_column,
                                          radius_column=radius_column)
    features_ok = True  # rows the features model reads at its own frame (bad_framing there: masked)
    if features_model is not None and not _same_frame(models[0], models[1]):
        crops[1], features_preset, _ = row_crops(table, models[1], crop, reframe=reframe,
                                                 fov_column=fov_column, radius_column=radius_column)
        features_ok = features_preset is None or features_preset == 0
    elif features_model is not None:
        crops[1] = crops[0]
    codes, flags, probabilities, used_precision = predict_images(
        models, paths, crops, batch_size=batch_size, device=device, num_workers=num_workers,
        progress=progress, strict=strict, devices=devices, num_nodes=num_nodes, strategy=strategy,
        precision=precision, tta=tta, codes=preset, decode=decode,
        packed=_packed_images(packed, paths, models[0]))

    status = status_names(codes)
    ok = status == "ok"
    result = models[0].objective.add_outputs(table, models[0].classes, probabilities[0], ok, models[0].card,
                                             decision=decision)
    if features_model is not None:
        models[1].objective.add_outputs(result, models[1].classes, probabilities[1], ok & features_ok,
                                        models[1].card)
    if adversarial_model is not None:
        score = probabilities[-1][:, list(models[-1].classes).index("training")]
        result[_SCORE_COLUMN] = MaskedColumn(score, mask=~ok)
    if framing is not None:
        result[FRAME_COLUMN] = MaskedColumn(np.asarray(crops[0], dtype=np.float32), mask=framing.mask)
    # a blank frame's flags were measured: they say what it looks like (black, or a constant sky)
    measured = ok | (status == "blank")
    result[QUALITY_COLUMN] = MaskedColumn(flags.astype(np.int32), mask=~measured)
    result[STATUS_COLUMN] = status
    counts = {s: int((status == s).sum()) for s in STATUSES if (status == s).any()}
    if not ok.all():
        first = int(np.argmax(~ok))
        warnings.warn(UnusableImagesWarning(
            f"classify_table: {int((~ok).sum())} of {len(table)} rows not classified ({counts}); first: "
            f"row {first}, {status[first]} ({paths[first]})"), stacklevel=2)
    result.meta[PROVENANCE_KEY] = _provenance(models, crops, counts, used_precision, framing, tta,
                                              (fov_column, radius_column), decision=decision,
                                              has_features=features_model is not None,
                                              has_domain=adversarial_model is not None)
    if packed is not None:
        result.meta[PROVENANCE_KEY]["packed_images"] = str(getattr(packed, "path", packed))
    result.meta[REFERENCES_KEY] = _references(models)
    return describe_columns(result, copy=False)


def _output_columns(models, *, has_domain):
    """The columns a run of ``models`` (main, a features model, then a domain model if ``has_domain``)
    adds."""
    classifiers = models[:-1] if has_domain else models
    names = [n for m in classifiers for n in m.objective.output_columns(m.classes)]
    return names + ([_SCORE_COLUMN] if has_domain else []) + [FRAME_COLUMN, QUALITY_COLUMN, STATUS_COLUMN]


def _features_model(features_model, main):
    """The features model of a run, loaded and checked against the main model."""
    features = as_model(features_model)
    if features.objective.output != "sigmoid":
        objective = features.objective
        raise InputError(f"features_model is a {objective.name!r} model ({objective.output} over "
                         f"{len(features.classes)} classes); expected a multi-label model of detailed "
                         f"features (objective 'features'), e.g. 'sample-gz2-features'")
    if main.objective.output == "sigmoid":
        raise InputError("model is a multi-label model already; give the features model as model= alone, "
                         "or a five-class model as model= and the features model as features_model=")
    return features


def _same_frame(first, second):
    """Whether two models read the same part of an image (then each image is read once for both)."""
    return first.frame_r90 == second.frame_r90 and model_crop(first) == model_crop(second)


def _provenance(models, crops, counts, precision, framing, tta, framing_columns, *, decision="most_probable",
                has_features=False, has_domain=False):
    main = models[0]
    provenance = make_provenance(
        "classify_table",
        model=main.card.name,
        model_objective=main.objective.name,
        model_backbone=main.card.backbone,
        model_sha256=main.card.weights_sha256,
        crop=float(crops[0]) if np.ndim(crops[0]) == 0 else "per row (frame_fraction)",
        tta="mean over 8 dihedral views" if tta else "none",
        temperature=main.temperature,
        precision=str(precision),
        status_counts=", ".join(f"{k}={v}" for k, v in counts.items()),
    )
    if framing is not None:
        fractions = framing.compressed()
        cropped, widened = int((fractions < 1).sum()), int((fractions > 1).sum())
        provenance["reframed"] = (
            f"{fractions.size} rows reframed to {main.frame_r90:g} R90 from {framing_columns[0]} / "
            f"{framing_columns[1]} ({cropped} cropped, {widened} widened with sky noise of the frame "
            f"border's median and scatter); {int(framing.mask.sum())} bad_framing")
    provenance.update(main.objective.provenance(main.card, decision=decision))
    if has_features:
        features = models[1]
        provenance["features_model"] = features.card.name
        provenance["features_model_sha256"] = features.card.weights_sha256
        provenance["features_thresholds"] = features.objective.provenance(features.card)["thresholds"]
    if has_domain:
        provenance["adversarial_model"] = models[-1].card.name
        provenance["adversarial_model_sha256"] = models[-1].card.weights_sha256
    return provenance


def _references(models):
    references = [taxonomy.KHRAMTSOV2022]
    for model in models:
        references += [r for r in model.card.references if r not in references]
    return references


def _packed_images(packed, paths, model):
    """``packed`` as `~galzoo_cnn.images.PackedImages` checked against the run's rows (or None)."""
    if packed is None:
        return None
    packed = packed if isinstance(packed, PackedImages) else PackedImages(packed)
    packed.check_rows(paths, size=model.card.input_size)
    return packed


def quality_summary(table):
    """One line per image-quality flag raised in a classified table: how many rows, and the first.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Output of `classify_table` (its ``quality_flags`` column, `QUALITY_COLUMN`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.classify import quality_summary
    >>> from galzoo_cnn.columns import QUALITY_FLAGS
    >>> bit = QUALITY_FLAGS["no_central_source"][0]
    >>> quality_summary(Table({"id": ["a", "b"], "quality_flags": [0, bit]}))
    ['Image-quality flag no_central_source: 1 row(s), e.g. row 1 (b); see the quality_flags column']
    """
    flags = np.ma.filled(table[QUALITY_COLUMN], 0)
    lines = []
    for name, (bit, _) in QUALITY_FLAGS.items():
        rows = np.flatnonzero(flags & bit)
        if len(rows):
            lines.append(f"Image-quality flag {name}: {len(rows)} row(s), e.g. row {rows[0]} "
                         f"({table[table.colnames[0]][rows[0]]}); see the {QUALITY_COLUMN} column")
    return lines
