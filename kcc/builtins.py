"""The language's built-in functions: one table, each entry with its check, its lowering and its CPython meaning.

A call of a built-in (``u32(x)``, ``addr(v)``, ``min(a, b)``, ``reg.read()``,
...) is checked by the entry's ``check`` (kcc.typecheck hands it the
FunctionChecker) and lowered by its ``lower`` (kcc.lower hands it the
FunctionLowerer); ``python`` names what gives the call the same meaning under
``kcc.load_python``. Adding a built-in is adding an entry to BUILTINS and, when
it has a CPython meaning of its own, a function to kcc.lang.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kcc import formats, logs
from kcc import llir as ir
from kcc.notes import KCONST, KFUNC
from kcc.resolve import ConstSym, FuncSym
from kcc.runtime import LOG_ARGS, LOG_KIND_BITS, LOG_SYMBOL, LOG_TEXT_SYMBOL, LogKind, PanicKind
from kcc.symbols import symbol_name_problem
from kcc.types import (
    BOOL,
    VOID,
    ArrayType,
    BoolType,
    ConstIntType,
    IntType,
    PtrType,
    RegType,
    StrType,
    StructType,
    Type,
    VoidType,
)

if TYPE_CHECKING:
    from kcc.lower import FunctionLowerer
    from kcc.typecheck import FunctionChecker

PTR = ir.PointerType()

Check = Callable[["FunctionChecker", ast.Call, "Type | None"], Type]
Lower = Callable[["FunctionLowerer", ast.Call], "ir.Value | None"]


@dataclass(frozen=True, eq=False)
class Builtin:
    """One built-in function.

    Attributes:
        name: its spelling in the source (``"Reg.read"`` for a register method).
        check: types a call, annotating the nodes (kcc.notes); raises through ``chk.error`` on misuse.
        lower: emits a checked call and returns its value (None for no value); None when no call
            reaches lowering (the checker folds every valid one to a constant, as ``len``).
        python: where kcc.load_python finds the call's meaning (kcc.lang or Python's builtins).
        leaves: True when control never continues after the call (``panic``).
    """

    name: str
    check: Check
    lower: Lower | None
    python: str
    leaves: bool = False


# ----- conversions -------------------------------------------------------------------------------

def _conversion(name: str) -> Builtin:
    """``T(x)`` for the integer type ``name``: reduce modulo 2**bits (language.md, "Conversions are explicit")."""

    def check(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
        ints = chk.prog.ints
        args = node.args
        if len(args) != 1 or node.keywords:
            raise chk.error(node, f"{name}() converts one value")
        ty = chk.expr(args[0], None)
        if isinstance(ty, ConstIntType):
            k = KCONST.get(args[0])
            if k is not None:
                # A constant the folder could not see through, e.g. len() of a local Array.
                node.kconst = ints[name].wrap(k)
                return ints[name]
            # A choice of constants (1 if c else 2): exact in i64, then converted like any value.
            ty = chk.expr(args[0], ints["i64"])
        if not isinstance(ty, IntType | BoolType | PtrType | StrType):
            raise chk.error(args[0], f"cannot convert {ty} to {name}")
        if isinstance(ty, StrType):
            args[0].kty = PtrType(ints["u8"])
        return ints[name]

    def lower(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
        return fl.convert(node.args[0], fl.low.prog.ints[name])

    return Builtin(name, check, lower, f"kcc.lang.{name}")


# ----- Python's builtins the language keeps --------------------------------------------------------

def _check_len(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 1 or node.keywords:
        raise chk.error(node, "len takes one Array")
    ty = chk.expr(node.args[0])
    if not isinstance(ty, ArrayType):
        raise chk.error(node.args[0], f"len() takes an Array, not {ty}")
    return chk.constant(node, ConstSym("len", ty.count, None, node, chk.mod), expected)


def _check_bool(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 1 or node.keywords:
        raise chk.error(node, "bool takes one value")
    chk.cond(node.args[0])
    return BOOL


def _lower_bool(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    return fl.truth(node.args[0])


def same_int_type(chk: FunctionChecker, node: ast.Call, args: list[ast.expr], expected: Type | None,
                  what: str) -> IntType:
    """Check ``args`` as integers of one type (untyped constants adapt) and return that type.

    The type is the first typed argument's, else the context's (``expected``). Raises through
    ``chk.error`` when an argument is not an integer, two types mix, or nothing gives a type.
    """
    want = expected if isinstance(expected, IntType) else None
    ty: IntType | None = None
    for a in args:
        t = chk.expr(a, want)
        if isinstance(t, IntType):
            ty = t
            break
        if not isinstance(t, ConstIntType):
            raise chk.error(a, f"{what} takes integers, not {t}")
    ty = ty or want
    if ty is None:
        raise chk.error(node, f"cannot tell the type of this {what}", "give one argument a type, e.g. u32(...)")
    for a in args:
        t = chk.expr(a, ty)
        if isinstance(t, IntType) and t != ty:
            raise chk.error(a, f"cannot mix {ty} and {t} in {what}", f"convert it: {ty}({ast.unparse(a)})")
        if t != ty:
            raise chk.error(a, f"{what} takes integers, not {t}")
    return ty


def _check_min_max(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    name = node.func.id if isinstance(node.func, ast.Name) else "min"
    if len(node.args) < 2 or node.keywords:
        raise chk.error(node, f"{name} takes two or more integers of one type", f"{name}(a, b)")
    return same_int_type(chk, node, node.args, expected, f"{name}()")


def _lower_min_max(smaller: bool) -> Lower:
    def lower(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
        ty: IntType = node.kty
        b = fl.builder
        best = fl.value(node.args[0])
        for a in node.args[1:]:
            v = fl.value(a)
            # Python keeps the first of equal values; for integers the two are the same value.
            op = "<" if smaller else ">"
            better = b.icmp_signed(op, v, best) if ty.signed else b.icmp_unsigned(op, v, best)
            best = b.select(better, v, best)
        return best
    return lower


def _check_abs(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 1 or node.keywords:
        raise chk.error(node, "abs takes one integer")
    return same_int_type(chk, node, node.args, expected, "abs()")


def _lower_abs(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    ty: IntType = node.kty
    v = fl.value(node.args[0])
    if not ty.signed:
        return v
    b = fl.builder
    zero = ir.Constant(v.type, 0)
    if fl.low.checked:
        # abs(MIN) does not fit: Python's exact result overflows the type (kind OVERFLOW, as -x).
        is_min = b.icmp_signed("==", v, ir.Constant(v.type, 1 << (ty.bits - 1)))
        fl.check(is_min, PanicKind.OVERFLOW, node, f"signed overflow in '{ast.unparse(node)}'")
    return b.select(b.icmp_signed("<", v, zero), b.sub(zero, v), v)


def _refused(message: str, *hints: str) -> Check:
    def check(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
        raise chk.error(node, message, *hints)
    return check


# ----- pointers and memory ---------------------------------------------------------------------------

def _check_cast(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    args = node.args
    if len(args) != 2:
        raise chk.error(node, "cast takes a pointer type and a value: cast(Ptr[T], v)")
    ty = chk.prog.resolve_type(args[0], chk.mod)
    if not isinstance(ty, PtrType):
        raise chk.error(args[0], f"cast makes pointers; for integers write {ty}(v)")
    vt = chk.expr(args[1], chk.prog.ints["usize"])
    if not isinstance(vt, IntType | PtrType | StrType):
        raise chk.error(args[1], f"cannot cast {vt} to a pointer")
    return ty


def _lower_cast(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    v = fl.value(node.args[1])
    src = node.args[1].kty
    if isinstance(src, IntType):
        return fl.builder.inttoptr(fl.widen(v, src, fl.low.target.pointer_bits), PTR)
    return v


def _check_addr(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    args = node.args
    if len(args) != 1:
        raise chk.error(node, "addr takes one variable, field or element")
    a = args[0]
    sym = None if isinstance(a, ast.Name) and a.id in chk.scope else chk.prog.resolve_name_expr(a, chk.mod)
    if isinstance(sym, FuncSym):
        a.kty = VOID
        node.kfunc = sym
        return chk.prog.ints["usize"]
    if isinstance(a, ast.Name):
        ty = chk.expr(a)
        if not chk.names_variable(a):
            raise chk.error(a, "addr takes a variable, a field or an element")
    elif isinstance(a, ast.Attribute | ast.Subscript):
        ty = chk.expr(a, lvalue=True)
    else:
        raise chk.error(a, "addr takes a variable, a field or an element")
    if isinstance(ty, RegType):
        ty = ty.value
    return PtrType(ty)


def _lower_addr(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    fn = KFUNC.get(node)
    if fn is not None:
        return fl.builder.ptrtoint(fl.low.declare_function(fn), fl.low.val_ty(fl.low.usize))
    return fl.address(node.args[0])


def _scalar_pointer(chk: FunctionChecker, node: ast.expr, what: str) -> PtrType:
    pt = chk.expr(node)
    if not isinstance(pt, PtrType) or not pt.pointee.is_scalar:
        raise chk.error(node, f"{what} needs a pointer to a scalar, not {pt}")
    return pt


def _check_volatile_load(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 1 or node.keywords:
        raise chk.error(node, "volatile_load takes one pointer")
    return _scalar_pointer(chk, node.args[0], "volatile_load").pointee


def _lower_volatile_load(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    return fl.load(fl.value(node.args[0]), node.kty, volatile=True)


def _check_volatile_store(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 2 or node.keywords:
        raise chk.error(node, "volatile_store takes a pointer and a value")
    pt = _scalar_pointer(chk, node.args[0], "volatile_store")
    chk.coerce(node.args[1], pt.pointee)
    return VOID


def _lower_volatile_store(fl: FunctionLowerer, node: ast.Call) -> None:
    ptr = fl.value(node.args[0])
    fl.store(fl.value(node.args[1]), ptr, node.args[1].kty, volatile=True)


def _check_mmio(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    if len(node.args) != 2:
        raise chk.error(node, "mmio takes a register-block struct and a base address")
    st = chk.prog.resolve_type(node.args[0], chk.mod)
    if not isinstance(st, StructType):
        raise chk.error(node.args[0], "mmio's first argument is a @struct")
    chk.coerce(node.args[1], chk.prog.ints["usize"])
    return PtrType(st)


def _lower_mmio(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    return fl.builder.inttoptr(fl.value(node.args[1]), PTR)


def _string_argument(chk: FunctionChecker, node: ast.Call, message: str) -> str:
    args = node.args
    if len(args) != 1 or node.keywords or not isinstance(args[0], ast.Constant) \
            or not isinstance(args[0].value, str):
        raise chk.error(node, message)
    return args[0].value


def _check_extern_symbol(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    name = _string_argument(chk, node, "extern_symbol takes the symbol's name as a string literal")
    problem = symbol_name_problem(name)
    if problem is not None:
        raise chk.error(node.args[0], f"the symbol name {name!r} {problem}")
    return chk.prog.ints["usize"]


def _lower_extern_symbol(fl: FunctionLowerer, node: ast.Call) -> ir.Value:
    gv = fl.low.extern_symbol(node.args[0].value)
    return fl.builder.ptrtoint(gv, fl.low.val_ty(fl.low.usize))


def _check_panic(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    _string_argument(chk, node, "panic takes a message string literal")
    node.args[0].kty = PtrType(chk.prog.ints["u8"])
    return VOID


def _lower_panic(fl: FunctionLowerer, node: ast.Call) -> None:
    fl.panic(PanicKind.EXPLICIT, node, node.args[0].value)
    fl.builder.position_at_end(fl.new_block("after_panic"))


# ----- inline assembly --------------------------------------------------------------------------------

def _check_asm(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
    """``asm(template, *inputs, out=T, clobbers=...)``: scalar inputs, operand references in range."""
    ints = chk.prog.ints
    if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
        raise chk.error(node, "asm's first argument is the template string literal")
    for a in node.args[1:]:
        ty = chk.expr(a)
        if isinstance(ty, ConstIntType):
            chk.coerce(a, ints["usize"])
        elif not isinstance(ty, IntType | PtrType | BoolType):
            raise chk.error(a, f"an asm input is a scalar, not {ty}")
    out: Type = VOID
    clobbers: list[str] = []
    for kw in node.keywords:
        if kw.arg == "out":
            out = chk.prog.resolve_type(kw.value, chk.mod)
            if not (isinstance(out, IntType | PtrType)):
                raise chk.error(kw.value, "asm's out= is an integer or pointer type")
        elif kw.arg == "clobbers":
            vals = kw.value.elts if isinstance(kw.value, ast.Tuple) else [kw.value]
            for v in vals:
                if not isinstance(v, ast.Constant) or not isinstance(v.value, str):
                    raise chk.error(v, "clobbers are string literals, e.g. clobbers=(\"memory\",)")
                clobbers.append(v.value)
        else:
            raise chk.error(kw, f"asm has no option '{kw.arg}'", "options: out=T, clobbers=(...)")
    template = node.args[0].value
    n_in = len(node.args) - 1
    for m in re.finditer(r"\{(\w+)\}", template):
        ref = m.group(1)
        if ref == "out":
            if out == VOID:
                raise chk.error(node.args[0], "the template uses {out} but no out= type is given")
        elif not ref.isdigit() or int(ref) >= n_in:
            raise chk.error(node.args[0], f"the template refers to {{{ref}}} but there are {n_in} inputs")
    node.kclobbers = clobbers
    return out


def _lower_asm(fl: FunctionLowerer, node: ast.Call) -> ir.Value | None:
    """Inline asm: ``{N}`` names input N and ``{out}`` the result; all operands are registers."""
    out_ty = node.kty
    has_out = not isinstance(out_ty, VoidType)
    template = node.args[0].value.replace("$", "$$")
    shift = 1 if has_out else 0
    template = re.sub(r"\{(\w+)\}", lambda m: "$0" if m.group(1) == "out" else f"${int(m.group(1)) + shift}",
                      template)
    inputs = [fl.value(a) for a in node.args[1:]]
    constraints = (["=r"] if has_out else []) + ["r"] * len(inputs)
    constraints += [f"~{{{c}}}" for c in node.kclobbers]
    ret = fl.low.val_ty(out_ty) if has_out else ir.VoidType()
    ftype = ir.FunctionType(ret, [v.type for v in inputs])
    asm = ir.InlineAsm(ftype, template, ",".join(constraints), side_effect=True)
    result = fl.builder.call(asm, inputs)
    return result if has_out else None


# ----- MMIO register methods ------------------------------------------------------------------------

def _register(method: str, nargs: int) -> Builtin:
    """``reg.read()``, ``.write(v)``, ``.set_bits(m)``, ``.clear_bits(m)`` on a ``Reg[T]`` field."""

    def check(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
        func = node.func
        assert isinstance(func, ast.Attribute)
        rt = chk.expr(func.value, lvalue=True)
        if not isinstance(rt, RegType):
            raise chk.error(func, f"'.{method}()' is a method of MMIO registers (Reg[T]), not of {rt}")
        if len(node.args) != nargs or node.keywords:
            raise chk.error(node, f".{method}() takes {nargs} argument{'s' if nargs != 1 else ''}")
        if nargs:
            chk.coerce(node.args[0], rt.value)
            return VOID
        return rt.value

    def lower(fl: FunctionLowerer, node: ast.Call) -> ir.Value | None:
        reg_node = node.func.value
        rty: RegType = reg_node.kty
        ptr = fl.address(reg_node)
        if method == "read":
            return fl.load(ptr, rty.value, volatile=True)
        v = fl.value(node.args[0])
        if method == "write":
            fl.store(v, ptr, rty.value, volatile=True)
            return None
        cur = fl.load(ptr, rty.value, volatile=True)
        b = fl.builder
        new = b.or_(cur, v) if method == "set_bits" else b.and_(cur, b.not_(v))
        fl.store(new, ptr, rty.value, volatile=True)
        return None

    return Builtin(f"Reg.{method}", check, lower, f"kcc.lang.Reg.{method}")


# ----- atomics -----------------------------------------------------------------------------------------

ORDERS = {"RELAXED": "monotonic", "ACQUIRE": "acquire", "RELEASE": "release", "ACQ_REL": "acq_rel",
          "SEQ_CST": "seq_cst"}
"""The C11 memory orders kcc.lang names, as LLVM spells them."""

# What a failed compare-and-swap orders: the success order without its release half (LLVM's rule).
_CAS_FAILURE = {"monotonic": "monotonic", "acquire": "acquire", "release": "monotonic", "acq_rel": "acquire",
                "seq_cst": "seq_cst"}


def _atomic(name: str, values: int, orders: tuple[str, ...], integers_only: bool = False) -> Builtin:
    """``name(p, v..., order=SEQ_CST)``: an atomic access to the integer (or pointer) ``p`` points to."""

    def check(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
        args = list(node.args)
        order_node: ast.expr | None = None
        for kw in node.keywords:
            if kw.arg != "order":
                raise chk.error(kw, f"{name} has no option '{kw.arg}'", "options: order=SEQ_CST")
            order_node = kw.value
        if len(args) == values + 2 and order_node is None:
            order_node = args.pop()
        if len(args) != values + 1:
            shape = ", ".join(["p", *("v" * values)] if values < 2 else ["p", "expected", "desired"])
            raise chk.error(node, f"{name} takes {shape} and an optional memory order: {name}({shape})")
        pt = chk.expr(args[0])
        target = pt.pointee if isinstance(pt, PtrType) else None
        if not (isinstance(target, IntType) or (isinstance(target, PtrType) and not integers_only)):
            what = "an integer" if integers_only else "an integer or a pointer"
            raise chk.error(args[0], f"{name} needs a pointer to {what}, not {pt}")
        bits = target.bits if isinstance(target, IntType) else chk.prog.target.pointer_bits
        if bits > chk.prog.target.pointer_bits:
            raise chk.error(args[0], f"{chk.prog.target.name} has no {bits}-bit atomics",
                            f"atomics take integers up to {chk.prog.target.pointer_bits} bits there")
        for a in args[1:]:
            chk.coerce(a, target)
        order = "SEQ_CST"
        if order_node is not None:
            sym = chk.prog.resolve_name_expr(order_node, chk.mod)
            order = getattr(sym, "name", "")
            if order not in orders:
                raise chk.error(order_node, f"{name}'s memory order is one of {', '.join(orders)}")
        node.korder = ORDERS[order]
        return VOID if name == "atomic_store" else target

    def lower(fl: FunctionLowerer, node: ast.Call) -> ir.Value | None:
        b = fl.builder
        ptr = fl.value(node.args[0])
        operands = [fl.value(a) for a in node.args[1:values + 1]]
        fl.null_check(ptr, node)
        target = node.args[0].kty.pointee
        align = fl.low.prog.sizeof(target)  # natural alignment: what every target's atomics need
        if name == "atomic_load":
            return b.load_atomic(ptr, node.korder, align, typ=fl.low.val_ty(target))
        if name == "atomic_store":
            b.store_atomic(operands[0], ptr, node.korder, align)
            return None
        if name == "atomic_cas":
            pair = b.cmpxchg(ptr, operands[0], operands[1], node.korder, _CAS_FAILURE[node.korder])
            return b.extract_value(pair, 0)
        return b.atomic_rmw("add" if name == "atomic_add" else "xchg", ptr, operands[0], node.korder)

    return Builtin(name, check, lower, f"kcc.lang.{name}")


# ----- compact logs ------------------------------------------------------------------------------------

_LOG_KINDS = {"d": LogKind.SIGNED, "s": LogKind.STRING}
"""How the encoder sends each conversion's argument; every other conversion sends it unsigned."""


