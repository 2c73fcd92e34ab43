"""Loading and validating the data file: every error kind, with file, line and field."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from helpers import DEFAULT_DATA, png_header

from deck.data import agrees, load_briefing
from deck.diagnostics import UserError

MINIMAL = textwrap.dedent("""\
    schema: 1
    languages: [ko, en]
    template: deepseek
    article:
      outlet: {ko: 뉴시스, en: Newsis}
      title: {ko: 제목, en: Title}
      section: {ko: IT, en: IT}
      reporter: {ko: 기자, en: Reporter}
      published: 2025-02-02T08:00:00+09:00
    sources:
      acme: {ko: 에이크미, en: Acme}
    claims:
      - id: first
        para: 1
        by: acme
        kind: figure
        text: {ko: "비용 {fig:cost}", en: "Cost {fig:cost}"}
        figures:
          - {id: cost, value: 100, unit: USD}
          - {id: part, value: 5.576, unit: USD}
      - id: second
        para: 2
        by: acme
        kind: figure
        text: {ko: 비율, en: Share}
        figures:
          - {id: share, value: 5.5, unit: percent}
    derived:
      - id: computed
        op: ratio
        of: [part, cost]
        unit: percent
        reported: [share]
    deck:
      takeaway: {ko: 요약, en: Summary}
      headings: {title: {ko: 제목, en: Title}}
    """)


def _load(tmp_path, text: str, strict: bool = False):
    path = tmp_path / "article.yaml"
    path.write_text(text, encoding="utf-8")
    return load_briefing(path, strict=strict)


def _errors(tmp_path, text: str) -> list[str]:
    with pytest.raises(UserError) as info:
        _load(tmp_path, text)
    return [str(d) for d in info.value.diagnostics]


def test_minimal_file_loads_and_computes_derived(tmp_path):
    loaded, warnings = _load(tmp_path, MINIMAL)
    assert warnings.items == []
    # shown with three significant digits, the figure keeps the value as shown
    assert loaded.figures["computed"].value == 5.58
    assert loaded.claim_numbers == {"first": 1, "second": 2}


def test_bundled_article_loads_clean_in_strict_mode():
    loaded, warnings = load_briefing(DEFAULT_DATA, strict=True)
    assert warnings.items == []
    assert len(loaded.briefing.claims) >= 45
    assert loaded.figures["v3_share_of_gpt4"].value == 5.58


# (what to change, expected line, expected text in the message)
CASES = [
    ("missing translation", ("text: {ko: 비율, en: Share}", "text: {ko: 비율}"), 25,
     "claims[second].text: missing translation; expected a 'en' text"),
    ("unknown language", ("languages: [ko, en]", "languages: [ko, en, kr]"), 2,
     "unknown language; expected a language tag Babel knows"),
    ("duplicate id", ("  - id: second", "  - id: first"), 21,
     "duplicate claim id; expected unique ids, got 'first' again (first on line 13)"),
    ("unknown source", ("    by: acme\n    kind: figure\n    text: {ko: 비율",
                        "    by: acme-corp\n    kind: figure\n    text: {ko: 비율"), 23,
     "unknown source; expected one of ['acme'], got 'acme-corp'"),
    ("unknown claim reference", ("deck:\n", "checks:\n  - id: c\n    claim: nope\n"
                                 "    source: {ko: a, en: b}\n    text: {ko: a, en: b}\ndeck:\n"),
     36, "checks[c].claim: unknown claim; expected a claim id, got 'nope'"),
    ("wrong type", ("{id: cost, value: 100, unit: USD}", "{id: cost, value: lots, unit: USD}"),
     19, "claims[first].figures[cost].value: input should be a valid number"),
    ("unknown unit", ("{id: cost, value: 100, unit: USD}", "{id: cost, value: 100, unit: EURO}"),
     19, "not allowed; expected 'USD', 'KRW'"),
    ("unknown figure in text", ("Cost {fig:cost}", "Cost {fig:price}"), 17,
     "unknown figure in {fig:...}; expected a figure id, got 'price'"),
    ("unknown field", ("    para: 2\n", "    para: 2\n    paragraph: 2\n"), 23,
     "unknown field; expected one of id, place, para, by, kind, date, date_text, text, short, "
     "figures, got 'paragraph'"),
    ("missing field", ("  reporter: {ko: 기자, en: Reporter}\n", ""), 4,
     "article.reporter: missing"),
    ("bad id", ("  - id: second", "  - id: Second Claim"), 21,
     "bad identifier; expected kebab-case like 'v3-cost', got 'Second Claim'"),
    ("control character", ("text: {ko: 비율, en: Share}", 'text: {ko: 비율, en: "Sh\\x07are"}'),
     25, "control character U+0007 cannot be stored"),
    ("duplicate key", ("    para: 2\n", "    para: 2\n    para: 3\n"), 23,
     "duplicate key; expected each key once"),
    ("derived of unknown figure", ("of: [part, cost]", "of: [part, price]"), 31,
     "unknown figure; expected a figure id defined in claims or checks, got 'price'"),
    ("missing paragraph", ("    para: 2\n", ""), 21, "claims[second].para: missing"),
]


@pytest.mark.parametrize(("change", "line", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_error_names_file_line_and_field(tmp_path, change, line, message):
    old, new = change
    assert old in MINIMAL
    errors = _errors(tmp_path, MINIMAL.replace(old, new, 1))
    path = str(tmp_path / "article.yaml")
    hits = [e for e in errors if message in e]
    assert hits, errors
    assert hits[0].startswith(f"{path}:{line}:"), hits[0]


def test_all_problems_are_reported_at_once(tmp_path):
    text = (MINIMAL.replace("text: {ko: 비율, en: Share}", "text: {ko: 비율}")
            .replace("    by: acme\n    kind: figure\n    text: {ko: 비율",
                     "    by: nobody\n    kind: figure\n    text: {ko: 비율"))
    errors = _errors(tmp_path, text)
    assert len(errors) == 2, errors


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.77])
def test_truncated_file_gives_a_syntax_or_schema_error(tmp_path, data_text, cut):
    errors = _errors(tmp_path, data_text[: int(len(data_text) * cut)])
    assert errors and all(e.startswith(str(tmp_path / "article.yaml")) for e in errors)


def test_yaml_syntax_error_names_line(tmp_path):
    errors = _errors(tmp_path, MINIMAL.replace("title: {ko: 제목, en: Title}",
                                               'title: {ko: "제목, en: Title}'))
    assert errors[0].startswith(f"{tmp_path / 'article.yaml'}:")
    assert "YAML syntax" in errors[0]


def test_disagreeing_derived_figure_warns_and_strict_fails(tmp_path):
    text = MINIMAL.replace("{id: share, value: 5.5, unit: percent}",
                           "{id: share, value: 4.9, unit: percent}")
    _, warnings = _load(tmp_path, text)
    [w] = warnings.items
    assert "computed ratio of part, cost is 5.576, but share reports 4.9" in str(w)
    with pytest.raises(UserError):
        _load(tmp_path, text, strict=True)


@pytest.mark.parametrize(("computed", "reported", "approx", "ok"), [
    (5.576, 5.5, False, True),     # cut to one decimal
    (5.576, 5.6, False, True),     # rounded
    (5.576, 5, False, True),       # headline '5%'
    (5.576, 5.4, False, False),
    (8.0945e9, 8.1e9, True, True),  # '약 81억원'
    (8.0945e9, 7e9, True, False),
    (5_576_000, 5_576_000, False, True),
])
def test_agreement_within_rounding(computed, reported, approx, ok):
    assert agrees(computed, reported, approx) is ok


def test_missing_file(tmp_path):
    with pytest.raises(UserError) as info:
        load_briefing(tmp_path / "nope.yaml")
    assert "data file not found" in str(info.value)


# ------------------------------------------------------------------------------------------
# images referenced by a data file


def _with_image(path: str) -> str:
    return MINIMAL.replace("deck:\n", "images:\n  - id: pic\n    path: " + path
                           + "\n    alt: {ko: 그림, en: Picture}\ndeck:\n")


def test_an_image_beside_the_data_file_loads(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8), "white").save(tmp_path / "ok.png")
    loaded, _ = _load(tmp_path, _with_image("ok.png"))
    assert loaded.images["pic"].path == (tmp_path / "ok.png").resolve()
    assert (loaded.images["pic"].width_px, loaded.images["pic"].height_px) == (8, 8)


@pytest.mark.parametrize(("path", "content", "message"), [
    ("../outside.png", None, "image path escapes its folder"),
    ("/etc/hostname", None, "image path escapes its folder"),
    ("sub/../../outside.png", None, "image path escapes its folder"),
    ("missing.png", None, "image not found"),
    ("notes.png", b"just some text, not an image", "not a readable image"),
    ("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00", "not a readable image"),
    ("bomb.png", png_header(40_000, 40_000), "image refused as a decompression bomb"),
])
def test_bad_images_are_refused_with_a_clear_error(tmp_path, path, content, message):
    if content is not None:
        (tmp_path / path).write_bytes(content)
    errors = _errors(tmp_path, _with_image(path))
    assert any(f"images[pic].path: {message}" in e for e in errors), errors


# ------------------------------------------------------------------------------------------
# numbers right by default


def test_a_figure_keeps_the_precision_it_was_written_with(tmp_path):
    loaded, _ = _load(tmp_path, MINIMAL.replace("{id: share, value: 5.5, unit: percent}",
                                                "{id: share, value: 2.0, unit: percent}")
                      .replace("    reported: [share]\n", ""))
    assert loaded.figures["share"].decimals == 1
    assert loaded.figures["cost"].decimals is None
    loaded, _ = _load(tmp_path, MINIMAL.replace("{id: cost, value: 100, unit: USD}",
                                                "{id: cost, value: 100, unit: USD, decimals: 2}"))
    assert loaded.figures["cost"].decimals == 2


def test_a_difference_keeps_its_inputs_precision_without_float_noise(tmp_path):
    text = MINIMAL.replace("""      - {id: share, value: 5.5, unit: percent}""",
                           """      - {id: share, value: 5.5, unit: percent}
      - {id: before, value: 2.0, unit: percent}
      - {id: after, value: 9.6, unit: percent}""").replace(
        "derived:\n", "derived:\n  - {id: rise, op: difference, of: [after, before], "
        "unit: percentage_points}\n")
    loaded, _ = _load(tmp_path, text)
    rise = loaded.figures["rise"]
    assert (rise.value, rise.decimals, rise.unit) == (7.6, 1, "percentage_points")


def _growth(reported: str) -> str:
    return MINIMAL.replace("""      - {id: share, value: 5.5, unit: percent}""",
                           f"""      - {{id: share, value: 5.5, unit: percent}}
      - {{id: old, value: 800, unit: count}}
      - {{id: new, value: 3170, unit: count}}
      - {{id: growth_reported, value: 4, unit: multiple{reported}}}""").replace(
        "derived:\n", "derived:\n  - {id: growth, op: multiple, of: [new, old], unit: multiple, "
        "reported: [growth_reported]}\n")


def test_a_bound_the_computed_value_breaks_is_a_warning(tmp_path):
    """'more than 4x' against a computed 3.96x: the old check compared it as 4 and passed."""
    loaded, warnings = _load(tmp_path, _growth(", qualifier: more_than"))
    assert loaded.figures["growth"].value == 3.96  # three significant digits, not 4.0
    [w] = warnings.items
    assert "computed multiple of new, old is 3.9625, but growth_reported reports more than " \
           "4; expected the computed value to be more than it" in str(w)
    _, warnings = _load(tmp_path, _growth(", qualifier: at_most"))
    assert warnings.items == []
    _, warnings = _load(tmp_path, _growth(""))  # plain 4: agrees within rounding
    assert warnings.items == []


def test_a_disagreement_shows_plain_digits(tmp_path):
    """Large numbers read as a person writes them, not as '1.013E+6'."""
    text = _growth("").replace("value: 800, unit: count", "value: 800000, unit: count").replace(
        "value: 3170, unit: count", "value: 1013000, unit: count").replace(
        "op: multiple, of: [new, old], unit: multiple", "op: sum, of: [new, old], unit: count"
    ).replace("{id: growth_reported, value: 4, unit: multiple}",
              "{id: growth_reported, value: 1900000, unit: count}")
    _, warnings = _load(tmp_path, text)
    [w] = warnings.items
    assert "is 1,813,000, but growth_reported reports 1,900,000;" in str(w), str(w)


@pytest.mark.parametrize(("value", "message"), [
    (".nan", "not a number the deck can show; expected a finite number"),
    (".inf", "not a number the deck can show; expected a finite number"),
    ("123456789012345678901234", "not a number the deck can show; expected a finite number of "
     "at most 10^18 in absolute value, got 1.2345678901234569e+23"),
    ("1234567890123456.123456", "absurd figure: 22 digits; expected at most 20"),
])
def test_an_absurd_figure_is_an_error_at_its_line(tmp_path, value, message):
    errors = _errors(tmp_path, MINIMAL.replace("{id: cost, value: 100, unit: USD}",
                                               f"{{id: cost, value: {value}, unit: USD}}"))
    assert any(e.startswith(f"{tmp_path / 'article.yaml'}:19:") and message in e
               for e in errors), errors


def test_an_absurd_derived_figure_is_an_error_at_its_line(tmp_path):
    text = MINIMAL.replace("{id: part, value: 5.576, unit: USD}",
                           "{id: part, value: 1.0e+17, unit: USD}").replace(
        "{id: cost, value: 100, unit: USD}", "{id: cost, value: 0.001, unit: USD}").replace(
        "    reported: [share]\n", "")
    errors = _errors(tmp_path, text)
    assert any(":29: derived[computed]: the ratio of part, cost is 1e+22; expected a finite "
               "result of at most 10^18" in e for e in errors), errors


# ------------------------------------------------------------------------------------------
# times


@pytest.mark.parametrize(("published", "extra", "ok"), [
    ("2025-02-02T08:00:00+09:00", "", True),
    ("2025-02-02", "", True),
    ("2025-02-02T08:00:00", "", False),
    ("2025-02-02T08:00:00", "  timezone: Asia/Seoul\n", True),
    ("2025-02-02T08:00:00", "  timezone: Asia/Nowhere\n", False),
])
def test_a_time_needs_an_offset_or_a_zone(tmp_path, published, extra, ok):
    text = MINIMAL.replace("  published: 2025-02-02T08:00:00+09:00\n",
                           f"  published: {published}\n{extra}")
    if ok:
        loaded, _ = _load(tmp_path, text)
        if "T" in published:
            assert loaded.published.utcoffset().total_seconds() == 9 * 3600
        else:
            assert loaded.published == dt.date(2025, 2, 2)
    else:
        errors = _errors(tmp_path, text)
        assert any(("time without a UTC offset" in e and ":9: article.published" in e)
                   or "unknown time zone" in e for e in errors), errors


# ------------------------------------------------------------------------------------------
# TODOs left by --init, sections


def test_a_file_with_todos_lists_every_todo_and_nothing_else(tmp_path):
    text = (MINIMAL.replace("text: {ko: 비율, en: Share}", "text: {ko: TODO, en: TODO}")
            .replace("kind: figure\n    text: {ko: 비율", "kind: TODO\n    text: {ko: 비율"))
    errors = _errors(tmp_path, text)
    todo = [e for e in errors if "still a TODO" in e]
    assert [e.split(":")[1] for e in todo] == ["25", "25"]
    assert errors[-1] == "2 TODO(s) left; fill them in (see the comment above each claim) " \
        "and build again" or errors[-1].endswith("and build again")
    assert len(errors) == 3  # no schema noise about 'TODO' not being a kind


SECTIONS = """\
  sections:
    - key: money
      heading: {ko: 돈, en: Money}
      claims: [first, second]
