"""Endpoints and notifications: synchronous IPC with a fast path, signals, and the kernel's fault messages.

Synchronous IPC (L4 / seL4 semantics, docs/kernel.md, "IPC in four forms"): send, receive,
call, reply and reply-receive of a label and four words through an
endpoint, carrying the badge of the sender's capability and optionally one
capability (the sender's endpoint capability needs GRANT); a receive may time
out or poll. A call leaves the receiver a one-shot reply right (reply_to in
its control block, checked against the caller's generation): OP_REPLY uses
it once; if the receiver takes another call first, or dies, the waiting
caller gets an error instead of hanging. The kernel's own fault messages go
the same way on a faulting thread's behalf. Notifications are a word of bits
OR-ed by signal, taken by wait or poll.

Asynchronous short messages (OP_EP_POST) wait in the endpoint's fixed ring
(core.ring) when no receiver does; a receive takes them first. A large
payload (OP_EP_SEND_PAYLOAD, up to abi.MAX_PAYLOAD bytes) is only announced
to the receiver (its length and a word); the sender stays blocked until the
receiver accepts it into a buffer of its own, the kernel copying directly
from the sender's address space to the receiver's, or refuses it. The
kernel never stores a payload.

The fast path (fast_call, fast_reply_recv) handles a call to a waiting
receiver and a reply-receive to a waiting caller with no capability to
move, when the partner may run at once by priority: it copies the message
register to register and switches threads directly, without a scheduler
queue operation (seL4's fastpath is the model). Anything else takes the
general path, which gives the same results (OP_CONSOLE_FASTPATH turns the
fast path off so the system tests compare the two).

Thread-addressed messages (OP_THREAD_SEND, OP_THREAD_RECV) name the
receiving thread itself through a thread capability, so they carry its
versioned identity: a capability to a destroyed thread is stale (the
capability check fails with ERR_STALE before anything happens) and a message
can never reach a later thread in the same slot. The receiver takes them with
its own OP_THREAD_RECV, from any sender, in the order they came; it sees the
sender's versioned thread id where an endpoint message has its badge. A
sender that finds the receiver not waiting fails (ERR_WOULD_BLOCK) or queues
in the receiver's own sender queue (Thread.senders), as it asks; a receiver
that exits or is destroyed wakes its queued senders with ERR_STALE.

Messages are never stored by the kernel: a blocked sender's message stays in
its saved registers (arch.context) until a receiver takes it, and a fault
message is built from the thread's fault record when it is received.
Queues are FIFO, singly linked through the thread control blocks; taking the
first is O(1), removing a given thread O(MAX_THREADS).
"""

import board
from kcc.lang import *

from arch import context
from core import cap, objects, ring, sched, thread, usermem
from lib import abi

NO_THREAD: Final[u32] = thread.NO_THREAD
# A blocking result: the thread's error and results are written when it is woken.
BLOCKED: Final[u32] = 0xFFFF_FFFF


@struct
class Endpoint:
    """Threads waiting to receive, and threads (or fault messages) waiting to be received."""

    receivers: thread.Queue
    senders: thread.Queue


@struct
class Notification:
    """The pending bits and the threads waiting for some."""

    word: u64
    waiters: thread.Queue


_endpoints: Array[Endpoint, board.MAX_ENDPOINTS]
_notifications: Array[Notification, board.MAX_NOTIFICATIONS]


def _queue_init(q: Ptr[thread.Queue]) -> None:
    """Make ``q`` empty."""
    q.head = NO_THREAD
    q.tail = NO_THREAD


def _push(q: Ptr[thread.Queue], t: u32, obj: u32) -> None:
    """Append thread ``t`` to ``q`` (the queue of object ``obj``). O(1)."""
    th = thread.get(t)
    th.next = NO_THREAD
    th.wait_object = obj
    if q.tail == NO_THREAD:
        q.head = t
    else:
        thread.get(q.tail).next = t
    q.tail = t


