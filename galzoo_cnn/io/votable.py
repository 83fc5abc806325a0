# Licensed under a 3-clause BSD style license - see LICENSE
"""The VOTable 1.4 catalogue: FIELDs with unit, UCD and DESCRIPTION; COOSYS; INFOs; BINARY2."""

import io
import re

from ..exceptions import CatalogError
from . import CatalogFormat, register_format
from ._verify import compare_tables

__all__ = ["VOTableCatalog"]


@register_format("votable")
class VOTableCatalog(CatalogFormat):
    """VOTable 1.4 (BINARY2 serialisation): unit, UCD, description per FIELD, ICRS COOSYS, INFOs.

    BINARY2 marks nulls of every datatype in a bitmap, so masked booleans,
    strings and numbers are exact, and no TABLEDATA text (``+InF``, empty
    ``<TD/>``) is left to the reader's interpretation.
    """

    rank = 2
    output_patterns = ("{basename}.vot",)

    def write(self, table, paths, metadata):
        from astropy.io import votable
        from astropy.io.votable.tree import CooSys, Info

        vot = votable.from_table(table)
        vot.version = "1.4"
        resource = vot.resources[0]
        resource.coordinate_systems.append(CooSys(ID="icrs", system="ICRS"))
        element = vot.get_first_table()
        element.name = metadata.name
        element.ID = _xml_id(metadata.name)  # else astropy makes one from the name, invalid for '1cat', 'a b'
        element.description = " ".join(t for t in (metadata.title + ".", metadata.description) if t)
        for field in element.fields:
            if field.datatype == "bit":  # astropy's choice for numpy bool; VOTable's logical is boolean
                field.datatype, field.arraysize = "boolean", None
            if table[field.name].info.meta.get("ucd", "").startswith(("pos.eq.ra", "pos.eq.dec")):
                field.ref = "icrs"
        infos = [("title", metadata.title), ("creator", metadata.creator), ("date", metadata.written)]
        if metadata.bibcode:
            infos.append(("bibcode", metadata.bibcode))
        infos += [(f"provenance_{k}", v) for k, v in metadata.provenance.items()]
        for name, value in infos:
            vot.infos.append(Info(ID=name, name=name, value=str(value)))
        for i, reference in enumerate(metadata.references, start=1):
            vot.infos.append(Info(ID=f"reference_{i}", name="reference", value=reference))
        vot.to_xml(str(paths[0]), tabledata_format="binary2")

    def verify(self, table, paths):
        from astropy.io import votable

        report = io.StringIO()
        if votable.validate(str(paths[0]), output=report) is not True:
            raise CatalogError(f"the VOTable does not validate:\n{report.getvalue()}")
        reread = votable.parse_single_table(str(paths[0])).to_table()
        compare_tables(table, reread, "VOTable", paths[0])


def _xml_id(name):
    """A valid XML ID (letters, digits, ``_.-``, not starting with a digit, ``.`` or ``-``) from ``name``.

    Examples
    --------
    >>> from galzoo_cnn.io.votable import _xml_id
    >>> _xml_id("1cat & dog"), _xml_id("galzoo_catalogue")
    ('t_1cat_dog', 'galzoo_catalogue')
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    return safe if re.match(r"[A-Za-z_]", safe) else f"t_{safe}"
