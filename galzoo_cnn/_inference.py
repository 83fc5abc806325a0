# Licensed under a 3-clause BSD style license - see LICENSE
"""
The one prediction path: models over the images of a list of paths, through Lightning.

`~galzoo_cnn.classify.classify_table` and `~galzoo_cnn.adversarial` run
inference here (training does not: this module imports no training code).
Images are read, scaled (Eq. 1) and classified in batches, so memory does
not grow with the number of rows; ``devices`` / ``num_nodes`` /
``strategy='ddp'`` share the rows between GPUs and nodes and the outputs are
merged back in input order.  A row whose image cannot be used gets a status
code and never reaches the network.
"""

import contextlib
import logging
import os
import sys
import warnings

import lightning as L
import numpy as np
import torch

from .columns import QUALITY_FLAGS, STATUSES
from .exceptions import InputError
from .images import (
    ImageError,
    batch_quality_flags,
    decode_jpegs,
    jpeg_for_device,
    read_image,
    scale_intensity,
)
from .models import dihedral_views
from .utils._lightning import (
    check_batch_size,
    check_workers,
    make_trainer,
    process_shard,
    raise_if_interrupted,
)
from .utils._signals import interruptible, quiet_worker

_CODES = {name: code for code, name in enumerate(STATUSES, start=1)}  # 0: row not processed
#: Images a forward pass takes at once on a CPU, whatever the batch read: a forward of a few hundred
#: 100-pixel images outgrows the caches and runs slower per image (benchmarks/bench_classify.py).
CPU_FORWARD_IMAGES = 64
_PADDING = -1  # the item of a process with no rows of its own


class _ImageRows(torch.utils.data.Dataset):
    """Items ``(row, status code, flag image, images, jpeg)``: one uint8 image per view; zeros where
    unusable.

    ``crops`` holds one array of per-row crop fractions per view (a row's galaxy reframed to each
    model's frame; above 1 the frame is widened with sky).  ``codes`` presets the status of rows
    that are not read (0: read the row).  The flag image is the uint8 image of view ``flag_view``
    (the classifier's), as delivered: a widened frame's made-up sky is not measured; `_Predictor`
    measures the quality flags of a whole batch of them at once, and applies Eq. 1 to the batch on
    its device: uint8 images are a quarter of the float32 bytes to collate and copy.  With
    ``device_decode``, a plain JPEG is passed on as its bytes (``jpeg``; ``b""`` otherwise) for
    `_Predictor` to decode on its device (`~galzoo_cnn.images.decode_jpegs`).  With ``packed``
    (`~galzoo_cnn.images.PackedImages` of the same rows), a row every view reads at the packed crop
    comes from the file instead (its image was decoded there); other rows are read as usual.
    """

    def __init__(self, paths, size, crops, flag_view=0, transform=None, codes=None, device_decode=False,
                 packed=None):
        self.paths, self.size, self.crops, self.flag_view = paths, size, crops, flag_view
        self.transform, self.packed = transform, packed
        self.codes = np.zeros(len(paths), dtype=np.int32) if codes is None else codes
        self.device_decode = device_decode and transform is None

    def __len__(self):
        return len(self.paths)

    def _unusable(self, row, code):
        blank = torch.zeros(3, self.size, self.size, dtype=torch.uint8)
        return row, code, blank, [blank for _ in self.crops], b"", ()

    def __getitem__(self, row):
        if row == _PADDING:
            return self._unusable(row, 0)
        path = self.paths[row]
        if self.codes[row]:
            return self._unusable(row, int(self.codes[row]))
        if path is None:
            return self._unusable(row, _CODES["no_image"])
        crops = [float(c[row]) for c in self.crops]
        if self.packed is not None and row not in self.packed.unreadable \
                and all(c == self.packed.crop for c in crops):
            image = _chw(self.packed[row])
            return row, _CODES["ok"], image, [self._transformed(image) for _ in crops], b"", ()
        if self.device_decode and (jpeg := jpeg_for_device(path, crops)) is not None:
            blank = torch.zeros(3, self.size, self.size, dtype=torch.uint8)
            return row, _CODES["ok"], blank, [blank for _ in self.crops], jpeg, tuple(crops)
        try:
            images = [_chw(read_image(path, size=self.size, crop=crop)) for crop in crops]
            seen = images[self.flag_view]
            if crops[self.flag_view] > 1:
                seen = _chw(read_image(path, size=self.size, crop=1.0))
        except FileNotFoundError:
            return self._unusable(row, _CODES["missing"])
        except ImageError as err:
            return self._unusable(row, _CODES[err.reason])
        return row, _CODES["ok"], seen, [self._transformed(i) for i in images], b"", ()

    def _transformed(self, image):
        return image if self.transform is None else self.transform(image)


