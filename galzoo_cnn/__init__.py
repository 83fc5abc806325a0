# Licensed under a 3-clause BSD style license - see LICENSE
"""
galzoo_cnn: morphological classification of galaxies with convolutional
neural networks, after Khramtsov et al. (2022).

Examples
--------
>>> from galzoo_cnn import five_class_labels
>>> from galzoo_cnn.datasets import gz2_sample_path
>>> sorted(five_class_labels(gz2_sample_path()).meta["five_class"]["counts"])[:2]
['cigar_shaped', 'completely_round']
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("galzoo_cnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "unknown"

__all__ = ["__version__", "five_class_labels", "feature_labels", "classify_table", "write_catalog"]

# Imported on first use: classify_table and write_catalog pull in torch and Lightning, which labelling
# does not need; and ``import galzoo_cnn`` stays light, so that the galzoo-cnn command (__main__.py)
# can catch a Ctrl-C while the heavy modules load.
_LAZY = {"classify_table": "classify", "write_catalog": "catalog", "five_class_labels": "labels",
         "feature_labels": "labels"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
