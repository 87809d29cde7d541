"""Thread migration (kmi): a call runs the caller's own thread in the callee's address space, then returns.

A callee publishes a *portal*: an entry point and a pool of stacks in its
own address space (OP_PORTAL_SET). OP_MIGRATE_CALL on a portal capability
takes a free stack, saves the caller's registers as one level of the
thread's invocation stack (at most board.MIGRATE_DEPTH levels), and
continues the same thread at the entry, in the callee's space and with the
callee's capability table, with the portal capability's badge and four
argument words. OP_MIGRATE_RETURN pops the level: the stack is free again
and the caller resumes after its call with four result words. No server
thread waits anywhere, and the caller's priority and budget go with it.

OP_MIGRATE_FORWARD, from inside a callee, hands the call on to another
portal without a new level (kmi's forward and tail call): the next callee's
return goes straight to the original caller. A fault in a callee does not
stop the thread: the level is unwound and the caller's call returns
ERR_FAULTED; the callee's other calls run on. Destroying a callee's process
unwinds the threads inside it the same way (ERR_STALE).

OP_MIGRATE_NOTIFY is kmi's one-way call: nobody waits for it, so no caller's
thread can carry it. The kernel makes an *activation* instead: a thread from
the thread pool, owned by the callee, with the caller's priority and budget,
whose bottom level is a one-way level (caller NO_CALLER) holding a stack of
the portal. It runs the entry like a migrated call; its OP_MIGRATE_RETURN
or a fault at that bottom level, or its OP_EXIT at any level, ends it: its
stacks go back to their portals and the thread back to the pool
(destroy_thread, the same teardown as destroying any thread). The caller
returns at once. An activation holds one thread and one stack, so the
portal's stacks bound the one-way calls in flight in it as they bound calls;
with every stack in use, or the thread pool empty, the notify fails with
ERR_NO_OBJECTS and nothing runs. Forwarding an activation's own call moves
the activation to the next callee (its owner and home change too), so a
process always owns the activations running at their bottom level in it and
destroying it ends them.

Every operation is O(1) apart from copying one saved register set (and
ending an activation, which is as dear as destroying a thread).
"""

import board
from kcc.lang import *

from arch import context, vm
from core import ipc, objects, sched, thread
from lib import abi, bits

MAX_STACKS: Final = 32          # one bit each in the portal's free mask
NO_CALLER: Final[u32] = 0xFFFF_FFFF     # Level.caller of an activation's one-way bottom level
# core.syscall's "the thread's registers are set already" (it returns BLOCKED then).
DONE: Final[u32] = 0xFFFF_FFFF


@struct
class Portal:
    """Where a migrated call runs: ``entry`` with one of ``stacks`` stacks of ``stack_size`` bytes from ``stack_base``."""

    entry: usize
    stack_base: usize
    stack_size: usize
    stacks: u32
    free: u32           # bit i set: stack i is free


@struct
class Level:
    """One migrated call in a thread's invocation stack: what to give back when it returns."""

    caller: u32         # the process the thread ran in before the call; NO_CALLER: a one-way call
    portal: u32
    portal_gen: u32
    stack: u32


_portals: Array[Portal, board.MAX_PORTALS]
_levels: Array[Level, board.MAX_THREADS * board.MIGRATE_DEPTH]


def portal_init(q: u32) -> None:
    """Make portal ``q`` (a fresh pool slot) unusable until OP_PORTAL_SET."""
    _portals[q].entry = 0
    _portals[q].stacks = 0
    _portals[q].free = 0


def _mask(stacks: u32) -> u32:
    """Return the free mask of a portal with ``stacks`` stacks, all free."""
    if stacks >= MAX_STACKS:
        return 0xFFFF_FFFF
    return (u32(1) << stacks) - 1


def portal_set(q: u32, entry: usize, stack_base: usize, stack_size: usize, stacks: usize) -> u32:
    """OP_PORTAL_SET: the entry and ``stacks`` stacks of ``stack_size`` bytes from ``stack_base`` (callee addresses).

    The stacks must lie in the user window, 16-byte aligned (the psABI's
    stack alignment), 1..MAX_STACKS of them. Nothing is checked against the
    callee's mappings: a stack it did not map makes its calls fault, which
    returns ERR_FAULTED to their callers. Only while no call is in the
    portal (ERR_BAD_STATE otherwise). ERR_INVALID_ARG for bad values.
    """
    p = addr(_portals[q])
    if p.free != _mask(p.stacks):
        return abi.ERR_BAD_STATE
    if stacks == 0 or stacks > MAX_STACKS or stack_size == 0 or (stack_base | stack_size) & 15 != 0:
        return abi.ERR_INVALID_ARG
    if stack_size > (vm.user_window_end() - vm.user_window_start()) // stacks:
        return abi.ERR_INVALID_ARG
    span = stack_size * stacks
    if stack_base < vm.user_window_start() or stack_base > vm.user_window_end() - span:
        return abi.ERR_INVALID_ARG
    if entry < vm.user_window_start() or entry >= vm.user_window_end():
        return abi.ERR_INVALID_ARG
    p.entry = entry
    p.stack_base = stack_base
    p.stack_size = stack_size
    p.stacks = u32(stacks)
    p.free = _mask(p.stacks)
    return abi.OK


