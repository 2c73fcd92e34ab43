"""The writer: applies a :class:`deck.model.Presentation` to a template with python-pptx.

It decides nothing: every frame says which placeholder it fills, where it goes and how its text
is set. Text goes into layout placeholders, charts are native (data embedded, 'Edit Data'
works), tables are native, notes are real notes; placeholders no frame fills are removed, so no
slide shows "Click to add text". Imports nothing of the pipeline but the model.
"""

from __future__ import annotations

import io

import msgspec
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.dml.fill import FillFormat
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_TICK_LABEL_POSITION
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.oxml import serialize_part_xml
from pptx.text.text import Font
from pptx.util import Emu, Pt

from . import model as m
from . import ooxml

_THEME_COLORS = {
    "tx1": MSO_THEME_COLOR.TEXT_1, "tx2": MSO_THEME_COLOR.TEXT_2,
    "bg1": MSO_THEME_COLOR.BACKGROUND_1, "bg2": MSO_THEME_COLOR.BACKGROUND_2,
    "accent1": MSO_THEME_COLOR.ACCENT_1, "accent2": MSO_THEME_COLOR.ACCENT_2,
    "accent3": MSO_THEME_COLOR.ACCENT_3, "accent4": MSO_THEME_COLOR.ACCENT_4,
    "accent5": MSO_THEME_COLOR.ACCENT_5, "accent6": MSO_THEME_COLOR.ACCENT_6,
}
_ALIGN = {"left": PP_ALIGN.LEFT, "center": PP_ALIGN.CENTER, "right": PP_ALIGN.RIGHT}
_CHART_TYPES = {"bar": XL_CHART_TYPE.BAR_CLUSTERED, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
                "line": XL_CHART_TYPE.LINE_MARKERS}


class WrittenSlide(msgspec.Struct, frozen=True):
    """A slide as written: the model value it came from and where its parts went."""

    slide: m.Slide
    part: str  # e.g. "ppt/slides/slide3.xml"
    notes_part: str | None


class WrittenDeck(msgspec.Struct, frozen=True):
    """A written deck's parts, kept so the next build can replace only the slides that changed.

    ``basis`` is what every part outside the slides depends on: the template and the
    document properties.
    """

    basis: tuple[str, m.Properties]
    parts: dict[str, bytes]
    slides: tuple[WrittenSlide, ...]


def write_presentation(pres: m.Presentation, template: bytes, template_digest: str,
                       previous: WrittenDeck | None = None) -> WrittenDeck:
    """Write the deck onto the template; return its parts and what the next build may reuse.

    Given an earlier deck written on the same template with the same properties and as many
    slides, only the slides whose value changed are written again, if they refer to no other
    part than their notes (no chart or picture) and keep their layout and notes.
    """
    basis = (template_digest, pres.properties)
    if previous is not None and previous.basis == basis:
        patched = _patch(pres, template, previous)
        if patched is not None:
            return patched
    prs = _opened.pop(template, None)
    if prs is None:
        prs = _open(template)
    maker = ooxml.SlideMaker(prs)
    written = tuple(_written(_write_slide(maker, s), s) for s in pres.slides)
    return WrittenDeck(basis, _save_parts(prs, pres.properties), written)


#: templates opened ahead, by their bytes: each for the next deck written on it, in this
#: process or in each one forked from it
_opened: dict[bytes, object] = {}


def open_ahead(template: bytes) -> None:
    """Open a template now (:func:`_open`), for the next deck written on it here or in a
    process forked from here: a build opens it while its inputs are read elsewhere, and its
    language processes, forked after, find it open (each takes its own copy)."""
    _opened.clear()  # (one at a time: the one a build is about to write on)
    _opened[template] = _open(template)


def _open(template: bytes):
    """The template, ready to take our slides: its own sample slides dropped (masters,
    layouts, theme and media stay), every placeholder of a layout with an index of its own,
    and the parts PowerPoint expects present."""
    prs = Presentation(io.BytesIO(template))
    ooxml.drop_slides(prs)
    for master in prs.slide_masters:
        for layout in master.slide_layouts:
            ooxml.number_placeholders(layout)
    ooxml.ensure_view_properties(prs)
    ooxml.ensure_notes_placeholder(prs)
    return prs


def _written(slide, value: m.Slide) -> WrittenSlide:
    notes = slide.notes_slide.part.partname.lstrip("/") if slide.has_notes_slide else None
    return WrittenSlide(value, slide.part.partname.lstrip("/"), notes)


def _self_contained(slide: m.Slide) -> bool:
    return not isinstance(slide, m.ChartSlide | m.PictureSlide)


