# Licensed under a 3-clause BSD style license - see LICENSE
"""The limits of what a model reads of an image, below the stages (no torch): the training
configuration checks them before torch loads, `galzoo_cnn.images` applies them."""

__all__ = ["IMAGE_SIZE", "MIN_CROP", "MAX_FRAME_FRACTION"]

#: Side of the network's input images in pixels (Khramtsov et al. 2022).
IMAGE_SIZE = 100

#: Smallest central fraction of a frame that may be cropped: below a tenth of
#: the side, a 100-pixel input is resampled from a few pixels of sky.
MIN_CROP = 0.1

#: Largest factor by which a frame may be widened with sky (`galzoo_cnn.images.pad_with_sky`):
#: beyond twice its side, most of what the model would see is made up.
MAX_FRAME_FRACTION = 2.0
