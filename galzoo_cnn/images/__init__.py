# Licensed under a 3-clause BSD style license - see LICENSE
"""
Galaxy images: reading, the paper's scaling (Eq. 1) and PyTorch datasets built from tables.

Images are read as 8-bit RGB arrays of ``size`` x ``size`` pixels (100 by
default, the paper's 39.6 arcsec SDSS cutouts at 0.396 arcsec/pixel).  An image
of another size is resampled with Lanczos filtering (antialiased; PIL
``Image.resize``), so its angular scale changes by ``size / original``.
Only JPEG and PNG files are opened (`READ_FORMATS`).
Grey-scale and palette images are converted to RGB (grey replicated in the
three channels); RGBA images are accepted when fully opaque; 16-bit, 32-bit,
CMYK and translucent images are refused with an `ImageError` naming the file.

Examples
--------
>>> import numpy as np
>>> from galzoo_cnn.images import scale_intensity
>>> scale_intensity(np.array([0, 255], dtype=np.uint8))
array([-0.5,  0.5], dtype=float32)
"""

from ..exceptions import ImageError  # noqa: F401 (importable from here, as before)
from ..utils._pillow import READ_FORMATS  # noqa: F401 (re-exported)
from ._quality import batch_quality_flags, image_quality_flags
from ._read import (
    IMAGE_PROBLEMS,
    IMAGE_SIZE,
    MAX_FRAME_FRACTION,
    MIN_CROP,
    decode_jpegs,
    jpeg_for_device,
    pad_with_sky,
    read_image,
    resolve_image_paths,
    scale_intensity,
)
from ._tables import ImageTableDataset, PackedImages, check_labels, image_problem, pack_images

__all__ = [
    "IMAGE_SIZE",
    "READ_FORMATS",
    "MIN_CROP",
    "MAX_FRAME_FRACTION",
    "pad_with_sky",
    "jpeg_for_device",
    "decode_jpegs",
    "IMAGE_PROBLEMS",
    "read_image",
    "scale_intensity",
    "image_quality_flags",
    "batch_quality_flags",
    "resolve_image_paths",
    "ImageTableDataset",
    "check_labels",
    "pack_images",
    "PackedImages",
    "image_problem",
]
