# Licensed under a 3-clause BSD style license - see LICENSE
"""``python -m galzoo_cnn.cli``: the ``galzoo-cnn`` program."""

from . import console_main

console_main()
