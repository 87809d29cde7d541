"""core/objects.py under CPython and compiled for the host: pools, versioned identities, retirement, check()."""

from __future__ import annotations

import pytest
from core_loader import SMALL, WAYS, board_constants, load
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kcc.lang import Panic

NO_INDEX = 0xFFFF_FFFF
KINDS = range(1, 11)  # KIND_PROCESS .. KIND_PORTAL
CAPACITY = {1: SMALL["MAX_PROCESSES"], 2: SMALL["MAX_THREADS"], 3: SMALL["MAX_ENDPOINTS"],
            4: SMALL["MAX_NOTIFICATIONS"], 5: SMALL["MAX_FRAMES"], 6: 1, 7: SMALL["MAX_IRQS"],
            8: SMALL["MAX_DEVICES"], 9: 1, 10: SMALL["MAX_PORTALS"]}


@pytest.fixture(scope="module", params=WAYS)
def objects(request):
    return load(request.param, "objects").objects


@pytest.fixture
def o(objects):
    objects.reset()
    return objects


def test_pools_have_their_board_sizes(o):
    for kind in KINDS:
        assert o.capacity(kind) == CAPACITY[kind]
        assert o.free_count(kind) == CAPACITY[kind]
    for kind in (0, 11, 255, NO_INDEX):
        assert o.capacity(kind) == 0
        assert o.free_count(kind) == 0
        assert o.alloc(kind) == NO_INDEX
    assert o.check() == 0


def test_exhaust_and_refill_every_pool(o):
    for kind in KINDS:
        got = [o.alloc(kind) for _ in range(CAPACITY[kind])]
        assert sorted(got) == list(range(CAPACITY[kind]))
        assert o.alloc(kind) == NO_INDEX
        assert o.free_count(kind) == 0
        assert o.check() == 0
        for i in got:
            o.free(kind, i)
        assert o.free_count(kind) == CAPACITY[kind]
    assert o.check() == 0


def test_free_makes_the_identity_stale_and_reuse_gets_a_new_one(o):
    t = o.alloc(2)
    g = o.generation(2, t)
    assert g == 1
    assert o.is_live(2, t, g) and o.is_allocated(2, t)
    o.free(2, t)
    assert not o.is_live(2, t, g)
    again = o.alloc(2)
    assert again == t  # LIFO free list: the slot comes straight back
    assert o.generation(2, again) == g + 1
    assert o.is_live(2, again, g + 1)
    assert not o.is_live(2, again, g)
    assert not o.is_live(3, again, g + 1)  # same index and generation, other kind


def test_generation_zero_and_bad_arguments_are_never_live(o):
    i = o.alloc(1)
    assert not o.is_live(1, i, 0)
    assert not o.is_live(0, 0, 1)
    assert not o.is_live(1, CAPACITY[1], 1)
    assert not o.is_live(1, NO_INDEX, 1)
    assert o.generation(1, CAPACITY[1]) == 0
    assert o.generation(42, 0) == 0
    assert not o.is_allocated(1, NO_INDEX)


def test_owner(o):
    p = o.alloc(1)
    f = o.alloc(5)
    assert o.owner(5, f) == NO_INDEX
    o.set_owner(5, f, p)
    assert o.owner(5, f) == p
    o.free(5, f)
    assert o.owner(5, f) == NO_INDEX
    f2 = o.alloc(5)
    assert o.owner(5, f2) == NO_INDEX  # a reused slot does not inherit the old owner


def test_next_owned_walks_a_process_objects(o):
    frames = [o.alloc(5) for _ in range(5)]
    for i in frames[1::2]:
        o.set_owner(5, i, 2)
    o.set_owner(5, frames[0], 1)
    found = []
    i = o.next_owned(5, 2, 0)
    while i != NO_INDEX:
        found.append(i)
        i = o.next_owned(5, 2, i + 1)
    assert found == frames[1::2]
    assert o.next_owned(5, 0, 0) == NO_INDEX
    assert o.next_owned(0, 2, 0) == NO_INDEX
    assert o.next_owned(5, 2, CAPACITY[5]) == NO_INDEX


def test_misuse_is_a_kernel_panic(o):
    i = o.alloc(3)
    o.free(3, i)
    with pytest.raises(Panic):
        o.free(3, i)  # double free
    with pytest.raises(Panic):
        o.free(3, CAPACITY[3])
    with pytest.raises(Panic):
        o.set_owner(3, i, 0)  # not in use
    with pytest.raises(Panic):
        o.owner(0, 0)


