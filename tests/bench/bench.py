"""Benchmarks for deck: cold and warm builds, a pandoc baseline, peak memory, scaling.

Run from anywhere (it finds the project root itself)::

    python tests/bench/bench.py              # the table, medians of 5 runs
    python tests/bench/bench.py --runs 3     # fewer runs
    python tests/bench/bench.py --profile    # one in-process build under cProfile instead

The table has one row per measurement, each the median of ``--runs`` runs:

* cold build of both bundled decks in a new process (``python build.py --out TMP --force``),
  against pandoc building the same briefing from Markdown (``pandoc briefing.ko.md -o x.pptx``,
  then the same for ``en``). The Markdown is written here from deck's own outlines (load,
  render, parse); pandoc has no native charts, so chart slides carry only their bullets. Without
  pandoc the row says how to install it and is skipped;
* warm rebuild in one process after one claim's text changed (``deck.cli.build`` once to warm
  up, then edit a copy of the data file and build again), and its ratio to the cold build;
* peak resident memory (``ru_maxrss``) of a child process that imports deck and builds both
  decks, next to that of a child that only imports ``deck.cli`` (each started through a small
  launcher process: Linux carries the forking process's peak into a child's ``ru_maxrss``);
* scaling: the English-only test article ``tests/data/bikeshare`` grown to 10, 100 and 1,000
  claims (copies of its claims with suffixed claim and figure ids), one deck each, timed in
  process after a warm-up, and the ratio t(1000)/t(100) (linear would be 10; target <= ~12).

Import time is not in the table. To see what the interpreter spends importing, run::

    python -X importtime build.py --out /tmp/out --force 2> importtime.log
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
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "assets" / "articles" / "deepseek-shock.yaml"
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"
SIZES = (10, 100, 1000)
SCALING_TARGET = 12.0
_FIG = re.compile(r"\{fig:([A-Za-z0-9_]+)\}")
# pandoc Markdown: any escaped ASCII punctuation is literal; these are the ones that can mean
# something (emphasis, links, lists, tables, headings, math, spans, raw HTML, smart quotes).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~^@:&\"'])")


def build(data: Path, out: Path, session: Any = None) -> list:
    """Build every deck of ``data`` into ``out`` (overwriting), in ``session`` or a new one."""
    from deck.session import BuildRequest, BuildSession

    session = session or BuildSession()
    return list(session.build(BuildRequest(data, out, force=True)).decks)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _median(fn: Callable[[], float], runs: int) -> tuple[float, list[float]]:
    samples = [fn() for _ in range(runs)]
    return statistics.median(samples), samples


# --- 1. cold build vs pandoc ----------------------------------------------------------------


def time_cold_build(out_dir: Path) -> float:
    """Seconds for ``python build.py --out OUT --force`` in a new process (both decks)."""
    cmd = [sys.executable, str(ROOT / "build.py"), "--out", str(out_dir), "--force"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"build.py failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def md_escape(text: str) -> str:
    """One line of literal pandoc-Markdown text (punctuation escaped, line breaks as spaces)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _bullet_lines(bullets: tuple) -> list[str]:
    return ["    " * b.level + "- " + md_escape(f"{b.text} {b.marks}" if b.marks else b.text)
            for b in bullets]


def _table_lines(table: Any) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(md_escape(c) for c in cells) + " |"

    return [row(table.columns), "|" + "|".join("---" for _ in table.columns) + "|",
            *(row(r) for r in table.rows)]


def outline_markdown(outline: Any) -> str:
    """The outline as pandoc Markdown: one ``# title`` per slide, bullets, pipe tables, notes."""
    out: list[str] = []
    for slide in outline.slides:
        out += [f"# {md_escape(slide.title)}", ""]
        if slide.subtitle:
            out += [md_escape(slide.subtitle), ""]
        if slide.bullets and slide.right:
            out += [":::: columns", "::: column", *_bullet_lines(slide.bullets), ":::",
                    "::: column", *_bullet_lines(slide.right), ":::", "::::", ""]
        else:
            for part in (slide.bullets, slide.right):
                if part:
                    out += [*_bullet_lines(part), ""]
        if slide.table is not None:
            out += [*_table_lines(slide.table), ""]
        if slide.notes:
            out += ["::: notes", *(md_escape(n) + "\n" for n in slide.notes), ":::", ""]
    return "\n".join(out)


