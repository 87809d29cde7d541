"""armv8m periodic timer and cycle clock, both from the SysTick (arch.timer interface).

The SysTick is a 24-bit down-counter on the processor clock (CLKSOURCE = 1,
CPU_HZ). entry.S starts it free-running (reload 0xFF_FFFF, no interrupt) at
the kernel's first instructions and it never stops, so it doubles as the
clock behind now(): every time the counter passes from 1 to 0 a period ends
and SYST_CSR.COUNTFLAG is set until SYST_CSR is next read (ARMv8-M ARM,
D1.2.253). Whoever reads SYST_CSR first, now() or the SysTick handler, adds
the finished period to ``_epoch``; reads always happen with interrupts masked
so the two never race. The clock is exact as long as it is read at least once
per period: a tick period while the timer runs (the handler reads it), 2**24
cycles otherwise (0.84 s at mps2-an505's 20 MHz, 4.2 s at the STM32L5's 4 MHz
reset clock).

Counter values after a period boundary run 0, RVR, RVR-1, ..., 1, so the
cycles elapsed since it are 0 for 0 and RVR + 1 - v otherwise.
"""

import board
from kcc.lang import *

from arch import scs

# Cycles counted before the current SysTick period began.
_epoch: u64 = 0
# Length of the current period in cycles: SYST_RVR + 1 (entry.S starts with the maximum).
_period: u32 = scs.SYST_MAX_RELOAD + 1


def _account() -> u64:
    """Fold a finished period into ``_epoch`` and return cycles since boot; interrupts must be masked."""
    global _epoch
    st = mmio(scs.SysTick, scs.SYST_BASE)
    v = st.cvr.read()
    if st.csr.read() & scs.SYST_CSR_COUNTFLAG != 0:
        _epoch += u64(_period)
        v = st.cvr.read()
    if v == 0:
        return _epoch
    return _epoch + u64(_period - v)


def _restart(reload: u32, tickint: bool) -> None:
    """Start a new period sequence of ``reload + 1`` cycles; interrupts must be masked.

    Writing SYST_CVR clears the counter and COUNTFLAG (D1.2.255), so the new
    period starts at value 0, a boundary, after the elapsed time is folded in.
    """
    global _epoch, _period
    _epoch = _account()
    st = mmio(scs.SysTick, scs.SYST_BASE)
    st.csr.write(scs.SYST_CSR_CLKSOURCE)
    st.rvr.write(reload)
    st.cvr.write(0)
    _period = reload + 1
    ctrl: u32 = scs.SYST_CSR_ENABLE | scs.SYST_CSR_CLKSOURCE
    if tickint:
        ctrl |= scs.SYST_CSR_TICKINT
    st.csr.write(ctrl)
    # A tick that was pending from the old configuration belongs to no period now.
    mmio(scs.Scb, scs.SCB_BASE).icsr.write(scs.ICSR_PENDSTCLR)


def init(hz: u32) -> None:
    """Start the periodic SysTick exception ``hz`` times a second (CPU_HZ / hz cycles apart).

    Panics when that period does not fit the 24-bit reload register.
    Exceptions still need arch.cpu.interrupts_enable() to be taken.
    """
    cycles = u32(board.CPU_HZ) // hz
    if cycles == 0 or cycles - 1 > scs.SYST_MAX_RELOAD:
        panic("SysTick cannot run at this rate: the period does not fit 24 bits")
    saved = scs.primask_save_disable()
    _restart(cycles - 1, True)
    scs.primask_restore(saved)


def stop() -> None:
    """Stop the periodic exception; the SysTick keeps counting free-running for now()."""
    saved = scs.primask_save_disable()
    _restart(scs.SYST_MAX_RELOAD, False)
    scs.primask_restore(saved)


def now() -> u64:
    """Return processor clock cycles since entry.S started the SysTick."""
    saved = scs.primask_save_disable()
    t = _account()
    scs.primask_restore(saved)
    return t


def frequency() -> u64:
    """Return the rate of now() in Hz: the board's CPU_HZ."""
    return u64(board.CPU_HZ)


def handle_interrupt() -> None:
    """Account the period that just ended; called by the trap handler on the SysTick exception.

    The hardware reloads the counter by itself, so there is nothing to re-arm.
    """
    saved = scs.primask_save_disable()
    _account()
    scs.primask_restore(saved)

