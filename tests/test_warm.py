"""The build server's warm-up (deck.cli.warm, BuildSession.prepare): the build that started
the server is made again in its memory, saving nothing, so that the next command (the same
build after an edit) refits and rechecks only what the edit changed."""

from __future__ import annotations

import pytest
from helpers import copy_bikeshare, files_in

import deck.check
import deck.session
from deck import cli
from deck.cache import DiskCache
from deck.session import BuildRequest, BuildSession


@pytest.fixture()
def cached(tmp_path, monkeypatch):
    """A bikeshare article built once by a "first command" with the cache across processes
    (as the command that starts a server is), and that cache's folder for what runs next."""
    monkeypatch.delenv("DECK_NO_CACHE", raising=False)
    monkeypatch.setenv("DECK_CACHE_DIR", str(tmp_path / "cache"))
    data = copy_bikeshare(tmp_path / "a")
    BuildSession(cache=DiskCache(tmp_path / "cache")).build(
        BuildRequest(data, tmp_path / "first", jobs=1))
    return data


def _rebuild_after_an_edit(data, out, sessions, monkeypatch) -> tuple[list, list]:
    """A one-field edit built through the command line with ``sessions``: the slides it
    fitted and the slide numbers each check skipped as known fine."""
    fitted: list = []
    skipped: list[frozenset[int]] = []
    fit, check = deck.session.fit_slide, deck.check.check_deck

    def fitting(slide, roles, ctx):
        fitted.append(slide.key)
        return fit(slide, roles, ctx)

    def checking(deck_bytes, fonts=None, skip=frozenset()):
        skipped.append(skip)
        return check(deck_bytes, fonts, skip)

    monkeypatch.setattr(deck.session, "fit_slide", fitting)
    monkeypatch.setattr(deck.check, "check_deck", checking)
    data.write_text(data.read_text(encoding="utf-8").replace(
        "The operator opened", "The city's operator opened"), encoding="utf-8")
    assert cli.main([str(data), "--out", str(out)], sessions=sessions) == 0
    monkeypatch.undo()
    return fitted, skipped


def test_a_warmed_up_server_refits_and_rechecks_only_what_an_edit_changed(
        cached, tmp_path, monkeypatch):
    out = tmp_path / "out"
    sessions: dict = {}
    said = cli.warm([str(cached), "--out", str(out)], sessions)
    assert said == f"warmed up with {cached}"
    assert not out.exists()  # built in memory only
    fitted, skipped = _rebuild_after_an_edit(cached, out, sessions, monkeypatch)
    assert fitted and set(fitted) <= {"summary", "network", "sources"}  # where the claim is
    assert [len(s) > 0 for s in skipped] == [True]  # its other slides known fine
    fresh = BuildSession().build(BuildRequest(cached, tmp_path / "fresh", jobs=1))
    assert {name: data for name, data in files_in(out).items() if name.endswith(".pptx")
            and "/" not in name} \
        == {d.path.name: d.data for d in fresh.decks}


def test_without_the_warm_up_the_first_served_rebuild_starts_cold(cached, tmp_path,
                                                                  monkeypatch):
    """What the warm-up saves: a server's first command with only the cache across processes
    checks every slide again (the cache knows decks, not which slides of them were fine)."""
    fitted, skipped = _rebuild_after_an_edit(cached, tmp_path / "out", {}, monkeypatch)
    assert set(fitted) <= {"summary", "network", "sources"}  # from the cache either way
    assert [len(s) for s in skipped] == [0]  # every slide checked


@pytest.mark.parametrize("argv, said", [
    (["--watch", "{data}"], "nothing to warm up: not a build"),
    (["--layouts"], "nothing to warm up: not a build"),
    (["{data}", "{data2}"], "nothing to warm up: not one article"),
    (["--no-such-flag"], "nothing to warm up: the arguments do not parse"),
    (["{missing}"], "warm-up stopped by problems in the input of {missing}"),
    (["{bad}"], "warm-up stopped by problems in the input of {bad}"),
])
def test_a_warm_up_that_cannot_build_says_so_and_writes_nothing(tmp_path, argv, said):
    data = copy_bikeshare(tmp_path / "a")
    data2 = copy_bikeshare(tmp_path / "b")
    bad = copy_bikeshare(tmp_path / "c", text=data.read_text(encoding="utf-8").replace(
        "schema: 1", "schema: 9"))
    names = {"data": data, "data2": data2, "missing": tmp_path / "none.yaml", "bad": bad}
    out = tmp_path / "out"
    argv = [a.format(**names) for a in argv] + ["--out", str(out)]
    assert cli.warm(argv, {}) == said.format(**names)
    assert not out.exists()
