"""The commands the shell has as built-ins and /bin has as programs: ls, cat, ps and kill, written once.

Each takes the function its output goes through (``out(bytes, length)``,
returning an error code: ``tty.write`` for a program, the shell's writer,
which follows a pipe or a ``> FILE``) and an absolute path where it needs
one; error messages go to the console (user/lib/tty.py). The result is the
exit status: 0, or 1 when something named could not be used.
"""

from kcc.lang import *

from lib import abi
from lib import kprintf as fmt
from user.lib import fsc, pm, proto, text, tty

LINE_MAX: Final = 160               # one formatted output line


@printf_like("fmt_text")
def printf(out: Callable[[Ptr[u8], usize], usize], fmt_text: Ptr[u8], a: usize = 0, b: usize = 0, c: usize = 0,
           d: usize = 0, e: usize = 0, f: usize = 0) -> usize:
    """Format ``fmt_text`` (lib/kprintf.py's conversions) with up to six arguments and pass it to ``out``; its error.

    Output longer than LINE_MAX - 1 bytes is cut there.
    """
    buf: Array[u8, LINE_MAX]
    n = fmt.ksnprintf(addr(buf[0]), LINE_MAX, fmt_text, a, b, c, d, e, f)
    return out(addr(buf[0]), min(n, usize(LINE_MAX - 1)))


def fail(what: Ptr[u8], arg: Ptr[u8], err: usize) -> usize:
    """Print "WHAT: ARG: reason" for file error ``err`` on the console; return exit status 1."""
    tty.printf("%s: %s: %s\n", usize(what), usize(arg), usize(fsc.error_text(err)))
    return 1


def ls(out: Callable[[Ptr[u8], usize], usize], path: Ptr[u8]) -> usize:
    """List the absolute ``path``: a directory's entries one a line ("name/" for a directory), a file's own path."""
    kind: usize = 0
    size: usize = 0
    err = fsc.stat(path, addr(kind), addr(size))
    if err != abi.OK:
        return fail("ls", path, err)
    if kind == proto.FS_FILE:
        printf(out, "%s\n", usize(path))
        return 0
    name: Array[u8, proto.FS_NAME_MAX + 1]
    i: usize = 0
    while fsc.readdir(path, i, addr(kind), addr(size), addr(name[0])) == abi.OK:
        printf(out, "%s/\n" if kind == proto.FS_DIR else "%s\n", usize(addr(name[0])))
        i += 1
    return 0


def cat(out: Callable[[Ptr[u8], usize], usize], path: Ptr[u8], shown: Ptr[u8]) -> usize:
    """Copy the file at the absolute ``path`` to ``out``; an error names it as ``shown`` (what the user typed)."""
    fd: usize = 0
    err = fsc.open(path, 0, addr(fd))
    if err != abi.OK:
        return fail("cat", shown, err)
    buf: Array[u8, 256]
    n: usize = 0
    while fsc.read(fd, addr(buf[0]), 256, addr(n)) == abi.OK and n != 0:
        out(addr(buf[0]), n)
    fsc.close(fd)
    return 0


def ps(out: Callable[[Ptr[u8], usize], usize]) -> usize:
    """One line per process the process manager knows, running or ended, under a header."""
    info: pm.ProcInfo
    printf(out, "  PID  PARENT  STATE     CODE  RESTARTS  NAME\n")
    i: usize = 0
    while pm.ps(i, addr(info)) == abi.OK:
        if info.pid != 0:
            printf(out, "%5u  %6u  %-8s  %4u  %8u  %s\n", info.pid, info.parent, usize(pm.state_name(info.state)),
                   info.exit_code, info.restarts, usize(addr(info.name[0])))
        i += 1
    return 0


def kill(pid_text: Ptr[u8]) -> usize:
    """Ask the process manager to destroy the process whose decimal id is ``pid_text``; status 2 when it is no number."""
    pid: u64 = 0
    if not text.parse_u64(pid_text, 10, addr(pid)):
        tty.printf("kill: %s: not a process id\n", usize(pid_text))
        return 2
    err = pm.kill(usize(pid))
    if err != abi.OK:
        tty.printf("kill: %u: %s\n", usize(pid), usize("no such process" if err == proto.E_NOENT else "refused"))
        return 1
    return 0
