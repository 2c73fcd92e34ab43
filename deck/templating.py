"""Outline templates: the names a template may use, and rendering with the template line behind
every output line. The environment itself (quoting, limits, the confined loader) is
:mod:`deck.sandbox`'s. Knows nothing of pptx.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

import jinja2

from .data import LoadedBriefing
from .diagnostics import Diagnostic, UserError, did_you_mean
from .outline import Rendered
from .sandbox import (
    FILTERS,
    TESTS,
    OutlineEnvironment,
    TemplateLimitError,
    TemplateRefused,
    yaml_quote,
)

__all__ = ["OutlineEnvironment", "yaml_quote", "render_outline"]


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
    except TemplateRefused as exc:
        raise UserError([Diagnostic(str(loaded.path), loaded.line_of(("template",)), "template",
                                    str(exc))]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or name, exc.lineno, "",
                                    _syntax_message(exc))]) from None
    shown = template.filename or name
    try:
        with env.rendering():
            chunks = _render_traced(env, template, context)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError([Diagnostic(exc.filename or shown, exc.lineno, "",
                                    _syntax_message(exc))]) from None
    except Exception as exc:  # noqa: BLE001 - sorted into the template's fault or ours below
        raise _template_fault(exc, env, shown, lang, set(context) | set(env.globals)) from None
    text, origins = _join_traced(chunks)
    return Rendered(text, f"{shown} (rendered, {lang})", lang, origins)


_UNKNOWN = re.compile(r"No (filter|test) named '([^']*)'")


def _syntax_message(exc: jinja2.TemplateSyntaxError) -> str:
    """A syntax error; an unknown filter or test with the ones an outline may use."""
    m = _UNKNOWN.search(exc.message or "")
    if m is None:
        return f"template syntax: {exc.message}"
    kind, name = m.groups()
    allowed = sorted(FILTERS if kind == "filter" else TESTS)
    return (f"template syntax: unknown {kind}; expected one of the {kind}s an outline may use "
            f"({', '.join(allowed)}), got {name!r}")


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
    # a frame's f_lineno is worked out from the start of its code's line table at every
    # read, and a template's code is one long function: reading it once per chunk made
    # rendering quadratic (a third of a warm rebuild). The instruction offset is read
    # instead, and looked up in the line table read once
    starts, lines = _line_table(gen.gi_code)
    out = []
    budget = env.budget
    for chunk in gen:
        budget.write(len(chunk))
        frame = gen.gi_frame
        origin, is_data = None, False
        if frame is not None:
            lineno = lines[bisect.bisect_right(starts, frame.f_lasti) - 1]
            at = bisect.bisect_right(code_lines, lineno) - 1
            origin = (name, table[at][0] if at >= 0 else 1)
            is_data = lineno in data_lines
        out.append((chunk, origin, is_data))
    return out


def _line_table(code) -> tuple[list[int], list[int | None]]:
    """``code``'s line table as two lists: the first bytecode offset of each range, and its
    line (what ``frame.f_lineno`` gives at an offset in that range)."""
    starts: list[int] = []
    lines: list[int | None] = []
    for start, _end, line in code.co_lines():
        starts.append(start)
        lines.append(line)
    return starts, lines


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
        exc, jinja2.TemplateError | RecursionError)
    if ours:
        return exc
    positions = _template_positions(exc, env.dirs)
    file, line = positions[0] if positions else (None, None)
    if isinstance(exc, RecursionError):  # an include of itself, or of one that includes it
        return UserError([Diagnostic(file or shown, line, f"({lang})", "includes or calls "
                                     "nested too deep; expected them to end (a template that "
                                     "includes itself?)")])
    message = str(exc)
    if isinstance(exc, jinja2.UndefinedError) and message.endswith(" is undefined"):
        name = message.split("'")[1] if message.count("'") >= 2 else ""
        message += did_you_mean(name, names - {name})
    if isinstance(exc, jinja2.TemplateNotFound):  # an include or import of a missing file
        message = (f"{exc.message or exc.name}; expected a template in "
                   f"{' or '.join(str(d) for d in env.dirs)}")
    if len(positions) > 1 and positions[-1] != positions[0]:
        where = positions[-1]
        message += f" (used at {'line ' if where[0] == file else where[0] + ':'}{where[1]})"
    return UserError([Diagnostic(file or shown, line, f"({lang})",
                                 f"{_fault_kind(exc)}: {message}")])


def _fault_kind(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return "undefined name"
    if isinstance(exc, jinja2.sandbox.SecurityError):
        return "not allowed in the sandbox"
    if isinstance(exc, TemplateLimitError):
        return "over a limit"
    if isinstance(exc, TemplateRefused):
        return "include refused"
    if isinstance(exc, jinja2.TemplateNotFound):
        return "include not found"
    return "template error"


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
