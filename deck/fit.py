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
from collections.abc import Callable, Iterator

import msgspec
from msgspec.structs import replace  # every value fitting changes is a frozen struct

from . import colors
from . import model as m
from .identity import shape_name
from .l10n import Labels, fill
from .measure import SAFETY, Measurer
from .outline import Bullet, Chart, Diagram, Picture, Slide, Table
from .roles import Place, Roles, place_of

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


class Sizes(msgspec.Struct, frozen=True):
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


class FitContext(msgspec.Struct, frozen=True):
    """Everything fitting depends on besides the slide: a value, so it can key a memo."""

    lang: str  # BCP-47 tag of the deck, e.g. ko-KR
    labels: Labels
    heading: Measurer
    body: Measurer
    sizes: Sizes = Sizes()
    rtl: bool = False  # the deck's language is written right to left

    def cache_key(self) -> tuple:
        """This context as plain values, the same in every process: what a cache kept across
        processes (:mod:`deck.cache`) keys fitted slides on."""
        return (self.lang, msgspec.json.encode(self.labels), self.heading.identity,
                self.body.identity, self.sizes, self.rtl)

    def direction(self, align: str | None = None) -> dict:
        """Paragraph settings for the deck's writing direction: right to left and aligned
        right (or as ``align`` says) for Arabic or Hebrew; nothing else otherwise."""
        if not self.rtl:
            return {"align": align} if align else {}
        return {"rtl": True, "align": align or "right"}


# ------------------------------------------------------------------------------------------
# text


#: a run of Hangul (jamo, compatibility jamo, syllables), or of Latin letters
_SCRIPT_RUN = re.compile("(?P<ko>[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]+)"
                         "|(?P<en>[A-Za-z\u00c0-\u024f]+)")
_SCRIPT_LANG = {"ko": "ko-KR", "en": "en-US"}


def split_by_script(text: str, deck_lang: str) -> list[tuple[str, str]]:
    """Split text into (segment, language) so Hangul and Latin words carry their own language.

    Digits, spaces and punctuation stay with the segment before them (with the deck's
    language at the start of the text). Found as runs of each script, not character by
    character.

    >>> split_by_script("딥시크 R1은 o1과 비슷", "ko-KR")
    [('딥시크 ', 'ko-KR'), ('R1', 'en-US'), ('은 ', 'ko-KR'), ('o1', 'en-US'), ('과 비슷', 'ko-KR')]
    >>> split_by_script("Naver rose 5%", "en-US")
    [('Naver rose 5%', 'en-US')]
    >>> split_by_script("(5%) 네이버", "en-US")
    [('(5%) ', 'en-US'), ('네이버', 'ko-KR')]
    """
    out: list[list[str]] = []
    end = 0
    for run in _SCRIPT_RUN.finditer(text):
        lang = _SCRIPT_LANG[run.lastgroup or ""]
        if run.start() > end:  # what is between: with the segment before it
            if out:
                out[-1][0] += text[end:run.start()]
            else:
                out.append([text[end:run.start()], deck_lang])
        if out and out[-1][1] == lang:
            out[-1][0] += run.group()
        else:
            out.append([run.group(), lang])
        end = run.end()
    if end < len(text):
        if out:
            out[-1][0] += text[end:]
        else:
            out.append([text[end:], deck_lang])
    return [(seg, lang) for seg, lang in out]


def runs(text: str, ctx: FitContext, size_pt: float | None, *, major: bool = False,
         bold: bool | None = None, color: m.Paint | None = None,
         east_asian: bool = False) -> tuple[m.Run, ...]:
    """Text as runs, one per script; Hangul (and every run of a Korean deck) gets the East
    Asian face, as do all runs where ``east_asian`` is set."""
    ea = east_asian or ctx.lang.split("-")[0] in ("ko", "ja", "zh")
    return tuple(m.Run(seg, lang, size_pt, ea or lang.startswith("ko"), major, bold, color)
                 for seg, lang in split_by_script(text, ctx.lang))


