"""All-or-nothing output: the manifest's states, backups, a journal finished after a kill,
the lock, a full disk, and two loops: builds killed while saving, and builds saving into one
folder at once. After every try the folder must be consistent: each deck the manifest names
is there with the recorded bytes, no deck is unrecorded, no temporary or journal is left once
the next build has run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import zipfile
from pathlib import Path

import filelock
import pytest
from helpers import BIKESHARE, DEFAULT_DATA, copy_bikeshare, files_in
from zygote import Zygote

from deck import commit as c
from deck.diagnostics import UserError
from deck.output import BASES, MANIFEST, normalise_package, read_manifest, save_decks

pytest.importorskip("resource")  # the loops fork and kill: POSIX


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def consistency_problems(out: Path) -> list[str]:
    """What is wrong with a folder a finished build left (the oracle of the loops)."""
    problems = []
    manifest = read_manifest(out)
    if manifest.problem:
        return [f"manifest {manifest.problem}"]
    decks = {p.name for p in out.glob("*.pptx") if ".bak." not in p.name}
    if decks != set(manifest.built):
        problems.append(f"decks {sorted(decks)} but the manifest names {sorted(manifest.built)}")
    for name in decks & set(manifest.built):
        data = (out / name).read_bytes()
        if _sha(data) != manifest.built[name]:
            problems.append(f"{name} is not what the manifest records")
        with zipfile.ZipFile(out / name) as z:
            if z.testzip() is not None:
                problems.append(f"{name} is a broken zip")
    for name, digest in manifest.built.items():
        base = out / BASES / name
        if not base.is_file() or _sha(base.read_bytes()) != digest:
            problems.append(f"{BASES}/{name} is not the deck the manifest records as built")
    left = [p.name for p in out.iterdir() if p.name.startswith(c.TMP_PREFIX)
            or p.name == c.JOURNAL]
    if left:
        problems.append(f"left behind: {left}")
    return problems


@pytest.fixture(scope="module")
def variants(built_decks) -> list[dict[str, bytes]]:
    """Two versions of the bundled decks (the second with other zip dates), by name."""
    first = {d.path.name: d.data for d in built_decks.values()}
    second = {name: normalise_package(data, "2001-01-01T00:00:00Z")
              for name, data in first.items()}
    assert all(first[n] != second[n] for n in first)
    return [first, second]


# ------------------------------------------------------------------------------------------
# the manifest, edits, backups


def test_a_deck_equal_to_the_new_build_is_not_an_edit_even_without_a_manifest(tmp_path,
                                                                             variants):
    save_decks(tmp_path, variants[0])
    (tmp_path / MANIFEST).unlink()
    saved = save_decks(tmp_path, variants[0])  # the same bytes: nothing to protect
    assert saved.backups == () and consistency_problems(tmp_path) == []


@pytest.mark.parametrize(("damage", "message"), [
    ("missing", "is missing, so whether it was edited by hand cannot be told"),
    ("corrupt", "is not valid JSON (Expecting property name"),
    ("a list", 'is not a manifest; expected {"built": {"<deck>": "<sha256>"}}'),
    ("folder", ".deck-manifest.json is a folder; expected the manifest file"),
    ("unrecorded", "not recorded in the manifest as built here"),
    ("edited", "changed since it was built (edited by hand?)"),
])
def test_a_deck_that_differs_is_kept_and_the_manifest_state_is_said(tmp_path, variants,
                                                                   damage, message):
    save_decks(tmp_path, variants[0])
    manifest = tmp_path / MANIFEST
    if damage == "missing":
        manifest.unlink()
    elif damage == "corrupt":
        manifest.write_text("{not json", encoding="utf-8")
    elif damage == "a list":
        manifest.write_text("[1, 2]", encoding="utf-8")
    elif damage == "folder":
        manifest.unlink()
        manifest.mkdir()
    elif damage == "unrecorded":
        manifest.write_text('{"built": {}}', encoding="utf-8")
    else:
        (tmp_path / "deepseek-shock.en.pptx").write_bytes(b"edited in PowerPoint")
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.pptx")}
    with pytest.raises(UserError) as info:
        save_decks(tmp_path, variants[1])
    assert message in str(info.value)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.pptx")} == before


def test_force_twice_in_one_second_keeps_both_edits(tmp_path, variants):
    deck = "deepseek-shock.en.pptx"
    save_decks(tmp_path, variants[0])
    now = dt.datetime(2025, 2, 2, 8, 0, 0)
    kept = []
    for edit in (b"first edit", b"second edit"):
        (tmp_path / deck).write_bytes(edit)
        kept += save_decks(tmp_path, variants[0], force=True, now=now).backups
    assert [p.name for p in kept] == ["deepseek-shock.en.20250202-080000.bak.pptx",
                                      "deepseek-shock.en.20250202-080000-2.bak.pptx"]
    assert [p.read_bytes() for p in kept] == [b"first edit", b"second edit"]
    assert consistency_problems(tmp_path) == []


def test_left_over_temporaries_are_removed_and_a_decided_save_is_finished(tmp_path,
                                                                        variants):
    save_decks(tmp_path, variants[0])
    stray = c.write_temporary(tmp_path, b"half a deck")
    # a save killed after its journal: renames decided, none done
    staged = [c.stage(tmp_path, name, data) for name, data in variants[1].items()]
    built = {name: _sha(data) for name, data in variants[1].items()}
    staged.append(c.stage(tmp_path, MANIFEST, json.dumps({"built": built}).encode()))
    entries = [{"temporary": s.temporary.name, "name": s.name, "sha256": s.digest}
               for s in staged]
    (tmp_path / c.JOURNAL).write_text(json.dumps({"renames": entries}), encoding="utf-8")
    assert consistency_problems(tmp_path) != []
    saved = save_decks(tmp_path, variants[1])
    assert sorted(saved.finished) == sorted([*variants[1], MANIFEST])
    assert not stray.exists() and consistency_problems(tmp_path) == []
    assert {n: (tmp_path / n).read_bytes() for n in variants[1]} == variants[1]


def test_a_journal_it_did_not_write_stops_the_save(tmp_path, variants):
    save_decks(tmp_path, variants[0])
    (tmp_path / c.JOURNAL).write_text('{"renames": [{"temporary": "../etc/passwd"}]}',
                                      encoding="utf-8")
    with pytest.raises(UserError, match="not a journal this program wrote"):
        save_decks(tmp_path, variants[1])


def test_a_held_lock_is_waited_for_then_named(tmp_path, variants):
    save_decks(tmp_path, variants[0])
    lock = filelock.FileLock(str(tmp_path / c.LOCK))
    notes: list[str] = []
    with lock:
        (tmp_path / c.OWNER).write_text(json.dumps(
            {"pid": 4242, "host": "elsewhere", "since": "2025-02-02T08:00:00+09:00"}))
        with pytest.raises(UserError) as info:
            save_decks(tmp_path, variants[1], wait=0.3, notify=notes.append)
    assert "locked by another build (process 4242 on elsewhere, since " in str(info.value)
    assert notes and "waiting up to 0.3 s" in notes[0]
    assert {n: (tmp_path / n).read_bytes() for n in variants[0]} == variants[0]


# ------------------------------------------------------------------------------------------
# a full disk: nothing written, nothing refused afterwards


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(memory=500 * 1024 * 1024, seconds=60)
    yield z
    z.close()


def test_a_full_disk_writes_nothing_and_the_next_build_goes_through(tmp_path, zygote):
    out = tmp_path / "out"
    assert zygote.run([str(DEFAULT_DATA), "--out", str(out)], env={
        "SOURCE_DATE_EPOCH": "1700000000"}).status == 0
    before = files_in(out)
    en, ko = (out / "deepseek-shock.en.pptx").stat().st_size, (
        out / "deepseek-shock.ko.pptx").stat().st_size
    limit = (min(en, ko) + max(en, ko)) // 2  # the first deck fits, the second does not
    order = "en,ko" if en < ko else "ko,en"
    pid = zygote.start([str(DEFAULT_DATA), "--out", str(out), "--lang", order],
                       file_bytes=limit)
    full = zygote.wait(pid)
    assert full.status == 2, full.stderr
    assert "could not save: File too large; nothing was written" in full.stderr
    assert files_in(out) == before
    again = zygote.run([str(DEFAULT_DATA), "--out", str(out)])
    assert again.status == 0, again.stderr
    assert consistency_problems(out) == []


def test_a_second_build_waits_then_says_who_holds_the_folder(tmp_path, zygote):
    out = tmp_path / "out"
    assert zygote.run([str(BIKESHARE), "--out", str(out)]).status == 0
    before = files_in(out)
    with c.locked(out, wait=1):  # this process is the other build
        second = zygote.run([str(BIKESHARE), "--out", str(out), "--wait", "0.5"],
                            env={"SOURCE_DATE_EPOCH": "1700000000"})
    lines = second.stderr.splitlines()
    assert second.status == 2, second.stderr
    assert lines[0].startswith(f"{out}: another build is writing here (process {os.getpid()}")
    assert lines[1].startswith(f"{out}: --out: locked by another build (process "
                               f"{os.getpid()} on ")
    assert {n: b for n, b in files_in(out).items() if n != c.LOCK} == {
        n: d for n, d in before.items() if n != c.LOCK}


def test_a_failed_build_leaves_no_new_folder(tmp_path, zygote):
    out = tmp_path / "new" / "out"
    pid = zygote.start([str(BIKESHARE), "--out", str(out)], file_bytes=10_000)
    full = zygote.wait(pid)
    assert full.status == 2 and not (tmp_path / "new").exists(), full.stderr


# ------------------------------------------------------------------------------------------
# the loops

#: a child that saves the two variants in turn, for ever (until killed)
_SAVER = """
import itertools, json
from pathlib import Path
from deck.output import save_decks
job = json.loads(args[0])
variants = [{n: Path(p).read_bytes() for n, p in v.items()} for v in job["variants"]]
for i in itertools.count():
    save_decks(Path(job["out"]), variants[i % 2])
    if job.get("once"):
        break
