"""Boot a built kernel under QEMU: the command line from the board's [qemu] table, console streaming, exit code."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kcc.boards import Board

# Exit status kcc reports when QEMU had to be stopped, as GNU timeout(1) does.
TIMEOUT_STATUS = 124

# The Debian packages that hold each QEMU system emulator (packages.debian.org, bookworm).
QEMU_PACKAGES = {
    "qemu-system-riscv64": "qemu-system-misc",
    "qemu-system-arm": "qemu-system-arm",
    "qemu-system-i386": "qemu-system-x86",
}


class Echo(Protocol):
    """Where a run's console is copied as it arrives: a binary stream such as ``sys.stdout.buffer``
    or a kcc.logs.ConsoleView over one."""

    def write(self, data: bytes, /) -> int:
        """Take the console bytes ``data``; returns how many were taken."""
        ...

    def flush(self) -> None:
        """Push what was written to its destination."""
        ...


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
                 extra: tuple[str, ...] = (), initrd: Path | None = None, append: str | None = None,
                 gdb_port: int = 1234) -> list[str]:
    """The QEMU command line that boots ``kernel`` (an ELF) on ``board``.

    ``binary -M machine [-m memory] [-smp n] <args> [-icount shift=0] [-s -S] <extra>
    [-initrd initrd] [-append text] -kernel kernel``.
    ``icount`` makes the guest execute exactly one instruction per virtual
    nanosecond (QEMU docs, "-icount shift=0"), so instruction counts and timer
    ticks are reproducible; ``gdb`` opens the gdb stub on TCP port ``gdb_port``
    (``-s`` for the default 1234, else ``-gdb tcp::PORT``) and halts the CPU until a
    debugger continues it (``-S``). ``initrd`` is
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
        cmd += (["-s"] if gdb_port == 1234 else ["-gdb", f"tcp::{gdb_port}"]) + ["-S"]
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


# The kernel prints its banner once its console is set up. Bytes that reach the UART before that can
# be dropped (the firmware and the kernel reset its receive FIFO while they set it up), so input that
# is not typed by a person (a pipe, a file, console_input) is held back until the banner has appeared.
INPUT_AFTER = b"kcc-kernel "


def _stdin_kind() -> str:
    """What kcc's standard input is: "tty", "pipe", "file", or "none" (closed, /dev/null, anything else)."""
    if sys.stdin is None:
        return "none"
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return "none"
    if sys.stdin.isatty():
        return "tty"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISREG(mode):
        return "file"
    return "none"


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (QEMU's standard input)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_qemu(cmd: list[str], exit_method: str, timeout: float | None,
             echo: Echo | None = None, console_input: bytes | None = None) -> RunResult:
    """Run ``cmd``, copying QEMU's console to ``echo`` as it arrives, and wait for it to end.

    Standard input is passed straight through when it is a terminal (so the
    console is interactive); a pipe or a file is forwarded once the kernel's
    banner (INPUT_AFTER) has appeared, so ``printf 'echo hi\nhalt\n' | kcc
    run`` types into the guest's console with nothing lost; otherwise it is
    closed (CI). With ``console_input`` QEMU gets those bytes instead, at the
    same moment (tests: a shell session that ends with ``halt``).

    Args:
        cmd: the command line from qemu_command.
        exit_method: the board's qemu.exit (see kernel_exit_code).
        timeout: seconds after which QEMU is stopped (SIGTERM, then SIGKILL); None waits forever.
        echo: where to copy the console, e.g. ``sys.stdout.buffer``; None copies nothing.
        console_input: bytes to type on the console; None uses kcc's standard input as above.

    Raises:
        QemuError: when QEMU cannot be started.
    """
    kind = "given" if console_input is not None else _stdin_kind()
    stdin: int | None = {"tty": None, "none": subprocess.DEVNULL}.get(kind, subprocess.PIPE)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise QemuError(f"cannot start {cmd[0]}: {exc}") from exc
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    seen = b""              # the console's last bytes, to find INPUT_AFTER across two reads
    waiting = proc.stdin is not None
    timed_out = False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                remaining = None if timeout is None else timeout - (time.monotonic() - start)
                if remaining is not None and remaining <= 0:
                    timed_out = True
                    break
                events = sel.select(remaining)
                if any(key.fd != fd for key, _ in events):
                    _forward_stdin(sel, proc)
                if not any(key.fd == fd for key, _ in events):
                    continue
                data = os.read(fd, 65536)
                if not data:
                    break
                chunks.append(data)
                if echo is not None:
                    echo.write(data)
                    echo.flush()
                if waiting:
                    seen = seen[-len(INPUT_AFTER):] + data
                    if INPUT_AFTER in seen:
                        waiting = False
                        _start_input(sel, proc, kind, console_input)
    finally:
        # On a timeout, and on Ctrl-C or an error in kcc, QEMU must not outlive the run.
        if proc.poll() is None and (timed_out or sys.exc_info()[0] is not None):
            _stop(proc)
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
    status = proc.wait()
    proc.stdout.close()
    code = TIMEOUT_STATUS if timed_out else kernel_exit_code(exit_method, status)
    return RunResult(code, status, b"".join(chunks), timed_out, time.monotonic() - start)


def _start_input(sel: selectors.BaseSelector, proc: subprocess.Popen[bytes], kind: str,
                 console_input: bytes | None) -> None:
    """The guest's console is ready: hand QEMU the given bytes or a file at once, or start copying the pipe."""
    assert proc.stdin is not None
    try:
        if kind == "pipe":
            sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
            return
        data = console_input if console_input is not None else os.read(sys.stdin.fileno(), 1 << 24)
        _write_all(proc.stdin.fileno(), data)
    except OSError:
        pass                # QEMU already gone: its status says why
    proc.stdin.close()


def _forward_stdin(sel: selectors.BaseSelector, proc: subprocess.Popen[bytes]) -> None:
    """Copy what the pipe on kcc's standard input holds to QEMU; at its end, close QEMU's input."""
    assert proc.stdin is not None
    data = os.read(sys.stdin.fileno(), 65536)
    try:
        if data:
            _write_all(proc.stdin.fileno(), data)
            return
    except OSError:
        pass
    sel.unregister(sys.stdin.fileno())
    proc.stdin.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop QEMU politely (it restores the terminal on SIGTERM), then for certain."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def boot(board: Board, kernel: Path, *, timeout: float | None = 120.0, gdb: bool = False,
         icount: bool = False, echo: Echo | None = None, initrd: Path | None = None,
         append: str | None = None, console_input: bytes | None = None) -> RunResult:
    """Boot ``kernel`` on ``board`` under QEMU and return the run's result.

    Args:
        timeout: the safety net in seconds (None: none; forced to None with ``gdb``,
            because a debugging session has no time limit).
        gdb, icount, initrd, append: as in qemu_command.
        echo: where the console is copied while it runs.
        console_input: bytes typed on the console (run_qemu); None passes kcc's standard input through.

    Raises:
        QemuError: as qemu_command and run_qemu.
    """
    cmd = qemu_command(board, kernel, gdb=gdb, icount=icount, initrd=initrd, append=append)
    assert board.qemu is not None
    return run_qemu(cmd, board.qemu.exit, None if gdb else timeout, echo, console_input)