def _flush(text: str, ctx: FitContext, size_pt: float, first: bool, *, major: bool = False,
           color: m.Paint | None = None) -> m.Paragraph:
    """A paragraph with no bullet and no indent."""
    return m.Paragraph(runs(text, ctx, size_pt, major=major, color=color), style="flush",
                       space_before_pt=0 if first else PARA_SPACE_PT,
                       end_size_pt=size_pt, end_lang=ctx.lang, **ctx.direction())


def _bullet(b: Bullet, ctx: FitContext, size_pt: float, first: bool, ink: _Ink) -> m.Paragraph:
    marks = runs(" " + b.marks, ctx, size_pt * MARKS_SCALE,
                 color=ink.marks(size_pt * MARKS_SCALE)) if b.marks else ()
    return m.Paragraph(runs(b.text, ctx, size_pt, color=ink.text(size_pt)) + marks,
                       style="bullet", level=b.level,
                       margin_left_emu=BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU,
                       indent_emu=-BULLET_INDENT_EMU,
                       space_before_pt=0 if first else PARA_SPACE_PT,
                       end_size_pt=size_pt, end_lang=ctx.lang,
                       bullet_char="•" if ink.place.free else None,
                       bullet_color=ink.bullet(size_pt), **ctx.direction())


# ------------------------------------------------------------------------------------------
# colour: every text the build sets is legible on what it sits on


def resolve(paint: m.Paint, layout: m.LayoutInfo) -> str:
    """The RGB a paint shows on ``layout``'s master."""
    return paint.rgb or colors.brightness(layout.color(paint.color), paint.brightness)


def _reads(rgb: str, backdrop: tuple[str, ...], size_pt: float, bold: bool) -> bool:
    need = colors.required(size_pt, bold)
    return all(colors.contrast(rgb, c) >= need for c in backdrop)


def legible(backdrop: tuple[str, ...], size_pt: float, bold: bool, layout: m.LayoutInfo,
            prefer: m.Paint | None = None) -> m.Paint | None:
    """``prefer`` if it reads on every colour of ``backdrop`` at WCAG AA, else the first theme
    text or background colour that does, else black or white; None if none does."""
    for paint in ([prefer] if prefer else []) + [INK, WHITE, HEADER_FILL, ZEBRA_FILL]:
        if _reads(resolve(paint, layout), backdrop, size_pt, bold):
            return paint
    for rgb in ("000000", "FFFFFF"):
        if _reads(rgb, backdrop, size_pt, bold):
            return m.Paint("tx1", 0.0, rgb)
    return None


def on_fill(fill: m.Paint, size_pt: float, bold: bool, layout: m.LayoutInfo,
            prefer: m.Paint | None = None) -> m.Paint:
    """A text colour legible on one solid fill (black or white always is, one of them)."""
    found = legible((resolve(fill, layout),), size_pt, bold, layout, prefer)
    assert found is not None  # on one colour, black or white reaches 4.5:1
    return found


def muted(backdrop: tuple[str, ...], size_pt: float, layout: m.LayoutInfo) -> m.Paint:
    """The lightest tint of the text colour still legible on ``backdrop`` (for markers)."""
    base = legible(backdrop, size_pt, False, layout) or m.Paint("tx1", 0.0, "000000")
    for amount in (0.45, 0.35, 0.25, 0.15):
        for sign in (1, -1):
            paint = m.Paint(base.color, sign * amount, None if base.rgb is None else
                            colors.brightness(base.rgb, sign * amount))
            if _reads(resolve(paint, layout), backdrop, size_pt, False):
                return paint
    return base