LOG_METHODS = {"debug": "debug", "info": "info", "warning": "warn", "error": "error"}
"""Each ``log`` method (spelt as Python's logging spells it) and the level its records carry (kcc.logs.LEVELS)."""


def _log(method: str, level: str) -> Builtin:
    """``log.<method>(fmt, a, ...)``: a compact log record and a call of the kernel's encoder (kcc/logs.py).

    The format is a string literal or ``Final`` string constant checked against the
    arguments as a ``@printf_like`` call's is (kcc/formats.py); each argument passes as
    an ``Arg`` does. On a board whose ``LOG_PLAIN`` constant is 1 the call prints the
    ``[level] ``-prefixed format as text instead (kcc/runtime.py has both calls).
    """

    def check(chk: FunctionChecker, node: ast.Call, expected: Type | None) -> Type:
        name = f"log.{method}"
        if not chk.prog.target.freestanding:
            raise chk.error(node, f"{name} sends to the kernel's console; the host target has none")
        if node.keywords or not node.args:
            raise chk.error(node, f"{name} takes a format and the values it converts: {name}(\"x=%u\\n\", x)")
        values = node.args[1:]
        if len(values) > LOG_ARGS:
            raise chk.error(values[LOG_ARGS], f"{name} formats at most {LOG_ARGS} values",
                            "split the output over two calls")
        for a in values:
            chk.format_argument(a, f"an argument of {name}")
        chk.expr(node.args[0])
        fmt = formats.constant_format(node.args[0])
        if fmt is None:
            raise chk.error(node.args[0], f"the format of {name} is a string literal or a Final string",
                            "the format stays in the ELF: the compiler must know it")
        slots: list[ast.expr | ConstSym | None] = [*values, *[None] * (LOG_ARGS - len(values))]
        formats.check_arguments(chk, node.args[0], fmt, slots, name)
        node.kformat = fmt
        return VOID

    def lower(fl: FunctionLowerer, node: ast.Call) -> None:
        low = fl.low
        usize = low.val_ty(low.usize)
        args = [fl.convert(a, low.usize) for a in node.args[1:]]
        args += [ir.Constant(usize, 0)] * (LOG_ARGS - len(args))
        fmt: str = node.kformat
        if low.prog.board_constants.get("LOG_PLAIN", 0) == 1:
            callee = _runtime_function(fl, LOG_TEXT_SYMBOL, [PTR] + [usize] * LOG_ARGS)
            fl.builder.call(callee, [low.string(f"[{level}] {fmt}"), *args])
            return
        kinds = 0
        for i, spec in enumerate(s for s in formats.conversions(fmt) if isinstance(s, formats.Spec)):
            kinds |= _LOG_KINDS.get(spec.conv, LogKind.UNSIGNED) << (LOG_KIND_BITS * i)
        callee = _runtime_function(fl, LOG_SYMBOL, [usize] * (LOG_ARGS + 2))
        fl.builder.call(callee, [_record_offset(fl, node, level, fmt), ir.Constant(usize, kinds), *args])

    return Builtin(f"log.{method}", check, lower, f"kcc.lang.log.{method}")


