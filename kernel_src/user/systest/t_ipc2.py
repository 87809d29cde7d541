"""System tests of call/reply, the fast path against the general path, capability transfer, the ring and payloads."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
CONSOLE: Final = initcaps.SLOT_CONSOLE
HIGH: Final = 40                         # servers run above the test (init runs at 63, workers at 10)
ROUNDS: Final = 20
PAYLOAD_VA: Final = 0x3E_0000_0000       # the child's payload buffer
PAYLOAD_BYTES: Final = 6000              # crosses a page boundary on both sides

_got: syscall.SysResult                  # what a worker received
_buffer: Array[u8, 8192]                 # init's receive buffer for payloads


def _server(ep: usize, rounds: usize) -> None:
    """Thread body: answer ``rounds`` calls on ``ep`` with (label + 1, w0 + w1, w2 * 2, w3, badge), then exit 0."""
    msg: syscall.SysResult
    if syscall.ep_recv(ep, 0, addr(msg)) != abi.OK:
        syscall.exit(1)
    n: usize = 1
    while n < rounds:
        if syscall.ep_reply_recv(ep, msg.v1 + 1, msg.v2 + msg.v3, msg.v4 * 2, msg.v5, msg.v0, addr(msg)) != abi.OK:
            syscall.exit(2)
        n += 1
    syscall.reply(msg.v1 + 1, msg.v2 + msg.v3, msg.v4 * 2, msg.v5, msg.v0)
    syscall.exit(0)


def _calls(ep: usize, checksum: Ptr[usize]) -> bool:
    """Make ROUNDS calls to the server on ``ep`` and fold every reply word into ``checksum``; False on an error."""
    res: syscall.SysResult
    i: usize = 0
    while i < ROUNDS:
        if syscall.ep_call(ep, 100 + i, i, 3, i + 7, 9, addr(res)) != abi.OK:
            return False
        checksum[0] = checksum[0] * 31 + res.v1
        checksum[0] = checksum[0] * 31 + res.v2
        checksum[0] = checksum[0] * 31 + res.v3
        checksum[0] = checksum[0] * 31 + res.v4
        checksum[0] = checksum[0] * 31 + res.v5
        i += 1
    return True


def _round(fast: bool, checksum: Ptr[usize]) -> None:
    """One server thread, ROUNDS calls through a badged endpoint capability, with the fast path on or off."""
    ep = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0), abi.OK, "endpoint")
    badged = spawn.take()
    harness.expect_eq(syscall.cap_mint(ep, badged, abi.RIGHTS_ALL, 0x5A), abi.OK, "mint")
    harness.expect_eq(syscall.console_fastpath(CONSOLE, fast), abi.OK, "fast path switch")
    t = spawn.start(addr(_server), ep, ROUNDS, HIGH)
    harness.expect(_calls(badged, checksum), "a call failed")
    spawn.expect_exit(t, 0, "server")
    harness.expect_eq(syscall.console_fastpath(CONSOLE, True), abi.OK, "fast path back on")
    spawn.finish()


def fast_and_slow_paths_agree() -> None:
    """The same calls give the same replies (labels, words, badges) through the fast and the general path."""
    harness.begin("ipc: call/reply_recv give the same results on the fast and the general path")
    fast: usize = 0
    slow: usize = 0
    _round(True, addr(fast))
    _round(False, addr(slow))
    harness.expect(fast != 0, "no replies")
    harness.expect_eq(fast, slow, "checksum of the replies")
    harness.end()


def _one_call(ep: usize, label: usize) -> None:
    """Thread body: call ``ep`` once with ``label``; exit with the error (the reply is kept in _got)."""
    syscall.exit(syscall.ep_call(ep, label, 1, 2, 3, 4, addr(_got)))


def _hold(ep: usize, ticks: usize) -> None:
    """Thread body: receive one call on ``ep`` and never reply (sleeps ``ticks``, then exits 0)."""
    msg: syscall.SysResult
    syscall.ep_recv(ep, 0, addr(msg))
    syscall.sleep(ticks)
    syscall.exit(0)


def reply_right_is_one_shot() -> None:
    """A receiver replies once; a second reply and a reply with no call fail; a caller whose server dies gets ERR_STALE."""
    harness.begin("ipc: the reply right is one-shot and a dead server's caller gets an error")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    harness.expect_eq(syscall.reply(0, 0, 0, 0, 0), abi.ERR_BAD_STATE, "reply with no call received")
    caller = spawn.start(addr(_one_call), ep, 9, spawn.LOW)
    msg: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(ep, 100, addr(msg)), abi.OK, "receive the call")
    harness.expect_eq(msg.v1, 9, "label")
    harness.expect_eq(syscall.reply(10, 20, 30, 40, 50), abi.OK, "reply")
    harness.expect_eq(syscall.reply(11, 0, 0, 0, 0), abi.ERR_BAD_STATE, "second reply")
    spawn.expect_exit(caller, abi.OK, "caller")
    harness.expect_eq(_got.v1, 10, "reply label")
    harness.expect_eq(_got.v5, 50, "reply w3")
    # A server (another thread) receives a call and is destroyed before replying.
    server = spawn.start(addr(_hold), ep, 1000, spawn.LOW)
    syscall.sleep(2)
    caller = spawn.start(addr(_one_call), ep, 5, spawn.LOW)
    syscall.sleep(2)
    harness.expect_eq(syscall.cap_destroy(server), abi.OK, "destroy the server")
    spawn.expect_exit(caller, abi.ERR_STALE, "caller of a destroyed server")
    spawn.done()


def _receive_cap(ep: usize, slot: usize) -> None:
    """Thread body: receive on ``ep`` accepting a capability into ``slot``; exit with the label result."""
    if syscall.ep_recv_cap(ep, 100, slot, addr(_got)) != abi.OK:
        syscall.exit(0)
    syscall.exit(_got.v1)


def capability_transfer_needs_grant() -> None:
    """A message carries a capability only through an endpoint capability with GRANT; it arrives with MSG_CAP."""
    harness.begin("ipc: a message carries a capability only with GRANT")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    n = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, n, 0)
    no_grant = spawn.take()
    syscall.cap_mint(ep, no_grant, abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.ep_send_cap(no_grant, 1, 0, 0, 0, 0, n), abi.ERR_RIGHTS, "send without GRANT")
    harness.expect_eq(syscall.ep_send_cap(ep, 1, 0, 0, 0, 0, board.CAP_SLOTS + 5), abi.ERR_INVALID_SLOT,
                      "bad capability slot")
    dst: usize = board.CAP_SLOTS - 1         # take() would hand this slot to the thread's stack first
    t = spawn.start(addr(_receive_cap), ep, dst, HIGH)
    harness.expect_eq(syscall.ep_send_cap(ep, 3, 0, 0, 0, 0, n), abi.OK, "send with GRANT")
    spawn.expect_exit(t, abi.MSG_CAP | 3, "label with MSG_CAP")
    res: syscall.SysResult
    if harness.expect_eq(syscall.cap_identify(dst, addr(res)), abi.OK, "the capability arrived"):
        harness.expect_eq(res.v0, abi.KIND_NOTIFICATION, "its kind")
    spawn.done()


def ring_queues_posts_in_order() -> None:
    """Posts queue in the endpoint's ring (EP_RING_SLOTS) in FIFO order; a full ring refuses a non-blocking post."""
    harness.begin("ipc: the ring queues posts in order and refuses when full")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    badged = spawn.take()
    syscall.cap_mint(ep, badged, abi.RIGHTS_ALL, 0x77)
    i: usize = 0
    while i < board.EP_RING_SLOTS:
        harness.expect_eq(syscall.ep_post(badged, 50 + i, i, i * 2, i * 3, i * 4, False), abi.OK, "post")
        i += 1
    harness.expect_eq(syscall.ep_post(badged, 99, 0, 0, 0, 0, False), abi.ERR_WOULD_BLOCK, "post to a full ring")
    res: syscall.SysResult
    i = 0
    while i < board.EP_RING_SLOTS:
        if harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.OK, "receive a posted message"):
            harness.expect_eq(res.v1, 50 + i, "order")
            harness.expect_eq(res.v0, 0x77, "badge")
            harness.expect_eq(res.v5, i * 4, "w3")
        i += 1
    harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "ring empty again")
    spawn.done()


