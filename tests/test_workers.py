"""Jobs in forked children (deck/workers.py): results in job order, the same as run here;
bad input comes back as the same UserError, a crash as the same exception with the child's
traceback (a WorkerError where the exception cannot be sent)."""

from __future__ import annotations

import os

import pytest

from deck.diagnostics import Diagnostic, UserError
from deck.workers import WorkerError, run_jobs


def test_results_come_back_in_job_order_from_other_processes():
    jobs = [lambda i=i: (i, os.getpid(), b"x" * (i * 300_000)) for i in range(5)]
    results = run_jobs(jobs, workers=2)
    assert [r[0] for r in results] == list(range(5))
    assert [len(r[2]) for r in results] == [i * 300_000 for i in range(5)]  # past a pipe's size
    assert all(pid != os.getpid() for _, pid, _ in results)
    assert [r[0] for r in run_jobs(jobs, workers=1)] == list(range(5))  # here, in order


def test_bad_input_in_a_child_is_the_same_user_error():
    def bad():
        raise UserError([Diagnostic("a.yaml", 3, "claims", "unknown source")])

    with pytest.raises(UserError) as info:
        run_jobs([lambda: 1, bad], workers=2)
    assert [str(d) for d in info.value.diagnostics] == ["a.yaml:3: claims: unknown source"]


def test_a_crash_in_a_child_is_raised_again_with_its_traceback():
    def crash():
        return {}["missing"]

    with pytest.raises(KeyError, match="missing") as info:
        run_jobs([crash, lambda: 2], workers=2)
    assert "in a worker process" in info.value.__notes__[0]
    assert "return {}[\"missing\"]" in info.value.__notes__[0]


class _Unsendable(Exception):
    def __init__(self, lock):
        super().__init__("cannot be pickled")
        self.lock = lock


def test_an_exception_that_cannot_be_sent_is_a_worker_error_with_its_traceback():
    import threading

    def crash():
        raise _Unsendable(threading.Lock())

    with pytest.raises(WorkerError, match="_Unsendable"):
        run_jobs([crash, lambda: 2], workers=2)


_served = []  # what one worker process has run so far (each worker has its own copy)


def _remember(i: int) -> tuple[int, list[int]]:
    _served.append(i)
    return os.getpid(), list(_served)


def test_a_worker_runs_job_after_job_and_keeps_what_it_computed():
    results = run_jobs([lambda i=i: _remember(i) for i in range(8)], workers=2)
    pids = {pid for pid, _ in results}
    assert len(pids) <= 2 and os.getpid() not in pids  # two processes served all eight
    for pid in pids:  # each worker's later jobs saw what its earlier ones left
        histories = sorted((seen for p, seen in results if p == pid), key=len)
        assert [len(h) for h in histories] == list(range(1, len(histories) + 1))
        assert all(h == histories[-1][: len(h)] for h in histories)
    assert _served == []  # nothing ran here


def test_a_worker_that_dies_fails_its_own_job_only():
    done = []
    jobs = [lambda i=i: os._exit(3) if i == 2 else i * 10 for i in range(6)]
    with pytest.raises(WorkerError, match="ended without a result"):
        run_jobs(jobs, workers=2, on_done=lambda i, r: done.append((i, r)))
    assert sorted(done) == [(i, i * 10) for i in range(6) if i != 2]  # the others all ran



def test_a_worker_killed_between_jobs_gives_its_next_job_to_another():
    """A worker that died while idle (killed from outside) cannot take its next order: the
    job goes back to the queue and another worker runs it; nothing is lost."""
    import signal
    import time

    from deck.workers import _Pool

    pool = _Pool([lambda: "done"], None)
    try:
        pool._spawn()
        [worker] = pool.workers.values()
        os.kill(worker.pid, signal.SIGKILL)
        time.sleep(0.2)  # gone: its end of the orders pipe is closed
        pool._assign(worker, pool.pending.pop(0))
        assert pool.pending == [0] and not pool.workers  # given back, the dead one retired
        pool.run(1)
    finally:
        pool.close()
    assert pool.outcomes == {0: ("ok", "done")}
