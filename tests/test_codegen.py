"""What the generated code holds: volatile accesses kept by the optimiser, decorators seen in the ELF,
inline asm on riscv64, checked versus release builds, and TARGET pruning.

The sources are in tests/fixtures/codegen/. Each property is checked where it
matters: in the optimised IR (kcc.optimize, the pipeline the build uses) and in
the machine code of the object (kcc.emit.emit_object, disassembled with
capstone, symbols read with pyelftools). Every volatile test has a plain-access
twin that the optimiser does merge or remove, so the counts show that the
optimiser ran and that volatility, not luck, kept the accesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import capstone
import llvmlite.binding as llvm
import pytest
from elftools.elf.elffile import ELFFile

from kcc.compiler import BuildOptions, Program, compile_program
from kcc.diagnostics import CompileError
from kcc.emit import emit_object
from kcc.optimize import optimize
from kcc.runtime import PanicKind
from kcc.targets import get_target

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "codegen"
RISCV64 = get_target("riscv64")
HOST = get_target("host")

# RV64GC loads and stores as capstone 5 spells them (RISC-V unprivileged spec, chapters 2, 5 and 16).
LOADS = {"lb", "lbu", "lh", "lhu", "lw", "lwu", "ld", "c.lw", "c.ld", "c.lwsp", "c.ldsp"}
STORES = {"sb", "sh", "sw", "sd", "c.sw", "c.sd", "c.swsp", "c.sdsp"}
BRANCHES = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "blez", "bgez", "bltz", "bgtz",
            "c.beqz", "c.bnez", "j", "c.j", "jal"}


@cache
def program(module: str, target: str = "riscv64", checked: bool = False) -> Program:
    """The fixture module compiled by the front end (cached: programs are only read)."""
    return compile_program(FIXTURES, module, BuildOptions(get_target(target), checked=checked))


@cache
def lowered_ir(module: str, target: str = "riscv64", checked: bool = False) -> str:
    """The fixture's unoptimised IR as LLVM prints it (llvmlite's own printing quotes every name)."""
    return str(llvm.parse_assembly(str(program(module, target, checked).ir)))


@cache
def optimised_ir(module: str, level: int = 2, checked: bool = False) -> str:
    """The fixture's riscv64 IR after kcc.optimize at -O``level``."""
    return str(optimize(str(program(module, checked=checked).ir), RISCV64, level))


def function_ir(ir_text: str, symbol: str) -> str:
    """The body of the definition of ``symbol`` in ``ir_text``; fails when it is not defined."""
    m = re.search(rf'^define [^\n]*@"?{re.escape(symbol)}"?\(.*?^}}$', ir_text, re.MULTILINE | re.DOTALL)
    assert m, f"no definition of {symbol}"
    return m.group(0)


