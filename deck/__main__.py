"""``python -m deck``: the same as ``python build.py`` and the ``deck`` command."""

from .launch import run

run()
