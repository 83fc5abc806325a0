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

    default_model = _config.ConfigItem(
        "sample-gz2-dihedral", "Model used by classify_table and 'galzoo-cnn classify' when none is named.")

    max_image_pixels = _config.ConfigItem(
        25_000_000, "Largest image (width x height) read; larger files get status too_large "
                    "(a guard against decompression bombs; Pillow's own limit is about 89 million).")

    max_cpu_processes = _config.ConfigItem(
        0, "Most processes a run may start on CPU (devices x num_workers share the cores): 0 means the "
           "number of usable cores; raise it to oversubscribe on purpose.", cfgtype="integer")

    sdss_data_release = _config.ConfigItem(
        9, "SDSS data release of SkyServer queries and cutouts (the paper: DR9).", cfgtype="integer")
    cutout_workers = _config.ConfigItem(8, "Cutout requests in flight at once.", cfgtype="integer")
    cutout_retries = _config.ConfigItem(5, "Attempts per cutout.", cfgtype="integer")

    sdss_cutout_url = _config.ConfigItem(
        "https://skyserver.sdss.org", "Root of the SDSS SkyServer (ImgCutout service).")
    legacy_cutout_url = _config.ConfigItem(
        "https://www.legacysurvey.org/viewer", "Root of the DESI Legacy Surveys viewer (jpeg-cutout).")
    hips2fits_url = _config.ConfigItem(
        "", "Deprecated: set astroquery.hips2fits.conf.server, the one source of the CDS hips2fits "
            "service's URL (empty: astroquery's).")
    cutout_timeout = _config.ConfigItem(30.0, "Seconds to wait for each read from a cutout server.")
    cutout_deadline = _config.ConfigItem(
        120.0, "Seconds one whole cutout answer may take, however slowly the server sends it.")


conf = Conf()
