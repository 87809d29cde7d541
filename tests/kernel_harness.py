"""What the boot tests of every architecture share: running kcc, the self-test's lines, broken kernels."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SRC = ROOT / "kernel_src"
SELFTEST = KERNEL_SRC / "core" / "selftest.py"


def run_kcc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kcc <args>`` and capture its output (never raises on a non-zero status).

    QEMU's own ``--timeout`` and this 600 s limit are only safety nets: the kernel powers off by itself.
    """
    return subprocess.run([sys.executable, "-m", "kcc", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=600)


def expected_passes() -> list[str]:
    """Every PASS line name the self-test prints, read from kernel_src/core/selftest.py."""
    text = SELFTEST.read_text(encoding="utf-8")
    names = re.findall(r'_format_case\("([^"]+)"', text)
    names += re.findall(r'name: Ptr\[u8\] = "([^"]+)"', text)
    names += re.findall(r'test_breakpoint\("([^"]+)"', text)
    # The pointer-width branches repeat some names; each is printed once.
    return list(dict.fromkeys(names))


def assert_self_test_passed(out: str) -> None:
    """Every self-test line is ``PASS: <name>``, none fails, and the summary counts all of them."""
    expected = expected_passes()
    assert len(expected) >= 24
    for name in expected:
        assert re.search(rf"^PASS: {re.escape(name)}\r?$", out, re.MULTILINE), f"missing PASS: {name}\n{out}"
    assert "FAIL:" not in out
    summary = re.search(r"^self-test: (\d+)/(\d+) passed\r?$", out, re.MULTILINE)
    assert summary and summary.group(1) == summary.group(2) == str(len(expected)), out

# Inserted at the top of kmain's body: a division by zero the compiler cannot fold away, so the
# kernel panics (PanicKind.DIVIDE_BY_ZERO, exit code 2) before its self-test.
KMAIN_HEAD = r"(def kmain\([^)]*\) -> None:\n(?:    \"\"\"[\s\S]*?\"\"\"\n)?)"
DIVIDE_BY_ZERO = r"\1    _zero: u32 = u32(hartid) - u32(hartid)\n    _boom: u32 = u32(7) // _zero\n"


def patched_kernel(tmp_path: Path, path: str, pattern: str, replacement: str) -> Path:
    """Copy kernel_src/ to ``tmp_path``/src and apply one ``re.sub`` to ``path`` inside it.

    Returns the copy's source root. Fails the test when the pattern does not match, so a
    change to the kernel cannot silently turn the broken kernel back into a working one.
    """
    src = tmp_path / "src"
    shutil.copytree(KERNEL_SRC, src)
    target = src / path
    text = target.read_text(encoding="utf-8")
    patched = re.sub(pattern, replacement, text, count=1)
    assert patched != text, f"{pattern!r} does not match {path}"
    target.write_text(patched, encoding="utf-8")
    return src


def panicking_kernel(tmp_path: Path) -> Path:
    """A kernel whose kmain divides by zero first thing."""
    return patched_kernel(tmp_path, "core/main.py", KMAIN_HEAD, DIVIDE_BY_ZERO)
