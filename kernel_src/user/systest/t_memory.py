"""System tests of memory: frames, mapping and unmapping, refused mappings, shared frames, devices, the initrd, and memory quotas."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
PAGE: Final = board.PAGE_SIZE
RW: Final = abi.RIGHT_READ | abi.RIGHT_WRITE
A: Final = spawn.TEST_AREA                  # the tests' mapping addresses
B: Final = spawn.TEST_AREA + 0x100_0000
FAR: Final = 0x3F_0000_0000                 # another gigabyte: a mapping there needs new page tables
UART_LSR: Final = 5                         # 16550 line status register; bit 5 THRE: ready to transmit
LSR_THRE: Final[u8] = 0x20
MAX_FRAME_PAGES: Final = 4096


def _word(va: usize) -> Ptr[usize]:
    """The word at user address ``va``."""
    return cast(Ptr[usize], va)


def _load(a0: usize, a1: usize) -> None:
    """Thread body: exit with the word at a0 (no globals: runs in a bare child)."""
    syscall.exit(volatile_load(cast(Ptr[usize], a0)))


def _store(a0: usize, a1: usize) -> None:
    """Thread body: store a1 at a0, exit with 0."""
    volatile_store(cast(Ptr[usize], a0), a1)
    syscall.exit(0)


def _exhaust(a0: usize, a1: usize) -> None:
    """Thread body, in a child holding its own process in slot a0: make 1-page frames until the quota runs out.

    Each frame's capability is deleted at once (the frame lives on, charged).
    Exit code: frames made | last error << 16 | (error making an endpoint
    afterwards, which costs no pages) << 24.
    """
    n: usize = 0
    err = syscall.proc_create(a0, abi.KIND_FRAME, 1, 1)
    while err == abi.OK:
        syscall.cap_delete(1)
        n += 1
        err = syscall.proc_create(a0, abi.KIND_FRAME, 1, 1)
    after = syscall.proc_create(a0, abi.KIND_ENDPOINT, 2, 0)
    syscall.exit(n | err << 16 | after << 24)


def _expect_fault_at(va: usize) -> None:
    """Check that a thread loading from ``va`` in init's space takes a page fault there (sent to a handler)."""
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = spawn.thread(addr(_load), va, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_set_fault(t, ep)
    syscall.thread_start(t)
    msg: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 100, addr(msg)), abi.OK, "no fault"):
        harness.expect_eq(msg.v2, abi.FAULT_PAGE, "fault kind")
        harness.expect_eq(msg.v3, va, "fault address")


def map_write_read_alias() -> None:
    """A frame mapped twice shows the same memory at both addresses; FRAME_INFO gives its pages."""
    f = spawn.map_frame(2, A, RW)
    if f == spawn.NONE:
        return
    res: syscall.SysResult
    if harness.expect_eq(syscall.frame_info(f, addr(res)), abi.OK, "info"):
        harness.expect_eq(res.v0, 2, "pages")
    harness.expect_eq(syscall.proc_map(SELF, f, B, abi.RIGHT_READ), abi.OK, "second mapping")
    volatile_store(_word(A), 0x1111)
    volatile_store(_word(A + PAGE + 8), 0x2222)
    harness.expect_eq(volatile_load(_word(B)), 0x1111, "first page through the alias")
    harness.expect_eq(volatile_load(_word(B + PAGE + 8)), 0x2222, "second page through the alias")


def frames_are_zeroed() -> None:
    """A new frame is zero, even when it reuses the pages of a destroyed one that held data."""
    f = spawn.map_frame(4, A, RW)
    if f == spawn.NONE:
        return
    i: usize = 0
    while i < 4 * PAGE:
        volatile_store(_word(A + i), 0xDEAD_BEEF)
        i += 8
    syscall.cap_destroy(f)
    syscall.cap_delete(f)
    g = spawn.map_frame(4, A, RW)
    if g == spawn.NONE:
        return
    i = 0
    while i < 4 * PAGE:
        if volatile_load(_word(A + i)) != 0:
            harness.fail("word at offset %u is not zero", i)
            return
        i += 8