def _pop(q: Ptr[thread.Queue]) -> u32:
    """Remove and return the first thread of ``q``, NO_THREAD when empty. O(1)."""
    t = q.head
    if t == NO_THREAD:
        return NO_THREAD
    q.head = thread.get(t).next
    if q.head == NO_THREAD:
        q.tail = NO_THREAD
    thread.get(t).next = NO_THREAD
    return t


def _unlink(q: Ptr[thread.Queue], t: u32) -> bool:
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
    """Make endpoint ``ep`` (a fresh pool slot) empty, its ring too."""
    _queue_init(addr(_endpoints[ep].receivers))
    _queue_init(addr(_endpoints[ep].senders))
    ring.reset(ep)


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
        sched.sleep_until(t, sched.deadline(now, u64(timeout)))


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


_fastpath: bool = True


def set_fastpath(enabled: bool) -> None:
    """Use the IPC fast path (the default) or force every call through the general path."""
    global _fastpath
    _fastpath = enabled


def _transfer_cap(sender: u32, receiver: u32) -> bool:
    """Copy the capability the sender named (its argument 5) into the receiver's receive slot.

    The sender's GRANT right was checked when it sent. True when a capability
    arrived; False when none was sent, the receiver gave no free slot, or the
    sender's slot no longer holds a live capability (the message still goes).
    """
    slot = context.syscall_arg(sender, 5)
    dst = thread.get(receiver).recv_slot
    if slot >= usize(board.CAP_SLOTS) or dst == NO_THREAD:
        return False
    return cap.copy(thread.process_of(sender), u32(slot), thread.process_of(receiver), dst) == abi.OK


def _deliver_message(receiver: u32, sender: u32, with_cap: bool) -> None:
    """Copy sender's label and four words (its arguments 0..4), its badge and maybe a capability to receiver."""
    label = context.syscall_arg(sender, 0) & abi.LABEL_MASK
    if with_cap and _transfer_cap(sender, receiver):
        label |= abi.MSG_CAP
    context.set_result(receiver, 0, usize(thread.get(sender).send_badge))
    context.set_result(receiver, 1, label)
    i: u32 = 1
    while i < 5:
        context.set_result(receiver, 1 + i, context.syscall_arg(sender, i))
        i += 1


def _waiting(t: u32, gen: u32, wait: u8) -> bool:
    """True when thread ``t`` is still the one of generation ``gen`` and BLOCKED waiting for ``wait``."""
    if t == NO_THREAD or objects.generation(abi.KIND_THREAD, t) != gen:
        return False
    return thread.get(t).state == abi.STATE_BLOCKED and thread.get(t).wait == wait


def _drop_reply(t: u32, error: u32) -> None:
    """Give up thread ``t``'s reply right: a caller still waiting for that reply gets ``error``."""
    th = thread.get(t)
    c = th.reply_to
    th.reply_to = NO_THREAD
    if _waiting(c, th.reply_gen, thread.WAIT_REPLY):
        _wake(c, error)


def _drop_payload(t: u32, error: u32) -> None:
    """Give up the payload announced to thread ``t``: its sender, if still waiting, gets ``error``."""
    th = thread.get(t)
    s = th.payload_from
    th.payload_from = NO_THREAD
    if _waiting(s, th.payload_gen, thread.WAIT_ACCEPT):
        _wake(s, error)


def _announce_payload(receiver: u32, sender: u32) -> None:
    """Tell ``receiver`` about sender's payload (badge, label | MSG_PAYLOAD, length, w0); the sender waits for it."""
    _drop_payload(receiver, abi.ERR_REFUSED)
    context.set_result(receiver, 0, usize(thread.get(sender).send_badge))
    context.set_result(receiver, 1, (context.syscall_arg(sender, 0) & abi.LABEL_MASK) | abi.MSG_PAYLOAD)
    context.set_result(receiver, 2, context.syscall_arg(sender, 2))
    context.set_result(receiver, 3, context.syscall_arg(sender, 3))
    context.set_result(receiver, 4, 0)
    context.set_result(receiver, 5, 0)
    r = thread.get(receiver)
    r.payload_from = sender
    r.payload_gen = objects.generation(abi.KIND_THREAD, sender)
    s = thread.get(sender)
    s.wait = thread.WAIT_ACCEPT
    s.wait_object = NO_THREAD


