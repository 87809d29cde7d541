"""fuzz: the system-call fuzzer (issue 11), run as init: seeded random operations, the kernel's invariants per batch.

Booted as init (``kcc fuzz``, ``make fuzz``: ``init=fuzz -- calls=N seed=S``
on the kernel command line), it issues ``calls`` random system calls drawn
from ``seed`` (user/lib/rand.py): every operation of lib/abi.py, weighted,
on slots drawn from its own capability table (live, empty and stale
capabilities of every kind), from outside the table, and with hostile
arguments (kernel addresses, unmapped and read-only pages, misaligned
addresses, lengths that wrap, out-of-range numbers). It creates and
destroys child processes, threads, endpoints, notifications, frames,
portals and mappings inside a *sandbox* process it remakes now and then,
and starts threads in children that exit, fault in every way, spin, or run
random system calls of their own (the blocking operations: sends, calls,
reply-receives, payloads, notification waits, blocking posts).

After every BATCH calls it asks the kernel to check its invariants
(OP_CONSOLE_CHECK) and prints ``fuzz: step S checksum C violations V``;
a violation prints ``fuzz: invariant violation: ...`` with the seed and
step. The last line is ``fuzz: done: N calls, V invariant violations,
checksum C (seed S)``, and the machine powers off with status 0 when V is
0, 1 otherwise. The checksum folds every call's error code and first result,
so two runs of one seed (under ``-icount shift=0``) print the same lines.

What the fuzzer must never do, since it would end the run for a reason
that is no kernel bug: power off (OP_CONSOLE_HALT), destroy, stop, exit,
unmap or fault its own process and thread, or block its own thread for
ever. So its own process and thread capabilities (slots 0 and 1) and its
image's frames (13..16) are never copied, moved, deleted or destroyed,
and invoked only with operations that cannot harm it; its own thread
waits only with a timeout or a poll, and never lends itself to a migrated
call (the blocking operations and migrated calls run in the children's
threads). A thread's pc is only ever a function of this program written
for children (or an address that faults); a child's thread can still run
from a random place when another thread of its process overwrites its
stack (they draw stacks and store targets at random), so no child ever
holds a console capability (OP_CONSOLE_HALT) or one to the fuzzer's own
process or thread, and such a thread can only do what fuzzing may. The
fuzzer's own pointers for the kernel to write (OP_ACCEPT) point into a
page of their own, never at its globals. The children run at priorities
below the fuzzer's 63, so they never starve it; it sleeps a tick per
batch so they run.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import console, image, rand, syscall, text
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

BATCH: Final = 1000                     # calls between invariant checks and progress lines
RESET_BATCHES: Final = 10               # the sandbox is remade after this many batches
DEFAULT_CALLS: Final = 10000
SLOT_SANDBOX: Final = initcaps.INIT_FIRST_FREE      # the sandbox process (17)
SLOT_POINTERS: Final = 12               # the frame of POINTER_VA (an empty device slot of init's)
POINTER_VA: Final = 0x3E_0000_0000      # one read + write page of the fuzzer's, nothing mapped after it
SANDBOX_QUOTA: Final = 4096             # pages (16 MiB) of the fuzzer's quota per sandbox
PAGE: Final = board.PAGE_SIZE
SCRATCH_VA: Final = 0x30_0000_0000      # where the fuzzer maps frames into itself, in 1 MiB windows
SCRATCH_WINDOWS: Final = 64
CHILD_STACK_VA: Final = 0x38_0000_0000  # children's stacks, 64 KiB apart
CHILD_STACK_PAGES: Final = 2
PORTAL_VA: Final = 0x3C_0000_0000       # in a callee: its portals' stacks, 64 KiB apart
PORTAL_PAGES: Final = 4
CHILD_GIFTS: Final = 8                  # a child's slots 0 .. CHILD_GIFTS - 1 get capabilities for its workers
TYPED: Final = 85                       # percent of operations on a slot believed to hold the right kind
PORTAL_STACK_BYTES: Final = 2 * PAGE
TABLE: Final = board.CAP_SLOTS
LOW_PRIORITY: Final = 62                # children run at 1 .. LOW_PRIORITY, below the fuzzer (63)
SPIN_MAX: Final = 20000                 # a spinning child's loop bound
WORKER_ROUNDS_MAX: Final = 64           # system calls of one worker thread

# Slots the random operations may empty, move into or hand to the children: all but the fuzzer's
# own process, thread, console, IRQ control, initrd, device regions, image frames and SLOT_POINTERS.
ARENA_COUNT: Final = 52
_ARENA: Final[Array[u8, ARENA_COUNT]] = (
    7, 8, 9, 10, 11, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
    38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
)
# Protected slots the fuzzer may copy from and give away: IRQ control, initrd. Copies of them live
# in the arena like any capability. Not the console: a child's thread whose stack another thread
# of its process overwrote may run from anywhere in the program, and must not reach
# OP_CONSOLE_HALT with a console capability. Not the device regions: a child could map the UART
# and store to its line-control register, and the console is the run's record; they are mapped
# only into the fuzzer itself, which never touches its scratch windows.
SHAREABLE_COUNT: Final = 2
_SHAREABLE: Final[Array[u8, SHAREABLE_COUNT]] = (3, 4)
# The kinds OP_PROC_CREATE makes.
CREATABLE_COUNT: Final = 6
_CREATABLE: Final[Array[u8, CREATABLE_COUNT]] = (
    abi.KIND_PROCESS, abi.KIND_THREAD, abi.KIND_ENDPOINT, abi.KIND_NOTIFICATION, abi.KIND_FRAME, abi.KIND_PORTAL,
)

# Hostile and ordinary addresses: NULL, a low page, the kernel's image and RAM, below and past the
# user window, the top of the address space, the program's text (read-only, also misaligned), an
# unmapped user page, the children's stack area, the scratch windows.
ADDRESS_COUNT: Final = 14
_ADDRESSES: Final[Array[u64, ADDRESS_COUNT]] = (
    0, 8, 0x8020_0000, 0x8000_0000, 0xF_FFFF_F000, 0x40_0000_0000, 0xFFFF_FFFF_FFFF_F000,
    0xFFFF_FFFF_FFFF_FFFF, board.USER_BASE, board.USER_BASE + 3, 0x3F_0000_0000, CHILD_STACK_VA,
    SCRATCH_VA, SCRATCH_VA + 0x10_0001,
)
# Lengths: empty, small, a page and one past it, a payload's limit and one past it, huge.
LENGTH_COUNT: Final = 9
_LENGTHS: Final[Array[u64, LENGTH_COUNT]] = (
    0, 1, 16, 4096, 4097, 65536, 65537, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
)
# Operation numbers no kind has, one or more from each group's range, and two far out.
UNKNOWN_COUNT: Final = 14
_UNKNOWN_OPS: Final[Array[u64, UNKNOWN_COUNT]] = (
    0, 7, 15, 25, 31, 38, 47, 57, 70, 76, 83, 99, 133, 0xFFFF_FFFF_FFFF_FFFF,
)

# The fuzzer's own actions and their weights (_pick). One action is one system call, except
# A_SPAWN, A_WORKER and A_RESET, which make a whole child, thread or sandbox from several.
A_IDENTIFY: Final = 0
A_COPY: Final = 1
A_MINT: Final = 2
A_MOVE: Final = 3
A_DELETE: Final = 4
A_DESTROY: Final = 5
A_YIELD: Final = 6
A_SLEEP: Final = 7
A_SELF: Final = 8
A_REPLY: Final = 9
A_ACCEPT: Final = 10
A_REFUSE: Final = 11
A_MIGRATE_RETURN: Final = 12
A_THREAD_RECV: Final = 13
A_PROC_CREATE: Final = 14
A_PROC_MAP: Final = 15
A_PROC_UNMAP: Final = 16
A_PROC_GIVE: Final = 17
A_PROC_INFO: Final = 18
A_PROC_CLONE: Final = 19
A_SET_REGS: Final = 20
A_SET_SCHED: Final = 21
A_START: Final = 22
A_STOP: Final = 23
A_RESUME: Final = 24
A_STATE: Final = 25
A_SET_FAULT: Final = 26
A_THREAD_ID: Final = 27
A_THREAD_SEND: Final = 28
A_EP_RECV: Final = 29
A_EP_POST: Final = 30
A_PORTAL_SET: Final = 31
A_MIGRATE_CALL: Final = 32
A_MIGRATE_FORWARD: Final = 33
A_MIGRATE_NOTIFY: Final = 34
A_SIGNAL: Final = 35
A_POLL: Final = 36
A_IRQ_CLAIM: Final = 37
A_IRQ_BIND: Final = 38
A_IRQ_ACK: Final = 39
A_DEVICE_INFO: Final = 40
A_FRAME_INFO: Final = 41
A_CONSOLE_WRITE: Final = 42
A_CONSOLE_POOL: Final = 43
A_CONSOLE_CHECK: Final = 44
A_FASTPATH: Final = 45
A_UNKNOWN: Final = 46
A_SPAWN: Final = 47
A_WORKER: Final = 48
A_RESET: Final = 49
A_PORTAL: Final = 50
ACTIONS: Final = 51
_WEIGHTS: Final[Array[u32, ACTIONS]] = (
    40, 30, 30, 15, 25, 25,                 # identify, copy, mint, move, delete, destroy
    5, 2, 5, 5, 5, 5, 3, 5,                 # yield, sleep, self, reply, accept, refuse, migrate return, thread recv
    80, 40, 25, 30, 10, 10,                 # process: create, map, unmap, give, info, clone
    20, 15, 20, 10, 15, 10, 10, 5, 15,      # thread: regs, sched, start, stop, resume, state, fault ep, id, send
    30, 20,                                 # endpoint: receive (poll or short timeout), post
    15, 0, 3, 10,                           # portal: set, call (workers only: see _ipc_action), forward, notify
    20, 20,                                 # notification: signal, poll
    5, 5, 5, 5, 10,                         # irq claim, bind, ack; device info, frame info
    10, 5, 2, 2,                            # console: write, pool, check, fast path
    10,                                     # an unknown operation
    20, 20, 1, 8,                           # a child, a worker thread, a new sandbox, a callable portal
)

# The operations worker threads draw (run in children: the blocking ones are here), with weights.
WORKER_OP_COUNT: Final = 40
_WORKER_OPS: Final[Array[u32, WORKER_OP_COUNT]] = (
    abi.OP_CAP_IDENTIFY, abi.OP_CAP_COPY, abi.OP_CAP_MINT, abi.OP_CAP_MOVE, abi.OP_CAP_DELETE,
    abi.OP_CAP_DESTROY, abi.OP_YIELD, abi.OP_SLEEP, abi.OP_EXIT, abi.OP_SELF, abi.OP_REPLY, abi.OP_ACCEPT,
    abi.OP_REFUSE, abi.OP_MIGRATE_RETURN, abi.OP_THREAD_RECV, abi.OP_PROC_CREATE, abi.OP_PROC_MAP,
    abi.OP_PROC_UNMAP, abi.OP_PROC_GIVE, abi.OP_PROC_INFO, abi.OP_THREAD_SET_REGS, abi.OP_THREAD_SET_SCHED,
    abi.OP_THREAD_START, abi.OP_THREAD_STOP, abi.OP_THREAD_RESUME, abi.OP_THREAD_STATE, abi.OP_THREAD_SEND,
    abi.OP_EP_RECV, abi.OP_EP_SEND, abi.OP_EP_CALL, abi.OP_EP_REPLY_RECV, abi.OP_EP_POST,
    abi.OP_EP_SEND_PAYLOAD, abi.OP_PORTAL_SET, abi.OP_MIGRATE_CALL, abi.OP_MIGRATE_NOTIFY, abi.OP_NTFN_SIGNAL,
    abi.OP_NTFN_WAIT, abi.OP_NTFN_POLL, abi.OP_FRAME_INFO,
)
_WORKER_WEIGHTS: Final[Array[u32, WORKER_OP_COUNT]] = (
    4, 4, 4, 2, 2, 2, 2, 2, 1, 2, 6, 6,
    4, 2, 4, 4, 4,
    2, 4, 2, 3, 3,
    3, 3, 3, 2, 6,
    10, 10, 10, 8, 8,
    6, 3, 4, 4, 6,
    6, 4, 2,
)

SKIPPED: Final = 0xFFFF                 # _sys's answer once the run's calls are all made

_rng: rand.Rng
_res: syscall.SysResult
_calls: u64 = 0
_limit: u64 = 0
_checksum: u64 = 0
_violations: u64 = 0
_seed: u64 = 0
# The kind the fuzzer believes each of its slots holds (abi KIND_*, KIND_NULL: empty), kept by the
# actions that fill or empty a slot and by _refresh; a stale capability keeps its kind. Only a
# guide for drawing slots (_typed): a wrong belief just makes a call fail.
_kinds: Array[u8, TABLE]


# ---- children's code: no globals (a child maps only the text and rodata), only its stack and arguments ----

def _pc(r: Ptr[rand.Rng]) -> usize:
    """A pc for a thread: one of the children's functions, or an address where fetching faults."""
    k = rand.below(r, 8)
    if k == 0:
        return addr(child_exit)
    if k == 1:
        return addr(child_fault)
    if k == 2:
        return addr(child_spin)
    if k == 3 or k == 4:
        return addr(child_worker)
    if k == 5:
        return CHILD_STACK_VA                   # mapped read + write, never executable
    if k == 6:
        return 0x8020_0000                      # the kernel's text: not user-accessible
    return 0x3F_0000_0000                       # unmapped