def refused_mappings() -> None:
    """Overlaps are ERR_MAPPED; unaligned, kernel, outside-the-window or wrapping addresses and bad rights ERR_INVALID_ARG."""
    f = spawn.map_frame(2, A, RW)
    g = spawn.frame(2)
    if f == spawn.NONE or g == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(SELF, g, A, RW), abi.ERR_MAPPED, "same address")
    harness.expect_eq(syscall.proc_map(SELF, g, A + PAGE, RW), abi.ERR_MAPPED, "overlapping the second page")
    harness.expect_eq(syscall.proc_map(SELF, g, A - PAGE, RW), abi.ERR_MAPPED, "overlapping the first page")
    harness.expect_eq(syscall.proc_map(SELF, g, B + 8, RW), abi.ERR_INVALID_ARG, "unaligned")
    harness.expect_eq(syscall.proc_map(SELF, g, board.KERNEL_BASE, RW), abi.ERR_INVALID_ARG, "kernel address")
    harness.expect_eq(syscall.proc_map(SELF, g, board.USER_BASE - 2 * PAGE, RW), abi.ERR_INVALID_ARG,
                      "below the user window")
    harness.expect_eq(syscall.proc_map(SELF, g, board.USER_END - PAGE, RW), abi.ERR_INVALID_ARG,
                      "across the window's end")
    harness.expect_eq(syscall.proc_map(SELF, g, ~usize(PAGE - 1), RW), abi.ERR_INVALID_ARG, "wrapping")
    harness.expect_eq(syscall.proc_map(SELF, g, B, 0x10), abi.ERR_INVALID_ARG, "rights outside R|W|X")
    harness.expect_eq(syscall.proc_map(SELF, g, B, RW | abi.RIGHT_EXEC), abi.ERR_INVALID_ARG, "W+X")
    # Nothing was mapped by the refusals: the range is still free.
    harness.expect_eq(syscall.proc_map(SELF, g, A + 2 * PAGE, RW), abi.OK, "right after the first mapping")


def unmap_exactly() -> None:
    """Unmap needs the mapping's address and length; afterwards the range faults and can be mapped again."""
    f = spawn.map_frame(2, A, RW)
    if f == spawn.NONE:
        return
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_unmap(SELF, A, 1, addr(res)), abi.ERR_INVALID_ARG, "too few pages")
    harness.expect_eq(syscall.proc_unmap(SELF, A + PAGE, 1, addr(res)), abi.ERR_INVALID_ARG, "inside the mapping")
    harness.expect_eq(syscall.proc_unmap(SELF, B, 2, addr(res)), abi.ERR_INVALID_ARG, "nothing mapped there")
    volatile_store(_word(A), 0x77)
    if harness.expect_eq(syscall.proc_unmap(SELF, A, 2, addr(res)), abi.OK, "unmap"):
        harness.expect_eq(res.v0, 2, "pages unmapped")
    harness.expect_eq(syscall.proc_unmap(SELF, A, 2, addr(res)), abi.ERR_INVALID_ARG, "unmap twice")
    _expect_fault_at(A)
    # The frame kept its contents; mapped again elsewhere it shows them.
    harness.expect_eq(syscall.proc_map(SELF, f, B, RW), abi.OK, "map again")
    harness.expect_eq(volatile_load(_word(B)), 0x77, "contents")


def destroy_unmaps_everywhere() -> None:
    """Destroying a frame removes its mappings in every process: init faults there, and the range is free again."""
    f = spawn.map_frame(1, A, RW)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if f == spawn.NONE or p == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(p, f, A, RW), abi.OK, "map into the child")
    harness.expect_eq(syscall.cap_destroy(f), abi.OK, "destroy")
    _expect_fault_at(A)
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_INITRD, A, abi.RIGHT_READ), abi.OK, "range free in init")
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_unmap(SELF, A, 0, addr(res)), abi.ERR_INVALID_ARG, "zero pages")
    syscall.frame_info(initcaps.SLOT_INITRD, addr(res))
    harness.expect_eq(syscall.proc_unmap(SELF, A, res.v0, addr(res)), abi.OK, "unmap the initrd")
    harness.expect_eq(syscall.proc_map(p, initcaps.SLOT_INITRD, A, abi.RIGHT_READ), abi.OK, "range free in the child")


def process_destroy_keeps_others_frames() -> None:
    """Destroying a process unmaps a frame it did not own from it, but the frame and its data live on."""
    f = spawn.map_frame(1, A, RW)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if f == spawn.NONE or p == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(p, f, B, RW), abi.OK, "map into the child")
    volatile_store(_word(A), 0xF00D)
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the child")
    res: syscall.SysResult
    harness.expect_eq(syscall.frame_info(f, addr(res)), abi.OK, "the frame")
    harness.expect_eq(volatile_load(_word(A)), 0xF00D, "its data")
    harness.expect_eq(syscall.proc_map(SELF, f, B, RW), abi.OK, "map it again in init")
    harness.expect_eq(volatile_load(_word(B)), 0xF00D, "its data at the new address")


