"""The run-time support every user program links: its entry ``_start`` and its panic path ``__kcc_panic``.

A program's entry module imports this module (``from user.lib import rt as
_rt  # noqa: F401``) and defines its main function with the C symbol
``main``::

    @export("main")
    def main(arg0: usize, arg1: usize) -> usize:
        ...
        return 0        # the thread's exit code

The kernel starts a thread with pc = the image's entry (``_start``), sp = the
top of the stack its creator gave it, and the two argument registers as
OP_THREAD_SET_REGS set them (init: argc and argv, its name and the command
line's words after ``--``). ``_start`` keeps all three and calls
``main(arg0, arg1)``; main's result becomes the thread's exit code
(OP_EXIT). The user link script (linker/user-riscv64.ld.j2) puts ``_start``
first in the image.
"""

from kcc.lang import *

from lib import string as _string  # noqa: F401  memcpy/memmove/memset, which aggregate copies may call
from lib.panicinfo import kind_name
from user.lib import console, syscall

# The exit code of a thread that panicked; a test or parent tells it from a normal failure (1).
PANIC_EXIT_CODE: Final = 2

# Set while a panic is being reported, so a panic raised by the report itself exits at once instead
# of recursing. Cleared before the thread exits: the other threads of the process share the flag, so
# a thread that panics while another one is reporting exits without a message of its own.
_panicking: bool = False


@export("__user_exit")
@noreturn
def _exit(code: usize) -> None:
    """End the thread with ``code``: the target of ``_start`` after main returns."""
    syscall.exit(code)


if TARGET == "riscv64":
    @section(".text.entry")
    @naked
    @export("_start")
    def start() -> None:
        """The program's first instruction: main(a0, a1), then exit with its result (in a0)."""
        asm("call main")
        asm("call __user_exit")
        asm("unimp")        # __user_exit never returns; a stray return traps instead of running on


@export("__kcc_panic")
@noreturn
def kcc_panic(kind: i32, msg: Ptr[u8], file: Ptr[u8], line: i32, col: i32) -> None:
    """Report a failed check or panic() call on the debug console and exit the thread with PANIC_EXIT_CODE.

    Called by compiled code (ABI in kcc/runtime.py). Prints
    "panic: <kind name>: <msg> at <file>:<line>:<col>" through the debug
    console capability in initcaps.SLOT_CONSOLE (a program without one just
    exits). Only the calling thread ends; the rest of the process goes on.
    """
    global _panicking
    if _panicking:
        syscall.exit(PANIC_EXIT_CODE)
    _panicking = True
    console.printf("panic: %s: %s at %s:%d:%d\n", usize(kind_name(kind)), usize(msg), usize(file),
                   usize(line), usize(col))
    _panicking = False
    syscall.exit(PANIC_EXIT_CODE)
