"""Processes and memory objects: creation, destruction, frames, device regions and the mapping records.

A process is an address space (arch.vm), a capability table (core.cap) and
a memory quota (core.memory). Every object a process creates for itself or
is given by its creator through OP_PROC_CREATE is *owned* by it
(core.objects' owner), so destroying a process destroys, in a bounded walk
over the pools, its threads, endpoints, notifications, frames, IRQ claims
and child processes; its pages return to the pool and its quota to its
creator (docs/kernel.md, "Address spaces and memory quotas").

Mappings are recorded (process, address, pages, frame or device) in a fixed
table of MAX_MAPPINGS records, so that destroying a frame removes every
mapping of it: cost O(MAX_MAPPINGS + pages mapped). A mapping is unmapped as
a whole, by its address, as it was made.

Copy-on-write (abi.MAP_COW): the frame is mapped read-only; the first store
to one of its pages faults, and cow_fault gives the storing process a
private copy of that page, charged to its quota, mapped writable in its
place. The mapping record needs nothing more: a page of a COW mapping whose
physical address is not the frame's is a private copy, freed (and credited)
when the mapping goes.

Cloning (OP_PROC_CLONE, clone_space): every frame mapping of one process is
mapped at the same address in another, empty one. Read-only and executable
mappings are shared as they are; writable ones become copy-on-write on *both*
sides, so a store by either gives the storing process its own copy and the
other keeps seeing the memory as it was at the clone. Pages the source had
already copied privately (it was itself a clone, or wrote to a COW mapping)
are copied for the clone at once, charged to it: a private page has one
owner, and sharing it would need a reference count per page.
"""

import board
from kcc.lang import *

from arch import cpu, irq, vm
from core import cap, ipc, memory, migrate, objects, sched, thread
from lib import abi, pagealloc
from lib import kprintf as fmt

NO_INDEX: Final[u32] = objects.NO_INDEX
MAX_MAPPINGS: Final = 4 * board.MAX_FRAMES
MAX_FRAME_PAGES: Final = 4096                # 16 MiB: one frame is one MPU region on the microcontroller port
PAGE_SIZE: Final = memory.PAGE_SIZE


@struct
class Process:
    """What a process has besides its table and space: its creator and its grant."""

    granted: usize          # quota pages taken from the creator (returned when destroyed)
    parent: u32             # the creating process, NO_INDEX for init


@struct
class Frame:
    """Physically contiguous pages; ``borrowed`` ones (the initrd) are never given back to the allocator."""

    base: usize
    pages: usize
    borrowed: bool


@struct
class Device:
    """An MMIO region [base, base + size), page aligned."""

    base: usize
    size: usize


@struct
class Mapping:
    """One mapping made by OP_PROC_MAP; ``kind`` is KIND_FRAME or KIND_DEVICE, KIND_NULL when the record is free."""

    va: usize
    pages: usize
    space: u32
    object: u32
    kind: u8
    rights: u8              # the R/W/X asked for (a copy-on-write mapping keeps its WRITE here), for clone_space
    cow: bool               # copy-on-write: stores make private copies (see the module docstring)


@struct
class Irq:
    """A claimed interrupt line and the notification bound to it (NO_INDEX when none)."""

    bits: u64
    line: u32
    notification: u32
    notification_gen: u32
    in_flight: bool         # delivered and not yet acknowledged: the controller holds the line


_processes: Array[Process, board.MAX_PROCESSES]
_frames: Array[Frame, board.MAX_FRAMES]
_devices: Array[Device, board.MAX_DEVICES]
_irqs: Array[Irq, board.MAX_IRQS]
_maps: Array[Mapping, MAX_MAPPINGS]


