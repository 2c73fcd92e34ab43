"""Three-way merge of a deck edited by hand with the new build: base (the deck as built, kept
in ``out/.deck/``), edited (on disk) and new (from today's data), slide by slide and shape by
shape, matched by the identity every generated shape carries (:mod:`deck.identity`).

The edited deck is the skeleton of the result, so whatever the user did that deck knows nothing
of (slides and shapes added, transitions, comments, their own master edits) stays as it is.
Into it go the data's changes: text, chart data, slides the data added or removed. Per unit (a
paragraph, a table row): changed by hand only -> kept; by the data only -> the new one; by both
-> the new one in the shape and the hand's in the slide's speaker notes under a marked heading.
Per facet of a shape (position, look, text frame): the hand's if it changed, else the data's.
Charts take the data's series, keeping a look the user gave them. Slides deleted by hand stay
deleted, slides added by hand stay after the slide they followed, a hand order is kept.
Every decision is recorded; :func:`merge_decks` returns them with the merged bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pptx import Presentation

from . import graft
from .anatomy import (
    ShapeView,
    SlideView,
    chart_text,
    open_deck,
    quote,
    read_slides,
    shape_text,
    signature,
    unit_text,
)
from .diagnostics import Diagnostic, UserError
from .identity import SlideId, parse_shape_name
from .merge3 import Merged, merge_units

DecisionKind = Literal["hand", "data", "conflict", "note"]
#: roles not merged: the slide number is a live field every viewer recomputes
_UNMERGED = frozenset({"number"})


@dataclass(frozen=True)
class Decision:
    """One thing the merge did: whose change it kept, where, and what."""

    kind: DecisionKind
    where: str  # "slide 5 title", "slide 9 as built", "slide order"
    text: str

    def line(self) -> str:
        label = {"hand": "kept yours", "data": "from data", "conflict": "CONFLICT",
                 "note": "note"}[self.kind]
        return f"{self.where}: {label}: {self.text}"


@dataclass(frozen=True)
class MergeOutcome:
    """The merged deck and every decision taken."""

    data: bytes
    decisions: tuple[Decision, ...]

    @property
    def hand_edits(self) -> int:
        return sum(d.kind == "hand" for d in self.decisions)

    @property
    def conflicts(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.kind == "conflict")

    def summary(self) -> str:
        """``merged 7 hand edits, 1 conflict (slide 5 title)``."""
        n, c = self.hand_edits, self.conflicts
        text = f"merged {n} hand edit{'s' if n != 1 else ''}, {len(c)} conflict"
        text += "s" if len(c) != 1 else ""
        if c:
            text += " (" + ", ".join(d.where for d in c[:5]) + (", ..." if len(c) > 5 else "")
            text += ")"
        return text

    def report(self, deck: object, base: object, backup: object, data: object) -> str:
        """The merge report: where everything came from, then every decision, conflicts
        first (each says where the user's version is)."""
        lines = [f"deck --merge: {deck}",
                 f"  the deck as built (base): {base} (now holding this new build)",
                 f"  your deck before merging: {backup}", f"  new build from:           {data}",
                 "", self.summary(), ""]
        for kind, title in _SECTIONS:
            items = [d for d in self.decisions if d.kind == kind]
            if items:
                lines += [title] + [f"  {d.where}: {d.text}" for d in items] + [""]
        return "\n".join(lines)


_SECTIONS = (("conflict", "Conflicts (the slide shows the data's version; yours is where the "
                          "line says):"),
             ("hand", "Your edits, kept:"), ("data", "From the data:"), ("note", "Notes:"))


def merge_decks(base: bytes, edited: bytes, new: bytes, *, name: str, heading: str,
                lang: str) -> MergeOutcome:
    """Merge the hand edits of ``edited`` (made to ``base``) with the data's (``base`` ->
    ``new``). ``heading`` marks the hand's versions of conflicting text in the speaker notes
    (in the deck's language, ``lang``). An edited deck identical to its base is simply the new
    build.

    Raises :class:`UserError` (naming ``name``) when the edited deck's shapes lost the names
    that identify them: merging would then be guessing.
    """
    if edited == base:
        return MergeOutcome(new, ())
    merge = _Merge(base, edited, new, name)
    merge.run()
    return merge.outcome(heading, lang)


# ------------------------------------------------------------------------------------------
# the record of decisions


@dataclass
class _Entry:
    kind: DecisionKind
    slide: object | None  # the output slide's part; None for a slide not in the result
    where: str  # the role, or the whole place for a slide not in the result
    text: str


@dataclass
class _Ledger:
    entries: list[_Entry] = field(default_factory=list)
    notes: dict[object, list[str]] = field(default_factory=dict)  # slide part -> lines

    def add(self, kind: DecisionKind, slide, where: str, text: str) -> None:
        self.entries.append(_Entry(kind, slide.part if slide is not None else None, where,
                                   text))

    def conflict(self, slide, where: str, text: str, hand: str) -> None:
        """A conflict whose hand version goes into the slide's speaker notes."""
        self.add("conflict", slide, where, text + "; your version is in this slide's "
                 "speaker notes")
        self.notes.setdefault(slide.part, []).append(f"{where}: {hand}")

    def decisions(self, order: list) -> tuple[Decision, ...]:
        """Every entry, placed: conflicts first, then the hand's, the data's, notes; within
        each, by slide."""
        position = {slide.part: n for n, slide in enumerate(order, start=1)}
        rank = {"conflict": 0, "hand": 1, "data": 2, "note": 3}
        out = []
        for k, e in enumerate(self.entries):
            n = position.get(e.slide, len(order) + 1)
            where = e.where if e.slide is None else \
                f"slide {n}" + (f" {e.where}" if e.where else "")
            out.append(((rank[e.kind], n, k), Decision(e.kind, where, e.text)))
        return tuple(d for _, d in sorted(out, key=lambda x: x[0]))


# ------------------------------------------------------------------------------------------
# one slot of units: a role's paragraphs or rows on one continuation slide


@dataclass
class _Slot:
    part: int
    base: list
    hand: list
    data: list
    hand_part: object | None
    data_part: object | None
    out: object | None  # where the merged units go (a text body or table); None: nowhere
    out_slide: object | None  # the slide they are on
    out_part: object | None  # the part holding ``out`` (the slide's, or its notes')
    merged: Merged | None = None
    taken: dict[int, tuple] = field(default_factory=dict)  # data pick -> (element, part)
    moved: set[int] = field(default_factory=set)  # base units the data moved to another slot
    moved_in: set[int] = field(default_factory=set)  # data picks the data moved from another

    def sigs(self, side: str) -> list[str]:
        return [signature(u) for u in getattr(self, side)]


class _Merge:
    """One merge: the three decks, their slides by identity, and the ledger."""

    def __init__(self, base: bytes, edited: bytes, new: bytes, name: str):
        self.name = name
        self.prs = open_deck(edited, name)
        self.base_prs = Presentation(io.BytesIO(base))
        self.new_prs = Presentation(io.BytesIO(new))
        self.B, self.E, self.N = (read_slides(p) for p in (self.base_prs, self.prs,
                                                           self.new_prs))
        self.ledger = _Ledger()
        self.gone: list = []  # output slides removed
        self.added: list[tuple[SlideId, object]] = []  # slides copied in from the new build
        known = {v.ident for v in self.B}
        for view in self.E:
            if view.ident is not None and view.ident not in known:
                view.ident, view.extras, view.roles = None, view.shapes, {}
        _check_identity(self.B, self.E, name)

    # -- slides -----------------------------------------------------------------------------

    def run(self) -> None:
        """Merge every outline key (the new build's order, then keys only the base has),
        then put the slides in order."""
        keys = list(dict.fromkeys([v.ident.key for v in self.N] + [v.ident.key for v in self.B]))
        for key in keys:
            self._merge_key(key)
        self._order()

    def _parts(self, views: list[SlideView], key: str) -> dict[int, SlideView]:
        return {v.ident.part: v for v in views if v.ident is not None and v.ident.key == key}

    def _merge_key(self, key: str) -> None:
        B, E, N = (self._parts(v, key) for v in (self.B, self.E, self.N))
        if not B:
            for p in sorted(N):
                self._add_slide(N[p], "a new slide from the data")
            return
        if not E:
            for p in sorted(B):
                self._deleted_slide(B[p], N.get(p))
            for p in sorted(set(N) - set(B)):
                self.ledger.add("hand", None, f"new slide {N[p].label()}", (
                    "not added: you deleted every slide of "
                    f"{key!r} (it continues them)"))
            return
        out: dict[int, object] = {}
        for p in sorted(set(B) | set(N)):
            if p in E:
                out[p] = E[p].slide
            elif p in B:
                self._deleted_slide(B[p], N.get(p))
            else:
                out[p] = self._add_slide(N[p], "the text grew onto a new slide")
        keep: set[int] = set()
        roles = {r for views in (B, E, N) for v in views.values() for r in v.roles}
        for role in sorted(roles - _UNMERGED) + ["notes"]:
            self._merge_role(role, B, E, N, out, keep)
        for p in sorted(set(E) - set(N)):
            self._retire(E[p], p in keep)

    def _add_slide(self, view: SlideView, why: str):
        layout = graft.layout_named(self.prs, view.slide.slide_layout.name)
        if layout is None:
            raise UserError([Diagnostic(self.name, None, "", (
                f"has no layout named {view.slide.slide_layout.name!r} for the data's new "
                f"slide {view.label()}; expected the layouts of the deck as built, got "
                f"{sorted({la.name for m in self.prs.slide_masters for la in m.slide_layouts})}"
                "; nothing was merged"))])
        slide = graft.copy_slide(view.slide, self.prs, layout)
        self.added.append((view.ident, slide))
        self.ledger.add("data", slide, "", f"added {quote(view.title)} ({why})")
        return slide

    def _deleted_slide(self, base: SlideView, new: SlideView | None) -> None:
        where = f"slide {base.number} as built ({base.label()})"
        changed = _slide_changes(base, new) if new is not None else []
        text = "you deleted it; it stays deleted" + (
            f" (the data has changed it since: {'; '.join(changed)})" if changed
            else "" if new is not None else " (the data no longer has it either)")
        self.ledger.add("hand", None, where, text)

    def _retire(self, view: SlideView, keep: bool) -> None:
        """A slide the data no longer makes: gone, unless it holds what the user typed."""
        if keep or view.extras:
            self.ledger.add("conflict", view.slide, "", (
                "the data no longer makes this slide; kept because it has your edits or "
                "additions (delete it yourself if it is no longer wanted)"))
            return
        graft.remove_slide(self.prs, view.slide)
        self.gone.append(view.slide)
        self.ledger.add("data", None, f"slide {view.number} as edited ({view.label()})",
                        "removed: the data no longer makes it (its text moved or went)")

    # -- roles ------------------------------------------------------------------------------

    def _merge_role(self, role: str, B, E, N, out, keep: set[int]) -> None:
        slots = []
        for p in sorted(set(B) | set(E) | set(N)):
            slot = self._slot(role, p, B.get(p), E.get(p), N.get(p), out.get(p))
            if slot is not None:
                slot.merged = merge_units(slot.sigs("base"), slot.sigs("hand"),
                                          slot.sigs("data"))
                slots.append(slot)
        _relocate(slots, self.ledger, role)
        _repaginated(slots)
        for slot in slots:
            if slot.out is None:
                if _typed_by_hand(slot):
                    keep.add(slot.part)
                continue
            self._write_units(role, slot)

    def _slot(self, role: str, p: int, b: SlideView | None, e: SlideView | None,
              n: SlideView | None, out_slide) -> _Slot | None:
        """The units of ``role`` on continuation slide ``p``, with where they go."""
        if role == "notes":
            return self._notes_slot(p, b, e, n)
        if b is None:  # a slide copied in from the new build: may receive moved hand edits
            shape = _role_in(out_slide, role) if out_slide is not None else None
            return _unit_slot(p, None, None, shape, None, out_slide, shape)
        if e is None:
            return None  # deleted by hand, recorded with the slide
        bs, es = b.roles.get(role), e.roles.get(role)
        ns = n.roles.get(role) if n is not None else None
        if n is None:  # the slide goes: its units only show what the hand typed there
            return _unit_slot(p, bs, es, None, e.slide.part, None, None) if es else None
        if bs is None:
            return self._added_shape(role, p, e, n, es, ns)
        if es is None:
            self._deleted_shape(role, e, bs, ns)
            return None
        if ns is None:
            self._removed_shape(role, e, bs, es)
            return None
        self._merge_facets(role, b, e, n, bs, es, ns)
        return _unit_slot(p, bs, es, ns, e.slide.part, e.slide, es, data_part=n.slide.part)

    def _added_shape(self, role: str, p: int, e: SlideView, n: SlideView,
                     es: ShapeView | None, ns: ShapeView | None) -> _Slot | None:
        """A shape the data adds to a slide the hand kept (a side text that now has bullets)."""
        if ns is None or es is not None:
            return None  # es without a base: the user's own shape of that name, left alone
        tree = list(n.slide.shapes._spTree)
        before = [el for el in tree[2:tree.index(ns.element)]]
        after = next((e.roles[s.ident.role].element for s in reversed(n.shapes)
                      if s.element in before and s.ident and s.ident.role in e.roles), None)
        el = graft.import_element(ns.element, n.slide.part, e.slide.part)
        graft.insert_shape(e.slide, el, after)
        self.ledger.add("data", e.slide, role, f"added {quote(shape_text(el))}")
        shape = _role_in(e.slide, role)
        return _unit_slot(p, None, None, shape, None, e.slide, shape)

    def _notes_slot(self, p, b, e, n) -> _Slot | None:
        if b is None or e is None or n is None:
            return None
        if e.notes_body() is None and n.notes_body() is None:
            return None
        part = e.slide.notes_slide.part  # made if the slide had none
        body = e.notes_body()
        if body is None:
            return None
        data_part = n.slide.notes_slide.part if n.slide.has_notes_slide else None
        return _Slot(p, graft.units(b.notes_body()), graft.units(body),
                     graft.units(n.notes_body()), part, data_part, body, e.slide, part)

    def _deleted_shape(self, role: str, e: SlideView, bs: ShapeView, ns: ShapeView | None):
        changed = ns is not None and shape_text(bs.element) != shape_text(ns.element)
        self.ledger.add("hand", e.slide, role, "you deleted it; it stays deleted" + (
            f" (the data changed it to {quote(shape_text(ns.element))})" if changed else ""))

    def _removed_shape(self, role: str, e: SlideView, bs: ShapeView, es: ShapeView) -> None:
        if signature(bs.element) == signature(es.element):
            es.element.getparent().remove(es.element)
            self.ledger.add("data", e.slide, role, "removed: the data no longer makes it")
            return
        self.ledger.add("conflict", e.slide, role, "the data no longer makes it; kept "
                        "because you edited it")

    def _merge_facets(self, role: str, b, e, n, bs, es, ns) -> None:
        kind = es.kind
        if kind != bs.kind or kind != ns.kind:
            return
        for facet in graft.facet_names(kind):
            sb, se, sn = (graft.facet_signature(s.element, kind, facet, v.slide.part)
                          for s, v in ((bs, b), (es, e), (ns, n)))
            if se != sb:
                self.ledger.add("hand", e.slide, role, f"your {_FACET_WORDS[facet]}")
            elif sn != sb:
                graft.replace_facet(es.element, ns.element, kind, facet, n.slide.part,
                                    e.slide.part)
                self.ledger.add("data", e.slide, role, f"{_FACET_WORDS[facet]} of the new "
                                "build")
        if kind == "chart":
            self._merge_chart(role, b, e, n, bs, es, ns)

    def _merge_chart(self, role: str, b, e, n, bs, es, ns) -> None:
        parts = [graft.chart_part(s.element, v.slide.part) for s, v in
                 ((bs, b), (es, e), (ns, n))]
        if None in parts:
            return
        (db, lb), (de, le), (dn, ln) = (graft.chart_signatures(c) for c in parts)
        if de != db and dn != db:
            self.ledger.conflict(e.slide, role, "you edited the chart's data and the data "
                                 "file changed it: the chart shows the new data",
                                 chart_text(parts[1]._element))
        elif de != db:
            self.ledger.add("hand", e.slide, role, "your chart data")
            return
        if le == lb or dn == db and ln == lb:
            if (dn, ln) != (db, lb):
                graft.replace_chart(parts[1], parts[2])
                self.ledger.add("data", e.slide, role, "chart from the new build")
            return
        self.ledger.add("hand", e.slide, role, "your chart formatting")
        if dn != db and not graft.replace_chart_data(parts[1], parts[2]):
            graft.replace_chart(parts[1], parts[2])
            self.ledger.add("conflict", e.slide, role, "the data changed the chart's series; "
                            "the new chart replaced your formatting (kept in the backup)")
        elif dn != db:
            self.ledger.add("data", e.slide, role, "chart data from the new build")

    # -- units ------------------------------------------------------------------------------

    def _write_units(self, role: str, slot: _Slot) -> None:
        merged = slot.merged
        elements = []
        for k, pick in enumerate(merged.picks):
            if pick.side == "hand":
                elements.append(slot.hand[pick.index])
            elif k in slot.taken:
                el, part = slot.taken[k]
                if el is not None:
                    elements.append(graft.import_element(el, part, slot.out_part))
            else:
                elements.append(graft.import_element(slot.data[pick.index], slot.data_part,
                                                     slot.out_part))
        self._record_units(role, slot, elements)
        graft.set_units(slot.out, elements)

    def _record_units(self, role: str, slot: _Slot, elements: list) -> None:
        merged, slide, ledger = slot.merged, slot.out_slide, self.ledger
        fresh = slot.base == [] and slot.hand == []  # a slide or shape just copied in
        for b, (hf, df) in enumerate(zip(merged.by_hand.fates, merged.by_data.fates,
                                         strict=True)):
            text = quote(unit_text(slot.base[b]))
            if hf.kind == "changed" and df.kind == "same":
                mine = unit_text(slot.hand[hf.index])
                ledger.add("hand", slide, role, f"your formatting of {text}" if
                           mine == unit_text(slot.base[b]) else
                           f"your {quote(mine)} (built as {text})")
            elif hf.kind == "deleted" and df.kind == "same":
                ledger.add("hand", slide, role, f"your deletion of {text}")
            elif hf.kind == "same" and df.kind == "changed":
                ledger.add("data", slide, role,
                           f"{text} -> {quote(unit_text(slot.data[df.index]))}")
            elif hf.kind == "same" and df.kind == "deleted" and b not in slot.moved:
                ledger.add("data", slide, role, f"removed {text}")
        for k, pick in enumerate(merged.picks):
            if pick.base is None and pick.kind == "hand":
                ledger.add("hand", slide, role,
                           f"your added {quote(unit_text(slot.hand[pick.index]))}")
            elif pick.base is None and pick.kind == "data" and not fresh and \
                    k not in slot.taken and k not in slot.moved_in:
                ledger.add("data", slide, role,
                           f"added {quote(unit_text(slot.data[pick.index]))}")
        if slot.moved_in and not fresh:
            n = len(slot.moved_in)
            ledger.add("data", slide, role, f"{n} {'row' if role == 'table' else 'paragraph'}"
                       f"{'s' if n > 1 else ''} moved here from the slide next to it (the "
                       "new build repaginated)")
        self._record_clashes(role, slot, elements)

    def _record_clashes(self, role: str, slot: _Slot, elements: list) -> None:
        for clash in slot.merged.clashes:
            base = slot.base[clash.base]
            if clash.kind == "kept_deleted":
                self.ledger.add("hand", slot.out_slide, role, (
                    f"your deletion of {quote(unit_text(base))} (the data changed it to "
                    f"{quote(unit_text(slot.data[clash.data]))})"))
                continue
            if clash.base in slot.moved:
                continue
            hand = slot.hand[clash.hand]
            if unit_text(hand) == unit_text(base):  # formatted by hand, nothing typed
                if clash.kind == "conflict" and self._carry(role, slot, clash, elements):
                    continue
                self.ledger.add("conflict", slot.out_slide, role, (
                    f"you formatted {quote(unit_text(base))} and the data "
                    + ("removed it" if clash.data is None else
                       f"reworded it to {quote(unit_text(slot.data[clash.data]))}")
                    + "; your formatting could not follow (it is in the backup)"))
                continue
            new = "" if clash.data is None else unit_text(slot.data[clash.data])
            what = (f"you changed {quote(unit_text(base))} to {quote(unit_text(hand))} and "
                    + (f"the data to {quote(new)}: the slide shows the data's"
                       if clash.kind == "conflict" else "the data removed it"))
            self.ledger.conflict(slot.out_slide, role, what, unit_text(hand))

    def _carry(self, role: str, slot: _Slot, clash, elements: list) -> bool:
        """A paragraph the hand only formatted and the data reworded: the new words with
        the hand's formatting, where the runs line up."""
        new = slot.data[clash.data]
        carried = graft.carry_formatting(slot.base[clash.base], slot.hand[clash.hand], new)
        if carried is None:
            return False
        imported = graft.import_element(carried, slot.data_part, slot.out_part)
        for k, el in enumerate(elements):
            if signature(el) == signature(new):
                elements[k] = imported
                self.ledger.add("data", slot.out_slide, role, (
                    f"{quote(unit_text(new))} from the data, with your formatting"))
                return True
        return False

    # -- order and result -------------------------------------------------------------------

    def _record_own(self) -> None:
        """What the user added: slides of their own, shapes of their own on our slides."""
        previous = None
        for view in self.E:
            if view.ident is None:
                after = f"after {previous.label()}" if previous else "at the start"
                what = f"a copy of {view.copy_of}" if view.copy_of else "your slide"
                self.ledger.add("hand", view.slide, "", f"{what} {view.label()}, kept {after}")
            else:
                for shape in view.extras:
                    self.ledger.add("hand", view.slide, "", f"your shape {shape.name!r} "
                                    f"{quote(shape_text(shape.element))}")
            previous = view

    def _order(self) -> None:
        self._record_own()
        present = [v for v in self.E if v.slide not in self.gone]
        order = _data_order(present, self.B, self.N, self.ledger)
        new_index = {v.ident: i for i, v in enumerate(self.N)}
        for ident, slide in sorted(self.added, key=lambda a: new_index[a[0]]):
            order.insert(_insert_at(order, ident, new_index), (ident, slide))
        graft.reorder_slides(self.prs, [slide for _, slide in order])
        self.order = [slide for _, slide in order]

    def outcome(self, heading: str, lang: str) -> MergeOutcome:
        """The hand's conflicting text into the speaker notes, then the merged bytes."""
        for slide in self.order:
            lines = self.ledger.notes.get(slide.part)
            if lines:
                graft.append_notes(slide, heading, lines, lang)
        buf = io.BytesIO()
        self.prs.save(buf)
        return MergeOutcome(buf.getvalue(), self.ledger.decisions(self.order))


_FACET_WORDS = {"position": "position and size", "look": "shape formatting",
                "style": "shape style", "text frame": "text frame settings",
                "table look": "table formatting and column widths", "image": "picture",
                "content": "diagram", "alt text": "alt text"}


# ------------------------------------------------------------------------------------------
# helpers


def _unit_slot(p: int, bs: ShapeView | None, es: ShapeView | None, ns: ShapeView | None,
               hand_part, out_slide, out: ShapeView | None, data_part=None) -> _Slot:
    """A slot of a shape's units. Without ``data_part`` the data's units are already in the
    output (a slide or shape just copied in)."""
    def of(s: ShapeView | None) -> list:
        return graft.units(graft.unit_container(s.element) if s is not None else None)

    part = out_slide.part if out_slide is not None else None
    return _Slot(p, of(bs), of(es), of(ns), hand_part, data_part or part,
                 graft.unit_container(out.element) if out is not None else None, out_slide,
                 part)


def _role_in(slide, role: str) -> ShapeView | None:
    for shape in slide.shapes:
        found = parse_shape_name(shape.name)
        if found is not None and found.role == role:
            return ShapeView(shape, found)
    return None


def _typed_by_hand(slot: _Slot) -> bool:
    """Whether a slot that is going away holds text the user typed that went nowhere."""
    m = slot.merged
    changed = any(f.kind == "changed" for f in m.by_hand.fates)
    added = any(m.by_hand.added)
    moved_all = all(b in slot.moved for b, f in enumerate(m.by_hand.fates)
                    if f.kind == "changed")
    return added or (changed and not moved_all)


def _relocate(slots: list[_Slot], ledger: _Ledger, role: str) -> None:
    """Hand edits of units the data moved to another continuation slide follow them there."""
    displaced: dict[str, tuple[_Slot, int]] = {}
    for slot in slots:
        for b, (hf, df) in enumerate(zip(slot.merged.by_hand.fates, slot.merged.by_data.fates,
                                         strict=True)):
            if df.kind == "deleted" and hf.kind != "same":
                displaced.setdefault(signature(slot.base[b]), (slot, b))
    for slot in slots:
        if slot.out is None:
            continue
        for k, pick in enumerate(slot.merged.picks):
            if pick.side != "data" or pick.base is not None:
                continue
            origin = displaced.pop(signature(slot.data[pick.index]), None)
            if origin is None or origin[0] is slot:
                continue
            source, b = origin
            fate = source.merged.by_hand.fates[b]
            el = None if fate.index is None else source.hand[fate.index]
            slot.taken[k] = (el, source.hand_part)
            source.moved.add(b)
            text = quote(unit_text(source.base[b]))
            ledger.add("hand", slot.out_slide, role, (
                f"your deletion of {text}, which the data moved to this slide"
                if el is None else f"your {quote(unit_text(el))}, which the data moved "
                "to this slide"))


def _repaginated(slots: list[_Slot]) -> None:
    """Units the data only moved to another continuation slide (the new build paginates
    differently): marked so the report says so once, not as removed here and added there."""
    gone: dict[str, tuple[_Slot, int]] = {}
    for slot in slots:
        for b, (hf, df) in enumerate(zip(slot.merged.by_hand.fates, slot.merged.by_data.fates,
                                         strict=True)):
            if df.kind == "deleted" and hf.kind == "same":
                gone.setdefault(signature(slot.base[b]), (slot, b))
    for slot in slots:
        for k, pick in enumerate(slot.merged.picks):
            if pick.side == "data" and pick.base is None and k not in slot.taken:
                origin = gone.get(signature(slot.data[pick.index]))
                if origin is not None and origin[0] is not slot:
                    slot.moved_in.add(k)
                    origin[0].moved.add(origin[1])


def _slide_changes(base: SlideView, new: SlideView) -> list[str]:
    """What the data changed on a slide, role by role, as a report says it (the base is
    replaced by the new build once the merge is saved, so a report cannot send the user to
    it)."""
    out = []
    for role in sorted((set(base.roles) | set(new.roles)) - _UNMERGED):
        before, after = (shape_text(v.roles[role].element).splitlines() if role in v.roles
                         else None for v in (base, new))
        if before == after:
            continue
        if after is None:
            out.append(f"{role} gone")
            continue
        lines = [x for x in after if x not in (before or [])]
        gone = [x for x in before or [] if x not in after]
        out.append(f"{role}: " + ", ".join([f"now {quote(x)}" for x in lines]
                                           + [f"no longer {quote(x)}" for x in gone]))
    return out


def _data_order(present: list[SlideView], B, N, ledger: _Ledger) -> list[tuple]:
    """The edited deck's slides in the order to keep: the hand's, unless the hand kept the
    built order and the data reordered slides (then the data's, each hand-added slide staying
    after the slide it followed)."""
    base_index = {v.ident: i for i, v in enumerate(B)}
    new_index = {v.ident: i for i, v in enumerate(N)}
    common = [v.ident for v in present if v.ident in base_index and v.ident in new_index]
    as_built = sorted(common, key=base_index.__getitem__)
    order = [(v.ident, v.slide) for v in present]
    if common != as_built:
        moved = ", ".join(str(i) for i in _moved(common, base_index))
        ledger.add("hand", None, "slide order", f"your order of the slides (you moved {moved})")
        return order
    if sorted(common, key=new_index.__getitem__) == common:
        return order
    blocks: list[list[tuple]] = [[]]
    for item in order:
        if item[0] is not None:
            blocks.append([])
        blocks[-1].append(item)
    lead, rest = blocks[0], blocks[1:]
    rest.sort(key=lambda blk: new_index.get(blk[0][0], len(new_index)))
    ledger.add("data", None, "slide order", "the data's new order of the slides")
    return lead + [item for blk in rest for item in blk]


def _moved(order: list, index: dict) -> list:
    """The items out of place: all but a longest run that keeps the original order.

    >>> _moved(["a", "d", "b", "c"], {"a": 0, "b": 1, "c": 2, "d": 3})
    ['d']
    """
    best: list[list] = []  # best[k]: a longest increasing run ending at item k
    for k, item in enumerate(order):
        runs = [best[j] for j in range(k) if index[order[j]] < index[item]]
        best.append(max(runs, key=len, default=[]) + [item])
    keep = max(best, key=len, default=[])
    return [item for item in order if item not in keep]


def _insert_at(order: list[tuple], ident: SlideId, new_index: dict) -> int:
    """Where a slide the data added goes: right after the slide that precedes it in the new
    build, else before the one that follows it, else at the end."""
    mine = new_index[ident]
    placed = [(new_index[i], k) for k, (i, _) in enumerate(order) if i in new_index]
    before = [k for n, k in placed if n < mine]
    if before:
        return max(before) + 1
    after = [k for n, k in placed if n > mine]
    return min(after) if after else len(order)


def _placeholder_class(kind: str | None) -> str | None:
    if kind is None:
        return None
    return "title" if kind in ("title", "ctrTitle") else kind if kind in (
        "ftr", "sldNum", "dt", "hdr") else "body"


def _check_identity(base: list[SlideView], edited: list[SlideView], name: str) -> None:
    """Refuse a deck whose generated shapes lost their names (LibreOffice renames
    placeholders): its slides would look deleted and re-added by hand."""
    present = {v.ident for v in edited if v.ident is not None}
    missing = [v for v in base if v.ident not in present]
    problems = []
    for view in edited:
        if view.ident is None and view.copy_of is None and \
                any(_looks_like(view, m) for m in missing):
            problems.append(view.number)
        elif view.ident is not None:
            b = next((v for v in base if v.ident == view.ident), None)
            lost = {_placeholder_class(b.roles[r].placeholder_type) for r in b.roles
                    if r not in view.roles} - {None} if b else set()
            if any(s.ident is None and _placeholder_class(s.placeholder_type) in lost
                   for s in view.extras):
                problems.append(view.number)
    if base and not present:
        problems = [v.number for v in edited]
    if problems:
        raise UserError([Diagnostic(name, None, "", _identity_message(problems, edited))])


def _looks_like(view: SlideView, base: SlideView) -> bool:
    """Whether a slide without identity shows what a slide as built showed: its title, or
    most of its paragraphs (a retitled slide whose shapes were renamed)."""
    if view.title and view.title == base.title:
        return True
    mine = {t for s in view.shapes for t in shape_text(s.element).split("\n") if t.strip()}
    theirs = [t for s in base.shapes for t in shape_text(s.element).split("\n") if t.strip()]
    return bool(theirs) and sum(t in mine for t in theirs) * 2 >= len(theirs)


def _identity_message(numbers: Iterable[int], edited: list[SlideView]) -> str:
    numbers = sorted(set(numbers))
    sample = next((s.name for v in edited if v.number in numbers for s in v.shapes
                   if s.ident is None), "")
    return (f"slide{'s' if len(numbers) > 1 else ''} {_ranges(numbers)} lost the shape names "
            "that tie them to the deck as built (LibreOffice renames placeholders when it "
            "saves; so does deleting a slide and making it again by hand); expected names "
            f"like 'deck:summary:1:title', got {sample!r}. Nothing was "
            "merged and the deck is untouched: redo the edits in PowerPoint on the deck as "
            "built (out/.deck/), or rebuild with --force to keep a backup and start afresh")


def _ranges(numbers: list[int]) -> str:
    """``1-3, 5``.

    >>> _ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    """
    out: list[list[int]] = []
    for n in numbers:
        if out and n == out[-1][-1] + 1:
            out[-1].append(n)
        else:
            out.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in out)

