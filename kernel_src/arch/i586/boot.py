"""i586 boot information: the memory map from the Multiboot information entry.S received in ebx (arch.boot interface)."""

from kcc.lang import *

from lib import multiboot
from lib.memmap import MemRegion

# The real-mode interrupt vector table and BIOS data area (0x0..0x4FF) share the first page,
# which also holds address 0: it is never handed out, so no allocation can look like NULL.
_LOW_PAGE_SIZE: Final = 0x1000


def memory_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the machine's RAM ranges; return how many (<= capacity).

    ``boot_info`` is the Multiboot information's address (0 when entry.S was
    not entered by a Multiboot loader, giving 0 ranges).
    """
    return multiboot.memory_regions(boot_info, out, capacity)


def reserved_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the RAM ranges the kernel must leave alone; return how many (<= capacity).

    The BIOS's first page comes first, then the Multiboot information and
    everything it points to (memory map, command line, module list and modules).
    """
    if capacity == 0 or not multiboot.valid(boot_info):
        return 0
    out[0].base = 0
    out[0].size = _LOW_PAGE_SIZE
    return 1 + multiboot.reserved_regions(boot_info, out + 1, capacity - 1)


def initrd(boot_info: usize, out: Ptr[MemRegion]) -> bool:
    """Fill ``out`` with the first Multiboot module's range (QEMU's ``-initrd``); False when there is none."""
    return multiboot.module(boot_info, 0, out)


def command_line(boot_info: usize) -> Ptr[u8]:
    """The Multiboot command line; "" when there is none.

    QEMU passes the kernel's file name, a space, then the ``-append`` text
    (hw/i386/multiboot.c), so the words a user gave start after the first.
    """
    return multiboot.command_line(boot_info)


def boot_info_name() -> Ptr[u8]:
    """Return what the boot information handed to kmain is, for the boot log."""
    return "multiboot information"
