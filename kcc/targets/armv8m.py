"""The armv8m target: ARMv8-M Mainline (Thumb-2 only), Cortex-M33, soft-float EABI, 32-bit usize.

Kernel code never touches the FPU: the Cortex-M33's FPv5 single-precision
unit is optional on real parts and, left off, means exception entry never
stacks floating-point state (ARMv8-M ARM, B3.19 "Exception entry, context
stacking": the extended frame is used only when CONTROL.FPCA is set). So the
target is soft-float (``+soft-float``, FP registers off, AAPCS base variant)
and has no DSP instructions, the same feature set ``zig cc -target
thumb-freestanding-eabi -mcpu=cortex_m33`` selects (the ``eabi`` environment,
as opposed to ``eabihf``, is the soft-float ABI), so objects from llvmlite and
from clang agree.

``@interrupt`` on M-profile: the hardware saves r0-r3, r12, lr, pc and xPSR on
exception entry and returns when a function returns to the EXC_RETURN value
it finds in lr (ARMv8-M ARM, B3.19 and B3.21 "Exception return"), and the
stack is always 8-byte aligned at entry (CCR.STKALIGN is RES1 in ARMv8-M), so
a plain AAPCS function is a valid handler. LLVM's ARM backend agrees: for
M-class CPUs a function with ``"interrupt"`` keeps the AAPCS callee-saved
set and returns normally (ARMBaseRegisterInfo::getCalleeSavedRegs and
ARMTargetLowering::LowerReturn only change the sequence for A/R-profile). The
attribute is still set, as clang does for ``__attribute__((interrupt("IRQ")))``,
so the IR says what the function is; no stack realignment attribute is
added because the hardware already guarantees the alignment.
"""

from kcc.targets.base import Target

TARGET = Target(
    name="armv8m",
    llvm_data_layout="e-m:e-p:32:32-Fi8-i64:64-v128:64:128-a:0:32-n32-S64",
    triple="thumbv8m.main-none-eabi",
    cpu="cortex-m33",
    # -fpregs switches off every FP/MVE feature that depends on the register file; -dsp keeps
    # the instruction set to what zig's cortex_m33 model for the soft-float eabi enables.
    features="+soft-float,-fpregs,-dsp",
    pointer_bits=32,
    clang_args=("-target", "thumb-freestanding-eabi", "-mcpu=cortex_m33", "-mthumb",
                "-mfloat-abi=soft"),
    llvmlite_asm_parser=False,
    interrupt_attrs=(("interrupt", "IRQ"),),
    elf_machine="EM_ARM",
    link_emulation="armelf",
    unwind_tables=True,
)
