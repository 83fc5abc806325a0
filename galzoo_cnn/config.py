# Licensed under a 3-clause BSD style license - see LICENSE
"""
Configuration of galzoo_cnn, through astropy's configuration system.

Set items for a session with ``conf.set_temp`` or permanently in
``~/.astropy/config/galzoo_cnn.cfg``.

Examples
--------
>>> from galzoo_cnn.config import conf
>>> conf.model_dirs
[]
"""

from astropy import config as _config

__all__ = ["Conf", "conf"]


class Conf(_config.ConfigNamespace):
    """Configuration items of galzoo_cnn."""

    model_dirs = _config.ConfigItem(
        [], "Directories searched, after the models bundled with the package, for a model "
            "named NAME (files NAME.json and NAME.safetensors).", cfgtype="string_list")


conf = Conf()
