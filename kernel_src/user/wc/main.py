"""wc: count the lines, words and bytes of files (paths relative to /), or of its input (a pipe: ``echo a b | wc``).

Without a file it reads its console until the end of the input (a pipe's
writer ended) or a Ctrl-D typed at the keyboard.
"""

from kcc.lang import *

from lib import abi
from user.lib import fsc, path, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

_buf: Array[u8, 256]
_path: Array[u8, path.PATH_MAX + 1]
_lines: usize = 0
_words: usize = 0
_bytes: usize = 0
_in_word: bool = False
_CTRL_D: Final = 4


def _feed(n: usize) -> None:
    """Count the ``n`` bytes in _buf."""
    global _lines, _words, _bytes, _in_word
    for i in range(usize(0), n):
        c = _buf[i]
        if c == 0x0A:
            _lines += 1
        blank = c == 0x20 or c == 0x09 or c == 0x0A or c == 0x0D
        if not blank and not _in_word:
            _words += 1
        _in_word = not blank
    _bytes += n


def _reset() -> None:
    """Start counting a new input."""
    global _lines, _words, _bytes, _in_word
    _lines = 0
    _words = 0
    _bytes = 0
    _in_word = False


def _count_input() -> None:
    """Count the console input up to its end (or Ctrl-D) and print "lines words bytes"."""
    _reset()
    while True:
        n = tty.read(addr(_buf[0]), 32, False)
        if n == 0:
            break
        ended = False
        for i in range(usize(0), n):
            if _buf[i] == _CTRL_D:
                n = i
                ended = True
                break
        _feed(n)
        if ended:
            break
    tty.printf("%7u %7u %7u\n", _lines, _words, _bytes)


def _count(name: Ptr[u8]) -> bool:
    """Print "lines words bytes name" for one file; False (and a message) when it cannot be read."""
    path.resolve("/", name, addr(_path[0]))
    fd: usize = 0
    err = fsc.open(addr(_path[0]), 0, addr(fd))
    if err != abi.OK:
        tty.printf("wc: %s: %s\n", usize(name), usize(fsc.error_text(err)))
        return False
    _reset()
    n: usize = 0
    while fsc.read(fd, addr(_buf[0]), 256, addr(n)) == abi.OK and n != 0:
        _feed(n)
    fsc.close(fd)
    tty.printf("%7u %7u %7u %s\n", _lines, _words, _bytes, usize(name))
    return True


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Count each file named on the command line, or the input without one; exit status 1 if one could not be read."""
    args = cast(Ptr[usize], argv)
    if argc < 2:
        _count_input()
        return 0
    status: usize = 0
    for i in range(usize(1), argc):
        if not _count(cast(Ptr[u8], args[i])):
            status = 1
    return status