def _collate(items):
    """A batch of `_ImageRows` items; the JPEG bytes and their crops stay Python objects (Lightning moves
    tensors to the device, and nvJPEG reads its input from host memory)."""
    rows, codes, seen, images, jpegs, crops = zip(*items)
    return (torch.tensor(rows), torch.tensor(codes), torch.stack(seen),
            [torch.stack(view) for view in zip(*images)], list(jpegs), list(crops))


def _chw(image):
    """A ``(H, W, 3)`` uint8 array as a ``(3, H, W)`` tensor, without a copy."""
    return torch.from_numpy(image).permute(2, 0, 1)


class _ShardSampler(torch.utils.data.Sampler):
    """Rows ``rank, rank + world, ...``: every row exactly once over all processes.

    A process left without rows (fewer rows than processes) gets one padding
    item, `_PADDING`, which no row receives: every process then runs the
    same steps and joins the final merge, instead of waiting for the others.
    """

    def __init__(self, n_rows):
        self.n_rows = n_rows

    def _rows(self):
        rank, world = process_shard()
        return list(range(rank, self.n_rows, world)) or [_PADDING]

    def __len__(self):
        return len(self._rows())

    def __iter__(self):
        return iter(self._rows())


class _Predictor(L.LightningModule):
    """The classifier (and the domain model) applied to one batch; returns rows, codes, probabilities
    (or, with ``embed``, the pooled features).  With ``tta`` each output is the mean over the eight
    dihedral views of the image (`~galzoo_cnn.models.dihedral_views`)."""

    def __init__(self, models, view_index, embed=False, tta=False, flag_view=0):
        super().__init__()
        self.models = torch.nn.ModuleList(models)
        self.view_index, self.flag_view = view_index, flag_view
        self.embed, self.tta = embed, tta

    def _width(self, model):
        return model.num_features if self.embed else len(model.classes)

    def _outputs(self, model, images):
        apply = model.embed if self.embed else model.predict_proba
        # a model that pools the eight dihedral views already gives every view the same output: its
        # test-time augmentation would be the same numbers at eight times the cost
        views = [images] if not self.tta or model.view_pooling == "dihedral" else dihedral_views(images)
        step = CPU_FORWARD_IMAGES if images.device.type == "cpu" else len(images)
        return torch.stack([torch.cat([apply(view[start:start + step]).float()
                                       for start in range(0, len(view), step)]) for view in views]).mean(0)

    def predict_step(self, batch, batch_idx):
        rows, codes, seen, images, jpegs, crops = batch
        usable = codes == _CODES["ok"]
        if not usable.any():  # no usable image in the batch: nothing to run
            return rows, codes, torch.zeros_like(codes), [torch.zeros(len(rows), self._width(model))
                                                          for model in self.models]
        if any(jpegs):
            codes = self._decode_on_device(jpegs, crops, seen, images, codes)
            usable = codes == _CODES["ok"]
        flags = torch.where(usable, batch_quality_flags(seen), 0)
        # a near-constant frame holds no source: any class the network gives it is noise (a blank sky reads
        # as a confident spiral), so the row gets a status instead of an output
        codes = torch.where(usable & (flags & QUALITY_FLAGS["blank"][0] > 0), _CODES["blank"], codes)
        usable = codes == _CODES["ok"]
        scaled = [scale_intensity(view) for view in images]  # Eq. 1, once per view, on the device
        probabilities = [self._outputs(model, scaled[k]) for model, k in zip(self.models, self.view_index)]
        finite = torch.stack([torch.isfinite(p).all(1) for p in probabilities]).all(0)
        codes = torch.where(usable & ~finite, _CODES["model_error"], codes)
        return rows, codes, flags, [torch.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0)
                                    for p in probabilities]

    def _decode_on_device(self, jpegs, crops, seen, images, codes):
        """Decode the batch's JPEG rows on the model's device into ``seen`` and ``images``; a file that
        fails gets status ``undecodable``."""
        which = [i for i, jpeg in enumerate(jpegs) if jpeg]
        decoded, failed = decode_jpegs([jpegs[i] for i in which], [crops[i] for i in which],
                                       size=seen.shape[-1], device=seen.device)
        index = torch.tensor(which, device=seen.device)
        for k, view in enumerate(images):
            view[index] = decoded[:, k]
        seen[index] = decoded[:, self.flag_view]
        if failed:
            codes = codes.clone()
            codes[torch.tensor([which[i] for i in failed], device=codes.device)] = _CODES["undecodable"]
        return codes


