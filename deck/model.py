"""The presentation model: a closed set of frozen slide kinds with every decision made.

The fit stage (:mod:`deck.fit`) returns a :class:`Presentation`; the writer (:mod:`deck.writer`)
only applies it. Frames carry resolved boxes (EMU), the layout placeholder they fill, and
paragraphs whose runs already know their size, weight, colour, script and language. This
module also holds the master's geometry as plain values (read by :mod:`deck.master`), so the fit
stage measures against the master actually in use. Imports nothing of pptx, lxml or Pillow.

The values are frozen :class:`msgspec.Struct` classes, not frozen dataclasses: the same
immutable, hashable, compared-by-value records, but made in C. Python 3.11 compiles each
frozen dataclass's generated methods one by one as the module loads (33 ms for these 35
classes, 5% of a cold build); these take 2 ms. ``msgspec.structs.replace`` and ``fields``
stand for the ``dataclasses`` functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

EMU_PER_PT = 12700

#: A theme colour slot of the master's colour scheme, as OOXML names it.
ThemeColor = Literal["tx1", "tx2", "bg1", "bg2", "accent1", "accent2", "accent3", "accent4",
                     "accent5", "accent6"]


class Paint(msgspec.Struct, frozen=True):
    """A theme colour with a brightness shift (-1 darker .. 0 as is .. 1 lighter), or, where
    ``rgb`` is set, that exact colour (used only where no theme colour is legible)."""

    color: ThemeColor
    brightness: float = 0.0
    rgb: str | None = None


class Box(msgspec.Struct, frozen=True):
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


class Insets(msgspec.Struct, frozen=True):
    """Space between a text frame's edge and its text, in EMU."""

    left_emu: int
    top_emu: int
    right_emu: int
    bottom_emu: int


# ------------------------------------------------------------------------------------------
# the master, as the fit stage sees it


class Slot(msgspec.Struct, frozen=True):
    """One placeholder of a layout: its type (``title``, ``body``, ``chart``, ``ftr``...), its
    ``idx``, its position among the layout's placeholders, its box, insets, and what its
    first-level text inherits: size (points, None where the master sets none) and line
    spacing (a factor; never below single for measuring)."""

    type: str
    idx: int
    ordinal: int
    box: Box
    insets: Insets
    size_pt: float | None = None
    line_spacing: float = 1.0
    text_rgb: str = "000000"  # the colour its text takes
    text_rgb_sampled: bool = False  # ...read off the master's sample text, not its styles
    vertical: bool = False  # its text runs top to bottom (no use for ours)
    bullet_rgb: str | None = None  # the colour of its bullets, where the master sets one


class LayoutRef(msgspec.Struct, frozen=True):
    """A layout of the template: its name, and where it is (master and layout, 0-based)."""

    name: str
    master: int
    index: int

    def __str__(self) -> str:
        return f"{self.master + 1} / {self.name}" if self.master else self.name


class Fill(msgspec.Struct, frozen=True):
    """A filled shape the master or layout draws behind the slide's content (a picture by its
    mean colour)."""

    box: Box
    rgb: str
    picture: bool = False


class Backdrop(msgspec.Struct, frozen=True):
    """What a box sits on: the colours drawn behind some part of it, and whether a picture is
    among them (then no single colour can be sure to read on it)."""

    colors: tuple[str, ...]
    textured: bool = False


class LayoutInfo(msgspec.Struct, frozen=True):
    """A layout of the template: every placeholder on it (document order), its background,
    the filled shapes drawn behind the content (bottom first), and its theme colours
    (``tx1``, ``bg1``, ``accent1``... as the master's colour map resolves them)."""

    ref: LayoutRef
    slots: tuple[Slot, ...]
    background: str = "FFFFFF"
    background_picture: bool = False
    fills: tuple[Fill, ...] = ()
    palette: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.ref.name

    def color(self, name: str) -> str:
        """A theme colour's RGB (``tx1``, ``accent2``...); black if the theme lacks it."""
        return dict(self.palette).get(name, "000000")

    def behind(self, box: Box) -> Backdrop:
        """The colours drawn behind ``box``: every fill that reaches into it, topmost first,
        down to one that covers it whole, or else the background too. Shapes count by their
        bounding boxes, so a colour may be listed that is not quite there."""
        found: list[str] = []
        textured = False
        for fill in reversed(self.fills):
            b = fill.box
            if b.right_emu <= box.left_emu or b.left_emu >= box.right_emu or \
                    b.bottom_emu <= box.top_emu or b.top_emu >= box.bottom_emu:
                continue
            found.append(fill.rgb)
            textured = textured or fill.picture
            if b.left_emu <= box.left_emu and b.right_emu >= box.right_emu and \
                    b.top_emu <= box.top_emu and b.bottom_emu >= box.bottom_emu:
                return Backdrop(tuple(dict.fromkeys(found)), textured)
        found.append(self.background)
        return Backdrop(tuple(dict.fromkeys(found)), textured or self.background_picture)


