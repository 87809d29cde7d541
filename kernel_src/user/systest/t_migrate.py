"""System tests of thread migration: portals, migrate_call/return, forward, notify, faults, exhaustion, nesting, destruction."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
CONSOLE: Final = initcaps.SLOT_CONSOLE
STACKS_VA: Final = 0x3C_0000_0000       # in the callee: its portal's stacks
SECRET_VA: Final = 0x3C_1000_0000       # in the callee only: a page init has no mapping of
SCRATCH_VA: Final = 0x3B_0000_0000      # in init, briefly, to write the secret
STACK_BYTES: Final = 4 * board.PAGE_SIZE
SECRET: Final = 0x5EC2E7
CALLEE_QUOTA: Final = 48
# Slots in the callee's own table (given by init).
C_SELF_PORTAL: Final = 0                # the callee's portal, for nested calls
C_NEXT_PORTAL: Final = 1                # another portal to forward to
C_MARK: Final = 2                       # a notification only the callee holds


def _entry(badge: usize, op: usize, a2: usize, a3: usize, a4: usize) -> None:
    """The portal's entry, run by the caller's thread in the callee: ``op`` picks what it does.

    0: return (a2 + a3, badge, the word at SECRET_VA, this thread's priority).
    1: fault (a store to address 8). 2: sleep a2 ticks, then return (0, 0, 0, 0).
    3: nest: call the callee's own portal a2 more times; return the depth reached and its error.
    4: forward to the next portal with op 0 and the same words.
    5: identify slot C_MARK in the table the thread uses now; return (error, kind).
    6: sleep a3 ticks, then signal C_MARK with (badge << 32) | (priority << 16) | a2 and return (one-way).
    7: exit with a2.
    8: call the portal in C_NEXT_PORTAL with op 2 (sleep a2 ticks there); return its error.
    """
    res: syscall.SysResult
    if op == 0:
        me: syscall.SysResult
        syscall.self_info(addr(me))
        syscall.migrate_return(a2 + a3, badge, cast(Ptr[usize], SECRET_VA)[0], me.v2)
    elif op == 1:
        cast(Ptr[usize], 8)[0] = 1
    elif op == 2:
        syscall.sleep(a2)
        syscall.migrate_return(0, 0, 0, 0)
    elif op == 3:
        if a2 == 0:
            syscall.migrate_return(1, abi.OK, 0, 0)
        err = syscall.migrate_call(C_SELF_PORTAL, 3, a2 - 1, 0, 0, addr(res))
        if err != abi.OK:
            syscall.migrate_return(1, err, 0, 0)
        syscall.migrate_return(res.v0 + 1, res.v1, 0, 0)
    elif op == 4:
        syscall.migrate_forward(C_NEXT_PORTAL, 0, a2, a3, 0)
    elif op == 5:
        err = syscall.cap_identify(C_MARK, addr(res))
        syscall.migrate_return(err, res.v0, 0, 0)
    elif op == 6:
        syscall.sleep(a3)
        syscall.self_info(addr(res))
        syscall.ntfn_signal(C_MARK, (badge << 32) | (res.v2 << 16) | a2)
        syscall.migrate_return(0, 0, 0, 0)
    elif op == 7:
        syscall.exit(a2)
    elif op == 8:
        err = syscall.migrate_call(C_NEXT_PORTAL, 2, a2, 0, 0, addr(res))
        syscall.migrate_return(err, 0, 0, 0)
    syscall.migrate_return(0xBAD, 0, 0, 0)


def _callee(stacks: usize, portal: Ptr[usize]) -> usize:
    """Make a callee process running init's code with a secret page, ``stacks`` portal stacks and its portal.

    Returns the callee's process slot in init and writes the portal's slot (badge 0x77) to ``portal[0]``.
    """
    p = spawn.child(CALLEE_QUOTA, False)
    f = spawn.take()
    syscall.proc_create(p, abi.KIND_FRAME, f, stacks * STACK_BYTES // board.PAGE_SIZE)
    harness.expect_eq(syscall.proc_map(p, f, STACKS_VA, abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK, "stacks")
    secret = spawn.map_frame(1, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    cast(Ptr[usize], SCRATCH_VA)[0] = SECRET
    res: syscall.SysResult
    syscall.proc_unmap(SELF, SCRATCH_VA, 1, addr(res))       # init keeps no mapping of it
    harness.expect_eq(syscall.proc_map(p, secret, SECRET_VA, abi.RIGHT_READ), abi.OK, "secret page")
    q = spawn.take()
    harness.expect_eq(syscall.proc_create(p, abi.KIND_PORTAL, q, 0), abi.OK, "portal")
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA, STACK_BYTES, stacks), abi.OK, "portal set-up")
    harness.expect_eq(syscall.proc_give(p, q, C_SELF_PORTAL), abi.OK, "the callee's own portal")
    badged = spawn.take()
    syscall.cap_mint(q, badged, abi.RIGHTS_ALL, 0x77)
    portal[0] = badged
    return p


def call_runs_in_the_callee() -> None:
    """A migrated call runs the caller's thread in the callee's space and table, at the caller's priority."""
    harness.begin("migrate: a call runs in the callee's space with the badge, at the caller's priority")
    q: usize = 0
    p = _callee(2, addr(q))
    res: syscall.SysResult
    if harness.expect_eq(syscall.migrate_call(q, 0, 40, 2, 0, addr(res)), abi.OK, "call"):
        harness.expect_eq(res.v0, 42, "result")
        harness.expect_eq(res.v1, 0x77, "badge")
        harness.expect_eq(res.v2, SECRET, "the callee's memory")
        harness.expect_eq(res.v3, 63, "priority travelled with the thread")
    mark = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, mark, 0)
    syscall.proc_give(p, mark, C_MARK)
    if harness.expect_eq(syscall.migrate_call(q, 5, 0, 0, 0, addr(res)), abi.OK, "identify call"):
        harness.expect_eq(res.v0, abi.OK, "the callee's table is used")
        harness.expect_eq(res.v1, abi.KIND_NOTIFICATION, "kind in the callee's slot")
    harness.expect_eq(syscall.migrate_return(0, 0, 0, 0), abi.ERR_BAD_STATE, "return outside a call")
    spawn.done()


