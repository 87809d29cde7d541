"""A small heap for user programs: first-fit allocation of 16-byte granules from a static arena.

The arena is HEAP_SIZE bytes of the program's .bss. A map with one byte per
granule says which granules are free, which start a block and which continue
one, so a block needs no header inside the arena and ``free`` of a pointer
that is not a block's start is detected. ``alloc`` and ``free`` cost at most
O(GRANULES) steps (the map is scanned once); memory comes back zeroed.
The map functions (``reserve``, ``release``, ``free_granules``) take and
return granule indexes only, so they also run under CPython
(kcc.load_python) for the tests.
"""

from kcc.lang import *

from lib import string

HEAP_SIZE: Final = 64 * 1024
GRANULE: Final = 16             # bytes; the alignment of every block (the largest any riscv64 type needs is 8)
GRANULES: Final = HEAP_SIZE // GRANULE
NONE: Final[u32] = 0xFFFF_FFFF  # reserve's result when no run of free granules is long enough

_FREE: Final[u8] = 0
_START: Final[u8] = 1           # the first granule of a block
_MORE: Final[u8] = 2            # a later granule of the block before it

# A global array is aligned only to its element type (8 bytes for u64), so the arena has one granule
# more than the heap and the heap starts at its first GRANULE-aligned address (_base).
_arena: Array[u64, (HEAP_SIZE + GRANULE) // 8]
_map: Array[u8, GRANULES]


def _base() -> usize:
    """The first GRANULE-aligned address inside the arena: where granule 0 starts."""
    return (usize(addr(_arena[0])) + GRANULE - 1) & ~usize(GRANULE - 1)


def reserve(count: u32) -> u32:
    """Mark the first run of ``count`` free granules as one block; return its first index, or NONE.

    NONE also for ``count`` 0 or more than GRANULES.
    """
    if count == 0 or count > GRANULES:
        return NONE
    run: u32 = 0
    for i in range(u32(0), GRANULES):
        if _map[i] != _FREE:
            run = 0
            continue
        run += 1
        if run == count:
            first = i + 1 - count
            _map[first] = _START
            for j in range(first + 1, first + count):
                _map[j] = _MORE
            return first
    return NONE


def release(first: u32) -> u32:
    """Free the block that starts at granule ``first``; return how many granules it had (0: no block starts there)."""
    if first >= GRANULES or _map[first] != _START:
        return 0
    _map[first] = _FREE
    n: u32 = 1
    while first + n < GRANULES and _map[first + n] == _MORE:
        _map[first + n] = _FREE
        n += 1
    return n


def free_granules() -> u32:
    """How many granules are free."""
    n: u32 = 0
    for i in range(u32(0), GRANULES):
        if _map[i] == _FREE:
            n += 1
    return n


def alloc(size: usize) -> Ptr[u8]:
    """Return ``size`` zeroed bytes aligned to GRANULE, or NULL when no free run is long enough (or size is 0)."""
    if size == 0 or size > HEAP_SIZE:
        return NULL
    first = reserve(u32((size + GRANULE - 1) // GRANULE))
    if first == NONE:
        return NULL
    p = cast(Ptr[u8], _base() + usize(first) * GRANULE)
    string.memset(p, 0, size)
    return p


def free(p: Ptr[u8]) -> bool:
    """Give back a block ``alloc`` returned; True when ``p`` was one (NULL, a foreign or a freed pointer: False)."""
    base = _base()
    at = usize(p)
    if at < base or at - base >= HEAP_SIZE or (at - base) % GRANULE != 0:
        return False
    return release(u32((at - base) // GRANULE)) != 0
