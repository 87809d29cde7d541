"""core/cap.py under CPython and compiled for the host: capability rules, errors, revocation by versioning."""

from __future__ import annotations

import pytest
from core_loader import SMALL, WAYS, board_constants, load
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

OK, ERR_INVALID_SLOT, ERR_EMPTY_SLOT, ERR_STALE, ERR_WRONG_KIND, ERR_RIGHTS, ERR_INVALID_ARG = 0, 1, 2, 3, 4, 5, 6
ERR_SLOT_FULL = 10
READ, WRITE, GRANT, EXEC, DESTROY, ALL = 1, 2, 4, 8, 16, 31
PROCESS, THREAD, ENDPOINT, NOTIFICATION, FRAME = 1, 2, 3, 4, 5
NO_SLOT = 0xFFFF_FFFF
PROCS, SLOTS = SMALL["MAX_PROCESSES"], SMALL["CAP_SLOTS"]


@pytest.fixture(scope="module", params=WAYS)
def core(request):
    return load(request.param, "cap")


@pytest.fixture
def k(core):
    core.objects.reset()
    core.cap.reset()
    return core


def new(k, kind, proc, slot, rights=ALL, badge=0):
    """Allocate an object of ``kind`` and put a capability to it in (proc, slot); return its index."""
    i = k.objects.alloc(kind)
    assert k.cap.insert(proc, slot, kind, rights, i, k.objects.generation(kind, i), badge) == OK
    return i


def test_insert_and_lookup(k):
    c = k.cap
    ep = new(k, ENDPOINT, 0, 2, READ | WRITE, badge=7)
    assert c.lookup(0, 2, ENDPOINT, READ) == OK
    assert c.lookup(0, 2, 0, READ | WRITE) == OK  # KIND_NULL: any kind
    assert (c.kind_of(0, 2), c.rights_of(0, 2), c.index_of(0, 2), c.badge_of(0, 2)) == (ENDPOINT, 3, ep, 7)
    assert c.gen_of(0, 2) == k.objects.generation(ENDPOINT, ep)
    assert c.lookup(0, 2, NOTIFICATION, READ) == ERR_WRONG_KIND
    assert c.lookup(0, 2, ENDPOINT, GRANT) == ERR_RIGHTS
    assert c.lookup(0, 2, ENDPOINT, READ | GRANT) == ERR_RIGHTS
    assert c.lookup(0, 3, ENDPOINT, READ) == ERR_EMPTY_SLOT
    assert c.lookup(1, 2, ENDPOINT, READ) == ERR_EMPTY_SLOT  # tables are per process
    assert c.lookup(0, SLOTS, ENDPOINT, READ) == ERR_INVALID_SLOT
    assert c.lookup(PROCS, 0, ENDPOINT, READ) == ERR_INVALID_SLOT
    assert c.lookup(0, 0xFFFF_FFFF, 0, 0) == ERR_INVALID_SLOT
    assert c.check() == 0


def test_insert_errors(k):
    c = k.cap
    i = k.objects.alloc(FRAME)
    g = k.objects.generation(FRAME, i)
    assert c.insert(0, SLOTS, FRAME, ALL, i, g, 0) == ERR_INVALID_SLOT
    assert c.insert(PROCS, 0, FRAME, ALL, i, g, 0) == ERR_INVALID_SLOT
    assert c.insert(0, 0, 0, ALL, i, g, 0) == ERR_INVALID_ARG
    assert c.insert(0, 0, 11, ALL, i, g, 0) == ERR_INVALID_ARG
    assert c.insert(0, 0, FRAME, 32, i, g, 0) == ERR_INVALID_ARG
    assert c.insert(0, 0, FRAME, ALL, i, g + 1, 0) == ERR_STALE
    assert c.insert(0, 0, FRAME, ALL, i, 0, 0) == ERR_STALE
    assert c.insert(0, 0, THREAD, ALL, i, g, 0) == ERR_STALE  # no such live thread
    assert c.insert(0, 0, FRAME, ALL, i, g, 0) == OK
    assert c.insert(0, 0, FRAME, ALL, i, g, 0) == ERR_SLOT_FULL
    assert c.check() == 0


