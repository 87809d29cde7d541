"""Stage 3: type-check every function body and annotate the ast for lowering.

Each checked expression node gets ``kty`` (its kcc Type) and, when it folds to a
compile-time constant, ``kconst``; names get ``kref``, calls ``kcall`` and
``kargs``, and so on: kcc/notes.py declares every note the lowering reads. Calls
of built-ins are checked by their entry in kcc/builtins.py.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from kcc import formats
from kcc.builtins import BUILTINS, PYTHON_NAMES, REFUSED, REG_METHODS, Builtin
from kcc.diagnostics import SourceFile
from kcc.notes import KCALL, KCONST, KPRUNE, KREF, KTY
from kcc.parse import LoopUse, assigned_names, child_nodes, loop_variable_uses, sub_nodes
from kcc.resolve import (
    ConstSym,
    EnumSym,
    FuncSym,
    GlobalSym,
    LangSym,
    Module,
    ModuleSym,
    PackageSym,
    Program,
    StructSym,
    Symbol,
    show_int,
)
from kcc.types import (
    BOOL,
    CONST_INT,
    NULL_T,
    STR_T,
    VOID,
    ArrayType,
    BoolType,
    ConstIntType,
    FuncType,
    IntType,
    NullType,
    PtrType,
    RegType,
    StrType,
    StructType,
    Type,
)

_OP_TEXT = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Div: "/", ast.Pow: "**",
    ast.MatMult: "@",
}


@dataclass(eq=False)
class LocalVar:
    """A function's local variable or parameter; lowering attaches its stack slot."""

    name: str
    type: Type
    node: ast.AST
    is_param: bool = False
    # Declared by a ``for`` and not assigned since: after its loop it may be unbound (Python raises
    # UnboundLocalError when the loop ran zero times), so reading it there is an error.
    loop_only: bool = False


@dataclass(eq=False)
class CheckedFunction:
    """A function after checking: its symbol plus every local (parameters first)."""

    sym: FuncSym
    locals: list[LocalVar] = field(default_factory=list)


class _Abort(Exception):
    """Stops checking one expression after its error was reported."""


def check_program(prog: Program) -> list[CheckedFunction]:
    """Type-check every function of every module; raises CompileError with all errors found."""
    return check_functions(prog, [fn for mod in list(prog.modules.values()) for fn in mod.functions])


def check_functions(prog: Program, functions: list[FuncSym]) -> list[CheckedFunction]:
    """Type-check ``functions`` in order; raises CompileError with all errors found."""
    out = []
    for fn in functions:
        checker = FunctionChecker(prog, fn)
        checker.run()
        out.append(checker.result)
    prog.reporter.check()
    return out


