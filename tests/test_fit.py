"""The fit stage on synthetic outlines and geometry: sizes, continuation slides, tables, roles.

No pptx here: slides and placeholders are built by hand, and the model the fit stage returns is
read directly.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deck import fit, roles
from deck import model as m
from deck.fit import replace
from deck.l10n import read_labels
from deck.measure import Fonts
from deck.outline import Bullet, Slide, Table
from deck.resources import labels_dir

PT = m.EMU_PER_PT
INSETS = m.Insets(0, 45720, 0, 45720)
REF = m.LayoutRef("Synthetic", 0, 0)


def slot(kind: str, left: float, top: float, width: float, height: float, ordinal: int = 0,
         size: float | None = None) -> m.Slot:
    """A placeholder at a box given in points."""
    box = m.Box(int(left * PT), int(top * PT), int(width * PT), int(height * PT))
    return m.Slot(kind, ordinal, ordinal, box, INSETS, size)


TITLE = slot("title", 36, 20, 880, 60, 0)
BODY = slot("body", 36, 100, 880, 300, 1)
LEFT = slot("body", 36, 100, 430, 300, 1)
RIGHT = slot("body", 490, 100, 430, 300, 2)
FOOTER = slot("ftr", 36, 500, 300, 20, 3, size=10)
PALETTE = (("accent1", "4472C4"), ("accent2", "ED7D31"), ("bg1", "FFFFFF"), ("bg2", "E7E6E6"),
           ("tx1", "000000"), ("tx2", "44546A"))
SLIDE_W, SLIDE_H = 960 * PT, 540 * PT


def layout(*slots: m.Slot, background: str = "FFFFFF",
           fills: tuple[m.Fill, ...] = ()) -> m.LayoutInfo:
    return m.LayoutInfo(REF, slots, background, False, fills, PALETTE)


LAYOUT = layout(TITLE, BODY, LEFT, RIGHT, FOOTER)
ROLES = roles.Roles(LAYOUT, roles.place_of(TITLE, LAYOUT), roles.place_of(BODY, LAYOUT), None,
                    FOOTER, None)
TWO = roles.Roles(LAYOUT, roles.place_of(TITLE, LAYOUT), roles.place_of(LEFT, LAYOUT),
                  roles.place_of(RIGHT, LAYOUT), FOOTER, None)


@pytest.fixture(scope="module", params=["en", "ko"])
def ctx(request) -> fit.FitContext:
    fonts = Fonts()
    lang = request.param
    return fit.FitContext("ko-KR" if lang == "ko" else "en-US",
                          read_labels(labels_dir() / f"{lang}.yaml"),
                          fonts.measurer("Arial", "Malgun Gothic"),
                          fonts.measurer("Arial", "Malgun Gothic"))


def outline_slide(layout: str = "content", title: str = "A title", **parts) -> Slide:
    fields = dict(layout=layout, key="k", title=title, subtitle="", bullets=(), right=(),
                  chart=None, table=None, diagram=None, picture=None, notes=(), footer=("foot",))
    fields.update(parts)
    return Slide(**fields)


def texts(frame: m.TextFrame | None) -> list[str]:
    return ["".join(r.text for r in p.runs) for p in frame.paragraphs] if frame else []


def sizes(frame: m.TextFrame) -> set[float]:
    return {r.size_pt for p in frame.paragraphs for r in p.runs if r.size_pt}


def test_short_bullets_take_the_preferred_size(ctx):
    [slide] = fit.fit_slide(outline_slide(bullets=(Bullet("One point", 0, "[1]"),)), ROLES, ctx)
    assert isinstance(slide, m.BulletsSlide)
    assert texts(slide.body) == ["One point [1]"]
    # the marker is set smaller than the text it follows
    assert sizes(slide.body) == {18, 18 * fit.MARKS_SCALE}
    assert slide.body.slot == BODY and slide.title.slot == TITLE


def test_bullets_step_down_before_they_continue(ctx):
    bullets = tuple(Bullet("word " * 40) for _ in range(7))
    [slide] = fit.fit_slide(outline_slide(bullets=bullets), ROLES, ctx)
    size = max(sizes(slide.body))
    assert 12 <= size < 18
    width = fit.inner_width_pt(BODY)
    assert fit.bullets_height_pt(bullets, width, size, ctx.body) <= fit.inner_height_pt(BODY)
    assert fit.bullets_height_pt(bullets, width, size + 1, ctx.body) > fit.inner_height_pt(BODY)


def test_overflow_continues_on_numbered_slides_losing_nothing(ctx):
    bullets = tuple(Bullet(f"Point {i}: " + "word " * 30, 0, f"[{i}]") for i in range(12))
    pages = fit.fit_slide(outline_slide(title="Findings", bullets=bullets), ROLES, ctx)
    assert len(pages) > 1
    total = len(pages)
    labels = ctx.labels
    assert texts(pages[0].title) == [f"Findings ({labels.page.format(n=1, total=total)})"]
    assert texts(pages[1].title) == [
        f"Findings {labels.cont} ({labels.page.format(n=2, total=total)})"]
    shown = [t for p in pages for t in texts(p.body)]
    assert shown == [f"{b.text} {b.marks}" for b in bullets]  # each once, in order
    assert all(max(sizes(p.body)) == ctx.sizes.body[1] for p in pages)
    assert [(p.part, p.parts) for p in pages] == [(n, total) for n in range(1, total + 1)]


def test_two_columns_keep_both_columns_on_every_page(ctx):
    left = tuple(Bullet("left " * 40) for _ in range(14))
    right = (Bullet("right side"),)
    pages = fit.fit_slide(outline_slide("two_content", bullets=left, right=right), TWO, ctx)
    assert len(pages) > 1
    assert all(isinstance(p, m.TwoColumnSlide) and texts(p.right) == ["right side"]
               for p in pages)
    assert sum(len(texts(p.left)) for p in pages) == len(left)


def test_long_title_steps_down_to_fit(ctx):
    title = "A rather long title that cannot sit on one line at the largest size " * 2
    [slide] = fit.fit_slide(outline_slide(title=title), ROLES, ctx)
    [size] = sizes(slide.title)
    assert ctx.sizes.title[1] <= size < ctx.sizes.title[0]
    assert slide.title.paragraphs[0].runs[0].major


def test_tables_continue_with_their_header(ctx):
    rows = tuple((str(i), "claim text " * 12, "who") for i in range(40))
    table = Table(("No.", "Claim", "Who"), (1, 6, 2), rows)
    pages = fit.fit_slide(outline_slide("sources", table=table), ROLES, ctx)
    assert len(pages) > 1 and all(isinstance(p, m.SourcesSlide) for p in pages)
    seen = []
    for p in pages:
        header, *body = p.table.rows
        assert ["".join(r.text for r in c.paragraphs[0].runs) for c in header.cells] == [
            "No.", "Claim", "Who"]
        assert sum(r.height_emu for r in p.table.rows) <= BODY.box.height_emu + len(rows)
        seen += ["".join(r.text for r in row.cells[0].paragraphs[0].runs) for row in body]
    assert seen == [r[0] for r in rows]
    widths = pages[0].table.column_widths_emu
    assert sum(widths) == BODY.box.width_emu and widths[1] > widths[2] > widths[0]


def test_a_long_footer_steps_below_its_placeholder_size(ctx):
    [short] = fit.fit_slide(outline_slide(footer=("Source",)), ROLES, ctx)
    assert short.footer.paragraphs[0].runs[0].size_pt is None  # inherits the layout's 10 pt
    [long] = fit.fit_slide(outline_slide(footer=("a footer far too long " * 4,)), ROLES, ctx)
    assert long.footer.paragraphs[0].runs[0].size_pt < 10
    # where even the smallest size is too long, the shorter form takes its place
    [shorter] = fit.fit_slide(outline_slide(footer=("a footer far too long " * 9, "Src")),
                              ROLES, ctx)
    assert shorter.footer.paragraphs[0].runs[0].text == "Src"


LONG_TEXTS = {
    "words": "a claim of many words, " * 220,
    "one token": "A" * 5000,
    "hangul without spaces": "딥시크가세계증시를흔들었다" * 380,
}


def _frame_height(frame: m.TextFrame, ctx: fit.FitContext) -> float:
    """What the checker measures: each paragraph's lines, at its size, with its indent."""
    width = fit.inner_width_pt(frame.slot)
    total = 0.0
    for i, p in enumerate(frame.paragraphs):
        text = "".join(r.text for r in p.runs)
        size = max(r.size_pt for r in p.runs)
        total += (p.space_before_pt if i else 0) + ctx.body.text_height_pt(
            text, width - p.margin_left_emu / PT, size)
    return total


