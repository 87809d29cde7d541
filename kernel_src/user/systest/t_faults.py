"""System tests of user faults: every fault kind is contained, reported to the handler's endpoint, and resumable or fatal only to its process."""

from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
BADGE: Final = 0xFA0       # the badge of the handler's capability, which every fault message must carry
ANY: Final = 0xFFFF_FFFF_FFFF_FFFF     # _provoke: do not check the fault address
WAIT_TICKS: Final = 100    # safety net for a fault message that never comes
UART_HOLE: Final = 0x800   # an offset in the UART's page where QEMU virt has no device (its 16550 has 8 registers)


def _load(a0: usize, a1: usize) -> None:
    """Thread body: load the word at a0 and exit with it (no globals: runs in a bare child too)."""
    syscall.exit(volatile_load(cast(Ptr[usize], a0)))


def _store(a0: usize, a1: usize) -> None:
    """Thread body: store a1 at a0, then exit with 0."""
    volatile_store(cast(Ptr[usize], a0), a1)
    syscall.exit(0)


def _jump(a0: usize, a1: usize) -> None:
    """Thread body: jump to a0 (a page that is not executable)."""
    asm("jr {0}", a0)
    syscall.exit(0)


def _illegal(a0: usize, a1: usize) -> None:
    """Thread body: execute an illegal instruction."""
    asm("unimp")
    syscall.exit(0)


def _breakpoint(a0: usize, a1: usize) -> None:
    """Thread body: execute ebreak."""
    asm("ebreak")
    syscall.exit(0)


def _misaligned_amo(a0: usize, a1: usize) -> None:
    """Thread body: an atomic add to the misaligned address a0 (plain loads and stores OpenSBI would emulate)."""
    asm("amoadd.w zero, zero, ({0})", a0, clobbers=("memory",))
    syscall.exit(0)


def _exit_with(a0: usize, a1: usize) -> None:
    """Thread body: exit with a0 + a1 (where a handler restarts a faulted thread)."""
    syscall.exit(a0 + a1)


def _count_to(a0: usize, a1: usize) -> None:
    """Thread body (no globals): sleep a tick a0 times, then exit with a0."""
    n: usize = 0
    while n < a0:
        syscall.sleep(1)
        n += 1
    syscall.exit(a0)


def _handler() -> usize:
    """Create an endpoint and a badged copy for fault messages; return the copy's slot (the endpoint's is before it)."""
    ep = spawn.take()
    if ep == spawn.NONE:
        return spawn.NONE
    if not harness.expect_eq(syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0), abi.OK, "create endpoint"):
        return spawn.NONE
    badged = spawn.take()
    if not harness.expect_eq(syscall.cap_mint(ep, badged, abi.RIGHTS_ALL, BADGE), abi.OK, "mint badge"):
        return spawn.NONE
    return badged


def _provoke(func: usize, a0: usize, a1: usize, kind: usize, address: usize, msg: Ptr[syscall.SysResult]) -> usize:
    """Run ``func(a0, a1)`` in a thread with a fault handler; check the one fault message it causes.

    The message must carry the handler capability's badge, LABEL_FAULT,
    ``kind``, ``address`` (unless ANY) and the thread's id, and the thread
    must be FAULTED with the same record. The message stays in ``msg``.
    Returns the thread's slot, NONE when something failed.
    """
    h = _handler()
    if h == spawn.NONE:
        return spawn.NONE
    t = spawn.thread(func, a0, a1, spawn.LOW)
    if t == spawn.NONE:
        return spawn.NONE
    harness.expect_eq(syscall.thread_set_fault(t, h), abi.OK, "set fault endpoint")
    syscall.thread_start(t)
    if not harness.expect_eq(syscall.ep_recv(h, WAIT_TICKS, msg), abi.OK, "no fault message"):
        return spawn.NONE
    res: syscall.SysResult
    syscall.thread_id(t, addr(res))
    harness.expect_eq(msg.v0, BADGE, "badge")
    harness.expect_eq(msg.v1, abi.LABEL_FAULT, "label")
    harness.expect_eq(msg.v2, kind, "fault kind")
    if address != ANY:
        harness.expect_eq(msg.v3, address, "fault address")
    harness.expect_eq(msg.v5, res.v0, "thread id")
    if harness.expect_eq(syscall.thread_state(t, addr(res)), abi.OK, "state"):
        harness.expect_eq(res.v0, abi.STATE_FAULTED, "state")
        harness.expect_eq(res.v2, kind, "state's fault kind")
        harness.expect_eq(res.v3, msg.v3, "state's fault address")
        harness.expect_eq(res.v4, msg.v4, "state's fault pc")
    return t


def _expect_pc_in(pc: usize, func: usize) -> None:
    """Check that a fault pc lies in the first bytes of thread body ``func`` (where its asm is)."""
    if pc < func or pc >= func + 64:
        harness.fail("fault pc %p is not in the body at %p", pc, func)


