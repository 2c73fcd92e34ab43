"""Jobs in forked children (deck/workers.py): results in job order, the same as run here;
bad input comes back as the same UserError, a crash as the same exception with the child's
traceback (a WorkerError where the exception cannot be sent)."""

from __future__ import annotations

import os

import pytest

from deck.diagnostics import Diagnostic, UserError
from deck.workers import Prestarted, WorkerError, run_jobs


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


class _Target:
    """What prestarted workers call: it remembers, per process, what its preparation did."""

    def __init__(self):
        self.prepared = None

    def prepare(self, fail: bool = False):
        if fail:
            raise RuntimeError("could not prepare")
        self.prepared = os.getpid()

    def work(self, i: int, size: int = 0):
        return i, os.getpid(), self.prepared, b"x" * size

    def echo(self, data: bytes) -> int:
        return len(data)

    def bad(self):
        raise UserError([Diagnostic("a.yaml", 3, "claims", "unknown source")])

    def die(self):
        os._exit(3)


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_prestarted_workers_prepare_then_serve_calls_in_order():
    target = _Target()
    pool = Prestarted(target, target.prepare, 2)
    try:
        results = pool.run([("work", (i, i * 300_000)) for i in range(5)], 2)
    finally:
        pool.close()
    assert [r[0] for r in results] == list(range(5))
    assert [len(r[3]) for r in results] == [i * 300_000 for i in range(5)]  # past a pipe's size
    assert all(pid != os.getpid() and prepared == pid for _, pid, prepared, _ in results)
    assert target.prepared is None and _no_children_left()  # prepared there, not here


def test_a_prestarted_worker_whose_preparation_failed_still_serves():
    target = _Target()
    pool = Prestarted(target, lambda: target.prepare(fail=True), 2)
    try:
        assert [r[2] for r in pool.run([("work", (1,))], 2)] == [None]
    finally:
        pool.close()
    assert _no_children_left()


def test_prestarted_workers_report_bad_input_and_deaths_as_run_jobs_does():
    target = _Target()
    pool = Prestarted(target, target.prepare, 2)
    try:
        with pytest.raises(UserError) as info:
            pool.run([("work", (1,)), ("bad", ())], 2)
    finally:
        pool.close()
    assert [str(d) for d in info.value.diagnostics] == ["a.yaml:3: claims: unknown source"]
    pool = Prestarted(target, target.prepare, 2)
    try:
        with pytest.raises(WorkerError, match="ended without a result"):
            pool.run([("die", ()), ("work", (2,))], 2)
    finally:
        pool.close()
    assert _no_children_left()


def test_prestarted_workers_never_given_calls_are_stopped():
    """A build whose inputs turn out bad stops the workers it started (still preparing)."""
    target = _Target()
    pool = Prestarted(target, lambda: __import__("time").sleep(30), 2)
    pool.close()
    assert _no_children_left()


@pytest.mark.parametrize("change, first", [
    (("schema: 1", "schema: 9"), "unsupported schema version"),
    (("template: briefing", "template: nowhere"), "outline template not found"),
])
def test_a_build_with_prestarted_workers_fails_as_one_without_and_leaves_none(
        tmp_path, change, first):
    """A build that forks its language processes before reading its inputs (jobs=2) reports
    bad input as a build that does not (jobs=1), and stops them: the outline a worker could
    not compile ahead is reported by the build."""
    from helpers import copy_bikeshare

    from deck.session import BuildRequest, BuildSession

    data = copy_bikeshare(tmp_path / "a")
    data.write_text(data.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    said = []
    for jobs in (1, 2):
        with pytest.raises(UserError) as info:
            BuildSession().build(BuildRequest(data, tmp_path / f"out{jobs}", jobs=jobs))
        said.append([str(d) for d in info.value.diagnostics])
        assert not (tmp_path / f"out{jobs}").exists()
    assert said[0] == said[1] and first in said[0][0]
    assert _no_children_left()


def test_a_one_language_build_with_two_prestarted_workers_gives_the_same_deck(tmp_path):
    from helpers import copy_bikeshare

    from deck.session import BuildRequest, BuildSession

    data = copy_bikeshare(tmp_path / "a")
    one, two = (BuildSession().build(BuildRequest(data, tmp_path / f"o{j}", jobs=j))
                for j in (1, 2))
    assert [d.data for d in one.decks] == [d.data for d in two.decks] and len(two.decks) == 1
    assert _no_children_left()


def test_fonts_measured_with_a_stand_in_in_the_language_processes_are_noted(tmp_path):
    """Each language is measured in a process of its own: the stand-ins it used come back
    with its deck, for the build's notes (they were lost with two languages)."""
    from helpers import ROOT, theme_with_font

    from deck.session import BuildRequest, BuildSession

    odd = theme_with_font(tmp_path, "Frobozz Sans")
    result = BuildSession().build(BuildRequest(ROOT / "assets" / "articles" /
                                               "deepseek-shock.yaml", tmp_path / "out",
                                               template=odd, jobs=2))
    assert len(result.decks) == 2
    assert [d.message for d in result.warnings if "Frobozz" in d.message] == [
        "font 'Frobozz Sans' measured with a stand-in that is not metric-compatible; text may "
        "fit less exactly"]


def test_workers_that_die_preparing_fail_the_call_once_not_forever():
    """A worker that dies before taking its call is replaced once; when the replacement dies
    too, the call fails (a worker error), rather than workers being forked for ever."""
    import signal

    def hung(_signum, _frame):
        raise TimeoutError("workers forked again and again")

    target = _Target()
    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)  # a loop would hang the test run: fail it instead
    try:
        pool = Prestarted(target, lambda: os._exit(1), 2)
        try:
            with pytest.raises(WorkerError):
                pool.run([("echo", (b"x" * 200_000,))], 2)  # an order past a pipe's size
        finally:
            pool.close()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert _no_children_left()
