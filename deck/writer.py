"""The writer: the laid-out deck to a .pptx with python-pptx, from a theme's named layouts.

The only module that imports ``pptx``. Text goes into layout placeholders, charts are native
(data embedded, 'Edit Data' works), tables are native, notes are real notes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.oxml import serialize_part_xml
from pptx.util import Emu, Pt

from . import ooxml
from .diagnostics import Diagnostic, UserError
from .layout import (
    BULLET_INDENT_EMU,
    CELL_LR_EMU,
    CELL_TB_EMU,
    INSET_LR_EMU,
    INSET_TB_EMU,
    LEVEL_INDENT_EMU,
    PARA_SPACE_PT,
    Box,
    Geometry,
    LaidSlide,
    bullet_text,
    column_widths_emu,
    emu,
    side_text_attr,
)
from .outline import Bullet, Chart, Diagram, Table

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_THEME = TEMPLATES_DIR / "theme.pptx"
LOGICAL_LAYOUTS = ("title", "section", "content", "chart", "two_content", "table", "sources")

# Colours are the theme's, so a company template recolours charts, tables and diagrams.
Paint = tuple[MSO_THEME_COLOR, float]  # theme colour, brightness (-1 darker .. 1 lighter)
ACCENT: Paint = (MSO_THEME_COLOR.ACCENT_1, 0.0)
HIGHLIGHT: Paint = (MSO_THEME_COLOR.ACCENT_2, 0.0)
MUTED: Paint = (MSO_THEME_COLOR.TEXT_1, 0.45)
INK: Paint = (MSO_THEME_COLOR.TEXT_1, 0.0)
HEADER_FILL: Paint = (MSO_THEME_COLOR.TEXT_2, 0.0)
ZEBRA_FILL: Paint = (MSO_THEME_COLOR.BACKGROUND_2, 0.0)
WHITE: Paint = (MSO_THEME_COLOR.BACKGROUND_1, 0.0)


def _paint(color, paint: Paint) -> None:
    """Set a python-pptx ColorFormat to a theme colour (with brightness)."""
    color.theme_color = paint[0]
    if paint[1]:
        color.brightness = paint[1]

_GRAPHIC_TYPES = {"chart", "tbl", "obj", "pic", "dgm", "media"}
_SKIP_TYPES = {"ftr", "sldNum", "dt", "hdr"}


@dataclass
class Theme:
    """A template .pptx read once: its bytes, layout names and where each part goes."""

    path: Path
    data: bytes
    layout_names: dict[str, str]  # logical -> layout name in the template
    geometry: Geometry
    digest: str  # SHA-256 of the template's bytes: what decks built from it depend on


def _config_for(template: Path) -> Path:
    return template.with_suffix(".yaml")


_THEMES: dict[tuple, Theme] = {}


def load_theme(template: Path | None = None) -> Theme:
    """Open a template, match its layouts by name (``<template>.yaml``), read their geometry.

    A missing layout fails with the list of layouts the template has. Kept in memory until the
    template or its config changes (rebuilds in ``--watch`` reuse it).
    """
    path = Path(template) if template else DEFAULT_THEME
    key = tuple((p, p.stat().st_mtime_ns) for p in (path, _config_for(path)) if p.exists())
    if key and key in _THEMES:
        return _THEMES[key]
    theme = _read_theme(path)
    _THEMES[key] = theme
    return theme


def _read_theme(path: Path) -> Theme:
    try:
        data = path.read_bytes()
        prs = Presentation(io.BytesIO(data))
    except FileNotFoundError:
        raise UserError([Diagnostic(str(path), None, "--template",
                                    "template not found; expected a .pptx file, got no such "
                                    "file")]) from None
    except Exception as exc:  # python-pptx raises many kinds for a broken package
        raise UserError([Diagnostic(str(path), None, "--template",
                                    f"not a usable .pptx; expected a PowerPoint template, got "
                                    f"{type(exc).__name__}: {exc}")]) from None
    names = {k: k for k in LOGICAL_LAYOUTS}
    cfg = _config_for(path)
    if cfg.exists():
        raw = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        names.update(raw.get("layouts") or {})
    elif path != DEFAULT_THEME:
        raise UserError([Diagnostic(str(cfg), None, "layouts",
                                    "template config not found; expected a YAML file next to "
                                    "the template mapping title, section, content, chart, "
                                    "two_content, table, sources to layout names")])
    available = {layout.name: layout for layout in prs.slide_layouts}
    problems = []
    boxes: dict[str, dict[str, Box]] = {}
    for logical in LOGICAL_LAYOUTS:
        name = names[logical]
        layout = available.get(name)
        if layout is None:
            problems.append(Diagnostic(
                str(cfg if cfg.exists() else path), None, f"layouts.{logical}",
                f"couldn't find layout named {name!r} in the template; expected one of "
                f"{sorted(available)}"))
            continue
        try:
            boxes[logical] = _roles(logical, layout)
        except ValueError as exc:
            problems.append(Diagnostic(str(path), None, f"layouts.{logical}", str(exc)))
    if problems:
        raise UserError(problems)
    geometry = Geometry(int(prs.slide_width), int(prs.slide_height), boxes)
    return Theme(path, data, names, geometry, hashlib.sha256(data).hexdigest())


def _box(shape) -> Box:
    return Box(int(shape.left), int(shape.top), int(shape.width), int(shape.height))


def _ph_type(shape) -> str:
    ph = shape._element.find(".//{http://schemas.openxmlformats.org/presentationml/2006/main}ph")
    return (ph.get("type") or "obj") if ph is not None else ""


def _roles(logical: str, layout) -> dict[str, Box]:
    """Assign the layout's placeholders to roles: title, subtitle, body, body2, chart, table."""
    title = None
    others = []
    for shape in layout.placeholders:
        kind = _ph_type(shape)
        if kind in ("title", "ctrTitle"):
            title = shape
        elif kind not in _SKIP_TYPES:
            others.append(shape)
    if title is None:
        raise ValueError(f"layout {layout.name!r} has no title placeholder; expected one")
    roles = {"title": _box(title)}
    others.sort(key=lambda s: (int(s.left), int(s.top)))
    graphic = [s for s in others if _ph_type(s) in ("chart", "tbl")]
    text = [s for s in others if _ph_type(s) not in ("chart", "tbl")]
    if logical in ("title", "section"):
        sub = [s for s in others if _ph_type(s) == "subTitle"] or text
        if not sub:
            raise ValueError(f"layout {layout.name!r} needs a subtitle or body placeholder")
        roles["subtitle"] = _box(sub[0])
    elif logical in ("table", "sources"):
        main = graphic or text
        if not main:
            raise ValueError(f"layout {layout.name!r} needs a table or content placeholder")
        roles["table"] = _box(max(main, key=lambda s: int(s.width) * int(s.height)))
    elif logical in ("chart", "two_content"):
        if graphic:
            main, side = graphic[0], (text or [None])[0]
        else:
            if len(text) < 2:
                raise ValueError(f"layout {layout.name!r} needs two content placeholders; "
                                 f"expected 2, got {len(text)}")
            main, side = sorted(text[:2], key=lambda s: -int(s.width) * int(s.height))
            if logical == "two_content":
                main, side = text[0], text[1]
        if side is None:
            raise ValueError(f"layout {layout.name!r} needs a text placeholder beside the chart")
        roles["body"] = roles["chart"] = _box(main)
        roles["body2"] = _box(side)
    else:
        if not text:
            raise ValueError(f"layout {layout.name!r} needs a content placeholder")
        roles["body"] = _box(text[0])
    return roles