def _enter(src: u32, t: u32, q: u32, badge: u64) -> u32:
    """Run thread ``t`` at portal ``q``'s entry on a free stack with ``badge`` and thread src's arguments 0..3.

    ``src`` is ``t`` itself for a call or forward, the notifying thread for
    an activation. Returns the stack taken, or MAX_STACKS when none is free.
    """
    p = addr(_portals[q])
    if p.free == 0:
        return MAX_STACKS
    s = bits.lowest(u64(p.free))
    p.free &= ~(u32(1) << s)
    a1 = context.syscall_arg(src, 0)
    a2 = context.syscall_arg(src, 1)
    a3 = context.syscall_arg(src, 2)
    a4 = context.syscall_arg(src, 3)
    callee = objects.owner(abi.KIND_PORTAL, q)
    th = thread.get(t)
    th.process = callee
    context.init_user(t, p.entry, p.stack_base + usize(s + 1) * p.stack_size, usize(badge), a1)
    context.set_result(t, 1, a2)        # a2..a4: result words 1..3 are the same registers
    context.set_result(t, 2, a3)
    context.set_result(t, 3, a4)
    return s


def _release(level: Ptr[Level]) -> None:
    """Give the level's stack back to its portal (if the portal still exists)."""
    if objects.is_live(abi.KIND_PORTAL, level.portal, level.portal_gen):
        _portals[level.portal].free |= u32(1) << level.stack


def call(t: u32, q: u32, badge: u64) -> u32:
    """OP_MIGRATE_CALL by thread ``t`` (pc already past the call) on portal ``q`` through a capability with ``badge``.

    Returns DONE when the thread now runs in the callee
    (its registers are set), or an error: ERR_BAD_STATE (the portal has no
    entry yet, or the thread is MIGRATE_DEPTH calls deep), ERR_NO_OBJECTS
    (every stack of the portal is in use).
    """
    th = thread.get(t)
    if _portals[q].entry == 0 or th.depth >= board.MIGRATE_DEPTH:
        return abi.ERR_BAD_STATE
    if _portals[q].free == 0:
        return abi.ERR_NO_OBJECTS
    level = addr(_levels[t * board.MIGRATE_DEPTH + th.depth])
    context.save(t, th.depth)
    level.caller = th.process
    level.portal = q
    level.portal_gen = objects.generation(abi.KIND_PORTAL, q)
    level.stack = _enter(t, t, q, badge)
    th.depth += 1
    return DONE


def forward(t: u32, q: u32, badge: u64) -> u32:
    """OP_MIGRATE_FORWARD by thread ``t`` inside a callee: the call moves on to portal ``q``, the level stays.

    Errors as call(), and ERR_BAD_STATE when ``t`` is in no migrated call.
    An activation forwarding its own one-way call moves to the next callee:
    that process owns it from now on (see the module docstring).
    """
    th = thread.get(t)
    if th.depth == 0 or _portals[q].entry == 0:
        return abi.ERR_BAD_STATE
    if _portals[q].free == 0:
        return abi.ERR_NO_OBJECTS
    level = addr(_levels[t * board.MIGRATE_DEPTH + th.depth - 1])
    _release(level)
    level.portal = q
    level.portal_gen = objects.generation(abi.KIND_PORTAL, q)
    level.stack = _enter(t, t, q, badge)
    if level.caller == NO_CALLER:
        th.home = th.process
        objects.set_owner(abi.KIND_THREAD, t, th.process)
    return DONE


def notify(t: u32, q: u32, badge: u64) -> u32:
    """OP_MIGRATE_NOTIFY by thread ``t`` on portal ``q`` through a capability with ``badge``: a one-way call.

    A new activation (a thread owned by the callee, at t's priority with
    t's budget and period, a full budget from now) runs the entry on a free
    stack with ``badge`` and t's arguments 0..3, exactly as a call's entry
    would; ``t`` goes on at once with abi.OK and never learns how it ended.
    Errors, with nothing changed: ERR_BAD_STATE (the portal has no entry
    yet), ERR_NO_OBJECTS (every stack of the portal is in use, or the
    thread pool is empty). O(1).
    """
    if _portals[q].entry == 0:
        return abi.ERR_BAD_STATE
    if _portals[q].free == 0:
        return abi.ERR_NO_OBJECTS
    a = objects.alloc(abi.KIND_THREAD)
    if a == objects.NO_INDEX:
        return abi.ERR_NO_OBJECTS
    callee = objects.owner(abi.KIND_PORTAL, q)
    objects.set_owner(abi.KIND_THREAD, a, callee)
    thread.setup(a, callee)
    sched.init_thread(a)
    # Checked when they were set on t, so they cannot be refused here.
    sched.set_params(a, sched.priority(t), sched.budget(t), sched.period(t))
    level = addr(_levels[a * board.MIGRATE_DEPTH])
    level.caller = NO_CALLER
    level.portal = q
    level.portal_gen = objects.generation(abi.KIND_PORTAL, q)
    level.stack = _enter(t, a, q, badge)
    th = thread.get(a)
    th.depth = 1
    th.state = abi.STATE_READY
    sched.make_ready(a)
    return abi.OK


