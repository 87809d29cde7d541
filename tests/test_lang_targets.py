"""The differential language suite on the kernel targets: compiled for riscv64, armv8m and i586, run under QEMU.

tests/test_host.py checks kcc.load_host against kcc.load_python on the build
machine. Here the same cases (tests/lang_cases and the operator-at-every-width
module of test_host) are compiled for each kernel architecture into a small
harness kernel: a generated core/main.py calls every case function with fixed
arguments and prints each result as ``R <index> <high word> <low word>``; the
kernel's own arch layer, kprintf and panic path do the rest. kcc.load_python
gives the expected values. A panic ends a kernel, so calls that stop under
CPython are left out of the batch; a few of them, one per exception kind, get a
boot of their own and must panic with the matching kind.

usize and isize are 64 bits wide under CPython (kcc.lang.POINTER_BITS), so on
the 32-bit targets functions that take or return them are left out.
"""

from __future__ import annotations

import ast
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_host import operator_source

from kcc import lang, load_python
from kcc.lang import NullPointerError, Panic

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "lang_cases"

# arch -> (board, QEMU binary, pointer width)
TARGETS = {
    "riscv64": ("qemu-virt", "qemu-system-riscv64", 64),
    "armv8m": ("mps2-an505", "qemu-system-arm", 32),
    "i586": ("pc", "qemu-system-i386", 32),
}

# kernel_src/lib/panicinfo.py: kind_name() for each panic kind, keyed by the exception CPython raises.
PANIC_NAMES = {
    ZeroDivisionError: "division by zero",
    OverflowError: "integer overflow",
    IndexError: "index out of range",
    NullPointerError: "NULL dereference",
    AssertionError: "assertion failed",
    ValueError: "negative shift count",
    Panic: "explicit panic",
}
STOPS = tuple(PANIC_NAMES)
SCALARS = {*lang.INT_TYPES, "bool"}
CALLS_PER_FUNCTION = 4
BATCH = 60
# Calls no edge value reaches: explicit_panic stops only on 13, deep_panic divides by zero after recursing.
EXTRA_CALLS = [("c", "explicit_panic", [13], "u8"), ("c", "deep_panic", [3], "u32")]


def _signatures(source: str) -> list[tuple[str, list[str], str]]:
    """(name, parameter types, result type) of every public module-level function with scalar types."""
    out = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        params = [a.annotation.id if isinstance(a.annotation, ast.Name) else "?" for a in node.args.args]
        ret = node.returns
        result = "None" if isinstance(ret, ast.Constant) and ret.value is None else \
            ret.id if isinstance(ret, ast.Name) else "?"
        if all(p in SCALARS for p in params) and (result in SCALARS or result == "None"):
            out.append((node.name, params, result))
    return out


def _edges(type_name: str) -> list[Any]:
    if type_name == "bool":
        return [False, True]
    t = lang.INT_TYPES[type_name]
    near = (t.MIN, t.MIN + 1, -2, -1, 0, 1, 2, 3, 7, 8, t.BITS - 1, t.BITS, t.MAX - 1, t.MAX, 100, -100, 12345)
    return sorted({v for v in near if t.MIN <= v <= t.MAX})


def _argument_lists(params: list[str], rng: random.Random) -> list[list[Any]]:
    """A few argument lists for ``params``: edges of each type, plus random values."""
    if not params:
        return [[]]
    lists = []
    for _ in range(CALLS_PER_FUNCTION):
        args = []
        for p in params:
            if p != "bool" and rng.random() < 0.3:
                t = lang.INT_TYPES[p]
                args.append(rng.randint(t.MIN, t.MAX))
            else:
                args.append(rng.choice(_edges(p)))
        lists.append(args)
    return lists


def _literal(value: Any) -> str:
    return repr(bool(value)) if isinstance(value, bool) else str(int(value))


def _outcome(module: Any, name: str, args: list[Any]) -> tuple[str, Any]:
    try:
        result = getattr(module, name)(*args)
    except STOPS as exc:
        return ("stop", type(exc))
    return ("ok", 0 if result is None else int(result))


