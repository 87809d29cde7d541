"""The code-quality suite of make benchmark (benchmarks/codegen_suite.py) builds, runs, and kcc and C agree.

Each of its eleven kernel-style functions is written in kcc and in C; the harness runs both on
the same input under QEMU and the suite fails when their results differ, so this is also a
differential test of the generated code, in release and checked builds. The instruction
counts themselves are benchmark figures, not checked here.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import codegen_suite  # benchmarks/ is a directory of scripts, not a package: found through sys.path

needs_qemu = pytest.mark.skipif(shutil.which(codegen_suite.QEMU) is None,
                                reason=f"{codegen_suite.QEMU} is not installed (make qemu-deps)")


@needs_qemu
@pytest.mark.parametrize("checked", [False, True], ids=["release", "checked"])
def test_every_function_runs_and_agrees_with_c(tmp_path: Path, checked: bool) -> None:
    pairs = codegen_suite.run_suite(codegen_suite.build_suite(tmp_path, checked))
    assert [p.name for p in pairs] == ["memset", "memcpy", "ffs", "ring", "fnv1a", "list", "prio", "isqrt",
                                       "crc32", "bsearch", "pagewalk"]
    assert all(p.kcc > 0 and p.c > 0 for p in pairs)
