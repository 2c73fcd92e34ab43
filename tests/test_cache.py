"""The cache across processes (deck/cache.py): a hit is exactly the value stored; damage,
deletion and another program's values are misses, never errors; the store stays bounded."""

from __future__ import annotations

import os
import shutil

import pytest

from deck.cache import DiskCache


def make_counter():
    calls = []

    def make(value="value"):
        def inner():
            calls.append(value)
            return value
        return inner

    return calls, make


def test_a_value_is_made_once_then_read_back(tmp_path):
    calls, make = make_counter()
    cache = DiskCache(tmp_path / "c")
    key = ("slide", (1, 2.5, "텍스트"), frozenset({"a"}))
    assert cache.get("fit", key, make({"x": b"\x00bytes"})) == {"x": b"\x00bytes"}
    again = DiskCache(tmp_path / "c")  # a new process: a new object over the same folder
    assert again.get("fit", key, make("other")) == {"x": b"\x00bytes"}
    assert calls == [{"x": b"\x00bytes"}] and again.hits == 1
    assert again.get("fit", ("slide", 2), make("new")) == "new"  # another key: a miss


def test_namespaces_and_code_fingerprints_keep_values_apart(tmp_path):
    calls, make = make_counter()
    DiskCache(tmp_path / "c", fingerprint="a").get("fit", 1, make("a"))
    assert DiskCache(tmp_path / "c", fingerprint="b").get("fit", 1, make("b")) == "b"
    assert DiskCache(tmp_path / "c", fingerprint="a").get("write", 1, make("w")) == "w"
    assert calls == ["a", "b", "w"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty"])
def test_a_damaged_file_is_a_miss_and_goes(tmp_path, damage):
    cache = DiskCache(tmp_path / "c")
    cache.get("fit", "k", lambda: list(range(100)))
    [path] = list((tmp_path / "c").rglob("*.bin"))
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not a cache file",
                      "flip": data[:-1] + bytes([data[-1] ^ 1]), "empty": b""}[damage])
    again = DiskCache(tmp_path / "c")
    assert again.get("fit", "k", lambda: "made again") == "made again"
    assert again.hits == 0
    assert DiskCache(tmp_path / "c").get("fit", "k", lambda: "third") == "made again"


def test_deleting_the_folder_is_safe(tmp_path):
    cache = DiskCache(tmp_path / "c")
    cache.get("fit", "k", lambda: 1)
    shutil.rmtree(tmp_path / "c")
    assert cache.get("fit", "k", lambda: 2) == 2  # the same object, the folder gone


def test_the_store_is_bounded(tmp_path):
    cache = DiskCache(tmp_path / "c", limit_bytes=64 * 1024)
    for i in range(200):
        cache.get("fit", i, lambda i=i: bytes(2048) + i.to_bytes(4, "big"))
    cache.trim()
    total = sum(p.stat().st_size for p in (tmp_path / "c").rglob("*.bin"))
    assert total <= 64 * 1024
    # the most recent values are the ones kept
    assert DiskCache(tmp_path / "c").get("fit", 199, lambda: "gone") != "gone"


