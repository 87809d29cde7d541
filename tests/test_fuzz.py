"""Fuzzing the front end with mutated sources: no input, however malformed, escapes as a bare exception.

language.md, "Diagnostics": no input, however malformed, gives a bare traceback. Hypothesis
mutates the kernel's own sources (kernel_src/) and the seeds in tests/fixtures/fuzz/ (insert
tokens, delete spans, duplicate or swap lines, change integer literals, rename identifiers,
and AST-level rewrites that keep the text parseable so the type checker and the lowering are
reached). For every mutant, ``compile_program`` either raises CompileError, whose diagnostics
all render, or returns a module that LLVM's verifier accepts. The ``kcc check`` command on a
mutant exits 0 or 1 and never prints a traceback. Runs are derandomized and bounded; make fuzz-kcc runs
twenty times as many mutants (KCC_FUZZ_SCALE).
"""

from __future__ import annotations

import ast
import copy
import keyword
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import llvmlite.binding as llvm
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcc.boards import load_board
from kcc.cli import cli
from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError
from kcc.targets import get_target

REPO = Path(__file__).resolve().parent.parent
KERNEL = REPO / "kernel_src"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fuzz"

# Everything a mutation may insert: keywords, operators, punctuation, the names kcc.lang offers,
# literals at the edges of the integer types, and layout (newlines, indentation).
TOKENS = sorted(set(keyword.kwlist) - {"__peg_parser__"}) + [
    "(", ")", "[", "]", ":", ",", ".", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "//", "%",
    "<<", ">>", "&", "|", "^", "~", "+=", "<<=", "->", "@", "...", "*args", "**kw", ";",
    "u8", "i8", "u16", "i32", "u64", "i64", "usize", "isize", "bool", "Ptr", "Ptr[u8]", "Array",
    "Array[u32, 4]", "Reg[u32]", "Final", "NULL", "TARGET", "addr", "cast", "sizeof", "len", "range",
    "volatile_load", "volatile_store", "mmio", "asm", "extern_symbol", "panic", "struct", "@struct",
    "@export", '@export("x")', "@naked", "@extern", "@inline", "@noreturn", "@interrupt",
    '@section(".t")', "0", "1", "-1", "255", "256", "0xFFFF_FFFF", "1 << 63", "2 ** 64", "0.5", '"s"',
    'b"b"', 'f"{x}"', "[]", "{}", "x", "self", "print", "\n", "\n    ", "\n        ", "    ",
]
NUMBERS = [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, -128, -129, 255, 256, 65535, 65536,
           2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]
NAMES = ["u8", "i64", "usize", "bool", "Ptr", "Array", "Reg", "NULL", "TARGET", "Final", "addr", "cast",
         "sizeof", "len", "range", "panic", "asm", "mmio", "volatile_load", "struct", "export", "int",
         "None", "True", "x", "undefined_name"]
TYPES = ["u8", "i8", "u64", "i64", "usize", "bool", "Ptr[u8]", "Ptr[Ptr[u32]]", "Array[u8, 4]", "Array[u8, 0]",
         "Reg[u32]", "None", "Final", "Final[u8]", "int"]


@dataclass(frozen=True, order=True)
class Seed:
    """One source file that mutants derive from: its root, its path below it, its entry module, target."""

    root: str  # "kernel" or "fixtures"
    path: str
    target: str

    @property
    def entry(self) -> str:
        """The dotted module name compile_program takes for this file."""
        parts = list(Path(self.path).with_suffix("").parts)
        if parts[0] == "arch":  # arch/<target>/m.py is the module arch.m
            parts.pop(1)
        return ".".join(parts)


RISCV64 = get_target("riscv64")
# The fixtures use no board constants, so every target compiles them: 64- and 32-bit lowering.
FIXTURE_TARGETS = ("host", "riscv64", "armv8m", "i586")
_board = load_board("qemu-virt")
BOARD_CONSTANTS: dict[str, int | str] = _board.code_constants


def _kernel_ignore(directory: str, names: list[str]) -> set[str]:
    """Leave out caches and every arch directory but riscv64's: the kernel seeds are riscv64 programs."""
    skip = {"__pycache__"}
    if Path(directory) == KERNEL / "arch":
        skip |= {n for n in names if n != "riscv64" and (KERNEL / "arch" / n).is_dir()}
    return skip


