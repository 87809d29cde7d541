"""Tests of the kcc command line: help, exit statuses, diagnostics, no tracebacks, build and run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from elftools.elf.elffile import ELFFile
from tiny_image import kmain_ir, write_src_root

from kcc import build as build_mod
from kcc import cli as cli_mod
from kcc.cli import cli, source_root_of
from kcc.diagnostics import CompileError, Diagnostic, SourceFile
from kcc.optimize import InternalCompilerError
from kcc.toolchain import ToolchainError


def invoke(*args: str, **kwargs):
    return CliRunner().invoke(cli, list(args), **kwargs)


@pytest.mark.parametrize("command", [[], ["build"], ["run"], ["check"], ["boards"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) > 4


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("kcc ")


def test_boards_lists_qemu_virt():
    result = invoke("boards")
    assert result.exit_code == 0
    assert any(line.split()[:3] == ["qemu-virt", "riscv64", "qemu"] for line in result.output.splitlines())


def test_unknown_board_is_a_user_error():
    result = invoke("build", "--arch", "riscv64", "--board", "nosuch")
    assert result.exit_code == 1
    assert "kcc: error: unknown board 'nosuch'" in result.output
    assert "Traceback" not in result.output


def test_usage_errors_come_from_click():
    result = invoke("build", "--arch", "mips")
    assert result.exit_code == 2 and "Invalid value for '--arch'" in result.output
    assert invoke("build", "-O", "9").exit_code == 2


@pytest.mark.parametrize("exc, status, text", [
    (RuntimeError("boom\nsecond line"), 2, "kcc: internal error: RuntimeError: boom"),
    (InternalCompilerError("LLVM rejected the generated IR: x"), 2,
     "kcc: internal error: LLVM rejected the generated IR: x"),
    (ToolchainError("no assembler/linker found"), 1, "kcc: error: no assembler/linker found"),
    (CompileError([Diagnostic(SourceFile("m.py", "x: u8 = 300\n"), 1, 9, "300 does not fit u8", 1, 12)]), 1,
     "m.py:1:9: error: 300 does not fit u8\n    1 | x: u8 = 300\n      |         ^^^\nkcc: 1 error"),
])
def test_exceptions_become_messages_and_statuses(monkeypatch, exc, status, text):
    def failing_build(*args, **kwargs):
        raise exc
    monkeypatch.setattr(cli_mod, "build", failing_build)
    result = invoke("build")
    assert result.exit_code == status
    assert text in result.output
    assert "Traceback" not in result.output
    assert "second line" not in result.output
    if status == 2:
        assert "rerun with `kcc --debug" in result.output


def test_debug_shows_the_exception(monkeypatch):
    def failing_build(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(cli_mod, "build", failing_build)
    result = invoke("--debug", "build")
    assert isinstance(result.exception, RuntimeError)
    assert result.exit_code == 1  # CliRunner's status for an exception that escaped


def test_source_root_detection(tmp_path):
    root = tmp_path / "proj"
    (root / "core").mkdir(parents=True)
    (root / "lib" / "deep").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    assert source_root_of(root / "core" / "a.py") == root
    assert source_root_of(root / "lib" / "deep" / "b.py") == root
    lone = tmp_path / "other" / "c.py"
    lone.parent.mkdir()
    assert source_root_of(lone) == lone.parent
    # A core/ above the project's top does not capture files inside it.
    (tmp_path.parent / "core").mkdir(exist_ok=True)
    assert source_root_of(lone) == lone.parent


GOOD = """from kcc.lang import *
from core import util


def f(a: u8) -> u8:
    return util.twice(a)
"""

UTIL = """from kcc.lang import *


def twice(a: u8) -> u8:
    return a + a
"""

BAD = """from kcc.lang import *


def f(a: u8, b: i32) -> u8:
    return a & b
