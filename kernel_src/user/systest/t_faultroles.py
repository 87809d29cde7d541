"""System tests of fault containment: every user fault kind (user/lib/faults.py) in every role a faulting thread can have.

A table of rows (faults.FAULTS: each exception U-mode can raise, each way
that differs for the kernel) times a table of columns (ROLES):

- *handled program*: a thread of a child process with a fault handler; the
  message must name the kind, the address and the pc, the thread must be
  FAULTED with the same record, and the handler then destroys the child;
- *unhandled program*: no handler, so the kernel destroys the child;
- *program with waiting threads*: the same, while its other threads wait in
  a call and a send to init's endpoint and on init's notification: they
  must leave those queues (no message from a dead thread, no signal taken);
- *service in a call*: a server thread has received one client's call and
  faults while that client waits for the reply, another client's call is
  queued on its endpoint, a payload sender is queued behind it and a fourth
  client waits in a receive on a second endpoint of the service; its
  supervisor (the fault handler) gets the message while all four still
  wait, then destroys the service: each gets ERR_STALE, none hangs;
- *driver holding an IRQ*: a driver has claimed the UART's line, taken an
  interrupt and not acknowledged it when it faults (no handler): afterwards
  the claim is gone from the IRQ pool, the line can be claimed again and it
  interrupts again, so the kernel completed it at the PLIC and freed it;
- *migrated callee*: the fault happens in a portal's entry during a
  migrated call (OP_MIGRATE_CALL): the caller's call returns ERR_FAULTED,
  the portal's stack is free again and the callee serves the next call;
- *nested migrated callee*: the entry calls its own portal and the fault
  happens two levels deep: the inner call returns ERR_FAULTED to the outer
  level, which returns normally to the first caller;
- *one-way activation*: the same entry reached by OP_MIGRATE_NOTIFY: the
  activation ends, its thread returns to the pool, its stack to the portal.

After every cell all of init's test objects are destroyed and every pool
must be back at the free count it had before the module ran, init's pages
used too (after a first round that lets init's own page tables grow), with
no kernel invariant violated. Each cell is one test line
``fault matrix: <row> / <role>``; the summary tests (one literal name per
role, which tests/test_systest.py requires) fail if any of its cells did,
and the matrix is printed at the end.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from lib import kprintf as fmt
from user.lib import console, faults, image, syscall
from user.systest import harness, spawn, t_irq

SELF: Final = initcaps.SLOT_SELF_PROCESS
AREA: Final = 0x3D_0000_0000            # the victim's fault area (faults.py's layout)
SCRATCH_VA: Final = 0x3B_0000_0000      # init maps a victim's page here briefly to fill it
PORTAL_STACK_VA: Final = 0x3C_0000_0000     # a callee's two portal stacks, each with an unmapped guard below it
PORTAL_STACK_BYTES: Final = 8 * board.PAGE_SIZE     # per stack: 4 pages unmapped, then 4 mapped
PORTAL_STACK_MAPPED: Final = 4 * board.PAGE_SIZE
VICTIM_QUOTA: Final = 40
WAIT_TICKS: Final = 100                 # safety net: nothing here should take more than a few ticks
SERVER_PRIO: Final = 20
NO_FAULT: Final = 0x600D                # a victim's exit code (or result) when its act did not fault
NO_IRQ: Final = 0x1DE                   # the driver's exit code when no interrupt came
IRQ_BITS: Final = 0x8
ROWS: Final = faults.ROWS
BADGE: Final = 0xFA1
# Slots in a victim's own table.
V_EP: Final = 0                 # service: the endpoint it serves
V_GO: Final = 1                 # service: the notification that lets it go on to fault
V_IRQ_CONTROL: Final = 0        # driver: the right to claim lines
V_NTFN: Final = 1               # driver: the notification its line is bound to
V_IRQ: Final = 2                # driver: where its claim goes
V_PORTAL: Final = 0             # callee: its own portal, for a nested call
NEST: Final = 0x4E57            # a call's a3: the entry passes the row one level deeper, to its own portal
NEST_MARK: Final = 0x4E         # the nesting level's second result
NUM_ROLES: Final = 8

NAME_MAX: Final = 96
_name: Array[u8, NAME_MAX]
_results: Array[u8, ROWS * NUM_ROLES]   # 1: the cell passed


@struct
class Role:
    """One column: its name and the function that runs row ``row`` in it (checks through harness)."""

    name: Ptr[u8]
    run: Callable[[usize], None]


def _act(row: usize) -> None:
    """Run row ``row``'s act in the victim's fault area (returns only when it did not fault)."""
    faults.FAULTS[row].act(AREA)


def _victim_thread(row: usize, unused: usize) -> None:
    """A program's thread body (no globals): fault with row ``row``, else exit NO_FAULT."""
    _act(row)
    syscall.exit(NO_FAULT)


