"""System tests of thread and process life cycles: states, exit codes, stop and resume, scheduling parameters, quotas on create and destroy."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS

# Written by the worker threads (which share init's globals), read by the tests.
_seen_id: usize = 0
_seen_prio: usize = 0
_seen_raise: usize = 0
_seen_lower: usize = 0
_laps: usize = 0


def _exit_with(a0: usize, a1: usize) -> None:
    """Thread body: exit with code a0 + a1 (runs in a child without data too: no globals)."""
    syscall.exit(a0 + a1)


def _sleep_then_exit(a0: usize, a1: usize) -> None:
    """Thread body: sleep a0 ticks, then exit with code a1."""
    syscall.sleep(a0)
    syscall.exit(a1)


def _report_self(a0: usize, a1: usize) -> None:
    """Thread body: record OP_SELF's id and priority, then try to raise and to lower its own priority (slot a0)."""
    res: syscall.SysResult
    syscall.self_info(addr(res))
    spawn.vstore(addr(_seen_id), res.v0)
    spawn.vstore(addr(_seen_prio), res.v2)
    spawn.vstore(addr(_seen_raise), syscall.thread_set_sched(a0, res.v2 + 1, 0, 0))
    spawn.vstore(addr(_seen_lower), syscall.thread_set_sched(a0, res.v2 - 1, 0, 0))
    syscall.exit(0)


def _lap_forever(a0: usize, a1: usize) -> None:
    """Thread body: count laps, each a 1-tick sleep, for ever (it is stopped and destroyed from outside)."""
    while True:
        spawn.vstore(addr(_laps), spawn.vload(addr(_laps)) + 1)
        syscall.sleep(1)


def _destroy_self(a0: usize, a1: usize) -> None:
    """Thread body: destroy itself through its capability in slot a0; exit with the error only if that failed."""
    syscall.exit(syscall.cap_destroy(a0))


def _spin(a0: usize, a1: usize) -> None:
    """Thread body: count laps without ever blocking (it is stopped and destroyed from outside)."""
    while True:
        spawn.vstore(addr(_laps), spawn.vload(addr(_laps)) + 1)


def _receive_on(a0: usize, a1: usize) -> None:
    """Thread body (no globals): receive on endpoint slot a0, exit with the error."""
    res: syscall.SysResult
    syscall.exit(syscall.ep_recv(a0, 0, addr(res)))


def _send_on(a0: usize, a1: usize) -> None:
    """Thread body (no globals): send a1 on endpoint slot a0, exit with the error."""
    syscall.exit(syscall.ep_send(a0, 0, a1, 0, 0, 0))


def _wait_on(a0: usize, a1: usize) -> None:
    """Thread body (no globals): wait on notification slot a0, exit with the error."""
    res: syscall.SysResult
    syscall.exit(syscall.ntfn_wait(a0, addr(res)))


def _busy(a0: usize, a1: usize) -> None:
    """Thread body (no globals): spin for ever."""
    while True:
        pass


def _trap(a0: usize, a1: usize) -> None:
    """Thread body (no globals): ebreak."""
    asm("ebreak")
    syscall.exit(0)


def _exit_with_priority(a0: usize, a1: usize) -> None:
    """Thread body (no globals): exit with the priority OP_SELF reports."""
    res: syscall.SysResult
    syscall.self_info(addr(res))
    syscall.exit(res.v2)


def _expect_state(t: usize, state: usize, what: Ptr[u8]) -> None:
    """Check thread ``t``'s state."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.thread_state(t, addr(res)), abi.OK, what):
        harness.expect_eq(res.v0, state, what)


def thread_exit_code() -> None:
    """A thread's exit code is kept after OP_EXIT and read with OP_THREAD_STATE."""
    t = spawn.start(addr(_exit_with), 40, 2, spawn.LOW)
    if t == spawn.NONE:
        return
    spawn.expect_exit(t, 42, "exit code")
    # Still readable later, and another thread keeps its own code.
    u = spawn.start(addr(_exit_with), 1000, 0, spawn.LOW)
    spawn.expect_exit(u, 1000, "second thread")
    harness.expect_eq(spawn.exit_code(t), 42, "first code kept")


