"""wc: count the lines, words and bytes of files (absolute paths, or relative to /) read through the file system."""

from kcc.lang import *

from lib import abi
from user.lib import fsc, path, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

_buf: Array[u8, 256]
_path: Array[u8, path.PATH_MAX + 1]


def _count(name: Ptr[u8]) -> bool:
    """Print "lines words bytes name" for one file; False (and a message) when it cannot be read."""
    path.resolve("/", name, addr(_path[0]))
    fd: usize = 0
    err = fsc.open(addr(_path[0]), 0, addr(fd))
    if err != abi.OK:
        tty.printf("wc: %s: %s\n", usize(name), usize(fsc.error_text(err)))
        return False
    lines: usize = 0
    words: usize = 0
    total: usize = 0
    in_word = False
    n: usize = 0
    while fsc.read(fd, addr(_buf[0]), 256, addr(n)) == abi.OK and n != 0:
        for i in range(usize(0), n):
            c = _buf[i]
            if c == 0x0A:
                lines += 1
            blank = c == 0x20 or c == 0x09 or c == 0x0A or c == 0x0D
            if not blank and not in_word:
                words += 1
            in_word = not blank
        total += n
    fsc.close(fd)
    tty.printf("%7u %7u %7u %s\n", lines, words, total, usize(name))
    return True


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Count each file named on the command line; exit status 1 if one could not be read, 2 without any."""
    args = cast(Ptr[usize], argv)
    if argc < 2:
        tty.puts("usage: wc FILE...\n")
        return 2
    status: usize = 0
    for i in range(usize(1), argc):
        if not _count(cast(Ptr[u8], args[i])):
            status = 1
    return status
