"""The diagnostics format of language.md, "Diagnostics": rendering, collection, and what reaches the user.

``path:line:col: error: message``, the source line, a caret span, hints; all
errors of a pass; exit status 1; a compiler bug is a one-line internal error
(exit status 2) and the traceback appears only with ``--debug``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from kcc import compiler as compiler_mod
from kcc.cli import cli
from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError, Diagnostic, Reporter, SourceFile, load_source, located
from kcc.targets import get_target

HOST = get_target("host")
SRC = SourceFile("dir/m.py", "first line\n    x: u8 = 300\n\ty = 1\nlast\n")


# ----- rendering ------------------------------------------------------------------------------------

def test_render_head_source_line_caret_and_hints() -> None:
    diag = Diagnostic(SRC, 2, 13, "300 does not fit u8", 2, 16, hints=["u8 holds 0..255", "second hint"])
    assert diag.render() == (
        "dir/m.py:2:13: error: 300 does not fit u8\n"
        "    2 |     x: u8 = 300\n"
        "      |             ^^^\n"
        "hint: u8 holds 0..255\n"
        "hint: second hint")


def test_render_without_an_end_marks_one_column() -> None:
    assert Diagnostic(SRC, 2, 5, "here").render().splitlines()[2] == "      |     ^"


def test_render_of_a_span_over_several_lines_runs_to_the_end_of_the_first() -> None:
    lines = Diagnostic(SRC, 2, 5, "spans", 3, 2).render().splitlines()
    assert lines[2] == "      |     " + "^" * len("x: u8 = 300")


def test_render_expands_tabs_so_the_caret_stays_under_the_column() -> None:
    lines = Diagnostic(SRC, 3, 2, "after a tab", 3, 3).render().splitlines()
    assert lines[1] == "    3 |  y = 1"
    assert lines[2] == "      |  ^"


def test_render_of_large_line_numbers_keeps_the_gutter_aligned() -> None:
    src = SourceFile("big.py", "\n" * 12344 + "abc\n")
    assert Diagnostic(src, 12345, 2, "m", 12345, 3).render().splitlines()[1:] == [" 12345 | abc", "      |  ^"]


def test_render_without_a_source_is_a_kcc_line() -> None:
    diag = Diagnostic(None, 0, 0, "no such file: x.py", hints=["check the path"])
    assert diag.render() == "kcc: error: no such file: x.py\nhint: check the path"


def test_render_of_a_line_past_the_end_is_just_the_head() -> None:
    assert Diagnostic(SRC, 99, 1, "gone").render() == "dir/m.py:99:1: error: gone"


def test_warning_severity_is_rendered() -> None:
    diag = Diagnostic(SRC, 1, 1, "careful", severity="warning")
    assert diag.render().startswith("dir/m.py:1:1: warning: careful")


# ----- collecting ---------------------------------------------------------------------------------------

def test_located_spans_an_ast_node() -> None:
    tree = ast.parse("pass\nif True:\n    x: u8 = 300\n")
    assign = next(n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign))
    diag = located(SRC, assign.value, "m", "h")
    assert (diag.line, diag.col, diag.end_line, diag.end_col) == (3, 13, 3, 16)
    assert diag.hints == ["h"]


def test_located_without_a_node_points_at_the_file() -> None:
    assert (located(SRC, None, "m").line, located(SRC, None, "m").col) == (1, 1)


def test_reporter_keeps_every_error_and_raises_them_together() -> None:
    reporter = Reporter()
    reporter.check()  # nothing recorded: no error
    tree = ast.parse("a = 1\nb = 2\n")
    reporter.error(SRC, tree.body[0], "first")
    reporter.error(SRC, tree.body[1], "second")
    with pytest.raises(CompileError) as info:
        reporter.check()
    assert [d.message for d in info.value.diagnostics] == ["first", "second"]
    assert str(info.value) == "\n".join(d.render() for d in info.value.diagnostics)


def test_reporter_does_not_raise_for_warnings_alone() -> None:
    reporter = Reporter()
    reporter.diagnostics.append(Diagnostic(SRC, 1, 1, "just a warning", severity="warning"))
    reporter.check()


def test_load_source_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as missing:
        load_source(tmp_path / "nope.py")
    assert missing.value.diagnostics[0].render().startswith("kcc: error: cannot read ")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = '\xff'\n")
    with pytest.raises(CompileError) as undecodable:
        load_source(latin)
    assert "UTF-8" in undecodable.value.diagnostics[0].message
    good = tmp_path / "good.py"
    good.write_text("x = 1\n", encoding="utf-8")
    assert load_source(good, "shown.py") == SourceFile("shown.py", "x = 1\n")


# ----- malformed files through the compiler ---------------------------------------------------------------

def compile_text(root: Path, data: bytes) -> list[Diagnostic]:
    """Compile ``data`` as module m of ``root`` for the host; [] when it compiles."""
    (root / "m.py").write_bytes(data)
    try:
        compile_program(root, "m", BuildOptions(HOST))
    except CompileError as exc:
        return exc.diagnostics
    return []


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh source root that is also the current directory, so paths print as ``m.py``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nul_bytes_are_a_located_error(root: Path) -> None:
    [diag] = compile_text(root, b"from kcc.lang import *\nx: u8 = 1\x00\n")
    assert diag.render().startswith("m.py:")
    assert "null bytes" in diag.message


def test_an_empty_file_compiles(root: Path) -> None:
    assert compile_text(root, b"") == []


def test_a_tab_indented_error_is_located(root: Path) -> None:
    [diag] = compile_text(root, b"from kcc.lang import *\n\n\ndef f() -> None:\n\tx: u8 = 300\n")
    assert diag.render().splitlines()[:3] == [
        "m.py:5:10: error: 300 does not fit u8",
        "    5 |  x: u8 = 300",
        "      |          ^^^",
    ]


def test_columns_count_characters_not_bytes(root: Path) -> None:
    text = 'from kcc.lang import *\n\n\ndef f() -> None:\n    s: Ptr[u8] = "héllo"; x: u8 = 300\n'
    [diag] = compile_text(root, text.encode("utf-8"))
    col = text.splitlines()[4].index("300") + 1
    assert diag.render().splitlines()[0] == f"m.py:5:{col}: error: 300 does not fit u8"
    assert diag.render().splitlines()[2] == "      | " + " " * (col - 1) + "^^^"


def test_a_byte_order_mark_is_accepted(root: Path) -> None:
    assert compile_text(root, b"\xef\xbb\xbffrom kcc.lang import *\nx: u8 = 1\n") == []


def test_a_syntax_error_names_python_s_message(root: Path) -> None:
    [diag] = compile_text(root, b"from kcc.lang import *\n\n\ndef f( -> None:\n    pass\n")
    head = diag.render().splitlines()[0]
    assert head.startswith("m.py:4:") and ": error: syntax error: " in head


# ----- the command line ---------------------------------------------------------------------------------

def write_core(root: Path, name: str, data: bytes) -> Path:
    """Write ``core/<name>.py`` so that `kcc check` takes ``root`` as the source root."""
    (root / "core").mkdir(exist_ok=True)
    path = root / "core" / f"{name}.py"
    path.write_bytes(data)
    return path


def test_kcc_check_counts_the_errors(root: Path) -> None:
    write_core(root, "m", b"from kcc.lang import *\nx: u8 = 300\ny: u8 = 256\nz: i8 = -129\n")
    result = CliRunner().invoke(cli, ["check", "--arch", "host", "core/m.py"])
    assert result.exit_code == 1
    assert result.output.count(": error: ") == 3
    assert result.output.rstrip().endswith("kcc: 3 errors")


def test_kcc_check_of_an_undecodable_file_is_an_error_not_a_traceback(root: Path) -> None:
    write_core(root, "latin", b"from kcc.lang import *\nx = '\xff'\n")
    result = CliRunner().invoke(cli, ["check", "--arch", "host", "core/latin.py"])
    assert result.exit_code == 1
    assert result.output.startswith("core/latin.py:2:6: error: the file is not valid UTF-8")
    assert "Traceback" not in result.output


def test_kcc_check_of_a_missing_file_is_a_usage_error(root: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--arch", "host", "core/nope.py"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_compiler_bug_is_a_one_line_internal_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_core(root, "m", b"from kcc.lang import *\n")

    def broken(*args, **kwargs):
        raise RuntimeError("lowering lost its way\nsecond line")
    monkeypatch.setattr(compiler_mod, "compile_program", broken)  # kcc check imports it when it runs
    result = CliRunner().invoke(cli, ["check", "--arch", "host", "core/m.py"])
    assert result.exit_code == 2
    assert "kcc: internal error: RuntimeError: lowering lost its way\n" in result.output
    assert "Traceback" not in result.output and "second line" not in result.output
    debug = CliRunner().invoke(cli, ["--debug", "check", "--arch", "host", "core/m.py"])
    assert isinstance(debug.exception, RuntimeError)


def test_debug_reraises_compile_errors(root: Path) -> None:
    write_core(root, "m", b"from kcc.lang import *\nx: u8 = 300\n")
    result = CliRunner().invoke(cli, ["--debug", "check", "--arch", "host", "core/m.py"])
    assert isinstance(result.exception, CompileError)


# ----- format strings checked at compile time (language.md, "Checked format strings") ------------------

PRINTF = '''from kcc.lang import *

NAME: Final = "kcc"
PERCENT: Final = "%u%%"
counter: u32 = 7
names: Array[usize, 2]


@printf_like("fmt")
def out(fmt: Ptr[u8], a: Arg = 0, b: Arg = 0, c: Arg = 0) -> usize:
    return a + b + c


@printf_like("text")
def wout(w: u8, text: Ptr[u8], a: usize = 0, b: usize = 0) -> usize:
    return a + b


def passes_on(fmt: Ptr[u8], v: u32) -> usize:
    return out(fmt, v, NULL, "not checked")      # not a constant format: nothing to check


def uses(p: Ptr[u8], q: Ptr[u32], small: u8, flag: bool, n: i64, wide: u64) -> usize:
'''


def format_errors(root: Path, body: str, arch: str = "host") -> list[str]:
    """``line:col: message`` of each diagnostic of a function ``uses`` whose body is ``body``."""
    text = PRINTF + "".join(f"    {line}\n" for line in body.splitlines())
    (root / "m.py").write_text(text, encoding="utf-8")
    try:
        compile_program(root, "m", BuildOptions(get_target(arch)))
    except CompileError as exc:
        return [f"{d.line}:{d.col}: {d.message}" for d in exc.diagnostics]
    return []


FIRST = PRINTF.count("\n") + 1      # the line of the body's first statement


@pytest.mark.parametrize("body", [
    'return out("%s %u %d\\n", p, small, n)',
    'return out("%p %p %p", p, q, 0x8000_0000)',       # pointers, and an address written as a constant
    'return out("%x %X %c", flag, wide, small)',       # a bool is 0 or 1; %c prints an integer's low byte
    'return out("%-8s|%08x|%3lu%%", NAME, counter, small) + out("%zd", -1)',
    'return out(NAME) + out("100%%") + out(PERCENT, 5)',   # Final strings are checked like literals
    'return out("%s%s", "a", NULL)',                   # NULL prints "(null)"
    'return wout(1, "%s=%u", usize(p), usize(small))', # usize parameters: usize(p) passes a pointer
    'return wout(1, "%s", names[1])',                  # an address held in a usize
    'return out("%u", usize(p)) + out("%x", usize(q))',   # an explicit usize() asks for the address
    'return passes_on("%s", 1)',
])
def test_a_constant_format_that_matches_its_arguments_compiles(root: Path, body: str) -> None:
    assert format_errors(root, body) == []


@pytest.mark.parametrize(("body", "expected"), [
    ('return out("%u\\n", p)', ["'%u' formats an unsigned integer, not Ptr[u8]"]),
    ('return out("%s", small)', ["'%s' formats a string, not u8"]),
    ('return out("%s", 5)', ["'%s' formats a string, not an integer constant"]),
    ('return out("%d", "text")', ["'%d' formats a signed integer, not Ptr[u8]"]),
    ('return out("%x", NULL)', ["'%x' formats an integer, not Ptr[u8]"]),
    ('return out("%c", flag)', ["'%c' formats a character (an integer), not bool"]),
    ('return out("%s", q)', ["'%s' formats a string, not Ptr[u32]"]),
    ('return out("%p", small)', ["'%p' formats a pointer, not u8"]),
    ('return out("%p", n)', ["'%p' formats a pointer, not i64"]),
    ('return wout(1, "%s", usize(small))', ["'%s' formats a string, not u8"]),   # usize() is looked through
    ('return wout(1, "%p", usize(counter))', ["'%p' formats a pointer, not u32"]),
    ('return out("%u %u", small)', ["'%u' has no argument: the format converts 2, the call passes 1"]),
    ('return out("%s")', ["'%s' has no argument: the format converts 1, the call passes 0"]),
    ('return out("done\\n", small)', ["the format converts 0 arguments, the call passes 1"]),
    ('return out("%u", small, n, p)', ["the format converts 1 arguments, the call passes 3"]),
    ('return out("%u%u%u%u", 1, 2, 3)', ["the format converts 4 arguments, 'out' takes at most 3"]),
    ('return out("%q", small)', ["'%q' is not a conversion (%d %u %x %X %p %s %c %%)",
                                 "the format converts 0 arguments, the call passes 1"]),
    ('return out("50%")', ["a '%' ends the format"]),
    ('return out("%u %s", p, small)', ["'%u' formats an unsigned integer, not Ptr[u8]",
                                       "'%s' formats a string, not u8"]),
])
def test_a_mismatch_is_a_located_error_at_the_call(root: Path, body: str, expected: list[str]) -> None:
    assert [e.split(": ", 1)[1] for e in format_errors(root, body)] == expected


def test_the_error_points_at_the_argument_or_at_the_conversion(root: Path) -> None:
    col = 4 + len('return out("a %s %x", ') + 1
    assert format_errors(root, 'return out("a %s %x", small, n)') == \
        [f"{FIRST}:{col}: '%s' formats a string, not u8"]
    statement = '    return out("é %08u and %s", 1)'
    [diag] = compile_text(root, (PRINTF + statement + "\n").encode("utf-8"))
    lines = diag.render().splitlines()
    col = statement.index("%s") + 1           # characters, not UTF-8 bytes
    assert lines[0] == f"m.py:{FIRST}:{col}: error: '%s' has no argument: the format converts 2, the call passes 1"
    assert lines[2] == "      | " + " " * (col - 1) + "^^"


def test_p_takes_an_unsigned_integer_as_wide_as_a_pointer(root: Path) -> None:
    body = 'return out("%p", counter)'
    assert format_errors(root, body, "armv8m") == []
    assert [e.split(": ", 1)[1] for e in format_errors(root, body, "riscv64")] == \
        ["'%p' formats a pointer, not u32"]


@pytest.mark.parametrize(("decorated", "expected"), [
    ('@printf_like("nope")\ndef g(fmt: Ptr[u8]) -> None:\n    pass\n', "'g' has no parameter 'nope'"),
    ('@printf_like("fmt")\ndef g(fmt: u32) -> None:\n    pass\n', "the format parameter 'fmt' must be a Ptr[u8], not u32"),
    ('@printf_like("fmt")\ndef g(fmt: Ptr[u8], a: u32) -> None:\n    pass\n',
     "'a' follows the format parameter: it must be an Arg or a usize, not u32"),
    ('@printf_like\ndef g(fmt: Ptr[u8]) -> None:\n    pass\n',
     '@printf_like takes the name of the format parameter: @printf_like("fmt")'),
])
def test_printf_like_names_a_string_parameter_followed_by_arguments(root: Path, decorated: str,
                                                                     expected: str) -> None:
    diags = compile_text(root, f"from kcc.lang import *\n\n\n{decorated}".encode())
    assert [d.message for d in diags] == [expected]