@pytest.mark.parametrize("kind", list(LONG_TEXTS))
def test_a_bullet_taller_than_a_slide_continues_losing_nothing(ctx, kind):
    text = LONG_TEXTS[kind]
    bullets = (Bullet("before"), Bullet(text, 0, "[7]"), Bullet("after"))
    pages = fit.fit_slide(outline_slide(bullets=bullets), ROLES, ctx)
    assert 3 <= len(pages) <= fit.MAX_PARTS
    shown = [t for p in pages for t in texts(p.body)]
    assert shown[0] == "before" and shown[-1] == "after"
    pieces = shown[1:-1]
    assert pieces[-1].endswith(" [7]") and not any("[7]" in t for t in pieces[:-1])
    joined = "".join(t.removesuffix(" [7]") for t in pieces)
    assert joined.replace(" ", "") == text.replace(" ", "")  # only the breaks' spaces go
    for page in pages:
        assert _frame_height(page.body, ctx) <= fit.inner_height_pt(BODY)


@pytest.mark.parametrize("kind", list(LONG_TEXTS))
def test_a_table_row_taller_than_a_slide_continues_in_more_rows(ctx, kind):
    text = LONG_TEXTS[kind]
    table = Table(("No.", "Claim", "Who"), (1, 6, 2), (("1", "short", "me"),
                                                       ("2", text, "someone")))
    pages = fit.fit_slide(outline_slide("sources", table=table), ROLES, ctx)
    assert len(pages) >= 2
    cells = [["".join(r.text for r in c.paragraphs[0].runs) for c in row.cells]
             for p in pages for row in p.table.rows[1:]]
    assert cells[0] == ["1", "short", "me"] and cells[1][::2] == ["2", "someone"]
    assert all(c[0] == c[2] == "" for c in cells[2:])  # continued rows: the long cell only
    assert "".join(c[1] for c in cells[1:]).replace(" ", "") == text.replace(" ", "")
    for p in pages:
        assert sum(r.height_emu for r in p.table.rows) <= BODY.box.height_emu + len(p.table.rows)


