"""Tests of kcc.toolchain, kcc.optimize, kcc.emit and kcc.image: tools, assembling, IR to objects, binaries."""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path

import capstone
import pytest
from elftools.elf.elffile import ELFFile
from tiny_image import kmain_ir

from kcc import emit, image, optimize, toolchain
from kcc.targets import get_target

RV = get_target("riscv64")
HOST = get_target("host")


@pytest.fixture(autouse=True)
def fresh_toolchain():
    """find_toolchain caches its answer; each test sees its own environment."""
    toolchain.find_toolchain.cache_clear()
    yield
    toolchain.find_toolchain.cache_clear()


def symbols(path: Path) -> dict[str, int]:
    with path.open("rb") as fh:
        return {s.name: s["st_value"] for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}


def function_code(path: Path, name: str) -> bytes:
    """The bytes of function ``name`` in relocatable object ``path``."""
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        sym = next(s for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name == name)
        data = elf.get_section(sym["st_shndx"]).data()
        return data[sym["st_value"]:sym["st_value"] + sym["st_size"]]


def riscv_mnemonics(code: bytes) -> list[str]:
    md = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
    return [f"{i.mnemonic} {i.op_str}".strip() for i in md.disasm(code, 0)]


def test_prefers_the_ziglang_package(monkeypatch):
    monkeypatch.delenv("KCC_TOOLCHAIN", raising=False)
    tc = toolchain.find_toolchain()
    assert tc.kind == "zig"
    assert Path(tc.cc[0]).name == "zig" and Path(tc.cc[0]).parent.name == "ziglang" and tc.cc[1:] == ("cc",)
    assert tc.ld[-1] == "ld.lld"


def test_missing_toolchain_names_what_to_install(monkeypatch):
    monkeypatch.delenv("KCC_TOOLCHAIN", raising=False)
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    real = importlib.util.find_spec
    monkeypatch.setattr(toolchain.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ziglang" else real(name, *a))
    with pytest.raises(toolchain.ToolchainError) as err:
        toolchain.find_toolchain()
    assert "pip install ziglang" in str(err.value)
    assert "apt-get install clang lld" in str(err.value)


def test_forced_system_toolchain_without_clang_is_an_error(monkeypatch):
    monkeypatch.setenv("KCC_TOOLCHAIN", "system")
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    with pytest.raises(toolchain.ToolchainError, match="clang and ld.lld on PATH not found"):
        toolchain.find_toolchain()


def test_forced_system_toolchain_is_found_on_path(monkeypatch):
    monkeypatch.setenv("KCC_TOOLCHAIN", "system")
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: f"/opt/bin/{name}")
    tc = toolchain.find_toolchain()
    assert (tc.kind, tc.cc, tc.ld, tc.objcopy) == (
        "system", ("/opt/bin/clang",), ("/opt/bin/ld.lld",), ("/opt/bin/llvm-objcopy",))


def test_unknown_toolchain_choice(monkeypatch):
    monkeypatch.setenv("KCC_TOOLCHAIN", "gcc")
    with pytest.raises(toolchain.ToolchainError, match="not one of: zig, system"):
        toolchain.find_toolchain()


def test_system_clang_gets_the_target_in_clang_spelling():
    tc = toolchain.Toolchain("system", ("clang",), ("ld.lld",), None)
    args = tc.target_args(RV)
    assert args[0] == "--target=riscv64-unknown-none-elf"
    assert "-mcpu=generic-rv64" in args
    assert not any(a.startswith("-mcpu=generic_rv64") for a in args)
    assert "-target" not in args
    features = [args[i + 3] for i, a in enumerate(args) if a == "-Xclang" and args[i + 1] == "-target-feature"]
    assert features == RV.features.split(",")
    assert {"-mabi=lp64", "-mcmodel=medany"} <= set(args)
    assert tc.target_args(HOST) == list(HOST.clang_args)


def test_assemble_with_include_dirs_and_defines(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "consts.h").write_text("#define FROM_HEADER 0x1234\n")
    src = tmp_path / "a.S"
    src.write_text('#include "consts.h"\n.data\n.globl vals\nvals: .word FROM_HEADER, FROM_CMDLINE\n')
    obj = toolchain.assemble(src, tmp_path / "a.o", RV, (tmp_path / "inc",), {"FROM_CMDLINE": "77"})
    with obj.open("rb") as fh:
        elf = ELFFile(fh)
        assert elf.header["e_machine"] == "EM_RISCV"
        assert elf.elfclass == 64
        assert elf.get_section_by_name(".data").data()[:8] == (0x1234).to_bytes(4, "little") + (77).to_bytes(
            4, "little")


def test_assembler_errors_reach_the_user(tmp_path):
    src = tmp_path / "bad.S"
    src.write_text(".text\n    frobnicate a0, a1\n")
    with pytest.raises(toolchain.ToolchainError) as err:
        toolchain.assemble(src, tmp_path / "bad.o", RV)
    assert "cannot compile bad.S" in str(err.value)
    assert "frobnicate" in str(err.value)


def test_optimize_levels_keep_volatile_and_remove_allocas():
    ir = """
define i64 @f(i64 %a) {
  %p = alloca i64
  store i64 %a, ptr %p
  %b = load i64, ptr %p
  store volatile i32 1, ptr inttoptr (i64 268435456 to ptr)
  store volatile i32 1, ptr inttoptr (i64 268435456 to ptr)
  %v = load volatile i32, ptr inttoptr (i64 268435456 to ptr)
  ret i64 %b
}"""
    for level in range(4):
        text = str(optimize.optimize(ir, RV, level))
        assert text.count("store volatile") == 2, level
        assert text.count("load volatile") == 1, level
        assert ("alloca" in text) == (level == 0), level
        assert RV.triple in text


