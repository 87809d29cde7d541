"""What the architecture's trap handler reports to the portable core: clock ticks and breakpoints."""

from kcc.lang import *

from arch import trap
from lib import kprintf as fmt

_ticks: u64 = 0
_breakpoints_expected: u32 = 0
_breakpoints_seen: u32 = 0
_last_breakpoint_pc: usize = 0


def tick() -> None:
    """Count one periodic timer interrupt; called from the trap handler."""
    global _ticks
    _ticks += 1


def ticks() -> u64:
    """Return the number of timer ticks since boot."""
    return _ticks


def expect_breakpoint() -> None:
    """Announce that the next breakpoint exception is deliberate and should be resumed."""
    global _breakpoints_expected
    _breakpoints_expected += 1


def breakpoint_hit(pc: usize) -> bool:
    """Record a breakpoint at ``pc``; return True to resume after it, False when nobody expected it."""
    global _breakpoints_expected, _breakpoints_seen, _last_breakpoint_pc
    if _breakpoints_expected == 0:
        return False
    _breakpoints_expected -= 1
    _breakpoints_seen += 1
    _last_breakpoint_pc = pc
    return True


def breakpoints_seen() -> u32:
    """Return how many expected breakpoints were caught and resumed."""
    return _breakpoints_seen


def last_breakpoint_pc() -> usize:
    """Return the address of the last resumed breakpoint instruction (0 before the first)."""
    return _last_breakpoint_pc


def report_cause(cause: usize) -> None:
    """Print a trap report's first line, the same on every architecture: kind, code and name of ``cause``.

    ``cause`` is the architecture's cause word, decoded by arch.trap (kernel_src/arch/README.md).
    """
    kind: Ptr[u8] = "exception"
    if trap.is_interrupt(cause):
        kind = "interrupt"
    fmt.kprintf("trap: %s %u (%s)\n", usize(kind), trap.cause_code(cause), usize(trap.cause_name(cause)))