def _post_blocking(ep: usize, count: usize) -> None:
    """Thread body: post ``count`` messages labelled 0.. with blocking on a full ring; exit 0 when all went."""
    i: usize = 0
    while i < count:
        if syscall.ep_post(ep, i, 0, 0, 0, 0, True) != abi.OK:
            syscall.exit(1)
        i += 1
    syscall.exit(0)


def blocking_post_waits_for_room() -> None:
    """A blocking post to a full ring waits until a receive makes room, and nothing is lost or reordered."""
    harness.begin("ipc: a blocking post waits for room and keeps the order")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    total: usize = board.EP_RING_SLOTS + 3
    t = spawn.start(addr(_post_blocking), ep, total, HIGH)
    syscall.sleep(2)                         # the poster (below init's priority) runs until the ring is full
    res: syscall.SysResult
    harness.expect_eq(syscall.thread_state(t, addr(res)), abi.OK, "state")
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "poster blocked on the full ring")
    i: usize = 0
    while i < total:
        if harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "receive"):
            harness.expect_eq(res.v1, i, "order")
        i += 1
    spawn.expect_exit(t, 0, "poster")
    spawn.done()


def _payload_sender(ep: usize, length: usize) -> None:
    """Child thread body: fill PAYLOAD_VA with a pattern and offer ``length`` bytes; exit with the bytes taken."""
    p = cast(Ptr[u8], PAYLOAD_VA)
    i: usize = 0
    while i < length:
        p[i] = u8((i * 7 + 3) & 0xFF)
        i += 1
    res: syscall.SysResult
    err = syscall.ep_send_payload(ep, 42, p, length, 0xABC, addr(res))
    if err != abi.OK:
        syscall.exit(0x1000 + err)
    syscall.exit(res.v0)


