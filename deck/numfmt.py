"""Chart number formats: the Excel format code a chart's data labels and value axis use, made
from its figures, so a chart says "6710억 개" or "USD 671B" as the slide text would.

Excel formats scale only by thousands (a trailing ``,``) and allow two conditional sections.
Myriad units (Korean 조/억/만, Japanese 兆/億/万 from CLDR) are built from that: 조 is 10^12
(four commas); 억 is 10^9 with a literal ``0`` appended, exact for whole multiples of 10^9;
만 is 10^6 with ``00`` appended, exact for whole multiples of 10^6. A range of values that
no section shows exactly, and everything below it, falls to plain grouped digits, which are
always exact. The axis step is raised where needed so
every tick is exact too. Knows nothing of pptx.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec
from babel import Locale

from .l10n import Numbers, exact, myriad_words, places
from .units import NOT_QUANTITIES, WORDS_FOR_LARGE

#: (threshold, granularity, digits, zeros) for myriad sections, largest first; {d} is the
#: decimals. ``zeros`` go before the unit's word ("0억": the digits count 10^9s)
_MYRIAD_SECTIONS = (
    (10**12, None, "#,##0{d},,,,", ""),
    (10**9, 10**9, "#,##0,,,", "0"),
    (10**6, 10**6, "#,##0,,", "00"),
)


class ChartNumbers(msgspec.Struct, frozen=True):
    """A chart's number format code and, where the format needs it, its value axis step."""

    code: str
    major_unit: float | None = None


def chart_numbers(values: list[float], unit: str, decimals: int, numbers: Numbers, *,
                  log_scale: bool = False) -> ChartNumbers:
    """The number format for a chart of ``values`` in ``unit`` for ``numbers``' language.

    >>> from deck.l10n import Numbers, _catalog
    >>> ko, en = Numbers("ko", _catalog("ko")), Numbers("en", _catalog("en"))
    >>> chart_numbers([671e9, 34e9, 37e9], "parameters", 0, ko).code
    '[>=1000000000]#,##0,,,"0억 개";[>=1000000]#,##0,,"00만 개";#,##0" 개"'
    >>> chart_numbers([815e9, 1.234e12], "KRW", 0, ko).code.split(";")[0]
    '[>=1000000000000]#,##0.0##,,,,"조 원"'
    >>> chart_numbers([5000, 191556], "people", 0, ko).code
    '#,##0"명"'
    >>> chart_numbers([79.2, 79.8], "percent", 1, en).code
    '#,##0.0"%"'
    >>> chart_numbers([671e9, 34e9], "USD", 0, en).code
    '"USD "#,##0,,,"B"'
    """
    before, _, after = numbers.unit_pattern(unit).partition("{n}")
    plain = "#,##0" + ("." + "0" * decimals if decimals else "")
    if unit in NOT_QUANTITIES:
        plain = "0"
    sections: list[tuple[int, int, str, str]] = []
    myriads = ("조", "억", "만") if numbers.locale.startswith("ko") else myriad_words(
        numbers.locale)
    if unit in WORDS_FOR_LARGE and decimals == 0 and all(v >= 0 for v in values):
        if myriads is not None:
            sections = _myriad_sections(values, myriads)
        else:
            scaled = _scaled(values, numbers.locale)
            if scaled is not None:
                digits, word, size = scaled
                return ChartNumbers(_code(before, digits, word + after),
                                    _step(values, size, log_scale))
    code = ";".join([f"[>={t}]" + _code(before, digits, words + after)
                     for t, _, digits, words in sections] + [_code(before, plain, after)])
    grain = min((g for _, g, _, _ in sections), default=None)
    return ChartNumbers(code, _step(values, grain, log_scale) if grain else None)


def _code(before: str, digits: str, after: str) -> str:
    """Digits between two literal texts, each quoted as Excel wants (quotes dropped)."""

    def quote(text: str) -> str:
        return f'"{text.replace(chr(34), "")}"' if text else ""

    return quote(before) + digits + quote(after)


def _myriad_sections(values: list[float],
                     myriads: tuple[str, str, str]) -> list[tuple[int, int, str, str]]:
    """At most two sections (Excel's limit), from the largest unit the values reach down,
    while each shows its range of values exactly (an empty range still serves axis ticks)."""
    out: list[tuple[int, int, str, str]] = []
    top = max(values, default=0)
    upper = math.inf
    for (threshold, grain, digits, zeros), word in zip(_MYRIAD_SECTIONS, myriads, strict=True):
        words = zeros + word
        in_range = [exact(v) for v in values if threshold <= v < upper]
        upper = threshold
        if top < threshold:
            continue
        if grain is None:  # 조: the decimals the values need (up to 억), at least one shown
            need = max((places((v / Decimal(threshold)).normalize()) for v in in_range),
                       default=0)
            if need > 4:
                break
            shown = "." + "0" + "#" * (need - 1) if need else ""
            out.append((threshold, 10**12 // 10**need, digits.format(d=shown), words))
        elif all(v % grain == 0 for v in in_range):
            out.append((threshold, grain, digits, words))
        else:
            break
        if len(out) == 2:
            break
    return out


def _scaled(values: list[float], locale: str) -> tuple[str, str, int] | None:
    """Millions, billions or trillions with CLDR's short word ("M", "Mrd."), where every value
    is a whole number of that unit; None where none fits (or the language counts by 10^4)."""
    positive = [v for v in values if v > 0]
    if not positive:
        return None
    patterns = Locale.parse(locale).compact_decimal_formats["short"]["other"]
    for k in (4, 3, 2):
        size = 10 ** (3 * k)
        pattern = patterns.get(str(size))
        if min(positive) < size or pattern is None or pattern.pattern.count("0") != 1:
            continue
        if all(exact(v) % size == 0 for v in values):
            return "#,##0" + "," * k, pattern.suffix[0].replace("'", ""), size
    return None


def _step(values: list[float], grain: int, log_scale: bool) -> float | None:
    """A value-axis step that is a whole multiple of ``grain`` (so every tick shows exactly),
    or None where the viewer's own choice is already safe (log axes tick at powers of ten)."""
    if log_scale or not values:
        return None
    top = max(values)
    if top <= 0:
        return None
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    nice = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float(max(nice, grain))