def _patch(pres: m.Presentation, template: bytes, previous: WrittenDeck) -> WrittenDeck | None:
    """Rewrite only the changed slides' parts, or None when the whole deck must be built."""
    if len(previous.slides) != len(pres.slides):
        return None
    changed = [i for i, (old, new) in enumerate(zip(previous.slides, pres.slides, strict=True))
               if old.slide != new]
    for i in changed:
        old, new = previous.slides[i], pres.slides[i]
        if not (_self_contained(old.slide) and _self_contained(new)) or (
                old.notes_part is None) != (not new.notes) or old.slide.layout != new.layout:
            return None
    parts = dict(previous.parts)
    slides = list(previous.slides)
    if changed:
        # write the changed slides into a scratch deck of the same template, take their XML
        maker = ooxml.SlideMaker(_open(template))
        for i in changed:
            slide = _write_slide(maker, pres.slides[i])
            parts[slides[i].part] = serialize_part_xml(slide.part._element)
            if slides[i].notes_part:
                parts[slides[i].notes_part] = serialize_part_xml(slide.notes_slide.part._element)
            slides[i] = WrittenSlide(pres.slides[i], slides[i].part, slides[i].notes_part)
    return WrittenDeck(previous.basis, parts, tuple(slides))


def _save_parts(prs, props: m.Properties) -> dict[str, bytes]:
    ooxml.ensure_notes_master_list(prs)
    cp = prs.core_properties
    cp.title = props.title
    cp.author = props.author
    cp.subject = props.subject
    cp.keywords = props.keywords
    cp.last_modified_by = "deck"
    cp.revision = 1
    cp.created = props.created
    cp.modified = props.created
    cp.language = props.language
    return ooxml.package_parts(prs)


# ------------------------------------------------------------------------------------------
# slides


def _write_slide(maker: ooxml.SlideMaker, value: m.Slide):
    ref = value.layout
    layout = maker.layout(ref.master, ref.index)
    slide = maker.add(layout)
    # python-pptx clones the layout's placeholders (all but date, footer, number) in order
    cloned = [s for s in slide.shapes if s.is_placeholder]
    by_ordinal = dict(zip(maker.cloned(layout), cloned, strict=True))
    used: set[int] = set()

    def take(slot: m.Slot | None):
        if slot is None or slot.ordinal not in by_ordinal:
            return None
        used.add(slot.ordinal)
        return by_ordinal[slot.ordinal]

    _apply_text(take(value.title.slot), value.title)
    for frame in m.content_of(value):
        _apply(slide, take(frame.slot), frame)
    for ordinal, shape in by_ordinal.items():
        if ordinal not in used:  # left empty it would show "Click to add text"
            _remove(shape)
    _write_footer(maker, slide, layout, value)
    if value.notes:
        _apply_paragraphs(maker.notes.text_body(slide), value.notes, autofit=False)
    return slide


def _apply(slide, ph, frame) -> None:
    match frame:
        case m.TextFrame():
            _apply_text(ph, frame, slide)
        case m.ChartFrame():
            _write_chart(slide, ph, frame)
        case m.TableFrame():
            _write_table(slide, ph, frame)
        case m.PictureFrame():
            _remove(ph)
            _write_picture(slide, frame)
        case m.ShapeGroup():
            _remove(ph)
            _write_group(slide, frame)


def _write_footer(maker: ooxml.SlideMaker, slide, layout, value: m.Slide) -> None:
    """Copy the layout's footer and slide-number placeholders onto the slide and fill them
    (python-pptx leaves them off); the number is a live field."""
    if value.footer is not None:
        shape = maker.copy_placeholder(slide, layout, value.footer.slot.ordinal)
        _apply_text(shape, value.footer)
    number = value.number
    if number is not None:
        shape = maker.copy_placeholder(slide, layout, number.slot.ordinal)
        rpr = ooxml.add_slide_number(shape, number.value, number.lang)
        _name(shape, number.name)
        if number.size_pt is not None:
            Font(rpr).size = Pt(number.size_pt)
        if number.color is not None:
            _paint(Font(rpr).color, number.color)
        if number.fill is not None:
            shape.fill.solid()
            _paint(shape.fill.fore_color, number.fill)
    ooxml.renumber_shape_ids(slide)


def _place(shape, box: m.Box, slot: m.Slot | None) -> None:
    """Give a shape made from a placeholder the frame's own box where that differs from the
    placeholder's (cut short above the footer row, say); else it keeps inheriting."""
    if slot is not None and box != slot.box:
        shape.left, shape.top = Emu(box.left_emu), Emu(box.top_emu)
        shape.width, shape.height = Emu(box.width_emu), Emu(box.height_emu)


