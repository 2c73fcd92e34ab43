"""Command line: arguments, one line per deck, exit codes (0 built, 1 internal error, 2 bad
input). The build itself is a :class:`deck.session.BuildSession`'s; this module only parses,
prints and maps exceptions to exit codes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .cache import DiskCache, default_folder
from .diagnostics import Diagnostic, UserError
from .output import BASES
from .resources import default_article, labels_dir, outlines_dir, theme_path
from .session import BuildRequest, BuildResult, BuildSession
from .workers import cores, run_jobs

# --init, --article and --diff import what they need when they run: a build never pays for
# them (see tests/bench/bench.py for the import floor a build is measured against)


class _Parser(argparse.ArgumentParser):
    """argparse, reporting a bad argument the way every other problem is reported."""

    def error(self, message: str) -> NoReturn:
        print(f"{message.removeprefix('argument ')} (see {self.prog} --help)", file=sys.stderr)
        print("build failed: 1 problem; nothing was written", file=sys.stderr)
        raise SystemExit(2)


class _Unparsable(Exception):
    pass


class _QuietParser(_Parser):
    def error(self, message: str) -> NoReturn:
        raise _Unparsable(message)


def servable(argv: object) -> bool:
    """Whether the build server (:mod:`deck.server`) may run this command: any but
    ``--watch``, which is resident itself (a command that does not parse is served: it fails
    there as it would here)."""
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return False
    try:
        return not parse_args(argv, _QuietParser).watch
    except (_Unparsable, SystemExit):
        return True


def warm(argv: list[str], sessions: dict) -> str:
    """Fill the build server's ``sessions`` with the build ``argv`` asks for, saving nothing:
    what it says it did (a line of its log). Only a plain build of one article is worth it
    (the edit-and-rebuild loop); anything else, or input that does not parse or load, warms
    nothing and is no error here (the command that asks for it again is told)."""
    try:
        args = parse_args(argv, _QuietParser)
    except (_Unparsable, SystemExit):
        return "nothing to warm up: the arguments do not parse"
    if (args.init or args.article or args.diff or args.layouts or args.watch
            or args.stop_server):
        return "nothing to warm up: not a build"
    datas = data_files(args.data)
    if isinstance(datas, UserError) or len(datas) != 1:
        return "nothing to warm up: not one article"
    try:
        new_session(args, sessions).prepare(request_from(args, datas[0], jobs=1))
    except UserError:  # bad input: what loaded is warm still
        return f"warm-up stopped by problems in the input of {datas[0]}"
    except Exception as exc:  # noqa: BLE001  (the command asking for it meets it again)
        return f"warm-up failed: {type(exc).__name__}: {exc}"
    return f"warmed up with {datas[0]}"


def parse_args(argv: list[str] | None,
               parser_class: type[_Parser] = _Parser) -> argparse.Namespace:
    parser = parser_class(
        prog="deck", description="Build bilingual PowerPoint briefings from an article's "
        "data file.")
    parser.add_argument("data", nargs="*", type=Path, metavar="DATA",
                        help="article data files (YAML), or folders of them: several build "
                        "as a batch in one process; default: the bundled DeepSeek article")
    parser.add_argument("--out", type=_folder, default=Path("out"), help="output folder (out/)")
    parser.add_argument("--lang", help="comma-separated languages (default: all in the file)")
    parser.add_argument("--template", type=Path, help="a company .pptx master (layouts "
                        "mapped by name in a .yaml beside it)")
    parser.add_argument("--layouts", action="store_true",
                        help="print the template's masters and layouts, which outline layouts "
                        "each suits, and a starter mapping file; build nothing")
    edits = parser.add_mutually_exclusive_group()
    edits.add_argument("--merge", action="store_true",
                       help="carry the hand edits of edited decks into the new build "
                       "(three-way merge; a backup first, a report beside each deck)")
    edits.add_argument("--force", action="store_true",
                       help="overwrite hand-edited decks after keeping a timestamped backup")
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings (derived figures that disagree) as errors")
    parser.add_argument("--preview", action="store_true",
                        help="also write a PNG per slide and a contact sheet (needs LibreOffice)")
    parser.add_argument("--watch", action="store_true",
                        help="rebuild when the data file, a template or the theme changes")
    parser.add_argument("--init", type=Path, metavar="ARTICLE.txt",
                        help="write ARTICLE.yaml beside the article's text: a data file to "
                        "finish (never overwrites)")
    parser.add_argument("--article", type=Path, metavar="ARTICLE.txt",
                        help="check DATA against the article's text (numbers covered, no "
                        "copied wording) instead of building; --strict: any shortfall exits 2")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("A.pptx", "B.pptx"),
                        help="show what differs between two decks, slide by slide and shape "
                        "by shape (builds nothing)")
    parser.add_argument("--wait", type=float, default=60, metavar="SECONDS",
                        help="how long to wait for another build writing into the same "
                        "output folder (60)")
    parser.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                        help="processes building at once: the languages of one article, or "
                        "the articles of a batch (default: one per core)")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the cache of earlier builds "
                        "($DECK_CACHE_DIR, else ~/.cache/deck; safe to delete)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--stop-server", action="store_true",
                        help="stop the build server that later commands start (alone; see "
                        "README: 'The build server')")
    return parser.parse_args(argv)


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _folder(text: str) -> Path:
    # Path("") is ".": an empty --out (an unset shell variable) must not mean "here"
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; expected a folder name (use . for this "
                                         "folder)")
    return Path(text)


def request_from(args: argparse.Namespace, data: Path | None = None,
                 jobs: int | None = None) -> BuildRequest:
    """The build the arguments ask for (of ``data`` in a batch), its languages built by
    ``jobs`` processes (default ``--jobs``, else one per core)."""
    langs = tuple(x.strip() for x in args.lang.split(",") if x.strip()) if args.lang else ()
    return BuildRequest(data=data or (args.data[0] if args.data else default_article()),
                        out_dir=args.out, langs=langs, template=args.template,
                        force=args.force, strict=args.strict,
                        source_date_epoch=os.environ.get("SOURCE_DATE_EPOCH"),
                        merge=args.merge, wait=args.wait,
                        jobs=jobs or args.jobs or cores())


def new_session(args: argparse.Namespace, sessions: dict | None = None) -> BuildSession:
    """A session reporting waits on stderr, with the cache across processes unless
    ``--no-cache`` (or ``DECK_NO_CACHE=1`` in the environment); one of ``sessions`` (the
    build server's, by cache folder) where given."""
    off = args.no_cache or os.environ.get("DECK_NO_CACHE", "") not in ("", "0")
    folder = None if off else default_folder().resolve()
    if sessions is not None and folder in sessions:
        return sessions[folder]
    session = BuildSession(notify=lambda message: print(message, file=sys.stderr, flush=True),
                           cache=None if folder is None else DiskCache(folder))
    if sessions is not None:
        sessions[folder] = session
    return session


def main(argv: list[str] | None = None, sessions: dict | None = None) -> int:
    """``python build.py``, ``python -m deck`` and ``deck``: build, print, return the status.
    ``sessions``: the build server's sessions (:mod:`deck.server`), kept from command to
    command; a single article's languages are then built in turn, in the server itself, so
    that its session's memo serves the next command."""
    args = parse_args(argv)
    if args.stop_server:
        print("--stop-server goes alone: deck --stop-server", file=sys.stderr)
        return 2
    if args.init or args.article:
        return _guarded(lambda: _init(args) if args.init else _check_article(args), args.debug)
    if args.diff:
        return run_diff(*args.diff, debug=args.debug)
    session = new_session(args, sessions)
    if args.layouts:
        return _describe(session, args)
    datas = data_files(args.data)
    if isinstance(datas, UserError):
        _report(datas)
        return 2
    if args.watch and len(datas) > 1:
        print("--watch follows one data file; expected one, got a batch of "
              f"{len(datas)}", file=sys.stderr)
        return 2
    if args.watch:
        return watch(args, session)
    if len(datas) > 1:
        return run_batch(session, args, datas)
    jobs = 1 if sessions is not None and not args.jobs else None
    status, result = run_build(session, request_from(args, datas[0] if datas else None, jobs),
                               args.debug)
    if result is not None and args.preview:
        _previews(result)
    return status


def run_build(session: BuildSession, request: BuildRequest, debug: bool = False,
              watching: bool = False, in_batch: bool = False) -> tuple[int, BuildResult | None]:
    """One build with its report: the exit status, and the result when it built. With
    ``debug`` a failure shows its traceback (raised, or printed when ``watching``: the loop
    goes on). ``in_batch``: one article of a batch, which prints its own total and stops
    whole on an interrupt."""
    t0 = time.perf_counter()
    try:
        result = session.build(request)
    except UserError as exc:
        _report(exc)
        if debug and not watching:
            raise
        return 2, None
    except KeyboardInterrupt:
        if watching or in_batch:  # the whole command stops
            raise
        print("interrupted; nothing was written", file=sys.stderr)
        return 1, None
    except Exception as exc:  # a bug, not bad input: say so plainly
        if debug and not watching:
            raise
        if debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
              "traceback); nothing was written", file=sys.stderr)
        return 1, None
    for w in result.warnings:
        print(str(w), file=sys.stderr)
    if result.finished:
        print(f"{request.out_dir}: finished saving {', '.join(result.finished)}, which an "
              "interrupted build had left half done", file=sys.stderr)
    for backup in result.backups:
        print(f"{backup}: kept a backup of the hand-edited deck")
    merged = {m.path: m for m in result.merged}
    for d in result.decks:
        if d.path in merged:
            print(f"{d.path}: {merged[d.path].summary()}")
        else:
            print(f"{d.path}: {d.slides} slides, {d.claims} claims, {d.seconds:.2f} s")
    n = len(result.decks)
    if not in_batch:
        print(f"built {n} deck{'s' if n != 1 else ''} in {time.perf_counter() - t0:.2f} s")
    return 0, result


