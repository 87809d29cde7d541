"""Narrow integers cross the C ABI as clang passes them: kcc's signext/zeroext marks match clang's.

tests/fixtures/abi/narrow.py has functions with parameters and results of every integer width
and bool, exported to C and calling C (@extern); narrow.c is the C side. On every target the
extension attribute of each parameter and result in kcc's IR must equal the one clang gives
the same C prototype (RISC-V psABI: 32-bit values sign-extended to 64 bits whatever their
signedness; i386 System V, AAPCS and x86-64: 8- and 16-bit values extended by their
signedness, bool zero-extended). On the host both sides are linked into one library and run:
C checks the results of kcc functions and kcc checks the results of C functions.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import llvmlite.binding as llvm
import pytest

from kcc.compiler import BuildOptions, compile_program
from kcc.emit import emit_object
from kcc.optimize import optimize
from kcc.targets import get_target
from kcc.toolchain import compile_source, link_shared

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "abi"
EXTENSIONS = {"signext", "zeroext"}
SIGNATURE = re.compile(r'^(?:define|declare)\b(?P<head>[^@]*)@"?(?P<name>[kc]_\w+)"?\((?P<params>[^)]*)\)',
                       re.MULTILINE)

Signature = tuple[frozenset[str], tuple[frozenset[str], ...]]


def signatures(ir_text: str) -> dict[str, Signature]:
    """Function name -> (result's extension attributes, each parameter's), for the k_ and c_ functions."""
    out = {}
    for m in SIGNATURE.finditer(ir_text):
        params = [p for p in m.group("params").split(",") if p.strip()]
        out[m.group("name")] = (frozenset(m.group("head").split()) & EXTENSIONS,
                                tuple(frozenset(p.split()) & EXTENSIONS for p in params))
    return out


def kcc_ir(target: str) -> str:
    """narrow.py's IR for ``target`` as LLVM prints it."""
    program = compile_program(FIXTURES, "narrow", BuildOptions(get_target(target), checked=False))
    return str(llvm.parse_assembly(str(program.ir)))


@pytest.mark.parametrize("target", ["riscv64", "armv8m", "i586", "host"])
def test_extension_attributes_match_clang(target: str, tmp_path: Path) -> None:
    bitcode = compile_source(FIXTURES / "narrow.c", tmp_path / "narrow.bc", get_target(target), opt=2,
                             extra=("-emit-llvm",))
    want = signatures(str(llvm.parse_bitcode(bitcode.read_bytes())))
    got = signatures(kcc_ir(target))
    # Each side also defines its checker (c_calls_k, k_calls_c), which the other never names.
    common = set(want) & set(got)
    assert len(common) == 17, sorted(set(want) ^ set(got))
    for name in sorted(common):
        assert got[name] == want[name], f"{target}: {name}: kcc {got[name]}, clang {want[name]}"


def test_riscv64_passes_u32_sign_extended() -> None:
    """The RISC-V psABI rule that differs from C's own conversion: an unsigned 32-bit value is signext."""
    result, params = signatures(kcc_ir("riscv64"))["k_u32"]
    assert result == {"signext"} and params == ({"signext"},)


def test_c_and_kcc_call_each_other_on_the_host(tmp_path: Path) -> None:
    host = get_target("host")
    program = compile_program(FIXTURES, "narrow", BuildOptions(host, checked=False))
    obj = emit_object(optimize(str(program.ir), host, 2), host, tmp_path / "narrow.o", 2)
    lib = ctypes.CDLL(str(link_shared([obj, FIXTURES / "narrow.c"], tmp_path / "narrow.so", host,
                                      extra=("-O2",))))
    for name in ("c_calls_k", "k_calls_c"):
        fn = lib[name]
        fn.restype = ctypes.c_uint32
        assert fn() == 0, f"{name}: mismatches {fn():#x}"
