"""armv8m boot information: a microcontroller has no boot loader, so the memory map is the board's (arch.boot)."""

import board
from kcc.lang import *

from lib.memmap import MemRegion

# The value entry.S puts in .data at data_copy_marker.
_DATA_COPY_MARKER: Final = 0x6B63_6364


def memory_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the board's RAM (RAM_BASE, RAM_SIZE); return how many ranges (0 or 1).

    ``boot_info`` is 0: entry.S has nothing to pass on ARMv8-M. Panics when
    .data does not hold what the image stored in flash for it (entry.S copies
    it from __data_load), since every initialised global would be wrong.
    """
    if volatile_load(cast(Ptr[u32], extern_symbol("data_copy_marker"))) != _DATA_COPY_MARKER:
        panic("initialised data was not copied from flash: check __data_load in the link script")
    if capacity == 0:
        return 0
    out[0].base = board.RAM_BASE
    out[0].size = board.RAM_SIZE
    return 1


def reserved_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Return 0: no firmware keeps RAM; the kernel image's own range is excluded by the core."""
    return 0


def initrd(boot_info: usize, out: Ptr[MemRegion]) -> bool:
    """Return False: no boot loader hands a microcontroller an initial RAM disk."""
    return False


def command_line(boot_info: usize) -> Ptr[u8]:
    """Return "": no boot loader hands a microcontroller a command line."""
    return ""


def boot_info_name() -> Ptr[u8]:
    """Return what the boot information is, for the boot log."""
    return "board description"
