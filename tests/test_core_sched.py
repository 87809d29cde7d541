"""core/sched.py under CPython and compiled for the host: priorities, round robin, budgets, timeouts.

Two kinds of test: simulations of a kernel's timer loop that check the
scheduling properties themselves (the highest priority runs, round robin is
fair, a budget is granted once a period, timeouts fire on their tick and
never early), and a hypothesis state machine that drives every operation in
any order against a Python model of the queues, with check() after each step.
"""

from __future__ import annotations

from collections import deque

import pytest
from core_loader import SMALL, WAYS, board_constants, load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

NO = 0xFFFF_FFFF
NEVER = 2**64 - 1
OK, ERR_INVALID_ARG = 0, 6
Q_NONE, Q_READY, Q_THROTTLED, Q_TIMEOUT = 0, 1, 2, 3
N = SMALL["MAX_THREADS"]
SLICE = SMALL["TIMESLICE_TICKS"]
PRIOS = SMALL["NUM_PRIORITIES"]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", params=WAYS)
def sched(request):
    return load(request.param, "sched").sched


@pytest.fixture
def s(sched):
    sched.reset()
    return sched


def run(s, ticks, start=1, current=None, sleeps=None):
    """A kernel's timer loop over CPU-bound threads: wake expired timeouts, tick, switch when told to.

    ``sleeps`` maps a tick to threads that, if running then, go to sleep for
    the given number of ticks. Returns the thread that ran in each tick
    (NO when idle) and the thread running at the end.
    """
    ran = []
    if current is None:
        current = s.choose()
    for now in range(start, start + ticks):
        ran.append(current)
        woken = s.pop_expired(now)
        while woken != NO:
            s.make_ready(woken)
            woken = s.pop_expired(now)
        if s.tick(current, now):
            if current != NO:
                s.preempt(current)
            current = s.choose()
        for t, length in (sleeps or {}).get(now, ()):
            if current == t:
                s.sleep_until(t, now + length)
                current = s.choose()
        assert s.check() == 0
    return ran, current


def test_highest_bit_and_choose_cover_every_priority(s):
    for p in range(PRIOS):
        s.reset()
        assert s.highest_ready() == -1 and s.choose() == NO
        assert s.set_params(3, p, 0, 0) == OK
        s.make_ready(3)
        if p > 0:
            assert s.set_params(4, p - 1, 0, 0) == OK
            s.make_ready(4)
        assert s.highest_ready() == p
        assert s.choose() == 3
        assert s.highest_ready() == (p - 1 if p > 0 else -1)
        assert s.check() == 0


def test_fifo_order_within_a_priority_and_preempt_keeps_the_slice(s):
    for t in (5, 2, 7):
        s.set_params(t, 9, 0, 0)
        s.make_ready(t)
    assert s.choose() == 5
    s.preempt(5)  # no tick used: back to the head
    assert s.choose() == 5
    assert not s.tick(5, 1)
    assert s.tick(5, 2)  # slice of 2 ticks over, peers waiting
    s.preempt(5)
    assert [s.choose(), s.choose(), s.choose(), s.choose()] == [2, 7, 5, NO]


def test_set_params_validates(s):
    assert s.set_params(0, PRIOS, 0, 0) == ERR_INVALID_ARG
    assert s.set_params(0, 1, 5, 0) == ERR_INVALID_ARG
    assert s.set_params(0, 1, 5, 4) == ERR_INVALID_ARG
    assert s.priority(0) == 0
    assert s.set_params(0, PRIOS - 1, 4, 4) == OK
    assert s.set_params(0, 1, 0, 0) == OK
    assert s.priority(0) == 1 and s.budget_left(0) == 0


def test_set_params_requeues_a_ready_thread(s):
    s.make_ready(1)
    s.make_ready(2)
    assert s.set_params(1, 7, 0, 0) == OK
    assert s.highest_ready() == 7 and s.queue_of(1) == Q_READY
    assert s.choose() == 1
    assert s.check() == 0


def test_idle_tick_reschedules_only_when_something_is_ready(s):
    assert not s.tick(NO, 1)
    s.make_ready(0)
    assert s.tick(NO, 2)
    assert s.should_preempt(NO)


def test_should_preempt(s):
    s.set_params(0, 3, 0, 0)
    s.set_params(1, 3, 0, 0)
    s.set_params(2, 4, 0, 0)
    s.make_ready(0)
    assert s.choose() == 0
    s.make_ready(1)
    assert not s.should_preempt(0)  # equal priority waits for the slice to end
    s.make_ready(2)
    assert s.should_preempt(0)
    assert s.tick(0, 1)


