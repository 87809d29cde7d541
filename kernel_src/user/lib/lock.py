"""Locks for the threads of one process: a fair ticket lock and a writer-preferring reader-writer lock, on atomics.

A lock is a struct in memory the threads share (a global, or a field of
shared data), zeroed means unlocked. Acquiring spins with ``backoff``: a
few quick looks (SPINS), then OP_YIELD so the holder can run on this hart
(the scheduler's yield only passes to threads of the same priority), then,
after YIELDS of those, a one-tick sleep, which lets a holder of lower
priority run too. Nothing here blocks in the kernel, so a lock must not
be held while waiting for another process, and never across a fault.
"""

from kcc.lang import *

from user.lib import syscall

SPINS: Final = 16               # quick looks before the first yield
YIELDS: Final = 64              # yields before sleeping a tick per look
WRITER: Final[u32] = 0x8000_0000    # RwLock.state: a writer holds it (the low bits count readers)


@struct
class TicketLock:
    next: u32           # the ticket the next arrival takes
    serving: u32        # the ticket that holds the lock
    contended: u32      # acquisitions that had to wait (a statistic: how often the lock was fought over)


@struct
class RwLock:
    state: u32          # WRITER, or the number of readers inside
    waiting: u32        # writers waiting: new readers hold back while there are any


def backoff(round: u32) -> None:
    """Wait politely before look number ``round`` + 1 at a busy lock (the policy above)."""
    if round < SPINS:
        return
    if round < SPINS + YIELDS:
        syscall.thread_yield()
    else:
        syscall.sleep(1)


def ticket_acquire(lk: Ptr[TicketLock]) -> None:
    """Take ``lk``, in the order the threads arrived (first come, first served); returns once held."""
    me = atomic_add(addr(lk.next), 1, RELAXED)
    round: u32 = 0
    while atomic_load(addr(lk.serving), ACQUIRE) != me:
        if round == 0:
            atomic_add(addr(lk.contended), 1, RELAXED)
        backoff(round)
        round += 1


def ticket_try_acquire(lk: Ptr[TicketLock]) -> bool:
    """Take ``lk`` only when nobody holds or waits for it; True when taken."""
    serving = atomic_load(addr(lk.serving), ACQUIRE)
    return atomic_cas(addr(lk.next), serving, serving + 1, ACQUIRE) == serving


def ticket_release(lk: Ptr[TicketLock]) -> None:
    """Give ``lk`` to the next ticket; only its holder may call this."""
    atomic_add(addr(lk.serving), 1, RELEASE)


def read_acquire(lk: Ptr[RwLock]) -> None:
    """Enter ``lk`` as a reader (many at once); waits while a writer holds it or waits for it."""
    round: u32 = 0
    while True:
        s = atomic_load(addr(lk.state), RELAXED)
        if (s & WRITER == 0 and atomic_load(addr(lk.waiting), RELAXED) == 0
                and atomic_cas(addr(lk.state), s, s + 1, ACQUIRE) == s):
            return
        backoff(round)
        round += 1


def read_release(lk: Ptr[RwLock]) -> None:
    """Leave ``lk`` as a reader."""
    atomic_add(addr(lk.state), 0xFFFF_FFFF, RELEASE)      # minus one: u32 arithmetic wraps


def write_acquire(lk: Ptr[RwLock]) -> None:
    """Take ``lk`` alone; new readers wait from now on, readers inside finish first."""
    atomic_add(addr(lk.waiting), 1, RELAXED)
    round: u32 = 0
    while atomic_cas(addr(lk.state), 0, WRITER, ACQUIRE) != 0:
        backoff(round)
        round += 1
    atomic_add(addr(lk.waiting), 0xFFFF_FFFF, RELAXED)


def write_release(lk: Ptr[RwLock]) -> None:
    """Give ``lk`` up as its writer."""
    atomic_store(addr(lk.state), 0, RELEASE)
