# Licensed under a 3-clause BSD style license - see LICENSE
import numpy as np
import pytest
from astropy.table import Table
from PIL import Image

from galzoo_cnn.adversarial import adversarial_scores, adversarial_split, adversarial_validation
from galzoo_cnn.exceptions import UnusableImagesWarning
from galzoo_cnn.models import load_model

FAST = dict(backbone="test_resnet", epochs=4, lr=1e-3, batch_size=8, seed=3)


def test_gz1_versus_zoomed_gz2_cutouts_are_different_domains(real_data, tmp_path):
    """Real SDSS cutouts: GZ1 at the survey scale versus GZ2 zoomed 4x (0.1 arcsec/pixel)."""
    gz1 = Table.read(real_data / "gz1_sdss" / "labels.csv")[:100]
    gz2 = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")
    result = adversarial_validation(gz2, gz1, tmp_path / "adv", image_dir=(
        real_data / "gz2_hart16_sdss" / "images", real_data / "gz1_sdss" / "images"),
        progress=False, **FAST)
    assert len(result) == 200 and set(result["domain"]) == {"training", "inference"}
    assert (result["domain_split"] == "val").sum() == 50  # 75 / 25
    score = np.asarray(result["adversarial_score"])
    assert ((0 <= score) & (score <= 1)).all()
    assert result.meta["adversarial"]["val_accuracy"] > 0.85  # visibly different domains
    training = result["domain"] == "training"
    assert np.median(score[training]) > 0.5 > np.median(score[~training])
    # Fig. 4b: shrinking and dimming the training galaxies moves their scores
    shifted = result["adversarial_score_shifted"]
    assert shifted.mask[~training].all() and not shifted.mask[training].any()
    assert np.mean(shifted[training]) != pytest.approx(np.mean(score[training]), abs=1e-3)
    model = load_model(result.meta["adversarial"]["model"])
    assert model.classes == ("inference", "training") and model.objective.name == "adversarial"


def test_bundled_images_against_their_zoomed_copies(gz1_images, tmp_path):
    labels, directory = gz1_images
    zoomed = tmp_path / "zoomed"
    zoomed.mkdir()
    for name in labels["filename"]:
        with Image.open(directory / name) as image:
            w, h = image.size
            image.crop((w * 3 // 8, h * 3 // 8, w * 5 // 8, h * 5 // 8)).save(zoomed / name)
    result = adversarial_validation(labels, labels, tmp_path / "adv", image_dir=(zoomed, directory),
                                    shift=None, progress=False, **dict(FAST, epochs=12))
    assert len(result) == 32 and "adversarial_score_shifted" not in result.colnames
    assert result.meta["adversarial"]["val_accuracy"] >= 0.75


def test_adversarial_split_directions():
    rng = np.random.default_rng(0)
    table = Table({"adversarial_score": rng.uniform(0, 1, 1000)})
    low = adversarial_split(table, n_test=100, seed=1)
    test = low["adversarial_score"][low["split"] == "test"]
    assert len(test) == 100 and (test <= 0.3).all()
    high = adversarial_split(table, n_test=100, side="training_like", seed=1)
    assert (high["adversarial_score"][high["split"] == "test"] >= 0.7).all()
    again = adversarial_split(table, n_test=100, seed=1)
    assert list(again["split"]) == list(low["split"])
    info = low.meta["adversarial_split"]
    assert info["n_candidates"] == int((table["adversarial_score"] <= 0.3).sum())


def test_adversarial_split_errors_and_shortfall():
    from galzoo_cnn.exceptions import FewCandidatesWarning

    table = Table({"adversarial_score": [0.1, 0.9]})
    with pytest.warns(FewCandidatesWarning, match="only 1 galaxies on the inference_like side"):
        split = adversarial_split(table, n_test=5)
    assert list(split["split"]) == ["test", "train"]
    with pytest.raises(ValueError, match="side='low'"):
        adversarial_split(table, side="low")
    with pytest.raises(KeyError, match="score column 'p' is not in the table"):
        adversarial_split(table, score_column="p")


def test_unreadable_images_keep_their_rows_without_a_score(gz1_images, tmp_path):
    """A corrupt training image and a missing inference image do not stop the run: their rows come back
    with no domain split and no score; every other row is scored."""
    import shutil

    labels, directory = gz1_images
    training, inference = tmp_path / "training", tmp_path / "inference"
    shutil.copytree(directory, training)
    shutil.copytree(directory, inference)
    (training / labels["filename"][2]).write_bytes(b"<html>404 Not Found</html>")
    (inference / labels["filename"][5]).unlink()
    targets = labels.copy()
    targets["filename"][9] = ""  # a target without an image (as rows of a GZ2 table without cutouts)
    with pytest.warns(UnusableImagesWarning, match="3 of 32 images cannot be used"):
        result = adversarial_validation(labels, targets, tmp_path / "adv", image_dir=(training, inference),
                                        progress=False, **dict(FAST, epochs=1))
    unscored = np.flatnonzero(result["adversarial_score"].mask)
    assert unscored.tolist() == [2, 16 + 5, 16 + 9] and len(result) == 32
    assert result["domain_split"].mask[unscored].all() and result["domain_split"].mask.sum() == 3
    assert result["adversarial_score_shifted"].mask[2]
    assert (result["domain_split"] == "val").sum() == 8   # a quarter of the 29 scored rows, rounded
    # scored again on their own, the unusable rows get NaN and a warning naming the first one
    model = load_model(result.meta["adversarial"]["model"])
    with pytest.warns(UnusableImagesWarning, match=r"3 of 32 images .* first: row 2, undecodable"):
        again = adversarial_scores(model, result)
    assert np.isnan(again[unscored]).all()
    np.testing.assert_allclose(np.delete(again, unscored), result["adversarial_score"].compressed(),
                               atol=1e-6)
