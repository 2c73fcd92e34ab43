"""Build ``templates/theme.pptx``, the deck generator's default PowerPoint theme.

Run ``python templates/make_theme.py`` (optionally with an output path). The script starts from
python-pptx's default template, switches it to 16:9 (12192000 x 6858000 EMU), rewrites the slide
master, its seven layouts and the theme part with lxml, and writes a deck with no slides. The output
is byte-identical from run to run: document dates are fixed and every zip entry carries the
timestamp 1980-01-01 00:00:00.

Layouts (``<p:cSld name>``), in order, and their placeholders (idx in brackets):

    Title              ctrTitle [0], subTitle [1]
    Section            title [0], body [1] (one-line subtitle)
    Title and Content  title [0], body [1]
    Chart              title [0], chart [1] (left ~60%), body [2] (right, 2-4 bullets)
    Two Content        title [0], body [1] (left half), body [2] (right half)
    Table              title [0], tbl [1] (full width)
    Sources            title [0] (smaller), tbl [1] (full width, taller)

Every layout also carries a footer (``ftr``, bottom left) and a slide number (``sldNum``, bottom
right). The generic helpers here (``build_template`` and the XML snippet builders) are reused by
``tests/data/company/make_company.py`` to build a second, deliberately different template.
"""

from __future__ import annotations

import copy
import datetime
import io
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from pptx import Presentation
from pptx.oxml import parse_xml

from deck.output import normalise_package

EMU_PER_INCH = 914400
SLIDE_W = 12192000
SLIDE_H = 6858000

NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSDECL = f'xmlns:a="{NS_A}" xmlns:r="{NS_R}" xmlns:p="{NS_P}"'
RT_THUMBNAIL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"
FIXED_DATE = datetime.datetime(2025, 1, 1, 0, 0, 0)  # written as 2025-01-01T00:00:00Z


def emu(inches: float) -> int:
    """Inches -> EMU, rounded to a whole EMU."""
    return int(round(inches * EMU_PER_INCH))


# --------------------------------------------------------------------------------------------
# XML snippet builders
# --------------------------------------------------------------------------------------------


def clr(color: str) -> str:
    """A colour element for a scheme colour name (``accent1``, ``tx2`` ...) or a 6-digit hex."""
    if len(color) == 6 and all(c in "0123456789ABCDEFabcdef" for c in color):
        return f'<a:srgbClr val="{color.upper()}"/>'
    return f'<a:schemeClr val="{color}"/>'


def solid(color: str) -> str:
    """``<a:solidFill>`` of :func:`clr`."""
    return f"<a:solidFill>{clr(color)}</a:solidFill>"


def ppr(
    lvl: int,
    *,
    sz: int,
    bold: bool = False,
    color: str = "tx1",
    bullet: str | None = None,
    bullet_color: str | None = None,
    mar_l: int = 0,
    indent: int = 0,
    algn: str = "l",
    spc_bef: int = 0,
    spc_aft: int = 0,
    ln_spc_pct: int = 100,
    font: str = "mn",
) -> str:
    """One ``<a:lvlNpPr>`` (lvl 1-9). Sizes in points, spacing in points, margins in EMU."""
    parts = [
        f'<a:lvl{lvl}pPr marL="{mar_l}" indent="{indent}" algn="{algn}" defTabSz="914400" '
        f'rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">',
        f'<a:lnSpc><a:spcPct val="{ln_spc_pct * 1000}"/></a:lnSpc>',
        f'<a:spcBef><a:spcPts val="{spc_bef * 100}"/></a:spcBef>',
        f'<a:spcAft><a:spcPts val="{spc_aft * 100}"/></a:spcAft>',
    ]
    if bullet:
        if bullet_color:
            parts.append(f"<a:buClr>{clr(bullet_color)}</a:buClr>")
        parts.append('<a:buFont typeface="Arial"/>')
        parts.append(f'<a:buChar char="{escape(bullet)}"/>')
    else:
        parts.append("<a:buNone/>")
    b = ' b="1"' if bold else ' b="0"'
    parts.append(
        f'<a:defRPr sz="{int(sz * 100)}"{b} kern="1200">{solid(color)}'
        f'<a:latin typeface="+{font}-lt"/><a:ea typeface="+{font}-ea"/>'
        f'<a:cs typeface="+{font}-cs"/>'
        f"</a:defRPr></a:lvl{lvl}pPr>"
    )
    return "".join(parts)


