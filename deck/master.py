"""Reading a template: its masters, layouts and placeholders as plain geometry
(:class:`deck.model.MasterInfo`), its theme fonts, and the mapping of logical layouts to its
layout names (``<template>.yaml`` beside it).

Read once per template's bytes; everything the fit stage needs comes out as frozen values, so
the fit stage never touches pptx. Problems are diagnostics naming the file and line.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import msgspec
from lxml import etree
from PIL import Image
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn

from . import colors, ooxml
from . import model as m
from .diagnostics import Diagnostic, Diagnostics, UserError
from .files import Roots, read_bytes, read_text
from .outline import LAYOUTS
from .output import pack_parts
from .schema import Record, dump
from .yamlsrc import line_of, read_yaml, validate

_DEFAULT_INSETS = m.Insets(91440, 45720, 91440, 45720)
_ANY_BODY_PR = ".//" + qn("a:bodyPr")


#: The template layout that serves each logical layout of an outline (one field per layout).
LayoutNames = msgspec.defstruct("LayoutNames", [(name, str) for name in LAYOUTS],
                                bases=(Record,), kw_only=True, module=__name__)


class Mapping(Record, kw_only=True):
    """A template's mapping file (``<template>.yaml``)."""

    layouts: LayoutNames  # type: ignore[valid-type]


class Template(msgspec.Struct, frozen=True):
    """A template read once: its bytes (a .potx made a .pptx) and digest, every layout of
    every master as plain geometry, its theme fonts, the layout mapping if it has a mapping
    file, and what the writer repairs in it."""

    path: Path
    data: bytes
    digest: str
    slide_width_emu: int
    slide_height_emu: int
    fonts: m.ThemeFonts
    layouts: tuple[m.LayoutInfo, ...]
    masters: tuple[str, ...]  # each master's name ("" where it has none)
    mapping: dict[str, str] | None  # logical layout -> layout name; None: no mapping file
    mapping_path: Path
    mapping_lines: dict[tuple, int]
    repairs: tuple[str, ...]  # what the writer adds or mends that the template lacks

    def mapping_line(self, logical: str) -> int | None:
        return line_of(self.mapping_lines, ("layouts", logical))

    def find(self, name: str) -> m.LayoutInfo | None:
        """A layout by name, or by ``Master / Layout`` where several masters have one of that
        name (the master by its name or its number, 1-based); unqualified, the first."""
        master, sep, layout = name.rpartition(" / ")
        for info in self.layouts:
            if sep and info.name == layout and (
                    master == self.masters[info.ref.master] or master == str(info.ref.master + 1)):
                return info
            if not sep and info.name == name:
                return info
        return None


def mapping_path(template: Path) -> Path:
    return template.with_suffix(".yaml")


_TEMPLATE_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
_PRESENTATION_TYPE = (b"application/vnd.openxmlformats-officedocument.presentationml."
                      b"presentation.main+xml")