"""


def test_check_reports_diagnostics_and_exit_status(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "util.py").write_text(UTIL)
    good = tmp_path / "core" / "good.py"
    good.write_text(GOOD)
    bad = tmp_path / "core" / "bad.py"
    bad.write_text(BAD)
    ok = invoke("check", str(good))
    assert ok.exit_code == 0, ok.output
    assert "1 file checked, no errors" in ok.output
    result = invoke("check", str(good), str(bad))
    assert result.exit_code == 1
    assert "bad.py:5:12: error:" in result.output
    assert "    5 |     return a & b" in result.output
    assert "^^^^^" in result.output
    assert "Traceback" not in result.output


def test_check_for_the_host(tmp_path):
    src = tmp_path / "pure.py"
    src.write_text(UTIL)
    assert invoke("check", "--arch", "host", str(src)).exit_code == 0


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A source root holding only entry.S, with the front end replaced by hand-written IR."""
    state = {"ir": kmain_ir("cli tiny kernel\n", 0)}
    monkeypatch.setattr(build_mod, "_compile", lambda src_root, target, board, checked, whole, cache_dir, emit: {"core.main": state["ir"]})
    write_src_root(tmp_path / "src")
    return state


def test_build_prints_sections_and_caches(tmp_path, tiny):
    args = ["build", "--arch", "riscv64", "-o", str(tmp_path / "out"), "--src", str(tmp_path / "src")]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert "entry 0x80200000" in first.output
    assert ".text" in first.output and ".stack" in first.output
    assert "kcc: built" in first.output
    for stage in ("compile", "codegen", "assemble", "link", "binary"):
        assert f"  {stage}" in first.output
    second = invoke(*args)
    assert second.exit_code == 0
    assert "is up to date" in second.output


def test_run_exits_with_the_kernel_exit_code(tmp_path, tiny):
    tiny["ir"] = kmain_ir("about to fail\n", 5)
    result = invoke("run", "--arch", "riscv64", "-o", str(tmp_path / "out"), "--src", str(tmp_path / "src"),
                    "--timeout", "60")
    assert result.exit_code == 5, result.output
    assert "about to fail" in result.output
    assert "kernel exited with code 5" in result.output


def test_run_timeout_exits_124(tmp_path, tiny):
    tiny["ir"] = kmain_ir("looping\n", 0).replace("ret i32 0", "br label %done")
    result = invoke("run", "-o", str(tmp_path / "out"), "--src", str(tmp_path / "src"), "--timeout", "2")
    assert result.exit_code == 124
    assert "QEMU stopped after 2s" in result.output


def test_build_the_kernel(tmp_path):
    """The acceptance check: kcc build --arch riscv64 writes an ELF64 RISC-V kernel entered at 0x8020_0000."""
    out = tmp_path / "qemu-virt"
    result = invoke("build", "--arch", "riscv64", "-o", str(out))
    assert result.exit_code == 0, result.output
    for name in ("kernel.elf", "kernel.bin", "kernel.map", "link.ld"):
        assert (out / name).is_file()
    with Path(out / "kernel.elf").open("rb") as fh:
        elf = ELFFile(fh)
        assert elf.elfclass == 64
        assert elf.header["e_machine"] == "EM_RISCV"
        assert elf.header["e_entry"] == 0x8020_0000


def test_build_for_the_host_makes_a_callable_library(tmp_path):
    """`kcc build --arch host --entry M` writes a shared library whose functions ctypes can call."""
    import ctypes

    (tmp_path / "calc.py").write_text(
        "from kcc.lang import *\n\n\ndef floordiv(a: i32, b: i32) -> i32:\n    return a // b\n",
        encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--arch", "host", "--src", str(tmp_path), "--entry", "calc",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    lib = ctypes.CDLL(str(out / "lib.so"))
    fn = lib["calc.floordiv"]
    fn.restype = ctypes.c_int32
    fn.argtypes = [ctypes.c_int32, ctypes.c_int32]
    assert fn(-7, 2) == -4  # Python's floor division, not C's truncation


def test_build_for_the_host_needs_an_entry(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--arch", "host", "--src", str(tmp_path)])
    assert result.exit_code == 2
    assert "--entry" in result.output
