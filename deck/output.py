"""Output: reproducible bytes, atomic save, a fingerprint of what was built, hand-edit detection.

A deck is written to a temporary file in its own folder and renamed into place, so a failed or
interrupted build leaves every existing deck as it was. ``.deck-manifest.json`` beside the decks
records the SHA-256 of each deck as built, and ``.deck/<deck>`` keeps a copy of it (the base a
later ``--merge`` compares the hand edits with). A deck whose bytes differ (edited in
PowerPoint, or merged with hand edits) is never overwritten without ``--merge`` or ``--force``,
and then only after a backup with a name of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from .diagnostics import Diagnostic, UserError

MANIFEST = ".deck-manifest.json"
BASES = ".deck"  # beside the manifest: each deck as it was built
_UMASK = os.umask(0)
os.umask(_UMASK)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


_XLSX_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise_package(data: bytes, stamp: str = "2000-01-01T00:00:00Z") -> bytes:
    """Rewrite a package (.pptx, .xlsx) so the same content always gives the same bytes.

    Fixed entry timestamps and permissions, ``[Content_Types].xml`` first and the rest in name
    order, the same compression everywhere. Embedded chart workbooks get the same treatment,
    and their document dates (XlsxWriter stamps the current time) become ``stamp``.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    return pack_parts(parts, stamp)


def repack(data: bytes) -> bytes:
    """A package zipped the reproducible way, every part's bytes as they are (a merged deck
    keeps the user's workbooks untouched)."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    return pack_parts(parts, workbook=lambda payload: payload)


def pack_parts(parts: dict[str, bytes], stamp: str = "2000-01-01T00:00:00Z",
               workbook: Callable[[bytes], bytes] | None = None) -> bytes:
    """Zip package parts reproducibly (see :func:`normalise_package`). ``workbook``
    normalises an embedded workbook (a session passes a memoised one: chart workbooks repeat
    from build to build, and re-zipping them is most of packing's cost)."""
    workbook = workbook or (lambda data: normalise_package(data, stamp))
    is_workbook = "xl/workbook.xml" in parts
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            payload = parts[name]
            if name.endswith(".xlsx"):
                payload = workbook(payload)
            elif name == "docProps/core.xml" and is_workbook:
                payload = _XLSX_DATES.sub(rb"\g<1>" + stamp.encode() + rb"\g<3>", payload)
            dst.writestr(info, payload)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_path(out_dir: Path) -> Path:
    return out_dir / MANIFEST


def read_manifest(out_dir: Path) -> dict[str, str]:
    try:
        data = json.loads(_manifest_path(out_dir).read_text(encoding="utf-8"))
        return {k: v for k, v in data.get("built", {}).items() if isinstance(v, str)}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a deck is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def check_writable(out_dir: Path) -> None:
    """Fail early, before building, when the output folder cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".deck-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise UserError([Diagnostic(str(out_dir), None, "--out",
                                    f"output folder not writable; expected a folder you can "
                                    f"write to, got {exc.strerror}")]) from None


def edited_decks(targets: list[Path]) -> list[Path]:
    """Decks that exist but are not byte-for-byte what the last build wrote."""
    edited = []
    for path in targets:
        if not path.exists():
            continue
        recorded = read_manifest(path.parent).get(path.name)
        if recorded is None or sha256(path.read_bytes()) != recorded:
            edited.append(path)
    return edited


def base_path(deck: Path) -> Path:
    """Where the deck as built is kept: ``out/.deck/<name>``."""
    return deck.parent / BASES / deck.name


def read_base(deck: Path) -> bytes:
    """The deck as last built (the base of a merge); bad input when it is missing or is not
    what the manifest recorded."""
    path = base_path(deck)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        why = (f"no copy of the deck as built in {path.parent} (built by an older deck, or "
               "the folder was removed); expected the base a merge compares your edits with")
    else:
        recorded = read_manifest(deck.parent).get(deck.name)
        if recorded is not None and sha256(data) == recorded:
            return data
        why = (f"{path} is not the deck the manifest says was built; expected its SHA-256 "
               f"in {MANIFEST}" if recorded else
               f"{MANIFEST} has no fingerprint of it; expected the one the build recorded")
    raise UserError([Diagnostic(str(deck), None, "--merge", why + ". Nothing was merged: "
                                "rebuild with --force to keep a backup and start afresh")])


def backup(path: Path, now: dt.datetime | None = None) -> Path:
    """Copy a deck to ``name.YYYYmmdd-HHMMSS[-N].bak.pptx``, a name no other file has (two
    backups in one second get -2, -3...)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    data = path.read_bytes()
    for n in range(1, 10000):
        suffix = "" if n == 1 else f"-{n}"
        target = path.with_name(f"{path.stem}.{stamp}{suffix}.bak{path.suffix}")
        try:
            with open(target, "xb") as fh:  # exclusive: never overwrites a backup
                fh.write(data)
        except FileExistsError:
            continue
        shutil.copystat(path, target)
        return target
    raise OSError(f"{path}: no free backup name for {stamp}")


def refuse_edited(targets: list[Path], force: bool, now: dt.datetime | None = None) -> list[Path]:
    """Raise when a target deck was changed by hand; with ``force`` back it up first.

    Returns the backups made.
    """
    edited = edited_decks(targets)
    if not edited:
        return []
    if not force:
        raise UserError([Diagnostic(
            str(p), None, "",
            "changed since it was built (edited by hand, or merged with hand edits); not "
            "overwriting it. Rebuild with --merge to carry your edits into the new build, or "
            "with --force to keep a backup copy and overwrite") for p in edited])
    return [backup(p, now) for p in edited]


def write_text(path: Path, text: str) -> None:
    """A text file (a merge report), written atomically."""
    _write_atomic(path, text.encode("utf-8"))


def save_decks(decks: dict[Path, bytes], built: dict[Path, bytes] | None = None) -> None:
    """Write every deck atomically, keep each as built in ``.deck/`` and record its
    fingerprint. ``built`` gives the fresh build of a deck whose bytes on disk are a merge
    (default: the deck itself), so a merged deck still counts as edited by hand."""
    built = decks if built is None else {**decks, **built}
    for path, data in built.items():
        base_path(path).parent.mkdir(exist_ok=True)
        _write_atomic(base_path(path), data)
    for path, data in decks.items():
        _write_atomic(path, data)
    by_dir: dict[Path, dict[str, str]] = {}
    for path, data in built.items():
        by_dir.setdefault(path.parent, read_manifest(path.parent))[path.name] = sha256(data)
    for out_dir, fingerprints in by_dir.items():
        text = json.dumps({"generator": "deck", "built": dict(sorted(fingerprints.items()))},
                          indent=2, ensure_ascii=False) + "\n"
        _write_atomic(_manifest_path(out_dir), text.encode("utf-8"))
