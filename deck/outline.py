"""The outline: what a template may write (:class:`OutlineSpec`), and the resolved outline
(:class:`Outline`) with figures, pictures, markers and alt text filled in from the data file.

Both are frozen. Charts name figures by id; their numbers are looked up here, so no template can
retype a number. Errors name the template line that produced the bad text. Knows nothing of
Jinja or pptx.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Annotated, Literal

import msgspec

from .data import LoadedBriefing
from .diagnostics import Diagnostic, Diagnostics, UserError, did_you_mean
from .l10n import Numbers
from .model import ChartSeries
from .numfmt import ChartNumbers, chart_numbers
from .schema import Meta, Record, dump
from .yamlsrc import field_name, line_of, read_yaml, validate

#: the logical layouts an outline may ask for; a template maps each to one of its layouts
Layout = Literal["title", "section", "content", "chart", "two_content", "table", "sources"]
LAYOUTS: tuple[str, ...] = typing.get_args(Layout)


class BulletSpec(Record, kw_only=True):
    text: str
    level: Annotated[int, Meta(ge=0, le=2)] = 0
    claims: tuple[str, ...] = ()


class SeriesSpec(Record, kw_only=True):
    name: str
    points: Annotated[tuple[str, ...], Meta(min_length=1)]  # figure ids


class ChartSpec(Record, kw_only=True):
    kind: Literal["bar", "column", "line"]
    title: str = ""
    categories: tuple[str, ...] = ()  # default: the first series' figure labels
    series: Annotated[tuple[SeriesSpec, ...], Meta(min_length=1)]
    log_scale: bool = False
    highlight: tuple[str, ...] = ()  # figure ids drawn in the accent colour
    value_axis_title: str = ""
    number_format: str = ""  # Excel format code; "" makes one from the figures (deck.numfmt)
    alt: str = ""  # alt text; by default the title and every labelled value, in words

    def check(self) -> None:
        n = len(self.series[0].points)
        if any(len(s.points) != n for s in self.series):
            raise ValueError("every series needs as many points as the first")
        if self.categories and len(self.categories) != n:
            raise ValueError(f"expected {n} categories, got {len(self.categories)}")


class TableSpec(Record, kw_only=True):
    columns: Annotated[tuple[str, ...], Meta(min_length=1)]
    widths: tuple[float, ...] = ()  # relative column widths
    rows: tuple[tuple[str, ...], ...] = ()
    row_claims: tuple[tuple[str, ...], ...] = ()  # per row: the claim ids it shows

    def check(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i + 1} has {len(row)} cells; expected "
                                 f"{len(self.columns)}")
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} widths, got {len(self.widths)}")


class DiagramSpec(Record, kw_only=True):
    kind: Literal["moe"]
    router: str
    experts: Annotated[tuple[str, ...], Meta(min_length=2)]
    active: tuple[int, ...] = ()  # indexes of highlighted experts
    input: str = ""
    output: str = ""
    alt: Annotated[str, Meta(min_length=1)]


class PictureSpec(Record, kw_only=True):
    image: str  # an image id of the data file


class SlideSpec(Record, kw_only=True):
    layout: Layout
    key: str
    title: str
    subtitle: str = ""
    bullets: tuple[BulletSpec, ...] = ()
    right: tuple[BulletSpec, ...] = ()  # second column, or the side text beside a graphic
    chart: ChartSpec | None = None
    table: TableSpec | None = None
    diagram: DiagramSpec | None = None
    picture: PictureSpec | None = None
    notes: tuple[str, ...] = ()
    footer: str = ""

    def check(self) -> None:
        if self.layout == "chart" and self.chart is None:
            raise ValueError("a chart slide needs a chart")
        if self.layout in ("table", "sources") and self.table is None:
            raise ValueError(f"a {self.layout} slide needs a table")
        for block in ("chart", "diagram", "picture"):
            if getattr(self, block) is not None and self.layout not in ("chart", "two_content"):
                raise ValueError(f"a {block} cannot go on a {self.layout} slide; expected a "
                                 "chart or two_content slide")
        if (self.bullets or self.right) and self.layout in ("title", "section", "table",
                                                           "sources"):
            raise ValueError(f"a {self.layout} slide shows no bullets; expected them on a "
                             "content, chart or two_content slide")
        if self.right and self.layout == "content":
            raise ValueError("a content slide has one column; expected right: on a "
                             "two_content or chart slide")
        if len([b for b in ("chart", "diagram", "picture") if getattr(self, b)]) > 1:
            raise ValueError("a slide shows one graphic; expected one of chart, diagram, "
                             "picture")


class OutlineSpec(Record, kw_only=True):
    """What an outline template writes, validated."""

    lang: str = ""
    footer: str = ""
    slides: Annotated[tuple[SlideSpec, ...], Meta(min_length=1)]


# ------------------------------------------------------------------------------------------
# the resolved outline


class Bullet(msgspec.Struct, frozen=True):
    """A bullet's text and the claim markers shown after it (``[3][4]``)."""

    text: str
    level: int = 0
    marks: str = ""