def _server(row: usize, unused: usize) -> None:
    """The service's thread body: receive one call on V_EP, wait for V_GO, then fault with row ``row``."""
    res: syscall.SysResult
    syscall.ep_recv(V_EP, 0, addr(res))
    syscall.ntfn_wait(V_GO, addr(res))
    _act(row)
    syscall.exit(NO_FAULT)


def _driver(row: usize, unused: usize) -> None:
    """The driver's thread body: claim the UART's line, take an interrupt, leave it unacknowledged and fault."""
    if syscall.irq_claim(V_IRQ_CONTROL, board.UART0_IRQ, V_IRQ) != abi.OK:
        syscall.exit(NO_IRQ)
    if syscall.irq_bind(V_IRQ, V_NTFN, IRQ_BITS) != abi.OK or t_irq.raise_thre(V_NTFN) != IRQ_BITS:
        syscall.exit(NO_IRQ)
    _act(row)
    syscall.exit(NO_FAULT)


def _entry(badge: usize, row: usize, a2: usize, a3: usize, a4: usize) -> None:
    """The callee's portal entry: fault with row ``row`` (ROWS or more: return at once with NO_FAULT).

    With ``a3`` NEST it calls its own portal (V_PORTAL) with the row instead,
    one level deeper, and returns (that call's error, NEST_MARK, its first result).
    """
    res: syscall.SysResult
    if a3 == NEST:
        err = syscall.migrate_call(V_PORTAL, row, AREA, 0, 0, addr(res))
        syscall.migrate_return(err, NEST_MARK, res.v0, 0)
    if row < ROWS:
        _act(row)
    syscall.migrate_return(NO_FAULT, 0, 0, 0)


def _sibling_call(unused: usize, unused2: usize) -> None:
    """A thread of the victim: call init's endpoint in V_EP (init never answers)."""
    res: syscall.SysResult
    syscall.ep_call(V_EP, 1, 0, 0, 0, 0, addr(res))
    syscall.exit(0)


def _sibling_send(unused: usize, unused2: usize) -> None:
    """A thread of the victim: send on init's endpoint in V_EP (init never receives)."""
    syscall.ep_send(V_EP, 2, 0, 0, 0, 0)
    syscall.exit(0)


def _sibling_wait(unused: usize, unused2: usize) -> None:
    """A thread of the victim: wait on init's notification in V_GO (never signalled while it lives)."""
    res: syscall.SysResult
    syscall.ntfn_wait(V_GO, addr(res))
    syscall.exit(0)


def _client_call(ep: usize, unused: usize) -> None:
    """A client thread of init: call ``ep`` and exit with the error."""
    res: syscall.SysResult
    syscall.exit(syscall.ep_call(ep, 1, 2, 3, 4, 5, addr(res)))


def _client_payload(ep: usize, unused: usize) -> None:
    """A client thread of init: send a payload (a string literal's bytes) on ``ep`` and exit with the error."""
    res: syscall.SysResult
    syscall.exit(syscall.ep_send_payload(ep, 7, "payload", 7, 0, addr(res)))


