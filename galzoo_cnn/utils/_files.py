# Licensed under a 3-clause BSD style license - see LICENSE
"""File-system facts shared by the writers (tables' atomic writes, the catalogue transaction)."""

import os

__all__ = ["current_umask"]


def current_umask():
    """The process's file-creation mask (read by setting and restoring it): a file made by renaming a
    temporary one gets the permissions an ordinary ``open`` would have given it."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
