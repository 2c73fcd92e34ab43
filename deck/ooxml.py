"""The few OOXML pieces python-pptx lacks: run language and East Asian font, alt text, footers
and slide numbers, insets, autofit, the notes-master list, log axes. Children are inserted in
schema order, never appended blindly.
"""

from __future__ import annotations

import copy
import io
import re

from lxml import etree
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.opc.constants import CONTENT_TYPE as CT
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.package import Part
from pptx.opc.packuri import PackURI
from pptx.opc.serialized import PackageWriter
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement

_NVPR, _PH = qn("p:nvPr"), qn("p:ph")


def non_visual(shape: etree._Element) -> etree._Element | None:
    """A shape element's first element child (not a comment): its non-visual properties
    (``p:nvSpPr``, ``p:nvGraphicFramePr``...), what python-pptx's XPaths name ``./*[1]``."""
    for first in shape:
        if isinstance(first.tag, str):
            return first
    return None


def placeholder_element(shape: etree._Element) -> etree._Element | None:
    """A shape element's ``p:ph``, or None: what python-pptx's ``BaseShapeElement.ph`` finds
    with the XPath ``./*[1]/p:nvPr/p:ph`` (the first match), by walking the three steps."""
    first = non_visual(shape)
    nv_pr = first.find(_NVPR) if first is not None else None
    return nv_pr.find(_PH) if nv_pr is not None else None


def speed_up_placeholder_lookup() -> None:
    """Make python-pptx (pinned: 1.0.2) find a shape's ``p:ph`` by :func:`placeholder_element`
    instead of compiling its XPath anew on every call: it asks for every shape it iterates,
    clones or adds, 2,200 times per deck, a fifth of the writer's time. Same answers (tested
    on every shape of the bundled and corpus decks); done once when this module loads."""
    from pptx.oxml.shapes.shared import BaseShapeElement

    BaseShapeElement.ph = property(placeholder_element)  # type: ignore[assignment]


speed_up_placeholder_lookup()

class NotesSlides:
    """Notes slides for the slides of one deck: the first made by python-pptx from the notes
    master, each later one a copy of that first as it was made (before any text), related to
    the same notes master and to its slide as python-pptx relates them. The same parts, made
    without cloning the master's placeholders again and again (a tenth of the writer's time)."""

    def __init__(self) -> None:
        self._first: etree._Element | None = None
        self._body: str | None = None  # where the text body is in the first, as made

    def text_body(self, slide) -> etree._Element:
        """``slide``'s notes text body (``p:txBody``), on a notes slide made now."""
        if self._first is None:
            notes = slide.notes_slide
            self._first = copy.deepcopy(notes._element)
            body = notes.notes_text_frame._txBody
            if body.getroottree().getroot() is notes._element:
                self._body = etree.ElementTree(notes._element).getelementpath(body)
            return body
        from pptx.parts.slide import NotesSlidePart

        part = slide.part
        package = part.package
        notes_part = NotesSlidePart(package.next_partname("/ppt/notesSlides/notesSlide%d.xml"),
                                    CT.PML_NOTES_SLIDE, package, copy.deepcopy(self._first))
        notes_part.relate_to(package.presentation_part.notes_master_part, RT.NOTES_MASTER)
        notes_part.relate_to(part, RT.SLIDE)
        part.relate_to(notes_part, RT.NOTES_SLIDE)
        # the same place in the copy (python-pptx would look for the body placeholder)
        body = notes_part._element.find(self._body) if self._body else None
        return body if body is not None else notes_part.notes_slide.notes_text_frame._txBody


#: placeholders python-pptx does not copy onto a new slide
LATENT_PLACEHOLDERS = (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)

# CT_TextCharacterProperties children, in schema order
_RPR_ORDER = ["a:ln", "a:noFill", "a:solidFill", "a:gradFill", "a:blipFill", "a:pattFill",
              "a:grpFill", "a:effectLst", "a:effectDag", "a:highlight", "a:uLnTx", "a:uLn",
              "a:uFillTx", "a:uFill", "a:latin", "a:ea", "a:cs", "a:sym", "a:hlinkClick",
              "a:hlinkMouseOver", "a:rtl", "a:extLst"]


