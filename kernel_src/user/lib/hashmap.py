"""Hash maps from u64 keys or short byte strings to u64 values: open addressing with linear probing, fixed capacity.

Up to MAPS maps live at a time, each with CAPACITY slots of its own and
room for LIMIT entries (three quarters of the slots, so a probe always
ends at an empty slot within a few steps on average); ``put`` of a new key
into a full map returns Put.FULL. A map holds either integer keys or byte
strings of at most KEY_MAX bytes (its kind, chosen by ``new``). Removed
entries leave tombstones; when live entries and tombstones together reach
LIMIT the map is rehashed in place, dropping them. The integer-key
functions use indexes only, so they also run under CPython
(kcc.load_python); the byte-string ones copy the key through a pointer.
"""

from kcc.lang import *

MAPS: Final = 4
CAPACITY: Final = 128           # slots per map, a power of two
LIMIT: Final = CAPACITY * 3 // 4
KEY_MAX: Final = 24             # bytes of a byte-string key
NIL: Final[u32] = 0xFFFF_FFFF

_SHIFT: Final = 64 - 7          # CAPACITY == 2 ** 7: the top 7 bits of the mixed hash pick the first slot
_MASK: Final = CAPACITY - 1
_GOLDEN: Final[u64] = 0x9E37_79B9_7F4A_7C15     # 2**64 / the golden ratio: Fibonacci hashing spreads close keys
_FNV_OFFSET: Final[u64] = 0xCBF2_9CE4_8422_2325
_FNV_PRIME: Final[u64] = 0x100_0000_01B3


class Kind(IntEnum):
    """The keys a map holds."""

    INTEGERS = 0
    BYTES = 1


class Put(IntEnum):
    """What ``put`` and ``put_bytes`` did."""

    ADDED = 0           # a new key
    REPLACED = 1        # the key was there: its value was replaced
    FULL = 2            # LIMIT entries already: nothing changed
    BAD_MAP = 3         # not a live map, or one of the other kind
    TOO_LONG = 4        # a byte-string key longer than KEY_MAX


class _State(IntEnum):
    EMPTY = 0
    USED = 1
    TOMB = 2


@struct
class _Slot:
    state: u8
    length: u8          # of a byte-string key
    key: u64            # an integer key, or a byte string's hash
    value: u64
    bytes: Array[u8, KEY_MAX]


_slots: Array[_Slot, MAPS * CAPACITY]
_scratch: Array[_Slot, CAPACITY]        # a rehash copies the live entries here first
_live: Array[bool, MAPS]
_kinds: Array[u8, MAPS]
_counts: Array[u32, MAPS]
_tombs: Array[u32, MAPS]
_probe: Array[u8, KEY_MAX]              # the byte-string key being looked up
_probe_length: u32 = 0


def _ok(m: u32, kind: u32) -> bool:
    """True when ``m`` is a live map of ``kind``."""
    return m < MAPS and _live[m] and u32(_kinds[m]) == kind


def _start(hash: u64) -> u32:
    """The first slot (0..CAPACITY) to probe for ``hash``."""
    return u32((hash * _GOLDEN) >> _SHIFT)


def _slot_index(m: u32, i: u32) -> u32:
    """The index in _slots of map ``m``'s slot ``i``."""
    return m * CAPACITY + (i & _MASK)


def _lookup(m: u32, key: u64) -> u32:
    """The index in _slots of ``key`` in map ``m``; NIL when absent."""
    kind = u32(_kinds[m])
    i = _start(key)
    for step in range(u32(0), CAPACITY):
        s = _slot_index(m, i + step)
        if _slots[s].state == _State.EMPTY:
            return NIL
        if _slots[s].state == _State.USED and _matches_at(s, kind, key):
            return s
    return NIL


def _matches_at(s: u32, kind: u32, key: u64) -> bool:
    """True when used slot ``s`` holds ``key`` (for a byte map: ``key`` is the hash, the bytes are in _probe)."""
    if _slots[s].key != key:
        return False
    if kind == Kind.INTEGERS:
        return True
    if u32(_slots[s].length) != _probe_length:
        return False
    for i in range(u32(0), _probe_length):
        if _slots[s].bytes[i] != _probe[i]:
            return False
    return True


def _rehash(m: u32) -> None:
    """Re-insert map ``m``'s live entries into empty slots, dropping its tombstones."""
    for i in range(u32(0), CAPACITY):
        _scratch[i] = _slots[m * CAPACITY + i]
        _slots[m * CAPACITY + i].state = _State.EMPTY
    _tombs[m] = 0
    for i in range(u32(0), CAPACITY):
        if _scratch[i].state == _State.USED:
            at = _start(_scratch[i].key)
            while _slots[_slot_index(m, at)].state != _State.EMPTY:
                at += 1
            _slots[_slot_index(m, at)] = _scratch[i]


