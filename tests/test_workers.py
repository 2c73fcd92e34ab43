"""Jobs in forked children (deck/workers.py): results in job order, the same as run here;
bad input comes back as the same UserError, a crash as the same exception with the child's
traceback (a WorkerError where the exception cannot be sent)."""

from __future__ import annotations

import os

import pytest

from deck.diagnostics import Diagnostic, UserError
from deck.workers import Background, WorkerError, run_jobs


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
        run_jobs([bad, lambda: 1], workers=2)
    assert [str(d) for d in info.value.diagnostics] == ["a.yaml:3: claims: unknown source"]


def test_with_no_more_jobs_than_workers_this_process_runs_the_last():
    """One fork fewer: the last job runs here while forked workers run the others."""
    pids = run_jobs([lambda: os.getpid() for _ in range(3)], workers=3)
    assert pids[-1] == os.getpid()
    assert len(set(pids)) == 3
    assert _no_children_left()


def test_a_failure_of_the_job_run_here_is_raised_as_it_was_in_job_order():
    def crash_there():
        return {}["missing"]

    def crash_here():
        raise ValueError("here")

    with pytest.raises(ValueError, match="here") as info:
        run_jobs([lambda: 1, crash_here], workers=2)
    assert not getattr(info.value, "__notes__", None)  # no worker's traceback: it is this one
    with pytest.raises(UserError):
        run_jobs([lambda: 1, lambda: (_ for _ in ()).throw(
            UserError([Diagnostic("a.yaml", 3, "claims", "unknown source")]))], workers=2)
    with pytest.raises(KeyError):  # the first failure in job order, the worker's
        run_jobs([crash_there, crash_here], workers=2)
    assert _no_children_left()


def test_told_not_to_this_process_runs_no_job_and_hears_of_each_as_it_finishes():
    """A batch's lines come as its articles finish: with here=False every job runs in a
    worker, and on_done hears of the quick one while the slow one still runs."""
    import time

    heard = []
    pids = run_jobs([lambda: (time.sleep(0.5), os.getpid())[1], lambda: os.getpid()],
                    workers=2, on_done=lambda i, _r: heard.append(i), here=False)
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert heard == [1, 0]


def test_meanwhile_runs_here_while_the_workers_finish():
    """What a build does while its language processes finish (import what saving needs):
    after this process's own job, before the workers' results are in."""
    import time

    seen = []
    ends = run_jobs([lambda: (time.sleep(0.5), time.monotonic())[1], lambda: 0.0],
                    workers=2, meanwhile=lambda: seen.append((os.getpid(), time.monotonic())))
    assert [pid for pid, _ in seen] == [os.getpid()]
    assert seen[0][1] < ends[0]  # before the worker was done
    assert run_jobs([lambda: 1], workers=2, meanwhile=lambda: seen.append(1)) == [1]
    assert seen[-1] == 1  # (run here, the job too)


def test_an_interrupt_in_the_job_run_here_stops_the_workers():
    import time

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_jobs([lambda: time.sleep(30), interrupted], workers=2)
    assert _no_children_left()  # the worker stopped and waited for, not left sleeping


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


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_background_job_runs_in_another_process_while_this_one_goes_on():
    import time

    here = os.getpid()
    job = Background(lambda: (os.getpid(), b"x" * 300_000))  # past a pipe's size
    try:
        time.sleep(0.05)  # (this process goes on)
        pid, data = job.result()
        assert pid != here and len(data) == 300_000
        assert job.result()[0] == pid  # asked again: the same, not run again
    finally:
        job.close()
    assert _no_children_left()


def test_a_background_job_fails_as_run_jobs_fails():
    def bad():
        raise UserError([Diagnostic("a.yaml", 3, "claims", "unknown source")])

    def crash():
        return {}["missing"]

    for job, raised in ((bad, UserError), (crash, KeyError),
                        (lambda: os._exit(3), WorkerError)):
        background = Background(job)
        try:
            with pytest.raises(raised) as info:
                background.result()
        finally:
            background.close()
        if raised is UserError:
            assert [str(d) for d in info.value.diagnostics] == [
                "a.yaml:3: claims: unknown source"]
        if raised is KeyError:
            assert "in a worker process" in info.value.__notes__[0]
    assert _no_children_left()


def test_a_background_job_whose_result_is_not_wanted_is_stopped():
    """A build interrupted while its inputs are read leaves no process reading them."""
    import time

    job = Background(lambda: time.sleep(30))
    started = time.monotonic()
    job.close()
    assert time.monotonic() - started < 10 and _no_children_left()


def test_an_interrupt_while_waiting_for_a_background_job_stays_an_interrupt():
    """Ctrl-C while a build waits for its inputs: the interrupt comes through (not an error
    closing the pipe twice) and the process reading them is stopped."""
    import signal
    import time

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGALRM, interrupt)
    job = Background(lambda: time.sleep(30))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            try:
                job.result()
            finally:
                job.close()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    assert _no_children_left()
    with pytest.raises(WorkerError, match="stopped"):
        job.result()


