"""ps: the processes the process manager knows, running or ended: id, parent, state, exit code, restarts, name."""

from kcc.lang import *

from user.lib import cmds, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Print the process table (arguments are ignored); exit status 0."""
    return cmds.ps(tty.write)