def as_presentation(data: bytes) -> bytes:
    """A template as python-pptx opens it: a PowerPoint template (.potx) as a presentation
    (.pptx), where only the main part's content type differs; and its XML parts without
    comments or processing instructions, which PowerPoint ignores and python-pptx's element
    classes trip over (a comment in a slide list is taken for a slide). A template with
    neither is returned as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        types = z.read("[Content_Types].xml")
        xml = {name: z.read(name) for name in z.namelist()
               if name.endswith((".xml", ".rels"))}
        commented = {name for name, blob in xml.items() if _has_comments(blob)}
        if _TEMPLATE_TYPE not in types and not commented:
            return data
        parts = {name: xml[name] if name in xml else z.read(name) for name in z.namelist()}
    parts["[Content_Types].xml"] = types.replace(_TEMPLATE_TYPE, _PRESENTATION_TYPE)
    for name in commented:
        parts[name] = _uncommented(parts[name])
    return pack_parts(parts)


def _has_comments(blob: bytes) -> bool:
    """Whether an XML part holds a comment or a processing instruction (other than its XML
    declaration)."""
    body = blob[blob.find(b"?>") + 2:] if blob.startswith(b"<?xml") else blob
    return b"<!--" in body or b"<?" in body


_UNCOMMENTING = etree.XMLParser(remove_comments=True, remove_pis=True, resolve_entities=False,
                                no_network=True)


def _uncommented(blob: bytes) -> bytes:
    try:
        root = etree.fromstring(blob, _UNCOMMENTING)
    except etree.XMLSyntaxError:
        return blob  # broken as it is: python-pptx reports it
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


class TemplateSources(msgspec.Struct, frozen=True):
    """A template's bytes and its mapping's text (None: it has none), as read; a session
    keys its memo on them."""

    path: Path
    data: bytes
    mapping: str | None


def read_template_sources(path: Path, roots: Roots | None = None) -> TemplateSources:
    """Read a template (named by the user: anywhere, at most 50 MB) and its mapping beside
    it if there is one (inside ``roots``, links resolved first)."""
    data = read_bytes(path, "template", "--template")
    mapping = mapping_path(path)
    if not os.path.lexists(mapping):
        return TemplateSources(path, data, None)
    real = roots.confine(mapping, "template mapping", "layouts") if roots else mapping
    return TemplateSources(path, data, read_text(real, "template mapping", "layouts",
                                                 shown=str(mapping)))


def read_template(path: Path | TemplateSources, roots: Roots | None = None) -> Template:
    """Open a template (.pptx or .potx) and its mapping file if it has one; raise
    :class:`UserError` with every problem."""
    sources = path if isinstance(path, TemplateSources) else read_template_sources(path, roots)
    path = sources.path
    _refuse_zip_bomb(path, sources.data)
    try:
        data = as_presentation(sources.data)
        prs = Presentation(io.BytesIO(data))
    except Exception as exc:  # zipfile and python-pptx raise many kinds for a broken package
        raise UserError([Diagnostic(str(path), None, "--template",
                                    f"not a usable template; expected a PowerPoint .pptx or "
                                    f".potx, got {type(exc).__name__}: {exc}")]) from None
    mapping, lines = (None, {})
    if sources.mapping is not None:
        names, lines = read_mapping(mapping_path(path), sources.mapping)
        mapping = dump(names)
    masters = list(prs.slide_masters)
    layouts = tuple(_layout_info(layout, i, j) for i, master in enumerate(masters)
                    for j, layout in enumerate(master.slide_layouts))
    return Template(path, data, hashlib.sha256(data).hexdigest(), int(prs.slide_width),
                    int(prs.slide_height), theme_fonts(prs), layouts,
                    tuple(master.name or "" for master in masters), mapping, mapping_path(path),
                    lines, _repairs(prs))


#: the largest template (as read) a build opens ahead of reading its inputs
AHEAD_BYTES = 8 * 2**20


def presentation_bytes(path: Path) -> bytes | None:
    """The bytes :func:`read_template` would open for the template at ``path``, or None
    where it is larger than :data:`AHEAD_BYTES`, or would be refused: read while the inputs
    are read elsewhere, to open it ahead (the build reports what is wrong with it)."""
    try:
        if os.path.getsize(path) > AHEAD_BYTES:
            return None
        data = read_bytes(path, "template", "--template")
        _refuse_zip_bomb(path, data)
        return as_presentation(data)
    except (UserError, OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None


def _repairs(prs) -> tuple[str, ...]:
    """What writing on this template will change in it, for the build to say."""
    found = []
    if len(prs.slides):
        found.append(f"template's own {len(prs.slides)} slide(s) left out of the decks")
    if not ooxml.has_view_properties(prs):
        found.append("added ppt/viewProps.xml, which PowerPoint expects and the template lacks")
    unnumbered = sum(1 for master in prs.slide_masters for layout in master.slide_layouts
                     if ooxml.needs_numbering(layout))
    if unnumbered:
        found.append(f"numbered the placeholders of {unnumbered} layout(s) that share an index "
                     "(slides find their layout's placeholders by index)")
    if ooxml.lacks_notes_placeholder(prs):
        found.append("added a notes placeholder to the notes master, which has none (speaker "
                     "notes go there)")
    return tuple(found)


#: what a template may hold once unzipped: python-pptx reads every part into memory
MAX_UNZIPPED = 200 * 2**20


def _refuse_zip_bomb(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            size = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError([Diagnostic(str(path), None, "--template", f"not a usable template; "
                                    f"expected a PowerPoint .pptx or .potx, got {exc}")]) from None
    if size > MAX_UNZIPPED:
        raise UserError([Diagnostic(str(path), None, "--template", (
            f"too large once unzipped; expected at most {MAX_UNZIPPED // 2**20} MB, got "
            f"{size // 2**20} MB (a zip bomb?)"))])


def read_mapping(path: Path, text: str) -> tuple[Record, dict[tuple, int]]:
    """Validate a template's mapping file (``text`` read from ``path``)."""
    diags = Diagnostics()
    raw, lines = read_yaml(text, str(path), diags)
    mapping = validate(Mapping, raw, lines, str(path), diags)
    if mapping is None or diags.errors:
        raise UserError(diags.errors)
    return mapping.layouts, lines


