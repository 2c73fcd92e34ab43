"""Locale formatting with Babel (numbers, units, ordinals, dates, language tags) and the label
catalogs that give each language its generic words.

Number rules (grouping, decimal marks, compact words like "million" or "万", plural and ordinal
categories) come from CLDR through Babel; unit words, hedges and qualifiers come from the
language's catalog (``templates/labels/<lang>.yaml``). A language with no catalog is an error,
never English by default. Every Babel call passes ``locale=`` explicitly: without it Babel falls
back to the machine's locale. Knows nothing of pptx.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import msgspec
from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal

from .diagnostics import Diagnostic, Diagnostics, UserError
from .resources import labels_dir
from .schema import Record
from .units import QUALIFIERS, UNITS, WORDS_FOR_LARGE
from .yamlsrc import line_of, read_yaml, read_yaml_file, validate

# Korean counts in myriads: 만 (10^4), 억 (10^8), 조 (10^12).
_KO_GROUPS = ((10**12, "조"), (10**8, "억"), (10**4, "만"))
#: at most this many digits in a formatted figure; more is a typing error, not a figure
MAX_DIGITS = 20


def exact(value: float, decimals: int | None = None) -> Decimal:
    """The value as a person wrote it, then rounded half up to ``decimals`` places where given.

    Python's shortest round-trip form is what the data file said; a float with more than 15
    significant digits came from arithmetic, and its last digits are binary noise.

    >>> exact(0.1 + 0.2), exact(9.6 - 2.0), exact(5.576, 2), exact(2, 1), exact(191556.0)
    (Decimal('0.3'), Decimal('7.6'), Decimal('5.58'), Decimal('2.0'), Decimal('191556'))
    """
    d = Decimal(repr(float(value)))
    if len(d.as_tuple().digits) > 15:
        d = Decimal(f"{float(value):.12g}")
    if decimals is None:
        return d.normalize() if d == d.to_integral_value() else d
    return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def places(d: Decimal) -> int:
    """Decimal places a number shows: ``places(Decimal('2.0')) == 1``."""
    exponent = d.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def digit_count(value: float, decimals: int | None = None) -> int:
    """How many digits the plain form of a value has (integer part and decimals).

    >>> digit_count(5_576_000), digit_count(5.576, 2), digit_count(1e25)
    (7, 3, 26)
    """
    d = exact(value, decimals)
    whole = len(str(abs(int(d))))
    return whole + places(d)


def _plain(d: Decimal, locale: str, shown: int) -> str:
    pattern = "#,##0" + ("." + "0" * shown if shown else "")
    return format_decimal(d, format=pattern, locale=locale)


def korean_number(value: float) -> str:
    """A number in Korean myriad groups, each group with thousands separators.

    >>> korean_number(140_000_000_000), korean_number(5_576_000), korean_number(191_556)
    ('1,400억', '557만 6,000', '19만 1,556')
    >>> korean_number(8_100_000_000), korean_number(5000), korean_number(16_300_000_000_000)
    ('81억', '5,000', '16조 3,000억')
    """
    return myriad_number(value, "ko", ("조", "억", "만"), " ")


def myriad_number(value: float, locale: str, words: tuple[str, str, str], sep: str) -> str:
    """A whole number in groups of 10^12, 10^8 and 10^4 named by ``words``, as Korean,
    Japanese and Chinese write large numbers.

    >>> ja = ("兆", "億", "万")
    >>> myriad_number(191_556, "ja", ja, ""), myriad_number(5000, "ja", ja, "")
    ('19万1,556', '5,000')
    """
    d = exact(value)
    if d != d.to_integral_value() or abs(d) < 10**4:
        return _plain(d, locale, places(d))
    n = int(d)
    sign = "-" if n < 0 else ""
    n = abs(n)
    parts = []
    for size, word in zip((10**12, 10**8, 10**4), words, strict=True):
        if n >= size:
            parts.append(format_decimal(n // size, locale=locale) + word)
            n %= size
    if n:
        parts.append(format_decimal(n, locale=locale))
    return sign + sep.join(parts)


def myriad_words(locale: str) -> tuple[str, str, str] | None:
    """CLDR's words for 10^12, 10^8 and 10^4 where the language counts in myriads (万, 億,
    兆), else None.

    >>> myriad_words("ja"), myriad_words("zh_Hant"), myriad_words("en")
    (('兆', '億', '万'), ('兆', '億', '萬'), None)
    """
    patterns = Locale.parse(locale).compact_decimal_formats["long"]["other"]
    found = []
    for key in ("1000000000000", "100000000", "10000"):
        pattern = patterns.get(key)
        if pattern is None or pattern.pattern.count("0") != 1 or pattern.prefix[0]:
            return None
        found.append(_unquote(pattern.suffix[0]).strip())
    return found[0], found[1], found[2]


def compact_number(value: float, locale: str) -> str:
    """A large whole number in the language's own words (CLDR's long compact forms), keeping
    every significant digit the source gave.

    >>> compact_number(5_576_000, "en"), compact_number(140e9, "de")
    ('5.576 million', '140 Milliarden')
    >>> compact_number(5_576_000, "ja"), compact_number(16_300_000_000_000, "en")
    ('557.6万', '16.3 trillion')
    """
    d = exact(value)
    patterns = Locale.parse(locale).compact_decimal_formats["long"]["other"]
    magnitude = max((int(k) for k in patterns if int(k) <= abs(d)), default=0)
    pattern = patterns.get(str(magnitude))
    if pattern is None or "0" not in pattern.pattern:
        return _plain(d, locale, 0)
    divisor = magnitude // 10 ** (pattern.pattern.count("0") - 1)
    scaled = (d / divisor).normalize()
    text = format_decimal(scaled, format="#,##0" + ("." + "#" * places(scaled)
                                                     if places(scaled) else ""), locale=locale)
    prefix, suffix = (_unquote(p[0]) for p in (pattern.prefix, pattern.suffix))
    return prefix + text + suffix


def _unquote(text: str) -> str:
    return text.replace("''", "\0").replace("'", "").replace("\0", "'")


# ------------------------------------------------------------------------------------------
# the label catalog


class Plural(Record, kw_only=True):
    """A word pattern by CLDR plural (or, for ranks, ordinal) category; ``other`` is required,
    and a plain string is ``other`` alone.

    English ``{one: "{n} person", other: "{n} people"}``; ordinals ``{one: "{n}st", two:
    "{n}nd", few: "{n}rd", other: "{n}th"}``.
    """

    zero: str | None = None
    one: str | None = None
    two: str | None = None
    few: str | None = None
    many: str | None = None
    other: str

    @classmethod
    def before(cls, raw: Any) -> Any:
        return {"other": raw} if isinstance(raw, str) else raw

    def pick(self, category: str) -> str:
        return getattr(self, category, None) or self.other


Pattern = Plural

#: one word pattern per unit (``{n} people``, ``USD {n}``), with ``{n}`` for the number
Units = msgspec.defstruct("Units", [(u, Pattern) for u in UNITS], bases=(Record,),
                          kw_only=True, module=__name__)
#: a figure's hedge or bound around its text: ``about {n}``, ``{n} 이상``
Hedges = msgspec.defstruct("Hedges", [(q, str) for q in QUALIFIERS], bases=(Record,),
                           kw_only=True, module=__name__)


class Labels(Record, kw_only=True):
    """A label catalog (``templates/labels/<lang>.yaml``): the generic words of a deck, the
    words of its numbers (``units``, ``hedges``) and the headings of the default outline.

    Patterns use ``{name}`` fields; :data:`PATTERN_FIELDS` lists the names each may use.
    Frozen: a template can read labels, never change them.
    """

    cont: str
    page: str
    col_no: str
    col_claim: str
    col_who: str
    col_where: str
    col_source: str
    col_note: str
    col_item: str
    col_value: str
    para: str
    place_headline: str
    place_subhead: str
    place_caption: str
    place_heading: str
    citation: str
    citation_updated: str
    footer: str
    footer_short: str | None = None  # where the footer has no room for the long one
    said_by: str
    claim_marker: str
    merge_conflicts: str  # heads the hand's text a merge keeps in the speaker notes
    approx_note: str
    key_points: str
    checks: str
    sources: str
    units: Units  # type: ignore[valid-type]
    hedges: Hedges  # type: ignore[valid-type]

    def place(self, place: str) -> str:
        """Where in the article a non-body claim sits (headline, subhead...)."""
        return getattr(self, f"place_{place}")


#: the ``{fields}`` each label pattern may use; labels not listed take none. Every pattern
#: under ``units`` and ``hedges`` takes ``{n}``.
PATTERN_FIELDS: dict[str, frozenset[str]] = {
    "page": frozenset({"n", "total"}),
    "para": frozenset({"n"}),
    "citation": frozenset({"outlet", "title", "reporter", "published"}),
    "citation_updated": frozenset({"outlet", "title", "reporter", "published", "updated"}),
    "footer": frozenset({"outlet", "date"}),
    "footer_short": frozenset({"outlet", "date"}),
    "said_by": frozenset({"who", "where"}),
    "claim_marker": frozenset({"n"}),
    "units": frozenset({"n"}),
    "hedges": frozenset({"n"}),
}


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
                                    f"{have}, or add {path.name} (copy en.yaml and translate "
                                    "it: unit words are never taken from another language)")])
    raw, lines = (read_yaml(text, str(path), diags) if text is not None
                  else read_yaml_file(path, "label catalog", diags))
    if not isinstance(raw, dict):
        raise UserError([Diagnostic(str(path), 1, "", "expected a mapping of label: text, got "
                                    f"{type(raw).__name__}")])
    labels = validate(Labels, raw, lines, str(path), diags)
    if labels is not None:
        for loc, value in _patterns(raw):
            _check_pattern(loc, value, str(path), lines, diags)
    if diags.errors or labels is None:
        raise UserError(diags.errors)
    return labels


def _patterns(raw: dict, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every pattern string of a catalog with its location (nested under units and hedges)."""
    out = []
    for key, value in raw.items():
        if isinstance(value, dict):
            out += _patterns(value, loc + (key,))
        elif isinstance(value, str):
            out.append((loc + (key,), value))
    return out


