"""Formatted input: sscanf-style conversion of a text's integers and words into an array of 64-bit values.

The format's conversions are the counterpart of ksnprintf's output:

| conversion | reads | stores in the next ``out`` element |
| --- | --- | --- |
| ``%d`` | blanks, then a decimal integer with an optional sign | the i64 value as a u64 |
| ``%u`` | blanks, then an unsigned decimal integer | the value |
| ``%x`` | blanks, then a hexadecimal integer ("0x" allowed) | the value |
| ``%i`` | blanks, then a signed integer in C's bases ("0x" hex, "0" octal) | the i64 value as a u64 |
| ``%s``, ``%Ns`` | blanks, then a word (up to a blank), at most N bytes (WORD_MAX without N) | copies it, NUL-terminated, to the buffer whose address the element holds (N + 1 bytes) |
| ``%c`` | one byte, blank or not | the byte |
| ``%n`` | nothing | how many bytes of the text were read so far (not counted as a conversion) |
| ``%%`` | a "%" | nothing |

A blank in the format matches any run of blanks (also none); any other
byte must match itself. Scanning stops at the first byte or conversion that
does not match, at a number that does not fit 64 bits (i64 for %d, %i), at
an unknown conversion, or when ``out`` is full.
"""

from kcc.lang import *

from user.lib import text

WORD_MAX: Final = 31            # bytes a %s without a width copies at most

_PERCENT: Final = 0x25


def _blanks(s: Ptr[u8], i: usize) -> usize:
    """The position of the first byte at or after ``i`` that is not a blank."""
    while text.is_space(s[i]):
        i += 1
    return i


def _word(s: Ptr[u8], i: usize, width: usize, dst: Ptr[u8]) -> usize:
    """Copy the word at ``i`` (up to a blank or ``width`` bytes) to ``dst`` with a NUL; the bytes copied."""
    n: usize = 0
    while n < width and s[i + n] != 0 and not text.is_space(s[i + n]):
        dst[n] = s[i + n]
        n += 1
    dst[n] = 0
    return n


def sscanf(subject: Ptr[u8], fmt: Ptr[u8], out: Ptr[u64], count: usize) -> usize:
    """Convert ``subject`` as ``fmt`` says (the table above) into ``out[0..count)``; return the conversions stored.

    Each conversion but ``%%`` takes the next element; ``%n``'s is not
    counted in the result. For ``%s`` the caller puts the address of a
    buffer of at least width + 1 bytes in the element first. The result is
    less than the number of counted conversions in ``fmt`` when the text ran
    out or did not match; the elements from the failed one on are unchanged.
    """
    i: usize = 0
    f: usize = 0
    k: usize = 0                # the next element of out
    done: usize = 0             # conversions stored (%n's elements excluded)
    while fmt[f] != 0:
        c = fmt[f]
        if text.is_space(c):
            i = _blanks(subject, i)
            f += 1
            continue
        if c != _PERCENT or fmt[f + 1] == _PERCENT:
            if subject[i] != c:
                return done
            i += 1
            f += 2 if c == _PERCENT else 1
            continue
        f += 1
        width: usize = 0
        while fmt[f] >= 0x30 and fmt[f] <= 0x39:
            width = width * 10 + usize(fmt[f] - 0x30)
            f += 1
        conv = fmt[f]
        if conv != 0:
            f += 1
        if k == count:
            return done
        if conv == 0x6E:                                        # n
            out[k] = u64(i)
            k += 1
            continue
        used: usize = 0
        value: u64 = 0
        if conv == 0x63:                                        # c
            value = u64(subject[i])
            used = 0 if subject[i] == 0 else 1
        elif conv == 0x73:                                      # s
            i = _blanks(subject, i)
            if subject[i] != 0:
                used = _word(subject, i, width if width != 0 else WORD_MAX, cast(Ptr[u8], usize(out[k])))
            value = out[k]
        elif conv == 0x64 or conv == 0x69:                      # d, i
            i = _blanks(subject, i)
            v: i64 = 0
            used = text.to_i64(subject + i, 10 if conv == 0x64 else 0, addr(v))
            value = u64(v)
        elif conv == 0x75 or conv == 0x78:                      # u, x
            i = _blanks(subject, i)
            used = text.to_u64(subject + i, 10 if conv == 0x75 else 16, addr(value))
        if used == 0:
            return done
        out[k] = value
        i += used
        k += 1
        done += 1
    return done
