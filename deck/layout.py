"""Measured layout: real font metrics (Pillow), line breaking per language, size steps, pagination.

Every text block is measured before the writer sees it. What does not fit at its preferred size
steps down to a floor; what still does not fit continues on a new slide. Geometry comes in as
plain boxes (EMU), so this module knows nothing of XML or pptx.

Fonts: the theme names Arial (Latin) and Malgun Gothic (Hangul). Where those files are installed
they are measured; otherwise the bundled OFL fonts in ``assets/fonts`` stand in (Liberation Sans
is metric-compatible with Arial; Noto Sans CJK KR is as wide as or wider than Malgun Gothic in
Hangul), and every line keeps a safety margin of :data:`SAFETY` of its width.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageFont

from .outline import Bullet, Outline, Slide, Table

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
EMU_PER_PT = 12700
EMU_PER_INCH = 914400

#: share of a line's width kept free, for renderer differences (kerning, font substitution)
SAFETY = 0.06
_MEASURE_PX = 256  # fonts are loaded once at this size and widths scaled linearly


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in EMU."""

    left_emu: int
    top_emu: int
    width_emu: int
    height_emu: int

    @property
    def right_emu(self) -> int:
        return self.left_emu + self.width_emu

    @property
    def bottom_emu(self) -> int:
        return self.top_emu + self.height_emu


@dataclass(frozen=True)
class Sizes:
    """Preferred and floor font sizes in points, per kind of text."""

    title: tuple[float, float] = (28, 20)
    subtitle: tuple[float, float] = (20, 14)
    body: tuple[float, float] = (18, 12)
    side: tuple[float, float] = (16, 11)
    table: tuple[float, float] = (16, 10)
    notes: tuple[float, float] = (12, 10)
    chart_labels: tuple[float, float] = (12, 9)


#: text insets the writer sets on every text frame (python-pptx/PowerPoint defaults)
INSET_LR_EMU = 91440
INSET_TB_EMU = 45720
#: cell margins the writer sets in tables
CELL_LR_EMU = 64008
CELL_TB_EMU = 27432
PARA_SPACE_PT = 6  # space before each bullet paragraph
BULLET_INDENT_EMU = 228600  # hanging indent of a level-0 bullet
LEVEL_INDENT_EMU = 342900


# ------------------------------------------------------------------------------------------
# fonts


def _is_east_asian(ch: str) -> bool:
    o = ord(ch)
    return (0x1100 <= o <= 0x11FF or 0x3000 <= o <= 0x303F or 0x3130 <= o <= 0x318F
            or 0xAC00 <= o <= 0xD7A3 or 0x4E00 <= o <= 0x9FFF or 0xFF00 <= o <= 0xFFEF)


_SYSTEM_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                Path.home() / ".fonts", Path("C:/Windows/Fonts"), Path("/Library/Fonts"))
_THEME_FILES = {
    ("latin", False): ("arial.ttf", "Arial.ttf"),
    ("latin", True): ("arialbd.ttf", "Arial Bold.ttf"),
    ("ea", False): ("malgun.ttf",),
    ("ea", True): ("malgunbd.ttf",),
}
_BUNDLED = {
    ("latin", False): "LiberationSans-Regular.ttf",
    ("latin", True): "LiberationSans-Bold.ttf",
    ("ea", False): "NotoSansKR-Subset-Regular.otf",
    ("ea", True): "NotoSansKR-Subset-Bold.otf",
}


@functools.cache
def font_file(slot: str, bold: bool) -> Path:
    """The file measured for a theme font slot: the theme's own face if installed, else ours."""
    for directory in _SYSTEM_DIRS:
        for name in _THEME_FILES[(slot, bold)]:
            for hit in _safe_glob(directory, name):
                return hit
    return FONTS_DIR / _BUNDLED[(slot, bold)]


def _safe_glob(directory: Path, name: str) -> list[Path]:
    try:
        return sorted(directory.rglob(name)) if directory.is_dir() else []
    except OSError:
        return []