def _put(m: u32, key: u64, value: u64) -> u32:
    """Put ``key`` (for a byte map: the hash of _probe) with ``value`` in live map ``m``; a Put."""
    s = _lookup(m, key)
    if s != NIL:
        _slots[s].value = value
        return Put.REPLACED
    if _counts[m] >= LIMIT:
        return Put.FULL
    if _counts[m] + _tombs[m] >= LIMIT:
        _rehash(m)
    i = _start(key)
    while _slots[_slot_index(m, i)].state == _State.USED:
        i += 1
    s = _slot_index(m, i)
    if _slots[s].state == _State.TOMB:
        _tombs[m] -= 1
    _slots[s].state = _State.USED
    _slots[s].key = key
    _slots[s].value = value
    _slots[s].length = u8(_probe_length)
    for k in range(u32(0), _probe_length):
        _slots[s].bytes[k] = _probe[k]
    _counts[m] += 1
    return Put.ADDED


def _remove(m: u32, key: u64) -> bool:
    """Remove ``key`` (for a byte map: the hash of _probe) from live map ``m``; False when absent."""
    s = _lookup(m, key)
    if s == NIL:
        return False
    _slots[s].state = _State.TOMB
    _counts[m] -= 1
    _tombs[m] += 1
    return True


def new(kind: u32) -> u32:
    """A new empty map of ``kind`` (Kind.INTEGERS or Kind.BYTES); NIL when MAPS maps are live or the kind is unknown."""
    if kind != Kind.INTEGERS and kind != Kind.BYTES:
        return NIL
    for m in range(u32(0), MAPS):
        if not _live[m]:
            _live[m] = True
            _kinds[m] = u8(kind)
            _counts[m] = 0
            _tombs[m] = 0
            for i in range(u32(0), CAPACITY):
                _slots[m * CAPACITY + i].state = _State.EMPTY
            return m
    return NIL


def destroy(m: u32) -> bool:
    """Free map ``m``; False when it is not a live map."""
    if m >= MAPS or not _live[m]:
        return False
    _live[m] = False
    return True


def count(m: u32) -> u32:
    """How many entries map ``m`` holds (0 when it is not a live map)."""
    return _counts[m] if m < MAPS and _live[m] else 0


def put(m: u32, key: u64, value: u64) -> u32:
    """Map integer ``key`` to ``value`` in integer map ``m``; a Put: ADDED, REPLACED, FULL or BAD_MAP."""
    global _probe_length
    if not _ok(m, Kind.INTEGERS):
        return Put.BAD_MAP
    _probe_length = 0
    return _put(m, key, value)


def get(m: u32, key: u64, default: u64) -> u64:
    """The value of integer ``key`` in map ``m``; ``default`` when absent (or ``m`` is not an integer map)."""
    if not _ok(m, Kind.INTEGERS):
        return default
    s = _lookup(m, key)
    return default if s == NIL else _slots[s].value


def contains(m: u32, key: u64) -> bool:
    """True when integer map ``m`` holds ``key``."""
    return _ok(m, Kind.INTEGERS) and _lookup(m, key) != NIL


def remove(m: u32, key: u64) -> bool:
    """Remove integer ``key`` from map ``m``; False when absent (or ``m`` is not an integer map)."""
    if not _ok(m, Kind.INTEGERS):
        return False
    return _remove(m, key)


def _stage(key: Ptr[u8], length: usize) -> u64:
    """Copy the byte-string key into _probe (the caller checked ``length`` <= KEY_MAX); its FNV-1a hash."""
    global _probe_length
    h = _FNV_OFFSET
    for i in range(usize(0), length):
        _probe[i] = key[i]
        h = (h ^ u64(key[i])) * _FNV_PRIME
    _probe_length = u32(length)
    return h


def put_bytes(m: u32, key: Ptr[u8], length: usize, value: u64) -> u32:
    """Map the ``length`` bytes at ``key`` to ``value`` in byte map ``m``; a Put (TOO_LONG: ``length`` > KEY_MAX)."""
    if not _ok(m, Kind.BYTES):
        return Put.BAD_MAP
    if length > KEY_MAX:
        return Put.TOO_LONG
    return _put(m, _stage(key, length), value)


def get_bytes(m: u32, key: Ptr[u8], length: usize, default: u64) -> u64:
    """The value of the ``length`` bytes at ``key`` in byte map ``m``; ``default`` when absent."""
    if not _ok(m, Kind.BYTES) or length > KEY_MAX:
        return default
    s = _lookup(m, _stage(key, length))
    return default if s == NIL else _slots[s].value


def remove_bytes(m: u32, key: Ptr[u8], length: usize) -> bool:
    """Remove the ``length`` bytes at ``key`` from byte map ``m``; False when absent."""
    if not _ok(m, Kind.BYTES) or length > KEY_MAX:
        return False
    return _remove(m, _stage(key, length))