@pytest.mark.parametrize(("part", "slide"), [
    ("title", outline_slide(title="A title far too long for any title box " * 12)),
    ("subtitle", outline_slide("title", subtitle="a subtitle that goes on " * 300)),
    ("footer", outline_slide(footer=("a footer far too long for its place " * 20,))),
    ("slide", outline_slide(bullets=tuple(Bullet("word " * 300) for _ in range(150)))),
])
def test_text_no_slide_can_show_is_refused_naming_its_part(ctx, part, slide):
    with pytest.raises(fit.FitError) as info:
        fit.fit_slide(slide, ROLES, ctx)
    assert info.value.part == part
    assert "expected" in str(info.value)


def test_runs_carry_script_and_language(ctx):
    [slide] = fit.fit_slide(outline_slide(title="딥시크 R1 모델"), ROLES, ctx)
    runs = slide.title.paragraphs[0].runs
    # digits, spaces and punctuation stay with the run before them
    assert [(r.text, r.lang) for r in runs] == [("딥시크 ", "ko-KR"), ("R1 ", "en-US"),
                                               ("모델", "ko-KR")]
    assert all(r.east_asian for r in runs if r.lang == "ko-KR")


def test_slides_are_numbered_in_order(ctx):
    roles = replace(ROLES, number=slot("sldNum", 800, 500, 80, 20, 4))
    slides = [s for _ in range(3) for s in fit.fit_slide(outline_slide(), roles, ctx)]
    assert [s.number.value for s in fit.number_slides(slides)] == [1, 2, 3]


