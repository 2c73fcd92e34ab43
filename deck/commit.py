"""All-or-nothing writes into an output folder: a lock, temporaries, a journal, renames.

One build at a time holds the folder's lock (``.deck.lock``; who holds it is written beside
it). A commit writes every new file as a temporary (``.deck-tmp-*``) and syncs it, then writes
a journal (``.deck-journal.json``) naming each temporary, its final name and its digest, then
renames the temporaries into place in the journal's order (the decks, then the manifest),
then deletes the journal. A commit interrupted at any point is thus either not begun (no
journal: the temporaries are left-overs, deleted) or decided (a journal: the next holder of
the lock finishes its renames). Nothing here knows what a deck is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import msgspec

from .diagnostics import Diagnostic, UserError

LOCK = ".deck.lock"
OWNER = ".deck.lock.json"
JOURNAL = ".deck-journal.json"
TMP_PREFIX = ".deck-tmp-"
_UMASK = os.umask(0)
os.umask(_UMASK)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in pieces (a deck may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sync_folder(folder: Path) -> None:
    """Make the folder's entries (new names, renames, deletions) durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows cannot open a folder; its renames are durable enough
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temporary(folder: Path, data: bytes) -> Path:
    """``data`` in a new, synced temporary file in ``folder`` (an ordinary file's mode)."""
    path = folder / f"{TMP_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666 & ~_UMASK)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------------------------------
# the lock


class Holder(msgspec.Struct, frozen=True):
    """Who holds an output folder's lock."""

    pid: int
    host: str
    since: str

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}, since {self.since}"


def _holder(folder: Path) -> Holder | None:
    try:
        data = json.loads((folder / OWNER).read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def import_lock() -> None:
    """Import what :func:`locked` needs (filelock: 12-15 ms of imports). A build does it while
    its language processes finish, rather than at the end, when it saves."""
    import filelock  # noqa: F401


@contextmanager
def locked(folder: Path, wait: float,
           notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``folder``'s lock: at once if it is free, else after waiting up to ``wait``
    seconds (``notify`` is told who holds it); :class:`UserError` naming the holder when it
    is not released in time. The lock is the operating system's (flock), so a build that
    dies releases it."""
    import filelock  # (imported here when not already: see import_lock)

    lock = filelock.FileLock(str(folder / LOCK))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        holder = _holder(folder) or "another build"
        if notify is not None:
            notify(f"{folder}: another build is writing here ({holder}); waiting up to "
                   f"{wait:g} s")
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise UserError([Diagnostic(str(folder), None, "--out", (
                f"locked by another build ({_holder(folder) or holder}); expected it to "
                f"finish within {wait:g} s; try again when it has, or wait longer with "
                "--wait"))]) from None
    try:
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        (folder / OWNER).write_text(json.dumps(me) + "\n", encoding="utf-8")
        yield
    finally:
        (folder / OWNER).unlink(missing_ok=True)
        lock.release()


# ------------------------------------------------------------------------------------------
# the journal


class Staged(msgspec.Struct, frozen=True):
    """A file written as a temporary, to be renamed to ``name`` by the commit."""

    temporary: Path
    name: str
    digest: str


def stage(folder: Path, name: str, data: bytes, digest: str | None = None) -> Staged:
    """``data`` written and synced as a temporary in ``folder``, to become ``name``
    (``digest``: its SHA-256, where the caller has it already)."""
    return Staged(write_temporary(folder, data), name,
                  digest or hashlib.sha256(data).hexdigest())


def commit(folder: Path, staged: list[Staged]) -> None:
    """Rename every staged temporary into place, in order, as one decision: the journal is
    written (atomically) before the first rename and deleted after the last."""
    entries = [{"temporary": s.temporary.name, "name": s.name, "sha256": s.digest}
               for s in staged]
    text = json.dumps({"generator": "deck", "renames": entries}, indent=2) + "\n"
    journal_tmp = write_temporary(folder, text.encode("utf-8"))
    os.replace(journal_tmp, folder / JOURNAL)
    sync_folder(folder)
    _finish(folder, entries)


def _finish(folder: Path, entries: list[dict]) -> None:
    for entry in entries:
        temporary = folder / entry["temporary"]
        if temporary.exists():
            os.replace(temporary, folder / entry["name"])
    sync_folder(folder)
    (folder / JOURNAL).unlink()
    sync_folder(folder)


def recover(folder: Path) -> list[str]:
    """Finish a commit a killed build left decided (its journal), then delete every
    left-over temporary. Returns the names the finished commit renamed ([] if none).
    Call with the lock held."""
    done: list[str] = []
    journal = folder / JOURNAL
    if journal.exists():
        entries = _journal_entries(journal)
        for entry in entries:
            temporary, final = folder / entry["temporary"], folder / entry["name"]
            have = temporary if temporary.exists() else final
            if not have.is_file() or sha256_file(have) != entry["sha256"]:
                raise UserError([Diagnostic(str(journal), None, "", (
                    f"an interrupted save cannot be finished: {entry['name']} is not what it "
                    "wrote; expected the file the journal names. Check the folder, then "
                    "delete the journal"))])
        _finish(folder, entries)
        done = [e["name"] for e in entries]
    for left in folder.glob(TMP_PREFIX + "*"):
        left.unlink(missing_ok=True)
    return done


def _inside(name: object) -> bool:
    """Whether a journal's name stays inside its folder: a file there, or in a subfolder
    of it (``.deck/x.pptx``); never absolute, never ``..``."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    parts = PurePosixPath(name).parts
    return not name.startswith("/") and ".." not in parts and len(parts) <= 2


def _journal_entries(journal: Path) -> list[dict]:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        entries = data["renames"]
        for e in entries:
            if not (isinstance(e["temporary"], str) and e["temporary"].startswith(TMP_PREFIX)
                    and "/" not in e["temporary"] and _inside(e["name"])
                    and isinstance(e["sha256"], str)):
                raise ValueError(e)
        return entries
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError([Diagnostic(str(journal), None, "", (
            f"not a journal this program wrote; expected the record of an interrupted save, "
            f"got {type(exc).__name__}. Check the folder, then delete the journal"))]) from None
