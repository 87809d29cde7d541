"""The contract between the type checker and the lowerer: the notes typecheck writes on ast nodes.

kcc.typecheck checks each function body and leaves its conclusions on the
nodes as attributes; kcc.lower and the built-ins' lowerings (kcc.builtins) read
them and never re-derive a type. Every such attribute is declared here, once,
with what it holds; tests/test_notes.py fails when the compiler reads or writes
a ``k...`` attribute that is not declared.

A note that is always present after checking (``kty`` on every checked
expression) is read as a plain attribute, ``node.kty``; one that may be absent
is read through its Note: ``KCONST.get(node)`` is None when the node did not
fold to a constant.
"""

from __future__ import annotations

import ast
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")


class Note(Generic[_T]):
    """One attribute the type checker sets on ast nodes.

    Args:
        attr: the attribute's name on the node (``kty``, ``kconst``, ...).
        on: which nodes carry it.
        doc: what it holds.
    """

    def __init__(self, attr: str, on: str, doc: str) -> None:
        self.attr = attr
        self.on = on
        self.doc = doc
        NOTES[attr] = self

    def get(self, node: ast.AST) -> _T | None:
        """The note on ``node``, or None when the checker left none."""
        return getattr(node, self.attr, None)

    def __repr__(self) -> str:
        return f"Note({self.attr!r})"


NOTES: dict[str, Note[Any]] = {}
"""Every note by attribute name."""

KTY: Note[Any] = Note("kty", "every checked expression; typed locals' assignment targets; AugAssign",
                      "the kcc Type of the value (kcc.types); after a literal meets its context, that context's type")
KCONST: Note[Any] = Note("kconst", "expressions that fold at compile time; a While's constant test",
                         "the folded Python value: int, bool or str")
KREF: Note[Any] = Note("kref", "Names (and module Attributes) that denote a variable; NULL",
                       "the typecheck.LocalVar or resolve.GlobalSym it names (resolve.LangSym for NULL)")
KCALL: Note[Any] = Note("kcall", "every checked Call",
                        "what is called: a resolve.FuncSym, a builtins.Builtin, or the Callable type "
                        "(kcc.types.FuncType) of a function value called through")
KARGS: Note[Any] = Note("kargs", "Calls of a module-level function",
                        "one entry per parameter after keyword and default matching: the argument's ast "
                        "node, or the parameter's default as a resolve.ConstSym")
KPRUNE: Note[Any] = Note("kprune", "an If whose condition folds to a constant",
                         "True to keep only the body, False to keep only the else branch")
KSTEP: Note[Any] = Note("kstep", "every For", "the range step as a Python int when it is a constant, else None "
                        "(the step is the third argument, checked at run time)")
KFIELD: Note[Any] = Note("kfield", "Attributes that reach a struct field", "the field's index in the struct")
KFUNC: Note[Any] = Note("kfunc", "Names and Attributes that use a function as a value; addr(f) calls",
                        "the resolve.FuncSym")
KORDER: Note[Any] = Note("korder", "atomic_* calls", "the LLVM memory ordering of the access (\"seq_cst\", ...)")
KCLOBBERS: Note[Any] = Note("kclobbers", "asm(...) calls", "the clobber list: register names, \"memory\", \"cc\"")
KFORMAT: Note[Any] = Note("kformat", "log.debug/info/warning/error calls",
                          "the format string (a literal or a Final string), kept in the call's .kcc_log record")
