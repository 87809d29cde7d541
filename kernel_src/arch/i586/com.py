"""Polled driver for the PC's COM1 serial port, a 16550 UART on I/O ports (private to arch/i586).

Register map and bits: National Semiconductor PC16550D datasheet, section 8
("Registers"), as modelled by QEMU hw/char/serial.c. lib/uart16550 drives the
same chip through MMIO; on the PC its registers are I/O ports from COM1_PORT.
"""

import board
from kcc.lang import *

from arch import ioport

_RBR_THR: Final = 0     # receive buffer / transmit holding; divisor latch low with DLAB = 1
_IER: Final = 1         # interrupt enable; divisor latch high with DLAB = 1
_FCR: Final = 2         # FIFO control (write)
_LCR: Final = 3         # line control
_MCR: Final = 4         # modem control
_LSR: Final = 5         # line status

_LCR_DLAB: Final = 0x80         # divisor latch access
_LCR_8N1: Final = 0x03          # 8 data bits, no parity, 1 stop bit
_FCR_ENABLE_CLEAR: Final = 0x07     # enable FIFOs, clear receive and transmit FIFOs
_MCR_DTR_RTS: Final = 0x03      # data terminal ready, request to send
_LSR_THRE: Final = 0x20         # transmit holding register empty

# The divisor for the board's baud rate: the UART samples at 16 times the bit rate.
_DIVISOR: Final = board.UART_CLOCK_HZ // (16 * board.UART_BAUD)


def _port(reg: u16) -> u16:
    """Return the I/O port of register ``reg``."""
    return u16(board.COM1_PORT) + reg


def init() -> None:
    """Program UART_BAUD 8N1 with FIFOs on and every UART interrupt masked."""
    ioport.outb(_port(_IER), 0)
    ioport.outb(_port(_LCR), _LCR_DLAB)
    ioport.outb(_port(_RBR_THR), u8(_DIVISOR & 0xFF))
    ioport.outb(_port(_IER), u8(_DIVISOR >> 8))
    ioport.outb(_port(_LCR), _LCR_8N1)
    ioport.outb(_port(_FCR), _FCR_ENABLE_CLEAR)
    ioport.outb(_port(_MCR), _MCR_DTR_RTS)


def putc(c: u8) -> None:
    """Send one byte, spinning until the transmit holding register is empty.

    Without a UART the port reads 0xFF, THRE looks set, and the byte is lost
    instead of the kernel hanging.
    """
    while ioport.inb(_port(_LSR)) & _LSR_THRE == 0:
        pass
    ioport.outb(_port(_RBR_THR), c)
