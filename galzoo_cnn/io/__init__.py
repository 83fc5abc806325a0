# Licensed under a 3-clause BSD style license - see LICENSE
"""
Catalogue formats: a registry of writers behind `galzoo_cnn.catalog.write_catalog`.

Each format is a `CatalogFormat` subclass registered under a name with
`register_format` (as regions registers its readers and writers); it names
the files it writes for a basename, writes them from a prepared table and a
`CatalogMetadata`, and checks that they read back as written.
`catalog_formats` lists what is registered; the command line's choices come
from it.  A new format is one registered class in its own module here.

Examples
--------
>>> from galzoo_cnn.io import catalog_formats
>>> for row in catalog_formats():
...     print(f"{row['name']:8s} {row['outputs']}")
fits     {basename}.fits
votable  {basename}.vot
cds      {basename}_cds/ReadMe, {basename}_cds/{name}.dat
ecsv     {basename}.ecsv
"""

from . import cds, ecsv, fits, votable  # noqa: E402, F401, I001  (register the formats)
from ._base import (  # noqa: F401
    ADC_KEYWORDS,
    FORMATS,
    CatalogFormat,
    CatalogMetadata,
    catalog_formats,
    get_format,
    register_format,
)

__all__ = ["CatalogFormat", "CatalogMetadata", "register_format", "get_format", "catalog_formats",
           "FORMATS", "ADC_KEYWORDS"]