# ------------------------------------------------------------------------------------------


def _layout_info(layout, master_index: int, index: int) -> m.LayoutInfo:
    palette = _palette(layout.slide_master)
    slots = []
    for ordinal, ph in enumerate(layout.placeholders):
        pf = ph.placeholder_format
        el = ph._element.find(".//" + qn("p:ph"))
        kind = el.get("type") or "obj"
        box = m.Box(int(ph.left or 0), int(ph.top or 0), int(ph.width or 0), int(ph.height or 0))
        shapes = placeholder_chain(ph)  # once: each step scans the layout's or master's shapes
        chain = _level_one(ph, kind, shapes)
        text_rgb, sampled = _text_color(chain, palette, shapes)
        slots.append(m.Slot(kind, pf.idx, ordinal, box, inherited_insets(ph, shapes),
                            _size_pt(chain), _line_spacing(chain), text_rgb, sampled,
                            _vertical(shapes), _bullet_color(chain, palette)))
    background, picture = _background(layout, palette)
    return m.LayoutInfo(m.LayoutRef(layout.name, master_index, index), tuple(slots),
                        background, picture, _fills(layout, palette),
                        tuple(sorted(palette.items())))


# ------------------------------------------------------------------------------------------
# colours


_SCHEME = ("dk1", "lt1", "dk2", "lt2", "accent1", "accent2", "accent3", "accent4", "accent5",
           "accent6", "hlink", "folHlink")
_MAPPED = ("bg1", "tx1", "bg2", "tx2")
_DEFAULT_MAP = {"bg1": "lt1", "tx1": "dk1", "bg2": "lt2", "tx2": "dk2"}


def _palette(master) -> dict[str, str]:
    """The master's theme colours, with ``bg1``/``tx1``/``bg2``/``tx2`` as its colour map
    resolves them."""
    base = {name: "000000" if name.startswith("dk") else "FFFFFF" for name in _SCHEME}
    try:
        theme = etree.fromstring(master.part.part_related_by(RT.THEME).blob)
    except KeyError:
        theme = None
    scheme = theme.find(".//" + qn("a:clrScheme")) if theme is not None else None
    for child in scheme if scheme is not None else ():
        name = etree.QName(child).localname
        found = _color(child, base)
        if name in base and found:
            base[name] = found
    clr_map = master._element.find(qn("p:clrMap"))
    mapping = dict(_DEFAULT_MAP, **(dict(clr_map.attrib) if clr_map is not None else {}))
    palette = dict(base)
    for name in _MAPPED:
        palette[name] = base.get(mapping.get(name, _DEFAULT_MAP[name]), "000000")
    return palette


def _color(el, palette: dict[str, str]) -> str | None:
    """The RGB of the first colour inside ``el`` (srgbClr, schemeClr, sysClr, prstClr), with
    its lumMod/lumOff/tint/shade transforms."""
    for child in el.iter():
        name = etree.QName(child).localname
        if name == "srgbClr":
            value = child.get("val", "000000")
        elif name == "sysClr":
            value = child.get("lastClr", "000000")
        elif name == "schemeClr":
            value = palette.get(child.get("val", "tx1"), palette.get("tx1", "000000"))
        elif name == "prstClr":
            value = {"black": "000000", "white": "FFFFFF"}.get(child.get("val"), "808080")
        else:
            continue
        return _transformed(value, child)
    return None


def _transformed(value: str, el) -> str:
    mods = {etree.QName(c).localname: int(c.get("val", "100000")) / 100000 for c in el}
    if "lumMod" in mods or "lumOff" in mods:
        value = colors.luminance_shift(value, mods.get("lumMod", 1.0), mods.get("lumOff", 0.0))
    if "tint" in mods:
        value = colors.tint(value, mods["tint"])
    if "shade" in mods:
        value = colors.shade(value, mods["shade"])
    return value.upper()


