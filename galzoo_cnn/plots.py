# Licensed under a 3-clause BSD style license - see LICENSE
"""
Science figures of the paper, drawn with matplotlib.

Examples
--------
>>> import numpy as np
>>> from astropy.table import Table
>>> from galzoo_cnn.plots import plot_adversarial_scores
>>> table = Table({"domain": ["training"] * 50 + ["inference"] * 50,
...                "adversarial_score": np.r_[np.linspace(0.5, 1, 50), np.linspace(0, 0.6, 50)]})
>>> ax = plot_adversarial_scores(table)
>>> ax.get_xlabel()
'adversarial score, P(training)'
"""

import numpy as np

__all__ = ["plot_adversarial_scores"]


def plot_adversarial_scores(table, score_column="adversarial_score", domain_column="domain",
                            shifted_column="adversarial_score_shifted", threshold=None, bins=40, ax=None):
    """Histograms of the adversarial scores of the training and inference galaxies (paper Fig. 4).

    Draws the training and inference samples (Fig. 4a) and, where ``table``
    has ``shifted_column``, the training galaxies after the fixed
    adversarial augmentation (Fig. 4b).  ``threshold`` draws a vertical line.

    Returns
    -------
    `matplotlib.axes.Axes`
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    edges = np.linspace(0, 1, bins + 1)
    domain = np.asarray(table[domain_column]).astype(str)
    score = np.ma.filled(np.ma.asarray(table[score_column], dtype=float), np.nan)
    for name, colour in (("training", "tab:green"), ("inference", "tab:brown")):
        values = score[(domain == name) & np.isfinite(score)]
        ax.hist(values, edges, histtype="stepfilled", alpha=0.45, color=colour, density=True,
                label=f"{name} ({len(values)})")
    if shifted_column in table.colnames:
        shifted = np.ma.filled(np.ma.asarray(table[shifted_column], dtype=float), np.nan)
        shift = table.meta.get("adversarial", {}).get("shift") or ("k", "m")
        ax.hist(shifted[np.isfinite(shifted)], edges, histtype="step", lw=2, color="tab:purple",
                density=True, label=f"training, k={shift[0]}, m={shift[1]}")
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1)
    accuracy = table.meta.get("adversarial", {}).get("val_accuracy")
    if accuracy is not None:
        ax.set_title(f"domain classifier: validation accuracy {accuracy:.1%}")
    ax.set_xlabel("adversarial score, P(training)")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    return ax
