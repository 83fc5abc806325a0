# Licensed under a 3-clause BSD style license - see LICENSE
"""
Similarity search in a model's feature space (Khramtsov et al. 2022, Sect. 6, Figs. 5 and 8).

A classifier's pooled backbone features (`~galzoo_cnn.models.GalaxyClassifier.embed`)
summarise what it sees in a galaxy; galaxies close in that space look alike
to the model.  `embed_table` adds those features to a table (through the
same prediction path as `~galzoo_cnn.classify_table`, so images are read and
scaled exactly as for classification), and `similar_galaxies` finds, for
each query galaxy, its ``k`` nearest reference galaxies by cosine similarity
(scikit-learn's `~sklearn.neighbors.NearestNeighbors`).  The paper uses this
to show the nearest *training* galaxies of inference galaxies: a query whose
neighbours all share one class is classified with support from the training
set; one whose neighbours disagree lies where the training set is thin.
`galzoo_cnn.plots.plot_similar` draws the result.

Examples
--------
>>> from galzoo_cnn.datasets import load_demo_sample
>>> from galzoo_cnn.similarity import similar_galaxies
>>> sample, image_dir = load_demo_sample()
>>> pairs = similar_galaxies(sample[:2], sample, k=3, image_dir=image_dir, progress=False)
>>> pairs["query_row", "rank", "reference_row"][:3].pprint()
query_row rank reference_row
--------- ---- -------------
        0    1             0
        0    2           ...
        0    3           ...
>>> bool(abs(pairs["similarity"][0] - 1) < 1e-5)  # a galaxy is its own nearest neighbour
True
"""

import warnings

import numpy as np
from astropy.table import MaskedColumn, Table

from ._inference import predict_images, status_names
from ._runs import as_model, row_crops, start_run
from .classify import STATUS_COLUMN
from .columns import PROVENANCE_KEY
from .config import conf
from .exceptions import GalzooWarning, InputError
from .tables import as_table, check_integer, provenance, refuse_overwrite, require_columns

__all__ = ["embed_table", "similar_galaxies", "EMBEDDING_COLUMN"]

#: Column of the pooled features `embed_table` adds (one float32 vector per row).
EMBEDDING_COLUMN = "embedding"
#: ``meta`` keys naming the model of an embedding and its weights' SHA-256: short enough to be FITS
#: header keywords, so that a table written to FITS (or ECSV) still says which model made it.
_MODEL_KEYS = ("EMBMODEL", "EMBSHA")