def ranks(order: list[str]) -> dict[str, int]:
    """Clark-notation tag -> position in a schema sequence."""
    return {qn(t): i for i, t in enumerate(order)}


_RPR_RANKS = ranks(_RPR_ORDER)


def insert_in_order(parent: etree._Element, child: etree._Element,
                    ranks: dict[str, int]) -> None:
    """Insert ``child`` before the first sibling that the schema puts after it (``ranks``:
    positions in the schema's sequence, from :func:`ranks`, made once per sequence)."""
    pos = ranks[child.tag]
    for i, existing in enumerate(parent):
        if ranks.get(existing.tag, -1) > pos:
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
        insert_in_order(rpr, el, _RPR_RANKS)
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


_CNVPR = qn("p:cNvPr")


def drawing_properties(shape: etree._Element) -> etree._Element:
    """A shape element's ``p:cNvPr`` (name, id, alt text): what python-pptx finds with the
    XPath ``./*[1]/p:cNvPr``, without compiling it on every call."""
    first = non_visual(shape)
    if first is None:
        raise ValueError(f"{shape.tag} has no non-visual properties")
    return first.find(_CNVPR)


def set_alt_text(shape, descr: str) -> None:
    """Alt text (``descr`` on the shape's non-visual properties), read by screen readers."""
    drawing_properties(shape._element).set("descr", descr)


def _placeholder_copy(sp: etree._Element) -> etree._Element:
    """A layout placeholder as a slide's copy of it (python-pptx leaves footers and slide
    numbers off a new slide): no shape properties of its own (it keeps the geometry it
    inherits from the layout), one empty paragraph."""
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
    return new


def _adopt(slide, element: etree._Element):
    """``element`` appended to the slide's shape tree, as the shape python-pptx would give
    for it when iterating the slide's shapes."""
    shapes = slide.shapes
    shapes._spTree.append(element)
    return shapes._shape_factory(element)


def _name_parts_from_memory(package) -> None:
    """Make ``package.next_partname`` (python-pptx's) give the same names without walking the
    whole package on every call: the names in use under each template are collected on the
    first call and each name it gives is added. Every part the writer adds under such a
    template gets its name there (notes slides, charts, their workbooks); slides and images
    are named otherwise, under templates of their own."""
    taken: dict[str, set[str]] = {}

    def next_partname(tmpl: str) -> PackURI:
        prefix = tmpl[: (tmpl % 42).find("42")]
        names = taken.get(prefix)
        if names is None:
            names = taken[prefix] = {p.partname for p in package.iter_parts()
                                     if p.partname.startswith(prefix)}
        # as python-pptx searches: down from one past the count (one of those is free)
        name = next(tmpl % n for n in range(len(names) + 1, 0, -1) if tmpl % n not in names)
        names.add(name)
        return PackURI(name)

    package.next_partname = next_partname


