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

#ifdef BOARD_IMAGE_HEADER
    /* Started by U-Boot (boards with an image header, linker/riscv64.ld.j2): booti enters as
       OpenSBI does, but go calls the image as a C function, entry(argc, argv) (U-Boot, cmd/boot.c,
       do_go). A device tree starts with the magic 0xd00dfeed, big-endian (Devicetree Specification,
       "Header"): when a1 does not point at it, a1 is go's argv and argv[0] (if argc > 0) is the
       device tree's address in hex, with or without "0x" (docs/visionfive2.md). go passes no hart
       id, so the kernel asks the firmware which hart it is (below). No stack is needed here. */
    lwu     t0, 0(a1)
    li      t1, 0xedfe0dd0          /* 0xd00dfeed read as a little-endian word */
    beq     t0, t1, 9f
    mv      t4, zero                /* the device tree address; 0 when go gave none or a bad one */
    beqz    a0, 8f
    ld      t0, 0(a1)               /* argv[0] */
    lbu     t1, 0(t0)
    li      t2, '0'
    bne     t1, t2, 6f
    lbu     t1, 1(t0)
    ori     t1, t1, 0x20            /* 'X' -> 'x' */
    li      t2, 'x'
    bne     t1, t2, 6f
    addi    t0, t0, 2
6:  lbu     t1, 0(t0)
    beqz    t1, 8f
    addi    t2, t1, -'0'
    li      t5, 10
    bltu    t2, t5, 7f              /* '0'..'9' */
    ori     t2, t1, 0x20            /* 'A'..'F' -> 'a'..'f' */
    addi    t2, t2, -'a'
    li      t5, 6
    bgeu    t2, t5, 5f              /* not a hex digit: no device tree */
    addi    t2, t2, 10
7:  slli    t4, t4, 4
    or      t4, t4, t2
    addi    t0, t0, 1
    j       6b
5:  mv      t4, zero
    /* Which hart is this? An SBI IPI to hart t5 (SBI specification, "IPI Extension", send_ipi)
       sets sip.SSIP here only when t5 is this hart. sie is 0, so no trap is taken; an ecall keeps
       every register but a0 and a1 (SBI specification, "Binary Encoding"). On the VisionFive2 the
       boot hart is one of 1..4 and the PLIC context of "hart 0" is the S7's M-mode one, so
       guessing would route the console's interrupt nowhere. No answer: hart 0, as before. */
8:  csrw    sie, zero
    mv      t5, zero
10: csrci   sip, 2                  /* sip.SSIP */
    li      a0, 1                   /* hart_mask: bit 0 ... */
    mv      a1, t5                  /* ... of hart_mask_base = t5 */
    li      a7, 0x735049            /* "sPI" */
    li      a6, 0                   /* send_ipi */
    ecall
    bnez    a0, 12f                 /* not a hart the firmware runs */
    li      t6, 64                  /* OpenSBI raises it at once; a few reads more for real MSIP latency */
11: csrr    t0, sip
    andi    t0, t0, 2
    bnez    t0, 13f
    addi    t6, t6, -1
    bnez    t6, 11b
12: addi    t5, t5, 1
    li      t0, BOARD_HARTS
    bltu    t5, t0, 10b
    mv      t5, zero
13: csrci   sip, 2
    mv      a0, t5
    mv      a1, t4
9:
#endif

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
