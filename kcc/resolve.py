"""Stage 2: find the modules of a source root, bind every module-level name, fold constants, resolve types."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kcc.diagnostics import CompileError, Diagnostic, Reporter, SourceFile, load_source
from kcc.parse import decorator_name, is_int_enum, parse_source
from kcc.types import (
    BOOL,
    VOID,
    ArrayType,
    FuncType,
    IntType,
    PtrType,
    RegType,
    StructType,
    Type,
    int_types,
    layout,
)

if TYPE_CHECKING:
    from kcc.targets.base import Target

# Every name kcc.lang offers (docs/language.md), as the compiler knows them.
LANG_NAMES = frozenset({
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize",
    "Ptr", "Array", "Reg", "Callable", "struct", "Final", "NULL", "TARGET",
    "addr", "cast", "sizeof", "volatile_load", "volatile_store", "mmio", "asm",
    "section", "export", "extern", "naked", "inline", "noinline", "noreturn", "interrupt",
    "extern_symbol", "panic", "min", "max", "abs",
    "atomic_load", "atomic_store", "atomic_add", "atomic_swap", "atomic_cas",
    "RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST", "IntEnum", "Arg", "printf_like",
})
# Constant expressions are folded exactly, but no wider than this (the widest type has 64 bits;
# the bound keeps `1 << (1 << 40)` from exhausting memory).
MAX_CONST_BITS = 4096
DECORATORS = frozenset({"section", "export", "extern", "naked", "inline", "noinline", "noreturn",
                        "interrupt", "printf_like"})


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


class Program:
    """Every module reachable from the entry, resolved, plus the target facts the later stages need."""

    def __init__(self, root: Path, target: Target, board_constants: dict[str, int | str]):
        self.root = root
        self.target = target
        self.ints = int_types(target.pointer_bits)
        self.modules: dict[str, Module] = {}
        self.board_constants = board_constants
        self.reporter = Reporter()
        self.entry: Module | None = None
        self._board: Module | None = None

    # ----- module loading -------------------------------------------------
    def module_path(self, dotted: str) -> Path | None:
        """The file of module ``dotted`` (see module_file)."""
        return module_file(self.root, dotted, self.target.name)

    def is_package(self, dotted: str) -> bool:
        """True when ``dotted`` names a directory of the source root (a namespace or regular package)."""
        parts = dotted.split(".")
        if parts[0] == "arch":
            parts = ["arch", self.target.name] + parts[1:] if len(parts) > 1 else ["arch"]
        return self.root.joinpath(*parts).is_dir()

    def load(self, dotted: str, node: ast.AST | None = None, source: SourceFile | None = None,
             path: Path | None = None) -> Module | None:
        """Load (once) and bind module ``dotted`` (from ``path`` when given); report a located error
        when it does not exist."""
        if dotted in self.modules:
            return self.modules[dotted]
        if dotted == "board":
            return self.board_module()
        path = path or self.module_path(dotted)
        if path is None:
            where = f"arch/{self.target.name}/" if dotted.startswith("arch.") else ""
            self.reporter.error(source, node, f"no module '{dotted}' in the source root {self.root}",
                                f"looked for {where}{dotted.replace('.', '/')}.py; only modules of the "
                                "source root and kcc.lang can be imported")
            return None
        try:
            shown = str(path.relative_to(Path.cwd()))
        except ValueError:
            shown = str(path)
        src = load_source(path, shown)
        try:
            tree = parse_source(src)
        except CompileError as exc:
            self.reporter.diagnostics.extend(exc.diagnostics)
            return None
        mod = Module(dotted, src, tree)
        self.modules[dotted] = mod
        self._bind_module(mod)
        return mod

    def board_module(self) -> Module:
        """The synthetic ``board`` module: the board's constants as Final constants."""
        if self._board is None:
            src = SourceFile("<board>", "")
            mod = Module("board", src, ast.Module(body=[], type_ignores=[]))
            for name, value in self.board_constants.items():
                mod.symbols[name] = ConstSym(name, value, None, None, mod)
            self.modules["board"] = mod
            self._board = mod
        return self._board

    # ----- binding --------------------------------------------------------
    def _bind_module(self, mod: Module) -> None:
        self._bind_body(mod, mod.tree.body)

    def _bind_body(self, mod: Module, body: list[ast.stmt]) -> None:
        """Bind statements in order; a module-level ``if <constant>:`` keeps only the branch taken.

        The condition sees the names bound above it, as in Python (``if TARGET == "i586":``).
        """
        for stmt in body:
            if isinstance(stmt, ast.If):
                value = self.const_eval(stmt.test, mod)
                if value is None:
                    self.reporter.error(mod.source, stmt.test,
                                        "a module-level 'if' needs a compile-time condition",
                                        "compare TARGET or a Final constant")
                    continue
                self._bind_body(mod, stmt.body if value.value else stmt.orelse)
            else:
                self._bind_stmt(mod, stmt)

    def _define(self, mod: Module, name: str, sym: Symbol, node: ast.AST) -> bool:
        if name in mod.symbols and not isinstance(mod.symbols[name], LangSym | ModuleSym | PackageSym):
            self.reporter.error(mod.source, node, f"'{name}' is already defined in this module")
            return False
        mod.symbols[name] = sym
        return True

    def _bind_stmt(self, mod: Module, stmt: ast.stmt) -> None:
        err = self.reporter.error
        if isinstance(stmt, ast.ImportFrom):
            self._bind_import_from(mod, stmt)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name == "kcc.lang" or alias.name.startswith("kcc."):
                    err(mod.source, stmt, "import names from kcc.lang with 'from kcc.lang import ...'")
                    continue
                target = self.load(alias.name, stmt, mod.source)
                if target is None:
                    continue
                if alias.asname:
                    mod.symbols[alias.asname] = ModuleSym(target)
                elif "." in alias.name:
                    mod.symbols[alias.name.split(".")[0]] = PackageSym(alias.name.split(".")[0])
                else:
                    mod.symbols[alias.name] = ModuleSym(target)
        elif isinstance(stmt, ast.FunctionDef):
            fn = FuncSym(stmt.name, mod, stmt, [], VOID, FuncAttrs(), f"{mod.name}.{stmt.name}")
            if self._define(mod, stmt.name, fn, stmt):
                mod.functions.append(fn)
        elif isinstance(stmt, ast.ClassDef) and is_int_enum(stmt):
            self._bind_enum(mod, stmt)
        elif isinstance(stmt, ast.ClassDef):
            packed = False
            for dec in stmt.decorator_list:
                if isinstance(dec, ast.Call):
                    for kw in dec.keywords:
                        if kw.arg == "packed" and isinstance(kw.value, ast.Constant):
                            packed = bool(kw.value.value)
                        else:
                            err(mod.source, kw, "@struct takes only packed=True or packed=False")
            st = StructSym(StructType(f"{mod.name}.{stmt.name}", [], packed), stmt, mod)
            if self._define(mod, stmt.name, st, stmt):
                mod.structs.append(st)
        elif isinstance(stmt, ast.AnnAssign):
            self._bind_annassign(mod, stmt)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                and isinstance(stmt.value.value, str):
            pass  # docstring
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Assign):
            err(mod.source, stmt, "module-level names need a type",
                "write NAME: Final = value for a constant, or name: T = value for a variable")
        else:
            err(mod.source, stmt, "only imports, constants, globals, functions and @struct classes "
                "may appear at module level")

    def _bind_enum(self, mod: Module, stmt: ast.ClassDef) -> None:
        """Bind an IntEnum class: each ``NAME = value`` becomes an untyped Final constant ``Class.NAME``."""
        base = self.resolve_name_expr(stmt.bases[0], mod)
        if not (isinstance(base, LangSym) and base.name == "IntEnum"):
            self.reporter.error(mod.source, stmt.bases[0], "IntEnum is kcc.lang's: from kcc.lang import IntEnum")
            return
        enum = EnumSym(stmt.name, {}, stmt)
        for member in stmt.body:
            if not isinstance(member, ast.Assign):
                continue
            name = member.targets[0].id
            if name in enum.members:
                self.reporter.error(mod.source, member, f"'{name}' is already a member of {stmt.name}")
                continue
            # As `NAME: Final = value`, so const_value folds it like any other constant.
            decl = ast.copy_location(ast.AnnAssign(target=member.targets[0], annotation=ast.Name("Final"),
                                                   value=member.value, simple=1), member)
            enum.members[name] = ConstSym(f"{stmt.name}.{name}", None, None, decl, mod)
        self._define(mod, stmt.name, enum, stmt)

    def _bind_import_from(self, mod: Module, stmt: ast.ImportFrom) -> None:
        err = self.reporter.error
        name = stmt.module or ""
        if name == "kcc.lang":
            for alias in stmt.names:
                if alias.name == "*":
                    for lang in LANG_NAMES:
                        mod.symbols.setdefault(lang, LangSym(lang))
                elif alias.name not in LANG_NAMES:
                    err(mod.source, stmt, f"kcc.lang has no name '{alias.name}'")
                else:
                    mod.symbols[alias.asname or alias.name] = LangSym(alias.name)
            return
        if name.split(".")[0] == "kcc":
            err(mod.source, stmt, f"cannot import '{name}': of kcc, only kcc.lang can be imported")
            return
        source_mod = None
        if self.module_path(name) is not None or name == "board":
            source_mod = self.load(name, stmt, mod.source)
            if source_mod is None:
                return
        elif not self.is_package(name):
            err(mod.source, stmt, f"cannot import '{name}': no such module in the source root {self.root}",
                "only modules of the source root and kcc.lang can be imported")
            return
        for alias in stmt.names:
            local = alias.asname or alias.name
            if source_mod is not None and alias.name in source_mod.symbols:
                mod.symbols[local] = source_mod.symbols[alias.name]
                continue
            sub = f"{name}.{alias.name}"
            if self.module_path(sub) is not None:
                target = self.load(sub, stmt, mod.source)
                if target is not None:
                    mod.symbols[local] = ModuleSym(target)
            elif source_mod is not None and alias.name != "*":
                # The name may be bound later in a module that imports us back: bind lazily.
                mod.symbols[local] = _Deferred(source_mod, alias.name, stmt)
            else:
                err(mod.source, stmt, f"cannot import '{alias.name}' from '{name}'")

    def _bind_annassign(self, mod: Module, stmt: ast.AnnAssign) -> None:
        err = self.reporter.error
        if not isinstance(stmt.target, ast.Name):
            err(mod.source, stmt.target, "module-level declarations name a single variable")
            return
        name = stmt.target.id
        ann = stmt.annotation
        is_final = (isinstance(ann, ast.Name) and self._lang_name(mod, ann.id) == "Final") or (
            isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name)
            and self._lang_name(mod, ann.value.id) == "Final")
        if is_final:
            if stmt.value is None:
                err(mod.source, stmt, "a Final constant needs a value")
                return
            if isinstance(ann, ast.Subscript) and self._is_table_type(mod, ann.slice):
                table = GlobalSym(name, VOID, None, stmt, mod, f"{mod.name}.{name}", readonly=True)
                if self._define(mod, name, table, stmt):
                    mod.globals.append(table)
                return
            self._define(mod, name, ConstSym(name, None, None, stmt, mod), stmt)
            return
        gsym = GlobalSym(name, VOID, None, stmt, mod, f"{mod.name}.{name}")
        if self._define(mod, name, gsym, stmt):
            mod.globals.append(gsym)

    def _is_table_type(self, mod: Module, ann: ast.expr) -> bool:
        """True when ``Final[ann]`` is a constant table in memory (an Array, a struct or a Callable),
        not a folded scalar constant."""
        if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name):
            return self._lang_name(mod, ann.value.id) in ("Array", "Callable")
        if isinstance(ann, ast.Name):
            return ann.id != "bool" and self._lang_name(mod, ann.id) is None
        return isinstance(ann, ast.Attribute)

    def _lang_name(self, mod: Module, name: str) -> str | None:
        sym = mod.symbols.get(name)
        return sym.name if isinstance(sym, LangSym) else None

    # ----- lookups --------------------------------------------------------
    def lookup(self, mod: Module, name: str) -> Symbol | None:
        """The module-level binding of ``name`` in ``mod`` (following deferred imports)."""
        sym = mod.symbols.get(name)
        if isinstance(sym, _Deferred):
            real = sym.module.symbols.get(sym.name)
            if real is None or isinstance(real, _Deferred):
                self.reporter.error(mod.source, sym.node, f"cannot import '{sym.name}' from "
                                    f"'{sym.module.name}'")
                mod.symbols.pop(name)
                return None
            mod.symbols[name] = real
            return real
        return sym

    def attribute(self, sym: Symbol, attr: str) -> Symbol | None:
        """``sym.attr`` where ``sym`` is a module or package binding; None when there is no such name."""
        if isinstance(sym, ModuleSym):
            return self.lookup(sym.module, attr)
        if isinstance(sym, PackageSym):
            dotted = f"{sym.prefix}.{attr}"
            if self.module_path(dotted) is not None:
                target = self.load(dotted)
                return ModuleSym(target) if target else None
            if self.is_package(dotted):
                return PackageSym(dotted)
        return None

    def resolve_name_expr(self, node: ast.expr, mod: Module) -> Symbol | None:
        """The module-level symbol a Name or dotted Attribute chain denotes, or None."""
        if isinstance(node, ast.Name):
            return self.lookup(mod, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve_name_expr(node.value, mod)
            if isinstance(base, ModuleSym | PackageSym):
                return self.attribute(base, node.attr)
            if isinstance(base, EnumSym):
                return base.members.get(node.attr)
        return None

    # ----- constants ------------------------------------------------------
    def const_value(self, sym: ConstSym) -> ConstSym | None:
        """Evaluate a Final constant once; returns it with ``value`` set, or None on error."""
        if sym.value is not None:
            return sym
        if sym.evaluating:
            self.reporter.error(sym.module.source if sym.module else None, sym.node,
                                f"constant '{sym.name}' is defined in terms of itself")
            return None
        assert isinstance(sym.node, ast.AnnAssign) and sym.module is not None
        sym.evaluating = True
        result = self.const_eval(sym.node.value, sym.module, report=True)
        sym.evaluating = False
        if result is None:
            return None
        ann = sym.node.annotation
        if isinstance(ann, ast.Subscript):  # Final[T]
            ty = self.resolve_type(ann.slice, sym.module)
            if isinstance(ty, IntType) and isinstance(result.value, int) and not isinstance(result.value, bool):
                if not ty.fits(result.value):
                    self.reporter.error(sym.module.source, sym.node.value,
                                        f"{show_int(result.value)} does not fit {ty}")
                    return None
                result = ConstSym(sym.name, result.value, ty, sym.node, sym.module)
        sym.value, sym.type = result.value, result.type
        return sym

    def const_eval(self, node: ast.expr | None, mod: Module, report: bool = False) -> ConstSym | None:
        """Fold ``node`` when it is a compile-time constant expression; None otherwise.

        Integer arithmetic is Python's (exact); a typed operand makes the result typed and
        reduced to that type's width. With ``report`` a non-constant expression is an error.
        """
        try:
            value, ty = self._fold(node, mod)
        except _NotConst as exc:
            if report or exc.hard:
                self.reporter.error(mod.source, exc.node or node, exc.message or "not a constant expression",
                                    *exc.hints)
            return None
        return ConstSym("", value, ty, node, mod)

    def _fold(self, node: ast.expr | None, mod: Module) -> tuple[int | bool | str, Type | None]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return node.value, BOOL
            if isinstance(node.value, int | str):
                return node.value, None
            raise _NotConst(node)
        if isinstance(node, ast.Name | ast.Attribute):
            sym = self.resolve_name_expr(node, mod)
            if isinstance(sym, LangSym) and sym.name == "TARGET":
                return self.target.name, None
            if isinstance(sym, LangSym) and sym.name == "NULL":
                raise _NotConst(node)
            if isinstance(sym, ConstSym):
                done = self.const_value(sym)
                if done is None or done.value is None:
                    raise _NotConst(node, "constant has no value")
                return done.value, done.type
            raise _NotConst(node)
        if isinstance(node, ast.UnaryOp):
            value, ty = self._fold(node.operand, mod)
            if isinstance(node.op, ast.Not):
                return (not value), BOOL
            if isinstance(value, str) or ty is BOOL:
                raise _NotConst(node, "unary operator on a non-integer constant")
            result = {ast.USub: lambda v: -v, ast.UAdd: lambda v: v, ast.Invert: lambda v: ~v}[
                type(node.op)](value)
            return self._typed(node, result, ty)
        if isinstance(node, ast.BinOp):
            lv, lt = self._fold(node.left, mod)
            rv, rt = self._fold(node.right, mod)
            if isinstance(lv, str) or isinstance(rv, str) or lt is BOOL or rt is BOOL:
                raise _NotConst(node, "arithmetic on a non-integer constant")
            if lt is not None and rt is not None and lt != rt and not isinstance(node.op, ast.LShift | ast.RShift):
                raise _NotConst(node, f"cannot mix {lt} and {rt} in a constant expression")
            ty = lt if lt is not None else (rt if not isinstance(node.op, ast.LShift | ast.RShift) else None)
            op = type(node.op)
            if op in (ast.FloorDiv, ast.Mod) and rv == 0:
                raise _NotConst(node, "division by zero in a constant expression")
            if op in (ast.LShift, ast.RShift) and rv < 0:
                raise _NotConst(node, "negative shift amount in a constant expression")
            if op in (ast.LShift, ast.RShift) and isinstance(ty, IntType) and rv >= ty.bits:
                # A typed shift by the width or more: what Python gives after reduction (language.md, "Arithmetic means what Python means, reduced to the width").
                return (-1 if op is ast.RShift and lv < 0 else 0), ty
            if op is ast.LShift and rv + lv.bit_length() > MAX_CONST_BITS:
                raise _TooLarge(node)
            if op is ast.Pow:
                if rv < 0:
                    raise _NotConst(node, "negative exponent")
                if lv.bit_length() * rv > MAX_CONST_BITS:
                    raise _TooLarge(node)
                result = lv ** rv
            elif op in _CONST_OPS:
                result = _CONST_OPS[op](lv, rv)
            else:
                raise _NotConst(node, "operator not allowed in a constant expression")
            if result.bit_length() > MAX_CONST_BITS:
                raise _TooLarge(node)
            return self._typed(node, result, ty, checked=op not in (ast.LShift, ast.RShift))
        if isinstance(node, ast.BoolOp):
            values = [self._fold(v, mod)[0] for v in node.values]
            if isinstance(node.op, ast.And):
                return all(values), BOOL
            return any(values), BOOL
        if isinstance(node, ast.Compare):
            left, _ = self._fold(node.left, mod)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right, _ = self._fold(comp, mod)
                if type(op) not in _CMP_OPS:
                    raise _NotConst(node)
                if isinstance(left, str) != isinstance(right, str) and type(op) not in (ast.Eq, ast.NotEq):
                    raise _NotConst(node, "cannot compare a string with a number")
                if not _CMP_OPS[type(op)](left, right):
                    return False, BOOL
                left = right
            return True, BOOL
        if isinstance(node, ast.IfExp):
            test, _ = self._fold(node.test, mod)
            return self._fold(node.body if test else node.orelse, mod)
        if isinstance(node, ast.Call) and not node.keywords:
            sym = self.resolve_name_expr(node.func, mod)
            if isinstance(sym, LangSym) and sym.name in self.ints and len(node.args) == 1:
                value, _ = self._fold(node.args[0], mod)
                if isinstance(value, str):
                    raise _NotConst(node)
                ty = self.ints[sym.name]
                return ty.wrap(int(value)), ty
            if isinstance(sym, LangSym) and sym.name == "sizeof" and len(node.args) == 1:
                ty = self.resolve_type(node.args[0], mod)
                return self.sizeof(ty), None
            # min/max/abs: kcc.lang's, or Python's own names when the module does not bind them.
            name = sym.name if isinstance(sym, LangSym) else (
                node.func.id if isinstance(node.func, ast.Name) and sym is None else None)
            if (name in ("min", "max") and len(node.args) >= 2) or (name == "abs" and len(node.args) == 1):
                folded = [self._fold(a, mod) for a in node.args]
                types = {t for _, t in folded if t is not None}
                if any(isinstance(v, str) or t is BOOL for v, t in folded) or len(types) > 1:
                    raise _NotConst(node)
                ty = types.pop() if types else None
                values = [v for v, _ in folded]
                result = abs(values[0]) if name == "abs" else (min(values) if name == "min" else max(values))
                return self._typed(node, result, ty)
            if isinstance(node.func, ast.Name) and node.func.id == "bool" and len(node.args) == 1:
                value, _ = self._fold(node.args[0], mod)
                return bool(value), BOOL
        raise _NotConst(node)

    def _typed(self, node: ast.AST, value: int, ty: Type | None, checked: bool = True) -> tuple[int, Type | None]:
        """Reduce a typed constant to its type; signed overflow is an error, as a checked build panics."""
        if isinstance(ty, IntType):
            if checked and ty.signed and not ty.fits(value):
                raise _Overflow(node, ty)
            return ty.wrap(value), ty
        return value, ty

    # ----- types ----------------------------------------------------------
    def resolve_type(self, node: ast.expr | None, mod: Module, allow_void: bool = False) -> Type:
        """The kcc type a type expression denotes (language.md, "Types"); reports and returns VOID on error."""
        err = self.reporter.error
        if node is None:
            err(mod.source, node, "missing type")
            return VOID
        if isinstance(node, ast.Constant) and node.value is None:
            if not allow_void:
                err(mod.source, node, "None is only a return type")
            return VOID
        if isinstance(node, ast.Name) and node.id == "bool" and node.id not in mod.symbols:
            return BOOL
        if isinstance(node, ast.Name) and node.id in ("int", "str", "float", "list", "dict"):
            err(mod.source, node, f"'{node.id}' is not a kcc type",
                "use a fixed-width integer such as u32 or i64" if node.id == "int" else
                "see language.md, \"Types\"")
            return VOID
        if isinstance(node, ast.Subscript):
            base = self.resolve_name_expr(node.value, mod)
            if not isinstance(base, LangSym) or base.name not in ("Ptr", "Array", "Reg", "Callable"):
                err(mod.source, node, "unknown generic type", "use Ptr[T], Array[T, N], Reg[T] or Callable[[A], R]")
                return VOID
            args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if base.name == "Callable":
                if len(args) != 2 or not isinstance(args[0], ast.List):
                    err(mod.source, node, "Callable takes the parameter types and the result: Callable[[A, B], R]")
                    return VOID
                params = tuple(self.resolve_type(a, mod) for a in args[0].elts)
                return FuncType(params, self.resolve_type(args[1], mod, allow_void=True))
            if base.name == "Array":
                if len(args) != 2:
                    err(mod.source, node, "Array takes an element type and a count: Array[T, N]")
                    return VOID
                elem = self.resolve_type(args[0], mod)
                count = self.const_eval(args[1], mod, report=True)
                if count is None:
                    return VOID
                if not isinstance(count.value, int) or isinstance(count.value, bool) or count.value < 0:
                    err(mod.source, args[1], "an Array's count must be a non-negative integer constant")
                    return VOID
                return ArrayType(elem, count.value)
            if len(args) != 1:
                err(mod.source, node, f"{base.name} takes one type: {base.name}[T]")
                return VOID
            inner = self.resolve_type(args[0], mod)
            return PtrType(inner) if base.name == "Ptr" else RegType(inner)
        sym = self.resolve_name_expr(node, mod)
        if isinstance(sym, LangSym) and sym.name in self.ints:
            return self.ints[sym.name]
        if isinstance(sym, LangSym) and sym.name == "Arg":
            return self.ints["usize"]  # a formatting argument (Param.converts): a usize inside the function
        if isinstance(sym, StructSym):
            return sym.type
        err(mod.source, node, f"'{ast.unparse(node)}' is not a type")
        return VOID

    def sizeof(self, ty: Type) -> int:
        """Size in bytes of ``ty`` in memory under the target's C ABI (bool: 1 byte)."""
        return self.layout(ty)[0]

    def check_size(self, ty: Type, mod: Module, node: ast.AST) -> bool:
        """Report a variable whose type is larger than half the target's address space (LLVM's limit)."""
        size = self.sizeof(ty)
        if size >= 1 << (self.target.pointer_bits - 1):
            self.reporter.error(mod.source, node, f"{ty} takes {show_int(size)} bytes, more than "
                                f"{self.target.name}'s address space allows")
            return False
        return True

    def layout(self, ty: Type) -> tuple[int, int]:
        """(size, alignment) in bytes of ``ty`` under the target's C ABI (kcc.types.layout)."""
        return layout(ty, self.target.pointer_bytes, self.target.int64_align)

    # ----- declarations ---------------------------------------------------
    def resolve_declarations(self) -> None:
        """Resolve struct fields, global types and initialisers, function signatures, constants."""
        for mod in list(self.modules.values()):
            for st in mod.structs:
                self._resolve_struct(st)
        for mod in list(self.modules.values()):
            for st in mod.structs:
                self._check_recursive(st)
        for mod in list(self.modules.values()):
            for sym in list(mod.symbols.values()):
                if isinstance(sym, ConstSym) and sym.module is mod:
                    self.const_value(sym)
                if isinstance(sym, EnumSym):
                    for member in sym.members.values():
                        self.const_value(member)
            for fn in mod.functions:
                self._resolve_function(fn)
        # After every signature: a table or a Callable global may name any module's function.
        for mod in list(self.modules.values()):
            for g in mod.globals:
                self._resolve_global(g)

    def _resolve_struct(self, st: StructSym) -> None:
        mod = st.module
        for stmt in st.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is not None:
                    self.reporter.error(mod.source, stmt.value, "struct fields cannot have default values",
                                        "fields start zeroed")
                ty = self.resolve_type(stmt.annotation, mod)
                if st.type.field_index(stmt.target.id) >= 0:
                    self.reporter.error(mod.source, stmt, f"duplicate field '{stmt.target.id}'")
                st.type.fields.append((stmt.target.id, ty))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                    and isinstance(stmt.value.value, str):
                continue
            elif isinstance(stmt, ast.Pass | ast.FunctionDef):
                continue  # methods were reported by the parser
            else:
                self.reporter.error(mod.source, stmt, "a @struct body holds only annotated fields")

    def _check_recursive(self, st: StructSym) -> None:
        def contains(ty: Type, seen: tuple[StructType, ...]) -> bool:
            if isinstance(ty, ArrayType):
                return contains(ty.element, seen)
            if isinstance(ty, StructType):
                if ty in seen:
                    return True
                return any(contains(f, seen + (ty,)) for _, f in ty.fields)
            return False
        if any(contains(f, (st.type,)) for _, f in st.type.fields):
            self.reporter.error(st.module.source, st.node, f"struct {st.type} contains itself",
                                "hold a Ptr to it instead")
            st.type.fields.clear()  # it has no size; later stages must not recurse into it

    def _resolve_global(self, g: GlobalSym) -> None:
        mod = g.module
        stmt = g.node
        assert isinstance(stmt, ast.AnnAssign)
        ann = stmt.annotation.slice if g.readonly and isinstance(stmt.annotation, ast.Subscript) \
            else stmt.annotation
        g.type = self.resolve_type(ann, mod)
        if not self.check_size(g.type, mod, stmt.annotation):
            g.type = VOID
            return
        if stmt.value is None:
            return
        if g.readonly or isinstance(g.type, FuncType):
            g.init = self.constant_value(g.type, stmt.value, mod)
            return
        if isinstance(g.type, PtrType) and _is_null(stmt.value, mod, self):
            return  # NULL: the zero pointer, like every global that is not given a value
        errors = len(self.reporter.diagnostics)
        value = self.const_eval(stmt.value, mod, report=False)
        if value is None:
            if len(self.reporter.diagnostics) == errors:
                self.reporter.error(mod.source, stmt.value, "a global's initial value must be a constant",
                                    "assign it at boot inside a function")
            return
        if isinstance(g.type, IntType):
            if isinstance(value.value, bool) or not isinstance(value.value, int):
                self.reporter.error(mod.source, stmt.value, f"expected {g.type}, found {value.type or 'a string'}")
            elif value.type is not None and value.type != g.type:
                self.reporter.error(mod.source, stmt.value, f"expected {g.type}, found {value.type}")
            elif not g.type.fits(value.value):
                self.reporter.error(mod.source, stmt.value, f"{show_int(value.value)} does not fit {g.type}",
                                    f"{g.type} holds {g.type.min}..{g.type.max}")
            else:
                g.init = value.value
        elif g.type is BOOL:
            if value.type is not BOOL:
                self.reporter.error(mod.source, stmt.value, "expected a bool")
            else:
                g.init = bool(value.value)
        else:
            self.reporter.error(mod.source, stmt.value, f"a global of type {g.type} starts zeroed",
                                "leave out the initial value")

    def constant_value(self, ty: Type, node: ast.expr, mod: Module) -> object:
        """The value of a ``Final`` table or Callable global of type ``ty`` written as ``node``.

        Arrays are tuples of their elements, structs ``S(field=value, ...)`` (fields left out are
        zero), Callables a function's name or NULL, ``Ptr[u8]`` a string or NULL, integers and
        bools constant expressions. Returns the value as GlobalSym.init holds it, or None after
        reporting an error.
        """
        def err(message: str, *hints: str, at: ast.AST = node) -> None:
            self.reporter.error(mod.source, at, message, *hints)

        if isinstance(ty, ArrayType):
            if not isinstance(node, ast.Tuple):
                return err(f"a constant {ty} is written as a tuple of its elements", "(a, b, ...)")
            if len(node.elts) != ty.count:
                return err(f"{ty} needs {ty.count} elements, not {len(node.elts)}")
            items = [self.constant_value(ty.element, e, mod) for e in node.elts]
            return None if any(i is None for i in items) else items
        if isinstance(ty, StructType):
            return self._struct_constant(ty, node, mod)
        if isinstance(ty, FuncType | PtrType) and _is_null(node, mod, self):
            return 0
        if isinstance(ty, FuncType):
            fn = self.resolve_name_expr(node, mod)
            if not isinstance(fn, FuncSym):
                return err(f"expected a function of type {ty}", "name a module-level function, or NULL")
            sig = FuncType(tuple(p.type for p in fn.params), fn.result)
            if sig != ty:
                return err(f"expected {ty}, found {sig}")
            if fn.attrs.interrupt:
                return err(f"'{fn.name}' is an @interrupt handler: only the hardware calls it")
            return fn
        errors = len(self.reporter.diagnostics)
        value = self.const_eval(node, mod, report=True)
        if value is None:
            return None if len(self.reporter.diagnostics) > errors else err("expected a constant")
        v = value.value
        if isinstance(ty, PtrType) and ty.pointee == self.ints["u8"] and isinstance(v, str):
            return v
        if isinstance(ty, IntType) and isinstance(v, int) and not isinstance(v, bool):
            if value.type is not None and value.type != ty:
                return err(f"expected {ty}, found {value.type}")
            if not ty.fits(v):
                return err(f"{show_int(v)} does not fit {ty}", f"{ty} holds {ty.min}..{ty.max}")
            return v
        if ty is BOOL and isinstance(v, bool):
            return v
        return err(f"expected {ty}, found {value.type or ('a string' if isinstance(v, str) else 'int')}")

    def _struct_constant(self, ty: StructType, node: ast.expr, mod: Module) -> object:
        """``S(a, b=...)`` as a constant: fields bound as a call binds parameters, the rest ZERO."""
        sym = self.resolve_name_expr(node.func, mod) if isinstance(node, ast.Call) else None
        if not isinstance(sym, StructSym) or sym.type is not ty:
            self.reporter.error(mod.source, node, f"a constant {ty} is written {ty}(field=value, ...)")
            return None
        assert isinstance(node, ast.Call)
        values: list[object] = [ZERO] * len(ty.fields)
        given = [False] * len(ty.fields)
        if len(node.args) > len(ty.fields):
            self.reporter.error(mod.source, node, f"struct {ty} has {len(ty.fields)} fields")
            return None
        bound: list[tuple[int, ast.expr, ast.AST]] = [(i, a, a) for i, a in enumerate(node.args)]
        for kw in node.keywords:
            idx = ty.field_index(kw.arg) if kw.arg is not None else -1
            if idx < 0:
                self.reporter.error(mod.source, kw, f"struct {ty} has no field '{kw.arg}'",
                                    "fields: " + ", ".join(n for n, _ in ty.fields))
                return None
            bound.append((idx, kw.value, kw))
        for idx, value, at in bound:
            if given[idx]:
                self.reporter.error(mod.source, at, f"field '{ty.fields[idx][0]}' is given twice")
                return None
            given[idx] = True
            values[idx] = self.constant_value(ty.fields[idx][1], value, mod)
            if values[idx] is None:
                return None
        return values

    def _resolve_function(self, fn: FuncSym) -> None:
        mod, node = fn.module, fn.node
        err = self.reporter.error
        for dec in node.decorator_list:
            self._apply_decorator(fn, dec)
        args = node.args
        defaults: list[ast.expr | None] = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(args.args, defaults, strict=True):
            if arg.annotation is None:
                err(mod.source, arg, f"parameter '{arg.arg}' needs a type annotation")
                ty: Type = VOID
            else:
                ty = self.resolve_type(arg.annotation, mod)
            marker = self.resolve_name_expr(arg.annotation, mod) if arg.annotation is not None else None
            converts = isinstance(marker, LangSym) and marker.name == "Arg"
            dsym = None
            if default is not None:
                dsym = self.const_eval(default, mod, report=False)
                if dsym is None and not _is_null(default, mod, self):
                    err(mod.source, default, "a default value must be a constant")
                elif dsym is None:
                    dsym = ConstSym("NULL", 0, ty, default, mod)
            fn.params.append(Param(arg.arg, ty, dsym, arg, converts))
        if fn.attrs.printf_like is not None:
            self._check_printf_like(fn)
        if node.returns is None:
            err(mod.source, node, f"function '{node.name}' needs a return annotation", "write -> None")
        else:
            fn.result = self.resolve_type(node.returns, mod, allow_void=True)
        if fn.attrs.export:
            fn.symbol = fn.attrs.export
        elif fn.attrs.extern:
            fn.symbol = node.name
        if fn.attrs.extern:
            body = [s for s in node.body if not _is_docstring(s)]
            if len(body) != 1 or not (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                                      and body[0].value.value is Ellipsis):
                err(mod.source, node, "an @extern function's body is '...'",
                    "it is defined in assembly or by the linker")

    def _check_printf_like(self, fn: FuncSym) -> None:
        """``@printf_like("fmt")``: ``fmt`` is a Ptr[u8] parameter and every later one an Arg or a usize."""
        names = [p.name for p in fn.params]
        dec = next(d for d in fn.node.decorator_list if decorator_name(d) == "printf_like")
        if fn.attrs.printf_like not in names:
            self.reporter.error(fn.module.source, dec, f"'{fn.name}' has no parameter '{fn.attrs.printf_like}'",
                                "parameters: " + ", ".join(names))
            fn.attrs.printf_like = None
            return
        index = names.index(fn.attrs.printf_like)
        fmt = fn.params[index]
        if fmt.type != PtrType(self.ints["u8"]):
            self.reporter.error(fn.module.source, fmt.node, f"the format parameter '{fmt.name}' must be a Ptr[u8], "
                                f"not {fmt.type}")
            fn.attrs.printf_like = None
            return
        for p in fn.params[index + 1:]:
            if not p.converts and p.type != self.ints["usize"]:
                self.reporter.error(fn.module.source, p.node, f"'{p.name}' follows the format parameter: "
                                    f"it must be an Arg or a usize, not {p.type}")
                fn.attrs.printf_like = None

    def _apply_decorator(self, fn: FuncSym, dec: ast.expr) -> None:
        mod = fn.module
        err = self.reporter.error
        name = decorator_name(dec)
        sym = self.resolve_name_expr(dec.func if isinstance(dec, ast.Call) else dec, mod)
        if not isinstance(sym, LangSym) or sym.name not in DECORATORS:
            err(mod.source, dec, f"unknown decorator '{ast.unparse(dec)}'",
                "known: " + ", ".join(sorted(DECORATORS)))
            return
        name = sym.name
        args = dec.args if isinstance(dec, ast.Call) else []
        if name == "printf_like":
            if len(args) != 1 or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str):
                err(mod.source, dec, "@printf_like takes the name of the format parameter: @printf_like(\"fmt\")")
                return
            fn.attrs.printf_like = args[0].value
            return
        if name in ("section", "export"):
            if not args and name == "export":
                fn.attrs.export = fn.name
                return
            if len(args) != 1 or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str) \
                    or not args[0].value:
                err(mod.source, dec, f"@{name} takes one non-empty string")
                return
            setattr(fn.attrs, name, args[0].value)
            return
        if isinstance(dec, ast.Call):
            err(mod.source, dec, f"@{name} takes no arguments")
            return
        setattr(fn.attrs, name, True)
        if fn.attrs.inline and fn.attrs.noinline:
            err(mod.source, dec, "a function cannot be both @inline and @noinline")

    # ----- the arch interface --------------------------------------------
    def check_arch_interface(self) -> None:
        """Every ``arch/<a>/m.py`` defines the same public functions with the same signatures as the target's.

        language.md, "Architecture code: `arch.`": "Architecture code lives in arch/<arch>/ modules with the
        same names and signatures on every architecture; the compiler checks the interface."
        """
        own = self.root / "arch" / self.target.name
        if not own.is_dir():
            return
        for other in sorted((self.root / "arch").iterdir()):
            if not other.is_dir() or other == own:
                continue
            for path in sorted(own.glob("*.py")):
                peer = other / path.name
                if not peer.is_file():
                    continue
                mine = _signatures(path)
                theirs = _signatures(peer)
                if mine is None or theirs is None:
                    continue
                for fname, (sig, line) in mine.items():
                    src = SourceFile(str(path), path.read_text(encoding="utf-8"))
                    if fname not in theirs:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}' is missing from {peer}",
                            hints=["every architecture's module defines the same functions"]))
                    elif theirs[fname][0] != sig:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}{sig}' differs from "
                            f"'{fname}{theirs[fname][0]}' in {peer}"))


