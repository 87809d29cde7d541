"""Located rejection of everything language.md, "Not in the language" lists, and of each kind of typing error.

Every case compiles a one-module program from a temporary source root for the
host target and asserts the exact ``path:line:col: error: message`` head, the
source line and the caret line of language.md, "Diagnostics". The expected position is
where ``at`` first occurs in the source, so each case states *what* the error
points at rather than a bare number.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kcc.cli import cli
from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError, Diagnostic
from kcc.targets import get_target

HEADER = "from kcc.lang import *\n\n"
HOST = get_target("host")


def diagnostics(root: Path, source: str, name: str = "m") -> list[Diagnostic]:
    """Compile ``source`` (kcc.lang header prepended) as module ``name`` of ``root``; its diagnostics.

    Fails the test when the program compiles or when anything other than CompileError escapes.
    """
    (root / f"{name}.py").write_text(HEADER + source, encoding="utf-8")
    with pytest.raises(CompileError) as info:
        compile_program(root, name, BuildOptions(HOST))
    return info.value.diagnostics


def position(source: str, at: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) in ``HEADER + source`` of the ``occurrence``-th ``at`` in ``source``."""
    text = HEADER + source
    index = len(HEADER) - 1
    for _ in range(occurrence):
        index = text.index(at, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def assert_rendered(diag: Diagnostic, path: str, line: int, col: int, message: str, width: int | None = None) -> None:
    """``diag`` renders as language.md, "Diagnostics" says: head, numbered source line, caret span under the column."""
    lines = diag.render().splitlines()
    assert lines[0] == f"{path}:{line}:{col}: error: {message}", diag.render()
    source_line = diag.source.lines[line - 1]
    assert lines[1] == f" {line:>4} | {source_line}"
    caret = lines[2]
    prefix = f" {'':>4} | " + " " * (col - 1)
    assert caret.startswith(prefix + "^"), diag.render()
    if width is not None:
        assert caret == prefix + "^" * width, diag.render()


def check_one(root: Path, source: str, at: str, message: str, *, occurrence: int = 1,
              hint: str | None = None, width: int | None = None) -> Diagnostic:
    """Exactly one diagnostic, located at ``at``, whose message starts with ``message``."""
    diags = diagnostics(root, source)
    assert len(diags) == 1, "\n".join(d.render() for d in diags)
    diag = diags[0]
    line, col = position(source, at, occurrence)
    assert (diag.line, diag.col) == (line, col), diag.render()
    assert diag.message.startswith(message), diag.render()
    assert_rendered(diag, "m.py", line, col, diag.message, width)
    if hint is not None:
        assert f"hint: {hint}" in diag.render().splitlines(), diag.render()
    return diag


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh source root that is also the current directory, so paths print as ``m.py``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# (source, what the error points at (or (text, n) for its n-th occurrence), message prefix).
# Section 7's list, in its order, then the rest of Python that the parser rejects on the same grounds.
FORBIDDEN = [
    pytest.param("def f() -> None:\n    c = [1, 2]\n", "[1, 2]", "lists are not in the language",
                 id="list"),
    pytest.param("def f() -> None:\n    d = {1: 2}\n", "{1: 2}", "dicts are not in the language", id="dict"),
    pytest.param("def f() -> None:\n    s = {1, 2}\n", "{1, 2}", "sets are not in the language", id="set"),
    pytest.param('def f() -> u32:\n    return "abc".upper()\n', '"abc".upper()', "Ptr[u8] has no methods",
                 id="str-method-on-literal"),
    pytest.param('X: Final = "abc"\n\n\ndef f() -> u32:\n    return X.count(1)\n', "X.count(1)",
                 "Ptr[u8] has no methods", id="str-method-on-constant"),
    pytest.param('def f() -> u32:\n    p: Ptr[u8] = "abc"\n    return p.find(1)\n', "p.find(1)",
                 "Ptr[u8] has no methods", id="str-method-on-pointer"),
    pytest.param("def f() -> None:\n    x = [i for i in range(3)]\n", "[i for", "comprehensions are not in",
                 id="list-comprehension"),
    pytest.param("def f() -> None:\n    x = {i for i in range(3)}\n", "{i for", "comprehensions are not in",
                 id="set-comprehension"),
    pytest.param("def f() -> None:\n    x = {i: i for i in range(3)}\n", "{i: i", "comprehensions are not in",
                 id="dict-comprehension"),
    pytest.param("def f() -> None:\n    g(i for i in range(3))\n", "(i for", "generator expressions are not in",
                 id="generator-expression"),
    pytest.param('def f(a: u32) -> None:\n    x = f"{a}"\n', 'f"{a}"', "f-strings are not in the language",
                 id="f-string"),
    pytest.param("def f() -> None:\n    x = 1.5\n", "1.5", "floats are not in the language", id="float"),
    pytest.param("X: Final = 2e3\n", "2e3", "floats are not in the language", id="float-exponent"),
    pytest.param("def f() -> None:\n    x = 1j\n", "1j", "complex numbers are not in the language", id="complex"),
    pytest.param("def f() -> None:\n    g = lambda: 1\n", "lambda", "lambdas are not in the language",
                 id="lambda"),
    pytest.param("def f(a: u32) -> u32:\n    def g() -> u32:\n        return a\n    return g()\n",
                 "def g", "nested functions and closures are not in the language", id="closure"),
    pytest.param("def f() -> None:\n    def g() -> None:\n        pass\n", "def g",
                 "nested functions and closures are not in the language", id="nested-function"),
    pytest.param("class A:\n    x: u32\n", "class A", "classes other than @struct are not in the language",
                 id="plain-class"),
    pytest.param("@struct\nclass A:\n    x: u32\n\n\n@struct\nclass B(A):\n    y: u32\n", "class B",
                 "inheritance is not in the language", id="inheritance"),
    pytest.param("@struct\nclass A:\n    x: u32\n\n    def get(self) -> u32:\n        return 0\n", "def get",
                 "methods are not in the language", id="method"),
    pytest.param("def f() -> None:\n    try:\n        pass\n    finally:\n        pass\n", "try:",
                 "try is not in the language", id="try"),
    pytest.param("def f() -> None:\n    with g():\n        pass\n", "with", "with is not in the language",
                 id="with"),
    pytest.param("def f() -> None:\n    raise ValueError()\n", "raise", "raise is not in the language",
                 id="raise"),
    pytest.param("def f() -> u32:\n    yield 1\n", "yield", "generators are not in the language", id="yield"),
    pytest.param("def f() -> u32:\n    yield from g()\n", "yield from", "generators are not in the language",
                 id="yield-from"),
    pytest.param("async def f() -> None:\n    pass\n", "async def", "async is not in the language",
                 id="async-def"),
    pytest.param("def f() -> None:\n    nonlocal x\n", "nonlocal", "nonlocal is not in the language",
                 id="nonlocal"),
    pytest.param("def f(*args: u32) -> None:\n    pass\n", "args: u32", "*args and **kwargs are not in",
                 id="star-args"),
    pytest.param("def f(**kw: u32) -> None:\n    pass\n", "kw: u32", "*args and **kwargs are not in",
                 id="star-star-kwargs"),
    pytest.param("def f(p: Ptr[u8]) -> bool:\n    return p is NULL\n", "p is NULL", "'is' is not in the language",
                 id="is"),
    pytest.param("def f(p: Ptr[u8]) -> bool:\n    return p is not NULL\n", "p is not", "'is' is not in",
                 id="is-not"),
    pytest.param("import os\n", "import os", "no module 'os' in the source root", id="import-stdlib"),
    pytest.param("from typing import List\n", "from typing", "cannot import 'typing'", id="from-stdlib"),
    pytest.param("from os.path import join\n", "from os.path", "cannot import 'os.path'", id="from-stdlib-dotted"),
    pytest.param("import numpy as np\n", "import numpy", "no module 'numpy' in the source root",
                 id="import-third-party"),
    pytest.param("from kcc import lang\n", "from kcc", "cannot import 'kcc'", id="from-kcc"),
    pytest.param("import kcc.lang\n", "import kcc", "import names from kcc.lang with", id="import-kcc-lang"),
    pytest.param("from . import sibling\n", "from .", "relative imports are not in the language",
                 id="relative-import"),
    pytest.param("from kcc.lang import nosuch\n", "from kcc.lang import nosuch", "kcc.lang has no name 'nosuch'",
                 id="unknown-lang-name"),
    # Python beyond the list of language.md, "Not in the language" that the language leaves out for the same reasons.
    pytest.param("def f(a: u32) -> None:\n    if (b := a):\n        pass\n", "b := a",
                 "assignment expressions (:=) are not in", id="walrus"),
    pytest.param("def f(a: u32) -> None:\n    del a\n", "del a", "del is not in the language", id="del"),
    pytest.param("def f(a: u32) -> None:\n    match a:\n        case 1:\n            pass\n", "match a",
                 "match is not in the language", id="match"),
    pytest.param("def f() -> None:\n    for i in range(u8(3)):\n        pass\n    else:\n        pass\n",
                 ("pass", 2), "for ... else is not in", id="for-else"),
    pytest.param("def f(a: u32, b: u32) -> bool:\n    return a in b\n", "a in b", "'in' is not in the language",
                 id="in"),
    pytest.param('def f() -> None:\n    x = b"ab"\n', 'b"ab"', "bytes literals are not in the language",
                 id="bytes"),
    pytest.param("def f(a: Array[u8, 4]) -> None:\n    x = a[1:2]\n", "1:2", "slices are not in the language",
                 id="slice"),
    pytest.param("def f(a: u32) -> None:\n    g(*a)\n", "*a", "starred expressions are not in", id="starred"),
    pytest.param("def f(a: u32, *, b: u32) -> None:\n    pass\n", "def f",
                 "keyword-only and positional-only parameters are not in", id="keyword-only"),
]


@pytest.mark.parametrize("source, at, message", FORBIDDEN)
def test_section7_construct_is_rejected_where_it_stands(root: Path, source: str, at: str | tuple[str, int],
                                                        message: str) -> None:
    text, occurrence = at if isinstance(at, tuple) else (at, 1)
    check_one(root, source, text, message, occurrence=occurrence)


def test_caret_spans_the_whole_construct(root: Path) -> None:
    check_one(root, "def f() -> None:\n    c = [1, 2]\n", "[1, 2]", "lists are", width=len("[1, 2]"),
              hint="use Array[T, N]; a Final table is a tuple: (a, b, c)")
    check_one(root, "def f() -> None:\n    g = lambda: 1\n", "lambda", "lambdas", width=len("lambda: 1"))


# Typing errors (language.md, "Types" through "Functions"): source, what the error points at, message prefix, hint.
TYPING = [
    pytest.param("def f(a: u8, b: i32) -> u8:\n    return a & b\n", "a & b", "cannot mix u8 and i32 in '&'",
                 "convert one side, e.g. u8(b)", id="mixed-integers"),
    pytest.param("def f(a: u16, b: u32) -> bool:\n    return a < b\n", "a < b",
                 "cannot mix u16 and u32 in a comparison", "convert one side, e.g. u16(b)", id="mixed-compare"),
    pytest.param("def f(a: u8) -> u32:\n    return a\n", "a\n", "expected u32, found u8", "convert it: u32(a)",
                 id="implicit-widening"),
    pytest.param("def f() -> None:\n    x: u8 = 300\n", "300", "300 does not fit u8", "u8 holds 0..255",
                 id="literal-too-big"),
    pytest.param("def f() -> None:\n    x: i8 = -129\n", "-129", "-129 does not fit i8", "i8 holds -128..127",
                 id="literal-too-small"),
    pytest.param("def f(a: u8) -> u8:\n    return a + 256\n", "256", "256 does not fit u8", None,
                 id="literal-operand"),
    pytest.param("x: u16 = 70000\n", "70000", "70000 does not fit u16", None, id="literal-global"),
    pytest.param("def f() -> i8:\n    return i8(127) + 1\n", "i8(127) + 1",
                 "signed overflow in a constant expression of type i8", "i8 holds -128..127",
                 id="constant-signed-overflow"),
    pytest.param("X: Final = 1 << 5000\n", "1 << 5000", "constant is too large", None, id="constant-too-large"),
    pytest.param("def f() -> None:\n    x: u32 = -1\n", "-1", "-1 does not fit u32", None,
                 id="negative-unsigned"),
    pytest.param("def g(a: u32, b: u32) -> u32:\n    return a + b\n\n\ndef f() -> u32:\n    return g(1, 2, 3)\n",
                 "g(1, 2, 3)", "'g' takes 2 arguments, 3 given", None, id="too-many-arguments"),
    pytest.param("def g(a: u32, b: u32) -> u32:\n    return a + b\n\n\ndef f() -> u32:\n    return g(1)\n",
                 "g(1)", "missing argument 'b' of 'g'", None, id="missing-argument"),
    pytest.param("def g(a: u32, b: u32) -> u32:\n    return a + b\n\n\ndef f() -> u32:\n    return g(1, c=2)\n",
                 "c=2", "'g' has no parameter 'c'", "parameters: a, b", id="unknown-keyword"),
    pytest.param("def g(a: u32) -> u32:\n    return a\n\n\ndef f() -> u32:\n    return g(1, a=2)\n",
                 "a=2", "'a' is given twice", None, id="keyword-twice"),
    pytest.param("def g(a: u32) -> u32:\n    return a\n\n\ndef f(p: Ptr[u8]) -> u32:\n    return g(p)\n",
                 "p)", "expected u32, found Ptr[u8]", "take the address: usize(p)", id="argument-type"),
    pytest.param("def f(a: u32) -> u32:\n    if a > 0:\n        return 1\n", "def f",
                 "function 'f' can reach its end without returning u32", "add a return at the end",
                 id="missing-return"),
    pytest.param("def f() -> u32:\n    return y\n", "y", "name 'y' is not defined", None, id="undefined-name"),
    pytest.param("def f() -> u32:\n    y = u32(1) + z\n    return y\n", "z", "name 'z' is not defined", None,
                 id="undefined-in-expression"),
    pytest.param("def f(a: u32) -> u32:\n    b = a + c\n    c = a\n    return b\n", "c\n",
                 "local 'c' is used before it is assigned", None, id="used-before-assigned"),
    pytest.param("@foo\ndef f() -> None:\n    pass\n", "foo", "unknown decorator 'foo'",
                 "known: export, extern, inline, interrupt, naked, noinline, noreturn, printf_like, section",
                 id="unknown-decorator"),
    pytest.param("@staticmethod\ndef f() -> None:\n    pass\n", "staticmethod", "unknown decorator 'staticmethod'",
                 None, id="python-decorator"),
    pytest.param("@section\ndef f() -> None:\n    pass\n", "section", "@section takes one non-empty string",
                 None, id="section-without-name"),
    pytest.param("@naked(1)\ndef f() -> None:\n    pass\n", "naked(1)", "@naked takes no arguments", None,
                 id="decorator-arguments"),
    pytest.param("def f(p: Ptr[u8]) -> u32:\n    return p\n", "p\n", "expected u32, found Ptr[u8]", None,
                 id="wrong-return-type"),
    pytest.param("def f() -> None:\n    return 1\n", "1", "this function returns None",
                 "change its return annotation", id="value-from-none-function"),
    pytest.param("def f() -> u32:\n    return\n", "return", "return needs a value of type u32", None,
                 id="bare-return"),
    pytest.param("a: Array[u8, -1]\n", "-1", "an Array's count must be a non-negative integer constant", None,
                 id="negative-array-count"),
    pytest.param('a: Array[u8, "four"]\n', '"four"', "an Array's count must be a non-negative integer constant",
                 None, id="string-array-count"),
    pytest.param("def f(n: u32) -> None:\n    a: Array[u8, n]\n", "n]", "not a constant expression", None,
                 id="variable-array-count"),
    pytest.param("a: Array[u8]\n", "Array[u8]", "Array takes an element type and a count", None,
                 id="array-without-count"),
    pytest.param("def f(a: u32) -> u32:\n    return a()\n", "a()", "'a' is not a function", None,
                 id="call-local"),
    pytest.param("x: u32 = 0\n\n\ndef f() -> u32:\n    return x()\n", "x()", "'x' is not a function", None,
                 id="call-global"),
    pytest.param("@struct\nclass S:\n    x: u32\n\n\ndef f() -> None:\n    s = S()\n", "S()",
                 "struct S is not called", None, id="call-struct"),
    pytest.param("def f() -> u32:\n    a: Array[u8, 4]\n    return a\n", "a\n", "expected u32, found Array[u8, 4]",
                 None, id="array-as-int"),
    pytest.param("def f() -> u32:\n    a: Array[u32, 4]\n    return a + 1\n", "a + 1", "'+' needs integers", None,
                 id="array-arithmetic"),
    pytest.param("def f() -> None:\n    a: Array[u8, 4]\n    a = 5\n", "5", "expected Array[u8, 4], found int",
                 None, id="int-as-array"),
    pytest.param("def f(a: u32, b: u32) -> bool:\n    return a and b\n", "a and", "'and' takes bools, not u32",
                 "compare explicitly, e.g. x != 0", id="and-on-integers"),
    pytest.param("def f(a: u32, b: u32) -> u32:\n    return a / b\n", "a / b", "'/' is not in the language",
                 "use // for integer division", id="true-division"),
    pytest.param("def f(a: u32, b: u32) -> u32:\n    return a ** b\n", "a ** b", "'**' is not in the language",
                 None, id="power"),
    pytest.param("def f(n: u32) -> None:\n    for i in range(u32(0), n, True):\n        pass\n", "True):",
                 "range's step is an integer", None, id="range-step"),
    pytest.param("def f(n: u32, s: u8) -> None:\n    for i in range(n, n, s):\n        pass\n", "s):",
                 "expected u32, found u8", "convert it: u32(s)", id="range-step-type"),
    pytest.param("def f() -> None:\n    for i in range(3000000000):\n        pass\n", "3000000000",
                 "3000000000 does not fit i32", None, id="range-default-i32"),
    pytest.param("def f(a: u8, b: i8) -> u8:\n    return min(a, b)\n", "b)", "cannot mix u8 and i8 in min()",
                 "convert it: u8(b)", id="min-mixed"),
    pytest.param("def f(a: u8) -> u8:\n    return max(a)\n", "max(a)", "max takes two or more integers of one type",
                 None, id="max-one-argument"),
    pytest.param("def f(a: bool) -> bool:\n    return abs(a)\n", "a)", "abs() takes integers, not bool", None,
                 id="abs-bool"),
    pytest.param("def f() -> None:\n    x = min(1, 2)\n", "min(1, 2)", "cannot infer the type of 'x'", None,
                 id="min-untyped"),
    pytest.param("def f() -> None:\n    print(1)\n", "print(1)", "'print' is not in the language", None,
                 id="print"),
    pytest.param("@struct\nclass S:\n    x: u8\n\n\ndef g(a: Arg) -> None:\n    pass\n\n\ndef f(s: S) -> None:\n"
                 "    g(s)\n", "s)", "'a' of 'g' formats an integer, a bool or a pointer, not S", None,
                 id="format-argument"),
    pytest.param("class E(IntEnum):\n    A = 1\n\n\ndef f() -> u8:\n    return E.B\n", "E.B",
                 "IntEnum E has no member 'B'", "members: A", id="enum-member"),
    pytest.param("class E(IntEnum):\n    A = 1\n\n    def f(self) -> None:\n        pass\n", "def f",
                 "an IntEnum class holds only NAME = value members", None, id="enum-method"),
    pytest.param("class E(IntEnum):\n    A = 1\n    A = 2\n", "A = 2", "'A' is already a member of E", None,
                 id="enum-duplicate"),
    pytest.param("class E(IntEnum):\n    A = 1\n\n\ndef f() -> None:\n    E.A = 2\n", "E.A", "E.A is a constant",
                 None, id="enum-assigned"),
    pytest.param("g: u32 = 0\n\n\ndef f() -> None:\n    atomic_store(addr(g), 1, ACQUIRE)\n", "ACQUIRE",
                 "atomic_store's memory order is one of RELAXED, RELEASE, SEQ_CST", None, id="atomic-order"),
    pytest.param("g: bool = False\n\n\ndef f() -> bool:\n    return atomic_load(addr(g))\n", "addr(g)",
                 "atomic_load needs a pointer to an integer or a pointer, not Ptr[bool]", None, id="atomic-bool"),
    pytest.param("g: Ptr[u8]\n\n\ndef f() -> None:\n    atomic_add(addr(g), 1)\n", "addr(g)",
                 "atomic_add needs a pointer to an integer, not Ptr[Ptr[u8]]", None, id="atomic-add-pointer"),
    pytest.param("g: u32 = 0\n\n\ndef f() -> u32:\n    return atomic_cas(addr(g), 1)\n", "atomic_cas(",
                 "atomic_cas takes p, expected, desired and an optional memory order", None, id="atomic-arity"),
    pytest.param("def g(a: u8) -> None:\n    pass\n\n\ndef f() -> None:\n    h: Callable[[u32], None] = g\n",
                 "g\n", "expected Callable[[u32], None], found Callable[[u8], None]", None, id="callable-signature"),
    pytest.param("def f(h: Callable[[u32], u32]) -> u32:\n    return h(1, 2)\n", "h(1, 2)",
                 "Callable[[u32], u32] takes 1 arguments, 2 given", None, id="callable-arity"),
    pytest.param("def f(h: Callable[[u32], u32]) -> u32:\n    return h(x=1)\n", "x=1",
                 "a call through a function value takes positional arguments", None, id="callable-keyword"),
    pytest.param("def f(h: Callable[[u32], u32]) -> bool:\n    return h < h\n", "h < h",
                 "cannot compare Callable[[u32], u32] with Callable[[u32], u32]", None, id="callable-order"),
    pytest.param("h: Callable[u32, u32]\n", "Callable[u32, u32]", "Callable takes the parameter types and the result",
                 None, id="callable-malformed"),
    pytest.param("@interrupt\ndef irq() -> None:\n    pass\n\n\ndef f() -> None:\n    h = irq\n", "irq\n",
                 "'irq' is an @interrupt handler: it is not a value", None, id="interrupt-as-value"),
    pytest.param("def f(h: Callable[[], None] = 3) -> None:\n    pass\n", "h:",
                 "a Callable parameter's default is NULL", None, id="callable-default"),
    pytest.param("T: Final[Array[u8, 3]] = (1, 2)\n", "(1, 2)", "Array[u8, 3] needs 3 elements, not 2", None,
                 id="table-length"),
    pytest.param("T: Final[Array[u8, 2]] = (1, 300)\n", "300", "300 does not fit u8", None, id="table-element"),
    pytest.param("T: Final[Array[u8, 2]] = 5\n", "5", "a constant Array[u8, 2] is written as a tuple", None,
                 id="table-not-tuple"),
    pytest.param("T: Final[Array[Ptr[u32], 1]] = (\"a\",)\n", '"a"', "expected Ptr[u32], found a string", None,
                 id="table-string-type"),
    pytest.param("@struct\nclass S:\n    x: u8\n\n\nT: Final[S] = S(y=1)\n", "y=1", "struct S has no field 'y'",
                 "fields: x", id="table-struct-field"),
    pytest.param("@struct\nclass S:\n    x: u8\n\n\nT: Final[S] = S(1, x=2)\n", "x=2", "field 'x' is given twice",
                 None, id="table-struct-twice"),
    pytest.param("T: Final[Array[u8, 2]] = (1, 2)\n\n\ndef f() -> None:\n    T[0] = 3\n", "T[0]",
                 "'T' is a Final table: its elements cannot be assigned", None, id="table-assigned"),
    pytest.param("T: Final[Array[u8, 2]] = (1, 2)\n\n\ndef f() -> None:\n    global T\n", "global T",
                 "'T' is a Final table: it cannot be assigned", None, id="table-global"),
    pytest.param("def g() -> None:\n    pass\n\n\nT: Final[Array[Callable[[u8], None], 1]] = (g,)\n", "g,)",
                 "expected Callable[[u8], None], found Callable[[], None]", None, id="table-function-type"),
    pytest.param("def f(n: u32) -> None:\n    for i in range(u32(0), n, 0):\n        pass\n", "0):",
                 "range's step cannot be zero", None, id="range-step-zero"),
    pytest.param("def f(n: u32) -> None:\n    for i in n:\n        pass\n", "n:\n", "for loops run over range(...) only",
                 None, id="for-over-value"),
    pytest.param("def f() -> None:\n    break\n", "break", "'break' outside a loop", None, id="break-outside"),
    pytest.param("def f() -> None:\n    x: int = 0\n", "int", "'int' is not a kcc type", None, id="bare-int"),
    pytest.param("def f() -> None:\n    x: float = 0\n", "float", "'float' is not a kcc type", None,
                 id="float-type"),
    pytest.param("y = 5\n", "y = 5", "module-level names need a type", None, id="untyped-global"),
    pytest.param("def f(a) -> None:\n    pass\n", "a)", "parameter 'a' needs a type annotation", None,
                 id="untyped-parameter"),
    pytest.param("def f():\n    pass\n", "def f", "function 'f' needs a return annotation", "write -> None",
                 id="no-return-annotation"),
    pytest.param("def f() -> None:\n    x = 5\n", "5", "cannot infer the type of 'x' from an untyped constant",
                 "annotate it: x: u32 = 5", id="untyped-local"),
    pytest.param("def f(a: u32) -> None:\n    x = a\n    x = u8(a)\n", "u8(a)", "expected u32, found u8", None,
                 id="local-changes-type"),
    pytest.param("@struct\nclass S:\n    r: Reg[u32]\n\n\ndef f(p: Ptr[S]) -> None:\n    p.r = 1\n", "p.r",
                 "an MMIO register is written with .write(v)", None, id="register-assigned"),
    pytest.param("def f(a: u32) -> None:\n    a.write(1)\n", "a.write",
                 "'.write()' is a method of MMIO registers (Reg[T]), not of u32", None, id="register-method"),
    pytest.param("@struct\nclass S:\n    x: u32\n\n\ndef f(s: Ptr[S]) -> u32:\n    return s.y\n", "s.y",
                 "struct S has no field 'y'", "fields: x", id="unknown-field"),
    pytest.param("def f(a: u32) -> None:\n    a.b = 1\n", "a.b", "u32 has no fields", None, id="field-of-int"),
    pytest.param("def f() -> u8:\n    a: Array[u8, 4]\n    return a[7]\n", "7]", "index 7 is out of bounds", None,
                 id="constant-index-out-of-bounds"),
    pytest.param("def f(a: u32) -> u32:\n    return a[0]\n", "a[0]", "u32 cannot be indexed", None,
                 id="index-int"),
    pytest.param("@struct\nclass S:\n    x: u32\n\n\ndef f(s: S) -> None:\n    if s:\n        pass\n", "s:\n",
                 "a condition must be a bool, an integer or a pointer, not S", None, id="struct-condition"),
    pytest.param("def f() -> None:\n    pass\n\n\ndef f() -> None:\n    pass\n", "def f",
                 "'f' is already defined in this module", None, id="duplicate-function"),
    pytest.param("import nosuch\n", "import nosuch", "no module 'nosuch' in the source root", None,
                 id="missing-module"),
    pytest.param("def f(p: Ptr[u8]) -> Ptr[u32]:\n    return p\n", "p\n", "expected Ptr[u32], found Ptr[u8]",
                 "cast(Ptr[u32], p)", id="pointer-types"),
    pytest.param("def f(a: u32) -> None:\n    x = a\n    x\n", "x\n", "this expression has no effect", None,
                 id="expression-statement"),
    pytest.param("@struct\nclass S:\n    a: S\n", "class S", "struct S contains itself", None,
                 id="recursive-struct"),
    pytest.param("@struct\nclass S:\n    a: u8 = 1\n", "1\n", "struct fields cannot have default values", None,
                 id="field-default"),
    pytest.param("def f() -> None:\n    asm(\"nop {1}\", u8(1))\n", '"nop {1}"',
                 "the template refers to {1} but there are 1 inputs", None, id="asm-operand"),
    pytest.param("def f() -> None:\n    x = asm(\"csrr {out}, sstatus\")\n", '"csrr',
                 "the template uses {out} but no out= type is given", None, id="asm-out"),
    pytest.param("def f() -> None:\n    panic(1)\n", "panic(1)", "panic takes a message string literal", None,
                 id="panic-argument"),
    pytest.param("@export(\"a\")\ndef f() -> None:\n    pass\n\n\n@export(\"a\")\ndef g() -> None:\n    pass\n",
                 "def g", "symbol 'a' is defined twice", None, id="duplicate-symbol"),
]


@pytest.mark.parametrize("source, at, message, hint", TYPING)
def test_typing_error_is_located(root: Path, source: str, at: str, message: str, hint: str | None) -> None:
    occurrence = 2 if at == "def f" and "already defined" in message else 1
    check_one(root, source, at, message, occurrence=occurrence, hint=hint)


def test_mixing_renders_exactly_as_section_8(root: Path) -> None:
    source = ("@struct\nclass Uart:\n    lsr: Reg[u8]\n\n\n"
              "def wait(uart: Ptr[Uart], mask: i32) -> None:\n"
              "    while uart.lsr.read() & mask == 0:\n        pass\n")
    [diag] = diagnostics(root, source)
    assert diag.render() == (
        "m.py:9:11: error: cannot mix u8 and i32 in '&'\n"
        "    9 |     while uart.lsr.read() & mask == 0:\n"
        "      |           ^^^^^^^^^^^^^^^^^^^^^^\n"
        "hint: convert one side, e.g. u8(mask)")


@pytest.mark.parametrize("statement, at", [
    ("x += 1", "x +="),
    ("x = 5", "x ="),
    ("x = u32(5)", "x ="),                                  # Python would make a new local: kcc refuses
    ("y: u32 = 1\n    y, x = y, u32(2)", "x = y"),
    ("for x in range(u32(3)):\n        pass", "x in"),
])
def test_assigning_a_global_without_global_names_it(root: Path, statement: str, at: str) -> None:
    source = f"x: u32 = 0\n\n\ndef f() -> None:\n    {statement}\n"
    diag = check_one(root, source, at, "assigning module-level 'x' needs 'global x'")
    assert "hint: as in Python, add 'global' at the top of the function" in diag.render()


def test_global_declaration_of_a_non_global(root: Path) -> None:
    diags = diagnostics(root, "def f() -> None:\n    global x\n    x = 5\n")
    line, col = position("def f() -> None:\n    global x\n", "global x")
    assert (diags[0].line, diags[0].col) == (line, col)
    assert diags[0].message == "'x' is not a module-level variable of this module"


def test_calling_an_undefined_name_says_it_is_not_defined(root: Path) -> None:
    check_one(root, "def f() -> None:\n    g()\n", "g", "name 'g' is not defined")


def test_no_follow_on_error_after_a_failed_declaration(root: Path) -> None:
    check_one(root, "def f() -> u32:\n    x: u32 = -1\n    return x\n", "-1", "-1 does not fit u32")


def test_default_that_does_not_fit_is_an_error_without_callers(root: Path) -> None:
    check_one(root, "def f(a: u8 = 300) -> None:\n    pass\n", "a: u8", "default 300 does not fit u8")


@pytest.mark.parametrize("expr", ["1 << (1 << 63)", "1 << (1 << 40)"])
def test_huge_constant_is_a_located_error(root: Path, expr: str) -> None:
    diags = diagnostics(root, f"X: Final = {expr}\n")
    assert diags and diags[0].line == 3


@pytest.mark.parametrize("source, at", [
    ("def f() -> u8:\n    return 1 << 20000\n", "1 << 20000"),
    ("X: Final[u8] = 1 << 20000\n", "1 << 20000"),
    ("x: u8 = 1 << 20000\n", "1 << 20000"),
])
def test_constant_with_thousands_of_digits_does_not_fit(root: Path, source: str, at: str) -> None:
    check_one(root, source, at, "")


# ----- every error of a pass ---------------------------------------------------------------------

def test_every_forbidden_construct_of_a_file_is_reported(root: Path) -> None:
    source = "def f() -> None:\n    c = [1, 2]\n    g = lambda: 1\n    x = 1.5\n"
    diags = diagnostics(root, source)
    assert [d.message.split(" are ")[0] for d in diags] == ["lists", "lambdas", "floats"]
    for diag, at in zip(diags, ["[1, 2]", "lambda", "1.5"], strict=True):
        line, col = position(source, at)
        assert_rendered(diag, "m.py", line, col, diag.message)


def test_every_typing_error_of_a_file_is_reported(root: Path) -> None:
    source = ("def f(a: u8, b: i32) -> u8:\n    return a & b\n\n\n"
              "def g() -> None:\n    x: u8 = 300\n    y: u16 = 70000\n    z = w\n")
    diags = diagnostics(root, source)
    expected = [("a & b", "cannot mix u8 and i32 in '&'"), ("300", "300 does not fit u8"),
                ("70000", "70000 does not fit u16"), ("w\n", "name 'w' is not defined")]
    assert len(diags) == len(expected), "\n".join(d.render() for d in diags)
    for diag, (at, message) in zip(diags, expected, strict=True):
        line, col = position(source, at)
        assert (diag.line, diag.col, diag.message) == (line, col, message)


def test_every_resolve_error_of_a_file_is_reported(root: Path) -> None:
    source = "@foo\ndef f() -> None:\n    pass\n\n\n@bar\ndef g(a) -> None:\n    pass\n"
    diags = diagnostics(root, source)
    got = [(d.line, d.col, d.message.split(" '")[0]) for d in diags]
    assert got == [(*position(source, "foo"), "unknown decorator"), (*position(source, "bar"), "unknown decorator"),
                   (*position(source, "a)"), "parameter")]


def test_errors_of_several_modules_are_reported_together(root: Path) -> None:
    (root / "lib").mkdir()
    (root / "lib" / "a.py").write_text(HEADER + "def g() -> None:\n    d = {1: 2}\n", encoding="utf-8")
    (root / "lib" / "b.py").write_text(HEADER + "def h() -> None:\n    x = 1.5\n", encoding="utf-8")
    diags = diagnostics(root, "from lib import a\nfrom lib import b\n")
    assert sorted(d.render().splitlines()[0] for d in diags) == [
        "lib/a.py:4:9: error: dicts are not in the language",
        "lib/b.py:4:9: error: floats are not in the language",
    ]


def test_parse_errors_of_the_entry_stop_before_its_imports(root: Path) -> None:
    (root / "lib").mkdir()
    (root / "lib" / "a.py").write_text(HEADER + "def g() -> None:\n    d = {1: 2}\n", encoding="utf-8")
    [diag] = diagnostics(root, "from lib import a\n\n\ndef f() -> None:\n    x = [1]\n")
    assert diag.render().startswith("m.py:7:9: error: lists are not in the language")


def test_error_in_an_imported_module_names_that_file(root: Path) -> None:
    (root / "lib").mkdir()
    (root / "lib" / "util.py").write_text(HEADER + "def twice(a: u8) -> u16:\n    return a + a\n",
                                          encoding="utf-8")
    [diag] = diagnostics(root, "from lib import util\n\n\ndef f() -> u16:\n    return util.twice(u8(1))\n")
    assert_rendered(diag, "lib/util.py", 4, 12, "expected u16, found u8")


def test_syntax_error_is_located(root: Path) -> None:
    [diag] = diagnostics(root, "def f() -> None:\n    x = (1 +\n")
    assert diag.render().startswith("m.py:4:")
    assert "syntax error" in diag.message
    assert len(diag.render().splitlines()) >= 3


# ----- the command line --------------------------------------------------------------------------

def write_core(root: Path, name: str, body: str) -> Path:
    """Write ``core/<name>.py`` (a kernel-style source root, which `kcc check` recognises)."""
    (root / "core").mkdir(exist_ok=True)
    path = root / "core" / f"{name}.py"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def run_check(*args: str):
    """Run `kcc check --arch host ARGS...` in-process; the click Result."""
    return CliRunner().invoke(cli, ["check", "--arch", "host", *args])


def test_kcc_check_reports_every_error_and_exits_1(root: Path) -> None:
    write_core(root, "m", "def f(a: u8, b: i32) -> u8:\n    return a & b\n\n\ndef g() -> None:\n    x: u8 = 300\n")
    result = run_check("core/m.py")
    assert result.exit_code == 1
    out = result.output
    assert ("core/m.py:4:12: error: cannot mix u8 and i32 in '&'\n"
            "    4 |     return a & b\n"
            "      |            ^^^^^\n"
            "hint: convert one side, e.g. u8(b)\n") in out
    assert "core/m.py:8:13: error: 300 does not fit u8\n" in out
    assert "kcc: 2 errors" in out
    assert "Traceback" not in out


def test_kcc_check_reports_errors_of_every_file(root: Path) -> None:
    write_core(root, "a", "def f() -> None:\n    c = [1]\n")
    write_core(root, "b", "async def g() -> None:\n    pass\n")
    result = run_check("core/a.py", "core/b.py")
    assert result.exit_code == 1
    assert "core/a.py:4:9: error: lists are not in the language" in result.output
    assert "core/b.py:3:1: error: async is not in the language" in result.output
    assert "kcc: 2 errors" in result.output


def test_kcc_check_accepts_a_correct_file(root: Path) -> None:
    write_core(root, "ok", "def f(a: u8, b: u8) -> u8:\n    return a & b\n")
    result = run_check("core/ok.py")
    assert result.exit_code == 0, result.output
    assert "1 file checked, no errors" in result.output


def test_kcc_check_for_riscv64_sees_the_board(root: Path) -> None:
    write_core(root, "b", "import board\n\n\ndef f() -> u32:\n    return board.NOPE\n")
    result = CliRunner().invoke(cli, ["check", "core/b.py"])
    assert result.exit_code == 1
    assert "core/b.py:7:12: error: module 'board' has no name 'NOPE'" in result.output


def test_comparing_with_a_string_literal_explains_itself(root: Path) -> None:
    check_one(root, "def f(p: Ptr[u8]) -> bool:\n    return p == \"abc\"\n", "p == \"abc\"",
              "a string literal cannot be compared")


@pytest.mark.parametrize("read, at, offset", [("return i", "return i", 7), ("i += 1\n    return i", "i += 1", 0)])
def test_loop_variable_read_after_a_loop_that_may_not_run(root: Path, read: str, at: str, offset: int) -> None:
    """Python leaves it unbound after zero iterations (UnboundLocalError); kcc refuses the read, once."""
    source = f"def f(x: u32) -> u32:\n    for i in range(x, 10):\n        pass\n    {read}\n"
    [diag] = diagnostics(root, source)
    line, col = position(source, at)
    assert (diag.line, diag.col) == (line, col + offset), diag.render()
    assert diag.message == "'i' is only assigned by a for loop, which may run zero times"


def test_loop_variable_assigned_before_or_after_the_loop_is_fine(root: Path) -> None:
    (root / "m.py").write_text(HEADER + (
        "def f(x: u32) -> u32:\n    i: u32 = 0\n    for i in range(x, 10):\n        pass\n    return i\n\n\n"
        "def g(x: u32) -> u32:\n    for i in range(x, 10):\n        pass\n    i = 5\n    return i\n"),
        encoding="utf-8")
    compile_program(root, "m", BuildOptions(HOST))
