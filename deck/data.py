"""The article data file: claims, figures, sources; loading, schema, references, derived figures.

Everything is read and checked before anything is built, and every problem is reported at once
with the file, line and field it concerns (``deck.diagnostics``). Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from babel import Locale, UnknownLocaleError
from PIL import Image, UnidentifiedImageError
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from .diagnostics import Diagnostic, Diagnostics, UserError
from .files import Roots, read_bytes
from .l10n import format_figure
from .resources import assets_dir
from .yamlsrc import field_name, line_of, read_yaml_file, validate

SCHEMA_VERSION = 1

ID_CLAIM = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_FIGURE = r"^[a-z][a-z0-9_]*$"

_ID_STYLES = {ID_CLAIM: "kebab-case like 'v3-cost'", ID_FIGURE: "snake_case like 'v3_cost_usd'"}

#: ``{fig:ID}`` in a text inserts a figure formatted for the deck's language. Nothing else in
#: data text is special: braces, Jinja syntax and markup stay literal.
FIG_REF = re.compile(r"\{fig:([A-Za-z0-9_]+)\}")

Unit = Literal[
    "USD", "KRW", "percent", "people", "parameters", "score", "rank", "year", "count",
    "gpu_hours", "usd_per_hour", "multiple",
]

#: A text in every language of the file: ``{ko: ..., en: ...}``.
Text = Annotated[dict[str, str], "translatable"]

#: the longest text a data file may hold: a claim restated in a few sentences needs a few
#: hundred characters; 5,000 continue on four or five slides where a slide shows them whole
MAX_TEXT_CHARS = 5_000
#: the largest figure (in absolute value) the formatting is exact for, in every unit and
#: language: 10^18 is 100경 원 / a quintillion
MAX_FIGURE = 1e18
#: the years a date may have: news from the 20th and 21st centuries, and no date whose
#: conversion to UTC, or to a four-digit OOXML timestamp, can fail
YEARS = (1900, 2099)


def _figure_value(value: float) -> float:
    if not math.isfinite(value) or abs(value) > MAX_FIGURE:
        raise ValueError(f"not a number the deck can show; expected a finite number of at "
                         f"most 10^18 in absolute value, got {value!r}")
    return value


def _in_years(day: dt.date) -> dt.date:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValueError(f"year {day.year} out of range; expected a date from {YEARS[0]} to "
                         f"{YEARS[1]}")
    return day


#: a reported number: finite and within :data:`MAX_FIGURE`
FigureNumber = Annotated[float, AfterValidator(_figure_value)]
#: a date of the article's world (:data:`YEARS`)
Day = Annotated[dt.date, AfterValidator(_in_years)]
#: a moment with its time zone (without one, the deck's dates would depend on the machine)
Moment = Annotated[AwareDatetime, AfterValidator(_in_years)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Model):
    id: str = Field(pattern=ID_FIGURE)
    value: FigureNumber
    unit: Unit
    approx: bool = False
    as_of: Day | None = None
    label: Text | None = None


class Claim(_Model):
    id: str = Field(pattern=ID_CLAIM)
    place: Literal["headline", "subhead", "caption", "heading", "body"] = "body"
    para: int | None = Field(default=None, ge=1)
    by: str
    kind: Literal["figure", "event", "analysis", "forecast", "analogy", "ranking", "attribution"]
    date: Day | None = None
    date_text: Text | None = None
    text: Text
    short: Text | None = None
    figures: list[Figure] = []


class Derived(_Model):
    id: str = Field(pattern=ID_FIGURE)
    op: Literal["ratio", "multiple", "difference", "sum", "product"]
    of: list[str] = Field(min_length=2)
    unit: Unit
    reported: list[str] = []
    label: Text | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)


class Check(_Model):
    id: str = Field(pattern=ID_CLAIM)
    claim: str
    source: Text
    text: Text
    figures: list[Figure] = []


class ImageRef(_Model):
    id: str = Field(pattern=ID_CLAIM)
    path: str = Field(min_length=1)  # relative to the data file's folder, or under assets/
    alt: Text
    credit: Text | None = None


class SummaryPoint(_Model):
    text: Text
    claims: list[str] = Field(min_length=1)


class DeckText(_Model):
    takeaway: Text
    headings: dict[str, Text]
    summary: list[SummaryPoint] = []
    notes: dict[str, Text] = {}


class Article(_Model):
    outlet: Text
    title: Text
    series: Text | None = None
    section: Text
    reporter: Text
    published: Moment
    updated: Moment | None = None
    url: str | None = None


class Briefing(_Model):
    """The validated data file. Built by :func:`load_briefing`, never by hand."""

    schema_: int = Field(alias="schema")
    languages: list[str] = Field(min_length=1)
    template: str = Field(pattern=r"^[a-z0-9_-]+$")
    article: Article
    sources: dict[str, Text]
    claims: list[Claim] = Field(min_length=1)
    derived: list[Derived] = []
    checks: list[Check] = []
    images: list[ImageRef] = []
    deck: DeckText


@dataclass(frozen=True)
class FigureValue:
    """A figure as the rest of the pipeline sees it: reported or computed, with its origin."""

    id: str
    value: float
    unit: str
    approx: bool
    origin: str  # claim id, check id, or "derived"
    label: dict[str, str] | None
    decimals: int | None = None  # for derived figures: how many decimals to show
    as_of: dt.date | None = None

    def text(self, lang: str) -> str:
        """The figure with its unit, as a reader of ``lang`` expects it."""
        return format_figure(self.value, self.unit, lang, approx=self.approx,
                             decimals=self.decimals)

    def label_in(self, lang: str) -> str:
        """The figure's short label in ``lang``, or its id where it has none."""
        return (self.label or {}).get(lang, self.id)


