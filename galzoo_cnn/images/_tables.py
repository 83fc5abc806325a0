# Licensed under a 3-clause BSD style license - see LICENSE
"""Images listed in a table as PyTorch datasets, their labels, and images decoded once into a file."""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from ..columns import QUALITY_FLAGS
from ..exceptions import ImageError, InputError
from ..io._transaction import FileSetTransaction
from ..tables import as_table, require_columns
from ..utils._deprecation import keyword_options
from ._quality import batch_quality_flags, image_quality_flags
from ._read import IMAGE_SIZE, read_image, resolve_image_paths, scale_intensity


class ImageTableDataset(torch.utils.data.Dataset):
    """A PyTorch dataset of the images (and labels) listed in a table.

    Items are ``(image, target)``: ``image`` a float32 tensor ``(3, size,
    size)`` scaled by Eq. 1 after ``transform``; ``target`` a class index
    (``label_column`` with ``classes``), a float vector of 0/1 with NaN for
    masked (unknown) labels (``label_columns``, multi-label), or -1 without
    labels.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        One row per galaxy.
    image_column : str
        Column of image paths, relative to ``image_dir``.
    image_dir : str or None
        Directory the paths are relative to.
    label_column : str, optional
        Column of class names (single-label).
    classes : sequence of str, optional
        Class names in model order; a label not among them raises, naming
        the row.  Default: sorted unique labels.
    label_columns : sequence of str, optional
        Boolean (masked) columns, one per feature (multi-label).
    transform : callable, optional
        Applied to the uint8 ``(3, size, size)`` tensor before Eq. 1
        (see `galzoo_cnn.augment`).
    size : int
        Image side in pixels.
    crop : float
        Central fraction kept before resampling (see `read_image`).
    packed : `PackedImages`, optional
        Pre-decoded images (`pack_images`), read instead of the files.
    check_files : bool
        Check at construction that every file exists (names the missing ones).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.images import ImageTableDataset
    >>> ImageTableDataset(Table({"filename": ["a.jpg"], "label": ["spiral"]}), image_dir=".",
    ...                   label_column="label", classes=["elliptical"], check_files=False)
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: row 0: label 'spiral' in column 'label' is not one of the classes ...
    """

    def __init__(self, table, image_column="filename", image_dir=None, label_column=None,
                 classes=None, label_columns=None, transform=None, size=IMAGE_SIZE,
                 packed=None, check_files=True, crop=1.0):
        table = as_table(table, copy=False)
        self.size, self.crop = size, crop
        self.transform = transform
        self.packed = packed
        self.paths = resolve_image_paths(table, image_column=image_column,
                                         image_dir=image_dir) if packed is None else None
        if packed is not None and len(packed) != len(table):
            raise InputError(f"packed images hold {len(packed)} rows, the table {len(table)}")
        if check_files and self.paths is not None:
            missing = [(i, str(p)) for i, p in enumerate(self.paths) if not p.is_file()]
            if missing:
                shown = "; ".join(f"row {i}: {p}" for i, p in missing[:5])
                raise FileNotFoundError(f"{len(missing)} image file(s) missing: {shown}"
                                        + (" ..." if len(missing) > 5 else ""))
        self.classes = None
        self.targets = np.full(len(table), -1, dtype=np.int64)
        if label_column is not None:
            self.classes, self.targets = check_labels(table, label_column, classes=classes)
        elif label_columns is not None:
            self.targets = _multilabel_targets(table, label_columns)

    def __len__(self):
        return len(self.targets)

    def read(self, index):
        """The uint8 ``(size, size, 3)`` image of row ``index``."""
        if self.packed is not None:
            return self.packed[index]
        return read_image(self.paths[index], size=self.size, crop=self.crop)

    def __getitem__(self, index):
        image = torch.from_numpy(np.ascontiguousarray(self.read(index))).permute(2, 0, 1)
        if self.transform is not None:
            image = self.transform(image)
        return scale_intensity(image), torch.as_tensor(self.targets[index])


@keyword_options
def check_labels(table, label_column, classes=None):
    """Class names and per-row class indices of ``label_column``; unknown or masked labels raise.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows with labels.
    label_column : str
        Column of class names.
    classes : sequence of str, optional
        The classes, in model order; default: the sorted labels.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.images import check_labels
    >>> check_labels(Table({"label": ["b", "a", "b"]}), "label")
    (['a', 'b'], array([1, 0, 1]))
    """
    require_columns(table, label_column, role="label")
    labels = np.asarray(table[label_column]).astype(str).tolist()
    masked = np.ma.getmaskarray(table[label_column])
    if masked.any():
        raise InputError(f"row {int(np.argmax(masked))}: label column {label_column!r} is masked; "
                         f"drop unlabelled rows first")
    classes = sorted(set(labels)) if classes is None else [str(c) for c in classes]
    index = {c: i for i, c in enumerate(classes)}
    for row, label in enumerate(labels):
        if label not in index:
            raise InputError(f"row {row}: label {label!r} in column {label_column!r} is not one of "
                             f"the classes {classes}")
    return classes, np.array([index[label] for label in labels], dtype=np.int64)