def thread_states() -> None:
    """INACTIVE after create, READY after start, BLOCKED while sleeping, EXITED after exit; bad transitions refused."""
    t = spawn.thread(addr(_sleep_then_exit), 3, 9, spawn.LOW)
    if t == spawn.NONE:
        return
    _expect_state(t, abi.STATE_INACTIVE, "created")
    harness.expect_eq(syscall.thread_resume(t), abi.ERR_BAD_STATE, "resume an inactive thread")
    harness.expect_eq(syscall.thread_stop(t), abi.ERR_BAD_STATE, "stop an inactive thread")
    harness.expect_eq(syscall.thread_start(t), abi.OK, "start")
    _expect_state(t, abi.STATE_READY, "started")
    harness.expect_eq(syscall.thread_start(t), abi.ERR_BAD_STATE, "start twice")
    harness.expect_eq(syscall.thread_set_regs(t, 0, 0, 0, 0), abi.ERR_BAD_STATE, "set regs when ready")
    syscall.sleep(1)            # the worker runs and goes to sleep for 3 ticks
    _expect_state(t, abi.STATE_BLOCKED, "sleeping")
    harness.expect_eq(syscall.thread_set_regs(t, 0, 0, 0, 0), abi.ERR_BAD_STATE, "set regs when blocked")
    spawn.expect_exit(t, 9, "exit")
    harness.expect_eq(syscall.thread_start(t), abi.ERR_BAD_STATE, "start an exited thread")
    harness.expect_eq(syscall.thread_resume(t), abi.ERR_BAD_STATE, "resume an exited thread")
    harness.expect_eq(syscall.thread_stop(t), abi.ERR_BAD_STATE, "stop an exited thread")
    harness.expect_eq(syscall.thread_set_regs(t, 0, 0, 0, 0), abi.ERR_BAD_STATE, "set regs when exited")


