"""Layout checks over a built deck: bounds, overlaps, text that fits its box, slide titles.

Text is measured with :mod:`deck.layout`'s own functions (real font metrics, the same line
breaking), at the sizes, weights, insets, indents and paragraph spacing found in the file, with
text properties a run leaves unset inherited from its layout and master. A deck the layout stage
laid out correctly passes; anything written or edited wrongly afterwards is named::

    python -m deck.check out/deepseek-shock.ko.pptx

The deck is read as python-pptx reads it (which shapes a slide has, which placeholder each
inherits from, its position and size, its text), but straight from the package's XML with
lxml: only the parts the checked slides need are parsed (slides, their layouts and masters,
the theme), and no python-pptx objects are made. Opening a deck with python-pptx and walking
its shapes was three quarters of the checker's time; ``tests/test_check.py`` compares every
answer read here with python-pptx's own.
"""

from __future__ import annotations

import io
import posixpath
import sys
import zipfile
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

from lxml import etree
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.oxml.simpletypes import ST_Coordinate

from . import ooxml
from .master import fonts_of_theme, insets_of
from .measure import Fonts, Measurer
from .model import EMU_PER_PT

Rect = tuple[int, int, int, int]  # left, top, right, bottom (EMU)

_TITLES = ("title", "ctrTitle")
_DEFAULT_SIZE_PT = 18.0
_SLACK_PT = 0.01  # rounding of EMU and hundredths of a point
# python-pptx's parser settings (pptx.oxml.oxml_parser), without its element classes
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False)

# what python-pptx iterates as a shape tree's shapes (CT_GroupShape.iter_shape_elms)
_SP, _GRP_SP, _FRAME, _PIC = qn("p:sp"), qn("p:grpSp"), qn("p:graphicFrame"), qn("p:pic")
_SHAPES = frozenset((_SP, _GRP_SP, _FRAME, qn("p:cxnSp"), _PIC, qn("p:contentPart")))
_C_SLD, _SP_TREE = qn("p:cSld"), qn("p:spTree")
_SP_PR, _XFRM, _P_XFRM, _GRP_SP_PR = qn("p:spPr"), qn("a:xfrm"), qn("p:xfrm"), qn("p:grpSpPr")
_OFF, _EXT = qn("a:off"), qn("a:ext")
_C_NV_PR, _C_NV_SP_PR, _CUST_GEOM = qn("p:cNvPr"), qn("p:cNvSpPr"), qn("a:custGeom")
_GRAPHIC, _GRAPHIC_DATA, _TBL = qn("a:graphic"), qn("a:graphicData"), qn("a:tbl")
_TABLE_URI = "http://schemas.openxmlformats.org/drawingml/2006/table"
# a layout placeholder inherits from the master's placeholder of this type
# (python-pptx's LayoutPlaceholder._base_placeholder; a header or slide image placeholder,
# which python-pptx fails on, inherits nothing here)
_MASTER_TYPE = {"body": "body", "chart": "body", "clipArt": "body", "ctrTitle": "title",
                "dgm": "body", "dt": "dt", "ftr": "ftr", "media": "body", "obj": "body",
                "pic": "body", "sldNum": "sldNum", "subTitle": "body", "tbl": "body",
                "title": "title"}

_TX_STYLES, _TX_BODY, _LST_STYLE = qn("p:txStyles"), qn("p:txBody"), qn("a:lstStyle")
_LEVELS = tuple(qn(f"a:lvl{lvl}pPr") for lvl in range(1, 10))
_BR, _T = qn("a:br"), qn("a:t")
_RUNS = frozenset((qn("a:r"), qn("a:fld")))
_CONTENT = _RUNS | {_BR}  # what python-pptx's _Paragraph.text joins
_PPR, _RPR, _END_RPR, _DEF_RPR = qn("a:pPr"), qn("a:rPr"), qn("a:endParaRPr"), qn("a:defRPr")
_SPC_PTS, _SPC_PCT = qn("a:spcPts"), qn("a:spcPct")
# python-pptx's defaults for a cell margin a:tcPr leaves unset (CT_TableCell.marL etc.)
_CELL_MARGINS = (("marL", 91440), ("marR", 91440), ("marT", 45720), ("marB", 45720))
_SPC_BEF, _LN_SPC = qn("a:spcBef"), qn("a:lnSpc")
_TR, _TC, _TC_PR, _GRID, _GRID_COL = (qn("a:tr"), qn("a:tc"), qn("a:tcPr"), qn("a:tblGrid"),
                                      qn("a:gridCol"))
