"""The slide model: a closed set of layouts and blocks, parsed and validated from outline text.

Charts name figures by id; their numbers are looked up in the data file here, so no template can
retype a number. Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .data import LoadedBriefing
from .diagnostics import Diagnostics, UserError
from .l10n import format_figure
from .yamlsrc import field_name, line_of, pydantic_message, read_yaml

Layout = Literal["title", "section", "content", "chart", "two_content", "table", "sources"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bullet(_Model):
    text: str
    level: int = Field(default=0, ge=0, le=2)
    claims: list[str] = []


class Series(_Model):
    name: str
    points: list[str] = Field(min_length=1)  # figure ids


class Chart(_Model):
    kind: Literal["bar", "column", "line"]
    title: str = ""
    categories: list[str] = []  # default: the first series' figure labels
    series: list[Series] = Field(min_length=1)
    log_scale: bool = False
    highlight: list[str] = []  # figure ids drawn in the accent colour
    value_axis_title: str = ""
    number_format: str = "#,##0"
    alt: str = ""  # alt text; by default the title and every labelled value, in words
    # filled from the data file, never from the template:
    values: list[list[float]] = []
    approx: list[list[bool]] = []

    @model_validator(mode="after")
    def _same_length(self) -> Chart:
        n = len(self.series[0].points)
        if any(len(s.points) != n for s in self.series):
            raise ValueError("every series needs as many points as the first")
        if self.categories and len(self.categories) != n:
            raise ValueError(f"expected {n} categories, got {len(self.categories)}")
        return self


class Table(_Model):
    columns: list[str] = Field(min_length=1)
    widths: list[float] = []  # relative column widths
    rows: list[list[str]] = []
    row_claims: list[list[str]] = []  # per row: claim ids it shows (for markers/traceability)

    @model_validator(mode="after")
    def _shape(self) -> Table:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i + 1} has {len(row)} cells; expected "
                                 f"{len(self.columns)}")
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} widths, got {len(self.widths)}")
        return self


class Diagram(_Model):
    kind: Literal["moe"]
    router: str
    experts: list[str] = Field(min_length=2)
    active: list[int] = []  # indexes of highlighted experts
    input: str = ""
    output: str = ""
    caption: str = ""
    alt: str = Field(min_length=1)


class Picture(_Model):
    image: str  # an image id of the data file
    alt: str = ""  # filled from the data file
    path: str = ""  # filled from the data file


class Slide(_Model):
    layout: Layout
    key: str
    title: str
    subtitle: str = ""
    bullets: list[Bullet] = []
    right: list[Bullet] = []  # second column of two_content, or the chart slide's side text
    chart: Chart | None = None
    table: Table | None = None
    diagram: Diagram | None = None
    picture: Picture | None = None
    notes: list[str] = []
    footer: str = ""
    # set by pagination: "2/3"
    part: tuple[int, int] = (1, 1)

    @model_validator(mode="after")
    def _blocks_fit_layout(self) -> Slide:
        if self.layout == "chart" and self.chart is None:
            raise ValueError("a chart slide needs a chart")
        if self.layout in ("table", "sources") and self.table is None:
            raise ValueError(f"a {self.layout} slide needs a table")
        if self.chart is not None and self.layout not in ("chart", "two_content"):
            raise ValueError(f"a chart cannot go on a {self.layout} slide")
        return self


class Outline(_Model):
    lang: str
    footer: str = ""
    slides: list[Slide] = Field(min_length=1)

    def claim_ids(self) -> set[str]:
        ids: set[str] = set()
        for s in self.slides:
            for b in s.bullets + s.right:
                ids.update(b.claims)
            if s.table:
                for rc in s.table.row_claims:
                    ids.update(rc)
        return ids


def parse_outline(text: str, shown: str, loaded: LoadedBriefing, lang: str) -> Outline:
    """Parse rendered outline text into an :class:`Outline`; resolve chart figures.

    Raises :class:`UserError` naming the rendered outline's line for every problem.
    """
    diags = Diagnostics()
    raw, lines = read_yaml(text, shown, diags)
    if isinstance(raw, dict):
        raw.setdefault("lang", lang)
    try:
        outline = Outline.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            diags.error(shown, line_of(lines, loc), field_name(loc, raw), pydantic_message(err))
        raise UserError(diags.errors) from None

    known_claims = set(loaded.claim_numbers)
    for i, slide in enumerate(outline.slides):
        loc = ("slides", i)
        for part in ("bullets", "right"):
            for j, b in enumerate(getattr(slide, part)):
                for k, cid in enumerate(b.claims):
                    if cid not in known_claims:
                        where = loc + (part, j, "claims", k)
                        diags.error(shown, line_of(lines, where), field_name(where, raw),
                                    f"unknown claim; expected a claim id of the data file, "
                                    f"got {cid!r}")
        if slide.picture is not None:
            ref = next((r for r in loaded.briefing.images if r.id == slide.picture.image), None)
            if ref is None:
                where = loc + ("picture", "image")
                diags.error(shown, line_of(lines, where), field_name(where, raw),
                            f"unknown image; expected one of "
                            f"{sorted(loaded.images)}, got {slide.picture.image!r}")
            else:
                credit = f" ({ref.credit[lang]})" if ref.credit else ""
                slide.picture.alt = ref.alt[lang] + credit
                slide.picture.path = str(loaded.images[ref.id])
        if slide.chart is not None:
            _resolve_chart(slide.chart, loaded, lang, shown, lines, loc + ("chart",), raw, diags,
                           slide.title)
    if diags.errors:
        raise UserError(diags.errors)
    return outline


def _resolve_chart(chart: Chart, loaded: LoadedBriefing, lang: str, shown: str,
                   lines: dict, loc: tuple, raw, diags: Diagnostics, title: str) -> None:
    values, approx = [], []
    for i, s in enumerate(chart.series):
        vs, aps = [], []
        for j, fid in enumerate(s.points):
            f = loaded.figures.get(fid)
            if f is None:
                where = loc + ("series", i, "points", j)
                diags.error(shown, line_of(lines, where), field_name(where, raw),
                            f"unknown figure; expected a figure id of the data file, got {fid!r}")
                continue
            vs.append(f.value)
            aps.append(f.approx)
        values.append(vs)
        approx.append(aps)
    for j, fid in enumerate(chart.highlight):
        if fid not in loaded.figures:
            where = loc + ("highlight", j)
            diags.error(shown, line_of(lines, where), field_name(where, raw),
                        f"unknown figure; expected a figure id, got {fid!r}")
    if not chart.categories:
        first = chart.series[0].points
        chart.categories = [
            (loaded.figures[fid].label or {}).get(lang, fid) if fid in loaded.figures else fid
            for fid in first]
    chart.values = values
    chart.approx = approx
    if not chart.alt and not diags.errors:
        points = ", ".join(
            f"{cat} {format_figure(f.value, f.unit, lang, approx=f.approx, decimals=f.decimals)}"
            for cat, f in zip(chart.categories,
                              (loaded.figures[i] for i in chart.series[0].points), strict=True))
        chart.alt = f"{chart.title or title}: {points}"
