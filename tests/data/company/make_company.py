"""Build ``tests/data/company/company.pptx`` + ``company.yaml``: a bring-your-own-template fixture.

Run ``python tests/data/company/make_company.py``. Output is byte-identical from run to run (it uses
the builder in ``templates/make_theme.py``).

The template is deliberately unlike ``templates/theme.pptx``, to prove the generator follows
whatever template the user brings:

* different layout names and order (Cover, Text Slide, Divider, Two Columns, Graph Slide,
  References, Grid, Blank) - "Blank" is not mapped in company.yaml at all;
* placeholders elsewhere: the cover title sits in a green band low on the slide, the text body is
  narrower, the chart area is on the RIGHT with the bullets on the left, the slide number is
  bottom LEFT and the footer centred;
* "Graph Slide" has no chart placeholder: its chart area is a plain content placeholder
  (``<p:ph idx="1"/>``, type obj), and "References" has a plain body placeholder (type body)
  where the theme has a table placeholder; only "Grid" has a real ``tbl`` placeholder;
* green / dark-grey colour scheme; Georgia (Latin) with Malgun Gothic (East Asian).

idx semantics match the theme: idx 1 is the main area (body / chart / table), idx 2 the second
column or the chart's bullets.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _load_builder():
    spec = importlib.util.spec_from_file_location(
        "make_theme", ROOT / "templates" / "make_theme.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mt = _load_builder()
emu, ppr, placeholder, rect, body_pr = mt.emu, mt.ppr, mt.placeholder, mt.rect, mt.body_pr
SLIDE_W, SLIDE_H = mt.SLIDE_W, mt.SLIDE_H

COLORS = {
    "dk1": "262626",
    "lt1": "FFFFFF",
    "dk2": "37474F",
    "lt2": "EDF3EC",
    "accent1": "2E7D32",
    "accent2": "F9A825",
    "accent3": "78909C",
    "accent4": "66BB6A",
    "accent5": "1B5E20",
    "accent6": "B0BEC5",
    "hlink": "2E7D32",
    "folHlink": "78909C",
}
FONTS = {
    "major_latin": "Georgia",
    "minor_latin": "Georgia",
    "ea": "Malgun Gothic",
    "cs": "Arial",
    "hang": "맑은 고딕",
}

LEFT = emu(0.9)  # wider left margin than the theme; a green tab sits at 0.45in
RIGHT = SLIDE_W - emu(0.9)
TITLE_BOX = (LEFT, emu(0.4), RIGHT - LEFT, emu(0.85))
BODY_TOP = emu(1.55)
BODY_H = emu(6.55) - BODY_TOP
FOOT_Y = emu(7.02)
FOOT_H = emu(0.3)
FOOTER_BOX = (emu(3.67), FOOT_Y, emu(6.0), FOOT_H)  # centred
SLDNUM_BOX = (emu(0.45), FOOT_Y, emu(0.8), FOOT_H)  # bottom left

TITLE_PR = body_pr(anchor="ctr", autofit="none", ins=(0, 0, 0, 0))
BODY_PR = body_pr(anchor="t", autofit="norm", ins=(45720, 45720, 45720, 45720))
SMALL_PR = body_pr(anchor="ctr", autofit="none", ins=(0, 0, 0, 0))
FOOTER_STYLE = ppr(1, sz=9, color="accent3", algn="ctr")
SLDNUM_STYLE = ppr(1, sz=9, bold=True, color="accent1", algn="l")


def _foot(first_id: int) -> list[str]:
    return [
        rect(
            first_id, "Footer Rule", (emu(0.45), emu(6.9), SLIDE_W - emu(0.9), emu(0.01)), "accent6"
        ),
        placeholder(
            first_id + 1,
            "Footer",
            "ftr",
            11,
            FOOTER_BOX,
            sz="quarter",
            body=SMALL_PR,
            lst_style=FOOTER_STYLE,
            field="footer",
            footer_fmt=("ctr", 9, "accent3"),
        ),
        placeholder(
            first_id + 2,
            "Page Number",
            "sldNum",
            12,
            SLDNUM_BOX,
            sz="quarter",
            body=SMALL_PR,
            lst_style=SLDNUM_STYLE,
            field="slidenum",
        ),
    ]


def _title(box=TITLE_BOX, lst: str = "") -> str:
    return placeholder(
        2, "Title", "title", None, box, body=TITLE_PR, lst_style=lst, prompt=[("Title", 0)]
    )


def _tab(sp_id: int) -> str:
    """Green vertical tab left of the title."""
    return rect(
        sp_id, "Title Tab", (emu(0.45), TITLE_BOX[1] + emu(0.15), emu(0.12), emu(0.55)), "accent1"
    )


BULLETS = [("Text", 0), ("Second level", 1)]


def company_spec() -> dict:
    body_style = "".join(
        ppr(
            lvl,
            sz=16 if lvl == 1 else 14,
            color="tx1",
            bullet="▪" if lvl % 2 else "·",
            bullet_color="accent1",
            mar_l=228600 * lvl,
            indent=-228600,
            spc_bef=8 if lvl == 1 else 4,
            ln_spc_pct=110,
        )
        for lvl in range(1, 10)
    )
    title_style = ppr(1, sz=26, color="tx2", font="mj")
    master_shapes = [
        placeholder(
            2,
            "Title Placeholder",
            "title",
            None,
            TITLE_BOX,
            body=TITLE_PR,
            prompt=[("Master title", 0)],
        ),
        placeholder(
            3,
            "Body Placeholder",
            "body",
            1,
            (LEFT, BODY_TOP, RIGHT - LEFT, BODY_H),
            body=BODY_PR,
            prompt=[("Master text", 0), ("Second level", 1)],
        ),
        placeholder(
            4, "Footer", "ftr", 3, FOOTER_BOX, sz="quarter", body=SMALL_PR, lst_style=FOOTER_STYLE
        ),
        placeholder(
            5,
            "Page Number",
            "sldNum",
            4,
            SLDNUM_BOX,
            sz="quarter",
            body=SMALL_PR,
            lst_style=SLDNUM_STYLE,
            field="slidenum",
        ),
        _tab(6),
    ]

    band_y, band_h = emu(4.2), emu(2.2)
    cover = [
        rect(20, "Cover Band", (0, band_y, SLIDE_W, band_h), "accent1"),
        rect(21, "Cover Line", (0, band_y - emu(0.08), SLIDE_W, emu(0.04)), "accent2"),
        placeholder(
            2,
            "Cover Title",
            "ctrTitle",
            None,
            (LEFT, band_y + emu(0.2), RIGHT - LEFT, emu(1.2)),
            body=body_pr(anchor="b", autofit="none", ins=(0, 0, 0, 0)),
            lst_style=ppr(1, sz=34, color="bg1", font="mj"),
            prompt=[("Cover title", 0)],
        ),
        placeholder(
            3,
            "Cover Subtitle",
            "subTitle",
            1,
            (LEFT, band_y + emu(1.5), RIGHT - LEFT, emu(0.55)),
            body=BODY_PR,
            lst_style=ppr(1, sz=16, color="bg2"),
            prompt=[("Subtitle", 0)],
        ),
        *_foot(22),
    ]

    text = [
        _title(),
        # narrower body: about two thirds of the width
        placeholder(
            3, "Text", "body", 1, (LEFT, BODY_TOP, emu(8.2), BODY_H), body=BODY_PR, prompt=BULLETS
        ),
        *_foot(4),
    ]

    divider = [
        rect(20, "Divider Tab", (LEFT, emu(3.55), emu(1.6), emu(0.06)), "accent2"),
        placeholder(
            2,
            "Divider Title",
            "title",
            None,
            (LEFT, emu(2.0), RIGHT - LEFT, emu(1.4)),
            body=body_pr(anchor="b", autofit="none", ins=(0, 0, 0, 0)),
            lst_style=ppr(1, sz=32, color="bg1", font="mj"),
            prompt=[("Section", 0)],
        ),
        placeholder(
            3,
            "Divider Text",
            "body",
            1,
            (LEFT, emu(3.8), emu(9.0), emu(0.9)),
            body=BODY_PR,
            lst_style=ppr(1, sz=16, color="accent4") + ppr(2, sz=14, color="accent4", mar_l=228600),
            prompt=[("Section subtitle", 0)],
        ),
        *_foot(21),
    ]

    left_w = emu(4.4)
    gap = emu(0.45)
    two = [
        _title(),
        placeholder(
            3,
            "Left Column",
            "body",
            1,
            (LEFT, BODY_TOP, left_w, BODY_H),
            body=BODY_PR,
            prompt=BULLETS,
        ),
        rect(20, "Column Rule", (LEFT + left_w + gap // 2, BODY_TOP, emu(0.01), BODY_H), "accent6"),
        placeholder(
            4,
            "Right Column",
            "body",
            2,
            (LEFT + left_w + gap, BODY_TOP, RIGHT - LEFT - left_w - gap, BODY_H),
            body=BODY_PR,
            prompt=BULLETS,
        ),
        *_foot(5),
    ]

    notes_w = emu(3.6)
    graph = [
        _title(),
        # chart area on the RIGHT, as a plain content placeholder (no type= -> obj)
        placeholder(
            3,
            "Graph Area",
            None,
            1,
            (LEFT + notes_w + emu(0.4), BODY_TOP, RIGHT - LEFT - notes_w - emu(0.4), BODY_H),
            body=BODY_PR,
            prompt=[("Insert chart", 0)],
        ),
        placeholder(
            4,
            "Graph Notes",
            "body",
            2,
            (LEFT, BODY_TOP, notes_w, BODY_H),
            sz="quarter",
            body=BODY_PR,
            lst_style=ppr(
                1,
                sz=14,
                color="tx1",
                bullet="▪",
                bullet_color="accent1",
                mar_l=228600,
                indent=-228600,
                spc_bef=8,
            ),
            prompt=[("Key point", 0)],
        ),
        *_foot(5),
    ]

    references = [
        _title(
            (LEFT, emu(0.35), RIGHT - LEFT, emu(0.6)), lst=ppr(1, sz=20, color="tx2", font="mj")
        ),
        # a plain body placeholder where the theme has a table placeholder
        placeholder(
            3,
            "Reference List",
            "body",
            1,
            (LEFT, emu(1.15), RIGHT - LEFT, emu(5.45)),
            body=BODY_PR,
            lst_style=ppr(1, sz=12, color="tx1"),
            prompt=[("References", 0)],
        ),
        *_foot(4),
    ]

    grid = [
        _title(),
        placeholder(
            3,
            "Grid Table",
            "tbl",
            1,
            (LEFT, BODY_TOP, RIGHT - LEFT, emu(4.6)),
            body=body_pr(autofit="none"),
            prompt=[("Insert table", 0)],
        ),
        *_foot(4),
    ]

    blank = [*_foot(2)]

    return {
        "theme_name": "Company Green",
        "title": "Company template (test fixture)",
        "generator": "tests/data/company/make_company.py",
        "colors": COLORS,
        "fonts": FONTS,
        "master_shapes": master_shapes,
        "title_style": title_style,
        "body_style": body_style,
        "layouts": [
            {"name": "Cover", "type": "title", "shapes": cover, "show_master_sp": False},
            {"name": "Text Slide", "type": "obj", "shapes": text},
            {
                "name": "Divider",
                "type": "secHead",
                "shapes": divider,
                "show_master_sp": False,
                "bg": "tx2",
            },
            {"name": "Two Columns", "type": "twoObj", "shapes": two},
            {"name": "Graph Slide", "type": "cust", "shapes": graph},
            {"name": "References", "type": "cust", "shapes": references, "show_master_sp": False},
            {"name": "Grid", "type": "tbl", "shapes": grid},
            {"name": "Blank", "type": "blank", "shapes": blank, "show_master_sp": False},
        ],
    }


LAYOUT_MAP_YAML = """\
layouts:
  title: Cover
  section: Divider
  content: Text Slide
  chart: Graph Slide
  two_content: Two Columns
  table: Grid
  sources: References
"""


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else HERE / "company.pptx"
    mt.build_template(company_spec(), out)
    out.with_suffix(".yaml").write_text(LAYOUT_MAP_YAML, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
