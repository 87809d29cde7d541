"""The shell on riscv64 qemu-virt, driven through QEMU's serial console the way a person types at it.

One boot for the whole module (a module-scoped fixture): init starts the
console driver, the file system and the shell from its manifest, and each
test types commands at the ``$ `` prompt and checks what comes back, in
file order, as one session: built-ins, line editing, programs with
arguments and their exit status, files listed, read, written with ``>`` and
removed, pipes (one longer than its ring) and a program's output into a file, ``wc`` and ``life``,
the programs ``ls``, ``cat``, ``ps`` and ``kill`` beside their built-ins, the
game played with keys, a program copied into the file system and run from
there, a faulting program contained, Ctrl-C stopping a spinning program,
``kill`` stopping one started with ``&``, the console driver and the file
system killed and restarted while the shell keeps working, a nested shell, the top-level
shell restarted after Ctrl-D, ``mem``, a program that clones itself
(``fork``: private memory, the clone in ``ps``, its exit code), and ``halt``
powering off with status 0.
pexpect's timeouts are only a safety net: every step waits for the output
it needs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from kcc import qemu
from kcc.boards import load_board
from kcc.build import build

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                                reason="qemu-system-riscv64 is not installed (make qemu-deps)")

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
PROMPT = "\\$ "
STEP = 60           # seconds: a safety net for one step; each normally takes milliseconds


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pexpect.spawn]:
    """The booted system's console, at its first prompt; halted (and checked to exit 0) afterwards."""
    out = tmp_path_factory.mktemp("shell")
    result = build("riscv64", "qemu-virt", release=False, out_dir=out / "build", src_root=KERNEL_SRC)
    assert result.initrd is not None
    cmd = qemu.qemu_command(load_board("qemu-virt"), result.elf, initrd=result.initrd)
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", codec_errors="replace", timeout=STEP,
                          dimensions=(50, 200))
    child.logfile_read = (out / "console.log").open("w", encoding="utf-8")
    child.expect("kcc shell")
    child.expect(PROMPT)
    yield child
    if child.isalive():
        child.terminate(force=True)
    child.logfile_read.close()


def run(console: pexpect.spawn, line: str) -> str:
    """Type ``line`` and Enter; return everything printed before the next prompt (without the echoed line)."""
    console.send(line + "\r")
    console.expect_exact(line)
    console.expect(PROMPT)
    return console.before.replace("\r", "").strip("\n")


def test_echo_and_help(console: pexpect.spawn) -> None:
    assert run(console, "echo hello   there") == "hello there"
    text = run(console, "help")
    for command in ("help", "echo", "ls", "cat", "cd", "pwd", "mkdir", "rm", "run PROG ARGS", "ps", "kill PID", "mem",
                    "exit", "halt"):
        assert command in text


def test_program_with_arguments_and_exit_status(console: pexpect.spawn) -> None:
    assert run(console, "hello one two three") == "hello, world\nargv[1] = one\nargv[2] = two\nargv[3] = three"
    assert run(console, "echo $?") == "3"
    assert run(console, "run hello x") == "hello, world\nargv[1] = x"
    assert run(console, "echo $?") == "1"
    assert run(console, "nosuchprogram") == "sh: nosuchprogram: command not found"
    assert run(console, "echo $?") == "127"


def test_line_editing(console: pexpect.spawn) -> None:
    console.send("echo abX\x7fc\r")             # backspace erases the X
    console.expect_exact("echo abX\b \bc")
    console.expect(PROMPT)
    assert console.before.replace("\r", "").strip("\n") == "abc"
    console.send("rubbish\x15echo clean\r")    # Ctrl-U erases the whole line
    console.expect_exact("\b \b" * 7 + "echo clean")
    console.expect(PROMPT)
    assert console.before.replace("\r", "").strip("\n") == "clean"
    console.send("half a line\x03")           # Ctrl-C abandons the line
    console.expect_exact("^C")
    console.expect(PROMPT)
    assert run(console, "echo after") == "after"


