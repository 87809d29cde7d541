"""Compact logs, the kernel's half: the encoder that ``log.info(fmt, ...)`` calls compile to.

The compiler keeps each call's format, level and source location in the ELF
section ``.kcc_log`` and calls ``__kcc_log`` with the record's offset there, how
to send each argument and the arguments (the ABI is in kcc/runtime.py). This
writes the frame to the console: 0xFF, the offset as unsigned LEB128, then
each argument (unsigned LEB128, zigzag-then-LEB128 for ``%d``, a string's
bytes and a NUL). kcc/logs.py defines the wire format and decodes it on the
host (``kcc logs kernel.elf``). On a board with ``LOG_PLAIN = 1`` the calls
come to ``__kcc_log_text`` with a loaded ``[level] ``-prefixed format, which
kprintf prints.
"""

from kcc.lang import *

from arch import console
from lib import kprintf as fmt

_SYNC: Final = 0xFF
_KIND_BITS: Final = 2          # kcc.runtime.LOG_KIND_BITS
_UNSIGNED: Final = 1           # kcc.runtime.LogKind
_SIGNED: Final = 2
_STRING: Final = 3


def _leb128(v: usize) -> None:
    """Send ``v`` as unsigned LEB128: seven bits a byte, least significant first, bit 7 on all but the last."""
    while v >= 0x80:
        console.putc(u8((v & 0x7F) | 0x80))
        v = v >> 7
    console.putc(u8(v))


@export("__kcc_log")
def kcc_log(record: usize, kinds: usize, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> None:
    """Send one log frame: ``record`` (an offset in ``.kcc_log``), then ``a``.. as ``kinds`` says.

    ``kinds`` holds one kcc.runtime.LogKind per argument, two bits each from the
    lowest up, and ends at the first zero.
    """
    values: Array[usize, 6]
    values[0] = a
    values[1] = b
    values[2] = c
    values[3] = d
    values[4] = e
    values[5] = f
    console.putc(_SYNC)
    _leb128(record)
    i: u32 = 0
    while kinds != 0:
        kind = kinds & 3
        v = values[i]
        if kind == _STRING:
            s = cast(Ptr[u8], v)
            j: usize = 0
            while s != NULL and s[j] != 0:
                console.putc(s[j])
                j += 1
            console.putc(0)
        elif kind == _SIGNED:
            # Zigzag: 0, -1, 1, -2 ... become 0, 1, 2, 3 ..., so small negative values stay short.
            _leb128((v << 1) ^ (0 - (v >> (sizeof(usize) * 8 - 1))))
        else:
            _leb128(v)
        kinds = kinds >> _KIND_BITS
        i += 1


@export("__kcc_log_text")
def kcc_log_text(text: Ptr[u8], a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> None:
    """Print a log call as text (a board with ``LOG_PLAIN = 1``): ``text`` is ``[level] `` and the format."""
    fmt.kprintf(text, a, b, c, d, e, f)
