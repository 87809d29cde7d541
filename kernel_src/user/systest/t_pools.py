"""System tests of the kernel's fixed pools: each object pool, the mapping records and the pages exhausted, then released with every count restored.

Every pool a process can draw from runs dry with its clean error
(ERR_NO_OBJECTS, or ERR_NO_MEMORY for pages) while the kernel stays
consistent, and refills completely when the objects go. exhaust_all() runs
them all; user/soak runs it again before and after its million cycles.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
CONSOLE: Final = initcaps.SLOT_CONSOLE
HOLDER_QUOTA: Final = 400                   # pages: enough for every frame of the pool, one page each
MAP_AREA: Final = 0x20_0000_0000            # where the mapping test maps into its child (nothing else there)
LIMIT: Final = 10_000                       # safety net for a pool that never runs out
BIG_FRAME: Final = 1024                     # pages: the first frame size the page test tries (4 MiB)


def _free(kind: usize) -> usize:
    """The free count of ``kind``'s pool (OP_CONSOLE_POOL)."""
    res: syscall.SysResult
    syscall.console_pool(CONSOLE, kind, addr(res))
    return res.v0


def _expect_check() -> None:
    """Check that no kernel invariant is violated."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.console_check(CONSOLE, addr(res)), abi.OK, "check"):
        harness.expect_eq(res.v0, 0, "violations")


def _exhaust(kind: usize, arg: usize) -> None:
    """Fill the pool of ``kind`` with objects owned by a holder child, then destroy the holder: all come back.

    Every object is made through the holder's process capability (``arg``
    is OP_PROC_CREATE's argument) into one scratch slot whose capability is
    deleted at once; the objects live on, owned by the holder, until it is
    destroyed. The pool must run dry after exactly its free count, with
    ERR_NO_OBJECTS, and the kernel must stay consistent meanwhile.
    """
    before = _free(kind)
    holder = spawn.take()
    if not harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, holder, HOLDER_QUOTA), abi.OK, "holder"):
        return
    available = _free(kind)
    scratch = spawn.take()
    n: usize = 0
    err = syscall.proc_create(holder, kind, scratch, arg)
    while err == abi.OK and n < LIMIT:
        syscall.cap_delete(scratch)
        n += 1
        err = syscall.proc_create(holder, kind, scratch, arg)
    harness.expect_eq(err, abi.ERR_NO_OBJECTS, "error when the pool ran dry")
    harness.expect_eq(n, available, "objects made")
    harness.expect_eq(_free(kind), 0, "free count when dry")
    _expect_check()
    harness.expect_eq(syscall.cap_destroy(holder), abi.OK, "destroy the holder")
    harness.expect_eq(_free(kind), before, "free count afterwards")
    # The pool works again.
    harness.expect_eq(syscall.proc_create(SELF, kind, scratch, arg), abi.OK, "create afterwards")


def process_pool() -> None:
    """The process pool runs dry and refills; a refused process costs its would-be parent no quota."""
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(res))
    used = res.v1
    _exhaust(abi.KIND_PROCESS, 1)
    spawn.finish()
    syscall.proc_info(SELF, addr(res))
    harness.expect_eq(res.v1, used, "init's pages used")


def thread_pool() -> None:
    """The thread pool runs dry and refills."""
    _exhaust(abi.KIND_THREAD, 0)


def endpoint_pool() -> None:
    """The endpoint pool runs dry and refills."""
    _exhaust(abi.KIND_ENDPOINT, 0)


def notification_pool() -> None:
    """The notification pool runs dry and refills."""
    _exhaust(abi.KIND_NOTIFICATION, 0)


def frame_pool() -> None:
    """The frame pool runs dry (before the holder's quota does) and refills."""
    _exhaust(abi.KIND_FRAME, 1)


def portal_pool() -> None:
    """The portal pool runs dry and refills."""
    _exhaust(abi.KIND_PORTAL, 0)


def _init_pages() -> usize:
    """The pages init has used of its quota."""
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(res))
    return res.v1


def memory_pool() -> None:
    """Pages run out with ERR_NO_MEMORY down to a single page; destroying their holder gives every page back.

    A holder gets all of init's unused quota, which is all the memory nobody
    uses (init's quota is every page free at boot), and fills it with frames
    of BIG_FRAME pages, then of half as many whenever a size is refused,
    down to one page. Afterwards init's usage is what it was and a frame of
    BIG_FRAME contiguous pages can be made again: the allocator merged the
    pages back into runs.
    """
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(res))
    used = res.v1
    holder = spawn.take()
    err = syscall.proc_create(SELF, abi.KIND_PROCESS, holder, res.v0 - res.v1)
    if not harness.expect_eq(err, abi.OK, "holder"):
        return
    scratch = spawn.take()
    size: usize = BIG_FRAME
    frames: usize = 0
    while size > 0 and frames < LIMIT:
        err = syscall.proc_create(holder, abi.KIND_FRAME, scratch, size)
        if err == abi.OK:
            syscall.cap_delete(scratch)
            frames += 1
        else:
            if not harness.expect_eq(err, abi.ERR_NO_MEMORY, "error when the pages ran out"):
                break
            size //= 2
    harness.expect(frames > 0, "no frame at all")
    harness.expect_eq(syscall.proc_create(holder, abi.KIND_PROCESS, scratch, 1), abi.ERR_NO_MEMORY,
                      "a process when the pages ran out")
    _expect_check()
    harness.expect_eq(syscall.cap_destroy(holder), abi.OK, "destroy the holder")
    harness.expect_eq(_init_pages(), used, "init's pages used afterwards")
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_FRAME, scratch, BIG_FRAME), abi.OK,
                      "a big frame afterwards")