_A_TX_BODY, _A_P = qn("a:txBody"), qn("a:p")
_P_PRESENTATION = qn("p:presentation")
_PRESENTATION = {"sld": qn("p:sldIdLst"), "master": qn("p:sldMasterIdLst"),
                 "size": qn("p:sldSz"), "rid": qn("r:id")}
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_OFFICE_DOCUMENT = RT.OFFICE_DOCUMENT


class LayoutError(Exception):
    """A built deck that would run off its slides: a bug in the fit stage or the writer (the
    build stops before writing it)."""


class NotADeck(ValueError):
    """A package that is not a presentation the checker can read (its main part another
    kind of document, a slide or master listed but not there, no slide size)."""


def check_deck(deck: Path | str | bytes, fonts: Fonts | None = None,
               skip: frozenset[int] = frozenset()) -> list[str]:
    """Every layout problem in a deck (a path, or its bytes), one readable line each; []
    when it is fine. ``skip``: numbers of slides known to be fine (the same slide on the same
    template passed before: a rebuild checks only the slides that changed).

    Checks that every shape lies on the slide, that no two text-bearing shapes (placeholders,
    text boxes, tables, charts, groups) overlap, that every placeholder, text box and table
    cell holds its measured text, and that every slide has a non-empty title.
    """
    with zipfile.ZipFile(io.BytesIO(deck) if isinstance(deck, bytes) else deck) as zipped:
        package = Package(zipped)
        width, height = package.slide_size
        faces = fonts_of_theme(package.theme)
        measure = (fonts or Fonts()).measurer(faces.minor_latin, faces.minor_ea)
        inherit = Inheritance(package)
        problems: list[str] = []
        for n, slide in enumerate(package.slides, start=1):
            if n in skip:
                continue
            problems += [f"slide {n}: {msg}"
                         for msg in _check_slide(slide, width, height, measure, inherit)]
    return problems


