"""The build session: the pipeline's stages in order, and every memo table they share.

    data file --load--> LoadedBriefing --render (Jinja, per language)--> Rendered outline
      --parse, resolve--> Outline --fit (master geometry, fonts, labels)--> Presentation
      --write (python-pptx)--> parts --pack--> bytes --save (lock, journal, fingerprints,
      backups)--> out/

A session owns its memo tables; each is keyed by the *value* of its stage's input (frozen
models, file bytes), so any change to data, labels, outline, template or fonts invalidates
exactly what it affects, and an unchanged slide is neither measured nor written twice. Nothing
is kept outside a session. Problems from every input are collected and raised once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import msgspec

from . import l10n
from . import model as m
from .commit import import_lock
from .context import (
    article_title,
    briefing_context,
    deck_footer,
    expand_figures,
    short_footer,
)
from .data import LoadedBriefing, check_hedges, load_briefing
from .diagnostics import Diagnostic, Diagnostics, UserError
from .files import Roots, read_text
from .fit import FitContext, FitError, fit_slide, number_slides
from .launch import imports_frozen
from .master import (
    Template,
    mapping_path,
    presentation_bytes,
    read_template,
    read_template_sources,
)
from .measure import Fonts
from .outline import LAYOUTS, Outline, Rendered, parse_outline, resolve_outline
from .output import (
    Saved,
    base_path,
    check_output,
    edited_decks,
    finish_interrupted_save,
    normalise_package,
    pack_parts,
    read_base,
    repack,
    save_decks,
)
from .resources import labels_dir, outlines_dir, theme_path
from .roles import Roles, default_layout, plan_roles, qualifying
from .roles import suits as suits_layout
from .templating import OutlineEnvironment, render_outline
from .templating import yaml_quote as quote_name
from .workers import Background, cores, exits_waited, run_jobs, runs_here

if TYPE_CHECKING:
    from .cache import DiskCache
    from .merge import MergeOutcome
    from .writer import WrittenDeck

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A bounded memo table: least recently used entries go first. Given a
    :class:`~deck.cache.DiskCache`, it is the first tier of that cache: a miss here is looked
    up there (under ``namespace``, by ``disk_key(key)``: plain values, the same in every
    process), and what is made is kept in both."""

    def __init__(self, size: int, disk: DiskCache | None = None, namespace: str = "",
                 disk_key: Callable[[K], Hashable] | None = None):
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._disk = disk
        self._namespace = namespace
        self._disk_key = disk_key or (lambda key: key)

    def get(self, key: K, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        if self._disk is not None:
            value = self._disk.get(self._namespace, self._disk_key(key), make)
        else:
            value = make()
        self._keep(key, value)
        return value

    def peek(self, key: K) -> V | None:
        if key in self._items or self._disk is None:
            return self._items.get(key)
        found = self._disk.load(self._namespace, self._disk_key(key))
        if found is not None:
            self._keep(key, found[0])
        return found[0] if found is not None else None

    def put(self, key: K, value: V) -> None:
        self._keep(key, value)
        if self._disk is not None:
            self._disk.store(self._namespace, self._disk_key(key), value)

    def _keep(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class BuildRequest(msgspec.Struct, frozen=True):
    """What to build: one data file, into one folder, in some of its languages."""

    data: Path
    out_dir: Path
    langs: tuple[str, ...] = ()  # () = every language of the file
    template: Path | None = None  # None = the bundled theme
    force: bool = False
    strict: bool = False
    source_date_epoch: str | None = None  # the environment's SOURCE_DATE_EPOCH
    merge: bool = False  # carry hand edits of edited decks into the new build
    wait: float = 60  # seconds to wait for another build writing into out_dir
    jobs: int = 1  # languages built at once, each in a process of its own (same bytes)

    def deck_name(self, lang: str) -> str:
        return f"{self.data.stem}.{lang}.pptx"


class BuiltDeck(msgspec.Struct, frozen=True):
    path: Path
    lang: str
    slides: int
    claims: int
    seconds: float
    data: bytes


class MergedDeck(msgspec.Struct, frozen=True):
    """A hand-edited deck merged with its new build (``outcome`` None: the data did not
    change, so the deck was left as the user saved it)."""

    path: Path
    outcome: MergeOutcome | None
    backup: Path | None
    report: Path | None

    def summary(self) -> str:
        """The one line the command line prints for this deck."""
        if self.outcome is None:
            return "edited by hand, and the data has not changed since: left as it is"
        return f"{self.outcome.summary()}; decisions in {self.report}"


class BuildResult(msgspec.Struct, frozen=True):
    decks: tuple[BuiltDeck, ...]
    warnings: tuple[Diagnostic, ...]
    backups: tuple[Path, ...]
    merged: tuple[MergedDeck, ...] = ()
    finished: tuple[str, ...] = ()  # files an interrupted earlier save left, put in place


class _Inputs(msgspec.Struct, frozen=True):
    """Everything read from disk for one build, checked."""

    loaded: LoadedBriefing
    warnings: tuple[Diagnostic, ...]
    template: Template
    roles: dict[str, Roles]
    notes: tuple[Diagnostic, ...]  # what the template needed: placeholders passed over, repairs
    labels: dict[str, l10n.Labels]
    langs: tuple[str, ...]
    roots: Roots  # the folders this build may read from
    # the template's font files as found on disk (Fonts.locate): a build reading its inputs
    # in a process of its own hands them on, so that no language process searches again
    font_files: dict[str, Path | None]

    def markers(self, lang: str) -> dict[str, str]:
        return l10n.claim_markers(self.loaded.claim_numbers, self.labels[lang])

    def numbers(self, lang: str) -> l10n.Numbers:
        return l10n.Numbers(lang, self.labels[lang])


class BuildSession:
    """Runs builds; keeps what one build computed for the next (``--watch``, tests, batches)."""

    def __init__(self, notify: Callable[[str], None] | None = None,
                 cache: DiskCache | None = None) -> None:
        #: told when a build waits for another writing into the same folder
        self.notify = notify
        #: kept across processes (a later ``python build.py`` reuses what this one made)
        self.cache = cache
        self.fonts = Fonts()
        self._templates: Memo[tuple[bytes, bytes], _Planned] = Memo(4, cache, "template")
        self._labels: Memo[tuple[Path, bytes], l10n.Labels] = Memo(16)
        self._envs: Memo[tuple, OutlineEnvironment] = Memo(8)
        self._fitted: Memo[tuple, tuple[m.Slide, ...]] = Memo(
            4096, cache, "fit", lambda key: (key[0], key[1], key[2].cache_key()))
        self._packed: Memo[tuple, bytes] = Memo(32, cache, "deck")
        self._written: Memo[tuple, WrittenDeck] = Memo(16, cache, "written")
        self._workbooks: Memo[tuple[bytes, str], bytes] = Memo(256, cache, "workbook")
        self._checked: Memo[bytes, tuple[str, ...]] = Memo(32, cache, "check")  # by digest
        # (template digest, slide) the checker found fine: written the same way again, a
        # slide is not checked again (a one-field rebuild checks the slides it changed)
        self._slides_fine: Memo[tuple, bool] = Memo(4096)

    # -- the pipeline ------------------------------------------------------------------------

    def build(self, request: BuildRequest) -> BuildResult:
        """Build every requested deck in memory, then save them all.

        Raises :class:`UserError` listing every problem of every input; nothing is written
        then. The language processes leave while the decks are saved; all have ended when
        this returns.
        """
        with exits_waited():
            return self._build(request)

    def _build(self, request: BuildRequest) -> BuildResult:
        reading = None
        try:
            reading = self._read_ahead(request)
            inputs = reading.result() if reading is not None else self.read_inputs(request)
            self.fonts.learn(inputs.font_files)
            check_output(request.out_dir, [request.deck_name(lang) for lang in inputs.langs])
            made = run_jobs([lambda lang=lang: self._language(inputs, lang, request)
                             for lang in inputs.langs], request.jobs, meanwhile=import_lock)
        finally:
            if reading is not None:  # (done long since: its process is waited for here)
                reading.close()
        problems = [d for m in made if isinstance(m, list) for d in m]
        if problems:
            raise UserError(problems)
        decks = [BuiltDeck(request.out_dir / request.deck_name(lang), lang, slides,
                           len(inputs.loaded.briefing.claims), seconds, data)
                 for lang, (data, slides, seconds, _) in zip(inputs.langs, made, strict=True)]
        for *_, approximated in made:  # measured in processes of their own, maybe
            self.fonts.approximated |= approximated
        if request.merge:
            merged, saved = self._save_merged(inputs, decks, request)
            return BuildResult(tuple(decks), inputs.warnings + inputs.notes, saved.backups,
                               merged=merged, finished=saved.finished)
        saved = save_decks(request.out_dir, {d.path.name: d.data for d in decks},
                           force=request.force, wait=request.wait, notify=self.notify)
        return BuildResult(tuple(decks), inputs.warnings + inputs.notes + self._font_notes(inputs),
                           saved.backups, finished=saved.finished)

    def _read_ahead(self, request: BuildRequest) -> Background | None:
        """The build's inputs being read in a process of its own, while this one imports what
        writing and checking need and compiles the outline (:meth:`_ahead`), on another core:
        the language processes, forked next, have all of it. None (they are read here) where
        the languages are not built in processes of their own, or where this process has
        imported the writer already (the build server, a later build of a program using this
        session): there is no import to overlap then, and what it reads here it remembers
        for the next build. (What a reading process reads and caches stays there: a
        program's second build plans the template again, once.)"""
        if min(request.jobs, cores()) < 2 or not hasattr(os, "fork") or _writer_imported():
            return None
        reading = Background(lambda: self.read_inputs(request))
        try:
            # with the collector off, then frozen, as the first imports are (launch)
            with imports_frozen():
                self._ahead(request)
        except Exception:  # noqa: BLE001 - what it could not do, the build does, and reports
            pass
        except BaseException:  # an interrupt: the reading process stopped
            reading.close()
            raise
        return reading

    def _ahead(self, request: BuildRequest) -> None:
        """What this process can do while the build's inputs are read: import what writing
        and checking a deck need, compile the outline template the data file names, open the
        template and load the locale data of the languages the data file lists (each read
        here as a line of text; whatever does not work out is done, and reported, by the
        build itself)."""
        from . import check, writer  # noqa: F401

        text = read_text(request.data, "data file")
        name = re.search(r"^template:[ \t]*([a-z0-9_-]+)[ \t]*$", text, re.M)
        if name is not None:
            env = self._outline_env(request.data, Roots.for_build(request.data,
                                                                  request.template))
            env.get_template(f"{name.group(1)}.yaml.j2")
        template = presentation_bytes(request.template or theme_path())
        if template is not None:
            writer.open_ahead(template)
        # Babel's data for the languages listed on one line ("languages: [ko, en]"), loaded
        # once here rather than by each language's process (about 10 ms each); but that of
        # the language this process builds itself, which it loads once the others are forked
        listed = re.search(r"^languages:[ \t]*\[([^\]\n]*)\]", text, re.M)
        langs = [x.strip(" \t'\"") for x in listed.group(1).split(",")] if listed else []
        langs = list(request.langs) or langs
        here = runs_here(len(langs), request.jobs)
        for i, lang in enumerate(langs):
            if i != here:
                l10n.load_locale(lang)

    def _outline_env(self, data: Path, roots: Roots) -> OutlineEnvironment:
        """The outline templates of a data file: beside it, then the bundled ones (one
        environment, with its compiled templates, per folder and roots)."""
        dirs = (Path(data).resolve().parent, outlines_dir())
        return self._envs.get((dirs, roots), lambda: OutlineEnvironment(dirs, roots))

    def prepare(self, request: BuildRequest) -> None:
        """Build ``request``'s decks in memory only, in this process, so that this session's
        memo holds them: nothing is saved; bad input raises :class:`UserError` (once the
        languages before it are built). The build server does this with the build that
        started it, so that the next command (the same build after an edit) finds its
        outlines, slides and checks ready."""
        inputs = self.read_inputs(request)
        for lang in inputs.langs:
            made = self._language(inputs, lang, request)
            if isinstance(made, list):
                raise UserError(made)

    def _font_notes(self, inputs: _Inputs) -> tuple[Diagnostic, ...]:
        """A note per font of this build's template measured with a stand-in (the session
        remembers those of every template it has measured: a batch, --watch, the server)."""
        fonts = inputs.template.fonts
        names = {f.strip() for f in (fonts.major_latin, fonts.major_ea, fonts.minor_latin,
                                     fonts.minor_ea)}
        return tuple(Diagnostic(str(inputs.template.path), None, "", f"font {name!r} measured "
                                "with a stand-in that is not metric-compatible; text may fit "
                                "less exactly", "note")
                     for name in sorted(self.fonts.approximated & names))

    def _language(self, inputs: _Inputs, lang: str, request: BuildRequest
                  ) -> tuple[bytes, int, float, frozenset[str]] | list[Diagnostic]:
        """One language's deck, from its outline to its checked bytes: the bytes, slide
        count, seconds and the typefaces measured with a stand-in, or every problem of its
        outline and fit (a job: it may run in a process of its own, so problems come back
        as a value, and the build reports those of every language at once; and the
        stand-ins, for the build's notes)."""
        t0 = time.perf_counter()
        try:
            outline = self.outline(inputs, lang)
            data, pres = self.make_deck(inputs, lang, outline, request)
        except UserError as exc:
            return list(exc.diagnostics)
        self.check(data, request.deck_name(lang), (inputs.template.digest, pres.slides))
        if self.cache is not None:
            self.fonts.store(self.cache, l10n.lang_tag(lang))
        return (data, len(pres.slides), time.perf_counter() - t0,
                frozenset(self.fonts.approximated))

    def check(self, data: bytes, name: str,
              written: tuple[str, tuple[m.Slide, ...]] | None = None) -> None:
        """The layout checker over a deck before it is saved: a deck that would run off a
        slide is a bug here, and is never written (:class:`LayoutError`, exit 1).
        ``written``: the template digest and the slides the deck was written from; slides
        found fine before on that template are not checked again."""
        from .check import LayoutError, check_deck

        digest, slides = written or ("", ())

        def run() -> tuple[str, ...]:
            fine = frozenset(n for n, slide in enumerate(slides, start=1)
                             if self._slides_fine.peek((digest, slide)))
            return tuple(check_deck(data, self.fonts, skip=fine))

        problems = self._checked.get(hashlib.sha256(data).digest(), run)
        if not problems:  # found fine now, or before (in the cache): each slide is
            for slide in slides:
                self._slides_fine.put((digest, slide), True)
        if problems:
            raise LayoutError(f"{name}: {problems[0]}" + (
                f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))

    def merges(self, inputs: _Inputs, decks: list[BuiltDeck],
               seen: dict[str, bytes]) -> dict[Path, MergeOutcome | None]:
        """For each deck edited since it was built: its merge with the new build (None where
        the new build is the deck as last built: nothing to merge); ``seen`` gets the bytes
        each merge started from. Every problem of every deck is raised at once, before
        anything is written."""
        from .merge import merge_decks

        problems: list[Diagnostic] = []
        plans: dict[Path, MergeOutcome | None] = {}
        out_dir = decks[0].path.parent if decks else Path()
        edited = set(edited_decks(out_dir, {d.path.name: d.data for d in decks}))
        for d in (d for d in decks if d.path.name in edited):
            base = _collect(problems, lambda d=d: read_base(d.path))
            if base is None:
                continue
            if base == d.data:
                plans[d.path] = None
                continue
            labels = inputs.labels[d.lang]
            seen[d.path.name] = d.path.read_bytes()
            outcome = _collect(problems, lambda d=d, base=base, labels=labels: merge_decks(
                base, seen[d.path.name], d.data, name=str(d.path), lang=l10n.lang_tag(d.lang),
                heading=labels.merge_conflicts))
            if outcome is not None:
                plans[d.path] = outcome
        if problems:
            raise UserError(problems)
        return plans

    def _save_merged(self, inputs: _Inputs, decks: list[BuiltDeck],
                     request: BuildRequest) -> tuple[tuple[MergedDeck, ...], Saved]:
        """Merge every edited deck; write decks, merges, bases and reports in one save (each
        merged deck backed up first)."""
        finish_interrupted_save(request.out_dir, request.wait, self.notify)  # then plan
        seen: dict[str, bytes] = {}
        plans = self.merges(inputs, decks, seen)
        on_disk = {d.path.name: d.data for d in decks if d.path not in plans}
        for path, outcome in plans.items():
            if outcome is not None:
                on_disk[path.name] = repack(outcome.data)

        def reports(backups: dict[str, Path]) -> dict[str, bytes]:
            return {f"{path.stem}.merge.txt": outcome.report(
                path, base_path(path), backups.get(path.name), request.data).encode("utf-8")
                for path, outcome in plans.items() if outcome is not None}

        saved = save_decks(request.out_dir, on_disk, built={d.path.name: d.data for d in decks},
                           merged=frozenset(p.name for p, o in plans.items() if o is not None),
                           unchanged=seen,
                           extra=reports, force=request.force, wait=request.wait,
                           notify=self.notify)
        merged = tuple(MergedDeck(path, outcome, saved.backed_up.get(path.name),
                                  path.with_name(f"{path.stem}.merge.txt") if outcome else None)
                       for path, outcome in plans.items())
        return merged, saved

    def read_inputs(self, request: BuildRequest) -> _Inputs:
        """Load the data file, the template with its mapping, and each language's labels;
        collect every problem of all of them before raising."""
        problems: list[Diagnostic] = []
        roots = Roots.for_build(request.data, request.template)
        _collect(problems, lambda: source_date(request.source_date_epoch))
        read = _collect(problems, lambda: load_briefing(request.data, strict=request.strict,
                                                         roots=roots))
        loaded, warnings = read if read is not None else (None, Diagnostics())
        planned = _collect(problems, lambda: self.template(request.template, roots))
        langs: tuple[str, ...] = ()
        labels: dict[str, l10n.Labels] = {}
        if loaded is not None:
            langs = _languages(request, loaded, problems)
            beside = loaded.path.resolve().parent
            for lang in langs:
                found = _collect(problems, lambda lang=lang: self.labels(lang, beside, roots))
                if found is not None:
                    labels[lang] = found
                    problems += check_hedges(loaded, lang, l10n.Numbers(lang, found))
        else:  # its languages unknown: the team's own catalogs beside it are checked still
            self._own_labels(request.data, roots, problems)
        if problems:
            raise UserError(problems)
        assert loaded is not None and planned is not None
        return _Inputs(loaded, tuple(warnings.items), planned.template, planned.roles,
                       planned.notes, labels, langs, roots,
                       self.fonts.locate(planned.template.fonts))

    def _own_labels(self, data: Path, roots: Roots, problems: list[Diagnostic]) -> None:
        """Every label catalog in ``labels/`` beside a data file that did not load, read for
        its problems (so that one run reports them all)."""
        beside = Path(data).resolve().parent
        for path in sorted((beside / "labels").glob("*.yaml")):
            _collect(problems, lambda lang=path.stem: self.labels(lang, beside, roots))

    def template(self, path: Path | None, roots: Roots | None = None) -> _Planned:
        """A template read, mapped and planned, once per content of the .pptx and mapping."""
        sources = read_template_sources(Path(path) if path else theme_path(), roots)
        key = (sources.data, sources.mapping)
        return self._templates.get(key, lambda: _plan(read_template(sources)))

    def describe_template(self, path: Path | None) -> str:
        """What ``--layouts`` prints: every layout of every master with its placeholders and
        the logical layouts it suits, then a starter mapping file."""
        path = Path(path) if path else theme_path()
        template = read_template(path, Roots.of(path.resolve().parent))
        size = (template.slide_width_emu, template.slide_height_emu)
        lines = [f"# {template.path}: {len(template.layouts)} layouts in "
                 f"{len(template.masters)} master(s), "
                 f"{size[0] / 914400:.2f} x {size[1] / 914400:.2f} in"]
        for info in template.layouts:
            suits = [logical for logical in LAYOUTS if suits_layout(logical, info, *size)]
            slots = ", ".join(f"{s.type} {s.box.width_emu / 914400:.1f}x"
                              f"{s.box.height_emu / 914400:.1f} in" for s in info.slots)
            lines.append(f"#   {str(info.ref)!r}: {slots or 'no placeholders'}"
                         + (f"; suits {', '.join(suits)}" if suits else ""))
        lines += ["# a starter mapping: save as " + str(mapping_path(template.path)),
                  "layouts:"]
        for logical in LAYOUTS:
            chosen = default_layout(logical, template.layouts, *size)
            lines.append(f"  {logical}: {quote_name(str(chosen.ref)) if chosen else '~'}")
        return "\n".join(lines)

    def labels(self, lang: str, beside: Path | None = None,
               roots: Roots | None = None) -> l10n.Labels:
        """A language's label catalog: ``labels/<lang>.yaml`` beside the data file if there is
        one (a team's own wording, or a language the package lacks), else the package's.
        Read again whenever its content changes."""
        name = f"{lang}.yaml"
        found = None
        if beside is not None:
            found = (roots or Roots.of(beside)).find(Path("labels") / name, (beside,),
                                                     "label catalog")
        path = found[0] if found else labels_dir() / name
        if found is None and not path.is_file():
            return l10n.read_labels(path)  # names the catalogs there are
        text = read_text(found[1] if found else path, "label catalog", shown=str(path))
        return self._labels.get((path, text), lambda: l10n.read_labels(path, text))

    def render(self, inputs: _Inputs, lang: str) -> Rendered:
        """The article's outline template rendered for one language."""
        loaded, labels = inputs.loaded, inputs.labels[lang]
        context = briefing_context(loaded, lang, labels, inputs.markers(lang))
        env = self._outline_env(loaded.path, inputs.roots)
        return render_outline(env, f"{loaded.briefing.template}.yaml.j2", context, lang, loaded)

    def outline(self, inputs: _Inputs, lang: str) -> Outline:
        """One language's outline, parsed and resolved against the data file."""
        rendered = self.render(inputs, lang)
        spec, lines = parse_outline(rendered)
        labels = inputs.labels[lang]
        return resolve_outline(spec, lines, rendered, inputs.loaded, inputs.markers(lang),
                               tuple(f for f in (deck_footer(inputs.loaded, lang, labels),
                                                 short_footer(inputs.loaded, lang, labels)) if f),
                               inputs.numbers(lang))

    def make_deck(self, inputs: _Inputs, lang: str, outline: Outline,
                  request: BuildRequest) -> tuple[bytes, m.Presentation]:
        """Fit, write and pack one language's deck; returns its bytes and what they were
        written from."""
        pres = self.present(inputs, lang, outline, request)
        template = inputs.template
        key = (pres, template.digest)
        return self._packed.get(key, lambda: self._write(pres, template)), pres

    def present(self, inputs: _Inputs, lang: str, outline: Outline,
                request: BuildRequest) -> m.Presentation:
        """The fit stage for one language, one memoised slide at a time."""
        tag = l10n.lang_tag(lang)
        fonts = inputs.template.fonts
        ctx = FitContext(tag, inputs.labels[lang],
                         self.fonts.measurer(fonts.major_latin, fonts.major_ea),
                         self.fonts.measurer(fonts.minor_latin, fonts.minor_ea),
                         rtl=l10n.is_rtl(lang))
        if self.cache is not None:
            self.fonts.load(self.cache, tag)
        slides: list[m.Slide] = []
        problems: list[Diagnostic] = []
        for i, slide in enumerate(outline.slides):
            roles = inputs.roles[slide.layout]
            try:
                slides += self._fitted.get((slide, roles, ctx),
                                           lambda s=slide, r=roles: fit_slide(s, r, ctx))
            except FitError as exc:  # text no slide can show: the template line behind it
                path, line = outline.places[i].of(exc.part)
                problems.append(Diagnostic(path, line, f"slides[{slide.key}].{exc.part} "
                                           f"({lang})", str(exc)))
        if problems:
            raise UserError(problems)
        props = _properties(inputs, lang, tag, request.source_date_epoch)
        return m.Presentation(props, number_slides(slides))

    def _write(self, pres: m.Presentation, template: Template) -> bytes:
        from .writer import write_presentation

        shape = (template.digest, pres.properties,
                 tuple((type(s), s.layout, bool(s.notes)) for s in pres.slides))
        previous = self._written.peek(shape)
        written = write_presentation(pres, template.data, template.digest, previous)
        self._written.put(shape, written)
        stamp = pres.properties.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return pack_parts(written.parts, stamp, lambda data: self._workbooks.get(
            (data, stamp), lambda: normalise_package(data, stamp)))


# ------------------------------------------------------------------------------------------


def _writer_imported() -> bool:
    """Whether this process has imported the writer (built a deck before, or is the build
    server): then nothing is gained by reading a build's inputs in a process of its own."""
    return "deck.writer" in sys.modules


def _collect(problems: list[Diagnostic], step: Callable[[], V]) -> V | None:
    """Run a step; on bad input add its problems to ``problems`` and return None."""
    try:
        return step()
    except UserError as exc:
        problems.extend(exc.diagnostics)
        return None


def _languages(request: BuildRequest, loaded: LoadedBriefing,
               problems: list[Diagnostic]) -> tuple[str, ...]:
    available = loaded.briefing.languages
    langs = request.langs or tuple(available)
    unknown = [x for x in langs if x not in available]
    if unknown:
        problems.append(Diagnostic("--lang", None, "", f"language not in the data file; "
                                   f"expected some of {available}, got {unknown}"))
        return ()
    return langs


class _Planned(msgspec.Struct, frozen=True):
    """A template with a layout and its parts planned for every logical layout."""

    template: Template
    roles: dict[str, Roles]
    notes: tuple[Diagnostic, ...]


def _plan(template: Template) -> _Planned:
    """Which layout serves each logical layout (the mapping's, or by standard names and
    geometry), and which placeholder does what; every problem reported at once."""
    problems = Diagnostics()
    roles = {}
    where = str(template.mapping_path if template.mapping else template.path)
    for logical in LAYOUTS:
        layout = _layout_for(template, logical, problems)
        if layout is None:
            continue
        try:
            roles[logical] = plan_roles(logical, layout, template.slide_width_emu,
                                        template.slide_height_emu)
        except ValueError as exc:
            problems.error(where, template.mapping_line(logical), f"layouts.{logical}", str(exc))
            continue
        for note in roles[logical].notes:
            problems.warn(where, template.mapping_line(logical), f"layouts.{logical}", note)
    if problems.errors:
        raise UserError(problems.errors)
    notes = tuple(Diagnostic(str(template.path), None, "", r, "note") for r in template.repairs)
    return _Planned(template, roles, tuple(problems.warnings) + notes)


def _layout_for(template: Template, logical: str, problems: Diagnostics):
    """The layout the mapping names for ``logical`` (or the default one without a mapping)."""
    size = (template.slide_width_emu, template.slide_height_emu)
    if template.mapping is None:
        layout = default_layout(logical, template.layouts, *size)
        if layout is None:
            problems.error(str(template.path), None, "--template", "no layout with a title "
                           "placeholder; expected at least one (a 'Title Only' layout will do)")
        return layout
    name = template.mapping[logical]
    layout = template.find(name)
    if layout is None:
        suited = qualifying(logical, template.layouts, *size)
        problems.error(str(template.mapping_path), template.mapping_line(logical),
                       f"layouts.{logical}", f"couldn't find layout named {name!r} in the "
                       f"template; expected one of {sorted({str(i.ref) for i in template.layouts})}"
                       f" (these suit {logical}: {suited or 'none; Title Only will do'})")
    return layout


#: SOURCE_DATE_EPOCH must name a moment a zip file and an OOXML date can hold
EPOCH_YEARS = (1980, 2099)


def source_date(value: str | None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH (reproducible-builds.org) as a naive UTC time; None when unset or
    empty; :class:`UserError` when it is not whole seconds for a year in :data:`EPOCH_YEARS`.

    >>> source_date("1738450800"), source_date("")
    (datetime.datetime(2025, 2, 1, 23, 0), None)
    """
    if not value:
        return None
    moment = None
    if value.isascii() and value.isdigit() and len(value) <= 12:
        moment = dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)
    if moment is None or not EPOCH_YEARS[0] <= moment.year <= EPOCH_YEARS[1]:
        raise UserError([Diagnostic("SOURCE_DATE_EPOCH", None, "", (
            f"not a usable build date; expected whole seconds since 1970-01-01 UTC for a "
            f"date from {EPOCH_YEARS[0]} to {EPOCH_YEARS[1]}, got {value!r}"))])
    return moment


def document_time(loaded: LoadedBriefing, source_date_epoch: str | None) -> dt.datetime:
    """Document dates: SOURCE_DATE_EPOCH if set, else the article's last update (so the same
    inputs give the same bytes)."""
    moment = source_date(source_date_epoch)
    if moment is not None:
        return moment
    moment = loaded.updated or loaded.published
    if not isinstance(moment, dt.datetime):  # a date alone: its midnight, UTC
        return dt.datetime(moment.year, moment.month, moment.day)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _properties(inputs: _Inputs, lang: str, tag: str,
                source_date_epoch: str | None) -> m.Properties:
    loaded = inputs.loaded
    b = loaded.briefing
    return m.Properties(
        title=article_title(loaded, lang), author=b.article.outlet[lang],
        subject=expand_figures(b.deck.takeaway[lang], loaded, inputs.numbers(lang)),
        keywords=", ".join(sorted({b.sources[c.by][lang] for c in b.claims})),
        created=document_time(loaded, source_date_epoch), language=tag)
