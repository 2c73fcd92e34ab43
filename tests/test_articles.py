"""Any article: the test articles (a third one in Korean and English, bikeshare, a Japanese one)
build with the default outline and pass the layout checker; --init writes a stub that builds
once its TODOs are filled; --article reports full coverage; no deck shows a float artefact or
a doubled hedge; right-to-left languages get right-to-left paragraphs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import BIKESHARE, DEFAULT_DATA, ROOT, build
from pptx import Presentation

from deck.check import check_deck
from deck.cli import main
from deck.diagnostics import UserError
from deck.l10n import read_labels
from deck.resources import labels_dir
from deck.schema import field_names

HANUL = ROOT / "tests" / "data" / "hanul" / "hanul.yaml"
RAMEN = ROOT / "tests" / "data" / "ramen" / "ramen.yaml"
SEED = ROOT.parent / "shared" / "seed" / "000_fe614a1f9615c697.txt"


def _with_default_outline(tmp: Path) -> Path:
    """The bundled article, built with the default outline instead of its own."""
    data = tmp / "deepseek-briefing.yaml"
    data.write_text(re.sub(r"^template: deepseek$", "template: briefing",
                           DEFAULT_DATA.read_text(encoding="utf-8"), flags=re.M),
                    encoding="utf-8")
    return data


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    """Every test article's decks: {name.lang: path}."""
    tmp = tmp_path_factory.mktemp("articles")
    out = {}
    for name, data in (("hanul", HANUL), ("bikeshare", BIKESHARE), ("ramen", RAMEN),
                       ("deepseek", DEFAULT_DATA), ("briefing", _with_default_outline(tmp))):
        for b in build(data, tmp / name, strict=True):
            out[f"{name}.{b.lang}"] = b.path
    return out


def test_the_third_article_uses_the_default_outline_and_enough_claims():
    data = yaml.safe_load(HANUL.read_text(encoding="utf-8"))
    assert data["template"] == "briefing" and data["languages"] == ["ko", "en"]
    assert len(data["claims"]) >= 15
    assert not (HANUL.parent / "briefing.yaml.j2").exists()


@pytest.mark.parametrize("deck", ["hanul.ko", "hanul.en", "bikeshare.en", "ramen.ja",
                                  "briefing.ko", "briefing.en"])
def test_default_outline_decks_pass_the_layout_checker(decks, deck):
    problems = check_deck(decks[deck])
    assert problems == [], "\n".join(problems)


def test_every_section_gets_its_slide_and_visual(decks):
    prs = Presentation(str(decks["hanul.ko"]))
    layouts = [s.slide_layout.name for s in prs.slides]
    assert layouts[:2] == ["Title", "Title and Content"]
    assert layouts.count("Chart") == 4  # results, margin, storage, investment
    assert layouts.count("Table") == 3  # footprint, outlook (mixed units) and the checks
    assert "Section" in layouts and layouts[-1] == "Sources"


def _deck_text(path: Path) -> str:
    prs = Presentation(str(path))
    texts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
            if getattr(shape, "has_chart", False) and shape.has_chart:
                plot = shape.chart.plots[0]
                texts += [str(c) for c in plot.categories]
                texts.append(plot.data_labels.number_format)
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(texts)


#: digits a person never writes: binary float noise such as 7.599999999999994 or 0.30000000004
FLOAT_NOISE = re.compile(r"\d[.,]\d*(?:9{6,}|0{6,}[1-9])\d*")


def _doubled_hedges(lang: str) -> list[str]:
    """Each hedge and bound of the language's catalog, written twice ("약 약", "이상 이상")."""
    hedges = read_labels(labels_dir() / f"{lang}.yaml").hedges
    out = []
    for pattern in field_names(type(hedges)):
        before, _, after = (w.strip() for w in getattr(hedges, pattern).partition("{n}"))
        word = before or after
        out.append(f"{word} {word}" if lang != "ja" else word * 2)
    return out