def create(parent: u32, pages: usize, out: Ptr[u32]) -> u32:
    """Create a process owned by ``parent`` with a quota of ``pages`` pages taken from ``parent``'s quota.

    ``parent`` NO_INDEX (init) takes the pages from nobody. The new
    process's root page table is charged to its own quota, so ``pages`` must
    be at least 1. Writes the index to ``out``. Errors: ERR_INVALID_ARG (0
    pages), ERR_NO_MEMORY (the parent's quota), ERR_NO_OBJECTS (the pool).
    """
    if pages == 0:
        return abi.ERR_INVALID_ARG
    if parent != NO_INDEX and not memory.charge(parent, pages):
        return abi.ERR_NO_MEMORY
    p = objects.alloc(abi.KIND_PROCESS)
    if p == NO_INDEX:
        if parent != NO_INDEX:
            memory.credit(parent, pages)
        return abi.ERR_NO_OBJECTS
    memory.set_quota(p, pages)
    cap.clear_table(p)
    err = vm.space_create(p)
    if err != abi.OK:
        objects.free(abi.KIND_PROCESS, p)
        if parent != NO_INDEX:
            memory.credit(parent, pages)
        return err
    _processes[p].parent = parent
    _processes[p].granted = pages
    if parent != NO_INDEX:
        objects.set_owner(abi.KIND_PROCESS, p, parent)
    out[0] = p
    return abi.OK


def parent_of(p: u32) -> u32:
    """Return the index of the process that created ``p`` (NO_INDEX for init)."""
    return _processes[p].parent


def frame_create(owner: u32, pages: usize, out: Ptr[u32]) -> u32:
    """Create a frame of ``pages`` zeroed contiguous pages charged to ``owner``; its index goes to ``out``.

    Errors: ERR_INVALID_ARG (0 or more than MAX_FRAME_PAGES), ERR_NO_OBJECTS,
    ERR_NO_MEMORY (quota, or no contiguous run of that length).
    """
    if pages == 0 or pages > MAX_FRAME_PAGES:
        return abi.ERR_INVALID_ARG
    f = objects.alloc(abi.KIND_FRAME)
    if f == NO_INDEX:
        return abi.ERR_NO_OBJECTS
    base = memory.alloc_pages(owner, pages)
    if base == 0:
        objects.free(abi.KIND_FRAME, f)
        return abi.ERR_NO_MEMORY
    _frames[f].base = base
    _frames[f].pages = pages
    _frames[f].borrowed = False
    objects.set_owner(abi.KIND_FRAME, f, owner)
    out[0] = f
    return abi.OK


def frame_borrow(base: usize, pages: usize, owner: u32) -> u32:
    """Make a frame over existing memory [base, base + pages pages) (the initrd); NO_INDEX when the pool is empty."""
    f = objects.alloc(abi.KIND_FRAME)
    if f == NO_INDEX:
        return NO_INDEX
    _frames[f].base = base
    _frames[f].pages = pages
    _frames[f].borrowed = True
    objects.set_owner(abi.KIND_FRAME, f, owner)
    return f


def frame_base(f: u32) -> usize:
    """Return frame ``f``'s first physical address."""
    return _frames[f].base


def frame_pages(f: u32) -> usize:
    """Return frame ``f``'s length in pages."""
    return _frames[f].pages


def device_create(base: usize, size: usize) -> u32:
    """Make a device region object [base, base + size) (boot only, owned by nobody); NO_INDEX when the pool is empty."""
    d = objects.alloc(abi.KIND_DEVICE)
    if d == NO_INDEX:
        return NO_INDEX
    _devices[d].base = base
    _devices[d].size = size
    return d


def device_base(d: u32) -> usize:
    """Return device region ``d``'s physical base."""
    return _devices[d].base


def device_size(d: u32) -> usize:
    """Return device region ``d``'s size in bytes."""
    return _devices[d].size


