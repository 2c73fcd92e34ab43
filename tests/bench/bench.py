"""Benchmarks for deck against its targets (issue 14): medians of interleaved runs.

Run from anywhere (it finds the project root itself)::

    python tests/bench/bench.py                      # the table, medians of 7 rounds
    python tests/bench/bench.py --runs 9             # more rounds
    python tests/bench/bench.py --md2pptx /tmp/md2pptx/src/md2pptx.py \\
        --md2pptx-python /tmp/md2pptx/venv/bin/python  # with the md2pptx row
    python tests/bench/bench.py --profile            # one in-process build under cProfile

Every timed command runs once per **round**, in turn (import floor, cold build, pandoc,
md2pptx, CLI rebuild, ``--watch`` rebuild, batch, 40 pandoc runs, peak memory, 10/100/1,000
claims), for ``--runs`` rounds after one untimed warm-up round; each row is the median of its
rounds, and each ratio a ratio of two medians. The table is Markdown:

* **import floor**: ``python -c "import pptx, jinja2, PIL.Image, babel.numbers, yaml,
  lxml.etree"``, what any python-pptx tool with our dependencies pays before its first line;
* **cold build**: ``python build.py --out TMP --no-cache`` in a new process, a fresh ``TMP``
  each round: both bundled decks. Against the floor (target <= 2.5x), pandoc (<= 2.0x) and
  md2pptx (<= 1.0x) building the same briefing from Markdown, one process per language. The
  Markdown is written here from deck's own outlines (load, render, parse), in each tool's
  dialect; neither has native charts, so chart slides carry only their bullets;
* **CLI rebuild**: the bundled article copied into a folder and built once with the cache on
  (``DECK_CACHE_DIR`` is a folder of this run's own), then each round one claim's text changed
  in the copy (a new text each round, so no round finds its result already cached) and
  ``python build.py COPY --out SAME`` run again in a new process; only that run is timed.
  Target <= 1.5x the import floor. The first build starts the build server
  (``deck/launch.py``), which the rounds' commands are served by; a second copy is rebuilt
  the same way with ``DECK_SERVER=0``, every command a process of its own start to end. Every
  other command here runs with the server off;
* **--watch rebuild**: what ``--watch`` does per change, in this process: a
  ``deck.session.BuildSession`` (with the cache, as ``--watch`` makes it) builds once, then
  each round one claim's text changes and it builds again; only that build is timed;
* **batch**: 20 copies of the bundled article (``a01.yaml`` ... ``a20.yaml``) in one folder,
  built by one ``python build.py FOLDER --out OUT --no-cache`` (40 decks), against 40
  sequential pandoc runs (20 x ko + en). Target: batch <= pandoc;
* **peak memory** of ``build.py --out TMP --no-cache`` (both decks; the languages are built
  by forked workers): the proportional set sizes of the build and its workers, summed every
  5 ms while it runs (target < 150 MiB), and the ``ru_maxrss`` the build reports for itself
  and its largest worker. It is started through a small launcher: Linux carries the forking
  process's peak into a child's ``ru_maxrss``;
* **scaling**: the English-only test article ``tests/data/bikeshare`` grown to 10, 100 and
  1,000 claims (copies with suffixed claim and figure ids), one deck each, a new session per
  build, in this process; target t(1000)/t(100) <= 12 (linear would be 10).

A row whose tool or feature is missing says so (``n/a (needs ...)``) instead of failing the
run: pandoc (Debian: ``apt-get install pandoc``), md2pptx (not on PyPI; ``--md2pptx PATH``),
or a command-line feature of deck (``--no-cache``, batch mode, the cross-process cache).

To see what the interpreter spends importing::

    python -X importtime build.py --out /tmp/out --no-cache 2> importtime.log
    sort -t '|' -k2 -n importtime.log | tail -25    # largest cumulative import times (us)

This file is not a test module: pytest only imports it (``--doctest-modules``), which has no
side effects; all work happens under ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUILD_PY = ROOT / "build.py"
DATA = ROOT / "assets" / "articles" / "deepseek-shock.yaml"
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"
SIZES = (10, 100, 1000)
BATCH_COPIES = 20
FLOOR_IMPORTS = "import pptx, jinja2, PIL.Image, babel.numbers, yaml, lxml.etree"

# the targets of issue 14
COLD_PER_FLOOR = 2.5
COLD_PER_PANDOC = 2.0
COLD_PER_MD2PPTX = 1.0
REBUILD_PER_FLOOR = 1.5
BATCH_PER_PANDOC = 1.0
PEAK_MIB = 150.0
SCALING_TARGET = 12.0

_FIG = re.compile(r"\{fig:([A-Za-z0-9_]+)\}")
# pandoc Markdown: any escaped ASCII punctuation is literal; these are the ones that can mean
# something (emphasis, links, lists, tables, headings, math, spans, raw HTML, smart quotes).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~^@:&\"'])")
# md2pptx: backslash escapes for these; a '|' (table cells) as a character reference
_MD2PPTX_ESCAPES = {"[": r"\[", "]": r"\]", "*": r"\*", "_": r"\_", "#": r"\#", "|": "&#124;"}
_MD2PPTX_SPECIAL = re.compile("[" + re.escape("".join(_MD2PPTX_ESCAPES)) + "]")


def build(data: Path, out: Path, session: Any = None, force: bool = True) -> list:
    """Build every deck of ``data`` into ``out`` in ``session`` (or a new one)."""
    from deck.session import BuildRequest, BuildSession

    session = session or BuildSession()
    return list(session.build(BuildRequest(data, out, force=force)).decks)


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> float:
    """Seconds for ``cmd`` in a new process; RuntimeError with its stderr when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env or _child_env(), capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


