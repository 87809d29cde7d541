"""fault: dies of a fault, to show that a faulting program is contained and its shell goes on.

``fault`` stores through address 0x8 (a page fault). ``fault N`` makes fault
N of the table the system tests run in every role (user/lib/faults.py:
illegal instructions, breakpoints, page faults on unmapped, kernel,
read-only and non-canonical addresses, a stack overflow, fetches from
non-executable memory, misaligned atomics ...), and ``fault list`` prints
that table. The two rows that need a device page (access faults) are only
in the system tests: a program started by the shell holds no device.
"""

from kcc.lang import *

from lib import abi, string
from user.lib import faults, proto, syscall, text, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

BAD_ADDRESS: Final = 0x8          # never mapped in a user address space
AREA: Final = 0x3D_0000_0000      # where the read-only and read + write pages of faults.py's layout go
SLOT_SELF: Final = proto.SLOT_PROCESS
SLOT_RO: Final = proto.FIRST_FREE
SLOT_RW: Final = proto.FIRST_FREE + 1


def _list() -> usize:
    """Print the table: number, name and the scause code each row raises."""
    for i in range(faults.ROWS):
        tty.printf("%2u  %s (scause %u)\n", i, usize(faults.FAULTS[i].name), faults.FAULTS[i].cause)
    return 0


def _needs_device(row: usize) -> bool:
    """True when row ``row`` touches the device page of the layout."""
    f: faults.Fault = faults.FAULTS[row]
    return f.at == faults.AT_AREA and faults.DEV_OFF <= f.offset < faults.HOLE_OFF


def _area() -> usize:
    """Map faults.py's read-only page and its read + write page (starting with ``ret``) at AREA, from own quota."""
    rw: usize = abi.RIGHT_READ | abi.RIGHT_WRITE
    err = syscall.proc_create(SLOT_SELF, abi.KIND_FRAME, SLOT_RO, 1)
    if err == abi.OK:
        err = syscall.proc_map(SLOT_SELF, SLOT_RO, AREA + faults.RO_OFF, abi.RIGHT_READ)
    if err == abi.OK:
        err = syscall.proc_create(SLOT_SELF, abi.KIND_FRAME, SLOT_RW, 1)
    if err == abi.OK:
        err = syscall.proc_map(SLOT_SELF, SLOT_RW, AREA + faults.RW_OFF, rw)
    if err == abi.OK:
        volatile_store(cast(Ptr[u32], AREA + faults.RW_OFF), faults.RET_INSN)
    return err


def _row(arg: Ptr[u8]) -> usize:
    """Make the fault numbered ``arg``; returns (with 1) only when that is impossible or it did not fault."""
    n: u64 = 0
    if not text.parse_u64(arg, 10, addr(n)) or n >= faults.ROWS:
        tty.printf("fault: usage: fault [N | list], N below %u\n", faults.ROWS)
        return 1
    row = usize(n)
    if _needs_device(row):
        tty.printf("fault: '%s' needs a device page: run the system tests\n", usize(faults.FAULTS[row].name))
        return 1
    err = _area()
    if err != abi.OK:
        tty.printf("fault: cannot map the pages: error %u\n", err)
        return 1
    tty.printf("fault: %s\n", usize(faults.FAULTS[row].name))
    faults.FAULTS[row].act(AREA)
    tty.puts("fault: it did not fault\n")
    return 1


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Without arguments store through an unmapped address (a page fault); else list or make a fault of the table."""
    args = cast(Ptr[Ptr[u8]], argv)
    if argc >= 2:
        if string.streq(args[1], "list"):
            return _list()
        return _row(args[1])
    tty.puts("fault: writing to address 0x8\n")
    volatile_store(cast(Ptr[usize], BAD_ADDRESS), 1)
    return 0