def _entry(r: Ptr[rand.Rng]) -> usize:
    """A portal entry: the children's portal function, or an address where fetching faults."""
    k = rand.below(r, 4)
    if k == 0 or k == 1:
        return addr(portal_entry)
    if k == 2:
        return CHILD_STACK_VA
    return 0x3F_0000_0000


def _worker_op(r: Ptr[rand.Rng]) -> usize:
    """An operation for a worker, drawn with _WORKER_WEIGHTS."""
    total: u64 = 0
    for i in range(WORKER_OP_COUNT):
        total += u64(_WORKER_WEIGHTS[i])
    x = rand.below(r, total)
    for i in range(WORKER_OP_COUNT):
        if x < u64(_WORKER_WEIGHTS[i]):
            return usize(_WORKER_OPS[i])
        x -= u64(_WORKER_WEIGHTS[i])
    return abi.OP_YIELD


def _word(r: Ptr[rand.Rng], buffer: usize) -> usize:
    """An argument word: small numbers, slots, no-wait/no-cap, hostile and valid addresses, lengths, anything."""
    k = rand.below(r, 10)
    if k == 0 or k == 1:
        return usize(rand.below(r, 8))
    if k == 2:
        return usize(rand.below(r, 70))
    if k == 3:
        return abi.NO_CAP
    if k == 4:
        return usize(_ADDRESSES[rand.below(r, ADDRESS_COUNT)])
    if k == 5:
        return buffer + usize(rand.below(r, 64))
    if k == 6:
        return usize(_LENGTHS[rand.below(r, LENGTH_COUNT)])
    if k == 7:
        return usize(rand.below(r, 40))
    return usize(rand.next(r))


