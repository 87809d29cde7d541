"""System tests of IPC and interrupts: endpoint messages and badges, queues, timeouts, destroyed endpoints, notifications, IRQ claims."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
BADGE: Final = 0xB0B
ROUNDS: Final = 100
WAIT_TICKS: Final = 100

# What the receiving worker got (shared globals of init's process).
_got: syscall.SysResult
_order: Array[usize, 4]                 # who got where first: entries appended by _note
_noted: usize = 0


def _note(who: usize) -> None:
    """Append ``who`` to _order (the threads noting are never preempted by one another mid-note)."""
    n = spawn.vload(addr(_noted))
    if n < 4:
        spawn.vstore(addr(_order[n]), who)
    spawn.vstore(addr(_noted), n + 1)


def _receive_note(a0: usize, a1: usize) -> None:
    """Thread body: receive on endpoint a0, note 1, exit."""
    res: syscall.SysResult
    syscall.ep_recv(a0, 0, addr(res))
    _note(1)
    syscall.exit(0)


def _send_note(a0: usize, a1: usize) -> None:
    """Thread body: send on endpoint a0, note 2, exit."""
    syscall.ep_send(a0, 0, 0, 0, 0, 0)
    _note(2)
    syscall.exit(0)


def _receive(a0: usize, a1: usize) -> None:
    """Thread body: receive once on endpoint a0 (timeout a1), keep the answer in _got, exit with the error."""
    syscall.exit(syscall.ep_recv(a0, a1, addr(_got)))


def _send(a0: usize, a1: usize) -> None:
    """Thread body: send label 7 and words a1, a1+1, a1+2, a1+3 on endpoint a0; exit with the error."""
    syscall.exit(syscall.ep_send(a0, 7, a1, a1 + 1, a1 + 2, a1 + 3))


def _echo(a0: usize, a1: usize) -> None:
    """Thread body: ROUNDS times receive on endpoint a0 and send w0 + 1 back on endpoint a1."""
    res: syscall.SysResult
    n: usize = 0
    while n < ROUNDS:
        if syscall.ep_recv(a0, 0, addr(res)) != abi.OK:
            syscall.exit(1)
        syscall.ep_send(a1, 0, res.v2 + 1, 0, 0, 0)
        n += 1
    syscall.exit(0)


def _wait_bits(a0: usize, a1: usize) -> None:
    """Thread body: wait on notification a0 and exit with the bits."""
    res: syscall.SysResult
    if syscall.ntfn_wait(a0, addr(res)) != abi.OK:
        syscall.exit(0xFFFF)
    syscall.exit(res.v0)


def _receive_twice(a0: usize, a1: usize) -> None:
    """Thread body: receive on endpoint a0 with a timeout of a1 ticks, then again without one; exit with the errors.

    Exit code: first error | second error << 8 (the second receive ends only
    when a second message comes or the endpoint goes).
    """
    res: syscall.SysResult
    first = syscall.ep_recv(a0, a1, addr(res))
    syscall.exit(first | syscall.ep_recv(a0, 0, addr(res)) << 8)


def _make(kind: usize) -> usize:
    """Create an endpoint or notification owned by init; return its slot (NONE: test failed)."""
    s = spawn.take()
    if s == spawn.NONE:
        return spawn.NONE
    if not harness.expect_eq(syscall.proc_create(SELF, kind, s, 0), abi.OK, "create"):
        return spawn.NONE
    return s


def _mint(slot: usize, rights: usize, badge: usize) -> usize:
    """Mint ``slot`` with ``rights`` and ``badge`` into a new slot; return it."""
    s = spawn.take()
    harness.expect_eq(syscall.cap_mint(slot, s, rights, badge), abi.OK, "mint")
    return s


def send_to_waiting_receiver() -> None:
    """A receiver blocked first gets the label, four words and the sender capability's badge."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    badged = _mint(ep, abi.RIGHT_WRITE, BADGE)
    t = spawn.start(addr(_receive), ep, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(1)        # the receiver blocks
    harness.expect_eq(syscall.ep_send(badged, 0x1AB, 10, 20, 30, 40), abi.OK, "send")
    spawn.expect_exit(t, abi.OK, "receive")
    harness.expect_eq(_got.v0, BADGE, "badge")
    harness.expect_eq(_got.v1, 0x1AB, "label")
    harness.expect_eq(_got.v2, 10, "w0")
    harness.expect_eq(_got.v3, 20, "w1")
    harness.expect_eq(_got.v4, 30, "w2")
    harness.expect_eq(_got.v5, 40, "w3")


def sender_blocks_until_received() -> None:
    """A sender without a receiver blocks (BLOCKED) until one comes; the receiver then gets its message at once."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    t = spawn.start(addr(_send), ep, 500, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(2)
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "sender state")
    if harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.OK, "receive"):
        harness.expect_eq(res.v0, 0, "badge of an unbadged capability")
        harness.expect_eq(res.v1, 7, "label")
        harness.expect_eq(res.v2, 500, "w0")
        harness.expect_eq(res.v5, 503, "w3")
    spawn.expect_exit(t, abi.OK, "sender")


def senders_queue_in_order() -> None:
    """Blocked senders are received first in, first out, each with its own badge."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    i: usize = 1
    while i <= 3:
        spawn.start(addr(_send), _mint(ep, abi.RIGHT_WRITE, i), i * 100, spawn.LOW)
        i += 1
    syscall.sleep(2)        # all three block, in the order they started
    res: syscall.SysResult
    i = 1
    while i <= 3:
        if harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.OK, "receive"):
            harness.expect_eq(res.v0, i, "badge")
            harness.expect_eq(res.v2, i * 100, "w0")
        i += 1
    harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "a fourth message")


