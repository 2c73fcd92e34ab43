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

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape

from .master import inherited_insets, placeholder_chain, theme_fonts
from .measure import Fonts, Measurer
from .model import EMU_PER_PT

Rect = tuple[int, int, int, int]  # left, top, right, bottom (EMU)

_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
_DEFAULT_SIZE_PT = 18.0
_SLACK_PT = 0.01  # rounding of EMU and hundredths of a point


class LayoutError(Exception):
    """A built deck that would run off its slides: a bug in the fit stage or the writer (the
    build stops before writing it)."""


def check_deck(deck: Path | str | bytes, fonts: Fonts | None = None) -> list[str]:
    """Every layout problem in a deck (a path, or its bytes), one readable line each; []
    when it is fine.

    Checks that every shape lies on the slide, that no two text-bearing shapes (placeholders,
    text boxes, tables, charts, groups) overlap, that every placeholder, text box and table
    cell holds its measured text, and that every slide has a non-empty title.
    """
    prs = Presentation(io.BytesIO(deck) if isinstance(deck, bytes) else str(deck))
    width, height = int(prs.slide_width), int(prs.slide_height)
    faces = theme_fonts(prs)
    measure = (fonts or Fonts()).measurer(faces.minor_latin, faces.minor_ea)
    problems: list[str] = []
    for n, slide in enumerate(prs.slides, start=1):
        problems += [f"slide {n}: {msg}" for msg in _check_slide(slide, width, height, measure)]
    return problems


def _check_slide(slide, width: int, height: int, measure: Measurer) -> Iterable[str]:
    titles = [s for s in slide.placeholders if s.placeholder_format.type in _TITLES]
    if not titles:
        yield "no title placeholder"
    elif not any(t.text_frame.text.strip() for t in titles):
        yield f"shape {titles[0].name!r}: title is empty"
    styles = slide.slide_layout.slide_master._element.find(qn("p:txStyles"))
    bearing: list[tuple[str, Rect]] = []
    for shape in slide.shapes:
        r = shape_rect(shape)
        if r[0] < 0 or r[1] < 0 or r[2] > width or r[3] > height:
            yield (f"shape {shape.name!r}: outside the slide: {_pt(r)} on a "
                   f"{width / EMU_PER_PT:g} x {height / EMU_PER_PT:g} pt slide")
        if is_text_bearing(shape):
            bearing.append((shape.name, r))
        if shape.has_text_frame and (shape.is_placeholder
                                     or shape.shape_type == MSO_SHAPE_TYPE.TEXT_BOX):
            yield from _frame_fit(shape, styles, measure)
        if getattr(shape, "has_table", False):
            yield from _table_fit(shape, measure)
    for (name_a, a), (name_b, b) in combinations(bearing, 2):
        w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
        if w > 0 and h > 0:
            yield (f"shapes {name_a!r} and {name_b!r} overlap by "
                   f"{w / EMU_PER_PT:.1f} x {h / EMU_PER_PT:.1f} pt")


def shape_rect(shape) -> Rect:
    """The box a shape occupies (EMU); a table's rows and columns count where they exceed it."""
    left, top = int(shape.left or 0), int(shape.top or 0)
    w, h = int(shape.width or 0), int(shape.height or 0)
    if getattr(shape, "has_table", False):
        w = max(w, sum(int(c.width) for c in shape.table.columns))
        h = max(h, sum(int(r.height) for r in shape.table.rows))
    return left, top, left + w, top + h


def is_text_bearing(shape) -> bool:
    """Placeholders, text boxes, tables, charts, other graphic frames, groups, and any other
    shape that shows text."""
    if shape.is_placeholder or isinstance(shape, GraphicFrame | GroupShape):
        return True
    if shape.shape_type == MSO_SHAPE_TYPE.TEXT_BOX:
        return True
    return bool(shape.has_text_frame and shape.text_frame.text.strip())


def _pt(r: Rect) -> str:
    return "({:.1f}, {:.1f})-({:.1f}, {:.1f}) pt".format(*(v / EMU_PER_PT for v in r))


