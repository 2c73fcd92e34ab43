"""A readable diff of any two decks, slide by slide and shape by shape: text, position and size,
formatting, chart data, speaker notes, shapes and slides added, removed or moved.

Slides are matched by the identity a built deck carries (:mod:`deck.identity`), else by title,
else by position among their unmatched neighbours; shapes by role, else by name, else by kind
and order. Lengths are shown in centimetres.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from .anatomy import (
    ShapeView,
    SlideView,
    open_deck,
    quote,
    read_slides,
    signature,
    unit_text,
)
from .diagnostics import Diagnostic, UserError

EMU_PER_CM = 360000
#: how far a shape must move or grow before the diff mentions it (half a point)
_NUDGE_EMU = 6350


@dataclass(frozen=True)
class _Pair:
    a: int | None  # index in the first deck; None for a slide only the second has
    b: int | None
    moved: bool = False


def diff_decks(a: Path, b: Path) -> list[str]:
    """The lines of the diff of deck ``a`` against deck ``b`` (the last one a summary)."""
    problems: list[Diagnostic] = []
    views = [_read(path, problems) for path in (a, b)]
    if problems:
        raise UserError(problems)
    first, second = views
    lines = [f"--- {a} ({len(first)} slides)", f"+++ {b} ({len(second)} slides)"]
    counts = {"changed": 0, "added": 0, "removed": 0, "moved": 0}
    for pair in _ordered(match(first, second, _slide_key, _slide_key), first):
        lines += _slide_lines(pair, first, second, counts)
    changes = [f"{n} {what}" for what, n in counts.items() if n]
    lines.append(", ".join(changes) if changes else "no differences")
    return lines


Key = Callable[[object, int], Hashable]


def _read(path: Path, problems: list[Diagnostic]) -> list[SlideView]:
    try:
        return read_slides(open_deck(path.read_bytes(), str(path), "--diff"))
    except OSError as exc:
        problems.append(Diagnostic(str(path), None, "--diff", (
            f"cannot read it; expected a .pptx file, got {exc.strerror}")))
    except UserError as exc:
        problems.extend(exc.diagnostics)
    return []


def match(first: Sequence, second: Sequence, key_a: Key, key_b: Key) -> list[_Pair]:
    """Pair the items of two sequences by key (``("id", ...)`` keys are identities): equal
    keys in order, then what changed in between position by position, then equal keys out
    of order (moved). Two items with different identities are never paired.

    >>> [(p.a, p.b, p.moved) for p in match("abc", "cab", _plain, _plain)]
    [(0, 1, False), (1, 2, False), (2, 0, True)]
    """
    ka = [key_a(x, i) for i, x in enumerate(first)]
    kb = [key_b(x, j) for j, x in enumerate(second)]
    pairs, gone, new = [], [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        n = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(n):
            if tag == "replace" and ka[i1 + k][0] == kb[j1 + k][0] == "id":
                gone.append(i1 + k)
                new.append(j1 + k)
            else:
                pairs.append(_Pair(i1 + k, j1 + k))
        gone += range(i1 + n, i2)
        new += range(j1 + n, j2)
    for i in list(gone):
        j = next((j for j in new if kb[j] == ka[i]), None)
        if j is not None:
            pairs.append(_Pair(i, j, moved=True))
            gone.remove(i)
            new.remove(j)
    return pairs + [_Pair(i, None) for i in gone] + [_Pair(None, j) for j in new]


def _plain(item: object, n: int) -> Hashable:
    return ("id", item)


def _slide_key(view: SlideView, n: int) -> Hashable:
    if view.ident is not None:
        return ("id", view.ident)
    return ("title", view.title) if view.title else ("none", n)


def _ordered(pairs: list[_Pair], first: Sequence) -> list[_Pair]:
    """In the second deck's order; a removed slide after the one that preceded it."""
    partner = {p.a: p.b for p in pairs if p.a is not None and p.b is not None}

    def place(p: _Pair) -> tuple[float, int]:
        if p.b is not None:
            return (p.b, 0)
        before = [partner[i] for i in range(p.a) if i in partner]
        return ((max(before) if before else -1) + 0.5, p.a)

    return sorted(pairs, key=place)


