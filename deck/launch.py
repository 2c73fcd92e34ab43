"""Where a command runs: in the build server when one is running for this code, else here.

``python build.py``, ``python -m deck`` and the ``deck`` command start here (:func:`run`).
Importing the package and its libraries costs a new process about three times what a rebuild
after a one-field change costs a process that has them already (``--watch``). So, as Gradle's daemon
and mypy's ``dmypy`` do, the first command run here starts a **build server** in the
background (:mod:`deck.server`): a process that has imported everything and keeps one
:class:`~deck.session.BuildSession` (its memo of outlines, fitted and written slides) for as
long as it is used. The next command connects to it through a Unix socket, hands it its
argument list, folder, environment and its own standard input, output and error (the open
files themselves, so output goes exactly where it would have gone), and exits with the status
the server sends back. A ``Ctrl-C`` is passed on to the build.

The output is the same either way, byte for byte; only the time differs. The server:

* serves only commands of **this** code: its socket is named after a fingerprint of the
  package's files, the interpreter and its installed libraries, and it refuses a request
  whose fingerprint differs (the command then runs here);
* never serves ``--watch`` (itself resident), nor a command run under other resource limits
  than its own (``ulimit``): those run here, under their limits;
* listens in a folder only its user can open (``$DECK_SERVER_DIR``, else
  ``$XDG_RUNTIME_DIR/deck``, else ``~/.cache/deck/server``), checks the peer's user id where
  the system tells it, and logs one line per command to ``server.log`` there;
* exits after ``$DECK_SERVER_IDLE`` seconds without a command (900), or at once with
  ``python build.py --stop-server``.

``DECK_SERVER=0`` (or ``off``) runs every command here and starts no server. Where Unix
sockets cannot carry open files (Windows), commands always run here.

This module imports only the standard library's light modules: a command served pays the
interpreter's start-up and little else.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Iterator
from typing import NoReturn

IDLE_SECONDS = 900
_PYTHONPATH = "DECK_SERVER_PYTHONPATH"  # the PYTHONPATH of the command that started a server
WARM = "DECK_SERVER_WARM"  # that command's folder and arguments: what the server warms up with
_WARM_CHARS = 65_536  # Linux takes at most 128 KiB in one environment string
#: how long a command waits for the server to take it up; past that the server is busy with
#: another command (a long batch, a preview) and this one runs in its own process instead
BUSY_SECONDS = 1.0
_HEADER = struct.Struct("!I")  # a message's length, before its bytes
_OFF = ("0", "off", "no", "false")
_LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE",
           "RLIMIT_STACK")


def main(argv: list[str] | None = None) -> int:
    """Run one command: served where a server for this code answers, else here (and then a
    server is started for the next command)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    fp = fingerprint() if enabled() else ""  # once per command: it reads the package folder
    where, status = socket_path(fp), None
    if argv == ["--stop-server"]:
        return stop_server(where, fp)
    if where is not None:
        status = _served(where, argv, fp)
        if isinstance(status, int):
            return status
    with imports_frozen():
        from .cli import main as run_here

    code = run_here(argv)
    if where is not None and status is None:  # no server answered: start one for next time
        start_server(where, argv)
    # what is left is the interpreter's exit, whose last garbage collection walks every object
    # the build made, to free them a moment before the process ends anyway: ~0.09 s of a
    # 0.75 s build. Frozen objects are not walked (nor freed: the process is ending)
    gc.freeze()
    return code


def run() -> NoReturn:
    """The command line's entry (``python build.py``, ``python -m deck``, the ``deck``
    command): :func:`main`, then the process ends as mypy's command line ends
    (``util.hard_exit``), without tearing the interpreter down.

    Tearing down frees every module and object one by one a moment before the system frees
    the whole process anyway: about 20 ms of a 0.5 s cold build, after the decks are saved.
    Everything a build writes is written, closed and renamed into place before :func:`main`
    returns, and its folder lock released; the exit handlers still run (logging's flush,
    filelock's and Pillow's clean-ups) and standard output and error are flushed. Code that
    calls :func:`main` itself (the tests, a program) keeps the interpreter's normal exit."""
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed (cron, ">&-")
            continue
        with contextlib.suppress(OSError, ValueError):  # a closed stream, a broken pipe
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """Import the package's modules in the body, with the garbage collector off; then what
    they made is frozen: never walked by the collector again, in this process or the workers
    it forks.

    Importing the package and its libraries makes some 90,000 objects the collector tracks,
    all living as long as the process. With the collector on, it walked the young ones every
    700 new objects and all of them every so often, during the imports and the build after
    them: 0.61 -> 0.585 s for a cold build of both bundled decks (the few cycles the imports
    leave stay: no change in peak memory measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:  # (a caller that had it off keeps it off)
            gc.enable()


def enabled() -> bool:
    """Whether this system and environment allow the build server."""
    return (os.environ.get("DECK_SERVER", "").strip().lower() not in _OFF
            and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")
            and hasattr(os, "fork"))


def server_folder() -> str:
    """The folder the server's socket and log live in."""
    if os.environ.get("DECK_SERVER_DIR"):
        return os.environ["DECK_SERVER_DIR"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "deck")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "deck", "server")


