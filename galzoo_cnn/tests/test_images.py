# Licensed under a 3-clause BSD style license - see LICENSE
import numpy as np
import pytest
import torch
from astropy.table import Table
from PIL import Image

from galzoo_cnn.exceptions import InputError
from galzoo_cnn.images import (
    ImageError,
    ImageTableDataset,
    pack_images,
    read_image,
    resolve_image_paths,
    scale_intensity,
)


def test_read_real_sdss_cutout(gz1_images):
    labels, directory = gz1_images
    path = directory / labels["filename"][0]
    image = read_image(path)
    assert image.shape == (100, 100, 3) and image.dtype == np.uint8
    with Image.open(path) as original:
        reference = np.asarray(original.convert("RGB").resize((100, 100), Image.Resampling.LANCZOS),
                               dtype=float)
    # the reduced-scale JPEG decode differs from a full decode + Lanczos by little
    assert np.abs(image - reference).mean() < 2.0
    # a galaxy cutout: bright centre, dark sky
    assert image[40:60, 40:60].mean() > 3 * image[:10, :10].mean()


def test_read_zoomed_gz2_cutout(real_data):
    path = next((real_data / "gz2_hart16_sdss" / "images").glob("*.jpg"))
    assert read_image(path, size=64).shape == (64, 64, 3)


def test_modes(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.arange(100 * 100, dtype=np.uint8).reshape(100, 100)).save(grey)
    image = read_image(grey)
    assert np.array_equal(image[..., 0], image[..., 2])  # grey replicated
    opaque = tmp_path / "opaque.png"
    Image.fromarray(np.full((100, 100, 4), 255, np.uint8)).save(opaque)
    assert read_image(opaque).shape == (100, 100, 3)
    translucent = tmp_path / "translucent.png"
    Image.fromarray(np.full((100, 100, 4), 100, np.uint8)).save(translucent)
    with pytest.raises(ImageError, match="translucent.png' has transparent pixels"):
        read_image(translucent)
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((100, 100), 40000, np.uint16)).save(deep)
    with pytest.raises(ImageError, match="deep.png' has 16-bit samples"):
        read_image(deep)


def test_broken_and_missing_files(tmp_path, gz1_images):
    labels, directory = gz1_images
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes((directory / labels["filename"][0]).read_bytes()[:2000])
    with pytest.raises(ImageError, match="truncated.jpg' does not decode"):
        read_image(truncated)
    text = tmp_path / "text.jpg"
    text.write_text("not an image")
    with pytest.raises(ImageError, match="text.jpg' does not decode"):
        read_image(text)
    with pytest.raises(FileNotFoundError, match="nothere.jpg' does not exist"):
        read_image(tmp_path / "nothere.jpg")


def test_scale_intensity_eq1():
    assert np.allclose(scale_intensity(np.array([0, 127.5, 255])), [-0.5, 0, 0.5])
    assert scale_intensity(torch.tensor([255], dtype=torch.uint8)).item() == 0.5


def test_paths_must_stay_in_image_dir(tmp_path):
    table = Table({"filename": ["a.jpg", "sub/b.jpg", "../../etc/passwd"]})
    with pytest.raises(ValueError, match="row 2: image path '../../etc/passwd' leaves image_dir"):
        resolve_image_paths(table, image_dir=tmp_path)
    assert resolve_image_paths(table[:2], image_dir=tmp_path)[1] == tmp_path.resolve() / "sub" / "b.jpg"
    with pytest.raises(KeyError, match="image column 'path' is not in the table"):
        resolve_image_paths(table, image_column="path", image_dir=tmp_path)
    with pytest.raises(ValueError, match="row 1: empty image path"):
        resolve_image_paths(Table({"filename": ["a.jpg", ""]}), image_dir=tmp_path)


def test_dataset_on_real_images(gz1_images):
    labels, directory = gz1_images
    dataset = ImageTableDataset(labels, image_dir=directory, label_column="gz1_class")
    image, target = dataset[0]
    assert image.shape == (3, 100, 100) and image.dtype == torch.float32
    assert -0.5 <= image.min() and image.max() <= 0.5
    assert dataset.classes == sorted(set(labels["gz1_class"]))
    assert dataset.classes[int(target)] == labels["gz1_class"][0]


def test_dataset_errors_name_rows_and_files(gz1_images, tmp_path):
    labels, directory = gz1_images
    with pytest.raises(ValueError, match="row 15: label 'dont_know' in column 'gz1_class' is not one"):
        ImageTableDataset(labels, image_dir=directory, label_column="gz1_class",
                          classes=["elliptical", "spiral_clockwise", "spiral_anticlockwise", "edge_on",
                                   "merger"])
    moved = labels.copy()
    moved["filename"][3] = "gone.jpg"
    with pytest.raises(FileNotFoundError, match="1 image file.s. missing: row 3: .*gone.jpg"):
        ImageTableDataset(moved, image_dir=directory)
    with pytest.raises(KeyError, match="label column 'class' is not in the table"):
        ImageTableDataset(labels, image_dir=directory, label_column="class")