def test_fit_context_is_a_value(ctx):
    """Two sessions fitting with the same fonts and labels share memo keys."""
    other = fit.FitContext(ctx.lang, ctx.labels, Fonts().measurer("Arial", "Malgun Gothic"),
                           Fonts().measurer("Arial", "Malgun Gothic"))
    assert other == ctx and hash(other) == hash(ctx)


@pytest.mark.parametrize(("logical", "slots", "main", "side"), [
    ("content", (TITLE, BODY), BODY, None),
    ("two_content", (TITLE, RIGHT, LEFT), LEFT, RIGHT),  # by position, left first
    ("chart", (TITLE, replace(LEFT, type="chart"), RIGHT), "chart", RIGHT),
    ("table", (TITLE, replace(BODY, type="tbl")), "tbl", None),
])
def test_roles_by_type_and_position(logical, slots, main, side):
    planned = roles.plan_roles(logical, layout(*slots), SLIDE_W, SLIDE_H)
    assert planned.title.slot == TITLE
    assert (planned.main.slot.type if isinstance(main, str) else planned.main.slot) == main
    assert (planned.side.slot if planned.side else None) == side


def test_a_layout_without_a_title_is_refused():
    with pytest.raises(ValueError, match="has no title placeholder"):
        roles.plan_roles("content", layout(BODY), SLIDE_W, SLIDE_H)


@pytest.mark.parametrize(("logical", "slots", "free", "notes"), [
    ("content", (TITLE,), ["main"], 0),  # Title Only: the content takes the free area
    ("two_content", (TITLE, BODY), ["main", "side"], 0),  # one placeholder: two free columns
    ("chart", (TITLE, slot("body", 36, 90, 880, 30, 1)), ["main", "side"], 1),  # a strip
])
def test_parts_without_a_suitable_placeholder_go_to_the_free_area(logical, slots, free, notes):
    planned = roles.plan_roles(logical, layout(*slots, FOOTER), SLIDE_W, SLIDE_H)
    area = roles.free_area(layout(*slots, FOOTER), TITLE, SLIDE_W, SLIDE_H)
    # a placeholder passed over for its size is named, for the build's warnings
    assert len(planned.notes) == notes and all("too small" in n for n in planned.notes)
    for name in free:
        place = getattr(planned, name)
        assert place.free
        b = place.box  # below the title, above the footer, inside the margins
        assert b.top_emu >= TITLE.box.bottom_emu and b.bottom_emu <= FOOTER.box.top_emu
        assert area.left_emu <= b.left_emu and b.right_emu <= area.right_emu


def test_text_on_a_dark_background_is_made_legible(ctx):
    dark = layout(TITLE, BODY, FOOTER, background="101010")
    planned = roles.plan_roles("content", dark, SLIDE_W, SLIDE_H)
    [slide] = fit.fit_slide(outline_slide(bullets=(Bullet("On black", 0, "[1]"),)), planned,
                            ctx)
    text, marks = slide.body.paragraphs[0].runs
    for run in (text, marks):
        rgb = fit.resolve(run.color, dark)
        assert fit.colors.contrast(rgb, "101010") >= 4.5, run


def test_text_over_a_picture_gets_a_backing(ctx):
    photo = layout(TITLE, BODY, FOOTER, fills=(m.Fill(m.Box(0, 0, SLIDE_W, SLIDE_H), "808080",
                                                      picture=True),))
    planned = roles.plan_roles("content", photo, SLIDE_W, SLIDE_H)
    [slide] = fit.fit_slide(outline_slide(bullets=(Bullet("Over a photo"),)), planned, ctx)
    assert slide.body.fill == fit.WHITE and slide.title.fill == fit.WHITE
    assert slide.body.insets.left_emu >= fit.BACKING_INSETS.left_emu