class Chart(msgspec.Struct, frozen=True):
    kind: Literal["bar", "column", "line"]
    title: str
    categories: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    log_scale: bool
    highlight: tuple[int, ...]  # indexes of the first series' points to highlight
    value_axis_title: str
    number_format: str
    alt: str
    major_unit: float | None = None  # value axis step, where the number format needs one


class Table(msgspec.Struct, frozen=True):
    columns: tuple[str, ...]
    widths: tuple[float, ...]
    rows: tuple[tuple[str, ...], ...]


class Diagram(msgspec.Struct, frozen=True):
    router: str
    experts: tuple[str, ...]
    active: tuple[int, ...]
    input: str
    output: str
    alt: str


class Picture(msgspec.Struct, frozen=True):
    path: str
    digest: str  # of the file's bytes: a changed image is a changed slide
    width_px: int
    height_px: int
    alt: str


class Slide(msgspec.Struct, frozen=True):
    layout: str
    key: str
    title: str
    subtitle: str
    bullets: tuple[Bullet, ...]
    right: tuple[Bullet, ...]
    chart: Chart | None
    table: Table | None
    diagram: Diagram | None
    picture: Picture | None
    notes: tuple[str, ...]
    footer: tuple[str, ...]  # the footer, then shorter forms for a narrow footer placeholder


Place = tuple[str, int | None]  # a template file and line


class SlidePlace(msgspec.Struct, frozen=True):
    """Where in the outline template a slide and its parts were written, for reporting what
    the fit stage cannot show."""

    slide: Place
    parts: tuple[tuple[str, Place], ...]  # (title | subtitle | footer | bullets | ..., place)

    def of(self, part: str) -> Place:
        """Where ``part`` was written; the slide's own place when the template left it out."""
        return dict(self.parts).get(part, self.slide)


class Outline(msgspec.Struct, frozen=True):
    lang: str
    slides: tuple[Slide, ...]
    places: tuple[SlidePlace, ...] = ()


# ------------------------------------------------------------------------------------------


class Rendered(msgspec.Struct, frozen=True):
    """An outline template's output for one language, with where each line came from."""

    text: str
    shown: str  # e.g. "deepseek.yaml.j2 (rendered, ko)"
    lang: str
    origins: tuple[tuple[str, int] | None, ...]  # per rendered line: (template file, line)

    def locate(self, line: int | None) -> tuple[str, int | None]:
        """The template file and line that produced rendered ``line``."""
        if line is not None and 1 <= line <= len(self.origins) and self.origins[line - 1]:
            return self.origins[line - 1]
        return self.shown, line


def parse_outline(rendered: Rendered) -> tuple[OutlineSpec, dict[tuple, int]]:
    """Parse and validate an outline template's output; return it with its line map.

    Raises :class:`UserError` naming, for every problem, the template line that produced it.
    """
    diags = Diagnostics()
    try:
        raw, lines = read_yaml(rendered.text, rendered.shown, diags)
    except UserError as exc:
        raise UserError([_at_template(d, rendered) for d in exc.diagnostics]) from None
    spec = validate(OutlineSpec, raw, lines, rendered.shown, diags)
    if spec is not None:
        _check_keys(spec, lines, rendered.shown, diags)
    if diags.errors or spec is None:
        raise UserError([_at_template(d, rendered) for d in diags.errors])
    return spec, lines


