"""Output: reproducible bytes, a fingerprint of what was built, hand-edit detection, and the
save: every deck of a build and the manifest together, or nothing (:mod:`deck.commit`).

``.deck-manifest.json`` beside the decks records the SHA-256 of each deck as built, and
``.deck/<deck>`` keeps a copy of it (the base a later ``--merge`` compares the hand edits
with). A deck whose bytes are neither what was recorded nor what this build makes (edited in
PowerPoint, or merged with hand edits) is never overwritten without ``--merge`` or
``--force``, and then only after a backup under a name no other backup has. A manifest that
is missing or unreadable is said to be so, never taken for an edit. A build that fails leaves
the folder as it was, and creates none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import msgspec

from . import commit as c
from .diagnostics import Diagnostic, UserError

MANIFEST = ".deck-manifest.json"
BASES = ".deck"  # beside the manifest: each deck as it was built
#: a manifest records a line per deck: far more than any folder holds
MAX_MANIFEST_BYTES = 16 * 2**20
#: the longest file name most file systems allow (bytes)
NAME_MAX = 255
#: what a backup's name adds to its deck's: ".20250202-080000-99.bak"
_BACKUP_EXTRA = 23
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


class Manifest(msgspec.Struct, frozen=True):
    """The manifest as found: its records, or why there are none (``problem``)."""

    built: dict[str, str]
    problem: str | None = None  # "missing", or what is wrong with it


def read_manifest(out_dir: Path) -> Manifest:
    """The records of ``out_dir``'s manifest, or what stops reading them."""
    path = out_dir / MANIFEST
    if not os.path.lexists(path):
        return Manifest({}, "missing")
    if not path.is_file():
        return Manifest({}, "not a file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        return Manifest({}, f"larger than {MAX_MANIFEST_BYTES // 2**20} MB")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return Manifest({}, f"unreadable ({exc})")
    except ValueError as exc:
        return Manifest({}, f"not valid JSON ({exc})")
    built = data.get("built") if isinstance(data, dict) else None
    if not isinstance(built, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in built.items()):
        return Manifest({}, 'not a manifest; expected {"built": {"<deck>": "<sha256>"}}')
    return Manifest(built)


def check_output(out_dir: Path, names: list[str]) -> None:
    """Refuse, before building, an output folder the decks cannot go to: ``--out`` empty or
    a file, no folder that can be written on the way to it, a deck name too long for the file
    system, a deck or the manifest that is a folder. Creates nothing."""
    problems = []
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        problems.append(f"{existing} is not a folder; expected a folder (or nothing) there")
    elif not os.access(existing, os.W_OK | os.X_OK):
        problems.append(f"output folder not writable; expected a folder you can write to, "
                        f"got {existing} (permission denied)")
    for name in names:
        size = len(name.encode("utf-8")) + _BACKUP_EXTRA
        if size > NAME_MAX:
            problems.append(f"deck name {name[:40]}... too long; expected at most "
                            f"{NAME_MAX - _BACKUP_EXTRA} bytes (its backups need "
                            f"{_BACKUP_EXTRA} more), got {size - _BACKUP_EXTRA}: use a data "
                            "file with a shorter name")
        elif (out_dir / name).is_dir():
            problems.append(f"{out_dir / name} is a folder; expected a deck file (or nothing) "
                            "there")
    if (out_dir / MANIFEST).is_dir():
        problems.append(f"{out_dir / MANIFEST} is a folder; expected the manifest file (or "
                        "nothing) there")
    if problems:
        raise UserError([Diagnostic(str(out_dir), None, "--out", p) for p in problems])


class Saved(msgspec.Struct, frozen=True):
    """What a save did besides writing the decks."""

    backups: tuple[Path, ...]
    finished: tuple[str, ...]  # files an interrupted earlier save had left, now in place
    backed_up: dict[str, Path] = msgspec.field(default_factory=dict)  # deck name: its backup


def save_decks(out_dir: Path, decks: dict[str, bytes], *, built: dict[str, bytes] | None = None,
               merged: frozenset[str] = frozenset(),
               extra: Callable[[dict[str, Path]], dict[str, bytes]] | None = None,
               unchanged: dict[str, bytes] | None = None,
               force: bool = False, wait: float = 60,
               notify: Callable[[str], None] | None = None,
               now: dt.datetime | None = None) -> Saved:
    """Write every deck into ``out_dir``, keep each as built in ``.deck/`` and record it in
    the manifest, all or nothing.

    ``built`` gives the fresh build of each deck (default: ``decks``): a deck merged with
    hand edits is written as merged but recorded as built, so it still counts as edited
    later; a deck in ``built`` alone is recorded and not written. The decks named in
    ``merged`` were merged from the deck on disk: it is backed up, never refused. ``extra``
    makes more files (merge reports) from the backups made (deck name: backup); they go into
    the same commit. ``unchanged`` gives decks as they were read to plan this save (a merge):
    one that differs now is refused. With the folder's lock held: finish an
    interrupted earlier save, refuse (or with ``force`` back up) decks changed since they were
    built, then commit. Raises :class:`UserError` (the folder as it was) for what stops the
    save; a folder this call created is removed again when it fails.
    """
    built = decks if built is None else {**decks, **built}
    check_output(out_dir, list(built))
    created = _make_folders(out_dir)
    try:
        with c.locked(out_dir, wait, notify):
            finished = c.recover(out_dir)
            _refuse_changed(out_dir, unchanged or {})
            manifest = read_manifest(out_dir)
            edited = [n for n in _edited(out_dir, decks, manifest) if n not in merged]
            if edited and not force:
                raise UserError([_edited_problem(out_dir, name, manifest) for name in edited])
            backups = {name: backup(out_dir / name, now) for name in [*edited, *merged]
                       if (out_dir / name).is_file()}
            _commit(out_dir, decks, built, extra(backups) if extra else {}, manifest)
    except OSError as exc:  # a file the folder holds that cannot be read, moved or replaced
        _remove_created(created)
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError([Diagnostic(str(out_dir), None, "--out", (
            f"could not save: {exc.strerror or exc}{where}; expected an output folder this "
            "build can read and write; nothing was written"))]) from None
    except BaseException:
        _remove_created(created)
        raise
    return Saved(tuple(backups.values()), tuple(finished), backups)


def finish_interrupted_save(out_dir: Path, wait: float = 60,
                            notify: Callable[[str], None] | None = None) -> None:
    """Finish (or roll back) a save a killed build left, under the folder's lock, before
    anything reads the folder's decks to plan a new save (a merge)."""
    if (out_dir / c.JOURNAL).exists() or any(out_dir.glob(f"{c.TMP_PREFIX}*")):
        with c.locked(out_dir, wait, notify):
            c.recover(out_dir)


def _refuse_changed(out_dir: Path, planned: dict[str, bytes]) -> None:
    """UserError naming each deck that is no longer what the save was planned from."""
    changed = [name for name, data in planned.items()
               if not (out_dir / name).is_file() or (out_dir / name).read_bytes() != data]
    if changed:
        raise UserError([Diagnostic(str(out_dir / name), None, "", (
            "changed while this build was merging it (another build, or an editor saving "
            "it); expected it as it was when the merge began; nothing was written: run "
            "--merge again")) for name in changed])


def _make_folders(out_dir: Path) -> list[Path]:
    """Create ``out_dir`` and its missing parents; the ones created, deepest first."""
    missing = []
    folder = out_dir
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError([Diagnostic(str(out_dir), None, "--out", f"cannot create the output "
                                    f"folder: {exc.strerror}")]) from None
    return missing


def _remove_created(created: list[Path]) -> None:
    for folder in created:
        for name in (c.LOCK, c.OWNER):
            (folder / name).unlink(missing_ok=True)
        try:
            (folder / BASES).rmdir()
        except OSError:
            pass  # none, or not empty
        try:
            folder.rmdir()
        except OSError:
            return  # not empty: someone else's now


def _edited(out_dir: Path, decks: dict[str, bytes], manifest: Manifest) -> list[str]:
    """Decks present that are neither as recorded nor as this build makes them."""
    edited = []
    for name, data in decks.items():
        path = out_dir / name
        if not path.is_file():
            continue
        digest = c.sha256_file(path)
        if digest not in (manifest.built.get(name), sha256(data)):
            edited.append(name)
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
        manifest = read_manifest(deck.parent)
        recorded = manifest.built.get(deck.name)
        if recorded is not None and sha256(data) == recorded:
            return data
        why = (f"{path} is not the deck the manifest says was built; expected its SHA-256 "
               f"in {MANIFEST}" if recorded else
               f"{MANIFEST} is {manifest.problem}; expected the fingerprint the build "
               "recorded" if manifest.problem else
               f"{MANIFEST} has no fingerprint of it; expected the one the build recorded")
    raise UserError([Diagnostic(str(deck), None, "--merge", why + ". Nothing was merged: "
                                "rebuild with --force to keep a backup and start afresh")])


def edited_decks(out_dir: Path, decks: dict[str, bytes]) -> list[str]:
    """The decks ``out_dir`` holds that are neither as recorded nor as ``decks`` has them
    (with no readable manifest, every deck present)."""
    manifest = read_manifest(out_dir)
    return _edited(out_dir, decks, manifest)


def _edited_problem(out_dir: Path, name: str, manifest: Manifest) -> Diagnostic:
    path = out_dir / name
    fix = ("Rebuild with --merge to carry your edits into the new build, or with --force to "
           "keep a backup copy and overwrite")
    if manifest.problem is not None:
        why = (f"the manifest {out_dir / MANIFEST} is {manifest.problem}, so whether it was "
               "edited by hand cannot be told; not overwriting it")
        fix = "Save your edits under another name, or rebuild with --force to keep a backup " \
              "copy and overwrite"
    elif name not in manifest.built:
        why = "not recorded in the manifest as built here; not overwriting it"
    else:
        why = "changed since it was built (edited by hand?); not overwriting it"
    return Diagnostic(str(path), None, "", f"{why}. {fix}")


def backup(path: Path, now: dt.datetime | None = None) -> Path:
    """A copy of ``path`` as ``<deck>.<time>.bak.pptx``, under a name no file has yet (two
    backups in one second get -2, -3...)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    temporary = c.write_temporary(path.parent, path.read_bytes())
    try:
        for n in range(1, 100):
            tag = stamp if n == 1 else f"{stamp}-{n}"
            target = path.with_name(f"{path.stem}.{tag}.bak{path.suffix}")
            try:
                os.link(temporary, target)  # fails if the name is taken: never overwrites
            except FileExistsError:
                continue
            except OSError:  # no hard links here (FAT, some shares): the lock makes this safe
                if os.path.lexists(target):
                    continue
                os.replace(temporary, target)
            return target
        raise UserError([Diagnostic(str(path), None, "", "too many backups this second; "
                                    "expected fewer than 100, try again")])
    finally:
        temporary.unlink(missing_ok=True)
        c.sync_folder(path.parent)


def _commit(out_dir: Path, decks: dict[str, bytes], built: dict[str, bytes],
            extra: dict[str, bytes], manifest: Manifest) -> None:
    """One journaled commit: the decks, their bases in ``.deck/``, ``extra`` files, then
    the manifest with the fingerprints of ``built``."""
    digests = {id(data): sha256(data) for data in built.values()}  # each deck hashed once
    fingerprints = {**manifest.built, **{name: digests[id(data)] for name, data in built.items()}}
    text = json.dumps({"generator": "deck", "built": dict(sorted(fingerprints.items()))},
                      indent=2, ensure_ascii=False) + "\n"
    files = {**decks, **{f"{BASES}/{name}": data for name, data in built.items()}, **extra}
    (out_dir / BASES).mkdir(exist_ok=True)
    staged = []
    try:
        for name, data in files.items():
            staged.append(c.stage(out_dir, name, data, digests.get(id(data))))
        staged.append(c.stage(out_dir, MANIFEST, text.encode("utf-8")))
        c.commit(out_dir, staged)
    except OSError as exc:
        journal = (out_dir / c.JOURNAL).exists()
        for s in staged if not journal else ():
            s.temporary.unlink(missing_ok=True)
        raise UserError([Diagnostic(str(out_dir), None, "--out", (
            f"could not save: {exc.strerror or exc}; "
            + ("the next build finishes this save" if journal else "nothing was written")))]
        ) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
