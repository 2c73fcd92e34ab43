"""Templating: quoting never lets data change the outline; outlines match their goldens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from helpers import DEFAULT_DATA
from hypothesis import given
from hypothesis import strategies as st

from deck.l10n import fill
from deck.session import BuildRequest, BuildSession
from deck.templating import yaml_quote

GOLDEN = Path(__file__).resolve().parent / "golden"

# every character PyYAML accepts in a document once escaped: all but surrogates
_ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(_ANY)
def test_quoted_values_parse_back_to_themselves(text):
    assert yaml.safe_load(f"key: {yaml_quote(text)}\n") == {"key": text}


@given(_ANY)
def test_a_quoted_value_cannot_add_structure(text):
    doc = yaml.safe_load(f"- a: {yaml_quote(text)}\n  b: fixed\n")
    assert doc == [{"a": text, "b": "fixed"}]


@pytest.mark.parametrize(("pattern", "values", "expected"), [
    ("{n}/{total}", {"n": 1, "total": 3}, "1/3"),
    ("[{n}]", {"n": 27}, "[27]"),
])
def test_fill(pattern, values, expected):
    assert fill(pattern, **values) == expected


@pytest.mark.parametrize("pattern", ["{n.__class__}", "{n[0]}", "{0}"])
def test_fill_refuses_attribute_and_index_access(pattern):
    with pytest.raises(ValueError):
        fill(pattern, n="x")


HANUL = Path(__file__).resolve().parent / "data" / "hanul" / "hanul.yaml"


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("data", [DEFAULT_DATA, HANUL], ids=["bundled", "default-outline"])
def test_outline_matches_its_golden(data, lang, tmp_path):
    """Rendered outlines are reviewable YAML; regenerate with UPDATE_GOLDENS=1 pytest."""
    session = BuildSession()
    text = session.render(session.read_inputs(BuildRequest(data, tmp_path)), lang).text
    golden = GOLDEN / f"{data.stem}.{lang}.yaml"
    if os.environ.get("UPDATE_GOLDENS"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden} differs from the rendered outline; if the change is intended, "
        "regenerate with UPDATE_GOLDENS=1 python3 -m pytest tests/test_templating.py")
