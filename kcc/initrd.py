"""The initial RAM disk: a cpio archive in the "newc" format, written and read back.

Format (cpio(5), "New ASCII Format"; also the Linux initramfs buffer format,
Documentation/driver-api/early-userspace/buffer-format.rst): each member is a
110-byte ASCII header (magic ``070701`` and thirteen 8-digit hex fields: ino,
mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
rdevminor, namesize including the NUL, check), the name and its NUL padded
to a multiple of four bytes, then the data padded to a multiple of four. A
member called ``TRAILER!!!`` ends the archive. The kernel reads it with
kernel_src/lib/cpio.py.

The archives are reproducible: every member is a regular file (mode 0100644)
with mtime 0, uid and gid 0 and an inode number that is its position.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

MAGIC = b"070701"
HEADER_SIZE = 110
TRAILER = "TRAILER!!!"
_REGULAR_FILE = 0o100644
_FIELDS = 13


class InitrdError(Exception):
    """A member cannot be stored (bad name, too large) or an archive cannot be read; the message says which."""


def _pad4(n: int) -> bytes:
    """The NUL bytes that bring a length of ``n`` to a multiple of four."""
    return b"\0" * (-n % 4)


def _member(ino: int, name: str, data: bytes, mode: int) -> bytes:
    """One member: header, name, NUL, padding, data, padding."""
    encoded = name.encode("utf-8") + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = MAGIC + b"".join(b"%08X" % f for f in fields)
    head = header + encoded
    return head + _pad4(len(head)) + data + _pad4(len(data))


def pack(files: dict[str, bytes]) -> bytes:
    """A newc archive holding ``files`` (name -> contents) in the order given, then the trailer.

    Raises:
        InitrdError: when a name is empty, holds a NUL or is the trailer's, or a file
            has 2**32 bytes or more (the size field has eight hex digits).
    """
    out = bytearray()
    for ino, (name, data) in enumerate(files.items(), start=1):
        if not name or "\0" in name or name == TRAILER:
            raise InitrdError(f"cannot store a member named {name!r} in a cpio archive")
        if len(data) >= 1 << 32:
            raise InitrdError(f"{name}: {len(data)} bytes do not fit a cpio newc member (at most 2**32 - 1)")
        out += _member(ino, name, data, _REGULAR_FILE)
    out += _member(0, TRAILER, b"", 0)
    return bytes(out)


def write(files: dict[str, bytes], out: Path) -> Path:
    """Write pack(files) to ``out``, leaving the file untouched when it already holds those bytes.

    Keeping an unchanged archive's timestamp spares whatever depends on it.

    Raises:
        InitrdError: as pack.
    """
    archive = pack(files)
    if not (out.is_file() and out.read_bytes() == archive):
        out.write_bytes(archive)
    return out


def _members(archive: bytes | mmap.mmap) -> Iterator[tuple[str, int, int]]:
    """Each member of a newc archive up to its trailer: its name, and its data's offset and size.

    Raises:
        InitrdError: when the archive is truncated, a magic or field is wrong, or the trailer is missing.
    """
    off = 0
    while True:
        header = archive[off:off + HEADER_SIZE]
        if len(header) < HEADER_SIZE:
            raise InitrdError(f"cpio archive truncated at offset {off}: no trailer")
        if header[:6] not in (b"070701", b"070702"):
            raise InitrdError(f"bad cpio magic {header[:6]!r} at offset {off}")
        try:
            fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(_FIELDS)]
        except ValueError:
            raise InitrdError(f"a cpio header field at offset {off} is not hexadecimal") from None
        filesize, namesize = fields[6], fields[11]
        name_end = off + HEADER_SIZE + namesize
        raw_name = archive[off + HEADER_SIZE:name_end]
        if namesize == 0 or len(raw_name) != namesize or raw_name[-1:] != b"\0":
            raise InitrdError(f"bad cpio member name at offset {off}")
        name = raw_name[:-1].decode("utf-8", errors="replace")
        data_off = name_end + (-name_end % 4)
        if filesize and data_off + filesize > len(archive):
            raise InitrdError(f"cpio member {name!r} truncated at offset {data_off}")
        if name == TRAILER:
            return
        yield name, data_off, filesize
        off = data_off + filesize + (-filesize % 4)


def unpack(archive: bytes) -> dict[str, bytes]:
    """The members of a newc archive up to its trailer, name -> contents.

    Raises:
        InitrdError: when the archive is truncated, a magic or field is wrong, or the trailer is missing.
    """
    return {name: archive[off:off + size] for name, off, size in _members(archive)}


def member_names(path: Path) -> list[str]:
    """The names of the members of the archive file ``path`` up to its trailer, in order.

    The file is mapped rather than read, so only the pages of its headers are touched: listing a
    5 MB initrd reads a few of its pages instead of copying all of it.

    Raises:
        InitrdError: as unpack. OSError: when the file cannot be opened.
    """
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return [name for name, _, _ in _members(b"")]  # mmap cannot map an empty file
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as archive:
            return [name for name, _, _ in _members(archive)]
