"""Copies of kernel_src/ with one deliberate change, for tests that boot a broken kernel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"

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