def _timeout(r: Ptr[rand.Rng]) -> usize:
    """A receive timeout for a thread that may wait: poll, a few ticks, or (rarely) for ever."""
    k = rand.below(r, 8)
    if k < 3:
        return abi.NO_WAIT
    if k == 7:
        return 0
    return usize(k - 2)


@export("fuzz_child_exit")
def child_exit(code: usize, unused: usize) -> None:
    """A child's thread that exits at once with ``code``."""
    syscall.exit(code)


@export("fuzz_child_fault")
def child_fault(how: usize, address: usize) -> None:
    """A child's thread that faults: ``how`` picks a store, a load, an illegal instruction, a breakpoint, a misaligned load."""
    k = how % 6
    if k == 0:
        volatile_store(cast(Ptr[usize], address & ~usize(7)), how)
    elif k == 1:
        volatile_load(cast(Ptr[usize], address & ~usize(7)))
    elif k == 2:
        asm("unimp")
    elif k == 3:
        asm("ebreak")
    elif k == 4:
        volatile_load(cast(Ptr[u32], board.USER_BASE + 2 + (how & 0x70)))
    else:
        volatile_store(cast(Ptr[usize], board.USER_BASE), how)     # the text: read-only
    syscall.exit(how)


@export("fuzz_child_spin")
def child_spin(loops: usize, yields: usize) -> None:
    """A child's thread that computes for a while (at most SPIN_MAX steps), yielding now and then, and exits."""
    n = loops % SPIN_MAX
    acc: usize = 0
    for i in range(n):
        acc = acc * 31 + i
        if yields != 0 and i % 1024 == 0:
            syscall.thread_yield()
    syscall.exit(acc & 0xFF)


@export("fuzz_child_worker")
def child_worker(seed: usize, rounds: usize) -> None:
    """A child's thread that makes up to WORKER_ROUNDS_MAX random system calls on its own table, blocking ones too.

    Its own generator comes from ``seed``; the capabilities are whatever
    the fuzzer gave its process. A thread pc or portal entry is always one
    of _pc's or _entry's; no operation drawn powers the machine off
    (OP_CONSOLE_HALT is not among them, and no child holds a console).
    """
    r: rand.Rng
    rand.seed(addr(r), u64(seed))
    buf: Array[u8, 256]                 # pointers land in its first 64 bytes, accepts take at most 128
    res: syscall.SysResult
    b = usize(addr(buf[0]))
    n = rounds % WORKER_ROUNDS_MAX
    for i in range(n):
        op = _worker_op(addr(r))
        slot = usize(rand.below(addr(r), CHILD_GIFTS)) if rand.percent(addr(r), 90) else _word(addr(r), b)
        a1 = _word(addr(r), b)
        a2 = _word(addr(r), b)
        a3 = _word(addr(r), b)
        a4 = _word(addr(r), b)
        a5 = _word(addr(r), b)
        a6 = _word(addr(r), b)
        if op == abi.OP_THREAD_SET_REGS:
            a1 = _pc(addr(r))
            a2 = CHILD_STACK_VA + usize(rand.below(addr(r), 16)) * 0x1_0000 + CHILD_STACK_PAGES * PAGE
        elif op == abi.OP_PORTAL_SET:
            a1 = _entry(addr(r))
        elif op == abi.OP_EP_RECV or op == abi.OP_THREAD_RECV:
            a1 = _timeout(addr(r))
        elif op == abi.OP_SLEEP:
            a1 = usize(rand.below(addr(r), 3))
        elif op == abi.OP_ACCEPT:
            a1 = b + usize(rand.below(addr(r), 64))
            a2 = usize(rand.below(addr(r), 128))
        elif op == abi.OP_EP_SEND_PAYLOAD:
            a2 = b
            a3 = usize(rand.below(addr(r), 200))
        syscall.invoke(slot, op, a1, a2, a3, a4, a5, a6, addr(res))
    syscall.exit(0)


