"""Contrast of rendered text, read off a PDF: each character's colour (pdfplumber) against the
colour around it on the page as rendered (pdftoppm), by WCAG 2: 4.5:1, or 3:1 for text from
18 pt (14 pt bold).

The page is rasterised so that whatever the character sits on counts, whether a fill, a
gradient, a picture or shapes of the master: the background is the most common colour among
the pixels of the character's box that are not close to the character's own colour.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from deck import colors

DPI = 72  # one pixel per point: enough to find the colour around a glyph


@dataclass(frozen=True)
class LowContrast:
    page: int
    text: str
    ratio: float
    need: float

    def __str__(self) -> str:
        return f"page {self.page}: {self.text!r} at {self.ratio:.2f}:1, needs {self.need}:1"


def _hex(color) -> str | None:
    """A pdfplumber colour (gray, RGB or CMYK floats) as RRGGBB."""
    if color is None:
        return None
    if isinstance(color, int | float):
        color = (color,)
    values = [float(c) for c in color]
    if len(values) == 1:
        values = values * 3
    elif len(values) == 4:
        c, m, y, k = values
        values = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    elif len(values) != 3:
        return None
    return colors.to_hex(tuple(values))  # type: ignore[arg-type]


def _background(image: Image.Image, box: tuple[int, int, int, int], text_rgb: str) -> str | None:
    text = colors.rgb(text_rgb)
    counts: Counter = Counter()
    data = image.crop(box).tobytes()
    every = Counter(zip(data[0::3], data[1::3], data[2::3], strict=True))
    for pixel, n in every.items():
        if sum(abs(p / 255 - t) for p, t in zip(pixel, text, strict=True)) > 0.45:
            counts[pixel] += n
    if not counts:
        # every pixel is close to the text's own colour: the text barely differs from what it
        # sits on (F0F0F0 on white, black on a near-black fill); measure it against that,
        # never skip it
        counts = every
    if not counts:
        return None
    pixel = counts.most_common(1)[0][0]
    return "".join(f"{p:02X}" for p in pixel)


def low_contrast_text(pdf: Path) -> tuple[int, list[LowContrast]]:
    """(characters checked, the runs of characters below WCAG AA), page by page."""
    import pdfplumber

    checked = 0
    low: list[LowContrast] = []
    with tempfile.TemporaryDirectory(prefix="contrast-") as tmp, pdfplumber.open(pdf) as doc:
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True, timeout=300)
        pages = sorted(Path(tmp).glob("p-*.png"))
        for n, (page, png) in enumerate(zip(doc.pages, pages, strict=True), start=1):
            with Image.open(png) as im:
                image = im.convert("RGB")
            scale = image.width / float(page.width)
            for ch in page.chars:
                if not ch["text"].strip():
                    continue
                text_rgb = _hex(ch.get("non_stroking_color"))
                if text_rgb is None:
                    continue
                box = (int(ch["x0"] * scale) - 1, int(ch["top"] * scale) - 1,
                       int(ch["x1"] * scale) + 2, int(ch["bottom"] * scale) + 2)
                behind = _background(image, box, text_rgb)
                if behind is None:
                    continue
                checked += 1
                bold = "bold" in ch.get("fontname", "").lower()
                need = colors.required(float(ch["size"]), bold)
                ratio = colors.contrast(text_rgb, behind)
                if ratio < need - 0.05:  # anti-aliasing shifts the sampled colour a little
                    if low and low[-1].page == n and low[-1].need == need and \
                            abs(low[-1].ratio - ratio) < 0.05:
                        low[-1] = LowContrast(n, low[-1].text + ch["text"], low[-1].ratio, need)
                    else:
                        low.append(LowContrast(n, ch["text"], ratio, need))
    return checked, low
