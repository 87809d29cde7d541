"""System tests of the scheduler: priority order, preemption on wake-up, round robin, yield, budgets, and sleep."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
LOG_MAX: Final = 16
ROUNDS: Final = 5                       # yield test: rounds per thread
TICK_TIME: Final = board.TIMEBASE_HZ // board.HZ   # time CSR units per timer tick

# Shared with the worker threads (same process, same globals); every access is volatile.
_log: Array[usize, LOG_MAX]
_logged: usize = 0
_stop: usize = 0
_count: Array[usize, 2]                 # spin counts of workers 0 and 1
_switches: Array[usize, 2]              # how often a spinner saw the other one had run meanwhile


def _append(value: usize) -> None:
    """Append ``value`` to the shared log (callers never run at the same time as another appender)."""
    n = spawn.vload(addr(_logged))
    if n < LOG_MAX:
        spawn.vstore(addr(_log[n]), value)
    spawn.vstore(addr(_logged), n + 1)


def _reset() -> None:
    """Empty the log and the counters, clear the stop flag."""
    global _logged, _stop
    _logged = 0
    _stop = 0
    for i in range(usize(2)):
        _count[i] = 0
        _switches[i] = 0


def _expect_log(a: usize, b: usize, c: usize) -> None:
    """Check that the log holds exactly a, b, c."""
    if harness.expect_eq(spawn.vload(addr(_logged)), 3, "log length"):
        harness.expect_eq(spawn.vload(addr(_log[0])), a, "first")
        harness.expect_eq(spawn.vload(addr(_log[1])), b, "second")
        harness.expect_eq(spawn.vload(addr(_log[2])), c, "third")


def _log_and_exit(a0: usize, a1: usize) -> None:
    """Thread body: log a0, exit."""
    _append(a0)
    syscall.exit(0)


def _sleep_log_exit(a0: usize, a1: usize) -> None:
    """Thread body: sleep a0 ticks, log a0, exit."""
    syscall.sleep(a0)
    _append(a0)
    syscall.exit(0)


def _spin(a0: usize, a1: usize) -> None:
    """Thread body: count in _count[a0] until _stop; count in _switches[a0] each time the other worker ran meanwhile."""
    other = 1 - a0
    last = spawn.vload(addr(_count[other]))
    while spawn.vload(addr(_stop)) == 0:
        spawn.vstore(addr(_count[a0]), spawn.vload(addr(_count[a0])) + 1)
        now = spawn.vload(addr(_count[other]))
        if now != last:
            spawn.vstore(addr(_switches[a0]), spawn.vload(addr(_switches[a0])) + 1)
            last = now
    syscall.exit(0)


def _wake_and_report(a0: usize, a1: usize) -> None:
    """Thread body: sleep a1 ticks, stop worker 0 and send its count so far to endpoint a0."""
    syscall.sleep(a1)
    seen = spawn.vload(addr(_count[0]))
    spawn.vstore(addr(_stop), 1)
    syscall.ep_send(a0, 1, seen, 0, 0, 0)
    syscall.exit(0)


def _yield_rounds(a0: usize, a1: usize) -> None:
    """Thread body: ROUNDS times, log a0 and yield."""
    n: usize = 0
    while n < ROUNDS:
        _append(a0)
        syscall.thread_yield()
        n += 1
    syscall.exit(0)


def _sleep_exit(a0: usize, a1: usize) -> None:
    """Thread body: sleep a0 ticks, exit with sleep's error."""
    syscall.exit(syscall.sleep(a0))


def _lower_self(a0: usize, a1: usize) -> None:
    """Thread body: log 1, lower its own priority (slot a0) to 5, log 3, exit."""
    _append(1)
    syscall.thread_set_sched(a0, 5, 0, 0)
    _append(3)
    syscall.exit(0)