def _client_recv(ep: usize, unused: usize) -> None:
    """A client thread of init: wait in a receive on ``ep`` and exit with the error."""
    res: syscall.SysResult
    syscall.exit(syscall.ep_recv(ep, 0, addr(res)))


def _nesting_caller(portal: usize, row: usize) -> None:
    """A thread of init: a migrated call whose entry calls its own portal with row ``row``.

    Exits with the call's error, or (second result << 16) | first result when it succeeded.
    """
    res: syscall.SysResult
    err = syscall.migrate_call(portal, row, AREA, NEST, 0, addr(res))
    syscall.exit(err if err != abi.OK else (res.v1 << 16) | res.v0)


def _migrating_caller(portal: usize, row: usize) -> None:
    """A thread of init: a migrated call running row ``row`` in the callee; exit with the call's error."""
    res: syscall.SysResult
    syscall.exit(syscall.migrate_call(portal, row, AREA, 0, 0, addr(res)))


def _make(owner: usize, kind: usize, arg: usize) -> usize:
    """Create an object of ``kind`` owned by process ``owner`` (OP_PROC_CREATE's ``arg``) in a new slot of init's.

    Returns the slot, NONE (test failed) on an error. (take() gives the
    lowest empty slot, so each slot is filled before the next is taken.)
    """
    slot = spawn.take()
    if slot == spawn.NONE or not harness.expect_eq(syscall.proc_create(owner, kind, slot, arg), abi.OK, "create"):
        return spawn.NONE
    return slot


