# Licensed under a 3-clause BSD style license - see LICENSE
"""Turning SIGINT / SIGTERM into an exception, so that long runs stop cleanly."""

import contextlib
import signal
import threading

from ..exceptions import Interrupted

#: The signals that stop a run: Ctrl-C, and what batch schedulers and ``kill`` send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def interruptible():
    """Raise `~galzoo_cnn.exceptions.Interrupted` in the main thread on SIGINT or SIGTERM.

    Python's default SIGTERM kills the process without running ``finally``
    blocks, and Lightning's own handlers only note the signal, so a run would
    either lose its clean-up or run on to the end.  Raising an exception lets
    every stage unwind: temporary files are removed, finished files kept
    (downloads and training resume from them), nothing half-written is
    renamed into place.  Outside the main thread (where Python cannot set
    handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stopping = []

    def _raise(signum, frame):
        # a second Ctrl-C must not interrupt the clean-up: this handler ignores it, rather than installing
        # SIG_IGN, which a library that saved and restores the handlers in between (Lightning's signal
        # connector does) could leave behind after the run
        if stopping:
            return
        stopping.append(signum)
        raise Interrupted(signum)

    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}
    try:  # handlers set inside the try: a signal arriving between the two calls still restores both
        for stop in STOP_SIGNALS:
            signal.signal(stop, _raise)
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
