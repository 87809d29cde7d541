"""Shared helpers of the system tests: slots, threads in init's process, child processes running init's code.

Every test takes the capability slots it needs with ``take()`` (the lowest
empty slot from FIRST_SLOT on) and calls ``finish()`` before ``harness.end()``:
it fails the test when a thread that was not meant to fault did, then
destroys or deletes everything in those slots, so the next test starts from
the same empty table and pools (each module checks that with
``pools_saved()`` and ``expect_clean()``).

Threads made here always have a fault endpoint (the *stray* endpoint, in
STRAY_SLOT): without one a fault would destroy the faulting process, and when
that is init the machine powers off mid-run. A test that provokes a fault
points the thread at an endpoint of its own with OP_THREAD_SET_FAULT.

Address plan in init (board.USER_BASE.. is the image, the stack is below
board.USER_STACK_TOP): a thread's stack frame goes at STACK_AREA + (its thread's
slot) * WINDOW, so two live stacks never overlap; tests map their own frames from
TEST_AREA on. A child process gets init's text (read + execute) at the same
address, its rodata after it and, when asked, init's data and bss (shared
globals); each of its threads gets a stack in the same window as a thread of
init would.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import image, syscall
from user.systest import harness

STRAY_SLOT: Final = initcaps.INIT_FIRST_FREE            # the stray-fault endpoint, kept for the whole run
FIRST_SLOT: Final = initcaps.INIT_FIRST_FREE + 1        # tests take slots from here on
NONE: Final = 0xFFFF_FFFF                               # "no slot": take() and the makers failed
STACK_PAGES: Final = 4
STACK_AREA: Final = 0x30_0000_0000
WINDOW: Final = 0x10_0000                               # 1 MiB of address space per slot
TEST_AREA: Final = 0x38_0000_0000
PAGE: Final = board.PAGE_SIZE
LOW: Final = 10                                         # the usual priority of a worker (init runs at 63)
CHILD_QUOTA: Final = 24                                 # pages: root, page tables, a stack and some spare

# The pools OP_CONSOLE_POOL reports, saved by pools_saved().
_saved_free: Array[usize, abi.NUM_KINDS]


def take() -> usize:
    """Return the lowest empty slot from FIRST_SLOT on; fail the test and return NONE when the table is full."""
    res: syscall.SysResult
    slot: usize = FIRST_SLOT
    while slot < board.CAP_SLOTS:
        if syscall.cap_identify(slot, addr(res)) == abi.ERR_EMPTY_SLOT:
            return slot
        slot += 1
    harness.fail("spawn: no empty slot")
    return NONE


def setup() -> None:
    """Create the stray-fault endpoint once, before the first test that makes a thread."""
    res: syscall.SysResult
    if syscall.cap_identify(STRAY_SLOT, addr(res)) == abi.ERR_EMPTY_SLOT:
        err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_ENDPOINT, STRAY_SLOT, 0)
        if err != abi.OK:
            harness.fail("spawn: stray endpoint: error %u", err)


def frame(pages: usize) -> usize:
    """Create a frame of ``pages`` pages owned by init; return its slot, NONE (test failed) on an error."""
    slot = take()
    if slot == NONE:
        return NONE
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_FRAME, slot, pages)
    if err != abi.OK:
        harness.fail("spawn: frame of %u pages: error %u", pages, err)
        return NONE
    return slot


def map_frame(pages: usize, va: usize, rights: usize) -> usize:
    """Create a frame of ``pages`` pages and map it in init at ``va`` with ``rights``; return its slot or NONE."""
    slot = frame(pages)
    if slot == NONE:
        return NONE
    err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, slot, va, rights)
    if err != abi.OK:
        harness.fail("spawn: map at %p: error %u", va, err)
        return NONE
    return slot


def _configure(t: usize, func: usize, sp: usize, a0: usize, a1: usize, prio: usize, handled: bool) -> bool:
    """Set a new thread's registers, priority and (when ``handled``) the stray fault endpoint; False on an error."""
    err = syscall.thread_set_regs(t, func, sp, a0, a1)
    if err == abi.OK:
        err = syscall.thread_set_sched(t, prio, 0, 0)
    if err == abi.OK and handled:
        err = syscall.thread_set_fault(t, STRAY_SLOT)
    if err != abi.OK:
        harness.fail("spawn: configure thread: error %u", err)
        return False
    return True


