"""Templates nobody on the project wrote, made from what the machine has: pandoc's reference
deck, python-pptx's default template, LibreOffice's bundled Impress templates converted to
.pptx, plus a dark master and a .potx made here from the bundled theme.

None of them is committed: each is made when the tests run, or skipped with the reason.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pptx

from deck.output import pack_parts
from deck.resources import theme_path

#: Progress: its content placeholders run 0.3 in past the slide's bottom edge and its slide
#: number is 26 pt in a 30.8 pt box
LIBREOFFICE_TEMPLATES = ("Metropolis", "Midnightblue", "Vivid", "Focus", "Candy", "Progress")
_LO_DIRS = (Path("/usr/lib/libreoffice/share/template/common/presnt"),
            Path("/opt/libreoffice/share/template/common/presnt"),
            Path("/usr/share/libreoffice/share/template/common/presnt"))
NAMES = ("pandoc-reference", "python-pptx-default", "dark", "potx",
         *(f"libreoffice-{n}" for n in LIBREOFFICE_TEMPLATES))


def make_corpus(folder: Path) -> dict[str, Path | str]:
    """Every template of the corpus written into ``folder``: name -> path, or name -> the
    reason it could not be made here."""
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path | str] = {
        "pandoc-reference": _pandoc(folder),
        "python-pptx-default": _copy(Path(pptx.__file__).parent / "templates" / "default.pptx",
                                     folder / "python-pptx-default.pptx"),
        "dark": _dark(folder / "dark.pptx"),
        "potx": _potx(folder / "theme.potx"),
    }
    found.update(_libreoffice(folder))
    return found


def _copy(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    return target


def _pandoc(folder: Path) -> Path | str:
    if shutil.which("pandoc") is None:
        return "pandoc is not installed (apt-get install pandoc)"
    target = folder / "pandoc-reference.pptx"
    with target.open("wb") as out:
        subprocess.run(["pandoc", "--print-default-data-file", "reference.pptx"], stdout=out,
                       check=True, timeout=60)
    return target


def _rewrite(source: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(source) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    edit(parts)
    target.write_bytes(pack_parts(parts))
    return target


def _dark(target: Path) -> Path:
    """The bundled theme with its colour map swapped: dark background, light text."""
    def edit(parts: dict[str, bytes]) -> None:
        name = "ppt/slideMasters/slideMaster1.xml"
        xml = parts[name].decode()
        start = xml.index("<p:clrMap ")
        end = xml.index("/>", start)
        parts[name] = (xml[:start] + '<p:clrMap bg1="dk1" tx1="lt1" bg2="dk2" tx2="lt2" '
                       'accent1="accent1" accent2="accent2" accent3="accent3" '
                       'accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" '
                       'folHlink="folHlink"' + xml[end:]).encode()

    _rewrite(theme_path(), target, edit)
    return target


def _potx(target: Path) -> Path:
    """The bundled theme saved as a PowerPoint template (.potx): only the main part's content
    type differs."""
    def edit(parts: dict[str, bytes]) -> None:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"presentationml.presentation.main+xml", b"presentationml.template.main+xml")

    return _rewrite(theme_path(), target, edit)


def _libreoffice(folder: Path) -> dict[str, Path | str]:
    soffice = shutil.which("soffice")
    source_dir = next((d for d in _LO_DIRS if d.is_dir()), None)
    names = [f"libreoffice-{n}" for n in LIBREOFFICE_TEMPLATES]
    if soffice is None or source_dir is None:
        return dict.fromkeys(names, "LibreOffice and its bundled Impress templates are not "
                             "installed (apt-get install libreoffice-impress)")
    sources = [source_dir / f"{n}.otp" for n in LIBREOFFICE_TEMPLATES]
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pptx", "--outdir", str(folder),
                        *(str(s) for s in sources if s.exists())],
                       capture_output=True, timeout=300, check=False)
    found: dict[str, Path | str] = {}
    for name, source in zip(names, sources, strict=True):
        made = folder / f"{source.stem}.pptx"
        found[name] = made if made.exists() and _opens(made) else \
            f"LibreOffice made no .pptx of {source}"
    return found


def _opens(path: Path) -> bool:
    try:
        pptx.Presentation(io.BytesIO(path.read_bytes()))
    except Exception:  # noqa: BLE001 - a broken conversion is reported as missing
        return False
    return True