@pytest.mark.parametrize("deck", ["hanul.ko", "hanul.en", "bikeshare.en", "ramen.ja",
                                  "briefing.ko", "briefing.en", "deepseek.ko", "deepseek.en"])
def test_no_slide_shows_a_float_artefact_or_a_doubled_hedge(decks, deck):
    text = _deck_text(decks[deck])
    assert FLOAT_NOISE.findall(text) == []
    lang = deck.split(".")[1]
    doubled = [h for h in _doubled_hedges(lang) if h in text]
    assert doubled == [], doubled


def test_the_scan_can_fail():
    assert FLOAT_NOISE.findall("up 7.599999999999994% and 0.30000000000000004") == [
        "7.599999999999994", "0.30000000000000004"]
    assert "약 약" in _doubled_hedges("ko") and "about about" in _doubled_hedges("en")


def test_korean_charts_count_in_myriads(decks):
    prs = Presentation(str(decks["hanul.ko"]))
    formats = [s.chart.plots[0].data_labels.number_format for slide in prs.slides
               for s in slide.shapes if s.has_chart]
    assert '[>=1000000000000]#,##0.0##,,,,"조 원";[>=1000000000]#,##0,,,"0억 원";#,##0" 원"' \
        in formats


def test_a_japanese_deck_is_japanese(decks):
    text = _deck_text(decks["ramen.ja"])
    assert "約12万人" in text and "2位" in text and "1.8億円" not in text
    assert "1億8,000万円" in text
    assert not re.search(r"\b(people|about|2nd)\b", text)
    xml = Presentation(str(decks["ramen.ja"])).slides[1].shapes[1]._element.xml
    assert 'lang="ja-JP"' in xml and "+mn-ea" in xml
    # published as a date alone: shown as a date, no invented time
    assert "2025年4月1日掲載" in text and "00:00" not in text


def test_the_default_outline_falls_back_to_the_short_footer(tmp_path):
    """The default outline writes the footer itself (``footer: {{ footer }}``); on pandoc's
    narrow footer box it takes the catalog's shorter form, as the bundled outline does."""
    import corpus

    template = corpus._pandoc(tmp_path)  # pandoc's reference deck, or why it is missing
    if isinstance(template, str):
        pytest.skip(template)
    built = build(HANUL, tmp_path / "out", template=template)
    assert len(built) == 2 and all(check_deck(b.path) == [] for b in built)
    footers = {s.text_frame.text for s in Presentation(str(built[1].path)).slides[1].shapes
               if s.is_placeholder and s.placeholder_format.type == 15}
    assert footers == {"Source: Example Economic Daily, October 28, 2025"}


# ------------------------------------------------------------------------------------------
# --article


def _coverage(capsys, data: Path, article: Path, *extra: str) -> tuple[int, list[str]]:
    status = main([str(data), "--article", str(article), *extra])
    return status, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("data", "article", "numbers"), [
    (HANUL, HANUL.with_name("hanul.ko.txt"), 34),
    (HANUL, HANUL.with_name("hanul.en.txt"), 33),
    (BIKESHARE, BIKESHARE.with_suffix(".txt"), 8),
])
def test_the_test_articles_are_fully_covered(capsys, data, article, numbers):
    status, out = _coverage(capsys, data, article, "--strict")
    assert status == 0
    assert out == [f"coverage: {numbers}/{numbers} numbers in the article are figures; "
                   "0 claims copy 30+ characters verbatim"]


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed article is not here ({SEED})")
def test_the_bundled_article_is_fully_covered_against_the_seed(capsys):
    status, out = _coverage(capsys, DEFAULT_DATA, SEED, "--strict")
    assert status == 0
    assert out == ["coverage: 35/35 numbers in the article are figures; 0 claims copy 30+ "
                   "characters verbatim"]


