"""The pool soak (kernel_src/user/soak) booted as init with a short cycle count: every pool comes back clean.

``make soak N=1000000`` runs the full million cycles (docs/reliability.md);
make check runs SHORT_CYCLES of each kind in a checked build, once, and
reads every result from that one boot.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from kernel_harness import run_kcc

SHORT_CYCLES = 1000
# Every row of the soak's CYCLES table, by the name its line carries.
ROWS = ["process", "thread", "endpoint", "notification", "frame", "frame of 64 pages", "irq", "portal", "mapping",
        "thread run", "activation", "busy process"]
SOAK = Path(__file__).resolve().parent.parent / "kernel_src" / "user" / "soak" / "main.py"


def test_rows_match_the_program() -> None:
    """ROWS above is the soak's own table (so a row added there is checked here too)."""
    names = re.findall(r'^    Cycle\("([^"]+)"', SOAK.read_text(encoding="utf-8"), re.MULTILINE)
    assert names == ROWS


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 is not installed (make qemu-deps)")
def test_short_soak_is_clean(tmp_path: Path) -> None:
    result = run_kcc("run", "--arch", "riscv64", "--board", "qemu-virt", "-o", str(tmp_path / "build"),
                     "--init", "soak", f"--append=-- {SHORT_CYCLES}", "--timeout", "300")
    out = result.stdout
    assert re.search(rf"^soak: {SHORT_CYCLES} cycles of each kind\r?$", out, re.MULTILINE), out
    for row in ROWS:
        line = re.search(rf"^soak: {re.escape(row)}: (\d+) cycles, (\d+) free before and after, \d+ ns a cycle\r?$",
                         out, re.MULTILINE)
        assert line and int(line.group(1)) == SHORT_CYCLES, f"row {row!r}:\n{out}"
    # The exhaustion tests ran twice (before and after the cycles), all passed.
    assert "FAIL:" not in out, out
    summary = re.search(r"^system tests: (\d+)/(\d+) passed\r?$", out, re.MULTILINE)
    assert summary and summary.group(1) == summary.group(2) and int(summary.group(2)) >= 16, out
    verdict = rf"^soak: {len(ROWS)} kinds x {SHORT_CYCLES} cycles: 0 leaks, 0 errors, " \
              r"0 invariant violations, 0 exhaustion failures\r?$"
    assert re.search(verdict, out, re.MULTILINE), out
    assert result.returncode == 0, out + result.stderr