def receive_poll_and_timeout() -> None:
    """Receiving with NO_WAIT on an empty endpoint is ERR_WOULD_BLOCK; with a timeout, ERR_TIMEOUT after it."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "poll")
    harness.expect_eq(syscall.ep_recv(ep, 3, addr(res)), abi.ERR_TIMEOUT, "timeout in init")
    t = spawn.start(addr(_receive), ep, 2, spawn.LOW)
    if t != spawn.NONE:
        spawn.expect_exit(t, abi.ERR_TIMEOUT, "timeout in a thread")


def endless_timeout() -> None:
    """A receive timeout of the largest tick counts lasts (its expiry tick must not wrap around to the past)."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    t = spawn.start(addr(_receive), ep, ~usize(0), spawn.LOW)
    u = spawn.start(addr(_receive), ep, ~usize(0) - 1000, spawn.LOW)
    if t == spawn.NONE or u == spawn.NONE:
        return
    syscall.sleep(3)
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "receiver with a timeout of ~0")
    syscall.thread_state(u, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "receiver with a timeout of ~0 - 1000")


def _handoff_order(receiver_prio: usize, sender_prio: usize) -> None:
    """Run a receiver and a sender at the given priorities (init blocked) and check who went on first."""
    global _noted
    _noted = 0
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    r = spawn.start(addr(_receive_note), ep, 0, receiver_prio)
    s = spawn.start(addr(_send_note), ep, 0, sender_prio)
    if r == spawn.NONE or s == spawn.NONE:
        return
    spawn.wait(r, 100)
    spawn.wait(s, 100)
    if harness.expect_eq(spawn.vload(addr(_noted)), 2, "notes"):
        first: usize = 1 if receiver_prio > sender_prio else 2
        harness.expect_eq(spawn.vload(addr(_order[0])), first, "first to go on")


def handoff_by_priority() -> None:
    """A message to a higher-priority receiver switches to it at once; to a lower one, the sender goes on."""
    _handoff_order(20, 10)
    spawn.finish()
    _handoff_order(10, 20)


def stopped_receiver_takes_nothing() -> None:
    """A receiver stopped while blocked leaves the queue: a later message waits for someone else."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    r = spawn.start(addr(_receive), ep, 0, spawn.LOW)
    if r == spawn.NONE:
        return
    syscall.sleep(2)
    harness.expect_eq(syscall.thread_stop(r), abi.OK, "stop the receiver")
    s = spawn.start(addr(_send), ep, 900, spawn.LOW)
    syscall.sleep(2)
    res: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.OK, "the message is still queued"):
        harness.expect_eq(res.v2, 900, "w0")
    spawn.expect_exit(s, abi.OK, "sender")
    syscall.thread_state(r, addr(res))
    harness.expect_eq(res.v0, abi.STATE_STOPPED, "receiver")


def one_waiter_per_signal() -> None:
    """A signal wakes the first waiter only, with every pending bit; the next signal wakes the second."""
    n = _make(abi.KIND_NOTIFICATION)
    if n == spawn.NONE:
        return
    a = spawn.start(addr(_wait_bits), n, 0, spawn.LOW)
    b = spawn.start(addr(_wait_bits), n, 0, spawn.LOW)
    if a == spawn.NONE or b == spawn.NONE:
        return
    syscall.sleep(2)
    syscall.ntfn_signal(n, 0x11)
    spawn.expect_exit(a, 0x11, "first waiter")
    res: syscall.SysResult
    syscall.thread_state(b, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "second waiter")
    syscall.ntfn_signal(n, 0x2)
    spawn.expect_exit(b, 0x2, "second waiter")


def answered_timeout_is_cancelled() -> None:
    """A receive answered before its timeout leaves no timeout behind to end the thread's next, untimed receive."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    t = spawn.start(addr(_receive_twice), ep, 5, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(1)
    harness.expect_eq(syscall.ep_send(ep, 0, 0, 0, 0, 0), abi.OK, "send")
    syscall.sleep(10)               # well past the first receive's timeout
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "second receive")
    harness.expect_eq(syscall.ep_send(ep, 0, 0, 0, 0, 0), abi.OK, "second send")
    spawn.expect_exit(t, abi.OK | abi.OK << 8, "both receives")


