"""kernel_src/user/lib's pure data structures (dlist, avl, hashmap's integer maps, arena.fit) against Python models.

Each runs under CPython (kcc.load_python) and compiled for the host
(kcc.load_host); hypothesis drives random operation sequences and checks
every result against a list, a sorted dict or a dict.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcc import load_host, load_python

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
LIB = KERNEL_SRC / "user" / "lib"
NIL = 0xFFFF_FFFF
PY = {name: load_python(LIB / f"{name}.py", root=KERNEL_SRC) for name in ("dlist", "avl", "hashmap", "arena")}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = st.integers(min_value=0, max_value=(1 << 64) - 1)
PUT = PY["avl"].Put
SMALL_KEYS = st.integers(min_value=0, max_value=40)          # collisions and repeats are the interesting cases


def _loader(name: str):
    """A fixture: a fresh copy of user/lib/<name>.py per call, under CPython or compiled for the host."""
    @pytest.fixture(params=["python", "host"])
    def load(request: pytest.FixtureRequest):
        if request.param == "python":
            return lambda: load_python(LIB / f"{name}.py", root=KERNEL_SRC)
        return lambda: load_host(LIB / f"{name}.py", root=KERNEL_SRC)
    return load


dlist = _loader("dlist")
avl = _loader("avl")
hashmap = _loader("hashmap")
arena = _loader("arena")


# ---- dlist ----------------------------------------------------------------------------------------

def _items(d, lst: int) -> list[int]:
    """The values of list ``lst`` walked forwards, checked against the backward walk."""
    fwd, n = [], d.first(lst)
    while n != NIL:
        fwd.append(int(d.value(n)))
        n = d.next(lst, n)
    back, n = [], d.last(lst)
    while n != NIL:
        back.append(int(d.value(n)))
        n = d.prev(lst, n)
    assert back == fwd[::-1]
    return fwd


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["back", "front", "after", "remove", "set"]), st.integers(0, 1 << 20)),
                max_size=60))
def test_dlist_matches_a_python_list(dlist, ops: list[tuple[str, int]]) -> None:
    d = dlist()
    lst = d.new()
    model: list[tuple[int, int]] = []            # (node, value)
    for op, v in ops:
        if op == "back" or (op != "front" and not model):
            model.append((int(d.push_back(lst, v)), v))
        elif op == "front":
            model.insert(0, (int(d.push_front(lst, v)), v))
        elif op == "after":
            at = v % len(model)
            model.insert(at + 1, (int(d.insert_after(model[at][0], v)), v))
        elif op == "remove":
            node, _ = model.pop(v % len(model))
            assert d.remove(node)
            assert not d.remove(node)           # freed: no longer an item
        else:
            at = v % len(model)
            assert d.set_value(model[at][0], v + 1)
            model[at] = (model[at][0], v + 1)
        assert _items(d, lst) == [value for _, value in model]
    assert d.length(lst) == len(model)
    assert d.nodes_in_use() == len(model) + 1
    assert d.clear(lst) == len(model)
    assert d.first(lst) == NIL and d.nodes_in_use() == 1
    assert d.delete(lst) and d.nodes_in_use() == 0


def test_dlist_pool_and_bad_handles(dlist) -> None:
    d = dlist()
    a, b = d.new(), d.new()
    assert d.push_back(a, 1) != NIL and d.push_back(b, 2) != NIL
    assert _items(d, a) == [1] and _items(d, b) == [2]        # two lists share the pool, not their items
    assert not d.remove(a)                                    # a head is not an item
    assert d.push_back(d.first(a), 5) == NIL                  # an item is not a list
    assert d.push_back(NIL, 5) == NIL and d.first(12345) == NIL
    while d.push_back(a, 7) != NIL:
        pass
    assert d.nodes_in_use() == PY["dlist"].NODES
    assert d.new() == NIL
    assert d.delete(a) and d.new() != NIL                     # freed nodes are taken again


# ---- avl ------------------------------------------------------------------------------------------

def _in_order(t, tree: int) -> list[tuple[int, int]]:
    """Every (key, value) of ``tree`` through first/after."""
    out, n = [], t.first(tree)
    while n != NIL:
        out.append((int(t.key(n)), int(t.value(n))))
        n = t.after(tree, t.key(n))
    return out


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.one_of(SMALL_KEYS, KEYS), st.integers(0, 1000)), max_size=120))
def test_avl_matches_a_sorted_dict(avl, ops: list[tuple[bool, int, int]]) -> None:
    t = avl()
    tree = t.new()
    model: dict[int, int] = {}
    for is_put, key, value in ops:
        if is_put:
            assert t.put(tree, key, value) == (PUT.REPLACED if key in model else PUT.ADDED)
            model[key] = value
        else:
            assert t.remove(tree, key) == (key in model)
            model.pop(key, None)
        assert t.balanced(tree)
        assert t.contains(tree, key) == (key in model)
        assert t.get(tree, key, 7777) == model.get(key, 7777)
    assert _in_order(t, tree) == sorted(model.items())
    assert t.size(tree) == len(model)
    n = len(model)
    assert t.height(tree) <= 1.45 * (n + 2).bit_length()


def test_avl_sequential_keys_stay_balanced_and_the_pool_is_reused(avl) -> None:
    t = avl()
    nodes = PY["avl"].NODES
    a, b = t.new(), t.new()
    for k in range(nodes):
        assert t.put(a, k, k * 2) == 0                       # Put.ADDED
    assert t.height(a) == nodes.bit_length()                 # 1024 ascending keys: a perfect tree plus one level
    assert t.put(b, 1, 1) == 2                               # Put.FULL: the pool is shared
    assert t.put(a, 5, 9) == 1 and t.get(a, 5, 0) == 9       # Put.REPLACED needs no node
    for k in range(0, nodes, 2):
        assert t.remove(a, k)
    assert t.balanced(a) and t.size(a) == nodes // 2
    assert t.after(a, 0) != NIL and t.key(t.after(a, 0)) == 1
    assert t.after(a, nodes - 1) == NIL
    assert t.put(b, 1, 1) == 0
    assert t.destroy(a) and not t.destroy(a)
    assert t.put(a, 1, 1) == 3                               # Put.NO_TREE
    trees = [t.new() for _ in range(PY["avl"].TREES)]
    assert trees.count(NIL) == 1 and a in trees              # b is still live; a's handle was taken again


# ---- hashmap (integer keys) -----------------------------------------------------------------------

@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["put", "put", "remove"]), st.one_of(SMALL_KEYS, KEYS, st.integers(0, 300)),
                          st.integers(0, 1000)), max_size=200))
def test_hashmap_matches_a_dict(hashmap, ops: list[tuple[str, int, int]]) -> None:
    h = hashmap()
    limit = PY["hashmap"].LIMIT
    m = h.new(0)
    model: dict[int, int] = {}
    for op, key, value in ops:
        if op == "put":
            got = h.put(m, key, value)
            if key in model:
                assert got == 1                               # Put.REPLACED
            elif len(model) == limit:
                assert got == 2                               # Put.FULL
                continue
            else:
                assert got == 0
            model[key] = value
        else:
            assert h.remove(m, key) == (key in model)
            model.pop(key, None)
        assert h.get(m, key, 4242) == model.get(key, 4242)
        assert h.count(m) == len(model)
    for key, value in model.items():
        assert h.contains(m, key) and h.get(m, key, 0) == value


def test_hashmap_churn_past_the_limit_rehashes(hashmap) -> None:
    h = hashmap()
    mod = PY["hashmap"]
    m = h.new(0)
    for round_ in range(10):                                  # ten times the limit in puts and removes
        for k in range(mod.LIMIT):
            assert h.put(m, round_ * 1000 + k, k) == 0
        assert h.put(m, 999_999, 1) == 2
        for k in range(mod.LIMIT):
            assert h.remove(m, round_ * 1000 + k)
        assert h.count(m) == 0
    assert h.new(7) == NIL                                                # no such kind
    others = [h.new(0) for _ in range(mod.MAPS)]
    assert others.count(NIL) == 1
    assert h.put(others[0], 1, 1) == 0 and h.get(m, 1, 5) == 5         # maps do not share entries
    assert h.destroy(m) and h.put(m, 1, 1) == 3                          # Put.BAD_MAP
    assert h.get(NIL, 1, 9) == 9 and not h.remove(NIL, 1)


# ---- arena.fit ------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 5000), st.integers(0, 3000), st.sampled_from([0, 1, 2, 3, 4, 8, 16, 32]), st.integers(0, 5000))
def test_arena_fit(arena, used: int, size: int, align: int, capacity: int) -> None:
    a = arena()
    got = a.fit(used, size, align, capacity)
    at = -(-used // align) * align if align else 0
    if size == 0 or align not in (1, 2, 4, 8, 16) or at + size > capacity:
        assert got == PY["arena"].FULL
    else:
        assert got == at