def map(space: u32, kind: u32, obj: u32, va: usize, rights: usize) -> u32:
    """Map the whole frame or device region ``obj`` at ``va`` in process ``space`` with ``rights`` (R/W/X).

    Errors: ERR_INVALID_ARG (alignment, window, rights: a device is never
    executable, W+X never), ERR_MAPPED, ERR_NO_MEMORY (page tables past the
    quota), ERR_NO_OBJECTS (no free mapping record). O(MAX_MAPPINGS + pages).
    """
    pa: usize = 0
    pages: usize = 0
    if kind == abi.KIND_FRAME:
        pa = _frames[obj].base
        pages = _frames[obj].pages
    else:
        if rights & abi.RIGHT_EXEC != 0:
            return abi.ERR_INVALID_ARG
        pa = _devices[obj].base
        pages = (_devices[obj].size + PAGE_SIZE - 1) // PAGE_SIZE
    rec = NO_INDEX
    for i in range(u32(MAX_MAPPINGS)):
        if _maps[i].kind == abi.KIND_NULL:
            rec = i
            break
    if rec == NO_INDEX:
        return abi.ERR_NO_OBJECTS
    cow = rights & abi.MAP_COW != 0
    if cow and (kind != abi.KIND_FRAME or rights & abi.RIGHT_EXEC != 0 or rights & abi.RIGHT_WRITE == 0):
        return abi.ERR_INVALID_ARG
    mapped_rights = rights & ~usize(abi.MAP_COW | abi.RIGHT_WRITE) if cow else rights
    err = vm.map(space, va, pa, pages, mapped_rights, kind == abi.KIND_DEVICE)
    if err != abi.OK:
        return err
    m = addr(_maps[rec])
    m.cow = cow
    m.rights = u8(rights & (abi.RIGHT_READ | abi.RIGHT_WRITE | abi.RIGHT_EXEC))
    m.kind = u8(kind)
    m.space = space
    m.object = obj
    m.va = va
    m.pages = pages
    return abi.OK


def _drop(rec: u32) -> None:
    """Unmap mapping record ``rec`` and free it, with the private copies of a copy-on-write mapping."""
    m = addr(_maps[rec])
    if m.cow:
        base = _frames[m.object].base
        for i in range(m.pages):
            pa = vm.page_of(m.space, m.va + i * PAGE_SIZE)
            if pa != 0 and pa != base + i * PAGE_SIZE:
                memory.free_pages(m.space, pa, 1)
    vm.unmap(m.space, m.va, m.pages)
    m.kind = abi.KIND_NULL
    m.pages = 0
    m.va = 0


def unmap(space: u32, va: usize, pages: usize, out: Ptr[usize]) -> u32:
    """Remove the mapping made at ``va`` in ``space`` of exactly ``pages`` pages; the count goes to ``out``.

    Errors: ERR_INVALID_ARG when no mapping starts at ``va`` with that length. O(MAX_MAPPINGS + pages).
    """
    for i in range(u32(MAX_MAPPINGS)):
        m = addr(_maps[i])
        if m.kind != abi.KIND_NULL and m.space == space and m.va == va:
            if m.pages != pages:
                return abi.ERR_INVALID_ARG
            out[0] = m.pages
            _drop(i)
            return abi.OK
    return abi.ERR_INVALID_ARG


def _unmap_object(kind: u32, obj: u32) -> None:
    """Remove every mapping of frame or device ``obj``. O(MAX_MAPPINGS + pages)."""
    for i in range(u32(MAX_MAPPINGS)):
        if _maps[i].kind == u8(kind) and _maps[i].object == obj:
            _drop(i)


def _unmap_space(space: u32) -> None:
    """Drop every mapping of ``space`` (its tables go next), freeing COW copies. O(MAX_MAPPINGS + their pages)."""
    for i in range(u32(MAX_MAPPINGS)):
        if _maps[i].kind != abi.KIND_NULL and _maps[i].space == space:
            _drop(i)


