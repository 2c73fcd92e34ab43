"""--merge: hand edits survive a rebuild. Both bundled decks are built, edited by hand with
python-pptx (the seven edits of :func:`helpers.edit_by_hand`), the article is updated (a claim
reworded in both languages, a figure corrected, claims added so the sources gain a page), and
the decks are rebuilt with --merge; every expected outcome is checked in both languages. Then
the merge's properties, and each way it can fail."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import (
    CHART_NUDGE_EMU,
    CUSTOM_OUTLINE,
    HAND,
    MergeScenario,
    build,
    edit_by_hand,
    role_of,
    slide_of,
    soffice_pptx,
    update_article,
)
from lxml import etree
from pptx import Presentation
from pptx.oxml.ns import qn

from deck.anatomy import read_slides
from deck.cli import main
from deck.diff import diff_decks
from deck.identity import parse_shape_name
from deck.merge import merge_decks

LANGS = ["ko", "en"]
HEADING = {"en": "Your version, kept here by deck --merge", "ko": "직접 고친 내용"}


def merged(scenario: MergeScenario, lang: str):
    return Presentation(str(scenario.deck(lang)))


def keys(prs) -> list[str]:
    """Each slide's identity (``key`` or ``key/part``), or its title for a slide of the hand."""
    out = []
    for view in read_slides(prs):
        ident = view.ident
        out.append(view.title if ident is None else
                   ident.key + (f"/{ident.part}" if ident.part > 1 else ""))
    return out


def texts(prs, notes: bool = True) -> list[str]:
    """Every paragraph of every slide (and of its speaker notes)."""
    out = []
    for slide in prs.slides:
        out += ["".join(t.text or "" for t in p.iter(qn("a:t")))
                for p in slide._element.iter(qn("a:p"))]
        if notes and slide.has_notes_slide:
            out += [p.text for p in slide.notes_slide.notes_text_frame.paragraphs]
    return out


# the scenario, outcome by outcome ------------------------------------------------------------


def test_one_line_per_deck_with_hand_edits_and_the_conflict(scenario):
    assert scenario.status == 0, scenario.stdout
    for lang in LANGS:
        line = next(x for x in scenario.stdout.splitlines()
                    if x.startswith(f"{scenario.deck(lang)}: "))
        assert re.search(r": merged \d+ hand edits, 1 conflict \(slide 6 body\); decisions in "
                         r".*\.merge\.txt$", line), line
        n = int(re.search(r"merged (\d+) hand edits", line)[1])
        assert n >= 7, line


@pytest.mark.parametrize("lang", LANGS)
def test_retitle_and_reworded_bullet_are_kept(scenario, lang):
    prs = merged(scenario, lang)
    assert role_of(slide_of(prs, "summary"), "title").text == HAND[lang]["title"]
    bullets = [p.text for p in role_of(slide_of(prs, "chips"), "body").text_frame.paragraphs]
    assert bullets[1] == HAND[lang]["bullet"]


@pytest.mark.parametrize("lang", LANGS)
def test_text_changed_on_both_sides_is_a_conflict_kept_in_the_notes(scenario, lang):
    prs = merged(scenario, lang)
    chips = slide_of(prs, "chips")
    bullet = role_of(chips, "body").text_frame.paragraphs[2].text
    fresh = Presentation(str(scenario.fresh[lang]))
    assert bullet == role_of(slide_of(fresh, "chips"), "body").text_frame.paragraphs[2].text
    assert "규제에 맞춘" in bullet or "China-only" in bullet
    notes = [p.text for p in chips.notes_slide.notes_text_frame.paragraphs]
    at = next(i for i, t in enumerate(notes) if t.startswith(HEADING[lang]))
    assert notes[at + 1] == f"body: {HAND[lang]['clash']}"
    report = scenario.deck(lang).with_name(f"deepseek-shock.{lang}.merge.txt").read_text(
        encoding="utf-8")
    conflicts = report.split("Conflicts", 1)[1].split("\n\n", 1)[0]
    assert "slide 6 body" in conflicts and HAND[lang]["clash"] in conflicts
    assert "speaker notes" in conflicts


