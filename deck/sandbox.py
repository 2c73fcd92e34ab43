"""The Jinja environment outline templates run in: sandboxed, immutable, strict, every value
quoted for YAML whatever produced it, and every render bounded.

**Quoting.** The outline's structure is the template's own text. Values reach it only through
the ``finalize`` hook, which turns each into one YAML double-quoted scalar, unless the value
is :class:`Structure`: text this environment made itself from template text and values
already quoted (the output of a macro, a call block's caller, a recursive loop, and
``yaml_list``). Nothing else makes a :class:`Structure`, and every operation on one (a method,
a filter, an operator) gives a plain ``str``. Markup, which Jinja's ``e``, ``escape``,
``forceescape``, ``urlize``, ``tojson`` and ``join`` return after HTML-escaping (which does
not neutralise YAML), is a value like any other and is quoted. Autoescape is off: HTML
escaping has no meaning in a YAML outline.

**Limits** (:class:`TemplateLimits`, per render): loop iterations, nested calls, output size,
the size of any string, list or number a template makes, and time. Operations that can make a
large value from small ones (``*``, ``**``, ``%``, ``~``, padding, ``join``, ``replace``,
format widths, ``batch``...) are measured before they run; every result after. Exceeding a
limit raises :class:`TemplateLimitError` at the template line.

**Files.** Templates and their includes are read by :class:`ConfinedLoader`, through
:mod:`deck.files`: confined to the build's roots, links resolved first.
"""

from __future__ import annotations

import inspect
import math
import re
import string
import time
import types
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from pathlib import Path
from typing import Any

import jinja2
import msgspec
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .context import ChartView, ClaimView, FigureView, IdMap, SectionView
from .diagnostics import UserError
from .files import Roots, read_text
from .l10n import MAX_FORMAT_WIDTH, fill, format_spec_problem

#: what deck.context gives a template as records of fields, each field counted in a size
_VIEWS = (ClaimView, FigureView, ChartView, SectionView)

# PyYAML refuses these characters inside a scalar, and folds these line breaks inside
# double quotes: both must travel as escapes.
_YAML_LINE_BREAKS = {"\x85", "\u2028", "\u2029"}


def _yaml_safe(ch: str) -> bool:
    o = ord(ch)
    if ch in _YAML_LINE_BREAKS or ch == "\ufeff":
        return False
    return (0x20 <= o <= 0x7E) or (0xA0 <= o <= 0xD7FF) or (0xE000 <= o <= 0xFFFD) or (
        0x10000 <= o <= 0x10FFFF)


def yaml_quote(value: Any) -> str:
    """Render any value as one YAML double-quoted scalar that parses back to the same text.

    >>> yaml_quote('say "hi": {{ 7*7 }} # - [x]')
    '"say \\\\"hi\\\\": {{ 7*7 }} # - [x]"'
    >>> yaml_quote(12)
    '"12"'
    """
    if isinstance(value, jinja2.Undefined):
        value = str(value)  # StrictUndefined raises here, with the name that was missing
    text = value if isinstance(value, str) else str(value)
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


#: every character :func:`yaml_quote` cannot write as itself: a backslash, a double quote,
#: and what :func:`_yaml_safe` refuses (one regular expression, not a Python loop over
#: each character: most values have none). Listed, not as the complement of what may stay:
#: compiling that negated class of wide ranges took 5 ms of every process's start
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f\x22\x5c\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff"
                           r"\ufffe\uffff]")


def _escape(found: re.Match) -> str:
    ch = found.group()
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    if ord(ch) <= 0xFF:
        return f"\\x{ord(ch):02x}"
    if ord(ch) <= 0xFFFF:
        return f"\\u{ord(ch):04x}"
    return f"\\U{ord(ch):08x}"


_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


class Structure(str):
    """Outline text made by the environment itself: template text and quoted values.

    A ``str`` subclass that overrides nothing, so every method, operator and filter applied to
    it returns a plain ``str`` (quoted again when output)."""

    __slots__ = ()


