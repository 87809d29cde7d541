"""Paths for the shell and programs: make a path absolute against a current directory, resolving "." and "..".

The shell keeps its current directory as an absolute path and resolves
every path argument with ``resolve`` before it goes to the file system,
which takes absolute paths only.
"""

from kcc.lang import *

PATH_MAX: Final = 255


def _append(out: Ptr[u8], length: usize, comp: Ptr[u8], n: usize) -> usize:
    """Apply component ``comp`` (``n`` bytes) to the absolute path of ``length`` bytes in ``out``; the new length.

    "." changes nothing, ".." drops the last component (the root stays the
    root), anything else is appended after a "/". PATH_MAX + 1 means it
    does not fit.
    """
    if n == 0 or (n == 1 and comp[0] == 0x2E):
        return length
    if n == 2 and comp[0] == 0x2E and comp[1] == 0x2E:
        while length > 0 and out[length - 1] != 0x2F:
            length -= 1
        if length > 0:
            length -= 1
        return length
    if length + 1 + n > PATH_MAX:
        return PATH_MAX + 1
    out[length] = 0x2F
    for i in range(usize(0), n):
        out[length + 1 + i] = comp[i]
    return length + 1 + n


def _walk(out: Ptr[u8], length: usize, text: Ptr[u8]) -> usize:
    """Apply every "/"-separated component of ``text`` to ``out``; the new length (PATH_MAX + 1: too long)."""
    i: usize = 0
    while text[i] != 0:
        while text[i] == 0x2F:
            i += 1
        start = i
        while text[i] != 0 and text[i] != 0x2F:
            i += 1
        length = _append(out, length, text + start, i - start)
        if length > PATH_MAX:
            return length
    return length


def resolve(cwd: Ptr[u8], arg: Ptr[u8], out: Ptr[u8]) -> bool:
    """Write the absolute form of ``arg`` (relative to the absolute ``cwd`` unless it starts with "/") to ``out``.

    ``out`` holds PATH_MAX + 1 bytes. False when the result is longer than
    PATH_MAX (``out`` then holds "/").
    """
    length: usize = 0
    if arg[0] != 0x2F:
        length = _walk(out, 0, cwd)
    if length <= PATH_MAX:
        length = _walk(out, length, arg)
    fits = length <= PATH_MAX
    if not fits or length == 0:
        out[0] = 0x2F
        length = 1
    out[length] = 0
    return fits
