"""armv8m exception handling: the saved frame, exception numbers, dispatch to the core (arch.trap interface)."""

from kcc.lang import *

from arch import scs, timer
from core import events
from lib import kprintf as fmt

# Exception numbers (ARMv8-M ARM, B3.9 "Exception numbers"): the cause word is IPSR's number.
EXC_NMI: Final = 2
EXC_HARDFAULT: Final = 3
EXC_MEMMANAGE: Final = 4
EXC_BUSFAULT: Final = 5
EXC_USAGEFAULT: Final = 6
EXC_SECUREFAULT: Final = 7
EXC_SVCALL: Final = 11
EXC_DEBUGMONITOR: Final = 12
EXC_PENDSV: Final = 14
EXC_SYSTICK: Final = 15
EXC_EXTERNAL0: Final = 16

_IPSR_EXCEPTION: Final = 0x1FF
_RETPSR_SPREALIGN: Final = 1 << 9   # the hardware inserted a padding word to align the frame

# Bytes trap.S pushes on the main stack.
FRAME_SIZE: Final = 48


@struct
class HwFrame:
    """The basic frame the processor stacks on exception entry (B3.19), lowest address first."""

    r0: usize
    r1: usize
    r2: usize
    r3: usize
    r12: usize
    lr: usize
    pc: usize       # the return address: the faulting instruction for a fault; writable
    xpsr: usize     # RETPSR


@struct
class TrapFrame:
    """What trap.S saves on the main stack; layout fixed by trap.S."""

    hw: Ptr[HwFrame]
    ipsr: usize
    r4_r11: Array[usize, 8]
    exc_return: usize
    pad: usize


def init() -> None:
    """Point VTOR at the vector table and enable the MemManage, BusFault, UsageFault and SecureFault
    exceptions (SHCSR), so faults arrive with their own number instead of as HardFault.

    Panics when TrapFrame no longer has the size trap.S's frame has.
    """
    if sizeof(TrapFrame) != FRAME_SIZE:
        panic("TrapFrame does not match the frame trap.S saves")
    scb = mmio(scs.Scb, scs.SCB_BASE)
    scb.vtor.write(u32(extern_symbol("__vectors")))
    scb.shcsr.set_bits(scs.SHCSR_MEMFAULTENA | scs.SHCSR_BUSFAULTENA | scs.SHCSR_USGFAULTENA |
                       scs.SHCSR_SECUREFAULTENA)
    asm("dsb\nisb", clobbers=("memory",))


def is_interrupt(cause: usize) -> bool:
    """Return True when exception number ``cause`` is asynchronous: NMI, PendSV, SysTick or an external interrupt."""
    return cause == EXC_NMI or cause == EXC_PENDSV or cause == EXC_SYSTICK or cause >= EXC_EXTERNAL0


def cause_code(cause: usize) -> usize:
    """Return the exception number itself (external interrupt n is 16 + n): it is already a plain code."""
    return cause


# The architecture's names of exception numbers 0..15 (B3.9); 0, 8..10 and 13 are reserved.
_CAUSE_NAMES: Final[Array[Ptr[u8], EXC_EXTERNAL0]] = (
    "Reserved", "Reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault",
    "Reserved", "Reserved", "Reserved", "SVCall", "DebugMonitor", "Reserved", "PendSV", "SysTick",
)


def cause_name(cause: usize) -> Ptr[u8]:
    """Return the architecture's name of exception number ``cause`` (B3.9)."""
    return _CAUSE_NAMES[cause] if cause < len(_CAUSE_NAMES) else "External interrupt"


def _instruction_length(pc: usize) -> usize:
    """Return the byte length (2 or 4) of the Thumb instruction at ``pc``.

    ARMv8-M ARM, C2.1 "Instruction encodings": a halfword whose bits [15:11]
    are 0b11101, 0b11110 or 0b11111 is the first half of a 32-bit instruction;
    any other halfword is a whole 16-bit one.
    """
    top = volatile_load(cast(Ptr[u16], pc)) >> 11
    if top == 0b11101 or top == 0b11110 or top == 0b11111:
        return 4
    return 2


def _report(frame: Ptr[TrapFrame]) -> None:
    """Print the exception (number and name), the stacked pc, lr and xPSR, the interrupted sp and the fault status."""
    hw = frame.hw
    sp = usize(hw) + sizeof(HwFrame)
    if hw.xpsr & _RETPSR_SPREALIGN != 0:
        sp += 4
    scb = mmio(scs.Scb, scs.SCB_BASE)
    events.report_cause(frame.ipsr & _IPSR_EXCEPTION)
    fmt.kprintf("trap:   pc=%p lr=%p xpsr=%p sp=%p\n", hw.pc, hw.lr, hw.xpsr, sp)
    fmt.kprintf("trap:   cfsr=%p hfsr=%p mmfar=%p bfar=%p sfsr=%p\n", scb.cfsr.read(), scb.hfsr.read(),
                scb.mmfar.read(), scb.bfar.read(), volatile_load(cast(Ptr[u32], scs.SFSR_ADDR)))


@export("trap_handler")
def _trap_handler(frame: Ptr[TrapFrame]) -> None:
    """Handle one exception; called by trap.S in Handler mode, returns through EXC_RETURN.

    SysTick: account the timer period and tick the core clock. An undefined
    instruction (UsageFault UNDEFINSTR, or a HardFault it was escalated to)
    is the kernel's breakpoint (arch.cpu.breakpoint): reported and, when the
    core expects one, resumed after the instruction. Anything else is
    reported and stops the kernel with a panic.
    """
    cause = frame.ipsr & _IPSR_EXCEPTION
    if cause == EXC_SYSTICK:
        timer.handle_interrupt()
        events.tick()
        return
    scb = mmio(scs.Scb, scs.SCB_BASE)
    if (cause == EXC_USAGEFAULT or cause == EXC_HARDFAULT) and scb.cfsr.read() & scs.CFSR_UNDEFINSTR != 0:
        _report(frame)
        if events.breakpoint_hit(frame.hw.pc):
            # The status bits are write-one-to-clear (D1.2.90, D1.2.122).
            scb.cfsr.write(scs.CFSR_UNDEFINSTR)
            if cause == EXC_HARDFAULT:
                scb.hfsr.write(scs.HFSR_FORCED)
            frame.hw.pc = frame.hw.pc + _instruction_length(frame.hw.pc)
            return
        panic("unexpected undefined instruction")
    _report(frame)
    if is_interrupt(cause):
        panic("unexpected interrupt")
    panic("unexpected exception")
