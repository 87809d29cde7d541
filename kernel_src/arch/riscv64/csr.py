"""riscv64 control and status register access (private to arch/riscv64)."""

from kcc.lang import *

# Bit positions from the RISC-V privileged ISA (version 20211203), section 4.1.1
# "Supervisor Status Register (sstatus)" and 4.1.3 "sip and sie".
SSTATUS_SIE: Final = 1 << 1     # supervisor interrupts enabled
SSTATUS_SPIE: Final = 1 << 5    # SIE before the last trap
SSTATUS_SPP: Final = 1 << 8     # privilege before the last trap (1 = S)
SIE_SSIE: Final = 1 << 1        # supervisor software interrupt enable
SIE_STIE: Final = 1 << 5        # supervisor timer interrupt enable
SIE_SEIE: Final = 1 << 9        # supervisor external interrupt enable


def read_sstatus() -> usize:
    """Return sstatus (privileged ISA 4.1.1)."""
    return asm("csrr {out}, sstatus", out=usize)


def set_sstatus(mask: usize) -> None:
    """Set the bits of ``mask`` in sstatus atomically (csrs)."""
    asm("csrs sstatus, {0}", mask)


def clear_sstatus(mask: usize) -> None:
    """Clear the bits of ``mask`` in sstatus atomically (csrc)."""
    asm("csrc sstatus, {0}", mask)


def read_sie() -> usize:
    """Return sie, the supervisor interrupt-enable register (privileged ISA 4.1.3)."""
    return asm("csrr {out}, sie", out=usize)


def set_sie(mask: usize) -> None:
    """Enable the interrupt sources in ``mask`` (csrs sie)."""
    asm("csrs sie, {0}", mask)


def clear_sie(mask: usize) -> None:
    """Disable the interrupt sources in ``mask`` (csrc sie)."""
    asm("csrc sie, {0}", mask)


def read_sip() -> usize:
    """Return sip, the pending supervisor interrupts (privileged ISA 4.1.3)."""
    return asm("csrr {out}, sip", out=usize)


def write_stvec(base: usize) -> None:
    """Set the trap vector; ``base`` must be 4-byte aligned (bits 1:0 = mode, 0 = direct)."""
    asm("csrw stvec, {0}", base)


def read_stvec() -> usize:
    """Return stvec."""
    return asm("csrr {out}, stvec", out=usize)


def read_time() -> u64:
    """Return the time CSR in timebase ticks (unprivileged ISA, Zicntr "rdtime")."""
    return asm("csrr {out}, time", out=u64)


def read_cycle() -> u64:
    """Return the cycle CSR (rdcycle); S-mode access needs mcounteren.CY, set by OpenSBI."""
    return asm("csrr {out}, cycle", out=u64)


def read_instret() -> u64:
    """Return the instret CSR (rdinstret); S-mode access needs mcounteren.IR, set by OpenSBI."""
    return asm("csrr {out}, instret", out=u64)