def write_to_read_only() -> None:
    """A store to a read-only page is FAULT_PAGE at that address; the page keeps its contents."""
    va: usize = spawn.TEST_AREA
    f = spawn.map_frame(1, va, abi.RIGHT_READ)
    if f == spawn.NONE:
        return
    msg: syscall.SysResult
    _provoke(addr(_store), va + 8, 0xBAD, abi.FAULT_PAGE, va + 8, addr(msg))
    harness.expect_eq(volatile_load(cast(Ptr[usize], va + 8)), 0, "the page changed")


def execute_non_executable() -> None:
    """A jump into a read + write page is FAULT_PAGE with address and pc both the page's."""
    va: usize = spawn.TEST_AREA
    f = spawn.map_frame(1, va, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if f == spawn.NONE:
        return
    # A valid instruction there ("ret"): only the missing execute permission can fault.
    volatile_store(cast(Ptr[u32], va), u32(0x00008067))
    msg: syscall.SysResult
    if _provoke(addr(_jump), va, 0, abi.FAULT_PAGE, va, addr(msg)) != spawn.NONE:
        harness.expect_eq(msg.v4, va, "fault pc")


def unmapped_load() -> None:
    """A load from an unmapped address is FAULT_PAGE at that address, the pc in the loading code."""
    va: usize = spawn.TEST_AREA + 0x123_4568
    msg: syscall.SysResult
    if _provoke(addr(_load), va, 0, abi.FAULT_PAGE, va, addr(msg)) != spawn.NONE:
        _expect_pc_in(msg.v4, addr(_load))


def illegal_instruction() -> None:
    """An illegal instruction is FAULT_ILLEGAL at its pc."""
    msg: syscall.SysResult
    if _provoke(addr(_illegal), 0, 0, abi.FAULT_ILLEGAL, ANY, addr(msg)) != spawn.NONE:
        _expect_pc_in(msg.v4, addr(_illegal))


def breakpoint_fault() -> None:
    """ebreak is FAULT_BREAKPOINT at its pc."""
    msg: syscall.SysResult
    if _provoke(addr(_breakpoint), 0, 0, abi.FAULT_BREAKPOINT, ANY, addr(msg)) != spawn.NONE:
        _expect_pc_in(msg.v4, addr(_breakpoint))


def misaligned_atomic() -> None:
    """An AMO to a misaligned address is FAULT_MISALIGNED at that address."""
    va: usize = spawn.TEST_AREA
    f = spawn.map_frame(1, va, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if f == spawn.NONE:
        return
    msg: syscall.SysResult
    if _provoke(addr(_misaligned_amo), va + 2, 0, abi.FAULT_MISALIGNED, va + 2, addr(msg)) != spawn.NONE:
        _expect_pc_in(msg.v4, addr(_misaligned_amo))
    harness.expect_eq(volatile_load(cast(Ptr[usize], va)), 0, "the word changed")


def access_fault() -> None:
    """A load from a mapped device page where the bus has nothing is FAULT_ACCESS at that address."""
    va: usize = spawn.TEST_AREA
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, va, abi.RIGHT_READ), abi.OK, "map the UART")
    msg: syscall.SysResult
    _provoke(addr(_load), va + UART_HOLE, 0, abi.FAULT_ACCESS, va + UART_HOLE, addr(msg))
    res: syscall.SysResult
    syscall.proc_unmap(SELF, va, 1, addr(res))


def resume_at_new_pc() -> None:
    """The handler sets a new pc (and stack and arguments) and resumes: the thread runs on from there."""
    msg: syscall.SysResult
    t = _provoke(addr(_breakpoint), 0, 0, abi.FAULT_BREAKPOINT, ANY, addr(msg))
    if t == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_set_regs(t, addr(_exit_with), spawn.stack_top(t), 30, 3), abi.OK, "set regs")
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    spawn.expect_exit(t, 33, "exit from the new pc")


def handler_maps_and_retries() -> None:
    """A handler waiting for the fault maps the missing page and resumes: the load is retried and succeeds."""
    va: usize = spawn.TEST_AREA + 0x20_0000
    msg: syscall.SysResult
    t = _provoke(addr(_load), va, 0, abi.FAULT_PAGE, va, addr(msg))
    if t == spawn.NONE:
        return
    if spawn.map_frame(1, va, abi.RIGHT_READ | abi.RIGHT_WRITE) == spawn.NONE:
        return
    volatile_store(cast(Ptr[usize], va), 0x600D)
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    spawn.expect_exit(t, 0x600D, "the retried load")


def resume_without_fix_faults_again() -> None:
    """Resumed with nothing changed, the thread faults again and the handler gets a second message."""
    msg: syscall.SysResult
    h = _handler()
    t = spawn.thread(addr(_illegal), 0, 0, spawn.LOW)
    if h == spawn.NONE or t == spawn.NONE:
        return
    syscall.thread_set_fault(t, h)
    syscall.thread_start(t)
    harness.expect_eq(syscall.ep_recv(h, WAIT_TICKS, addr(msg)), abi.OK, "first fault")
    first_pc = msg.v4
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    if harness.expect_eq(syscall.ep_recv(h, WAIT_TICKS, addr(msg)), abi.OK, "second fault"):
        harness.expect_eq(msg.v2, abi.FAULT_ILLEGAL, "kind")
        harness.expect_eq(msg.v4, first_pc, "pc")


