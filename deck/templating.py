"""Outline templates: the Jinja environment (sandboxed, StrictUndefined, one quoting policy), the
names a template may use, and rendering with the template line behind every output line.

Data values reach the outline only through :func:`yaml_quote`, the environment's ``finalize``
hook: every ``{{ ... }}`` becomes one YAML double-quoted scalar, so no value can break the
outline's syntax, and data text is never parsed as template code. Knows nothing of pptx.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import l10n
from .data import FIG_REF, LoadedBriefing
from .diagnostics import Diagnostic, UserError
from .l10n import Labels, fill
from .outline import Rendered

# PyYAML refuses these characters inside a scalar, and folds these line breaks inside
# double quotes: both must travel as escapes.
_YAML_LINE_BREAKS = {"\x85", "\u2028", "\u2029"}


def _yaml_safe(ch: str) -> bool:
    o = ord(ch)
    if ch in _YAML_LINE_BREAKS or ch == "\ufeff":
        return False
    return (0x20 <= o <= 0x7E) or (0xA0 <= o <= 0xD7FF) or (0xE000 <= o <= 0xFFFD) or (
        0x10000 <= o <= 0x10FFFF)


def yaml_quote(value: Any) -> str:
    """Render any value as one YAML double-quoted scalar that parses back to the same text.

    >>> yaml_quote('say "hi": {{ 7*7 }} # - [x]')
    '"say \\\\"hi\\\\": {{ 7*7 }} # - [x]"'
    >>> yaml_quote(12)
    '"12"'
    """
    if isinstance(value, jinja2.Undefined):
        value = str(value)  # StrictUndefined raises here, with the name that was missing
    text = value if isinstance(value, str) else str(value)
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _yaml_safe(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def expand_figures(text: str, loaded: LoadedBriefing, lang: str) -> str:
    """Replace each ``{fig:ID}`` with that figure formatted for ``lang``; leave all else as is."""
    return FIG_REF.sub(lambda m: loaded.figures[m.group(1)].text(lang), text)


# ------------------------------------------------------------------------------------------
# what a template sees


@dataclass(frozen=True)
class ClaimView:
    """A claim as a template sees it, in one language."""

    id: str
    n: int
    text: str
    short: str
    by: str
    where: str
    kind: str
    marker: str


@dataclass(frozen=True)
class FigureView:
    """A figure as a template sees it: formatted text, label, raw value."""

    id: str
    text: str
    label: str
    value: float
    unit: str
    approx: bool
    when: str  # the as-of date, short ("1월 25일" / "Jan 25"), or ""


def briefing_context(loaded: LoadedBriefing, lang: str, labels: Labels,
                     markers: dict[str, str]) -> dict[str, Any]:
    """Everything an outline template may use, localised for ``lang``."""
    b = loaded.briefing

    def tr(text: dict[str, str] | None) -> str:
        return expand_figures(text[lang], loaded, lang) if text else ""

    claims = {
        c.id: ClaimView(id=c.id, n=loaded.claim_numbers[c.id], text=tr(c.text),
                        short=tr(c.short or c.text), by=b.sources[c.by][lang],
                        where=fill(labels.para, n=c.para) if c.place == "body"
                        else labels.place(c.place),
                        kind=c.kind, marker=markers[c.id])
        for c in b.claims}
    figures = {
        f.id: FigureView(f.id, f.text(lang), f.label_in(lang), f.value, f.unit, f.approx,
                         l10n.format_short_day(f.as_of, lang) if f.as_of else "")
        for f in loaded.figures.values()}
    article = _article_context(loaded, lang, labels)
    deck = {
        "takeaway": tr(b.deck.takeaway),
        "headings": {k: tr(v) for k, v in b.deck.headings.items()},
        "notes": {k: tr(v) for k, v in b.deck.notes.items()},
        "summary": [{"text": tr(p.text), "claims": p.claims} for p in b.deck.summary],
    }
    checks = [{"id": ch.id, "claim": ch.claim, "n": loaded.claim_numbers[ch.claim],
               "source": tr(ch.source), "text": tr(ch.text)} for ch in b.checks]
    return {
        "lang": lang, "L": labels, "article": article, "claims": claims,
        "all_claims": list(claims.values()), "fig": figures, "deck": deck, "checks": checks,
        "footer": deck_footer(loaded, lang, labels),
    }


def article_title(loaded: LoadedBriefing, lang: str) -> str:
    """The article's headline, with its series tag where it has one."""
    a = loaded.briefing.article
    return a.title[lang] + (f" [{a.series[lang]}]" if a.series else "")


