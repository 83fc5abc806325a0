# Licensed under a 3-clause BSD style license - see LICENSE
"""The ``galzoo-cnn`` program (also ``python -m galzoo_cnn``).

This module imports nothing heavy before it can catch a Ctrl-C: the
command's modules (astropy, torch, Lightning) take a second or more to load,
and a Ctrl-C then must stop the program with a message and exit status 130,
not a traceback.
"""

import os
import signal
import sys

__all__ = ["console_main"]


def console_main():
    """Load the command line and run it; a Ctrl-C while loading exits with status 130 and a message.

    Examples
    --------
    >>> import subprocess, sys
    >>> command = [sys.executable, "-m", "galzoo_cnn", "--version"]
    >>> out = subprocess.run(command, capture_output=True, text=True)
    >>> out.returncode, out.stdout.startswith("galzoo-cnn")
    (0, True)
    """
    try:
        from galzoo_cnn.cli import console_main as run
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the exit
        print("galzoo-cnn: interrupted by SIGINT while starting; nothing was written", file=sys.stderr)
        sys.stderr.flush()
        # not sys.exit: the interpreter's shutdown after an import cut short by a Ctrl-C can end the
        # process by SIGINT itself (seen under load), and nothing has started that needs it
        os._exit(128 + signal.SIGINT)
    run()


if __name__ == "__main__":
    console_main()
