"""riscv64 boot console: the board's 16550 UART (arch.console interface)."""

from kcc.lang import *

from lib import uart16550


def init() -> None:
    """Prepare the console for output; safe to call before anything else is set up."""
    uart16550.init()


def putc(c: u8) -> None:
    """Write one byte to the console, waiting while the transmitter is full."""
    uart16550.putc(c)
