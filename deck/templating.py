"""Outline templates: the Jinja environment (sandboxed, StrictUndefined, one quoting policy), the
names a template may use, and rendering with the template line behind every output line.

Data values reach the outline only through :func:`yaml_quote`, the environment's ``finalize``
hook: every ``{{ ... }}`` becomes one YAML double-quoted scalar, so no value can break the
outline's syntax, and data text is never parsed as template code. Knows nothing of pptx.
"""

from __future__ import annotations

import bisect
import difflib
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .context import IdMap
from .data import LoadedBriefing
from .diagnostics import Diagnostic, UserError
from .l10n import fill
from .outline import Rendered

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
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _yaml_safe(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# ------------------------------------------------------------------------------------------
# the environment


def _finalize(value: Any) -> Markup:
    # Markup here means "outline structure the environment itself produced" (a macro's output,
    # yaml_list); anything else is a value and becomes one quoted scalar.
    if isinstance(value, Markup):
        return value
    return Markup(yaml_quote(value))


def yaml_list(values: Any) -> Markup:
    """A YAML flow list of quoted scalars: ``{{ ids | yaml_list }}`` -> ``["a", "b"]``."""
    return Markup("[" + ", ".join(yaml_quote(v) for v in values) + "]")


def _template_fill(pattern: str, **values: Any) -> str:
    """``fill`` for templates: a bad pattern is the template's error, reported as Jinja's."""
    try:
        return fill(pattern, **values)
    except (ValueError, KeyError, IndexError) as exc:
        raise jinja2.TemplateRuntimeError(f"fill({pattern!r}): {exc}") from None


class _LineMarkingGenerator(CodeGenerator):
    """Jinja's code generator, marking which output lines are template text and where each
    piece of text starts, so a rendered line can be traced back to its template line."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.data_lines: set[int] = set()

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or len(node.nodes) < 1:
            super().visit_Output(node, frame)
            return
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                self.writeline("pass", child)  # records the text's own first line
                self.data_lines.add(self.code_lineno + 1)
            super().visit_Output(nodes.Output([child], lineno=child.lineno), frame)


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
    if isinstance(obj, dict):
        return IdMap("key", obj).hint(name)
    fields = getattr(obj, "__dataclass_fields__", None) or getattr(
        type(obj), "model_fields", None)
    if fields:
        return (f"{type(obj).__name__} has no field {name!r}; expected one of "
                f"{', '.join(fields)}")
    return f"{type(obj).__name__} has no {name!r}"


class OutlineEnvironment(SandboxedEnvironment):
    """The one Jinja environment: sandboxed, strict, every value quoted for YAML.

    Autoescape is on only so that macro output arrives as Markup and is not quoted twice;
    ``finalize`` does the quoting, and the ``safe`` filter is removed so a template cannot
    switch it off for a value.
    """

    code_generator_class = _LineMarkingGenerator

    def __init__(self, dirs: tuple[Path, ...]):
        super().__init__(
            loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
            undefined=jinja2.StrictUndefined, finalize=_finalize, autoescape=True,
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        self.dirs = dirs
        # the template language is what docs/outline-templates.md lists (a test compares):
        # Jinja's filters, tests and globals minus those that make markup or noise
        self.filters = {k: v for k, v in self.filters.items() if k in FILTERS}
        self.filters["yaml_list"] = yaml_list
        self.tests = {k: v for k, v in self.tests.items() if k in TESTS}
        self.globals = {k: v for k, v in self.globals.items() if k in GLOBALS}
        self.globals["fill"] = _template_fill
        #: code lines that output template text, per compiled template file
        self.data_lines: dict[str | None, set[int]] = {}

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

    def _generate(self, source, name, filename, defer_init=False):  # type: ignore[override]
        # Jinja's documented hook for a different generate method: keep the generator's notes
        generator = _LineMarkingGenerator(self, name, filename, None, defer_init, self.optimized)
        generator.visit(source)
        self.data_lines[filename] = generator.data_lines
        return generator.stream.getvalue()


def render_outline(env: OutlineEnvironment, name: str, context: dict[str, Any], lang: str,
                   loaded: LoadedBriefing) -> Rendered:
    """Render outline template ``name`` for one language; trace each line to its template line.

    Raises :class:`UserError` for the template's own errors (syntax, undefined names, sandbox
    refusals, runtime errors raised by Jinja or in the template's code). An exception raised in
    this package's code is a bug and propagates.
    """
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        have = sorted({p.name for d in env.dirs for p in d.glob("*.yaml.j2")})
        raise UserError([Diagnostic(str(loaded.path), loaded.line_of(("template",)), "template",
                                    f"outline template not found beside the data file nor "
                                    f"among the bundled ones; expected one of {have}, got "
                                    f"{name!r}")]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or name, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    shown = template.filename or name
    try:
        chunks = _render_traced(env, template, context)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or shown, exc.lineno, "",
                                    f"template syntax: {exc.message}")]) from None
    except Exception as exc:  # noqa: BLE001 - sorted into the template's fault or ours below
        raise _template_fault(exc, env, shown, lang, set(context) | set(env.globals)) from None
    text, origins = _join_traced(chunks)
    return Rendered(text, f"{shown} (rendered, {lang})", lang, origins)


def _render_traced(env: OutlineEnvironment, template: jinja2.Template,
                   context: dict[str, Any]) -> list[tuple[str, tuple[str, int] | None, bool]]:
    """Render, noting for each output chunk its template line and whether it is template text
    (whose lines follow one another) or a value (all on the line that produced it)."""
    gen = template.root_render_func(template.new_context(context))
    data_lines = env.data_lines.get(template.filename, set())
    # Template.get_corresponding_lineno re-reads the debug table on every call: read it once
    table = template.debug_info  # (template line, code line), in code order
    code_lines = [code for _, code in table]
    name = template.filename or template.name or ""
    out = []
    for chunk in gen:
        frame = gen.gi_frame
        origin, is_data = None, False
        if frame is not None:
            at = bisect.bisect_right(code_lines, frame.f_lineno) - 1
            origin = (name, table[at][0] if at >= 0 else 1)
            is_data = frame.f_lineno in data_lines
        out.append((chunk, origin, is_data))
    return out


def _join_traced(chunks: list) -> tuple[str, tuple[tuple[str, int] | None, ...]]:
    """The rendered text, and per line the origin of its first visible character."""
    origins: list[tuple[str, int] | None] = [None]
    fallback: list[tuple[str, int] | None] = [None]
    for chunk, origin, is_data in chunks:
        for i, segment in enumerate(chunk.split("\n")):
            if i:
                origins.append(None)
                fallback.append(None)
            here = (origin[0], origin[1] + i) if origin and is_data else origin
            if fallback[-1] is None:
                fallback[-1] = here
            if origins[-1] is None and segment.strip():
                origins[-1] = here
    text = "".join(c for c, _, _ in chunks)
    return text, tuple(o or f for o, f in zip(origins, fallback, strict=True))


def _template_fault(exc: Exception, env: OutlineEnvironment, shown: str, lang: str,
                    names: set[str]) -> Exception:
    """A :class:`UserError` at the template line for an error the template caused; the
    exception itself where it was raised in this package's code (a bug).

    The line is the outermost template line on the way (where a macro was called with a
    wrong id), with the line inside the macro or include added where it differs."""
    frames = _frames(exc)
    innermost = frames[-1] if frames else ""
    ours = innermost.startswith(str(Path(__file__).parent)) and not isinstance(
        exc, jinja2.TemplateError)
    if ours:
        return exc
    positions = _template_positions(exc, env.dirs)
    file, line = positions[0] if positions else (None, None)
    message = str(exc)
    if isinstance(exc, jinja2.UndefinedError) and message.endswith(" is undefined"):
        name = message.split("'")[1] if message.count("'") >= 2 else ""
        near = difflib.get_close_matches(name, sorted(names), n=3)
        message += f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
    if len(positions) > 1 and positions[-1] != positions[0]:
        where = positions[-1]
        message += f" (used at {'line ' if where[0] == file else where[0] + ':'}{where[1]})"
    kind = ("undefined name" if isinstance(exc, jinja2.UndefinedError) else
            "not allowed in the sandbox" if isinstance(exc, jinja2.sandbox.SecurityError)
            else "template error")
    return UserError([Diagnostic(file or shown, line, f"({lang})", f"{kind}: {message}")])


def _frames(exc: BaseException) -> list[str]:
    tb = exc.__traceback__
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files


def _template_positions(exc: BaseException,
                        dirs: tuple[Path, ...]) -> list[tuple[str, int]]:
    """The template lines an exception passed through, outermost first: frames of compiled
    template code mapped back to their template lines (as Jinja's own tracebacks do)."""
    tb = exc.__traceback__
    found: list[tuple[str, int]] = []
    roots = tuple(str(d) for d in dirs)
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        filename = tb.tb_frame.f_code.co_filename
        if template is not None and filename.startswith(roots):
            found.append((filename, template.get_corresponding_lineno(tb.tb_lineno)))
        tb = tb.tb_next
    return found
