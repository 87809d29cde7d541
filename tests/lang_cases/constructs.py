"""Differential cases: every statement and expression form of language.md, "Expressions" and "Statements".

Each function is total over its parameter types or stops with a panic that
kcc.load_python raises as the matching exception; loop counts and recursion
depth are bounded by narrow parameter types so any argument finishes quickly.
"""

import helpers.mathx as mx
from helpers import mathx

from kcc.lang import *

LIMIT: Final = 10
MASK: Final[u32] = 0xFFFF
WIDE: Final = (1 << 40) + LIMIT
GREETING: Final = "hello"

counter: u32 = 0
history: Array[u16, 8]
flag: bool = False


@struct
class Point:
    x: i32
    y: i32


@struct
class Shape:
    corners: Array[Point, 4]
    count: u8
    closed: bool


shapes: Array[Shape, 2]


# ----- loops -------------------------------------------------------------------------------------

def sum_to(n: u8) -> u32:
    total: u32 = 0
    for i in range(n):
        total += u32(i)
    return total


def sum_range3(a: i8, b: i8) -> i32:
    total: i32 = 0
    for i in range(a, b, 3):
        total += i32(i)
    for j in range(b, a, -2):
        total -= i32(j)
    return total


def loop_var_after(n: u8) -> u8:
    i: u8 = 200
    for i in range(n):
        pass
    return i


def loop_to_max(n: u8) -> u32:
    count: u32 = 0
    for i in range(n, 255):
        count += 1
    return count


def while_break_continue(n: u8) -> u32:
    i: u16 = 0
    odd: u32 = 0
    while True:
        i += 1
        if i > u16(n):
            break
        if i % 2 == 0:
            continue
        odd += u32(i)
    return odd


def collatz(n: u16) -> u32:
    x: u64 = u64(n)
    steps: u32 = 0
    while x > 1 and steps < 1000:
        x = x // 2 if x % 2 == 0 else 3 * x + 1
        steps += 1
    return steps


# ----- recursion ---------------------------------------------------------------------------------

def fact(n: u8) -> u64:
    if n <= 1:
        return 1
    return u64(n) * fact(n - 1)


def fib_rec(n: u8) -> u32:
    m: u8 = n & 15
    if m < 2:
        return u32(m)
    return fib_rec(m - 1) + fib_rec(m - 2)


def ackermann_small(m: u8, n: u8) -> u32:
    return _ack(u32(m & 1) + 1, u32(n & 7))


def _ack(m: u32, n: u32) -> u32:
    if m == 0:
        return n + 1
    if n == 0:
        return _ack(m - 1, 1)
    return _ack(m - 1, _ack(m, n - 1))


# ----- tuple assignment, augmented assignment, inferred locals -------------------------------------

def fib(n: u8) -> u64:
    a: u64 = 0
    b: u64 = 1
    for i in range(n):
        a, b = b, a + b
    return a


def swap_sub(a: i16, b: i16) -> i16:
    a, b = b, a
    return a - b


def aug_ops(x: u32, y: u32) -> u32:
    z = x
    z += y
    z ^= x << 3
    z |= 1
    z &= ~y
    z -= 7
    z *= 3
    if y != 0:
        z //= y
        z %= y + 1 if y != 0xFFFFFFFF else y
    z <<= y & 7
    z >>= 2
    return z


def inferred(x: i8) -> i8:
    y = x
    y = y + 1
    return y


# ----- short-circuit, chained comparisons, conditional expressions, bool -------------------------

def guarded_div(a: i32, b: i32) -> bool:
    return b != 0 and a // b > 2


def either(a: u8, b: u8) -> bool:
    return a == 0 or 200 // a > b


def chained(a: i16, b: i16, c: i16) -> bool:
    return a < b <= c != a


def between(x: u64) -> bool:
    return 10 <= x < 1000


def pick(c: bool, a: u16, b: u16) -> u16:
    return a if c else b


def sign(x: i64) -> i8:
    return -1 if x < 0 else (0 if x == 0 else 1)


def not_both(a: bool, b: bool) -> bool:
    return not (a and b)


def truthy(x: u32) -> u32:
    if x:
        return 1
    return 0


def bool_ops(a: bool, b: bool) -> bool:
    return (a & b) | (a ^ b) == (a or b)


# ----- constants, globals, keyword and default arguments -----------------------------------------

def consts(x: u32) -> u32:
    return (x & MASK) + LIMIT


def wide_const(x: u64) -> u64:
    return x ^ WIDE


