"""The kernel proper: boot into init, and what the architecture's trap handler calls for user-mode events.

The architecture reports four things (kernel_src/arch/README.md, "`arch.context` — user contexts and entering user mode"):
a system call (syscall), a user fault (user_fault), a timer tick (timer_tick),
and it asks which thread runs next (schedule), idling the hart while the
answer is NO_THREAD. The kernel is not preemptible and has one stack per
hart: each entry runs to completion, and a thread that must wait is left in
a queue with its state recorded (docs/kernel.md, "The kernel-stack model").
"""

import board
from kcc.lang import *

from arch import boot, context, cpu, irq, timer, vm
from core import cap, events, ipc, migrate, objects, process, sched, syscall, thread
from lib import abi, cpio, initcaps, pagealloc, string
from lib import kprintf as fmt
from lib.memmap import MemRegion
from lib.uimage import HEADER_SIZE, MAGIC, VERSION, UserImage

NO_THREAD: Final[u32] = thread.NO_THREAD
NO_INDEX: Final[u32] = objects.NO_INDEX
INIT_PRIORITY: Final = board.NUM_PRIORITIES - 1
PAGE_SIZE: Final = pagealloc.PAGE_SIZE
_NAME_MAX: Final = 32
_ARGS_BYTES: Final = 256        # init's argument strings, at the top of its stack
_ARGV_MAX: Final = 16           # init's argv entries, its name included

_current: u32 = NO_THREAD
_resched: bool = False
_yield: bool = False


def request_yield() -> None:
    """Send the running thread to the tail of its priority's queue at the next schedule() (OP_YIELD)."""
    global _yield
    _yield = True


def switch_to(t: u32) -> None:
    """Make ready thread ``t`` the running one at once, bypassing the queues (the IPC fast path's direct switch).

    The thread that ran must no longer be READY (it blocked in the call).
    """
    global _current
    _current = t
    vm.activate(thread.process_of(t))


@inline
def schedule() -> u32:
    """Choose the thread to run now, switch to its address space and return it; NO_THREAD to idle.

    The running thread keeps the hart unless it stopped being ready, yielded,
    used up its timeslice or budget (a tick asked to reschedule), or a
    higher-priority thread became ready. O(1) apart from arch.vm.activate.
    Inlined into the trap path: the usual answer (the same thread again) is
    a handful of loads; the rest is _reschedule, out of line.
    """
    cur = _current
    if cur != NO_THREAD and not _resched and not _yield and thread.state(cur) == abi.STATE_READY \
            and not sched.ready_above(sched.priority(cur)):
        # Its space may have changed (a migrated call or return); activate is free when it did not.
        vm.activate(thread.process_of(cur))
        return cur
    return _reschedule()


def _reschedule() -> u32:
    """schedule() when the running thread does not simply go on: requeue it if ready, pick the next one."""
    global _current, _resched, _yield
    cur = _current
    if cur != NO_THREAD and thread.state(cur) == abi.STATE_READY:
        if _yield:
            sched.make_ready(cur)
        else:
            sched.preempt(cur)
    _resched = False
    _yield = False
    t = sched.choose()
    _current = t
    if t != NO_THREAD:
        vm.activate(thread.process_of(t))
    return t


def handle_syscall() -> None:
    """The running thread made a system call: run it (core.syscall) and set its error unless it blocked."""
    t = _current
    context.syscall_done(t)
    err = syscall.dispatch(t, events.ticks())
    if err != syscall.BLOCKED:
        context.set_error(t, usize(err))


# Indexed by abi.FAULT_* (FAULT_NONE .. FAULT_ACCESS).
_FAULT_NAMES: Final[Array[Ptr[u8], 6]] = (
    "no fault", "page fault", "illegal instruction", "breakpoint", "misaligned access", "access fault",
)


def fault_name(kind: u32) -> Ptr[u8]:
    """Return the name of abi fault kind ``kind`` (an abi.FAULT_*, which the arch guarantees) for the fault report."""
    return _FAULT_NAMES[kind]


