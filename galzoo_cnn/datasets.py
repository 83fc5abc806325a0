# Licensed under a 3-clause BSD style license - see LICENSE
"""
Sample data shipped with the package (see ``galzoo_cnn/data/README.rst``).

Examples
--------
>>> from galzoo_cnn.datasets import gz2_sample_path, load_gz2_sample
>>> gz2_sample_path(layout="willett2013").name
'gz2_willett2013_table5_subset.csv.gz'
>>> len(load_gz2_sample(layout="hart2016"))
252
"""

from importlib.resources import files

from .exceptions import InputError
from .tables import as_table
from .utils._deprecation import keyword_options

__all__ = ["gz2_sample_path", "load_gz2_sample", "load_demo_sample", "GZ2_SAMPLES", "DEMO_IMAGES",
           "DEMO_IMAGE_FOV"]

#: Reference of the SDSS imaging of the bundled GZ2 images (SDSS DR7).
SDSS_DR7 = "Abazajian et al. 2009, ApJS 182, 543 (2009ApJS..182..543A), SDSS DR7"

#: Directory (inside the package) of the demo's real SDSS images.
DEMO_IMAGES = "demo_images"

#: Side of each demo image on the sky in arcseconds (300 pixels of 0.1 arcsec).
DEMO_IMAGE_FOV = 30.0

#: Bundled real GZ2 subsets, by layout name (`galzoo_cnn.taxonomy.LAYOUTS`).
GZ2_SAMPLES = {
    "willett2013": "gz2_willett2013_table5_subset.csv.gz",
    "hart2016": "gz2_hart16_subset.csv.gz",
}


@keyword_options
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
        raise InputError(f"no bundled GZ2 sample {layout!r}; expected one of {tuple(GZ2_SAMPLES)}") from None
    return files("galzoo_cnn") / "data" / name


@keyword_options
def load_gz2_sample(layout="hart2016"):
    """A bundled real GZ2 subset as a `~astropy.table.Table`.

    Parameters
    ----------
    layout : {'hart2016', 'willett2013'}
        Which bundled GZ2 sample.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_gz2_sample
    >>> load_gz2_sample(layout="willett2013")["objid"].dtype.kind
    'i'
    """
    return as_table(gz2_sample_path(layout=layout))


def load_demo_sample():
    """The demo's real SDSS galaxies: 36 rows of the Hart et al. (2016) subset and their images.

    The images are SDSS gri cutouts of 300 x 300 pixels at 0.1 arcsec/pixel
    (a 30 arcsec field, four times the survey's pixel density), as
    distributed with the GZ2 images; the rows are the first 18 galaxies of
    the subset whose GZ2 class is elliptical (``E...``) and the first 18
    that are not.  Credits in ``galzoo_cnn/data/README.rst``.

    Returns
    -------
    table : `~astropy.table.Table`
        The GZ2 rows (``dr7objid``, ``ra``, ``dec``, ``gz2_class``, votes...,
        ``filename``).
    image_dir : `~pathlib.Path`
        Directory of the images named in ``filename``.

    Examples
    --------
    >>> from galzoo_cnn.datasets import load_demo_sample
    >>> table, image_dir = load_demo_sample()
    >>> len(table), (image_dir / table["filename"][0]).is_file()
    (36, True)
    """
    from pathlib import Path

    import numpy as np

    image_dir = Path(str(files("galzoo_cnn") / "data" / DEMO_IMAGES))
    table = load_gz2_sample(layout="hart2016")
    names = np.ma.filled(table["filename"].astype(str), "")
    table = table[np.isin(names, sorted(p.name for p in image_dir.glob("*.jpg")))]
    return table, image_dir