def test_a_folder_others_can_write_is_not_used(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    cache = DiskCache(folder)
    os.chmod(folder, 0o777)
    # made private on first use where it is ours
    assert cache.usable() and not folder.stat().st_mode & 0o077
    if os.getuid() != 0:
        pytest.skip("only root can make a folder owned by someone else here")
    other = tmp_path / "other"
    other.mkdir()
    os.chown(other, 12345, 12345)
    calls, make = make_counter()
    foreign = DiskCache(other)
    assert not foreign.usable()
    foreign.get("fit", "k", make("a"))
    foreign.get("fit", "k", make("b"))
    assert calls == ["a", "b"] and not list(other.rglob("*.bin"))


# ------------------------------------------------------------------------------------------
# builds with the cache: the same bytes, fewer computations, any damage survived


def _cli(args: list[str], cache_dir, env_extra: dict | None = None):
    """``python build.py ARGS`` in a new process with the cache in ``cache_dir``."""
    import subprocess
    import sys

    from helpers import ROOT

    env = dict(os.environ, DECK_CACHE_DIR=str(cache_dir), **(env_extra or {}))
    env.pop("DECK_NO_CACHE", None)
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_decks_are_the_same_with_and_without_the_cache_in_parallel_or_not(tmp_path):
    """Cold cache, warm cache, no cache, one process or two (and a different hash seed in
    each process): byte for byte the same decks; the warm build reads what the cold one
    wrote."""
    from helpers import ROOT

    data = tmp_path / "article" / "hanul.yaml"  # two languages, a chart, a table
    data.parent.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "hanul" / "hanul.yaml", data)
    runs = {
        "cold": ["--jobs", "2"], "warm": ["--jobs", "2"], "warm-serial": ["--jobs", "1"],
        "none": ["--no-cache", "--jobs", "1"],
    }
    decks = {}
    for i, (name, extra) in enumerate(runs.items()):
        out = tmp_path / name
        run = _cli([str(data), "--out", str(out), *extra], tmp_path / "cache",
                   {"PYTHONHASHSEED": str(i + 1)})
        assert run.returncode == 0, run.stderr
        decks[name] = {p.name: p.read_bytes() for p in sorted(out.glob("*.pptx"))}
    assert list(decks["none"]) == ["hanul.en.pptx", "hanul.ko.pptx"]
    assert decks["cold"] == decks["warm"] == decks["warm-serial"] == decks["none"]
    assert (tmp_path / "cache").is_dir() and any((tmp_path / "cache").rglob("*.bin"))


def test_a_second_process_reuses_the_slides_a_first_one_fitted(tmp_path):
    """In process: a session with a DiskCache built once, then a new session (nothing in
    memory) over the same cache after a one-field change: every unchanged slide is a hit,
    and the deck is the one a session without a cache makes."""
    from helpers import copy_bikeshare

    from deck.session import BuildRequest, BuildSession

    data = copy_bikeshare(tmp_path / "a")
    BuildSession(cache=DiskCache(tmp_path / "c")).build(BuildRequest(data, tmp_path / "o1"))
    data.write_text(data.read_text(encoding="utf-8").replace(
        "Rides in March", "Rides in march"), encoding="utf-8")
    cache = DiskCache(tmp_path / "c")
    again = BuildSession(cache=cache).build(BuildRequest(data, tmp_path / "o2"))
    fresh = BuildSession().build(BuildRequest(data, tmp_path / "o3"))
    assert [d.data for d in again.decks] == [d.data for d in fresh.decks]
    assert cache.hits >= 5 and cache.misses >= 1  # the slides that changed, and the deck


@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate", "foreign"])
def test_a_damaged_cache_rebuilds_and_never_crashes(tmp_path, damage):
    from helpers import copy_bikeshare

    data = copy_bikeshare(tmp_path / "a")
    first = _cli([str(data), "--out", str(tmp_path / "o1")], tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    files = sorted((tmp_path / "cache").rglob("*.bin"))
    assert files
    if damage == "delete":
        shutil.rmtree(tmp_path / "cache")
    for path in files if damage != "delete" else ():
        body = path.read_bytes()
        path.write_bytes({"garbage": os.urandom(len(body)), "truncate": body[:len(body) // 2],
                          "foreign": b"deck-cache-1\n" + b"\x00\x00\x00\x00" + b"x"}[damage])
    again = _cli([str(data), "--out", str(tmp_path / "o2")], tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert [p.read_bytes() for p in sorted((tmp_path / "o1").glob("*.pptx"))] == \
        [p.read_bytes() for p in sorted((tmp_path / "o2").glob("*.pptx"))]


def test_a_cache_folder_that_cannot_be_made_is_no_cache(tmp_path):
    from helpers import copy_bikeshare

    data = copy_bikeshare(tmp_path / "a")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = _cli([str(data), "--out", str(tmp_path / "o")], blocker / "cache")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "o" / "bikeshare.en.pptx").is_file()