def _runtime_function(fl: FunctionLowerer, symbol: str, params: list[ir.Type]) -> ir.Function:
    """The runtime entry ``symbol`` (kcc/runtime.py): the unit's own definition, or a declaration of it."""
    existing = fl.low.module.globals.get(symbol)
    if isinstance(existing, ir.Function):
        return existing
    return ir.Function(fl.low.module, ir.FunctionType(ir.VoidType(), params), symbol)


def _record_offset(fl: FunctionLowerer, node: ast.Call, level: str, fmt: str) -> ir.Value:
    """Emit the call's record into ``.kcc_log`` (kcc/logs.py's layout) and return its offset there, a usize.

    The link scripts place ``.kcc_log`` at address 0, so the record's address is its offset.
    """
    low = fl.low
    source = Path(fl.src.path).resolve()
    try:
        path = source.relative_to(low.prog.root.resolve()).as_posix()
    except ValueError:
        path = fl.src.path
    nargs = sum(isinstance(s, formats.Spec) for s in formats.conversions(fmt))
    data = logs.RECORD_HEADER.pack(logs.LEVELS.index(level), nargs, 0, node.lineno) \
        + path.encode("utf-8") + b"\0" + fmt.encode("utf-8") + b"\0"
    ty = ir.ArrayType(ir.IntType(8), len(data))
    gv = ir.GlobalVariable(low.module, ty, low.module.get_unique_name("kcc_log"))
    gv.initializer = ir.Constant(ty, bytearray(data))
    gv.global_constant = True
    gv.linkage = "internal"
    gv.section = logs.SECTION
    gv.align = 1   # records follow each other with no padding
    usize = low.val_ty(low.usize)
    if low.target.low_address_asm:
        asm = ir.InlineAsm(ir.FunctionType(usize, [PTR]), low.target.low_address_asm, "=r,s")
        return fl.builder.call(asm, [gv])
    return fl.builder.ptrtoint(gv, usize)


