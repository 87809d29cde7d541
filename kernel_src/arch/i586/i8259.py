"""The two cascaded 8259A programmable interrupt controllers of the PC (private to arch/i586).

Command words from the Intel 8259A datasheet (order 231468): ICW1..ICW4 at
initialisation, OCW1 (the mask), OCW2 (end of interrupt) and OCW3 (read the
in-service register). The master's IRQ 2 carries the slave, as on every PC/AT.
Both are remapped to the board's PIC_MASTER_VECTOR/PIC_SLAVE_VECTOR, because
the BIOS default (vectors 8..15) collides with the CPU's exceptions.
"""

import board
from kcc.lang import *

from arch import ioport

_MASTER_CMD: Final = 0x20
_MASTER_DATA: Final = 0x21
_SLAVE_CMD: Final = 0xA0
_SLAVE_DATA: Final = 0xA1

_ICW1_INIT_WITH_ICW4: Final = 0x11  # edge triggered, cascade mode, ICW4 follows
_ICW3_MASTER_SLAVE_ON_IRQ2: Final = 0x04    # bit mask: a slave sits on input 2
_ICW3_SLAVE_ID: Final = 0x02                # the slave's cascade identity: 2
_ICW4_8086: Final = 0x01            # 8086/88 mode, normal EOI, not buffered
_OCW2_EOI: Final = 0x20             # non-specific end of interrupt
_OCW3_READ_ISR: Final = 0x0B        # the next read of the command port returns the in-service register
_OCW3_POLL: Final = 0x0C            # the next read of the command port acknowledges the highest request
_POLL_PENDING: Final = 0x80         # poll result: bit 7 = a request was acknowledged (bits 2..0: its level)

CASCADE_IRQ: Final = 2
SPURIOUS_MASTER_IRQ: Final = 7
SPURIOUS_SLAVE_IRQ: Final = 15


def init() -> None:
    """Remap both PICs to the board's vectors and mask every line except the cascade."""
    ioport.outb(_MASTER_CMD, _ICW1_INIT_WITH_ICW4)
    ioport.delay()
    ioport.outb(_SLAVE_CMD, _ICW1_INIT_WITH_ICW4)
    ioport.delay()
    ioport.outb(_MASTER_DATA, u8(board.PIC_MASTER_VECTOR))
    ioport.delay()
    ioport.outb(_SLAVE_DATA, u8(board.PIC_SLAVE_VECTOR))
    ioport.delay()
    ioport.outb(_MASTER_DATA, _ICW3_MASTER_SLAVE_ON_IRQ2)
    ioport.delay()
    ioport.outb(_SLAVE_DATA, _ICW3_SLAVE_ID)
    ioport.delay()
    ioport.outb(_MASTER_DATA, _ICW4_8086)
    ioport.delay()
    ioport.outb(_SLAVE_DATA, _ICW4_8086)
    ioport.delay()
    ioport.outb(_MASTER_DATA, ~u8(1 << CASCADE_IRQ))
    ioport.outb(_SLAVE_DATA, 0xFF)


def _data_port(irq: u32) -> u16:
    """Return the mask (OCW1) port of the PIC that serves ``irq`` (0..15)."""
    if irq < 8:
        return _MASTER_DATA
    return _SLAVE_DATA


def unmask(irq: u32) -> None:
    """Let IRQ line ``irq`` (0..15) interrupt."""
    port = _data_port(irq)
    ioport.outb(port, ioport.inb(port) & ~u8(u32(1) << (irq & 7)))


def mask(irq: u32) -> None:
    """Stop IRQ line ``irq`` (0..15) from interrupting."""
    port = _data_port(irq)
    ioport.outb(port, ioport.inb(port) | u8(u32(1) << (irq & 7)))


def eoi(irq: u32) -> None:
    """Signal the end of IRQ ``irq``'s handling: to the slave and the master for 8..15, else the master."""
    if irq >= 8:
        ioport.outb(_SLAVE_CMD, _OCW2_EOI)
    ioport.outb(_MASTER_CMD, _OCW2_EOI)


def drop_pending() -> None:
    """Throw away a request already latched on an unmasked master line (at boot: the PIT's IRQ 0).

    Polls the master (datasheet, "The Poll Command"): the read acknowledges the
    highest unmasked request as an INTA cycle would, and an EOI ends it.
    Masked lines are not polled, so the line must be unmasked, and interrupts
    off (EFLAGS.IF = 0) so that the CPU does not take the request first.
    """
    ioport.outb(_MASTER_CMD, _OCW3_POLL)
    if ioport.inb(_MASTER_CMD) & _POLL_PENDING != 0:
        ioport.outb(_MASTER_CMD, _OCW2_EOI)


def _in_service(cmd_port: u16) -> u8:
    """Return the in-service register of the PIC at ``cmd_port`` (OCW3)."""
    ioport.outb(cmd_port, _OCW3_READ_ISR)
    return ioport.inb(cmd_port)


def spurious(irq: u32) -> bool:
    """Return True when IRQ 7 or 15 was spurious, acknowledging what needs it.

    A request that goes away before the CPU's acknowledge makes the PIC report
    its lowest-priority line (7) with the in-service bit clear (datasheet,
    "Interrupt sequence"); such an interrupt must not get an EOI, except that
    a spurious IRQ 15 was a real cascade interrupt at the master.
    """
    if irq == SPURIOUS_MASTER_IRQ:
        return _in_service(_MASTER_CMD) & 0x80 == 0
    if irq == SPURIOUS_SLAVE_IRQ and _in_service(_SLAVE_CMD) & 0x80 == 0:
        ioport.outb(_MASTER_CMD, _OCW2_EOI)
        return True
    return False
