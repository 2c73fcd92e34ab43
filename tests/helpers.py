"""What the tests share: paths of the test inputs, and a build in a session of its own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from deck.resources import default_article
from deck.session import BuildRequest, BuildSession, BuiltDeck

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_article()
BIKESHARE = ROOT / "tests" / "data" / "bikeshare" / "bikeshare.yaml"
#: a hand-written outline of the bikeshare article, for tests that break an outline
CUSTOM_OUTLINE = ROOT / "tests" / "data" / "custom" / "custom.yaml.j2"
COMPANY = ROOT / "tests" / "data" / "company" / "company.pptx"


def build(data: Path, out: Path, langs: list[str] | tuple[str, ...] = (), *,
          template: Path | None = None, force: bool = False, strict: bool = False,
          session: BuildSession | None = None,
          source_date_epoch: str | None = None) -> list[BuiltDeck]:
    """Build like the command line does, in a new session unless one is given."""
    request = BuildRequest(Path(data), Path(out), tuple(langs), template, force, strict,
                           source_date_epoch)
    return list((session or BuildSession()).build(request).decks)


def copy_bikeshare(folder: Path, text: str | None = None, outline: str | None = None) -> Path:
    """The bikeshare test article (with its picture) copied into ``folder``; ``text`` replaces
    the data file's content. With ``outline`` (a template's text) the copy uses that outline,
    written beside it as ``custom.yaml.j2``, instead of the default one. Returns the copied
    data file."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(BIKESHARE.with_name("stations.png"), folder / "stations.png")
    data = folder / BIKESHARE.name
    content = BIKESHARE.read_text(encoding="utf-8") if text is None else text
    if outline is not None:
        (folder / CUSTOM_OUTLINE.name).write_text(outline, encoding="utf-8")
        content = re.sub(r"^template: briefing$", "template: custom", content, count=1,
                         flags=re.M)
    data.write_text(content, encoding="utf-8")
    return data
