"""Identity: the stable key every generated slide and shape carries, and how it is spelled.

A generated shape is named ``deck:<outline key>:<part>:<role>`` (``deck:cost:1:chart``): the
outline slide it comes from, which continuation slide of it (1-based), and what it is on the
slide (the model field it fills: ``title``, ``body``, ``chart``, ``side``, ``footer``...).
A slide's identity is its shapes' ``(key, part)``. The name is kept where python-pptx and
PowerPoint keep it (``p:cNvPr/@name``, shown in PowerPoint's Selection Pane); LibreOffice 7.4
keeps it on charts, tables, pictures and groups but renames placeholders ("PlaceHolder 1"),
which :mod:`deck.merge` detects and refuses to guess past. Pure: no pptx, no XML.
"""

from __future__ import annotations

import re

import msgspec

_PREFIX = "deck"
_NAME = re.compile(rf"^{_PREFIX}:(?P<key>.+):(?P<part>[1-9][0-9]*):(?P<role>[a-z_]+)$")


class SlideId(msgspec.Struct, frozen=True, order=True):
    """Which generated slide: an outline slide's key and its continuation number."""

    key: str
    part: int

    def __str__(self) -> str:
        return self.key if self.part == 1 else f"{self.key} ({self.part})"


class ShapeId(msgspec.Struct, frozen=True, order=True):
    """Which generated shape: its slide and its role there."""

    slide: SlideId
    role: str


def shape_name(key: str, part: int, role: str) -> str:
    """The name a generated shape carries.

    >>> shape_name("cost", 1, "chart")
    'deck:cost:1:chart'
    """
    return f"{_PREFIX}:{key}:{part}:{role}"


def parse_shape_name(name: str | None) -> ShapeId | None:
    """The identity in a shape's name, or None for a shape deck did not make.

    >>> parse_shape_name("deck:sources:2:table")
    ShapeId(slide=SlideId(key='sources', part=2), role='table')
    >>> parse_shape_name("TextBox 5") is None, parse_shape_name("deck:x:0:title") is None
    (True, True)
    """
    found = _NAME.match(name or "")
    if found is None:
        return None
    return ShapeId(SlideId(found["key"], int(found["part"])), found["role"])
