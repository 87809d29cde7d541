"""x86 I/O-port access through in/out instructions (private to arch/i586).

The in and out instructions take the port in dx (or an 8-bit immediate) and
the data in al/ax/eax (Intel SDM vol. 2, "IN", "OUT"). kcc's asm operands are
general registers chosen by the compiler, so each template moves them into
dx and eax first; both are listed as clobbers, which keeps the compiler from
putting an operand there.
"""

from kcc.lang import *

# The POST diagnostic port: writing to it takes about 1 us on ISA hardware and has no effect,
# the customary delay between programming steps of old ISA devices such as the 8259.
_DELAY_PORT: Final = 0x80


def outb(port: u16, value: u8) -> None:
    """Write the byte ``value`` to I/O port ``port``."""
    asm("movw {1}, %dx\nmovb {0}, %al\noutb %al, %dx", value, port, clobbers=("eax", "edx"))


def outw(port: u16, value: u16) -> None:
    """Write the 16-bit ``value`` to I/O port ``port``."""
    asm("movw {1}, %dx\nmovw {0}, %ax\noutw %ax, %dx", value, port, clobbers=("eax", "edx"))


def outl(port: u16, value: u32) -> None:
    """Write the 32-bit ``value`` to I/O port ``port``."""
    asm("movw {1}, %dx\nmovl {0}, %eax\noutl %eax, %dx", value, port, clobbers=("eax", "edx"))


def inb(port: u16) -> u8:
    """Read a byte from I/O port ``port``."""
    return asm("movw {0}, %dx\ninb %dx, %al\nmovb %al, {out}", port, out=u8, clobbers=("eax", "edx"))


def delay() -> None:
    """Wait about a microsecond by writing to the unused POST port 0x80."""
    outb(_DELAY_PORT, 0)
