"""The article data file: claims, figures, sources; loading, schema, references, derived figures.

Everything is read and checked before anything is built, and every problem is reported at once
with the file, line and field it concerns (``deck.diagnostics``). Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import math
import re
import warnings
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from babel import Locale, UnknownLocaleError
from PIL import Image, UnidentifiedImageError

from .diagnostics import Diagnostic, Diagnostics, UserError, did_you_mean
from .files import Roots, read_bytes
from .l10n import MAX_DIGITS, Numbers, digit_count, exact, places
from .resources import assets_dir
from .schema import Check as FieldCheck
from .schema import Lax, Meta, Record, anchored, dump
from .units import NOT_QUANTITIES, Qualifier, Unit
from .yamlsrc import field_name, line_of, read_yaml_file, validate

SCHEMA_VERSION = 1

ID_CLAIM = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_FIGURE = r"^[a-z][a-z0-9_]*$"

_ID_STYLES = {ID_CLAIM: "kebab-case like 'v3-cost'", ID_FIGURE: "snake_case like 'v3_cost_usd'"}

#: ``{fig:ID}`` in a text inserts a figure formatted for the deck's language. Nothing else in
#: data text is special: braces, Jinja syntax and markup stay literal.
FIG_REF = re.compile(r"\{fig:([A-Za-z0-9_]+)\}")

#: a placeholder the data file still holds (``--init`` writes them); nothing builds with one
TODO = re.compile(r"\bTODO\b")

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


def _moment(value: Any) -> dt.datetime | dt.date:
    if not isinstance(value, dt.date):  # a datetime is a date too
        raise TypeError(f"expected a date or a date and time, got {type(value).__name__}")
    return _in_years(value)


#: a reported number: finite and within :data:`MAX_FIGURE`
FigureNumber = Annotated[float, FieldCheck(_figure_value)]
#: a date of the article's world (:data:`YEARS`)
Day = Annotated[dt.date, FieldCheck(_in_years)]
#: a day, or a moment; a moment needs its time zone, as an offset or ``article.timezone``
#: (without one, the deck's dates would depend on the machine: see :func:`_check_times`)
Moment = Annotated[Any, Lax(dt.datetime | dt.date), FieldCheck(_moment)]
ClaimId = Annotated[str, Meta(pattern=anchored(ID_CLAIM))]
FigureId = Annotated[str, Meta(pattern=anchored(ID_FIGURE))]
Decimals = Annotated[int, Meta(ge=0, le=6)]


class Figure(Record, kw_only=True):
    id: FigureId
    value: FigureNumber
    unit: Unit
    approx: bool = False
    qualifier: Qualifier | None = None  # at_least, more_than, under, at_most, about
    decimals: Decimals | None = None  # default: as the value is written
    as_of: Day | None = None
    label: Text | None = None


class Claim(Record, kw_only=True):
    id: ClaimId
    place: Literal["headline", "subhead", "caption", "heading", "body"] = "body"
    para: Annotated[int, Meta(ge=1)] | None = None
    by: str
    kind: Literal["figure", "event", "analysis", "forecast", "analogy", "ranking", "attribution"]
    date: Day | None = None
    date_text: Text | None = None
    text: Text
    short: Text | None = None
    figures: list[Figure] = []


class Derived(Record, kw_only=True):
    id: FigureId
    op: Literal["ratio", "multiple", "change", "difference", "sum", "product"]
    of: Annotated[list[str], Meta(min_length=2)]
    unit: Unit
    reported: list[str] = []
    label: Text | None = None
    decimals: Decimals | None = None


class Check(Record, kw_only=True):
    id: ClaimId
    claim: str
    source: Text
    text: Text
    figures: list[Figure] = []


class ImageRef(Record, kw_only=True):
    id: ClaimId
    path: Annotated[str, Meta(min_length=1)]  # relative to the data file's folder, or assets/
    alt: Text
    credit: Text | None = None


class SummaryPoint(Record, kw_only=True):
    text: Text
    claims: Annotated[list[str], Meta(min_length=1)]


class Section(Record, kw_only=True):
    """A slide of the default outline: a heading, its claims, and what to draw (figure ids)."""

    key: Annotated[str, Meta(pattern=anchored(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"))]
    heading: Text | None = None  # default: deck.headings[key]
    claims: Annotated[list[str], Meta(min_length=1)]
    chart: list[str] = []  # figure ids of one unit: a chart of them
    table: list[str] = []  # figure ids: a table of them
    image: str | None = None  # an image id: the picture beside the claims
    series: Text | None = None  # the chart's series name (default: the heading)
    axis: Text | None = None  # the chart's value axis title
    number_format: Text | None = None  # the chart's number format (default: from the figures)
    notes: Text | None = None  # a first speaker-note line


class DeckText(Record, kw_only=True):
    takeaway: Text
    headings: dict[str, Text] = {}
    summary: list[SummaryPoint] = []
    notes: dict[str, Text] = {}
    sections: list[Section] = []
    words: dict[str, Text] = {}  # the article's own words for its outline (series, axes...)


class Article(Record, kw_only=True):
    outlet: Text
    title: Text
    series: Text | None = None
    section: Text
    reporter: Text
    published: Moment
    updated: Moment | None = None
    timezone: str | None = None  # IANA zone for times written without an offset
    url: str | None = None


class Skipped(Record, kw_only=True):
    """A number of the article deliberately not made a figure (``--article`` coverage)."""

    text: Annotated[str, Meta(min_length=1)]  # as the article writes it, e.g. "2025.01.28."
    reason: Annotated[str, Meta(min_length=1)]


class Briefing(Record, kw_only=True):
    """The validated data file. Built by :func:`load_briefing`, never by hand."""

    schema_: int = msgspec.field(name="schema")
    languages: Annotated[list[str], Meta(min_length=1)]
    template: Annotated[str, Meta(pattern=anchored(r"^[a-z0-9_-]+$"))]
    article: Article
    sources: dict[str, Text]
    claims: Annotated[list[Claim], Meta(min_length=1)]
    derived: list[Derived] = []
    checks: list[Check] = []
    images: list[ImageRef] = []
    skipped: list[Skipped] = []
    deck: DeckText


class FigureValue(msgspec.Struct, frozen=True):
    """A figure as the rest of the pipeline sees it: reported or computed, with its origin."""

    id: str
    value: float
    unit: str
    approx: bool
    origin: str  # claim id, check id, or "derived"
    label: dict[str, str] | None
    decimals: int | None = None  # decimals shown; None: as many as the value has
    as_of: dt.date | None = None
    qualifier: str | None = None  # at_least, more_than, under, at_most

    def text(self, numbers: Numbers) -> str:
        """The figure with its unit, hedge and bound, as a reader of that language expects."""
        return numbers.figure(self.value, self.unit, approx=self.approx,
                              qualifier=self.qualifier, decimals=self.decimals)

    def number(self, numbers: Numbers) -> str:
        """The figure's number alone, without unit or hedge."""
        return numbers.number(self.value, self.decimals, words=False)

    @property
    def shown_decimals(self) -> int:
        return self.decimals if self.decimals is not None else places(exact(self.value))

    def label_in(self, lang: str) -> str:
        """The figure's short label in ``lang``, or its id where it has none."""
        return (self.label or {}).get(lang, self.id)


