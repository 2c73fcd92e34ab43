"""Grafting: moving pieces of one deck into another with python-pptx and lxml.

The merge (:mod:`deck.merge`) decides what goes where; this module does it: copying a slide
or a shape with the parts it refers to (charts with their workbooks, images, links), replacing
a shape's facets (position, look, text frame) or units (paragraphs, table rows), a chart's
data, speaker notes, and the order of the slides. It decides nothing.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterable

from lxml import etree
from pptx.opc.constants import CONTENT_TYPE as CT
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.oxml import serialize_part_xml
from pptx.oxml.ns import qn
from pptx.parts.chart import ChartPart
from pptx.parts.image import ImagePart

from . import ooxml
from .anatomy import digest, signature
from .fit import split_by_script

_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# ------------------------------------------------------------------------------------------
# elements and the parts they refer to


def import_element(el: etree._Element, src_part, dst_part) -> etree._Element:
    """A copy of ``el`` for ``dst_part``: every relationship it names (``r:id``, ``r:embed``...)
    is re-made from ``dst_part``, copying charts (with their workbook) and images when they
    come from another deck."""
    new = copy.deepcopy(el)
    for node in new.iter():
        for attr, rid in list(node.attrib.items()):
            if etree.QName(attr).namespace == _R_NS and rid in src_part.rels:
                node.set(attr, _relate(src_part.rels[rid], src_part, dst_part))
    return new


def _relate(rel, src_part, dst_part) -> str:
    if rel.is_external:
        return dst_part.relate_to(rel.target_ref, rel.reltype, is_external=True)
    target = rel.target_part
    if src_part.package is dst_part.package:
        return dst_part.relate_to(target, rel.reltype)
    if isinstance(target, ChartPart):
        return dst_part.relate_to(_copy_chart_part(target, dst_part.package), RT.CHART)
    if isinstance(target, ImagePart):
        return dst_part.get_or_add_image_part(io.BytesIO(target.blob))[1]
    raise ValueError(f"cannot copy a {rel.reltype.rsplit('/', 1)[-1]} part between decks")


def _copy_chart_part(src: ChartPart, package) -> ChartPart:
    space = copy.deepcopy(src._element)
    for ext in space.findall(qn("c:externalData")):
        space.remove(ext)  # re-made below for the copy's own workbook
    part = ChartPart.load(package.next_partname(ChartPart.partname_template), CT.DML_CHART,
                          package, serialize_part_xml(space))
    workbook = src.chart_workbook.xlsx_part
    if workbook is not None:
        part.chart_workbook.update_from_xlsx_blob(workbook.blob)
    return part


# ------------------------------------------------------------------------------------------
# facets: the parts of a shape that change independently


def _find(el: etree._Element | None, path: str) -> etree._Element | None:
    return None if el is None else el.find(path)


def _only(*tags: str) -> Callable[[etree._Element], bool]:
    names = {qn(t) for t in tags}
    return lambda child: child.tag in names


def _all_but(*tags: str) -> Callable[[etree._Element], bool]:
    names = {qn(t) for t in tags}
    return lambda child: isinstance(child.tag, str) and child.tag not in names


def _sp_pr(el: etree._Element) -> etree._Element | None:
    return _find(el, qn("p:spPr"))


#: per shape kind, its facets: (name, where the facet's elements live, which children)
FACETS: dict[str, tuple[tuple[str, Callable, Callable], ...]] = {
    "text": (("position", _sp_pr, _only("a:xfrm")),
             ("look", _sp_pr, _all_but("a:xfrm")),
             ("style", lambda el: el, _only("p:style")),
             ("text frame", lambda el: _find(el, qn("p:txBody")),
              _only("a:bodyPr", "a:lstStyle"))),
    "table": (("position", lambda el: el, _only("p:xfrm")),
              ("table look", lambda el: el.find(f".//{qn('a:tbl')}"),
               _only("a:tblPr", "a:tblGrid"))),
    "chart": (("position", lambda el: el, _only("p:xfrm")),),
    "picture": (("position", _sp_pr, _only("a:xfrm")),
                ("look", _sp_pr, _all_but("a:xfrm")),
                ("image", lambda el: el, _only("p:blipFill"))),
    "group": (("position", lambda el: _find(el, qn("p:grpSpPr")), _only("a:xfrm")),
              ("content", lambda el: el, _all_but("p:nvGrpSpPr", "p:grpSpPr"))),
}


#: alt text lives in attributes of the shape's cNvPr; the data writes it (a chart's values)
_ALT = ("descr", "title")


def facet_names(kind: str) -> tuple[str, ...]:
    """A kind of shape's facets (every kind has alt text)."""
    return tuple(name for name, _, _ in FACETS.get(kind, ())) + ("alt text",)


