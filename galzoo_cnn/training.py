# Licensed under a 3-clause BSD style license - see LICENSE
"""
Training the classifiers with Lightning.

`train` takes a `TrainConfig` (or a YAML file of one), splits the table
(stratified, seeded; the split is saved), trains with Adam and
ReduceLROnPlateau as in the paper, keeps the best epoch, evaluates it on the
held-out test rows and saves it with `galzoo_cnn.models.save_model`.

Reproducible and resumable: the order of the images and every random
augmentation are functions of ``(seed, epoch, row)`` alone, and a checkpoint
(``checkpoints/last.ckpt``) is written at the end of every epoch.  A run
killed at any moment and started again with the same configuration resumes
from the last complete epoch and ends with the same weights as an
uninterrupted run.  Mixed precision (``precision="16-mixed"``), several GPUs
and nodes (``devices``, ``num_nodes``, ``strategy="ddp"``, under torchrun or
SLURM) are Lightning's.

Examples
--------
>>> from galzoo_cnn.training import TrainConfig
>>> config = TrainConfig(table="t.ecsv", output="run", objective="adversarial").resolved()
>>> config.lr, config.epochs  # the objective's defaults (Khramtsov et al. 2022)
(0.005, 12)
"""

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import torch
from astropy.table import Table

from . import images as _images
from ._train_config import CLASS_WEIGHTS, TrainConfig
from .augment import training_transform
from .calibration import apply_temperature, decision_entry, temperature_entry
from .columns import FEATURE_PREFIX, SPLITS
from .exceptions import InputError, UnusableImagesWarning
from .models import build_model, load_model, save_model
from .objectives import SingleLabel, get_objective
from .tables import as_table, require_columns, write_table_atomic
from .utils._configs import bundled_config
from .utils._deprecation import keyword_options
from .utils._lightning import check_workers, make_trainer, process_shard, raise_if_interrupted
from .utils._signals import interruptible, quiet_worker

__all__ = ["CLASS_WEIGHTS", "class_weights", "TrainConfig", "bundled_config",
           "LitClassifier",
           "SeededSampler",
           "process_shard",
           "split_table", "train"]

def class_weights(counts, rule):
    """Loss weights for classes with training ``counts`` under a `CLASS_WEIGHTS` rule.

    Parameters
    ----------
    counts : array-like
        Training rows per class; ``(n_features, 2)`` for a multi-label objective
        (negative and positive rows of each feature, `Objective.label_counts`),
        weighted within each feature (a feature without positive or without
        negative rows keeps weights 1).
    rule : str or None
        A key of `CLASS_WEIGHTS`.

    Examples
    --------
    >>> from galzoo_cnn.training import class_weights
    >>> class_weights([900, 100], "inverse_sqrt").round(3).tolist()
    [0.833, 2.5]
    >>> class_weights([[900, 100], [50, 50]], "inverse").round(3).tolist()
    [[0.556, 5.0], [1.0, 1.0]]
    """
    counts = np.asarray(counts, dtype=float)
    if CLASS_WEIGHTS[rule] is None:
        return np.ones_like(counts)
    if counts.ndim == 2:  # a feature known only as yes or only as no has nothing to balance
        empty = (counts <= 0).any(1, keepdims=True)
        counts = np.where(empty, 1.0, counts)
    elif (counts <= 0).any():
        raise InputError(f"every class needs training rows for class weights; counts {counts.tolist()}")
    weights = CLASS_WEIGHTS[rule](counts)
    weights = weights * counts.sum(-1, keepdims=True) / (weights * counts).sum(-1, keepdims=True)
    return np.where(empty, 1.0, weights) if counts.ndim == 2 else weights


class SeededSampler(torch.utils.data.Sampler):
    """Yields ``(seed, row)`` pairs: a permutation and per-image seeds fixed by (seed, epoch).

    Lightning calls `set_epoch`; under DDP each process takes every
    ``world_size``-th row of the same permutation (padded to equal length).
    """

    def __init__(self, n_rows, seed, shuffle=True):
        self.n_rows, self.seed, self.shuffle, self.epoch = n_rows, seed, shuffle, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def _shard(self):
        return process_shard()

    def __len__(self):
        return math.ceil(self.n_rows / self._shard()[1])

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n_rows) if self.shuffle else np.arange(self.n_rows)
        seeds = rng.integers(0, 2**62, size=self.n_rows)
        rank, world = self._shard()
        order = np.resize(order, len(self) * world)[rank::world]
        return iter([(int(seeds[i]), int(i)) for i in order])


