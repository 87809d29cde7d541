"""armv8m processor control: PRIMASK, wfi, breakpoints, the cycle count, power-off (arch.cpu interface)."""

import board
from kcc.lang import *

from arch import timer
from lib import int64 as _int64  # noqa: F401  defines kcc_udiv64/kcc_sdiv64, which aeabi.S calls

# Arm semihosting v2.0 ("Semihosting for AArch32 and AArch64", Arm IHI 0096): on M-profile the
# call is BKPT 0xAB with the operation in r0 and its argument in r1. SYS_EXIT_EXTENDED takes a
# two-word block {reason, subcode}; for ADP_Stopped_ApplicationExit QEMU exits with the subcode
# as its status (QEMU semihosting/arm-compat-semi.c), whereas plain SYS_EXIT on AArch32 can only
# report success or failure.
_SYS_EXIT_EXTENDED: Final = 0x20
_ADP_STOPPED_APPLICATION_EXIT: Final = 0x20026

_exit_block: Array[u32, 2]


def interrupts_enable() -> None:
    """Let configurable-priority exceptions (SysTick, interrupts) be taken: PRIMASK = 0 (cpsie i)."""
    asm("cpsie i", clobbers=("memory",))


def interrupts_disable() -> None:
    """Mask every configurable-priority exception: PRIMASK = 1 (cpsid i); faults still escalate."""
    asm("cpsid i", clobbers=("memory",))


def wait_for_interrupt() -> None:
    """Idle until an exception is pending (wfi; ARMv8-M ARM B3.33: also wakes with PRIMASK set)."""
    asm("dsb\nwfi")


def breakpoint() -> None:
    """Raise the kernel's breakpoint exception with the 16-bit encoding: UDF #0 (0xDE00).

    On M-profile, BKPT is a debug event: without a debugger it escalates to a
    HardFault (or halts the core when one is attached), and QEMU treats BKPT
    0xAB as a semihosting call. A permanently undefined instruction instead
    raises a UsageFault with UFSR.UNDEFINSTR in every setting, which the trap
    handler reports to the core as a breakpoint and resumes after.
    """
    asm("udf #0")


def breakpoint_wide() -> None:
    """The same with the 32-bit encoding UDF.W #0 (0xF7F0 0xA000), so the resume logic sees both lengths."""
    asm("udf.w #0")


def read_instret() -> u64:
    """Return the boot-cost count: processor clock cycles since entry times the board's INSTRET_SCALE.

    ARMv8.0-M has no retired-instruction counter, so this is the nearest
    measure: core clock cycles (INSTRET_SCALE = 1, real hardware), or under
    QEMU, where the SysTick follows virtual time, the instructions that time
    stands for under -icount shift=0 (one per ns: INSTRET_SCALE = 50 at 20 MHz).
    """
    return timer.now() * u64(board.INSTRET_SCALE)


def boot_instret() -> u64:
    """Return read_instret() as at the kernel's first instruction: 0.

    entry.S starts the SysTick from 0 with its first few instructions, so the
    count begins there; those few instructions are not counted.
    """
    return 0


@noreturn
def halt(code: u32) -> None:
    """Stop the machine with exit status ``code`` (0 = success); never returns.

    With SEMIHOSTING_EXIT (QEMU) the status goes to the host through
    SYS_EXIT_EXTENDED; otherwise, or if the call returns, the core parks in
    wfi with exceptions masked (a microcontroller has nothing to power off).
    """
    interrupts_disable()
    if board.SEMIHOSTING_EXIT != 0:
        _exit_block[0] = _ADP_STOPPED_APPLICATION_EXIT
        _exit_block[1] = code
        # LLVM never assigns an input to a clobbered register, so the moves cannot overwrite each other.
        asm("mov r0, {0}\nmov r1, {1}\nbkpt 0xab", u32(_SYS_EXIT_EXTENDED), usize(addr(_exit_block[0])),
            clobbers=("r0", "r1", "memory"))
    while True:
        asm("wfi")