def body_pr(
    anchor: str = "t", autofit: str = "norm", ins: tuple[int, int, int, int] | None = None
) -> str:
    """``<a:bodyPr>``; autofit is ``norm`` (shrink on overflow), ``none`` or ``shape``."""
    l_, t_, r_, b_ = ins or (91440, 45720, 91440, 45720)
    fit = {"norm": "<a:normAutofit/>", "none": "<a:noAutofit/>", "shape": "<a:spAutoFit/>"}[autofit]
    return (
        f'<a:bodyPr vert="horz" wrap="square" lIns="{l_}" tIns="{t_}" rIns="{r_}" bIns="{b_}" '
        f'rtlCol="0" anchor="{anchor}">{fit}</a:bodyPr>'
    )


def para(text: str, lvl: int = 0) -> str:
    p_pr = f'<a:pPr lvl="{lvl}"/>' if lvl else ""
    return f'<a:p>{p_pr}<a:r><a:rPr lang="en-US" dirty="0"/><a:t>{escape(text)}</a:t></a:r></a:p>'


def placeholder(
    sp_id: int,
    name: str,
    ph_type: str | None,
    idx: int | None,
    box: tuple[int, int, int, int],
    *,
    sz: str | None = None,
    body: str | None = None,
    lst_style: str = "",
    prompt: list[tuple[str, int]] | None = None,
    field: str | None = None,
    footer_fmt: tuple[str, int, str] | None = None,
) -> str:
    """A ``<p:sp>`` placeholder with an explicit position.

    ``ph_type`` None gives ``<p:ph idx=.../>`` (type defaults to ``obj``). ``field`` is
    ``slidenum`` for a slide-number field or ``footer`` for footer prompt text formatted with
    ``footer_fmt`` = (align, size pt, colour).
    """
    attrs = []
    if ph_type:
        attrs.append(f'type="{ph_type}"')
    if sz:
        attrs.append(f'sz="{sz}"')
    if idx is not None:
        attrs.append(f'idx="{idx}"')
    x, y, cx, cy = box
    if field == "slidenum":
        paras = (
            '<a:p><a:fld id="{C1FF6DA9-008F-8B48-92A6-B652298478BF}" type="slidenum">'
            '<a:rPr lang="en-US"/><a:t>‹#›</a:t></a:fld><a:endParaRPr lang="en-US"/></a:p>'
        )
    elif field == "footer":
        # Explicit run formatting: LibreOffice styles slide footers from the layout's footer run,
        # ignoring lstStyle, so repeat the style here (PowerPoint uses the lstStyle).
        algn, size, color = footer_fmt or ("l", 10, "accent3")
        paras = (
            f'<a:p><a:pPr algn="{algn}"/><a:r><a:rPr lang="en-US" sz="{size * 100}" dirty="0">'
            f'{solid(color)}<a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/>'
            f'<a:cs typeface="+mn-cs"/></a:rPr><a:t>Footer</a:t></a:r></a:p>'
        )
    elif prompt:
        paras = "".join(para(t, lvl) for t, lvl in prompt)
    else:
        paras = '<a:p><a:endParaRPr lang="en-US"/></a:p>'
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="{sp_id}" name="{escape(name)}"/>'
        f'<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph {" ".join(attrs)}/></p:nvPr>'
        f'</p:nvSpPr><p:spPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>'
        f"<p:txBody>{body or '<a:bodyPr/>'}<a:lstStyle>{lst_style}</a:lstStyle>{paras}</p:txBody>"
        f"</p:sp>"
    )


