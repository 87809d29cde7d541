"""riscv64 boot information: memory map, initrd and command line from the device tree OpenSBI passes in a1 (arch.boot)."""

from kcc.lang import *

from lib import fdt
from lib.memmap import MemRegion


def memory_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the machine's RAM ranges; return how many (<= capacity).

    ``boot_info`` is the DTB address entry.S received in a1; the ranges are
    the ``reg`` of its /memory nodes. Returns 0 when it holds no valid DTB.
    """
    return fdt.memory_regions(boot_info, out, capacity)


def reserved_map(boot_info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the RAM ranges the kernel must leave alone; return how many (<= capacity).

    The DTB itself comes first, then the initrd (when the boot loader gave
    one), then the DTB's memory reservation block and /reserved-memory
    entries (which cover OpenSBI's own memory).
    """
    if capacity == 0 or not fdt.valid(boot_info):
        return 0
    out[0].base = boot_info
    out[0].size = fdt.total_size(boot_info)
    n: u32 = 1
    if n < capacity and fdt.chosen_initrd(boot_info, out + n):
        n += 1
    return n + fdt.reserved_regions(boot_info, out + n, capacity - n)


def initrd(boot_info: usize, out: Ptr[MemRegion]) -> bool:
    """Fill ``out`` with the initial RAM disk's physical range; False when the boot loader gave none.

    From the device tree's /chosen ``linux,initrd-start``/``linux,initrd-end``,
    which QEMU's ``-initrd`` sets.
    """
    return fdt.chosen_initrd(boot_info, out)


def command_line(boot_info: usize) -> Ptr[u8]:
    """The kernel command line (/chosen ``bootargs``, QEMU's ``-append``); "" when there is none."""
    return fdt.chosen_bootargs(boot_info)


def boot_info_name() -> Ptr[u8]:
    """Return what the boot information handed to kmain is, for the boot log."""
    return "device tree"
