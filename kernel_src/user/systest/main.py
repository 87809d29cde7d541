"""systest: the kernel's system tests as a user program, run as init (``kcc run --init systest``).

Each t_*.py module holds a group of tests and a ``run()``; add a module by
importing it here and calling its ``run()``. The last line is
``system tests: N/M passed``; the machine then powers off with status 0 when
every test passed, 1 otherwise (``make systest`` and tests/test_systest.py
read both).
"""

from kcc.lang import *

from lib import initcaps
from user.lib import console, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.systest import (
    harness,
    t_capops,
    t_caps,
    t_clone,
    t_cow,
    t_faultroles,
    t_faults,
    t_ipc,
    t_ipc2,
    t_irq,
    t_isolation,
    t_memory,
    t_migrate,
    t_pools,
    t_sched,
    t_threadmsg,
    t_threads,
    t_ulib,
)


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Run every test module, print the summary and power off (status 0 only when all passed)."""
    console.puts("system tests: starting\n")
    t_caps.run()
    t_ulib.run()
    t_capops.run()
    t_threads.run()
    t_faults.run()
    t_sched.run()
    t_memory.run()
    t_ipc.run()
    t_isolation.run()
    t_pools.run()
    t_ipc2.run()
    t_threadmsg.run()
    t_cow.run()
    t_migrate.run()
    t_irq.run()
    t_faultroles.run()
    t_clone.run()       # last: it makes init's own memory copy-on-write (t_clone's docstring)
    failed = harness.summary()
    syscall.console_halt(initcaps.SLOT_CONSOLE, 0 if failed == 0 else 1)