class _Ink(msgspec.Struct, frozen=True):
    """The colours of text in one place. ``backing`` is a fill put behind the text where no
    colour reads on everything the place sits on (a picture, several colours); text keeps the
    place's own colour (None) where that reads and the master's styles set it."""

    place: Place
    layout: m.LayoutInfo
    backing: m.Paint | None = None

    @property
    def backdrop(self) -> tuple[str, ...]:
        if self.backing is not None:
            return (resolve(self.backing, self.layout),)
        return self.place.behind.colors

    def text(self, size_pt: float, bold: bool = False) -> m.Paint | None:
        p = self.place
        if self.backing is None and _reads(p.text_rgb, self.backdrop, size_pt, bold):
            # a colour read off LibreOffice's sample text is set, so PowerPoint shows it too
            return m.Paint("tx1", 0.0, p.text_rgb) if p.text_rgb_sampled else None
        return legible(self.backdrop, size_pt, bold, self.layout) or on_fill(
            WHITE, size_pt, bold, self.layout)

    def marks(self, size_pt: float) -> m.Paint:
        return muted(self.backdrop, size_pt, self.layout)

    def bullet(self, size_pt: float) -> m.Paint | None:
        """The bullets' colour where the master's would not read (else theirs stays)."""
        own = self.place.slot.bullet_rgb if self.place.slot is not None else None
        if own is None or _reads(own, self.backdrop, size_pt, False):
            return None
        return self.text(size_pt) or INK


def ink_for(place: Place, layout: m.LayoutInfo) -> _Ink:
    """The colours for text in ``place`` (with the backing :func:`backed` chose)."""
    return _Ink(place, layout, place.backing)


#: a backing fill keeps its text this far from its edges at least
BACKING_INSETS = m.Insets(91440, 45720, 91440, 45720)


def backed(place: Place | None, layout: m.LayoutInfo, smallest_pt: float,
           bold: bool = False) -> Place | None:
    """``place`` with a backing fill (and insets to keep text off its edges) where no colour
    reads, at ``smallest_pt``, on everything behind it: a picture, or several colours."""
    if place is None or place.backing is not None:
        return place
    behind = place.behind
    own = m.Paint("tx1", 0.0, place.text_rgb)
    if not behind.textured and legible(behind.colors, smallest_pt, bold, layout, own):
        return place
    ins = place.insets
    padded = m.Insets(max(ins.left_emu, BACKING_INSETS.left_emu),
                      max(ins.top_emu, BACKING_INSETS.top_emu),
                      max(ins.right_emu, BACKING_INSETS.right_emu),
                      max(ins.bottom_emu, BACKING_INSETS.bottom_emu))
    return replace(place, backing=WHITE, insets=padded)


def with_backings(roles: Roles, sizes: Sizes) -> Roles:
    """The roles with a backing where their smallest text would not read on the slide."""
    layout = roles.layout
    return replace(
        roles, title=backed(roles.title, layout, sizes.title[1], True),
        main=backed(roles.main, layout, sizes.side[1] * MARKS_SCALE),
        side=backed(roles.side, layout, sizes.side[1] * MARKS_SCALE))


def bullet_text(b: Bullet) -> str:
    """What a bullet shows, markers included (measured at the bullet's size: a margin)."""
    return f"{b.text} {b.marks}" if b.marks else b.text


def inner_width_pt(place: Place | m.Slot) -> float:
    return (place.box.width_emu - place.insets.left_emu - place.insets.right_emu) / EMU_PER_PT


def inner_height_pt(place: Place | m.Slot) -> float:
    return (place.box.height_emu - place.insets.top_emu - place.insets.bottom_emu) / EMU_PER_PT


def bullets_height_pt(bullets: tuple[Bullet, ...], width_pt: float, size_pt: float,
                      measure: Measurer, spacing: float = 1.0,
                      limit: float = math.inf) -> float:
    """Height of bullets set at ``size_pt`` in a frame ``width_pt`` wide, lines ``spacing``
    times single; measured only until it passes ``limit`` (enough to know they do not fit)."""
    total = 0.0
    for i, b in enumerate(bullets):
        indent = (BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU) / EMU_PER_PT
        total += (PARA_SPACE_PT if i else 0) + spacing * measure.text_height_pt(
            bullet_text(b), width_pt - indent, size_pt)
        if total > limit:
            break
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


def text_frame(place: Place, paragraphs: tuple[m.Paragraph, ...], *, autofit: bool = True,
               fill: m.Paint | None = None) -> m.TextFrame:
    return m.TextFrame(place.slot, place.box, place.insets, paragraphs, autofit, fill)