@pytest.mark.parametrize("ir, message", [
    ("define i32 @g() {\n  ret i64 0\n}", "doesn't match function result type"),
    ("define void @h() {\nentry:\n  br label %x\nx:\n  %v = add i32 %v, 1\n  br label %x\n}",
     "Only PHI nodes may reference their own value"),
])
def test_invalid_ir_is_an_internal_compiler_error(ir, message):
    with pytest.raises(optimize.InternalCompilerError, match=message):
        optimize.optimize(ir, RV, 2)


def test_optimize_rejects_a_bad_level():
    with pytest.raises(ValueError):
        optimize.optimize("", RV, 4)


@pytest.mark.parametrize("text, expected", [
    ('call void asm sideeffect "nop", ""()', True),
    ('%x = call i64 asm "csrr $0, sstatus", "=r"()', True),
    ('module asm "nop"', True),
    ('@asm = global i32 0\n%y = load i32, ptr @asm', False),
    ('; the word asm in a comment', False),
])
def test_has_inline_asm(text, expected):
    assert emit.has_inline_asm(text) is expected


def test_emit_without_asm_uses_llvmlite(tmp_path, monkeypatch):
    def no_clang(*args):
        raise AssertionError("clang must not be used for IR without inline asm")
    monkeypatch.setattr(toolchain, "compile_ir", no_clang)
    ir = kmain_ir("hi", 0).replace('call void asm sideeffect "nop", "~{memory}"()', "")
    obj = emit.emit_object(optimize.optimize(ir, RV, 2), RV, tmp_path / "k.o", 2)
    assert "store volatile i8" in (tmp_path / "k.ll").read_text()
    assert "kmain" in symbols(obj)


def test_emit_with_asm_on_riscv_goes_through_clang_and_stays_inline(tmp_path):
    ir = kmain_ir("hi", 7).replace('"nop"', '"csrw sscratch, zero"')
    obj = emit.emit_object(optimize.optimize(ir, RV, 2), RV, tmp_path / "k.o", 2)
    assert "csrw sscratch, zero" in (tmp_path / "k.ll").read_text()
    code = riscv_mnemonics(function_code(obj, "kmain"))
    # The asm sits inside kmain itself (inline), not behind a call.
    assert any(m.startswith(("csrw sscratch", "csrw 0x140")) for m in code), code
    assert code[-1] in ("ret", "c.jr ra")
    with obj.open("rb") as fh:
        flags = ELFFile(fh).header["e_flags"]
    assert flags & 0x1, "RVC flag must match llvmlite's +c objects"
    assert flags & 0x6 == 0, "soft-float ABI (lp64) as the kernel uses"


def test_write_binary_matches_objcopy_and_zero_fills_gaps(tmp_path):
    src = tmp_path / "img.S"
    src.write_text('.section .text.entry, "ax"\n.globl _start\n_start: j _start\n'
                   '.data\n.quad 0x1122334455667788\n.bss\n.space 64\n')
    obj = toolchain.assemble(src, tmp_path / "img.o", RV)
    script = tmp_path / "img.ld"
    script.write_text("ENTRY(_start)\nSECTIONS {\n . = 0x80200000;\n .text : { *(.text.entry) }\n"
                      " .data 0x80201000 : { *(.data) }\n .bss : { *(.bss) }\n}\n")
    elf = toolchain.link([obj], script, tmp_path / "img.elf", tmp_path / "img.map", RV)
    ours = image.write_binary(elf, tmp_path / "ours.bin").read_bytes()
    theirs = toolchain.objcopy_binary(elf, tmp_path / "theirs.bin").read_bytes()
    assert ours == theirs
    assert len(ours) == 0x1008
    assert ours[0x1000:] == (0x1122334455667788).to_bytes(8, "little")
    assert ours[4:0x1000] == bytes(0x1000 - 4)


def test_write_binary_rejects_non_elf(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"not an elf")
    with pytest.raises(image.ImageError, match="cannot read"):
        image.write_binary(junk, tmp_path / "out.bin")


def test_link_shared_for_the_host(tmp_path):
    ir = "define i64 @twice_plus(i64 %a, i64 %b) {\n  %t = shl i64 %a, 1\n  %r = add i64 %t, %b\n  ret i64 %r\n}"
    mod = optimize.optimize(ir, HOST, 2)
    obj = emit.emit_object(mod, HOST, tmp_path / "h.o", 2)
    lib = toolchain.link_shared([obj], tmp_path / "h.so", HOST)
    fn = ctypes.CDLL(str(lib)).twice_plus
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_int64, ctypes.c_int64]
    assert fn(20, 2) == 42
    assert fn(-5, 1) == -9


def test_an_old_system_clang_cannot_compile_new_ir(tmp_path, monkeypatch):
    monkeypatch.setenv("KCC_TOOLCHAIN", "system")
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: f"/opt/bin/{name}")
    monkeypatch.setattr(toolchain, "_clang_major", lambda cc: 14)
    with pytest.raises(toolchain.ToolchainError, match=r"system clang \(version 14\) cannot read the IR"):
        toolchain.compile_ir(tmp_path / "k.ll", tmp_path / "k.o", RV, 2)


def test_the_zig_clang_reports_its_version(monkeypatch):
    monkeypatch.delenv("KCC_TOOLCHAIN", raising=False)
    tc = toolchain.find_toolchain()
    assert toolchain._clang_major(tc.cc) >= 15  # opaque pointers, which llvmlite's IR uses
