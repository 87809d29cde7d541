"""Pipes: a byte ring in a frame shared by one writer and one reader, woken by two notifications.

The frame (one page) starts with a Ring header: ``head`` counts the bytes
ever written (only the writer stores it), ``tail`` the bytes ever read (only
the reader), ``closed`` becomes 1 when the writer is done; the data follows,
byte ``i`` of the stream at ``data[i % SIZE]``. The counters never wrap (64
bits), so ``head - tail`` is the fill and the ring is full at SIZE. Each end
waits on its own notification: the writer signals the reader's "data"
notification after adding bytes (and at close), the reader signals the
writer's "space" notification after taking some. A notification keeps its
bit until waited for, so a signal sent before the other end waits is not
lost; each end looks at the counters again after every wake.

A process started as an end of a pipe (user/sh: ``A | B``) holds it in the
slots proto.SLOT_PIPE_IN (the reader's frame, then its data and space
notifications) or proto.SLOT_PIPE_OUT (the writer's frame, its space and
data notifications); user/lib/tty.py reads and writes there instead of the
console. The counter arithmetic (``fill``, ``room``, ``span``) is pure.
"""

from kcc.lang import *

from lib import abi, string
from user.lib import proto, syscall

PAGE: Final = 4096
HEADER: Final = 64              # the counters, padded to a cache line
SIZE: Final = PAGE - HEADER     # bytes the ring holds
BIT: Final = 1                  # the bit either end signals
IN_VA: Final = 0x3A_0000_0000   # where a program maps the pipe it reads
OUT_VA: Final = 0x3A_0001_0000  # where it maps the pipe it writes (the shell too, for the pipes it makes)


@struct
class Ring:
    """The shared frame: counters, then the data."""

    head: usize             # bytes ever written; stored by the writer only
    tail: usize             # bytes ever read; stored by the reader only
    closed: usize           # 1: the writer is done (the reader sees the end once the ring is empty)
    pad: Array[usize, 5]
    data: Array[u8, SIZE]


@struct
class End:
    """One end of a pipe in this process: where its ring is mapped, the notification it waits on, the other's."""

    ring: usize             # the Ring's address (0: this end is not attached)
    wait: usize             # slot of the notification this end waits on (READ)
    wake: usize             # slot of the other end's notification (WRITE)


def fill(head: usize, tail: usize) -> usize:
    """Bytes in a ring whose counters are ``head`` and ``tail`` (tail <= head <= tail + SIZE)."""
    return head - tail


def room(head: usize, tail: usize) -> usize:
    """Bytes that can still be written into a ring whose counters are ``head`` and ``tail``."""
    return SIZE - (head - tail)


def span(at: usize, n: usize) -> usize:
    """How many of ``n`` bytes starting at stream position ``at`` lie before the ring's end (one copy)."""
    rest = SIZE - at % SIZE
    return min(n, rest)


def create(frame: usize, data: usize, space: usize) -> usize:
    """Make a pipe in our own quota: a frame in slot ``frame``, the notifications in ``data`` and ``space``.

    The slots must be empty. Returns the error (ERR_NO_MEMORY: our quota;
    ERR_NO_OBJECTS: the kernel's pools); on an error the slots made are
    destroyed again. The frame is zeroed: an empty, open pipe.
    """
    err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_FRAME, frame, 1)
    if err == abi.OK:
        err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_NOTIFICATION, data, 0)
    if err == abi.OK:
        err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_NOTIFICATION, space, 0)
    if err != abi.OK:
        destroy(frame, data, space)
    return err


def destroy(frame: usize, data: usize, space: usize) -> None:
    """Destroy the pipe ``create`` made (every copy and mapping goes) and empty its slots."""
    syscall.cap_destroy(frame)
    syscall.cap_delete(frame)
    syscall.cap_destroy(data)
    syscall.cap_delete(data)
    syscall.cap_destroy(space)
    syscall.cap_delete(space)