def emu(points: float) -> int:
    """Points to EMU, rounded up so a measured height is never cut short."""
    return int(math.ceil(points * EMU_PER_PT))


# ------------------------------------------------------------------------------------------
# the stage


class _Page(msgspec.Struct, frozen=True):
    """One page of a slide before its title and number are known: the outline slide with only
    the bullets or rows this page shows, and the sizes chosen for them."""

    slide: Slide
    body_pt: float | None = None
    side_pt: float | None = None
    table_pt: float | None = None


def fit_slide(slide: Slide, roles: Roles, ctx: FitContext) -> tuple[m.Slide, ...]:
    """One outline slide as one or more model slides (continuations), numbered 0."""
    roles = with_backings(roles, ctx.sizes)
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
    ink = ink_for(roles.title, roles.layout)
    base = dict(
        key=s.key, part=n, parts=total, layout=roles.ref,
        title=text_frame(roles.title, (_flush(title_text, ctx, size, True, major=True,
                                               color=ink.text(size, True)),),
                         fill=ink.backing),
        footer=_footer(s.footer, roles.footer, ctx, roles.layout),
        number=_number(roles.number, ctx, roles.layout),
        notes=tuple(_flush(t, ctx, ctx.sizes.notes, i == 0) for i, t in enumerate(s.notes)))
    return _named(_body(page, roles, ctx, base))


_FRAMES = (m.TextFrame, m.ChartFrame, m.TableFrame, m.PictureFrame, m.ShapeGroup, m.SlideNumber)


def _named(slide: m.Slide) -> m.Slide:
    """Every frame named for its slide and role (the model field it fills): the identity by
    which ``--merge`` finds it again in a deck edited by hand."""
    named = {name: replace(value, name=shape_name(slide.key, slide.part, name))
             for name in slide.__struct_fields__  # (msgspec.structs.fields re-reads the types)
             if isinstance(value := getattr(slide, name), _FRAMES)}
    return replace(slide, **named)


def _body(page: _Page, roles: Roles, ctx: FitContext, base: dict) -> m.Slide:
    s = page.slide
    layout = roles.layout
    if s.layout in ("title", "section"):
        kind = m.TitleSlide if s.layout == "title" else m.SectionSlide
        return kind(**base, subtitle=_subtitle(s.subtitle, roles.main, ctx, layout))
    if s.table is not None:
        kind = m.SourcesSlide if s.layout == "sources" else m.TableSlide
        return kind(**base, table=_table(s.table, roles.main, page.table_pt, ctx, layout))
    side_place = roles.side if s.layout in ("chart", "two_content") else None
    side = _bullets_frame(side_place, _side_bullets(s), page.side_pt, ctx, layout)
    if s.chart is not None:
        return m.ChartSlide(**base, chart=_chart(s.chart, roles.main, ctx, layout), side=side)
    if s.diagram is not None:
        return m.DiagramSlide(**base, diagram=_diagram(s.diagram, roles.main, ctx, layout),
                              side=side)
    if s.picture is not None:
        return m.PictureSlide(**base, picture=_picture(s.picture, roles.main), side=side)
    body = _bullets_frame(roles.main, s.bullets, page.body_pt, ctx, layout)
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


def _fit_title(title: str, place: Place, ctx: FitContext) -> float:
    width = inner_width_pt(place)

    def height(s: float) -> float:
        return place.line_spacing * ctx.heading.text_height_pt(title, width, s, True)

    size = fit_size(height, inner_height_pt(place), ctx.sizes.title)
    if size is None:
        raise _too_long("title", title, height(ctx.sizes.title[1]), inner_height_pt(place),
                        ctx.sizes.title[1])
    return size


def _too_long(part: str, text: str, need: float, room: float, size: float) -> FitError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return FitError(part, f"too long for its box even at {size:g} pt (needs {need:.0f} pt, "
                    f"the box holds {room:.0f} pt); expected a shorter text, got {shown!r}")


