"""Text measurement with real font metrics (Pillow): which font file stands for a theme font,
advance widths, line breaking per language, wrapped heights.

A :class:`Fonts` object belongs to a build session: it resolves the typefaces a master names to
font files and keeps one :class:`Measurer` per pair of faces, with its caches. Nothing here is
process-wide. Knows nothing of pptx.

Where a theme's own font is installed it is measured; otherwise a metric-compatible free font
stands in (Liberation Sans for Arial, bundled; Noto Sans CJK KR for Malgun Gothic, bundled as a
Hangul subset), and every line keeps a safety margin of :data:`SAFETY` of its width. A typeface
with no known stand-in is measured with the bundled default and named in
:attr:`Fonts.approximated`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from PIL import ImageFont

from .resources import fonts_dir

if TYPE_CHECKING:
    from . import model as m

#: share of a line's width kept free, for renderer differences (kerning, font substitution)
SAFETY = 0.06
#: extra space renderers put between Hangul and Latin letters or digits (LibreOffice's
#: 'autospace' adds about 0.23 em at each such boundary; measured over 374 boundaries)
AUTOSPACE_EM = 0.25
_MEASURE_PX = 256  # fonts are loaded once at this size and widths scaled linearly

_SYSTEM_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                Path.home() / ".fonts", Path("C:/Windows/Fonts"), Path("/Library/Fonts"))


class Family(msgspec.Struct, frozen=True):
    """Where to find a typeface: its own font files (regular, bold), and the metric-compatible
    free fonts that stand in for it, bundled or installed (regular, bold), in order."""

    own: tuple[tuple[str, str], ...]
    standins: tuple[tuple[str, str], ...] = ()
    hangul: bool = False  # it has Hangul glyphs (else renderers fall back for Korean)


_LIBERATION = ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf")
_NOTO_KR = ("NotoSansKR-Subset-Regular.otf", "NotoSansKR-Subset-Bold.otf")
_CARLITO = ("Carlito-Regular.ttf", "Carlito-Bold.ttf")
_CALADEA = ("Caladea-Regular.ttf", "Caladea-Bold.ttf")
_LIBERATION_SERIF = ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf")
_LIBERATION_MONO = ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf")
_DEJAVU = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
_DEFAULT = {"latin": _LIBERATION, "ea": _NOTO_KR}
_KOREAN = Family((("malgun.ttf", "malgunbd.ttf"),), (_NOTO_KR,), hangul=True)
#: typefaces by lower-case name. Liberation Sans and the Noto KR subset are bundled (so the
#: bundled theme measures the same everywhere); Carlito, Caladea, Liberation Serif/Mono and
#: DejaVu Sans are looked for where fonts are installed (Debian: fonts-crosextra-carlito,
#: fonts-crosextra-caladea, fonts-liberation2, fonts-dejavu-core).
FAMILIES = {
    "arial": Family((("arial.ttf", "arialbd.ttf"), ("Arial.ttf", "Arial Bold.ttf")),
                    (_LIBERATION,)),
    "helvetica": Family((), (_LIBERATION,)),
    "liberation sans": Family((_LIBERATION,), (_LIBERATION,)),
    "calibri": Family((("calibri.ttf", "calibrib.ttf"),), (_CARLITO,)),
    "carlito": Family((_CARLITO,)),
    "cambria": Family((("cambria.ttc", "cambriab.ttf"),), (_CALADEA,)),
    "caladea": Family((_CALADEA,)),
    "times new roman": Family((("times.ttf", "timesbd.ttf"),), (_LIBERATION_SERIF,)),
    "liberation serif": Family((_LIBERATION_SERIF,)),
    "courier new": Family((("cour.ttf", "courbd.ttf"),), (_LIBERATION_MONO,)),
    "liberation mono": Family((_LIBERATION_MONO,)),
    "verdana": Family((("verdana.ttf", "verdanab.ttf"),), (_DEJAVU,)),
    "dejavu sans": Family((_DEJAVU,)),
    "malgun gothic": _KOREAN,
    "맑은 고딕": _KOREAN,
    "noto sans cjk kr": Family((), (_NOTO_KR,), hangul=True),
    "noto sans kr": Family((), (_NOTO_KR,), hangul=True),
    "nanumgothic": Family((("NanumGothic.ttf", "NanumGothicBold.ttf"),), (_NOTO_KR,),
                          hangul=True),
    "나눔고딕": Family((("NanumGothic.ttf", "NanumGothicBold.ttf"),), (_NOTO_KR,), hangul=True),
    "gulim": Family((), (_NOTO_KR,), hangul=True),
    "굴림": Family((), (_NOTO_KR,), hangul=True),
    "dotum": Family((), (_NOTO_KR,), hangul=True),
    "돋움": Family((), (_NOTO_KR,), hangul=True),
    "apple sd gothic neo": Family((), (_NOTO_KR,), hangul=True),
}


class FaceSet(msgspec.Struct, frozen=True):
    """The four font files one kind of text is measured with."""

    latin: Path
    latin_bold: Path
    ea: Path
    ea_bold: Path


def is_east_asian(ch: str) -> bool:
    o = ord(ch)
    return (0x1100 <= o <= 0x11FF or 0x3000 <= o <= 0x303F or 0x3130 <= o <= 0x318F
            or 0xAC00 <= o <= 0xD7A3 or 0x4E00 <= o <= 0x9FFF or 0xFF00 <= o <= 0xFFEF)


#: a run of Hangul syllables. (The one expression here with a class of wide ranges: Python
#: compiles such a class code point by code point, 0.5-2.6 ms each, at import, before a
#: build can fork)
_HANGUL = re.compile("[\uac00-\ud7a3]+")
_ASCII = re.compile("[\x00-\x7f]")


#: the most wrapped heights a measurer keeps across processes (:meth:`Fonts.store`)
MAX_KEPT = 100_000


class Fonts:
    """Resolves typefaces to files and keeps a measurer per face set (owned by a session)."""

    def __init__(self, search_dirs: tuple[Path, ...] = _SYSTEM_DIRS):
        self._dirs = search_dirs
        self._files: dict[str, Path | None] = {}
        self._measurers: dict[FaceSet, Measurer] = {}
        self._kept: dict[tuple, tuple[int, int]] = {}  # (identity, tag): sizes as kept
        self.approximated: set[str] = set()

    def measurer(self, latin: str, east_asian: str) -> Measurer:
        """The measurer for text set in ``latin`` with Hangul in ``east_asian``."""
        lt, lt_b = self._pair(latin, "latin")
        ea, ea_b = self._pair(east_asian, "ea")
        faces = FaceSet(lt, lt_b, ea, ea_b)
        if faces not in self._measurers:
            self._measurers[faces] = Measurer(faces)
        return self._measurers[faces]

    def load(self, cache: Any, tag: str) -> None:
        """Take what earlier processes measured for ``tag`` (a deck's language) from
        ``cache`` (a :class:`deck.cache.DiskCache`) into every measurer: widths and wrapped
        heights are values of their text, width, size and face, so a rebuild measures only
        text it has not seen."""
        for measurer in self._measurers.values():
            key = (measurer.identity, tag)
            if key in self._kept:
                continue
            found = cache.load("measure", key)
            if found is not None:
                measurer.absorb(*found[0])
            self._kept[key] = measurer.size()

    def store(self, cache: Any, tag: str) -> None:
        """Keep every measurer's widths and heights in ``cache`` for ``tag`` (at most
        :data:`MAX_KEPT` heights: a table that large is not worth reading back)."""
        for measurer in self._measurers.values():
            key = (measurer.identity, tag)
            if self._kept.get(key) != measurer.size() and len(measurer._heights) <= MAX_KEPT:
                cache.store("measure", key, (measurer.advances(), measurer._heights))
                self._kept[key] = measurer.size()

    def locate(self, fonts: m.ThemeFonts) -> dict[str, Path | None]:
        """Find the font files of a theme's typefaces on disk (searching the system's font
        folders, 5 ms), without loading them; what was found, by file name. A build's
        process that reads the inputs does this, and the build's processes :meth:`learn`
        it rather than each searching again."""
        for typeface, slot in ((fonts.major_latin, "latin"), (fonts.major_ea, "ea"),
                               (fonts.minor_latin, "latin"), (fonts.minor_ea, "ea")):
            self._pair(typeface, slot)
        return dict(self._files)

    def learn(self, found: dict[str, Path | None]) -> None:
        """Font files another process found (:meth:`locate`): not searched for again."""
        for name, path in found.items():
            self._files.setdefault(name, path)

    def _pair(self, typeface: str, slot: str) -> tuple[Path, Path]:
        """The font files measured for ``typeface`` in a Latin or East Asian (Hangul) slot:
        its own if installed, else its first stand-in found, else the bundled default (and
        the typeface is noted as approximated). Hangul set in a typeface without Hangul falls
        back, as renderers do, to a Korean font."""
        name = typeface.strip()
        family = FAMILIES.get(name.casefold())
        if slot == "ea" and (family is None or not family.hangul):
            if family is None and name:
                self.approximated.add(name)
            family = FAMILIES["noto sans kr"]
        elif family is None:
            if name:
                self.approximated.add(name)
            family = FAMILIES["liberation sans"]
        for pair in family.own + family.standins:
            found = self._find(pair[0]), self._find(pair[1])
            if found[0] is not None and found[1] is not None:
                return found[0], found[1]
        self.approximated.add(name)
        return fonts_dir() / _DEFAULT[slot][0], fonts_dir() / _DEFAULT[slot][1]

    def _find(self, file_name: str) -> Path | None:
        """A font file: bundled, else installed (looked up once per session)."""
        bundled = fonts_dir() / file_name
        if bundled.is_file():
            return bundled
        if file_name not in self._files:
            self._files[file_name] = next(
                (hit for d in self._dirs for hit in _safe_glob(d, file_name)), None)
        return self._files[file_name]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (st.st_size, st.st_mtime_ns)


def _safe_glob(directory: Path, name: str) -> list[Path]:
    try:
        return sorted(directory.rglob(name)) if directory.is_dir() else []
    except OSError:
        return []


class Measurer:
    """Widths and wrapped heights of text in one set of faces, cached per character."""

    def __init__(self, faces: FaceSet):
        self.faces = faces
        # BASIC layout: the same widths on every machine, with or without libraqm installed
        self._fonts = {key: ImageFont.truetype(str(path), _MEASURE_PX,
                                               layout_engine=ImageFont.Layout.BASIC)
                       for key, path in (("latin", faces.latin), ("latin_b", faces.latin_bold),
                                         ("ea", faces.ea), ("ea_b", faces.ea_bold))}
        # each character's advance in ems, regular then bold (indexed by ``bold``)
        self._widths: tuple[dict[str, float], dict[str, float]] = ({}, {})
        self._heights: dict[tuple[str, float, float, bool], float] = {}
        # a paragraph's break units with their widths and trailing space, in ems: the same
        # at every size the fit stage tries (16 pt down to 10), so measured once
        self._units: dict[tuple[str, bool], list[tuple[str, float, float]]] = {}
        # each break unit's width and trailing space, regular then bold: a Korean text's
        # units are mostly single syllables, the same few hundred again and again
        self._unit_em: tuple[dict[str, tuple[float, float]], ...] = ({}, {})
        self._line_em = {}
        for key, font in self._fonts.items():
            ascent, descent = font.getmetrics()
            self._line_em[key] = max(1.2, (ascent + descent) / _MEASURE_PX)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Measurer) and other.faces == self.faces

    def size(self) -> tuple[int, int]:
        """How many widths and heights this measurer has computed."""
        return len(self._widths[0]) + len(self._widths[1]), len(self._heights)

    def advances(self) -> dict[tuple[str, bool], float]:
        """Every character's advance measured, by (character, bold): what
        :meth:`Fonts.store` keeps for later processes."""
        return {(ch, bool(bold)): w for bold, table in enumerate(self._widths)
                for ch, w in table.items()}

    def absorb(self, advance: dict, heights: dict) -> None:
        """Take widths and heights an earlier process measured (:meth:`Fonts.load`)."""
        for (ch, bold), w in advance.items():
            self._widths[bool(bold)][ch] = w
        self._heights.update(heights)

    @property
    def identity(self) -> tuple:
        """The faces as plain values, the same in every process: each file's path, size and
        modification time (a font updated in place measures differently)."""
        return tuple((str(p), *_stamp(p)) for p in (self.faces.latin, self.faces.latin_bold,
                                                     self.faces.ea, self.faces.ea_bold))

    def __hash__(self) -> int:
        return hash(self.faces)

    def _face(self, slot: str, bold: bool) -> str:
        return slot + ("_b" if bold else "")

    def char_em(self, ch: str, bold: bool) -> float:
        widths = self._widths[bool(bold)]
        w = widths.get(ch)
        if w is None:
            slot = "ea" if is_east_asian(ch) else "latin"
            w = widths[ch] = self._fonts[self._face(slot, bold)].getlength(ch) / _MEASURE_PX
        return w

    def width_em(self, text: str, bold: bool = False) -> float:
        """Advance width in ems: each character's advance, Hangul from the East Asian face,
        plus :data:`AUTOSPACE_EM` at every Hangul/Latin boundary. Summing per character
        (cached) keeps measuring linear in the text's length; kerning, which this ignores, is
        within the safety margin."""
        widths = self._widths[bool(bold)]  # (each character's width, looked up once)
        try:
            total = sum([widths[ch] for ch in text])
        except KeyError:
            total = sum([self.char_em(ch, bold) for ch in text])
        if _HANGUL.search(text):
            total += AUTOSPACE_EM * _script_boundaries(text)
        return total

    def text_width_pt(self, text: str, size_pt: float, bold: bool = False) -> float:
        return self.width_em(text, bold) * size_pt

    def line_height_pt(self, text: str, size_pt: float, bold: bool = False) -> float:
        """Single line spacing for ``text``: the tallest of the faces it uses."""
        if text.isascii():
            slots = {"latin"}
        elif _HANGUL.search(text) and _ASCII.search(text):  # (most of a Korean deck's text)
            slots = {"ea", "latin"}
        else:
            slots = {"ea" if is_east_asian(ch) else "latin" for ch in text}
        return max(self._line_em[self._face(s, bold)] for s in slots) * size_pt

    def wrap(self, text: str, width_pt: float, size_pt: float, bold: bool = False) -> list[str]:
        """Greedy line breaking at :func:`break_units`; a piece wider than a line is split by
        characters (long words, URLs, unbroken tokens)."""
        return [line for _, line in self._lines(text, width_pt, size_pt, bold)]

    def line_starts(self, text: str, width_pt: float, size_pt: float,
                    bold: bool = False) -> list[int]:
        """Where in ``text`` each line :meth:`wrap` makes begins: text cut at these offsets
        wraps, piece by piece, into the same lines (the fit stage continues a text on a new
        slide there).

        >>> m = Fonts().measurer("Arial", "Malgun Gothic")
        >>> text = "one two three four five six"
        >>> starts = m.line_starts(text, 60, 12)
        >>> [text[a:b].rstrip() for a, b in zip(starts, starts[1:] + [len(text)])]
        ['one two', 'three four', 'five six']
        """
        return [start for start, _ in self._lines(text, width_pt, size_pt, bold)]

    def _lines(self, text: str, width_pt: float, size_pt: float,
               bold: bool) -> list[tuple[int, str]]:
        limit = width_pt * (1 - SAFETY) / size_pt  # in ems
        lines: list[tuple[int, str]] = []
        offset = 0
        for para in text.split("\n"):
            lines.extend((offset + at, line) for at, line in
                         self._wrap_paragraph(para, limit, bold))
            offset += len(para) + 1
        return lines

    def _wrap_paragraph(self, para: str, limit: float, bold: bool) -> list[tuple[int, str]]:
        lines: list[tuple[int, str]] = []
        line, line_w, start, at = "", 0.0, 0, 0
        for unit, unit_w, trailing in self._measured_units(para, bold):
            unit_at, at = at, at + len(unit)
            if line_w + unit_w - trailing <= limit:
                start = start if line else unit_at
                line, line_w = line + unit, line_w + unit_w
                continue
            if line:
                lines.append((start, line.rstrip()))
            while unit and unit_w - trailing > limit:
                cut, cut_w = self._longest_prefix(unit, limit, bold)
                lines.append((unit_at, unit[:cut]))
                unit, unit_w, unit_at = unit[cut:], unit_w - cut_w, unit_at + cut
            line, line_w, start = unit, unit_w, unit_at
        lines.append((start, line.rstrip()))
        return lines

    def _measured_units(self, para: str, bold: bool) -> list[tuple[str, float, float]]:
        """``para``'s :func:`break_units`, each with its width and that of its trailing
        space, in ems."""
        key = (para, bold)
        units = self._units.get(key)
        if units is None:
            units = []
            known = self._unit_em[bool(bold)]
            for unit in break_units(para):
                found = known.get(unit)
                if found is None:
                    unit_w = self.width_em(unit, bold)
                    stripped = unit.rstrip()  # (most units of Korean text have no space after)
                    found = known[unit] = (unit_w, 0.0 if stripped == unit else
                                           unit_w - self.width_em(stripped, bold))
                units.append((unit, *found))
            if len(self._units) >= MAX_KEPT:
                self._units.clear()
            if len(known) >= MAX_KEPT:
                known.clear()
            self._units[key] = units
        return units

    def _longest_prefix(self, unit: str, limit_em: float, bold: bool) -> tuple[int, float]:
        """How many characters of ``unit`` fit in ``limit_em`` (at least one), and their width."""
        used = 0.0
        cut = 0
        for ch in unit:
            w = self.char_em(ch, bold)
            if used + w > limit_em and cut:
                break
            used += w
            cut += 1
        # never split a grapheme's combining marks from their base
        while 1 < cut < len(unit) and unicodedata.combining(unit[cut]):
            cut -= 1
            used -= self.char_em(unit[cut], bold)
        return cut, used

    def text_height_pt(self, text: str, width_pt: float, size_pt: float,
                       bold: bool = False) -> float:
        """Height of a wrapped paragraph: line count times single line spacing."""
        if width_pt <= 0:
            return math.inf  # no room at all
        key = (text, width_pt, size_pt, bold)
        h = self._heights.get(key)
        if h is None:
            lines = self.wrap(text, width_pt, size_pt, bold)
            h = len(lines) * self.line_height_pt(text, size_pt, bold)
            self._heights[key] = h
        return h


def _script_boundaries(text: str) -> int:
    """How many times ``text`` passes between Hangul and an ASCII letter or digit ("R1은":
    one), where PowerPoint adds :data:`AUTOSPACE_EM`: at the ends of its runs of Hangul."""
    count = 0
    for run in _HANGUL.finditer(text):
        start, end = run.span()
        count += (start > 0 and _ascii_alnum(text[start - 1])) + (
            end < len(text) and _ascii_alnum(text[end]))
    return count


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


#: a space before what is not one: a line may break after it
_AFTER_SPACE = re.compile("(?<=\\s)(?=\\S)")


def break_units(text: str) -> list[str]:
    """Split text into the pieces a line may end after.

    Spaces end a piece everywhere. Between two Hangul syllables a line may also break (Korean
    line breaking), but never before closing punctuation nor after opening punctuation, and a
    number stays with its unit ('5,000명', '79.8%', '1,400억').

    >>> break_units("GPT-4 cost 5.5%.")
    ['GPT-4 ', 'cost ', '5.5%.']
    >>> break_units("딥시크는 1,400억 원을")
    ['딥', '시', '크', '는 ', '1,400억 ', '원', '을']
    """
    cuts = [0] + [found.start() for found in _AFTER_SPACE.finditer(text)]
    for run in _HANGUL.finditer(text):  # between each two syllables of a run...
        start, end = run.span()
        # ...but the first two when a number precedes them ('1,400억원': the unit stays with
        # it). (Punctuation is never a syllable: the rules on it hold between two of them)
        first = start + 2 if start and text[start - 1].isdigit() else start + 1
        cuts += range(first, end)
    cuts.sort()
    cuts.append(len(text))
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
