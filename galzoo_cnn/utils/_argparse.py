# Licensed under a 3-clause BSD style license - see LICENSE
"""The argument parser of the ``galzoo-cnn`` command: options that take one value refuse a second one."""

import argparse
import re
import warnings

from ..exceptions import GalzooDeprecationWarning

__all__ = ["OptionParser", "add_renamed", "as_options"]


def _note_given(parser, namespace, action, option_string, values):
    """Stop the command where an option that takes one value is given a second time.

    argparse keeps the last value, silently: ``--model A --model B`` would run
    B alone and write a catalogue without A's columns.
    """
    given = namespace.__dict__.setdefault("_options_given", {})
    if action.dest in given:
        earlier_option, earlier = given[action.dest]
        if isinstance(values, list):  # nargs: all the values after one option
            rule = f"give them all after one {option_string}: {option_string} {_typed(earlier + values)}"
        else:
            rule = "the option takes one value"
        hint = f"; {action.once_hint}" if getattr(action, "once_hint", None) else ""
        parser.error(f"{earlier_option} {_typed(earlier)} and {option_string} {_typed(values)} given twice: "
                     f"{rule}{hint}")
    given[action.dest] = (option_string, values)


def _typed(values):
    """Values as they were typed on the command line."""
    return " ".join(map(str, values)) if isinstance(values, list) else str(values)


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store``, refusing a second value (positional arguments are stored once anyway)."""

    def __init__(self, option_strings, dest, once_hint=None, **kwargs):
        self.once_hint = once_hint
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if self.option_strings:
            _note_given(parser, namespace, self, option_string, values)
        super().__call__(parser, namespace, values, option_string)


class _Renamed(argparse.Action):
    """An option under its former name: it still works, with a deprecation warning naming the new one."""

    def __init__(self, option_strings, dest, new=None, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        warnings.warn(GalzooDeprecationWarning(f"{option_string} is now {self.new}; the old name will be "
                                               f"removed in the next release"), stacklevel=2)
        _note_given(parser, namespace, self, option_string, values)
        setattr(namespace, self.dest, values)


def add_renamed(parser, old, new, dest):
    """Accept ``old`` as a deprecated name of the option ``new`` (stored in ``dest``)."""
    parser.add_argument(old, dest=dest, action=_Renamed, new=new)


class OptionParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose single-valued options (and its sub-commands') refuse to be given
    twice; ``add_argument(..., once_hint=...)`` adds a hint to that error.

    Examples
    --------
    >>> from galzoo_cnn.utils._argparse import OptionParser
    >>> parser = OptionParser(prog="demo", exit_on_error=False)
    >>> _ = parser.add_argument("--model")
    >>> parser.parse_args(["--model", "a"]).model
    'a'
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)


#: A Python keyword in a message (``crop=0.01 must...``, ``pass ra_column= and``) and its value, if any.
_KEYWORD = re.compile(r"(?<![\w?&./\\-])([a-z][a-z0-9_]*)=(\S*?)(?=[\s,;)]|$)")


def as_options(text, parser, command):
    """A message of the Python API as the command line reads it: the keywords that are options of
    ``command`` named as those options (``crop=0.01`` -> ``--crop 0.01``, ``ra_column=`` ->
    ``--ra-column``, ``overwrite=True`` -> ``--overwrite``); other text unchanged.

    Examples
    --------
    >>> from galzoo_cnn.cli import build_parser
    >>> from galzoo_cnn.utils._argparse import as_options
    >>> as_options("crop=0.01 must lie in [0.1, 2]", build_parser(), "classify")
    '--crop 0.01 must lie in [0.1, 2]'
    """
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    actions = {action.dest: action for action in subparsers.choices[command]._actions
               if action.option_strings}

    def option(match):
        action, value = actions.get(match.group(1)), match.group(2)
        if action is None:
            return match.group(0)
        flag = max(action.option_strings, key=len)
        if action.nargs == "+" and value.startswith("[") and value.endswith("]"):  # ['ecsv'] -> ecsv
            value = " ".join(v.strip(" '\"") for v in value[1:-1].split(","))
        if action.nargs == 0:  # a switch: only the value it sets can be typed
            return flag if value in ("", repr(action.const)) else match.group(0)
        return f"{flag} {value}" if value else flag
    return _KEYWORD.sub(option, text)
