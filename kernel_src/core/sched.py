"""The scheduler's queues: fixed priorities with O(1) choice, round robin, budgets per period, timeouts.

Threads are named by their index in the thread pool (core/objects.py). Each
thread is in at most one queue at a time, linked through its own next/prev
fields (intrusive doubly-linked lists, so removal is O(1)):

- *ready*: one FIFO per priority, 0 (lowest) .. NUM_PRIORITIES-1, and a u64
  bitmap with bit p set exactly when FIFO p is non-empty; choose() finds the
  highest set bit with a six-step binary search, so choosing is O(1).
- *throttled*: threads that spent their budget, sorted by the tick their next
  period starts; tick() moves them back to ready when it comes.
- *timeout*: threads sleeping or blocked with a timeout, sorted by wake tick;
  pop_expired() takes them off the front.

The running thread is in no queue. The two sorted queues cost O(MAX_THREADS)
to insert into (a walk to the insertion point) and O(1) to pop or remove
from; MAX_THREADS is a small board constant, and a sorted list keeps wake-ups
exact to the tick, which a timer wheel would only do with a second level.

Round robin: a thread runs for TIMESLICE_TICKS ticks, then yields to a ready
thread of its own priority (tick() asks for the switch, preempt() puts it at
the tail). A thread preempted by a higher priority keeps the rest of its
slice and goes back to the head of its FIFO.

Budgets (seL4 MCS, simplified): set_params gives a thread ``budget`` ticks of
running per ``period`` ticks, its periods starting at the tick of set_params.
At the start of each period its budget is refilled to the full amount (what
was left over does not carry on). A thread that spends its budget is
throttled: off the ready queues until its next period starts. Budget 0 means
unlimited. Replenishment is lazy for threads that are not throttled (done
when they are charged or made ready), so a tick costs O(1) plus O(1) per
thread it replenishes from the throttled queue.
"""

import board
from kcc.lang import *

from lib import bits
from lib.abi import ERR_INVALID_ARG, OK

NO_INDEX: Final[u32] = 0xFFFF_FFFF
NEVER: Final[u64] = 0xFFFF_FFFF_FFFF_FFFF     # next_wakeup() when nothing is due

# Which queue a thread is in (queue_of).
Q_NONE: Final[u32] = 0        # running, blocked without timeout, or not scheduled at all
Q_READY: Final[u32] = 1
Q_THROTTLED: Final[u32] = 2
Q_TIMEOUT: Final[u32] = 3

# The ready bitmap is one u64: this constant does not fit its u8 type, a compile error, if a
# board asks for more priorities than the bitmap has bits.
_BITMAP_BITS_SPARE: Final[u8] = 64 - board.NUM_PRIORITIES


@struct
class SchedThread:
    """What the scheduler keeps per thread."""

    replenish_at: u64   # the tick the current budget period ends (and the budget is refilled)
    wake_at: u64        # while in the timeout queue: the tick it expires
    next: u32           # links in the one queue the thread is in
    prev: u32
    budget: u32         # ticks of running per period; 0: unlimited
    period: u32         # ticks
    remaining: u32      # budget left in the current period
    slice_used: u32     # ticks run in the current timeslice
    prio: u8
    queue: u8           # Q_*


_threads: Array[SchedThread, board.MAX_THREADS]
_ready_head: Array[u32, board.NUM_PRIORITIES]
_ready_tail: Array[u32, board.NUM_PRIORITIES]
_ready_bits: u64 = 0
_sorted_head: Array[u32, 2]     # [0]: throttled, [1]: timeout
_now: u64 = 0                   # the tick of the last tick() call


def _key(t: u32, queue: u32) -> u64:
    """The sort key of ``t`` in the sorted ``queue``."""
    if queue == Q_THROTTLED:
        return _threads[t].replenish_at
    return _threads[t].wake_at


def _unlink(t: u32) -> None:
    """Take ``t`` out of whatever queue it is in (nothing when none). O(1)."""
    global _ready_bits
    q = u32(_threads[t].queue)
    if q == Q_NONE:
        return
    nxt = _threads[t].next
    prv = _threads[t].prev
    if q == Q_READY:
        p = u32(_threads[t].prio)
        if prv == NO_INDEX:
            _ready_head[p] = nxt
        else:
            _threads[prv].next = nxt
        if nxt == NO_INDEX:
            _ready_tail[p] = prv
        else:
            _threads[nxt].prev = prv
        if _ready_head[p] == NO_INDEX:
            _ready_bits &= ~(u64(1) << p)
    else:
        if prv == NO_INDEX:
            _sorted_head[q - Q_THROTTLED] = nxt
        else:
            _threads[prv].next = nxt
        if nxt != NO_INDEX:
            _threads[nxt].prev = prv
    _threads[t].queue = u8(Q_NONE)
    _threads[t].next = NO_INDEX
    _threads[t].prev = NO_INDEX


