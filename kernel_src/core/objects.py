"""Fixed pools of kernel objects with versioned identities: (index, generation) never names two objects.

Every object kind of lib/abi.py has a pool sized by a board constant; the IRQ
control and console objects are single-object pools. An object is named by its
index in its kind's pool and by the pool slot's generation. free() bumps the
generation, so every capability and thread id that named the freed object
stops matching (is_live is False) before the slot can be handed out again.

Generations: a slot starts at generation 1 (reset), and 0 is never a live
generation, so a zeroed capability never names an object. free() adds one.
A slot whose generation is already GEN_LAST when it is freed would wrap to 0
and then to values old capabilities may still hold, so it is *retired*
instead: it never leaves the pool's free list again until reset(). The loss
is bounded (one slot per 2**32 - 1 uses of that slot, which at one use per
microsecond takes more than an hour of nothing but reusing it) and no
generation value is ever issued twice for a slot, so no stale reference can
ever match a later object.

Cost: alloc, free and every accessor are O(1) (a free list threaded through
the slots; the kind's offset in the slot array comes from a constant table).
reset() is O(total objects); check() and next_owned() state their bounds.
Nothing here allocates.
"""

import board
from kcc.lang import *

from lib.abi import NUM_KINDS

NO_INDEX: Final[u32] = 0xFFFF_FFFF
GEN_FIRST: Final[u32] = 1
GEN_LAST: Final[u32] = 0xFFFF_FFFF

# Where each kind's pool starts in _slots: the pools lie one after another in kind order.
_BASE_PROCESS: Final = 0
_BASE_THREAD: Final = _BASE_PROCESS + board.MAX_PROCESSES
_BASE_ENDPOINT: Final = _BASE_THREAD + board.MAX_THREADS
_BASE_NOTIFICATION: Final = _BASE_ENDPOINT + board.MAX_ENDPOINTS
_BASE_FRAME: Final = _BASE_NOTIFICATION + board.MAX_NOTIFICATIONS
_BASE_IRQ_CONTROL: Final = _BASE_FRAME + board.MAX_FRAMES
_BASE_IRQ: Final = _BASE_IRQ_CONTROL + 1
_BASE_DEVICE: Final = _BASE_IRQ + board.MAX_IRQS
_BASE_CONSOLE: Final = _BASE_DEVICE + board.MAX_DEVICES
_BASE_PORTAL: Final = _BASE_CONSOLE + 1
TOTAL_OBJECTS: Final = _BASE_PORTAL + board.MAX_PORTALS

# Slot states.
_FREE: Final[u8] = 0
_USED: Final[u8] = 1
_RETIRED: Final[u8] = 2


@struct
class Slot:
    """One pool slot: the generation of its current (or next) object, and its owner while in use."""

    generation: u32
    owner: u32          # owning process index; NO_INDEX while free or unowned
    next_free: u32      # the next free slot of the same pool (pool index), NO_INDEX at the end
    state: u8


_slots: Array[Slot, TOTAL_OBJECTS]
_free_head: Array[u32, NUM_KINDS]       # pool index of the first free slot, NO_INDEX when exhausted
_free_count: Array[u32, NUM_KINDS]
_retired: Array[u32, NUM_KINDS]


# Indexed by kind (the abi KIND_* values in their order, KIND_NULL = 0 first): the size of each
# pool (0: the kind has none) and where it starts in _slots. Tables, not comparison chains:
# every capability lookup asks both.
_CAPACITY: Final[Array[u32, NUM_KINDS]] = (
    0, board.MAX_PROCESSES, board.MAX_THREADS, board.MAX_ENDPOINTS, board.MAX_NOTIFICATIONS, board.MAX_FRAMES,
    1, board.MAX_IRQS, board.MAX_DEVICES, 1, board.MAX_PORTALS,
)
_BASES: Final[Array[u32, NUM_KINDS]] = (
    0, _BASE_PROCESS, _BASE_THREAD, _BASE_ENDPOINT, _BASE_NOTIFICATION, _BASE_FRAME,
    _BASE_IRQ_CONTROL, _BASE_IRQ, _BASE_DEVICE, _BASE_CONSOLE, _BASE_PORTAL,
)


def capacity(kind: u32) -> u32:
    """Return the size of the pool of ``kind`` (an abi KIND_*), 0 for KIND_NULL or an unknown kind. O(1)."""
    if kind >= NUM_KINDS:
        return 0
    return _CAPACITY[kind]


def _base(kind: u32) -> u32:
    """The position of pool ``kind``'s first slot in _slots (kind has a pool)."""
    return _BASES[kind]


def _valid(kind: u32, index: u32) -> bool:
    """True when ``index`` is inside the pool of ``kind`` (False for kinds without a pool)."""
    return index < capacity(kind)


def _at(kind: u32, index: u32) -> u32:
    """The position in _slots of a valid (kind, index); a bad one is a kernel bug."""
    if not _valid(kind, index):
        panic("objects: no such object slot")
    return _base(kind) + index


def reset() -> None:
    """Empty every pool: all slots free at generation 1, no owner. O(TOTAL_OBJECTS)."""
    for kind in range(u32(NUM_KINDS)):
        n = capacity(kind)
        _free_count[kind] = n
        _retired[kind] = 0
        _free_head[kind] = 0 if n > 0 else NO_INDEX
        if n > 0:
            base = _base(kind)
            for i in range(n):
                _slots[base + i].generation = GEN_FIRST
                _slots[base + i].owner = NO_INDEX
                _slots[base + i].next_free = i + 1 if i + 1 < n else NO_INDEX
                _slots[base + i].state = _FREE


