"""The kernel's panic path: the __kcc_panic runtime entry (kcc/runtime.py) prints where and why, then powers off."""

from kcc.lang import *

from arch import cpu
from lib import kprintf as fmt
from lib import string as _string  # noqa: F401  memcpy/memmove/memset, which aggregate copies may call
from lib.panicinfo import kind_name

# Exit status of a panicking kernel; the self-test uses 1 for "a test failed".
PANIC_EXIT_CODE: Final = 2

# Set while a panic is being reported, so a panic raised by the report itself
# (e.g. a fault in the console driver) stops at once instead of recursing.
_panicking: bool = False


@export("__kcc_panic")
@noreturn
def kcc_panic(kind: i32, msg: Ptr[u8], file: Ptr[u8], line: i32, col: i32) -> None:
    """Report a failed check or panic() call and power off with PANIC_EXIT_CODE; never returns.

    Called by compiled code (ABI in kcc/runtime.py). Prints
    "panic: <kind name>: <msg> at <file>:<line>:<col>".
    """
    global _panicking
    cpu.interrupts_disable()
    if _panicking:
        cpu.halt(PANIC_EXIT_CODE)
    _panicking = True
    fmt.kprintf("panic: %s: %s at %s:%d:%d\n", kind_name(kind), msg, file, line, col)
    cpu.halt(PANIC_EXIT_CODE)
