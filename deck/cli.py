"""Command line: arguments, the build of every deck, exit codes (0 ok, 1 failure, 2 bad input).

Every stage runs for every language before anything is written: a problem anywhere leaves the
output folder as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import l10n
from .data import LoadedBriefing, load_briefing
from .diagnostics import Diagnostic, UserError
from .layout import forget_layouts, layout_deck
from .outline import parse_outline
from .output import check_writable, pack_parts, refuse_edited, save_decks
from .templating import OUTLINES_DIR, briefing_context, fill, render_outline
from .writer import DEFAULT_THEME, DeckInfo, DeckMemo, Theme, load_theme, write_deck

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "assets" / "articles" / "deepseek-shock.yaml"


@dataclass
class Built:
    path: Path
    lang: str
    slides: int
    claims: int
    seconds: float
    data: bytes


#: decks built in this process, by what determines them (``--watch`` reuses unaffected decks)
_BUILT: dict[str, tuple[bytes, int]] = {}
#: the last written parts of each deck (data file, language), for slide-level rebuilds
_MEMOS: dict[tuple[str, str], DeckMemo] = {}


def forget_builds() -> None:
    """Drop what this process remembers of earlier builds (the next build starts cold)."""
    _BUILT.clear()
    _MEMOS.clear()
    forget_layouts()


def _deck_key(loaded: LoadedBriefing, lang: str, theme: Theme, text: str) -> str:
    """Everything a deck depends on: its outline text (all words, markers, dates), the figure
    values its charts look up, its pictures, the theme, and the document date."""
    h = hashlib.sha256()
    for part in (text, repr(sorted((f.id, f.value, f.approx) for f in loaded.figures.values())),
                 repr(sorted((i, p.stat().st_mtime_ns) for i, p in loaded.images.items())),
                 repr(theme.path), theme.digest,
                 _build_time(loaded).isoformat(), lang):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def build_deck(loaded: LoadedBriefing, lang: str, theme: Theme) -> tuple[bytes, int]:
    """One language: render the outline, parse it, lay it out, write it. Returns (bytes, slides).

    A deck whose inputs are unchanged since it was last built in this process is reused.
    """
    ctx = briefing_context(loaded, lang)
    text, shown = render_outline(loaded, lang, context=ctx)
    key = _deck_key(loaded, lang, theme, text)
    if key in _BUILT:
        return _BUILT[key]
    outline = parse_outline(text, shown, loaded, lang)
    labels = l10n.load_labels(lang)
    markers = {cid: fill(labels["claim_marker"], n=n) for cid, n in loaded.claim_numbers.items()}
    laid = layout_deck(outline, theme.geometry, labels, markers)
    b = loaded.briefing
    info = DeckInfo(
        lang_tag=l10n.lang_tag(lang), markers=markers, title=ctx["article"]["title"],
        author=ctx["article"]["outlet"], subject=ctx["deck"]["takeaway"],
        keywords=", ".join(sorted({b.sources[c.by][lang] for c in b.claims})),
        created=_build_time(loaded), footer=outline.footer or ctx["footer"])
    memo_key = (str(loaded.path.resolve()), lang)
    parts, memo = write_deck(laid, theme, info, _MEMOS.get(memo_key))
    _MEMOS[memo_key] = memo
    result = pack_parts(parts, info.created.strftime("%Y-%m-%dT%H:%M:%SZ")), len(laid)
    if len(_BUILT) > 16:
        _BUILT.clear()
    _BUILT[key] = result
    return result


def _build_time(loaded: LoadedBriefing) -> dt.datetime:
    """Document dates: SOURCE_DATE_EPOCH if set, else the article's last update (reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    a = loaded.briefing.article
    moment = a.updated or a.published
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def build(data: Path, out_dir: Path, langs: list[str] | None = None, *,
          template: Path | None = None, force: bool = False, strict: bool = False,
          echo=print) -> list[Built]:
    """Build every requested deck in memory, then save them all; raise UserError on bad input."""
    loaded, warnings = load_briefing(data, strict=strict)
    for w in warnings.items:
        echo(str(w))
    available = loaded.briefing.languages
    langs = langs or available
    unknown = [x for x in langs if x not in available]
    if unknown:
        raise UserError([Diagnostic("--lang", None, "", f"language not in the data file; "
                                    f"expected some of {available}, got {unknown}")])
    theme = load_theme(template)
    check_writable(out_dir)
    built: list[Built] = []
    for lang in langs:
        t0 = time.perf_counter()
        payload, slides = build_deck(loaded, lang, theme)
        built.append(Built(out_dir / f"{data.stem}.{lang}.pptx", lang, slides,
                           len(loaded.briefing.claims), time.perf_counter() - t0, payload))
    backups = refuse_edited([b.path for b in built], force)
    for backup in backups:
        echo(f"{backup}: kept a backup of the hand-edited deck")
    save_decks({b.path: b.data for b in built})
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build.py", description="Build bilingual PowerPoint briefings from an article's "
        "data file.")
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA,
                        help="article data file (YAML); default: the bundled DeepSeek article")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (out/)")
    parser.add_argument("--lang", help="comma-separated languages (default: all in the file)")
    parser.add_argument("--template", type=Path, help="a company .pptx master (layouts "
                        "mapped by name in a .yaml beside it)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite hand-edited decks after keeping a timestamped backup")
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings (derived figures that disagree) as errors")
    parser.add_argument("--preview", action="store_true",
                        help="also write a PNG per slide and a contact sheet (needs LibreOffice)")
    parser.add_argument("--watch", action="store_true",
                        help="rebuild when the data file, a template or the theme changes")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    if args.watch:
        return watch(args)
    return _build_once(args)


