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
 * Stack choice: the kernel runs only in S-mode so far, so every trap comes from
 * kernel code and the interrupted sp is a valid kernel stack; the frame is
 * pushed onto it. sscratch is kept 0 ("trapped from the kernel") by entry.S;
 * when user mode arrives, sscratch will hold the kernel stack of the current
 * thread and the vector will swap it in when sscratch != 0.
 *
 * The handler may change sepc (to skip an instruction) and sstatus in the
 * frame; both are written back before sret. Changes to regs[2] are ignored:
 * sp is recomputed from the frame address.
 */

#define FRAME_WORDS 36
#define FRAME_SIZE (FRAME_WORDS * 8)
#define SSTATUS_SLOT 32
#define SEPC_SLOT 33
#define SCAUSE_SLOT 34
#define STVAL_SLOT 35

    .section .text, "ax", @progbits
    .globl trap_vector
    .type trap_vector, @function
    /* stvec direct mode needs a 4-byte-aligned base: bits [1:0] are the mode. */
    .balign 4
trap_vector:
    addi    sp, sp, -FRAME_SIZE
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (\n * 8)(sp)
    .endr
    sd      zero, 0(sp)
    addi    t0, sp, FRAME_SIZE
    sd      t0, (2 * 8)(sp)
    csrr    t0, sstatus
    sd      t0, (SSTATUS_SLOT * 8)(sp)
    csrr    t0, sepc
    sd      t0, (SEPC_SLOT * 8)(sp)
    csrr    t0, scause
    sd      t0, (SCAUSE_SLOT * 8)(sp)
    csrr    t0, stval
    sd      t0, (STVAL_SLOT * 8)(sp)

    mv      a0, sp
    call    trap_handler        /* trap_handler(frame: Ptr[TrapFrame]) */

    ld      t0, (SSTATUS_SLOT * 8)(sp)
    csrw    sstatus, t0
    ld      t0, (SEPC_SLOT * 8)(sp)
    csrw    sepc, t0
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, (\n * 8)(sp)
    .endr
    addi    sp, sp, FRAME_SIZE
    sret
    .size trap_vector, . - trap_vector