class ImageFile(msgspec.Struct, frozen=True):
    """An image the data file names, checked: its file, content digest and size in pixels."""

    path: Path
    digest: str
    width_px: int
    height_px: int


class LoadedBriefing(msgspec.Struct, frozen=True):
    """A briefing plus what was computed from it and where each piece sits in the file."""

    path: Path
    briefing: Briefing
    figures: dict[str, FigureValue]
    claim_numbers: dict[str, int]  # claim id -> 1-based number shown in markers and sources
    images: dict[str, ImageFile]  # image id -> checked file
    lines: dict[tuple, int]  # location path -> line number, for later stages' diagnostics
    published: dt.datetime | dt.date  # with its zone resolved (or a date alone)
    updated: dt.datetime | dt.date | None

    def line_of(self, loc: tuple) -> int | None:
        return line_of(self.lines, loc)


# XML 1.0 allows tab, newline, carriage return and most of Unicode; python-pptx fails on the rest.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _walk_strings(obj: Any, loc: tuple = (), keys: bool = False) -> Iterator[tuple[tuple, str]]:
    """Every string in raw YAML data with its location (and every key, with ``keys``)."""
    if isinstance(obj, str):
        yield loc, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if keys and isinstance(k, str):
                yield loc + (k,), k
            yield from _walk_strings(v, loc + (k,), keys)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_strings(v, loc + (i,), keys)