class Suite:
    """The case modules of one run, the calls kept for the batch, and their expected results."""

    def __init__(self, root: Path, modules: dict[str, str], pointer_bits: int,
                 models: dict[str, Callable[[], Any]] | None = None) -> None:
        """``models`` gives, by alias, a fresh reference for modules load_python cannot run (atomics)."""
        self.root = root
        self.modules = modules          # alias -> module name
        self.calls: list[tuple[str, str, list[Any], str]] = []    # (alias, function, args, result type)
        self.stopping: dict[type, tuple[str, str, list[Any]]] = {}
        rng = random.Random(8 * pointer_bits)
        narrow = pointer_bits != 64
        candidates = []
        for alias, mod in modules.items():
            source = (root / f"{mod}.py").read_text(encoding="utf-8")
            for name, params, result in _signatures(source):
                if narrow and {"usize", "isize"} & {*params, result}:
                    continue
                for args in _argument_lists(params, rng):
                    candidates.append((alias, name, args, result))
        candidates += [call for call in EXTRA_CALLS if call[0] in modules]
        # Calls that stop under CPython cannot share a boot; a later call's outcome may depend on
        # globals an earlier one changed, so classify again on fresh modules until stable.
        while True:
            loaded = {alias: models[alias]() if models and alias in models
                      else load_python(self.root / f"{mod}.py", root=self.root) for alias, mod in modules.items()}
            kept, expected = [], []
            for alias, name, args, result in candidates:
                kind, value = _outcome(loaded[alias], name, args)
                if kind == "stop":
                    self.stopping.setdefault(value, (alias, name, args))
                else:
                    kept.append((alias, name, args, result))
                    expected.append(value % 2**64)
            if len(kept) == len(candidates):
                break
            candidates = kept
        self.calls = kept
        self.expected = expected

    def call_text(self, alias: str, name: str, args: list[Any]) -> str:
        return f"{alias}.{name}({', '.join(_literal(a) for a in args)})"

    def main_source(self, only: tuple[str, str, list[Any]] | None = None) -> str:
        """core/main.py of the harness: every kept call printed (or just ``only``, expected to panic)."""
        lines = ["\"\"\"Generated by tests/test_lang_targets.py: run the language cases, print each result.\"\"\"",
                 "", "from kcc.lang import *", "", "from arch import console, cpu, trap",
                 "from lib import kprintf as fmt",
                 "from lib import panic as _panic  # noqa: F401", ""]
        lines += [f"import {mod} as {alias}" for alias, mod in self.modules.items()]
        lines += ["", "", "def _out(i: u32, v: u64) -> None:",
                  "    fmt.kprintf(\"R %u %x %x\\n\", usize(i), usize(v >> 32), usize(v & 0xFFFF_FFFF))", ""]
        batches = []
        if only is None:
            for start in range(0, len(self.calls), BATCH):
                body = []
                for i, (alias, name, args, result) in enumerate(self.calls[start:start + BATCH], start):
                    text = self.call_text(alias, name, args)
                    if result == "None":
                        body += [f"    {text}", f"    _out({i}, 0)"]
                    elif result == "bool":
                        body.append(f"    _out({i}, u64(1) if {text} else u64(0))")
                    else:
                        body.append(f"    _out({i}, u64({text}))")
                batches.append(body)
        else:
            batches.append([f"    {self.call_text(*only)}", "    fmt.kprintf(\"no panic\\n\")"])
        for k, body in enumerate(batches):
            lines += ["", f"def _batch{k}() -> None:", *body, ""]
        lines += ["", "@export(\"kmain\")", "def kmain(hartid: usize, boot_info: usize) -> None:",
                  "    console.init()", "    trap.init()", "    fmt.kprintf(\"harness start\\n\")"]
        lines += [f"    _batch{k}()" for k in range(len(batches))]
        lines += ["    fmt.kprintf(\"harness end\\n\")", "    cpu.halt(0)", ""]
        return "\n".join(lines)


def _harness(tmp: Path, suite: Suite, main: str) -> Path:
    """A source root: kernel_src with core/main.py replaced by ``main``, plus the case modules."""
    src = tmp / "src"
    shutil.copytree(ROOT / "kernel_src", src)
    for path in suite.root.rglob("*.py"):
        dest = src / path.relative_to(suite.root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    (src / "core" / "main.py").write_text(main, encoding="utf-8")
    return src


def _run(tmp: Path, arch: str, src: Path) -> subprocess.CompletedProcess[str]:
    board = TARGETS[arch][0]
    cmd = [sys.executable, "-m", "kcc", "run", "--arch", arch, "--board", board, "--src", str(src),
           "-o", str(tmp / "build"), "--timeout", "300"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def case_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cases")
    shutil.copytree(CASES, root, dirs_exist_ok=True)
    (root / "ops.py").write_text(operator_source(), encoding="utf-8")
    return root


def _needs(arch: str) -> None:
    if shutil.which(TARGETS[arch][1]) is None:
        pytest.skip(f"{TARGETS[arch][1]} is not installed (make qemu-deps)")


@pytest.mark.parametrize("arch", list(TARGETS))
def test_cases_agree_under_qemu(tmp_path: Path, case_root: Path, arch: str) -> None:
    _needs(arch)
    suite = Suite(case_root, {"c": "constructs", "o": "ops", "i": "idioms"}, TARGETS[arch][2])
    assert len(suite.calls) > 1000
    result = _run(tmp_path, arch, _harness(tmp_path, suite, suite.main_source()))
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "harness start" in out and "harness end" in out, out[-3000:]
    got = {int(i): (int(hi, 16) << 32) | int(lo, 16)
           for i, hi, lo in re.findall(r"^R (\d+) ([0-9a-f]+) ([0-9a-f]+)\r?$", out, re.MULTILINE)}
    assert len(got) == len(suite.calls)
    wrong = [f"{suite.call_text(*suite.calls[i][:3])} = {got[i]:#x}, CPython says {want:#x}"
             for i, want in enumerate(suite.expected) if got[i] != want]
    assert not wrong, f"{len(wrong)} of {len(got)} differ:\n" + "\n".join(wrong[:30])


@pytest.mark.parametrize("arch", list(TARGETS))
def test_stopping_cases_panic_with_the_matching_kind(tmp_path: Path, case_root: Path, arch: str) -> None:
    _needs(arch)
    suite = Suite(case_root, {"c": "constructs", "o": "ops"}, TARGETS[arch][2])
    # The exceptions the cases can raise: division by zero, overflow, index, assertion, explicit panic
    # and negative shift all occur among the drawn calls.
    assert {ZeroDivisionError, OverflowError, IndexError, AssertionError, Panic, ValueError} <= set(suite.stopping)
    for n, (exc, call) in enumerate(sorted(suite.stopping.items(), key=lambda kv: kv[0].__name__)):
        run_dir = tmp_path / str(n)
        result = _run(run_dir, arch, _harness(run_dir, suite, suite.main_source(only=call)))
        out = result.stdout
        assert result.returncode == 2, f"{suite.call_text(*call)}: {out[-2000:]}{result.stderr[-2000:]}"
        assert "no panic" not in out
        assert re.search(rf"^panic: {re.escape(PANIC_NAMES[exc])}: .* at \S+:\d+:\d+\r?$", out, re.MULTILINE), \
            f"{suite.call_text(*call)} should panic with {PANIC_NAMES[exc]}:\n{out[-2000:]}"
