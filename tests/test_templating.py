"""Templating: quoting never lets data change the outline; outlines match their goldens."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import jinja2.filters
import jinja2.tests
import pytest
import yaml
from helpers import BIKESHARE, CUSTOM_OUTLINE, DEFAULT_DATA, build, copy_bikeshare
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deck.diagnostics import UserError
from deck.l10n import fill, read_labels
from deck.resources import labels_dir
from deck.sandbox import FILTERS, TESTS
from deck.schema import dump
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


def test_the_escape_pattern_is_the_character_rule_over_all_of_unicode():
    """yaml_quote finds what to escape with one regular expression: exactly the characters
    _yaml_safe refuses, plus the backslash and the double quote, at every code point."""
    from deck.sandbox import _NEEDS_ESCAPE, _yaml_safe

    differ = [hex(o) for o in range(0x110000)
              if bool(_NEEDS_ESCAPE.match(chr(o))) != (chr(o) in '\\"' or not _yaml_safe(chr(o)))]
    assert differ == []


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


# ------------------------------------------------------------------------------------------
# quoting cannot be bypassed: every filter and test Jinja ships, over hostile text


#: pieces that would add a slide, a key or a document if they reached the outline unquoted
_PIECES = ["\n- layout: content\n  key: injected\n  title: x\n", "\n  key: other", '"', "'",
           ": ", " #", "{{ 7*7 }}", "{%", "&", "<b>", "\\", "\r", "\u2028", "\x85", "*a",
           "&a ", "!!python/object:os.system", "\n---\n", "\t", "😀", "[", "]", "{", "}",
           ",", "|", ">", "http://x.example/?a=b&c=d", "a@b.example", "%s", "{0}"]
HOSTILE = st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=8).map("".join)

#: arguments a filter needs to do something with a string, a list or a dict (hostile ones
#: where it takes text)
_FILTER_ARGS = {
    "attr": "('upper')", "batch": "(2, v)", "center": "(30)", "d": "(v)", "default": "(v)",
    "format": "(v, v)", "groupby": "('x')", "indent": "(v, true, true)", "join": "(v)",
    "map": "('e')", "reject": "('none')", "rejectattr": "('x')", "replace": "('a', v)",
    "round": "(1)", "select": "('string')", "selectattr": "('x')", "slice": "(2, v)",
    "trim": "(v)", "truncate": "(200, true, v, 0)", "urlize": "(10, true, v, v)",
    "wordwrap": "(3, true, v)",
}
#: what a filter is given: text, Markup mixed with text, a mapping of both
_SHAPES = {"text": "v", "list": "[v, v|upper, m(v)]", "dict": "{'x': v, 'y': m(v)}",
           "records": "[{'x': v}, {'x': m(v)}]", "number": "(v|length)",
           "numbers": "[v|length, 2]",
           "pattern": "'%s and %s'"}
_TEST_ARGS = {"divisibleby": "(3)", "sameas": "(v)", "eq": "(v)", "equalto": "(v)",
              "ne": "(v)", "in": "(v)", "lt": "(v)", "le": "(v)", "gt": "(v)", "ge": "(v)",
              "lessthan": "(v)", "greaterthan": "(v)", "==": "(v)", "!=": "(v)", "<": "(v)",
              "<=": "(v)", ">": "(v)", ">=": "(v)"}
_EXPECTED = {"slides": [{"layout": "content", "key": "k", "title": None,
                         "bullets": [{"text": "fixed"}]}]}


def _expressions() -> dict[str, str]:
    """Every filter on every shape, every test, and Markup's own operations."""
    out = {f"{name}[{shape}]": f"({value})|{name}{_FILTER_ARGS.get(name, '')}"
           for name in sorted(jinja2.filters.FILTERS) for shape, value in _SHAPES.items()}
    for name in sorted(jinja2.tests.TESTS):
        test = name if name.isidentifier() else {"==": "eq", "!=": "ne", "<": "lt",
                                                 "<=": "le", ">": "gt", ">=": "ge"}[name]
        value = "(v|length)" if name in ("divisibleby", "even", "odd") else "v"
        out[f"is {name}"] = f"{value} is {test}{_TEST_ARGS.get(name, '')}"
        inner = _TEST_ARGS.get(name, "()")[1:-1]
        out[f"select {name}"] = f"[v, v|e]|select('{name}'{', ' + inner if inner else ''})"
    out.update({  # a macro's output is the one value a template makes that is not quoted
        "macro output + text": "m(v) + v", "macro output ~ text": "m(v) ~ v",
        "macro output % text": "m('%s: %s') % (v, v)", "macro output.format": "m(v).format(v)",
        "macro output.join": "m(v).join([v, v])", "macro output.center": "m(v).center(40)",
        "macro output.replace": "m('a').replace('a', v)", "macro of macro": "m(m(v))",
        "macro output|join": "[m('a'), v]|join(m(v))", "caller": "c(v)",
    })
    return out


