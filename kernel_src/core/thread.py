"""Threads: the thread control blocks (state, process, fault record, what a blocked thread waits on).

A thread's user registers are the architecture's (arch.context, indexed by
the same thread index); its scheduling state (priority, budget, queues) is
core.sched's. This module holds the rest and the state machine of
docs/kernel.md ("Threads"): INACTIVE -> READY <-> BLOCKED, STOPPED, FAULTED,
EXITED, and FREE when the pool slot holds no thread. Only the running thread
or a READY thread in sched's queues is READY.
"""

import board
from kcc.lang import *

from lib import abi

FREE: Final[u8] = 0xFF          # the slot holds no thread (not an abi state)

# What a BLOCKED thread waits for (the queue it is in, besides sched's timeout queue).
WAIT_NONE: Final[u8] = 0
WAIT_SLEEP: Final[u8] = 1       # OP_SLEEP: only the timeout queue
WAIT_RECV: Final[u8] = 2        # in an endpoint's receive queue
WAIT_SEND: Final[u8] = 3        # in an endpoint's send queue with a message in its registers
WAIT_NTFN: Final[u8] = 4        # in a notification's wait queue
WAIT_FAULT: Final[u8] = 5       # FAULTED, its fault message queued at its fault endpoint
WAIT_CALL: Final[u8] = 6        # in an endpoint's send queue with a call (it waits for the reply after)
WAIT_REPLY: Final[u8] = 7       # its call was received: waits for the receiver's OP_REPLY (in no queue)
WAIT_PAYLOAD: Final[u8] = 8     # in an endpoint's send queue with a payload
WAIT_ACCEPT: Final[u8] = 9      # its payload was announced: waits for OP_ACCEPT or OP_REFUSE (in no queue)
WAIT_TSEND: Final[u8] = 10      # in another thread's sender queue with a thread-addressed message (OP_THREAD_SEND)
WAIT_TRECV: Final[u8] = 11      # OP_THREAD_RECV: waits for a thread-addressed message (in no queue)

NO_THREAD: Final[u32] = 0xFFFF_FFFF


@struct
class Queue:
    """A FIFO of threads linked through Thread.next (core.ipc's wait queues)."""

    head: u32
    tail: u32


@struct
class Thread:
    """One thread control block (besides its registers and scheduling state)."""

    fault_badge: u64        # badge of the fault endpoint capability (the receiver's trust)
    exit_code: usize
    fault_address: usize
    fault_pc: usize
    send_badge: u64         # WAIT_SEND: the badge of the capability the message was sent through
    process: u32            # owning process index
    fault_ep: u32           # fault endpoint index, or NO_THREAD when none
    fault_ep_gen: u32
    wait_object: u32        # endpoint or notification index while in its queue
    next: u32               # link in that queue
    fault_kind: u32         # abi.FAULT_*
    reply_to: u32           # the caller this thread owes a reply (its one-shot reply right), or NO_THREAD
    reply_gen: u32          # the caller's generation, so a reply never reaches a later thread in its slot
    recv_slot: u32          # while receiving: where a transferred capability goes (abi.NO_CAP: nowhere)
    payload_from: u32       # the sender whose payload was announced to this thread, or NO_THREAD
    payload_gen: u32
    home: u32               # the process the thread belongs to; ``process`` differs during a migrated call
    depth: u32              # migrated calls the thread is in (core.migrate)
    senders: Queue          # threads blocked in OP_THREAD_SEND to this one, first come first
    state: u8               # abi.STATE_* or FREE
    wait: u8                # WAIT_*


_threads: Array[Thread, board.MAX_THREADS]


def reset() -> None:
    """Mark every thread slot FREE. O(MAX_THREADS)."""
    for t in range(u32(board.MAX_THREADS)):
        _threads[t].state = FREE


def setup(t: u32, process: u32) -> None:
    """Make slot ``t`` a new INACTIVE thread of ``process`` with no fault endpoint and nothing recorded."""
    th = addr(_threads[t])
    th.process = process
    th.home = process
    th.depth = 0
    th.state = abi.STATE_INACTIVE
    th.wait = WAIT_NONE
    th.exit_code = 0
    th.fault_kind = abi.FAULT_NONE
    th.fault_address = 0
    th.fault_pc = 0
    th.fault_ep = NO_THREAD
    th.fault_ep_gen = 0
    th.fault_badge = 0
    th.next = NO_THREAD
    th.wait_object = NO_THREAD
    th.send_badge = 0
    th.reply_to = NO_THREAD
    th.reply_gen = 0
    th.recv_slot = NO_THREAD
    th.payload_from = NO_THREAD
    th.payload_gen = 0
    th.senders.head = NO_THREAD
    th.senders.tail = NO_THREAD


@inline
def get(t: u32) -> Ptr[Thread]:
    """Return thread ``t``'s control block (``t`` must be a valid index)."""
    return addr(_threads[t])


@inline
def state(t: u32) -> u8:
    """Return thread ``t``'s state (abi.STATE_* or FREE)."""
    return _threads[t].state


@inline
def process_of(t: u32) -> u32:
    """Return the index of the process whose space and capabilities thread ``t`` uses now (the callee's while migrated)."""
    return _threads[t].process


@inline
def home_of(t: u32) -> u32:
    """Return the index of the process thread ``t`` belongs to (where it was created)."""
    return _threads[t].home


def count_in(process: u32) -> u32:
    """Return how many threads ``process`` has (any state but FREE). O(MAX_THREADS)."""
    n: u32 = 0
    for t in range(u32(board.MAX_THREADS)):
        if _threads[t].state != FREE and _threads[t].home == process:
            n += 1
    return n