@dataclass
class Corpus:
    """Private copies of the kernel's source root and of the fuzz fixtures, and the seeds in them."""

    roots: dict[str, Path]
    seeds: list[Seed]

    def pick(self, index: int) -> Seed:
        """The seed ``index`` names, modulo their number (hypothesis draws plain integers)."""
        return self.seeds[index % len(self.seeds)]

    def original(self, seed: Seed) -> str:
        """The seed's unmutated text."""
        return (KERNEL if seed.root == "kernel" else FIXTURES).joinpath(seed.path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Copy the sources (mutants are written there one file at a time) and list the seeds.

    Kernel seeds are the modules of the riscv64 kernel (what core.main reaches), so
    modules written for other boards are left out; every fixture is a seed for each
    of FIXTURE_TARGETS.
    """
    base = tmp_path_factory.mktemp("fuzz")
    roots = {"kernel": base / "kernel_src", "fixtures": base / "fixtures"}
    shutil.copytree(KERNEL, roots["kernel"], ignore=_kernel_ignore)
    # A core/ directory makes `kcc check` recognise the fixtures' directory as their source root.
    shutil.copytree(FIXTURES, roots["fixtures"], ignore=shutil.ignore_patterns("__pycache__"))
    (roots["fixtures"] / "core").mkdir()
    kernel = compile_program(roots["kernel"], "core.main", BuildOptions(RISCV64, board_constants=BOARD_CONSTANTS))
    seeds = sorted(Seed("kernel", str(Path(src.path).resolve().relative_to(roots["kernel"].resolve())), "riscv64")
                   for src in kernel.sources)
    seeds += [Seed("fixtures", str(p.relative_to(FIXTURES)), target)
              for p in sorted(FIXTURES.rglob("*.py")) for target in FIXTURE_TARGETS]
    return Corpus(roots, seeds)


# ----- text mutations ----------------------------------------------------------------------------

_BOUNDARY = re.compile(r"\b|(?<=[^\w\s])|(?=[^\w\s])|(?<=\s)(?=\S)")
_NUMBER = re.compile(r"(?<![\w.])(?:0[xX][0-9a-fA-F_]+|\d[\d_]*)(?![\w.])")
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_HEAD = re.compile(r"^(?:.+:\d+:\d+: (?:error|warning): |kcc: (?:error|warning): ).+")

text_ops = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("duplicate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("swap"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("number"), st.integers(0, 10**6), st.sampled_from(NUMBERS)),
    st.tuples(st.just("rename"), st.integers(0, 10**6), st.sampled_from(NAMES)),
)


def mutate_text(text: str, op: tuple) -> str:
    """Apply one text operation; positions are taken modulo the candidates the text offers."""
    kind, a, b = op
    if kind == "insert":
        spots = [m.start() for m in _BOUNDARY.finditer(text)] or [0]
        i = spots[a % len(spots)]
        return text[:i] + f" {b} " + text[i:]
    if kind == "delete":
        spots = [m.start() for m in _BOUNDARY.finditer(text)] or [0]
        i = spots[a % len(spots)]
        return text[:i] + text[i + b:]
    lines = text.split("\n")
    if kind == "duplicate":
        k = a % len(lines)
        return "\n".join(lines[:k + 1] + lines[k:])
    if kind == "swap":
        i, j = a % len(lines), b % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    pattern = _NUMBER if kind == "number" else _IDENT
    found = list(pattern.finditer(text))
    if not found:
        return text
    m = found[a % len(found)]
    return text[:m.start()] + str(b) + text[m.end():]


# ----- AST mutations (the result still parses, so later stages run) ----------------------------------

def _nodes(tree: ast.AST, kind: type | tuple[type, ...]) -> list:
    return [n for n in ast.walk(tree) if isinstance(n, kind)]


def _replace_child(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[next(i for i, v in enumerate(value) if v is old)] = new
                return


ast_ops = st.one_of(
    st.tuples(st.just("swap-expr"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("constant"), st.integers(0, 10**6), st.sampled_from(NUMBERS + [True, "s", None])),
    st.tuples(st.just("statement"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("operator"), st.integers(0, 10**6), st.sampled_from(
        ["Add", "Sub", "Mult", "FloorDiv", "Mod", "LShift", "RShift", "BitAnd", "BitOr", "BitXor"])),
    st.tuples(st.just("name"), st.integers(0, 10**6), st.sampled_from(NAMES)),
    st.tuples(st.just("annotation"), st.integers(0, 10**6), st.sampled_from(TYPES)),
    st.tuples(st.just("arguments"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("compare"), st.integers(0, 10**6), st.sampled_from(["Eq", "NotEq", "Lt", "GtE"])),
)


def mutate_tree(tree: ast.Module, op: tuple) -> None:
    """Apply one AST operation in place; indices are taken modulo the candidate nodes."""
    kind, a, b = op
    if kind == "swap-expr":
        exprs = _nodes(tree, ast.expr)
        if exprs:
            _replace_child(tree, exprs[a % len(exprs)], copy.deepcopy(exprs[b % len(exprs)]))
    elif kind == "constant":
        consts = _nodes(tree, ast.Constant)
        if consts:
            consts[a % len(consts)].value = b
    elif kind == "statement":
        bodies = [n.body for n in ast.walk(tree) if isinstance(getattr(n, "body", None), list) and n.body]
        body = bodies[a % len(bodies)]
        i = b % len(body)
        action = b % 3
        if action == 0:
            body.insert(i, copy.deepcopy(body[i]))
        elif action == 1 and len(body) > 1:
            del body[i]
        else:
            other = bodies[b % len(bodies)]
            other.insert(a % (len(other) + 1), copy.deepcopy(body[i]))
    elif kind == "operator":
        ops = _nodes(tree, (ast.BinOp, ast.AugAssign))
        if ops:
            ops[a % len(ops)].op = getattr(ast, b)()
    elif kind == "name":
        names = _nodes(tree, ast.Name)
        if names:
            names[a % len(names)].id = b
    elif kind == "annotation":
        decls = _nodes(tree, (ast.AnnAssign, ast.arg))
        if decls:
            decls[a % len(decls)].annotation = ast.parse(b, mode="eval").body
    elif kind == "arguments":
        calls = _nodes(tree, ast.Call)
        exprs = _nodes(tree, ast.expr)
        if calls:
            call = calls[a % len(calls)]
            if b % 2 and call.args:
                del call.args[b % len(call.args)]
            else:
                call.args.append(copy.deepcopy(exprs[b % len(exprs)]))
    elif kind == "compare":
        compares = _nodes(tree, ast.Compare)
        if compares:
            compares[a % len(compares)].ops[0] = getattr(ast, b)()


# ----- the properties --------------------------------------------------------------------------------

@contextmanager
def mutant_file(roots: dict[str, Path], seed: Seed, text: str) -> Iterator[Path]:
    """Write ``text`` over the seed's file in its private root for the body of a with-block."""
    path = roots[seed.root] / seed.path
    original = path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    try:
        yield path
    finally:
        path.write_text(original, encoding="utf-8")


def compiles_or_fails_cleanly(roots: dict[str, Path], seed: Seed, text: str) -> str:
    """Compile the mutant; returns "ok" or "error". Fails the test on any other outcome.

    "error": CompileError with at least one diagnostic, each rendering with a
    ``path:line:col: error:`` head (or ``kcc: error:`` when it has no place).
    "ok": the IR parses and LLVM's verifier accepts it.
    """
    target = get_target(seed.target)
    constants = BOARD_CONSTANTS if seed.root == "kernel" else {}
    with mutant_file(roots, seed, text):
        try:
            program = compile_program(roots[seed.root], seed.entry, BuildOptions(target, board_constants=constants))
        except CompileError as exc:
            assert exc.diagnostics, "CompileError without diagnostics"
            for diag in exc.diagnostics:
                head = diag.render().splitlines()[0]
                assert _HEAD.match(head), head
            return "error"
    llvm.parse_assembly(str(program.ir)).verify()
    return "ok"


FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Mutants per property are multiplied by KCC_FUZZ_SCALE: 1 in make check (a few hundred mutants,
# kept so because each compiles most of the kernel), more for a campaign (make fuzz-kcc).
SCALE = int(os.environ.get("KCC_FUZZ_SCALE", "1"))
SEED_INDEX = st.integers(0, 10**6)


def text_mutant(corpus: Corpus, index: int, ops: list[tuple]) -> tuple[Seed, str]:
    """The seed ``index`` picks and its text after the text mutations ``ops``, in order."""
    seed = corpus.pick(index)
    text = corpus.original(seed)
    for op in ops:
        text = mutate_text(text, op)
    return seed, text


@settings(FUZZ, max_examples=100 * SCALE)
@given(index=SEED_INDEX, ops=st.lists(text_ops, min_size=1, max_size=4))
def test_text_mutants_compile_or_fail_with_diagnostics(corpus: Corpus, index: int, ops: list[tuple]) -> None:
    seed, text = text_mutant(corpus, index, ops)
    compiles_or_fails_cleanly(corpus.roots, seed, text)


@settings(FUZZ, max_examples=150 * SCALE)
@given(index=SEED_INDEX, ops=st.lists(ast_ops, min_size=1, max_size=3))
def test_ast_mutants_compile_or_fail_with_diagnostics(corpus: Corpus, index: int, ops: list[tuple]) -> None:
    seed = corpus.pick(index)
    tree = ast.parse(corpus.original(seed))
    for op in ops:
        mutate_tree(tree, op)
    try:
        text = ast.unparse(ast.fix_missing_locations(tree))
    except (ValueError, TypeError, AttributeError):
        return  # ast.unparse itself cannot print some mutants (e.g. a None constant as an annotation target)
    compiles_or_fails_cleanly(corpus.roots, seed, text)


@settings(FUZZ, max_examples=30 * SCALE)
@given(index=SEED_INDEX, ops=st.lists(text_ops, min_size=1, max_size=3))
def test_kcc_check_on_a_mutant_never_prints_a_traceback(corpus: Corpus, index: int, ops: list[tuple]) -> None:
    seed, text = text_mutant(corpus, index, ops)
    with mutant_file(corpus.roots, seed, text) as path:
        result = CliRunner().invoke(cli, ["check", "--arch", seed.target, str(path)])
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "error:" in result.output
    else:
        assert "no errors" in result.output


def test_unmutated_seeds_compile(corpus: Corpus) -> None:
    """The seeds are valid programs, so mutants start from code that reaches every stage."""
    assert len([s for s in corpus.seeds if s.root == "kernel"]) >= 10
    for seed in corpus.seeds:
        assert compiles_or_fails_cleanly(corpus.roots, seed, corpus.original(seed)) == "ok", seed


# Minimal programs distilled from failures the fuzzing found: (source, "ok" or "error").
REGRESSIONS = [
    pytest.param("X: Final = 1 << (1 << 63)\n", "error", id="huge-constant-shift"),
    pytest.param("def f() -> u8:\n    return 1 << 20000\n", "error", id="constant-of-thousands-of-digits"),
    pytest.param("def f(a: u32, c: bool) -> u32:\n    return a << (1 if c else 2)\n", "ok",
                 id="shift-by-conditional-literals"),
    *[pytest.param(f"def f(x: u32) -> bool:\n    {body}\n", "ok",
                   id=f"conditional-literals-{name}")
      for name, body in [("compared", "return (0 if x == 0 else 1) == 0"),
                         ("as-condition", "return True if (0 if x == 0 else 1) else False"),
                         ("negated", "return not (2 if x == 0 else 1)")]],
    pytest.param("def f(c: bool) -> u8:\n    return u8(1 if c else 2)\n", "ok",
                 id="conversion-of-conditional-literals"),
    pytest.param("def f() -> u64:\n    return u64(3) << 5000\n", "ok",
                 id="typed-constant-shifted-far"),
    pytest.param("@struct\nclass S:\n    a: S\n\n\ns: S\n", "error",
                 id="global-of-recursive-struct"),
    pytest.param("def f() -> u8:\n    a: Array[u8, 1 << 64]\n    return a[0]\n", "error",
                 id="array-larger-than-memory"),
    pytest.param("g: Array[u8, 1 << 64]\n", "error",
                 id="global-array-larger-than-memory"),
]


@pytest.mark.parametrize("body, outcome", REGRESSIONS)
def test_fuzzing_regressions(tmp_path: Path, body: str, outcome: str) -> None:
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\n" + body, encoding="utf-8")
    seed = Seed("fixtures", "m.py", "host")
    assert compiles_or_fails_cleanly({"fixtures": tmp_path}, seed, (tmp_path / "m.py").read_text()) == outcome


@pytest.mark.parametrize("op, before, after", [
    (("insert", 0, "+"), "a = b", " + a = b"),
    (("delete", 2, 3), "a = b + c", "a  + c"),
    (("duplicate", 1, 0), "x\ny\nz", "x\ny\ny\nz"),
    (("swap", 0, 2), "x\ny\nz", "z\ny\nx"),
    (("number", 1, 256), "a = 1 + 0x10", "a = 1 + 256"),
    (("rename", 0, "NULL"), "p = q", "NULL = q"),
])
def test_text_mutations_do_what_they_say(op: tuple, before: str, after: str) -> None:
    assert mutate_text(before, op) == after
