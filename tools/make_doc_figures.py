"""Draw the evaluation figures shown in the documentation from the project's real data.

Usage: python tools/make_doc_figures.py [SHARED_DATA_DIR] [--only demo]  (default ../shared/data)

Writes docs/_static/evaluation/*.png: the default model (conf.default_model) evaluated on
its held-out Kaggle GZ2 test rows (confusion matrix, and a screenshot of the
HTML report taken with headless Chromium where installed), a gallery of the
Hart et al. (2016) GZ2 galaxies the model calls spirals, the nearest
training neighbours of a few test galaxies, and the sky map of the Hart16
five classes; and docs/_static/demo_gallery.png, the gallery of ``galzoo-cnn demo``
(``--only demo`` draws that one alone), printing the demo's comparisons that the
classify page quotes.  Everything runs on the CPU in a few minutes.
"""

import argparse
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

import matplotlib

matplotlib.use("agg")

import astropy.units as u  # noqa: E402
from astropy.table import Table, vstack  # noqa: E402

from galzoo_cnn import classify_table  # noqa: E402
from galzoo_cnn.config import conf  # noqa: E402
from galzoo_cnn.demo import run_demo  # noqa: E402
from galzoo_cnn.labels import five_class_labels  # noqa: E402
from galzoo_cnn.plots import plot_feature_gallery, plot_similar, plot_sky  # noqa: E402
from galzoo_cnn.report import evaluate_model, write_report  # noqa: E402
from galzoo_cnn.similarity import similar_galaxies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_static" / "evaluation"


def demo_gallery():
    """The demo's gallery (both bundled models on the bundled Hart et al. galaxies) and its comparisons."""
    with tempfile.TemporaryDirectory() as work:
        demo = run_demo(work, progress=False)
        shutil.copyfile(demo.paths["gallery"], ROOT / "docs" / "_static" / "demo_gallery.png")
    demo.features.pprint_all()
    print(demo.agreement)
    print("wrote docs/_static/demo_gallery.png")


def main(data):
    OUT.mkdir(parents=True, exist_ok=True)
    kaggle_images = data / "gz2_kaggle_5class" / "images"
    test_rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
    work = Path(tempfile.mkdtemp())
    metrics = evaluate_model(test_rows, output=work / "evaluation", image_dir=kaggle_images, n_bootstrap=1000)
    print(f"{conf.default_model} on {metrics.meta['n']} held-out Kaggle GZ2 galaxies: "
          f"accuracy {metrics.meta['accuracy']:.3f}")
    for name in ("confusion", "mistakes"):
        shutil.copyfile(work / "evaluation" / f"{name}.png", OUT / f"{name}.png")
    report = write_report(work / "evaluation")
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if browser:
        subprocess.run([browser, "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={OUT / 'report.png'}", "--window-size=1000,1400", report.as_uri()],
                       check=True, capture_output=True, timeout=120)

    hart_dir = data / "gz2_hart16_sdss"
    hart = Table.read(hart_dir / "gz2_hart16.csv")
    classified = classify_table(hart, image_dir=hart_dir / "images", progress=False)
    figure = plot_feature_gallery(classified, "spiral", n=12, image_dir=hart_dir / "images",
                                  fov=30 * u.arcsec)  # 300 px at 0.1"/px
    figure.savefig(OUT / "spiral_gallery.png", dpi=80, bbox_inches="tight")

    everyone = vstack([hart, Table.read(hart_dir / "gz2_hart16_no_images.csv")], metadata_conflicts="silent")
    ax = plot_sky(five_class_labels(everyone), class_column="gz2_five_class")
    ax.figure.savefig(OUT / "sky.png", dpi=80, bbox_inches="tight")

    labels = Table.read(data / "gz2_kaggle_5class" / "labels.csv")
    held_out = set(test_rows["filename"])
    training = labels[[name not in held_out for name in labels["filename"]]]
    queries = test_rows[[0, 2, 7, 14]]
    pairs = similar_galaxies(queries, training[:3000], k=5, image_dir=kaggle_images)
    figure = plot_similar(pairs, queries, training[:3000], image_dir=kaggle_images,
                          class_column="gz2_five_class")
    figure.savefig(OUT / "similar.png", dpi=80, bbox_inches="tight")
    for path in sorted(OUT.glob("*.png")):
        print(f"wrote {path.relative_to(ROOT)}")
    demo_gallery()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--only", choices=("demo",), help="draw the demo gallery alone")
    args = parser.parse_args()
    if args.only == "demo":
        demo_gallery()
    else:
        main(args.data)