def blocks(fn_ir: str) -> dict[str, tuple[list[str], list[str]]]:
    """Basic blocks of one function's IR: label -> (instruction lines, successor labels)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    label = "entry"
    for line in fn_ir.splitlines()[1:]:
        head = re.match(r"^([\w.]+):", line)
        if head:
            label = head.group(1)
            continue
        if line.strip() and line.strip() != "}":
            out.setdefault(label, ([], []))[0].append(line.strip())
    for lines, succ in out.values():
        if lines and lines[-1].startswith(("br ", "switch ")):
            succ.extend(re.findall(r"label %([\w.]+)", lines[-1]))
    return out


def in_loop(fn_ir: str, pattern: str) -> bool:
    """True when an instruction matching ``pattern`` lies in a block that can reach itself (a loop)."""
    graph = blocks(fn_ir)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start][1])
        while todo:
            b = todo.pop()
            if b == goal:
                return True
            if b not in seen and b in graph:
                seen.add(b)
                todo.extend(graph[b][1])
        return False
    return any(any(re.search(pattern, ln) for ln in lines) and reaches(label, label)
               for label, (lines, _) in graph.items())


def count(fn_ir: str, what: str) -> int:
    """Instructions of ``fn_ir`` starting with ``what`` (after any ``%x = ``), e.g. "store volatile"."""
    return sum(1 for ln in fn_ir.splitlines() if re.match(rf"\s*(%[\w.]+ = )?{what}\b", ln))


# ----- objects and disassembly ---------------------------------------------------------------------

@dataclass
class Function:
    """One function symbol of an object: section, binding and its instructions."""

    name: str
    section: str
    binding: str
    code: list[capstone.CsInsn]

    def mnemonics(self) -> list[str]:
        """The instructions' mnemonics, in order (for assertion messages)."""
        return [i.mnemonic for i in self.code]

    def loads(self) -> int:
        """How many load instructions the function holds."""
        return sum(1 for i in self.code if i.mnemonic in LOADS)

    def stores(self) -> int:
        """How many store instructions the function holds."""
        return sum(1 for i in self.code if i.mnemonic in STORES)

    def access_in_loop(self, kinds: set[str]) -> bool:
        """True when an instruction of ``kinds`` lies between a backward branch's target and the branch."""
        for br in self.code:
            if br.mnemonic not in BRANCHES:
                continue
            imm = [op.imm for op in br.operands if op.type == capstone.riscv.RISCV_OP_IMM]
            if imm and imm[-1] < 0:
                start = br.address + imm[-1]
                if any(start <= i.address < br.address and i.mnemonic in kinds for i in self.code):
                    return True
        return False


def disassemble(obj: Path) -> dict[str, Function]:
    """Every STT_FUNC symbol of a riscv64 object with its disassembled body."""
    md = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
    md.detail = True
    out = {}
    with obj.open("rb") as fh:
        elf = ELFFile(fh)
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC":
                continue
            section = elf.get_section(sym["st_shndx"])
            start = sym["st_value"]
            code = list(md.disasm(section.data()[start:start + sym["st_size"]], start))
            out[sym.name] = Function(sym.name, section.name, sym["st_info"]["bind"], code)
    return out


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory):
    """``objects(module, checked=False)``: the fixture's riscv64 object at -O2, disassembled (cached)."""
    out_dir = tmp_path_factory.mktemp("codegen")
    made: dict[tuple[str, bool], dict[str, Function]] = {}

    def get(module: str, checked: bool = False) -> dict[str, Function]:
        """Compile, optimise at -O2, emit and disassemble ``module`` once per build mode."""
        if (module, checked) not in made:
            mod = optimize(str(program(module, checked=checked).ir), RISCV64, 2)
            obj = emit_object(mod, RISCV64, out_dir / f"{module}-{int(checked)}.o", 2)
            made[module, checked] = disassemble(obj)
        return made[module, checked]
    return get


# ----- volatile accesses survive the optimiser (language.md, "Volatile accesses and MMIO registers") ------------------------------

# function -> (volatile loads, volatile stores) after the optimiser, for straight-line code.
STRAIGHT = {"store_twice": (0, 2), "load_twice": (2, 0), "unused_load": (1, 0), "set_clear": (2, 2)}
# The plain twins: what the optimiser makes of the same accesses without volatile.
PLAIN = {"plain_store_twice": (0, 1), "plain_load_twice": (1, 0), "plain_unused_load": (0, 0)}


@pytest.mark.parametrize("checked", [False, True], ids=["release", "checked"])
@pytest.mark.parametrize("level", [1, 2, 3])
def test_volatile_accesses_are_kept_in_optimised_ir(level: int, checked: bool) -> None:
    ir_text = optimised_ir("volatile", level, checked)
    for name, (loads, stores) in STRAIGHT.items():
        fn = function_ir(ir_text, name)
        assert (count(fn, "load volatile"), count(fn, "store volatile")) == (loads, stores), fn
    for name, (loads, stores) in PLAIN.items():
        fn = function_ir(ir_text, name)
        assert (count(fn, "load"), count(fn, "store")) == (loads, stores), fn
        assert "volatile" not in fn


