"""System tests of isolation: a child cannot reach init's memory or capabilities it was not given, cannot widen its rights, and user pointers are checked."""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS
CONSOLE: Final = initcaps.SLOT_CONSOLE
PAGE: Final = board.PAGE_SIZE
SECRET: Final = 0x5EC7E7
CHILD_CAP: Final = 5            # the slot the child's one capability goes to
MAX_WRITE: Final = 4096         # OP_CONSOLE_WRITE's longest write

_secret: usize = SECRET         # init's data, never mapped into the children here
_payload: Array[u8, 32]         # what the payload test's sender offers


def _load(a0: usize, a1: usize) -> None:
    """Thread body: exit with the word at a0."""
    syscall.exit(volatile_load(cast(Ptr[usize], a0)))


def _store(a0: usize, a1: usize) -> None:
    """Thread body: store a1 at a0, exit with 0."""
    volatile_store(cast(Ptr[usize], a0), a1)
    syscall.exit(0)


def _count_caps(a0: usize, a1: usize) -> None:
    """Thread body: exit with the number of usable slots | the kind in slot a0 << 8 | console write's error << 16."""
    res: syscall.SysResult
    n: usize = 0
    slot: usize = 0
    while slot < board.CAP_SLOTS:
        if syscall.cap_identify(slot, addr(res)) == abi.OK:
            n += 1
        slot += 1
    syscall.cap_identify(a0, addr(res))
    kind = res.v0
    err = syscall.console_write(CONSOLE, "x", 1, addr(res))
    syscall.exit(n | kind << 8 | err << 16)


def _console_pointers(a0: usize, a1: usize) -> None:
    """Thread body (a console in slot CHILD_CAP): write from a kernel address, from a0 (init's), from a literal.

    Exit code: the three errors, 8 bits each, in that order from bit 0.
    """
    res: syscall.SysResult
    kernel = syscall.console_write(CHILD_CAP, cast(Ptr[u8], board.KERNEL_BASE), 8, addr(res))
    theirs = syscall.console_write(CHILD_CAP, cast(Ptr[u8], a0), 8, addr(res))
    mine = syscall.console_write(CHILD_CAP, "child\n", 6, addr(res))
    syscall.exit(kernel | theirs << 8 | mine << 16)


def _widen(a0: usize, a1: usize) -> None:
    """Thread body: mint the READ-only notification in slot a0 with every right into slot a0 + 1, then signal through it.

    Exit code: mint's error | the new rights << 8 | signal's error << 16.
    """
    res: syscall.SysResult
    err = syscall.cap_mint(a0, a0 + 1, abi.RIGHTS_ALL, 0)
    syscall.cap_identify(a0 + 1, addr(res))
    syscall.exit(err | res.v1 << 8 | syscall.ntfn_signal(a0 + 1, 1) << 16)


def _destroy_own_process(a0: usize, a1: usize) -> None:
    """Thread body: destroy the process in slot a0 (its own); never comes back if that works."""
    syscall.exit(syscall.cap_destroy(a0))


def _stop_self(a0: usize, a1: usize) -> None:
    """Thread body: stop itself through its thread capability in slot a0, then exit with 0x51 once resumed."""
    syscall.thread_stop(a0)
    syscall.exit(0x51)


def _read_sstatus(a0: usize, a1: usize) -> None:
    """Thread body: read the supervisor CSR sstatus (illegal in user mode)."""
    syscall.exit(asm("csrr {out}, sstatus", out=usize))


def _expect_thread_fault(pc: usize, a0: usize, kind: usize, address: usize) -> None:
    """Start a thread of init's process at ``pc`` (argument a0) with a handler; check its fault's kind and address."""
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = spawn.thread(pc, a0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_set_fault(t, ep)
    syscall.thread_start(t)
    msg: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 100, addr(msg)), abi.OK, "no fault"):
        harness.expect_eq(msg.v2, kind, "fault kind")
        harness.expect_eq(msg.v3, address, "fault address")


def _load_two(a0: usize, a1: usize) -> None:
    """Thread body: load the words at a0 and a1; exit with the first (the second may fault)."""
    first = volatile_load(cast(Ptr[usize], a0))
    volatile_load(cast(Ptr[usize], a1))
    syscall.exit(first)