EXPRESSIONS = _expressions()
_MACROS = ("{% macro m(x) %}{{ x }}{% endmacro %}"
           "{% macro c(x) %}{% call fill(x) %}{% endcall %}{% endmacro %}")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    from deck.files import Roots
    from deck.sandbox import OutlineEnvironment

    folder = tmp_path_factory.mktemp("quoting")
    env = OutlineEnvironment((folder,), Roots.of(folder))

    def compile_(expr: str) -> jinja2.Template | None:
        try:
            return env.from_string(_MACROS + "slides:\n- layout: content\n  key: k\n  title: "
                                   "{{ " + expr + " }}\n  bullets:\n  - text: fixed\n")
        except jinja2.TemplateAssertionError:  # a filter the environment does not have
            return None

    return env, {key: compile_(expr) for key, expr in EXPRESSIONS.items()}


def _render(env, template, text: str) -> str | None:
    """The outline, or None where the template itself fails (a filter refusing a shape)."""
    if template is None:
        return None
    with env.rendering():
        try:
            return template.render(v=text)
        except jinja2.TemplateError:
            return None
        except Exception as exc:  # a test or filter refusing its input, as Jinja raises it
            where = traceback.extract_tb(exc.__traceback__)[-1].filename
            assert "/deck/" not in where, f"{type(exc).__name__} in our code: {exc}"
            return None


def _assert_structure_unchanged(out: str) -> None:
    doc = yaml.safe_load(out)
    title = doc["slides"][0].pop("title")
    assert isinstance(title, str), out
    assert doc == {"slides": [{k: v for k, v in _EXPECTED["slides"][0].items() if k != "title"}]}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(EXPRESSIONS)), text=HOSTILE)
def test_no_filter_test_or_operation_lets_data_add_structure(compiled, key, text):
    env, templates = compiled
    out = _render(env, templates[key], text)
    if out is not None:
        _assert_structure_unchanged(out)


@pytest.mark.parametrize("text", [_PIECES[0] + '"&<b>', "'\n---\n*a &a {{ x }}", "\r\u2028%s"])
def test_every_filter_and_test_is_exercised(compiled, text):
    """Each expression over fixed hostile text: the structure holds, and the property above
    means something: every filter of the template language renders for some shape, every
    other one (``safe`` would switch quoting off, ``e``, ``urlize``... make HTML) is refused,
    every test and operation on a macro's output renders."""
    env, templates = compiled
    rendered = set()
    for key in EXPRESSIONS:
        out = _render(env, templates[key], text)
        if out is not None:
            _assert_structure_unchanged(out)
            rendered.add(key)
    filters = {key.split("[")[0] for key in rendered if "[" in key}
    assert filters == FILTERS
    refused = set(jinja2.filters.FILTERS) - FILTERS
    assert {"safe", "e", "escape", "urlize", "tojson"} <= refused
    assert all(templates[f"{name}[{shape}]"] is None for name in refused for shape in _SHAPES)
    assert {f"is {name}" for name in TESTS} | {
        k for k in EXPRESSIONS if k.startswith(("macro", "caller"))} <= rendered


