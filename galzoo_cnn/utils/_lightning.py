# Licensed under a 3-clause BSD style license - see LICENSE
"""One way to build a Lightning ``Trainer``: user-facing errors for impossible settings."""

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException

from ..exceptions import InputError


def make_trainer(**options):
    """``lightning.Trainer(**options)``; settings this machine cannot run raise `InputError`.

    Lightning refuses, for instance, ``accelerator='gpu'`` without a GPU or
    ``devices=[3]`` on a one-GPU machine; the message names the settings.
    """
    try:
        return L.Trainer(**options)
    except (MisconfigurationException, RuntimeError, ValueError) as err:
        chosen = {k: options.get(k) for k in ("accelerator", "devices", "num_nodes", "strategy", "precision")}
        settings = ", ".join(f"{k}={v!r}" for k, v in chosen.items() if v is not None)
        raise InputError(f"cannot run with {settings}: {' '.join(str(err).split())}") from None


def process_shard():
    """``(rank, world_size)`` of this process under torch.distributed, ``(0, 1)`` outside it.

    Examples
    --------
    >>> from galzoo_cnn.utils._lightning import process_shard
    >>> process_shard()
    (0, 1)
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1