@pytest.mark.parametrize("change, first", [
    (("schema: 1", "schema: 9"), "unsupported schema version"),
    (("template: briefing", "template: nowhere"), "outline template not found"),
])
def test_a_build_reading_its_inputs_ahead_fails_as_one_without_and_leaves_none(
        tmp_path, monkeypatch, change, first):
    """A build that reads its inputs in a process of its own while it imports the writer and
    compiles the outline (jobs=2, in a fresh process) reports bad input as a build that does
    not (jobs=1), and leaves no process behind: the outline it could not compile ahead is
    reported by the build."""
    from helpers import copy_bikeshare

    from deck import session
    from deck.session import BuildRequest, BuildSession

    monkeypatch.setattr(session, "_writer_imported", lambda: False)  # as a fresh process

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


def test_a_build_reading_its_inputs_ahead_gives_the_same_decks(tmp_path, monkeypatch):
    """Two languages or one, inputs read ahead or here: the same bytes."""
    from helpers import ROOT, copy_bikeshare

    from deck import session
    from deck.session import BuildRequest, BuildSession

    ahead = []
    read = BuildSession._read_ahead
    monkeypatch.setattr(session, "_writer_imported", lambda: False)  # as a fresh process
    monkeypatch.setattr(BuildSession, "_read_ahead",
                        lambda self, r: ahead.append(read(self, r)) or ahead[-1])
    for data, langs in ((ROOT / "assets" / "articles" / "deepseek-shock.yaml", 2),
                        (copy_bikeshare(tmp_path / "a"), 1)):
        one, two = (BuildSession().build(BuildRequest(data, tmp_path / f"{langs}-{j}", jobs=j))
                    for j in (1, 2))
        assert [d.data for d in one.decks] == [d.data for d in two.decks]
        assert len(two.decks) == langs
    assert [a is not None for a in ahead] == [False, True] * 2  # read here, then ahead
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


def test_only_the_process_reading_the_inputs_searches_the_font_folders(monkeypatch, tmp_path):
    """The template's font files are found once, while the inputs are read, and handed on:
    neither the build process nor its language processes search the system's font folders
    again (5 ms each, for the bundled theme's fonts, which are not installed here)."""
    from helpers import ROOT, pids_calling

    from deck import measure, session, workers
    from deck.session import BuildRequest, BuildSession

    monkeypatch.setattr(session, "_writer_imported", lambda: False)  # as a fresh process
    searched = pids_calling(monkeypatch, measure, "_safe_glob", tmp_path / "searched")
    monkeypatch.setattr(workers, "cores", lambda: 2)
    result = BuildSession().build(BuildRequest(ROOT / "assets" / "articles" /
                                               "deepseek-shock.yaml", tmp_path / "out",
                                               jobs=2))
    assert len(result.decks) == 2
    searchers = set(searched())
    assert len(searchers) == 1 and str(os.getpid()) not in searchers


def test_a_job_whose_workers_keep_dying_fails_once_given_back_twice():
    """A worker found dead when given its job gives it back, once; when the replacement is
    found dead too, the job fails (a worker error) rather than workers being forked for
    ever."""
    import signal
    import time

    from deck.workers import _Pool

    pool = _Pool([lambda: "done"], None)
    try:
        for _ in range(2):
            pool._spawn()
            [worker] = pool.workers.values()
            os.kill(worker.pid, signal.SIGKILL)
            time.sleep(0.2)
            pool._assign(worker, pool.pending.pop(0) if pool.pending else 0)
        assert not pool.pending and pool.outcomes[0][0] == "error"
    finally:
        pool.close()
    assert _no_children_left()


def test_while_the_inputs_are_read_the_languages_locale_data_is_loaded(monkeypatch, tmp_path):
    """The build process loads Babel's data for the languages the data file lists while the
    inputs are read elsewhere: its language processes, forked after, find it loaded. A
    language Babel does not know is left for the build to report."""
    from babel import localedata
    from helpers import ROOT

    from deck.session import BuildRequest, BuildSession

    monkeypatch.setattr(localedata, "_cache", {})
    ramen = ROOT / "tests" / "data" / "ramen" / "ramen.yaml"
    BuildSession()._ahead(BuildRequest(ramen, tmp_path))
    assert "ja" in localedata._cache and "ko" not in localedata._cache
    odd = tmp_path / "odd.yaml"
    odd.write_text(ramen.read_text(encoding="utf-8").replace(
        "languages: [ja]", "languages: [xx-Nowhere, 'de', !!]"), encoding="utf-8")
    BuildSession()._ahead(BuildRequest(odd, tmp_path))
    assert "de" in localedata._cache