def rect(sp_id: int, name: str, box: tuple[int, int, int, int], color: str) -> str:
    """A plain filled rectangle with no outline (decoration on a master or layout)."""
    x, y, cx, cy = box
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="{sp_id}" name="{escape(name)}"/><p:cNvSpPr/>'
        f'<p:nvPr userDrawn="1"/>'
        f'</p:nvSpPr><p:spPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>{solid(color)}'
        f"<a:ln><a:noFill/></a:ln></p:spPr>"
        f'<p:txBody><a:bodyPr rtlCol="0" anchor="ctr"/><a:lstStyle/>'
        f'<a:p><a:endParaRPr lang="en-US"/></a:p>'
        f"</p:txBody></p:sp>"
    )


def sp_tree(shapes: list[str]) -> str:
    return (
        '<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
        '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/>'
        '<a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>' + "".join(shapes) + "</p:spTree>"
    )


def bg(color: str | None) -> str:
    if color is None:
        return ""
    return f"<p:bg><p:bgPr>{solid(color)}<a:effectLst/></p:bgPr></p:bg>"


# --------------------------------------------------------------------------------------------
# Generic builder
# --------------------------------------------------------------------------------------------


def _set_theme(theme_el: etree._Element, spec: dict) -> None:
    """Rewrite name, colour scheme and font scheme of a ``<a:theme>`` element in place."""
    a = f"{{{NS_A}}}"
    theme_el.set("name", spec["theme_name"])
    elements = theme_el.find(f"{a}themeElements")
    clr = elements.find(f"{a}clrScheme")
    clr.set("name", spec["theme_name"])
    for child in list(clr):
        clr.remove(child)
    for key in (
        "dk1",
        "lt1",
        "dk2",
        "lt2",
        "accent1",
        "accent2",
        "accent3",
        "accent4",
        "accent5",
        "accent6",
        "hlink",
        "folHlink",
    ):
        slot = etree.SubElement(clr, f"{a}{key}")
        etree.SubElement(slot, f"{a}srgbClr", val=spec["colors"][key].upper())

    fonts = elements.find(f"{a}fontScheme")
    fonts.set("name", spec["theme_name"])
    f = spec["fonts"]
    for tag, latin in (("majorFont", f["major_latin"]), ("minorFont", f["minor_latin"])):
        group = fonts.find(f"{a}{tag}")
        scripts = [el for el in group if el.tag == f"{a}font"]
        for child in list(group):
            group.remove(child)
        etree.SubElement(group, f"{a}latin", typeface=latin)
        etree.SubElement(group, f"{a}ea", typeface=f["ea"])
        etree.SubElement(group, f"{a}cs", typeface=f["cs"])
        have_hang = False
        for el in scripts:
            if el.get("script") == "Hang":
                el.set("typeface", f["hang"])
                have_hang = True
            group.append(el)
        if not have_hang:
            etree.SubElement(group, f"{a}font", script="Hang", typeface=f["hang"])


def _replace_root(part, xml: str) -> None:
    """Replace attributes and children of ``part``'s root element with those of ``xml``."""
    new = parse_xml(xml)
    old = part._element
    for k in list(old.attrib):
        del old.attrib[k]
    for k, v in new.attrib.items():
        old.set(k, v)
    for child in list(old):
        old.remove(child)
    for child in list(new):
        old.append(child)


def _app_xml(spec: dict) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<TotalTime>0</TotalTime><Words>0</Words><Application>python-pptx</Application>"
        "<PresentationFormat>Widescreen</PresentationFormat><Paragraphs>0</Paragraphs>"
        "<Slides>0</Slides><Notes>0</Notes><HiddenSlides>0</HiddenSlides><MMClips>0</MMClips>"
        '<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" baseType="variant">'
        "<vt:variant><vt:lpstr>Theme</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>"
        '</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr">'
        f"<vt:lpstr>{escape(spec['theme_name'])}</vt:lpstr></vt:vector></TitlesOfParts>"
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0000</AppVersion></Properties>"
    ).encode()