def _fill(sppr, palette: dict[str, str], part) -> tuple[str, bool] | None:
    """The colour a shape's or background's fill shows, and whether it is a picture (then its
    mean colour)."""
    if sppr is None:
        return None
    for child in sppr:
        name = etree.QName(child).localname
        if name == "solidFill":
            found = _color(child, palette)
            return (found, False) if found else None
        if name == "gradFill":
            stops = [(_color(gs, palette) or "FFFFFF", 1.0) for gs in child.iter(qn("a:gs"))]
            return (colors.average(stops), False) if stops else None
        if name == "blipFill":
            found = _picture_color(child, part)
            return (found, True) if found else None
        if name == "pattFill":  # a pattern: its two colours mixed, and no single colour
            pair = [(_color(c, palette) or "FFFFFF", 1.0) for c in child]
            return (colors.average(pair), True) if pair else None
    return None


def _picture_color(blip_fill, part) -> str | None:
    blip = blip_fill.find(qn("a:blip"))
    rid = blip.get(qn("r:embed")) if blip is not None else None
    try:
        with Image.open(io.BytesIO(part.related_part(rid).blob)) as im:
            # a palette image with a transparent colour goes through RGBA (Pillow warns on a
            # straight RGB conversion: LibreOffice's Vintage has one)
            rgb = (im.convert("RGBA") if im.mode == "P" else im).convert("RGB")
            pixel = rgb.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    except Exception:  # an image Pillow cannot read: its colour is unknown  # noqa: BLE001
        return None
    return "".join(f"{c:02X}" for c in pixel)


def _background(layout, palette: dict[str, str]) -> tuple[str, bool]:
    """The colour of the layout's background (its own, else its master's), white if none,
    and whether it is a picture."""
    for owner in (layout, layout.slide_master):
        bg = owner._element.find(qn("p:cSld") + "/" + qn("p:bg"))
        if bg is None:
            continue
        pr = bg.find(qn("p:bgPr"))
        found = _fill(pr, palette, owner.part) if pr is not None else (
            (_color(bg, palette), False) if _color(bg, palette) else None)
        if found:
            return found
    return palette.get("bg1", "FFFFFF"), False


def _fills(layout, palette: dict[str, str]) -> tuple[m.Fill, ...]:
    """Filled shapes and pictures the master (unless the layout hides them) and the layout
    draw behind the slide's content, bottom first."""
    owners = [layout]
    if layout._element.get("showMasterSp") not in ("0", "false"):
        owners.insert(0, layout.slide_master)
    fills = []
    for owner in owners:
        for shape in owner.shapes:
            if shape.is_placeholder or shape.width is None or shape.height is None:
                continue
            el = shape._element
            found = _fill(el if el.tag == qn("p:pic") else el.find(qn("p:spPr")), palette,
                          owner.part)
            if found:
                fills.append(m.Fill(m.Box(int(shape.left), int(shape.top), int(shape.width),
                                          int(shape.height)), *found))
    return tuple(fills)


def _bullet_color(chain: list, palette: dict[str, str]) -> str | None:
    """The colour of first-level bullets, where a style sets one (``a:buClr``)."""
    for lvl in chain:
        if lvl.find(qn("a:buClrTx")) is not None:
            return None
        clr = lvl.find(qn("a:buClr"))
        if clr is not None:
            return _color(clr, palette)
    return None


def _text_color(chain: list, palette: dict[str, str], shapes: list) -> tuple[str, bool]:
    """The colour a placeholder's text takes: from its list styles and the master's text
    styles; else, as LibreOffice reads masters it wrote, from the master's sample text (then
    True: the writer must set it for PowerPoint to show the same); else the theme's tx1."""
    for lvl in chain:
        rpr = lvl.find(qn("a:defRPr"))
        fill = rpr.find(qn("a:solidFill")) if rpr is not None else None
        if fill is not None:
            return _color(fill, palette) or palette["tx1"], False
    for shape in reversed(shapes):
        fill = shape._element.find(".//" + qn("a:r") + "/" + qn("a:rPr") + "/" +
                                   qn("a:solidFill"))
        if fill is not None:
            return _color(fill, palette) or palette["tx1"], True
    return palette["tx1"], False


def placeholder_chain(ph) -> list:
    """The placeholder and the placeholders it inherits from (layout, then master). Each
    step searches a layout's shapes: compute it once per shape."""
    out = [ph]
    while (base := getattr(out[-1], "_base_placeholder", None)) is not None:
        out.append(base)
    return out