def alloc(kind: u32) -> u32:
    """Take a free object of ``kind``: return its index (its generation is generation(kind, index)).

    Returns NO_INDEX when the pool is exhausted or ``kind`` has no pool. The
    object has no owner until set_owner. O(1).
    """
    if capacity(kind) == 0:
        return NO_INDEX
    index = _free_head[kind]
    if index == NO_INDEX:
        return NO_INDEX
    at = _at(kind, index)
    _free_head[kind] = _slots[at].next_free
    _free_count[kind] -= 1
    _slots[at].next_free = NO_INDEX
    _slots[at].state = _USED
    _slots[at].owner = NO_INDEX
    return index


def free(kind: u32, index: u32) -> None:
    """Return the object (kind, index) to its pool; every reference to it becomes stale. O(1).

    The slot's generation moves on, so is_live is False for every generation
    issued so far; a slot at GEN_LAST is retired instead of reused (see the
    module docstring). Freeing a slot that is not in use panics (kernel bug).
    """
    at = _at(kind, index)
    if _slots[at].state != _USED:
        panic("objects.free: the object is not in use")
    _slots[at].owner = NO_INDEX
    if _slots[at].generation == GEN_LAST:
        _slots[at].state = _RETIRED
        _retired[kind] += 1
        return
    _slots[at].generation += 1
    _slots[at].state = _FREE
    _slots[at].next_free = _free_head[kind]
    _free_head[kind] = index
    _free_count[kind] += 1


def generation(kind: u32, index: u32) -> u32:
    """Return the generation of slot ``index`` of ``kind``: its object's if in use, else the next one's.

    Returns 0 (never live) for an index outside the pool or a kind without a pool. O(1).
    """
    if not _valid(kind, index):
        return 0
    return _slots[_base(kind) + index].generation


def is_live(kind: u32, index: u32, gen: u32) -> bool:
    """True when (kind, index, gen) names an object in use now; any argument may be out of range. O(1)."""
    if not _valid(kind, index):
        return False
    at = _base(kind) + index
    return _slots[at].state == _USED and _slots[at].generation == gen and gen != 0


def is_allocated(kind: u32, index: u32) -> bool:
    """True when slot ``index`` of ``kind`` holds an object (False out of range). O(1)."""
    if not _valid(kind, index):
        return False
    return _slots[_base(kind) + index].state == _USED


def is_retired(kind: u32, index: u32) -> bool:
    """True when slot ``index`` of ``kind`` used up its generations and is out of use until reset. O(1)."""
    if not _valid(kind, index):
        return False
    return _slots[_base(kind) + index].state == _RETIRED


def free_count(kind: u32) -> u32:
    """Return how many objects of ``kind`` alloc can still hand out (0 for a kind without a pool). O(1)."""
    if capacity(kind) == 0:
        return 0
    return _free_count[kind]


def retired_count(kind: u32) -> u32:
    """Return how many slots of ``kind`` are retired (generations used up). O(1)."""
    if capacity(kind) == 0:
        return 0
    return _retired[kind]


def owner(kind: u32, index: u32) -> u32:
    """Return the owning process index of an object in use, NO_INDEX when it has none. O(1).

    A slot outside the pool panics (kernel bug); a free slot has no owner.
    """
    return _slots[_at(kind, index)].owner


def set_owner(kind: u32, index: u32, proc: u32) -> None:
    """Record process index ``proc`` (or NO_INDEX) as the owner of the object in use (kind, index). O(1).

    Panics (kernel bug) when the slot is outside the pool or free.
    """
    at = _at(kind, index)
    if _slots[at].state != _USED:
        panic("objects.set_owner: the object is not in use")
    _slots[at].owner = proc


def next_owned(kind: u32, proc: u32, start: u32) -> u32:
    """Return the first index >= ``start`` of an object of ``kind`` in use and owned by ``proc``.

    Returns NO_INDEX when there is none: destroying a process walks each pool
    with it. O(capacity(kind) - start).
    """
    n = capacity(kind)
    if n == 0:
        return NO_INDEX
    base = _base(kind)
    for i in range(start, n):
        if _slots[base + i].state == _USED and _slots[base + i].owner == proc:
            return i
    return NO_INDEX


def check() -> u32:
    """Count violated invariants of every pool (0 when consistent). O(TOTAL_OBJECTS).

    Checked: the free list holds exactly the free slots, each once, and its
    length is the free count; free + in use + retired slots make up the
    capacity; no slot is at generation 0; free and retired slots have no owner.
    """
    bad: u32 = 0
    for kind in range(u32(NUM_KINDS)):
        n = capacity(kind)
        if n == 0:
            continue
        base = _base(kind)
        # At most n + 1 steps, so a cycle in the list cannot hang the check.
        walked: u32 = 0
        index = _free_head[kind]
        while index != NO_INDEX and walked <= n:
            if index >= n or _slots[base + index].state != _FREE:
                bad += 1
                break
            walked += 1
            index = _slots[base + index].next_free
        free_slots: u32 = 0
        retired: u32 = 0
        for i in range(n):
            s = _slots[base + i]      # a copy: check only reads
            if s.generation == 0:
                bad += 1
            if s.state == _FREE:
                free_slots += 1
            elif s.state == _RETIRED:
                retired += 1
            elif s.state != _USED:
                bad += 1
            if s.state != _USED and s.owner != NO_INDEX:
                bad += 1
        # A list of free slots only, no longer than the number of free slots, ending in
        # NO_INDEX, and as long as that number: it holds each free slot exactly once.
        if walked != free_slots or walked != _free_count[kind] or index != NO_INDEX:
            bad += 1
        if retired != _retired[kind]:
            bad += 1
    return bad