def test_accessors_of_empty_and_bad_slots_read_as_the_empty_capability(k):
    for proc, slot in ((0, 0), (0, SLOTS), (PROCS, 0)):
        c = k.cap
        assert (c.kind_of(proc, slot), c.rights_of(proc, slot), c.index_of(proc, slot),
                c.gen_of(proc, slot), c.badge_of(proc, slot)) == (0, 0, 0, 0, 0)


def test_a_stale_capability_never_reaches_the_reused_slot(k):
    c, o = k.cap, k.objects
    t = new(k, THREAD, 0, 0)
    assert c.copy(0, 0, 1, 4) == OK
    o.free(THREAD, t)
    assert c.lookup(0, 0, THREAD, 0) == ERR_STALE
    assert c.lookup(1, 4, THREAD, 0) == ERR_STALE  # every copy is revoked
    t2 = new(k, THREAD, 0, 1)
    assert t2 == t  # the same pool slot, a new generation
    assert c.lookup(0, 1, THREAD, ALL) == OK
    assert c.lookup(0, 0, THREAD, 0) == ERR_STALE
    assert c.lookup(1, 4, THREAD, 0) == ERR_STALE
    # A stale capability cannot be copied or minted (that would make a new reference) ...
    assert c.copy(0, 0, 0, 2) == ERR_STALE
    assert c.mint(0, 0, 2, READ, 0) == ERR_STALE
    assert c.give(0, 0, 1, 0) == ERR_STALE
    # ... but it can be moved and deleted.
    assert c.move(0, 0, 0, 3) == OK
    assert c.lookup(0, 3, THREAD, 0) == ERR_STALE
    assert c.delete(0, 3) == OK
    assert c.check() == 0


def test_copy(k):
    c = k.cap
    f = new(k, FRAME, 0, 0, READ | EXEC, badge=3)
    assert c.copy(0, 0, 2, 5) == OK
    assert (c.kind_of(2, 5), c.rights_of(2, 5), c.index_of(2, 5), c.badge_of(2, 5)) == (FRAME, READ | EXEC, f, 3)
    assert c.copy(0, 0, 2, 5) == ERR_SLOT_FULL
    assert c.copy(0, 0, 0, 0) == ERR_SLOT_FULL
    assert c.copy(0, 1, 0, 2) == ERR_EMPTY_SLOT
    assert c.copy(0, SLOTS, 0, 2) == ERR_INVALID_SLOT
    assert c.copy(0, 0, PROCS, 2) == ERR_INVALID_SLOT
    assert c.copy(0, 0, 0, SLOTS) == ERR_INVALID_SLOT
    assert c.check() == 0


def test_give_needs_grant(k):
    c = k.cap
    new(k, ENDPOINT, 0, 0, READ | WRITE)
    new(k, ENDPOINT, 0, 1, READ | GRANT)
    assert c.give(0, 0, 1, 0) == ERR_RIGHTS
    assert c.kind_of(1, 0) == 0
    assert c.give(0, 1, 1, 0) == OK
    assert c.rights_of(1, 0) == READ | GRANT
    assert c.give(0, 1, 1, 0) == ERR_SLOT_FULL
    assert c.give(0, 2, 1, 1) == ERR_EMPTY_SLOT


def test_mint_only_shrinks_rights_and_badges_once(k):
    c = k.cap
    new(k, ENDPOINT, 0, 0, READ | WRITE | GRANT)
    assert c.mint(0, 0, 1, WRITE | EXEC, 0) == OK
    assert c.rights_of(0, 1) == WRITE  # EXEC was not there to keep
    assert c.badge_of(0, 1) == 0
    assert c.mint(0, 1, 2, ALL, 0xDEAD_BEEF_0000_0001) == OK
    assert c.rights_of(0, 2) == WRITE and c.badge_of(0, 2) == 0xDEAD_BEEF_0000_0001
    assert c.mint(0, 2, 3, ALL, 5) == ERR_INVALID_ARG  # a badge is never replaced
    assert c.mint(0, 2, 3, ALL, 0) == OK               # badge 0 keeps the source's
    assert c.badge_of(0, 3) == 0xDEAD_BEEF_0000_0001 and c.rights_of(0, 3) == WRITE
    assert c.mint(0, 0, 4, 32, 0) == ERR_INVALID_ARG
    assert c.mint(0, 0, 3, READ, 0) == ERR_SLOT_FULL
    assert c.mint(0, 5, 4, READ, 0) == ERR_EMPTY_SLOT
    assert c.mint(0, 0, SLOTS, READ, 0) == ERR_INVALID_SLOT
    assert c.mint(PROCS, 0, 1, READ, 0) == ERR_INVALID_SLOT
    assert c.rights_of(0, 0) == READ | WRITE | GRANT  # the source is unchanged
    assert c.check() == 0


