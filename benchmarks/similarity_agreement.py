# Licensed under a 3-clause BSD style license - see LICENSE
"""How often a galaxy's nearest neighbours in a model's feature space share its GZ2 class.

The nearest training galaxies of held-out galaxies (paper Figs. 5, 8): for
``--queries`` of sample-gz2's held-out Kaggle GZ2 test rows, the ``--k``
nearest among ``--references`` Kaggle training galaxies
(`galzoo_cnn.similarity.similar_galaxies`), and the fraction of neighbours
with the query's class against the fraction expected by chance.

Usage: python benchmarks/similarity_agreement.py [--data ../shared/data] [--model sample-gz2]
"""

import argparse
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy.table import Table

from galzoo_cnn.similarity import similar_galaxies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", default="sample-gz2")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--references", type=int, default=3000)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    root = args.data / "gz2_kaggle_5class"
    test_rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
    labels = Table.read(root / "labels.csv")
    held_out = set(test_rows["filename"])
    references = labels[[name not in held_out for name in labels["filename"]]][:args.references]
    queries = test_rows[:args.queries]
    pairs = similar_galaxies(queries, references, k=args.k, model=args.model, image_dir=root / "images",
                             progress=False)
    query_class = np.asarray(queries["gz2_five_class"])
    reference_class = np.asarray(references["gz2_five_class"])
    same = query_class[pairs["query_row"]] == reference_class[pairs["reference_row"]]
    chance = sum(np.mean(query_class == c) * np.mean(reference_class == c) for c in set(query_class))
    nearest = pairs["rank"] == 1
    print(f"{args.model}: {len(queries)} queries, {len(references)} references, k={args.k}")
    print(f"neighbours sharing the query's GZ2 class: {same.mean():.3f} "
          f"(nearest only: {same[nearest].mean():.3f}); by chance: {chance:.3f}")


if __name__ == "__main__":
    main()
