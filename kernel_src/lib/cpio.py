"""Find a file in a cpio "newc" archive in memory (the initrd), never reading outside the archive.

Format (cpio(5), "New ASCII Format"; the Linux initramfs buffer format uses
the same): each member is a 110-byte header of ASCII text, its path name, its
data, then the next member; the archive ends with a member named
``TRAILER!!!``. The header is the magic ``070701`` (``070702``: the same with
a checksum, which is not verified here) and thirteen fields of eight hex
digits: ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
rdevmajor, rdevminor, namesize (counting the name's NUL) and check. NUL bytes
pad header + name to a multiple of four bytes, and likewise the data.

Every offset is checked against the archive's size before it is used, so a
truncated or corrupt archive gives "not found", never a read past its end.
"""

from kcc.lang import *

HEADER_SIZE: Final = 110
_MAGIC_LEN: Final = 6
_OFF_FILESIZE: Final = 54       # the seventh field: 6 + 6 * 8
_OFF_NAMESIZE: Final = 94       # the twelfth field: 6 + 11 * 8
_FIELD_DIGITS: Final = 8
# What _hex_field returns for a field that is not eight hex digits: above every valid value.
_BAD_FIELD: Final[u64] = 1 << 32


@struct
class CpioFile:
    """Where a member's bytes are: ``data`` the address of the first, ``size`` how many."""

    data: usize
    size: usize


def _hex_field(p: Ptr[u8]) -> u64:
    """The value of the eight hex digits at ``p`` (either case), or _BAD_FIELD if one is not a hex digit."""
    v: u64 = 0
    for i in range(u32(0), _FIELD_DIGITS):
        c = p[i]
        if 0x30 <= c <= 0x39:           # '0'..'9'
            d = u64(c - 0x30)
        elif 0x61 <= c <= 0x66:         # 'a'..'f'
            d = u64(c - 0x61 + 10)
        elif 0x41 <= c <= 0x46:         # 'A'..'F'
            d = u64(c - 0x41 + 10)
        else:
            return _BAD_FIELD
        v = (v << 4) | d
    return v


def _magic_ok(p: Ptr[u8]) -> bool:
    """True when the six bytes at ``p`` are "070701" or "070702"."""
    expected = "07070"
    for i in range(u32(0), _MAGIC_LEN - 1):
        if p[i] != expected[i]:
            return False
    return p[_MAGIC_LEN - 1] == 0x31 or p[_MAGIC_LEN - 1] == 0x32


def _padding(offset: usize) -> usize:
    """The NUL bytes that bring ``offset`` to a multiple of four."""
    return (4 - (offset & 3)) & 3


def _name_is(stored: Ptr[u8], stored_len: usize, name: Ptr[u8]) -> bool:
    """True when the ``stored_len`` bytes at ``stored`` (NUL excluded) are exactly the string ``name``."""
    i: usize = 0
    while i < stored_len:
        # name's NUL ends the comparison before name is read past it (a stored name may hold a NUL).
        if name[i] == 0 or name[i] != stored[i]:
            return False
        i += 1
    return name[stored_len] == 0


def find(archive: usize, archive_size: usize, name: Ptr[u8], out: Ptr[CpioFile]) -> bool:
    """Look up the member called ``name`` in the newc archive of ``archive_size`` bytes at ``archive``.

    On success fills ``out`` (its data's address inside the archive and its
    size in bytes) and returns True. Returns False when no member has that
    name before the trailer, and also when the archive is malformed before
    the member is reached: a bad magic, a field that is not hex, a name
    without its NUL, or a name or data that would end past ``archive_size``.
    The names compare byte for byte ("init" does not match "./init").
    """
    off: usize = 0
    while archive_size - off >= HEADER_SIZE:
        header = cast(Ptr[u8], archive + off)
        if not _magic_ok(header):
            return False
        filesize = _hex_field(header + _OFF_FILESIZE)
        namesize = _hex_field(header + _OFF_NAMESIZE)
        if filesize == _BAD_FIELD or namesize == _BAD_FIELD or namesize == 0:
            return False
        name_off = off + HEADER_SIZE
        room = archive_size - name_off
        # Compared as u64 so that a 32-bit usize cannot wrap; room is at most archive_size.
        if namesize > u64(room):
            return False
        stored = cast(Ptr[u8], archive + name_off)
        stored_len = usize(namesize) - 1
        if stored[stored_len] != 0:
            return False
        name_end = name_off + usize(namesize)
        data_off = name_end + _padding(name_end)
        if data_off > archive_size or filesize > u64(archive_size - data_off):
            return False
        if _name_is(stored, stored_len, "TRAILER!!!"):
            return False
        if _name_is(stored, stored_len, name):
            out.data = archive + data_off
            out.size = usize(filesize)
            return True
        data_end = data_off + usize(filesize)
        if _padding(data_end) > archive_size - data_end:
            return False
        off = data_end + _padding(data_end)
    return False