@pytest.mark.parametrize("level", [1, 2, 3])
def test_volatile_accesses_in_loops_stay_in_the_loop(level: int) -> None:
    ir_text = optimised_ir("volatile", level)
    poll = function_ir(ir_text, "poll")
    assert in_loop(poll, r"load volatile i32, ptr inttoptr \(i64 268435460 to ptr\)"), poll  # status
    assert not in_loop(poll, r"load volatile i32, ptr inttoptr \(i64 268435456 to ptr\)"), poll  # data
    write_n = function_ir(ir_text, "write_n")
    assert in_loop(write_n, "store volatile"), write_n
    plain = function_ir(ir_text, "plain_write_n")
    assert count(plain, "store") >= 1 and not in_loop(plain, "store"), plain
    four = function_ir(ir_text, "write_four")
    # Each of the four writes happens: unrolled into four stores of 0..3, or still a loop.
    unrolled = [int(v) for v in re.findall(r"store volatile i32 (\d+),", four)]
    assert unrolled == [0, 1, 2, 3] or in_loop(four, "store volatile"), four


def test_volatile_accesses_are_kept_in_machine_code(objects) -> None:
    fns = objects("volatile")
    for name, (loads, stores) in {**STRAIGHT, **PLAIN}.items():
        assert (fns[name].loads(), fns[name].stores()) == (loads, stores), (name, fns[name].mnemonics())
    assert fns["poll"].loads() == 2 and fns["poll"].access_in_loop(LOADS), fns["poll"].mnemonics()
    assert fns["write_n"].access_in_loop(STORES), fns["write_n"].mnemonics()
    assert not fns["plain_write_n"].access_in_loop(STORES), fns["plain_write_n"].mnemonics()
    four = fns["write_four"]
    assert four.stores() == 4 or four.access_in_loop(STORES), four.mnemonics()


def test_checked_build_keeps_volatile_accesses_in_machine_code(objects) -> None:
    fns = objects("volatile", checked=True)
    for name, (loads, stores) in STRAIGHT.items():
        assert (fns[name].loads(), fns[name].stores()) == (loads, stores), (name, fns[name].mnemonics())


# ----- decorators in the ELF (language.md, "Decorators") -----------------------------------------------

def test_section_places_the_function(objects) -> None:
    fns = objects("machine")
    assert fns["boot_entry"].section == ".text.boot"
    assert fns["framed"].section == ".text"


def test_export_gives_a_global_symbol_of_that_name(objects) -> None:
    fns = objects("machine")
    for name in ("boot_entry", "naked_entry", "framed", "read_scause", "write_sscratch", "elapsed"):
        assert fns[name].binding == "STB_GLOBAL", name
    # A function without @export keeps its module-qualified name, local to the object.
    assert fns["machine.helper"].binding == "STB_LOCAL"
    assert "helper" not in fns


def test_naked_function_is_exactly_its_asm(objects) -> None:
    naked = objects("machine")["naked_entry"]
    text = [f"{i.mnemonic} {i.op_str}".strip() for i in naked.code]
    # No prologue, no epilogue: the first instruction is the first asm line, the last is the `ret` written.
    assert text[:2] == ["csrr t0, sscratch", "csrw sscratch, t0"], text
    assert text[2:] in (["c.jr ra"], ["ret"], ["jalr zero, 0(ra)"]), text


def test_a_function_that_calls_has_a_prologue(objects) -> None:
    # The contrast for the naked test: an ordinary function that calls saves ra on a stack frame first.
    framed = objects("machine")["framed"]
    first = framed.code[0]
    assert first.mnemonic in ("addi", "c.addi", "c.addi16sp") and re.match(r"sp, (sp, )?-", first.op_str), \
        framed.mnemonics()
    assert any(i.mnemonic in ("sd", "c.sdsp") and i.op_str.startswith("ra,") for i in framed.code[:4])


