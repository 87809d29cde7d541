"""The names kcc sources import (``from kcc.lang import *``), as a real Python module with the language's meaning.

The compiler reads these names statically; under CPython this module gives them
the meaning language.md gives them ("Types", "Expressions"), so pure kcc code runs unchanged
(through ``kcc.load_python``, which also makes annotations coerce values):

* ``u8 .. u64``, ``i8 .. i64``, ``usize``, ``isize`` are ``int`` subclasses.
  Calling one converts (``u32(x)`` reduces ``x`` modulo 2**32); every operator
  gives the exact Python result reduced to the width, signed overflow raises
  OverflowError as the checked build panics, mixing two integer types raises
  TypeError as the compiler rejects it, and a plain ``int`` operand takes the
  typed operand's type (OverflowError when it does not fit).
* ``Array[T, N]`` and ``@struct`` classes are fixed-size, zero-initialised,
  bounds-checked aggregates with value semantics when assigned through
  ``kcc.load_python``.
* Pointers, MMIO, ``asm`` and linker symbols are not pure: under CPython they
  raise ``NotPureError``. ``NULL`` exists so pure code may hold and compare it.
"""

from __future__ import annotations

import builtins
import collections.abc
import inspect
import operator
import sys
import typing
from collections.abc import Callable
from enum import IntEnum
from functools import cache
from typing import Any, Final, TypeVar

from kcc.types import BOOL, ArrayType, IntType, PtrType, RegType, StructType, Type, layout

__all__ = [
    "ACQUIRE",
    "ACQ_REL",
    "NULL",
    "RELAXED",
    "RELEASE",
    "SEQ_CST",
    "TARGET",
    "Arg",
    "Array",
    "Callable",
    "Final",
    "IntEnum",
    "NullPointerError",
    "Panic",
    "Ptr",
    "Reg",
    "abs",
    "addr",
    "asm",
    "atomic_add",
    "atomic_cas",
    "atomic_load",
    "atomic_store",
    "atomic_swap",
    "cast",
    "export",
    "extern",
    "extern_symbol",
    "i8",
    "i16",
    "i32",
    "i64",
    "inline",
    "interrupt",
    "isize",
    "log",
    "max",
    "min",
    "mmio",
    "naked",
    "noinline",
    "noreturn",
    "panic",
    "printf_like",
    "section",
    "sizeof",
    "struct",
    "u8",
    "u16",
    "u32",
    "u64",
    "usize",
    "volatile_load",
    "volatile_store",
]

TARGET: Final = "host"
"""The target under CPython; the compiler folds ``TARGET`` to the architecture it compiles for."""

POINTER_BITS = 64
"""Width of usize/isize and pointers under CPython (the host kcc targets is 64-bit)."""

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
_N = TypeVar("_N")


class Panic(Exception):
    """Raised by ``panic(msg)`` under CPython; the compiled program stops with a located panic (kind 7)."""


class NullPointerError(Exception):
    """A NULL dereference; the checked build panics with kind 4 (kcc.runtime.PanicKind.NULL)."""


class NotPureError(RuntimeError):
    """A pointer, MMIO, asm or linker-symbol operation attempted under CPython, where only pure code runs."""


def _impure(what: str) -> NotPureError:
    return NotPureError(f"{what}: not available under CPython: pure code only "
                        "(language.md, \"The host target and CPython\")")


# ---------------------------------------------------------------------------------------------
# Fixed-width integers (language.md, "Types")


