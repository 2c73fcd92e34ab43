"""Which identity carrier survives a save by another application? Not part of the test run.

Builds the English bundled deck, writes a marker into every candidate carrier of every slide
and shape (shape name, ``cNvPr/@title``, ``cNvPr`` extension list, shape and slide
``p:custDataLst`` tags, ``nvPr`` and slide extension lists, the slide's ``cSld/@name``),
saves it through python-pptx and through LibreOffice (``soffice --convert-to pptx``), and
prints how many markers of each carrier come back, for text shapes (all placeholders here:
titles, bullets, footers) and graphics (charts, tables, the diagram group)::

    python3 tests/bench/carriers.py
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.package import Part
from pptx.opc.packuri import PackURI
from pptx.oxml.ns import qn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers import DEFAULT_DATA, build, soffice_pptx  # noqa: E402

P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
TAGS_CT = "application/vnd.openxmlformats-officedocument.presentationml.tags+xml"
TAGS_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/tags"
OURS = "{urn:deck:probe}id"


def _tag(slide_part, parent, marker: str) -> None:
    """A ``p:custDataLst/p:tags`` under ``parent`` pointing at a new tags part."""
    name = slide_part.package.next_partname("/ppt/tags/tag%d.xml")
    blob = f'<p:tagLst xmlns:p="{P_NS}"><p:tag name="DECK" val="{marker}"/></p:tagLst>'
    rid = slide_part.relate_to(Part(PackURI(name), TAGS_CT, slide_part.package, blob.encode()),
                               TAGS_RT)
    etree.SubElement(etree.SubElement(parent, qn("p:custDataLst")), qn("p:tags")).set(
        qn("r:id"), rid)


def _ext(parent, tag: str, marker: str) -> None:
    ext = etree.SubElement(etree.SubElement(parent, qn(f"{tag}:extLst")), qn(f"{tag}:ext"))
    ext.set("uri", "{7C3D5F2A-0000-4000-8000-000000DEC0DE}")
    etree.SubElement(ext, OURS).text = marker


def mark(src: Path, dst: Path) -> None:
    prs = Presentation(str(src))
    for i, slide in enumerate(prs.slides, 1):
        csld = slide._element.find(qn("p:cSld"))
        csld.set("name", f"M{i}")
        _tag(slide.part, csld, f"M{i}")
        _ext(slide._element, "p", f"M{i}")
        for j, shape in enumerate(slide.shapes, 1):
            # text shapes (placeholders: titles, bullets, footers) vs charts, tables, groups
            kind = "text" if shape._element.tag == qn("p:sp") else "graphic"
            c_nv_pr = shape._element[0].find(qn("p:cNvPr"))
            c_nv_pr.set("name", f"M{i}.{j}.{kind}")
            c_nv_pr.set("title", f"M{i}.{j}.{kind}")
            _ext(c_nv_pr, "a", f"M{i}.{j}.{kind}")
            nv_pr = shape._element[0].find(qn("p:nvPr"))
            _tag(slide.part, nv_pr, f"M{i}.{j}.{kind}")
            _ext(nv_pr, "p", f"M{i}.{j}.{kind}")
    prs.save(str(dst))


def survivors(path: Path) -> Counter:
    found: Counter = Counter()
    for slide in Presentation(str(path)).slides:
        el = slide._element
        found["slide cSld/@name"] += el.find(qn("p:cSld")).get("name", "").startswith("M")
        for tags in el.iter(qn("p:tags")):
            blob = slide.part.related_part(tags.get(qn("r:id"))).blob
            for tag in etree.fromstring(blob).iter(qn("p:tag")):
                found[f"custDataLst tags ({_kind(tag.get('val'))})"] += 1
        for marker in el.iter(OURS):
            found[f"extLst ({_kind(marker.text)})"] += 1
        for c_nv_pr in el.iter(qn("p:cNvPr")):
            for attr in ("name", "title"):
                value = c_nv_pr.get(attr) or ""
                if value.startswith("M"):
                    found[f"cNvPr/@{attr} ({_kind(value)})"] += 1
    return found


def _kind(marker: str) -> str:
    return "slide" if marker.count(".") == 0 else marker.rsplit(".", 1)[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        [built] = build(DEFAULT_DATA, tmp / "built", ["en"])
        marked = tmp / "marked.pptx"
        mark(built.path, marked)
        resaved = tmp / "resaved.pptx"
        Presentation(str(marked)).save(str(resaved))
        rows = {"written": survivors(marked), "python-pptx": survivors(resaved),
                "LibreOffice": survivors(soffice_pptx(marked, tmp / "lo"))}
    print(f"{'carrier':34} " + " ".join(f"{k:>12}" for k in rows))
    for carrier in sorted(rows["written"]):
        print(f"{carrier:34} " + " ".join(f"{r[carrier]:>12}" for r in rows.values()))


if __name__ == "__main__":
    main()
