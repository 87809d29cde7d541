"""The kernel's portable entry: banner, memory map, page allocator set-up, self-test, power-off."""

import board
from kcc.lang import *

from arch import boot, console, cpu, trap
from core import selftest
from lib import klog as _klog  # noqa: F401  defines __kcc_log and __kcc_log_text, what log.info calls
from lib import kprintf as fmt
from lib import pagealloc, string
from lib import panic as _panic  # noqa: F401  defines __kcc_panic, the runtime's panic entry
from lib.memmap import MemRegion

if board.USER_PROCESSES == 1:
    from core import kernel

KERNEL_NAME: Final = "kcc-kernel"
KERNEL_VERSION: Final = "0.1.0"
MAX_REGIONS: Final = 16

_ram: Array[MemRegion, MAX_REGIONS]
_nram: u32 = 0
# Ranges the page allocator must not hand out: the boot information's, then the kernel image.
_holes: Array[MemRegion, MAX_REGIONS]
_nholes: u32 = 0


def _show_range(label: Ptr[u8], start: usize, end: usize) -> None:
    """Print one line of the memory map: label, [start, end) and the size in KiB."""
    fmt.kprintf("  %-10s %p..%p %8u KiB\n", usize(label), start, end, (end - start) // 1024)


def _show_section(label: Ptr[u8], start: usize, end: usize) -> None:
    """Log one section of the kernel image as _show_range prints a range (a compact log on most boards)."""
    log.info("  %-10s %p..%p %8u KiB\n", label, start, end, (end - start) // 1024)


def memory_setup(boot_info: usize) -> None:
    """Read the memory map from the boot information, print it, and give free RAM to the page allocator.

    Panics when the boot information describes no RAM: nothing could run.
    """
    global _nram, _nholes
    _nram = boot.memory_map(boot_info, addr(_ram[0]), MAX_REGIONS)
    if _nram == 0:
        panic("no RAM in the boot information")
    # Two slots are kept for the kernel image: its read-only part (code and constants) and its
    # read-write part (data, bss, stacks). They are neighbours in RAM on most boards, but a
    # microcontroller runs code from flash, far from its RAM, so each part is a hole of its own.
    _nholes = boot.reserved_map(boot_info, addr(_holes[0]), MAX_REGIONS - 2)
    ro_start = extern_symbol("__text_start")
    ro_end = extern_symbol("__rodata_end")
    rw_start = extern_symbol("__data_start")
    rw_end = extern_symbol("_end")
    _holes[_nholes].base = ro_start
    _holes[_nholes].size = ro_end - ro_start
    _holes[_nholes + 1].base = rw_start
    _holes[_nholes + 1].size = rw_end - rw_start
    _nholes += 2

    fmt.kprintf("memory map (from the %s at %p):\n", usize(boot.boot_info_name()), boot_info)
    i: u32 = 0
    while i < _nram:
        _show_range("ram", _ram[i].base, _ram[i].base + _ram[i].size)
        i += 1
    i = 0
    while i < _nholes - 2:
        _show_range("reserved", _holes[i].base, _holes[i].base + _holes[i].size)
        i += 1
    log.info("kernel image:\n")
    _show_section(".text", extern_symbol("__text_start"), extern_symbol("__text_end"))
    _show_section(".rodata", extern_symbol("__rodata_start"), extern_symbol("__rodata_end"))
    _show_section(".data", extern_symbol("__data_start"), extern_symbol("__data_end"))
    _show_section(".bss", extern_symbol("__bss_start"), extern_symbol("__bss_end"))
    _show_section("stacks", extern_symbol("__stack_bottom"), extern_symbol("__stack_top"))
    _show_range("image ro", ro_start, ro_end)
    _show_range("image rw", rw_start, rw_end)

    pagealloc.reset()
    i = 0
    while i < _nram:
        if not pagealloc.add_ram(_ram[i].base, _ram[i].base + _ram[i].size, addr(_holes[0]), _nholes):
            log.warning("too many free ranges, some RAM is left unused\n")
        i += 1
    fmt.kprintf("free pages: %u of %u, %u bytes each (%u KiB free)\n", pagealloc.free_pages(),
                pagealloc.total_pages(), pagealloc.PAGE_SIZE, pagealloc.free_pages() * pagealloc.PAGE_SIZE // 1024)


def _has_word(text: Ptr[u8], word: Ptr[u8]) -> bool:
    """Return True when ``word`` is one of the space-separated words of ``text``."""
    n = string.strlen(word)
    i: usize = 0
    while text[i] != 0:
        if (i == 0 or text[i - 1] == 0x20) and string.starts_with(text + i, word) \
                and (text[i + n] == 0 or text[i + n] == 0x20):
            return True
        i += 1
    return False


@export("kmain")
def kmain(hartid: usize, boot_info: usize) -> None:
    """The kernel's first code in the kcc language, entered on the boot hart by the arch entry stub.

    ``hartid`` is the boot CPU's id; ``boot_info`` is the architecture's boot
    information, which only arch.boot reads (kernel_src/arch/README.md). Never returns: powers
    off with exit status 0 when every self-test passed, 1 otherwise.
    """
    console.init()
    trap.init()
    fmt.kprintf("\n%s %s (%s, board %s), boot hart %u\n", usize(KERNEL_NAME), usize(KERNEL_VERSION),
                usize(TARGET), usize(board.NAME), hartid)
    memory_setup(boot_info)
    # The outer test is a compile-time one: boards without user processes compile no call to
    # core.kernel. With them, the self-tests run on request (kcc run --append selftest).
    if board.USER_PROCESSES == 1:  # noqa: SIM102
        if not _has_word(boot.command_line(boot_info), "selftest"):
            kernel.start(hartid, boot_info, addr(_ram[0]), _nram)
    failed = selftest.run_all(addr(_ram[0]), _nram, addr(_holes[0]), _nholes)
    spent = cpu.read_instret() - cpu.boot_instret()
    idle = selftest.idle_instructions()
    fmt.kprintf("boot cost: %u instructions (%u busy, %u idle in wait-for-interrupt)\n", usize(spent),
                usize(spent - idle), usize(idle))
    total = selftest.total()
    fmt.kprintf("self-test: %u/%u passed\n", usize(total - failed), usize(total))
    if failed == 0:
        cpu.halt(0)
    cpu.halt(1)
