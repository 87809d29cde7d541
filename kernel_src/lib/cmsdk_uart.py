"""Polled driver for the Arm CMSDK APB UART (transmit only), as on the MPS2 boards.

Registers from the Arm Cortex-M System Design Kit Technical Reference Manual
(Arm DDI 0479C), section 4.3 "UART", as modelled by QEMU hw/char/cmsdk-apb-uart.c:
DATA +0x0, STATE +0x4 (bit 0 TX buffer full), CTRL +0x8 (bit 0 TX enable),
INTSTATUS/INTCLEAR +0xC, BAUDDIV +0x10 (PCLK / baud, at least 16). QEMU drops
bytes written while TX is disabled, so init() must run before the first putc().
"""

from kcc.lang import *

STATE_TX_FULL: Final = 1 << 0
CTRL_TX_ENABLE: Final = 1 << 0
BAUDDIV_MIN: Final = 16


@struct
class CmsdkUart:
    """The register block, 4-byte registers."""

    data: Reg[u32]
    state: Reg[u32]
    ctrl: Reg[u32]
    intstatus: Reg[u32]
    bauddiv: Reg[u32]


def init(base: usize, clock_hz: u32, baud: u32) -> None:
    """Set the baud divider for ``baud`` from the APB clock ``clock_hz``, mask interrupts, enable TX.

    The divider is clamped to the minimum of 16 the TRM requires.
    """
    u = mmio(CmsdkUart, base)
    u.ctrl.write(0)
    div = clock_hz // baud
    if div < BAUDDIV_MIN:
        div = BAUDDIV_MIN
    u.bauddiv.write(div)
    u.ctrl.write(CTRL_TX_ENABLE)


def putc(base: usize, c: u8) -> None:
    """Send one byte, spinning while the transmit buffer is full."""
    u = mmio(CmsdkUart, base)
    while u.state.read() & STATE_TX_FULL != 0:
        pass
    u.data.write(u32(c))
