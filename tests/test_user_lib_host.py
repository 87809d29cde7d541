"""kernel_src/user/lib's functions that take pointers (text, scan, byte-string hash maps, arenas) and lib/string's memset
and memcpy, compiled for the host.

Their functions take pointers, which kcc.load_python cannot run and
kcc.load_host cannot pass, so a small kcc module with integer-only wrappers
(tests/fixtures/ulib/harness.py) is compiled with them and driven from
here; properties are checked against Python's own parsing, searching and
dict.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcc import load_host

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
HARNESS = Path(__file__).resolve().parent / "fixtures" / "ulib" / "harness.py"
U64 = (1 << 64) - 1
NOT_FOUND = U64
FULL = U64


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory):
    """The harness compiled for the host, in a source root holding copies of lib/ and user/lib/."""
    root = tmp_path_factory.mktemp("ulib")
    shutil.copytree(KERNEL_SRC / "lib", root / "lib")
    shutil.copytree(KERNEL_SRC / "user" / "lib", root / "user" / "lib")
    shutil.copy(HARNESS, root / "harness.py")
    return load_host(root / "harness.py", root=root)


_HOST = None


@pytest.fixture(autouse=True, scope="module")
def _host(h) -> None:
    """Hypothesis tests cannot take a module fixture directly; they read the compiled harness from here."""
    global _HOST
    _HOST = h


def _load(h, which: int, data: bytes) -> None:
    """Put ``data`` and a NUL in buffer A (0) or B (1)."""
    for i, c in enumerate(data + b"\0"):
        h.put(which, i, c)


def _signed(v: int) -> int:
    """A u64 the library returned as the i64 it stands for."""
    v = int(v)
    return v - (1 << 64) if v >= 1 << 63 else v


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=200, max_size=200), st.integers(0, 31), st.integers(0, 150), st.integers(-300, 300))
def test_memset_fills_exactly_its_range_at_any_alignment(before: bytes, start: int, n: int, c: int) -> None:
    """lib/string.memset: the head bytes, the whole words and the tail are ``c & 0xFF``; nothing around changes."""
    _load(_HOST, 0, before)
    _HOST.fill(start, c, n)
    after = bytes(_HOST.byte(0, i) for i in range(200))
    assert after == before[:start] + bytes([c & 0xFF]) * n + before[start + n:]


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=200, max_size=200), st.binary(min_size=200, max_size=200), st.integers(0, 31),
       st.integers(0, 31), st.integers(0, 150))
def test_memcpy_copies_exactly_its_range_at_any_alignments(a: bytes, b: bytes, dst: int, src: int, n: int) -> None:
    """lib/string.memcpy: word, four-byte and byte copies alike give Python's slice assignment."""
    _load(_HOST, 0, a)
    _load(_HOST, 1, b)
    _HOST.copy(dst, src, n)
    after = bytes(_HOST.byte(0, i) for i in range(200))
    assert after == a[:dst] + b[src:src + n] + a[dst + n:]


def test_compare_stops_at_n_and_at_the_terminator(h) -> None:
    _load(h, 0, b"abcd")
    _load(h, 1, b"abzd")
    assert h.compare(2) == 0
    assert h.compare(3) < 0
    assert h.compare(0) == 0
    _load(h, 1, b"ab")
    assert h.compare(10) > 0                 # "abcd" after its prefix "ab"
    _load(h, 0, b"ab")
    assert h.compare(10) == 0
    _load(h, 0, b"\xff")
    _load(h, 1, b"a")
    assert h.compare(1) > 0                  # bytes compare unsigned


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"")), st.binary(max_size=4).map(lambda b: b.replace(b"\0", b"")))
def test_find_matches_python(hay: bytes, needle: bytes) -> None:
    h = _HOST
    _load(h, 0, hay)
    _load(h, 1, needle)
    expected = hay.find(needle)
    assert h.find() == (NOT_FOUND if expected < 0 else expected)
    if needle:
        first = hay.find(needle[:1])
        assert h.find_byte(needle[0]) == (NOT_FOUND if first < 0 else first)
    assert h.find_byte(0) == len(hay)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=" ,ab", max_size=30))
