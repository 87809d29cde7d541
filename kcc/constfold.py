"""Constant folding: ``Final`` constants and constant expressions with Python's integers, and constant initialisers."""

from __future__ import annotations

import ast

from kcc.programstate import ProgramState
from kcc.symbols import ZERO, ConstSym, FuncSym, LangSym, Module, StructSym
from kcc.types import BOOL, ArrayType, FuncType, IntType, PtrType, StructType, Type

# Constant expressions are folded exactly, but no wider than this (the widest type has 64 bits;
# the bound keeps `1 << (1 << 40)` from exhausting memory).
MAX_CONST_BITS = 4096


class ConstFolder(ProgramState):
    """Folds constant expressions and checks constant initial values against their types."""

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
        if isinstance(ty, FuncType | PtrType) and self.names_null(node, mod):
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


def show_int(value: int) -> str:
    """An integer for a diagnostic: in full when short, else by its size (str() refuses > 4300 digits)."""
    if value.bit_length() <= 128:
        return str(value)
    return f"a constant of {value.bit_length()} bits"



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
