"""The pieces under --merge, alone: the unit-by-unit three-way merge (tables of cases and
properties), and signatures that ignore what applications rewrite on every save."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from deck.anatomy import signature
from deck.merge3 import merge_units


def merged(base: str, hand: str, data: str) -> tuple[str, list[str]]:
    """The merged sequence (letters) and the clash kinds."""
    m = merge_units(base, hand, data)
    return "".join((hand if p.side == "hand" else data)[p.index] for p in m.picks), \
        [c.kind for c in m.clashes]


CASES = [
    # base, hand, data -> merged, clashes
    ("abc", "abc", "abc", "abc", []),
    ("abc", "aXc", "abc", "aXc", []),  # hand rewords b
    ("abc", "abc", "aYc", "aYc", []),  # data rewords b
    ("abc", "aXc", "abY", "aXY", []),  # different units: both kept
    ("abc", "aXc", "aYc", "aYc", ["conflict"]),  # same unit: the data's, a clash
    ("abc", "aXc", "aXc", "aXc", []),  # the same change on both sides
    ("abc", "ac", "abc", "ac", []),  # hand deletes
    ("abc", "ac", "aYc", "ac", ["kept_deleted"]),  # hand deleted what data changed
    ("abc", "aXc", "ac", "ac", ["removed"]),  # data removed what hand changed
    ("abc", "abcH", "abcD", "abcDH", []),  # both add at the end: data's first
    ("HabHc", "HaXHc", "HzaHbHc", "HzaHXHc", []),  # hand edit survives a repagination
]


@pytest.mark.parametrize(("base", "hand", "data", "result", "clashes"), CASES)
def test_merge_units(base, hand, data, result, clashes):
    assert merged(base, hand, data) == (result, clashes)


def _edits(base: list[str]):
    """A strategy: ``base`` with some units changed, deleted or inserted."""
    ops = st.lists(st.tuples(st.sampled_from("cdi"), st.integers(0, 20), st.sampled_from("xyz")),
                   max_size=4)

    def apply(steps) -> list[str]:
        out = list(base)
        for op, at, letter in steps:
            if op == "i":
                out.insert(at % (len(out) + 1), letter)
            elif out and op == "d":
                del out[at % len(out)]
            elif out:
                out[at % len(out)] = letter
        return out

    return ops.map(apply)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("abcdH"), max_size=8).flatmap(
    lambda base: st.tuples(st.just(base), _edits(base), _edits(base))))
def test_a_side_alone_is_reproduced_exactly(sides):
    base, hand, data = sides
    assert merged(base, hand, base) == ("".join(hand), [])
    assert merged(base, base, data) == ("".join(data), [])
    assert merged(base, hand, hand)[0] == "".join(hand)


A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def para(runs: str, **attrs: str) -> etree._Element:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return etree.fromstring(f'<a:p xmlns:a="{A}">{runs.format(extra=extra)}</a:p>')


def test_signatures_ignore_edit_marks_and_run_splits():
    whole = para('<a:r><a:rPr lang="en-US"{extra}/><a:t>Hello world</a:t></a:r>')
    split = para('<a:r><a:rPr lang="en-US"{extra}/><a:t>Hello </a:t></a:r>'
                 '<a:r><a:rPr lang="en-US"{extra}/><a:t>world</a:t></a:r>'
                 '<a:endParaRPr lang="en-US" sz="1800"/>', dirty="0", err="1")
    bold = para('<a:r><a:rPr lang="en-US" b="1"/><a:t>Hello world</a:t></a:r>')
    assert signature(whole) == signature(split)
    assert signature(whole) != signature(bold)