def _describe(session: BuildSession, args: argparse.Namespace) -> int:
    try:
        print(session.describe_template(args.template))
    except UserError as exc:
        _report(exc, "nothing was described")
        return 2
    return 0


def _guarded(step, debug: bool) -> int:
    """Run a step that reads user files: bad input is exit 2 with every problem listed."""
    try:
        return step()
    except UserError as exc:
        for d in exc.diagnostics:
            print(str(d), file=sys.stderr)
        if debug:
            raise
        return 2


def run_diff(a: Path, b: Path, debug: bool = False) -> int:
    """``--diff A B``: print the diff; 2 when a file is not a readable deck."""
    def show() -> int:
        from .diff import diff_decks

        lines = diff_decks(a, b)
        try:
            print("\n".join(lines))
        except BrokenPipeError:  # piped into head or a pager that quit: not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the exit flush quiet
        return 0

    return _guarded(show, debug)


def _init(args: argparse.Namespace) -> int:
    from .stub import init_data_file

    target = init_data_file(args.init)
    todos = sum(line.count("TODO") for line in target.read_text(encoding="utf-8").splitlines()
                if not line.lstrip().startswith("#"))
    print(f"{target}: written; {todos} TODOs to fill, then: python build.py {target} "
          f"--article {args.init}")
    return 0


