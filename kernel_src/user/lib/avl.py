"""Ordered maps from u64 keys to u64 values: AVL trees whose nodes come from one pool shared by every tree.

A tree is a handle from ``new`` (TREES at most at a time); its nodes are
NODES shared by all trees. Every tree stays height-balanced (the heights of
a node's two subtrees differ by at most one), so ``put``, ``remove``,
``get`` and ``after`` take O(log n) steps, the height staying below
1.45 log2(n + 2). Iterate in key order with ``first`` then ``after`` on
the last key seen. Indexes only, so the module also runs under CPython
(kcc.load_python) for the tests.
"""

from kcc.lang import *

NODES: Final = 1024
TREES: Final = 16
NIL: Final[u32] = 0xFFFF_FFFF


class Put(IntEnum):
    """What ``put`` did."""

    ADDED = 0           # a new key
    REPLACED = 1        # the key was there: its value was replaced
    FULL = 2            # the node pool is exhausted: nothing changed
    NO_TREE = 3         # the handle is not a live tree


@struct
class _Node:
    key: u64
    value: u64
    left: u32           # also the free-pool chain
    right: u32
    height: u32         # of the subtree rooted here: a leaf is 1


_nodes: Array[_Node, NODES]
_free: u32 = NIL
_fresh: u32 = 0         # nodes from here on were never used
_roots: Array[u32, TREES]
_sizes: Array[u32, TREES]
_live: Array[bool, TREES]
_outcome: u32 = 0       # what the last recursive put or remove did (Put.*, or 1 for "removed")
_last: u64 = 0          # balanced(): the key the in-order walk saw last ...
_seen: bool = False     # ... once it saw one


def _take(key: u64, value: u64) -> u32:
    """A new leaf holding ``key`` and ``value``; NIL when the pool is exhausted."""
    global _free, _fresh
    n = _free
    if n != NIL:
        _free = _nodes[n].left
    elif _fresh < NODES:
        n = _fresh
        _fresh += 1
    else:
        return NIL
    _nodes[n].key = key
    _nodes[n].value = value
    _nodes[n].left = NIL
    _nodes[n].right = NIL
    _nodes[n].height = 1
    return n


def _give(n: u32) -> None:
    """Put node ``n`` back into the pool."""
    global _free
    _nodes[n].left = _free
    _free = n


def _height(n: u32) -> u32:
    """The height of the subtree at ``n`` (0 for NIL)."""
    return 0 if n == NIL else _nodes[n].height


def _update(n: u32) -> None:
    """Recompute ``n``'s height from its children's."""
    _nodes[n].height = max(_height(_nodes[n].left), _height(_nodes[n].right)) + 1


def _rotate_right(n: u32) -> u32:
    """Lift ``n``'s left child above it; the new subtree root."""
    top = _nodes[n].left
    _nodes[n].left = _nodes[top].right
    _nodes[top].right = n
    _update(n)
    _update(top)
    return top


def _rotate_left(n: u32) -> u32:
    """Lift ``n``'s right child above it; the new subtree root."""
    top = _nodes[n].right
    _nodes[n].right = _nodes[top].left
    _nodes[top].left = n
    _update(n)
    _update(top)
    return top


def _balance(n: u32) -> u32:
    """Restore the AVL balance at ``n`` (its subtrees are balanced, their heights differ by at most 2); the root."""
    _update(n)
    left = _nodes[n].left
    right = _nodes[n].right
    if _height(left) > _height(right) + 1:
        if _height(_nodes[left].right) > _height(_nodes[left].left):
            _nodes[n].left = _rotate_left(left)
        return _rotate_right(n)
    if _height(right) > _height(left) + 1:
        if _height(_nodes[right].left) > _height(_nodes[right].right):
            _nodes[n].right = _rotate_right(right)
        return _rotate_left(n)
    return n


def _put(n: u32, key: u64, value: u64) -> u32:
    """Put ``key`` in the subtree at ``n``; its new root. Sets _outcome."""
    global _outcome
    if n == NIL:
        leaf = _take(key, value)
        _outcome = Put.FULL if leaf == NIL else Put.ADDED
        return leaf
    if key == _nodes[n].key:
        _nodes[n].value = value
        _outcome = Put.REPLACED
        return n
    if key < _nodes[n].key:
        child = _put(_nodes[n].left, key, value)
        if child == NIL:
            return n
        _nodes[n].left = child
    else:
        child = _put(_nodes[n].right, key, value)
        if child == NIL:
            return n
        _nodes[n].right = child
    return _balance(n)


def _remove(n: u32, key: u64) -> u32:
    """Remove ``key`` from the subtree at ``n``; its new root. Sets _outcome to 1 when the key was there."""
    global _outcome
    if n == NIL:
        return NIL
    if key < _nodes[n].key:
        _nodes[n].left = _remove(_nodes[n].left, key)
    elif key > _nodes[n].key:
        _nodes[n].right = _remove(_nodes[n].right, key)
    else:
        _outcome = 1
        left = _nodes[n].left
        right = _nodes[n].right
        if left == NIL or right == NIL:
            _give(n)
            return right if left == NIL else left
        # Two children: the next key up (the leftmost of the right subtree) takes this node's place.
        m = right
        while _nodes[m].left != NIL:
            m = _nodes[m].left
        _nodes[n].key = _nodes[m].key
        _nodes[n].value = _nodes[m].value
        _nodes[n].right = _remove(right, _nodes[m].key)
    return _balance(n)


