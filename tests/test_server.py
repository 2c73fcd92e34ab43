"""The build server (deck/launch.py, deck/server.py): a command served gives the same decks,
output and status as one run in its own process, and the server never serves what it must
not (other code, other limits, --watch, a folder others can open)."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import BIKESHARE, ROOT, files_in, theme_with_font

from deck import launch
from deck.cli import servable

BUILD_PY = ROOT / "build.py"
pytestmark = pytest.mark.skipif(not launch.enabled() and os.name != "posix",
                                reason="the build server needs Unix sockets that carry files")


@pytest.fixture()
def server_env():
    """An environment whose commands use a server of their own (a short folder: a socket's
    path holds about 100 bytes), stopped and removed afterwards."""
    folder = tempfile.mkdtemp(prefix="dsrv")
    env = dict(os.environ, DECK_SERVER="1", DECK_SERVER_DIR=folder, DECK_SERVER_IDLE="60")
    env.pop("DECK_NO_CACHE", None)
    env["DECK_CACHE_DIR"] = os.path.join(folder, "cache")
    yield env
    run(["--stop-server"], env)
    shutil.rmtree(folder, ignore_errors=True)


def run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], env=env, cwd=kw.pop(
        "cwd", ROOT), capture_output=True, text=True, errors="surrogateescape", timeout=120,
        **kw)


def socket_of(env: dict[str, str]) -> str:
    """The socket a command with ``env`` looks for (its PYTHONPATH is part of the name)."""
    if env.get("PYTHONPATH") == os.environ.get("PYTHONPATH"):
        return os.path.join(env["DECK_SERVER_DIR"],
                            f"{launch._digest(launch.fingerprint())}.sock")
    return subprocess.run([sys.executable, "-c", "from deck import launch; "
                           "print(launch.socket_path())"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()


def wait_for_server(env: dict[str, str], present: bool = True, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    path = socket_of(env)
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            up = True
        except OSError:
            up = False
        finally:
            sock.close()
        if up == present and (not present or _ready(env)):
            return
        time.sleep(0.05)
    raise AssertionError(f"server {'not up' if present else 'still up'} after {seconds} s")


def _ready(env: dict[str, str]) -> bool:
    """Whether the newest server's log says it is ready (its warm-up over)."""
    log = Path(env["DECK_SERVER_DIR"], "server.log")
    text = log.read_text() if log.exists() else ""
    return " ready\n" in text[text.rfind(" started, pid "):]


def served(env: dict[str, str]) -> list[str]:
    """The commands the server ran, as its log tells them."""
    log = Path(env["DECK_SERVER_DIR"], "server.log")
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split(" ", 2)[2] for line in lines if " s /" in line]