@pytest.mark.parametrize("width_in", [9.0, 3.0, 2.0])
def test_diagram_labels_shrink_until_no_word_is_broken(ctx, width_in):
    """On a narrow area (a master's small content box) the labels get smaller until the
    longest word of each fits across its box; on a wide one they keep the preferred size."""
    box = m.Box(0, 0, int(width_in * 914400), 914400 * 4)
    labels = [(1.8, 548640, "Prompt"), (2.0, 548640, "Router"), (2.7, 365760, "Expert 12")]
    size = fit._diagram_size(labels, box, ctx)
    u = box.width_emu / 10
    for tenths, height, text in labels:
        room = (tenths * u - 2 * 30480 - 2 * fit._ROUND_INSET * min(tenths * u, height)) / 12700
        wide = max(ctx.body.text_width_pt(w, size, bold=True) for w in text.split())
        assert wide <= room or size == fit._DIAGRAM_FLOOR_PT
    if width_in == 9.0:
        assert size == ctx.sizes.diagram
    else:
        assert size < ctx.sizes.diagram


@pytest.mark.parametrize(("fmt", "width_in"), [('#,##0"명"', 6.6), ("#,##0", 6.6),
                                               ('#,##0"명"', 3.0)])
def test_bar_chart_value_labels_fit_side_by_side(ctx, fmt, width_in):
    """A bar chart's value axis gets a round step whose labels fit across the plot (left to
    itself LibreOffice put nine '100,000 명' labels edge to edge); where not even two fit,
    none are shown (every bar has its data label)."""
    from deck.outline import Chart, ChartSeries

    values = (605574.0, 191556.0, 147081.0, 88497.0, 66111.0)
    chart = Chart("bar", "", tuple("abcde"), (ChartSeries("users", values),), False, (), "",
                  fmt, "")
    box = m.Box(0, 0, int(width_in * 914400), 914400 * 4)
    maximum = fit._headroom(chart)
    shown, step = fit.value_step(chart, maximum, box, 11, ctx.body)
    if not shown:
        assert step is None and width_in < 4
        return
    labels = [f"{k * step:,.0f}" + ("명" if "명" in fmt else "")
              for k in range(int(round(maximum / step)) + 1)]
    widths = sum(ctx.body.text_width_pt(t + "  ", 11) for t in labels)
    assert widths <= width_in * 72 * fit.PLOT_SHARE, (step, labels)
    assert maximum / step == int(maximum / step)  # the last label is the axis's end


def test_widths_taken_from_an_earlier_process_measure_the_same():
    """A measurer given the widths another measured (the cache across processes) measures
    every text as that one did, without measuring a character again; a character it has not
    seen is measured then."""
    first = Fonts().measurer("Arial", "Malgun Gothic")
    texts = ["딥시크 V3 개발비 557만 달러", "GPT-4 cost 5.5% of it", ""]
    widths = [first.width_em(t, bold) for t in texts for bold in (False, True)]
    later = Fonts().measurer("Arial", "Malgun Gothic")
    later.absorb(first.advances(), {})
    known = later.size()
    assert [later.width_em(t, bold) for t in texts for bold in (False, True)] == widths
    assert later.size() == known
    assert later.width_em("Ω", True) == first.width_em("Ω", True) > 0
    assert later.size()[0] == known[0] + 1


# --- the text splitters, against the character-by-character rules they were first written as

_HANGUL_CH = "[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]"
_EDGE_TEXT = st.text(st.sampled_from(
    list("가나다원억명은 ㄱㅏ\u1100\u11a8aZéŽ\u0250 09①²٣,.%()「」$₩-\u200b\u3000\xa0\t\n一。ｱＡ")),
    max_size=24)


def _split_by_script_spec(text: str, deck_lang: str) -> list[tuple[str, str]]:
    import re

    out: list[list[str]] = []
    for ch in text:
        lang = ("ko-KR" if re.match(_HANGUL_CH, ch) else
                "en-US" if re.match("[A-Za-z\u00c0-\u024f]", ch) else None)
        if out and (lang is None or lang == out[-1][1]):
            out[-1][0] += ch
        else:
            out.append([ch, lang or deck_lang])
    merged: list[tuple[str, str]] = []
    for seg, lang in out:
        if merged and merged[-1][1] == lang:
            merged[-1] = (merged[-1][0] + seg, lang)
        else:
            merged.append((seg, lang))
    return merged


