"""cat: print files (paths relative to /), or copy its input to its output (``echo hi | cat``).

Without a file it copies its console input until the end of the input (a
pipe's writer ended) or a Ctrl-D typed at the keyboard.
"""

from kcc.lang import *

from user.lib import cmds, path, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

_CTRL_D: Final = 4


def _copy_input() -> None:
    """Copy the console input to the output up to its end (or a Ctrl-D)."""
    buf: Array[u8, 32]
    while True:
        n = tty.read(addr(buf[0]), 32, False)
        if n == 0:
            return
        for i in range(usize(0), n):
            if buf[i] == _CTRL_D:
                tty.write(addr(buf[0]), i)
                return
        tty.write(addr(buf[0]), n)


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Print each file named, or copy the input without one; exit status 1 if one could not be read."""
    args = cast(Ptr[usize], argv)
    if argc < 2:
        _copy_input()
        return 0
    full: Array[u8, path.PATH_MAX + 1]
    status: usize = 0
    for i in range(usize(1), argc):
        name = cast(Ptr[u8], args[i])
        path.resolve("/", name, addr(full[0]))
        status |= cmds.cat(tty.write, addr(full[0]), name)
    return status