class _Collector(L.pytorch.callbacks.Callback):
    """Writes each batch's outputs into full-length arrays; merges the processes' arrays at the end."""

    def __init__(self, n_rows, widths, strict, paths):
        self.probabilities = [np.zeros((n_rows, w), dtype=np.float32) for w in widths]
        self.codes = np.zeros(n_rows, dtype=np.int32)
        self.flags = np.zeros(n_rows, dtype=np.int32)
        self.strict, self.paths = strict, paths

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        rows, codes, flags, probabilities = outputs
        rows, codes, flags = rows.cpu().numpy(), codes.cpu().numpy(), flags.cpu().numpy()
        real = rows != _PADDING
        probabilities = [p[torch.from_numpy(real)] for p in probabilities]
        rows, codes, flags = rows[real], codes[real], flags[real]
        if self.strict and (codes != _CODES["ok"]).any():
            i = int(np.argmax(codes != _CODES["ok"]))
            status = list(STATUSES)[codes[i] - 1]
            raise ImageError(f"row {rows[i]}: {STATUSES[status]} ({self.paths[rows[i]]}); "
                             f"strict=False classifies the other rows and sets status={status!r}")
        self.codes[rows] = codes
        self.flags[rows] = flags
        for out, p in zip(self.probabilities, probabilities):
            out[rows] = p.cpu().numpy()

    def on_predict_epoch_end(self, trainer, pl_module):
        if trainer.world_size == 1:
            return
        # every row was written by exactly one process and is zero elsewhere: a sum merges them
        device = trainer.strategy.root_device
        self.codes = _reduce_sum(trainer, self.codes, device)
        self.flags = _reduce_sum(trainer, self.flags, device)
        self.probabilities = [_reduce_sum(trainer, p, device) for p in self.probabilities]


class _ImageProgress(L.pytorch.callbacks.Callback):
    """A progress bar that counts images, where Lightning's counts batches: the rate reads in images a
    second, as the benchmarks state it.  On the first process only; under DDP it counts that process's
    share of the rows."""

    def __init__(self, n_rows, description):
        self.n_rows, self.description, self.bar = n_rows, description, None

    def on_predict_start(self, trainer, pl_module):
        if trainer.is_global_zero:
            from tqdm.auto import tqdm

            share = len(range(0, self.n_rows, trainer.world_size))
            self.bar = tqdm(total=share, unit=" images", desc=self.description, file=sys.stdout,
                            dynamic_ncols=True, smoothing=0.1)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self.bar is not None:
            self.bar.update(int((outputs[0] != _PADDING).sum()))

    def on_predict_end(self, trainer, pl_module):
        self._close()

    def on_exception(self, trainer, pl_module, exception):
        self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _reduce_sum(trainer, array, device):
    tensor = torch.from_numpy(array).to(device)
    return trainer.strategy.reduce(tensor, reduce_op="sum").cpu().numpy()


def _accelerator(device):
    """Lightning accelerator and devices for a torch-style ``device`` string."""
    if device is None:
        return "auto", "auto"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device={device!r} is not a device; expected 'cpu', 'cuda', 'cuda:1'...") from None
    if device.type == "cpu":
        return "cpu", 1
    if device.type == "cuda":
        available = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if available <= (device.index or 0):
            raise InputError(f"device={str(device)!r} is not available: this machine has {available} CUDA "
                             f"GPU(s); use device='cpu'")
        return "gpu", [device.index] if device.index is not None else 1
    return device.type, 1


def _default_workers():
    # decoding in worker processes only pays when there are cores to spare for it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 0 if cores <= 2 else min(8, cores - 1)