def _break_units_spec(text: str) -> list[str]:
    def hangul(ch: str) -> bool:
        return 0xAC00 <= ord(ch) <= 0xD7A3

    units, cur = [], ""
    for i, ch in enumerate(text):
        cur += ch
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if not nxt:
            break
        stripped = cur.rstrip()
        in_number = len(stripped) >= 2 and stripped[-2].isdigit() and hangul(stripped[-1])
        if (ch.isspace() and not nxt.isspace()) or (
                hangul(ch) and hangul(nxt) and nxt not in ",.;:!?)]}%’”…·、。」』〉》】〕°\u200b"
                and ch not in "([{‘“「『〈《【〔$₩" and not in_number):
            units.append(cur)
            cur = ""
    return units + [cur] if cur else units


@settings(max_examples=600, deadline=None)
@given(text=_EDGE_TEXT, lang=st.sampled_from(["ko-KR", "en-US", "ja-JP"]))
def test_text_is_split_as_the_character_by_character_rules_split_it(text, lang):
    """split_by_script and break_units find runs and break points with regular expressions;
    their pieces are those of the per-character rules (digits of other scripts, jamo, spaces
    that are not ASCII, a unit after a circled number)."""
    from deck.measure import _script_boundaries, break_units

    assert fit.split_by_script(text, lang) == _split_by_script_spec(text, lang)
    assert break_units(text) == _break_units_spec(text)
    assert _script_boundaries(text) == sum(  # Hangul next to an ASCII letter or digit
        (0xAC00 <= ord(a) <= 0xD7A3 and b.isascii() and b.isalnum())
        or (0xAC00 <= ord(b) <= 0xD7A3 and a.isascii() and a.isalnum())
        for a, b in zip(text, text[1:], strict=False))


def _latin_taller():
    """A measurer whose Latin line is the taller (none of the fonts here has one taller
    than the CJK face's)."""
    measurer = Fonts().measurer("Arial", "Malgun Gothic")
    measurer._line_em = {face: em * (2.0 if face in (measurer._face("latin", False),
                                                     measurer._face("latin", True)) else 1.0)
                         for face, em in measurer._line_em.items()}
    return measurer


#: the East Asian face taller, and the Latin one
_MEASURERS = (Fonts().measurer("Arial", "Malgun Gothic"), _latin_taller())


@settings(max_examples=300, deadline=None)
@given(text=_EDGE_TEXT, bold=st.booleans(), which=st.sampled_from(_MEASURERS))
def test_a_line_is_as_tall_as_the_tallest_face_its_characters_use(text, bold, which):
    from deck.measure import is_east_asian

    faces = {"ea" if is_east_asian(ch) else "latin" for ch in text} or {"latin"}
    tallest = max(which._line_em[which._face(f, bold)] for f in faces)
    assert which.line_height_pt(text, 10, bold) == tallest * 10


def test_the_faces_of_a_line_differ_in_height():
    """(what makes the test above able to fail: either face may be the taller)"""
    ea_taller, latin_taller = _MEASURERS
    assert ea_taller.line_height_pt("가", 10) > ea_taller.line_height_pt("a", 10)
    assert latin_taller.line_height_pt("가", 10) < latin_taller.line_height_pt("a", 10)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_EDGE_TEXT, max_size=4), bold=st.booleans())
def test_a_break_unit_measures_the_same_remembered_or_not(texts, bold):
    """Break units' widths are remembered across paragraphs (a Korean text's syllables
    repeat): each is the width measured afresh, its trailing space too."""
    from deck.measure import break_units

    measurer = Fonts().measurer("Arial", "Malgun Gothic")
    for text in texts + texts[::-1]:
        assert measurer._measured_units(text, bold) == [
            (u, measurer.width_em(u, bold),
             measurer.width_em(u, bold) - measurer.width_em(u.rstrip(), bold))
            for u in break_units(text)]
