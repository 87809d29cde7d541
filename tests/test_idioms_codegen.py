"""What constant tables, function values and atomics become on every target (language.md, "Constant tables",
"Functions as values", "Atomics"): the IR kcc hands LLVM and where the object places the data."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# isort: split
import kcc  # before llvmlite: it selects llvmlite's opaque-pointer IR layer

# isort: split
import llvmlite.binding as llvm
import pytest
from elftools.elf.elffile import ELFFile

from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError
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


ATOMIC_IR = {
    "counter_bump": r"atomicrmw add ptr @atomics\.counter, i32 %[\w.]+ seq_cst",
    "counter_read": r"load atomic i32, ptr @atomics\.counter acquire, align 4",
    "counter_set": r"store atomic i32 %[\w.]+, ptr @atomics\.counter release, align 4",
    "counter_swap": r"atomicrmw xchg ptr @atomics\.counter, i32 %[\w.]+ monotonic",
    "counter_cas": r"cmpxchg ptr @atomics\.counter, i32 %[\w.]+, i32 %[\w.]+ acq_rel acquire",
    "claim": r"cmpxchg ptr @atomics\.owner, ptr null, ptr %[\w.]+ seq_cst seq_cst",
}


@pytest.mark.parametrize("target", TARGETS)
def test_atomics_are_llvm_atomics_with_their_orders(target: str) -> None:
    ir_text = lowered("atomics", target, checked=False)
    for name, pattern in ATOMIC_IR.items():
        assert re.search(pattern, function(ir_text, name)), function(ir_text, name)
    bits = get_target(target).pointer_bits
    assert re.search(rf"atomicrmw add ptr @atomics\.wide, i{bits} 1 seq_cst", ir_text), \
        function(ir_text, "wide_bump")


@pytest.mark.parametrize("target", ["riscv64", "armv8m", "i586"])
def test_atomics_need_no_runtime_library(tmp_path: Path, target: str) -> None:
    """Every kernel target does its atomics inline (lr/sc, ldrex/strex, lock-prefixed x86): no __atomic_* calls."""
    tgt = get_target(target)
    ir = compile_program(FIXTURES, "atomics", BuildOptions(tgt, checked=False)).ir
    obj = emit_object(optimize(str(ir), tgt, 2), tgt, tmp_path / "atomics.o", 2)
    with obj.open("rb") as fh:
        undefined = [s.name for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()
                     if s["st_shndx"] == "SHN_UNDEF" and s.name]
    assert not [n for n in undefined if "atomic" in n or "sync" in n], undefined


def test_atomics_mean_what_c11_says_on_the_host() -> None:
    host = kcc.load_host(FIXTURES / "atomics.py")
    host.counter_set(5)
    assert host.counter_bump(3) == 5 and host.counter_read() == 8
    assert host.counter_swap(1) == 8 and host.counter_read() == 1
    assert host.counter_cas(2, 9) == 1 and host.counter_read() == 1      # expected differs: no store
    assert host.counter_cas(1, 9) == 1 and host.counter_read() == 9      # expected matches: stored
    assert host.counter_bump(0xFFFF_FFFF) == 9 and host.counter_read() == 8   # wraps as u32 does
    assert [host.wide_bump() for _ in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("target", ["armv8m", "i586"])
def test_atomics_wider_than_a_pointer_are_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\nx: u64 = 0\n\n\ndef f() -> u64:\n"
                                   "    return atomic_load(addr(x))\n", encoding="utf-8")
    with pytest.raises(CompileError) as info:
        compile_program(tmp_path, "m", BuildOptions(get_target(target)))
    assert [d.message for d in info.value.diagnostics] == [f"{target} has no 64-bit atomics"]
