"""The few OOXML pieces python-pptx lacks: run language and East Asian font, alt text, footers
and slide numbers, insets, autofit, the notes-master list, log axes. Children are inserted in
schema order, never appended blindly.
"""

from __future__ import annotations

import copy

from lxml import etree
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn

#: placeholders python-pptx does not copy onto a new slide
LATENT_PLACEHOLDERS = (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)

# CT_TextCharacterProperties children, in schema order
_RPR_ORDER = ["a:ln", "a:noFill", "a:solidFill", "a:gradFill", "a:blipFill", "a:pattFill",
              "a:grpFill", "a:effectLst", "a:effectDag", "a:highlight", "a:uLnTx", "a:uLn",
              "a:uFillTx", "a:uFill", "a:latin", "a:ea", "a:cs", "a:sym", "a:hlinkClick",
              "a:hlinkMouseOver", "a:rtl", "a:extLst"]


def insert_in_order(parent: etree._Element, child: etree._Element, order: list[str]) -> None:
    """Insert ``child`` before the first sibling that the schema puts after it."""
    tags = [qn(t) for t in order]
    pos = tags.index(child.tag)
    for i, existing in enumerate(parent):
        if existing.tag in tags and tags.index(existing.tag) > pos:
            parent.insert(i, child)
            return
    parent.append(child)


def set_font_slot(rpr: etree._Element, slot: str, typeface: str) -> None:
    """Set ``a:latin``/``a:ea``/``a:cs`` on a run's properties, keeping schema order."""
    tag = qn(f"a:{slot}")
    el = rpr.find(tag)
    if el is None:
        el = etree.SubElement(rpr, tag)
        rpr.remove(el)
        insert_in_order(rpr, el, _RPR_ORDER)
    el.set("typeface", typeface)


def set_run_language(rpr: etree._Element, lang: str, *, east_asian: bool, major: bool) -> None:
    """Mark a run's language; give Hangul runs the theme's East Asian face (``a:ea``)."""
    rpr.set("lang", lang)
    if lang.startswith("ko"):
        rpr.set("altLang", "en-US")
    slot = "mj" if major else "mn"
    set_font_slot(rpr, "latin", f"+{slot}-lt")
    if east_asian:
        set_font_slot(rpr, "ea", f"+{slot}-ea")


def set_alt_text(shape, descr: str) -> None:
    """Alt text (``descr`` on the shape's non-visual properties), read by screen readers."""
    c_nv_pr = shape._element.xpath("./*[1]/p:cNvPr")[0]
    c_nv_pr.set("descr", descr)


def copy_layout_placeholder(slide, layout, ordinal: int):
    """Copy the layout's placeholder at ``ordinal`` onto the slide (python-pptx leaves footers
    and slide numbers off), keeping the geometry it inherits and one empty paragraph.
    Returns the slide's new shape."""
    sp = list(layout.placeholders)[ordinal].element
    new = copy.deepcopy(sp)
    sppr = new.find(qn("p:spPr"))
    for child in list(sppr):  # keep the geometry inherited from the layout
        sppr.remove(child)
    txbody = new.find(qn("p:txBody"))
    if txbody is None:
        txbody = new.get_or_add_txBody()
    for p in txbody.findall(qn("a:p")):
        txbody.remove(p)
    etree.SubElement(txbody, qn("a:p"))
    slide.shapes._spTree.append(new)
    return next(s for s in slide.shapes if s.element is new)


def add_slide_number(slide, layout, ordinal: int, value: int, lang: str) -> None:
    """The layout's slide-number placeholder with a live ``slidenum`` field (right when slides
    are moved by hand), showing ``value`` until the viewer updates it."""
    shape = copy_layout_placeholder(slide, layout, ordinal)
    para = shape.element.find(qn("p:txBody")).find(qn("a:p"))
    fld = etree.SubElement(para, qn("a:fld"))
    fld.set("id", "{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}")
    fld.set("type", "slidenum")
    rpr = etree.SubElement(fld, qn("a:rPr"))
    rpr.set("lang", lang)
    etree.SubElement(fld, qn("a:t")).text = str(value)


def set_insets(tf, insets) -> None:
    """A free text frame's insets (``a:bodyPr`` l/t/r/bIns), from a model Insets."""
    tf.margin_left, tf.margin_right = insets.left_emu, insets.right_emu
    tf.margin_top, tf.margin_bottom = insets.top_emu, insets.bottom_emu


