"""kernel_src/user/lib/pipe.py's ring arithmetic under CPython (kcc.load_python): a stream through the ring."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kcc import load_python

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
PIPE = KERNEL_SRC / "user" / "lib" / "pipe.py"


def _pipe():
    return load_python(PIPE, root=KERNEL_SRC)


def test_counters() -> None:
    p = _pipe()
    assert p.SIZE == 4096 - p.HEADER
    assert p.fill(0, 0) == 0 and p.room(0, 0) == p.SIZE
    assert p.fill(p.SIZE, 0) == p.SIZE and p.room(p.SIZE, 0) == 0
    big = 10**12                        # counters far past the ring: only their difference matters
    assert p.room(big + 5, big) == p.SIZE - 5
    assert p.span(0, p.SIZE + 7) == p.SIZE
    assert p.span(p.SIZE - 3, 10) == 3  # up to the ring's end, the rest from its start
    assert p.span(2 * p.SIZE + 1, 10) == 10


def _copy_in(p, ring: bytearray, head: int, data: bytes) -> None:
    """What pipe.put does with the bytes, on a Python ring."""
    first = p.span(head, len(data))
    at = head % p.SIZE
    ring[at:at + first] = data[:first]
    ring[0:len(data) - first] = data[first:]


def _copy_out(p, ring: bytearray, tail: int, n: int) -> bytes:
    """What pipe.read does, on a Python ring."""
    first = p.span(tail, n)
    at = tail % p.SIZE
    return bytes(ring[at:at + first]) + bytes(ring[0:n - first])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5000)), min_size=1, max_size=60))
def test_a_stream_goes_through_unchanged(steps: list[tuple[bool, int]]) -> None:
    p = _pipe()
    ring = bytearray(p.SIZE)
    sent = bytes((i * 7 + i // 251) & 0xFF for i in range(sum(n for w, n in steps if w)))
    head = tail = 0
    got = bytearray()
    for write, n in steps:
        if write:
            k = min(n, p.room(head, tail), len(sent) - head)
            _copy_in(p, ring, head, sent[head:head + k])
            head += k
        else:
            k = min(n, p.fill(head, tail))
            got += _copy_out(p, ring, tail, k)
            tail += k
        assert 0 <= p.fill(head, tail) <= p.SIZE
    got += _copy_out(p, ring, tail, p.fill(head, tail))
    assert bytes(got) == sent[:head]