def _subtitle(text: str, place: Place | None, ctx: FitContext,
              layout: m.LayoutInfo) -> m.TextFrame | None:
    if place is None or not text:
        return None
    lines = text.split("\n")
    width = inner_width_pt(place)

    def height(s: float) -> float:
        return lines_height_pt(lines, width, s, ctx.body, spacing=place.line_spacing)

    size = fit_size(height, inner_height_pt(place), ctx.sizes.subtitle)
    if size is None:
        floor = ctx.sizes.subtitle[1]
        raise _too_long("subtitle", text, height(floor), inner_height_pt(place), floor)
    ink = ink_for(place, layout)
    return text_frame(place, tuple(_flush(t, ctx, size, i == 0, color=ink.text(size))
                                   for i, t in enumerate(lines)), fill=ink.backing)


def _bullets_frame(place: Place | None, bullets: tuple[Bullet, ...], size_pt: float | None,
                   ctx: FitContext, layout: m.LayoutInfo) -> m.TextFrame | None:
    if place is None or not bullets or size_pt is None:
        return None
    ink = ink_for(place, layout)
    return text_frame(place, tuple(_bullet(b, ctx, size_pt, i == 0, ink)
                                   for i, b in enumerate(bullets)), fill=ink.backing)


def _number(slot: m.Slot | None, ctx: FitContext, layout: m.LayoutInfo) -> m.SlideNumber | None:
    """The slide number in the layout's placeholder, in a colour that reads there, at the
    placeholder's own size if two digits fit its box, else smaller (down to the footer's
    floor)."""
    if slot is None:
        return None
    own = slot.size_pt or 10
    width = inner_width_pt(slot)
    size = fit_size(lambda s: slot.line_spacing * ctx.body.text_height_pt("99", width, s),
                    inner_height_pt(slot), (own, ctx.sizes.footer_floor))
    chosen = None if size is None or size == own else size
    place = backed(place_of(slot, layout), layout, chosen or own)
    ink = ink_for(place, layout)
    return m.SlideNumber(slot, 0, ctx.lang, ink.text(chosen or own), ink.backing,
                         size_pt=chosen)


def _footer(texts: tuple[str, ...], slot: m.Slot | None, ctx: FitContext,
            layout: m.LayoutInfo) -> m.TextFrame | None:
    """The footer at the placeholder's own size if it fits its box, else smaller, else in a
    shorter form."""
    if slot is None or not texts:
        return None
    own = slot.size_pt or 10
    width = inner_width_pt(slot)
    floor = ctx.sizes.footer_floor
    for text in texts:
        room = inner_height_pt(slot)
        size = fit_size(lambda s, t=text: slot.line_spacing * ctx.body.text_height_pt(
            t, width, s), room, (own, floor))
        if size is not None:
            break
    else:
        raise _too_long("footer", text, slot.line_spacing * ctx.body.text_height_pt(
            text, width, floor), room, floor)
    chosen = None if size == own else size
    place = backed(place_of(slot, layout), layout, chosen or own)
    ink = ink_for(place, layout)
    # flush: no space before from the master's body style, which readers apply differently
    para = m.Paragraph(runs(text, ctx, chosen, east_asian=True,
                            color=ink.text(chosen or own)), style="flush", **ctx.direction())
    return m.TextFrame(slot, slot.box, place.insets, (para,), autofit=False, fill=ink.backing)


# ------------------------------------------------------------------------------------------
# pagination


def _paginate(slide: Slide, roles: Roles, ctx: FitContext) -> list[_Page]:
    if slide.table is not None:
        assert roles.main is not None
        return _paginate_table(slide, roles.main, ctx)
    if slide.layout in ("title", "section"):
        return [_Page(slide)]
    parts: list[tuple[str, Place | None, tuple[float, float]]]
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


