"""riscv64 address spaces: Sv39 page tables, the kernel's global mappings, ASIDs (arch.vm interface).

Design (RISC-V privileged ISA, chapter "Supervisor-Level ISA", section "Sv39:
Page-Based 39-bit Virtual-Memory System"):

* The kernel maps physical memory and the board's devices at their own
  addresses (identity), in one set of tables built at boot. Every address
  space's root table copies the kernel's root entries below the user window,
  which point at those shared tables or are gigapage leaves, so a system call
  switches no page table. Kernel entries carry G (global: no ASID flush ever
  needs to drop them) and never U, so user mode cannot touch them; with
  sstatus.SUM clear the kernel cannot touch user pages either, and reaches
  user memory only through translate() and its own identity mapping.
* W^X everywhere: kernel text is R+X, rodata R, everything else R+W; user
  mappings take R, R+W or R+X from the capability's rights, never W+X.
* The user window is [board.USER_BASE, board.USER_END): root entries
  USER_BASE >> 30 .. 255, which no kernel mapping uses (physical memory must
  sit below USER_BASE, checked at init). User page tables are allocated by
  core.memory, charged to the space's (the process's) memory quota.
* ASIDs: space N runs with ASID N + 1 when the hart implements enough ASID
  bits (probed at init as the privileged ISA's "satp" section suggests: write
  all ones, read back), so a switch is one satp write and no flush; a space's
  TLB entries are flushed by ASID when it is destroyed or unmapped. Without
  enough ASID bits every switch flushes the whole TLB.
* A/D bits are set in every leaf: QEMU and the U74 would otherwise raise a
  page fault (or update them in hardware), and nothing here pages out.
"""

import board
from kcc.lang import *

from core import memory
from lib import abi
from lib.memmap import MemRegion

PAGE_SIZE: Final = 4096
_ENTRIES: Final = 512
_MEGAPAGE: Final = 1 << 21
_GIGAPAGE: Final = 1 << 30

# PTE bits (privileged ISA, "Sv39" section, figure "Sv39 page table entry").
_V: Final = 1
_R: Final = 2
_W: Final = 4
_X: Final = 8
_U: Final = 16
_G: Final = 32
_A: Final = 64
_D: Final = 128
# The first of the two RSW bits, which the hardware ignores and leaves to software: set in a user
# leaf that maps a device region, so that translate() never hands its registers to the kernel.
_DEVICE: Final = 256
_PPN_SHIFT: Final = 10

_SATP_SV39: Final = 8 << 60
_SATP_ASID_SHIFT: Final = 44
_SATP_ASID_MASK: Final = 0xFFFF

USER_FIRST_ROOT: Final = board.USER_BASE >> 30
_NO_SPACE: Final = 0xFFFF_FFFF

_kernel_root: usize = 0
_roots: Array[usize, board.MAX_PROCESSES]
_asid_bits: u32 = 0
_active: u32 = _NO_SPACE


def _pte_address(pte: usize) -> usize:
    """Return the physical address a PTE points at (its PPN shifted into place)."""
    return (pte >> _PPN_SHIFT) << 12


def _table(pa: usize) -> Ptr[usize]:
    """Return a page table at physical address ``pa`` (identity mapped) as an array of PTEs."""
    return cast(Ptr[usize], pa)


def _zero_page(pa: usize) -> None:
    """Fill the page at ``pa`` with zeros."""
    p = cast(Ptr[u64], pa)
    i: u32 = 0
    while i < PAGE_SIZE // 8:
        p[i] = 0
        i += 1


def _index(va: usize, level: u32) -> usize:
    """Return the VPN[level] field of ``va`` (9 bits at 12 + 9 * level)."""
    return (va >> (12 + 9 * level)) & (_ENTRIES - 1)


