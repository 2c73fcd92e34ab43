"""Three-way merge of sequences, one base unit at a time: paragraphs, table rows.

Each side (the hand-edited deck, the new build) is aligned with the base (``difflib``), which
gives every base unit a fate on that side (kept, changed, deleted) and every unit the side
added a gap between base units. The merge then decides unit by unit: a unit only one side
touched takes that side's version; units both sides added are all kept (the data's first);
only a unit both sides changed differently is a clash. Units are compared by signature
(any hashable), so the caller decides what counts as a change. Pure.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

#: what one side did to one base unit: kept it, changed it (to the unit at ``index``), or
#: deleted it
FateKind = Literal["same", "changed", "deleted"]


@dataclass(frozen=True, slots=True)
class Fate:
    kind: FateKind
    index: int | None = None  # where the unit is on that side; None when deleted


@dataclass(frozen=True, slots=True)
class Alignment:
    """One side against the base: each base unit's fate, and the side's own units added in
    each gap (gap ``g`` comes before base unit ``g``; the last gap is the end)."""

    fates: tuple[Fate, ...]
    added: tuple[tuple[int, ...], ...]


def align(base: Sequence[Hashable], side: Sequence[Hashable]) -> Alignment:
    """Align one side with the base. Replaced stretches pair up unit by unit (a reworded
    paragraph is a change, not a deletion and an addition); what is left over is deleted or
    added.

    >>> a = align("abcd", "aXcdE")
    >>> [(f.kind, f.index) for f in a.fates], a.added
    ([('same', 0), ('changed', 1), ('same', 2), ('same', 3)], ((), (), (), (), (4,)))
    """
    fates: list[Fate] = [Fate("deleted")] * len(base)
    added: list[list[int]] = [[] for _ in range(len(base) + 1)]
    matcher = SequenceMatcher(None, base, side, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(paired):
            fates[i1 + k] = Fate("same" if tag == "equal" else "changed", j1 + k)
        added[i1 + paired if paired < i2 - i1 else i2].extend(range(j1 + paired, j2))
    return Alignment(tuple(fates), tuple(tuple(a) for a in added))


#: why a unit is in the merge: untouched, or changed/added by the hand or the data, or the
#: same change on both sides
PickKind = Literal["same", "hand", "data", "both"]


@dataclass(frozen=True, slots=True)
class Pick:
    """One unit of the merged sequence: which side's unit (by index) and why."""

    side: Literal["hand", "data"]
    index: int
    kind: PickKind
    base: int | None  # the base unit it stands for; None for a unit a side added


#: conflict: both changed it differently (the data's version is picked); removed: the data
#: deleted a unit the hand changed; kept_deleted: the hand deleted a unit the data changed
ClashKind = Literal["conflict", "removed", "kept_deleted"]


@dataclass(frozen=True, slots=True)
class Clash:
    kind: ClashKind
    base: int
    hand: int | None
    data: int | None


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged sequence, the clashes, and how each side was aligned with the base."""

    picks: tuple[Pick, ...]
    clashes: tuple[Clash, ...]
    by_hand: Alignment
    by_data: Alignment


def merge_units(base: Sequence[Hashable], hand: Sequence[Hashable],
                data: Sequence[Hashable]) -> Merged:
    """Merge the hand's and the data's edits of ``base``.

    >>> m = merge_units("abc", "aXc", "abcD")
    >>> [(p.side, p.index, p.kind) for p in m.picks], m.clashes
    ([('hand', 0, 'same'), ('hand', 1, 'hand'), ('hand', 2, 'same'), ('data', 3, 'data')], ())
    >>> m = merge_units("ab", "aX", "aY")
    >>> [(p.side, p.index) for p in m.picks], [c.kind for c in m.clashes]
    ([('hand', 0), ('data', 1)], ['conflict'])
    """
    by_hand, by_data = align(base, hand), align(base, data)
    picks: list[Pick] = []
    clashes: list[Clash] = []
    for gap in range(len(base) + 1):
        picks += _added(by_hand.added[gap], by_data.added[gap], hand, data)
        if gap == len(base):
            break
        pick, clash = _decide(gap, by_hand.fates[gap], by_data.fates[gap], hand, data)
        picks += [pick] if pick else []
        clashes += [clash] if clash else []
    return Merged(tuple(picks), tuple(clashes), by_hand, by_data)


def _added(by_hand: tuple[int, ...], by_data: tuple[int, ...], hand: Sequence[Hashable],
           data: Sequence[Hashable]) -> list[Pick]:
    """Units both sides added in one gap: the data's, then the hand's (once if the same)."""
    if [hand[i] for i in by_hand] == [data[i] for i in by_data]:
        return [Pick("hand", i, "both", None) for i in by_hand]
    return [Pick("data", i, "data", None) for i in by_data] + \
        [Pick("hand", i, "hand", None) for i in by_hand]


def _decide(b: int, hf: Fate, df: Fate, hand: Sequence[Hashable],
            data: Sequence[Hashable]) -> tuple[Pick | None, Clash | None]:
    """One base unit, given what each side did to it."""
    if df.kind == "same":
        return (None if hf.index is None else
                Pick("hand", hf.index, "same" if hf.kind == "same" else "hand", b)), None
    if hf.kind == "same":
        return (None if df.index is None else Pick("data", df.index, "data", b)), None
    if hf.kind == "deleted":
        clash = None if df.kind == "deleted" else Clash("kept_deleted", b, None, df.index)
        return None, clash
    assert hf.index is not None
    if df.index is None:
        return None, Clash("removed", b, hf.index, None)
    if hand[hf.index] == data[df.index]:
        return Pick("hand", hf.index, "both", b), None
    return Pick("data", df.index, "data", b), Clash("conflict", b, hf.index, df.index)