def _slide_lines(pair: _Pair, first: list[SlideView], second: list[SlideView],
                 counts: dict[str, int]) -> list[str]:
    if pair.b is None:
        counts["removed"] += 1
        return [f"- slide {pair.a + 1} {first[pair.a].label()} (removed)"]
    if pair.a is None:
        counts["added"] += 1
        view = second[pair.b]
        return [f"+ slide {pair.b + 1} {view.label()} (added)"] + [
            f"    + {_shape_label(s)}: {quote(s.text())}" for s in view.shapes]
    old, new = first[pair.a], second[pair.b]
    body = _shape_lines(old, new) + _notes_lines(old, new)
    if pair.moved:
        counts["moved"] += 1
    if body:
        counts["changed"] += 1
    if not body and not pair.moved:
        return []
    where = f"slide {pair.a + 1}" + (f" -> {pair.b + 1}" if pair.a != pair.b else "")
    return [f"{where} {new.label()}" + (" (moved)" if pair.moved else "")] + body


def _shape_key(view: SlideView) -> Callable[[ShapeView, int], Hashable]:
    names = [s.name for s in view.shapes]

    def key(shape: ShapeView, n: int) -> Hashable:
        if shape.ident is not None and shape.ident.slide == view.ident:
            return ("id", shape.ident.role)
        if names.count(shape.name) == 1:
            return ("name", shape.name)
        return ("kind", shape.kind, n)

    return key


def _shape_lines(old: SlideView, new: SlideView) -> list[str]:
    lines = []
    for pair in match(old.shapes, new.shapes, _shape_key(old), _shape_key(new)):
        if pair.b is None:
            s = old.shapes[pair.a]
            lines.append(f"  - {_shape_label(s)}: {quote(s.text())}")
        elif pair.a is None:
            s = new.shapes[pair.b]
            lines.append(f"  + {_shape_label(s)}: {quote(s.text())}")
        else:
            lines += _changes(old.shapes[pair.a], new.shapes[pair.b])
    return lines


def _changes(a: ShapeView, b: ShapeView) -> list[str]:
    """What differs between two matched shapes: text, then place and size, then the rest."""
    label = _shape_label(b)
    text = _text_lines(a.text().split("\n"), b.text().split("\n"))
    lines = [f"  {label}: text"] + text if text else []
    geometry = _geometry(a.box(), b.box())
    if geometry:
        lines.append(f"  {label}: {geometry}")
    if not text and not geometry and signature(a.element) != signature(b.element):
        lines.append(f"  {label}: formatting")
    return lines


def _text_lines(old: list[str], new: list[str]) -> list[str]:
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            out += [f"    - {quote(t)}" for t in old[i1:i2]]
            out += [f"    + {quote(t)}" for t in new[j1:j2]]
    return out


def _notes_lines(old: SlideView, new: SlideView) -> list[str]:
    def notes(view: SlideView) -> list[str]:
        body = view.notes_body()
        return [] if body is None else [unit_text(p) for p in body.iterfind(
            "{http://schemas.openxmlformats.org/drawingml/2006/main}p")]

    text = _text_lines(notes(old), notes(new))
    return ["  speaker notes: text"] + text if text else []


def _geometry(a: tuple | None, b: tuple | None) -> str:
    """``moved 1.0 cm right, 0.5 cm up; resized 10.0 x 5.0 cm -> 8.0 x 5.0 cm``."""
    if a is None or b is None or a == b:
        return ""
    parts = []
    dx, dy = b[0] - a[0], b[1] - a[1]
    moves = [f"{_cm(abs(d))} {word[d > 0]}" for d, word in
             ((dx, ("left", "right")), (dy, ("up", "down"))) if abs(d) >= _NUDGE_EMU]
    if moves:
        parts.append("moved " + ", ".join(moves))
    if abs(b[2] - a[2]) >= _NUDGE_EMU or abs(b[3] - a[3]) >= _NUDGE_EMU:
        parts.append(f"resized {a[2] / EMU_PER_CM:.1f} x {_cm(a[3])} -> "
                     f"{b[2] / EMU_PER_CM:.1f} x {_cm(b[3])}")
    return "; ".join(parts)


def _cm(emu: float) -> str:
    """A length in centimetres.

    >>> _cm(360000 * 2.54)
    '2.5 cm'
    """
    return f"{emu / EMU_PER_CM:.1f} cm"


def _shape_label(shape: ShapeView) -> str:
    if shape.ident is not None:
        return shape.ident.role
    return f"{shape.kind} {shape.name!r}"


