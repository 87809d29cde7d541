"""riscv64 control and status register access (private to arch/riscv64)."""

from kcc.lang import *

# Bit positions from the RISC-V privileged ISA (version 20211203), section 4.1.1
# "Supervisor Status Register (sstatus)" and 4.1.3 "sip and sie".
SSTATUS_SIE: Final = 1 << 1     # supervisor interrupts enabled
SIE_STIE: Final = 1 << 5        # supervisor timer interrupt enable


def set_sstatus(mask: usize) -> None:
    """Set the bits of ``mask`` in sstatus atomically (csrs)."""
    asm("csrs sstatus, {0}", mask)


def clear_sstatus(mask: usize) -> None:
    """Clear the bits of ``mask`` in sstatus atomically (csrc)."""
    asm("csrc sstatus, {0}", mask)


def set_sie(mask: usize) -> None:
    """Enable the interrupt sources in ``mask`` (csrs sie)."""
    asm("csrs sie, {0}", mask)


def clear_sie(mask: usize) -> None:
    """Disable the interrupt sources in ``mask`` (csrc sie)."""
    asm("csrc sie, {0}", mask)


def write_stvec(base: usize) -> None:
    """Set the trap vector; ``base`` must be 4-byte aligned (bits 1:0 = mode, 0 = direct)."""
    asm("csrw stvec, {0}", base)


def read_time() -> u64:
    """Return the time CSR in timebase ticks (unprivileged ISA, Zicntr "rdtime")."""
    return asm("csrr {out}, time", out=u64)


def read_instret() -> u64:
    """Return the instret CSR (rdinstret); S-mode access needs mcounteren.IR, set by OpenSBI."""
    return asm("csrr {out}, instret", out=u64)


def read_sip() -> usize:
    """Return sip, the pending supervisor interrupts (same bit positions as sie)."""
    return asm("csrr {out}, sip", out=usize)
