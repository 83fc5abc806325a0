# Licensed under a 3-clause BSD style license - see LICENSE
"""One way to build a Lightning ``Trainer``: user-facing errors for impossible settings."""

import logging
import os
import signal

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException

from ..exceptions import InputError, Interrupted


def usable_cores():
    """CPU cores this process may run on (its affinity mask, not the machine's count).

    Examples
    --------
    >>> from galzoo_cnn.utils._lightning import usable_cores
    >>> usable_cores() >= 1
    True
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def max_cpu_processes():
    """The most processes a run may start on CPU: ``conf.max_cpu_processes``, or the usable cores."""
    from ..config import conf

    return int(conf.max_cpu_processes) or usable_cores()


def check_devices(devices, *, accelerator="auto"):
    """Lightning's ``devices`` checked where it enters: a count >= 1, ``'auto'``, or GPU indices.

    On CPU each device is a process: more than `max_cpu_processes` would
    fight for the cores and can exhaust the memory (each holds the model),
    so they are refused with the limit named.

    Examples
    --------
    >>> from galzoo_cnn.utils._lightning import check_devices
    >>> check_devices("2", accelerator="gpu"), check_devices("0,1", accelerator="gpu")
    (2, '0,1')
    >>> check_devices(-1)
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: devices=-1 is not a number of devices >= 1; use 'auto' for all of them
    """
    if devices is None or devices == "auto":
        return devices
    value = devices.strip() if isinstance(devices, str) else devices
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, str):
        indices = [part.strip() for part in value.split(",") if part.strip()]
        if not indices or not all(part.isdigit() for part in indices):
            raise InputError(f"devices={devices!r} is not a number of devices, 'auto' or a list of GPU "
                             f"indices such as '0,1'")
        return value
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
            raise InputError(f"devices={devices!r}: a list of devices holds GPU indices >= 0")
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"devices={devices!r} is not a number of devices >= 1; use 'auto' for all of them")
    on_cpu = accelerator == "cpu" or (accelerator in (None, "auto") and not torch.cuda.is_available())
    if on_cpu and value > max_cpu_processes():
        raise InputError(f"devices={value} would start {value} processes on CPU, where {max_cpu_processes()} "
                         f"core(s) are usable; use devices <= {max_cpu_processes()} (or raise "
                         f"conf.max_cpu_processes to oversubscribe on purpose)")
    return value


def check_workers(num_workers):
    """``num_workers`` (image-decoding processes) checked: an integer >= 0, lowered to `max_cpu_processes`.

    More decoding processes than cores only compete for them (and each
    holds a copy of the dataset): a configuration written for a large
    machine runs on a small one with as many workers as it has cores, and
    says so in the log.

    Examples
    --------
    >>> from galzoo_cnn.utils._lightning import check_workers
    >>> check_workers(0)
    0
    """
    if num_workers is None:
        return None
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise InputError(f"num_workers={num_workers!r} must be an integer >= 0")
    limit = max_cpu_processes()
    if num_workers > limit:
        from astropy import log

        log.warning(f"num_workers={num_workers} lowered to {limit}: {limit} CPU core(s) are usable here "
                    f"(raise conf.max_cpu_processes to use more)")
        return limit
    return num_workers


def physical_memory():
    """Bytes of memory this machine has (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_batch_size(batch_size, bytes_per_image):
    """Refuse a batch whose input tensors alone would take over a quarter of the machine's memory.

    The network's activations need several times more, so such a batch can
    only end in the kernel's out-of-memory killer, after the model is loaded
    and images are read.

    Examples
    --------
    >>> from galzoo_cnn.utils._lightning import check_batch_size
    >>> check_batch_size(256, 3 * 100 * 100 * 5)
    256
    """
    memory = physical_memory()
    if memory and batch_size * bytes_per_image > memory / 4:
        most = max(1, int(memory / 4 // bytes_per_image))
        held = batch_size * bytes_per_image / 2**30
        raise InputError(f"batch_size={batch_size} would hold {held:.1f} GiB of images at once, over a "
                         f"quarter of this machine's {memory / 2**30:.0f} GiB; use "
                         f"batch_size <= {most} (256 is plenty on a CPU)")
    return batch_size


def make_trainer(**options):
    """``lightning.Trainer(**options)``; settings this machine cannot run raise `InputError`.

    ``devices`` is checked first (`check_devices`); Lightning refuses, for
    instance, ``accelerator='gpu'`` without a GPU or ``devices=[3]`` on a
    one-GPU machine; the message names the settings.
    """
    if "devices" in options:
        options["devices"] = check_devices(options["devices"], accelerator=options.get("accelerator", "auto"))
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    logger.addFilter(_no_tips)
    try:
        return L.Trainer(**options)
    except (MisconfigurationException, RuntimeError, ValueError) as err:
        chosen = {k: options.get(k) for k in ("accelerator", "devices", "num_nodes", "strategy", "precision")}
        settings = ", ".join(f"{k}={v!r}" for k, v in chosen.items() if v is not None)
        raise InputError(f"cannot run with {settings}: {' '.join(str(err).split())}") from None
    finally:
        logger.removeFilter(_no_tips)


def _no_tips(record):
    """Lightning's advertisements ("Tip: ... try installing litlogger") are not for astronomers; its
    hardware banner stays."""
    return not str(record.getMessage()).startswith("\N{ELECTRIC LIGHT BULB}")


def raise_if_interrupted(trainer):
    """Raise `~galzoo_cnn.exceptions.Interrupted` if Lightning ended the run on a KeyboardInterrupt.

    Lightning ends ``fit`` and ``predict`` quietly on a KeyboardInterrupt
    that landed before the package's handlers were set (at start-up, or a
    worker's group signal): without this the caller would write its results
    (a model card, a catalogue) as if the run had finished.
    """
    if trainer.interrupted:
        raise Interrupted(signal.SIGINT)


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