def destroyed_faulter_withdraws_message() -> None:
    """A faulted thread destroyed before its handler receives takes its queued fault message with it."""
    h = _handler()
    t = spawn.thread(addr(_breakpoint), 0, 0, spawn.LOW)
    if h == spawn.NONE or t == spawn.NONE:
        return
    syscall.thread_set_fault(t, h)
    syscall.thread_start(t)
    harness.expect_eq(spawn.wait(t, WAIT_TICKS), abi.STATE_FAULTED, "state")
    harness.expect_eq(syscall.cap_destroy(t), abi.OK, "destroy")
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(h, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "message left behind")


def unhandled_fault_kills_only_the_child() -> None:
    """Without a handler a fault destroys the faulting child process, its quota returns, init goes on."""
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used_before = me.v1
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return
    t = spawn.child_thread(p, addr(_illegal), 0, 0, spawn.LOW, False)
    if t == spawn.NONE:
        return
    syscall.thread_start(t)
    harness.expect_eq(spawn.wait(t, WAIT_TICKS), spawn.NONE, "the thread is still there")
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_info(p, addr(res)), abi.ERR_STALE, "the child is still there")
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used_before, "init's pages used")
    # And init can still make processes that run.
    q = spawn.child(spawn.CHILD_QUOTA, False)
    u = spawn.child_thread(q, addr(_exit_with), 1, 2, spawn.LOW)
    if q != spawn.NONE and u != spawn.NONE:
        syscall.thread_start(u)
        spawn.expect_exit(u, 3, "a new child")


def sibling_goes_on() -> None:
    """A handled fault stops only the faulting thread: another thread of the same child runs on to its exit."""
    h = _handler()
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if h == spawn.NONE or p == spawn.NONE:
        return
    f = spawn.child_thread(p, addr(_illegal), 0, 0, spawn.LOW)
    g = spawn.child_thread(p, addr(_count_to), 5, 0, spawn.LOW)
    if f == spawn.NONE or g == spawn.NONE:
        return
    syscall.thread_set_fault(f, h)
    syscall.thread_start(g)
    syscall.thread_start(f)
    msg: syscall.SysResult
    harness.expect_eq(syscall.ep_recv(h, WAIT_TICKS, addr(msg)), abi.OK, "fault message")
    spawn.expect_exit(g, 5, "the sibling")
    res: syscall.SysResult
    syscall.thread_state(f, addr(res))
    harness.expect_eq(res.v0, abi.STATE_FAULTED, "the faulter")


def dead_handler_is_no_handler() -> None:
    """A thread whose fault endpoint was destroyed has no handler: its fault destroys its (child) process."""
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    t = spawn.child_thread(p, addr(_breakpoint), 0, 0, spawn.LOW)
    if p == spawn.NONE or t == spawn.NONE:
        return
    harness.expect_eq(syscall.thread_set_fault(t, ep), abi.OK, "set fault endpoint")
    syscall.cap_destroy(ep)
    syscall.thread_start(t)
    harness.expect_eq(spawn.wait(t, WAIT_TICKS), spawn.NONE, "the thread is still there")
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_info(p, addr(res)), abi.ERR_STALE, "the child is still there")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("faults: write to a read-only page")
    write_to_read_only()
    spawn.done()
    harness.begin("faults: execute from a non-executable page")
    execute_non_executable()
    spawn.done()
    harness.begin("faults: load from an unmapped address")
    unmapped_load()
    spawn.done()
    harness.begin("faults: illegal instruction")
    illegal_instruction()
    spawn.done()
    harness.begin("faults: breakpoint")
    breakpoint_fault()
    spawn.done()
    harness.begin("faults: misaligned atomic")
    misaligned_atomic()
    spawn.done()
    harness.begin("faults: access fault on a device hole")
    access_fault()
    spawn.done()
    harness.begin("faults: the handler resumes at a new pc")
    resume_at_new_pc()
    spawn.done()
    harness.begin("faults: the handler maps the page and the access is retried")
    handler_maps_and_retries()
    spawn.done()
    harness.begin("faults: resumed unchanged, a thread faults again")
    resume_without_fix_faults_again()
    spawn.done()
    harness.begin("faults: a destroyed faulter's message is withdrawn")
    destroyed_faulter_withdraws_message()
    spawn.done()
    harness.begin("faults: without a handler only the child dies")
    unhandled_fault_kills_only_the_child()
    spawn.done()
    harness.begin("faults: a sibling thread goes on")
    sibling_goes_on()
    spawn.done()
    harness.begin("faults: a destroyed handler endpoint is no handler")
    dead_handler_is_no_handler()
    spawn.done()
    harness.begin("faults: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
