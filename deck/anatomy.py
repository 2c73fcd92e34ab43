"""A deck as read back from any .pptx: its slides and shapes, the identity each carries (see
:mod:`deck.identity`), their text, boxes and signatures.

A signature is a shape part's XML with what applications rewrite on every save taken out
(``dirty``/``err`` marks, extension lists with their creation ids, run splits that change
nothing), so that two signatures differ only where someone changed something. The merge
(:mod:`deck.merge`) and the diff (:mod:`deck.diff`) read decks through this module.
"""

from __future__ import annotations

import copy
import hashlib
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree
from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.oxml.ns import qn

from .diagnostics import Diagnostic, UserError
from .identity import ShapeId, SlideId, parse_shape_name

#: attributes applications set on their own (spelling, edit marks): never a hand edit
_VOLATILE = frozenset({"dirty", "err", "smtClean", "smtId", "noProof", "bmk", "checked"})
#: relationship ids and shape ids: numbering that differs from deck to deck, not content
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EXT_LISTS = (qn("a:extLst"), qn("p:extLst"), qn("c:extLst"))
_TITLE_TYPES = frozenset({"title", "ctrTitle"})


def open_deck(data: bytes, name: str, field_name: str = ""):
    """A python-pptx presentation of a deck's bytes; bad input (not a deck) is the user's."""
    try:
        return Presentation(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError,
            etree.XMLSyntaxError) as exc:
        raise UserError([Diagnostic(name, None, field_name, (
            f"not a PowerPoint deck that can be read; expected a .pptx file, got "
            f"{type(exc).__name__}: {exc}"))]) from None


@dataclass
class ShapeView:
    """One shape of a slide: the python-pptx shape, and the identity its name carries."""

    shape: object  # a python-pptx shape
    ident: ShapeId | None

    @property
    def element(self) -> etree._Element:
        return self.shape._element

    @property
    def name(self) -> str:
        return self.shape.name

    @property
    def kind(self) -> str:
        """text, table, chart, group, picture or other."""
        return shape_kind(self.element)

    @property
    def placeholder_type(self) -> str | None:
        """The placeholder's type (``title``, ``body``...; ``obj`` if unstated), or None."""
        ph = self.element.find(f"./*[1]/{qn('p:nvPr')}/{qn('p:ph')}")
        return None if ph is None else ph.get("type", "obj")

    def text(self) -> str:
        """What the shape shows as text: its paragraphs, a table's rows, a chart's series."""
        if self.kind == "table":
            return "\n".join(unit_text(tr) for tr in self.element.iter(qn("a:tr")))
        if self.kind == "chart":
            return chart_text(self.shape.chart_part._element)
        return shape_text(self.element)

    def box(self) -> tuple[int, int, int, int] | None:
        """left, top, width, height in EMU (inherited from the layout where not set)."""
        try:
            values = (self.shape.left, self.shape.top, self.shape.width, self.shape.height)
        except (AttributeError, KeyError):
            return None
        return None if None in values else tuple(int(v) for v in values)


@dataclass
class SlideView:
    """One slide: its position (1-based), identity and shapes.

    ``roles`` holds the generated shapes of this slide by role; ``extras`` every other shape
    (added by hand, pasted from another slide, or a second copy of a generated one).
    ``copy_of`` is set on a slide that repeats an earlier slide's identity (a duplicate made
    by hand): it has no identity of its own.
    """

    number: int
    slide: object  # a python-pptx slide
    ident: SlideId | None
    shapes: list[ShapeView]
    roles: dict[str, ShapeView] = field(default_factory=dict)
    extras: list[ShapeView] = field(default_factory=list)
    copy_of: SlideId | None = None

    @property
    def title(self) -> str:
        """The text of the title shape (generated or not), or ''."""
        shape = self.roles.get("title") or next(
            (s for s in self.shapes if s.placeholder_type in _TITLE_TYPES), None)
        return shape_text(shape.element) if shape else ""

    def label(self) -> str:
        """How a report names the slide: its identity, else its title (or first text)."""
        if self.ident is not None:
            return str(self.ident)
        text = self.title or next((t for s in self.shapes if (t := shape_text(s.element))), "")
        text = " ".join(text.split())
        return f"«{text[:60]}»" if text else "(no text)"

    def notes_body(self) -> etree._Element | None:
        """The speaker notes' text body, if the slide has notes."""
        if not self.slide.has_notes_slide:
            return None
        placeholder = self.slide.notes_slide.notes_placeholder
        return None if placeholder is None else placeholder._element.find(qn("p:txBody"))


def read_slides(prs) -> list[SlideView]:
    """Every slide of a python-pptx presentation, with identities resolved: a slide takes the
    identity of its generated title (else of most of its generated shapes); a later slide
    with an identity already taken is a copy made by hand."""
    views = []
    seen: set[SlideId] = set()
    for number, slide in enumerate(prs.slides, start=1):
        shapes = [ShapeView(s, parse_shape_name(s.name)) for s in slide.shapes]
        ident = _slide_identity(shapes)
        view = SlideView(number, slide, ident, shapes)
        if ident is not None and ident in seen:
            view.ident, view.copy_of = None, ident
        seen.add(ident) if ident is not None else None
        for s in shapes:
            mine = view.ident is not None and s.ident is not None and s.ident.slide == view.ident
            if mine and s.ident.role not in view.roles:
                view.roles[s.ident.role] = s
            else:
                view.extras.append(s)
        views.append(view)
    return views


