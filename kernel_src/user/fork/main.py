"""fork: clones itself with 64 KiB of data and shows that after the clone each copy of the data is private.

The parent fills the data with a pattern and clones itself (pm.clone); the
clone reads the data, changes every byte, lists the processes while both
live (``ps`` shows it as a second ``fork``, the parent's child) and exits
with the low byte of the sum it saw. The parent waits for it (pm.wait),
then reads its own copy, which must still hold the pattern.
"""

from kcc.lang import *

from lib import abi
from user.lib import cmds, pm, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

DATA_BYTES: Final = 64 * 1024
# Quota pages for the clone: its page tables, and a copy of each page it writes (16 of data, its stack,
# the pages of globals its libraries write) with room to spare.
CLONE_PAGES: Final = 40

_data: Array[u8, DATA_BYTES]


def _sum() -> usize:
    """The sum of the DATA_BYTES bytes of ``_data``."""
    total: usize = 0
    for i in range(usize(0), DATA_BYTES):
        total += usize(_data[i])
    return total


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Clone, let the clone change its data, wait for it; exit status 0 when the parent's data stayed the same.

    Prints ``parent: ...`` and ``child: ...`` lines with the sums each side
    saw (the test in tests/test_shell.py recomputes them); 1 when the clone
    cannot be made or waited for, or the parent's data changed.
    """
    for i in range(usize(0), DATA_BYTES):
        _data[i] = u8(i % 251)      # a prime period, so a page mapped in the wrong place changes the sum
    before = _sum()
    tty.printf("parent: data sum %u before the clone\n", before)
    pid: usize = 0
    err = pm.clone(CLONE_PAGES, addr(pid))
    if err != abi.OK:
        tty.printf("fork: clone failed: error %u\n", err)
        return 1
    if pid == 0:
        seen = _sum()
        for i in range(usize(0), DATA_BYTES):
            _data[i] = 0xFF - _data[i]
        tty.printf("child: saw sum %u, wrote sum %u\n", seen, _sum())
        cmds.ps(tty.write)
        return seen & 0xFF
    code: usize = 0
    err = pm.wait(pid, addr(code))
    if err != abi.OK:
        tty.printf("fork: wait for %u failed: error %u\n", pid, err)
        return 1
    after = _sum()
    tty.printf("parent: child %u exited with %u; data sum %u after it\n", pid, code, after)
    return 0 if after == before else 1
