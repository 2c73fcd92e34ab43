"""--watch rebuilds on change, survives a bad edit, and --preview degrades gracefully."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pptx import Presentation

from deck.cli import main

ROOT = Path(__file__).resolve().parent.parent
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"


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
    data = tmp_path / "bikeshare.yaml"
    shutil.copy(BIKESHARE, data)
    shutil.copy(BIKESHARE.with_suffix(".yaml.j2"), tmp_path / "bikeshare.yaml.j2")
    shutil.copy(BIKESHARE.with_name("stations.png"), tmp_path / "stations.png")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), str(data), "--out", str(out),
                             "--watch"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=ROOT)
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
    assert len(pages) == slides == 5
    assert (tmp_path / "bikeshare.en.contact.png").stat().st_size > 0