def _article_context(loaded: LoadedBriefing, lang: str, labels: Labels) -> dict[str, str]:
    a = loaded.briefing.article
    published = l10n.format_timestamp(a.published, lang)
    updated = l10n.format_timestamp(a.updated, lang) if a.updated else published
    title = article_title(loaded, lang)
    return {
        "outlet": a.outlet[lang], "title": title, "section": a.section[lang],
        "reporter": a.reporter[lang], "published": published, "updated": updated,
        "date": l10n.format_day(a.published.date(), lang), "url": a.url or "",
        "citation": fill(labels.citation, outlet=a.outlet[lang], title=title,
                         reporter=a.reporter[lang], published=published, updated=updated),
    }


def deck_footer(loaded: LoadedBriefing, lang: str, labels: Labels) -> str:
    """The footer every slide shows unless the outline sets its own."""
    a = loaded.briefing.article
    return fill(labels.footer, outlet=a.outlet[lang],
                date=l10n.format_day(a.published.date(), lang))


def short_footer(loaded: LoadedBriefing, lang: str, labels: Labels) -> str:
    """The footer where a template's footer has no room for :func:`deck_footer`."""
    a = loaded.briefing.article
    return fill(labels.footer_short, outlet=a.outlet[lang],
                date=l10n.format_day(a.published.date(), lang))


# ------------------------------------------------------------------------------------------
# the environment


def _finalize(value: Any) -> Markup:
    # Markup here means "outline structure the environment itself produced" (a macro's output,
    # yaml_list); anything else is a value and becomes one quoted scalar.
    if isinstance(value, Markup):
        return value
    return Markup(yaml_quote(value))


def yaml_list(values: Any) -> Markup:
    """A YAML flow list of quoted scalars: ``{{ ids | yaml_list }}`` -> ``["a", "b"]``."""
    return Markup("[" + ", ".join(yaml_quote(v) for v in values) + "]")


def _template_fill(pattern: str, **values: Any) -> str:
    """``fill`` for templates: a bad pattern is the template's error, reported as Jinja's."""
    try:
        return fill(pattern, **values)
    except (ValueError, KeyError, IndexError) as exc:
        raise jinja2.TemplateRuntimeError(f"fill({pattern!r}): {exc}") from None


