# Licensed under a 3-clause BSD style license - see LICENSE
"""All-or-nothing replacement of a set of files, with a journal that survives a kill.

The new files are written into a staging directory beside the set
(``.<stem>.galzoo-new``); `FileSetTransaction.commit` records in a journal
which files it is about to replace, moves each existing one into a backup
directory (``.<stem>.galzoo-old``), moves the new one into place, and marks
the journal committed before deleting the backups.  `recover` — run first
by every transaction on the same set — finishes what a killed run left: an
uncommitted journal is rolled back (the old files return, files that did not
exist before are removed), a committed one is cleaned up, a staging
directory is deleted.  Files of the set's directories that are not among the
targets are never touched.
"""

import json
import os
import shutil
from pathlib import Path

from ..tables import _current_umask

__all__ = ["FileSetTransaction", "recover"]

_JOURNAL, _COMMITTED = "JOURNAL.json", "COMMITTED"


def _dirs(key):
    key = Path(key)
    return key.parent / f".{key.name}.galzoo-new", key.parent / f".{key.name}.galzoo-old"


def recover(key):
    """Finish or roll back what a killed transaction on ``key`` left; remove its temporaries.

    Returns
    -------
    str
        ``'clean'`` (nothing to do), ``'rolled back'`` or ``'completed'``.
    """
    staging, backup = _dirs(key)
    state = "clean"
    if backup.exists():
        journal = backup / _JOURNAL
        if (backup / _COMMITTED).exists():
            state = "completed"
        elif journal.exists():
            for entry in json.loads(journal.read_text()):
                target, saved = Path(entry["target"]), entry["backup"]
                if saved is not None and (backup / saved).exists():
                    os.replace(backup / saved, target)
                elif saved is None and target.exists():
                    target.unlink()  # it did not exist before the killed run
            state = "rolled back"
        shutil.rmtree(backup)
    if staging.exists():
        shutil.rmtree(staging)
        state = "rolled back" if state == "clean" else state
    return state


class FileSetTransaction:
    """Stage new versions of ``targets``, then replace them all together.

    Parameters
    ----------
    key : path
        Names the set (its staging and backup directories sit beside it).
    targets : sequence of path
        The files to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from galzoo_cnn.io._transaction import FileSetTransaction
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with FileSetTransaction(d / "cat", [d / "cat.a", d / "cat.b"]) as t:
    ...     for target in t.targets:
    ...         _ = t.staged(target).write_text("new")
    >>> sorted(p.name for p in d.iterdir())
    ['cat.a', 'cat.b']
    """

    def __init__(self, key, targets):
        self.key = Path(key)
        self.targets = [Path(t) for t in targets]
        self.staging, self.backup = _dirs(self.key)
        recover(self.key)
        self.staging.mkdir(parents=True)

    def staged(self, target):
        """The temporary path where the new version of ``target`` is written."""
        index = self.targets.index(Path(target))
        folder = self.staging / str(index)  # one folder per target: the file keeps its own name
        folder.mkdir(exist_ok=True)
        return folder / Path(target).name

    def commit(self):
        """Replace every target by its staged version (all of them, or after a kill none)."""
        missing = [str(t) for t in self.targets if not self.staged(t).exists()]
        if missing:
            raise RuntimeError(f"nothing staged for {', '.join(missing)}")
        mode = 0o666 & ~_current_umask()
        for target in self.targets:
            os.chmod(self.staged(target), mode)
            target.parent.mkdir(parents=True, exist_ok=True)
        self.backup.mkdir()
        entries = [{"target": str(t.resolve()), "backup": f"{i}_{t.name}" if t.exists() else None}
                   for i, t in enumerate(self.targets)]
        journal = self.backup / (_JOURNAL + ".part")
        journal.write_text(json.dumps(entries))
        os.replace(journal, self.backup / _JOURNAL)
        for target, entry in zip(self.targets, entries):
            if entry["backup"] is not None:
                os.replace(target, self.backup / entry["backup"])
            os.replace(self.staged(target), target)
        (self.backup / _COMMITTED).touch()
        shutil.rmtree(self.backup)
        shutil.rmtree(self.staging)

    def abort(self):
        """Discard what was staged; the targets are untouched."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
            return False
        try:
            self.commit()
        except BaseException:
            recover(self.key)  # puts back whatever the failed commit had moved
            raise
        return False