def _accept_call(receiver: u32, caller: u32) -> None:
    """The call of ``caller`` was delivered to ``receiver``: the caller now waits for the one-shot reply."""
    _drop_reply(receiver, abi.ERR_BAD_STATE)
    r = thread.get(receiver)
    r.reply_to = caller
    r.reply_gen = objects.generation(abi.KIND_THREAD, caller)
    c = thread.get(caller)
    c.wait = thread.WAIT_REPLY
    c.wait_object = NO_THREAD


def receive(t: u32, ep: u32, timeout: usize, dst_slot: u32, now: u64) -> u32:
    """OP_EP_RECV by thread ``t`` on endpoint ``ep``: take the first message or block.

    ``timeout``: 0 waits forever, abi.NO_WAIT polls, else ticks.
    ``dst_slot``: where a transferred capability goes (NO_THREAD: nowhere).
    Returns abi.OK (results written), abi.ERR_WOULD_BLOCK (poll, nothing
    queued) or BLOCKED (woken later with OK by a sender, or ERR_TIMEOUT).
    """
    e = addr(_endpoints[ep])
    thread.get(t).recv_slot = dst_slot
    if ring.count(ep) != 0:
        ring.pop(ep, t)
        return abi.OK
    s = _pop(addr(e.senders))
    if s != NO_THREAD:
        sth = thread.get(s)
        if sth.wait == thread.WAIT_PAYLOAD:
            _announce_payload(t, s)
        elif sth.wait == thread.WAIT_FAULT:
            # The faulted thread stays FAULTED until its handler resumes or destroys it.
            sth.wait = thread.WAIT_NONE
            sth.wait_object = NO_THREAD
            _deliver_fault(t, s)
        elif sth.wait == thread.WAIT_CALL:
            _deliver_message(t, s, True)
            _accept_call(t, s)
        else:
            _deliver_message(t, s, True)
            _wake(s, abi.OK)
        return abi.OK
    if timeout == abi.NO_WAIT:
        return abi.ERR_WOULD_BLOCK
    _block(t, thread.WAIT_RECV, timeout, now)
    _push(addr(e.receivers), t, ep)
    return BLOCKED


def send(t: u32, ep: u32, badge: u64, is_call: bool) -> u32:
    """OP_EP_SEND or OP_EP_CALL (``is_call``) by thread ``t`` on endpoint ``ep`` through a capability with ``badge``.

    The message is t's arguments 0..4 (label, w0..w3), argument 5 the slot of
    a capability to transfer or abi.NO_CAP. A waiting receiver gets it at
    once; otherwise ``t`` queues until one does. A send then returns abi.OK
    (or BLOCKED while queued); a call always blocks (BLOCKED) until the reply.
    """
    e = addr(_endpoints[ep])
    r = _pop(addr(e.receivers))
    thread.get(t).send_badge = badge
    if r != NO_THREAD:
        _deliver_message(r, t, True)
        _wake(r, abi.OK)
        if not is_call:
            return abi.OK
        _block(t, thread.WAIT_REPLY, 0, 0)
        _accept_call(r, t)
        return BLOCKED
    _block(t, thread.WAIT_CALL if is_call else thread.WAIT_SEND, 0, 0)
    _push(addr(e.senders), t, ep)
    return BLOCKED


