"""kernel_src/user/lib/heap.py's granule map under CPython (kcc.load_python), against a model of first fit."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kcc import load_python

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
HEAP = KERNEL_SRC / "user" / "lib" / "heap.py"


def _heap():
    return load_python(HEAP, root=KERNEL_SRC)


def test_reserve_is_first_fit_and_release_frees_the_whole_block() -> None:
    h = _heap()
    assert h.reserve(3) == 0
    assert h.reserve(2) == 3
    assert h.release(0) == 3
    assert h.reserve(4) == 5            # the hole at 0..2 is too small
    assert h.reserve(3) == 0            # ... but fits three
    assert h.free_granules() == h.GRANULES - 9


def test_bad_requests() -> None:
    h = _heap()
    assert h.reserve(0) == h.NONE
    assert h.reserve(h.GRANULES + 1) == h.NONE
    assert h.reserve(h.GRANULES) == 0
    assert h.reserve(1) == h.NONE
    assert h.release(1) == 0            # inside a block, not its start
    assert h.release(h.GRANULES) == 0   # past the map
    assert h.release(0) == h.GRANULES
    assert h.release(0) == 0            # freed twice


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=900)), max_size=40))
def test_matches_a_first_fit_model(ops: list[tuple[bool, int]]) -> None:
    h = _heap()
    blocks: dict[int, int] = {}          # first granule -> length
    for is_alloc, n in ops:
        if is_alloc or not blocks:
            used = sorted(blocks.items())
            expected, at = h.NONE, 0
            for start, length in [*used, (h.GRANULES, 0)]:
                if start - at >= n:
                    expected = at
                    break
                at = start + length
            got = h.reserve(n)
            assert got == expected
            if got != h.NONE:
                blocks[got] = n
        else:
            first = sorted(blocks)[n % len(blocks)]
            assert h.release(first) == blocks.pop(first)
        assert h.free_granules() == h.GRANULES - sum(blocks.values())
