# Licensed under a 3-clause BSD style license - see LICENSE
"""
Evaluating a model on a labelled table, and one self-contained HTML report of the result.

`evaluate_model` classifies a labelled table with a model and writes, as
one all-or-nothing set of files in a directory, what the paper reports for
it (Sect. 5): the classified table, the metrics as ECSV, LaTeX and HTML
tables (per-class precision / recall / F1 with bootstrap intervals and the
confusion matrix for a single-label model; per-feature ROC AUC, average
precision and acceptance thresholds for a multi-label one), the figures as
PNG with their captions, and ``summary.json`` (model card, provenance,
headline numbers).  `write_report` turns such a directory into one HTML
file with every figure embedded, which opens offline in any browser.
``galzoo-cnn evaluate`` and ``galzoo-cnn report`` run the two.

Examples
--------
>>> from galzoo_cnn.report import SUMMARY_FILE
>>> SUMMARY_FILE  # what makes a directory an evaluation (see evaluate_model, write_report)
'summary.json'
"""

import base64
import html
import io
import json
import re
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from .columns import FEATURE_PREFIX, FIVE_CLASS_COLUMN
from .config import conf
from .evaluation import class_metrics, confusion_table, feature_metrics, match_labels
from .exceptions import InputError
from .io._transaction import FileSetTransaction
from .objectives import MultiLabel, SingleLabel
from .plots import FIGURE_FORMATS
from .tables import as_table, require_columns
from .utils._cards import ModelCard
from .utils._deprecation import keyword_options
from .utils._json import dumps as strict_json

__all__ = ["evaluate_model", "write_report", "SUMMARY_FILE"]

#: The file of an evaluation directory that says what is in it.
SUMMARY_FILE = "summary.json"
_TABLE_FORMATS = {"ecsv": "ascii.ecsv", "tex": "ascii.latex", "html": "ascii.html"}


def _latex_safe(table):
    """A copy whose column names and strings have LaTeX's special underscore escaped, and whose NaN
    values are masked (written ``--``)."""
    from astropy.table import MaskedColumn, Table

    safe = Table(table, copy=True)
    for name in safe.colnames:
        if safe[name].dtype.kind in "US":
            safe[name] = [str(v).replace("_", r"\_") for v in safe[name]]
        elif safe[name].dtype.kind == "f":
            values = np.ma.getdata(safe[name])
            safe[name] = MaskedColumn(values, mask=np.ma.getmaskarray(safe[name]) | np.isnan(values),
                                      format=safe[name].info.format)
        safe.rename_column(name, name.replace("_", r"\_"))
    return safe


def _write_latex(table, path, caption):
    """A LaTeX table with its caption; missing values as ``--``."""
    from astropy.io import ascii

    _latex_safe(table).write(path, format="ascii.latex", fill_values=[(ascii.masked, "--")],
                             latexdict={"caption": caption.replace("_", r"\_")})


def _class_products(classified, classes, *, truth_column, grouped, n_bootstrap, rule, images):
    """Single-label models: per-class metrics, the confusion matrix and its figure, the sky map."""
    from .evaluation import paired_labels
    from .plots import plot_class_histograms, plot_confusion, plot_reliability, plot_sky

    truth_column = truth_column or FIVE_CLASS_COLUMN
    truth, _, _ = paired_labels(classified, truth_column, grouped=grouped)
    in_order = None if grouped or not set(truth) <= set(classes) else list(classes)  # the model's order
    metrics = class_metrics(classified, truth_column, classes=in_order, grouped=grouped,
                            n_bootstrap=n_bootstrap)
    tables = {"metrics": metrics, "confusion": confusion_table(metrics),
              "confusion_normalized": confusion_table(metrics, normalize=True)}
    figures = {"confusion": plot_confusion(metrics).figure}
    reliability = _reliability(classified, truth_column, classes) if not grouped else None
    if reliability is not None:
        tables["reliability"] = reliability
        figures["reliability"] = plot_reliability(reliability).figure
    if {"ra", "dec"} <= set(classified.colnames):
        figures["sky"] = plot_sky(classified).figure
    if "z" in classified.colnames:
        figures["redshift"] = plot_class_histograms(classified, "z").figure
    wrong = _most_confident_mistakes(classified, truth_column, grouped)
    if len(wrong):
        from .plots import gallery_caption, plot_gallery

        figure = plot_gallery(classified[wrong], image_dir=images["image_dir"],
                              image_column=images["image_column"], ncols=6,
                              caption=lambda row: f"{gallery_caption(row)}\ntruth: {row[truth_column]}")
        figure.caption = (f"The {len(wrong)} most confident disagreements with {truth_column}: each image "
                          f"captioned with the model's class and probability, then the label.")
        figures["mistakes"] = figure
    headline = {"accuracy": metrics.meta["accuracy"], "n": metrics.meta["n"], "truth_column": truth_column,
                "accuracy_interval": [metrics.meta.get("accuracy_low"), metrics.meta.get("accuracy_high")]}
    if reliability is not None:
        headline["ece"] = reliability.meta["ece"]
        headline["ece_if_calibrated"] = reliability.meta["ece_if_calibrated"]
    return tables, figures, headline