class SlideMaker:
    """Slides added to a presentation as python-pptx's ``Slides.add_slide`` adds them (the same
    part, relationships, slide id and placeholder clones), the clones of each layout made once:
    python-pptx builds every clone anew from its layout, and finds each part name by walking
    the whole package, a sixth of the writer's time. Also copies of the layout's footer and
    slide-number placeholders, each made once."""

    def __init__(self, prs) -> None:
        self._prs = prs
        self._slides = prs.slides  # (python-pptx renames the slide parts on each access)
        self._blank: dict = {}  # layout part -> the p:sld python-pptx made for it
        self._layout: dict = {}  # layout part -> (placeholder copies, cloned ordinals)
        self._layouts: dict = {}  # (master, index) -> layout
        self.notes = NotesSlides()
        _name_parts_from_memory(prs.part.package)

    def add(self, layout):
        """A new slide on ``layout`` with the layout's placeholders cloned."""
        part = layout.part
        blank = self._blank.get(part)
        if blank is None:
            slide = self._slides.add_slide(layout)
            self._blank[part] = copy.deepcopy(slide._element)
            return slide
        from pptx.parts.slide import SlidePart

        pres_part = self._prs.part
        slide_part = SlidePart(pres_part._next_slide_partname, CT.PML_SLIDE,
                               pres_part.package, copy.deepcopy(blank))
        slide_part.relate_to(part, RT.SLIDE_LAYOUT)
        self._slides._sldIdLst.add_sldId(pres_part.relate_to(slide_part, RT.SLIDE))
        return slide_part.slide

    def layout(self, master: int, index: int):
        """The presentation's layout ``index`` of master ``master``."""
        key = (master, index)
        if key not in self._layouts:
            self._layouts[key] = self._prs.slide_masters[master].slide_layouts[index]
        return self._layouts[key]

    def cloned(self, layout) -> list[int]:
        """Ordinals (among the layout's placeholders) of those a new slide gets clones of."""
        return self._placeholders(layout)[1]

    def copy_placeholder(self, slide, layout, ordinal: int):
        """The layout's placeholder at ``ordinal`` copied onto the slide (from a copy made
        once per placeholder); returns the slide's new shape."""
        copies = self._placeholders(layout)[0]
        if ordinal not in copies:
            copies[ordinal] = _placeholder_copy(list(layout.placeholders)[ordinal].element)
        return _adopt(slide, copy.deepcopy(copies[ordinal]))

    def _placeholders(self, layout) -> tuple[dict[int, etree._Element], list[int]]:
        part = layout.part
        if part not in self._layout:
            self._layout[part] = ({}, [i for i, ph in enumerate(layout.placeholders)
                                       if ph.placeholder_format.type not in LATENT_PLACEHOLDERS])
        return self._layout[part]


def add_slide_number(shape, value: int, lang: str):
    """A live ``slidenum`` field (right when slides are moved by hand) in a copy of the
    layout's slide-number placeholder, showing ``value`` until the viewer updates it.
    Returns the field's run properties."""
    para = shape.element.find(qn("p:txBody")).find(qn("a:p"))
    fld = etree.SubElement(para, qn("a:fld"))
    fld.set("id", "{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}")
    fld.set("type", "slidenum")
    rpr = OxmlElement("a:rPr")
    fld.append(rpr)
    rpr.set("lang", lang)
    etree.SubElement(fld, qn("a:t")).text = str(value)
    return rpr


def set_insets(tf, insets) -> None:
    """A free text frame's insets (``a:bodyPr`` l/t/r/bIns), from a model Insets."""
    tf.margin_left, tf.margin_right = insets.left_emu, insets.right_emu
    tf.margin_top, tf.margin_bottom = insets.top_emu, insets.bottom_emu


def set_norm_autofit(txbody: etree._Element) -> None:
    """Let PowerPoint shrink the text on overflow (``a:normAutofit``), and nothing else."""
    bodypr = txbody.find(_A + "bodyPr")
    for child in list(bodypr):
        if child.tag.endswith(("Autofit", "noAutofit")):
            bodypr.remove(child)
    bodypr.append(bodypr.makeelement(qn("a:normAutofit"), {}))


def set_no_bullet(ppr) -> None:
    """``a:buNone`` on a paragraph's properties."""
    if ppr.find(qn("a:buNone")) is None:
        ppr.append(ppr.makeelement(qn("a:buNone"), {}))


def set_bullet_char(ppr, char: str) -> None:
    """A bullet of its own (``a:buChar``) where no placeholder style gives one (text boxes)."""
    if ppr.find(qn("a:buChar")) is None:
        ppr.append(ppr.makeelement(qn("a:buChar"), {"char": char}))


_PPR_BULLET_ORDER = ["a:lnSpc", "a:spcBef", "a:spcAft", "a:buClrTx", "a:buClr", "a:buSzTx",
                     "a:buSzPct", "a:buSzPts", "a:buFontTx", "a:buFont", "a:buNone",
                     "a:buAutoNum", "a:buChar", "a:buBlip", "a:tabLst", "a:defRPr", "a:extLst"]


_PPR_BULLET_RANKS = ranks(_PPR_BULLET_ORDER)