class Package:
    """The parts of a zipped deck, each parsed (as python-pptx parses it) when first asked
    for, and the relationships between them."""

    def __init__(self, zipped: zipfile.ZipFile) -> None:
        self._zip = zipped
        self._parts: dict[str, etree._Element] = {}
        self._rels: dict[str, list[tuple[str, str, str]]] = {}
        self._related: dict[tuple[str, str], str | None] = {}
        self.main = self.related("", _OFFICE_DOCUMENT)

    def part(self, name: str) -> etree._Element:
        """A part's root element (``name``: its name in the zip)."""
        if name not in self._parts:
            self._parts[name] = etree.fromstring(self._zip.read(name), _PARSER)
        return self._parts[name]

    def rels(self, name: str) -> list[tuple[str, str, str]]:
        """A part's internal relationships as (id, type, target part name); ``name`` "" for
        the package's own."""
        if name not in self._rels:
            folder, base = posixpath.split(name)
            rels_name = posixpath.join(folder, "_rels", base + ".rels")
            found = []
            if rels_name in self._zip.NameToInfo:
                for rel in etree.fromstring(self._zip.read(rels_name), _PARSER).iter(_RELS):
                    if rel.get("TargetMode") == "External":
                        continue
                    target = rel.get("Target", "")
                    target = (target[1:] if target.startswith("/")
                              else posixpath.normpath(posixpath.join(folder, target)))
                    found.append((rel.get("Id"), rel.get("Type"), target))
            self._rels[name] = found
        return self._rels[name]

    def related(self, name: str, reltype: str) -> str:
        """The part ``name`` relates to by ``reltype`` (KeyError where none does)."""
        key = (name, reltype)
        if key not in self._related:
            self._related[key] = next(
                (target for _, kind, target in self.rels(name) if kind == reltype), None)
        if self._related[key] is None:
            raise KeyError(f"{name or 'package'}: no relationship of type {reltype}")
        return self._related[key]

    def _by_id(self, name: str, rid: str) -> str:
        for key, _, target in self.rels(name):
            if key == rid:
                return target
        raise NotADeck(f"{name} lists {rid!r}, which it does not relate to")

    def _listed(self, which: str) -> list[str]:
        """The parts presentation.xml lists in ``p:sldIdLst`` or ``p:sldMasterIdLst``."""
        listing = self.part(self.main).find(_PRESENTATION[which])
        if listing is None:
            return []
        return [self._by_id(self.main, entry.get(_PRESENTATION["rid"])) for entry in listing
                if isinstance(entry.tag, str)]

    @property
    def slide_size(self) -> tuple[int, int]:
        root = self.part(self.main)
        size = root.find(_PRESENTATION["size"]) if root.tag == _P_PRESENTATION else None
        if size is None or size.get("cx") is None or size.get("cy") is None:
            raise NotADeck(f"{self.main} is not a presentation with a slide size")
        return int(size.get("cx")), int(size.get("cy"))

    @property
    def slides(self) -> Iterable[Slide]:
        """The slides in presentation order, each parsed as it is reached."""
        for name in self._listed("sld"):
            layout = self.related(name, RT.SLIDE_LAYOUT)
            master = self.part(self.related(layout, RT.SLIDE_MASTER))
            yield Slide(self.part(name), layout, master.find(_TX_STYLES))

    @property
    def theme(self) -> etree._Element | None:
        """The first master's theme (what ``prs.slide_masters[0]`` relates to), or None."""
        masters = self._listed("master")
        try:
            return self.part(self.related(masters[0], RT.THEME)) if masters else None
        except KeyError:
            return None


class Slide:
    """A slide's root element, the name of its layout part, and its master's text styles
    (``p:txStyles``, None where the master has none)."""

    def __init__(self, element: etree._Element, layout: str,
                 tx_styles: etree._Element | None) -> None:
        self.element, self.layout, self.tx_styles = element, layout, tx_styles

    @property
    def shapes(self) -> list[etree._Element]:
        return shapes_of(self.element)


def shapes_of(part: etree._Element) -> list[etree._Element]:
    """The shape elements of a slide, layout or master, as python-pptx iterates them."""
    tree = part.find(_C_SLD).find(_SP_TREE)
    return [child for child in tree if child.tag in _SHAPES]


def name_of(element: etree._Element) -> str:
    """A shape's name (``./*[1]/p:cNvPr/@name``)."""
    return ooxml.non_visual(element).find(_C_NV_PR).get("name")


def _ph_type(ph: etree._Element) -> str:
    return ph.get("type", "obj")


def _ph_idx(ph: etree._Element) -> int:
    return int(ph.get("idx", "0"))


