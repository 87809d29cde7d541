/* armv8m exception entry: save what the hardware did not, call trap_handler, return through EXC_RETURN. */

/*
 * Every vector but the reset vector points here (entry.S). On exception entry
 * the processor has already pushed r0-r3, r12, lr, the return address and
 * RETPSR onto the interrupted code's stack, 8-byte aligned (ARMv8-M ARM,
 * B3.19 "Exception entry, context stacking"), switched to the main stack
 * (MSP) and put EXC_RETURN in lr. This code adds the rest of the context on
 * the main stack, 48 bytes, a multiple of 8 as AAPCS wants at a call:
 *
 *   +0   address of the hardware frame (MSP or PSP as EXC_RETURN.SPSEL says)
 *   +4   IPSR: the exception number
 *   +8   r4..r11
 *   +40  EXC_RETURN
 *   +44  padding
 *
 * Layout shared with arch/armv8m/trap.py: TrapFrame (FRAME_SIZE = 48).
 * trap_handler may change the saved return address in the hardware frame to
 * resume elsewhere; returning through EXC_RETURN makes the processor unstack
 * the hardware frame (B3.21 "Exception return").
 */

    .syntax unified
    .thumb

    .section .text, "ax", %progbits
    .globl exc_entry
    .type exc_entry, %function
    .thumb_func
    .balign 4
exc_entry:
    tst     lr, #4              /* EXC_RETURN.SPSEL: the stack the hardware frame is on */
    ite     eq
    mrseq   r0, msp
    mrsne   r0, psp
    mrs     r1, ipsr
    sub     sp, sp, #4
    push    {r0, r1, r4-r11, lr}
    mov     r0, sp
    bl      trap_handler        /* trap_handler(frame: Ptr[TrapFrame]) */
    pop     {r0, r1, r4-r11, lr}
    add     sp, sp, #4
    bx      lr
    .size exc_entry, . - exc_entry
