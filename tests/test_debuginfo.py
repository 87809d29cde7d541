"""The kernel's DWARF: line tables map machine code back to the Python source lines, and the
variables, types and paths of kcc.debuginfo are what gdb reads (design of record)."""

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


def _dies(elf: ELFFile) -> list[tuple[object, object]]:
    """Every (DIE, its compile unit) of the kcc units (language DW_LANG_Python)."""
    out = []
    for cu in elf.get_dwarf_info().iter_CUs():
        top = cu.get_top_DIE()
        if top.attributes["DW_AT_language"].value == 0x14:  # DW_LANG_Python
            out += [(die, cu) for die in cu.iter_DIEs()]
    return out


def _name(die: object) -> str | None:
    attr = die.attributes.get("DW_AT_name")
    return attr.value.decode() if attr else None


def test_variables_types_and_paths(tmp_path: Path) -> None:
    """The DWARF of kcc.debuginfo: absolute source directories, qualified functions with their
    parameters and locals, globals and Final constants by Python name, struct members, and
    a return type (what gdb's info args, print, ptype and finish read)."""
    result = build("armv8m", "mps2-an505", out_dir=tmp_path / "build")
    with result.elf.open("rb") as f:
        elf = ELFFile(f)
        dies = _dies(elf)
        assert dies
        for die, cu in dies:
            if die.tag == "DW_TAG_compile_unit":
                assert Path(die.attributes["DW_AT_comp_dir"].value.decode()).is_absolute()
        by_name: dict[tuple[str, str | None], object] = {(d.tag, _name(d)): d for d, _ in dies}

        alloc = by_name[("DW_TAG_subprogram", "lib.pagealloc.alloc")]
        assert alloc.attributes["DW_AT_linkage_name"].value == b"lib.pagealloc.alloc"
        result_type = alloc.get_DIE_from_attribute("DW_AT_type")
        assert (result_type.tag, _name(result_type)) == ("DW_TAG_base_type", "usize")
        assert result_type.attributes["DW_AT_byte_size"].value == 4
        locals_ = {_name(c) for c in alloc.iter_children() if c.tag == "DW_TAG_variable"}
        assert {"r", "w"} <= locals_

        add_range = by_name[("DW_TAG_subprogram", "lib.pagealloc.add_range")]
        params = [_name(c) for c in add_range.iter_children() if c.tag == "DW_TAG_formal_parameter"]
        assert params == ["start", "end"]

        nranges = by_name[("DW_TAG_variable", "_nranges")]
        assert "DW_AT_location" in nranges.attributes
        assert _name(nranges.get_DIE_from_attribute("DW_AT_type")) == "u32"
        page_size = by_name[("DW_TAG_variable", "PAGE_SIZE")]
        assert page_size.attributes["DW_AT_const_value"].value == 4096

        ranges_type = by_name[("DW_TAG_variable", "_ranges")].get_DIE_from_attribute("DW_AT_type")
        assert ranges_type.tag == "DW_TAG_array_type"
        [subrange] = list(ranges_type.iter_children())
        assert subrange.attributes["DW_AT_count"].value == 16
        typedef = ranges_type.get_DIE_from_attribute("DW_AT_type")
        assert (typedef.tag, _name(typedef)) == ("DW_TAG_typedef", "Range")
        struct = typedef.get_DIE_from_attribute("DW_AT_type")
        assert struct.tag == "DW_TAG_structure_type" and struct.attributes["DW_AT_byte_size"].value == 12
        members = [(_name(m), m.attributes["DW_AT_data_member_location"].value) for m in struct.iter_children()]
        assert members == [("start", 0), ("next", 4), ("end", 8)]