def _langs(args: argparse.Namespace) -> list[str] | None:
    return [x.strip() for x in args.lang.split(",") if x.strip()] if args.lang else None


def _report(exc: UserError) -> None:
    for d in exc.diagnostics:
        print(str(d), file=sys.stderr)
    n = len(exc.diagnostics)
    print(f"build failed: {n} problem{'s' if n != 1 else ''}; nothing was written",
          file=sys.stderr)


def _build_once(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        built = build(args.data, args.out, _langs(args), template=args.template,
                      force=args.force, strict=args.strict)
    except UserError as exc:
        _report(exc)
        if args.debug:
            raise
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: say so plainly
        if args.debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
              "traceback); nothing was written", file=sys.stderr)
        return 1
    for b in built:
        print(f"{b.path}: {b.slides} slides, {b.claims} claims, {b.seconds:.2f} s")
    print(f"built {len(built)} deck{'s' if len(built) != 1 else ''} in "
          f"{time.perf_counter() - t0:.2f} s")
    if args.preview:
        _previews(built)
    return 0


def _previews(built: list[Built]) -> None:
    from . import preview

    if preview.soffice() is None:
        print(f"preview skipped: {preview.INSTALL_HINT}")
        return
    for b in built:
        try:
            pages, sheet = preview.write_previews(b.path)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            print(f"{b.path}: preview failed: {exc}", file=sys.stderr)
            continue
        print(f"{sheet}: contact sheet of {len(pages)} slides")


def watch(args: argparse.Namespace) -> int:
    """Rebuild on every change of the data file, an outline or label template, or the theme.

    Runs in one process, so fonts and compiled templates stay loaded; a bad edit prints its
    errors and the loop waits for the fix.
    """
    try:
        from watchfiles import watch as watch_changes
    except ImportError:
        print("--watch needs watchfiles: python3 -m pip install -e '.[watch]'", file=sys.stderr)
        return 2
    theme = args.template or DEFAULT_THEME
    roots = {args.data.resolve().parent, OUTLINES_DIR, l10n.LABELS_DIR,
             Path(theme).resolve().parent}
    out = args.out.resolve()
    relevant = (".yaml", ".yml", ".j2", ".pptx")

    def wanted(_change, path: str) -> bool:
        p = Path(path)
        return p.suffix in relevant and out not in p.parents and not p.name.startswith(".")

    _build_once(args)
    print(f"watching {', '.join(sorted(str(r) for r in roots))} (Ctrl-C to stop)")
    try:
        for changes in watch_changes(*roots, watch_filter=wanted, raise_interrupt=False):
            names = ", ".join(sorted({Path(p).name for _, p in changes}))
            t0 = time.perf_counter()
            try:
                built = build(args.data, args.out, _langs(args), template=args.template,
                              force=args.force, strict=args.strict, echo=print)
            except UserError as exc:
                _report(exc)
                print("waiting for a fix...")
                continue
            print(f"rebuilt {len(built)} deck(s) after {names} changed in "
                  f"{time.perf_counter() - t0:.2f} s")
    except KeyboardInterrupt:
        pass
    return 0