def _reliability(classified, truth_column, classes):
    """The reliability table of the rows whose label is one of the model's classes (None if < 2)."""
    from .calibration import reliability_table
    from .evaluation import labelled_probabilities

    probabilities, labels = labelled_probabilities(classified, truth_column, classes)
    if len(labels) < 2:
        return None
    return reliability_table(probabilities, labels, classes=classes)


def _most_confident_mistakes(classified, truth_column, grouped, n=12):
    """Rows of the ``n`` disagreements with the labels that the model was surest of."""
    from .evaluation import paired_labels

    truth, predicted, kept = paired_labels(classified, truth_column, grouped=grouped)
    rows = np.flatnonzero(kept)[truth != predicted]
    if not len(rows):
        return rows
    confidence = [float(classified[f"prob_{classified['predicted_class'][r]}"][r]) for r in rows]
    return rows[np.argsort(confidence, kind="stable")[::-1][:n]]


def _feature_products(classified, classes, *, truth_column, grouped, n_bootstrap, rule, images):
    """Multi-label models: per-feature AUC, average precision, thresholds and ROC curves."""
    from .plots import plot_roc_curves

    metrics = feature_metrics(classified, rule=rule, n_bootstrap=n_bootstrap)
    if not len(metrics):
        raise InputError("the table has no label_<feature> column matching the model's features: label it "
                         "first (galzoo_cnn.labels.feature_labels or decals_feature_labels)")
    figures = {"roc": plot_roc_curves(classified, [str(f) for f in metrics["feature"]]).figure}
    headline = {"mean_roc_auc": metrics.meta["mean_roc_auc"], "n_features": len(metrics), "rule": rule,
                "n_in_mean": metrics.meta["n_in_mean"],
                "mean_roc_auc_interval": [metrics.meta[f"mean_roc_auc_{side}"] for side in ("low", "high")]}
    return {"metrics": metrics}, figures, headline


def _truth_columns(table, labels, truth_column, classes):
    return [truth_column or FIVE_CLASS_COLUMN]


def _feature_label_columns(table, labels, truth_column, classes):
    """No column is needed by name (each feature is scored where it is labelled), but one of the model's
    features must be, in the table or in ``labels``: checked before the images are classified."""
    present = set(table.colnames) | set(() if labels is None else labels.colnames)
    wanted = [f"{FEATURE_PREFIX}{feature}" for feature in classes]
    if not present & set(wanted):
        where = "the table has no" if labels is None else "neither the table nor labels has a"
        raise InputError(f"{where} label column for the model's features ({', '.join(wanted[:3])}, ...): "
                         f"make them from volunteer votes with galzoo_cnn.labels.feature_labels (GZ2; "
                         f"galzoo-cnn labels --features) or decals_feature_labels (GZ DECaLS; galzoo-cnn "
                         f"labels --gz-decals)")
    return []


#: What an evaluation contains, by the kind of objective (Sect. 5 of the paper for each): the columns
#: the labelled table needs (checked before the classification), and the products.
_EVALUATIONS = {SingleLabel: (_truth_columns, _class_products),
                MultiLabel: (_feature_label_columns, _feature_products)}


def _evaluation_for(model):
    for kind, evaluation in _EVALUATIONS.items():
        if isinstance(model.objective, kind):
            return evaluation
    raise InputError(f"no evaluation is defined for the objective {model.objective.name!r}")


def _rendered(figure, formats):
    """The figure's bytes in each format (PNG first); the figure is closed."""
    import matplotlib.pyplot as plt

    rendered = {}
    for fmt in dict.fromkeys(("png", *formats)):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight")
        rendered[fmt] = buffer.getvalue()
    plt.close(figure)
    return rendered


