"""Outline templates: the names a template may use, and rendering with the template line behind
every output line. The environment itself (quoting, limits, the confined loader) is
:mod:`deck.sandbox`'s. Knows nothing of pptx.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2

from . import l10n
from .data import FIG_REF, LoadedBriefing
from .diagnostics import Diagnostic, UserError
from .l10n import Labels, fill
from .outline import Rendered
from .sandbox import OutlineEnvironment, TemplateLimitError, TemplateRefused, yaml_quote

__all__ = ["OutlineEnvironment", "yaml_quote", "render_outline", "briefing_context"]


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
        "summary": [{"text": tr(p.text), "claims": tuple(p.claims)} for p in b.deck.summary],
    }
    checks = [{"id": ch.id, "claim": ch.claim, "n": loaded.claim_numbers[ch.claim],
               "source": tr(ch.source), "text": tr(ch.text)} for ch in b.checks]
    return {
        # the catalog as a read-only mapping of its texts: the Labels object is shared by
        # every build of the session, and a template must not be able to reach its class
        "lang": lang, "L": MappingProxyType(dict(labels)), "article": article, "claims": claims,
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


# ------------------------------------------------------------------------------------------
# rendering


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
    except TemplateRefused as exc:
        raise UserError([Diagnostic(str(loaded.path), loaded.line_of(("template",)), "template",
                                    str(exc))]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or name, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    shown = template.filename or name
    try:
        with env.rendering():
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
    budget = env.budget
    for chunk in gen:
        budget.write(len(chunk))
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
        exc, jinja2.TemplateError | RecursionError)
    if ours:
        return exc
    file, line = _template_position(exc, env.dirs)
    if isinstance(exc, RecursionError):  # an include of itself, or of one that includes it
        message = ("includes or calls nested too deep; expected them to end (a template that "
                   "includes itself?)")
    else:
        message = f"{_fault_kind(exc)}: {exc}"
    return UserError([Diagnostic(file or shown, line, f"({lang})", message)])


def _fault_kind(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return "undefined name"
    if isinstance(exc, jinja2.sandbox.SecurityError):
        return "not allowed in the sandbox"
    if isinstance(exc, TemplateLimitError):
        return "over a limit"
    if isinstance(exc, TemplateRefused):
        return "include refused"
    return "template error"


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