class Inheritance:
    """What the shapes of one deck inherit from their layouts and masters, as python-pptx's
    ``_base_placeholder`` finds it, each step looked up once per :func:`check_deck` call: a
    slide's placeholder (``p:sp`` or ``p:pic``) inherits from its layout's first placeholder
    with its ``idx``; a layout's ``p:sp`` placeholder from its master's first placeholder of
    the type :data:`_MASTER_TYPE` gives; a master's from nothing. Each layout's and master's
    placeholders are indexed once, inherited positions and sizes found once per placeholder,
    the list styles of a chain once per chain."""

    def __init__(self, package: Package) -> None:
        self._package = package
        self._by_idx: dict[str, dict] = {}     # layout part -> {idx: first placeholder}
        self._by_type: dict[str, dict] = {}    # master part -> {type: first placeholder}
        self._masters: dict = {}               # layout placeholder element -> master part
        self._values: dict = {}    # (element, 0-3) -> x, y, cx or cy it gives
        # (inherited element, style kind, p:txStyles) -> a:lvlNpPr per level, Level per level
        self._styles: dict = {}
        self._summaries: dict[tuple, Level] = {}  # a level's a:lvlNpPr chain -> Level

    def base(self, element: etree._Element, layout: str | None = None):
        """The element ``element`` inherits from, or None; ``layout``: the layout part of
        the slide it is on (None: ``element`` is on a layout or master)."""
        ph = ooxml.placeholder_element(element)
        if ph is None:
            return None
        if layout is not None:
            if element.tag not in (_SP, _PIC):
                return None
            index = self._index(self._by_idx, layout, _ph_idx)
            found = index.get(_ph_idx(ph))
            if found is not None:
                self._masters[found] = self._package.related(layout, RT.SLIDE_MASTER)
            return found
        master = self._masters.get(element)
        if master is None or element.tag != _SP:
            return None
        wanted = _MASTER_TYPE.get(_ph_type(ph))
        return self._index(self._by_type, master, _ph_type).get(wanted)

    def _index(self, indexes: dict, part: str, key) -> dict:
        """A layout's or master's placeholders by ``key`` (idx or type), the first of each."""
        index = indexes.get(part)
        if index is None:
            index = {}
            for shape in shapes_of(self._package.part(part)):
                ph = ooxml.placeholder_element(shape)
                if ph is not None:
                    index.setdefault(key(ph), shape)
            indexes[part] = index
        return index

    def chain(self, element: etree._Element, layout: str) -> list:
        """A slide's shape, then the placeholders it inherits from (layout, then master):
        what :func:`deck.master.placeholder_chain` gives, as elements."""
        out, base = [element], self.base(element, layout)
        while base is not None:
            out.append(base)
            base = self.base(base)
        return out

    def box(self, element: etree._Element, layout: str) -> tuple:
        """A slide shape's left, top, width and height (EMU) as python-pptx reads them: its
        own, else the nearest inherited placeholder's (None where none sets it). Its base is
        looked up only when a value is missing, as python-pptx does."""
        own = own_box(element)
        if None not in own:
            return own
        base = self.base(element, layout)
        return tuple(value if value is not None else self._inherited(base, i)
                     for i, value in enumerate(own))

    def _inherited(self, base, i: int):
        """Value ``i`` (x, y, cx, cy) of ``base``'s box, its own or inherited in turn."""
        if base is None:
            return None
        key = (base, i)
        if key not in self._values:
            value = own_box(base)[i]
            self._values[key] = value if value is not None else self._inherited(
                self.base(base), i)
        return self._values[key]

    def styles(self, element: etree._Element, ph, chain: list,
               tx_styles) -> dict[int, Level]:
        """Per paragraph level (0-8), what a paragraph of ``element`` inherits (a
        :class:`Level`) from the ``a:lvlNpPr`` elements of its own list style, its layout's
        and master's placeholders' (``chain``) and the master text style (``tx_styles``) for
        its kind, nearest first."""
        kind = "p:otherStyle"
        if ph is not None:
            kind = "p:titleStyle" if _ph_type(ph) in _TITLES else "p:bodyStyle"
        key = (chain[1] if len(chain) > 1 else None, kind, tx_styles)
        if key not in self._styles:
            lists = _list_styles(chain[1:])
            lists.append(tx_styles.find(qn(kind)) if tx_styles is not None else None)
            inherited = _levels(lists)
            self._styles[key] = inherited, {lvl: self._level(tuple(chain))
                                            for lvl, chain in inherited.items()}
        inherited, levels = self._styles[key]
        own = [lst for lst in _list_styles(chain[:1]) if lst is not None and len(lst)]
        if not own:  # (most shapes: an empty list style of their own, or none)
            return levels
        own_levels = _levels(own)
        return {lvl: self._level(tuple(own_levels[lvl] + found))
                for lvl, found in inherited.items()}

    def _level(self, chain: tuple) -> Level:
        """:meth:`Level.of`, once per chain."""
        if chain not in self._summaries:
            self._summaries[chain] = Level.of(chain)
        return self._summaries[chain]


