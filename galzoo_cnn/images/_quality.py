# Licensed under a 3-clause BSD style license - see LICENSE
"""Image-quality flags (`~galzoo_cnn.columns.QUALITY_FLAGS`) of one image and of a batch."""


import numpy as np
import torch

from ..exceptions import InputTypeError


def image_quality_flags(image):
    """Bit flags (`~galzoo_cnn.columns.QUALITY_FLAGS`) describing a decoded RGB image.

    Cheap measures on the pixels the model sees, with the thresholds of
    `~galzoo_cnn.columns.QUALITY_FLAGS`: the brightness is the mean of the
    colours smoothed over 3 x 3 pixels, so that a single hot pixel or JPEG
    ringing is no source.  On 3 100 real SDSS cutouts (1 500 Kaggle GZ2,
    1 500 GZ1, 100 Hart et al. 2016) the defect flags mark four: a Hart et
    al. frame whose galaxy sits at the edge (central measure 0.09 of the
    brightest; centred galaxies give 0.38 or more), two GZ1 cutouts of
    empty sky crossed by a satellite trail, and a GZ1 "cutout" that is
    SkyServer's error message on black (no central source, truncated).
    ``bright_border`` marks 99 of the 100 Hart et al. close-ups (30 arcsec
    frames filled by their galaxies) and 95 of the 32 937 Kaggle GZ2 and
    GZ1 frames (a bright sky, a galaxy filling its frame), as
    ``classify_table`` reads them (``benchmarks/quality_flags.py``).  One
    image of `batch_quality_flags`, which measures a whole batch at once.

    Parameters
    ----------
    image : numpy.ndarray
        ``(height, width, 3)`` uint8 RGB image (as `read_image` returns).

    Returns
    -------
    int
        The sum of the bits of the flags raised (0: none).

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.images import image_quality_flags
    >>> sky = np.full((100, 100, 3), (20, 24, 30), np.uint8)  # a bluish sky, RGB
    >>> image_quality_flags(sky)  # blank, nothing at the centre, and the border as bright as the peak
    35
    >>> sky[45:55, 45:55] = 200  # a source at the centre
    >>> image_quality_flags(sky)
    0
    """
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.uint8)).permute(2, 0, 1)
    return int(batch_quality_flags(tensor[None])[0])


def batch_quality_flags(images):
    """`image_quality_flags` of a batch of images at once, on the images' device.

    The same measures and thresholds, vectorised: brightness is kept as the
    exact integer sum of the three colours over 3 x 3 pixels (27 x the
    smoothed mean, edges replicated), and the faint level, the 5th
    percentile with linear interpolation (as `numpy.percentile`), comes from
    a per-image histogram of those integers instead of a sort.  About 0.1 ms
    per 100-pixel image on one CPU thread (`benchmarks/bench_classify.py`).

    Parameters
    ----------
    images : `torch.Tensor`
        ``(batch, 3, height, width)`` uint8 RGB images, sides of 8 pixels or more.

    Returns
    -------
    `torch.Tensor`
        ``(batch,)`` int32: the sum of the bits raised in each image.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.images import batch_quality_flags
    >>> sky = torch.tensor([20, 24, 30], dtype=torch.uint8).view(1, 3, 1, 1).repeat(2, 1, 100, 100)
    >>> sky[1, :, 45:55, 45:55] = 200  # a source at the centre of the second image
    >>> batch_quality_flags(sky).tolist()
    [35, 0]
    >>> batch_quality_flags(sky[:, :1].repeat(1, 3, 1, 1)).tolist()  # the same in grey
    [51, 16]
    """
    from ..columns import QUALITY_FLAGS

    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3 or min(images.shape[2:]) < 8:
        raise InputTypeError(f"batch_quality_flags takes (batch, 3, height, width) uint8 images of sides "
                             f">= 8 pixels (the central disc is 0.1 of the side), got "
                             f"{tuple(images.shape)} {images.dtype}")
    n_images, _, height, width = images.shape
    # 3 colours x 9 pixels x 255 = 6885 fits int16: half the memory traffic of int32
    smooth = _box_sum_3x3(images.sum(1, dtype=torch.int16)).flatten(1)
    faint = _percentile_of_integers(smooth, 5.0, top=27 * 255)
    y = torch.arange(height, device=images.device).view(-1, 1)
    x = torch.arange(width, device=images.device).view(1, -1)
    centre = ((y - (height - 1) / 2) ** 2 + (x - (width - 1) / 2) ** 2 <= (0.1 * min(height, width)) ** 2)
    peak = smooth.amax(1) - faint
    central = smooth[:, centre.flatten()].amax(1) - faint
    brightest = images.amax(1)
    black = brightest <= 3
    band = max(1, round(0.05 * min(height, width)))
    edges = (black[:, :band], black[:, -band:], black[:, :, :band], black[:, :, -band:])
    border = (y < band) | (y >= height - band) | (x < band) | (x >= width - band)
    border_median = _percentile_of_integers(smooth[:, border.flatten()], 50.0, top=27 * 255)
    raised = {
        "no_central_source": (central < 0.25 * peak) | (peak < 8 * 27),
        "blank": peak < 8 * 27,
        "saturated": (brightest == 255).flatten(1).sum(1) > 0.02 * height * width,
        "truncated": torch.stack([edge.flatten(1).all(1) for edge in edges]).any(0),
        # the widest spread of a pixel's colours: 14 levels or more on all 37 840 real SDSS / DECaLS
        # frames of the test data, 0 on grey-scale JPEGs (grey chroma decodes to equal colours)
        "grey": (brightest - images.amin(1)).flatten(1).amax(1) <= 4,
        # border median > 0.15 of the brightest: 95 of the 32 937 Kaggle and GZ1 frames, 99 of the 100
        # Hart et al. (2016) close-ups, whose galaxies fill their 30-arcsec frames (benchmarks/)
        "bright_border": 20 * border_median > 3 * smooth.amax(1),   # exact: the median is n or n + 0.5
    }
    flags = torch.zeros(n_images, dtype=torch.int32, device=images.device)
    for name, mask in raised.items():
        flags |= mask.to(torch.int32) * QUALITY_FLAGS[name][0]
    return flags


def _box_sum_3x3(values):
    """Sum over each pixel's 3 x 3 neighbourhood of ``(batch, H, W)`` values, edges replicated."""
    padded = torch.cat([values[:, :1], values, values[:, -1:]], 1)
    rows = padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]
    padded = torch.cat([rows[:, :, :1], rows, rows[:, :, -1:]], 2)
    return padded[:, :, :-2] + padded[:, :, 1:-1] + padded[:, :, 2:]


def _percentile_of_integers(values, percent, top):
    """``numpy.percentile(row, percent)`` (linear interpolation) of each row of integers in [0, top],
    from a histogram: no sort."""
    n_rows, n = values.shape
    position = percent / 100 * (n - 1)
    rank = int(position)
    counts = torch.zeros(n_rows, top + 1, dtype=torch.int32, device=values.device)
    counts.scatter_add_(1, values.long(), torch.ones_like(values, dtype=torch.int32))
    wanted = torch.tensor([rank, min(rank + 1, n - 1)], dtype=torch.int32, device=values.device)
    below, above = torch.searchsorted(counts.cumsum(1, dtype=torch.int32),
                                      wanted.expand(n_rows, 2).contiguous(), right=True).float().unbind(1)
    return below + (position - rank) * (above - below)


