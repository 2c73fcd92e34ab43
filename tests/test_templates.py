"""Any company template: the bundled article on masters nobody on the project wrote (see
tests/corpus.py), with no mapping file, builds clean decks: every claim on the sources slides,
no empty placeholder, no leftover slide, the layout checker clean; where LibreOffice is
installed, every word inside its box and every character at WCAG AA contrast."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from contrast import low_contrast_text
from corpus import NAMES
from helpers import COMPANY, DEFAULT_DATA, build
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from test_render import render_counts, to_pdf

from deck.check import check_deck
from deck.cli import main
from deck.data import load_briefing
from deck.diagnostics import UserError
from deck.session import BuildSession

LANGS = ("ko", "en")


def decks_of(corpus_decks, name: str) -> dict:
    found = corpus_decks[name]
    if isinstance(found, str):
        pytest.skip(found)
    return found


def sources_rows(path: Path, lang: str) -> list[list[str]]:
    """Rows of the tables whose header is the sources table's."""
    labels = BuildSession().labels(lang)
    header = [labels.col_no, labels.col_claim, labels.col_who, labels.col_where]
    rows = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if getattr(shape, "has_table", False) and shape.has_table:
                table = [[c.text for c in r.cells] for r in shape.table.rows]
                if table[0] == header:
                    rows += table[1:]
    return rows


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_every_claim_reaches_the_sources_slides(corpus_decks, name, lang):
    deck = decks_of(corpus_decks, name)[lang]
    claims = load_briefing(DEFAULT_DATA)[0].briefing.claims
    rows = sources_rows(deck.path, lang)
    assert [r[0] for r in rows] == [str(n) for n in range(1, len(claims) + 1)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_no_empty_placeholder_and_no_leftover_slide(corpus_decks, name, lang):
    deck = decks_of(corpus_decks, name)[lang]
    prs = Presentation(str(deck.path))
    assert len(prs.slides) == deck.slides  # the template's own slides are gone
    empty = [f"slide {n}: {ph.name}" for n, slide in enumerate(prs.slides, start=1)
             for ph in slide.placeholders if ph.has_text_frame and not ph.text_frame.text.strip()]
    assert empty == []
    first_title = prs.slides[0].shapes.title.text_frame.text
    assert first_title == load_briefing(DEFAULT_DATA)[0].briefing.deck.headings["title"][lang]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_layout_checker_finds_nothing(corpus_decks, name, lang):
    problems = check_deck(decks_of(corpus_decks, name)[lang].path)
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------------------------------
# rendered through LibreOffice

soffice = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                             reason="LibreOffice (soffice) and poppler (pdftoppm) are needed "
                             "to render the decks")


