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
from astropy import units as u

from . import taxonomy
from .columns import FEATURE_PREFIX, FEATURE_PROBABILITY_PREFIX
from .tables import require_columns
from .utils._deprecation import keyword_options
from .utils._metrics import feature_auc, known_labels
from .utils._values import floats

__all__ = ["plot_adversarial_scores", "plot_gallery", "gallery_caption", "plot_confusion", "plot_sky",
           "plot_roc_curves", "plot_sample_histograms", "plot_class_histograms", "plot_feature_gallery",
           "plot_similar", "plot_reliability", "FIGURE_FORMATS"]

#: File formats the package writes figures in (PNG for reports, PDF / SVG for papers).
FIGURE_FORMATS = ("png", "pdf", "svg")

#: Colours of the training and inference samples (the paper's green and brown, Figs. 1, 4).
SAMPLE_COLOURS = {"training": "tab:green", "inference": "tab:brown"}


@keyword_options
def plot_adversarial_scores(table, score_column="adversarial_score", domain_column="domain",
                            shifted_column="adversarial_score_shifted", threshold=None, bins=40, ax=None):
    """Histograms of the adversarial scores of the training and inference galaxies (paper Fig. 4).

    Draws the training and inference samples (Fig. 4a) and, where ``table``
    has ``shifted_column``, the training galaxies after the fixed
    adversarial augmentation (Fig. 4b).  ``threshold`` draws a vertical line.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Output of `~galzoo_cnn.adversarial.adversarial_validation`.
    score_column : str
        Column of P(training).
    shifted_column : str
        Column of the scores after the fixed adversarial shift.
    domain_column : str
        Column of ``training`` / ``inference``.
    threshold : float
        Confidence drawn as dashed lines (the paper: 0.7).
    bins : int
        Histogram bins.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import plot_adversarial_scores
    >>> rng = np.random.default_rng(1)
    >>> scores = Table({"adversarial_score": rng.uniform(size=200),
    ...                 "domain": ["training", "inference"] * 100})
    >>> ax = plot_adversarial_scores(scores)
    >>> len(ax.patches) > 0
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    edges = np.linspace(0, 1, bins + 1)
    domain = np.asarray(table[domain_column]).astype(str)
    score = floats(table, score_column)
    for name, colour in SAMPLE_COLOURS.items():
        values = score[(domain == name) & np.isfinite(score)]
        ax.hist(values, edges, histtype="stepfilled", alpha=0.45, color=colour, density=True,
                label=f"{name} ({len(values)})")
    if shifted_column in table.colnames:
        shifted = floats(table, shifted_column)
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


def _probability_column(names, name):
    """The column of a feature's probability (``prob_feature_<name>``) if ``names`` has it, else of a
    class's (``prob_<name>``)."""
    feature = FEATURE_PROBABILITY_PREFIX + name
    return feature if feature in names else f"prob_{name}"


@keyword_options
def gallery_caption(row, class_column="predicted_class", *, feature=None):
    """Caption of one galaxy: class (or feature) and probability, coordinates, redshift, GZ2 class and
    image-quality flags where known.

    Parameters
    ----------
    row : `~astropy.table.Row`
        A classified galaxy.
    class_column : str
        Column of its class.
    feature : str, optional
        Caption the probability of this feature (``prob_feature_<feature>``, else ``prob_<feature>``) instead
        of the class (paper Figs. 9-13).

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
    >>> row = Table({"predicted_class": ["spiral"], "prob_spiral": [0.91], "flag_ring": [True],
    ...              "flag_merger": [False]})[0]
    >>> print(gallery_caption(row))
    spiral 0.91
    odd: ring
    """
    names = row.colnames
    column = None if feature is None else _probability_column(names, feature)
    if column in names and not np.ma.is_masked(row[column]):
        lines = [f"{feature} {float(row[column]):.2f}"]
    elif class_column in names and not np.ma.is_masked(row[class_column]):
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
    if "quality_flags" in names and not np.ma.is_masked(row["quality_flags"]) and int(row["quality_flags"]):
        from .columns import QUALITY_FLAGS

        lines.append("flags: " + ",".join(name for name, bit in QUALITY_FLAGS.items()
                                          if int(row["quality_flags"]) & bit[0]))
    odd = [answer.feature for answer in taxonomy.task("odd_feature").answers
           if f"flag_{answer.feature}" in names and not np.ma.is_masked(row[f"flag_{answer.feature}"])
           and bool(row[f"flag_{answer.feature}"])]
    if odd:  # a features model's verdicts on the odd features (paper Figs. 9-13)
        lines.append("odd: " + ", ".join(odd))
    return "\n".join(lines)