def _name(shape, name: str) -> None:
    """The shape's identity, where the model gives one (it always does for a built deck)."""
    if name:
        ooxml.drawing_properties(shape._element).set("name", name)


def _remove(shape) -> None:
    if shape is not None:
        el = shape._element
        el.getparent().remove(el)


# ------------------------------------------------------------------------------------------
# text


def _paint(color, paint: m.Paint) -> None:
    """Set a python-pptx ColorFormat to a theme colour (with brightness), or an exact one."""
    if paint.rgb is not None:
        color.rgb = RGBColor.from_string(paint.rgb)
        return
    color.theme_color = _THEME_COLORS[paint.color]
    if paint.brightness:
        color.brightness = paint.brightness


def _apply_text(shape, frame: m.TextFrame, slide=None) -> None:
    """Fill a placeholder with the frame's text; a frame with no placeholder becomes a text
    box at its box."""
    if frame.slot is None:
        b = frame.box
        shape = slide.shapes.add_textbox(Emu(b.left_emu), Emu(b.top_emu), Emu(b.width_emu),
                                         Emu(b.height_emu))
        shape.name = "Text"
    elif shape is None:  # the model names a placeholder the layout does not have: a bug
        raise RuntimeError(f"no placeholder {frame.slot.type} {frame.slot.ordinal} on the "
                           "slide for its text")
    else:
        _place(shape, frame.box, frame.slot)
    _name(shape, frame.name)
    tf = shape.text_frame
    _apply_paragraphs(tf._txBody, frame.paragraphs, autofit=frame.autofit)
    if frame.slot is None or frame.insets != frame.slot.insets:
        ooxml.set_insets(tf, frame.insets)  # a free text box's, or widened for a backing fill
    if frame.fill is not None:
        shape.fill.solid()
        _paint(shape.fill.fore_color, frame.fill)


def _apply_paragraphs(txbody, paragraphs: tuple[m.Paragraph, ...], *, autofit: bool) -> None:
    """Write paragraphs with their sizes, indents and spacing as the fit stage set them."""
    first = ooxml.clear_text(txbody)
    if autofit:
        # measured to fit; PowerPoint may still shrink it after a hand edit
        ooxml.set_norm_autofit(txbody)
    for i, para in enumerate(paragraphs):
        ooxml.fill_paragraph(first if i == 0 else ooxml.add_paragraph(txbody), para)


# ------------------------------------------------------------------------------------------
# graphics


def _write_table(slide, ph, t: m.TableFrame) -> None:
    # python-pptx makes the frame (where a table placeholder is, in its place) with a table of
    # one cell; the grid and rows are the model's, written as XML
    if ph is not None and hasattr(ph, "insert_table"):
        frame = ph.insert_table(1, 1)
        _place(frame, t.box, t.slot)
    else:
        _remove(ph)
        b = t.box
        frame = slide.shapes.add_table(1, 1, Emu(b.left_emu), Emu(b.top_emu),
                                       Emu(b.width_emu), Emu(b.height_emu))
    ooxml.fill_table(frame.table._tbl, t.column_widths_emu, t.rows, t.cell_insets)
    # as python-pptx sizes a table's frame when its columns are set: their sum
    frame.width = Emu(sum(t.column_widths_emu))
    frame.height = Emu(sum(row.height_emu for row in t.rows))
    _name(frame, t.name)
    ooxml.set_alt_text(frame, t.alt)


def _write_chart(slide, ph, c: m.ChartFrame) -> None:
    data = CategoryChartData(number_format=c.number_format)
    data.categories = c.categories
    for series in c.series:
        data.add_series(series.name, series.values)
    kind = _CHART_TYPES[c.kind]
    if ph is not None and hasattr(ph, "insert_chart"):
        frame = ph.insert_chart(kind, data)
        _place(frame, c.box, c.slot)
    else:
        _remove(ph)
        b = c.box
        frame = slide.shapes.add_chart(kind, Emu(b.left_emu), Emu(b.top_emu), Emu(b.width_emu),
                                       Emu(b.height_emu), data)
    _name(frame, c.name)
    ooxml.set_alt_text(frame, c.alt)
    chart = frame.chart
    ooxml.fix_chart_axis_ids(chart)
    ooxml.set_chart_text_language(chart, c.lang, c.text_pt)
    _paint(chart.font.color, c.text_paint)
    if c.fill is not None:
        fill = FillFormat.from_fill_parent(ooxml.chart_space_properties(chart))
        fill.solid()
        _paint(fill.fore_color, c.fill)
    chart.has_legend = c.legend
    if c.legend:
        chart.legend.include_in_layout = False
    chart.has_title = bool(c.title)
    if c.title:
        chart.chart_title.text_frame.text = c.title
        _style_runs(chart.chart_title.text_frame, c.title_pt, True, c.lang)
    _style_plot(chart, c)
    _style_axes(chart, c)
    _paint_series(chart, c)