def _check_keys(spec: OutlineSpec, lines: dict[tuple, int], shown: str,
                diags: Diagnostics) -> None:
    """Each slide's key once: keys identify slides when hand edits are merged."""
    seen: dict[str, int] = {}
    for i, s in enumerate(spec.slides):
        if s.key in seen:
            diags.error(shown, line_of(lines, ("slides", i, "key")), f"slides[{i}].key",
                        f"key {s.key!r} already names slides[{seen[s.key]}]; expected a key "
                        "of its own (keys identify slides when hand edits are merged)")
        seen.setdefault(s.key, i)


def _at_template(d: Diagnostic, rendered: Rendered) -> Diagnostic:
    path, line = rendered.locate(d.line)
    where = f" (rendered for {rendered.lang}, line {d.line})" if d.line else ""
    return Diagnostic(path, line, d.field, d.message + where, d.severity)


class _Resolver(msgspec.Struct, frozen=True):
    """Looks up what an outline names in the data file, reporting what it cannot find."""

    loaded: LoadedBriefing
    lang: str
    markers: dict[str, str]
    numbers: Numbers
    report: Callable[[tuple, str, str, list[str]], None]
    problem: Callable[[tuple, str], None]

    def marks(self, loc: tuple, claims: tuple[str, ...]) -> str:
        for k, cid in enumerate(claims):
            if cid not in self.markers:
                self.report(loc + ("claims", k), "claim", cid, list(self.markers))
        return "".join(self.markers[c] for c in claims if c in self.markers)

    def bullets(self, loc: tuple, specs: tuple[BulletSpec, ...]) -> tuple[Bullet, ...]:
        return tuple(Bullet(b.text, b.level, self.marks(loc + (j,), b.claims))
                     for j, b in enumerate(specs))

    def figure(self, loc: tuple, fid: str):
        f = self.loaded.figures.get(fid)
        if f is None:
            self.report(loc, "figure", fid, list(self.loaded.figures))
        return f

    def chart(self, loc: tuple, spec: ChartSpec, slide_title: str) -> Chart:
        series = []
        for i, s in enumerate(spec.series):
            figs = [self.figure(loc + ("series", i, "points", j), fid)
                    for j, fid in enumerate(s.points)]
            for j, f in enumerate(figs):
                if spec.log_scale and f is not None and f.value <= 0:
                    self.problem(loc + ("series", i, "points", j), (
                        f"a log scale shows only values above zero; expected a positive "
                        f"figure, got {f.id} = {f.value:g}"))
            series.append(ChartSeries(s.name, tuple(f.value for f in figs if f is not None)))
        first = [self.loaded.figures.get(fid) for fid in spec.series[0].points]
        for j, fid in enumerate(spec.highlight):
            self.figure(loc + ("highlight", j), fid)
        categories = spec.categories or tuple(
            f.label_in(self.lang) if f else fid for f, fid in zip(first, spec.series[0].points,
                                                                   strict=True))
        alt = spec.alt or f"{spec.title or slide_title}: " + ", ".join(
            f"{cat} {f.text(self.numbers)}" for cat, f in zip(categories, first, strict=True)
            if f)
        highlight = tuple(j for j, fid in enumerate(spec.series[0].points)
                          if fid in spec.highlight)
        fmt = self.number_format(loc, spec)
        return Chart(spec.kind, spec.title, categories, tuple(series), spec.log_scale, highlight,
                     spec.value_axis_title, fmt.code, alt, fmt.major_unit)

    def number_format(self, loc: tuple, spec: ChartSpec):
        """The chart's number format: the template's, else one made from its figures, which
        must share one unit (a chart mixing units is an error at the template line)."""
        figs = [(i, j, self.loaded.figures[fid]) for i, s in enumerate(spec.series)
                for j, fid in enumerate(s.points) if fid in self.loaded.figures]
        units = sorted({f.unit for _, _, f in figs})
        if len(units) > 1:
            i, j, odd = next(x for x in figs if x[2].unit != figs[0][2].unit)
            self.problem(loc + ("series", i, "points", j),
                         f"a chart of figures in different units; expected one unit like "
                         f"{figs[0][2].id} ({figs[0][2].unit}), got {odd.id} in {odd.unit}")
        if spec.number_format or not figs or len(units) > 1:
            return ChartNumbers(spec.number_format or "#,##0")
        decimals = max(f.shown_decimals for _, _, f in figs)
        return chart_numbers([f.value for _, _, f in figs], units[0], decimals, self.numbers,
                             log_scale=spec.log_scale)

    def picture(self, loc: tuple, spec: PictureSpec) -> Picture | None:
        ref = next((r for r in self.loaded.briefing.images if r.id == spec.image), None)
        if ref is None or ref.id not in self.loaded.images:
            self.report(loc + ("image",), "image", spec.image, list(self.loaded.images))
            return None
        image = self.loaded.images[ref.id]
        credit = f" ({ref.credit[self.lang]})" if ref.credit else ""
        return Picture(str(image.path), image.digest, image.width_px, image.height_px,
                       ref.alt[self.lang] + credit)

    def slide(self, loc: tuple, s: SlideSpec) -> Slide:
        table = None
        if s.table is not None:
            for r, claims in enumerate(s.table.row_claims):
                self.marks(loc + ("table", "row_claims", r), claims)
            table = Table(s.table.columns, s.table.widths, s.table.rows)
        diagram = None
        if s.diagram is not None:
            d = s.diagram
            diagram = Diagram(d.router, d.experts, d.active, d.input, d.output, d.alt)
        return Slide(
            layout=s.layout, key=s.key, title=s.title, subtitle=s.subtitle,
            bullets=self.bullets(loc + ("bullets",), s.bullets),
            right=self.bullets(loc + ("right",), s.right),
            chart=self.chart(loc + ("chart",), s.chart, s.title) if s.chart else None,
            table=table, diagram=diagram,
            picture=self.picture(loc + ("picture",), s.picture) if s.picture else None,
            notes=s.notes, footer=(s.footer,) if s.footer else ())


