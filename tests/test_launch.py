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


def test_the_command_line_ends_without_teardown_but_flushed_and_with_its_status():
    """``launch.run`` (build.py, python -m deck, deck) ends the process with ``main``'s
    status, after the exit handlers and with standard output and error flushed (here more
    than a pipe's buffer, written just before), but without the interpreter's teardown (an
    object's finaliser at teardown never runs)."""
    script = (
        "import atexit, sys\nfrom deck import launch\n"
        "class Torn:\n    def __del__(self):\n        sys.stderr.write('torn down\\n')\n"
        "kept = Torn()\n"
        "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n"
        "launch.main = lambda: (sys.stdout.write('x' * 100_000), "
        "sys.stderr.write('e' * 10_000), 3)[-1]\n"
        "launch.run()\n"
        "sys.stderr.write('after run\\n')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, DECK_SERVER="0"))
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000
    assert done.stderr == "e" * 10_000 + "handler ran\n"


def test_build_py_and_python_m_deck_end_through_run():
    """The two entry points and the ``deck`` command go through ``launch.run``."""
    import tomllib

    assert "run()" in (ROOT / "build.py").read_text(encoding="utf-8")
    assert "run()" in (ROOT / "deck" / "__main__.py").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["deck"] == "deck.launch:run"


def test_the_command_line_ends_well_with_its_output_closed():
    """Started with standard output (and error) closed, as from cron with ``>&-``: Python
    has no stream for them, and the command still ends with its own status."""
    script = "from deck import launch\nlaunch.main = lambda: 0\nlaunch.run()\n"
    for closed in ((1,), (1, 2)):
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                              env=dict(os.environ, DECK_SERVER="0"), capture_output=True,
                              preexec_fn=lambda fds=closed: [os.close(fd) for fd in fds])
        assert done.returncode == 0, (closed, done.stderr)
