"""End to end through LibreOffice: every built deck renders to a PDF with one page per slide, and
every word LibreOffice draws lies inside the box of a text-bearing shape of its slide (and on
the page). Hangul must come back out of the Korean PDF as text.

Run alone with ``python -m pytest tests/test_render.py -s`` to see the per-deck counts; as a
script, ``PYTHONPATH=. python tests/test_render.py DECK.pptx...`` prints them for any deck.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import DEFAULT_DATA, build, soffice_convert
from pptx import Presentation

from deck.check import is_text_bearing, shape_rect
from deck.model import EMU_PER_PT

pytestmark = [
    pytest.mark.soffice,
    pytest.mark.skipif(shutil.which("soffice") is None,
                       reason="LibreOffice (soffice) is not installed; the render tests need it"),
]

STRESS_SCRIPT = Path(__file__).resolve().parent / "data" / "stress" / "make_stress.py"
TOLERANCE_PT = 2.0
TIMEOUT_S = 180
DECKS = ["ko", "en", "long.ko", "long.en", "token.ko", "token.en", "hanul.ko", "hanul.en",
         "merged.ko", "merged.en"]
HANUL = Path(__file__).resolve().parent / "data" / "hanul" / "hanul.yaml"


def to_pdf(pptx: Path, out_dir: Path) -> Path:
    """The deck rendered to PDF by LibreOffice."""
    return soffice_convert(pptx, out_dir, "pdf", TIMEOUT_S)


@dataclass
class RenderCounts:
    """What one rendered deck looked like: slides, pages, words checked and the words outside."""

    pptx: Path
    pdf: Path
    slides: int
    pages: int
    words: int = 0
    outside: list[str] = field(default_factory=list)
    per_shape: dict[str, int] = field(default_factory=dict)
    text: str = ""

    def line(self) -> str:
        return (f"{self.pptx.name}: {self.slides} slides, {self.pages} pages, {self.words} words "
                f"checked, {len(self.outside)} outside")


def render_counts(pptx: Path, pdf: Path) -> RenderCounts:
    """Map every word of the PDF to the text-bearing shape (placeholder, text box, table,
    chart, group) whose box holds it, ± :data:`TOLERANCE_PT`; list the words no box holds or
    that leave the page."""
    import pdfplumber

    prs = Presentation(str(pptx))
    slide_w = int(prs.slide_width) / EMU_PER_PT
    with pdfplumber.open(pdf) as doc:
        counts = RenderCounts(pptx, pdf, len(prs.slides), len(doc.pages))
        texts = []
        for n, (slide, page) in enumerate(zip(prs.slides, doc.pages, strict=False), start=1):
            scale = float(page.width) / slide_w  # PDF points per slide point
            boxes = [(s.name, [v / EMU_PER_PT * scale for v in shape_rect(s)],
                      getattr(s, "has_table", False))
                     for s in slide.shapes if is_text_bearing(s)]
            for w in page.extract_words(keep_blank_chars=False, use_text_flow=True):
                counts.words += 1
                texts.append(w["text"])
                x0, top, x1, bottom = (float(w[k]) for k in ("x0", "top", "x1", "bottom"))
                on_page = x0 >= -TOLERANCE_PT and top >= -TOLERANCE_PT and \
                    x1 <= float(page.width) + TOLERANCE_PT and \
                    bottom <= float(page.height) + TOLERANCE_PT
                owner = next((name for name, (left, t, right, b), _ in boxes
                              if x0 >= left - TOLERANCE_PT and x1 <= right + TOLERANCE_PT
                              and top >= t - TOLERANCE_PT and bottom <= b + TOLERANCE_PT), None)
                if owner is None or not on_page:
                    where = f"at ({x0:.1f}, {top:.1f})-({x1:.1f}, {bottom:.1f}) pt"
                    grown = next((name for name, (left, t, right, b), table in boxes
                                  if table and left - TOLERANCE_PT <= x0 and
                                  x1 <= right + TOLERANCE_PT and top >= b - TOLERANCE_PT), None)
                    why = ("off the page" if not on_page else
                           f"below table {grown!r}, which rendered taller than its rows"
                           if grown else "in no shape's box")
                    counts.outside.append(f"slide {n}: {w['text']!r} {where}, {why}")
                else:
                    counts.per_shape[f"{n}:{owner}"] = counts.per_shape.get(f"{n}:{owner}", 0) + 1
        counts.text = " ".join(texts)
    return counts


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, scenario) -> dict[str, RenderCounts]:
    """The bundled decks, the long and token stress decks, the third test article (default
    outline) and the decks of the merge scenario (edited by hand, rebuilt with --merge),
    converted in parallel (one LibreOffice per deck, each with its own profile) and measured."""
    import importlib.util

    tmp = tmp_path_factory.mktemp("render")
    spec = importlib.util.spec_from_file_location("stress_variants", STRESS_SCRIPT)
    assert spec is not None and spec.loader is not None
    stress = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stress)
    data = stress.write_all(tmp / "data")
    decks: dict[str, Path] = {}
    for prefix, path in (("", DEFAULT_DATA), ("long", data["long"]), ("token", data["token"]),
                         ("hanul", HANUL)):
        for b in build(path, tmp / (prefix or "bundled")):
            decks[f"{prefix}.{b.lang}" if prefix else b.lang] = b.path
    for lang in ("ko", "en"):
        merged = tmp / "merged" / f"merged.{lang}.pptx"
        merged.parent.mkdir(exist_ok=True)
        merged.write_bytes(scenario.deck(lang).read_bytes())
        decks[f"merged.{lang}"] = merged
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = dict(zip(decks, pool.map(lambda p: to_pdf(p, tmp / "pdf" / p.parent.name),
                                        decks.values()), strict=True))
    return {name: render_counts(decks[name], pdfs[name]) for name in decks}


@pytest.mark.parametrize("deck", DECKS)
def test_one_pdf_page_per_slide(rendered: dict[str, RenderCounts], deck: str) -> None:
    r = rendered[deck]
    assert r.pages == r.slides, r.line()


@pytest.mark.parametrize("deck", DECKS)
def test_every_word_lies_inside_a_text_shape(rendered: dict[str, RenderCounts],
                                             deck: str) -> None:
    r = rendered[deck]
    print(r.line())
    assert r.words > 100, f"too few words extracted to mean anything: {r.line()}"
    assert r.outside == [], r.line() + "\n" + "\n".join(r.outside[:40])


def test_hangul_comes_back_out_of_the_korean_pdf(rendered: dict[str, RenderCounts]) -> None:
    assert "딥시크" in rendered["ko"].text
    assert "DeepSeek" in rendered["en"].text
    assert "딥시크" not in rendered["en"].text


def test_words_outside_are_counted(rendered: dict[str, RenderCounts], tmp_path: Path) -> None:
    """The mapping can fail: measured against a copy whose summary body sits 200 pt lower, the
    words LibreOffice drew in the real body fall outside every box of slide 2."""
    real = rendered["en"]
    prs = Presentation(str(real.pptx))
    body = next(s for s in prs.slides[1].shapes if s.name == "deck:summary:1:body")
    body.left, body.top, body.width, body.height = (body.left, body.top + 200 * EMU_PER_PT,
                                                    body.width, body.height)
    moved = tmp_path / "moved.pptx"
    prs.save(str(moved))
    r = render_counts(moved, real.pdf)
    assert r.words == real.words
    assert len(r.outside) > 10 and all(o.startswith("slide 2: ") for o in r.outside), r.outside


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp_dir:
        for arg in sys.argv[1:]:
            print(render_counts(Path(arg), to_pdf(Path(arg), Path(tmp_dir))).line())