def callee_fault_returns_an_error() -> None:
    """A fault in the callee ends the call with ERR_FAULTED; the caller and the callee go on."""
    harness.begin("migrate: a fault in the callee returns ERR_FAULTED to the caller")
    q: usize = 0
    _callee(2, addr(q))
    res: syscall.SysResult
    harness.expect_eq(syscall.migrate_call(q, 1, 0, 0, 0, addr(res)), abi.ERR_FAULTED, "faulting call")
    harness.expect_eq(syscall.migrate_call(q, 0, 1, 1, 0, addr(res)), abi.OK, "the next call")
    harness.expect_eq(res.v0, 2, "its result")
    spawn.done()


def _caller_thread(q: usize, ticks: usize) -> None:
    """Thread body: a migrated call that sleeps ``ticks`` in the callee; exit with the call's error."""
    res: syscall.SysResult
    syscall.exit(syscall.migrate_call(q, 2, ticks, 0, 0, addr(res)))


def stacks_and_nesting_are_bounded() -> None:
    """With every stack in use a call fails with ERR_NO_OBJECTS; nesting stops at MIGRATE_DEPTH; set-up is checked."""
    harness.begin("migrate: exhausted stacks and nesting too deep are errors")
    q: usize = 0
    _callee(4, addr(q))
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA, STACK_BYTES, 1), abi.OK, "one stack")
    res: syscall.SysResult
    t = spawn.start(addr(_caller_thread), q, 20, 63)
    syscall.sleep(2)
    harness.expect_eq(syscall.migrate_call(q, 0, 0, 0, 0, addr(res)), abi.ERR_NO_OBJECTS, "no free stack")
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA, STACK_BYTES, 1), abi.ERR_BAD_STATE,
                      "set-up while a call is in")
    spawn.expect_exit(t, abi.OK, "the sleeping call")
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA, STACK_BYTES, 0), abi.ERR_INVALID_ARG,
                      "no stacks")
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA + 8, STACK_BYTES, 1), abi.ERR_INVALID_ARG,
                      "unaligned stacks")
    harness.expect_eq(syscall.portal_set(q, 0x8020_0000, STACKS_VA, STACK_BYTES, 1), abi.ERR_INVALID_ARG,
                      "entry in the kernel")
    harness.expect_eq(syscall.portal_set(q, addr(_entry), STACKS_VA, STACK_BYTES, 4), abi.OK, "four stacks")
    if harness.expect_eq(syscall.migrate_call(q, 3, 2, 0, 0, addr(res)), abi.OK, "nested calls"):
        harness.expect_eq(res.v0, 3, "depth reached")
        harness.expect_eq(res.v1, abi.OK, "error at the bottom")
    if harness.expect_eq(syscall.migrate_call(q, 3, 10, 0, 0, addr(res)), abi.OK, "too deep"):
        harness.expect_eq(res.v0, board.MIGRATE_DEPTH, "depth reached")
        harness.expect_eq(res.v1, abi.ERR_BAD_STATE, "error at the limit")
    spawn.done()