"""


@pytest.mark.parametrize(("extra", "line", "message"), [
    ("      chart: [cost, share]\n", 41, "a chart of figures in different units; expected one "
     "unit (a table shows mixed units: use table:), got ['USD', 'percent']"),
    ("      chart: [cots]\n", 41, "unknown figure; expected a figure id (did you mean 'cost'?)"),
    ("      claims: [frist]\n", 41, "duplicate key"),
    ("      image: map\n", 41, "unknown image; expected an image id"),
    ("      table: [cost]\n      chart: [cost]\n", 38, "a section shows one visual"),
])
def test_sections_name_what_exists(tmp_path, extra, line, message):
    text = MINIMAL + SECTIONS + extra
    errors = _errors(tmp_path, text)
    hits = [e for e in errors if message in e]
    assert hits and hits[0].startswith(f"{tmp_path / 'article.yaml'}:{line}:"), errors


def test_a_section_key_may_not_take_an_outline_key(tmp_path):
    errors = _errors(tmp_path, MINIMAL + SECTIONS.replace("key: money", "key: sources"))
    assert any(":38: deck.sections[0].key: section key taken" in e for e in errors), errors


def test_an_unclosed_bracket_names_the_line_it_was_opened_on(tmp_path):
    """The parser notices on the next line; the message says where the list began."""
    text = MINIMAL.replace("title: {ko: 제목, en: Title}", "title: [제목, Title")
    line = text.splitlines().index("  title: [제목, Title") + 1
    errors = _errors(tmp_path, text)
    assert f"(begun on line {line})" in errors[0], errors


_BOMB = "\n".join(["bomb:", "  l0: &l0 [" + ", ".join(["lol"] * 9) + "]"] + [
    f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "\n"


@pytest.mark.parametrize("bad, first", [
    ("deep: " + "[" * 999 + "]" * 999 + "\n",
     "f.yaml:1: YAML nesting too deep; expected at most 32 levels, got 33"),
    ("a: 1\nloop: &x [*x]\n", "f.yaml:2: YAML recursive alias *x (it names a node"),
    ("a: &x\n  - 1\n  - *x\n", "f.yaml:3: YAML recursive alias *x"),  # at the alias
    ("a: *nope\n", "f.yaml:1: YAML syntax: found undefined alias 'nope'"),
    ("a: &x 1\nb: &x 2\n", "f.yaml:2: YAML syntax: found duplicate anchor 'x'"),
    (_BOMB, "f.yaml:7: YAML too many values once aliases are expanded"),
    ("a: &a [1, 2]\nb: [*a, *a]\nc: {x: 1, x: 2}\n", None),
])
def test_libyaml_and_pure_python_composers_agree(monkeypatch, bad, first):
    """libyaml composes and the limits are checked afterwards, and a document it finds at
    fault is read again by the composer that checks as it goes, for the message; without
    libyaml's composer (``_CParser`` None) that composer does it all: same data, lines,
    duplicate keys, refusals and messages either way."""
    from deck import yamlsrc
    from deck.diagnostics import Diagnostics

    def read(text: str) -> tuple:
        diags = Diagnostics()
        try:
            raw, lines = yamlsrc.read_yaml(text, "f.yaml", diags)
        except UserError as exc:
            return ("error", str(exc).splitlines()[0])
        return raw, lines, [str(d) for d in diags.items]

    assert yamlsrc._CParser is not None, "PyYAML here was built without libyaml"
    data = DEFAULT_DATA.read_text(encoding="utf-8")
    fast = [read(data), read(bad)]
    monkeypatch.setattr(yamlsrc, "_CParser", None)
    slow = [read(data), read(bad)]
    assert fast == slow and fast[0][0]["article"]
    if first is None:
        assert len(fast[1][2]) == 1  # c's duplicate key, once
    else:
        assert fast[1][0] == "error" and fast[1][1].startswith(first), fast[1]