# ------------------------------------------------------------------------------------------


@dataclass
class DeckInfo:
    """What the writer needs besides the slides: language, markers, document properties."""

    lang_tag: str
    markers: dict[str, str]
    title: str
    author: str
    subject: str
    keywords: str
    created: object  # datetime
    footer: str


@dataclass
class SlideMemo:
    """What one written slide was made from, and where its parts went in the package."""

    key: str
    part: str  # e.g. "ppt/slides/slide3.xml"
    notes_part: str | None
    plain: bool  # no chart or picture: its XML refers to no other part
    layout: str

@dataclass
class DeckMemo:
    """A written deck's parts, kept so the next build can replace only the slides that changed."""

    package_key: str
    parts: dict[str, bytes]
    slides: list[SlideMemo]


def _slide_key(laid: LaidSlide, number: int, info: DeckInfo, theme: Theme) -> str:
    h = hashlib.sha256()
    for piece in (laid.slide.model_dump_json(), repr(sorted(laid.sizes.items())),
                  repr(laid.row_heights_pt), str(laid.category_rotation), str(number),
                  info.lang_tag, info.footer, repr(sorted(info.markers.items())),
                  theme.layout_names[laid.slide.layout]):
        h.update(piece.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _package_key(info: DeckInfo, theme: Theme) -> str:
    """What every part outside the slides depends on (document properties, the theme)."""
    return hashlib.sha256(repr((info.title, info.author, info.subject, info.keywords,
                                info.created, info.lang_tag, str(theme.path),
                                theme.digest)).encode()).hexdigest()


def write_deck(slides: list[LaidSlide], theme: Theme, info: DeckInfo,
               previous: DeckMemo | None = None) -> tuple[dict[str, bytes], DeckMemo]:
    """Build the presentation; return its parts (name -> bytes) and a memo for the next build.

    With the memo of the previous build of the same deck, slides that did not change keep
    their parts and only changed plain slides (text, tables, diagrams) are written again; a
    change in the deck's shape (slide count, layouts, charts, pictures) builds it all.
    """
    keys = [_slide_key(laid, n, info, theme) for n, laid in enumerate(slides, start=1)]
    patched = _patch(slides, keys, theme, info, previous) if previous else None
    if patched is not None:
        return patched
    prs = _new_presentation(theme)
    layouts = {layout.name: layout for layout in prs.slide_layouts}
    memos = []
    for n, (laid, key) in enumerate(zip(slides, keys, strict=True), start=1):
        layout = layouts[theme.layout_names[laid.slide.layout]]
        boxes = theme.geometry.boxes[laid.slide.layout]
        slide = _write_slide(prs, layout, boxes, laid, info, n)
        notes = slide.notes_slide.part.partname.lstrip("/") if slide.has_notes_slide else None
        plain = laid.slide.chart is None and laid.slide.picture is None
        memos.append(SlideMemo(key, slide.part.partname.lstrip("/"), notes, plain, layout.name))
    parts = _save_parts(prs, info)
    return parts, DeckMemo(_package_key(info, theme), parts, memos)


def _new_presentation(theme: Theme):
    return Presentation(io.BytesIO(theme.data))


def _patch(slides: list[LaidSlide], keys: list[str], theme: Theme, info: DeckInfo,
           previous: DeckMemo) -> tuple[dict[str, bytes], DeckMemo] | None:
    """Rewrite only the changed slides' parts, or None when the whole deck must be built."""
    if previous.package_key != _package_key(info, theme) or len(previous.slides) != len(slides):
        return None
    changed = [i for i, key in enumerate(keys) if key != previous.slides[i].key]
    for i in changed:
        old, laid = previous.slides[i], slides[i]
        plain = laid.slide.chart is None and laid.slide.picture is None
        if not (old.plain and plain) or (old.notes_part is None) != (not laid.slide.notes) or (
                old.layout != theme.layout_names[laid.slide.layout]):
            return None
    parts = dict(previous.parts)
    memos = list(previous.slides)
    if changed:
        # write the changed slides into a scratch deck of the same theme, take their XML
        prs = _new_presentation(theme)
        layouts = {layout.name: layout for layout in prs.slide_layouts}
        for i in changed:
            laid = slides[i]
            layout = layouts[theme.layout_names[laid.slide.layout]]
            slide = _write_slide(prs, layout, theme.geometry.boxes[laid.slide.layout], laid,
                                 info, i + 1)
            parts[memos[i].part] = serialize_part_xml(slide.part._element)
            if memos[i].notes_part:
                parts[memos[i].notes_part] = serialize_part_xml(slide.notes_slide.part._element)
            memos[i] = SlideMemo(keys[i], memos[i].part, memos[i].notes_part, True, layout.name)
    return parts, DeckMemo(previous.package_key, parts, memos)


def _save_parts(prs, info: DeckInfo) -> dict[str, bytes]:
    ooxml.ensure_notes_master_list(prs)
    cp = prs.core_properties
    cp.title = info.title
    cp.author = info.author
    cp.subject = info.subject
    cp.keywords = info.keywords
    cp.last_modified_by = "deck"
    cp.revision = 1
    cp.created = info.created
    cp.modified = info.created
    cp.language = info.lang_tag
    buf = io.BytesIO()
    prs.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return {name: z.read(name) for name in z.namelist()}


def _write_slide(prs, layout, boxes: dict[str, Box], laid: LaidSlide, info: DeckInfo,
                 number: int):
    s = laid.slide
    slide = prs.slides.add_slide(layout)
    phs = {_ph_key(ph): ph for ph in slide.placeholders}
    title_ph = next(ph for key, ph in phs.items() if key[0] in ("title", "ctrTitle"))
    _fill_text(title_ph.text_frame, [Bullet(text=s.title)], info, laid.sizes.get("title", 28),
               major=True, bullets=False, markers={})
    body_phs = sorted((ph for key, ph in phs.items()
                       if key[0] not in ("title", "ctrTitle") and key[0] not in _SKIP_TYPES),
                      key=lambda p: (int(p.left), int(p.top)))
    used = set()

    def take(box: Box):
        for ph in body_phs:
            if id(ph) not in used and _box(ph) == box:
                used.add(id(ph))
                return ph
        return None

    if s.layout in ("title", "section"):
        ph = take(boxes["subtitle"])
        if ph is not None:
            lines = [Bullet(text=line) for line in s.subtitle.split("\n")]
            _fill_text(ph.text_frame, lines, info, laid.sizes.get("subtitle", 20),
                       bullets=False, markers={})
    elif s.table is not None:
        ph = take(boxes["table"])
        _write_table(slide, ph, boxes["table"], s.table, laid, info)
    elif s.layout in ("chart", "two_content"):
        main = take(boxes["body"])
        side = take(boxes["body2"])
        if s.chart is not None:
            _write_chart(slide, main, boxes["chart"], s.chart, info, laid)
        elif s.diagram is not None:
            _remove(main)
            _write_diagram(slide, boxes["body"], s.diagram, info)
        elif s.picture is not None:
            _remove(main)
            _write_picture(slide, boxes["body"], s.picture)
        elif main is not None:
            _fill_text(main.text_frame, s.bullets, info, laid.sizes.get("bullets", 18),
                       markers=info.markers)
        attr = side_text_attr(s)
        if side is not None:
            _fill_text(side.text_frame, getattr(s, attr), info, laid.sizes.get(attr, 16),
                       markers=info.markers)
    else:
        ph = take(boxes["body"])
        if ph is not None:
            _fill_text(ph.text_frame, s.bullets, info, laid.sizes.get("bullets", 18),
                       markers=info.markers)
    # placeholders left empty would show "Click to add text" in PowerPoint
    for ph in body_phs:
        if id(ph) not in used:
            _remove(ph)
    footer = s.footer or info.footer
    ooxml.copy_layout_placeholders(slide, layout, ("ftr", "sldNum"),
                                   {"ftr": footer, "sldNum": str(number)}, info.lang_tag)
    if s.notes:
        tf = slide.notes_slide.notes_text_frame
        _fill_text(tf, [Bullet(text=n) for n in s.notes], info, 12, bullets=False, markers={},
                   autofit=False)
    return slide


def _ph_key(ph) -> tuple[str, int]:
    return (_ph_type(ph), ph.placeholder_format.idx)


def _remove(shape) -> None:
    if shape is not None:
        el = shape._element
        el.getparent().remove(el)


def _fill_text(tf, paragraphs: list[Bullet], info: DeckInfo, size_pt: float, *,
               major: bool = False, bullets: bool = True, markers: dict[str, str],
               autofit: bool = True) -> None:
    """Write paragraphs with explicit size, spacing and indents (as the layout stage measured)."""
    tf.clear()
    tf.word_wrap = True
    if autofit:
        # measured to fit; PowerPoint may still shrink it after a hand edit
        bodypr = tf._txBody.bodyPr
        for child in list(bodypr):
            if child.tag.endswith(("Autofit", "noAutofit")):
                bodypr.remove(child)
        bodypr.append(bodypr.makeelement(
            "{http://schemas.openxmlformats.org/drawingml/2006/main}normAutofit", {}))
    tf.margin_left = tf.margin_right = Emu(INSET_LR_EMU)
    tf.margin_top = tf.margin_bottom = Emu(INSET_TB_EMU)
    for i, b in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        if bullets:
            p.level = b.level
            ppr = p._p.get_or_add_pPr()
            indent = BULLET_INDENT_EMU + b.level * LEVEL_INDENT_EMU
            ppr.set("marL", str(indent))
            ppr.set("indent", str(-BULLET_INDENT_EMU))
            p.space_before = Pt(PARA_SPACE_PT if i else 0)
        else:
            ppr = p._p.get_or_add_pPr()
            ppr.set("marL", "0")
            ppr.set("indent", "0")
            buNone = ppr.makeelement(
                "{http://schemas.openxmlformats.org/drawingml/2006/main}buNone", {})
            ppr.append(buNone)
            p.space_before = Pt(PARA_SPACE_PT if i else 0)
        _add_runs(p, b.text, info, size_pt, major=major)
        marks = bullet_text(b, markers)[len(b.text):]
        if marks:
            _add_runs(p, marks, info, size_pt * 0.75, major=major, color=MUTED)


def _add_runs(p, text: str, info: DeckInfo, size_pt: float, *, major: bool = False,
              color: Paint | None = None, bold: bool | None = None) -> None:
    if not text:
        # an empty paragraph still has a height: give it the measured size, not 18 pt
        end = p._p.get_or_add_endParaRPr()
        end.set("sz", str(int(round(size_pt * 100))))
        end.set("lang", info.lang_tag)
        return
    for segment, lang in ooxml.split_by_script(text, info.lang_tag):
        r = p.add_run()
        r.text = segment
        r.font.size = Pt(size_pt)
        if bold is not None:
            r.font.bold = bold
        if color is not None:
            _paint(r.font.color, color)
        ooxml.set_run_language(r._r.get_or_add_rPr(), lang,
                               east_asian=lang.startswith("ko") or info.lang_tag.startswith("ko"),
                               major=major)


def _write_table(slide, ph, box: Box, table: Table, laid: LaidSlide, info: DeckInfo) -> None:
    rows, cols = len(table.rows) + 1, len(table.columns)
    if ph is not None and hasattr(ph, "insert_table"):
        frame = ph.insert_table(rows, cols)
    else:
        _remove(ph)
        frame = slide.shapes.add_table(rows, cols, Emu(box.left_emu), Emu(box.top_emu),
                                       Emu(box.width_emu), Emu(box.height_emu))
    tbl = frame.table
    size = laid.sizes.get("table", 12)
    for j, w in enumerate(column_widths_emu(table, box.width_emu)):
        tbl.columns[j].width = Emu(w)
    heights = laid.row_heights_pt or [size * 2] * rows
    for i, row in enumerate([table.columns] + table.rows):
        tbl.rows[i].height = Emu(emu(heights[i]))
        for j, text in enumerate(row):
            cell = tbl.cell(i, j)
            cell.margin_left = cell.margin_right = Emu(CELL_LR_EMU)
            cell.margin_top = cell.margin_bottom = Emu(CELL_TB_EMU)
            cell.vertical_anchor = MSO_ANCHOR.TOP
            tf = cell.text_frame
            tf.clear()
            tf.word_wrap = True
            para = tf.paragraphs[0]
            _add_runs(para, text, info, size, bold=(i == 0) or None,
                      color=WHITE if i == 0 else None)
            cell.fill.solid()
            _paint(cell.fill.fore_color, HEADER_FILL if i == 0 else (
                ZEBRA_FILL if i % 2 == 0 else WHITE))
    frame.name = "Table"
    ooxml.set_alt_text(frame, f"{table.columns[0]}: " + ", ".join(table.columns[1:]))


_CHART_TYPES = {"bar": XL_CHART_TYPE.BAR_CLUSTERED, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
                "line": XL_CHART_TYPE.LINE_MARKERS}


def _write_chart(slide, ph, box: Box, chart: Chart, info: DeckInfo, laid: LaidSlide) -> None:
    data = CategoryChartData(number_format=chart.number_format)
    data.categories = chart.categories
    for series, values in zip(chart.series, chart.values, strict=True):
        data.add_series(series.name, values)
    kind = _CHART_TYPES[chart.kind]
    if ph is not None and hasattr(ph, "insert_chart"):
        frame = ph.insert_chart(kind, data)
    else:
        _remove(ph)
        frame = slide.shapes.add_chart(kind, Emu(box.left_emu), Emu(box.top_emu),
                                       Emu(box.width_emu), Emu(box.height_emu), data)
    frame.name = "Chart"
    ooxml.set_alt_text(frame, chart.alt)
    c = frame.chart
    ooxml.fix_chart_axis_ids(c)
    ooxml.set_chart_text_language(c, info.lang_tag, 12)
    c.has_legend = len(chart.series) > 1
    if c.has_legend:
        c.legend.include_in_layout = False
    if chart.title:
        c.has_title = True
        c.chart_title.text_frame.text = chart.title
        for p in c.chart_title.text_frame.paragraphs:
            for r in p.runs:
                r.font.size = Pt(14)
                r.font.bold = True
                ooxml.set_run_language(r._r.get_or_add_rPr(), info.lang_tag,
                                       east_asian=True, major=False)
    else:
        c.has_title = False
    plot = c.plots[0]
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = chart.number_format
    labels.number_format_is_linked = False
    labels.font.size = Pt(12)
    if chart.kind != "line":
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        plot.gap_width = 60
    va = c.value_axis
    va.has_major_gridlines = False
    va.tick_labels.font.size = Pt(11)
    va.tick_labels.number_format = chart.number_format
    va.tick_labels.number_format_is_linked = False
    if chart.log_scale:
        ooxml.set_log_scale(va)
    else:
        lo = min(min(v) for v in chart.values)
        va.minimum_scale = 0 if lo >= 0 else None
    if chart.value_axis_title:
        va.has_title = True
        va.axis_title.text_frame.text = chart.value_axis_title
        for p in va.axis_title.text_frame.paragraphs:
            for r in p.runs:
                r.font.size = Pt(11)
                r.font.bold = False
                ooxml.set_run_language(r._r.get_or_add_rPr(), info.lang_tag,
                                       east_asian=True, major=False)
    c.category_axis.tick_labels.font.size = Pt(laid.sizes.get("categories", 12))
    if laid.category_rotation:
        ooxml.set_axis_label_rotation(c.category_axis, laid.category_rotation)
    if chart.kind == "bar":
        c.category_axis.reverse_order = True  # first category on top, as read
    first = chart.series[0]
    for i, s in enumerate(c.series):
        fmt = s.format
        if chart.kind == "line":
            _paint(fmt.line.color, ACCENT)
            continue
        fmt.fill.solid()
        _paint(fmt.fill.fore_color, ACCENT if i == 0 else MUTED)
        if i == 0:
            for j, fid in enumerate(first.points):
                if fid in chart.highlight:
                    pt = s.points[j]
                    pt.format.fill.solid()
                    _paint(pt.format.fill.fore_color, HIGHLIGHT)


def _write_picture(slide, box: Box, picture) -> None:
    """A picture scaled to fit the box, centred, aspect kept, with its alt text."""
    with Image.open(picture.path) as im:
        w, h = im.size
    scale = min(box.width_emu / w, box.height_emu / h)
    pw, ph = int(w * scale), int(h * scale)
    pic = slide.shapes.add_picture(picture.path, Emu(box.left_emu + (box.width_emu - pw) // 2),
                                   Emu(box.top_emu + (box.height_emu - ph) // 2), Emu(pw), Emu(ph))
    pic.name = "Picture"
    ooxml.set_alt_text(pic, picture.alt)


def _write_diagram(slide, box: Box, d: Diagram, info: DeckInfo) -> None:
    """Mixture of Experts as native shapes: input -> router -> experts (few active) -> output."""
    shapes = slide.shapes
    group = shapes.add_group_shape()
    gs = group.shapes
    n = len(d.experts)
    left, top, width, height = box.left_emu, box.top_emu, box.width_emu, box.height_emu
    # columns in tenths of the box: prompt 0-1.8, router 2.3-4.3, experts 5-7.7, answer 8.2-10
    u = width / 10
    box_h = min(height // (n + 1), emu(40))
    gap = (height - n * box_h) // (n + 1)
    mid_y = top + height // 2
    node_h = min(emu(60), height // 3)

    def node(x0: float, x1: float, y: int, h: int):
        return gs.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, Emu(int(left + x0 * u)), Emu(y),
                            Emu(int((x1 - x0) * u)), Emu(h))

    def label(shape, text: str, color: Paint, bold: bool = False) -> None:
        tf = shape.text_frame
        tf.word_wrap = True
        tf.margin_left = tf.margin_right = Emu(INSET_LR_EMU // 3)
        p = tf.paragraphs[0]
        p.alignment = PP_ALIGN.CENTER
        _add_runs(p, text, info, 11, color=color, bold=bold)
        tf.vertical_anchor = MSO_ANCHOR.MIDDLE

    inp = node(0, 1.8, mid_y - node_h // 2, node_h)
    _style(inp, ZEBRA_FILL, MUTED)
    label(inp, d.input, INK)
    router = node(2.3, 4.3, mid_y - node_h // 2, node_h)
    _style(router, HEADER_FILL, HEADER_FILL)
    label(router, d.router, WHITE, bold=True)
    _connect(gs, inp, router, MUTED)
    out = None
    if d.output:
        out = node(8.2, 10, mid_y - node_h // 2, node_h)
        _style(out, ZEBRA_FILL, MUTED)
        label(out, d.output, INK)
    for i, name in enumerate(d.experts):
        ex = node(5, 7.7, top + gap + i * (box_h + gap), box_h)
        active = i in d.active
        _style(ex, HIGHLIGHT if active else WHITE, HIGHLIGHT if active else MUTED)
        label(ex, name, WHITE if active else MUTED, bold=active)
        if active:
            _connect(gs, router, ex, HIGHLIGHT, width_pt=2.25)
            if out is not None:
                _connect(gs, ex, out, HIGHLIGHT, width_pt=2.25)
    group.name = "MoE diagram"
    ooxml.set_alt_text(group, d.alt)
    ooxml.renumber_shape_ids(slide)


def _style(shape, fill: Paint, line: Paint) -> None:
    shape.fill.solid()
    _paint(shape.fill.fore_color, fill)
    _paint(shape.line.color, line)
    shape.line.width = Pt(1)
    shape.shadow.inherit = False


def _connect(shapes, a, b, color: Paint, width_pt: float = 1.25) -> None:
    """A straight line from a's right edge to b's left edge.

    Drawn by coordinates rather than glued to connection sites: LibreOffice re-routes glued
    connectors inside groups to the wrong sites.
    """
    x1, y1 = int(a.left) + int(a.width), int(a.top) + int(a.height) // 2
    x2, y2 = int(b.left), int(b.top) + int(b.height) // 2
    conn = shapes.add_connector(MSO_CONNECTOR.STRAIGHT, Emu(x1), Emu(y1), Emu(x2), Emu(y2))
    _paint(conn.line.color, color)
    conn.line.width = Pt(width_pt)
