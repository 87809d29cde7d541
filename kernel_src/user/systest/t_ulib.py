"""System tests of the user library itself: formatting, strings, the heap and the panic path, run in user mode."""

from kcc.lang import *

from lib import kprintf as fmt
from lib import string
from user.lib import heap, rt, syscall
from user.systest import harness, spawn


def _divide(a0: usize, a1: usize) -> None:
    """Thread body: exit with a1 // (a0 - a0), a zero the compiler cannot see: the division panics first."""
    syscall.exit(a1 // (a0 - a0))


def formatting() -> None:
    """ksnprintf formats in user space as in the kernel (one source, lib/kprintf.py)."""
    buf: Array[u8, 32]
    n = fmt.ksnprintf(addr(buf[0]), 32, "%d|%5u|%-3x|%s", usize(isize(-42)), 7, 0xAB, usize("ok"))
    harness.expect_eq(n, 16, "length")
    harness.expect(string.streq(addr(buf[0]), "-42|    7|ab |ok"), "text")
    n = fmt.ksnprintf(addr(buf[0]), 4, "%u", 123456)
    harness.expect_eq(n, 6, "truncated length")
    harness.expect(string.streq(addr(buf[0]), "123"), "truncated text")


def heap_alloc_free() -> None:
    """Blocks are zeroed, aligned and distinct; freeing them restores the free count; bad frees are refused."""
    before = heap.free_granules()
    a = heap.alloc(100)
    b = heap.alloc(1)
    if not harness.expect(a != NULL and b != NULL, "alloc returned NULL"):
        return
    harness.expect_eq(usize(a) % heap.GRANULE, 0, "alignment")
    harness.expect(usize(b) >= usize(a) + 100 or usize(b) + 1 <= usize(a), "blocks overlap")
    harness.expect_eq(usize(a[99]), 0, "not zeroed")
    a[99] = 0x5A
    harness.expect_eq(usize(heap.free_granules()), usize(before - 8), "granules used")
    harness.expect(not heap.free(a + 1), "freed an inner pointer")
    harness.expect(heap.free(a), "free a")
    harness.expect(not heap.free(a), "freed a twice")
    harness.expect(heap.free(b), "free b")
    harness.expect_eq(usize(heap.free_granules()), usize(before), "free granules after")
    harness.expect(heap.alloc(heap.HEAP_SIZE + 1) == NULL, "oversized alloc")


def panic_ends_the_thread() -> None:
    """A panic in a user thread prints "panic: ... at file:line:col" and exits that thread with PANIC_EXIT_CODE.

    tests/test_systest.py checks that the located line reached the console.
    """
    t = spawn.start(addr(_divide), 7, 1, spawn.LOW)
    if t != spawn.NONE:
        spawn.expect_exit(t, rt.PANIC_EXIT_CODE, "exit code")
        # The report's own guard was cleared: a second panic prints too.
        u = spawn.start(addr(_divide), 9, 1, spawn.LOW)
        if u != spawn.NONE:
            spawn.expect_exit(u, rt.PANIC_EXIT_CODE, "second panic")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("ulib: a panic ends only its thread")
    panic_ends_the_thread()
    spawn.done()
    harness.begin("ulib: formatting")
    formatting()
    harness.end()
    harness.begin("ulib: heap alloc and free")
    heap_alloc_free()
    harness.end()
