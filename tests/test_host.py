"""Differential tests (language.md, "The host target and CPython"): kcc.load_host and kcc.load_python agree on every case.

For each function of the cases in tests/lang_cases/ and of a generated module
with every operator at every width, hypothesis draws arguments of the
parameters' types (edges included); the compiled call and the CPython call must
return the same typed value, or both raise the same exception (the compiled
one from a panic, which leaves the process running).
"""

import ast
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcc import lang, load_host, load_python
from kcc.lang import NullPointerError, Panic

CASES = Path(__file__).resolve().parent / "lang_cases"
INTS = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize"]
STOPS = (ArithmeticError, IndexError, ValueError, AssertionError, Panic, NullPointerError)


def public_functions(path: Path) -> list[str]:
    """Names of a case file's module-level functions (helpers start with '_')."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def argument(type_name: str) -> st.SearchStrategy[Any]:
    """Values of a parameter type, biased towards the edges where wrapping, overflow and panics live."""
    if type_name == "bool":
        return st.booleans()
    t = lang.INT_TYPES[type_name]
    near = (t.MIN, t.MIN + 1, -2, -1, 0, 1, 2, 3, 7, 8, t.BITS - 1, t.BITS, t.MAX - 1, t.MAX)
    edges = sorted({v for v in near if t.MIN <= v <= t.MAX})
    return st.one_of(st.sampled_from(edges), st.integers(t.MIN, t.MAX), st.integers(max(t.MIN, -300), 300))


def outcome(fn: Any, args: list[Any]) -> tuple[Any, ...]:
    """('ok', result type, value) or ('stop', exception type)."""
    try:
        result = fn(*args)
    except STOPS as exc:
        return ("stop", type(exc))
    return ("ok", type(result), None if result is None else int(result))


def agree(host_fn: Any, py_fn: Any, args: list[Any]) -> None:
    compiled = outcome(host_fn, args)
    python = outcome(py_fn, args)
    assert compiled == python, f"{host_fn.sig.name}{tuple(args)}: compiled {compiled}, python {python}"


class Pair:
    """One case file loaded both ways; calls go to both in the same order, so globals stay in step."""

    def __init__(self, path: Path, root: Path, opt: int = 2) -> None:
        self.host = load_host(path, root=root, opt=opt)
        self.py = load_python(path, root=root)

    def check(self, name: str, data: st.DataObject) -> None:
        host_fn = getattr(self.host, name)
        args = [data.draw(argument(t), label=n) for n, t in host_fn.sig.params]
        agree(host_fn, getattr(self.py, name), args)


# ----- the construct cases -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def constructs() -> Pair:
    return Pair(CASES / "constructs.py", CASES)


@pytest.mark.parametrize("name", public_functions(CASES / "constructs.py"))
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_construct_agrees(constructs, name, data):
    constructs.check(name, data)


@pytest.fixture(scope="module")
def constructs_O0() -> Pair:
    return Pair(CASES / "constructs.py", CASES, opt=0)


@pytest.mark.parametrize("name", public_functions(CASES / "constructs.py"))
@settings(deadline=None, max_examples=25)
@given(data=st.data())
def test_construct_agrees_unoptimised(constructs_O0, name, data):
    constructs_O0.check(name, data)


@pytest.fixture(scope="module")
def idioms() -> Pair:
    return Pair(CASES / "idioms.py", CASES)


@pytest.mark.parametrize("name", public_functions(CASES / "idioms.py"))
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_idiom_agrees(idioms, name, data):
    idioms.check(name, data)


def test_idioms_stop_where_python_stops(idioms):
    for fn in (idioms.host, idioms.py):
        with pytest.raises(ValueError):
            fn.range_runtime_step(1, 5, 0)      # CPython: range() arg 3 must not be zero
        with pytest.raises(ValueError):
            fn.range_runtime_step_unsigned(9, 5, 0)  # raised even when the loop would not run
        with pytest.raises(OverflowError):
            fn.magnitude(-(1 << 31))
        with pytest.raises(OverflowError):
            fn.range_default_i32(1 << 30)       # i is an i32: 3 * 2**30 overflows
    assert idioms.host.range_typed_by_operand(250) == idioms.py.range_typed_by_operand(250) == 9


# ----- every operator at every width --------------------------------------------------------------

BINARY = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%", "and": "&", "or": "|",
          "xor": "^", "shl": "<<", "shr": ">>"}
COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def operator_source() -> str:
    """A module with one function per operator and integer type, and every conversion."""
    out = ["from kcc.lang import *\n"]
    for t in INTS:
        for name, op in BINARY.items():
            out.append(f"def {name}_{t}(a: {t}, b: {t}) -> {t}:\n    return a {op} b\n")
        for name, op in COMPARE.items():
            out.append(f"def {name}_{t}(a: {t}, b: {t}) -> bool:\n    return a {op} b\n")
        out.append(f"def shl8_{t}(a: {t}, n: u8) -> {t}:\n    return a << n\n")
        out.append(f"def shr8_{t}(a: {t}, n: u8) -> {t}:\n    return a >> n\n")
        out.append(f"def neg_{t}(a: {t}) -> {t}:\n    return -a\n")
        out.append(f"def inv_{t}(a: {t}) -> {t}:\n    return ~a\n")
        out.append(f"def iadd_{t}(a: {t}, b: {t}) -> {t}:\n    a += b\n    a *= b\n    return a\n")
        out.append(f"def lit_{t}(a: {t}) -> {t}:\n    return (a - 1) * 3 // 2 % 7 + 1\n")
        out.append(f"def chain_{t}(a: {t}, b: {t}, c: {t}) -> bool:\n    return a <= b < c\n")
        for s in INTS:
            out.append(f"def conv_{t}_{s}(x: {s}) -> {t}:\n    return {t}(x)\n")
    return "\n".join(out)


@pytest.fixture(scope="module")
def operators(tmp_path_factory) -> Pair:
    root = tmp_path_factory.mktemp("ops")
    path = root / "ops.py"
    path.write_text(operator_source(), encoding="utf-8")
    return Pair(path, root)


@pytest.mark.parametrize("t", INTS)
@pytest.mark.parametrize("op", [*BINARY, *COMPARE, "shl8", "shr8", "neg", "inv", "iadd", "lit", "chain"])
@settings(deadline=None, max_examples=120)
@given(data=st.data())
def test_operator_agrees(operators, op, t, data):
    operators.check(f"{op}_{t}", data)


@pytest.mark.parametrize("t", INTS)
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_conversion_agrees(operators, t, data):
    source = data.draw(st.sampled_from(INTS))
    operators.check(f"conv_{t}_{source}", data)


@pytest.mark.parametrize("t", INTS)
def test_operator_edges_exhaustively(operators, t):
    """Division, modulo and shifts at the corners, every pair, both ways."""
    ty = lang.INT_TYPES[t]
    corners = sorted({ty.MIN, ty.MIN + 1, -1 if ty.SIGNED else 2, 0, 1, ty.BITS - 1, ty.BITS, ty.BITS + 1,
                      ty.MAX - 1, ty.MAX})
    for op in ("floordiv", "mod", "shl", "shr", "mul", "add", "sub"):
        for a in corners:
            for b in corners:
                agree(getattr(operators.host, f"{op}_{t}"), getattr(operators.py, f"{op}_{t}"), [a, b])


# ----- panics become exceptions; arguments convert as in load_python --------------------------------

def test_panics_are_located_exceptions_and_the_process_survives(constructs):
    host = constructs.host
    location = re.compile(r"constructs\.py:\d+:\d+: ")
    cases = [
        (ZeroDivisionError, lambda: host.divide(1, 0)),
        (ZeroDivisionError, lambda: host.remainder(1, 0)),
        (OverflowError, lambda: host.divide(-(1 << 63), -1)),
        (OverflowError, lambda: host.negate(-128)),
        (IndexError, lambda: host.index_checked(5)),
        (ValueError, lambda: host.shift_by(1, -1)),
        (AssertionError, lambda: host.assert_positive(0)),
        (Panic, lambda: host.explicit_panic(13)),
        (ZeroDivisionError, lambda: host.deep_panic(200)),  # unwinds 200 frames
    ]
    for _ in range(3):
        for exc_type, call in cases:
            with pytest.raises(exc_type) as info:
                call()
            assert location.search(str(info.value)), str(info.value)
    with pytest.raises(AssertionError, match="x must be positive"):
        host.assert_positive(-5)
    with pytest.raises(Panic, match="unlucky"):
        host.explicit_panic(13)
    assert host.divide(7, -2) == -4 and host.explicit_panic(12) == 12


def test_arguments_bind_and_convert_like_load_python(constructs):
    host, py = constructs.host, constructs.py
    assert host.defaults(3) == py.defaults(3) == 11
    assert host.defaults(3, c=False) == py.defaults(3, c=False) == 3
    assert host.defaults(b=2, a=1) == py.defaults(b=2, a=1) == 4
    for fn in (host.defaults, py.defaults):
        with pytest.raises(OverflowError):
            fn(1 << 32)
        with pytest.raises(OverflowError):
            fn(-1)
        with pytest.raises(TypeError):
            fn(lang.u16(1))
        with pytest.raises(TypeError):
            fn(1, c=1)
    with pytest.raises(TypeError):
        host.defaults()
    with pytest.raises(TypeError):
        host.defaults(1, nope=2)
    assert type(host.fib(10)) is lang.u64 and host.not_both(True, True) is False


def test_each_load_has_fresh_globals(tmp_path):
    path = tmp_path / "g.py"
    path.write_text(textwrap.dedent("""
        from kcc.lang import *

        hits: u32 = 0

        def hit() -> u32:
            global hits
            hits += 1
            return hits
        """), encoding="utf-8")
    a = load_host(path)
    b = load_host(path)
    assert [a.hit(), a.hit(), b.hit()] == [1, 2, 1]


def test_release_build_drops_checks_but_keeps_division_panics(tmp_path):
    path = tmp_path / "r.py"
    path.write_text(textwrap.dedent("""
        from kcc.lang import *

        def div(a: i32, b: i32) -> i32:
            return a // b

        def ok(x: i32) -> bool:
            assert x > 0
            return True
        """), encoding="utf-8")
    release = load_host(path, checked=False)
    with pytest.raises(ZeroDivisionError):
        release.div(1, 0)  # language.md, "Checked and release builds"
    assert release.ok(0) is True  # language.md, "Checked and release builds": asserts are compiled out of release builds
    with pytest.raises(AssertionError):
        load_host(path).ok(0)


def test_only_scalar_signatures_are_callable(tmp_path):
    path = tmp_path / "p.py"
    path.write_text(textwrap.dedent("""
        from kcc.lang import *

        def first(p: Ptr[u8]) -> u8:
            return p[0]
        """), encoding="utf-8")
    with pytest.raises(TypeError, match="cannot be called from Python"):
        load_host(path).first(0)
