"""YAML sources with line numbers: every later diagnostic can name the line it concerns."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .diagnostics import Diagnostic, Diagnostics, UserError

M = TypeVar("M", bound=BaseModel)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(source: str, shown: str, diags: Diagnostics,
              literals: dict[tuple, str] | None = None) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely; return the data and a map from location path to line number.

    Syntax errors raise :class:`UserError` at once (nothing else can be checked); duplicate
    keys, which PyYAML silently merges, are added to ``diags``. Given ``literals``, the source
    text of every number is put there by location (``2.0`` stays ``"2.0"``, not ``2.0``).
    """
    try:
        # parse once (with libyaml where available) and build the data from that same tree
        loader = _Loader(source)
        try:
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        msg = (f"YAML syntax: {what}; expected valid YAML (is the file truncated, or a quote "
               "left open?)")
        raise UserError([Diagnostic(shown, line, "", msg)]) from None
    except yaml.YAMLError as exc:
        raise UserError([Diagnostic(shown, None, "", f"YAML syntax: {exc}")]) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        index_lines(node, (), lines, diags, shown, literals)
    return raw, lines


def read_yaml_file(path: Path, what: str, diags: Diagnostics,
                   literals: dict[tuple, str] | None = None) -> tuple[Any, dict[tuple, int]]:
    """Read and parse a YAML file the user gave; raise :class:`UserError` naming the file when
    it is missing, unreadable, not UTF-8 or not YAML. ``what`` names the file's role
    ("data file", "label catalog"...)."""
    shown = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError([Diagnostic(shown, None, "", f"{what} not found; expected a YAML file, "
                                    "got no such file")]) from None
    except UnicodeDecodeError as exc:
        raise UserError([Diagnostic(shown, None, "", f"not UTF-8 text; expected a UTF-8 YAML "
                                    f"file, got byte {exc.object[exc.start]:#04x} at offset "
                                    f"{exc.start}")]) from None
    except OSError as exc:
        raise UserError([Diagnostic(shown, None, "", f"cannot read the {what}: "
                                    f"{exc.strerror}")]) from None
    return read_yaml(source, shown, diags, literals)


def validate(model: type[M], raw: Any, lines: dict[tuple, int], shown: str, diags: Diagnostics,
             patterns: dict[str, str] | None = None) -> M | None:
    """Validate ``raw`` against ``model``; add one diagnostic per problem (with its line) to
    ``diags`` and return None when it does not validate."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            diags.error(shown, line_of(lines, loc), field_name(loc, raw),
                        pydantic_message(err, patterns, allowed_fields(model, loc[:-1])))
        return None


def allowed_fields(model: Any, loc: tuple) -> list[str]:
    """The field names (as written in the file) of the model found at ``loc`` inside
    ``model``; [] where there is none."""
    for part in loc:
        model = _item_model(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [info.alias or name for name, info in model.model_fields.items()]
    return []


def _item_model(model: Any, part: Any) -> Any:
    """The type found one step down from ``model`` at ``part`` (a field name or an index)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        info = next((i for n, i in model.model_fields.items() if (i.alias or n) == part), None)
        return _unwrap(info.annotation) if info is not None else None
    args = [a for a in typing.get_args(model) if a is not type(None)]
    origin = typing.get_origin(model)
    if origin in (list, tuple) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(ann: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` as ``X``."""
    while True:
        origin = typing.get_origin(ann)
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if origin is typing.Annotated:
            ann = args[0]
        elif origin in (typing.Union, types.UnionType) and len(args) == 1:
            ann = args[0]
        else:
            return ann


def line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of ``loc``, or of its nearest enclosing node."""
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)




_NUMBER_TAGS = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int")


def index_lines(node: yaml.Node, loc: tuple, out: dict[tuple, int], diags: Diagnostics,
                path: str, literals: dict[tuple, str] | None = None) -> None:
    out[loc] = node.start_mark.line + 1
    if literals is not None and isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS:
        literals[loc] = node.value
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                diags.error(path, line, _dotted(loc + (key,)),
                            f"duplicate key; expected each key once, got it again "
                            f"(first on line {seen[key]})")
            seen[key] = line
            out[loc + (key,)] = line
            index_lines(value_node, loc + (key,), out, diags, path, literals)
            out[loc + (key,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index_lines(item, loc + (i,), out, diags, path, literals)


def _dotted(loc: tuple) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def field_name(loc: tuple, raw: Any) -> str:
    """Name a field readably: ``claims[v3-cost].figures[0].value`` rather than ``claims[12]``."""
    parts: list[str] = []
    node = raw
    for p in loc:
        if isinstance(p, int):
            ident = None
            if isinstance(node, list) and 0 <= p < len(node) and isinstance(node[p], dict):
                ident = node[p].get("id")
            parts.append(f"[{ident}]" if isinstance(ident, str) else f"[{p}]")
            node = node[p] if isinstance(node, list) and 0 <= p < len(node) else None
        else:
            parts.append(("." if parts else "") + str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return "".join(parts)


def pydantic_message(err: dict, patterns: dict[str, str] | None = None,
                     allowed: list[str] | None = None) -> str:
    """One pydantic error as 'what is wrong; expected X, got Y'. An unknown field is named by
    its key, with the fields ``allowed`` there."""
    kind = err["type"]
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    if kind == "missing":
        return "missing; expected a value, got nothing"
    if kind == "extra_forbidden":
        key = err["loc"][-1] if err.get("loc") else "?"
        expected = f"one of {', '.join(allowed)}" if allowed else "one of the documented fields"
        return f"unknown field; expected {expected}, got {key!r}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"not allowed; expected {expected}, got {shown}"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        style = (patterns or {}).get(pattern, f"text matching {pattern}")
        return f"bad identifier; expected {style}, got {shown}"
    return f"{err['msg'].lower()}; got {shown}"


