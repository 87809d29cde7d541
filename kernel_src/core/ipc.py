"""Endpoints and notifications: blocking rendezvous, signals, and the kernel's fault messages.

This is the part of IPC the kernel itself needs (docs/kernel.md, "IPC"):
a synchronous send/receive of a label and four words through an endpoint,
carrying the badge of the sender's capability, with a receive timeout or a
poll; the kernel's own fault messages sent on a faulting thread's behalf;
and notifications (a word of bits OR-ed by signal, taken by wait or poll).

Messages are never stored by the kernel: a blocked sender's message stays in
its saved registers (arch.context) until a receiver takes it, and a fault
message is built from the thread's fault record when it is received.
Queues are FIFO, singly linked through the thread control blocks; taking the
first is O(1), removing a given thread O(MAX_THREADS).
"""

import board
from kcc.lang import *

from arch import context
from core import objects, sched, thread
from lib import abi

NO_THREAD: Final[u32] = thread.NO_THREAD
# A blocking result: the thread's error and results are written when it is woken.
BLOCKED: Final[u32] = 0xFFFF_FFFF


@struct
class Queue:
    """A FIFO of threads linked through Thread.next."""

    head: u32
    tail: u32


@struct
class Endpoint:
    """Threads waiting to receive, and threads (or fault messages) waiting to be received."""

    receivers: Queue
    senders: Queue


@struct
class Notification:
    """The pending bits and the threads waiting for some."""

    word: u64
    waiters: Queue


_endpoints: Array[Endpoint, board.MAX_ENDPOINTS]
_notifications: Array[Notification, board.MAX_NOTIFICATIONS]


def _queue_init(q: Ptr[Queue]) -> None:
    """Make ``q`` empty."""
    q.head = NO_THREAD
    q.tail = NO_THREAD


def _push(q: Ptr[Queue], t: u32, obj: u32) -> None:
    """Append thread ``t`` to ``q`` (the queue of object ``obj``). O(1)."""
    th = thread.get(t)
    th.next = NO_THREAD
    th.wait_object = obj
    if q.tail == NO_THREAD:
        q.head = t
    else:
        thread.get(q.tail).next = t
    q.tail = t


def _pop(q: Ptr[Queue]) -> u32:
    """Remove and return the first thread of ``q``, NO_THREAD when empty. O(1)."""
    t = q.head
    if t == NO_THREAD:
        return NO_THREAD
    q.head = thread.get(t).next
    if q.head == NO_THREAD:
        q.tail = NO_THREAD
    thread.get(t).next = NO_THREAD
    return t


def _unlink(q: Ptr[Queue], t: u32) -> bool:
    """Remove thread ``t`` from ``q``; False when it is not there. O(MAX_THREADS)."""
    prev = NO_THREAD
    cur = q.head
    while cur != NO_THREAD:
        if cur == t:
            nxt = thread.get(cur).next
            if prev == NO_THREAD:
                q.head = nxt
            else:
                thread.get(prev).next = nxt
            if q.tail == cur:
                q.tail = prev
            thread.get(cur).next = NO_THREAD
            return True
        prev = cur
        cur = thread.get(cur).next
    return False


def endpoint_init(ep: u32) -> None:
    """Make endpoint ``ep`` (a fresh pool slot) empty."""
    _queue_init(addr(_endpoints[ep].receivers))
    _queue_init(addr(_endpoints[ep].senders))


def notification_init(n: u32) -> None:
    """Make notification ``n`` (a fresh pool slot) empty with no bits pending."""
    _notifications[n].word = 0
    _queue_init(addr(_notifications[n].waiters))


def _wake(t: u32, error: u32) -> None:
    """End thread ``t``'s blocking operation with ``error`` and make it ready (its results are set already)."""
    th = thread.get(t)
    sched.remove(t)             # a pending timeout
    th.wait = thread.WAIT_NONE
    th.wait_object = NO_THREAD
    th.state = abi.STATE_READY
    context.set_error(t, usize(error))
    sched.make_ready(t)