def cow_fault(space: u32, va: usize) -> bool:
    """Serve a store fault at ``va`` in ``space`` if it hit a read-only page of a copy-on-write mapping.

    The page is copied into a fresh page charged to ``space``'s quota and
    mapped writable in its place; the store then runs again. Returns False
    when the fault is not a COW fault (or the quota is spent: the thread then
    faults as usual). Cost: O(MAX_MAPPINGS) to find the mapping, one page copied.
    """
    page_va = va & ~usize(PAGE_SIZE - 1)
    for i in range(u32(MAX_MAPPINGS)):
        m = addr(_maps[i])
        if m.kind == abi.KIND_FRAME and m.cow and m.space == space and m.va <= page_va \
                and page_va - m.va < m.pages * PAGE_SIZE:
            original = _frames[m.object].base + (page_va - m.va)
            if vm.page_of(space, page_va) != original:
                return False        # already a private copy: a genuine fault
            copy = memory.alloc_pages(space, 1)
            if copy == 0:
                return False
            _copy_page(copy, original)
            vm.remap(space, page_va, copy, abi.RIGHT_READ | abi.RIGHT_WRITE)
            return True
    return False


def _copy_page(dst: usize, src: usize) -> None:
    """Copy one page of physical memory from ``src`` to ``dst`` (both identity mapped, page aligned)."""
    s = cast(Ptr[u64], src)
    d = cast(Ptr[u64], dst)
    for w in range(usize(PAGE_SIZE // 8)):
        d[w] = s[w]


def _clone_mapping(dst: u32, src_rec: u32, dst_rec: u32) -> u32:
    """Map frame mapping record ``src_rec`` at the same address in ``dst``, filling the free record ``dst_rec``.

    A writable mapping arrives copy-on-write (read-only until a store); the
    source's private copies of a COW mapping are copied for ``dst`` now,
    charged to it. Errors: ERR_NO_MEMORY (page tables or copies past
    ``dst``'s quota); the record is filled as soon as the pages are mapped,
    so the caller's rollback (_unmap_space) frees the copies made so far.
    Cost: O(pages) plus a page copy per private page.
    """
    s = addr(_maps[src_rec])
    rights = usize(s.rights)
    cow = s.cow or rights & abi.RIGHT_WRITE != 0
    shown = rights & ~usize(abi.RIGHT_WRITE) if cow else rights
    base = _frames[s.object].base
    err = vm.map(dst, s.va, base, s.pages, shown, False)
    if err != abi.OK:
        return err
    d = addr(_maps[dst_rec])
    d.cow = cow
    d.rights = s.rights
    d.kind = abi.KIND_FRAME
    d.space = dst
    d.object = s.object
    d.va = s.va
    d.pages = s.pages
    if not s.cow:
        return abi.OK
    for i in range(s.pages):
        va = s.va + i * PAGE_SIZE
        pa = vm.page_of(s.space, va)
        if pa != 0 and pa != base + i * PAGE_SIZE:
            copy = memory.alloc_pages(dst, 1)
            if copy == 0:
                return abi.ERR_NO_MEMORY
            _copy_page(copy, pa)
            vm.remap(dst, va, copy, abi.RIGHT_READ | abi.RIGHT_WRITE)
    return abi.OK


def clone_space(dst: u32, src: u32) -> u32:
    """OP_PROC_CLONE: map every frame mapping of process ``src`` into the empty process ``dst``, copy-on-write.

    Read-only and executable mappings are shared; writable ones become
    copy-on-write in both processes (``src``'s are write-protected here),
    so each side's later stores are private and charged to the storing
    process. Pages ``src`` had already copied privately are copied for
    ``dst`` now (module docstring). The frames stay their owners': a clone
    loses a mapping when its frame is destroyed, as any mapper does.
    Errors: ERR_INVALID_ARG (``dst`` is ``src``), ERR_BAD_STATE (``dst``
    has a mapping already, or ``src`` maps a device region: registers are
    not shared by cloning), ERR_NO_OBJECTS (too few free mapping records),
    ERR_NO_MEMORY (``dst``'s quota: its page tables and the private copies).
    On an error nothing of ``src`` has changed and ``dst`` has no mapping
    (page tables it gained stay charged to it until it is destroyed).
    Cost: O(MAX_MAPPINGS + pages mapped in ``src``), plus one page copy per
    private page of ``src``.
    """
    if dst == src:
        return abi.ERR_INVALID_ARG
    free: u32 = 0
    needed: u32 = 0
    for i in range(u32(MAX_MAPPINGS)):
        m = addr(_maps[i])
        if m.kind == abi.KIND_NULL:
            free += 1
        elif m.space == dst:
            return abi.ERR_BAD_STATE
        elif m.space == src:
            if m.kind != abi.KIND_FRAME:
                return abi.ERR_BAD_STATE
            needed += 1
    if needed > free:
        return abi.ERR_NO_OBJECTS
    # The free records are taken in order by one cursor, so the walk stays O(MAX_MAPPINGS); a record
    # filled for dst ahead of the walk is skipped by it (its space is dst).
    cursor: u32 = 0
    for i in range(u32(MAX_MAPPINGS)):
        if _maps[i].kind != abi.KIND_FRAME or _maps[i].space != src:
            continue
        while _maps[cursor].kind != abi.KIND_NULL:
            cursor += 1
        err = _clone_mapping(dst, i, cursor)
        if err != abi.OK:
            _unmap_space(dst)
            return err
    for i in range(u32(MAX_MAPPINGS)):
        m = addr(_maps[i])
        if m.kind == abi.KIND_FRAME and m.space == src and not m.cow and usize(m.rights) & abi.RIGHT_WRITE != 0:
            m.cow = True
            base = _frames[m.object].base
            for k in range(m.pages):
                vm.remap(src, m.va + k * PAGE_SIZE, base + k * PAGE_SIZE, abi.RIGHT_READ)
    return abi.OK


def frame_destroy(f: u32) -> None:
    """Unmap frame ``f`` everywhere, give its pages back (charged ones to its owner's quota) and free its slot."""
    _unmap_object(abi.KIND_FRAME, f)
    if not _frames[f].borrowed:
        memory.free_pages(objects.owner(abi.KIND_FRAME, f), _frames[f].base, _frames[f].pages)
    objects.free(abi.KIND_FRAME, f)


def irq_claim(line: u32, owner: u32) -> u32:
    """Claim interrupt ``line`` for ``owner``; NO_INDEX when it is claimed already or the pool is empty. O(MAX_IRQS)."""
    for i in range(u32(board.MAX_IRQS)):
        if objects.is_allocated(abi.KIND_IRQ, i) and _irqs[i].line == line:
            return NO_INDEX
    q = objects.alloc(abi.KIND_IRQ)
    if q == NO_INDEX:
        return NO_INDEX
    _irqs[q].line = line
    _irqs[q].notification = NO_INDEX
    _irqs[q].bits = 0
    _irqs[q].in_flight = False
    objects.set_owner(abi.KIND_IRQ, q, owner)
    return q


def irq_bind(q: u32, n: u32, bits: u64) -> None:
    """Make interrupts of IRQ object ``q`` signal ``bits`` on notification ``n``, and let its line interrupt."""
    _irqs[q].notification = n
    _irqs[q].notification_gen = objects.generation(abi.KIND_NOTIFICATION, n)
    _irqs[q].bits = bits
    irq.enable(_irqs[q].line)


def irq_fire(line: u32) -> bool:
    """Interrupt ``line`` was claimed: signal the notification its IRQ object is bound to.

    Returns False when no live binding wants it (the caller completes and
    disables the line). The line stays claimed until OP_IRQ_ACK. O(MAX_IRQS).
    """
    for q in range(u32(board.MAX_IRQS)):
        r = addr(_irqs[q])
        if objects.is_allocated(abi.KIND_IRQ, q) and r.line == line and r.notification != NO_INDEX:
            if not objects.is_live(abi.KIND_NOTIFICATION, r.notification, r.notification_gen):
                return False
            r.in_flight = True
            ipc.signal(r.notification, r.bits)
            return True
    return False


def irq_ack(q: u32) -> u32:
    """OP_IRQ_ACK: the driver served IRQ object ``q``'s interrupt; let its line interrupt again.

    ERR_BAD_STATE when no interrupt of it is waiting for an acknowledgement.
    """
    if not _irqs[q].in_flight:
        return abi.ERR_BAD_STATE
    _irqs[q].in_flight = False
    irq.complete(_irqs[q].line)
    return abi.OK


def _irq_destroy(q: u32) -> None:
    """Release IRQ object ``q``'s line (disabled, and completed if an interrupt of it was in flight)."""
    irq.disable(_irqs[q].line)
    if _irqs[q].in_flight:
        irq.complete(_irqs[q].line)
    objects.free(abi.KIND_IRQ, q)


def destroy_object(kind: u32, index: u32) -> u32:
    """Destroy the object (``kind``, ``index``), which must be live; every capability to it becomes stale.

    Device regions, the console and IRQ control belong to the system and are
    not destroyed (ERR_INVALID_ARG). Cost: as the kind's destroy function.
    """
    if kind == abi.KIND_THREAD:
        migrate.destroy_thread(index)
    elif kind == abi.KIND_PROCESS:
        destroy(index)
    elif kind == abi.KIND_ENDPOINT:
        ipc.endpoint_destroy(index)
        objects.free(abi.KIND_ENDPOINT, index)
    elif kind == abi.KIND_NOTIFICATION:
        ipc.notification_destroy(index)
        objects.free(abi.KIND_NOTIFICATION, index)
    elif kind == abi.KIND_FRAME:
        frame_destroy(index)
    elif kind == abi.KIND_IRQ:
        _irq_destroy(index)
    elif kind == abi.KIND_PORTAL:
        objects.free(abi.KIND_PORTAL, index)    # calls in it run on; their stacks are not given back
    else:
        return abi.ERR_INVALID_ARG
    return abi.OK


def _destroy_owned(kind: u32, p: u32) -> None:
    """Destroy every object of ``kind`` owned by process ``p``. O(capacity(kind)) plus their destroy costs."""
    i = objects.next_owned(kind, p, 0)
    while i != NO_INDEX:
        destroy_object(kind, i)
        i = objects.next_owned(kind, p, i + 1)


def _evict(t: u32, p: u32) -> None:
    """Thread ``t`` (of another process) is in a migrated call into process ``p``, which is being destroyed: end it.

    Whatever it waited for is cancelled; the call into ``p`` returns
    ERR_STALE to its caller, with every call made from ``p`` onwards (the
    thread may be further on, in a callee of ``p``: it cannot return
    through ``p``), and the thread runs on there.
    """
    ipc.cancel(t, abi.ERR_STALE)
    migrate.leave(t, p, abi.ERR_STALE)
    if thread.state(t) == thread.FREE:
        return                  # an activation whose one-way call began in p: it has ended
    th = thread.get(t)
    if th.state != abi.STATE_READY:
        th.state = abi.STATE_READY
        sched.make_ready(t)


def destroy(p: u32) -> None:
    """Destroy process ``p`` and everything it owns (child processes first, recursively), return its quota.

    Threads of ``p`` (owned or not: a thread belongs to its process's space)
    are destroyed, then its other objects, its mappings, page tables and
    capability table; the pages it was granted go back to its creator.
    Cost: bounded by the pool sizes (each object is destroyed once).

    Only init has no creator: once init's process is gone (a fault with no
    handler, or OP_CAP_DESTROY on it) nothing can ever run again, so this
    powers the machine off with exit status 3 instead of idling for ever.
    """
    _destroy_owned(abi.KIND_PROCESS, p)
    for t in range(u32(board.MAX_THREADS)):
        if thread.state(t) == thread.FREE:
            continue
        if thread.home_of(t) == p:
            migrate.destroy_thread(t)
        elif migrate.enters(t, p) != 0:
            _evict(t, p)
    _destroy_owned(abi.KIND_THREAD, p)
    _destroy_owned(abi.KIND_ENDPOINT, p)
    _destroy_owned(abi.KIND_NOTIFICATION, p)
    _destroy_owned(abi.KIND_IRQ, p)
    _destroy_owned(abi.KIND_PORTAL, p)
    _destroy_owned(abi.KIND_FRAME, p)
    _unmap_space(p)
    vm.space_destroy(p)
    cap.clear_table(p)
    parent = _processes[p].parent
    if parent != NO_INDEX and objects.is_allocated(abi.KIND_PROCESS, parent):
        memory.credit(parent, _processes[p].granted)
    objects.free(abi.KIND_PROCESS, p)
    if parent == NO_INDEX:
        fmt.kprintf("init is gone: nothing can run any more\n")
        cpu.halt(3)


# Indexed by kind: the kinds whose every object in use must have a live owner (a process). Devices,
# IRQ control and the console belong to the system; a process's owner is its creator, and only init
# has none.
_OWNED: Final[Array[bool, abi.NUM_KINDS]] = (
    False, True, True, True, True, True, False, True, False, False, True,
)


def _check_mappings() -> u32:
    """Count mapping records that are not owned or do not match what is mapped. O(MAX_MAPPINGS).

    A record in use belongs to a live process, names a live frame or device
    region with its whole length, lies page-aligned inside the user window,
    and its first and last pages are mapped: the frame's own pages, or for
    a copy-on-write mapping a private copy. A free record is all clear.
    """
    bad: u32 = 0
    for i in range(u32(MAX_MAPPINGS)):
        m = addr(_maps[i])
        if m.kind == abi.KIND_NULL:
            if m.pages != 0 or m.va != 0:
                bad += 1
            continue
        kind = u32(m.kind)
        if kind != abi.KIND_FRAME and kind != abi.KIND_DEVICE:
            bad += 1
            continue
        if not objects.is_allocated(abi.KIND_PROCESS, m.space) or not objects.is_allocated(kind, m.object):
            bad += 1
            continue
        pages = _frames[m.object].pages if kind == abi.KIND_FRAME else \
            (_devices[m.object].size + PAGE_SIZE - 1) // PAGE_SIZE
        last = m.va + (m.pages - 1) * PAGE_SIZE
        if m.pages != pages or m.pages == 0 or m.va & (PAGE_SIZE - 1) != 0 or m.va < vm.user_window_start() \
                or last < m.va or last >= vm.user_window_end():
            bad += 1
            continue
        base = _frames[m.object].base if kind == abi.KIND_FRAME else _devices[m.object].base
        first_pa = vm.page_of(m.space, m.va)
        last_pa = vm.page_of(m.space, last)
        # A copy-on-write page may be a private copy, anywhere; any other page is the object's own.
        own_pages = first_pa == base and last_pa == base + (m.pages - 1) * PAGE_SIZE
        if first_pa == 0 or last_pa == 0 or not (m.cow or own_pages):
            bad += 1
    return bad


def _check_threads(running: u32) -> u32:
    """Count threads whose control block, pool slot and scheduler queue disagree. O(MAX_THREADS).

    A slot holds a thread exactly when the pool says it is in use; a thread
    belongs to a live process and runs in one; a READY thread is queued
    (ready or throttled) unless it is ``running`` (the caller); a thread in
    the timeout queue is BLOCKED; any other state is in no queue.
    """
    bad: u32 = 0
    for t in range(u32(board.MAX_THREADS)):
        st = thread.state(t)
        q = sched.queue_of(t)
        if (st == thread.FREE) == objects.is_allocated(abi.KIND_THREAD, t):
            bad += 1
            continue
        if st == thread.FREE:
            if q != sched.Q_NONE:
                bad += 1
            continue
        if not objects.is_allocated(abi.KIND_PROCESS, thread.home_of(t)) \
                or not objects.is_allocated(abi.KIND_PROCESS, thread.process_of(t)):
            bad += 1
        if st == abi.STATE_READY:
            if t == running:
                if q != sched.Q_NONE:
                    bad += 1
            elif q != sched.Q_READY and q != sched.Q_THROTTLED:
                bad += 1
        elif st == abi.STATE_BLOCKED:
            if q != sched.Q_NONE and q != sched.Q_TIMEOUT:
                bad += 1
        elif q != sched.Q_NONE or st > abi.STATE_EXITED:
            bad += 1
    return bad


def _check_owners() -> u32:
    """Count objects in use with no live owner, and processes without a creator other than init. O(TOTAL_OBJECTS)."""
    bad: u32 = 0
    roots: u32 = 0
    for kind in range(u32(abi.NUM_KINDS)):
        if not _OWNED[kind]:
            continue
        for i in range(objects.capacity(kind)):
            if not objects.is_allocated(kind, i):
                continue
            o = objects.owner(kind, i)
            if o == NO_INDEX:
                if kind == abi.KIND_PROCESS and _processes[i].parent == NO_INDEX:
                    roots += 1
                else:
                    bad += 1
            elif not objects.is_allocated(abi.KIND_PROCESS, o) or (kind == abi.KIND_PROCESS
                                                                   and _processes[i].parent != o):
                bad += 1
    if roots > 1:
        bad += 1
    return bad


def _check_pages() -> u32:
    """Count quota accounts that do not add up. O(MAX_PROCESSES * (MAX_PROCESSES + MAX_FRAMES)).

    Each live process uses no more than its quota, and at least the pages
    of the frames it owns plus the quotas it granted its children; and the
    pages every process uses for itself (used less those grants) plus the
    free pages are init's quota, which was every free page when init
    started: a page lost or counted twice anywhere breaks the sum.
    """
    bad: u32 = 0
    total = pagealloc.free_pages()
    init_quota: usize = 0
    for p in range(u32(board.MAX_PROCESSES)):
        if not objects.is_allocated(abi.KIND_PROCESS, p):
            continue
        if _processes[p].parent == NO_INDEX:
            init_quota = memory.limit(p)
        granted: usize = 0
        for c in range(u32(board.MAX_PROCESSES)):
            if objects.is_allocated(abi.KIND_PROCESS, c) and _processes[c].parent == p:
                granted += _processes[c].granted
        frames: usize = 0
        for f in range(u32(board.MAX_FRAMES)):
            if objects.is_allocated(abi.KIND_FRAME, f) and objects.owner(abi.KIND_FRAME, f) == p \
                    and not _frames[f].borrowed:
                frames += _frames[f].pages
        used = memory.used(p)
        if used > memory.limit(p) or used < granted + frames:
            bad += 1
            continue
        total += used - granted
    if init_quota != 0 and total != init_quota:
        bad += 1
    return bad


def check(running: u32) -> u32:
    """Count violated invariants of processes, threads, mappings and quotas (0 when consistent).

    ``running`` is the thread that asks (the running one, in no queue).
    The parts: _check_mappings (every mapping owned), _check_threads
    (thread states against the pool and the scheduler's queues),
    _check_owners (every object owned by a live process) and _check_pages
    (no page leaked). Cost: O(TOTAL_OBJECTS + MAX_MAPPINGS + MAX_PROCESSES *
    (MAX_PROCESSES + MAX_FRAMES)), and a page-table walk per mapping.
    """
    return _check_mappings() + _check_threads(running) + _check_owners() + _check_pages()