def embed_table(table, *, model=None, image_column="filename", image_dir=None, batch_size=256, device=None,
                num_workers=None, progress=True, crop=None, reframe=True, fov_column="cutout_fov",
                radius_column="petroR90_r", tta=False, overwrite=False):
    """Add each galaxy's pooled CNN features (``embedding``) to a table.

    Parameters
    ----------
    table : `~astropy.table.Table` or path
        One row per galaxy with an image, or a folder of images
        (`~galzoo_cnn.tables.image_table`).
    model : str, path or `~galzoo_cnn.models.GalaxyClassifier`, optional
        The model whose features are used; default ``conf.default_model``.
    image_column : str
        Column of image paths, relative to ``image_dir``.
    image_dir : str or `~pathlib.Path`, optional
        Directory of the images.
    batch_size, device, num_workers, progress
        As for `~galzoo_cnn.classify_table`.
    crop : float, optional
        Central fraction of each image; default the model card's.
    reframe, fov_column, radius_column, tta
        As for `~galzoo_cnn.classify_table`: each image reframed to the
        model's frame from the table's cutout side and Petrosian radius
        (``bad_framing`` rows get no embedding); features averaged over the
        eight dihedral views.
    overwrite : bool
        Replace ``embedding`` and ``status`` columns the table already has.

    Returns
    -------
    `~astropy.table.Table`
        A copy with ``embedding`` (float32, ``model.num_features`` wide,
        masked where the image could not be used) and ``status``.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.similarity import embed_table
    >>> sample, image_dir = load_demo_sample()
    >>> embedded = embed_table(sample[:2], image_dir=image_dir, progress=False)
    >>> embedded["embedding"].shape
    (2, 1024)
    """
    table, paths = start_run(table, "embed", image_column=image_column, image_dir=image_dir,
                             batch_size=batch_size, num_workers=num_workers, crop=crop, device=device)
    classifier = as_model(conf.default_model if model is None else model)
    table.remove_columns(refuse_overwrite(table, [EMBEDDING_COLUMN, STATUS_COLUMN], overwrite=overwrite,
                                          earlier="an earlier embedding or classification"))
    crops, preset, _ = row_crops(table, classifier, crop, reframe=reframe, fov_column=fov_column,
                                 radius_column=radius_column)
    codes, _, features, _ = predict_images([classifier], paths, [crops], batch_size=batch_size, device=device,
                                           num_workers=num_workers, progress=progress, embed=True, tta=tta,
                                           codes=preset)
    status = status_names(codes)
    ok = status == "ok"
    mask = np.repeat(~ok[:, None], features[0].shape[1], 1)
    table[EMBEDDING_COLUMN] = MaskedColumn(features[0], mask=mask,
                                           description=f"pooled features of {classifier.card.name}")
    table[STATUS_COLUMN] = status
    table.meta[PROVENANCE_KEY] = provenance("embed_table", model=classifier.card.name,
                                          model_sha256=classifier.card.weights_sha256,
                                          crop=float(crops) if np.ndim(crops) == 0 else "per row",
                                          tta=bool(tta))
    table.meta.update(zip(_MODEL_KEYS, (classifier.card.name, classifier.card.weights_sha256)))
    return table


def _embedding_model(table):
    """(name, weights SHA-256) of the model that embedded ``table``, as its provenance records."""
    record = table.meta.get(PROVENANCE_KEY, {})
    if isinstance(record, dict) and record.get("function") == "embed_table":
        return record.get("model"), record.get("model_sha256")
    return tuple(table.meta.get(key) for key in _MODEL_KEYS)  # read back from a FITS header


def _embedded(table, name, **options):
    """``table`` with embeddings (computed unless it has them) and the rows that have one."""
    if EMBEDDING_COLUMN not in table.colnames:
        table = embed_table(table, **options)
    vectors = np.ma.getdata(table[EMBEDDING_COLUMN]).astype(np.float64)
    usable = ~np.ma.getmaskarray(table[EMBEDDING_COLUMN]).any(axis=1) & np.isfinite(vectors).all(axis=1)
    if not usable.any():
        raise InputError(f"no row of the {name} table has an image the model could use "
                         f"(see its {STATUS_COLUMN!r} column)")
    return table, vectors, usable


