"""Diagnostics: the one shape every stage uses to report a problem to the user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

Severity = Literal["error", "warning", "note"]


def did_you_mean(got: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` with the names in ``known`` nearest ``got``, or nothing.

    >>> did_you_mean("v3-cots", ["v3-cost", "r1-score"]), did_you_mean("zzz", ["v3-cost"])
    (" (did you mean 'v3-cost'?)", '')
    """
    import difflib  # (only for a name that is not there)

    near = difflib.get_close_matches(got, list(known), n=3)
    return f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""


class Diagnostic(msgspec.Struct, frozen=True):
    """One problem, printed as ``path:line: field: what is wrong; expected X, got Y``."""

    path: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        label = "" if self.severity == "error" else f"{self.severity}: "
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{fld} {label}{self.message}"


class Diagnostics(msgspec.Struct):
    """A collector: stages add to it and the CLI prints all of it at once."""

    items: list[Diagnostic] = msgspec.field(default_factory=list)

    def error(self, path: str, line: int | None, fld: str, message: str) -> None:
        self.items.append(Diagnostic(path, line, fld, message, "error"))

    def warn(self, path: str, line: int | None, fld: str, message: str) -> None:
        self.items.append(Diagnostic(path, line, fld, message, "warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)


class UserError(Exception):
    """Bad input from the user: the CLI prints the diagnostics and exits 2, no traceback."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))