def _block(t: u32, wait: u8, timeout: usize, now: u64) -> None:
    """Mark thread ``t`` (the caller) BLOCKED on ``wait``; a non-zero ``timeout`` in ticks arms its timeout."""
    th = thread.get(t)
    th.state = abi.STATE_BLOCKED
    th.wait = wait
    if timeout != 0:
        sched.sleep_until(t, now + u64(timeout))


def thread_id(t: u32) -> u64:
    """Return the versioned id of thread ``t``: (generation << 32) | index (abi TID_INDEX_BITS)."""
    return (u64(objects.generation(abi.KIND_THREAD, t)) << abi.TID_INDEX_BITS) | u64(t)


def _deliver_fault(receiver: u32, faulter: u32) -> None:
    """Write faulter's fault message into receiver's results (badge, LABEL_FAULT, kind, address, pc, id)."""
    f = thread.get(faulter)
    context.set_result(receiver, 0, usize(f.fault_badge))
    context.set_result(receiver, 1, abi.LABEL_FAULT)
    context.set_result(receiver, 2, usize(f.fault_kind))
    context.set_result(receiver, 3, f.fault_address)
    context.set_result(receiver, 4, f.fault_pc)
    context.set_result(receiver, 5, usize(thread_id(faulter)))


def _deliver_message(receiver: u32, sender: u32) -> None:
    """Copy sender's label and four words (its arguments 0..4) and badge into receiver's results."""
    context.set_result(receiver, 0, usize(thread.get(sender).send_badge))
    i: u32 = 0
    while i < 5:
        context.set_result(receiver, 1 + i, context.syscall_arg(sender, i))
        i += 1


def receive(t: u32, ep: u32, timeout: usize, now: u64) -> u32:
    """OP_EP_RECV by thread ``t`` on endpoint ``ep``: take the first message or block.

    ``timeout``: 0 waits forever, abi.NO_WAIT polls, else ticks. Returns
    abi.OK (results written), abi.ERR_WOULD_BLOCK (poll, nothing queued) or
    BLOCKED (woken later with OK by a sender, or ERR_TIMEOUT).
    """
    e = addr(_endpoints[ep])
    s = _pop(addr(e.senders))
    if s != NO_THREAD:
        sth = thread.get(s)
        if sth.wait == thread.WAIT_FAULT:
            # The faulted thread stays FAULTED until its handler resumes or destroys it.
            sth.wait = thread.WAIT_NONE
            sth.wait_object = NO_THREAD
            _deliver_fault(t, s)
        else:
            _deliver_message(t, s)
            _wake(s, abi.OK)
        return abi.OK
    if timeout == abi.NO_WAIT:
        return abi.ERR_WOULD_BLOCK
    _block(t, thread.WAIT_RECV, timeout, now)
    _push(addr(e.receivers), t, ep)
    return BLOCKED


def send(t: u32, ep: u32, badge: u64) -> u32:
    """OP_EP_SEND by thread ``t`` on endpoint ``ep`` through a capability with ``badge``.

    The message is t's arguments 0..4 (label, w0..w3). A waiting receiver gets
    it at once (returns abi.OK); otherwise ``t`` blocks until one does (BLOCKED).
    """
    e = addr(_endpoints[ep])
    r = _pop(addr(e.receivers))
    thread.get(t).send_badge = badge
    if r != NO_THREAD:
        _deliver_message(r, t)
        _wake(r, abi.OK)
        return abi.OK
    _block(t, thread.WAIT_SEND, 0, 0)
    _push(addr(e.senders), t, ep)
    return BLOCKED


