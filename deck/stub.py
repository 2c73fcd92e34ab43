"""``--init``: a first data file written from an article's text, for the analyst to finish.

It holds what can be read (metadata, where each sentence sits, the numbers and dates each
states, typed) and a ``TODO`` wherever only a person can write: the claims in their own words,
who made them, what kind they are. Each claim stub carries its sentence as a YAML comment for
reference (the file is the analyst's working copy; the sentences are the article's, so the
comments go before the data file is shared). A file with a TODO does not build.

Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .articletext import ArticleText, Block, read_article
from .diagnostics import Diagnostic, UserError
from .quantities import DateMention, Quantity, find_dates, find_quantities

#: the zone assumed for a time written without an offset, by the article's language
_ZONES = {"ko": "Asia/Seoul", "ja": "Asia/Tokyo"}
_UNIT_SLUGS = {"percentage_points": "pp", "percent": "pct", "people": "people",
               "multiple": "x", "rank": "rank", "year": "year", "count": "n"}


def init_data_file(article_path: Path | str) -> Path:
    """Write ``ARTICLE.yaml`` beside ``ARTICLE.txt``; never overwrite. Returns its path."""
    article_path = Path(article_path)
    target = article_path.with_suffix(".yaml")
    if target.exists():
        raise UserError([Diagnostic(str(target), None, "", "exists; expected a new file "
                                    "(--init never overwrites), got an existing one: move it "
                                    "away or edit it")])
    article = read_article(article_path)
    if not article.blocks:
        raise UserError([Diagnostic(str(article_path), None, "", "no article text found; "
                                    "expected a headline and paragraphs, got none")])
    text = stub_text(article)
    with target.open("x", encoding="utf-8") as out:  # 'x': refuse a file made meanwhile
        out.write(text)
    return target


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's quoting is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _texts(langs: list[str], known: dict[str, str] | None = None) -> str:
    known = known or {}
    return "{" + ", ".join(f"{lang}: {_q(known[lang]) if lang in known else 'TODO'}"
                           for lang in langs) + "}"


def stub_text(article: ArticleText) -> str:
    """The data file's text for ``article``, TODOs and comments included."""
    langs = [article.lang] + (["en"] if article.lang != "en" else [])
    lines = [f"# Data file for {article.path.name}, written by deck --init.",
             "# Fill every TODO: restate each claim in your own words (never the article's),",
             "# say who made it (a key of sources:) and what kind it is; check each figure.",
             "# A number you leave out goes under skipped: with a reason (docs/data-format.md).",
             "# The comments quote the article: delete them before sharing this file.",
             f"# Then: python build.py {article.path.with_suffix('.yaml').name} "
             f"--article {article.path.name}",
             "schema: 1", f"languages: [{', '.join(langs)}]", "template: briefing", ""]
    lines += _article_lines(article, langs)
    lines += ["", "sources:  # one entry per speaker the article cites",
              f"  reporter: {_texts(langs, {article.lang: article.reporter or article.outlet})}"
              if article.reporter or article.outlet else f"  reporter: {_texts(langs)}", ""]
    claims, sections = _claims(article, langs)
    lines += ["claims:"] + claims + ["", "deck:", f"  takeaway: {_texts(langs)}",
                                     "  sections:"] + sections
    return "\n".join(lines) + "\n"


def _article_lines(article: ArticleText, langs: list[str]) -> list[str]:
    lang = article.lang
    out = ["article:",
           f"  outlet: {_texts(langs, {lang: article.outlet} if article.outlet else None)}",
           f"  title: {_texts(langs, {lang: article.title})}",
           f"  section: {_texts(langs, {lang: article.section} if article.section else None)}",
           f"  reporter: {_texts(langs, {lang: article.reporter} if article.reporter else None)}",
           f"  published: {_stamp(article.published) or 'TODO'}"]
    if article.updated:
        out.append(f"  updated: {_stamp(article.updated)}")
    naive = [t for t in (article.published, article.updated)
             if isinstance(t, dt.datetime) and t.tzinfo is None]
    if naive:
        zone = _ZONES.get(lang)
        out.append(f"  timezone: {zone}  # assumed from the article's language: check it"
                   if zone else "  timezone: TODO  # the zone of the times above (Asia/Seoul)")
    if article.url:
        out.append(f"  url: {_q(article.url)}")
    return out


def _stamp(moment: dt.datetime | dt.date | None) -> str:
    return moment.isoformat() if moment else ""


def _claims(article: ArticleText, langs: list[str]) -> tuple[list[str], list[str]]:
    """Claim stubs, one per sentence, and sections: one per heading's run of paragraphs."""
    out: list[str] = []
    groups: list[tuple[str, list[str]]] = [("", [])]
    counters: dict[str, int] = {}
    for block in article.blocks:
        if block.place == "heading":
            groups.append((block.text, []))
        for sentence in block.sentences():
            cid = _claim_id(block, counters)
            out += _claim(cid, block, sentence, article, langs)
            if block.place == "body":
                groups[-1][1].append(cid)
    sections = []
    for n, (heading, ids) in enumerate((g for g in groups if g[1]), start=1):
        note = f"  # {heading}" if heading else ""
        sections += [f"    - key: s{n}", f"      heading: {_texts(langs)}{note}",
                     f"      claims: [{', '.join(ids)}]"]
    return out, sections


def _claim_id(block: Block, counters: dict[str, int]) -> str:
    stem = f"p{block.para}" if block.place == "body" else block.place
    counters[stem] = counters.get(stem, 0) + 1
    return f"{stem}-{counters[stem]}"


def _claim(cid: str, block: Block, sentence: str, article: ArticleText,
           langs: list[str]) -> list[str]:
    quantities = find_quantities(sentence, article.day, article.lang)
    dates = find_dates(sentence, article.day)
    where = f"para {block.para}" if block.place == "body" else block.place
    out = [f"  # [{where}, line {block.line}] {sentence}", f"  - id: {cid}"]
    out += [f"    place: {block.place}"] if block.place != "body" else [f"    para: {block.para}"]
    out += ["    by: TODO", f"    kind: {'figure' if quantities else 'TODO'}"]
    if dates:
        out += _date_lines(dates[0], article.lang, langs)
        if len(dates) > 1:  # one claim per sentence: the others are for the analyst to split
            out.append("    # also dated: " + ", ".join(f"{d.text} ({d.day.isoformat()})"
                                                      for d in dates[1:]))
    out.append(f"    text: {_texts(langs)}")
    if quantities:
        out.append("    figures:")
        out += _figure_lines(cid, quantities)
    return out


def _date_lines(date: DateMention, lang: str, langs: list[str]) -> list[str]:
    note = "  # the month only: check the day" if date.precision == "month" else ""
    return [f"    date: {date.day.isoformat()}{note}",
            f"    date_text: {_texts(langs, {lang: date.text})}"]


def _figure_lines(cid: str, quantities: list[Quantity]) -> list[str]:
    out = []
    seen: dict[str, int] = {}
    for q in quantities:
        slug = _UNIT_SLUGS.get(q.unit or "", (q.unit or "n").lower())
        seen[slug] = seen.get(slug, 0) + 1
        fid = f"{cid.replace('-', '_')}_{slug}" + (str(seen[slug]) if seen[slug] > 1 else "")
        value = q.written
        extras = (", approx: true" if q.approx else "") + (
            f", qualifier: {q.qualifier}" if q.qualifier else "")
        unit = q.unit or "TODO"
        out.append(f"      - {{id: {fid}, value: {value}, unit: {unit}{extras}}}  # {q.text}")
    return out