@export("fuzz_portal_entry")
def portal_entry(badge: usize, op: usize, a2: usize, a3: usize, a4: usize) -> None:
    """A portal's entry, run by a migrated thread in the callee: return, fault, forward, or call another portal.

    ``op`` % 4: 0 returns (badge, a2, a3, a4); 1 faults (a store to
    address 8: the call returns ERR_FAULTED); 2 forwards to the portal in
    the callee's slot a2 % 64; 3 calls that portal (nesting, bounded by
    MIGRATE_DEPTH) and returns its results. Never exits: a migrated caller
    must come back.
    """
    res: syscall.SysResult
    k = op % 4
    if k == 1:
        volatile_store(cast(Ptr[usize], 8), op)
    elif k == 2:
        syscall.migrate_forward(a2 % TABLE, op >> 2, a3, a4, badge)
    elif k == 3:
        err = syscall.migrate_call(a2 % TABLE, op >> 2, a3, a4, badge, addr(res))
        syscall.migrate_return(err, res.v0, res.v1, res.v2)
    syscall.migrate_return(badge, a2, a3, a4)
    # Reached only when the thread is in no migrated call (an activation ends inside migrate_return).
    syscall.exit(0)


# ---- the fuzzer's own thread --------------------------------------------------------------------

def _sys(slot: usize, op: usize, a1: usize = 0, a2: usize = 0, a3: usize = 0, a4: usize = 0, a5: usize = 0,
         a6: usize = 0) -> usize:
    """Make one system call, count it and fold its error and first result into the checksum; return the error.

    Once the run's calls are all made it makes none and returns SKIPPED, so a run is exactly its calls.
    """
    global _calls, _checksum
    if _calls >= _limit:
        return SKIPPED
    err = syscall.invoke(slot, op, a1, a2, a3, a4, a5, a6, addr(_res))
    _calls += 1
    _checksum = (_checksum ^ (u64(op) << 48) ^ (u64(err) << 40) ^ u64(_res.v0)) * 0x100_0000_01B3
    return err


def _below(n: u64) -> u64:
    """A number in [0, n) from the fuzzer's generator."""
    return rand.below(addr(_rng), n)


def _pick() -> usize:
    """An action (A_*), drawn with _WEIGHTS."""
    total: u64 = 0
    for i in range(usize(ACTIONS)):
        total += u64(_WEIGHTS[i])
    x = _below(total)
    for i in range(usize(ACTIONS)):
        if x < u64(_WEIGHTS[i]):
            return i
        x -= u64(_WEIGHTS[i])
    return A_IDENTIFY


def _arena() -> usize:
    """A slot of the arena."""
    return usize(_ARENA[_below(ARENA_COUNT)])


def _note(slot: usize, kind: usize) -> None:
    """Record that ``slot`` now holds a capability of ``kind`` (KIND_NULL: empty); other slot numbers are ignored."""
    if slot < TABLE:
        _kinds[slot] = u8(kind)


def _kind_at(slot: usize) -> usize:
    """The kind the fuzzer believes ``slot`` holds (KIND_NULL for any number outside the table)."""
    if slot < TABLE:
        return usize(_kinds[slot])
    return abi.KIND_NULL


def _typed(kind: usize) -> usize:
    """A slot for an operation on ``kind``: mostly an arena slot believed to hold one, else any arena slot or none.

    Never a protected slot: what it returns may be given to a child (whose
    workers could then stop the fuzzer's thread, or destroy its process).
    """
    if _below(100) < TYPED:
        start = _below(ARENA_COUNT)
        for i in range(ARENA_COUNT):
            s = usize(_ARENA[(start + u64(i)) % ARENA_COUNT])
            if usize(_kinds[s]) == kind:
                return s
    if _below(10) == 0:
        return TABLE + usize(_below(4))
    return _arena()


def _refresh() -> None:
    """Learn what every arena slot holds (OP_CAP_IDENTIFY, not one of the run's calls): capabilities that
    arrived by IPC or were given by children; a stale one keeps the kind believed."""
    res: syscall.SysResult
    for i in range(ARENA_COUNT):
        s = usize(_ARENA[i])
        err = syscall.cap_identify(s, addr(res))
        if err == abi.OK:
            _kinds[s] = u8(res.v0)
        elif err == abi.ERR_EMPTY_SLOT:
            _kinds[s] = abi.KIND_NULL


def _source() -> usize:
    """A slot to read or copy from: mostly the arena, sometimes a shareable protected slot or no slot at all."""
    k = _below(20)
    if k < 16:
        return _arena()
    if k < 18:
        return usize(_SHAREABLE[_below(SHAREABLE_COUNT)])
    if k == 18:
        return TABLE
    return usize(rand.next(addr(_rng)))


def _harmless() -> usize:
    """A slot for operations that only read or only fail on the fuzzer's own process and thread: any slot."""
    if _below(10) == 0:
        return usize(rand.next(addr(_rng)))
    return usize(_below(TABLE))


def _word_main() -> usize:
    """An argument word for the fuzzer's own calls (the shared mix, with POINTER_VA as the valid pointer)."""
    return _word(addr(_rng), POINTER_VA)


def _pointer() -> usize:
    """A user pointer: the page at POINTER_VA (maybe near its end), the read-only text, or a hostile address.

    Never the fuzzer's own data: the kernel writes where OP_ACCEPT points,
    and a payload past the end of a buffer in .bss would overwrite the
    fuzzer's state (a run must be the seed's alone). Past POINTER_VA's page
    nothing is mapped, so a range across its end must fail.
    """
    k = _below(4)
    if k == 0:
        return POINTER_VA
    if k == 1:
        return POINTER_VA + PAGE - usize(_below(64))
    return usize(_ADDRESSES[_below(ADDRESS_COUNT)])