def destroyed_sender_withdraws_message() -> None:
    """A blocked sender destroyed before anyone receives takes its message with it."""
    ep = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE:
        return
    s = spawn.start(addr(_send), ep, 1, spawn.LOW)
    if s == spawn.NONE:
        return
    syscall.sleep(2)
    harness.expect_eq(syscall.cap_destroy(s), abi.OK, "destroy the sender")
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "message left behind")


def stopped_waiter_takes_no_bits() -> None:
    """A notification waiter stopped while blocked leaves the bits of a later signal pending."""
    n = _make(abi.KIND_NOTIFICATION)
    if n == spawn.NONE:
        return
    t = spawn.start(addr(_wait_bits), n, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(2)
    harness.expect_eq(syscall.thread_stop(t), abi.OK, "stop the waiter")
    syscall.ntfn_signal(n, 0x40)
    res: syscall.SysResult
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 0x40, "pending bits")


def ping_pong() -> None:
    """A hundred request/reply rounds between init and a thread: every reply answers its own request."""
    req = _make(abi.KIND_ENDPOINT)
    rep = _make(abi.KIND_ENDPOINT)
    if req == spawn.NONE or rep == spawn.NONE:
        return
    t = spawn.start(addr(_echo), req, rep, spawn.LOW)
    if t == spawn.NONE:
        return
    res: syscall.SysResult
    n: usize = 0
    while n < ROUNDS:
        if syscall.ep_send(req, 0, n * 3, 0, 0, 0) != abi.OK or syscall.ep_recv(rep, WAIT_TICKS, addr(res)) != abi.OK:
            harness.fail("round %u failed", n)
            return
        if res.v2 != n * 3 + 1:
            harness.fail("round %u: reply %u", n, res.v2)
            return
        n += 1
    spawn.expect_exit(t, 0, "echo thread")


def destroyed_endpoint_wakes_waiters() -> None:
    """Destroying an endpoint ends a blocked send and a blocked receive with ERR_STALE."""
    ep = _make(abi.KIND_ENDPOINT)
    other = _make(abi.KIND_ENDPOINT)
    if ep == spawn.NONE or other == spawn.NONE:
        return
    s = spawn.start(addr(_send), ep, 0, spawn.LOW)
    r = spawn.start(addr(_receive), other, 0, spawn.LOW)
    if s == spawn.NONE or r == spawn.NONE:
        return
    syscall.sleep(2)
    harness.expect_eq(syscall.cap_destroy(ep), abi.OK, "destroy the sender's endpoint")
    harness.expect_eq(syscall.cap_destroy(other), abi.OK, "destroy the receiver's endpoint")
    spawn.expect_exit(s, abi.ERR_STALE, "blocked sender")
    spawn.expect_exit(r, abi.ERR_STALE, "blocked receiver")


def notification_bits() -> None:
    """Signals OR their bits and the capability's badge; poll takes them all and clears; an empty poll gives 0."""
    n = _make(abi.KIND_NOTIFICATION)
    if n == spawn.NONE:
        return
    badged = _mint(n, abi.RIGHT_WRITE, 0x100)
    res: syscall.SysResult
    if harness.expect_eq(syscall.ntfn_poll(n, addr(res)), abi.OK, "empty poll"):
        harness.expect_eq(res.v0, 0, "bits of an empty poll")
    syscall.ntfn_signal(n, 0x1)
    syscall.ntfn_signal(n, 0x4)
    syscall.ntfn_signal(badged, 0x2)
    if harness.expect_eq(syscall.ntfn_poll(n, addr(res)), abi.OK, "poll"):
        harness.expect_eq(res.v0, 0x107, "bits")
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 0, "bits after the poll")
    syscall.ntfn_signal(badged, 0)
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 0x100, "a badged signal of no bits")


