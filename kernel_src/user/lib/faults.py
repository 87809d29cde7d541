"""Every way a user thread can make the processor trap other than a system call, as a table of acts.

The rows are the exceptions U-mode can raise on riscv64, from the privileged
ISA's table "Supervisor cause register (scause) values after trap", each
reached in every way that differs for the kernel (an unmapped page, a kernel
page, a read-only page, a device hole ...). The system tests run every row
in every role a faulting thread can have (user/systest/t_faultroles.py); the
``fault`` program runs one by name from the shell.

Codes U-mode cannot raise on qemu-virt, so no row: 0 (instruction address
misaligned: with the C extension every jump target is 2-byte aligned, and
jalr clears bit 0), 1 (instruction access fault: the kernel maps no
non-memory page executable: a device is never executable), 8 (environment
call from U-mode: that is a system call), 9 and 11 (from S- and M-mode),
18 and 19 (software check and hardware error: no Zicfilp/Zicfiss and no RAS
on QEMU's virt), and plain misaligned loads and stores, which OpenSBI
emulates in M-mode without the kernel seeing them (only LR and AMOs, which
it does not emulate, reach it).

An act runs in a victim process laid out around ``area`` (AREA_* offsets):
a read-only page, a read + write page starting with a ``ret`` instruction,
a device page (the UART's registers, read + write) and unmapped pages after
them. An act that does not fault returns (its caller reports that).
"""

import board
from kcc.lang import *

from lib import abi, string

RO_OFF: Final = 0                       # a read-only page
RW_OFF: Final = board.PAGE_SIZE         # a read + write page; its first word is RET_INSN
DEV_OFF: Final = 2 * board.PAGE_SIZE    # the UART's page, read + write
HOLE_OFF: Final = 3 * board.PAGE_SIZE   # nothing mapped from here on
AREA_PAGES: Final = 3
RET_INSN: Final[u32] = 0x0000_8067      # jalr zero, 0(ra)
UART_HOLE: Final = 0x800                # an offset in the UART's page where virt has no device (16550: 8 registers)
NONCANONICAL: Final = 0x0100_0000_0000_0000     # bits 63..39 differ from bit 38: no Sv39 address

# How a row's fault address (the fault message's and OP_THREAD_STATE's) is expected.
AT_ANY: Final = 0           # not checked (an illegal instruction or a breakpoint: stval is not an address)
AT_AREA: Final = 1          # area + offset
AT_ABSOLUTE: Final = 2      # offset itself
AT_GUARD: Final = 3         # in the page below the stack's lowest address

# How the fault pc is expected.
PC_CODE: Final = 0          # in the program's text
PC_AT_ADDRESS: Final = 1    # the fault address itself (an instruction fetch)


@struct
class Fault:
    """One row: what the act does, the fault kind (abi.FAULT_*) and scause code it must raise, and where."""

    name: Ptr[u8]
    act: Callable[[usize], None]
    kind: usize
    cause: usize            # the scause exception code; the kernel's fault line prints it
    at: usize               # AT_*
    offset: usize
    pc: usize               # PC_*


def _illegal(area: usize) -> None:
    """The all-zero-bits-defined illegal instruction (unimp: csrrw x0, cycle, x0, a write to a read-only CSR)."""
    asm("unimp")


def _supervisor_csr(area: usize) -> None:
    """Read sstatus, a supervisor CSR U-mode may not access (privileged ISA, "CSR Field Modulation")."""
    asm("csrr t0, sstatus", clobbers=("t0",))


def _sret(area: usize) -> None:
    """sret from U-mode, a privileged instruction."""
    asm("sret")


def _wfi(area: usize) -> None:
    """wfi from U-mode, illegal when S-mode exists (privileged ISA, "Wait for Interrupt")."""
    asm("wfi")


def _ebreak(area: usize) -> None:
    """A breakpoint."""
    asm("ebreak")


def _c_ebreak(area: usize) -> None:
    """The compressed breakpoint."""
    asm("c.ebreak")


def _load(address: usize) -> None:
    """Load the word at ``address``."""
    volatile_load(cast(Ptr[usize], address))


