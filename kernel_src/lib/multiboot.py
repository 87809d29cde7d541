"""Reader for the Multiboot v1 boot information: RAM ranges and the ranges it occupies, without allocation.

Format: Multiboot Specification version 0.6.96, section 3.3 "Boot
information format". The loader passes the information's physical address in
ebx; ``flags`` says which fields are valid. Addresses in it are physical and,
before paging, equal to the kernel's virtual ones. Values above 4 GiB cannot
be used with a 32-bit usize and are cut off.
"""

from kcc.lang import *

from lib import string
from lib.memmap import MemRegion

# Bits of Info.flags (section 3.3).
FLAG_MEMORY: Final = 1 << 0         # mem_lower, mem_upper
FLAG_CMDLINE: Final = 1 << 2
FLAG_MODULES: Final = 1 << 3        # mods_count, mods_addr
FLAG_MMAP: Final = 1 << 6           # mmap_length, mmap_addr
FLAG_LOADER_NAME: Final = 1 << 9

MEMORY_AVAILABLE: Final = 1         # mmap type of RAM the OS may use

# Where the two mem_* ranges start: conventional memory at 0, upper memory at 1 MiB.
_UPPER_MEMORY: Final = 0x10_0000
# The last page boundary below 4 GiB: RAM past it is out of reach of a 32-bit usize.
_ADDRESS_LIMIT: Final = 0xFFFF_F000


@struct
class Info:
    """The boot information up to the VBE fields (88 bytes, QEMU hw/i386/multiboot.c MBI_SIZE)."""

    flags: u32
    mem_lower: u32          # KiB of conventional memory from address 0
    mem_upper: u32          # KiB of memory from 1 MiB up to the first hole
    boot_device: u32
    cmdline: u32            # address of a NUL-terminated string
    mods_count: u32
    mods_addr: u32          # address of mods_count Module entries
    syms: Array[u32, 4]
    mmap_length: u32        # bytes of memory map
    mmap_addr: u32          # address of the first MmapEntry
    drives_length: u32
    drives_addr: u32
    config_table: u32
    boot_loader_name: u32   # address of a NUL-terminated string
    apm_table: u32
    vbe_control_info: u32
    vbe_mode_info: u32
    vbe_mode: u16
    vbe_interface_seg: u16
    vbe_interface_off: u16
    vbe_interface_len: u16


@struct
class Module:
    """One boot module: its bytes [mod_start, mod_end) and a NUL-terminated string."""

    mod_start: u32
    mod_end: u32
    string: u32
    reserved: u32


@struct(packed=True)
class MmapEntry:
    """One memory map entry; ``size`` counts the bytes after itself, so the next entry is size + 4 on."""

    size: u32
    base: u64
    length: u64
    kind: u32               # the specification's "type": 1 = available RAM


def valid(info: usize) -> bool:
    """Return True when ``info`` may be a Multiboot information address (entry.S passes 0 otherwise)."""
    return info != 0


def _put(out: Ptr[MemRegion], n: u32, capacity: u32, base: u64, length: u64) -> u32:
    """Store [base, base + length) cut to the 32-bit address space as out[n] if it fits; return the new count."""
    if n >= capacity or base >= _ADDRESS_LIMIT or length == 0:
        return n
    end = base + length
    if end > _ADDRESS_LIMIT or end < base:
        end = _ADDRESS_LIMIT
    out[n].base = usize(base)
    out[n].size = usize(end - base)
    return n + 1


def memory_regions(info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the available RAM ranges; return how many (<= capacity).

    Uses the memory map when the loader gave one, else mem_lower/mem_upper.
    Returns 0 when ``info`` is not valid or describes no RAM.
    """
    if not valid(info):
        return 0
    mbi = cast(Ptr[Info], info)
    n: u32 = 0
    if mbi.flags & FLAG_MMAP != 0:
        p = usize(mbi.mmap_addr)
        end = p + usize(mbi.mmap_length)
        while p < end:
            entry = cast(Ptr[MmapEntry], p)
            if entry.kind == MEMORY_AVAILABLE:
                n = _put(out, n, capacity, entry.base, entry.length)
            p += usize(entry.size) + 4
        return n
    if mbi.flags & FLAG_MEMORY != 0:
        n = _put(out, n, capacity, 0, u64(mbi.mem_lower) * 1024)
        n = _put(out, n, capacity, _UPPER_MEMORY, u64(mbi.mem_upper) * 1024)
    return n


def _add(out: Ptr[MemRegion], n: u32, capacity: u32, base: usize, size: usize) -> u32:
    """Store [base, base + size) as out[n] if there is room and it is not empty; return the new count."""
    if n >= capacity or size == 0:
        return n
    out[n].base = base
    out[n].size = size
    return n + 1


def reserved_regions(info: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the ranges the boot information occupies; return how many (<= capacity).

    The information itself, then what its valid fields point to: the memory
    map, the command line, the boot loader's name, the module list and each
    module's bytes.
    """
    if not valid(info):
        return 0
    mbi = cast(Ptr[Info], info)
    n = _add(out, 0, capacity, info, sizeof(Info))
    if mbi.flags & FLAG_MMAP != 0:
        n = _add(out, n, capacity, usize(mbi.mmap_addr), usize(mbi.mmap_length))
    if mbi.flags & FLAG_CMDLINE != 0:
        n = _add(out, n, capacity, usize(mbi.cmdline), string.strlen(cast(Ptr[u8], mbi.cmdline)) + 1)
    if mbi.flags & FLAG_LOADER_NAME != 0:
        name = cast(Ptr[u8], mbi.boot_loader_name)
        n = _add(out, n, capacity, usize(name), string.strlen(name) + 1)
    if mbi.flags & FLAG_MODULES != 0 and mbi.mods_count != 0:
        n = _add(out, n, capacity, usize(mbi.mods_addr), usize(mbi.mods_count) * sizeof(Module))
        mods = cast(Ptr[Module], mbi.mods_addr)
        for i in range(u32(0), mbi.mods_count):
            if mods[i].mod_end > mods[i].mod_start:
                n = _add(out, n, capacity, usize(mods[i].mod_start), usize(mods[i].mod_end - mods[i].mod_start))
    return n


def module(info: usize, index: u32, out: Ptr[MemRegion]) -> bool:
    """Fill ``out`` with the bytes [mod_start, mod_end) of module ``index``; False when there is no such module.

    Also False for an empty module (mod_end <= mod_start).
    """
    if not valid(info):
        return False
    mbi = cast(Ptr[Info], info)
    if mbi.flags & FLAG_MODULES == 0 or index >= mbi.mods_count:
        return False
    mod = cast(Ptr[Module], mbi.mods_addr) + index
    if mod.mod_end <= mod.mod_start:
        return False
    out.base = usize(mod.mod_start)
    out.size = usize(mod.mod_end - mod.mod_start)
    return True


def command_line(info: usize) -> Ptr[u8]:
    """The boot loader's command line (a NUL-terminated string); "" when the information has none."""
    if not valid(info):
        return ""
    mbi = cast(Ptr[Info], info)
    if mbi.flags & FLAG_CMDLINE == 0 or mbi.cmdline == 0:
        return ""
    return cast(Ptr[u8], mbi.cmdline)