def _send_payload(a0: usize, a1: usize) -> None:
    """Thread body: offer the 32 bytes of _payload on endpoint a0; exit with the error | bytes taken << 8."""
    res: syscall.SysResult
    err = syscall.ep_send_payload(a0, 3, addr(_payload[0]), 32, 0, addr(res))
    syscall.exit(err | res.v0 << 8)


def _child_fault(func: usize, a0: usize, a1: usize, msg: Ptr[syscall.SysResult]) -> bool:
    """Run func(a0, a1) in a child without init's data, with a handler; True when it faulted (message in ``msg``)."""
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return False
    t = spawn.child_thread(p, func, a0, a1, spawn.LOW)
    if t == spawn.NONE:
        return False
    syscall.thread_set_fault(t, ep)
    syscall.thread_start(t)
    return harness.expect_eq(syscall.ep_recv(ep, 100, msg), abi.OK, "no fault")


def _run_child(func: usize, a0: usize, give: usize) -> usize:
    """Run func(a0, 0) in a child without init's data, given init's ``give`` slot in CHILD_CAP; return its exit code.

    ``give`` NONE gives nothing. NONE when the child did not exit.
    """
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return spawn.NONE
    if give != spawn.NONE:
        harness.expect_eq(syscall.proc_give(p, give, CHILD_CAP), abi.OK, "give")
    t = spawn.child_thread(p, func, a0, 0, spawn.LOW)
    if t == spawn.NONE:
        return spawn.NONE
    syscall.thread_start(t)
    if not harness.expect_eq(spawn.wait(t, 100), abi.STATE_EXITED, "child thread"):
        return spawn.NONE
    return spawn.exit_code(t)


def child_cannot_read_init() -> None:
    """Init's data is simply not mapped in a child: reading it is a page fault at that address."""
    msg: syscall.SysResult
    if _child_fault(addr(_load), usize(addr(_secret)), 0, addr(msg)):
        harness.expect_eq(msg.v2, abi.FAULT_PAGE, "kind")
        harness.expect_eq(msg.v3, usize(addr(_secret)), "address")


def child_cannot_write_init() -> None:
    """Writing init's data from a child faults, and init's word keeps its value."""
    msg: syscall.SysResult
    if _child_fault(addr(_store), usize(addr(_secret)), 0xBAD, addr(msg)):
        harness.expect_eq(msg.v2, abi.FAULT_PAGE, "kind")
        harness.expect_eq(msg.v3, usize(addr(_secret)), "address")
    harness.expect_eq(spawn.vload(addr(_secret)), SECRET, "init's word")


def child_has_only_what_it_was_given() -> None:
    """A child given one capability sees exactly that one: init's console and everything else are empty slots."""
    n = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, n, 0)
    code = _run_child(addr(_count_caps), CHILD_CAP, n)
    if code != spawn.NONE:
        harness.expect_eq(code & 0xFF, 1, "usable slots")
        harness.expect_eq((code >> 8) & 0xFF, abi.KIND_NOTIFICATION, "the given capability's kind")
        harness.expect_eq(code >> 16, abi.ERR_EMPTY_SLOT, "console write without a console")


def child_pointers_are_its_own() -> None:
    """A child's console writes from a kernel address or from init's memory are ERR_BAD_ADDRESS; its own literal works."""
    code = _run_child(addr(_console_pointers), usize(addr(_secret)), CONSOLE)
    if code != spawn.NONE:
        harness.expect_eq(code & 0xFF, abi.ERR_BAD_ADDRESS, "kernel address")
        harness.expect_eq((code >> 8) & 0xFF, abi.ERR_BAD_ADDRESS, "init's address")
        harness.expect_eq(code >> 16, abi.OK, "the child's own string")


def child_cannot_widen_rights() -> None:
    """A child given a READ-only capability cannot mint more rights into it: signalling stays ERR_RIGHTS."""
    n = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, n, 0)
    ro = spawn.take()
    syscall.cap_mint(n, ro, abi.RIGHT_READ | abi.RIGHT_GRANT, 0)
    code = _run_child(addr(_widen), CHILD_CAP, ro)
    if code != spawn.NONE:
        harness.expect_eq(code & 0xFF, abi.OK, "mint")
        harness.expect_eq((code >> 8) & 0xFF, abi.RIGHT_READ | abi.RIGHT_GRANT, "rights after mint")
        harness.expect_eq(code >> 16, abi.ERR_RIGHTS, "signal")
    res: syscall.SysResult
    syscall.ntfn_poll(n, addr(res))
    harness.expect_eq(res.v0, 0, "bits")