def test_tokens_are_pythons_split(line: str) -> None:
    h = _HOST
    _load(h, 0, line.encode())
    _load(h, 1, b" ,")
    tokens, at, n = [], 0, 0
    while True:
        at = h.token(at + n)
        n = h.token_length()
        if n == 0:
            assert at == len(line)
            break
        tokens.append(line[at:at + n])
    assert tokens == [t for t in line.replace(",", " ").split(" ") if t]


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=U64 * 4), st.sampled_from([10, 16, 8, 2, 36]), st.text(alphabet=" ;-", max_size=2))
def test_to_u64_matches_python_int(value: int, base: int, tail: str) -> None:
    h = _HOST
    digits = _digits(value, base)
    _load(h, 0, (digits + tail).encode())
    used = h.to_u64(base)
    if value > U64:
        assert used == 0                     # does not fit
    else:
        assert used == len(digits)
        assert h.value_u() == int(digits, base) == value


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=-(1 << 64), max_value=1 << 64), st.sampled_from(["", "+"]), st.sampled_from([0, 10, 16]))
def test_to_i64_matches_python_int(value: int, plus: str, base: int) -> None:
    h = _HOST
    text = ("-" if value < 0 else plus) + ("0x" + format(abs(value), "x") if base in (0, 16) else str(abs(value)))
    _load(h, 0, text.encode())
    used = h.to_i64(base)
    if -(1 << 63) <= value < 1 << 63:
        assert (used, h.value_i()) == (len(text), value)
    else:
        assert used == 0


def test_to_u64_prefixes_and_no_digits() -> None:
    h = _HOST
    for text, base, used, value in [("0x1F", 0, 4, 31), ("0X1f", 16, 4, 31), ("017", 0, 3, 15), ("0", 0, 1, 0),
                                    ("0xg", 0, 1, 0), ("0xg", 16, 1, 0), ("12ab", 10, 2, 12), ("z", 36, 1, 35)]:
        _load(h, 0, text.encode())
        assert (h.to_u64(base), h.value_u()) == (used, value), text
    for text, base in [("", 10), (" 1", 10), ("-1", 10), ("9", 8), ("1", 1), ("1", 37)]:
        _load(h, 0, text.encode())
        assert h.to_u64(base) == 0, text
    _load(h, 0, b"-")
    assert h.to_i64(10) == 0


def test_parse_u64_takes_the_whole_text_or_nothing() -> None:
    h = _HOST
    for text, ok, value in [("42", True, 42), ("0x10", True, 16), ("42 ", False, 0), ("", False, 0), ("4a", False, 0)]:
        _load(h, 0, text.encode())
        assert h.parse_u64(0 if text.startswith("0x") else 10) == ok, text
        if ok:
            assert h.value_u() == value


def _digits(value: int, base: int) -> str:
    """``value`` written in ``base`` (Python's int() reads it back)."""
    out = ""
    while True:
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[value % base] + out
        value //= base
        if value == 0:
            return out


def _scan(fmt: str, subject: str, count: int = 8, words: tuple[int, ...] = ()) -> tuple[int, list[int]]:
    """sscanf of ``subject`` with ``fmt`` into 8 elements preset to 0xEE (``words``: elements given a %s buffer)."""
    h = _HOST
    _load(h, 0, subject.encode())
    _load(h, 1, fmt.encode())
    h.clear_out(0xEE)
    for k in words:
        h.word_buffer(k)
    n = h.sscanf(count)
    return n, [h.out(k) for k in range(8)]


def _word(k: int) -> bytes:
    """The NUL-terminated word in buffer ``k``."""
    out = bytearray()
    while (c := _HOST.word_byte(k, len(out))) != 0:
        out.append(c)
    return bytes(out)


