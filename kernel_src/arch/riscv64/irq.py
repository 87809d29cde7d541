"""riscv64 external interrupts: the PLIC, routed to the hart's S-mode context (arch.irq interface).

Register layout from the RISC-V PLIC specification (version 1.0.0, "Memory
Map"): a 32-bit priority per source at base + 4 * source, enable bits per
context at base + 0x2000 + 0x80 * context, and per context a priority
threshold at base + 0x20_0000 + 0x1000 * context with the claim/complete
register 4 bytes after it. Which context is the boot hart's S-mode is a
board fact: board.PLIC_S_CONTEXT_BASE + board.PLIC_S_CONTEXT_STRIDE * hart
(QEMU virt alternates M and S contexts per hart, hw/riscv/virt.c; the
JH7110's S7 hart 0 has only an M context).

A claimed source is not delivered again until it is completed; the kernel
completes a source when its user-mode handler acknowledges it (OP_IRQ_ACK),
so a driver never sees a second interrupt before it has served the first.
"""

import board
from kcc.lang import *

from arch import csr

MAX_LINES: Final = 1024                 # sources 1..1023; 0 means "none" at the claim register
_ENABLE: Final = 0x2000
_ENABLE_STRIDE: Final = 0x80
_CONTEXT: Final = 0x20_0000
_CONTEXT_STRIDE: Final = 0x1000
_SIE_SEIE: Final = 1 << 9               # sie/sip bit of the supervisor external interrupt


def _reg(offset: usize) -> Ptr[u32]:
    """Return the PLIC register at ``offset`` from board.PLIC_BASE."""
    return cast(Ptr[u32], usize(board.PLIC_BASE) + offset)


_s_context: usize = 0          # the boot hart's S-mode context number, set by init


def _context() -> usize:
    """Return the byte offset of this hart's S-mode context block."""
    return _CONTEXT + _CONTEXT_STRIDE * _s_context


def init(hart: usize) -> None:
    """Route interrupts to ``hart``'s S-mode context: accept every priority above 0, enable them in sie."""
    global _s_context
    _s_context = usize(board.PLIC_S_CONTEXT_BASE) + usize(board.PLIC_S_CONTEXT_STRIDE) * hart
    volatile_store(_reg(_context()), u32(0))
    csr.set_sie(_SIE_SEIE)


def _enable_word(line: u32) -> Ptr[u32]:
    """Return the enable word holding ``line``'s bit in this hart's S-mode context."""
    return _reg(_ENABLE + _ENABLE_STRIDE * _s_context + usize(line // 32) * 4)


def enable(line: u32) -> None:
    """Let source ``line`` (1..1023) interrupt this hart: priority 1 and its enable bit set."""
    volatile_store(_reg(usize(line) * 4), u32(1))
    word = _enable_word(line)
    volatile_store(word, volatile_load(word) | (u32(1) << (line % 32)))


def disable(line: u32) -> None:
    """Stop source ``line`` from interrupting this hart (its enable bit cleared, priority 0)."""
    word = _enable_word(line)
    volatile_store(word, volatile_load(word) & ~(u32(1) << (line % 32)))
    volatile_store(_reg(usize(line) * 4), u32(0))


def pending() -> bool:
    """Return True when an external interrupt is pending for this hart (sip.SEIP)."""
    return csr.read_sip() & _SIE_SEIE != 0


def claim() -> u32:
    """Claim the highest-priority pending source and return it; 0 when none is pending."""
    return volatile_load(_reg(_context() + 4))


def complete(line: u32) -> None:
    """Tell the PLIC that source ``line``, claimed earlier, has been served: it may interrupt again."""
    volatile_store(_reg(_context() + 4), line)
