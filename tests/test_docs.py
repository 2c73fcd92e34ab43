"""The documentation says what the code does: every name, field, filter, test and statement of
docs/outline-templates.md against the template language the code provides, every example on
that page rendered, and the unit table of docs/data-format.md against deck.units and the
formatting the decks use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from helpers import DEFAULT_DATA, ROOT

from deck import context as ctx_module
from deck import outline
from deck.files import Roots
from deck.l10n import Numbers
from deck.resources import outlines_dir
from deck.sandbox import OutlineEnvironment
from deck.schema import field_names
from deck.session import BuildRequest, BuildSession
from deck.units import UNITS

TEMPLATES_DOC = ROOT / "docs" / "outline-templates.md"
DATA_DOC = ROOT / "docs" / "data-format.md"


def _section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or higher level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n") + len(heading) + 1
    nxt = re.search(rf"^#{{1,{len(level)}}} ", text[start:], flags=re.M)
    return text[start:start + nxt.start()] if nxt else text[start:]


def _rows(block: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``block``, cells unescaped."""
    rows: list[list[str]] = []
    for line in block.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        if set(line) <= set("|-"):
            continue
        cells = [c.strip().replace("\\|", "|")
                 for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append(cells)
    return rows[1:]  # the header row


def _names(block: str) -> set[str]:
    """The names a table's first column lists (``a``, ``b`` and ``{% a %}`` forms)."""
    names = set()
    for row in _rows(block):
        names |= set(re.findall(r"`([^`]+)`", row[0]))
    return names


@pytest.fixture(scope="module")
def doc() -> str:
    return TEMPLATES_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bundled_context() -> dict:
    session = BuildSession()
    inputs = session.read_inputs(BuildRequest(DEFAULT_DATA, Path("unused")))
    return ctx_module.briefing_context(inputs.loaded, "en", inputs.labels["en"],
                                       inputs.markers("en"))


@pytest.fixture(scope="module")
def env() -> OutlineEnvironment:
    return OutlineEnvironment((outlines_dir(),), Roots.of(outlines_dir()))


def test_the_names_documented_are_the_names_a_template_sees(doc, bundled_context, env):
    documented = _names(_section(doc, "## Names"))
    provided = set(bundled_context) | set(env.globals)
    assert documented == provided, (f"documented only: {sorted(documented - provided)}; "
                                    f"provided only: {sorted(provided - documented)}")


@pytest.mark.parametrize(("heading", "fields"), [
    ("### article", lambda c: set(c["article"])),
    ("### claims and all_claims",
     lambda c: set(ctx_module.ClaimView.__struct_fields__)),
    ("### fig", lambda c: set(ctx_module.FigureView.__struct_fields__)),
    ("### deck", lambda c: set(c["deck"])),
    ("### checks", lambda c: set(c["checks"][0])),
    ("### sections", lambda c: set(ctx_module.SectionView.__struct_fields__)),
])
def test_every_field_of_every_name_is_documented(doc, bundled_context, heading, fields):
    block = _section(doc, heading)
    documented = _names(block.split("A section's `chart`:")[0])
    assert documented == fields(bundled_context)


def test_the_chart_of_a_section_is_documented(doc):
    block = _section(doc, "### sections").split("A section's `chart`:")[1]
    assert _names(block) == set(ctx_module.ChartView.__struct_fields__)


def test_the_filters_documented_are_the_filters_there_are(doc, env):
    assert _names(_section(doc, "## Filters")) == set(env.filters)


def test_the_tests_documented_are_the_tests_there_are(doc, env):
    names = set()
    for row in _rows(_section(doc, "## Tests")):
        names |= {n.strip() for n in re.findall(r"`([^`]+)`", row[0])}
    assert names == set(env.tests)


def test_every_example_renders(doc, bundled_context, env):
    """Each example of the tables runs against the bundled article (English)."""
    tables = re.split(r"\n(?=\|[^\n]*\|\n\|---)", doc)
    examples = [cell for block in tables for row in _rows(block) for cell in row[2:]
                if cell.startswith("`") and ("{{" in cell or "{%" in cell)]
    assert len(examples) > 100
    failures = []
    for cell in examples:
        source = cell.strip("`")
        try:
            env.from_string(source).render(bundled_context)
        except Exception as exc:  # noqa: BLE001 - listed below, all at once
            failures.append(f"{source}: {type(exc).__name__}: {exc}")
    assert failures == []


def test_what_the_template_writes_is_the_outline_spec(doc):
    block = _section(doc, "## What the template writes")
    shape = yaml.safe_load(block.split("```yaml\n")[1].split("```")[0])
    slide = shape["slides"][0]
    assert set(shape) == set(field_names(outline.OutlineSpec))
    assert set(slide) == set(field_names(outline.SlideSpec))
    assert set(slide["bullets"][0]) == set(field_names(outline.BulletSpec))
    assert set(slide["chart"]) == set(field_names(outline.ChartSpec))
    assert set(slide["chart"]["series"][0]) == set(field_names(outline.SeriesSpec))
    assert set(slide["table"]) == set(field_names(outline.TableSpec))
    assert set(slide["diagram"]) == set(field_names(outline.DiagramSpec))
    assert set(slide["picture"]) == set(field_names(outline.PictureSpec))


def test_the_unit_table_is_the_code_and_prints_what_decks_print():
    from deck.l10n import read_labels
    from deck.resources import labels_dir

    rows = _rows(_section(DATA_DOC.read_text(encoding="utf-8"), "## Units"))
    assert [r[0].strip("`") for r in rows] == list(UNITS)
    ko = Numbers("ko", read_labels(labels_dir() / "ko.yaml"))
    en = Numbers("en", read_labels(labels_dir() / "en.yaml"))
    for unit, _, value, ko_text, en_text in rows:
        value_f = float(value.strip("`"))
        assert ko.figure(value_f, unit.strip("`")) == ko_text
        assert en.figure(value_f, unit.strip("`")) == en_text