class _SeededDataset(torch.utils.data.Dataset):
    """Wraps an `ImageTableDataset`; seeds torch's generator per item from the sampler's seed."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        seed, index = key if isinstance(key, tuple) else (key, key)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.dataset[index]


class LitClassifier(L.LightningModule):
    """A `~galzoo_cnn.models.GalaxyClassifier` with its objective's loss, and the paper's optimiser
    and schedule (Adam, ReduceLROnPlateau)."""

    def __init__(self, model, lr, monitor="val_loss", patience=4, factor=0.1, class_weights=None,
                 scheduler="plateau", epochs=None, freeze_backbone=False):
        super().__init__()
        self.model = model
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            model.backbone.requires_grad_(False)
        self.lr, self.monitor, self.patience, self.factor = lr, monitor, patience, factor
        self.scheduler_name, self.epochs = scheduler, epochs
        self.register_buffer("class_weights", None if class_weights is None else
                             torch.as_tensor(class_weights, dtype=torch.float32), persistent=False)

    def forward(self, images):
        """Logits of the wrapped model."""
        return self.model(images)

    def on_train_batch_start(self, batch, batch_idx):
        """A frozen backbone stays in evaluation mode: its batch-norm statistics stay those it was
        trained with, so that it computes exactly the features of the model it came from (Lightning
        puts every submodule back in training mode after each validation)."""
        if self.freeze_backbone:
            self.model.backbone.eval()

    def _loss(self, logits, targets):
        # class weights shape the training loss only: val_loss stays comparable between runs
        return self.model.objective.loss(logits, targets, self.class_weights if self.training else None)

    def training_step(self, batch, batch_idx):
        """Loss of one batch, logged as ``train_loss``."""
        images, targets = batch
        loss = self._loss(self(images), targets)
        self.log("train_loss", loss, on_epoch=True, on_step=False, batch_size=len(images), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        """Logs ``val_loss`` and, for single-label models, ``val_acc``."""
        images, targets = batch
        logits = self(images)
        self.log("val_loss", self._loss(logits, targets), batch_size=len(images), sync_dist=True)
        for name, value in self.model.objective.validation_metrics(logits, targets).items():
            self.log(name, value, batch_size=len(images), prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        """Adam, and ReduceLROnPlateau on the monitored metric (the paper's schedule)."""
        optimizer = torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=self.lr)
        if self.scheduler_name == "cosine":  # a fixed budget of epochs (e.g. a CPU-trained sample model)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.epochs)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler}}
        mode = "max" if self.monitor.endswith("acc") else "min"
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=self.factor,
                                                               patience=self.patience)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": self.monitor}}


@keyword_options
def split_table(table, label_column=None, test_fraction=0.2, val_fraction=0.25, seed=42, *,
                overwrite=False):
    """Add a ``split`` column: ``test`` (held out), then ``val`` and ``train`` from the rest.

    Stratified by ``label_column`` when given (scikit-learn); seeded.  A
    table that already has a ``split`` column raises unless ``overwrite``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows to split.
    label_column : str, optional
        Column to stratify by.
    test_fraction, val_fraction : float
        Fraction held out for the test set, then fraction of the rest for
        validation.
    seed : int
        Random seed.
    overwrite : bool
        Replace an existing ``split`` column.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.training import split_table
    >>> t = split_table(Table({"label": ["a"] * 8 + ["b"] * 12}), label_column="label", test_fraction=0.2,
    ...                 val_fraction=0.25)
    >>> sorted(set(t["split"].tolist())), int((t["split"] == "test").sum())
    (['test', 'train', 'val'], 4)
    """
    from sklearn.model_selection import train_test_split

    if "split" in table.colnames and not overwrite:
        raise InputError("the table already has a 'split' column; pass overwrite=True to replace it, or "
                         "give it as the training configuration's split_column")
    rows = np.arange(len(table))
    labels = np.asarray(table[label_column]).astype(str) if label_column else None
    if labels is not None and test_fraction > 0:
        _check_strata(labels, label_column, "the table's rows", test_fraction)
    rest, test = train_test_split(rows, test_size=test_fraction, random_state=seed, stratify=labels) \
        if test_fraction > 0 else (rows, rows[:0])
    if labels is not None:
        _check_strata(labels[rest], label_column, "the rows left for training and validation", val_fraction)
    train, val = train_test_split(rest, test_size=val_fraction, random_state=seed,
                                  stratify=None if labels is None else labels[rest])
    split = np.empty(len(table), dtype="U5")
    split[train], split[val], split[test] = "train", "val", "test"
    out = table.copy(copy_data=False)
    out["split"] = split
    return out


