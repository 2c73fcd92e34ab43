"""Previews: a PNG per slide and a contact sheet per deck, rendered by LibreOffice.

LibreOffice is a real client, not ours: what it draws is what a colleague without PowerPoint
sees. Without it the decks still build and one line says how to get previews.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

INSTALL_HINT = ("previews need LibreOffice and poppler: apt-get install libreoffice-impress "
                "poppler-utils (Debian/Ubuntu), or install LibreOffice and add soffice to PATH")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def render_pdf(deck: Path, out_dir: Path, timeout_s: int = 240) -> Path:
    """Convert a deck to PDF with a private LibreOffice profile; raise if no PDF came out.

    ``soffice --convert-to`` exits 0 even when it fails, so the file itself is the check.
    """
    binary = soffice()
    if binary is None:
        raise FileNotFoundError(INSTALL_HINT)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deck-lo-") as profile:
        subprocess.run([binary, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(out_dir), str(deck)],
                       capture_output=True, timeout=timeout_s, check=False)
    pdf = out_dir / (deck.stem + ".pdf")
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"{deck}: LibreOffice wrote no PDF")
    return pdf


def write_previews(deck: Path, dpi: int = 60) -> tuple[list[Path], Path]:
    """PNG per slide in ``<deck>.preview/`` and a contact sheet ``<deck>.contact.png``."""
    if shutil.which("pdftoppm") is None:
        raise FileNotFoundError(INSTALL_HINT)
    folder = deck.with_name(deck.stem + ".preview")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    with tempfile.TemporaryDirectory(prefix="deck-pdf-") as tmp:
        pdf = render_pdf(deck, Path(tmp))
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / "slide")],
                       check=True, capture_output=True, timeout=240)
    pages = sorted(folder.glob("slide-*.png"))
    sheet = deck.with_name(deck.stem + ".contact.png")
    contact_sheet(pages, sheet)
    return pages, sheet


def contact_sheet(pages: list[Path], target: Path, columns: int = 4, gap: int = 8) -> None:
    """Tile slide images into one PNG, left to right, top to bottom."""
    images = [Image.open(p) for p in pages]
    if not images:
        raise RuntimeError(f"{target}: no slide images to tile")
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (w + gap) + gap, rows * (h + gap) + gap), "#d1d5db")
    for i, im in enumerate(images):
        sheet.paste(im, (gap + (i % columns) * (w + gap), gap + (i // columns) * (h + gap)))
        im.close()
    sheet.save(target, optimize=True)