class _Int(int):
    """Base of the fixed-width integer types; subclasses set BITS and SIGNED."""

    BITS: typing.ClassVar[int] = 0
    SIGNED: typing.ClassVar[bool] = False
    MIN: typing.ClassVar[int] = 0
    MAX: typing.ClassVar[int] = 0
    MASK: typing.ClassVar[int] = 0
    KIND: typing.ClassVar[IntType]  # the compiler's description of the same type

    __slots__ = ()

    def __new__(cls, value: Any = 0) -> Any:
        """Convert ``value`` (an int, a typed int or a bool) to this type, reducing modulo 2**BITS.

        Raises:
            TypeError: when ``value`` is not an integer (floats and strings are not in the language).
            NotPureError: when ``value`` is a pointer other than NULL.
        """
        if isinstance(value, Ptr):
            value = value.address()
        elif not isinstance(value, int):
            raise TypeError(f"cannot convert {type(value).__name__} to {cls.__name__}")
        return int.__new__(cls, cls.reduce(int(value)))

    @classmethod
    def reduce(cls, value: int) -> int:
        """The Python int ``value`` reduced modulo 2**BITS into the type's range (kcc.types.IntType.wrap)."""
        return cls.KIND.wrap(value)

    @classmethod
    def _make(cls, value: int) -> Any:
        return int.__new__(cls, value)

    @classmethod
    def literal(cls, value: int) -> Any:
        """Give the plain int ``value`` this type as a literal in its context would be.

        Raises:
            OverflowError: when ``value`` lies outside [MIN, MAX] (the compiler rejects such a literal).
        """
        if not cls.MIN <= value <= cls.MAX:
            raise OverflowError(f"{value} does not fit {cls.__name__} ({cls.MIN}..{cls.MAX})")
        return int.__new__(cls, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"

    __str__ = int.__repr__
    __hash__ = int.__hash__

    def _other(self, other: Any, op: str) -> int | None:
        """The plain value of ``other`` when it may meet ``self`` in a binary operation ``op``.

        Returns None for non-integers (the caller answers NotImplemented).
        """
        cls = type(self)
        if isinstance(other, bool):
            raise TypeError(f"cannot mix {cls.__name__} and bool in '{op}'")
        if isinstance(other, _Int):
            if type(other) is not cls:
                raise TypeError(f"cannot mix {cls.__name__} and {type(other).__name__} in '{op}'")
            return int(other)
        if isinstance(other, int):
            if not cls.MIN <= other <= cls.MAX:
                raise OverflowError(f"{other} does not fit {cls.__name__} in '{op}'")
            return other
        if isinstance(other, _Deferred):
            return int(other.resolve(cls))
        return None

    def _result(self, value: int, op: str) -> Any:
        """Reduce the exact result: wrap for unsigned, raise on signed overflow (checked build)."""
        cls = type(self)
        if cls.SIGNED:
            if not cls.MIN <= value <= cls.MAX:
                raise OverflowError(f"{cls.__name__} overflow in '{op}'")
            return int.__new__(cls, value)
        return int.__new__(cls, value & cls.MASK)

    # Arithmetic --------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Any:
        b = self._other(other, "+")
        return NotImplemented if b is None else self._result(int(self) + b, "+")

    def __radd__(self, other: Any) -> Any:
        a = self._other(other, "+")
        return NotImplemented if a is None else self._result(a + int(self), "+")

    def __sub__(self, other: Any) -> Any:
        b = self._other(other, "-")
        return NotImplemented if b is None else self._result(int(self) - b, "-")

    def __rsub__(self, other: Any) -> Any:
        a = self._other(other, "-")
        return NotImplemented if a is None else self._result(a - int(self), "-")

    def __mul__(self, other: Any) -> Any:
        b = self._other(other, "*")
        return NotImplemented if b is None else self._result(int(self) * b, "*")

    def __rmul__(self, other: Any) -> Any:
        a = self._other(other, "*")
        return NotImplemented if a is None else self._result(a * int(self), "*")

    def _div(self, a: int, b: int, op: str) -> Any:
        if b == 0:
            raise ZeroDivisionError(f"{type(self).__name__} {op} by zero")
        return self._result(a // b if op == "//" else a % b, op)

    def __floordiv__(self, other: Any) -> Any:
        b = self._other(other, "//")
        return NotImplemented if b is None else self._div(int(self), b, "//")

    def __rfloordiv__(self, other: Any) -> Any:
        a = self._other(other, "//")
        return NotImplemented if a is None else self._div(a, int(self), "//")

    def __mod__(self, other: Any) -> Any:
        b = self._other(other, "%")
        return NotImplemented if b is None else self._div(int(self), b, "%")

    def __rmod__(self, other: Any) -> Any:
        a = self._other(other, "%")
        return NotImplemented if a is None else self._div(a, int(self), "%")

    def _no(self, op: str) -> TypeError:
        hint = " (floats are not in the language; use //)" if op == "/" else ""
        return TypeError(f"'{op}' is not in the kcc language{hint}")

    def __truediv__(self, other: Any) -> Any:
        raise self._no("/")

    __rtruediv__ = __truediv__

    def __pow__(self, other: Any, mod: Any = None) -> Any:
        raise self._no("**")

    __rpow__ = __pow__

    def __divmod__(self, other: Any) -> Any:
        raise self._no("divmod")

    __rdivmod__ = __divmod__

    # Bitwise -----------------------------------------------------------------------------------

    def __and__(self, other: Any) -> Any:
        b = self._other(other, "&")
        return NotImplemented if b is None else int.__new__(type(self), int(self) & b)

    __rand__ = __and__

    def __or__(self, other: Any) -> Any:
        b = self._other(other, "|")
        return NotImplemented if b is None else int.__new__(type(self), int(self) | b)

    __ror__ = __or__

    def __xor__(self, other: Any) -> Any:
        b = self._other(other, "^")
        return NotImplemented if b is None else int.__new__(type(self), int(self) ^ b)

    __rxor__ = __xor__

    def __invert__(self) -> Any:
        return int.__new__(type(self), type(self).reduce(~int(self)))

    def __neg__(self) -> Any:
        return self._result(-int(self), "unary -")

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return self._result(builtins.abs(int(self)), "abs")

    # Shifts: the amount may have any integer type; the result has the left operand's type.

    def _amount(self, amount: Any, op: str) -> int | None:
        if isinstance(amount, _Deferred):
            amount = amount.resolve(type(self))
        if isinstance(amount, bool) or not isinstance(amount, int):
            if isinstance(amount, bool):
                raise TypeError(f"a shift amount must be an integer, not bool, in '{op}'")
            return None
        if amount < 0:
            raise ValueError(f"negative shift amount {int(amount)} in '{op}'")
        return int(amount)

    def __lshift__(self, other: Any) -> Any:
        n = self._amount(other, "<<")
        if n is None:
            return NotImplemented
        cls = type(self)
        if n >= cls.BITS:
            return int.__new__(cls, 0)
        return int.__new__(cls, cls.reduce(int(self) << n))

    def __rshift__(self, other: Any) -> Any:
        n = self._amount(other, ">>")
        if n is None:
            return NotImplemented
        return int.__new__(type(self), int(self) >> min(n, type(self).BITS))

    def __rlshift__(self, other: Any) -> Any:
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return _Deferred(lambda t: t.literal(other) << self)

    def __rrshift__(self, other: Any) -> Any:
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return _Deferred(lambda t: t.literal(other) >> self)

    # Comparisons by value; two different integer types do not compare (a compile error).

    def _cmp(self, other: Any, op: str) -> int | None:
        cls = type(self)
        if isinstance(other, bool):
            raise TypeError(f"cannot compare {cls.__name__} and bool with '{op}'")
        if isinstance(other, _Int):
            if type(other) is not cls:
                raise TypeError(f"cannot compare {cls.__name__} and {type(other).__name__} with '{op}'")
            return int(other)
        if isinstance(other, int):
            return other
        if isinstance(other, _Deferred):
            return int(other.resolve(cls))
        return None

    def __eq__(self, other: object) -> Any:
        b = self._cmp(other, "==")
        return NotImplemented if b is None else int(self) == b

    def __ne__(self, other: object) -> Any:
        b = self._cmp(other, "!=")
        return NotImplemented if b is None else int(self) != b

    def __lt__(self, other: Any) -> Any:
        b = self._cmp(other, "<")
        return NotImplemented if b is None else int(self) < b

    def __le__(self, other: Any) -> Any:
        b = self._cmp(other, "<=")
        return NotImplemented if b is None else int(self) <= b

    def __gt__(self, other: Any) -> Any:
        b = self._cmp(other, ">")
        return NotImplemented if b is None else int(self) > b

    def __ge__(self, other: Any) -> Any:
        b = self._cmp(other, ">=")
        return NotImplemented if b is None else int(self) >= b


class _Deferred:
    """A shift whose left operand is an untyped constant (``1 << n``): its type comes from context.

    The compiler types such a constant by the type its context expects
    (``x: u64 = 1 << n``, ``mask | (1 << n)``, ``(1 << n) - 1`` as an argument);
    this value computes itself once an operand, an annotation or a parameter
    supplies that type, and refuses to be used where nothing does.
    """

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute = compute

    def resolve(self, t: Any) -> Any:
        """The value computed in integer type ``t``."""
        return self.compute(t)

    def _untyped(self, *args: Any) -> Any:
        raise TypeError("cannot tell the type of this constant shift; write the constant as a typed "
                        "value, e.g. u32(1) << n")

    __bool__ = __index__ = __int__ = __hash__ = _untyped  # type: ignore[assignment]

    def _binary(self, other: Any, fn: Callable[[Any, Any], Any]) -> Any:
        if isinstance(other, _Int):
            return fn(self.resolve(type(other)), other)
        if isinstance(other, _Deferred):
            return _Deferred(lambda t: fn(self.resolve(t), other.resolve(t)))
        if isinstance(other, int) and not isinstance(other, bool):
            return _Deferred(lambda t: fn(self.resolve(t), other))
        return NotImplemented

    def _rbinary(self, other: Any, fn: Callable[[Any, Any], Any]) -> Any:
        return self._binary(other, lambda a, b: fn(b, a))

    def __repr__(self) -> str:
        return "<constant shift awaiting its type>"


def _deferred_ops() -> None:
    for name in ("add", "sub", "mul", "floordiv", "mod", "and", "or", "xor", "lshift", "rshift"):
        fn = getattr(operator, f"{name}_") if name in ("and", "or") else getattr(operator, name)
        setattr(_Deferred, f"__{name}__", lambda self, other, fn=fn: self._binary(other, fn))
        setattr(_Deferred, f"__r{name}__", lambda self, other, fn=fn: self._rbinary(other, fn))
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        fn = getattr(operator, name)
        setattr(_Deferred, f"__{name}__",
                lambda self, other, fn=fn: fn(self.resolve(type(other)), other) if isinstance(other, _Int)
                else self._untyped())
    for name in ("neg", "invert", "pos"):
        fn = getattr(operator, name)
        setattr(_Deferred, f"__{name}__", lambda self, fn=fn: _Deferred(lambda t: fn(self.resolve(t))))


_deferred_ops()


def _int_type(name: str, bits: int, signed: bool) -> type[_Int]:
    kind = IntType(bits, signed, name)
    doc = (f"{'Signed' if signed else 'Unsigned'} {bits}-bit integer (language.md, \"Types\"); "
           f"``{name}(x)`` reduces x modulo 2**{bits} into {kind.min}..{kind.max}.")
    return type(name, (_Int,), {"BITS": bits, "SIGNED": signed, "MIN": kind.min, "MAX": kind.max,
                                "MASK": (1 << bits) - 1, "KIND": kind,
                                "__slots__": (), "__doc__": doc, "__module__": __name__})


if typing.TYPE_CHECKING:
    # For type checkers the integer types are int, so `x: u8 = 255` checks; the compiler
    # enforces the widths and the no-mixing rule.
    u8 = int
    u16 = int
    u32 = int
    u64 = int
    i8 = int
    i16 = int
    i32 = int
    i64 = int
    usize = int
    isize = int
else:
    u8 = _int_type("u8", 8, False)
    u16 = _int_type("u16", 16, False)
    u32 = _int_type("u32", 32, False)
    u64 = _int_type("u64", 64, False)
    i8 = _int_type("i8", 8, True)
    i16 = _int_type("i16", 16, True)
    i32 = _int_type("i32", 32, True)
    i64 = _int_type("i64", 64, True)
    usize = _int_type("usize", POINTER_BITS, False)
    isize = _int_type("isize", POINTER_BITS, True)

INT_TYPES: Final[dict[str, Any]] = {
    t.__name__: t for t in (u8, u16, u32, u64, i8, i16, i32, i64, usize, isize)}
"""Every integer type by spelling."""


def is_int_type(t: object) -> bool:
    """True when ``t`` is one of the fixed-width integer classes."""
    return isinstance(t, type) and issubclass(t, _Int) and t is not _Int


# ---------------------------------------------------------------------------------------------
# Pointers and registers: types exist so annotations evaluate; every access is impure.


class _PtrType:
    """``Ptr[T]`` as a value: the pointer type with pointee ``target``."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"Ptr[{_type_name(self.target)}]"

    def __call__(self, *args: Any) -> Any:
        raise _impure(f"constructing a {self!r}")


class Ptr(typing.Generic[_T]):
    """``Ptr[T]``: a typed address (language.md, "Memory: pointers, MMIO, linker symbols").

    ``Ptr[T]`` names the type; the only pointer value pure code can hold under
    CPython is ``NULL``, an instance of this class: comparing it is pure,
    dereferencing it raises NullPointerError, moving it is impure. For type
    checkers ``Ptr`` is generic, so ``p[i]`` has the pointee's type.
    """

    __slots__ = ()

    def __class_getitem__(cls, target: Any) -> Any:
        return _ptr_type(target)

    def address(self) -> int:
        """The address, 0 for NULL (the only pointer pure code can hold)."""
        return 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ptr):
            return True
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Ptr):
            return False
        return NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "NULL"

    def __getitem__(self, index: Any) -> _T:
        raise NullPointerError("NULL pointer dereference")

    def __setitem__(self, index: Any, value: _T) -> None:
        raise NullPointerError("NULL pointer dereference")

    def __getattr__(self, name: str) -> Any:
        raise NullPointerError(f"NULL pointer dereference (.{name})")

    def __call__(self, *args: Any) -> Any:
        raise NullPointerError("call through a NULL function value")

    def __add__(self, other: int) -> Ptr[_T]:
        raise _impure("pointer arithmetic")

    __radd__ = __sub__ = __add__


@cache
def _ptr_type(target: Any) -> _PtrType:
    return _PtrType(target)


NULL: Final[Ptr[Any]] = Ptr()
"""The zero pointer; compares equal to every NULL pointer."""


class _RegType:
    """``Reg[T]`` as a value: an MMIO register field holding a ``value``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Reg[{_type_name(self.value)}]"


class Reg(typing.Generic[_T]):
    """``Reg[T]``: an MMIO register field with ``.read()``, ``.write(v)``, ``.set_bits(m)``, ``.clear_bits(m)``.

    A struct created under CPython holds Reg instances whose every access is
    MMIO, hence impure (NotPureError).
    """

    __slots__ = ("reg_type",)

    def __class_getitem__(cls, value: Any) -> Any:
        return _reg_type(value)

    def __init__(self, reg_type: _RegType) -> None:
        self.reg_type = reg_type

    def read(self) -> _T:
        """A volatile read of the register."""
        raise _impure(f"{self.reg_type!r}.read()")

    def write(self, value: _T) -> None:
        """A volatile write of the register."""
        raise _impure(f"{self.reg_type!r}.write()")

    def set_bits(self, mask: _T) -> None:
        """Read, OR ``mask`` in, write back."""
        raise _impure(f"{self.reg_type!r}.set_bits()")

    def clear_bits(self, mask: _T) -> None:
        """Read, clear the bits of ``mask``, write back."""
        raise _impure(f"{self.reg_type!r}.clear_bits()")


@cache
def _reg_type(value: Any) -> _RegType:
    return _RegType(value)


# ---------------------------------------------------------------------------------------------
# Arrays


class Array(typing.Generic[_T, _N]):
    """``Array[T, N]``: N elements of T in place, zero-initialised; indexing is bounds-checked (IndexError).

    ``Array[T, N]`` is a class; ``Array[T, N]()`` is a zeroed array. Element
    assignment converts the value as an annotated assignment would. For type
    checkers ``Array`` is generic in its element type (a constant length is
    not a type to them, so ``N`` needs ``Literal[N]`` or an ignore there).
    """

    ELEMENT: typing.ClassVar[Any] = None
    COUNT: typing.ClassVar[int] = 0

    __slots__ = ("_items",)

    def __class_getitem__(cls, params: tuple[Any, Any]) -> Any:
        if not isinstance(params, tuple) or len(params) != 2:
            raise TypeError("Array takes two parameters: Array[T, N]")
        element, count = params
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise TypeError(f"the length of an Array must be a constant integer >= 0, not {count!r}")
        return _array_type(element, int(count))

    def __init__(self) -> None:
        if type(self) is Array:
            raise TypeError("give the element type and length: Array[T, N]()")
        self._items = [zero(self.ELEMENT) for _ in range(self.COUNT)]

    def _index(self, index: Any) -> int:
        if isinstance(index, _Deferred):
            index = index.resolve(usize)
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"an Array index must be an integer, not {type(index).__name__}")
        if not 0 <= index < self.COUNT:
            raise IndexError(f"index {int(index)} out of bounds for {type(self).__name__}")
        return int(index)

    def __getitem__(self, index: Any) -> _T:
        return self._items[self._index(index)]

    def __setitem__(self, index: Any, value: _T) -> None:
        self._items[self._index(index)] = coerce(self.ELEMENT, value)

    def __len__(self) -> int:
        return self.COUNT

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def copy(self) -> Array:
        """A deep copy (arrays and structs are values: assignment copies them)."""
        new = object.__new__(type(self))
        new._items = [copy_value(v) for v in self._items]
        return new


# ---------------------------------------------------------------------------------------------
# Structs


class _StructInfo:
    """What ``@struct`` records on a class: how to find the fields, resolved on first use."""

    def __init__(self, cls: type, packed: bool) -> None:
        self.cls = cls
        self.packed = packed
        self._fields: list[tuple[str, Any]] | None = None

    @property
    def fields(self) -> list[tuple[str, Any]]:
        """(name, type) per field, in declaration order.

        kcc.load_python gives the class ``__kcc_fields__``: (name, type thunk)
        pairs, so a field may name a struct defined later (a ``Ptr[Node]``
        inside ``Node``). Imported by plain CPython, the class's annotations are
        used, string annotations evaluated in the module's globals.
        """
        if self._fields is None:
            thunks = self.cls.__dict__.get("__kcc_fields__")
            if thunks is not None:
                self._fields = [(n, t()) for n, t in thunks]
            else:
                glb = vars(sys.modules[self.cls.__module__]) if self.cls.__module__ in sys.modules else {}
                self._fields = list(inspect.get_annotations(self.cls, globals=glb, eval_str=True).items())
        return self._fields

    def field_type(self, name: str) -> Any:
        """The declared type of field ``name``.

        Raises:
            AttributeError: when the struct has no such field.
        """
        for n, t in self.fields:
            if n == name:
                return t
        raise AttributeError(f"struct {self.cls.__name__} has no field '{name}'")


@cache
def _array_type(element: Any, count: int) -> type[Array]:
    name = f"Array[{_type_name(element)}, {count}]"
    return type(name, (Array,), {"ELEMENT": element, "COUNT": count, "__slots__": ()})


def _struct_init(self: Any, *args: Any, **fields: Any) -> None:
    """Zero every field, then set the given ones as a constant ``S(a, b=...)`` does (converted)."""
    info: _StructInfo = type(self).__kcc_struct__
    for name, ftype in info.fields:
        object.__setattr__(self, name, zero(ftype))
    if len(args) > len(info.fields):
        raise TypeError(f"struct {type(self).__name__} has {len(info.fields)} fields")
    for (name, _), value in zip(info.fields, args, strict=False):
        fields.setdefault(name, value)
    for name, value in fields.items():
        _struct_setattr(self, name, value)


def _struct_setattr(self: Any, name: str, value: Any) -> None:
    object.__setattr__(self, name, coerce(type(self).__kcc_struct__.field_type(name), value))


def _struct_repr(self: Any) -> str:
    inner = ", ".join(f"{n}={getattr(self, n)!r}" for n, _ in type(self).__kcc_struct__.fields)
    return f"{type(self).__name__}({inner})"


def _struct_copy(self: Any) -> Any:
    new = object.__new__(type(self))
    for n, _ in type(self).__kcc_struct__.fields:
        object.__setattr__(new, n, copy_value(getattr(self, n)))
    return new


@typing.overload
def struct(cls: type, *, packed: bool = False) -> type: ...


@typing.overload
def struct(cls: None = None, *, packed: bool = False) -> Callable[[type], type]: ...


def struct(cls: type | None = None, *, packed: bool = False) -> Any:
    """``@struct`` / ``@struct(packed=True)``: a C-layout aggregate of the class's annotated fields.

    Under CPython ``S()`` is a zeroed instance (what ``s: S`` declares), field
    assignment converts like an annotated assignment, and ``copy()`` copies.
    Fields are resolved on first use, so a field may refer to a later class.
    """
    def wrap(c: type) -> type:
        c.__kcc_struct__ = _StructInfo(c, packed)  # type: ignore[attr-defined]
        c.__init__ = _struct_init  # type: ignore[misc]
        c.__setattr__ = _struct_setattr  # type: ignore[assignment]
        c.__repr__ = _struct_repr  # type: ignore[assignment]
        c.copy = _struct_copy  # type: ignore[attr-defined]
        c.__eq__ = _no_struct_eq  # type: ignore[assignment]
        c.__hash__ = None  # type: ignore[assignment]
        return c

    return wrap if cls is None else wrap(cls)


def _no_struct_eq(self: Any, other: object) -> bool:
    raise TypeError(f"structs do not compare with '==' (compare fields of {type(self).__name__})")


def is_struct(t: object) -> bool:
    """True when ``t`` is a class decorated with ``@struct``."""
    return isinstance(t, type) and "__kcc_struct__" in t.__dict__


# ---------------------------------------------------------------------------------------------
# Values of declared types: zero, coercion (annotated assignment), copying


def _type_name(t: Any) -> str:
    if t is bool:
        return "bool"
    if isinstance(t, type):
        return t.__name__
    return repr(t)


def zero(t: Any) -> Any:
    """The zero value of type ``t`` (what a global or a field starts as).

    Raises:
        TypeError: when ``t`` is not a kcc type.
    """
    if is_int_type(t):
        return int.__new__(t, 0)
    if t is bool:
        return False
    if isinstance(t, type) and issubclass(t, Array):
        return t()
    if is_struct(t):
        return t()
    if isinstance(t, _PtrType):
        return NULL
    if isinstance(t, _RegType):
        return Reg(t)
    if _is_callable_type(t):
        return NULL
    if t is Arg:
        return usize(0)
    raise TypeError(f"{t!r} is not a kcc type")


class Arg:
    """``Arg``: the type of a formatting parameter (language.md, "Formatting arguments").

    Inside the function it is a usize; a call passes any integer, bool or pointer, converted as
    ``usize(x)`` would (signed values sign-extend). Under CPython a pointer or a string passes as
    it is, since only pure code runs.
    """


def _is_callable_type(t: Any) -> bool:
    """True for ``Callable[[A, B], R]``, the type of a function value."""
    return typing.get_origin(t) is collections.abc.Callable


def copy_value(value: Any) -> Any:
    """``value`` itself when it is a scalar; a deep copy of an Array or struct (value semantics)."""
    if isinstance(value, Array) or is_struct(type(value)):
        return value.copy()
    return value


def coerce(t: Any, value: Any) -> Any:
    """Give ``value`` the declared type ``t`` as an annotated assignment, parameter or return does.

    A plain int becomes a ``t`` when it fits; a value of type ``t`` passes
    (aggregates are copied); anything else is what the compiler rejects.
    ``t`` may be None (a function returning nothing), ``Final`` (a constant
    keeps its value) or ``int`` (a bare constant).

    Raises:
        OverflowError: a plain int outside ``t``'s range.
        TypeError: a value of another type.
    """
    if t is None:
        if value is not None:
            raise TypeError(f"a function returning None returned {value!r}")
        return None
    if t is Final:
        return value
    if t is Arg:
        if isinstance(value, (Ptr, str)):
            return value
        return value.resolve(usize) if isinstance(value, _Deferred) else usize(value)
    if t is int:
        if isinstance(value, (bool, _Int)) or not isinstance(value, int):
            raise TypeError(f"expected a constant int, got {_type_name(type(value))} ({value!r})")
        return value
    if is_int_type(t):
        if type(value) is t:
            return value
        if isinstance(value, _Deferred):
            return value.resolve(t)
        if isinstance(value, (bool, _Int)) or not isinstance(value, int):
            raise TypeError(f"expected {t.__name__}, got {_type_name(type(value))} ({value!r})")
        return t.literal(value)
    if t is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {_type_name(type(value))} ({value!r})")
        return value
    if isinstance(t, type) and issubclass(t, Array) and isinstance(value, tuple):
        if len(value) != t.COUNT:
            raise TypeError(f"{_type_name(t)} needs {t.COUNT} elements, not {len(value)}")
        table = t()
        for i, v in enumerate(value):
            table[i] = v
        return table
    if isinstance(t, type) and (issubclass(t, Array) or is_struct(t)):
        if type(value) is not t:
            raise TypeError(f"expected {_type_name(t)}, got {_type_name(type(value))}")
        return copy_value(value)
    if isinstance(t, _PtrType):
        if isinstance(value, (Ptr, str)):
            return value
        raise TypeError(f"expected {t!r}, got {_type_name(type(value))}")
    if typing.get_origin(t) is Final:
        return coerce(typing.get_args(t)[0], value)
    if _is_callable_type(t):
        if isinstance(value, Ptr) or (callable(value) and not isinstance(value, type)):
            return value
        raise TypeError(f"expected a function, got {_type_name(type(value))}")
    raise TypeError(f"{t!r} is not a kcc type")


def sizeof(t: Any) -> int:
    """Size of type ``t`` in bytes with C layout on the 64-bit host (language.md, "Types").

    A compile-time constant in compiled code; a plain int here.

    Raises:
        TypeError: when ``t`` is not a kcc type.
    """
    return layout(_compiler_type(t), POINTER_BITS // 8)[0]


def _compiler_type(t: Any) -> Type:
    """The compiler's description (kcc.types) of the kcc type ``t``, for the one layout rule.

    Raises:
        TypeError: when ``t`` is not a kcc type.
    """
    if is_int_type(t):
        return t.KIND
    if t is bool:
        return BOOL
    if isinstance(t, _PtrType) or _is_callable_type(t) or t is Arg:
        return PtrType(BOOL)  # only a pointer's width matters to the layout
    if isinstance(t, _RegType):
        return RegType(_compiler_type(t.value))
    if isinstance(t, type) and issubclass(t, Array) and t is not Array:
        return ArrayType(_compiler_type(t.ELEMENT), t.COUNT)
    if is_struct(t):
        info: _StructInfo = t.__kcc_struct__
        return StructType(t.__name__, [(n, _compiler_type(f)) for n, f in info.fields], info.packed)
    raise TypeError(f"{t!r} is not a kcc type")


# ---------------------------------------------------------------------------------------------
# Builtins of the language


def panic(msg: str) -> typing.NoReturn:
    """Stop with a located panic (kind 7, kcc.runtime.PanicKind.EXPLICIT); under CPython raise Panic(msg)."""
    raise Panic(msg)


def _pick(name: str, values: tuple[Any, ...], better: Callable[[int, int], bool]) -> Any:
    """The first of ``values`` that no later one is ``better`` than, in the type of the typed ones.

    Raises:
        TypeError: fewer than two values, a value that is not an integer, two integer types mixed.
        OverflowError: a plain int that does not fit the typed values' type.
    """
    if len(values) < 2:
        raise TypeError(f"{name} takes two or more integers of one type")
    typed = next((type(v) for v in values if isinstance(v, _Int)), None)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} takes integers, not {_type_name(type(v))}")
    if typed is not None:
        values = tuple(coerce(typed, v) for v in values)
    best = values[0]
    for v in values[1:]:
        if better(int(v), int(best)):
            best = v
    return best


def min(*values: Any) -> Any:
    """The smallest of two or more integers of one type (plain ints take the typed ones' type)."""
    return _pick("min", values, operator.lt)


def max(*values: Any) -> Any:
    """The largest of two or more integers of one type (plain ints take the typed ones' type)."""
    return _pick("max", values, operator.gt)


def abs(x: Any) -> Any:
    """The magnitude of an integer in its type; OverflowError for the most negative signed value.

    Raises:
        TypeError: when ``x`` is not an integer (bool included).
    """
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"abs takes an integer, not {_type_name(type(x))}")
    return builtins.abs(x)