@pytest.mark.parametrize("lang", LANGS)
def test_moved_resized_chart_keeps_its_box_and_takes_the_new_data(scenario, lang):
    built = role_of(slide_of(Presentation(str(scenario.fresh[lang])), "performance"), "chart")
    chart = role_of(slide_of(merged(scenario, lang), "performance"), "chart")
    box = (chart.left, chart.top, chart.width, chart.height)
    expected = tuple(v + d for v, d in zip((built.left, built.top, built.width, built.height),
                                           CHART_NUDGE_EMU, strict=True))
    assert box == expected
    values = [v for plot in chart.chart.plots for s in plot.series for v in s.values]
    assert any(abs(v - 80.4) < 1e-9 for v in values) and 79.8 not in values
    workbook = chart.chart_part.chart_workbook.xlsx_part.blob
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r">80\.4\d*<", sheet) and ">79.8<" not in sheet


@pytest.mark.parametrize("lang", LANGS)
def test_bold_run_is_kept(scenario, lang):
    runs = role_of(slide_of(merged(scenario, lang), "open_source"), "body") \
        .text_frame.paragraphs[0].runs
    assert runs[0].font.bold is True
    assert all(r.font.bold is not True for r in runs[1:])


@pytest.mark.parametrize("lang", LANGS)
def test_own_slide_stays_after_slide_3(scenario, lang):
    prs = merged(scenario, lang)
    order = keys(prs)
    assert order[2] == "cost" and order[3] == HAND[lang]["slide_title"], order
    shapes = [s.text_frame.text for s in prs.slides[3].shapes if s.has_text_frame]
    assert HAND[lang]["note"] in shapes


@pytest.mark.parametrize("lang", LANGS)
def test_deleted_slide_stays_deleted_and_swapped_slides_keep_the_hand_order(scenario, lang):
    order = keys(merged(scenario, lang))
    assert "market" not in order
    assert order.index("adoption_apps") == order.index("adoption") - 1, order
    report = scenario.deck(lang).with_name(f"deepseek-shock.{lang}.merge.txt").read_text(
        encoding="utf-8")
    assert re.search(r"slide 9 as built \(market\): you deleted it; it stays deleted", report)
    assert "your order of the slides (you moved adoption" in report


@pytest.mark.parametrize("lang", LANGS)
def test_sources_gain_a_page_and_follow_the_new_build(scenario, lang):
    prs, fresh = merged(scenario, lang), Presentation(str(scenario.fresh[lang]))
    order, built = keys(prs), keys(Presentation(str(scenario.fresh[lang])))
    sources = [k for k in order if k.startswith("sources/") or k == "sources"]
    assert sources == [k for k in built if k.startswith("sources/") or k == "sources"]
    assert len(sources) == 4 and order[-4:] == sources  # 3 as built, now 4, in a row
    for part in range(1, 5):
        mine, theirs = slide_of(prs, "sources", part), slide_of(fresh, "sources", part)
        assert role_of(mine, "title").text == role_of(theirs, "title").text
        rows = [[c.text for c in r.cells] for r in role_of(mine, "table").table.rows]
        assert rows == [[c.text for c in r.cells] for r in role_of(theirs, "table").table.rows]


@pytest.mark.parametrize("lang", LANGS)
def test_slides_nobody_edited_match_the_new_build(scenario, lang):
    mine = {v.ident: v for v in read_slides(merged(scenario, lang)) if v.ident}
    theirs = {v.ident: v for v in read_slides(Presentation(str(scenario.fresh[lang])))}
    for key in ("title", "cost", "moe", "checks", "sources_intro"):
        a, b = (next(v for i, v in d.items() if i.key == key) for d in (mine, theirs))
        for role, shape in b.roles.items():
            if role == "number":
                continue  # a live field: each viewer shows the slide's own number
            assert a.roles[role].text() == shape.text(), (key, role)
            assert a.roles[role].box() == shape.box(), (key, role)
    summary = next(v for i, v in mine.items() if i.key == "summary")
    assert "80.4%" in summary.roles["body"].text()