def set_norm_autofit(tf) -> None:
    """Let PowerPoint shrink the text on overflow (``a:normAutofit``), and nothing else."""
    bodypr = tf._txBody.bodyPr
    for child in list(bodypr):
        if child.tag.endswith(("Autofit", "noAutofit")):
            bodypr.remove(child)
    bodypr.append(bodypr.makeelement(qn("a:normAutofit"), {}))


def set_no_bullet(ppr) -> None:
    """``a:buNone`` on a paragraph's properties."""
    if ppr.find(qn("a:buNone")) is None:
        ppr.append(ppr.makeelement(qn("a:buNone"), {}))


def insert_break_before(run) -> None:
    """A line break (``a:br``) just before ``run``, sized and tagged as the run is."""
    br = etree.SubElement(run._r.getparent(), qn("a:br"))
    run._r.addprevious(br)
    br.append(copy.deepcopy(run._r.rPr))


def set_end_properties(p, size_pt: float, lang: str) -> None:
    """Size and language of an empty paragraph's end mark, which gives it its height."""
    end = p._p.get_or_add_endParaRPr()
    end.set("sz", str(int(round(size_pt * 100))))
    end.set("lang", lang)


def renumber_shape_ids(slide) -> None:
    """Give every shape on a slide a unique id (copies bring their layout's ids along)."""
    next_id = 2
    for c_nv_pr in slide.shapes._spTree.iter(qn("p:cNvPr")):
        c_nv_pr.set("id", str(next_id))
        next_id += 1


def ensure_notes_master_list(prs) -> None:
    """Add ``p:notesMasterIdLst`` when a notes master exists (python-pptx omits it; Keynote
    and strict validators then reject the file)."""
    pres = prs.part._element
    if pres.find(qn("p:notesMasterIdLst")) is not None:
        return
    rid = None
    for rel in prs.part.rels.values():
        if rel.reltype == RT.NOTES_MASTER:
            rid = rel.rId
    if rid is None:
        return
    lst = etree.Element(qn("p:notesMasterIdLst"))
    nm = etree.SubElement(lst, qn("p:notesMasterId"))
    nm.set(qn("r:id"), rid)
    master_lst = pres.find(qn("p:sldMasterIdLst"))
    master_lst.addnext(lst)


def set_log_scale(value_axis, base: int = 10) -> None:
    """A logarithmic value axis (``c:scaling/c:logBase`` first, per the schema)."""
    scaling = value_axis._element.find(qn("c:scaling"))
    log = scaling.find(qn("c:logBase"))
    if log is None:
        log = etree.Element(qn("c:logBase"))
        scaling.insert(0, log)
    log.set("val", str(base))


def set_chart_text_language(chart, lang: str, size_pt: float) -> None:
    """Default text properties of a chart: size, language, and theme Latin + East Asian faces."""
    font = chart.font  # creates c:txPr with a:defRPr
    font.size = int(size_pt * 100) * 127  # EMU-free: python-pptx takes Length
    defrpr = chart._chartSpace.find(".//" + qn("c:txPr")).find(".//" + qn("a:defRPr"))
    defrpr.set("lang", lang)
    set_font_slot(defrpr, "latin", "+mn-lt")
    set_font_slot(defrpr, "ea", "+mn-ea")


def fix_chart_axis_ids(chart) -> None:
    """Renumber a chart's axis ids (``c:axId``/``c:crossAx``) to 1, 2, 3... in document order.

    python-pptx's chart templates carry negative ids, which the schema (``xsd:unsignedInt``)
    and validators reject. The same old id always gets the same new id, so every plot still
    names its axes and every axis still names the one it crosses. Takes a python-pptx ``Chart``
    or its ``c:chartSpace`` element; running it twice changes nothing.
    """
    root = getattr(chart, "_chartSpace", chart)
    new_ids: dict[str, str] = {}
    for el in root.iter(qn("c:axId"), qn("c:crossAx")):
        old = el.get("val")
        if old is None:
            continue
        el.set("val", new_ids.setdefault(old, str(len(new_ids) + 1)))


def set_axis_label_rotation(axis, degrees: int) -> None:
    """Turn an axis's tick labels (``c:txPr/a:bodyPr/@rot``, in 60,000ths of a degree)."""
    axis.tick_labels.font.size = axis.tick_labels.font.size  # makes c:txPr exist
    body_pr = axis._element.find(qn("c:txPr")).find(qn("a:bodyPr"))
    body_pr.set("rot", str(int(degrees * 60000)))
    body_pr.set("vert", "horz")
