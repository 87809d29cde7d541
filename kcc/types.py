"""The language's types (language.md, "Types") as the type checker and the IR lowering see them."""

from __future__ import annotations

from dataclasses import dataclass, field


class Type:
    """Base of every kcc type. Types compare by structure, except structs (by identity of name)."""

    def __str__(self) -> str:  # pragma: no cover - overridden
        return self.__class__.__name__

    @property
    def is_scalar(self) -> bool:
        """True for integers, bool and pointers: values that fit a register."""
        return isinstance(self, (IntType, BoolType, PtrType, FuncType))


@dataclass(frozen=True)
class IntType(Type):
    """A two's-complement integer of ``bits`` (8, 16, 32, 64) bits; ``name`` is its spelling."""

    bits: int
    signed: bool
    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def min(self) -> int:
        """Smallest value of the type."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        """Largest value of the type."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def wrap(self, value: int) -> int:
        """Reduce the Python int ``value`` modulo 2**bits into the type's range."""
        value &= (1 << self.bits) - 1
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value

    def fits(self, value: int) -> bool:
        """True when ``value`` lies in [min, max]."""
        return self.min <= value <= self.max


@dataclass(frozen=True)
class ConstIntType(Type):
    """The type of an integer constant expression that has not yet met a context (bare ``int``)."""

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class BoolType(Type):
    """``bool``: i1 in registers, one byte in memory."""

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class VoidType(Type):
    """``None`` as a return type."""

    def __str__(self) -> str:
        return "None"


@dataclass(frozen=True)
class PtrType(Type):
    """``Ptr[T]``: a typed address; ``pointee`` is T."""

    pointee: Type

    def __str__(self) -> str:
        return f"Ptr[{self.pointee}]"


@dataclass(frozen=True)
class NullType(Type):
    """The type of ``NULL`` before it meets a pointer context."""

    def __str__(self) -> str:
        return "NULL"


@dataclass(frozen=True)
class StrType(Type):
    """The type of a string literal before it meets a context; it becomes ``Ptr[u8]``."""

    def __str__(self) -> str:
        return "Ptr[u8]"


@dataclass(frozen=True)
class ArrayType(Type):
    """``Array[T, N]``: ``count`` elements of ``element`` in place."""

    element: Type
    count: int

    def __str__(self) -> str:
        return f"Array[{self.element}, {self.count}]"


@dataclass(frozen=True)
class RegType(Type):
    """``Reg[T]``: an MMIO register field holding a T, reached only by volatile accesses."""

    value: Type

    def __str__(self) -> str:
        return f"Reg[{self.value}]"


@dataclass(eq=False)
class StructType(Type):
    """A ``@struct`` class: fields in declaration order, C layout unless ``packed``.

    Attributes:
        name: the qualified name, ``module.Class``.
        fields: (field name, field type) pairs, filled in by the resolver.
        packed: True for ``@struct(packed=True)``.
    """

    name: str
    fields: list[tuple[str, Type]] = field(default_factory=list)
    packed: bool = False

    def __str__(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def __hash__(self) -> int:
        return id(self)

    def field_index(self, name: str) -> int:
        """Index of field ``name``, or -1 when there is none."""
        for i, (fname, _) in enumerate(self.fields):
            if fname == name:
                return i
        return -1


@dataclass(frozen=True)
class FuncType(Type):
    """``Callable[[A, B], R]``: a function value (its address) with these parameter types and result."""

    params: tuple[Type, ...]
    result: Type

    def __str__(self) -> str:
        return f"Callable[[{', '.join(map(str, self.params))}], {self.result}]"


def layout(ty: Type, pointer_bytes: int, int64_align: int = 8) -> tuple[int, int]:
    """(size, alignment) in bytes of ``ty`` under the C ABI: the one struct layout of the compiler
    (kcc.resolve, per target) and of kcc.lang.sizeof under CPython.

    Args:
        ty: the type; a struct's fields must be resolved.
        pointer_bytes: the width of pointers (and of Callable values).
        int64_align: the alignment of 64-bit integers (4 under the i386 System V ABI).

    A struct's fields are padded to their alignment and the struct to its largest (none when
    packed); a type without a size (None) is (0, 1).
    """
    if isinstance(ty, IntType):
        size = ty.bits // 8
        return size, min(size, int64_align)
    if isinstance(ty, RegType):
        return layout(ty.value, pointer_bytes, int64_align)
    if isinstance(ty, BoolType):
        return 1, 1
    if isinstance(ty, PtrType | FuncType):
        return pointer_bytes, pointer_bytes
    if isinstance(ty, ArrayType):
        size, align = layout(ty.element, pointer_bytes, int64_align)
        return size * ty.count, align
    if isinstance(ty, StructType):
        offset, max_align = 0, 1
        for _, fty in ty.fields:
            size, align = layout(fty, pointer_bytes, int64_align)
            if ty.packed:
                align = 1
            offset = (offset + align - 1) // align * align + size
            max_align = max(max_align, align)
        return (offset + max_align - 1) // max_align * max_align, max_align
    return 0, 1


def int_types(pointer_bits: int) -> dict[str, IntType]:
    """The integer types by spelling; ``usize``/``isize`` take ``pointer_bits`` (32 or 64)."""
    out = {}
    for bits in (8, 16, 32, 64):
        out[f"u{bits}"] = IntType(bits, False, f"u{bits}")
        out[f"i{bits}"] = IntType(bits, True, f"i{bits}")
    out["usize"] = IntType(pointer_bits, False, "usize")
    out["isize"] = IntType(pointer_bits, True, "isize")
    return out


BOOL = BoolType()
VOID = VoidType()
CONST_INT = ConstIntType()
NULL_T = NullType()
STR_T = StrType()