def _vertical(shapes: list) -> bool:
    """Whether a placeholder (``shapes``: its :func:`placeholder_chain`) sets its text
    vertically (``a:bodyPr/@vert``)."""
    for shape in shapes:
        body = shape._element.find(".//" + qn("a:bodyPr"))
        if body is not None and body.get("vert") is not None:
            return body.get("vert") != "horz"
    return False


def inherited_insets(ph, chain: list | None = None) -> m.Insets:
    """Text insets as a shape inherits them (``a:bodyPr`` l/t/r/bIns): its own, else its
    layout's and master's placeholders' (``chain``, :func:`placeholder_chain`), else the
    defaults."""
    chain = chain if chain is not None else placeholder_chain(ph)
    return insets_of([shape._element for shape in chain])


def insets_of(elements: list) -> m.Insets:
    """:func:`inherited_insets` of a chain of shape elements (the shape's first): for each
    inset, the first ``a:bodyPr`` found in them that sets it, else the default."""
    bodies = [el.find(_ANY_BODY_PR) for el in elements]
    values = []
    for attr, default in (("lIns", _DEFAULT_INSETS.left_emu), ("tIns", _DEFAULT_INSETS.top_emu),
                          ("rIns", _DEFAULT_INSETS.right_emu),
                          ("bIns", _DEFAULT_INSETS.bottom_emu)):
        found = next((int(body.get(attr)) for body in bodies
                      if body is not None and body.get(attr) is not None), None)
        values.append(default if found is None else found)
    return m.Insets(*values)


def _level_one(ph, kind: str, shapes: list) -> list:
    """The ``a:lvl1pPr`` elements first-level text of the placeholder inherits, nearest first:
    its own list style, its layout's and master's placeholders' (``shapes``: its
    :func:`placeholder_chain`), the master's text style."""
    found = []
    for shape in shapes:
        lvl = shape._element.find(".//" + qn("a:lstStyle") + "/" + qn("a:lvl1pPr"))
        if lvl is not None:
            found.append(lvl)
    master = getattr(ph.part, "slide_master", None)
    styles = master._element.find(qn("p:txStyles")) if master is not None else None
    style = {"title": "p:titleStyle", "ctrTitle": "p:titleStyle", "ftr": "p:otherStyle",
             "dt": "p:otherStyle", "sldNum": "p:otherStyle"}.get(kind, "p:bodyStyle")
    lvl = styles.find(qn(style) + "/" + qn("a:lvl1pPr")) if styles is not None else None
    return found + ([lvl] if lvl is not None else [])


def _size_pt(chain: list) -> float | None:
    for lvl in chain:
        rpr = lvl.find(qn("a:defRPr"))
        if rpr is not None and rpr.get("sz"):
            return int(rpr.get("sz")) / 100
    return None


def _line_spacing(chain: list) -> float:
    """The inherited line spacing as a factor of single spacing (at least 1)."""
    for lvl in chain:
        pct = lvl.find(qn("a:lnSpc") + "/" + qn("a:spcPct"))
        if pct is not None:
            return max(1.0, int(pct.get("val")) / 100000)
        if lvl.find(qn("a:lnSpc")) is not None:  # exact points: measured as single
            return 1.0
    return 1.0


def theme_fonts(prs) -> m.ThemeFonts:
    """The theme's heading and body typefaces, Latin and East Asian (Korean where given)."""
    master = prs.slide_masters[0]
    try:
        theme = etree.fromstring(master.part.part_related_by(RT.THEME).blob)
    except KeyError:
        return fonts_of_theme(None)
    return fonts_of_theme(theme)


def fonts_of_theme(theme: etree._Element | None) -> m.ThemeFonts:
    """:func:`theme_fonts` from the theme part's root element (None: no theme part)."""
    if theme is None:
        return m.ThemeFonts("Arial", "Arial", "", "")

    def faces(which: str) -> tuple[str, str]:
        font = theme.find(".//" + qn("a:fontScheme") + "/" + qn(f"a:{which}"))
        if font is None:
            return "", ""
        latin = font.find(qn("a:latin"))
        hangul = next((f.get("typeface") for f in font.findall(qn("a:font"))
                       if f.get("script") == "Hang"), None)
        ea = font.find(qn("a:ea"))
        return ((latin.get("typeface") if latin is not None else "") or "",
                hangul or (ea.get("typeface") if ea is not None else "") or "")

    major, minor = faces("majorFont"), faces("minorFont")
    return m.ThemeFonts(major[0], minor[0], major[1], minor[1])
