/* armv8m vector table and reset entry: start the cycle clock, copy .data, zero .bss, call kmain. */
#include "board.h"

/*
 * At reset the processor loads MSP from word 0 of the vector table and jumps
 * to word 1 (ARMv8-M ARM, B3.30 "Vector tables" and B3.20 "Reset"): Thread
 * mode, privileged, PRIMASK = 0, every configurable exception disabled.
 * Nothing in RAM is initialised. The security state differs by board: QEMU's
 * mps2-an505 has the Security Extension and resets in Secure state; an
 * STM32L5 with TrustZone disabled (option bit TZEN = 0, the Nucleo's factory
 * state) has only the Non-secure programmer's model (ST RM0438, "System
 * security"), so it runs Non-secure. The code below is the same for both: it
 * only uses registers that exist in either state.
 * A debugger may also start the image by jumping to _start, so the stack
 * pointer and VTOR are set again here rather than trusted.
 */

    .syntax unified
    .thumb

#define SYST_CSR   0xE000E010
#define SCB_VTOR   0xE000ED08
#define SYST_CLKSOURCE_ENABLE 5     /* CLKSOURCE = processor clock, ENABLE, no TICKINT */
#define DATA_COPY_MARKER 0x6B636364 /* must equal _DATA_COPY_MARKER in boot.py */

/* 16 architectural entries, then BOARD_NUM_IRQS external interrupts. The linker sets bit 0
   (Thumb) of every address here, as they are Thumb function symbols; the stack top is data. */
    .section .vectors, "a", %progbits
    .globl __vectors
    .type __vectors, %object
__vectors:
    .word   __stack_top         /*  0: initial MSP */
    .word   _start              /*  1: Reset */
    .word   exc_entry           /*  2: NMI */
    .word   exc_entry           /*  3: HardFault */
    .word   exc_entry           /*  4: MemManage */
    .word   exc_entry           /*  5: BusFault */
    .word   exc_entry           /*  6: UsageFault */
    .word   exc_entry           /*  7: SecureFault */
    .word   0, 0, 0             /*  8-10: reserved */
    .word   exc_entry           /* 11: SVCall */
    .word   exc_entry           /* 12: DebugMonitor */
    .word   0                   /* 13: reserved */
    .word   exc_entry           /* 14: PendSV */
    .word   exc_entry           /* 15: SysTick */
    .rept   BOARD_NUM_IRQS
    .word   exc_entry           /* 16+n: external interrupt n */
    .endr
    .size __vectors, . - __vectors

    .section .text.entry, "ax", %progbits
    .globl _start
    .type _start, %function
    .thumb_func
_start:
    cpsid   i

    /* The cycle clock (arch/armv8m/timer.py) starts first: SysTick free-running from 0. */
    ldr     r0, =SYST_CSR
    movs    r1, #0
    str     r1, [r0]            /* SYST_CSR: stop */
    ldr     r1, =0x00FFFFFF
    str     r1, [r0, #4]        /* SYST_RVR: the maximum reload */
    str     r1, [r0, #8]        /* SYST_CVR: any write clears the counter and COUNTFLAG */
    movs    r1, #SYST_CLKSOURCE_ENABLE
    str     r1, [r0]

    ldr     r0, =SCB_VTOR
    ldr     r1, =__vectors
    str     r1, [r0]
    dsb
    isb

    /* The main stack; MSPLIM makes a stack overflow a UsageFault (UFSR.STKOF) instead of
       silent corruption of .bss below it (ARMv8-M ARM, B3.16 "Stack limit checks"). */
    ldr     r0, =__stack_bottom
    msr     msplim, r0
    ldr     r0, =__stack_top
    msr     msp, r0

    /* Copy the initial .data from its load address in flash (both ends word-aligned). */
    ldr     r0, =__data_start
    ldr     r1, =__data_end
    ldr     r2, =__data_load
1:  cmp     r0, r1
    bhs     2f
    ldr     r3, [r2], #4
    str     r3, [r0], #4
    b       1b
2:
    /* Zero .bss (both ends word-aligned). */
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    movs    r3, #0
3:  cmp     r0, r1
    bhs     4f
    str     r3, [r0], #4
    b       3b
4:
    /* kmain(hartid = 0, boot_info = 0): one core, and no boot loader hands anything over. */
    movs    r0, #0
    movs    r1, #0
    bl      kmain

    /* kmain halts the machine; should it return, park. */
5:  cpsid   i
    wfi
    b       5b
    .size _start, . - _start
    .ltorg

/* A known word in .data: arch/armv8m/boot.py checks it, so an image whose initialised data
   was not copied from its load address (a wrong __data_load, a broken loop) stops at once
   with a located panic instead of running with zeroed globals. */
    .section .data, "aw", %progbits
    .balign 4
    .globl data_copy_marker
    .type data_copy_marker, %object
data_copy_marker:
    .word   DATA_COPY_MARKER
    .size data_copy_marker, 4
