"""Which layout serves each logical layout, and which part of it does what: the title, the
main area (subtitle, body, table, graphic), the side column, the footer and slide number.

A part goes into a placeholder of the layout when one suits it (the right kind, and large
enough); otherwise into the layout's free area (below the title, inside the master's margins)
as a free shape. Without a mapping file, standard Office and LibreOffice layout names, then
placeholder geometry, choose the layouts. Pure: no pptx.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from . import model as m

EMU_PER_INCH = 914400
GAP_EMU = EMU_PER_INCH // 10  # between the title and the free area, and between columns
MIN_SUBTITLE_EMU = EMU_PER_INCH * 3 // 10
#: a placeholder serves a main area only if at least this share of the free area's height
MIN_HEIGHT_SHARE = 0.35
_CONTENT = {"obj", "body", "subTitle", "chart", "tbl", "pic", "dgm", "clipArt", "media"}
_TEXT = {"obj", "body", "subTitle"}
_DEFAULT_INSETS = m.Insets(91440, 45720, 91440, 45720)

#: layout names tried first for each logical layout, without a mapping file (Office's and
#: LibreOffice's own names), case-insensitive
STANDARD_NAMES = {
    "title": ("Title Slide", "Title", "Cover"),
    "section": ("Section Header", "Section", "Title Slide", "Title"),
    "content": ("Title and Content", "Title, Content", "Content"),
    "chart": ("Two Content", "Title, 2 Content", "Title and Content", "Title, Content"),
    "two_content": ("Two Content", "Title, 2 Content", "Comparison"),
    "table": ("Title and Content", "Title, Content", "Title Only"),
    "sources": ("Title and Content", "Title, Content", "Title Only"),
}


class Place(msgspec.Struct, frozen=True):
    """Where a part goes: a placeholder (``slot``) or, where ``slot`` is None, a free shape at
    ``box``; with the insets, size, spacing and text colour text there inherits, and the
    colour behind it."""

    slot: m.Slot | None
    box: m.Box
    insets: m.Insets
    size_pt: float | None
    line_spacing: float
    text_rgb: str
    text_rgb_sampled: bool
    behind: m.Backdrop
    backing: m.Paint | None = None  # a fill behind the text, where it would not read

    @property
    def free(self) -> bool:
        return self.slot is None


class Roles(msgspec.Struct, frozen=True):
    """The parts of one logical layout on one template layout."""

    layout: m.LayoutInfo
    title: Place
    main: Place | None
    side: Place | None
    footer: m.Slot | None
    number: m.Slot | None
    notes: tuple[str, ...] = ()  # placeholders passed over, for the build's warnings

    @property
    def ref(self) -> m.LayoutRef:
        return self.layout.ref


def place_of(slot: m.Slot, layout: m.LayoutInfo) -> Place:
    return Place(slot, slot.box, slot.insets, slot.size_pt, slot.line_spacing, slot.text_rgb,
                 slot.text_rgb_sampled, layout.behind(slot.box))


def free_place(box: m.Box, layout: m.LayoutInfo) -> Place:
    """A free shape at ``box``: default insets, single spacing, the theme's text colour."""
    return Place(None, box, _DEFAULT_INSETS, None, 1.0, layout.color("tx1"), False,
                 layout.behind(box))


def free_area(layout: m.LayoutInfo, title: m.Slot, width: int, height: int) -> m.Box:
    """Below the title, above the footer row, between the title's edges (or 5 % margins)."""
    margin = width // 20
    left, right = title.box.left_emu, title.box.right_emu
    if right - left < width // 2:
        left, right = margin, width - margin
    top = title.box.bottom_emu + GAP_EMU
    chrome = [s.box.top_emu for s in layout.slots
              if s.type in ("ftr", "dt", "sldNum") and s.box.top_emu > top]
    bottom = min(chrome, default=height - margin) - GAP_EMU
    return m.Box(left, top, max(right - left, 1), max(bottom - top, 1))