def irq_pool() -> None:
    """Claiming lines 1, 2, ... runs the IRQ pool dry with ERR_NO_OBJECTS; destroying the claims refills it."""
    before = _free(abi.KIND_IRQ)
    first: usize = spawn.FIRST_SLOT
    line: usize = 1
    err: usize = abi.OK
    while line < 1024:
        s = spawn.take()
        if s == spawn.NONE:
            return
        err = syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, line, s)
        if err != abi.OK:
            break
        line += 1
    harness.expect_eq(err, abi.ERR_NO_OBJECTS, "error when the pool ran dry")
    harness.expect_eq(line - 1, before, "lines claimed")
    harness.expect_eq(_free(abi.KIND_IRQ), 0, "free count when dry")
    _expect_check()
    slot: usize = first
    while slot < first + before:
        syscall.cap_destroy(slot)
        slot += 1
    harness.expect_eq(_free(abi.KIND_IRQ), before, "free count afterwards")


def mapping_records() -> None:
    """Mapping records run out with ERR_NO_OBJECTS; destroying the process holding them gives every one back."""
    counts: Array[usize, 2]
    lap: usize = 0
    while lap < 2:
        p = spawn.take()
        syscall.proc_create(SELF, abi.KIND_PROCESS, p, 16)
        f = spawn.frame(1)
        if f == spawn.NONE:
            return
        n: usize = 0
        err = syscall.proc_map(p, f, MAP_AREA, abi.RIGHT_READ)
        while err == abi.OK and n < LIMIT:
            n += 1
            err = syscall.proc_map(p, f, MAP_AREA + n * board.PAGE_SIZE, abi.RIGHT_READ)
        harness.expect_eq(err, abi.ERR_NO_OBJECTS, "error when the records ran out")
        harness.expect(n > 0, "no mapping at all")
        counts[lap] = n
        # Init cannot map either while the records are gone.
        harness.expect_eq(syscall.proc_map(SELF, f, spawn.TEST_AREA, abi.RIGHT_READ), abi.ERR_NO_OBJECTS,
                          "a mapping in init")
        _expect_check()
        syscall.cap_destroy(p)
        spawn.finish()
        lap += 1
    harness.expect_eq(counts[1], counts[0], "mappings the second time")


def pool_query() -> None:
    """OP_CONSOLE_POOL gives free <= capacity for every kind and refuses a kind past the last."""
    res: syscall.SysResult
    harness.expect_eq(syscall.console_pool(CONSOLE, abi.NUM_KINDS, addr(res)), abi.ERR_INVALID_ARG, "kind 10")
    if harness.expect_eq(syscall.console_pool(CONSOLE, abi.KIND_THREAD, addr(res)), abi.OK, "threads"):
        harness.expect_eq(res.v1, board.MAX_THREADS, "thread capacity")
        harness.expect(res.v0 < res.v1, "init's thread is not counted")
    kind: usize = 1
    while kind < abi.NUM_KINDS:
        syscall.console_pool(CONSOLE, kind, addr(res))
        if res.v0 > res.v1:
            harness.fail("kind %u: %u free of %u", kind, res.v0, res.v1)
        kind += 1


def exhaust_all() -> None:
    """Drive every pool dry and back, one test each; the caller has called spawn.pools_saved() first."""
    harness.begin("pools: the process pool runs dry and refills")
    process_pool()
    spawn.done()
    harness.begin("pools: the thread pool runs dry and refills")
    thread_pool()
    spawn.done()
    harness.begin("pools: the endpoint pool runs dry and refills")
    endpoint_pool()
    spawn.done()
    harness.begin("pools: the notification pool runs dry and refills")
    notification_pool()
    spawn.done()
    harness.begin("pools: the frame pool runs dry and refills")
    frame_pool()
    spawn.done()
    harness.begin("pools: the portal pool runs dry and refills")
    portal_pool()
    spawn.done()
    harness.begin("pools: the IRQ pool runs dry and refills")
    irq_pool()
    spawn.done()
    harness.begin("pools: mapping records run out and come back")
    mapping_records()
    spawn.done()
    harness.begin("pools: pages run out and come back")
    memory_pool()
    spawn.done()
    harness.begin("pools: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    exhaust_all()
    harness.begin("pools: pool queries")
    pool_query()
    spawn.done()
