"""kcc.lang and kcc.load_python under CPython: every operator at every width against language.md, "Arithmetic means what Python means, reduced to the width".

The reference is computed with plain Python ints by the contract's rule: the
exact Python result reduced modulo 2**N into the type's range; for signed types
a result outside the range is an overflow (OverflowError, as the checked build
panics); division or modulo by zero is ZeroDivisionError; a negative shift
amount is ValueError.
"""

import operator
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kcc import lang, load_python
from kcc.lang import (
    NULL,
    Array,
    NotPureError,
    NullPointerError,
    Panic,
    Ptr,
    i8,
    i16,
    i32,
    i64,
    isize,
    sizeof,
    struct,
    u8,
    u16,
    u32,
    u64,
    usize,
)

TYPES = [u8, u16, u32, u64, i8, i16, i32, i64, usize, isize]
IDS = [t.__name__ for t in TYPES]


def lo(t) -> int:
    return -(1 << (t.BITS - 1)) if t.SIGNED else 0


def hi(t) -> int:
    return (1 << (t.BITS - 1)) - 1 if t.SIGNED else (1 << t.BITS) - 1


def wrap(t, v: int) -> int:
    """Reference reduction modulo 2**N into t's range (language.md, "Conversions are explicit")."""
    v %= 1 << t.BITS
    return v - (1 << t.BITS) if t.SIGNED and v > hi(t) else v


def values(t) -> st.SearchStrategy[int]:
    """Values of t, biased towards the edges where wrapping and overflow happen."""
    edges = [lo(t), lo(t) + 1, -1, 0, 1, 2, hi(t) - 1, hi(t)]
    return st.one_of(st.sampled_from([e for e in edges if lo(t) <= e <= hi(t)]),
                     st.integers(lo(t), hi(t)))


def typed_pair(t):
    return st.tuples(values(t), values(t))


ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
DIVS = {"//": operator.floordiv, "%": operator.mod}
BITS = {"&": operator.and_, "|": operator.or_, "^": operator.xor}
CMPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


def expect(t, exact: int):
    """The contract's result for an exact value: reduced, or OverflowError for signed types."""
    if t.SIGNED and not lo(t) <= exact <= hi(t):
        return OverflowError
    return wrap(t, exact)


def check(t, fn, expected) -> None:
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            fn()
        return
    got = fn()
    assert type(got) is t, f"result type {type(got).__name__}, expected {t.__name__}"
    assert int(got) == expected


# ----- conversions -----------------------------------------------------------------------------

@pytest.mark.parametrize("t", TYPES, ids=IDS)
@settings(deadline=None)
@given(x=st.integers(-(1 << 70), 1 << 70))
def test_conversion_reduces_modulo(t, x):
    v = t(x)
    assert type(v) is t and int(v) == wrap(t, x) and lo(t) <= v <= hi(t)


@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("src", TYPES, ids=IDS)
def test_conversion_between_types(t, src):
    for x in (lo(src), -1 if src.SIGNED else 1, 0, hi(src)):
        assert int(t(src(x))) == wrap(t, x)  # sign-extends signed sources, zero-extends unsigned


def test_conversion_of_bool_and_non_integers():
    assert u8(True) == 1 and u8(False) == 0
    with pytest.raises(TypeError):
        u32("12")
    with pytest.raises(TypeError):
        u32(1.5)


def test_pointer_width_types_are_64_bit_under_cpython():
    assert usize.BITS == 64 and isize.BITS == 64 and not usize.SIGNED and isize.SIGNED


# ----- arithmetic ------------------------------------------------------------------------------

@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("op", list(ARITH), ids=list(ARITH))
@settings(deadline=None)
@given(data=st.data())
def test_add_sub_mul(t, op, data):
    a, b = data.draw(typed_pair(t))
    fn = ARITH[op]
    check(t, lambda: fn(t(a), t(b)), expect(t, fn(a, b)))


@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("op", list(DIVS), ids=["floordiv", "mod"])
@settings(deadline=None)
@given(data=st.data())
def test_floordiv_mod(t, op, data):
    a, b = data.draw(typed_pair(t))
    fn = DIVS[op]
    expected = ZeroDivisionError if b == 0 else expect(t, fn(a, b))
    check(t, lambda: fn(t(a), t(b)), expected)


@pytest.mark.parametrize("t", [i8, i16, i32, i64, isize], ids=["i8", "i16", "i32", "i64", "isize"])
def test_signed_division_edges(t):
    with pytest.raises(OverflowError):
        t(lo(t)) // t(-1)
    assert t(lo(t)) % t(-1) == 0
    assert t(-7) // t(2) == -4 and t(-7) % t(2) == 1 and t(7) % t(-2) == -1  # Python, not C
    with pytest.raises(ZeroDivisionError):
        t(1) % t(0)


