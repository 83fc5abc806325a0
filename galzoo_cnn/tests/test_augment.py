# Licensed under a 3-clause BSD style license - see LICENSE
import numpy as np
import pytest
import torch

from galzoo_cnn.augment import (
    AdversarialShrink,
    RandomRot90,
    RandomZoomCrop,
    standard_augmentation,
    training_transform,
)
from galzoo_cnn.images import read_image


@pytest.fixture
def galaxy(gz1_images):
    labels, directory = gz1_images
    return torch.from_numpy(read_image(directory / labels["filename"][4])).permute(2, 0, 1)


def test_identity_when_m_and_k_are_one(galaxy):
    out = AdversarialShrink(k=1.0, m=1.0)(galaxy)
    assert out.dtype == torch.float32 and torch.equal(out, galaxy.float())


def test_border_is_mirror_of_interior(galaxy):
    out = AdversarialShrink(k=1.0, m=0.7)(galaxy)
    inner, before = 70, 15
    assert out.shape == (3, 100, 100)
    for j in range(1, before + 1):  # reflection about the first and last inner columns / rows
        assert torch.equal(out[:, :, before - j], out[:, :, before + j])
        assert torch.equal(out[:, before - j, :], out[:, before + j, :])
        assert torch.equal(out[:, :, before + inner - 1 + j], out[:, :, before + inner - 1 - j])
    # the inner part is the galaxy shrunk, centred: its brightest region is still in the centre
    centre = out[:, 40:60, 40:60].mean()
    assert centre > 2 * out[:, :10, :10].mean()


def test_k_scales_the_mean(galaxy):
    torch.manual_seed(1)
    bright = AdversarialShrink(k=1.0, m=0.7)(galaxy)
    faint = AdversarialShrink(k=0.8, m=0.7)(galaxy)
    assert float(faint.mean()) == pytest.approx(0.8 * float(bright.mean()), rel=1e-6)
    assert torch.allclose(faint, 0.8 * bright)


def test_inner_part_is_the_shrunk_galaxy(galaxy):
    from torchvision.transforms.v2 import functional

    out = AdversarialShrink(k=1.0, m=0.5)(galaxy)
    shrunk = functional.resize(galaxy.float(), [50, 50], antialias=True)
    assert torch.allclose(out[:, 25:75, 25:75], shrunk, atol=1e-3)
    # the galaxy is half as large: its light is concentrated in fewer pixels
    assert (out[:, 25:75, 25:75] > 60).sum() < 0.5 * (galaxy > 60).sum()


def test_random_draws_in_range(galaxy):
    torch.manual_seed(0)
    transform = AdversarialShrink()
    ratios = [float(transform(galaxy).mean() / galaxy.float().mean()) for _ in range(40)]
    # k ~ U(0.6, 1); shrinking and mirroring changes the mean brightness a little too
    assert 0.45 < min(ratios) < 0.75 and 0.85 < max(ratios) < 1.3
    with pytest.raises(ValueError, match="m=0.3 is out of range"):
        AdversarialShrink(m=0.3)


def test_rotations_are_exact(galaxy):
    torch.manual_seed(0)
    seen = set()
    for _ in range(30):
        out = RandomRot90()(galaxy)
        k = next(k for k in range(4) if torch.equal(out, torch.rot90(galaxy, k, dims=(-2, -1))))
        seen.add(k)
    assert seen == {0, 1, 2, 3}


def test_zoom_crop(galaxy):
    assert torch.equal(RandomZoomCrop(100, 100)(galaxy), galaxy)
    torch.manual_seed(0)
    out = RandomZoomCrop()(galaxy)
    assert out.shape == (3, 100, 100) and out.dtype == torch.uint8
    with pytest.raises(ValueError):
        RandomZoomCrop(90, 120)


def test_pipelines_are_seeded(galaxy):
    torch.manual_seed(5)
    a = training_transform()(galaxy)
    torch.manual_seed(5)
    b = training_transform()(galaxy)
    assert torch.equal(a, b)
    standard = standard_augmentation()(galaxy)
    assert standard.dtype == torch.uint8  # no intensity change without the adversarial step
    assert np.isclose(float(standard.float().mean()), float(galaxy.float().mean()), rtol=0.15)


def test_random_frame_scale_keeps_a_central_fraction():
    """With no jitter, the output equals the central crop resampled, for a real SDSS image."""
    from torchvision.transforms import v2

    from galzoo_cnn.augment import RandomFrameScale
    from galzoo_cnn.datasets import load_demo_sample
    from galzoo_cnn.images import read_image

    sample, image_dir = load_demo_sample()
    image = torch.from_numpy(read_image(image_dir / sample["filename"][0], size=150)).permute(2, 0, 1)
    out = RandomFrameScale((0.6, 0.6), jitter=0.0)(image)
    expected = v2.functional.resize(image[:, 30:120, 30:120], [100, 100], antialias=True)
    assert out.shape == (3, 100, 100) and out.dtype == torch.uint8
    assert torch.equal(out, expected)
    whole = RandomFrameScale((1.0, 1.0), jitter=0.0)(image)
    assert torch.equal(whole, v2.functional.resize(image, [100, 100], antialias=True))
    torch.manual_seed(3)
    for _ in range(20):  # random fractions and shifts stay inside the frame
        assert RandomFrameScale((0.3, 1.0), jitter=0.2)(image).shape == (3, 100, 100)
    for bad in ((0.0, 1.0), (0.8, 0.5), (0.5, 2.2)):  # above 2: more made-up sky than frame
        with pytest.raises(ValueError, match="fraction"):
            RandomFrameScale(bad)