class ThemeFonts(msgspec.Struct, frozen=True):
    """The typefaces the theme names for headings (major) and body text (minor)."""

    major_latin: str
    minor_latin: str
    major_ea: str
    minor_ea: str


class MasterInfo(msgspec.Struct, frozen=True):
    """What a template tells the fit stage: slide size, theme fonts, and each mapped layout.

    ``layouts`` maps each logical layout of the outline (``title``, ``chart``...) to the
    template's layout that serves it.
    """

    slide_width_emu: int
    slide_height_emu: int
    fonts: ThemeFonts
    layouts: tuple[tuple[str, LayoutInfo], ...]

    def layout(self, logical: str) -> LayoutInfo:
        for name, info in self.layouts:
            if name == logical:
                return info
        raise KeyError(logical)


# ------------------------------------------------------------------------------------------
# text


class Run(msgspec.Struct, frozen=True):
    """A stretch of text in one script and language.

    ``size_pt`` None inherits the placeholder's size; ``east_asian`` sets the theme's East
    Asian face (``a:ea``); ``major`` uses the heading fonts.
    """

    text: str
    lang: str
    size_pt: float | None
    east_asian: bool
    major: bool = False
    bold: bool | None = None
    color: Paint | None = None


class Paragraph(msgspec.Struct, frozen=True):
    """A paragraph: its runs, bullet level and indents, and the space before it.

    ``style`` "bullet" sets level, indents and spacing; "flush" no bullet, zero indents and
    the spacing; "inherit" only the alignment, leaving the rest to the frame's own style.
    An empty paragraph (no runs) keeps the height of ``end_size_pt``. ``rtl`` sets the
    paragraph right to left (Arabic, Hebrew).
    """

    runs: tuple[Run, ...]
    style: Literal["bullet", "flush", "inherit"]
    level: int = 0
    margin_left_emu: int = 0
    indent_emu: int = 0
    space_before_pt: float = 0.0
    align: Literal["left", "center", "right"] | None = None
    end_size_pt: float | None = None
    end_lang: str = ""
    bullet_char: str | None = None  # set where no placeholder style gives the bullet
    bullet_color: Paint | None = None  # set where the master's bullet colour would not read
    rtl: bool = False


class TextFrame(msgspec.Struct, frozen=True):
    """Text in a placeholder (``slot``) or, where ``slot`` is None, a free text box at ``box``.

    ``autofit`` lets PowerPoint shrink text that a later hand edit makes too long.
    """

    slot: Slot | None
    box: Box
    insets: Insets
    paragraphs: tuple[Paragraph, ...]
    autofit: bool = True
    fill: Paint | None = None  # a backing where the text would not read on the slide
    name: str = ""  # the shape's identity (:mod:`deck.identity`), set by the fit stage


# ------------------------------------------------------------------------------------------
# graphics


class ChartSeries(msgspec.Struct, frozen=True):
    name: str
    values: tuple[float, ...]


class ChartFrame(msgspec.Struct, frozen=True):
    """A native chart with its data embedded. It fills ``slot`` if that is a chart placeholder;
    otherwise ``slot`` (if any) is removed and the chart drawn at ``box``."""

    slot: Slot | None
    box: Box
    kind: Literal["bar", "column", "line"]
    categories: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    number_format: str
    log_scale: bool
    minimum_zero: bool
    maximum: float | None  # the value axis's end, leaving room for the data labels
    highlight: tuple[int, ...]  # indexes into the first series drawn in the highlight colour
    title: str
    value_axis_title: str
    alt: str
    lang: str
    text_pt: float
    title_pt: float
    data_labels_pt: float
    value_ticks_pt: float
    axis_title_pt: float
    category_pt: float
    category_rotation: int  # degrees: 0, or -45 where labels would collide
    legend: bool
    series_paint: Paint
    other_paint: Paint
    highlight_paint: Paint
    gap_width: int
    text_paint: Paint  # axis, data and legend labels, legible on what is behind the chart
    value_ticks: bool  # False where the value axis's labels would run together
    fill: Paint | None = None  # the chart area's, where its text would not read on the slide
    major_unit: float | None = None  # value axis step; None leaves it to the viewer
    name: str = ""


