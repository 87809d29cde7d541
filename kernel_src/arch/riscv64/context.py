"""riscv64 user contexts: one saved register frame per thread, and the system-call registers (arch.context).

The kernel has one stack per hart (docs/kernel.md, "The kernel-stack
model"): a thread's user registers live here, in its slot of `_frames`, not on
a kernel stack. trap.S saves straight into the running thread's frame (its
address is in sscratch while user code runs) and restores whichever frame the
trap handler returns, so a context switch is choosing another index.

System-call registers (docs/abi.md, riscv64): a7 = operation, a0 = slot,
a1..a6 = arguments; results: a0 = error, a1..a6 = values.
"""

import board
from arch.trap import TrapFrame
from kcc.lang import *

from arch import csr, irq, timer, trap
from core import events, kernel
from lib import abi

_A0: Final = 10
_A7: Final = 17
_SP: Final = 2
# sstatus bits (privileged ISA, "Supervisor Status Register (sstatus)"): SPP = 0 returns to U-mode;
# SPIE = 1 so interrupts are on after sret (they are taken in U-mode whatever SIE says).
_SSTATUS_SPIE: Final = 1 << 5

_frames: Array[TrapFrame, board.MAX_THREADS]


@inline
def frame(t: u32) -> Ptr[TrapFrame]:
    """Return thread ``t``'s saved frame, which trap.S restores when ``t`` runs next."""
    return addr(_frames[t])


def init_user(t: u32, pc: usize, sp: usize, arg0: usize, arg1: usize) -> None:
    """Give thread ``t`` a fresh user context: every register 0 but pc, sp and the first two arguments."""
    f = addr(_frames[t])
    i: u32 = 0
    while i < 32:
        f.regs[i] = 0
        i += 1
    f.regs[_SP] = sp
    f.regs[_A0] = arg0
    f.regs[_A0 + 1] = arg1
    f.sepc = pc
    f.sstatus = _SSTATUS_SPIE
    f.scause = 0
    f.stval = 0


@inline
def set_pc(t: u32, pc: usize) -> None:
    """Make thread ``t`` continue at user address ``pc``."""
    _frames[t].sepc = pc


@inline
def pc(t: u32) -> usize:
    """Return the user pc thread ``t`` will continue at (after a fault: the faulting instruction)."""
    return _frames[t].sepc


@inline
def syscall_op(t: u32) -> usize:
    """Return the operation number of thread ``t``'s system call (a7)."""
    return _frames[t].regs[_A7]


@inline
def syscall_slot(t: u32) -> usize:
    """Return the capability slot of thread ``t``'s system call (a0)."""
    return _frames[t].regs[_A0]


@inline
def syscall_arg(t: u32, i: u32) -> usize:
    """Return argument ``i`` (0..5) of thread ``t``'s system call (a1..a6)."""
    return _frames[t].regs[_A0 + 1 + i]


@inline
def set_error(t: u32, error: usize) -> None:
    """Set the error code thread ``t`` sees when its system call returns (a0)."""
    _frames[t].regs[_A0] = error


@inline
def set_result(t: u32, i: u32, value: usize) -> None:
    """Set result word ``i`` (0..5) thread ``t`` sees when its system call returns (a1..a6)."""
    _frames[t].regs[_A0 + 1 + i] = value


@inline
def syscall_done(t: u32) -> None:
    """Step thread ``t`` past its ecall (4 bytes: there is no compressed ecall) so it resumes after it."""
    _frames[t].sepc += 4


def init() -> None:
    """Prepare the hart for user contexts: user mode may read cycle, time and instret (scounteren = CY|TM|IR).

    Privileged ISA, "Counter-Enable Register (scounteren)"; OpenSBI already
    lets S-mode read them (mcounteren). User programs time themselves with
    rdinstret, which -icount makes exact.
    """
    asm("csrw scounteren, {0}", usize(7))


