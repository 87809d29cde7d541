"""System tests of clone (OP_PROC_CLONE and user/lib/clone.py's fork): a snapshot, private stores, charges, quotas.

Run last: cloning init makes init's own writable memory copy-on-write, and
the kernel's writes into user memory (OP_ACCEPT) do not break a COW page,
so a test that accepts a payload into a page init has not written since
would fail (docs/abi.md, "Process").
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import clone, image, syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
DATA_VA: Final = 0x3E_0000_0000          # a two-page frame of init's, cloned with the rest
SOURCE_VA: Final = 0x3E_1000_0000        # the data frame of the small source process
PAGE: Final = board.PAGE_SIZE
FIRST: Final = 0xC10E
PARENT_LATER: Final = 0xAAAA
CHILD_WROTE: Final = 0xBBBB
CLONE_QUOTA: Final = 64                  # pages: page tables for init's mappings and the copies it makes
CHILD_SELF: Final = 0                    # the clone's slot holding its own process
SOURCE_QUOTA: Final = 40
SOURCE_PAGES: Final = 16

# What the clone exits with: 0 when everything it checked held, else the first check that failed.
BAD_SNAPSHOT: Final = 1
BAD_STORE: Final = 2
BAD_CHARGE: Final = 3
BAD_INFO: Final = 4


def _in_clone(data: Ptr[usize]) -> usize:
    """The clone's checks: init's memory as at the clone, its own store private and charged to it; the exit code."""
    info: syscall.SysResult
    if data[0] != FIRST or data[PAGE // 8] != FIRST + 1:
        return BAD_SNAPSHOT
    if syscall.proc_info(CHILD_SELF, addr(info)) != abi.OK:      # also makes the stack page under info its own
        return BAD_INFO
    if syscall.proc_info(CHILD_SELF, addr(info)) != abi.OK:
        return BAD_INFO
    before = info.v1
    data[0] = CHILD_WROTE
    if data[0] != CHILD_WROTE or data[PAGE // 8] != FIRST + 1:
        return BAD_STORE
    syscall.proc_info(CHILD_SELF, addr(info))
    if info.v1 - before != 1:
        return BAD_CHARGE
    return 0


def fork_sees_a_snapshot() -> None:
    """fork_invoke around OP_PROC_CLONE: the clone resumes in this function, sees the memory of the clone, and stores privately."""
    harness.begin("clone: the clone resumes at the call, sees the memory as it was; stores are private both ways")
    f = spawn.map_frame(2, DATA_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    data = cast(Ptr[usize], DATA_VA)
    data[0] = FIRST
    data[PAGE // 8] = FIRST + 1
    p = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, p, CLONE_QUOTA), abi.OK, "clone process")
    regs: clone.Regs
    err = clone.fork_invoke(addr(regs), p, abi.OP_PROC_CLONE, SELF, 0, 0, 0, 0, 0)
    if err == clone.CHILD:
        syscall.exit(_in_clone(data))
    harness.expect_eq(err, abi.OK, "OP_PROC_CLONE")
    harness.expect_eq(syscall.proc_clone(p, SELF), abi.ERR_BAD_STATE, "a second clone into a process with mappings")
    # Init stores before the clone runs: the clone must not see it, and init pays for its copy.
    info: syscall.SysResult
    syscall.proc_info(SELF, addr(info))
    syscall.proc_info(SELF, addr(info))
    before = info.v1
    data[PAGE // 8] = PARENT_LATER
    syscall.proc_info(SELF, addr(info))
    harness.expect_eq(info.v1 - before, 1, "pages charged to init for its own copy")
    harness.expect_eq(syscall.proc_give(p, p, CHILD_SELF), abi.OK, "give the clone itself")
    t = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_THREAD, t, 0), abi.OK, "clone thread")
    harness.expect_eq(syscall.thread_set_regs(t, addr(clone.resume), usize(addr(regs)), usize(addr(regs)), 0), abi.OK,
                      "clone registers")
    syscall.thread_set_sched(t, spawn.LOW, 0, 0)
    syscall.thread_set_fault(t, spawn.STRAY_SLOT)
    harness.expect_eq(syscall.thread_start(t), abi.OK, "start the clone")
    spawn.expect_exit(t, 0, "the clone's checks (1 snapshot, 2 store, 3 charge, 4 info)")
    harness.expect_eq(data[0], FIRST, "init's first page after the clone's store")
    harness.expect_eq(data[PAGE // 8], PARENT_LATER, "init's own store")
    harness.expect(f != spawn.NONE, "the data frame")       # finish() destroys it, and the clone with its process
    spawn.done()


def _source(p: usize) -> None:
    """Make a small process in ``p``: init's text and rodata, and a SOURCE_PAGES frame of its own mapped read-write."""
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, p, SOURCE_QUOTA), abi.OK, "source process")
    harness.expect_eq(image.map_into(p, False), abi.OK, "source image")
    fr = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_FRAME, fr, SOURCE_PAGES), abi.OK, "source data frame")
    harness.expect_eq(syscall.proc_map(p, fr, SOURCE_VA, abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK, "source data map")
    syscall.cap_delete(fr)


def bad_arguments_and_quotas() -> None:
    """Errors, never a crash; a clone past the source's quota, or whose quota misses its page tables, leaves nothing."""
    harness.begin("clone: bad arguments and quotas fail cleanly, nothing changed")
    src = spawn.take()
    _source(src)
    before: syscall.SysResult
    syscall.proc_info(src, addr(before))
    p = spawn.take()
    t = p + 1
    harness.expect_eq(clone.make(src, SOURCE_QUOTA, p, t, addr(clone.resume), 0, 0, spawn.LOW, abi.NO_CAP),
                      abi.ERR_NO_MEMORY, "more pages than the source has")
    harness.expect_eq(clone.make(src, 1, p, t, addr(clone.resume), 0, 0, spawn.LOW, abi.NO_CAP),
                      abi.ERR_NO_MEMORY, "a quota without room for the page tables")
    res: syscall.SysResult
    harness.expect_eq(syscall.cap_identify(p, addr(res)), abi.ERR_EMPTY_SLOT, "no process left behind")
    after: syscall.SysResult
    syscall.proc_info(src, addr(after))
    harness.expect_eq(after.v1, before.v1, "the source's pages after the failed clones")
    harness.expect_eq(syscall.proc_create(src, abi.KIND_PROCESS, p, 8), abi.OK, "an empty process")
    harness.expect_eq(syscall.proc_clone(p, p), abi.ERR_INVALID_ARG, "clone into itself")
    harness.expect_eq(syscall.proc_clone(p, initcaps.SLOT_CONSOLE), abi.ERR_WRONG_KIND, "a source of another kind")
    harness.expect_eq(syscall.proc_clone(p, board.CAP_SLOTS + 3), abi.ERR_INVALID_SLOT, "a source slot out of range")
    ro = spawn.take()
    syscall.cap_mint(src, ro, abi.RIGHT_READ, 0)
    harness.expect_eq(syscall.proc_clone(p, ro), abi.ERR_RIGHTS, "a source without WRITE")
    harness.expect_eq(syscall.proc_clone(p, src), abi.OK, "a clone with enough quota")
    syscall.proc_info(p, addr(after))
    harness.expect(after.v1 > 1 and after.v1 <= 8, "the clone pays for its page tables only")
    syscall.proc_info(src, addr(after))
    harness.expect_eq(after.v1 - before.v1, 8, "the source gave the clone its quota, nothing more")
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    fork_sees_a_snapshot()
    bad_arguments_and_quotas()
    harness.begin("clone: kernel state is clean afterwards (clones, copies and sources freed)")
    spawn.expect_clean()
    harness.end()