"""


def _staged_variants(folder: Path, variants: list[dict[str, bytes]],
                     rename: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The variants as files a child can read: {deck name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, v in enumerate(variants):
        files = {}
        for name, data in v.items():
            path = folder / f"{i}-{name}"
            path.write_bytes(data)
            files[(rename or {}).get(name, name)] = str(path)
        out.append(files)
    return out


def _finish_and_check(out: Path) -> list[str]:
    """What the next build does first (under the lock): finish or roll back, clean up."""
    with c.locked(out, wait=10):
        c.recover(out)
    return consistency_problems(out)


@pytest.mark.slow
def test_kill_during_save_loop(tmp_path, zygote, variants):
    """40 saves killed at a random moment (most of them in the middle of writing): after
    each, every deck is whole, and the next build finds the folder consistent."""
    rng = random.Random(13)
    files = _staged_variants(tmp_path / "variants", variants)
    out = tmp_path / "out"
    save_decks(out, variants[0])
    whole = {_sha(data) for v in variants for data in v.values()}
    mid_commit = 0
    for attempt in range(40):
        job = json.dumps({"variants": files, "out": str(out)})
        pid = zygote.start([job], code=_SAVER)
        outcome = zygote.wait(pid, kill_after=rng.uniform(0.02, 0.12))
        assert outcome.killed, (attempt, outcome.stderr)
        left = {p.name for p in out.iterdir()}
        mid_commit += c.JOURNAL in left or any(n.startswith(c.TMP_PREFIX) for n in left)
        for name in variants[0]:
            assert _sha((out / name).read_bytes()) in whole, (attempt, name)
        assert _finish_and_check(out) == [], attempt
    print(f"{mid_commit} of 40 kills landed while saving")
    assert mid_commit >= 5, f"only {mid_commit} of 40 kills landed while saving"


@pytest.mark.slow
def test_kill_during_a_real_build_loop(tmp_path, zygote):
    """The command itself, killed at a random moment 30 times: after each, the folder is
    consistent once finished; every tenth time the next build runs and never finds a deck
    'edited by hand'."""
    rng = random.Random(7)
    data = copy_bikeshare(tmp_path / "article")
    out = tmp_path / "out"
    assert zygote.run([str(data), "--out", str(out)]).status == 0
    for attempt in range(30):
        epoch = str(1_700_000_000 + attempt)  # every build writes new bytes
        pid = zygote.start([str(data), "--out", str(out)], env={"SOURCE_DATE_EPOCH": epoch})
        zygote.wait(pid, kill_after=rng.uniform(0.05, 0.3))
        if attempt % 10 == 9:
            after = zygote.run([str(data), "--out", str(out)])
            assert after.status == 0, (attempt, after.stderr)
        assert _finish_and_check(out) == [], attempt


@pytest.mark.slow
def test_two_saves_at_once_loop(tmp_path, zygote, variants):
    """30 tries of two saves into one folder at the same moment, each with a deck of its own
    and one they share: both succeed, and the manifest records every deck as it is."""
    out = tmp_path / "out"
    mine = _staged_variants(tmp_path / "a", [variants[0]],
                            {"deepseek-shock.en.pptx": "a.en.pptx"})[0]
    theirs = _staged_variants(tmp_path / "b", [variants[1]],
                              {"deepseek-shock.en.pptx": "b.en.pptx"})[0]
    for attempt in range(30):
        pids = [zygote.start([json.dumps({"variants": [v], "out": str(out), "once": True})],
                             code=_SAVER) for v in (mine, theirs)]
        outcomes = [zygote.wait(pid) for pid in pids]
        assert [o.status for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
        assert consistency_problems(out) == [], attempt
        assert {"a.en.pptx", "b.en.pptx", "deepseek-shock.ko.pptx"} <= set(
            read_manifest(out).built)


@pytest.mark.slow
def test_two_builds_at_once_loop(tmp_path, zygote):
    """The command itself, twice at once into one folder, 30 times: both build, each with
    its own deck, and the manifest records both as they are."""
    first = copy_bikeshare(tmp_path / "first")
    second = tmp_path / "second" / "other.yaml"
    copy_bikeshare(second.parent)
    (second.parent / "bikeshare.yaml").rename(second)
    out = tmp_path / "out"
    for attempt in range(30):
        env = {"SOURCE_DATE_EPOCH": str(1_700_000_000 + attempt)}
        pids = [zygote.start([str(d), "--out", str(out)], env=env) for d in (first, second)]
        outcomes = [zygote.wait(pid) for pid in pids]
        assert [o.status for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
        assert consistency_problems(out) == [], attempt
        assert set(read_manifest(out).built) == {"bikeshare.en.pptx", "other.en.pptx"}


def test_a_lock_file_removed_while_a_build_waits_is_taken_afresh(tmp_path):
    """A failed build removes the folder it made, lock file included, while another waits on
    that file: the waiter must end up holding the lock file that is there, or a third build
    could take it at the same time. filelock (3.13 and later) takes it afresh itself; this
    holds it to that."""
    import threading
    import time

    first = filelock.FileLock(str(tmp_path / c.LOCK))
    first.acquire()
    holding, finish = threading.Event(), threading.Event()

    def waiter() -> None:
        with c.locked(tmp_path, wait=10):
            holding.set()
            finish.wait(10)

    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        time.sleep(0.3)  # the waiter is blocked on the first lock file
        (tmp_path / c.LOCK).unlink()
        first.release()
        assert holding.wait(10)
        third = filelock.FileLock(str(tmp_path / c.LOCK))
        with pytest.raises(filelock.Timeout):
            third.acquire(timeout=0)
    finally:
        finish.set()
        thread.join()


def test_an_interrupted_save_is_finished_before_a_merge_reads_the_folder(tmp_path, variants):
    """A merge plans from the decks on disk: a save a kill left decided is completed first,
    under the lock, so the plan starts from what the folder really holds."""
    from deck.output import finish_interrupted_save

    save_decks(tmp_path, variants[0])
    staged = [c.stage(tmp_path, name, data) for name, data in variants[1].items()]
    entries = [{"temporary": s.temporary.name, "name": s.name, "sha256": s.digest}
               for s in staged]
    (tmp_path / c.JOURNAL).write_text(json.dumps({"renames": entries}), encoding="utf-8")
    finish_interrupted_save(tmp_path)
    assert not (tmp_path / c.JOURNAL).exists()
    assert {n: (tmp_path / n).read_bytes() for n in variants[1]} == variants[1]
    assert not list(tmp_path.glob(c.TMP_PREFIX + "*"))


def test_a_save_result_made_without_backups_has_an_empty_mapping_of_them():
    from deck.output import Saved

    assert Saved((), ()).backed_up == {} and Saved((), ()).backed_up is not \
        Saved((), ()).backed_up
