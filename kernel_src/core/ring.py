"""Each endpoint's ring of short asynchronous messages: a fixed number of slots, FIFO, no allocation.

OP_EP_POST queues a message (badge, label and four words, 48 bytes) here
when no receiver waits, so the sender goes on at once; a receive takes ring
messages before any blocked sender's. The ring holds board.EP_RING_SLOTS
messages per endpoint (MAX_ENDPOINTS * EP_RING_SLOTS * 48 bytes in all, in
.bss): short messages are the one thing the kernel stores, payloads never
are (core.ipc copies them from address space to address space). Every
operation is O(1) except the copy of the five words.
"""

import board
from kcc.lang import *

from arch import context

SLOTS: Final = board.EP_RING_SLOTS


@struct
class Message:
    """One queued message: the badge of the capability it was posted through, its label and words."""

    badge: u64
    label: usize
    words: Array[usize, 4]


@struct
class Ring:
    """The FIFO of one endpoint: ``count`` messages from index ``head`` on (modulo SLOTS)."""

    messages: Array[Message, SLOTS]
    head: u32
    count: u32


_rings: Array[Ring, board.MAX_ENDPOINTS]


def reset(ep: u32) -> None:
    """Empty endpoint ``ep``'s ring (a fresh or destroyed endpoint)."""
    _rings[ep].head = 0
    _rings[ep].count = 0


def count(ep: u32) -> u32:
    """Return how many messages wait in endpoint ``ep``'s ring."""
    return _rings[ep].count


def full(ep: u32) -> bool:
    """Return True when endpoint ``ep``'s ring has no free slot."""
    return _rings[ep].count == SLOTS


def push(ep: u32, sender: u32, badge: u64, label: usize) -> None:
    """Queue ``label`` and the sender's arguments 1..4 (w0..w3) with ``badge``; the ring must not be full."""
    r = addr(_rings[ep])
    m = addr(r.messages[(r.head + r.count) % SLOTS])
    m.badge = badge
    m.label = label
    for i in range(u32(4)):
        m.words[i] = context.syscall_arg(sender, 1 + i)
    r.count += 1


def pop(ep: u32, receiver: u32) -> None:
    """Move the oldest message into ``receiver``'s results (badge, label, w0..w3); the ring must not be empty."""
    r = addr(_rings[ep])
    m = addr(r.messages[r.head])
    context.set_result(receiver, 0, usize(m.badge))
    context.set_result(receiver, 1, m.label)
    for i in range(u32(4)):
        context.set_result(receiver, 2 + i, m.words[i])
    r.head = (r.head + 1) % SLOTS
    r.count -= 1