def _frame_fit(shape, styles, measure: Measurer) -> Iterable[str]:
    tf = shape.text_frame
    chain = placeholder_chain(shape)
    ins = inherited_insets(shape, chain)
    inner_w = (int(shape.width) - ins.left_emu - ins.right_emu) / EMU_PER_PT
    inner_h = (int(shape.height) - ins.top_emu - ins.bottom_emu) / EMU_PER_PT
    chains = _style_chain(shape, styles, chain)
    need = sum(paragraph_height_pt(p, inner_w, chains, measure) for p in tf.paragraphs)
    if need > inner_h + _SLACK_PT:
        yield (f"shape {shape.name!r}: text needs {need:.1f} pt but the box holds "
               f"{inner_h:.1f} pt ({tf.text[:40]!r}...)")


def _table_fit(frame, measure: Measurer) -> Iterable[str]:
    table = frame.table
    heights = [int(r.height) for r in table.rows]
    widths = [int(c.width) for c in table.columns]
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row.cells):
            if cell.is_spanned:
                continue
            rows = cell.span_height if cell.is_merge_origin else 1
            cols = cell.span_width if cell.is_merge_origin else 1
            w = (sum(widths[j:j + cols]) - int(cell.margin_left) - int(cell.margin_right))
            h = sum(heights[i:i + rows]) / EMU_PER_PT
            need = sum(paragraph_height_pt(p, w / EMU_PER_PT, {}, measure)
                       for p in cell.text_frame.paragraphs)
            need += (int(cell.margin_top) + int(cell.margin_bottom)) / EMU_PER_PT
            if need > h + _SLACK_PT:
                yield (f"shape {frame.name!r}: cell ({i + 1}, {j + 1}) needs {need:.1f} pt "
                       f"but the row is {h:.1f} pt ({cell.text[:40]!r})")


def _style_chain(shape, styles, chain: list) -> dict[int, list]:
    """Per paragraph level (0-8), the ``a:lvlNpPr`` elements a paragraph inherits, nearest
    first: the shape's list style, its layout and master placeholders' (``chain``), the master
    text style."""
    bodies = [s._element.find(qn("p:txBody")) for s in chain]
    kind = "p:otherStyle"
    if shape.is_placeholder:
        ph = shape.placeholder_format.type
        kind = "p:titleStyle" if ph in _TITLES else "p:bodyStyle"
    lists = [b.find(qn("a:lstStyle")) for b in bodies if b is not None]
    lists.append(styles.find(qn(kind)) if styles is not None else None)
    return {lvl: [el for lst in lists if lst is not None
                  if (el := lst.find(qn(f"a:lvl{lvl + 1}pPr"))) is not None]
            for lvl in range(9)}


def _first(elements: Iterable, attr: str) -> str | None:
    for el in elements:
        if el is not None and el.get(attr) is not None:
            return el.get(attr)
    return None


def paragraph_height_pt(p, width_pt: float, chains: dict[int, list], measure: Measurer) -> float:
    """Height of one paragraph: space before plus its wrapped lines, measured as the fit stage
    measures at the paragraph's largest run size (bold if any run is), in the width left after
    its left margin (``marL``)."""
    chain = chains.get(p.level, [])
    ppr = p._p.pPr
    defaults = [lvl.find(qn("a:defRPr")) for lvl in chain]
    runs = p._p.xpath("./a:r | ./a:fld")
    rprs = [r.find(qn("a:rPr")) for r in runs] or [p._p.find(qn("a:endParaRPr"))]
    size_pt, bold = 0.0, False
    for rpr in rprs:
        sz = _first([rpr, *defaults], "sz")
        size_pt = max(size_pt, int(sz) / 100 if sz else _DEFAULT_SIZE_PT)
        bold = bold or _first([rpr, *defaults], "b") in ("1", "true")
    mar_l = int(_first([ppr, *chain], "marL") or 0) / EMU_PER_PT
    before = _spacing(ppr, chain, "a:spcBef", size_pt)
    line = _spacing(ppr, chain, "a:lnSpc", 1.0) or 1.0
    text = p.text.replace("\v", "\n")
    return before + max(1.0, line) * measure.text_height_pt(text, width_pt - mar_l, size_pt,
                                                            bold)


def _spacing(ppr, chain: list, tag: str, per_pct: float) -> float:
    """``a:spcBef`` (points) or ``a:lnSpc`` (a factor), as the nearest level defines it."""
    for el in [ppr, *chain]:
        spc = el.find(qn(tag)) if el is not None else None
        if spc is None:
            continue
        pts, pct = spc.find(qn("a:spcPts")), spc.find(qn("a:spcPct"))
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