def send_fault(t: u32) -> bool:
    """Send faulted thread ``t``'s fault message to its fault endpoint; False when it has no live one.

    ``t`` must already be FAULTED with its fault record filled in. A waiting
    receiver gets the message now; otherwise it is queued (as ``t`` itself).
    """
    th = thread.get(t)
    if th.fault_ep == NO_THREAD or not objects.is_live(abi.KIND_ENDPOINT, th.fault_ep, th.fault_ep_gen):
        return False
    e = addr(_endpoints[th.fault_ep])
    r = _pop(addr(e.receivers))
    if r != NO_THREAD:
        _deliver_fault(r, t)
        _wake(r, abi.OK)
        return True
    th.wait = thread.WAIT_FAULT
    _push(addr(e.senders), t, th.fault_ep)
    return True


def signal(n: u32, bits: u64) -> None:
    """OP_NTFN_SIGNAL: OR ``bits`` into notification ``n``; the first waiter, if any, takes them all. O(1)."""
    no = addr(_notifications[n])
    no.word |= bits
    if no.word == 0:
        return
    w = _pop(addr(no.waiters))
    if w != NO_THREAD:
        context.set_result(w, 0, usize(no.word))
        no.word = 0
        _wake(w, abi.OK)


def wait(t: u32, n: u32, block: bool, now: u64) -> u32:
    """OP_NTFN_WAIT (``block``) or OP_NTFN_POLL by thread ``t`` on notification ``n``.

    Pending bits are returned as result 0 and cleared (abi.OK). With none:
    a poll returns OK with 0, a wait blocks (BLOCKED) until a signal.
    """
    no = addr(_notifications[n])
    if no.word != 0 or not block:
        context.set_result(t, 0, usize(no.word))
        no.word = 0
        return abi.OK
    _block(t, thread.WAIT_NTFN, 0, now)
    _push(addr(no.waiters), t, n)
    return BLOCKED


def cancel(t: u32, error: u32) -> None:
    """Take thread ``t`` out of whatever IPC queue it waits in, ending a blocked call with ``error``.

    A FAULTED thread's queued fault message is withdrawn (it stays FAULTED).
    Used by stop, destroy and timeouts. O(MAX_THREADS).
    """
    th = thread.get(t)
    w = th.wait
    obj = th.wait_object
    if w == thread.WAIT_RECV:
        _unlink(addr(_endpoints[obj].receivers), t)
    elif w == thread.WAIT_SEND or w == thread.WAIT_FAULT:
        _unlink(addr(_endpoints[obj].senders), t)
    elif w == thread.WAIT_NTFN:
        _unlink(addr(_notifications[obj].waiters), t)
    sched.remove(t)
    th.wait = thread.WAIT_NONE
    th.wait_object = NO_THREAD
    if w != thread.WAIT_NONE and w != thread.WAIT_FAULT:
        context.set_error(t, usize(error))


def timed_out(t: u32) -> None:
    """Thread ``t``'s timeout expired: a sleep ends with OK, a receive with ERR_TIMEOUT; it becomes ready."""
    th = thread.get(t)
    if th.state != abi.STATE_BLOCKED:
        return
    if th.wait == thread.WAIT_SLEEP:
        th.wait = thread.WAIT_NONE
        context.set_error(t, abi.OK)
    else:
        cancel(t, abi.ERR_TIMEOUT)
    th.state = abi.STATE_READY
    sched.make_ready(t)


def _flush(q: Ptr[Queue]) -> None:
    """Wake every thread of ``q`` with ERR_STALE (their endpoint or notification is gone)."""
    t = _pop(q)
    while t != NO_THREAD:
        th = thread.get(t)
        if th.wait == thread.WAIT_FAULT:
            th.wait = thread.WAIT_NONE      # the handler is gone: the thread stays FAULTED
        else:
            _wake(t, abi.ERR_STALE)
        t = _pop(q)


def endpoint_destroy(ep: u32) -> None:
    """Wake everyone queued on endpoint ``ep`` with ERR_STALE before its slot is freed. O(MAX_THREADS)."""
    _flush(addr(_endpoints[ep].receivers))
    _flush(addr(_endpoints[ep].senders))


def notification_destroy(n: u32) -> None:
    """Wake everyone waiting on notification ``n`` with ERR_STALE before its slot is freed."""
    _flush(addr(_notifications[n].waiters))