def socket_path(fp: str | None = None) -> str | None:
    """The socket of the server for this code (``fp``: its :func:`fingerprint`, if known),
    or None where there is to be no server."""
    if not enabled():
        return None
    path = os.path.join(server_folder(), f"{_digest(fp or fingerprint())}.sock")
    return path if len(os.fsencode(path)) < 100 else None  # sun_path holds 104-108 bytes


def fingerprint() -> str:
    """What a server must share with a command to serve it: the package's files (name, size,
    time), where it is, the interpreter and its flags, and every folder imports come from
    (installing or removing a library changes its folder's time; a library edited in place is
    not seen: ``--stop-server`` after such an edit)."""
    here = os.path.dirname(os.path.abspath(__file__))
    parts = [here, sys.prefix, os.path.realpath(sys.executable), sys.version]
    with os.scandir(here) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith(".py"):
                st = entry.stat()
                parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    parts.append(repr((sys.flags, sys.warnoptions, getattr(sys, "_xoptions", {}))))
    # where libraries come from: the installation folders (installing or removing one changes
    # a folder's time) and the command's own PYTHONPATH (a server gets it passed on, after
    # the folder this package is in)
    extra = os.environ.get(_PYTHONPATH, os.environ.get("PYTHONPATH", ""))
    folders = [f for f in sys.path if f.endswith(("site-packages", "dist-packages"))]
    for folder in [*folders, *filter(None, extra.split(os.pathsep))]:
        try:
            parts.append(f"{folder}:{os.stat(folder).st_mtime_ns}")
        except OSError:
            parts.append(folder)
    return "\n".join(parts)


def _digest(text: str) -> str:
    import zlib

    data = text.encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def world() -> list[object]:
    """Which files this process's paths name: its mount namespace (Linux) and its root. A
    server elsewhere (a container, ``unshare``, a chroot) would build other files."""
    try:
        namespace: object = os.readlink("/proc/self/ns/mnt")
    except OSError:
        namespace = None
    try:
        root = os.stat("/")
        return [namespace, root.st_dev, root.st_ino]
    except OSError:
        return [namespace]


def limits() -> dict[str, list[int]]:
    """This process's resource limits, as a server compares them with its own."""
    try:
        import resource
    except ImportError:
        return {}
    return {name: list(resource.getrlimit(getattr(resource, name)))
            for name in _LIMITS if hasattr(resource, name)}


def private_folder(folder: str, create: bool = False) -> bool:
    """Whether ``folder`` is this user's own and nobody else may open it (made so if
    ``create``): a socket in any other folder could be someone else's."""
    if create:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            return False
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def send_message(sock: socket.socket, value: object, fds: list[int] | None = None) -> None:
    """One message (its length, then its JSON), with open files if given."""
    data = json.dumps(value).encode()
    data = _HEADER.pack(len(data)) + data
    if fds:
        data = data[socket.send_fds(sock, [data], fds):]
    if data:
        sock.sendall(data)


