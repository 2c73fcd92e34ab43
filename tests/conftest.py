"""Shared fixtures: the bundled decks are built once per test session, and so is the merge
scenario (both decks edited by hand, the article updated, rebuilt with --merge)."""

from __future__ import annotations

import pytest
from helpers import DEFAULT_DATA, MergeScenario, build, merge_scenario

from deck.session import BuiltDeck


@pytest.fixture(scope="session")
def built_decks(tmp_path_factory) -> dict[str, BuiltDeck]:
    """Both bundled decks, built into a temporary folder: {lang: BuiltDeck}."""
    out = tmp_path_factory.mktemp("decks")
    return {b.lang: b for b in build(DEFAULT_DATA, out)}


@pytest.fixture()
def data_text() -> str:
    return DEFAULT_DATA.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> MergeScenario:
    """The merge scenario of :func:`helpers.merge_scenario`, run once; tests must not change
    its files (copy them first)."""
    return merge_scenario(tmp_path_factory.mktemp("merge"))
