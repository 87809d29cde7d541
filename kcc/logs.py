"""Compact logs, the host half: decode a console stream of plain text and log frames against the kernel ELF.

A compact log call sends a frame instead of formatted text: the format
string, level and source location stay in the ELF section ``.kcc_log``,
which the link scripts keep out of the loaded image (an ``INFO`` section at
address 0), and the kernel sends only the record's offset in that section
and the raw arguments. ``kcc logs kernel.elf [FILE]`` turns such a stream
back into text lines.

The stream (what the console carries):
    Bytes other than 0xFF are plain text and pass through unchanged: the
    firmware's banner, kprintf output, and log calls on a board that asks
    for plain text. 0xFF starts a frame (it never occurs in ASCII or UTF-8
    text). A frame is the record's offset in ``.kcc_log`` as an unsigned
    LEB128 number, then one value per conversion of the record's format, in
    order: ``%u %x %X %p %c`` an unsigned LEB128 number, ``%d`` a signed
    number zigzag-encoded ((v << 1) ^ (v >> 63)) then LEB128, ``%s`` the
    string's bytes and a NUL. LEB128: seven bits per byte, least
    significant first, bit 7 set on every byte but the last (DWARF 5,
    section 7.6 "Variable Length Data").

A record (what ``.kcc_log`` holds, written by the compiler per call site):
    RECORD_HEADER (level: 0 debug, 1 info, 2 warn, 3 error; the number of
    arguments; two reserved zero bytes; the source line, a little-endian
    u32), then the source path relative to the kernel source root and the
    format, each NUL-terminated. Formats use kprintf's conversions
    (lib/kprintf.py): ``%d %u %x %X %p %s %c %%``, the flags ``-`` and
    ``0``, a decimal width, and the ignored length modifiers ``l`` and ``z``.

A decoded frame reads ``[level] path:line: message``; a format's trailing
newline ends the line.

The producing half: ``log.info("x=%u\\n", x)`` (also ``log.debug``,
``log.warning``, ``log.error``; kcc/builtins.py) checks the format against its
arguments, emits one record per call site into ``.kcc_log`` and calls the
kernel's encoder (kernel_src/lib/klog.py, ABI in kcc/runtime.py) with the
record's offset, a compile-time word saying which of the frame's three
argument encodings each argument takes, and the arguments. On a board with
``LOG_PLAIN = 1`` the call prints ``[level] `` and the formatted text instead.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click

SECTION = ".kcc_log"
SYNC = 0xFF
LEVELS = ("debug", "info", "warn", "error")
RECORD_HEADER = struct.Struct("<BBHI")

# One kprintf conversion: flags, width, ignored length modifiers, conversion character.
_CONVERSION = re.compile(r"%([-0]*)(\d*)[lz]*([duxXpsc%])")


class LogError(Exception):
    """The ELF has no readable log records, or a record is malformed; the message names the file."""


@dataclass(frozen=True)
class Record:
    """One log call site: level name, source path and line, and its format string."""

    level: str
    path: str
    line: int
    format: str

    @property
    def kinds(self) -> tuple[str, ...]:
        """The conversion character of each argument, in order (``%%`` takes none)."""
        return tuple(m.group(3) for m in _CONVERSION.finditer(self.format) if m.group(3) != "%")


@dataclass(frozen=True)
class Records:
    """The records of one ELF by offset in ``.kcc_log``, and the width of a pointer in bits (for ``%p``)."""

    by_offset: dict[int, Record]
    pointer_bits: int


def parse_records(data: bytes, pointer_bits: int) -> Records:
    """Parse the contents of a ``.kcc_log`` section (the record layout in the module docstring).

    Records follow each other with no padding.

    Raises:
        LogError: when a record is cut short, has an unknown level, or its argument count
            differs from its format's conversions.
    """
    records: dict[int, Record] = {}
    pos = 0
    while pos < len(data):
        if pos + RECORD_HEADER.size > len(data):
            raise LogError(f"{SECTION}: record at {pos:#x} is cut short")
        level, nargs, _reserved, line = RECORD_HEADER.unpack_from(data, pos)
        strings = data[pos + RECORD_HEADER.size:].split(b"\0", 2)
        if len(strings) < 3:
            raise LogError(f"{SECTION}: record at {pos:#x} lacks its NUL-terminated path and format")
        if level >= len(LEVELS):
            raise LogError(f"{SECTION}: record at {pos:#x} has unknown level {level}")
        record = Record(LEVELS[level], strings[0].decode("utf-8", "replace"), line,
                        strings[1].decode("utf-8", "replace"))
        if len(record.kinds) != nargs:
            raise LogError(f"{SECTION}: record at {pos:#x} ({record.path}:{line}) has {nargs} arguments "
                           f"but its format {record.format!r} has {len(record.kinds)} conversions")
        records[pos] = record
        pos += RECORD_HEADER.size + len(strings[0]) + len(strings[1]) + 2
    return Records(records, pointer_bits)


def load_records(elf: Path) -> Records:
    """Read the log records of the kernel ELF ``elf`` (none when it has no ``.kcc_log`` section).

    Raises:
        LogError: when the file is not a readable ELF, or as parse_records.
    """
    # pyelftools is imported here, not at the top: kcc.cli imports this module for its command,
    # and every other command (a build with nothing to do above all) should not pay for it.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with elf.open("rb") as fh:
            f = ELFFile(fh)
            section = f.get_section_by_name(SECTION)
            return parse_records(section.data() if section is not None else b"", f.elfclass)
    except (OSError, ELFError) as exc:
        raise LogError(f"cannot read {elf}: {exc}") from exc


def format_message(fmt: str, values: list[int | bytes], pointer_bits: int) -> str:
    """Format ``values`` as kprintf formats them (lib/kprintf.py) with ``fmt``.

    Integers are the raw 64-bit argument values (``%d`` values already
    signed); ``%s`` takes bytes (decoded as UTF-8, errors replaced).
    ``%p`` prints ``0x`` and ``pointer_bits // 4`` hex digits.
    """
    out: list[str] = []
    pos = 0
    args = iter(values)
    for m in _CONVERSION.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, conv = m.group(1), int(m.group(2) or 0), m.group(3)
        if conv == "%":
            out.append("%")
            continue
        value = next(args)
        if conv == "s":
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        elif conv == "c":
            text = chr(int(value) & 0xFF)
        elif conv == "p":
            text = f"0x{int(value):0{pointer_bits // 4}x}"
        else:
            text = {"d": "d", "u": "d", "x": "x", "X": "X"}[conv]
            text = format(int(value), text)
        if "-" in flags:
            text = text.ljust(width)
        elif "0" in flags and conv in "duxXp":
            sign = "-" if text.startswith("-") else ""
            text = sign + text[len(sign):].rjust(width - len(sign), "0")
        else:
            text = text.rjust(width)
        out.append(text)
    out.append(fmt[pos:])
    return "".join(out)


class Decoder:
    """A streaming decoder: feed() it bytes as they arrive, in chunks of any size, and take whole lines.

    Plain text is split into lines (a carriage return before the newline is
    dropped); each frame becomes one line, after any plain text pending on
    the current line. A frame naming no record is reported and decoding goes
    back to plain text: its arguments cannot be told apart from text.
    """

    def __init__(self, records: Records) -> None:
        self.records = records
        self._text = bytearray()
        self._frame: bytearray | None = None

    def feed(self, data: bytes) -> list[str]:
        """Decode ``data``; return the lines it completed."""
        lines: list[str] = []
        for byte in data:
            if self._frame is not None:
                self._frame.append(byte)
                line = self._decode_frame(bytes(self._frame))
                if line is not None:
                    self._frame = None
                    lines.append(line)
            elif byte == SYNC:
                if self._text:
                    lines.append(self._take_text())
                self._frame = bytearray()
            elif byte == 0x0A:
                lines.append(self._take_text())
            else:
                self._text.append(byte)
        return lines

    def finish(self) -> list[str]:
        """The lines still pending at the end of the stream: unterminated text, or a cut-off frame."""
        lines = [self._take_text()] if self._text else []
        if self._frame is not None:
            lines.append("[?] the stream ends inside a log frame")
            self._frame = None
        return lines

    def _take_text(self) -> str:
        text = self._text.decode("utf-8", "replace").removesuffix("\r")
        self._text.clear()
        return text

    def _decode_frame(self, frame: bytes) -> str | None:
        """The line of ``frame`` (the bytes after SYNC), or None while it is incomplete."""
        offset, pos = _leb128(frame, 0)
        if offset is None:
            return None
        record = self.records.by_offset.get(offset)
        if record is None:
            return f"[?] unknown log record {offset:#x}: the stream does not belong to this ELF"
        values: list[int | bytes] = []
        for kind in record.kinds:
            if kind == "s":
                end = frame.find(b"\0", pos)
                if end < 0:
                    return None
                values.append(frame[pos:end])
                pos = end + 1
                continue
            raw, pos = _leb128(frame, pos)
            if raw is None:
                return None
            values.append((raw >> 1) ^ -(raw & 1) if kind == "d" else raw)
        message = format_message(record.format, values, self.records.pointer_bits).removesuffix("\n")
        return f"[{record.level}] {record.path}:{record.line}: {message}"


class ConsoleView:
    """A writable stream for a live console: plain bytes pass straight through, each frame becomes its line.

    ``kcc run`` and ``kcc systest`` show QEMU's console through it, so a person
    reads decoded log lines while a prompt without a newline still shows at
    once (Decoder, for whole streams, holds text back until its line ends).
    ``out`` is the stream written to, e.g. ``sys.stdout.buffer``.
    """

    def __init__(self, records: Records, out: BinaryIO) -> None:
        self._frames = Decoder(records)
        self._out = out
        self._in_frame = False
        self._line_start = True     # the last byte shown ended a line: a frame's line needs no break first

    def write(self, data: bytes) -> int:
        """Show ``data`` (any chunk of the console stream); returns len(data), as a stream's write does."""
        if not self._in_frame and SYNC not in data:
            shown = bytearray(data)
        else:
            shown = bytearray()
            for byte in data:
                if self._in_frame:
                    lines = self._frames.feed(bytes([byte]))
                    if lines:
                        ended = shown.endswith(b"\n") if shown else self._line_start
                        if not ended:  # the frame's line starts on a line of its own
                            shown += b"\r\n"
                        shown += "".join(f"{line}\r\n" for line in lines).encode()
                        self._in_frame = False
                elif byte == SYNC:
                    self._in_frame = True
                    self._frames.feed(bytes([byte]))
                else:
                    shown.append(byte)
        if shown:
            self._line_start = shown.endswith(b"\n")
            self._out.write(bytes(shown))
        return len(data)

    def flush(self) -> None:
        """Flush the underlying stream."""
        self._out.flush()