def _victim() -> usize:
    """Make a child process laid out for the acts (faults.py): read-only, read + write and UART pages at AREA.

    Its frames are its own (they go with it). Returns its slot, NONE (test failed) on an error.
    """
    p = spawn.child(VICTIM_QUOTA, False)
    if p == spawn.NONE:
        return spawn.NONE
    ro = _make(p, abi.KIND_FRAME, 1)
    rw = _make(p, abi.KIND_FRAME, 1)
    if rw == spawn.NONE:
        return spawn.NONE
    err = syscall.proc_map(p, ro, AREA + faults.RO_OFF, abi.RIGHT_READ)
    if err == abi.OK:
        err = syscall.proc_map(SELF, rw, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        volatile_store(cast(Ptr[u32], SCRATCH_VA), faults.RET_INSN)
        res: syscall.SysResult
        syscall.proc_unmap(SELF, SCRATCH_VA, 1, addr(res))
        err = syscall.proc_map(p, rw, AREA + faults.RW_OFF, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        err = syscall.proc_map(p, initcaps.SLOT_DEVICES, AREA + faults.DEV_OFF, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if not harness.expect_eq(err, abi.OK, "victim set-up"):
        return spawn.NONE
    return p


def _handler() -> usize:
    """Create an endpoint for fault messages and a badged copy; return the copy's slot."""
    ep = _make(SELF, abi.KIND_ENDPOINT, 0)
    if ep == spawn.NONE:
        return spawn.NONE
    badged = spawn.take()
    harness.expect_eq(syscall.cap_mint(ep, badged, abi.RIGHTS_ALL, BADGE), abi.OK, "badge")
    return badged


def _expect_message(h: usize, t: usize, row: usize) -> None:
    """Receive thread ``t``'s fault message on handler ``h``: badge, kind, address, pc and id as row ``row`` says."""
    msg: syscall.SysResult
    if not harness.expect_eq(syscall.ep_recv(h, WAIT_TICKS, addr(msg)), abi.OK, "fault message"):
        return
    f: faults.Fault = faults.FAULTS[row]
    res: syscall.SysResult
    syscall.thread_id(t, addr(res))
    harness.expect_eq(msg.v0, BADGE, "badge")
    harness.expect_eq(msg.v1, abi.LABEL_FAULT, "label")
    harness.expect_eq(msg.v2, f.kind, "fault kind")
    harness.expect_eq(msg.v5, res.v0, "thread id")
    bottom = spawn.stack_top(t) - spawn.STACK_PAGES * board.PAGE_SIZE
    if not faults.expected_address(addr(f), AREA, bottom, msg.v3):
        harness.fail("fault address %p", msg.v3)
    text_end = board.USER_BASE + image.segment_pages(initcaps.SLOT_TEXT) * board.PAGE_SIZE
    if f.pc == faults.PC_AT_ADDRESS:
        harness.expect_eq(msg.v4, msg.v3, "fault pc")
    elif msg.v4 < board.USER_BASE or msg.v4 >= text_end:
        harness.fail("fault pc %p is not in the program's text", msg.v4)
    if harness.expect_eq(syscall.thread_state(t, addr(res)), abi.OK, "state"):
        harness.expect_eq(res.v0, abi.STATE_FAULTED, "state")
        harness.expect_eq(res.v2, msg.v2, "state's fault kind")
        harness.expect_eq(res.v3, msg.v3, "state's fault address")
        harness.expect_eq(res.v4, msg.v4, "state's fault pc")


def _expect_gone(t: usize, p: usize) -> None:
    """Check that thread ``t`` and process ``p`` are destroyed (their capabilities stale) within WAIT_TICKS."""
    state = spawn.wait(t, WAIT_TICKS)
    if state != spawn.NONE:
        harness.fail("the victim is still there in state %u (exit code %u)", state, spawn.exit_code(t))
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_info(p, addr(res)), abi.ERR_STALE, "the victim's process")


def handled_program(row: usize) -> None:
    """A thread with a handler faults: the message is exact; destroying the child releases everything."""
    p = _victim()
    h = _handler()
    if p == spawn.NONE or h == spawn.NONE:
        return
    t = spawn.child_thread(p, addr(_victim_thread), row, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_set_fault(t, h), abi.OK, "set fault endpoint")
    syscall.thread_start(t)
    _expect_message(h, t, row)
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the victim")
    _expect_gone(t, p)


def unhandled_program(row: usize) -> None:
    """A thread without a handler faults: the kernel destroys its process."""
    p = _victim()
    if p == spawn.NONE:
        return
    t = spawn.child_thread(p, addr(_victim_thread), row, 0, spawn.LOW, False)
    if t == spawn.NONE:
        return
    syscall.thread_start(t)
    _expect_gone(t, p)


def _await_blocked(t: usize, what: Ptr[u8]) -> None:
    """Sleep a tick at a time (at most WAIT_TICKS) until thread ``t`` is BLOCKED; fail with ``what`` otherwise."""
    res: syscall.SysResult
    n: usize = 0
    while n < WAIT_TICKS:
        if syscall.thread_state(t, addr(res)) == abi.OK and res.v0 == abi.STATE_BLOCKED:
            return
        syscall.sleep(1)
        n += 1
    harness.fail("%s: not blocked (state %u)", usize(what), res.v0)


def service_in_a_call(row: usize) -> None:
    """A server faults holding one call, with a call, a payload and a receive waiting on its endpoints."""
    p = _victim()
    h = _handler()
    if p == spawn.NONE or h == spawn.NONE:
        return
    ep = _make(p, abi.KIND_ENDPOINT, 0)
    ep2 = _make(p, abi.KIND_ENDPOINT, 0)
    go = _make(SELF, abi.KIND_NOTIFICATION, 0)
    if go == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_give(p, ep, V_EP), abi.OK, "give the endpoint")
    harness.expect_eq(syscall.proc_give(p, go, V_GO), abi.OK, "give the notification")
    s = spawn.child_thread(p, addr(_server), row, 0, SERVER_PRIO)
    if s == spawn.NONE:
        return
    syscall.thread_set_fault(s, h)
    syscall.thread_start(s)
    _await_blocked(s, "the server's receive")
    served = spawn.start(addr(_client_call), ep, 0, spawn.LOW)
    _await_blocked(served, "the served call")
    _await_blocked(s, "the server's wait")
    queued = spawn.start(addr(_client_call), ep, 0, spawn.LOW)
    payload = spawn.start(addr(_client_payload), ep, 0, spawn.LOW)
    receiver = spawn.start(addr(_client_recv), ep2, 0, spawn.LOW)
    _await_blocked(queued, "the queued call")
    _await_blocked(payload, "the payload")
    _await_blocked(receiver, "the receive")
    harness.expect_eq(syscall.ntfn_signal(go, 1), abi.OK, "let the server fault")
    _expect_message(h, s, row)
    res: syscall.SysResult
    syscall.thread_state(served, addr(res))
    harness.expect_eq(res.v0, abi.STATE_BLOCKED, "the served call before the supervisor acts")
    harness.expect_eq(syscall.cap_destroy(p), abi.OK, "destroy the service")
    spawn.expect_exit(served, abi.ERR_STALE, "the served call")
    spawn.expect_exit(queued, abi.ERR_STALE, "the queued call")
    spawn.expect_exit(payload, abi.ERR_STALE, "the payload")
    spawn.expect_exit(receiver, abi.ERR_STALE, "the receive")


def _line_works() -> None:
    """Claim the UART's line in init, bind it and take one interrupt; leave the UART quiet and the claim gone."""
    q = spawn.take()
    harness.expect_eq(syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, q), abi.OK, "claim it again")
    n = _make(SELF, abi.KIND_NOTIFICATION, 0)
    harness.expect_eq(syscall.irq_bind(q, n, IRQ_BITS), abi.OK, "bind it again")
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, t_irq.UART_VA, abi.RIGHT_READ | abi.RIGHT_WRITE),
                      abi.OK, "map the UART")
    harness.expect_eq(t_irq.raise_thre(n), IRQ_BITS, "an interrupt on the line again")
    volatile_store(t_irq.reg(t_irq.IER), u8(0))
    volatile_load(t_irq.reg(t_irq.IIR))
    harness.expect_eq(syscall.irq_ack(q), abi.OK, "ack")
    res: syscall.SysResult
    syscall.proc_unmap(SELF, t_irq.UART_VA, 1, addr(res))