def notification_wakes_waiter() -> None:
    """A thread waiting on a notification sleeps until a signal, then gets the bits; pending bits return at once."""
    n = _make(abi.KIND_NOTIFICATION)
    if n == spawn.NONE:
        return
    t = spawn.start(addr(_wait_bits), n, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(3)
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "waiter state")
    syscall.ntfn_signal(n, 0x28)
    spawn.expect_exit(t, 0x28, "bits the waiter got")
    syscall.ntfn_signal(n, 0x3)
    if harness.expect_eq(syscall.ntfn_wait(n, addr(res)), abi.OK, "wait with bits pending"):
        harness.expect_eq(res.v0, 0x3, "pending bits")


def irq_claims() -> None:
    """IRQ lines are claimed once (ERR_BAD_STATE twice), in 1..1023; bind needs a notification and bits; destroy frees the line."""
    a = spawn.take()
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, a), abi.OK, "claim the UART")
    res: syscall.SysResult
    if harness.expect_eq(syscall.cap_identify(a, addr(res)), abi.OK, "identify"):
        harness.expect_eq(res.v0, abi.KIND_IRQ, "kind")
    b = spawn.take()
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, b), abi.ERR_BAD_STATE,
                      "claim twice")
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, 0, b), abi.ERR_INVALID_ARG, "line 0")
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, 1024, b), abi.ERR_INVALID_ARG, "line 1024")
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, 1023, a), abi.ERR_SLOT_FULL, "full slot")
    harness.expect_eq(syscall.irq_claim(SELF, 5, b), abi.ERR_WRONG_KIND, "claim on a process")
    n = _make(abi.KIND_NOTIFICATION)
    harness.expect_eq(syscall.irq_bind(a, n, 0), abi.ERR_INVALID_ARG, "bind no bits")
    harness.expect_eq(syscall.irq_bind(a, SELF, 1), abi.ERR_WRONG_KIND, "bind to a process")
    ro = _mint(n, abi.RIGHT_READ, 0)
    harness.expect_eq(syscall.irq_bind(a, ro, 1), abi.ERR_RIGHTS, "bind to a READ-only notification")
    harness.expect_eq(syscall.irq_bind(a, n, 1), abi.OK, "bind")
    harness.expect_eq(syscall.irq_ack(a), abi.ERR_BAD_STATE, "ack with no interrupt delivered")
    harness.expect_eq(syscall.cap_destroy(a), abi.OK, "destroy")
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, spawn.take()), abi.OK,
                      "claim again")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("ipc: a waiting receiver gets label, words and badge")
    send_to_waiting_receiver()
    spawn.done()
    harness.begin("ipc: a sender blocks until received")
    sender_blocks_until_received()
    spawn.done()
    harness.begin("ipc: senders queue first in, first out")
    senders_queue_in_order()
    spawn.done()
    harness.begin("ipc: receive polls and times out")
    receive_poll_and_timeout()
    spawn.done()
    harness.begin("ipc: the longest receive timeout does not wrap")
    endless_timeout()
    spawn.done()
    harness.begin("ipc: the hand-off follows priority")
    handoff_by_priority()
    spawn.done()
    harness.begin("ipc: a stopped receiver takes nothing")
    stopped_receiver_takes_nothing()
    spawn.done()
    harness.begin("ipc: an answered receive leaves no timeout behind")
    answered_timeout_is_cancelled()
    spawn.done()
    harness.begin("ipc: a destroyed sender's message is withdrawn")
    destroyed_sender_withdraws_message()
    spawn.done()
    harness.begin("ipc: a stopped waiter takes no bits")
    stopped_waiter_takes_no_bits()
    spawn.done()
    harness.begin("ipc: one waiter per signal")
    one_waiter_per_signal()
    spawn.done()
    harness.begin("ipc: a hundred request/reply rounds")
    ping_pong()
    spawn.done()
    harness.begin("ipc: a destroyed endpoint wakes its waiters")
    destroyed_endpoint_wakes_waiters()
    spawn.done()
    harness.begin("ipc: notification bits and badges")
    notification_bits()
    spawn.done()
    harness.begin("ipc: a signal wakes the waiter")
    notification_wakes_waiter()
    spawn.done()
    harness.begin("irq: claims, binds and releases")
    irq_claims()
    spawn.done()
    harness.begin("ipc: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
