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
