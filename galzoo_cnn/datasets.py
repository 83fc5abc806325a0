# Licensed under a 3-clause BSD style license - see LICENSE
"""
Sample data shipped with the package (see ``galzoo_cnn/data/README.rst``).

Examples
--------
>>> from galzoo_cnn.datasets import gz2_sample_path, load_gz2_sample
>>> gz2_sample_path("willett2013").name
'gz2_willett2013_table5_subset.csv.gz'
>>> len(load_gz2_sample("hart2016"))
252
"""

from importlib.resources import files

from .tables import as_table

__all__ = ["gz2_sample_path", "load_gz2_sample", "GZ2_SAMPLES"]

#: Bundled real GZ2 subsets, by layout name (`galzoo_cnn.taxonomy.LAYOUTS`).
GZ2_SAMPLES = {
    "willett2013": "gz2_willett2013_table5_subset.csv.gz",
    "hart2016": "gz2_hart16_subset.csv.gz",
}


def gz2_sample_path(layout="hart2016"):
    """Path of a bundled real GZ2 subset.

    Parameters
    ----------
    layout : {'hart2016', 'willett2013'}
        ``'hart2016'``: 252 rows of Hart et al. (2016); ``'willett2013'``:
        300 rows of Willett et al. (2013) table 5 (Stripe 82 coadd).

    Examples
    --------
    >>> from galzoo_cnn.datasets import gz2_sample_path
    >>> gz2_sample_path().is_file()
    True
    """
    try:
        name = GZ2_SAMPLES[layout]
    except KeyError:
        raise ValueError(f"no bundled GZ2 sample {layout!r}; expected one of {tuple(GZ2_SAMPLES)}") from None
    return files("galzoo_cnn") / "data" / name


def load_gz2_sample(layout="hart2016"):
    """A bundled real GZ2 subset as a `~astropy.table.Table`.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_gz2_sample
    >>> load_gz2_sample("willett2013")["objid"].dtype.kind
    'i'
    """
    return as_table(gz2_sample_path(layout))
