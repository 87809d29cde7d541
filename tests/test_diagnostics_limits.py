"""The bug classes mutated sources found (issue 11, item 4), each now a located diagnostic.

Nesting hundreds deep, symbol names no object file can hold, lone surrogates, line ends other than
Python's, undecodable bytes, locals larger than a stack, inline asm the assembler rejects and
symbols the linker cannot find: each gives ``path:line:col: error: ...`` at the construct, never a
RecursionError, an LLVM abort, a line quoted from the wrong place or an unlocated tool error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kcc import codegen, toolchain
from kcc.cli import cli
from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError, Diagnostic, SourceFile, source_lines
from kcc.emit import emit_object
from kcc.optimize import optimize
from kcc.parse import MAX_NESTING
from kcc.targets import get_target
from kcc.typeres import DEFAULT_STACK_FRAME_LIMIT

HEAD = "from kcc.lang import *\n\n\n"
BACK_END = pytest.mark.skipif(not toolchain.reads_llvmlite_ir(), reason="needs the ziglang package's clang")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh source root that is also the current directory, so paths print as ``m.py``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def diagnostics(root: Path, text: str | bytes, arch: str = "host") -> list[Diagnostic]:
    """Compile ``text`` as module m of ``root`` for ``arch``; its diagnostics ([] when it compiles)."""
    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    (root / "m.py").write_bytes(data)
    try:
        compile_program(root, "m", BuildOptions(get_target(arch)))
    except CompileError as exc:
        return exc.diagnostics
    return []


def heads(diags: list[Diagnostic]) -> list[str]:
    """The first rendered line of each diagnostic."""
    return [d.render().splitlines()[0] for d in diags]


# ----- nesting -----------------------------------------------------------------------------------------

DEEP = {
    "sum": "+".join(["1"] * 325),
    "variable-sum": "+".join(["x"] * 400),
    "unary": "- " * 500 + "x",
    "invert": "~" * 1000 + "x",
    "power": "**".join(["x"] * 300),
    "not": "u32(" + "not " * 400 + "c)",
    "shifts": " << ".join(["x"] * 300),
    "flat-and-of-deep-operands": "u32(" + " and ".join(["c"] * 50 + ["not " * 300 + "c"]) + ")",
    "conditional": " if c else ".join(["x"] * 300),
    "subscripts": "a" + "[0]" * 400,
    "calls": "g(" * 150 + "x" + ")" * 150 + "+ x" * 150,
    "parser-gives-up": "- " * 6000 + "x",       # CPython's own parser raises RecursionError/MemoryError
    "parser-memory": "-" * 100_000 + "x",
}
FUNCTION = HEAD + ("def g(x: u32) -> u32:\n    return x\n\n\n"
                   "def f(x: u32, c: bool, a: Array[u32, 1]) -> u32:\n    y: u32 = 1\n    return {}\n")


@pytest.mark.parametrize("kind", DEEP)
def test_an_expression_nested_too_deep_is_one_located_error(root: Path, kind: str) -> None:
    [diag] = diagnostics(root, FUNCTION.format(DEEP[kind]))
    assert diag.message == f"expression too deeply nested (more than {MAX_NESTING} levels)"
    assert heads([diag])[0].startswith("m.py:10:")


@pytest.mark.parametrize("arch", ["host", "riscv64", "i586"])
def test_nesting_below_the_limit_compiles_through_llvm(root: Path, arch: str) -> None:
    """200-term sums and 200-deep unary chains are accepted: every stage handles the depth it allows."""
    body = "+".join(["x"] * 200) + " + (" + "- " * 200 + "x)"
    (root / "m.py").write_text(FUNCTION.format(body), encoding="utf-8")
    target = get_target(arch)
    program = compile_program(root, "m", BuildOptions(target))
    optimize(str(program.ir), target, 2)


def test_the_limit_is_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    assert f"{MAX_NESTING} levels" in text
    assert "too large for the stack" in text


# ----- strings and symbol names ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ('return extern_symbol("")', "the symbol name '' is empty"),
    ('return extern_symbol("a\\x00b")', "the symbol name 'a\\x00b' holds a NUL character"),
    ('return extern_symbol("\\udc80")', ("a string literal must be encodable as UTF-8: it holds the lone "
                                        "surrogate '\\udc80'")),
    ('p: Ptr[u8] = "ok \\ud800 no"\n    return 0', "a string literal must be encodable as UTF-8"),
])
def test_names_and_strings_no_object_can_hold_are_located(root: Path, body: str, message: str) -> None:
    [diag] = diagnostics(root, HEAD + f"def f() -> usize:\n    {body}\n")
    assert diag.message.startswith(message)
    assert (diag.line, diag.col) == (5, body.index('"') + 5)


@pytest.mark.parametrize(("decorator", "message"), [
    ('@export("\\udc80")', "a string literal must be encodable as UTF-8"),
    ('@export("a\\x00")', "the symbol name 'a\\x00' holds a NUL character"),
    ('@section(".text\\x00x")', "the section name '.text\\x00x' holds a NUL character"),
])
def test_export_and_section_names_are_checked(root: Path, decorator: str, message: str) -> None:
    [diag] = diagnostics(root, HEAD + f"{decorator}\ndef f() -> None:\n    pass\n", "riscv64")
    assert diag.message.startswith(message)
    assert (diag.line, diag.col) == (4, decorator.index('"') + 1)


def test_kcc_check_prints_a_surrogate_escaped(root: Path) -> None:
    (root / "core").mkdir()
    (root / "core" / "m.py").write_text(HEAD + 'def f() -> usize:\n    return extern_symbol("\\udc80")\n',
                                        encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--arch", "host", "core/m.py"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("core/m.py:5:26: error: a string literal must be encodable as UTF-8")


# ----- lines as Python's parser counts them ------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_only_newlines_end_a_line(root: Path, separator: str) -> None:
    text = HEAD + f"# a comment{separator}with more\nS: Final = \"a{separator}b\"\nx: u8 = 300\n"
    [diag] = diagnostics(root, text)
    lines = diag.render().splitlines()
    assert lines[0] == "m.py:6:9: error: 300 does not fit u8"
    assert lines[1:3] == ["    6 | x: u8 = 300", "      |         ^^^"]


def test_a_quoted_line_shows_control_characters_as_spaces(root: Path) -> None:
    [diag] = diagnostics(root, HEAD + "x: u8 = 300  # \f\x1c\u2028 end\n")
    assert diag.render().splitlines()[1] == "    4 | x: u8 = 300  #     end"


def test_source_lines_split_as_the_tokenizer_does() -> None:
    assert source_lines("a\fb\r\nc\rd\u2028e\n") == ["a\fb", "c", "d\u2028e"]
    assert source_lines("") == [] and source_lines("x") == ["x"] and source_lines("\n\n") == ["", ""]
    assert SourceFile("m.py", "a\x85b\nc\n").lines == ["a\x85b", "c"]


# ----- bytes that are not UTF-8 -----------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "where"), [
    (b"x = 1\ny = '\xc3\xa9\xff'\n", "m.py:2:7:"),        # é is one column; 0xff cannot start a character
    (b"x = 1\r\n\r\n# \xe2\x82\n", "m.py:3:3:"),           # a truncated sequence; \r\n is one line end
    (b"\xef\xbb\xbfa = 1\nb = '\x80'\n", "m.py:2:6:"),    # after a byte-order mark
])
def test_undecodable_bytes_are_located_at_the_first_bad_byte(root: Path, data: bytes, where: str) -> None:
    [diag] = diagnostics(root, data)
    assert heads([diag])[0].startswith(f"{where} error: the file is not valid UTF-8: byte 0x")


# ----- locals larger than a stack ---------------------------------------------------------------------------

@pytest.mark.parametrize(("arch", "length"), [("riscv64", "1 << 40"), ("i586", "1 << 30"),
                                              ("armv8m", str(DEFAULT_STACK_FRAME_LIMIT)), ("host", "1 << 21")])
def test_a_local_too_large_for_the_stack_is_located(root: Path, arch: str, length: str) -> None:
    [diag] = diagnostics(root, HEAD + f"def f(i: usize) -> u8:\n    a: Array[u8, {length}]\n    return a[i]\n", arch)
    assert heads([diag])[0].startswith("m.py:5:5: error: too large for the stack: the locals of 'f' would take ")


@BACK_END
def test_a_large_local_within_the_limit_is_cleared_in_one_call(root: Path, tmp_path: Path) -> None:
    """The frame limit is a frame: 60,000 bytes compile, with one memset (not a store per element)."""
    assert diagnostics(root, HEAD + "@export\ndef f(i: usize) -> u8:\n    a: Array[u8, 60000]\n"
                                    "    a[i] = 1\n    return a[i + 1]\n", "riscv64") == []
    target = get_target("riscv64")
    ir_text = str(compile_program(root, "m", BuildOptions(target)).ir)
    assert ir_text.count("store ") < 10 and "llvm.memset" in ir_text
    codegen.compile_unit(ir_text, target, 1, tmp_path / "big.o")


# ----- the back end: inline asm and the linker -----------------------------------------------------------------

BAD_ASM = HEAD + ('@export\ndef f(x: u32) -> u32:\n    asm("nop")\n    asm("bogus insn")\n'
                  '    return asm("mv {out}, {0}\\n\\tbogus2 {0}, {out}", x, out=u32)\n')


@BACK_END
@pytest.mark.parametrize("arch", ["riscv64", "armv8m", "i586"])
def test_invalid_inline_asm_is_located_at_its_asm_call(root: Path, tmp_path: Path, arch: str) -> None:
    (root / "m.py").write_text(BAD_ASM, encoding="utf-8")
    target = get_target(arch)
    ir_text = str(compile_program(root, "m", BuildOptions(target)).ir)
    (tmp_path / "obj").mkdir()
    with pytest.raises(CompileError) as info:
        codegen.compile_unit(ir_text, target, 1, tmp_path / "obj" / "m.o")
    found = heads(info.value.diagnostics)
    assert found[0].startswith("m.py:7:5: error: inline asm: ")
    assert all(h.startswith(("m.py:7:5: error: inline asm: ", "m.py:8:12: error: inline asm: ")) for h in found)
    assert any(h.startswith("m.py:8:12:") for h in found)
    assert "the assembler rejected: bogus insn" in info.value.diagnostics[0].hints
    assert list((tmp_path / "obj").glob("*")) == []      # nothing half-written is left behind


@BACK_END
def test_emitting_i586_asm_reports_rather_than_exits(root: Path, tmp_path: Path) -> None:
    """llvmlite's own emitter would print LLVM's error and exit the process; emit_object reports it."""
    (root / "m.py").write_text(BAD_ASM, encoding="utf-8")
    target = get_target("i586")
    module = optimize(str(compile_program(root, "m", BuildOptions(target)).ir), target, 1)
    with pytest.raises(CompileError) as info:
        emit_object(module, target, tmp_path / "m.o", 1)
    assert heads(info.value.diagnostics)[0].startswith("m.py:7:5: error: inline asm: ")


@BACK_END
def test_an_undefined_symbol_names_each_reference(root: Path, tmp_path: Path) -> None:
    (root / "m.py").write_text(HEAD + '@export\ndef f(i: usize) -> usize:\n    return extern_symbol("nope") + i\n\n\n'
                                      '@export\ndef g(i: usize) -> usize:\n'
                                      '    return i + extern_symbol("nope") + extern_symbol("gone")\n',
                               encoding="utf-8")
    target = get_target("riscv64")
    obj = codegen.compile_unit(str(compile_program(root, "m", BuildOptions(target)).ir), target, 1, tmp_path / "m.o")
    script = tmp_path / "link.ld"
    script.write_text("ENTRY(f)\nSECTIONS { . = 0x80000000; .text : { *(.text*) } }\n", encoding="utf-8")
    with pytest.raises(CompileError) as info:
        toolchain.link([obj], script, tmp_path / "k.elf", tmp_path / "k.map", target)
    assert heads(info.value.diagnostics) == [
        "m.py:6:26: error: undefined symbol 'nope'",
        "m.py:11:30: error: undefined symbol 'nope'",
        "m.py:11:54: error: undefined symbol 'gone'",
    ]
    assert info.value.diagnostics[0].render().splitlines()[2] == "      |                          ^^^^^^"
