/* armv8m run-time helpers for 64-bit division, in the Arm run-time ABI's register convention. */

/*
 * Arm IHI 0043 ("Run-time ABI for the Arm Architecture"), section 4.3.1:
 * __aeabi_uldivmod and __aeabi_ldivmod take the numerator in r0:r1 and the
 * denominator in r2:r3 and return the quotient in r0:r1 and the remainder in
 * r2:r3 (low word first). LLVM calls them for i64 udiv/urem and sdiv/srem on
 * ARMv8-M, which has only 32-bit division. The quotient comes from
 * lib/int64.py (kcc_udiv64, kcc_sdiv64: AAPCS, u64 arguments in r0:r1 and
 * r2:r3, result in r0:r1); the remainder is n - q * d modulo 2**64, which is
 * C's remainder for both signednesses.
 */

    .syntax unified
    .thumb
    .section .text, "ax", %progbits

    .globl __aeabi_uldivmod
    .type __aeabi_uldivmod, %function
    .thumb_func
__aeabi_uldivmod:
    push    {r4, r5, r6, r7, r8, lr}    /* six words: the stack stays 8-byte aligned */
    mov     r4, r0
    mov     r5, r1
    mov     r6, r2
    mov     r7, r3
    bl      kcc_udiv64
    b       remainder
    .size __aeabi_uldivmod, . - __aeabi_uldivmod

    .globl __aeabi_ldivmod
    .type __aeabi_ldivmod, %function
    .thumb_func
__aeabi_ldivmod:
    push    {r4, r5, r6, r7, r8, lr}
    mov     r4, r0
    mov     r5, r1
    mov     r6, r2
    mov     r7, r3
    bl      kcc_sdiv64

/* r0:r1 = q, r4:r5 = n, r6:r7 = d: r2:r3 = n - q * d, keeping only the low 64 bits of the product. */
remainder:
    umull   r2, r3, r0, r6              /* q.lo * d.lo */
    mla     r3, r0, r7, r3              /* + (q.lo * d.hi) << 32 */
    mla     r3, r1, r6, r3              /* + (q.hi * d.lo) << 32 */
    subs    r2, r4, r2
    sbc     r3, r5, r3
    pop     {r4, r5, r6, r7, r8, pc}
    .size __aeabi_ldivmod, . - __aeabi_ldivmod

/*
 * Memory helpers of the run-time ABI (IHI 0043, section 4.3.4), which LLVM calls on an EABI
 * target instead of memcpy/memmove/memset. The 4 and 8 variants only promise aligned
 * arguments, so the plain byte versions in lib/string.py serve them all. __aeabi_memset takes
 * (dest, n, c), memset (dest, c, n); __aeabi_memclr is memset with c = 0.
 */
    .globl __aeabi_memcpy, __aeabi_memcpy4, __aeabi_memcpy8
    .type __aeabi_memcpy, %function
    .thumb_func
__aeabi_memcpy:
__aeabi_memcpy4:
__aeabi_memcpy8:
    b       memcpy
    .size __aeabi_memcpy, . - __aeabi_memcpy

    .globl __aeabi_memmove, __aeabi_memmove4, __aeabi_memmove8
    .type __aeabi_memmove, %function
    .thumb_func
__aeabi_memmove:
__aeabi_memmove4:
__aeabi_memmove8:
    b       memmove
    .size __aeabi_memmove, . - __aeabi_memmove

    .globl __aeabi_memset, __aeabi_memset4, __aeabi_memset8
    .type __aeabi_memset, %function
    .thumb_func
__aeabi_memset:
__aeabi_memset4:
__aeabi_memset8:
    mov     r3, r1              /* n */
    mov     r1, r2              /* c */
    mov     r2, r3
    b       memset
    .size __aeabi_memset, . - __aeabi_memset

    .globl __aeabi_memclr, __aeabi_memclr4, __aeabi_memclr8
    .type __aeabi_memclr, %function
    .thumb_func
__aeabi_memclr:
__aeabi_memclr4:
__aeabi_memclr8:
    mov     r2, r1              /* n */
    movs    r1, #0              /* c */
    b       memset
    .size __aeabi_memclr, . - __aeabi_memclr
