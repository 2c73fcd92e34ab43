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
