"""The package's own files: outline templates, label catalogs, the theme, fonts, the bundled
article. They live in the checkout's ``templates/`` and ``assets/`` folders and are installed
as the packages ``deck.templates`` and ``deck.assets`` (see pyproject.toml), so a wheel finds
them exactly as a checkout does: where the import system finds those packages.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path


@functools.cache
def _folder(package: str) -> Path:
    """The folder of ``package``, found as importing it would find it (the folder
    :func:`importlib.resources.files` gives for a package installed as files, without
    importing it or importlib.resources' readers: 3 ms of every command's start)."""
    spec = importlib.util.find_spec(package)
    where = list(spec.submodule_search_locations or ()) if spec is not None else []
    if len(where) != 1 or not Path(where[0]).is_dir():  # e.g. imported from a zip file
        raise RuntimeError(f"{package}: package data must be installed as files; got "
                           f"{where or spec!r}")
    return Path(where[0])


def templates_dir() -> Path:
    return _folder("deck.templates")


def assets_dir() -> Path:
    return _folder("deck.assets")


def outlines_dir() -> Path:
    """Outline templates shipped with the package (``<name>.yaml.j2``)."""
    return templates_dir() / "outlines"


def labels_dir() -> Path:
    """Label catalogs, one per language (``<lang>.yaml``)."""
    return templates_dir() / "labels"


def theme_path() -> Path:
    """The bundled master (``theme.pptx``; its layout mapping is ``theme.yaml`` beside it)."""
    return templates_dir() / "theme.pptx"


def fonts_dir() -> Path:
    """Free fonts measured where a theme's own fonts are not installed."""
    return assets_dir() / "fonts"


def default_article() -> Path:
    """The bundled article's data file."""
    return assets_dir() / "articles" / "deepseek-shock.yaml"
