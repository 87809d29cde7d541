"""sysinfo: what the system is made of: the board, memory, processes, and the kernel's object pools."""

import board
from kcc.lang import *

from lib import abi
from user.lib import pm, proto, syscall, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Print one line per fact; exit status 1 when the process manager does not answer."""
    res: syscall.SysResult
    tty.printf("board: %s, %u Hz timer, %u capability slots per process\n", usize(board.NAME), board.HZ,
               board.CAP_SLOTS)
    if pm.mem(addr(res)) != abi.OK:
        tty.puts("sysinfo: the process manager did not answer\n")
        return 1
    tty.printf("memory: %u KiB free, %u KiB in use\n", res.v2 * 4, res.v3 * 4)
    info: pm.ProcInfo
    running: usize = 0
    ended: usize = 0
    i: usize = 0
    while pm.ps(i, addr(info)) == abi.OK:
        if info.pid != 0 and info.state == proto.PS_RUNNING:
            running += 1
        elif info.pid != 0:
            ended += 1
        i += 1
    tty.printf("processes: %u running, %u ended\n", running, ended)
    syscall.self_info(addr(res))
    tty.printf("this thread: id %x, priority %u\n", res.v0, res.v2)
    kind: usize = abi.KIND_PROCESS
    tty.puts("kernel pools (free/capacity):")
    while kind <= abi.KIND_IRQ:
        if syscall.console_pool(proto.SLOT_CONSOLE, kind, addr(res)) == abi.OK:
            tty.printf(" %u/%u", res.v0, res.v1)
        kind += 1
    tty.puts(" (processes threads endpoints notifications frames irq-control irqs)\n")
    return 0