def payload_child(ep_slot: usize, length: usize) -> usize:
    """A child process with a payload buffer and the endpoint in its slot 0; return its thread's slot."""
    p = spawn.child(32, False)
    buf = spawn.take()
    syscall.proc_create(p, abi.KIND_FRAME, buf, 2)
    harness.expect_eq(syscall.proc_map(p, buf, PAYLOAD_VA, abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK, "child buffer")
    harness.expect_eq(syscall.proc_give(p, ep_slot, 0), abi.OK, "give the endpoint")
    t = spawn.child_thread(p, addr(_payload_sender), 0, length, spawn.LOW)
    syscall.thread_start(t)
    return t


def payload_is_copied_between_address_spaces() -> None:
    """A 6000-byte payload from a child lands intact in init's buffer; the sender learns the bytes taken."""
    harness.begin("ipc: a payload is copied straight between address spaces")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = payload_child(ep, PAYLOAD_BYTES)
    res: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "announcement"):
        harness.expect_eq(res.v1, abi.MSG_PAYLOAD | 42, "label with MSG_PAYLOAD")
        harness.expect_eq(res.v2, PAYLOAD_BYTES, "length")
        harness.expect_eq(res.v3, 0xABC, "word")
        harness.expect_eq(syscall.accept(cast(Ptr[u8], board.USER_END), 16, addr(res)), abi.ERR_BAD_ADDRESS,
                          "accept into a bad buffer")
        harness.expect_eq(syscall.accept(addr(_buffer[0]), 8192, addr(res)), abi.OK, "accept")
        harness.expect_eq(res.v0, PAYLOAD_BYTES, "bytes copied")
        bad: usize = 0
        i: usize = 0
        while i < PAYLOAD_BYTES:
            if _buffer[i] != u8((i * 7 + 3) & 0xFF):
                bad += 1
            i += 1
        harness.expect_eq(bad, 0, "bytes that differ")
    spawn.expect_exit(t, PAYLOAD_BYTES, "sender's count")
    harness.expect_eq(syscall.accept(addr(_buffer[0]), 16, addr(res)), abi.ERR_BAD_STATE, "accept twice")
    spawn.done()


def refused_and_truncated_payloads() -> None:
    """A refused payload's sender gets ERR_REFUSED; a smaller buffer takes a prefix; bad offers fail at once."""
    harness.begin("ipc: payloads can be refused or truncated, and bad offers fail")
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_send_payload(ep, 1, addr(_buffer[0]), abi.MAX_PAYLOAD + 1, 0, addr(res)),
                      abi.ERR_INVALID_ARG, "too large")
    harness.expect_eq(syscall.ep_send_payload(ep, 1, cast(Ptr[u8], 0x8020_0000), 64, 0, addr(res)),
                      abi.ERR_BAD_ADDRESS, "kernel pointer")
    harness.expect_eq(syscall.refuse(), abi.ERR_BAD_STATE, "refuse with nothing announced")
    t = payload_child(ep, 300)
    harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "announcement")
    harness.expect_eq(syscall.refuse(), abi.OK, "refuse")
    spawn.expect_exit(t, 0x1000 + abi.ERR_REFUSED, "sender of a refused payload")
    spawn.finish()
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = payload_child(ep, 300)
    harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "second announcement")
    harness.expect_eq(syscall.accept(addr(_buffer[0]), 100, addr(res)), abi.OK, "accept a prefix")
    harness.expect_eq(res.v0, 100, "bytes copied")
    harness.expect_eq(usize(_buffer[99]), (99 * 7 + 3) & 0xFF, "last byte of the prefix")
    spawn.expect_exit(t, 100, "sender's count")
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    fast_and_slow_paths_agree()
    reply_right_is_one_shot()
    capability_transfer_needs_grant()
    ring_queues_posts_in_order()
    blocking_post_waits_for_room()
    payload_is_copied_between_address_spaces()
    refused_and_truncated_payloads()
    harness.begin("ipc: kernel state is clean after the call and payload tests")
    spawn.expect_clean()
    harness.end()