class FunctionChecker:
    """Checks one function's body against its signature (language.md, "Types" through "Functions")."""

    def __init__(self, prog: Program, fn: FuncSym):
        self.prog = prog
        self.fn = fn
        self.mod: Module = fn.module
        self.src: SourceFile = fn.module.source
        self.result = CheckedFunction(fn)
        self.scope: dict[str, LocalVar] = {}
        self.globals_declared: set[str] = set()
        self.loop_depth = 0
        self.assigned: set[str] = set()
        self._mentions: dict[ast.AST, bool] = {}
        self._folds: dict[ast.AST, ConstSym | None] = {}
        self._sized_locals = 0  # how many of result.locals _sized_bytes holds the size of
        self._sized_bytes = 0
        self.poisoned: set[str] = set()  # locals whose declaration failed: no follow-on errors
        self.active_loop_vars: list[LocalVar] = []  # variables of the for loops being checked

    # ----- reporting ------------------------------------------------------
    def error(self, node: ast.AST, message: str, *hints: str) -> _Abort:
        """Report an error at ``node`` and return the exception that abandons the current statement."""
        self.prog.reporter.error(self.src, node, message, *hints)
        return _Abort()

    # ----- driver ---------------------------------------------------------
    def run(self) -> None:
        """Check the whole function: parameters, decorator rules, body, and that it returns a value."""
        fn = self.fn
        if fn.attrs.extern:
            return
        if fn.attrs.naked:
            self.check_naked()
            return
        if fn.attrs.interrupt and (fn.params or fn.result != VOID):
            self.error(fn.node, "an @interrupt handler takes no parameters and returns None",
                       "the hardware calls it; reach state through globals")
        for p in fn.params:
            if p.default is not None:
                try:
                    self._check_default(fn, p)
                except _Abort:
                    pass
            var = LocalVar(p.name, p.type, p.node, is_param=True)
            self.scope[p.name] = var
            self.result.locals.append(var)
            if not self._storable(p.type):
                self.error(p.node, f"parameter type {p.type} cannot be passed by value")
        self.assigned = set(assigned_names(fn.node.body))
        for stmt in fn.node.body:
            if isinstance(stmt, ast.Global):
                self.globals_declared.update(stmt.names)
        self.assigned -= self.globals_declared
        self.block(fn.node.body)
        if fn.result != VOID and not self.always_leaves(fn.node.body):
            self.error(fn.node, f"function '{fn.name}' can reach its end without returning {fn.result}",
                       "add a return at the end")

    def check_naked(self) -> None:
        """A @naked function has no prologue, so no stack frame: its body is asm(...) statements only."""
        for stmt in self.fn.node.body:
            if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                                              and isinstance(stmt.value.value, str)):
                continue
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            sym = self.prog.resolve_name_expr(call.func, self.mod) if isinstance(call, ast.Call) else None
            if not (isinstance(sym, LangSym) and sym.name == "asm"):
                self.error(stmt, "a @naked function's body holds only asm(...) statements",
                           "it has no stack frame; parameters arrive in the ABI's registers")
                continue
            if any(kw.arg == "out" for kw in call.keywords) or len(call.args) > 1:
                self.error(call, "asm in a @naked function takes no inputs and no out=",
                           "use the ABI's argument and result registers directly")
                continue
            try:
                self.expr(call)
            except _Abort:
                pass

    def _storable(self, ty: Type) -> bool:
        return ty != VOID and not isinstance(ty, RegType)

    def always_leaves(self, body: list[ast.stmt]) -> bool:
        """True when control cannot fall off the end of ``body`` (return, panic, endless loop)."""
        for stmt in body:
            if isinstance(stmt, ast.Return):
                return True
            if isinstance(stmt, ast.If):
                keep = KPRUNE.get(stmt)
                if keep is True and self.always_leaves(stmt.body):
                    return True
                if keep is False and self.always_leaves(stmt.orelse):
                    return True
                if keep is None and self.always_leaves(stmt.body) and self.always_leaves(stmt.orelse):
                    return True
            if isinstance(stmt, ast.While) and KCONST.get(stmt.test) is True \
                    and not any(isinstance(n, ast.Break) for n in _loop_own_nodes(stmt.body)):
                return True
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                kind = KCALL.get(stmt.value)
                if (isinstance(kind, Builtin) and kind.leaves) or (isinstance(kind, FuncSym) and kind.attrs.noreturn):
                    return True
        return False

    def block(self, body: list[ast.stmt]) -> None:
        """Check a statement list, going on after an error so that every error is reported."""
        for stmt in body:
            try:
                self.stmt(stmt)
            except _Abort:
                pass

    # ----- statements -----------------------------------------------------
    def stmt(self, node: ast.stmt) -> None:
        """Check one statement (dispatch on its ast class)."""
        cls = type(node)
        method = _STMT_DISPATCH.get(cls, _MISSING)
        if method is _MISSING:
            method = _STMT_DISPATCH[cls] = getattr(FunctionChecker, f"_stmt_{cls.__name__}", None)
        if method is None:
            raise self.error(node, f"'{cls.__name__}' statements are not in the language")
        method(self, node)

    def _stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def _stmt_Global(self, node: ast.Global) -> None:
        for name in node.names:
            sym = self.prog.lookup(self.mod, name)
            if isinstance(sym, GlobalSym) and sym.readonly:
                self.error(node, f"'{name}' is a Final table: it cannot be assigned")
            elif not isinstance(sym, GlobalSym):
                self.error(node, f"'{name}' is not a module-level variable of this module")

    def _stmt_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, ast.Constant) and (isinstance(value.value, str) or value.value is Ellipsis):
            return
        if not isinstance(value, ast.Call):
            raise self.error(node, "this expression has no effect", "only calls can stand alone")
        self.expr(value)

    def _stmt_Return(self, node: ast.Return) -> None:
        want = self.fn.result
        if node.value is None:
            if want != VOID:
                raise self.error(node, f"return needs a value of type {want}")
            return
        if want == VOID:
            raise self.error(node.value, "this function returns None", "change its return annotation")
        self.coerce(node.value, want)

    def _stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "an annotated assignment declares one local variable")
        ty = self.prog.resolve_type(node.annotation, self.mod)
        if ty == VOID:
            raise _Abort()
        if not self._storable(ty):
            raise self.error(node.annotation, f"a local cannot have type {ty}")
        name = node.target.id
        if name in self.globals_declared:
            raise self.error(node, f"'{name}' was declared global; assign it without an annotation")
        if node.value is not None:
            try:
                self.coerce(node.value, ty)
            except _Abort:
                node.target.kref = self.declare(name, ty, node.target)
                raise
        var = self.declare(name, ty, node.target)
        node.target.kref = var
        node.target.kty = ty

    def declare(self, name: str, ty: Type, node: ast.AST) -> LocalVar:
        """Declare local ``name`` of ``ty`` (or return the existing one of the same type)."""
        fits = self.prog.check_size(ty, self.mod, node)
        old = self.scope.get(name)
        if old is not None:
            old.loop_only = False
            if old.type != ty:
                raise self.error(node, f"'{name}' is already a local of type {old.type}, not {ty}",
                                 "use a new name")
            return old
        if fits:
            self.prog.check_frame(ty, self._locals_bytes(), self.mod, node, self.fn.name)
        var = LocalVar(name, ty, node)
        self.scope[name] = var
        self.result.locals.append(var)
        return var

    def _locals_bytes(self) -> int:
        """The bytes the locals declared so far take (parameters included)."""
        # Summed as locals are added, not anew for each declaration: a long function has hundreds.
        for var in self.result.locals[self._sized_locals:]:
            self._sized_bytes += self.prog.sizeof(var.type)
            self._sized_locals += 1
        return self._sized_bytes

    def _stmt_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            raise self.error(node, "chained assignment (a = b = c) is not in the language")
        target = node.targets[0]
        if isinstance(target, ast.Tuple):
            self.tuple_assign(target, node.value)
            return
        self.assign(target, node.value)

    def assign(self, target: ast.expr, value: ast.expr) -> None:
        """``target = value``: declares a new local by inference, or checks ``value`` against the place."""
        if isinstance(target, ast.Name) and target.id not in self.globals_declared \
                and target.id not in self.scope:
            self.refuse_global_shadow(target)
            try:
                ty = self.expr(value)
            except _Abort:
                self.poisoned.add(target.id)
                raise
            ty = self.settle(value, ty)
            if ty is None:
                raise self.error(value, f"cannot infer the type of '{target.id}' from an untyped constant",
                                 f"annotate it: {target.id}: u32 = {ast.unparse(value)}")
            if not self._storable(ty):
                raise self.error(value, f"a local cannot hold a value of type {ty}")
            var = self.declare(target.id, ty, target)
            target.kref = var
            target.kty = ty
            return
        ty = self.lvalue(target)
        self.coerce(value, ty)

    def refuse_global_shadow(self, target: ast.Name) -> None:
        """Python would make a new local here; kcc asks for ``global`` because shadowing is always a slip."""
        if isinstance(self.prog.lookup(self.mod, target.id), GlobalSym):
            raise self.error(target, f"assigning module-level '{target.id}' needs 'global {target.id}'",
                             "as in Python, add 'global' at the top of the function")

    def tuple_assign(self, target: ast.Tuple, value: ast.expr) -> None:
        """``a, b = x, y``: scalars only; every value is evaluated before any target is assigned."""
        if not isinstance(value, ast.Tuple) or len(value.elts) != len(target.elts):
            raise self.error(value, "tuple assignment needs as many values as targets", "a, b = b, a")
        types = []
        for t, v in zip(target.elts, value.elts, strict=True):
            if isinstance(t, ast.Name) and t.id not in self.globals_declared and t.id not in self.scope:
                self.refuse_global_shadow(t)
                ty = self.settle(v, self.expr(v))
                if ty is None:
                    raise self.error(v, f"cannot infer the type of '{t.id}' from an untyped constant",
                                     f"declare it first: {t.id}: u32 = 0")
                types.append(ty)
            else:
                ty = self.lvalue(t)
                self.coerce(v, ty)
                types.append(ty)
            if not ty.is_scalar:
                raise self.error(v, "tuple assignment is for scalars (integers, bool, pointers)")
        for t, ty in zip(target.elts, types, strict=True):
            if isinstance(t, ast.Name) and KREF.get(t) is None:
                t.kref = self.declare(t.id, ty, t)
                t.kty = ty
        value.kty = VOID
        target.kty = VOID

    def _stmt_AugAssign(self, node: ast.AugAssign) -> None:
        ty = self.lvalue(node.target, reading=True)
        fake = ast.BinOp(left=node.target, op=node.op, right=node.value, lineno=node.lineno,
                         col_offset=node.col_offset, end_lineno=node.end_lineno,
                         end_col_offset=node.end_col_offset)  # ast.copy_location's work, without its loop
        result = self.binop(fake, ty, target_type=ty)
        if result is not ty and result != ty:
            raise self.error(node, f"'{_OP_TEXT.get(type(node.op), '?')}=' gives {result}, not {ty}")
        node.kty = ty

    def _stmt_If(self, node: ast.If) -> None:
        const = self.const_condition(node.test)
        if const is not None:
            node.kprune = const
            self.block(node.body if const else node.orelse)
            return
        self.cond(node.test)
        self.block(node.body)
        self.block(node.orelse)

    def _stmt_While(self, node: ast.While) -> None:
        const = self.const_condition(node.test)
        if const is None:
            self.cond(node.test)
        else:
            node.test.kconst = const
            node.test.kty = BOOL
        self.loop_depth += 1
        self.block(node.body)
        self.loop_depth -= 1

    def _stmt_For(self, node: ast.For) -> None:
        it = node.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
                and "range" not in self.mod.symbols and not self.scope.get("range")):
            raise self.error(it, "for loops run over range(...) only", "for i in range(n):")
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "the loop variable is a single name")
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.error(it, "range takes 1 to 3 positional arguments")
        args = list(it.args)
        name = node.target.id
        if name not in self.scope and name not in self.globals_declared:
            self.refuse_global_shadow(node.target)
        ty: Type | None = self.scope[name].type if name in self.scope else None
        if ty is None:
            for a in args:
                t = self.settle(a, self.expr(a))
                if t is not None:
                    ty = t
                    break
        if ty is None:
            ty = self.loop_type_from_uses(name, node.body)
        if not isinstance(ty, IntType):
            raise self.error(it, f"range runs over integers, not {ty}")
        for a in args[:2]:
            self.coerce(a, ty)
        step: int | None = 1
        if len(args) == 3:
            folded = self.fold(args[2])
            if folded is None:
                self.coerce(args[2], ty)  # checked at run time: zero panics, as Python raises ValueError
                step = None
            elif not isinstance(folded.value, int) or isinstance(folded.value, bool):
                raise self.error(args[2], "range's step is an integer")
            else:
                step = folded.value
                if step == 0:
                    raise self.error(args[2], "range's step cannot be zero")
                if abs(step) > ty.max:
                    raise self.error(args[2], f"a step of {step} is too large for {ty}")
        fresh = name not in self.scope
        var = self.declare(name, ty, node.target)
        var.loop_only = fresh
        node.target.kref = var
        node.target.kty = ty
        node.kstep = step
        self.loop_depth += 1
        self.active_loop_vars.append(var)
        self.block(node.body)
        self.active_loop_vars.pop()
        self.loop_depth -= 1

    def loop_type_from_uses(self, name: str, body: list[ast.stmt]) -> IntType:
        """The type of a loop variable whose range bounds are all untyped (language.md, "Control flow").

        The first use in ``body`` that has a typed other side decides (kcc.parse.loop_variable_uses):
        an argument takes its parameter's type, an operand the other operand's, ``x: T = i`` T,
        ``return i`` the result type. Nothing deciding gives i32, as Rust does for ``0..8``.
        """
        for use in loop_variable_uses(name, body):
            ty = self._use_type(use)
            if isinstance(ty, IntType):
                return ty
        return self.prog.ints["i32"]

    def _use_type(self, use: LoopUse) -> Type | None:
        if use.kind == "declared":
            errors = len(self.prog.reporter.diagnostics)
            ty = self.prog.resolve_type(use.node, self.mod)
            del self.prog.reporter.diagnostics[errors:]  # reported when the statement is checked
            return ty
        if use.kind == "return":
            return self.fn.result
        if use.kind == "operand":
            return self.path_type(use.node)
        call = use.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Name) and call.func.id in self.scope:
            fty = self.scope[call.func.id].type
            if isinstance(fty, FuncType) and isinstance(use.slot, int) and use.slot < len(fty.params):
                return fty.params[use.slot]
            return None
        sym = self.prog.resolve_name_expr(call.func, self.mod)
        if not isinstance(sym, FuncSym):
            return None
        for i, p in enumerate(sym.params):
            if use.slot in (i, p.name):
                return p.type
        return None

    def path_type(self, node: ast.expr) -> Type | None:
        """The type of a name or attribute chain without checking it (no notes, no diagnostics); None
        when it does not name a typed value that exists here."""
        if isinstance(node, ast.Name):
            if node.id in self.scope:
                return self.scope[node.id].type
            if node.id in self.assigned:
                return None  # a local not declared yet
            sym = self.prog.lookup(self.mod, node.id)
        elif isinstance(node, ast.Attribute):
            base = None if isinstance(node.value, ast.Name) and node.value.id in self.scope \
                else self.prog.resolve_name_expr(node.value, self.mod)
            if isinstance(base, ModuleSym | PackageSym):
                sym = self.prog.attribute(base, node.attr)
            else:
                bt = self.path_type(node.value)
                st = bt.pointee if isinstance(bt, PtrType) else bt
                if not isinstance(st, StructType) or st.field_index(node.attr) < 0:
                    return None
                return st.fields[st.field_index(node.attr)][1]
        else:
            return None
        if isinstance(sym, GlobalSym):
            return sym.type
        if isinstance(sym, ConstSym):
            done = self.prog.const_value(sym)
            return done.type if done is not None else None
        return None

    def _stmt_Break(self, node: ast.Break) -> None:
        if not self.loop_depth:
            self.error(node, "'break' outside a loop")

    def _stmt_Continue(self, node: ast.Continue) -> None:
        if not self.loop_depth:
            self.error(node, "'continue' outside a loop")

    def _stmt_Assert(self, node: ast.Assert) -> None:
        self.cond(node.test)
        if node.msg is not None and not (isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str)):
            self.error(node.msg, "an assert message is a string literal")

    def const_condition(self, node: ast.expr) -> bool | None:
        """The value of a condition that folds at compile time (TARGET tests), else None."""
        folded = self.fold(node)
        if folded is None or isinstance(folded.value, str):
            return None
        return bool(folded.value)

    # ----- lvalues --------------------------------------------------------
    def lvalue(self, node: ast.expr, reading: bool = False) -> Type:
        """Type of an assignable place: a local, a ``global``-declared variable, a field or an element."""
        if isinstance(node, ast.Name):
            if node.id in self.globals_declared:
                sym = self.prog.lookup(self.mod, node.id)
                if not isinstance(sym, GlobalSym):
                    raise self.error(node, f"'{node.id}' is not a module-level variable")
                node.kref = sym
                node.kty = sym.type
                return sym.type
            var = self.scope.get(node.id)
            if var is not None and var.loop_only and not any(v is var for v in self.active_loop_vars):
                if reading:
                    var.loop_only = False  # reported once
                    raise self.error(node, f"'{node.id}' is only assigned by a for loop, which may run zero "
                                     "times", f"assign it before the loop, e.g. {node.id}: {var.type} = 0")
                var.loop_only = False  # assigned again: defined from here on
            if var is None:
                self.refuse_global_shadow(node)
                if reading:
                    raise self.error(node, f"'{node.id}' is used before it is assigned")
                raise self.error(node, f"cannot assign to '{node.id}'")
            node.kref = var
            node.kty = var.type
            return var.type
        if isinstance(node, ast.Attribute | ast.Subscript):
            ty = self.expr(node, lvalue=True)
            if isinstance(ty, RegType):
                raise self.error(node, "an MMIO register is written with .write(v)")
            table = self._table_of(node)
            if table is not None:
                raise self.error(node, f"'{table.name}' is a Final table: its elements cannot be assigned",
                                 "copy it into a variable to change it")
            return ty
        raise self.error(node, "cannot assign to this expression")

    def _table_of(self, node: ast.expr) -> GlobalSym | None:
        """The Final table whose memory the place ``node`` lies in (not through a pointer), or None."""
        while True:
            ref = KREF.get(node)
            if isinstance(ref, GlobalSym):
                return ref if ref.readonly else None
            if not isinstance(node, ast.Attribute | ast.Subscript) or isinstance(KTY.get(node.value), PtrType):
                return None
            node = node.value

    # ----- expressions ----------------------------------------------------
    def _mentions_local(self, node: ast.AST) -> bool:
        # Memoised per node: expr() asks again for every sub-expression, which walking each
        # subtree anew made quadratic in the nesting depth. The answer cannot change while
        # the body is checked, since every local is a parameter or one of self.assigned.
        memo = self._mentions
        known = memo.get(node)
        if known is None:
            cls = type(node)
            if cls is ast.Name:
                known = node.id in self.scope or node.id in self.assigned
            else:
                known = False
                for child in () if cls is ast.Constant else sub_nodes(node):
                    mentions = memo.get(child)
                    if mentions is None:
                        # The leaves answered here rather than by a call each: they are most nodes.
                        child_cls = type(child)
                        if child_cls is ast.Name:
                            mentions = memo[child] = child.id in self.scope or child.id in self.assigned
                        elif child_cls is ast.Constant:
                            mentions = memo[child] = False
                        else:
                            mentions = self._mentions_local(child)
                    if mentions:
                        known = True
                        break
            memo[node] = known
        return known

    def fold(self, node: ast.expr) -> ConstSym | None:
        """``node`` folded at compile time, or None when it is not constant here (a local shadows names)."""
        # Memoised per node: expr() folds every expression, and again each operand it types.
        # Folding reads only module-level constants, so an answer given without reporting an
        # error is the answer every time; one that reported is asked again to report again.
        folds = self._folds
        folded = folds.get(node, _MISSING)
        if folded is not _MISSING:
            return folded
        if self._mentions_local(node):
            folds[node] = None
            return None
        diagnostics = self.prog.reporter.diagnostics
        errors = len(diagnostics)
        folded = self.prog.const_eval(node, self.mod)
        if len(diagnostics) == errors:
            folds[node] = folded
        return folded

    def settle(self, node: ast.expr, ty: Type) -> Type | None:
        """Give an untyped constant its final type when its context has none; None if it cannot have one."""
        if isinstance(ty, ConstIntType):
            return None
        if isinstance(ty, StrType):
            node.kty = PtrType(self.prog.ints["u8"])
            return node.kty
        if isinstance(ty, NullType):
            return None
        return ty

    def coerce(self, node: ast.expr, want: Type) -> None:
        """Check ``node`` against the type its context needs (literals and NULL adapt)."""
        got = self.expr(node, want)
        if got is want or got == want:  # types are mostly the same object: no field compare
            return
        if isinstance(want, PtrType | FuncType) and isinstance(got, NullType):
            node.kty = want
            return
        if isinstance(want, PtrType) and isinstance(got, StrType) and want.pointee == self.prog.ints["u8"]:
            node.kty = want
            return
        hint = []
        if isinstance(want, IntType) and isinstance(got, IntType):
            hint = [f"convert it: {want}({ast.unparse(node)})"]
        elif isinstance(want, IntType) and isinstance(got, PtrType):
            hint = [f"take the address: usize({ast.unparse(node)})"]
        elif isinstance(want, PtrType) and isinstance(got, IntType | PtrType):
            hint = [f"cast({want}, {ast.unparse(node)})"]
        raise self.error(node, f"expected {want}, found {got}", *hint)

    def cond(self, node: ast.expr) -> None:
        """Check a condition: bool, or an integer or pointer tested against zero as in Python."""
        ty = self.expr(node)
        if isinstance(ty, ConstIntType):
            self.expr(node, self.prog.ints["i64"])  # e.g. (0 if x else 1): its branches need a type too
        elif not (isinstance(ty, BoolType | IntType | PtrType)):
            raise self.error(node, f"a condition must be a bool, an integer or a pointer, not {ty}")

    def expr(self, node: ast.expr, expected: Type | None = None, lvalue: bool = False) -> Type:
        """Type of ``node`` in a context expecting ``expected`` (None: no constraint); annotates the node."""
        cls = type(node)
        if lvalue:
            pass
        elif cls is not ast.Name and cls is not ast.Attribute:
            folded = self._folds.get(node, _MISSING)  # fold's memo, looked at first: mostly it knows
            if folded is _MISSING:
                diagnostics = self.prog.reporter.diagnostics
                errors = len(diagnostics)
                folded = self.fold(node)
                if folded is None and len(diagnostics) > errors:
                    raise _Abort()  # constant, but wrong (too large): already reported
            if folded is not None:
                return self.constant(node, folded, expected)
        elif not self._mentions_local(node):
            sym = self.prog.resolve_name_expr(node, self.mod) if cls is ast.Attribute else \
                (None if node.id in self.scope else self.prog.lookup(self.mod, node.id))
            if isinstance(sym, ConstSym) or (isinstance(sym, LangSym) and sym.name == "TARGET"):
                return self.constant(node, self._named_constant(node), expected)
        method = _EXPR_DISPATCH.get(cls, _MISSING)
        if method is _MISSING:
            method = _EXPR_DISPATCH[cls] = getattr(FunctionChecker, f"_expr_{cls.__name__}", None)
        if method is None:
            raise self.error(node, f"'{cls.__name__}' expressions are not in the language")
        place = lvalue and isinstance(node, ast.Name | ast.Attribute | ast.Subscript)
        ty = method(self, node, expected, lvalue=True) if place else method(self, node, expected)
        node.kty = ty
        return ty

    def _named_constant(self, node: ast.Name | ast.Attribute) -> ConstSym:
        """The value of the constant (or TARGET) that ``node`` names; raises _Abort after reporting
        why it has none. Memoised with fold's answers: a name is folded where it stands and again
        as each operand it is."""
        folded = self._folds.get(node)
        if folded is None:
            diagnostics = self.prog.reporter.diagnostics
            errors = len(diagnostics)
            folded = self.prog.const_eval(node, self.mod, report=True)
            if folded is None:
                raise _Abort()
            if len(diagnostics) == errors:
                self._folds[node] = folded
        return folded

    def constant(self, node: ast.expr, folded: ConstSym, expected: Type | None) -> Type:
        """Annotate ``node`` with its folded value and give it a type: ``expected`` for an untyped integer."""
        value, ty = folded.value, folded.type
        node.kconst = value
        if isinstance(value, str):
            node.kty = STR_T
            return STR_T
        if isinstance(value, bool) or ty is BOOL:
            node.kty = BOOL
            return BOOL
        if ty is None:
            if isinstance(expected, IntType):
                if not expected.fits(value):
                    raise self.error(node, f"{show_int(value)} does not fit {expected}",
                                     f"{expected} holds {expected.min}..{expected.max}")
                ty = expected
            else:
                ty = CONST_INT
        node.kty = ty
        return ty

    def _expr_Constant(self, node: ast.Constant, expected: Type | None) -> Type:
        raise self.error(node, f"constant {node.value!r} is not in the language")

    def _expr_Name(self, node: ast.Name, expected: Type | None, lvalue: bool = False) -> Type:
        var = self.scope.get(node.id)
        if var is not None and node.id not in self.globals_declared:
            if var.loop_only and not lvalue and not any(v is var for v in self.active_loop_vars):
                var.loop_only = False  # reported once
                raise self.error(node, f"'{node.id}' is only assigned by a for loop, which may run zero times",
                                 f"assign it before the loop, e.g. {node.id}: {var.type} = 0")
            node.kref = var
            return var.type
        if node.id in self.poisoned:
            raise _Abort()
        if node.id in self.assigned:
            raise self.error(node, f"local '{node.id}' is used before it is assigned")
        sym = self.prog.lookup(self.mod, node.id)
        return self._symbol_value(node, sym, expected)

    def _symbol_value(self, node: ast.expr, sym: Symbol | None, expected: Type | None) -> Type:
        name = ast.unparse(node)
        if isinstance(sym, GlobalSym):
            node.kref = sym
            return sym.type
        if isinstance(sym, LangSym) and sym.name == "NULL":
            node.kref = sym
            return expected if isinstance(expected, PtrType | FuncType) else NULL_T
        if isinstance(sym, FuncSym):
            return self.function_value(node, sym)
        if isinstance(sym, ModuleSym | PackageSym):
            raise self.error(node, f"module '{name}' used as a value")
        if isinstance(sym, StructSym | LangSym | EnumSym):
            raise self.error(node, f"'{name}' is a type or a built-in, not a value")
        if node.__class__ is ast.Name and node.id in ("True", "False", "None"):
            raise self.error(node, f"'{name}' cannot be used here")
        raise self.error(node, f"name '{name}' is not defined")

    def function_value(self, node: ast.expr, fn: FuncSym) -> FuncType:
        """A module-level function used as a value: its address, typed ``Callable[[params], result]``."""
        if fn.attrs.interrupt:
            raise self.error(node, f"'{fn.name}' is an @interrupt handler: it is not a value",
                             f"addr({fn.name}) gives its address as a usize")
        node.kfunc = fn
        return FuncType(tuple(p.type for p in fn.params), fn.result)

    def _expr_Attribute(self, node: ast.Attribute, expected: Type | None, lvalue: bool = False) -> Type:
        base_sym = self.prog.resolve_name_expr(node.value, self.mod) \
            if not (isinstance(node.value, ast.Name) and node.value.id in self.scope) else None
        if isinstance(base_sym, ModuleSym | PackageSym):
            sym = self.prog.attribute(base_sym, node.attr)
            if sym is None:
                raise self.error(node, f"module '{ast.unparse(node.value)}' has no name '{node.attr}'")
            if isinstance(sym, GlobalSym) and lvalue:
                raise self.error(node, "assign another module's variable through a function of that module")
            return self._symbol_value(node, sym, expected)
        if isinstance(base_sym, EnumSym):
            if lvalue and node.attr in base_sym.members:
                raise self.error(node, f"{base_sym.name}.{node.attr} is a constant")
            raise self.error(node, f"IntEnum {base_sym.name} has no member '{node.attr}'",
                             "members: " + ", ".join(base_sym.members))
        base = self.expr(node.value, lvalue=lvalue) if lvalue else self.expr(node.value)
        struct = base.pointee if isinstance(base, PtrType) else base
        if not isinstance(struct, StructType):
            if isinstance(base, StrType):
                raise self.error(node, "str methods are not in the language")
            raise self.error(node, f"{base} has no fields")
        idx = struct.field_index(node.attr)
        if idx < 0:
            raise self.error(node, f"struct {struct} has no field '{node.attr}'",
                             "fields: " + ", ".join(n for n, _ in struct.fields))
        node.kfield = idx
        return struct.fields[idx][1]

    def _expr_Subscript(self, node: ast.Subscript, expected: Type | None, lvalue: bool = False) -> Type:
        base = self.expr(node.value, lvalue=lvalue) if lvalue else self.expr(node.value)
        if isinstance(base, ArrayType):
            elem = base.element
        elif isinstance(base, PtrType):
            elem = base.pointee
        else:
            raise self.error(node.value, f"{base} cannot be indexed")
        ity = self.expr(node.slice, self.prog.ints["usize"])
        if isinstance(ity, ConstIntType):
            ity = self.prog.ints["isize"]
        if not isinstance(ity, IntType):
            raise self.error(node.slice, f"an index is an integer, not {ity}")
        k = KCONST.get(node.slice)
        if isinstance(base, ArrayType) and isinstance(k, int) and not 0 <= k < base.count:
            raise self.error(node.slice, f"index {k} is out of bounds for {base}")
        return elem

    def _expr_UnaryOp(self, node: ast.UnaryOp, expected: Type | None) -> Type:
        if isinstance(node.op, ast.Not):
            self.cond(node.operand)
            return BOOL
        ty = self.expr(node.operand, expected)
        if not isinstance(ty, IntType):
            raise self.error(node, f"unary operator needs an integer, not {ty}")
        return ty

    def _expr_BoolOp(self, node: ast.BoolOp, expected: Type | None) -> Type:
        for v in node.values:
            ty = self.expr(v, BOOL)
            if ty is not BOOL:
                raise self.error(v, f"'{'and' if isinstance(node.op, ast.And) else 'or'}' takes bools, not {ty}",
                                 "compare explicitly, e.g. x != 0")
        return BOOL

    def binop(self, node: ast.BinOp, expected: Type | None, target_type: Type | None = None) -> Type:
        """Type a binary operation: both sides of one integer type (a constant adapts), pointer +/- integer,
        bool & | ^, or a shift by an amount of any integer type. ``target_type`` is an augmented
        assignment's place type.
        """
        op = type(node.op)
        sym = _OP_TEXT.get(op, "?")
        if op in (ast.Div, ast.Pow, ast.MatMult):
            hint = ["use // for integer division"] if op is ast.Div else []
            raise self.error(node, f"'{sym}' is not in the language", *hint)
        left_expected = expected if not isinstance(expected, BoolType) else None
        if target_type is not None:
            lt = target_type
        elif KCONST.get(node.left) is not None or self.fold(node.left) is not None:
            lt = None  # decided by the right side
        else:
            lt = self.expr(node.left, left_expected)
        if op in (ast.LShift, ast.RShift):
            if lt is None:
                lt = self.expr(node.left, left_expected)
                if isinstance(lt, ConstIntType):
                    raise self.error(node.left, "cannot tell the type of this constant shift",
                                     f"write {ast.unparse(node.left)} as a typed value, e.g. u32(...)")
            if not isinstance(lt, IntType):
                raise self.error(node, f"'{sym}' needs integers, not {lt}")
            rt = self.expr(node.right)
            if isinstance(rt, ConstIntType):
                k = KCONST.get(node.right)
                if k is not None and k < 0:
                    raise self.error(node.right, "negative shift amount")
                # A constant amount (or a choice of constants) is exact in u64 for any shift that matters.
                rt = self.expr(node.right, self.prog.ints["u64"] if k is None or k < 1 << 64 else None)
                if k is not None and k >= 1 << 64:
                    node.right.kty = self.prog.ints["u64"]
            elif not isinstance(rt, IntType):
                raise self.error(node.right, f"a shift amount is an integer, not {rt}")
            return lt
        if lt is None:
            rt = self.expr(node.right, left_expected)
            lt = self.expr(node.left, rt if not isinstance(rt, ConstIntType) else left_expected)
        else:
            rt = self.expr(node.right, lt if not isinstance(lt, PtrType) else self.prog.ints["isize"])
        if isinstance(lt, PtrType) and op in (ast.Add, ast.Sub):
            if isinstance(rt, ConstIntType):
                node.right.kty = self.prog.ints["isize"]
                return lt
            if isinstance(rt, IntType):
                return lt
            raise self.error(node, f"a pointer moves by an integer, not {rt}")
        if isinstance(lt, BoolType) and isinstance(rt, BoolType) and op in (ast.BitAnd, ast.BitOr, ast.BitXor):
            return BOOL
        if isinstance(lt, ConstIntType) and isinstance(rt, ConstIntType):
            raise self.error(node, "cannot tell the type of this constant expression",
                             "give one operand a type, e.g. u32(...)")
        if isinstance(lt, ConstIntType):
            lt = self.expr(node.left, rt)
        if isinstance(rt, ConstIntType):
            rt = self.expr(node.right, lt)
        if not isinstance(lt, IntType) or not isinstance(rt, IntType):
            raise self.error(node, f"'{sym}' needs integers, not {lt} and {rt}")
        if lt is not rt and lt != rt:
            raise self.error(node, f"cannot mix {lt} and {rt} in '{sym}'",
                             f"convert one side, e.g. {lt}({ast.unparse(node.right)})")
        return lt

    # A BinOp expression is checked as binop checks an augmented assignment's, without a place type.
    _expr_BinOp = binop

    def _is_const(self, node: ast.expr) -> bool:
        return self.fold(node) is not None

    def _expr_Compare(self, node: ast.Compare, expected: Type | None) -> Type:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            self.compare_pair(node, op, left, right)
            left = right
        return BOOL

    def compare_pair(self, node: ast.Compare, op: ast.cmpop, left: ast.expr, right: ast.expr) -> None:
        """Check one link of a (possibly chained) comparison: same integer type, pointers, or bools with ==/!=."""
        if self._is_const(left) and not self._is_const(right):
            rt = self.expr(right)
            lt = self.expr(left, rt)
        else:
            lt = self.expr(left) if KTY.get(left) is None else left.kty
            rt = self.expr(right, lt)
            if isinstance(lt, ConstIntType) and isinstance(rt, IntType):
                lt = self.expr(left, rt)
        if isinstance(lt, NullType) and isinstance(rt, PtrType | FuncType):
            left.kty = rt
            lt = rt
        if isinstance(rt, NullType) and isinstance(lt, PtrType | FuncType):
            right.kty = lt
            rt = lt
        if isinstance(lt, ConstIntType) and isinstance(rt, ConstIntType):
            self.expr(left, self.prog.ints["i64"])
            self.expr(right, self.prog.ints["i64"])
            return
        ordered = not isinstance(op, ast.Eq | ast.NotEq)
        if isinstance(lt, StrType) or isinstance(rt, StrType):
            raise self.error(node, "a string literal cannot be compared: '==' would compare addresses",
                             "compare the bytes, e.g. with a strcmp-style function over Ptr[u8]")
        if isinstance(lt, IntType) and (lt is rt or lt == rt):
            return
        if isinstance(lt, PtrType) and isinstance(rt, PtrType):
            if lt != rt:
                raise self.error(node, f"cannot compare {lt} with {rt}", f"cast one side: cast({lt}, ...)")
            return
        if isinstance(lt, BoolType | FuncType) and lt == rt and not ordered:
            return
        if isinstance(lt, IntType) and isinstance(rt, IntType):
            raise self.error(node, f"cannot mix {lt} and {rt} in a comparison",
                             f"convert one side, e.g. {lt}({ast.unparse(right)})")
        raise self.error(node, f"cannot compare {lt} with {rt}")

    def _expr_IfExp(self, node: ast.IfExp, expected: Type | None) -> Type:
        self.cond(node.test)
        bt = self.expr(node.body, expected)
        et = self.expr(node.orelse, bt if not isinstance(bt, ConstIntType | NullType) else expected)
        if isinstance(bt, ConstIntType | NullType) and not isinstance(et, ConstIntType | NullType):
            bt = self.expr(node.body, et)
        text = PtrType(self.prog.ints["u8"])
        if isinstance(bt, StrType) and (isinstance(et, StrType) or et == text):
            node.body.kty = node.orelse.kty = text  # a string literal is a Ptr[u8] beside another
            return text
        if isinstance(et, StrType) and bt == text:
            node.orelse.kty = text
            return text
        if bt != et:
            raise self.error(node, f"the two branches differ: {bt} and {et}")
        return bt

    def _expr_Tuple(self, node: ast.Tuple, expected: Type | None) -> Type:
        raise self.error(node, "tuples are only for tuple assignment (a, b = b, a)")

    # ----- calls ----------------------------------------------------------
    def _expr_Call(self, node: ast.Call, expected: Type | None) -> Type:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in REG_METHODS and not self._is_module_path(func.value):
            return self.builtin_call(node, BUILTINS[f"Reg.{func.attr}"], expected)
        if isinstance(func, ast.Name) and func.id not in self.scope and func.id not in self.mod.symbols:
            if func.id in PYTHON_NAMES:
                return self.builtin_call(node, BUILTINS[func.id], expected)
            if func.id in REFUSED:
                raise self.error(node, *REFUSED[func.id])
        sym = self.prog.resolve_name_expr(func, self.mod) if not (
            isinstance(func, ast.Name) and func.id in self.scope) else None
        if isinstance(sym, FuncSym):
            return self.call_function(node, sym)
        if isinstance(sym, LangSym):
            if sym.name not in BUILTINS:
                raise self.error(node, f"'{sym.name}' cannot be called here")
            return self.builtin_call(node, BUILTINS[sym.name], expected)
        if isinstance(sym, StructSym):
            raise self.error(node, f"struct {sym.type} is not called",
                             "declare a variable of the struct type; its fields start zeroed")
        fty = self.callee_type(func, sym)
        if fty is not None:
            return self.call_value(node, fty)
        if isinstance(func, ast.Attribute):
            base_ty = self.expr(func.value)
            if isinstance(base_ty, StrType | PtrType):
                raise self.error(node, f"{base_ty} has no methods", "str methods are not in the language")
            raise self.error(node, f"'{ast.unparse(func)}' cannot be called")
        if isinstance(func, ast.Name) and sym is None and func.id not in self.scope:
            raise self.error(func, f"name '{func.id}' is not defined")
        raise self.error(node, f"'{ast.unparse(func)}' is not a function")

    def _is_module_path(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in self.scope:
            return False
        return isinstance(self.prog.resolve_name_expr(node, self.mod), ModuleSym | PackageSym)

    def callee_type(self, func: ast.expr, sym: Symbol | None) -> FuncType | None:
        """The Callable type of a called variable, field or element, or None when it is not one."""
        if isinstance(func, ast.Attribute) and sym is None and not self._is_module_path(func.value):
            base = self.expr(func.value)
            st = base.pointee if isinstance(base, PtrType) else base
            if not isinstance(st, StructType) or st.field_index(func.attr) < 0:
                return None
        elif not (isinstance(sym, GlobalSym) or isinstance(func, ast.Subscript)
                  or (isinstance(func, ast.Name) and func.id in self.scope)):
            return None
        ty = self.expr(func)
        return ty if isinstance(ty, FuncType) else None

    def call_value(self, node: ast.Call, fty: FuncType) -> Type:
        """A call through a function value: positional arguments checked against the Callable's types."""
        if node.keywords:
            raise self.error(node.keywords[0], "a call through a function value takes positional arguments",
                             "a Callable has no parameter names")
        if len(node.args) != len(fty.params):
            raise self.error(node, f"{fty} takes {len(fty.params)} arguments, {len(node.args)} given")
        for a, t in zip(node.args, fty.params, strict=True):
            self.coerce(a, t)
        node.kcall = fty
        return fty.result

    def builtin_call(self, node: ast.Call, builtin: Builtin, expected: Type | None) -> Type:
        """Check a call of a built-in through its entry in kcc.builtins.BUILTINS."""
        node.kcall = builtin
        return builtin.check(self, node, expected)

    def names_variable(self, node: ast.expr) -> bool:
        """True when the checked Name ``node`` denotes a local or a module-level variable."""
        return isinstance(KREF.get(node), LocalVar | GlobalSym)

    def call_function(self, node: ast.Call, fn: FuncSym) -> Type:
        """Bind positional and keyword arguments to ``fn``'s parameters, fill defaults, check each argument.

        A call of a ``@printf_like`` function with a constant format also has the format checked
        against its arguments (kcc/formats.py).
        """
        if fn.attrs.interrupt:
            raise self.error(node, f"'{fn.name}' is an @interrupt handler: only the hardware calls it",
                             "move the work into an ordinary function both can call")
        params = fn.params
        bound: list[ast.expr | ConstSym | None] = [None] * len(params)
        if len(node.args) > len(params):
            raise self.error(node, f"'{fn.name}' takes {len(params)} arguments, {len(node.args)} given")
        for i, a in enumerate(node.args):
            bound[i] = a
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error(kw, "**kwargs is not in the language")
            idx = next((i for i, p in enumerate(params) if p.name == kw.arg), -1)
            if idx < 0:
                raise self.error(kw, f"'{fn.name}' has no parameter '{kw.arg}'",
                                 "parameters: " + ", ".join(p.name for p in params))
            if bound[idx] is not None:
                raise self.error(kw, f"'{kw.arg}' is given twice")
            bound[idx] = kw.value
        for i, p in enumerate(params):
            if bound[i] is None:
                if p.default is None:
                    raise self.error(node, f"missing argument '{p.name}' of '{fn.name}'")
                bound[i] = p.default
            elif p.converts:
                self.format_argument(bound[i], f"'{p.name}' of '{fn.name}'")
            else:
                self.coerce(bound[i], p.type)
        if fn.attrs.printf_like is not None:
            formats.check_call(self, node, fn, bound)
        node.kcall = fn
        node.kargs = bound
        return fn.result

    def format_argument(self, node: ast.expr, what: str) -> None:
        """A formatting argument (an ``Arg`` parameter's, a log call's): any integer, bool, pointer or string,
        converted as usize(x); ``what`` names the argument in the error raised for anything else."""
        ty = self.expr(node)
        if isinstance(ty, ConstIntType):
            k = KCONST.get(node)
            # A negative constant is an isize, converted as usize(-1) would be; the rest must fit a usize.
            ty = self.expr(node, self.prog.ints["isize" if k is not None and k < 0 else "usize"])
        if isinstance(ty, StrType | NullType):
            node.kty = PtrType(self.prog.ints["u8"])
        elif not isinstance(ty, IntType | BoolType | PtrType):
            raise self.error(node, f"{what} formats an integer, a bool or a pointer, not {ty}")

    def _check_default(self, fn: FuncSym, p) -> None:
        d = p.default
        if isinstance(p.type, IntType):
            if isinstance(d.value, bool) or not isinstance(d.value, int) or not p.type.fits(d.value) \
                    or (d.type is not None and d.type != p.type):
                raise self.error(p.node, f"default {show_int(d.value) if isinstance(d.value, int) else repr(d.value)} "
                                 f"does not fit {p.type}")
        elif p.type is BOOL and not isinstance(d.value, bool):
            raise self.error(p.node, f"default {d.value!r} is not a bool")
        elif isinstance(p.type, PtrType) and not (d.value == 0 or isinstance(d.value, str)):
            raise self.error(p.node, "a pointer parameter's default is NULL or a string")
        elif isinstance(p.type, FuncType) and d.name != "NULL":
            raise self.error(p.node, "a Callable parameter's default is NULL")


# FunctionChecker's method for each statement and expression class (None: not in the language),
# filled as classes are met: the checker dispatches on every node it checks.
_MISSING = object()
_STMT_DISPATCH: dict[type, Callable[..., None] | None] = {}
_EXPR_DISPATCH: dict[type, Callable[..., Type] | None] = {}

def _loop_own_nodes(body: list[ast.stmt]):
    """Nodes of a loop body, not descending into nested loops (their breaks are their own)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        for child in child_nodes(node):
            if not isinstance(child, ast.While | ast.For):
                stack.append(child)