def set_bullet_color(ppr, rgb: str | None, scheme: str, brightness: float) -> None:
    """``a:buClr`` on a paragraph: an exact colour, or a theme colour made lighter or darker
    (lumMod/lumOff, as python-pptx writes brightness)."""
    for old in ppr.findall(qn("a:buClr")):
        ppr.remove(old)
    clr = etree.Element(qn("a:buClr"))
    if rgb is not None:
        etree.SubElement(clr, qn("a:srgbClr")).set("val", rgb)
    else:
        scheme_clr = etree.SubElement(clr, qn("a:schemeClr"))
        scheme_clr.set("val", scheme)
        mod, off = (1 - abs(brightness), max(brightness, 0.0))
        if brightness:
            etree.SubElement(scheme_clr, qn("a:lumMod")).set("val", str(round(mod * 100000)))
        if off:
            etree.SubElement(scheme_clr, qn("a:lumOff")).set("val", str(round(off * 100000)))
    insert_in_order(ppr, clr, _PPR_BULLET_RANKS)


def drop_slides(prs) -> int:
    """Remove every slide of a template (with its notes; masters, layouts, theme and media
    stay), and the sections and custom shows that list them. Returns how many."""
    pres = prs.part._element
    ids = pres.find(qn("p:sldIdLst"))
    dropped = 0
    for sld_id in list(ids) if ids is not None else []:
        ids.remove(sld_id)
        prs.part.drop_rel(sld_id.get(qn("r:id")))
        dropped += 1
    for shows in pres.findall(qn("p:custShowLst")):
        pres.remove(shows)
    for ext in pres.findall(qn("p:extLst") + "/" + qn("p:ext")):
        if any(etree.QName(child).localname == "sectionLst" for child in ext):
            ext.getparent().remove(ext)
    return dropped


def _colliding(layout) -> tuple[list, set[int]]:
    """A layout's placeholders whose index another already has (or that count as 0 without
    being the title), and the indexes in use."""
    phs = [sp.find(".//" + qn("p:ph")) for sp in layout.shapes._spTree.iter_ph_elms()]
    used: set[int] = set()
    colliding = []
    for ph in phs:
        idx = int(ph.get("idx", "0"))
        if idx in used or (idx == 0 and ph.get("type", "obj") not in ("title", "ctrTitle")):
            colliding.append(ph)
        else:
            used.add(idx)
    return colliding, used


def needs_numbering(layout) -> bool:
    return bool(_colliding(layout)[0])


def number_placeholders(layout) -> None:
    """Give each placeholder of a layout an index of its own.

    Slides find their layout's placeholder by index; masters written by LibreOffice leave it
    off, so every placeholder counts as 0 and a slide's content placeholder would inherit the
    title's position. The title keeps 0; the others that collide get the next free numbers.
    """
    colliding, used = _colliding(layout)
    next_idx = max(used, default=0) + 1
    for ph in colliding:
        while next_idx in used:
            next_idx += 1
        ph.set("idx", str(next_idx))
        used.add(next_idx)


_VIEW_PROPS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<p:viewPr xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
               b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
               b'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
               b'<p:normalViewPr><p:restoredLeft sz="15620"/><p:restoredTop sz="94660"/>'
               b'</p:normalViewPr><p:gridSpacing cx="76200" cy="76200"/></p:viewPr>')


def has_view_properties(prs) -> bool:
    return any(rel.reltype == RT.VIEW_PROPS for rel in prs.part.rels.values())


def _own_notes_master(prs):
    """The template's own notes master, or None (python-pptx makes a default one, with a
    notes placeholder, the first time a deck has notes)."""
    if not any(rel.reltype == RT.NOTES_MASTER for rel in prs.part.rels.values()):
        return None
    return prs.notes_master


def lacks_notes_placeholder(prs) -> bool:
    """Whether the template's notes master has no notes (body) placeholder: notes slides made
    from it would have nowhere to put speaker notes."""
    master = _own_notes_master(prs)
    return master is not None and not any(
        ph.placeholder_format.type == PP_PLACEHOLDER.BODY for ph in master.placeholders)