def _walk_texts(model: Any, loc: tuple = ()) -> Iterator[tuple[tuple, dict[str, str]]]:
    """Every translatable text in the model, with its location."""
    if isinstance(model, Record):
        for name, key, kind in _text_fields(type(model)):
            value = getattr(model, name)
            if kind == "text" and isinstance(value, dict):
                yield loc + (key,), value
            elif kind == "texts" and isinstance(value, dict):
                for k, v in value.items():
                    yield loc + (key, k), v
            elif isinstance(value, Record | list):
                yield from _walk_texts(value, loc + (key,))
    elif isinstance(model, list):
        for i, v in enumerate(model):
            yield from _walk_texts(v, loc + (i,))


@functools.cache
def _text_fields(model: type[Record]) -> tuple[tuple[str, str, str], ...]:
    """A record class's fields as (name, key as written, "text" | "texts" | "other"): a pure
    function of the class, worked out once per class instead of at every record walked."""
    return tuple((info.name, info.encode_name,
                  "text" if _has_marker(info.type) else "texts" if _is_text_dict(info.type)
                  else "other")
                 for info in msgspec.structs.fields(model))


def _has_marker(ann: Any) -> bool:
    if getattr(ann, "__metadata__", None) == ("translatable",):
        return True
    return any(_has_marker(a) for a in getattr(ann, "__args__", ()) if a is not type(None)) \
        and getattr(ann, "__origin__", None) is not dict


def _is_text_dict(ann: Any) -> bool:
    args = getattr(ann, "__args__", ())
    return getattr(ann, "__origin__", None) is dict and len(args) == 2 and _has_marker(args[1])


# --------------------------------------------------------------------------------------------
# derived figures


def _compute(op: str, values: list[float]) -> float:
    if op == "ratio":
        return values[0] / values[1] * 100
    if op == "multiple":
        return values[0] / values[1]
    if op == "change":
        return (values[0] - values[1]) / values[1] * 100
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


def agrees(computed: float, reported: float, approx: bool, qualifier: str | None = None) -> bool:
    """True when ``reported`` is ``computed`` rounded or cut to the digits it states, or, for a
    bound ("at least", "more than", "under", "at most"), when ``computed`` keeps it.

    >>> agrees(5.576, 5.5, False), agrees(5.576, 5, False), agrees(5.576, 5.4, False)
    (True, True, False)
    >>> agrees(3.9625, 4, False, "more_than"), agrees(4.2, 4, False, "at_least")
    (False, True)
    """
    slack = 1e-9 * max(1.0, abs(reported))
    bounds = {"at_least": computed >= reported - slack, "more_than": computed > reported + slack,
              "under": computed < reported - slack, "at_most": computed <= reported + slack}
    if qualifier in bounds:
        return bounds[qualifier]
    return abs(computed - reported) < reporting_tolerance(reported, approx) + 1e-9


# --------------------------------------------------------------------------------------------