def stack_top(t: usize) -> usize:
    """The top of the stack thread() gave the thread in slot ``t`` (for a later OP_THREAD_SET_REGS)."""
    return STACK_AREA + t * WINDOW + STACK_PAGES * PAGE


def thread(func: usize, a0: usize, a1: usize, prio: usize) -> usize:
    """Make an inactive thread in init's process that will run ``func(a0, a1)`` at ``prio``; return its slot.

    It gets a stack of its own (a frame mapped in the window of its slot,
    stack_top()) and the stray fault endpoint; start it with
    syscall.thread_start. ``func`` (from ``addr(f)``) must end with
    syscall.exit. NONE (test failed) on an error.
    """
    stack = take()
    if stack == NONE:
        return NONE
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_FRAME, stack, STACK_PAGES)
    if err != abi.OK:
        harness.fail("spawn: thread stack: error %u", err)
        return NONE
    t = take()
    if t == NONE:
        return NONE
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_THREAD, t, 0)
    if err == abi.OK:
        err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, stack, stack_top(t) - STACK_PAGES * PAGE,
                               abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err != abi.OK:
        harness.fail("spawn: thread: error %u", err)
        return NONE
    if not _configure(t, func, stack_top(t), a0, a1, prio, True):
        return NONE
    return t


def start(func: usize, a0: usize, a1: usize, prio: usize) -> usize:
    """thread(), then start it; return its slot, NONE (test failed) on an error."""
    t = thread(func, a0, a1, prio)
    if t == NONE:
        return NONE
    err = syscall.thread_start(t)
    if err != abi.OK:
        harness.fail("spawn: start: error %u", err)
        return NONE
    return t


def child(quota: usize, share_data: bool) -> usize:
    """Make a child process with ``quota`` pages that can run init's code; return its slot in init.

    Init's text is mapped read + execute at board.USER_BASE and its rodata
    read-only right after, as in init; with ``share_data`` init's data and
    bss follow read + write (the child then shares init's globals, like a
    thread), otherwise nothing else is mapped and the child's code may use
    only its stack, its arguments, string literals and system calls. NONE
    (test failed) on an error.
    """
    p = take()
    if p == NONE:
        return NONE
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS, p, quota)
    if err != abi.OK:
        harness.fail("spawn: child process: error %u", err)
        return NONE
    err = image.map_into(p, share_data)
    if err != abi.OK:
        harness.fail("spawn: map init's image into the child: error %u", err)
        return NONE
    return p


