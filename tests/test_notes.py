"""The type checker's notes on ast nodes are declared in kcc/notes.py, and each declared one is used."""

import ast
import re
from pathlib import Path

from kcc.notes import NOTES

KCC = Path(__file__).resolve().parent.parent / "kcc"
AST_FIELDS = {f for name in dir(ast) if isinstance(getattr(ast, name), type)
              for f in getattr(getattr(ast, name), "_fields", ())}
# The checker, the built-ins and the lowerer: the modules that write and read notes.
STAGES = ("typecheck.py", "builtins.py", "lower.py")
# Attributes of other objects those modules use that also start with 'k': kcc.parse.LoopUse.kind.
OTHER = {"kind"}


def note_attributes() -> dict[str, set[str]]:
    """Attribute names of the form k<word> the compiler reads or writes, with the files that do."""
    seen: dict[str, set[str]] = {}
    for path in (KCC / name for name in STAGES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and re.fullmatch(r"k[a-z]+", node.attr) \
                    and node.attr not in AST_FIELDS | OTHER:
                seen.setdefault(node.attr, set()).add(path.name)
    return seen


def test_every_note_the_compiler_uses_is_declared():
    undeclared = {a: files for a, files in note_attributes().items() if a not in NOTES}
    assert not undeclared, f"declare these in kcc/notes.py: {undeclared}"


def test_every_declared_note_is_written_by_the_checker():
    text = "".join((KCC / f).read_text(encoding="utf-8") for f in ("typecheck.py", "builtins.py"))
    unwritten = [n for n in NOTES if not re.search(rf"\.{n} = ", text)]
    assert not unwritten, f"declared but never set: {unwritten}"


def test_every_declared_note_is_documented():
    for note in NOTES.values():
        assert note.on and note.doc, note