def _check_pattern(loc: tuple, value: str, path: str, lines: dict, diags: Diagnostics) -> None:
    allowed = PATTERN_FIELDS.get(loc[0], frozenset())
    try:
        used = pattern_fields(value)
    except ValueError as exc:
        why = f"bad pattern ({exc})"
    else:
        extra, missing = used - allowed, (allowed - used if len(loc) > 1 else set())
        why = (f"pattern uses {', '.join(sorted(extra))}" if extra else
               f"pattern lacks {', '.join(sorted(missing))}" if missing else "")
    if why:
        names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "no {fields}"
        diags.error(path, line_of(lines, loc), ".".join(map(str, loc)),
                    f"{why}; expected {names}, got {value!r}")


# ------------------------------------------------------------------------------------------
# figures in one language


class Numbers:
    """Formats numbers and figures for one language: CLDR's rules through Babel, the words of
    the language's catalog.

    >>> ko, en = Numbers("ko", _catalog("ko")), Numbers("en", _catalog("en"))
    >>> ko.figure(140e9, "KRW", approx=True), en.figure(140e9, "KRW", approx=True)
    ('약 1,400억 원', 'about KRW 140 billion')
    >>> ko.figure(10, "percent", qualifier="at_least"), en.figure(2, "rank")
    ('10% 이상', '2nd')
    """

    def __init__(self, lang: str, labels: Labels):
        self.lang = lang
        self.locale = babel_locale(lang)
        self.labels = labels
        self._ko = self.locale.startswith("ko")

    @functools.cached_property
    def _myriads(self) -> tuple[str, str, str] | None:
        """The myriad words, where the language counts in them: 19万1,556 (Korean adds
        spaces, 19만 1,556, in its own code). Looked up at the first number that needs them:
        the lookup loads the language's CLDR data (15 ms), and a build that only checks its
        inputs (the process that reads them) formats no number."""
        return None if self._ko else myriad_words(self.locale)

    def number(self, value: float, decimals: int | None = None, *, words: bool = True) -> str:
        """A bare number: myriad groups in Korean, CLDR's words for large whole numbers
        elsewhere (``words``), else grouped digits with the given decimals."""
        d = exact(value, decimals)
        if words and d == d.to_integral_value() and places(d) == 0:
            if self._ko:
                return korean_number(float(d))
            if self._myriads is not None:
                return myriad_number(float(d), self.locale, self._myriads, "")
            if abs(d) >= 10**6:
                return compact_number(float(d), self.locale)
        return _plain(d, self.locale, places(d))

    def figure(self, value: float, unit: str, *, approx: bool = False,
               qualifier: str | None = None, decimals: int | None = None) -> str:
        """A figure with its unit word, hedge (``approx``) and bound (``qualifier``)."""
        d = exact(value, decimals)
        if unit == "year":
            num = str(int(d))
        else:
            num = self.number(value, decimals, words=unit in WORDS_FOR_LARGE)
        text = fill(self.unit_pattern(unit, d), n=num)
        if approx:
            text = fill(self.labels.hedges.about, n=text)
        if qualifier and qualifier != "about":
            text = fill(getattr(self.labels.hedges, qualifier), n=text)
        return text

    def unit_pattern(self, unit: str, d: Decimal | float = 2) -> str:
        """The catalog's pattern for ``unit``, in the plural (or ordinal) form ``d`` takes."""
        pattern = getattr(self.labels.units, unit)
        loc = Locale.parse(self.locale)
        category = loc.ordinal_form(int(d)) if unit == "rank" else loc.plural_form(d)
        return pattern.pick(category)


