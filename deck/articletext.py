"""An article's text as a reporter's page gives it: metadata, then headline, subheads, photo
captions, section headings and numbered body paragraphs, each split into sentences.

Reads the layout of Korean news pages (``등록 2025-02-02 08:00:00``, ``[서울=뉴시스]윤정민 기자 =``,
``◆`` headings) and a plain English one (``Published 2025-03-14 09:30 +09:00``, ``By Jane Park,
The Ledger``, ``## `` headings); share buttons, photo markers and copyright lines are dropped.
Used by ``--init`` and ``--article``. Knows nothing of the data file, Jinja or pptx.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, UserError

_NOISE = re.compile(r"^(?:•|associate_pic|관련기사|Copyright|©|◎|위클리|Share|Related|"
                    r"Advertisement)|@[\w.-]+\.\w+")
_SECTION = re.compile(r"^[^\s>][^>]{0,40}\s>\s[^>]{1,40}$")
_STAMP = r"(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?)"
_PUBLISHED = re.compile(rf"(?:등록|입력|Published|Posted)\s*:?\s*{_STAMP}", re.I)
_UPDATED = re.compile(rf"(?:최종수정|수정|Updated)\s*:?\s*{_STAMP}", re.I)
_BYLINE_KO = re.compile(r"^\[(?:[^=\]]*=)?(?P<outlet>[^\]]+)\]\s*"
                        r"(?P<reporter>[^\s=]+(?:\s[^\s=]+)?)\s*기자\s*=\s*")
_BYLINE_EN = re.compile(r"^By\s+(?P<reporter>[^,]+?)(?:,\s*(?P<outlet>.+))?$")
_CAPTION = re.compile(r"^\[(?P<where>[^\]]*)\]\s*(?P<text>.*)$|^(?:Photo|Caption):\s*(?P<en>.*)$")
_HEADING = re.compile(r"^(?:◆|■|▶|##)\s*")
_URL = re.compile(r"^https?://\S+$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=\S)")
#: a piece ending so is an abbreviation (Oct., U.S., Mr.), not a sentence
_ABBREVIATION = re.compile(r"(?:\b[A-Z][a-z]{0,3}|\b[A-Z](?:\.[A-Z])+)\.$")


@dataclass(frozen=True)
class Block:
    """A piece of the article: where it sits, its paragraph number (body), line and text."""

    place: str  # headline, subhead, caption, heading, body
    para: int | None
    line: int
    text: str

    def sentences(self) -> list[str]:
        """The block split into sentences (a heading, subhead or caption is one)."""
        if self.place != "body":
            return [self.text]
        out: list[str] = []
        for piece in (s.strip() for s in _SENTENCE_END.split(self.text)):
            if out and _ABBREVIATION.search(out[-1]):
                out[-1] += " " + piece
            elif piece:
                out.append(piece)
        return out


@dataclass
class ArticleText:
    """What ``--init`` and ``--article`` read from an article's text file."""

    path: Path
    lang: str
    title: str = ""
    section: str = ""
    outlet: str = ""
    reporter: str = ""
    published: dt.datetime | dt.date | None = None
    updated: dt.datetime | dt.date | None = None
    url: str = ""
    blocks: list[Block] = field(default_factory=list)

    @property
    def day(self) -> dt.date | None:
        """The publication date, for resolving relative dates; None if the text gives none
        (then only dates with their year are read: never the machine's today)."""
        p = self.published
        return p.date() if isinstance(p, dt.datetime) else p


def read_article(path: Path | str) -> ArticleText:
    """Read and split an article's text file; raise :class:`UserError` if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError([Diagnostic(str(path), None, "", f"cannot read the article's text; "
                                    f"expected a UTF-8 text file, got {exc}")]) from None
    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    kana = len(re.findall(r"[\u3040-\u30ff]", text))
    letters = max(1, len(re.findall(r"\w", text)))
    lang = "ja" if kana > letters * 0.05 else ("ko" if hangul > letters * 0.2 else "en")
    article = ArticleText(path, lang)
    _split(article, text.splitlines())
    return article


def _split(article: ArticleText, lines: list[str]) -> None:
    para = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or _NOISE.search(line) or _metadata(article, line):
            continue
        if not article.title:
            article.blocks.append(Block("headline", None, number, line))
            article.title = line
            continue
        place, text = _place(article, line, started=para > 0)
        if place == "body":
            para += 1
        if text:
            article.blocks.append(Block(place, para if place == "body" else None, number, text))


def _metadata(article: ArticleText, line: str) -> bool:
    """Take what a metadata line says; True if the line is metadata only."""
    if not article.title and _SECTION.match(line):
        article.section = line.split(">")[-1].strip()
        return True
    found = False
    for pattern, attr in ((_PUBLISHED, "published"), (_UPDATED, "updated")):
        m = pattern.search(line)
        if m and getattr(article, attr) is None:
            setattr(article, attr, _timestamp(m.group(1)))
            found = True
    if _URL.match(line):
        article.url = line
        return True
    m = _BYLINE_EN.match(line)
    if m and not article.reporter:
        article.reporter = m.group("reporter").strip()
        article.outlet = (m.group("outlet") or article.outlet).strip()
        return True
    return found


def _timestamp(text: str) -> dt.datetime | dt.date:
    text = re.sub(r"^(\d{4}-\d{2}-\d{2}) (?=\d)", r"\1T", text)
    text = re.sub(r"\s?([+-])(\d{2}):?(\d{2})$", r"\1\2:\3", text)
    moment = dt.datetime.fromisoformat(text)
    return moment if "T" in text else moment.date()


def _place(article: ArticleText, line: str, started: bool) -> tuple[str, str]:
    """Where a line sits and its text without datelines or markers."""
    if _HEADING.match(line):
        return "heading", _HEADING.sub("", line).strip()
    m = _BYLINE_KO.match(line)
    if m:
        article.outlet = article.outlet or m.group("outlet").split("/")[-1]
        article.reporter = article.reporter or m.group("reporter")
        return "body", line[m.end():].strip()
    m = _CAPTION.match(line)
    if m:
        return "caption", (m.group("text") if m.group("where") is not None else
                           m.group("en") or "").strip()
    if not started and not re.search(r"[.!?…]$", line):
        return "subhead", line
    return "body", line