@pytest.mark.parametrize("way", WAYS)
def test_the_pools_of_a_real_board(way):
    consts = board_constants()
    o = load(way, "objects", consts).objects
    o.reset()
    sizes = {1: "MAX_PROCESSES", 2: "MAX_THREADS", 3: "MAX_ENDPOINTS", 4: "MAX_NOTIFICATIONS", 5: "MAX_FRAMES",
             7: "MAX_IRQS", 8: "MAX_DEVICES", 10: "MAX_PORTALS"}
    for kind in KINDS:
        n = consts[sizes[kind]] if kind in sizes else 1
        assert o.capacity(kind) == n
        assert len({o.alloc(kind) for _ in range(n)}) == n
        assert o.alloc(kind) == NO_INDEX
    assert o.check() == 0


def test_a_slot_whose_generation_would_wrap_is_retired():
    """CPython only: it sets a slot's generation to the last one instead of freeing it 2**32 times."""
    m = load("python", "objects").objects
    m.reset()
    i = m.alloc(4)
    m._slots[m._base(4) + i].generation = 0xFFFF_FFFF
    assert m.is_live(4, i, 0xFFFF_FFFF)
    m.free(4, i)
    assert m.is_retired(4, i) and not m.is_allocated(4, i)
    assert not m.is_live(4, i, 0xFFFF_FFFF)
    assert m.retired_count(4) == 1
    assert m.free_count(4) == CAPACITY[4] - 1
    got = [m.alloc(4) for _ in range(CAPACITY[4] - 1)]
    assert i not in got
    assert m.alloc(4) == NO_INDEX
    assert m.check() == 0
    m.reset()
    assert m.free_count(4) == CAPACITY[4] and m.retired_count(4) == 0 and m.generation(4, i) == 1


def test_check_counts_corruption():
    """CPython only: corrupt the pool's state behind its back; check() must notice each time."""
    m = load("python", "objects").objects
    m.reset()
    i = m.alloc(2)
    assert m.check() == 0
    m._free_count[2] += 1
    assert m.check() > 0
    m._free_count[2] -= 1
    m._slots[m._base(2) + i].generation = 0
    assert m.check() > 0
    m._slots[m._base(2) + i].generation = 1
    j = m.alloc(2)
    m._slots[m._base(2) + j].next_free = m._free_head[2]  # a used slot reachable from the free list
    m._free_head[2] = j
    assert m.check() > 0


class PoolMachine(RuleBasedStateMachine):
    """A model of every pool: which identities are live, and every identity ever handed out."""

    o = None

    @initialize()
    def start(self):
        self.o.reset()
        self.live: dict[int, dict[int, int]] = {k: {} for k in KINDS}   # kind -> index -> generation
        self.issued: set[tuple[int, int, int]] = set()
        self.dead: set[tuple[int, int, int]] = set()
        self.owners: dict[tuple[int, int], int] = {}  # (kind, index) -> owning process

    @rule(kind=st.sampled_from(list(KINDS)), owner=st.integers(0, SMALL["MAX_PROCESSES"] - 1))
    def alloc(self, kind, owner):
        i = self.o.alloc(kind)
        if len(self.live[kind]) == CAPACITY[kind]:
            assert i == NO_INDEX
            return
        assert i != NO_INDEX and i not in self.live[kind]
        gen = self.o.generation(kind, i)
        ident = (kind, i, gen)
        assert gen != 0
        assert ident not in self.issued, "an identity was handed out twice"
        self.issued.add(ident)
        self.live[kind][i] = gen
        self.o.set_owner(kind, i, owner)
        self.owners[(kind, i)] = owner

    @precondition(lambda self: any(self.live.values()))
    @rule(data=st.data())
    def free(self, data):
        kind = data.draw(st.sampled_from([k for k in KINDS if self.live[k]]))
        i = data.draw(st.sampled_from(sorted(self.live[kind])))
        gen = self.live[kind].pop(i)
        self.o.free(kind, i)
        self.dead.add((kind, i, gen))
        del self.owners[(kind, i)]

    @invariant()
    def identities_match_the_model(self):
        for kind in KINDS:
            assert self.o.free_count(kind) == CAPACITY[kind] - len(self.live[kind])
            for i, gen in self.live[kind].items():
                assert self.o.is_live(kind, i, gen)
        for kind, i, gen in self.dead:
            assert not self.o.is_live(kind, i, gen)
        assert self.o.check() == 0

    @invariant()
    def owners_match_the_model(self):
        for kind in KINDS:
            for proc in range(SMALL["MAX_PROCESSES"]):
                owned, i = [], self.o.next_owned(kind, proc, 0)
                while i != NO_INDEX:
                    owned.append(i)
                    i = self.o.next_owned(kind, proc, i + 1)
                assert owned == sorted(i for (k, i), p in self.owners.items() if k == kind and p == proc)


@pytest.mark.parametrize("way", WAYS)
def test_pool_state_machine(way):
    PoolMachine.o = load(way, "objects").objects
    runner = PoolMachine.TestCase
    # CPython is about 20 times slower than the compiled module: fewer examples there.
    runner.settings = settings(max_examples=30 if way == "python" else 60, stateful_step_count=40, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])
    runner().runTest()
