"""The build server (see :mod:`deck.launch`): ``python -m deck.server SOCKET``.

One process, started in the background by a command that found none, holding the package
imported and one :class:`~deck.session.BuildSession` per cache folder. It runs the commands
sent to it one at a time, each exactly as ``python build.py`` would in the sender's folder,
environment, umask and standard files, and sends back the exit status. Between commands it
holds none of the sender's files open. It exits after ``$DECK_SERVER_IDLE`` seconds without a
command, when asked to (``--stop-server``), when another server has taken its socket's name,
or on SIGTERM; it removes its socket as it goes.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import launch

_LOG_BYTES = 1 << 20  # server.log starts over past this size


class _Stop(BaseException):
    """SIGTERM: leave the loop, removing the socket (a BaseException: no command's own
    handler takes it for one of its errors)."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0]
    folder = os.path.dirname(path)
    if not launch.private_folder(folder):  # made by the command that started this one;
        return 2  # gone since (a test's folder removed): nobody would ever connect
    code = launch.fingerprint()  # before importing: an edit made meanwhile is seen as one
    with launch.imports_frozen():
        from . import check, cli, writer  # noqa: F401  (everything a build imports, once)

    log = _Log(os.path.join(folder, "server.log"))
    listener = _listen(path)
    if listener is None:
        return 0  # another server took the name first
    idle = float(os.environ.get("DECK_SERVER_IDLE") or launch.IDLE_SECONDS)
    own = os.stat(path).st_ino
    signal.signal(signal.SIGTERM, _stop)
    log.write(f"started, pid {os.getpid()}, serving {path}")
    server = _Server(cli.main, cli.servable, code, log)
    try:
        started_by = os.environ.pop(launch.WARM, None)
        if started_by:  # the command that started it: built in memory while it listens
            log.write(_warm(started_by, server.sessions, cli.warm))
        log.write("ready")
        _loop(listener, path, own, idle, server)
    except _Stop:
        log.write("stopped by SIGTERM")
    finally:
        listener.close()
        _remove(path, own)
    return 0


def _warm(started_by: str, sessions: dict, warm: Callable[..., str]) -> str:
    """The build of the command that started the server (``started_by``: its folder and
    arguments, as JSON), made in memory in that folder (commands arriving meanwhile wait, as
    for any command)."""
    import json

    t0 = time.perf_counter()
    try:
        folder, argv = json.loads(started_by)
        os.chdir(folder)
    except (ValueError, TypeError, OSError) as exc:
        return f"nothing to warm up: {exc}"
    try:
        said = warm(argv, sessions)
    finally:
        os.chdir("/")
    return f"{said} ({time.perf_counter() - t0:.3f} s)"


def _stop(_signum: int, _frame: object) -> None:
    raise _Stop


