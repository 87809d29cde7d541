"""Physical page allocator: single pages and runs of contiguous pages, with freed pages merging back into runs.

Design: each range of free RAM keeps a bitmap, one bit per page (set: free),
in its own first pages, so nothing here needs memory of its own and any
board's ranges fit. alloc takes the lowest free page, alloc_run the lowest
run of free pages long enough, and free sets the page's bit again, so a run
freed page by page is a run again, whatever the order of the frees: memory
never fragments into pages that only serve single-page requests (a bump
pointer with a free list of pages did, and lost every page it had ever
handed out in a run to runs for good). A range's ``next`` is a lower bound
of its free pages, where searches start; ``_current`` is the first range
that may have a free page.

Cost: free O(MAX_RANGES) (finding the range); alloc O(1) when the page
below ``next`` is free, at worst one pass over the range's bitmap words
(512 words for 128 MiB); alloc_run O(bitmap words + pages) of the ranges it
looks at; add_range O(bitmap words). A page freed twice is a kernel bug and
panics. Nothing here allocates.
"""

from kcc.lang import *

from lib import bits
from lib.memmap import MemRegion

PAGE_SIZE: Final = 4096
MAX_RANGES: Final = 16
_BITS: Final = 64                   # pages a bitmap word covers
_ALL: Final[u64] = 0xFFFF_FFFF_FFFF_FFFF


@struct
class Range:
    """Pages [start, end) after the range's bitmap; none of [start, next) is free."""

    start: usize
    next: usize
    end: usize


_ranges: Array[Range, MAX_RANGES]
_maps: Array[Ptr[u64], MAX_RANGES]  # each range's bitmap: bit k of word k // 64 is page start + k pages
_nranges: u32 = 0
_current: u32 = 0           # ranges before it have no free page
_free_pages: usize = 0
_total_pages: usize = 0


def reset() -> None:
    """Forget every range and page (all counts become 0)."""
    global _nranges, _current, _free_pages, _total_pages
    _nranges = 0
    _current = 0
    _free_pages = 0
    _total_pages = 0


def page_align_up(x: usize) -> usize:
    """Round ``x`` up to a page boundary (saturating at the last page boundary)."""
    if x > usize(0) - PAGE_SIZE:
        return usize(0) - PAGE_SIZE
    return (x + (PAGE_SIZE - 1)) & ~usize(PAGE_SIZE - 1)


def page_align_down(x: usize) -> usize:
    """Round ``x`` down to a page boundary."""
    return x & ~usize(PAGE_SIZE - 1)


def add_range(start: usize, end: usize) -> bool:
    """Give the allocator the free bytes [start, end); only whole pages inside are used.

    The range's first pages become its bitmap (one bit a page, every page
    free), so a range too small to hold one beside a page is ignored. Returns
    False (and adds nothing) when all MAX_RANGES ranges are in use; a range
    with no usable page is ignored and counts as success. O(bitmap words).
    """
    global _nranges, _free_pages, _total_pages
    first = page_align_up(start)
    last = page_align_down(end)
    if last <= first:
        return True
    if _nranges == MAX_RANGES:
        return False
    pages = (last - first) // PAGE_SIZE
    words = (pages + _BITS - 1) // _BITS
    map_pages = (words * 8 + PAGE_SIZE - 1) // PAGE_SIZE
    if pages <= map_pages:
        return True
    pages -= map_pages
    m = cast(Ptr[u64], first)
    full = pages // _BITS
    for w in range(full):
        m[w] = _ALL
    if pages % _BITS != 0:
        m[full] = (u64(1) << u64(pages % _BITS)) - 1
    _maps[_nranges] = m
    r = addr(_ranges[_nranges])
    r.start = first + map_pages * PAGE_SIZE
    r.next = r.start
    r.end = last
    _nranges += 1
    _free_pages += pages
    _total_pages += pages
    return True


def _add_carved(start: usize, end: usize, holes: Ptr[MemRegion], nholes: u32, first_hole: u32) -> bool:
    """Add [start, end) minus holes[first_hole:]; recursion depth is at most nholes + 1."""
    i = first_hole
    while i < nholes:
        hole_start = holes[i].base
        hole_end = holes[i].base + holes[i].size
        if hole_start < end and start < hole_end:
            ok = True
            if start < hole_start:
                ok = _add_carved(start, hole_start, holes, nholes, i + 1)
            if hole_end < end:
                ok = _add_carved(hole_end, end, holes, nholes, i + 1) and ok
            return ok
        i += 1
    return add_range(start, end)


