"""System tests of copy-on-write sharing: a frame mapped MAP_COW is shared until a store gives the writer a copy."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn, t_ipc2

SELF: Final = initcaps.SLOT_SELF_PROCESS
PARENT_VA: Final = 0x3D_0000_0000        # the frame in init
CHILD_VA: Final = 0x3D_0000_0000         # and in the child (any address would do)
COW_VA: Final = 0x3E_0000_0000           # the frame again in init, copy-on-write
PAGE: Final = board.PAGE_SIZE
FIRST: Final = 0xC0FFEE
WRITTEN: Final = 0xBEEF
LATER: Final = 0x5555
CHILD_QUOTA: Final = 32


def _cow_child(va: usize, unused: usize) -> None:
    """Child body (slot 0: notification "copied", slot 1: notification "go on").

    Checks the shared first page, stores to it (its private copy), signals,
    waits, then exits with what the second page holds (still shared).
    """
    res: syscall.SysResult
    p = cast(Ptr[usize], va)
    if p[0] != FIRST:
        syscall.exit(1)
    p[0] = WRITTEN
    if p[0] != WRITTEN:
        syscall.exit(2)
    syscall.ntfn_signal(0, 1)
    syscall.ntfn_wait(1, addr(res))
    syscall.exit(p[PAGE // 8])


def store_copies_only_the_written_page() -> None:
    """A store copies one page for the writer (charged to its quota); the other page stays shared; init's is untouched."""
    harness.begin("cow: a store gives the writer a private copy of that page only")
    f = spawn.map_frame(2, PARENT_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    mine = cast(Ptr[usize], PARENT_VA)
    mine[0] = FIRST
    mine[PAGE // 8] = 7
    copied = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, copied, 0)
    go = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, go, 0)
    child = spawn.child(CHILD_QUOTA, False)
    harness.expect_eq(syscall.proc_map(child, f, CHILD_VA, abi.RIGHT_READ | abi.MAP_COW), abi.ERR_INVALID_ARG,
                      "copy-on-write without WRITE")
    harness.expect_eq(syscall.proc_map(child, f, CHILD_VA, abi.RIGHT_READ | abi.RIGHT_WRITE | abi.MAP_COW),
                      abi.OK, "map copy-on-write")
    syscall.proc_give(child, copied, 0)
    syscall.proc_give(child, go, 1)
    t = spawn.child_thread(child, addr(_cow_child), CHILD_VA, 0, spawn.LOW)
    before: syscall.SysResult
    syscall.proc_info(child, addr(before))
    syscall.thread_start(t)
    res: syscall.SysResult
    harness.expect_eq(syscall.ntfn_wait(copied, addr(res)), abi.OK, "the child stored")
    harness.expect_eq(mine[0], FIRST, "init's page after the child's store")
    after: syscall.SysResult
    syscall.proc_info(child, addr(after))
    harness.expect_eq(after.v1 - before.v1, 1, "pages charged to the child for its copy")
    mine[PAGE // 8] = LATER
    syscall.ntfn_signal(go, 1)
    spawn.expect_exit(t, LATER, "the untouched page is still shared")
    spawn.done()


def accepted_payload_copies_the_page() -> None:
    """The kernel's own store into a copy-on-write page (an accepted payload) copies the page, as a program's store does."""
    harness.begin("cow: a payload accepted into a copy-on-write page lands in the receiver's copy")
    f = spawn.map_frame(1, PARENT_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    mine = cast(Ptr[usize], PARENT_VA)
    mine[0] = FIRST
    harness.expect_eq(syscall.proc_map(SELF, f, COW_VA, abi.RIGHT_READ | abi.RIGHT_WRITE | abi.MAP_COW), abi.OK,
                      "map the frame again, copy-on-write")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = t_ipc2.payload_child(ep, 64)
    res: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "announcement"):
        harness.expect_eq(syscall.accept(cast(Ptr[u8], COW_VA), 64, addr(res)), abi.OK,
                          "accept into the copy-on-write page")
        harness.expect_eq(usize(cast(Ptr[u8], COW_VA)[5]), (5 * 7 + 3) & 0xFF, "a byte of the payload")
    harness.expect_eq(mine[0], FIRST, "the frame itself after the payload")
    spawn.expect_exit(t, 64, "sender's count")
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    store_copies_only_the_written_page()
    accepted_payload_copies_the_page()
    harness.begin("cow: kernel state is clean afterwards (copies freed with their process)")
    spawn.expect_clean()
    harness.end()