@functools.cache
def _font(slot: str, bold: bool) -> ImageFont.FreeTypeFont:
    # BASIC layout: the same widths on every machine, with or without libraqm installed
    return ImageFont.truetype(str(font_file(slot, bold)), _MEASURE_PX,
                              layout_engine=ImageFont.Layout.BASIC)


@functools.cache
def line_height_em(slot: str, bold: bool) -> float:
    """Single line spacing as a multiple of the font size (ascent + descent, at least 1.2)."""
    ascent, descent = _font(slot, bold).getmetrics()
    return max(1.2, (ascent + descent) / _MEASURE_PX)


@functools.cache
def _char_em(ch: str, bold: bool) -> float:
    slot = "ea" if _is_east_asian(ch) else "latin"
    return _font(slot, bold).getlength(ch) / _MEASURE_PX


#: extra space renderers put between Hangul and Latin letters or digits (LibreOffice's
#: 'autospace' adds about 0.23 em at each such boundary; measured over 374 boundaries)
AUTOSPACE_EM = 0.25


def width_em(text: str, bold: bool = False) -> float:
    """Advance width in ems: the sum of each character's advance, Hangul from the East Asian
    face, plus :data:`AUTOSPACE_EM` at every Hangul/Latin boundary. Summing per character
    (cached) keeps measuring linear in the text's length; kerning, which this ignores, is
    within the safety margin."""
    total = sum(_char_em(ch, bold) for ch in text)
    if any(_is_hangul(ch) for ch in text):
        total += AUTOSPACE_EM * _script_boundaries(text)
    return total


def _script_boundaries(text: str) -> int:
    count = 0
    for a, b in zip(text, text[1:], strict=False):
        if (_is_hangul(a) and b.isascii() and b.isalnum()) or (
                _is_hangul(b) and a.isascii() and a.isalnum()):
            count += 1
    return count


def text_width_pt(text: str, size_pt: float, bold: bool = False) -> float:
    """Advance width of ``text`` at ``size_pt``."""
    return width_em(text, bold) * size_pt


def _line_height_pt(text: str, size_pt: float, bold: bool) -> float:
    slots = {"ea" if _is_east_asian(ch) else "latin" for ch in text} or {"latin"}
    return max(line_height_em(s, bold) for s in slots) * size_pt


# ------------------------------------------------------------------------------------------
# line breaking

_NO_BREAK_BEFORE = set(",.;:!?)]}%’”…·、。」』〉》】〕°") | {"\u200b"}
_NO_BREAK_AFTER = set("([{‘“「『〈《【〔$₩")


def break_units(text: str) -> list[str]:
    """Split text into the pieces a line may end after.

    Spaces end a piece everywhere. Between two Hangul syllables a line may also break (Korean
    line breaking), but never before closing punctuation nor after opening punctuation, and a
    number stays with its unit ('5,000명', '79.8%', '1,400억').

    >>> break_units("GPT-4 cost 5.5%.")
    ['GPT-4 ', 'cost ', '5.5%.']
    >>> break_units("딥시크는 1,400억 원을")
    ['딥', '시', '크', '는 ', '1,400억 ', '원', '을']
    """
    units: list[str] = []
    cur = ""
    for i, ch in enumerate(text):
        cur += ch
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if not nxt:
            break
        if ch.isspace() and not nxt.isspace():
            units.append(cur)
            cur = ""
        elif (_is_hangul(ch) and _is_hangul(nxt) and nxt not in _NO_BREAK_BEFORE
              and ch not in _NO_BREAK_AFTER and not _in_number_unit(cur)):
            units.append(cur)
            cur = ""
    if cur:
        units.append(cur)
    return units


def _is_hangul(ch: str) -> bool:
    return 0xAC00 <= ord(ch) <= 0xD7A3


def _in_number_unit(cur: str) -> bool:
    # '1,400억' : a Hangul unit right after digits stays attached to them
    stripped = cur.rstrip()
    return len(stripped) >= 2 and stripped[-2].isdigit() and _is_hangul(stripped[-1])