@contextlib.contextmanager
def _quiet_lightning():
    """Silence Lightning's hardware banner and tips (INFO) and its pytree deprecation notice."""
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*LeafSpec.*", FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def predict_images(models, paths, crops, *, batch_size=256, device=None, num_workers=None, progress=False,
                   strict=False, devices=None, num_nodes=1, strategy="auto", precision=None, transform=None,
                   embed=False, tta=False, codes=None, decode="auto", packed=None):
    """Probabilities of every model for the image of every path (or, with ``embed``, its features).

    Parameters
    ----------
    models : list of `~galzoo_cnn.models.GalaxyClassifier`
        Models taking images of the same size; model ``k`` sees the central
        ``crops[k]`` of each image.
    paths : list of `~pathlib.Path` or None
        One image per row (`None`: no image).
    crops : list of float or of numpy.ndarray
        Central fraction of each image per model: one for all rows, or one
        per row (above 1: the frame widened with sky, `~galzoo_cnn.images.pad_with_sky`).
    transform : callable, optional
        Applied to each uint8 ``(3, size, size)`` image before the scaling
        of Eq. 1 (e.g. `~galzoo_cnn.augment.AdversarialShrink`).
    batch_size, device, num_workers, progress, devices, num_nodes, strategy, precision
        As for `~galzoo_cnn.classify.classify_table`.
    strict : bool
        Raise `~galzoo_cnn.exceptions.ImageError` at the first unusable image.
    embed : bool
        Return each model's pooled features (`GalaxyClassifier.embed`)
        instead of its probabilities.
    tta : bool
        Average each model's outputs over the eight dihedral views of every
        image (`~galzoo_cnn.models.dihedral_views`): eight forward passes per image.
    codes : numpy.ndarray, optional
        Status codes fixed before any image is read (0: read the row), e.g.
        ``bad_framing``.
    decode : {'auto', 'cpu', 'device'}
        Where JPEGs are decoded: ``'device'`` on the model's device in
        batches (`~galzoo_cnn.images.decode_jpegs`, nvJPEG on a GPU; other
        files, widened frames and ``transform`` still go through
        `~galzoo_cnn.images.read_image`), ``'cpu'`` by
        `~galzoo_cnn.images.read_image` in the loader; ``'auto'``: the
        device on a GPU, the CPU otherwise.
    packed : `~galzoo_cnn.images.PackedImages`, optional
        The rows' images decoded once (`~galzoo_cnn.images.pack_images`),
        read instead of the files where a row's crop is the packed one.

    Returns
    -------
    codes : numpy.ndarray
        Status code per row (``STATUSES``, from 1).
    flags : numpy.ndarray
        Image-quality bit flags per row.
    probabilities : list of numpy.ndarray
        ``(n_rows, n_classes)`` per model (``(n_rows, num_features)`` with
        ``embed``; zeros where the status is not ``ok``).
    precision : str
        The Lightning precision used.
    """
    accelerator, default_devices = _accelerator(device)
    sizes = {m.card.input_size for m in models}
    if len(sizes) > 1:
        raise InputError(f"the models take images of different sizes {sorted(sizes)}")
    views, view_index = _views(crops, len(paths))
    size = next(iter(sizes))
    # uint8 from the reader (one per view and the flag image) and float32 for the network, per image
    passes = max(8 if m.view_pooling else (8 if tta else 1) for m in models)  # backbone passes per image
    check_batch_size(batch_size, 3 * size * size * ((len(views) + 1) + 4 * len(views) * passes))
    on_gpu = accelerator == "gpu" or (accelerator == "auto" and torch.cuda.is_available())
    if decode not in ("auto", "cpu", "device"):
        raise InputError(f"decode={decode!r}; expected 'auto', 'cpu' or 'device'")
    device_decode = decode == "device" or (decode == "auto" and on_gpu)
    predictor = _Predictor(models, view_index, embed, tta, flag_view=view_index[0])
    collector = _Collector(len(paths), [predictor._width(m) for m in models], strict, paths)
    callbacks = [collector] + ([_ImageProgress(len(paths), "embedding" if embed else "classifying")]
                               if progress else [])
    loader = torch.utils.data.DataLoader(
        _ImageRows(paths, size, views, view_index[0], transform, codes, device_decode, packed),
        collate_fn=_collate,
        batch_size=batch_size, sampler=_ShardSampler(len(paths)),
        num_workers=_default_workers() if num_workers is None else check_workers(num_workers),
        pin_memory=on_gpu,
        worker_init_fn=quiet_worker)
    with _quiet_lightning():
        trainer = make_trainer(
            accelerator=accelerator, devices=devices or default_devices, num_nodes=num_nodes,
            strategy=strategy, precision=precision or ("16-mixed" if on_gpu else "32-true"),
            callbacks=callbacks, logger=False, enable_progress_bar=False,
            enable_model_summary=False, use_distributed_sampler=False, enable_checkpointing=False)
    # Ctrl-C as Interrupted: Lightning would turn a KeyboardInterrupt into sys.exit and ignore SIGINT after
    with _quiet_lightning(), interruptible():
        trainer.predict(predictor, loader, return_predictions=False)
    raise_if_interrupted(trainer)
    return collector.codes, collector.flags, collector.probabilities, str(trainer.precision)


def _views(crops, n_rows):
    """The distinct per-row crop arrays among the models' ``crops`` (each image is read once per
    distinct framing), and the view each model reads."""
    arrays = [np.broadcast_to(np.asarray(c, dtype=np.float64), (n_rows,)) for c in crops]
    views, index = [], []
    for array in arrays:
        match = next((k for k, v in enumerate(views) if np.array_equal(v, array)), None)
        if match is None:
            views.append(array)
            match = len(views) - 1
        index.append(match)
    return views, index


def status_names(codes):
    """The ``STATUSES`` names of status codes."""
    return np.array(list(STATUSES))[np.clip(np.asarray(codes) - 1, 0, None)]