class _LineMarkingGenerator(CodeGenerator):
    """Jinja's code generator, marking which output lines are template text and where each
    piece of text starts, so a rendered line can be traced back to its template line."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.data_lines: set[int] = set()

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or len(node.nodes) < 1:
            super().visit_Output(node, frame)
            return
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                self.writeline("pass", child)  # records the text's own first line
                self.data_lines.add(self.code_lineno + 1)
            super().visit_Output(nodes.Output([child], lineno=child.lineno), frame)


class OutlineEnvironment(SandboxedEnvironment):
    """The one Jinja environment: sandboxed, strict, every value quoted for YAML.

    Autoescape is on only so that macro output arrives as Markup and is not quoted twice;
    ``finalize`` does the quoting, and the ``safe`` filter is removed so a template cannot
    switch it off for a value.
    """

    code_generator_class = _LineMarkingGenerator

    def __init__(self, dirs: tuple[Path, ...]):
        super().__init__(
            loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
            undefined=jinja2.StrictUndefined, finalize=_finalize, autoescape=True,
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        self.dirs = dirs
        self.globals["fill"] = _template_fill
        self.filters["yaml_list"] = yaml_list
        del self.filters["safe"]
        #: code lines that output template text, per compiled template file
        self.data_lines: dict[str | None, set[int]] = {}

    def _generate(self, source, name, filename, defer_init=False):  # type: ignore[override]
        # Jinja's documented hook for a different generate method: keep the generator's notes
        generator = _LineMarkingGenerator(self, name, filename, None, defer_init, self.optimized)
        generator.visit(source)
        self.data_lines[filename] = generator.data_lines
        return generator.stream.getvalue()


def render_outline(env: OutlineEnvironment, name: str, context: dict[str, Any], lang: str,
                   loaded: LoadedBriefing) -> Rendered:
    """Render outline template ``name`` for one language; trace each line to its template line.

    Raises :class:`UserError` for the template's own errors (syntax, undefined names, sandbox
    refusals, runtime errors raised by Jinja or in the template's code). An exception raised in
    this package's code is a bug and propagates.
    """
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        have = sorted({p.name for d in env.dirs for p in d.glob("*.yaml.j2")})
        raise UserError([Diagnostic(str(loaded.path), loaded.line_of(("template",)), "template",
                                    f"outline template not found beside the data file nor "
                                    f"among the bundled ones; expected one of {have}, got "
                                    f"{name!r}")]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or name, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    shown = template.filename or name
    try:
        chunks = _render_traced(env, template, context)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or shown, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    except Exception as exc:  # noqa: BLE001 - sorted into the template's fault or ours below
        raise _template_fault(exc, env, shown, lang) from None
    text, origins = _join_traced(chunks)
    return Rendered(text, f"{shown} (rendered, {lang})", lang, origins)


def _render_traced(env: OutlineEnvironment, template: jinja2.Template,
                   context: dict[str, Any]) -> list[tuple[str, tuple[str, int] | None, bool]]:
    """Render, noting for each output chunk its template line and whether it is template text
    (whose lines follow one another) or a value (all on the line that produced it)."""
    gen = template.root_render_func(template.new_context(context))
    data_lines = env.data_lines.get(template.filename, set())
    # Template.get_corresponding_lineno re-reads the debug table on every call: read it once
    table = template.debug_info  # (template line, code line), in code order
    code_lines = [code for _, code in table]
    name = template.filename or template.name or ""
    out = []
    for chunk in gen:
        frame = gen.gi_frame
        origin, is_data = None, False
        if frame is not None:
            at = bisect.bisect_right(code_lines, frame.f_lineno) - 1
            origin = (name, table[at][0] if at >= 0 else 1)
            is_data = frame.f_lineno in data_lines
        out.append((chunk, origin, is_data))
    return out


def _join_traced(chunks: list) -> tuple[str, tuple[tuple[str, int] | None, ...]]:
    """The rendered text, and per line the origin of its first visible character."""
    origins: list[tuple[str, int] | None] = [None]
    fallback: list[tuple[str, int] | None] = [None]
    for chunk, origin, is_data in chunks:
        for i, segment in enumerate(chunk.split("\n")):
            if i:
                origins.append(None)
                fallback.append(None)
            here = (origin[0], origin[1] + i) if origin and is_data else origin
            if fallback[-1] is None:
                fallback[-1] = here
            if origins[-1] is None and segment.strip():
                origins[-1] = here
    text = "".join(c for c, _, _ in chunks)
    return text, tuple(o or f for o, f in zip(origins, fallback, strict=True))


def _template_fault(exc: Exception, env: OutlineEnvironment, shown: str,
                    lang: str) -> Exception:
    """A :class:`UserError` at the template line for an error the template caused; the
    exception itself where it was raised in this package's code (a bug)."""
    frames = _frames(exc)
    innermost = frames[-1] if frames else ""
    ours = innermost.startswith(str(Path(__file__).parent)) and not isinstance(
        exc, jinja2.TemplateError)
    if ours:
        return exc
    file, line = _template_position(exc, env.dirs)
    kind = ("undefined name" if isinstance(exc, jinja2.UndefinedError) else
            "not allowed in the sandbox" if isinstance(exc, jinja2.sandbox.SecurityError)
            else "template error")
    return UserError([Diagnostic(file or shown, line, f"({lang})", f"{kind}: {exc}")])


def _frames(exc: BaseException) -> list[str]:
    tb = exc.__traceback__
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files


def _template_position(exc: BaseException,
                       dirs: tuple[Path, ...]) -> tuple[str | None, int | None]:
    """Where in a template an exception was raised: the innermost frame of compiled template
    code, mapped back to its template line (as Jinja's own traceback rewriting does)."""
    tb = exc.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    roots = tuple(str(d) for d in dirs)
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        filename = tb.tb_frame.f_code.co_filename
        if template is not None and filename.startswith(roots):
            found = (filename, template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return found