def child_thread(p: usize, func: usize, a0: usize, a1: usize, prio: usize, handled: bool = True) -> usize:
    """Make an inactive thread in child process ``p`` running ``func(a0, a1)`` at ``prio``; return its slot in init.

    Its stack is a frame owned by (charged to) the child, mapped in the child
    at the window of the thread's slot in init (stack_top()), so a child may
    have several. The thread has the stray fault endpoint unless ``handled``
    is False (then a fault destroys the child). NONE (test failed) on an error.
    """
    stack = take()
    if stack == NONE:
        return NONE
    err = syscall.proc_create(p, abi.KIND_FRAME, stack, STACK_PAGES)
    if err != abi.OK:
        harness.fail("spawn: child stack: error %u", err)
        return NONE
    t = take()
    if t == NONE:
        return NONE
    err = syscall.proc_create(p, abi.KIND_THREAD, t, 0)
    if err == abi.OK:
        err = syscall.proc_map(p, stack, stack_top(t) - STACK_PAGES * PAGE, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err != abi.OK:
        harness.fail("spawn: child thread: error %u", err)
        return NONE
    if not _configure(t, func, stack_top(t), a0, a1, prio, handled):
        return NONE
    return t


def wait(t: usize, ticks: usize) -> usize:
    """Sleep a tick at a time until thread ``t`` has EXITED or FAULTED (at most ``ticks``); return its state.

    Returns abi.STATE_* as last seen, or NONE when the capability no longer
    works (the thread or its process was destroyed). The bound is only a
    safety net: a test checks the state, never the time it took.
    """
    res: syscall.SysResult
    n: usize = 0
    while True:
        if syscall.thread_state(t, addr(res)) != abi.OK:
            return NONE
        if res.v0 == abi.STATE_EXITED or res.v0 == abi.STATE_FAULTED or n >= ticks:
            return res.v0
        syscall.sleep(1)
        n += 1


def exit_code(t: usize) -> usize:
    """Return the exit code of thread ``t`` (NONE when the thread cannot be read)."""
    res: syscall.SysResult
    if syscall.thread_state(t, addr(res)) != abi.OK:
        return NONE
    return res.v1


def expect_exit(t: usize, code: usize, what: Ptr[u8]) -> bool:
    """Wait (up to 100 ticks) for thread ``t`` to exit and check its exit code is ``code``."""
    state = wait(t, 100)
    if not harness.expect_eq(state, abi.STATE_EXITED, what):
        return False
    return harness.expect_eq(exit_code(t), code, what)


def vload(p: Ptr[usize]) -> usize:
    """Read a word other threads write (a volatile load: never cached in a register)."""
    return volatile_load(p)


def vstore(p: Ptr[usize], value: usize) -> None:
    """Write a word other threads read (a volatile store)."""
    volatile_store(p, value)


def _tidy(slot: usize) -> None:
    """Destroy the object in ``slot`` when this capability may, then empty the slot (stale or not)."""
    res: syscall.SysResult
    if syscall.cap_identify(slot, addr(res)) == abi.OK and res.v1 & abi.RIGHT_DESTROY != 0:
        syscall.cap_destroy(slot)
    syscall.cap_delete(slot)


def finish() -> None:
    """End a test's use of the kernel: fail on a stray fault, then empty every slot from FIRST_SLOT on.

    Threads are destroyed first (a running worker could otherwise still be
    using a stack or frame about to go), then every other object in the
    test's slots.
    """
    res: syscall.SysResult
    while syscall.ep_recv(STRAY_SLOT, abi.NO_WAIT, addr(res)) == abi.OK:
        harness.fail("stray fault: kind %u at pc %p, address %p", res.v2, res.v4, res.v3)
    slot: usize = FIRST_SLOT
    while slot < board.CAP_SLOTS:
        if syscall.cap_identify(slot, addr(res)) == abi.OK and res.v0 == abi.KIND_THREAD:
            _tidy(slot)
        slot += 1
    slot = FIRST_SLOT
    while slot < board.CAP_SLOTS:
        _tidy(slot)
        slot += 1


def pools_saved() -> None:
    """Make the stray endpoint if need be, then remember every pool's free count (a module's run() calls it first)."""
    res: syscall.SysResult
    setup()
    kind: usize = 1
    while kind < abi.NUM_KINDS:
        _saved_free[kind] = 0
        if syscall.console_pool(initcaps.SLOT_CONSOLE, kind, addr(res)) == abi.OK:
            _saved_free[kind] = res.v0
        kind += 1


def expect_clean() -> None:
    """Check that no kernel invariant is violated and every pool has the free count pools_saved() saw."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.console_check(initcaps.SLOT_CONSOLE, addr(res)), abi.OK, "check error"):
        harness.expect_eq(res.v0, 0, "violations")
    kind: usize = 1
    while kind < abi.NUM_KINDS:
        err = syscall.console_pool(initcaps.SLOT_CONSOLE, kind, addr(res))
        if harness.expect_eq(err, abi.OK, "pool error") and res.v0 != _saved_free[kind]:
            harness.fail("pool of kind %u: %u free, %u before", kind, res.v0, _saved_free[kind])
        kind += 1


def done() -> None:
    """finish() the current test, then harness.end() it (print its result)."""
    finish()
    harness.end()