def _push_ready(t: u32, at_head: bool) -> None:
    """Put ``t`` (in no queue) at the head or the tail of its priority's FIFO. O(1)."""
    global _ready_bits
    p = u32(_threads[t].prio)
    _threads[t].queue = u8(Q_READY)
    if _ready_head[p] == NO_INDEX:
        _threads[t].next = NO_INDEX
        _threads[t].prev = NO_INDEX
        _ready_head[p] = t
        _ready_tail[p] = t
        _ready_bits |= u64(1) << p
    elif at_head:
        _threads[t].prev = NO_INDEX
        _threads[t].next = _ready_head[p]
        _threads[_ready_head[p]].prev = t
        _ready_head[p] = t
    else:
        _threads[t].next = NO_INDEX
        _threads[t].prev = _ready_tail[p]
        _threads[_ready_tail[p]].next = t
        _ready_tail[p] = t


def _insert_sorted(t: u32, queue: u32) -> None:
    """Put ``t`` (in no queue) into a sorted ``queue``, after every entry with the same key. O(MAX_THREADS)."""
    key = _key(t, queue)
    prv = NO_INDEX
    nxt = _sorted_head[queue - Q_THROTTLED]
    while nxt != NO_INDEX and _key(nxt, queue) <= key:
        prv = nxt
        nxt = _threads[nxt].next
    _threads[t].queue = u8(queue)
    _threads[t].prev = prv
    _threads[t].next = nxt
    if prv == NO_INDEX:
        _sorted_head[queue - Q_THROTTLED] = t
    else:
        _threads[prv].next = t
    if nxt != NO_INDEX:
        _threads[nxt].prev = t


