"""kcc.llir prints the IR text llvmlite.ir prints for the same calls, and LLVM accepts it.

kcc.llir replaced llvmlite.ir in the front end for speed (kcc/llir.py's module doc); its text was
kept byte for byte llvmlite's so that the change could be checked on whole programs. These tests
keep it so: the same module is built through both APIs and the texts compared.
"""

from __future__ import annotations

from types import ModuleType

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import llvmlite.binding as llvm
import pytest
from llvmlite import ir as llvmlite_ir

from kcc import llir
from kcc.boards import load_board
from kcc.compiler import BuildOptions, compile_program
from kcc.paths import data_dir
from kcc.targets import get_target


def build(ir: ModuleType) -> str:
    """A module exercising every part of the API kcc.lower uses, built with ``ir``; its text."""
    module = ir.Module(name="probe", context=ir.Context())
    module.triple = "riscv64-unknown-none-elf"
    i8, i32, i64, ptr = ir.IntType(8), ir.IntType(32), ir.IntType(64), ir.PointerType()
    pair = module.context.get_identified_type("Pair")
    pair.set_body(i32, ir.ArrayType(i8, 3))
    pair.packed = True

    text = ir.GlobalVariable(module, ir.ArrayType(i8, 6), ".str.0")
    text.initializer = ir.Constant(ir.ArrayType(i8, 6), bytearray(b'a"\\\n\0\xff'))
    text.global_constant = True
    text.linkage = "private"
    text.unnamed_addr = True
    table = ir.GlobalVariable(module, ir.ArrayType(i32, 3), "table")
    table.initializer = ir.Constant(ir.ArrayType(i32, 3), [ir.Constant(i32, v) for v in (1, -2, 3)])
    table.linkage = "internal"
    table.align = 4
    table.section = ".rodata.t"
    record = ir.GlobalVariable(module, pair, "record")
    record.initializer = ir.Constant(pair, [ir.Constant(i32, 7), ir.Constant(ir.ArrayType(i8, 3), None)])
    ir.GlobalVariable(module, i8, "linker_symbol")

    di_file = module.add_debug_info("DIFile", {"filename": "m.py", "directory": "/src dir"})
    unit = module.add_debug_info("DICompileUnit", {
        "language": ir.DIToken("DW_LANG_Python"), "file": di_file, "producer": "kcc", "isOptimized": False,
        "emissionKind": ir.DIToken("FullDebug"), "globals": module.add_metadata([])}, is_distinct=True)
    module.add_named_metadata("llvm.dbg.cu", unit)
    module.add_named_metadata("llvm.module.flags", [ir.Constant(i32, 2), "Dwarf Version", ir.Constant(i32, 4)])
    module.add_named_metadata("llvm.module.flags", [ir.Constant(i32, 2), "Debug Info Version", ir.Constant(i32, 3)])
    basic = module.add_debug_info("DIBasicType", {"name": "u32", "size": 32,
                                                  "encoding": ir.DIToken("DW_ATE_unsigned")})
    again = module.add_debug_info("DIBasicType", {"name": "u32", "size": 32,
                                                  "encoding": ir.DIToken("DW_ATE_unsigned")})
    assert again is basic  # an encoding token compares by its word
    subroutine = module.add_debug_info("DISubroutineType", {"types": module.add_metadata([None, basic])})

    callee = ir.Function(module, ir.FunctionType(i32, [i32, ptr]), "callee")
    callee.calling_convention = "fastcc"
    callee.args[0].add_attribute("signext")
    callee.return_value.add_attribute("zeroext")
    variadic = ir.Function(module, ir.FunctionType(ir.VoidType(), [ptr], var_arg=True), "printf_like")
    meta = ir.MetaDataType()
    declare = ir.Function(module, ir.FunctionType(ir.VoidType(), [meta, meta, meta]), "llvm.dbg.declare")

    fn = ir.Function(module, ir.FunctionType(i32, [i32, i32, ptr]), "probe")
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    fn.section = ".text.probe"
    fn.linkage = "internal"
    for arg, name in zip(fn.args, ("a", "b", "p"), strict=True):
        arg.name = name
    sp = module.add_debug_info("DISubprogram", {
        "name": "m.probe", "linkageName": "probe", "scope": di_file, "file": di_file, "line": 3, "type": subroutine,
        "flags": ir.DIToken("DIFlagPrototyped"), "spFlags": ir.DIToken("DISPFlagDefinition"), "unit": unit},
        is_distinct=True)
    fn.set_metadata("dbg", sp)
    table.set_metadata("dbg", basic)

    entry = fn.append_basic_block("entry")
    b = ir.IRBuilder(entry)
    b.debug_metadata = module.add_debug_info("DILocation", {"line": 3, "column": 1, "scope": sp})
    a, c, p = fn.args
    slot = b.alloca(i32, name="a")
    dup = b.alloca(i32, name="a")
    variable = module.add_debug_info("DILocalVariable", {"name": "a", "arg": 1, "scope": sp, "file": di_file,
                                                         "line": 3, "type": basic})
    b.call(declare, [slot, variable, variable])
    b.store(a, slot)
    loaded = b.load(dup, typ=i32)
    values = [b.add(a, c), b.add(a, c, flags=["nsw"]), b.sub(a, c), b.mul(a, c), b.udiv(a, c), b.sdiv(a, c),
              b.urem(a, c), b.srem(a, c), b.and_(a, c), b.or_(a, c), b.xor(a, c), b.shl(a, c), b.lshr(a, c),
              b.ashr(a, c), b.not_(a), b.neg(a)]
    flags = [b.icmp_signed(op, a, loaded) for op in ("==", "!=", "<", "<=", ">", ">=")]
    flags += [b.icmp_unsigned(op, a, loaded) for op in ("==", "!=", "<", "<=", ">", ">=")]
    flags.append(b.icmp_unsigned("==", p, ir.Constant(ptr, None)))
    b.debug_metadata = None  # instructions without a location print without the suffix
    chosen = b.select(flags[0], values[0], values[1])
    wide = b.zext(chosen, i64)
    b.sext(chosen, i64)
    b.trunc(wide, i8)
    address = b.inttoptr(b.ptrtoint(p, i64), ptr)
    b.debug_metadata = module.add_debug_info("DILocation", {"line": 4, "column": 5, "scope": sp})
    b.gep(address, [ir.Constant(i32, 0), ir.Constant(i32, 1)], inbounds=True, source_etype=pair)
    b.gep(address, [wide], source_etype=i32)
    old = b.load_atomic(p, "acquire", 4, typ=i32)
    b.atomic_rmw("add", p, old, "seq_cst")
    swapped = b.cmpxchg(p, old, a, "acq_rel", "acquire")
    b.extract_value(swapped, 1)
    result = b.call(callee, [a, ir.Constant(i32, 0x7FFFFFFF).inttoptr(ptr)])
    b.call(variadic, [text])
    asm = ir.InlineAsm(ir.FunctionType(i64, [i64]), "csrr $0, sstatus", "=r,r", side_effect=True)
    b.call(asm, [wide])
    then, done = fn.append_basic_block("then"), fn.append_basic_block("then")
    b.cbranch(flags[2], then, done)
    b.position_at_end(then)
    b.branch(done)
    b.position_at_end(done)
    phi = b.phi(i32)
    phi.add_incoming(result, entry)
    phi.add_incoming(ir.Constant(i32, 1), then)
    first = fn.append_basic_block("")
    b.ret(phi)
    b.position_at_start(entry)
    b.alloca(i64, name="hoisted")
    b.position_at_end(first)
    b.unreachable()
    nothing = ir.Function(module, ir.FunctionType(ir.VoidType(), []), "nothing")
    ir.IRBuilder(nothing.append_basic_block("entry")).ret_void()
    return str(module)


