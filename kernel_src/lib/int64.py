"""64-bit division for 32-bit targets, where LLVM calls a runtime helper instead of dividing inline.

On armv8m (and i586) LLVM lowers ``udiv``/``sdiv``/``urem``/``srem`` of i64 to
library calls (``__aeabi_uldivmod``/``__aeabi_ldivmod`` in the Arm run-time ABI,
Arm IHI 0043, section 4.3.1; ``__udivdi3`` and friends on x86), which a
freestanding kernel must supply. These functions do the arithmetic with 32-bit
division and 64-bit shifts, compares and subtractions only, so they never call
themselves; the architecture's thin wrappers adapt them to its helper ABI
(arch/armv8m/aeabi.S). Both use C semantics (truncation toward zero), which is
what the IR instructions mean; the language's floor division is built on top
of them by the compiler. The code is pure, so it runs under kcc.load_python too.
"""

from kcc.lang import *

_TOP_BIT: Final = 1 << 63


@export("kcc_udiv64")
def udiv64(n: u64, d: u64) -> u64:
    """Return the quotient n // d of unsigned 64-bit numbers; panics when ``d`` is 0.

    Restoring binary long division (one quotient bit per step, from the
    highest set bit of ``n`` down): the partial remainder stays below ``d``,
    and ``d`` is below 2**63 once the cases d > n and d >= 2**63 are taken
    out, so doubling it never overflows.
    """
    if d == 0:
        panic("64-bit division by zero")
    if d > n:
        return 0
    if d & _TOP_BIT != 0:
        return 1
    if n <= 0xFFFF_FFFF:
        return u64(u32(n) // u32(d))
    bit: u64 = 63
    while (n >> bit) & 1 == 0:
        bit -= 1
    q: u64 = 0
    r: u64 = 0
    while True:
        r = (r << 1) | ((n >> bit) & 1)
        if r >= d:
            r -= d
            q |= u64(1) << bit
        if bit == 0:
            return q
        bit -= 1


@export("kcc_sdiv64")
def sdiv64(n: i64, d: i64) -> i64:
    """Return the quotient of signed 64-bit numbers truncated toward zero (C's ``/``); panics when ``d`` is 0.

    The magnitudes are divided unsigned; the most negative value divided by
    -1 wraps to itself, as the machine instruction would.
    """
    un = u64(n)
    if n < 0:
        un = u64(0) - un
    ud = u64(d)
    if d < 0:
        ud = u64(0) - ud
    q = udiv64(un, ud)
    if (n < 0) != (d < 0):
        q = u64(0) - q
    return i64(q)