def _child_loads(value: usize, extra: bool, msg: Ptr[syscall.SysResult]) -> usize:
    """A child with a frame holding ``value`` at TEST_AREA (and, when ``extra``, another at TEST_AREA + 1 MiB).

    Its thread loads TEST_AREA, then TEST_AREA + 1 MiB; returns the first
    load's value (NONE when it failed). When the second load faults, the
    message lands in ``msg`` and the thread is restarted to load TEST_AREA
    alone and exit with it.
    """
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    p = spawn.child(spawn.CHILD_QUOTA, False)
    f = spawn.map_frame(1, spawn.TEST_AREA + 0x40_0000, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if p == spawn.NONE or f == spawn.NONE:
        return spawn.NONE
    volatile_store(cast(Ptr[usize], spawn.TEST_AREA + 0x40_0000), value)
    syscall.proc_map(p, f, spawn.TEST_AREA, abi.RIGHT_READ)
    if extra:
        syscall.proc_map(p, f, spawn.TEST_AREA + 0x10_0000, abi.RIGHT_READ)
    t = spawn.child_thread(p, addr(_load_two), spawn.TEST_AREA, spawn.TEST_AREA + 0x10_0000, spawn.LOW)
    if t == spawn.NONE:
        return spawn.NONE
    syscall.thread_set_fault(t, ep)
    syscall.thread_start(t)
    if spawn.wait(t, 100) == abi.STATE_FAULTED:
        syscall.ep_recv(ep, abi.NO_WAIT, msg)
        syscall.thread_set_regs(t, addr(_load), spawn.stack_top(t), spawn.TEST_AREA, 0)
        syscall.thread_resume(t)
    if spawn.wait(t, 100) != abi.STATE_EXITED:
        return spawn.NONE
    return spawn.exit_code(t)


def reused_process_slot_is_fresh() -> None:
    """A process made in a destroyed one's pool slot (and ASID) sees only its own mappings, never the old ones."""
    msg: syscall.SysResult
    harness.expect_eq(_child_loads(0x1111, True, addr(msg)), 0x1111, "first child's load")
    spawn.finish()
    msg.v3 = 0
    # The second child has nothing at TEST_AREA + 1 MiB, where the first had its frame.
    harness.expect_eq(_child_loads(0x2222, False, addr(msg)), 0x2222, "second child's load")
    harness.expect_eq(msg.v3, spawn.TEST_AREA + 0x10_0000, "the old mapping's address faults")


def child_destroys_itself() -> None:
    """A child thread destroying its own process ends it cleanly: its quota returns, init goes on."""
    me: syscall.SysResult
    syscall.proc_info(SELF, addr(me))
    used = me.v1
    p = spawn.child(spawn.CHILD_QUOTA, False)
    t = spawn.child_thread(p, addr(_destroy_own_process), 0, 0, spawn.LOW)
    if p == spawn.NONE or t == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_give(p, p, 0), abi.OK, "give the child itself")
    syscall.thread_start(t)
    harness.expect_eq(spawn.wait(t, 100), spawn.NONE, "the thread survived")
    res: syscall.SysResult
    harness.expect_eq(syscall.proc_info(p, addr(res)), abi.ERR_STALE, "the child survived")
    syscall.proc_info(SELF, addr(me))
    harness.expect_eq(me.v1, used, "init's pages used")
    if harness.expect_eq(syscall.console_check(CONSOLE, addr(res)), abi.OK, "check"):
        harness.expect_eq(res.v0, 0, "violations")


