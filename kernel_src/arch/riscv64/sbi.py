"""Calls into the SBI firmware (OpenSBI) through ecall (private to arch/riscv64).

Calling convention from the RISC-V SBI specification v2.0, chapter 3 "Binary
Encoding": a7 = extension id (EID), a6 = function id (FID), a0..a5 = arguments;
the firmware returns an error code in a0 and a value in a1 and preserves every
other register.
"""

from kcc.lang import *

# Extension ids (SBI specification v2.0).
EID_LEGACY_SET_TIMER: Final = 0x00      # chapter 5, legacy extension, replaced by TIME
EID_BASE: Final = 0x10                  # chapter 4
EID_TIME: Final = 0x54494D45            # "TIME", chapter 6
EID_SRST: Final = 0x53525354            # "SRST", chapter 10

BASE_PROBE_EXTENSION: Final = 3         # FID of sbi_probe_extension
TIME_SET_TIMER: Final = 0               # FID of sbi_set_timer
SRST_SYSTEM_RESET: Final = 0            # FID of sbi_system_reset

SRST_TYPE_SHUTDOWN: Final = 0
SRST_REASON_NONE: Final = 0
SRST_REASON_FAILURE: Final = 1

# 0: not probed yet, 1: TIME present, 2: only the legacy timer call.
_timer_kind: u32 = 0


def _ecall_error(eid: usize, fid: usize, arg0: usize, arg1: usize) -> isize:
    """Make an SBI call and return its error code (a0); SBI v2.0 section 3.2 lists the codes."""
    return isize(asm("mv a0, {0}\nmv a1, {1}\nmv a6, {2}\nmv a7, {3}\necall\nmv {out}, a0",
                     arg0, arg1, fid, eid, out=usize, clobbers=("a0", "a1", "a6", "a7", "memory")))


def _ecall_value(eid: usize, fid: usize, arg0: usize, arg1: usize) -> usize:
    """Make an SBI call and return its value (a1)."""
    return asm("mv a0, {0}\nmv a1, {1}\nmv a6, {2}\nmv a7, {3}\necall\nmv {out}, a1",
               arg0, arg1, fid, eid, out=usize, clobbers=("a0", "a1", "a6", "a7", "memory"))


def probe_extension(eid: usize) -> bool:
    """Return True when the firmware implements extension ``eid`` (sbi_probe_extension, SBI 4.8)."""
    return _ecall_value(EID_BASE, BASE_PROBE_EXTENSION, eid, 0) != 0


def set_timer(deadline: u64) -> None:
    """Ask for a supervisor timer interrupt when the time CSR reaches ``deadline`` (timebase ticks).

    Uses the TIME extension (SBI chapter 6) and falls back to the legacy
    SET_TIMER call (EID 0x00, chapter 5) when the firmware lacks TIME. Setting
    a deadline also clears the pending timer interrupt (sip.STIP).
    """
    global _timer_kind
    if _timer_kind == 0:
        if probe_extension(EID_TIME):
            _timer_kind = 1
        else:
            _timer_kind = 2
    if _timer_kind == 1:
        _ecall_error(EID_TIME, TIME_SET_TIMER, usize(deadline), 0)
    else:
        _ecall_error(EID_LEGACY_SET_TIMER, 0, usize(deadline), 0)


def system_reset(failure: bool) -> isize:
    """Shut the machine down through SRST (SBI chapter 10); returns only when the call fails.

    ``failure`` selects the reset reason "system failure" instead of "no
    reason". Returns the SBI error code (e.g. -2, not supported).
    """
    reason: usize = SRST_REASON_NONE
    if failure:
        reason = SRST_REASON_FAILURE
    return _ecall_error(EID_SRST, SRST_SYSTEM_RESET, SRST_TYPE_SHUTDOWN, reason)
