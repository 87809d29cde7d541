/* Entry of the code-quality harness: one stack, then main (which powers off). */
    .section .text.entry, "ax"
    .globl _start
_start:
    la      sp, __stack_top
    call    main
1:  j       1b