def write_markdown(data: Path, out_dir: Path) -> dict[str, Path]:
    """``briefing.<lang>.md`` per language of ``data``, from deck's own outlines."""
    from deck.session import BuildRequest, BuildSession

    session = BuildSession()
    inputs = session.read_inputs(BuildRequest(data, out_dir))
    paths = {}
    for lang in inputs.langs:
        path = out_dir / f"briefing.{lang}.md"
        path.write_text(outline_markdown(session.outline(inputs, lang)), encoding="utf-8")
        paths[lang] = path
    return paths


def time_pandoc(pandoc: str, sources: dict[str, Path], out_dir: Path) -> float:
    """Seconds for one ``pandoc briefing.<lang>.md -o <lang>.pptx`` per language, in turn."""
    total = 0.0
    for lang, md in sources.items():
        cmd = [pandoc, str(md), "-o", str(out_dir / f"pandoc.{lang}.pptx")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        total += time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"pandoc failed on {md} ({proc.returncode}):\n{proc.stderr}")
    return total


# --- 2. warm rebuild ------------------------------------------------------------------------


def _editable_claim_text(source: str, data: dict[str, Any]) -> str:
    """The English text of the first claim whose text occurs exactly once in the file."""
    for claim in data["claims"]:
        text = claim["text"].get("en", "")
        if text and not _FIG.search(text) and source.count(text) == 1:
            return text
    raise RuntimeError("no claim text found that occurs exactly once in the data file")


def time_warm_rebuild(data: Path, work: Path, runs: int,
                      reuse: bool = True) -> tuple[float, float, list[float]]:
    """(first in-process build s, median warm rebuild s, samples) after one-field edits.

    With ``reuse`` off, the process forgets earlier builds first, so every deck is rebuilt
    (what a one-field change that touches every language costs)."""
    import yaml

    from deck.session import BuildSession

    session = BuildSession()
    copy_path = work / data.name
    source = data.read_text(encoding="utf-8")
    copy_path.write_text(source, encoding="utf-8")
    target = _editable_claim_text(source, yaml.safe_load(source))
    out_dir = work / "out"
    t0 = time.perf_counter()
    build(copy_path, out_dir, session)
    first = time.perf_counter() - t0

    def one(k: list[int] = [0]) -> float:  # noqa: B006 - a run counter
        k[0] += 1
        copy_path.write_text(source.replace(target, f"{target} (edit {k[0]})"), encoding="utf-8")
        t = time.perf_counter()
        build(copy_path, out_dir, session if reuse else None)
        return time.perf_counter() - t

    median, samples = _median(one, runs)
    return first, median, samples


# --- 3. peak memory -------------------------------------------------------------------------


