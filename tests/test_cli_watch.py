"""--watch rebuilds on change, survives a bad edit, and --preview degrades gracefully."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from helpers import BIKESHARE, ROOT, copy_bikeshare
from pptx import Presentation

from deck.cli import main, run_build
from deck.resources import labels_dir, theme_path
from deck.session import BuildRequest, BuildSession


def _reader(proc: subprocess.Popen) -> queue.Queue:
    """Lines of the child's output, read in a thread so a silent child cannot hang the test."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, needle: str, seen: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"never saw {needle!r}; output: {''.join(seen)}")


def test_watch_rebuilds_and_survives_a_bad_edit(tmp_path):
    pytest.importorskip("watchfiles")
    data = copy_bikeshare(tmp_path)
    out = tmp_path / "out"
    proc = _watch(data, "--out", str(out))
    seen: list[str] = []
    lines = _reader(proc)
    try:
        _wait_for(lines, "watching", seen)
        time.sleep(1.5)  # the file watcher starts just after the line is printed
        original = data.read_text(encoding="utf-8")
        data.write_text(original.replace("by: operator", "by: nobody"), encoding="utf-8")
        _wait_for(lines, "waiting for a fix", seen)
        assert any("unknown source" in line for line in seen)
        data.write_text(original.replace("A. Tester", "B. Tester"), encoding="utf-8")
        _wait_for(lines, "rebuilt 1 deck(s)", seen)
        assert proc.poll() is None  # still running
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_watch_sees_edits_when_the_decks_go_beside_the_data(tmp_path):
    """--out is the data folder: writing the decks, and the bases kept in .deck/, is not an
    edit; editing the data is."""
    pytest.importorskip("watchfiles")
    data = copy_bikeshare(tmp_path)
    proc = _watch(data, "--out", str(tmp_path))
    seen: list[str] = []
    lines = _reader(proc)
    try:
        _wait_for(lines, "watching", seen)
        time.sleep(1.5)
        original = data.read_text(encoding="utf-8")
        data.write_text(original.replace("value: 40,", "value: .nan,"), encoding="utf-8")
        _wait_for(lines, "waiting for a fix", seen)
        assert any("not a number the deck can show" in line for line in seen)
        data.write_text(original.replace("A. Tester", "B. Tester"), encoding="utf-8")
        _wait_for(lines, "rebuilt 1 deck(s) after bikeshare.yaml changed", seen)
        time.sleep(1.0)  # its own deck, written just now, must not start another rebuild
        data.write_text(original, encoding="utf-8")
        _wait_for(lines, "rebuilt 1 deck(s) after bikeshare.yaml changed", seen)
        assert sum("rebuilt" in line for line in seen) == 2, seen
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_a_failure_of_any_kind_is_reported_and_watching_goes_on(tmp_path, capsys,
                                                                monkeypatch):
    """What run_build does for --watch after each edit: an internal error is reported (with
    its traceback under --debug), never raised."""
    session = BuildSession()

    def broken(_request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(session, "build", broken)
    request = BuildRequest(BIKESHARE, tmp_path / "out")
    assert run_build(session, request, debug=True, watching=True) == (1, None)
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: RuntimeError: a bug" in err
    with pytest.raises(RuntimeError):
        run_build(session, request, debug=True)


def _watch(data: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), str(data), *args,
                             "--watch"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=ROOT)


def _cells(deck: Path) -> list[str]:
    return [c.text for s in Presentation(str(deck)).slides for sh in s.shapes if sh.has_table
            for row in sh.table.rows for c in row.cells]


def _theme_part(deck: Path) -> bytes:
    with zipfile.ZipFile(deck) as z:
        return z.read("ppt/theme/theme1.xml")


def _recolour(pptx: Path) -> None:
    """Change the template's first accent colour, in place."""
    with zipfile.ZipFile(pptx) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    theme = parts["ppt/theme/theme1.xml"].decode()
    start = theme.index("<a:accent1>")
    end = theme.index("</a:accent1>")
    parts["ppt/theme/theme1.xml"] = (theme[:start] + '<a:accent1><a:srgbClr val="8B0000"/>' +
                                     theme[end:]).encode()
    with zipfile.ZipFile(pptx, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_watch_follows_labels_template_and_mapping(tmp_path):
    """A label edit and a theme edit change the deck; a broken mapping or label catalog is
    reported and the watcher rebuilds once it is fixed."""
    pytest.importorskip("watchfiles")
    data = copy_bikeshare(tmp_path / "article")
    catalog = tmp_path / "article" / "labels" / "en.yaml"
    catalog.parent.mkdir()
    shutil.copy(labels_dir() / "en.yaml", catalog)
    theme = tmp_path / "theme" / "theme.pptx"
    theme.parent.mkdir()
    shutil.copy(theme_path(), theme)
    shutil.copy(theme_path().with_suffix(".yaml"), theme.with_suffix(".yaml"))
    out = tmp_path / "out"
    deck = out / "bikeshare.en.pptx"
    proc = _watch(data, "--out", str(out), "--template", str(theme))
    seen: list[str] = []
    lines = _reader(proc)

    def edit(path: Path, old: str, new: str, expect: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
        _wait_for(lines, expect, seen)

    try:
        _wait_for(lines, "watching", seen)
        time.sleep(1.5)  # the file watcher starts just after the line is printed
        edit(catalog, '"Who said it"', '"Attributed to"', "rebuilt")
        assert "Attributed to" in _cells(deck)
        edit(theme.with_suffix(".yaml"), "sources: Sources", "sources: [Sources",
             "waiting for a fix")
        assert any("theme.yaml:" in line and "YAML syntax" in line for line in seen)
        edit(theme.with_suffix(".yaml"), "sources: [Sources", "sources: Sources", "rebuilt")
        edit(catalog, "cont: ", "contd: ", "waiting for a fix")
        edit(catalog, "contd: ", "cont: ", "rebuilt")
        before = _theme_part(deck)
        _recolour(theme)
        _wait_for(lines, "rebuilt", seen)
        assert _theme_part(deck) != before and b"8B0000" in _theme_part(deck)
        assert proc.poll() is None  # still running
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_preview_without_libreoffice_still_builds(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main([str(BIKESHARE), "--out", str(tmp_path / "out"), "--preview"]) == 0
    assert (tmp_path / "out" / "bikeshare.en.pptx").exists()
    assert "preview skipped: previews need LibreOffice" in capsys.readouterr().out


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_preview_writes_a_png_per_slide_and_a_contact_sheet(tmp_path):
    assert main([str(BIKESHARE), "--out", str(tmp_path), "--preview"]) == 0
    pages = sorted((tmp_path / "bikeshare.en.preview").glob("slide-*.png"))
    slides = len(Presentation(str(tmp_path / "bikeshare.en.pptx")).slides)
    assert len(pages) == slides == 7
    assert (tmp_path / "bikeshare.en.contact.png").stat().st_size > 0
