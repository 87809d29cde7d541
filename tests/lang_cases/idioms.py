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


# ----- functions as values -------------------------------------------------------------------------

@struct
class Ops:
    apply: Callable[[i32, i32], i32]
    name: Ptr[u8]


def _add(a: i32, b: i32) -> i32:
    return a + b


def _sub(a: i32, b: i32) -> i32:
    return a - b


def _mul(a: i32, b: i32) -> i32:
    return a * b


OPERATIONS: Final[Array[Callable[[i32, i32], i32], 3]] = (_add, _sub, _mul)
NAMED: Final[Array[Ops, 2]] = (Ops(apply=_add, name="add"), Ops(_sub, "sub"))
handler: Callable[[i32, i32], i32] = _mul
callback: Callable[[i32, i32], i32]


def dispatch(op: u8, a: i32, b: i32) -> i32:
    return OPERATIONS[op](a, b)          # an index past the table panics (IndexError)


def through_struct(which: bool, a: i32, b: i32) -> i32:
    ops = NAMED[1] if which else NAMED[0]
    return ops.apply(a, b)


def _twice(f: Callable[[i32, i32], i32], a: i32) -> i32:
    return f(f(a, a), a)


def as_argument(a: i16) -> i32:
    return _twice(_add, i32(a)) + _twice(handler, i32(a) // 256)


def null_callback(set_it: bool, a: i32) -> i32:
    global callback
    if set_it:
        callback = _sub
    if callback == NULL:
        return -1
    return callback(a, 1)


def call_null(a: i32) -> i32:
    f: Callable[[i32, i32], i32] = NULL
    if a > 0:
        f = _add
    return f(a, a)                       # NULL when a <= 0: NullPointerError


# ----- constant tables ---------------------------------------------------------------------------------

PRIMES: Final[Array[u16, 6]] = (2, 3, 5, 7, 11, 13)
GRID: Final[Array[Array[i8, 2], 2]] = ((1, -2), (-3, 4))
FLAGS: Final[Array[bool, 3]] = (True, False, True)
LABELS: Final[Array[Ptr[u8], 3]] = ("zero", "one", NULL)


def nth_prime(i: u8) -> u16:
    return PRIMES[i]                     # out of bounds: IndexError


def grid_sum(k: i8) -> i32:
    total: i32 = 0
    for r in range(2):
        for c in range(2):
            total += i32(GRID[r][c]) * i32(k)
    return total


def flag(i: u8) -> bool:
    return FLAGS[i % 3]


def label_is_null(i: u8) -> bool:
    return LABELS[i % 3] == NULL


def table_copy(i: u8) -> u16:
    local = PRIMES                       # a copy: assigning it leaves the table alone
    local[i % 6] = 0
    return local[i % 6] + PRIMES[i % 6] + u16(len(PRIMES))


# ----- named integer constants ---------------------------------------------------------------------------

class Cause(IntEnum):
    """Why a request stopped."""

    DONE = 0
    FAULT = 3
    LIMIT = STEPS * 2            # constant expressions of module constants


REASONS: Final[Array[u8, 3]] = (Cause.DONE, Cause.FAULT, Cause.LIMIT)


def classify(code: u8) -> u32:
    if code == Cause.FAULT:
        return 1
    if code >= Cause.LIMIT:
        return u32(Cause.LIMIT) + u32(code)
    return 0


def reason(i: u8) -> u8:
    return REASONS[i % 3] + Cause.FAULT


# ----- formatting arguments ------------------------------------------------------------------------------

def _word(x: Arg) -> usize:
    return x                     # a usize inside: what usize(argument) gives


def format_words(a: i8, b: bool, c: u16) -> u16:
    # Low 16 bits only, so 32- and 64-bit usize agree; -1 sign-extends to all ones.
    return u16(_word(a) & 0xFFFF) ^ u16(_word(b)) ^ u16(_word(c)) ^ u16(_word(-2) & 0xFFFF)
