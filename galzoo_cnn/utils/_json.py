# Licensed under a 3-clause BSD style license - see LICENSE
"""Strict JSON: what the package writes parses with any JSON parser (RFC 8259 has no NaN)."""

import json
import math

import numpy as np

__all__ = ["strict", "dumps"]


def strict(value):
    """``value`` with NaN and infinities as None, NumPy scalars and arrays as Python numbers and lists.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.utils._json import strict
    >>> strict({"auc": float("nan"), "n": np.int64(3), "p": np.array([0.5, np.inf])})
    {'auc': None, 'n': 3, 'p': [0.5, None]}
    """
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value, **options):
    """`json.dumps` of `strict` ``value``; anything else not JSON becomes its ``str`` (a path, a date).

    Examples
    --------
    >>> from galzoo_cnn.utils._json import dumps
    >>> dumps({"loss": float("inf")})
    '{"loss": null}'
    """
    return json.dumps(strict(json.loads(json.dumps(value, default=str))), allow_nan=False, **options)
