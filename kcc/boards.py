"""Board descriptions: load and validate ``boards/<name>/board.toml``, and generate board.h from one."""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kcc.paths import data_dir
from kcc.targets import ARCHES

# The board each architecture builds for when --board is not given (docs/boards.md, "The boards").
DEFAULT_BOARDS = {"riscv64": "qemu-virt", "armv8m": "mps2-an505", "i586": "pc"}

# How a board's run under QEMU reports the kernel's exit code (kcc.qemu translates each).
EXIT_METHODS = ("sifive_test", "semihosting", "isa_debug_exit", "none")

# Image headers the link script can put before the entry code, by the architectures that have them:
# "riscv" is the RISC-V Linux image header that U-Boot's booti expects (linker/riscv64.ld.j2).
IMAGE_HEADERS = {"riscv": ("riscv64",)}
IMAGE_HEADER_SIZE = 64

_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_BOARD_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class BoardError(Exception):
    """A board file is missing or invalid; the message names the file and the offending key."""


@dataclass(frozen=True)
class Region:
    """A memory region the link script may place sections in: ``origin`` and ``length`` in bytes."""

    name: str
    origin: int
    length: int

    @property
    def end(self) -> int:
        """The first address after the region."""
        return self.origin + self.length


@dataclass(frozen=True)
class LinkConfig:
    """The ``[link]`` table: where and how the kernel image is laid out.

    Attributes:
        entry: the entry symbol, placed first at ``load_address`` (section .text.entry).
        load_address: the address of ``entry``, inside ``text_region``.
        text_region, data_region: names of ``[memory.*]`` regions for code/rodata and data/bss/stacks.
        stack_size: bytes of stack per hart (a multiple of 16, the RISC-V psABI stack alignment).
        harts: number of per-hart stacks.
        align: alignment in bytes between text, rodata, data and of ``_end`` (the page size).
        image_header: "" for none, or one of IMAGE_HEADERS: a header of IMAGE_HEADER_SIZE bytes
            at ``load_address`` whose first instruction jumps to ``entry``, which then follows it.
    """

    entry: str
    load_address: int
    text_region: str
    data_region: str
    stack_size: int
    harts: int
    align: int
    image_header: str = ""

    @property
    def entry_address(self) -> int:
        """The address of ``entry``: the load address, or just after the image header when there is one."""
        return self.load_address + (IMAGE_HEADER_SIZE if self.image_header else 0)


@dataclass(frozen=True)
class QemuConfig:
    """The ``[qemu]`` table: how kcc.qemu boots the board.

    Attributes:
        binary: the QEMU system emulator (found on PATH).
        machine: the ``-M`` value; memory: the ``-m`` value ("128M"); smp: the ``-smp`` count.
        args: further arguments, before ``-kernel``.
        exit: how the kernel reports its exit code (one of EXIT_METHODS).
    """

    binary: str
    machine: str
    memory: str = ""
    smp: int = 1
    args: tuple[str, ...] = ()
    exit: str = "none"


@dataclass(frozen=True)
class FlashConfig:
    """The ``[flash]`` table: how ``kcc flash`` writes the image to a real board.

    Attributes:
        tool: the flashing tool; only "pyocd" (kcc.flash drives its Python API).
        target: the tool's name for the chip, e.g. "stm32l552zetxq" (``pyocd list --targets``).
        region: the ``[memory.*]`` region the image is written to (the on-chip flash).
    """

    tool: str
    target: str
    region: str


FLASH_TOOLS = ("pyocd",)