def forward_returns_to_the_original_caller() -> None:
    """A callee forwards the call to another portal; that callee's return reaches the original caller."""
    harness.begin("migrate: forward hands the call on and the reply reaches the first caller")
    q1: usize = 0
    p1 = _callee(2, addr(q1))
    q2: usize = 0
    _callee(2, addr(q2))
    harness.expect_eq(syscall.proc_give(p1, q2, C_NEXT_PORTAL), abi.OK, "give the next portal")
    res: syscall.SysResult
    if harness.expect_eq(syscall.migrate_call(q1, 4, 5, 6, 0, addr(res)), abi.OK, "forwarded call"):
        harness.expect_eq(res.v0, 11, "result of the second callee")
        harness.expect_eq(res.v1, 0x77, "the second portal's badge")
    harness.expect_eq(syscall.migrate_forward(q2, 0, 0, 0, 0), abi.ERR_BAD_STATE, "forward outside a call")
    spawn.done()


def destroyed_callee_unwinds_its_callers() -> None:
    """Destroying the callee's process ends a call inside it with ERR_STALE; the calling thread lives on."""
    harness.begin("migrate: a destroyed callee's callers get ERR_STALE")
    q: usize = 0
    p = _callee(2, addr(q))
    t = spawn.start(addr(_caller_thread), q, 1000, 63)
    syscall.sleep(2)
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the callee")
    spawn.expect_exit(t, abi.ERR_STALE, "the call in the destroyed callee")
    spawn.done()


def _chain_caller(q: usize, ticks: usize) -> None:
    """Thread body: a migrated call whose callee calls on into another callee that sleeps ``ticks``; exit with its error."""
    res: syscall.SysResult
    syscall.exit(syscall.migrate_call(q, 8, ticks, 0, 0, addr(res)))


def destroyed_middle_callee_unwinds_the_chain() -> None:
    """Destroying a callee whose own call is still running elsewhere returns the thread past it, with ERR_STALE.

    Found while tracing a hang of the system-call fuzzer (docs/reliability.md):
    only a thread running *in* the destroyed process was unwound, so one
    that had called on from it into a second callee later returned into the
    freed process (its space and table gone, or a new process's in the same
    slot).
    """
    harness.begin("migrate: destroying the middle of a call chain returns the thread to the first caller")
    first: usize = 0
    second: usize = 0
    p1 = _callee(2, addr(first))
    _callee(2, addr(second))
    syscall.proc_give(p1, second, C_NEXT_PORTAL)
    t = spawn.start(addr(_chain_caller), first, 1000, 63)
    syscall.sleep(2)
    harness.expect_eq(syscall.cap_destroy(p1), abi.OK, "destroy the middle callee")
    spawn.expect_exit(t, abi.ERR_STALE, "the chain through the destroyed callee")
    res: syscall.SysResult
    # The second callee lost nothing: its two stacks are free again for two calls at once.
    harness.expect_eq(syscall.migrate_call(second, 0, 1, 2, 0, addr(res)), abi.OK, "the second callee's portal")
    harness.expect_eq(res.v0, 3, "its result")
    spawn.done()


def _free_threads() -> usize:
    """Return how many threads the kernel's pool has free (activations come from it)."""
    res: syscall.SysResult
    syscall.console_pool(CONSOLE, abi.KIND_THREAD, addr(res))
    return res.v0


def _await_threads(free: usize, what: Ptr[u8]) -> None:
    """Sleep a tick at a time (at most 100) until the thread pool has ``free`` free threads, then check it."""
    n: usize = 0
    while _free_threads() != free and n < 100:
        syscall.sleep(1)
        n += 1
    harness.expect_eq(_free_threads(), free, what)


def _mark(p: usize) -> usize:
    """Create a notification, give it to callee ``p`` as C_MARK and return init's slot of it."""
    mark = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, mark, 0)
    harness.expect_eq(syscall.proc_give(p, mark, C_MARK), abi.OK, "give the mark")
    return mark