@pytest.mark.parametrize("lang", LANGS)
def test_the_edited_deck_is_backed_up_and_every_decision_reported(scenario, lang):
    backups = list(scenario.out.glob(f"deepseek-shock.{lang}.*.bak.pptx"))
    assert len(backups) == 1 and backups[0].read_bytes() == scenario.edited[lang]
    report = scenario.deck(lang).with_name(f"deepseek-shock.{lang}.merge.txt").read_text(
        encoding="utf-8")
    assert str(backups[0]) in report
    for expected in (HAND[lang]["title"], HAND[lang]["bullet"], "chart: your position and size",
                     "your formatting of", f"your slide «{HAND[lang]['slide_title']}», kept "
                     "after cost", "chart from the new build", "the text grew onto a new slide"):
        assert expected in report, expected


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_typed_by_hand_is_lost(scenario, lang):
    """Every paragraph the hand wrote (not in the deck as built) is in the merged deck, on a
    slide or in the speaker notes."""
    base = set(texts(Presentation(_saved(scenario.base[lang]))))
    typed = [t for t in texts(Presentation(_saved(scenario.edited[lang]))) if t not in base]
    assert len(typed) >= 5
    found = "\n".join(texts(merged(scenario, lang)))
    assert [t for t in typed if t not in found] == []