def test_coverage_lists_every_shortfall_and_strict_fails(tmp_path, capsys):
    text = BIKESHARE.read_text(encoding="utf-8")
    text = text.replace("value: 40, unit: count", "value: 41, unit: count")  # a typo
    text = text.replace('"Rides in March: {fig:rides_mar}"',
                        '"The city\'s bike-share scheme logged {fig:rides_mar}"')  # copied
    text = text.replace("as_of: 2024-04-30, ", "")  # the date "in April" no longer given
    data = tmp_path / "bikeshare.yaml"
    data.write_text(text, encoding="utf-8")
    shutil.copy(BIKESHARE.with_name("stations.png"), tmp_path)
    article = BIKESHARE.with_suffix(".txt")
    status, out = _coverage(capsys, data, article)
    assert status == 0  # without --strict a report, not a failure
    assert out[-1] == ("coverage: 6/8 numbers in the article are figures; 1 claims copy 30+ "
                       "characters verbatim")
    assert any(line.startswith(f"{article}:") and "'40': not a figure" in line for line in out)
    assert any("'in April': a date no claim gives" in line for line in out)
    assert any("claims[stations].figures[new_stations]: not in the article" in line
               for line in out)
    assert any("claims[rides-march].text.en: copies the article's wording" in line
               for line in out)
    status, _ = _coverage(capsys, data, article, "--strict")
    assert status == 2


def test_skipped_numbers_count_as_covered(tmp_path, capsys):
    text = BIKESHARE.read_text(encoding="utf-8").replace(
        "value: 40, unit: count", "value: 41, unit: count").replace(
        "images:", 'skipped:\n  - {text: "40", reason: "stations counted differently"}\n'
        "images:")
    data = tmp_path / "bikeshare.yaml"
    data.write_text(text, encoding="utf-8")
    shutil.copy(BIKESHARE.with_name("stations.png"), tmp_path)
    _, out = _coverage(capsys, data, BIKESHARE.with_suffix(".txt"))
    assert out[-1].startswith("coverage: 8/8 numbers")


# ------------------------------------------------------------------------------------------
# --init


#: the figures --init must find in each test article, by hand: (value, unit, approx, qualifier)
EXPECTED_FIGURES = {
    "hanul.ko.txt": [
        (1234000000000, "KRW", False, None), (4, "multiple", True, None),
        (2.0, "percent", False, None), (9.6, "percent", False, None),
        (7.6, "percentage_points", False, None), (80, "percent", True, None),
        (12000, "people", True, None), (1234000000000, "KRW", False, None),
        (815000000000, "KRW", False, None), (51.4, "percent", False, None),
        (118500000000, "KRW", False, None), (9.6, "percent", False, None),
        (2.0, "percent", False, None), (7.6, "percentage_points", False, None),
        (100000000000, "KRW", False, None), (320000000000, "KRW", False, None),
        (1268000000000, "KRW", False, None), (4, "multiple", True, None),
        (38, "percent", False, None), (80, "percent", True, None),
        (12000, "people", True, None), (2100, "people", False, None),
        (2000000000000, "KRW", False, None), (2000000000000, "KRW", False, None),
        (1350000000000, "KRW", False, None), (48, "percent", False, None),
        (30, "percent", False, "more_than"), (5000000000000, "KRW", False, None),
        (6.2, "percent", False, None), (184500, "KRW", False, None), (4, "rank", False, None),
    ],
    "hanul.en.txt": [
        (1234000000000, "KRW", False, None), (2.0, "percent", False, None),
        (9.6, "percent", False, None), (7.6, "percentage_points", False, None),
        (80, "percent", True, None), (12000, "TODO", True, None),
        (51.4, "percent", False, None), (1234000000000, "KRW", False, None),
        (815000000000, "KRW", False, None), (118500000000, "KRW", False, None),
        (9.6, "percent", False, None), (7.6, "percentage_points", False, None),
        (2.0, "percent", False, None), (100000000000, "KRW", False, None),
        (320000000000, "KRW", False, None), (1268000000000, "KRW", False, None),
        (4, "multiple", True, None), (38, "percent", False, None),
        (80, "percent", True, None), (12000, "people", True, None),
        (2100, "TODO", False, None), (2000000000000, "KRW", False, None),
        (2000000000000, "KRW", False, None), (48, "percent", False, None),
        (1350000000000, "KRW", False, None), (30, "percent", False, "more_than"),
        (5000000000000, "KRW", False, None), (6.2, "percent", False, None),
        (184500, "KRW", False, None), (4, "rank", False, None),
    ],
    "bikeshare.txt": [
        (210000, "TODO", False, None), (305000, "TODO", False, None),
        (498000, "TODO", False, None), (1000000, "TODO", True, None),
        (40, "TODO", False, None), (62, "percent", False, None),
    ],
}
#: the dates each text states, resolved against its publication date
EXPECTED_DATES = {
    "hanul.ko.txt": ["2025-10-27", "2025-10-27"], "hanul.en.txt": ["2025-10-27", "2025-10-27"],
    "bikeshare.txt": ["2024-03-01"],  # "in March and ... in April": one sentence, one claim
}


