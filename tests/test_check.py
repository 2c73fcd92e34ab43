"""The layout checker (deck.check) over built decks: the bundled ones, stress variants of the
data file, and decks broken on purpose (the checker must be able to fail)."""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import DEFAULT_DATA, build, files_in
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from deck import ooxml
from deck.check import check_deck
from deck.identity import parse_shape_name

STRESS_SCRIPT = Path(__file__).resolve().parent / "data" / "stress" / "make_stress.py"

def load_stress_module():
    """``tests/data/stress/make_stress.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("stress_variants", STRESS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_clean(path: Path) -> None:
    """check_deck finds nothing."""
    problems = check_deck(path)
    assert problems == [], "\n".join(problems)


def sources_slides(path: Path) -> int:
    return sum(s.slide_layout.name == "Sources" for s in Presentation(str(path)).slides)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, Path]:
    """Both bundled decks built into a temporary folder: {lang: path}."""
    out = tmp_path_factory.mktemp("bundled")
    return {b.lang: b.path for b in build(DEFAULT_DATA, out)}


@pytest.fixture(scope="module")
def stress(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every stress variant written and built: {variant: {lang: path}}."""
    tmp = tmp_path_factory.mktemp("stress")
    paths = load_stress_module().write_all(tmp / "data")
    return {name: {b.lang: b.path for b in build(data, tmp / name)}
            for name, data in paths.items()}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_bundled_deck_passes_the_checker(bundled: dict[str, Path], lang: str) -> None:
    assert_clean(bundled[lang])


