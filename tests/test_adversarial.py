"""Hostile and unlucky inputs, each built by the real command in a child process with a CPU
and memory limit (``resource``): the exit status, the first line of the message, the output
folder left as it was whenever the build fails, and a time and memory bound per case.

Every case gives exit 0 with a correct deck, or exit 2 with a clear message and nothing
written, within :data:`SECONDS` and :data:`MEMORY`. Children are forked from a process that
has imported the package once (:mod:`zygote`), two at a time, then each case is asserted on
its own. One case runs as a new interpreter, so the bounds also hold with the imports.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import BIKESHARE, CUSTOM_OUTLINE, ROOT, copy_bikeshare, png_header
from zygote import Outcome, Zygote

resource = pytest.importorskip("resource")  # POSIX only, like the limits it measures

SECONDS = 10
MEMORY = 500 * 1024 * 1024

BASE = BIKESHARE.read_text(encoding="utf-8")


def snapshot(folder: Path) -> dict[str, str] | None:
    """Every file under ``folder`` with its digest (None: the folder does not exist)."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "<dir>" for p in sorted(folder.rglob("*"))}


# ------------------------------------------------------------------------------------------
# the cases


@dataclass(frozen=True)
class Case:
    """One hostile or unlucky input.

    ``setup`` prepares the case's folder and returns the command's arguments (``--out`` is
    added unless they name one). ``first`` must be found (a regular expression) in the
    message's first line. ``out``: "prebuilt" gives the output folder a good earlier build,
    "absent" no folder at all. ``check`` looks further at what a successful build wrote.
    """

    name: str
    setup: Callable[[Path], list[str]]
    status: int
    first: str
    out: str = "prebuilt"
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path, Outcome], None] | None = None


def data(text: str) -> Callable[[Path], list[str]]:
    """A case whose data file is ``text`` (beside the bikeshare outline and picture)."""
    def setup(folder: Path) -> list[str]:
        return [str(copy_bikeshare(folder, text))]
    return setup


def replaced(old: str, new: str, count: int = 1) -> Callable[[Path], list[str]]:
    """The bikeshare data file with ``old`` replaced by ``new``."""
    assert old in BASE, old
    return data(BASE.replace(old, new, count))