def load_briefing(path: Path | str, *, strict: bool = False,
                  roots: Roots | None = None) -> tuple[LoadedBriefing, Diagnostics]:
    """Read, validate and cross-check a data file; raise :class:`UserError` listing every problem.

    Returns the briefing and the warnings (derived figures that disagree with reported ones).
    With ``strict`` warnings are errors too. A file that still holds a ``TODO`` (``--init``
    writes them) fails with every TODO listed, and nothing else. Images must lie inside
    ``roots`` (by default the data file's folder and the package's).
    """
    path = Path(path)
    shown = str(path)
    diags = Diagnostics()
    literals: dict[tuple, str] = {}
    raw, lines = read_yaml_file(path, "data file", diags, literals=literals)
    if not isinstance(raw, dict):
        raise UserError([Diagnostic(shown, 1, "", "expected a mapping at the top level (schema, "
                                    "languages, article, sources, claims, deck), got "
                                    f"{type(raw).__name__}")])

    def line(loc: tuple) -> int | None:
        return line_of(lines, loc)

    _refuse_todos(raw, shown, line)
    _check_strings(raw, shown, line, diags)
    briefing = validate(Briefing, raw, lines, shown, diags, _ID_STYLES)
    if briefing is None:
        raise UserError(diags.errors)
    if briefing.schema_ != SCHEMA_VERSION:
        diags.error(shown, line(("schema",)), "schema",
                    f"unsupported schema version; expected {SCHEMA_VERSION}, "
                    f"got {briefing.schema_}")
    _check_languages(briefing, shown, line, diags)
    times = _check_times(briefing.article, shown, line, diags)
    figures, numbers = _check_references(briefing, shown, line, raw, diags, literals)
    images = _check_images(briefing, path, shown, line, diags,
                           roots or Roots.for_build(path))
    # declared ids, loaded or not: an image that could not be read has its own error
    _check_sections(briefing, figures, {i.id for i in briefing.images}, shown, line, raw,
                    diags)
    if not diags.errors:
        _check_derived(briefing, figures, shown, line, diags, strict)
    if diags.errors:
        raise UserError(diags.errors)
    return LoadedBriefing(path, briefing, figures, numbers, images, lines, *times), diags


def _refuse_todos(raw: dict, shown: str, line) -> None:
    """Every TODO left in the file (a key or a value), one problem each; raised together."""
    found = [Diagnostic(shown, line(loc), field_name(loc, raw) if loc else "",
                        f"still a TODO; expected your own words or a value, got {s!r}")
             for loc, s in _walk_strings(raw, keys=True) if TODO.search(s)]
    if found:
        raise UserError(found + [Diagnostic(shown, None, "", f"{len(found)} TODO(s) left; fill "
                                            "them in (see the comment above each claim) and "
                                            "build again")])


def _check_strings(raw: dict, shown: str, line, diags: Diagnostics) -> None:
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