def show_int(value: int) -> str:
    """An integer for a diagnostic: in full when short, else by its size (str() refuses > 4300 digits)."""
    if value.bit_length() <= 128:
        return str(value)
    return f"a constant of {value.bit_length()} bits"


class _Deferred(Symbol):
    """A ``from m import x`` whose ``x`` was not yet bound when the import ran (import cycles)."""

    def __init__(self, module: Module, name: str, node: ast.AST):
        self.module, self.name, self.node = module, name, node


class _NotConst(Exception):
    hard = False  # True: the expression is constant but wrong, an error wherever it stands

    def __init__(self, node: ast.AST | None, message: str = "", *hints: str):
        super().__init__(message)
        self.node, self.message, self.hints = node, message, hints


class _Overflow(_NotConst):
    hard = True

    def __init__(self, node: ast.AST, ty: IntType):
        super().__init__(node, f"signed overflow in a constant expression of type {ty}",
                         f"{ty} holds {ty.min}..{ty.max}")


class _TooLarge(_NotConst):
    hard = True

    def __init__(self, node: ast.AST | None):
        super().__init__(node, f"constant is too large (more than {MAX_CONST_BITS} bits)",
                         "no kcc type is wider than 64 bits")


_CONST_OPS = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
    ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b, ast.BitXor: lambda a, b: a ^ b,
}
_CMP_OPS = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_null(node: ast.expr, mod: Module, prog: Program) -> bool:
    sym = prog.resolve_name_expr(node, mod)
    return isinstance(sym, LangSym) and sym.name == "NULL"