# --- the machine ----------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def revision() -> str:
    """The project's commit, and whether the code under test differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "deck", "templates",
                                "assets", "build.py"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return head + (" with uncommitted changes to the code" if dirty else "")


def machine() -> str:
    """CPU model, cores, RAM, Python and OS of this machine, on one line."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or platform.machine())
    if re.search(r"^flags\s*:.*\bhypervisor\b", cpuinfo, re.M):
        model += " (virtual machine)"
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    ram = f", {int(mem.group(1)) / 2**20:.1f} GiB RAM" if mem else ""
    release = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', _read("/etc/os-release"), re.M)
    system = release.group(1) if release else platform.system()
    return (f"{model}, {os.cpu_count()} cores{ram}, Python {platform.python_version()}, "
            f"{system} ({platform.system()} {platform.release()})")


# --- Markdown of the same briefing, for pandoc and md2pptx ----------------------------------


def md_escape(text: str) -> str:
    """One line of literal pandoc-Markdown text (punctuation escaped, line breaks as spaces).

    >>> md_escape("5.5% of GPT-4 [27]")
    '5\\\\.5% of GPT\\\\-4 \\\\[27\\\\]'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md2pptx_escape(text: str) -> str:
    """One line of literal md2pptx text (line breaks as spaces). md2pptx has backslash escapes
    for brackets, ``*``, ``_`` and ``#``; it turns character references into characters
    before it parses, so a reference serves only where the line, not the text, is split.

    >>> print(md2pptx_escape("a *b* [27] | c"))
    a \\*b\\* \\[27\\] &#124; c
    """
    return _MD2PPTX_SPECIAL.sub(lambda m: _MD2PPTX_ESCAPES[m.group()],
                                " ".join(str(text).split()))


@dataclass(frozen=True)
class Dialect:
    """How one tool's Markdown writes a slide."""

    name: str
    escape: Callable[[str], str]
    bullet: str  # the list marker
    indent: str  # one nesting level

    def heading(self, slide: Any, first: bool) -> list[str]:
        if self.name == "pandoc":  # one level-1 heading per slide; the subtitle a paragraph
            lines = [f"# {self.escape(slide.title)}", ""]
            return lines + ([self.escape(slide.subtitle), ""] if slide.subtitle else [])
        # md2pptx: '#' the title slide, '##' a section slide, '###' any other; a subtitle on
        # the line right after the heading
        level = "#" if first and slide.layout == "title" else (
            "##" if slide.layout in ("title", "section") else "###")
        lines = [f"{level} {self.escape(slide.title)}"]
        if slide.subtitle and level != "###":
            return [*lines, self.escape(slide.subtitle), ""]
        return [*lines, ""] + ([f"{self.bullet} {self.escape(slide.subtitle)}", ""]
                               if slide.subtitle else [])

    def bullets(self, bullets: tuple) -> list[str]:
        return [self.indent * b.level + f"{self.bullet} "
                + self.escape(f"{b.text} {b.marks}" if b.marks else b.text) for b in bullets]

    def table(self, table: Any) -> list[str]:
        def row(cells: list[str]) -> str:
            return "| " + " | ".join(self.escape(c) for c in cells) + " |"

        return [row(table.columns), "|" + "|".join("---" for _ in table.columns) + "|",
                *(row(r) for r in table.rows)]

    def notes(self, notes: tuple[str, ...]) -> list[str]:
        if self.name == "pandoc":
            return ["::: notes", *(self.escape(n) + "\n" for n in notes), ":::", ""]
        return [line for n in notes for line in (self.escape(n), "")]  # paragraphs are notes