def _c_nv_pr(el: etree._Element) -> etree._Element | None:
    return el.find(f"./*[1]/{qn('p:cNvPr')}")


def _facet(el: etree._Element, kind: str, name: str):
    for facet, parent_of, wanted in FACETS[kind]:
        if facet == name:
            parent = parent_of(el)
            return parent, ([] if parent is None else [c for c in parent if wanted(c)])
    raise KeyError(name)


def facet_signature(el: etree._Element, kind: str, name: str, part) -> str:
    """What a facet says; an image is signed by its bytes, not by its relationship id."""
    if name == "alt text":
        c_nv_pr = _c_nv_pr(el)
        return repr([None if c_nv_pr is None else c_nv_pr.get(a) for a in _ALT])
    _, children = _facet(el, kind, name)
    if name == "image":
        children = [copy.deepcopy(c) for c in children]
        for blip in (b for c in children for b in c.iter(qn("a:blip"))):
            rid = blip.get(qn("r:embed"))
            if rid in part.rels:  # signatures drop relationship ids: sign the bytes instead
                blip.set("sha256", digest(part.related_part(rid).blob))
    return signature(*children)


def replace_facet(target: etree._Element, source: etree._Element, kind: str, name: str,
                  src_part, dst_part) -> None:
    """Give ``target`` the facet of ``source`` (same kind of shape)."""
    if name == "alt text":
        mine, theirs = _c_nv_pr(target), _c_nv_pr(source)
        for attr in _ALT if mine is not None and theirs is not None else ():
            if theirs.get(attr) is None:
                mine.attrib.pop(attr, None)
            else:
                mine.set(attr, theirs.get(attr))
        return
    parent, old = _facet(target, kind, name)
    src_parent, new = _facet(source, kind, name)
    if parent is None:
        return
    at = parent.index(old[0]) if old else min(src_parent.index(new[0]) if new else 0,
                                              len(parent))
    for child in old:
        parent.remove(child)
    for k, child in enumerate(new):
        parent.insert(at + k, import_element(child, src_part, dst_part))


# ------------------------------------------------------------------------------------------
# units: paragraphs of a text body, rows of a table


def unit_container(el: etree._Element | None) -> etree._Element | None:
    """Where a shape's units live: its text body, or its table (None for other shapes)."""
    if el is None:
        return None
    if el.tag == qn("p:txBody"):
        return el
    body = el.find(qn("p:txBody"))
    return body if body is not None else el.find(f".//{qn('a:tbl')}")


def units(container: etree._Element | None) -> list[etree._Element]:
    """A container's units: a table's rows, a text body's paragraphs (none for None)."""
    if container is None:
        return []
    tag = qn("a:tr") if container.tag == qn("a:tbl") else qn("a:p")
    return container.findall(tag)


def set_units(container: etree._Element, elements: Iterable[etree._Element]) -> None:
    """Replace a container's units; a text body keeps at least one (empty) paragraph."""
    old = units(container)
    at = container.index(old[0]) if old else len(container)
    for unit in old:
        container.remove(unit)
    new = list(elements)
    if not new and container.tag != qn("a:tbl"):
        new = [etree.Element(qn("a:p"))]
    for k, unit in enumerate(new):
        container.insert(at + k, unit)


