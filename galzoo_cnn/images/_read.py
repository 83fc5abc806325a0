# Licensed under a 3-clause BSD style license - see LICENSE
"""Reading one image: decoding at reduced scale, the central crop, the frame widened with sky, Eq. 1,
JPEG decoding in batches on a device, and the image paths of a table."""

import math
import os
import re
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..columns import STATUSES
from ..exceptions import ImageError, InputError
from ..tables import require_columns
from ..utils._deprecation import keyword_options
from ..utils._frames import IMAGE_SIZE, MAX_FRAME_FRACTION, MIN_CROP
from ..utils._pillow import UnreadableImage, decode, open_image

_REFUSED_MODES = {
    "I;16": ("16-bit", "not_8bit"), "I;16B": ("16-bit", "not_8bit"), "I;16L": ("16-bit", "not_8bit"),
    "I": ("32-bit integer", "not_8bit"), "F": ("32-bit float", "not_8bit"), "CMYK": ("CMYK", "not_rgb"),
    "LAB": ("Lab", "not_rgb"), "HSV": ("HSV", "not_rgb"), "YCbCr": ("YCbCr", "not_rgb"),
}


#: Why an image file cannot be used (`~galzoo_cnn.exceptions.ImageError` ``reason``), in the words of
#: the ``status`` it gives a row (`galzoo_cnn.columns.STATUSES`).
IMAGE_PROBLEMS = {reason: STATUSES[reason] for reason in
                  ("url", "not_a_file", "too_large", "not_8bit", "not_rgb", "translucent", "undecodable",
                   "fits_image")}

#: A path that begins with a URL scheme (``https://``; ``https:/`` once a path has collapsed the double
#: slash). Two letters at least: ``C:/`` is a Windows drive.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


@keyword_options
def read_image(path, size=IMAGE_SIZE, crop=1.0):
    """Read an image file as a ``(size, size, 3)`` uint8 RGB array.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        A JPEG or PNG file (`READ_FORMATS`), whatever its name: a file of any
        other format is refused as ``undecodable`` before a decoder of that
        format (or an external program, as Pillow's EPS reader does) runs.
    size : int
        Output side in pixels; other sizes are resampled (Lanczos).
    crop : float
        Keep the central ``crop`` fraction of each side before resampling
        (1: the whole image).  For cutouts whose galaxy fills a small part of
        the frame; a model records it in its card.  Values above 1 (up to
        `MAX_FRAME_FRACTION`) widen a frame that is too tight with sky
        (`pad_with_sky`, seeded by the file's name, so reproducible).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImageError
        If the file does not decode or its mode cannot be turned into RGB.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> from galzoo_cnn.images import read_image
    >>> path = tempfile.mkdtemp() + "/grey.png"
    >>> Image.fromarray(np.full((50, 80), 7, np.uint8)).save(path)
    >>> image = read_image(path)
    >>> image.shape, image.dtype, int(image.max())
    ((100, 100, 3), dtype('uint8'), 7)
    """
    if not MIN_CROP <= crop <= MAX_FRAME_FRACTION:
        raise InputError(f"crop={crop} must lie in [{MIN_CROP}, {MAX_FRAME_FRACTION}]")
    _check_regular_file(path)  # a FIFO named *.jpg would block the reader forever
    path = path if isinstance(path, Path) else Path(path)
    try:
        image = open_image(path)
        with image:
            _check_size_and_depth(image, path)
            with decode():
                if image.format == "JPEG" and min(image.size) * crop >= 2 * size:
                    # decode JPEGs at a reduced DCT scale that still leaves >= size pixels: 4-16x faster
                    wanted = math.ceil(size / crop)
                    image.draft("RGB", (wanted, wanted))
                image.load()
                rgb = _to_rgb(image, path)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file {str(path)!r} does not exist") from None
    except UnreadableImage as err:
        raise ImageError(f"image file {str(path)!r} {err}", err.reason) from None
    if crop < 1:
        w, h = rgb.size
        cw, ch = round(w * crop), round(h * crop)
        left, top = (w - cw) // 2, (h - ch) // 2
        rgb = rgb.crop((left, top, left + cw, top + ch))
    elif crop > 1:
        generator = torch.Generator().manual_seed(zlib.crc32(os.fsencode(path.name)))
        tensor = torch.from_numpy(np.array(rgb)).permute(2, 0, 1)
        rgb = Image.fromarray(pad_with_sky(tensor, crop, generator=generator).permute(1, 2, 0).numpy())
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.LANCZOS)
    return np.array(rgb, dtype=np.uint8)


