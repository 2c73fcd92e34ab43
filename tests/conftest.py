"""Shared fixtures: the bundled decks are built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from deck.cli import DEFAULT_DATA, Built, build

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_decks(tmp_path_factory) -> dict[str, Built]:
    """Both bundled decks, built into a temporary folder: {lang: Built}."""
    out = tmp_path_factory.mktemp("decks")
    return {b.lang: b for b in build(DEFAULT_DATA, out, echo=lambda *_: None)}


@pytest.fixture()
def data_text() -> str:
    return DEFAULT_DATA.read_text(encoding="utf-8")
