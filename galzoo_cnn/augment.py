# Licensed under a 3-clause BSD style license - see LICENSE
"""
The paper's image augmentations, as torchvision-v2-compatible transforms.

All transforms take and return ``(3, H, W)`` tensors with intensities on the
0-255 scale (uint8 in, float out where they resample or scale), so that the
adversarial intensity factor ``k`` applies before the scaling of Eq. 1,
``x = (k S(I, m) - 127.5) / 255`` (Eq. 2).  Randomness comes from
``torch``'s generator: seed it (``torch.manual_seed``, or Lightning's
``seed_everything``) for reproducible runs.

Examples
--------
>>> import torch
>>> from galzoo_cnn.augment import AdversarialShrink
>>> image = torch.full((3, 100, 100), 200, dtype=torch.uint8)
>>> out = AdversarialShrink(k=0.5, m=0.7)(image)
>>> out.shape, float(out.mean())
(torch.Size([3, 100, 100]), 100.0)
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.transforms import v2

from .exceptions import InputError
from .images import IMAGE_SIZE, MAX_FRAME_FRACTION, pad_with_sky
from .utils._deprecation import keyword_options

__all__ = [
    "MAX_FRAME_FRACTION",
    "pad_with_sky",
    "RandomRot90",
    "RandomZoomCrop",
    "RandomFrameScale",
    "AdversarialShrink",
    "standard_augmentation",
    "training_transform",
]


def _uniform(value):
    """A number drawn from ``value``: itself, or U(low, high) for a pair."""
    if isinstance(value, (tuple, list)):
        low, high = value
        return low + (high - low) * torch.rand(()).item()
    return float(value)


class RandomRot90(nn.Module):
    """Rotation by a random multiple of 90 degrees (no interpolation).

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.augment import RandomRot90
    >>> RandomRot90()(torch.zeros(3, 100, 100)).shape
    torch.Size([3, 100, 100])
    """

    def forward(self, image):
        """Rotate ``image`` (..., H, W) by 0, 90, 180 or 270 degrees."""
        return torch.rot90(image, int(torch.randint(4, ())), dims=(-2, -1))


class RandomZoomCrop(nn.Module):
    """Resize each axis to a random size in ``[min_size, max_size]``, then crop ``size`` at random.

    The paper's zoom: 100-120 pixels per axis, then a random 100 x 100 crop.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.augment import RandomZoomCrop
    >>> RandomZoomCrop()(torch.zeros(3, 100, 100, dtype=torch.uint8)).shape
    torch.Size([3, 100, 100])
    """

    def __init__(self, min_size=100, max_size=120, size=IMAGE_SIZE):
        super().__init__()
        if not size <= min_size <= max_size:
            raise InputError(f"need size <= min_size <= max_size, got {size}, {min_size}, {max_size}")
        self.min_size, self.max_size, self.size = min_size, max_size, size

    def forward(self, image):
        """Zoom and crop ``image`` (..., H, W)."""
        h, w = (int(torch.randint(self.min_size, self.max_size + 1, ())) for _ in range(2))
        image = v2.functional.resize(image, [h, w], antialias=True)
        top = int(torch.randint(h - self.size + 1, ()))
        left = int(torch.randint(w - self.size + 1, ()))
        return image[..., top:top + self.size, left:left + self.size]


class RandomFrameScale(nn.Module):
    """Reframe the image at a random width (jittered), resampled to ``size`` pixels.

    Galaxies in users' cutouts come at any apparent size: a fixed 39.6 arcsec
    SDSS frame spans ~13 Petrosian radii R90 of a small galaxy and ~2.5 of a
    large one, whereas GZ2 frames are scaled to each galaxy (Willett et al.
    2013, Sect. 2).  Drawing the frame's width at random teaches the network
    every framing in that range.  A drawn ``fraction`` below 1 keeps the
    central part of the frame; above 1 the frame is widened with sky
    (`pad_with_sky`), as a wider cutout of the same galaxy would look: a
    training frame spanning ``F`` radii then covers ``fraction[0] * F`` to
    ``fraction[1] * F``.

    Parameters
    ----------
    fraction : (float, float)
        Range of the new frame's side as a fraction of the image side, drawn
        uniformly; values above 1 (at most `MAX_FRAME_FRACTION`) widen it.
    jitter : float
        Largest shift of the kept square's centre, as a fraction of the side.
    size : int
        Output side in pixels.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.augment import RandomFrameScale
    >>> RandomFrameScale((0.5, 1.0))(torch.zeros(3, 150, 150, dtype=torch.uint8)).shape
    torch.Size([3, 100, 100])
    >>> RandomFrameScale((1.4, 1.6))(torch.zeros(3, 150, 150, dtype=torch.uint8)).shape
    torch.Size([3, 100, 100])
    """

    def __init__(self, fraction=(0.45, 1.0), jitter=0.04, size=IMAGE_SIZE):
        super().__init__()
        low, high = fraction
        if not 0 < low <= high <= MAX_FRAME_FRACTION:
            raise InputError(f"fraction={fraction!r} must satisfy 0 < low <= high <= {MAX_FRAME_FRACTION}")
        if not 0 <= jitter < 0.5:
            raise InputError(f"jitter={jitter!r} must lie in [0, 0.5)")
        self.fraction, self.jitter, self.size = (low, high), jitter, size

    def forward(self, image):
        """Crop (or widen) and resample ``image`` (..., H, W) to (..., size, size)."""
        h, w = image.shape[-2:]
        fraction = _uniform(self.fraction)
        if fraction > 1:
            image = pad_with_sky(image, fraction)
            h, w = image.shape[-2:]
            fraction = 1.0
        side = max(1, round(fraction * min(h, w)))
        shift = [round(_uniform((-self.jitter, self.jitter)) * n) for n in (h, w)]
        top = min(max((h - side) // 2 + shift[0], 0), h - side)
        left = min(max((w - side) // 2 + shift[1], 0), w - side)
        image = image[..., top:top + side, left:left + side]
        return v2.functional.resize(image, [self.size, self.size], antialias=True)


class AdversarialShrink(nn.Module):
    """The "adversarial" augmentation of Eq. 2: a smaller, fainter galaxy.

    Shrinks the image to ``round(m * size)`` pixels (antialiased bilinear),
    fills the border back to ``size`` by mirror reflection of the shrunk
    image (``reflect`` padding: the edge pixel is not repeated) and
    multiplies the intensities by ``k``.

    Parameters
    ----------
    k : float or (float, float)
        Intensity factor, or the range of a uniform draw per image
        (paper: U(0.6, 1.0); fixed example 0.8).
    m : float or (float, float)
        Size factor in (0.5, 1], or a range (paper: U(0.5, 1.0); fixed 0.7).

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.augment import AdversarialShrink
    >>> image = torch.arange(3 * 100 * 100, dtype=torch.float32).reshape(3, 100, 100)
    >>> bool(torch.equal(AdversarialShrink(k=1.0, m=1.0)(image), image))
    True
    """

    def __init__(self, k=(0.6, 1.0), m=(0.5, 1.0)):
        super().__init__()
        for name, value in (("k", k), ("m", m)):
            values = value if isinstance(value, (tuple, list)) else (value,)
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                          for v in values)
            if not numbers or len(values) not in (1, 2):
                raise InputError(f"{name}={value!r} must be a number or a range (low, high) of two numbers")
            if any(v <= 0 for v in values) or (name == "m" and any(v > 1 or v < 0.5 for v in values)):
                raise InputError(f"{name}={value!r} is out of range (k > 0, 0.5 <= m <= 1)")
            if len(values) == 2 and values[0] > values[1]:
                raise InputError(f"{name}={value!r}: a range is (low, high), low first")
        self.k, self.m = k, m

    def forward(self, image):
        """Shrink, mirror-fill and dim ``image`` (..., size, size); returns float32."""
        k, m = _uniform(self.k), _uniform(self.m)
        size = image.shape[-1]
        inner = max(1, round(m * size))
        out = image.to(torch.float32)
        if inner != size:
            out = F.interpolate(out[None], size=(inner, inner), mode="bilinear",
                                antialias=True, align_corners=False)
            before = (size - inner) // 2
            after = size - inner - before
            out = F.pad(out, (before, after, before, after), mode="reflect")[0]
        return out * k if k != 1 else out


@keyword_options
def standard_augmentation(min_size=100, max_size=120, size=IMAGE_SIZE):
    """The paper's standard augmentation: 90-degree rotations, zoom and crop, flips.

    Parameters
    ----------
    min_size, max_size : int
        Range of the side, in pixels, to which an image is zoomed before
        the random crop back to ``size``.
    size : int
        Side of the output images.

    Examples
    --------
    >>> from galzoo_cnn.augment import standard_augmentation
    >>> len(standard_augmentation().transforms)
    4
    """
    return v2.Compose([
        RandomRot90(),
        RandomZoomCrop(min_size, max_size, size),
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
    ])


@keyword_options
def training_transform(adversarial=True, k=(0.6, 1.0), m=(0.5, 1.0), size=IMAGE_SIZE,
                       frame_fraction=None):
    """Standard augmentation, followed by the adversarial one if ``adversarial``.

    With ``frame_fraction`` (a range, see `RandomFrameScale`) a random
    central part of the (larger) decoded image is first resampled to ``size``.

    Parameters
    ----------
    adversarial : bool
        Append the adversarial augmentation (Eq. 2).
    k, m : (float, float)
        Ranges of the adversarial shrink factors of Eq. 2 (the paper:
        0.6-1 and 0.5-1).
    size : int
        Side of the output images.
    frame_fraction : (float, float), optional
        Range of the central fraction of the decoded frame kept first.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.augment import training_transform
    >>> torch.manual_seed(0)  # doctest: +IGNORE_OUTPUT
    >>> training_transform()(torch.zeros(3, 100, 100, dtype=torch.uint8)).dtype
    torch.float32
    """
    steps = [standard_augmentation(size=size)]
    if frame_fraction is not None:
        steps.insert(0, RandomFrameScale(tuple(frame_fraction), size=size))
    if adversarial:
        steps.append(AdversarialShrink(k, m))
    return v2.Compose(steps)
