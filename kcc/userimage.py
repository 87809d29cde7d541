"""The flat user-program image: a linked user ELF -> header + text..data bytes (kernel_src/lib/uimage.py).

The kernel knows no executable format; it starts init from this image. The
header's numbers (MAGIC, VERSION, HEADER_SIZE) are read from the source
root's ``lib/uimage.py`` with kcc.load_python, so the kernel and this writer
share one definition; the field layout is that module's ``UserImage``
struct, packed here as ``HEADER_FORMAT``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import P_FLAGS, SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from kcc.pyload import load_python

# UserImage's fields in order, little-endian: magic, version (u32), entry, base, text_size, rodata_size,
# data_size, bss_size (u64). C layout needs no padding between them.
HEADER_FORMAT = "<IIQQQQQQ"
# The link-script symbols (linker/user-<arch>.ld.j2) that bound each part of the image.
BOUNDS = ("__text_start", "__rodata_start", "__data_start", "__data_end", "__bss_end")


class UserImageError(Exception):
    """The user ELF cannot be turned into a flat image; the message names the file and the reason."""


@dataclass(frozen=True)
class ImageLayout:
    """The header's values for one program (bytes; addresses virtual)."""

    entry: int
    base: int
    text_size: int
    rodata_size: int
    data_size: int
    bss_size: int

    @property
    def file_size(self) -> int:
        """Bytes after the header in the image file: text, rodata and initialised data."""
        return self.text_size + self.rodata_size + self.data_size


@dataclass(frozen=True)
class HeaderFormat:
    """The numbers the kernel checks, from lib/uimage.py: magic, version, header size in bytes."""

    magic: int
    version: int
    header_size: int


def header_format(src_root: Path) -> HeaderFormat:
    """Read MAGIC, VERSION and HEADER_SIZE from ``src_root/lib/uimage.py`` (run under CPython by load_python).

    Raises:
        UserImageError: when the module is missing, or its header size cannot hold HEADER_FORMAT.
    """
    path = src_root / "lib" / "uimage.py"
    if not path.is_file():
        raise UserImageError(f"{path} is missing: it defines the user-image header")
    module = load_python(path, root=src_root)
    fmt = HeaderFormat(int(module.MAGIC), int(module.VERSION), int(module.HEADER_SIZE))
    if fmt.header_size < struct.calcsize(HEADER_FORMAT):
        raise UserImageError(f"{path}: HEADER_SIZE {fmt.header_size} is smaller than the "
                             f"{struct.calcsize(HEADER_FORMAT)} bytes of UserImage")
    return fmt


def _symbols(elf: ELFFile, path: Path, names: tuple[str, ...]) -> dict[str, int]:
    """The values of the symbols ``names`` in ``elf``'s symbol table."""
    table = elf.get_section_by_name(".symtab")
    if not isinstance(table, SymbolTableSection):
        raise UserImageError(f"{path} has no symbol table")
    values = {}
    for name in names:
        found = table.get_symbol_by_name(name)
        if not found:
            raise UserImageError(f"{path} lacks the link-script symbol {name} (was it linked with "
                                 f"linker/user-<arch>.ld.j2?)")
        values[name] = found[0]["st_value"]
    return values


def image_bytes(elf_path: Path, page_size: int) -> tuple[ImageLayout, bytes]:
    """The layout and the file bytes (text, rodata, initialised data; no header) of the user ELF ``elf_path``.

    Checks what the kernel relies on: the base and the start of rodata and
    data are ``page_size`` aligned, the entry lies in text, every allocated
    section lies inside [base, end of bss), and no loadable segment is both
    writable and executable.

    Raises:
        UserImageError: when the file is not a readable ELF or breaks one of those rules.
    """
    try:
        with elf_path.open("rb") as fh:
            elf = ELFFile(fh)
            sym = _symbols(elf, elf_path, BOUNDS)
            entry = elf.header["e_entry"]
            segments = [(seg["p_vaddr"], seg.data(), seg["p_flags"]) for seg in elf.iter_segments()
                        if seg["p_type"] == "PT_LOAD"]
            sections = [(s.name, s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()
                        if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0]
    except (OSError, ELFError) as exc:
        raise UserImageError(f"cannot read {elf_path}: {exc}") from exc

    base, rodata, data, data_end, bss_end = (sym[name] for name in BOUNDS)
    for name, value in (("__text_start", base), ("__rodata_start", rodata), ("__data_start", data)):
        if value % page_size:
            raise UserImageError(f"{elf_path}: {name} = {value:#x} is not aligned to the {page_size}-byte page")
    if not base <= entry < rodata:
        raise UserImageError(f"{elf_path}: the entry {entry:#x} is outside text [{base:#x}, {rodata:#x})")
    for name, addr, size in sections:
        if addr < base or addr + size > bss_end:
            raise UserImageError(f"{elf_path}: section {name} at {addr:#x} lies outside the image "
                                 f"[{base:#x}, {bss_end:#x}): the user link script does not place it")
    for vaddr, _, flags in segments:
        if flags & P_FLAGS.PF_W and flags & P_FLAGS.PF_X:
            raise UserImageError(f"{elf_path}: the segment at {vaddr:#x} is writable and executable")

    layout = ImageLayout(entry, base, rodata - base, data - rodata, data_end - data, bss_end - data_end)
    payload = bytearray(layout.file_size)
    for vaddr, content, _ in segments:
        # The data segment's file part ends at __data_end; bss (NOLOAD) adds no file bytes.
        content = content[:max(0, min(len(content), base + layout.file_size - vaddr))]
        payload[vaddr - base:vaddr - base + len(content)] = content
    return layout, bytes(payload)


def write_image(elf_path: Path, out: Path, page_size: int, fmt: HeaderFormat) -> ImageLayout:
    """Write the flat image of the user ELF ``elf_path`` to ``out``: header, then image_bytes.

    Raises:
        UserImageError: as image_bytes.
    """
    layout, payload = image_bytes(elf_path, page_size)
    header = struct.pack(HEADER_FORMAT, fmt.magic, fmt.version, layout.entry, layout.base, layout.text_size,
                         layout.rodata_size, layout.data_size, layout.bss_size)
    out.write_bytes(header.ljust(fmt.header_size, b"\0") + payload)
    return layout
