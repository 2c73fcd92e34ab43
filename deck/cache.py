"""A cache that outlives the process: what one ``python build.py`` computed, the next reuses.

Values are kept by the digest of the *value* of their key (its ``repr``: keys are frozen
dataclasses, tuples, strings, numbers and bytes, whose repr is their value) together with a
fingerprint of this package's own code, so a changed input or a changed program simply misses.
The store is a folder of files, one per value, each written whole (temporary file, then
rename) and checked when read: a missing, truncated or corrupt file is a miss and is removed;
deleting the folder at any time is safe. It is bounded: past :attr:`DiskCache.limit_bytes`,
the least recently used files go. It never decides what a deck contains: a hit returns exactly
what the same computation returned before.

The folder is the user's own cache (``$XDG_CACHE_HOME/deck``, or ``~/.cache/deck``; set
``DECK_CACHE_DIR`` to move it, or pass ``--no-cache``), created readable by its owner only:
values are unpickled, so no one else may write there.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

V = TypeVar("V")

_MAGIC = b"deck-cache-1\n"
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def default_folder() -> Path:
    """Where the cache lives unless ``DECK_CACHE_DIR`` says otherwise."""
    if os.environ.get("DECK_CACHE_DIR"):
        return Path(os.environ["DECK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deck"


def code_fingerprint() -> str:
    """A digest of this package's source files: values made by other code never match."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class DiskCache:
    """Values by the digest of their key's value, in files under ``folder``."""

    def __init__(self, folder: Path, limit_bytes: int = 256 * 2**20,
                 fingerprint: str | None = None):
        self.folder = folder
        self.limit_bytes = limit_bytes
        self.fingerprint = fingerprint or code_fingerprint()
        self.hits = 0
        self.misses = 0
        self._written = 0
        self._usable: bool | None = None

    def usable(self) -> bool:
        """Whether the folder is this user's own and no one else can write to it (values are
        unpickled); made, private, if it does not exist."""
        if self._usable is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                st = self.folder.stat()
                if st.st_uid == os.getuid() and st.st_mode & 0o077:
                    os.chmod(self.folder, 0o700)
                    st = self.folder.stat()
                self._usable = st.st_uid == os.getuid() and not st.st_mode & 0o022
            except OSError:
                self._usable = False
        return self._usable

    def _path(self, namespace: str, key: Any) -> Path | None:
        # the key's repr, not its pickle: a pickle records which parts are the same object,
        # so equal values read back from this cache would pickle differently from fresh ones
        text = repr((self.fingerprint, namespace, key))
        if _ADDRESS.search(text):
            return None  # an object without a value repr (its address): not cached
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / namespace / digest[:2] / f"{digest}.bin"

    def get(self, namespace: str, key: Any, make: Callable[[], V]) -> V:
        """The value kept for ``key`` in ``namespace``, or ``make()`` kept for next time."""
        path = self._path(namespace, key) if self.usable() else None
        if path is None:
            return make()
        found = self._read(path)
        if found is not None:
            self.hits += 1
            return found[0]
        self.misses += 1
        value = make()
        self._write(path, value)
        return value

    def load(self, namespace: str, key: Any) -> tuple[Any] | None:
        """``(value,)`` if one is kept for ``key``, else None."""
        path = self._path(namespace, key) if self.usable() else None
        found = self._read(path) if path is not None else None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def store(self, namespace: str, key: Any, value: Any) -> None:
        """Keep ``value`` for ``key`` (replacing what was kept)."""
        path = self._path(namespace, key) if self.usable() else None
        if path is not None:
            self._write(path, value)

    def _read(self, path: Path) -> tuple[Any] | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        body = data[len(_MAGIC) + 4:]
        try:
            if not data.startswith(_MAGIC) or int.from_bytes(
                    data[len(_MAGIC):len(_MAGIC) + 4], "big") != zlib.crc32(body):
                raise ValueError("torn or foreign file")
            value = pickle.loads(body)
        except Exception:  # noqa: BLE001 - any damage is a miss, and the file goes
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)  # recently used: kept longest when the cache is trimmed
        except OSError:
            pass
        return (value,)

    def _write(self, path: Path, value: Any) -> None:
        try:
            body = pickle.dumps(value, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        data = _MAGIC + zlib.crc32(body).to_bytes(4, "big") + body
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot be written is a cache that is not used
        self._written += len(data)
        if self._written > self.limit_bytes // 8:
            self._written = 0
            self.trim()

    def trim(self) -> None:
        """Remove the least recently used files until the cache fits its limit."""
        try:
            files = [(p.stat().st_mtime_ns, p.stat().st_size, p)
                     for p in self.folder.rglob("*.bin")]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.limit_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
