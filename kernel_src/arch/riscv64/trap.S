/* riscv64 trap entry and exit: save the whole register context, call trap_handler, restore, sret. */

/*
 * Frame layout (must match arch/riscv64/trap.py: TrapFrame): 36 doublewords,
 *   regs[0..31]  x0..x31 (regs[0] is stored as 0, regs[2] is the sp before the trap)
 *   regs[32]     sstatus
 *   regs[33]     sepc
 *   regs[34]     scause
 *   regs[35]     stval
 * 288 bytes, a multiple of 16, so the psABI's 16-byte sp alignment holds.
 *
 * Where the frame goes: sscratch holds the running thread's frame
 * (arch/riscv64/context.py) while user code runs and 0 while the kernel
 * runs. A trap from U-mode saves into that frame and switches to the
 * hart's kernel stack (__stack_top: one kernel stack per hart, docs/kernel.md);
 * a trap from S-mode (the boot self-tests, a kernel bug) pushes the frame
 * on the interrupted kernel stack.
 *
 * trap_handler(frame) returns the frame to resume: the same one, or another
 * thread's after a switch. Everything, sp included, is reloaded from it;
 * when it returns to U-mode (sstatus.SPP = 0) sscratch is set to it again.
 */

#define FRAME_WORDS 36
#define FRAME_SIZE (FRAME_WORDS * 8)
#define SSTATUS_SLOT 32
#define SEPC_SLOT 33
#define SCAUSE_SLOT 34
#define STVAL_SLOT 35
#define SSTATUS_SPP 0x100

    .section .text, "ax", @progbits
    .globl trap_vector
    .type trap_vector, @function
    /* stvec direct mode needs a 4-byte-aligned base: bits [1:0] are the mode. */
    .balign 4
trap_vector:
    csrrw   sp, sscratch, sp        /* sp = the thread's frame (from U) or 0 (from S) */
    bnez    sp, from_user
    csrrw   sp, sscratch, sp        /* from S: sp back, sscratch 0 again */
    addi    sp, sp, -FRAME_SIZE
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (\n * 8)(sp)
    .endr
    addi    t0, sp, FRAME_SIZE
    sd      t0, (2 * 8)(sp)
    j       save_csrs

from_user:
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (\n * 8)(sp)
    .endr
    csrr    t0, sscratch            /* the user sp */
    sd      t0, (2 * 8)(sp)
    csrw    sscratch, zero

save_csrs:
    sd      zero, 0(sp)
    csrr    t0, sstatus
    sd      t0, (SSTATUS_SLOT * 8)(sp)
    csrr    t0, sepc
    sd      t0, (SEPC_SLOT * 8)(sp)
    csrr    t0, scause
    sd      t0, (SCAUSE_SLOT * 8)(sp)
    csrr    t0, stval
    sd      t0, (STVAL_SLOT * 8)(sp)

    mv      a0, sp
    ld      t1, (SSTATUS_SLOT * 8)(sp)
    andi    t1, t1, SSTATUS_SPP
    bnez    t1, 1f
    lla     sp, __stack_top         /* from U: the hart's kernel stack (hart 0 is the only one that runs) */
    mv      s0, zero                /* end frame-pointer chains at the trap */
1:  call    trap_handler            /* a0 = trap_handler(frame: Ptr[TrapFrame]): the frame to resume */

    /* trap_restore(frame): resume the context in frame; trap.enter_user jumps here for init. */
    .globl trap_restore
trap_restore:
    mv      sp, a0
    ld      t0, (SSTATUS_SLOT * 8)(sp)
    csrw    sstatus, t0
    andi    t0, t0, SSTATUS_SPP
    bnez    t0, 2f
    csrw    sscratch, sp            /* back to U: the next trap saves into this frame */
2:  ld      t0, (SEPC_SLOT * 8)(sp)
    csrw    sepc, t0
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, (\n * 8)(sp)
    .endr
    ld      sp, (2 * 8)(sp)
    sret
    .size trap_vector, . - trap_vector