def wrap(text: str, width_pt: float, size_pt: float, bold: bool = False) -> list[str]:
    """Greedy line breaking at :func:`break_units`; a piece wider than a line is split by
    characters (long words, URLs, unbroken tokens)."""
    limit = width_pt * (1 - SAFETY) / size_pt  # in ems
    lines: list[str] = []
    for para in text.split("\n"):
        line, line_w = "", 0.0
        for unit in break_units(para):
            unit_w = width_em(unit, bold)
            trailing = unit_w - width_em(unit.rstrip(), bold)
            if line_w + unit_w - trailing <= limit:
                line, line_w = line + unit, line_w + unit_w
                continue
            if line:
                lines.append(line.rstrip())
            while unit and unit_w - trailing > limit:
                cut, cut_w = _longest_prefix(unit, limit, bold)
                lines.append(unit[:cut])
                unit, unit_w = unit[cut:], unit_w - cut_w
            line, line_w = unit, unit_w
        lines.append(line.rstrip())
    return lines


def _longest_prefix(unit: str, limit_em: float, bold: bool) -> tuple[int, float]:
    """How many characters of ``unit`` fit in ``limit_em`` (at least one), and their width."""
    used = 0.0
    cut = 0
    for ch in unit:
        w = _char_em(ch, bold)
        if used + w > limit_em and cut:
            break
        used += w
        cut += 1
    # never split a grapheme's combining marks from their base
    while 1 < cut < len(unit) and unicodedata.combining(unit[cut]):
        cut -= 1
        used -= _char_em(unit[cut], bold)
    return cut, used


@functools.lru_cache(maxsize=16384)
def text_height_pt(text: str, width_pt: float, size_pt: float, bold: bool = False) -> float:
    """Height of a wrapped paragraph: line count times single line spacing."""
    lines = wrap(text, width_pt, size_pt, bold)
    return len(lines) * _line_height_pt(text, size_pt, bold)


# ------------------------------------------------------------------------------------------
# blocks


def bullet_text(b: Bullet, markers: dict[str, str]) -> str:
    """The text a bullet shows, claim markers included (the writer shows the same)."""
    marks = "".join(markers[c] for c in b.claims if c in markers)
    return f"{b.text} {marks}" if marks else b.text


def bullets_height_pt(bullets: list[Bullet], box: Box, size_pt: float,
                      markers: dict[str, str]) -> float:
    inner_w = (box.width_emu - 2 * INSET_LR_EMU) / EMU_PER_PT
    total = 0.0
    for i, b in enumerate(bullets):
        indent = (BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU) / EMU_PER_PT
        if i:
            total += PARA_SPACE_PT
        total += text_height_pt(bullet_text(b, markers), inner_w - indent, size_pt)
    return total


def _box_inner_height_pt(box: Box) -> float:
    return (box.height_emu - 2 * INSET_TB_EMU) / EMU_PER_PT


def fit_size(height_at, box_height_pt: float, sizes: tuple[float, float]) -> float | None:
    """The largest size from preferred down to floor (1 pt steps) whose height fits, or None."""
    preferred, floor = sizes
    size = preferred
    while size >= floor - 1e-9:
        if height_at(size) <= box_height_pt:
            return size
        size -= 1
    return None


def table_row_heights_pt(table: Table, rows: list[list[str]], width_emu: int,
                         size_pt: float, bold_first: bool = True) -> list[float]:
    widths = column_widths_emu(table, width_emu)
    heights = []
    for r, row in enumerate([table.columns] + rows):
        bold = r == 0 and bold_first
        h = 0.0
        for text, w in zip(row, widths, strict=True):
            inner = (w - 2 * CELL_LR_EMU) / EMU_PER_PT
            h = max(h, text_height_pt(text, inner, size_pt, bold))
        heights.append(h + 2 * CELL_TB_EMU / EMU_PER_PT)
    return heights


def column_widths_emu(table: Table, width_emu: int) -> list[int]:
    rel = table.widths or [1.0] * len(table.columns)
    total = sum(rel)
    widths = [int(width_emu * r / total) for r in rel]
    widths[-1] = width_emu - sum(widths[:-1])
    return widths