def user_fault(kind: u32, address: usize, write: bool, cause: usize) -> None:
    """The running thread faulted (``kind`` abi.FAULT_*, ``address`` the faulting address, ``cause`` the arch's word).

    ``write``: the access was a store. A store to a copy-on-write page is not
    a fault of the thread: it gets its private copy and runs on.

    The thread stops (FAULTED). With a live fault endpoint its handler gets a
    fault message and may resume or destroy it; without one its whole process
    is destroyed and its resources return to its creator. Either way the
    kernel prints one line and goes on; only init's death stops the machine
    (nothing could ever run again), with exit status 3.
    """
    t = _current
    th = thread.get(t)
    p = thread.process_of(t)
    if kind == abi.FAULT_PAGE and write and process.cow_fault(p, address):
        return
    if migrate.depth(t) > 0:
        # A callee's fault ends that migrated call, not the caller's thread (kmi's rule); at the
        # bottom of a one-way activation nobody waits for the call, so the activation ends.
        outcome: Ptr[u8] = "the call returns ERR_FAULTED"
        if migrate.in_one_way(t):
            outcome = "the one-way activation ends"
        fmt.kprintf("fault: thread %u in process %u during a migrated call: %s (cause %u) at pc %p, address %p: ",
                    usize(t), usize(p), usize(fault_name(kind)), cause, context.pc(t), address)
        fmt.kprintf("%s\n", usize(outcome))
        migrate.unwind(t, abi.ERR_FAULTED)
        return
    th.fault_kind = kind
    th.fault_address = address
    th.fault_pc = context.pc(t)
    th.state = abi.STATE_FAULTED
    if ipc.send_fault(t):
        fmt.kprintf("fault: thread %u of process %u: %s (cause %u) at pc %p, address %p: sent to its handler\n",
                    usize(t), usize(p), usize(fault_name(kind)), cause, th.fault_pc, address)
        return
    fmt.kprintf("fault: thread %u of process %u: %s (cause %u) at pc %p, address %p: process destroyed\n",
                usize(t), usize(p), usize(fault_name(kind)), cause, th.fault_pc, address)
    process.destroy(p)


def timer_tick() -> None:
    """A timer tick arrived (events.tick() has counted it): charge budgets, wake sleepers, maybe preempt."""
    global _resched
    now = events.ticks()
    if sched.tick(_current, now):
        _resched = True
    t = sched.pop_expired(now)
    while t != NO_THREAD:
        ipc.timed_out(t)
        t = sched.pop_expired(now)


def external_interrupt() -> None:
    """External interrupts are pending: claim each, signal its bound notification (core.process.irq_fire).

    A line nobody handles is completed and disabled so it cannot storm. The
    woken driver runs when the scheduler next chooses (at once if its
    priority is higher than the running thread's).
    """
    line = irq.claim()
    while line != 0:
        if not process.irq_fire(line):
            irq.complete(line)
            irq.disable(line)
        line = irq.claim()


def _init_name(cmdline: Ptr[u8], out: Ptr[u8]) -> None:
    """Copy the value of ``init=NAME`` from the command line to ``out`` (``_NAME_MAX`` bytes), "init" by default."""
    i: usize = 0
    while cmdline[i] != 0:
        at_word = i == 0 or cmdline[i - 1] == 0x20
        if at_word and string.starts_with(cmdline + i, "init="):
            j: usize = 0
            k = i + 5
            while cmdline[k] != 0 and cmdline[k] != 0x20 and j < _NAME_MAX - 1:
                out[j] = cmdline[k]
                j += 1
                k += 1
            out[j] = 0
            return
        i += 1
    string.memcpy(out, "init", 5)


def _word_end(s: Ptr[u8], i: usize) -> usize:
    """Return the index of the first space or NUL at or after ``i`` in ``s``."""
    while s[i] != 0 and s[i] != 0x20:
        i += 1
    return i