def stop_and_resume() -> None:
    """A stopped thread does not run; resumed, it goes on; SET_REGS works while it is stopped."""
    global _laps
    _laps = 0
    t = spawn.start(addr(_lap_forever), 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(3)
    harness.expect_eq(syscall.thread_stop(t), abi.OK, "stop")
    _expect_state(t, abi.STATE_STOPPED, "stopped")
    harness.expect_eq(syscall.thread_stop(t), abi.ERR_BAD_STATE, "stop twice")
    before = spawn.vload(addr(_laps))
    harness.expect(before > 0, "no lap before the stop")
    syscall.sleep(5)
    harness.expect_eq(spawn.vload(addr(_laps)), before, "laps while stopped")
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    syscall.sleep(5)
    harness.expect(spawn.vload(addr(_laps)) > before, "no lap after resume")
    # Stopped, the thread may be sent somewhere else entirely.
    harness.expect_eq(syscall.thread_stop(t), abi.OK, "stop again")
    stack = spawn.stack_top(t)
    harness.expect_eq(syscall.thread_set_regs(t, addr(_exit_with), stack, 5, 6), abi.OK, "set regs when stopped")
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume at the new pc")
    spawn.expect_exit(t, 11, "exit from the new pc")


def stop_a_ready_spinner() -> None:
    """A thread that never blocks, stopped while ready, makes no progress until resumed."""
    global _laps
    _laps = 0
    t = spawn.start(addr(_spin), 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.sleep(2)
    _expect_state(t, abi.STATE_READY, "spinning")
    harness.expect_eq(syscall.thread_stop(t), abi.OK, "stop")
    before = spawn.vload(addr(_laps))
    harness.expect(before > 0, "no lap before the stop")
    syscall.sleep(3)
    harness.expect_eq(spawn.vload(addr(_laps)), before, "laps while stopped")
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    syscall.sleep(3)
    harness.expect(spawn.vload(addr(_laps)) > before, "no lap after resume")


def thread_destroys_itself() -> None:
    """A thread destroying itself is gone at once (its capability stale); the process and init go on."""
    t = spawn.thread(0, 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_set_regs(t, addr(_destroy_self), spawn.stack_top(t), t, 0)
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(res))
    threads = res.v2
    syscall.thread_start(t)
    harness.expect_eq(spawn.wait(t, 100), spawn.NONE, "the thread is still there")
    harness.expect_eq(syscall.thread_state(t, addr(res)), abi.ERR_STALE, "its capability")
    syscall.proc_info(SELF, addr(res))
    harness.expect_eq(res.v2, threads - 1, "threads in init's process")
    # The scheduler is consistent and can still run a new thread.
    u = spawn.start(addr(_exit_with), 2, 3, spawn.LOW)
    spawn.expect_exit(u, 5, "a later thread")


def self_and_priority() -> None:
    """A thread's OP_SELF gives its own id and priority; it may lower its priority but never raise it."""
    global _seen_id, _seen_prio
    _seen_id = 0
    _seen_prio = 0
    t = spawn.thread(0, 0, 0, 17)
    if t == spawn.NONE:
        return
    # The body needs its own thread slot as its argument: set the registers now that the slot is known.
    stack = spawn.stack_top(t)
    syscall.thread_set_regs(t, addr(_report_self), stack, t, 0)
    syscall.thread_start(t)
    spawn.expect_exit(t, 0, "exit")
    res: syscall.SysResult
    syscall.thread_id(t, addr(res))
    harness.expect_eq(spawn.vload(addr(_seen_id)), res.v0, "OP_SELF id")
    harness.expect_eq(spawn.vload(addr(_seen_prio)), 17, "OP_SELF priority")
    harness.expect_eq(spawn.vload(addr(_seen_raise)), abi.ERR_RIGHTS, "raise own priority")
    harness.expect_eq(spawn.vload(addr(_seen_lower)), abi.OK, "lower own priority")
    me: syscall.SysResult
    syscall.self_info(addr(me))
    harness.expect(me.v0 != res.v0, "init and the thread share an id")
    harness.expect_eq(me.v2, board.NUM_PRIORITIES - 1, "init's priority")


def new_thread_has_creators_priority() -> None:
    """A thread made by OP_PROC_CREATE and started without OP_THREAD_SET_SCHED runs at its creator's priority."""
    stack = spawn.frame(spawn.STACK_PAGES)
    t = spawn.take()
    if stack == spawn.NONE or not harness.expect_eq(syscall.proc_create(SELF, abi.KIND_THREAD, t, 0), abi.OK,
                                                    "create"):
        return
    syscall.proc_map(SELF, stack, spawn.stack_top(t) - spawn.STACK_PAGES * spawn.PAGE,
                     abi.RIGHT_READ | abi.RIGHT_WRITE)
    syscall.thread_set_regs(t, addr(_exit_with_priority), spawn.stack_top(t), 0, 0)
    syscall.thread_set_fault(t, spawn.STRAY_SLOT)
    syscall.thread_start(t)
    spawn.expect_exit(t, board.NUM_PRIORITIES - 1, "priority (init's)")


def sched_arguments() -> None:
    """OP_THREAD_SET_SCHED refuses a priority past the last, a budget past its period or without one, a period past 32 bits."""
    t = spawn.thread(addr(_exit_with), 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_set_sched(t, board.NUM_PRIORITIES, 0, 0), abi.ERR_INVALID_ARG, "priority 64")
    harness.expect_eq(syscall.thread_set_sched(t, 5, 11, 10), abi.ERR_INVALID_ARG, "budget past the period")
    harness.expect_eq(syscall.thread_set_sched(t, 5, 1, 0), abi.ERR_INVALID_ARG, "budget without a period")
    harness.expect_eq(syscall.thread_set_sched(t, 5, 0, 10), abi.ERR_INVALID_ARG, "period without a budget")
    # Tick counts are 32-bit in the kernel: a longer period must be refused, not cut to its low bits.
    harness.expect_eq(syscall.thread_set_sched(t, 5, 1 << 32, 1 << 32), abi.ERR_INVALID_ARG, "period 2**32")
    harness.expect_eq(syscall.thread_set_sched(t, 5, 1, (1 << 32) + 10), abi.ERR_INVALID_ARG, "period 2**32 + 10")
    harness.expect_eq(syscall.thread_set_sched(t, 5, 0xFFFF_FFFF, 0xFFFF_FFFF), abi.OK, "period 2**32 - 1")
    harness.expect_eq(syscall.thread_set_sched(t, board.NUM_PRIORITIES - 1, 10, 10), abi.OK, "full budget")
    harness.expect_eq(syscall.thread_set_sched(t, 0, 0, 0), abi.OK, "priority 0")


def ids_are_versioned() -> None:
    """A thread made in the pool slot of a destroyed one gets another id; the old id's capability is stale."""
    t = spawn.thread(addr(_exit_with), 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    res: syscall.SysResult
    syscall.thread_id(t, addr(res))
    first = res.v0
    syscall.cap_destroy(t)
    syscall.cap_delete(t)
    u = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_THREAD, u, 0), abi.OK, "create again")
    syscall.thread_id(u, addr(res))
    # Same pool slot (the free list is last-in first-out), a new generation.
    harness.expect_eq(res.v0 & 0xFFFF_FFFF, first & 0xFFFF_FFFF, "index")
    harness.expect(res.v0 != first, "same id twice")


def child_runs_and_exits() -> None:
    """A child process running init's code (without init's data) runs its thread to its exit code."""
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return
    t = spawn.child_thread(p, addr(_exit_with), 7, 70, spawn.LOW)
    if t == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_start(t), abi.OK, "start")
    spawn.expect_exit(t, 77, "exit code")
    res: syscall.SysResult
    if harness.expect_eq(syscall.proc_info(p, addr(res)), abi.OK, "info"):
        harness.expect_eq(res.v2, 1, "threads (an exited one counts until destroyed)")