def _check_strata(labels, label_column, where, fraction):
    """scikit-learn's stratified split of ``labels`` (``fraction`` of them held out) needs two rows of each
    class, and as many rows in each part as there are classes; it would stop with a message that names
    neither the column nor the class."""
    classes, counts = np.unique(labels, return_counts=True)
    few = {str(c): int(n) for c, n in zip(classes, counts) if n < 2}
    advice = "label more galaxies, merge a class into another (class_map) or leave it out (classes)"
    if few:
        raise InputError(f"column {label_column!r}: a stratified split needs 2 rows of each class, and "
                         f"{where} hold {few} (rows of each); {advice}")
    held = math.ceil(fraction * len(labels))  # as scikit-learn rounds a fraction
    if min(held, len(labels) - held) < len(classes):
        raise InputError(f"column {label_column!r}: {where}, {len(labels)} rows of {len(classes)} classes, "
                         f"split {len(labels) - held} / {held}: a stratified split needs each part to hold a "
                         f"row of every class; {advice}")


def _prepare_table(config):
    table = as_table(config.table)
    if config.label_column and config.class_map:
        labels = np.asarray(table[config.label_column]).astype(str)
        mapped = [config.class_map.get(label, label) for label in labels]
        keep = np.array([m is not None for m in mapped])
        table = table[keep]
        table[config.label_column] = [m for m in mapped if m is not None]
    if config.label_column:
        _images.check_labels(table, config.label_column, classes=config.classes)  # before splitting
    return table


#: How many unreadable images a model card lists by name (all of them are counted).
_LISTED_UNREADABLE = 20


def _drop_unusable(table, config, progress, packed=None, blank=()):
    """The rows whose image can be used, each decoded once as training will read it (about 1 ms an image,
    before the split is drawn): a corrupt or missing file, or a blank frame, leaves the run with a warning
    naming it, instead of stopping the run in the middle of an epoch (or teaching the model noise).
    ``meta['unreadable_images']`` lists the files left out.  With ``packed``
    (`~galzoo_cnn.images.pack_images` of the table, not strict) and its ``blank`` rows the images were
    decoded there: only the rows it could not read are read again, for their reasons."""
    from tqdm.auto import tqdm

    paths = _images.resolve_image_paths(table, image_column=config.image_column, image_dir=config.image_dir,
                                        allow_empty=True)
    if packed is None:
        checking = tqdm(paths, desc="checking", unit=" images", disable=not progress)
        problems = {i: _images.image_problem(path, size=config.decode_size, crop=config.crop)
                    for i, path in enumerate(checking)}
    else:
        problems = {i: "blank" for i in blank}
        problems.update({i: _images.image_problem(paths[i], size=config.decode_size, crop=config.crop)
                         or "undecodable" for i in packed.unreadable})
        problems = dict(sorted(problems.items()))
    bad = [i for i, problem in problems.items() if problem is not None]
    if not bad:
        return table
    listed = [{"file": "" if paths[i] is None else str(paths[i]), "status": problems[i]} for i in bad]
    shown = "; ".join(f"{entry['file']}: {entry['status']}" for entry in listed[:3])
    if len(bad) == len(table):
        raise InputError(f"none of the {len(table)} images can be used ({shown}...); check image_dir "
                         f"({config.image_dir}) and the column {config.image_column!r}")
    warnings.warn(UnusableImagesWarning(  # stacklevel: train's caller, past keyword_options' wrapper
        f"train: {len(bad)} of {len(table)} images cannot be used (unreadable or blank) and are left out "
        f"({shown}{'...' if len(bad) > 3 else ''}); the model card lists them"), stacklevel=4)
    kept = table[np.setdiff1d(np.arange(len(table)), bad)]
    kept.meta["unreadable_images"] = {"n": len(bad), "files": listed[:_LISTED_UNREADABLE]}
    return kept


