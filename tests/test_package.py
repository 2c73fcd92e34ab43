"""The built decks as OOXML packages: valid, self-consistent, accessible, correctly tagged.

Each deck is built once for this module and read straight from its zip; every check runs on
the decks as built and on the decks of the merge scenario (edited by hand, rebuilt with
--merge: ``conftest.scenario``). Failures list every offending part/slide/element at once, so
one run shows the whole picture.

openxml-audit (the validator named in ``pyproject.toml``) is used when installed. The ECMA-376
schemas are read from ``../shared/ooxml-xsd`` beside the repository when that folder exists
(they are not shipped with the project); the schema checks are skipped otherwise.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest
from corpus import NAMES
from helpers import DEFAULT_DATA, build
from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData, XyChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches

from deck import ooxml

ROOT = Path(__file__).resolve().parent.parent
XSD_DIR = ROOT.parent / "shared" / "ooxml-xsd"
LANGS = ["ko", "en"]

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "xsd": "http://www.w3.org/2001/XMLSchema",
}
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

# CT_TextCharacterProperties (dml-main.xsd): a sequence; each inner list is one slot (a choice
# group such as EG_FillProperties counts as one slot). At most one element per slot, in order.
RPR_SEQUENCE = [
    ["ln"],
    ["noFill", "solidFill", "gradFill", "blipFill", "pattFill", "grpFill"],
    ["effectLst", "effectDag"],
    ["highlight"],
    ["uLnTx", "uLn"],
    ["uFillTx", "uFill"],
    ["latin"], ["ea"], ["cs"], ["sym"], ["hlinkClick"], ["hlinkMouseOver"], ["rtl"], ["extLst"],
]
RPR_SLOT = {f"{{{NS['a']}}}{name}": i for i, slot in enumerate(RPR_SEQUENCE) for name in slot}
RPR_TAGS = ("rPr", "defRPr", "endParaRPr")  # all three are CT_TextCharacterProperties


def q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def slide_key(name: str) -> tuple[int, str]:
    m = re.search(r"(\d+)\.xml$", name)
    return (int(m.group(1)) if m else 0, name)


@dataclass
class Package:
    """A built deck read from its zip: raw parts, parsed XML on demand, relationships."""

    lang: str
    path: Path
    parts: dict[str, bytes] = field(repr=False)
    _xml: dict[str, etree._Element] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, lang: str, path: Path) -> Package:
        with zipfile.ZipFile(path) as z:
            return cls(lang, path, {n: z.read(n) for n in z.namelist()})

    def xml(self, name: str) -> etree._Element:
        if name not in self._xml:
            self._xml[name] = etree.fromstring(self.parts[name])
        return self._xml[name]

    def names(self, prefix: str, suffix: str = ".xml") -> list[str]:
        found = [n for n in self.parts if n.startswith(prefix) and n.endswith(suffix)
                 and "/_rels/" not in n and n.count("/") == prefix.count("/")]
        return sorted(found, key=slide_key)

    @property
    def slides(self) -> list[str]:
        return self.names("ppt/slides/")

    @property
    def charts(self) -> list[str]:
        return self.names("ppt/charts/")

    def rels(self, part: str) -> list[tuple[str, str, str | None]]:
        """(rId, type, target part name or None if external) of a part's relationships."""
        rels_name = rels_path(part)
        if rels_name not in self.parts:
            return []
        out = []
        for rel in self.xml(rels_name).iterfind("pr:Relationship", NS):
            external = rel.get("TargetMode") == "External"
            target = None if external else resolve(part, rel.get("Target"))
            out.append((rel.get("Id"), rel.get("Type"), target))
        return out

    def text_parts(self) -> list[str]:
        """Parts holding the deck's own text: slides, notes, charts."""
        return [n for n in sorted(self.parts, key=slide_key) if n.endswith(".xml")
                and n.startswith(("ppt/slides/", "ppt/notesSlides/", "ppt/charts/"))
                and "/_rels/" not in n]


