# Licensed under a 3-clause BSD style license - see LICENSE
"""One registry of named things (objectives, catalogue formats, cutout services).

A `Registry` is a mapping from names to registered entries with one way to
add (`Registry.register`, a class decorator), one way to look up
(`Registry.get`, whose error lists the known names) and one order of listing
(`Registry.names`: by an entry's ``rank`` where entries have one, then by
name).  Registering a name twice is refused: a plug-in must not silently
replace a built-in.
"""

from ..exceptions import InputError, UnknownNameError

__all__ = ["Registry"]


class Registry(dict):
    """Named entries of one ``kind``; a `dict` from name to entry.

    Parameters
    ----------
    kind : str
        What the entries are, for messages (``"objective"``).
    make : callable, optional
        Turns a registered class into the stored entry (e.g. an instance);
        default: the class itself.

    Examples
    --------
    >>> from galzoo_cnn.utils._registry import Registry
    >>> shapes = Registry("shape", make=lambda cls: cls())
    >>> @shapes.register("disk")
    ... class Disk:
    ...     rank = 2
    >>> @shapes.register("bulge")
    ... class Bulge:
    ...     rank = 1
    >>> shapes.names(), type(shapes.get("disk")).__name__
    (['bulge', 'disk'], 'Disk')
    >>> shapes.get("bar")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.UnknownNameError: unknown shape 'bar'; expected one of ['bulge', 'disk']
    """

    def __init__(self, kind, *, make=None):
        super().__init__()
        self.kind = kind
        self._make = make or (lambda cls: cls)

    def register(self, name=None):
        """Class decorator storing ``make(cls)`` under ``name`` (default: the class's ``name``), which it
        sets on the class."""
        def decorator(cls):
            key = name or getattr(cls, "name", None)
            if not key:
                raise InputError(f"{self.kind} class {cls.__name__} has no name")
            if key in self:
                raise InputError(f"a {self.kind} named {key!r} is already registered")
            cls.name = key
            self[key] = self._make(cls)
            return cls
        return decorator

    def get(self, name):
        """The entry registered as ``name``; `~galzoo_cnn.exceptions.UnknownNameError` (a `KeyError` and
        a `ValueError`) naming the known ones otherwise."""
        try:
            return self[name]
        except (KeyError, TypeError):
            raise UnknownNameError(f"unknown {self.kind} {name!r}; expected one of {self.names()}") from None

    def names(self):
        """The registered names: by the entries' ``rank`` where they have one, then alphabetically."""
        return sorted(self, key=lambda key: (getattr(self[key], "rank", 0), key))
