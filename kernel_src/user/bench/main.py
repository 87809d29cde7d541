"""bench: the kernel's micro-benchmarks as a user program, run as init by make benchmark (``--init bench``).

Each figure is the median, over ITERATIONS measured iterations after WARMUP
unmeasured ones, of the guest instructions one iteration costs, read with
rdinstret around it (exact under QEMU's ``-icount shift=0``; the kernel
lets user mode read the counter). The cost of reading the counter itself is
measured the same way and subtracted. Output, one line per figure, read by
benchmarks/run.py:

    bench: <name> <instructions>

and last ``bench: done``; the machine then powers off with status 0.

Two figures count from a process's making to the first instruction of its
thread, over SPAWN_ITERATIONS runs after SPAWN_WARMUP (each run costs a
whole process, so fewer of them). The new thread reads rdinstret and
exits with it as its exit code, which this program reads back:

- ``spawn_elf``: user/init/loader.py's ``load`` of ``bin/bench`` from the
  initrd, the very code init runs for ``run PROG`` or a bare program name
  (init reads every ``/bin`` program from the initrd, which is what the file
  system serves as ``/bin``, without asking the file system service), then
  the thread's start and the switch to it. bench runs as init without the
  file system service, so the program loaded is bench itself, whose main
  exits at once with rdinstret when it has an argument: the figure ends at
  main's first statement, a few instructions (``call main``, main's
  prologue) after the ELF's entry. It leaves out init's own bookkeeping of
  a spawn (the table entry, the five capabilities given) and the
  spawner's PM_STAGE and PM_SPAWN calls to init.
- ``clone_64k``: user/lib/clone.py's ``make`` of a process holding bench's
  text and rodata, 64 KiB of data and a one-page stack, never cloned
  before (a fresh one each run, made outside the count): the clone's
  process, OP_PROC_CLONE, its thread, the start and the switch; the thread
  starts at ``_probe``, whose first instruction is the rdinstret. The same
  ``make`` is what init runs for a program's PM_CLONE (user/lib/pm.py's
  ``clone``), less the PM_CLONE call itself and init's bookkeeping.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.init import loader
from user.lib import clone, console, image, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

ITERATIONS: Final = 1000
WARMUP: Final = 50
PAGE: Final = 4096
# Where the benchmark maps its frames: far from the image (USER_BASE) and the stack (USER_STACK_TOP).
SCRATCH_VA: Final = 0x30_0000_0000
PEER_STACK_VA: Final = 0x30_1000_0000
PEER_STACK_PAGES: Final = 4

SLOT_FRAME: Final = initcaps.INIT_FIRST_FREE
SLOT_SCRATCH: Final = initcaps.INIT_FIRST_FREE + 1
SLOT_PEER: Final = initcaps.INIT_FIRST_FREE + 2
SLOT_PEER_STACK: Final = initcaps.INIT_FIRST_FREE + 3
SLOT_NTFN: Final = initcaps.INIT_FIRST_FREE + 4
SLOT_SERVER: Final = initcaps.INIT_FIRST_FREE + 5          # the server's process
SLOT_SERVER_THREAD: Final = initcaps.INIT_FIRST_FREE + 6
SLOT_SERVER_STACK: Final = initcaps.INIT_FIRST_FREE + 7
SLOT_EP: Final = initcaps.INIT_FIRST_FREE + 8
SERVER_EP: Final = 0                                        # the endpoint's slot in the server's table
SERVER_QUOTA: Final = 32
SLOT_PORTAL: Final = initcaps.INIT_FIRST_FREE + 9
SLOT_ASYNC_EP: Final = initcaps.INIT_FIRST_FREE + 10
PAYLOAD_BYTES: Final = 4096
PORTAL_STACKS_VA: Final = 0x30_2000_0000                   # in the server: its portal's stacks
PORTAL_STACK_BYTES: Final = 4 * PAGE
SPAWN_ITERATIONS: Final = 101
SPAWN_WARMUP: Final = 5
SLOT_CHILD: Final = initcaps.INIT_FIRST_FREE + 11          # the spawned or cloned process and its thread
SLOT_CHILD_THREAD: Final = initcaps.INIT_FIRST_FREE + 12
SLOT_LOAD_FRAME: Final = initcaps.INIT_FIRST_FREE + 13     # the loader's scratch frame and file buffer
SLOT_LOAD_FILE: Final = initcaps.INIT_FIRST_FREE + 14
SLOT_FAULT_EP: Final = initcaps.INIT_FIRST_FREE + 15       # the spawned thread's fault endpoint
SLOT_SOURCE: Final = initcaps.INIT_FIRST_FREE + 16         # clone_64k's source process
SLOT_SOURCE_FRAME: Final = initcaps.INIT_FIRST_FREE + 17
SOURCE_QUOTA: Final = 48
SOURCE_DATA_VA: Final = 0x30_3000_0000
SOURCE_DATA_PAGES: Final = 16                              # 64 KiB
CLONE_QUOTA: Final = 16                                    # the clone's page tables, with room to spare
PROBE_ARGS: Final = "bench\x00probe"                      # argv of the spawned bench: two strings
PROBE_ARGS_LEN: Final = 12

_samples: Array[u64, ITERATIONS]
_payload_out: Array[u8, PAYLOAD_BYTES]      # what the peer offers
_payload_in: Array[u8, PAYLOAD_BYTES]       # where main accepts it
_overhead: u64 = 0
# Written by the peer thread, read by main: the instret when the peer ran after its wait returned.
_peer_woke_at: u64 = 0


def rdinstret() -> u64:
    """Return the instructions this hart has retired (rdinstret; user access granted by the kernel)."""
    return asm("rdinstret {out}", out=u64)


def _check(err: usize, what: Ptr[u8]) -> None:
    """Stop the benchmark with a message and status 1 when a set-up call failed."""
    if err != abi.OK:
        console.printf("bench: %s failed with error %u\n", usize(what), err)
        syscall.console_halt(initcaps.SLOT_CONSOLE, 1)


def _median(n: u32 = ITERATIONS) -> u64:
    """Return the median of the first ``n`` _samples (sorted in place by insertion sort: O(n**2) at worst)."""
    i: u32 = 1
    while i < n:
        v = _samples[i]
        j = i
        while j > 0 and _samples[j - 1] > v:
            _samples[j] = _samples[j - 1]
            j -= 1
        _samples[j] = v
        i += 1
    return _samples[n // 2]


def _report(name: Ptr[u8], value: u64) -> None:
    """Print one figure in the format benchmarks/run.py reads."""
    console.printf("bench: %s %u\n", usize(name), usize(value))


def _measure_overhead() -> None:
    """Measure the two rdinstret reads around an empty iteration, to subtract from every figure."""
    global _overhead
    for i in range(u32(ITERATIONS)):
        t0 = rdinstret()
        t1 = rdinstret()
        _samples[i] = t1 - t0
    _overhead = _median()


def _null_syscall() -> None:
    """null_syscall: OP_SELF, the cheapest operation that does something (no capability, three results)."""
    res: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        syscall.self_info(addr(res))
        t1 = rdinstret()
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _report("null_syscall", _median())


def _frame_map_unmap() -> None:
    """frame_map_unmap: map a one-page frame read-write into this process and unmap it."""
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    _check(syscall.proc_create(self_slot, abi.KIND_FRAME, SLOT_FRAME, 1), "frame create")
    res: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        mapped = syscall.proc_map(self_slot, SLOT_FRAME, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
        unmapped = syscall.proc_unmap(self_slot, SCRATCH_VA, 1, addr(res))
        t1 = rdinstret()
        _check(mapped, "map")
        _check(unmapped, "unmap")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _check(syscall.cap_destroy(SLOT_FRAME), "frame destroy")
    _check(syscall.cap_delete(SLOT_FRAME), "frame delete")
    _report("frame_map_unmap", _median())


def _process_create_destroy() -> None:
    """process_create_destroy: an empty process (one page of quota, its root table) created and destroyed."""
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        created = syscall.proc_create(self_slot, abi.KIND_PROCESS, SLOT_SCRATCH, 1)
        destroyed = syscall.cap_destroy(SLOT_SCRATCH)
        t1 = rdinstret()
        syscall.cap_delete(SLOT_SCRATCH)       # destroy leaves the (now stale) capability in its slot
        _check(created, "process create")
        _check(destroyed, "process destroy")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _report("process_create_destroy", _median())


@noreturn
def _yielder(arg0: usize, arg1: usize) -> None:
    """The peer of thread_yield: yields for ever (destroyed by main when the measurement ends)."""
    while True:
        syscall.thread_yield()


@noreturn
def _waiter(ntfn_slot: usize, arg1: usize) -> None:
    """The peer of notify_signal_wait: waits on the notification, notes when it runs again, waits again."""
    global _peer_woke_at
    res: syscall.SysResult
    while True:
        syscall.ntfn_wait(ntfn_slot, addr(res))
        _peer_woke_at = rdinstret()


def _start_peer(pc: usize, arg0: usize, priority: usize) -> None:
    """Start a second thread of this process at ``pc`` with its own stack frame and ``priority``."""
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    _check(syscall.proc_create(self_slot, abi.KIND_FRAME, SLOT_PEER_STACK, PEER_STACK_PAGES), "stack create")
    _check(syscall.proc_map(self_slot, SLOT_PEER_STACK, PEER_STACK_VA, abi.RIGHT_READ | abi.RIGHT_WRITE),
           "stack map")
    _check(syscall.proc_create(self_slot, abi.KIND_THREAD, SLOT_PEER, 0), "thread create")
    _check(syscall.thread_set_regs(SLOT_PEER, pc, PEER_STACK_VA + PEER_STACK_PAGES * PAGE, arg0, 0), "set regs")
    _check(syscall.thread_set_sched(SLOT_PEER, priority, 0, 0), "set sched")
    _check(syscall.thread_start(SLOT_PEER), "thread start")


def _stop_peer() -> None:
    """Destroy the peer thread and its stack frame (which also unmaps it)."""
    _check(syscall.cap_destroy(SLOT_PEER), "thread destroy")
    _check(syscall.cap_destroy(SLOT_PEER_STACK), "stack destroy")
    _check(syscall.cap_delete(SLOT_PEER), "thread delete")
    _check(syscall.cap_delete(SLOT_PEER_STACK), "stack delete")


def _thread_yield() -> None:
    """thread_yield: one switch between two threads of equal priority by OP_YIELD (a round trip is two)."""
    me: syscall.SysResult
    _check(syscall.self_info(addr(me)), "self")
    _start_peer(addr(_yielder), 0, me.v2)
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        syscall.thread_yield()
        t1 = rdinstret()
        if i >= WARMUP:
            _samples[i - WARMUP] = (t1 - t0 - _overhead) // 2
    _stop_peer()
    _report("thread_yield", _median())


def _notify_signal_wait() -> None:
    """notify_signal_wait: signal a notification a higher-priority thread waits on, until that thread runs.

    The waiter is a thread of this process (a thread in another process costs
    the same kernel path plus an address-space switch, one satp write with
    ASIDs).
    """
    me: syscall.SysResult
    _check(syscall.self_info(addr(me)), "self")
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    _check(syscall.proc_create(self_slot, abi.KIND_NOTIFICATION, SLOT_NTFN, 0), "notification create")
    _start_peer(addr(_waiter), SLOT_NTFN, me.v2)
    # The caller then runs one priority below the waiter (which blocks in its wait at once), so a
    # signal switches to the waiter straight away.
    _check(syscall.thread_set_sched(initcaps.SLOT_SELF_THREAD, me.v2 - 1, 0, 0), "lower own priority")
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        syscall.ntfn_signal(SLOT_NTFN, 1)
        if i >= WARMUP:
            _samples[i - WARMUP] = _peer_woke_at - t0 - _overhead // 2
    _stop_peer()
    _check(syscall.cap_destroy(SLOT_NTFN), "notification destroy")
    _check(syscall.cap_delete(SLOT_NTFN), "notification delete")
    _report("notify_signal_wait", _median())


@noreturn
def _server(ep_slot: usize, arg1: usize) -> None:
    """The server of ipc_call_reply, in a process of its own: answer every call with its words summed."""
    msg: syscall.SysResult
    syscall.ep_recv(ep_slot, 0, addr(msg))
    while True:
        syscall.ep_reply_recv(ep_slot, msg.v1, msg.v2 + msg.v3, msg.v4, msg.v5, 0, addr(msg))


def _start_server() -> None:
    """Make the server process (init's code mapped, a stack, the endpoint in its slot 0) and start its thread."""
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    _check(syscall.proc_create(self_slot, abi.KIND_ENDPOINT, SLOT_EP, 0), "endpoint create")
    _check(syscall.proc_create(self_slot, abi.KIND_PROCESS, SLOT_SERVER, SERVER_QUOTA), "server process")
    _check(image.map_into(SLOT_SERVER, False), "map the image into the server")
    _check(syscall.proc_create(SLOT_SERVER, abi.KIND_FRAME, SLOT_SERVER_STACK, PEER_STACK_PAGES), "server stack")
    _check(syscall.proc_map(SLOT_SERVER, SLOT_SERVER_STACK, board.USER_STACK_TOP - PEER_STACK_PAGES * PAGE,
                            abi.RIGHT_READ | abi.RIGHT_WRITE), "map the server stack")
    _check(syscall.proc_give(SLOT_SERVER, SLOT_EP, SERVER_EP), "give the endpoint")
    _check(syscall.proc_create(SLOT_SERVER, abi.KIND_THREAD, SLOT_SERVER_THREAD, 0), "server thread")
    _check(syscall.thread_set_regs(SLOT_SERVER_THREAD, addr(_server), board.USER_STACK_TOP, SERVER_EP, 0),
           "server registers")
    _check(syscall.thread_start(SLOT_SERVER_THREAD), "server start")
    syscall.thread_yield()          # the server runs to its first receive


def _ipc_call_reply(name: Ptr[u8]) -> None:
    """ipc_call_reply(_slow): a call to the server in another process and its reply_recv answer, round trip."""
    msg: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        err = syscall.ep_call(SLOT_EP, 7, usize(i), 1, 2, 3, addr(msg))
        t1 = rdinstret()
        _check(err, "call")
        if msg.v1 != 7 or msg.v2 != usize(i) + 1:
            _check(abi.ERR_BAD_STATE, "the reply's contents")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _report(name, _median())


@noreturn
def _portal_entry(badge: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> None:
    """The callee of ipc_migrate, run by the caller's own thread in the server: return a1 + a2 and a3."""
    syscall.migrate_return(a1 + a2, a3, a4, badge)
    while True:
        pass


def _ipc_migrate() -> None:
    """ipc_migrate: migrate_call into the server's portal and migrate_return, round trip on one thread."""
    _check(syscall.proc_create(SLOT_SERVER, abi.KIND_FRAME, SLOT_SCRATCH, 2 * PORTAL_STACK_BYTES // PAGE),
           "portal stacks")
    _check(syscall.proc_map(SLOT_SERVER, SLOT_SCRATCH, PORTAL_STACKS_VA, abi.RIGHT_READ | abi.RIGHT_WRITE),
           "map the portal stacks")
    _check(syscall.proc_create(SLOT_SERVER, abi.KIND_PORTAL, SLOT_PORTAL, 0), "portal")
    _check(syscall.portal_set(SLOT_PORTAL, addr(_portal_entry), PORTAL_STACKS_VA, PORTAL_STACK_BYTES, 2),
           "portal set-up")
    res: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        err = syscall.migrate_call(SLOT_PORTAL, usize(i), 1, 2, 3, addr(res))
        t1 = rdinstret()
        _check(err, "migrate_call")
        if res.v0 != usize(i) + 1 or res.v1 != 2:
            _check(abi.ERR_BAD_STATE, "the migrated call's results")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _report("ipc_migrate", _median())
    # The stacks frame and the portal belong to the server: they go with it (_stop_server).
    _check(syscall.cap_delete(SLOT_SCRATCH), "stack frame delete")
    _check(syscall.cap_delete(SLOT_PORTAL), "portal delete")


def _stop_server() -> None:
    """Destroy the server process (its thread and stack go with it) and the endpoint."""
    _check(syscall.cap_destroy(SLOT_SERVER), "server destroy")
    _check(syscall.cap_destroy(SLOT_EP), "endpoint destroy")
    for slot in range(usize(SLOT_SERVER), usize(SLOT_EP + 1)):
        syscall.cap_delete(slot)


def _async_send_recv() -> None:
    """async_send_recv: one short message posted to an endpoint's ring and received (no thread switch)."""
    _check(syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_ENDPOINT, SLOT_ASYNC_EP, 0), "endpoint")
    res: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        posted = syscall.ep_post(SLOT_ASYNC_EP, 5, usize(i), 0, 0, 0, False)
        got = syscall.ep_recv(SLOT_ASYNC_EP, abi.NO_WAIT, addr(res))
        t1 = rdinstret()
        _check(posted, "post")
        _check(got, "receive")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _report("async_send_recv", _median())


@noreturn
def _payload_peer(ep_slot: usize, arg1: usize) -> None:
    """The peer of ipc_large_4k: offers its 4 KiB buffer for ever."""
    res: syscall.SysResult
    while True:
        syscall.ep_send_payload(ep_slot, 1, addr(_payload_out[0]), PAYLOAD_BYTES, 0, addr(res))


def _ipc_large_4k() -> None:
    """ipc_large_4k: receive the announcement of a 4 KiB payload and accept it (the kernel copies it)."""
    me: syscall.SysResult
    _check(syscall.self_info(addr(me)), "self")
    _start_peer(addr(_payload_peer), SLOT_ASYNC_EP, me.v2)
    res: syscall.SysResult
    for i in range(u32(WARMUP + ITERATIONS)):
        t0 = rdinstret()
        got = syscall.ep_recv(SLOT_ASYNC_EP, 0, addr(res))
        taken = syscall.accept(addr(_payload_in[0]), PAYLOAD_BYTES, addr(res))
        t1 = rdinstret()
        _check(got, "payload announcement")
        _check(taken, "accept")
        if res.v0 != PAYLOAD_BYTES:
            _check(abi.ERR_BAD_STATE, "payload length")
        if i >= WARMUP:
            _samples[i - WARMUP] = t1 - t0 - _overhead
    _stop_peer()
    _check(syscall.cap_destroy(SLOT_ASYNC_EP), "endpoint destroy")
    _check(syscall.cap_delete(SLOT_ASYNC_EP), "endpoint delete")
    _report("ipc_large_4k", _median())


if TARGET == "riscv64":
    @naked
    def _probe() -> None:
        """clone_64k's clone thread: its first instruction reads the counter, which becomes its exit code (OP_EXIT 18)."""
        asm("rdinstret a1\nli a7, 18\necall\nunimp")


def _first_instruction_at(t0: u64) -> u64:
    """Run the new thread in SLOT_CHILD_THREAD until it exits; return its rdinstret less ``t0`` and half the overhead."""
    _check(syscall.thread_start(SLOT_CHILD_THREAD), "start")
    syscall.thread_yield()          # the thread has bench's priority: it runs now, to its exit
    res: syscall.SysResult
    _check(syscall.thread_state(SLOT_CHILD_THREAD, addr(res)), "thread state")
    if res.v0 != abi.STATE_EXITED:
        _check(abi.ERR_BAD_STATE, "the new thread's exit")
    return u64(res.v1) - t0 - _overhead // 2


def _spawn_elf() -> None:
    """spawn_elf: the loader builds bench from its ELF in the initrd; until main's first statement (docstring)."""
    self_slot: usize = initcaps.SLOT_SELF_PROCESS
    _check(loader.map_initrd(), "map the initrd")
    _check(syscall.proc_create(self_slot, abi.KIND_ENDPOINT, SLOT_FAULT_EP, 0), "fault endpoint")
    me: syscall.SysResult
    _check(syscall.self_info(addr(me)), "self")
    for i in range(u32(SPAWN_WARMUP + SPAWN_ITERATIONS)):
        t0 = rdinstret()
        err = loader.load("bench", PROBE_ARGS, PROBE_ARGS_LEN, 2, 0, SLOT_CHILD, SLOT_CHILD_THREAD, SLOT_LOAD_FRAME,
                          me.v2, SLOT_FAULT_EP, 0, SLOT_LOAD_FILE)
        _check(err, "load bin/bench")
        took = _first_instruction_at(t0)
        _check(syscall.cap_destroy(SLOT_CHILD), "process destroy")
        syscall.cap_delete(SLOT_CHILD)
        syscall.cap_delete(SLOT_CHILD_THREAD)
        if i >= SPAWN_WARMUP:
            _samples[i - SPAWN_WARMUP] = took
    _check(syscall.cap_destroy(SLOT_FAULT_EP), "endpoint destroy")
    syscall.cap_delete(SLOT_FAULT_EP)
    _report("spawn_elf", _median(SPAWN_ITERATIONS))


def _make_source() -> None:
    """clone_64k's source in SLOT_SOURCE: bench's text and rodata, 64 KiB of data and a one-page stack, read-write."""
    _check(syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS, SLOT_SOURCE, SOURCE_QUOTA), "source")
    _check(image.map_into(SLOT_SOURCE, False), "source image")
    _check(syscall.proc_create(SLOT_SOURCE, abi.KIND_FRAME, SLOT_SOURCE_FRAME, SOURCE_DATA_PAGES), "source data")
    _check(syscall.proc_map(SLOT_SOURCE, SLOT_SOURCE_FRAME, SOURCE_DATA_VA, abi.RIGHT_READ | abi.RIGHT_WRITE),
           "map the source data")
    syscall.cap_delete(SLOT_SOURCE_FRAME)
    _check(syscall.proc_create(SLOT_SOURCE, abi.KIND_FRAME, SLOT_SOURCE_FRAME, 1), "source stack")
    _check(syscall.proc_map(SLOT_SOURCE, SLOT_SOURCE_FRAME, board.USER_STACK_TOP - PAGE,
                            abi.RIGHT_READ | abi.RIGHT_WRITE), "map the source stack")
    syscall.cap_delete(SLOT_SOURCE_FRAME)


def _clone_64k() -> None:
    """clone_64k: clone.make of a fresh process with 64 KiB of data, until the clone's first instruction."""
    me: syscall.SysResult
    _check(syscall.self_info(addr(me)), "self")
    for i in range(u32(SPAWN_WARMUP + SPAWN_ITERATIONS)):
        _make_source()
        t0 = rdinstret()
        err = clone.make(SLOT_SOURCE, CLONE_QUOTA, SLOT_CHILD, SLOT_CHILD_THREAD, addr(_probe), 0, 0, me.v2,
                         abi.NO_CAP)
        _check(err, "clone")
        took = _first_instruction_at(t0)
        _check(syscall.cap_destroy(SLOT_SOURCE), "source destroy")      # the clone, owned by it, goes too
        for slot in range(usize(SLOT_CHILD), usize(SLOT_CHILD_THREAD + 1)):
            syscall.cap_delete(slot)
        syscall.cap_delete(SLOT_SOURCE)
        if i >= SPAWN_WARMUP:
            _samples[i - SPAWN_WARMUP] = took
    _report("clone_64k", _median(SPAWN_ITERATIONS))


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Run every benchmark, print its figure, and power off with status 0; as spawn_elf's child, exit at once.

    Started by the loader with an argument (``bench probe``: arg0 = argc),
    it is spawn_elf's measured child and returns the counter as its exit code.
    """
    if arg0 >= 2:
        return usize(rdinstret())
    _measure_overhead()
    _null_syscall()
    _start_server()
    _ipc_call_reply("ipc_call_reply")
    _check(syscall.console_fastpath(initcaps.SLOT_CONSOLE, False), "fast path off")
    _ipc_call_reply("ipc_call_reply_slow")
    _check(syscall.console_fastpath(initcaps.SLOT_CONSOLE, True), "fast path on")
    _ipc_migrate()
    _stop_server()
    _frame_map_unmap()
    _process_create_destroy()
    _thread_yield()
    _async_send_recv()
    _ipc_large_4k()
    _notify_signal_wait()
    _spawn_elf()
    _clone_64k()
    console.puts("bench: done\n")
    syscall.console_halt(initcaps.SLOT_CONSOLE, 0)
    return 0