def test_files_listed_read_written_and_removed(console: pexpect.spawn) -> None:
    assert sorted(run(console, "ls").split("\n")) == ["bin/", "boot/", "etc/"]
    programs = {"init", "uart", "fs", "sh", "hello", "spin", "fault"}
    assert programs <= set(run(console, "ls /bin").split("\n"))         # the ELF executables
    assert programs <= set(run(console, "ls /boot").split("\n"))        # the flat images
    manifest = run(console, "cat /etc/init.rc")
    assert re.search(r"^uart +\d+ +\d+ +restart uart$", manifest, re.MULTILINE), manifest
    assert run(console, "mkdir /tmp") == ""
    assert run(console, "cd /tmp") == ""
    assert run(console, "pwd") == "/tmp"
    assert run(console, "echo first line > notes") == ""
    assert run(console, "cat notes") == "first line"
    assert run(console, "echo second > /tmp/notes") == ""         # > truncates
    assert run(console, "cat ../tmp/./notes") == "second"
    assert run(console, "ps > ps.txt") == ""
    assert "uart" in run(console, "cat ps.txt")
    assert run(console, "ls") == "notes\nps.txt"
    assert run(console, "cat missing") == "cat: missing: no such file or directory"
    assert run(console, "echo $?") == "1"
    assert run(console, "cd /") == ""
    assert run(console, "rm /tmp") == "rm: /tmp: directory not empty"
    assert run(console, "rm /tmp/notes /tmp/ps.txt /tmp") == ""
    assert sorted(run(console, "ls").split("\n")) == ["bin/", "boot/", "etc/"]


def test_programs_wc_and_life(console: pexpect.spawn) -> None:
    assert run(console, "echo one two three > /w.txt") == ""
    assert run(console, "wc /w.txt /etc/init.rc").split("\n")[0].split() == ["1", "3", "14", "/w.txt"]
    assert run(console, "wc /nothing") == "wc: /nothing: no such file or directory"
    assert run(console, "echo $?") == "1"
    assert run(console, "rm /w.txt") == ""
    text = run(console, "life 3")
    assert "generation 0, 13 alive" in text and "generation 3, " in text, text
    assert "\x1b[H" in text                       # drawn in place
    assert run(console, "echo $?") == "0"


def test_a_program_copied_into_the_file_system_runs_from_there(console: pexpect.spawn) -> None:
    assert run(console, "mkdir /apps") == ""
    assert run(console, "cp /bin/hello /apps/greet") == ""
    assert run(console, "cd /apps") == ""
    assert run(console, "./greet from the fs") == "hello, world\nargv[1] = from\nargv[2] = the\nargv[3] = fs"
    assert run(console, "echo $?") == "3"
    assert run(console, "cp /etc/init.rc text") == ""
    assert run(console, "./text") == "sh: ./text: not an executable"
    assert run(console, "echo $?") == "126"
    assert run(console, "cd /") == ""
    assert run(console, "rm /apps/greet /apps/text /apps") == ""


def test_pipes_and_program_output_into_a_file(console: pexpect.spawn) -> None:
    assert run(console, "echo one two three | wc").split() == ["1", "3", "14"]           # a built-in into a program
    assert run(console, "hello a b | wc").split() == ["3", "8", "37"]                    # a program into a program
    assert run(console, "hello x y > /out.txt") == ""
    assert run(console, "cat /out.txt") == "hello, world\nargv[1] = x\nargv[2] = y"
    assert run(console, "hello q | wc > /out.txt") == ""
    assert run(console, "cat /out.txt").split() == ["2", "5", "25"]
    assert run(console, "rm /out.txt") == ""
    assert run(console, "hello | nosuch") == "sh: nosuch: command not found"
    assert run(console, "echo $?") == "127"
    assert run(console, "| wc") == "sh: | needs one program on each side"


def test_a_pipe_longer_than_its_ring(console: pexpect.spawn) -> None:
    line = "0123456789" * 4                                 # 41 bytes with its newline
    assert run(console, f"echo {line} > /p1") == ""
    assert run(console, "cat" + " /p1" * 8 + " > /p8") == ""
    assert run(console, "cat" + " /p8" * 8 + " > /p64") == ""   # 64 lines, 2,624 bytes
    counts = ["256", "256", str(256 * 41)]                  # 10,496 bytes: more than twice the 4,032-byte ring
    assert run(console, "/bin/cat /p64 /p64 /p64 /p64 | wc").split() == counts   # the writer waits for room
    assert run(console, "cat /p64 /p64 /p64 /p64 | wc").split() == counts        # so does a built-in
    assert run(console, "rm /p1 /p8 /p64") == ""