def _slide_identity(shapes: list[ShapeView]) -> SlideId | None:
    titles = [s.ident.slide for s in shapes if s.ident and s.ident.role == "title"]
    if titles:
        return titles[0]
    counts = Counter(s.ident.slide for s in shapes if s.ident)
    return counts.most_common(1)[0][0] if counts else None


def shape_kind(el: etree._Element) -> str:
    """What a shape element is: text, table, chart, group, picture or other."""
    tag = etree.QName(el).localname
    if tag == "sp":
        return "text" if el.find(qn("p:txBody")) is not None else "other"
    if tag == "grpSp":
        return "group"
    if tag == "pic":
        return "picture"
    if tag == "graphicFrame":
        uri = el.find(f"{qn('a:graphic')}/{qn('a:graphicData')}")
        kind = (uri.get("uri") or "").rsplit("/", 1)[-1] if uri is not None else ""
        return {"table": "table", "chart": "chart"}.get(kind, "other")
    return "other"


# ------------------------------------------------------------------------------------------
# text


def paragraph_text(p: etree._Element) -> str:
    """A paragraph's text (runs and fields; line breaks as newlines)."""
    parts = []
    for el in p.iter(qn("a:t"), qn("a:br")):
        parts.append("\n" if el.tag == qn("a:br") else (el.text or ""))
    return "".join(parts)


def paragraphs(el: etree._Element) -> list[etree._Element]:
    """The paragraphs of a text body, a shape, or a whole group, in order."""
    return list(el.iter(qn("a:p")))


def shape_text(el: etree._Element) -> str:
    """All text of a shape (a table's cells, a group's boxes), one paragraph per line."""
    return "\n".join(paragraph_text(p) for p in paragraphs(el))


def quote(text: str, limit: int = 80) -> str:
    """Text as a report shows it: on one line, shortened.

    >>> quote("a\\nb"), quote("x" * 90)[-2:]
    ('«a / b»', '…»')
    """
    flat = " / ".join(line.strip() for line in text.replace("\v", "\n").splitlines()
                      if line.strip())
    return f"«{flat[:limit] + '…' if len(flat) > limit else flat}»"


def chart_text(space: etree._Element) -> str:
    """A chart's series as text: ``name: category value, ...`` per series, one per line."""
    lines = []
    for ser in space.iter(qn("c:ser")):
        name = ser.find(qn("c:tx"))
        cats = [v.text for v in ser.find(qn("c:cat")).iter(qn("c:v"))] \
            if ser.find(qn("c:cat")) is not None else []
        vals = [v.text for v in ser.find(qn("c:val")).iter(qn("c:v"))] \
            if ser.find(qn("c:val")) is not None else []
        pairs = [f"{c} {v}" for c, v in zip(cats, vals, strict=False)] if cats else vals
        title = "".join(v.text or "" for v in name.iter(qn("c:v"))) if name is not None else ""
        lines.append(f"{title}: " + ", ".join(pairs))
    return "\n".join(lines)


def unit_text(unit: etree._Element) -> str:
    """A paragraph's text, or a table row's cells joined by ' | '."""
    if unit.tag == qn("a:tr"):
        return " | ".join(shape_text(tc) for tc in unit.iter(qn("a:tc")))
    return shape_text(unit)


# ------------------------------------------------------------------------------------------
# signatures


def signature(*elements: etree._Element | None) -> str:
    """What the elements say, without what applications rewrite on every save; equal
    signatures mean nobody changed them. Missing elements sign as empty."""
    out = []
    for el in elements:
        if el is None:
            out.append("-")
            continue
        clean = copy.deepcopy(el)
        _scrub(clean)
        out.append(etree.tostring(clean, method="c14n").decode())
    return "\n".join(out)


def _scrub(el: etree._Element) -> None:
    for ext in [e for e in el.iter(*_EXT_LISTS)]:
        ext.getparent().remove(ext)
    for end in [e for e in el.iter(qn("a:endParaRPr"))]:
        end.getparent().remove(end)  # the size of an empty line, rewritten freely
    for node in el.iter():
        for attr in [a for a in node.attrib if etree.QName(a).localname in _VOLATILE
                     or etree.QName(a).namespace == _R_NS]:
            del node.attrib[attr]
    for c_nv_pr in el.iter(qn("p:cNvPr")):
        c_nv_pr.attrib.pop("id", None)
    for p in el.iter(qn("a:p")):
        _join_runs(p)


def _join_runs(p: etree._Element) -> None:
    """Adjacent runs with the same properties as one run: a split changes nothing shown."""
    prev = None
    for run in p.findall(qn("a:r")):
        if prev is not None and prev.getnext() is run and \
                signature_of(prev.find(qn("a:rPr"))) == signature_of(run.find(qn("a:rPr"))):
            text = prev.find(qn("a:t"))
            text.text = (text.text or "") + (run.find(qn("a:t")).text or "")
            p.remove(run)
            continue
        prev = run


def signature_of(el: etree._Element | None) -> str:
    """The plain c14n of one element (no scrubbing), '' for none."""
    return "" if el is None else etree.tostring(el, method="c14n").decode()


def digest(data: bytes) -> str:
    """The SHA-256 of some bytes (an image's), in hex."""
    return hashlib.sha256(data).hexdigest()
