"""i586 boot console: COM1 and the VGA text screen, every byte to both (arch.console interface)."""

from kcc.lang import *

from arch import com
from lib import vga_text


def init() -> None:
    """Program COM1 and clear the VGA text screen; safe to call before anything else is set up."""
    com.init()
    vga_text.init()


def putc(c: u8) -> None:
    """Write one byte to the serial port (waiting while it is busy) and to the screen."""
    com.putc(c)
    vga_text.putc(c)
