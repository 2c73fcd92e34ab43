"""The Jinja environment (sandboxed, StrictUndefined, one quoting policy) and outline rendering.

Data values reach the outline only through :func:`yaml_quote`, the environment's ``finalize``
hook: every ``{{ ... }}`` becomes one YAML double-quoted scalar, so no value can break the
outline's syntax, and data text is never parsed as template code. Knows nothing of pptx.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import l10n
from .data import FIG_REF, LoadedBriefing
from .diagnostics import Diagnostic, UserError

OUTLINES_DIR = Path(__file__).resolve().parent.parent / "templates" / "outlines"

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


class _NamesOnly(string.Formatter):
    """``str.format`` for label patterns, without attribute or index access (sandbox-safe)."""

    def get_field(self, field_name: str, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"label pattern field {{{field_name}}}: expected a plain name")
        return self.get_value(field_name, args, kwargs), field_name


_FORMATTER = _NamesOnly()


def fill(pattern: str, **values: Any) -> str:
    """Fill a label pattern: ``fill("{n}/{total}", n=1, total=3) == "1/3"``."""
    return _FORMATTER.vformat(pattern, (), values)


def expand_figures(text: str, loaded: LoadedBriefing, lang: str) -> str:
    """Replace each ``{fig:ID}`` with that figure formatted for ``lang``; leave all else as is."""
    def one(m):
        f = loaded.figures[m.group(1)]
        return l10n.format_figure(f.value, f.unit, lang, approx=f.approx, decimals=f.decimals)
    return FIG_REF.sub(one, text)


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
    id: str
    text: str
    label: str
    value: float
    unit: str
    approx: bool
    when: str  # the as-of date, short ("1월 25일" / "Jan 25"), or ""


def briefing_context(loaded: LoadedBriefing, lang: str) -> dict[str, Any]:
    """Everything an outline template may use, localised for ``lang``."""
    b = loaded.briefing
    labels = l10n.load_labels(lang)

    def tr(text: dict[str, str] | None) -> str:
        return expand_figures(text[lang], loaded, lang) if text else ""

    def where(c) -> str:
        if c.place == "body":
            return fill(labels["para"], n=c.para)
        return labels[f"place_{c.place}"]

    claims = {}
    for c in b.claims:
        n = loaded.claim_numbers[c.id]
        claims[c.id] = ClaimView(
            id=c.id, n=n, text=tr(c.text), short=tr(c.short or c.text),
            by=b.sources[c.by][lang], where=where(c), kind=c.kind,
            marker=fill(labels["claim_marker"], n=n))
    figures = {
        f.id: FigureView(f.id, l10n.format_figure(f.value, f.unit, lang, approx=f.approx,
                                                  decimals=f.decimals),
                         (f.label or {}).get(lang, f.id), f.value, f.unit, f.approx,
                         l10n.format_short_day(f.as_of, lang) if f.as_of else "")
        for f in loaded.figures.values()
    }
    a = b.article
    published = l10n.format_timestamp(a.published, lang)
    updated = l10n.format_timestamp(a.updated, lang) if a.updated else published
    title = a.title[lang] + (f" [{a.series[lang]}]" if a.series else "")
    article = {
        "outlet": a.outlet[lang], "title": title, "section": a.section[lang],
        "reporter": a.reporter[lang], "published": published, "updated": updated,
        "date": l10n.format_day(a.published.date(), lang), "url": a.url or "",
        "citation": fill(labels["citation"], outlet=a.outlet[lang], title=title,
                         reporter=a.reporter[lang], published=published, updated=updated),
    }
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
        "footer": fill(labels["footer"], outlet=a.outlet[lang], date=article["date"]),
    }


def _finalize(value: Any) -> Markup:
    # Markup here means "outline structure the environment itself produced" (a macro's output,
    # yaml_list); anything else is a value and becomes one quoted scalar.
    if isinstance(value, Markup):
        return value
    return Markup(yaml_quote(value))


def yaml_list(values: Any) -> Markup:
    """A YAML flow list of quoted scalars: ``{{ ids | yaml_list }}`` -> ``["a", "b"]``."""
    return Markup("[" + ", ".join(yaml_quote(v) for v in values) + "]")


def make_environment(dirs: tuple[Path, ...]) -> SandboxedEnvironment:
    """The one Jinja environment: sandboxed, strict, every value quoted for YAML.

    Autoescape is on only so that macro output arrives as Markup and is not quoted twice;
    ``finalize`` does the quoting, and the ``safe`` filter is removed so a template cannot
    switch it off for a value.
    """
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["fill"] = fill
    env.filters["yaml_list"] = yaml_list
    del env.filters["safe"]
    return env


def outline_dirs(loaded: LoadedBriefing, directory: Path = OUTLINES_DIR) -> tuple[Path, ...]:
    """Where an article's outline template is looked up: beside its data file, then ours."""
    return (loaded.path.resolve().parent, directory)


def render_outline(loaded: LoadedBriefing, lang: str, *, directory: Path = OUTLINES_DIR,
                   context: dict[str, Any] | None = None) -> tuple[str, str]:
    """Render the briefing's outline template for one language; return (text, shown path).

    ``context`` is :func:`briefing_context` for that language, if the caller already made it.
    """
    name = f"{loaded.briefing.template}.yaml.j2"
    dirs = outline_dirs(loaded, directory)
    env = _environment(dirs)
    shown = name
    try:
        template = env.get_template(name)
        shown = template.filename or name
    except jinja2.TemplateNotFound:
        have = sorted({p.name for d in dirs for p in d.glob("*.yaml.j2")})
        raise UserError([Diagnostic(str(loaded.path), loaded.line_of(("template",)), "template",
                                    f"outline template not found beside the data file nor in "
                                    f"{directory}; expected one of {have}, got {name!r}")]
                        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or shown, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    try:
        text = template.render(context or briefing_context(loaded, lang))
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or shown, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    except (jinja2.UndefinedError, jinja2.sandbox.SecurityError, ValueError, KeyError,
            TypeError) as exc:
        file, line = _template_position(exc, dirs)
        kind = "undefined name" if isinstance(exc, jinja2.UndefinedError) else (
            "not allowed in the sandbox" if isinstance(exc, jinja2.sandbox.SecurityError)
            else "template error")
        raise UserError([Diagnostic(file or shown, line, f"({lang})",
                                    f"{kind}: {exc}")]) from None
    return text, f"{shown} (rendered, {lang})"


def _template_position(exc: BaseException,
                       dirs: tuple[Path, ...]) -> tuple[str | None, int | None]:
    """Where in a template an exception was raised (Jinja maps frames to template lines)."""
    tb = exc.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    roots = tuple(str(d) for d in dirs)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(roots) and filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


_ENVIRONMENTS: dict[tuple[Path, ...], SandboxedEnvironment] = {}


def _environment(dirs: tuple[Path, ...]) -> SandboxedEnvironment:
    # One environment per search path: Jinja caches compiled templates inside it.
    if dirs not in _ENVIRONMENTS:
        _ENVIRONMENTS[dirs] = make_environment(dirs)
    return _ENVIRONMENTS[dirs]
