"""ls: list directories (paths relative to /; / without one): one entry a line, "name/" for a directory."""

from kcc.lang import *

from user.lib import cmds, path, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """List each path named (a file: its path), or /; exit status 1 if one does not exist."""
    args = cast(Ptr[usize], argv)
    if argc < 2:
        return cmds.ls(tty.write, "/")
    full: Array[u8, path.PATH_MAX + 1]
    status: usize = 0
    for i in range(usize(1), argc):
        if argc > 2:
            tty.printf("%s%s:\n", usize("" if i == 1 else "\n"), args[i])
        path.resolve("/", cast(Ptr[u8], args[i]), addr(full[0]))
        status |= cmds.ls(tty.write, addr(full[0]))
    return status