def _init(tmp_path: Path, source: Path, capsys) -> Path:
    article = tmp_path / source.name
    shutil.copy(source, article)
    assert main(["--init", str(article)]) == 0
    out = capsys.readouterr().out
    target = article.with_suffix(".yaml")
    assert out.startswith(f"{target}: written;")
    return target


def _fill(text: str) -> str:
    """What an analyst would type where the stub says TODO (outside comments)."""
    lines = []
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            line = (line.replace("by: TODO", "by: reporter").replace("kind: TODO", "kind: event")
                    .replace("unit: TODO", "unit: count").replace("TODO", '"filled in"'))
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("source", [HANUL.with_name("hanul.ko.txt"),
                                    HANUL.with_name("hanul.en.txt"), BIKESHARE.with_suffix(".txt")])
def test_init_finds_the_figures_and_its_stub_builds_once_filled(tmp_path, capsys, source):
    stub = _init(tmp_path, source, capsys)
    data = yaml.safe_load(stub.read_text(encoding="utf-8"))
    found = [(f["value"], f["unit"], f.get("approx", False), f.get("qualifier"))
             for c in data["claims"] for f in c.get("figures", [])]
    assert found == EXPECTED_FIGURES[source.name]
    assert [str(c["date"]) for c in data["claims"] if "date" in c] == EXPECTED_DATES[source.name]
    assert data["template"] == "briefing"
    todos = [n for n, line in enumerate(stub.read_text(encoding="utf-8").splitlines(), 1)
             if "TODO" in line and not line.lstrip().startswith("#")]
    with pytest.raises(UserError) as info:
        build(stub, tmp_path / "out")
    lines = [d.line for d in info.value.diagnostics if d.line]
    assert sorted(set(lines)) == todos  # every TODO listed with its line, nothing else
    assert not (tmp_path / "out").exists()
    stub.write_text(_fill(stub.read_text(encoding="utf-8")), encoding="utf-8")
    [*built] = build(stub, tmp_path / "out")
    assert built and all(b.path.exists() for b in built)


def test_init_never_overwrites(tmp_path, capsys):
    stub = _init(tmp_path, BIKESHARE.with_suffix(".txt"), capsys)
    stub.write_text("mine", encoding="utf-8")
    assert main(["--init", str(tmp_path / "bikeshare.txt")]) == 2
    assert "exists; expected a new file (--init never overwrites)" in capsys.readouterr().err
    assert stub.read_text(encoding="utf-8") == "mine"


def test_init_reads_the_articles_metadata(tmp_path, capsys):
    data = yaml.safe_load(_init(tmp_path, HANUL.with_name("hanul.ko.txt"), capsys).read_text(
        encoding="utf-8"))
    article = data["article"]
    assert article["outlet"]["ko"] == "가상경제" and article["reporter"]["ko"] == "김하늘"
    assert article["section"]["ko"] == "산업" and article["timezone"] == "Asia/Seoul"
    assert str(article["published"]) == "2025-10-28 09:30:00"
    places = [c.get("place", "body") for c in data["claims"]]
    assert places[:5] == ["headline", "subhead", "subhead", "caption", "body"]
    assert "heading" in places
    assert [s["claims"][0] for s in data["deck"]["sections"]] == ["p1-1", "p8-1"]


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed article is not here ({SEED})")
def test_init_on_the_seed_builds_once_filled(tmp_path, capsys):
    stub = _init(tmp_path, SEED, capsys)
    stub.write_text(_fill(stub.read_text(encoding="utf-8")), encoding="utf-8")
    assert build(stub, tmp_path / "out")