def _length(ptr: usize) -> usize:
    """A length for ``ptr``: one of the interesting lengths, small, or one that wraps past the top of memory."""
    k = _below(4)
    if k == 0:
        return usize(_LENGTHS[_below(LENGTH_COUNT)])
    if k == 1:
        return ~ptr + 2 + usize(_below(4096))
    return usize(_below(300))


def _own_va() -> usize:
    """An address in the fuzzer's own space it may map or unmap: a scratch window, or a hostile address.

    Never an address of its image or stack, which an unmap would take away.
    """
    k = _below(8)
    if k < 6:
        return SCRATCH_VA + usize(_below(SCRATCH_WINDOWS)) * 0x10_0000
    if k == 6:
        return SCRATCH_VA + usize(_below(PAGE))                    # misaligned
    return usize(_ADDRESSES[_below(7)])                             # below the window or past it


def _child_va() -> usize:
    """An address in a child's space: its stack area, its image, or a hostile one."""
    k = _below(8)
    if k < 5:
        return CHILD_STACK_VA + usize(_below(16)) * 0x1_0000
    if k == 5:
        return board.USER_BASE + usize(_below(4)) * PAGE
    return usize(_ADDRESSES[_below(ADDRESS_COUNT)])


def _empty_slot() -> usize:
    """An empty arena slot (a few tries, then one emptied by force: deleted, so its object may leak to its owner)."""
    for i in range(8):
        s = _arena()
        if s != SLOT_SANDBOX and _sys(s, abi.OP_CAP_IDENTIFY) == abi.ERR_EMPTY_SLOT:
            return s
    s = _arena()
    while s == SLOT_SANDBOX:
        s = _arena()
    _sys(s, abi.OP_CAP_DELETE)
    _note(s, abi.KIND_NULL)
    return s


def _owner() -> usize:
    """A process to create in: the sandbox mostly, else a child process (or whatever _typed draws)."""
    if _below(3) != 0:
        return SLOT_SANDBOX
    return _typed(abi.KIND_PROCESS)


def _kind() -> usize:
    """An object kind to create: the creatable ones mostly, else one that cannot be created, or nonsense."""
    k = _below(16)
    if k < 12:
        return usize(_CREATABLE[k % CREATABLE_COUNT])
    if k == 12:
        return abi.KIND_NULL
    if k == 13:
        return abi.KIND_CONSOLE
    if k == 14:
        return abi.NUM_KINDS
    return usize(rand.next(addr(_rng)))


def _create_arg(kind: usize) -> usize:
    """OP_PROC_CREATE's third argument for ``kind``: a quota or a frame's pages, sometimes hostile."""
    if _below(10) == 0:
        return usize(_LENGTHS[_below(LENGTH_COUNT)])
    if kind == abi.KIND_PROCESS:
        return 4 + usize(_below(60))
    if kind == abi.KIND_FRAME:
        return 1 + usize(_below(4))
    return usize(_below(3))


def _spawn() -> None:
    """A child process in the sandbox (or elsewhere) with the program's image, a stack and a thread, started.

    Each step may fail (a full pool, quota or table); the next ones then
    fail too, which is fuzzing as well. Random capabilities of the arena go
    into the child's first slots for its workers.
    """
    p = _empty_slot()
    quota: usize = 8 + usize(_below(56))
    if _below(20) == 0:
        quota = usize(_LENGTHS[_below(LENGTH_COUNT)])
    if _sys(_owner(), abi.OP_PROC_CREATE, abi.KIND_PROCESS, p, quota) != abi.OK:
        return
    _note(p, abi.KIND_PROCESS)
    if _below(10) != 0:
        _sys(p, abi.OP_PROC_MAP, initcaps.SLOT_TEXT, board.USER_BASE, abi.RIGHT_READ | abi.RIGHT_EXEC)
        pages = image.segment_pages(initcaps.SLOT_TEXT)
        if image.segment_pages(initcaps.SLOT_RODATA) != 0:
            _sys(p, abi.OP_PROC_MAP, initcaps.SLOT_RODATA, board.USER_BASE + pages * PAGE, abi.RIGHT_READ)
    _gifts(p)
    _thread_in(p)


# What a child's slots 1 .. CHILD_GIFTS - 1 get (slot 0: its own process), so its workers find
# capabilities of every kind at the slots they draw most.
_GIFT_KINDS: Final[Array[u8, CHILD_GIFTS]] = (
    abi.KIND_PROCESS, abi.KIND_ENDPOINT, abi.KIND_ENDPOINT, abi.KIND_NOTIFICATION, abi.KIND_PORTAL,
    abi.KIND_THREAD, abi.KIND_FRAME, abi.KIND_PROCESS,
)


def _gifts(p: usize) -> None:
    """Give child process ``p`` its own process capability in slot 0 and arena capabilities of every kind after it."""
    _sys(p, abi.OP_PROC_GIVE, p, 0)
    for i in range(usize(1), CHILD_GIFTS):
        src = _typed(usize(_GIFT_KINDS[i])) if _below(8) != 0 else _source()
        _sys(p, abi.OP_PROC_GIVE, src, i)


def _thread_in(p: usize) -> None:
    """A thread in process ``p`` (its slot) with a stack of its own, a random pc and arguments, started."""
    k = usize(_below(16))
    f = _empty_slot()
    if _sys(p, abi.OP_PROC_CREATE, abi.KIND_FRAME, f, CHILD_STACK_PAGES) == abi.OK:
        _sys(p, abi.OP_PROC_MAP, f, CHILD_STACK_VA + k * 0x1_0000, abi.RIGHT_READ | abi.RIGHT_WRITE)
    t = _empty_slot()
    if _sys(p, abi.OP_PROC_CREATE, abi.KIND_THREAD, t, 0) != abi.OK:
        return
    _note(t, abi.KIND_THREAD)
    pc = _pc(addr(_rng))
    sp = CHILD_STACK_VA + k * 0x1_0000 + CHILD_STACK_PAGES * PAGE
    if _below(10) == 0:
        sp = _child_va()
    a0 = usize(rand.next(addr(_rng)))
    a1 = usize(_below(WORKER_ROUNDS_MAX)) if _below(2) == 0 else _word_main()
    if pc == addr(child_fault):
        a1 = _child_va()
    _sys(t, abi.OP_THREAD_SET_REGS, pc, sp, a0, a1)
    _sys(t, abi.OP_THREAD_SET_SCHED, 1 + usize(_below(LOW_PRIORITY)), 0, 0)
    if _below(2) == 0:
        _sys(t, abi.OP_THREAD_SET_FAULT, _typed(abi.KIND_ENDPOINT))
    if _below(4) == 0:
        _sys(p, abi.OP_PROC_GIVE, t, 1 + usize(_below(CHILD_GIFTS - 1)))     # the worker may act on itself
    _sys(t, abi.OP_THREAD_START)


