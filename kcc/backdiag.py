"""Back-end errors mapped back to the source: inline asm clang rejects, symbols ld.lld cannot find.

Inline asm: LLVM assembles inline asm while it writes the object and reports a bad instruction as
``<inline asm>:LINE:COL: error: MESSAGE``, then the offending line of the asm text (operands
substituted) and a caret. clang drops the ``!srcloc`` cookie LLVM passes back for IR input, so the
call is found from the IR itself: each inline-asm call carries a ``!dbg`` DILocation (line, scope ->
DISubprogram -> DIFile), and the reported line is matched against line LINE of each call's template,
with ``$N``/``${N:m}`` operand references matching any operand text (LLVM LangRef, "Inline Assembler
Expressions").

Undefined symbols: ld.lld names each reference by the DWARF file base name and line and the object
and function it is in (``>>> referenced by m.py:6`` / ``>>>   obj.o:(f)``); the object's IR,
written beside it as ``.ll``, names that function's DISubprogram and so the file's directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from kcc.diagnostics import CompileError, Diagnostic, SourceFile, load_source, source_lines

UNDEFINED_HINT = ("no object, assembly file or link script defines it: check the name given to "
                  "extern_symbol() or used in asm()")

# One error of clang's output: "<inline asm>:2:5: error: message", the quoted asm line, a caret line.
_ERROR = re.compile(r"^<inline asm>:(\d+):(\d+): error: (.*)\n(.*)\n", re.MULTILINE)
# An inline-asm call in IR text: its template (llvmlite prints newlines in it raw; LLVM escapes as \XX)
# and, later on the same instruction, its !dbg attachment.
_ASM_CALL = re.compile(r'\basm (?:sideeffect |alignstack |inteldialect |unwind )*"((?:[^"\\]|\\[0-9A-Fa-f]{2}|\\\\)*)"'
                       r'[^\n]*?(?:!dbg !(\d+))?$', re.MULTILINE)
_METADATA = re.compile(r"^!(\d+) = (?:distinct )?!(\w+)\((.*)\)$", re.MULTILINE)
_FIELD = re.compile(r'(\w+): (?:"((?:[^"\\]|\\.)*)"|!(\d+)|(-?\d+))')
_OPERAND = re.compile(r"\\\$\\\{\d+(?::\w+)?\\}|\\\$\d+")
_ASM_TEXT = re.compile(r"\basm\s*\(")


class _Call:
    """One inline-asm call of the IR: its template lines and where the source made it."""

    def __init__(self, template: str, path: str, line: int) -> None:
        self.lines = template.split("\n")
        self.path = path
        self.line = line

    def matches(self, asm_line: int, quoted: str) -> bool:
        """True when line ``asm_line`` (1-based) of the template can print as ``quoted``."""
        if not 1 <= asm_line <= len(self.lines):
            return False
        pattern = _OPERAND.sub(".+?", re.escape(self.lines[asm_line - 1].strip())).replace(r"\$\$", r"\$")
        return re.fullmatch(pattern, quoted.strip()) is not None


def _unescape(text: str) -> str:
    """An IR string's text: ``\\XX`` is the byte XX, ``\\\\`` a backslash; the bytes are UTF-8."""
    raw = re.sub(rb"\\([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 text.encode("utf-8").replace(b"\\\\", b"\\5C"))
    return raw.decode("utf-8", errors="replace")


def _metadata(ir_text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The IR's numbered metadata: number -> (kind, {field: value}); a reference's value is ``!N``."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for m in _METADATA.finditer(ir_text):
        fields = {f.group(1): f.group(2) if f.group(2) is not None else
                  (f"!{f.group(3)}" if f.group(3) is not None else f.group(4))
                  for f in _FIELD.finditer(m.group(3))}
        out[m.group(1)] = (m.group(2), fields)
    return out


def asm_calls(ir_text: str) -> list[_Call]:
    """Every inline-asm call in ``ir_text`` that carries a source location, in IR order."""
    meta = _metadata(ir_text)
    calls = []
    for m in _ASM_CALL.finditer(ir_text):
        if m.group(2) is None or m.group(2) not in meta:
            continue
        kind, loc = meta[m.group(2)]
        scope = meta.get(loc.get("scope", "").lstrip("!"))
        file = meta.get(scope[1].get("file", "").lstrip("!")) if scope else None
        if kind != "DILocation" or file is None:
            continue
        name, directory = file[1].get("filename", ""), file[1].get("directory", "")
        calls.append(_Call(_unescape(m.group(1)), str(Path(directory) / name), int(loc.get("line", "0"))))
    return calls


def _shown(path: str) -> str:
    """``path`` relative to the current directory when it is below it, as kcc shows source paths."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _at_line(path: str, line: int, find: re.Pattern[str], message: str, hint: str,
             to_end: bool = True) -> Diagnostic:
    """A diagnostic on ``line`` of ``path``, spanning from the first match of ``find`` in it (else
    from its first non-blank character) to the line's end, or (``to_end`` False) just the match."""
    try:
        source: SourceFile | None = load_source(Path(path), _shown(path))
    except CompileError:
        source = None
    col, end = 1, 1
    if source is not None and 1 <= line <= len(source.lines):
        text = source_lines(source.text)[line - 1]
        found = find.search(text)
        col = found.start() + 1 if found else len(text) - len(text.lstrip()) + 1
        end = found.end() + 1 if found and not to_end else len(text.rstrip()) + 1
    if source is None:
        source = SourceFile(_shown(path), "")
    return Diagnostic(source, line, col, message, line, max(end, col + 1), hints=[hint])


def _located(call: _Call, message: str, quoted: str) -> Diagnostic:
    """The diagnostic at ``call``'s asm( on its line (column 1 when the line holds none)."""
    return _at_line(call.path, call.line, _ASM_TEXT, f"inline asm: {message}",
                    f"the assembler rejected: {quoted.strip()}")


def inline_asm_errors(ir_text: str, output: str) -> list[Diagnostic] | None:
    """Located diagnostics for the ``<inline asm>`` errors in clang's ``output`` on ``ir_text``.

    Each error is placed at the asm() calls whose template line can print as the line clang
    quotes; when none can (an error that spans asm statements, e.g. an unclosed ``.if``), at every
    asm() call of the module with that many lines. Returns None when ``output`` holds no
    inline-asm error or the IR has no located asm call (the caller reports the tool's output).
    """
    errors = list(_ERROR.finditer(output))
    calls = asm_calls(ir_text)
    if not errors or not calls:
        return None
    out: list[Diagnostic] = []
    seen: set[tuple[str, int, str]] = set()
    for err in errors:
        asm_line, message, quoted = int(err.group(1)), err.group(3), err.group(4)
        matched = [c for c in calls if c.matches(asm_line, quoted)] or \
            [c for c in calls if asm_line <= len(c.lines)] or calls
        for call in matched:
            key = (call.path, call.line, message)
            if key not in seen:
                seen.add(key)
                out.append(_located(call, message, quoted))
    return out


# ld.lld's report of one undefined symbol: the name, then per reference ">>> referenced by FILE:LINE"
# (or an object and section when there is no line table) and ">>>   OBJECT:(FUNCTION)".
_UNDEFINED = re.compile(r"^ld\.lld: error: undefined symbol: (.+)\n((?:>>> .*\n?)*)", re.MULTILINE)
_REFERENCE = re.compile(r">>> referenced by ([^\n]+?):(\d+)(?: \([^\n]*\))?\n>>> +(.+):\((.+)\)")


def _function_files(ll: Path) -> tuple[dict[str, str], list[str]]:
    """From an object's IR ``ll``: each function symbol's source file, and every source file named."""
    try:
        meta = _metadata(ll.read_text(encoding="utf-8"))
    except OSError:
        return {}, []
    files = {n: str(Path(f.get("directory", "")) / f.get("filename", ""))
             for n, (kind, f) in meta.items() if kind == "DIFile"}
    functions = {f["linkageName"]: files[f["file"].lstrip("!")] for kind, f in meta.values()
                 if kind == "DISubprogram" and "linkageName" in f and f.get("file", "").lstrip("!") in files}
    return functions, list(files.values())


def undefined_symbol_errors(output: str) -> list[Diagnostic] | None:
    """Located diagnostics for the undefined symbols in ld.lld's ``output``, one per reference.

    A reference is placed at its line in the file the referencing function's object IR (the ``.ll``
    beside the object) names with lld's base name, at the symbol's name on that line. Other errors
    in ``output`` follow as unlocated ``ld.lld:`` lines. None when no reference can be located.
    """
    out: list[Diagnostic] = []
    for m in _UNDEFINED.finditer(output):
        symbol = m.group(1).strip()
        find = re.compile(re.escape(f'"{symbol}"') + "|" + re.escape(symbol))
        for ref in _REFERENCE.finditer(m.group(2)):
            base, line, obj, function = ref.group(1), int(ref.group(2)), ref.group(3).strip(), ref.group(4)
            functions, files = _function_files(Path(obj).with_suffix(".ll"))
            path = functions.get(function)
            if path is None or Path(path).name != Path(base).name:
                named = [f for f in files if Path(f).name == Path(base).name]
                path = named[0] if len(named) == 1 else None
            if path is not None:
                out.append(_at_line(path, line, find, f"undefined symbol '{symbol}'", UNDEFINED_HINT, False))
    if not out:
        return None
    rest = [line for line in output.splitlines()
            if line.startswith("ld.lld: error:") and "undefined symbol:" not in line]
    return out + [Diagnostic(None, 0, 0, line.removeprefix("ld.lld: error: ")) for line in rest]