def thread_stops_itself() -> None:
    """A thread that stops itself stays STOPPED until resumed, then goes on."""
    t = spawn.thread(0, 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_set_regs(t, addr(_stop_self), spawn.stack_top(t), t, 0)
    syscall.thread_start(t)
    syscall.sleep(3)
    res: syscall.SysResult
    syscall.thread_state(t, addr(res))
    harness.expect_eq(res.v0, abi.STATE_STOPPED, "state")
    harness.expect_eq(syscall.thread_resume(t), abi.OK, "resume")
    spawn.expect_exit(t, 0x51, "exit after resume")


def kernel_memory_unreachable() -> None:
    """User code can neither read the kernel's memory nor run from it: a page fault at the kernel address."""
    _expect_thread_fault(addr(_load), board.KERNEL_BASE, abi.FAULT_PAGE, board.KERNEL_BASE)
    spawn.finish()
    _expect_thread_fault(board.KERNEL_BASE, 0, abi.FAULT_PAGE, board.KERNEL_BASE)


def supervisor_csr_illegal() -> None:
    """Reading a supervisor CSR from user mode is an illegal instruction, contained like any fault."""
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    t = spawn.thread(addr(_read_sstatus), 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    syscall.thread_set_fault(t, ep)
    syscall.thread_start(t)
    msg: syscall.SysResult
    if harness.expect_eq(syscall.ep_recv(ep, 100, addr(msg)), abi.OK, "no fault"):
        harness.expect_eq(msg.v2, abi.FAULT_ILLEGAL, "fault kind")


def device_memory_never_read_for_a_user() -> None:
    """A user pointer into a mapped device region is ERR_BAD_ADDRESS: the kernel never reads registers for a user.

    A hole in the region (where the bus has no device) would fault the
    kernel itself, and a register read can have side effects (a UART's
    receive buffer); the user may touch its registers, the kernel does not.
    """
    va: usize = spawn.TEST_AREA
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, va, abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK,
                      "map the UART")
    res: syscall.SysResult
    harness.expect_eq(syscall.console_write(CONSOLE, cast(Ptr[u8], va + 0x800), 1, addr(res)), abi.ERR_BAD_ADDRESS,
                      "from a hole of the region")
    harness.expect_eq(syscall.console_write(CONSOLE, cast(Ptr[u8], va), 1, addr(res)), abi.ERR_BAD_ADDRESS,
                      "from a register")
    syscall.proc_unmap(SELF, va, 1, addr(res))


def payload_pointers() -> None:
    """Both ends of a payload are checked: a bad offer fails at once, a bad buffer leaves the payload on offer.

    Bad means NULL, unmapped, a kernel address, a device mapping, running off
    a mapping, wrapping around, and for the receiver's buffer read-only.
    """
    ep = spawn.take()
    syscall.proc_create(SELF, abi.KIND_ENDPOINT, ep, 0)
    rw = spawn.map_frame(1, spawn.TEST_AREA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    ro = spawn.map_frame(1, spawn.TEST_AREA + PAGE, abi.RIGHT_READ)
    dev: usize = spawn.TEST_AREA + 0x10_0000
    if rw == spawn.NONE or ro == spawn.NONE:
        return
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_DEVICES, dev, abi.RIGHT_READ | abi.RIGHT_WRITE), abi.OK,
                      "map the UART")
    bad: Array[usize, 6]
    bad[0] = 0
    bad[1] = spawn.TEST_AREA + 0x20_0000                # unmapped
    bad[2] = board.KERNEL_BASE
    bad[3] = dev
    bad[4] = spawn.TEST_AREA + 2 * PAGE - 16            # runs off the read-only page into nothing
    bad[5] = ~usize(15)                                 # wraps around
    res: syscall.SysResult
    i: usize = 0
    while i < 6:
        err = syscall.ep_send_payload(ep, 1, cast(Ptr[u8], bad[i]), 32, 0, addr(res))
        if err != abi.ERR_BAD_ADDRESS:
            harness.fail("offer %u from %p: error %u", i, bad[i], err)
        i += 1
    i = 0
    while i < 32:
        _payload[i] = u8(i + 1)
        i += 1
    t = spawn.start(addr(_send_payload), ep, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    if not harness.expect_eq(syscall.ep_recv(ep, 100, addr(res)), abi.OK, "announcement"):
        return
    i = 0
    while i < 6:
        err = syscall.accept(cast(Ptr[u8], bad[i]), 32, addr(res))
        if err != abi.ERR_BAD_ADDRESS:
            harness.fail("accept into %u at %p: error %u", i, bad[i], err)
        i += 1
    harness.expect_eq(syscall.accept(cast(Ptr[u8], spawn.TEST_AREA + PAGE), 32, addr(res)), abi.ERR_BAD_ADDRESS,
                      "accept into a read-only page")
    harness.expect_eq(volatile_load(cast(Ptr[usize], spawn.TEST_AREA + PAGE)), 0, "the read-only page changed")
    # Still on offer: a good buffer takes it.
    if harness.expect_eq(syscall.accept(cast(Ptr[u8], spawn.TEST_AREA + 8), 32, addr(res)), abi.OK, "accept"):
        harness.expect_eq(res.v0, 32, "bytes")
        harness.expect_eq(usize(volatile_load(cast(Ptr[u8], spawn.TEST_AREA + 8 + 31))), 32, "last byte")
    spawn.expect_exit(t, abi.OK | 32 << 8, "sender")
    syscall.proc_unmap(SELF, dev, 1, addr(res))


def console_bad_pointers() -> None:
    """OP_CONSOLE_WRITE checks the whole range: NULL, past the window, the upper half, partly unmapped; and its length."""
    res: syscall.SysResult
    harness.expect_eq(syscall.console_write(CONSOLE, NULL, 1, addr(res)), abi.ERR_BAD_ADDRESS, "NULL")
    end = cast(Ptr[u8], board.USER_END - 4)
    harness.expect_eq(syscall.console_write(CONSOLE, end, 8, addr(res)), abi.ERR_BAD_ADDRESS, "across USER_END")
    high = cast(Ptr[u8], 0x8000_0000_0000_0000)
    harness.expect_eq(syscall.console_write(CONSOLE, high, 1, addr(res)), abi.ERR_BAD_ADDRESS, "upper half")
    f = spawn.map_frame(2, spawn.TEST_AREA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if f == spawn.NONE:
        return
    last = cast(Ptr[u8], spawn.TEST_AREA + 2 * PAGE - 2)
    harness.expect_eq(syscall.console_write(CONSOLE, last, 4, addr(res)), abi.ERR_BAD_ADDRESS,
                      "running off the mapping")
    first = cast(Ptr[u8], spawn.TEST_AREA)
    volatile_store(first, 0x0A)
    if harness.expect_eq(syscall.console_write(CONSOLE, first, 1, addr(res)), abi.OK, "inside the mapping"):
        harness.expect_eq(res.v0, 1, "bytes written")
    harness.expect_eq(syscall.console_write(CONSOLE, first, MAX_WRITE + 1, addr(res)), abi.ERR_INVALID_ARG,
                      "longer than a write may be")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("isolation: a child cannot read init's memory")
    child_cannot_read_init()
    spawn.done()
    harness.begin("isolation: a child cannot write init's memory")
    child_cannot_write_init()
    spawn.done()
    harness.begin("isolation: a child has only the capabilities it was given")
    child_has_only_what_it_was_given()
    spawn.done()
    harness.begin("isolation: a child's pointers are checked in its own space")
    child_pointers_are_its_own()
    spawn.done()
    harness.begin("isolation: a child cannot widen its rights")
    child_cannot_widen_rights()
    spawn.done()
    harness.begin("isolation: a reused process slot starts fresh")
    reused_process_slot_is_fresh()
    spawn.done()
    harness.begin("isolation: a child destroys its own process")
    child_destroys_itself()
    spawn.done()
    harness.begin("isolation: a thread stops itself")
    thread_stops_itself()
    spawn.done()
    harness.begin("isolation: kernel memory cannot be read or run")
    kernel_memory_unreachable()
    spawn.done()
    harness.begin("isolation: a supervisor CSR is illegal in user mode")
    supervisor_csr_illegal()
    spawn.done()
    harness.begin("isolation: the kernel never reads device memory for a user")
    device_memory_never_read_for_a_user()
    spawn.done()
    harness.begin("isolation: payload pointers are checked at both ends")
    payload_pointers()
    spawn.done()
    harness.begin("isolation: console write checks every byte's address")
    console_bad_pointers()
    spawn.done()
    harness.begin("isolation: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
