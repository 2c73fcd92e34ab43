"""End to end: the decks hold what the data file says, and nothing a user made is ever lost."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    BIKESHARE,
    COMPANY,
    CUSTOM_OUTLINE,
    DEFAULT_DATA,
    ROOT,
    build,
    copy_bikeshare,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pptx import Presentation

from deck import l10n
from deck.cli import main
from deck.context import briefing_context
from deck.data import load_briefing
from deck.diagnostics import UserError
from deck.schema import dump
from deck.session import BuildSession


def context(lang: str) -> dict:
    """What the bundled article's outline template sees in ``lang``."""
    loaded, _ = load_briefing(DEFAULT_DATA)
    labels = BuildSession().labels(lang)
    return briefing_context(loaded, lang, labels, l10n.claim_markers(loaded.claim_numbers,
                                                                     labels))


def slide_texts(path: Path) -> list[list[str]]:
    """Every text of every slide: shapes, table cells, in order."""
    out = []
    for slide in Presentation(str(path)).slides:
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                texts.extend(c.text for row in shape.table.rows for c in row.cells)
        out.append(texts)
    return out


def sources_rows(path: Path) -> list[list[str]]:
    rows = []
    for slide in Presentation(str(path)).slides:
        if slide.slide_layout.name != "Sources":
            continue
        for shape in slide.shapes:
            if shape.has_table:
                rows.extend([c.text for c in r.cells] for r in list(shape.table.rows)[1:])
    return rows


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_sources_slides_list_every_claim(built_decks, lang):
    loaded, _ = load_briefing(DEFAULT_DATA)
    ctx = context(lang)
    rows = sources_rows(built_decks[lang].path)
    assert [int(r[0]) for r in rows] == list(range(1, len(loaded.briefing.claims) + 1))
    for row, claim in zip(rows, ctx["all_claims"], strict=True):
        assert row[1] == claim.text
        assert row[2] == claim.by
        assert row[3] == claim.where


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_number_on_a_content_slide_comes_from_the_data_file(built_decks, lang):
    loaded, _ = load_briefing(DEFAULT_DATA)
    raw_text = DEFAULT_DATA.read_text(encoding="utf-8")
    allowed = _numbers(raw_text)  # model names (H800, GPT-4), dates, literal figures
    numbers = l10n.Numbers(lang, BuildSession().labels(lang))
    for f in loaded.figures.values():
        allowed |= _numbers(f.text(numbers))
        if f.as_of:
            allowed |= _numbers(l10n.format_short_day(f.as_of, lang))
    allowed |= _numbers(l10n.format_timestamp(loaded.published, lang))
    allowed |= _numbers(l10n.format_timestamp(loaded.updated, lang))
    allowed |= {str(n) for n in loaded.claim_numbers.values()}
    labels = BuildSession().labels(lang)
    allowed |= _numbers(" ".join(str(v) for v in dump(labels).values()))
    pages = {str(n) for n in range(1, 20)}  # "(2/3)" and slide numbers
    for index, texts in enumerate(slide_texts(built_decks[lang].path), start=1):
        for text in texts:
            stray = _numbers(text) - allowed - pages
            assert not stray, f"slide {index}: {stray} in {text!r}"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_chart_values_are_the_data_files(built_decks, lang):
    loaded, _ = load_briefing(DEFAULT_DATA)
    values = {f.value for f in loaded.figures.values()}
    charts = [s for slide in Presentation(str(built_decks[lang].path)).slides
              for s in slide.shapes if s.has_chart]
    assert len(charts) >= 5
    for chart in charts:
        for series in chart.chart.plots[0].series:
            assert set(series.values) <= values


def test_english_deck_has_no_korean(built_decks):
    for texts in slide_texts(built_decks["en"].path):
        for text in texts:
            assert not re.search("[\uac00-\ud7a3]", text), text


def test_nine_sections_in_each_deck(built_decks):
    for lang, b in built_decks.items():
        names = [s.slide_layout.name for s in Presentation(str(b.path)).slides]
        assert names[0] == "Title"
        assert names.count("Chart") >= 4 and "Two Content" in names and "Table" in names
        assert names.count("Sources") >= 2, lang  # paginated, never clipped
        notes = [s.has_notes_slide for s in Presentation(str(b.path)).slides]
        assert sum(notes) >= len(names) - 1


# ------------------------------------------------------------------------------------------
# the command line


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the kept bases in .deck/ too), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_malformed_data_exits_2_lists_errors_and_leaves_out_untouched(tmp_path):
    out = tmp_path / "out"
    assert main([str(BIKESHARE), "--out", str(out)]) == 0
    before = _snapshot(out)
    bad = copy_bikeshare(tmp_path, BIKESHARE.read_text(encoding="utf-8")
                         .replace("by: operator", "by: nobody")
                         .replace('text: {en: "Rides in May: {fig:rides_may}"}', "text: {}"))
    result = run_cli(str(bad), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith(str(bad))]
    assert len(lines) == 2, result.stderr
    assert "unknown source; expected one of" in result.stderr
    assert "missing translation; expected a 'en' text" in result.stderr
    assert _snapshot(out) == before