def _find(t: u32, key: u64) -> u32:
    """The node of ``key`` in tree ``t``; NIL when absent or ``t`` is not a tree."""
    if t >= TREES or not _live[t]:
        return NIL
    n = _roots[t]
    while n != NIL and _nodes[n].key != key:
        n = _nodes[n].left if key < _nodes[n].key else _nodes[n].right
    return n


def new() -> u32:
    """A new empty tree; NIL when TREES trees are live."""
    for t in range(u32(0), TREES):
        if not _live[t]:
            _live[t] = True
            _roots[t] = NIL
            _sizes[t] = 0
            return t
    return NIL


def _free_subtree(n: u32) -> None:
    """Give every node of the subtree at ``n`` back to the pool."""
    if n != NIL:
        _free_subtree(_nodes[n].left)
        _free_subtree(_nodes[n].right)
        _give(n)


def destroy(t: u32) -> bool:
    """Free tree ``t`` and all its nodes; False when it is not a live tree."""
    if t >= TREES or not _live[t]:
        return False
    _free_subtree(_roots[t])
    _live[t] = False
    return True


def put(t: u32, key: u64, value: u64) -> u32:
    """Map ``key`` to ``value`` in tree ``t``; a Put: ADDED, REPLACED, FULL (pool exhausted) or NO_TREE."""
    global _outcome
    if t >= TREES or not _live[t]:
        return Put.NO_TREE
    _outcome = Put.FULL
    root = _put(_roots[t], key, value)
    if root != NIL:
        _roots[t] = root
    if _outcome == Put.ADDED:
        _sizes[t] += 1
    return _outcome


def remove(t: u32, key: u64) -> bool:
    """Remove ``key`` from tree ``t``; False when it was not there (or ``t`` is not a tree)."""
    global _outcome
    if t >= TREES or not _live[t]:
        return False
    _outcome = 0
    _roots[t] = _remove(_roots[t], key)
    if _outcome == 0:
        return False
    _sizes[t] -= 1
    return True


def contains(t: u32, key: u64) -> bool:
    """True when tree ``t`` holds ``key``."""
    return _find(t, key) != NIL


def get(t: u32, key: u64, default: u64) -> u64:
    """The value of ``key`` in tree ``t``; ``default`` when it is absent."""
    n = _find(t, key)
    return default if n == NIL else _nodes[n].value


def size(t: u32) -> u32:
    """How many keys tree ``t`` holds (0 when it is not a tree)."""
    return _sizes[t] if t < TREES and _live[t] else 0


def height(t: u32) -> u32:
    """The height of tree ``t`` (0: empty or not a tree; one key: 1)."""
    return _height(_roots[t]) if t < TREES and _live[t] else 0


def first(t: u32) -> u32:
    """The node of the smallest key of tree ``t``; NIL when it is empty or not a tree."""
    if t >= TREES or not _live[t] or _roots[t] == NIL:
        return NIL
    n = _roots[t]
    while _nodes[n].left != NIL:
        n = _nodes[n].left
    return n


def after(t: u32, key: u64) -> u32:
    """The node of the smallest key of tree ``t`` greater than ``key``; NIL when there is none."""
    if t >= TREES or not _live[t]:
        return NIL
    best = NIL
    n = _roots[t]
    while n != NIL:
        if _nodes[n].key > key:
            best = n
            n = _nodes[n].left
        else:
            n = _nodes[n].right
    return best


def key(n: u32) -> u64:
    """The key at node ``n`` (from first or after; valid until the tree next changes)."""
    return _nodes[n].key


def value(n: u32) -> u64:
    """The value at node ``n`` (from first or after; valid until the tree next changes)."""
    return _nodes[n].value


def balanced(t: u32) -> bool:
    """Check tree ``t``'s invariants: keys strictly in order, stored heights right, AVL balance; for tests."""
    global _seen
    if t >= TREES or not _live[t]:
        return False
    _seen = False
    return _check(_roots[t]) != NIL


def _check(n: u32) -> u32:
    """The height of the subtree at ``n`` when it is a valid AVL tree whose keys follow _last; NIL otherwise."""
    global _last, _seen
    if n == NIL:
        return 0
    hl = _check(_nodes[n].left)
    if hl == NIL or (_seen and _nodes[n].key <= _last):
        return NIL
    _last = _nodes[n].key
    _seen = True
    hr = _check(_nodes[n].right)
    if hr == NIL or hl > hr + 1 or hr > hl + 1 or _nodes[n].height != max(hl, hr) + 1:
        return NIL
    return max(hl, hr) + 1