def process_quota_accounting() -> None:
    """A child's quota comes out of init's and returns on destroy; its page tables and frames are charged to it."""
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used_before = me.v1
    p = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, p, 0), abi.ERR_INVALID_ARG, "quota 0")
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, p, me.v0 - me.v1 + 1), abi.ERR_NO_MEMORY,
                      "quota past init's")
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_PROCESS, p, 50), abi.OK, "create")
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used_before + 50, "init's pages used")
    if harness.expect_eq(syscall.proc_info(p, addr(res)), abi.OK, "child info"):
        harness.expect_eq(res.v0, 50, "child quota")
        harness.expect_eq(res.v1, 1, "child used (its root table)")
        harness.expect_eq(res.v2, 0, "child threads")
    f = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_FRAME, f, 5), abi.OK, "frame for the child")
    t = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_THREAD, t, 0), abi.OK, "thread for the child")
    syscall.proc_info(p, addr(res))
    harness.expect_eq(res.v1, 6, "child used after a 5-page frame")
    harness.expect_eq(res.v2, 1, "child threads")
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used_before + 50, "init's pages used after the child's frame")
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy")
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used_before, "init's pages used after destroy")
    harness.expect_eq(syscall.proc_info(p, addr(res)), abi.ERR_STALE, "child after destroy")
    harness.expect_eq(syscall.frame_info(f, addr(res)), abi.ERR_STALE, "its frame")
    harness.expect_eq(syscall.thread_state(t, addr(res)), abi.ERR_STALE, "its thread")


def destroy_is_recursive() -> None:
    """Destroying a process destroys its children, their threads and objects, and gives every pool slot back."""
    res: syscall.SysResult
    free: Array[usize, abi.NUM_KINDS]
    kind: usize = 1
    while kind < abi.NUM_KINDS:
        syscall.console_pool(initcaps.SLOT_CONSOLE, kind, addr(res))
        free[kind] = res.v0
        kind += 1
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return
    g = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_PROCESS, g, 8), abi.OK, "grandchild")
    e = spawn.take()
    harness.expect_eq(syscall.proc_create(g, abi.KIND_ENDPOINT, e, 0), abi.OK, "grandchild's endpoint")
    n = spawn.take()
    harness.expect_eq(syscall.proc_create(g, abi.KIND_NOTIFICATION, n, 0), abi.OK, "grandchild's notification")
    t = spawn.take()
    harness.expect_eq(syscall.proc_create(g, abi.KIND_THREAD, t, 0), abi.OK, "grandchild's thread")
    f = spawn.take()
    harness.expect_eq(syscall.proc_create(g, abi.KIND_FRAME, f, 2), abi.OK, "grandchild's frame")
    # A sleeping thread in the child: destroy must take it out of the timeout queue too.
    s = spawn.child_thread(p, addr(_sleep_then_exit), 10_000, 0, spawn.LOW)
    syscall.thread_start(s)
    syscall.sleep(1)
    _expect_state(s, abi.STATE_BLOCKED, "sleeper")
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the child")
    harness.expect_eq(syscall.proc_info(g, addr(res)), abi.ERR_STALE, "grandchild")
    harness.expect_eq(syscall.ep_recv(e, abi.NO_WAIT, addr(res)), abi.ERR_STALE, "endpoint")
    harness.expect_eq(syscall.ntfn_poll(n, addr(res)), abi.ERR_STALE, "notification")
    harness.expect_eq(syscall.thread_state(t, addr(res)), abi.ERR_STALE, "thread")
    harness.expect_eq(syscall.thread_state(s, addr(res)), abi.ERR_STALE, "sleeping thread")
    harness.expect_eq(syscall.frame_info(f, addr(res)), abi.ERR_STALE, "frame")
    kind = 1
    while kind < abi.NUM_KINDS:
        syscall.console_pool(initcaps.SLOT_CONSOLE, kind, addr(res))
        if res.v0 != free[kind]:
            harness.fail("pool of kind %u: %u free, %u before", kind, res.v0, free[kind])
        kind += 1
    if harness.expect_eq(syscall.console_check(initcaps.SLOT_CONSOLE, addr(res)), abi.OK, "check"):
        harness.expect_eq(res.v0, 0, "violations")