def _packed_rows(path, table, config, progress, *, resumed):
    """The training table's images decoded once (``config.pack_images``), the packed rows of the kept ones
    and the blank ones: packed before the unusable rows are left out, so that checking them costs no second
    decoding.  A resumed run (``table``: its kept rows) reads the file again; a new run (``table``: every
    row) packs anew, over a file a run stopped before its split may have left."""
    if not resumed or not path.exists():
        packed = _images.pack_images(table, path, image_column=config.image_column,
                                     image_dir=config.image_dir, size=config.decode_size, progress=progress,
                                     crop=config.crop, strict=False)
    else:
        packed = _images.PackedImages(path)
    blank = sorted(set(packed.blank_rows()) - packed.unreadable)  # unreadable rows were packed black
    kept = np.setdiff1d(np.arange(len(packed)), sorted(packed.unreadable) + blank)
    if resumed and (len(kept) != len(table) or packed.size != config.decode_size):
        raise InputError(f"packed images {str(path)!r} hold {len(kept)} readable {packed.size} px images, "
                         f"not the {len(table)} {config.decode_size} px images of this run: delete the file "
                         f"to pack the images again")
    return packed, kept, blank


def _split(table, config):
    """The table with its ``split`` column: the configuration's own (``split_column``) or a stratified,
    seeded random one."""
    if config.split_column:
        return _given_split(table, config)
    return split_table(table, label_column=config.label_column, test_fraction=config.test_fraction,
                       val_fraction=config.val_fraction, seed=config.seed)


def _given_split(table, config):
    """The table's own split (``config.split_column``), checked; without ``val`` rows (as from
    `~galzoo_cnn.adversarial.adversarial_split`: test / train), validation rows are drawn from train."""
    require_columns(table, config.split_column, role="split",
                    hint=f"Make it with adversarial_split (train / test, the paper's inference-like test "
                         f"set) or split_table, or set split_column: null in the configuration for a random "
                         f"split ({config.test_fraction:g} test, {config.val_fraction:g} of the rest "
                         f"validation)")
    split = np.asarray(table[config.split_column]).astype(str)
    unknown = ~np.isin(split, SPLITS)
    if unknown.any():
        row = int(np.argmax(unknown))
        raise InputError(f"column {config.split_column!r}, row {row}: {str(split[row])!r} is not one of "
                         f"{SPLITS}")
    table = table.copy(copy_data=False)
    table["split"] = split
    if not (split == "val").any():
        rest = np.flatnonzero(split == "train")
        columns = ["split"] + ([config.label_column] if config.label_column else [])
        drawn = split_table(table[rest][columns], label_column=config.label_column, test_fraction=0.0,
                            val_fraction=config.val_fraction, seed=config.seed,
                            overwrite=True)
        table["split"][rest] = drawn["split"]
    return table


def _table_label(table):
    """How a model card names its training table: the file, or an in-memory table's size."""
    if isinstance(table, (str, Path)):
        return str(table)
    return f"in-memory table of {len(table)} rows"


def _table_hash(table, columns):
    digest = hashlib.sha256()
    for name in columns:
        digest.update(np.ascontiguousarray(np.asarray(table[name]).astype(str)).tobytes())
    return digest.hexdigest()


def _init_weights(model, name_or_path):
    """Start ``model`` from the weights of a saved model (fine-tuning): every tensor whose name and shape
    match is copied; a different backbone, or no tensor in common, is refused."""
    source = load_model(name_or_path)
    if source.card.backbone != model.card.backbone:
        raise InputError(f"init_from={name_or_path!r} is a {source.card.backbone} model; this run "
                         f"trains a {model.card.backbone}")
    target = model.state_dict()
    same_outputs = list(source.classes) == list(model.classes)  # else the head starts afresh
    shared = {k: v for k, v in source.state_dict().items() if k in target and target[k].shape == v.shape
              and (same_outputs or not k.startswith("head."))}
    model.load_state_dict(shared, strict=False)
    return model


def _predicted(lit, loader):
    """Probabilities of the trained model and the targets, over a loader's rows."""
    lit.eval()
    probabilities, targets = [], []
    with torch.no_grad():
        for images, target in loader:
            probabilities.append(lit.model.predict_proba(images))
            targets.append(target)
    return torch.cat(probabilities).numpy(), torch.cat(targets).numpy()


