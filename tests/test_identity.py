"""Identity: every generated slide and shape carries its outline key, continuation number and
role in its name, so a deck edited by hand can be matched shape by shape against the build.
Which carrier survives which application is recorded here too (LibreOffice round trip)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from helpers import CUSTOM_OUTLINE, copy_bikeshare, soffice_pptx
from pptx import Presentation
from pptx.oxml.ns import qn

from deck.cli import main
from deck.identity import parse_shape_name


def identities(path: Path) -> list[list]:
    """Per slide, the identity parsed from each shape's name (None where there is none)."""
    return [[parse_shape_name(s.name) for s in slide.shapes]
            for slide in Presentation(str(path)).slides]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_generated_shape_names_its_slide_and_role(built_decks, lang):
    slides = identities(built_decks[lang].path)
    seen = set()
    for n, shapes in enumerate(slides, start=1):
        assert shapes and None not in shapes, f"slide {n}: a shape without identity"
        assert len({s.slide for s in shapes}) == 1, f"slide {n}: shapes of several slides"
        roles = Counter(s.role for s in shapes)
        assert roles["title"] == 1 and max(roles.values()) == 1, (n, roles)
        assert shapes[0].slide not in seen, f"slide {n} repeats {shapes[0].slide}"
        seen.add(shapes[0].slide)
    sources = sorted(s.part for s in seen if s.key == "sources")
    assert sources == list(range(1, len(sources) + 1)) and len(sources) >= 2


def test_a_repeated_outline_key_is_refused_at_its_line(tmp_path, capsys):
    text = CUSTOM_OUTLINE.read_text(encoding="utf-8")
    data = copy_bikeshare(tmp_path / "article",
                          outline=text.replace("key: rides", "key: title"))
    line = text.splitlines().index("  key: rides") + 1
    assert main([str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"custom.yaml.j2:{line}: slides[1].key: key 'title' already names slides[0]" \
        in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# what survives a LibreOffice round trip ----------------------------------------------------


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed; the round trip needs it")
def test_libreoffice_keeps_names_of_graphics_but_renames_placeholders(built_decks, tmp_path):
    """The finding ``--merge`` relies on (``tests/bench/carriers.py`` tries every carrier):
    after LibreOffice saves a deck, charts, tables and groups keep their names; placeholders
    (titles, bullets, footers) are renamed, and tags and extension lists are dropped. If a later
    LibreOffice keeps them too, this fails and LibreOffice-saved decks could be merged."""
    saved = soffice_pptx(built_decks["en"].path, tmp_path)
    kept, lost = Counter(), Counter()
    for slide in Presentation(str(saved)).slides:
        for shape in slide.shapes:
            ident = parse_shape_name(shape.name)
            text = shape.element.tag == qn("p:sp")  # titles, bullets, footers: placeholders
            (kept if ident else lost)["text" if text else "graphic"] += 1
    assert kept["graphic"] >= 8 and lost["graphic"] == 0, (kept, lost)
    assert kept["text"] == 0 and lost["text"] >= 30, (kept, lost)
