"""Work spread over the machine's cores: a few forked worker processes, each running job after
job for as long as there are jobs, and sending each result back whole through a pipe.

Forking (POSIX) gives each worker the parent's imported modules and everything it has already
read (the data file, the template, fonts), so it starts working at once; and a worker that
stays for the next job keeps what the last one computed (a batch's compiled outline
templates, measured fonts, written slides), as one process building job after job would. A
job's result is a plain value; bad input raised in a worker comes back as the same
:class:`UserError`, any other failure as the same exception (its worker's traceback in a
note), or as :class:`WorkerError` carrying that traceback where the exception cannot be sent.
A worker that dies fails only the job it was running; another takes its place. Where forking
is not available, or there is one core or one job, the jobs simply run here, in order: the
results are the same either way.
"""

from __future__ import annotations

import functools
import os
import pickle
import select
import signal
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

from .diagnostics import UserError

T = TypeVar("T")
_HEADER = 8  # a result's length, before its bytes


class WorkerError(RuntimeError):
    """A job failed in its worker process for a reason other than bad input."""


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_jobs(jobs: Sequence[Callable[[], T]], workers: int | None = None,
             on_done: Callable[[int, T], None] | None = None) -> list[T]:
    """The results of ``jobs``, in order, computed by up to ``workers`` worker processes
    (default: one per core), each taking the next job as it finishes one. ``on_done(index,
    result)`` is called here as each job succeeds, in the order they finish. Raises the first
    job's failure, in job order, once every job has ended."""
    workers = min(workers or cores(), len(jobs))
    if workers <= 1 or not hasattr(os, "fork"):
        results = []
        for index, job in enumerate(jobs):
            results.append(job())
            if on_done is not None:
                on_done(index, results[-1])
        return results
    pool = _Pool(jobs, on_done)
    try:
        pool.run(workers)
    finally:
        pool.close()
    return [_result(pool.outcomes[i]) for i in range(len(jobs))]


class Prestarted:
    """Worker processes forked before their jobs are known. Each first runs ``prepare``
    (imports, and what can be worked out ahead) while this process goes on, on another core:
    a build forks them before reading its inputs, and they import the writer and compile the
    outline meanwhile. Then each serves calls ``(method, args)`` on ``target`` (an object it has
    from the fork), sent to it pickled, as :func:`run_jobs`' workers serve jobs. What
    ``prepare`` fails to do, the call does itself (and reports)."""

    def __init__(self, target: object, prepare: Callable[[], None], workers: int) -> None:
        self._pool = _Pool([], None, serve=lambda orders, results: _serve_calls(
            target, prepare, orders, results), order=self._order)
        self._calls: list[bytes] = []
        try:
            for _ in range(workers):
                self._pool._spawn()
        except BaseException:  # an interrupt, or no fork: none of them left behind
            self.close()
            raise

    def run(self, calls: Sequence[tuple[str, tuple]], workers: int) -> list:
        """The results of ``calls``, in order (more calls than workers: in turn); failures
        raised as :func:`run_jobs` raises them."""
        self._calls = [pickle.dumps(call, protocol=5) for call in calls]
        self._pool.pending = list(range(len(calls)))
        self._pool.run(workers)
        return [_result(self._pool.outcomes[i]) for i in range(len(calls))]

    def _order(self, index: int) -> bytes:
        return len(self._calls[index]).to_bytes(_HEADER, "big") + self._calls[index]

    def close(self) -> None:
        """Every worker stopped (one still preparing included) and waited for."""
        for worker in list(self._pool.workers.values()):
            self._pool._retire(worker, kill=True)


def _serve_calls(target: object, prepare: Callable[[], None], orders: int,
                 results: int) -> None:
    """A prestarted worker: prepare, then run each call that arrives, until the orders end."""
    try:
        prepare()
    except Exception:  # noqa: BLE001 - what it could not prepare, its calls do themselves
        pass
    _serve(orders, results, functools.partial(_next_call, target))


def _next_call(target: object, inbox: BinaryIO) -> Callable[[], object] | None:
    """The next call sent to a prestarted worker (a method of ``target``), or None."""
    head = inbox.read(_HEADER)
    if len(head) != _HEADER:
        return None
    name, args = pickle.loads(inbox.read(int.from_bytes(head, "big")))
    return lambda: getattr(target, name)(*args)


@dataclass
class _Worker:
    pid: int
    orders: int  # where this process writes the index of the worker's next job
    results: int  # where it reads the worker's results
    job: int | None = None  # the job it is running
    buffer: bytearray = field(default_factory=bytearray)


