"""Schemas of the files people write (data files, label catalogs, outlines, template mappings):
records validated fast, and, for a file that does not validate, a report of every problem.

A schema is a tree of :class:`Record` classes (``msgspec`` structs: frozen, unknown fields
refused) with constraints written as ``Annotated[T, Meta(...)]``, checks on a field as
``Annotated[T, Check(function)]``, checks on a whole record as its :meth:`Record.check`, and
a rewriting of the raw value before it is validated as its :meth:`Record.before`.

:func:`validate` converts a file's raw YAML value with msgspec, which is strict (no number
from text, no integer from ``1.0``, no ``True`` for 1) and stops at the first problem. When
that fails, the same value is validated again by a pydantic model made from the same records
(:func:`pydantic_model`), imported only then: pydantic reports every problem at once, each
with its location, and accepts what its lax rules allow (``decimals: 1.0``); what it accepts
is converted to the records from its values. So a file that validates costs neither pydantic's
import nor its model building (a tenth of a cold build), and one that does not gets the same
report as before. Every file msgspec accepts, pydantic accepts with the same values (the
tests compare the two on every bundled file and on mutations of them).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import re
import types
import typing
from typing import Any

import msgspec
from msgspec import Meta

__all__ = ["Record", "Check", "Lax", "Meta", "validate", "anchored", "field_names",
           "fields_by_key", "dump", "pydantic_model"]


class Check:
    """A check on a field's value (``Annotated[T, Check(function)]``): ``function(value)``
    raises ValueError with a message saying what was expected, or returns the value."""

    def __init__(self, function: typing.Callable[[Any], Any]) -> None:
        self.function = function


class Lax:
    """The type pydantic validates a field as, where msgspec can only take it as is
    (``Annotated[Any, Lax(datetime | date), Check(...)]``: msgspec unions hold one type written
    as text at most); the field's :class:`Check` then makes sure of the type."""

    def __init__(self, tp: Any) -> None:
        self.tp = tp


class Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A record of a file's schema: frozen, and a key it does not know is an error. (Its
    subclasses say ``kw_only=True``: msgspec does not pass that on, and a field with a
    default may then come before one without, as in the file's own order.)"""

    def __post_init__(self) -> None:
        if _UNPICKLING.get():
            return
        for name, field_checks, optional in _field_checks(type(self)):
            value = getattr(self, name)
            if value is not None or not optional:  # None where None may not be: checked too
                for check in field_checks:
                    check.function(value)
        self.check()

    def check(self) -> None:
        """Checks across fields: raise ValueError saying what was expected."""

    def __reduce__(self) -> tuple:
        # unpickled (a record read in another process) without checking it again: checked
        # when it was read, and checking anew would cost the process the checks' set-up
        return (_unpickled, (type(self), {name: getattr(self, name)
                                          for name in self.__struct_fields__}))

    @classmethod
    def before(cls, raw: Any) -> Any:
        """The raw value as this record reads it (a shorthand spelled out)."""
        return raw


#: set while pickle builds a record (in this thread): its checks passed where it was read
_UNPICKLING: contextvars.ContextVar[bool] = contextvars.ContextVar("unpickling", default=False)


def _unpickled(cls: type[Record], fields: dict[str, Any]) -> Record:
    token = _UNPICKLING.set(True)
    try:
        return cls(**fields)
    finally:
        _UNPICKLING.reset(token)


@functools.cache
def _field_checks(cls: type[Record]) -> tuple[tuple[str, tuple[Check, ...], bool], ...]:
    """The checks of each field of ``cls`` that has some, and whether it may be None."""
    found = []
    for info in _fields(cls):
        checks = tuple(m for m in _metadata(info.type) if isinstance(m, Check))
        if checks:
            optional = typing.get_origin(info.type) in (typing.Union, types.UnionType) and \
                type(None) in typing.get_args(info.type)
            found.append((info.name, checks, optional))
    return tuple(found)


@functools.cache
def _fields(cls: type[Record]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """``msgspec.structs.fields``, which evaluates the class's annotations at every call."""
    return msgspec.structs.fields(cls)


def _metadata(tp: Any) -> list[Any]:
    """The ``Annotated`` metadata of ``tp``, or of the one type besides None in its union."""
    if typing.get_origin(tp) is typing.Annotated:
        return list(tp.__metadata__)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _metadata(arg)
    return []


# ------------------------------------------------------------------------------------------
# validation


def validate(cls: type[Record], raw: Any) -> tuple[Record | None, list[dict]]:
    """``raw`` as a ``cls``, and no errors; or None and every error pydantic finds (its
    error dicts: ``loc``, ``type``, ``msg``, ``input``, ``ctx``)."""
    try:
        return msgspec.convert(_before(cls, raw), cls), []
    except msgspec.ValidationError:
        pass
    import pydantic

    try:
        model = pydantic_model(cls).model_validate(raw)
    except pydantic.ValidationError as exc:
        return None, exc.errors()
    # what pydantic's lax rules accept (decimals: 1.0), as the values it made of it
    return msgspec.convert(_before(cls, model.model_dump(by_alias=True)), cls), []


def _before(tp: Any, raw: Any) -> Any:
    """``raw`` with every :meth:`Record.before` below ``tp`` applied where it applies."""
    if not _rewrites(tp):
        return raw
    tp = _bare(tp)
    if isinstance(tp, type) and issubclass(tp, Record):
        raw = tp.before(raw)
        if isinstance(raw, dict):
            by_key = {i.encode_name: i.type for i in _fields(tp)}
            return {k: _before(by_key[k], v) if k in by_key else v for k, v in raw.items()}
        return raw
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple) and isinstance(raw, list):
        return [_before(args[0], v) for v in raw]
    if origin is dict and isinstance(raw, dict):
        return {k: _before(args[1], v) for k, v in raw.items()}
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _before(inner[0], raw) if len(inner) == 1 and raw is not None else raw
    return raw


