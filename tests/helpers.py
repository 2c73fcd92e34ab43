"""What the tests share: paths of the test inputs, a build in a session of its own, and the
merge scenario (decks edited by hand, the article updated, rebuilt with ``--merge``)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation
from pptx.util import Emu

from deck.identity import parse_shape_name
from deck.ooxml import set_run_language
from deck.resources import default_article
from deck.session import BuildRequest, BuildSession, BuiltDeck

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_article()
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"
HANUL = ROOT / "tests" / "data" / "hanul" / "hanul.yaml"
#: a hand-written outline of the bikeshare article, for tests that break an outline
CUSTOM_OUTLINE = ROOT / "tests" / "data" / "custom" / "custom.yaml.j2"
COMPANY = ROOT / "tests" / "data" / "company" / "company.pptx"


def build(data: Path, out: Path, langs: list[str] | tuple[str, ...] = (), *,
          template: Path | None = None, force: bool = False, strict: bool = False,
          session: BuildSession | None = None,
          source_date_epoch: str | None = None) -> list[BuiltDeck]:
    """Build like the command line does, in a new session unless one is given."""
    request = BuildRequest(Path(data), Path(out), tuple(langs), template, force, strict,
                           source_date_epoch)
    return list((session or BuildSession()).build(request).decks)


def pids_calling(monkeypatch, owner, name: str, log: Path):
    """Wrap ``owner.name`` so that each call, here or in a process forked later, writes the
    calling process's pid to ``log``; a function giving those pids back, in call order."""
    import os

    real = getattr(owner, name)

    def recorded(*args, **kwargs):
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return lambda: log.read_text(encoding="utf-8").split() if log.exists() else []


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (its subfolders too: ``.deck/``) by relative path, with its
    bytes: what a failed build must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def soffice_convert(src: Path, out_dir: Path, fmt: str, timeout_s: int = 180) -> Path:
    """Convert a deck with LibreOffice (``soffice --convert-to pdf|pptx``) and a fresh profile
    (no lock clashes); fail unless a file comes out (soffice exits 0 even when it made
    nothing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        run = subprocess.run(
            ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--convert-to", fmt, "--outdir", str(out_dir), str(src)],
            capture_output=True, text=True, timeout=timeout_s, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = out_dir / f"{src.stem}.{fmt}"
    if not out.exists() or out.stat().st_size == 0:
        raise AssertionError(f"soffice made no {fmt} of {src} (exit {run.returncode}): "
                             f"{run.stdout.strip()} {run.stderr.strip()}")
    return out


def soffice_pptx(src: Path, out_dir: Path) -> Path:
    """Save a deck through LibreOffice, as a user of LibreOffice Impress would."""
    return soffice_convert(src, out_dir, "pptx")


def copy_bikeshare(folder: Path, text: str | None = None, outline: str | None = None) -> Path:
    """The bikeshare test article (with its picture) copied into ``folder``; ``text`` replaces
    the data file's content. With ``outline`` (a template's text) the copy uses that outline,
    written beside it as ``custom.yaml.j2``, instead of the default one. Returns the copied
    data file."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(BIKESHARE.with_name("stations.png"), folder / "stations.png")
    data = folder / BIKESHARE.name
    content = BIKESHARE.read_text(encoding="utf-8") if text is None else text
    if outline is not None:
        (folder / CUSTOM_OUTLINE.name).write_text(outline, encoding="utf-8")
        content = re.sub(r"^template: briefing$", "template: custom", content, count=1,
                         flags=re.M)
    data.write_text(content, encoding="utf-8")
    return data


# ------------------------------------------------------------------------------------------
# a deck edited by hand and an article updated since: the merge scenario


def slide_of(prs, key: str, part: int = 1):
    """The slide of a deck whose generated shapes name ``key`` (and continuation ``part``)."""
    for slide in prs.slides:
        for shape in slide.shapes:
            ident = parse_shape_name(shape.name)
            if ident and ident.slide.key == key and ident.slide.part == part:
                return slide
    raise LookupError(f"no slide {key} ({part})")


def role_of(slide, role: str):
    """The generated shape of ``role`` on a slide."""
    return next(s for s in slide.shapes
                if (ident := parse_shape_name(s.name)) and ident.role == role)


