"""kernel_src/lib/cpio.py compiled for the host: finds what kcc.initrd packs, never reads outside the archive.

The archive is placed so that it ends exactly where a PROT_NONE page begins:
a read past its last byte kills the process with SIGSEGV instead of passing
unnoticed. The parser is reached through a small kcc wrapper whose functions
take and return integers only (kcc.load_host calls those), built in a copy of
the library next to it.
"""

from __future__ import annotations

import ctypes
import mmap
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcc import initrd, load_host

KERNEL_LIB = Path(__file__).resolve().parent.parent / "kernel_src" / "lib"
PAGE = mmap.PAGESIZE
PROT_NONE = 0   # POSIX <sys/mman.h>; Python's mmap module exports only PROT_READ, PROT_WRITE and PROT_EXEC

WRAPPER = '''\
"""Integer-only entry points to lib/cpio.py for tests/test_cpio.py."""

from kcc.lang import *

from lib import cpio


def offset(archive: usize, size: usize, name: usize) -> isize:
    """The offset of member ``name``'s data in the archive, -1 when find() says it is not there."""
    f: cpio.CpioFile
    if not cpio.find(archive, size, cast(Ptr[u8], name), addr(f)):
        return -1
    return isize(f.data - archive)


def length(archive: usize, size: usize, name: usize) -> isize:
    """The size of member ``name``, -1 when find() says it is not there."""
    f: cpio.CpioFile
    if not cpio.find(archive, size, cast(Ptr[u8], name), addr(f)):
        return -1
    return isize(f.size)
'''


@pytest.fixture(scope="module")
def parser(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cpio")
    (root / "lib").mkdir()
    shutil.copy(KERNEL_LIB / "cpio.py", root / "lib" / "cpio.py")
    (root / "probe.py").write_text(WRAPPER, encoding="utf-8")
    return load_host(root / "probe.py", root=root, checked=True)


class Guarded:
    """Anonymous memory whose last page is PROT_NONE; ``place`` puts bytes right before it."""

    def __init__(self, pages: int) -> None:
        self.size = pages * PAGE
        self.map = mmap.mmap(-1, self.size + PAGE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        if libc.mprotect(self.base + self.size, PAGE, PROT_NONE) != 0:
            raise OSError(ctypes.get_errno(), "mprotect")

    def place(self, data: bytes) -> int:
        """Copy ``data`` so that it ends at the guard page; return its address."""
        assert len(data) <= self.size
        start = self.size - len(data)
        self.map[start:self.size] = data
        return self.base + start


@pytest.fixture(scope="module")
def memory() -> Iterator[Guarded]:
    yield Guarded(16)


def _lookup(parser, memory: Guarded, archive: bytes, name: str) -> tuple[int, int]:
    address = memory.place(archive)
    text = ctypes.create_string_buffer(name.encode("utf-8"))
    at = ctypes.addressof(text)
    return parser.offset(address, len(archive), at), parser.length(address, len(archive), at)


def test_finds_every_member(parser, memory: Guarded) -> None:
    files = {"init": b"\x7fELF....", "systest": bytes(range(256)) * 5, "empty": b""}
    archive = initrd.pack(files)
    for name, data in files.items():
        off, size = _lookup(parser, memory, archive, name)
        assert size == len(data)
        assert archive[off:off + size] == data
        assert off % 4 == 0


@pytest.mark.parametrize("name", ["ini", "initx", "", "TRAILER!!!", "./init"])
def test_other_names_are_not_found(parser, memory: Guarded, name: str) -> None:
    archive = initrd.pack({"init": b"abc", "./x": b"d"})
    assert _lookup(parser, memory, archive, name) == (-1, -1)


def test_the_checksum_format_is_read_too(parser, memory: Guarded) -> None:
    archive = bytearray(initrd.pack({"init": b"abcd"}))
    archive[5] = ord("2")   # 070702: newc with a checksum, which find() does not verify
    assert _lookup(parser, memory, bytes(archive), "init")[1] == 4


@pytest.mark.parametrize("cut", [0, 1, 109, 110, 114, 115, 116, 119, 120])
def test_a_truncated_archive_finds_nothing_it_cannot_hold(parser, memory: Guarded, cut: int) -> None:
    # "init" + NUL ends the name at 115, the data starts at 116 and ends at 120.
    archive = initrd.pack({"init": b"abcd"})[:cut]
    assert _lookup(parser, memory, archive, "init") == ((116, 4) if cut >= 120 else (-1, -1))


@pytest.mark.parametrize("field,value", [(6, b"FFFFFFFF"), (11, b"FFFFFFFF"), (11, b"00000000"), (6, b"0000000g"),
                                         (0, b"07070X")])
def test_bad_fields_find_nothing(parser, memory: Guarded, field: int, value: bytes) -> None:
    archive = bytearray(initrd.pack({"init": b"abcd"}))
    start = 0 if field == 0 else 6 + 8 * field
    archive[start:start + len(value)] = value
    assert _lookup(parser, memory, bytes(archive), "init") == (-1, -1)


def test_a_name_without_its_nul_finds_nothing(parser, memory: Guarded) -> None:
    archive = bytearray(initrd.pack({"init": b"abcd"}))
    archive[114] = ord("x")
    assert _lookup(parser, memory, bytes(archive), "init") == (-1, -1)


names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12).filter(
    lambda n: n != initrd.TRAILER)
members = st.dictionaries(names, st.binary(max_size=300), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(files=members, other=names)
def test_agrees_with_the_packer(parser, memory: Guarded, files: dict[str, bytes], other: str) -> None:
    archive = initrd.pack(files)
    for name, data in files.items():
        off, size = _lookup(parser, memory, archive, name)
        assert archive[off:off + size] == data
    if other not in files:
        assert _lookup(parser, memory, archive, other) == (-1, -1)


@settings(max_examples=300, deadline=None)
@given(files=members, edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
       cut=st.integers(min_value=0), query=st.integers(min_value=0))
def test_a_corrupt_archive_is_never_read_outside(parser, memory: Guarded, files: dict[str, bytes],
                                                  edits: list[tuple[int, int]], cut: int, query: int) -> None:
    archive = bytearray(initrd.pack(files))
    for where, byte in edits:
        archive[where % len(archive)] = byte
    archive = archive[:cut % (len(archive) + 1)]
    name = sorted(files)[query % len(files)]
    # Reaching here at all means no read crossed into the guard page; a hit must lie inside the archive.
    off, size = _lookup(parser, memory, bytes(archive), name)
    if off != -1:
        assert 0 <= off and off + size <= len(archive)