def _fit_bullets(bullets: tuple[Bullet, ...], slot: Place, sizes: tuple[float, float],
                 ctx: FitContext) -> tuple[float, list[tuple[Bullet, ...]]]:
    """The size bullets take in ``slot``, and their pages: one if they fit at some size, else
    as many as they need at the floor size."""
    width, height, spacing = inner_width_pt(slot), inner_height_pt(slot), slot.line_spacing
    size = fit_size(lambda s: bullets_height_pt(bullets, width, s, ctx.body, spacing, height),
                    height, sizes)
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
    return list(_row_heights(table, rows, width_emu, size_pt, measure))


def _row_heights(table: Table, rows: tuple[tuple[str, ...], ...], width_emu: int,
                 size_pt: float, measure: Measurer) -> Iterator[float]:
    widths = column_widths_emu(table, width_emu)
    lr = CELL_INSETS.left_emu + CELL_INSETS.right_emu
    tb = (CELL_INSETS.top_emu + CELL_INSETS.bottom_emu) / EMU_PER_PT
    for r, row in enumerate((table.columns,) + rows):
        yield tb + max(measure.text_height_pt(text, (w - lr) / EMU_PER_PT, size_pt, r == 0)
                       for text, w in zip(row, widths, strict=True))


def _table_height_pt(table: Table, width_emu: int, size_pt: float, measure: Measurer,
                     limit: float) -> float:
    """The table's height at ``size_pt``, measured only until it passes ``limit`` (a table
    of many rows need not be measured whole at every size to know it does not fit)."""
    total = 0.0
    for height in _row_heights(table, table.rows, width_emu, size_pt, measure):
        total += height
        if total > limit:
            break
    return total