def evaluate_model(table, *, output, model=None, truth_column=None, grouped=False, image_column="filename",
                   image_dir=None, rule="best_f1", n_bootstrap=1000, batch_size=256, device=None,
                   progress=True, labels=None, id_column=None, radius=1 * u.arcsec, figure_formats=("png",),
                   reframe=True, tta=False, decision="most_probable", overwrite=False):
    """Classify a labelled table and write the paper's metrics, tables and figures for it.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        Galaxies with images and labels: a class column for a single-label
        model (``truth_column``), ``label_<feature>`` columns for a
        multi-label one.
    output : str or `~pathlib.Path`
        Directory written (created; one all-or-nothing set of files).
    model : str, path or `~galzoo_cnn.models.GalaxyClassifier`, optional
        Default ``conf.default_model``.
    truth_column : str, optional
        True classes; default ``gz2_five_class``.
    grouped : bool
        Compare broad groups (smooth / edge-on / spiral), e.g. for Galaxy
        Zoo 1 classes or ``gz2_class`` strings (`~galzoo_cnn.evaluation.class_metrics`).
    image_column, image_dir, batch_size, device, progress
        As for `~galzoo_cnn.classify_table`.
    rule : {'best_f1', 'youden', 'precision'}
        Threshold rule of a multi-label model.
    n_bootstrap : int
        Resamplings for the confidence intervals.
    labels : `~astropy.table.Table` or path, optional
        Labels made elsewhere (``label_<feature>`` columns, e.g. GZ DECaLS
        labels from `~galzoo_cnn.labels.decals_feature_labels` for the deep
        test), joined to the classified rows by ``id_column`` or by sky
        position within ``radius`` (`~galzoo_cnn.evaluation.match_labels`);
        rows without a match are left out.
    id_column : str, optional
        Identifier column of ``table`` and ``labels``.
    radius : `~astropy.units.Quantity`
        Match radius of a positional match.
    figure_formats : sequence of str
        Formats of the figure files among `galzoo_cnn.plots.FIGURE_FORMATS` (e.g.
        ``("png", "pdf")`` for a paper); PNG is always written.
    reframe, tta, decision
        As for `~galzoo_cnn.classify_table` (rows reframed from
        ``cutout_fov`` / ``petroR90_r`` where the table has them; test-time
        augmentation; how the predicted class is chosen).
    overwrite : bool
        Replace an earlier evaluation in ``output``.

    Returns
    -------
    `~astropy.table.QTable`
        The metrics table; ``meta['files']`` lists what was written.

    Examples
    --------
    >>> import tempfile, json
    >>> from pathlib import Path
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.report import evaluate_model
    >>> sample, image_dir = load_demo_sample()
    >>> out = Path(tempfile.mkdtemp()) / "evaluation"
    >>> metrics = evaluate_model(sample, output=out, truth_column="gz2_class", grouped=True,
    ...                          image_dir=image_dir, n_bootstrap=0, progress=False)
    >>> summary = json.loads((out / "summary.json").read_text())
    >>> summary["headline"]["accuracy"] == metrics.meta["accuracy"]
    True
    """
    output = Path(output)
    if isinstance(figure_formats, str):
        figure_formats = [figure_formats]
    unknown = sorted(set(figure_formats) - set(FIGURE_FORMATS))
    if unknown:
        raise InputError(f"figure_formats: unknown format(s) {unknown}; expected some of {FIGURE_FORMATS}")
    if (output / SUMMARY_FILE).exists() and not overwrite:
        raise InputError(f"{output} already holds an evaluation ({SUMMARY_FILE}); pass overwrite=True "
                         f"(--overwrite) to replace it")
    # imported here: torch loads in seconds, and write_report (the HTML page) never needs it
    from ._runs import as_model
    from .classify import classify_table

    classifier = as_model(conf.default_model if model is None else model)
    needed, products = _evaluation_for(classifier)
    table = as_table(table)
    if labels is not None:
        labels = as_table(labels, copy=False)
    # before the long part
    require_columns(table, needed(table, labels, truth_column, classifier.classes), role="label")
    classified = classify_table(table, model=classifier, image_column=image_column, image_dir=image_dir,
                                batch_size=batch_size, device=device, progress=progress, reframe=reframe,
                                tta=tta, decision=decision, overwrite=True)
    if labels is not None:
        classified = match_labels(classified, labels, id_column=id_column, radius=radius)
    tables, figures, headline = products(classified, classifier.classes, truth_column=truth_column,
                                         grouped=grouped, n_bootstrap=n_bootstrap, rule=rule,
                                         images={"image_dir": image_dir, "image_column": image_column})
    captions = {name: getattr(figure, "caption", "") for name, figure in figures.items()}
    images = {name: _rendered(figure, figure_formats) for name, figure in figures.items()}
    summary = {"model": classifier.card, "headline": headline, "captions": captions,
               "provenance": classified.meta.get("provenance", {}),
               "tables": list(tables), "figures": list(images), "n_rows": len(classified),
               "status_counts": classified.meta.get("provenance", {}).get("status_counts", "")}
    targets = {output / "classified.ecsv": lambda p: classified.write(p, format="ascii.ecsv")}
    for name, result in tables.items():
        caption = f"{name.replace('_', ' ').capitalize()} of {classifier.card.name}."
        for suffix, fmt in _TABLE_FORMATS.items():
            targets[output / f"{name}.{suffix}"] = (
                (lambda p, t=result, c=caption: _write_latex(t, p, c)) if suffix == "tex"
                else (lambda p, t=result, f=fmt: t.write(p, format=f)))
    for name, rendered in images.items():
        for fmt, data in rendered.items():
            targets[output / f"{name}.{fmt}"] = (lambda p, d=data: Path(p).write_bytes(d))
    targets[output / SUMMARY_FILE] = lambda p: Path(p).write_text(strict_json(summary, indent=1))
    output.mkdir(parents=True, exist_ok=True)
    with FileSetTransaction(output / "evaluation", list(targets)) as transaction:
        for target, write in targets.items():
            write(transaction.staged(target))
    metrics = tables["metrics"]
    metrics.meta["files"] = [str(t) for t in targets]
    return metrics