def _kernel_leaf_flags(rights: usize) -> usize:
    """PTE flags of a kernel leaf with abi rights ``rights``: global, accessed, dirty, never U."""
    flags: usize = _V | _G | _A | _D
    if rights & abi.RIGHT_READ != 0:
        flags |= _R
    if rights & abi.RIGHT_WRITE != 0:
        flags |= _W
    if rights & abi.RIGHT_EXEC != 0:
        flags |= _X
    return flags


def _kernel_next(table: usize, index: usize, child_span: usize) -> usize:
    """Return the next-level table under ``table[index]``, making it from a fresh page; 0 when out of pages.

    An entry that is a leaf (a gigapage or megapage mapped earlier) is split:
    the new table maps the same range with 512 leaves of ``child_span`` bytes
    and the same permissions, so a later, finer mapping changes only its part.
    """
    t = _table(table)
    old = t[index]
    if old & _V != 0 and old & (_R | _W | _X) == 0:
        return _pte_address(old)
    page = memory.kernel_page()
    if page == 0:
        return 0
    _zero_page(page)
    if old & _V != 0:
        child = _table(page)
        i: usize = 0
        while i < _ENTRIES:
            child[i] = old + (((i * child_span) >> 12) << _PPN_SHIFT)
            i += 1
    t[index] = ((page >> 12) << _PPN_SHIFT) | _V
    return page


def _map_kernel(start: usize, end: usize, rights: usize) -> bool:
    """Identity-map [start, end) (page-rounded outward) for the kernel, gigapages and megapages where aligned.

    Returns False when the boot page supply runs out (a kernel bug: the tables
    for 128 MiB need a handful of pages).
    """
    va = start & ~usize(PAGE_SIZE - 1)
    stop = (end + PAGE_SIZE - 1) & ~usize(PAGE_SIZE - 1)
    flags = _kernel_leaf_flags(rights)
    while va < stop:
        left = stop - va
        if va & (_GIGAPAGE - 1) == 0 and left >= _GIGAPAGE:
            _table(_kernel_root)[_index(va, 2)] = ((va >> 12) << _PPN_SHIFT) | flags
            va += _GIGAPAGE
            continue
        l1 = _kernel_next(_kernel_root, _index(va, 2), _MEGAPAGE)
        if l1 == 0:
            return False
        if va & (_MEGAPAGE - 1) == 0 and left >= _MEGAPAGE:
            _table(l1)[_index(va, 1)] = ((va >> 12) << _PPN_SHIFT) | flags
            va += _MEGAPAGE
            continue
        l0 = _kernel_next(l1, _index(va, 1), PAGE_SIZE)
        if l0 == 0:
            return False
        _table(l0)[_index(va, 0)] = ((va >> 12) << _PPN_SHIFT) | flags
        va += PAGE_SIZE
    return True


def _write_satp(value: usize) -> None:
    """Write satp and order it before later accesses (sfence.vma after, as the privileged ISA requires)."""
    asm("csrw satp, {0}\nsfence.vma zero, zero", value, clobbers=("memory",))


def _read_satp() -> usize:
    """Return satp."""
    return asm("csrr {out}, satp", out=usize)


def _satp(root: usize, asid: usize) -> usize:
    """Return the satp value for Sv39 with root table ``root`` and address-space id ``asid``."""
    return _SATP_SV39 | (asid << _SATP_ASID_SHIFT) | (root >> 12)