def _signatures(path: Path) -> dict[str, tuple[str, int]] | None:
    """Public function signatures of a file as text: {name: ("(a: u32) -> None", line)}."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError, UnicodeDecodeError, ValueError):
        return None
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("_"):
            params = ", ".join(f"{a.arg}: {ast.unparse(a.annotation) if a.annotation else '?'}"
                               for a in stmt.args.args)
            ret = ast.unparse(stmt.returns) if stmt.returns else "?"
            out[stmt.name] = (f"({params}) -> {ret}", stmt.lineno)
    return out


def module_file(root: Path, dotted: str, arch: str) -> Path | None:
    """The file of module ``dotted`` under source root ``root``, or None; ``arch.x`` is ``arch/<arch>/x.py``.

    The inverse of module_name. A package is its ``__init__.py``.
    """
    parts = dotted.split(".")
    if parts[0] == "arch" and len(parts) > 1:
        parts = ["arch", arch, *parts[1:]]
    base = root.joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def module_name(relative: Path, arch: str) -> str:
    """The dotted name of the module at ``relative`` (a path inside the source root) when compiling for ``arch``.

    ``pkg/__init__.py`` is ``pkg``; ``arch/<arch>/x.py`` is ``arch.x``, the name other modules import it by.
    """
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if len(parts) >= 2 and parts[0] == "arch" and parts[1] == arch:
        parts.pop(1)
    return ".".join(parts)


def resolve_program(root: Path, entry: str, target: Target,
                    board_constants: dict[str, int | str]) -> Program:
    """Load the entry module and everything it imports, then resolve all declarations.

    ``entry`` is a dotted module name or a path to a .py file under ``root``.
    Raises CompileError with every error found.
    """
    prog = Program(root, target, board_constants)
    dotted = entry
    if entry.endswith(".py"):
        path = Path(entry).resolve()
        try:
            rel = path.relative_to(root.resolve())
        except ValueError:
            raise CompileError([Diagnostic(None, 0, 0, f"{entry} is not inside the source root {root}")]) from None
        dotted = module_name(rel, target.name)
        if not path.is_file():
            raise CompileError([Diagnostic(None, 0, 0, f"no such file: {entry}")])
        # A file named by path is compiled as it is, even one of another architecture's arch/ directory.
        prog.entry = prog.load(dotted, None, None, path)
    else:
        prog.entry = prog.load(dotted, None, None)
    prog.reporter.check()
    prog.resolve_declarations()
    prog.check_arch_interface()
    prog.reporter.check()
    return prog