def _worker() -> None:
    """A worker thread in the sandbox or a child (whatever process capability the arena slot drawn holds)."""
    p: usize = SLOT_SANDBOX
    if _below(2) == 0:
        p = _typed(abi.KIND_PROCESS)
    _thread_in(p)


def _portal() -> None:
    """A callable portal in the sandbox or a child: stacks mapped in the callee, the children's entry (mostly)."""
    p: usize = SLOT_SANDBOX
    if _below(2) == 0:
        p = _typed(abi.KIND_PROCESS)
    k = usize(_below(16))
    f = _empty_slot()
    if _sys(p, abi.OP_PROC_CREATE, abi.KIND_FRAME, f, PORTAL_PAGES) == abi.OK:
        _note(f, abi.KIND_FRAME)
        _sys(p, abi.OP_PROC_MAP, f, PORTAL_VA + k * 0x1_0000, abi.RIGHT_READ | abi.RIGHT_WRITE)
    q = _empty_slot()
    if _sys(p, abi.OP_PROC_CREATE, abi.KIND_PORTAL, q, 0) != abi.OK:
        return
    _note(q, abi.KIND_PORTAL)
    _sys(q, abi.OP_PORTAL_SET, _entry(addr(_rng)), PORTAL_VA + k * 0x1_0000, PAGE, 1 + usize(_below(PORTAL_PAGES)))
    if _below(2) == 0:
        # The callee's own table gets portals too, for forwarding and nested calls (portal_entry's slots).
        _sys(p, abi.OP_PROC_GIVE, q, usize(_below(CHILD_GIFTS)))


def _tidy_arena() -> None:
    """Destroy what every arena capability may destroy, then empty the arena: the objects go back to their pools."""
    for i in range(ARENA_COUNT):
        s = usize(_ARENA[i])
        if _sys(s, abi.OP_CAP_IDENTIFY) == abi.OK and _res.v1 & abi.RIGHT_DESTROY != 0:
            _sys(s, abi.OP_CAP_DESTROY)
        _sys(s, abi.OP_CAP_DELETE)
        _kinds[s] = abi.KIND_NULL


def _reset() -> None:
    """Remake the world: the sandbox and everything it owns destroyed, the arena emptied, a new sandbox made."""
    _tidy_arena()
    if _sys(initcaps.SLOT_SELF_PROCESS, abi.OP_PROC_CREATE, abi.KIND_PROCESS, SLOT_SANDBOX, SANDBOX_QUOTA) != abi.OK:
        return
    _note(SLOT_SANDBOX, abi.KIND_PROCESS)
    _sys(SLOT_SANDBOX, abi.OP_PROC_MAP, initcaps.SLOT_TEXT, board.USER_BASE, abi.RIGHT_READ | abi.RIGHT_EXEC)
    pages = image.segment_pages(initcaps.SLOT_TEXT)
    if image.segment_pages(initcaps.SLOT_RODATA) != 0:
        _sys(SLOT_SANDBOX, abi.OP_PROC_MAP, initcaps.SLOT_RODATA, board.USER_BASE + pages * PAGE, abi.RIGHT_READ)


def _cap_action(a: usize) -> None:
    """OP_CAP_*: identify any slot; copy and mint from the arena or a shareable slot; move, delete, destroy in the arena."""
    if a == A_IDENTIFY:
        _sys(_harmless(), abi.OP_CAP_IDENTIFY)
        return
    if a == A_DESTROY:
        _sys(_arena(), abi.OP_CAP_DESTROY)
        return
    if a == A_DELETE:
        s = _arena()
        if _sys(s, abi.OP_CAP_DELETE) == abi.OK:
            _note(s, abi.KIND_NULL)
        return
    dst = _arena() if _below(8) != 0 else _harmless()     # a destination must be empty: any slot will do
    src = _source() if a != A_MOVE else _arena()
    kind = _kind_at(src)
    err: usize = 0
    if a == A_COPY:
        err = _sys(src, abi.OP_CAP_COPY, dst)
    elif a == A_MINT:
        mask = usize(_below(32)) if _below(8) != 0 else _word_main()
        badge = usize(_below(4)) if _below(2) == 0 else _word_main()
        err = _sys(src, abi.OP_CAP_MINT, dst, mask, badge)
    else:
        err = _sys(src, abi.OP_CAP_MOVE, dst)
        if err == abi.OK:
            _note(src, abi.KIND_NULL)
    if err == abi.OK:
        _note(dst, kind)


