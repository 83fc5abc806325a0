# Licensed under a 3-clause BSD style license - see LICENSE
"""timm backbones: names checked before a model is built or a comparison started."""

import timm

from ..exceptions import InputError

__all__ = ["require_backbone"]


def require_backbone(name):
    """Raise `~galzoo_cnn.exceptions.InputError` unless timm has a model ``name``.

    Names with a source (``hf-hub:...``, ``local-dir:...``) are left to timm, which resolves them."""
    if not isinstance(name, str) or (":" not in name and not timm.is_model(name)):
        raise InputError(f"unknown timm backbone {name!r}; see timm.list_models()")
    return name