def _catalog(lang: str) -> Labels:
    """A bundled catalog, for the examples in this module's docstrings."""
    return read_labels(labels_dir() / f"{lang}.yaml")


# ------------------------------------------------------------------------------------------
# dates


def format_day(day: dt.date, lang: str) -> str:
    """A date in the language's long form.

    >>> format_day(dt.date(2025, 1, 28), "ko"), format_day(dt.date(2025, 1, 28), "en")
    ('2025년 1월 28일', 'January 28, 2025')
    """
    return format_date(day, format="long", locale=babel_locale(lang))


def format_short_day(day: dt.date, lang: str) -> str:
    """A month and day, for chart categories (CLDR's ``MMMd`` skeleton).

    >>> format_short_day(dt.date(2025, 1, 28), "ko"), format_short_day(dt.date(2025, 1, 28), "en")
    ('1월 28일', 'Jan 28')
    """
    return format_skeleton("MMMd", day, locale=babel_locale(lang))


def format_timestamp(moment: dt.datetime | dt.date, lang: str) -> str:
    """A publication time in the article's own time zone, with the offset shown; a date alone
    (the article gave no time) as a date.

    >>> t = dt.datetime(2025, 2, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    >>> format_timestamp(t, "ko"), format_timestamp(t, "en")
    ('2025년 2월 2일 08:00 (UTC+9)', 'February 2, 2025, 08:00 (UTC+9)')
    >>> format_timestamp(dt.date(2024, 6, 3), "en")
    'June 3, 2024'
    """
    if not isinstance(moment, dt.datetime):
        return format_day(moment, lang)
    if moment.tzinfo is None:
        raise ValueError("a timestamp without a UTC offset has no place in a deck")
    offset = moment.utcoffset() or dt.timedelta(0)
    hours = offset.total_seconds() / 3600
    zone = f"UTC{hours:+g}" if hours else "UTC"
    locale = babel_locale(lang)
    pattern = {"ko": "y년 M월 d일 HH:mm", "en": "MMMM d, y, HH:mm"}.get(
        locale.split("_")[0])
    if pattern is None:  # another language: CLDR's long date, then the time
        clock = format_datetime(moment, "HH:mm", tzinfo=moment.tzinfo, locale=locale)
        shown = f"{format_day(moment.date(), lang)} {clock}"
    else:
        shown = format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=locale)
    return f"{shown} ({zone})"