def _listen(path: str) -> socket.socket | None:
    """A socket listening at ``path``: bound under a name of its own, then renamed over
    ``path`` (a socket left by a killed server included) unless a live server answers there."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(launch.BUSY_SECONDS)
    try:
        probe.connect(path)
        return None
    except (BlockingIOError, TimeoutError):  # a live server, too busy to take it
        return None
    except OSError:
        pass
    finally:
        probe.close()
    temporary = f"{path}.{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(temporary)
    listener.listen(64)
    os.rename(temporary, path)
    return listener


def _remove(path: str, own: int) -> None:
    try:
        if os.stat(path).st_ino == own:
            os.unlink(path)
    except OSError:
        pass


def _loop(listener: socket.socket, path: str, own: int, idle: float,
          server: _Server) -> None:
    last = time.monotonic()
    while True:
        try:
            ready, _, _ = select.select([listener], [], [], min(5.0, idle))
            if time.monotonic() - last >= idle:
                server.log.write(f"idle for {idle:g} s: exiting")
                return
            if not ready:
                if _taken(path, own):
                    server.log.write("another server took the socket: exiting")
                    return
                if launch.fingerprint() != server.fingerprint:  # commands now go elsewhere
                    server.log.write("the code it runs has changed: exiting")
                    return
                continue
            conn, _ = listener.accept()
            with conn:
                try:
                    outcome = server.handle(conn)
                except Exception:  # a bug here must not end the server for the next command
                    server.log.write("failed: " + traceback.format_exc().replace("\n", " | "))
                    outcome = "ran"
            if outcome == "stop":
                server.log.write("stopped by --stop-server")
                return
            if outcome == "ran":  # a connection that asked for nothing keeps nobody waiting
                last = time.monotonic()
        except KeyboardInterrupt:  # an interrupt passed on after its command had ended
            continue


def _taken(path: str, own: int) -> bool:
    try:
        return os.stat(path).st_ino != own
    except OSError:
        return True


class _Log:
    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, line: str) -> None:
        try:
            if os.path.exists(self.path) and os.path.getsize(self.path) > _LOG_BYTES:
                os.replace(self.path, self.path + ".1")
            with open(self.path, "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        except OSError:
            pass


class _Server:
    """Runs one command per connection, in the sender's setting."""

    def __init__(self, run: Callable[..., int], servable: Callable[[Any], bool],
                 fingerprint: str, log: _Log) -> None:
        self.run, self.servable = run, servable
        self.fingerprint = fingerprint
        self.log = log
        self.sessions: dict[Any, Any] = {}

    def handle(self, conn: socket.socket) -> str | None:
        """Take one connection: ``"stop"``, ``"ran"`` (a command ran), or None (nothing ran
        here: refused, handed back, or a peer that went away)."""
        messages = launch.Messages(conn)
        conn.settimeout(10)  # a connection that never says anything holds nobody up
        try:
            request, _ = messages.next()
            why = self._refusal(conn, request)
            if why:
                self._refuse(conn, why)
                return None
            if request.get("stop"):
                try:
                    launch.send_message(conn, {"stopping": True})
                except OSError:  # it did not wait to hear it: stop all the same
                    pass
                return "stop"
            launch.send_message(conn, {"pid": os.getpid()})
            go, fds = messages.next(max_fds=3)
        except (OSError, EOFError, ValueError):  # gave up waiting, or killed
            self.log.write("a command went away before it ran")
            return None
        conn.settimeout(None)
        try:
            if not isinstance(go, dict) or not go.get("go"):
                return None
            if len(fds) != 3:  # its files did not all arrive (this process's file limit?)
                self._refuse(conn, "its standard files did not arrive")
                return None
            return self._command(conn, request, fds)
        except OSError:  # killed meanwhile
            return None
        finally:
            for fd in fds:
                os.close(fd)

    def _refuse(self, conn: socket.socket, why: str) -> None:
        self.log.write(f"left to the command itself: {why}")
        launch.send_message(conn, {"refused": why})

    def _command(self, conn: socket.socket, request: dict[str, Any],
                 fds: list[int]) -> str | None:
        """Run the command in the sender's setting; tell it the status."""
        t0 = time.perf_counter()
        try:
            saved = _Setting.enter(request, fds)
        except OSError as exc:  # its folder is not there for this process: run it there
            self._refuse(conn, str(exc))
            return None
        try:
            with _Hangup(conn):
                code = self._status(request["argv"])
        finally:
            saved.leave()
        shown = " ".join(a.replace("\\", "\\\\").replace("\n", "\\n") for a in request["argv"])
        self.log.write(f"{code} {time.perf_counter() - t0:.3f} s {request['cwd']}: {shown}")
        try:
            launch.send_message(conn, {"exit": code})
        except OSError:  # killed meanwhile: nothing to tell it
            pass
        return "ran"

    def _refusal(self, conn: socket.socket, request: Any) -> str | None:
        if not isinstance(request, dict):
            return "not a request"
        if hasattr(socket, "SO_PEERCRED"):
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                return "another user"
        if request.get("fingerprint") != self.fingerprint:
            return "other code"
        if request.get("stop"):
            return None
        if request.get("limits") != launch.limits():
            return "other resource limits"
        if request.get("streams") != launch.streams():
            return "output written in another encoding"
        if request.get("world") != launch.world():
            return "another mount namespace or root: its paths name other files here"
        if not self.servable(request.get("argv")):
            return "--watch runs in its own process"
        return None

    def _status(self, argv: list[str]) -> int:
        try:
            return self.run(argv, sessions=self.sessions)
        except SystemExit as exc:  # --help, a bad argument
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except KeyboardInterrupt:  # outside a build (--preview): as Python itself reports it
            traceback.print_exc()
            return 130
        except Exception:  # the command's own report failed: say so, as a traceback would
            traceback.print_exc()
            return 1