def _store(address: usize) -> None:
    """Store a word at ``address``."""
    volatile_store(cast(Ptr[usize], address), 0xBAD)


def _jump(address: usize) -> None:
    """Jump to ``address``."""
    asm("jr {0}", address)


def _load_unmapped(area: usize) -> None:
    """Load from an unmapped page."""
    _load(area + HOLE_OFF)


def _load_kernel(area: usize) -> None:
    """Load from the kernel's image (mapped, but not for U-mode)."""
    _load(board.KERNEL_BASE)


def _load_noncanonical(area: usize) -> None:
    """Load from an address Sv39 cannot translate."""
    _load(NONCANONICAL)


def _store_unmapped(area: usize) -> None:
    """Store to an unmapped page."""
    _store(area + HOLE_OFF)


def _store_read_only(area: usize) -> None:
    """Store to a read-only page."""
    _store(area + RO_OFF + 8)


def _store_code(area: usize) -> None:
    """Store to the program's own text (read + execute)."""
    _store(board.USER_BASE)


def _store_kernel(area: usize) -> None:
    """Store to the kernel's image."""
    _store(board.KERNEL_BASE)


def _amo_read_only(area: usize) -> None:
    """An atomic add to a read-only page (an AMO faults as a store)."""
    asm("amoadd.d zero, zero, ({0})", area + RO_OFF, clobbers=("memory",))


def _overflow(depth: usize) -> usize:
    """Recurse with 512 bytes of locals a level until the stack runs into the unmapped page below it."""
    pad: Array[usize, 64]
    volatile_store(addr(pad[0]), depth)
    volatile_store(addr(pad[63]), depth)
    return _overflow(depth + 1) + volatile_load(addr(pad[0]))


def _stack_overflow(area: usize) -> None:
    """Overflow the stack into its guard (the unmapped page below it)."""
    _overflow(0)


def _fetch_unmapped(area: usize) -> None:
    """Jump to an unmapped page."""
    _jump(area + HOLE_OFF)


def _fetch_non_executable(area: usize) -> None:
    """Jump to a read + write page holding a valid instruction: only the missing execute right faults."""
    _jump(area + RW_OFF)


def _fetch_kernel(area: usize) -> None:
    """Jump into the kernel's text."""
    _jump(board.KERNEL_BASE)


def _call_null(area: usize) -> None:
    """Call through a null function pointer."""
    _jump(0)


def _amo_misaligned(area: usize) -> None:
    """An atomic add to a misaligned address (OpenSBI emulates plain loads and stores, not AMOs)."""
    asm("amoadd.w zero, zero, ({0})", area + RW_OFF + 2, clobbers=("memory",))


def _lr_misaligned(area: usize) -> None:
    """A load-reserved from a misaligned address (a load OpenSBI does not emulate)."""
    asm("lr.w t0, ({0})", area + RW_OFF + 2, clobbers=("t0", "memory"))


def _load_hole(area: usize) -> None:
    """Load from the device page where the bus has nothing: a physical access fault."""
    _load(area + DEV_OFF + UART_HOLE)


def _store_hole(area: usize) -> None:
    """Store to the device page where the bus has nothing."""
    _store(area + DEV_OFF + UART_HOLE)


def _hostile_stack(area: usize) -> None:
    """Point sp at the kernel, then fault: the kernel must not use the thread's stack to take the trap."""
    asm("mv sp, {0}\nunimp", board.KERNEL_BASE)


