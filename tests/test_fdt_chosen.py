"""lib/fdt.py's /chosen readers on the device tree QEMU really builds (``-M virt,dumpdtb=``), compiled for the host.

QEMU writes ``linux,initrd-start``/``-end`` for ``-initrd`` and ``bootargs``
for ``-append`` into /chosen; the blob it dumps is what the kernel reads in
a1 at boot. A small wrapper module gives the readers integer-only entry points
for kcc.load_host.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from kcc import load_host
from kcc.boards import load_board

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
BOARD = load_board("qemu-virt")

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                                reason="qemu-system-riscv64 is not installed (make qemu-deps)")

WRAPPER = '''\
"""Integer-only entry points to lib/fdt.py's /chosen readers for tests/test_fdt_chosen.py."""

from kcc.lang import *

from lib import fdt
from lib.memmap import MemRegion

NONE: Final[u64] = 0xFFFF_FFFF_FFFF_FFFF


def initrd_base(dtb: usize) -> u64:
    """The initrd's start, NONE when chosen_initrd() finds none."""
    r: MemRegion
    if not fdt.chosen_initrd(dtb, addr(r)):
        return NONE
    return u64(r.base)


def initrd_size(dtb: usize) -> u64:
    """The initrd's size in bytes, NONE when chosen_initrd() finds none."""
    r: MemRegion
    if not fdt.chosen_initrd(dtb, addr(r)):
        return NONE
    return u64(r.size)


def bootargs_byte(dtb: usize, i: usize) -> u8:
    """Byte ``i`` of the command line chosen_bootargs() returns."""
    return fdt.chosen_bootargs(dtb)[i]
'''


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fdt")
    (root / "lib").mkdir()
    for name in ("fdt.py", "string.py", "memmap.py"):
        shutil.copy(KERNEL_SRC / "lib" / name, root / "lib" / name)
    (root / "probe.py").write_text(WRAPPER, encoding="utf-8")
    return load_host(root / "probe.py", root=root)


def _dump(tmp_path: Path, *args: str) -> ctypes.Array:
    """The DTB QEMU virt builds with ``args``, in an 8-byte-aligned buffer (keep it alive while reading)."""
    dtb = tmp_path / "virt.dtb"
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(b"\0" * 16)
    subprocess.run(["qemu-system-riscv64", "-M", f"virt,dumpdtb={dtb}", "-m", BOARD.qemu.memory, "-bios", "none",
                    "-nographic", "-kernel", str(kernel), *args], check=True, capture_output=True, timeout=60)
    data = dtb.read_bytes()
    buf = (ctypes.c_uint64 * ((len(data) + 7) // 8))()
    ctypes.memmove(buf, data, len(data))
    return buf


def _bootargs(reader, dtb: int) -> bytes:
    out = bytearray()
    while (b := reader.bootargs_byte(dtb, len(out))) != 0:
        out.append(b)
    return bytes(out)


def test_initrd_and_bootargs(reader, tmp_path: Path) -> None:
    image = tmp_path / "initrd.cpio"
    image.write_bytes(b"0707" * 1000 + b"xyz")
    buf = _dump(tmp_path, "-initrd", str(image), "-append", "init=systest console=x")
    dtb = ctypes.addressof(buf)
    assert reader.initrd_size(dtb) == 4003
    base = reader.initrd_base(dtb)
    ram = BOARD.code_constants["RAM_BASE"]
    assert ram <= base and base + 4003 <= ram + BOARD.code_constants["RAM_SIZE"]
    assert _bootargs(reader, dtb) == b"init=systest console=x"


def test_no_initrd_and_no_command_line(reader, tmp_path: Path) -> None:
    buf = _dump(tmp_path)
    dtb = ctypes.addressof(buf)
    assert reader.initrd_base(dtb) == reader.initrd_size(dtb) == 0xFFFF_FFFF_FFFF_FFFF
    assert _bootargs(reader, dtb) == b""


def test_not_a_device_tree(reader) -> None:
    buf = (ctypes.c_uint64 * 16)()
    dtb = ctypes.addressof(buf)
    assert reader.initrd_size(dtb) == 0xFFFF_FFFF_FFFF_FFFF
    assert _bootargs(reader, dtb) == b""
