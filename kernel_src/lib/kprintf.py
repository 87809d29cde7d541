"""Formatted output for the kernel: kprintf to the console, ksnprintf into a buffer.

Conversions: %d (argument reinterpreted as signed), %u, %x, %X, %p (0x and
all hex digits of a pointer), %s (NULL prints "(null)"), %c, %%. Flags '-'
(left-justify) and '0' (zero padding, numbers only, ignored with '-'), then a
decimal field width; 'l' and 'z' length modifiers are accepted and ignored
because every argument is a usize. The language has no varargs, so each
function takes up to six formatting arguments (``Arg``): integers of any width,
bools, pointers and strings, passed as they are and converted as usize(x)
would (signed values sign-extend, so %d prints them). The functions are
``@printf_like``: a constant format is checked against the arguments where
the call is compiled (language.md, "Checked format strings").
"""

from kcc.lang import *

from arch import console

_PERCENT: Final = 0x25
_MINUS: Final = 0x2D
_ZERO: Final = 0x30
_NINE: Final = 0x39
_SPACE: Final = 0x20
_NEWLINE: Final = 0x0A
_RETURN: Final = 0x0D


@struct
class Sink:
    """Where formatted bytes go: the console when ``buf`` is NULL, else ``buf`` of ``cap`` bytes."""

    buf: Ptr[u8]
    cap: usize
    length: usize   # bytes produced so far, including those that did not fit


def _emit(s: Ptr[Sink], c: u8) -> None:
    """Send one byte to the sink; a buffer keeps its last byte for the NUL terminator."""
    if s.buf == NULL:
        if c == _NEWLINE:
            console.putc(_RETURN)
        console.putc(c)
    elif s.length + 1 < s.cap:
        s.buf[s.length] = c
    s.length += 1


def _pad(s: Ptr[Sink], c: u8, n: u32) -> None:
    """Emit ``c`` ``n`` times."""
    for _ in range(n):
        _emit(s, c)


def _digit(d: usize, upper: bool) -> u8:
    """Return the ASCII digit for 0 <= d < 16."""
    if d < 10:
        return u8(d) + _ZERO
    if upper:
        return u8(d - 10) + 0x41
    return u8(d - 10) + 0x61