def _check_article(args: argparse.Namespace) -> int:
    from .articletext import read_article
    from .coverage import check_coverage
    from .data import load_briefing

    loaded, _ = load_briefing(args.data[0] if args.data else default_article())
    result = check_coverage(loaded, read_article(args.article))
    for d in result.problems:
        print(str(d))
    print(result.summary())
    return 2 if args.strict and not result.complete else 0


#: the most problems printed one per line; beyond, a count (a file of 100,000 TODOs)
SHOWN_PROBLEMS = 200


def _report(exc: UserError, outcome: str = "nothing was written") -> None:
    n = len(exc.diagnostics)
    for d in exc.diagnostics[:SHOWN_PROBLEMS]:
        print(str(d), file=sys.stderr)
    if n > SHOWN_PROBLEMS:
        print(f"... and {n - SHOWN_PROBLEMS:,} more problems like these (the first "
              f"{SHOWN_PROBLEMS} shown)", file=sys.stderr)
    print(f"build failed: {n} problem{'s' if n != 1 else ''}; {outcome}", file=sys.stderr)


def _previews(result: BuildResult) -> None:
    import subprocess

    from . import preview

    if preview.soffice() is None:
        print(f"preview skipped: {preview.INSTALL_HINT}")
        return
    for d in result.decks:
        try:
            pages, sheet = preview.write_previews(d.path)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            print(f"{d.path}: preview failed: {exc}", file=sys.stderr)
            continue
        print(f"{sheet}: contact sheet of {len(pages)} slides")


def watch(args: argparse.Namespace, session: BuildSession) -> int:
    """Rebuild on every change of the data file, an outline template, a label catalog, the
    template or its mapping, in one session: unchanged slides are neither measured nor
    written again. Any failed rebuild prints its errors and the loop waits for the fix."""
    try:
        from watchfiles import watch as watch_changes
    except ImportError:
        print("--watch needs watchfiles: python3 -m pip install -e '.[watch]'", file=sys.stderr)
        return 2
    request = request_from(args, jobs=1)  # one process: its memo makes a rebuild fast
    template = Path(args.template or theme_path()).resolve()
    inputs = {request.data.resolve().parent, outlines_dir(), labels_dir(), template.parent}
    ours = _written_by_us(request)
    relevant = (".yaml", ".yml", ".j2", ".pptx", ".png", ".jpg", ".jpeg")

    def wanted(_change, path: str) -> bool:
        p = Path(path)
        return p.suffix in relevant and not p.name.startswith(".") and not ours(p)

    run_build(session, request, args.debug, watching=True)
    print(f"watching {', '.join(sorted(str(r) for r in inputs))} (Ctrl-C to stop)", flush=True)
    try:
        for changes in watch_changes(*inputs, watch_filter=wanted, raise_interrupt=False):
            names = ", ".join(sorted({Path(p).name for _, p in changes}))
            status, result = run_build(session, request, args.debug, watching=True)
            if result is None:
                print("waiting for a fix...", flush=True)
                continue
            print(f"rebuilt {len(result.decks)} deck(s) after {names} changed", flush=True)
    except KeyboardInterrupt:
        pass
    return 0


