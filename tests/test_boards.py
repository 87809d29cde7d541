"""Tests of kcc.boards: the qemu-virt description, validation messages and board.h."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_image import write_board

from kcc.boards import (
    DEFAULT_BOARDS,
    BoardError,
    board_header,
    default_board,
    list_boards,
    load_board,
    load_board_file,
)


def test_qemu_virt_matches_qemu_and_opensbi():
    b = load_board("qemu-virt")
    assert b.arch == "riscv64"
    assert b.link.load_address == 0x8020_0000
    assert b.link.entry == "_start"
    ram = b.text_region
    assert (ram.origin, ram.end) == (0x8020_0000, 0x8800_0000)  # 128 MiB from 0x8000_0000, less 2 MiB
    assert b.data_region is ram
    c = b.constants
    assert c["UART0_BASE"] == 0x1000_0000
    assert c["TEST_BASE"] == 0x10_0000
    assert c["TIMEBASE_HZ"] == 10_000_000
    assert c["HZ"] == 100
    assert c["MAX_HARTS"] == b.link.harts == 8
    assert c["RAM_BASE"] + c["RAM_SIZE"] == ram.end
    assert b.link.stack_size % 16 == 0
    assert b.qemu is not None
    assert (b.qemu.binary, b.qemu.machine, b.qemu.exit) == ("qemu-system-riscv64", "virt", "sifive_test")
    assert b.qemu.memory == "128M"
    assert "-bios" in b.qemu.args and "default" in b.qemu.args


def test_every_board_loads_and_defaults_exist():
    names = list_boards()
    assert "qemu-virt" in names
    for name in names:
        assert load_board(name).name == name
    assert default_board("riscv64") == "qemu-virt"
    assert DEFAULT_BOARDS["riscv64"] in names
    with pytest.raises(BoardError, match="architecture 'host' has no board"):
        default_board("host")


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(BoardError, match=r"unknown board 'nosuch' \(known: .*qemu-virt"):
        load_board("nosuch")


def test_board_by_path(tmp_path):
    path = write_board(tmp_path / "board.toml")
    assert load_board(str(path)).name == "tiny"


GOOD = """
name = "t"
arch = "riscv64"
[memory.ram]
origin = 0x8000_0000
length = 0x10_0000
[link]
load_address = 0x8000_0000
text_region = "ram"
data_region = "ram"
stack_size = 4096
harts = 2
[constants]
MAX_HARTS = 2
[qemu]
binary = "qemu-system-riscv64"
machine = "virt"
exit = "sifive_test"
"""


@pytest.mark.parametrize("old, new, message", [
    ('name = "t"\n', "", "missing key 'name'"),
    ('name = "t"', 'name = "T T"', "'name' must be lower-case"),
    ('arch = "riscv64"', 'arch = "mips"', "'arch' must be one of riscv64, armv8m, i586, not 'mips'"),
    ('arch = "riscv64"', 'arch = "host"', "'arch' must be one of"),
    ('arch = "riscv64"', 'arch = "riscv64"\ncolour = "red"', "unknown key 'colour'"),
    ("length = 0x10_0000", "length = 0", "length > 0"),
    ("length = 0x10_0000", 'length = "big"', "[memory.ram] 'length' must be an integer, not 'big'"),
    ("length = 0x10_0000", "length = 0x10_0000\n[memory.rom]\norigin = 0x8008_0000\nlength = 0x1000",
     "regions 'ram' and 'rom' overlap"),
    ("load_address = 0x8000_0000", "load_address = 0x9000_0000", "load_address 0x90000000 is outside region"),
    ('text_region = "ram"', 'text_region = "flash"', "'text_region' names region 'flash'"),
    ("stack_size = 4096", "stack_size = 4100", "stack_size must be a positive multiple of 16"),
    ("stack_size = 4096", "stack_size = true", "'stack_size' must be an integer, not True"),
    ("harts = 2", "harts = 0", "harts must be at least 1"),
    ("harts = 2", "harts = 2\nalign = 3000", "align must be a power of two"),
    ("harts = 2", "harts = 2\nstacks = 1", "[link] unknown key 'stacks'"),
    ("MAX_HARTS = 2", "MAX_HARTS = 4", "harts = 2 but [constants] MAX_HARTS = 4"),
    ("MAX_HARTS = 2", "uart_base = 1", "constant name 'uart_base' must be UPPER_CASE"),
    ("MAX_HARTS = 2", "FAST = true", "constant 'FAST' must be an integer or a string"),
    ("MAX_HARTS = 2", "LIST = [1]", "constant 'LIST' must be an integer or a string"),
    ('exit = "sifive_test"', 'exit = "magic"', "'exit' must be one of sifive_test"),
    ('exit = "sifive_test"', 'args = "-nographic"', "'args' must be a list"),
    ('exit = "sifive_test"', 'args = [1]', "'args' must be a list of strings"),
    ("[link]", "[link", "not valid TOML"),
])
def test_invalid_boards_are_reported_clearly(tmp_path, old, new, message):
    assert old in GOOD
    path = tmp_path / "board.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(BoardError) as err:
        load_board_file(path)
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))


def test_the_good_board_is_good(tmp_path):
    path = tmp_path / "board.toml"
    path.write_text(GOOD)
    assert load_board_file(path).link.harts == 2


def test_missing_board_file(tmp_path):
    with pytest.raises(BoardError, match="cannot read board file"):
        load_board_file(tmp_path / "nothing.toml")


_toml_value = st.one_of(
    st.integers(min_value=-2**40, max_value=2**40), st.booleans(), st.text(max_size=5),
    st.lists(st.integers(0, 9), max_size=2))


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["origin", "length", "load_address", "text_region", "stack_size", "harts", "align",
                        "MAX_HARTS", "exit", "smp", "machine"]),
       _toml_value)
def test_any_value_gives_a_board_or_a_board_error(tmp_path_factory, key, value):
    text = re.sub(rf"^{key} = .*$", lambda _: f"{key} = {_toml(value)}", GOOD, count=1, flags=re.MULTILINE)
    if key == "smp":
        text = text.replace("[qemu]\n", f"[qemu]\nsmp = {_toml(value)}\n")
    path = tmp_path_factory.mktemp("b") / "board.toml"
    path.write_text(text)
    try:
        load_board_file(path)
    except BoardError as exc:
        assert str(exc).startswith(str(path))


def test_board_header_defines_constants_and_link_values():
    text = board_header(load_board("qemu-virt"))
    assert "#define BOARD_UART0_BASE 0x10000000\n" in text
    assert "#define BOARD_TEST_BASE 0x100000\n" in text
    assert "#define BOARD_HZ 100\n" in text
    assert "#define BOARD_STACK_SIZE 16384\n" in text
    assert "#define BOARD_HARTS 8\n" in text
    assert "#define BOARD_LOAD_ADDRESS 0x80200000\n" in text


def test_board_header_quotes_strings_and_negatives(tmp_path):
    path = Path(tmp_path / "board.toml")
    path.write_text(GOOD.replace("MAX_HARTS = 2", 'MAX_HARTS = 2\nNAME = "a \\"b\\" \\\\ c"\nOFFSET = -8'))
    text = board_header(load_board_file(path))
    assert '#define BOARD_NAME "a \\"b\\" \\\\ c"\n' in text
    assert "#define BOARD_OFFSET (-8)\n" in text