def _evaluate(lit, loader, classes):
    """The objective's test-set metrics of the trained model."""
    return lit.model.objective.evaluate(*_predicted(lit, loader), classes)


def _calibrate(lit, loader):
    """The card's ``calibration`` and ``decision`` entries, fitted on the validation rows: the temperature
    (kept where it lowers their calibration error), then the factors of the balanced decision on the
    probabilities it gives (None where some class has no validation row)."""
    lit.model.card.pop("calibration", None)
    lit.model.card.pop("decision", None)
    probabilities, targets = _predicted(lit, loader)
    fitted_on = f"validation split ({len(targets)} rows)"
    calibration = temperature_entry(probabilities, targets, fitted_on=fitted_on)
    try:
        decision = decision_entry(apply_temperature(probabilities, calibration["temperature"]), targets,
                                  lit.model.classes, fitted_on=fitted_on)
    except InputError:
        decision = None
    return calibration, decision


@keyword_options
def train(config, callbacks=(), progress=True):
    """Train, evaluate and save a classifier.

    Parameters
    ----------
    config : `TrainConfig` or path
        The run; a path is read with `TrainConfig.from_file`.
    callbacks : sequence of `lightning.pytorch.Callback`
        Extra Lightning callbacks.
    progress : bool
        Show Lightning's progress bar.

    Returns
    -------
    model : `~galzoo_cnn.models.GalaxyClassifier`
        The best epoch's model, with its card.
    card_path : `~pathlib.Path`
        ``<output>/<name>.json``; the weights are beside it.

    Examples
    --------
    >>> from galzoo_cnn.training import train
    >>> train("no_such_config.yaml")
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...
    """
    if not isinstance(config, TrainConfig):
        config = TrainConfig.from_file(config)
    config = config.resolved()
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(config.seed, workers=True, verbose=False)

    split_path, packed_path = out / "split.ecsv", out / "images.npy"
    packed = None
    if split_path.exists():  # a resumed run must see the same split
        table = Table.read(split_path)
        if config.pack_images:
            packed, kept, _ = _packed_rows(packed_path, table, config, progress, resumed=True)
            packed = _Subset(packed, kept)
    else:
        table = _prepare_table(config)
        _split(table, config)  # a split that cannot be drawn is refused before any image is decoded
        blank = ()
        if config.pack_images:
            packed, kept, blank = _packed_rows(packed_path, table, config, progress, resumed=False)
        table = _drop_unusable(table, config, progress, packed, blank)
        packed = None if packed is None else _Subset(packed, kept)
        table = _split(table, config)
        write_table_atomic(table, split_path)

    def dataset(rows, transform, size=config.decode_size):
        # validation and test images are read exactly as classify_table reads them
        use_packed = packed is not None and size == config.decode_size
        return _images.ImageTableDataset(
            table[rows], config.image_column, config.image_dir, label_column=config.label_column,
            classes=config.classes,
            label_columns=config.label_columns, transform=transform, crop=config.crop, size=size,
            packed=_Subset(packed, np.flatnonzero(rows)) if use_packed else None)

    split = np.asarray(table["split"]).astype(str)
    train_set = dataset(split == "train", training_transform(
        adversarial=config.adversarial_augmentation, k=tuple(config.k), m=tuple(config.m),
        frame_fraction=config.frame_fraction))
    classes = tuple(config.classes or train_set.classes
                    or [c.removeprefix(FEATURE_PREFIX) for c in config.label_columns])
    config = dataclasses.replace(config, classes=list(classes))
    val_set = dataset(split == "val", None, _images.IMAGE_SIZE)
    test_set = dataset(split == "test", None, _images.IMAGE_SIZE)
    weights = None
    if config.class_weights is not None:
        counts = get_objective(config.objective).label_counts(train_set.targets, len(classes))
        weights = class_weights(counts, config.class_weights)

    workers = check_workers(config.num_workers)

    def loader(ds, shuffle):
        return torch.utils.data.DataLoader(
            _SeededDataset(ds), batch_size=config.batch_size,
            sampler=SeededSampler(len(ds), config.seed, shuffle), num_workers=workers,
            persistent_workers=workers > 0, worker_init_fn=quiet_worker)

    model = build_model(objective=config.objective, backbone=config.backbone, classes=classes,
                        pretrained=config.pretrained,
                        view_pooling=config.view_pooling, head_hidden=config.head_hidden)
    if config.freeze_backbone and not config.init_from:
        raise InputError("freeze_backbone: true needs init_from, the model whose backbone is kept")
    if config.init_from:
        _init_weights(model, config.init_from)
    model.card["input"]["crop"] = config.crop
    if config.pixel_scale is not None:  # the angular scale of the training images, for classify_table
        model.card["input"]["pixel_scale"] = dict(config.pixel_scale)
    if config.frame_r90 is not None:  # the galaxy-scaled frame classify_table reframes rows to
        model.card["input"]["frame_r90"] = float(config.frame_r90)
    lit = LitClassifier(model, config.lr, config.monitor, config.patience, config.factor,
                        class_weights=weights, scheduler=config.scheduler, epochs=config.epochs,
                        freeze_backbone=config.freeze_backbone)
    mode = "max" if config.monitor.endswith("acc") else "min"
    checkpoints = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=out / "checkpoints", filename="best", monitor=config.monitor, mode=mode, save_last=True)
    precision = config.precision or ("16-mixed" if torch.cuda.is_available() else "32-true")
    trainer = make_trainer(
        max_epochs=config.epochs, accelerator=config.accelerator, devices=config.devices,
        num_nodes=config.num_nodes, strategy=config.strategy, precision=precision,
        callbacks=[checkpoints, *callbacks], logger=L.pytorch.loggers.CSVLogger(out, name="logs"),
        use_distributed_sampler=False, enable_progress_bar=progress, enable_model_summary=False,
        deterministic=True, log_every_n_steps=10)
    last = out / "checkpoints" / "last.ckpt"
    with warnings.catch_warnings(), interruptible():  # Ctrl-C / SIGTERM: Interrupted, last epoch kept
        # resuming into our own checkpoint directory is the point, not a mistake
        warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty")
        # Lightning's own use of a torch API torch deprecated, and its logging cadence on a small table:
        # nothing a user can act on
        warnings.filterwarnings("ignore", ".*LeafSpec.*", FutureWarning)
        warnings.filterwarnings("ignore", "The number of training batches .* is smaller than the logging")
        trainer.fit(lit, loader(train_set, True), loader(val_set, False),
                    ckpt_path=str(last) if last.exists() else None)
    raise_if_interrupted(trainer)  # an interrupted run writes no model card

    best = checkpoints.best_model_path or str(last)
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    lit.load_state_dict(state)
    if trainer.global_rank != 0:
        return lit.model, None
    if isinstance(lit.model.objective, SingleLabel) and len(val_set):  # before the test metrics: they use it
        lit.model.card["calibration"], decision = _calibrate(lit, loader(val_set, False))
        if decision is not None:
            lit.model.card["decision"] = decision
    metrics = _evaluate(lit, loader(test_set, False), classes) if len(test_set) else {}
    card = dict(
        name=config.name, description=config.description, seed=config.seed,
        metrics={"test": metrics, "best_" + config.monitor: float(checkpoints.best_model_score or np.nan)},
        training={"table": _table_label(config.table), "rows": {s: int((split == s).sum()) for s in
                                                       ("train", "val", "test")},
                  "sha256": _table_hash(table, [config.image_column, "split"]
                                        + ([config.label_column] if config.label_column else [])),
                  "epochs_run": int(trainer.current_epoch), "augmentation": {
                      "standard": True, "adversarial": config.adversarial_augmentation,
                      "k": list(config.k), "m": list(config.m), "frame_fraction": config.frame_fraction,
                      "decode_size": config.decode_size},
                  "class_weights": None if weights is None else {
                      "rule": config.class_weights, "weights": dict(zip(classes, weights.tolist()))},
                  "scheduler": config.scheduler,
                  "unreadable_images": table.meta.get("unreadable_images", {"n": 0, "files": []})},
        config=dict({f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                     if f.name != "description"}, table=_table_label(config.table)))
    card_path = save_model(lit.model, out / config.name, **json.loads(json.dumps(card, default=str)))
    return lit.model.eval(), card_path


class _Subset:
    def __init__(self, packed, rows):
        self.packed, self.rows = packed, rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.packed[self.rows[index]]