def _scale_bar(ax, n_pixels, fov_arcsec):
    """A white bar of a round number of arcseconds, about a quarter of the frame, bottom left."""
    target = fov_arcsec / 4
    length = max((v for v in (1, 2, 5, 10, 20, 30, 60, 120) if v <= target), default=target)
    pixels = length / fov_arcsec * n_pixels
    x0, y0 = 0.06 * n_pixels, 0.9 * n_pixels
    ax.plot([x0, x0 + pixels], [y0, y0], color="white", linewidth=2, solid_capstyle="butt")
    ax.text(x0 + pixels / 2, y0 - 0.03 * n_pixels, f'{length:g}"', color="white", ha="center",
            va="bottom", fontsize=7)


def _show_image(ax, path, title, pixels):
    """Draw the image at ``path`` (nothing where there is none or it cannot be read) under ``title``,
    without ticks; return the image or `None`."""
    from .images import read_image

    try:
        image = read_image(path, size=pixels) if path is not None else None
    except (OSError, ValueError):
        image = None
    if image is not None:
        ax.imshow(image)
    ax.set_title(title, fontsize=7.5, linespacing=1.15)
    ax.set_xticks([])
    ax.set_yticks([])
    return image


@keyword_options
def plot_gallery(table, image_dir=None, image_column="filename", caption=gallery_caption, ncols=6,
                 size=2.0, title=None, *, agreement=None, fov=None):
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
    agreement : sequence of bool or None, optional
        Per row: `True` draws a green frame (the model agrees with a
        reference classification), `False` a red dashed one, `None` none.
    fov : `~astropy.units.Quantity` or str, optional
        Side of each image on the sky, or the name of a column holding it;
        draws a scale bar labelled in arcseconds.
    image_column : str
        Column of image paths.

    Returns
    -------
    `matplotlib.figure.Figure`

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.plots import plot_gallery
    >>> sample, image_dir = load_demo_sample()
    >>> figure = plot_gallery(sample[:3], image_dir=image_dir, caption=lambda row: str(row["gz2_class"]))
    >>> [ax.get_title() for ax in figure.axes]
    ['Sc+t', 'Ei', 'Ei']
    >>> import astropy.units as u
    >>> figure = plot_gallery(sample[:2], image_dir=image_dir, agreement=[True, False], fov=30 * u.arcsec)
    >>> [ax.spines["left"].get_edgecolor()[:3] for ax in figure.axes]
    [(0.0, 0.5019607843137255, 0.0), (0.8, 0.0, 0.0)]
    """
    import matplotlib.pyplot as plt

    from .images import resolve_image_paths

    paths = resolve_image_paths(table, image_column=image_column, image_dir=image_dir, allow_empty=True)
    nrows = max(1, -(-len(table) // ncols))
    ncols = min(ncols, max(len(table), 1))
    captions = [caption(row) for row in table]
    # each caption line needs about 0.14 inch above its image (7-point text)
    caption_height = 0.14 * max((c.count("\n") + 1 for c in captions), default=1) + 0.05
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + caption_height) * nrows),
                                squeeze=False)
    for ax in axes.flat[len(table):]:
        ax.remove()
    fovs = None
    if fov is not None:
        fov = table[fov].quantity if isinstance(fov, str) else u.Quantity(fov)
        fovs = np.broadcast_to(fov.to_value(u.arcsec), (len(table),))
    for index, (ax, text, path) in enumerate(zip(axes.flat, captions, paths)):
        image = _show_image(ax, path, text, int(size * 100))
        if image is not None and fovs is not None and np.isfinite(fovs[index]):
            _scale_bar(ax, image.shape[1], fovs[index])
        if agreement is not None and agreement[index] is not None:
            colour, style = ("green", "solid") if agreement[index] else ("#cc0000", "dashed")
            for spine in ax.spines.values():
                spine.set(edgecolor=colour, linewidth=3, linestyle=style)
    if title:
        figure.suptitle(title)
    # leave room for the title above the first row's captions
    lines = title.count("\n") + 1 if title else 0
    figure.tight_layout(rect=(0, 0, 1, 1 - (0.1 + 0.22 * lines) / figure.get_figheight()) if title else None)
    return figure


def plot_confusion(metrics, *, normalize=True, ax=None):
    """The confusion matrix of `~galzoo_cnn.evaluation.class_metrics` as an annotated image.

    Parameters
    ----------
    metrics : `~astropy.table.QTable`
        Output of `~galzoo_cnn.evaluation.class_metrics`.
    normalize : bool
        Colour by the fraction of each true class (the recall on the
        diagonal); the counts are written in every cell either way.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`
        ``ax.figure.caption`` holds a caption for the figure.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.evaluation import class_metrics
    >>> from galzoo_cnn.plots import plot_confusion
    >>> t = Table({"truth": ["a", "a", "b"], "predicted_class": ["a", "b", "b"]})
    >>> ax = plot_confusion(class_metrics(t, "truth", n_bootstrap=0))
    >>> [text.get_text() for text in ax.texts]
    ['1', '1', '0', '1']
    """
    import matplotlib.pyplot as plt

    from .evaluation import confusion_table

    counts = confusion_table(metrics)
    classes = counts.colnames[1:]
    matrix = np.array([[row[c] for c in classes] for row in counts], dtype=float)
    shown = matrix / np.maximum(matrix.sum(1, keepdims=True), 1) if normalize else matrix
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.1 * len(classes) + 1.5))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{int(value)}", ha="center", va="center",
                color="white" if shown[i, j] > 0.6 * np.max(shown) else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), list(counts["true_class"]))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.figure.colorbar(image, ax=ax, label="fraction of the true class" if normalize else "galaxies")
    accuracy = metrics.meta.get("accuracy")
    ax.figure.caption = (f"Confusion matrix of {int(matrix.sum())} galaxies"
                         + (f" (accuracy {accuracy:.3f})" if accuracy is not None else "")
                         + ": rows are the true classes, columns the predicted ones; cells give counts"
                         + (", colours the fraction of each true class." if normalize else "."))
    return ax


def plot_reliability(reliability, *, ax=None):
    """The reliability diagram: how often the model is right against how sure it says it is.

    Parameters
    ----------
    reliability : `~astropy.table.QTable`
        Output of `~galzoo_cnn.calibration.reliability_table`.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`
        ``ax.figure.caption`` holds a caption for the figure.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.calibration import reliability_table
    >>> from galzoo_cnn.plots import plot_reliability
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> ax = plot_reliability(reliability_table(p, [0, 1, 1], classes=["round", "spiral"], n_bins=5))
    >>> [line.get_label() for line in ax.get_lines()][:2]   # 0.9 right, 0.8 wrong, 0.7 right
    ['perfect calibration', 'top label (ECE 0.400; exact probabilities: 0.333)']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration")
    curves = list(dict.fromkeys(str(c) for c in reliability["curve"]))
    for curve in curves:
        rows = reliability[(reliability["curve"] == curve) & (reliability["n"] > 0)]
        centre = np.asarray(rows["mean_probability"], dtype=float)
        frequency = np.asarray(rows["frequency"], dtype=float)
        if curve == "top_label":
            exact = reliability.meta.get("ece_if_calibrated")  # what exact probabilities read on these rows
            ax.plot(centre, frequency, "o-", color="k", lw=2,
                    label=f"top label (ECE {reliability.meta['ece']:.3f}"
                          + (f"; exact probabilities: {exact[0]:.3f})" if exact else ")"))
        else:
            ece = reliability.meta.get("class_ece", {}).get(curve, np.nan)
            ax.plot(centre, frequency, ".-", lw=1, alpha=0.8, label=f"{curve} (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability (mean in the bin)")
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=7, loc="upper left")
    ax.figure.caption = (f"Reliability diagram of {reliability.meta['n']} galaxies: for bins of the "
                         f"predicted probability, the fraction of galaxies for which the prediction is right "
                         f"(top label: the class of highest probability; per class: P(class) against "
                         f"membership). Points "
                         f"on the diagonal are calibrated; the expected calibration error (ECE) is the "
                         f"count-weighted mean distance to it.")
    return ax


