"""What an outline template sees: every name of the template language, localised for one deck.

``docs/outline-templates.md`` documents each name; a test compares the two. Lookups by id
(``claims[...]``, ``fig[...]``, ``deck.headings...``) are :class:`IdMap`s, so a typo is reported
with the nearest ids. The default outline's sections are planned here: which visual each
section gets follows one documented rule (:func:`plan_visual`). Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import msgspec

from . import l10n
from .data import FIG_REF, FigureValue, LoadedBriefing, Section
from .diagnostics import did_you_mean
from .l10n import Labels, Numbers, fill
from .units import NOT_QUANTITIES


class IdMap(dict):
    """A mapping a template reads by id; ``what`` names its entries in error messages."""

    def __init__(self, what: str, items: Any = ()):
        super().__init__(items)
        self.what = what

    def hint(self, key: object) -> str:
        """Why ``key`` is not here, with the nearest ids."""
        return f"no {self.what} {key!r}{did_you_mean(str(key), map(str, self))}"


def expand_figures(text: str, loaded: LoadedBriefing, numbers: Numbers) -> str:
    """Replace each ``{fig:ID}`` with that figure formatted for the language; leave all else."""
    return FIG_REF.sub(lambda m: loaded.figures[m.group(1)].text(numbers), text)


class ClaimView(msgspec.Struct, frozen=True):
    """A claim as a template sees it, in one language."""

    id: str
    n: int
    text: str
    short: str
    by: str
    where: str
    kind: str
    marker: str
    date: str  # the date the claim is about, in the language's long form, or ""
    figures: tuple[str, ...]  # ids of the figures it reports


class FigureView(msgspec.Struct, frozen=True):
    """A figure as a template sees it: formatted text, label, raw value."""

    id: str
    text: str  # with unit, hedge and bound: "약 1,400억 원"
    number: str  # the number alone: "140,000,000,000"
    label: str
    value: float
    unit: str
    approx: bool
    qualifier: str  # at_least, more_than, under, at_most, or ""
    when: str  # the as-of date, short ("1월 25일" / "Jan 25"), or ""
    origin: str  # the claim or check that reports it, or "derived"


class ChartView(msgspec.Struct, frozen=True):
    """A section's chart, planned: kind, categories and points (figure ids), words."""

    kind: str  # bar, or column for figures in date order
    categories: tuple[str, ...]
    points: tuple[str, ...]
    series: str
    axis: str
    number_format: str  # "" for the automatic format
    log_scale: bool
    approx: bool  # some point is approximate (its category carries "*")


class SectionView(msgspec.Struct, frozen=True):
    """A section of the data file, as the default outline shows it."""

    key: str
    heading: str
    claims: tuple[str, ...]
    visual: str  # chart, table, picture or bullets (see plan_visual)
    figures: tuple[str, ...]  # the figures the visual shows
    chart: ChartView | None
    image: str
    notes: str


def briefing_context(loaded: LoadedBriefing, lang: str, labels: Labels,
                     markers: dict[str, str]) -> dict[str, Any]:
    """Everything an outline template may use, localised for ``lang``."""
    b = loaded.briefing
    numbers = Numbers(lang, labels)

    def tr(text: dict[str, str] | None) -> str:
        return expand_figures(text[lang], loaded, numbers) if text else ""

    claims = IdMap("claim", ((c.id, ClaimView(
        id=c.id, n=loaded.claim_numbers[c.id], text=tr(c.text), short=tr(c.short or c.text),
        by=b.sources[c.by][lang],
        where=fill(labels.para, n=c.para) if c.place == "body" else labels.place(c.place),
        kind=c.kind, marker=markers[c.id],
        date=l10n.format_day(c.date, lang) if c.date else "",
        figures=tuple(f.id for f in c.figures))) for c in b.claims))
    figures = IdMap("figure", ((f.id, _figure_view(f, lang, numbers))
                               for f in loaded.figures.values()))
    deck = {"takeaway": tr(b.deck.takeaway),
            "headings": IdMap("heading", ((k, tr(v)) for k, v in b.deck.headings.items())),
            "notes": IdMap("note", ((k, tr(v)) for k, v in b.deck.notes.items())),
            "summary": [{"text": tr(p.text), "claims": p.claims} for p in b.deck.summary]}
    sections = [plan_section(s, loaded, lang, tr) for s in b.deck.sections]
    return {
        # the catalog as a read-only mapping of its texts: the Labels object is shared by
        # every build of the session, and a template must not be able to reach its class
        "lang": lang, "L": MappingProxyType(msgspec.structs.asdict(labels)),
        "article": article_context(loaded, lang, labels),
        "claims": claims, "all_claims": list(claims.values()), "fig": figures, "deck": deck,
        "checks": [{"id": ch.id, "claim": ch.claim, "n": loaded.claim_numbers[ch.claim],
                    "source": tr(ch.source), "text": tr(ch.text)} for ch in b.checks],
        "footer": deck_footer(loaded, lang, labels), "sections": sections,
        "words": IdMap("word", ((k, tr(v)) for k, v in b.deck.words.items())),
        "key_points": deck["summary"] or [
            {"text": claims[cid].short, "claims": [cid]}
            for cid in ([s.claims[0] for s in sections] or list(claims))],
    }