def _style_runs(tf, size_pt: float, bold: bool, lang: str) -> None:
    for p in tf.paragraphs:
        for r in p.runs:
            r.font.size = Pt(size_pt)
            r.font.bold = bold
            ooxml.set_run_language(r._r.get_or_add_rPr(), lang, east_asian=True, major=False)


def _style_plot(chart, c: m.ChartFrame) -> None:
    plot = chart.plots[0]
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = c.number_format
    labels.number_format_is_linked = False
    labels.font.size = Pt(c.data_labels_pt)
    # one line per label: LibreOffice otherwise wraps a label wider than its share of a narrow
    # chart in the middle of the number ("605,57" over "4")
    labels._element.get_or_add_txPr().bodyPr.set("wrap", "none")
    if c.kind != "line":
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        plot.gap_width = c.gap_width


def _style_axes(chart, c: m.ChartFrame) -> None:
    va = chart.value_axis
    va.has_major_gridlines = False
    va.tick_labels.font.size = Pt(c.value_ticks_pt)
    va.tick_labels.number_format = c.number_format
    va.tick_labels.number_format_is_linked = False
    if not c.value_ticks:
        va.tick_label_position = XL_TICK_LABEL_POSITION.NONE
    va.maximum_scale = c.maximum
    if c.log_scale:
        ooxml.set_log_scale(va)
    else:
        va.minimum_scale = 0 if c.minimum_zero else None
        if c.major_unit:
            va.major_unit = c.major_unit
    if c.value_axis_title:
        va.has_title = True
        va.axis_title.text_frame.text = c.value_axis_title
        _style_runs(va.axis_title.text_frame, c.axis_title_pt, False, c.lang)
    ca = chart.category_axis
    ca.tick_labels.font.size = Pt(c.category_pt)
    if c.category_rotation:
        ooxml.set_axis_label_rotation(ca, c.category_rotation)
    if c.kind == "bar":
        ca.reverse_order = True  # first category on top, as read


def _paint_series(chart, c: m.ChartFrame) -> None:
    for i, s in enumerate(chart.series):
        fmt = s.format
        if c.kind == "line":
            _paint(fmt.line.color, c.series_paint)
            continue
        fmt.fill.solid()
        _paint(fmt.fill.fore_color, c.series_paint if i == 0 else c.other_paint)
        if i == 0:
            for j in c.highlight:
                point = s.points[j]
                point.format.fill.solid()
                _paint(point.format.fill.fore_color, c.highlight_paint)


def _write_picture(slide, p: m.PictureFrame) -> None:
    b = p.box
    pic = slide.shapes.add_picture(p.path, Emu(b.left_emu), Emu(b.top_emu), Emu(b.width_emu),
                                   Emu(b.height_emu))
    _name(pic, p.name)
    ooxml.set_alt_text(pic, p.alt)


def _write_group(slide, g: m.ShapeGroup) -> None:
    group = slide.shapes.add_group_shape()
    shapes = group.shapes
    # python-pptx fits the group's extents around all its shapes after every shape it adds
    # (quadratic: a third of the diagram's time); once, at the end, gives the same extents
    shapes._recalculate_extents = lambda: None
    for item in g.items:
        match item:
            case m.Node(box=b):
                shape = shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, Emu(b.left_emu),
                                         Emu(b.top_emu), Emu(b.width_emu), Emu(b.height_emu))
                shape.fill.solid()
                _paint(shape.fill.fore_color, item.fill)
                _paint(shape.line.color, item.line)
                shape.line.width = Pt(g.outline_pt)
                shape.shadow.inherit = False
                _apply_paragraphs(shape.text_frame._txBody, item.paragraphs, autofit=False)
                ooxml.set_insets(shape.text_frame, item.insets)
                shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
            case m.Line():
                # drawn by coordinates, not glued: LibreOffice re-routes glued connectors
                # inside groups to the wrong connection sites
                conn = shapes.add_connector(MSO_CONNECTOR.STRAIGHT, Emu(item.x1_emu),
                                            Emu(item.y1_emu), Emu(item.x2_emu), Emu(item.y2_emu))
                _paint(conn.line.color, item.paint)
                conn.line.width = Pt(item.width_pt)
    group._element.recalculate_extents()
    _name(group, g.name)
    ooxml.set_alt_text(group, g.alt)
    ooxml.renumber_shape_ids(slide)
