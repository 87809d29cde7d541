"""riscv64 processor control: interrupts, wfi, breakpoints, counters, power-off (arch.cpu interface)."""

import board
from kcc.lang import *

from arch import csr, sbi

# QEMU hw/misc/sifive_test.c: a 32-bit write of FINISHER_PASS ends QEMU with
# status 0, FINISHER_FAIL | (code << 16) with status ``code``.
_FINISHER_FAIL: Final = 0x3333
_FINISHER_PASS: Final = 0x5555


def interrupts_enable() -> None:
    """Let enabled interrupt sources trap (sets sstatus.SIE, privileged ISA 4.1.1)."""
    csr.set_sstatus(csr.SSTATUS_SIE)


def interrupts_disable() -> None:
    """Mask every interrupt on this hart (clears sstatus.SIE)."""
    csr.clear_sstatus(csr.SSTATUS_SIE)


def wait_for_interrupt() -> None:
    """Idle until an interrupt is pending (wfi; may also return spuriously, privileged ISA 3.3.3)."""
    asm("wfi")


def breakpoint() -> None:
    """Raise a breakpoint exception (ebreak; the assembler may encode it as 2-byte c.ebreak)."""
    asm("ebreak")


def breakpoint_wide() -> None:
    """Raise a breakpoint exception with the 4-byte ebreak encoding, never c.ebreak."""
    asm(".option push\n.option norvc\nebreak\n.option pop")


def read_instret() -> u64:
    """Return the number of instructions this hart has retired."""
    return csr.read_instret()


def boot_instret() -> u64:
    """Return read_instret() as entry.S saw it at the kernel's first instruction."""
    return volatile_load(cast(Ptr[u64], extern_symbol("boot_instret")))


@noreturn
def halt(code: u32) -> None:
    """Power the machine off with exit status ``code`` (0 = success); never returns.

    Tries the board's sifive test device (when TEST_BASE is not 0), then SBI
    SRST (SBI v2.0 chapter 10), then parks the hart with interrupts masked.
    Codes above 0xFFFF are reported as 0xFFFF (the test device keeps 16 bits).
    SRST passes only "failure" or not as the reset reason, and OpenSBI (as
    shipped with QEMU 7.2) powers QEMU off with status 0 for either, so on
    boards without a test device the status is lost.
    """
    interrupts_disable()
    if board.TEST_BASE != 0:
        finisher = cast(Ptr[u32], usize(board.TEST_BASE))
        if code == 0:
            volatile_store(finisher, _FINISHER_PASS)
        else:
            shown: u32 = code
            if shown > 0xFFFF:
                shown = 0xFFFF
            volatile_store(finisher, (shown << 16) | _FINISHER_FAIL)
    sbi.system_reset(code != 0)
    while True:
        asm("wfi")
