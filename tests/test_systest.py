"""The user-space system tests (kernel_src/user/systest) booted as init under QEMU: every one must pass.

One boot per build mode; each uses its own build directory, so the two can
run in parallel (pytest -n). The names compiled in are read from the
``harness.begin("...")`` calls of user/systest/*.py, so a test that is
compiled but never reported fails here too. kcc.systest.judge, which
``make systest`` uses, is tested on made-up consoles first.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from kernel_harness import run_kcc

from kcc.qemu import TIMEOUT_STATUS
from kcc.systest import judge

SYSTEST = Path(__file__).resolve().parent.parent / "kernel_src" / "user" / "systest"


def compiled_tests() -> list[str]:
    """Every test name user/systest/*.py starts with a ``harness.begin("...")`` call.

    Read from the syntax tree, so examples in docstrings (harness.py has some) do not count.
    """
    names: list[str] = []
    for path in sorted(SYSTEST.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "begin"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "harness"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                names.append(node.args[0].value)
    return names


def fault_causes() -> set[int]:
    """The scause codes of the fault matrix's rows (user/lib/faults.py's FAULTS: each row's fourth field)."""
    text = (SYSTEST.parent / "lib" / "faults.py").read_text(encoding="utf-8")
    return {int(code) for code in re.findall(r"^    Fault\(\"[^\"]+\", \w+, abi\.FAULT_\w+, (\d+),", text, re.MULTILINE)}


def test_fault_matrix_covers_every_user_cause() -> None:
    """Every exception U-mode can raise on qemu-virt has a row (faults.py's docstring says why the others cannot)."""
    assert fault_causes() == {2, 3, 4, 5, 6, 7, 12, 13, 15}


def test_names_are_unique_and_plenty() -> None:
    names = compiled_tests()
    assert len(names) >= 10
    assert len(set(names)) == len(names), [n for n in names if names.count(n) > 1]


GOOD = "boot\nPASS: a\nPASS: b c\nsystem tests: 2/2 passed\n"


@pytest.mark.parametrize("console,code,problem", [
    (GOOD, 0, None),
    (GOOD.replace("\n", "\r\n"), 0, None),
    (GOOD, 1, "powered off with status 1"),
    (GOOD, TIMEOUT_STATUS, "timeout"),
    ("PASS: a\nFAIL: b (x: got 1, expected 2)\nsystem tests: 1/2 passed\n", 1, "1 of 2 tests failed"),
    ("PASS: a\nPASS: b\n", 0, "no 'system tests: N/M passed' line"),
    ("system tests: 2/2 passed\nPASS: a\nPASS: b\n", 0, "no 'system tests"),
    ("PASS: a\nsystem tests: 2/2 passed\n", 0, "the summary says 2/2 but 1/1"),
    ("system tests: 0/0 passed\n", 0, "no test ran"),
])
def test_judge(console: str, code: int, problem: str | None) -> None:
    verdict = judge(console, code)
    if problem is None:
        assert verdict.ok and verdict.passed == ["a", "b c"] and verdict.summary == (2, 2)
    else:
        assert not verdict.ok
        assert any(problem in p for p in verdict.problems), verdict.problems


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 is not installed (make qemu-deps)")
@pytest.mark.parametrize("mode", [[], ["--release"]], ids=["checked", "release"])
def test_every_system_test_passes(tmp_path: Path, mode: list[str]) -> None:
    result = run_kcc("systest", "--arch", "riscv64", "--board", "qemu-virt", "-o", str(tmp_path / "build"),
                     "--timeout", "300", *mode)
    out = result.stdout
    verdict = judge(out, 0)
    expected = compiled_tests()
    missing = [name for name in expected if name not in verdict.passed]
    assert not verdict.failed, f"failed: {verdict.failed}\n{out}"
    assert not missing, f"compiled in but not passed: {missing}\n{out}"
    assert verdict.summary is not None and verdict.summary[1] >= len(expected), out
    # The fault matrix (t_faultroles.py) raised every scause code its rows name, as the kernel's fault lines say.
    for code in fault_causes():
        assert re.search(rf"^fault: .*\(cause {code}\) at pc", out, re.MULTILINE), f"no fault with cause {code}\n{out}"
    # "ulib: a panic ends only its thread": user/lib/rt.py's panic path printed where it happened.
    assert re.search(r"^panic: division by zero: .* at \S*user/systest/t_ulib\.py:\d+:\d+\r?$", out, re.MULTILINE), out
    assert result.returncode == 0, out + result.stderr