class _Setting:
    """The server's own standard files (descriptors and Python's streams), folder,
    environment and umask, set aside while a command runs in the sender's. Interrupts wait
    while they are swapped: one landing half way would leave a sender's file open here."""

    def __init__(self, files: list[int], streams: tuple[Any, Any, Any],
                 environ: dict[str, str], mask: int) -> None:
        self.files, self.streams, self.environ, self.mask = files, streams, environ, mask

    @classmethod
    def enter(cls, request: dict[str, Any], fds: list[int]) -> _Setting:
        with _interrupts_held():
            _flush()
            saved = cls([os.dup(n) for n in (0, 1, 2)], (sys.stdin, sys.stdout, sys.stderr),
                        dict(os.environ), os.umask(int(request["umask"])))
            try:
                for n, fd in enumerate(fds):
                    os.dup2(fd, n)
                # as a new interpreter would: stdout line by line on a terminal, stderr line
                # by line always, both unbuffered under PYTHONUNBUFFERED or -u
                unbuffered = bool(request.get("unbuffered"))
                sys.stdout.reconfigure(line_buffering=sys.stdout.isatty(),
                                       write_through=unbuffered)
                sys.stderr.reconfigure(line_buffering=True, write_through=unbuffered)
                os.environ.clear()
                os.environ.update(request["env"])
                if hasattr(time, "tzset"):
                    time.tzset()
                os.chdir(request["cwd"])
            except BaseException:
                saved._restore()
                raise
        return saved

    def leave(self) -> None:
        with _interrupts_held():
            self._restore()

    def _restore(self) -> None:
        sys.stdin, sys.stdout, sys.stderr = self.streams  # a command may have replaced them
        _flush()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=False, write_through=False)
            except (OSError, ValueError):
                pass
        os.chdir("/")
        os.environ.clear()
        os.environ.update(self.environ)
        if hasattr(time, "tzset"):
            time.tzset()
        os.umask(self.mask)
        for n, fd in enumerate(self.files):
            os.dup2(fd, n)
            os.close(fd)


class _Hangup:
    """``with _Hangup(conn):`` a command whose sender goes away (killed, its terminal
    closed) is interrupted, as it would have been in its own process, instead of building on
    for nobody. A thread watches the connection, on which nothing else arrives meanwhile, and
    interrupts the server with a real SIGINT (held, like any, while the files are swapped)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.done = threading.Event()
        self.wake = os.pipe()  # written when the command ends: the watch stops at once
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        os.write(self.wake[1], b"x")
        self.thread.join()
        for fd in self.wake:
            os.close(fd)

    def _watch(self) -> None:
        if hasattr(signal, "pthread_sigmask"):  # the SIGINT is for the main thread
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while not self.done.is_set():
            ready, _, _ = select.select([self.conn, self.wake[0]], [], [])
            if self.done.is_set() or self.conn not in ready:
                continue
            try:
                gone = not self.conn.recv(1, socket.MSG_PEEK)
            except OSError:
                gone = True
            if gone:
                os.kill(os.getpid(), signal.SIGINT)
                return
            self.done.wait(0.2)


class _interrupts_held:
    """``with _interrupts_held():`` SIGINT and SIGTERM wait until the block has ended."""

    _SIGNALS = {signal.SIGINT, signal.SIGTERM}

    def __enter__(self) -> None:
        if hasattr(signal, "pthread_sigmask"):
            self.before = signal.pthread_sigmask(signal.SIG_BLOCK, self._SIGNALS)

    def __exit__(self, *_exc: object) -> None:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_SETMASK, self.before)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    sys.exit(main())