def _multilabel_targets(table, label_columns):
    """One row of targets per galaxy: 0 / 1 labels or vote fractions in [0, 1]; NaN where unknown."""
    require_columns(table, label_columns, role="label")
    targets = np.empty((len(table), len(label_columns)), dtype=np.float32)
    for k, name in enumerate(label_columns):
        column = table[name]
        if column.dtype.kind not in "biuf":
            raise InputError(f"label column {name!r} holds {column.dtype.name} values; a multi-label "
                             f"objective needs booleans, 0 / 1 or vote fractions in [0, 1]")
        targets[:, k] = np.ma.filled(np.ma.asarray(column, dtype=np.float32), np.nan)
        bad = (targets[:, k] < 0) | (targets[:, k] > 1)  # +-inf too; NaN is an unknown label
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(f"label column {name!r}, row {row}: {targets[row, k]:g} is not a label or vote "
                             f"fraction in [0, 1] ({int(bad.sum())} such rows)")
    return targets


class PackedImages:
    """Images decoded once into a uint8 ``.npy`` file, read by memory map.

    Made by `pack_images`; indexing returns ``(size, size, 3)`` uint8 arrays.
    What was packed (the crop, the image paths' digest, the rows whose
    image could not be read) is in the JSON file beside it
    (``<path>.json``); `~galzoo_cnn.classify_table` (``packed=``) reads the
    images from it instead of decoding their files again.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The ``.npy`` file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> from astropy.table import Table
    >>> from galzoo_cnn.images import PackedImages, pack_images
    >>> d = tempfile.mkdtemp()
    >>> Image.fromarray(np.zeros((120, 120, 3), np.uint8)).save(d + "/g.png")
    >>> _ = pack_images(Table({"filename": ["g.png"]}), d + "/images.npy", image_dir=d, progress=False)
    >>> packed = PackedImages(d + "/images.npy")
    >>> len(packed), packed.size, packed.crop
    (1, 100, 1.0)
    """

    def __init__(self, path):
        self.path = Path(path)
        self.array = np.load(self.path, mmap_mode="r")
        if self.array.ndim != 4 or self.array.shape[-1] != 3 or self.array.dtype != np.uint8:
            raise ImageError(f"{str(self.path)!r} is not a packed (N, size, size, 3) uint8 image array")
        meta_path = _meta_path(self.path)
        self.meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        self.unreadable = frozenset(self.meta.get("unreadable", ()))

    def __reduce__(self):  # loader processes reopen the memory map instead of copying the array
        return PackedImages, (self.path,)

    def __len__(self):
        return self.array.shape[0]

    def __getitem__(self, index):
        return np.array(self.array[index])

    def blank_rows(self):
        """Rows whose packed image is near-constant (quality flag ``blank``; an unreadable row, packed
        black, is one), measured a thousand images at a time.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> from astropy.table import Table
        >>> from galzoo_cnn.images import pack_images
        >>> d = tempfile.mkdtemp()
        >>> Image.fromarray(np.zeros((120, 120, 3), np.uint8)).save(d + "/black.png")
        >>> pack_images(Table({"filename": ["black.png"]}), d + "/images.npy", image_dir=d,
        ...             progress=False).blank_rows()
        [0]
        """
        bit, rows = QUALITY_FLAGS["blank"][0], []
        for start in range(0, len(self), 1024):
            chunk = torch.from_numpy(np.array(self.array[start:start + 1024])).permute(0, 3, 1, 2)
            rows += (start + np.flatnonzero(batch_quality_flags(chunk).numpy() & bit)).tolist()
        return rows

    @property
    def size(self):
        """Side of the packed images in pixels."""
        return int(self.array.shape[1])

    @property
    def crop(self):
        """The central fraction of each image that was packed (None: not recorded)."""
        return self.meta.get("crop")

    def check_rows(self, paths, *, size, what="the table"):
        """Raise `InputError` unless the file packs ``paths``, in that order, at ``size`` pixels."""
        if not self.meta:
            raise InputError(f"packed images {str(self.path)!r} have no {_meta_path(self.path).name} "
                             f"beside them: pack them again with pack_images")
        if len(self) != len(paths) or self.meta.get("paths_sha256") != _paths_digest(paths):
            raise InputError(f"packed images {str(self.path)!r} hold {len(self)} other images than the "
                             f"{len(paths)} rows of {what} (paths differ): pack this table's images")
        if self.size != size:
            raise InputError(f"packed images {str(self.path)!r} are {self.size} px; the model reads "
                             f"{size} px images")