def carry_formatting(base: etree._Element, hand: etree._Element,
                     data: etree._Element) -> etree._Element | None:
    """The data's paragraph with the formatting the hand gave the base's (same text): the
    paragraph's and each run's properties the hand changed. None when the runs do not line
    up one to one."""
    runs = [p.findall(qn("a:r")) for p in (base, hand, data)]
    if data.tag != qn("a:p") or len({len(r) for r in runs}) != 1:
        return None
    out = copy.deepcopy(data)
    pairs = [(base, hand, out, "a:pPr")] + [
        (b, h, o, "a:rPr") for b, h, o in zip(runs[0], runs[1], out.findall(qn("a:r")),
                                              strict=True)]
    for b, h, o, tag in pairs:
        was, now = b.find(qn(tag)), h.find(qn(tag))
        if signature(was) != signature(now):
            old = o.find(qn(tag))
            if old is not None:
                o.remove(old)
            if now is not None:
                o.insert(0, copy.deepcopy(now))
    return out


# ------------------------------------------------------------------------------------------
# charts


_SERIES_DATA = ("c:tx", "c:cat", "c:val", "c:xVal", "c:yVal", "c:bubbleSize")


def chart_part(el: etree._Element, part) -> ChartPart | None:
    """The chart part a chart's graphic frame (on a slide of ``part``) refers to."""
    ref = el.find(f".//{qn('c:chart')}")
    rid = None if ref is None else ref.get(qn("r:id"))
    return part.related_part(rid) if rid in part.rels else None


def _series(space: etree._Element) -> list[etree._Element]:
    return list(space.iter(qn("c:ser")))


def chart_signatures(chart: ChartPart) -> tuple[str, str]:
    """(data, look) of a chart: its series' names, categories and values; everything else."""
    space = chart._element
    data = [signature(*[s.find(qn(t)) for t in _SERIES_DATA]) for s in _series(space)]
    look = copy.deepcopy(space)
    for child in [c for s in _series(look) for c in s if c.tag in {qn(t) for t in _SERIES_DATA}]:
        child.getparent().remove(child)
    for ext in look.findall(qn("c:externalData")):
        look.remove(ext)
    return "\n".join(data), signature(look)


def replace_chart(target: ChartPart, source: ChartPart) -> None:
    """The source chart entire (data and look) in the target's part, workbook included."""
    space = target._element
    ext = space.find(qn("c:externalData"))
    rid = None if ext is None else ext.get(qn("r:id"))
    for child in list(space):
        space.remove(child)
    for child in source._element:
        space.append(copy.deepcopy(child))
    new_ext = space.find(qn("c:externalData"))
    if new_ext is not None:
        if rid is None:
            space.remove(new_ext)
        else:
            new_ext.set(qn("r:id"), rid)
    _copy_workbook(target, source)


def replace_chart_data(target: ChartPart, source: ChartPart) -> bool:
    """The source's series data (names, categories, values) in the target's series, keeping
    the target's look; False (nothing changed) when the two have different series counts."""
    mine, theirs = _series(target._element), _series(source._element)
    if len(mine) != len(theirs):
        return False
    for ser, src in zip(mine, theirs, strict=True):
        for tag in _SERIES_DATA:
            old, new = ser.find(qn(tag)), src.find(qn(tag))
            if old is not None:
                at = ser.index(old)
                ser.remove(old)
            else:
                at = _position_in(ser, src, new) if new is not None else 0
            if new is not None:
                ser.insert(at, copy.deepcopy(new))
    _copy_workbook(target, source)
    return True


def _position_in(ser: etree._Element, src: etree._Element, child: etree._Element) -> int:
    """Where ``child`` of ``src`` goes in ``ser``: after what precedes it in ``src``."""
    tags = [c.tag for c in ser]
    for before in reversed(list(src)[:src.index(child)]):
        if before.tag in tags:
            return tags.index(before.tag) + 1
    return 0


