"""System tests of thread-addressed messages: OP_THREAD_SEND through a thread capability to OP_THREAD_RECV.

A message names its receiver by a thread capability, so by the thread's
versioned identity: these tests check delivery and the sender id the
receiver sees, queued senders, poll and timeout, every error (missing right,
wrong kind, bad arguments, a receiver that does not receive, a receiver that
exits or is destroyed under a waiting sender) and that a capability to a
destroyed thread whose slot went to a new thread fails with ERR_STALE and
never reaches the newcomer.
"""

from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
ME: Final = initcaps.SLOT_SELF_THREAD       # init's own thread; its worker threads share the table
C_INIT_THREAD: Final = 0                    # in a child's table: a capability to init's thread
INDEX_MASK: Final = 0xFFFF_FFFF             # the slot index part of a thread id (abi.TID_INDEX_BITS)

_got: syscall.SysResult                     # what a worker received


def _receiver(timeout: usize, unused: usize) -> None:
    """Thread body: one OP_THREAD_RECV waiting ``timeout`` ticks, the message into _got; exit with the error."""
    syscall.exit(syscall.thread_recv(timeout, addr(_got)))


def _sender(target: usize, label: usize) -> None:
    """Thread body: a blocking send of ``label`` and words label+1..label+4 to ``target``; exit with the error."""
    syscall.exit(syscall.thread_send(target, label, label + 1, label + 2, label + 3, label + 4, True))


def _sleeper(ticks: usize, unused: usize) -> None:
    """Thread body: sleep ``ticks`` without ever receiving, then exit 0."""
    syscall.sleep(ticks)
    syscall.exit(0)


def _id(thread_slot: usize) -> usize:
    """Return the versioned id of the thread in ``thread_slot`` (0 when the capability does not work)."""
    res: syscall.SysResult
    if syscall.thread_id(thread_slot, addr(res)) != abi.OK:
        return 0
    return res.v0


def send_reaches_the_receiver() -> None:
    """A thread waiting in OP_THREAD_RECV gets the label and words with the sender's versioned thread id."""
    harness.begin("tmsg: a message reaches the receiving thread with the sender's thread id")
    r = spawn.start(addr(_receiver), 0, 0, spawn.LOW)
    syscall.sleep(2)            # the receiver runs (below init) only while init sleeps, and blocks
    harness.expect_eq(syscall.thread_send(r, 0x1234, 11, 22, 33, 44, False), abi.OK, "send")
    spawn.expect_exit(r, abi.OK, "receiver")
    me: syscall.SysResult
    syscall.self_info(addr(me))
    harness.expect_eq(_got.v0, me.v0, "sender id")
    harness.expect_eq(_got.v0, _id(ME), "sender id against OP_THREAD_ID")
    harness.expect_eq(_got.v1, 0x1234, "label")
    harness.expect_eq(_got.v2, 11, "w0")
    harness.expect_eq(_got.v5, 44, "w3")
    spawn.done()


