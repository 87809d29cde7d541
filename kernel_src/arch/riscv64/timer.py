"""riscv64 periodic timer: the time CSR plus SBI set_timer deadlines (arch.timer interface)."""

import board
from kcc.lang import *

from arch import csr, sbi

# Timebase ticks between two interrupts; 0 while the timer is stopped.
_interval: u64 = 0


def init(hz: u32) -> None:
    """Start periodic supervisor timer interrupts ``hz`` times a second.

    The period is TIMEBASE_HZ / hz timebase ticks (TIMEBASE_HZ is the device
    tree's /cpus/timebase-frequency, 10 MHz on QEMU virt). Interrupts still
    need arch.cpu.interrupts_enable() to be taken.
    """
    global _interval
    _interval = u64(board.TIMEBASE_HZ) // u64(hz)
    sbi.set_timer(csr.read_time() + _interval)
    csr.set_sie(csr.SIE_STIE)


def stop() -> None:
    """Stop the periodic interrupt and disable its source."""
    global _interval
    _interval = 0
    csr.clear_sie(csr.SIE_STIE)
    sbi.set_timer(0xFFFF_FFFF_FFFF_FFFF)


def now() -> u64:
    """Return the current time in timebase ticks."""
    return csr.read_time()


def frequency() -> u64:
    """Return the timebase frequency in Hz (ticks of now() per second)."""
    return u64(board.TIMEBASE_HZ)


def handle_interrupt() -> None:
    """Arm the next deadline one period from now; called by the trap handler on a timer interrupt.

    Counting from now rather than from the previous deadline keeps ticks at
    least one period apart after a late interrupt instead of bunching them.
    """
    if _interval == 0:
        sbi.set_timer(0xFFFF_FFFF_FFFF_FFFF)
        return
    sbi.set_timer(csr.read_time() + _interval)
