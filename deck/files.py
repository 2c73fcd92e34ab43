"""Every file a build reads: confined to the folders a build may read, links resolved before
the check, regular files only, each kind with a size limit.

The data file and a ``--template`` are named by the user and may lie anywhere; their folders
and the package's own resources are the *roots*. Everything else a build opens (outline
templates and their includes, images, label catalogs, the template's mapping) must resolve,
symlinks followed, to a regular file inside a root. Every refusal is a diagnostic naming the
path (exit 2).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import msgspec

from .diagnostics import Diagnostic, UserError
from .resources import assets_dir, templates_dir

MB = 1024 * 1024
#: the largest file of each kind a build reads (bytes)
MAX_BYTES = {
    "data file": 2 * MB,
    "label catalog": 256 * 1024,
    "template mapping": 256 * 1024,
    "outline template": MB,
    "image": 20 * MB,
    "template": 50 * MB,
}


class Roots(msgspec.Struct, frozen=True):
    """The folders one build may read from (resolved, so links cannot lead out of them)."""

    folders: tuple[Path, ...]

    @classmethod
    def of(cls, *folders: Path) -> Roots:
        """``folders`` (resolved) and the package's resources."""
        every = [Path(f).resolve() for f in folders]
        every += [templates_dir().resolve(), assets_dir().resolve()]
        return cls(tuple(dict.fromkeys(every)))

    @classmethod
    def for_build(cls, data: Path, template: Path | None = None) -> Roots:
        """The data file's folder, the template's folder, and the package's resources."""
        folders = [Path(data).resolve().parent]
        if template is not None:
            folders.append(Path(template).resolve().parent)
        return cls.of(*folders)

    def confine(self, path: Path, what: str, field: str = "") -> Path:
        """``path`` with every link resolved, if that lies inside a root; else
        :class:`UserError` naming the path and where it leads."""
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(root) for root in self.folders):
            shown = ", ".join(str(f) for f in self.folders)
            raise UserError([Diagnostic(str(path), None, field, (
                f"{what} outside the folders a build may read; expected a file inside "
                f"{shown}, got one that resolves to {resolved}"))])
        return resolved

    def find(self, name: str | Path, search: tuple[Path, ...], what: str,
             field: str = "") -> tuple[Path, Path] | None:
        """The first ``search/name`` that exists, as found and resolved (see
        :meth:`confine`); None when there is none. ``name`` must be relative and stay below
        its folder."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise UserError([Diagnostic(str(name), None, field, (
                f"{what} path escapes its folder; expected a relative path inside "
                f"{' or '.join(str(s) for s in search)}, got {str(name)!r}"))])
        for folder in search:
            candidate = folder / rel
            if os.path.lexists(candidate):
                return candidate, self.confine(candidate, what, field)
        return None


def read_bytes(path: Path, what: str, field: str = "", shown: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``MAX_BYTES[what]``; :class:`UserError` naming
    the file when it is missing, unreadable, a folder, a pipe or a device, or too large."""
    limit = MAX_BYTES[what]
    shown = shown or str(path)

    def refuse(message: str) -> UserError:
        return UserError([Diagnostic(shown, None, field, message)])

    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise refuse(f"{what} not found; expected a file, got no such file") from None
    except OSError as exc:
        raise refuse(f"cannot read the {what}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise refuse(f"{what} is {kind}; expected a regular file")
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > limit:
            raise refuse(f"{what} too large; expected at most {_size(limit)}, got "
                         f"{_size(info.st_size)}")
        try:
            data = fh.read(limit + 1)  # the size may change between fstat and read
        except OSError as exc:
            raise refuse(f"cannot read the {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise refuse(f"{what} too large; expected at most {_size(limit)}, got more")
    return data


def read_text(path: Path, what: str, field: str = "", shown: str | None = None) -> str:
    """A file read with :func:`read_bytes`, decoded as UTF-8 (a BOM is dropped)."""
    data = read_bytes(path, what, field, shown)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError([Diagnostic(shown or str(path), None, field, (
            f"not UTF-8 text; expected a UTF-8 {what}, got byte {data[exc.start]:#04x} at "
            f"offset {exc.start}"))]) from None


def _size(n: int) -> str:
    """A size for people.

    >>> _size(2 * MB), _size(1536), _size(12)
    ('2 MB', '1.5 KB', '12 bytes')
    """
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"