def test_move_and_delete(k):
    c = k.cap
    n = new(k, NOTIFICATION, 1, 0, READ, badge=9)
    assert c.move(1, 0, 1, 0) == ERR_SLOT_FULL
    assert c.move(1, 0, 2, 3) == OK
    assert c.kind_of(1, 0) == 0 and c.lookup(1, 0, 0, 0) == ERR_EMPTY_SLOT
    assert (c.kind_of(2, 3), c.index_of(2, 3), c.badge_of(2, 3), c.rights_of(2, 3)) == (NOTIFICATION, n, 9, READ)
    assert c.move(1, 0, 2, 4) == ERR_EMPTY_SLOT
    assert c.move(2, 3, 2, SLOTS) == ERR_INVALID_SLOT
    assert c.move(PROCS, 0, 2, 0) == ERR_INVALID_SLOT
    assert c.delete(2, 3) == OK
    assert c.delete(2, 3) == ERR_EMPTY_SLOT
    assert c.delete(2, SLOTS) == ERR_INVALID_SLOT
    assert k.objects.is_live(NOTIFICATION, n, k.objects.generation(NOTIFICATION, n))  # the object lives on
    assert c.check() == 0


def test_find_free_and_clear_table(k):
    c = k.cap
    for s in range(SLOTS):
        assert c.find_free(0) == s
        new(k, ENDPOINT, 0, s) if s == 0 else c.copy(0, 0, 0, s)
    assert c.find_free(0) == NO_SLOT
    assert c.find_free(PROCS) == NO_SLOT
    c.clear_table(0)
    assert c.find_free(0) == 0
    assert all(c.kind_of(0, s) == 0 for s in range(SLOTS))
    assert c.check() == 0


@pytest.mark.parametrize("way", WAYS)
def test_the_tables_of_a_real_board(way):
    consts = board_constants()
    k = load(way, "cap", consts)
    k.objects.reset()
    k.cap.reset()
    procs, slots = consts["MAX_PROCESSES"], consts["CAP_SLOTS"]
    new(k, ENDPOINT, procs - 1, slots - 1)
    assert k.cap.lookup(procs - 1, slots - 1, ENDPOINT, ALL) == OK
    assert k.cap.lookup(procs - 1, slots, ENDPOINT, 0) == ERR_INVALID_SLOT
    assert k.cap.lookup(procs, 0, ENDPOINT, 0) == ERR_INVALID_SLOT
    assert k.cap.find_free(procs - 1) == 0
    assert k.cap.check() == 0


def test_check_counts_a_capability_that_could_come_back_to_life():
    """CPython only: forge table entries check() must reject."""
    k = load("python", "cap")
    k.objects.reset()
    k.cap.reset()
    t = new(k, THREAD, 0, 0)
    assert k.cap.check() == 0
    k.cap._caps[k.cap._at(0, 0)].generation = 2  # from the future: would match t's next life
    assert k.cap.check() == 1
    k.cap._caps[k.cap._at(0, 0)].generation = 1
    k.objects.free(THREAD, t)
    assert k.cap.check() == 0
    k.cap._caps[k.cap._at(0, 1)].badge = 1  # an empty slot with a field set
    assert k.cap.check() == 1


