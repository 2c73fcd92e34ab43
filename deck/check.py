"""Layout checks over a built deck: bounds, overlaps, text that fits its box, slide titles.

Text is measured with :mod:`deck.layout`'s own functions (real font metrics, the same line
breaking), at the sizes, weights, insets, indents and paragraph spacing found in the file, with
text properties a run leaves unset inherited from its layout and master. A deck the layout stage
laid out correctly passes; anything written or edited wrongly afterwards is named::

    python -m deck.check out/deepseek-shock.ko.pptx
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import nsmap, qn
from pptx.oxml.simpletypes import ST_Coordinate
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape
from pptx.shapes.placeholder import LayoutPlaceholder

from . import ooxml
from .master import inherited_insets, theme_fonts
from .measure import Fonts, Measurer
from .model import EMU_PER_PT

Rect = tuple[int, int, int, int]  # left, top, right, bottom (EMU)

_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
_DEFAULT_SIZE_PT = 18.0
_SLACK_PT = 0.01  # rounding of EMU and hundredths of a point

# tags qualified and XPaths compiled once: python-pptx runs an uncompiled XPath for every
# placeholder question (is_placeholder, placeholder_format, ph_idx, name)
_NAME = etree.XPath("./*[1]/p:cNvPr/@name", namespaces=nsmap("p"))
_TX_STYLES, _TX_BODY, _LST_STYLE = qn("p:txStyles"), qn("p:txBody"), qn("a:lstStyle")
_LEVELS = tuple(qn(f"a:lvl{lvl}pPr") for lvl in range(1, 10))
_RUNS = frozenset((qn("a:r"), qn("a:fld")))
_CONTENT = _RUNS | {qn("a:br")}  # what python-pptx's _Paragraph.text joins
_PPR, _RPR, _END_RPR, _DEF_RPR = qn("a:pPr"), qn("a:rPr"), qn("a:endParaRPr"), qn("a:defRPr")
_SPC_PTS, _SPC_PCT = qn("a:spcPts"), qn("a:spcPct")
# python-pptx's defaults for a cell margin a:tcPr leaves unset (CT_TableCell.marL etc.)
_CELL_MARGINS = (("marL", 91440), ("marR", 91440), ("marT", 45720), ("marB", 45720))
_SPACING = {"a:spcBef": qn("a:spcBef"), "a:lnSpc": qn("a:lnSpc")}
_TR, _TC, _TC_PR, _GRID, _GRID_COL = (qn("a:tr"), qn("a:tc"), qn("a:tcPr"), qn("a:tblGrid"),
                                      qn("a:gridCol"))
_A_TX_BODY, _A_P = qn("a:txBody"), qn("a:p")


class LayoutError(Exception):
    """A built deck that would run off its slides: a bug in the fit stage or the writer (the
    build stops before writing it)."""


def check_deck(deck: Path | str | bytes, fonts: Fonts | None = None,
               skip: frozenset[int] = frozenset()) -> list[str]:
    """Every layout problem in a deck (a path, or its bytes), one readable line each; []
    when it is fine. ``skip``: numbers of slides known to be fine (the same slide on the same
    template passed before: a rebuild checks only the slides that changed).

    Checks that every shape lies on the slide, that no two text-bearing shapes (placeholders,
    text boxes, tables, charts, groups) overlap, that every placeholder, text box and table
    cell holds its measured text, and that every slide has a non-empty title.
    """
    prs = Presentation(io.BytesIO(deck) if isinstance(deck, bytes) else str(deck))
    width, height = int(prs.slide_width), int(prs.slide_height)
    faces = theme_fonts(prs)
    measure = (fonts or Fonts()).measurer(faces.minor_latin, faces.minor_ea)
    inherit = _Inheritance()
    problems: list[str] = []
    for n, slide in enumerate(prs.slides, start=1):
        if n in skip:
            continue
        problems += [f"slide {n}: {msg}"
                     for msg in _check_slide(slide, width, height, measure, inherit)]
    return problems


def _name(shape) -> str:
    """``shape.name`` (``cNvPr/@name``), with a compiled XPath."""
    return _NAME(shape._element)[0]


class _Inheritance:
    """What the placeholders of one deck inherit from their layouts and masters, each step
    looked up once per :func:`check_deck` call. python-pptx finds a slide placeholder's layout
    placeholder by walking the layout's shapes (an XPath per shape) every time a position or
    size is read; here each layout's placeholders are indexed once, a layout placeholder's
    master placeholder is found once per (master, type), inherited positions and sizes once
    per placeholder, and the list styles a chain gives once per chain."""

    def __init__(self) -> None:
        self._by_idx: dict = {}   # layout part -> {idx: first layout placeholder}
        self._bases: dict = {}    # (master part, type) | element -> base placeholder
        self._own: dict = {}      # base element -> its own (x, y, cx, cy)
        self._values: dict = {}   # (base element, 0-3) -> x, y, cx or cy it gives
        self._styles: dict = {}   # (inherited element, style kind, p:txStyles) -> levels

    def base(self, shape, layout=None):
        """The placeholder ``shape`` inherits from, as python-pptx's ``_base_placeholder``
        finds it, or None: on a slide (``layout``: the slide's layout), the layout's first
        placeholder with its ``idx``; on a layout, the master's placeholder of its type."""
        if not hasattr(type(shape), "_base_placeholder"):
            return None
        ph = ooxml.placeholder_element(shape._element)
        if layout is not None:
            return self._layout_placeholders(layout).get(ph.idx)
        key = shape._element
        if isinstance(shape, LayoutPlaceholder):
            key = (shape.part.slide_master.part, ph.type)
        if key not in self._bases:
            self._bases[key] = getattr(shape, "_base_placeholder", None)
        return self._bases[key]

    def _layout_placeholders(self, layout) -> dict:
        """A layout's placeholders by ``idx``, the first of each (what
        ``layout.placeholders.get(idx=...)`` finds)."""
        index = self._by_idx.get(layout.part)
        if index is None:
            index = {}
            for placeholder in layout.placeholders:
                index.setdefault(ooxml.placeholder_element(placeholder._element).idx, placeholder)
            self._by_idx[layout.part] = index
        return index

    def chain(self, shape, layout) -> list:
        """:func:`deck.master.placeholder_chain` of a slide's shape: the shape, then the
        placeholders it inherits from (layout, then master)."""
        out, base = [shape], self.base(shape, layout)
        while base is not None:
            out.append(base)
            base = self.base(base)
        return out

    def box(self, shape, layout) -> tuple:
        """A slide shape's left, top, width and height (EMU) as python-pptx reads them: its
        own, else the nearest inherited placeholder's (None where none sets it). Its base is
        looked up only when a value is missing, as python-pptx does."""
        own = _own_box(shape._element)
        if None not in own:
            return own
        base = self.base(shape, layout)
        return tuple(value if value is not None else self._inherited(base, i)
                     for i, value in enumerate(own))

    def _inherited(self, base, i: int):
        """Value ``i`` (x, y, cx, cy) of ``base``'s box, its own or inherited in turn."""
        if base is None:
            return None
        key = (base._element, i)
        if key not in self._values:
            if base._element not in self._own:
                self._own[base._element] = _own_box(base._element)
            value = self._own[base._element][i]
            self._values[key] = value if value is not None else self._inherited(
                self.base(base), i)
        return self._values[key]

    def styles(self, shape, ph, chain: list, tx_styles) -> dict[int, list]:
        """Per paragraph level (0-8), the ``a:lvlNpPr`` elements a paragraph of ``shape``
        inherits, nearest first: its own list style, its layout's and master's placeholders'
        (``chain``), the master text style (``tx_styles``) for its kind."""
        kind = "p:otherStyle"
        if ph is not None:
            kind = "p:titleStyle" if ph.type in _TITLES else "p:bodyStyle"
        key = (chain[1]._element if len(chain) > 1 else None, kind, tx_styles)
        if key not in self._styles:
            lists = _list_styles(chain[1:])
            lists.append(tx_styles.find(qn(kind)) if tx_styles is not None else None)
            self._styles[key] = _levels(lists)
        own = _levels(_list_styles(chain[:1]))
        return {lvl: own[lvl] + inherited for lvl, inherited in self._styles[key].items()}


def _own_box(element) -> tuple:
    """A shape element's own x, y, cx and cy from its ``a:xfrm`` (what python-pptx's
    ``BaseShape.left`` and the rest read), None where unset."""
    xfrm = element.xfrm
    if xfrm is None:
        return None, None, None, None
    return xfrm.x, xfrm.y, xfrm.cx, xfrm.cy


def _list_styles(shapes: list) -> list:
    """The ``p:txBody/a:lstStyle`` of each shape that has a text body (None where it has no
    list style)."""
    bodies = [s._element.find(_TX_BODY) for s in shapes]
    return [b.find(_LST_STYLE) for b in bodies if b is not None]


def _levels(lists: list) -> dict[int, list]:
    """Per level (0-8), the ``a:lvlNpPr`` the list styles define, in their order."""
    return {lvl: [el for lst in lists if lst is not None
                  if (el := lst.find(_LEVELS[lvl])) is not None]
            for lvl in range(9)}


def _check_slide(slide, width: int, height: int, measure: Measurer,
                 inherit: _Inheritance) -> Iterable[str]:
    """One slide's problems: its title, each shape's bounds and text, then overlaps. Each
    shape's ``p:ph`` and box are read once."""
    layout = slide.slide_layout
    shapes = [(shape, ooxml.placeholder_element(shape._element)) for shape in slide.shapes]
    titles = [s for s, ph in shapes if ph is not None and ph.type in _TITLES]
    if not titles:
        yield "no title placeholder"
    elif not any(t.text_frame.text.strip() for t in titles):
        yield f"shape {_name(titles[0])!r}: title is empty"
    styles = layout.slide_master._element.find(_TX_STYLES)
    bearing: list[tuple[str, Rect]] = []
    for shape, ph in shapes:
        box = inherit.box(shape, layout)
        r = _rect(shape, box)
        if r[0] < 0 or r[1] < 0 or r[2] > width or r[3] > height:
            yield (f"shape {_name(shape)!r}: outside the slide: {_pt(r)} on a "
                   f"{width / EMU_PER_PT:g} x {height / EMU_PER_PT:g} pt slide")
        if _bears_text(shape, ph is not None):
            bearing.append((_name(shape), r))
        if shape.has_text_frame and (ph is not None
                                     or shape.shape_type == MSO_SHAPE_TYPE.TEXT_BOX):
            chain = inherit.chain(shape, layout)
            chains = inherit.styles(shape, ph, chain, styles)
            yield from _frame_fit(shape, box, chain, chains, measure)
        if getattr(shape, "has_table", False):
            yield from _table_fit(shape, measure)
    for (name_a, a), (name_b, b) in combinations(bearing, 2):
        w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
        if w > 0 and h > 0:
            yield (f"shapes {name_a!r} and {name_b!r} overlap by "
                   f"{w / EMU_PER_PT:.1f} x {h / EMU_PER_PT:.1f} pt")


def shape_rect(shape) -> Rect:
    """The box a shape occupies (EMU); a table's rows and columns count where they exceed it."""
    return _rect(shape, (shape.left, shape.top, shape.width, shape.height))


def _rect(shape, box: tuple) -> Rect:
    """:func:`shape_rect` from the shape's (left, top, width, height), None read as 0."""
    left, top, w, h = (int(v or 0) for v in box)
    if getattr(shape, "has_table", False):
        heights, widths = _grid(shape.table)
        w, h = max(w, sum(widths)), max(h, sum(heights))
    return left, top, left + w, top + h


def is_text_bearing(shape) -> bool:
    """Placeholders, text boxes, tables, charts, other graphic frames, groups, and any other
    shape that shows text."""
    return _bears_text(shape, shape.is_placeholder)


def _bears_text(shape, is_placeholder: bool) -> bool:
    """:func:`is_text_bearing`, with whether the shape is a placeholder already known."""
    if is_placeholder or isinstance(shape, GraphicFrame | GroupShape):
        return True
    if shape.shape_type == MSO_SHAPE_TYPE.TEXT_BOX:
        return True
    return bool(shape.has_text_frame and shape.text_frame.text.strip())


def _pt(r: Rect) -> str:
    return "({:.1f}, {:.1f})-({:.1f}, {:.1f}) pt".format(*(v / EMU_PER_PT for v in r))


def _frame_fit(shape, box: tuple, chain: list, chains: dict[int, list],
               measure: Measurer) -> Iterable[str]:
    """A shape's text against its box (``box``: its inherited left, top, width, height) less
    its inherited insets; ``chain`` and ``chains`` as :class:`_Inheritance` gives them."""
    tf = shape.text_frame
    ins = inherited_insets(shape, chain)
    inner_w = (int(box[2]) - ins.left_emu - ins.right_emu) / EMU_PER_PT
    inner_h = (int(box[3]) - ins.top_emu - ins.bottom_emu) / EMU_PER_PT
    need = sum(_paragraph_height(p._p, inner_w, chains, measure) for p in tf.paragraphs)
    if need > inner_h + _SLACK_PT:
        yield (f"shape {_name(shape)!r}: text needs {need:.1f} pt but the box holds "
               f"{inner_h:.1f} pt ({tf.text[:40]!r}...)")


def _table_fit(frame, measure: Measurer) -> Iterable[str]:
    """Each cell's text (what ``cell.text_frame`` holds) against its rows' height, in its
    columns' width less its margins; a merged cell's whole range, spanned cells skipped.
    Rows, cells and their attributes are read as python-pptx's ``CT_TableCell`` reads them
    (``is_spanned``, ``is_merge_origin``, ``rowSpan``, ``gridSpan``), straight from the XML."""
    tbl = frame.table._tbl
    heights, widths = _grid(frame.table)
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
            body = tc.find(_A_TX_BODY)  # (none: python-pptx would add one, with one paragraph)
            paragraphs = body.findall(_A_P) if body is not None else [etree.Element(_A_P)]
            need = sum(_paragraph_height(p, w / EMU_PER_PT, {}, measure) for p in paragraphs)
            need += (top + bottom) / EMU_PER_PT
            if need > h + _SLACK_PT:
                yield (f"shape {_name(frame)!r}: cell ({i + 1}, {j + 1}) needs {need:.1f} pt "
                       f"but the row is {h:.1f} pt ({tc.text[:40]!r})")


def _flag(tc, attr: str) -> bool:
    """A cell's boolean attribute as python-pptx reads it (``XsdBoolean``)."""
    value = tc.get(attr)
    if value is not None and value not in ("1", "0", "true", "false"):
        raise ValueError(f"{attr}: value must be one of '1', '0', 'true' or 'false', "
                         f"got {value!r}")
    return value in ("1", "true")


def _grid(table) -> tuple[list[int], list[int]]:
    """A table's row heights and column widths (EMU), its rows and columns read once
    (python-pptx's ``table.rows`` re-reads every row at each step)."""
    tbl = table._tbl
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


def paragraph_height_pt(p, width_pt: float, chains: dict[int, list], measure: Measurer) -> float:
    """Height of one paragraph: space before plus its wrapped lines, measured as the fit stage
    measures at the paragraph's largest run size (bold if any run is), in the width left after
    its left margin (``marL``)."""
    return _paragraph_height(p._p, width_pt, chains, measure)


def _paragraph_height(p_el, width_pt: float, chains: dict[int, list],
                      measure: Measurer) -> float:
    """:func:`paragraph_height_pt` of an ``a:p`` element."""
    ppr = p_el.find(_PPR)
    chain = chains.get(ppr.lvl if ppr is not None else 0, [])  # p.level, without adding a pPr
    defaults = [lvl.find(_DEF_RPR) for lvl in chain]
    content = [child for child in p_el if child.tag in _CONTENT]
    rprs = [r.find(_RPR) for r in content if r.tag in _RUNS] or [p_el.find(_END_RPR)]
    size_pt, bold = 0.0, False
    for rpr in rprs:
        sz = _first([rpr, *defaults], "sz")
        size_pt = max(size_pt, int(sz) / 100 if sz else _DEFAULT_SIZE_PT)
        bold = bold or _first([rpr, *defaults], "b") in ("1", "true")
    mar_l = int(_first([ppr, *chain], "marL") or 0) / EMU_PER_PT
    before = _spacing(ppr, chain, "a:spcBef", size_pt)
    line = _spacing(ppr, chain, "a:lnSpc", 1.0) or 1.0
    text = "".join(child.text for child in content).replace("\v", "\n")  # p.text
    return before + max(1.0, line) * measure.text_height_pt(text, width_pt - mar_l, size_pt,
                                                            bold)


def _spacing(ppr, chain: list, tag: str, per_pct: float) -> float:
    """``a:spcBef`` (points) or ``a:lnSpc`` (a factor), as the nearest level defines it."""
    qualified = _SPACING[tag]
    for el in [ppr, *chain]:
        spc = el.find(qualified) if el is not None else None
        if spc is None:
            continue
        pts, pct = spc.find(_SPC_PTS), spc.find(_SPC_PCT)
        if pts is not None:
            return int(pts.get("val")) / 100 if tag == "a:spcBef" else 0.0
        if pct is not None:
            return int(pct.get("val")) / 100000 * per_pct
    return 0.0


def main(argv: list[str] | None = None) -> int:
    """Print the problems of each deck named on the command line; exit 1 if there are any."""
    bad = 0
    for name in argv if argv is not None else sys.argv[1:]:
        for problem in check_deck(name):
            print(f"{name}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