def test_ls_cat_ps_and_kill_are_programs_too(console: pexpect.spawn) -> None:
    assert {"ls", "cat", "ps", "kill"} <= set(run(console, "ls /bin").split("\n"))
    assert run(console, "run ls /etc") == "init.rc"                        # the program, not the built-in
    assert run(console, "cd /etc") == ""
    assert sorted(run(console, "run ls").split("\n")) == ["bin/", "boot/", "etc/"]   # programs take paths from /
    assert run(console, "ls") == "init.rc"                                 # the built-in from the current directory
    assert run(console, "cd /") == ""
    assert run(console, "/bin/cat /etc/init.rc") == run(console, "cat /etc/init.rc")
    assert run(console, "echo through a pipe | cat") == "through a pipe"   # cat without a file copies its input
    assert run(console, "run cat /etc/init.rc /nope").endswith("cat: /nope: no such file or directory")
    assert run(console, "echo $?") == "1"
    rows = [line.split() for line in run(console, "run ps").split("\n")[1:]]
    assert ["running", "ps"] in [[r[2], r[5]] for r in rows]              # ps sees itself
    started = run(console, "spin quiet &")
    m = re.search(r"^\[(\d+)\]$", started, re.MULTILINE)
    assert m, started
    pid = int(m.group(1))
    assert run(console, f"run kill {pid}") == ""
    assert (pid, "killed", 0) in _ps(console)["spin"]
    assert run(console, f"run kill {pid}") == f"kill: {pid}: no such process"
    assert run(console, "echo $?") == "1"
    assert run(console, "run kill 12x") == "kill: 12x: not a process id"
    assert run(console, "echo $?") == "2"


def test_sysinfo(console: pexpect.spawn) -> None:
    text = run(console, "sysinfo")
    assert re.search(r"^board: qemu-virt, 100 Hz timer, 64 capability slots per process$", text, re.MULTILINE), text
    assert re.search(r"^processes: [4-9] running, \d+ ended$", text, re.MULTILINE), text   # init, uart, fs, sh, sysinfo
    assert re.search(r"^kernel pools \(free/capacity\): \d+/32 \d+/64 ", text, re.MULTILINE), text


def test_the_game_is_played_with_keys(console: pexpect.spawn) -> None:
    console.send("g2048 7\r")                 # seed 7: the tiles come in the same places every time
    console.expect_exact("score 0 ")
    console.send("a")                         # left: the two 2s go to the left edge, a new 2 appears
    console.expect(r"2048\s+2    \.    2    \.\s+\.    \.    \.    \.\s+\.    \.    \.    \.\s+2    \.    \.    \.")
    console.expect_exact("score 0 ")
    console.send("a")                         # left again: 2 + 2 merge into 4
    console.expect(r"2048\s+4    2    \.    \.")
    console.expect_exact("score 4 ")
    console.send("q")
    console.expect_exact("bye")
    console.expect(PROMPT)
    assert run(console, "echo $?") == "0"


def test_fault_is_contained(console: pexpect.spawn) -> None:
    text = run(console, "fault")
    assert "fault: writing to address 0x8" in text
    assert re.search(r"init: fault \(pid \d+\) faulted: kind 1", text), text
    assert run(console, "echo $?") == "139"
    # Rows of the fault table every system test runs (user/lib/faults.py), by number.
    listing = run(console, "fault list")
    assert re.search(r"^ 0  illegal instruction \(scause 2\)\r?$", listing, re.MULTILINE), listing
    assert re.search(r"^15  stack overflow into its guard \(scause 15\)\r?$", listing, re.MULTILINE), listing
    text = run(console, "fault 0")
    assert "fault: illegal instruction" in text
    assert re.search(r"init: fault \(pid \d+\) faulted: kind 2", text), text
    for row in ("11", "15"):    # a store to its read-only page, a stack overflow
        text = run(console, f"fault {row}")
        assert re.search(r"init: fault \(pid \d+\) faulted: kind 1", text), text
    assert run(console, "echo $?") == "139"


def test_ctrl_c_stops_a_spinning_program(console: pexpect.spawn) -> None:
    console.send("spin\r")
    console.expect_exact("spinning; Ctrl-C stops me")
    console.send("\x03")
    console.expect_exact("^C")
    console.expect(PROMPT)
    assert run(console, "echo $?") == "137"


def test_ctrl_c_stops_both_programs_of_a_pipe(console: pexpect.spawn) -> None:
    console.send("spin | cat\r")
    console.expect_exact("spinning; Ctrl-C stops me")      # through the pipe while spin still runs
    console.send("\x03")
    console.expect_exact("^C")
    console.expect(PROMPT)
    assert run(console, "echo $?") == "137"
    assert not [row for row in run(console, "ps").split("\n") if "running" in row and row.split()[-1] in ("spin", "cat")]


def test_kill_stops_a_background_program(console: pexpect.spawn) -> None:
    started = run(console, "spin quiet &")    # quiet: nothing it prints can land amid later output
    m = re.search(r"^\[(\d+)\]$", started, re.MULTILINE)
    assert m, started
    pid = int(m.group(1))
    assert (pid, "running", 0) in _ps(console)["spin"]
    assert run(console, f"kill {pid}") == ""
    assert (pid, "killed", 0) in _ps(console)["spin"]
    assert run(console, f"kill {pid}") == f"kill: {pid}: no such process"
    assert run(console, "echo $?") == "1"


