"""riscv64 trap handling: the saved frame, scause decoding, dispatch to the core (arch.trap interface)."""

from kcc.lang import *

from arch import context, csr, timer
from core import events
from lib import kprintf as fmt

# scause bit XLEN-1 tells interrupts from exceptions (privileged ISA 4.1.9).
_INTERRUPT_BIT: Final = 1 << 63

# Codes from the privileged ISA (version 20240411), table "Supervisor cause
# register (scause) values after trap".
IRQ_S_SOFTWARE: Final = 1
IRQ_S_TIMER: Final = 5
IRQ_S_EXTERNAL: Final = 9
IRQ_COUNTER_OVERFLOW: Final = 13
EXC_BREAKPOINT: Final = 3
EXC_ECALL_U: Final = 8
# sstatus.SPP: the privilege the trap came from (privileged ISA, "Supervisor Status Register").
_SSTATUS_SPP: Final = 1 << 8

# Bytes trap.S pushes: FRAME_WORDS (36) doublewords.
FRAME_SIZE: Final = 36 * 8


@struct
class TrapFrame:
    """The context trap.S saves on the stack; layout fixed by trap.S (36 doublewords)."""

    regs: Array[usize, 32]  # x0..x31; regs[0] is 0, regs[2] the interrupted sp
    sstatus: usize
    sepc: usize             # written back before sret: the handler may move it
    scause: usize
    stval: usize


def init() -> None:
    """Point stvec at trap.S's vector in direct mode (privileged ISA 4.1.2).

    Panics when TrapFrame no longer has the size trap.S's FRAME_SIZE gives it.
    """
    if sizeof(TrapFrame) != FRAME_SIZE:
        panic("TrapFrame does not match the frame trap.S saves")
    csr.write_stvec(extern_symbol("trap_vector"))


def is_interrupt(cause: usize) -> bool:
    """Return True when ``cause`` (an scause value) describes an interrupt rather than an exception."""
    return cause & _INTERRUPT_BIT != 0


def cause_code(cause: usize) -> usize:
    """Return the exception or interrupt code of ``cause`` (the bits below the interrupt bit)."""
    return cause & (_INTERRUPT_BIT - 1)


def cause_name(cause: usize) -> Ptr[u8]:
    """Return the privileged ISA's name for ``cause`` ("Reserved" or "Designated for platform use" otherwise)."""
    code = cause_code(cause)
    if is_interrupt(cause):
        if code == IRQ_S_SOFTWARE:
            return "Supervisor software interrupt"
        if code == IRQ_S_TIMER:
            return "Supervisor timer interrupt"
        if code == IRQ_S_EXTERNAL:
            return "Supervisor external interrupt"
        if code == IRQ_COUNTER_OVERFLOW:
            return "Counter-overflow interrupt"
        if code >= 16:
            return "Designated for platform use"
        return "Reserved"
    if code == 0:
        return "Instruction address misaligned"
    if code == 1:
        return "Instruction access fault"
    if code == 2:
        return "Illegal instruction"
    if code == 3:
        return "Breakpoint"
    if code == 4:
        return "Load address misaligned"
    if code == 5:
        return "Load access fault"
    if code == 6:
        return "Store/AMO address misaligned"
    if code == 7:
        return "Store/AMO access fault"
    if code == 8:
        return "Environment call from U-mode"
    if code == 9:
        return "Environment call from S-mode"
    if code == 12:
        return "Instruction page fault"
    if code == 13:
        return "Load page fault"
    if code == 15:
        return "Store/AMO page fault"
    if code == 18:
        return "Software check"
    if code == 19:
        return "Hardware error"
    if 24 <= code <= 31 or 48 <= code <= 63:
        return "Designated for custom use"
    return "Reserved"


def _instruction_length(pc: usize) -> usize:
    """Return the byte length (2 or 4) of the instruction at ``pc``.

    Unprivileged ISA, section 1.5 "Base Instruction-Length Encoding": the
    lowest two bits are 11 for 32-bit instructions and anything else for
    16-bit compressed ones. Reads only the first halfword, which is always
    2-byte aligned with the C extension.
    """
    low = volatile_load(cast(Ptr[u16], pc))
    if low & 3 == 3:
        return 4
    return 2


def _report(frame: Ptr[TrapFrame]) -> None:
    """Print the trap's cause (number and name), sepc, stval and the interrupted sp and ra."""
    events.report_cause(frame.scause)
    fmt.kprintf("trap:   sepc=%p stval=%p scause=%p\n", frame.sepc, frame.stval, frame.scause)
    fmt.kprintf("trap:   ra=%p sp=%p sstatus=%p\n", frame.regs[1], frame.regs[2], frame.sstatus)


@export("trap_handler")
def _trap_handler(frame: Ptr[TrapFrame]) -> Ptr[TrapFrame]:
    """Handle one trap; called by trap.S with interrupts masked; returns the frame trap.S restores.

    From U-mode: a system call, a user fault or an interrupt, handed to the
    core (core.kernel), after which the core's choice of thread runs. From
    S-mode: timer interrupts re-arm the timer and tick the core clock; a
    breakpoint is reported and, when the core expects one, resumed after the
    ebreak; anything else is a kernel bug, reported with a panic.
    """
    if frame.sstatus & _SSTATUS_SPP == 0:
        return context.user_trap(frame)
    code = cause_code(frame.scause)
    if is_interrupt(frame.scause):
        if code == IRQ_S_TIMER:
            timer.handle_interrupt()
            events.tick()
            return frame
        _report(frame)
        panic("unexpected interrupt")
    if code == EXC_BREAKPOINT:
        _report(frame)
        if events.breakpoint_hit(frame.sepc):
            frame.sepc = frame.sepc + _instruction_length(frame.sepc)
            return frame
        panic("unexpected breakpoint")
    _report(frame)
    panic("unexpected exception")