def jpeg_for_device(path, crops):
    """The bytes of ``path`` when `decode_jpegs` can decode it on a device as `read_image` would, else None.

    Only an 8-bit RGB or grey JPEG within ``conf.max_image_pixels``, read
    with every crop at most 1 (no frame widened with sky), qualifies; every
    other file is read by `read_image`, which also says why one cannot be.
    Only the header is parsed here.

    Parameters
    ----------
    path : `~pathlib.Path`
        The image file.
    crops : sequence of float
        The central fractions the file will be read at.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from galzoo_cnn.images import jpeg_for_device
    >>> path = Path(tempfile.mkdtemp()) / "x.jpg"
    >>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)
    >>> jpeg_for_device(path, [1.0])[:2], jpeg_for_device(path, [1.5])
    (b'\\xff\\xd8', None)
    """
    from ..config import conf

    if any(c > 1 for c in crops):
        return None
    try:
        _check_regular_file(path)
        # the header first: a huge file that is not a usable JPEG is never read whole
        with open_image(path) as image:
            usable = (image.format == "JPEG" and image.mode in ("RGB", "L")
                      and image.size[0] * image.size[1] <= conf.max_image_pixels)
        return path.read_bytes() if usable else None
    except (OSError, ImageError, UnreadableImage):
        return None  # read_image gives the row its status


def decode_jpegs(blobs, crops, *, size=IMAGE_SIZE, device="cpu"):
    """Decode JPEG files on ``device`` and frame them as `read_image` does: ``(B, V, 3, size, size)`` uint8.

    For a GPU input path: the files are decoded by nvJPEG
    (`torchvision.io.decode_jpeg`) where ``device`` is CUDA (by libjpeg on
    the CPU otherwise), each view cropped to its central fraction and
    resampled to ``size`` with antialiased bicubic interpolation.  The
    result differs from `read_image`'s (reduced-scale DCT decoding and
    Lanczos resampling) by a few levels: on the 36 real demo images a mean
    absolute difference below 1 level (`galzoo_cnn.tests.test_images`).

    Parameters
    ----------
    blobs : list of bytes
        The JPEG files' bytes (`jpeg_for_device`).
    crops : list of sequence of float
        For each file, the central fraction of each view (all <= 1).
    size : int
        Output side in pixels.
    device : str or `torch.device`
        Where to decode.

    Returns
    -------
    images : `torch.Tensor`
        ``(len(blobs), n_views, 3, size, size)`` uint8 on ``device`` (zeros for a file that failed).
    failed : list of int
        Indices of the files that did not decode.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> from galzoo_cnn.images import decode_jpegs
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(buffer, "JPEG")
    >>> images, failed = decode_jpegs([buffer.getvalue(), b"not a jpeg"], [[1.0, 0.5], [1.0, 0.5]])
    >>> tuple(images.shape), int(images[0, 1].float().mean().round()), failed
    ((2, 2, 3, 100, 100), 90, [1])
    """
    from torchvision.transforms.v2 import functional as TF

    n_views = len(crops[0]) if crops else 1
    out = torch.zeros(len(blobs), n_views, 3, size, size, dtype=torch.uint8, device=device)
    data = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in blobs]
    try:
        decoded = _decode_jpeg(data, device)
    except RuntimeError:  # one bad file fails the batch: decode one at a time to find it
        decoded = []
        for one in data:
            try:
                decoded.append(_decode_jpeg(one, device))
            except RuntimeError:
                decoded.append(None)
    failed = [i for i, image in enumerate(decoded) if image is None]
    for i, (image, views) in enumerate(zip(decoded, crops)):
        if image is None:
            continue
        for k, crop in enumerate(views):
            reduced = _as_drafted(image, size, crop)
            height, width = reduced.shape[-2:]
            ch, cw = round(height * crop), round(width * crop)
            top, left = (height - ch) // 2, (width - cw) // 2
            view = reduced[:, top:top + ch, left:left + cw]
            if view.shape[-2:] != (size, size):
                view = TF.resize(view.float()[None], [size, size], interpolation=TF.InterpolationMode.BICUBIC,
                                 antialias=True)[0].round_().clamp_(0, 255).to(torch.uint8)
            out[i, k] = view
    return out, failed


