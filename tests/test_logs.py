"""Compact logs, host half (kcc.logs): records in a linked ELF's .kcc_log, and the decoding of a recorded stream."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from kcc import link, logs, toolchain
from kcc.boards import load_board
from kcc.targets import get_target

# Three call sites as the compiler would emit them: level, argument count, 0, line, path, format.
# The section is "a" (allocatable), as LLVM marks a global placed in a named section: the link
# script must keep it out of the image all the same.
RECORDS_S = r"""
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    j       _start

    .section .kcc_log, "a", @progbits
    .globl rec_boot, rec_fault, rec_name
rec_boot:
    .byte   1, 2
    .half   0
    .word   105
    .asciz  "core/main.py"
    .asciz  "boot hart %u, %d pages\n"
rec_fault:
    .byte   3, 3
    .half   0
    .word   77
    .asciz  "arch/riscv64/trap.py"
    .asciz  "fault at %p: cause %08x%%, code %-4d|"
rec_name:
    .byte   0, 2
    .half   0
    .word   9
    .asciz  "lib/x.py"
    .asciz  "'%s' = %c"
"""


def leb128(value: int) -> bytes:
    """Unsigned LEB128, as the kernel's encoder sends numbers."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def zigzag(value: int) -> int:
    return ((value << 1) ^ (value >> 63)) & 0xFFFF_FFFF_FFFF_FFFF


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records assembled and linked with qemu-virt's real link script."""
    out = tmp_path_factory.mktemp("logs")
    target = get_target("riscv64")
    (out / "records.S").write_text(RECORDS_S, encoding="utf-8")
    obj = toolchain.assemble(out / "records.S", out / "records.o", target)
    return link.link_kernel([obj], load_board("qemu-virt"), target, out)


def _symbols(elf: Path) -> dict[str, int]:
    with elf.open("rb") as fh:
        return {s.name: s["st_value"] for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}


def test_records_stay_out_of_the_loaded_image(elf: Path) -> None:
    with elf.open("rb") as fh:
        f = ELFFile(fh)
        section = f.get_section_by_name(".kcc_log")
        assert section is not None and section["sh_size"] > 0
        assert not section["sh_flags"] & SH_FLAGS.SHF_ALLOC
        assert section["sh_addr"] == 0
        start, end = section["sh_offset"], section["sh_offset"] + section["sh_size"]
        for seg in f.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                assert end <= seg["p_offset"] or start >= seg["p_offset"] + seg["p_filesz"]
    symbols = _symbols(elf)
    records = logs.load_records(elf)
    assert sorted(records.by_offset) == sorted(symbols[n] for n in ("rec_boot", "rec_fault", "rec_name"))
    assert records.by_offset[symbols["rec_boot"]] == logs.Record("info", "core/main.py", 105,
                                                                 "boot hart %u, %d pages\n")
    assert records.pointer_bits == 64


def _stream(elf: Path) -> bytes:
    """A recorded console: firmware text, three frames, kprintf text with CR LF, a frame mid-line."""
    s = _symbols(elf)
    boot = b"\xff" + leb128(s["rec_boot"]) + leb128(1) + leb128(zigzag(-3))
    fault = b"\xff" + leb128(s["rec_fault"]) + leb128(0x8020_1234) + leb128(0xAB) + leb128(zigzag(42))
    name = b"\xff" + leb128(s["rec_name"]) + "héllo".encode() + b"\0" + leb128(ord("Z"))
    return b"OpenSBI v1.1\r\n" + boot + b"plain kprintf line\r\n" + fault + b"partial " + name + b"tail\n"


EXPECTED = [
    "OpenSBI v1.1",
    "[info] core/main.py:105: boot hart 1, -3 pages",
    "plain kprintf line",
    "[error] arch/riscv64/trap.py:77: fault at 0x0000000080201234: cause 000000ab%, code 42  |",
    "partial ",
    "[debug] lib/x.py:9: 'héllo' = Z",
    "tail",
]


def test_decodes_a_recorded_stream(elf: Path) -> None:
    assert list(logs.decode_stream(logs.load_records(elf), io.BytesIO(_stream(elf)))) == EXPECTED


def test_decoding_does_not_depend_on_how_the_bytes_arrive(elf: Path) -> None:
    decoder = logs.Decoder(logs.load_records(elf))
    lines = [line for byte in _stream(elf) for line in decoder.feed(bytes([byte]))]
    assert lines + decoder.finish() == EXPECTED


def test_console_view_passes_text_at_once_and_decodes_frames(elf: Path) -> None:
    """kcc run's view: a prompt shows before its line ends; frames become lines, byte by byte or whole."""
    out = io.BytesIO()
    view = logs.ConsoleView(logs.load_records(elf), out)
    view.write(b"$ ")
    assert out.getvalue() == b"$ "
    for byte in _stream(elf):
        view.write(bytes([byte]))
    shown = out.getvalue()[2:]
    whole = io.BytesIO()
    logs.ConsoleView(logs.load_records(elf), whole).write(_stream(elf))
    assert shown == whole.getvalue()
    assert shown.decode().replace("\r\n", "\n").splitlines() == EXPECTED
    assert b"\xff" not in shown


def test_unknown_record_and_cut_off_frame_are_reported(elf: Path) -> None:
    decoder = logs.Decoder(logs.load_records(elf))
    lines = decoder.feed(b"a\n\xff" + leb128(0x7777) + b"b\n\xff" + leb128(_symbols(elf)["rec_boot"]))
    assert lines == ["a", "[?] unknown log record 0x7777: the stream does not belong to this ELF", "b"]
    assert decoder.finish() == ["[?] the stream ends inside a log frame"]


def test_format_message_follows_kprintf() -> None:
    assert logs.format_message("%5u|%-3x|%05d|%c|%s|%X|%lu", [7, 10, -42, 65, b"ok", 255, 3], 32) == \
        "    7|a  |-0042|A|ok|FF|3"
    assert logs.format_message("%p", [0x1000], 32) == "0x00001000"


def test_malformed_records_are_rejected() -> None:
    good = logs.RECORD_HEADER.pack(1, 1, 0, 5) + b"a.py\0x=%u\0"
    assert logs.parse_records(good, 64).by_offset[0].kinds == ("u",)
    with pytest.raises(logs.LogError, match="has 2 arguments"):
        logs.parse_records(logs.RECORD_HEADER.pack(1, 2, 0, 5) + b"a.py\0x=%u\0", 64)
    with pytest.raises(logs.LogError, match="unknown level 9"):
        logs.parse_records(logs.RECORD_HEADER.pack(9, 0, 0, 5) + b"a.py\0x\0", 64)
    with pytest.raises(logs.LogError, match="lacks its NUL-terminated"):
        logs.parse_records(logs.RECORD_HEADER.pack(1, 0, 0, 5) + b"a.py\0x", 64)


def test_command_line_decodes_a_file(elf: Path, tmp_path: Path) -> None:
    recorded = tmp_path / "console.bin"
    recorded.write_bytes(_stream(elf))
    result = subprocess.run([sys.executable, "-m", "kcc", "logs", str(elf), str(recorded)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED
    piped = subprocess.run([sys.executable, "-m", "kcc", "logs", str(elf)], input=_stream(elf),
                           capture_output=True, check=False)
    assert piped.stdout.decode().splitlines() == EXPECTED


def test_command_line_reports_an_unreadable_elf(tmp_path: Path) -> None:
    not_elf = tmp_path / "kernel.elf"
    not_elf.write_bytes(b"not an ELF")
    result = subprocess.run([sys.executable, "-m", "kcc", "logs", str(not_elf)], input="",
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("kcc: error: cannot read")