_MEMORY_BUILD = (
    "import resource, deck.session as s; from pathlib import Path; "
    "s.BuildSession().build(s.BuildRequest(Path({data!r}), Path({out!r}), force=True)); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)
_MEMORY_IMPORT = (
    "import resource, deck.session; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


# Linux folds the forking process's peak RSS into the child's ru_maxrss at exec, so a child
# started from this (by then large) process would report at least our own peak. A small
# launcher process in between keeps the measured child's ru_maxrss its own.
_LAUNCHER = (
    "import subprocess, sys; r = subprocess.run([sys.executable, '-c', sys.argv[1]], "
    "capture_output=True, text=True); sys.stderr.write(r.stderr); print(r.stdout, end=''); "
    "sys.exit(r.returncode)"
)


def peak_rss_mib(code: str) -> float:
    """``ru_maxrss`` (KiB on Linux) printed by a child running ``code``, in MiB."""
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, code], cwd=ROOT, env=_child_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed ({proc.returncode}):\n{proc.stderr}")
    kib = int(proc.stdout.strip().splitlines()[-1])
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024  # macOS: bytes


# --- 4. scaling -----------------------------------------------------------------------------


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


def time_scaling(base: Path, work: Path, runs: int) -> dict[int, tuple[float, int]]:
    """{claims: (median seconds per deck, slides)}, each size warmed up once first."""
    results = {}
    for total in SIZES:
        path = write_scaled(base, total, work)
        out_dir = path.parent / "out"
        built = build(path, out_dir)  # warm-up
        decks = len(built)

        def one(path: Path = path, out_dir: Path = out_dir, decks: int = decks) -> float:
            t0 = time.perf_counter()
            build(path, out_dir)  # a new session: a real build, not a reuse
            return (time.perf_counter() - t0) / decks

        median, _ = _median(one, runs)
        results[total] = (median, built[0].slides)
    return results


# --- the table ------------------------------------------------------------------------------


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Plain-text columns, left-aligned text and right-aligned numbers."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def numeric(cell: str) -> bool:
        return bool(cell) and (cell[0].isdigit() or cell in ("-",))

    def line(r: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if numeric(c) and i in (1, 2) else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def run_table(runs: int) -> str:
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    n = str(runs)
    with tempfile.TemporaryDirectory(prefix="deck-bench-") as tmp:
        work = Path(tmp)

        # 1. cold build vs pandoc
        cold_out = work / "cold"
        cold, _ = _median(lambda: time_cold_build(cold_out), runs)
        rows.append(("cold build, 2 decks (python build.py, new process)", _s(cold), n, ""))
        pandoc = shutil.which("pandoc")
        if pandoc is None:
            notes.append("pandoc not found: install it (Debian: apt-get install -y pandoc) "
                         "for the pandoc row")
        else:
            md_dir = work / "md"
            md_dir.mkdir()
            sources = write_markdown(DATA, md_dir)
            pan, _ = _median(lambda: time_pandoc(pandoc, sources, md_dir), runs)
            rows.append((f"pandoc, same briefing from Markdown ({len(sources)} processes)",
                         _s(pan), n, f"deck/pandoc = {cold / pan:.2f}x"))

        # 2. warm rebuild (in this process)
        warm_dir = work / "warm"
        warm_dir.mkdir()
        first, warm, _ = time_warm_rebuild(DATA, warm_dir, runs)
        rows.append(("first build in process (deck.cli.build, imports done)", _s(first), "1",
                     f"first/cold = {first / cold:.2f}"))
        rows.append(("warm rebuild, one-field change (affected deck only)", _s(warm), n,
                     f"warm/cold = {warm / cold:.2f}"))
        full_dir = work / "warm-full"
        full_dir.mkdir()
        _, full, _ = time_warm_rebuild(DATA, full_dir, runs, reuse=False)
        rows.append(("warm rebuild, every deck rebuilt (no reuse)", _s(full), n,
                     f"warm/cold = {full / cold:.2f}"))

        # 3. peak memory
        mem_out = work / "mem"
        build_code = _MEMORY_BUILD.format(data=str(DATA), out=str(mem_out))
        peak, _ = _median(lambda: peak_rss_mib(build_code), runs)
        imported, _ = _median(lambda: peak_rss_mib(_MEMORY_IMPORT), runs)
        rows.append(("peak RSS of a build, 2 decks (child process)", f"{peak:.1f} MiB", n,
                     f"import deck.cli alone: {imported:.1f} MiB"))

        # 4. scaling
        scale = time_scaling(BIKESHARE, work / "scale", runs)
        for total, (seconds, slides) in scale.items():
            rows.append((f"scaling: bikeshare, {total:,} claims, per deck", _s(seconds), n,
                         f"{slides} slides, {seconds / total * 1000:.2f} ms/claim"))
        ratio = scale[1000][0] / scale[100][0]
        verdict = "ok" if ratio <= SCALING_TARGET else "over target"
        rows.append(("scaling: t(1000) / t(100)", f"{ratio:.2f}", "",
                     f"linear = 10; target <= {SCALING_TARGET:g}: {verdict}"))

    header = ("measurement", "median", "runs", "detail")
    head = (f"deck benchmark: medians of {runs} run{'s' if runs != 1 else ''}; "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return "\n".join([head, "", format_table(rows, header), *notes])


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
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the table, profile one in-process build (top 25)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs: expected a positive number")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    print(run_profile() if args.profile else run_table(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
