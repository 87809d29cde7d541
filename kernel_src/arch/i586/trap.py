"""i586 trap handling: the IDT, the saved frame, vector decoding, dispatch to the core (arch.trap interface).

The cause word of this interface is the IDT vector: 0..31 are the processor's
exceptions (Intel SDM vol. 3A, table 6-1 "Exceptions and Interrupts"), 32 and
up are interrupts: the two 8259s' IRQs at PIC_MASTER_VECTOR and
PIC_SLAVE_VECTOR, software ``int n`` above them.
"""

import board
from kcc.lang import *

from arch import i8259, timer
from core import events
from lib import kprintf as fmt

VECTORS: Final = 256
FIRST_INTERRUPT: Final = 32
EXC_BREAKPOINT: Final = 3

# Bytes trap.S pushes (17 words) and the distance between its stubs (STUB_SIZE).
FRAME_SIZE: Final = 17 * 4
STUB_SIZE: Final = 16

KERNEL_CS: Final = 0x08     # entry.S's GDT
# Gate type 0xE = 32-bit interrupt gate (IF cleared on entry), DPL 0, present (SDM vol. 3A, 6.11).
_GATE_INTERRUPT_32: Final = 0x8E

# Opcodes of the two breakpoint encodings (SDM vol. 2, "INT n/INTO/INT3/INT1").
_OPCODE_INT3: Final = 0xCC
_OPCODE_INT: Final = 0xCD


@struct
class TrapFrame:
    """The context trap.S saves on the stack, lowest address first; layout fixed by trap.S."""

    gs: usize       # segment registers, pushed as 32-bit words (upper halves undefined)
    fs: usize
    es: usize
    ds: usize
    edi: usize      # pusha's eight, edi lowest
    esi: usize
    ebp: usize
    esp: usize      # esp when pusha ran, not the interrupted one
    ebx: usize
    edx: usize
    ecx: usize
    eax: usize
    vector: usize   # pushed by the stub
    error: usize    # the CPU's error code, 0 for vectors without one
    eip: usize      # pushed by the CPU; iret resumes here
    cs: usize
    eflags: usize


@struct
class Gate:
    """One IDT entry: an interrupt gate (SDM vol. 3A, figure 6-2)."""

    offset_low: u16
    selector: u16
    reserved: u8
    type_attr: u8
    offset_high: u16


@struct(packed=True)
class TablePointer:
    """The 6-byte operand of lidt: limit (size - 1) then linear base address."""

    limit: u16
    base: u32


_idt: Array[Gate, VECTORS]
_idtr: TablePointer


def init() -> None:
    """Fill the IDT with trap.S's 256 stubs, load it, and remap the PICs with every IRQ masked.

    Panics when TrapFrame no longer has the size trap.S's frame has.
    """
    if sizeof(TrapFrame) != FRAME_SIZE:
        panic("TrapFrame does not match the frame trap.S saves")
    stubs = extern_symbol("trap_stubs")
    for v in range(u32(0), VECTORS):
        handler = stubs + usize(v) * STUB_SIZE
        gate = addr(_idt[v])
        gate.offset_low = u16(handler & 0xFFFF)
        gate.selector = KERNEL_CS
        gate.reserved = 0
        gate.type_attr = _GATE_INTERRUPT_32
        gate.offset_high = u16(handler >> 16)
    _idtr.limit = u16(sizeof(Gate) * VECTORS - 1)
    _idtr.base = u32(usize(addr(_idt[0])))
    asm("lidt ({0})", addr(_idtr), clobbers=("memory",))
    i8259.init()


def is_interrupt(cause: usize) -> bool:
    """Return True when ``cause`` (a vector) is an interrupt (32 and up) rather than a processor exception."""
    return cause >= FIRST_INTERRUPT


def cause_code(cause: usize) -> usize:
    """Return the exception number for exceptions and ``cause - 32`` for interrupts (the IRQ line for PIC vectors)."""
    if is_interrupt(cause):
        return cause - FIRST_INTERRUPT
    return cause


# The SDM's names of exceptions 0..21 (vol. 3A, table 6-1); 15 is reserved.
_EXCEPTION_NAMES: Final[Array[Ptr[u8], 22]] = (
    "Divide Error", "Debug", "NMI Interrupt", "Breakpoint", "Overflow", "BOUND Range Exceeded",
    "Invalid Opcode", "Device Not Available", "Double Fault", "Coprocessor Segment Overrun", "Invalid TSS",
    "Segment Not Present", "Stack-Segment Fault", "General Protection", "Page Fault", "Reserved",
    "x87 FPU Floating-Point Error", "Alignment Check", "Machine Check", "SIMD Floating-Point Exception",
    "Virtualization Exception", "Control Protection Exception",
)