@dataclass(frozen=True)
class ImageFile:
    """An image the data file names, checked: its file, content digest and size in pixels."""

    path: Path
    digest: str
    width_px: int
    height_px: int


@dataclass(frozen=True)
class LoadedBriefing:
    """A briefing plus what was computed from it and where each piece sits in the file."""

    path: Path
    briefing: Briefing
    figures: dict[str, FigureValue]
    claim_numbers: dict[str, int]  # claim id -> 1-based number shown in markers and sources
    images: dict[str, ImageFile]  # image id -> checked file
    lines: dict[tuple, int]  # location path -> line number, for later stages' diagnostics

    def line_of(self, loc: tuple) -> int | None:
        return line_of(self.lines, loc)


# XML 1.0 allows tab, newline, carriage return and most of Unicode; python-pptx fails on the rest.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _walk_strings(obj: Any, loc: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(obj, str):
        yield loc, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_strings(v, loc + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_strings(v, loc + (i,))


def _walk_texts(model: Any, loc: tuple = ()) -> Iterator[tuple[tuple, dict[str, str]]]:
    """Every translatable text in the model, with its location."""
    if isinstance(model, BaseModel):
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            key = info.alias or name
            if _is_text(info) and isinstance(value, dict):
                yield loc + (key,), value
            elif _is_text_dict(info) and isinstance(value, dict):
                for k, v in value.items():
                    yield loc + (key, k), v
            else:
                yield from _walk_texts(value, loc + (key,))
    elif isinstance(model, list):
        for i, v in enumerate(model):
            yield from _walk_texts(v, loc + (i,))


def _has_marker(ann: Any) -> bool:
    if getattr(ann, "__metadata__", None) == ("translatable",):
        return True
    return any(_has_marker(a) for a in getattr(ann, "__args__", ()) if a is not type(None)) \
        and getattr(ann, "__origin__", None) is not dict


def _is_text(info: Any) -> bool:
    return "translatable" in info.metadata or _has_marker(info.annotation)


def _is_text_dict(info: Any) -> bool:
    ann = info.annotation
    args = getattr(ann, "__args__", ())
    return getattr(ann, "__origin__", None) is dict and len(args) == 2 and _has_marker(args[1])


# --------------------------------------------------------------------------------------------
# derived figures


def _compute(op: str, values: list[float]) -> float:
    if op == "ratio":
        return values[0] / values[1] * 100
    if op == "multiple":
        return values[0] / values[1]
    if op == "difference":
        return values[0] - values[1]
    if op == "sum":
        return math.fsum(values)
    product = 1.0
    for v in values:
        product *= v
    return product


def reporting_tolerance(reported: float, approx: bool) -> float:
    """How far a computed value may lie from a reported one and still agree with it.

    A reported value agrees within one unit of its last stated digit; an approximate one
    ('약 81억') within one unit of its last significant digit.

    >>> reporting_tolerance(5.5, False)
    0.1
    >>> reporting_tolerance(8_100_000_000, True)
    100000000.0
    """
    d = Decimal(repr(float(reported))).normalize()
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if not approx and exponent > 0 and float(reported).is_integer():
        exponent = 0
    return float(Decimal(1).scaleb(exponent))


def agrees(computed: float, reported: float, approx: bool) -> bool:
    """True when ``reported`` is ``computed`` rounded or cut to the digits it states.

    >>> agrees(5.576, 5.5, False), agrees(5.576, 5, False), agrees(5.576, 5.4, False)
    (True, True, False)
    """
    return abs(computed - reported) < reporting_tolerance(reported, approx) + 1e-9


# --------------------------------------------------------------------------------------------


def load_briefing(path: Path | str, *, strict: bool = False,
                  roots: Roots | None = None) -> tuple[LoadedBriefing, Diagnostics]:
    """Read, validate and cross-check a data file; raise :class:`UserError` listing every problem.

    Returns the briefing and the warnings (derived figures that disagree with reported ones).
    With ``strict`` warnings are errors too. Images must lie inside ``roots`` (by default the
    data file's folder and the package's).
    """
    path = Path(path)
    shown = str(path)
    diags = Diagnostics()
    raw, lines = read_yaml_file(path, "data file", diags)
    if not isinstance(raw, dict):
        raise UserError([Diagnostic(shown, 1, "", "expected a mapping at the top level (schema, "
                                    "languages, article, sources, claims, deck), got "
                                    f"{type(raw).__name__}")])

    def line(loc: tuple) -> int | None:
        return line_of(lines, loc)

    for loc, s in _walk_strings(raw):
        if len(s) > MAX_TEXT_CHARS:
            diags.error(shown, line(loc), field_name(loc, raw),
                        f"text too long; expected at most {MAX_TEXT_CHARS:,} characters (a "
                        f"claim in your own words, not the article), got {len(s):,}")
            continue
        m = _XML_BAD.search(s)
        if m:
            diags.error(shown, line(loc), field_name(loc, raw),
                        f"control character U+{ord(m.group()):04X} cannot be stored in a "
                        "PowerPoint file; expected printable text, got it at position "
                        f"{m.start()}")

    briefing = validate(Briefing, raw, lines, shown, diags, _ID_STYLES)
    if briefing is None:
        raise UserError(diags.errors)

    if briefing.schema_ != SCHEMA_VERSION:
        diags.error(shown, line(("schema",)), "schema",
                    f"unsupported schema version; expected {SCHEMA_VERSION}, "
                    f"got {briefing.schema_}")
    _check_languages(briefing, shown, line, diags)
    figures, numbers = _check_references(briefing, shown, line, raw, diags)
    images = _check_images(briefing, path, shown, line, diags,
                           roots or Roots.for_build(path))
    if not diags.errors:
        _check_derived(briefing, figures, shown, line, diags, strict)
    if diags.errors:
        raise UserError(diags.errors)
    return LoadedBriefing(path, briefing, figures, numbers, images, lines), diags


def _check_images(b: Briefing, path: Path, shown: str, line, diags: Diagnostics,
                  roots: Roots) -> dict[str, ImageFile]:
    """Every image must be found beside the data file or under assets/, resolve (links
    followed) inside the build's folders, and be a PNG or JPEG Pillow can read and the
    writer can place. Pillow's decompression-bomb guard stays on: an image too large to be
    honest is an error."""
    search = (path.resolve().parent, assets_dir())
    found: dict[str, ImageFile] = {}
    first: dict[str, int | None] = {}
    for i, ref in enumerate(b.images):
        loc = ("images", i, "path")
        fld = f"images[{ref.id}].path"
        if ref.id in first:
            diags.error(shown, line(("images", i, "id")), f"images[{ref.id}].id",
                        f"duplicate image id; expected unique ids, got {ref.id!r} again "
                        f"(first on line {first[ref.id]})")
            continue
        first[ref.id] = line(("images", i, "id"))
        try:
            where = roots.find(ref.path, search, "image", fld)
            if where is None:
                raise UserError([Diagnostic(ref.path, None, fld, (
                    f"image not found; expected a file beside the data file or under assets/, "
                    f"got {ref.path!r}"))])
            data = read_bytes(where[1], "image", fld, shown=ref.path)
        except UserError as exc:
            for d in exc.diagnostics:
                diags.error(shown, line(loc), fld, d.message)
            continue
        problem, size = _image_problem(data)
        if problem:
            diags.error(shown, line(loc), fld, problem)
            continue
        found[ref.id] = ImageFile(where[1], hashlib.sha256(data).hexdigest(), *size)
    return found


#: what the writer can place (python-pptx reads these), by Pillow's format name
IMAGE_FORMATS = {"PNG", "JPEG"}


def _image_problem(data: bytes) -> tuple[str | None, tuple[int, int]]:
    """Why these bytes are no image the deck can show (None if they are), and their size."""
    try:
        with warnings.catch_warnings():
            # past Image.MAX_IMAGE_PIXELS Pillow only warns; a deck has no use for such sizes
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                size, kind = im.size, im.format
                im.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return (f"image refused as a decompression bomb; expected a normal-sized image, got "
                f"{exc}"), (0, 0)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return (f"not a readable image; expected PNG or JPEG, got {type(exc).__name__}: "
                f"{exc}"), (0, 0)
    if kind not in IMAGE_FORMATS:
        return f"image format not supported; expected PNG or JPEG, got {kind}", size
    if min(size) < 1:
        return f"empty image; expected at least 1 x 1 pixels, got {size[0]} x {size[1]}", size
    return None, size


def _check_languages(b: Briefing, path: str, line, diags: Diagnostics) -> None:
    for i, tag in enumerate(b.languages):
        try:
            Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            diags.error(path, line(("languages", i)), f"languages[{i}]",
                        f"unknown language; expected a language tag Babel knows (ko, en, ja...), "
                        f"got {tag!r}")
    if len(set(b.languages)) != len(b.languages):
        diags.error(path, line(("languages",)), "languages",
                    f"listed twice; expected each language once, got {b.languages}")
    want = set(b.languages)
    for loc, text in _walk_texts(b):
        have = set(text)
        for lang in sorted(want - have):
            diags.error(path, line(loc), _dotted_named(loc, b),
                        f"missing translation; expected a '{lang}' text, got only "
                        f"{sorted(have) or 'none'}")
        for lang in sorted(have - want):
            diags.error(path, line(loc + (lang,)), _dotted_named(loc, b) + f".{lang}",
                        f"unknown language; expected one of {b.languages}, got {lang!r}")
        for lang, s in text.items():
            if not s.strip():
                diags.error(path, line(loc + (lang,)), _dotted_named(loc, b) + f".{lang}",
                            "empty text; expected words, got nothing")


def _dotted_named(loc: tuple, b: Briefing) -> str:
    return field_name(loc, b.model_dump(by_alias=True))


def _check_references(b: Briefing, path: str, line, raw: dict,
                      diags: Diagnostics) -> tuple[dict[str, FigureValue], dict[str, int]]:
    """Claims, checks and figures: ids unique, every reference resolves."""
    figures: dict[str, FigureValue] = {}
    fig_loc: dict[str, tuple] = {}

    def add_figure(f: Figure, origin: str, loc: tuple) -> None:
        if f.id in figures:
            diags.error(path, line(loc + ("id",)), field_name(loc + ("id",), raw),
                        f"duplicate figure id; expected unique ids, got {f.id!r} again "
                        f"(first on line {line(fig_loc[f.id] + ('id',))})")
            return
        figures[f.id] = FigureValue(f.id, f.value, f.unit, f.approx, origin, f.label,
                                    as_of=f.as_of)
        fig_loc[f.id] = loc

    claim_ids = _check_claims(b, path, line, raw, diags, add_figure)
    for i, ch in enumerate(b.checks):
        loc = ("checks", i)
        if ch.claim not in claim_ids:
            diags.error(path, line(loc + ("claim",)), field_name(loc + ("claim",), raw),
                        f"unknown claim; expected a claim id, got {ch.claim!r}")
        for j, f in enumerate(ch.figures):
            add_figure(f, ch.id, loc + ("figures", j))
    _check_mentions(b, path, line, raw, diags, set(figures), claim_ids)
    return figures, {c.id: n for n, c in enumerate(b.claims, start=1)}


def _check_claims(b: Briefing, path: str, line, raw: dict, diags: Diagnostics,
                  add_figure) -> set[str]:
    """Each claim: a unique id, a known source, a paragraph if in the body; its figures."""
    claim_loc: dict[str, tuple] = {}
    for i, c in enumerate(b.claims):
        loc = ("claims", i)
        if c.id in claim_loc:
            diags.error(path, line(loc + ("id",)), field_name(loc + ("id",), raw),
                        f"duplicate claim id; expected unique ids, got {c.id!r} again "
                        f"(first on line {line(claim_loc[c.id] + ('id',))})")
        claim_loc.setdefault(c.id, loc)
        if c.by not in b.sources:
            diags.error(path, line(loc + ("by",)), field_name(loc + ("by",), raw),
                        f"unknown source; expected one of {sorted(b.sources)}, got {c.by!r}")
        if c.place == "body" and c.para is None:
            diags.error(path, line(loc), field_name(loc, raw) + ".para",
                        "missing; expected the body paragraph number for a body claim, "
                        "got nothing")
        for j, f in enumerate(c.figures):
            add_figure(f, c.id, loc + ("figures", j))
    return set(claim_loc)


def _check_mentions(b: Briefing, path: str, line, raw: dict, diags: Diagnostics,
                    figures: set[str], claims: set[str]) -> None:
    """Derived figures, summary points and {fig:...} in texts name what exists."""
    _check_derived_refs(b, path, line, raw, diags, figures)
    for i, p in enumerate(b.deck.summary):
        for j, ref in enumerate(p.claims):
            if ref not in claims:
                loc = ("deck", "summary", i, "claims", j)
                diags.error(path, line(loc), field_name(loc, raw),
                            f"unknown claim; expected a claim id, got {ref!r}")
    known = figures | {d.id for d in b.derived}
    for loc, text in _walk_texts(b):
        for lang, s in text.items():
            for m in FIG_REF.finditer(s):
                if m.group(1) not in known:
                    diags.error(path, line(loc + (lang,)), _dotted_named(loc, b) + f".{lang}",
                                f"unknown figure in {{fig:...}}; expected a figure id, got "
                                f"{m.group(1)!r}")


#: operations with exactly two operands (the others take two or more)
BINARY_OPS = ("ratio", "multiple", "difference")


def _check_derived_refs(b: Briefing, path: str, line, raw: dict, diags: Diagnostics,
                        figures: set[str]) -> None:
    """Each derived figure: a new id, operands that exist, as many as its operation takes."""
    first: dict[str, int | None] = {}
    for i, d in enumerate(b.derived):
        loc = ("derived", i)
        where = line(loc + ("id",))
        if d.id in figures or d.id in first:
            again = f" (first on line {first[d.id]})" if d.id in first else ""
            diags.error(path, where, field_name(loc + ("id",), raw),
                        f"duplicate figure id; expected unique ids, got {d.id!r} again{again}")
        first.setdefault(d.id, where)
        if d.op in BINARY_OPS and len(d.of) != 2:
            diags.error(path, line(loc + ("of",)), field_name(loc + ("of",), raw),
                        f"a {d.op} takes two figures; expected exactly 2, got {len(d.of)}: "
                        f"{d.of}")
        for j, ref in enumerate(d.of + d.reported):
            if ref not in figures:
                key = ("of", j) if j < len(d.of) else ("reported", j - len(d.of))
                diags.error(path, line(loc + key), field_name(loc + key, raw),
                            f"unknown figure; expected a figure id defined in claims or checks, "
                            f"got {ref!r}")


def _check_derived(b: Briefing, figures: dict[str, FigureValue], path: str, line,
                   diags: Diagnostics, strict: bool) -> None:
    for i, d in enumerate(b.derived):
        loc = ("derived", i)
        inputs = [figures[r] for r in d.of]
        units = {f.unit for f in inputs}
        if d.op in ("ratio", "multiple", "difference", "sum") and len(units) > 1:
            diags.error(path, line(loc + ("of",)), f"derived[{d.id}].of",
                        f"{d.op} of figures in different units; expected one unit, "
                        f"got {sorted(units)}")
            continue
        if d.op in ("ratio", "multiple") and inputs[1].value == 0:
            diags.error(path, line(loc + ("of",)), f"derived[{d.id}].of",
                        f"division by zero; expected a non-zero {inputs[1].id}, got 0")
            continue
        value = _compute(d.op, [f.value for f in inputs])
        if not math.isfinite(value) or abs(value) > MAX_FIGURE:
            diags.error(path, line(loc + ("op",)), f"derived[{d.id}]",
                        f"the {d.op} of {', '.join(d.of)} is {value:g}; expected a finite "
                        "result of at most 10^18 in absolute value")
            continue
        decimals = d.decimals if d.decimals is not None else {"ratio": 2, "multiple": 1}.get(
            d.op)
        figures[d.id] = FigureValue(d.id, value, d.unit, any(f.approx for f in inputs),
                                    "derived", d.label, decimals)
        for j, ref in enumerate(d.reported):
            rep = figures[ref]
            if not agrees(value, rep.value, rep.approx):
                msg = (f"computed {d.op} of {', '.join(d.of)} is {value:.4g}, but {ref} reports "
                       f"{rep.value:g}; expected them to agree within rounding "
                       f"(±{reporting_tolerance(rep.value, rep.approx):g})")
                (diags.error if strict else diags.warn)(
                    path, line(loc + ("reported", j)), f"derived[{d.id}].reported", msg)