def notify_runs_one_way() -> None:
    """A one-way call runs the entry in a new activation with the badge and the caller's priority; nobody waits."""
    harness.begin("migrate: notify runs the entry in an activation while the caller goes on")
    q: usize = 0
    p = _callee(1, addr(q))
    mark = _mark(p)
    free = _free_threads()
    harness.expect_eq(syscall.migrate_notify(q, 6, 5, 3, 0), abi.OK, "notify")
    harness.expect_eq(_free_threads(), free - 1, "an activation was made")
    res: syscall.SysResult
    syscall.ntfn_poll(mark, addr(res))
    harness.expect_eq(res.v0, 0, "the caller went on before the activation ran")
    harness.expect_eq(syscall.migrate_notify(q, 6, 1, 0, 0), abi.ERR_NO_OBJECTS, "notify with no free stack")
    harness.expect_eq(syscall.migrate_call(q, 0, 0, 0, 0, addr(res)), abi.ERR_NO_OBJECTS, "call with no free stack")
    harness.expect_eq(_free_threads(), free - 1, "a refused notify takes no thread")
    if harness.expect_eq(syscall.ntfn_wait(mark, addr(res)), abi.OK, "wait for the activation"):
        harness.expect_eq(res.v0, (0x77 << 32) | (63 << 16) | 5, "badge, priority and argument")
    _await_threads(free, "the returned activation is gone")
    if harness.expect_eq(syscall.migrate_call(q, 0, 1, 1, 0, addr(res)), abi.OK, "the stack is free again"):
        harness.expect_eq(res.v0, 2, "its result")
    spawn.done()


def notify_ends_on_fault_exit_and_forward() -> None:
    """A fault or an exit ends an activation; a forwarded one ends at the next callee's return; stacks come back."""
    harness.begin("migrate: a fault, an exit or a forwarded return ends an activation and frees its stack")
    q1: usize = 0
    p1 = _callee(1, addr(q1))
    q2: usize = 0
    _callee(1, addr(q2))
    harness.expect_eq(syscall.proc_give(p1, q2, C_NEXT_PORTAL), abi.OK, "give the next portal")
    free = _free_threads()
    harness.expect_eq(syscall.migrate_notify(q1, 1, 0, 0, 0), abi.OK, "notify that faults")
    _await_threads(free, "the faulted activation is gone")
    harness.expect_eq(syscall.migrate_notify(q1, 7, 3, 0, 0), abi.OK, "notify that exits")
    _await_threads(free, "the exited activation is gone")
    harness.expect_eq(syscall.migrate_notify(q1, 4, 5, 6, 0), abi.OK, "notify that forwards")
    _await_threads(free, "the forwarded activation is gone")
    res: syscall.SysResult
    if harness.expect_eq(syscall.migrate_call(q1, 0, 2, 3, 0, addr(res)), abi.OK, "the first stack is free"):
        harness.expect_eq(res.v0, 5, "its result")
    if harness.expect_eq(syscall.migrate_call(q2, 0, 4, 3, 0, addr(res)), abi.OK, "the second stack is free"):
        harness.expect_eq(res.v0, 7, "its result")
    spawn.done()


def notify_errors() -> None:
    """Notify needs WRITE and a portal with an entry; a destroyed callee ends its activations and its portal is stale."""
    harness.begin("migrate: notify's errors, and a destroyed callee ends the activations in it")
    q: usize = 0
    p = _callee(2, addr(q))
    ro = spawn.take()
    harness.expect_eq(syscall.cap_mint(q, ro, abi.RIGHT_READ, 0), abi.OK, "read-only copy")
    harness.expect_eq(syscall.migrate_notify(ro, 0, 0, 0, 0), abi.ERR_RIGHTS, "without WRITE")
    bare = spawn.take()
    syscall.proc_create(p, abi.KIND_PORTAL, bare, 0)
    harness.expect_eq(syscall.migrate_notify(bare, 0, 0, 0, 0), abi.ERR_BAD_STATE, "a portal with no entry")
    harness.expect_eq(syscall.migrate_notify(spawn.STRAY_SLOT, 0, 0, 0, 0), abi.ERR_WRONG_KIND, "an endpoint")
    free = _free_threads()
    harness.expect_eq(syscall.migrate_notify(q, 6, 1, 1000, 0), abi.OK, "notify that sleeps in the callee")
    harness.expect_eq(syscall.migrate_notify(q, 6, 2, 1000, 0), abi.OK, "a second one")
    syscall.sleep(2)
    harness.expect_eq(_free_threads(), free - 2, "two activations")
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the callee")
    harness.expect_eq(_free_threads(), free, "its activations ended with it")
    harness.expect_eq(syscall.migrate_notify(q, 0, 0, 0, 0), abi.ERR_STALE, "notify a destroyed callee's portal")
    spawn.done()


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    call_runs_in_the_callee()
    callee_fault_returns_an_error()
    stacks_and_nesting_are_bounded()
    forward_returns_to_the_original_caller()
    destroyed_callee_unwinds_its_callers()
    destroyed_middle_callee_unwinds_the_chain()
    notify_runs_one_way()
    notify_ends_on_fault_exit_and_forward()
    notify_errors()
    harness.begin("migrate: kernel state is clean afterwards")
    spawn.expect_clean()
    harness.end()
