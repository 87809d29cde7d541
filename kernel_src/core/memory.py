"""Memory quotas: every page a process causes the kernel to use is charged to the quota its creator granted.

The Iris "space" / seL4 "untyped" idea, reduced to a counter per process: a
process is created with a quota of pages taken from its creator's quota; its
page tables and the frames created for it are charged to it, and past the
quota the operation fails with abi.ERR_NO_MEMORY without touching anyone
else. When the process is destroyed every page comes back and its creator's
quota is credited again (core.process). Kernel objects themselves come from
fixed pools (core.objects) and are not charged in pages.

The boot-time kernel tables (arch.vm.init) are taken uncharged through
kernel_page(); after boot every page goes through a quota.
"""

import board
from kcc.lang import *

from lib import pagealloc

PAGE_SIZE: Final = pagealloc.PAGE_SIZE

_limit: Array[usize, board.MAX_PROCESSES]     # pages granted
_used: Array[usize, board.MAX_PROCESSES]      # pages charged


def kernel_page() -> usize:
    """Return a free page for the kernel's own boot-time tables (uncharged), or 0 when RAM is exhausted."""
    return pagealloc.alloc()


def set_quota(proc: u32, pages: usize) -> None:
    """Give process ``proc`` a fresh quota of ``pages`` pages with nothing charged."""
    _limit[proc] = pages
    _used[proc] = 0


def limit(proc: u32) -> usize:
    """Return the pages process ``proc`` may use in all."""
    return _limit[proc]


def used(proc: u32) -> usize:
    """Return the pages charged to process ``proc``."""
    return _used[proc]


def charge(proc: u32, pages: usize) -> bool:
    """Charge ``pages`` pages to ``proc``; False (nothing charged) when that would exceed its quota."""
    if pages > _limit[proc] - _used[proc]:
        return False
    _used[proc] += pages
    return True


def credit(proc: u32, pages: usize) -> None:
    """Give back ``pages`` pages charged to ``proc``; a credit above what was charged is a kernel bug."""
    if pages > _used[proc]:
        panic("memory.credit: more pages than were charged")
    _used[proc] -= pages


def _zero(page: usize, pages: usize) -> None:
    """Zero ``pages`` pages from ``page`` (no page reaches user space or a table with old contents)."""
    p = cast(Ptr[u64], page)
    n = pages * (PAGE_SIZE // 8)
    i: usize = 0
    while i < n:
        p[i] = 0
        i += 1


def alloc_pages(proc: u32, pages: usize) -> usize:
    """Return ``pages`` zeroed, physically contiguous pages charged to ``proc``, or 0.

    0 means the quota is exhausted or no contiguous run of that length is
    free (nothing is charged then). Cost: O(pages) for the zeroing.
    """
    if not charge(proc, pages):
        return 0
    base = pagealloc.alloc_run(pages)
    if base == 0:
        credit(proc, pages)
        return 0
    _zero(base, pages)
    return base


def free_pages(proc: u32, base: usize, pages: usize) -> None:
    """Free ``pages`` pages from ``base`` (from alloc_pages for ``proc``) and credit ``proc``."""
    i: usize = 0
    while i < pages:
        pagealloc.free(base + i * PAGE_SIZE)
        i += 1
    credit(proc, pages)


def table_page(space: u32) -> usize:
    """Return a zeroed page for a page table of address space ``space`` (a process index), charged to it; 0 past quota."""
    return alloc_pages(space, 1)


def table_free(space: u32, page: usize) -> None:
    """Free a page-table page of ``space`` and credit its quota."""
    free_pages(space, page, 1)