PANDOC = Dialect("pandoc", md_escape, "-", "    ")
MD2PPTX = Dialect("md2pptx", md2pptx_escape, "*", "  ")


def outline_markdown(outline: Any, dialect: Dialect = PANDOC) -> str:
    """The outline as one tool's Markdown: a heading per slide, bullets, pipe tables, notes.

    pandoc gets two-column slides as its ``columns`` divs; md2pptx the two lists in turn."""
    out: list[str] = []
    for i, slide in enumerate(outline.slides):
        out += dialect.heading(slide, first=i == 0)
        if slide.bullets and slide.right and dialect is PANDOC:
            out += [":::: columns", "::: column", *dialect.bullets(slide.bullets), ":::",
                    "::: column", *dialect.bullets(slide.right), ":::", "::::", ""]
        else:
            for part in (slide.bullets, slide.right):
                if part:
                    out += [*dialect.bullets(part), ""]
        if slide.table is not None:
            out += [*dialect.table(slide.table), ""]
        if slide.notes:
            out += dialect.notes(slide.notes)
    return "\n".join(out)


def write_markdown(data: Path, out_dir: Path, dialect: Dialect = PANDOC) -> dict[str, Path]:
    """``briefing.<lang>.<dialect>.md`` per language of ``data``, from deck's own outlines."""
    from deck.session import BuildRequest, BuildSession

    session = BuildSession()
    inputs = session.read_inputs(BuildRequest(data, out_dir))
    paths = {}
    for lang in inputs.langs:
        path = out_dir / f"briefing.{lang}.{dialect.name}.md"
        path.write_text(outline_markdown(session.outline(inputs, lang), dialect),
                        encoding="utf-8")
        paths[lang] = path
    return paths


def run_pandoc(pandoc: str, sources: list[Path], out_dir: Path) -> float:
    """Seconds for one ``pandoc X.md -o X.pptx`` per source, in turn."""
    total = 0.0
    for md in sources:
        total += _run([pandoc, str(md), "-o", str(out_dir / f"{md.stem}.pptx")],
                      f"pandoc on {md.name}")
    return total


def run_md2pptx(python: str, script: Path, sources: list[Path], out_dir: Path) -> float:
    """Seconds for one ``md2pptx.py X.md X.pptx`` per source, in turn (md2pptx exits 0 even
    when it stops early, so the deck's existence is checked)."""
    total = 0.0
    for md in sources:
        target = out_dir / f"{md.stem}.pptx"
        target.unlink(missing_ok=True)
        total += _run([python, str(script), str(md), str(target)], f"md2pptx on {md.name}",
                      env=dict(os.environ))  # the bench's own environment, without our path
        if not target.exists():
            raise RuntimeError(f"md2pptx wrote no deck for {md.name}")
    return total


# --- one-field edits ------------------------------------------------------------------------


def _editable_claim_text(source: str, data: dict[str, Any]) -> str:
    """The English text of the first claim whose text occurs exactly once in the file."""
    for claim in data["claims"]:
        text = claim["text"].get("en", "")
        if text and not _FIG.search(text) and source.count(text) == 1:
            return text
    raise RuntimeError("no claim text found that occurs exactly once in the data file")


@dataclass
class Editor:
    """A copy of the bundled data file whose one claim text :meth:`edit` changes."""

    path: Path
    source: str = field(init=False)
    target: str = field(init=False)

    def __post_init__(self) -> None:
        import yaml

        self.source = DATA.read_text(encoding="utf-8")
        self.target = _editable_claim_text(self.source, yaml.safe_load(self.source))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.source, encoding="utf-8")

    def edit(self, tag: str) -> None:
        """The claim's text with `` (edit TAG)`` appended; a new tag is a new value."""
        self.path.write_text(self.source.replace(self.target, f"{self.target} (edit {tag})"),
                             encoding="utf-8")


# --- peak memory ----------------------------------------------------------------------------


_MEMORY_BUILD = (
    "import resource, sys; from deck.cli import main; rc = main({argv!r}); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
)
# Linux folds the forking process's peak RSS into the child's ru_maxrss at exec, so a child
# started from this (by then large) process would report at least our own peak. A small
# launcher process in between keeps the measured child's ru_maxrss its own.
_LAUNCHER = (
    "import subprocess, sys; r = subprocess.run([sys.executable, '-c', sys.argv[1]], "
    "capture_output=True, text=True); sys.stderr.write(r.stderr); print(r.stdout, end=''); "
    "sys.exit(r.returncode)"
)
_KIB = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024  # ru_maxrss: macOS bytes