def ensure_notes_placeholder(prs) -> None:
    """Give a notes master without a notes placeholder python-pptx's own (that of its default
    notes master), scaled to the template's notes page: speaker notes go there."""
    if not lacks_notes_placeholder(prs):
        return
    from pptx.oxml import parse_from_template

    default = parse_from_template("notesMaster")
    sp = next(sp for sp in default.iter(qn("p:sp"))
              if (ph := placeholder_element(sp)) is not None and ph.get("type") == "body")
    notes_size = prs.part._element.find(qn("p:notesSz"))
    sx = int(notes_size.get("cx")) / 6858000 if notes_size is not None else 1.0  # default page
    sy = int(notes_size.get("cy")) / 9144000 if notes_size is not None else 1.0
    for el, kx, ky in ((sp.find(".//" + qn("a:off")), "x", "y"),
                       (sp.find(".//" + qn("a:ext")), "cx", "cy")):
        el.set(kx, str(round(int(el.get(kx)) * sx)))
        el.set(ky, str(round(int(el.get(ky)) * sy)))
    tree = prs.notes_master.shapes._spTree
    ids = [int(c.get("id", "0")) for c in tree.iter(qn("p:cNvPr"))]
    drawing_properties(sp).set("id", str(max(ids, default=1) + 1))
    tree.append(sp)


def ensure_view_properties(prs) -> None:
    """Add ``ppt/viewProps.xml`` where a template lacks it (LibreOffice omits it; PowerPoint
    and validators expect it)."""
    if has_view_properties(prs):
        return
    part = Part(PackURI("/ppt/viewProps.xml"), CT.PML_VIEW_PROPS, prs.part.package, _VIEW_PROPS)
    prs.part.relate_to(part, RT.VIEW_PROPS)


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


def chart_space_properties(chart):
    """The chart area's shape properties (``c:chartSpace/c:spPr``), made where missing, in
    schema order (after ``c:chart``)."""
    space = chart._chartSpace
    sppr = space.find(qn("c:spPr"))
    if sppr is None:
        sppr = OxmlElement("c:spPr")
        space.find(qn("c:chart")).addnext(sppr)
    return sppr


def set_axis_label_rotation(axis, degrees: int) -> None:
    """Turn an axis's tick labels (``c:txPr/a:bodyPr/@rot``, in 60,000ths of a degree)."""
    axis.tick_labels.font.size = axis.tick_labels.font.size  # makes c:txPr exist
    body_pr = axis._element.find(qn("c:txPr")).find(qn("a:bodyPr"))
    body_pr.set("rot", str(int(degrees * 60000)))
    body_pr.set("vert", "horz")


class _Parts:
    """Stands in for python-pptx's zip writer: keeps each member's bytes instead."""

    def __init__(self) -> None:
        self.parts: dict[str, bytes] = {}

    def write(self, uri, blob: bytes) -> None:
        self.parts[uri.membername] = blob


def package_parts(prs) -> dict[str, bytes]:
    """Every member of the saved package (content types, relationships, parts), serialised
    by python-pptx's own package writer but kept as bytes: the deck is zipped once, by
    :func:`deck.output.pack_parts`, rather than zipped, unzipped and zipped again."""
    package = prs.part.package
    writer = PackageWriter(io.BytesIO(), package._rels, tuple(package.iter_parts()))
    sink = _Parts()
    writer._write_content_types_stream(sink)
    writer._write_pkg_rels(sink)
    writer._write_parts(sink)
    return sink.parts


# ------------------------------------------------------------------------------------------
# paragraphs and runs, written straight as XML: the same elements and attributes python-pptx's
# text objects write, a tenth of the calls (a deck has a thousand runs)

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_PPR_RANKS = ranks(["a:lnSpc", "a:spcBef", "a:spcAft", "a:buClrTx", "a:buClr", "a:buSzTx",
                    "a:buSzPct", "a:buSzPts", "a:buFontTx", "a:buFont", "a:buNone",
                    "a:buAutoNum", "a:buChar", "a:buBlip", "a:tabLst", "a:defRPr", "a:extLst"])
_ALIGN = {"left": "l", "center": "ctr", "right": "r"}
_CTRL = re.compile(r"([\x00-\x08\x0B-\x1F])")