def _figure_view(f: FigureValue, lang: str, numbers: Numbers) -> FigureView:
    return FigureView(f.id, f.text(numbers), f.number(numbers), f.label_in(lang), f.value,
                      f.unit, f.approx, f.qualifier or "",
                      l10n.format_short_day(f.as_of, lang) if f.as_of else "", f.origin)


def article_title(loaded: LoadedBriefing, lang: str) -> str:
    """The article's headline, with its series tag where it has one."""
    a = loaded.briefing.article
    return a.title[lang] + (f" [{a.series[lang]}]" if a.series else "")


def article_context(loaded: LoadedBriefing, lang: str, labels: Labels) -> dict[str, str]:
    """The article's metadata in ``lang``; ``updated`` and ``url`` are "" where not given."""
    a = loaded.briefing.article
    published = l10n.format_timestamp(loaded.published, lang)
    updated = l10n.format_timestamp(loaded.updated, lang) if loaded.updated else ""
    title = article_title(loaded, lang)
    names = dict(outlet=a.outlet[lang], title=title, reporter=a.reporter[lang],
                 published=published)
    citation = (fill(labels.citation_updated, **names, updated=updated) if updated
                else fill(labels.citation, **names))
    return {**names, "section": a.section[lang], "updated": updated,
            "date": l10n.format_day(_day(loaded.published), lang), "url": a.url or "",
            "citation": citation}


def _day(moment: Any) -> Any:
    return moment.date() if hasattr(moment, "date") else moment


def deck_footer(loaded: LoadedBriefing, lang: str, labels: Labels) -> str:
    """The footer every slide shows unless the outline sets its own."""
    a = loaded.briefing.article
    return fill(labels.footer, outlet=a.outlet[lang],
                date=l10n.format_day(_day(loaded.published), lang))


def short_footer(loaded: LoadedBriefing, lang: str, labels: Labels) -> str | None:
    """The footer where a template's footer has no room for :func:`deck_footer`, if the
    catalog has a shorter form."""
    a = loaded.briefing.article
    if labels.footer_short is None:
        return None
    return fill(labels.footer_short, outlet=a.outlet[lang],
                date=l10n.format_day(_day(loaded.published), lang))


# ------------------------------------------------------------------------------------------
# sections of the default outline


def plan_visual(section: Section, figures: list[FigureValue]) -> str:
    """Which visual a section gets. What the data file asks for (``image``, ``chart``,
    ``table``) first; otherwise, from the figures its claims report: a chart for two or more
    figures of one unit that are quantities (not ranks or years) and each have a label or a
    date; a table for two or more figures otherwise; bullets for fewer."""
    if section.image:
        return "picture"
    if section.chart:
        return "chart"
    if section.table:
        return "table"
    units = {f.unit for f in figures}
    if len(figures) >= 2 and len(units) == 1 and not units & NOT_QUANTITIES and all(
            f.label or f.as_of for f in figures):
        return "chart"
    return "table" if len(figures) >= 2 else "bullets"


def plan_section(section: Section, loaded: LoadedBriefing, lang: str, tr) -> SectionView:
    """A section with its visual planned and its words in ``lang``."""
    claims = {c.id: c for c in loaded.briefing.claims}
    asked = section.chart or section.table
    ids = asked or [f.id for cid in section.claims for f in claims[cid].figures]
    figures = [loaded.figures[i] for i in dict.fromkeys(ids)]
    visual = plan_visual(section, figures)
    heading = tr(section.heading or loaded.briefing.deck.headings[section.key])
    chart = _chart_view(section, figures, lang, tr, heading) if visual == "chart" else None
    shown = chart.points if chart else tuple(f.id for f in figures)
    return SectionView(section.key, heading, tuple(section.claims), visual,
                       shown if visual in ("chart", "table") else (), chart,
                       section.image or "", tr(section.notes))


def _chart_view(section: Section, figures: list[FigureValue], lang: str, tr,
                heading: str) -> ChartView:
    dated = all(f.as_of for f in figures) and len({f.as_of for f in figures}) == len(figures)
    if dated:
        figures = sorted(figures, key=lambda f: f.as_of)
    categories = tuple(
        (f.label_in(lang) if f.label else l10n.format_short_day(f.as_of, lang) if f.as_of
         else f.id) + ("*" if f.approx else "") for f in figures)
    values = [f.value for f in figures]
    log = min(values) > 0 and max(values) / min(values) >= 100
    return ChartView("column" if dated else "bar", categories, tuple(f.id for f in figures),
                     tr(section.series) or heading, tr(section.axis),
                     tr(section.number_format), log, any(f.approx for f in figures))