def _descendants(root: int) -> list[int]:
    """The processes below ``root`` (Linux /proc), found by their parents."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path("/proc", entry.name, "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(
                int(entry.name))
    found, frontier = [], [root]
    while frontier:
        below = children.get(frontier.pop(), [])
        found += below
        frontier += below
    return found


def _pss_kib(pid: int) -> int | None:
    try:
        text = Path("/proc", str(pid), "smaps_rollup").read_text()
    except OSError:
        return None
    found = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Memory:
    """What one build's processes used at their peak, in MiB."""

    tree_pss: float | None  # the sum of PSS over the build and its workers, sampled
    largest_rss: float  # ru_maxrss of the process that grew largest
    rss_sum: float  # the build's ru_maxrss plus its largest worker's


def peak_memory(code: str, env: dict[str, str] | None = None,
                interval: float = 0.005) -> Memory:
    """Peak memory of a child running ``code`` (which prints its own ``ru_maxrss`` and its
    children's) and of the workers it forks. Their proportional set sizes (shared pages
    divided among the processes sharing them) are summed every ``interval`` seconds while it
    runs (Linux; elsewhere ``tree_pss`` is None)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, code], cwd=ROOT,
                                env=env or _child_env(), stdout=out, stderr=err, text=True)
        peak: int | None = None
        while proc.poll() is None:
            sizes = [k for k in map(_pss_kib, _descendants(proc.pid)) if k is not None]
            if sizes:
                peak = max(peak or 0, sum(sizes))
            time.sleep(interval)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"memory child failed ({proc.returncode}): {err.read().strip()}")
        own, workers = map(int, out.read().strip().splitlines()[-1].split())
    return Memory(peak / 1024 if peak is not None else None,
                  max(own, workers) * _KIB, (own + workers) * _KIB)


# --- scaling --------------------------------------------------------------------------------


def _stress_module():
    """``tests/data/stress/make_stress.py``, which knows how to copy claims with new ids."""
    import importlib.util

    path = ROOT / "tests" / "data" / "stress" / "make_stress.py"
    spec = importlib.util.spec_from_file_location("make_stress", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scaled(data: dict[str, Any], total: int) -> dict[str, Any]:
    """``data`` with exactly ``total`` claims: the originals (the template and ``derived`` name
    them), then suffixed copies. ``total`` must be at least the number of originals."""
    originals = data["claims"]
    if total < len(originals):
        raise ValueError(f"expected at least {len(originals)} claims, got {total}")
    claims = copy.deepcopy(originals)
    copy_no = 2
    suffixed_claim = _stress_module().suffixed_claim
    while len(claims) < total:
        claims += [suffixed_claim(c, copy_no) for c in originals[: total - len(claims)]]
        copy_no += 1
    out = copy.deepcopy(data)
    out["claims"] = claims
    return out


def write_scaled(base: Path, total: int, work: Path) -> Path:
    """The scaled article, with its outline template (if it has one of its own) and pictures
    copied beside it."""
    import yaml

    folder = work / f"n{total}"
    folder.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    template = base.parent / f"{data['template']}.yaml.j2"
    if template.exists():  # else a bundled outline (the default one)
        shutil.copy2(template, folder / template.name)
    for image in base.parent.glob("*.png"):  # pictures the outline places
        shutil.copy2(image, folder / image.name)
    path = folder / f"{base.stem}-{total}.yaml"
    path.write_text(yaml.safe_dump(scaled(data, total), allow_unicode=True, sort_keys=False,
                                   width=1000), encoding="utf-8")
    return path


# --- the rounds -----------------------------------------------------------------------------


@dataclass
class Measure:
    """One row's measurement: ``run(tag)`` returns seconds (or MiB), once per round."""

    key: str
    run: Callable[[str], float]
    samples: list[float] = field(default_factory=list)
    missing: str = ""  # why there is no number ("n/a (needs ...)")
    no_verdict: str = ""  # why the number cannot be held against its target

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.missing else None


def watch_session() -> Any:
    """A session as ``--watch`` makes it: with the cache across processes where there is one
    (its folder this run's own ``DECK_CACHE_DIR``)."""
    from deck.session import BuildSession

    try:
        from deck.cache import DiskCache, default_folder

        return BuildSession(cache=DiskCache(default_folder()))
    except (ImportError, TypeError):  # before the cache: a plain session
        return BuildSession()


