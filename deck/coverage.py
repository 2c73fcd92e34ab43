"""``--article``: a data file checked against the article's text. Every number the article
states should be a figure (or listed under ``skipped:`` with a reason), every date a claim's
date or a figure's as-of date; every reported figure should be in the article; no claim should
copy 30 or more characters of the article's wording.

Knows nothing of Jinja or pptx.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .articletext import ArticleText, Block
from .data import FIG_REF, LoadedBriefing
from .diagnostics import Diagnostic
from .quantities import DateMention, Quantity, find_dates, find_quantities
from .schema import dump
from .yamlsrc import field_name

#: a claim copies the article when it shares this many characters in a row with it
VERBATIM = 30


@dataclass
class Coverage:
    """What ``--article`` found: numbers covered of all, claims copying, and every shortfall."""

    numbers: int = 0
    covered: int = 0
    verbatim: int = 0
    problems: list[Diagnostic] = field(default_factory=list)

    def summary(self) -> str:
        return (f"coverage: {self.covered}/{self.numbers} numbers in the article are figures; "
                f"{self.verbatim} claims copy {VERBATIM}+ characters verbatim")

    @property
    def complete(self) -> bool:
        return not self.problems


def check_coverage(loaded: LoadedBriefing, article: ArticleText) -> Coverage:
    """The data file against the article: numbers, dates, figures and wording."""
    result = Coverage()
    mentions = [(b, m) for b in article.blocks for m in _mentions(b, article)]
    result.numbers = len(mentions)
    for block, mention in mentions:
        why = _uncovered(mention, loaded)
        if why is None:
            result.covered += 1
        else:
            result.problems.append(Diagnostic(str(article.path), block.line, "", why))
    values = [m.value for _, m in mentions if isinstance(m, Quantity)]
    result.problems += _figures_not_in(loaded, values, article)
    copies = _copies(loaded, article)
    result.verbatim = len({d.field.split(".")[0] for d in copies})
    result.problems += copies
    return result


def _mentions(block: Block, article: ArticleText) -> list[Quantity | DateMention]:
    text = block.text
    found: list[Quantity | DateMention] = list(find_dates(text, article.day))
    found += find_quantities(text, article.day, article.lang)
    return sorted(found, key=lambda m: m.start)


def _uncovered(mention: Quantity | DateMention, loaded: LoadedBriefing) -> str | None:
    """Why an article's number is not covered, or None where it is."""
    b = loaded.briefing
    plain = re.sub(r"\s+", "", mention.text)
    if any(re.sub(r"\s+", "", s.text) == plain for s in b.skipped):
        return None
    if isinstance(mention, DateMention):
        dates = [c.date for c in b.claims if c.date] + [
            f.as_of for f in loaded.figures.values() if f.as_of]
        if any(mention.matches(d) for d in dates):
            return None
        return (f"{mention.text!r}: a date no claim gives; expected a claim's date or a "
                f"figure's as_of ({mention.day}), or the text under skipped: with a reason")
    if any(f.origin != "derived" and math.isclose(f.value, mention.value, rel_tol=1e-9)
           for f in loaded.figures.values()):
        return None
    return (f"{mention.text!r}: not a figure; expected a figure with value "
            f"{mention.value:,.15g}" + (f" ({mention.unit})" if mention.unit else "") +
            ", or the text under skipped: with a reason")


def _figures_not_in(loaded: LoadedBriefing, values: list[float],
                    article: ArticleText) -> list[Diagnostic]:
    """Reported figures (not derived, not from a primary-source check) the article lacks."""
    out = []
    for i, c in enumerate(loaded.briefing.claims):
        for j, f in enumerate(c.figures):
            if any(math.isclose(f.value, v, rel_tol=1e-9) for v in values):
                continue
            loc = ("claims", i, "figures", j, "value")
            out.append(Diagnostic(str(loaded.path), loaded.line_of(loc),
                                  f"claims[{c.id}].figures[{f.id}]",
                                  f"not in the article; expected {article.path.name} to state "
                                  f"{f.value:,.15g}, got no such number"))
    return out


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _copies(loaded: LoadedBriefing, article: ArticleText) -> list[Diagnostic]:
    """Claim texts sharing :data:`VERBATIM` characters in a row with the article."""
    source = _normalise(" ".join(b.text for b in article.blocks))
    windows = {source[i:i + VERBATIM] for i in range(len(source) - VERBATIM + 1)}
    raw = dump(loaded.briefing)
    out = []
    for i, c in enumerate(loaded.briefing.claims):
        for key in ("text", "short"):
            for lang, text in (getattr(c, key) or {}).items():
                hit = _first_copy(text, windows)
                if hit is not None:
                    loc = ("claims", i, key, lang)
                    out.append(Diagnostic(
                        str(loaded.path), loaded.line_of(loc), field_name(loc, raw),
                        f"copies the article's wording; expected your own words, got "
                        f"{hit!r} ({VERBATIM}+ characters as in {article.path.name})"))
    return out


def _first_copy(text: str, windows: set[str]) -> str | None:
    for part in FIG_REF.split(text)[::2]:  # figure ids are not wording
        part = _normalise(part)
        for i in range(len(part) - VERBATIM + 1):
            if part[i:i + VERBATIM] in windows:
                return part[i:i + VERBATIM]
    return None