# ------------------------------------------------------------------------------------------
# languages


def load_locale(lang: str) -> None:
    """Load Babel's data for ``lang`` (and its parents) now, where a language's processes,
    forked later, find it loaded: 15-30 ms a locale (its CLDR data unpickled and merged).
    A tag Babel does not know is left for the build to report."""
    from babel import UnknownLocaleError, localedata

    try:
        localedata.load(babel_locale(lang))
    except (UnknownLocaleError, ValueError, TypeError, OSError):
        pass


def babel_locale(lang: str) -> str:
    """The Babel locale id of a BCP-47 tag: ``zh-Hant`` -> ``zh_Hant``."""
    return str(Locale.parse(lang.replace("-", "_")))


def lang_tag(lang: str) -> str:
    """The tag PowerPoint wants on a run: language and region, from CLDR's likely subtags.
    Chinese is tagged by region alone (PowerPoint knows zh-TW, not zh-Hant).

    >>> lang_tag("ko"), lang_tag("en"), lang_tag("en-GB"), lang_tag("ja")
    ('ko-KR', 'en-US', 'en-GB', 'ja-JP')
    >>> lang_tag("zh-Hant"), lang_tag("zh-Hans"), lang_tag("zh"), lang_tag("sr-Latn")
    ('zh-TW', 'zh-CN', 'zh-CN', 'sr-Latn-RS')
    """
    loc = Locale.parse(lang.replace("-", "_"))
    likely = get_global("likely_subtags")
    full = likely.get(str(loc)) or likely.get(loc.language) or str(loc)
    parts = full.split("_")
    region = loc.territory or next((p for p in parts[1:] if len(p) == 2 or p.isdigit()), None)
    script = loc.script if loc.language != "zh" else None
    return "-".join(p for p in (loc.language, script, region) if p)


def is_rtl(lang: str) -> bool:
    """True where the language is written right to left (CLDR's character order).

    >>> is_rtl("ar"), is_rtl("he-IL"), is_rtl("ko")
    (True, True, False)
    """
    return Locale.parse(lang.replace("-", "_")).character_order == "right-to-left"