def plot_sky(table, *, class_column="predicted_class", ra_column="ra", dec_column="dec", ax=None):
    """Positions of the galaxies of each class on the sky, in a Mollweide projection (paper Fig. 6).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Galaxies with coordinates (angles, or plain degrees) and a class.
    class_column : str
        Column of classes; masked or empty rows are left out.
    ra_column, dec_column : str
        Coordinate columns.
    ax : `matplotlib.axes.Axes`, optional
        An axes with ``projection="mollweide"``; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`
        One scatter collection per class, in sorted order;
        ``ax.figure.caption`` holds a caption for the figure.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import plot_sky
    >>> ax = plot_sky(Table({"ra": [10.0, 200.0], "dec": [0.0, 30.0], "predicted_class": ["a", "b"]}))
    >>> [len(c.get_offsets()) for c in ax.collections]
    [1, 1]
    """
    import matplotlib.pyplot as plt

    from .samples import sky_coordinates

    coords = sky_coordinates(table, ra_column=ra_column, dec_column=dec_column)
    classes = np.ma.filled(np.ma.asarray(table[class_column]).astype(str), "")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8), subplot_kw={"projection": "mollweide"})
    # Mollweide axes take longitudes in [-pi, pi]: RA wrapped at 180 degrees, east to the left
    lon = -coords.ra.wrap_at(180 * u.deg).radian
    lat = coords.dec.radian
    names = sorted(set(classes) - {""})
    for name in names:
        chosen = classes == name
        ax.scatter(lon[chosen], lat[chosen], s=2, alpha=0.6, label=f"{name} ({int(chosen.sum())})")
    ax.set_xticks(np.radians([-150, -120, -90, -60, -30, 0, 30, 60, 90, 120, 150]),
                  ["150", "120", "90", "60", "30", "0", "330", "300", "270", "240", "210"])
    ax.grid(True, lw=0.3)
    ax.legend(loc="lower right", fontsize=8, markerscale=4, frameon=False)
    counts = ", ".join(f"{name} {int((classes == name).sum())}" for name in names)
    ax.figure.caption = (f"Sky positions (RA, Dec; Mollweide projection, RA increasing to the left) of "
                         f"{int(sum((classes == n).sum() for n in names))} galaxies by {class_column}: "
                         f"{counts}.")
    return ax