# ----- inline asm on riscv64 ---------------------------------------------------------------------------

def test_asm_emits_the_instruction_inline(objects) -> None:
    fns = objects("machine")
    assert [f"{i.mnemonic} {i.op_str}" for i in fns["read_scause"].code[:1]] == ["csrr a0, scause"]
    assert [f"{i.mnemonic} {i.op_str}" for i in fns["write_sscratch"].code[:1]] == ["csrw sscratch, a0"]
    # An @inline function's asm ends up inside its caller, with no call left.
    elapsed = fns["elapsed"]
    assert "rdtime" in elapsed.mnemonics()
    assert not {"jal", "jalr", "auipc"} & set(elapsed.mnemonics())


def test_asm_in_ir_is_a_sideeffect_call_with_register_operands() -> None:
    ir_text = lowered_ir("machine")
    assert 'asm sideeffect "csrr $0, scause", "=r"()' in function_ir(ir_text, "read_scause")
    assert 'asm sideeffect "csrw sscratch, $0", "r"(i64 ' in function_ir(ir_text, "write_sscratch")


# ----- checked and release builds (language.md, "Checked and release builds") -------------------------------------------

PANIC_CALL = re.compile(r"call void @__kcc_panic\(i32 (\d+), ptr (?:nonnull )?@[\w.]+, ptr (?:nonnull )?@[\w.]+, "
                        r"i32 (\d+), i32 (\d+)\)")


def panics(fn_ir: str) -> list[tuple[int, int, int]]:
    """(kind, line, column) of every __kcc_panic call in a function's IR."""
    return [tuple(map(int, m.groups())) for m in PANIC_CALL.finditer(fn_ir)]


def test_signed_add_is_checked_only_in_checked_builds() -> None:
    checked = function_ir(lowered_ir("checks", checked=True), "signed_add")
    assert "@llvm.sadd.with.overflow.i32" in checked
    assert panics(checked) == [(PanicKind.OVERFLOW, 8, 12)]  # `a + b` on line 8, column 12
    release = function_ir(lowered_ir("checks", checked=False), "signed_add")
    assert "with.overflow" not in release and not panics(release)
    assert count(release, "add") == 1


def test_overflow_check_survives_the_optimiser() -> None:
    assert panics(function_ir(optimised_ir("checks", 2, checked=True), "signed_add"))
    assert not panics(function_ir(optimised_ir("checks", 2, checked=False), "signed_add"))


def test_unsigned_add_wraps_unchecked_in_both_modes() -> None:
    for checked in (True, False):
        fn = function_ir(lowered_ir("checks", checked=checked), "unsigned_add")
        assert not panics(fn) and "with.overflow" not in fn


def test_bounds_and_assert_checks_only_in_checked_builds() -> None:
    checked = lowered_ir("checks", checked=True)
    release = lowered_ir("checks", checked=False)
    assert [k for k, _, _ in panics(function_ir(checked, "element"))] == [PanicKind.INDEX]
    assert [k for k, _, _ in panics(function_ir(checked, "checked_assert"))] == [PanicKind.ASSERT]
    assert not panics(function_ir(release, "element"))
    assert not panics(function_ir(release, "checked_assert"))


def test_checked_build_calls_panic_in_machine_code(objects) -> None:
    checked = objects("checks", checked=True)["signed_add"]
    release = objects("checks")["signed_add"]
    assert any(i.mnemonic in ("jal", "jalr", "auipc", "j", "c.j") for i in checked.code)
    assert [i.mnemonic for i in release.code] in (["c.addw", "c.jr"], ["addw", "c.jr"], ["addw", "ret"]), \
        release.mnemonics()


# ----- TARGET pruning (language.md, "`TARGET`") ---------------------------------------------------------

