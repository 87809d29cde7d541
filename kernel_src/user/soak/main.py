"""soak: a million create/destroy cycles of every kernel object kind, each pool checked back at its free count.

Run as init (``make soak N=1000000``, i.e. ``kcc run --init soak
--append "-- N"``): the kernel passes the command line's words after ``--``
as argv (core/kernel.py, _init_args), and argv[1] is the number of cycles
of each kind (DEFAULT_CYCLES without it). Issue 11, item 3.

Each row of CYCLES is one kind of cycle: an object made and destroyed
through its capability (a process, thread, endpoint, notification, frame
of one page and of 64 contiguous pages, IRQ claim and portal), a mapping
record used and given back, and two that
make the kernel do more than allocate: a thread that runs to its exit, and a
one-way migrated call (an activation, a thread the kernel itself makes and
ends). Every CHECK_EVERY cycles, and after the last, the kind's pool must
have the free count it had before the first (OP_CONSOLE_POOL), and at the
end of each row the kernel's invariants must hold (OP_CONSOLE_CHECK). Before
and after the cycles every pool is driven dry by the system tests' own
exhaustion tests (user/systest/t_pools.py): each must fail with its clean
error (ERR_NO_OBJECTS, or ERR_NO_MEMORY for pages) and then refill.

Output, one line per row and a last line that tests/test_soak.py and
docs/reliability.md read::

    soak: endpoint: 1000000 cycles, 63 free before and after, 2300 ns a cycle
    soak: 9 kinds x 1000000 cycles: 0 leaks, 0 errors, 0 invariant violations, 0 exhaustion failures

The machine then powers off with status 0 when everything was clean, 1
otherwise.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import console, image, syscall, text
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.systest import harness, spawn, t_pools

DEFAULT_CYCLES: Final = 1000
CHECK_EVERY: Final = 4096               # cycles between two pool checks inside a row
SELF: Final = initcaps.SLOT_SELF_PROCESS
CONSOLE: Final = initcaps.SLOT_CONSOLE
MAP_VA: Final = spawn.TEST_AREA         # where the mapping row maps its frame in init
CALLEE_STACKS_VA: Final = 0x3C_0000_0000    # the activation row's portal stack, in its callee
CALLEE_STACK_BYTES: Final = 4 * board.PAGE_SIZE
CALLEE_QUOTA: Final = 32
SPIN_LIMIT: Final = 1000                # yields waiting for a worker or an activation to end
BUSY_QUOTA: Final = 16                  # pages of the busy process: its tables, its stack
BUSY_STACK_VA: Final = spawn.STACK_AREA  # the busy process's one-page stack, in its own space
BUSY_TIMEOUT: Final = 100_000           # ticks: its receive never times out while it lives

# Objects the rows use again and again, made once by _setup (slots in init's table).
_slot: usize = 0            # the scratch slot every cycle creates into
_ntfn: usize = 0            # the IRQ row binds its line to it
_frame: usize = 0           # the mapping row maps it
_stack: usize = 0           # the thread row's worker stack (a frame mapped at _worker_sp - its size)
_portal: usize = 0          # the activation row's portal, in a callee process
_worker_sp: usize = 0
_extra: Array[usize, 3]     # more scratch slots: the busy process's stack, endpoint and thread


@struct
class Cycle:
    """One row: its name, the pool it draws from (0: none OP_CONSOLE_POOL reports) and one cycle of it.

    ``run(kind, arg)`` makes and destroys one object of ``kind`` (``arg``:
    OP_PROC_CREATE's argument) through the scratch slot and returns the first
    error (abi.OK when the cycle was clean).
    """

    name: Ptr[u8]
    kind: usize
    arg: usize
    run: Callable[[usize, usize], usize]


def _destroy() -> usize:
    """Destroy the object in the scratch slot and empty the slot (a destroyed object's capability stays, stale)."""
    err = syscall.cap_destroy(_slot)
    deleted = syscall.cap_delete(_slot)
    return err if err != abi.OK else deleted


def _object(kind: usize, arg: usize) -> usize:
    """Create an object of ``kind`` owned by init into the scratch slot, then destroy it."""
    err = syscall.proc_create(SELF, kind, _slot, arg)
    if err != abi.OK:
        return err
    return _destroy()


def _irq(kind: usize, arg: usize) -> usize:
    """Claim the UART's line, bind it (which enables it at the PLIC), then destroy the claim (which disables it)."""
    err = syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, _slot)
    if err != abi.OK:
        return err
    err = syscall.irq_bind(_slot, _ntfn, 1)
    destroyed = _destroy()
    return err if err != abi.OK else destroyed


def _mapping(kind: usize, arg: usize) -> usize:
    """Map one frame in init and unmap it: a mapping record taken and given back."""
    res: syscall.SysResult
    err = syscall.proc_map(SELF, _frame, MAP_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err != abi.OK:
        return err
    return syscall.proc_unmap(SELF, MAP_VA, 1, addr(res))


def _exit_at_once(a0: usize, a1: usize) -> None:
    """The thread row's worker body: exit with a0."""
    syscall.exit(a0)


def _wait_state(slot: usize, state: usize) -> usize:
    """Yield until the thread in ``slot`` is in ``state`` (at most SPIN_LIMIT yields); abi.ERR_TIMEOUT otherwise."""
    res: syscall.SysResult
    n: usize = 0
    while n < SPIN_LIMIT:
        err = syscall.thread_state(slot, addr(res))
        if err != abi.OK:
            return err
        if res.v0 == state:
            return abi.OK
        syscall.thread_yield()
        n += 1
    return abi.ERR_TIMEOUT


def _thread_run(kind: usize, arg: usize) -> usize:
    """Make a thread, run it at init's priority to its exit (init yields to it), then destroy it."""
    err = syscall.proc_create(SELF, abi.KIND_THREAD, _slot, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(_slot, addr(_exit_at_once), _worker_sp, 7, 0)
    if err == abi.OK:
        err = syscall.thread_start(_slot)
    if err == abi.OK:
        err = _wait_state(_slot, abi.STATE_EXITED)
    destroyed = _destroy()
    return err if err != abi.OK else destroyed


def _blocked_receiver(a0: usize, a1: usize) -> None:
    """The busy process's thread: wait in a receive with a timeout (on its endpoint in its slot 0) for ever."""
    res: syscall.SysResult
    syscall.ep_recv(0, BUSY_TIMEOUT, addr(res))
    syscall.exit(0)


def _busy_process(kind: usize, arg: usize) -> usize:
    """A process running init's code, its thread blocked in a receive with a timeout, destroyed with everything.

    The destroy must take the thread off its endpoint's queue and the
    timeout queue and free the process, its thread, endpoint, stack frame,
    mapping records and page tables.
    """
    stack = _extra[0]
    ep = _extra[1]
    t = _extra[2]
    err = syscall.proc_create(SELF, abi.KIND_PROCESS, _slot, BUSY_QUOTA)
    if err != abi.OK:
        return err
    err = image.map_into(_slot, False)
    if err == abi.OK:
        err = syscall.proc_create(_slot, abi.KIND_FRAME, stack, 1)
    if err == abi.OK:
        err = syscall.proc_map(_slot, stack, BUSY_STACK_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        err = syscall.proc_create(_slot, abi.KIND_ENDPOINT, ep, 0)
    if err == abi.OK:
        err = syscall.proc_give(_slot, ep, 0)
    if err == abi.OK:
        err = syscall.proc_create(_slot, abi.KIND_THREAD, t, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(t, addr(_blocked_receiver), BUSY_STACK_VA + board.PAGE_SIZE, 0, 0)
    if err == abi.OK:
        err = syscall.thread_start(t)
    if err == abi.OK:
        err = _wait_state(t, abi.STATE_BLOCKED)
    destroyed = _destroy()
    for i in range(len(_extra)):
        syscall.cap_delete(_extra[i])
    return err if err != abi.OK else destroyed


def _free(kind: usize) -> usize:
    """The free count of ``kind``'s pool (OP_CONSOLE_POOL)."""
    res: syscall.SysResult
    syscall.console_pool(CONSOLE, kind, addr(res))
    return res.v0


def _callee_entry(badge: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> None:
    """The activation row's portal entry, run in the callee: return at once (which ends a one-way activation)."""
    syscall.migrate_return(0, 0, 0, 0)


def _activation(kind: usize, arg: usize) -> usize:
    """A one-way migrated call: the kernel makes an activation (a thread) that returns, and ends it."""
    free = _free(abi.KIND_THREAD)
    err = syscall.migrate_notify(_portal, 0, 0, 0, 0)
    if err != abi.OK:
        return err
    n: usize = 0
    while _free(abi.KIND_THREAD) != free and n < SPIN_LIMIT:
        syscall.thread_yield()
        n += 1
    return abi.OK if n < SPIN_LIMIT else abi.ERR_TIMEOUT


CYCLES: Final[Array[Cycle, 12]] = (
    Cycle("process", abi.KIND_PROCESS, 1, _object),
    Cycle("thread", abi.KIND_THREAD, 0, _object),
    Cycle("endpoint", abi.KIND_ENDPOINT, 0, _object),
    Cycle("notification", abi.KIND_NOTIFICATION, 0, _object),
    Cycle("frame", abi.KIND_FRAME, 1, _object),
    Cycle("frame of 64 pages", abi.KIND_FRAME, 64, _object),
    Cycle("irq", abi.KIND_IRQ, 0, _irq),
    Cycle("portal", abi.KIND_PORTAL, 0, _object),
    Cycle("mapping", 0, 0, _mapping),
    Cycle("thread run", abi.KIND_THREAD, 0, _thread_run),
    Cycle("activation", abi.KIND_THREAD, 0, _activation),
    Cycle("busy process", abi.KIND_PROCESS, 0, _busy_process),
)


def _rdtime() -> u64:
    """The time CSR, in board.TIMEBASE_HZ ticks (user mode may read it: the kernel sets scounteren.TM).

    Not instret: without -icount QEMU counts host ticks there, not instructions.
    """
    return asm("rdtime {out}", out=u64)


def _setup() -> bool:
    """Make the objects the rows reuse: scratch slot, notification, frame, worker stack and the callee's portal."""
    global _slot, _ntfn, _frame, _stack, _portal, _worker_sp
    _ntfn = spawn.take()
    syscall.proc_create(SELF, abi.KIND_NOTIFICATION, _ntfn, 0)
    _frame = spawn.frame(1)
    _stack = spawn.take()
    syscall.proc_create(SELF, abi.KIND_FRAME, _stack, spawn.STACK_PAGES)
    _worker_sp = spawn.STACK_AREA + spawn.STACK_PAGES * board.PAGE_SIZE
    err = syscall.proc_map(SELF, _stack, spawn.STACK_AREA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    callee = spawn.child(CALLEE_QUOTA, False)
    stacks = spawn.take()
    if err == abi.OK and callee != spawn.NONE:
        err = syscall.proc_create(callee, abi.KIND_FRAME, stacks, CALLEE_STACK_BYTES // board.PAGE_SIZE)
    if err == abi.OK:
        err = syscall.proc_map(callee, stacks, CALLEE_STACKS_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    _portal = spawn.take()
    if err == abi.OK:
        err = syscall.proc_create(callee, abi.KIND_PORTAL, _portal, 0)
    if err == abi.OK:
        err = syscall.portal_set(_portal, addr(_callee_entry), CALLEE_STACKS_VA, CALLEE_STACK_BYTES, 1)
    _slot = spawn.take()
    syscall.cap_copy(SELF, _slot)       # held only while the next slots are taken (take() gives the lowest empty one)
    for i in range(len(_extra)):
        _extra[i] = spawn.take()
        syscall.cap_copy(SELF, _extra[i])
    syscall.cap_delete(_slot)
    for i in range(len(_extra)):
        syscall.cap_delete(_extra[i])
    if err != abi.OK or _extra[len(_extra) - 1] == spawn.NONE:
        console.printf("soak: set-up failed: error %u\n", err)
        return False
    return True


def _init_pages() -> usize:
    """The pages init has used of its quota (its children's grants included)."""
    res: syscall.SysResult
    syscall.proc_info(SELF, addr(res))
    return res.v1


def _leak(row: Ptr[Cycle], done: usize, free: Ptr[usize], pages: usize) -> bool:
    """True (and say so) when a pool's free count differs from ``free[kind]`` or init's pages used from ``pages``."""
    for kind in range(usize(1), abi.NUM_KINDS):
        if _free(kind) != free[kind]:
            console.printf("soak: %s: LEAK after cycle %u: pool of kind %u has %u free, %u before\n",
                           usize(row.name), done, kind, _free(kind), free[kind])
            return True
    if _init_pages() != pages:
        console.printf("soak: %s: LEAK after cycle %u: init uses %u pages, %u before\n", usize(row.name), done,
                       _init_pages(), pages)
        return True
    return False


def _soak(row: Ptr[Cycle], cycles: usize, errors: Ptr[usize]) -> usize:
    """Run ``cycles`` cycles of ``row``; print its line; return the leaks seen (0 or 1: a row stops at its first).

    Every CHECK_EVERY cycles and after the last, every pool must have the
    free count it had after the row's first cycle, and init the pages it
    used then (a first mapping at an address grows init's page tables,
    which stay until the process goes: not a leak of the cycles); the
    row's own pool must also be back where it was before the row. An error
    from a cycle counts in ``errors[0]`` and also stops the row.
    """
    before: usize = 0
    if row.kind != 0:
        before = _free(row.kind)
    free: Array[usize, abi.NUM_KINDS]
    pages: usize = 0
    start = _rdtime()
    done: usize = 0
    while done < cycles:
        err = row.run(row.kind, row.arg)
        done += 1
        if err != abi.OK:
            console.printf("soak: %s: cycle %u failed with error %u\n", usize(row.name), done, err)
            errors[0] += 1
            return 0
        if done == 1:
            for kind in range(usize(1), abi.NUM_KINDS):
                free[kind] = _free(kind)
            pages = _init_pages()
        elif (done % CHECK_EVERY == 0 or done == cycles) and _leak(row, done, addr(free[0]), pages):
            return 1
    ns = usize(_rdtime() - start) * (1_000_000_000 // board.TIMEBASE_HZ)
    if row.kind != 0 and _free(row.kind) != before:
        console.printf("soak: %s: LEAK: %u free, %u before the row\n", usize(row.name), _free(row.kind), before)
        return 1
    console.printf("soak: %s: %u cycles, %u free before and after, %u ns a cycle\n", usize(row.name),
                   cycles, before, ns // (cycles if cycles != 0 else 1))
    return 0


def _violations() -> usize:
    """The kernel's count of violated invariants (OP_CONSOLE_CHECK); 1 when the check itself fails."""
    res: syscall.SysResult
    if syscall.console_check(CONSOLE, addr(res)) != abi.OK:
        return 1
    return res.v0


def _cycles(argc: usize, argv: usize, errors: Ptr[usize]) -> usize:
    """argv[1] as a decimal count, DEFAULT_CYCLES without one; anything else is a usage error in ``errors[0]``.

    The kernel gives init only the words after ``--`` (and never its own
    ``init=``), so a second argument means it passed something it should not.
    """
    args = cast(Ptr[Ptr[u8]], argv)
    value: u64 = DEFAULT_CYCLES
    if argc > 2 or (argc == 2 and not text.parse_u64(args[1], 10, addr(value))):
        console.printf("soak: usage: soak [CYCLES] (%u arguments, the first '%s')\n", argc - 1,
                       usize(args[1]))
        errors[0] += 1
        value = DEFAULT_CYCLES
    return usize(value)


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Drive every pool dry, run every row, drive them dry again, print the verdict and power off (0: clean)."""
    errors: usize = 0
    cycles = _cycles(argc, argv, addr(errors))
    console.printf("soak: %u cycles of each kind\n", cycles)
    spawn.pools_saved()
    t_pools.exhaust_all()
    leaks: usize = 0
    violations: usize = 0
    if _setup():
        for i in range(len(CYCLES)):
            leaks += _soak(addr(CYCLES[i]), cycles, addr(errors))
            v = _violations()
            if v != 0:
                console.printf("soak: %s: %u invariant violations\n", usize(CYCLES[i].name), v)
            violations += v
    else:
        errors += 1
    spawn.finish()
    t_pools.exhaust_all()
    exhaustion_failures = usize(harness.summary())
    console.printf("soak: %u kinds x %u cycles: %u leaks, %u errors, ", len(CYCLES), cycles, leaks, errors)
    console.printf("%u invariant violations, %u exhaustion failures\n", violations, exhaustion_failures)
    clean = leaks == 0 and errors == 0 and violations == 0 and exhaustion_failures == 0
    syscall.console_halt(CONSOLE, 0 if clean else 1)
    return 0