def post(t: u32, ep: u32, badge: u64, block: bool) -> u32:
    """OP_EP_POST by thread ``t``: a waiting receiver gets the message now, else it is queued in the ring.

    With the ring full the post fails with abi.ERR_WOULD_BLOCK, or, when
    ``block``, waits like a send until a receiver takes it (BLOCKED). O(1).
    """
    e = addr(_endpoints[ep])
    r = _pop(addr(e.receivers))
    thread.get(t).send_badge = badge
    if r != NO_THREAD:
        _deliver_message(r, t, False)
        _wake(r, abi.OK)
        return abi.OK
    if not ring.full(ep):
        ring.push(ep, t, badge, context.syscall_arg(t, 0) & abi.LABEL_MASK)
        return abi.OK
    if not block:
        return abi.ERR_WOULD_BLOCK
    _block(t, thread.WAIT_SEND, 0, 0)
    _push(addr(e.senders), t, ep)
    return BLOCKED


def send_payload(t: u32, ep: u32, badge: u64) -> u32:
    """OP_EP_SEND_PAYLOAD by thread ``t`` (label, pointer, length, w0, all checked by the caller): announce it.

    A waiting receiver learns of it now, otherwise the first to receive does;
    either way ``t`` stays BLOCKED until accept_payload or refuse_payload.
    """
    e = addr(_endpoints[ep])
    thread.get(t).send_badge = badge
    _block(t, thread.WAIT_PAYLOAD, 0, 0)
    r = _pop(addr(e.receivers))
    if r != NO_THREAD:
        _announce_payload(r, t)
        _wake(r, abi.OK)
        return BLOCKED
    _push(addr(e.senders), t, ep)
    return BLOCKED


def _payload_sender(t: u32) -> u32:
    """Return the sender whose payload ``t`` may still accept (live and waiting), else NO_THREAD."""
    th = thread.get(t)
    if not _waiting(th.payload_from, th.payload_gen, thread.WAIT_ACCEPT):
        return NO_THREAD
    return th.payload_from


def accept_payload(t: u32, buffer: usize, capacity: usize) -> u32:
    """OP_ACCEPT by thread ``t``: copy the announced payload (up to ``capacity`` bytes) into ``buffer``.

    The copy goes straight from the sender's address space to t's
    (core.usermem.copy_between), at most abi.MAX_PAYLOAD bytes. Results: t's
    result 0 and the sender's are the bytes copied; the sender wakes with
    OK. Errors: ERR_BAD_STATE (nothing announced, or the sender is gone),
    ERR_BAD_ADDRESS (t's buffer: the payload stays announced, so t may retry
    or refuse; or the sender's memory changed since: the sender gets it too).
    """
    s = _payload_sender(t)
    if s == NO_THREAD:
        thread.get(t).payload_from = NO_THREAD
        return abi.ERR_BAD_STATE
    length = context.syscall_arg(s, 2)
    n = capacity
    if length < capacity:
        n = length
    if usermem.check(thread.process_of(t), buffer, n, True) != abi.OK:
        return abi.ERR_BAD_ADDRESS
    err = usermem.copy_between(thread.process_of(s), context.syscall_arg(s, 1), thread.process_of(t), buffer, n)
    thread.get(t).payload_from = NO_THREAD
    if err != abi.OK:
        _wake(s, err)
        return err
    context.set_result(s, 0, n)
    context.set_result(t, 0, n)
    _wake(s, abi.OK)
    return abi.OK


def refuse_payload(t: u32) -> u32:
    """OP_REFUSE by thread ``t``: its payload's sender wakes with ERR_REFUSED. ERR_BAD_STATE when none is announced."""
    if _payload_sender(t) == NO_THREAD:
        thread.get(t).payload_from = NO_THREAD
        return abi.ERR_BAD_STATE
    _drop_payload(t, abi.ERR_REFUSED)
    return abi.OK


