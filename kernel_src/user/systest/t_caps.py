"""System tests of the first system calls: OP_SELF, OP_CAP_IDENTIFY on init's slots, slot and operation errors.

They need only what init holds from the start (lib/initcaps.py) and the
debug console.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness

# An operation number lib/abi.py does not define.
_NO_SUCH_OP: Final = 0x7FF


def _expect_kind(slot: usize, kind: usize) -> None:
    """Check that ``slot`` identifies as ``kind``."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.cap_identify(slot, addr(res)), abi.OK, "identify error"):
        harness.expect_eq(res.v0, kind, "kind")


def self_answers() -> None:
    """OP_SELF succeeds and reports this process's capability-table size."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.self_info(addr(res)), abi.OK, "OP_SELF error"):
        harness.expect_eq(res.v1, board.CAP_SLOTS, "slot count")
        harness.expect(res.v2 < board.NUM_PRIORITIES, "priority out of range")


def self_ignores_slot() -> None:
    """OP_SELF names the calling thread whatever the slot: an invalid slot changes nothing."""
    a: syscall.SysResult
    b: syscall.SysResult
    syscall.self_info(addr(a))
    if harness.expect_eq(syscall.invoke(9999, abi.OP_SELF, 0, 0, 0, 0, 0, 0, addr(b)), abi.OK, "error"):
        harness.expect_eq(b.v0, a.v0, "thread id")


def thread_id_matches_self() -> None:
    """OP_THREAD_ID on init's own thread capability gives OP_SELF's thread id."""
    me: syscall.SysResult
    res: syscall.SysResult
    syscall.self_info(addr(me))
    if harness.expect_eq(syscall.thread_id(initcaps.SLOT_SELF_THREAD, addr(res)), abi.OK, "OP_THREAD_ID error"):
        harness.expect_eq(res.v0, me.v0, "thread id")


def initial_slots() -> None:
    """Init's first slots hold what lib/initcaps.py promises."""
    _expect_kind(initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS)
    _expect_kind(initcaps.SLOT_SELF_THREAD, abi.KIND_THREAD)
    _expect_kind(initcaps.SLOT_CONSOLE, abi.KIND_CONSOLE)
    _expect_kind(initcaps.SLOT_IRQ_CONTROL, abi.KIND_IRQ_CONTROL)
    _expect_kind(initcaps.SLOT_INITRD, abi.KIND_FRAME)
    _expect_kind(initcaps.SLOT_DEVICES, abi.KIND_DEVICE)


def initrd_is_read_only() -> None:
    """The initrd's frame capability lets init read the initrd but never write it."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.cap_identify(initcaps.SLOT_INITRD, addr(res)), abi.OK, "identify error"):
        harness.expect(res.v1 & abi.RIGHT_READ != 0, "no read right")
        harness.expect(res.v1 & abi.RIGHT_WRITE == 0, "write right")


def first_free_is_empty() -> None:
    """INIT_FIRST_FREE and the last slot of the table are empty: ERR_EMPTY_SLOT."""
    res: syscall.SysResult
    harness.expect_eq(syscall.cap_identify(initcaps.INIT_FIRST_FREE, addr(res)), abi.ERR_EMPTY_SLOT,
                      "first free slot")
    harness.expect_eq(syscall.cap_identify(board.CAP_SLOTS - 1, addr(res)), abi.ERR_EMPTY_SLOT, "last slot")


def invalid_slots() -> None:
    """A slot past the table, just past or far past, is ERR_INVALID_SLOT."""
    res: syscall.SysResult
    harness.expect_eq(syscall.cap_identify(board.CAP_SLOTS, addr(res)), abi.ERR_INVALID_SLOT, "slot CAP_SLOTS")
    harness.expect_eq(syscall.cap_identify(9999, addr(res)), abi.ERR_INVALID_SLOT, "slot 9999")
    harness.expect_eq(syscall.cap_identify(~usize(0), addr(res)), abi.ERR_INVALID_SLOT, "slot ~0")


def unknown_operations() -> None:
    """An operation number nobody defined, or one for another kind, is ERR_UNKNOWN_OP or ERR_WRONG_KIND."""
    harness.expect_eq(syscall.call(initcaps.SLOT_CONSOLE, _NO_SUCH_OP), abi.ERR_UNKNOWN_OP, "op 0x7ff")
    harness.expect_eq(syscall.call(initcaps.SLOT_CONSOLE, 0), abi.ERR_UNKNOWN_OP, "op 0")
    res: syscall.SysResult
    harness.expect_eq(syscall.thread_id(initcaps.SLOT_CONSOLE, addr(res)), abi.ERR_WRONG_KIND,
                      "OP_THREAD_ID on the console")


def console_write_counts() -> None:
    """OP_CONSOLE_WRITE writes every byte it is given and says so."""
    res: syscall.SysResult
    text = "console write test\n"
    if harness.expect_eq(syscall.console_write(initcaps.SLOT_CONSOLE, text, 19, addr(res)), abi.OK, "error"):
        harness.expect_eq(res.v0, 19, "bytes written")


def console_write_bad_pointers() -> None:
    """OP_CONSOLE_WRITE refuses a kernel address, an unmapped one and a length that wraps: ERR_BAD_ADDRESS."""
    res: syscall.SysResult
    kernel = cast(Ptr[u8], board.KERNEL_BASE)
    harness.expect_eq(syscall.console_write(initcaps.SLOT_CONSOLE, kernel, 8, addr(res)), abi.ERR_BAD_ADDRESS,
                      "kernel address")
    unmapped = cast(Ptr[u8], board.USER_END - board.PAGE_SIZE)
    harness.expect_eq(syscall.console_write(initcaps.SLOT_CONSOLE, unmapped, 8, addr(res)), abi.ERR_BAD_ADDRESS,
                      "unmapped address")
    text = "x"
    harness.expect_eq(syscall.console_write(initcaps.SLOT_CONSOLE, text, ~usize(0), addr(res)),
                      abi.ERR_BAD_ADDRESS, "wrapping length")


def kernel_invariants_hold() -> None:
    """OP_CONSOLE_CHECK finds no violated kernel invariant."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.console_check(initcaps.SLOT_CONSOLE, addr(res)), abi.OK, "error"):
        harness.expect_eq(res.v0, 0, "violations")


def run() -> None:
    """Run every test of this module."""
    harness.begin("self: OP_SELF answers")
    self_answers()
    harness.end()
    harness.begin("self: the slot is ignored")
    self_ignores_slot()
    harness.end()
    harness.begin("self: OP_THREAD_ID matches OP_SELF")
    thread_id_matches_self()
    harness.end()
    harness.begin("caps: init's initial slots")
    initial_slots()
    harness.end()
    harness.begin("caps: the initrd is read-only")
    initrd_is_read_only()
    harness.end()
    harness.begin("caps: empty slots")
    first_free_is_empty()
    harness.end()
    harness.begin("caps: invalid slots")
    invalid_slots()
    harness.end()
    harness.begin("caps: unknown operations")
    unknown_operations()
    harness.end()
    harness.begin("console: write counts bytes")
    console_write_counts()
    harness.end()
    harness.begin("console: bad pointers")
    console_write_bad_pointers()
    harness.end()
    harness.begin("console: kernel invariants hold")
    kernel_invariants_hold()
    harness.end()
