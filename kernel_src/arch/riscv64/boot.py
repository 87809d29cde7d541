"""riscv64 boot information: the memory map from the device tree OpenSBI passes in a1 (arch.boot interface)."""

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

    The DTB itself comes first, then its memory reservation block and
    /reserved-memory entries (which cover OpenSBI's own memory).
    """
    if capacity == 0 or not fdt.valid(boot_info):
        return 0
    out[0].base = boot_info
    out[0].size = fdt.total_size(boot_info)
    return 1 + fdt.reserved_regions(boot_info, out + 1, capacity - 1)


def boot_info_name() -> Ptr[u8]:
    """Return what the boot information handed to kmain is, for the boot log."""
    return "device tree"