def frame_sizes() -> None:
    """Frames of 0 or more than 4096 pages are refused; 4096 pages work and are charged, then credited."""
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used = me.v1
    s = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_FRAME, s, 0), abi.ERR_INVALID_ARG, "0 pages")
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_FRAME, s, MAX_FRAME_PAGES + 1), abi.ERR_INVALID_ARG,
                      "4097 pages")
    if harness.expect_eq(syscall.proc_create(SELF, abi.KIND_FRAME, s, MAX_FRAME_PAGES), abi.OK, "4096 pages"):
        res: syscall.SysResult
        syscall.frame_info(s, addr(res))
        harness.expect_eq(res.v0, MAX_FRAME_PAGES, "pages")
        syscall.proc_info(SELF, addr(me))
        harness.expect_eq(me.v1, used + MAX_FRAME_PAGES, "init's pages used")
        syscall.cap_destroy(s)
        syscall.proc_info(SELF, addr(me))
        harness.expect_eq(me.v1, used, "init's pages used after destroy")


def page_tables_are_charged() -> None:
    """Page tables for a mapping are charged to the target process: two for a new gigabyte, none in the same table."""
    p = spawn.child(spawn.CHILD_QUOTA, False)
    f = spawn.frame(1)
    if p == spawn.NONE or f == spawn.NONE:
        return
    res: syscall.SysResult
    syscall.proc_info(p, addr(res))
    before = res.v1
    harness.expect_eq(syscall.proc_map(p, f, FAR, RW), abi.OK, "map")
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, before + 2, "pages used after the first mapping")
    harness.expect_eq(syscall.proc_map(p, f, FAR + 4 * PAGE, abi.RIGHT_READ), abi.OK, "map nearby")
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, before + 2, "pages used after the second mapping")


def shared_frame_between_processes() -> None:
    """A frame mapped in init and in a child carries what the child's thread writes to init."""
    f = spawn.map_frame(1, A, RW)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if f == spawn.NONE or p == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(p, f, B, RW), abi.OK, "map into the child")
    t = spawn.child_thread(p, addr(_store), B + 16, 0xC0FFEE, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_start(t)
    spawn.expect_exit(t, 0, "child thread")
    harness.expect_eq(volatile_load(_word(A + 16)), 0xC0FFEE, "the child's write")


def quota_exhaustion() -> None:
    """A child that spends its quota gets ERR_NO_MEMORY and goes on; a mapping needing a table fails; init is unaffected.

    Init's own frame (made after the child ran out) is the only change to
    init's pages once the child is destroyed.
    """
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    init_used = me.v1
    p = spawn.child(spawn.CHILD_QUOTA, False)
    t = spawn.child_thread(p, addr(_exhaust), 0, 0, spawn.LOW)
    if p == spawn.NONE or t == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_give(p, p, 0), abi.OK, "give the child itself")
    res: syscall.SysResult
    syscall.proc_info(p, addr(res))
    room = res.v0 - res.v1
    syscall.thread_start(t)
    if spawn.wait(t, 100) == abi.STATE_EXITED:
        code = spawn.exit_code(t)
        harness.expect_eq(code & 0xFFFF, room, "frames made")
        harness.expect_eq((code >> 16) & 0xFF, abi.ERR_NO_MEMORY, "error past the quota")
        harness.expect_eq(code >> 24, abi.OK, "endpoint after the quota ran out")
    else:
        harness.fail("the child thread did not exit")
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, res.v0, "child's pages used")
    f = spawn.frame(1)
    if f == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(p, f, FAR, RW), abi.ERR_NO_MEMORY, "mapping that needs page tables")
    g = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_FRAME, g, 1), abi.ERR_NO_MEMORY, "frame from init for it")
    syscall.cap_destroy(p)
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, init_used + 1, "init's pages used (its own frame left)")