def color_xml(parent: etree._Element, rgb: str | None, scheme: str, brightness: float) -> None:
    """``a:srgbClr`` or ``a:schemeClr`` (with python-pptx's lumMod/lumOff for brightness)."""
    if rgb is not None:
        etree.SubElement(parent, _A + "srgbClr").set("val", rgb.upper())
        return
    clr = etree.SubElement(parent, _A + "schemeClr")
    clr.set("val", scheme)
    if brightness:
        etree.SubElement(clr, _A + "lumMod").set("val", str(int(round(
            (1.0 - abs(brightness)) * 100000.0))))
    if brightness > 0:
        etree.SubElement(clr, _A + "lumOff").set("val", str(int(round(brightness * 100000.0))))


_CONTENT = frozenset((_A + "r", _A + "br", _A + "fld"))


def clear_text(txbody: etree._Element) -> etree._Element:
    """A text body made ready for new text as python-pptx's ``TextFrame.clear()`` and
    ``word_wrap = True`` make it: its first paragraph emptied of runs, breaks and fields
    (keeping its properties), the others removed, wrapping on. Returns that paragraph."""
    first, *others = txbody.findall(_A + "p")
    for p in others:
        txbody.remove(p)
    for el in [el for el in first if el.tag in _CONTENT]:
        first.remove(el)
    txbody.find(_A + "bodyPr").set("wrap", "square")
    return first


def add_paragraph(txbody: etree._Element) -> etree._Element:
    """A new last paragraph (``a:p``, the last children of a text body)."""
    return etree.SubElement(txbody, _A + "p")


def fill_paragraph(p: etree._Element, para) -> None:
    """Write a model paragraph (:class:`deck.model.Paragraph`) into an ``a:p`` element: its
    properties, runs and end mark, keeping whatever properties it already had."""
    if para.style != "inherit" or para.align is not None or para.rtl:
        _paragraph_properties(p, para)
    end = p.find(_A + "endParaRPr")
    for run in para.runs:
        for el in _run(run):
            if end is not None:
                end.addprevious(el)
            else:
                p.append(el)
    if not para.runs and para.end_size_pt:
        # an empty paragraph still has a height: give it the measured size, not 18 pt
        if end is None:
            end = etree.SubElement(p, _A + "endParaRPr")
        end.set("sz", str(int(round(para.end_size_pt * 100))))
        end.set("lang", para.end_lang)


def _paragraph_properties(p: etree._Element, para) -> None:
    ppr = p.find(_A + "pPr")
    if ppr is None:
        ppr = etree.Element(_A + "pPr")
        p.insert(0, ppr)
    if para.style != "inherit":
        if para.style == "bullet" and para.level:
            ppr.set("lvl", str(para.level))
        ppr.set("marL", str(para.margin_left_emu))
        ppr.set("indent", str(para.indent_emu))
        spc = etree.Element(_A + "spcBef")
        etree.SubElement(spc, _A + "spcPts").set("val", str(int(round(
            para.space_before_pt * 100))))
        insert_in_order(ppr, spc, _PPR_RANKS)
        if para.bullet_color is not None:
            c = para.bullet_color
            set_bullet_color(ppr, c.rgb, c.color, c.brightness)
        if para.style == "flush":
            insert_in_order(ppr, etree.Element(_A + "buNone"), _PPR_RANKS)
        elif para.bullet_char:
            bu = etree.Element(_A + "buChar")
            bu.set("char", para.bullet_char)
            insert_in_order(ppr, bu, _PPR_RANKS)
    if para.align is not None:
        ppr.set("algn", _ALIGN[para.align])
    if para.rtl:
        ppr.set("rtl", "1")


def _run(run) -> list[etree._Element]:
    """``a:r`` elements for a model run (:class:`deck.model.Run`); a line break in its text
    becomes ``a:br`` (as it was measured), never a raw newline PowerPoint would show as a
    space. Each break carries the run's properties, so it is as tall as its line."""
    elements: list[etree._Element] = []
    for i, piece in enumerate(run.text.split("\n")):
        r = _run_element(run, piece)
        if i:
            br = etree.Element(_A + "br")
            br.append(copy.deepcopy(r.find(_A + "rPr")))
            elements.append(br)
        elements.append(r)
    return elements