def _table_html(path):
    """An HTML ``<table>`` built from an ECSV table, every name and value escaped: the report never
    copies markup from the evaluation directory, which may have been edited since it was written."""
    try:
        table = Table.read(path, format="ascii.ecsv")
    except Exception as err:  # astropy raises many kinds on an edited file
        raise InputError(f"table {str(path)!r} does not read as ECSV ({type(err).__name__}: {err}): the "
                         f"directory was edited; write the evaluation again") from None
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in table.colnames)
    rows = []
    for row in table:
        cells = (html.escape(f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value))
                 for value in row)
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _inside(evaluation_dir, name, suffix, what):
    """The file ``<name><suffix>`` of the evaluation directory; a name that is not a plain file name,
    or a file (or link) leading outside the directory, is refused."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
        raise InputError(f"{SUMMARY_FILE} in {str(evaluation_dir)!r} names the {what} {name!r}, not a plain "
                         f"file name: the directory was edited; write the evaluation again")
    path = evaluation_dir / f"{name}{suffix}"
    root = evaluation_dir.resolve()
    if root not in path.resolve().parents or not path.is_file():
        raise InputError(f"{what} {str(path)!r} is not a file inside {str(evaluation_dir)!r}: the directory "
                         f"was edited; write the evaluation again")
    return path


def _check_summary(summary, summary_path):
    """Refuse, naming the key, values of the summary the report formats as numbers."""
    headline = summary["headline"]
    numbers = [("n_rows", summary["n_rows"])]
    numbers += [(f"headline {k}", headline[k]) for k in ("accuracy", "n", "mean_roc_auc", "n_features",
                                                         "n_in_mean") if k in headline]
    for name in ("accuracy_interval", "mean_roc_auc_interval"):
        interval = headline.get(name)
        if interval is not None and interval != [None, None]:  # [None, None]: no bootstrap
            if not isinstance(interval, list) or len(interval) != 2:
                raise InputError(f"{summary_path}: headline {name} is {interval!r}, not [low, high]")
            numbers += [(f"headline {name}", bound) for bound in interval]
    for key, value in numbers:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise InputError(f"{summary_path}: {key} is {value!r}, not a number: the file was "
                             f"edited; write the evaluation again")
    if "accuracy" not in headline and "mean_roc_auc" not in headline:
        raise InputError(f"{summary_path}: the headline has neither accuracy nor mean_roc_auc")
    for key in ("tables", "figures"):
        if not isinstance(summary[key], list):
            raise InputError(f"{summary_path}: {key} is {summary[key]!r}, not a list of names")
    if not isinstance(summary["captions"], dict) or not isinstance(summary["model"], dict):
        raise InputError(f"{summary_path}: captions and model must be JSON objects")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1.5em; max-width: 70em; color: #222; }
.scroll { overflow-x: auto; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f0f0f0; } td:first-child { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #444; max-width: 60em; }
img { max-width: 100%; } pre { background: #f7f7f7; padding: 0.8em; font-size: 0.8em; overflow-x: auto; }
.headline { font-size: 1.1em; background: #eef5ee; padding: 0.6em 1em; border-left: 4px solid #4a4; }
"""