def senders_queue_until_received() -> None:
    """Blocked senders queue at their receiver in order; a receive polls or times out when none is queued."""
    harness.begin("tmsg: blocked senders queue in order; poll and timeout with none")
    res: syscall.SysResult
    harness.expect_eq(syscall.thread_recv(abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "poll with nothing sent")
    harness.expect_eq(syscall.thread_recv(2, addr(res)), abi.ERR_TIMEOUT, "receive with a timeout")
    a = spawn.start(addr(_sender), ME, 7, spawn.LOW)
    b = spawn.start(addr(_sender), ME, 9, spawn.LOW)
    syscall.sleep(2)            # both run and block sending to init
    if harness.expect_eq(syscall.thread_recv(100, addr(res)), abi.OK, "first receive"):
        harness.expect_eq(res.v0, _id(a), "first sender's id")
        harness.expect_eq(res.v1, 7, "first label")
        harness.expect_eq(res.v5, 11, "first w3")
    if harness.expect_eq(syscall.thread_recv(100, addr(res)), abi.OK, "second receive"):
        harness.expect_eq(res.v0, _id(b), "second sender's id")
        harness.expect_eq(res.v1, 9, "second label")
    spawn.expect_exit(a, abi.OK, "first sender")
    spawn.expect_exit(b, abi.OK, "second sender")
    harness.expect_eq(syscall.thread_recv(abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "nothing left")
    spawn.done()


def bad_sends_are_errors() -> None:
    """Missing WRITE, a capability of another kind, a wide label, a bad block flag, itself, nobody receiving."""
    harness.begin("tmsg: missing right, wrong kind, bad arguments and a thread not receiving are errors")
    r = spawn.thread(addr(_receiver), 0, 0, spawn.LOW)      # never started: not receiving
    ro = spawn.take()
    harness.expect_eq(syscall.cap_mint(r, ro, abi.RIGHT_READ, 0), abi.OK, "read-only copy")
    harness.expect_eq(syscall.thread_send(ro, 1, 0, 0, 0, 0, False), abi.ERR_RIGHTS, "without WRITE")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    harness.expect_eq(syscall.thread_send(ep, 1, 0, 0, 0, 0, False), abi.ERR_WRONG_KIND, "to an endpoint")
    harness.expect_eq(syscall.thread_send(r, abi.LABEL_MASK + 1, 0, 0, 0, 0, False), abi.ERR_INVALID_ARG,
                      "label too wide")
    harness.expect_eq(syscall.call(r, abi.OP_THREAD_SEND, 1, 0, 0, 0, 0, 2), abi.ERR_INVALID_ARG, "block flag 2")
    harness.expect_eq(syscall.thread_send(ME, 1, 0, 0, 0, 0, True), abi.ERR_INVALID_ARG, "to itself")
    harness.expect_eq(syscall.thread_send(r, 1, 0, 0, 0, 0, False), abi.ERR_WOULD_BLOCK, "not receiving")
    harness.expect_eq(syscall.thread_send(spawn.NONE, 1, 0, 0, 0, 0, False), abi.ERR_INVALID_SLOT, "no such slot")
    spawn.done()


def stale_capability_never_reaches_the_newcomer() -> None:
    """A thread is destroyed and its slot reused: sends through the old capability fail; the new thread gets nothing."""
    harness.begin("tmsg: a stale thread capability fails and never reaches the next thread in its slot")
    old = spawn.thread(addr(_receiver), 0, 0, spawn.LOW)
    kept = spawn.take()
    harness.expect_eq(syscall.cap_copy(old, kept), abi.OK, "keep a copy")
    old_id = _id(old)
    harness.expect_eq(syscall.cap_destroy(old), abi.OK, "destroy the thread")
    syscall.cap_delete(old)
    new = spawn.start(addr(_receiver), 20, 0, spawn.LOW)    # receives for 20 ticks
    new_id = _id(new)
    harness.expect_eq(new_id & INDEX_MASK, old_id & INDEX_MASK, "the new thread took the old one's slot")
    harness.expect(new_id != old_id and new_id != 0, "the new thread has a new id")
    syscall.sleep(2)            # the newcomer blocks in its receive
    harness.expect_eq(syscall.thread_send(kept, 5, 0, 0, 0, 0, False), abi.ERR_STALE, "send through the old capability")
    harness.expect_eq(syscall.thread_send(kept, 6, 0, 0, 0, 0, True), abi.ERR_STALE, "blocking send through it")
    spawn.expect_exit(new, abi.ERR_TIMEOUT, "the newcomer received nothing")
    spawn.done()


def dead_receiver_wakes_its_senders() -> None:
    """Senders waiting for a thread that is destroyed or exits get ERR_STALE, and so does every later send."""
    harness.begin("tmsg: senders waiting for a destroyed or exited thread get ERR_STALE")
    r = spawn.start(addr(_sleeper), 1000, 0, spawn.LOW)
    s = spawn.start(addr(_sender), r, 3, spawn.LOW)
    syscall.sleep(2)            # the sender blocks: its receiver only sleeps
    res: syscall.SysResult
    syscall.thread_state(s, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "the sender waits")
    harness.expect_eq(syscall.cap_destroy(r), abi.OK, "destroy the receiver")
    spawn.expect_exit(s, abi.ERR_STALE, "sender to a destroyed thread")
    harness.expect_eq(syscall.thread_send(r, 1, 0, 0, 0, 0, True), abi.ERR_STALE, "send to a destroyed thread")
    r2 = spawn.start(addr(_sleeper), 4, 0, spawn.LOW)
    s2 = spawn.start(addr(_sender), r2, 4, spawn.LOW)
    spawn.expect_exit(s2, abi.ERR_STALE, "sender to a thread that exited")
    spawn.expect_exit(r2, 0, "the receiver that exited")
    harness.expect_eq(syscall.thread_send(r2, 1, 0, 0, 0, 0, True), abi.ERR_STALE, "send to an exited thread")
    spawn.done()


def _child_ping(init_thread: usize, label: usize) -> None:
    """Child thread body: send ``label`` to init's thread, then receive the answer; exit with the answer's label.

    Exit codes besides that: 0x1000 + the send's error, 0x2000 + the receive's.
    """
    res: syscall.SysResult
    err = syscall.thread_send(init_thread, label, 1, 2, 3, 4, True)
    if err != abi.OK:
        syscall.exit(0x1000 + err)
    err = syscall.thread_recv(100, addr(res))
    if err != abi.OK:
        syscall.exit(0x2000 + err)
    syscall.exit(res.v1)


def messages_cross_processes_both_ways() -> None:
    """A child's thread messages init's; init learns its id, finds the capability with that id and answers."""
    harness.begin("tmsg: across processes the receiver learns the sender's id and answers through its capability")
    p = spawn.child(spawn.CHILD_QUOTA, False)
    w = spawn.take()
    harness.expect_eq(syscall.cap_mint(ME, w, abi.RIGHT_WRITE | abi.RIGHT_GRANT, 0), abi.OK, "send-only copy")
    harness.expect_eq(syscall.proc_give(p, w, C_INIT_THREAD), abi.OK, "give it to the child")
    t = spawn.child_thread(p, addr(_child_ping), C_INIT_THREAD, 0x77, spawn.LOW)
    syscall.thread_start(t)
    res: syscall.SysResult
    if harness.expect_eq(syscall.thread_recv(100, addr(res)), abi.OK, "receive from the child"):
        harness.expect_eq(res.v1, 0x77, "label")
        harness.expect_eq(res.v5, 4, "w3")
        harness.expect_eq(res.v0, _id(t), "the child thread's id")
        # Blocks until the child receives (it runs below init).
        harness.expect_eq(syscall.thread_send(t, 0x78, 0, 0, 0, 0, True), abi.OK, "answer")
    spawn.expect_exit(t, 0x78, "the child got the answer")
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    send_reaches_the_receiver()
    senders_queue_until_received()
    bad_sends_are_errors()
    stale_capability_never_reaches_the_newcomer()
    dead_receiver_wakes_its_senders()
    messages_cross_processes_both_ways()
    harness.begin("tmsg: kernel state is clean afterwards")
    spawn.expect_clean()
    harness.end()