def _written_by_us(request: BuildRequest) -> Callable[[Path], bool]:
    """Whether a changed file is one a build writes (its decks, their backups and previews),
    so that writing them is not taken for an edit, even when the output folder is the data
    folder itself."""
    out = request.out_dir.resolve()
    # <stem>.<lang>.pptx, its backups (.<time>.bak.pptx), previews (.preview/, .contact.png)
    deck = re.compile(re.escape(request.data.stem) + r"\.[a-z]{2,3}(-[A-Za-z0-9]+)*"
                      r"(\.pptx|\.[0-9-]+\.bak\.pptx|\.contact\.png|\.preview)$")

    def ours(path: Path) -> bool:
        if path.parent.name.endswith(".preview"):
            path = path.parent
        return path.parent in (out, out / BASES) and bool(deck.match(path.name))

    return ours


# ------------------------------------------------------------------------------------------
# batches


def data_files(given: list[Path]) -> list[Path] | UserError:
    """The data files named, a folder standing for the ``*.yaml`` files directly in it (not
    a template's mapping: a YAML beside a .pptx or .potx of its name), in name order; a
    folder without any is an error."""
    found: list[Path] = []
    problems = []
    for path in given:
        if path.is_dir() and path.suffix not in (".yaml", ".yml"):  # x.yaml/: a mistake
            inside = sorted(p for p in path.glob("*.yaml") if not any(
                p.with_suffix(s).exists() for s in (".pptx", ".potx")))
            if not inside:
                problems.append(Diagnostic(str(path), None, "DATA", "no data files in this "
                                           "folder; expected *.yaml article data files"))
            found += inside
        else:
            found.append(path)  # missing, a pipe...: its own build says what is wrong
    seen: set[tuple[Path, str]] = set()  # one file named twice (as its decks would be)
    found = [p for p in found if (key := (_same_file(p), p.stem)) not in seen
             and not seen.add(key)]  # type: ignore[func-returns-value]
    first: dict[str, Path] = {}
    for path in found:  # a.yaml and other/a.yaml would both write a.<lang>.pptx
        if first.setdefault(path.stem, path) is not path:
            problems.append(Diagnostic(str(path), None, "DATA", (
                f"makes the same decks as {first[path.stem]} ({path.stem}.<lang>.pptx), and "
                "one would replace the other; expected one data file per name (rename one, "
                "or build them into different --out folders)")))
    return UserError(problems) if problems else found


def _same_file(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def run_batch(session: BuildSession, args: argparse.Namespace, datas: list[Path]) -> int:
    """Build many articles in one process, ``--jobs`` at a time (each article's languages one
    after the other): one line per deck as each article finishes, every problem of every bad
    file, a total, and exit 2 if any file was bad (1 if anything failed otherwise)."""
    t0 = time.perf_counter()
    try:  # planned once here, before the workers start: each inherits it
        session.template(args.template)
    except UserError:
        pass  # each article's build reports it with the rest of its problems
    jobs = [lambda data=data: _batch_job(session, request_from(args, data, jobs=1))
            for data in datas]
    try:
        # every article in a worker (none in this process): each line printed as it finishes
        outcomes = run_jobs(jobs, args.jobs or cores(), on_done=lambda _i, o: _print_job(o),
                            here=False)
    except KeyboardInterrupt:  # the whole batch stops, not only the article being built
        print("interrupted: the decks listed above were built, the rest of the batch was not",
              file=sys.stderr)
        return 1
    built = sum(o[1] for o in outcomes)
    failed = [o for o in outcomes if o[0] != 0]
    print(f"built {built} deck{'s' if built != 1 else ''} from {len(datas) - len(failed)} of "
          f"{len(datas)} data files in {time.perf_counter() - t0:.2f} s"
          + (f"; {len(failed)} failed" if failed else ""))
    return max((o[0] for o in outcomes), key=lambda s: (s == 1, s == 2), default=0)


def _batch_job(session: BuildSession, request: BuildRequest) -> tuple[int, int, str, str]:
    """One article of a batch, its report captured: (status, decks built, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status, result = run_build(session, request, in_batch=True)
    return status, len(result.decks) if result else 0, out.getvalue(), err.getvalue()


def _print_job(outcome: tuple[int, int, str, str]) -> None:
    _, _, out, err = outcome
    sys.stderr.write(err)
    sys.stdout.write(out)
    sys.stdout.flush()