def addr(x: Any) -> Any:
    """The address of a global, local, field or element (language.md, "Memory: pointers, MMIO, linker symbols"); not pure."""
    raise _impure("addr()")


def cast(t: Any, v: Any) -> Any:
    """``cast(Ptr[T], v)``: a pointer from an integer or another pointer; not pure."""
    raise _impure("cast()")


def volatile_load(p: Any) -> Any:
    """A volatile read through ``p``; not pure."""
    raise _impure("volatile_load()")


def volatile_store(p: Any, v: Any) -> None:
    """A volatile write of ``v`` through ``p``; not pure."""
    raise _impure("volatile_store()")


def mmio(t: Any, base: Any) -> Any:
    """The register block struct ``t`` placed at address ``base``; not pure."""
    raise _impure("mmio()")


def asm(template: str, *inputs: Any, out: Any = None, clobbers: tuple[str, ...] = ("memory",)) -> Any:
    """Inline assembly (language.md, "Inline assembly"; operands ``{0}``.., ``{out}``); not pure."""
    raise _impure("asm()")


RELAXED: Final = "RELAXED"
"""C11 memory_order_relaxed: the access is atomic, nothing more is ordered."""
ACQUIRE: Final = "ACQUIRE"
"""C11 memory_order_acquire: later accesses stay after this load."""
RELEASE: Final = "RELEASE"
"""C11 memory_order_release: earlier accesses stay before this store."""
ACQ_REL: Final = "ACQ_REL"
"""C11 memory_order_acq_rel: acquire and release, for read-modify-write accesses."""
SEQ_CST: Final = "SEQ_CST"
"""C11 memory_order_seq_cst, the default: one total order of every such access."""


