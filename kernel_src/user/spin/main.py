"""spin: loops forever without a system call, to show that Ctrl-C and kill stop a program that never yields."""

from kcc.lang import *

from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.lib import tty

_laps: usize = 0


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Say so (unless given an argument: ``spin quiet &`` in the background), then count forever.

    The count is a volatile store, so the loop is not optimised away.
    """
    if argc == 1:
        tty.puts("spinning; Ctrl-C stops me\n")
    while True:
        volatile_store(addr(_laps), volatile_load(addr(_laps)) + 1)
