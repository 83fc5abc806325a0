# Licensed under a 3-clause BSD style license - see LICENSE
"""
The ``galzoo-cnn`` command.

Each sub-command is a thin wrapper around one Table-in/Table-out function of
the package; run ``galzoo-cnn COMMAND --help`` for its options.

Examples
--------
>>> from galzoo_cnn.cli import main
>>> main(["taxonomy", "--thresholds"])  # doctest: +IGNORE_OUTPUT
0
"""

import os
import signal
import sys

from astropy import log

from ..exceptions import GalzooError, Interrupted
from ..utils._argparse import as_options
from ..utils._signals import STOP_SIGNALS, die_with_parent, interruptible, stop_signals_ignored
from ._commands import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE  # noqa: F401 (EXIT_OK: documented with the others)
from ._parser import build_parser

__all__ = ["main", "build_parser"]


def main(argv=None):
    """Run ``galzoo-cnn`` with ``argv`` (default: the command line); return the exit status.

    0: success; 2: a user error (one line on stderr naming the problem: a
    bad option value, a missing file or column, an unusable configuration or
    model card, a device that is not there), or a run in which nothing
    succeeded; 128 + N: stopped by signal N (130 for Ctrl-C, 143 for
    SIGTERM).  Any other exception is a bug and shows its traceback.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``galzoo-cnn``; default: the command line.

    Examples
    --------
    >>> from galzoo_cnn.cli import main
    >>> main(["taxonomy", "--five-class"])  # doctest: +IGNORE_OUTPUT
    0
    """
    if os.environ.get("LOCAL_RANK") not in (None, "0"):  # a worker a DDP launcher started: dies with it
        die_with_parent()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = log.level
    log.setLevel("INFO" if args.verbose else "WARNING")
    try:
        with interruptible():
            return args.func(args)
    except Interrupted as err:
        with stop_signals_ignored():  # a second Ctrl-C must not cut the message short
            print(f"galzoo-cnn {args.command}: {err}; finished files are kept, nothing partial was written",
                  file=sys.stderr)
        return EXIT_INTERRUPTED + err.signum
    except (GalzooError, OSError) as err:  # OSError: the user's files (missing, unreadable, no space)
        text = _one_line(err) if getattr(args, "configured", False) else as_options(
            _one_line(err), parser, args.command)
        print(f"galzoo-cnn {args.command}: error: {text}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        log.setLevel(level)


def _one_line(err):
    text = " ".join(str(err).split())
    if isinstance(err, OSError) and err.filename and str(err.filename) not in text:
        text = f"{err.filename}: {text}"
    return text or type(err).__name__


def console_main():
    """The ``galzoo-cnn`` program: `main` on the command line, then exit with its status.

    After a stop by a signal the process only exits: a repeated Ctrl-C (impatient users press it
    twice) is ignored rather than killing the interpreter during its shutdown (exit -2, clean-up of
    worker processes cut short).
    """
    try:
        status = main()
    except KeyboardInterrupt:  # Ctrl-C before the run's own handlers were in place (while importing)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("galzoo-cnn: interrupted by SIGINT; nothing was written", file=sys.stderr)
        status = EXIT_INTERRUPTED + signal.SIGINT
    if status >= EXIT_INTERRUPTED:
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_IGN)
    sys.exit(status)

