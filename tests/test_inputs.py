"""Every file a user gives goes through the diagnostics: template mappings and label catalogs
broken in each way exit 2 naming the file and line, leave the output folder alone, and
``--watch`` survives them. Template errors are the template's; our bugs are ours (exit 1)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import BIKESHARE, COMPANY, CUSTOM_OUTLINE, ROOT, copy_bikeshare

from deck import l10n
from deck.cli import main
from deck.l10n import Labels
from deck.resources import labels_dir, outlines_dir
from deck.schema import field_names


def run(capsys, *args: str) -> tuple[int, list[str]]:
    """The command line in this process: exit status and the lines it wrote to stderr."""
    status = main([*args])
    return status, capsys.readouterr().err.splitlines()


def company(tmp_path: Path, mapping: str | None = None) -> Path:
    """The company test master copied with its mapping (``mapping`` replaces the text)."""
    pptx = tmp_path / "company.pptx"
    shutil.copy(COMPANY, pptx)
    text = COMPANY.with_suffix(".yaml").read_text(encoding="utf-8")
    (tmp_path / "company.yaml").write_text(text if mapping is None else mapping,
                                           encoding="utf-8")
    return pptx


GOOD_MAPPING = COMPANY.with_suffix(".yaml").read_text(encoding="utf-8")

MAPPINGS = [
    ("syntax error", "layouts:\n  title: [Cover\n", 3, "YAML syntax"),
    ("a list", "- Cover\n- Divider\n", 1, "input should be a valid dictionary"),
    ("unknown key", GOOD_MAPPING + "  appendix: Grid\n", 9,
     "layouts.appendix: unknown field; expected one of title, section, content, chart, "
     "two_content, table, sources, got 'appendix'"),
    ("missing role", GOOD_MAPPING.replace("  sources: References\n", ""), 1,
     "layouts.sources: missing; expected a value"),
    ("no such layout", GOOD_MAPPING.replace("References", "Bibliography"), 8,
     "layouts.sources: couldn't find layout named 'Bibliography' in the template; expected "
     "one of ["),
]


@pytest.mark.parametrize(("text", "line", "message"), [c[1:] for c in MAPPINGS],
                         ids=[c[0] for c in MAPPINGS])
def test_a_broken_mapping_names_its_file_and_line(tmp_path, capsys, text, line, message):
    out = tmp_path / "out"
    status, err = run(capsys, str(BIKESHARE), "--out", str(out), "--template",
                      str(company(tmp_path, text)))
    assert status == 2
    mapping = str(tmp_path / "company.yaml")
    assert any(e.startswith(f"{mapping}:{line}:") and message in e for e in err), err
    assert err[-1].startswith("build failed:") and "Traceback" not in "\n".join(err)
    assert not out.exists()


CATALOG_LINES = len((labels_dir() / "en.yaml").read_text(encoding="utf-8").splitlines())
LABELS = [
    ("syntax error", 'cont: "(cont.)\n', 2, "YAML syntax"),
    ("a list", "- cont\n", 1, "expected a mapping of label: text, got list"),
    ("unknown key", "{labels}conts: x\n", CATALOG_LINES + 1,
     "conts: unknown field; expected one of cont,"),
    ("missing key", "{labels_without_cont}", 3, "cont: missing; expected a value"),
    ("bad pattern field", "{labels_bad_page}", 4, "page: pattern uses count; expected {n}, "
     "{total}, got '{count}'"),
    ("unit without its number", "{labels_bad_unit}", None,
     "units.people: pattern lacks n; expected {n}, got 'people'"),
    ("a unit missing", "{labels_without_score}", None, "units.score: missing"),
    ("a bad plural category", "{labels_bad_plural}", None, "units.people.several: unknown field"),
]


def _labels_text(kind: str) -> str:
    text = (labels_dir() / "en.yaml").read_text(encoding="utf-8")
    return {"{labels}": text,
            "{labels_without_cont}": re.sub(r"^cont: .*\n", "", text, flags=re.M),
            "{labels_bad_page}": re.sub(r"^page: .*\n", 'page: "{count}"\n', text, flags=re.M),
            "{labels_bad_unit}": re.sub(r"^  people: .*\n", '  people: "people"\n', text,
                                        flags=re.M),
            "{labels_without_score}": re.sub(r"^  score: .*\n", "", text, flags=re.M),
            "{labels_bad_plural}": re.sub(r"^  people: .*\n",
                                          '  people: {several: "{n} people", other: "{n}"}\n',
                                          text, flags=re.M),
            }.get(kind, kind)


@pytest.mark.parametrize(("text", "line", "message"), [c[1:] for c in LABELS],
                         ids=[c[0] for c in LABELS])
def test_a_broken_label_catalog_names_its_file_and_line(tmp_path, capsys, text, line, message):
    data = copy_bikeshare(tmp_path)
    (tmp_path / "labels").mkdir()
    catalog = tmp_path / "labels" / "en.yaml"
    if text.startswith("{labels"):
        key = text[:text.index("}") + 1]
        text = _labels_text(key) + text[len(key):]
    if line is None:  # the line of the unit concerned
        unit = message.split(".")[1].split(":")[0]
        line = next(n for n, x in enumerate(text.splitlines(), 1) if x.startswith(f"  {unit}:")
                    or (unit == "score" and x.startswith("units:")))
    catalog.write_text(text, encoding="utf-8")
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert any(e.startswith(f"{catalog}:{line}:") and message in e for e in err), err
    assert not (tmp_path / "out").exists()


def test_a_broken_catalog_is_reported_with_a_broken_data_file(tmp_path, capsys):
    """The languages come from the data file; when it does not load, the catalogs beside it
    are checked all the same, so one run shows every problem."""
    data = copy_bikeshare(tmp_path)
    data.write_text(data.read_text(encoding="utf-8").replace("schema: 1", "schema: one", 1),
                    encoding="utf-8")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "en.yaml").write_text("- cont\n", encoding="utf-8")
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert any(e.startswith(f"{data}:") and "schema" in e for e in err), err
    assert any(e.startswith(f"{tmp_path / 'labels' / 'en.yaml'}:1:") for e in err), err
    assert err[-1].startswith("build failed: 2 problems")


def test_labels_beside_the_data_file_reach_the_deck(tmp_path, capsys):
    from pptx import Presentation

    data = copy_bikeshare(tmp_path)
    (tmp_path / "labels").mkdir()
    text = (labels_dir() / "en.yaml").read_text(encoding="utf-8")
    (tmp_path / "labels" / "en.yaml").write_text(
        text.replace('col_who: "Who said it"', 'col_who: "Attributed to"'), encoding="utf-8")
    assert main([str(data), "--out", str(tmp_path / "out")]) == 0
    deck = Presentation(str(tmp_path / "out" / "bikeshare.en.pptx"))
    cells = [c.text for s in deck.slides for sh in s.shapes if sh.has_table
             for row in sh.table.rows for c in row.cells]
    assert "Attributed to" in cells and "Who said it" not in cells


def test_every_label_is_used():
    """Each key of the catalog is read by an outline template or by the package's code."""
    sources = [p.read_text(encoding="utf-8") for p in outlines_dir().glob("*.yaml.j2")]
    sources += [p.read_text(encoding="utf-8") for p in (ROOT / "deck").glob("*.py")]
    text = "\n".join(sources)
    unused = [key for key in field_names(Labels)
              if not re.search(rf"\b(L|labels)\.{key}\b", text)
              and not (key.startswith("place_") and "labels.place(" in text)]
    assert unused == []