def _number(s: Ptr[Sink], value: usize, base: usize, negative: bool, width: u32,
            left: bool, zero: bool, upper: bool) -> None:
    """Emit ``value`` (the magnitude) in ``base`` with an optional '-' padded to ``width``."""
    ndigits: u32 = 1
    scale: usize = 1
    while value // scale >= base:
        scale *= base
        ndigits += 1
    total = ndigits
    if negative:
        total += 1
    fill: u32 = 0
    if width > total:
        fill = width - total
    if not left and not zero:
        _pad(s, _SPACE, fill)
    if negative:
        _emit(s, _MINUS)
    if zero and not left:
        _pad(s, _ZERO, fill)
    while scale > 0:
        _emit(s, _digit(value // scale % base, upper))
        scale //= base
    if left:
        _pad(s, _SPACE, fill)


def _string(s: Ptr[Sink], text: Ptr[u8], width: u32, left: bool) -> None:
    """Emit ``text`` padded with spaces to ``width``."""
    if text == NULL:
        text = "(null)"
    n: u32 = 0
    while text[n] != 0:
        n += 1
    fill: u32 = 0
    if width > n:
        fill = width - n
    if not left:
        _pad(s, _SPACE, fill)
    for i in range(n):
        _emit(s, text[i])
    if left:
        _pad(s, _SPACE, fill)


def _arg(index: u32, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> usize:
    """Return argument number ``index`` (0-based); 0 past the sixth."""
    if index == 0:
        return a
    if index == 1:
        return b
    if index == 2:
        return c
    if index == 3:
        return d
    if index == 4:
        return e
    if index == 5:
        return f
    return 0


@printf_like("fmt")
def format_to(s: Ptr[Sink], fmt: Ptr[u8], a: Arg = 0, b: Arg = 0, c: Arg = 0,
              d: Arg = 0, e: Arg = 0, f: Arg = 0) -> None:
    """Format ``fmt`` with the arguments into sink ``s`` (conversions in the module docstring).

    An unknown conversion is copied through with its '%'; a '%' at the end
    of ``fmt`` is dropped.
    """
    i: usize = 0
    argn: u32 = 0
    while fmt[i] != 0:
        ch = fmt[i]
        i += 1
        if ch != _PERCENT:
            _emit(s, ch)
            continue
        left = False
        zero = False
        while fmt[i] == _MINUS or fmt[i] == _ZERO:
            if fmt[i] == _MINUS:
                left = True
            else:
                zero = True
            i += 1
        width: u32 = 0
        while _ZERO <= fmt[i] <= _NINE:
            width = width * 10 + u32(fmt[i] - _ZERO)
            i += 1
        while fmt[i] == 0x6C or fmt[i] == 0x7A:     # 'l', 'z'
            i += 1
        conv = fmt[i]
        if conv == 0:
            break
        i += 1
        if conv == _PERCENT:
            _emit(s, _PERCENT)
            continue
        if conv == 0x64:        # 'd'
            v = isize(_arg(argn, a, b, c, d, e, f))
            argn += 1
            if v < 0:
                # 0 - v in unsigned arithmetic: correct even for the most negative value.
                _number(s, usize(0) - usize(v), 10, True, width, left, zero, False)
            else:
                _number(s, usize(v), 10, False, width, left, zero, False)
        elif conv == 0x75:      # 'u'
            _number(s, _arg(argn, a, b, c, d, e, f), 10, False, width, left, zero, False)
            argn += 1
        elif conv == 0x78:      # 'x'
            _number(s, _arg(argn, a, b, c, d, e, f), 16, False, width, left, zero, False)
            argn += 1
        elif conv == 0x58:      # 'X'
            _number(s, _arg(argn, a, b, c, d, e, f), 16, False, width, left, zero, True)
            argn += 1
        elif conv == 0x70:      # 'p'
            _emit(s, _ZERO)
            _emit(s, 0x78)
            _number(s, _arg(argn, a, b, c, d, e, f), 16, False, u32(sizeof(usize) * 2), False, True, False)
            argn += 1
        elif conv == 0x73:      # 's'
            _string(s, cast(Ptr[u8], _arg(argn, a, b, c, d, e, f)), width, left)
            argn += 1
        elif conv == 0x63:      # 'c'
            cfill: u32 = 0
            if width > 1:
                cfill = width - 1
            if not left:
                _pad(s, _SPACE, cfill)
            _emit(s, u8(_arg(argn, a, b, c, d, e, f)))
            if left:
                _pad(s, _SPACE, cfill)
            argn += 1
        else:
            _emit(s, _PERCENT)
            _emit(s, conv)


@printf_like("fmt")
def kprintf(fmt: Ptr[u8], a: Arg = 0, b: Arg = 0, c: Arg = 0,
            d: Arg = 0, e: Arg = 0, f: Arg = 0) -> usize:
    """Print ``fmt`` formatted with the arguments on the console; returns the bytes printed ('\\n' counts once)."""
    # A sink per call keeps kprintf reentrant: trap handlers print too.
    sink: Sink
    sink.buf = NULL
    sink.cap = 0
    sink.length = 0
    format_to(addr(sink), fmt, a, b, c, d, e, f)
    return sink.length


@printf_like("fmt")
def ksnprintf(buf: Ptr[u8], size: usize, fmt: Ptr[u8], a: Arg = 0, b: Arg = 0,
              c: Arg = 0, d: Arg = 0, e: Arg = 0, f: Arg = 0) -> usize:
    """Format into ``buf`` of ``size`` bytes, always NUL-terminated when size > 0.

    Returns the length the whole output has (as C's snprintf does), so a
    result >= size means the output was truncated.
    """
    sink: Sink
    sink.buf = buf
    sink.cap = size
    sink.length = 0
    format_to(addr(sink), fmt, a, b, c, d, e, f)
    if size > 0:
        if sink.length < size:
            buf[sink.length] = 0
        else:
            buf[size - 1] = 0
    return sink.length
