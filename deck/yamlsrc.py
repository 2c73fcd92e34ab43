"""YAML sources with line numbers: every later diagnostic can name the line it concerns."""

from __future__ import annotations

from typing import Any

import yaml

from .diagnostics import Diagnostic, Diagnostics, UserError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(source: str, shown: str, diags: Diagnostics) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely; return the data and a map from location path to line number.

    Syntax errors raise :class:`UserError` at once (nothing else can be checked); duplicate
    keys, which PyYAML silently merges, are added to ``diags``.
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
        index_lines(node, (), lines, diags, shown)
    return raw, lines


def line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of ``loc``, or of its nearest enclosing node."""
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)




def index_lines(node: yaml.Node, loc: tuple, out: dict[tuple, int], diags: Diagnostics,
                 path: str) -> None:
    out[loc] = node.start_mark.line + 1
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
            index_lines(value_node, loc + (key,), out, diags, path)
            out[loc + (key,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index_lines(item, loc + (i,), out, diags, path)


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


def pydantic_message(err: dict, patterns: dict[str, str] | None = None) -> str:
    """One pydantic error as 'what is wrong; expected X, got Y'."""
    kind = err["type"]
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    if kind == "missing":
        return "missing; expected a value, got nothing"
    if kind == "extra_forbidden":
        return f"unknown field; expected one of the documented fields, got {shown}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"not allowed; expected {expected}, got {shown}"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        style = (patterns or {}).get(pattern, f"text matching {pattern}")
        return f"bad identifier; expected {style}, got {shown}"
    return f"{err['msg'].lower()}; got {shown}"