def served_batch(env: dict[str, str], tmp_path: Path, copies: int,
                 **popen: object) -> tuple[subprocess.Popen, str]:
    """A batch of ``copies`` copies of the bikeshare article, sent to a server started for
    it, and the batch's first line of output (it is under way in the server by then)."""
    batch = tmp_path / "batch"
    shutil.copytree(BIKESHARE.parent, batch)
    for i in range(copies):
        shutil.copy2(BIKESHARE, batch / f"b{i:02}.yaml")
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], env)
    wait_for_server(env)
    child = subprocess.Popen(
        [sys.executable, str(BUILD_PY), *[str(batch / f"b{i:02}.yaml") for i in range(copies)],
         "--out", str(tmp_path / "out"), "--jobs", "1", "--no-cache"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    return child, child.stdout.readline()


@pytest.fixture()
def article(tmp_path) -> Path:
    folder = tmp_path / "a"
    shutil.copytree(BIKESHARE.parent, folder)
    return folder / BIKESHARE.name


def test_a_served_rebuild_gives_the_same_bytes_output_and_status(server_env, article, tmp_path):
    first = run([str(article), "--out", str(tmp_path / "out")], server_env)
    assert first.returncode == 0, first.stderr
    assert served(server_env) == []  # the first command ran itself, and started the server
    wait_for_server(server_env)
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("bikeshare", "bike-share", 1), encoding="utf-8")
    again = run([str(article), "--out", str(tmp_path / "out")], server_env)
    assert again.returncode == 0, again.stderr
    assert len(served(server_env)) == 1 and str(tmp_path / "out") in served(server_env)[0]
    here = run([str(article), "--out", str(tmp_path / "here"), "--no-cache"],
               dict(server_env, DECK_SERVER="0"))
    assert files_in(tmp_path / "out") == files_in(tmp_path / "here")
    def report(out: str) -> list[str]:  # each deck's line, without its folder and time
        return [line.split(":")[1].rsplit(",", 1)[0] for line in out.splitlines()[:-1]]

    assert report(again.stdout) == report(here.stdout) == [" 7 slides, 6 claims"]


def test_a_server_warms_up_with_the_build_that_started_it(server_env, article, tmp_path):
    run([str(article), "--out", str(tmp_path / "out")], server_env)
    wait_for_server(server_env)
    log = Path(server_env["DECK_SERVER_DIR"], "server.log").read_text().splitlines()
    said = [line.split(" ", 2)[2] for line in log]
    assert said[1].startswith(f"warmed up with {article} (") and said[2] == "ready"
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".pptx") == [
        "bikeshare.en.pptx"]  # the first command's deck, and nothing written by the warm-up
    pid = said[0].split("started, pid ")[1].split(",")[0]
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # what it was started with is not for the process list to show
        assert str(article).encode() not in cmdline.read_bytes()


def test_bad_input_served_fails_as_it_does_in_its_own_process(server_env, article, tmp_path):
    run([str(article), "--out", str(tmp_path / "out")], server_env)
    wait_for_server(server_env)
    before = files_in(tmp_path / "out")
    article.write_text(article.read_text(encoding="utf-8").replace("claims:", "claimz:", 1),
                       encoding="utf-8")
    bad = run([str(article), "--out", str(tmp_path / "out")], server_env)
    alone = run([str(article), "--out", str(tmp_path / "out")], dict(server_env, DECK_SERVER="0"))
    assert len(served(server_env)) == 1
    assert bad.returncode == alone.returncode == 2
    assert bad.stderr == alone.stderr and bad.stderr.startswith(f"{article}:")
    assert files_in(tmp_path / "out") == before
    usage = run(["--lang"], server_env)
    assert usage.returncode == 2 and "expected one argument" in usage.stderr


def test_other_limits_and_watch_run_in_their_own_process(server_env, article, tmp_path):
    run([str(article), "--out", str(tmp_path / "out")], server_env)
    wait_for_server(server_env)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    lower = 8 << 30 if hard == resource.RLIM_INFINITY else hard

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (lower, hard))

    out = run([str(article), "--out", str(tmp_path / "out")], server_env, preexec_fn=limited)
    assert out.returncode == 0, out.stderr
    log = Path(server_env["DECK_SERVER_DIR"], "server.log").read_text()
    assert "left to the command itself: other resource limits" in log
    assert served(server_env) == []
    assert not servable(["--watch"]) and not servable([str(article), "--wat"])
    assert servable([str(article), "--out", "x"]) and servable(["--no-such-flag"])


