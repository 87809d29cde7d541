"""``kcc debug``: QEMU halted with its gdb stub, and gdb-multiarch attached to it with the kernel's ELF.

QEMU starts with ``-S`` and a gdb stub (kcc.qemu.qemu_command), in a session of its own so that
the Ctrl-C typed at gdb's prompt reaches gdb (which stops the guest) and not QEMU. gdb gets the
ELF, the source root as a source directory (the DWARF names files by absolute path, so this
only matters for a moved tree), ``kcc/gdb/kcc.gdb`` (settings) and ``kcc/gdb/printers.py``
(pretty-printers for kcc's types), then connects (gdb manual, "Connecting to a Remote Target").
The guest's console goes to kcc's standard output, QEMU's standard input is /dev/null: the
keyboard belongs to gdb.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from kcc.boards import Board
from kcc.paths import PACKAGE_DIR
from kcc.qemu import QemuError, qemu_command

GDB_DIR = PACKAGE_DIR / "gdb"
GDB_SCRIPT = GDB_DIR / "kcc.gdb"
GDB_PRINTERS = GDB_DIR / "printers.py"
GDB = "gdb-multiarch"
DEFAULT_PORT = 1234


def find_gdb() -> str:
    """The path of gdb-multiarch (one gdb for riscv64, Arm and x86).

    Raises:
        QemuError: when it is not on PATH, naming the Debian package to install.
    """
    path = shutil.which(GDB)
    if path is None:
        raise QemuError(f"{GDB} not found on PATH; install it with `apt-get install gdb-multiarch` "
                        "(or run `make qemu-deps`)")
    return path


def gdb_command(gdb: str, elf: Path, port: int, source_dirs: list[Path], gdb_args: tuple[str, ...] = ()) -> list[str]:
    """The gdb command line that debugs ``elf`` through QEMU's stub on localhost:``port``.

    gdb runs ``-x``/``-ex`` options in order after loading ``elf`` (gdb manual, "Command Files"):
    the settings, the printers, the source directories, the connection, then ``gdb_args``
    (``-batch -x commands.gdb`` makes a scripted session).
    """
    cmd = [gdb, "-q", "-x", str(GDB_SCRIPT), "-ex", f"source {GDB_PRINTERS}"]
    for directory in source_dirs:
        cmd += ["-ex", f"directory {directory}"]
    return [*cmd, "-ex", f"target remote localhost:{port}", *gdb_args, str(elf)]


def debug(board: Board, elf: Path, *, source_dirs: list[Path], port: int = DEFAULT_PORT,
          gdb_args: tuple[str, ...] = (), initrd: Path | None = None, append: str | None = None) -> int:
    """Boot ``elf`` on ``board`` halted under QEMU, run gdb attached to it, and stop QEMU when gdb ends.

    Args:
        board: a board with a [qemu] table.
        elf: the kernel.
        source_dirs: directories gdb searches for sources.
        port: the TCP port of QEMU's gdb stub.
        gdb_args: more gdb arguments, after the connection (e.g. ``-batch -x FILE``).
        initrd, append: as kcc.qemu.qemu_command.

    Returns gdb's exit status.

    Raises:
        QemuError: QEMU or gdb-multiarch is missing or cannot be started.
    """
    gdb = find_gdb()
    cmd = qemu_command(board, elf, gdb=True, gdb_port=port, initrd=initrd, append=append)
    try:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise QemuError(f"cannot start {cmd[0]}: {exc}") from exc
    previous = signal.getsignal(signal.SIGINT)
    try:
        # gdb retries the connection while QEMU opens its stub (gdb manual, "Remote
        # Configuration": tcp auto-retry, connect-timeout).
        session = subprocess.Popen(gdb_command(gdb, elf, port, source_dirs, gdb_args))
        # gdb handles Ctrl-C (it interrupts the guest); kcc must survive it to stop QEMU afterwards.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return session.wait()
    except OSError as exc:
        raise QemuError(f"cannot start {gdb}: {exc}") from exc
    finally:
        signal.signal(signal.SIGINT, previous)
        qemu.terminate()
        try:
            qemu.wait(5)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
