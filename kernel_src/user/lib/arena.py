"""Arenas: bump allocation inside one block of the heap, freed all at once (reset, or back to a mark).

An arena takes one block of ``size`` bytes from user/lib/heap.py when it is
created; ``alloc`` hands out the next bytes of it, aligned as asked, in
O(1) and without per-block bookkeeping, so many small objects that die
together (a parsed command line, one request's buffers) cost no free
each. ``mark`` and ``release_to`` free everything allocated after a point;
``reset`` frees everything; ``destroy`` gives the block back to the heap.
``fit`` is the pure arithmetic of ``alloc`` (kcc.load_python runs it).
"""

from kcc.lang import *

from lib import string
from user.lib import heap

FULL: Final[usize] = 0xFFFF_FFFF_FFFF_FFFF      # fit's result when the request does not fit


@struct
class Arena:
    base: Ptr[u8]       # the heap block; NULL before create and after destroy
    size: usize         # its bytes
    used: usize         # bytes from base handed out (with alignment padding)


def fit(used: usize, size: usize, align: usize, capacity: usize) -> usize:
    """Where a block of ``size`` bytes aligned to ``align`` starts in an arena of ``capacity`` bytes, ``used`` of them taken.

    ``align`` is a power of two up to heap.GRANULE (the alignment of the
    arena's start); the result is an offset from the arena's start, or
    FULL when the block does not fit, ``size`` is 0 or ``align`` is not such
    a power of two.
    """
    if size == 0 or align == 0 or align > heap.GRANULE or align & (align - 1) != 0:
        return FULL
    at = (used + align - 1) & ~(align - 1)
    if at < used or at > capacity or size > capacity - at:
        return FULL
    return at


def create(a: Ptr[Arena], size: usize) -> bool:
    """Make ``a`` an empty arena of ``size`` bytes taken from the heap; False (``a`` left empty) when the heap has no such block."""
    a.base = heap.alloc(size)
    a.used = 0
    a.size = size if a.base != NULL else 0
    return a.base != NULL


def alloc(a: Ptr[Arena], size: usize, align: usize) -> Ptr[u8]:
    """``size`` zeroed bytes aligned to ``align`` (see fit) from arena ``a``; NULL when they do not fit."""
    at = fit(a.used, size, align, a.size)
    if at == FULL or a.base == NULL:
        return NULL
    a.used = at + size
    p = a.base + at
    string.memset(p, 0, size)
    return p


def mark(a: Ptr[Arena]) -> usize:
    """The current fill of arena ``a``, for a later release_to."""
    return a.used


def release_to(a: Ptr[Arena], m: usize) -> bool:
    """Free every block allocated since ``mark`` returned ``m``; False (nothing freed) when ``m`` is beyond the fill."""
    if m > a.used:
        return False
    a.used = m
    return True


def reset(a: Ptr[Arena]) -> None:
    """Free every block of arena ``a`` at once; the arena stays usable."""
    a.used = 0


def destroy(a: Ptr[Arena]) -> bool:
    """Give arena ``a``'s block back to the heap; False when it had none."""
    ok = heap.free(a.base)
    a.base = NULL
    a.size = 0
    a.used = 0
    return ok