@pytest.mark.parametrize("variant", ["long", "many", "token"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_stress_deck_passes_the_checker(stress, variant: str, lang: str) -> None:
    assert_clean(stress[variant][lang])


@pytest.mark.parametrize("variant", ["long", "many", "token"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_stress_deck_has_more_sources_slides(bundled, stress, variant: str, lang: str) -> None:
    base, more = sources_slides(bundled[lang]), sources_slides(stress[variant][lang])
    assert base >= 1
    if variant == "token":
        # one longer claim among ~50 may fit on the last sources slide's free space
        assert more >= base
    else:
        assert more > base, f"{variant}.{lang}: {more} sources slides, original {base}"


def test_stress_variants_are_what_they_claim() -> None:
    mod = load_stress_module()
    base = mod.load_base()
    many = mod.make_many(base)
    assert len(many["claims"]) == 200
    assert len({c["id"] for c in many["claims"]}) == 200
    long = mod.make_long(base)
    first, orig = long["claims"][0]["text"]["ko"], base["claims"][0]["text"]["ko"]
    assert first == " / ".join([orig] * 3)
    token = mod.make_token(base)
    claim = next(c for c in token["claims"] if c["id"] == mod.TOKEN_CLAIM)
    for lang in ("ko", "en"):
        assert "A" * 60 in claim["text"][lang] and mod.HANGUL_RUN in claim["text"][lang]
    assert len(mod.HANGUL_RUN) == 80 and " " not in mod.HANGUL_RUN
    assert {v["template"] for v in (many, long, token)} == {"deepseek"}


# ------------------------------------------------------------------------------------------
# decks broken on purpose


def _shape(prs, slide_no: int, role: str):
    """The generated shape of ``role`` (title, body, chart, side, table) on a slide."""
    shape = next(s for s in prs.slides[slide_no - 1].shapes
                 if (found := parse_shape_name(s.name)) and found.role == role)
    # pin the inherited geometry first: python-pptx would write a zero size next to a new left
    shape.left, shape.top, shape.width, shape.height = (shape.left, shape.top, shape.width,
                                                        shape.height)
    return shape


def _shrink_body(prs) -> tuple[int, str]:
    _shape(prs, 2, "body").height = Emu(Pt(40))
    return 2, "text needs"


def _push_chart_off_slide(prs) -> tuple[int, str]:
    _shape(prs, 3, "chart").left = Emu(int(prs.slide_width) - Pt(100))
    return 3, "outside the slide"


def _overlap_side_column(prs) -> tuple[int, str]:
    _shape(prs, 3, "side").left = Emu(Pt(300))
    return 3, "overlap"


def _empty_title(prs) -> tuple[int, str]:
    for p in _shape(prs, 5, "title").text_frame.paragraphs:
        for r in p.runs:
            r.text = " "
    return 5, "title is empty"


def _squash_table_row(prs) -> tuple[int, str]:
    _shape(prs, 12, "table").table.rows[1].height = Emu(Pt(10))
    return 12, "cell (2, "


def _bigger_font(prs) -> tuple[int, str]:
    for p in _shape(prs, 8, "body").text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(40)
    return 8, "text needs"


def _no_width(prs) -> tuple[int, str]:
    # narrower than its own insets: must be reported, not measured forever
    _shape(prs, 4, "side").width = Emu(Pt(5))
    return 4, "text needs inf pt"


@pytest.mark.parametrize("breaker", [_shrink_body, _push_chart_off_slide, _overlap_side_column,
                                     _empty_title, _squash_table_row, _bigger_font, _no_width])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_checker_reports_a_broken_deck(bundled, tmp_path: Path, lang: str,
                                       breaker: Callable[[object], tuple[int, str]]) -> None:
    prs = Presentation(str(bundled[lang]))
    slide_no, expected = breaker(prs)
    broken = tmp_path / "broken.pptx"
    prs.save(str(broken))
    problems = check_deck(broken)
    assert problems, "the checker found nothing wrong with a deck broken on purpose"
    assert any(p.startswith(f"slide {slide_no}: ") and expected in p for p in problems), problems


def test_every_build_runs_the_checker_and_never_writes_a_deck_that_fails_it(
        tmp_path, monkeypatch, capsys):
    """A fit stage that keeps the largest size whatever the text (a bug, made here on
    purpose): the build stops with exit 1 naming the slide, and the folder is as it was."""
    from helpers import BIKESHARE, copy_bikeshare

    from deck import fit
    from deck.cli import main

    out = tmp_path / "out"
    assert main([str(BIKESHARE), "--out", str(out)]) == 0
    before = files_in(out)
    data = copy_bikeshare(tmp_path / "article", BIKESHARE.read_text(encoding="utf-8").replace(
        "The operator opened {fig:new_stations} new stations", "word " * 300))
    monkeypatch.setattr(fit, "fit_size", lambda height_at, box, sizes: sizes[0])
    capsys.readouterr()
    assert main([str(data), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.match(r"internal error: LayoutError: bikeshare\.en\.pptx: slide \d+: shape ",
                    err), err
    assert "text needs" in err and "nothing was written" in err
    assert files_in(out) == before


# ------------------------------------------------------------------------------------------
# the checker's own placeholder lookups (compiled XPaths, memoised inheritance) read what
# python-pptx reads


def _reindex_placeholders(prs) -> None:
    """Every other slide's placeholders pointed at an ``idx`` their layout lacks (nothing to
    inherit), every third one's stripped of its type (found by ``idx`` alone, as a body)."""
    for n, slide in enumerate(prs.slides):
        for shape in slide.placeholders:
            shape.left, shape.top, shape.width, shape.height = (shape.left, shape.top,
                                                                shape.width, shape.height)
            ph = shape._element.ph
            if n % 2 and ph.get("idx"):
                ph.set("idx", "999")
            elif n % 3 == 0:
                ph.attrib.pop("type", None)


def _retitle_graphic_frames(prs) -> None:
    """Every chart and table frame made a title placeholder (python-pptx gives such a frame
    no text frame) and every other slide's body placeholder stripped of its position."""
    for n, slide in enumerate(prs.slides):
        for shape in slide.shapes:
            if shape.shape_type in (MSO_SHAPE_TYPE.CHART, MSO_SHAPE_TYPE.TABLE):
                nv_pr = shape._element[0].find(qn("p:nvPr"))
                nv_pr.insert(0, nv_pr.makeelement(qn("p:ph"), {"type": "title"}))
            elif n % 2 and shape.is_placeholder and shape._element.ph.get("type") is None:
                sp_pr = shape._element.find(qn("p:spPr"))
                for xfrm in sp_pr.findall(qn("a:xfrm")):
                    sp_pr.remove(xfrm)


@pytest.mark.parametrize("edit", [None, _reindex_placeholders, _retitle_graphic_frames])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_checker_reads_shapes_as_python_pptx_does(bundled, lang: str, edit) -> None:
    """Every answer the checker reads from the XML (which shapes a slide has, their names,
    which are placeholders, what each inherits from, their boxes and text, which bear text,
    table grids and cell margins) is python-pptx's, on the bundled decks and on decks edited
    so that placeholders inherit differently."""
    from deck.check import (
        Inheritance,
        Package,
        _cell_margins,
        _grid,
        bears_text,
        name_of,
        table_of,
        text_of,
    )
    from deck.master import placeholder_chain

    prs = Presentation(str(bundled[lang]))
    if edit is not None:
        edit(prs)
    data = io.BytesIO()
    prs.save(data)
    prs = Presentation(data)
    package = Package(zipfile.ZipFile(data))
    inherit = Inheritance(package)
    assert package.slide_size == (prs.slide_width, prs.slide_height)
    slides = list(package.slides)
    assert len(slides) == len(prs.slides)
    for slide, theirs in zip(slides, prs.slides, strict=True):
        assert package.part(slide.layout) is not None
        assert len(slide.shapes) == len(theirs.shapes)
        for element, shape in zip(slide.shapes, theirs.shapes, strict=True):
            assert name_of(element) == shape.name
            is_placeholder = ooxml.placeholder_element(element) is not None
            assert is_placeholder is shape.is_placeholder
            assert inherit.box(element, slide.layout) == (shape.left, shape.top, shape.width,
                                                          shape.height)
            assert [name_of(e) for e in inherit.chain(element, slide.layout)] == [
                s.name for s in placeholder_chain(shape)]
            assert bears_text(element, is_placeholder) is (
                shape.is_placeholder or shape.shape_type in (
                    MSO_SHAPE_TYPE.CHART, MSO_SHAPE_TYPE.TABLE, MSO_SHAPE_TYPE.GROUP,
                    MSO_SHAPE_TYPE.TEXT_BOX) or bool(shape.has_text_frame
                                                     and shape.text_frame.text.strip()))
            if shape.has_text_frame:
                assert text_of(element.find(qn("p:txBody"))) == shape.text_frame.text
            assert (table_of(element) is not None) is getattr(shape, "has_table", False)
            if getattr(shape, "has_table", False):
                table = shape.table
                assert _grid(table_of(element)) == ([r.height for r in table.rows],
                                                    [c.width for c in table.columns])
                cells = [cell for row in table.rows for cell in row.cells]
                assert [_cell_margins(c._tc) for c in cells] == [
                    (c.margin_left, c.margin_right, c.margin_top, c.margin_bottom)
                    for c in cells]


def test_a_placeholder_without_a_size_is_reported_not_crashed_on(bundled, tmp_path) -> None:
    """A body placeholder whose position is removed and whose layout gives it none (its
    ``idx`` points nowhere): the checker names it (it used to stop with a TypeError)."""
    prs = Presentation(str(bundled["en"]))
    shape = _shape(prs, 2, "body")
    sp_pr = shape._element.find(qn("p:spPr"))
    for xfrm in sp_pr.findall(qn("a:xfrm")):
        sp_pr.remove(xfrm)
    shape._element.ph.set("idx", "999")
    edited = tmp_path / "sizeless.pptx"
    prs.save(str(edited))
    problems = check_deck(edited)
    assert problems == [f"slide 2: shape {shape.name!r}: no size: it gives none and inherits "
                        "none from its layout"], problems


def test_reindexed_placeholders_are_checked_not_crashed_on(bundled, tmp_path: Path) -> None:
    """Placeholders that inherit nothing, or inherit by ``idx`` alone: every slide is still
    checked, and what is reported is only the titles that lost their type (slides 1, 4, 7,
    ...), nothing else."""
    prs = Presentation(str(bundled["en"]))
    _reindex_placeholders(prs)
    edited = tmp_path / "reindexed.pptx"
    prs.save(str(edited))
    problems = check_deck(edited)
    assert problems == [f"slide {n}: no title placeholder"
                        for n in range(1, len(prs.slides) + 1, 3)], problems


def test_a_rebuild_checks_only_the_slides_it_changed(tmp_path, monkeypatch) -> None:
    """In one session (--watch, the build server) a slide written the same way on the same
    template is not checked again; a changed one is, and the deck as a whole stays fine."""
    from helpers import copy_bikeshare

    import deck.check
    from deck.session import BuildRequest, BuildSession

    data = copy_bikeshare(tmp_path / "a")
    session = BuildSession()
    request = BuildRequest(data, tmp_path / "out", force=True, jobs=1)
    first = session.build(request).decks[0]
    skipped: list[frozenset[int]] = []
    full = deck.check.check_deck

    def recording(deck_bytes, fonts=None, skip=frozenset()):
        skipped.append(skip)
        return full(deck_bytes, fonts, skip)

    monkeypatch.setattr(deck.check, "check_deck", recording)
    data.write_text(data.read_text(encoding="utf-8").replace(
        "The operator opened", "The city's operator opened"), encoding="utf-8")
    again = session.build(request).decks[0]
    assert again.data != first.data and again.slides == first.slides
    assert len(skipped) == 1 and 0 < len(skipped[0]) < again.slides
    assert full(again.data) == []


def test_the_command_line_names_a_file_that_is_no_deck(bundled, tmp_path, capsys):
    """``python -m deck.check``: a file that is not a deck (text, a zip without a
    presentation, a package whose main part is another kind of document, a presentation
    listing a slide it does not relate to, one without a slide size) is named with why, exit
    2, no traceback; a good deck after them is checked."""
    from deck.check import main

    text = tmp_path / "notes.pptx"
    text.write_text("not a deck", encoding="utf-8")
    empty = tmp_path / "empty.pptx"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("hello.txt", "hi")
    def edited(name: str, part: str, edit) -> Path:
        """The bundled deck with one part's XML text edited."""
        out = tmp_path / name
        with zipfile.ZipFile(bundled["en"]) as src, zipfile.ZipFile(out, "w") as dst:
            for item in src.namelist():
                data = src.read(item)
                dst.writestr(item, edit(data.decode("utf-8")) if item == part else data)
        return out

    word = edited("word.pptx", "_rels/.rels", lambda x: x.replace(
        "ppt/presentation.xml", "word/document.xml"))
    with zipfile.ZipFile(word, "a") as z:
        z.writestr("word/document.xml", '<w:document xmlns:w="urn:w"/>')
    dangling = edited("dangling.pptx", "ppt/presentation.xml",
                      lambda x: x.replace('<p:sldId id="256" r:id="rId7"',
                                          '<p:sldId id="256" r:id="rId777"'))
    sizeless = edited("sizeless.pptx", "ppt/presentation.xml",
                      lambda x: x.replace("<p:sldSz ", "<p:notSldSz "))
    assert main([str(bundled["en"])]) == 0
    capsys.readouterr()
    bad = [text, empty, word, dangling, sizeless]
    assert main([*map(str, bad), str(bundled["en"])]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": cannot be read as a deck (")[0] for line in err] == list(map(str,
                                                                                    bad))
    assert all(line.endswith("; expected a .pptx file") for line in err)