def own_box(element: etree._Element) -> tuple:
    """A shape element's own x, y, cx and cy from its ``a:xfrm`` (``p:xfrm`` in a graphic
    frame, ``p:grpSpPr/a:xfrm`` in a group: what python-pptx's ``BaseShape.left`` and the
    rest read), None where unset."""
    if element.tag == _FRAME:
        xfrm = element.find(_P_XFRM)
    else:
        props = element.find(_GRP_SP_PR if element.tag == _GRP_SP else _SP_PR)
        xfrm = props.find(_XFRM) if props is not None else None
    if xfrm is None:
        return None, None, None, None
    off, ext = xfrm.find(_OFF), xfrm.find(_EXT)
    coordinate = ST_Coordinate.convert_from_xml
    return tuple(None if el is None else coordinate(el.get(attr))
                 for el, attr in ((off, "x"), (off, "y"), (ext, "cx"), (ext, "cy")))


def _list_styles(elements: list) -> list:
    """The ``p:txBody/a:lstStyle`` of each shape that has a text body (None where it has no
    list style)."""
    bodies = [el.find(_TX_BODY) for el in elements]
    return [b.find(_LST_STYLE) for b in bodies if b is not None]


def _levels(lists: list) -> dict[int, list]:
    """Per level (0-8), the ``a:lvlNpPr`` the list styles define, in their order."""
    return {lvl: [el for lst in lists if lst is not None
                  if (el := lst.find(_LEVELS[lvl])) is not None]
            for lvl in range(9)}


def _check_slide(slide: Slide, width: int, height: int, measure: Measurer,
                 inherit: Inheritance) -> Iterable[str]:
    """One slide's problems: its title, each shape's bounds and text, then overlaps. Each
    shape's ``p:ph`` and box are read once."""
    shapes = [(shape, ooxml.placeholder_element(shape)) for shape in slide.shapes]
    titles = [s for s, ph in shapes if ph is not None and _ph_type(ph) in _TITLES]
    if not titles:
        yield "no title placeholder"
    elif not any(text_of(t.find(_TX_BODY)).strip() for t in titles):
        yield f"shape {name_of(titles[0])!r}: title is empty"
    bearing: list[tuple[str, Rect]] = []
    for shape, ph in shapes:
        box = inherit.box(shape, slide.layout)
        r = rect(shape, box)
        if r[0] < 0 or r[1] < 0 or r[2] > width or r[3] > height:
            yield (f"shape {name_of(shape)!r}: outside the slide: {_pt(r)} on a "
                   f"{width / EMU_PER_PT:g} x {height / EMU_PER_PT:g} pt slide")
        if bears_text(shape, ph is not None):
            bearing.append((name_of(shape), r))
        if shape.tag == _SP and (ph is not None or _is_text_box(shape)):
            if box[2] is None or box[3] is None:
                yield (f"shape {name_of(shape)!r}: no size: it gives none and inherits none "
                       "from its layout")
                continue
            chain = inherit.chain(shape, slide.layout)
            levels = inherit.styles(shape, ph, chain, slide.tx_styles)
            yield from _frame_fit(shape, box, chain, levels, measure)
        if (tbl := table_of(shape)) is not None:
            yield from _table_fit(shape, tbl, measure)
    for (name_a, a), (name_b, b) in combinations(bearing, 2):
        w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
        if w > 0 and h > 0:
            yield (f"shapes {name_a!r} and {name_b!r} overlap by "
                   f"{w / EMU_PER_PT:.1f} x {h / EMU_PER_PT:.1f} pt")


def shape_rect(shape) -> Rect:
    """The box a python-pptx shape occupies (EMU); a table's rows and columns count where
    they exceed it."""
    return rect(shape._element, (shape.left, shape.top, shape.width, shape.height))