def columns(area: m.Box, share: float) -> tuple[m.Box, m.Box]:
    """The area split into two columns, the first taking ``share`` of the width."""
    first = int((area.width_emu - GAP_EMU) * share)
    second = area.width_emu - GAP_EMU - first
    return (m.Box(area.left_emu, area.top_emu, first, area.height_emu),
            m.Box(area.left_emu + first + GAP_EMU, area.top_emu, second, area.height_emu))


def plan_roles(logical: str, layout: m.LayoutInfo, width: int, height: int) -> Roles:
    """The parts of ``logical`` on ``layout`` (slide ``width`` x ``height`` EMU); raise
    ValueError where the layout has no title placeholder."""
    title = next((s for s in layout.slots if s.type in ("title", "ctrTitle")), None)
    if title is None:
        raise ValueError(f"layout {str(layout.ref)!r} has no title placeholder; expected one")
    area = free_area(layout, title, width, height)
    content = [s for s in layout.slots if s.type in _CONTENT and not s.vertical]
    fits = [s for s in content if s.box.height_emu >= area.height_emu * MIN_HEIGHT_SHARE]
    notes = tuple(f"layout {str(layout.ref)!r}: placeholder {s.type} {s.ordinal + 1} is too "
                  f"small ({s.box.height_emu / EMU_PER_INCH:.1f} in tall) for a main area; "
                  "using the free area instead" for s in content if s not in fits
                  and logical not in ("title", "section") and s.type != "subTitle")
    main, side = _parts(logical, layout, fits, content, area)
    footer = next((s for s in layout.slots if s.type == "ftr"), None)
    number = next((s for s in layout.slots if s.type == "sldNum"), None)
    chrome = [s.box for s in (footer, number) if s is not None]
    main, side = (_clear_of(p, chrome, layout, width, height) for p in (main, side))
    return Roles(layout, place_of(title, layout), main, side, footer, number,
                 notes if _uses_free(main, side) else ())


def _clear_of(place: Place | None, chrome: list[m.Box], layout: m.LayoutInfo,
              width: int, height: int) -> Place | None:
    """A place cut short above the footer row where the layout lets it reach into it (the
    footer and slide number are written on every slide), and at the slide's edges where the
    layout's placeholder runs past them (LibreOffice's Progress: content boxes 0.3 in below
    the slide)."""
    if place is None:
        return None
    box = place.box
    if box.right_emu > width or box.bottom_emu > height:
        box = m.Box(box.left_emu, box.top_emu,
                    max(min(box.right_emu, width) - box.left_emu, 1),
                    max(min(box.bottom_emu, height - GAP_EMU) - box.top_emu, 1))
    for other in chrome:
        if _overlaps(box, other) and other.top_emu > box.top_emu:
            box = m.Box(box.left_emu, box.top_emu, box.width_emu,
                        max(other.top_emu - GAP_EMU - box.top_emu, 1))
    if box == place.box:
        return place
    return msgspec.structs.replace(place, box=box, behind=layout.behind(box))


def _uses_free(*places: Place | None) -> bool:
    return any(p is not None and p.free for p in places)


def _parts(logical: str, layout: m.LayoutInfo, fits: list[m.Slot], content: list[m.Slot],
           area: m.Box) -> tuple[Place | None, Place | None]:
    by_position = sorted(fits, key=lambda s: (s.box.left_emu, s.box.top_emu))
    text = [s for s in by_position if s.type in _TEXT]

    def biggest(slots: Iterable[m.Slot]) -> m.Slot | None:
        return max(slots, key=lambda s: s.box.width_emu * s.box.height_emu, default=None)

    if logical in ("title", "section"):
        sub = [s for s in content if s.type == "subTitle"] or [
            s for s in content if s.type in _TEXT and s.box.height_emu >= MIN_SUBTITLE_EMU]
        return (place_of(sub[0], layout) if sub else free_place(area, layout)), None
    if logical in ("table", "sources", "content"):
        kinds = _TEXT | ({"tbl"} if logical != "content" else set())
        slot = biggest(s for s in by_position if s.type in kinds)
        return (place_of(slot, layout) if slot else free_place(area, layout)), None
    pair = _side_by_side(text)
    graphic = [s for s in by_position if s.type == "chart"]
    if logical == "chart" and graphic:
        beside = [s for s in text if not _overlaps(s.box, graphic[0].box)]
        if beside:
            return place_of(graphic[0], layout), place_of(beside[0], layout)
    if pair is not None:
        first, second = pair
        if logical == "chart" and second.box.width_emu * second.box.height_emu > \
                first.box.width_emu * first.box.height_emu:
            first, second = second, first
        return place_of(first, layout), place_of(second, layout)
    left, right = columns(area, 0.6 if logical == "chart" else 0.5)
    return free_place(left, layout), free_place(right, layout)