class CapMachine(RuleBasedStateMachine):
    """Capabilities against a model that names objects by a token per allocation, not by generation.

    A model capability is live exactly while the allocation it was made for is;
    the implementation must agree using generations alone, although the LIFO
    free list hands the same pool slot straight back.
    """

    k = None
    KINDS = (THREAD, ENDPOINT, FRAME)

    @initialize()
    def start(self):
        self.k.objects.reset()
        self.k.cap.reset()
        self.tokens = 0
        self.live: dict[int, tuple[int, int]] = {}        # token -> (kind, index)
        self.caps: dict[tuple[int, int], tuple] = {}      # (proc, slot) -> (kind, rights, token, badge)

    places = st.tuples(st.integers(0, PROCS - 1), st.integers(0, SLOTS))  # SLOTS itself: out of range

    def expect_source(self, at):
        if at[1] >= SLOTS:
            return ERR_INVALID_SLOT
        if at not in self.caps:
            return ERR_EMPTY_SLOT
        return OK if self.caps[at][2] in self.live else ERR_STALE

    def expect_destination(self, at):
        if at[1] >= SLOTS:
            return ERR_INVALID_SLOT
        return ERR_SLOT_FULL if at in self.caps else OK

    @rule(kind=st.sampled_from(KINDS), at=places, rights=st.integers(0, ALL), badge=st.sampled_from([0, 1, 2**64 - 1]))
    def create(self, kind, at, rights, badge):
        i = self.k.objects.alloc(kind)
        if i == 0xFFFF_FFFF:
            return
        err = self.k.cap.insert(*at, kind, rights, i, self.k.objects.generation(kind, i), badge)
        self.tokens += 1
        self.live[self.tokens] = (kind, i)
        assert err == self.expect_destination(at)
        if err == OK:
            self.caps[at] = (kind, rights, self.tokens, badge)

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def destroy(self, data):
        token = data.draw(st.sampled_from(sorted(self.live)))
        self.k.objects.free(*self.live.pop(token))

    @rule(src=places, dst=places)
    def copy(self, src, dst):
        want = self.expect_source(src)
        if want == OK:
            want = self.expect_destination(dst)
        assert self.k.cap.copy(*src, *dst) == want
        if want == OK:
            self.caps[dst] = self.caps[src]

    @rule(proc=st.integers(0, PROCS - 1), src=st.integers(0, SLOTS), dst=st.integers(0, SLOTS),
          mask=st.integers(0, ALL), badge=st.sampled_from([0, 0, 5, 2**63]))
    def mint(self, proc, src, dst, mask, badge):
        want = self.expect_source((proc, src))
        if want == OK:
            want = self.expect_destination((proc, dst))
        if want == OK and badge and self.caps[(proc, src)][3]:
            want = ERR_INVALID_ARG
        assert self.k.cap.mint(proc, src, dst, mask, badge) == want
        if want == OK:
            kind, rights, token, old = self.caps[(proc, src)]
            self.caps[(proc, dst)] = (kind, rights & mask, token, badge or old)

    @rule(src=places, dst=places)
    def move(self, src, dst):
        want = ERR_INVALID_SLOT if src[1] >= SLOTS else OK if src in self.caps else ERR_EMPTY_SLOT
        if want == OK:
            want = self.expect_destination(dst)
        assert self.k.cap.move(*src, *dst) == want
        if want == OK:
            self.caps[dst] = self.caps.pop(src)

    @rule(at=places)
    def delete(self, at):
        want = ERR_INVALID_SLOT if at[1] >= SLOTS else OK if at in self.caps else ERR_EMPTY_SLOT
        assert self.k.cap.delete(*at) == want
        self.caps.pop(at, None)

    @rule(at=places, kind=st.sampled_from((0, *KINDS)), needed=st.integers(0, ALL))
    def lookup(self, at, kind, needed):
        want = self.expect_source(at)
        if want == OK:
            have_kind, rights, token, badge = self.caps[at]
            if kind and kind != have_kind:
                want = ERR_WRONG_KIND
            elif rights & needed != needed:
                want = ERR_RIGHTS
        assert self.k.cap.lookup(*at, kind, needed) == want
        if want == OK:
            assert (self.k.cap.kind_of(*at), self.k.cap.rights_of(*at), self.k.cap.badge_of(*at)) == \
                (have_kind, rights, badge)
            assert self.k.cap.index_of(*at) == self.live[token][1]

    @invariant()
    def consistent(self):
        assert self.k.cap.check() == 0
        assert self.k.objects.check() == 0


@pytest.mark.parametrize("way", WAYS)
def test_capability_state_machine(way):
    CapMachine.k = load(way, "cap")
    runner = CapMachine.TestCase
    runner.settings = settings(max_examples=80, stateful_step_count=50, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])
    runner().runTest()