class _Pool:
    """Worker processes serving ``jobs`` by index (each worker has them all, from the fork)."""

    def __init__(self, jobs: Sequence[Callable[[], object]],
                 on_done: Callable[[int, object], None] | None,
                 serve: Callable[[int, int], None] | None = None,
                 order: Callable[[int], bytes] | None = None) -> None:
        self.jobs, self.on_done = jobs, on_done
        # what a worker runs (given its ends of the two pipes), and the order that sends it
        # job ``index``: by default the job's index, the jobs being the worker's from the fork
        self.serve = serve or (lambda orders, results: _serve(
            orders, results, functools.partial(_next_job, self.jobs)))
        self.order = order or (lambda index: index.to_bytes(4, "big"))
        self.pending = list(range(len(jobs)))
        self.outcomes: dict[int, tuple[str, object]] = {}
        self.returned: dict[int, int] = {}  # jobs given back by a worker found gone
        self.workers: dict[int, _Worker] = {}  # by the fd its results arrive on

    def run(self, size: int) -> None:
        while self.pending or any(w.job is not None for w in self.workers.values()):
            idle = sum(w.job is None for w in self.workers.values())
            while len(self.workers) < size and idle < len(self.pending):
                self._spawn()
                idle += 1
            for worker in list(self.workers.values()):
                if worker.job is None and self.pending:
                    self._assign(worker, self.pending.pop(0))
            busy = [fd for fd, w in self.workers.items() if w.job is not None]
            if busy:  # (none: every order found its worker gone; new ones take them next)
                for fd in select.select(busy, [], [])[0]:
                    self._read(self.workers[fd])

    def _assign(self, worker: _Worker, index: int) -> None:
        """Send ``worker`` its next job; a worker found gone gives the job back."""
        try:
            order = memoryview(self.order(index))
            while order:  # a large order fills the pipe: it goes once the worker reads
                order = order[os.write(worker.orders, order):]
        except BrokenPipeError:  # it died between jobs (killed from outside), or preparing
            self._retire(worker)
            self.returned[index] = self.returned.get(index, 0) + 1
            if self.returned[index] > 1:  # its replacement died too: not again and again
                self.outcomes[index] = ("error", f"worker process {worker.pid} ended before "
                                        "it took its job, as did the one before it")
            else:
                self.pending.insert(0, index)
            return
        worker.job = index

    def _spawn(self) -> None:
        order_read, order_write = os.pipe()
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: serve, then leave without running the parent's cleanup
            try:
                # a terminate ends a worker as it ends a process, whatever its parent made of
                # it (the build server turns it into its own exit)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                for other in self.workers.values():  # the other workers' pipes are not ours
                    os.close(other.orders)
                    os.close(other.results)
                os.close(order_write)
                os.close(result_read)
                self.serve(order_read, result_write)
            finally:
                os._exit(0)
        os.close(order_read)
        os.close(result_write)
        self.workers[result_read] = _Worker(pid, order_write, result_read)

    def _read(self, worker: _Worker) -> None:
        chunk = os.read(worker.results, 1 << 20)
        if not chunk:  # the worker died (its job ended the process, or a signal)
            assert worker.job is not None
            self.outcomes[worker.job] = (
                "error", f"worker process {worker.pid} ended without a result")
            self._retire(worker)
            return
        worker.buffer += chunk
        if len(worker.buffer) < _HEADER:
            return
        size = int.from_bytes(worker.buffer[:_HEADER], "big")
        if len(worker.buffer) < _HEADER + size:
            return
        index, worker.job = worker.job, None
        assert index is not None
        try:
            self.outcomes[index] = pickle.loads(worker.buffer[_HEADER:_HEADER + size])
        except Exception:  # noqa: BLE001 - a result that cannot be read back
            self.outcomes[index] = ("error", traceback.format_exc())
        worker.buffer = bytearray()
        if self.on_done is not None and self.outcomes[index][0] == "ok":
            self.on_done(index, self.outcomes[index][1])

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        del self.workers[worker.results]
        os.close(worker.orders)  # its end of input: a waiting worker leaves
        os.close(worker.results)
        if kill:
            try:
                os.kill(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os.waitpid(worker.pid, 0)

    def close(self) -> None:
        """Every worker told there is no more work (killed if still busy: an interrupt) and
        waited for."""
        for worker in list(self.workers.values()):
            self._retire(worker, kill=worker.job is not None)


def _serve(orders: int, results: int,
           next_job: Callable[[BinaryIO], Callable[[], object] | None]) -> None:
    """A worker's loop: run each job ``next_job`` reads from the orders, send back its
    outcome, until the parent closes the orders pipe."""
    with os.fdopen(orders, "rb") as inbox, os.fdopen(results, "wb") as out:
        while (job := next_job(inbox)) is not None:
            data = _outcome(job)
            out.write(len(data).to_bytes(_HEADER, "big"))
            out.write(data)
            out.flush()


def _next_job(jobs: Sequence[Callable[[], object]], inbox: BinaryIO
              ) -> Callable[[], object] | None:
    """The next job of a :func:`run_jobs` worker (it has them all, from the fork): by index."""
    head = inbox.read(4)
    return jobs[int.from_bytes(head, "big")] if len(head) == 4 else None


def _outcome(job: Callable[[], object]) -> bytes:
    """A job's outcome, pickled: its result, its bad-input problems, or its failure."""
    try:
        outcome: tuple[str, object] = ("ok", job())
    except UserError as exc:
        outcome = ("user", exc.diagnostics)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = ("raised", (exc, traceback.format_exc()))
    try:
        return pickle.dumps(outcome, protocol=5)
    except Exception:  # noqa: BLE001 - an exception that cannot travel: its traceback
        where = outcome[1][1] if outcome[0] == "raised" else traceback.format_exc()
        return pickle.dumps(("error", where), protocol=5)


def _result(outcome: tuple[str, object]):
    kind, value = outcome
    if kind == "ok":
        return value
    if kind == "user":
        raise UserError(value)  # type: ignore[arg-type]
    if kind == "raised":  # the worker's own exception, raised again here with its traceback
        exc, where = value  # type: ignore[misc]
        exc.add_note(f"in a worker process:\n{where}")
        raise exc
    raise WorkerError(f"a worker failed:\n{value}")
