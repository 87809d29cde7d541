"""Output to the kernel's debug console for user programs: printf-style formatting and plain strings.

The text goes through OP_CONSOLE_WRITE on the console capability in
``initcaps.SLOT_CONSOLE`` (init holds it there; a program init starts gets it
in the same slot). Formatting is the kernel's own (lib/kprintf.py's
``ksnprintf``: %d %u %x %X %p %s %c %%, flags '-' and '0', a width, up to six
usize arguments), so kernel and user output are formatted by one source.
"""

from kcc.lang import *

from lib import initcaps, string
from lib import kprintf as fmt
from user.lib import syscall

# One printf's output is formatted on the stack; longer output is cut at this many bytes less one.
LINE_MAX: Final = 256


def write(text: Ptr[u8], length: usize) -> usize:
    """Write ``length`` bytes at ``text`` to the debug console; return the error code (abi.OK on success)."""
    res: syscall.SysResult
    return syscall.console_write(initcaps.SLOT_CONSOLE, text, length, addr(res))


def puts(text: Ptr[u8]) -> usize:
    """Write the NUL-terminated ``text`` (no newline added); return the error code."""
    return write(text, string.strlen(text))


@printf_like("fmt_text")
def printf(fmt_text: Ptr[u8], a: usize = 0, b: usize = 0, c: usize = 0, d: usize = 0, e: usize = 0,
           f: usize = 0) -> usize:
    """Format ``fmt_text`` with the arguments (lib/kprintf.py's conversions) and write it; return the error code.

    Output longer than LINE_MAX - 1 bytes is cut there.
    """
    buf: Array[u8, LINE_MAX]
    n = fmt.ksnprintf(addr(buf[0]), LINE_MAX, fmt_text, a, b, c, d, e, f)
    if n >= LINE_MAX:
        n = LINE_MAX - 1
    return write(addr(buf[0]), n)