def destroy_in_every_state() -> None:
    """A child whose threads receive, send, wait, sleep, are throttled, faulted and stopped is destroyed cleanly.

    Afterwards init's endpoints and notification hold nothing of theirs: a
    message sent finds no receiver, no sender or fault message is left, a
    signal's bits stay pending; every count and invariant is restored.
    """
    recv_ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, recv_ep, 0)
    send_ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, send_ep, 0)
    fault_ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, fault_ep, 0)
    n = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, n, 0)
    p = spawn.child(64, False)
    if p == spawn.NONE:
        return
    syscall.proc_give(p, recv_ep, 1)
    syscall.proc_give(p, send_ep, 2)
    syscall.proc_give(p, n, 3)
    r = spawn.child_thread(p, addr(_receive_on), 1, 0, spawn.LOW)
    s = spawn.child_thread(p, addr(_send_on), 2, 77, spawn.LOW)
    w = spawn.child_thread(p, addr(_wait_on), 3, 0, spawn.LOW)
    z = spawn.child_thread(p, addr(_sleep_then_exit), 100_000, 0, spawn.LOW)
    b = spawn.child_thread(p, addr(_busy), 0, 0, 20)
    f = spawn.child_thread(p, addr(_trap), 0, 0, spawn.LOW)
    q = spawn.child_thread(p, addr(_busy), 0, 0, 5)
    if r == spawn.NONE or s == spawn.NONE or w == spawn.NONE or z == spawn.NONE or b == spawn.NONE \
            or f == spawn.NONE or q == spawn.NONE:
        return
    syscall.thread_set_sched(b, 20, 1, 10)
    syscall.thread_set_fault(f, fault_ep)
    syscall.thread_start(r)
    syscall.thread_start(s)
    syscall.thread_start(w)
    syscall.thread_start(z)
    syscall.thread_start(b)
    syscall.thread_start(f)
    syscall.thread_start(q)
    syscall.sleep(5)
    harness.expect_eq(syscall.thread_stop(q), abi.OK, "stop the spinner")
    _expect_state(r, abi.STATE_BLOCKED, "receiver")
    _expect_state(s, abi.STATE_BLOCKED, "sender")
    _expect_state(w, abi.STATE_BLOCKED, "waiter")
    _expect_state(z, abi.STATE_BLOCKED, "sleeper")
    _expect_state(f, abi.STATE_FAULTED, "faulter")
    _expect_state(q, abi.STATE_STOPPED, "stopped")
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used = me.v1
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the child")
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used - 64, "init's pages used after the destroy")
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(send_ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "a sender's message")
    harness.expect_eq(syscall.ep_recv(fault_ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "a fault message")
    syscall.ntfn_signal(n, 0x9)
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 0x9, "bits left for nobody")
    # The receiver is gone from the endpoint: a new sender blocks until init itself receives.
    t = spawn.start(addr(_send_on), recv_ep, 55, spawn.LOW)
    syscall.sleep(2)
    _expect_state(t, abi.STATE_BLOCKED, "new sender")
    if harness.expect_eq(syscall.ep_recv(recv_ep, abi.NO_WAIT, addr(res)), abi.OK, "receive"):
        harness.expect_eq(res.v2, 55, "w0")
    spawn.expect_exit(t, abi.OK, "new sender")
    if harness.expect_eq(syscall.console_check(initcaps.SLOT_CONSOLE, addr(res)), abi.OK, "check"):
        harness.expect_eq(res.v0, 0, "violations")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("threads: exit codes are kept")
    thread_exit_code()
    spawn.done()
    harness.begin("threads: life-cycle states and refused transitions")
    thread_states()
    spawn.done()
    harness.begin("threads: stop, resume, and set regs while stopped")
    stop_and_resume()
    spawn.done()
    harness.begin("threads: a ready spinner stops and resumes")
    stop_a_ready_spinner()
    spawn.done()
    harness.begin("threads: a thread destroys itself")
    thread_destroys_itself()
    spawn.done()
    harness.begin("threads: OP_SELF and the priority ceiling")
    self_and_priority()
    spawn.done()
    harness.begin("threads: a new thread has its creator's priority")
    new_thread_has_creators_priority()
    spawn.done()
    harness.begin("threads: scheduling parameters are checked")
    sched_arguments()
    spawn.done()
    harness.begin("threads: ids are versioned")
    ids_are_versioned()
    spawn.done()
    harness.begin("process: a child runs init's code to its exit code")
    child_runs_and_exits()
    spawn.done()
    harness.begin("process: quotas on create and destroy")
    process_quota_accounting()
    spawn.done()
    harness.begin("process: destroy is recursive and frees every object")
    destroy_is_recursive()
    spawn.done()
    harness.begin("process: destroyed with threads in every state")
    destroy_in_every_state()
    spawn.done()
    harness.begin("threads: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
