/* riscv64 boot entry: OpenSBI jumps here in S-mode; one hart wins the boot, the others park. */
#include "board.h"

/*
 * State at entry (SBI specification v2.0, "Hart State Management Extension",
 * and OpenSBI fw_dynamic/fw_jump): S-mode, satp = 0 (MMU off), sstatus.SIE = 0,
 * a0 = this hart's id, a1 = physical address of the flattened device tree.
 * Nothing else may be assumed: sp, gp, tp and every CSR we rely on are set here.
 *
 * No global-pointer relaxation is used (the kernel links with --no-relax), so
 * gp is left alone.
 */

    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* First instruction: the boot-cost counter starts as close to entry as possible. */
    csrr    t3, instret

    /* No interrupt source until the kernel asks for one; until arch.trap.init
       runs, a trap lands in the full trap vector (it only needs a stack). */
    csrw    sie, zero
    lla     t0, trap_vector
    csrw    stvec, t0
    csrw    sscratch, zero

    /* Kernel code is built for lp64 without F/D (kcc/targets/riscv64.py), so
       the FPU stays Off (sstatus.FS = 0): a stray FP instruction traps as
       illegal, and trap entry never has FP state to save. OpenSBI leaves it on. */
    li      t0, 0x6000
    csrc    sstatus, t0

    /* A hart whose id has no stack in the image cannot run kernel code. */
    li      t0, BOARD_HARTS
    bgeu    a0, t0, park

    /* Boot lottery: the first hart here reads 0 and boots. With the SBI HSM
       extension only one hart usually enters, but firmware without HSM
       starts all of them at _start. The ticket lives in .data, not .bss,
       because the winner zeroes .bss while losers may still be drawing. */
    lla     t0, boot_lottery
    li      t1, 1
    amoadd.w t1, t1, (t0)
    bnez    t1, park

    /* Hart N's stack is the N-th BOARD_STACK_SIZE block below __stack_top. */
    lla     sp, __stack_top
    li      t0, BOARD_STACK_SIZE
    mul     t0, t0, a0
    sub     sp, sp, t0

    /* Zero .bss: doublewords while 8 bytes remain, then single bytes, so an
       unaligned __bss_end never causes a write past it. */
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  addi    t2, t0, 8
    bgtu    t2, t1, 2f
    andi    t4, t0, 7
    bnez    t4, 2f
    sd      zero, 0(t0)
    mv      t0, t2
    j       1b
2:  bgeu    t0, t1, 3f
    sb      zero, 0(t0)
    addi    t0, t0, 1
    j       2b
3:
    /* Publish the entry instret for the boot-cost report (arch.cpu.boot_instret). */
    lla     t0, boot_instret
    sd      t3, 0(t0)

    /* Terminate frame-pointer chains for debuggers and backtraces. */
    mv      s0, zero
    mv      ra, zero
    call    kmain               /* kmain(hartid = a0, dtb = a1) */

    /* kmain powers the machine off; if it ever returns, park this hart too. */
park:
    csrw    sie, zero
    csrci   sstatus, 2          /* sstatus.SIE */
1:  wfi
    j       1b
    .size _start, . - _start

    .section .data, "aw", @progbits
    .balign 8
    .globl boot_instret
boot_instret:
    .dword  0
boot_lottery:
    .word   0