def _saved(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# properties ----------------------------------------------------------------------------------


def _decks(tmp_path: Path, **decks: bytes) -> dict[str, Path]:
    paths = {}
    for name, data in decks.items():
        paths[name] = tmp_path / f"{name}.pptx"
        paths[name].write_bytes(data)
    return paths


def _merge(base: bytes, edited: bytes, new: bytes) -> bytes:
    return merge_decks(base, edited, new, name="deck.pptx", heading="yours:", lang="en-US").data


@pytest.mark.parametrize("lang", LANGS)
def test_merging_without_a_data_change_gives_the_edited_deck(scenario, lang, tmp_path):
    base, edited = scenario.base[lang], scenario.edited[lang]
    paths = _decks(tmp_path, edited=edited, result=_merge(base, edited, base))
    n = len(Presentation(str(paths["edited"])).slides)
    assert diff_decks(paths["edited"], paths["result"]) == [
        f"--- {paths['edited']} ({n} slides)", f"+++ {paths['result']} ({n} slides)",
        "no differences"]


@pytest.mark.parametrize("lang", LANGS)
def test_merging_without_a_hand_edit_gives_the_new_build(scenario, lang, tmp_path):
    base, new = scenario.base[lang], scenario.fresh[lang].read_bytes()
    assert _merge(base, base, new) == new
    # saved again without a change (new bytes, same content): the new build's content
    resaved = tmp_path / "resaved.pptx"
    Presentation(_saved(base)).save(str(resaved))
    assert resaved.read_bytes() != base
    paths = _decks(tmp_path, new=new, result=_merge(base, resaved.read_bytes(), new))
    assert diff_decks(paths["new"], paths["result"])[-1] == "no differences"


def test_a_rebuild_with_merge_of_an_unedited_deck_is_byte_for_byte_the_new_build(tmp_path):
    data = tmp_path / "a" / "deepseek-shock.yaml"
    data.parent.mkdir()
    text = (Path(__file__).parent.parent / "assets" / "articles" / data.name).read_text(
        encoding="utf-8")
    data.write_text(text, encoding="utf-8")
    assert main([str(data), "--out", str(tmp_path / "out"), "--lang", "en"]) == 0
    data.write_text(update_article(text, added=1), encoding="utf-8")
    assert main([str(data), "--out", str(tmp_path / "out"), "--lang", "en", "--merge"]) == 0
    [fresh] = build(data, tmp_path / "fresh", ["en"])
    assert (tmp_path / "out" / "deepseek-shock.en.pptx").read_bytes() == fresh.data
    assert not list((tmp_path / "out").glob("*.bak.pptx"))


@pytest.mark.parametrize("lang", LANGS)
def test_merging_twice_changes_nothing(scenario, lang, tmp_path):
    new = scenario.fresh[lang].read_bytes()
    once = scenario.deck(lang).read_bytes()
    paths = _decks(tmp_path, once=once, twice=_merge(new, once, new))
    assert diff_decks(paths["once"], paths["twice"])[-1] == "no differences"


def test_a_second_merge_on_the_command_line_leaves_the_decks_alone(scenario, tmp_path,
                                                                    capsys):
    copy = tmp_path / "copy"
    shutil.copytree(scenario.data.parent, copy / "article")
    shutil.copytree(scenario.out, copy / "out")
    status = main([str(copy / "article" / scenario.data.name), "--out", str(copy / "out"),
                   "--merge"])
    out = capsys.readouterr().out
    assert status == 0
    for lang in LANGS:
        deck = copy / "out" / scenario.deck(lang).name
        assert deck.read_bytes() == scenario.deck(lang).read_bytes()
        assert f"{deck}: edited by hand, and the data has not changed since: left as it is" \
            in out
        assert len(list((copy / "out").glob(f"*.{lang}.*.bak.pptx"))) == 1  # no new backup


def test_after_a_merge_a_plain_rebuild_is_refused_and_suggests_merge(scenario, tmp_path,
                                                                      capsys):
    shutil.copytree(scenario.data.parent, tmp_path / "article")
    shutil.copytree(scenario.out, tmp_path / "out")
    before = (tmp_path / "out" / scenario.deck("en").name).read_bytes()
    assert main([str(tmp_path / "article" / scenario.data.name), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--merge" in err and "--force" in err
    assert (tmp_path / "out" / scenario.deck("en").name).read_bytes() == before


# the diff ----------------------------------------------------------------------------------


def test_diff_of_the_built_and_the_merged_deck_names_each_change(scenario, capsys):
    base = scenario.out / ".deck" / scenario.deck("en").name  # now the new build
    assert main(["--diff", str(scenario.fresh["en"]), str(scenario.deck("en"))]) == 0
    out = capsys.readouterr().out
    assert base.read_bytes() == scenario.fresh["en"].read_bytes()
    for expected in ("+ slide 4 «Our view» (added)", "- slide 9 market (removed)",
                     "(moved)", "chart: moved 0.7 cm right, 0.4 cm down; resized "
                     "18.7 x 13.3 cm -> 16.6 x 11.9 cm", "- «Key points»",
                     "+ «What matters most»", "body: formatting"):
        assert expected in out, (expected, out)
    assert re.search(r"\d+ changed, 1 added, 1 removed, 1 moved$", out.strip())


def test_diff_of_a_deck_with_itself_is_empty_and_bad_files_exit_2(scenario, capsys):
    deck = str(scenario.deck("ko"))
    assert main(["--diff", deck, deck]) == 0
    assert capsys.readouterr().out.strip().endswith("no differences")
    assert main(["--diff", deck, str(scenario.data)]) == 2
    err = capsys.readouterr().err
    assert "not a PowerPoint deck" in err and "Traceback" not in err


# identity lost: refused, nothing written -------------------------------------------------------


def _rename_placeholders(path: Path, prefix: str = "PlaceHolder") -> None:
    """What LibreOffice does to a deck it saves: placeholders get names of its own."""
    prs = Presentation(str(path))
    for slide in prs.slides:
        for n, shape in enumerate(s for s in slide.shapes if s.is_placeholder):
            shape._element[0].find(qn("p:cNvPr")).set("name", f"{prefix} {n + 1}")
    prs.save(str(path))


def test_a_deck_whose_shapes_lost_their_names_is_refused_untouched(tmp_path, capsys):
    data, out = _article(tmp_path)
    deck = out / "deepseek-shock.en.pptx"
    _rename_placeholders(deck)
    edited = deck.read_bytes()
    data.write_text(update_article(data.read_text(encoding="utf-8"), added=1),
                    encoding="utf-8")
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    err = capsys.readouterr().err
    assert f"{deck}: slides 1-16 lost the shape names" in err
    assert "LibreOffice renames placeholders" in err and "'PlaceHolder 1'" in err
    assert deck.read_bytes() == edited and not list(out.glob("*.bak.pptx"))


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed; the round trip needs it")
def test_a_deck_saved_through_libreoffice_is_refused_and_nothing_is_lost(tmp_path, capsys):
    """Edited, then saved by LibreOffice (which renames placeholders): the charts and tables
    keep their identity, the titles and bullets lose it; merging would be guessing."""
    data, out = _article(tmp_path)
    deck = out / "deepseek-shock.en.pptx"
    edit_by_hand(deck, "en")
    shutil.copy(soffice_pptx(deck, tmp_path / "lo"), deck)
    edited, base = deck.read_bytes(), (out / ".deck" / deck.name).read_bytes()
    data.write_text(update_article(data.read_text(encoding="utf-8"), added=1),
                    encoding="utf-8")
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    err = capsys.readouterr().err
    # slide 4 is the hand's own: it never had an identity to lose
    assert f"{deck}: slides 1-3, 5-16 lost the shape names" in err, err
    assert "LibreOffice renames placeholders" in err and "nothing was written" in err
    assert deck.read_bytes() == edited and (out / ".deck" / deck.name).read_bytes() == base
    assert not list(out.glob("*.bak.pptx")) and not list(out.glob("*.merge.txt"))


def _article(tmp_path: Path, lang: str = "en") -> tuple[Path, Path]:
    """The bundled article copied into ``tmp_path`` and built into ``tmp_path/out``."""
    data = tmp_path / "article" / "deepseek-shock.yaml"
    data.parent.mkdir(parents=True)
    data.write_text((Path(__file__).parent.parent / "assets" / "articles" / data.name)
                    .read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    assert main([str(data), "--out", str(out), "--lang", lang]) == 0
    return data, out


# the ways a merge can fail -----------------------------------------------------------------


def test_merge_needs_the_base_kept_beside_the_manifest(tmp_path, capsys):
    data, out = _article(tmp_path)
    deck = out / "deepseek-shock.en.pptx"
    edit_by_hand(deck, "en")
    edited = deck.read_bytes()
    base = out / ".deck" / deck.name
    base.write_bytes(b"not the deck as built")
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    assert "is not the deck the manifest says was built" in capsys.readouterr().err
    (out / ".deck-manifest.json").unlink()
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    assert ".deck-manifest.json is missing; expected the fingerprint" in capsys.readouterr().err
    base.unlink()
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    err = capsys.readouterr().err
    assert f"{deck}: --merge: no copy of the deck as built" in err and "--force" in err
    assert deck.read_bytes() == edited and not list(out.glob("*.bak.pptx"))


def test_an_edited_deck_that_is_not_a_deck_is_bad_input(tmp_path, capsys):
    data, out = _article(tmp_path)
    deck = out / "deepseek-shock.en.pptx"
    deck.write_bytes(b"PK\x03\x04 broken")
    data.write_text(update_article(data.read_text(encoding="utf-8"), added=1),
                    encoding="utf-8")
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    err = capsys.readouterr().err
    assert f"{deck}: not a PowerPoint deck that can be read" in err and "Traceback" not in err
    assert deck.read_bytes() == b"PK\x03\x04 broken"


def test_a_deck_saved_again_while_it_is_merged_is_refused_and_kept(tmp_path, capsys,
                                                                   monkeypatch):
    """The merge is planned from the deck as read; if someone saves it again before the
    merge is written, nothing is written and their save stays as it is."""
    import deck.merge

    data, out = _article(tmp_path)
    deck_path = out / "deepseek-shock.en.pptx"
    edit_by_hand(deck_path, "en")
    data.write_text(update_article(data.read_text(encoding="utf-8"), added=0),
                    encoding="utf-8")
    real = deck.merge.merge_decks
    saved_again = {}

    def meanwhile(*args, **kwargs):
        outcome = real(*args, **kwargs)
        prs = Presentation(str(deck_path))
        prs.slides[1].shapes.title.text_frame.text = "Saved meanwhile"
        prs.save(str(deck_path))
        saved_again["bytes"] = deck_path.read_bytes()
        return outcome

    monkeypatch.setattr(deck.merge, "merge_decks", meanwhile)
    assert main([str(data), "--out", str(out), "--lang", "en", "--merge"]) == 2
    err = capsys.readouterr().err
    assert f"{deck_path}: changed while this build was merging it" in err, err
    assert deck_path.read_bytes() == saved_again["bytes"]
    assert not list(out.glob("*.bak.pptx")) and not list(out.glob("*.merge.txt"))


def test_merge_and_force_are_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--merge", "--force"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_two_backups_in_one_second_get_names_of_their_own(tmp_path):
    import datetime as dt

    from deck.output import backup

    deck = tmp_path / "x.en.pptx"
    deck.write_bytes(b"one")
    now = dt.datetime(2025, 2, 3, 10, 15, 0)
    first = backup(deck, now)
    deck.write_bytes(b"two")
    second = backup(deck, now)
    assert first.name == "x.en.20250203-101500.bak.pptx"
    assert second.name == "x.en.20250203-101500-2.bak.pptx"
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")


# continuation slides, formatting, copies, data order ---------------------------------------


def _merge_files(tmp_path: Path, base: Path, edited: Path, new: Path):
    outcome = merge_decks(base.read_bytes(), edited.read_bytes(), new.read_bytes(),
                          name=str(edited), heading="yours:", lang="en-US")
    result = tmp_path / "merged.pptx"
    result.write_bytes(outcome.data)
    return outcome, Presentation(str(result))


def _merge_edit(tmp_path: Path, base: Path, new: Path, edit) -> tuple:
    """Edit a copy of ``base`` with ``edit(prs)``, then merge it with ``new``."""
    edited = tmp_path / "edited.pptx"
    prs = Presentation(str(base))
    edit(prs)
    prs.save(str(edited))
    return _merge_files(tmp_path, base, edited, new)


def _two_builds(tmp_path: Path, first: str, second: str) -> tuple[Path, Path]:
    paths = []
    for name, text in (("one", first), ("two", second)):
        data = tmp_path / name / "deepseek-shock.yaml"
        data.parent.mkdir()
        data.write_text(text, encoding="utf-8")
        [built] = build(data, tmp_path / name / "out", ["en"])
        paths.append(built.path)
    return paths[0], paths[1]


def test_a_continuation_slide_the_data_no_longer_needs_goes_unless_edited(data_text, tmp_path):
    longer, shorter = _two_builds(tmp_path, update_article(data_text), data_text)
    edited = tmp_path / "edited.pptx"
    Presentation(str(longer)).save(str(edited))  # saved again, nothing changed
    outcome, prs = _merge_files(tmp_path, longer, edited, shorter)
    assert [k for k in keys(prs) if k.split("/")[0] == "sources"] == [
        "sources", "sources/2", "sources/3"]
    assert any("removed: the data no longer makes it" in d.text for d in outcome.decisions)
    # typed into a row of the page that goes: the page stays, as a conflict
    prs = Presentation(str(edited))
    table = role_of(slide_of(prs, "sources", 4), "table").table
    table.cell(1, 1).text_frame.paragraphs[0].runs[0].text = "our note on this claim"
    prs.save(str(edited))
    outcome, prs = _merge_files(tmp_path, longer, edited, shorter)
    assert "sources/4" in keys(prs)
    assert any("no longer makes this slide; kept" in d.text for d in outcome.conflicts)


def test_a_row_edited_by_hand_follows_it_to_the_next_sources_slide(data_text, tmp_path):
    """A claim early in the table grows, pushing rows onto later pages: the row the hand
    edited on page 1 is on page 2 of the new build, with the hand's text."""
    grown = data_text.replace(
        'en: "The aftermath of DeepSeek, styled China\'s ChatGPT, has toppled the AI-bubble '
        'thesis"', 'en: "The aftermath of DeepSeek, styled China\'s ChatGPT, has toppled the '
        'AI-bubble thesis' + ", and with it much of what the industry assumed" * 6 + '"')
    base, new = _two_builds(tmp_path, data_text, grown)
    last = role_of(slide_of(Presentation(str(base)), "sources"), "table").table
    n = len(last.rows) - 1
    number = last.cell(n, 0).text

    def edit(prs) -> None:
        cell = role_of(slide_of(prs, "sources"), "table").table.cell(n, 1)
        cell.text_frame.paragraphs[0].runs[0].text = "our reading of this claim"

    outcome, prs = _merge_edit(tmp_path, base, new, edit)
    rows = {r.cells[0].text: r.cells[1].text for part in (1, 2)
            for r in role_of(slide_of(prs, "sources", part), "table").table.rows}
    page1 = [r.cells[0].text for r in role_of(slide_of(prs, "sources"), "table").table.rows]
    assert number not in page1 and rows[number] == "our reading of this claim"
    assert not outcome.conflicts
    assert any("which the data moved to this slide" in d.text for d in outcome.decisions)


def test_hand_formatting_is_carried_onto_text_the_data_rewords(data_text, tmp_path):
    base, new = _two_builds(tmp_path, data_text, update_article(data_text, added=0))

    def edit(prs) -> None:
        bullet = role_of(slide_of(prs, "chips"), "body").text_frame.paragraphs[2]
        bullet.runs[0].font.bold = True

    outcome, prs = _merge_edit(tmp_path, base, new, edit)
    bullet = role_of(slide_of(prs, "chips"), "body").text_frame.paragraphs[2]
    assert bullet.runs[0].text.startswith("H800: a China-only version")
    assert bullet.runs[0].font.bold is True
    assert not outcome.conflicts
    assert any("with your formatting" in d.text for d in outcome.decisions)


def test_a_slide_deleted_by_hand_that_the_data_changed_is_listed_with_the_change(data_text,
                                                                                 tmp_path):
    """The report says what the data changed on it: the base it could be compared with is
    replaced by the new build when the merge is saved."""
    from helpers import _drop_slide

    base, new = _two_builds(tmp_path, data_text, update_article(data_text, added=0))
    outcome, prs = _merge_edit(tmp_path, base, new,
                               lambda prs: _drop_slide(prs, slide_of(prs, "chips")))
    assert "chips" not in keys(prs)
    [entry] = [d for d in outcome.decisions if d.where.endswith("(chips)")]
    assert entry.text.startswith("you deleted it; it stays deleted (the data has changed it "
                                 "since: body: now «H800: a China-only version")
    assert "China-only" in entry.text and "--diff" not in entry.text


def test_a_slide_duplicated_by_hand_is_kept_as_the_hand_left_it(data_text, tmp_path):
    base, new = _two_builds(tmp_path, data_text, update_article(data_text, added=0))

    def duplicate_chips(prs) -> None:  # what PowerPoint's Duplicate Slide does, at the end
        chips = slide_of(prs, "chips")
        tree = prs.slides.add_slide(chips.slide_layout).shapes._spTree
        for el in list(tree)[2:]:
            tree.remove(el)
        for el in list(chips.shapes._spTree)[2:]:
            tree.append(etree.fromstring(etree.tostring(el)))

    outcome, prs = _merge_edit(tmp_path, base, new, duplicate_chips)
    original, duplicate = prs.slides[4], prs.slides[len(prs.slides) - 1]
    assert "China-only" in role_of(original, "body").text_frame.text
    assert "cut-down China version" in role_of(duplicate, "body").text_frame.text
    assert any("a copy of chips" in d.text for d in outcome.decisions)


def test_the_data_reorders_and_removes_slides_the_hand_did_not_touch(tmp_path):
    from helpers import copy_bikeshare

    data = copy_bikeshare(tmp_path / "one", outline=CUSTOM_OUTLINE.read_text(encoding="utf-8"))
    [base] = build(data, tmp_path / "one" / "out")
    outline = data.with_name("custom.yaml.j2")
    text = outline.read_text(encoding="utf-8")
    blocks = re.split(r"(?m)^(?=- layout:)", text)
    head, slides = blocks[0], blocks[1:]
    keys_in = [re.search(r"key: (\w+)", b)[1] for b in slides]
    assert keys_in[:3] == ["title", "rides", "map"], keys_in
    reordered = [slides[0], slides[2], slides[1]] + slides[4:]  # map before rides, drop one
    data2 = copy_bikeshare(tmp_path / "two", outline=head + "".join(reordered))
    [new] = build(data2, tmp_path / "two" / "out")
    edited = tmp_path / "edited.pptx"
    prs = Presentation(str(base.path))
    role_of(slide_of(prs, "title"), "title").text_frame.paragraphs[0].runs[0].text = "Ours"
    prs.save(str(edited))
    outcome, prs = _merge_files(tmp_path, base.path, edited, new.path)
    order = keys(prs)
    assert order == keys(Presentation(str(new.path))) and order[:3] == ["title", "map", "rides"]
    assert keys_in[3] not in order
    assert role_of(prs.slides[0], "title").text == "Ours"
    assert any(d.where == "slide order" and "new order" in d.text for d in outcome.decisions)


def test_identity_of_every_shape_survives_a_merge(scenario):
    for lang in LANGS:
        for view in read_slides(merged(scenario, lang)):
            if view.ident is None:
                continue
            assert all(parse_shape_name(s.name) for s in view.shapes if s not in view.extras)


# pictures, shapes and slides the data adds (the bikeshare article) --------------------------


def _bikeshare_pair(tmp_path: Path, outline=None, image: bool = False) -> tuple[Path, Path]:
    """The bikeshare deck built as is (``one``) and after a change (``two``): ``outline``
    rewrites its outline template, ``image`` redraws the station map."""
    from helpers import copy_bikeshare
    from PIL import Image

    built = []
    custom = CUSTOM_OUTLINE.read_text(encoding="utf-8")
    for name in ("one", "two"):
        grown = outline(custom) if name == "two" and outline is not None else custom
        data = copy_bikeshare(tmp_path / name, outline=grown)
        if name == "two" and image:
            Image.new("RGB", (300, 200), (200, 40, 40)).save(data.with_name("stations.png"))
        [deck] = build(data, tmp_path / name / "out")
        built.append(deck.path)
    return built[0], built[1]


def test_a_new_picture_takes_the_place_the_hand_gave_the_old_one(tmp_path):
    base, new = _bikeshare_pair(tmp_path, image=True)

    def move(prs) -> None:
        picture = role_of(slide_of(prs, "map"), "picture")
        picture.left, picture.top = picture.left + 254000, picture.top + 127000

    outcome, prs = _merge_edit(tmp_path, base, new, move)
    mine = role_of(slide_of(prs, "map"), "picture")
    old = role_of(slide_of(Presentation(str(base)), "map"), "picture")
    fresh = role_of(slide_of(Presentation(str(new)), "map"), "picture")
    assert (mine.left, mine.top) == (old.left + 254000, old.top + 127000)
    assert mine.image.blob == fresh.image.blob != old.image.blob
    assert any(d.text == "picture of the new build" for d in outcome.decisions)


def test_a_shape_and_a_slide_the_data_adds_reach_the_edited_deck(tmp_path):
    def grow(text: str) -> str:
        extra = ("- layout: section\n  key: outlook\n  title: What comes next\n"
                 "  subtitle: More stations in the autumn\n")
        return text.replace("- layout: table\n  key: network", extra +
                            "- layout: table\n  key: network")

    def shrink(text: str) -> str:  # the map slide's bullets: absent as built
        return text.replace("  bullets:\n  - text: {{ claims.stations.text }}\n"
                            "    claims: [stations]\n", "")

    from helpers import copy_bikeshare

    _, new = _bikeshare_pair(tmp_path, outline=grow)
    text = CUSTOM_OUTLINE.read_text(encoding="utf-8")
    assert shrink(text) != text
    # as built: the map slide without its bullets
    src = copy_bikeshare(tmp_path / "zero", outline=shrink(text))
    [zero] = build(src, tmp_path / "zero" / "out")

    def retitle(prs) -> None:
        retitled = role_of(slide_of(prs, "map"), "title").text_frame.paragraphs[0]
        retitled.runs[0].text = "Where the stations are"

    outcome, prs = _merge_edit(tmp_path, zero.path, new, retitle)
    order = keys(prs)
    assert order[order.index("map") + 1] == "outlook"
    slide = slide_of(prs, "map")
    assert role_of(slide, "title").text == "Where the stations are"
    assert "stations" in role_of(slide, "side").text_frame.text.lower()
    ids = [s.shape_id for s in slide.shapes]
    assert len(ids) == len(set(ids))
    assert any("a new slide from the data" in d.text for d in outcome.decisions)