@dataclass(frozen=True)
class Board:
    """One validated board description.

    Attributes:
        name: the board's name (its directory under boards/); arch: its TARGET name.
        description: one line for humans.
        regions: memory regions by name, in file order.
        link: the ``[link]`` table.
        constants: the ``[constants]`` table (ints or strings), importable as ``board`` in kcc code.
        qemu: the ``[qemu]`` table, or None for boards no emulator runs.
        path: the board.toml it came from.
        flash: the ``[flash]`` table, or None for boards kcc does not flash.
    """

    name: str
    arch: str
    description: str
    regions: dict[str, Region]
    link: LinkConfig
    constants: dict[str, int | str] = field(default_factory=dict)
    qemu: QemuConfig | None = None
    path: Path | None = None
    flash: FlashConfig | None = None

    @property
    def text_region(self) -> Region:
        """The region that holds code and read-only data."""
        return self.regions[self.link.text_region]

    @property
    def data_region(self) -> Region:
        """The region that holds data, bss and the stacks."""
        return self.regions[self.link.data_region]

    @property
    def code_constants(self) -> dict[str, int | str]:
        """What ``import board`` gives kcc code: ``NAME`` (the board's name) and the ``[constants]``."""
        return {"NAME": self.name, **self.constants}


class _Table:
    """Typed access to one TOML table, reporting errors as ``file: [table] key ...``."""

    def __init__(self, data: dict, where: str, path: Path):
        self.data = data
        self.where = where
        self.path = path

    def fail(self, message: str) -> BoardError:
        return BoardError(f"{self.path}: {self.where}{message}")

    def get(self, key: str, kind: type, default: object = ...) -> object:
        if key not in self.data:
            if default is ...:
                raise self.fail(f"missing key '{key}'")
            return default
        value = self.data[key]
        # TOML booleans are Python bools, which are ints too; an int key never accepts them.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"'{key}' must be {_kind_name(kind)}, not {value!r}")
        return value

    def only(self, *keys: str) -> None:
        unknown = sorted(set(self.data) - set(keys))
        if unknown:
            raise self.fail(f"unknown key '{unknown[0]}' (allowed: {', '.join(keys)})")


def _kind_name(kind: type) -> str:
    return {int: "an integer", str: "a string", list: "a list", dict: "a table"}.get(kind, kind.__name__)


