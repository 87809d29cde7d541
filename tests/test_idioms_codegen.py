"""What constant tables, function values and atomics become on every target (language.md, "Constant tables",
"Functions as values", "Atomics"): the IR kcc hands LLVM and where the object places the data."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import llvmlite.binding as llvm
import pytest
from elftools.elf.elffile import ELFFile

from kcc.compiler import BuildOptions, compile_program
from kcc.emit import emit_object
from kcc.optimize import optimize
from kcc.targets import get_target

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "codegen"
TARGETS = ["riscv64", "armv8m", "i586", "host"]


@cache
def lowered(module: str, target: str, checked: bool = True) -> str:
    """The fixture's unoptimised IR for ``target`` as LLVM prints it."""
    ir = compile_program(FIXTURES, module, BuildOptions(get_target(target), checked=checked)).ir
    return str(llvm.parse_assembly(str(ir)))


def function(ir_text: str, name: str) -> str:
    """The body of function ``name`` in ``ir_text``."""
    match = re.search(rf'define [^\n]*@"?{re.escape(name)}"?\(.*?\n}}', ir_text, re.DOTALL)
    assert match, name
    return match.group(0)


@pytest.mark.parametrize("target", TARGETS)
def test_tables_are_read_only_constants(target: str) -> None:
    ir_text = lowered("idioms", target)
    assert re.search(r"@idioms\.PRIMES = internal constant \[4 x i32\] \[i32 2, i32 3, i32 5, i32 7\]", ir_text)
    entries = re.search(r"@idioms\.ENTRIES = internal constant \[2 x %idioms\.Entry[.0-9]*\] (.*)", ir_text)
    assert entries, ir_text
    assert "@idioms._double" in entries.group(1) and "@idioms._square" in entries.group(1)
    assert "@idioms.hook = internal global ptr null" in ir_text   # a variable, not a table


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("checked", [True, False], ids=["checked", "release"])
def test_calls_through_values_are_indirect_and_null_checked_when_checked(target: str, checked: bool) -> None:
    body = function(lowered("idioms", target, checked), "run_hook")
    assert re.search(r"call i32 %[\w.\"]+\(i32 ", body), body
    assert ("icmp eq ptr" in body) == checked, body


@pytest.mark.parametrize("target", ["riscv64", "armv8m", "i586"])
def test_tables_land_in_rodata(tmp_path: Path, target: str) -> None:
    tgt = get_target(target)
    ir = compile_program(FIXTURES, "idioms", BuildOptions(tgt, checked=False)).ir
    obj = emit_object(optimize(str(ir), tgt, 2), tgt, tmp_path / "idioms.o", 2)
    with obj.open("rb") as fh:
        elf = ELFFile(fh)
        sections = {sym.name: elf.get_section(sym["st_shndx"]).name
                    for sym in elf.get_section_by_name(".symtab").iter_symbols()
                    if sym.name.startswith("idioms.") and isinstance(sym["st_shndx"], int)}
    assert sections.get("idioms.PRIMES", "").startswith(".rodata"), sections
    assert sections.get("idioms.ENTRIES", "").startswith(".rodata"), sections