def build_template(spec: dict, out_path: Path) -> None:
    """Build a slide-less template from python-pptx's default one according to ``spec``.

    ``spec`` keys: theme_name, colors, fonts, title (core-properties title), master_shapes (list
    of ``<p:sp>`` XML), title_style / body_style (``<a:lvlNpPr>`` XML for p:titleStyle and
    p:bodyStyle), layouts: list of dicts with name, type, shapes (list of ``<p:sp>`` XML) and
    optional show_master_sp (bool) and bg (colour).
    """
    prs = Presentation()
    prs.slide_width = SLIDE_W
    prs.slide_height = SLIDE_H
    sld_sz = prs.part._element.find(f"{{{NS_P}}}sldSz")
    if "type" in sld_sz.attrib:
        del sld_sz.attrib["type"]

    # --- keep as many default layouts as needed, drop the rest, then rewrite each one ---
    layouts = spec["layouts"]
    while len(prs.slide_layouts) > len(layouts):
        prs.slide_layouts.remove(prs.slide_layouts[len(prs.slide_layouts) - 1])
    if len(prs.slide_layouts) < len(layouts):
        raise ValueError("the default template has only 11 layouts")

    master = prs.slide_master
    for layout, lspec in zip(prs.slide_layouts, layouts, strict=True):
        show = "" if lspec.get("show_master_sp", True) else ' showMasterSp="0"'
        xml = (
            f'<p:sldLayout {NSDECL} type="{lspec["type"]}" preserve="1" userDrawn="1"{show}>'
            f'<p:cSld name="{escape(lspec["name"])}">{bg(lspec.get("bg"))}'
            f"{sp_tree(lspec['shapes'])}"
            f"</p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
        )
        _replace_root(layout.part, xml)

    # --- master: new shape tree and text styles; keep clrMap and the layout id list ---
    m_el = master._element
    p = f"{{{NS_P}}}"
    clr_map = copy.deepcopy(m_el.find(f"{p}clrMap"))
    id_lst = copy.deepcopy(m_el.find(f"{p}sldLayoutIdLst"))
    other_style = copy.deepcopy(m_el.find(f"{p}txStyles").find(f"{p}otherStyle"))
    xml = (
        f"<p:sldMaster {NSDECL}><p:cSld>{bg(spec.get('master_bg', 'bg1'))}"
        f"{sp_tree(spec['master_shapes'])}</p:cSld>"
        f'<p:clrMap bg1="lt1"/><p:sldLayoutIdLst/>'
        f"<p:txStyles><p:titleStyle>{spec['title_style']}</p:titleStyle>"
        f"<p:bodyStyle>{spec['body_style']}</p:bodyStyle><p:otherStyle/></p:txStyles></p:sldMaster>"
    )
    _replace_root(master.part, xml)
    m_el.replace(m_el.find(f"{p}clrMap"), clr_map)
    m_el.replace(m_el.find(f"{p}sldLayoutIdLst"), id_lst)
    tx = m_el.find(f"{p}txStyles")
    tx.replace(tx.find(f"{p}otherStyle"), other_style)

    # --- theme part (reached from the master) ---
    theme_part = next(
        rel.target_part for rel in master.part.rels.values() if rel.reltype.endswith("/theme")
    )
    theme_el = etree.fromstring(theme_part.blob)
    _set_theme(theme_el, spec)
    theme_part._blob = etree.tostring(
        theme_el, xml_declaration=True, encoding="UTF-8", standalone=True
    )

    # --- document properties: fixed, so output is reproducible ---
    cp = prs.core_properties
    cp.title = spec["title"]
    cp.subject = ""
    cp.author = "deck"
    cp.last_modified_by = "deck"
    cp.comments = "Generated by " + spec.get("generator", "templates/make_theme.py")
    cp.revision = 1
    cp.created = cp.modified = FIXED_DATE

    pkg = prs.part.package
    for rId, rel in list(pkg._rels.items()):
        if rel.reltype == RT_THUMBNAIL:
            pkg.drop_rel(rId)
    for part in pkg.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = _app_xml(spec)

    buf = io.BytesIO()
    prs.save(buf)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(normalise_package(buf.getvalue()))


# --------------------------------------------------------------------------------------------
# The "Deck Briefing" theme
# --------------------------------------------------------------------------------------------