def _headline_text(headline):
    if "accuracy" in headline:
        low, high = headline.get("accuracy_interval") or (None, None)
        interval = f" (95% interval {low:.3f}-{high:.3f})" if low is not None else ""
        text = (f"Accuracy {headline['accuracy']:.3f}{interval} on {headline['n']} labelled galaxies "
                f"({html.escape(str(headline['truth_column']))}).")
        if isinstance(headline.get("ece"), float) and isinstance(headline.get("ece_if_calibrated"), list):
            median, p95 = headline["ece_if_calibrated"]
            text += (f" Top-label ECE {headline['ece']:.3f}; exact probabilities would read {median:.3f} "
                     f"(95th percentile {p95:.3f}) on as many rows.")
        return text
    low, high = headline.get("mean_roc_auc_interval") or (None, None)
    interval = f" (95% interval {low:.3f}-{high:.3f})" if low is not None else ""
    counted = f"{headline['n_in_mean']} of " if "n_in_mean" in headline else ""  # older summaries lack it
    return (f"Mean ROC AUC {headline['mean_roc_auc']:.3f}{interval} over {counted}{headline['n_features']} "
            f"features "
            f"(thresholds: {html.escape(str(headline['rule']))}).")


@keyword_options
def write_report(evaluation_dir, output=None, *, title=None):
    """One self-contained HTML file from an `evaluate_model` directory: tables, figures, card, provenance.

    Figures are embedded as base64 PNG and nothing refers outside the file,
    so it opens offline and can be mailed or archived as it is.

    Parameters
    ----------
    evaluation_dir : str or `~pathlib.Path`
        A directory written by `evaluate_model`.
    output : str or `~pathlib.Path`, optional
        The HTML file; default ``report.html`` in ``evaluation_dir``.
    title : str, optional
        Page title; default names the model.

    Returns
    -------
    `~pathlib.Path`
        The file written (atomically).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.report import evaluate_model, write_report
    >>> sample, image_dir = load_demo_sample()
    >>> out = Path(tempfile.mkdtemp()) / "evaluation"
    >>> _ = evaluate_model(sample, output=out, truth_column="gz2_class", grouped=True,
    ...                    image_dir=image_dir, n_bootstrap=0, progress=False)
    >>> page = write_report(out, title="demo").read_text()
    >>> "<title>demo</title>" in page and "data:image/png;base64," in page
    True
    """
    from .tables import atomic_write

    evaluation_dir = Path(evaluation_dir)
    summary_path = evaluation_dir / SUMMARY_FILE
    if not summary_path.is_file():
        raise InputError(f"{evaluation_dir} is not an evaluation directory: it has no {SUMMARY_FILE} "
                         f"(write one with galzoo-cnn evaluate)")
    try:
        summary = json.loads(summary_path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{summary_path} is not valid JSON ({err}): write the evaluation again") from None
    missing = [k for k in ("model", "headline", "tables", "figures", "captions", "provenance", "n_rows",
                           "status_counts") if k not in summary]
    if missing:
        raise InputError(f"{summary_path} lacks the key(s) {', '.join(missing)}: not written by "
                         f"evaluate_model")
    _check_summary(summary, summary_path)
    card = ModelCard(summary["model"])
    title = title or f"Evaluation of {card.name}"
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='headline'>{_headline_text(summary['headline'])}</p>",
             f"<p>{int(summary['n_rows'])} rows; status: {html.escape(str(summary['status_counts']))}. Model "
             f"objective {html.escape(str(card.objective))}, backbone "
             f"{html.escape(str(card.backbone))}. Metrics as in Khramtsov et al. 2022, Sect. 5.</p>"]
    for name in summary["tables"]:
        parts.append(f"<h2>Table: {html.escape(name.replace('_', ' '))}</h2>")
        table = _table_html(_inside(evaluation_dir, name, ".ecsv", "table"))
        parts.append(f"<div class='scroll'>{table}</div>")
    for name in summary["figures"]:
        data = base64.b64encode(_inside(evaluation_dir, name, ".png", "figure").read_bytes()).decode()
        parts.append(f"<h2>Figure: {html.escape(name)}</h2><figure><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{data}'><figcaption>"
                     f"{html.escape(str(summary['captions'].get(name, '')))}</figcaption></figure>")
    for heading, content in (("Model card", card), ("Provenance", summary["provenance"])):
        parts.append(f"<h2>{heading}</h2><details><summary>{heading} (JSON)</summary><pre>"
                     f"{html.escape(json.dumps(content, indent=1))}</pre></details>")
    parts.append("</body></html>\n")
    output = evaluation_dir / "report.html" if output is None else Path(output)
    return atomic_write(output, lambda tmp: Path(tmp).write_text("\n".join(parts), encoding="utf-8"))
