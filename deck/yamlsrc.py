"""YAML sources with line numbers: every later diagnostic can name the line it concerns."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from . import schema
from .diagnostics import Diagnostic, Diagnostics, UserError
from .files import Roots, read_text

M = TypeVar("M", bound=schema.Record)

#: the most a YAML file may hold once its aliases are expanded, and how deep it may nest: a
#: few hundred bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes
#: in every walk over the data
MAX_NODES = 200_000
MAX_CHARS = 4_000_000
MAX_DEPTH = 32
#: the longest YAML text parsed (a rendered outline; files are limited by deck.files)
MAX_SOURCE_CHARS = 4_000_000

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own reader, scanner and parser."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


#: what the composer that checks as it goes reads events from: libyaml where available
_PARSER = _CParser or _PyParser


class _LimitExceeded(yaml.MarkedYAMLError):
    """A YAML document larger or deeper than the limits, or with a recursive alias."""


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer, measuring the document as it is composed: every node counts once
    for each place it appears (an alias counts as the whole subtree it names), nesting is
    counted through aliases, and an alias to a node still being composed (``&x [*x]``) is
    refused. Nothing is ever expanded: the counts come from each anchored node's totals."""

    def __init__(self) -> None:
        super().__init__()
        self._nodes = self._chars = self._depth = 0
        self._totals: dict[int, tuple[int, int, int]] = {}  # id(node): nodes, chars, height
        self._open: set[str] = set()

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise _LimitExceeded(None, None, f"recursive alias *{event.anchor} (it names "
                                     "a node that contains it); expected an alias to a "
                                     "finished node", event.start_mark)
            node = super().compose_node(parent, index)
            nodes, chars, height = self._totals[id(node)]
            self._charge(nodes, chars, self._depth + height, event.start_mark)
            return node
        self._charge(0, 0, self._depth + 1, event.start_mark)
        nodes, chars = self._nodes, self._chars
        if event.anchor is not None:
            self._open.add(event.anchor)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(event.anchor)
        text = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        self._charge(1, text, 0, event.start_mark)
        self._totals[id(node)] = (self._nodes - nodes, self._chars - chars,
                                  1 + max(map(self._height, _children(node)), default=0))
        return node

    def _height(self, node: yaml.Node) -> int:
        return self._totals[id(node)][2]

    def _charge(self, nodes: int, chars: int, depth: int, mark: Any) -> None:
        self._nodes += nodes
        self._chars += chars
        _check_limits(self._nodes, self._chars, depth, mark)


def _check_limits(nodes: int, chars: int, depth: int, mark: Any) -> None:
    """Raise :class:`_LimitExceeded` at ``mark`` where a document has passed a limit."""
    if depth > MAX_DEPTH:
        what = f"nesting too deep; expected at most {MAX_DEPTH} levels, got {depth}"
    elif nodes > MAX_NODES:
        what = ("too many values once aliases are expanded (an alias bomb?); expected at "
                f"most {MAX_NODES:,}, got more")
    elif chars > MAX_CHARS:
        what = ("too much text once aliases are expanded (an alias bomb?); expected at "
                f"most {MAX_CHARS:,} characters, got more")
    else:
        return
    raise _LimitExceeded(None, None, what, mark)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Bounds:
    """Whether a document composed by libyaml (which shares an aliased node between the
    places naming it) passes the limits :class:`_BoundedComposer` checks while composing.
    Each node is walked once; an alias counts as its node's totals. It only finds that a
    limit is passed: :func:`read_yaml` then reads the document again with the composer that
    checks as it goes, for the message and its line."""

    def __init__(self) -> None:
        self.nodes = self.chars = 0
        self.totals: dict[int, tuple[int, int, int]] = {}  # id(node): nodes, chars, height
        self.open: set[int] = set()

    def visit(self, node: yaml.Node, depth: int) -> int:
        """Charge ``node`` (``depth`` levels down) and what it holds; return its height."""
        key = id(node)
        if key in self.open:
            raise _LimitExceeded(None, None, "recursive alias", node.start_mark)
        if key in self.totals:  # an alias: the whole subtree again, never walked again
            nodes, chars, height = self.totals[key]
            self.charge(nodes, chars, depth - 1 + height, node.start_mark)
            return height
        self.charge(0, 0, depth, node.start_mark)
        nodes, chars = self.nodes, self.chars
        self.open.add(key)
        height = 1 + max((self.visit(child, depth + 1) for child in _children(node)),
                         default=0)
        self.open.discard(key)
        self.charge(1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, 0,
                    node.start_mark)
        self.totals[key] = (self.nodes - nodes, self.chars - chars, height)
        return height

    def charge(self, nodes: int, chars: int, depth: int, mark: Any) -> None:
        self.nodes += nodes
        self.chars += chars
        _check_limits(self.nodes, self.chars, depth, mark)