# The PC/AT use of each IRQ line; 5 and 9..11 are free for ISA cards.
_IRQ_NAMES: Final[Array[Ptr[u8], 16]] = (
    "PIT timer (IRQ 0)", "keyboard (IRQ 1)", "cascade (IRQ 2)", "COM2 (IRQ 3)", "COM1 (IRQ 4)", "ISA device",
    "floppy (IRQ 6)", "LPT1 or spurious (IRQ 7)", "RTC (IRQ 8)", "ISA device", "ISA device", "ISA device",
    "PS/2 mouse (IRQ 12)", "FPU (IRQ 13)", "primary ATA (IRQ 14)", "secondary ATA or spurious (IRQ 15)",
)


def _exception_name(vector: usize) -> Ptr[u8]:
    """Return the SDM's name for exception ``vector`` (0..31)."""
    return _EXCEPTION_NAMES[vector] if vector < len(_EXCEPTION_NAMES) else "Reserved"


def _irq_name(irq: usize) -> Ptr[u8]:
    """Return the PC/AT use of IRQ line ``irq`` (0..15)."""
    return _IRQ_NAMES[irq] if irq < len(_IRQ_NAMES) else "ISA device"


def _pic_irq(vector: usize) -> usize:
    """Return the IRQ line (0..15) behind a PIC vector, or 16 when ``vector`` is not one."""
    if board.PIC_MASTER_VECTOR <= vector < board.PIC_MASTER_VECTOR + 8:
        return vector - board.PIC_MASTER_VECTOR
    if board.PIC_SLAVE_VECTOR <= vector < board.PIC_SLAVE_VECTOR + 8:
        return vector - board.PIC_SLAVE_VECTOR + 8
    return 16


def cause_name(cause: usize) -> Ptr[u8]:
    """Return a name for vector ``cause``: the exception's, the PC IRQ's, or "Software interrupt"."""
    if not is_interrupt(cause):
        return _exception_name(cause)
    irq = _pic_irq(cause)
    if irq < 16:
        return _irq_name(irq)
    return "Software interrupt"


def _breakpoint_address(eip: usize) -> usize:
    """Return the address of the breakpoint instruction that trapped with return address ``eip``.

    #BP is a trap: the saved eip follows the instruction, which is either
    int3 (0xCC) or ``int $3`` (0xCD 0x03). 0x03 is not 0xCC, so the byte
    before eip tells them apart.
    """
    if volatile_load(cast(Ptr[u8], eip - 1)) == _OPCODE_INT3:
        return eip - 1
    return eip - 2


def _report(frame: Ptr[TrapFrame]) -> None:
    """Print the trap's vector, cause name, eip, error code and the interrupted registers."""
    events.report_cause(frame.vector)
    fmt.kprintf("trap:   eip=%p error=%p vector=%u\n", frame.eip, frame.error, frame.vector)
    # No privilege change yet, so the interrupted esp is just above the frame.
    fmt.kprintf("trap:   cs=%x eflags=%p esp=%p\n", frame.cs & 0xFFFF, frame.eflags, usize(frame) + FRAME_SIZE)
    fmt.kprintf("trap:   eax=%p ebx=%p ecx=%p edx=%p\n", frame.eax, frame.ebx, frame.ecx, frame.edx)
    fmt.kprintf("trap:   esi=%p edi=%p ebp=%p\n", frame.esi, frame.edi, frame.ebp)


@export("trap_handler")
def _trap_handler(frame: Ptr[TrapFrame]) -> None:
    """Handle one trap; called by trap.S with interrupts masked, returns to its iret.

    The PIT's IRQ acknowledges the tick and ticks the core clock. A spurious
    IRQ 7/15 is ignored. A breakpoint is reported and, when the core expects
    one, resumed (eip already follows the instruction); anything else is
    reported and stops the kernel with a panic.
    """
    vector = frame.vector
    if is_interrupt(vector):
        irq = _pic_irq(vector)
        if irq == board.PIT_IRQ:
            timer.handle_interrupt()
            events.tick()
            return
        if irq < 16 and i8259.spurious(u32(irq)):
            return
        _report(frame)
        panic("unexpected interrupt")
    if vector == EXC_BREAKPOINT:
        _report(frame)
        if events.breakpoint_hit(_breakpoint_address(frame.eip)):
            return
        panic("unexpected breakpoint")
    _report(frame)
    panic("unexpected exception")
