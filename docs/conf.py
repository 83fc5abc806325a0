# Licensed under a 3-clause BSD style license - see LICENSE
"""Sphinx configuration of the galzoo_cnn documentation."""

import datetime
from importlib.metadata import version as _version

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx_astropy.conf.v2 import *  # noqa: F403
from sphinx_astropy.conf.v2 import exclude_patterns, intersphinx_mapping

project = "galzoo_cnn"
author = "galzoo_cnn developers"
copyright = f"{datetime.date.today().year}, {author}"
release = _version("galzoo_cnn")
version = release.split("+")[0]

exclude_patterns += ["_templates", "_build"]
intersphinx_mapping.update({
    "torch": ("https://pytorch.org/docs/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
})
html_theme_options = {"github_url": "https://github.com/galzoo-cnn/galzoo_cnn"}
html_title = f"{project} v{release}"
html_static_path = ["_static"]
templates_path = ["_templates"]
automodapi_toctreedirnm = "api"
automodsumm_inherited_members = False
numpydoc_show_class_members = False


class PackageTable(Directive):
    """``.. package-table:: galzoo_cnn.taxonomy.thresholds_table``

    Renders a table that a package function returns, so the docs show the
    package's own data rather than a copy of it.
    """

    required_arguments = 1
    option_spec = {"columns": directives.unchanged, "widths": directives.unchanged}

    def run(self):
        module, _, name = self.arguments[0].rpartition(".")
        table = getattr(__import__(module, fromlist=[name]), name)()
        columns = self.options.get("columns", " ".join(table.colnames)).split()
        lines = [".. list-table::", "   :header-rows: 1", ""]
        lines.append("   * - " + "\n     - ".join(f"``{c}``" for c in columns))
        for row in table:
            cells = ["" if str(row[c]) in ("nan", "") else str(row[c]) for c in columns]
            lines.append("   * - " + "\n     - ".join(cell or "—" for cell in cells))
        container = nodes.container()
        self.state.nested_parse(StringList("\n".join(lines).splitlines(), source=""), 0, container)
        return container.children


def setup(app):
    app.add_directive("package-table", PackageTable)
