"""Hostile and unlucky inputs, each built by the real command in a child process with a CPU
and memory limit (``resource``): the exit status, the first line of the message, the output
folder left as it was whenever the build fails, and a time and memory bound per case.

Every case gives exit 0 with a correct deck, or exit 2 with a clear message and nothing
written, within :data:`SECONDS` and :data:`MEMORY`. The cases run two at a time (one per CPU
here), then each is asserted on its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import BIKESHARE, ROOT, copy_bikeshare

resource = pytest.importorskip("resource")  # POSIX only, like the limits it measures

SECONDS = 10
MEMORY = 500 * 1024 * 1024

#: the child: limits first, then the command line exactly as ``python -m deck`` runs it
_CHILD = (
    "import resource, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))\n"
    f"resource.setrlimit(resource.RLIMIT_CPU, ({SECONDS}, {SECONDS + 1}))\n"
    "from deck.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n")

BASE = BIKESHARE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str
    seconds: float
    rss_bytes: int

    @property
    def first(self) -> str:
        """The message's first line: stderr's, or stdout's when the build printed no error."""
        lines = (self.stderr or self.stdout).splitlines()
        return lines[0] if lines else ""


def run_limited(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    """``python -m deck ARGS`` under the limits, with its own peak memory (``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], cwd=cwd, stdout=out,
                                stderr=err, env={**os.environ, **(env or {})})
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > 3 * SECONDS:  # a hang: the CPU limit missed it
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Outcome(proc.returncode, out.read().decode("utf-8", "replace"),
                       err.read().decode("utf-8", "replace"), seconds, usage.ru_maxrss * 1024)


def snapshot(folder: Path) -> dict[str, str] | None:
    """Every file under ``folder`` with its digest (None: the folder does not exist)."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "<dir>" for p in sorted(folder.rglob("*"))}


# ------------------------------------------------------------------------------------------
# the cases


@dataclass(frozen=True)
class Case:
    """One hostile or unlucky input.

    ``setup`` prepares the case's folder and returns the command's arguments (``--out`` is
    added unless they name one). ``first`` must be found (a regular expression) in the
    message's first line. ``out``: "prebuilt" gives the output folder a good earlier build,
    "absent" no folder at all. ``check`` looks further at what a successful build wrote.
    """

    name: str
    setup: Callable[[Path], list[str]]
    status: int
    first: str
    out: str = "prebuilt"
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path, Outcome], None] | None = None


def data(text: str) -> Callable[[Path], list[str]]:
    """A case whose data file is ``text`` (beside the bikeshare outline and picture)."""
    def setup(folder: Path) -> list[str]:
        return [str(copy_bikeshare(folder, text))]
    return setup


def replaced(old: str, new: str, count: int = 1) -> Callable[[Path], list[str]]:
    """The bikeshare data file with ``old`` replaced by ``new``."""
    assert old in BASE, old
    return data(BASE.replace(old, new, count))


def extra(yaml_text: str) -> Callable[[Path], list[str]]:
    """The bikeshare data file with ``yaml_text`` appended."""
    return data(BASE + yaml_text)


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["bomb:", "  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _padded(size: int) -> Callable[[Path], list[str]]:
    return data(BASE + "# " + "x" * size + "\n")


def _folder_as_data(folder: Path) -> list[str]:
    copy_bikeshare(folder)
    (folder / "dir.yaml").mkdir()
    return [str(folder / "dir.yaml")]


def _fifo_as_data(folder: Path) -> list[str]:
    copy_bikeshare(folder)
    os.mkfifo(folder / "fifo.yaml")
    return [str(folder / "fifo.yaml")]


def _latin1(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    path.write_bytes(BASE.replace("Example Gazette", "Caf\u00e9 Gazette", 1).encode("latin-1"))
    return [str(path)]


def _labels_bomb(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    (folder / "labels").mkdir()
    (folder / "labels" / "en.yaml").write_text(_alias_bomb(), encoding="utf-8")
    return [str(path)]


CASES = [
    # -- YAML: bounded whatever the file holds
    Case("alias bomb, nine levels of nine", extra(_alias_bomb()), 2,
         r"bikeshare\.yaml:\d+: YAML too many values once aliases are expanded"),
    Case("alias bomb in a label catalog", _labels_bomb, 2,
         r"labels/en\.yaml:\d+: YAML too many values once aliases are expanded"),
    Case("recursive alias", extra("loop: &x [*x]\n"), 2,
         r"bikeshare\.yaml:\d+: YAML recursive alias \*x"),
    Case("999 levels of nesting", extra("deep: " + "[" * 999 + "]" * 999 + "\n"), 2,
         r"bikeshare\.yaml:\d+: YAML nesting too deep; expected at most 32 levels"),
    Case("data file of 3 MB", _padded(3 * 1024 * 1024), 2,
         r"bikeshare\.yaml: data file too large; expected at most 2 MB"),
    Case("data file is a folder", _folder_as_data, 2, r"dir\.yaml: data file is a folder"),
    Case("data file is a pipe", _fifo_as_data, 2,
         r"fifo\.yaml: data file is not a regular file"),
    Case("data file in Latin-1", _latin1, 2, r"bikeshare\.yaml: not UTF-8 text"),
    Case("merge key overridden", replaced(
        "  city: {en: City transport office}\n  operator: {en: The operator}\n",
        "  city: &city {en: City transport office}\n  operator: {<<: *city, en: The operator}\n"),
        0, r"bikeshare\.en\.pptx: 5 slides"),
]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory) -> Path:
    """An output folder holding a good build of the bikeshare article."""
    out = tmp_path_factory.mktemp("prebuilt") / "out"
    result = subprocess.run([sys.executable, "-m", "deck", str(BIKESHARE), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out


@dataclass(frozen=True)
class Ran:
    case: Case
    folder: Path
    out: Path
    before: dict[str, str] | None
    after: dict[str, str] | None
    outcome: Outcome


@pytest.fixture(scope="module")
def ran(tmp_path_factory, prebuilt) -> dict[str, Ran]:
    """Every case, run two at a time."""
    root = tmp_path_factory.mktemp("adversarial")

    def one(i: int, case: Case) -> Ran:
        folder = root / f"case{i:02d}"
        folder.mkdir()
        args = case.setup(folder)
        out = folder / "out"
        if case.out == "prebuilt":
            shutil.copytree(prebuilt, out)
        if "--out" not in args:
            args += ["--out", str(out)]
        before = snapshot(out)
        outcome = run_limited(args, folder, case.env)
        return Ran(case, folder, out, before, snapshot(out), outcome)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(one, range(len(CASES)), CASES))
    return {r.case.name: r for r in runs}


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(ran, name):
    r = ran[name]
    o = r.outcome
    shown = f"exit {o.status} in {o.seconds:.2f} s, {o.rss_bytes / 2**20:.0f} MB\n" \
            f"stdout:\n{o.stdout[:2000]}\nstderr:\n{o.stderr[:2000]}"
    assert o.status == r.case.status, shown
    assert re.search(r.case.first, o.first), shown
    assert "Traceback" not in o.stderr, shown
    assert o.seconds < SECONDS, shown
    assert o.rss_bytes < MEMORY, shown
    if o.status != 0:
        assert r.after == r.before, "a failed build changed the output folder"
        assert o.stderr.splitlines()[-1].startswith("build failed:"), shown
    if r.case.check is not None:
        r.case.check(r.out, o)
