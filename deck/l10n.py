"""Locale formatting with Babel (numbers, money, dates, Korean 만/억 grouping) and UI labels.

Every call passes ``locale=`` explicitly: without it Babel falls back to the machine's locale.
Knows nothing of pptx.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_compact_decimal, format_decimal
from pydantic import BaseModel, ConfigDict

from .diagnostics import Diagnostic, Diagnostics, UserError
from .yamlsrc import line_of, read_yaml, read_yaml_file, validate

# Korean counts in myriads: 만 (10^4), 억 (10^8), 조 (10^12).
_KO_GROUPS = ((10**12, "조"), (10**8, "억"), (10**4, "만"))


def _digits(value: float) -> Decimal:
    """The value as the data file states it (no binary float noise)."""
    return Decimal(repr(float(value))).normalize()


def _plain(value: float | Decimal, locale: str, decimals: int | None = None) -> str:
    d = _digits(float(value)) if decimals is None else Decimal(str(value)).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    exp = d.as_tuple().exponent
    shown = max(0, -exp) if isinstance(exp, int) else 0
    pattern = "#,##0" + ("." + "0" * shown if shown else "")
    return format_decimal(d, format=pattern, locale=locale)


def korean_number(value: float) -> str:
    """A number in Korean myriad groups, each group with thousands separators.

    >>> korean_number(140_000_000_000), korean_number(5_576_000), korean_number(191_556)
    ('1,400억', '557만 6,000', '19만 1,556')
    >>> korean_number(8_100_000_000), korean_number(5000), korean_number(34_000_000_000)
    ('81억', '5,000', '340억')
    """
    d = _digits(value)
    if d != d.to_integral_value() or abs(d) < 10**4:
        return _plain(d, "ko")
    n = int(d)
    sign = "-" if n < 0 else ""
    n = abs(n)
    parts = []
    for size, word in _KO_GROUPS:
        if n >= size:
            parts.append(format_decimal(n // size, locale="ko") + word)
            n %= size
    if n:
        parts.append(format_decimal(n, locale="ko"))
    return sign + " ".join(parts)


def english_number(value: float) -> str:
    """A large number in words the way English briefings write it.

    >>> english_number(140_000_000_000), english_number(5_576_000), english_number(191_556)
    ('140 billion', '5.576 million', '191,556')
    """
    d = _digits(value)
    if abs(d) < 10**6 or d != d.to_integral_value():
        return _plain(d, "en")
    # keep every significant digit the source gave (5.576 million, not 5.6 million)
    sig = len(d.as_tuple().digits)
    magnitude = len(str(abs(int(d)))) - 1
    fraction_digits = max(0, sig - (magnitude % 3 + 1))
    return format_compact_decimal(d, format_type="long", locale="en",
                                  fraction_digits=fraction_digits)


def format_number(value: float, lang: str, *, decimals: int | None = None) -> str:
    """A bare number in the language's style.

    >>> format_number(1450, "ko"), format_number(1450, "en"), format_number(5.576, "en", decimals=2)
    ('1,450', '1,450', '5.58')
    """
    return _plain(value, _locale(lang), decimals)


def format_figure(value: float, unit: str, lang: str, *, approx: bool = False,
                  decimals: int | None = None) -> str:
    """A figure with its unit, as a reader of that language expects it.

    >>> format_figure(140e9, "KRW", "ko", approx=True)
    '약 1,400억 원'
    >>> format_figure(140e9, "KRW", "en", approx=True)
    'about KRW 140 billion'
    >>> format_figure(5_576_000, "USD", "ko"), format_figure(5_576_000, "USD", "en")
    ('557만 6,000 달러', 'USD 5.576 million')
    >>> format_figure(191_556, "people", "ko"), format_figure(191_556, "people", "en")
    ('19만 1,556명', '191,556 people')
    >>> format_figure(5.576, "percent", "en", decimals=2), format_figure(2, "rank", "en")
    ('5.58%', '2nd')
    """
    loc = _locale(lang)
    ko = loc.startswith("ko")
    num = _plain(value, loc, decimals) if decimals is not None else (
        korean_number(value) if ko else english_number(value))
    if ko:
        text = {
            "USD": f"{num} 달러", "KRW": f"{num} 원", "percent": f"{_pct(value, loc, decimals)}",
            "people": f"{num}명", "parameters": f"{num} 개", "rank": f"{num}위",
            "year": f"{int(value)}년", "count": f"{num}", "gpu_hours": f"{num} GPU시간",
            "usd_per_hour": f"시간당 {num} 달러", "multiple": f"{num}배", "score": num,
        }[unit]
        return f"약 {text}" if approx else text
    text = {
        "USD": f"USD {num}", "KRW": f"KRW {num}", "percent": _pct(value, loc, decimals),
        "people": f"{num} people", "parameters": num, "rank": _ordinal(int(value), loc),
        "year": str(int(value)), "count": num, "gpu_hours": f"{num} GPU hours",
        "usd_per_hour": f"USD {num} per hour", "multiple": f"{num}x", "score": num,
    }[unit]
    return f"about {text}" if approx else text


def _pct(value: float, locale: str, decimals: int | None) -> str:
    return _plain(value, locale, decimals) + "%"


def _ordinal(n: int, locale: str) -> str:
    form = Locale.parse(locale).ordinal_form(n)
    return f"{n}" + {"one": "st", "two": "nd", "few": "rd"}.get(form, "th")


def format_day(day: dt.date, lang: str) -> str:
    """A date in the language's long form.

    >>> format_day(dt.date(2025, 1, 28), "ko"), format_day(dt.date(2025, 1, 28), "en")
    ('2025년 1월 28일', 'January 28, 2025')
    """
    return format_date(day, format="long", locale=_locale(lang))


def format_short_day(day: dt.date, lang: str) -> str:
    """A month and day, for chart categories.

    >>> format_short_day(dt.date(2025, 1, 28), "ko"), format_short_day(dt.date(2025, 1, 28), "en")
    ('1월 28일', 'Jan 28')
    """
    pattern = "M월 d일" if lang.startswith("ko") else "MMM d"
    return format_date(day, format=pattern, locale=_locale(lang))


def format_timestamp(moment: dt.datetime, lang: str) -> str:
    """A publication time in the article's own time zone, with the offset shown.

    >>> t = dt.datetime(2025, 2, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    >>> format_timestamp(t, "ko"), format_timestamp(t, "en")
    ('2025년 2월 2일 08:00 (UTC+9)', 'February 2, 2025, 08:00 (UTC+9)')
    """
    offset = moment.utcoffset() or dt.timedelta(0)
    hours = offset.total_seconds() / 3600
    zone = f"UTC{hours:+g}" if hours else "UTC"
    pattern = "y년 M월 d일 HH:mm" if lang.startswith("ko") else "MMMM d, y, HH:mm"
    shown = format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=_locale(lang))
    return f"{shown} ({zone})"


def _locale(lang: str) -> str:
    return str(Locale.parse(lang.replace("-", "_")))


def lang_tag(lang: str) -> str:
    """The BCP-47 tag PowerPoint wants on a run: ``ko`` -> ``ko-KR``, ``en`` -> ``en-US``.

    >>> lang_tag("ko"), lang_tag("en"), lang_tag("en-GB")
    ('ko-KR', 'en-US', 'en-GB')
    """
    loc = Locale.parse(lang.replace("-", "_"))
    # CLDR's likely subtags give each bare language its usual region (ko -> KR, en -> US).
    territory = loc.territory or Locale.parse(loc.language).territory or _LIKELY.get(loc.language)
    return f"{loc.language}-{territory}" if territory else loc.language


_LIKELY = {"ko": "KR", "en": "US", "ja": "JP", "zh": "CN", "de": "DE", "fr": "FR"}


#: the widest field a format spec may ask for ({n:>1000}, {x:.1000f}, %1000d)
MAX_FORMAT_WIDTH = 1000


def format_spec_problem(spec: str) -> str | None:
    """What is wrong with a format spec's width or precision, or None. A width is a size to
    allocate: ``{n:>2000000000}`` asks for two billion characters.

    >>> format_spec_problem(">4"), format_spec_problem(".2f"), format_spec_problem(">2000000000")
    (None, None, 'width or precision 2000000000 too large; expected at most 1000')
    >>> format_spec_problem("{w}")
    'a width taken from a value; expected a fixed width'
    """
    if "{" in spec or "*" in spec:
        return "a width taken from a value; expected a fixed width"
    digits = "".join(c if c.isdigit() else " " for c in spec).split()
    wide = [d for d in digits if len(d) > 4 or int(d) > MAX_FORMAT_WIDTH]
    if wide:
        return f"width or precision {wide[0]} too large; expected at most {MAX_FORMAT_WIDTH}"
    return None


class _NamesOnly(string.Formatter):
    """``str.format`` for label patterns, without attribute or index access (sandbox-safe),
    and without widths that would allocate more than a label could ever need."""

    def get_field(self, field_name: str, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"label pattern field {{{field_name}}}: expected a plain name")
        return self.get_value(field_name, args, kwargs), field_name

    def format_field(self, value: object, format_spec: str) -> str:
        problem = format_spec_problem(format_spec)
        if problem:
            raise ValueError(f"format spec {format_spec!r}: {problem}")
        return super().format_field(value, format_spec)


def fill(pattern: str, **values: object) -> str:
    """Fill a label pattern: ``fill("{n}/{total}", n=1, total=3) == "1/3"``."""
    return _NamesOnly().vformat(pattern, (), values)


class Labels(BaseModel):
    """A label catalog (``templates/labels/<lang>.yaml``): the generic words of a deck.

    Patterns use ``{name}`` fields; :data:`PATTERN_FIELDS` lists the names each may use.
    Frozen: a template can read labels, never change them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cont: str
    page: str
    col_no: str
    col_claim: str
    col_who: str
    col_where: str
    col_source: str
    col_note: str
    col_move: str
    col_reported: str
    para: str
    place_headline: str
    place_subhead: str
    place_caption: str
    place_heading: str
    citation: str
    footer: str
    said_by: str
    claim_marker: str
    falls: str
    rises: str
    threshold_at_least: str
    approx_note: str
    moe_input: str
    moe_router: str
    moe_expert: str
    moe_output: str
    moe_alt: str
    nf_usd: str
    nf_people: str
    nf_percent: str
    nf_params: str
    axis_usd_log: str
    axis_percent: str
    axis_params: str
    axis_people: str
    series_cost: str
    series_aime: str
    series_users: str
    series_params: str

    def place(self, place: str) -> str:
        """Where in the article a non-body claim sits (headline, subhead...)."""
        return getattr(self, f"place_{place}")


#: the ``{fields}`` each label pattern may use; labels not listed take none
PATTERN_FIELDS: dict[str, frozenset[str]] = {
    "page": frozenset({"n", "total"}),
    "para": frozenset({"n"}),
    "citation": frozenset({"outlet", "title", "reporter", "published", "updated"}),
    "footer": frozenset({"outlet", "date"}),
    "said_by": frozenset({"who", "where"}),
    "claim_marker": frozenset({"n"}),
    "threshold_at_least": frozenset({"value"}),
    "moe_expert": frozenset({"n"}),
    "moe_alt": frozenset({"active", "total"}),
}


def pattern_fields(pattern: str) -> set[str]:
    """The ``{names}`` a label pattern uses; raises ValueError on unbalanced braces and on a
    format spec :func:`format_spec_problem` refuses.

    >>> sorted(pattern_fields("{n}/{total}")), pattern_fields("plain {{braces}}")
    (['n', 'total'], set())
    """
    names = set()
    for _, name, spec, _ in string.Formatter().parse(pattern):
        if name is None:
            continue
        problem = format_spec_problem(spec or "")
        if problem:
            raise ValueError(f"{{{name}:{spec}}}: {problem}")
        names.add(name)
    return names


def claim_markers(numbers: dict[str, int], labels: Labels) -> dict[str, str]:
    """Each claim's marker (``[3]``), by claim id: the one place markers are made."""
    return {cid: fill(labels.claim_marker, n=n) for cid, n in numbers.items()}


def read_labels(path: Path, text: str | None = None) -> Labels:
    """Read and check a label catalog (``text`` if given, else read from ``path``); raise
    :class:`UserError` naming the file and line of every problem (YAML, a missing or unknown
    key, a pattern field the label cannot fill, a width past :data:`MAX_PATTERN_WIDTH`)."""
    diags = Diagnostics()
    if text is None and not path.is_file():
        have = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise UserError([Diagnostic(str(path), None, "languages",
                                    f"no label catalog for {path.stem!r}; expected one of "
                                    f"{have}, or add {path.name}")])
    raw, lines = (read_yaml(text, str(path), diags) if text is not None
                  else read_yaml_file(path, "label catalog", diags))
    if not isinstance(raw, dict):
        raise UserError([Diagnostic(str(path), 1, "", "expected a mapping of label: text, got "
                                    f"{type(raw).__name__}")])
    labels = validate(Labels, raw, lines, str(path), diags)
    for key, value in raw.items() if labels is not None else ():
        allowed = PATTERN_FIELDS.get(key, frozenset())
        try:
            extra = pattern_fields(value) - allowed
        except ValueError as exc:
            extra, why = None, f"bad pattern ({exc})"
        else:
            why = f"pattern uses {', '.join(sorted(extra))}" if extra else ""
        if why:
            names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "no {fields}"
            diags.error(str(path), line_of(lines, (key,)), key,
                        f"{why}; expected {names}, got {value!r}")
    if diags.errors or labels is None:
        raise UserError(diags.errors)
    return labels