def _deliver_reply(c: u32, t: u32) -> None:
    """Write thread ``t``'s reply (its arguments 0..4) into caller ``c``'s results: badge 0, label, w0..w3."""
    context.set_result(c, 0, 0)
    context.set_result(c, 1, context.syscall_arg(t, 0) & abi.LABEL_MASK)
    i: u32 = 1
    while i < 5:
        context.set_result(c, 1 + i, context.syscall_arg(t, i))
        i += 1


def _caller(t: u32) -> u32:
    """Return the caller thread ``t`` may still reply to (live, waiting for the reply), else NO_THREAD."""
    th = thread.get(t)
    if not _waiting(th.reply_to, th.reply_gen, thread.WAIT_REPLY):
        return NO_THREAD
    return th.reply_to


def reply(t: u32) -> u32:
    """OP_REPLY (and the first half of OP_EP_REPLY_RECV) by thread ``t``: answer its pending call once.

    Returns abi.OK, or abi.ERR_BAD_STATE when ``t`` holds no reply right or
    its caller is gone (destroyed, stopped): the reply is then dropped.
    """
    c = _caller(t)
    thread.get(t).reply_to = NO_THREAD
    if c == NO_THREAD:
        return abi.ERR_BAD_STATE
    _deliver_reply(c, t)
    _wake(c, abi.OK)
    return abi.OK


def fast_call(t: u32, ep: u32, badge: u64) -> u32:
    """The fast path of OP_EP_CALL: hand the message straight to a waiting receiver and run it.

    Taken only when the fast path is on, no capability is transferred, a
    receiver waits, and it may run now: its priority is at least the
    caller's and no ready thread's is higher. Returns the receiver, which the
    caller of this function switches to, or NO_THREAD when the general path
    must run (nothing has changed then). O(1).
    """
    e = addr(_endpoints[ep])
    r = e.receivers.head
    if not _fastpath or r == NO_THREAD or context.syscall_arg(t, 5) != abi.NO_CAP:
        return NO_THREAD
    prio = i32(sched.priority(r))
    if prio < i32(sched.priority(t)) or sched.ready_above(u32(prio)):
        return NO_THREAD
    _pop(addr(e.receivers))
    sched.remove(r)                 # a receive timeout
    thread.get(t).send_badge = badge
    _deliver_message(r, t, False)
    rt = thread.get(r)
    rt.wait = thread.WAIT_NONE
    rt.wait_object = NO_THREAD
    rt.state = abi.STATE_READY
    context.set_error(r, abi.OK)
    thread.get(t).state = abi.STATE_BLOCKED
    _accept_call(r, t)
    return r


def fast_reply_recv(t: u32, ep: u32) -> u32:
    """The fast path of OP_EP_REPLY_RECV: reply to the waiting caller, wait on ``ep``, and run the caller.

    Taken only when the fast path is on, ``t`` owes a live caller a reply,
    no message is queued on ``ep`` (the receive will block), and the caller
    may run now (no ready thread has a higher priority). Returns the caller
    to switch to, or NO_THREAD for the general path (nothing changed). O(1).
    """
    if not _fastpath:
        return NO_THREAD
    e = addr(_endpoints[ep])
    if e.senders.head != NO_THREAD or ring.count(ep) != 0:
        return NO_THREAD
    c = _caller(t)
    if c == NO_THREAD or sched.ready_above(sched.priority(c)):
        return NO_THREAD
    _deliver_reply(c, t)
    thread.get(t).reply_to = NO_THREAD
    ct = thread.get(c)
    ct.wait = thread.WAIT_NONE
    ct.state = abi.STATE_READY
    context.set_error(c, abi.OK)
    arg = context.syscall_arg(t, 5)
    thread.get(t).recv_slot = u32(arg) if arg < usize(board.CAP_SLOTS) else NO_THREAD
    _block(t, thread.WAIT_RECV, 0, 0)
    _push(addr(e.receivers), t, ep)
    return c


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
    elif w == thread.WAIT_SEND or w == thread.WAIT_FAULT or w == thread.WAIT_CALL or w == thread.WAIT_PAYLOAD:
        _unlink(addr(_endpoints[obj].senders), t)
    elif w == thread.WAIT_NTFN:
        _unlink(addr(_notifications[obj].waiters), t)
    elif w == thread.WAIT_TSEND:
        _unlink(addr(thread.get(obj).senders), t)
    sched.remove(t)
    th.wait = thread.WAIT_NONE
    th.wait_object = NO_THREAD
    if w != thread.WAIT_NONE and w != thread.WAIT_FAULT:
        context.set_error(t, usize(error))