def test_text_made_from_values_is_quoted_like_any_value(compiled):
    env, templates = compiled
    injected = "x\n- layout: content\n  key: injected\n  title: y"
    for key in ("join[list]", "replace[text]", "title[text]", "macro output|join",
                "macro output.replace", "macro of macro"):
        doc = yaml.safe_load(_render(env, templates[key], injected))
        assert [s["key"] for s in doc["slides"]] == ["k"], key


@pytest.mark.parametrize("attempt", [
    "{{ L.update({'cont': 'X'}) }}", "{{ L.__setitem__('cont', 'X') }}",
    "{{ L.copy().update({'cont': 'X'}) }}", "{{ L.__struct_config__ }}",
    "{{ deck.summary.append('x') }}", "{{ claims.pop('total') }}",
    "{{ fig.rides_mar.__class__ }}", "{{ L.cont.__class__.__base__ }}",
])
def test_a_template_cannot_change_what_later_builds_see(tmp_path, attempt):
    """A template that tries to change the label catalog or the data fails, and the next
    build in the same session is byte for byte a fresh session's."""
    session = BuildSession()
    data = copy_bikeshare(tmp_path / "hostile", outline=CUSTOM_OUTLINE.read_text(
        encoding="utf-8").replace("{{ deck.takeaway }}", attempt, 1))
    with pytest.raises(UserError):
        build(data, tmp_path / "out1", session=session)
    assert dump(session.labels("en")) == dump(read_labels(labels_dir() / "en.yaml"))
    again = build(BIKESHARE, tmp_path / "out2", session=session)
    fresh = build(BIKESHARE, tmp_path / "out3")
    assert [d.data for d in again] == [d.data for d in fresh]


def test_rendered_lines_are_traced_by_offset_as_f_lineno_would(monkeypatch):
    """The render tracer looks each chunk's line up by its instruction offset in a table read
    once (f_lineno re-reads the whole table each time: quadratic in a long template); the
    lines must be those f_lineno gives, at every chunk of the bundled outlines."""
    import bisect

    from helpers import DEFAULT_DATA, HANUL

    import deck.templating as templating
    from deck.session import BuildRequest, BuildSession

    traced = templating._render_traced
    compared: list[bool] = []

    def both(env, template, context):
        gen = template.root_render_func(template.new_context(context))
        starts, lines = templating._line_table(gen.gi_code)
        for _chunk in gen:
            frame = gen.gi_frame
            if frame is not None:
                compared.append(lines[bisect.bisect_right(starts, frame.f_lasti) - 1]
                                == frame.f_lineno)
        return traced(env, template, context)

    monkeypatch.setattr(templating, "_render_traced", both)
    session = BuildSession()
    for data in (DEFAULT_DATA, HANUL):
        session.outline(session.read_inputs(BuildRequest(data, Path("/nonexistent"))), "ko")
    assert len(compared) > 1000 and all(compared)


def test_a_view_a_template_passes_on_counts_with_its_fields():
    """The size of what a template hands a filter or writes counts each field of the views
    deck.context gives it (a claim's text, a section's chart), not one per view; any other
    object counts one."""
    from deck.context import ChartView, ClaimView, SectionView
    from deck.sandbox import value_size

    limit = 10_000
    claim = ClaimView("c1", 1, "x" * 1000, "short", "by", "where", "kind", "*", "", ())
    assert value_size(claim, limit) > 1000
    chart = ChartView("bar", ("a" * 500,), ("f1",), "series", "axis", "", False, False)
    section = SectionView("s", "heading", ("c1",), "chart", ("f1",), chart, "", "y" * 300)
    assert value_size(section, limit) > 800
    assert value_size(object(), limit) == 1
