"""DWARF for the kernel's Python sources: the debug-info metadata kcc.lower attaches to its IR.

LLVM turns this metadata (LLVM "Source Level Debugging with LLVM", LangRef "Metadata") into
DWARF sections, so gdb sees what a C compiler would have given it:

- one compile unit per IR module, its files named with absolute directories (so gdb finds the
  sources from any working directory: DWARF 5, "Full and Partial Compilation Unit Entries",
  DW_AT_comp_dir);
- the kcc types (DWARF 5, "Type Entries"): fixed-width integers and ``bool`` as base types,
  ``Ptr[T]`` as pointer types, ``Array[T, N]`` as array types, ``Reg[T]`` as volatile T,
  ``@struct`` classes as structure types with their members, ``Callable`` as pointers to
  subroutine types;
- functions under their qualified Python names (``lib.pagealloc.alloc``; the linkage name is the
  symbol) with their prototype, so gdb's ``finish`` prints the returned value;
- parameters and locals (DILocalVariable with ``llvm.dbg.declare`` on their stack slot: LLVM's
  mem2reg and SROA turn it into ``dbg_value`` records as the variable moves to registers, which
  is how its location survives -O1 and -O2, LLVM "Debug information and optimisations");
- module-level variables under their Python names and ``Final`` integer and bool constants as
  variables with a constant value (DW_AT_const_value).
"""

from __future__ import annotations

from pathlib import Path

from kcc import llir as ir
from kcc.resolve import ConstSym, FuncSym, GlobalSym, Module, Program
from kcc.typecheck import LocalVar
from kcc.types import (
    ArrayType,
    BoolType,
    FuncType,
    IntType,
    NullType,
    PtrType,
    RegType,
    StrType,
    StructType,
    Type,
    VoidType,
)

# DW_LANG_Python (DWARF 5, "Language Names"). gdb has no Python source language and reads such
# units with its "minimal" language, which parses and prints expressions as C does.
LANGUAGE = "DW_LANG_Python"
DWARF_VERSION = 4


def absolute_source(path: str) -> Path:
    """The absolute path of a source file as kcc shows it (relative to the current directory or absolute)."""
    return Path(path) if Path(path).is_absolute() else Path.cwd() / path


