"""Work spread over the machine's cores: each job runs in a forked child process and sends its
result back whole through a pipe.

Forking (POSIX) gives each child the parent's imported modules and everything it has already
read (the data file, the template, fonts), so a child starts working at once. A job's result
is a plain value; bad input raised in a child comes back as the same :class:`UserError`, any
other failure as the same exception (its child's traceback in a note), or as
:class:`WorkerError` carrying that traceback where the exception cannot be sent. Where
forking is not available, or there is one core or one job, the jobs simply run here, in
order: the results are the same either way.
"""

from __future__ import annotations

import os
import pickle
import select
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

from .diagnostics import UserError

T = TypeVar("T")


class WorkerError(RuntimeError):
    """A job failed in its child process for a reason other than bad input."""


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_jobs(jobs: Sequence[Callable[[], T]], workers: int | None = None,
             on_done: Callable[[int, T], None] | None = None) -> list[T]:
    """The results of ``jobs``, in order, computed by up to ``workers`` child processes at a
    time (default: one per core). ``on_done(index, result)`` is called here as each job
    succeeds, in the order they finish. Raises the first job's failure, in job order, once
    every job has ended."""
    workers = min(workers or cores(), len(jobs))
    if workers <= 1 or not hasattr(os, "fork"):
        results = []
        for index, job in enumerate(jobs):
            results.append(job())
            if on_done is not None:
                on_done(index, results[-1])
        return results
    outcomes: dict[int, tuple[str, object]] = {}
    running: dict[int, tuple[int, int, bytearray]] = {}  # fd -> (job index, pid, buffer)
    pending = list(enumerate(jobs))
    while pending or running:
        while pending and len(running) < workers:
            index, job = pending.pop(0)
            fd, pid = _start(job)
            running[fd] = (index, pid, bytearray())
        for index in _collect(running, outcomes):
            if on_done is not None and outcomes[index][0] == "ok":
                on_done(index, outcomes[index][1])  # type: ignore[arg-type]
    return [_result(outcomes[i]) for i in range(len(jobs))]


def _start(job: Callable[[], object]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send, leave without running the parent's cleanup
        os.close(read_fd)
        try:
            try:
                outcome: tuple[str, object] = ("ok", job())
            except UserError as exc:
                outcome = ("user", exc.diagnostics)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
                outcome = ("raised", (exc, traceback.format_exc()))
            try:
                data = pickle.dumps(outcome, protocol=5)
            except Exception:  # noqa: BLE001 - an exception that cannot travel: its traceback
                where = outcome[1][1] if outcome[0] == "raised" else traceback.format_exc()
                data = pickle.dumps(("error", where), protocol=5)
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_fd)
    return read_fd, pid


def _collect(running: dict[int, tuple[int, int, bytearray]],
             outcomes: dict[int, tuple[str, object]]) -> list[int]:
    """Read whatever the children have written; note each that has finished, and return
    their job indexes."""
    finished = []
    ready, _, _ = select.select(list(running), [], [])
    for fd in ready:
        index, pid, buffer = running[fd]
        chunk = os.read(fd, 1 << 20)
        if chunk:
            buffer.extend(chunk)
            continue
        os.close(fd)
        os.waitpid(pid, 0)
        del running[fd]
        finished.append(index)
        try:
            outcomes[index] = pickle.loads(bytes(buffer))
        except Exception:  # noqa: BLE001 - a child that died mid-write
            outcomes[index] = ("error", f"worker process {pid} ended without a result")
    return finished


def _result(outcome: tuple[str, object]):
    kind, value = outcome
    if kind == "ok":
        return value
    if kind == "user":
        raise UserError(value)  # type: ignore[arg-type]
    if kind == "raised":  # the child's own exception, raised again here with its traceback
        exc, where = value  # type: ignore[misc]
        exc.add_note(f"in a worker process:\n{where}")
        raise exc
    raise WorkerError(f"a worker failed:\n{value}")
