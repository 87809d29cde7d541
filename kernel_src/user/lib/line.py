"""Line editing for the shell: the state machine that turns typed bytes into a line and what to echo.

``feed`` takes one typed byte and says what the caller must do (echo it,
erase characters, finish the line, ...). Backspace (DEL or BS) erases one
character, Ctrl-U the whole line, Ctrl-C abandons it, Ctrl-D on an empty
line is end of input, Enter (CR or LF; the LF of a CR LF pair is ignored)
ends the line. The editor is a module global with index-only functions, so
it also runs under CPython (kcc.load_python) in the tests.
"""

from kcc.lang import *

LINE_MAX: Final = 200           # bytes of one line, NUL excluded

ACT_NONE: Final = 0             # nothing to show (an ignored byte, or a full line)
ACT_ECHO: Final = 1             # echo the byte
ACT_ERASE: Final = 2            # erase erased() characters from the screen ("\b \b" each)
ACT_ENTER: Final = 3            # the line is complete: text() holds it
ACT_INTR: Final = 4             # Ctrl-C: the line is abandoned
ACT_EOF: Final = 5              # Ctrl-D on an empty line

_CTRL_C: Final = 3
_CTRL_D: Final = 4
_BS: Final = 8
_LF: Final = 10
_CR: Final = 13
_CTRL_U: Final = 21
_DEL: Final = 127

_buf: Array[u8, LINE_MAX + 1]
_len: usize = 0
_erased: usize = 0
_after_cr: bool = False


def reset() -> None:
    """Start a new, empty line."""
    global _len, _erased
    _len = 0
    _erased = 0
    _buf[0] = 0


def feed(c: u8) -> u32:
    """Take one typed byte; return the ACT_* the caller must carry out."""
    global _len, _erased, _after_cr
    after_cr = _after_cr
    _after_cr = c == _CR
    if c == _CR or (c == _LF and not after_cr):
        _buf[_len] = 0
        return ACT_ENTER
    if c == _LF:
        return ACT_NONE
    if c == _CTRL_C:
        reset()
        return ACT_INTR
    if c == _CTRL_D:
        return ACT_EOF if _len == 0 else ACT_NONE
    if c == _DEL or c == _BS:
        if _len == 0:
            return ACT_NONE
        _len -= 1
        _erased = 1
        return ACT_ERASE
    if c == _CTRL_U:
        _erased = _len
        _len = 0
        return ACT_ERASE if _erased != 0 else ACT_NONE
    if c < 0x20 or _len == LINE_MAX:
        return ACT_NONE
    _buf[_len] = c
    _len += 1
    return ACT_ECHO


def erased() -> usize:
    """How many characters the last ACT_ERASE removed."""
    return _erased


def length() -> usize:
    """Bytes in the line."""
    return _len


def char_at(i: usize) -> u8:
    """Byte ``i`` of the line (0 at its end)."""
    if i >= _len:
        return 0
    return _buf[i]


def text() -> Ptr[u8]:
    """The finished line, NUL-terminated (valid after ACT_ENTER until the next feed or reset)."""
    return addr(_buf[0])
