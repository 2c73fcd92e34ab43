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
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pydantic import BaseModel, ConfigDict, create_model

from . import model as m
from .diagnostics import Diagnostic, Diagnostics, UserError
from .files import Roots, read_bytes, read_text
from .outline import LAYOUTS
from .yamlsrc import line_of, read_yaml, validate

_DEFAULT_INSETS = m.Insets(91440, 45720, 91440, 45720)


#: The template layout that serves each logical layout of an outline (one field per layout).
LayoutNames = create_model("LayoutNames", __config__=ConfigDict(extra="forbid", frozen=True),
                           **{name: (str, ...) for name in LAYOUTS})


class Mapping(BaseModel):
    """A template's mapping file (``<template>.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layouts: LayoutNames  # type: ignore[valid-type]


@dataclass(frozen=True)
class Template:
    """A template read once: its bytes and digest, every layout's geometry, its theme fonts,
    the mapping of logical layouts to its layouts, and where that mapping lies."""

    path: Path
    data: bytes
    digest: str
    info: m.MasterInfo
    mapping_path: Path
    mapping_lines: dict[tuple, int]

    def mapping_line(self, logical: str) -> int | None:
        return line_of(self.mapping_lines, ("layouts", logical))


def mapping_path(template: Path) -> Path:
    return template.with_suffix(".yaml")


@dataclass(frozen=True)
class TemplateSources:
    """A template's bytes and its mapping's text, as read (a session keys its memo on them)."""

    path: Path
    data: bytes
    mapping: str


def read_template_sources(path: Path, roots: Roots | None = None) -> TemplateSources:
    """Read a template (named by the user: anywhere, at most 50 MB) and its mapping beside
    it (inside ``roots``, links resolved first)."""
    data = read_bytes(path, "template", "--template")
    mapping = mapping_path(path)
    if not os.path.lexists(mapping):
        raise UserError([Diagnostic(str(mapping), None, "layouts", "template mapping not "
                                    "found; expected a YAML file next to the template mapping "
                                    f"{', '.join(LAYOUTS)} to layout names")])
    real = roots.confine(mapping, "template mapping", "layouts") if roots else mapping
    return TemplateSources(path, data, read_text(real, "template mapping", "layouts",
                                                 shown=str(mapping)))


def read_template(path: Path | TemplateSources, roots: Roots | None = None) -> Template:
    """Open a template and its mapping; raise :class:`UserError` with every problem."""
    sources = path if isinstance(path, TemplateSources) else read_template_sources(path, roots)
    path, data = sources.path, sources.data
    _refuse_zip_bomb(path, data)
    try:
        prs = Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx raises many kinds for a broken package
        raise UserError([Diagnostic(str(path), None, "--template",
                                    f"not a usable .pptx; expected a PowerPoint template, got "
                                    f"{type(exc).__name__}: {exc}")]) from None
    names, lines = read_mapping(mapping_path(path), sources.mapping)
    layouts = [_layout_info(layout, i, j) for i, master in enumerate(prs.slide_masters)
               for j, layout in enumerate(master.slide_layouts)]
    by_name: dict[str, m.LayoutInfo] = {}
    for info in layouts:
        by_name.setdefault(info.name, info)
    problems = Diagnostics()
    chosen = []
    for logical in LAYOUTS:
        name = getattr(names, logical)
        if name in by_name:
            chosen.append((logical, by_name[name]))
        else:
            problems.error(str(mapping_path(path)), line_of(lines, ("layouts", logical)),
                           f"layouts.{logical}", f"couldn't find layout named {name!r} in the "
                           f"template; expected one of {sorted(by_name)}")
    if problems.errors:
        raise UserError(problems.errors)
    info = m.MasterInfo(int(prs.slide_width), int(prs.slide_height), theme_fonts(prs),
                        tuple(chosen))
    return Template(path, data, hashlib.sha256(data).hexdigest(), info, mapping_path(path),
                    lines)


#: what a template may hold once unzipped: python-pptx reads every part into memory
MAX_UNZIPPED = 200 * 2**20


def _refuse_zip_bomb(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            size = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError([Diagnostic(str(path), None, "--template", f"not a usable .pptx; "
                                    f"expected a PowerPoint template, got {exc}")]) from None
    if size > MAX_UNZIPPED:
        raise UserError([Diagnostic(str(path), None, "--template", (
            f"too large once unzipped; expected at most {MAX_UNZIPPED // 2**20} MB, got "
            f"{size // 2**20} MB (a zip bomb?)"))])


def read_mapping(path: Path, text: str) -> tuple[BaseModel, dict[tuple, int]]:
    """Validate a template's mapping file (``text`` read from ``path``)."""
    diags = Diagnostics()
    raw, lines = read_yaml(text, str(path), diags)
    mapping = validate(Mapping, raw, lines, str(path), diags)
    if mapping is None or diags.errors:
        raise UserError(diags.errors)
    return mapping.layouts, lines


# ------------------------------------------------------------------------------------------


def _layout_info(layout, master_index: int, index: int) -> m.LayoutInfo:
    slots = []
    for ordinal, ph in enumerate(layout.placeholders):
        pf = ph.placeholder_format
        el = ph._element.find(".//" + qn("p:ph"))
        kind = el.get("type") or "obj"
        box = m.Box(int(ph.left or 0), int(ph.top or 0), int(ph.width or 0), int(ph.height or 0))
        chain = _level_one(ph, kind)
        slots.append(m.Slot(kind, pf.idx, ordinal, box, inherited_insets(ph), _size_pt(chain),
                            _line_spacing(chain)))
    return m.LayoutInfo(m.LayoutRef(layout.name, master_index, index), tuple(slots))


def placeholder_chain(ph) -> list:
    """The placeholder and the placeholders it inherits from (layout, then master). Each
    step searches a layout's shapes: compute it once per shape."""
    out = [ph]
    while (base := getattr(out[-1], "_base_placeholder", None)) is not None:
        out.append(base)
    return out


def inherited_insets(ph, chain: list | None = None) -> m.Insets:
    """Text insets as a shape inherits them (``a:bodyPr`` l/t/r/bIns): its own, else its
    layout's and master's placeholders' (``chain``, :func:`placeholder_chain`), else the
    defaults."""
    chain = chain if chain is not None else placeholder_chain(ph)
    values = []
    for attr, default in (("lIns", _DEFAULT_INSETS.left_emu), ("tIns", _DEFAULT_INSETS.top_emu),
                          ("rIns", _DEFAULT_INSETS.right_emu),
                          ("bIns", _DEFAULT_INSETS.bottom_emu)):
        found = None
        for shape in chain:
            body = shape._element.find(".//" + qn("a:bodyPr"))
            if body is not None and body.get(attr) is not None:
                found = int(body.get(attr))
                break
        values.append(default if found is None else found)
    return m.Insets(*values)


def _level_one(ph, kind: str) -> list:
    """The ``a:lvl1pPr`` elements first-level text of the placeholder inherits, nearest first:
    its own list style, its layout's and master's placeholders', the master's text style."""
    found = []
    for shape in placeholder_chain(ph):
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