def _self_action(a: usize) -> None:
    """The calling thread's own operations, never blocking for ever (polls and timeouts of a few ticks)."""
    if a == A_YIELD:
        _sys(_harmless(), abi.OP_YIELD)
    elif a == A_SLEEP:
        _sys(0, abi.OP_SLEEP, usize(_below(4)) // 3)
    elif a == A_SELF:
        _sys(_harmless(), abi.OP_SELF)
    elif a == A_REPLY:
        label = usize(_below(16)) if _below(8) != 0 else _word_main()
        _sys(0, abi.OP_REPLY, label, _word_main(), _word_main(), _word_main(), _word_main())
    elif a == A_ACCEPT:
        ptr = _pointer()
        _sys(0, abi.OP_ACCEPT, ptr, _length(ptr))
    elif a == A_REFUSE:
        _sys(0, abi.OP_REFUSE)
    elif a == A_MIGRATE_RETURN:
        _sys(0, abi.OP_MIGRATE_RETURN, _word_main(), _word_main(), _word_main(), _word_main())
    else:
        timeout: usize = abi.NO_WAIT if _below(16) != 0 else 1
        _sys(0, abi.OP_THREAD_RECV, timeout)


def _process_action(a: usize) -> None:
    """OP_PROC_*: on the sandbox, a child or anything in the arena; on the fuzzer's own process only what is harmless.

    Its own process: create only what cannot be made (an object it would
    own could leak for good), map and unmap only in its scratch windows,
    never be a clone's source or target.
    """
    p = initcaps.SLOT_SELF_PROCESS if _below(6) == 0 else (SLOT_SANDBOX if _below(3) == 0
                                                           else _typed(abi.KIND_PROCESS))
    own = p == initcaps.SLOT_SELF_PROCESS
    if a == A_PROC_CREATE:
        kind = _kind()
        if own and kind != abi.KIND_NULL and kind < abi.NUM_KINDS and kind != abi.KIND_CONSOLE:
            kind = abi.KIND_IRQ
        dst = _arena() if _below(8) != 0 else _harmless()
        if _sys(p, abi.OP_PROC_CREATE, kind, dst, _create_arg(kind)) == abi.OK:
            _note(dst, kind)
    elif a == A_PROC_MAP:
        rights = usize(_below(64))
        va = _own_va() if own else _child_va()
        src = _typed(abi.KIND_FRAME) if _below(4) != 0 else _source()
        if own and _below(4) == 0:
            src = initcaps.SLOT_DEVICES + usize(_below(2))
        _sys(p, abi.OP_PROC_MAP, src, va, rights)
    elif a == A_PROC_UNMAP:
        va = _own_va() if own else _child_va()
        pages = usize(_below(5)) if _below(8) != 0 else _word_main()
        _sys(p, abi.OP_PROC_UNMAP, va, pages)
    elif a == A_PROC_GIVE:
        src = _source()
        dst = usize(_below(TABLE + 2)) if not own else _arena()
        if _sys(p, abi.OP_PROC_GIVE, src, dst) == abi.OK and own:
            _note(dst, _kind_at(src))
    elif a == A_PROC_INFO:
        _sys(p, abi.OP_PROC_INFO)
    else:
        if own:
            return
        _sys(p, abi.OP_PROC_CLONE, _typed(abi.KIND_PROCESS))


def _thread_action(a: usize) -> None:
    """OP_THREAD_*: every operation on arena threads; on the fuzzer's own thread (slot 1) only the harmless ones."""
    t = _typed(abi.KIND_THREAD) if _below(10) != 0 else initcaps.SLOT_SELF_THREAD
    own = t == initcaps.SLOT_SELF_THREAD
    if a == A_SET_REGS:
        if own:
            return
        sp = CHILD_STACK_VA + usize(_below(16)) * 0x1_0000 + CHILD_STACK_PAGES * PAGE
        _sys(t, abi.OP_THREAD_SET_REGS, _pc(addr(_rng)), sp if _below(8) != 0 else _child_va(), _word_main(),
             _word_main())
    elif a == A_SET_SCHED:
        if own:
            return
        prio = usize(_below(LOW_PRIORITY + 1)) if _below(10) != 0 else 64 + usize(_below(1000))
        period = usize(_below(6))
        budget = usize(_below(u64(period) + 1))
        if _below(10) == 0:
            budget = _word_main()
            period = _word_main()
        _sys(t, abi.OP_THREAD_SET_SCHED, prio, budget, period)
    elif a == A_START:
        _sys(t, abi.OP_THREAD_START)
    elif a == A_STOP:
        if own:
            return
        _sys(t, abi.OP_THREAD_STOP)
    elif a == A_RESUME:
        _sys(t, abi.OP_THREAD_RESUME)
    elif a == A_STATE:
        _sys(t, abi.OP_THREAD_STATE)
    elif a == A_SET_FAULT:
        _sys(t, abi.OP_THREAD_SET_FAULT, _typed(abi.KIND_ENDPOINT))
    elif a == A_THREAD_ID:
        _sys(t, abi.OP_THREAD_ID)
    else:
        label = usize(_below(16)) if _below(8) != 0 else _word_main()
        block = 0 if _below(4) != 0 else 2 + usize(_below(3))      # 1 would wait for ever
        _sys(t, abi.OP_THREAD_SEND, label, _word_main(), _word_main(), _word_main(), _word_main(), block)


def _ipc_action(a: usize) -> None:
    """Endpoints, portals and notifications, from the fuzzer's thread: polls, short timeouts, posts that never wait.

    Migrated calls (OP_MIGRATE_CALL) are made by the workers only: the
    calling thread runs the callee's code on the portal's stacks, memory
    other threads of the callee may write (two portals may share stacks,
    a child may store anywhere in its space), so a call can come back
    corrupted, and the fuzzer's own thread must not.
    """
    kind: usize = abi.KIND_PORTAL
    if a == A_EP_RECV or a == A_EP_POST:
        kind = abi.KIND_ENDPOINT
    elif a == A_SIGNAL or a == A_POLL:
        kind = abi.KIND_NOTIFICATION
    s = _typed(kind)
    if a == A_EP_RECV:
        timeout: usize = abi.NO_WAIT if _below(16) != 0 else 1        # a tick spent waiting is a tick of children
        dst = abi.NO_CAP if _below(2) == 0 else (_arena() if _below(4) != 0 else _word_main())
        _sys(s, abi.OP_EP_RECV, timeout, dst)
    elif a == A_EP_POST:
        label = usize(_below(16)) if _below(8) != 0 else _word_main()
        block = 0 if _below(4) != 0 else 2 + usize(_below(3))
        _sys(s, abi.OP_EP_POST, label, _word_main(), _word_main(), _word_main(), _word_main(), block)
    elif a == A_PORTAL_SET:
        base = CHILD_STACK_VA + usize(_below(16)) * 0x1_0000
        size: usize = PORTAL_STACK_BYTES
        count = 1 + usize(_below(4))
        if _below(6) == 0:
            base = _word_main()
            size = _word_main()
            count = _word_main()
        _sys(s, abi.OP_PORTAL_SET, _entry(addr(_rng)), base, size, count)
    elif a == A_MIGRATE_FORWARD:
        _sys(s, abi.OP_MIGRATE_FORWARD, usize(_below(16)), usize(_below(20)), _word_main(), _word_main())
    elif a == A_MIGRATE_NOTIFY:
        _sys(s, abi.OP_MIGRATE_NOTIFY, usize(_below(16)), usize(_below(20)), _word_main(), _word_main())
    elif a == A_SIGNAL:
        _sys(s, abi.OP_NTFN_SIGNAL, _word_main())
    else:
        _sys(s, abi.OP_NTFN_POLL)


def _device_action(a: usize) -> None:
    """Interrupts, device regions, frames and the debug console (never OP_CONSOLE_HALT; output only of length 0)."""
    s = _typed(abi.KIND_IRQ)
    if a == A_IRQ_CLAIM:
        line = 1 + usize(_below(60)) if _below(4) != 0 else _word_main()
        control = initcaps.SLOT_IRQ_CONTROL if _below(2) == 0 else _typed(abi.KIND_IRQ_CONTROL)
        dst = _arena() if _below(8) != 0 else _harmless()
        if _sys(control, abi.OP_IRQ_CLAIM, line, dst) == abi.OK:
            _note(dst, abi.KIND_IRQ)
    elif a == A_IRQ_BIND:
        _sys(s, abi.OP_IRQ_BIND, _typed(abi.KIND_NOTIFICATION), _word_main())
    elif a == A_IRQ_ACK:
        _sys(s, abi.OP_IRQ_ACK)
    elif a == A_DEVICE_INFO:
        _sys(_harmless(), abi.OP_DEVICE_INFO)
    elif a == A_FRAME_INFO:
        _sys(_typed(abi.KIND_FRAME) if _below(2) == 0 else _harmless(), abi.OP_FRAME_INFO)
    elif a == A_CONSOLE_WRITE:
        # A readable pointer prints nothing with length 0; every other pointer or length must fail
        # without printing (the console is the run's record).
        ptr = _pointer()
        length = _length(ptr)
        if ptr >= POINTER_VA and ptr < POINTER_VA + PAGE:
            length = 0
        if ptr >= board.USER_BASE and ptr < 0x20_0000_0000:
            length = 0
        _sys(initcaps.SLOT_CONSOLE if _below(2) == 0 else s, abi.OP_CONSOLE_WRITE, ptr, length)
    elif a == A_CONSOLE_POOL:
        _sys(initcaps.SLOT_CONSOLE if _below(2) == 0 else s, abi.OP_CONSOLE_POOL, usize(_below(14)))
    elif a == A_CONSOLE_CHECK:
        if _sys(initcaps.SLOT_CONSOLE, abi.OP_CONSOLE_CHECK) == abi.OK and _res.v0 != 0:
            _check()
    elif a == A_FASTPATH:
        _sys(initcaps.SLOT_CONSOLE, abi.OP_CONSOLE_FASTPATH, usize(_below(3)))
    else:
        _sys(_harmless(), usize(_UNKNOWN_OPS[_below(UNKNOWN_COUNT)]), _word_main(), _word_main(), _word_main())


def _check() -> None:
    """OP_CONSOLE_CHECK (not one of the run's calls): count and report any violated kernel invariant, with the seed and step."""
    global _violations
    err = syscall.console_check(initcaps.SLOT_CONSOLE, addr(_res))
    if err != abi.OK:
        console.printf("fuzz: invariant violation: the check failed with error %u at step %u (seed %u)\n",
                       err, usize(_calls), usize(_seed))
        _violations += 1
    elif _res.v0 != 0:
        console.printf("fuzz: invariant violation: %u invariants violated at step %u (seed %u)\n",
                       _res.v0, usize(_calls), usize(_seed))
        _violations += 1


def _act(a: usize) -> None:
    """Run action ``a`` (an A_* of _WEIGHTS)."""
    if a <= A_DESTROY:
        _cap_action(a)
    elif a <= A_THREAD_RECV:
        _self_action(a)
    elif a <= A_PROC_CLONE:
        _process_action(a)
    elif a <= A_THREAD_SEND:
        _thread_action(a)
    elif a <= A_POLL:
        _ipc_action(a)
    elif a <= A_UNKNOWN:
        _device_action(a)
    elif a == A_SPAWN:
        _spawn()
    elif a == A_WORKER:
        _worker()
    elif a == A_PORTAL:
        _portal()
    else:
        _reset()


def _arg_value(argc: usize, argv: Ptr[usize], key: Ptr[u8], default: u64) -> u64:
    """The number after ``key`` (e.g. "seed=") in an argument ``key<number>``; ``default`` when there is none."""
    n: usize = 0
    while key[n] != 0:
        n += 1
    for i in range(1, argc):
        word = cast(Ptr[u8], argv[i])
        if text.compare(word, key, n) == 0:
            v: u64 = 0
            if text.parse_u64(word + n, 10, addr(v)):
                return v
    return default


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Fuzz ``calls=N`` system calls from ``seed=S`` (the arguments after ``--`` on the kernel command line), then power off."""
    global _seed, _limit
    args = cast(Ptr[usize], argv)
    total = _arg_value(argc, args, "calls=", DEFAULT_CALLS)
    _limit = total
    _seed = _arg_value(argc, args, "seed=", 1)
    rand.seed(addr(_rng), _seed)
    if syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_FRAME, SLOT_POINTERS, 1) != abi.OK or \
            syscall.proc_map(initcaps.SLOT_SELF_PROCESS, SLOT_POINTERS, POINTER_VA,
                             abi.RIGHT_READ | abi.RIGHT_WRITE) != abi.OK:
        console.printf("fuzz: cannot map the pointer page\n")
        syscall.console_halt(initcaps.SLOT_CONSOLE, 1)
    console.printf("fuzz: seed %u, %u calls, a check every %u\n", usize(_seed), usize(total), BATCH)
    _reset()
    next_batch: u64 = BATCH
    batches: u64 = 0
    while _calls < total:
        _act(_pick())
        if _calls >= next_batch or _calls >= total:
            _check()
            console.printf("fuzz: step %u checksum %x violations %u\n", usize(_calls), usize(_checksum),
                           usize(_violations))
            next_batch += BATCH
            batches += 1
            _refresh()
            if batches % RESET_BATCHES == 0:
                _reset()
            syscall.sleep(1)        # the children run while the fuzzer sleeps
    _check()
    console.printf("fuzz: done: %u calls, %u invariant violations, checksum %x (seed %u)\n", usize(_calls),
                   usize(_violations), usize(_checksum), usize(_seed))
    syscall.console_halt(initcaps.SLOT_CONSOLE, 0 if _violations == 0 else 1)