def load_board_file(path: Path) -> Board:
    """Load and validate one board.toml.

    Raises:
        BoardError: when the file is missing, is not TOML, or breaks a rule: every
            key known and of the right type; arch one of kcc.targets.ARCHES;
            regions non-empty and non-overlapping; text/data regions defined;
            load_address inside the text region; stack_size a positive multiple
            of 16; harts >= 1 (and equal to constants.MAX_HARTS when that is given);
            align a power of two; image_header one of IMAGE_HEADERS for the board's
            architecture (the riscv header also needs a RAM_BASE constant at or below
            load_address); constant names UPPER_CASE with int or string values;
            qemu.exit one of EXIT_METHODS; flash.tool one of FLASH_TOOLS and flash.region defined.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BoardError(f"cannot read board file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{path}: not valid TOML: {exc}") from exc

    top = _Table(data, "", path)
    top.only("name", "arch", "description", "memory", "link", "constants", "qemu", "flash")
    name = top.get("name", str)
    if not _BOARD_NAME.match(name):
        raise top.fail(f"'name' must be lower-case letters, digits, '-' or '_', not {name!r}")
    arch = top.get("arch", str)
    if arch not in ARCHES or arch == "host":
        raise top.fail(f"'arch' must be one of {', '.join(a for a in ARCHES if a != 'host')}, not {arch!r}")
    description = top.get("description", str, "")

    regions = _regions(_Table(top.get("memory", dict), "[memory] ", path), path)
    link = _link(_Table(top.get("link", dict), "[link] ", path), regions)
    constants = _constants(_Table(top.get("constants", dict, {}), "[constants] ", path))
    if link.image_header:
        if arch not in IMAGE_HEADERS[link.image_header]:
            raise BoardError(f"{path}: [link] image_header {link.image_header!r} is for "
                             f"{', '.join(IMAGE_HEADERS[link.image_header])}, not {arch}")
        ram_base = constants.get("RAM_BASE")
        if not isinstance(ram_base, int) or ram_base > link.load_address:
            raise BoardError(f"{path}: [link] image_header {link.image_header!r} needs [constants] RAM_BASE "
                             f"at or below load_address {link.load_address:#x} (its text_offset)")
    if "MAX_HARTS" in constants and constants["MAX_HARTS"] != link.harts:
        raise BoardError(f"{path}: [link] harts = {link.harts} but [constants] MAX_HARTS = "
                         f"{constants['MAX_HARTS']}; the two must agree")
    qemu_table = top.get("qemu", dict, None)
    qemu = _qemu(_Table(qemu_table, "[qemu] ", path)) if qemu_table is not None else None
    flash_table = top.get("flash", dict, None)
    flash = _flash(_Table(flash_table, "[flash] ", path), regions) if flash_table is not None else None
    return Board(name, arch, description, regions, link, constants, qemu, path, flash)


def _regions(table: _Table, path: Path) -> dict[str, Region]:
    if not table.data:
        raise table.fail("at least one region is needed, e.g. [memory.ram] origin = ..., length = ...")
    regions: dict[str, Region] = {}
    for rname in table.data:
        sub = _Table(table.get(rname, dict), f"[memory.{rname}] ", path)
        sub.only("origin", "length")
        origin = sub.get("origin", int)
        length = sub.get("length", int)
        if origin < 0 or length <= 0:
            raise sub.fail(f"origin must be >= 0 and length > 0 (got origin={origin:#x}, length={length:#x})")
        regions[rname] = Region(rname, origin, length)
    ordered = sorted(regions.values(), key=lambda r: r.origin)
    for a, b in itertools.pairwise(ordered):
        if b.origin < a.end:
            raise table.fail(f"regions '{a.name}' and '{b.name}' overlap")
    return regions


def _link(table: _Table, regions: dict[str, Region]) -> LinkConfig:
    table.only("entry", "load_address", "text_region", "data_region", "stack_size", "harts", "align",
               "image_header")
    link = LinkConfig(
        entry=table.get("entry", str, "_start"),
        load_address=table.get("load_address", int),
        text_region=table.get("text_region", str),
        data_region=table.get("data_region", str),
        stack_size=table.get("stack_size", int),
        harts=table.get("harts", int, 1),
        align=table.get("align", int, 4096),
        image_header=table.get("image_header", str, ""),
    )
    if link.image_header and link.image_header not in IMAGE_HEADERS:
        raise table.fail(f"'image_header' must be one of {', '.join(IMAGE_HEADERS)}, not {link.image_header!r}")
    for key in ("text_region", "data_region"):
        rname = getattr(link, key)
        if rname not in regions:
            raise table.fail(f"'{key}' names region '{rname}', which [memory] does not define "
                             f"(defined: {', '.join(regions)})")
    text = regions[link.text_region]
    if not text.origin <= link.load_address < text.end:
        raise table.fail(f"load_address {link.load_address:#x} is outside region '{text.name}' "
                         f"({text.origin:#x}..{text.end:#x})")
    if link.stack_size <= 0 or link.stack_size % 16:
        raise table.fail(f"stack_size must be a positive multiple of 16 bytes, not {link.stack_size}")
    if link.harts < 1:
        raise table.fail(f"harts must be at least 1, not {link.harts}")
    if link.align <= 0 or link.align & (link.align - 1):
        raise table.fail(f"align must be a power of two, not {link.align}")
    return link


def _constants(table: _Table) -> dict[str, int | str]:
    constants: dict[str, int | str] = {}
    for key, value in table.data.items():
        if not _CONSTANT_NAME.match(key):
            raise table.fail(f"constant name '{key}' must be UPPER_CASE (letters, digits, '_')")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise table.fail(f"constant '{key}' must be an integer or a string, not {value!r}")
        constants[key] = value
    return constants


def _qemu(table: _Table) -> QemuConfig:
    table.only("binary", "machine", "memory", "smp", "args", "exit")
    args = table.get("args", list, [])
    if not all(isinstance(a, str) for a in args):
        raise table.fail("'args' must be a list of strings")
    qemu = QemuConfig(
        binary=table.get("binary", str),
        machine=table.get("machine", str),
        memory=table.get("memory", str, ""),
        smp=table.get("smp", int, 1),
        args=tuple(args),
        exit=table.get("exit", str, "none"),
    )
    if qemu.exit not in EXIT_METHODS:
        raise table.fail(f"'exit' must be one of {', '.join(EXIT_METHODS)}, not {qemu.exit!r}")
    if qemu.smp < 1:
        raise table.fail(f"'smp' must be at least 1, not {qemu.smp}")
    return qemu


def _flash(table: _Table, regions: dict[str, Region]) -> FlashConfig:
    table.only("tool", "target", "region")
    flash = FlashConfig(
        tool=table.get("tool", str),
        target=table.get("target", str),
        region=table.get("region", str),
    )
    if flash.tool not in FLASH_TOOLS:
        raise table.fail(f"'tool' must be one of {', '.join(FLASH_TOOLS)}, not {flash.tool!r}")
    if flash.region not in regions:
        raise table.fail(f"'region' names region '{flash.region}', which [memory] does not define "
                         f"(defined: {', '.join(regions)})")
    return flash


def boards_dir() -> Path:
    """The directory holding one sub-directory per board (``boards/``)."""
    return data_dir("boards")


def list_boards() -> list[str]:
    """Names of every board that has a board.toml, sorted."""
    return sorted(p.parent.name for p in boards_dir().glob("*/board.toml"))


def load_board(name: str) -> Board:
    """Load ``boards/<name>/board.toml``; ``name`` may also be a path to a board.toml file.

    Raises:
        BoardError: for an unknown board (listing the known ones) or an invalid file,
            or when the file's ``name`` differs from its directory's.
    """
    as_path = Path(name)
    if as_path.suffix == ".toml":
        return load_board_file(as_path)
    path = boards_dir() / name / "board.toml"
    if not path.is_file():
        raise BoardError(f"unknown board '{name}' (known: {', '.join(list_boards()) or 'none'})")
    board = load_board_file(path)
    if board.name != name:
        raise BoardError(f"{path}: 'name' is {board.name!r} but the directory is {name!r}")
    return board


def default_board(arch: str) -> str:
    """The board ``kcc build --arch <arch>`` uses without ``--board``.

    Raises:
        BoardError: when the architecture has no default board (the host target has none).
    """
    if arch not in DEFAULT_BOARDS:
        raise BoardError(f"architecture '{arch}' has no board; boards exist for: "
                         f"{', '.join(DEFAULT_BOARDS)}")
    return DEFAULT_BOARDS[arch]


def board_header(board: Board) -> str:
    """The text of board.h: ``#define BOARD_<NAME> <value>`` for each constant, for assembly sources.

    Also defines BOARD_STACK_SIZE, BOARD_HARTS and BOARD_LOAD_ADDRESS from ``[link]``, and
    BOARD_IMAGE_HEADER (1) when the board has an image header.
    Integers up to 65535 are written in decimal, larger ones in hex, negative
    ones parenthesised; strings as C string literals.
    """
    values: dict[str, int | str] = dict(board.constants)
    values["STACK_SIZE"] = board.link.stack_size
    values["HARTS"] = board.link.harts
    values["LOAD_ADDRESS"] = board.link.load_address
    if board.link.image_header:
        values["IMAGE_HEADER"] = 1
    lines = [f"/* Generated by kcc from board '{board.name}'; do not edit. */",
             "#ifndef KCC_BOARD_H", "#define KCC_BOARD_H", ""]
    for key, value in values.items():
        if isinstance(value, str):
            text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif value < 0:
            text = f"({value})"
        else:
            text = str(value) if value <= 0xFFFF else f"{value:#x}"
        lines.append(f"#define BOARD_{key} {text}")
    lines += ["", "#endif", ""]
    return "\n".join(lines)