ROWS: Final = 24
FAULTS: Final[Array[Fault, ROWS]] = (
    Fault("illegal instruction", _illegal, abi.FAULT_ILLEGAL, 2, AT_ANY, 0, PC_CODE),
    Fault("supervisor CSR read", _supervisor_csr, abi.FAULT_ILLEGAL, 2, AT_ANY, 0, PC_CODE),
    Fault("sret in user mode", _sret, abi.FAULT_ILLEGAL, 2, AT_ANY, 0, PC_CODE),
    Fault("wfi in user mode", _wfi, abi.FAULT_ILLEGAL, 2, AT_ANY, 0, PC_CODE),
    Fault("illegal instruction, sp in the kernel", _hostile_stack, abi.FAULT_ILLEGAL, 2, AT_ANY, 0, PC_CODE),
    Fault("ebreak", _ebreak, abi.FAULT_BREAKPOINT, 3, AT_ANY, 0, PC_CODE),
    Fault("c.ebreak", _c_ebreak, abi.FAULT_BREAKPOINT, 3, AT_ANY, 0, PC_CODE),
    Fault("load from an unmapped page", _load_unmapped, abi.FAULT_PAGE, 13, AT_AREA, HOLE_OFF, PC_CODE),
    Fault("load from the kernel", _load_kernel, abi.FAULT_PAGE, 13, AT_ABSOLUTE, board.KERNEL_BASE, PC_CODE),
    Fault("load from a non-canonical address", _load_noncanonical, abi.FAULT_PAGE, 13, AT_ABSOLUTE, NONCANONICAL,
          PC_CODE),
    Fault("store to an unmapped page", _store_unmapped, abi.FAULT_PAGE, 15, AT_AREA, HOLE_OFF, PC_CODE),
    Fault("store to a read-only page", _store_read_only, abi.FAULT_PAGE, 15, AT_AREA, RO_OFF + 8, PC_CODE),
    Fault("store to its own code", _store_code, abi.FAULT_PAGE, 15, AT_ABSOLUTE, board.USER_BASE, PC_CODE),
    Fault("store to the kernel", _store_kernel, abi.FAULT_PAGE, 15, AT_ABSOLUTE, board.KERNEL_BASE, PC_CODE),
    Fault("atomic on a read-only page", _amo_read_only, abi.FAULT_PAGE, 15, AT_AREA, RO_OFF, PC_CODE),
    Fault("stack overflow into its guard", _stack_overflow, abi.FAULT_PAGE, 15, AT_GUARD, 0, PC_CODE),
    Fault("fetch from an unmapped page", _fetch_unmapped, abi.FAULT_PAGE, 12, AT_AREA, HOLE_OFF, PC_AT_ADDRESS),
    Fault("fetch from a non-executable page", _fetch_non_executable, abi.FAULT_PAGE, 12, AT_AREA, RW_OFF,
          PC_AT_ADDRESS),
    Fault("fetch from the kernel", _fetch_kernel, abi.FAULT_PAGE, 12, AT_ABSOLUTE, board.KERNEL_BASE, PC_AT_ADDRESS),
    Fault("call through a null pointer", _call_null, abi.FAULT_PAGE, 12, AT_ABSOLUTE, 0, PC_AT_ADDRESS),
    Fault("misaligned atomic", _amo_misaligned, abi.FAULT_MISALIGNED, 6, AT_AREA, RW_OFF + 2, PC_CODE),
    Fault("misaligned load-reserved", _lr_misaligned, abi.FAULT_MISALIGNED, 4, AT_AREA, RW_OFF + 2, PC_CODE),
    Fault("load from a device hole", _load_hole, abi.FAULT_ACCESS, 5, AT_AREA, DEV_OFF + UART_HOLE, PC_CODE),
    Fault("store to a device hole", _store_hole, abi.FAULT_ACCESS, 7, AT_AREA, DEV_OFF + UART_HOLE, PC_CODE),
)


def expected_address(f: Ptr[Fault], area: usize, stack_bottom: usize, address: usize) -> bool:
    """True when ``address`` is where row ``f``'s fault must be, in a victim laid out at ``area``.

    ``stack_bottom`` is the lowest address of the faulting thread's stack
    (AT_GUARD: the fault lies in the page below it).
    """
    if f.at == AT_AREA:
        return address == area + f.offset
    if f.at == AT_ABSOLUTE:
        return address == f.offset
    if f.at == AT_GUARD:
        return stack_bottom - board.PAGE_SIZE <= address < stack_bottom
    return True


def find(name: Ptr[u8]) -> usize:
    """The row whose name is ``name``, len(FAULTS) when there is none."""
    for i in range(len(FAULTS)):
        if string.streq(FAULTS[i].name, name):
            return i
    return len(FAULTS)
