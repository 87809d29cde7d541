"""Boot a built kernel under QEMU: the command line from the board's [qemu] table, console streaming, exit code."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kcc.boards import Board

# Exit status kcc reports when QEMU had to be stopped, as GNU timeout(1) does.
TIMEOUT_STATUS = 124

# The Debian packages that hold each QEMU system emulator (packages.debian.org, bookworm).
QEMU_PACKAGES = {
    "qemu-system-riscv64": "qemu-system-misc",
    "qemu-system-arm": "qemu-system-arm",
    "qemu-system-i386": "qemu-system-x86",
}


class QemuError(Exception):
    """QEMU cannot be run for this board: no [qemu] table, or the emulator is not installed."""


@dataclass
class RunResult:
    """What one QEMU run produced.

    Attributes:
        exit_code: the kernel's exit code (see kernel_exit_code), or TIMEOUT_STATUS.
        qemu_status: QEMU's own exit status (negative: killed by that signal number).
        output: every byte QEMU wrote to its console (stdout and stderr, interleaved).
        timed_out: True when kcc stopped QEMU after the timeout.
        seconds: wall-clock duration of the run.
    """

    exit_code: int
    qemu_status: int
    output: bytes
    timed_out: bool
    seconds: float

    @property
    def text(self) -> str:
        """The console output decoded as UTF-8 (undecodable bytes replaced)."""
        return self.output.decode("utf-8", errors="replace")


def qemu_command(board: Board, kernel: Path, *, gdb: bool = False, icount: bool = False,
                 extra: tuple[str, ...] = (), initrd: Path | None = None, append: str | None = None) -> list[str]:
    """The QEMU command line that boots ``kernel`` (an ELF) on ``board``.

    ``binary -M machine [-m memory] [-smp n] <args> [-icount shift=0] [-s -S] <extra>
    [-initrd initrd] [-append text] -kernel kernel``.
    ``icount`` makes the guest execute exactly one instruction per virtual
    nanosecond (QEMU docs, "-icount shift=0"), so instruction counts and timer
    ticks are reproducible; ``gdb`` opens the gdb stub on TCP port 1234 (``-s``)
    and halts the CPU until a debugger continues it (``-S``). ``initrd`` is
    loaded into RAM and announced to the kernel (riscv64: /chosen
    linux,initrd-start/-end in the device tree; i586: the first Multiboot
    module); ``append`` is the kernel command line (/chosen bootargs; the
    Multiboot command line after the kernel's file name).

    Raises:
        QemuError: when the board has no [qemu] table or its emulator is not on PATH.
    """
    if board.qemu is None:
        raise QemuError(f"board '{board.name}' has no [qemu] table: no emulator runs it")
    q = board.qemu
    binary = shutil.which(q.binary)
    if binary is None:
        package = QEMU_PACKAGES.get(q.binary, "the QEMU package that provides it")
        raise QemuError(f"{q.binary} not found on PATH; install it with `apt-get install {package}` "
                        f"(or run `make qemu-deps`)")
    cmd = [binary, "-M", q.machine]
    if q.memory:
        cmd += ["-m", q.memory]
    if q.smp > 1:
        cmd += ["-smp", str(q.smp)]
    cmd += list(q.args)
    if icount:
        cmd += ["-icount", "shift=0"]
    if gdb:
        cmd += ["-s", "-S"]
    cmd += list(extra)
    if initrd is not None:
        cmd += ["-initrd", str(initrd)]
    if append is not None:
        cmd += ["-append", append]
    cmd += ["-kernel", str(kernel)]
    return cmd


def kernel_exit_code(method: str, status: int) -> int:
    """Translate QEMU's exit status into the kernel's exit code.

    - ``sifive_test`` (riscv64 virt): the kernel writes 0x5555 (pass) or
      (code << 16) | 0x3333 (fail) to the test device; QEMU then exits with 0 or
      ``code`` (QEMU hw/misc/sifive_test.c), so the status is the code.
    - ``isa_debug_exit`` (pc): writing v to the port makes QEMU exit with
      (v << 1) | 1 (QEMU hw/misc/debug-exit.c). The kernel writes code + 1,
      because status 1 (v = 0) is also what QEMU exits with when it fails by
      itself, e.g. cannot load the kernel: odd statuses from 3 up give
      (status >> 1) - 1, any other status is passed on (1: QEMU failed,
      0: QEMU ended without the device).
    - ``semihosting`` and ``none``: QEMU exits with the code itself.
    A status below zero (QEMU killed by signal N) becomes 128 + N, as in a shell.
    """
    if status < 0:
        return 128 - status
    if method == "isa_debug_exit" and status & 1 and status >= 3:
        return (status >> 1) - 1
    return status


def run_qemu(cmd: list[str], exit_method: str, timeout: float | None,
             echo: BinaryIO | None = None) -> RunResult:
    """Run ``cmd``, copying QEMU's console to ``echo`` as it arrives, and wait for it to end.

    Standard input is passed through when it is a terminal (so the console is
    interactive) and closed otherwise (CI, pipes).

    Args:
        cmd: the command line from qemu_command.
        exit_method: the board's qemu.exit (see kernel_exit_code).
        timeout: seconds after which QEMU is stopped (SIGTERM, then SIGKILL); None waits forever.
        echo: where to copy the console, e.g. ``sys.stdout.buffer``; None copies nothing.

    Raises:
        QemuError: when QEMU cannot be started.
    """
    stdin = None if sys.stdin is not None and sys.stdin.isatty() else subprocess.DEVNULL
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise QemuError(f"cannot start {cmd[0]}: {exc}") from exc
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    timed_out = False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                remaining = None if timeout is None else timeout - (time.monotonic() - start)
                if remaining is not None and remaining <= 0:
                    timed_out = True
                    break
                if not sel.select(remaining):
                    continue
                data = os.read(fd, 65536)
                if not data:
                    break
                chunks.append(data)
                if echo is not None:
                    echo.write(data)
                    echo.flush()
    finally:
        # On a timeout, and on Ctrl-C or an error in kcc, QEMU must not outlive the run.
        if proc.poll() is None and (timed_out or sys.exc_info()[0] is not None):
            _stop(proc)
    status = proc.wait()
    proc.stdout.close()
    code = TIMEOUT_STATUS if timed_out else kernel_exit_code(exit_method, status)
    return RunResult(code, status, b"".join(chunks), timed_out, time.monotonic() - start)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop QEMU politely (it restores the terminal on SIGTERM), then for certain."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def boot(board: Board, kernel: Path, *, timeout: float | None = 120.0, gdb: bool = False,
         icount: bool = False, echo: BinaryIO | None = None, initrd: Path | None = None,
         append: str | None = None) -> RunResult:
    """Boot ``kernel`` on ``board`` under QEMU and return the run's result.

    Args:
        timeout: the safety net in seconds (None: none; forced to None with ``gdb``,
            because a debugging session has no time limit).
        gdb, icount, initrd, append: as in qemu_command.
        echo: where the console is copied while it runs.

    Raises:
        QemuError: as qemu_command and run_qemu.
    """
    cmd = qemu_command(board, kernel, gdb=gdb, icount=icount, initrd=initrd, append=append)
    assert board.qemu is not None
    return run_qemu(cmd, board.qemu.exit, None if gdb else timeout, echo)