REG_METHODS = {"read": 0, "write": 1, "set_bits": 1, "clear_bits": 1}
"""The methods of a ``Reg[T]`` field and how many arguments each takes."""


def _table() -> dict[str, Builtin]:
    entries = [
        Builtin("len", _check_len, None, "builtins.len"),
        Builtin("bool", _check_bool, _lower_bool, "builtins.bool"),
        Builtin("min", _check_min_max, _lower_min_max(True), "kcc.lang.min"),
        Builtin("max", _check_min_max, _lower_min_max(False), "kcc.lang.max"),
        Builtin("abs", _check_abs, _lower_abs, "kcc.lang.abs"),
        Builtin("range", _refused("range() is only the iterable of a for loop"), None, "builtins.range"),
        Builtin("cast", _check_cast, _lower_cast, "kcc.lang.cast"),
        Builtin("addr", _check_addr, _lower_addr, "kcc.lang.addr"),
        Builtin("sizeof", _refused("sizeof takes one type"), None, "kcc.lang.sizeof"),
        Builtin("volatile_load", _check_volatile_load, _lower_volatile_load, "kcc.lang.volatile_load"),
        Builtin("volatile_store", _check_volatile_store, _lower_volatile_store, "kcc.lang.volatile_store"),
        Builtin("mmio", _check_mmio, _lower_mmio, "kcc.lang.mmio"),
        Builtin("extern_symbol", _check_extern_symbol, _lower_extern_symbol, "kcc.lang.extern_symbol"),
        Builtin("panic", _check_panic, _lower_panic, "kcc.lang.panic", leaves=True),
        Builtin("asm", _check_asm, _lower_asm, "kcc.lang.asm"),
    ]
    entries += [_conversion(n) for n in ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize")]
    entries += [_register(m, n) for m, n in REG_METHODS.items()]
    every = tuple(ORDERS)
    entries += [
        _atomic("atomic_load", 0, ("RELAXED", "ACQUIRE", "SEQ_CST")),
        _atomic("atomic_store", 1, ("RELAXED", "RELEASE", "SEQ_CST")),
        _atomic("atomic_add", 1, every, integers_only=True),
        _atomic("atomic_swap", 1, every),
        _atomic("atomic_cas", 2, every),
    ]
    entries += [_log(method, level) for method, level in LOG_METHODS.items()]
    return {b.name: b for b in entries}


BUILTINS: dict[str, Builtin] = _table()
"""Every built-in by its spelling (register methods as ``Reg.<method>``)."""

PYTHON_NAMES = frozenset({"len", "bool", "range", "min", "max", "abs"})
"""Built-ins reached by Python's own names, also when a module does not import them from kcc.lang."""

REFUSED = {
    "print": ("'print' is not in the language", "print with lib/kprintf.py"),
    "int": ("'int' is not a kcc type", "convert to a fixed-width type, e.g. u32(x)"),
    "str": ("'str' is not in the language", "a string literal is a Ptr[u8]"),
    "isinstance": ("'isinstance' is not in the language", "every value's type is known at compile time"),
}
"""Python builtins a user may reach for that the language leaves out, with the message and a hint."""
