"""The ABI between compiled kcc code and the runtime it runs on (kernel or host shim).

Checked operations that fail call ``PANIC_SYMBOL`` with the signature
``void __kcc_panic(i32 kind, const char *msg, const char *file, i32 line, i32 col)``
and never return. The kernel defines it (kernel_src/lib/panic.py, ``@export``);
on the host, kcc.host's C shim defines it and turns the panic into the Python
exception that kcc.load_python raises for the same case (language.md, "The host target and CPython").

A ``log.info(fmt, ...)`` call (kcc/builtins.py) calls ``LOG_SYMBOL`` with the
signature ``void __kcc_log(usize record, usize kinds, usize a, ..., usize f)``:
``record`` is its record's offset in ``.kcc_log`` and ``kinds`` says how to
send each argument, LOG_KIND_BITS per argument from the lowest bits up (one
of LogKind; 0 ends the list). On a board with ``LOG_PLAIN = 1`` it calls
``LOG_TEXT_SYMBOL``, ``void __kcc_log_text(const char *fmt, usize a, ..., usize f)``,
with the format prefixed by ``[level] ``. The kernel defines both
(kernel_src/lib/klog.py); the wire format is kcc/logs.py's.
"""

from enum import IntEnum

PANIC_SYMBOL = "__kcc_panic"
LOG_SYMBOL = "__kcc_log"
LOG_TEXT_SYMBOL = "__kcc_log_text"
LOG_ARGS = 6
"""The most arguments one log call formats (as kprintf's)."""
LOG_KIND_BITS = 2


class LogKind(IntEnum):
    """How the encoder sends one argument: the conversions of kcc/logs.py's frame."""

    UNSIGNED = 1         # %u %x %X %p %c: unsigned LEB128
    SIGNED = 2           # %d: zigzag, then LEB128
    STRING = 3           # %s: the bytes and a NUL


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