@pytest.mark.parametrize("t", TYPES, ids=IDS)
@settings(deadline=None)
@given(data=st.data())
def test_unary(t, data):
    a = data.draw(values(t))
    check(t, lambda: -t(a), expect(t, -a))
    check(t, lambda: ~t(a), wrap(t, ~a))
    check(t, lambda: +t(a), a)


# ----- bitwise and shifts ----------------------------------------------------------------------

@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("op", list(BITS), ids=["and", "or", "xor"])
@settings(deadline=None)
@given(data=st.data())
def test_bitwise(t, op, data):
    a, b = data.draw(typed_pair(t))
    check(t, lambda: BITS[op](t(a), t(b)), wrap(t, BITS[op](a, b)))


@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("amount_type", [u8, i32, u64], ids=["u8", "i32", "u64"])
@settings(deadline=None)
@given(data=st.data())
def test_shifts(t, amount_type, data):
    a = data.draw(values(t))
    n = data.draw(st.one_of(st.integers(0, t.BITS + 2), st.integers(0, hi(amount_type)),
                            st.integers(lo(amount_type), -1) if amount_type.SIGNED else st.nothing()))
    amount = amount_type(n)
    if n < 0:
        for op in (operator.lshift, operator.rshift):
            with pytest.raises(ValueError):
                op(t(a), amount)
        return
    check(t, lambda: t(a) << amount, wrap(t, a << min(n, t.BITS)))
    check(t, lambda: t(a) >> amount, a >> min(n, t.BITS))


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_shift_by_width_or_more(t):
    for n in (t.BITS, t.BITS + 1, 1000, 10**30):
        assert t(hi(t)) << n == 0
        assert t(hi(t)) >> n == 0
        assert t(lo(t)) >> n == (-1 if t.SIGNED else 0)
    assert t(1) << (t.BITS - 1) == wrap(t, 1 << (t.BITS - 1))


def test_shift_amount_plain_int_and_negative():
    assert u8(1) << 3 == 8
    with pytest.raises(ValueError):
        u8(1) << -1
    with pytest.raises(ValueError):
        i8(-4) >> -2


def test_constant_left_shift_takes_its_type_from_context():
    n = u8(3)
    assert repr(u64(0) | (1 << n)) == "u64(8)"
    assert repr(u32(0xFF) & ((1 << n) - 1)) == "u32(7)"
    assert repr(lang.coerce(u64, 1 << u8(64))) == "u64(0)"
    assert repr(lang.coerce(u16, ~(1 << n))) == "u16(65527)"
    with pytest.raises(TypeError):
        bool(1 << n)  # no context: the compiler cannot tell its type either


# ----- comparisons, mixing, literals ------------------------------------------------------------

@pytest.mark.parametrize("t", TYPES, ids=IDS)
@pytest.mark.parametrize("op", list(CMPS), ids=["eq", "ne", "lt", "le", "gt", "ge"])
@settings(deadline=None)
@given(data=st.data())
def test_comparisons(t, op, data):
    a, b = data.draw(typed_pair(t))
    got = CMPS[op](t(a), t(b))
    assert type(got) is bool and got == CMPS[op](a, b)


@pytest.mark.parametrize("op", [*ARITH.values(), *DIVS.values(), *BITS.values(), operator.lt, operator.eq])
def test_mixing_types_is_an_error(op):
    with pytest.raises(TypeError):
        op(u8(1), u16(1))
    with pytest.raises(TypeError):
        op(i32(1), u32(1))
    with pytest.raises(TypeError):
        op(u8(1), True)