def init(ram: Ptr[MemRegion], nram: u32) -> bool:
    """Build the kernel's global mappings and turn on Sv39 translation; call once, before any space exists.

    Maps every RAM range of ``ram`` (``nram`` entries) read + write, the
    kernel image's text read + execute and rodata read-only (symbols from the
    link script), and the board's devices (UART0, PLIC, the test device)
    read + write. Returns False when RAM reaches the user window (physical
    addresses must stay below board.USER_BASE) or the kernel's tables cannot
    be allocated.
    """
    global _kernel_root, _asid_bits
    _kernel_root = memory.kernel_page()
    if _kernel_root == 0:
        return False
    _zero_page(_kernel_root)
    i: u32 = 0
    while i < nram:
        if ram[i].base + ram[i].size > board.USER_BASE:
            return False
        if not _map_kernel(ram[i].base, ram[i].base + ram[i].size, abi.RIGHT_READ | abi.RIGHT_WRITE):
            return False
        i += 1
    text = extern_symbol("__text_start")
    rodata = extern_symbol("__rodata_start")
    data = extern_symbol("__data_start")
    # These split the RAM pass's megapage leaves around the image into 4 KiB leaves.
    if not _map_kernel(text, rodata, abi.RIGHT_READ | abi.RIGHT_EXEC):
        return False
    if not _map_kernel(rodata, data, abi.RIGHT_READ):
        return False
    devices_ok = _map_kernel(board.UART0_BASE, board.UART0_BASE + PAGE_SIZE, abi.RIGHT_READ | abi.RIGHT_WRITE) \
        and _map_kernel(board.PLIC_BASE, board.PLIC_BASE + 0x400_0000, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if not devices_ok:
        return False
    # TEST_BASE 0: no test device on this board (the kernel powers off through SBI instead).
    test_ok = board.TEST_BASE == 0 or _map_kernel(board.TEST_BASE, board.TEST_BASE + PAGE_SIZE,
                                                  abi.RIGHT_READ | abi.RIGHT_WRITE)
    if not test_ok:
        return False
    # Probe the ASID width: WARL field, the bits that stick are the implemented ones.
    _write_satp(_satp(_kernel_root, _SATP_ASID_MASK))
    asid = (_read_satp() >> _SATP_ASID_SHIFT) & _SATP_ASID_MASK
    _asid_bits = 0
    while asid & 1 != 0:
        _asid_bits += 1
        asid >>= 1
    _write_satp(_satp(_kernel_root, 0))
    return True


def asids_enabled() -> bool:
    """Return True when every space gets its own ASID (no TLB flush on a switch)."""
    return (u64(1) << _asid_bits) > u64(board.MAX_PROCESSES)


def _asid(space: u32) -> usize:
    """Return the ASID of ``space`` (0 for everything when ASIDs are too narrow)."""
    if asids_enabled():
        return usize(space) + 1
    return 0


def user_window_start() -> usize:
    """Return the lowest user virtual address (board.USER_BASE)."""
    return board.USER_BASE


def user_window_end() -> usize:
    """Return the first virtual address above the user window (board.USER_END)."""
    return board.USER_END


def space_create(space: u32) -> u32:
    """Make address space ``space`` (a process index): a root table charged to it holding the kernel's entries.

    Returns abi.OK, or abi.ERR_NO_MEMORY when the space's quota or the
    physical pages are exhausted.
    """
    root = memory.table_page(space)
    if root == 0:
        return abi.ERR_NO_MEMORY
    kernel = _table(_kernel_root)
    t = _table(root)
    i: usize = 0
    while i < _ENTRIES:
        t[i] = kernel[i] if i < USER_FIRST_ROOT else 0
        i += 1
    _roots[space] = root
    return abi.OK


def _flush_space(space: u32) -> None:
    """Drop ``space``'s TLB entries (all non-global ones without ASIDs)."""
    asid = _asid(space)
    asm("sfence.vma zero, {0}", asid, clobbers=("memory",))


def space_destroy(space: u32) -> None:
    """Free every page table of ``space`` (not the mapped frames: they belong to frame objects) and its root.

    Cost: bounded by the user window's 192 root entries and the tables under them.
    """
    global _active
    root = _roots[space]
    if root == 0:
        return
    if _active == space:
        _write_satp(_satp(_kernel_root, 0))
        _active = _NO_SPACE
    t = _table(root)
    i: usize = USER_FIRST_ROOT
    while i < _ENTRIES:
        if t[i] & _V != 0:
            l1 = _pte_address(t[i])
            j: usize = 0
            while j < _ENTRIES:
                e = _table(l1)[j]
                if e & _V != 0 and e & (_R | _W | _X) == 0:
                    memory.table_free(space, _pte_address(e))
                j += 1
            memory.table_free(space, l1)
        i += 1
    memory.table_free(space, root)
    _roots[space] = 0
    _flush_space(space)


def _user_next(space: u32, table: usize, index: usize) -> usize:
    """Return the user table under ``table[index]``, allocating (charged to ``space``) when absent; 0 when out of quota."""
    t = _table(table)
    if t[index] & _V != 0:
        return _pte_address(t[index])
    page = memory.table_page(space)
    if page == 0:
        return 0
    t[index] = ((page >> 12) << _PPN_SHIFT) | _V
    return page


def _leaf(space: u32, va: usize) -> Ptr[usize]:
    """Return the level-0 PTE for user ``va`` in ``space``, or NULL when its tables do not exist."""
    root = _roots[space]
    e = _table(root)[_index(va, 2)]
    if e & _V == 0 or e & (_R | _W | _X) != 0:
        return cast(Ptr[usize], 0)
    l1 = _pte_address(e)
    e = _table(l1)[_index(va, 1)]
    if e & _V == 0 or e & (_R | _W | _X) != 0:
        return cast(Ptr[usize], 0)
    return _table(_pte_address(e)) + _index(va, 0)


def _in_window(va: usize, pages: usize) -> bool:
    """Return True when ``pages`` pages from page-aligned ``va`` lie inside the user window, without wrapping."""
    if va & (PAGE_SIZE - 1) != 0 or pages == 0:
        return False
    if va < board.USER_BASE or va >= board.USER_END:
        return False
    return pages <= (board.USER_END - va) // PAGE_SIZE


def map(space: u32, va: usize, pa: usize, pages: usize, rights: usize, device: bool) -> u32:
    """Map ``pages`` pages of physical memory from ``pa`` at user address ``va`` of ``space``.

    ``rights`` are abi.RIGHT_READ/WRITE/EXEC bits: at least READ; WRITE
    together with EXEC is refused (W^X). ``device`` marks a device region's
    registers, which translate() refuses. All or nothing: returns abi.OK,
    abi.ERR_INVALID_ARG (unaligned, outside the user window, bad rights),
    abi.ERR_MAPPED (some page already mapped) or abi.ERR_NO_MEMORY (the page
    tables needed exceed the space's quota; pages mapped so far are undone).
    Cost: O(pages).
    """
    if not _in_window(va, pages) or pa & (PAGE_SIZE - 1) != 0:
        return abi.ERR_INVALID_ARG
    if rights & abi.RIGHT_READ == 0:
        return abi.ERR_INVALID_ARG
    if rights & abi.RIGHT_WRITE != 0 and rights & abi.RIGHT_EXEC != 0:
        return abi.ERR_INVALID_ARG
    i: usize = 0
    while i < pages:
        pte = _leaf(space, va + i * PAGE_SIZE)
        if pte != NULL and pte[0] & _V != 0:
            return abi.ERR_MAPPED
        i += 1
    flags: usize = _V | _U | _A | _D | _R
    if rights & abi.RIGHT_WRITE != 0:
        flags |= _W
    if rights & abi.RIGHT_EXEC != 0:
        flags |= _X
    if device:
        flags |= _DEVICE
    i = 0
    while i < pages:
        v = va + i * PAGE_SIZE
        l1 = _user_next(space, _roots[space], _index(v, 2))
        l0: usize = 0
        if l1 != 0:
            l0 = _user_next(space, l1, _index(v, 1))
        if l0 == 0:
            unmap(space, va, i)
            return abi.ERR_NO_MEMORY
        _table(l0)[_index(v, 0)] = (((pa + i * PAGE_SIZE) >> 12) << _PPN_SHIFT) | flags
        i += 1
    return abi.OK


def unmap(space: u32, va: usize, pages: usize) -> usize:
    """Remove the mappings of ``pages`` pages from user address ``va`` of ``space``; return how many were mapped.

    Page tables stay (they are freed with the space). Flushes the space's TLB
    entries. Cost: O(pages).
    """
    if not _in_window(va, pages):
        return 0
    count: usize = 0
    i: usize = 0
    while i < pages:
        pte = _leaf(space, va + i * PAGE_SIZE)
        if pte != NULL and pte[0] & _V != 0:
            pte[0] = 0
            count += 1
        i += 1
    _flush_space(space)
    return count


def remap(space: u32, va: usize, pa: usize, rights: usize) -> u32:
    """Point the mapped user page at ``va`` of ``space`` to physical page ``pa`` with ``rights`` (R/W/X, never W+X).

    For copy-on-write: the page must be mapped already (ERR_INVALID_ARG
    otherwise). Flushes that page's TLB entry for the space. O(1).
    """
    if not _in_window(va & ~usize(PAGE_SIZE - 1), 1) or pa & (PAGE_SIZE - 1) != 0:
        return abi.ERR_INVALID_ARG
    if rights & abi.RIGHT_WRITE != 0 and rights & abi.RIGHT_EXEC != 0:
        return abi.ERR_INVALID_ARG
    pte = _leaf(space, va & ~usize(PAGE_SIZE - 1))
    if pte == NULL or pte[0] & _V == 0:
        return abi.ERR_INVALID_ARG
    flags: usize = _V | _U | _A | _D | _R
    if rights & abi.RIGHT_WRITE != 0:
        flags |= _W
    if rights & abi.RIGHT_EXEC != 0:
        flags |= _X
    pte[0] = ((pa >> 12) << _PPN_SHIFT) | flags
    asm("sfence.vma {0}, {1}", va, _asid(space), clobbers=("memory",))
    return abi.OK


def page_of(space: u32, va: usize) -> usize:
    """Return the physical page mapped at user ``va`` of ``space`` whatever its permissions, 0 when none."""
    if va < board.USER_BASE or va >= board.USER_END:
        return 0
    pte = _leaf(space, va & ~usize(PAGE_SIZE - 1))
    if pte == NULL or pte[0] & _V == 0:
        return 0
    return _pte_address(pte[0])


def translate(space: u32, va: usize, write: bool) -> usize:
    """Return the physical address of user address ``va`` in ``space`` if user code may read it (or write, when ``write``).

    Returns 0 when ``va`` is outside the user window, unmapped, mapped
    without the needed permission, or a device mapping: the kernel's checked
    copies (core.usermem) go through this, never through a user
    pointer, and never touch device registers for a user (a read can have side
    effects, and one from a hole in a device region faults the kernel).
    """
    if va < board.USER_BASE or va >= board.USER_END:
        return 0
    pte = _leaf(space, va & ~usize(PAGE_SIZE - 1))
    if pte == NULL:
        return 0
    e = pte[0]
    if e & (_V | _U | _R) != (_V | _U | _R) or e & _DEVICE != 0:
        return 0
    if write and e & _W == 0:
        return 0
    return _pte_address(e) | (va & (PAGE_SIZE - 1))


@inline
def activate(space: u32) -> None:
    """Switch the hart to ``space`` (satp with its root and ASID); a no-op when it is already active.

    Inlined: nearly every return to user mode asks for the space already active.
    """
    if _active != space:
        _switch(space)


def _switch(space: u32) -> None:
    """Make ``space`` the active one: write satp, and flush the TLB where ASIDs are off."""
    global _active
    _active = space
    value = _satp(_roots[space], _asid(space))
    if asids_enabled():
        asm("csrw satp, {0}", value, clobbers=("memory",))
    else:
        _write_satp(value)
