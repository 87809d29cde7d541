/* i586 trap entry and exit: one stub per IDT vector, a common path that saves the context and calls trap_handler. */

/*
 * The CPU pushes EFLAGS, CS and EIP (plus an error code for some exceptions)
 * on the current stack and enters through an interrupt gate with IF = 0
 * (Intel SDM vol. 3A, 6.12.1). Every trap so far comes from ring 0, so there
 * is no stack switch and no SS:ESP in the frame.
 *
 * Frame layout (must match arch/i586/trap.py: TrapFrame), 17 words from the lowest address:
 *   gs fs es ds                        pushed by trap_common
 *   edi esi ebp esp ebx edx ecx eax    pusha (esp: its value before pusha, ignored by popa)
 *   vector error                       pushed by the stub (error 0 when the CPU gives none)
 *   eip cs eflags                      pushed by the CPU
 * 68 bytes. The handler may change eip, cs and eflags in the frame; iret uses them.
 */

#define KERNEL_DS   0x10
/* Each stub starts STUB_SIZE bytes after the previous one; trap.py computes the gate addresses. */
#define STUB_SIZE   16

/* Exceptions for which the CPU pushes an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
   #PF 14, #AC 17, #CP 21 (Intel SDM vol. 3A, table 6-1), #VC 29, #SX 30 (AMD APM vol. 2, 8.2). */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

/* Exactly STUB_SIZE bytes: .org pads the stub and fails the build if it is longer. */
.macro trap_stub vector
0:
    .if !HAS_ERROR_CODE(\vector)
    pushl   $0
    .endif
    pushl   $\vector
    jmp     trap_common
    .org    0b + STUB_SIZE, 0xCC
.endm

    .section .text, "ax", @progbits
    .globl trap_stubs
    .type trap_stubs, @function
    .balign STUB_SIZE
trap_stubs:
    .irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .irp lo, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    trap_stub (\hi * 16 + \lo)
    .endr
    .endr
    .size trap_stubs, . - trap_stubs

    .globl trap_common
    .type trap_common, @function
trap_common:
    pusha
    pushl   %ds
    pushl   %es
    pushl   %fs
    pushl   %gs
    /* Data segments as the kernel set them; only ring 0 traps so far, but this is
       what makes a trap from a future user segment safe too. */
    movw    $KERNEL_DS, %ax
    movw    %ax, %ds
    movw    %ax, %es

    /* trap_handler(frame) with esp 16-byte aligned at the call (i386 psABI);
       ebx is callee-saved, so it still holds the frame address afterwards. */
    movl    %esp, %ebx
    andl    $-16, %esp
    subl    $12, %esp
    pushl   %ebx
    call    trap_handler
    movl    %ebx, %esp

    popl    %gs
    popl    %fs
    popl    %es
    popl    %ds
    popa
    addl    $8, %esp            /* vector and error code */
    iret
    .size trap_common, . - trap_common