@given(prios=st.lists(st.integers(0, PRIOS - 1), min_size=1, max_size=N))
@FAST
def test_only_the_highest_ready_priority_runs(s, prios):
    s.reset()
    for t, p in enumerate(prios):
        assert s.set_params(t, p, 0, 0) == OK
        s.make_ready(t)
    top = max(prios)
    ran, _ = run(s, 30)
    assert {prios[t] for t in ran} == {top}
    assert set(ran) == {t for t, p in enumerate(prios) if p == top}


@given(n=st.integers(2, N), ticks=st.integers(1, 60), prio=st.integers(0, PRIOS - 1))
@FAST
def test_round_robin_is_fair(s, n, ticks, prio):
    s.reset()
    for t in range(n):
        s.set_params(t, prio, 0, 0)
        s.make_ready(t)
    ran, _ = run(s, ticks)
    # Exactly slices of SLICE ticks, in turn.
    assert ran == [(i // SLICE) % n for i in range(ticks)]


def test_a_thread_alone_at_its_priority_keeps_running_and_a_newcomer_waits_one_slice_at_most(s):
    s.make_ready(0)
    ran, current = run(s, 5)
    assert ran == [0] * 5
    s.make_ready(1)
    ran, current = run(s, 4, start=6, current=current)
    assert 1 in ran[:SLICE + 1]


def test_a_higher_priority_thread_preempts_at_the_next_tick_and_the_preempted_one_resumes_its_slice(s):
    s.make_ready(0)
    s.make_ready(1)
    assert s.choose() == 0
    s.set_params(2, 5, 0, 0)
    s.make_ready(2)
    assert s.tick(0, 1)  # one tick of a two-tick slice used: the switch is for priority
    s.preempt(0)
    assert s.choose() == 2
    assert not s.tick(2, 2)
    # 2 blocks; 0 went back to the head, before 1, with one tick of its slice left.
    assert s.choose() == 0
    assert s.tick(0, 3)
    s.preempt(0)
    assert s.choose() == 1


@given(budget=st.integers(1, 8), extra=st.integers(0, 10), periods=st.integers(1, 4), prio=st.integers(1, PRIOS - 1))
@FAST
def test_a_budget_is_granted_once_a_period(s, budget, extra, periods, prio):
    """A CPU-bound budgeted thread above a CPU-bound background thread runs exactly its budget per period."""
    s.reset()
    period = budget + extra
    assert s.set_params(0, prio, budget, period) == OK
    s.make_ready(0)
    s.make_ready(1)  # priority 0, unlimited
    ran, _ = run(s, period * periods)
    for k in range(periods):
        window = ran[k * period:(k + 1) * period]
        # Greedy: the budget is spent first in each period, then the background thread runs.
        assert window == [0] * budget + [1] * extra
    assert s.check() == 0


@given(budgets=st.lists(st.integers(1, 4), min_size=2, max_size=4), slack=st.integers(0, 6))
@FAST
def test_budgets_of_equal_priority_threads_are_each_granted_once_a_period(s, budgets, slack):
    s.reset()
    period = sum(budgets) + slack
    for t, b in enumerate(budgets):
        assert s.set_params(t, 10, b, period) == OK
        s.make_ready(t)
    ran, _ = run(s, period * 3)
    for k in range(3):
        window = ran[k * period:(k + 1) * period]
        for t, b in enumerate(budgets):
            assert window.count(t) == b
        assert window.count(NO) == slack  # idle once every budget is spent


def test_a_throttled_thread_waits_even_when_made_ready(s):
    assert s.set_params(0, 3, 2, 10) == OK
    s.make_ready(0)
    ran, current = run(s, 2)
    assert ran == [0, 0] and current == NO
    assert s.queue_of(0) == Q_THROTTLED
    s.make_ready(0)  # e.g. woken by IPC: still out of budget
    assert s.queue_of(0) == Q_THROTTLED and s.choose() == NO
    assert s.next_wakeup() == 10
    s.sleep_until(1, 0)
    assert s.next_wakeup() == 0
    assert s.pop_expired(2) == 1
    ran, current = run(s, 9, start=3, current=NO)
    assert ran == [NO] * 8 + [0]
    assert s.budget_left(0) == 1


def test_a_thread_that_blocks_keeps_its_budget_until_the_period_ends(s):
    assert s.set_params(0, 3, 4, 10) == OK
    s.make_ready(0)
    ran, current = run(s, 3, sleeps={3: [(0, 10)]})
    assert ran == [0, 0, 0] and current == NO
    assert s.budget_left(0) == 1
    ran, current = run(s, 12, start=4, current=NO)  # wakes at 13: a new period (20), full budget
    assert ran == [NO] * 10 + [0, 0]
    assert s.budget_left(0) == 2


@given(wakes=st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=N))
@FAST
def test_timeouts_fire_on_their_tick_in_order_and_never_early(s, wakes):
    s.reset()
    for t, (wake, _) in enumerate(wakes):
        s.sleep_until(t, wake)
        assert s.queue_of(t) == Q_TIMEOUT
    for t, (_, cancel) in enumerate(wakes):
        if cancel:
            s.remove(t)
    assert s.check() == 0
    fired = {}
    for now in range(32):
        order = []
        t = s.pop_expired(now)
        while t != NO:
            assert s.queue_of(t) == Q_NONE
            order.append(t)
            t = s.pop_expired(now)
        fired.update({t: now for t in order})
        assert order == sorted(order, key=lambda t: (wakes[t][0], t))  # put in by t: FIFO among equal ticks
    assert fired == {t: wake for t, (wake, cancel) in enumerate(wakes) if not cancel}
    assert s.next_wakeup() == NEVER


def test_make_ready_cancels_a_pending_timeout(s):
    s.sleep_until(3, 50)
    s.make_ready(3)
    assert s.queue_of(3) == Q_READY
    assert s.pop_expired(100) == NO


@pytest.mark.parametrize("way", WAYS)
def test_the_real_board_sizes(way):
    consts = board_constants()
    s = load(way, "sched", consts).sched
    s.reset()
    n = consts["MAX_THREADS"]
    for t in range(n):
        assert s.set_params(t, t % consts["NUM_PRIORITIES"], 0, 0) == OK
        s.make_ready(t)
    assert s.check() == 0
    order = [s.choose() for _ in range(n)]
    assert [s.priority(t) for t in order] == sorted((s.priority(t) for t in range(n)), reverse=True)
    assert s.choose() == NO


def test_more_priorities_than_the_bitmap_has_bits_do_not_compile():
    with pytest.raises(OverflowError):
        load("python", "sched", dict(SMALL, NUM_PRIORITIES=65))


def test_check_counts_corruption():
    """CPython only: break the queues behind the scheduler's back; check() must notice."""
    m = load("python", "sched").sched
    m.reset()
    m.make_ready(0)
    m.make_ready(1)
    assert m.check() == 0
    m._ready_bits = 0
    assert m.check() > 0
    m._ready_bits = 3  # priority 1 marked non-empty
    assert m.check() > 0
    m._ready_bits = 1
    m._threads[1].next = 0  # a cycle
    assert m.check() > 0
    m._threads[1].next = NO
    m._threads[5].queue = Q_READY  # marked queued, in no queue
    assert m.check() > 0
    few = load("python", "sched", dict(SMALL, NUM_PRIORITIES=8)).sched
    few.reset()
    assert few.check() == 0
    few._ready_bits = 1 << 63  # a bit above the last priority
    assert few.check() == 1


class Model:
    """The scheduler's queues in plain Python, from the rules in sched.py's docstrings."""

    def __init__(self):
        self.now = 0
        self.seq = 0
        self.t = [{"prio": 0, "budget": 0, "period": 0, "left": 0, "rep": 0, "used": 0} for _ in range(N)]
        self.ready = [deque() for _ in range(PRIOS)]
        self.throttled = []  # sorted (replenish tick, sequence, thread)
        self.timeout = []    # sorted (wake tick, sequence, thread)

    def queue_of(self, t):
        if any(t in q for q in self.ready):
            return Q_READY
        if any(x[2] == t for x in self.throttled):
            return Q_THROTTLED
        if any(x[2] == t for x in self.timeout):
            return Q_TIMEOUT
        return Q_NONE

    def unlink(self, t):
        for q in self.ready:
            if t in q:
                q.remove(t)
        self.throttled = [x for x in self.throttled if x[2] != t]
        self.timeout = [x for x in self.timeout if x[2] != t]

    def refresh(self, t):
        e = self.t[t]
        if e["budget"] and self.now >= e["rep"]:
            e["left"] = e["budget"]
            while e["rep"] <= self.now:
                e["rep"] += e["period"]

    def enqueue(self, t, head):
        self.refresh(t)
        e = self.t[t]
        if e["budget"] and e["left"] == 0:
            self.seq += 1
            self.throttled = sorted(self.throttled + [(e["rep"], self.seq, t)])
        elif head:
            self.ready[e["prio"]].appendleft(t)
        else:
            self.ready[e["prio"]].append(t)

    def highest(self):
        return max((p for p in range(PRIOS) if self.ready[p]), default=-1)

    def make_ready(self, t):
        self.unlink(t)
        self.t[t]["used"] = 0
        self.enqueue(t, False)

    def choose(self):
        p = self.highest()
        return NO if p < 0 else self.ready[p].popleft()

    def preempt(self, t):
        self.unlink(t)
        e = self.t[t]
        if e["used"] >= SLICE:
            e["used"] = 0
            self.enqueue(t, False)
        else:
            self.enqueue(t, True)

    def set_params(self, t, prio, budget, period):
        if prio >= PRIOS or (budget and (period == 0 or budget > period)):
            return ERR_INVALID_ARG
        requeue = self.queue_of(t) in (Q_READY, Q_THROTTLED)
        if requeue:
            self.unlink(t)
        self.t[t].update(prio=prio, budget=budget, period=period if budget else 0, left=budget,
                         rep=self.now + period)
        if requeue:
            self.t[t]["used"] = 0
            self.enqueue(t, False)
        return OK

    def tick(self, cur, now):
        self.now = now
        if cur != NO:
            e = self.t[cur]
            e["used"] += 1
            e["left"] = max(0, e["left"] - 1)
            self.refresh(cur)
        while self.throttled and self.throttled[0][0] <= now:
            t = self.throttled.pop(0)[2]
            self.t[t]["used"] = 0
            self.enqueue(t, False)
        if cur == NO:
            return self.highest() >= 0
        e = self.t[cur]
        if e["budget"] and e["left"] == 0:
            return True
        if self.highest() > e["prio"]:
            return True
        if e["used"] >= SLICE:
            if self.highest() == e["prio"]:
                return True
            e["used"] = 0
        return False

    def sleep_until(self, t, wake):
        self.unlink(t)
        self.seq += 1
        self.timeout = sorted(self.timeout + [(wake, self.seq, t)])

    def pop_expired(self, now):
        if self.timeout and self.timeout[0][0] <= now:
            return self.timeout.pop(0)[2]
        return NO


class SchedMachine(RuleBasedStateMachine):
    """Every operation, in any order a kernel could issue it, against Model; one thread may be running."""

    s = None
    threads = st.integers(0, N - 1)

    @initialize()
    def start(self):
        self.s.reset()
        self.m = Model()
        self.running = NO
        self.now = 0

    def idle(self, t):
        return t != self.running

    @rule(t=threads)
    def make_ready(self, t):
        if t == self.running:
            self.running = NO  # yield
        self.s.make_ready(t)
        self.m.make_ready(t)

    @precondition(lambda self: self.running == NO)
    @rule()
    def choose(self):
        got = self.s.choose()
        top = self.m.highest()
        assert got == self.m.choose()
        assert got == NO or self.m.t[got]["prio"] == top  # the highest ready priority runs
        self.running = got

    @precondition(lambda self: self.running != NO)
    @rule()
    def preempt(self):
        self.s.preempt(self.running)
        self.m.preempt(self.running)
        self.running = NO

    @precondition(lambda self: self.running != NO)
    @rule(sleep=st.one_of(st.none(), st.integers(0, 8)))
    def block(self, sleep):
        """The running thread blocks, forever or with a timeout."""
        if sleep is not None:
            self.s.sleep_until(self.running, self.now + sleep)
            self.m.sleep_until(self.running, self.now + sleep)
        self.running = NO

    @rule(t=threads, wake=st.integers(0, 20))
    def sleep_other(self, t, wake):
        if self.idle(t):
            self.s.sleep_until(t, wake)
            self.m.sleep_until(t, wake)

    @rule(t=threads)
    def remove(self, t):
        if self.idle(t):
            self.s.remove(t)
            self.m.unlink(t)

    @rule(t=threads, prio=st.integers(0, PRIOS), budget=st.integers(0, 4), period=st.integers(0, 8))
    def set_params(self, t, prio, budget, period):
        assert self.s.set_params(t, prio, budget, period) == self.m.set_params(t, prio, budget, period)

    @rule(steps=st.integers(1, 3))
    def tick(self, steps):
        for _ in range(steps):
            self.now += 1
            while True:
                t = self.s.pop_expired(self.now)
                assert t == self.m.pop_expired(self.now)
                if t == NO:
                    break
                self.s.make_ready(t)
                self.m.make_ready(t)
            switch = self.s.tick(self.running, self.now)
            assert switch == self.m.tick(self.running, self.now)
            if switch:
                if self.running != NO:
                    self.s.preempt(self.running)
                    self.m.preempt(self.running)
                self.running = self.s.choose()
                assert self.running == self.m.choose()

    @invariant()
    def agrees(self):
        assert self.s.check() == 0
        assert self.s.highest_ready() == self.m.highest()
        for t in range(N):
            assert self.s.queue_of(t) == self.m.queue_of(t)
            assert self.s.priority(t) == self.m.t[t]["prio"]
        if self.running != NO:
            assert self.s.queue_of(self.running) == Q_NONE


@pytest.mark.parametrize("way", WAYS)
def test_scheduler_state_machine(way):
    SchedMachine.s = load(way, "sched").sched
    runner = SchedMachine.TestCase
    # CPython runs check() about 20 times slower than the compiled module: fewer examples there.
    runner.settings = settings(max_examples=30 if way == "python" else 80, stateful_step_count=60, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])
    runner().runTest()
