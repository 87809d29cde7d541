"""The symbols resolve binds module-level names to, and the modules that hold them (kcc/resolve.py builds them)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from kcc.diagnostics import SourceFile
from kcc.types import StructType, Type

# Every name kcc.lang offers (docs/language.md), as the compiler knows them.
LANG_NAMES = frozenset({
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize",
    "Ptr", "Array", "Reg", "Callable", "struct", "Final", "NULL", "TARGET",
    "addr", "cast", "sizeof", "volatile_load", "volatile_store", "mmio", "asm",
    "section", "export", "extern", "naked", "inline", "noinline", "noreturn", "interrupt",
    "extern_symbol", "panic", "min", "max", "abs",
    "atomic_load", "atomic_store", "atomic_add", "atomic_swap", "atomic_cas",
    "RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST", "IntEnum", "Arg", "printf_like", "log",
})

# The built-ins reached through a kcc.lang name, as ``log.info(...)`` (kcc/builtins.py has their entries).
LANG_METHODS = frozenset({"log.debug", "log.info", "log.warning", "log.error"})


def symbol_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a symbol (or section) in an object file, or None when it can.

    ELF (the format of every target's objects) stores names as NUL-terminated byte strings
    (System V ABI, "String Table"), so a name must be non-empty and hold no NUL; kcc writes
    them as UTF-8, so a lone surrogate cannot be written at all.
    """
    if not name:
        return "is empty"
    if "\0" in name:
        return "holds a NUL character, which ends a name in an object file"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not encodable as UTF-8 (it holds a lone surrogate)"
    return None


class Symbol:
    """Something a module-level name is bound to."""


@dataclass(eq=False)
class LangSym(Symbol):
    """A name imported from kcc.lang (``name`` is its kcc.lang spelling)."""

    name: str


@dataclass(eq=False)
class ModuleSym(Symbol):
    """A module of the source root, bound by ``import`` or ``from pkg import mod``."""

    module: Module


@dataclass(eq=False)
class PackageSym(Symbol):
    """A package prefix bound by ``import a.b`` (the name ``a``); attributes reach its submodules."""

    prefix: str


@dataclass(eq=False)
class ConstSym(Symbol):
    """A ``Final`` constant: ``value`` is a Python int, bool or str; ``type`` is None while untyped."""

    name: str
    value: int | bool | str | None
    type: Type | None
    node: ast.AST | None
    module: Module | None
    evaluating: bool = False


@dataclass(eq=False)
class GlobalSym(Symbol):
    """A module-level variable, or a ``Final`` table (``readonly``), with its type and symbol name.

    ``init`` is its constant initial value (None: zero): an int or bool for a scalar, a FuncSym (or 0
    for NULL) for a Callable, and for a table nested lists of those, strings for ``Ptr[u8]``
    elements and ZERO for a struct field left out.
    """

    name: str
    type: Type
    init: object
    node: ast.AST
    module: Module
    symbol: str
    readonly: bool = False


class _Zero:
    """A struct field a constant leaves out: zero, as every field starts."""

    def __repr__(self) -> str:
        return "ZERO"


ZERO = _Zero()


@dataclass
class Param:
    """One function parameter: name, type and constant default (None when it has none).

    ``converts``: declared ``Arg``, a formatting argument: the parameter is a usize and a call
    converts any integer, bool or pointer argument to it as ``usize(x)`` would.
    """

    name: str
    type: Type
    default: ConstSym | None
    node: ast.arg
    converts: bool = False


@dataclass
class FuncAttrs:
    """What a function's decorators asked for (language.md, "Decorators")."""

    section: str | None = None
    export: str | None = None
    extern: bool = False
    naked: bool = False
    inline: bool = False
    noinline: bool = False
    noreturn: bool = False
    interrupt: bool = False
    printf_like: str | None = None
    """The parameter holding a format string checked at each call (kcc/formats.py)."""


@dataclass(eq=False)
class FuncSym(Symbol):
    """A module-level function with its resolved signature."""

    name: str
    module: Module
    node: ast.FunctionDef
    params: list[Param]
    result: Type
    attrs: FuncAttrs
    symbol: str


@dataclass(eq=False)
class EnumSym(Symbol):
    """A ``class X(IntEnum):``: its members are Final constants reached as ``X.NAME``."""

    name: str
    members: dict[str, ConstSym]
    node: ast.ClassDef


@dataclass(eq=False)
class StructSym(Symbol):
    """A ``@struct`` class."""

    type: StructType
    node: ast.ClassDef
    module: Module


@dataclass(eq=False)
class Module:
    """One source module: dotted name, file, ast and its module-level bindings."""

    name: str
    source: SourceFile
    tree: ast.Module
    symbols: dict[str, Symbol] = field(default_factory=dict)
    functions: list[FuncSym] = field(default_factory=list)
    globals: list[GlobalSym] = field(default_factory=list)
    structs: list[StructSym] = field(default_factory=list)


class Deferred(Symbol):
    """A ``from m import x`` whose ``x`` was not yet bound when the import ran (import cycles)."""

    def __init__(self, module: Module, name: str, node: ast.AST):
        self.module, self.name, self.node = module, name, node