def test_target_test_keeps_only_the_branch_taken() -> None:
    riscv = function_ir(lowered_ir("pruning"), "which")
    assert "@pruning.only_riscv(" in riscv and "only_host" not in riscv
    host = function_ir(lowered_ir("pruning", target="host"), "which")
    assert "@pruning.only_host(" in host and "only_riscv" not in host
    assert blocks(riscv).keys() == {"entry"}  # no branch left: the test was decided while compiling


def test_function_only_the_pruned_branch_calls_is_gone_from_the_object(objects) -> None:
    fns = objects("pruning")
    assert "pruning.only_riscv" in fns and "pruning.shared" in fns
    assert "pruning.only_host" not in fns


def test_module_level_target_test_defines_one_variant() -> None:
    riscv = lowered_ir("pruning_module")
    assert 'c"rv64\\00"' in riscv and 'c"other\\00"' not in riscv
    assert "ret i32 64" in function_ir(riscv, "pruning_module.arch_word")
    host = lowered_ir("pruning_module", target="host")
    assert 'c"other\\00"' in host and "ret i32 0" in function_ir(host, "pruning_module.arch_word")


def test_the_branch_not_taken_is_not_type_checked(tmp_path: Path) -> None:
    # Arch-specific code may name what only exists on another architecture.
    (tmp_path / "m.py").write_text(
        "from kcc.lang import *\n\n\n@export(\"f\")\ndef f() -> u32:\n"
        "    if TARGET == \"i586\":\n        return PIC_PORT + 1\n    return 1\n", encoding="utf-8")
    ir_text = str(compile_program(tmp_path, "m", BuildOptions(RISCV64)).ir)
    assert "ret i32 1" in function_ir(ir_text, "f")
    with pytest.raises(CompileError) as info:
        compile_program(tmp_path, "m", BuildOptions(get_target("i586")))
    assert info.value.diagnostics[0].message == "name 'PIC_PORT' is not defined"


def test_interrupt_handler_convention_per_target() -> None:
    """@interrupt: riscv64 gets LLVM's "interrupt"="supervisor" (returns with sret), i586 the
    x86_intrcc calling convention (returns with iretl); both per the LLVM LangRef and backends."""
    riscv = lowered_ir("interrupt_handler", "riscv64")
    assert '"interrupt"="supervisor"' in riscv
    i586 = get_target("i586")
    ir_text = str(program("interrupt_handler", "i586").ir)
    assert "define x86_intrcc void @\"irq_handler\"()" in ir_text
    assembly = i586.target_machine(2).emit_assembly(optimize(ir_text, i586, 2))
    body = assembly.split("irq_handler:", 1)[1].split(".Lfunc_end", 1)[0]
    assert "iretl" in body and "\tretl" not in body
    rv_asm = RISCV64.target_machine(2).emit_assembly(optimize(str(program("interrupt_handler").ir), RISCV64, 2))
    rv_body = rv_asm.split("irq_handler:", 1)[1].split(".Lfunc_end", 1)[0]
    assert "sret" in rv_body


def test_calling_an_interrupt_handler_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "from kcc.lang import *\n\n\n@interrupt\ndef h() -> None:\n    pass\n\n\ndef f() -> None:\n    h()\n",
        encoding="utf-8")
    with pytest.raises(CompileError) as info:
        compile_program(tmp_path, "m", BuildOptions(HOST))
    [diag] = info.value.diagnostics
    assert (diag.line, diag.col) == (10, 5)
    assert "@interrupt handler" in diag.message


# ----- globals ---------------------------------------------------------------------------------------

def test_pointer_global_initialised_with_null_is_zeroed(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\nhead: Ptr[u32] = NULL\n\n\n"
                                   "@export(\"get\")\ndef get() -> Ptr[u32]:\n    return head\n", encoding="utf-8")
    ir_text = str(llvm.parse_assembly(str(compile_program(tmp_path, "m", BuildOptions(RISCV64)).ir)))
    assert re.search(r'^@"?m\.head"? = internal global ptr null', ir_text, re.MULTILINE), ir_text