def test_a_socket_left_by_a_killed_server_is_replaced(server_env, article, tmp_path):
    os.makedirs(server_env["DECK_SERVER_DIR"], mode=0o700, exist_ok=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(socket_of(server_env))  # bound, never listening: connections are refused
    dead.close()
    out = run([str(article), "--out", str(tmp_path / "out")], server_env)
    assert out.returncode == 0, out.stderr
    wait_for_server(server_env)
    again = run([str(article), "--out", str(tmp_path / "out")], server_env)
    assert again.returncode == 0 and len(served(server_env)) == 1


def test_a_folder_others_can_open_is_never_used(server_env, article, tmp_path):
    os.makedirs(server_env["DECK_SERVER_DIR"], exist_ok=True)
    os.chmod(server_env["DECK_SERVER_DIR"], 0o755)
    for _ in range(2):
        out = run([str(article), "--out", str(tmp_path / "out")], server_env)
        assert out.returncode == 0, out.stderr
    time.sleep(1)
    assert sorted(os.listdir(server_env["DECK_SERVER_DIR"])) in ([], ["cache"])


def test_the_server_exits_when_idle_and_when_asked(server_env, article, tmp_path):
    env = dict(server_env, DECK_SERVER_IDLE="1")
    run([str(article), "--out", str(tmp_path / "out")], env)
    wait_for_server(env)
    wait_for_server(env, present=False, seconds=15)
    assert not os.path.exists(socket_of(env))
    run([str(article), "--out", str(tmp_path / "out")], server_env)
    wait_for_server(server_env)
    stop = run(["--stop-server"], server_env)
    assert stop.returncode == 0 and stop.stdout.startswith("stopped the build server")
    wait_for_server(server_env, present=False, seconds=10)
    assert run(["--stop-server", "--force"], server_env).returncode == 2


def test_an_interrupt_reaches_the_served_build_and_the_server_goes_on(server_env, tmp_path):
    child, first = served_batch(server_env, tmp_path, 40)  # 39 decks to go
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert first.endswith("s\n") and child.returncode == 1, (first, out, err)
    assert "interrupted: the decks listed above were built, the rest of the batch was not" in err
    assert len(list((tmp_path / "out").glob("b*.pptx"))) < 30  # the batch stopped
    after = run([str(BIKESHARE), "--out", str(tmp_path / "after")], server_env)
    assert after.returncode == 0, after.stderr
    assert len(served(server_env)) == 2


# -- what a review found (each failed before its fix)

def test_fast_commands_get_one_answer_each(server_env, article, tmp_path):
    """The pid and the status may arrive in one read, and the server may have finished and
    closed before the command's last send: neither may turn into 'server stopped' (exit 1)
    or a second run here (the output twice)."""
    run([str(article), "--out", str(tmp_path / "out")], server_env)
    wait_for_server(server_env)
    alone = dict(server_env, DECK_SERVER="0")
    for args in (["--help"], ["--bogus"], [str(tmp_path / "missing.yaml")]):
        expected = run(args, alone)
        for _ in range(8):
            got = run(args, server_env)
            assert (got.returncode, got.stdout, got.stderr) == (
                expected.returncode, expected.stdout, expected.stderr)
    assert len(served(server_env)) == 24


def test_a_command_that_loses_its_reader_leaves_the_next_ones_their_output(
        server_env, tmp_path):
    """--diff into a pipe closed early swaps its stdout for /dev/null; the next command
    served must still print."""
    run([str(BIKESHARE), "--out", str(tmp_path / "a")], server_env)
    wait_for_server(server_env)
    run([str(BIKESHARE), "--out", str(tmp_path / "b"), "--lang", "en"], server_env)
    deck = tmp_path / "a" / "bikeshare.en.pptx"
    closed = subprocess.Popen([sys.executable, str(BUILD_PY), "--diff", str(deck),
                               str(ROOT / "tests" / "data" / "company" / "company.pptx")],
                              env=server_env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    closed.stdout.close()
    closed.wait(timeout=60)
    after = run(["--help"], server_env)
    assert after.returncode == 0 and after.stdout.startswith("usage: deck")


def test_a_folder_name_that_is_not_utf8_does_not_end_the_server(server_env, tmp_path):
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/d\xff"))
    shutil.copytree(BIKESHARE.parent, folder)
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)
    for _ in range(2):
        got = run([str(folder / BIKESHARE.name), "--out", str(folder / "o")], server_env,
                  cwd=folder)
        assert got.returncode == 0, got.stderr
    assert len(served(server_env)) == 2
    wait_for_server(server_env)


def test_a_hangup_ignored_by_the_command_is_not_passed_on(server_env, tmp_path):
    """nohup: the command ignores SIGHUP, so the build it hands the server must go on."""
    child, first = served_batch(server_env, tmp_path, 30, preexec_fn=lambda: signal.signal(
        signal.SIGHUP, signal.SIG_IGN))
    child.send_signal(signal.SIGHUP)
    out, err = child.communicate(timeout=120)
    assert first and child.returncode == 0, err
    assert len(list((tmp_path / "out").glob("b*.pptx"))) == 30


def test_an_outline_put_beside_the_data_file_later_is_used(server_env, article, tmp_path):
    """The package's outline was compiled for the first build; one put beside the data file
    since overrides it, served as in a new process (here a broken one: exit 2)."""
    assert run([str(article), "--out", str(tmp_path / "out")], server_env).returncode == 0
    wait_for_server(server_env)
    assert run([str(article), "--out", str(tmp_path / "out")], server_env).returncode == 0
    (article.parent / "briefing.yaml.j2").write_text("slides:\n  - {{ no_such_name }}\n",
                                                     encoding="utf-8")
    got = run([str(article), "--out", str(tmp_path / "out")], server_env)
    alone = run([str(article), "--out", str(tmp_path / "out")],
                dict(server_env, DECK_SERVER="0"))
    assert got.returncode == alone.returncode == 2
    assert got.stderr == alone.stderr and "no_such_name" in got.stderr
    assert len(served(server_env)) == 2  # the first and the one that failed


def test_font_notes_are_those_of_the_build_s_own_template(server_env, article, tmp_path):
    """A batch, --watch or the server measures several templates in one session: each build
    notes only its own template's stand-in fonts."""
    odd = theme_with_font(tmp_path, "Frobozz Sans")
    first = run([str(article), "--out", str(tmp_path / "o1"), "--template", str(odd)],
                server_env)
    assert first.returncode == 0 and "font 'Frobozz Sans' measured with a stand-in" in \
        first.stderr
    wait_for_server(server_env)
    for template in (odd, None):
        args = [str(article), "--out", str(tmp_path / "o2")] + (
            ["--template", str(odd)] if template else [])
        got = run(args, server_env)
        assert got.returncode == 0
        assert ("Frobozz Sans" in got.stderr) == (template is not None), got.stderr


def test_stderr_goes_line_by_line_and_other_encodings_run_here(server_env, tmp_path):
    """2>&1 interleaves as in a new process (stderr line-buffered there since Python 3.9);
    a command writing another encoding (PYTHONIOENCODING) is left to its own process."""
    batch = tmp_path / "batch"
    shutil.copytree(BIKESHARE.parent, batch)
    shutil.copy2(BIKESHARE, batch / "a.yaml")
    (batch / "b.yaml").write_text("claims: [\n", encoding="utf-8")
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)

    def merged(env: dict[str, str]) -> list[str]:
        got = subprocess.run([sys.executable, str(BUILD_PY), str(batch / "a.yaml"),
                              str(batch / "b.yaml"), "--out", str(tmp_path / "o"),
                              "--jobs", "1", "--force"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=120)
        return [re.sub(r"[0-9.]+ s\b", "T s", line) for line in got.stdout.splitlines()]

    assert merged(server_env) == merged(dict(server_env, DECK_SERVER="0"))
    assert len(served(server_env)) == 1
    latin = run(["--help"], dict(server_env, PYTHONIOENCODING="latin-1"))
    assert latin.returncode == 0
    log = Path(server_env["DECK_SERVER_DIR"], "server.log").read_text()
    assert "left to the command itself: output written in another encoding" in log


def test_a_command_in_a_deleted_folder_runs_here(server_env, tmp_path):
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)
    gone = tmp_path / "gone"
    gone.mkdir()
    got = subprocess.run(f"cd {gone} && rmdir {gone} && {sys.executable} {BUILD_PY} --help",
                         shell=True, env=server_env, capture_output=True, text=True,
                         timeout=60)
    assert got.returncode == 0 and got.stdout.startswith("usage: deck"), got.stderr


