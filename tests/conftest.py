"""Shared fixtures: the bundled decks are built once per test session, and so is the merge
scenario (both decks edited by hand, the article updated, rebuilt with --merge)."""

from __future__ import annotations

import os
from pathlib import Path

import corpus as template_corpus
import pytest
from helpers import DEFAULT_DATA, MergeScenario, build, merge_scenario

from deck.session import BuiltDeck

# builds started by the tests (main(), build.py in a child) never read or write the user's
# cache, and a test that breaks the fit stage on purpose cannot leave slides for another:
# the cache's own tests (tests/test_cache.py) switch it on in a folder of their own
os.environ["DECK_NO_CACHE"] = "1"
# and build.py in a child runs in that child, under the limits the test gives it, never in a
# build server (deck/launch.py): tests/test_server.py switches the server on for its own tests
os.environ["DECK_SERVER"] = "0"


@pytest.fixture(scope="session")
def built_decks(tmp_path_factory) -> dict[str, BuiltDeck]:
    """Both bundled decks, built into a temporary folder: {lang: BuiltDeck}."""
    out = tmp_path_factory.mktemp("decks")
    return {b.lang: b for b in build(DEFAULT_DATA, out)}


@pytest.fixture()
def data_text() -> str:
    return DEFAULT_DATA.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path | str]:
    """Templates nobody on the project wrote (tests/corpus.py): name -> path, or the reason
    it could not be made on this machine."""
    return template_corpus.make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def corpus_decks(corpus, tmp_path_factory) -> dict[str, dict[str, BuiltDeck] | str]:
    """The bundled article built on each corpus template, with no mapping file:
    name -> {lang: BuiltDeck}, or the reason the template is missing."""
    out = tmp_path_factory.mktemp("corpus-decks")
    return {name: path if isinstance(path, str) else
            {b.lang: b for b in build(DEFAULT_DATA, out / name, template=path)}
            for name, path in corpus.items()}


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> MergeScenario:
    """The merge scenario of :func:`helpers.merge_scenario`, run once; tests must not change
    its files (copy them first)."""
    return merge_scenario(tmp_path_factory.mktemp("merge"))