def _init_args(cmdline: Ptr[u8], name: Ptr[u8], top: usize, sp_out: Ptr[usize]) -> usize:
    """Build init's argv at the top of its stack: ``name``, then every word after a ``--`` word of ``cmdline``.

    As Linux does for its init ("Everything after '--' is passed as an
    argument to init", the kernel's admin guide, "The kernel's command-line
    parameters"); the user loader gives every other program the same layout
    (user/init/loader.py). ``top`` is the kernel's (identity-mapped) address
    of the stack frame's end, which init sees at board.USER_STACK_TOP. The
    strings take the _ARGS_BYTES below the top, the NULL-ended array of
    their user addresses goes below them, 16-byte aligned (the psABI's
    stack alignment), and its address, init's first sp, goes to
    ``sp_out[0]``. Words past _ARGV_MAX entries or _ARGS_BYTES bytes are
    dropped, and so is ``init=NAME``, the kernel's own parameter wherever it
    is (_init_name; kcc run --init adds it after --append's text). Returns
    argc.
    """
    strings_va: usize = board.USER_STACK_TOP - _ARGS_BYTES
    strings = cast(Ptr[u8], top - _ARGS_BYTES)
    at: Array[usize, _ARGV_MAX]
    n = string.strlen(name)
    string.memcpy(strings, name, n + 1)
    at[0] = 0
    off = n + 1
    argc: usize = 1
    passing = False
    i: usize = 0
    while cmdline[i] != 0:
        if cmdline[i] == 0x20:
            i += 1
            continue
        end = _word_end(cmdline, i)
        if passing and string.starts_with(cmdline + i, "init="):
            pass
        elif passing and argc < _ARGV_MAX and off + (end - i) + 1 <= _ARGS_BYTES:
            string.memcpy(strings + off, cmdline + i, end - i)
            strings[off + end - i] = 0
            at[argc] = off
            argc += 1
            off += end - i + 1
        elif end - i == 2 and cmdline[i] == 0x2D and cmdline[i + 1] == 0x2D:
            passing = True
        i = end
    argv: usize = (strings_va - (argc + 1) * 8) & ~usize(15)
    slots = cast(Ptr[usize], top - (board.USER_STACK_TOP - argv))
    for k in range(argc):
        slots[k] = strings_va + at[k]
    slots[argc] = 0
    sp_out[0] = argv
    return argc


def _segment(p: u32, src: usize, file_bytes: usize, mem_bytes: usize, va: usize, rights: usize,
             slot: u32) -> bool:
    """Load one segment of init: a frame of mem_bytes (page-rounded), file_bytes copied from ``src``, mapped at va.

    The frame's capability goes to init's ``slot``. False when memory or a
    pool runs out (reported by the caller).
    """
    pages = (mem_bytes + PAGE_SIZE - 1) // PAGE_SIZE
    if pages == 0:
        return True
    f: u32 = NO_INDEX
    if process.frame_create(p, pages, addr(f)) != abi.OK:
        return False
    string.memcpy(cast(Ptr[u8], process.frame_base(f)), cast(Ptr[u8], src), file_bytes)
    if process.map(p, abi.KIND_FRAME, f, va, rights) != abi.OK:
        return False
    frame_rights: u32 = abi.RIGHT_READ | abi.RIGHT_GRANT | abi.RIGHT_DESTROY | u32(rights)
    return cap.insert(p, slot, abi.KIND_FRAME, frame_rights, f, objects.generation(abi.KIND_FRAME, f), 0) == abi.OK


def _give(p: u32, slot: u32, kind: u32, index: u32, rights: u32) -> None:
    """Put a capability to object (kind, index) with ``rights`` into init's ``slot``; a failure is a kernel bug."""
    if index == NO_INDEX:
        panic("boot: a kernel object pool is empty before init starts")
    if cap.insert(p, slot, kind, rights, index, objects.generation(kind, index), 0) != abi.OK:
        panic("boot: cannot fill init's capability table")


def _load_init(image: usize, size: usize, p: u32) -> usize:
    """Map init's flat image (lib/uimage.py) into process ``p``; returns its entry, or 0 when the image is unusable."""
    if size < HEADER_SIZE:
        return 0
    h = cast(Ptr[UserImage], image)
    if h.magic != MAGIC or h.version != VERSION:
        return 0
    aligned = (h.base | h.text_size | h.rodata_size) & (PAGE_SIZE - 1) == 0
    file_bytes = h.text_size + h.rodata_size + h.data_size
    if not aligned or file_bytes > u64(size - HEADER_SIZE) or h.entry < h.base or h.entry >= h.base + h.text_size:
        return 0
    payload = image + HEADER_SIZE
    base = usize(h.base)
    text = usize(h.text_size)
    rodata = usize(h.rodata_size)
    data = usize(h.data_size)
    bss = usize(h.bss_size)
    rw: usize = abi.RIGHT_READ | abi.RIGHT_WRITE
    ok = _segment(p, payload, text, text, base, abi.RIGHT_READ | abi.RIGHT_EXEC, initcaps.SLOT_TEXT) \
        and _segment(p, payload + text, rodata, rodata, base + text, abi.RIGHT_READ, initcaps.SLOT_RODATA) \
        and _segment(p, payload + text + rodata, data, data + bss, base + text + rodata, rw, initcaps.SLOT_DATA) \
        and _segment(p, 0, 0, board.USER_STACK_PAGES * PAGE_SIZE,
                     board.USER_STACK_TOP - board.USER_STACK_PAGES * PAGE_SIZE, rw, initcaps.SLOT_STACK)
    if not ok:
        return 0
    return usize(h.entry)