def priority_order() -> None:
    """Threads made ready together run highest priority first."""
    _reset()
    a = spawn.start(addr(_log_and_exit), 20, 0, 20)
    b = spawn.start(addr(_log_and_exit), 30, 0, 30)
    c = spawn.start(addr(_log_and_exit), 25, 0, 25)
    if a == spawn.NONE or b == spawn.NONE or c == spawn.NONE:
        return
    # Nothing below init's priority has run yet.
    harness.expect_eq(spawn.vload(addr(_logged)), 0, "ran before init blocked")
    spawn.wait(a, 100)
    _expect_log(30, 25, 20)


def preemption_on_wake() -> None:
    """A higher-priority thread waking from sleep preempts a spinning lower one at the tick (init is blocked)."""
    _reset()
    ep = spawn.take()
    harness.expect_eq(syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0), abi.OK, "endpoint")
    low = spawn.start(addr(_spin), 0, 0, 10)
    high = spawn.start(addr(_wake_and_report), ep, 3, 20)
    if low == spawn.NONE or high == spawn.NONE:
        return
    # Init waits far longer than the sleep: only the waking thread can end the wait early.
    res: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 500, addr(res)), abi.OK, "no report from the woken thread"):
        harness.expect(res.v2 > 0, "the low thread had not run")
    harness.expect_eq(spawn.wait(low, 100), abi.STATE_EXITED, "low thread")


def equal_priorities_in_start_order() -> None:
    """Threads of one priority that never block run in the order they were started."""
    _reset()
    a = spawn.start(addr(_log_and_exit), 7, 0, 10)
    b = spawn.start(addr(_log_and_exit), 8, 0, 10)
    c = spawn.start(addr(_log_and_exit), 9, 0, 10)
    if a == spawn.NONE or b == spawn.NONE or c == spawn.NONE:
        return
    spawn.wait(c, 100)
    _expect_log(7, 8, 9)


def lowering_priority_yields() -> None:
    """A thread lowering its own priority below a ready one gives the processor away at once."""
    _reset()
    a = spawn.thread(0, 0, 0, 20)
    if a == spawn.NONE:
        return
    syscall.thread_set_regs(a, addr(_lower_self), spawn.stack_top(a), a, 0)
    b = spawn.start(addr(_log_and_exit), 2, 0, 10)
    syscall.thread_start(a)
    if b == spawn.NONE:
        return
    spawn.wait(a, 100)
    spawn.wait(b, 100)
    _expect_log(1, 2, 3)


def round_robin() -> None:
    """Two spinning threads of one priority take turns: each runs, again and again."""
    _reset()
    a = spawn.start(addr(_spin), 0, 0, 10)
    b = spawn.start(addr(_spin), 1, 0, 10)
    if a == spawn.NONE or b == spawn.NONE:
        return
    syscall.sleep(10 * board.TIMESLICE_TICKS)
    spawn.vstore(addr(_stop), 1)
    spawn.wait(a, 100)
    spawn.wait(b, 100)
    harness.expect(spawn.vload(addr(_count[0])) > 0, "the first thread never ran")
    harness.expect(spawn.vload(addr(_count[1])) > 0, "the second thread never ran")
    # About ten timeslices: each thread must have come back after the other at least twice.
    harness.expect(spawn.vload(addr(_switches[0])) >= 2, "the first thread saw no alternation")
    harness.expect(spawn.vload(addr(_switches[1])) >= 2, "the second thread saw no alternation")


def yield_alternates() -> None:
    """OP_YIELD hands the processor to the other ready thread of the same priority: their log alternates."""
    _reset()
    a = spawn.start(addr(_yield_rounds), 1, 0, 10)
    b = spawn.start(addr(_yield_rounds), 2, 0, 10)
    if a == spawn.NONE or b == spawn.NONE:
        return
    spawn.wait(a, 100)
    spawn.wait(b, 100)
    if harness.expect_eq(spawn.vload(addr(_logged)), 2 * ROUNDS, "log length"):
        for i in range(usize(2 * ROUNDS)):
            if spawn.vload(addr(_log[i])) != 1 + i % 2:
                harness.fail("entry %u is %u", i, spawn.vload(addr(_log[i])))