def similar_galaxies(query_table, reference_table, *, k=5, model=None, id_column=None,
                     image_column="filename", image_dir=None, reference_image_dir=None,
                     batch_size=256, device=None, progress=True):
    """The ``k`` reference galaxies most similar to each query galaxy in a model's feature space.

    Similarity is the cosine of the angle between the pooled features
    (`embed_table`); neighbours come from scikit-learn's
    `~sklearn.neighbors.NearestNeighbors` (``metric='cosine'``).  Tables that
    already have an ``embedding`` column (from the same model) are not
    embedded again.

    Parameters
    ----------
    query_table, reference_table : `~astropy.table.Table` or path
        Galaxies to look up (e.g. inference galaxies) and galaxies to search
        among (e.g. the training set).
    k : int
        Neighbours per query galaxy.
    model : str, path or `~galzoo_cnn.models.GalaxyClassifier`, optional
        The model whose features are compared; default ``conf.default_model``.
    id_column : str, optional
        Identifier column of both tables, copied to ``query_id`` and
        ``reference_id``.
    image_column : str
        Column of image paths in both tables.
    image_dir, reference_image_dir : str or `~pathlib.Path`, optional
        Directories of the query and reference images (the reference default
        is ``image_dir``).
    batch_size, device, progress
        As for `~galzoo_cnn.classify_table`.

    Returns
    -------
    `~astropy.table.Table`
        ``k`` rows per usable query galaxy, nearest first: ``query_row``,
        ``rank`` (1 = nearest), ``reference_row``, ``similarity`` (cosine,
        1 = same direction), with ``query_id`` / ``reference_id`` and the
        reference's ``image_column`` when present.  ``meta``: the number of
        query rows without a usable image, and provenance.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> from galzoo_cnn.similarity import embed_table, similar_galaxies
    >>> sample, image_dir = load_demo_sample()
    >>> reference = embed_table(sample, image_dir=image_dir, progress=False)
    >>> pairs = similar_galaxies(reference[:1], reference, k=2, id_column="dr7objid")
    >>> int(pairs["reference_id"][0]) == int(sample["dr7objid"][0])
    True
    """
    from sklearn.neighbors import NearestNeighbors

    check_integer("k", k, 1)
    options = dict(model=model, image_column=image_column, batch_size=batch_size, device=device,
                   progress=progress)
    query, reference = as_table(query_table, copy=False), as_table(reference_table, copy=False)
    for name, t in (("query", query), ("reference", reference)):  # before the embedding, the long part
        require_columns(t, [id_column], role=f"{name} table's id")
    query, query_vectors, query_ok = _embedded(query, "query", image_dir=image_dir, **options)
    reference, reference_vectors, reference_ok = _embedded(
        reference, "reference", image_dir=image_dir if reference_image_dir is None else reference_image_dir,
        **options)
    records = {name: _embedding_model(t) for name, t in (("query", query), ("reference", reference))}
    models = set(records.values()) - {(None, None)}
    unknown = [name for name, record in records.items() if record == (None, None)]
    if models and unknown:
        warnings.warn(GalzooWarning(
            f"the {unknown[0]} table's embedding does not say which model made it; it is compared with "
            f"{next(iter(models))[0]}'s: embed both with one model (galzoo-cnn embed writes its name into "
            f"FITS and ECSV files)"), stacklevel=2)
    if len({sha for _, sha in models}) > 1:
        raise InputError(f"the query and reference embeddings come from different models "
                         f"({', '.join(sorted(str(name) for name, _ in models))}): embed both with one")
    if query_vectors.shape[1] != reference_vectors.shape[1]:
        raise InputError(f"the query embeddings have {query_vectors.shape[1]} features and the reference "
                         f"ones {reference_vectors.shape[1]}: they come from different models")
    reference_rows = np.flatnonzero(reference_ok)
    k = min(int(k), len(reference_rows))
    search = NearestNeighbors(n_neighbors=k, metric="cosine").fit(reference_vectors[reference_rows])
    query_rows = np.flatnonzero(query_ok)
    distance, found = search.kneighbors(query_vectors[query_rows])
    result = Table({"query_row": np.repeat(query_rows, k),
                    "rank": np.tile(np.arange(1, k + 1), len(query_rows)),
                    "reference_row": reference_rows[found.ravel()],
                    "similarity": (1 - distance.ravel()).astype(np.float32)})
    result["similarity"].info.format = ".4f"
    result["similarity"].description = "cosine similarity of the pooled CNN features (1: same direction)"
    if id_column is not None:
        result["query_id"] = query[id_column][result["query_row"]]
        result["reference_id"] = reference[id_column][result["reference_row"]]
    if image_column in reference.colnames:
        result[image_column] = reference[image_column][result["reference_row"]]
    result.meta.update(k=k, n_query_unusable=int((~query_ok).sum()),
                       provenance=provenance("similar_galaxies", k=k, metric="cosine",
                                             model=_embedding_model(query)[0]))
    return result
