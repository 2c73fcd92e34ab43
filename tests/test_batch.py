"""Batches: several data files (or a folder of them) built by one command in one process,
a worker per core; one line per deck, a total, and a bad file reported without stopping the
others (exit 2 at the end)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import BIKESHARE, ROOT, copy_bikeshare


def _articles(folder: Path, names: list[str], bad: dict[str, tuple[str, str]] | None = None):
    """Copies of the bikeshare article named ``names`` in ``folder`` (with its picture);
    ``bad`` replaces text in some of them."""
    copy_bikeshare(folder)
    text = (folder / BIKESHARE.name).read_text(encoding="utf-8")
    (folder / BIKESHARE.name).unlink()
    paths = []
    for name in names:
        old, new = (bad or {}).get(name, ("", ""))
        (folder / name).write_text(text.replace(old, new, 1) if old else text, encoding="utf-8")
        paths.append(folder / name)
    return paths


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180, check=False)


def test_a_batch_builds_every_file_with_a_line_per_deck_and_a_total(tmp_path):
    paths = _articles(tmp_path / "in", ["a.yaml", "b.yaml", "c.yaml"])
    run = _run(*map(str, paths), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    decks = [line for line in lines if ".pptx: " in line]
    assert sorted(Path(line.split(":")[0]).name for line in decks) == [
        "a.en.pptx", "b.en.pptx", "c.en.pptx"]
    assert re.fullmatch(r"built 3 decks from 3 of 3 data files in [\d.]+ s", lines[-1])
    single = tmp_path / "single"
    assert _run(str(paths[1]), "--out", str(single), "--jobs", "1").returncode == 0
    assert (tmp_path / "out" / "b.en.pptx").read_bytes() == \
        (single / "b.en.pptx").read_bytes()


def test_a_bad_file_is_reported_and_the_others_are_built(tmp_path):
    paths = _articles(tmp_path / "in", ["a.yaml", "b.yaml", "c.yaml"],
                      {"b.yaml": ("value: 40,", "value: .nan,")})
    run = _run(str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert re.search(r"b\.yaml:\d+: claims\[stations\]\.figures\[new_stations\]\.value: not a "
                     r"number", run.stderr), run.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.pptx")) == [
        "a.en.pptx", "c.en.pptx"]
    assert run.stdout.splitlines()[-1].startswith("built 2 decks from 2 of 3 data files")
    assert run.stdout.splitlines()[-1].endswith("; 1 failed")
    assert paths[1].exists()


def test_a_folder_is_its_data_files_not_a_template_mapping(tmp_path):
    _articles(tmp_path / "in", ["a.yaml"])
    shutil.copy(ROOT / "tests" / "data" / "company" / "company.pptx", tmp_path / "in")
    shutil.copy(ROOT / "tests" / "data" / "company" / "company.yaml", tmp_path / "in")
    run = _run(str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert [p.name for p in (tmp_path / "out").glob("*.pptx")] == ["a.en.pptx"]


def test_an_empty_folder_and_watch_over_a_batch_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    run = _run(str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "empty: DATA: no data files in this folder" in run.stderr
    paths = _articles(tmp_path / "in", ["a.yaml", "b.yaml"])
    run = _run(*map(str, paths), "--watch", "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "--watch follows one data file; expected one, got a batch of 2" in run.stderr
    assert not (tmp_path / "out").exists()


def test_two_data_files_of_one_name_are_refused_before_anything_is_built(tmp_path):
    """a/x.yaml and b/x.yaml would both write x.<lang>.pptx into --out: the second deck would
    replace the first while the total counted both."""
    first = _articles(tmp_path / "a", ["x.yaml"])[0]
    second = _articles(tmp_path / "b", ["x.yaml"])[0]
    run = _run(str(first), str(second), "--out", str(tmp_path / "out"))
    assert run.returncode == 2, run.stdout
    assert run.stderr.splitlines()[0] == (
        f"{second}: DATA: makes the same decks as {first} (x.<lang>.pptx), and one would "
        "replace the other; expected one data file per name (rename one, or build them into "
        "different --out folders)")
    assert not (tmp_path / "out").exists()
    same = _run(str(first), str(tmp_path / "a" / ".." / "a" / "x.yaml"), "--out",
                str(tmp_path / "out"))  # one file named twice: built once
    assert same.returncode == 0 and len(list((tmp_path / "out").glob("x.*.pptx"))) == 1


def test_a_file_named_twice_is_built_once_in_the_order_first_named(tmp_path):
    from deck.cli import data_files

    a, b = _articles(tmp_path / "in", ["a.yaml", "b.yaml"])
    link = tmp_path / "in" / "c.yaml"
    link.symlink_to(a)  # another name, so other decks: built too
    assert data_files([a, b, a, tmp_path / "in" / ".." / "in" / "a.yaml"]) == [a, b]
    assert data_files([b, a, link]) == [b, a, link]


def test_an_interrupt_stops_the_whole_batch(tmp_path):
    """Ctrl-C stops the batch, not only the article being built at that moment."""
    import signal

    names = [f"b{i:02}.yaml" for i in range(30)]
    paths = _articles(tmp_path / "in", names)
    child = subprocess.Popen([sys.executable, str(ROOT / "build.py"), *map(str, paths),
                              "--out", str(tmp_path / "out"), "--jobs", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline()  # the first article is built
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=120)
    assert child.returncode == 1, err
    assert "interrupted: the decks listed above were built, the rest of the batch was not" in err
    assert len(list((tmp_path / "out").glob("b*.pptx"))) < 30


def test_a_small_batch_builds_every_article_in_a_worker(tmp_path, monkeypatch, capsys):
    """Two articles on two workers: neither is built in the command's own process (which
    builds a deck's last language itself), so each line is printed as its article finishes
    rather than when the command's own article is done."""
    import os

    from helpers import pids_calling

    from deck import cli

    built_in = pids_calling(monkeypatch, cli, "_batch_job", tmp_path / "pids")
    paths = _articles(tmp_path / "in", ["a.yaml", "b.yaml"])
    assert cli.main([*map(str, paths), "--out", str(tmp_path / "out"), "--jobs", "2",
                     "--no-cache"]) == 0
    pids = built_in()
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert "built 2 decks from 2 of 2 data files" in capsys.readouterr().out