#: an ``a:r`` with its properties and no text, per run formatting (the same few repeat
#: hundreds of times in a deck: copying one is a third of building it)
_RUN_PROTOTYPES: dict[tuple, etree._Element] = {}


def _run_element(run, text: str) -> etree._Element:
    key = (run.size_pt, run.bold, run.color, run.lang, run.major, run.east_asian)
    proto = _RUN_PROTOTYPES.get(key)
    if proto is None:
        if len(_RUN_PROTOTYPES) >= 1024:
            _RUN_PROTOTYPES.clear()
        proto = _RUN_PROTOTYPES[key] = _run_properties(run)
    r = proto.__copy__()  # (lxml's copy is deep; without the copy module's dispatch)
    etree.SubElement(r, _A + "t").text = _CTRL.sub(lambda m: f"_x{ord(m.group(1)):04X}_",
                                                   text)
    return r


def _run_properties(run) -> etree._Element:
    """An ``a:r`` holding only the run's ``a:rPr``."""
    r = etree.Element(_A + "r")
    rpr = etree.SubElement(r, _A + "rPr")
    if run.size_pt is not None:
        rpr.set("sz", str(int(round(run.size_pt * 100))))
    if run.bold is not None:
        rpr.set("b", "1" if run.bold else "0")
    if run.color is not None:
        c = run.color
        color_xml(etree.SubElement(rpr, _A + "solidFill"), c.rgb, c.color, c.brightness)
    rpr.set("lang", run.lang)
    if run.lang.startswith("ko"):
        rpr.set("altLang", "en-US")
    slot = "mj" if run.major else "mn"
    etree.SubElement(rpr, _A + "latin").set("typeface", f"+{slot}-lt")
    if run.east_asian:
        etree.SubElement(rpr, _A + "ea").set("typeface", f"+{slot}-ea")
    return r


def fill_table(tbl: etree._Element, widths: tuple[int, ...], rows: tuple, insets) -> None:
    """Give a table python-pptx made (``a:tbl``, any size) the model's columns and rows
    (:class:`deck.model.TableRow`), built here as XML: python-pptx's grid and its cells, made
    one by one and then looked up by row and column, took two thirds of the table's time.
    The same elements as python-pptx's, each cell a copy of an empty one of its fill
    (:func:`_empty_cell`), then its paragraphs."""
    grid = tbl.find(_A + "tblGrid")
    for old in list(grid):
        grid.remove(old)
    for old in tbl.findall(_A + "tr"):
        tbl.remove(old)
    for w in widths:
        etree.SubElement(grid, _A + "gridCol").set("w", str(w))
    empty: dict = {}  # an empty cell of each fill, copied for each cell of that fill
    for row in rows:
        tr = etree.SubElement(tbl, _A + "tr")
        tr.set("h", str(row.height_emu))
        for cell in row.cells:
            if cell.fill not in empty:
                empty[cell.fill] = _empty_cell(insets, cell.fill)
            tc = empty[cell.fill].__copy__()
            tr.append(tc)
            body = tc.find(_A + "txBody")
            for para in cell.paragraphs:
                fill_paragraph(etree.SubElement(body, _A + "p"), para)


def _empty_cell(insets, fill) -> etree._Element:
    """An ``a:tc`` as python-pptx makes one, with no text, its text wrapped, the model's
    margins, top anchoring and solid fill (``fill`` a :class:`deck.model.Paint`)."""
    tc = etree.Element(_A + "tc")
    body = etree.SubElement(tc, _A + "txBody")
    etree.SubElement(body, _A + "bodyPr").set("wrap", "square")
    etree.SubElement(body, _A + "lstStyle")
    tcpr = etree.SubElement(tc, _A + "tcPr")
    for attr, value in (("marL", insets.left_emu), ("marR", insets.right_emu),
                        ("marT", insets.top_emu), ("marB", insets.bottom_emu)):
        tcpr.set(attr, str(value))
    tcpr.set("anchor", "t")
    color_xml(etree.SubElement(tcpr, _A + "solidFill"), fill.rgb, fill.color, fill.brightness)
    return tc
