"""The Pentium time-stamp counter (private to arch/i586).

rdtsc loads the 64-bit counter into edx:eax (Intel SDM vol. 2, "RDTSC"; present
since the Pentium, CPUID.01H:EDX.TSC). Under QEMU's TCG it counts host cycles,
and under ``-icount shift=0`` it counts virtual nanoseconds, that is guest
instructions (QEMU softmmu/cpu-timers.c: cpu_get_ticks returns icount_get()).
"""

from kcc.lang import *


def read() -> u64:
    """Return the time-stamp counter."""
    # kcc's asm operands are single registers and the counter is a register pair,
    # so both halves are stored through a pointer in one asm statement.
    t: u64 = 0
    asm("rdtsc\nmovl %eax, ({0})\nmovl %edx, 4({0})", addr(t), clobbers=("eax", "edx", "memory"))
    return t