@pytest.fixture(scope="module")
def rendered(corpus_decks, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every corpus deck (and the bundled ones) as a PDF: (template, lang) -> pdf."""
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path_factory.mktemp("corpus-pdf")
    decks = {(name, lang): d.path for name, found in corpus_decks.items()
             if not isinstance(found, str) for lang, d in found.items()}
    decks.update({("bundled", b.lang): b.path for b in build(DEFAULT_DATA, out / "bundled")})
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = pool.map(lambda item: to_pdf(item[1], out / "-".join(item[0])), decks.items())
        return dict(zip(decks, pdfs, strict=True))


@pytest.mark.soffice
@soffice
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_every_word_lands_inside_its_box(corpus_decks, rendered, name, lang):
    deck = decks_of(corpus_decks, name)[lang]
    counts = render_counts(deck.path, rendered[(name, lang)])
    assert counts.pages == counts.slides
    assert counts.outside == [], "\n".join(counts.outside[:20])


@pytest.mark.soffice
@soffice
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ("bundled", *NAMES))
def test_every_character_reads_at_wcag_aa(corpus_decks, rendered, name, lang):
    if name != "bundled":
        decks_of(corpus_decks, name)
    checked, low = low_contrast_text(rendered[(name, lang)])
    assert checked > 1000
    assert low == [], "\n".join(str(x) for x in low[:20])


@pytest.mark.soffice
@pytest.mark.parametrize("grey", [0xC0, 0xF0])
def test_the_contrast_check_can_fail(tmp_path, grey):
    """Grey text on white, drawn on purpose, is found; so is text nearly the white it sits
    on (F0F0F0: every pixel of its box close to its own colour)."""
    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) and poppler (pdftoppm) are needed")
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    [built] = build(DEFAULT_DATA, tmp_path / "out", ["en"])
    prs = Presentation(str(built.path))
    run = prs.slides[1].shapes.title.text_frame.paragraphs[0].runs[0]
    run.font.color.rgb = RGBColor(grey, grey, grey)
    run.font.size = Pt(14)
    broken = tmp_path / "grey.pptx"
    prs.save(str(broken))
    _, low = low_contrast_text(to_pdf(broken, tmp_path / "pdf"))
    assert low and all(x.page == 2 for x in low)


# ------------------------------------------------------------------------------------------
# mapping files


def _build_mapped(tmp_path, corpus, name: str, layouts: dict[str, str]):
    """The bundled article's English deck on corpus template ``name`` (skipped where the
    corpus lacks it) with a mapping file naming ``layouts``."""
    template = corpus[name]
    if isinstance(template, str):
        pytest.skip(template)
    pptx = tmp_path / "mapped.pptx"
    shutil.copy(template, pptx)
    pptx.with_suffix(".yaml").write_text(
        "layouts:\n" + "".join(f'  {k}: "{v}"\n' for k, v in layouts.items()), encoding="utf-8")
    [built] = build(DEFAULT_DATA, tmp_path / "out", ["en"], template=pptx)
    return built


def test_a_mapping_may_name_a_layout_of_another_master(tmp_path, corpus):
    built = _build_mapped(tmp_path, corpus, "libreoffice-Vivid", {
        "title": "Title Slide", "section": "2 / Title Slide", "content": "2 / Title, Content",
        "chart": "2 / Title, 2 Content", "two_content": "Title, 2 Content",
        "table": "Title Only", "sources": "3 / Title Only"})
    prs = Presentation(str(built.path))
    masters = list(prs.slide_masters)
    used = {(masters.index(s.slide_layout.slide_master), s.slide_layout.name) for s in prs.slides}
    assert (1, "Title, Content") in used and (2, "Title Only") in used
    assert check_deck(built.path) == []


def test_a_missing_layout_lists_those_that_suit(tmp_path):
    pptx = tmp_path / "company.pptx"
    shutil.copy(COMPANY, pptx)
    text = COMPANY.with_suffix(".yaml").read_text(encoding="utf-8")
    pptx.with_suffix(".yaml").write_text(text.replace("Graph Slide", "Graphs"), encoding="utf-8")
    with pytest.raises(UserError) as info:
        build(DEFAULT_DATA, tmp_path / "out", ["en"], template=pptx)
    [d] = info.value.diagnostics
    assert d.path == str(pptx.with_suffix(".yaml")) and d.line == 5
    assert "couldn't find layout named 'Graphs'" in d.message
    assert "these suit chart:" in d.message and "'Graph Slide'" in d.message


def test_header_strips_and_title_only_layouts_are_handled(tmp_path, corpus):
    """pandoc's Comparison layout has half-inch header strips beside its content boxes: the
    chart goes into a content box, not a strip. Title Only layouts take their content as free
    shapes below the title."""
    built = _build_mapped(tmp_path, corpus, "pandoc-reference", {
        "title": "Title Slide", "section": "Section Header", "content": "Title Only",
        "chart": "Comparison", "two_content": "Two Content",
        "table": "Title Only", "sources": "Title and Content"})
    assert check_deck(built.path) == []
    prs = Presentation(str(built.path))
    charts = [sh for s in prs.slides if s.slide_layout.name == "Comparison"
              for sh in s.shapes if sh.has_chart]
    assert charts and all(c.height > 914400 * 2 for c in charts)  # not a 0.5 in strip
    chips = [s for s in prs.slides if s.slide_layout.name == "Title Only"
             and any(sh.shape_type == MSO_SHAPE_TYPE.TEXT_BOX for sh in s.shapes)]
    assert chips and all(s.shapes.title.text_frame.text for s in chips)
    title_bottom = chips[0].shapes.title.top + chips[0].shapes.title.height
    assert all(sh.top >= title_bottom for sh in chips[0].shapes
               if sh.shape_type == MSO_SHAPE_TYPE.TEXT_BOX)


def test_layouts_prints_what_a_template_has_and_a_starter_mapping(capsys, corpus):
    template = corpus["pandoc-reference"]
    if isinstance(template, str):
        pytest.skip(template)
    assert main(["--layouts", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "'Comparison': title" in out and "layouts:\n  title: \"Title Slide\"" in out
    import yaml

    mapping = yaml.safe_load(out)
    assert set(mapping["layouts"]) == {"title", "section", "content", "chart", "two_content",
                                       "table", "sources"}


def test_a_potx_template_is_accepted(corpus_decks):
    decks = decks_of(corpus_decks, "potx")
    assert all(check_deck(d.path) == [] for d in decks.values())


def test_a_file_that_is_not_a_template_is_refused(tmp_path, capsys):
    bad = tmp_path / "notes.pptx"
    bad.write_text("not a zip", encoding="utf-8")
    assert main([str(DEFAULT_DATA), "--out", str(tmp_path / "out"), "--template", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: --template: not a usable template; expected a PowerPoint "
                          ".pptx or .potx")


def _commented(src: Path, dst: Path) -> None:
    """``src`` with an XML comment (and a processing instruction) at the start and end of
    every element of every XML part: PowerPoint ignores them; python-pptx took a comment in
    the slide list for a slide, and a comment in a colour for a colour."""
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(".xml") and info.filename.startswith("ppt/"):
                root = etree.fromstring(data)
                for el in [el for el in root.iter() if isinstance(el.tag, str)]:
                    el.insert(0, etree.Comment(" c "))
                    el.append(etree.ProcessingInstruction("x", "d"))
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
            zout.writestr(info, data)


def test_a_template_with_comments_everywhere_builds_as_without(tmp_path):
    import zipfile

    from deck.resources import theme_path

    template = tmp_path / "commented.pptx"
    _commented(theme_path(), template)
    shutil.copy(theme_path().with_suffix(".yaml"), template.with_suffix(".yaml"))
    with_comments = build(DEFAULT_DATA, tmp_path / "a", ["en"], template=template,
                          source_date_epoch="1738454400")
    plain = build(DEFAULT_DATA, tmp_path / "b", ["en"], source_date_epoch="1738454400")

    def parts(deck) -> dict[str, bytes]:
        with zipfile.ZipFile(deck.path) as z:  # the slides, layouts, master, notes, charts
            return {n: z.read(n) for n in z.namelist() if n.startswith(
                ("ppt/slides/", "ppt/slideLayouts/", "ppt/slideMasters/", "ppt/notesSlides/",
                 "ppt/charts/", "ppt/presentation.xml", "ppt/theme/"))}

    assert parts(with_comments[0]) == parts(plain[0])
    assert check_deck(with_comments[0].path) == []


def test_a_notes_master_without_a_notes_placeholder_gets_one(tmp_path):
    """A template whose notes master has no notes (body) placeholder: the build says it adds
    python-pptx's, and every slide's speaker notes are there (they crashed the writer)."""
    import re
    import zipfile

    from lxml import etree

    from deck.session import BuildRequest

    first = build(DEFAULT_DATA, tmp_path / "a", ["en"])[0]  # has a notes master, with one
    template = tmp_path / "bare-notes.pptx"
    with zipfile.ZipFile(first.path) as zin, zipfile.ZipFile(template, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if re.fullmatch(r"ppt/notesMasters/notesMaster\d+\.xml", info.filename):
                root = etree.fromstring(data)
                for ph in root.iter("{*}ph"):
                    if ph.get("type") == "body":
                        sp = next(a for a in ph.iterancestors() if etree.QName(a).localname == "sp")
                        sp.getparent().remove(sp)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
            zout.writestr(info, data)
    result = BuildSession().build(BuildRequest(DEFAULT_DATA, tmp_path / "b", ("en",), template))
    assert any("added a notes placeholder to the notes master" in d.message
               for d in result.warnings)

    def notes(path: Path) -> list[str]:
        return [s.notes_slide.notes_text_frame.text for s in Presentation(str(path)).slides
                if s.has_notes_slide]

    assert notes(result.decks[0].path) == notes(first.path) and notes(first.path)