def test_multilabel_targets_keep_unknown_as_nan(gz1_images):
    labels, directory = gz1_images
    table = labels[:3].copy()
    table["label_bar"] = np.ma.MaskedArray([True, False, True], mask=[False, False, True])
    dataset = ImageTableDataset(table, image_dir=directory, label_columns=["label_bar"])
    assert dataset[0][1].tolist() == [1.0] and dataset[1][1].tolist() == [0.0]
    assert torch.isnan(dataset[2][1]).all()


def test_multilabel_targets_take_vote_fractions(gz1_images, real_data):
    """fraction_<feature> columns (feature_fractions of real Kaggle rows) are targets as they are; values that
    are no fraction name their column and row; the loss is the cross-entropy against the fraction."""
    from galzoo_cnn.labels import feature_fractions
    from galzoo_cnn.objectives import get_objective

    labels, directory = gz1_images
    votes = Table.read(real_data / "gz2_kaggle_votes" / "votes.csv")
    soft = feature_fractions(votes[votes["galaxy_id"] == 101798],
                             features=["ring", "edge_on_yes", "cigar_shaped"])
    table = labels[:1].copy()
    for name in ("fraction_ring", "fraction_edge_on_yes", "fraction_cigar_shaped"):
        table[name] = soft[name]
    dataset = ImageTableDataset(table, image_dir=directory, label_columns=table.colnames[-3:])
    targets = dataset[0][1]
    assert targets[0].item() == pytest.approx(0.626768967 / 0.654931, abs=1e-6)
    assert targets[1].item() == pytest.approx(0.052137411 / 0.508489, abs=1e-6)
    assert torch.isnan(targets[2])  # roundness is asked of smooth galaxies: unknown for this disk
    logits = torch.tensor([[0.5, -1.0, 3.0]])
    loss = get_objective("features").loss(logits, targets[None])
    t, q = targets[:2], torch.sigmoid(logits[0, :2])
    assert loss.item() == pytest.approx(-(t * q.log() + (1 - t) * (1 - q).log()).mean().item(), rel=1e-5)
    table["fraction_ring"][0] = 1.5
    with pytest.raises(InputError, match="label column 'fraction_ring', row 0: 1.5 is not a label or vote"):
        ImageTableDataset(table, image_dir=directory, label_columns=["fraction_ring"])
    with pytest.raises(InputError, match="label column 'filename' holds str"):
        ImageTableDataset(table, image_dir=directory, label_columns=["filename"])


def test_packed_store_matches_files(gz1_images, tmp_path):
    labels, directory = gz1_images
    packed = pack_images(labels, tmp_path / "images.npy", image_dir=directory, progress=False)
    assert len(packed) == len(labels)
    for i in (0, 7, 15):
        assert np.array_equal(packed[i], read_image(directory / labels["filename"][i]))
    from_files = ImageTableDataset(labels, image_dir=directory)
    from_pack = ImageTableDataset(labels, image_dir=directory, packed=packed)
    assert torch.equal(from_files[5][0], from_pack[5][0])