# ------------------------------------------------------------------------------------------
# right to left


ARABIC_LABELS = {
    "cont": "(تابع)", "page": "{n}/{total}", "col_no": "رقم", "col_claim": "الادعاء",
    "col_who": "المصدر", "col_where": "الموضع", "col_source": "المصدر الأولي",
    "col_note": "ما يقوله", "col_item": "البند", "col_value": "الرقم المنشور",
    "para": "الفقرة {n}", "place_headline": "العنوان", "place_subhead": "العنوان الفرعي",
    "place_caption": "تعليق الصورة", "place_heading": "عنوان القسم",
    "citation": "{outlet}، «{title}»، {reporter}، نُشر {published}",
    "citation_updated": "{outlet}، «{title}»، {reporter}، نُشر {published}، حُدّث {updated}",
    "footer": "المصدر: {outlet}، {date}", "said_by": "{who}، {where}", "claim_marker": "[{n}]",
    "merge_conflicts": "نسختك، محفوظة هنا عند الدمج:",
    "approx_note": "* قيم تقريبية", "key_points": "النقاط الرئيسية",
    "checks": "مقارنة بالمصادر الأولية", "sources": "المصادر",
    "units": {"USD": "{n} دولار", "KRW": "{n} وون", "EUR": "{n} يورو", "JPY": "{n} ين",
              "CNY": "{n} يوان", "GBP": "{n} جنيه", "percent": "{n}٪",
              "percentage_points": "{n} نقطة مئوية", "people": "{n} شخص", "count": "{n}",
              "multiple": "{n} ضعف", "rank": "المرتبة {n}", "year": "{n}", "score": "{n}",
              "parameters": "{n} معامل", "gpu_hours": "{n} ساعة GPU",
              "usd_per_hour": "{n} دولار في الساعة"},
    "hedges": {"about": "نحو {n}", "at_least": "{n} على الأقل", "more_than": "أكثر من {n}",
               "under": "أقل من {n}", "at_most": "{n} كحد أقصى"},
}


def _bikeshare_in(tmp_path: Path, lang: str) -> Path:
    """The bikeshare article with every English text moved to ``lang`` (numbered words in
    that script, so each text differs), copied into ``tmp_path``."""
    data = yaml.safe_load(BIKESHARE.read_text(encoding="utf-8"))
    data["languages"] = [lang]
    count = iter(range(1000))

    def move(node):
        if isinstance(node, dict):
            if set(node) == {"en"}:
                text = node.pop("en")
                figures = " ".join(re.findall(r"\{fig:\w+\}", text))
                node[lang] = f"نص عربي {next(count)} {figures}".strip()
            for v in node.values():
                move(v)
        elif isinstance(node, list):
            for v in node:
                move(v)

    move(data)
    shutil.copy(BIKESHARE.with_name("stations.png"), tmp_path)
    path = tmp_path / "bikeshare.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_arabic_paragraphs_run_right_to_left(tmp_path):
    path = _bikeshare_in(tmp_path, "ar")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "ar.yaml").write_text(yaml.safe_dump(ARABIC_LABELS,
                                                                allow_unicode=True),
                                                 encoding="utf-8")
    [built] = build(path, tmp_path / "out")
    xml = Presentation(str(built.path)).slides[1].shapes[1]._element
    paragraphs = xml.xpath(".//a:p[a:r]")
    assert paragraphs and all(p.xpath("string(a:pPr/@rtl)") == "1" for p in paragraphs)
    assert all(p.xpath("string(a:pPr/@algn)") == "r" for p in paragraphs)
    assert 'lang="ar-EG"' in xml.xml
    text = _deck_text(built.path)
    assert "210,000" in text and "نحو 1" in text  # CLDR digits, the catalog's hedge