class Messages:
    """The messages arriving on a connection, in order: bytes read past one message are the
    start of the next (a reply and the status may arrive in one read)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self, max_fds: int = 0) -> tuple[object, list[int]]:
        """The next message and the open files that came with it (at most ``max_fds``);
        EOFError if the peer has gone first."""
        fds: list[int] = []
        while len(self.buffer) < _HEADER.size or len(self.buffer) < _HEADER.size + _length(
                self.buffer):
            if max_fds and not fds:
                chunk, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, max_fds)
            else:
                chunk = self.sock.recv(65536)
            if not chunk:
                for fd in fds:
                    os.close(fd)
                raise EOFError("the other end closed the connection")
            self.buffer += chunk
        end = _HEADER.size + _length(self.buffer)
        message, self.buffer = self.buffer[_HEADER.size:end], self.buffer[end:]
        return json.loads(message), fds


def _length(buffer: bytes) -> int:
    return _HEADER.unpack_from(buffer)[0] if len(buffer) >= _HEADER.size else 0


def streams() -> dict[str, object]:
    """How this process writes its standard output and error: a server serves a command
    only if it would write them alike (``PYTHONIOENCODING``, ``PYTHONUTF8``, locale)."""
    return {name: [getattr(stream, "encoding", None), getattr(stream, "errors", None)]
            for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr))}


def connect(path: str) -> socket.socket | None:
    if not private_folder(os.path.dirname(path)):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(BUSY_SECONDS)  # a full backlog would block it
    try:
        sock.connect(path)
    except (BlockingIOError, TimeoutError):  # a server, its queue full: busy (raised)
        sock.close()
        raise
    except OSError:  # no server, or a socket left by one that was killed
        sock.close()
        return None
    return sock


def _served(path: str, argv: list[str], fp: str) -> int | str | None:
    """The status of the command as the server ran it; ``"refused"`` if a server answered
    but left the command to this process, ``"busy"`` if it did not take it up in time; None
    if no server answered.

    The server runs a command only once told to go, after it has said it would: a command
    that gave up waiting has closed its connection by then, and is never run twice. The
    standard files travel with the go, not before: files in flight to a server that has not
    read them yet stay open, and whoever reads this command's output would wait for them."""
    try:
        sock = connect(path)
    except (BlockingIOError, TimeoutError):
        return "busy"
    if sock is None:
        return None
    with sock:
        mask = os.umask(0o022)
        os.umask(mask)
        try:
            request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                       "umask": mask, "limits": limits(), "fingerprint": fp,
                       "world": world(),
                       "streams": streams(),  # -u and PYTHONUNBUFFERED write through
                       "unbuffered": bool(getattr(sys.stdout, "write_through", False))}
            send_message(sock, request)
            messages = Messages(sock)
            reply, _ = messages.next()
        except TimeoutError:
            return "busy"
        except (OSError, EOFError, ValueError):  # a closed standard file, a folder deleted,
            return None  # a server gone: nothing was run, run it here
        if not isinstance(reply, dict) or "pid" not in reply:
            return "refused"
        sock.settimeout(None)
        try:
            send_message(sock, {"go": True}, [0, 1, 2])
        except OSError:  # a closed standard file: run it here
            return None
        return _wait(messages, int(reply["pid"]), path)


def _wait(messages: Messages, pid: int, path: str) -> int | str:
    """Wait for the served command's status, passing interrupts on to the server (those
    this process ignores, as under ``nohup``, stay ignored)."""
    def interrupt(_signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signal.SIGINT)
        except OSError:
            pass

    before = {}
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            before[sig] = signal.signal(sig, interrupt)
    try:
        reply, _ = messages.next()
    except (OSError, EOFError, ValueError):
        reply = None
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    if isinstance(reply, dict) and isinstance(reply.get("exit"), int):
        return reply["exit"]
    if isinstance(reply, dict) and "refused" in reply:  # it could not take our files
        return "refused"
    print("internal error: the build server stopped before the command ended (see "
          f"{os.path.join(os.path.dirname(path), 'server.log')}); run it "
          "again, or with DECK_SERVER=0 to build in this process", file=sys.stderr)
    return 1


def start_server(path: str, argv: list[str] | None = None) -> None:
    """Start a server for this code in the background, detached from this terminal; given
    the command that starts it (``argv``, run in this folder), the server builds that in
    memory first, so that the same command after an edit finds it warm."""
    if not private_folder(os.path.dirname(path), create=True):
        return
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env[_PYTHONPATH] = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.pop(WARM, None)
    try:  # in its environment, not its arguments: a process list shows those to everyone
        started_by = json.dumps([os.getcwd(), argv]) if argv is not None else ""
    except OSError:  # this folder is gone: nothing to warm up with
        started_by = ""
    if 0 < len(started_by) <= _WARM_CHARS:  # (a batch's names could pass what exec takes)
        env[WARM] = started_by
    try:
        subprocess.Popen([sys.executable, "-m", "deck.server", path], cwd="/", env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError:
        pass


def stop_server(path: str | None, fp: str) -> int:
    """``--stop-server``: ask this code's server to exit."""
    try:
        sock = connect(path) if path else None
    except (BlockingIOError, TimeoutError):
        print(f"the build server ({path}) is too busy to be reached; try again")
        return 1
    if sock is None:
        print("no build server is running for this code")
        return 0
    with sock:
        try:
            send_message(sock, {"stop": True, "fingerprint": fp})
            Messages(sock).next()
        except TimeoutError:  # it reads the request once its command has ended
            print(f"the build server ({path}) is running a command; it stops once that ends")
            return 0
        except (OSError, EOFError, ValueError):
            pass
    print(f"stopped the build server ({path})")
    return 0