def test_packing_a_broken_file_leaves_nothing(gz1_images, tmp_path):
    labels, directory = gz1_images
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8garbage")
    table = Table({"filename": [str(directory / labels["filename"][0]), str(broken)]})
    with pytest.raises(ImageError, match="broken.jpg"):
        pack_images(table, tmp_path / "images.npy", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg"]


def test_centre_crop(gz1_images, tmp_path):
    labels, directory = gz1_images
    path = directory / labels["filename"][2]
    with Image.open(path) as original:
        w, h = original.size
        expected = np.asarray(original.convert("RGB").crop(
            ((w - round(w / 2)) // 2, (h - round(h / 2)) // 2,
             (w - round(w / 2)) // 2 + round(w / 2), (h - round(h / 2)) // 2 + round(h / 2)))
            .resize((100, 100), Image.Resampling.LANCZOS), dtype=float)
    cropped = read_image(path, crop=0.5)
    assert np.abs(cropped - expected).mean() < 2.0
    # the galaxy fills more of the frame: more bright pixels than in the full view
    assert (cropped.mean(2) > 40).sum() > 2 * (read_image(path).mean(2) > 40).sum()
    with pytest.raises(ValueError, match="crop=0 must lie in"):
        read_image(path, crop=0)


def test_device_decoding_frames_real_jpegs_as_the_cpu_reader_does():
    """decode_jpegs (nvJPEG on a GPU; libjpeg here) against read_image on the 36 real demo JPEGs."""
    from galzoo_cnn.datasets import load_demo_sample
    from galzoo_cnn.images import decode_jpegs, jpeg_for_device, read_image

    sample, image_dir = load_demo_sample()
    paths = [image_dir / name for name in sample["filename"]]
    crops = [[1.0, 0.85, 0.5]] * len(paths)
    blobs = [jpeg_for_device(path, views) for path, views in zip(paths, crops)]
    assert all(blobs)
    decoded, failed = decode_jpegs(blobs, crops)
    assert not failed and decoded.shape == (len(paths), 3, 3, 100, 100)
    for k, crop in enumerate(crops[0]):
        reference = torch.stack([torch.from_numpy(read_image(p, crop=crop)).permute(2, 0, 1) for p in paths])
        difference = (decoded[:, k].float() - reference.float()).abs()
        per_image = difference.mean(dim=(1, 2, 3))
        assert difference.mean() < 1.0 and per_image.max() < 2.0, (crop, difference.mean())


def test_device_decoding_gives_the_classes_of_the_cpu_path(tmp_path):
    from astropy.table import Table

    from galzoo_cnn import classify_table
    from galzoo_cnn.datasets import load_demo_sample

    sample, image_dir = load_demo_sample()
    (tmp_path / "broken.jpg").write_bytes((image_dir / sample["filename"][0]).read_bytes()[:900])
    names = [str(image_dir / n) for n in sample["filename"]]
    rows = Table({"filename": [*names, str(tmp_path / "broken.jpg")]})
    by_cpu = classify_table(rows, decode="cpu", progress=False, batch_size=16)
    on_device = classify_table(rows, decode="device", progress=False, batch_size=16)
    assert on_device["status"].tolist() == by_cpu["status"].tolist()
    assert on_device["status"][-1] == "undecodable"
    ok = np.asarray(by_cpu["status"] == "ok")
    columns = [c for c in by_cpu.colnames if c.startswith("prob_")]
    cpu = np.stack([np.asarray(by_cpu[c])[ok] for c in columns], 1)
    device = np.stack([np.asarray(on_device[c])[ok] for c in columns], 1)
    assert np.abs(device - cpu).max() < 0.1  # measured 0.054 on these 36 galaxies
    top_two = np.sort(cpu, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 0.1  # a class the CPU path chose by a margin of 0.1 or more
    same = np.asarray(on_device["predicted_class"])[ok] == np.asarray(by_cpu["predicted_class"])[ok]
    assert same[clear].all() and same.mean() >= 0.9  # measured 34 of 36: two near-ties flip
    assert on_device["quality_flags"][ok].tolist() == by_cpu["quality_flags"][ok].tolist()


def test_a_folder_of_images_is_a_table_of_their_names(real_data, tmp_path):
    import shutil

    from galzoo_cnn.tables import as_table, image_table, table_or_folder

    source = real_data / "gz_decals_rings" / "images"
    names = sorted(p.name for p in source.iterdir())[:3]
    (tmp_path / "deep").mkdir()
    (tmp_path / "holder" / "sub").mkdir(parents=True)  # images only below it
    shutil.copy(source / names[0], tmp_path / "holder" / "sub" / names[0])
    shutil.copy(source / names[0], tmp_path / names[0])
    shutil.copy(source / names[1], tmp_path / names[1].replace(".jpg", ".JPG"))
    shutil.copy(source / names[2], tmp_path / "deep" / names[2])
    shutil.copy(source / names[2], tmp_path / ".hidden.jpg")
    (tmp_path / "labels.csv").write_text("a\n1\n")
    assert image_table(tmp_path)["filename"].tolist() == sorted([names[0], names[1].replace(".jpg", ".JPG")])
    nested = image_table(tmp_path, recursive=True)
    assert f"deep/{names[2]}" in nested["filename"] and len(nested) == 4  # and holder/sub/
    assert nested.meta["image_dir"] == str(tmp_path)
    with pytest.raises(InputError, match="holds no image file.*sub-folders were not searched"):
        image_table(tmp_path / "holder")
    with pytest.raises(InputError, match="does not exist"):
        image_table(tmp_path / "nowhere")
    with pytest.raises(InputError, match="is a file"):
        image_table(tmp_path / "labels.csv")
    with pytest.raises(InputError, match=r"is a folder, not a table file.*image_table"):
        as_table(tmp_path)
    with pytest.raises(InputError, match="image_dir .* does not go with it"):
        table_or_folder(tmp_path, tmp_path)
    table, image_dir = table_or_folder(tmp_path / "labels.csv", "imgs")
    assert table.colnames == ["a"] and image_dir == "imgs"