def attach(end: Ptr[End], frame: usize, wait: usize, wake: usize, va: usize) -> usize:
    """Map the pipe's frame in slot ``frame`` at ``va`` (readable and writable) and fill ``end``.

    ``wait`` and ``wake`` are the slots of the notification this end waits
    on and of the other end's. Returns the error (ERR_EMPTY_SLOT: no pipe
    there; ERR_MAPPED: ``va`` is in use); ``end`` stays detached on one.
    """
    end.ring = 0
    err = syscall.proc_map(proto.SLOT_PROCESS, frame, va, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err != abi.OK:
        return err
    end.ring = va
    end.wait = wait
    end.wake = wake
    return abi.OK


def detach(end: Ptr[End]) -> None:
    """Unmap the ring of an attached ``end`` (the pipe itself lives on)."""
    res: syscall.SysResult
    if end.ring != 0:
        syscall.proc_unmap(proto.SLOT_PROCESS, end.ring, 1, addr(res))
        end.ring = 0


def _ring(end: Ptr[End]) -> Ptr[Ring]:
    """The ring of an attached end."""
    return cast(Ptr[Ring], end.ring)


def put(end: Ptr[End], src: Ptr[u8], n: usize) -> usize:
    """Writer: copy up to ``n`` bytes at ``src`` into the ring without waiting; return how many fitted.

    Wakes the reader when some did.
    """
    r = _ring(end)
    head = r.head
    k = min(n, room(head, atomic_load(addr(r.tail), ACQUIRE)))
    if k == 0:
        return 0
    first = span(head, k)
    string.memcpy(addr(r.data[head % SIZE]), src, first)
    if first < k:
        string.memcpy(addr(r.data[0]), src + first, k - first)
    atomic_store(addr(r.head), head + k, RELEASE)
    syscall.ntfn_signal(end.wake, BIT)
    return k


def write(end: Ptr[End], src: Ptr[u8], n: usize) -> usize:
    """Writer: copy all ``n`` bytes at ``src`` into the pipe, waiting for room; return abi.OK or the error.

    An error is the wait's (ERR_STALE: the pipe was destroyed). A writer
    whose reader is gone waits until its parent ends it (user/sh kills it).
    """
    done: usize = 0
    res: syscall.SysResult
    while done < n:
        k = put(end, src + done, n - done)
        done += k
        if k == 0:
            err = syscall.ntfn_wait(end.wait, addr(res))
            if err != abi.OK:
                return err
    return abi.OK


def close(end: Ptr[End]) -> None:
    """Writer (or whoever outlives it): mark the end of the stream and wake the reader."""
    atomic_store(addr(_ring(end).closed), 1, RELEASE)
    syscall.ntfn_signal(end.wake, BIT)


def read(end: Ptr[End], dst: Ptr[u8], capacity: usize, nowait: bool) -> usize:
    """Reader: move up to ``capacity`` bytes from the pipe to ``dst``; return how many.

    Waits for at least one byte unless ``nowait``; 0 means the end of the
    stream (closed and empty), nothing yet with ``nowait``, or a failed wait
    (the pipe was destroyed). Wakes the writer when bytes were taken.
    """
    r = _ring(end)
    res: syscall.SysResult
    while True:
        tail = r.tail
        k = fill(atomic_load(addr(r.head), ACQUIRE), tail)
        if k > 0:
            k = min(k, capacity)
            first = span(tail, k)
            string.memcpy(dst, addr(r.data[tail % SIZE]), first)
            if first < k:
                string.memcpy(dst + first, addr(r.data[0]), k - first)
            atomic_store(addr(r.tail), tail + k, RELEASE)
            syscall.ntfn_signal(end.wake, BIT)
            return k
        # closed is stored after the last head: seeing it, look at head once more before ending.
        if atomic_load(addr(r.closed), ACQUIRE) != 0:
            if atomic_load(addr(r.head), ACQUIRE) == tail:
                return 0
            continue
        if nowait or syscall.ntfn_wait(end.wait, addr(res)) != abi.OK:
            return 0
