"""Kernel images for programming tools: the loadable bytes of kernel.elf and kernel.hex (Intel HEX)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from intelhex import IntelHex


class ImageError(Exception):
    """The ELF cannot be read or holds nothing to load; the message names the file."""


@dataclass(frozen=True)
class Segment:
    """Bytes to be stored at a physical address: ``address`` (bytes) and ``data``."""

    address: int
    data: bytes

    @property
    def end(self) -> int:
        """The first address after the segment."""
        return self.address + len(self.data)


def load_segments(elf: Path) -> tuple[int, list[Segment]]:
    """The entry address and the file-backed part of every PT_LOAD segment of ``elf``, by address.

    Each segment is placed at its physical address (p_paddr, the load
    address: for initialised data on a microcontroller that is its copy in
    flash, not the RAM address it runs at). The zero-filled tail beyond
    p_filesz is left out: the kernel's entry code clears .bss itself.

    Raises:
        ImageError: when the file is not an ELF or has no loadable bytes.
    """
    try:
        with elf.open("rb") as fh:
            f = ELFFile(fh)
            entry = f.header["e_entry"]
            segments = [Segment(seg["p_paddr"], seg.data()) for seg in f.iter_segments()
                        if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0]
    except (OSError, ELFError) as exc:
        raise ImageError(f"cannot read {elf}: {exc}") from exc
    if not segments:
        raise ImageError(f"{elf} has no loadable segment with contents")
    return entry, sorted(segments, key=lambda s: s.address)


def merged_ranges(segments: list[Segment]) -> list[tuple[int, int]]:
    """The [start, end) address ranges ``segments`` cover, touching ones merged, in order."""
    ranges: list[tuple[int, int]] = []
    for seg in sorted(segments, key=lambda s: s.address):
        if ranges and seg.address <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], seg.end))
        else:
            ranges.append((seg.address, seg.end))
    return ranges


def write_binary(elf: Path, output: Path) -> Path:
    """Write the raw memory image of ``elf``'s loadable bytes, as ``objcopy -O binary`` does.

    The image starts at the lowest load address; gaps between segments are
    zero-filled (load_segments already leaves out each segment's bss tail).

    Raises:
        ImageError: as load_segments.
    """
    _, segments = load_segments(elf)
    base = segments[0].address
    image = bytearray(max(seg.end for seg in segments) - base)
    for seg in segments:
        image[seg.address - base:seg.end - base] = seg.data
    output.write_bytes(bytes(image))
    return output


def write_hex(elf: Path, output: Path) -> Path:
    """Write ``output`` as the Intel HEX image of ``elf``'s loadable bytes (load_segments) and return it.

    Uses the intelhex package: data records with extended linear address
    records for addresses above 64 KiB, and a start linear address record
    holding the ELF entry (Intel, "Hexadecimal Object File Format
    Specification", revision A, record types 00, 01, 04 and 05).

    Raises:
        ImageError: as load_segments, or when the file cannot be written.
    """
    entry, segments = load_segments(elf)
    ih = IntelHex()
    for seg in segments:
        ih.puts(seg.address, seg.data)
    ih.start_addr = {"EIP": entry}
    try:
        ih.write_hex_file(str(output))
    except OSError as exc:
        raise ImageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    return output
