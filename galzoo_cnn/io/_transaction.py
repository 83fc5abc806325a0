# Licensed under a 3-clause BSD style license - see LICENSE
"""All-or-nothing replacement of a set of files, with a journal that survives a kill, and a lock.

The new files are written into a staging directory beside the set
(``.<stem>.galzoo-new``); `FileSetTransaction.commit` records in a journal
which files it is about to replace, moves each existing one into a backup
directory (``.<stem>.galzoo-old``), moves the new one into place, and then
renames the backup directory to ``.<stem>.galzoo-done``.  That one atomic
rename is the commit: whatever order a file system later removes files in,
a ``galzoo-done`` directory means the new set is complete, and a
``galzoo-old`` directory means it is not.  `recover` — run first by every
transaction on the same set — finishes what a killed run left: the old files
of an uncommitted journal return (files that did not exist before are
removed), a committed backup is deleted, a staging directory is deleted.

Recovery acts only on a journal it can trust: one in this module's format,
for this set, naming only files of the set inside its directory and backups
inside the backup directory.  Anything else (a journal planted by another
tool or by hand) is refused and nothing is touched.  `locked` keeps two
processes from writing the same set at once.
"""

import contextlib
import json
import os
import shutil
from pathlib import Path

from ..exceptions import CatalogError
from ..utils._files import current_umask

__all__ = ["FileSetTransaction", "recover", "locked"]

_JOURNAL = "JOURNAL.json"
#: Written into every journal: recovery acts on nothing else.
_JOURNAL_FORMAT = "galzoo_cnn file-set journal 2"


def _dirs(key):
    """The staging, backup and committed-backup directories of the set named ``key``."""
    key = Path(key)
    return tuple(key.parent / f".{key.name}.galzoo-{kind}" for kind in ("new", "old", "done"))


def _is_own_dir(path):
    return path.is_dir() and not path.is_symlink()


def _remove(directory):
    """Delete one of the set's temporary directories; a link or file of that name is refused."""
    if not (directory.exists() or directory.is_symlink()):
        return
    if not _is_own_dir(directory):
        raise CatalogError(f"{str(directory)!r} is not a directory galzoo_cnn made (a link or a file): "
                           f"remove it by hand after checking it")
    shutil.rmtree(directory)


def _journal_entries(key, backup):
    """The journal's entries as ``(target, backup file or None)``, each checked to be of this set."""
    journal = backup / _JOURNAL
    if not journal.exists():
        return []  # killed before the journal was written: nothing was moved yet

    def refuse(why):
        return CatalogError(f"recovery journal {str(journal)!r} {why}; it was not written by galzoo_cnn for "
                            f"{str(key)!r}, so nothing was changed: check it and remove {str(backup)!r} by "
                            f"hand")

    try:
        content = json.loads(journal.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise refuse(f"cannot be read ({err})") from None
    if not (isinstance(content, dict) and content.get("format") == _JOURNAL_FORMAT
            and content.get("set") == key.name and isinstance(content.get("entries"), list)):
        raise refuse("is not a galzoo_cnn journal of this set")
    root = os.path.abspath(key.parent)
    entries = []
    for entry in content["entries"]:
        target, saved = (entry.get("target"), entry.get("backup")) if isinstance(entry, dict) \
            else (None, None)
        if not isinstance(target, str) or os.path.isabs(target) or ".." in Path(target).parts \
                or not Path(target).parts or not Path(target).parts[0].startswith(key.name):
            raise refuse(f"names {target!r}, not a file of the set inside {root!r}")
        if saved is not None and (not isinstance(saved, str) or Path(saved).name != saved
                                  or saved in (".", "..", _JOURNAL)):
            raise refuse(f"names the backup {saved!r}, not a file of its backup directory")
        entries.append((Path(root) / target, None if saved is None else backup / saved))
    return entries


def _roll_back(entries):
    for target, saved in entries:
        if saved is not None and saved.is_file() and not saved.is_symlink():
            os.replace(saved, target)
        elif saved is None and target.is_file() and not target.is_symlink():
            target.unlink()  # it did not exist before the killed run


def recover(key):
    """Finish or roll back what a killed transaction on ``key`` left; remove its temporaries.

    Returns
    -------
    str
        ``'clean'`` (nothing to do), ``'rolled back'`` or ``'completed'``.

    Raises
    ------
    `~galzoo_cnn.exceptions.CatalogError`
        If the journal is not one this module wrote for this set (nothing
        is touched then).
    """
    key = Path(key)
    staging, backup, done = _dirs(key)
    state = "clean"
    if done.exists() or done.is_symlink():  # committed: the new set is complete, the backups are spare
        _remove(done)
        state = "completed"
    if backup.exists() or backup.is_symlink():
        if not _is_own_dir(backup):
            _remove(backup)  # refuses, naming it
        _roll_back(_journal_entries(key, backup))  # every entry checked before any file moves
        _remove(backup)
        state = "rolled back"
    if staging.exists() or staging.is_symlink():
        _remove(staging)
        state = "rolled back" if state == "clean" else state
    return state


@contextlib.contextmanager
def locked(key):
    """Hold the set's lock (``.<stem>.galzoo-lock``, an advisory ``flock``) for the block.

    A second process that tries to write the same set meanwhile gets a
    `~galzoo_cnn.exceptions.CatalogError` saying so, at once.  The lock file
    is removed when the block ends.  Where ``fcntl`` is missing (Windows) the
    block runs unlocked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from galzoo_cnn.io._transaction import locked
    >>> key = pathlib.Path(tempfile.mkdtemp()) / "cat"
    >>> with locked(key):
    ...     with locked(key):
    ...         pass
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.CatalogError: catalogue '...cat' is being written by another process ...
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    key = Path(key)
    path = key.parent / f".{key.name}.galzoo-lock"
    busy = CatalogError(f"catalogue {str(key)!r} is being written by another process (lock {str(path)!r}); "
                        f"wait for it to finish")
    for _ in range(5):  # the lock file can be replaced between open and lock by a writer that finished
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666 & ~current_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        try:
            current = os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)
    else:
        raise busy
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still holding it: a process that opened it will see another inode
        os.close(fd)


class FileSetTransaction:
    """Stage new versions of ``targets``, then replace them all together.

    Parameters
    ----------
    key : path
        Names the set (its staging and backup directories sit beside it).
    targets : sequence of path
        The files to write, in ``key``'s directory (or a directory in it
        whose name starts with ``key``'s).

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
        self.staging, self.backup, self.done = _dirs(self.key)
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
        mode = 0o666 & ~current_umask()
        for target in self.targets:
            os.chmod(self.staged(target), mode)
            target.parent.mkdir(parents=True, exist_ok=True)
        self.backup.mkdir()
        root = os.path.abspath(self.key.parent)
        entries = [{"target": os.path.relpath(os.path.abspath(t), root),
                    "backup": f"{i}_{t.name}" if t.exists() else None} for i, t in enumerate(self.targets)]
        journal = self.backup / (_JOURNAL + ".part")
        journal.write_text(json.dumps({"format": _JOURNAL_FORMAT, "set": self.key.name, "entries": entries}))
        os.replace(journal, self.backup / _JOURNAL)
        for target, entry in zip(self.targets, entries):
            if entry["backup"] is not None:
                os.replace(target, self.backup / entry["backup"])
            os.replace(self.staged(target), target)
        os.replace(self.backup, self.done)  # the commit: one atomic rename
        shutil.rmtree(self.done)
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