def test_pattern_fields_are_checked_for_every_pattern_label():
    for key in l10n.PATTERN_FIELDS:
        assert key in field_names(Labels)


CUSTOM = CUSTOM_OUTLINE.read_text(encoding="utf-8")


def test_a_template_runtime_error_is_the_templates(tmp_path, capsys):
    data = copy_bikeshare(tmp_path, outline=CUSTOM.replace("{{ deck.takeaway }}",
                                                           "{{ 1 + 'a' }}", 1))
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert err[0].startswith(f"{tmp_path / 'custom.yaml.j2'}:7:"), err
    assert "template error" in err[0]


def test_a_bad_fill_pattern_in_a_template_is_the_templates(tmp_path, capsys):
    data = copy_bikeshare(tmp_path, outline=CUSTOM.replace(
        "{{ deck.takeaway }}", "{{ fill('{x.__class__}', x=1) }}", 1))
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2 and "fill(" in err[0] and ":7:" in err[0], err


def test_a_bug_in_our_code_is_exit_1_not_the_users_fault(tmp_path, capsys, monkeypatch):
    from deck import context

    def broken(*_a, **_k):
        raise KeyError("a bug")

    monkeypatch.setattr(context, "expand_figures", broken)
    status, err = run(capsys, str(BIKESHARE), "--out", str(tmp_path / "out"))
    assert status == 1
    assert err[0].startswith("internal error: KeyError") and "--debug" in err[0]


def test_an_outline_parse_error_names_the_template_line(tmp_path, capsys):
    # line 14 of the template: a chart kind the outline does not know
    data = copy_bikeshare(tmp_path, outline=CUSTOM.replace("kind: line", "kind: pie", 1))
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    template = tmp_path / "custom.yaml.j2"
    assert err[0].startswith(f"{template}:14: slides[1].chart.kind: not allowed"), err
    assert "(rendered for en, line" in err[0]


def test_an_unknown_claim_in_an_outline_suggests_the_nearest(tmp_path, capsys):
    data = copy_bikeshare(tmp_path, outline=CUSTOM.replace("claims: [stations]",
                                                           "claims: [station]", 1))
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert err[0].startswith(f"{tmp_path / 'custom.yaml.j2'}:32:"), err
    assert "unknown claim; expected a claim id of the data file (did you mean 'stations'?), " \
           "got 'station'" in err[0]


def test_thousands_of_problems_print_the_first_two_hundred_and_a_count(tmp_path, capsys):
    """A file of 1,000 TODOs (say, --init on a long text) does not flood the terminal."""
    import yaml

    from deck.cli import SHOWN_PROBLEMS

    data = copy_bikeshare(tmp_path)
    raw = yaml.safe_load(data.read_text(encoding="utf-8"))
    claim = raw["claims"][0]
    raw["claims"] += [{**claim, "id": f"todo{i}", "text": {"en": "TODO"}} for i in range(1000)]
    data.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert len(err) == SHOWN_PROBLEMS + 2, err[-3:]
    assert err[-2].startswith("... and ") and "more problems like these" in err[-2]
    assert err[-1].startswith("build failed: 1,001 problems") or err[-1].startswith(
        "build failed: 1001 problems"), err[-1]


def test_an_image_that_cannot_be_read_is_one_problem_not_two(tmp_path, capsys):
    """A WebP picture is refused for its format; the section showing it is not also told the
    image does not exist."""
    from PIL import Image

    data = copy_bikeshare(tmp_path)
    data.write_text(data.read_text(encoding="utf-8").replace("path: stations.png",
                                                             "path: x.webp"), encoding="utf-8")
    Image.new("RGB", (40, 30)).save(tmp_path / "x.webp", "WEBP")
    status, err = run(capsys, str(data), "--out", str(tmp_path / "out"))
    assert status == 2
    assert any("image format not supported" in e for e in err), err
    assert not any("unknown image" in e for e in err), err
    assert err[-1].startswith("build failed: 1 problem;"), err