MARGIN = emu(0.5)
CONTENT_W = SLIDE_W - 2 * MARGIN  # 11277600
TITLE_BOX = (MARGIN, emu(0.35), CONTENT_W, emu(0.9))
BODY_TOP = emu(1.45)
BODY_H = emu(6.7) - BODY_TOP
BODY_BOX = (MARGIN, BODY_TOP, CONTENT_W, BODY_H)
FOOT_Y = emu(7.0)
FOOT_H = emu(0.3)
FOOTER_BOX = (MARGIN, FOOT_Y, emu(8.0), FOOT_H)
SLDNUM_W = emu(1.0)
SLDNUM_BOX = (SLIDE_W - MARGIN - SLDNUM_W, FOOT_Y, SLDNUM_W, FOOT_H)
RULE_Y = emu(1.3)  # accent rule under the title area

TITLE_BODY_PR = body_pr(anchor="b", autofit="none", ins=(0, 45720, 0, 45720))
CONTENT_BODY_PR = body_pr(anchor="t", autofit="norm", ins=(0, 45720, 0, 45720))
SMALL_BODY_PR = body_pr(anchor="ctr", autofit="none", ins=(0, 0, 0, 0))

BRIEFING_COLORS = {
    "dk1": "1F2937",
    "lt1": "FFFFFF",
    "dk2": "1E3A5F",
    "lt2": "F3F4F6",
    "accent1": "1E5AA8",
    "accent2": "E4572E",
    "accent3": "6B7280",
    "accent4": "2A9D8F",
    "accent5": "F2A541",
    "accent6": "8E9AAF",
    "hlink": "1E5AA8",
    "folHlink": "6B7280",
}
BRIEFING_FONTS = {
    "major_latin": "Arial",
    "minor_latin": "Arial",
    "ea": "Malgun Gothic",
    "cs": "Arial",
    "hang": "맑은 고딕",
}


def _briefing_body_style() -> str:
    levels = []
    sizes = {1: 18, 2: 16, 3: 14, 4: 14, 5: 14, 6: 14, 7: 14, 8: 14, 9: 14}
    for lvl in range(1, 10):
        step = 285750  # 0.3125in hanging indent per level
        levels.append(
            ppr(
                lvl,
                sz=sizes[lvl],
                color="tx1",
                bullet="•" if lvl != 2 else "–",
                bullet_color="accent1" if lvl == 1 else "accent3",
                mar_l=step * lvl,
                indent=-step if lvl == 1 else -228600,
                spc_bef=6 if lvl == 1 else 3,
                ln_spc_pct=100,
            )
        )
    return "".join(levels)


def _no_bullet(sz: float, color: str, bold: bool = False, algn: str = "l", font: str = "mn") -> str:
    return ppr(1, sz=sz, bold=bold, color=color, algn=algn, font=font)


# Repeated on the layouts too: LibreOffice does not inherit footer styles from the master.
FOOTER_STYLE = _no_bullet(10, "accent3")
SLDNUM_STYLE = _no_bullet(10, "accent3", algn="r")


def _common(first_id: int) -> list[str]:
    """Footer and slide-number placeholders shared by every layout."""
    return [
        placeholder(
            first_id,
            "Footer Placeholder",
            "ftr",
            11,
            FOOTER_BOX,
            sz="quarter",
            body=SMALL_BODY_PR,
            lst_style=FOOTER_STYLE,
            field="footer",
        ),
        placeholder(
            first_id + 1,
            "Slide Number Placeholder",
            "sldNum",
            12,
            SLDNUM_BOX,
            sz="quarter",
            body=SMALL_BODY_PR,
            lst_style=SLDNUM_STYLE,
            field="slidenum",
        ),
    ]


def _title_ph(box=TITLE_BOX, lst: str = "", ph_type: str = "title") -> str:
    return placeholder(
        2,
        "Title",
        ph_type,
        None,
        box,
        body=TITLE_BODY_PR,
        lst_style=lst,
        prompt=[("Click to edit title", 0)],
    )


BULLET_PROMPT = [("First-level bullet", 0), ("Second level", 1)]


def _rule(first_id: int, y: int) -> list[str]:
    """Title rule: a thin navy line across the content width with a short blue tab on it."""
    return [
        rect(first_id, "Title Rule", (MARGIN, y + emu(0.05), CONTENT_W, emu(0.015)), "tx2"),
        rect(first_id + 1, "Title Accent", (MARGIN, y, emu(0.9), emu(0.08)), "accent1"),
    ]