def plot_roc_curves(table, features, *, label_prefix=FEATURE_PREFIX,
                    probability_prefix=FEATURE_PROBABILITY_PREFIX, ax=None):
    """ROC curves of a multi-label model, one per feature, with their AUC in the legend.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Labelled rows (see `~galzoo_cnn.evaluation.feature_metrics`).
    features : sequence of str
        Features to draw.
    label_prefix, probability_prefix : str
        Column-name prefixes.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`
        One line per feature (false-positive rate, true-positive rate), then
        the diagonal; ``ax.figure.caption`` holds a caption.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import plot_roc_curves
    >>> t = Table({"label_bar": [True, False, True, False], "prob_feature_bar": [0.9, 0.2, 0.6, 0.7]})
    >>> ax = plot_roc_curves(t, ["bar"])
    >>> ax.get_legend().get_texts()[0].get_text()
    'bar (AUC 0.750, n=4)'
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    many = len(features) > 6  # the paper's 34 features: legend beside the axes, 20 colours x 2 styles
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 5) if many else (5.5, 5))
    colours = plt.get_cmap("tab20").colors if many else [None]
    drawn, one_class = 0, []
    for feature in features:
        y, p = known_labels(table[label_prefix + feature], table[probability_prefix + feature])
        if not 0 < y.sum() < len(y):
            one_class.append(feature)
            continue
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, lw=1.2, color=colours[drawn % len(colours)],
                ls="-" if drawn < len(colours) else "--",
                label=f"{feature} (AUC {feature_auc(y, p):.3f}, n={len(y)})")
        drawn += 1
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_aspect("equal")
    if not drawn:  # e.g. a sample chosen to show a feature: every known label is yes
        ax.text(0.5, 0.5, "no feature has both yes and no labels", ha="center", va="center")
    elif many:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  ncol=1 if drawn <= 20 else 2)
    else:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.figure.caption = ("ROC curves of the model's feature probabilities against the volunteers' labels "
                         "(rows whose GZ2 task is not well sampled left out); the dotted line is chance."
                         + (f"  Not drawn, their known labels all alike: {', '.join(one_class)}."
                            if one_class else ""))
    return ax


def _unit(table, column):
    unit = getattr(table[column], "unit", None)
    return f" [{unit}]" if unit not in (None, "") else ""


def plot_sample_histograms(training_table, inference_table, columns, *, labels=None, bins=30, axes=None):
    """Histograms of the training and inference samples, one panel per column (paper Fig. 1).

    The paper compares the r-band magnitude and Petrosian radius R90 (and,
    in Fig. 2, redshift and u - r) of its training (GZ2) and inference
    galaxies, green and brown; any numeric columns both tables share work.

    Parameters
    ----------
    training_table, inference_table : `~astropy.table.Table`
        The two samples.
    columns : sequence of str
        Columns to compare (e.g. ``['petroMag_r', 'petroR90_r', 'z']``).
    labels : sequence of str, optional
        Axis labels; default the column names with their units.
    bins : int
        Bins per panel, shared by both samples.
    axes : sequence of `matplotlib.axes.Axes`, optional
        One per column; default a new figure.

    Returns
    -------
    list of `matplotlib.axes.Axes`
        ``axes[0].figure.caption`` holds the caption (sample sizes, medians).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import plot_sample_histograms
    >>> training = Table({"z": [0.02, 0.05, 0.07]})
    >>> inference = Table({"z": [0.06, 0.08, 0.09, 0.095]})
    >>> axes = plot_sample_histograms(training, inference, ["z"])
    >>> [p.get_label() for p in axes[0].patches[:1]]
    ['training (3)']
    """
    import matplotlib.pyplot as plt

    if isinstance(columns, str):
        columns = [columns]
    require_columns(training_table, columns, role="training")
    require_columns(inference_table, columns, role="inference")
    if axes is None:
        _, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.6), squeeze=False)
        axes = list(axes.flat)
    parts = []
    for index, (ax, column) in enumerate(zip(axes, columns)):
        samples = {"training": floats(training_table, column), "inference": floats(inference_table, column)}
        values = np.concatenate([v[np.isfinite(v)] for v in samples.values()])
        edges = np.histogram_bin_edges(values, bins) if len(values) else np.linspace(0, 1, bins + 1)
        for name, v in samples.items():
            v = v[np.isfinite(v)]
            ax.hist(v, edges, histtype="stepfilled", alpha=0.45, color=SAMPLE_COLOURS[name], density=True,
                    label=f"{name} ({len(v)})")
            parts.append(f"{column} median {np.median(v):.3g} ({name})" if len(v) else f"no {name} {column}")
        ax.set_xlabel(labels[index] if labels else column + _unit(training_table, column))
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize=8)
    axes[0].figure.caption = (f"Distributions of {', '.join(columns)} for the training (green, "
                              f"{len(training_table)} rows) and inference (brown, {len(inference_table)} "
                              f"rows) samples; " + "; ".join(parts) + ".")
    return list(axes)


def plot_class_histograms(table, column, *, class_column="predicted_class", bins=30, ax=None):
    """The distribution of one quantity for each class, normalised per class (paper Fig. 7: redshift).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Classified galaxies.
    column : str
        The quantity (e.g. ``'z'``).
    class_column : str
        Column of classes; masked or empty rows are left out.
    bins : int
        Bins shared by all classes.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.

    Returns
    -------
    `matplotlib.axes.Axes`
        One step histogram per class, in sorted order; ``ax.figure.caption``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from galzoo_cnn.plots import plot_class_histograms
    >>> t = Table({"z": [0.02, 0.03, 0.08, 0.09], "predicted_class": ["spiral", "spiral", "edge_on", ""]})
    >>> ax = plot_class_histograms(t, "z")
    >>> [line.get_label() for line in ax.patches]
    ['edge_on (1)', 'spiral (2)']
    """
    import matplotlib.pyplot as plt

    require_columns(table, [column, class_column])
    values = floats(table, column)
    classes = np.ma.filled(np.ma.asarray(table[class_column]).astype(str), "")
    usable = np.isfinite(values) & (classes != "")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    edges = np.histogram_bin_edges(values[usable], bins) if usable.any() else np.linspace(0, 1, bins + 1)
    names = sorted(set(classes[usable]))
    for name in names:
        ax.hist(values[usable & (classes == name)], edges, histtype="step", lw=1.5, density=True,
                label=f"{name} ({int((usable & (classes == name)).sum())})")
    ax.set_xlabel(column + _unit(table, column))
    ax.set_ylabel("density (per class)")
    ax.legend(frameon=False, fontsize=8)
    medians = ", ".join(f"{n} {np.median(values[usable & (classes == n)]):.3g}" for n in names)
    ax.figure.caption = (f"Distribution of {column} for each {class_column} ({int(usable.sum())} galaxies, "
                         f"each "
                         f"histogram normalised to unit area); medians: {medians}.")
    return ax


def plot_feature_gallery(table, feature, *, threshold=None, n=12, image_dir=None, image_column="filename",
                         ncols=6, fov=None, seed=None):
    """Galaxies with a feature, captioned with its probability, RA, Dec and z (paper Figs. 9-13).

    Shows the ``n`` galaxies of highest ``prob_feature_<feature>`` (or ``prob_<class>``) at or above
    ``threshold`` (or, with ``seed``, a random ``n`` of them, which shows the
    range of the class rather than its clearest members).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Output of `~galzoo_cnn.classify_table` with a multi-label model (or
        any table with ``prob_feature_<feature>`` or ``prob_<class>``).
    feature : str
        The feature (or class) to show.
    threshold : float, optional
        Lowest probability shown; default: the galaxies whose
        ``flag_<feature>`` is set (the model card's threshold), else 0.5.
    n : int
        Galaxies shown.
    image_dir, image_column, ncols, fov
        As for `plot_gallery` (``fov`` draws a scale bar in arcseconds).
    seed : int, optional
        Draw a random selection above the threshold.

    Returns
    -------
    `matplotlib.figure.Figure`
        ``figure.caption`` holds the caption.

    Examples
    --------
    >>> from galzoo_cnn import classify_table
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.plots import plot_feature_gallery
    >>> sample, image_dir = load_demo_sample()
    >>> classified = classify_table(sample, image_dir=image_dir, progress=False)
    >>> figure = plot_feature_gallery(classified, "spiral", n=4, image_dir=image_dir, threshold=0.0)
    >>> len(figure.axes)
    4
    """
    column = _probability_column(table.colnames, feature)
    require_columns(table, column, role="probability")
    probability = floats(table, column)
    if threshold is None and f"flag_{feature}" in table.colnames:
        passed = np.ma.filled(np.ma.asarray(table[f"flag_{feature}"]), False).astype(bool)
        rule = "flagged by the model card's threshold"
    else:
        threshold = 0.5 if threshold is None else float(threshold)
        passed = probability >= threshold
        rule = f"{column} >= {threshold:.2f}"
    chosen = np.flatnonzero(passed)
    if seed is None:
        chosen = chosen[np.argsort(-probability[chosen], kind="stable")][:n]
    else:
        chosen = np.sort(np.random.default_rng(seed).permutation(chosen)[:n])
    if not len(chosen):
        from .exceptions import InputError

        raise InputError(f"no galaxy is {rule} (highest {column}: {np.nanmax(probability):.3g})")
    figure = plot_gallery(table[chosen], image_dir=image_dir, image_column=image_column, ncols=ncols, fov=fov,
                          caption=lambda row: gallery_caption(row, feature=feature))
    figure.caption = (f"{len(chosen)} of the {int(passed.sum())} galaxies {rule} "
                      f"({'random draw' if seed is not None else 'highest probability first'}); "
                      f"each captioned with the probability, RA and Dec (deg), and redshift where known.")
    return figure


def plot_similar(pairs, query_table, reference_table, *, image_dir=None, reference_image_dir=None,
                 image_column="filename", class_column=None, size=1.6):
    """Query galaxies (first column) and their nearest reference galaxies (paper Figs. 5 and 8).

    Parameters
    ----------
    pairs : `~astropy.table.Table`
        Output of `~galzoo_cnn.similarity.similar_galaxies`.
    query_table, reference_table : `~astropy.table.Table`
        The tables given to `~galzoo_cnn.similarity.similar_galaxies`.
    image_dir, reference_image_dir : str or `~pathlib.Path`, optional
        Directories of the query and reference images (the second defaults
        to the first).
    image_column : str
        Column of image paths.
    class_column : str, optional
        A class column of both tables to caption each image with.
    size : float
        Side of each image in inches.

    Returns
    -------
    `matplotlib.figure.Figure`
        One row per query galaxy; ``figure.caption`` holds the caption.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.plots import plot_similar
    >>> from galzoo_cnn.similarity import embed_table, similar_galaxies
    >>> sample, image_dir = load_demo_sample()
    >>> sample = embed_table(sample, image_dir=image_dir, progress=False)
    >>> pairs = similar_galaxies(sample[:2], sample[2:], k=3)
    >>> figure = plot_similar(pairs, sample[:2], sample[2:], image_dir=image_dir)
    >>> len(figure.axes)
    8
    """
    import matplotlib.pyplot as plt

    from .images import resolve_image_paths

    query_paths = resolve_image_paths(query_table, image_column=image_column, image_dir=image_dir,
                                      allow_empty=True)
    reference_dir = image_dir if reference_image_dir is None else reference_image_dir
    reference_paths = resolve_image_paths(reference_table, image_column=image_column, image_dir=reference_dir,
                                          allow_empty=True)
    queries = list(dict.fromkeys(np.asarray(pairs["query_row"]).tolist()))
    k = int(np.max(pairs["rank"])) if len(pairs) else 0
    figure, axes = plt.subplots(len(queries), k + 1, figsize=(size * (k + 1), (size + 0.4) * len(queries)),
                                squeeze=False)

    for axes_row, query in zip(axes, queries):
        mine = pairs[pairs["query_row"] == query]
        label = f"\n{query_table[class_column][query]}" if class_column else ""
        _show_image(axes_row[0], query_paths[query], f"query {query}{label}", int(size * 100))
        for spine in axes_row[0].spines.values():
            spine.set(edgecolor="tab:brown", linewidth=3)
        for ax, pair in zip(axes_row[1:], mine):
            label = f"\n{reference_table[class_column][pair['reference_row']]}" if class_column else ""
            _show_image(ax, reference_paths[pair["reference_row"]], f"{pair['similarity']:.3f}{label}",
                        int(size * 100))
        for ax in axes_row[1 + len(mine):]:
            ax.remove()
    figure.tight_layout()
    figure.caption = (f"Each row: a query galaxy (brown frame) and its {k} nearest reference galaxies in the "
                      f"model's feature space, most similar first, titled with the cosine similarity"
                      + (f" and {class_column}" if class_column else "") + ".")
    return figure
