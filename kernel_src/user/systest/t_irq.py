"""System tests of interrupt delivery: a real device interrupt routed by the kernel to a user notification.

The 16550 UART raises its transmitter-holding-register-empty interrupt as
soon as that interrupt is enabled while the transmitter is idle (16550
datasheet, "Interrupt Enable Register" and "Interrupt Identification
Register"); reading IIR clears it. So a user-mode driver holding the UART's
device region and its IRQ can cause an interrupt and serve it without any
input, which makes the whole path testable: PLIC claim in the kernel,
signal of the bound notification, the driver's wait, OP_IRQ_ACK completing
the line, and a second interrupt only after that acknowledgement.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

UART_VA: Final = 0x3F_0000_0000          # where the test maps the UART's registers
IER: Final = 1                          # registers are 1 << UART0_REG_SHIFT bytes apart
IIR: Final = 2
_LSR: Final = 5
_IER_THRE: Final = 0x02                  # "enable transmitter holding register empty interrupt"
_LSR_THRE: Final = 0x20                  # the transmitter holding register is empty
_IIR_NONE: Final = 0x01                  # bit 0 set: no interrupt pending
_BITS: Final = 0x40
WAIT_TICKS: Final = 50
ATTEMPTS: Final = 5


def reg(index: usize) -> Ptr[u8]:
    """The UART register ``index`` in the test's mapping."""
    return cast(Ptr[u8], UART_VA + (index << board.UART0_REG_SHIFT))


def _enable_thre() -> None:
    """Enable the THRE interrupt once the transmitter is idle (the kernel's last console byte has gone).

    The interrupt is raised when the enable bit rises while LSR.THRE is set
    (QEMU hw/char/serial.c, as on the 16550); output still draining to the
    host would otherwise leave it unraised.
    """
    ticks: usize = 0
    while volatile_load(reg(_LSR)) & _LSR_THRE == 0 and ticks < WAIT_TICKS:
        syscall.sleep(1)
        ticks += 1
    volatile_store(reg(IER), u8(_IER_THRE))


def raise_thre(n: usize) -> usize:
    """Make the UART raise its THRE interrupt and return the bits that reach notification ``n`` (0: none).

    Uses no globals, so a driver in a child process with the UART mapped at
    UART_VA and ``n`` a notification slot of its own runs it too.

    Up to ATTEMPTS tries: QEMU's PLIC (hw/intc/sifive_plic.c) drops a pending
    level-triggered request when the line falls before the claim, which a
    console byte written by the kernel at that moment does; the PLIC
    specification's gateway would keep it ("Interrupt Gateways"). A real
    loss in the kernel would lose every attempt.
    """
    for attempt in range(u32(ATTEMPTS)):
        volatile_store(reg(IER), u8(0))
        _enable_thre()
        bits = _wait_bits(n, WAIT_TICKS // ATTEMPTS)
        if bits != 0:
            return bits
    return 0


def _wait_bits(n: usize, limit: usize) -> usize:
    """Poll notification ``n`` for up to ``limit`` ticks; return the bits that arrived (0: none)."""
    res: syscall.SysResult
    ticks: usize = 0
    while ticks < limit:
        if syscall.ntfn_poll(n, addr(res)) == abi.OK and res.v0 != 0:
            return res.v0
        syscall.sleep(1)
        ticks += 1
    return 0


def uart_interrupt_reaches_a_notification() -> None:
    """The UART's THRE interrupt is delivered as the bound bits, held until ACK, then delivered again."""
    harness.begin("irq: a UART interrupt reaches the bound notification")
    q = spawn.take()
    if harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, q), abi.OK, "claim"):
        n = spawn.take()         # take() gives the lowest empty slot: only now is q's taken
        harness.expect_eq(syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_NOTIFICATION, n, 0), abi.OK,
                          "notification")
        harness.expect_eq(syscall.irq_bind(q, n, _BITS), abi.OK, "bind")
        harness.expect_eq(syscall.proc_map(initcaps.SLOT_SELF_PROCESS, initcaps.SLOT_DEVICES, UART_VA,
                                           abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK, "map the UART")
        harness.expect_eq(raise_thre(n), _BITS, "first interrupt")
        # Served: IIR read clears THRE. Enabling it again raises a new interrupt at once, which the
        # PLIC holds back until the kernel completes the first one on OP_IRQ_ACK.
        iir = volatile_load(reg(IIR))
        harness.expect(iir & _IIR_NONE == 0, "IIR shows the interrupt")
        volatile_store(reg(IER), u8(0))
        _enable_thre()
        res: syscall.SysResult
        syscall.sleep(2)
        syscall.ntfn_poll(n, addr(res))
        harness.expect_eq(res.v0, 0, "a second interrupt before the acknowledgement")
        harness.expect_eq(syscall.irq_ack(q), abi.OK, "ack")
        bits = _wait_bits(n, WAIT_TICKS)
        if bits == 0:
            bits = raise_thre(n)
        harness.expect_eq(bits, _BITS, "second interrupt after the acknowledgement")
        # Quiet the UART before the last acknowledgement, so no third interrupt can be in flight.
        volatile_store(reg(IER), u8(0))
        volatile_load(reg(IIR))
        harness.expect_eq(syscall.irq_ack(q), abi.OK, "second ack")
        syscall.sleep(2)
        harness.expect_eq(syscall.irq_ack(q), abi.ERR_BAD_STATE, "ack with nothing delivered")
        syscall.proc_unmap(initcaps.SLOT_SELF_PROCESS, UART_VA, 1, addr(res))
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    uart_interrupt_reaches_a_notification()
    harness.begin("irq: kernel state is clean afterwards")
    spawn.expect_clean()
    harness.end()