def extra(yaml_text: str) -> Callable[[Path], list[str]]:
    """The bikeshare data file with ``yaml_text`` appended."""
    return data(BASE + yaml_text)


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["bomb:", "  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _padded(size: int) -> Callable[[Path], list[str]]:
    return data(BASE + "# " + "x" * size + "\n")


def _folder_as_data(folder: Path) -> list[str]:
    copy_bikeshare(folder)
    (folder / "dir.yaml").mkdir()
    return [str(folder / "dir.yaml")]


def _fifo_as_data(folder: Path) -> list[str]:
    copy_bikeshare(folder)
    os.mkfifo(folder / "fifo.yaml")
    return [str(folder / "fifo.yaml")]


def _latin1(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    path.write_bytes(BASE.replace("Example Gazette", "Caf\u00e9 Gazette", 1).encode("latin-1"))
    return [str(path)]


def _labels_bomb(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    (folder / "labels").mkdir()
    (folder / "labels" / "en.yaml").write_text(_alias_bomb(), encoding="utf-8")
    return [str(path)]


OUTLINE = CUSTOM_OUTLINE.read_text(encoding="utf-8")
LABELS = (ROOT / "templates" / "labels" / "en.yaml").read_text(encoding="utf-8")


def outline(old: str, new: str, data_text: str = BASE) -> Callable[[Path], list[str]]:
    """The bikeshare outline (beside the data file) with ``old`` replaced by ``new``."""
    assert old in OUTLINE, old

    def setup(folder: Path) -> list[str]:
        return [str(copy_bikeshare(folder, data_text, OUTLINE.replace(old, new, 1)))]
    return setup


def subtitle(expression: str) -> Callable[[Path], list[str]]:
    """The title slide's subtitle (template line 7) is ``expression``."""
    return outline("{{ deck.takeaway }}", expression)


def labels(old: str, new: str) -> Callable[[Path], list[str]]:
    """A label catalog beside the data file: the package's English one, changed."""
    assert old in LABELS, old

    def setup(folder: Path) -> list[str]:
        path = copy_bikeshare(folder)
        (folder / "labels").mkdir()
        (folder / "labels" / "en.yaml").write_text(LABELS.replace(old, new), encoding="utf-8")
        return [str(path)]
    return setup


def _outside(folder: Path) -> Path:
    """A file outside the case's folder (the build may not read it)."""
    secret = folder.parent / f"{folder.name}-secret.txt"
    secret.write_text("SECRET: not for the deck\n", encoding="utf-8")
    return secret


def _include_link(folder: Path) -> list[str]:
    args = outline("{{ article.citation }}", "{% include 'notes.txt' %}")(folder)
    (folder / "notes.txt").symlink_to(_outside(folder))
    return args


def _moved_out(folder: Path, name: str) -> None:
    """``folder/name`` moved outside the case's folder, a link to it left in its place."""
    elsewhere = folder.parent / f"{folder.name}-{Path(name).name}"
    (folder / name).rename(elsewhere)
    (folder / name).symlink_to(elsewhere)


def _linked(name: str) -> Callable[[Path], list[str]]:
    """The bikeshare article with ``name`` (beside it) a link to a file outside its folder."""
    def setup(folder: Path) -> list[str]:
        path = copy_bikeshare(folder, outline=OUTLINE if name == CUSTOM_OUTLINE.name else None)
        if name.startswith("labels/"):
            (folder / "labels").mkdir()
            (folder / name).write_text(LABELS, encoding="utf-8")
        _moved_out(folder, name)
        return [str(path)]
    return setup


def _template_bomb(folder: Path) -> list[str]:
    """The company template with one more part: 250 MB of zeros, a few hundred KB zipped."""
    import zipfile

    path = copy_bikeshare(folder)
    company = ROOT / "tests" / "data" / "company"
    shutil.copy(company / "company.pptx", folder / "company.pptx")
    shutil.copy(company / "company.yaml", folder / "company.yaml")
    with zipfile.ZipFile(folder / "company.pptx", "a", zipfile.ZIP_DEFLATED,
                         compresslevel=1) as z, z.open("ppt/media/zeros.bin", "w") as part:
        block = bytes(1 << 20)
        for _ in range(250):
            part.write(block)
    return [str(path), "--template", str(folder / "company.pptx")]


def _mapping_link(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    company = ROOT / "tests" / "data" / "company"
    shutil.copy(company / "company.pptx", folder / "company.pptx")
    shutil.copy(company / "company.yaml", folder / "company.yaml")
    _moved_out(folder, "company.yaml")
    return [str(path), "--template", str(folder / "company.pptx")]


def _image(name: str, kind: str, size: tuple[int, int] = (40, 30),
           mode: str = "RGB") -> Callable[[Path], list[str]]:
    """The bikeshare article with its picture replaced by a ``kind`` image."""
    def setup(folder: Path) -> list[str]:
        from PIL import Image

        path = copy_bikeshare(folder, BASE.replace("path: stations.png", f"path: {name}"))
        if size[0] * size[1] > 10**8:  # header only: Pillow refuses to write it
            (folder / name).write_bytes(png_header(*size))
        else:
            Image.new(mode, size).save(folder / name, kind)
        return [str(path)]
    return setup


def _slide_xml(out: Path, n: int) -> str:
    import zipfile

    with zipfile.ZipFile(out / "bikeshare.en.pptx") as z:
        return z.read(f"ppt/slides/slide{n}.xml").decode("utf-8")


def _warned(outcome: Outcome) -> None:
    assert "warning" not in outcome.stdout and outcome.stdout.startswith(str(Path("/")))
    assert outcome.stderr.count("warning:") == 1


def _no_cr(out: Path) -> None:
    xml = _slide_xml(out, 1)
    assert "_x000D_" not in xml and "\r" not in xml
    assert "doubled</a:t>" in xml and ">from March to May</a:t>" in xml


def _line_break(out: Path) -> None:
    xml = _slide_xml(out, 2)
    assert "Rides in March:</a:t></a:r><a:br>" in xml and "\n" not in xml.split("<p:txBody>")[2]


def _out_entry(name: str) -> Callable[[Path], list[str]]:
    """The prebuilt output folder with ``name`` replaced by a folder."""
    def setup(folder: Path) -> list[str]:
        path = copy_bikeshare(folder)
        out = folder / "out"
        (out / name).unlink()
        (out / name).mkdir()
        return [str(path), "--out", str(out)]
    return setup


def _long_stem(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    long = path.with_name("x" * 240 + ".yaml")
    path.rename(long)
    return [str(long)]


def _out_file(folder: Path) -> list[str]:
    path = copy_bikeshare(folder)
    (folder / "out").write_text("not a folder")
    return [str(path), "--out", str(folder / "out")]


def _checked(out: Path, at_least: int, stem: str = "bikeshare") -> None:
    """The layout checker, run again from outside: nothing off a slide, nothing clipped."""
    from pptx import Presentation

    from deck.check import check_deck

    for deck in sorted(out.glob(f"{stem}.*.pptx")):
        assert check_deck(deck) == [], deck
        assert len(Presentation(str(deck)).slides) >= at_least, deck


def _korean_claim(folder: Path) -> list[str]:
    """The bundled article, one claim's Korean text 5,000 syllables without a space."""
    import yaml

    from deck.resources import default_article

    data = yaml.safe_load(default_article().read_text(encoding="utf-8"))
    claim = next(c for c in data["claims"] if c["id"] == "r1-benchmarks-claim")
    claim["text"]["ko"] = ("딥시크가세계증시를흔들었다" * 385)[:5000]
    claim["text"]["en"] = "word " * 999
    path = folder / "deepseek-shock.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return [str(path)]


EDITED = b"edited in PowerPoint"


def _manifest(text: str, edit: bool = False) -> Callable[[Path], list[str]]:
    """The prebuilt folder with its manifest deleted or replaced by ``text``."""
    def setup(folder: Path) -> list[str]:
        manifest = folder / "out" / ".deck-manifest.json"
        if text == "delete":
            manifest.unlink()
        else:
            manifest.write_text(text, encoding="utf-8")
        if edit:
            (folder / "out" / "bikeshare.en.pptx").write_bytes(EDITED)
        return [str(copy_bikeshare(folder))]
    return setup


_TAKEN = 180


def _forced_this_second(folder: Path) -> list[str]:
    """An edited deck whose backup for this second (and the next three minutes: the cases are
    set up before they run) is already taken, as an earlier --force in the same second would
    have left it."""
    import datetime as dt

    out = folder / "out"
    (out / "bikeshare.en.pptx").write_bytes(EDITED)
    now = dt.datetime.now()
    for s in range(_TAKEN):
        stamp = (now + dt.timedelta(seconds=s)).strftime("%Y%m%d-%H%M%S")
        (out / f"bikeshare.en.{stamp}.bak.pptx").write_bytes(b"the first edit")
    return [str(copy_bikeshare(folder)), "--force"]


def _backups_kept(out: Path) -> None:
    first = [p for p in out.glob("bikeshare.en.*.bak.pptx") if "-2." not in p.name]
    second = list(out.glob("bikeshare.en.*-2.bak.pptx"))
    assert len(first) == _TAKEN and all(p.read_bytes() == b"the first edit" for p in first)
    assert len(second) == 1 and second[0].read_bytes() == EDITED


def _journal_left(folder: Path) -> list[str]:
    """A save killed after its journal: the new deck and manifest staged, nothing renamed."""
    import json

    from deck import commit
    from deck.output import normalise_package

    out = folder / "out"
    new = normalise_package((out / "bikeshare.en.pptx").read_bytes(), "2001-01-01T00:00:00Z")
    record = {"built": {"bikeshare.en.pptx": hashlib.sha256(new).hexdigest()}}
    staged = [commit.stage(out, "bikeshare.en.pptx", new),
              commit.stage(out, ".deck-manifest.json", json.dumps(record).encode())]
    entries = [{"temporary": s.temporary.name, "name": s.name, "sha256": s.digest}
               for s in staged]
    (out / ".deck-journal.json").write_text(json.dumps({"renames": entries}))
    return [str(copy_bikeshare(folder))]


def _temporaries_left(folder: Path) -> list[str]:
    (folder / "out" / ".deck-tmp-0123456789abcdef").write_bytes(b"half a deck")
    return [str(copy_bikeshare(folder))]


def _consistent(out: Path) -> None:
    import json

    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".deck-tmp-") or n == ".deck-journal.json"]
    built = json.loads((out / ".deck-manifest.json").read_text())["built"]
    assert {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in built} == built


INJECTED = r'Rides: {fig:rides_mar}\n- layout: content\n  key: injected\n  title: \"x\"'


def five_slides(out: Path, outcome: Outcome) -> None:
    """The build wrote the bikeshare deck with its own five slides and nothing more."""
    from pptx import Presentation

    deck = Presentation(str(out / "bikeshare.en.pptx"))
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides]
    assert titles == ["Bike share: a million spring rides", "Monthly rides",
                      "Network and riders", "Network and riders", "Sources"]
    texts = [shape.text_frame.text for shape in deck.slides[1].shapes if shape.has_text_frame]
    assert any("- layout: content" in t for t in texts)  # the text, shown as text


LINE = r"custom\.yaml\.j2:7: \(en\): "

CASES = [
    # -- YAML: bounded whatever the file holds
    Case("alias bomb, nine levels of nine", extra(_alias_bomb()), 2,
         r"bikeshare\.yaml:\d+: YAML too many values once aliases are expanded"),
    Case("alias bomb in a label catalog", _labels_bomb, 2,
         r"labels/en\.yaml:\d+: YAML too many values once aliases are expanded"),
    Case("recursive alias", extra("loop: &x [*x]\n"), 2,
         r"bikeshare\.yaml:\d+: YAML recursive alias \*x"),
    Case("999 levels of nesting", extra("deep: " + "[" * 999 + "]" * 999 + "\n"), 2,
         r"bikeshare\.yaml:\d+: YAML nesting too deep; expected at most 32 levels"),
    Case("data file of 3 MB", _padded(3 * 1024 * 1024), 2,
         r"bikeshare\.yaml: data file too large; expected at most 2 MB"),
    Case("data file is a folder", _folder_as_data, 2, r"dir\.yaml: data file is a folder"),
    Case("data file is a pipe", _fifo_as_data, 2,
         r"fifo\.yaml: data file is not a regular file"),
    Case("data file in Latin-1", _latin1, 2, r"bikeshare\.yaml: not UTF-8 text"),
    Case("merge key overridden", replaced(
        "  city: {en: City transport office}\n  operator: {en: The operator}\n",
        "  city: &city {en: City transport office}\n  operator: {<<: *city, en: The operator}\n"),
        0, r"bikeshare\.en\.pptx: 7 slides"),
    # -- templates: bounded, whatever they do
    Case("two nested range(100000) loops", subtitle(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"), 2,
        LINE + "over a limit: loops ran more than 1,000,000 times"),
    Case("'a' * 3000000000", subtitle("{{ 'a' * 3000000000 }}"), 2,
         LINE + r"over a limit: '\*' would make a value of more than 1,000,000"),
    Case("a label pattern {n:>2000000000}", labels('page: "{n}/{total}"',
                                                   'page: "{n:>2000000000}/{total}"'), 2,
         r"labels/en\.yaml:4: page: bad pattern .*width or precision 2000000000 too large"),
    Case("fill('{n:>2000000000}') in a template", subtitle(
        "{{ fill('{n:>2000000000}', n=1) }}"), 2, LINE + r"template error: fill\("),
    Case("str.format width", subtitle("{{ '{:>2000000000}'.format(1) }}"), 2,
         LINE + "over a limit: format spec '>2000000000'"),
    Case("% width", subtitle("{{ '%2000000000d' % 1 }}"), 2,
         LINE + "over a limit: format spec '2000000000'"),
    Case("% width after a mapping key", subtitle("{{ '%(a)2000000000s' % {'a': 1} }}"), 2,
         LINE + "over a limit: format spec '2000000000'"),
    Case("str.ljust", subtitle("{{ 'x'.ljust(3000000000) }}"), 2,
         LINE + r"over a limit: ljust\(\) would make"),
    Case("2 ** 100000000", subtitle("{{ 2 ** 100000000 }}"), 2,
         LINE + r"over a limit: '\*\*' would make a number"),
    Case("a string doubled forty times", subtitle(
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s }}"), 2, LINE + "over a limit: '~' would make a value"),
    Case("a list of lists of a large string", subtitle(
        "{% set big = 'x' * 900000 %}{% set a = [big, big] %}{% set b = [a, a, a] %}"
        "{{ b }}"), 2, LINE + "over a limit: a value written to the outline"),
    Case("a macro calling itself", subtitle(
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"), 2,
        LINE + "over a limit: calls nested more than 50 deep"),
    Case("a macro writing 2 GB", subtitle(
        "{% macro f() %}{% for i in range(100000) %}{{ 'x' * 900000 }}{% endfor %}"
        "{% endmacro %}{{ f() }}"), 2, LINE + "over a limit: the template wrote more than"),
    Case("a template including itself", subtitle("{% include 'custom.yaml.j2' %}"), 2,
         LINE + "includes or calls nested too deep"),
    Case("a slow loop", subtitle(
        "{% for i in range(100000) %}{{ ('x' * 500000)|replace('x', 'yy')|length }}"
        "{% endfor %}"), 2, LINE + "over a limit: the template ran longer than 5 s"),
    Case("lipsum", subtitle("{{ lipsum(1000000) }}"), 2, LINE + "undefined name"),
    Case("the label catalog changed from a template", subtitle("{{ L.update({'cont': 'x'}) }}"),
         2, LINE + "undefined name"),
    Case("the data changed from a template", subtitle(
        "{{ deck.summary.append(1) }}"), 2, LINE + "not allowed in the sandbox|undefined"),
    Case("an alias bomb in an outline template", outline(
        "footer: {{ footer }}\n", "footer: {{ footer }}\n" + _alias_bomb()), 2,
        r"custom\.yaml\.j2:\d+: YAML too many values once aliases are expanded.*\(rendered "
        "for en, line"),
    # -- files: one confined loader
    Case("an include linked to a file outside", _include_link, 2,
         r"custom\.yaml\.j2:9: \(en\): include refused: notes\.txt: outline template "
         r"outside the folders a build may read.*resolves to .*-secret\.txt"),
    Case("an include of a missing file", outline("{{ article.citation }}",
                                                 "{% include 'nope.j2' %}"), 2,
         r"custom\.yaml\.j2:9: \(en\): include not found: nope\.j2; expected a "
         r"template in .*"),
    Case("an include leaving its folder", outline("{{ article.citation }}",
                                                  "{% include '../x.j2' %}"), 2,
         r"custom\.yaml\.j2:9: \(en\): include refused: \.\./x\.j2: outline template path "
         "escapes its folder"),
    Case("the outline linked to a file outside", _linked("custom.yaml.j2"), 2,
         r"bikeshare\.yaml:5: template: custom\.yaml\.j2: outline template outside"),
    Case("an image linked to a file outside", _linked("stations.png"), 2,
         r"bikeshare\.yaml:\d+: images\[station-map\]\.path: image outside the folders"),
    Case("a label catalog linked to a file outside", _linked("labels/en.yaml"), 2,
         r"labels/en\.yaml: label catalog outside the folders"),
    Case("a template mapping linked to a file outside", _mapping_link, 2,
         r"company\.yaml: layouts: template mapping outside the folders"),
    # -- numbers, dates, images: the input's fault, said so with its line
    Case("NaN", replaced("value: 40,", "value: .nan,"), 2,
         r"bikeshare\.yaml:52: claims\[stations\]\.figures\[new_stations\]\.value: not a "
         r"number the deck can show; expected a finite number of at most 10\^18"),
    Case("infinity", replaced("value: 40,", "value: .inf,"), 2,
         r"bikeshare\.yaml:52: .*value: not a number the deck can show"),
    Case("minus infinity", replaced("value: 40,", "value: -.inf,"), 2,
         r"bikeshare\.yaml:52: .*value: not a number the deck can show"),
    Case("10^28", replaced("value: 40,", "value: 1.0e+28,"), 2,
         r"bikeshare\.yaml:52: .*value: not a number the deck can show.*got 1e\+28"),
    Case("a derived result that overflows", replaced(
        "op: sum\n    of: [rides_mar, rides_apr, rides_may]\n    unit: count\n    reported: "
        "[rides_total]", "op: product\n    of: [rides_total, rides_total, rides_total, "
        "rides_total]\n    unit: count"), 2,
        r"bikeshare\.yaml:61: derived\[spring_sum\]: the product of .* is 1e\+24; expected a "
        "finite result of at most 10\\^18"),
    Case("year 1", replaced("2024-06-03T07:30:00-04:00", "0001-01-01T00:00:00+09:00"), 2,
         r"bikeshare\.yaml:11: article\.published: year 1 out of range; expected a date "
         "from 1900 to 2099"),
    Case("year 9999", replaced("2024-06-03T07:30:00-04:00", "9999-12-31T23:00:00-04:00"), 2,
         r"bikeshare\.yaml:11: article\.published: year 9999 out of range"),
    Case("a time without a time zone", replaced("2024-06-03T07:30:00-04:00",
                                                "2024-06-03T07:30:00"), 2,
         r"bikeshare\.yaml:11: article\.published: time without a UTC offset; expected an offset"),
    Case("a huge SOURCE_DATE_EPOCH", data(BASE), 2,
         r"SOURCE_DATE_EPOCH: not a usable build date; expected whole seconds since "
         "1970-01-01 UTC for a date from 1980 to 2099, got '99999999999999999999'",
         env={"SOURCE_DATE_EPOCH": "99999999999999999999"}),
    Case("SOURCE_DATE_EPOCH not a number", data(BASE), 2,
         r"SOURCE_DATE_EPOCH: not a usable build date.*got '2025-01-01'",
         env={"SOURCE_DATE_EPOCH": "2025-01-01"}),
    Case("a WebP image", _image("x.webp", "WEBP"), 2,
         r"bikeshare\.yaml:68: images\[station-map\]\.path: image format not supported; "
         "expected PNG or JPEG, got WEBP"),
    Case("an image of 150 megapixels", _image("big.png", "PNG", (15000, 10000)), 2,
         r"bikeshare\.yaml:68: images\[station-map\]\.path: image refused as a "
         "decompression bomb"),
    Case("a CMYK JPEG", _image("cmyk.jpg", "JPEG", mode="CMYK"), 0,
         r"bikeshare\.en\.pptx: 7 slides"),
    Case("a log-scale chart of zero", outline(
        "    kind: line\n", "    kind: line\n    log_scale: true\n",
        BASE.replace("value: 210000,", "value: 0,")), 2,
        r"custom\.yaml\.j2:\d+: slides\[1\]\.chart\.series\[0\]\.points\[0\]: a log scale "
        "shows only values above zero; expected a positive figure, got rides_mar = 0"),
    # -- silent acceptance, no more
    Case("a warning goes to stderr, the decks' lines to stdout", replaced(
        "value: 1000000, unit: count, approx: true", "value: 3000000, unit: count, approx: true"),
        0, r"bikeshare\.yaml:\d+: derived\[spring_sum\]\.reported: warning: computed sum",
        check=lambda out, o: _warned(o)),
    Case("two derived figures with one id", replaced(
        "derived:\n", "derived:\n  - {id: spring_sum, op: sum, of: [rides_mar, rides_apr], "
        "unit: count}\n"), 2,
        r"bikeshare\.yaml:\d+: derived\[spring_sum\]\.id: duplicate figure id; expected unique "
        r"ids, got 'spring_sum' again \(first on line 61\)"),
    Case("two images with one id", replaced(
        "images:\n", "images:\n  - {id: station-map, path: stations.png, alt: {en: Other}}\n"),
        2, r"bikeshare\.yaml:\d+: images\[station-map\]\.id: duplicate image id"),
    Case("a ratio of three figures", replaced("op: sum", "op: ratio"), 2,
         r"bikeshare\.yaml:63: derived\[spring_sum\]\.of: a ratio takes two figures; "
         "expected exactly 2, got 3"),
    Case("a carriage return in a text", replaced(
        'takeaway: {en: "Ridership more than doubled from March to May"}',
        'takeaway: {en: "Ridership more than doubled\\rfrom March to May\\r\\n!"}'), 0,
        r"bikeshare\.en\.pptx: 7 slides", check=lambda out, o: _no_cr(out)),
    Case("a line break inside a bullet", replaced(
        '"Rides in March: {fig:rides_mar}"', '"Rides in March:\\n{fig:rides_mar}"'), 0,
        r"bikeshare\.en\.pptx: 7 slides", check=lambda out, o: _line_break(out)),
    # -- nothing clipped: text no slide can show continues, or is refused with its line
    Case("a claim of 100,000 characters", replaced(
        '"The operator opened {fig:new_stations} new stations"', '"' + "word " * 20000 + '"'),
        2, r"bikeshare\.yaml:50: claims\[stations\]\.text\.en: text too long; expected at "
        "most 5,000 characters .* got 100,000"),
    Case("a claim of 5,000 characters", replaced(
        '"The operator opened {fig:new_stations} new stations"', '"' + "word " * 999 + '!"'),
        0, r"bikeshare\.en\.pptx: \d\d slides", check=lambda out, o: _checked(out, 10)),
    Case("an unbreakable run of 5,000 characters", replaced(
        '"The operator opened {fig:new_stations} new stations"', '"' + "A" * 5000 + '"'), 0,
        r"bikeshare\.en\.pptx: \d\d slides", check=lambda out, o: _checked(out, 10)),
    Case("a table cell of 5,000 characters", replaced("derived:\n", (
        "checks:\n  - id: long\n    claim: stations\n    source: {en: Release}\n"
        "    text: {en: \"" + "A" * 5000 + "\"}\nderived:\n")), 0,
        r"bikeshare\.en\.pptx: \d\d slides", check=lambda out, o: _checked(out, 10)),
    Case("5,000 Korean syllables without a space", _korean_claim, 0,
         r"deepseek-shock\.ko\.pptx: \d\d slides",
         check=lambda out, o: _checked(out, 18, "deepseek-shock")),
    Case("a title no title box can hold", replaced(
        'heading: {en: "Monthly rides"}', 'heading: {en: "' + "Monthly rides " * 30 + '"}'), 2,
        r"briefing\.yaml\.j2:\d+: slides\[rides\]\.title \(en\): too long for its box even at "
        "20 pt"),
    # both forms too long (the footer and footer_short): the shorter one is tried too
    Case("a footer no footer can hold", labels('"Source: {outlet}, {date}',
                                               '"Source: {outlet}, {date} ' + "x" * 900),
         2, r"briefing\.yaml\.j2:\d+: slides\[title\]\.footer \(en\): too long for its box"),
    Case("a template that unzips to 250 MB", _template_bomb, 2,
         r"company\.pptx: --template: too large once unzipped; expected at most 200 MB"),
    # -- the output folder
    Case("the manifest is a folder", _out_entry(".deck-manifest.json"), 2,
         r"out: --out: .*out/\.deck-manifest\.json is a folder; expected the manifest file"),
    Case("the deck is a folder", _out_entry("bikeshare.en.pptx"), 2,
         r"out: --out: .*out/bikeshare\.en\.pptx is a folder; expected a deck file"),
    Case("a data file name too long for its deck", _long_stem, 2,
         r"out: --out: deck name x{40}\.\.\. too long; expected at most 232 bytes"),
    Case("--out ''", lambda folder: [str(copy_bikeshare(folder)), "--out", ""], 2,
         r"^--out: empty; expected a folder name"),
    Case("--out is a file", _out_file, 2, r"out: --out: .*/out is not a folder", out="absent"),
    Case("a failed build creates no folder", replaced("value: 40,", "value: .nan,"), 2,
         r"bikeshare\.yaml:52: ", out="absent"),
    Case("a failed template creates no folder", subtitle("{{ nope }}"), 2,
         LINE + "undefined name", out="absent"),
    Case("the manifest gone, the deck as this build makes it", _manifest("delete"), 0,
         r"bikeshare\.en\.pptx: 7 slides"),
    Case("the manifest corrupt, the deck as this build makes it", _manifest("{not json"), 0,
         r"bikeshare\.en\.pptx: 7 slides"),
    Case("the manifest corrupt, the deck edited", _manifest("{not json", edit=True), 2,
         r"out/bikeshare\.en\.pptx: the manifest .*\.deck-manifest\.json is not valid JSON "
         r"\(.*\), so whether it was edited by hand cannot be told; not overwriting it"),
    Case("--force in the same second as another", _forced_this_second, 0,
         r"bikeshare\.en\.\d{8}-\d{6}-2\.bak\.pptx: kept a backup",
         check=lambda out, o: _backups_kept(out)),
    Case("a save a killed build left half done", _journal_left, 0,
         r"out: finished saving .*bikeshare\.en\.pptx.*which an interrupted build had left",
         check=lambda out, o: _consistent(out)),
    Case("temporaries a killed build left", _temporaries_left, 0,
         r"bikeshare\.en\.pptx: 7 slides", check=lambda out, o: _consistent(out)),
    # -- quoting: data text never adds a slide, whatever filter a template uses
    Case("an HTML filter (|e): not for decks, refused", outline(
        "  - text: {{ claims[id].text }}", "  - text: {{ claims[id].text|e }}",
        BASE.replace('"Rides in March: {fig:rides_mar}"', f'"{INJECTED}"')), 2,
        r"custom\.yaml\.j2:\d+: template syntax: unknown filter; expected one of the filters "
        r"an outline may use \(abs, .*\), got 'e'"),
    Case("claim text with a slide in it, through |trim and |join", outline(
        "  - text: {{ claims[id].text }}", "  - text: {{ [claims[id].text|trim, 'x']|join }}",
        BASE.replace('"Rides in March: {fig:rides_mar}"', f'"{INJECTED}"')), 0,
        r"bikeshare\.en\.pptx: 5 slides", check=five_slides),
]


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(memory=MEMORY, seconds=SECONDS)
    yield z
    z.close()


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory, zygote) -> Path:
    """An output folder holding a good build of the bikeshare article."""
    out = tmp_path_factory.mktemp("prebuilt") / "out"
    outcome = zygote.run([str(BIKESHARE), "--out", str(out)])
    assert outcome.status == 0, outcome.stderr
    return out


@dataclass(frozen=True)
class Ran:
    case: Case
    folder: Path
    out: Path
    before: dict[str, str] | None
    after: dict[str, str] | None
    outcome: Outcome


@pytest.fixture(scope="module")
def ran(tmp_path_factory, prebuilt, zygote) -> dict[str, Ran]:
    """Every case, two at a time (the next one starts as soon as one ends)."""
    root = tmp_path_factory.mktemp("adversarial")
    prepared = []
    for i, case in enumerate(CASES):
        folder = root / f"case{i:02d}"
        folder.mkdir()
        out = folder / "out"
        if case.out == "prebuilt":
            shutil.copytree(prebuilt, out)
        args = case.setup(folder)
        if "--out" not in args:
            args += ["--out", str(out)]
        prepared.append((case, folder, out, args, snapshot(out)))
    runs, running = {}, {}
    waiting = iter(prepared)
    while True:
        while len(running) < 2 and (job := next(waiting, None)) is not None:
            case, folder, _, args, _ = job
            running[zygote.start(args, folder, case.env)] = job
        if not running:
            return runs
        pid, outcome = zygote.wait_any(list(running), timeout=3 * SECONDS)
        case, folder, out, _, before = running.pop(pid)
        runs[case.name] = Ran(case, folder, out, before, snapshot(out), outcome)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(ran, name):
    r = ran[name]
    o = r.outcome
    shown = f"exit {o.status} in {o.seconds:.2f} s, {o.rss_bytes / 2**20:.0f} MB\n" \
            f"stdout:\n{o.stdout[:2000]}\nstderr:\n{o.stderr[:2000]}"
    assert o.status == r.case.status, shown
    assert re.search(r.case.first, o.first), shown
    assert "Traceback" not in o.stderr, shown
    assert o.seconds < SECONDS, shown
    assert o.rss_bytes < MEMORY, shown
    if o.status != 0:
        assert r.after == r.before, "a failed build changed the output folder"
        assert o.stderr.splitlines()[-1].startswith("build failed:"), shown
    if r.case.check is not None:
        r.case.check(r.out, o)


def test_the_bounds_hold_for_a_new_interpreter_too(tmp_path):
    """The alias bomb through ``python -m deck`` itself: imports included."""
    data = copy_bikeshare(tmp_path, BASE + _alias_bomb())
    child = (f"import resource, runpy, sys\n"
             f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))\n"
             f"resource.setrlimit(resource.RLIMIT_CPU, ({SECONDS}, {SECONDS + 1}))\n"
             "sys.argv = ['deck', *sys.argv[1:]]\n"
             "runpy.run_module('deck', run_name='__main__')\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, "-c", child, str(data), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True,
                            timeout=3 * SECONDS, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "YAML too many values once aliases are expanded" in result.stderr
    assert not (tmp_path / "out").exists()
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
    assert peak < MEMORY


def test_report(ran, capsys):
    """The table of cases (shown with ``pytest -s -k report``): status, time, memory."""
    with capsys.disabled():
        if os.environ.get("DECK_ADVERSARIAL_REPORT"):
            for name, r in ran.items():
                o = r.outcome
                print(f"{o.status:>3} {o.seconds:6.2f} s {o.rss_bytes / 2**20:5.0f} MB  {name}")
