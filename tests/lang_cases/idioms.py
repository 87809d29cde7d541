"""Differential cases for the idioms of issue 10: range typing and steps, min/max/abs, ...

Each function is total over its parameter types or stops with a panic that
kcc.load_python raises as the matching exception.
"""

from kcc.lang import *

STEPS: Final = 6
samples: Array[u16, 5]


def _narrow(x: u8) -> u8:
    return x


# ----- range bounds without a type: the loop variable's use decides, else i32 ---------------------

def range_typed_by_argument(n: u8) -> u32:
    total: u32 = 0
    for i in range(10):
        total += u32(_narrow(i)) * u32(n)
    return total


def range_typed_by_operand(start: u8) -> u8:
    acc = start
    for i in range(STEPS):
        acc += i                 # i is a u8: acc's type; wraps as u8 arithmetic does
    return acc


def range_typed_by_comparison(limit: i64) -> i64:
    hits: i64 = 0
    for i in range(len(samples)):
        if i < limit:
            hits += 1
    return hits


def range_typed_by_declaration(k: u16) -> u16:
    last: u16 = 0
    for i in range(3):
        v: u16 = i
        last = v * k
    return last


def range_typed_by_return(k: i8) -> i8:
    for i in range(100):
        if i == k:
            return i
    return -1


def range_default_i32(scale: i32) -> i32:
    total: i32 = 0
    for i in range(4):
        samples[i] = 1           # an index decides nothing: i is an i32
        total += i * scale
    return total


# ----- a step known only at run time ---------------------------------------------------------------

def range_runtime_step(a: i16, b: i16, step: i16) -> i32:
    total: i32 = 0
    for i in range(a, b, step):
        total += i32(i)
        if total > 100000 or total < -100000:
            break                # keeps the slowest case (step 1 over all of i16) short under CPython
    return total


def range_runtime_step_unsigned(a: u8, b: u8, step: u8) -> u32:
    total: u32 = 0
    for i in range(a, b, step):
        total += u32(i)
    return total


# ----- min, max, abs ---------------------------------------------------------------------------------

def smallest(a: i8, b: i8, c: i8) -> i8:
    return min(a, b, c)


def largest_or_limit(a: u32, b: u32) -> u32:
    return max(a, b, 100)


def clamp(x: i16, lo: i16, hi: i16) -> i16:
    return max(lo, min(x, hi))


def magnitude(x: i32) -> i32:
    return abs(x)                # abs(MIN) overflows: OverflowError, as -x does


def magnitude_unsigned(x: u16) -> u16:
    return abs(x)


def folded_limits() -> u64:
    return u64(min(STEPS, 4) + max(STEPS, 9) + abs(-3))