def test_llir_prints_what_llvmlite_prints() -> None:
    assert build(llir) == build(llvmlite_ir)


def test_llir_text_is_valid_ir() -> None:
    """LLVM parses and verifies the probe module and a whole kernel built through llir."""
    llvm.parse_assembly(build(llir)).verify()
    target = get_target("riscv64")
    board = load_board("qemu-virt").code_constants
    kernel = compile_program(data_dir("kernel_src"), "core.main", BuildOptions(target, True, board))
    llvm.parse_assembly(str(kernel.ir)).verify()


def test_debug_expressions_are_new_nodes_printed_positionally() -> None:
    module = llir.Module()
    first, second = module.add_expression(()), module.add_expression(("DW_OP_constu", 5, "DW_OP_stack_value"))
    assert (first.ref, second.ref) == ("!0", "!1")
    expected = ["!0 = !DIExpression()", "!1 = !DIExpression(DW_OP_constu, 5, DW_OP_stack_value)"]
    assert str(module).splitlines()[-2:] == expected


def test_a_global_name_is_taken_once() -> None:
    module = llir.Module()
    llir.GlobalVariable(module, llir.IntType(8), "x")
    assert module.get_unique_name("x") == "x.1"
    with pytest.raises(ValueError, match="duplicate global name 'x'"):
        llir.Function(module, llir.FunctionType(llir.VoidType(), []), "x")