def _refresh(t: u32) -> None:
    """Refill ``t``'s budget if one or more of its periods ended by now; skipped periods are not owed."""
    if _threads[t].budget == 0 or _now < _threads[t].replenish_at:
        return
    period = u64(_threads[t].period)
    _threads[t].remaining = _threads[t].budget
    _threads[t].replenish_at += period * ((_now - _threads[t].replenish_at) // period + 1)


def _out_of_budget(t: u32) -> bool:
    return _threads[t].budget != 0 and _threads[t].remaining == 0


def _enqueue(t: u32, at_head: bool) -> None:
    """Queue ``t`` (in no queue) as ready, or as throttled when its budget for this period is spent."""
    _refresh(t)
    if _out_of_budget(t):
        _insert_sorted(t, Q_THROTTLED)
    else:
        _push_ready(t, at_head)


def _reset_thread(t: u32) -> None:
    _threads[t].replenish_at = 0
    _threads[t].wake_at = 0
    _threads[t].next = NO_INDEX
    _threads[t].prev = NO_INDEX
    _threads[t].budget = 0
    _threads[t].period = 0
    _threads[t].remaining = 0
    _threads[t].slice_used = 0
    _threads[t].prio = 0
    _threads[t].queue = u8(Q_NONE)


def reset() -> None:
    """Empty every queue, set the clock to tick 0, and give every thread the init_thread state.

    O(MAX_THREADS + NUM_PRIORITIES).
    """
    global _ready_bits, _now
    for p in range(u32(board.NUM_PRIORITIES)):
        _ready_head[p] = NO_INDEX
        _ready_tail[p] = NO_INDEX
    _ready_bits = 0
    _sorted_head[0] = NO_INDEX
    _sorted_head[1] = NO_INDEX
    _now = 0
    for t in range(u32(board.MAX_THREADS)):
        _reset_thread(t)


def init_thread(t: u32) -> None:
    """Take thread index ``t`` out of any queue and give it priority 0 and an unlimited budget. O(1)."""
    _unlink(t)
    _reset_thread(t)


def set_params(t: u32, prio: u32, budget_ticks: u32, period_ticks: u32) -> u32:
    """Give thread ``t`` a priority and ``budget_ticks`` of running per ``period_ticks`` (ticks).

    ``budget_ticks`` 0 means unlimited (the period is then ignored). The
    budget is full and the first period starts now (the last tick()). A
    thread queued as ready or throttled is queued again under the new
    parameters, at the tail. Returns OK, or ERR_INVALID_ARG (nothing changed)
    when prio >= NUM_PRIORITIES, or a budget is given with a period of 0 or
    shorter than the budget. O(MAX_THREADS) (requeuing a throttled thread).
    """
    if prio >= board.NUM_PRIORITIES:
        return ERR_INVALID_ARG
    if budget_ticks != 0 and (period_ticks == 0 or budget_ticks > period_ticks):
        return ERR_INVALID_ARG
    q = u32(_threads[t].queue)
    if q == Q_READY or q == Q_THROTTLED:
        _unlink(t)
    _threads[t].prio = u8(prio)
    _threads[t].budget = budget_ticks
    _threads[t].period = period_ticks if budget_ticks != 0 else 0
    _threads[t].remaining = budget_ticks
    _threads[t].replenish_at = _now + u64(period_ticks)
    if q == Q_READY or q == Q_THROTTLED:
        _threads[t].slice_used = 0
        _enqueue(t, False)
    return OK


def make_ready(t: u32) -> None:
    """Make thread ``t`` runnable: it leaves any queue (a pending timeout is cancelled) and joins the tail.

    It starts a fresh timeslice (so make_ready of the running thread is
    yield). A thread whose budget is spent for this period waits in the
    throttled queue for its next period instead. O(MAX_THREADS) when
    throttled, else O(1).
    """
    _unlink(t)
    _threads[t].slice_used = 0
    _enqueue(t, False)


def remove(t: u32) -> None:
    """Take thread ``t`` out of whatever queue it is in: ready, throttled or timeout (none: nothing). O(1)."""
    _unlink(t)


def choose() -> u32:
    """Dequeue and return the thread to run: the head of the highest non-empty priority; NO_INDEX if none. O(1)."""
    if _ready_bits == 0:
        return NO_INDEX
    t = _ready_head[bits.highest(_ready_bits)]
    _unlink(t)
    return t


def preempt(current: u32) -> None:
    """Put the running thread ``current`` back: at the head of its priority while its timeslice lasts.

    Once the timeslice is used up it goes to the tail with a fresh one; with
    its budget spent it goes to the throttled queue. O(MAX_THREADS) when
    throttled, else O(1).
    """
    _unlink(current)
    if _threads[current].slice_used >= board.TIMESLICE_TICKS:
        _threads[current].slice_used = 0
        _enqueue(current, False)
    else:
        _enqueue(current, True)


def highest_ready() -> i32:
    """Return the highest priority with a ready thread, -1 when none is ready. O(1)."""
    if _ready_bits == 0:
        return -1
    return i32(bits.highest(_ready_bits))


@inline
def ready_above(prio: u32) -> bool:
    """True when a thread of a priority higher than ``prio`` (0 .. NUM_PRIORITIES - 1) is ready. O(1).

    Two shifts of the ready bitmap, not a bit search: the fast paths and every
    return to user mode ask this, and the answer is nearly always no.
    Shifting by ``prio`` and then by one keeps the count below 64.
    """
    return (_ready_bits >> u64(prio)) >> u64(1) != 0


def should_preempt(current: u32) -> bool:
    """True when a ready thread has a higher priority than ``current`` (any, when current is NO_INDEX). O(1).

    For the callers that make threads ready outside tick() (IPC, signals).
    """
    if current == NO_INDEX:
        return _ready_bits != 0
    return ready_above(u32(_threads[current].prio))


def tick(current: u32, now: u64) -> bool:
    """Account one timer tick at tick number ``now`` (it never goes back) to ``current`` (NO_INDEX: idle).

    Charges the running thread one tick of timeslice and budget, refills the
    budgets whose period started and makes those throttled threads ready.
    Returns True when the caller must call preempt(current) and choose():
    current's budget is spent, a higher-priority thread is ready, its
    timeslice is over and a thread of its priority is ready, or the CPU is
    idle and a thread is ready. Wake expired timeouts (pop_expired,
    make_ready) before calling it, so that the answer covers them. Cost:
    O(1) plus O(MAX_THREADS) per thread replenished (at most MAX_THREADS).
    """
    global _now
    _now = now
    if current != NO_INDEX:
        _threads[current].slice_used += 1
        if _threads[current].remaining > 0:
            _threads[current].remaining -= 1
        _refresh(current)
    while _sorted_head[0] != NO_INDEX and _threads[_sorted_head[0]].replenish_at <= now:
        t = _sorted_head[0]
        _unlink(t)
        _threads[t].slice_used = 0
        _enqueue(t, False)
    if current == NO_INDEX:
        return _ready_bits != 0
    if _out_of_budget(current):
        return True
    mine = i32(_threads[current].prio)
    top = highest_ready()
    if top > mine:
        return True
    if _threads[current].slice_used >= board.TIMESLICE_TICKS:
        if top == mine:
            return True
        # Alone at its priority: it goes on with a fresh slice, so a thread joining later
        # waits at most one slice.
        _threads[current].slice_used = 0
    return False


def deadline(now: u64, ticks: u64) -> u64:
    """Return the tick ``ticks`` after ``now``, or the last tick when that is past it (a timeout that never expires).

    A plain sum would wrap around for a huge count (a sleep of ~0 ticks) and
    give a tick in the past, which expires at once.
    """
    if ticks > ~u64(0) - now:
        return ~u64(0)
    return now + ticks


def sleep_until(t: u32, wake_tick: u64) -> None:
    """Put thread ``t`` (leaving any other queue) in the timeout queue until tick ``wake_tick``. O(MAX_THREADS).

    Threads with the same wake tick expire in the order they were put in.
    """
    _unlink(t)
    _threads[t].wake_at = wake_tick
    _insert_sorted(t, Q_TIMEOUT)


def pop_expired(now: u64) -> u32:
    """Take the next thread whose wake tick is <= ``now`` off the timeout queue; NO_INDEX when none. O(1).

    The thread is in no queue afterwards: the caller makes it ready (with the
    timeout's result) or blocks it otherwise.
    """
    t = _sorted_head[1]
    if t == NO_INDEX or _threads[t].wake_at > now:
        return NO_INDEX
    _unlink(t)
    return t


def next_wakeup() -> u64:
    """Return the earliest tick a timeout expires or a throttled thread is replenished; NEVER when none. O(1).

    For an idle loop that programs the timer rather than taking every tick.
    """
    first = NEVER
    t = _sorted_head[0]
    if t != NO_INDEX:
        first = _threads[t].replenish_at
    t = _sorted_head[1]
    if t != NO_INDEX and _threads[t].wake_at < first:
        first = _threads[t].wake_at
    return first


def priority(t: u32) -> u32:
    """Return thread ``t``'s priority. O(1)."""
    return u32(_threads[t].prio)


def budget(t: u32) -> u32:
    """Return thread ``t``'s budget in ticks per period (0: unlimited), as set_params gave it. O(1)."""
    return _threads[t].budget


def period(t: u32) -> u32:
    """Return thread ``t``'s budget period in ticks (0 with an unlimited budget), as set_params gave it. O(1)."""
    return _threads[t].period


def queue_of(t: u32) -> u32:
    """Return the queue thread ``t`` is in: Q_NONE, Q_READY, Q_THROTTLED or Q_TIMEOUT. O(1)."""
    return u32(_threads[t].queue)


def budget_left(t: u32) -> u32:
    """Return the ticks of budget thread ``t`` has left in its current period (0 when unlimited). O(1).

    Lazy replenishment means a thread that was not charged since its period
    ended reports the old value until it is charged or made ready.
    """
    return _threads[t].remaining if _threads[t].budget != 0 else 0


def check() -> u32:
    """Count violated invariants of the queues (0 when consistent). O(MAX_THREADS + NUM_PRIORITIES).

    Checked: each FIFO is a well-linked list of threads marked ready at that
    priority, and its bitmap bit is set exactly when it is non-empty (no bit
    is set above the last priority); the
    sorted queues are well-linked, marked with their queue and in key order;
    throttled threads have a budget and nothing left of it; no thread has more
    budget left than its budget; and the queues together hold exactly the
    threads marked as queued, each once (the walks are bounded, so a cycle is
    counted, not followed forever).
    """
    bad: u32 = 0
    seen: u32 = 0
    if _ready_bits >> board.NUM_PRIORITIES != 0:
        bad += 1
    for p in range(u32(board.NUM_PRIORITIES)):
        bit = _ready_bits & (u64(1) << p) != 0
        if bit != (_ready_head[p] != NO_INDEX):
            bad += 1
        prv = NO_INDEX
        t = _ready_head[p]
        steps: u32 = 0
        while t != NO_INDEX and steps <= board.MAX_THREADS:
            if t >= board.MAX_THREADS:
                bad += 1
                break
            if u32(_threads[t].queue) != Q_READY or u32(_threads[t].prio) != p or _threads[t].prev != prv:
                bad += 1
            prv = t
            t = _threads[t].next
            steps += 1
        if t != NO_INDEX or _ready_tail[p] != prv:
            bad += 1
        seen += steps
    for q in range(Q_THROTTLED, Q_TIMEOUT + 1):
        prv = NO_INDEX
        t = _sorted_head[q - Q_THROTTLED]
        steps = 0
        while t != NO_INDEX and steps <= board.MAX_THREADS:
            if t >= board.MAX_THREADS:
                bad += 1
                break
            if u32(_threads[t].queue) != q or _threads[t].prev != prv:
                bad += 1
            if prv != NO_INDEX and _key(prv, q) > _key(t, q):
                bad += 1
            if q == Q_THROTTLED and not _out_of_budget(t):
                bad += 1
            prv = t
            t = _threads[t].next
            steps += 1
        if t != NO_INDEX:
            bad += 1
        seen += steps
    queued: u32 = 0
    for t in range(u32(board.MAX_THREADS)):
        if u32(_threads[t].queue) != Q_NONE:
            queued += 1
        if _threads[t].remaining > _threads[t].budget or u32(_threads[t].queue) > Q_TIMEOUT:
            bad += 1
    if seen != queued:
        bad += 1
    return bad