class _Loader(_BoundedComposer, _PARSER, yaml.constructor.SafeConstructor,  # type: ignore[misc]
              yaml.resolver.Resolver):
    """libyaml's parser where available (else PyYAML's own), the composer that checks the
    limits as it goes, PyYAML's safe constructor: the whole reading where PyYAML was built
    without libyaml, and the second reading of a document :class:`_CLoader` found at fault."""

    def __init__(self, stream: str) -> None:
        _PARSER.__init__(self, stream)
        _BoundedComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def construct_text(self, node: yaml.ScalarNode) -> str:
        # a carriage return ("\r", "\r\n") is a line break typed or pasted on Windows: one
        # line break, as YAML itself reads a file's line endings; a deck would show "_x000D_"
        return self.construct_yaml_str(node).replace("\r\n", "\n").replace("\r", "\n")


_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_text)

if _CParser is not None:
    class _CLoader(_CParser, yaml.constructor.SafeConstructor,  # type: ignore[misc]
                   yaml.resolver.Resolver):
        """libyaml's parser and composer (three times as fast as composing in Python),
        checked against the limits once composed (:class:`_Bounds`), PyYAML's safe
        constructor."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        construct_text = _Loader.construct_text

    _CLoader.add_constructor("tag:yaml.org,2002:str", _CLoader.construct_text)


def read_yaml(source: str, shown: str, diags: Diagnostics,
              literals: dict[tuple, str] | None = None) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely; return the data and a map from location path to line number.

    Syntax errors, and documents beyond the limits (:data:`MAX_NODES`, :data:`MAX_CHARS`,
    :data:`MAX_DEPTH`, :data:`MAX_SOURCE_CHARS`), raise :class:`UserError` at once (nothing
    else can be checked); duplicate keys, which PyYAML silently merges, are added to
    ``diags``. Given ``literals``, the source text of every number is put there by
    location (``2.0`` stays ``"2.0"``, not ``2.0``).
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise UserError([Diagnostic(shown, None, "", f"too long; expected at most "
                                    f"{MAX_SOURCE_CHARS:,} characters, got {len(source):,}")])
    try:
        if _CParser is None:
            return _load(_Loader, source, shown, diags, literals)
        found = Diagnostics()
        try:
            raw, lines = _load(_CLoader, source, shown, found, literals)
        except yaml.YAMLError:
            # libyaml composes first and the limits are checked after: an alias is then
            # found at its anchor, and a composer error lacks the anchor's name. The composer
            # that checks as it goes says where and what, as it always did
            return _load(_Loader, source, shown, diags, literals)
        diags.extend(found)
        return raw, lines
    except _LimitExceeded as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise UserError([Diagnostic(shown, line, "", f"YAML {exc.problem}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.problem and "maximum nesting depth" in exc.problem:  # libyaml's own limit
            raise UserError([Diagnostic(shown, mark.line + 1 if mark else None, "", (
                f"YAML nesting too deep; expected at most {MAX_DEPTH} levels, got more than "
                "1,000"))]) from None
        line = mark.line + 1 if mark else None
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        opened = exc.context_mark
        if exc.context and opened is not None and mark is not None and opened.line < mark.line:
            # the line found wanting is often the one after the mistake: say where it began
            what = f"{exc.context} (begun on line {opened.line + 1}), {exc.problem}"
        msg = (f"YAML syntax: {what}; expected valid YAML (is the file truncated, or a quote "
               "left open?)")
        raise UserError([Diagnostic(shown, line, "", msg)]) from None
    except yaml.YAMLError as exc:
        raise UserError([Diagnostic(shown, None, "", f"YAML syntax: {exc}")]) from None


def _load(loader_class: type, source: str, shown: str, diags: Diagnostics,
          literals: dict[tuple, str] | None) -> tuple[Any, dict[tuple, int]]:
    """The document and its lines, read by ``loader_class``; YAML errors propagate."""
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        if node is not None and loader_class is _CLoader:
            _Bounds().visit(node, 1)
        lines: dict[tuple, int] = {}
        if node is not None:
            # before constructing: construction merges '<<' keys into the node itself
            index_lines(node, (), lines, diags, shown, literals)
        raw = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return raw, lines


def read_yaml_file(path: Path, what: str, diags: Diagnostics,
                   roots: Roots | None = None,
                   literals: dict[tuple, str] | None = None) -> tuple[Any, dict[tuple, int]]:
    """Read and parse a YAML file; raise :class:`UserError` naming the file when it is
    missing, unreadable, too large, not UTF-8 or not YAML. ``what`` names the file's role
    ("data file", "label catalog"...) and its size limit (:data:`deck.files.MAX_BYTES`).
    With ``roots``, the file must lie inside one of them."""
    real = roots.confine(path, what) if roots is not None else path
    return read_yaml(read_text(real, what, shown=str(path)), str(path), diags, literals)


def validate(model: type[M], raw: Any, lines: dict[tuple, int], shown: str, diags: Diagnostics,
             patterns: dict[str, str] | None = None) -> M | None:
    """Validate ``raw`` against ``model`` (:func:`deck.schema.validate`); add one diagnostic
    per problem (with its line) to ``diags`` and return None when it does not validate."""
    value, errors = schema.validate(model, raw)
    for err in errors:
        loc = tuple(err["loc"])
        diags.error(shown, line_of(lines, loc), field_name(loc, raw),
                    pydantic_message(err, patterns, allowed_fields(model, loc[:-1])))
    return value  # type: ignore[return-value]


def allowed_fields(model: Any, loc: tuple) -> list[str]:
    """The field names (as written in the file) of the record found at ``loc`` inside
    ``model``; [] where there is none."""
    for part in loc:
        model = _item_model(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, schema.Record):
        return schema.field_names(model)
    return []


def _item_model(model: Any, part: Any) -> Any:
    """The type found one step down from ``model`` at ``part`` (a field name or an index)."""
    if isinstance(model, type) and issubclass(model, schema.Record):
        info = schema.fields_by_key(model).get(part)
        return _unwrap(info.type) if info is not None else None
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
    """Record the line of every location below ``node`` in ``out`` (and, given ``literals``,
    the source text of every number); report duplicate keys."""
    out[loc] = node.start_mark.line + 1
    if literals is not None and isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS:
        literals[loc] = node.value
    if isinstance(node, yaml.MappingNode):
        _index_mapping(node, loc, out, diags, path, literals)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index_lines(item, loc + (i,), out, diags, path, literals)


_MERGE = "tag:yaml.org,2002:merge"


def _index_mapping(node: yaml.MappingNode, loc: tuple, out: dict[tuple, int],
                   diags: Diagnostics, path: str, literals: dict[tuple, str] | None) -> None:
    # '<<: *base' merges base's keys first; the mapping's own keys then override them, which
    # is what merge keys are for, not a duplicate (base's own duplicates are reported where
    # base is written)
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [
                value_node]
            for base in merged:
                if isinstance(base, yaml.MappingNode):
                    _index_mapping(base, loc, out, Diagnostics(), path, literals)
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            continue
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            diags.error(path, line, _dotted(loc), "a key that is a list or a mapping; expected "
                        "a plain key such as 'title'")
            continue
        key = key_node.value
        if key in seen:
            diags.error(path, line, _dotted(loc + (key,)),
                        f"duplicate key; expected each key once, got it again "
                        f"(first on line {seen[key]})")
        seen[key] = line
        index_lines(value_node, loc + (key,), out, diags, path, literals)
        out[loc + (key,)] = line


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
    if kind == "value_error":  # our own validators: the message says what was expected
        return str(err.get("ctx", {}).get("error", err["msg"]))
    return f"{err['msg'].lower()}; got {shown}"


