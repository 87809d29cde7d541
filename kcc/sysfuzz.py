"""``kcc fuzz`` (``make fuzz``, ``python -m kcc.sysfuzz``): boot the system-call fuzzer (kernel_src/user/fuzz) as init and judge its run.

The fuzzer gets its call count and seed on the kernel command line
(``init=fuzz -- calls=N seed=S``: the kernel passes the words after ``--``
to init as its argv) and prints ``fuzz: step K checksum C violations V``
after every batch, ``fuzz: invariant violation: ...`` for each violation
it sees, and ``fuzz: done: N calls, V invariant violations, checksum C
(seed S)`` at the end, when it powers off (0: clean, 1: violations). A
kernel panic powers off with status 2 before any of that; a hang is the
timeout. The last line printed here, on standard output, is always

    fuzz: N calls, P kernel panics, V invariant violations

with N the calls made (the last step reported when the run did not
finish); on a panic, a hang or a violation the lines before it, on
standard error, give the seed and the last step reported. Exit status 0
only when every call was made with no panic and no violation.

QEMU runs with ``-icount shift=0`` (one instruction per virtual
nanosecond, so every timer interrupt lands on the same instruction and a
seed reproduces its run) and one hart: with the board's second hart idle,
QEMU's icount mode spends real time on every timer tick (a 2,000-call run
takes 9 s instead of 0.5 s), and the kernel runs on one hart anyway.

Usage: ``kcc fuzz [--arch A] [--board B] [--release] [-o DIR] [--src DIR] [--calls N] [--seed S] [--timeout S]``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from kcc import logs, qemu
from kcc.build import build
from kcc.systest import board_for, init_program_options

PROGRAM = "fuzz"
PANIC_STATUS = 2            # lib/panic.py's PANIC_EXIT_CODE: the kernel panicked
_STEP = re.compile(r"^fuzz: step (\d+) checksum ([0-9a-f]+) violations (\d+)\r?$", re.MULTILINE)
_DONE = re.compile(r"^fuzz: done: (\d+) calls, (\d+) invariant violations, checksum ([0-9a-f]+) \(seed (\d+)\)\r?$",
                   re.MULTILINE)
_VIOLATION = re.compile(r"^fuzz: (invariant violation: .*?)\r?$", re.MULTILINE)
_PANIC = re.compile(r"^(panic: .*?)\r?$", re.MULTILINE)


@dataclass
class Verdict:
    """What a fuzzer run's console and exit code say.

    Attributes:
        calls: the calls made: the final line's count, else the last step reported (0 when none was).
        panics: 1 when the kernel panicked (it stops the machine, so there is at most one), else 0.
        violations: the invariant violations reported.
        checksum: the final checksum (hex), None when the run did not finish.
        steps: (step, checksum) of every progress line, in order: two runs of one seed print the same.
        problems: why the run does not count as clean (empty when it does).
    """

    calls: int = 0
    panics: int = 0
    violations: int = 0
    checksum: str | None = None
    steps: list[tuple[int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run made every call with no panic, hang or violation."""
        return not self.problems

    @property
    def summary(self) -> str:
        """The last line of ``kcc fuzz``: ``fuzz: N calls, P kernel panics, V invariant violations``."""
        return f"fuzz: {self.calls} calls, {self.panics} kernel panics, {self.violations} invariant violations"


def judge(console: str, exit_code: int, calls: int, seed: int) -> Verdict:
    """Read a fuzzer run's ``console`` and the kernel's ``exit_code`` (kcc.qemu.RunResult.exit_code).

    ``calls`` and ``seed`` are what the run was asked for; every problem
    names the seed and the last step reported, so the run can be repeated
    and the step found.
    """
    v = Verdict()
    v.steps = [(int(m.group(1)), m.group(2)) for m in _STEP.finditer(console)]
    last = v.steps[-1][0] if v.steps else 0
    done = list(_DONE.finditer(console))
    reported = [m.group(1) for m in _VIOLATION.finditer(console)]
    v.violations = len(reported)
    where = f"seed {seed}, last step reported {last}"
    if done:
        m = done[-1]
        v.calls = int(m.group(1))
        v.violations = max(v.violations, int(m.group(2)))
        v.checksum = m.group(3)
        if v.calls != calls:
            v.problems.append(f"{v.calls} calls made, {calls} asked for ({where})")
    else:
        v.calls = last
    if exit_code == PANIC_STATUS and not done:
        v.panics = 1
        panics = _PANIC.findall(console)
        v.problems.append(f"kernel panic ({where}): {panics[-1] if panics else 'no panic line'}")
    elif exit_code == qemu.TIMEOUT_STATUS:
        v.problems.append(f"no end before the timeout: a hang or a slow run ({where})")
    elif not done:
        v.problems.append(f"the machine powered off with status {exit_code} before the end ({where})")
    elif exit_code not in (0, 1):
        v.problems.append(f"the machine powered off with status {exit_code} ({where})")
    for text in reported:
        v.problems.append(f"{text} ({where})")
    if done and v.violations and not reported:
        v.problems.append(f"{v.violations} invariant violations ({where})")
    if done and exit_code == 1 and not v.violations:
        v.problems.append(f"the fuzzer powered off with status 1 but reported no violation ({where})")
    return v


def command_line(calls: int, seed: int) -> str:
    """The kernel command line that starts the fuzzer as init with ``calls`` and ``seed``."""
    return f"init={PROGRAM} -- calls={calls} seed={seed}"


@click.command("fuzz")
@init_program_options
@click.option("--src", "src_root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The kernel's source root (default: kcc's kernel_src).")
@click.option("--calls", type=click.IntRange(1, 2**63 - 1), default=10000, show_default=True,
              help="System calls to make.")
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), default=1, show_default=True,
              help="The fuzzer's seed: one seed, one run.")
@click.option("--timeout", type=float, default=3600.0, show_default=True, metavar="SECONDS",
              help="Stop QEMU after this long (the run then counts as a hang).")
def fuzz_cmd(arch: str, board: str | None, release: bool, out_dir: Path | None, src_root: Path | None, calls: int,
             seed: int, timeout: float) -> None:
    """Build, boot kernel_src/user/fuzz as init under QEMU (-icount shift=0), stream the console, judge the run.

    The last line is ``fuzz: N calls, P kernel panics, V invariant violations``;
    exit status 0 only when all the calls were made with neither.
    """
    board_desc = board_for(arch, board)
    result = build(arch, board_desc.name, release=release, out_dir=out_dir, src_root=src_root)
    if result.initrd is None or board_desc.qemu is None:
        raise click.UsageError(f"board '{board_desc.name}' runs no user programs under QEMU")
    one_hart = dataclasses.replace(board_desc, qemu=dataclasses.replace(board_desc.qemu, smp=1))
    started = time.monotonic()
    run = qemu.boot(one_hart, result.elf, timeout=timeout, icount=True,
                    echo=logs.console_view(result.elf, sys.stdout.buffer), initrd=result.initrd,
                    append=command_line(calls, seed))
    verdict = judge(run.text, run.exit_code, calls, seed)
    sys.stdout.flush()
    for problem in verdict.problems:
        click.echo(f"fuzz: {problem}", err=True)
    click.echo(f"fuzz: seed {seed}, {time.monotonic() - started:.1f} s, checksum {verdict.checksum}", err=True)
    sys.stderr.flush()
    click.echo(verdict.summary)
    if not verdict.ok:
        raise click.exceptions.Exit(1)


if __name__ == "__main__":
    fuzz_cmd()
