"""Capability tables: one fixed table of CAP_SLOTS slots per process, and the rules for using them.

A capability names an object by (kind, index, generation) from core/objects.py
and carries rights (abi RIGHT_*) and a badge, a u64 the holder cannot change
that a receiver can trust. A capability is usable only while its object's
generation is the one it recorded: once the object is freed every copy of it
is ERR_STALE (revocation by versioning), and it never reaches the object that
later takes the same slot.

Rules (seL4's, simplified): rights only shrink (mint masks them); a badge is
set only on an unbadged capability; copy and mint refuse a stale source, since
they would create a new reference, while move and delete work on any
non-empty slot so that a stale capability can still be tidied away. Copying
into another process's table is the caller's policy: give() is copy with the
GRANT right required.

Every operation is O(1) except clear_table and find_free (O(CAP_SLOTS)) and
check (O(MAX_PROCESSES * CAP_SLOTS)). Slot and process numbers may come from
user space: they are validated, never trusted.
"""

import board
from kcc.lang import *

from core import objects
from lib.abi import (
    ERR_EMPTY_SLOT,
    ERR_INVALID_ARG,
    ERR_INVALID_SLOT,
    ERR_RIGHTS,
    ERR_SLOT_FULL,
    ERR_STALE,
    ERR_WRONG_KIND,
    KIND_NULL,
    NUM_KINDS,
    OK,
    RIGHT_GRANT,
    RIGHTS_ALL,
)

NO_SLOT: Final[u32] = 0xFFFF_FFFF
TABLE_SIZE: Final = board.MAX_PROCESSES * board.CAP_SLOTS


@struct
class Cap:
    """One capability; the empty one is all zeros (KIND_NULL, and generation 0 is never live)."""

    badge: u64
    index: u32
    generation: u32
    kind: u8
    rights: u8


_caps: Array[Cap, TABLE_SIZE]


def _in_range(proc: u32, slot: u32) -> bool:
    """True when ``proc`` has a table and ``slot`` is inside it."""
    return proc < board.MAX_PROCESSES and slot < board.CAP_SLOTS


def _at(proc: u32, slot: u32) -> u32:
    """The position in _caps of (proc, slot), which must be in range."""
    return proc * board.CAP_SLOTS + slot


def _clear(at: u32) -> None:
    _caps[at].kind = KIND_NULL
    _caps[at].rights = 0
    _caps[at].index = 0
    _caps[at].generation = 0
    _caps[at].badge = 0


def _source(proc: u32, slot: u32) -> u32:
    """OK when (proc, slot) holds a live capability, else the error using it would give."""
    if not _in_range(proc, slot):
        return ERR_INVALID_SLOT
    c = _caps[_at(proc, slot)]
    if c.kind == KIND_NULL:
        return ERR_EMPTY_SLOT
    if not objects.is_live(u32(c.kind), c.index, c.generation):
        return ERR_STALE
    return OK


def _destination(proc: u32, slot: u32) -> u32:
    """OK when (proc, slot) is an empty slot, else ERR_INVALID_SLOT or ERR_SLOT_FULL."""
    if not _in_range(proc, slot):
        return ERR_INVALID_SLOT
    if _caps[_at(proc, slot)].kind != KIND_NULL:
        return ERR_SLOT_FULL
    return OK


def clear_table(proc: u32) -> None:
    """Empty every slot of process ``proc``'s table (nothing for a bad ``proc``). O(CAP_SLOTS)."""
    if proc >= board.MAX_PROCESSES:
        return
    for slot in range(u32(board.CAP_SLOTS)):
        _clear(_at(proc, slot))


def reset() -> None:
    """Empty every table of every process. O(MAX_PROCESSES * CAP_SLOTS)."""
    for proc in range(u32(board.MAX_PROCESSES)):
        clear_table(proc)