def driver_holding_an_irq(row: usize) -> None:
    """A driver faults with an unacknowledged interrupt: its claim is freed, the line completed and reusable."""
    irqs = _free(abi.KIND_IRQ)
    p = _victim()
    if p == spawn.NONE:
        return
    n = _make(p, abi.KIND_NOTIFICATION, 0)
    harness.expect_eq(syscall.proc_give(p, n, V_NTFN), abi.OK, "give the notification")
    harness.expect_eq(syscall.proc_give(p, initcaps.SLOT_IRQ_CONTROL, V_IRQ_CONTROL), abi.OK, "give IRQ control")
    harness.expect_eq(syscall.proc_map(p, initcaps.SLOT_DEVICES, t_irq.UART_VA, abi.RIGHT_READ | abi.RIGHT_WRITE),
                      abi.OK, "map the UART in the driver")
    t = spawn.child_thread(p, addr(_driver), row, 0, spawn.LOW, False)
    if t == spawn.NONE:
        return
    syscall.thread_start(t)
    _expect_gone(t, p)
    harness.expect_eq(_free(abi.KIND_IRQ), irqs, "free IRQ claims")
    _line_works()


def _callee(portal: Ptr[usize]) -> usize:
    """A victim with a portal at _entry, also in its own V_PORTAL; its slot, the portal's (init's) in portal[0].

    The portal has two stacks, each with unmapped pages below it (a guard
    for the stack overflow row, and no way to run into the other stack).
    """
    p = _victim()
    if p == spawn.NONE:
        return spawn.NONE
    low = _make(p, abi.KIND_FRAME, PORTAL_STACK_MAPPED // board.PAGE_SIZE)
    high = _make(p, abi.KIND_FRAME, PORTAL_STACK_MAPPED // board.PAGE_SIZE)
    q = _make(p, abi.KIND_PORTAL, 0)
    if q == spawn.NONE:
        return spawn.NONE
    rw: usize = abi.RIGHT_READ | abi.RIGHT_WRITE
    err = syscall.proc_map(p, low, PORTAL_STACK_VA + PORTAL_STACK_BYTES - PORTAL_STACK_MAPPED, rw)
    if err == abi.OK:
        err = syscall.proc_map(p, high, PORTAL_STACK_VA + 2 * PORTAL_STACK_BYTES - PORTAL_STACK_MAPPED, rw)
    if err == abi.OK:
        err = syscall.portal_set(q, addr(_entry), PORTAL_STACK_VA, PORTAL_STACK_BYTES, 2)
    if err == abi.OK:
        err = syscall.proc_give(p, q, V_PORTAL)
    if not harness.expect_eq(err, abi.OK, "callee set-up"):
        return spawn.NONE
    portal[0] = q
    return p


def _expect_callee_serves(q: usize) -> None:
    """A call that does not fault succeeds: the portal's one stack is free and the callee is alive."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.migrate_call(q, ROWS, AREA, 0, 0, addr(res)), abi.OK, "the next call"):
        harness.expect_eq(res.v0, NO_FAULT, "its result")


def _free(kind: usize) -> usize:
    """The free count of ``kind``'s pool."""
    res: syscall.SysResult
    syscall.console_pool(initcaps.SLOT_CONSOLE, kind, addr(res))
    return res.v0


def migrated_callee(row: usize) -> None:
    """The fault happens inside a migrated call: the caller gets ERR_FAULTED and the callee goes on."""
    q: usize = 0
    if _callee(addr(q)) == spawn.NONE:
        return
    t = spawn.start(addr(_migrating_caller), q, row, spawn.LOW)
    spawn.expect_exit(t, abi.ERR_FAULTED, "the migrated call")
    _expect_callee_serves(q)


def nested_callee(row: usize) -> None:
    """The fault happens two migrated calls deep: only the inner call fails; the outer level returns normally."""
    q: usize = 0
    if _callee(addr(q)) == spawn.NONE:
        return
    t = spawn.start(addr(_nesting_caller), q, row, spawn.LOW)
    spawn.expect_exit(t, (NEST_MARK << 16) | abi.ERR_FAULTED, "the outer call's results")
    res: syscall.SysResult
    if harness.expect_eq(syscall.migrate_call(q, ROWS, AREA, NEST, 0, addr(res)), abi.OK, "a nested call after it"):
        harness.expect_eq(res.v0, abi.OK, "the inner call")
        harness.expect_eq(res.v2, NO_FAULT, "the inner call's result")


def program_with_waiting_threads(row: usize) -> None:
    """The faulting program's other threads wait in a call and a send to init's endpoint and on its notification.

    No handler, so the kernel destroys the program: its threads must leave
    every queue of init's objects (no message from a dead thread, a signal
    not taken by one).
    """
    p = _victim()
    ep = _make(SELF, abi.KIND_ENDPOINT, 0)
    n = _make(SELF, abi.KIND_NOTIFICATION, 0)
    if p == spawn.NONE or n == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_give(p, ep, V_EP), abi.OK, "give the endpoint")
    harness.expect_eq(syscall.proc_give(p, n, V_GO), abi.OK, "give the notification")
    caller = spawn.child_thread(p, addr(_sibling_call), 0, 0, spawn.LOW, False)
    sender = spawn.child_thread(p, addr(_sibling_send), 0, 0, spawn.LOW, False)
    waiter = spawn.child_thread(p, addr(_sibling_wait), 0, 0, spawn.LOW, False)
    if waiter == spawn.NONE:
        return
    syscall.thread_start(caller)
    syscall.thread_start(sender)
    syscall.thread_start(waiter)
    _await_blocked(caller, "the call")
    _await_blocked(sender, "the send")
    _await_blocked(waiter, "the wait")
    t = spawn.child_thread(p, addr(_victim_thread), row, 0, spawn.LOW, False)
    if t == spawn.NONE:
        return
    syscall.thread_start(t)
    _expect_gone(t, p)
    res: syscall.SysResult
    harness.expect_eq(syscall.thread_state(caller, addr(res)), abi.ERR_STALE, "the calling thread")
    harness.expect_eq(syscall.ep_recv(ep, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK,
                      "a message from a destroyed thread")
    harness.expect_eq(syscall.ntfn_signal(n, 1), abi.OK, "signal")
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 1, "the bit a destroyed waiter must not take")


def one_way_activation(row: usize) -> None:
    """The fault happens in an activation of OP_MIGRATE_NOTIFY: it ends, its thread and stack come back."""
    q: usize = 0
    if _callee(addr(q)) == spawn.NONE:
        return
    threads = _free(abi.KIND_THREAD)
    harness.expect_eq(syscall.migrate_notify(q, row, AREA, 0, 0), abi.OK, "notify")
    n: usize = 0
    while _free(abi.KIND_THREAD) != threads and n < WAIT_TICKS:
        syscall.sleep(1)
        n += 1
    harness.expect_eq(_free(abi.KIND_THREAD), threads, "free threads after the activation")
    _expect_callee_serves(q)


ROLES: Final[Array[Role, NUM_ROLES]] = (
    Role("handled program", handled_program),
    Role("unhandled program", unhandled_program),
    Role("program with waiting threads", program_with_waiting_threads),
    Role("service in a call", service_in_a_call),
    Role("driver holding an IRQ", driver_holding_an_irq),
    Role("migrated callee", migrated_callee),
    Role("nested migrated callee", nested_callee),
    Role("one-way activation", one_way_activation),
)


def _cell(row: usize, role: usize) -> bool:
    """Run one cell as its own test line; True when it passed."""
    fmt.ksnprintf(addr(_name[0]), NAME_MAX, "fault matrix: %s / %s", faults.FAULTS[row].name, ROLES[role].name)
    harness.begin(addr(_name[0]))
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used = me.v1
    ROLES[role].run(row)
    spawn.finish()
    spawn.expect_clean()
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used, "init's pages used")
    passed = not harness.failing()
    harness.end()
    return passed