def console_view(elf: Path, out: BinaryIO) -> ConsoleView | BinaryIO:
    """``out`` wrapped in a ConsoleView for ``elf``'s records; ``out`` itself when the ELF has none.

    Raises:
        LogError: as load_records.
    """
    records = load_records(elf)
    if not records.by_offset:
        return out
    return ConsoleView(records, out)


def _leb128(data: bytes, pos: int) -> tuple[int | None, int]:
    """The unsigned LEB128 number at ``data[pos:]`` and the position after it; (None, pos) when cut short."""
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        shift += 7
        pos += 1
        if not byte & 0x80:
            return value, pos
    return None, pos


def decode_stream(records: Records, stream: BinaryIO, chunk: int = 4096) -> Iterator[str]:
    """Yield the decoded lines of ``stream`` (a file, a pipe, a serial device) as its bytes arrive.

    Reads with ``read1`` where the stream has it, so lines appear as soon as
    a pipe or a serial port delivers them rather than when a buffer fills.
    """
    decoder = Decoder(records)
    read = getattr(stream, "read1", stream.read)
    while data := read(chunk):
        yield from decoder.feed(data)
    yield from decoder.finish()


@click.command("logs")
@click.argument("elf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("stream", type=click.File("rb"), default="-")
def logs_cmd(elf: Path, stream: BinaryIO) -> None:
    """Decode a console stream of compact log frames against the kernel ELF that sent it.

    STREAM is a recorded console, a pipe, QEMU's chardev file or FIFO, or a
    serial device (set it to raw mode first: ``stty -F /dev/ttyACM0 115200
    raw``); ``-`` (the default) reads standard input. Plain text passes
    through; each frame prints as ``[level] path:line: message``. Exit status
    1 when ELF's log records cannot be read.
    """
    records = load_records(elf)
    for line in decode_stream(records, stream):
        click.echo(line)


if __name__ == "__main__":
    logs_cmd(prog_name="python -m kcc.logs")