class DebugInfo:
    """Builds the debug-info metadata of one IR module.

    Args:
        module: the IR module the metadata goes into.
        prog: the program (target layout, modules).
        optimized: the module is compiled with optimisation (DW_AT_APPLE_optimized, and gdb's
            "<optimized out>" is then expected for some variables).
    """

    def __init__(self, module: ir.Module, prog: Program, optimized: bool) -> None:
        self.module = module
        self.prog = prog
        self.optimized = optimized
        self.files: dict[str, ir.DIValue] = {}
        self.types: dict[object, ir.DIValue] = {}
        # Structs whose members are being described: a pointer back to one of them refers to a
        # declaration, which gdb completes from the definition by name.
        self.building: set[int] = set()
        self.unit: ir.DIValue | None = None
        self.empty_expression = module.add_expression(())
        self.declare_fn: ir.Function | None = None

    # ----- files and the unit ---------------------------------------------
    def file(self, path: str) -> ir.DIValue:
        """The DIFile of a source path as kcc shows it: its base name in its absolute directory."""
        if path not in self.files:
            if path.startswith("<"):  # synthetic sources such as <board>
                name, directory = path, str(Path.cwd())
            else:
                full = absolute_source(path)
                name, directory = full.name, str(full.parent)
            self.files[path] = self.module.add_debug_info("DIFile", {"filename": name, "directory": directory})
        return self.files[path]

    def compile_unit(self, path: str, variables: list[ir.DIValue]) -> ir.DIValue:
        """Create the module's DICompileUnit for the source ``path`` with its global ``variables``.

        Must come before any subprogram (each names its unit). Also sets the module flags LLVM
        reads: the DWARF version and the debug-info metadata version.
        """
        fields: dict[str, object] = {
            "language": ir.DIToken(LANGUAGE),
            "file": self.file(path),
            "producer": "kcc",
            "runtimeVersion": 0,
            "isOptimized": self.optimized,
            "emissionKind": ir.DIToken("FullDebug"),
        }
        if variables:
            fields["globals"] = self.module.add_metadata(variables)
        self.unit = self.module.add_debug_info("DICompileUnit", fields, is_distinct=True)
        self.module.add_named_metadata("llvm.dbg.cu", self.unit)
        self.module.add_named_metadata("llvm.module.flags", [ir.Constant(ir.IntType(32), 2), "Dwarf Version",
                                                             ir.Constant(ir.IntType(32), DWARF_VERSION)])
        self.module.add_named_metadata("llvm.module.flags", [ir.Constant(ir.IntType(32), 2),
                                                             "Debug Info Version", ir.Constant(ir.IntType(32), 3)])
        return self.unit

    # ----- types ----------------------------------------------------------
    def type(self, ty: Type) -> ir.DIValue | None:
        """The DWARF type of a kcc type; None for ``None`` (void)."""
        if isinstance(ty, VoidType):
            return None
        key: object = id(ty) if isinstance(ty, StructType) else ty
        if isinstance(ty, StructType) and id(ty) in self.building:
            return self.module.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_structure_type"), "name": str(ty),
                "flags": ir.DIToken("DIFlagFwdDecl")})
        if key not in self.types:
            self.types[key] = self._make_type(ty)
        return self.types[key]

    def _make_type(self, ty: Type) -> ir.DIValue:
        add = self.module.add_debug_info
        bits = self.prog.sizeof(ty) * 8 if not isinstance(ty, NullType | StrType) else self.prog.target.pointer_bits
        if isinstance(ty, IntType):
            return add("DIBasicType", {"name": ty.name, "size": ty.bits, "encoding": ir.DIToken(
                "DW_ATE_signed" if ty.signed else "DW_ATE_unsigned")})
        if isinstance(ty, BoolType):
            return add("DIBasicType", {"name": "bool", "size": 8, "encoding": ir.DIToken("DW_ATE_boolean")})
        if isinstance(ty, PtrType | StrType | NullType):
            pointee = ty.pointee if isinstance(ty, PtrType) else self.prog.ints["u8"] if isinstance(
                ty, StrType) else None
            return add("DIDerivedType", {"tag": ir.DIToken("DW_TAG_pointer_type"),
                                         "baseType": None if pointee is None else self.type(pointee), "size": bits})
        if isinstance(ty, FuncType):
            return add("DIDerivedType", {"tag": ir.DIToken("DW_TAG_pointer_type"),
                                         "baseType": self.subroutine_type(list(ty.params), ty.result), "size": bits})
        if isinstance(ty, RegType):
            return add("DIDerivedType", {"tag": ir.DIToken("DW_TAG_volatile_type"), "baseType": self.type(ty.value)})
        if isinstance(ty, ArrayType):
            subrange = add("DISubrange", {"count": ty.count})
            return add("DICompositeType", {"tag": ir.DIToken("DW_TAG_array_type"), "baseType": self.type(ty.element),
                                           "size": bits, "elements": self.module.add_metadata([subrange])})
        if isinstance(ty, StructType):
            # Named by a typedef too, so gdb finds the class by its Python name (``ptype Range``)
            # as well as by C's ``struct Range``.
            return add("DIDerivedType", {"tag": ir.DIToken("DW_TAG_typedef"), "name": str(ty),
                                         "baseType": self._struct(ty, bits)})
        raise AssertionError(f"no debug type for {ty}")

    def _struct(self, ty: StructType, bits: int) -> ir.DIValue:
        """A structure type with one member per field at its C-layout offset (kcc.types.layout)."""
        self.building.add(id(ty))
        members = []
        offset = 0
        for name, fty in ty.fields:
            size, align = self.prog.layout(fty)
            if ty.packed:
                align = 1
            offset = (offset + align - 1) // align * align
            members.append(self.module.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_member"), "name": name, "baseType": self.type(fty),
                "size": size * 8, "offset": offset * 8}))
            offset += size
        self.building.discard(id(ty))
        return self.module.add_debug_info("DICompositeType", {
            "tag": ir.DIToken("DW_TAG_structure_type"), "name": str(ty),
            "size": bits, "align": self.prog.layout(ty)[1] * 8,
            "elements": self.module.add_metadata(members)})

    def subroutine_type(self, params: list[Type], result: Type) -> ir.DIValue:
        """A DISubroutineType: the result (null for None) then the parameter types."""
        types = [self.type(result), *(self.type(p) for p in params)]
        return self.module.add_debug_info("DISubroutineType", {"types": self.module.add_metadata(types)})

    # ----- module-level variables -----------------------------------------
    def global_variable(self, g: GlobalSym, gv: ir.GlobalVariable) -> ir.DIValue:
        """Describe a module-level variable defined in this module and attach it to ``gv``."""
        file = self.file(g.module.source.path)
        var = self.module.add_debug_info("DIGlobalVariable", {
            "name": g.name, "scope": file, "file": file,
            "line": g.node.lineno, "type": self.type(g.type), "isLocal": gv.linkage == "internal",
            "isDefinition": True})
        expression = self.module.add_debug_info("DIGlobalVariableExpression",
                                                {"var": var, "expr": self.empty_expression})
        gv.set_metadata("dbg", expression)
        return expression

    def constants(self, mod: Module) -> list[ir.DIValue]:
        """The ``Final`` integer and bool constants of ``mod`` as variables holding a constant value."""
        out = []
        for name, sym in mod.symbols.items():
            if not (isinstance(sym, ConstSym) and sym.module is mod and sym.node is not None
                    and isinstance(sym.value, int)):
                continue
            ty = sym.type if isinstance(sym.type, IntType | BoolType) else self.prog.ints[
                "i64" if sym.value < 0 else "u64"]
            if isinstance(ty, IntType) and not ty.fits(sym.value):
                continue  # an untyped constant wider than any kcc integer has no DWARF type
            value = int(sym.value)
            # DIExpression operands are unsigned 64-bit in LLVM IR: DW_OP_consts reads its operand's
            # bits as signed, so a negative value is written as its two's complement.
            ops = ("DW_OP_consts" if value < 0 else "DW_OP_constu", value & ((1 << 64) - 1), "DW_OP_stack_value")
            file = self.file(mod.source.path)
            var = self.module.add_debug_info("DIGlobalVariable", {
                "name": name, "scope": file, "file": file, "line": sym.node.lineno,
                "type": self.type(ty), "isLocal": True, "isDefinition": True})
            out.append(self.module.add_debug_info("DIGlobalVariableExpression", {
                "var": var, "expr": self.module.add_expression(ops)}))
        return out

    # ----- functions and their variables -----------------------------------
    def subprogram(self, fn: FuncSym, func: ir.Function) -> ir.DIValue:
        """The DISubprogram of ``fn`` (named ``module.function``), attached to ``func``."""
        assert self.unit is not None, "compile_unit first"
        file = self.file(fn.module.source.path)
        line = fn.node.lineno
        sp_flags = ["DISPFlagDefinition"]
        if self.optimized:
            sp_flags.append("DISPFlagOptimized")
        if func.linkage == "internal":
            sp_flags.append("DISPFlagLocalToUnit")
        flags = ["DIFlagPrototyped"]
        if fn.attrs.noreturn:
            flags.append("DIFlagNoReturn")
        sp = self.module.add_debug_info("DISubprogram", {
            "name": f"{fn.module.name}.{fn.name}",
            "linkageName": func.name,
            "scope": file,
            "file": file,
            "line": line,
            "type": self.subroutine_type([p.type for p in fn.params], fn.result),
            "scopeLine": line,
            "flags": ir.DIToken(" | ".join(flags)),
            "spFlags": ir.DIToken(" | ".join(sp_flags)),
            "unit": self.unit,
        }, is_distinct=True)
        func.set_metadata("dbg", sp)
        return sp

    def declare(self, builder: ir.IRBuilder, slot: ir.Value, var: LocalVar, arg: int, scope: ir.DIValue,
                file: ir.DIValue) -> None:
        """Describe local ``var`` (parameter number ``arg``, 0 for a local) living in ``slot``.

        Emits ``llvm.dbg.declare`` at the builder's position, located at the variable's line.
        """
        if self.declare_fn is None:
            meta = ir.MetaDataType()
            self.declare_fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [meta, meta, meta]),
                                          "llvm.dbg.declare")
        line = getattr(var.node, "lineno", 0)
        fields: dict[str, object] = {"name": var.name, "scope": scope, "file": file, "line": line,
                                     "type": self.type(var.type)}
        if arg:
            fields["arg"] = arg
        variable = self.module.add_debug_info("DILocalVariable", fields)
        saved = builder.debug_metadata
        builder.debug_metadata = self.module.add_location(line, 1, scope)
        builder.call(self.declare_fn, [slot, variable, self.empty_expression])
        builder.debug_metadata = saved