def rect(element: etree._Element, box: tuple) -> Rect:
    """:func:`shape_rect` of a shape element with (left, top, width, height) ``box``, None
    read as 0."""
    left, top, w, h = (int(v or 0) for v in box)
    if (tbl := table_of(element)) is not None:
        heights, widths = _grid(tbl)
        w, h = max(w, sum(widths)), max(h, sum(heights))
    return left, top, left + w, top + h


def table_of(element: etree._Element) -> etree._Element | None:
    """A graphic frame's ``a:tbl`` where it holds a table (python-pptx's ``has_table``:
    its ``a:graphicData`` says so), else None."""
    if element.tag != _FRAME:
        return None
    graphic = element.find(_GRAPHIC)
    data = graphic.find(_GRAPHIC_DATA) if graphic is not None else None
    if data is None or data.get("uri") != _TABLE_URI:
        return None
    return data.find(_TBL)


def is_text_bearing(shape) -> bool:
    """Placeholders, text boxes, tables, charts, other graphic frames, groups, and any other
    shape that shows text (``shape``: a python-pptx shape)."""
    return bears_text(shape._element, shape.is_placeholder)


def bears_text(element: etree._Element, is_placeholder: bool) -> bool:
    """:func:`is_text_bearing` of a shape element, with whether it is a placeholder."""
    if is_placeholder or element.tag in (_FRAME, _GRP_SP):
        return True
    if element.tag != _SP:  # pictures, connectors: no text frame
        return False
    return _is_text_box(element) or bool(text_of(element.find(_TX_BODY)).strip())


def _is_text_box(sp: etree._Element) -> bool:
    """Whether a ``p:sp`` that is not a placeholder is a text box, as python-pptx's
    ``shape_type`` decides (no custom geometry; ``txBox`` set, and so not an autoshape;
    python-pptx fails on a shape that is neither: not a text box here)."""
    props = sp.find(_SP_PR)
    if props is not None and props.find(_CUST_GEOM) is not None:
        return False
    non_visual = ooxml.non_visual(sp)
    flags = non_visual.find(_C_NV_SP_PR) if non_visual is not None else None
    return flags is not None and flags.get("txBox") in ("1", "true")


def text_of(body: etree._Element | None) -> str:
    """A text body's text as python-pptx's ``text_frame.text`` gives it: paragraphs joined
    by newlines, a line break as a vertical tab."""
    if body is None:
        return ""
    return "\n".join(_paragraph_text(p) for p in body.iterchildren(_A_P))


def _paragraph_text(p_el: etree._Element) -> str:
    """``_Paragraph.text``: its runs' and fields' ``a:t`` and its line breaks, in order."""
    return "".join("\v" if child.tag == _BR else _run_text(child)
                   for child in p_el if child.tag in _CONTENT)


def _run_text(run: etree._Element) -> str:
    t = run.find(_T)
    return (t.text or "") if t is not None else ""


def _pt(r: Rect) -> str:
    return "({:.1f}, {:.1f})-({:.1f}, {:.1f}) pt".format(*(v / EMU_PER_PT for v in r))


def _frame_fit(shape: etree._Element, box: tuple, chain: list, levels: dict[int, Level],
               measure: Measurer) -> Iterable[str]:
    """A shape's text against its box (``box``: its inherited left, top, width, height) less
    its inherited insets; ``chain`` and ``levels`` as :class:`Inheritance` gives them."""
    body = shape.find(_TX_BODY)
    ins = insets_of(chain)
    inner_w = (int(box[2]) - ins.left_emu - ins.right_emu) / EMU_PER_PT
    inner_h = (int(box[3]) - ins.top_emu - ins.bottom_emu) / EMU_PER_PT
    need = sum(_paragraph_height(p, inner_w, levels, measure) for p in _paragraphs(body))
    if need > inner_h + _SLACK_PT:
        yield (f"shape {name_of(shape)!r}: text needs {need:.1f} pt but the box holds "
               f"{inner_h:.1f} pt ({text_of(body)[:40]!r}...)")