def resolve_outline(spec: OutlineSpec, lines: dict[tuple, int], rendered: Rendered,
                    loaded: LoadedBriefing, markers: dict[str, str],
                    default_footer: tuple[str, ...], numbers: Numbers) -> Outline:
    """Fill in what the outline names: claim markers, chart values, pictures, alt text.

    Every slide gets a footer (its own, the outline's, or ``default_footer``: the footer
    and its shorter forms). Raises
    :class:`UserError` for every claim, figure or image the data file does not have, at the
    template line that named it, with the nearest ids suggested.
    """
    diags = Diagnostics()
    raw = dump(spec)

    def problem(loc: tuple, message: str) -> None:
        path, line = rendered.locate(line_of(lines, loc))
        diags.error(path, line, field_name(loc, raw), message)

    def report(loc: tuple, what: str, got: str, known: list[str]) -> None:
        problem(loc, f"unknown {what}; expected {'an' if what == 'image' else 'a'} {what} id "
                f"of the data file{did_you_mean(got, known)}, got {got!r}")

    resolver = _Resolver(loaded, rendered.lang, markers, numbers, report, problem)
    # an outline that writes the default footer itself (``footer: {{ footer }}``, as the
    # default outline does) keeps its shorter forms for a narrow footer placeholder
    own = spec.footer and spec.footer not in default_footer[:1]
    footer = (spec.footer,) if own else default_footer
    slides = tuple(_with_footer(resolver.slide(("slides", i), s), footer)
                   for i, s in enumerate(spec.slides))
    if diags.errors:
        raise UserError(diags.errors)
    return Outline(rendered.lang, slides, tuple(
        _place(rendered, lines, i, spec.footer) for i in range(len(slides))))


_PARTS = ("title", "subtitle", "footer", "bullets", "right", "table")


def _place(rendered: Rendered, lines: dict[tuple, int], i: int, footer: str) -> SlidePlace:
    loc = ("slides", i)
    parts = tuple((part, rendered.locate(lines[loc + (part,)]))
                  for part in _PARTS if loc + (part,) in lines)
    if ("footer",) in lines and (loc + ("footer",)) not in lines and footer:
        parts += (("footer", rendered.locate(lines[("footer",)])),)
    return SlidePlace(rendered.locate(line_of(lines, loc)), parts)


def _with_footer(slide: Slide, footer: tuple[str, ...]) -> Slide:
    return slide if slide.footer else msgspec.structs.replace(slide, footer=footer)
