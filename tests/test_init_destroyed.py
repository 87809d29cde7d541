"""Init destroying its own process powers the machine off (status 3), as a fault that kills init does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kernel_harness import patched_kernel, run_kcc

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                                reason="qemu-system-riscv64 is not installed (make qemu-deps)")

# systest's first line, then OP_CAP_DESTROY on init's own process capability.
STARTING = r'(    console\.puts\("system tests: starting\\n"\)\n)'
DESTROY_SELF = r"\1    syscall.cap_destroy(initcaps.SLOT_SELF_PROCESS)\n"


def test_init_destroying_itself_powers_off(tmp_path: Path) -> None:
    """Without the check the kernel idled for ever with no thread left, until QEMU's timeout."""
    src = patched_kernel(tmp_path, "user/systest/main.py", STARTING, DESTROY_SELF)
    result = run_kcc("run", "--arch", "riscv64", "--board", "qemu-virt", "--src", str(src), "-o",
                     str(tmp_path / "build"), "--init", "systest", "--timeout", "120")
    assert "init is gone: nothing can run any more" in result.stdout, result.stdout
    assert result.returncode == 3, result.stdout + result.stderr
    assert "PASS:" not in result.stdout
