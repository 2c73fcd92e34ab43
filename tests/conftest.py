"""Shared fixtures: the bundled decks are built once per test session."""

from __future__ import annotations

import pytest
from helpers import DEFAULT_DATA, build

from deck.session import BuiltDeck


@pytest.fixture(scope="session")
def built_decks(tmp_path_factory) -> dict[str, BuiltDeck]:
    """Both bundled decks, built into a temporary folder: {lang: BuiltDeck}."""
    out = tmp_path_factory.mktemp("decks")
    return {b.lang: b for b in build(DEFAULT_DATA, out)}


@pytest.fixture()
def data_text() -> str:
    return DEFAULT_DATA.read_text(encoding="utf-8")