def atomic_load(p: Any, order: str = SEQ_CST) -> Any:
    """An atomic load through ``p`` (language.md, "Atomics"); not pure."""
    raise _impure("atomic_load()")


def atomic_store(p: Any, v: Any, order: str = SEQ_CST) -> None:
    """An atomic store of ``v`` through ``p``; not pure."""
    raise _impure("atomic_store()")


def atomic_add(p: Any, v: Any, order: str = SEQ_CST) -> Any:
    """Atomically add ``v`` to the integer at ``p`` and return its old value; not pure."""
    raise _impure("atomic_add()")


def atomic_swap(p: Any, v: Any, order: str = SEQ_CST) -> Any:
    """Atomically store ``v`` at ``p`` and return the old value; not pure."""
    raise _impure("atomic_swap()")


def atomic_cas(p: Any, expected: Any, desired: Any, order: str = SEQ_CST) -> Any:
    """Atomically store ``desired`` at ``p`` if it holds ``expected``; return the value found; not pure."""
    raise _impure("atomic_cas()")


def extern_symbol(name: str) -> Any:
    """The address of linker symbol ``name`` as a usize (language.md, "Linker symbols"); not pure."""
    raise _impure(f"extern_symbol({name!r})")


def section(name: str) -> Callable[[_F], _F]:
    """``@section(".text.boot")``: place the function in section ``name``; no effect under CPython."""
    def wrap(f: _F) -> _F:
        return f
    return wrap


