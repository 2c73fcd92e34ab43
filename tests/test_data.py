"""Loading and validating the data file: every error kind, with file, line and field."""

from __future__ import annotations

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
    assert loaded.figures["computed"].value == pytest.approx(5.576)
    assert loaded.claim_numbers == {"first": 1, "second": 2}


def test_bundled_article_loads_clean_in_strict_mode():
    loaded, warnings = load_briefing(DEFAULT_DATA, strict=True)
    assert warnings.items == []
    assert len(loaded.briefing.claims) >= 45
    assert loaded.figures["v3_share_of_gpt4"].value == pytest.approx(5.576)


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
    ("unknown unit", ("{id: cost, value: 100, unit: USD}", "{id: cost, value: 100, unit: EUR}"),
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
