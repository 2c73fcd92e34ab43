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
results are the same either way. Where there are no more jobs than workers, this process
runs the last job itself, as one of them (unless told not to: a batch reports each article
as it finishes, which this process cannot do while it runs one); a job run here that ends
the process (a crash in a library's C code, an out-of-memory kill) ends the command, as it
does where every job runs here. :class:`Background` runs one job in a process of its own
while this one goes on (a build reads its inputs so, while it imports the writer; POSIX).
Within :func:`exits_waited`, workers done with their jobs are waited for at the end of the
block rather than at once.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import msgspec

from .diagnostics import UserError

T = TypeVar("T")
_HEADER = 8  # a result's length, before its bytes


class WorkerError(RuntimeError):
    """A job failed in its worker process for a reason other than bad input."""


#: inside :func:`exits_waited`: the workers told to leave, not yet waited for
_leaving: list[int] | None = None


@contextlib.contextmanager
def exits_waited() -> Iterator[None]:
    """Within the block, the workers of :func:`run_jobs` that are done with their jobs are
    told to leave, and waited for only when the block ends: their exits (the system freeing
    a language process's memory, some 7 ms) go on while this process goes on (a build saves
    its decks). Every one of them has ended when the block has; a worker stopped in the
    middle of a job (an interrupt) is waited for at once, as outside the block."""
    global _leaving
    outer, _leaving = _leaving, []
    try:
        yield
    finally:
        pids, _leaving = _leaving, outer
        _wait_all(pids)


def _wait_all(pids: list[int]) -> None:
    """Wait for every one of ``pids`` (each told to leave, or stopped: a short wait); an
    interrupt meanwhile is raised once all are waited for, never leaving one behind."""
    interrupted: BaseException | None = None
    for pid in pids:
        while True:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # (waited for elsewhere already)
                pass
            except KeyboardInterrupt as exc:
                interrupted = exc
                continue
            break
    if interrupted is not None:
        raise interrupted


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def runs_here(jobs: int, workers: int | None = None, here: bool = True) -> int | None:
    """Which of ``jobs`` jobs :func:`run_jobs` runs in this process while forked workers run
    the others (the last, where there are no more jobs than workers), or None."""
    workers = min(workers or cores(), jobs)
    if not here or workers <= 1 or not hasattr(os, "fork") or jobs > workers:
        return None
    return jobs - 1


def run_jobs(jobs: Sequence[Callable[[], T]], workers: int | None = None,
             on_done: Callable[[int, T], None] | None = None,
             meanwhile: Callable[[], object] | None = None, here: bool = True) -> list[T]:
    """The results of ``jobs``, in order, computed by up to ``workers`` worker processes
    (default: one per core), each taking the next job as it finishes one. ``on_done(index,
    result)`` is called here as each job's result comes in. Raises the first job's failure,
    in job order, once every job has ended.

    Where there are no more jobs than workers (a build's languages), this process is one of
    the workers: it runs the last job itself while the forked ones run the others. That is one
    fork fewer, and its job pays nothing for copy-on-write (a forked language process pays
    for every page of this one it writes: 12-15 ms of a 0.5 s cold build, measured). A
    failure of its job is raised as it was raised (no worker's traceback to add). ``here``
    False keeps every job in a worker, so that ``on_done`` hears of each as it finishes.
    ``meanwhile()`` runs here once this process's own job is done (or the jobs are handed
    out), while the workers finish theirs: a build imports what saving its decks needs."""
    workers = min(workers or cores(), len(jobs))
    if workers <= 1 or not hasattr(os, "fork"):
        results = []
        for index, job in enumerate(jobs):
            results.append(job())
            if on_done is not None:
                on_done(index, results[-1])
        if meanwhile is not None:
            meanwhile()
        return results
    pool = _Pool(jobs, on_done)
    try:
        if runs_here(len(jobs), workers, here) is not None:
            pool.run_last_here(workers - 1)
        else:
            pool.start(workers)
        if meanwhile is not None:
            meanwhile()
        pool.run(workers)
    finally:
        pool.close()
    return [_result(pool.outcomes[i]) for i in range(len(jobs))]


class Background:
    """One job run in a forked process while this one goes on (POSIX: a build uses it only
    where it can fork): :meth:`result` waits for it and gives its result, or raises its
    failure, as :func:`run_jobs` would. Always :meth:`close` it: a job not done (its result
    never asked for, or the wait for it interrupted) is stopped, and the process waited for."""

    def __init__(self, job: Callable[[], T]) -> None:
        self._outcome: tuple[str, object] | None = None
        read, write = os.pipe()

        def child() -> None:  # its outcome down the pipe
            os.close(read)
            data = _outcome(job)
            with os.fdopen(write, "wb") as out:
                out.write(data)

        try:
            self._pid: int | None = _fork(child)
        except BaseException:
            os.close(read)
            os.close(write)
            raise
        os.close(write)
        self._read: int | None = read  # where its outcome arrives, until it has

    def result(self) -> T:
        if self._outcome is None:
            # the pipe is taken first: an interrupt while it is read leaves none to close
            fd, self._read = self._read, None
            if fd is None:
                raise WorkerError("the background job was stopped before its result")
            with os.fdopen(fd, "rb") as inbox:  # to its end: the process is done
                data = inbox.read()
            try:
                self._outcome = pickle.loads(data) if data else (
                    "error", f"process {self._pid} ended without a result")
            except Exception:  # noqa: BLE001 - a result that cannot be read back
                self._outcome = ("error", traceback.format_exc())
        return _result(self._outcome)

    def close(self) -> None:
        if self._read is not None:
            os.close(self._read)
            self._read = None
        if self._pid is not None:
            if self._outcome is None:  # not done, or not waited for: stopped
                try:
                    os.kill(self._pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            pid, self._pid = self._pid, None
            _wait_all([pid])


def _fork(child: Callable[[], None]) -> int:
    """A process forked to run ``child``, then leave without running this one's cleanup; its
    pid. A terminate ends it as it ends any process, whatever this one made of it (the build
    server turns it into its own exit)."""
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            child()
        finally:
            os._exit(0)
    return pid


class _Worker(msgspec.Struct):
    pid: int
    orders: int  # where this process writes the index of the worker's next job
    results: int  # where it reads the worker's results
    job: int | None = None  # the job it is running
    buffer: bytearray = msgspec.field(default_factory=bytearray)


class _Pool:
    """Worker processes serving ``jobs`` by index (each worker has them all, from the fork)."""

    def __init__(self, jobs: Sequence[Callable[[], object]],
                 on_done: Callable[[int, object], None] | None) -> None:
        self.jobs, self.on_done = jobs, on_done
        self.pending = list(range(len(jobs)))
        self.outcomes: dict[int, tuple[str, object]] = {}
        self.returned: dict[int, int] = {}  # jobs given back by a worker found gone
        self.workers: dict[int, _Worker] = {}  # by the fd its results arrive on

    def run(self, size: int) -> None:
        """Every job run by up to ``size`` workers, and its outcome in."""
        while self.pending or self._busy():
            self.start(size)
            busy = self._busy()
            if busy:  # (none: every order found its worker gone; new ones take them next)
                for fd in select.select(busy, [], [])[0]:
                    self._read(self.workers[fd])

    def start(self, size: int) -> None:
        """Workers forked, up to ``size``, as there are jobs waiting; each idle one given a
        job."""
        idle = sum(w.job is None for w in self.workers.values())
        while len(self.workers) < size and idle < len(self.pending):
            self._spawn()
            idle += 1
        for worker in list(self.workers.values()):
            if worker.job is None and self.pending:
                self._assign(worker, self.pending.pop(0))

    def run_last_here(self, size: int) -> None:
        """The last job run in this process, while up to ``size`` workers start on the
        others (its outcome in as theirs come in: a failure kept to be raised in job
        order; an interrupt raised at once)."""
        last = self.pending.pop()
        self.start(size)
        try:
            self.outcomes[last] = ("ok", self.jobs[last]())
        except Exception as exc:  # noqa: BLE001 - raised in job order, once all have ended
            self.outcomes[last] = ("here", exc)
            return
        if self.on_done is not None:
            self.on_done(last, self.outcomes[last][1])

    def _busy(self) -> list[int]:
        return [fd for fd, w in self.workers.items() if w.job is not None]

    def _assign(self, worker: _Worker, index: int) -> None:
        """Send ``worker`` its next job; a worker found gone gives the job back."""
        try:
            os.write(worker.orders, index.to_bytes(4, "big"))
        except BrokenPipeError:  # it died between jobs (killed from outside)
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

        def child() -> None:  # the worker: its own pipes only, then serve
            for other in self.workers.values():
                os.close(other.orders)
                os.close(other.results)
            os.close(order_write)
            os.close(result_read)
            _serve(order_read, result_write, self.jobs)

        pid = _fork(child)
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
        if _leaving is None or kill:
            _wait_all([worker.pid])
        else:  # (its orders closed: it leaves by itself)
            _leaving.append(worker.pid)

    def close(self) -> None:
        """Every worker told there is no more work (killed if still busy: an interrupt) and
        waited for."""
        for worker in list(self.workers.values()):
            self._retire(worker, kill=worker.job is not None)


def _serve(orders: int, results: int, jobs: Sequence[Callable[[], object]]) -> None:
    """A worker's loop: run each job whose index arrives on the orders (it has them all, from
    the fork), send back its outcome, until the parent closes the orders pipe."""
    with os.fdopen(orders, "rb") as inbox, os.fdopen(results, "wb") as out:
        while len(head := inbox.read(4)) == 4:
            data = _outcome(jobs[int.from_bytes(head, "big")])
            out.write(len(data).to_bytes(_HEADER, "big"))
            out.write(data)
            out.flush()


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
    if kind == "here":  # this process's own job's exception, as it was raised
        raise value  # type: ignore[misc]
    if kind == "raised":  # the worker's own exception, raised again here with its traceback
        exc, where = value  # type: ignore[misc]
        exc.add_note(f"in a worker process:\n{where}")
        raise exc
    raise WorkerError(f"a worker failed:\n{value}")