def insert(proc: u32, slot: u32, kind: u32, rights: u32, index: u32, gen: u32, badge: u64) -> u32:
    """Put a capability to the live object (kind, index, gen) with ``rights`` and ``badge`` in (proc, slot).

    Errors: ERR_INVALID_SLOT (no such process or slot), ERR_INVALID_ARG (kind
    KIND_NULL or unknown, rights outside RIGHTS_ALL), ERR_STALE (the object is
    not live with that generation), ERR_SLOT_FULL (the slot is occupied). O(1).
    """
    if not _in_range(proc, slot):
        return ERR_INVALID_SLOT
    if kind == KIND_NULL or kind >= NUM_KINDS or rights & ~u32(RIGHTS_ALL) != 0:
        return ERR_INVALID_ARG
    if not objects.is_live(kind, index, gen):
        return ERR_STALE
    err = _destination(proc, slot)
    if err != OK:
        return err
    at = _at(proc, slot)
    _caps[at].kind = u8(kind)
    _caps[at].rights = u8(rights)
    _caps[at].index = index
    _caps[at].generation = gen
    _caps[at].badge = badge
    return OK


def lookup(proc: u32, slot: u32, kind: u32, rights_needed: u32) -> u32:
    """Check that (proc, slot) holds a live capability of ``kind`` with every right in ``rights_needed``.

    ``kind`` KIND_NULL accepts any kind. Returns OK, or the first failing of
    ERR_INVALID_SLOT, ERR_EMPTY_SLOT, ERR_STALE (its object was freed),
    ERR_WRONG_KIND, ERR_RIGHTS. Read the fields with the accessors after OK. O(1).
    """
    err = _source(proc, slot)
    if err != OK:
        return err
    c = _caps[_at(proc, slot)]
    if kind != KIND_NULL and u32(c.kind) != kind:
        return ERR_WRONG_KIND
    if u32(c.rights) & rights_needed != rights_needed:
        return ERR_RIGHTS
    return OK


def kind_of(proc: u32, slot: u32) -> u32:
    """Return the kind in (proc, slot): KIND_NULL when empty or out of range. O(1)."""
    if not _in_range(proc, slot):
        return KIND_NULL
    return u32(_caps[_at(proc, slot)].kind)


def rights_of(proc: u32, slot: u32) -> u32:
    """Return the rights in (proc, slot): 0 when empty or out of range. O(1)."""
    if not _in_range(proc, slot):
        return 0
    return u32(_caps[_at(proc, slot)].rights)


def index_of(proc: u32, slot: u32) -> u32:
    """Return the object index in (proc, slot): 0 when empty or out of range. O(1)."""
    if not _in_range(proc, slot):
        return 0
    return _caps[_at(proc, slot)].index


def gen_of(proc: u32, slot: u32) -> u32:
    """Return the object generation in (proc, slot): 0 (never live) when empty or out of range. O(1)."""
    if not _in_range(proc, slot):
        return 0
    return _caps[_at(proc, slot)].generation


def badge_of(proc: u32, slot: u32) -> u64:
    """Return the badge in (proc, slot): 0 (unbadged) when empty or out of range. O(1)."""
    if not _in_range(proc, slot):
        return 0
    return _caps[_at(proc, slot)].badge


def copy(src_proc: u32, src_slot: u32, dst_proc: u32, dst_slot: u32) -> u32:
    """Copy the capability (src_proc, src_slot) into the empty (dst_proc, dst_slot): same rights and badge.

    Errors: ERR_INVALID_SLOT, ERR_EMPTY_SLOT, ERR_STALE (source); ERR_INVALID_SLOT,
    ERR_SLOT_FULL (destination). No right is needed here: the caller decides
    whether crossing to another table needs GRANT (see give). O(1).
    """
    err = _source(src_proc, src_slot)
    if err != OK:
        return err
    err = _destination(dst_proc, dst_slot)
    if err != OK:
        return err
    _caps[_at(dst_proc, dst_slot)] = _caps[_at(src_proc, src_slot)]
    return OK


def give(src_proc: u32, src_slot: u32, dst_proc: u32, dst_slot: u32) -> u32:
    """copy() into (usually) another process's table, allowed only by the source's RIGHT_GRANT.

    Errors: those of copy, and ERR_RIGHTS when the source lacks GRANT. O(1).
    """
    err = lookup(src_proc, src_slot, KIND_NULL, RIGHT_GRANT)
    if err != OK:
        return err
    return copy(src_proc, src_slot, dst_proc, dst_slot)