def _side_by_side(text: list[m.Slot]) -> tuple[m.Slot, m.Slot] | None:
    """The first two text placeholders that sit side by side without overlapping."""
    for i, a in enumerate(text):
        for b in text[i + 1:]:
            if not _overlaps(a.box, b.box) and (a.box.right_emu <= b.box.left_emu or
                                                b.box.right_emu <= a.box.left_emu):
                return (a, b) if a.box.left_emu <= b.box.left_emu else (b, a)
    return None


def _overlaps(a: m.Box, b: m.Box) -> bool:
    return (min(a.right_emu, b.right_emu) > max(a.left_emu, b.left_emu) and
            min(a.bottom_emu, b.bottom_emu) > max(a.top_emu, b.top_emu))


# ------------------------------------------------------------------------------------------
# which layout, without a mapping file


def suits(logical: str, layout: m.LayoutInfo, width: int, height: int) -> bool:
    """The layout has a title and placeholders for every part of ``logical``."""
    try:
        roles = plan_roles(logical, layout, width, height)
    except ValueError:
        return False
    return not _uses_free(roles.main, roles.side)


def default_layout(logical: str, layouts: tuple[m.LayoutInfo, ...], width: int,
                   height: int) -> m.LayoutInfo | None:
    """The layout a template without a mapping file uses for ``logical``: a standard name
    that suits it, else a layout that suits it, else the first with a title (its free area
    then takes the content). Where several masters offer one, content layouts take the one
    with the most room for content (LibreOffice gives each master every layout name, some
    shaped like a title slide); title and section slides take the first."""
    candidates = []
    for name in STANDARD_NAMES[logical]:
        candidates = [info for info in layouts if info.name.casefold() == name.casefold()
                      and suits(logical, info, width, height)]
        if candidates:
            break
    candidates = candidates or [i for i in layouts if suits(logical, i, width, height)]
    if candidates:
        # those that carry a footer and slide number first: without them LibreOffice still
        # shows the master's, in colours nobody checked
        chrome = [i for i in candidates if {"ftr", "sldNum"} <= {s.type for s in i.slots}]
        candidates = chrome or candidates
        if logical in ("title", "section"):
            return candidates[0]
        return max(candidates, key=lambda i: _room(logical, i, width, height))
    return next((info for info in layouts
                 if any(s.type in ("title", "ctrTitle") for s in info.slots)), None)


def _room(logical: str, layout: m.LayoutInfo, width: int, height: int) -> int:
    """The area a layout gives a logical layout's content (main and side), in EMU²; a
    placeholder counts for the part of it below the title."""
    roles = plan_roles(logical, layout, width, height)
    floor = roles.title.box.bottom_emu
    return sum(p.box.width_emu * max(0, p.box.bottom_emu - max(p.box.top_emu, floor))
               for p in (roles.main, roles.side) if p is not None)


def qualifying(logical: str, layouts: tuple[m.LayoutInfo, ...], width: int,
               height: int) -> list[str]:
    """The layouts with placeholders for every part of ``logical`` (for error messages)."""
    return [str(info.ref) for info in layouts if suits(logical, info, width, height)]