def test_sscanf_conversions() -> None:
    n, out = _scan("%d %u %x %i %c%%", "  -12 7\t0x1f -010 z%")
    assert n == 5
    assert [_signed(out[0]), out[1], out[2], _signed(out[3]), out[4]] == [-12, 7, 31, -8, ord("z")]
    n, out = _scan("pid=%u, name=%s%n", "pid=42, name=spin rest", words=(1,))
    assert n == 2 and out[0] == 42 and _word(1) == b"spin" and out[2] == len("pid=42, name=spin")
    n, out = _scan("%3s%s", "abcdef", words=(0, 1))
    assert n == 2 and _word(0) == b"abc" and _word(1) == b"def"


def test_sscanf_stops_at_a_mismatch_and_leaves_the_rest() -> None:
    n, out = _scan("%u,%u", "5;6")
    assert n == 1 and out[0] == 5 and out[1] == 0xEE
    n, out = _scan("%u %u", "5 x")
    assert n == 1 and out[1] == 0xEE
    assert _scan("%u", "")[0] == 0
    assert _scan("%s", "   ", words=(0,))[0] == 0
    assert _scan("%u", "99999999999999999999")[0] == 0      # does not fit 64 bits
    assert _scan("%q", "1")[0] == 0                          # unknown conversion
    n, out = _scan("%u %u %u", "1 2 3", count=2)
    assert n == 2 and out[2] == 0xEE
    assert _scan("%%", "%")[0] == 0 and _scan("a%", "a")[0] == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), min_size=1, max_size=8),
       st.text(alphabet=" \t", min_size=1, max_size=3))
def test_sscanf_reads_back_what_python_printed(values: list[int], gap: str) -> None:
    n, out = _scan(" ".join(["%d"] * len(values)), gap + gap.join(str(v) for v in values))
    assert n == len(values)
    assert [_signed(v) for v in out[:n]] == values



@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=26), st.integers(0, 1000)), max_size=150))
def test_byte_string_map_matches_a_dict(ops: list[tuple[bool, bytes, int]]) -> None:
    h = _HOST
    m = h.map_new(1)                                   # Kind.BYTES; destroyed at the end (the harness lives on)
    assert m != 0xFFFF_FFFF
    assert h.map_put_int(m, 1, 1) == 3                 # Put.BAD_MAP: integer keys go to integer maps
    model: dict[bytes, int] = {}
    for is_put, key, value in ops:
        _load(h, 0, key)
        if len(key) > 24:
            assert h.map_put(m, len(key), value) == 4   # Put.TOO_LONG
            continue
        if is_put:
            full = key not in model and len(model) == 96
            assert h.map_put(m, len(key), value) == (2 if full else 1 if key in model else 0)
            if not full:
                model[key] = value
        else:
            assert h.map_remove(m, len(key)) == (key in model)
            model.pop(key, None)
        assert h.map_get(m, len(key), 5555) == model.get(key, 5555)
    for key, value in model.items():
        _load(h, 0, key)
        assert h.map_get(m, len(key), 0) == value
        assert h.map_remove(m, len(key))
    assert h.map_destroy(m)


def test_arena_bumps_marks_resets_and_gives_its_block_back() -> None:
    h = _HOST
    before = h.heap_free_granules()
    assert h.arena_create(100)
    assert h.arena_base_aligned()
    assert h.heap_free_granules() == before - 7        # 100 bytes: seven 16-byte granules
    assert h.arena_alloc(3, 1) == 0
    assert h.arena_alloc(8, 8) == 8                    # aligned up past the 3 bytes
    m = h.arena_mark()
    assert m == 16
    assert h.arena_alloc(80, 4) == 16
    assert h.arena_alloc(5, 1) == FULL                 # 96 + 5 > 100
    assert h.arena_alloc(4, 1) == 96
    assert h.arena_release_to(m)
    assert not h.arena_release_to(m + 1)               # beyond the fill
    assert h.arena_alloc(84, 1) == 16
    h.arena_reset()
    assert h.arena_alloc(100, 16) == 0
    assert h.arena_destroy()
    assert h.heap_free_granules() == before
    assert not h.arena_destroy()
    assert not h.arena_create(1 << 20)                 # more than the heap