def test_a_server_terminated_mid_command_says_so_and_is_gone(server_env, tmp_path):
    child, _first = served_batch(server_env, tmp_path, 30)
    pid = int(Path(server_env["DECK_SERVER_DIR"], "server.log").read_text().split(
        "started, pid ")[1].split(",")[0])
    os.kill(pid, signal.SIGTERM)
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 1 and "the build server stopped before the command ended" in err
    assert "_Stop" not in err
    wait_for_server(server_env, present=False, seconds=10)


def test_a_command_does_not_wait_for_a_busy_server(server_env, tmp_path):
    """While the server runs a long command (here one waiting for an output folder another
    build holds), another command runs in its own process at once, and the server, free
    again, does not run it a second time."""
    import filelock

    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)
    held = tmp_path / "held"
    held.mkdir()
    lock = filelock.FileLock(str(held / ".deck.lock"))
    lock.acquire()
    try:
        waiting = subprocess.Popen(
            [sys.executable, str(BUILD_PY), str(BIKESHARE), "--out", str(held), "--wait", "60"],
            env=server_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        assert "another build is writing here" in waiting.stderr.readline()  # it waits
        quick = run([str(BIKESHARE), "--out", str(tmp_path / "quick")], server_env)
        assert quick.returncode == 0 and waiting.poll() is None
    finally:
        lock.release()
    _out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    time.sleep(0.5)
    ran = served(server_env)
    assert len(ran) == 1 and str(held) in ran[0]  # the waiting build only
    assert "a command went away before it ran" in Path(
        server_env["DECK_SERVER_DIR"], "server.log").read_text()


def test_stop_server_while_it_is_busy_says_so_and_it_stops_after(server_env, tmp_path):
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(socket_of(server_env))  # says nothing: the server waits for it a while
    try:
        time.sleep(0.2)
        stop = run(["--stop-server"], server_env)
        assert stop.returncode == 0
        assert "is running a command; it stops once that ends" in stop.stdout, stop.stdout
    finally:
        silent.close()
    wait_for_server(server_env, present=False, seconds=15)


def test_a_killed_command_s_build_stops_in_the_server(server_env, tmp_path):
    """A command killed outright (SIGKILL, a closed terminal) takes its build with it, as in
    its own process: the server notices the connection gone and interrupts the build."""
    child, first = served_batch(server_env, tmp_path, 40)
    assert first
    child.kill()
    child.communicate(timeout=30)
    time.sleep(3)  # what the server would still have written by now
    log = Path(server_env["DECK_SERVER_DIR"], "server.log").read_text()
    assert len(list((tmp_path / "out").glob("b*.pptx"))) < 30, log  # not just one article
    assert "b00.yaml" in log.splitlines()[-1] and log.splitlines()[-1].split()[2] == "1"
    after = run([str(BIKESHARE), "--out", str(tmp_path / "after")], server_env)
    assert after.returncode == 0 and len(served(server_env)) == 2


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs unshare(1) and root to make a mount namespace")
def test_a_command_from_another_mount_namespace_runs_there(server_env, tmp_path):
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], server_env)
    wait_for_server(server_env)
    got = subprocess.run(["unshare", "-m", sys.executable, str(BUILD_PY), str(BIKESHARE),
                          "--out", str(tmp_path / "there")], env=server_env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    log = Path(server_env["DECK_SERVER_DIR"], "server.log").read_text()
    assert "another mount namespace or root" in log and served(server_env) == []


def test_a_server_whose_code_changed_exits(server_env, tmp_path):
    """Commands after a change go to a server of the new code; the old one goes too."""
    lib = tmp_path / "lib"
    lib.mkdir()
    env = dict(server_env, PYTHONPATH=str(lib))
    run([str(BIKESHARE), "--out", str(tmp_path / "warm")], env)
    wait_for_server(env)
    (lib / "new_library.py").write_text("", encoding="utf-8")  # the folder's time changes
    log = Path(server_env["DECK_SERVER_DIR"], "server.log")
    deadline = time.monotonic() + 20
    while "the code it runs has changed: exiting" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
