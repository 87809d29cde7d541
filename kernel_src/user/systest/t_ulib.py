"""System tests of the user library itself: formatting, scanning, the heap, locks and the panic path, run in user mode."""

from kcc.lang import *

from lib import kprintf as fmt
from lib import string
from user.lib import heap, lock, rt, scan, syscall
from user.systest import harness, spawn

ROUNDS: Final = 200             # critical sections per worker thread

_ticket: lock.TicketLock
_rw: lock.RwLock
_counter: usize = 0             # incremented under _ticket, in two steps with a yield between
_pair: Array[usize, 2]          # written under _rw as a writer, both halves equal outside it
_torn: u32 = 0                  # reads under _rw that saw the halves differ
_reads: u32 = 0


def _divide(a0: usize, a1: usize) -> None:
    """Thread body: exit with a1 // (a0 - a0), a zero the compiler cannot see: the division panics first."""
    syscall.exit(a1 // (a0 - a0))


def _ticket_worker(rounds: usize, a1: usize) -> None:
    """Thread body: ``rounds`` increments of _counter under _ticket, yielding the hart inside each; exit 0."""
    for i in range(usize(0), rounds):
        lock.ticket_acquire(addr(_ticket))
        v = spawn.vload(addr(_counter))
        syscall.thread_yield()              # the other worker runs now and finds the lock held
        spawn.vstore(addr(_counter), v + 1)
        lock.ticket_release(addr(_ticket))
    syscall.exit(0)


def _rw_writer(rounds: usize, a1: usize) -> None:
    """Thread body: ``rounds`` times set both halves of _pair to a new value under _rw, yielding between; exit 0."""
    for i in range(usize(1), rounds + 1):
        lock.write_acquire(addr(_rw))
        spawn.vstore(addr(_pair[0]), i)
        syscall.thread_yield()
        spawn.vstore(addr(_pair[1]), i)
        lock.write_release(addr(_rw))
        syscall.thread_yield()
    syscall.exit(0)


def _rw_reader(rounds: usize, a1: usize) -> None:
    """Thread body: ``rounds`` reads of _pair under _rw (yielding between its halves), counting torn ones; exit 0."""
    for i in range(usize(0), rounds):
        lock.read_acquire(addr(_rw))
        first = spawn.vload(addr(_pair[0]))
        syscall.thread_yield()
        if spawn.vload(addr(_pair[1])) != first:
            atomic_add(addr(_torn), 1)
        atomic_add(addr(_reads), 1)
        lock.read_release(addr(_rw))
    syscall.exit(0)


def ticket_lock_contended() -> None:
    """Two threads each add ROUNDS to a counter in read-yield-write steps under a ticket lock: no update is lost."""
    a = spawn.start(addr(_ticket_worker), ROUNDS, 0, spawn.LOW)
    b = spawn.start(addr(_ticket_worker), ROUNDS, 0, spawn.LOW)
    if a == spawn.NONE or b == spawn.NONE:
        return
    spawn.expect_exit(a, 0, "worker a")
    spawn.expect_exit(b, 0, "worker b")
    harness.expect_eq(spawn.vload(addr(_counter)), 2 * ROUNDS, "counter")
    harness.expect(_ticket.contended != 0, "the lock was never contended")
    harness.expect_eq(usize(_ticket.serving), 2 * ROUNDS, "tickets served")
    harness.expect(lock.ticket_try_acquire(addr(_ticket)), "try_acquire of a free lock")
    harness.expect(not lock.ticket_try_acquire(addr(_ticket)), "try_acquire of a held lock")
    lock.ticket_release(addr(_ticket))


def rw_lock_contended() -> None:
    """A writer and two readers on one reader-writer lock: no reader sees a half-written pair."""
    w = spawn.start(addr(_rw_writer), ROUNDS, 0, spawn.LOW)
    r = spawn.start(addr(_rw_reader), ROUNDS, 0, spawn.LOW)
    q = spawn.start(addr(_rw_reader), ROUNDS, 0, spawn.LOW)
    if w == spawn.NONE or r == spawn.NONE or q == spawn.NONE:
        return
    spawn.expect_exit(w, 0, "writer")
    spawn.expect_exit(r, 0, "reader r")
    spawn.expect_exit(q, 0, "reader q")
    harness.expect_eq(usize(_torn), 0, "torn reads")
    harness.expect_eq(usize(_reads), 2 * ROUNDS, "reads")
    harness.expect_eq(spawn.vload(addr(_pair[1])), ROUNDS, "last value")
    harness.expect_eq(usize(_rw.state), 0, "lock state after")


def scanning() -> None:
    """sscanf on the target: numbers, a word into a buffer, the position reached."""
    out: Array[u64, 4]
    word: Array[u8, 16]
    out[2] = u64(usize(addr(word[0])))
    n = scan.sscanf(" -5 0x1F name rest", "%d %x %15s%n", addr(out[0]), 4)
    harness.expect_eq(n, 3, "conversions")
    harness.expect_eq(usize(out[0]), usize(isize(-5)), "%d")
    harness.expect_eq(usize(out[1]), 31, "%x")
    harness.expect(string.streq(addr(word[0]), "name"), "%s")
    harness.expect_eq(usize(out[3]), 13, "%n")


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
    harness.begin("ulib: sscanf")
    scanning()
    harness.end()
    harness.begin("ulib: ticket lock, two threads contending")
    ticket_lock_contended()
    spawn.done()
    harness.begin("ulib: reader-writer lock, a writer and two readers")
    rw_lock_contended()
    spawn.done()
    harness.begin("ulib: heap alloc and free")
    heap_alloc_free()
    harness.end()