def add_ram(start: usize, end: usize, holes: Ptr[MemRegion], nholes: u32) -> bool:
    """Add the RAM [start, end) except the ``nholes`` ranges in ``holes`` (kernel image, firmware ...).

    Holes may overlap each other and the RAM in any way. Pages that straddle
    a hole's edge are left out. Returns False when the range table filled up.
    """
    return _add_carved(start, end, holes, nholes, 0)


def _take(i: u32, k: usize, pages: usize) -> usize:
    """Mark pages k .. k + pages - 1 of range ``i`` used and return the first one's address."""
    global _free_pages
    m = _maps[i]
    for j in range(k, k + pages):
        m[j // _BITS] &= ~(u64(1) << u64(j % _BITS))
    r = addr(_ranges[i])
    page = r.start + k * PAGE_SIZE
    if page == r.next:
        r.next = page + pages * PAGE_SIZE
    _free_pages -= pages
    return page


def alloc() -> usize:
    """Return the address of the lowest free page (PAGE_SIZE aligned, contents undefined), or 0 when none is left."""
    global _current
    while _current < _nranges:
        r = addr(_ranges[_current])
        m = _maps[_current]
        count = (r.end - r.start) // PAGE_SIZE
        w = (r.next - r.start) // PAGE_SIZE // _BITS
        while w * _BITS < count:
            if m[w] != 0:
                return _take(_current, w * _BITS + usize(bits.lowest(m[w])), 1)
            w += 1
        r.next = r.end
        _current += 1
    return 0


def alloc_run(pages: usize) -> usize:
    """Return the first of ``pages`` physically contiguous free pages (the lowest such run), or 0 when there is none.

    Runs may span pages freed at any time in any order (module docstring).
    Cost: O(bitmap words + pages) of each range searched. Contiguity is what
    an MPU region needs (a frame is one region on ARMv8-M).
    """
    if pages == 0:
        return 0
    i = _current
    while i < _nranges:
        r = addr(_ranges[i])
        m = _maps[i]
        count = (r.end - r.start) // PAGE_SIZE
        k = (r.next - r.start) // PAGE_SIZE
        run: usize = 0
        while k < count:
            word = m[k // _BITS]
            if k % _BITS == 0 and word == _ALL and k + _BITS <= count:
                run += _BITS
                k += _BITS
            elif word == 0:
                run = 0
                k = (k // _BITS + 1) * _BITS
            elif word & (u64(1) << u64(k % _BITS)) != 0:
                run += 1
                k += 1
            else:
                run = 0
                k += 1
            if run >= pages:
                return _take(i, k - run, pages)
        i += 1
    return 0


def _range_of(page: usize) -> u32:
    """Return the range holding ``page`` (page aligned), MAX_RANGES when none does. O(MAX_RANGES)."""
    i: u32 = 0
    while i < _nranges:
        if _ranges[i].start <= page < _ranges[i].end:
            return i
        i += 1
    return MAX_RANGES


def owns(page: usize) -> bool:
    """Return True when ``page`` is a page-aligned address this allocator has handed out and not taken back."""
    if page & (PAGE_SIZE - 1) != 0:
        return False
    i = _range_of(page)
    if i == MAX_RANGES:
        return False
    k = (page - _ranges[i].start) // PAGE_SIZE
    return _maps[i][k // _BITS] & (u64(1) << u64(k % _BITS)) == 0


def free(page: usize) -> None:
    """Return ``page`` (from alloc or alloc_run) to the allocator; O(MAX_RANGES).

    A page that is not handed out (never, or freed already) is a kernel bug: panics.
    """
    global _free_pages, _current
    if not owns(page):
        panic("pagealloc.free: not an allocated page")
    i = _range_of(page)
    r = addr(_ranges[i])
    k = (page - r.start) // PAGE_SIZE
    _maps[i][k // _BITS] |= u64(1) << u64(k % _BITS)
    if page < r.next:
        r.next = page
    if i < _current:
        _current = i
    _free_pages += 1


def free_pages() -> usize:
    """Return how many pages alloc can still hand out."""
    return _free_pages


def total_pages() -> usize:
    """Return how many pages the allocator manages in all."""
    return _total_pages
