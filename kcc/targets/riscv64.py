"""The riscv64 target: RV64GC in supervisor mode, LP64 soft-float ABI for kernel code."""

from kcc.targets.base import Target

# Kernel code keeps the F/D registers untouched (lp64, no +f/+d) so that trap
# entry never has to save floating-point state; the privileged spec's sstatus.FS
# stays Off. The medium code model ("medany") lets the kernel live at
# 0x8020_0000, above the 2 GiB that the small model reaches.
TARGET = Target(
    name="riscv64",
    llvm_data_layout="e-m:e-p:64:64-i64:64-i128:128-n32:64-S128",
    triple="riscv64-unknown-none-elf",
    cpu="generic-rv64",
    features="+m,+a,+c,+zicsr,+zifencei",
    pointer_bits=64,
    clang_args=("-target", "riscv64-freestanding-none", "-mcpu=generic_rv64+m+a+c+zicsr+zifencei",
                "-mabi=lp64", "-mcmodel=medany"),
    llvmlite_asm_parser=False,
    interrupt_attrs=(("interrupt", "supervisor"),),
    elf_machine="EM_RISCV",
    link_emulation="elf64lriscv",
    code_model="medium",
    sign_extend_i32=True,
    # lui/addi take the address absolute (R_RISCV_HI20/LO12_I), which reaches the low 2 GiB from anywhere.
    low_address_asm="lui $0, %hi($1)\naddi $0, $0, %lo($1)",
)