class TableCell(msgspec.Struct, frozen=True):
    paragraphs: tuple[Paragraph, ...]
    fill: Paint


class TableRow(msgspec.Struct, frozen=True):
    height_emu: int
    cells: tuple[TableCell, ...]


class TableFrame(msgspec.Struct, frozen=True):
    """A native table (header row first). Fills ``slot`` if it is a table placeholder;
    otherwise ``slot`` is removed and the table drawn at ``box``."""

    slot: Slot | None
    box: Box
    column_widths_emu: tuple[int, ...]
    rows: tuple[TableRow, ...]
    cell_insets: Insets
    alt: str
    name: str = ""


class PictureFrame(msgspec.Struct, frozen=True):
    """A picture drawn at ``box`` (aspect kept), replacing the placeholder ``slot`` if any."""

    slot: Slot | None
    box: Box
    path: str
    alt: str
    name: str = ""


class Node(msgspec.Struct, frozen=True):
    """A rounded box of a diagram, with its label."""

    box: Box
    paragraphs: tuple[Paragraph, ...]
    fill: Paint
    line: Paint
    insets: Insets


class Line(msgspec.Struct, frozen=True):
    """A straight connector between two points (EMU)."""

    x1_emu: int
    y1_emu: int
    x2_emu: int
    y2_emu: int
    paint: Paint
    width_pt: float


class ShapeGroup(msgspec.Struct, frozen=True):
    """A diagram drawn as one group of native shapes (in z-order), replacing ``slot``."""

    slot: Slot | None
    name: str
    alt: str
    items: tuple[Node | Line, ...]
    outline_pt: float  # width of the nodes' outlines


Graphic = ChartFrame | TableFrame | PictureFrame | ShapeGroup


# ------------------------------------------------------------------------------------------
# slides: one frozen type per kind


class SlideNumber(msgspec.Struct, frozen=True):
    """The layout's slide-number placeholder, with a live field showing ``value``."""

    slot: Slot
    value: int
    lang: str
    color: Paint | None = None  # set where the master's colour would not read
    fill: Paint | None = None
    name: str = ""
    size_pt: float | None = None  # set where the placeholder's own size does not fit its box


class SlideBase(msgspec.Struct, frozen=True):
    """What every slide has: its outline key, which part of a continued slide it is, the
    template layout it uses, its title, footer, number and speaker notes."""

    key: str
    part: int
    parts: int
    layout: LayoutRef
    title: TextFrame
    footer: TextFrame | None
    number: SlideNumber | None
    notes: tuple[Paragraph, ...]


class TitleSlide(SlideBase, frozen=True):
    subtitle: TextFrame | None


class SectionSlide(SlideBase, frozen=True):
    subtitle: TextFrame | None


class BulletsSlide(SlideBase, frozen=True):
    body: TextFrame | None


class TwoColumnSlide(SlideBase, frozen=True):
    left: TextFrame | None
    right: TextFrame | None


class ChartSlide(SlideBase, frozen=True):
    chart: ChartFrame
    side: TextFrame | None


class DiagramSlide(SlideBase, frozen=True):
    diagram: ShapeGroup
    side: TextFrame | None


class PictureSlide(SlideBase, frozen=True):
    picture: PictureFrame
    side: TextFrame | None


class TableSlide(SlideBase, frozen=True):
    table: TableFrame


class SourcesSlide(SlideBase, frozen=True):
    table: TableFrame


Slide = (TitleSlide | SectionSlide | BulletsSlide | TwoColumnSlide | ChartSlide | DiagramSlide
         | PictureSlide | TableSlide | SourcesSlide)


def content_of(slide: Slide) -> tuple[TextFrame | Graphic, ...]:
    """A slide's frames below its title, in the order they are written (main, then side)."""
    match slide:
        case TitleSlide(subtitle=sub) | SectionSlide(subtitle=sub):
            frames = (sub,)
        case BulletsSlide(body=body):
            frames = (body,)
        case TwoColumnSlide(left=left, right=right):
            frames = (left, right)
        case ChartSlide(chart=main, side=side) | DiagramSlide(diagram=main, side=side) | \
                PictureSlide(picture=main, side=side):
            frames = (main, side)
        case TableSlide(table=table) | SourcesSlide(table=table):
            frames = (table,)
    return tuple(f for f in frames if f is not None)


class Properties(msgspec.Struct, frozen=True):
    """Document properties of the written file."""

    title: str
    author: str
    subject: str
    keywords: str
    created: dt.datetime  # naive UTC
    language: str


class Presentation(msgspec.Struct, frozen=True):
    """A whole deck, ready to write."""

    properties: Properties
    slides: tuple[Slide, ...]