def _table_fit(frame: etree._Element, tbl: etree._Element,
               measure: Measurer) -> Iterable[str]:
    """Each cell's text (what ``cell.text_frame`` holds) against its rows' height, in its
    columns' width less its margins; a merged cell's whole range, spanned cells skipped.
    Rows, cells and their attributes are read as python-pptx's ``CT_TableCell`` reads them
    (``is_spanned``, ``is_merge_origin``, ``rowSpan``, ``gridSpan``)."""
    heights, widths = _grid(tbl)
    for i, tr in enumerate(tbl.iterchildren(_TR)):
        for j, tc in enumerate(tr.iterchildren(_TC)):
            h_merge, v_merge = _flag(tc, "hMerge"), _flag(tc, "vMerge")
            if h_merge or v_merge:  # spanned
                continue
            grid_span, row_span = int(tc.get("gridSpan", 1)), int(tc.get("rowSpan", 1))
            origin = grid_span > 1 or row_span > 1
            rows = row_span if origin else 1
            cols = grid_span if origin else 1
            left, right, top, bottom = _cell_margins(tc)
            w = sum(widths[j:j + cols]) - left - right
            h = sum(heights[i:i + rows]) / EMU_PER_PT
            body = tc.find(_A_TX_BODY)
            need = sum(_paragraph_height(p, w / EMU_PER_PT, {}, measure)
                       for p in _paragraphs(body))
            need += (top + bottom) / EMU_PER_PT
            if need > h + _SLACK_PT:
                yield (f"shape {name_of(frame)!r}: cell ({i + 1}, {j + 1}) needs {need:.1f} pt "
                       f"but the row is {h:.1f} pt ({text_of(body)[:40]!r})")


def _paragraphs(body: etree._Element | None) -> list[etree._Element]:
    """A text body's paragraphs; with no body, the one empty paragraph python-pptx gives a
    shape or cell when it adds the body its ``text_frame`` needs."""
    return body.findall(_A_P) if body is not None else [etree.Element(_A_P)]


def _flag(tc, attr: str) -> bool:
    """A cell's boolean attribute as python-pptx reads it (``XsdBoolean``)."""
    value = tc.get(attr)
    if value is not None and value not in ("1", "0", "true", "false"):
        raise ValueError(f"{attr}: value must be one of '1', '0', 'true' or 'false', "
                         f"got {value!r}")
    return value in ("1", "true")


def _grid(tbl: etree._Element) -> tuple[list[int], list[int]]:
    """A table's row heights and column widths (EMU), its rows and columns read once
    (python-pptx's ``table.rows`` re-reads every row at each step)."""
    grid = tbl.find(_GRID)
    coordinate = ST_Coordinate.convert_from_xml
    return ([coordinate(tr.get("h")) for tr in tbl.iterchildren(_TR)],
            [coordinate(col.get("w")) for col in grid.iterchildren(_GRID_COL)]
            if grid is not None else [])


def _cell_margins(tc) -> tuple[int, ...]:
    """A table cell's left, right, top and bottom margins (EMU) as python-pptx's
    ``_Cell.margin_*`` read them (its defaults where ``a:tcPr`` leaves one unset), with
    ``a:tcPr`` found once."""
    tcpr = tc.find(_TC_PR)
    return tuple(default if tcpr is None else int(tcpr.get(attr, default))
                 for attr, default in _CELL_MARGINS)


def _first(elements: Iterable, attr: str) -> str | None:
    """The attribute as the first element that sets it has it."""
    for el in elements:
        if el is not None and el.get(attr) is not None:
            return el.get(attr)
    return None