def typed(run, lang: str) -> None:
    """Mark a run as PowerPoint marks typed text: the keyboard's language, and for Hangul the
    theme's East Asian face."""
    set_run_language(run._r.get_or_add_rPr(), lang, east_asian=lang.startswith("ko"),
                     major=False)


def retype(paragraph, text: str, lang: str) -> None:
    """Replace a paragraph's text as a person typing in PowerPoint would: one run, in the
    first run's formatting, marked with the keyboard's language."""
    runs = paragraph.runs
    for run in runs[1:]:
        run._r.getparent().remove(run._r)
    runs[0].text = text
    typed(runs[0], lang)


#: what the hand types, per deck language
HAND = {
    "en": {"title": "What matters most", "bullet": "R1 was trained on H800 chips (our words)",
           "clash": "H800: the export version (our words)",
           "slide_title": "Our view", "note": "Watch inference costs, not training costs"},
    "ko": {"title": "가장 중요한 점", "bullet": "R1은 H800 칩으로 학습 (우리 표현)",
           "clash": "H800: 수출용 제품 (우리 표현)",
           "slide_title": "우리 팀의 시각", "note": "학습비보다 추론 비용을 지켜볼 것"},
}
CHART_NUDGE_EMU = (254000, 127000, -762000, -508000)  # right 2 cm, down 1 cm, narrower, shorter


def edit_by_hand(path: Path, lang: str) -> None:
    """The seven hand edits of the issue, made with python-pptx and saved in place: retitle
    the summary, reword a chips bullet (and another the data will change too), move and
    resize the performance chart, bold a run of the open-source slide, add a slide with a
    text box after slide 3, delete the markets slide, swap the two adoption slides."""
    words, tag = HAND[lang], "ko-KR" if lang == "ko" else "en-US"
    prs = Presentation(str(path))
    retype(role_of(slide_of(prs, "summary"), "title").text_frame.paragraphs[0],
           words["title"], tag)
    bullets = role_of(slide_of(prs, "chips"), "body").text_frame.paragraphs
    retype(bullets[1], words["bullet"], tag)
    retype(bullets[2], words["clash"], tag)
    chart = role_of(slide_of(prs, "performance"), "chart")
    box = (chart.left, chart.top, chart.width, chart.height)
    chart.left, chart.top, chart.width, chart.height = (v + d for v, d in
                                                        zip(box, CHART_NUDGE_EMU, strict=True))
    role_of(slide_of(prs, "open_source"), "body").text_frame.paragraphs[0].runs[0].font.bold \
        = True
    _add_own_slide(prs, words, tag)
    _drop_slide(prs, slide_of(prs, "market"))
    _swap_slides(prs, slide_of(prs, "adoption"), slide_of(prs, "adoption_apps"))
    prs.save(str(path))


def _add_own_slide(prs, words: dict[str, str], tag: str) -> None:
    """A 'Title and Content' slide, its body placeholder replaced by a text box, after
    slide 3."""
    layout = slide_of(prs, "summary").slide_layout
    slide = prs.slides.add_slide(layout)
    slide.shapes.title.text_frame.text = words["slide_title"]
    for ph in [p for p in slide.placeholders if p.placeholder_format.idx != 0]:
        ph._element.getparent().remove(ph._element)
    box = slide.shapes.add_textbox(Emu(914400), Emu(1828800), Emu(6400800), Emu(914400))
    box.text_frame.text = words["note"]
    for p in (slide.shapes.title.text_frame.paragraphs[0], box.text_frame.paragraphs[0]):
        typed(p.runs[0], tag)
    ids = prs.slides._sldIdLst
    new = ids[-1]
    ids.remove(new)
    ids.insert(3, new)


def _slide_id(prs, slide):
    return next(s for s in prs.slides._sldIdLst if prs.part.related_part(s.rId) is slide.part)


def _drop_slide(prs, slide) -> None:
    sld_id = _slide_id(prs, slide)
    prs.slides._sldIdLst.remove(sld_id)
    prs.part.drop_rel(sld_id.rId)


def _swap_slides(prs, a, b) -> None:
    ids = prs.slides._sldIdLst
    first, second = _slide_id(prs, a), _slide_id(prs, b)
    i, j = list(ids).index(first), list(ids).index(second)
    ids.remove(second)
    ids.insert(i, second)
    ids.remove(first)
    ids.insert(j, first)