@pytest.mark.parametrize("t", TYPES, ids=IDS)
@settings(deadline=None)
@given(data=st.data())
def test_plain_int_takes_the_typed_operand_type(t, data):
    a, b = data.draw(typed_pair(t))
    check(t, lambda: t(a) + b, expect(t, a + b))
    check(t, lambda: a - t(b), expect(t, a - b))
    check(t, lambda: a & t(b), wrap(t, a & b))
    expected = ZeroDivisionError if b == 0 else expect(t, a // b)
    check(t, lambda: a // t(b), expected)


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_literal_that_does_not_fit_is_rejected(t):
    for bad in (hi(t) + 1, lo(t) - 1):
        with pytest.raises(OverflowError):
            t(0) + bad
        with pytest.raises(OverflowError):
            lang.coerce(t, bad)


def test_operators_outside_the_language():
    for fn in (lambda: u32(4) / u32(2), lambda: u32(2) ** 3, lambda: divmod(u8(7), 2)):
        with pytest.raises(TypeError):
            fn()


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_min_max_abs_keep_the_type(t):
    for a in (lo(t), -1 if t.SIGNED else 1, 0, hi(t)):
        for b in (lo(t), 0, hi(t)):
            assert type(lang.min(t(a), t(b))) is t and lang.min(t(a), t(b)) == min(a, b)
            assert type(lang.max(t(a), b)) is t and lang.max(t(a), b) == max(a, b)  # a plain int adapts
        expected = expect(t, abs(a))
        check(t, lambda a=a: abs(t(a)), expected)          # Python's builtin abs on a typed value
        check(t, lambda a=a: lang.abs(t(a)), expected)


def test_min_max_refuse_what_the_compiler_refuses():
    for fn in (lambda: lang.min(u8(1), i8(1)), lambda: lang.max(u8(1)), lambda: lang.min(u8(1), True),
               lambda: lang.abs(True)):
        with pytest.raises(TypeError):
            fn()
    with pytest.raises(OverflowError):
        lang.max(u8(1), 300)


def test_u8_wraps_as_in_the_contract():
    x = u8(255)
    assert x + 1 == 0 and type(x + 1) is u8
    assert u8(0) - 1 == 255
    with pytest.raises(OverflowError):
        i8(127) + 1


# ----- arrays, structs, pointers -----------------------------------------------------------------

def test_array_is_zeroed_bounds_checked_and_converts_elements():
    a = Array[u8, 4]()
    assert len(a) == 4 and all(a[i] == 0 and type(a[i]) is u8 for i in range(4))
    a[3] = 255
    a[3] += 1
    assert a[3] == 0
    for bad in (4, -1, u32(100)):
        with pytest.raises(IndexError):
            a[bad]
        with pytest.raises(IndexError):
            a[bad] = 1
    with pytest.raises(OverflowError):
        a[0] = 256
    with pytest.raises(TypeError):
        a[0] = u16(1)
    assert Array[u8, 4] is Array[u8, 4]


def test_struct_fields_zero_convert_and_copy():
    @struct
    class Inner:
        x: u16
        y: Array[i8, 2]

    @struct
    class Outer:
        a: u32
        inner: Inner
        ok: bool
        p: Ptr[u8]

    o = Outer()
    assert o.a == 0 and o.inner.x == 0 and o.ok is False and o.p == NULL
    o.inner.y[1] = -5
    c = o.copy()
    c.inner.y[1] = 7
    assert o.inner.y[1] == -5
    with pytest.raises(OverflowError):
        o.a = -1
    with pytest.raises(TypeError):
        o.ok = 1
    with pytest.raises(AttributeError):
        o.nope = 1
    assert sizeof(Inner) == 4 and sizeof(Outer) == 24


def test_packed_struct_layout():
    @struct(packed=True)
    class P:
        a: u8
        b: u32

    @struct
    class Q:
        a: u8
        b: u32

    assert sizeof(P) == 5 and sizeof(Q) == 8


def test_impure_operations_raise():
    for fn in (lambda: lang.addr(1), lambda: lang.cast(Ptr[u8], 0), lambda: lang.volatile_load(NULL),
               lambda: lang.asm("nop"), lambda: lang.extern_symbol("_end"), lambda: lang.mmio(u8, 0)):
        with pytest.raises(NotPureError, match="pure code only"):
            fn()
    with pytest.raises(NullPointerError):
        NULL[0]
    with pytest.raises(Panic, match="boom"):
        lang.panic("boom")
    assert lang.TARGET == "host"


# ----- load_python -------------------------------------------------------------------------------

def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_load_python_annotations_params_returns(tmp_path):
    m = load_python(write(tmp_path, "m.py", """
        from kcc.lang import *

        def inc(x: u8) -> u8:
            y: u8 = x
            y += 1
            return y

        def lit() -> u8:
            x: u8 = 255
            return x + 1

        def widen(x: u8) -> u32:
            return u32(x) << 8

        def bad_return(x: u8) -> u16:
            return x
        """))
    assert repr(m.inc(255)) == "u8(0)"
    assert repr(m.lit()) == "u8(0)"
    assert repr(m.widen(255)) == "u32(65280)"
    with pytest.raises(OverflowError):
        m.inc(256)
    with pytest.raises(TypeError):
        m.inc(u16(1))
    with pytest.raises(TypeError):
        m.bad_return(1)


def test_load_python_inferred_locals_keep_their_type(tmp_path):
    m = load_python(write(tmp_path, "m.py", """
        from kcc.lang import *

        def f(x: u8) -> u8:
            y = x
            y = 255
            y = y + 1
            return y

        def g(x: u8) -> u8:
            y = x
            y = 300
            return y
        """))
    assert m.f(3) == 0
    with pytest.raises(OverflowError):
        m.g(1)


def test_load_python_globals_arrays_structs(tmp_path):
    m = load_python(write(tmp_path, "m.py", """
        from kcc.lang import *

        N: Final = 3
        count: u32 = 0
        table: Array[u16, N]

        @struct
        class Node:
            value: i32
            next: Ptr[Node]
            tags: Array[u8, 2]

        nodes: Array[Node, N]

        def bump() -> u32:
            global count
            count += 1
            return count

        def store(i: u32, v: u16) -> u16:
            table[i] = v
            return table[i]

        def copies() -> i32:
            a: Node
            a.value = 5
            b = a
            b.value = 7
            nodes[1] = a
            nodes[1].tags[0] = 9
            assert a.tags[0] == 0, "nodes[1] holds a copy"
            return a.value * 10 + b.value
        """))
    assert m.bump() == 1 and m.bump() == 2 and type(m.count) is u32
    assert m.store(2, 65535) == 65535
    with pytest.raises(IndexError):
        m.store(3, 1)
    assert m.copies() == 57
    assert m.nodes[1].value == 5 and m.nodes[1].next == NULL
    fresh = load_python(tmp_path / "m.py")
    assert fresh.count == 0  # every load has its own globals


def test_load_python_range_is_typed_by_bounds_or_variable(tmp_path):
    m = load_python(write(tmp_path, "m.py", """
        from kcc.lang import *

        def total(n: u8) -> u8:
            s: u8 = 0
            for i in range(n):
                s += i
            return s

        def last(n: u32) -> u32:
            i: u32 = 7
            for i in range(2, n, 3):
                pass
            return i
        """))
    assert repr(m.total(23)) == "u8(253)"
    assert repr(m.total(24)) == "u8(20)"  # 276 wraps to 20
    assert m.last(10) == 8 and m.last(2) == 7


def test_load_python_tuple_assignment_and_assert(tmp_path):
    m = load_python(write(tmp_path, "m.py", """
        from kcc.lang import *

        def fib(n: u32) -> u64:
            a: u64 = 0
            b: u64 = 1
            for i in range(n):
                a, b = b, a + b
            return a

        def check(x: i32) -> i32:
            assert x > 0, "x must be positive"
            return x
        """))
    assert m.fib(10) == 55 and m.fib(94) == wrap(u64, 19740274219868223167)
    with pytest.raises(AssertionError, match="positive"):
        m.check(0)


def test_assert_survives_python_O(tmp_path):
    path = write(tmp_path, "m.py", """
        from kcc.lang import *

        def check(x: i32) -> i32:
            assert x > 0
            return x
        """)
    code = (f"import kcc\nm = kcc.load_python({str(path)!r})\n"
            "try:\n    m.check(0)\nexcept AssertionError:\n    print('raised')\n")
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, cwd=repo,
                         env={"PYTHONPATH": str(repo)}, check=True)
    assert out.stdout.strip() == "raised"


def test_load_python_imports_of_the_source_root(tmp_path):
    write(tmp_path, "lib/fmt.py", """
        from kcc.lang import *

        BASE: Final = 10

        def digits(x: u32) -> u32:
            n: u32 = 1
            while x >= BASE:
                x //= BASE
                n += 1
            return n
        """)
    write(tmp_path, "core/sched.py", """
        from kcc.lang import *
        from lib import fmt

        def width(x: u32) -> u32:
            return fmt.digits(x) + 1
        """)
    write(tmp_path, "arch/host/cpu.py", """
        from kcc.lang import *

        def harts() -> u32:
            return 1
        """)
    main = write(tmp_path, "core/main.py", """
        from kcc.lang import *
        import core.sched as s
        import lib.fmt
        from lib.fmt import BASE
        from arch import cpu
        from board import HZ

        def run(x: u32) -> u32:
            return s.width(x) + lib.fmt.digits(x) + cpu.harts() + HZ + BASE
        """)
    m = load_python(main, root=tmp_path, board_constants={"HZ": 100})
    assert m.run(12345) == 6 + 5 + 1 + 100 + 10
    assert m.s.fmt is m.lib.fmt  # one module object per load


def test_load_python_missing_import(tmp_path):
    path = write(tmp_path, "m.py", "from nothere import x\n")
    with pytest.raises(ImportError, match="nothere"):
        load_python(path)


@pytest.fixture(scope="module")
def mix_module(tmp_path_factory):
    return load_python(write(tmp_path_factory.mktemp("mix"), "m.py", """
        from kcc.lang import *

        def mix(a: u8, b: u8) -> u8:
            return (a * 3 + b) // b ^ (a << 1)
        """))


@settings(deadline=None)
@given(a=st.integers(0, 255), b=st.integers(0, 255))
def test_load_python_matches_reference_u8(mix_module, a, b):
    assume(b != 0)
    assert mix_module.mix(a, b) == wrap(u8, wrap(u8, a * 3 + b) // b ^ wrap(u8, a << 1))
