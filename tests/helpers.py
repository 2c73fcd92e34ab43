"""What the tests share: paths of the test inputs, and a build in a session of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

from deck.resources import default_article
from deck.session import BuildRequest, BuildSession, BuiltDeck

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_article()
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"
COMPANY = ROOT / "tests" / "data" / "company" / "company.pptx"


def build(data: Path, out: Path, langs: list[str] | tuple[str, ...] = (), *,
          template: Path | None = None, force: bool = False, strict: bool = False,
          session: BuildSession | None = None,
          source_date_epoch: str | None = None) -> list[BuiltDeck]:
    """Build like the command line does, in a new session unless one is given."""
    request = BuildRequest(Path(data), Path(out), tuple(langs), template, force, strict,
                           source_date_epoch)
    return list((session or BuildSession()).build(request).decks)


def copy_bikeshare(folder: Path, text: str | None = None) -> Path:
    """The bikeshare test article (with its outline and picture) copied into ``folder``;
    ``text`` replaces the data file's content. Returns the copied data file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("bikeshare.yaml.j2", "stations.png"):
        shutil.copy(BIKESHARE.with_name(name), folder / name)
    data = folder / BIKESHARE.name
    data.write_text(BIKESHARE.read_text(encoding="utf-8") if text is None else text,
                    encoding="utf-8")
    return data


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: enough for Pillow's size checks."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