def test_the_locale_data_of_the_language_built_here_is_loaded_after_the_fork(monkeypatch,
                                                                             tmp_path):
    """With two languages on two cores, the build process builds the last itself: its
    locale data is loaded once the other language's process is forked (by the language,
    as it formats), not before, where it would delay that fork."""
    from babel import localedata
    from helpers import ROOT

    from deck import workers
    from deck.session import BuildRequest, BuildSession

    monkeypatch.setattr(workers, "cores", lambda: 2)
    monkeypatch.setattr(localedata, "_cache", {})
    data = ROOT / "assets" / "articles" / "deepseek-shock.yaml"
    BuildSession()._ahead(BuildRequest(data, tmp_path, jobs=2))
    assert "ko" in localedata._cache and "en" not in localedata._cache
    BuildSession()._ahead(BuildRequest(data, tmp_path, langs=("en", "ko"), jobs=2))
    assert "en" in localedata._cache
    monkeypatch.setattr(localedata, "_cache", {})
    BuildSession()._ahead(BuildRequest(data, tmp_path, jobs=1))  # both built here, in turn
    assert {"ko", "en"} <= set(localedata._cache)


def test_reading_the_inputs_loads_no_locale_data(monkeypatch, tmp_path):
    """The process that reads the inputs only checks them: it formats no number, so it
    looks up no CLDR data (15 ms a language, loaded once by the build process meanwhile)."""
    from helpers import ROOT

    from deck import l10n
    from deck.session import BuildRequest, BuildSession

    looked_up = []
    real = l10n.myriad_words
    monkeypatch.setattr(l10n, "myriad_words", lambda loc: looked_up.append(loc) or real(loc))
    inputs = BuildSession().read_inputs(BuildRequest(
        ROOT / "assets" / "articles" / "deepseek-shock.yaml", tmp_path))
    assert inputs.langs == ("ko", "en") and looked_up == []
    assert inputs.numbers("en").number(191556) == "191,556"  # looked up when a number needs it
    assert looked_up == ["en"]


def test_the_template_is_opened_ahead_once_and_only_when_it_can_be(monkeypatch, tmp_path):
    """While the inputs are read, the build opens its template (within a size limit, after
    the zip-bomb check, a .potx as a .pptx): the next deck written on it takes it, once; a
    template that cannot be opened is left for the build to report."""
    from helpers import ROOT

    from deck import master, writer
    from deck.resources import theme_path
    from deck.session import BuildRequest, BuildSession

    theme = master.presentation_bytes(theme_path())
    assert theme == theme_path().read_bytes()
    junk = tmp_path / "junk.pptx"
    junk.write_bytes(b"PK\x03\x04 not a zip")
    assert master.presentation_bytes(junk) is None
    assert master.presentation_bytes(tmp_path / "missing.pptx") is None
    monkeypatch.setattr(master, "AHEAD_BYTES", 1000)
    assert master.presentation_bytes(theme_path()) is None
    monkeypatch.undo()

    monkeypatch.setattr(writer, "_opened", {})
    article = ROOT / "assets" / "articles" / "deepseek-shock.yaml"
    BuildSession()._ahead(BuildRequest(article, tmp_path / "a"))
    assert list(writer._opened) == [theme]
    built = BuildSession().build(BuildRequest(article, tmp_path / "b", langs=("en",), jobs=1))
    assert writer._opened == {}  # taken by the deck written on it
    again = BuildSession().build(BuildRequest(article, tmp_path / "c", langs=("en",), jobs=1))
    assert built.decks[0].data == again.decks[0].data  # opened ahead or not: the same bytes


def test_within_exits_waited_workers_are_waited_for_at_the_end_of_the_block():
    """Outside the block, run_jobs returns with its workers gone; inside, it returns with
    its workers told to leave but not waited for (their exits overlap what follows), and
    every one has ended when the block has."""
    from deck import workers

    assert run_jobs([lambda: 1, lambda: 2], 2) == [1, 2]
    assert _no_children_left()
    with workers.exits_waited():
        assert run_jobs([lambda: 1, lambda: 2, lambda: 3], 3) == [1, 2, 3]
        leaving = list(workers._leaving)
        assert len(leaving) == 2  # (the third job ran here)
        for pid in leaving:  # still there: ending, or ended and not yet waited for
            os.kill(pid, 0)
    assert workers._leaving is None
    assert _no_children_left()


def test_a_build_leaves_no_language_process_behind(tmp_path):
    """A build in two language processes: when it returns, both have ended."""
    from helpers import ROOT

    from deck.session import BuildRequest, BuildSession

    result = BuildSession().build(BuildRequest(ROOT / "assets" / "articles" /
                                               "deepseek-shock.yaml", tmp_path / "out",
                                               jobs=2))
    assert len(result.decks) == 2
    assert _no_children_left()


def test_an_interrupt_while_leaving_workers_are_waited_for_waits_for_all(monkeypatch):
    """Ctrl-C landing while the end of exits_waited waits for the workers: every one is
    still waited for (none left behind as a zombie), then the interrupt goes on."""
    from deck import workers

    real = os.waitpid
    interrupted = []

    def waitpid(pid, options):
        if not interrupted:
            interrupted.append(pid)
            raise KeyboardInterrupt
        return real(pid, options)

    with pytest.raises(KeyboardInterrupt):
        with workers.exits_waited():
            assert run_jobs([lambda: 1, lambda: 2], 2) == [1, 2]
            monkeypatch.setattr(workers.os, "waitpid", waitpid)
    monkeypatch.setattr(workers.os, "waitpid", real)
    assert interrupted and _no_children_left()