@functools.cache
def _rewrites(tp: Any) -> bool:
    """Whether a :meth:`Record.before` of its own applies anywhere below ``tp``."""
    tp = _bare(tp)
    if isinstance(tp, type) and issubclass(tp, Record):
        if tp.before.__func__ is not Record.before.__func__:  # type: ignore[attr-defined]
            return True
        return any(_rewrites(i.type) for i in _fields(tp))
    return any(_rewrites(a) for a in typing.get_args(tp) if a is not type(None)
               and not isinstance(a, str | int | bool))


def _bare(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


# ------------------------------------------------------------------------------------------
# the same schema as pydantic models, for the report of a file that does not validate


@functools.cache
def pydantic_model(cls: type[Record]) -> Any:
    """A pydantic model of ``cls``: the same fields, keys, defaults, constraints and checks;
    made (and pydantic imported) only when a file did not validate."""
    import pydantic

    fields: dict[str, Any] = {}
    for info in _fields(cls):
        options: dict[str, Any] = {}
        if info.encode_name != info.name:
            options["alias"] = info.encode_name
        if info.default is not msgspec.NODEFAULT:
            field = pydantic.Field(info.default, **options)
        elif info.default_factory is not msgspec.NODEFAULT:
            field = pydantic.Field(default_factory=info.default_factory, **options)
        else:
            field = pydantic.Field(**options)
        fields[info.name] = (_pydantic_type(info.type), field)
    validators: dict[str, Any] = {}
    if cls.check is not Record.check:
        validators["check_record"] = pydantic.model_validator(mode="after")(_after(cls))
    if cls.before.__func__ is not Record.before.__func__:  # type: ignore[attr-defined]
        validators["before_record"] = pydantic.model_validator(mode="before")(
            classmethod(lambda _model, raw: cls.before(raw)))
    return pydantic.create_model(
        cls.__name__, __config__=pydantic.ConfigDict(extra="forbid", frozen=True),
        __validators__=validators, **fields)


def _after(cls: type[Record]) -> typing.Callable[[Any], Any]:
    def check_record(model: Any) -> Any:
        cls.check(model)  # type: ignore[arg-type]  (it reads fields by name only)
        return model

    return check_record


def _pydantic_type(tp: Any) -> Any:
    import pydantic

    if typing.get_origin(tp) is typing.Annotated:
        inner, *metadata = typing.get_args(tp)
        lax = next((m.tp for m in metadata if isinstance(m, Lax)), None)
        extras: list[Any] = []
        for m in metadata:
            if isinstance(m, Meta):
                extras.append(pydantic.Field(**_constraints(m)))
            elif isinstance(m, Check):
                extras.append(pydantic.AfterValidator(m.function))
            elif not isinstance(m, Lax):
                extras.append(m)
        base = _pydantic_type(lax if lax is not None else inner)
        return typing.Annotated[(base, *extras)] if extras else base
    if isinstance(tp, type) and issubclass(tp, Record):
        return pydantic_model(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(lambda a, b: a | b, [_pydantic_type(a) for a in args])
    if origin is list:
        return list[_pydantic_type(args[0])]  # type: ignore[misc]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple[_pydantic_type(args[0]), ...]  # type: ignore[misc]
        return tuple[tuple(_pydantic_type(a) for a in args)]  # type: ignore[misc]
    if origin is dict:
        return dict[_pydantic_type(args[0]), _pydantic_type(args[1])]  # type: ignore[misc]
    return tp


#: ``$`` as Python's re reads it also matches before a final newline; pydantic's regex engine
#: does not. Patterns here end in ``\Z`` (the end, only), written back as ``$`` for pydantic
_END = re.compile(r"\\Z$")


def _constraints(meta: Meta) -> dict[str, Any]:
    found = {}
    for name in ("ge", "le", "gt", "lt", "min_length", "max_length"):
        if getattr(meta, name) is not None:
            found[name] = getattr(meta, name)
    if meta.pattern is not None:
        found["pattern"] = _END.sub("$", meta.pattern)
    return found


def anchored(text: str) -> str:
    """A pattern anchored at both ends (``^...$``) as a record's ``Meta(pattern=...)``
    takes it: ending in ``\\Z``, which matches at the very end only."""
    return text[:-1] + r"\Z" if text.endswith("$") else text


# ------------------------------------------------------------------------------------------
# what the rest of the package asks of a schema


def field_names(cls: type[Record]) -> list[str]:
    """A record's fields as the file writes them (its keys)."""
    return [info.encode_name for info in _fields(cls)]


def fields_by_key(cls: type[Record]) -> dict[str, msgspec.structs.FieldInfo]:
    """A record's fields by the key the file writes them with."""
    return {info.encode_name: info for info in _fields(cls)}


def dump(value: Any) -> Any:
    """A record as plain dicts and lists under the keys a file writes (dates stay dates)."""
    return msgspec.to_builtins(value, builtin_types=(dt.date, dt.datetime))