def _fail(message: Ptr[u8]) -> None:
    """Report why init cannot start and power off with status 4 (a boot problem, not a kernel bug)."""
    fmt.kprintf("boot: %s\n", usize(message))
    cpu.halt(4)


@noreturn
def start(hartid: usize, boot_info: usize, ram: Ptr[MemRegion], nram: u32) -> None:
    """Turn on address translation, build init from the initrd and run it; never returns.

    ``hartid`` is the boot hart (its interrupt routing); the program is
    ``init`` or the initrd member named by ``init=NAME`` on
    the command line. Init gets every free page as its quota, the
    capabilities of lib/initcaps.py, priority NUM_PRIORITIES - 1, and a thread
    starting at the image's entry with a0 = argc, a1 = argv and sp = argv
    (_init_args: its name, then the command line's words after ``--``).
    """
    objects.reset()
    cap.reset()
    sched.reset()
    thread.reset()
    if not vm.init(ram, nram):
        _fail("cannot build the kernel's address space")
    region: MemRegion
    if not boot.initrd(boot_info, addr(region)):
        _fail("no initial RAM disk (kcc run passes one with -initrd)")
    name: Array[u8, _NAME_MAX]
    _init_name(boot.command_line(boot_info), addr(name[0]))
    member: cpio.CpioFile
    if not cpio.find(region.base, region.size, addr(name[0]), addr(member)):
        fmt.kprintf("boot: no program '%s' in the initrd\n", usize(addr(name[0])))
        cpu.halt(4)

    p: u32 = NO_INDEX
    if process.create(NO_INDEX, pagealloc.free_pages(), addr(p)) != abi.OK:
        _fail("cannot create init's process")
    entry = _load_init(member.data, member.size, p)
    if entry == 0:
        fmt.kprintf("boot: '%s' is not a usable user image\n", usize(addr(name[0])))
        cpu.halt(4)

    t = objects.alloc(abi.KIND_THREAD)
    if t == NO_INDEX:
        _fail("no thread for init")
    objects.set_owner(abi.KIND_THREAD, t, p)
    thread.setup(t, p)
    sched.init_thread(t)
    sched.set_params(t, INIT_PRIORITY, 0, 0)
    stack = cap.index_of(p, initcaps.SLOT_STACK)
    argv: usize = 0
    argc = _init_args(boot.command_line(boot_info), addr(name[0]),
                      process.frame_base(stack) + process.frame_pages(stack) * PAGE_SIZE, addr(argv))
    context.init_user(t, entry, argv, argc, argv)

    _give(p, initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS, p, abi.RIGHTS_ALL)
    _give(p, initcaps.SLOT_SELF_THREAD, abi.KIND_THREAD, t, abi.RIGHTS_ALL)
    _give(p, initcaps.SLOT_CONSOLE, abi.KIND_CONSOLE, objects.alloc(abi.KIND_CONSOLE),
          abi.RIGHT_READ | abi.RIGHT_WRITE | abi.RIGHT_GRANT)
    _give(p, initcaps.SLOT_IRQ_CONTROL, abi.KIND_IRQ_CONTROL, objects.alloc(abi.KIND_IRQ_CONTROL),
          abi.RIGHT_READ | abi.RIGHT_WRITE | abi.RIGHT_GRANT)
    first = region.base & ~usize(PAGE_SIZE - 1)
    pages = (region.base + region.size - first + PAGE_SIZE - 1) // PAGE_SIZE
    _give(p, initcaps.SLOT_INITRD, abi.KIND_FRAME, process.frame_borrow(first, pages, p),
          abi.RIGHT_READ | abi.RIGHT_GRANT)
    device_rights: u32 = abi.RIGHT_READ | abi.RIGHT_WRITE | abi.RIGHT_GRANT
    _give(p, initcaps.SLOT_DEVICES, abi.KIND_DEVICE, process.device_create(board.UART0_BASE, PAGE_SIZE),
          device_rights)
    _give(p, initcaps.SLOT_DEVICES + 1, abi.KIND_DEVICE, process.device_create(board.PLIC_BASE, 0x400_0000),
          device_rights)

    thread.get(t).state = abi.STATE_READY
    sched.make_ready(t)
    context.init()
    spent = cpu.read_instret() - cpu.boot_instret()
    fmt.kprintf("boot: starting '%s' after %u instructions (%u pages of quota)\n", usize(addr(name[0])),
                usize(spent), pagealloc.free_pages())
    irq.init(hartid)
    timer.init(board.HZ)
    context.enter_user()
