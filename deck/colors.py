"""Colours: DrawingML's colour transforms, WCAG contrast, and the choice of a legible text colour.

Pure functions on ``RRGGBB`` hex strings; knows nothing of pptx. The fit stage uses them to make
every text the build sets legible on what it sits on (WCAG 2 AA: 4.5:1, or 3:1 for large text),
whatever the master's colours.
"""

from __future__ import annotations

import colorsys

#: WCAG 2 AA minimum contrast for normal text, and for large text (18 pt, or 14 pt bold)
AA_NORMAL = 4.5
AA_LARGE = 3.0


def rgb(hex_color: str) -> tuple[float, float, float]:
    """``"1F497D"`` as three floats in 0..1."""
    h = hex_color.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def to_hex(color: tuple[float, float, float]) -> str:
    return "".join(f"{round(max(0.0, min(1.0, c)) * 255):02X}" for c in color)


def luminance_shift(hex_color: str, mod: float = 1.0, off: float = 0.0) -> str:
    """DrawingML ``lumMod``/``lumOff``: the colour's HSL lightness times ``mod`` plus ``off``.

    python-pptx's ``brightness`` b > 0 writes lumMod 1-b and lumOff b; b < 0 writes lumMod 1+b.

    >>> luminance_shift("000000", 0.55, 0.45)
    '737373'
    """
    r, g, b = rgb(hex_color)
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    return to_hex(colorsys.hls_to_rgb(h, max(0.0, min(1.0, light * mod + off)), s))


def brightness(hex_color: str, amount: float) -> str:
    """A colour made lighter (``amount`` > 0) or darker (< 0), as python-pptx writes it."""
    if amount > 0:
        return luminance_shift(hex_color, 1 - amount, amount)
    if amount < 0:
        return luminance_shift(hex_color, 1 + amount, 0.0)
    return hex_color.upper()


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    return c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def tint(hex_color: str, amount: float) -> str:
    """DrawingML ``tint``: ``amount`` of the colour, the rest white, mixed in linear light as
    Office and LibreOffice do (black at 75 % tint shows as #898989, not #404040).

    >>> tint("000000", 0.75)
    '898989'
    """
    return to_hex(tuple(_gamma(1 - (1 - _linear(c)) * amount)  # type: ignore[arg-type]
                        for c in rgb(hex_color)))


def shade(hex_color: str, amount: float) -> str:
    """DrawingML ``shade``: ``amount`` of the colour, the rest black, in linear light."""
    return to_hex(tuple(_gamma(_linear(c) * amount)  # type: ignore[arg-type]
                        for c in rgb(hex_color)))


def relative_luminance(hex_color: str) -> float:
    """WCAG relative luminance (0 black .. 1 white)."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(hex_color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 .. 21.

    >>> round(contrast("000000", "FFFFFF"), 1), round(contrast("777777", "FFFFFF"), 2)
    (21.0, 4.48)
    """
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def required(size_pt: float, bold: bool) -> float:
    """The AA contrast a text of that size and weight needs."""
    return AA_LARGE if size_pt >= 18 or (bold and size_pt >= 14) else AA_NORMAL


def average(colors: list[tuple[str, float]]) -> str:
    """The weighted mean of colours (``(hex, weight)`` pairs)."""
    total = sum(w for _, w in colors) or 1.0
    return to_hex(tuple(sum(rgb(c)[i] * w for c, w in colors) / total  # type: ignore[arg-type]
                        for i in range(3)))