def briefing_spec() -> dict:
    master_shapes = [
        placeholder(
            2,
            "Title Placeholder",
            "title",
            None,
            TITLE_BOX,
            body=TITLE_BODY_PR,
            prompt=[("Click to edit Master title style", 0)],
        ),
        placeholder(
            3,
            "Text Placeholder",
            "body",
            1,
            BODY_BOX,
            body=CONTENT_BODY_PR,
            prompt=[
                ("Click to edit Master text styles", 0),
                ("Second level", 1),
                ("Third level", 2),
            ],
        ),
        placeholder(
            4,
            "Footer Placeholder",
            "ftr",
            3,
            FOOTER_BOX,
            sz="quarter",
            body=SMALL_BODY_PR,
            lst_style=FOOTER_STYLE,
            field="footer",
        ),
        placeholder(
            5,
            "Slide Number Placeholder",
            "sldNum",
            4,
            SLDNUM_BOX,
            sz="quarter",
            body=SMALL_BODY_PR,
            lst_style=SLDNUM_STYLE,
            field="slidenum",
        ),
        *_rule(6, RULE_Y),
    ]
    title_style = ppr(1, sz=28, bold=True, color="tx1", font="mj", ln_spc_pct=95)

    # Title: navy block over the top 62% of the slide, white title, amber-free red/orange tab.
    block_h = emu(4.65)
    title_layout = [
        rect(20, "Title Block", (0, 0, SLIDE_W, block_h), "tx2"),
        rect(
            21, "Title Block Accent", (MARGIN, block_h - emu(0.6), emu(0.9), emu(0.08)), "accent2"
        ),
        placeholder(
            2,
            "Title",
            "ctrTitle",
            None,
            (MARGIN, emu(1.4), emu(11.0), emu(2.45)),
            body=TITLE_BODY_PR,
            lst_style=ppr(1, sz=36, bold=True, color="bg1", font="mj", ln_spc_pct=95),
            prompt=[("Click to edit title", 0)],
        ),
        placeholder(
            3,
            "Subtitle",
            "subTitle",
            1,
            (MARGIN, emu(4.95), emu(11.0), emu(1.5)),
            body=CONTENT_BODY_PR,
            lst_style=_no_bullet(18, "tx2"),
            prompt=[("Click to edit subtitle", 0)],
        ),
        *_common(4),
    ]

    # Section: white slide, navy strip at the left edge, large title, blue tab, grey subtitle.
    section_layout = [
        rect(20, "Section Strip", (0, 0, emu(0.22), SLIDE_H), "tx2"),
        placeholder(
            2,
            "Title",
            "title",
            None,
            (MARGIN, emu(2.2), CONTENT_W, emu(1.6)),
            body=TITLE_BODY_PR,
            lst_style=ppr(1, sz=32, bold=True, color="tx2", font="mj"),
            prompt=[("Section title", 0)],
        ),
        rect(21, "Section Accent", (MARGIN, emu(3.95), emu(0.9), emu(0.08)), "accent1"),
        placeholder(
            3,
            "Section Subtitle",
            "body",
            1,
            (MARGIN, emu(4.2), CONTENT_W, emu(0.8)),
            body=CONTENT_BODY_PR,
            lst_style=_no_bullet(18, "accent3"),
            prompt=[("One-line subtitle", 0)],
        ),
        *_common(4),
    ]

    content_layout = [
        _title_ph(),
        placeholder(
            3,
            "Content Placeholder",
            "body",
            1,
            BODY_BOX,
            body=CONTENT_BODY_PR,
            prompt=BULLET_PROMPT,
        ),
        *_common(4),
    ]

    chart_w = emu(7.35)
    gap = emu(0.4)
    side_x = MARGIN + chart_w + gap
    side_w = SLIDE_W - MARGIN - side_x
    side_style = "".join(
        ppr(
            lvl,
            sz=sz,
            color="tx1",
            bullet="•" if lvl == 1 else "–",
            bullet_color="accent1" if lvl == 1 else "accent3",
            mar_l=228600 * lvl,
            indent=-228600,
            spc_bef=8 if lvl == 1 else 3,
        )
        for lvl, sz in ((1, 16), (2, 14))
    )
    chart_layout = [
        _title_ph(),
        placeholder(
            3,
            "Chart Placeholder",
            "chart",
            1,
            (MARGIN, BODY_TOP, chart_w, BODY_H),
            sz="half",
            body=body_pr(anchor="t", autofit="none"),
            prompt=[("Click icon to add chart", 0)],
        ),
        placeholder(
            4,
            "Takeaways Placeholder",
            "body",
            2,
            (side_x, BODY_TOP, side_w, BODY_H),
            sz="half",
            body=CONTENT_BODY_PR,
            lst_style=side_style,
            prompt=[("Takeaway one", 0), ("Takeaway two", 0)],
        ),
        *_common(5),
    ]

    col_gap = emu(0.4)
    col_w = (CONTENT_W - col_gap) // 2
    two_layout = [
        _title_ph(),
        placeholder(
            3,
            "Left Content",
            "body",
            1,
            (MARGIN, BODY_TOP, col_w, BODY_H),
            sz="half",
            body=CONTENT_BODY_PR,
            prompt=BULLET_PROMPT,
        ),
        placeholder(
            4,
            "Right Content",
            "body",
            2,
            (SLIDE_W - MARGIN - col_w, BODY_TOP, col_w, BODY_H),
            sz="half",
            body=CONTENT_BODY_PR,
            prompt=BULLET_PROMPT,
        ),
        *_common(5),
    ]

    table_layout = [
        _title_ph(),
        placeholder(
            3,
            "Table Placeholder",
            "tbl",
            1,
            BODY_BOX,
            body=body_pr(autofit="none"),
            prompt=[("Click icon to add table", 0)],
        ),
        *_common(4),
    ]

    # Sources: smaller title, so the rule moves up and the table starts higher.
    src_title_box = (MARGIN, emu(0.3), CONTENT_W, emu(0.6))
    src_rule_y = emu(0.95)
    src_top = emu(1.15)
    sources_layout = [
        *_rule(20, src_rule_y),
        _title_ph(src_title_box, lst=ppr(1, sz=22, bold=True, color="tx1", font="mj")),
        placeholder(
            3,
            "Table Placeholder",
            "tbl",
            1,
            (MARGIN, src_top, CONTENT_W, emu(6.7) - src_top),
            body=body_pr(autofit="none"),
            prompt=[("Click icon to add table", 0)],
        ),
        *_common(4),
    ]

    return {
        "theme_name": "Deck Briefing",
        "title": "Deck Briefing theme",
        "generator": "templates/make_theme.py",
        "colors": BRIEFING_COLORS,
        "fonts": BRIEFING_FONTS,
        "master_shapes": master_shapes,
        "title_style": title_style,
        "body_style": _briefing_body_style(),
        "layouts": [
            {"name": "Title", "type": "title", "shapes": title_layout, "show_master_sp": False},
            {
                "name": "Section",
                "type": "secHead",
                "shapes": section_layout,
                "show_master_sp": False,
            },
            {"name": "Title and Content", "type": "obj", "shapes": content_layout},
            {"name": "Chart", "type": "chartAndTx", "shapes": chart_layout},
            {"name": "Two Content", "type": "twoColTx", "shapes": two_layout},
            {"name": "Table", "type": "tbl", "shapes": table_layout},
            {"name": "Sources", "type": "cust", "shapes": sources_layout, "show_master_sp": False},
        ],
    }


LAYOUT_MAP_YAML = """\
layouts:
  title: Title
  section: Section
  content: Title and Content
  chart: Chart
  two_content: Two Content
  table: Table
  sources: Sources
"""


def main(argv: list[str]) -> None:
    here = Path(__file__).resolve().parent
    out = Path(argv[1]) if len(argv) > 1 else here / "theme.pptx"
    build_template(briefing_spec(), out)
    (out.with_suffix(".yaml")).write_text(LAYOUT_MAP_YAML, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
