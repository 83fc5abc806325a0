# Licensed under a 3-clause BSD style license - see LICENSE
"""Turning SIGINT / SIGTERM into an exception, so that long runs stop cleanly."""

import contextlib
import signal
import sys
import threading
import time

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

    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}
    # blocks inside blocks share one record of the stop: after an inner block has raised, the outer
    # block's handler (restored by the inner one) must ignore the repeated signal too, until the
    # whole clean-up has run
    stopping = getattr(previous[signal.SIGINT], "stopping", [])
    held = getattr(previous[signal.SIGINT], "held", [])
    # imports already under way when the block starts (a script whose import runs the whole job) are
    # the run itself: only those started inside the block hold a signal
    outer = _import_depth(sys._getframe())

    def _raise(signum, frame):
        # a second Ctrl-C must not interrupt the clean-up: this handler ignores it, rather than installing
        # SIG_IGN, which a library that saved and restores the handlers in between (Lightning's signal
        # connector does) could leave behind after the run
        if stopping:
            return
        if _import_depth(frame) > outer:
            # an exception raised inside an import (torch's takes seconds) can abort the process from
            # C++, turn into another error (RuntimeError from a class's __set_name__) or be swallowed by
            # the library: the signal is held, and sent again once the import is over
            if not held:
                held.append(signum)
                main = threading.main_thread().ident
                threading.Thread(target=_send_after_import, args=(signum, main, outer), daemon=True).start()
            return
        held.clear()
        stopping.append(signum)
        raise Interrupted(signum)

    _raise.stopping, _raise.held = stopping, held
    try:  # handlers set inside the try: a signal arriving between the two calls still restores both
        for stop in STOP_SIGNALS:
            signal.signal(stop, _raise)
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _import_depth(frame):
    """How many frames of the import machinery ``frame`` and the frames that called it are inside: more
    for each import under way."""
    depth = 0
    while frame is not None:
        depth += frame.f_code.co_filename.startswith("<frozen importlib._bootstrap")
        frame = frame.f_back
    return depth


def _send_after_import(signum, thread_id, depth, poll=0.02):
    """Send ``signum`` to the thread ``thread_id`` once its imports are back to ``depth`` (or it ended)."""
    while (frame := sys._current_frames().get(thread_id)) is not None and _import_depth(frame) > depth:
        time.sleep(poll)
    if frame is not None:
        signal.pthread_kill(thread_id, signum)


def die_with_parent(signum=signal.SIGTERM):
    """Have the kernel send ``signum`` to this process when its parent exits (Linux; elsewhere nothing).

    For the worker processes a launcher starts (Lightning's DDP launcher runs
    the command again per device): killed with its parent, a worker is never
    left behind to hold cores and memory.  Returns whether it was set.

    Examples
    --------
    First thing in a worker process's entry point::

        from galzoo_cnn.utils._signals import die_with_parent
        die_with_parent()
    """
    import ctypes
    import ctypes.util
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signum), 0, 0, 0) != 0:
            return False
    except OSError:
        return False
    if os.getppid() != parent:  # the parent died before the request was in place
        os.kill(os.getpid(), signum)
    return True


def quiet_worker(worker_id=None):
    """``worker_init_fn`` of the package's DataLoaders: a worker leaves stopping to the main process.

    A forked worker inherits the handler `interruptible` installed, so a
    Ctrl-C sent to the whole process group (what a terminal does) made each
    worker raise `~galzoo_cnn.exceptions.Interrupted` and die with a
    traceback.  Workers ignore SIGINT (the main process stops and shuts them
    down), take SIGTERM's default, die with their parent, and say nothing of
    the connections to the main process that its stop breaks.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.utils._signals import quiet_worker
    >>> loader = torch.utils.data.DataLoader(range(4), num_workers=0, worker_init_fn=quiet_worker)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    threading.excepthook = _quiet_thread_about_lost_peers
    # multiprocessing's resource sharer reports its thread's errors through sys.excepthook itself
    sys.excepthook = _quiet_about_lost_peers


#: What a worker's threads raise when the main process they talk to has stopped.
_LOST_PEER = (ConnectionError, EOFError)


def _quiet_about_lost_peers(exc_type, value, traceback):
    """A worker's threads (multiprocessing's resource sharer hands batches' shared memory to the main
    process) lose their peer when the main process stops mid-batch: that is the stop, not an error.

    Examples
    --------
    >>> from galzoo_cnn.utils._signals import _quiet_about_lost_peers
    >>> _quiet_about_lost_peers(EOFError, EOFError(), None)  # prints nothing
    """
    if not issubclass(exc_type, _LOST_PEER):
        sys.__excepthook__(exc_type, value, traceback)


def _quiet_thread_about_lost_peers(args):
    if not issubclass(args.exc_type, _LOST_PEER):
        threading.__excepthook__(args)


@contextlib.contextmanager
def stop_signals_ignored():
    """SIGINT and SIGTERM ignored inside the block (a second Ctrl-C must not cut a message short)."""
    previous = {stop: signal.signal(stop, signal.SIG_IGN) for stop in STOP_SIGNALS}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