def test_a_language_without_a_catalog_is_a_clear_error(tmp_path):
    path = _bikeshare_in(tmp_path, "fr")
    with pytest.raises(UserError) as info:
        build(path, tmp_path / "out")
    assert "no label catalog for 'fr'" in str(info.value)
    assert "unit words are never taken from another language" in str(info.value)


def test_the_citation_says_only_what_the_data_file_gives(decks):
    """No 'updated' without an update time; the URL on the title slide where there is one."""
    prs = Presentation(str(decks["bikeshare.en"]))
    title = "\n".join(s.text_frame.text for s in prs.slides[0].shapes if s.has_text_frame)
    assert "https://example.org/local/bike-share-million-rides" in title
    text = _deck_text(decks["bikeshare.en"])
    assert "published June 3, 2024, 07:30 (UTC-4)" in text and "updated" not in text
    hanul = _deck_text(decks["hanul.en"])
    assert "published October 28, 2025, 09:30 (UTC+9), updated October 28, 2025, 17:05 " \
           "(UTC+9)" in hanul  # times without an offset, in the article's time zone


def test_a_data_file_without_sections_or_summary_still_says_something(tmp_path):
    data = yaml.safe_load(BIKESHARE.read_text(encoding="utf-8"))
    del data["deck"]["sections"]
    shutil.copy(BIKESHARE.with_name("stations.png"), tmp_path)
    path = tmp_path / "bikeshare.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    [built] = build(path, tmp_path / "out")
    key_points = Presentation(str(built.path)).slides[1]
    body = [s for s in key_points.shapes if s.has_text_frame and s != key_points.shapes.title]
    assert len(body[0].text_frame.paragraphs) == len(data["claims"])
    assert check_deck(built.path) == []


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("1400억 원", "ko", (140_000_000_000, "KRW", False, None)),
    ("557만 6000달러", "ko", (5_576_000, "USD", False, None)),
    ("19만 1556명", "ko", (191_556, "people", False, None)),
    ("6710억 개", "ko", (671_000_000_000, "count", False, None)),
    ("5.5%", "ko", (5.5, "percent", False, None)),
    ("80억", "ko", (8_000_000_000, None, False, None)),
    ("약 81억원", "ko", (8_100_000_000, "KRW", True, None)),
    ("5000여명", "ko", (5000, "people", True, None)),
    ("1만2000명 가량", "ko", (12_000, "people", True, None)),
    ("10% 이상", "ko", (10, "percent", False, "at_least")),
    ("7.6%포인트", "ko", (7.6, "percentage_points", False, None)),
    ("$5.576 million", "en", (5_576_000, "USD", False, None)),
    ("about 40 people", "en", (40, "people", True, None)),
    ("at least 10%", "en", (10, "percent", False, "at_least")),
    ("under 5%", "en", (5, "percent", False, "under")),
    ("2nd", "en", (2, "rank", False, None)),
])
def test_number_expressions_the_issue_names(text, lang, expected):
    from deck.quantities import find_quantities

    [q] = find_quantities(text, lang=lang)
    assert (q.value, q.unit, q.approx, q.qualifier) == expected


@pytest.mark.parametrize(("text", "day", "precision"), [
    ("지난달 20일", "2025-01-20", "day"), ("지난해 12월", "2024-12-01", "month"),
    ("25일", "2025-01-25", "day"), ("1일", "2025-02-01", "day"),
    ("last December", "2024-12-01", "month"), ("Jan. 28", "2025-01-28", "day"),
])
def test_relative_dates_resolve_against_the_publication_date(text, day, precision):
    import datetime as dt

    from deck.quantities import find_dates

    [d] = find_dates(text, dt.date(2025, 2, 2))
    assert (str(d.day), d.precision) == (day, precision)
