# Licensed under a 3-clause BSD style license - see LICENSE
"""Similarity search on real Kaggle GZ2 images with the bundled sample-gz2 model."""

import numpy as np
import pytest
import torch
from astropy.table import Table

from galzoo_cnn.exceptions import InputError, MissingColumnsError
from galzoo_cnn.images import read_image, scale_intensity
from galzoo_cnn.models import load_model
from galzoo_cnn.similarity import embed_table, similar_galaxies


@pytest.fixture(scope="module")
def kaggle(real_data):
    root = real_data / "gz2_kaggle_5class"
    return Table.read(root / "labels.csv")[:360], root / "images"


@pytest.fixture(scope="module")
def embedded(kaggle):
    labels, image_dir = kaggle
    return embed_table(labels, image_dir=image_dir, progress=False)


def test_embeddings_are_the_models_pooled_features(kaggle, embedded):
    labels, image_dir = kaggle
    from galzoo_cnn.config import conf

    model = load_model(conf.default_model)  # the model embed_table used
    crop = model.card["input"]["crop"]
    images = [scale_intensity(torch.from_numpy(np.ascontiguousarray(
        read_image(image_dir / name, size=model.card["input"]["size"], crop=crop))).permute(2, 0, 1))
        for name in labels["filename"][:4]]
    direct = model.embed(torch.stack(images)).numpy()
    assert embedded["embedding"].shape == (360, model.num_features)
    np.testing.assert_allclose(np.ma.getdata(embedded["embedding"][:4]), direct, rtol=1e-4, atol=1e-5)
    assert embedded.meta["provenance"]["function"] == "embed_table"


def test_neighbours_match_a_brute_force_cosine_search(embedded):
    query, reference = embedded[300:], embedded[:300]
    pairs = similar_galaxies(query, reference, k=4, id_column="galaxy_id")
    q = np.ma.getdata(query["embedding"]).astype(float)
    r = np.ma.getdata(reference["embedding"]).astype(float)
    cosine = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (r / np.linalg.norm(r, axis=1, keepdims=True)).T
    expected = np.argsort(-cosine, axis=1)[:, :4]
    assert len(pairs) == 60 * 4
    np.testing.assert_array_equal(np.asarray(pairs["reference_row"]).reshape(60, 4), expected)
    np.testing.assert_allclose(np.asarray(pairs["similarity"]).reshape(60, 4),
                               np.take_along_axis(cosine, expected, 1), rtol=1e-5)
    ids = np.asarray(reference["galaxy_id"])[pairs["reference_row"]]
    assert (np.asarray(pairs["reference_id"]) == ids).all()


def test_neighbours_share_the_volunteers_class(embedded):
    # the paper's use (Figs. 5, 8): the nearest training galaxies of a new galaxy look like it
    # (benchmarks/similarity_agreement.py: 0.84 of the 5 nearest of 300 galaxies share their class,
    # 0.26 by chance)
    query, reference = embedded[300:], embedded[:300]
    pairs = similar_galaxies(query, reference, k=5)
    classes = np.asarray(embedded["gz2_five_class"])
    same = classes[300:][pairs["query_row"]] == classes[:300][pairs["reference_row"]]
    chance = sum(np.mean(classes[:300] == c) * np.mean(classes[300:] == c) for c in set(classes))
    assert same.mean() > max(0.6, 2 * chance)


def test_a_galaxy_is_its_own_nearest_neighbour_and_bad_rows_are_left_out(kaggle, embedded):
    labels, image_dir = kaggle
    query = labels[:3].copy()
    query["filename"] = query["filename"].astype("U40")
    query["filename"][1] = "no-such-file.jpg"
    pairs = similar_galaxies(query, embedded[:300], k=2, image_dir=image_dir, progress=False)
    assert pairs["query_row"].tolist() == [0, 0, 2, 2]
    assert pairs["reference_row"][pairs["rank"] == 1].tolist() == [0, 2]
    assert np.allclose(pairs["similarity"][pairs["rank"] == 1], 1, atol=1e-5)
    assert pairs.meta["n_query_unusable"] == 1
    with pytest.raises(InputError, match="k=0"):
        similar_galaxies(query, embedded, k=0)
    with pytest.raises(MissingColumnsError, match="query table's id column 'objid' is not in the table"):
        similar_galaxies(embedded[:2], embedded, id_column="objid")
    other = embed_table(labels[:3], model="sample-gz1", image_dir=image_dir, progress=False)
    with pytest.raises(InputError, match="different models .sample-gz1, sample-gz2."):
        similar_galaxies(other, embedded)


def test_the_embedding_model_survives_a_fits_file(kaggle, embedded, tmp_path):
    """A reference embedded once and saved (galzoo-cnn embed) still says which model made it: FITS keeps
    no nested provenance, so the model's name and digest are header keywords too."""
    from galzoo_cnn.exceptions import GalzooWarning
    from galzoo_cnn.tables import as_table, write_table_atomic

    labels, image_dir = kaggle
    reference = as_table(write_table_atomic(embedded[:300], tmp_path / "reference.fits"))
    with pytest.raises(InputError, match="column 'embedding' holds a vector per row, which CSV cannot"):
        write_table_atomic(embedded, tmp_path / "reference.csv")  # astropy's own error came mid-write
    assert not (tmp_path / "reference.csv").exists()
    assert "provenance" not in reference.meta and reference.meta["EMBMODEL"] == "sample-gz2-dihedral"
    other = embed_table(labels[:3], model="sample-gz1", image_dir=image_dir, progress=False)
    with pytest.raises(InputError, match="different models .sample-gz1, sample-gz2-dihedral."):
        similar_galaxies(other, reference)
    pairs = similar_galaxies(embedded[300:310], reference, k=1)  # the same model: the file's vectors
    expected = similar_galaxies(embedded[300:310], embedded[:300], k=1)
    assert pairs["reference_row"].tolist() == expected["reference_row"].tolist()
    for key in ("EMBMODEL", "EMBSHA"):
        del reference.meta[key]
    with pytest.warns(GalzooWarning, match="reference table's embedding does not say which model made it"):
        similar_galaxies(other, reference)


def test_similarity_gallery_shows_the_neighbours(kaggle, embedded):
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.plots import plot_similar

    labels, image_dir = kaggle
    pairs = similar_galaxies(embedded[300:303], embedded[:300], k=4)
    figure = plot_similar(pairs, embedded[300:303], embedded[:300], image_dir=image_dir,
                          class_column="gz2_five_class")
    assert len(figure.axes) == 3 * 5
    first = figure.axes[1:5]
    assert [ax.get_title().splitlines()[0] for ax in first] == [f"{s:.3f}" for s in pairs["similarity"][:4]]
    assert [ax.get_title().splitlines()[1] for ax in first] == [
        str(embedded["gz2_five_class"][r]) for r in pairs["reference_row"][:4]]
    assert all(ax.get_images() for ax in figure.axes)  # every image was read
