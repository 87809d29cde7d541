"""Boot test: `kcc run` boots kernel_src on QEMU virt (riscv64) and every self-test line passes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from kernel_harness import assert_self_test_passed, panicking_kernel, run_kcc

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                                reason="qemu-system-riscv64 is not installed (make qemu-deps)")


def _boot(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_kcc("run", "--arch", "riscv64", "--board", "qemu-virt", "-o", str(tmp_path / "build"),
                   "--timeout", "300", *extra)


@pytest.mark.parametrize("mode", [[], ["--release"]], ids=["checked", "release"])
def test_boot_self_test_passes(tmp_path: Path, mode: list[str]) -> None:
    result = _boot(tmp_path, *mode)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"^kcc-kernel \S+ \(riscv64, board qemu-virt\), boot hart \d+$", out, re.MULTILINE), out
    assert re.search(r"^memory map \(from the device tree at 0x[0-9a-f]+\):$", out, re.MULTILINE), out
    assert re.search(r"^  ram +0x0*80000000\.\.0x0*88000000 ", out, re.MULTILINE), out
    assert re.search(r"^free pages: \d+ of \d+, 4096 bytes each", out, re.MULTILINE), out
    assert_self_test_passed(out)
    assert re.search(r"^trap: exception 3 \(Breakpoint\)$", out, re.MULTILINE)
    assert re.search(r"^trap:   sepc=0x[0-9a-f]{16} stval=0x[0-9a-f]{16} scause=0x0*3$", out, re.MULTILINE)
    assert (tmp_path / "build" / "kernel.elf").is_file()


def test_failing_self_test_gives_nonzero_exit(tmp_path: Path) -> None:
    """A kernel whose check fails must power off with a non-zero code, and `kcc run` must return it."""
    src = panicking_kernel(tmp_path)
    result = _boot(tmp_path, "--src", str(src))
    assert result.returncode not in (0, None), result.stdout
    assert re.search(r"panic: .*division by zero.* at .*core/main\.py:\d+:\d+", result.stdout), result.stdout