def test_unwritable_output_and_bad_flags(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli(str(BIKESHARE), "--out", str(blocker / "sub"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--out" in result.stderr
    result = run_cli(str(BIKESHARE), "--lang", "fr", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "language not in the data file" in result.stderr
    result = run_cli(str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "data file not found" in result.stderr


def test_hand_edited_deck_is_never_silently_overwritten(tmp_path):
    out = tmp_path / "out"
    assert main([str(BIKESHARE), "--out", str(out)]) == 0
    deck = out / "bikeshare.en.pptx"
    pristine = deck.read_bytes()
    assert (out / ".deck" / deck.name).read_bytes() == pristine  # the base a merge needs
    assert main([str(BIKESHARE), "--out", str(out)]) == 0  # unchanged: simply rebuilt
    assert deck.read_bytes() == pristine

    prs = Presentation(str(deck))
    prs.slides[0].shapes.title.text_frame.text = "Edited in PowerPoint"
    prs.save(str(deck))
    edited = deck.read_bytes()
    result = run_cli(str(BIKESHARE), "--out", str(out))
    assert result.returncode != 0
    assert str(deck) in result.stderr and "--force" in result.stderr
    assert "--merge to carry your edits into the new build" in result.stderr
    assert deck.read_bytes() == edited

    assert main([str(BIKESHARE), "--out", str(out), "--force"]) == 0
    backups = list(out.glob("bikeshare.en.*.bak.pptx"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited
    assert deck.read_bytes() == pristine


def _build_in_process(out: Path, seed: str, epoch: str | None = None) -> dict[str, bytes]:
    """Both bundled decks built by a new Python process with its own hash seed."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONHASHSEED"] = seed
    if epoch:
        env["SOURCE_DATE_EPOCH"] = epoch
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "--out", str(out)], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.pptx"))}


def test_same_inputs_give_byte_identical_decks_across_processes(tmp_path):
    first = _build_in_process(tmp_path / "a", "1")
    second = _build_in_process(tmp_path / "b", "2")
    assert len(first) == 2 and first == second
    third = _build_in_process(tmp_path / "c", "3", epoch="1700000000")
    # the document date follows SOURCE_DATE_EPOCH
    assert all(third[name] != first[name] for name in first)


# ------------------------------------------------------------------------------------------
# templates


def test_company_template_uses_its_own_layouts(tmp_path):
    [built] = build(DEFAULT_DATA, tmp_path, ["en"], template=COMPANY)
    names = {s.slide_layout.name for s in Presentation(str(built.path)).slides}
    assert {"Cover", "Graph Slide", "References"} <= names
    assert not names & {"Title", "Chart", "Sources"}


def test_missing_layout_lists_what_the_template_has(tmp_path):
    pptx = tmp_path / "company.pptx"
    shutil.copy(COMPANY, pptx)
    cfg = COMPANY.with_suffix(".yaml").read_text(encoding="utf-8")
    (tmp_path / "company.yaml").write_text(cfg.replace("References", "Bibliography"),
                                           encoding="utf-8")
    with pytest.raises(UserError) as info:
        build(DEFAULT_DATA, tmp_path / "out", ["en"], template=pptx)
    message = str(info.value)
    assert "couldn't find layout named 'Bibliography'" in message
    assert "'References'" in message and "'Cover'" in message


CUSTOM = CUSTOM_OUTLINE.read_text(encoding="utf-8")


def _article_with_template(tmp_path: Path, template_text: str) -> Path:
    return copy_bikeshare(tmp_path, outline=template_text)


def test_template_typo_names_file_and_line(tmp_path):
    data = _article_with_template(tmp_path, CUSTOM.replace("{% endfor %}", "{% endfro %}", 1))
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert d.path.endswith("custom.yaml.j2") and d.line is not None
    assert "endfro" in d.message


def test_template_undefined_name_names_line(tmp_path):
    data = _article_with_template(tmp_path, CUSTOM.replace("deck.headings.rides",
                                                           "deck.headings.ridez", 1))
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert d.line == 12  # "title: {{ deck.headings.rides }}"
    assert "no heading 'ridez' (did you mean 'rides'?)" in d.message


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ('claims[id].text }}\n    claims: {{ [id]', 'claims[id ~ "x"].text }}\n    claims: {{ [id]',
     20, "no claim 'rides-marchx' (did you mean 'rides-march', "),
    ("{{ claims.stations.text }}", "{{ claims.statons.text }}", 31,
     "no claim 'statons' (did you mean 'stations'?)"),
    ("{{ fig.spring_sum.text }}", "{{ fig.spring_summ.text }}", 24,
     "no figure 'spring_summ' (did you mean 'spring_sum'?)"),
    ("{{ claims.stations.text }}", "{{ claims.stations.txt }}", 31,
     "ClaimView has no field 'txt'; expected one of id, n, text, short"),
    ("{{ deck.takeaway }}", "{{ deckk.takeaway }}", 7, "'deckk' is undefined (did you mean "
     "'deck'?)"),
])
def test_undefined_names_suggest_what_exists(tmp_path, old, new, line, message):
    assert old in CUSTOM
    data = _article_with_template(tmp_path, CUSTOM.replace(old, new, 1))
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert d.path.endswith("custom.yaml.j2") and d.line == line, d
    assert message in d.message, d.message


def test_a_wrong_id_passed_to_a_macro_is_reported_where_the_macro_is_called(tmp_path):
    outline = CUSTOM.replace("slides:\n", "{% macro said(id) %}{{ claims[id].text }}"
                             "{% endmacro %}\nslides:\n", 1)
    outline = outline.replace("  - text: {{ claims.stations.text }}",
                              '  - text: {{ said("statons") }}', 1)
    data = _article_with_template(tmp_path, outline)
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert d.line == 32, d  # the call, not the macro's line 3
    assert "no claim 'statons' (did you mean 'stations'?)" in d.message
    assert "(used at line 3)" in d.message


def test_template_cannot_reach_python_internals(tmp_path):
    data = _article_with_template(
        tmp_path, CUSTOM.replace("{{ deck.takeaway }}",
                                 "{{ deck.__class__.__init__.__globals__ }}", 1))
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    assert "sandbox" in str(info.value) or "undefined" in str(info.value)


# ------------------------------------------------------------------------------------------
# hostile text reaches the slide exactly

HOSTILE = [
    'He said "yes": it\'s #1 - [ok] {x} | y',
    "{{ 7*7 }} {% raw %} {# no #}",
    "<b>&amp; </b> & < >",
    "emoji 🚀🇰🇷 and 한국어 mixed",
    "مرحبا بالعالم",
    "zero\u200bwidth\u200djoiner\ufeff",
    "line\u2028separator and NEL\x85 here",
    "x" * 1000,  # one unbroken token; longer ones continue on new slides (test_fit)
    "---\n- not: a list\n...",
    "\\ backslash \\n not a newline",
]


def _bikeshare_with(tmp_path: Path, text: str) -> Path:
    import yaml

    data = yaml.safe_load(BIKESHARE.read_text(encoding="utf-8"))
    data["claims"][0]["text"]["en"] = text
    # a title of one line: a longer one, or three lines, do not fit a title box (refused)
    data["deck"]["sections"][0]["heading"]["en"] = text.splitlines()[0][:60]
    return copy_bikeshare(tmp_path, yaml.safe_dump(data, allow_unicode=True))


def _all_text(path: Path) -> str:
    """Slide texts and speaker notes of a deck, as one string."""
    notes = [s.notes_slide.notes_text_frame.text for s in Presentation(str(path)).slides
             if s.has_notes_slide]
    return "\n".join(["\n".join(t) for t in slide_texts(path)] + notes)


def _every_field_with(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    """The test article with ``text`` (plus a field number) in every translatable field that a
    deck shows; returns the data file and the strings that must reach the deck."""
    import yaml

    data = yaml.safe_load(BIKESHARE.read_text(encoding="utf-8"))
    fields: list[dict] = [c["text"] for c in data["claims"]]
    fields += [data["deck"]["headings"][k] for k in ("title", "sources")]
    fields += [s["heading"] for s in data["deck"]["sections"]] + [data["deck"]["takeaway"]]
    fields += list(data["sources"].values())
    fields += [data["article"][k] for k in ("outlet", "title", "reporter")]
    expected = []
    for i, field in enumerate(fields):
        field["en"] = f"{text}⟦{i}⟧"
        expected.append(field["en"])
    return copy_bikeshare(tmp_path, yaml.safe_dump(data, allow_unicode=True)), expected


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_reaches_the_slide_verbatim(tmp_path, text):
    data = _bikeshare_with(tmp_path, text)
    [built] = build(data, tmp_path / "out")
    shown = _all_text(built.path)
    # python-pptx reads a:br back as "\v" and vertical tab/line breaks as "\n"
    expected = text.replace("\n", "\v")
    assert expected in shown.replace("\n", "\v") or text in shown


# NEL and the Unicode line separators are left out: PyYAML's emitter (which writes these test
# files) can put them raw into single-quoted scalars, where YAML folds them into spaces. HOSTILE
# above carries them in a string PyYAML double-quotes, and our own quoting always escapes them.
_XML_TEXT = st.characters(blacklist_categories=("Cs",),
                          blacklist_characters="\x00\r\x85\u2028\u2029",
                          min_codepoint=0x09).filter(
    lambda c: c in "\t\n" or ord(c) >= 0x20)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=st.text(_XML_TEXT, min_size=1, max_size=80).filter(
    lambda t: t.strip() and "{fig:" not in t and "\ufffe" not in t and "\uffff" not in t))
def test_any_text_in_every_field_builds_and_appears(tmp_path_factory, text):
    """Any text in every field is shown whole, or the build says which title, subtitle or
    footer it cannot fit even at the floor size (a title box holds one line or two): nothing is
    ever clipped, and nothing else is refused."""
    tmp = tmp_path_factory.mktemp("prop")
    data, expected = _every_field_with(tmp, text)
    try:
        [built] = build(data, tmp / "out")
    except UserError as exc:
        assert all(re.search(r"\.(title|subtitle|footer) \(en\)$", d.field)
                   and "too long for its box even at" in d.message for d in exc.diagnostics)
        assert not (tmp / "out").exists()
        return
    shown = _all_text(built.path).replace("\v", "\n")
    for field_text in expected:
        assert field_text in shown


def test_colliding_chart_labels_are_turned_by_rule(tmp_path):
    import yaml

    data = yaml.safe_load(BIKESHARE.read_text(encoding="utf-8"))
    for claim in data["claims"][:3]:
        claim["figures"][0]["label"] = {"en": "A month label far too long to sit side by side"}
    path = copy_bikeshare(tmp_path, yaml.safe_dump(data, allow_unicode=True))
    [built] = build(path, tmp_path / "out")
    [chart] = [s.chart for slide in Presentation(str(built.path)).slides for s in slide.shapes
               if s.has_chart]
    body_pr = chart.category_axis._element.xpath("./c:txPr/a:bodyPr")[0]
    assert body_pr.get("rot") == "-2700000"
    assert chart.category_axis.tick_labels.font.size.pt == 9
    [plain] = build(BIKESHARE, tmp_path / "plain")
    [chart] = [s.chart for slide in Presentation(str(plain.path)).slides for s in slide.shapes
               if s.has_chart]
    assert not chart.category_axis._element.xpath("./c:txPr/a:bodyPr[@rot]")


@pytest.mark.parametrize(("old", "new"), [
    ("Mixture of Experts: only what's needed", "Mixture of Experts: the few that matter"),
    ("V3 cost {fig:v3_cost_usd} ({fig:v3_cost_krw})", "V3 took {fig:v3_cost_usd}"),
    ("value: 191556", "value: 191557"),  # a chart figure: that slide and its chart rebuild
])
def test_rebuild_after_one_change_equals_a_fresh_build(tmp_path, old, new):
    data = tmp_path / DEFAULT_DATA.name
    text = DEFAULT_DATA.read_text(encoding="utf-8")
    assert old in text
    data.write_text(text, encoding="utf-8")
    session = BuildSession()  # this test is about reuse: one session for both builds
    first = {b.lang: b.data for b in build(data, tmp_path / "a", session=session)}
    data.write_text(text.replace(old, new, 1), encoding="utf-8")
    rebuilt = {b.lang: b.data for b in build(data, tmp_path / "a", session=session)}
    fresh = {b.lang: b.data for b in build(data, tmp_path / "b")}
    assert rebuilt == fresh and rebuilt != first


# ------------------------------------------------------------------------------------------
# numbers on slides


def test_a_hedge_written_next_to_an_approximate_figure_is_an_error(tmp_path):
    """The docs once wrote '(약 {fig:...})': the slide read '약 약 16조 3,000억 원'."""
    old = 'text: {en: "Spring total: {fig:rides_total}"}'
    text = BIKESHARE.read_text(encoding="utf-8")
    assert old in text
    line = text[:text.index(old)].count("\n") + 1
    data = copy_bikeshare(tmp_path, text.replace(old, old.replace("{fig", "about {fig")))
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert (d.path, d.line, d.field) == (str(data), line, "claims[total].text.en")
    assert "'about' written next to {fig:rides_total}, which already reads 'about 1 million'" \
        in d.message


def test_a_chart_mixing_units_is_an_error_at_the_template_line(tmp_path):
    outline = CUSTOM.replace("points: [rides_mar, rides_apr, rides_may]",
                             "points: [rides_mar, commute_share, rides_may]", 1)
    data = _article_with_template(tmp_path, outline)
    with pytest.raises(UserError) as info:
        build(data, tmp_path / "out")
    [d] = info.value.diagnostics
    assert d.path.endswith("custom.yaml.j2") and d.line == 17, d
    assert "a chart of figures in different units; expected one unit like rides_mar (count), " \
           "got commute_share in percent" in d.message