def test_volatile_accesses_carry_their_source_line() -> None:
    """MMIO accesses map back to their Python line in the DWARF line table like every other instruction."""
    ir_text = str(program("volatile").ir)
    volatile = [line for line in ir_text.splitlines() if "load volatile" in line or "store volatile" in line]
    assert volatile and all("!dbg" in line for line in volatile)


# ----- locals ----------------------------------------------------------------------------------------

def test_aggregate_locals_are_zeroed_with_memset() -> None:
    """A zeroed array or struct local is one llvm.memset of its size, never an aggregate store.

    Storing ``[N x i8] zeroinitializer`` makes the code generator split the store per element,
    which takes LLVM quadratic time in N (a 16 KiB local once took 84 s to emit).
    """
    ir_text = lowered_ir("locals")
    for symbol, size in (("big_local", 32768), ("struct_local", 16)):
        body = function_ir(ir_text, symbol)
        assert re.search(rf"call void @llvm\.memset\.p0\.i64\(ptr [^,]+, i8 0, i64 {size}, i1 false\)", body), body
        assert not re.search(r"store \[|store %|zeroinitializer", body), body


def test_zeroed_aggregate_local_compiles_to_a_memset_call_or_loop(objects) -> None:
    """The 32 KiB local is cleared by a call (memset) in the object, not by 32768 stores."""
    fn = objects("locals")["big_local"]
    assert len(fn.code) < 100, fn.mnemonics()
    assert fn.stores() < 10, fn.mnemonics()


# ----- bounds checks hoisted out of loops -------------------------------------------------------------

def unchecked_loops(fn_ir: str) -> int:
    """Loops of ``fn_ir`` (sets of blocks on one cycle) that store and cannot branch to a panic."""
    graph = blocks(fn_ir)
    panics = {label for label, (lines, _) in graph.items() if any("__kcc_panic" in ln for ln in lines)}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ([], []))[1]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    loops = set()
    for label in graph:
        forward = reach(label)
        if label in forward:
            loops.add(frozenset(x for x in forward if label in reach(x)))
    return sum(1 for loop in loops
               if any(ln.startswith("store") for x in loop for ln in graph[x][0])
               and not any(set(graph[x][1]) & panics for x in loop))


@pytest.mark.parametrize("symbol", ["fill", "fill_from"])
def test_bounds_check_of_a_loop_with_a_known_trip_count_is_hoisted(symbol: str) -> None:
    """Checked build: a version of the loop without its bounds checks runs when the range fits the array."""
    fn = function_ir(optimised_ir("hoist", checked=True), symbol)
    assert unchecked_loops(fn) >= 1, fn
    assert "__kcc_panic" in fn  # the other version keeps the checks


def test_a_loop_that_moves_its_variable_keeps_its_checks() -> None:
    fn = function_ir(optimised_ir("hoist", checked=True), "fill_skipping")
    assert unchecked_loops(fn) == 0, fn


def test_hoisted_loops_panic_where_python_does(tmp_path: Path) -> None:
    """Versioning changes no behaviour: the checked loop runs when the range does not fit, and panics
    at the first bad index after the earlier iterations' stores."""
    from kcc.host import load_host

    m = load_host(FIXTURES / "hoist.py", checked=True)
    m.fill(64, 7)
    assert m.total() == 64 * 7
    with pytest.raises(IndexError):
        m.fill(65, 1)
    assert m.total() == 64
    with pytest.raises(IndexError):
        m.fill_from(-1, 3, 2)
    assert m.total() == 64
    m.fill_from(10, 20, 2)
    assert m.total() == 64 + 10
    with pytest.raises(IndexError):
        m.fill_skipping(64, 5)
