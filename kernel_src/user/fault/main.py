"""fault: dies on a bad pointer, to show that a faulting program is contained and its shell goes on."""

from kcc.lang import *

from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.lib import tty

BAD_ADDRESS: Final = 0x8          # never mapped in a user address space


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Announce the fault, then store through an unmapped address (a page fault); never returns normally."""
    tty.puts("fault: writing to address 0x8\n")
    volatile_store(cast(Ptr[usize], BAD_ADDRESS), 1)
    return 0
