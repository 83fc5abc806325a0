# Licensed under a 3-clause BSD style license - see LICENSE
"""The catalogue-format registry and base class, below the format modules (which import them from
here, not from the package, so that no module imports back the one importing it)."""


import dataclasses
import datetime
from pathlib import Path

from astropy.table import Table

from ..utils._registry import Registry

__all__ = ["CatalogFormat", "CatalogMetadata", "register_format", "get_format", "catalog_formats",
           "FORMATS", "ADC_KEYWORDS"]

#: The registered formats, by name (filled by `register_format`; listed by their ``rank``).
FORMATS = Registry("catalogue format")


def register_format(name):
    """Class decorator: register a `CatalogFormat` subclass under ``name``.

    Parameters
    ----------
    name : str
        Name of the format (``write_catalog(formats=[name])``).

    Examples
    --------
    >>> from galzoo_cnn.io import CatalogFormat, register_format
    >>> @register_format("example")
    ... class Example(CatalogFormat):
    ...     "A format for the docs."
    >>> Example.name
    'example'
    >>> from galzoo_cnn.io import FORMATS
    >>> del FORMATS["example"]
    """
    return FORMATS.register(name)


def get_format(name):
    """The registered format ``name`` (an instance); unknown names raise, listing the known ones.

    Parameters
    ----------
    name : str
        A registered format (`catalog_formats`).

    Examples
    --------
    >>> from galzoo_cnn.io import get_format
    >>> get_format("fits").outputs("cat")
    [PosixPath('cat.fits')]
    """
    return FORMATS.get(name)()


def catalog_formats():
    """A table of the registered formats: name, the files written, whether it is written by default and
    needs positions, description.

    Examples
    --------
    >>> from galzoo_cnn.io import catalog_formats
    >>> formats = catalog_formats()
    >>> formats["name", "default", "needs_coordinates"].pprint()
      name  default needs_coordinates
    ------- ------- -----------------
       fits    True              True
    votable    True              True
        cds    True              True
       ecsv   False             False
    """
    rows = [(name, ", ".join(cls.output_patterns), cls.written_by_default, cls.needs_coordinates,
             (cls.__doc__ or "").strip().splitlines()[0])
            for name, cls in ((name, FORMATS[name]) for name in FORMATS.names())]
    return Table(rows=rows, names=("name", "outputs", "default", "needs_coordinates", "description"),
                 dtype=(str, str, bool, bool, str))


#: Default ``ADC_Keywords`` of a galaxy morphology catalogue: those the CDS gave the CNN morphology
#: catalogues of SDSS galaxies in VizieR, J/other/KNIT/28.3 (Vavilova et al. 2022, this method's Paper II:
#: "Galaxy catalogs ; Morphology ; Photometry, SDSS") and J/MNRAS/476/3661 (Dominguez Sanchez et al.
#: 2018: "Galaxy catalogs ; Morphology"), less the survey, which depends on the cutouts.
ADC_KEYWORDS = ("Galaxy catalogs", "Morphology")


@dataclasses.dataclass
class CatalogMetadata:
    """What a catalogue says about itself, the same in every format.

    Attributes
    ----------
    name : str
        Short name of the table (file stem, VOTable TABLE name, FITS EXTNAME).
    title, abstract, description : str
        Title; the abstract (what the catalogue is); a description of the
        data (FITS keyword / VOTable DESCRIPTION / ReadMe Description).
    authors : list of str
        Authors as "Surname I.", first author first.
    bibcode : str
        Bibcode of the paper presenting the catalogue, if published.
    catalogue : str
        CDS designation, e.g. ``J/MNRAS/999/1``, once VizieR assigns one.
    date : str
        Year of publication (default: this year).
    keywords : str
        Journal keywords separated by ``;``.
    adc_keywords : list of str
        Keywords of the CDS ReadMe's ``ADC_Keywords`` line, from the ADC's
        list (https://cdsarc.cds.unistra.fr/doc/adc_keywords.htx); default
        `ADC_KEYWORDS`, as VizieR's CNN morphology catalogues of SDSS
        galaxies have them.  Add the survey where it fits, e.g.
        ``"Photometry, SDSS"`` (as J/other/KNIT/28.3).
    acknowledgements : str
        For the ReadMe.
    provenance : dict
        Software, model, inputs' hashes... (``meta['provenance']``).
    references : list of str
        What the catalogue must cite, "Author et al. year, Journal vol, page
        (bibcode)" (``meta['references']``).
    see_also : list of (str, str)
        Related VizieR catalogues and their titles.
    written : str
        UTC time of writing (ISO 8601), the same in every format.
    columns : list of str
        The table's column names (set by `~galzoo_cnn.catalog.write_catalog`).
    """

    name: str = "catalog"
    title: str = "Morphological classification of galaxies with galzoo_cnn"
    abstract: str = ""
    description: str = ""
    authors: list = dataclasses.field(default_factory=list)
    bibcode: str = ""
    catalogue: str = ""
    date: str = dataclasses.field(default_factory=lambda: str(datetime.date.today().year))
    keywords: str = "galaxies: general; galaxies: structure; methods: data analysis"
    adc_keywords: list = dataclasses.field(default_factory=lambda: list(ADC_KEYWORDS))
    acknowledgements: str = ""
    provenance: dict = dataclasses.field(default_factory=dict)
    references: list = dataclasses.field(default_factory=list)
    see_also: list = dataclasses.field(default_factory=lambda: [
        ("J/MNRAS/435/2835", "Galaxy Zoo 2 morphologies (Willett+, 2013)")])
    written: str = dataclasses.field(default_factory=lambda: datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    columns: list = dataclasses.field(default_factory=list)

    @property
    def creator(self):
        """``galzoo_cnn <version>``."""
        from .. import __version__

        return f"galzoo_cnn {__version__}"


class CatalogFormat:
    """Base class of a catalogue format (see `register_format`)."""

    #: Registered name (set by `register_format`).
    name = None
    #: Position in the default order of `catalog_formats` (lower first).
    rank = 100
    #: The files written, relative to the basename (``{basename}``, ``{name}``: its last part).
    output_patterns = ()
    #: Whether every row must have a position (a VizieR catalogue's rows do).
    needs_coordinates = True
    #: Whether `~galzoo_cnn.catalog.write_catalog` writes it when no formats are named.
    written_by_default = True

    def outputs(self, basename):
        """The files this format writes for ``basename``."""
        basename = Path(basename)
        return [Path(p.format(basename=basename, name=basename.name)) for p in self.output_patterns]

    def write(self, table, paths, metadata):
        """Write the prepared ``table`` to ``paths`` (temporary names, in `outputs` order)."""
        raise NotImplementedError

    def verify(self, table, paths):
        """Raise `~galzoo_cnn.exceptions.CatalogError` unless ``paths`` read back as ``table``."""
        raise NotImplementedError
