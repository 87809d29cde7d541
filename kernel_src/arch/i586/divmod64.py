"""64-bit division for 32-bit x86: the libgcc routines LLVM calls for u64/i64 ``//`` and ``%`` (private to arch/i586).

i386 has no 64-bit divide instruction, so LLVM lowers 64-bit udiv, urem,
sdiv and srem to calls of __udivdi3, __umoddi3, __divdi3 and __moddi3 (GCC
internals, "Integer library routines"; C semantics: quotients truncate toward
zero, a remainder takes the dividend's sign). kcc links no compiler runtime,
so the kernel defines them here, from shifts, compares and 32-bit division
only, so that none of them calls itself. kcc's own checks reject a zero
divisor before any call; a zero divisor here is a bug and panics.
"""

from kcc.lang import *

_TOP_BIT: Final = 1 << 63


def udivmod(n: u64, d: u64, remainder: bool) -> u64:
    """Return ``n // d``, or ``n % d`` when ``remainder``, for unsigned 64-bit values; panics when d is 0."""
    if d == 0:
        panic("64-bit division by zero reached the runtime")
    if n >> 32 == 0 and d >> 32 == 0:
        # Both fit the 32-bit divide instruction.
        if remainder:
            return u64(u32(n) % u32(d))
        return u64(u32(n) // u32(d))
    if d & _TOP_BIT != 0:
        # d >= 2**63: the quotient is 0 or 1, and the loop below could overflow its remainder.
        if n >= d:
            if remainder:
                return n - d
            return 1
        if remainder:
            return n
        return 0
    # Restoring binary long division, one quotient bit per step from the top; r < d < 2**63
    # keeps (r << 1) | bit inside 64 bits.
    q: u64 = 0
    r: u64 = 0
    for i in range(u32(0), 64):
        bit = 63 - i
        r = (r << 1) | ((n >> bit) & 1)
        if r >= d:
            r -= d
            q |= u64(1) << bit
    if remainder:
        return r
    return q


def _magnitude(v: i64) -> u64:
    """Return |v| as u64 (exact for the most negative value too)."""
    if v < 0:
        return u64(0) - u64(v)
    return u64(v)


@export("__udivdi3")
def udivdi3(n: u64, d: u64) -> u64:
    """Unsigned 64-bit quotient."""
    return udivmod(n, d, False)


@export("__umoddi3")
def umoddi3(n: u64, d: u64) -> u64:
    """Unsigned 64-bit remainder."""
    return udivmod(n, d, True)


@export("__divdi3")
def divdi3(n: i64, d: i64) -> i64:
    """Signed 64-bit quotient, truncated toward zero (the most negative value / -1 wraps to itself)."""
    q = udivmod(_magnitude(n), _magnitude(d), False)
    if (n < 0) != (d < 0):
        return i64(u64(0) - q)
    return i64(q)


@export("__moddi3")
def moddi3(n: i64, d: i64) -> i64:
    """Signed 64-bit remainder with the dividend's sign."""
    r = udivmod(_magnitude(n), _magnitude(d), True)
    if n < 0:
        return i64(u64(0) - r)
    return i64(r)
