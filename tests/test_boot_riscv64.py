"""Boot tests on QEMU virt (riscv64): the self-tests (on request) pass, and a plain boot runs init."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
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
    """qemu-virt boots into init unless the command line asks for the self-tests (kernel_src/core/main.py)."""
    result = _boot(tmp_path, "--append", "selftest", *mode)
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


def test_plain_boot_runs_init(tmp_path: Path) -> None:
    """Without 'selftest' the kernel starts init from the initrd in user mode; init greets, the shell it starts
    takes the typed ``halt`` and powers off with 0."""
    result = subprocess.run([sys.executable, "-m", "kcc", "run", "--arch", "riscv64", "--board", "qemu-virt", "-o",
                             str(tmp_path / "build"), "--timeout", "300", "--release"], cwd=ROOT, input="halt\n",
                            capture_output=True, text=True, check=False, timeout=600)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "self-test:" not in out
    started = re.search(r"^boot: starting 'init' after (\d+) instructions \((\d+) pages of quota\)$", out, re.MULTILINE)
    assert started, out
    assert int(started.group(2)) > 30000      # nearly all of the 128 MiB is init's quota
    assert re.search(r"^init: hello from user space, thread [0-9a-f]+ \(64 capability slots, priority 63\)$", out,
                     re.MULTILINE), out


def test_unknown_init_program_is_reported(tmp_path: Path) -> None:
    """init=NAME naming no initrd member stops the boot with a clear line and status 4, not a panic."""
    result = _boot(tmp_path, "--append", "init=nosuchprogram")   # --init would be refused by kcc run itself
    assert result.returncode == 4, result.stdout
    assert "boot: no program 'nosuchprogram' in the initrd" in result.stdout


def test_failing_self_test_gives_nonzero_exit(tmp_path: Path) -> None:
    """A kernel whose check fails must power off with a non-zero code, and `kcc run` must return it."""
    src = panicking_kernel(tmp_path)
    result = _boot(tmp_path, "--src", str(src))
    assert result.returncode not in (0, None), result.stdout
    assert re.search(r"panic: .*division by zero.* at .*core/main\.py:\d+:\d+", result.stdout), result.stdout
