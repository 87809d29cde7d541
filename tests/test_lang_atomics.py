"""Differential tests of the atomics (language.md, "Atomics"): the host and every kernel target against C11.

kcc.load_python cannot run atomics (they take pointers, which are not pure
under CPython), so the reference for tests/lang_cases/atomics.py is
``AtomicsModel`` below: the same functions written out with C11's meaning of
each operation (C11, "Atomic operations": atomic_load, atomic_store,
atomic_fetch_add, atomic_exchange, atomic_compare_exchange_strong) on Python
integers. The host build (kcc.load_host, checked and release) is compared
with it under hypothesis; riscv64, armv8m and i586 run every function on
edge and random arguments in the QEMU harness of tests/test_lang_targets.py.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_host import argument
from test_lang_targets import CASES, TARGETS, Suite, _harness, _needs, _run

from kcc import lang, load_host

M8, M16, M32, M64 = 0xFF, 0xFFFF, 0xFFFF_FFFF, 2**64 - 1

# The orders each built-in accepts (language.md, "Atomics"); the cases must use every one.
ORDERS = {
    "atomic_load": {"RELAXED", "ACQUIRE", "SEQ_CST"},
    "atomic_store": {"RELAXED", "RELEASE", "SEQ_CST"},
    "atomic_add": {"RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST"},
    "atomic_swap": {"RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST"},
    "atomic_cas": {"RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST"},
}


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _cas(cell: int, expected: int, desired: int) -> tuple[int, int]:
    """(value found, value left): atomic_compare_exchange_strong stores only on equality."""
    return cell, desired if cell == expected else cell


class AtomicsModel:
    """tests/lang_cases/atomics.py with C11's meaning of each atomic, one method per case function."""

    @staticmethod
    def store_load_global(v: int) -> int:
        return ((v ^ 0x5A5A_5A5A) + 7) & M32

    @staticmethod
    def store_load_through_pointer(v: int) -> int:
        return (2 * v) & M16

    @staticmethod
    def store_load_field(v: int, i: int) -> int:
        return v + ((v + 300) & M16) * 256

    @staticmethod
    def add_each_order(a: int, b: int) -> int:
        olds = [(a + k * b) & M32 for k in range(5)]
        return (olds[0] ^ olds[1] ^ olds[2] ^ olds[3] ^ olds[4]) + (a + 5 * b) & M32

    @staticmethod
    def add_signed_wraps(a: int, b: int) -> int:
        return _signed(a + b, 16)

    @staticmethod
    def add_field_u16(a: int, b: int, i: int) -> int:
        return a ^ ((a + b) & M16)

    @staticmethod
    def add_pointer_width(a: int, b: int) -> int:
        return (a + b + M32) & M32

    @staticmethod
    def swap_each_order(a: int, b: int) -> int:
        x, olds = a, []
        for desired in (b, None, None, None, None):
            new = desired if desired is not None else (olds[-1] + len(olds)) & M32
            olds.append(x)
            x = new
        return ((olds[0] * 3) ^ (olds[4] * 5) ^ x) & M32

    @staticmethod
    def swap_u8(a: int, b: int) -> int:
        return (a << 8) | b

    @staticmethod
    def cas_each_order(start: int, expected: int, desired: int) -> int:
        x, found = start, 0
        for e, d in ((expected, desired), (expected, (desired + 1) & M32), (desired, expected),
                     (start, desired), ((desired + 1) & M32, start)):
            old, x = _cas(x, e, d)
            found = (found * 3 + old) & M64
        return ((found << 32) ^ x) & M64

    @staticmethod
    def cas_hits(start: int, desired: int) -> int:
        first, cell = _cas(start, start, desired)
        second, cell = _cas(cell, start, ~desired & M32)
        return ((first ^ second) << 32) | cell

    @staticmethod
    def cas_i8(start: int, expected: int, desired: int) -> int:
        return _cas(start, expected, desired)[1]

    @staticmethod
    def pointer_atomics(i: int, release: bool) -> int:
        # claim, then (released) claimed by the other or (held) still ours, swapped back, a local swapped
        return 1 | 2 | 8 | 16 | 32 if release else 1 | 4 | 16 | 32


CASE_FILE = CASES / "atomics.py"


def _functions() -> list[ast.FunctionDef]:
    tree = ast.parse(CASE_FILE.read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


PUBLIC = [f.name for f in _functions() if not f.name.startswith("_")]


def test_the_cases_use_every_atomic_with_every_order_and_the_model_has_each_case() -> None:
    used: dict[str, set[str]] = {name: set() for name in ORDERS}
    for call in (n for f in _functions() for n in ast.walk(f) if isinstance(n, ast.Call)):
        name = getattr(call.func, "id", "")
        if name in ORDERS:
            positional = len(call.args) == {"atomic_load": 2, "atomic_cas": 4}.get(name, 3)
            order = call.args[-1] if positional else next((k.value for k in call.keywords), None)
            used[name].add(order.id if isinstance(order, ast.Name) else "SEQ_CST")
    assert used == ORDERS
    assert sorted(PUBLIC) == sorted(n for n in vars(AtomicsModel) if not n.startswith("_"))


def _in_range(type_name: str) -> st.SearchStrategy[Any]:
    """test_host's arguments without the out-of-range ones (which raise before any atomic runs)."""
    if type_name == "bool":
        return argument(type_name)
    t = lang.INT_TYPES[type_name]
    return argument(type_name).filter(lambda v: t.MIN <= v <= t.MAX)


@pytest.fixture(scope="module", params=[True, False], ids=["checked", "release"])
def host(request: pytest.FixtureRequest) -> Any:
    return load_host(CASE_FILE, root=CASES, checked=request.param)


@pytest.mark.parametrize("name", PUBLIC)
@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_host_agrees_with_c11(host: Any, name: str, data: st.DataObject) -> None:
    fn = getattr(host, name)
    args = [data.draw(_in_range(t), label=n) for n, t in fn.sig.params]
    assert int(fn(*args)) == getattr(AtomicsModel, name)(*args), f"{name}{tuple(args)}"


@pytest.mark.parametrize("arch", list(TARGETS))
def test_targets_agree_with_c11_under_qemu(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                           arch: str) -> None:
    _needs(arch)
    root = tmp_path_factory.mktemp("atomics")
    shutil.copytree(CASES, root, dirs_exist_ok=True)
    suite = Suite(root, {"a": "atomics"}, TARGETS[arch][2], models={"a": AtomicsModel})
    assert {name for _, name, _, _ in suite.calls} == set(PUBLIC) and not suite.stopping
    result = _run(tmp_path, arch, _harness(tmp_path, suite, suite.main_source()))
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    got = {int(i): (int(hi, 16) << 32) | int(lo, 16)
           for i, hi, lo in re.findall(r"^R (\d+) ([0-9a-f]+) ([0-9a-f]+)\r?$", out, re.MULTILINE)}
    assert len(got) == len(suite.calls), out[-3000:]
    wrong = [f"{suite.call_text(*suite.calls[i][:3])} = {got[i]:#x}, C11 says {want:#x}"
             for i, want in enumerate(suite.expected) if got[i] != want]
    assert not wrong, "\n".join(wrong[:30])