def _as_drafted(image, size, crop):
    """``image`` reduced as `read_image`'s reduced-scale JPEG decoding reduces it (by 2, 4 or 8 where the
    crop still keeps ``2 * size`` pixels): the mean of each block, as the DCT scaling gives."""
    height, width = image.shape[-2:]
    if min(height, width) * crop < 2 * size:
        return image
    wanted = math.ceil(size / crop)
    factor = max(f for f in (1, 2, 4, 8) if math.ceil(min(height, width) / f) >= wanted)
    if factor == 1:
        return image
    pooled = torch.nn.functional.avg_pool2d(image[None].float(), factor, ceil_mode=True)[0]
    return pooled.round_().clamp_(0, 255).to(torch.uint8)


def _decode_jpeg(data, device):
    from torchvision.io import ImageReadMode, decode_jpeg

    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its decoders for TorchCodec's; its nvJPEG batch decoding is what a
        # GPU needs and the pinned torchvision still has it
        warnings.filterwarnings("ignore", "The image decoding and encoding capabilities", DeprecationWarning)
        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)


def pad_with_sky(image, factor, *, generator=None, border=None):
    """Widen a frame ``factor`` times (same pixel scale, galaxy centred), filling the new border with sky.

    The sky of each channel is Gaussian noise with the median and the robust
    scatter (1.4826 x the median absolute deviation) of the image's outer
    band of pixels (``border`` pixels wide; default a sixteenth of the side,
    at least 2): what a wider cutout of an empty field around the galaxy
    shows.  On real GZ2 frames, a 150-pixel crop widened so to the native
    424-pixel framing is classified by ``sample-gz2`` as the native frame
    is (accuracy 0.837 on both, `benchmarks/framing_accuracy.py`), whereas
    mirror-padding (as in Eq. 2) is not (0.851).

    Parameters
    ----------
    image : `torch.Tensor`
        ``(C, H, W)`` image, uint8 or float on the 0-255 scale.
    factor : float
        New side over old side, in [1, `MAX_FRAME_FRACTION`].
    generator : `torch.Generator`, optional
        Source of the noise (seed it for reproducible frames).
    border : int, optional
        Width of the band that measures the sky.

    Returns
    -------
    `torch.Tensor`
        ``(C, round(factor * H), round(factor * W))``, of the input's dtype.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.images import pad_with_sky
    >>> image = torch.full((3, 40, 40), 10, dtype=torch.uint8)
    >>> image[:, 15:25, 15:25] = 200                      # a bright galaxy on a flat sky of 10
    >>> wide = pad_with_sky(image, 1.5)
    >>> wide.shape, int(wide[:, :10].float().mean()), int(wide[0, 30, 30])
    (torch.Size([3, 60, 60]), 10, 200)
    """
    if not 1 <= factor <= MAX_FRAME_FRACTION:
        raise InputError(f"factor={factor!r} must lie in [1, {MAX_FRAME_FRACTION}]")
    channels, h, w = image.shape[-3:]
    new_h, new_w = round(h * factor), round(w * factor)
    if (new_h, new_w) == (h, w):
        return image
    band = border or max(2, min(h, w) // 16)
    values = image.to(torch.float32)
    ring = torch.cat([values[:, :band].reshape(channels, -1), values[:, -band:].reshape(channels, -1),
                      values[:, :, :band].reshape(channels, -1), values[:, :, -band:].reshape(channels, -1)],
                     dim=1)
    median = ring.median(dim=1).values
    scatter = 1.4826 * (ring - median[:, None]).abs().median(dim=1).values
    noise = torch.randn(channels, new_h, new_w, generator=generator)
    out = median[:, None, None] + scatter[:, None, None] * noise
    top, left = (new_h - h) // 2, (new_w - w) // 2
    out[:, top:top + h, left:left + w] = values
    if image.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.to(image.dtype)


def _check_regular_file(path):
    if _URL.match(str(path)):
        raise ImageError(f"image path {str(path)!r} is a URL: images are read from local files; download "
                         f"them first (galzoo-cnn fetch, galzoo_cnn.cutouts.fetch_cutouts)", "url")
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"image file {str(path)!r} does not exist") from None
    except OSError as err:
        raise ImageError(f"image file {str(path)!r} cannot be read: {err.strerror}", "undecodable") from None
    except ValueError as err:  # a NUL byte in the name
        raise ImageError(f"image path {str(path)!r} is not a usable file name: {err}", "not_a_file") from None
    if not stat.S_ISREG(mode):
        raise ImageError(f"image path {str(path)!r} is not a regular file", "not_a_file")