def _column(role: usize) -> usize:
    """Run every row in ``role``; return how many cells failed."""
    failed: usize = 0
    for row in range(ROWS):
        ok = _cell(row, role)
        _results[row * len(ROLES) + role] = u8(1) if ok else u8(0)
        if not ok:
            failed += 1
    return failed


def _summary(role: usize, failed: usize) -> None:
    """Fail the current (summary) test when ``failed`` cells of ``role`` failed."""
    if failed != 0:
        harness.fail("%u of %u fault kinds not contained as %s", failed, ROWS, usize(ROLES[role].name))
    harness.end()


def _print_matrix() -> None:
    """Print the matrix: a line per row, with its scause code and ok or FAIL for each role, in ROLES' order."""
    console.puts("fault matrix: rows are faults (scause code), columns:")
    for role in range(len(ROLES)):
        console.printf(" %s;", usize(ROLES[role].name))
    console.puts("\n")
    for row in range(ROWS):
        console.printf("fault matrix: %-40s %2u ", usize(faults.FAULTS[row].name), faults.FAULTS[row].cause)
        for role in range(len(ROLES)):
            console.puts(" ok  " if _results[row * len(ROLES) + role] != 0 else " FAIL")
        console.puts("\n")


def _first_round() -> None:
    """Run the first row once in every role, so that init's own page tables for the addresses they use exist.

    Init keeps a page table once it has mapped anything in its span (the
    tables go with the process), so only from the second round on does
    every cell leave init's page count as it found it.
    """
    harness.begin("fault matrix: a first round of every role")
    for role in range(len(ROLES)):
        ROLES[role].run(0)
        spawn.finish()
    spawn.expect_clean()
    harness.end()


def run() -> None:
    """Run every cell of the matrix, a summary test per role, and print the matrix."""
    spawn.pools_saved()
    _first_round()
    for role in range(len(ROLES)):
        failed = _column(role)
        fmt.ksnprintf(addr(_name[0]), NAME_MAX, "fault matrix: %s: every fault kind is contained", ROLES[role].name)
        harness.begin(addr(_name[0]))
        _summary(role, failed)
    _print_matrix()
