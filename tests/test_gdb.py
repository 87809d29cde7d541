"""gdb-multiarch against the kernel under QEMU through `kcc debug`, on every architecture, checked and release.

One scripted gdb session per image checks what the DWARF of kcc.debuginfo must give: a breakpoint
on a function and on a `file.py:line`, arguments and locals with their values, a global by its
Python name, a struct field, `ptype` of a @struct class, a backtrace that ends, and the value a
function returns after `finish`. The commands are echoed between markers so that each answer is
checked on its own.
"""

from __future__ import annotations

import ast
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGEALLOC = ROOT / "kernel_src" / "lib" / "pagealloc.py"
QEMU = {"riscv64": "qemu-system-riscv64", "armv8m": "qemu-system-arm", "i586": "qemu-system-i386"}
# A backtrace longer than this is taken for one that never ends (gdb's own limit stops it).
MAX_FRAMES = 30

pytestmark = pytest.mark.skipif(shutil.which("gdb-multiarch") is None,
                                reason="gdb-multiarch is not installed (make qemu-deps installs it)")


def _statement_line(function: str, source: str) -> int:
    """The line of the statement of pagealloc's ``function`` whose source text starts with ``source``."""
    tree = ast.parse(PAGEALLOC.read_text(encoding="utf-8"))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = PAGEALLOC.read_text(encoding="utf-8").splitlines()
    return next(n.lineno for n in ast.walk(fn) if isinstance(n, ast.stmt)
                and lines[n.lineno - 1].strip().startswith(source))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A gdb command that selects the innermost frame of a real call (not an inlined body) to a
# function with a result: `finish` from there prints the returned value (gdb manual, "Continuing
# and Stepping"), which it cannot for an inlined frame. Which calls LLVM inlines differs between
# architectures and build modes, so the session looks for one rather than naming it.
SELECT_VALUED_FRAME = """python
class SelectValuedFrame(gdb.Command):
    def __init__(self):
        super().__init__("select-valued-frame", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        frame = gdb.newest_frame()
        while frame is not None:
            function = frame.function()
            if (frame.type() == gdb.NORMAL_FRAME and function is not None
                    and function.type.target().code != gdb.TYPE_CODE_VOID):
                frame.select()
                print("selected", function.name)
                return
            frame = frame.older()
        raise gdb.GdbError("no frame of a real call to a function with a result")


SelectValuedFrame()
end"""


def _session(commands: list[str]) -> str:
    """A gdb script that runs ``commands``, each answer preceded by a ``@@@ command`` marker line."""
    out = [f"set backtrace limit {MAX_FRAMES}", SELECT_VALUED_FRAME]
    for command in commands:
        out += [f"echo @@@ {command}\\n", command]
    out.append("kill")
    return "\n".join(out) + "\n"


def _answers(output: str) -> list[tuple[str, str]]:
    """(command, its output) in the order the commands ran."""
    return [(command, answer) for command, _, answer in
            (chunk.partition("\n") for chunk in output.split("@@@ ")[1:])]