def _ps(console: pexpect.spawn) -> dict[str, list[tuple[int, str, int]]]:
    """``ps`` as {name: [(pid, state, restarts), ...]}."""
    rows: dict[str, list[tuple[int, str, int]]] = {}
    for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\S+)\s*$", run(console, "ps"), re.MULTILINE):
        rows.setdefault(m.group(6), []).append((int(m.group(1)), m.group(3), int(m.group(5))))
    return rows


def test_console_driver_killed_and_restarted(console: pexpect.spawn) -> None:
    before = _ps(console)
    assert [state for _, state, _ in before["init"]] == ["running"]
    (uart_pid, state, restarts), = [row for row in before["uart"] if row[1] == "running"]
    assert state == "running"
    console.send(f"kill {uart_pid}\r")
    console.expect(rf"init: uart \(pid {uart_pid}\) killed; restarted as pid (\d+)")
    new_pid = int(console.match.group(1))
    console.expect(PROMPT)
    assert run(console, "echo still here") == "still here"
    after = _ps(console)
    assert [(pid, state) for pid, state, _ in after["uart"]] == [(new_pid, "running")]
    assert after["uart"][0][2] == restarts + 1
    assert [state for _, state, _ in after["sh"]] == ["running"]


def test_file_system_killed_and_restarted(console: pexpect.spawn) -> None:
    assert run(console, "echo lost > /scratch") == ""
    (fs_pid, _, _), = [row for row in _ps(console)["fs"] if row[1] == "running"]
    console.send(f"kill {fs_pid}\r")
    console.expect(rf"init: fs \(pid {fs_pid}\) killed; restarted as pid \d+")
    console.expect(PROMPT)
    assert "hello" in run(console, "ls /bin").split("\n")     # the shell found the new file system
    assert run(console, "cat /scratch") == "cat: /scratch: no such file or directory"   # RAM: written files go


def test_nested_shell_and_ctrl_d(console: pexpect.spawn) -> None:
    console.send("sh\r")
    console.expect("kcc shell")
    console.expect(PROMPT)
    assert run(console, "echo nested") == "nested"
    console.send("exit 5\r")
    console.expect(PROMPT)
    assert run(console, "echo $?") == "5"
    console.send("sh\r")
    console.expect("kcc shell")
    console.expect(PROMPT)
    console.send("\x04")                       # Ctrl-D on an empty line leaves the nested shell
    console.expect(PROMPT)
    assert run(console, "echo $?") == "0"


def test_ctrl_d_at_the_top_level_shell_restarts_it(console: pexpect.spawn) -> None:
    console.send("\x04")
    console.expect(r"init: sh \(pid \d+\) exited; restarted as pid \d+")
    console.expect("kcc shell")
    console.expect(PROMPT)
    assert run(console, "echo $?") == "0"                      # a fresh shell
    assert run(console, "pwd") == "/"


def test_mem(console: pexpect.spawn) -> None:
    text = run(console, "mem")
    assert re.search(r"^memory: \d+ KiB free, \d+ KiB used", text, re.MULTILINE), text
    assert re.search(r"^  threads +\d+ of +64 free$", text, re.MULTILINE), text
    assert re.search(r"^  file blocks +\d+ of +256 free", text, re.MULTILINE), text


def test_fork_clone_has_private_memory(console: pexpect.spawn) -> None:
    pattern = [i % 251 for i in range(64 * 1024)]       # what fork fills its 64 KiB with before pm.clone
    seen, wrote = sum(pattern), sum(255 - b for b in pattern)
    text = run(console, "fork")
    lines = text.split("\n")
    assert lines[0] == f"parent: data sum {seen} before the clone", text
    assert lines[1] == f"child: saw sum {seen}, wrote sum {wrote}", text
    rows = [line.split() for line in lines[3:-1]]       # the clone's ps, while both live
    forks = [(int(r[0]), int(r[1])) for r in rows if r[2] == "running" and r[5] == "fork"]
    assert len(forks) == 2, text
    (parent, _), (child, child_parent) = sorted(forks)
    assert child_parent == parent, text
    assert lines[-1] == f"parent: child {child} exited with {seen & 0xFF}; data sum {seen} after it", text
    assert run(console, "echo $?") == "0"
    assert (child, "exited", 0) in _ps(console)["fork"]


def test_halt_powers_off_with_status_0(console: pexpect.spawn) -> None:
    console.send("halt\r")
    console.expect_exact("halting")
    console.expect(pexpect.EOF)
    console.close()
    assert console.exitstatus == 0