def export(name: str) -> Callable[[_F], _F]:
    """``@export("symbol")``: give the function the C symbol ``name``; no effect under CPython."""
    def wrap(f: _F) -> _F:
        return f
    return wrap


def extern(f: _F) -> _F:
    """``@extern``: the body (``...``) is defined in assembly or by the linker; calling it is not pure."""
    def call(*args: Any, **kwargs: Any) -> Any:
        raise _impure(f"calling @extern {f.__name__}")
    call.__name__ = f.__name__
    call.__doc__ = f.__doc__
    return typing.cast(_F, call)


def printf_like(param: str) -> Callable[[_F], _F]:
    """``@printf_like("fmt")``: parameter ``fmt`` is a kprintf-style format checked against each call's
    arguments at compile time (language.md, "Checked format strings"); no effect under CPython."""
    def wrap(f: _F) -> _F:
        return f
    return wrap


class _Log:
    """``log.debug``, ``log.info``, ``log.warning``, ``log.error``: compact log calls (language.md, "Compact logs").

    The compiler keeps the format in the ELF and sends a frame (kcc/logs.py);
    under CPython each call writes the line a board with ``LOG_PLAIN = 1``
    prints, ``[level] `` and the formatted text, to standard output.
    """

    def _write(self, level: str, fmt: str, args: tuple[Any, ...]) -> None:
        from kcc.logs import format_message  # kcc.logs brings click; most programs never log

        values = [a.encode("utf-8") if isinstance(a, str) else a if isinstance(a, bytes) else int(a)
                  for a in args]
        sys.stdout.write(f"[{level}] " + format_message(fmt, values, POINTER_BITS))

    def debug(self, fmt: str, *args: Any) -> None:
        """Log at level debug."""
        self._write("debug", fmt, args)

    def info(self, fmt: str, *args: Any) -> None:
        """Log at level info."""
        self._write("info", fmt, args)

    def warning(self, fmt: str, *args: Any) -> None:
        """Log at level warn."""
        self._write("warn", fmt, args)

    def error(self, fmt: str, *args: Any) -> None:
        """Log at level error."""
        self._write("error", fmt, args)


log = _Log()


def _marker(doc: str) -> Callable[[_F], _F]:
    def deco(f: _F) -> _F:
        return f
    deco.__doc__ = doc
    return deco


naked = _marker("``@naked``: no prologue or epilogue; no effect under CPython.")
inline = _marker("``@inline``: always inline; no effect under CPython.")
noinline = _marker("``@noinline``: never inline; no effect under CPython.")
noreturn = _marker("``@noreturn``: the function never returns; no effect under CPython.")
interrupt = _marker("``@interrupt``: the target's interrupt handler convention; "
                    "no effect under CPython.")