# ------------------------------------------------------------------------------------------
# the stage


@dataclass
class Geometry:
    """Where each logical layout puts its parts (from the theme, via the writer)."""

    slide_width_emu: int
    slide_height_emu: int
    boxes: dict[str, dict[str, Box]]  # layout -> role -> box


@dataclass
class LaidSlide:
    """A slide with the sizes the layout stage chose for each of its parts."""

    slide: Slide
    sizes: dict[str, float] = field(default_factory=dict)
    row_heights_pt: list[float] = field(default_factory=list)
    category_rotation: int = 0  # degrees for a chart's category labels (0 or -45)


def layout_deck(outline: Outline, geometry: Geometry, labels: dict[str, str],
                markers: dict[str, str], sizes: Sizes = Sizes()) -> list[LaidSlide]:
    """Fit every slide of the outline; split what does not fit into continuation slides."""
    out: list[LaidSlide] = []
    context = (id(geometry), labels["page"], labels["cont"], sizes,
               hash(frozenset(markers.items())))
    for slide in outline.slides:
        # measuring is the costly part of this stage; an unchanged slide is laid out once
        key = (context, slide.model_dump_json())
        if key in _LAID:
            out.extend(_LAID[key])
            continue
        first = len(out)
        boxes = geometry.boxes[slide.layout]
        pages = _paginate(slide, boxes, sizes, markers)
        total = len(pages)
        for n, page in enumerate(pages, start=1):
            if total > 1:
                page.slide = page.slide.model_copy(update={"part": (n, total)})
                suffix = f" ({labels['page'].format(n=n, total=total)})"
                if n > 1:
                    suffix = f" {labels['cont']}{suffix}"
                page.slide = page.slide.model_copy(update={"title": page.slide.title + suffix})
            page.sizes["title"] = _fit_title(page.slide.title, boxes["title"], sizes.title)
            out.append(page)
        if len(_LAID) > 4096:
            _LAID.clear()
        _LAID[key] = out[first:]
    return out


#: laid-out pages of slides already seen in this process (read-only once stored)
_LAID: dict[tuple, list[LaidSlide]] = {}


def forget_layouts() -> None:
    """Drop remembered layouts and measured heights (the next layout measures afresh)."""
    _LAID.clear()
    text_height_pt.cache_clear()


def has_graphic(slide: Slide) -> bool:
    """A chart, diagram or picture takes the main area of a two-part slide."""
    return slide.chart is not None or slide.diagram is not None or slide.picture is not None


def side_text_attr(slide: Slide) -> str:
    """Which bullets go to the side column: beside a graphic, the slide's bullets (or, if it
    has none, its right column); on a text-only two-part slide, the right column."""
    if has_graphic(slide):
        return "bullets" if slide.bullets else "right"
    return "right"


#: share of a chart frame the plot area takes (PowerPoint's automatic layout, roughly)
PLOT_SHARE = 0.8


def plan_category_labels(kind: str, categories: list[str], box: Box,
                         sizes: tuple[float, float]) -> tuple[float, int]:
    """Category label size and rotation, by rule: labels side by side (column and line charts)
    must each fit their slot; if they do not at the floor size they are turned -45 degrees.
    Labels stacked (bar charts) must fit their row's height.

    >>> plan_category_labels("column", ["Jan 25", "Jan 26"], Box(0, 0, 5_000_000, 3_000_000),
    ...                      (12, 9))
    (12, 0)
    >>> plan_category_labels("column", ["A much longer category label"] * 8,
    ...                      Box(0, 0, 5_000_000, 3_000_000), (12, 9))
    (9, -45)
    """
    if not categories:
        return sizes[0], 0
    n = len(categories)
    if kind == "bar":
        slot_pt = box.height_emu * PLOT_SHARE / n / EMU_PER_PT
        size = fit_size(lambda s: _line_height_pt("Ag", s, False), slot_pt, sizes)
        return (size or sizes[1]), 0
    slot_pt = box.width_emu * PLOT_SHARE / n / EMU_PER_PT * (1 - SAFETY)
    widest = max(categories, key=lambda c: width_em(c))
    size = fit_size(lambda s: text_width_pt(widest, s), slot_pt, sizes)
    return (size, 0) if size is not None else (sizes[1], -45)


