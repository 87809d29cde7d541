"""64-bit division for 32-bit x86: the libgcc routines LLVM calls for u64/i64 ``//`` and ``%`` (private to arch/i586).

i386 has no 64-bit divide instruction, so LLVM lowers 64-bit udiv, urem,
sdiv and srem to calls of __udivdi3, __umoddi3, __divdi3 and __moddi3 (GCC
internals, "Integer library routines": plain cdecl functions, C semantics:
quotients truncate toward zero, a remainder takes the dividend's sign). kcc
links no compiler runtime, so the kernel defines them here around the
portable long division of lib/int64 (which never divides 64-bit values
itself, so nothing here calls itself). Remainders are n - q * d in unsigned
arithmetic, which wraps instead of tripping the signed-overflow check for
the most negative value divided by -1.
"""

from kcc.lang import *

from lib import int64


@export("__udivdi3")
def udivdi3(n: u64, d: u64) -> u64:
    """Unsigned 64-bit quotient; panics when ``d`` is 0."""
    return int64.udiv64(n, d)


@export("__umoddi3")
def umoddi3(n: u64, d: u64) -> u64:
    """Unsigned 64-bit remainder; panics when ``d`` is 0."""
    return n - int64.udiv64(n, d) * d


@export("__divdi3")
def divdi3(n: i64, d: i64) -> i64:
    """Signed 64-bit quotient, truncated toward zero (the most negative value / -1 wraps to itself)."""
    return int64.sdiv64(n, d)


@export("__moddi3")
def moddi3(n: i64, d: i64) -> i64:
    """Signed 64-bit remainder with the dividend's sign."""
    q = int64.sdiv64(n, d)
    return i64(u64(n) - u64(q) * u64(d))
