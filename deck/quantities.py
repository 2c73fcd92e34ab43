"""Numbers and dates in an article's own words, Korean and English: "557만6000달러", "약 81억원",
"5000여명", "10% 이상", "$5.576 million", "more than 4x", "지난달 20일", "March 20".

Used by ``--init`` (figures found and typed in the stub) and ``--article`` (coverage). Pure
text work: knows nothing of the data file, Jinja or pptx.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_KO_SCALES = {"조": 10**12, "억": 10**8, "만": 10**4, "천": 10**3}
_EN_SCALES = {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6, "mn": 10**6,
              "billion": 10**9, "bn": 10**9, "b": 10**9, "trillion": 10**12, "tn": 10**12}

#: Korean unit words after a number, and the unit each means (None: a count of things)
_KO_UNITS = {
    "%포인트": "percentage_points", "%p": "percentage_points", "%P": "percentage_points",
    "퍼센트포인트": "percentage_points", "%": "percent", "퍼센트": "percent", "달러": "USD",
    "원": "KRW", "엔": "JPY", "유로": "EUR", "위안": "CNY", "파운드": "GBP", "명": "people",
    "배": "multiple", "위": "rank", "개": "count", "대": "count", "곳": "count", "건": "count",
    "시간": "count", "년": "year",
}
_KO_HEDGES = ("여", "가량", "남짓", "정도", "안팎", "가까이")
_KO_BOUNDS = {"이상": "at_least", "초과": "more_than", "넘게": "more_than", "넘는": "more_than",
              "넘어": "more_than", "미만": "under", "이하": "at_most"}
_EN_BEFORE = {"about": "about", "around": "about", "roughly": "about", "approximately": "about",
              "nearly": "about", "almost": "about", "some": "about", "more than": "more_than",
              "over": "more_than", "at least": "at_least", "less than": "under",
              "fewer than": "under", "under": "under", "up to": "at_most", "at most": "at_most"}
_EN_UNITS = {
    "percentage points": "percentage_points", "percentage point": "percentage_points",
    "points": "percentage_points", "%": "percent", "percent": "percent", "per cent": "percent",
    "x": "multiple", "times": "multiple", "-fold": "multiple", "fold": "multiple",
    "people": "people", "users": "people", "riders": "people", "employees": "people",
    "workers": "people", "residents": "people", "won": "KRW", "dollars": "USD", "yen": "JPY",
    "euros": "EUR", "stations": "count", "units": "count", "cells": "count",
}
_EN_CURRENCY = {"$": "USD", "US$": "USD", "USD": "USD", "KRW": "KRW", "₩": "KRW", "€": "EUR",
                "EUR": "EUR", "£": "GBP", "GBP": "GBP", "¥": "JPY", "JPY": "JPY"}

_MONTHS = {m: i for i, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for m in names}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"


@dataclass(frozen=True)
class Quantity:
    """A number the article states: where, as written, and what it means."""

    start: int
    end: int
    text: str  # as the article writes it
    written: Decimal  # the value with the decimals the article writes ("2.0" stays 2.0)
    unit: str | None  # None where the article gives no unit word
    approx: bool = False
    qualifier: str | None = None

    @property
    def value(self) -> float:
        return float(self.written)


@dataclass(frozen=True)
class DateMention:
    """A date the article states, resolved against its publication date."""

    start: int
    end: int
    text: str
    day: dt.date
    precision: str  # "day" or "month"

    def matches(self, other: dt.date) -> bool:
        if self.precision == "month":
            return (other.year, other.month) == (self.day.year, self.day.month)
        return other == self.day


def _value(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _scaled(value: Decimal, scale: int) -> Decimal:
    """``value`` times ``scale``, without the decimals a scale word makes meaningless."""
    if scale == 1:
        return value
    out = (value * scale).normalize()
    return out.quantize(Decimal(1)) if out == out.to_integral_value() else out


# ------------------------------------------------------------------------------------------
# dates


_KO_DATES = [
    (re.compile(r"(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})\.?"), "ymd"),
    (re.compile(r"(\d{4})년\s*(\d{1,2})월(?:\s*(\d{1,2})일)?"), "ymd"),
    (re.compile(r"(지난해|작년|올해|내년)\s*(\d{1,2})월(?:\s*(\d{1,2})일)?"), "rel-year"),
    (re.compile(r"(지난달|이달|이번\s?달|다음\s?달)\s*(\d{1,2})일"), "rel-month"),
    (re.compile(r"(?<![\d.])(\d{1,2})월\s*(\d{1,2})일"), "md"),
    (re.compile(r"(?<![\d.,])(\d{1,2})일(?!\s*(?:간|동안|만에))"), "d"),
]
_EN_DATES = [
    (re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?", re.I),
     "en-md"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})(?:\s+(\d{{4}}))?", re.I), "en-dm"),
    (re.compile(rf"\b(?:last|in|this)\s+({_MONTH})(?:\s+(\d{{4}}))?\b", re.I), "en-m"),
    (re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b", re.I), "d"),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
]


def find_dates(text: str, published: dt.date | None) -> list[DateMention]:
    """Dates in ``text``, relative ones ("지난달 20일", "25일", "last December") resolved
    against ``published``; a day or month with no year is the latest one not after it.
    Without ``published`` only dates that give their year are read.

    >>> p = dt.date(2025, 2, 2)
    >>> [(d.text, str(d.day), d.precision) for d in find_dates("지난달 20일과 지난해 12월", p)]
    [('지난달 20일', '2025-01-20', 'day'), ('지난해 12월', '2024-12-01', 'month')]
    >>> [str(d.day) for d in find_dates("지난 25일 5000여명, 28일 19만명", p)]
    ['2025-01-25', '2025-01-28']
    >>> [str(d.day) for d in find_dates("on March 20 and last December", dt.date(2025, 4, 2))]
    ['2025-03-20', '2024-12-01']
    """
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _KO_DATES + _EN_DATES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            resolved = _resolve(kind, m.groups(), published)
            if resolved is not None:
                taken.append(m.span())
                found.append(DateMention(m.start(), m.end(), m.group(), *resolved))
    return sorted(found, key=lambda d: d.start)


def _resolve(kind: str, g: tuple, published: dt.date | None) -> tuple[dt.date, str] | None:
    if published is None:
        return _absolute(kind, g)
    try:
        if kind == "ymd":
            return dt.date(int(g[0]), int(g[1]), int(g[2] or 1)), "day" if g[2] else "month"
        if kind == "rel-year":
            year = published.year + {"지난해": -1, "작년": -1, "올해": 0, "내년": 1}[g[0]]
            return dt.date(year, int(g[1]), int(g[2] or 1)), "day" if g[2] else "month"
        if kind == "rel-month":
            shift = -1 if g[0] == "지난달" else (1 if g[0].startswith("다음") else 0)
            y, mth = divmod(published.year * 12 + published.month - 1 + shift, 12)
            return dt.date(y, mth + 1, int(g[1])), "day"
        if kind in ("md", "en-md", "en-dm"):
            month, day, year = ((g[0], g[1], g[2]) if kind != "en-dm" else (g[1], g[0], g[2]))
            month_n = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
            return _latest(published, month_n, int(day), year), "day"
        if kind == "en-m":
            month_n = _MONTHS[g[0].lower().rstrip(".")]
            return _latest(published, month_n, 1, g[1]), "month"
        return _latest_day(published, int(g[0])), "day"  # "d": a day of a recent month
    except ValueError:  # not a calendar date (e.g. "31일" in February)
        return None


def _absolute(kind: str, g: tuple) -> tuple[dt.date, str] | None:
    """A date that gives its year, read without a publication date."""
    try:
        if kind == "ymd":
            return dt.date(int(g[0]), int(g[1]), int(g[2] or 1)), "day" if g[2] else "month"
        if kind in ("en-md", "en-dm") and g[2]:
            month, day = (g[0], g[1]) if kind == "en-md" else (g[1], g[0])
            return dt.date(int(g[2]), _MONTHS[month.lower().rstrip(".")], int(day)), "day"
    except ValueError:
        return None
    return None


def _latest(published: dt.date, month: int, day: int, year: str | None) -> dt.date:
    if year:
        return dt.date(int(year), month, day)
    candidate = dt.date(published.year, month, day)
    return candidate if candidate <= published else dt.date(published.year - 1, month, day)


def _latest_day(published: dt.date, day: int) -> dt.date:
    if day <= published.day:
        return published.replace(day=day)
    y, m = divmod(published.year * 12 + published.month - 2, 12)
    return dt.date(y, m + 1, day)


# ------------------------------------------------------------------------------------------
# numbers


_KO_GROUP = rf"(?:{_NUM})\s*[조억만천]"
_KO_QUANTITY = re.compile(
    rf"(?P<before>약\s*)?"
    rf"(?P<num>{_KO_GROUP}(?:\s*{_KO_GROUP})*(?:\s*(?:{_NUM}))?|{_NUM})"
    rf"(?P<hedge>\s*(?:{'|'.join(_KO_HEDGES)}))?"
    rf"(?P<unit>\s*(?:{'|'.join(re.escape(u) for u in sorted(_KO_UNITS, key=len, reverse=True))}))?"
    rf"(?P<hedge2>\s*(?:{'|'.join(_KO_HEDGES)}))?"
    rf"(?P<bound>\s*(?:{'|'.join(_KO_BOUNDS)}))?")
_EN_QUANTITY = re.compile(
    rf"(?P<before>\b(?:{'|'.join(sorted(_EN_BEFORE, key=len, reverse=True))})\s+)?"
    rf"(?P<currency>US\$|\$|USD\s?|KRW\s?|₩|€|EUR\s?|£|GBP\s?|¥|JPY\s?)?"
    rf"(?P<num>{_NUM})"
    rf"(?P<scale>\s?(?:{'|'.join(sorted(_EN_SCALES, key=len, reverse=True))})\b)?"
    rf"(?P<ordinal>st|nd|rd|th)?"
    rf"(?P<unit>\s?(?:{'|'.join(re.escape(u) for u in sorted(_EN_UNITS, key=len, reverse=True))})"
    rf"(?![A-Za-z]))?"
    rf"(?P<after>\s+(?:or more|or over|and up|or less|or fewer))?", re.I)
#: digits glued to letters or a hyphen-letter are names (GPT-4, H800, 910C, V3), not numbers
_NAME_BEFORE = re.compile(r"[A-Za-z][-.]?$|[A-Za-z]$")


def find_quantities(text: str, published: dt.date | None = None,
                    lang: str = "ko") -> list[Quantity]:
    """The numbers ``text`` states with their units, hedges and bounds; dates, durations and
    names with digits (GPT-4, H800) left out. Korean text is read the Korean way first (where
    "80%" may follow "약"), English text the English way only.

    >>> [(q.value, q.unit, q.approx) for q in find_quantities("557만6000달러(약 81억원)")]
    [(5576000.0, 'USD', False), (8100000000.0, 'KRW', True)]
    >>> [(q.value, q.unit, q.qualifier) for q in find_quantities("주가가 10% 이상 급락")]
    [(10.0, 'percent', 'at_least')]
    >>> [(q.value, q.unit, q.approx) for q in find_quantities("7만3000여명, 19만 1556명")]
    [(73000.0, 'people', True), (191556.0, 'people', False)]
    >>> [(q.value, q.unit) for q in find_quantities("6710억개 중 340억개, 2위")]
    [(671000000000.0, 'count'), (34000000000.0, 'count'), (2.0, 'rank')]
    >>> [(q.value, q.unit) for q in find_quantities("1400억 vs 80억")]
    [(140000000000.0, None), (8000000000.0, None)]
    >>> en = "$5.576 million, more than 4x, at about 80%"
    >>> [(q.value, q.unit, q.qualifier) for q in find_quantities(en, lang="en")]
    [(5576000.0, 'USD', None), (4.0, 'multiple', 'more_than'), (80.0, 'percent', None)]
    >>> [q.approx for q in find_quantities(en, lang="en")]
    [False, False, True]
    >>> [(q.value, q.unit) for q in find_quantities("GPT-4 on H800, 5,000 people", lang="en")]
    [(5000.0, 'people')]
    """
    dates = find_dates(text, published)
    found: list[Quantity] = []
    readings = [(_EN_QUANTITY, _english)]
    if lang != "en":
        readings.insert(0, (_KO_QUANTITY, _korean))
    for pattern, read in readings:
        for m in pattern.finditer(text):
            start = m.start("num")
            if _NAME_BEFORE.search(text[:start]) or re.match(r"[A-Za-z]", text[m.end():]):
                continue
            if any(d.start <= start < d.end for d in dates) or any(
                    q.start <= start < q.end for q in found):
                continue
            q = read(m)
            if q is not None:
                found.append(q)
    return sorted(found, key=lambda q: q.start)


def _korean(m: re.Match) -> Quantity | None:
    num = m.group("num")
    if not re.search(r"[조억만천]", num) and not m.group("unit") and not m.group("before"):
        return None  # a bare number: the English reader sees it, if it is one
    value = Decimal(0)
    for amount, scale in re.findall(rf"({_NUM})\s*([조억만천]?)", num):
        value += _scaled(_value(amount), _KO_SCALES.get(scale, 1))
    unit = _KO_UNITS.get((m.group("unit") or "").strip())
    if unit == "year" and not (1900 <= value <= 2100):
        return None  # "1년 전": a duration, not a figure
    bound = (m.group("bound") or "").strip()
    approx = bool(m.group("before") or m.group("hedge") or m.group("hedge2"))
    start = m.start("before") if m.group("before") else m.start("num")
    return Quantity(start, m.end(), m.group()[start - m.start():].strip(), value, unit,
                    approx, _KO_BOUNDS.get(bound))


def _english(m: re.Match) -> Quantity | None:
    if re.search(r"[\uac00-\ud7a3]", m.string[m.end("num"):m.end("num") + 1]):
        return None  # Korean units follow: the Korean reading has it
    scale = (m.group("scale") or "").strip().lower()
    value = _scaled(_value(m.group("num")), _EN_SCALES.get(scale, 1))
    currency = (m.group("currency") or "").strip()
    unit = _EN_CURRENCY.get(currency) or _EN_UNITS.get((m.group("unit") or "").strip().lower())
    if m.group("ordinal"):
        unit = "rank"
    if unit is None and not scale and not currency and 1900 <= value <= 2100 and \
            "," not in m.group("num") and "." not in m.group("num"):
        unit = "year"
    before = _EN_BEFORE.get((m.group("before") or "").strip().lower())
    after = (m.group("after") or "").strip().lower()
    qualifier = {"or more": "at_least", "or over": "at_least", "and up": "at_least",
                 "or less": "at_most", "or fewer": "at_most"}.get(after) or (
        before if before != "about" else None)
    return Quantity(m.start(), m.end(), m.group().strip(), value, unit,
                    before == "about", qualifier)