def _fit_title(title: str, box: Box, sizes: tuple[float, float]) -> float:
    inner_w = (box.width_emu - 2 * INSET_LR_EMU) / EMU_PER_PT
    size = fit_size(lambda s: text_height_pt(title, inner_w, s, True),
                    _box_inner_height_pt(box), sizes)
    return size if size is not None else sizes[1]


def _paginate(slide: Slide, boxes: dict[str, Box], sizes: Sizes,
              markers: dict[str, str]) -> list[LaidSlide]:
    if slide.table is not None:
        return _paginate_table(slide, boxes["table"], sizes.table)
    laid = LaidSlide(slide)
    if slide.chart is not None:
        size, laid.category_rotation = plan_category_labels(
            slide.chart.kind, slide.chart.categories, boxes["chart"], sizes.chart_labels)
        laid.sizes["categories"] = size
    if slide.layout == "title" or slide.layout == "section":
        box = boxes["subtitle"]
        inner_w = (box.width_emu - 2 * INSET_LR_EMU) / EMU_PER_PT
        s = fit_size(lambda s: text_height_pt(slide.subtitle, inner_w, s),
                     _box_inner_height_pt(box), sizes.subtitle)
        laid.sizes["subtitle"] = s or sizes.subtitle[1]
        return [laid]
    parts = [("bullets", "body", sizes.body)]
    if slide.layout in ("chart", "two_content"):
        parts = [("bullets", "body", sizes.body), ("right", "body2", sizes.side)]
        if has_graphic(slide):
            parts = [(side_text_attr(slide), "body2", sizes.side)]
    pages: list[LaidSlide] = [laid]
    for attr, role, pair in parts:
        bullets = getattr(slide, attr)
        if not bullets:
            continue
        box = boxes[role]
        size = fit_size(lambda s, b=bullets, bx=box: bullets_height_pt(b, bx, s, markers),
                        _box_inner_height_pt(box), pair)
        if size is not None:
            laid.sizes[attr] = size
            continue
        # continuation slides at the floor size
        chunks: list[list[Bullet]] = [[]]
        for b in bullets:
            trial = chunks[-1] + [b]
            if chunks[-1] and bullets_height_pt(trial, box, pair[1], markers) > \
                    _box_inner_height_pt(box):
                chunks.append([b])
            else:
                chunks[-1] = trial
        # a single bullet taller than the box still gets a slide of its own (reported by check)
        return [LaidSlide(slide.model_copy(update={attr: chunk}), {attr: pair[1]})
                for chunk in chunks]
    return pages


def _paginate_table(slide: Slide, box: Box, sizes: tuple[float, float]) -> list[LaidSlide]:
    table = slide.table
    assert table is not None
    avail = box.height_emu / EMU_PER_PT

    def height(size: float) -> float:
        return sum(table_row_heights_pt(table, table.rows, box.width_emu, size))

    size = fit_size(height, avail, sizes)
    if size is not None:
        return [LaidSlide(slide, {"table": size},
                          table_row_heights_pt(table, table.rows, box.width_emu, size))]
    size = sizes[1]
    heights = table_row_heights_pt(table, table.rows, box.width_emu, size)
    header, body = heights[0], heights[1:]
    pages: list[LaidSlide] = []
    start = 0
    while start < len(table.rows):
        used = header
        end = start
        while end < len(table.rows) and (used + body[end] <= avail or end == start):
            used += body[end]
            end += 1
        part = table.model_copy(update={
            "rows": table.rows[start:end],
            "row_claims": table.row_claims[start:end] if table.row_claims else []})
        pages.append(LaidSlide(slide.model_copy(update={"table": part}), {"table": size},
                               [header] + body[start:end]))
        start = end
    return pages


def emu(points: float) -> int:
    """Points to EMU, rounded up so a measured height is never cut short."""
    return int(math.ceil(points * EMU_PER_PT))
