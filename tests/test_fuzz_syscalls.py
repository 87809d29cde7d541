"""The system-call fuzzer (kernel_src/user/fuzz, kcc/sysfuzz.py): a short run per build mode, clean and reproducible.

``make fuzz`` runs 100,000 calls; here each mode (checked, release) makes
a few thousand, booted once, and the release run is booted a second time
with the same seed to show the run is the seed's alone (every progress
line's checksum, which folds each call's error and first result, must
match). kcc.sysfuzz.judge, which decides the final line and the exit
status, is tested on made-up consoles first: a panic, a hang, a violation
and a short run must each be caught and named with the seed and step.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kcc.qemu import TIMEOUT_STATUS
from kcc.sysfuzz import command_line, judge

ROOT = Path(__file__).resolve().parent.parent
CALLS = 3000
SEED = 11

CLEAN = ("fuzz: seed 5, 2000 calls, a check every 1000\n"
         "fault: thread 3 of process 2: page fault (cause 15) at pc 0x0, address 0x8: process destroyed\n"
         "fuzz: step 1000 checksum 1f violations 0\nfuzz: step 2000 checksum 2e violations 0\n"
         "fuzz: done: 2000 calls, 0 invariant violations, checksum 2e (seed 5)\n")


def test_judge_clean_run() -> None:
    v = judge(CLEAN.replace("\n", "\r\n"), 0, 2000, 5)
    assert v.ok, v.problems
    assert v.summary == "fuzz: 2000 calls, 0 kernel panics, 0 invariant violations"
    assert v.steps == [(1000, "1f"), (2000, "2e")] and v.checksum == "2e"


@pytest.mark.parametrize("console,code,summary,problem", [
    # The kernel panicked after the first batch: the calls are the last step reported.
    (CLEAN.split("fuzz: step 2000")[0] + "panic: index out of range: bad at core/ipc.py:10:5\n", 2,
     "fuzz: 1000 calls, 1 kernel panics, 0 invariant violations",
     "kernel panic (seed 5, last step reported 1000): panic: index out of range"),
    # Nothing after the first batch until the timeout.
    (CLEAN.split("fuzz: step 2000")[0], TIMEOUT_STATUS,
     "fuzz: 1000 calls, 0 kernel panics, 0 invariant violations", "no end before the timeout"),
    # A violation reported by the fuzzer, which then powers off with 1.
    (CLEAN.replace("fuzz: step 2000", "fuzz: invariant violation: 2 invariants violated at step 2000 (seed 5)\n"
                   "fuzz: step 2000").replace("0 invariant violations, checksum", "1 invariant violations, checksum"),
     1, "fuzz: 2000 calls, 0 kernel panics, 1 invariant violations", "invariant violation: 2 invariants violated"),
    # Fewer calls than asked for.
    (CLEAN, 0, "fuzz: 2000 calls, 0 kernel panics, 0 invariant violations", "2000 calls made, 3000 asked for"),
    # init died (status 3) without a panic.
    (CLEAN.split("fuzz: done")[0], 3, "fuzz: 2000 calls, 0 kernel panics, 0 invariant violations",
     "powered off with status 3 before the end"),
])
def test_judge_catches(console: str, code: int, summary: str, problem: str) -> None:
    asked = 3000 if "3000 asked" in problem else 2000
    v = judge(console, code, asked, 5)
    assert not v.ok
    assert v.summary == summary
    assert any(problem in p for p in v.problems), v.problems


def test_command_line() -> None:
    assert command_line(100000, 1) == "init=fuzz -- calls=100000 seed=1"


def _fuzz(build_dir: Path, mode: list[str]) -> subprocess.CompletedProcess[str]:
    """Build into ``build_dir`` (if needed) and run CALLS calls from SEED; the captured result."""
    return subprocess.run([sys.executable, "-m", "kcc.sysfuzz", "--arch", "riscv64", "-o", str(build_dir),
                           "--calls", str(CALLS), "--seed", str(SEED), "--timeout", "300", *mode],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 is not installed (make qemu-deps)")
@pytest.mark.parametrize("mode", [[], ["--release"]], ids=["checked", "release"])
def test_short_fuzz_is_clean(tmp_path: Path, mode: list[str]) -> None:
    result = _fuzz(tmp_path / "build", mode)
    out = result.stdout
    lines = out.strip().splitlines()
    assert lines and lines[-1] == f"fuzz: {CALLS} calls, 0 kernel panics, 0 invariant violations", \
        out[-3000:] + result.stderr
    assert result.returncode == 0, result.stderr
    v = judge(out, 0, CALLS, SEED)
    assert v.ok and len(v.steps) == CALLS // 1000, v.problems
    if mode:
        # The same seed again, on the same build: the same calls with the same results.
        again = _fuzz(tmp_path / "build", mode)
        assert judge(again.stdout, 0, CALLS, SEED).steps == v.steps, again.stdout[-3000:]