def _paginate_table(slide: Slide, slot: Place, ctx: FitContext) -> list[_Page]:
    table = slide.table
    assert table is not None
    avail = slot.box.height_emu / EMU_PER_PT
    width = slot.box.width_emu
    size = fit_size(lambda s: _table_height_pt(table, width, s, ctx.body, avail), avail,
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


def _table(table: Table, place: Place | None, size: float | None, ctx: FitContext,
           layout: m.LayoutInfo) -> m.TableFrame:
    assert place is not None and size is not None
    box = place.box
    heights = row_heights_pt(table, table.rows, box.width_emu, size, ctx.body)
    header_ink = on_fill(HEADER_FILL, size, True, layout, WHITE)
    inks = {fill: on_fill(fill, size, False, layout, INK) for fill in (WHITE, ZEBRA_FILL)}
    rows = []
    for i, row in enumerate((table.columns,) + table.rows):
        fill_paint = HEADER_FILL if i == 0 else (ZEBRA_FILL if i % 2 == 0 else WHITE)
        ink = header_ink if i == 0 else inks[fill_paint]
        cells = tuple(m.TableCell((m.Paragraph(
            runs(text, ctx, size, bold=True if i == 0 else None, color=ink), style="inherit",
            end_size_pt=size, end_lang=ctx.lang, **ctx.direction()),), fill_paint) for text in row)
        rows.append(m.TableRow(emu(heights[i]), cells))
    alt = f"{table.columns[0]}: " + ", ".join(table.columns[1:])
    return m.TableFrame(place.slot, box, column_widths_emu(table, box.width_emu), tuple(rows),
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


def value_labels_fit(chart: Chart, box: m.Box, size_pt: float, measure: Measurer) -> bool:
    """Whether a horizontal value axis (bar charts) has room for its tick labels: about six
    labels as wide as the largest value would take, in the plot's width. Where they would run
    together the axis shows none: every bar carries its value as a data label anyway."""
    if chart.kind != "bar":
        return True
    widest = max((abs(v) for s in chart.series for v in s.values), default=0)
    return 6 * _tick_width_pt(chart, widest, size_pt, measure) <= _plot_width_pt(box)


def _tick_width_pt(chart: Chart, value: float, size_pt: float, measure: Measurer) -> float:
    """Room one value-axis label takes: the value with the format's literal text, and a gap."""
    literal = "".join(re.findall(r'"([^"]*)"', chart.number_format))
    return measure.text_width_pt(f"{value:,.0f}{literal}  ", size_pt)


def _plot_width_pt(box: m.Box) -> float:
    return box.width_emu * PLOT_SHARE / EMU_PER_PT


def value_step(chart: Chart, maximum: float | None, box: m.Box, size_pt: float,
               measure: Measurer) -> tuple[bool, float | None]:
    """Whether a bar chart's value axis shows tick labels, and its step: the smallest round
    step (1, 2, 2.5 or 5 times a power of ten, dividing the axis evenly) whose labels fit
    side by side in the plot's width. A viewer left to choose may pick more labels than fit
    ("100,000 명200,000 명..."). Other charts, log axes and steps the outline set: as before.

    >>> from types import SimpleNamespace as NS
    >>> wide = NS(text_width_pt=lambda text, size: 6.0 * len(text))
    >>> value_step(NS(kind="bar", log_scale=False, major_unit=None, number_format="#,##0",
    ...               series=()), 800_000, m.Box(0, 0, 5 * 914400, 914400), 11, wide)
    (True, 200000.0)
    """
    if chart.kind != "bar" or chart.log_scale or chart.major_unit or not maximum:
        return value_labels_fit(chart, box, size_pt, measure), chart.major_unit
    label = _tick_width_pt(chart, maximum, size_pt, measure)
    for count in (10, 8, 5, 4, 2, 1):  # steps across the axis, most labels first
        step = maximum / count
        mantissa = step / 10.0 ** math.floor(math.log10(step))
        if round(mantissa, 6) in (1, 2, 2.5, 5) and (count + 1) * label <= _plot_width_pt(box):
            return True, step
    return False, None


def _chart(chart: Chart, place: Place | None, ctx: FitContext,
           layout: m.LayoutInfo) -> m.ChartFrame:
    assert place is not None
    size, rotation = plan_category_labels(chart.kind, chart.categories, place.box,
                                          ctx.sizes.chart_labels, ctx.body)
    lo = min(min(s.values) for s in chart.series)
    ticks_pt = 11
    ink = ink_for(backed(replace(place, text_rgb=layout.color("tx1")), layout,
                         min(size, ticks_pt)), layout)
    maximum = _headroom(chart)
    ticks, step = value_step(chart, maximum, place.box, ticks_pt, ctx.body)
    return m.ChartFrame(
        slot=place.slot, box=place.box, kind=chart.kind, categories=chart.categories,
        series=chart.series, number_format=chart.number_format, log_scale=chart.log_scale,
        minimum_zero=not chart.log_scale and lo >= 0, highlight=chart.highlight,
        maximum=maximum,
        title=chart.title, value_axis_title=chart.value_axis_title, alt=chart.alt, lang=ctx.lang,
        text_pt=12, title_pt=14, data_labels_pt=12, value_ticks_pt=ticks_pt, axis_title_pt=11,
        category_pt=size, category_rotation=rotation, legend=len(chart.series) > 1,
        series_paint=ACCENT, other_paint=MUTED, highlight_paint=HIGHLIGHT,
        gap_width=0 if chart.kind == "line" else 60, major_unit=step,
        text_paint=ink.text(min(size, ticks_pt)) or INK, fill=ink.backing, value_ticks=ticks)


def _headroom(chart: Chart) -> float | None:
    """Where the value axis ends: room beyond the longest bar or column for its data label
    (left to itself the axis may end right at it). On a log axis the next power of ten; on a
    linear one a round number at least a quarter above the largest value."""
    top = max((v for s in chart.series for v in s.values), default=0.0)
    if top <= 0 or chart.kind == "line":
        return None
    if chart.log_scale:
        return 10.0 ** (math.floor(math.log10(top)) + 1)
    target = top * 1.25
    step = 10.0 ** math.floor(math.log10(target))
    return next(n * step for n in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if n * step >= target)


def _picture(picture: Picture, place: Place | None) -> m.PictureFrame:
    """The picture scaled to fit the main area, centred, aspect kept."""
    assert place is not None
    box = place.box
    scale = min(box.width_emu / picture.width_px, box.height_emu / picture.height_px)
    pw, ph = max(1, int(picture.width_px * scale)), max(1, int(picture.height_px * scale))
    return m.PictureFrame(place.slot, m.Box(box.left_emu + (box.width_emu - pw) // 2,
                                            box.top_emu + (box.height_emu - ph) // 2, pw, ph),
                          picture.path, picture.alt)


def _diagram(d: Diagram, place: Place | None, ctx: FitContext,
             layout: m.LayoutInfo) -> m.ShapeGroup:
    """Mixture of Experts as native shapes: input -> router -> experts (few active) -> output.

    Columns in tenths of the area: prompt 0-1.8, router 2.3-4.3, experts 5-7.7, answer 8.2-10.
    """
    assert place is not None
    box = place.box
    n = len(d.experts)
    box_h = min(box.height_emu // (n + 1), emu(40))
    gap = (box.height_emu - n * box_h) // (n + 1)
    node_h = min(emu(60), box.height_emu // 3)
    mid = box.top_emu + box.height_emu // 2 - node_h // 2
    labels = [(1.8, node_h, d.input), (2.0, node_h, d.router), (1.8, node_h, d.output or ""),
              *((2.7, box_h, name) for name in d.experts)]
    node = _node_maker(box, ctx, layout, _diagram_size(labels, box, ctx))
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
    return m.ShapeGroup(place.slot, "MoE diagram", d.alt, tuple(items), 1.0)


_NODE_INSETS = m.Insets(91440 // 3, 45720, 91440 // 3, 45720)
_DIAGRAM_FLOOR_PT = 7.0
# a rounded rectangle's text box sits inside its corners: 0.29289 of the corner radius, which
# is 1/6 of the shorter side by default (OOXML roundRect, adj 16667)
_ROUND_INSET = 0.29289 / 6


def _diagram_size(labels: list[tuple[float, int, str]], box: m.Box, ctx: FitContext) -> float:
    """The diagram's label size: its preferred size, or smaller (1 pt steps, 7 pt at least)
    until the longest word of every label fits across its box: a word is never broken in
    two ("Promp" over "t" on a narrow master). ``labels``: (width in tenths of ``box``, box
    height, text)."""
    u = box.width_emu / 10

    def inner_pt(tenths: float, height: int) -> float:
        width = tenths * u
        return (width - _NODE_INSETS.left_emu - _NODE_INSETS.right_emu
                - 2 * _ROUND_INSET * min(width, height)) / EMU_PER_PT

    words = [(inner_pt(tenths, height), word) for tenths, height, text in labels
             for word in text.split()]
    size = ctx.sizes.diagram
    while size > _DIAGRAM_FLOOR_PT and any(
            ctx.body.text_width_pt(word, size, bold=True) > room for room, word in words):
        size -= 1
    return size


def _node_maker(box: m.Box, ctx: FitContext, layout: m.LayoutInfo,
                size: float) -> Callable[..., m.Node]:
    """Makes the diagram's labelled boxes, placed in tenths of ``box``'s width, labels at
    ``size``; each label in its colour where that is legible on the box's fill, else in one
    that is."""
    u = box.width_emu / 10
    inset = _NODE_INSETS

    def node(x0: float, x1: float, y: int, h: int, text: str, fill_paint: m.Paint,
             line: m.Paint, color: m.Paint, bold: bool = False) -> m.Node:
        ink = on_fill(fill_paint, size, bold, layout, color)
        para = m.Paragraph(runs(text, ctx, size, bold=bold, color=ink), style="inherit",
                           end_size_pt=size, end_lang=ctx.lang, **ctx.direction("center"))
        return m.Node(m.Box(int(box.left_emu + x0 * u), y, int((x1 - x0) * u), h), (para,),
                      fill_paint, line, inset)

    return node


def _connect(a: m.Box, b: m.Box, paint: m.Paint, width_pt: float) -> m.Line:
    """A straight line from a's right edge to b's left edge, at their middles."""
    return m.Line(a.right_emu, a.top_emu + a.height_emu // 2, b.left_emu,
                  b.top_emu + b.height_emu // 2, paint, width_pt)
