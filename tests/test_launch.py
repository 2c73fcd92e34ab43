"""What a command does before its build: the imports made with the garbage collector off, then
frozen, and the collector back on (deck.launch.imports_frozen)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from helpers import ROOT

from deck import launch


def test_what_the_imports_make_is_frozen_and_the_collector_runs_again():
    before = gc.get_freeze_count()
    try:
        with launch.imports_frozen():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_caller_that_had_the_collector_off_keeps_it_off():
    gc.disable()
    try:
        with launch.imports_frozen():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_command_builds_with_its_imports_frozen():
    """``launch.main`` (build.py, python -m deck, deck) imports the package that way: after
    the imports (here those of ``--help``) the collector runs, and leaves them alone."""
    script = ("import gc, sys\nfrom deck import launch\ntry:\n    launch.main(['--help'])\n"
              "except SystemExit:\n    pass\nprint(gc.isenabled(), gc.get_freeze_count() > 20_000, "
              "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, DECK_SERVER="0"), check=True)
    assert done.stderr.split("\n")[-2] == "True True"
