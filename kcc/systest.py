"""``kcc systest`` (``make systest``): build the kernel and user programs, boot user/systest as init, judge it.

The system tests (kernel_src/user/systest/) print ``PASS: <name>`` or
``FAIL: <name> (<detail>)`` per test and then ``system tests: N/M passed``,
and power the machine off with status 0 only when all passed. A run passes
when QEMU's exit code is 0, no test failed, and the summary follows the last
test line and counts exactly the tests printed, all passed: so a run that
stops early, or a program that powers off with 0 by mistake, fails.

Usage: ``kcc systest [--arch A] [--board B] [--release] [-o DIR] [--timeout S]``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from kcc import logs, qemu
from kcc.boards import Board, default_board, load_board
from kcc.build import build
from kcc.targets import ARCHES

PROGRAM = "systest"
_RESULT = re.compile(r"^(PASS|FAIL): (.*?)\r?$", re.MULTILINE)
_SUMMARY = re.compile(r"^system tests: (\d+)/(\d+) passed\r?$", re.MULTILINE)


@dataclass
class Verdict:
    """What a systest run's console says.

    Attributes:
        passed: names of the tests that printed PASS, in order.
        failed: the text after ``FAIL: `` (name and detail) of each failed test.
        summary: (N, M) from the summary line that follows the last test line, None when there is none.
        problems: why the run does not count as a pass (empty when it does).
    """

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    summary: tuple[int, int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every test passed and the summary confirms it."""
        return not self.problems


def judge(console: str, exit_code: int) -> Verdict:
    """Read the PASS/FAIL lines and the summary from ``console`` and decide whether the run passed.

    ``exit_code`` is the kernel's (kcc.qemu.RunResult.exit_code; 124 after a timeout).
    """
    verdict = Verdict()
    last_test_end = 0
    for m in _RESULT.finditer(console):
        (verdict.passed if m.group(1) == "PASS" else verdict.failed).append(m.group(2))
        last_test_end = m.end()
    summaries = [m for m in _SUMMARY.finditer(console) if m.start() >= last_test_end]
    if summaries:
        verdict.summary = (int(summaries[-1].group(1)), int(summaries[-1].group(2)))
    total = len(verdict.passed) + len(verdict.failed)
    if verdict.failed:
        verdict.problems.append(f"{len(verdict.failed)} of {total} tests failed")
    if verdict.summary is None:
        verdict.problems.append("no 'system tests: N/M passed' line after the last test")
    elif verdict.summary != (len(verdict.passed), total):
        verdict.problems.append(f"the summary says {verdict.summary[0]}/{verdict.summary[1]} but "
                                f"{len(verdict.passed)}/{total} tests printed PASS")
    if total == 0:
        verdict.problems.append("no test ran")
    if exit_code == qemu.TIMEOUT_STATUS:
        verdict.problems.append("QEMU was stopped by the timeout")
    elif exit_code != 0:
        verdict.problems.append(f"the machine powered off with status {exit_code}")
    return verdict


def init_program_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options of the commands that boot a user program as init (kcc systest, kcc fuzz): the kernel to build.

    ``--arch`` (no host), ``--board``, ``--release`` and ``-o``, passed as
    ``arch``, ``board``, ``release`` and ``out_dir``.
    """
    for option in reversed([
        click.option("--arch", type=click.Choice([a for a in ARCHES if a != "host"]), default="riscv64",
                     show_default=True, help="Target architecture."),
        click.option("--board", default=None, metavar="NAME", help="Board (default: the architecture's default board)."),
        click.option("--release", is_flag=True, help="Release build (checks out, -O2); default: a checked build."),
        click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Build directory (default: build/<board>)."),
    ]):
        func = option(func)
    return func


def board_for(arch: str, board: str | None) -> Board:
    """The board named ``board`` (None: ``arch``'s default board).

    Raises:
        click.UsageError: the board is for another architecture.
        kcc.boards.BoardError: as load_board.
    """
    board_desc = load_board(board or default_board(arch))
    if board_desc.arch != arch:
        raise click.UsageError(f"board '{board_desc.name}' is for {board_desc.arch}, not {arch}")
    return board_desc


@click.command("systest")
@init_program_options
@click.option("--timeout", type=float, default=300.0, show_default=True, metavar="SECONDS",
              help="Stop QEMU after this long (the run then fails).")
def systest_cmd(arch: str, board: str | None, release: bool, out_dir: Path | None, timeout: float) -> None:
    """Build, boot kernel_src/user/systest as init under QEMU, stream the console, and judge the result.

    Exit status 0 only when every test passed and the summary line says so
    (see kcc.systest.judge); 1 otherwise, with the failed tests and the reasons on stderr.
    """
    board_desc = board_for(arch, board)
    result = build(arch, board_desc.name, release=release, out_dir=out_dir)
    if result.initrd is None:
        raise click.UsageError(f"board '{board_desc.name}' runs no user programs (USER_PROCESSES is not 1)")
    run = qemu.boot(board_desc, result.elf, timeout=timeout, echo=logs.console_view(result.elf, sys.stdout.buffer), initrd=result.initrd,
                    append=f"init={PROGRAM}")
    verdict = judge(run.text, run.exit_code)
    if verdict.ok:
        click.echo(f"systest: all {len(verdict.passed)} tests passed", err=True)
        return
    for name in verdict.failed:
        click.echo(f"systest: FAIL: {name}", err=True)
    click.echo(f"systest: failed: {'; '.join(verdict.problems)}", err=True)
    raise click.exceptions.Exit(1)