def yaml_list(values: Any) -> Structure:
    """A YAML flow list of quoted scalars: ``{{ ids | yaml_list }}`` -> ``["a", "b"]``."""
    return Structure("[" + ", ".join(yaml_quote(v) for v in values) + "]")


# ------------------------------------------------------------------------------------------
# limits


class TemplateLimits(msgspec.Struct, frozen=True):
    """What one render of an outline template may use."""

    loop_iterations: int = 1_000_000  # every {% for %} pass, over the whole render
    call_depth: int = 50  # macros calling macros (recursion)
    output_chars: int = 4_000_000  # text written, buffered macro output included
    value_chars: int = 1_000_000  # the largest string, list or dict a template may make
    int_bits: int = 4096  # the largest integer (about 1,200 digits)
    seconds: float = 5.0


class TemplateLimitError(jinja2.TemplateRuntimeError):
    """A render went past one of its :class:`TemplateLimits`."""


def _perform(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run what a template asked for (an operator, a function, a filter): what it raises is
    the template's fault, reported at its line, unlike an error in this package's own code
    around it."""
    try:
        return fn(*args, **kwargs)
    except (jinja2.TemplateError, RecursionError):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the operation raised, for the template
        raise jinja2.TemplateRuntimeError(f"{type(exc).__name__}: {exc}") from exc


class _Budget:
    """What one render has used so far."""

    def __init__(self, limits: TemplateLimits):
        self.limits = limits
        self.iterations = 0
        self.output = 0
        self.depth = 0
        self.deadline = time.monotonic() + limits.seconds

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"the template ran longer than {self.limits.seconds:g} s; "
                                     "expected it to finish sooner (a loop too long?)")

    def iterate(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.iterations += 1
            if self.iterations > self.limits.loop_iterations:
                raise TemplateLimitError(
                    f"loops ran more than {self.limits.loop_iterations:,} times; expected at "
                    "most that many in one render (nested loops over large ranges?)")
            self.tick()
            yield item

    def write(self, n: int) -> None:
        self.output += n
        if self.output > self.limits.output_chars:
            raise TemplateLimitError(f"the template wrote more than "
                                     f"{self.limits.output_chars:,} characters; expected at "
                                     "most that many")

    def allow(self, size: int, what: str) -> None:
        """Refuse to make a value of ``size`` characters (or items)."""
        if size > self.limits.value_chars:
            raise TemplateLimitError(f"{what} would make a value of more than "
                                     f"{self.limits.value_chars:,} characters or items; "
                                     "expected at most that many")

    def checked(self, value: Any, what: str) -> Any:
        """``value``, once it is known to be within the limits."""
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise TemplateLimitError(f"{what} made a number of {value.bit_length():,} bits; "
                                     f"expected at most {self.limits.int_bits:,}")
        self.allow(value_size(value, self.limits.value_chars), what)
        return value


_RUNTIME = (jinja2.runtime.Context, jinja2.nodes.EvalContext, jinja2.Environment)


def value_size(value: Any, limit: int) -> int:
    """The characters ``value`` would take as text, roughly (items count one each), counted
    until the count passes ``limit``: shared references (``[x, x, x]``) count each time they
    appear, which is what writing the value out costs.

    >>> value_size("abc", 10), value_size(["ab", "cd"], 10), value_size({"k": "v" * 20}, 10) > 10
    (3, 6, True)
    """
    total = 0
    stack = [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, str | bytes | bytearray):
            total += len(v)
        elif isinstance(v, _RUNTIME):  # what Jinja passes a filter besides its arguments
            total += 1
        elif isinstance(v, bool | float | type(None)):
            total += 5
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 1
        elif isinstance(v, Mapping):
            total += len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset | KeysView | ValuesView | ItemsView):
            total += len(v)
            stack.extend(v)
        elif isinstance(v, range):
            total += len(v)
        elif isinstance(v, _VIEWS):
            stack.extend(getattr(v, name) for name in v.__struct_fields__)
        elif isinstance(v, jinja2.utils.Namespace):
            stack.append(dict(v._Namespace__attrs))  # type: ignore[attr-defined]
        else:
            total += 1
    return total


def _format_fields(fmt: str) -> int:
    """How many replacement fields ``fmt`` (a ``str.format`` pattern) has; raises
    :class:`TemplateLimitError` for a width or precision past the limit, or one taken from an
    argument (``{:{w}}``)."""
    fields = 0
    for _, name, spec, _ in string.Formatter().parse(fmt):
        if name is None:
            continue
        fields += 1
        _check_spec(spec or "")
    return fields


def _check_spec(spec: str) -> None:
    problem = format_spec_problem(spec)
    if problem:
        raise TemplateLimitError(f"format spec {spec!r}: {problem}")


def _percent_fields(fmt: str) -> int:
    """How many conversions a ``%`` pattern has; refuses widths past the limit and ``*``."""
    count, i = 0, fmt.find("%")
    while i >= 0:
        j = i + 1
        if fmt[j:j + 1] == "(":  # a mapping key, "%(name)s": skipped as Python does (its
            depth, j = 1, j + 1  # letters are not conversions), nested parentheses included
            while j < len(fmt) and depth:
                depth += {"(": 1, ")": -1}.get(fmt[j], 0)
                j += 1
        start = j
        while j < len(fmt) and fmt[j] not in "diouxXeEfFgGcrsa%":
            j += 1
        _check_spec(fmt[start:j])
        count += fmt[j:j + 1] != "%"
        i = fmt.find("%", j + 1)
    return count


# ------------------------------------------------------------------------------------------
# estimates: the size an operation would make, before it runs


def _take(budget: _Budget, iterable: Any, what: str) -> list:
    """A generator's items, stopping once they pass the size limit."""
    items, size = [], 0
    for item in budget.iterate(iterable):
        size += value_size(item, budget.limits.value_chars) + 1
        budget.allow(size, what)
        items.append(item)
    return items


def _joined(budget: _Budget, sep: Any, items: Any, what: str) -> tuple[list, int]:
    items = _take(budget, items, what) if isinstance(items, Iterator) else list(items)
    size = sum(value_size(x, budget.limits.value_chars) for x in items)
    return items, size + max(0, len(items) - 1) * len(sep)


def _replaced(s: Any, old: Any, new: Any, count: Any) -> int:
    n = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return len(s) + n * max(0, len(new) - len(old))


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


#: str and bytes methods that can make much more than they are given, and what they make
_METHOD_SIZES: dict[str, Callable[..., int]] = {
    "ljust": lambda s, width, *a: max(len(s), _int(width)),
    "rjust": lambda s, width, *a: max(len(s), _int(width)),
    "center": lambda s, width, *a: max(len(s), _int(width)),
    "zfill": lambda s, width: max(len(s), _int(width)),
    "expandtabs": lambda s, tabsize=8: len(s) + s.count(
        "\t" if isinstance(s, str) else b"\t") * max(0, _int(tabsize)),
    "replace": lambda s, old, new, count=-1: _replaced(s, old, new, count),
    "translate": lambda s, table: len(s) * max([1] + [
        len(v) for v in getattr(table, "values", lambda: [])() if isinstance(v, str | bytes)]),
    "to_bytes": lambda n, length=1, *a, **k: _int(length),
}


# ------------------------------------------------------------------------------------------
# the code generator


class _Generator(CodeGenerator):
    """Jinja's code generator with three changes: every buffer counts what is written to it;
    buffered output (macros, callers, recursive loops) comes back as :class:`Structure`; and
    what a call block or a filter block writes goes through ``finalize`` like any value.

    It also marks which output lines are template text and where each piece of text starts,
    so a rendered line can be traced back to its template line."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.data_lines: set[int] = set()
        self._finalizing = False

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    def return_buffer_contents(self, frame: Frame, force_unescaped: bool = False) -> None:
        self.writeline(f"return environment.structure(concat({frame.buffer}))")

    def start_write(self, frame: Frame, node: nodes.Node | None = None) -> None:
        super().start_write(frame, node)
        self._finalizing = isinstance(node, nodes.CallBlock | nodes.FilterBlock)
        if self._finalizing:
            self.write("environment.finalize(")

    def end_write(self, frame: Frame) -> None:
        if self._finalizing:
            self.write(")")
            self._finalizing = False
        super().end_write(frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_values((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or len(node.nodes) < 1:
            super().visit_Output(node, frame)
            return
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                self.writeline("pass", child)  # records the text's own first line
                self.data_lines.add(self.code_lineno + 1)
            super().visit_Output(nodes.Output([child], lineno=child.lineno), frame)


def _count_loops(source: nodes.Template, env: jinja2.Environment) -> None:
    """Every ``{% for %}`` iterates through the environment's counter."""
    for loop in source.find_all(nodes.For):
        counter = nodes.EnvironmentAttribute("loop_items", lineno=loop.iter.lineno)
        loop.iter = nodes.Call(counter, [loop.iter], [], None, None, lineno=loop.iter.lineno)
        loop.iter.set_environment(env)


class ConfinedLoader(jinja2.BaseLoader):
    """Outline templates and their includes, looked up in ``search`` (the data folder, then
    the package's outlines) and read through :mod:`deck.files`: a name that leaves its folder
    or resolves outside the build's roots is refused, not skipped."""

    def __init__(self, search: tuple[Path, ...], roots: Roots):
        self.search = search
        self.roots = roots

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            found = self.roots.find(template, self.search, "outline template")
            if found is None:
                raise jinja2.TemplateNotFound(template)
            text = read_text(found[1], "outline template", shown=template)
        except UserError as exc:
            raise TemplateRefused(template, exc.diagnostics[0].message) from None
        stamp = _mtime(found[1])

        def uptodate() -> bool:  # the same file, unchanged, is still the one this name finds
            try:  # (an outline put beside the data file since overrides the package's own)
                return _mtime(found[1]) == stamp and self.roots.find(
                    template, self.search, "outline template") == found
            except UserError:
                return False

        return text, str(found[0]), uptodate


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


class TemplateRefused(jinja2.TemplateError):
    """A template or include the loader will not read (outside the roots, too large...)."""

    def __init__(self, name: str, why: str):
        super().__init__(f"{name}: {why}")
        self.name = name


# ------------------------------------------------------------------------------------------
# the environment


_INTERCEPTED = frozenset({"+", "-", "*", "/", "//", "%", "**"})

#: Jinja's own filters an outline may use (the ones making markup, e.g. escape, tojson, are out)
FILTERS = frozenset({
    "abs", "batch", "capitalize", "count", "d", "default", "dictsort", "first", "float",
    "groupby", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice",
    "sort", "string", "sum", "title", "trim", "truncate", "unique", "upper", "wordcount"})
#: Jinja's tests an outline may use (``is defined``, ``selectattr("n", ">", 3)``)
TESTS = frozenset({
    "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number",
    "string", "mapping", "sequence", "iterable", "lower", "upper", "odd", "even",
    "divisibleby", "in", "eq", "ne", "lt", "le", "gt", "ge", "==", "!=", "<", "<=", ">", ">=",
    "equalto", "greaterthan", "lessthan", "sameas"})
#: Jinja's globals an outline may use, besides ``fill``
GLOBALS = frozenset({"range", "dict", "namespace"})


def missing_name(obj: Any, name: Any) -> str:
    """What a template asked for that is not there, and what is.

    >>> missing_name(IdMap("claim", {"v3-cost": 1}), "v3-cots")
    "no claim 'v3-cots' (did you mean 'v3-cost'?)"
    """
    if isinstance(obj, IdMap):
        return obj.hint(name)
    if isinstance(obj, Mapping):
        return IdMap("key", dict(obj)).hint(name)
    fields = getattr(obj, "__dataclass_fields__", None) or getattr(
        type(obj), "__struct_fields__", None)
    if fields:
        return (f"{type(obj).__name__} has no field {name!r}; expected one of "
                f"{', '.join(fields)}")
    return f"{type(obj).__name__} has no {name!r}"


def template_fill(pattern: str, **values: Any) -> str:
    """``fill`` for templates: a bad pattern is the template's error, reported as Jinja's."""
    try:
        return fill(pattern, **values)
    except (ValueError, KeyError, IndexError) as exc:
        raise jinja2.TemplateRuntimeError(f"fill({pattern!r}): {exc}") from None


class OutlineEnvironment(ImmutableSandboxedEnvironment):
    """The one Jinja environment: sandboxed (no attribute of a known mutable type that
    changes it), strict about undefined names, every value quoted, every render bounded.

    ``search`` are the folders templates are looked up in, ``roots`` the folders any file may
    come from. ``safe`` and ``lipsum`` are removed (one would switch quoting off for a value,
    the other writes any amount of text)."""

    code_generator_class = _Generator
    intercepted_binops = _INTERCEPTED

    def __init__(self, search: tuple[Path, ...], roots: Roots,
                 limits: TemplateLimits | None = None):
        super().__init__(
            loader=ConfinedLoader(search, roots), undefined=jinja2.StrictUndefined,
            finalize=self.quote, autoescape=False, keep_trailing_newline=True,
            trim_blocks=True, lstrip_blocks=True)
        self.dirs = search
        self.limits = limits if limits is not None else TemplateLimits()
        self._budget: _Budget | None = None
        # the template language is what docs/outline-templates.md lists (a test compares):
        # Jinja's filters, tests and globals minus those that make markup or noise (safe,
        # escape, tojson, lipsum...)
        self.globals = {k: v for k, v in self.globals.items() if k in GLOBALS}
        self.globals["fill"] = template_fill
        self.filters = {name: self._guarded(name, f) for name, f in self.filters.items()
                        if name in FILTERS}
        self.tests = {name: self._guarded(name, f) for name, f in self.tests.items()
                      if name in TESTS}
        self.filters["yaml_list"] = yaml_list
        #: code lines that output template text, per compiled template file
        self.data_lines: dict[str | None, set[int]] = {}

    def _generate(self, source, name, filename, defer_init=False):  # type: ignore[override]
        # Jinja's documented hook for a different generate method: count loops, and keep the
        # generator's notes of which code lines write template text
        _count_loops(source, self)
        generator = _Generator(self, name, filename, None, defer_init, self.optimized)
        generator.visit(source)
        self.data_lines[filename] = generator.data_lines
        return generator.stream.getvalue()

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._explained(obj, argument, super().getitem(obj, argument))

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._explained(obj, attribute, super().getattr(obj, attribute))

    def _explained(self, obj: Any, name: Any, value: Any) -> Any:
        """An undefined lookup, made to say what exists: the nearest ids of a mapping, the
        fields of a view. Sandbox refusals (names starting with ``_``) are left as they are."""
        if not isinstance(value, jinja2.Undefined) or isinstance(obj, jinja2.Undefined) or (
                isinstance(name, str) and name.startswith("_")):
            return value
        return self.undefined(hint=missing_name(obj, name), obj=obj, name=name)

    # -- one render at a time

    def rendering(self) -> _Rendering:
        """``with env.rendering():`` around a render gives it a fresh budget."""
        return _Rendering(self)

    @property
    def budget(self) -> _Budget:
        """What the render in progress has used (a fresh budget outside any render)."""
        if self._budget is None:  # compiling: constant output folded at compile time
            return _Budget(self.limits)
        return self._budget

    # -- hooks the generated code calls

    def quote(self, value: Any) -> Structure:
        """The ``finalize`` hook: a value as one quoted YAML scalar, :class:`Structure` as
        it is."""
        if type(value) is Structure:
            return value
        self.budget.checked(value, "a value written to the outline")
        return Structure(yaml_quote(value))

    def structure(self, text: str) -> Structure:
        """What a macro, a caller or a recursive loop wrote: outline structure."""
        return Structure(text)

    def output_buffer(self) -> _OutputBuffer:
        """The buffer a macro or a block writes into, counted against the output limit."""
        return _OutputBuffer(self.budget)

    def loop_items(self, iterable: Any) -> Iterator[Any]:
        """What a ``{% for %}`` iterates: ``iterable``, counted against the loop limit."""
        return self.budget.iterate(iterable)

    def concat_values(self, values: tuple) -> str:
        """``a ~ b``: measured first, then joined; always a plain ``str``."""
        budget = self.budget
        budget.allow(sum(value_size(v, budget.limits.value_chars) for v in values), "'~'")
        return "".join(map(str, values))

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        budget = self.budget
        budget.tick()
        _estimate_binop(budget, operator, left, right)
        return budget.checked(_perform(self.binop_table[operator], left, right),
                              f"'{operator}'")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,  # noqa: N805
             **kwargs: Any) -> Any:
        budget = __self.budget
        budget.tick()
        if isinstance(__obj, LoopContext) and args:  # loop(children): a recursive loop
            args = (budget.iterate(args[0]),) + args[1:]
        budget.depth += 1
        try:
            if budget.depth > budget.limits.call_depth:
                raise TemplateLimitError(f"calls nested more than {budget.limits.call_depth} "
                                         "deep; expected fewer (a macro calling itself?)")
            args = _estimate_call(budget, __obj, args, kwargs)
            if isinstance(__obj, jinja2.runtime.Macro | LoopContext):  # template code itself
                result = super().call(__context, __obj, *args, **kwargs)
            else:
                result = _perform(super().call, __context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return budget.checked(result, _name(__obj))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def formatted(*args: Any, **kwargs: Any) -> str:
            budget = self.budget
            fields = _format_fields(fmt)
            biggest = max([value_size(a, budget.limits.value_chars)
                           for a in (*args, *kwargs.values())] or [0])
            budget.allow(len(fmt) + fields * (biggest + MAX_FORMAT_WIDTH),
                         "str.format")
            return budget.checked(str(wrapped(*args, **kwargs)), "str.format")

        return formatted

    def _guarded(self, name: str, f: Callable) -> Callable:
        """A filter measured like a call: its arguments, its known multipliers, its result."""
        try:
            signature: inspect.Signature | None = inspect.signature(f)
        except (TypeError, ValueError):  # a builtin without one (len): nothing to estimate
            signature = None
        env = self

        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget = env.budget
            budget.tick()
            args = tuple(_take(budget, a, f"filter {name}") if isinstance(
                a, types.GeneratorType) else a for a in args)
            for a in (*args, *kwargs.values()):
                budget.checked(a, f"filter {name}")
            try:
                bound = signature.bind(*args, **kwargs) if signature else None
                if bound is not None:
                    bound.apply_defaults()
                    _estimate_filter(budget, name, bound.arguments)
            except (TypeError, ValueError, AttributeError, KeyError):
                pass  # arguments the filter refuses: the filter itself says so
            return budget.checked(_perform(f, *args, **kwargs), f"filter {name}")

        # jinja_pass_arg (context, eval_ctx, environment) travels with the function
        guarded.__dict__.update(getattr(f, "__dict__", {}))
        guarded.__wrapped__ = f  # type: ignore[attr-defined]
        return guarded


class _Rendering:
    def __init__(self, env: OutlineEnvironment):
        self.env = env

    def __enter__(self) -> _Budget:
        self.env._budget = _Budget(self.env.limits)
        return self.env._budget

    def __exit__(self, *exc: object) -> None:
        self.env._budget = None


class _OutputBuffer(list):
    """A buffer of generated code (a macro's, a block's) that counts what it is given."""

    def __init__(self, budget: _Budget):
        super().__init__()
        self._budget = budget

    def append(self, item: str) -> None:
        self._budget.write(len(item))
        super().append(item)

    def extend(self, items) -> None:  # type: ignore[override]
        items = tuple(items)
        self._budget.write(sum(map(len, items)))
        super().extend(items)


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__name__', type(obj).__name__)}()"


def _estimate_binop(budget: _Budget, op: str, left: Any, right: Any) -> None:
    """Refuse an operator whose result would pass a limit, before computing it."""
    limit = budget.limits.value_chars
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(n, int) and not isinstance(seq, int | float):
                budget.allow(value_size(seq, limit) * max(0, n), "'*'")
        if isinstance(left, int) and isinstance(right, int):
            _allow_bits(budget, left.bit_length() + right.bit_length(), "'*'")
    elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        if abs(left) > 1:  # the result has about log2(left) * right bits
            _allow_bits(budget, math.ceil(math.log2(abs(left)) * min(right, 10**9)), "'**'")
    elif op == "+" and not isinstance(left, int | float):
        budget.allow(value_size(left, limit) + value_size(right, limit), "'+'")
    elif op == "%" and isinstance(left, str):
        fields = _percent_fields(left)
        args = value_size(right, limit)
        per = args if isinstance(right, tuple) else fields * args
        budget.allow(len(left) + per + fields * MAX_FORMAT_WIDTH, "'%'")


def _allow_bits(budget: _Budget, bits: int, what: str) -> None:
    if bits > budget.limits.int_bits:
        raise TemplateLimitError(f"{what} would make a number of about {bits:,} bits; expected "
                                 f"at most {budget.limits.int_bits:,}")


def _estimate_call(budget: _Budget, obj: Any, args: tuple, kwargs: dict) -> tuple:
    """Refuse a method of str, bytes or int that would make more than the limit; returns the
    arguments to call it with (a generator given to ``join`` is read once, here)."""
    self_ = getattr(obj, "__self__", None)
    if not isinstance(self_, str | bytes | int) or isinstance(obj, type):
        return args
    name = getattr(obj, "__name__", "")
    if name == "join" and len(args) == 1 and not kwargs:
        items, size = _joined(budget, self_, args[0], "join()")
        budget.allow(size, "join()")
        return (items,)
    try:
        size = _METHOD_SIZES[name](self_, *args, **kwargs) if name in _METHOD_SIZES else 0
    except (TypeError, ValueError, AttributeError):
        return args  # arguments the method refuses: the call itself says so
    budget.allow(size, f"{name}()")
    return args


def _estimate_filter(budget: _Budget, name: str, a: dict[str, Any]) -> None:
    """The filters that can make much more than they are given (their arguments by name)."""
    limit = budget.limits.value_chars
    size = value_size(a.get("value", a.get("s", "")), limit)
    if name == "center":
        budget.allow(max(size, _int(a["width"])), "filter center")
    elif name == "indent":
        width = a["width"]
        per_line = len(width) if isinstance(width, str) else _int(width)
        lines = str(a["s"]).count("\n") + 1
        budget.allow(size + lines * per_line, "filter indent")
    elif name == "wordwrap":
        budget.allow(size + (size + 1) * len(a["wrapstring"] or "\n"), "filter wordwrap")
    elif name == "replace":
        s = str(a["s"])
        budget.allow(_replaced(s, str(a["old"]), str(a["new"]), a["count"]), "filter replace")
    elif name == "join":
        budget.allow(_joined(budget, str(a["d"]), a["value"], "filter join")[1], "filter join")
    elif name in ("batch", "slice"):
        count = a["linecount"] if name == "batch" else a["slices"]
        budget.allow(size + _int(count) * (1 + value_size(a["fill_with"], limit)),
                     f"filter {name}")
    elif name == "format" and isinstance(a["value"], str):
        _estimate_binop(budget, "%", a["value"], tuple(a["args"]) or a["kwargs"])
    elif name == "divisibleby" and isinstance(a["value"], str):  # the test: value % num
        _estimate_binop(budget, "%", a["value"], a["num"])
    elif name == "urlize":
        extra = sum(len(str(a.get(k) or "")) for k in ("target", "rel", "extra_schemes"))
        budget.allow(size * (3 + extra), "filter urlize")
