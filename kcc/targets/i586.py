"""The i586 target: 32-bit x86 (Pentium) in protected mode, no x87/MMX/SSE in kernel code."""

import platform

from kcc.targets.base import Target

# CPU "pentium" is the i586 baseline (LLVM X86.td: FeatureX87, FeatureCX8, FeatureTSC, no MMX or
# SSE), the same model QEMU's ``-cpu pentium`` emulates. Kernel code also drops x87 and uses
# soft-float, so no FPU instruction is ever emitted: trap entry never has FPU state to save, and
# entry.S sets CR0.EM so that a stray one traps (#NM) instead of running.
_FEATURES = "-mmx,-sse,-sse2,-x87,+soft-float"

# llvmlite's object emitter accepts inline asm only through an assembly parser. The PyPI wheel
# links just the host's ("native") asm parser, which on an x86 host is the X86 parser; it reads
# i386 code as well (kcc.targets.base.init_llvm initialises it). On any other host the module
# goes through clang instead, like RISC-V and Arm.
_X86_HOSTS = {"x86_64", "amd64", "i386", "i486", "i586", "i686", "x86"}

TARGET = Target(
    name="i586",
    llvm_data_layout="e-m:e-p:32:32-p270:32:32-p271:32:32-p272:64:64-i128:128-f64:32:64-f80:32-n8:16:32-S128",
    triple="i586-unknown-none-elf",
    cpu="pentium",
    features=_FEATURES,
    pointer_bits=32,
    # zig's spelling of the same target: "x86" is the 32-bit architecture, CPU features are
    # appended to the CPU name with +/- and underscores (zig targets, "x86" cpu features).
    clang_args=("-target", "x86-freestanding-none", "-mcpu=pentium-mmx-sse-sse2-x87+soft_float"),
    llvmlite_asm_parser=platform.machine().lower() in _X86_HOSTS,
    # x86 has no handler *attribute*: LLVM gives interrupt handlers the x86_intrcc calling
    # convention (saves every register it uses, returns with iret). The parameterless form kcc
    # emits suits vectors without an error code (IRQs, #BP); the kernel's trap entry is assembly.
    interrupt_cc="x86_intrcc",
    int64_align=4,  # i386 System V ABI: u64/i64 are 4-byte aligned
    elf_machine="EM_386",
    link_emulation="elf_i386",
    code_model="default",
)