def budget_limits_progress() -> None:
    """A high-priority thread with 1 tick of budget per 10 leaves most of the processor to a lower one."""
    _reset()
    limited = spawn.thread(addr(_spin), 0, 0, 20)
    free = spawn.thread(addr(_spin), 1, 0, 10)
    if limited == spawn.NONE or free == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_set_sched(limited, 20, 1, 10), abi.OK, "set budget")
    syscall.thread_start(limited)
    syscall.thread_start(free)
    syscall.sleep(40)
    spawn.vstore(addr(_stop), 1)
    spawn.wait(limited, 100)
    spawn.wait(free, 100)
    a = spawn.vload(addr(_count[0]))
    b = spawn.vload(addr(_count[1]))
    harness.expect(a > 0, "the budgeted thread never ran")
    # Without the budget the lower thread would never run; with it, it gets about nine ticks in ten.
    if a * 2 >= b:
        harness.fail("budgeted thread counted %u, unlimited lower one %u", a, b)


def sleep_order() -> None:
    """Threads sleeping 8, 2 and 5 ticks (started in that order) wake in the order of their sleeps."""
    _reset()
    a = spawn.start(addr(_sleep_log_exit), 8, 0, 10)
    b = spawn.start(addr(_sleep_log_exit), 2, 0, 10)
    c = spawn.start(addr(_sleep_log_exit), 5, 0, 10)
    if a == spawn.NONE or b == spawn.NONE or c == spawn.NONE:
        return
    spawn.wait(a, 100)
    spawn.wait(b, 100)
    spawn.wait(c, 100)
    _expect_log(2, 5, 8)


def sleep_lasts() -> None:
    """OP_SLEEP(n) blocks for at least n - 1 full tick periods of the time CSR (ticks are a period apart or more).

    A lower bound the kernel guarantees (the first tick may come at once),
    never a wall-clock expectation; OP_SLEEP(0) just yields.
    """
    before = asm("rdtime {out}", out=usize)
    harness.expect_eq(syscall.sleep(5), abi.OK, "sleep")
    after = asm("rdtime {out}", out=usize)
    if after - before < 4 * TICK_TIME:
        harness.fail("slept %u time units, less than 4 ticks of %u", after - before, TICK_TIME)
    harness.expect_eq(syscall.sleep(0), abi.OK, "sleep(0)")


def endless_sleep() -> None:
    """A sleep of the largest tick count lasts (the wake-up tick must not wrap around to the past)."""
    t = spawn.start(addr(_sleep_exit), ~usize(0), 0, spawn.LOW)
    u = spawn.start(addr(_sleep_exit), ~usize(0) - 1000, 0, spawn.LOW)
    if t == spawn.NONE or u == spawn.NONE:
        return
    syscall.sleep(3)
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "sleeper of ~0 ticks")
    syscall.thread_state(u, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "sleeper of ~0 - 1000 ticks")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("sched: higher priorities run first")
    priority_order()
    spawn.done()
    harness.begin("sched: a waking higher priority preempts a spinner")
    preemption_on_wake()
    spawn.done()
    harness.begin("sched: equal priorities run in start order")
    equal_priorities_in_start_order()
    spawn.done()
    harness.begin("sched: lowering one's own priority yields at once")
    lowering_priority_yields()
    spawn.done()
    harness.begin("sched: round robin within a priority")
    round_robin()
    spawn.done()
    harness.begin("sched: yield alternates equal priorities")
    yield_alternates()
    spawn.done()
    harness.begin("sched: a budget limits a high priority")
    budget_limits_progress()
    spawn.done()
    harness.begin("sched: sleepers wake in order")
    sleep_order()
    spawn.done()
    harness.begin("sched: sleep lasts its ticks")
    sleep_lasts()
    spawn.done()
    harness.begin("sched: the longest sleep does not wrap")
    endless_sleep()
    spawn.done()
    harness.begin("sched: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
