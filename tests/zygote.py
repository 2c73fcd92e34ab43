"""Run the command line many times, fast: a process that has imported ``deck`` once forks a
fresh child for each command, which sets its limits (``resource``: CPU seconds and address
space), runs ``deck.cli.main(args)`` exactly as ``python -m deck`` does after its imports, and
exits with its status. The parent sees the child's own peak memory (``wait4``) and wall time,
and can kill it at a given moment.

Forking a process that holds no threads and no state (the package keeps none outside a
build session) gives the same build as a new interpreter, without paying for the imports
again: the adversarial suite and the kill and concurrency loops run hundreds of commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SERVER = r'''
import json, os, resource, signal, sys, time, traceback
import deck.cli

def child(req):
    out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.chdir(req["cwd"])
    os.environ.update(req["env"])
    for name in req.get("unset", []):
        os.environ.pop(name, None)
    if req["memory"]:
        resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
    if req["seconds"]:
        resource.setrlimit(resource.RLIMIT_CPU, (req["seconds"], req["seconds"] + 1))
    if req.get("file_bytes"):  # a full disk: writing past it fails (EFBIG), as ENOSPC would
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (req["file_bytes"], req["file_bytes"]))
    code = 1
    try:
        if req.get("code"):
            exec(compile(req["code"], "<zygote child>", "exec"), {"args": req["args"]})
            code = 0
        else:
            code = deck.cli.main(req["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

started, finished = {}, {}

def reap():
    """Collect every child that has ended, with its end time (two may run at once)."""
    for pid in list(started):
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            finished[pid] = (status, usage, time.monotonic() - started.pop(pid))

for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "start":
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            child(req)
        started[pid] = time.monotonic()
        print(json.dumps({"pid": pid}), flush=True)
    elif req["op"] == "wait":
        pids, killed = req["pids"], False
        pid = pids[0]
        while True:
            reap()
            done = [p for p in pids if p in finished]
            if done:
                pid = done[0]
                break
            now = time.monotonic() - started[pid]
            if not killed and (req["kill_after"] is not None and now >= req["kill_after"]
                               or now >= req["timeout"]):
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(0.001)
        status, usage, seconds = finished.pop(pid)
        print(json.dumps({"pid": pid, "status": os.waitstatus_to_exitcode(status),
                          "killed": killed,
                          "seconds": seconds, "rss_bytes": usage.ru_maxrss * 1024}),
              flush=True)
'''


@dataclass(frozen=True)
class Outcome:
    status: int  # exit status; -9 when killed
    stdout: str
    stderr: str
    seconds: float
    rss_bytes: int
    killed: bool = False

    @property
    def first(self) -> str:
        """The message's first line: stderr's, or stdout's when the build printed no error."""
        lines = (self.stderr or self.stdout).splitlines()
        return lines[0] if lines else ""


class Zygote:
    """One server process; :meth:`start` forks a command, :meth:`wait` collects it."""

    def __init__(self, memory: int = 0, seconds: int = 0):
        self.memory, self.seconds = memory, seconds
        self._tmp = tempfile.TemporaryDirectory(prefix="zygote-")
        self._proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self._files: dict[int, tuple[Path, Path]] = {}
        self._count = 0

    def start(self, args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
              code: str | None = None, unset: tuple[str, ...] = (),
              file_bytes: int = 0) -> int:
        """Fork a child running the command line with ``args`` (or Python ``code``, given
        ``args``); returns its pid. ``file_bytes`` limits the size of any file it writes."""
        self._count += 1
        out = Path(self._tmp.name) / f"{self._count}.out"
        err = Path(self._tmp.name) / f"{self._count}.err"
        reply = self._ask({"op": "start", "args": args, "cwd": str(cwd), "env": env or {},
                           "unset": list(unset), "code": code, "stdout": str(out),
                           "stderr": str(err), "memory": self.memory, "seconds": self.seconds,
                           "file_bytes": file_bytes})
        self._files[reply["pid"]] = (out, err)
        return reply["pid"]

    def wait(self, pid: int, kill_after: float | None = None, timeout: float = 60) -> Outcome:
        """The child's outcome; it is killed (SIGKILL) ``kill_after`` seconds after it
        started, or at ``timeout``."""
        return self.wait_any([pid], kill_after, timeout)[1]

    def wait_any(self, pids: list[int], kill_after: float | None = None,
                 timeout: float = 60) -> tuple[int, Outcome]:
        """The first of ``pids`` to end, and its outcome (the first of them is killed at
        ``kill_after`` or ``timeout``)."""
        reply = self._ask({"op": "wait", "pids": pids, "kill_after": kill_after,
                           "timeout": timeout})
        pid = reply["pid"]
        out, err = self._files.pop(pid)
        return pid, Outcome(reply["status"], out.read_text("utf-8", "replace"),
                            err.read_text("utf-8", "replace"), reply["seconds"],
                            reply["rss_bytes"], reply["killed"])

    def run(self, args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
            timeout: float = 60) -> Outcome:
        return self.wait(self.start(args, cwd, env), timeout=timeout)

    def _ask(self, request: dict) -> dict:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self._proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._tmp.cleanup()