def image_problem(path, *, size=IMAGE_SIZE, crop=1.0):
    """Why the image at ``path`` cannot be used, in the words of the ``status`` `~galzoo_cnn.classify_table`
    would give its row (``missing``, ``undecodable``, ``blank``...), or `None` where it can.

    Parameters
    ----------
    path : `~pathlib.Path` or None
        The image file (`None`: the row has none, ``no_image``).
    size : int
        Side the image is read at.
    crop : float
        Central fraction of the image read.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from galzoo_cnn.images import image_problem
    >>> d = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.zeros((120, 120, 3), np.uint8)).save(d / "black.png")
    >>> image_problem(d / "black.png"), image_problem(d / "gone.png"), image_problem(None)
    ('blank', 'missing', 'no_image')
    """
    if path is None:
        return "no_image"
    try:
        image = read_image(path, size=size, crop=crop)
    except ImageError as err:
        return err.reason
    except FileNotFoundError:
        return "missing"
    except OSError as err:  # e.g. no permission to read it
        return f"unreadable: {err.strerror or err}"
    return "blank" if image_quality_flags(image) & QUALITY_FLAGS["blank"][0] else None


def _meta_path(path):
    return Path(str(path) + ".json")


def _paths_digest(paths):
    return hashlib.sha256("\n".join("" if p is None else str(p) for p in paths).encode()).hexdigest()


@keyword_options
def pack_images(table, path, image_column="filename", image_dir=None, size=IMAGE_SIZE,
                progress=True, crop=1.0, strict=True):
    """Decode the images of ``table`` once into a uint8 ``.npy`` file.

    Decoding JPEGs costs more than a forward pass of a small network on a
    GPU; training from the packed file removes that cost, and
    `~galzoo_cnn.classify_table` reads it (``packed=``) for repeated runs
    over the same images.  The file, and the JSON file beside it saying
    what was packed, are written under temporary names and renamed when
    complete.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        One row per image.
    path : str or `~pathlib.Path`
        The ``.npy`` file to write.
    image_column : str
        Column of image paths.
    image_dir : str or `~pathlib.Path`, optional
        Directory the image paths are relative to.
    size : int
        Side of the stored images (a model's input size to classify from the
        file).
    progress : bool
        Show a progress bar.
    crop : float
        Central fraction of each image kept (a model's ``card.crop`` to
        classify from the file).
    strict : bool
        Raise at the first image that cannot be read (training); otherwise
        its row is left black and listed as unreadable, and
        ``classify_table`` reads its file again, giving the row its status.

    Returns
    -------
    `PackedImages`

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> from astropy.table import Table
    >>> from galzoo_cnn.images import pack_images
    >>> d = tempfile.mkdtemp()
    >>> Image.fromarray(np.zeros((120, 120, 3), np.uint8)).save(d + "/g.png")
    >>> packed = pack_images(Table({"filename": ["g.png", "missing.png"]}), d + "/images.npy",
    ...                      image_dir=d, progress=False, strict=False)
    >>> packed[0].shape, sorted(packed.unreadable)
    ((100, 100, 3), [1])
    """
    from tqdm.auto import tqdm

    table = as_table(table, copy=False)
    paths = resolve_image_paths(table, image_column=image_column, image_dir=image_dir, allow_empty=not strict)
    unreadable = []

    def write(tmp):
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), size, size, 3))
        for i, image_path in enumerate(tqdm(paths, desc="packing", unit=" images", disable=not progress)):
            try:
                if image_path is None:
                    raise FileNotFoundError(f"row {i} has no image")
                out[i] = read_image(image_path, size=size, crop=crop)
            except (OSError, ImageError):
                if strict:
                    raise
                out[i] = 0
                unreadable.append(i)
        out.flush()
        del out

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with FileSetTransaction(Path(path), [Path(path), _meta_path(path)]) as transaction:
        write(transaction.staged(Path(path)))  # fills unreadable
        meta = {"size": size, "crop": float(crop), "paths_sha256": _paths_digest(paths),
                "unreadable": unreadable}
        transaction.staged(_meta_path(path)).write_text(json.dumps(meta) + "\n")
    return PackedImages(path)
