"""Doubly linked lists of 64-bit values, index-based: every list of the program takes its nodes from one pool.

A list is a head node (returned by ``new``) on a circle with its items; an
item is named by its node index, which stays valid until the item is
removed, so a program may keep it (in a tree or a map) to remove the item
in O(1). NODES nodes serve every list of the program, heads included;
``new``, ``push_*`` and ``insert_after`` return NIL when the pool is
exhausted. Indexes only, so the module also runs under CPython
(kcc.load_python) for the tests.
"""

from kcc.lang import *

NODES: Final = 512
NIL: Final[u32] = 0xFFFF_FFFF

_FREE: Final[u8] = 0
_HEAD: Final[u8] = 1
_ITEM: Final[u8] = 2


@struct
class _Node:
    next: u32
    prev: u32
    value: u64
    kind: u8


_nodes: Array[_Node, NODES]
_free: u32 = NIL        # freed nodes, chained through next
_fresh: u32 = 0         # nodes from here on were never used (so the pool needs no set-up loop)
_in_use: u32 = 0


def _take(kind: u8) -> u32:
    """A node of ``kind`` linked to itself, or NIL when the pool is exhausted."""
    global _free, _fresh, _in_use
    n = _free
    if n != NIL:
        _free = _nodes[n].next
    elif _fresh < NODES:
        n = _fresh
        _fresh += 1
    else:
        return NIL
    _nodes[n].next = n
    _nodes[n].prev = n
    _nodes[n].value = 0
    _nodes[n].kind = kind
    _in_use += 1
    return n


def _give(n: u32) -> None:
    """Put node ``n`` back into the pool."""
    global _free, _in_use
    _nodes[n].kind = _FREE
    _nodes[n].next = _free
    _free = n
    _in_use -= 1


def _is(n: u32, kind: u8) -> bool:
    """True when ``n`` is a node index of that kind."""
    return n < NODES and _nodes[n].kind == kind


def new() -> u32:
    """A new, empty list; NIL when the pool is exhausted."""
    return _take(_HEAD)


def insert_after(at: u32, value: u64) -> u32:
    """Insert ``value`` after node ``at`` (a list's head: at the front); its node, or NIL (pool full, bad ``at``)."""
    if not _is(at, _HEAD) and not _is(at, _ITEM):
        return NIL
    n = _take(_ITEM)
    if n == NIL:
        return NIL
    after = _nodes[at].next
    _nodes[n].value = value
    _nodes[n].prev = at
    _nodes[n].next = after
    _nodes[after].prev = n
    _nodes[at].next = n
    return n


def push_front(lst: u32, value: u64) -> u32:
    """Insert ``value`` first in list ``lst``; its node, or NIL (pool full, ``lst`` not a list)."""
    if not _is(lst, _HEAD):
        return NIL
    return insert_after(lst, value)


def push_back(lst: u32, value: u64) -> u32:
    """Append ``value`` to list ``lst``; its node, or NIL (pool full, ``lst`` not a list)."""
    if not _is(lst, _HEAD):
        return NIL
    return insert_after(_nodes[lst].prev, value)


def remove(n: u32) -> bool:
    """Unlink item ``n`` from its list and free it; False when ``n`` is not an item (a head, freed, out of range)."""
    if not _is(n, _ITEM):
        return False
    before = _nodes[n].prev
    after = _nodes[n].next
    _nodes[before].next = after
    _nodes[after].prev = before
    _give(n)
    return True


def _step(lst: u32, n: u32) -> u32:
    """``n`` itself as an item of ``lst``'s circle, NIL when it is the head (the end of a walk)."""
    return NIL if n == lst else n


def first(lst: u32) -> u32:
    """The first item of list ``lst``; NIL when it is empty or not a list."""
    if not _is(lst, _HEAD):
        return NIL
    return _step(lst, _nodes[lst].next)


def last(lst: u32) -> u32:
    """The last item of list ``lst``; NIL when it is empty or not a list."""
    if not _is(lst, _HEAD):
        return NIL
    return _step(lst, _nodes[lst].prev)


def next(lst: u32, n: u32) -> u32:
    """The item after item ``n`` of list ``lst``; NIL after the last one (or when ``n`` is not an item)."""
    if not _is(n, _ITEM):
        return NIL
    return _step(lst, _nodes[n].next)


def prev(lst: u32, n: u32) -> u32:
    """The item before item ``n`` of list ``lst``; NIL before the first one (or when ``n`` is not an item)."""
    if not _is(n, _ITEM):
        return NIL
    return _step(lst, _nodes[n].prev)


def value(n: u32) -> u64:
    """The value of item ``n`` (0 when it is not an item)."""
    return _nodes[n].value if _is(n, _ITEM) else 0


def set_value(n: u32, v: u64) -> bool:
    """Replace the value of item ``n``; False when it is not an item."""
    if not _is(n, _ITEM):
        return False
    _nodes[n].value = v
    return True


def length(lst: u32) -> u32:
    """How many items list ``lst`` holds (a walk: O(length)); 0 when it is not a list."""
    count: u32 = 0
    n = first(lst)
    while n != NIL:
        count += 1
        n = next(lst, n)
    return count


def clear(lst: u32) -> u32:
    """Free every item of list ``lst``, which stays an empty list; how many were freed."""
    count: u32 = 0
    n = first(lst)
    while n != NIL:
        remove(n)
        count += 1
        n = first(lst)
    return count


def delete(lst: u32) -> bool:
    """Free list ``lst``, its items and its head; False when it is not a list."""
    if not _is(lst, _HEAD):
        return False
    clear(lst)
    _give(lst)
    return True


def nodes_in_use() -> u32:
    """Nodes taken from the pool (heads and items of every list)."""
    return _in_use