def cli_help() -> str:
    proc = subprocess.run([sys.executable, str(BUILD_PY), "--help"], cwd=ROOT,
                          env=_child_env(), capture_output=True, text=True)
    return proc.stdout


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def wait_for_server(env: dict[str, str], seconds: float = 30) -> bool:
    """Whether the build server for ``env`` answers within ``seconds`` (it starts in the
    background after the command that found none)."""
    code = ("import sys; from deck import launch; p = launch.socket_path(); "
            "sys.exit(0 if p and launch.connect(p) else 1)")
    log = Path(env.get("DECK_SERVER_DIR") or ".", "server.log")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if subprocess.run([sys.executable, "-c", code], env=env).returncode == 0:
            if log.exists() and " ready\n" in log.read_text():  # its warm-up over
                return True
        time.sleep(0.1)
    return False


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def make_measures(work: Path, md2pptx: tuple[str, Path] | None,
                  notes: list[str]) -> dict[str, Measure]:
    """Every measurement, set up (files written, first builds done) but not yet timed."""
    py = sys.executable
    help_text = cli_help()
    no_cache = "--no-cache" in help_text
    cache_dir = work / "cache"  # the one cache of this run: never the user's own

    def cold_args(tag: str) -> tuple[list[str], dict[str, str]]:
        """The flag that turns the cache off, or (before --no-cache exists) an empty cache."""
        if no_cache:
            return ["--no-cache"], _child_env(DECK_CACHE_DIR=str(cache_dir))
        return [], _child_env(DECK_CACHE_DIR=str(_fresh(work / f"empty-cache-{tag}")))

    if not no_cache:
        notes.append("`build.py --no-cache` is not there yet: cold builds ran with an empty "
                     "`DECK_CACHE_DIR` instead")
    m: dict[str, Measure] = {}

    m["floor"] = Measure("floor", lambda tag: _run([py, "-c", FLOOR_IMPORTS], "import floor"))

    def cold(tag: str) -> float:
        out = _fresh(work / "cold")
        flags, env = cold_args(tag)
        return _run([py, str(BUILD_PY), "--out", str(out), *flags], "cold build", env)

    m["cold"] = Measure("cold", cold)

    # pandoc and md2pptx, ko + en of the same briefing; 40 pandoc runs for the batch
    md_dir = work / "md"
    md_dir.mkdir()
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        m["pandoc"] = Measure("pandoc", lambda tag: 0.0,
                              missing="n/a (needs pandoc: apt-get install pandoc)")
        m["pandoc40"] = Measure("pandoc40", lambda tag: 0.0, missing=m["pandoc"].missing)
    else:
        version = subprocess.run([pandoc, "--version"], capture_output=True, text=True)
        notes.append(f"{version.stdout.splitlines()[0]} ({pandoc})")
        pandoc_md = list(write_markdown(DATA, md_dir, PANDOC).values())
        batch_md = []
        for i in range(1, BATCH_COPIES + 1):
            for md in pandoc_md:
                lang = md.name.split(".")[1]
                batch_md.append(md_dir / f"a{i:02}.{lang}.md")
                shutil.copy2(md, batch_md[-1])
        pandoc_out = work / "pandoc-out"
        pandoc_out.mkdir()
        m["pandoc"] = Measure("pandoc", lambda tag: run_pandoc(pandoc, pandoc_md, pandoc_out))
        m["pandoc40"] = Measure("pandoc40",
                                lambda tag: run_pandoc(pandoc, batch_md, pandoc_out))

    if md2pptx is None:
        m["md2pptx"] = Measure("md2pptx", lambda tag: 0.0, missing=(
            "n/a (needs md2pptx, not on PyPI: --md2pptx PATH/md2pptx.py)"))
    else:
        md_python, script = md2pptx
        level = re.search(r'md2pptx_level\s*=\s*"([^"]+)"',
                          script.read_text(encoding="utf-8", errors="replace"))
        notes.append(f"md2pptx {level.group(1) if level else '(version unknown)'} ({script}), "
                     f"run by {md_python}")
        md2_md = list(write_markdown(DATA, md_dir, MD2PPTX).values())
        md2_out = work / "md2pptx-out"
        md2_out.mkdir()
        m["md2pptx"] = Measure("md2pptx",
                               lambda tag: run_md2pptx(md_python, script, md2_md, md2_out))

    # the CLI rebuild with the cache: built once here, then one field changed per round
    # (served by the build server the first build starts, and, in a copy of its own, with
    # the server off: each command in a process of its own from start to end)
    for key, server in (("cli", "1"), ("cli_alone", "0")):
        editor = Editor(work / key / DATA.name)
        cli_env = _child_env(DECK_CACHE_DIR=str(cache_dir / key), DECK_SERVER=server)
        cli_cmd = [py, str(BUILD_PY), str(editor.path), "--out", str(work / key / "out")]
        _run(cli_cmd, "first CLI build", cli_env)
        if server == "1" and not wait_for_server(cli_env):
            notes.append("no build server came up: the CLI rebuild ran in its own process")

        def cli_rebuild(tag: str, key: str = key, editor: Editor = editor,
                        cli_cmd: list[str] = cli_cmd, cli_env: dict[str, str] = cli_env) -> float:
            editor.edit(f"{key} {tag}")
            return _run(cli_cmd, "CLI rebuild", cli_env)

        m[key] = Measure(key, cli_rebuild)
        if not any(p.is_file() for p in (cache_dir / key).rglob("*")):
            notes.append("the CLI rebuild found no cross-process cache (nothing written under "
                         "`DECK_CACHE_DIR`): its time is that of a build without one")
            m[key].no_verdict = "n/a (no cache yet)"  # still timed

    # the --watch rebuild, in this process
    watch_editor = Editor(work / "watch" / DATA.name)
    watch_out = work / "watch" / "out"
    session = watch_session()
    build(watch_editor.path, watch_out, session, force=False)

    def watch_rebuild(tag: str) -> float:
        watch_editor.edit(f"watch {tag}")
        t0 = time.perf_counter()
        build(watch_editor.path, watch_out, session, force=False)
        return time.perf_counter() - t0

    m["watch"] = Measure("watch", watch_rebuild)

    # the batch: 20 copies of the article in one folder, one command
    batch_in = work / "batch"
    batch_in.mkdir()
    for i in range(1, BATCH_COPIES + 1):
        shutil.copy2(DATA, batch_in / f"a{i:02}.yaml")

    def batch(tag: str) -> float:
        out = _fresh(work / "batch-out")
        flags, env = cold_args(tag)
        seconds = _run([py, str(BUILD_PY), str(batch_in), "--out", str(out), *flags],
                       "batch build", env)
        decks = len(_files(out, "*.pptx"))
        if decks != 2 * BATCH_COPIES:
            raise RuntimeError(f"batch build wrote {decks} decks, expected {2 * BATCH_COPIES}")
        return seconds

    m["batch"] = Measure("batch", batch)

    # peak memory of a cold build of both decks: one child per round, three rows
    memories: dict[str, Memory] = {}

    def memory(tag: str) -> float:
        out = _fresh(work / "mem")
        flags, env = cold_args(tag)
        memories[tag] = peak_memory(_MEMORY_BUILD.format(argv=["--out", str(out), *flags]),
                                    env)
        if memories[tag].tree_pss is None:  # no /proc: the ru_maxrss sum stands in
            if not any("no PSS" in n for n in notes):
                notes.append("no PSS here (/proc/PID/smaps_rollup): the peak memory row is "
                             "the build's ru_maxrss plus its largest worker's")
            return memories[tag].rss_sum
        return memories[tag].tree_pss

    m["memory"] = Measure("memory", memory)
    m["memory_rss"] = Measure("memory_rss", lambda tag: memories[tag].largest_rss)
    m["memory_sum"] = Measure("memory_sum", lambda tag: memories[tag].rss_sum)

    # scaling, in this process, a new session per build
    for total in SIZES:
        path = write_scaled(BIKESHARE, total, work / "scale")

        def one(tag: str, path: Path = path) -> float:
            t0 = time.perf_counter()
            decks = build(path, path.parent / "out")
            return (time.perf_counter() - t0) / len(decks)

        m[f"n{total}"] = Measure(f"n{total}", one)
    return m


