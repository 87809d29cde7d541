"""i586 processor control: interrupts, hlt, breakpoints, counters, power-off (arch.cpu interface)."""

import board
from kcc.lang import *

from arch import ioport, tsc

# isa-debug-exit makes QEMU exit with (value << 1) | 1 (QEMU hw/misc/debug-exit.c,
# debug_exit_write). The kernel writes code + 1: value 0 would give status 1, which QEMU also
# exits with when it fails by itself (kcc.qemu.kernel_exit_code undoes the bias). An exit status
# keeps 8 bits, so value is at most 127.
_EXIT_VALUE_BIAS: Final = 1
_MAX_EXIT_CODE: Final = 0x7F - _EXIT_VALUE_BIAS
# ACPI 6.4, 4.8.3.2.1 "PM1 Control Registers": SLP_EN (bit 13) starts the sleep state in
# SLP_TYP (bits 10..12); QEMU's DSDT gives S5 (soft off) SLP_TYP 0 (hw/i386/acpi-build.c).
_PM1_SLP_EN: Final = 1 << 13


def interrupts_enable() -> None:
    """Let unmasked interrupt lines through (sti sets EFLAGS.IF)."""
    asm("sti", clobbers=("memory",))


def interrupts_disable() -> None:
    """Mask every maskable interrupt on this CPU (cli clears EFLAGS.IF)."""
    asm("cli", clobbers=("memory",))


def wait_for_interrupt() -> None:
    """Idle until an interrupt arrives (hlt; with EFLAGS.IF = 0 only NMI or reset end it)."""
    asm("hlt", clobbers=("memory",))


def breakpoint() -> None:
    """Raise a breakpoint exception (#BP, vector 3) with the 1-byte int3 (0xCC)."""
    asm("int3", clobbers=("memory",))


def breakpoint_wide() -> None:
    """Raise #BP with the 2-byte ``int $3`` (0xCD 0x03).

    The bytes are spelt out because LLVM's assembler turns ``int $3`` into the
    shorter int3 (X86AsmParser, "int $3" size optimisation).
    """
    asm(".byte 0xcd, 0x03", clobbers=("memory",))


def read_instret() -> u64:
    """Return the time-stamp counter: guest instructions under QEMU ``-icount shift=0``.

    The Pentium has no architectural retired-instruction counter that QEMU
    emulates, so this is the nearest counter (arch/README.md allows it); on
    real hardware and plain TCG it counts cycles.
    """
    return tsc.read()


def boot_instret() -> u64:
    """Return read_instret() as entry.S saw it at the kernel's first instruction."""
    return volatile_load(cast(Ptr[u64], extern_symbol("boot_instret")))


@noreturn
def halt(code: u32) -> None:
    """Power the machine off with exit status ``code`` (0 = success); never returns.

    Writes code + 1 to the board's isa-debug-exit port (when DEBUG_EXIT_PORT
    is not 0), then asks ACPI for soft-off through PM1a_CNT (when
    ACPI_PM1A_CNT_PORT is not 0; the status is lost there), then stops the CPU
    with interrupts masked. Codes above 126 are reported as 126.
    """
    interrupts_disable()
    if board.DEBUG_EXIT_PORT != 0:
        shown: u32 = code
        if shown > _MAX_EXIT_CODE:
            shown = _MAX_EXIT_CODE
        ioport.outl(board.DEBUG_EXIT_PORT, shown + _EXIT_VALUE_BIAS)
    if board.ACPI_PM1A_CNT_PORT != 0:
        ioport.outw(board.ACPI_PM1A_CNT_PORT, _PM1_SLP_EN)
    while True:
        asm("cli\nhlt")