def _fault_kind(code: usize) -> u32:
    """Return the portable fault kind (abi.FAULT_*) of exception ``code`` taken from U-mode."""
    if code == 12 or code == 13 or code == 15:
        return abi.FAULT_PAGE
    if code == 2:
        return abi.FAULT_ILLEGAL
    if code == trap.EXC_BREAKPOINT:
        return abi.FAULT_BREAKPOINT
    if code == 0 or code == 4 or code == 6:
        return abi.FAULT_MISALIGNED
    return abi.FAULT_ACCESS


def _idle() -> None:
    """Sleep the hart until an interrupt is pending, then handle it; the kernel's idle loop body.

    Runs with sstatus.SIE clear (the kernel is never interrupted): wfi still
    wakes on a pending enabled interrupt (privileged ISA, "Wait for Interrupt"),
    which is then read from sip and handled here instead of by a trap.
    """
    asm("wfi")
    if csr.read_sip() & csr.SIE_STIE != 0:
        timer.handle_interrupt()
        events.tick()
        kernel.timer_tick()
    if irq.pending():
        kernel.external_interrupt()


@inline
def _resume() -> Ptr[TrapFrame]:
    """Return the frame of the thread the core schedules next, idling until there is one.

    Inlined, with the idle loop out of line: a system call that goes back to
    its own thread then pays for one function prologue, not two.
    """
    t = kernel.schedule()
    if t != kernel.NO_THREAD:
        return addr(_frames[t])
    return _idle_until_ready()


def _idle_until_ready() -> Ptr[TrapFrame]:
    """Idle the hart (_idle) until the core schedules a thread; return that thread's frame."""
    while True:
        _idle()
        t = kernel.schedule()
        if t != kernel.NO_THREAD:
            return addr(_frames[t])


def user_trap(frame: Ptr[TrapFrame]) -> Ptr[TrapFrame]:
    """Handle a trap from U-mode (``frame`` is the running thread's) and return the frame to resume."""
    code = trap.cause_code(frame.scause)
    if trap.is_interrupt(frame.scause):
        if code == trap.IRQ_S_TIMER:
            timer.handle_interrupt()
            events.tick()
            kernel.timer_tick()
        elif code == trap.IRQ_S_EXTERNAL:
            kernel.external_interrupt()
        else:
            trap._report(frame)
            panic("unexpected interrupt from user mode")
    elif code == trap.EXC_ECALL_U:
        kernel.handle_syscall()
    else:
        # Store/AMO faults (privileged ISA, scause table): page fault 15, access fault 7, misaligned 6.
        store = code == 15 or code == 7 or code == 6
        kernel.user_fault(_fault_kind(code), frame.stval, store, frame.scause)
    return _resume()


@noreturn
def enter_user() -> None:
    """Leave the boot path for good: run the thread the core schedules first, through trap.S's restore code."""
    frame = _resume()
    asm("mv a0, {0}\nj trap_restore", usize(frame), clobbers=("a0", "memory"))
    while True:
        pass


_saved: Array[TrapFrame, board.MAX_THREADS * board.MIGRATE_DEPTH]


def _copy_frame(dst: Ptr[TrapFrame], src: Ptr[TrapFrame]) -> None:
    """Copy a register frame word by word (an aggregate assignment would go byte by byte through memcpy)."""
    d = cast(Ptr[usize], dst)
    s = cast(Ptr[usize], src)
    for i in range(u32(sizeof(TrapFrame) // 8)):
        d[i] = s[i]


def save(t: u32, level: u32) -> None:
    """Keep a copy of thread ``t``'s user registers as migration level ``level`` (0..MIGRATE_DEPTH-1) of it."""
    _copy_frame(addr(_saved[t * board.MIGRATE_DEPTH + level]), addr(_frames[t]))


def restore(t: u32, level: u32) -> None:
    """Give thread ``t`` back the user registers save(t, level) kept."""
    _copy_frame(addr(_frames[t]), addr(_saved[t * board.MIGRATE_DEPTH + level]))
