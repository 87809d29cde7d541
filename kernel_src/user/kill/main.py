"""kill: stop processes by id (the process manager destroys them; one marked restart comes back under a new id)."""

from kcc.lang import *

from user.lib import cmds, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Kill each PID named; exit status 2 without one or for one that is no number, 1 for one not running."""
    args = cast(Ptr[usize], argv)
    if argc < 2:
        tty.puts("usage: kill PID...\n")
        return 2
    status: usize = 0
    for i in range(usize(1), argc):
        status = max(status, cmds.kill(cast(Ptr[u8], args[i])))
    return status
