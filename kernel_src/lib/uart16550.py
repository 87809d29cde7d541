"""Polled driver for the NS16550A-compatible UART (8250 family) at the board's UART0_BASE.

Register map and bits: National Semiconductor PC16550D datasheet, section 8
("Registers"), as modelled by QEMU hw/char/serial.c. The board sets the base
(UART0_BASE) and the register spacing (UART0_REG_SHIFT, the device tree's
"reg-shift": 0 = registers 1 byte apart as on QEMU virt, 2 = 4 bytes apart
with 32-bit accesses as on the JH7110's DesignWare 8250).
"""

import board
from kcc.lang import *

LSR_THRE: Final = 0x20      # line status: transmit holding register empty
LCR_8N1: Final = 0x03       # 8 data bits, no parity, 1 stop bit, DLAB = 0
# Enable the FIFOs and clear the transmit one only: clearing the receive FIFO (0x02) would drop what a
# person typed before the kernel started, which the user-mode console driver reads later.
FCR_ENABLE_CLEAR: Final = 0x05


@struct
class Ns16550:
    """Registers 1 byte apart (reg-shift 0), with DLAB = 0."""

    rbr_thr: Reg[u8]    # 0: receive buffer (read) / transmit holding (write)
    ier: Reg[u8]        # 1: interrupt enable
    iir_fcr: Reg[u8]    # 2: interrupt identification (read) / FIFO control (write)
    lcr: Reg[u8]        # 3: line control
    mcr: Reg[u8]        # 4: modem control
    lsr: Reg[u8]        # 5: line status
    msr: Reg[u8]        # 6: modem status
    scr: Reg[u8]        # 7: scratch


@struct
class Ns16550Wide:
    """Registers 4 bytes apart, accessed 32 bits wide (reg-shift 2, reg-io-width 4)."""

    rbr_thr: Reg[u32]
    ier: Reg[u32]
    iir_fcr: Reg[u32]
    lcr: Reg[u32]
    mcr: Reg[u32]
    lsr: Reg[u32]
    msr: Reg[u32]
    scr: Reg[u32]


def init() -> None:
    """Set 8N1, enable and clear the FIFOs and mask the UART's interrupts.

    The divisor latch is left as the firmware programmed it: the baud rate
    depends on an input clock this driver does not know.
    """
    if board.UART0_REG_SHIFT == 0:
        u = mmio(Ns16550, board.UART0_BASE)
        u.ier.write(0)
        u.lcr.write(LCR_8N1)
        u.iir_fcr.write(FCR_ENABLE_CLEAR)
    else:
        w = mmio(Ns16550Wide, board.UART0_BASE)
        w.ier.write(0)
        w.lcr.write(LCR_8N1)
        w.iir_fcr.write(FCR_ENABLE_CLEAR)


def putc(c: u8) -> None:
    """Send one byte, spinning until the transmit holding register is empty."""
    if board.UART0_REG_SHIFT == 0:
        u = mmio(Ns16550, board.UART0_BASE)
        while u.lsr.read() & LSR_THRE == 0:
            pass
        u.rbr_thr.write(c)
    else:
        w = mmio(Ns16550Wide, board.UART0_BASE)
        while w.lsr.read() & LSR_THRE == 0:
            pass
        w.rbr_thr.write(u32(c))
