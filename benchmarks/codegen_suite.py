"""The code-quality suite of make benchmark: kcc against clang -O2 in guest instructions on riscv64.

benchmarks/codegen/ holds eleven kernel-style functions written twice, in the kcc language
(kernels.py) and in C (kernels.c), and a bare-metal harness (harness.c, start.S, link.ld) that
runs each pair on the same input under ``qemu-system-riscv64 -machine virt -bios none -icount
shift=0`` and counts the instructions each retires with rdinstret (exact under -icount). The kcc
side is compiled at -O2 as a release build and as a checked build (bounds, NULL and overflow
checks in), the C side with the toolchain's clang at -O2; the ratio of a function is kcc's
count over clang's, and the suite's figure is their geometric mean.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kcc import codegen, toolchain
from kcc.compiler import BuildOptions, compile_units
from kcc.targets import get_target

SUITE = Path(__file__).resolve().parent / "codegen"
QEMU = "qemu-system-riscv64"
# "<name> <kcc instructions> <C instructions> <kcc result> <C result>" (harness.c, report()).
LINE = re.compile(r"^(\w+) (\d+) (\d+) (\d+) (\d+)\r?$", re.MULTILINE)


class SuiteError(Exception):
    """The suite did not build, did not run to its end, or kcc and C disagreed on a result."""


@dataclass
class Pair:
    """One function's instruction counts (kcc, C) and results (which must be equal)."""

    name: str
    kcc: int
    c: int
    kcc_result: int
    c_result: int

    @property
    def ratio(self) -> float:
        """kcc's instructions over clang's."""
        return self.kcc / self.c


def build_suite(out: Path, checked: bool) -> Path:
    """Compile the kcc side (checked or release, -O2), the C side and the harness; link ``out/suite.elf``.

    Raises:
        kcc.diagnostics.CompileError, kcc.toolchain.ToolchainError: the sources do not build.
    """
    target = get_target("riscv64")
    units = compile_units(SUITE, "kernels", BuildOptions(target, checked=checked))
    objects = codegen.compile_units({name: str(m) for name, m in units.items()}, target, 2, out / "obj").objects
    for source in ("kernels.c", "harness.c", "start.S"):
        objects.append(toolchain.compile_source(SUITE / source, out / f"{source}.o", target, opt=2))
    return toolchain.link(objects, SUITE / "link.ld", out / "suite.elf", out / "suite.map", target)


def run_suite(elf: Path, timeout: float = 300.0) -> list[Pair]:
    """Boot ``elf`` under QEMU with -icount shift=0 and read each pair's counts and results.

    Raises:
        SuiteError: QEMU is missing, the run failed or timed out, or a pair's results differ.
    """
    if shutil.which(QEMU) is None:
        raise SuiteError(f"{QEMU} is not installed (make qemu-deps)")
    cmd = [QEMU, "-machine", "virt", "-bios", "none", "-nographic", "-icount", "shift=0", "-kernel", str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SuiteError(f"the suite did not finish within {timeout:g} s") from exc
    if proc.returncode != 0 or "done" not in proc.stdout:
        raise SuiteError(f"the suite failed (QEMU exit status {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    pairs = [Pair(m[1], int(m[2]), int(m[3]), int(m[4]), int(m[5])) for m in LINE.finditer(proc.stdout)]
    wrong = [p.name for p in pairs if p.kcc_result != p.c_result]
    if wrong:
        raise SuiteError(f"kcc and C disagree on {', '.join(wrong)}:\n{proc.stdout}")
    return pairs


def geometric_mean(pairs: list[Pair]) -> float:
    """The geometric mean of the pairs' ratios."""
    return math.exp(sum(math.log(p.ratio) for p in pairs) / len(pairs))