def failed_creations_leak_nothing() -> None:
    """A frame or process refused for want of quota takes no pool slot and no page."""
    p = spawn.take()
    syscall.proc_create(SELF, abi.KIND_PROCESS, p, 2)
    res: syscall.SysResult
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_FRAME, addr(res))
    frames = res.v0
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_PROCESS, addr(res))
    processes = res.v0
    s = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_FRAME, s, 2), abi.ERR_NO_MEMORY, "frame past the quota")
    harness.expect_eq(syscall.proc_create(p, abi.KIND_PROCESS, s, 2), abi.ERR_NO_MEMORY, "process past the quota")
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_FRAME, addr(res))
    harness.expect_eq(res.v0, frames, "free frames")
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_PROCESS, addr(res))
    harness.expect_eq(res.v0, processes, "free processes")
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, 1, "pages used")
    harness.expect_eq(syscall.proc_create(p, abi.KIND_FRAME, s, 1), abi.OK, "the last page")


def mapping_out_of_quota_maps_nothing() -> None:
    """A mapping that runs out of page-table quota halfway leaves none of its pages mapped."""
    p = spawn.take()
    # Root, one second-level and one last-level table: the second last-level table is one page too many.
    syscall.proc_create(SELF, abi.KIND_PROCESS, p, 3)
    f = spawn.frame(2)
    g = spawn.frame(1)
    if f == spawn.NONE or g == spawn.NONE:
        return
    last: usize = FAR + 0x20_0000 - PAGE        # the last page of a 2 MiB table's range: the frame straddles two tables
    harness.expect_eq(syscall.proc_map(p, f, last, RW), abi.ERR_NO_MEMORY, "straddling map")
    harness.expect_eq(syscall.proc_map(p, g, last, RW), abi.OK, "the first page is free")
    res: syscall.SysResult
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, 3, "pages used")


def devices() -> None:
    """The UART device reports its region, maps read + write but never executable, and its registers answer."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.device_info(initcaps.SLOT_DEVICES, addr(res)), abi.OK, "info"):
        harness.expect_eq(res.v0, board.UART0_BASE, "base")
        harness.expect_eq(res.v1, PAGE, "size")
    harness.expect_eq(syscall.frame_info(initcaps.SLOT_DEVICES, addr(res)), abi.ERR_WRONG_KIND, "frame info")
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, A, abi.RIGHT_READ | abi.RIGHT_EXEC),
                      abi.ERR_RIGHTS, "executable")
    if harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, A, RW), abi.OK, "map"):
        lsr = volatile_load(cast(Ptr[u8], A + UART_LSR))
        harness.expect(lsr & LSR_THRE != 0, "LSR says the transmitter is busy")
        harness.expect_eq(syscall.proc_unmap(SELF, A, 1, addr(res)), abi.OK, "unmap")


def initrd_readable() -> None:
    """The initrd's frame maps read-only and starts with the cpio "newc" magic 070701."""
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_INITRD, A, abi.RIGHT_READ), abi.OK, "map")
    magic = "070701"
    i: usize = 0
    while i < 6:
        if volatile_load(cast(Ptr[u8], A + i)) != magic[i]:
            harness.fail("byte %u of the initrd", i)
        i += 1
    res: syscall.SysResult
    syscall.frame_info(initcaps.SLOT_INITRD, addr(res))
    harness.expect_eq(syscall.proc_unmap(SELF, A, res.v0, addr(res)), abi.OK, "unmap")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("memory: a frame mapped twice shows the same data")
    map_write_read_alias()
    spawn.done()
    harness.begin("memory: frames are zeroed")
    frames_are_zeroed()
    spawn.done()
    harness.begin("memory: refused mappings")
    refused_mappings()
    spawn.done()
    harness.begin("memory: unmap removes exactly one mapping")
    unmap_exactly()
    spawn.done()
    harness.begin("memory: destroying a frame unmaps it everywhere")
    destroy_unmaps_everywhere()
    spawn.done()
    harness.begin("memory: destroying a process keeps frames it did not own")
    process_destroy_keeps_others_frames()
    spawn.done()
    harness.begin("memory: frame sizes")
    frame_sizes()
    spawn.done()
    harness.begin("memory: page tables are charged to the target")
    page_tables_are_charged()
    spawn.done()
    harness.begin("memory: a frame shared between processes")
    shared_frame_between_processes()
    spawn.done()
    harness.begin("memory: quota exhaustion is contained")
    quota_exhaustion()
    spawn.done()
    harness.begin("memory: failed creations leak nothing")
    failed_creations_leak_nothing()
    spawn.done()
    harness.begin("memory: a mapping out of quota maps nothing")
    mapping_out_of_quota_maps_nothing()
    spawn.done()
    harness.begin("memory: device regions")
    devices()
    spawn.done()
    harness.begin("memory: the initrd is readable")
    initrd_readable()
    spawn.done()
    harness.begin("memory: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