_NEEDS = {  # a failing command, the feature it needs when build.py --help does not show it
    "batch": ("batch mode: a folder of data files in one command",
              lambda help_text: "data ..." in help_text or "DATA ..." in help_text),
}


def run_rounds(measures: dict[str, Measure], runs: int) -> None:
    """One untimed warm-up round, then ``runs`` timed rounds of every measure in turn. A
    measure that fails in the warm-up is left out, its row saying why."""
    help_text = cli_help()
    for round_no in range(runs + 1):
        tag = "warm-up" if round_no == 0 else str(round_no)
        print(f"round {tag} of {runs} ...", file=sys.stderr, flush=True)
        for measure in measures.values():
            if measure.missing:
                continue
            try:
                value = measure.run(tag)
            except RuntimeError as error:
                if round_no:
                    raise
                need = _NEEDS.get(measure.key)
                if need and not need[1](help_text):
                    measure.missing = f"n/a (needs {need[0]})"
                else:
                    measure.missing = f"n/a (failed: {_first_line(error)[:120]})"
                continue
            if round_no:
                measure.samples.append(value)


# --- the table ------------------------------------------------------------------------------


def _verdict(value: float | None, limit: float, strict: bool = False) -> str:
    """pass / fail against ``limit`` (``<=``, or ``<`` when ``strict``).

    >>> _verdict(1.0, 1.0), _verdict(1.0, 1.0, strict=True), _verdict(None, 1.0)
    ('pass', 'fail', 'n/a')
    """
    if value is None:
        return "n/a"
    return "pass" if (value < limit if strict else value <= limit) else "fail"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _x(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A Markdown pipe table, numbers right-aligned (columns 2 and 3).

    >>> print(markdown_table(("a", "b"), [("x", "1")]))
    | a | b |
    |:--|--:|
    | x | 1 |
    """
    align = ["--:" if i in (1, 2) else ":--" for i in range(len(header))]
    lines = [header, *rows]
    return "\n".join(["| " + " | ".join(lines[0]) + " |", "|" + "|".join(align) + "|",
                      *("| " + " | ".join(r) + " |" for r in lines[1:])])


def table(measures: dict[str, Measure], runs: int) -> list[tuple[str, ...]]:
    """The rows: measurement, median, ratio, target, result."""
    med = {k: v.median for k, v in measures.items()}
    rows: list[tuple[str, ...]] = []

    def seconds(key: str) -> str:
        measure = measures[key]
        if measure.missing:
            return measure.missing
        return f"{med[key]:.3f} s" if med[key] is not None else "n/a"

    def row(label: str, key: str, ratio: float | None = None, of: str = "",
            target: str = "", verdict: str = "") -> None:
        shown = f"{_x(ratio)} {of}".strip() if ratio is not None else ""
        rows.append((label, seconds(key), shown, target, verdict))

    floor, cold = med["floor"], med["cold"]
    row("import floor: `python -c \"import pptx, jinja2, PIL.Image, babel.numbers, yaml, "
        "lxml.etree\"`", "floor")
    cold_floor = _ratio(cold, floor)
    row("cold build, both decks: `python build.py --out TMP --no-cache`", "cold", cold_floor,
        "floor", f"<= {COLD_PER_FLOOR}x floor", _verdict(cold_floor, COLD_PER_FLOOR))
    cold_pandoc = _ratio(cold, med["pandoc"])
    row("pandoc, same briefing (ko + en, 2 runs)", "pandoc", cold_pandoc, "(cold / pandoc)",
        f"cold <= {COLD_PER_PANDOC}x pandoc", _verdict(cold_pandoc, COLD_PER_PANDOC))
    cold_md2 = _ratio(cold, med["md2pptx"])
    row("md2pptx, same briefing (ko + en, 2 runs)", "md2pptx", cold_md2, "(cold / md2pptx)",
        f"cold <= {COLD_PER_MD2PPTX}x md2pptx", _verdict(cold_md2, COLD_PER_MD2PPTX))
    cli_floor = _ratio(med["cli"], floor)
    cli_verdict = measures["cli"].no_verdict or _verdict(cli_floor, REBUILD_PER_FLOOR)
    row("CLI rebuild after a one-field change, cache on: `python build.py COPY --out SAME` "
        "(served by the build server)", "cli", cli_floor, "floor",
        f"<= {REBUILD_PER_FLOOR}x floor", cli_verdict)
    row("the same with the server off (`DECK_SERVER=0`: all in a new process)", "cli_alone",
        _ratio(med["cli_alone"], floor), "floor")
    row("`--watch` rebuild after a one-field change (in process)", "watch",
        _ratio(med["watch"], cold), "cold")
    batch_pandoc = _ratio(med["batch"], med["pandoc40"])
    row(f"batch: {BATCH_COPIES} copies, {2 * BATCH_COPIES} decks, one "
        "`python build.py FOLDER --out OUT --no-cache`", "batch", batch_pandoc,
        "(batch / pandoc)", "<= 40 pandoc runs", _verdict(batch_pandoc, BATCH_PER_PANDOC))
    row(f"pandoc, {2 * BATCH_COPIES} runs in turn ({BATCH_COPIES} x ko + en)", "pandoc40")
    def mib(key: str) -> str:
        return measures[key].missing or f"{med[key]:.1f} MiB"

    pss = "PSS summed over the build and its workers, sampled every 5 ms"
    rows.append((f"peak memory, cold build of both decks ({pss})", mib("memory"), "",
                 f"< {PEAK_MIB:g} MiB", _verdict(med["memory"], PEAK_MIB, strict=True)))
    rows.append(("peak RSS (ru_maxrss) of the largest process", mib("memory_rss"), "", "", ""))
    rows.append(("ru_maxrss of the build process + that of its largest worker",
                 mib("memory_sum"), "", "", ""))
    for total in SIZES:
        row(f"bikeshare, {total:,} claims, one deck (in process)", f"n{total}",
            _ratio(med[f"n{total}"], med[f"n{SIZES[0]}"]), f"{SIZES[0]} claims")
    scale = _ratio(med["n1000"], med["n100"])
    rows.append(("scaling: t(1,000 claims) / t(100 claims)", "", _x(scale),
                 f"<= {SCALING_TARGET:g}x", _verdict(scale, SCALING_TARGET)))
    return rows


def _environment(work: Path, notes: list[str]) -> dict[str, str | None]:
    """What the children's environment should be: the cache of this run, never the user's;
    compiled bytecode kept (in a folder of this run, so nothing is written into the project),
    as a user's Python keeps it after the first run, even where ``PYTHONDONTWRITEBYTECODE`` is
    set here. Returns the values it replaced."""
    wanted: dict[str, str | None] = {
        "DECK_CACHE_DIR": str(work / "cache" / "in-process"),
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        "PYTHONDONTWRITEBYTECODE": None,
        # no build server but the CLI rebuild's (a cold build is a new process, start to end)
        "DECK_SERVER": "0",
        "DECK_SERVER_DIR": str(work / "server"),
    }
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        notes.append("PYTHONDONTWRITEBYTECODE is set here: the children ran without it, their "
                     "bytecode kept in a folder of this run (compiled in the warm-up round)")
    saved = {key: os.environ.get(key) for key in wanted}
    _set_environ(wanted)
    return saved


def _set_environ(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run_table(runs: int, md2pptx: tuple[str, Path] | None, command: str) -> str:
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="deck-bench-") as tmp:
        work = Path(tmp)
        saved = _environment(work, notes)
        try:
            measures = make_measures(work, md2pptx, notes)
            run_rounds(measures, runs)
        finally:
            subprocess.run([sys.executable, str(BUILD_PY), "--stop-server"],
                           env=_child_env(DECK_SERVER="1"), capture_output=True)
            _set_environ(saved)
    header = ("measurement", "median", "ratio", "target", "result")
    rows = table(measures, runs)
    verdicts = [r[4] for r in rows if r[4]]
    head = [f"Machine: {machine()}", f"Commit: {revision()}",
            f"Command: `{command}`; medians of {runs} "
            "interleaved rounds after a warm-up; ratios are ratios of medians",
            f"Targets: {verdicts.count('pass')} pass, {verdicts.count('fail')} fail, "
            f"{sum(v.startswith('n/a') for v in verdicts)} not measured", ""]
    return "\n".join([*head, markdown_table(header, rows), "",
                      *(f"- {n}" for n in notes)]).rstrip() + "\n"


def run_profile(top: int = 25) -> str:
    """One in-process build of both bundled decks under cProfile, top functions by cumtime."""

    with tempfile.TemporaryDirectory(prefix="deck-bench-") as tmp:
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        build(DATA, Path(tmp))
        profiler.disable()
        elapsed = time.perf_counter() - t0
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
    return (f"cProfile: first in-process build of both bundled decks, {elapsed:.3f} s "
            f"under the profiler; top {top} by cumulative time\n" + buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7,
                        help="interleaved rounds, each measurement once per round (default 7)")
    parser.add_argument("--md2pptx", type=Path, metavar="md2pptx.py",
                        help="md2pptx's main script, for the md2pptx row (not on PyPI)")
    parser.add_argument("--md2pptx-python", metavar="PYTHON",
                        help="the Python that runs md2pptx (with python-pptx installed); "
                             "default: a venv/bin/python next to its folder, else this one")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the table, profile one in-process build (top 25)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs: expected a positive number")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if args.profile:
        print(run_profile())
        return 0
    md2pptx = None
    if args.md2pptx is not None:
        script = args.md2pptx.resolve()
        guess = script.parent.parent / "venv" / "bin" / "python"
        python = args.md2pptx_python or (str(guess) if guess.exists() else sys.executable)
        if not script.is_file():
            print(f"--md2pptx: {script} does not exist; the md2pptx row is skipped",
                  file=sys.stderr)
        elif shutil.which(python) is None and not Path(python).is_file():
            print(f"--md2pptx-python: {python} not found; the md2pptx row is skipped",
                  file=sys.stderr)
        else:
            md2pptx = (python, script)
    command = " ".join(["python tests/bench/bench.py", *(sys.argv[1:] if argv is None else argv)])
    print(run_table(args.runs, md2pptx, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