def depth(t: u32) -> u32:
    """Return how many migrated calls thread ``t`` is in."""
    return thread.get(t).depth


def is_activation(t: u32) -> bool:
    """True when thread ``t`` is an activation of OP_MIGRATE_NOTIFY (its bottom level is one-way)."""
    return thread.get(t).depth > 0 and _levels[t * board.MIGRATE_DEPTH].caller == NO_CALLER


def in_one_way(t: u32) -> bool:
    """True when thread ``t``'s innermost migrated call is an activation's one-way bottom level (no caller)."""
    th = thread.get(t)
    return th.depth == 1 and _levels[t * board.MIGRATE_DEPTH].caller == NO_CALLER


def destroy_thread(t: u32) -> None:
    """Destroy thread ``t``: every stack it holds goes back, it leaves every queue and its slot is freed.

    Both ways a thread goes use it: core.process destroying a thread object
    (that module imports this one, so the teardown lives here), and an
    activation ending. A call ``t`` received and did not answer, or a
    payload announced to it, ends with ERR_STALE for its sender; its id is
    stale from now on. O(MAX_THREADS).
    """
    ipc.cancel(t, abi.ERR_STALE)
    ipc.thread_gone(t)
    _release_all(t)
    sched.remove(t)
    thread.get(t).state = thread.FREE
    objects.free(abi.KIND_THREAD, t)


def unwind(t: u32, error: u32) -> None:
    """End thread ``t``'s innermost migrated call: the caller resumes after it with ``error`` and no results.

    At an activation's one-way bottom level there is no caller to resume: the
    activation ends (destroy_thread) and ``error`` goes nowhere.
    """
    th = thread.get(t)
    level = addr(_levels[t * board.MIGRATE_DEPTH + th.depth - 1])
    if level.caller == NO_CALLER:
        destroy_thread(t)
        return
    th.depth -= 1
    _release(level)
    th.process = level.caller
    context.restore(t, th.depth)
    context.set_error(t, usize(error))


def enters(t: u32, p: u32) -> u32:
    """Return how deep thread ``t``'s first migrated call into process ``p`` is (1: its first call), 0 when none.

    The thread is in ``p`` after that call (and maybe calls on from there),
    so it must come back through ``p``. O(MIGRATE_DEPTH).
    """
    th = thread.get(t)
    for i in range(th.depth):
        # Where the thread runs after call i: the process call i + 1 was made from, or now.
        inside = th.process if i + 1 == th.depth else _levels[t * board.MIGRATE_DEPTH + i + 1].caller
        if inside == p:
            return i + 1
    return 0


def leave(t: u32, p: u32, error: u32) -> None:
    """Unwind every migrated call of thread ``t`` from its first call into process ``p`` on (``p`` is being destroyed).

    The thread resumes where it made that call, with ``error``: the calls
    it made from ``p`` onwards cannot return, since they would return into
    ``p``. An activation whose one-way bottom level is unwound ends
    (destroy_thread). Nothing happens when ``t`` never called into ``p``.
    O(MIGRATE_DEPTH) register copies.
    """
    d = enters(t, p)
    if d == 0:
        return
    while thread.state(t) != thread.FREE and thread.get(t).depth >= d:
        unwind(t, error)


def ret(t: u32) -> u32:
    """OP_MIGRATE_RETURN by thread ``t``: the caller resumes with OK and t's arguments 0..3 as its results.

    Returns DONE (the caller's registers are set, or ``t`` was an activation
    at its one-way bottom level and has ended: the results go nowhere), or
    ERR_BAD_STATE when ``t`` is in no migrated call (an ordinary error return then).
    """
    th = thread.get(t)
    if th.depth == 0:
        return abi.ERR_BAD_STATE
    if _levels[t * board.MIGRATE_DEPTH + th.depth - 1].caller == NO_CALLER:
        destroy_thread(t)
        return DONE
    r0 = context.syscall_arg(t, 0)
    r1 = context.syscall_arg(t, 1)
    r2 = context.syscall_arg(t, 2)
    r3 = context.syscall_arg(t, 3)
    unwind(t, abi.OK)
    context.set_result(t, 0, r0)
    context.set_result(t, 1, r1)
    context.set_result(t, 2, r2)
    context.set_result(t, 3, r3)
    return DONE


def _release_all(t: u32) -> None:
    """Thread ``t`` is being destroyed: give back the stacks of every level it is in."""
    th = thread.get(t)
    while th.depth > 0:
        th.depth -= 1
        _release(addr(_levels[t * board.MIGRATE_DEPTH + th.depth]))
    th.process = th.home
