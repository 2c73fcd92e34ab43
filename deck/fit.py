"""The fit stage: the resolved outline, the master's geometry and the labels become the closed
presentation model (:mod:`deck.model`), with every decision made.

Which placeholder each part fills, what size every text takes, where a slide continues and what
its continuation is called: all of it is decided here and nowhere else. Text is measured with the
master's own fonts (:mod:`deck.measure`); what does not fit at its preferred size steps down to
a floor, then continues on a new slide. Pure: no pptx, no XML, no files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from . import model as m
from .l10n import Labels, fill
from .measure import SAFETY, Measurer
from .outline import Bullet, Chart, Diagram, Picture, Slide, Table

EMU_PER_PT = m.EMU_PER_PT
PARA_SPACE_PT = 6  # space before each paragraph after the first
BULLET_INDENT_EMU = 228600  # hanging indent of a level-0 bullet
LEVEL_INDENT_EMU = 342900
MARKS_SCALE = 0.75  # claim markers are set smaller than their bullet
CELL_INSETS = m.Insets(64008, 27432, 64008, 27432)
#: share of a chart frame the plot area takes (PowerPoint's automatic layout, roughly)
PLOT_SHARE = 0.8

#: the most slides one outline slide may continue on (a text too long to present)
MAX_PARTS = 50


class FitError(ValueError):
    """Text that no slide can show at the smallest size allowed: which part of the slide
    (``title``, ``subtitle``, ``footer``, ``bullets``, ``table``), and why."""

    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part


ACCENT = m.Paint("accent1")
HIGHLIGHT = m.Paint("accent2")
MUTED = m.Paint("tx1", 0.45)
INK = m.Paint("tx1")
HEADER_FILL = m.Paint("tx2")
ZEBRA_FILL = m.Paint("bg2")
WHITE = m.Paint("bg1")


@dataclass(frozen=True, slots=True)
class Sizes:
    """Preferred and floor font sizes in points, per kind of text."""

    title: tuple[float, float] = (28, 20)
    subtitle: tuple[float, float] = (20, 10)
    body: tuple[float, float] = (18, 12)
    side: tuple[float, float] = (16, 11)
    table: tuple[float, float] = (16, 10)
    notes: float = 12
    chart_labels: tuple[float, float] = (12, 9)
    footer_floor: float = 7
    diagram: float = 11


@dataclass(frozen=True, slots=True)
class Roles:
    """Which placeholder of a template layout serves each part of a logical layout."""

    layout: m.LayoutRef
    title: m.Slot
    main: m.Slot | None  # subtitle, body, table, or the graphic's place
    side: m.Slot | None  # the second column / the text beside a graphic
    footer: m.Slot | None
    number: m.Slot | None


@dataclass(frozen=True)
class FitContext:
    """Everything fitting depends on besides the slide: a value, so it can key a memo."""

    lang: str  # BCP-47 tag of the deck, e.g. ko-KR
    labels: Labels
    heading: Measurer
    body: Measurer
    sizes: Sizes = Sizes()


# ------------------------------------------------------------------------------------------
# roles: which placeholder does what


_NOT_CONTENT = {"title", "ctrTitle", "ftr", "sldNum", "dt", "hdr"}
_GRAPHIC = {"chart", "tbl"}


def plan_roles(logical: str, layout: m.LayoutInfo) -> Roles:
    """Assign a layout's placeholders to the parts of a logical layout; raise ValueError
    naming what is missing."""
    title = next((s for s in layout.slots if s.type in ("title", "ctrTitle")), None)
    if title is None:
        raise ValueError(f"layout {layout.name!r} has no title placeholder; expected one")
    others = sorted((s for s in layout.slots if s.type not in _NOT_CONTENT),
                    key=lambda s: (s.box.left_emu, s.box.top_emu))
    main, side = _main_and_side(logical, layout.name, others)
    footer = next((s for s in layout.slots if s.type == "ftr"), None)
    number = next((s for s in layout.slots if s.type == "sldNum"), None)
    return Roles(layout.ref, title, main, side, footer, number)


def _main_and_side(logical: str, name: str,
                   others: list[m.Slot]) -> tuple[m.Slot, m.Slot | None]:
    graphic = [s for s in others if s.type in _GRAPHIC]
    text = [s for s in others if s.type not in _GRAPHIC]
    if logical in ("title", "section"):
        sub = [s for s in others if s.type == "subTitle"] or text
        if not sub:
            raise ValueError(f"layout {name!r} needs a subtitle or body placeholder")
        return sub[0], None
    if logical in ("table", "sources"):
        if not (graphic or text):
            raise ValueError(f"layout {name!r} needs a table or content placeholder")
        return max(graphic or text, key=lambda s: s.box.width_emu * s.box.height_emu), None
    if logical in ("chart", "two_content"):
        if graphic:
            if not text:
                raise ValueError(f"layout {name!r} needs a text placeholder beside the chart")
            return graphic[0], text[0]
        if len(text) < 2:
            raise ValueError(f"layout {name!r} needs two content placeholders; expected 2, "
                             f"got {len(text)}")
        if logical == "two_content":
            return text[0], text[1]
        by_area = sorted(text[:2], key=lambda s: -s.box.width_emu * s.box.height_emu)
        return by_area[0], by_area[1]
    if not text:
        raise ValueError(f"layout {name!r} needs a content placeholder")
    return text[0], None


# ------------------------------------------------------------------------------------------
# text


_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")


def split_by_script(text: str, deck_lang: str) -> list[tuple[str, str]]:
    """Split text into (segment, language) so Hangul and Latin words carry their own language.

    Digits, spaces and punctuation stay with the segment before them.

    >>> split_by_script("딥시크 R1은 o1과 비슷", "ko-KR")
    [('딥시크 ', 'ko-KR'), ('R1', 'en-US'), ('은 ', 'ko-KR'), ('o1', 'en-US'), ('과 비슷', 'ko-KR')]
    >>> split_by_script("Naver rose 5%", "en-US")
    [('Naver rose 5%', 'en-US')]
    """
    out: list[list[str]] = []
    for ch in text:
        lang = "ko-KR" if _HANGUL.match(ch) else ("en-US" if _LATIN.match(ch) else None)
        if out and (lang is None or lang == out[-1][1]):
            out[-1][0] += ch
        else:
            out.append([ch, lang or deck_lang])
    merged: list[tuple[str, str]] = []
    for seg, lang in out:
        if merged and merged[-1][1] == lang:
            merged[-1] = (merged[-1][0] + seg, lang)
        else:
            merged.append((seg, lang))
    return merged


def runs(text: str, ctx: FitContext, size_pt: float | None, *, major: bool = False,
         bold: bool | None = None, color: m.Paint | None = None,
         east_asian: bool = False) -> tuple[m.Run, ...]:
    """Text as runs, one per script; Hangul (and every run of a Korean deck) gets the East
    Asian face, as do all runs where ``east_asian`` is set."""
    ea = east_asian or ctx.lang.startswith("ko")
    return tuple(m.Run(seg, lang, size_pt, ea or lang.startswith("ko"), major, bold, color)
                 for seg, lang in split_by_script(text, ctx.lang))


def _flush(text: str, ctx: FitContext, size_pt: float, first: bool, *,
           major: bool = False) -> m.Paragraph:
    """A paragraph with no bullet and no indent."""
    return m.Paragraph(runs(text, ctx, size_pt, major=major), style="flush",
                       space_before_pt=0 if first else PARA_SPACE_PT,
                       end_size_pt=size_pt, end_lang=ctx.lang)


def _bullet(b: Bullet, ctx: FitContext, size_pt: float, first: bool) -> m.Paragraph:
    marks = runs(" " + b.marks, ctx, size_pt * MARKS_SCALE, color=MUTED) if b.marks else ()
    return m.Paragraph(runs(b.text, ctx, size_pt) + marks, style="bullet", level=b.level,
                       margin_left_emu=BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU,
                       indent_emu=-BULLET_INDENT_EMU,
                       space_before_pt=0 if first else PARA_SPACE_PT,
                       end_size_pt=size_pt, end_lang=ctx.lang)


def bullet_text(b: Bullet) -> str:
    """What a bullet shows, markers included (measured at the bullet's size: a margin)."""
    return f"{b.text} {b.marks}" if b.marks else b.text


def inner_width_pt(slot: m.Slot) -> float:
    return (slot.box.width_emu - slot.insets.left_emu - slot.insets.right_emu) / EMU_PER_PT


def inner_height_pt(slot: m.Slot) -> float:
    return (slot.box.height_emu - slot.insets.top_emu - slot.insets.bottom_emu) / EMU_PER_PT


def bullets_height_pt(bullets: tuple[Bullet, ...], width_pt: float, size_pt: float,
                      measure: Measurer, spacing: float = 1.0) -> float:
    """Height of bullets set at ``size_pt`` in a frame ``width_pt`` wide, lines ``spacing``
    times single."""
    total = 0.0
    for i, b in enumerate(bullets):
        indent = (BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU) / EMU_PER_PT
        total += (PARA_SPACE_PT if i else 0) + spacing * measure.text_height_pt(
            bullet_text(b), width_pt - indent, size_pt)
    return total


def lines_height_pt(lines: list[str], width_pt: float, size_pt: float, measure: Measurer,
                    bold: bool = False, spacing: float = 1.0) -> float:
    """Height of flush paragraphs (one per line of ``lines``)."""
    return sum((PARA_SPACE_PT if i else 0) +
               spacing * measure.text_height_pt(t, width_pt, size_pt, bold)
               for i, t in enumerate(lines))


def fit_size(height_at: Callable[[float], float], box_height_pt: float,
             sizes: tuple[float, float]) -> float | None:
    """The largest size from preferred down to floor (1 pt steps) whose height fits, or None.

    >>> fit_size(lambda s: s * 2, 30, (18, 12)), fit_size(lambda s: s * 2, 10, (18, 12))
    (15, None)
    """
    preferred, floor = sizes
    size = preferred
    while size >= floor - 1e-9:
        if height_at(size) <= box_height_pt:
            return size
        size -= 1
    return None


def text_frame(slot: m.Slot, paragraphs: tuple[m.Paragraph, ...], *,
               autofit: bool = True) -> m.TextFrame:
    return m.TextFrame(slot, slot.box, slot.insets, paragraphs, autofit)


def emu(points: float) -> int:
    """Points to EMU, rounded up so a measured height is never cut short."""
    return int(math.ceil(points * EMU_PER_PT))


# ------------------------------------------------------------------------------------------
# the stage


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of a slide before its title and number are known: the outline slide with only
    the bullets or rows this page shows, and the sizes chosen for them."""

    slide: Slide
    body_pt: float | None = None
    side_pt: float | None = None
    table_pt: float | None = None


def fit_slide(slide: Slide, roles: Roles, ctx: FitContext) -> tuple[m.Slide, ...]:
    """One outline slide as one or more model slides (continuations), numbered 0."""
    pages = _paginate(slide, roles, ctx)
    total = len(pages)
    return tuple(_build(page, n, total, roles, ctx) for n, page in enumerate(pages, start=1))


def number_slides(slides: list[m.Slide]) -> tuple[m.Slide, ...]:
    """Give each slide its number (1-based) in the slide-number placeholder."""
    return tuple(replace(s, number=replace(s.number, value=n)) if s.number else s
                 for n, s in enumerate(slides, start=1))


def continued_title(title: str, n: int, total: int, labels: Labels) -> str:
    """``Sources (2/3)`` style titles: the part number, and 'cont.' after the first."""
    if total == 1:
        return title
    suffix = f" ({fill(labels.page, n=n, total=total)})"
    return f"{title} {labels.cont}{suffix}" if n > 1 else title + suffix


def _build(page: _Page, n: int, total: int, roles: Roles, ctx: FitContext) -> m.Slide:
    s = page.slide
    title_text = continued_title(s.title, n, total, ctx.labels)
    size = _fit_title(title_text, roles.title, ctx)
    base = dict(
        key=s.key, part=n, parts=total, layout=roles.layout,
        title=text_frame(roles.title, (_flush(title_text, ctx, size, True, major=True),)),
        footer=_footer(s.footer, roles.footer, ctx),
        number=m.SlideNumber(roles.number, 0, ctx.lang) if roles.number else None,
        notes=tuple(_flush(t, ctx, ctx.sizes.notes, i == 0) for i, t in enumerate(s.notes)))
    return _body(page, roles, ctx, base)


def _body(page: _Page, roles: Roles, ctx: FitContext, base: dict) -> m.Slide:
    s = page.slide
    if s.layout in ("title", "section"):
        kind = m.TitleSlide if s.layout == "title" else m.SectionSlide
        return kind(**base, subtitle=_subtitle(s.subtitle, roles.main, ctx))
    if s.table is not None:
        kind = m.SourcesSlide if s.layout == "sources" else m.TableSlide
        return kind(**base, table=_table(s.table, roles.main, page.table_pt, ctx))
    side_slot = roles.side if s.layout in ("chart", "two_content") else None
    side = _bullets_frame(side_slot, _side_bullets(s), page.side_pt, ctx)
    if s.chart is not None:
        return m.ChartSlide(**base, chart=_chart(s.chart, roles.main, ctx), side=side)
    if s.diagram is not None:
        return m.DiagramSlide(**base, diagram=_diagram(s.diagram, roles.main, ctx), side=side)
    if s.picture is not None:
        return m.PictureSlide(**base, picture=_picture(s.picture, roles.main), side=side)
    body = _bullets_frame(roles.main, s.bullets, page.body_pt, ctx)
    if s.layout == "two_content":
        return m.TwoColumnSlide(**base, left=body, right=side)
    return m.BulletsSlide(**base, body=body)


def has_graphic(slide: Slide) -> bool:
    """A chart, diagram or picture takes the main area of a two-part slide."""
    return slide.chart is not None or slide.diagram is not None or slide.picture is not None


def _side_bullets(s: Slide) -> tuple[Bullet, ...]:
    """Beside a graphic, the slide's bullets (or, if it has none, its right column); on a
    text-only two-part slide, the right column."""
    if has_graphic(s):
        return s.bullets or s.right
    return s.right


def _fit_title(title: str, slot: m.Slot, ctx: FitContext) -> float:
    width = inner_width_pt(slot)

    def height(s: float) -> float:
        return slot.line_spacing * ctx.heading.text_height_pt(title, width, s, True)

    size = fit_size(height, inner_height_pt(slot), ctx.sizes.title)
    if size is None:
        raise _too_long("title", title, height(ctx.sizes.title[1]), inner_height_pt(slot),
                        ctx.sizes.title[1])
    return size


def _too_long(part: str, text: str, need: float, room: float, size: float) -> FitError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return FitError(part, f"too long for its box even at {size:g} pt (needs {need:.0f} pt, "
                    f"the box holds {room:.0f} pt); expected a shorter text, got {shown!r}")


def _subtitle(text: str, slot: m.Slot | None, ctx: FitContext) -> m.TextFrame | None:
    if slot is None or not text:
        return None
    lines = text.split("\n")
    width = inner_width_pt(slot)

    def height(s: float) -> float:
        return lines_height_pt(lines, width, s, ctx.body, spacing=slot.line_spacing)

    size = fit_size(height, inner_height_pt(slot), ctx.sizes.subtitle)
    if size is None:
        floor = ctx.sizes.subtitle[1]
        raise _too_long("subtitle", text, height(floor), inner_height_pt(slot), floor)
    return text_frame(slot, tuple(_flush(t, ctx, size, i == 0) for i, t in enumerate(lines)))


def _bullets_frame(slot: m.Slot | None, bullets: tuple[Bullet, ...], size_pt: float | None,
                   ctx: FitContext) -> m.TextFrame | None:
    if slot is None or not bullets or size_pt is None:
        return None
    return text_frame(slot, tuple(_bullet(b, ctx, size_pt, i == 0)
                                  for i, b in enumerate(bullets)))


def _footer(text: str, slot: m.Slot | None, ctx: FitContext) -> m.TextFrame | None:
    """The footer at the placeholder's own size if it fits its box, else smaller."""
    if slot is None or not text:
        return None
    own = slot.size_pt or 10
    width = inner_width_pt(slot)
    room = max(inner_height_pt(slot), ctx.body.line_height_pt(text, own))
    size = fit_size(lambda s: ctx.body.text_height_pt(text, width, s), room,
                    (own, ctx.sizes.footer_floor))
    if size is None:
        floor = ctx.sizes.footer_floor
        raise _too_long("footer", text, ctx.body.text_height_pt(text, width, floor), room,
                        floor)
    chosen = None if size == own else size
    para = m.Paragraph(runs(text, ctx, chosen, east_asian=True), style="inherit")
    return m.TextFrame(slot, slot.box, slot.insets, (para,), autofit=False)


# ------------------------------------------------------------------------------------------
# pagination


def _paginate(slide: Slide, roles: Roles, ctx: FitContext) -> list[_Page]:
    if slide.table is not None:
        assert roles.main is not None
        return _paginate_table(slide, roles.main, ctx)
    if slide.layout in ("title", "section"):
        return [_Page(slide)]
    parts: list[tuple[str, m.Slot | None, tuple[float, float]]]
    if slide.layout in ("chart", "two_content") and has_graphic(slide):
        parts = [("side", roles.side, ctx.sizes.side)]
    elif slide.layout in ("chart", "two_content"):
        parts = [("body", roles.main, ctx.sizes.body), ("side", roles.side, ctx.sizes.side)]
    else:
        parts = [("body", roles.main, ctx.sizes.body)]
    chosen: dict[str, float] = {}
    chunks: dict[str, list[tuple[Bullet, ...]]] = {}
    for part, slot, sizes in parts:
        attr = _bullet_attr(slide, part)
        bullets = getattr(slide, attr)
        if slot is None or not bullets:
            continue
        chosen[part + "_pt"], pages = _fit_bullets(bullets, slot, sizes, ctx)
        if len(pages) > 1:
            chunks[attr] = pages
    count = _parts(max((len(c) for c in chunks.values()), default=1))
    return [_Page(replace(slide, **{a: c[i] if i < len(c) else () for a, c in chunks.items()}),
                  **chosen) for i in range(count)]


def _parts(count: int) -> int:
    if count > MAX_PARTS:
        raise FitError("slide", f"needs {count} slides to show its text; expected at most "
                       f"{MAX_PARTS} (a text far too long to present?)")
    return count


def _fit_bullets(bullets: tuple[Bullet, ...], slot: m.Slot, sizes: tuple[float, float],
                 ctx: FitContext) -> tuple[float, list[tuple[Bullet, ...]]]:
    """The size bullets take in ``slot``, and their pages: one if they fit at some size, else
    as many as they need at the floor size."""
    width, height, spacing = inner_width_pt(slot), inner_height_pt(slot), slot.line_spacing
    size = fit_size(lambda s: bullets_height_pt(bullets, width, s, ctx.body, spacing), height,
                    sizes)
    if size is not None:
        return size, [bullets]
    return sizes[1], _chunk_bullets(bullets, width, height, sizes[1], spacing, ctx)


def _bullet_attr(slide: Slide, part: str) -> str:
    """Which of the slide's bullet lists a part shows."""
    if part == "body":
        return "bullets"
    return "bullets" if has_graphic(slide) and slide.bullets else "right"


def _chunk_bullets(bullets: tuple[Bullet, ...], width: float, height: float, size: float,
                   spacing: float, ctx: FitContext) -> list[tuple[Bullet, ...]]:
    """Bullets split into pages at the floor size; a bullet taller than a page continues on
    the next (:func:`split_bullet`)."""
    pieces = [piece for b in bullets
              for piece in split_bullet(b, width, height, size, spacing, ctx.body)]
    chunks: list[tuple[Bullet, ...]] = [()]
    for b in pieces:
        trial = chunks[-1] + (b,)
        if chunks[-1] and bullets_height_pt(trial, width, size, ctx.body, spacing) > height:
            chunks.append((b,))
        else:
            chunks[-1] = trial
    return chunks


def split_bullet(b: Bullet, width: float, height: float, size: float, spacing: float,
                 measure: Measurer) -> tuple[Bullet, ...]:
    """A bullet as pieces that each fit ``height``: cut where its lines begin, so that each
    piece wraps into the lines it had; the claim markers stay with the last piece."""
    if bullets_height_pt((b,), width, size, measure, spacing) <= height:
        return (b,)
    full = bullet_text(b)
    indent = (BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU) / EMU_PER_PT
    starts = measure.line_starts(full, width - indent, size)
    line_h = spacing * measure.line_height_pt(full, size)
    for per_page in range(int(height // line_h), 0, -1):
        cuts = [0, *starts[per_page::per_page], len(full)]
        pieces = tuple(_piece(b, a, z) for a, z in zip(cuts, cuts[1:], strict=False) if z > a)
        if all(bullets_height_pt((p,), width, size, measure, spacing) <= height
               for p in pieces):
            return pieces
    raise _too_long("bullets", b.text, line_h, height, size)


def _piece(b: Bullet, start: int, end: int) -> Bullet:
    """The part of ``b``'s text between two offsets of its shown text (text, space, marks);
    the last part carries the marks."""
    last = end >= len(bullet_text(b))
    return Bullet(b.text[start:end].rstrip(), b.level, b.marks if last else "")


def column_widths_emu(table: Table, width_emu: int) -> tuple[int, ...]:
    """Column widths from the table's relative widths; the last takes the rounding."""
    rel = table.widths or (1.0,) * len(table.columns)
    total = sum(rel)
    widths = [int(width_emu * r / total) for r in rel]
    widths[-1] = width_emu - sum(widths[:-1])
    return tuple(widths)


def row_heights_pt(table: Table, rows: tuple[tuple[str, ...], ...], width_emu: int,
                   size_pt: float, measure: Measurer) -> list[float]:
    """Height of the header row and each given row: its tallest cell plus cell insets."""
    widths = column_widths_emu(table, width_emu)
    lr = CELL_INSETS.left_emu + CELL_INSETS.right_emu
    tb = (CELL_INSETS.top_emu + CELL_INSETS.bottom_emu) / EMU_PER_PT
    return [tb + max(measure.text_height_pt(text, (w - lr) / EMU_PER_PT, size_pt, r == 0)
                     for text, w in zip(row, widths, strict=True))
            for r, row in enumerate((table.columns,) + rows)]


def _paginate_table(slide: Slide, slot: m.Slot, ctx: FitContext) -> list[_Page]:
    table = slide.table
    assert table is not None
    avail = slot.box.height_emu / EMU_PER_PT
    width = slot.box.width_emu
    size = fit_size(lambda s: sum(row_heights_pt(table, table.rows, width, s, ctx.body)), avail,
                    ctx.sizes.table)
    if size is not None:
        return [_Page(slide, table_pt=size)]
    size = ctx.sizes.table[1]
    header = row_heights_pt(table, (), width, size, ctx.body)[0]
    if header > avail:
        raise _too_long("table", " | ".join(table.columns), header, avail, size)
    rows = tuple(sub for row in table.rows
                 for sub in split_row(table, row, width, size, avail - header, ctx.body))
    body = row_heights_pt(table, rows, width, size, ctx.body)[1:]
    pages: list[_Page] = []
    start = 0
    while start < len(rows):
        used, end = header, start
        while end < len(rows) and (used + body[end] <= avail or end == start):
            used += body[end]
            end += 1
        pages.append(_Page(replace(slide, table=replace(table, rows=rows[start:end])),
                           table_pt=size))
        start = end
    _parts(len(pages))
    return pages


def split_row(table: Table, row: tuple[str, ...], width_emu: int, size: float, room: float,
              measure: Measurer) -> tuple[tuple[str, ...], ...]:
    """A table row as rows that each fit ``room`` (points): every cell cut where its lines
    begin, the same number of lines per row; short cells leave the later rows empty."""
    if row_heights_pt(table, (row,), width_emu, size, measure)[1] <= room:
        return (row,)
    lr = CELL_INSETS.left_emu + CELL_INSETS.right_emu
    tb = (CELL_INSETS.top_emu + CELL_INSETS.bottom_emu) / EMU_PER_PT
    widths = column_widths_emu(table, width_emu)
    starts = [measure.line_starts(text, (w - lr) / EMU_PER_PT, size) + [len(text)]
              for text, w in zip(row, widths, strict=True)]
    line_h = max(measure.line_height_pt(text, size) for text in row)
    for per_row in range(int((room - tb) // line_h), 0, -1):
        count = max(math.ceil((len(st) - 1) / per_row) for st in starts)
        rows = tuple(tuple(text[st[min(k * per_row, len(st) - 1)]:
                                st[min((k + 1) * per_row, len(st) - 1)]].rstrip()
                           for text, st in zip(row, starts, strict=True))
                     for k in range(count))
        if all(h <= room for h in row_heights_pt(table, rows, width_emu, size, measure)[1:]):
            return rows
    raise _too_long("table", max(row, key=len), line_h + tb, room, size)


# ------------------------------------------------------------------------------------------
# graphics


def _table(table: Table, slot: m.Slot | None, size: float | None,
           ctx: FitContext) -> m.TableFrame:
    assert slot is not None and size is not None
    box = slot.box
    heights = row_heights_pt(table, table.rows, box.width_emu, size, ctx.body)
    rows = []
    for i, row in enumerate((table.columns,) + table.rows):
        fill_paint = HEADER_FILL if i == 0 else (ZEBRA_FILL if i % 2 == 0 else WHITE)
        header = i == 0
        cells = tuple(m.TableCell((m.Paragraph(
            runs(text, ctx, size, bold=True if header else None, color=WHITE if header else None),
            style="inherit", end_size_pt=size, end_lang=ctx.lang),), fill_paint) for text in row)
        rows.append(m.TableRow(emu(heights[i]), cells))
    alt = f"{table.columns[0]}: " + ", ".join(table.columns[1:])
    return m.TableFrame(slot, box, column_widths_emu(table, box.width_emu), tuple(rows),
                        CELL_INSETS, alt)


def plan_category_labels(kind: str, categories: tuple[str, ...], box: m.Box,
                         sizes: tuple[float, float], measure: Measurer) -> tuple[float, int]:
    """Category label size and rotation, by rule: labels side by side (column and line charts)
    must each fit their slot; if they do not at the floor size they are turned -45 degrees.
    Labels stacked (bar charts) must fit their row's height."""
    if not categories:
        return sizes[0], 0
    n = len(categories)
    if kind == "bar":
        slot_pt = box.height_emu * PLOT_SHARE / n / EMU_PER_PT
        size = fit_size(lambda s: measure.line_height_pt("Ag", s), slot_pt, sizes)
        return (size or sizes[1]), 0
    slot_pt = box.width_emu * PLOT_SHARE / n / EMU_PER_PT * (1 - SAFETY)
    widest = max(categories, key=lambda c: measure.width_em(c))
    size = fit_size(lambda s: measure.text_width_pt(widest, s), slot_pt, sizes)
    return (size, 0) if size is not None else (sizes[1], -45)


def _chart(chart: Chart, slot: m.Slot | None, ctx: FitContext) -> m.ChartFrame:
    assert slot is not None
    size, rotation = plan_category_labels(chart.kind, chart.categories, slot.box,
                                          ctx.sizes.chart_labels, ctx.body)
    lo = min(min(s.values) for s in chart.series)
    return m.ChartFrame(
        slot=slot, box=slot.box, kind=chart.kind, categories=chart.categories,
        series=chart.series,
        number_format=chart.number_format, log_scale=chart.log_scale,
        minimum_zero=not chart.log_scale and lo >= 0, highlight=chart.highlight,
        title=chart.title, value_axis_title=chart.value_axis_title, alt=chart.alt, lang=ctx.lang,
        text_pt=12, title_pt=14, data_labels_pt=12, value_ticks_pt=11, axis_title_pt=11,
        category_pt=size, category_rotation=rotation, legend=len(chart.series) > 1,
        series_paint=ACCENT, other_paint=MUTED, highlight_paint=HIGHLIGHT,
        gap_width=0 if chart.kind == "line" else 60)


def _picture(picture: Picture, slot: m.Slot | None) -> m.PictureFrame:
    """The picture scaled to fit the main area, centred, aspect kept."""
    assert slot is not None
    box = slot.box
    scale = min(box.width_emu / picture.width_px, box.height_emu / picture.height_px)
    pw, ph = max(1, int(picture.width_px * scale)), max(1, int(picture.height_px * scale))
    return m.PictureFrame(slot, m.Box(box.left_emu + (box.width_emu - pw) // 2,
                                      box.top_emu + (box.height_emu - ph) // 2, pw, ph),
                          picture.path, picture.alt)


def _diagram(d: Diagram, slot: m.Slot | None, ctx: FitContext) -> m.ShapeGroup:
    """Mixture of Experts as native shapes: input -> router -> experts (few active) -> output.

    Columns in tenths of the area: prompt 0-1.8, router 2.3-4.3, experts 5-7.7, answer 8.2-10.
    """
    assert slot is not None
    box = slot.box
    n = len(d.experts)
    box_h = min(box.height_emu // (n + 1), emu(40))
    gap = (box.height_emu - n * box_h) // (n + 1)
    node_h = min(emu(60), box.height_emu // 3)
    mid = box.top_emu + box.height_emu // 2 - node_h // 2
    node = _node_maker(box, ctx)
    inp = node(0, 1.8, mid, node_h, d.input, ZEBRA_FILL, MUTED, INK)
    router = node(2.3, 4.3, mid, node_h, d.router, HEADER_FILL, HEADER_FILL, WHITE, True)
    items: list[m.Node | m.Line] = [inp, router, _connect(inp.box, router.box, MUTED, 1.25)]
    out = node(8.2, 10, mid, node_h, d.output, ZEBRA_FILL, MUTED, INK) if d.output else None
    items += [out] if out else []
    for i, name in enumerate(d.experts):
        active = i in d.active
        ex = node(5, 7.7, box.top_emu + gap + i * (box_h + gap), box_h, name,
                  HIGHLIGHT if active else WHITE, HIGHLIGHT if active else MUTED,
                  WHITE if active else MUTED, active)
        items.append(ex)
        if active:
            items.append(_connect(router.box, ex.box, HIGHLIGHT, 2.25))
            items += [_connect(ex.box, out.box, HIGHLIGHT, 2.25)] if out else []
    return m.ShapeGroup(slot, "MoE diagram", d.alt, tuple(items), 1.0)


def _node_maker(box: m.Box, ctx: FitContext) -> Callable[..., m.Node]:
    """Makes the diagram's labelled boxes, placed in tenths of ``box``'s width."""
    u = box.width_emu / 10
    inset = m.Insets(91440 // 3, 45720, 91440 // 3, 45720)
    size = ctx.sizes.diagram

    def node(x0: float, x1: float, y: int, h: int, text: str, fill_paint: m.Paint,
             line: m.Paint, color: m.Paint, bold: bool = False) -> m.Node:
        para = m.Paragraph(runs(text, ctx, size, bold=bold, color=color), style="inherit",
                           align="center", end_size_pt=size, end_lang=ctx.lang)
        return m.Node(m.Box(int(box.left_emu + x0 * u), y, int((x1 - x0) * u), h), (para,),
                      fill_paint, line, inset)

    return node


def _connect(a: m.Box, b: m.Box, paint: m.Paint, width_pt: float) -> m.Line:
    """A straight line from a's right edge to b's left edge, at their middles."""
    return m.Line(a.right_emu, a.top_emu + a.height_emu // 2, b.left_emu,
                  b.top_emu + b.height_emu // 2, paint, width_pt)