class Level(NamedTuple):
    """What a paragraph of one level inherits from its chain of ``a:lvlNpPr`` (nearest
    first), found once per chain: the first ``a:defRPr`` size and bold, the first ``marL``,
    the first ``a:spcBef`` and ``a:lnSpc`` that give a value."""

    size: str | None = None
    bold: str | None = None
    mar_l: str | None = None
    before: etree._Element | None = None
    line: etree._Element | None = None

    @classmethod
    def of(cls, chain: tuple) -> Level:
        defaults = [lvl.find(_DEF_RPR) for lvl in chain]
        return cls(_first(defaults, "sz"), _first(defaults, "b"), _first(chain, "marL"),
                   _spacing(chain, _SPC_BEF), _spacing(chain, _LN_SPC))


def _paragraph_height(p_el, width_pt: float, levels: dict[int, Level],
                      measure: Measurer) -> float:
    """Height of one paragraph (``a:p``): space before plus its wrapped lines, measured as
    the fit stage measures at the paragraph's largest run size (bold if any run is), in the
    width left after its left margin (``marL``); what its own properties leave unset comes
    from its level's chain (``levels``: :meth:`Inheritance.styles`)."""
    ppr = p_el.find(_PPR)
    level = levels.get(int(ppr.get("lvl", "0")) if ppr is not None else 0, _NO_LEVEL)
    rprs = [child.find(_RPR) for child in p_el if child.tag in _RUNS] or [p_el.find(_END_RPR)]
    size_pt, bold = 0.0, False
    for rpr in rprs:
        sz = rpr.get("sz") if rpr is not None else None
        sz = sz if sz is not None else level.size
        size_pt = max(size_pt, int(sz) / 100 if sz else _DEFAULT_SIZE_PT)
        b = rpr.get("b") if rpr is not None else None
        bold = bold or (b if b is not None else level.bold) in ("1", "true")
    own_mar_l = ppr.get("marL") if ppr is not None else None
    mar_l = int((own_mar_l if own_mar_l is not None else level.mar_l) or 0) / EMU_PER_PT
    own = (ppr,) if ppr is not None else ()
    before, line = _spacing(own, _SPC_BEF), _spacing(own, _LN_SPC)
    before = _spacing_value(level.before if before is None else before, size_pt, True)
    line = _spacing_value(level.line if line is None else line, 1.0, False) or 1.0
    text = _paragraph_text(p_el).replace("\v", "\n")
    return before + max(1.0, line) * measure.text_height_pt(text, width_pt - mar_l, size_pt,
                                                            bold)


def _spacing(elements: Iterable, qualified: str) -> etree._Element | None:
    """The first ``a:spcBef`` or ``a:lnSpc`` (``qualified``) of ``elements`` that gives a
    value (points or a percentage)."""
    for el in elements:
        spc = el.find(qualified)
        if spc is not None and (spc.find(_SPC_PTS) is not None
                                or spc.find(_SPC_PCT) is not None):
            return spc
    return None


def _spacing_value(spc: etree._Element | None, per_pct: float, before: bool) -> float:
    """Space before in points (``before``), or line spacing as a factor, from ``spc``
    (:func:`_spacing`); 0 where none is given, or where line spacing is given in points."""
    if spc is None:
        return 0.0
    pts = spc.find(_SPC_PTS)
    if pts is not None:
        return int(pts.get("val")) / 100 if before else 0.0
    return int(spc.find(_SPC_PCT).get("val")) / 100000 * per_pct


_NO_LEVEL = Level()


def main(argv: list[str] | None = None) -> int:
    """Print the problems of each deck named on the command line; exit 1 if there are any,
    2 if a file named cannot be read as a deck at all."""
    bad = unreadable = 0
    for name in argv if argv is not None else sys.argv[1:]:
        try:
            problems = check_deck(name)
        except (OSError, zipfile.BadZipFile, KeyError, NotADeck, etree.XMLSyntaxError) as exc:
            print(f"{name}: cannot be read as a deck ({exc}); expected a .pptx file",
                  file=sys.stderr)
            unreadable += 1
            continue
        for problem in problems:
            print(f"{name}: {problem}")
            bad += 1
    return 2 if unreadable else 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