def thread_gone(t: u32) -> None:
    """Thread ``t`` is being destroyed: its waiting caller, payload sender and thread senders get ERR_STALE."""
    _drop_reply(t, abi.ERR_STALE)
    _drop_payload(t, abi.ERR_STALE)
    thread_dead(t)


def thread_dead(t: u32) -> None:
    """Thread ``t`` will never receive again (it exited or is being destroyed): its queued senders get ERR_STALE.

    O(senders queued), at most MAX_THREADS.
    """
    _flush(addr(thread.get(t).senders))


def thread_send(t: u32, target: u32, block: bool) -> u32:
    """OP_THREAD_SEND by thread ``t`` to thread ``target``, named by a live thread capability (checked by the caller).

    The message is t's arguments 0..4 (label, already checked to fit
    abi.LABEL_MASK, and w0..w3); the receiver gets (t's versioned thread id,
    label, w0..w3). ``target`` blocked in OP_THREAD_RECV gets it now: abi.OK.
    Otherwise a ``block``ing sender queues in target's sender queue until
    target receives (BLOCKED, woken with OK, or ERR_STALE when target exits
    or is destroyed first), and a non-blocking one fails with
    ERR_WOULD_BLOCK. Errors, with nothing changed: ERR_STALE (target has
    EXITED: it is dead though its slot is not yet free), ERR_INVALID_ARG
    (``t`` is ``target``: it could never receive its own message). O(1).
    """
    if t == target:
        return abi.ERR_INVALID_ARG
    tt = thread.get(target)
    if tt.state == abi.STATE_EXITED:
        return abi.ERR_STALE
    thread.get(t).send_badge = thread_id(t)
    if tt.state == abi.STATE_BLOCKED and tt.wait == thread.WAIT_TRECV:
        _deliver_message(target, t, False)
        _wake(target, abi.OK)
        return abi.OK
    if not block:
        return abi.ERR_WOULD_BLOCK
    _block(t, thread.WAIT_TSEND, 0, 0)
    _push(addr(tt.senders), t, target)
    return BLOCKED


def thread_receive(t: u32, timeout: usize, now: u64) -> u32:
    """OP_THREAD_RECV by thread ``t``: take the first thread-addressed message sent to it, or wait for one.

    ``timeout``: 0 waits forever, abi.NO_WAIT polls, else ticks. Results:
    (sender's versioned thread id, label, w0..w3); the sender wakes with OK.
    Returns abi.OK, abi.ERR_WOULD_BLOCK (poll, nothing queued) or BLOCKED
    (woken later with OK by a sender, or ERR_TIMEOUT). O(1).
    """
    s = _pop(addr(thread.get(t).senders))
    if s != NO_THREAD:
        _deliver_message(t, s, False)
        _wake(s, abi.OK)
        return abi.OK
    if timeout == abi.NO_WAIT:
        return abi.ERR_WOULD_BLOCK
    _block(t, thread.WAIT_TRECV, timeout, now)
    thread.get(t).wait_object = NO_THREAD
    return BLOCKED


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


def _flush(q: Ptr[thread.Queue]) -> None:
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
    ring.reset(ep)


def notification_destroy(n: u32) -> None:
    """Wake everyone waiting on notification ``n`` with ERR_STALE before its slot is freed."""
    _flush(addr(_notifications[n].waiters))
