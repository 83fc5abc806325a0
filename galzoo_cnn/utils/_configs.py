# Licensed under a 3-clause BSD style license - see LICENSE
"""Finding a training configuration file; without torch, so that the command line refuses a mistyped
name before the seconds torch takes to load."""

from importlib.resources import files
from pathlib import Path

__all__ = ["bundled_config"]


def bundled_config(name_or_path):
    """Path of a configuration file: a path as given, or a bundled configuration by name.

    Parameters
    ----------
    name_or_path : str or `~pathlib.Path`
        A path, or the name of a bundled configuration.

    Examples
    --------
    >>> from galzoo_cnn.training import bundled_config
    >>> bundled_config("sample-gz1").name
    'sample-gz1.yaml'
    """
    path = Path(str(name_or_path)).expanduser()
    if path.is_file():
        return path
    bundled = Path(str(files("galzoo_cnn") / "data" / "configs")) / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    names = sorted(p.stem for p in bundled.parent.glob("*.yaml"))
    raise FileNotFoundError(f"no configuration file {str(path)!r} and no bundled configuration of "
                            f"that name (bundled: {', '.join(names)})")