def _check_size_and_depth(image, path):
    """Refuse, from the header alone, images too large to decode and 16-bit PNGs Pillow would truncate."""
    from ..config import conf

    width, height = image.size
    if width * height > conf.max_image_pixels:
        raise ImageError(f"image file {str(path)!r} has {width} x {height} pixels, more than "
                         f"conf.max_image_pixels = {conf.max_image_pixels}", "too_large")
    rawmodes = [tile[3] if len(tile) > 3 else "" for tile in getattr(image, "tile", [])]
    if any(";16" in str(raw) for raw in rawmodes):  # Pillow reads 48-bit RGB PNGs as 8-bit RGB
        raise ImageError(f"image file {str(path)!r} has 16-bit samples; galzoo_cnn reads 8-bit images",
                         "not_8bit")


def _to_rgb(image, path):
    mode = image.mode
    if mode in _REFUSED_MODES:
        what, reason = _REFUSED_MODES[mode]
        raise ImageError(f"image file {str(path)!r} is {what} ({mode}); "
                         f"galzoo_cnn reads 8-bit RGB or grey-scale images", reason)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if alpha.min() < 255:
            raise ImageError(f"image file {str(path)!r} has transparent pixels; "
                             f"galzoo_cnn reads opaque images only", "translucent")
    return image.convert("RGB")


def scale_intensity(image):
    """The paper's scaling, Eq. 1: ``x = (I - 127.5) / 255``, from [0, 255] to [-0.5, 0.5].

    Works on NumPy arrays and torch tensors; returns float32.

    Parameters
    ----------
    image : `numpy.ndarray` or `torch.Tensor`
        Pixel values in [0, 255].

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.images import scale_intensity
    >>> scale_intensity(torch.tensor([127.5]))
    tensor([0.])
    """
    if isinstance(image, torch.Tensor):  # one new tensor, divided in place
        return torch.sub(image.to(torch.float32), 127.5).div_(255.0)
    return ((np.asarray(image, dtype=np.float32) - 127.5) / 255.0).astype(np.float32)


@keyword_options
def resolve_image_paths(table, image_column="filename", image_dir=None, allow_empty=False):
    """Absolute image paths of ``table``, refusing any that escape ``image_dir``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        One row per image.
    image_column : str
        Column of paths, relative to ``image_dir``.
    image_dir : str or None
        Directory the paths are relative to.
    allow_empty : bool
        Give `None` for a row whose path is empty or masked instead of raising.

    Returns
    -------
    list of `~pathlib.Path` (or `None` for empty rows with ``allow_empty``)
        A URL (``https://...``) is kept as the `str` written, not joined to
        ``image_dir``: reading it gives the row the status ``url``.

    Raises
    ------
    KeyError
        If ``image_column`` is missing.
    ValueError
        Naming the first row whose path is empty or leaves ``image_dir``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.images import resolve_image_paths
    >>> resolve_image_paths(Table({"filename": ["../x.jpg"]}), image_dir="/data")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: row 0: image path '../x.jpg' leaves image_dir '/data'
    """
    require_columns(table, image_column, role="image")
    # the check is on the path as written, not on where links lead: a directory of symbolic links
    # (a "symlink farm") is a normal way to assemble images, and a dangling link is one missing row
    root = os.path.abspath(os.path.expanduser(image_dir)) if image_dir is not None else None
    column = table[image_column]
    names = np.asarray(column).astype(str).tolist()
    empty = np.ma.getmaskarray(column) | (np.char.strip(np.asarray(names, dtype=str)) == "")
    if empty.any() and not allow_empty:
        raise InputError(f"row {int(np.argmax(empty))}: empty image path in column {image_column!r}")
    # a URL stays as written: it is no path below image_dir, and the reader gives its row status url
    urls = [bool(_URL.match(n)) for n in names]
    if root is None:
        return [None if e else n if url else Path(os.path.expanduser(n))
                for n, e, url in zip(names, empty, urls)]
    # string operations, not Path methods: a million rows in a few seconds
    inside = root.rstrip(os.sep) + os.sep
    joined = [n if url else os.path.normpath(os.path.join(root, n)) for n, url in zip(names, urls)]
    for row, (path, is_empty, url) in enumerate(zip(joined, empty, urls)):
        if not (is_empty or url) and path != root and not path.startswith(inside):
            raise InputError(f"row {row}: image path {names[row]!r} leaves image_dir {str(image_dir)!r}")
    return [None if e else p if url else Path(p) for p, e, url in zip(joined, empty, urls)]


