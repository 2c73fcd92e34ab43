"""The schemas' two validators agree (deck.schema): whatever msgspec accepts, the pydantic
model made from the same records accepts with the same values; what msgspec refuses is
reported by pydantic, as before. Checked on every bundled file of each kind and on
mutations of them: each value replaced by values of other types and shapes."""

from __future__ import annotations

import datetime as dt
import random
import sys
import typing
from pathlib import Path

import pytest
import yaml
from helpers import BIKESHARE, COMPANY, DEFAULT_DATA, HANUL, ROOT

from deck import schema
from deck.data import Briefing
from deck.l10n import Labels
from deck.master import Mapping
from deck.outline import OutlineSpec
from deck.resources import labels_dir
from deck.schema import dump

RAMEN = ROOT / "tests" / "data" / "ramen" / "ramen.yaml"

#: values put in place of a file's values: other types, other shapes, edge cases of each rule
REPLACEMENTS = [
    None, True, False, 0, 1, -1, 7, 2, 1.0, 1.5, -0.5, 10**30, float("nan"), float("inf"),
    "", "x", "1", "1.5", "true", "abc\n", "v3-cost", "v3_cost", "Not-An-Id", "2025-02-02",
    "2025-02-02T10:00:00+09:00", dt.date(2025, 2, 2), dt.date(1800, 1, 1),
    dt.datetime(2025, 2, 2, 10, 0), dt.datetime(2025, 2, 2), [], ["a"], ["a", "b"], [1, 2],
    {}, {"ko": "x"}, {"en": "x", "ko": "y"}, {"other": "{n}"}, {1: "x"}, "bar", "moe",
    "content", "usd", "about",
]


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _outline(data: Path, lang: str):
    """The outline the bundled template renders for ``data``, as its raw YAML value."""
    from deck.session import BuildRequest, BuildSession

    session = BuildSession()
    inputs = session.read_inputs(BuildRequest(data, Path("unused")))
    return yaml.safe_load(session.render(inputs, lang).text)


def _documents() -> list[tuple[type[schema.Record], object]]:
    docs: list[tuple[type[schema.Record], object]] = [
        (Briefing, _load(p)) for p in (DEFAULT_DATA, BIKESHARE, HANUL, RAMEN)]
    docs += [(Labels, _load(p)) for p in sorted(labels_dir().glob("*.yaml"))]
    docs += [(Mapping, _load(COMPANY.with_suffix(".yaml")))]
    docs += [(OutlineSpec, _outline(DEFAULT_DATA, lang)) for lang in ("ko", "en")]
    return docs


def _locations(value, loc=()):
    """Every location in a raw YAML value, leaves and containers alike."""
    yield loc
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _locations(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _locations(v, loc + (i,))


def _replaced(value, loc, new):
    if not loc:
        return new
    head, rest = loc[0], loc[1:]
    if isinstance(value, dict):
        return {k: (_replaced(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replaced(v, rest, new) if i == head else v) for i, v in enumerate(value)]


def _both(cls, raw):
    """What msgspec makes of ``raw`` (or None) and what pydantic makes of it, as records
    (or None)."""
    import msgspec

    try:
        fast = msgspec.convert(schema._before(cls, raw), cls)
    except msgspec.ValidationError:
        fast = None
    value, errors = None, []
    try:
        model = schema.pydantic_model(cls).model_validate(raw)
    except Exception as exc:  # noqa: BLE001 - pydantic.ValidationError
        errors = [exc]
    else:
        value = msgspec.convert(schema._before(cls, model.model_dump(by_alias=True)), cls)
    return fast, value, errors


def _agree(cls, raw) -> str | None:
    fast, slow, errors = _both(cls, raw)
    if fast is None:
        return None  # refused fast: pydantic's verdict is the one given
    if errors:
        return f"msgspec accepts, pydantic refuses: {errors[0]}"
    if repr(dump(fast)) != repr(dump(slow)):
        return "accepted by both, as different values"
    return None


@pytest.mark.parametrize("cls, raw", _documents(), ids=lambda v: getattr(v, "__name__", ""))
def test_every_bundled_file_is_accepted_fast_as_pydantic_reads_it(cls, raw):
    fast, slow, errors = _both(cls, raw)
    assert errors == [] and fast is not None
    assert repr(dump(fast)) == repr(dump(slow))


def test_mutated_files_are_accepted_fast_only_where_pydantic_accepts_them_alike():
    rng = random.Random(14)
    found = []
    tried = 0
    for cls, raw in _documents():
        locations = list(_locations(raw))
        for loc in rng.sample(locations, min(len(locations), 40)):
            for new in rng.sample(REPLACEMENTS, 10):
                tried += 1
                problem = _agree(cls, _replaced(raw, loc, new))
                if problem:
                    found.append(f"{cls.__name__} {loc} = {new!r}: {problem}")
    assert tried > 3000 and found == []


@pytest.mark.parametrize("cls, key", [(Briefing, "claims"), (Labels, "units")])
def test_a_file_that_validates_does_not_import_pydantic(cls, key, monkeypatch):
    """A good file never needs pydantic; one with a problem is reported by it (here: a
    missing field)."""
    monkeypatch.delitem(sys.modules, "pydantic", raising=False)
    good = next(r for c, r in _documents() if c is cls)
    value, errors = schema.validate(cls, good)
    assert value is not None and errors == [] and "pydantic" not in sys.modules
    value, errors = schema.validate(cls, {k: v for k, v in good.items() if k != key})
    assert value is None and [e["type"] for e in errors] == ["missing"]
    assert "pydantic" in sys.modules


def test_no_value_may_be_left_empty_where_pydantic_refuses_it():
    """Every location of the small files set to None (``published:`` left empty...): msgspec
    accepts it only where pydantic does (a field's checks run on None where None is not one
    of its types)."""
    found = []
    for cls, raw in _documents():
        if cls is Briefing and raw.get("template") != "briefing" or cls is OutlineSpec:
            continue  # the large ones: their values are sampled above
        for loc in list(_locations(raw))[1:]:
            problem = _agree(cls, _replaced(raw, loc, None))
            if problem:
                found.append(f"{cls.__name__} {loc}: {problem}")
    assert found == []


def test_an_article_without_its_publication_date_is_refused():
    raw = _load(BIKESHARE)
    raw["article"]["published"] = None
    value, errors = schema.validate(Briefing, raw)
    assert value is None and {e["loc"][:2] for e in errors} == {("article", "published")}


_CHECKED = []  # values the check below has seen


def _counted(value: int) -> int:
    _CHECKED.append(value)
    if value < 0:
        raise ValueError(f"expected a count; got {value}")
    return value


class _Counted(schema.Record, frozen=True, kw_only=True):
    n: typing.Annotated[int, schema.Check(_counted)]
    inner: _Counted | None = None


def test_a_record_sent_to_another_process_is_not_checked_again():
    """Unpickled (the inputs a build read in a process of its own), a record is the same
    value, and its checks do not run again: they passed where it was read, and setting them
    up cost the receiving process more than the rest of unpickling."""
    import pickle

    value = _Counted(n=1, inner=_Counted(n=2))
    assert _CHECKED == [2, 1]
    assert pickle.loads(pickle.dumps(value)) == value and _CHECKED == [2, 1]
    with pytest.raises(ValueError, match="expected a count"):
        _Counted(n=-1)  # still checked when made otherwise, after an unpickling
    briefing = Briefing  # and the data file's records, as the build sends them
    loaded = schema.validate(briefing, _load(DEFAULT_DATA))[0]
    assert pickle.loads(pickle.dumps(loaded)) == loaded
