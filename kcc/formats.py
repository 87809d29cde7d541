"""Format strings checked at compile time (language.md, "Checked format strings").

A function decorated ``@printf_like("fmt")`` takes a kprintf-style format in
its parameter ``fmt`` and the values to format in the parameters after it
(``Arg`` or ``usize``). A call whose format is a string constant has its
conversions matched against the arguments it passes: each conversion's
argument must be of a kind that conversion prints, and the call must pass
exactly as many arguments as the format converts. The grammar is
kernel_src/lib/kprintf.py's (flags ``-`` and ``0``, a decimal width, the
``l`` and ``z`` modifiers, one conversion character); the kinds follow the
C11 standard's "The fprintf function" (``%s`` a string, ``%p`` a pointer,
the integer conversions an integer), where the language accepts a bool as
an integer, an address held in a ``usize`` for ``%s``, and for ``%p`` an
integer constant or any unsigned integer as wide as a pointer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kcc.notes import KCONST
from kcc.types import BoolType, ConstIntType, FuncType, IntType, NullType, PtrType, StrType, Type

if TYPE_CHECKING:
    from kcc.resolve import ConstSym, FuncSym
    from kcc.typecheck import FunctionChecker

CONVERSIONS = {"d": "a signed integer", "u": "an unsigned integer", "x": "an integer", "X": "an integer",
               "c": "a character (an integer)", "p": "a pointer", "s": "a string"}
"""Each conversion kprintf performs and what its argument must be, as messages say it."""


@dataclass(frozen=True)
class Spec:
    """One conversion of a format: its text (``%08x``), its character and where it starts in the format."""

    text: str
    conv: str
    start: int


def conversions(fmt: str) -> Iterator[Spec | str]:
    """The conversions of ``fmt`` in order, each a Spec, or a message for text kprintf would not convert.

    ``%%`` is a literal percent sign and yields nothing. A ``%`` at the end of
    the format, or followed by a character that is no conversion, yields the
    message describing it (kprintf drops the first and copies the second).
    """
    i = 0
    while True:
        i = fmt.find("%", i)
        if i < 0:
            return
        j = i + 1
        while j < len(fmt) and fmt[j] in "-0":
            j += 1
        while j < len(fmt) and fmt[j].isdigit():
            j += 1
        while j < len(fmt) and fmt[j] in "lz":
            j += 1
        if j == len(fmt):
            yield "a '%' ends the format"
            return
        conv = fmt[j]
        if conv in CONVERSIONS:
            yield Spec(fmt[i:j + 1], conv, i)
        elif conv != "%":
            yield f"'%{fmt[i + 1:j + 1]}' is not a conversion (%d %u %x %X %p %s %c %%)"
        i = j + 1


def _passed_type(chk: FunctionChecker, node: ast.expr) -> tuple[Type, bool]:
    """The type of a formatting argument as written, and whether an explicit usize()/isize() made it one.

    ``usize(p)`` is how a pointer is passed to a ``usize`` formatting parameter
    (and how calls were written before ``Arg``): the conversion is looked
    through, so ``%s`` sees the pointer, while ``%x`` accepts the address the
    writer asked for. An integer constant is one whatever type the parameter
    gave it: ``%s`` given ``5`` is a mistake even though 5 fits a usize.
    """
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("usize", "isize")
            and len(node.args) == 1 and not node.keywords and hasattr(node.args[0], "kty")):
        return _passed_type(chk, node.args[0])[0], True
    k = KCONST.get(node)
    if isinstance(k, int) and not isinstance(k, bool):
        return ConstIntType(), False
    return (node.kty if hasattr(node, "kty") else chk.expr(node)), False


def _fits(chk: FunctionChecker, conv: str, ty: Type, converted: bool) -> bool:
    """True when conversion ``conv`` prints an argument of type ``ty`` (``converted``: given as usize(p))."""
    pointer = isinstance(ty, PtrType | StrType | NullType | FuncType)
    address = ty == chk.prog.ints["usize"]     # how arrays of strings and system-call words hold addresses
    if conv == "s":
        return address or isinstance(ty, StrType | NullType) or (
            isinstance(ty, PtrType) and isinstance(ty.pointee, IntType) and ty.pointee.bits == 8)
    if conv == "p":
        # Any unsigned integer as wide as a pointer prints in full, as arch code prints 32-bit
        # status registers on 32-bit targets; a narrower or wider one would not match %p's width.
        # A constant is an address written out (a board's base address, say).
        return pointer or isinstance(ty, ConstIntType) or (
            isinstance(ty, IntType) and not ty.signed and ty.bits == chk.prog.target.pointer_bits)
    if pointer:
        return converted and conv != "c"
    if conv == "c":
        return isinstance(ty, IntType | ConstIntType)
    return isinstance(ty, IntType | ConstIntType | BoolType)


def _spec_node(fmt_node: ast.expr, chk: FunctionChecker, value: str, start: int, length: int) -> ast.expr:
    """A node spanning the conversion at ``start`` in the literal ``fmt_node``, or the literal itself.

    The span is found when the literal is on one line and its source text has
    its percent signs where the value has them (no escape writes one).
    """
    segment = ast.get_source_segment(chk.src.text, fmt_node) if isinstance(fmt_node, ast.Constant) else None
    if segment is None or "\n" in segment or segment.count("%") != value.count("%"):
        return fmt_node
    nth = value.count("%", 0, start)
    pos = -1
    for _ in range(nth + 1):
        pos = segment.find("%", pos + 1)
    spec = ast.Constant(value)
    spec.lineno = spec.end_lineno = fmt_node.lineno
    spec.col_offset = fmt_node.col_offset + len(segment[:pos].encode("utf-8"))   # ast counts UTF-8 bytes
    spec.end_col_offset = spec.col_offset + len(segment[pos:pos + length].encode("utf-8"))
    return spec


def check_call(chk: FunctionChecker, node: ast.Call, fn: FuncSym, bound: list[ast.expr | ConstSym | None]) -> None:
    """Report every mismatch between a call's constant format and the formatting arguments it passes.

    Args:
        chk: the checker of the calling function (its reporter receives the diagnostics).
        node: the call; ``bound``: its arguments by parameter, already checked (a ConstSym where a
            default fills in).
        fn: the ``@printf_like`` function called (resolve checked that the parameter it names exists).

    A format that is not a constant (a parameter passed on) is not checked.
    Nothing is raised: each mismatch is a located error at the argument or at
    the conversion in the format literal, and the statement is checked on.
    """
    fmt_index = next(i for i, p in enumerate(fn.params) if p.name == fn.attrs.printf_like)
    fmt_node = bound[fmt_index]
    if not isinstance(fmt_node, ast.expr):
        return
    value = constant_format(fmt_node)
    if value is not None:
        check_arguments(chk, fmt_node, value, bound[fmt_index + 1:], f"'{fn.name}'")


def constant_format(node: ast.expr) -> str | None:
    """The value of a format written as a string literal or a ``Final`` string constant, else None."""
    value = node.value if isinstance(node, ast.Constant) else KCONST.get(node)
    return value if isinstance(value, str) else None


def check_arguments(chk: FunctionChecker, fmt_node: ast.expr, value: str, slots: list[ast.expr | ConstSym | None],
                    callee: str) -> None:
    """Report every mismatch between the format ``value`` (written at ``fmt_node``) and its arguments.

    Args:
        chk: the checker of the calling function (its reporter receives the diagnostics).
        fmt_node: where the format is written; ``value``: its text.
        slots: one entry per formatting parameter the callee has, in order: the checked argument
            passed there, or a ConstSym or None where the call passes none.
        callee: what messages call the function, e.g. ``'kprintf'``.

    Nothing is raised: each mismatch is a located error at the argument or at
    the conversion in the format literal.
    """
    given = [i for i, a in enumerate(slots) if isinstance(a, ast.expr)]
    specs: list[Spec] = []
    for item in conversions(value):
        if isinstance(item, str):
            chk.prog.reporter.error(chk.src, fmt_node, item, "write %% for a percent sign")
        else:
            specs.append(item)
    if len(specs) > len(slots):
        chk.prog.reporter.error(chk.src, fmt_node, f"the format converts {len(specs)} arguments, "
                                f"{callee} takes at most {len(slots)}", "split the output over two calls")
        return
    for spec, arg in zip(specs, slots, strict=False):
        if not isinstance(arg, ast.expr):
            where = _spec_node(fmt_node, chk, value, spec.start, len(spec.text))
            chk.prog.reporter.error(chk.src, where, f"'{spec.text}' has no argument: the format converts "
                                    f"{len(specs)}, the call passes {len(given)}")
            continue
        ty, converted = _passed_type(chk, arg)
        if not _fits(chk, spec.conv, ty, converted):
            shown = "a string" if isinstance(ty, StrType) else "NULL" if isinstance(ty, NullType) \
                else "an integer constant" if isinstance(ty, ConstIntType) else str(ty)
            chk.prog.reporter.error(chk.src, arg, f"'{spec.text}' formats {CONVERSIONS[spec.conv]}, "
                                    f"not {shown}", *_hint(spec.conv, ty))
    extra = [i for i in given if i >= len(specs)]
    if extra:
        first = slots[extra[0]]
        assert isinstance(first, ast.expr)
        chk.prog.reporter.error(chk.src, first, f"the format converts {len(specs)} arguments, "
                                f"the call passes {len(given)}")


def _hint(conv: str, ty: Type) -> tuple[str, ...]:
    """What the writer probably meant, for a mismatch of ``conv`` and ``ty``."""
    if conv == "s" and isinstance(ty, IntType | ConstIntType):
        return ("%s takes a NUL-terminated Ptr[u8] (or its address as a usize); %u or %x print a number",)
    if conv != "p" and isinstance(ty, PtrType | StrType | NullType | FuncType):
        return ("%p prints an address, %s a string",)
    if conv == "p":
        return ("%p takes a pointer or an unsigned integer as wide as one; %x prints any integer in hex",)
    return ()