def mint(proc: u32, src: u32, dst: u32, rights_mask: u32, badge: u64) -> u32:
    """Derive into the empty slot ``dst`` of ``proc`` a copy of slot ``src`` with rights & rights_mask.

    ``badge`` 0 keeps the source's badge; a non-zero badge is set only on an
    unbadged source. Errors: those of copy, and ERR_INVALID_ARG when
    rights_mask has bits outside RIGHTS_ALL or a badged capability is given a
    new badge. O(1).
    """
    err = _source(proc, src)
    if err != OK:
        return err
    err = _destination(proc, dst)
    if err != OK:
        return err
    s = _at(proc, src)
    if rights_mask & ~u32(RIGHTS_ALL) != 0 or (badge != 0 and _caps[s].badge != 0):
        return ERR_INVALID_ARG
    d = _at(proc, dst)
    _caps[d] = _caps[s]
    _caps[d].rights = _caps[s].rights & u8(rights_mask)
    if badge != 0:
        _caps[d].badge = badge
    return OK


def move(src_proc: u32, src_slot: u32, dst_proc: u32, dst_slot: u32) -> u32:
    """Move the capability (src_proc, src_slot), stale or not, into the empty (dst_proc, dst_slot).

    Errors: ERR_INVALID_SLOT, ERR_EMPTY_SLOT (source); ERR_INVALID_SLOT,
    ERR_SLOT_FULL (destination, also when it is the source itself). O(1).
    """
    if not _in_range(src_proc, src_slot):
        return ERR_INVALID_SLOT
    if _caps[_at(src_proc, src_slot)].kind == KIND_NULL:
        return ERR_EMPTY_SLOT
    err = _destination(dst_proc, dst_slot)
    if err != OK:
        return err
    _caps[_at(dst_proc, dst_slot)] = _caps[_at(src_proc, src_slot)]
    _clear(_at(src_proc, src_slot))
    return OK


def delete(proc: u32, slot: u32) -> u32:
    """Empty (proc, slot), stale or not; the object lives on. ERR_INVALID_SLOT, ERR_EMPTY_SLOT. O(1)."""
    if not _in_range(proc, slot):
        return ERR_INVALID_SLOT
    at = _at(proc, slot)
    if _caps[at].kind == KIND_NULL:
        return ERR_EMPTY_SLOT
    _clear(at)
    return OK


def find_free(proc: u32) -> u32:
    """Return the lowest empty slot of ``proc``'s table, NO_SLOT when it is full or ``proc`` is bad. O(CAP_SLOTS)."""
    if proc >= board.MAX_PROCESSES:
        return NO_SLOT
    for slot in range(u32(board.CAP_SLOTS)):
        if _caps[_at(proc, slot)].kind == KIND_NULL:
            return slot
    return NO_SLOT


def check() -> u32:
    """Count violated invariants of every table (0 when consistent). O(MAX_PROCESSES * CAP_SLOTS).

    Checked: an empty slot is all zeros; a capability has a known kind, rights
    inside RIGHTS_ALL, a generation other than 0 and an index inside its pool;
    and it can never come back to life: its generation is not past its slot's,
    and equal only while the object is in use or the slot retired (a free
    slot at that generation would hand it the next object).
    """
    bad: u32 = 0
    for i in range(u32(TABLE_SIZE)):
        c = _caps[i]            # a copy: check only reads
        kind = u32(c.kind)
        if kind == KIND_NULL:
            if c.rights != 0 or c.index != 0 or c.generation != 0 or c.badge != 0:
                bad += 1
            continue
        if kind >= NUM_KINDS or u32(c.rights) & ~u32(RIGHTS_ALL) != 0 or c.generation == 0:
            bad += 1
            continue
        if c.index >= objects.capacity(kind):
            bad += 1
            continue
        # A generation past the slot's, or equal to a free slot's, would name a later object.
        current = objects.generation(kind, c.index)
        free = not objects.is_allocated(kind, c.index) and not objects.is_retired(kind, c.index)
        if c.generation > current or (c.generation == current and free):
            bad += 1
    return bad
