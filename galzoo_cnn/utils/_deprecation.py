# Licensed under a 3-clause BSD style license - see LICENSE
"""Options made keyword-only without breaking old calls for one release (as photutils'
``deprecated_positional_kwargs``)."""

import functools
import inspect
import warnings

from ..exceptions import GalzooDeprecationWarning

__all__ = ["keyword_options", "renamed_arguments"]


def keyword_options(function):
    """Make every parameter of ``function`` that has a default keyword-only.

    The signature shows them after ``*``; a call that still passes some of
    them positionally works, with a
    `~galzoo_cnn.exceptions.GalzooDeprecationWarning` naming them.

    Examples
    --------
    >>> import warnings
    >>> from galzoo_cnn.utils._deprecation import keyword_options
    >>> @keyword_options
    ... def scale(values, factor=2, offset=0):
    ...     return [v * factor + offset for v in values]
    >>> import inspect; inspect.signature(scale)
    <Signature (values, *, factor=2, offset=0)>
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     scale([1], 3)
    [3]
    >>> print(caught[0].message)
    scale(): pass factor by keyword (factor=...); options given by position will be refused in a later release
    """
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    essential = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                 and p.default is p.empty]
    options = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty]
    if not options:
        return function

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if len(args) > len(essential):
            extra = args[len(essential):]
            if len(extra) > len(options):
                raise TypeError(f"{function.__name__}() takes {len(essential)} positional argument(s) but "
                                f"{len(args)} were given")
            names = [p.name for p in options[:len(extra)]]
            twice = [name for name in names if name in kwargs]
            if twice:
                raise TypeError(f"{function.__name__}() got multiple values for argument {twice[0]!r}")
            warnings.warn(GalzooDeprecationWarning(
                f"{function.__name__}(): pass {', '.join(names)} by keyword ({names[0]}=...); options given "
                f"by position will be refused in a later release"), stacklevel=2)
            kwargs.update(zip(names, extra))
            args = args[:len(essential)]
        return function(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[
        p.replace(kind=p.KEYWORD_ONLY) if p in options else p for p in parameters])
    return wrapper


def renamed_arguments(**renamed):
    """Accept the old names of renamed parameters (``old="new"``) for one release, with a
    `~galzoo_cnn.exceptions.GalzooDeprecationWarning`.

    Examples
    --------
    >>> import warnings
    >>> from galzoo_cnn.utils._deprecation import renamed_arguments
    >>> @renamed_arguments(directory="image_dir")
    ... def fetch(table, image_dir):
    ...     return image_dir
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fetch([], directory="cutouts")
    'cutouts'
    >>> print(caught[0].message)
    fetch(): the argument 'directory' is now 'image_dir'
    """
    def decorator(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__name__}() got both {old!r} and its new name {new!r}")
                    warnings.warn(GalzooDeprecationWarning(
                        f"{function.__name__}(): the argument {old!r} is now {new!r}"), stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)
        return wrapper
    return decorator
