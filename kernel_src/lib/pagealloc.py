"""Physical page allocator: O(1) alloc and free over a bounded set of free ranges.

Design: each range hands out never-used pages with a bump pointer; freed
pages go on an intrusive LIFO free list whose link lives in the first word of
the free page itself. alloc pops the list or bumps the current range, so both
operations are O(1), and setting up a range is O(1) too: no page is touched
before it is first freed. Nothing here allocates.
"""

from kcc.lang import *

from lib.memmap import MemRegion

PAGE_SIZE: Final = 4096
MAX_RANGES: Final = 16


@struct
class Range:
    """Pages [start, end) of which [next, end) were never handed out."""

    start: usize
    next: usize
    end: usize


_ranges: Array[Range, MAX_RANGES]
_nranges: u32 = 0
_current: u32 = 0           # the range the bump pointer is in; ranges before it are used up
_free_list: usize = 0       # address of the most recently freed page, 0 when the list is empty
_free_pages: usize = 0
_total_pages: usize = 0


def reset() -> None:
    """Forget every range and page (all counts become 0)."""
    global _nranges, _current, _free_list, _free_pages, _total_pages
    _nranges = 0
    _current = 0
    _free_list = 0
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

    Returns False (and adds nothing) when all MAX_RANGES ranges are in use.
    A range with no whole page is ignored and counts as success. O(1).
    """
    global _nranges, _free_pages, _total_pages
    first = page_align_up(start)
    last = page_align_down(end)
    if last <= first:
        return True
    if _nranges == MAX_RANGES:
        return False
    r = addr(_ranges[_nranges])
    r.start = first
    r.next = first
    r.end = last
    _nranges += 1
    pages = (last - first) // PAGE_SIZE
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


def alloc() -> usize:
    """Return the address of a free page (PAGE_SIZE aligned, contents undefined), or 0 when none is left."""
    global _free_list, _free_pages, _current
    if _free_list != 0:
        page = _free_list
        _free_list = cast(Ptr[usize], page)[0]
        _free_pages -= 1
        return page
    # alloc_run may have used up a range ahead of the bump pointer: step over such ranges.
    while _current < _nranges and _ranges[_current].next == _ranges[_current].end:
        _current += 1
    if _current == _nranges:
        return 0
    r = addr(_ranges[_current])
    page = r.next
    r.next += PAGE_SIZE
    # Ranges are never empty when added, so stepping past an exhausted one
    # right away keeps _current on a range with a page left.
    if r.next == r.end:
        _current += 1
    _free_pages -= 1
    return page


def alloc_run(pages: usize) -> usize:
    """Return the first of ``pages`` physically contiguous free pages, or 0 when no range has that many unused.

    One page comes from alloc(); longer runs are carved from the never-used
    part of a range (freed pages go back one by one to the free list, which
    keeps no order, so they serve single pages only). Cost: O(MAX_RANGES).
    Contiguity is what an MPU region needs (a frame is one region on ARMv8-M).
    """
    global _free_pages, _current
    if pages == 0:
        return 0
    if pages == 1:
        return alloc()
    i = _current
    while i < _nranges:
        r = addr(_ranges[i])
        if (r.end - r.next) // PAGE_SIZE >= pages:
            page = r.next
            r.next += pages * PAGE_SIZE
            if r.next == r.end and i == _current:
                _current += 1
            _free_pages -= pages
            return page
        i += 1
    return 0


def owns(page: usize) -> bool:
    """Return True when ``page`` is a page-aligned address this allocator has handed out."""
    if page & (PAGE_SIZE - 1) != 0:
        return False
    i: u32 = 0
    while i < _nranges:
        r = addr(_ranges[i])
        if r.start <= page < r.next:
            return True
        i += 1
    return False


def free(page: usize) -> None:
    """Return ``page`` (from alloc) to the allocator; O(MAX_RANGES) to validate, O(1) to free.

    A page that alloc did not hand out is a kernel bug: panics. A page freed
    twice is not detected.
    """
    global _free_list, _free_pages
    if not owns(page):
        panic("pagealloc.free: not an allocated page")
    link = cast(Ptr[usize], page)
    link[0] = _free_list
    _free_list = page
    _free_pages += 1


def free_pages() -> usize:
    """Return how many pages alloc can still hand out."""
    return _free_pages


def total_pages() -> usize:
    """Return how many pages the allocator manages in all."""
    return _total_pages