@pytest.mark.parametrize("release", [False, True], ids=["checked", "release"])
@pytest.mark.parametrize("arch, board", [("riscv64", "qemu-virt"), ("armv8m", "mps2-an505"), ("i586", "pc")])
def test_gdb_session(tmp_path: Path, arch: str, board: str, release: bool) -> None:
    if shutil.which(QEMU[arch]) is None:
        pytest.skip(f"{QEMU[arch]} is not installed (make qemu-deps)")
    line = _statement_line("add_range", "if _nranges == MAX_RANGES")
    commands = [
        "break kmain",
        f"break pagealloc.py:{line}",
        "continue",
        "info args",
        "bt",
        "continue",
        "info args",
        "info locals",
        f"clear pagealloc.py:{line}",  # add_range runs once per RAM range
        "select-valued-frame",
        "finish",
        "print _nranges",
        "print _ranges[0].start",
        "print _ranges[0]",
        "ptype Range",
        "print PAGE_SIZE",
        "ptype 'lib.pagealloc.alloc'",
    ]
    script = tmp_path / "session.gdb"
    script.write_text(_session(commands), encoding="utf-8")
    args = [sys.executable, "-m", "kcc", "debug", "--arch", arch, "--board", board, "-o", str(tmp_path / "build"),
            "--port", str(_free_port()), *(["--release"] if release else []), "--", "-nx", "-batch", "-x", str(script)]
    # errors="replace": the kernel's compact log frames (0xFF ...) reach QEMU's console, which shares the output.
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, errors="replace", timeout=600,
                         check=False)
    output = run.stdout + run.stderr
    answers = _answers(output)
    assert [command for command, _ in answers] == commands, output

    def answer(command: str, occurrence: int = 0) -> str:
        return [text for c, text in answers if c == command][occurrence]

    def has(pattern: str, text: str) -> re.Match[str] | None:
        return re.search(pattern, text, re.MULTILINE)

    # A breakpoint on a function and one on a source line, both resolved to the Python source.
    assert has(r"^Breakpoint \d+ at 0x[0-9a-f]+: file main\.py, line \d+\.$", answer("break kmain")), output
    # (One location or several, where add_range was inlined; gdb may name the file by its full path.)
    assert has(rf"^Breakpoint \d+ at 0x[0-9a-f]+: (file )?(/\S+/)?pagealloc\.py(, line |:){line}\.",
               answer(f"break pagealloc.py:{line}")), output
    # (OpenSBI on the SMP qemu-virt may boot the kernel on any hart.)
    assert has(r"kmain \(hartid=\d+, boot_info=\d+\) at main\.py:\d+$", answer("continue", 0)), output
    assert has(r"^hartid = \d+$", answer("info args", 0)), output

    # The backtrace from kmain: kmain, then the assembly entry, and it ends.
    frames = re.findall(r"^#\d+ ", answer("bt"), re.MULTILINE)
    assert 1 <= len(frames) <= 3, output
    assert "kmain" in answer("bt").splitlines()[0], output

    # In add_range at the line: its arguments are listed (an optimised build may no longer hold
    # ``start``, which nothing below the line reads), the locals computed above it have values.
    assert has(rf"lib\.pagealloc\.add_range \(start=.+, end=\d+\) at (/\S+/)?pagealloc\.py:{line}$",
               answer("continue", 1)), output
    assert has(r"^start = (\d+|<optimized out>)$", answer("info args", 1)), output
    assert has(r"^end = \d+$", answer("info args", 1)), output
    values = dict(re.findall(r"^(\w+) = (.*)$", answer("info locals"), re.MULTILINE))
    assert {"first", "last", "r", "pages"} <= set(values), output
    first, last = int(values["first"]), int(values["last"])
    assert first % 4096 == 0 and last % 4096 == 0 and first < last, output

    # finish out of the real call around add_range's line prints what that function returned.
    selected = has(r"^selected (\S+)$", answer("select-valued-frame"))
    assert selected, output
    value = has(r"^Value returned is \$\d+ = (.+)$", answer("finish"))
    if release and not value:
        # A release build is one whole-program unit: LLVM may drop the result of an internal
        # function whose callers ignore it and marks the function DW_CC_nocall, for which gdb
        # declines to show the value (DWARF 5, "Calling Convention Information").
        assert has(r"^Value returned has type: \S+\. Cannot determine contents$", answer("finish")), output
    else:
        assert value, output
        if selected.group(1) == "lib.pagealloc._add_carved":
            assert value.group(1) == "True", output

    # Globals by their Python names, a struct field, the struct through its printer, its type.
    assert has(r"^\$\d+ = [1-9]\d*$", answer("print _nranges")), output
    start = has(r"^\$\d+ = (\d+)$", answer("print _ranges[0].start"))
    assert start and int(start.group(1)) % 4096 == 0, output
    assert has(rf"^\$\d+ = Range\(start={start.group(1)}, next=\d+, end=\d+\)$", answer("print _ranges[0]")), output
    assert "type = struct Range {\n    usize start;\n    usize next;\n    usize end;\n}\n" in answer("ptype Range"), output
    assert has(r"^\$\d+ = 4096$", answer("print PAGE_SIZE")), output
    assert has(r"^type = usize \(void\)$", answer("ptype 'lib.pagealloc.alloc'")), output
    assert run.returncode == 0, output
