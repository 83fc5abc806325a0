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

__all__ = ["plot_adversarial_scores", "plot_gallery", "gallery_caption"]


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


def gallery_caption(row, class_column="predicted_class"):
    """Caption of one galaxy: class and probability, coordinates, redshift and GZ2 class if known.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import gallery_caption
    >>> row = Table({"predicted_class": ["spiral"], "prob_spiral": [0.91], "ra": [179.043],
    ...              "dec": [60.5225], "gz2_class": ["Sc+t"]})[0]
    >>> print(gallery_caption(row))
    spiral 0.91
    179.0430 +60.5225
    GZ2: Sc+t
    """
    names = row.colnames
    if class_column in names and not np.ma.is_masked(row[class_column]):
        label = str(row[class_column])
        probability = row[f"prob_{label}"] if f"prob_{label}" in names else None
        lines = [f"{label} {probability:.2f}" if probability is not None else label]
    else:
        lines = [str(row["status"]) if "status" in names else "not classified"]
    if "ra" in names and "dec" in names:
        lines.append(f"{float(row['ra']):.4f} {float(row['dec']):+.4f}")
    extra = []
    if "z" in names and not np.ma.is_masked(row["z"]):
        extra.append(f"z={float(row['z']):.3f}")
    if "gz2_class" in names and not np.ma.is_masked(row["gz2_class"]):
        extra.append(f"GZ2: {row['gz2_class']}")
    if extra:
        lines.append(" ".join(extra))
    return "\n".join(lines)


def plot_gallery(table, image_dir=None, image_column="filename", caption=gallery_caption, ncols=6,
                 size=2.0, title=None):
    """A grid of galaxy images, each captioned (paper Figs. 9-13).

    Parameters
    ----------
    table : `~astropy.table.Table`
        One row per galaxy, e.g. the output of `galzoo_cnn.classify_table`.
    image_dir : str or `~pathlib.Path`, optional
        Directory the paths of ``image_column`` are relative to.
    caption : callable
        ``caption(row) -> str``; default `gallery_caption` (class and
        probability, RA and Dec, redshift and GZ2 class when present).
    ncols : int
        Images per row of the grid.
    size : float
        Side of each image in inches.
    title : str, optional
        Figure title.

    Returns
    -------
    `matplotlib.figure.Figure`

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.plots import plot_gallery
    >>> sample, image_dir = load_demo_sample()
    >>> figure = plot_gallery(sample[:3], image_dir, caption=lambda row: str(row["gz2_class"]))
    >>> [ax.get_title() for ax in figure.axes]
    ['Sc+t', 'Ei', 'Ei']
    """
    import matplotlib.pyplot as plt

    from .images import read_image, resolve_image_paths

    paths = resolve_image_paths(table, image_column, image_dir, allow_empty=True)
    nrows = max(1, -(-len(table) // ncols))
    ncols = min(ncols, max(len(table), 1))
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.55) * nrows),
                                squeeze=False)
    for ax in axes.flat[len(table):]:
        ax.remove()
    for ax, row, path in zip(axes.flat, table, paths):
        try:
            image = read_image(path, size=int(size * 100)) if path is not None else None
        except (OSError, ValueError):
            image = None
        if image is not None:
            ax.imshow(image)
        ax.set_title(caption(row), fontsize=7.5, linespacing=1.15)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
