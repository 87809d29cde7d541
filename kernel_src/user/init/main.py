"""init: the first user program. For now it greets through the debug console and powers the machine off.

The kernel starts it from the initrd holding the capabilities of lib/initcaps.py.
"""

from kcc.lang import *

from lib import abi, initcaps
from user.lib import console, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Print a greeting with this thread's id, then power off with status 0 (1 if OP_SELF failed)."""
    me: syscall.SysResult
    err = syscall.self_info(addr(me))
    if err != abi.OK:
        console.printf("init: OP_SELF failed with error %u\n", err)
        syscall.console_halt(initcaps.SLOT_CONSOLE, 1)
    console.printf("init: hello from user space, thread %x (%u capability slots, priority %u)\n", me.v0, me.v1,
                   me.v2)
    syscall.console_halt(initcaps.SLOT_CONSOLE, 0)
