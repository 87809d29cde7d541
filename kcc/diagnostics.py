"""Located diagnostics: the error type every compiler stage raises, and its rendering (language.md, "Diagnostics")."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

# Python's tokenizer ends a line at \n, \r\n or \r only (Python Language Reference, 2.1.2
# "Physical lines"); str.splitlines also splits at \f, \v, \x1c-\x1e, \x85, \u2028 and \u2029,
# which may stand in a comment or a string literal, so it would number lines differently from ast.
_LINE_END = re.compile(r"\r\n|\r|\n")
# Characters shown as one space in a quoted source line so the terminal neither moves nor breaks
# the line and the caret below stays under its column: C0 and C1 controls, DEL, and the Unicode
# line and paragraph separators.
_BOM = b"\xef\xbb\xbf"
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class SourceFile:
    """A source file's path (as shown to the user) and its text."""

    path: str
    text: str

    @property
    def lines(self) -> list[str]:
        """The file's lines without line terminators, numbered as Python's parser numbers them."""
        return source_lines(self.text)


def source_lines(text: str) -> list[str]:
    """Split ``text`` into lines at \\n, \\r\\n and \\r only, as Python's tokenizer does.

    Like str.splitlines, a final line terminator does not start another (empty) line. Every
    diagnostic that quotes or counts source lines uses this, so line N is the line ast calls N.
    """
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class Diagnostic:
    """One located message.

    Attributes:
        source: the file it is in, or None for errors without a place.
        line: 1-based line; col: 1-based column of the first character.
        end_line, end_col: 1-based end of the span (end_col exclusive).
        message: the one-line message; severity: "error" or "warning".
        hints: extra lines, each printed as ``hint: ...``.
    """

    source: SourceFile | None
    line: int
    col: int
    message: str
    end_line: int = 0
    end_col: int = 0
    severity: str = "error"
    hints: list[str] = field(default_factory=list)

    def render(self) -> str:
        """Format as ``path:line:col: error: message``, the source line, a caret span and hints."""
        if self.source is None:
            head = f"kcc: {self.severity}: {self.message}"
            return "\n".join([head] + [f"hint: {h}" for h in self.hints])
        out = [f"{self.source.path}:{self.line}:{self.col}: {self.severity}: {self.message}"]
        lines = self.source.lines
        if 1 <= self.line <= len(lines):
            text = _INVISIBLE.sub(" ", lines[self.line - 1])
            num = str(self.line)
            out.append(f" {num:>4} | {text}")
            start = max(self.col - 1, 0)
            if self.end_line == self.line and self.end_col > self.col:
                width = self.end_col - self.col
            elif self.end_line > self.line:
                width = max(len(text.rstrip()) - start, 1)
            else:
                width = 1
            out.append(f" {'':>4} | {' ' * start}{'^' * width}")
        out.extend(f"hint: {h}" for h in self.hints)
        return "\n".join(out)


class CompileError(Exception):
    """Raised by a compiler stage with every diagnostic that stage found (at least one)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class Reporter:
    """Collects the diagnostics of one pass so that all of them are reported, not just the first."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, source: SourceFile | None, node: ast.AST | None, message: str,
              *hints: str) -> Diagnostic:
        """Record an error located at ``node`` (an ast node with positions) in ``source``."""
        diag = located(source, node, message, *hints)
        self.diagnostics.append(diag)
        return diag

    def check(self) -> None:
        """Raise CompileError when any error was recorded."""
        if any(d.severity == "error" for d in self.diagnostics):
            raise CompileError(self.diagnostics)


def located(source: SourceFile | None, node: ast.AST | None, message: str, *hints: str) -> Diagnostic:
    """Build a Diagnostic spanning ``node`` (ast positions are 1-based lines, 0-based columns)."""
    if node is None or not hasattr(node, "lineno"):
        return Diagnostic(source, 1 if source else 0, 1, message, hints=list(hints))
    line = node.lineno
    end_line = getattr(node, "end_lineno", None) or line
    col = _char_column(source, line, node.col_offset) + 1
    end_col = _char_column(source, end_line, getattr(node, "end_col_offset", None) or node.col_offset) + 1
    return Diagnostic(source, line, col, message, end_line, end_col, hints=list(hints))


def _char_column(source: SourceFile | None, line: int, byte_offset: int) -> int:
    """ast's column offsets count UTF-8 bytes; diagnostics count characters."""
    if source is None:
        return byte_offset
    lines = source.lines
    if not 1 <= line <= len(lines):
        return byte_offset
    encoded = lines[line - 1].encode("utf-8")
    if byte_offset > len(encoded):
        return byte_offset  # the node is not from this text: keep ast's offset
    return len(encoded[:byte_offset].decode("utf-8", errors="ignore"))


def load_source(path: Path, shown: str | None = None) -> SourceFile:
    """Read ``path`` as UTF-8; ``shown`` is the path printed in diagnostics (default: as given).

    Line ends are read as Python reads source (\\r\\n and \\r become \\n); a leading byte-order
    mark is dropped.

    Raises:
        CompileError: when the file cannot be read (unlocated), or is not UTF-8: then located at
            the first byte that does not decode, as CPython locates it.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CompileError([Diagnostic(None, 0, 0, f"cannot read {path}: {exc}")]) from exc
    name = shown or str(path)
    skip = len(_BOM) if data.startswith(_BOM) else 0  # a byte-order mark is valid in Python source
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CompileError([_undecodable(name, data[skip:], exc, skip)]) from None
    return SourceFile(name, _LINE_END.sub("\n", text))


def _undecodable(name: str, data: bytes, exc: UnicodeDecodeError, skipped: int) -> Diagnostic:
    """The located error for ``data`` (a file's bytes after any byte-order mark) that ``exc`` says is not UTF-8.

    The line is counted as the parser counts it; the column is the bad byte's character column
    on its line (the line shown has each undecodable byte as U+FFFD); ``skipped`` bytes (a byte-order
    mark) preceded ``data`` in the file.
    """
    text = _LINE_END.sub("\n", data.decode("utf-8", errors="replace"))
    before = _LINE_END.sub("\n", data[:exc.start].decode("utf-8", errors="replace"))
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    bad = data[exc.start:exc.end]
    return Diagnostic(SourceFile(name, text), line, col,
                      f"the file is not valid UTF-8: byte 0x{bad[:1].hex()} at offset {exc.start + skipped} ({exc.reason})",
                      line, col + 1, hints=["kcc reads source files as UTF-8, as Python does"])
