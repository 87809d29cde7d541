"""The ABI between compiled kcc code and the runtime it runs on (kernel or host shim).

Checked operations that fail call ``PANIC_SYMBOL`` with the signature
``void __kcc_panic(i32 kind, const char *msg, const char *file, i32 line, i32 col)``
and never return. The kernel defines it (kernel_src/lib/panic.py, ``@export``);
on the host, kcc.host's C shim defines it and turns the panic into the Python
exception that kcc.load_python raises for the same case (language.md, "The host target and CPython").
"""

from enum import IntEnum

PANIC_SYMBOL = "__kcc_panic"


class PanicKind(IntEnum):
    """Why a checked operation stopped the program; values are passed as ``kind``."""

    DIVIDE_BY_ZERO = 1   # // or % by zero: ZeroDivisionError under CPython
    OVERFLOW = 2         # signed overflow in a checked build: OverflowError
    INDEX = 3            # Array index out of bounds in a checked build: IndexError
    NULL = 4             # NULL dereference in a checked build: kcc.lang.NullPointerError
    ASSERT = 5           # failed assert: AssertionError
    NEGATIVE_SHIFT = 6   # << or >> by a negative amount: ValueError
    EXPLICIT = 7         # panic("...") called by the program: kcc.lang.Panic
    RANGE_STEP = 8       # range() with a run-time step of zero: ValueError, as CPython's range raises