def rels_path(part: str) -> str:
    """``ppt/slides/slide1.xml`` -> ``ppt/slides/_rels/slide1.xml.rels``; '' is the package."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def source_of(rels_name: str) -> str:
    """Inverse of :func:`rels_path` (``_rels/.rels`` -> '', the package root)."""
    folder, name = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])


def resolve(source: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


@pytest.fixture(scope="module", params=("bundled", "merged", *NAMES))
def decks(request, tmp_path_factory, corpus_decks) -> dict[str, Package]:
    """Both decks of the bundled article: on the bundled theme, merged with hand edits
    (tests/helpers.py's merge scenario), and on every corpus template (tests/corpus.py): the
    package checks hold for any master and after a merge."""
    if request.param == "merged":
        scenario = request.getfixturevalue("scenario")
        return {lang: Package.open(lang, scenario.deck(lang)) for lang in LANGS}
    if request.param == "bundled":
        built = build(DEFAULT_DATA, tmp_path_factory.mktemp("package"))
    else:
        found = corpus_decks[request.param]
        if isinstance(found, str):
            pytest.skip(found)
        built = list(found.values())
    return {b.lang: Package.open(b.lang, b.path) for b in built}


def test_both_decks_are_built(decks):
    assert sorted(decks) == sorted(LANGS)


# (a) openxml-audit -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit():
    openxml_audit = pytest.importorskip("openxml_audit")
    # defaults: Office 2019, schema + semantic checks; max_errors=0 means "report them all"
    return openxml_audit.OpenXmlValidator(max_errors=0)


@pytest.mark.parametrize("lang", LANGS)
def test_openxml_audit_finds_nothing(decks, audit, lang):
    result = audit.validate(decks[lang].path)
    findings = [f"{e.severity.value} {e.error_type.value} {e.part_uri}:{e.path}: {e.description}"
                for e in result.errors]
    assert not findings, report(findings)
    assert result.is_valid


# (b), (c) relationships and content types --------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_relationship_target_is_a_part(decks, lang):
    pkg = decks[lang]
    problems = []
    for rels_name in sorted(n for n in pkg.parts if n.endswith(".rels")):
        source = source_of(rels_name)
        if source and source not in pkg.parts:
            problems.append(f"{rels_name}: relationships of a part that does not exist")
        ids = set()
        for rel in pkg.xml(rels_name).iterfind("pr:Relationship", NS):
            rid = rel.get("Id")
            if rid in ids:
                problems.append(f"{rels_name}: duplicate Id {rid}")
            ids.add(rid)
            if rel.get("TargetMode") == "External":
                continue
            target = resolve(source, rel.get("Target"))
            if target not in pkg.parts:
                problems.append(f"{rels_name}: {rid} -> {rel.get('Target')} ({target}) missing")
    assert not problems, report(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_every_part_is_reachable_from_the_package_root(decks, lang):
    pkg = decks[lang]
    seen, todo = set(), [""]
    while todo:
        part = todo.pop()
        for _, _, target in pkg.rels(part):
            if target is not None and target not in seen:
                seen.add(target)
                todo.append(target)
    orphans = [n for n in sorted(pkg.parts)
               if n not in seen and n != "[Content_Types].xml" and not n.endswith(".rels")]
    assert not orphans, report([f"{n}: no relationship leads here" for n in orphans])


@pytest.mark.parametrize("lang", LANGS)
def test_every_part_has_a_content_type(decks, lang):
    pkg = decks[lang]
    types = pkg.xml("[Content_Types].xml")
    defaults = {d.get("Extension").lower() for d in types.iterfind("ct:Default", NS)}
    overrides = {o.get("PartName") for o in types.iterfind("ct:Override", NS)}
    problems = []
    for name in sorted(pkg.parts):
        if name == "[Content_Types].xml":
            continue
        if name.endswith("/"):
            problems.append(f"{name}: folder entry in the zip")
            continue
        last = name.rsplit("/", 1)[-1]
        ext = last.rpartition(".")[2].lower() if "." in last else ""
        if f"/{name}" not in overrides and ext not in defaults:
            problems.append(f"{name}: no Override and no Default for .{ext}")
    for part_name in sorted(overrides):
        if part_name.lstrip("/") not in pkg.parts:
            problems.append(f"Override {part_name}: no such part")
    assert not problems, report(problems)


# (d) shape ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_shape_ids_unique_on_each_slide(decks, lang):
    pkg = decks[lang]
    problems = []
    for name in pkg.slides:
        ids = [el.get("id") for el in pkg.xml(name).iter(q("p:cNvPr"))]
        dupes = sorted({i for i in ids if ids.count(i) > 1}, key=int)
        if dupes:
            problems.append(f"{name}: shape ids used more than once: {dupes}")
    assert not problems, report(problems)


def _xfrm_box(shape: etree._Element) -> tuple[int, int, int, int, bool, bool] | None:
    xfrm = shape.find("p:spPr/a:xfrm", NS)
    if xfrm is None or xfrm.find("a:off", NS) is None:
        return None
    off, ext = xfrm.find("a:off", NS), xfrm.find("a:ext", NS)
    flip_h, flip_v = xfrm.get("flipH") in ("1", "true"), xfrm.get("flipV") in ("1", "true")
    return (int(off.get("x")), int(off.get("y")), int(ext.get("cx")), int(ext.get("cy")),
            flip_h, flip_v)


@pytest.mark.parametrize("lang", LANGS)
def test_connectors_attach_to_the_shapes_they_touch(decks, lang):
    """a:stCxn/a:endCxn name a shape by id: it must exist, be a shape (not a group or another
    connector) and its frame must contain the connector's end. Renumbering shape ids without
    updating these references silently re-wires diagrams."""
    pkg = decks[lang]
    problems = []
    for name in pkg.slides:
        root = pkg.xml(name)
        by_id = {el.get("id"): el.getparent().getparent() for el in root.iter(q("p:cNvPr"))}
        for cxn in root.iter(q("p:cxnSp")):
            cname = cxn.find("p:nvCxnSpPr/p:cNvPr", NS).get("name")
            box = _xfrm_box(cxn)
            for end in ("stCxn", "endCxn"):
                ref = cxn.find(f"p:nvCxnSpPr/p:cNvCxnSpPr/a:{end}", NS)
                if ref is None:
                    continue
                target = by_id.get(ref.get("id"))
                where = f"{name}: {cname!r} {end} id={ref.get('id')}"
                if target is None:
                    problems.append(f"{where}: no shape has this id")
                    continue
                kind = etree.QName(target).localname
                tname = target.find("./*[1]/p:cNvPr", NS).get("name")
                if kind not in ("sp", "pic"):
                    problems.append(f"{where}: points at a {kind} ({tname!r}), not a shape")
                    continue
                tbox = _xfrm_box(target)
                if box is None or tbox is None or target.getparent() is not cxn.getparent():
                    continue
                x, y, cx, cy, fh, fv = box
                first = end == "stCxn"
                px = x + (cx if fh == first else 0)
                py = y + (cy if fv == first else 0)
                tx, ty, tcx, tcy = tbox[:4]
                if not (tx - 2 <= px <= tx + tcx + 2 and ty - 2 <= py <= ty + tcy + 2):
                    problems.append(f"{where}: points at {tname!r}, but the line ends at "
                                    f"({px}, {py}), outside its frame")
    assert not problems, report(problems)


# (e) notes master list ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_notes_master_is_listed_when_there_are_notes(decks, lang):
    pkg = decks[lang]
    if not pkg.names("ppt/notesSlides/"):
        pytest.skip("no notes slides")
    pres = pkg.xml("ppt/presentation.xml")
    ids = pres.xpath("p:notesMasterIdLst/p:notesMasterId/@r:id", namespaces=NS)
    assert len(ids) == 1, "ppt/presentation.xml: p:notesMasterIdLst missing or not one entry"
    rels = {rid: (rtype, target) for rid, rtype, target in pkg.rels("ppt/presentation.xml")}
    rtype, target = rels[ids[0]]
    assert rtype == RT + "notesMaster"
    assert target in pkg.parts


# (f), (g) alt text and titles --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_charts_pictures_and_groups_have_alt_text(decks, lang):
    pkg = decks[lang]
    problems, checked = [], 0
    for name in pkg.slides:
        root = pkg.xml(name)
        shapes = root.xpath(
            f".//p:graphicFrame[a:graphic/a:graphicData/@uri='{CHART_URI}'] | .//p:pic"
            " | .//p:grpSp", namespaces=NS)
        for shape in shapes:
            checked += 1
            c_nv_pr = shape.find("./*[1]/p:cNvPr", NS)
            if not (c_nv_pr.get("descr") or "").strip():
                problems.append(f"{name}: {etree.QName(shape).localname} "
                                f"{c_nv_pr.get('name')!r} (id {c_nv_pr.get('id')}) has no descr")
    assert checked, "no chart, picture or group found at all"
    assert not problems, report(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_every_slide_has_a_title(decks, lang):
    pkg = decks[lang]
    problems = []
    for name in pkg.slides:
        titles = pkg.xml(name).xpath(
            ".//p:sp[p:nvSpPr/p:nvPr/p:ph[@type='title' or @type='ctrTitle']]", namespaces=NS)
        texts = ["".join(t.xpath(".//a:t/text()", namespaces=NS)).strip() for t in titles]
        if not any(texts):
            problems.append(f"{name}: no title placeholder with text ({len(titles)} found)")
    assert not problems, report(problems)


# (h) run languages -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_runs_carry_their_language(decks, lang):
    """Hangul runs: lang="ko-KR" and an a:ea face; in the English deck every other run is
    en-US; in the Korean deck every other run has a language of its own (ko-KR or en-US)."""
    pkg = decks[lang]
    problems = []
    for name in pkg.text_parts():
        for run in pkg.xml(name).iter(q("a:r")):
            text = "".join(run.xpath("a:t/text()", namespaces=NS))
            rpr = run.find("a:rPr", NS)
            run_lang = rpr.get("lang") if rpr is not None else None
            where = f"{name}: run {text[:40]!r}"
            if HANGUL.search(text):
                if run_lang != "ko-KR":
                    problems.append(f"{where}: Hangul with lang={run_lang!r}, expected 'ko-KR'")
                if rpr is None or rpr.find("a:ea", NS) is None:
                    problems.append(f"{where}: Hangul without an a:ea (East Asian) font")
            elif lang == "en" and run_lang != "en-US":
                problems.append(f"{where}: lang={run_lang!r}, expected 'en-US'")
            elif lang == "ko" and run_lang not in ("ko-KR", "en-US"):
                problems.append(f"{where}: lang={run_lang!r}, expected 'ko-KR' or 'en-US'")
    assert not problems, report(problems)


# (i) run property order --------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_run_properties_children_in_schema_order(decks, lang):
    pkg = decks[lang]
    problems = []
    for name in sorted(n for n in pkg.parts if n.endswith(".xml")):
        root = pkg.xml(name)
        for tag in RPR_TAGS:
            for rpr in root.iter(q(f"a:{tag}")):
                slots = [RPR_SLOT.get(child.tag, -1) for child in rpr
                         if isinstance(child.tag, str)]
                if -1 in slots or slots != sorted(set(slots)):
                    order = [etree.QName(c).localname for c in rpr if isinstance(c.tag, str)]
                    problems.append(f"{name}: a:{tag} children out of schema order: {order}")
    assert not problems, report(problems)


def _xsd_sequence(type_name: str) -> list[list[str]]:
    """A complexType's sequence from dml-main.xsd, each choice group expanded to one slot."""
    xsd = etree.parse(str(XSD_DIR / "transitional" / "dml-main.xsd")).getroot()
    ctype = xsd.find(f"xsd:complexType[@name='{type_name}']", NS)
    slots = []
    for item in ctype.find("xsd:sequence", NS):
        if item.tag == q("xsd:element"):
            slots.append([item.get("name")])
        elif item.tag == q("xsd:group"):
            group = xsd.find(f"xsd:group[@name='{item.get('ref')}']", NS)
            slots.append([e.get("name") for e in group.find("xsd:choice", NS)
                          .iterfind("xsd:element", NS)])
    return slots


@pytest.mark.skipif(not XSD_DIR.is_dir(), reason="../shared/ooxml-xsd not present")
def test_run_property_order_matches_the_schema():
    """The order used above, and the one deck.ooxml inserts children in, are the schema's."""
    from_xsd = _xsd_sequence("CT_TextCharacterProperties")
    assert from_xsd == RPR_SEQUENCE
    assert [t.split(":")[1] for t in ooxml._RPR_ORDER] == [n for s in from_xsd for n in s]


# (j) charts and their workbooks ------------------------------------------------------------


def _col_num(col: str) -> int:
    n = 0
    for ch in col:
        n = n * 26 + ord(ch) - 64
    return n


def _col_name(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def expand_range(formula: str) -> tuple[str, list[str]]:
    """``Sheet1!$B$2:$B$4`` -> ('Sheet1', ['B2', 'B3', 'B4'])."""
    sheet, _, cells = formula.rpartition("!")
    sheet = sheet.strip("'").replace("''", "'")
    ends = [re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", c) for c in cells.split(":")]
    (c1, r1), (c2, r2) = [(_col_num(m.group(1)), int(m.group(2))) for m in (ends[0], ends[-1])]
    return sheet, [f"{_col_name(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def read_workbook(data: bytes) -> dict[str, dict[str, float | str]]:
    """{sheet name: {cell: value}} from an .xlsx, numbers as float and text as str."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())

        def xml(n: str) -> etree._Element:
            return etree.fromstring(z.read(n))

        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = ["".join(si.itertext()) for si in xml("xl/sharedStrings.xml")
                      .iterfind("s:si", NS)]
        targets = {rel.get("Id"): resolve("xl/workbook.xml", rel.get("Target"))
                   for rel in xml("xl/_rels/workbook.xml.rels").iterfind("pr:Relationship", NS)}
        book = {}
        for sheet in xml("xl/workbook.xml").iterfind("s:sheets/s:sheet", NS):
            cells: dict[str, float | str] = {}
            for c in xml(targets[sheet.get(q("r:id"))]).iter(q("s:c")):
                kind, v = c.get("t", "n"), c.find("s:v", NS)
                if kind == "inlineStr":
                    cells[c.get("r")] = "".join(c.find("s:is", NS).itertext())
                elif v is None:
                    continue
                elif kind == "s":
                    cells[c.get("r")] = shared[int(v.text)]
                elif kind in ("str", "e"):
                    cells[c.get("r")] = v.text or ""
                else:
                    cells[c.get("r")] = float(v.text)
            book[sheet.get("name")] = cells
    return book


def cached(ref: etree._Element) -> tuple[str, list[float | str | None]]:
    """(formula, cached points by index) of a c:numRef / c:strRef."""
    formula = ref.findtext("c:f", namespaces=NS)
    cache = ref.find("c:numCache", NS)
    numeric = cache is not None
    if cache is None:
        cache = ref.find("c:strCache", NS)
    values: list[float | str | None] = [None] * int(cache.find("c:ptCount", NS).get("val"))
    for pt in cache.iterfind("c:pt", NS):
        text = pt.findtext("c:v", namespaces=NS)
        values[int(pt.get("idx"))] = float(text) if numeric else text
    return formula, values


@pytest.mark.parametrize("lang", LANGS)
def test_at_least_five_native_charts(decks, lang):
    pkg = decks[lang]
    frames = [n for n in pkg.slides for _ in pkg.xml(n).xpath(
        f".//p:graphicFrame/a:graphic/a:graphicData[@uri='{CHART_URI}']", namespaces=NS)]
    charts_linked = {t for n in pkg.slides for _, rtype, t in pkg.rels(n) if rtype == RT + "chart"}
    assert len(frames) >= 5
    assert charts_linked == set(pkg.charts)


@pytest.mark.parametrize("lang", LANGS)
def test_chart_caches_match_their_embedded_workbooks(decks, lang):
    pkg = decks[lang]
    problems, series_checked = [], 0
    for chart in pkg.charts:
        packages = [t for _, rtype, t in pkg.rels(chart) if rtype == RT + "package"]
        if len(packages) != 1 or not packages[0].endswith(".xlsx"):
            problems.append(f"{chart}: expected one embedded .xlsx, got {packages}")
            continue
        root = pkg.xml(chart)
        rid = root.find("c:externalData", NS)
        if rid is None or dict((r, t) for r, _, t in pkg.rels(chart)).get(
                rid.get(q("r:id"))) != packages[0]:
            problems.append(f"{chart}: c:externalData does not point at {packages[0]}")
        book = read_workbook(pkg.parts[packages[0]])
        for ser in root.iter(q("c:ser")):
            series_checked += 1
            idx = ser.find("c:idx", NS).get("val")
            refs = [("val", ser.find("c:val/c:numRef", NS)),
                    ("cat", ser.find("c:cat/*", NS)),
                    ("tx", ser.find("c:tx/c:strRef", NS))]
            if refs[0][1] is None:
                problems.append(f"{chart}: series {idx} has no c:val/c:numRef")
            for what, ref in refs:
                if ref is None or ref.tag not in (q("c:numRef"), q("c:strRef")):
                    continue
                formula, values = cached(ref)
                sheet, cells = expand_range(formula)
                in_book = [book.get(sheet, {}).get(c) for c in cells]
                if what == "val":
                    ok = len(in_book) == len(values) and all(
                        isinstance(b, float) and b == v for b, v in zip(in_book, values,
                                                                        strict=True))
                else:
                    ok = [str(b) for b in in_book] == [str(v) for v in values]
                if not ok:
                    problems.append(f"{chart}: series {idx} c:{what} {formula}: cache {values} "
                                    f"!= workbook {in_book}")
    assert series_checked, "no chart series found"
    assert not problems, report(problems)


def test_expand_range():
    assert expand_range("Sheet1!$B$2:$B$4") == ("Sheet1", ["B2", "B3", "B4"])
    assert expand_range("'My ''x'' sheet'!$A$1") == ("My 'x' sheet", ["A1"])
    assert expand_range("Sheet1!$Z$1:$AB$1") == ("Sheet1", ["Z1", "AA1", "AB1"])


# (k) schema validation ---------------------------------------------------------------------

XSD_IMPORTS = {
    "http://schemas.openxmlformats.org/presentationml/2006/main": "transitional/pml.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": "transitional/dml-chart.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "transitional/dml-main.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties":
        "transitional/shared-documentPropertiesExtended.xsd",
    "http://schemas.openxmlformats.org/package/2006/content-types": "opc/opc-contentTypes.xsd",
    "http://schemas.openxmlformats.org/package/2006/relationships": "opc/opc-relationships.xsd",
}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD_DIR.is_dir():
        pytest.skip("../shared/ooxml-xsd not present")
    wrapper = "".join(f'<xsd:import namespace="{ns}" schemaLocation="{(XSD_DIR / p).as_uri()}"/>'
                      for ns, p in XSD_IMPORTS.items())
    try:
        return etree.XMLSchema(etree.fromstring(
            f'<xsd:schema xmlns:xsd="{NS["xsd"]}">{wrapper}</xsd:schema>'))
    except (etree.XMLSchemaParseError, OSError) as exc:  # pragma: no cover - depends on files
        pytest.skip(f"ECMA-376 schemas did not compile: {exc}")


def without_markup_compatibility(root: etree._Element) -> etree._Element:
    """mc:AlternateContent -> its mc:Fallback; elements/attributes of mc:Ignorable namespaces
    dropped (what a consumer that knows none of the extensions sees)."""
    for alt in list(root.iter(f"{{{MC}}}AlternateContent")):
        parent = alt.getparent()
        if parent is None:
            continue
        at = parent.index(alt)
        parent.remove(alt)
        fallback = alt.find(f"{{{MC}}}Fallback")
        for child in reversed(list(fallback) if fallback is not None else []):
            parent.insert(at, child)
    prefixes = (root.get(f"{{{MC}}}Ignorable") or "").split()
    ignored = {root.nsmap.get(p) for p in prefixes} | {MC}
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).namespace in ignored and el is not root:
            el.getparent().remove(el)
            continue
        for attr in [a for a in el.attrib if etree.QName(a).namespace in ignored]:
            del el.attrib[attr]
    return office_percentages(root)


def office_percentages(root: etree._Element) -> etree._Element:
    """``a:buSzPct`` as a bare integer (45000 for 45 %), as Office and LibreOffice write it in
    masters, read as the schema's ``45%``: a known quirk of the transitional schema
    (../shared/ooxml-xsd/README.md), not a fault of the file."""
    for el in root.iter(q("a:buSzPct")):
        val = el.get("val", "")
        if val.isdigit():
            el.set("val", f"{int(val) // 1000}%")
    return root


@pytest.mark.parametrize("lang", LANGS)
def test_parts_are_schema_valid(decks, schema, lang):
    pkg = decks[lang]
    problems = []
    for name in sorted(pkg.parts):
        # docProps/core.xml: its schema imports Dublin Core over the network
        if not name.endswith((".xml", ".rels")) or name == "docProps/core.xml":
            continue
        doc = without_markup_compatibility(etree.fromstring(pkg.parts[name]))
        if not schema.validate(doc):
            problems.extend(f"{name}:{e.line}: {e.message}" for e in schema.error_log)
    assert not problems, report(problems)


# fix_chart_axis_ids, in isolation ----------------------------------------------------------


def _axis_refs(chart_space: etree._Element) -> list[tuple[str, str, str]]:
    return [(etree.QName(el.getparent()).localname, etree.QName(el).localname, el.get("val"))
            for el in chart_space.iter(q("c:axId"), q("c:crossAx"))]


@pytest.fixture()
def tiny_charts():
    """A one-slide presentation with a bar, a line and an XY chart (python-pptx templates)."""
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    cat = CategoryChartData()
    cat.categories = ["a", "b"]
    cat.add_series("s", (1, 2))
    xy = XyChartData()
    series = xy.add_series("xy")
    series.add_data_point(1, 2)
    series.add_data_point(3, 4)
    charts = [slide.shapes.add_chart(kind, 0, 0, Inches(4), Inches(3), data).chart
              for kind, data in [(XL_CHART_TYPE.BAR_CLUSTERED, cat),
                                 (XL_CHART_TYPE.LINE_MARKERS, cat),
                                 (XL_CHART_TYPE.XY_SCATTER, xy)]]
    return prs, charts


def test_fix_chart_axis_ids_renumbers_consistently(tiny_charts):
    _, charts = tiny_charts
    assert any(int(v) < 0 for c in charts for *_, v in _axis_refs(c._chartSpace))
    for chart in charts:
        before = _axis_refs(chart._chartSpace)
        ooxml.fix_chart_axis_ids(chart)
        after = _axis_refs(chart._chartSpace)
        # same elements, same places; the old -> new mapping is a bijection
        assert [a[:2] for a in after] == [b[:2] for b in before]
        mapping = {}
        for (*_, old), (*_, new) in zip(before, after, strict=True):
            assert mapping.setdefault(old, new) == new
        assert len(set(mapping.values())) == len(mapping)
        assert sorted(int(v) for v in mapping.values()) == list(range(1, len(mapping) + 1))
        # every plot names existing axes; every axis crosses another existing axis
        plot_area = chart._chartSpace.find("c:chart/c:plotArea", NS)
        axes = {ax.find("c:axId", NS).get("val"): ax for ax in plot_area
                if ax.find("c:axId", NS) is not None and ax.tag.endswith("Ax")}
        assert len(axes) == 2
        for plot in plot_area:
            if plot.tag.endswith("Chart"):
                assert {a.get("val") for a in plot.iterfind("c:axId", NS)} == set(axes)
        for ax_id, ax in axes.items():
            crosses = ax.find("c:crossAx", NS).get("val")
            assert crosses in axes and crosses != ax_id


def test_fix_chart_axis_ids_is_idempotent_and_takes_the_element(tiny_charts):
    _, charts = tiny_charts
    chart_space = charts[0]._chartSpace
    ooxml.fix_chart_axis_ids(chart_space)
    once = _axis_refs(chart_space)
    ooxml.fix_chart_axis_ids(charts[0])
    assert _axis_refs(chart_space) == once
    assert all(int(v) > 0 for *_, v in once)


def test_fixed_charts_survive_save_and_pass_openxml_audit(tiny_charts, tmp_path):
    openxml_audit = pytest.importorskip("openxml_audit")
    prs, charts = tiny_charts
    for chart in charts:
        ooxml.fix_chart_axis_ids(chart)
    path = tmp_path / "tiny.pptx"
    prs.save(path)
    reopened = Presentation(path)
    saved = [s.chart for s in reopened.slides[0].shapes if s.has_chart]
    assert [_axis_refs(c._chartSpace) for c in saved] == [
        _axis_refs(c._chartSpace) for c in charts]
    result = openxml_audit.OpenXmlValidator(max_errors=0).validate(path)
    assert not result.errors, report([str(e) for e in result.errors])


_SHAPES = tuple(f"{{{NS['p']}}}{t}" for t in ("sp", "pic", "graphicFrame", "grpSp", "cxnSp"))
_PH_XPATH = etree.XPath("./*[1]/p:nvPr/p:ph", namespaces=NS)  # python-pptx 1.0.2's own


@pytest.mark.parametrize("lang", LANGS)
def test_the_fast_placeholder_lookup_finds_what_python_pptx_s_xpath_finds(decks, lang):
    """deck.ooxml replaces python-pptx's per-call XPath for a shape's ``p:ph``: on every
    shape of every slide, layout, master and notes part, both give the same element."""
    pkg = decks[lang]
    prefixes = ("ppt/slides/", "ppt/slideLayouts/", "ppt/slideMasters/", "ppt/notesSlides/",
                "ppt/notesMasters/")
    shapes = [el for prefix in prefixes for name in pkg.names(prefix)
              for el in pkg.xml(name).iter(*_SHAPES)]
    assert len(shapes) > 20
    placeholders = 0
    for el in shapes:
        found = _PH_XPATH(el)
        assert ooxml.placeholder_element(el) is (found[0] if found else None)
        placeholders += bool(found)
    assert placeholders > 5


def test_the_package_folders_are_those_importlib_resources_gives():
    """deck.resources finds its folders with the import system's spec (not importing
    importlib.resources' readers at every start): the same folders."""
    from importlib.resources import files

    from deck import resources

    assert resources.templates_dir() == files("deck.templates")
    assert resources.assets_dir() == files("deck.assets")
    assert resources.theme_path().is_file() and resources.default_article().is_file()
    with pytest.raises(RuntimeError, match="deck.nowhere: package data must be installed"):
        resources._folder("deck.nowhere")