def _copy_workbook(target: ChartPart, source: ChartPart) -> None:
    workbook = source.chart_workbook.xlsx_part
    if workbook is not None:
        target.chart_workbook.update_from_xlsx_blob(workbook.blob)


# ------------------------------------------------------------------------------------------
# slides


def layout_named(prs, name: str):
    """The deck's layout of that name (first master first), or None."""
    for master in prs.slide_masters:
        for layout in master.slide_layouts:
            if layout.name == name:
                return layout
    return None


def copy_slide(source, prs, layout):
    """A copy of ``source`` (a slide of another deck) added at the end of ``prs`` on
    ``layout``: its shapes, their charts and images, and its speaker notes."""
    slide = prs.slides.add_slide(layout)
    tree = slide.shapes._spTree
    for el in list(tree)[2:]:  # the placeholders add_slide cloned; nvGrpSpPr, grpSpPr stay
        tree.remove(el)
    for el in list(source.shapes._spTree)[2:]:
        tree.append(import_element(el, source.part, slide.part))
    if source.has_notes_slide:
        src = source.notes_slide.notes_placeholder
        dst = slide.notes_slide.notes_placeholder
        if src is not None and dst is not None:
            body = unit_container(dst._element)
            set_units(body, [copy.deepcopy(p) for p in units(unit_container(src._element))])
    return slide


def insert_shape(slide, el: etree._Element, after: etree._Element | None) -> None:
    """Put a shape element on a slide, after ``after`` (or first, when None), with shape ids
    no other shape of the slide has."""
    tree = slide.shapes._spTree
    taken = [int(c.get("id")) for c in tree.iter(qn("p:cNvPr")) if (c.get("id") or "").isdigit()]
    for n, c_nv_pr in enumerate(el.iter(qn("p:cNvPr")), start=max(taken, default=1) + 1):
        c_nv_pr.set("id", str(n))
    if after is not None and after.getparent() is tree:
        after.addnext(el)
    else:
        tree.insert(2, el)


def remove_slide(prs, slide) -> None:
    """Take a slide out of the deck (its parts go with it when the deck is saved)."""
    lst = prs.slides._sldIdLst
    for sld_id in list(lst):
        if prs.part.related_part(sld_id.rId) is slide.part:
            lst.remove(sld_id)
            prs.part.drop_rel(sld_id.rId)


def reorder_slides(prs, slides: list) -> None:
    """Put the deck's slides in the given order (every slide of the deck, once)."""
    lst = prs.slides._sldIdLst
    by_part = {prs.part.related_part(s.rId): s for s in lst}
    ids = [by_part[slide.part] for slide in slides]
    assert len(ids) == len(by_part), "reorder_slides needs every slide once"
    for sld_id in ids:
        lst.remove(sld_id)
    for sld_id in ids:
        lst.append(sld_id)


def append_notes(slide, heading: str, lines: list[str], lang: str) -> None:
    """Add a bold heading and lines at the end of a slide's speaker notes, each run marked
    with its script's language and the theme's fonts (as the writer marks them)."""
    placeholder = slide.notes_slide.notes_placeholder
    if placeholder is None:
        return
    body = unit_container(placeholder._element)
    paras = units(body) if "".join(body.itertext()).strip() else []  # drop a lone empty one
    for k, text in enumerate([heading, *lines]):
        p = etree.Element(qn("a:p"))
        for segment, seg_lang in split_by_script(text, lang):
            run = etree.SubElement(p, qn("a:r"))
            rpr = etree.SubElement(run, qn("a:rPr"))
            if k == 0:
                rpr.set("b", "1")
            ooxml.set_run_language(rpr, seg_lang, east_asian=True, major=False)
            etree.SubElement(run, qn("a:t")).text = segment
        paras.append(p)
    set_units(body, paras)