#: the data's changes: (old, new) replacements of the bundled article's text
DATA_CHANGES = [
    ('en: "H800: a cut-down China version under US export curbs"',
     'en: "H800: a China-only version slowed by US export rules"'),
    ('ko: "H800: 미 수출 규제로 사양을 낮춘 중국용 칩"',
     'ko: "H800: 미 수출 규제에 맞춘 중국 전용 칩"'),
    ('en: "The H800 is a cut-down version made for sale in China because of US export controls"',
     'en: "The H800 is a slowed-down version sold only in China under US export rules"'),
    ('ko: "H800은 미국 정부의 대중국 수출 규제 때문에 중국 판매용으로 성능을 낮춘 제품이다"',
     'ko: "H800은 미국의 수출 규제에 맞춰 중국에서만 파는 저사양 제품이다"'),
    ("value: 79.8\n        unit: percent\n        label: {ko: 딥시크 R1",
     "value: 80.4\n        unit: percent\n        label: {ko: 딥시크 R1"),
]
ADDED_CLAIMS = 16  # enough for the sources slides of both languages to gain a page


def update_article(text: str, added: int = ADDED_CLAIMS) -> str:
    """The bundled article with a claim reworded in both languages, a figure corrected
    (R1's AIME score) and ``added`` claims appended (so the sources slides gain a page)."""
    for old, new in DATA_CHANGES:
        assert old in text, old
        text = text.replace(old, new)
    claims = "".join(f"""
  - id: added-{i}
    para: 30
    by: reporter
    kind: analysis
    text:
      ko: "추가 주장 {i}: 시장은 저비용 모델의 확산 속도를 주시하며 후속 발표가 이어질 전망이다"
      en: "Added claim {i}: markets watch how fast cheap models spread; more news is due soon"
""" for i in range(added))
    return text.replace("\nderived:", claims + "\nderived:")


@dataclass
class MergeScenario:
    """Both bundled decks built, edited by hand, the article updated, rebuilt with --merge.

    ``base``/``edited`` hold the decks' bytes as built and as edited; ``fresh`` the new
    build made apart (in ``out/../fresh``); ``status`` and ``stdout`` the merge's."""

    data: Path
    out: Path
    base: dict[str, bytes]
    edited: dict[str, bytes]
    fresh: dict[str, Path]
    status: int
    stdout: str

    def deck(self, lang: str) -> Path:
        return self.out / f"{self.data.stem}.{lang}.pptx"


def merge_scenario(folder: Path) -> MergeScenario:
    """Run the scenario in ``folder`` (the CLI in this process)."""
    from deck.cli import main

    data = folder / "article" / DEFAULT_DATA.name
    data.parent.mkdir(parents=True)
    text = DEFAULT_DATA.read_text(encoding="utf-8")
    data.write_text(text, encoding="utf-8")
    out = folder / "out"
    built = {b.lang: b for b in build(data, out)}
    for lang, b in built.items():
        edit_by_hand(b.path, lang)
    edited = {lang: b.path.read_bytes() for lang, b in built.items()}
    data.write_text(update_article(text), encoding="utf-8")
    fresh = {b.lang: b.path for b in build(data, folder / "fresh")}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main([str(data), "--out", str(out), "--merge"])
    return MergeScenario(data, out, {lang: b.data for lang, b in built.items()}, edited, fresh,
                         status, buf.getvalue())


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: enough for Pillow's size checks."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def theme_with_font(folder: Path, typeface: str) -> Path:
    """The bundled theme (with its mapping) saved in ``folder`` as ``odd.pptx``, its major
    Latin font (Arial) renamed ``typeface``: a font no stand-in is known for."""
    odd = folder / "odd.pptx"
    with zipfile.ZipFile(ROOT / "templates" / "theme.pptx") as src, \
            zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "ppt/theme/theme1.xml":
                data = data.replace(b'<a:latin typeface="Arial"/>',
                                    f'<a:latin typeface="{typeface}"/>'.encode())
            dst.writestr(item, data)
    shutil.copy(ROOT / "templates" / "theme.yaml", folder / "odd.yaml")
    return odd