def _check_times(a: Article, shown: str, line, diags: Diagnostics) -> tuple:
    """``published`` and ``updated`` with their zone: an offset as written, else the
    article's ``timezone``; a time with neither is an error (never the machine's zone)."""
    zone = None
    if a.timezone is not None:
        try:
            zone = zoneinfo.ZoneInfo(a.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            diags.error(shown, line(("article", "timezone")), "article.timezone",
                        "unknown time zone; expected an IANA zone like Asia/Seoul or "
                        f"America/New_York, got {a.timezone!r}")
            return a.published, a.updated
    out = []
    for key in ("published", "updated"):
        moment = getattr(a, key)
        if isinstance(moment, dt.datetime) and moment.tzinfo is None:
            if zone is None:
                diags.error(shown, line(("article", key)), f"article.{key}",
                            "time without a UTC offset; expected an offset "
                            "(2025-02-02T08:00:00+09:00) or article.timezone (Asia/Seoul), "
                            f"got {moment.isoformat()}")
            else:
                moment = moment.replace(tzinfo=zone)
        out.append(moment)
    return tuple(out)


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
    return field_name(loc, dump(b))


def _check_references(b: Briefing, path: str, line, raw: dict, diags: Diagnostics,
                      literals: dict[tuple, str]) -> tuple[dict[str, FigureValue],
                                                          dict[str, int]]:
    """Claims, checks and figures: ids unique, every reference resolves, every figure's
    text sensible."""
    figures: dict[str, FigureValue] = {}
    fig_loc: dict[str, tuple] = {}

    def add_figure(f: Figure, origin: str, loc: tuple) -> None:
        if f.id in figures:
            diags.error(path, line(loc + ("id",)), field_name(loc + ("id",), raw),
                        f"duplicate figure id; expected unique ids, got {f.id!r} again "
                        f"(first on line {line(fig_loc[f.id] + ('id',))})")
            return
        decimals = f.decimals if f.decimals is not None else written_decimals(
            literals.get(loc + ("value",), ""))
        figures[f.id] = FigureValue(f.id, f.value, f.unit, f.approx or f.qualifier == "about",
                                    origin, f.label, decimals, f.as_of,
                                    f.qualifier if f.qualifier != "about" else None)
        fig_loc[f.id] = loc
        _check_digits(f.value, decimals, path, line(loc + ("value",)),
                      field_name(loc + ("value",), raw), diags)

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


def written_decimals(literal: str) -> int | None:
    """The decimals a number is written with: ``"2.0"`` has 1, ``"5576000"`` none.

    >>> written_decimals("2.0"), written_decimals("79.20"), written_decimals("5576000")
    (1, 2, None)
    """
    if "." not in literal or "e" in literal.lower():
        return None
    return len(literal.split(".", 1)[1].replace("_", ""))


def _check_digits(value: float, decimals: int | None, path: str, line: int | None, fld: str,
                  diags: Diagnostics) -> None:
    if not math.isfinite(value):
        diags.error(path, line, fld, f"not a number a slide can show; expected a finite value, "
                    f"got {value}")
    elif digit_count(value, decimals) > MAX_DIGITS:
        diags.error(path, line, fld, f"absurd figure: {digit_count(value, decimals)} digits; "
                    f"expected at most {MAX_DIGITS} (a typing error, or the wrong unit?), "
                    f"got {value:g}" + (f" with {decimals} decimals" if decimals else ""))


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


#: slide keys the default outline uses itself
RESERVED_KEYS = frozenset({"title", "summary", "checks", "sources", "sources_intro"})


def _check_sections(b: Briefing, figures: dict[str, FigureValue], images: set[str], path: str,
                    line, raw: dict, diags: Diagnostics) -> None:
    """Sections name claims, figures and images that exist; a chart shows one unit."""
    claims = {c.id for c in b.claims}
    known = set(figures) | {d.id for d in b.derived}
    seen: dict[str, int | None] = {}
    for i, sec in enumerate(b.deck.sections):
        loc = ("deck", "sections", i)

        def err(key: tuple, message: str, loc=loc) -> None:
            diags.error(path, line(loc + key), field_name(loc + key, raw), message)

        if sec.key in seen or sec.key in RESERVED_KEYS:
            err(("key",), f"section key taken; expected a key not in {sorted(RESERVED_KEYS)} "
                f"and used once, got {sec.key!r}")
        seen[sec.key] = line(loc)
        if sec.heading is None and sec.key not in b.deck.headings:
            err(("heading",), f"missing; expected heading: or deck.headings.{sec.key}, "
                "got neither")
        if sum(bool(x) for x in (sec.chart, sec.table, sec.image)) > 1:
            err((), "a section shows one visual; expected one of chart, table, image, got "
                "more than one")
        for j, ref in enumerate(sec.claims):
            if ref not in claims:
                err(("claims", j), "unknown claim; expected a claim id"
                    f"{did_you_mean(ref, claims)}, got {ref!r}")
        for kind in ("chart", "table"):
            for j, ref in enumerate(getattr(sec, kind)):
                if ref not in known:
                    err((kind, j), "unknown figure; expected a figure id"
                        f"{did_you_mean(ref, known)}, got {ref!r}")
        if sec.image is not None and sec.image not in images:
            err(("image",), "unknown image; expected an image id"
                f"{did_you_mean(sec.image, images)}, got {sec.image!r}")
        _check_chart_units(sec, figures, b, err)


def _check_chart_units(sec: Section, figures: dict[str, FigureValue], b: Briefing,
                       err) -> None:
    units = {ref: figures[ref].unit if ref in figures else next(
        (d.unit for d in b.derived if d.id == ref), None) for ref in sec.chart}
    kinds = sorted({u for u in units.values() if u is not None})
    if len(kinds) > 1:
        err(("chart",), f"a chart of figures in different units; expected one unit (a table "
            f"shows mixed units: use table:), got {kinds}")
    elif kinds and kinds[0] in NOT_QUANTITIES:
        err(("chart",), f"a chart of {kinds[0]} figures; expected quantities (use table:), "
            f"got {kinds[0]}")


def derived_decimals(op: str, value: float, inputs: list[FigureValue]) -> int:
    """How many decimals a derived figure shows when the data file does not say: a sum or
    difference keeps its inputs' precision, a product their combined precision, a ratio,
    change or multiple three significant digits (enough to show 3.96x is not 4x).

    >>> derived_decimals("multiple", 3.9625, []), derived_decimals("ratio", 5.576, [])
    (2, 2)
    >>> derived_decimals("multiple", 38.31, []), derived_decimals("ratio", 150.2, [])
    (1, 0)
    """
    if op in ("sum", "difference"):
        return max(f.shown_decimals for f in inputs)
    if op == "product":
        return min(6, sum(f.shown_decimals for f in inputs))
    if value == 0:
        return 0
    whole = math.floor(math.log10(abs(value))) + 1
    return max(0, min(4, 3 - whole))


#: operations with exactly two operands (the others take two or more)
BINARY_OPS = ("ratio", "multiple", "change", "difference")


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
        if d.op in ("ratio", "multiple", "change", "difference", "sum") and len(units) > 1:
            diags.error(path, line(loc + ("of",)), f"derived[{d.id}].of",
                        f"{d.op} of figures in different units; expected one unit, "
                        f"got {sorted(units)}")
            continue
        if d.op in ("ratio", "multiple", "change") and inputs[1].value == 0:
            diags.error(path, line(loc + ("of",)), f"derived[{d.id}].of",
                        f"division by zero; expected a non-zero {inputs[1].id}, got 0")
            continue
        value = _compute(d.op, [f.value for f in inputs])
        fld = f"derived[{d.id}]"
        if not math.isfinite(value) or abs(value) > MAX_FIGURE:
            diags.error(path, line(loc), fld,
                        f"the {d.op} of {', '.join(d.of)} is {value:g}; expected a finite "
                        "result of at most 10^18 in absolute value")
            continue
        decimals = d.decimals if d.decimals is not None else derived_decimals(
            d.op, value, inputs)
        _check_digits(value, decimals, path, line(loc), fld, diags)
        # the figure shows the value rounded as it is written; the check uses all of it
        figures[d.id] = FigureValue(d.id, float(exact(value, decimals)), d.unit,
                                    any(f.approx for f in inputs), "derived", d.label, decimals)
        for j, ref in enumerate(d.reported):
            rep = figures[ref]
            if not agrees(value, rep.value, rep.approx, rep.qualifier):
                (diags.error if strict else diags.warn)(
                    path, line(loc + ("reported", j)), f"{fld}.reported",
                    _disagreement(d, value, ref, rep))


def _disagreement(d: Derived, value: float, ref: str, rep: FigureValue) -> str:
    # plain grouped digits: str() of a normalised Decimal is "1.013E+6"
    shown = f"{exact(float(f'{value:.6g}')):,f}"
    reported = f"{exact(rep.value):,f}"
    if rep.qualifier:
        bound = rep.qualifier.replace("_", " ")
        return (f"computed {d.op} of {', '.join(d.of)} is {shown}, but {ref} reports "
                f"{bound} {reported}; expected the computed value to be {bound} it")
    return (f"computed {d.op} of {', '.join(d.of)} is {shown}, but {ref} reports "
            f"{reported}; expected them to agree within rounding "
            f"(±{exact(reporting_tolerance(rep.value, rep.approx)):,f})")


def check_hedges(loaded: LoadedBriefing, lang: str, numbers: Numbers) -> list[Diagnostic]:
    """Texts that hedge or bound a figure which already does ("약 {fig:x}" where x is
    approximate reads "약 약 81억 원"): one problem each, at the text's line."""
    b = loaded.briefing
    out = []
    for loc, text in _walk_texts(b):
        s = text.get(lang, "")
        for m in FIG_REF.finditer(s):
            f = loaded.figures.get(m.group(1))
            if f is None:
                continue
            words = ([numbers.labels.hedges.about] if f.approx else []) + (
                [getattr(numbers.labels.hedges, f.qualifier)] if f.qualifier else [])
            for pattern in words:
                before, _, after = (w.strip() for w in pattern.partition("{n}"))
                if (before and s[:m.start()].rstrip().endswith(before)) or (
                        after and s[m.end():].lstrip().startswith(after)):
                    word = before or after
                    out.append(Diagnostic(
                        str(loaded.path), loaded.line_of(loc + (lang,)),
                        _dotted_named(loc, b) + f".{lang}",
                        f"{word!r} written next to {{fig:{f.id}}}, which already reads "
                        f"{f.text(numbers)!r}; expected the figure alone (approx: or "
                        f"qualifier: words it), got {s[max(0, m.start() - 12):m.end() + 12]!r}"))
    return out