def defaults(a: u32, b: u32 = 5, c: bool = True) -> u32:
    return a * 2 + b if c else a


def call_with_keywords(a: u32) -> u32:
    return defaults(a, c=False) + defaults(b=1, a=a) + defaults(a)


def bump(by: u32 = 1) -> u32:
    global counter
    counter += by
    return counter


def record(i: u8, v: u16) -> u16:
    history[i & 7] = v
    total: u16 = 0
    for k in range(u8(8)):
        total += history[k] & 0xFF
    return total


def toggle() -> bool:
    global flag
    flag = not flag
    return flag


def uses_module(x: i32) -> i32:
    return mathx.scale(x) + mx.scale(1) + i32(mathx.calls)


def gcd_of(a: u64, b: u64) -> u64:
    return mx.gcd(a, b)


# ----- structs and arrays inside functions -------------------------------------------------------

def local_array(n: u8) -> u32:
    buf: Array[u32, 16]
    for i in range(u8(16)):
        buf[i] = u32(i) * u32(n)
    total: u32 = 0
    for i in range(u8(16)):
        total += buf[i]
    return total + len(buf)


def index_checked(i: u32) -> u8:
    small: Array[u8, 5]
    small[i] = 1
    return small[i]


def struct_copy(x: i32) -> i32:
    p: Point
    p.x = x
    p.y = 2
    q = p
    q.x = 100
    r: Point = q
    r.y = 50
    return p.x - q.x + r.y - p.y


def nested_aggregates(x: i32, k: u8) -> i32:
    s: Shape
    for i in range(u8(4)):
        s.corners[i].x = x + i32(i)
        s.corners[i].y = i32(i) * 2
    s.count = 4
    s.closed = x > 0
    t = s
    t.corners[k & 3].x = 0
    shapes[k & 1] = t
    shapes[k & 1].corners[0].y += 7
    total: i32 = 0
    for i in range(u8(4)):
        total += s.corners[i].x - t.corners[i].x + shapes[k & 1].corners[i].y
    return total + (1 if s.closed else 0)


def struct_sizes() -> u32:
    return u32(sizeof(Point) + sizeof(Shape) * 100)


# ----- panics ------------------------------------------------------------------------------------

def assert_positive(x: i32) -> i32:
    assert x > 0, "x must be positive"
    return x


def explicit_panic(x: u8) -> u8:
    if x == 13:
        panic("unlucky")
    return x


def divide(a: i64, b: i64) -> i64:
    return a // b


def remainder(a: u16, b: u16) -> u16:
    return a % b


def shift_by(a: i32, n: i32) -> i32:
    return a << n


def negate(x: i8) -> i8:
    return -x


def conversions(x: i64) -> u32:
    return u32(i8(x)) + u32(u16(x)) + u32(x)


def bool_to_int(b: bool) -> u8:
    return u8(b) + u8(not b) * 2


def unit(x: u8) -> None:
    global counter
    counter = u32(x)


def read_counter() -> u32:
    return counter


# ----- constants whose type comes from their context ---------------------------------------------

def mask_bits(n: u8) -> u64:
    m: u64 = (1 << (n & 63)) - 1
    return m | (1 << (n & 7))


def signed_index(i: i8) -> u8:
    small: Array[u8, 4]
    small[i] = 3
    return small[i] + 1


def literal_left(x: i16) -> i16:
    return 100 - x * 2


def const_compare(x: u8) -> bool:
    return 3 < x


def deep_panic(n: u8) -> u32:
    if n == 0:
        return u32(1) // u32(n)
    return deep_panic(n - 1) + 1


# ----- aggregates as values: parameters, results, whole-array and global assignment ----------------

last_point: Point
saved: Array[u16, 3]


def _moved(p: Point) -> i32:
    p.x = 5
    return p.x + p.y


def _make(v: i32) -> Point:
    q: Point
    q.x = v
    q.y = -v
    return q


def struct_by_value(v: i32) -> i32:
    q = _make(v)
    r = _moved(q)
    return q.x - r + q.y


def array_assignment(v: u16) -> u16:
    a: Array[u16, 3]
    a[0] = v
    b = a
    b[0] = 7
    global saved
    saved = a
    saved[1] = 9
    return a[0] + b[0] + a[1] + saved[0]


def global_struct(v: i32) -> i32:
    global last_point
    q: Point
    q.x = v
    last_point = q
    q.x = 0
    return last_point.x - q.x
