"""DWARF line tables map the kernel's machine code back to its Python source lines (design of record)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from kcc.build import build

ROOT = Path(__file__).resolve().parent.parent
# (symbol in the ELF, source file under kernel_src/, Python function name)
FUNCTIONS = [("kmain", "core/main.py", "kmain"), ("__kcc_panic", "lib/panic.py", "kcc_panic")]


def _def_line(path: Path, name: str) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(n.lineno for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _line_of(elf: ELFFile, address: int) -> tuple[str, int] | None:
    """(file name, line) of the first line-table row at ``address`` in a kcc compile unit."""
    dwarf = elf.get_dwarf_info()
    for cu in dwarf.iter_CUs():
        program = dwarf.line_program_for_CU(cu)
        files = program["file_entry"]
        for entry in program.get_entries():
            state = entry.state
            # An end_sequence row marks the first address after a compile unit's code: with one
            # object per module, that is where the next unit's first function starts.
            if state is None or state.end_sequence or state.address != address:
                continue
            index = state.file - 1 if program.header.version < 5 else state.file
            name = files[index].name.decode()
            if name.endswith(".py"):
                return name, state.line
    return None


@pytest.mark.parametrize("arch, board", [("riscv64", "qemu-virt"), ("armv8m", "mps2-an505"), ("i586", "pc")])
def test_functions_start_at_their_def_line(tmp_path: Path, arch: str, board: str) -> None:
    result = build(arch, board, out_dir=tmp_path / "build")
    with result.elf.open("rb") as f:
        elf = ELFFile(f)
        assert elf.has_dwarf_info()
        symtab = elf.get_section_by_name(".symtab")
        for symbol, source, name in FUNCTIONS:
            address = symtab.get_symbol_by_name(symbol)[0]["st_value"] & ~1  # Thumb bit
            where = _line_of(elf, address)
            assert where == (Path(source).name, _def_line(ROOT / "kernel_src" / source, name)), symbol
