"""Stage 4: lower the checked ast to LLVM IR (kcc.llir): one ir.Module for the whole program
(lower_program) or one per source module (lower_units), so that each compiles to its own object."""

from __future__ import annotations

import ast

from kcc import llir as ir
from kcc.builtins import BUILTINS, Builtin
from kcc.debuginfo import DebugInfo
from kcc.notes import KCALL, KCONST, KFUNC, KPRUNE, KREF, KTY
from kcc.resolve import ZERO, ConstSym, FuncSym, GlobalSym, LangSym, Module, Program
from kcc.runtime import PANIC_SYMBOL, PanicKind
from kcc.typecheck import CheckedFunction, LocalVar
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

PTR = ir.PointerType()
I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)


class _Callee(ir.Value):
    """A function pointer as a callee: LLVM's ``call`` names the signature, which an opaque
    pointer does not carry, so the value is paired with its function type."""

    __slots__ = ("function_type",)

    def __init__(self, pointer: ir.Value, function_type: ir.FunctionType) -> None:
        super().__init__(pointer.type, pointer.ref)
        self.function_type = function_type


class Lowerer:
    """Builds the ir.Module for a checked Program.

    Args:
        prog: the resolved program (modules, symbols, target).
        functions: every function after type checking.
        checked: emit the checks of a checked build (signed overflow, bounds, NULL, assert).
        unit: lower only this source module's functions and globals (the rest of the program is
            declared where it is used, and ``@inline`` functions of other modules are copied in
            with internal linkage so they still inline); None lowers the whole program.
    """

    def __init__(self, prog: Program, functions: list[CheckedFunction], checked: bool,
                 unit: Module | None = None):
        self.prog = prog
        self.target = prog.target
        self.checked = checked
        self.host = not prog.target.freestanding
        self.unit = unit
        # A context per module: identified struct types live in it, and one process compiles many modules.
        name = unit.name if unit else prog.entry.name if prog.entry else "kcc"
        self.module = ir.Module(name=name, context=ir.Context())
        self.module.triple = self.target.triple
        self.module.data_layout = self.target.data_layout
        self.functions = functions
        self.checked_fns = {id(cf.sym): cf for cf in functions}
        self.fn_values: dict[int, ir.Function] = {}
        self.gvalues: dict[int, ir.GlobalVariable] = {}
        # Symbols of other units that this one refers to (their definitions must not be internal).
        self.imported: set[str] = set()
        self.strings: dict[str, ir.GlobalVariable] = {}
        self.externs: dict[str, ir.GlobalVariable] = {}
        self.struct_types: dict[int, ir.IdentifiedStructType] = {}
        self.usize = prog.ints["usize"]
        self.intrinsics: dict[str, ir.Function] = {}
        self.panic_fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [I32, PTR, PTR, I32, I32]),
                                    PANIC_SYMBOL)
        for arg in (self.panic_fn.args[0], *self.panic_fn.args[3:]):  # kind, line, col: i32
            self.extend(arg, IntType(32, True, "i32"))
        self.debug = DebugInfo(self.module, prog, optimized=not checked)
        self.panic_fn.attributes.add("noreturn")
        self.panic_fn.attributes.add("cold")
        self.panic_fn.attributes.add("nounwind")

    # ----- types ----------------------------------------------------------
    def val_ty(self, ty: Type) -> ir.Type:
        """The LLVM type of a value of ``ty`` in a register."""
        if type(ty) is IntType or isinstance(ty, IntType):
            return ir.IntType(ty.bits)
        if isinstance(ty, BoolType):
            return I1
        if isinstance(ty, PtrType | NullType | StrType | FuncType):
            return PTR
        return self.mem_ty(ty)

    def mem_ty(self, ty: Type) -> ir.Type:
        """The LLVM type of ``ty`` in memory (bool is one byte; structs are identified types)."""
        if type(ty) is IntType:
            return ir.IntType(ty.bits)
        if isinstance(ty, BoolType):
            return I8
        if isinstance(ty, RegType):
            return self.mem_ty(ty.value)
        if isinstance(ty, ArrayType):
            return ir.ArrayType(self.mem_ty(ty.element), ty.count)
        if isinstance(ty, StructType):
            key = id(ty)
            if key not in self.struct_types:
                st = self.module.context.get_identified_type(ty.name)
                self.struct_types[key] = st
                st.set_body(*[self.mem_ty(f) for _, f in ty.fields])
                st.packed = ty.packed
            return self.struct_types[key]
        if isinstance(ty, IntType | PtrType | FuncType):
            return self.val_ty(ty)
        raise AssertionError(f"no memory type for {ty}")

    # ----- module-level ---------------------------------------------------
    def owns(self, sym: FuncSym | GlobalSym) -> bool:
        """True when ``sym`` is defined in this module (always, for the whole program)."""
        return self.unit is None or sym.module is self.unit

    def lower(self) -> ir.Module:
        """Declare every global and function of the unit, then lower each body; returns the module."""
        variables = []
        for mod in self.prog.modules.values():
            for g in mod.globals:
                if self.owns(g):
                    self.declare_global(g)
                    variables.append(self.debug.global_variable(g, self.gvalues[id(g)]))
            if self.unit is None or mod is self.unit:
                variables += self.debug.constants(mod)
        entry = self.unit or self.prog.entry
        self.debug.compile_unit(entry.source.path if entry else "kcc", variables)
        mine = [cf for cf in self.functions if self.owns(cf.sym)]
        for cf in mine:
            self.declare_function(cf.sym)
        for cf in mine:
            if not cf.sym.attrs.extern:
                FunctionLowerer(self, cf).lower()
        return self.module

    def global_value(self, g: GlobalSym) -> ir.GlobalVariable:
        """The variable of ``g``: its definition, or an external declaration when another unit owns it."""
        key = id(g)
        if key not in self.gvalues:
            gv = ir.GlobalVariable(self.module, self.mem_ty(g.type), g.symbol)
            gv.align = self.prog.layout(g.type)[1]
            self.gvalues[key] = gv
            self.imported.add(g.symbol)
        return self.gvalues[key]

    def declare_global(self, g: GlobalSym) -> None:
        """Define a module-level variable: zero (.bss) or its constant, internal linkage, ABI alignment."""
        gv = ir.GlobalVariable(self.module, self.mem_ty(g.type), g.symbol)
        gv.initializer = self.initializer(g.type, g.init)
        gv.global_constant = g.readonly  # a Final table: .rodata
        gv.linkage = "internal"
        gv.align = self.prog.layout(g.type)[1]
        self.gvalues[id(g)] = gv

    def initializer(self, ty: Type, value: object) -> ir.Constant:
        """The memory image of a global's constant value (GlobalSym.init) as an LLVM constant."""
        if value is None or value is ZERO:
            return ir.Constant(self.mem_ty(ty), None)
        if isinstance(ty, BoolType):
            return ir.Constant(I8, int(value))
        if isinstance(ty, IntType):
            return ir.Constant(self.mem_ty(ty), value & ((1 << ty.bits) - 1))
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, FuncSym):
            return self.declare_function(value)
        if isinstance(ty, ArrayType):
            return ir.Constant(self.mem_ty(ty), [self.initializer(ty.element, v) for v in value])
        if isinstance(ty, StructType):
            return ir.Constant(self.mem_ty(ty), [self.initializer(f, v) for (_, f), v in
                                                 zip(ty.fields, value, strict=True)])
        return ir.Constant(PTR, None)  # NULL

    def declare_function(self, fn: FuncSym) -> ir.Function:
        """The ir.Function of ``fn`` with its decorators as LLVM attributes (once per function).

        Raises _Duplicate when another function already took ``fn``'s symbol.
        """
        key = id(fn)
        if key in self.fn_values:
            return self.fn_values[key]
        ret = ir.VoidType() if isinstance(fn.result, VoidType) else self.val_ty(fn.result)
        ftype = ir.FunctionType(ret, [self.val_ty(p.type) for p in fn.params])
        existing = self.module.globals.get(fn.symbol)
        if existing is self.panic_fn and ftype == self.panic_fn.function_type:
            f = self.panic_fn  # the runtime's own panic handler, written in kcc (kernel_src/lib/panic.py)
        elif existing is not None:
            raise _Duplicate(fn)
        else:
            f = ir.Function(self.module, ftype, fn.symbol)
        f.attributes.add("nounwind")
        if not self.host:
            # Freestanding: LLVM must not turn loops into calls to C library functions such as
            # strlen (TargetLibraryInfo honours "no-builtins"); memcpy/memset stay, as in clang.
            f.attributes.add('"no-builtins"')
        a = fn.attrs
        if a.inline:
            f.attributes.add("alwaysinline")
        if a.noinline or a.naked:
            f.attributes.add("noinline")
        if a.noreturn:
            f.attributes.add("noreturn")
        if a.naked:
            f.attributes.add("naked")
        elif self.target.unwind_tables:
            f.attributes.add("uwtable")
        if a.interrupt:
            for k, v in self.target.interrupt_attrs:
                f.attributes.add(f'"{k}"="{v}"')
            if self.target.interrupt_cc:
                f.calling_convention = self.target.interrupt_cc
        if a.section:
            f.section = a.section
        if not (a.export or a.extern or self.host):
            f.linkage = "internal"
        for arg, p in zip(f.args, fn.params, strict=True):
            arg.name = p.name
            self.extend(arg, p.type)
        self.extend(f.return_value, fn.result)
        self.fn_values[key] = f
        if not self.owns(fn) and not a.extern:
            if a.inline:
                # Copied in, like a C ``static inline`` function from a header.
                f.linkage = "internal"
                FunctionLowerer(self, self.checked_fns[key]).lower()
            else:
                f.linkage = ""
                self.imported.add(fn.symbol)
        return f

    def export(self, symbols: set[str]) -> None:
        """Give the unit's definitions of ``symbols`` external linkage (other units refer to them)."""
        for sym in symbols:
            value = self.module.globals.get(sym)
            if value is not None and value.linkage == "internal" and (
                    isinstance(value, ir.GlobalVariable) or value.blocks):
                value.linkage = ""

    def extend(self, value: ir.Argument | ir.ReturnValue, ty: Type) -> None:
        """Mark a parameter or result of type ``ty`` ``signext``/``zeroext`` as the target's C ABI wants.

        Without the mark LLVM leaves the upper bits of a narrow integer undefined, so C code that
        calls kcc (or that kcc calls) would read garbage there (Target.extension has the rules).
        """
        if isinstance(ty, BoolType):
            attr = self.target.extension(1, False)
        elif isinstance(ty, IntType):
            attr = self.target.extension(ty.bits, ty.signed)
        else:
            return
        if attr is not None and attr not in value.attributes:
            value.add_attribute(attr)

    def string(self, text: str) -> ir.GlobalVariable:
        """A private NUL-terminated constant for a string literal (language.md, "Memory: pointers, MMIO, linker symbols")."""
        if text not in self.strings:
            data = text.encode("utf-8") + b"\0"
            ty = ir.ArrayType(I8, len(data))
            gv = ir.GlobalVariable(self.module, ty, f".str.{len(self.strings)}")
            gv.initializer = ir.Constant(ty, bytearray(data))
            gv.global_constant = True
            gv.linkage = "private"
            gv.unnamed_addr = True
            self.strings[text] = gv
        return self.strings[text]

    def extern_symbol(self, name: str) -> ir.GlobalValue:
        """The address of a symbol defined by the linker or assembly (declared as an external byte)."""
        existing = self.module.globals.get(name)
        if existing is not None:
            return existing
        gv = ir.GlobalVariable(self.module, I8, name)
        gv.linkage = "external"
        self.externs[name] = gv
        return gv

    def intrinsic(self, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
        """Declare (once) the LLVM intrinsic ``name`` with the given signature."""
        if name not in self.intrinsics:
            self.intrinsics[name] = ir.Function(self.module, ir.FunctionType(ret, args), name)
        return self.intrinsics[name]


class _Duplicate(Exception):
    def __init__(self, fn: FuncSym):
        super().__init__(fn.symbol)
        self.fn = fn


class FunctionLowerer:
    """Lowers one function body."""

    def __init__(self, low: Lowerer, cf: CheckedFunction):
        self.low = low
        self.cf = cf
        self.fn = cf.sym
        self.src = cf.sym.module.source
        self.func = low.fn_values[id(cf.sym)]
        self.slots: dict[int, ir.Value] = {}
        self.loops: list[tuple[ir.Block, ir.Block]] = []
        self.locations: dict[tuple[int, int], ir.DIValue] = {}
        # Subscripts whose bounds check is left out: the loop version being lowered proved them (_stmt_For).
        self.unchecked: set[int] = set()
        self.file_str = None

    # ----- helpers --------------------------------------------------------
    def new_block(self, name: str) -> ir.Block:
        """Append a basic block to the current function."""
        return self.func.append_basic_block(name)

    def panic(self, kind: PanicKind, node: ast.AST, msg: str) -> None:
        """Call __kcc_panic with the source location of ``node``; the current block ends."""
        b = self.builder
        file_ptr = self.low.string(self.src.path)
        b.call(self.low.panic_fn, [ir.Constant(I32, int(kind)), self.low.string(msg), file_ptr,
                                   ir.Constant(I32, getattr(node, "lineno", 0)),
                                   ir.Constant(I32, getattr(node, "col_offset", -1) + 1)])
        b.unreachable()

    def check(self, bad: ir.Value, kind: PanicKind, node: ast.AST, msg: str) -> None:
        """Branch to a panic when ``bad`` (i1) is true; continue in a fresh block otherwise."""
        b = self.builder
        fail = self.new_block("panic")
        ok = self.new_block("ok")
        b.cbranch(bad, fail, ok)
        b.position_at_end(fail)
        self.panic(kind, node, msg)
        b.position_at_end(ok)

    def const(self, ty: Type, value: int | bool | str) -> ir.Value:
        """An LLVM constant of kcc type ``ty`` (strings become pointers to their literal)."""
        if type(ty) is IntType and type(value) is int:
            return ir.Constant(ir.IntType(ty.bits), value & ((1 << ty.bits) - 1))
        if isinstance(value, str):
            return self.low.string(value)
        if isinstance(ty, BoolType):
            return ir.Constant(I1, int(bool(value)))
        if isinstance(ty, PtrType | NullType | FuncType):
            if value == 0:
                return ir.Constant(PTR, None)
            return ir.Constant(self.low.val_ty(self.low.usize), value).inttoptr(PTR)
        assert isinstance(ty, IntType), ty
        return ir.Constant(ir.IntType(ty.bits), int(value) & ((1 << ty.bits) - 1))

    def load(self, ptr: ir.Value, ty: Type, volatile: bool = False) -> ir.Value:
        """Load a ``ty`` from memory as a register value (bool: byte to i1).

        ``volatile``: a volatile load (language.md, "Volatile accesses and MMIO registers": never merged, reordered or removed).
        """
        if type(ty) is IntType:
            return self.builder.load(ptr, ir.IntType(ty.bits), volatile)
        v = self.builder.load(ptr, self.low.mem_ty(ty), volatile)
        if isinstance(ty, BoolType):
            return self.builder.trunc(v, I1)
        return v

    def store(self, value: ir.Value, ptr: ir.Value, ty: Type, volatile: bool = False) -> None:
        """Store a register value of ``ty`` to memory (bool: i1 to byte); ``volatile`` as in load."""
        if isinstance(ty, BoolType):
            value = self.builder.zext(value, I8)
        self.raw_store(value, ptr, volatile)

    def raw_store(self, value: ir.Value, ptr: ir.Value, volatile: bool = False) -> None:
        """Emit ``store`` (or ``store volatile``) of a register value as it is."""
        self.builder.store(value, ptr, volatile)

    def copy(self, dst: ir.Value, src: ir.Value, ty: Type) -> None:
        """Copy a whole struct or array of ``ty`` with llvm.memcpy (value semantics of assignment)."""
        size = self.low.prog.sizeof(ty)
        ity = self.low.val_ty(self.low.usize)
        memcpy = self.low.intrinsic(f"llvm.memcpy.p0.p0.i{ity.width}", ir.VoidType(), [PTR, PTR, ity, I1])
        self.builder.call(memcpy, [dst, src, ir.Constant(ity, size), ir.Constant(I1, 0)])

    def zero(self, ptr: ir.Value, ty: Type) -> None:
        """Set a whole ``ty`` at ``ptr`` to zero (locals start zeroed).

        Structs and arrays are cleared with llvm.memset: a store of an aggregate
        ``zeroinitializer`` is split by the code generator into one store per element,
        which grows without bound with the array and takes LLVM quadratic time.
        """
        if not isinstance(ty, StructType | ArrayType):
            self.raw_store(ir.Constant(self.low.mem_ty(ty), None), ptr)
            return
        ity = self.low.val_ty(self.low.usize)
        memset = self.low.intrinsic(f"llvm.memset.p0.i{ity.width}", ir.VoidType(), [PTR, I8, ity, I1])
        self.builder.call(memset, [ptr, ir.Constant(I8, 0), ir.Constant(ity, self.low.prog.sizeof(ty)),
                                   ir.Constant(I1, 0)])

    # ----- the function ---------------------------------------------------
    def lower(self) -> None:
        """Lower the function: stack slots for every local, parameters stored, then the body."""
        entry = self.new_block("entry")
        self.builder = ir.IRBuilder(entry)
        self.di_scope = self.low.debug.subprogram(self.fn, self.func)
        self.locate(self.fn.node)
        if self.fn.attrs.naked:
            for stmt in self.fn.node.body:
                self.stmt(stmt)
            if not self.builder.block.is_terminated:
                self.builder.unreachable()
            return
        file = self.low.debug.file(self.src.path)
        for number, var in enumerate(self.cf.locals, 1):
            slot = self.builder.alloca(self.low.mem_ty(var.type), name=var.name)
            self.slots[id(var)] = slot
            self.low.debug.declare(self.builder, slot, var, number if var.is_param else 0, self.di_scope, file)
        params = iter(self.func.args)
        for var in self.cf.locals:
            if var.is_param:
                self.store(next(params), self.slots[id(var)], var.type)
            else:
                self.zero(self.slots[id(var)], var.type)
        self.block(self.fn.node.body)
        if not self.builder.block.is_terminated:
            if isinstance(self.func.function_type.return_type, ir.VoidType):
                self.builder.ret_void()
            else:
                self.builder.unreachable()

    def block(self, body: list[ast.stmt]) -> None:
        """Lower a statement list; code after a terminator gets an unreachable block."""
        for stmt in body:
            if self.builder.block.is_terminated:
                # Code after return/break/panic: give it a block of its own that nothing reaches.
                self.builder.position_at_end(self.new_block("dead"))
            self.stmt(stmt)

    # ----- statements -----------------------------------------------------
    def stmt(self, node: ast.stmt) -> None:
        """Lower one statement at its source location."""
        self.locate(node)
        getattr(self, f"_stmt_{type(node).__name__}")(node)

    def locate(self, node: ast.AST) -> None:
        """Attach ``node``'s line and column to every instruction built from here on (DWARF line table)."""
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + 1)
        location = self.locations.get(key)
        if location is None:
            # Interning a node formats its operands: once per location is enough.
            location = self.low.module.add_location(key[0], key[1], self.di_scope)
            self.locations[key] = location
        self.builder.debug_metadata = location

    def _stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def _stmt_Global(self, node: ast.Global) -> None:
        pass

    def _stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self.value(node.value)

    def _stmt_Return(self, node: ast.Return) -> None:
        if node.value is None:
            self.builder.ret_void()
        else:
            self.builder.ret(self.value(node.value))

    def _stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        var: LocalVar = node.target.kref
        slot = self.slots[id(var)]
        if node.value is None:
            self.zero(slot, var.type)
        else:
            self.assign_to(slot, var.type, node.value)

    def assign_to(self, ptr: ir.Value, ty: Type, value: ast.expr) -> None:
        """Store ``value`` at ``ptr``: structs and arrays are copied (value semantics), scalars stored."""
        if isinstance(ty, StructType | ArrayType) and isinstance(value, ast.Name | ast.Attribute | ast.Subscript):
            self.copy(ptr, self.address(value), ty)
        else:
            self.store(self.value(value), ptr, ty)

    def _stmt_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0]
        if isinstance(target, ast.Tuple):
            values = [self.value(v) for v in node.value.elts]
            for t, v in zip(target.elts, values, strict=True):
                self.store(v, self.address(t), t.kty)
            return
        value_ty = target.kty
        if isinstance(value_ty, StructType | ArrayType):
            if isinstance(node.value, ast.Name | ast.Attribute | ast.Subscript):
                src = self.address(node.value)
                self.copy(self.address(target), src, value_ty)
            else:
                self.store(self.value(node.value), self.address(target), value_ty)
        else:
            v = self.value(node.value)
            self.store(v, self.address(target), value_ty)

    def _stmt_AugAssign(self, node: ast.AugAssign) -> None:
        ptr = self.address(node.target)
        ty = node.kty
        current = self.load(ptr, ty)
        result = self.arith(node, node.op, current, self.value(node.value), ty, node.value.kty, node.value)
        self.store(result, ptr, ty)

    def _stmt_If(self, node: ast.If) -> None:
        keep = KPRUNE.get(node)
        if keep is not None:
            self.block(node.body if keep else node.orelse)
            return
        then_bb, else_bb, end_bb = self.new_block("then"), self.new_block("else"), self.new_block("endif")
        self.builder.cbranch(self.truth(node.test), then_bb, else_bb)
        for bb, body in ((then_bb, node.body), (else_bb, node.orelse)):
            self.builder.position_at_end(bb)
            self.block(body)
            if not self.builder.block.is_terminated:
                self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)

    def _stmt_While(self, node: ast.While) -> None:
        head, body, end = self.new_block("while"), self.new_block("body"), self.new_block("wend")
        self.builder.branch(head)
        self.builder.position_at_end(head)
        if KCONST.get(node.test) is not None:
            if node.test.kconst:
                self.builder.branch(body)
            else:
                self.builder.branch(end)
        else:
            self.builder.cbranch(self.truth(node.test), body, end)
        self.builder.position_at_end(body)
        self.loops.append((head, end))
        self.block(node.body)
        self.loops.pop()
        if not self.builder.block.is_terminated:
            self.builder.branch(head)
        self.builder.position_at_end(end)

    def _stmt_For(self, node: ast.For) -> None:
        b = self.builder
        var: LocalVar = node.target.kref
        ty: IntType = var.type
        args = node.iter.args
        start = self.const(ty, 0) if len(args) == 1 else self.value(args[0])
        stop = self.value(args[0] if len(args) == 1 else args[1])
        step = self.range_step(node, ty)
        hoisted = self._hoistable_checks(node, var, step) if self.low.checked else []
        if not hoisted:
            self._range_loop(node, var, start, stop, step)
            return
        # Loop versioning: the trip is known on entry, so when every index the loop variable
        # takes is inside the shortest of the arrays it indexes, a copy of the loop without
        # those bounds checks runs; otherwise the loop as written, whose checks panic exactly
        # where Python would raise IndexError.
        limit = min(KTY.get(sub.value).count for sub in hoisted)
        fits = (b.icmp_signed if ty.signed else b.icmp_unsigned)("<=", self.widen(stop, ty, 64),
                                                                  ir.Constant(I64, limit))
        if ty.signed:
            fits = b.and_(fits, b.icmp_signed(">=", start, ir.Constant(start.type, 0)))
        fast, slow, done = self.new_block("unchecked"), self.new_block("checked"), self.new_block("versions")
        b.cbranch(fits, fast, slow)
        for block, skip in ((fast, {id(sub) for sub in hoisted}), (slow, set())):
            b.position_at_end(block)
            self.unchecked = skip
            self._range_loop(node, var, start, stop, step)
            b.branch(done)
        self.unchecked = set()
        b.position_at_end(done)

    def _hoistable_checks(self, node: ast.For, var: LocalVar, step: int | ir.Value) -> list[ast.Subscript]:
        """The bounds checks of ``node``'s body that loop versioning can take out (see _stmt_For).

        Those of ``array[i]`` for the loop variable ``i`` of an upward range, when the body is an
        innermost loop (each version copies it) that neither assigns ``i`` nor takes its address:
        then ``i`` stays within [start, stop) in every iteration.
        """
        if not isinstance(step, int) or step <= 0:
            return []
        found = []
        for stmt in node.body:
            for n in ast.walk(stmt):
                if isinstance(n, ast.For | ast.While):
                    return []
                if isinstance(n, ast.Name) and KREF.get(n) is var and isinstance(n.ctx, ast.Store):
                    return []
                if isinstance(n, ast.Call) and KCALL.get(n) is BUILTINS["addr"] and any(
                        KREF.get(a) is var for a in n.args):
                    return []
                # (Annotations such as Array[u8, 4] and branches pruned by TARGET have no types.)
                if (isinstance(n, ast.Subscript) and isinstance(KTY.get(n.value), ArrayType) and
                        KREF.get(n.slice) is var and KCONST.get(n.slice) is None):
                    found.append(n)
        return found

    def _range_loop(self, node: ast.For, var: LocalVar, start: ir.Value, stop: ir.Value,
                    step: int | ir.Value) -> None:
        """The loop of ``for var in range(start, stop, step)`` from the current block; ends after it."""
        b = self.builder
        ty: IntType = var.type
        counter = self._entry_alloca(self.low.mem_ty(ty), "range")
        self.raw_store(start, counter)
        body, inc, end = self.new_block("for"), self.new_block("next"), self.new_block("fend")
        b.cbranch(self.range_continues(ty, step, start, stop), body, end)
        b.position_at_end(body)
        self.store(b.load(counter, self.low.mem_ty(ty)), self.slots[id(var)], ty)
        self.loops.append((inc, end))
        self.block(node.body)
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(inc)
        b.position_at_end(inc)
        cur = b.load(counter, self.low.mem_ty(ty))
        if isinstance(step, int) and abs(step) == 1:
            # cur lies strictly on the near side of stop, so one step cannot wrap: the plain
            # ``i + 1 < n`` that C compilers emit, which LLVM's loop passes fold best.
            nxt = b.add(cur, ir.Constant(cur.type, step & ((1 << ty.bits) - 1)),
                        flags=["nsw"] if ty.signed else ["nuw"] if step > 0 else [])
            more = (b.icmp_signed if ty.signed else b.icmp_unsigned)("<" if step > 0 else ">", nxt, stop)
        elif isinstance(step, int):
            # Python's range stops before passing ``stop``: the distance left, taken unsigned in
            # the type's width, is exact because cur lies strictly on the near side of stop.
            dist = b.sub(stop, cur) if step > 0 else b.sub(cur, stop)
            more = b.icmp_unsigned(">", dist, ir.Constant(dist.type, abs(step)))
            nxt = b.add(cur, ir.Constant(cur.type, step & ((1 << ty.bits) - 1)))
        else:
            down = b.icmp_signed("<", step, ir.Constant(step.type, 0)) if ty.signed else ir.Constant(I1, 0)
            dist = b.select(down, b.sub(cur, stop), b.sub(stop, cur))
            magnitude = b.select(down, b.sub(ir.Constant(step.type, 0), step), step)
            more = b.icmp_unsigned(">", dist, magnitude)
            nxt = b.add(cur, step)
        self.raw_store(nxt, counter)
        b.cbranch(more, body, end)
        b.position_at_end(end)

    def range_step(self, node: ast.For, ty: IntType) -> int | ir.Value:
        """The step of a range loop: the constant as an int, or the run-time value after its zero check."""
        if node.kstep is not None:
            return node.kstep
        step = self.value(node.iter.args[2])
        self.check(self.builder.icmp_unsigned("==", step, ir.Constant(step.type, 0)), PanicKind.RANGE_STEP,
                   node.iter.args[2], "range() arg 3 must not be zero")
        return step

    def range_continues(self, ty: IntType, step: int | ir.Value, cur: ir.Value, stop: ir.Value) -> ir.Value:
        """True (i1) when a range loop at ``cur`` has not reached ``stop`` moving in ``step``'s direction."""
        b = self.builder

        def before(op: str) -> ir.Value:
            return b.icmp_signed(op, cur, stop) if ty.signed else b.icmp_unsigned(op, cur, stop)
        if isinstance(step, int):
            return before("<" if step > 0 else ">")
        if not ty.signed:
            return before("<")
        return b.select(b.icmp_signed("<", step, ir.Constant(step.type, 0)), before(">"), before("<"))

    def _entry_alloca(self, ty: ir.Type, name: str) -> ir.Value:
        with self.builder.at_start(self.func.entry_basic_block):
            return self.builder.alloca(ty, name=name)

    def _stmt_Break(self, node: ast.Break) -> None:
        self.builder.branch(self.loops[-1][1])

    def _stmt_Continue(self, node: ast.Continue) -> None:
        self.builder.branch(self.loops[-1][0])

    def _stmt_Assert(self, node: ast.Assert) -> None:
        if not self.low.checked:
            return
        msg = node.msg.value if node.msg is not None else f"assertion failed: {ast.unparse(node.test)}"
        self.check(self.builder.not_(self.truth(node.test)), PanicKind.ASSERT, node, msg)

    # ----- places ---------------------------------------------------------
    def address(self, node: ast.expr) -> ir.Value:
        """The address of a place: a local, a global, a field, an element or a string literal."""
        b = self.builder
        if isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and isinstance(
                KREF.get(node), GlobalSym)):
            ref = node.kref
            if isinstance(ref, LocalVar):
                return self.slots[id(ref)]
            if isinstance(ref, GlobalSym):
                return self.low.global_value(ref)
            raise AssertionError(f"no address for {ast.dump(node)}")
        if isinstance(node, ast.Attribute):
            base_ty = node.value.kty
            if isinstance(base_ty, PtrType):
                base = self.value(node.value)
                self.null_check(base, node)
                st = base_ty.pointee
            else:
                base = self.address(node.value)
                st = base_ty
            return b.gep(base, [ir.Constant(I32, 0), ir.Constant(I32, node.kfield)],
                         inbounds=True, source_etype=self.low.mem_ty(st))
        if isinstance(node, ast.Subscript):
            base_ty = node.value.kty
            index = self.value(node.slice)
            ity: IntType = node.slice.kty
            wide = self.widen(index, ity, 64)
            if isinstance(base_ty, ArrayType):
                base = self.address(node.value)
                if self.low.checked and KCONST.get(node.slice) is None and id(node) not in self.unchecked:
                    bad = b.icmp_unsigned(">=", wide, ir.Constant(I64, base_ty.count))
                    self.check(bad, PanicKind.INDEX, node, f"index out of bounds for {base_ty}")
                return b.gep(base, [ir.Constant(I64, 0), wide], inbounds=True,
                             source_etype=self.low.mem_ty(base_ty))
            base = self.value(node.value)
            self.null_check(base, node)
            return b.gep(base, [wide], source_etype=self.low.mem_ty(base_ty.pointee))
        if isinstance(node, ast.Call) and KCALL.get(node) is BUILTINS["cast"]:
            return self.value(node)
        raise AssertionError(f"no address for {ast.dump(node)}")

    def widen(self, v: ir.Value, ty: IntType, bits: int) -> ir.Value:
        """Convert ``v`` (of ``ty``) to ``bits`` bits: truncate, or extend by ``ty``'s signedness."""
        if ty.bits == bits:
            return v
        if ty.bits > bits:
            return self.builder.trunc(v, ir.IntType(bits))
        return self.builder.sext(v, ir.IntType(bits)) if ty.signed else self.builder.zext(v, ir.IntType(bits))

    def null_check(self, ptr: ir.Value, node: ast.AST, msg: str = "NULL pointer dereference") -> None:
        """In checked builds, panic (kind NULL) when ``ptr`` is NULL before it is dereferenced."""
        if self.low.checked:
            bad = self.builder.icmp_unsigned("==", ptr, ir.Constant(PTR, None))
            self.check(bad, PanicKind.NULL, node, msg)

    # ----- values ---------------------------------------------------------
    def truth(self, node: ast.expr) -> ir.Value:
        """An i1 for a condition: bools as they are, integers and pointers compared with zero."""
        v = self.value(node)
        ty = node.kty
        if isinstance(ty, BoolType):
            return v
        if isinstance(ty, PtrType):
            return self.builder.icmp_unsigned("!=", v, ir.Constant(PTR, None))
        return self.builder.icmp_unsigned("!=", v, ir.Constant(v.type, 0))

    def value(self, node: ast.expr) -> ir.Value:
        """The register value of a scalar expression."""
        k = KCONST.get(node)
        if k is not None:
            return self.const(node.kty, k)
        kind = type(node)
        if kind is ast.Name or kind is ast.Attribute:
            ref = KREF.get(node)
            if isinstance(ref, LocalVar):
                return self.load(self.slots[id(ref)], node.kty)
            if isinstance(ref, LangSym):
                return ir.Constant(PTR, None)  # NULL
            fn = KFUNC.get(node)
            if fn is not None:
                return self.low.declare_function(fn)  # a function used as a value: its address
            return self.load(self.address(node), node.kty)
        if kind is ast.Subscript:
            return self.load(self.address(node), node.kty)
        return getattr(self, f"_value_{kind.__name__}")(node)

    def _value_UnaryOp(self, node: ast.UnaryOp) -> ir.Value:
        b = self.builder
        if isinstance(node.op, ast.Not):
            return b.not_(self.truth(node.operand))
        v = self.value(node.operand)
        ty: IntType = node.kty
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Invert):
            return b.not_(v)
        zero = ir.Constant(v.type, 0)
        if ty.signed and self.low.checked:
            return self.overflowing("ssub", zero, v, node)
        return b.sub(zero, v)

    def overflowing(self, op: str, a: ir.Value, c: ir.Value, node: ast.AST) -> ir.Value:
        """Signed ``op`` ("sadd", "ssub", "smul") that panics (kind OVERFLOW) when the result does not fit."""
        fn = self.low.intrinsic(f"llvm.{op}.with.overflow.i{a.type.width}",
                                ir.LiteralStructType([a.type, I1]), [a.type, a.type])
        pair = self.builder.call(fn, [a, c])
        self.check(self.builder.extract_value(pair, 1), PanicKind.OVERFLOW, node,
                   f"signed overflow in '{ast.unparse(node)}'")
        return self.builder.extract_value(pair, 0)

    def _value_BinOp(self, node: ast.BinOp) -> ir.Value:
        left = self.value(node.left)
        right = self.value(node.right)
        return self.arith(node, node.op, left, right, node.left.kty, node.right.kty, node.right)

    def arith(self, node: ast.AST, op: ast.operator, a: ir.Value, c: ir.Value, ty: Type, rty: Type,
              rnode: ast.expr) -> ir.Value:
        """``a op c`` with the meaning of language.md, "Arithmetic means what Python means, reduced to the width", for operands of type ``ty`` (right: ``rty``)."""
        b = self.builder
        if isinstance(ty, PtrType):
            idx = self.widen(c, rty, 64)
            if isinstance(op, ast.Sub):
                idx = b.neg(idx)
            return b.gep(a, [idx], source_etype=self.low.mem_ty(ty.pointee))
        if isinstance(ty, BoolType):
            return {ast.BitAnd: b.and_, ast.BitOr: b.or_, ast.BitXor: b.xor}[type(op)](a, c)
        assert isinstance(ty, IntType)
        checked_signed = ty.signed and self.low.checked
        if isinstance(op, ast.Add):
            return self.overflowing("sadd", a, c, node) if checked_signed else b.add(a, c)
        if isinstance(op, ast.Sub):
            return self.overflowing("ssub", a, c, node) if checked_signed else b.sub(a, c)
        if isinstance(op, ast.Mult):
            return self.overflowing("smul", a, c, node) if checked_signed else b.mul(a, c)
        if isinstance(op, ast.BitAnd):
            return b.and_(a, c)
        if isinstance(op, ast.BitOr):
            return b.or_(a, c)
        if isinstance(op, ast.BitXor):
            return b.xor(a, c)
        if isinstance(op, ast.FloorDiv | ast.Mod):
            return self.divmod(node, isinstance(op, ast.FloorDiv), a, c, ty, rnode)
        if isinstance(op, ast.LShift | ast.RShift):
            return self.shift(node, isinstance(op, ast.LShift), a, c, ty, rty, rnode)
        raise AssertionError(op)

    def divmod(self, node: ast.AST, is_div: bool, a: ir.Value, c: ir.Value, ty: IntType,
               rnode: ast.expr) -> ir.Value:
        """Python's ``//`` (``is_div``) or ``%`` on ``ty``: floor division, remainder with the divisor's sign.

        Division by zero panics in every build; ``MIN // -1`` panics in checked builds and wraps in
        release builds (language.md, "Arithmetic means what Python means, reduced to the width").
        """
        b = self.builder
        zero = ir.Constant(a.type, 0)
        k = KCONST.get(rnode)
        if k is None or k == 0:
            self.check(b.icmp_unsigned("==", c, zero), PanicKind.DIVIDE_BY_ZERO, node,
                       "integer division by zero" if is_div else "integer modulo by zero")
        if not ty.signed:
            return b.udiv(a, c) if is_div else b.urem(a, c)
        minus_one = ir.Constant(a.type, -1 & ((1 << ty.bits) - 1))
        is_m1 = b.icmp_signed("==", c, minus_one)
        if is_div and self.low.checked:
            is_min = b.icmp_signed("==", a, ir.Constant(a.type, 1 << (ty.bits - 1)))
            self.check(b.and_(is_m1, is_min), PanicKind.OVERFLOW, node, f"signed overflow in '{ast.unparse(node)}'")
        # sdiv/srem of MIN by -1 are undefined in LLVM (and trap on x86): divide by 1 instead.
        safe = b.select(is_m1, ir.Constant(a.type, 1), c)
        q = b.sdiv(a, safe)
        r = b.srem(a, safe)
        # Python floors: when the remainder is non-zero and its sign differs from the divisor's,
        # the truncated quotient is one too big and the remainder one divisor short.
        adjust = b.and_(b.icmp_signed("!=", r, zero), b.icmp_signed("<", b.xor(r, safe), zero))
        if is_div:
            q = b.sub(q, b.zext(adjust, a.type))
            return b.select(is_m1, b.sub(zero, a), q)
        return b.select(adjust, b.add(r, safe), r)

    def shift(self, node: ast.AST, left: bool, a: ir.Value, n: ir.Value, ty: IntType, nty: IntType,
              rnode: ast.expr) -> ir.Value:
        """``a << n`` or ``a >> n`` as Python gives them after reduction to ``ty`` (language.md, "Arithmetic means what Python means, reduced to the width").

        An amount of the width or more gives 0 (or -1 for ``>>`` of a negative signed value);
        a negative amount panics (kind NEGATIVE_SHIFT) in every build.
        """
        b = self.builder
        k = KCONST.get(rnode)
        width = ty.bits
        if k is not None:
            if k >= width:
                if left or not ty.signed:
                    return ir.Constant(a.type, 0)
                return b.ashr(a, ir.Constant(a.type, width - 1))
            amount = ir.Constant(a.type, k)
            return b.shl(a, amount) if left else (b.ashr(a, amount) if ty.signed else b.lshr(a, amount))
        if nty.signed:
            self.check(b.icmp_signed("<", n, ir.Constant(n.type, 0)), PanicKind.NEGATIVE_SHIFT, node,
                       "negative shift amount")
        big = b.icmp_unsigned(">=", n, ir.Constant(n.type, width))
        amount = self.widen(n, IntType(nty.bits, False, "u"), width)
        amount = b.select(big, ir.Constant(a.type, 0), amount)
        if left:
            return b.select(big, ir.Constant(a.type, 0), b.shl(a, amount))
        if ty.signed:
            return b.select(big, b.ashr(a, ir.Constant(a.type, width - 1)), b.ashr(a, amount))
        return b.select(big, ir.Constant(a.type, 0), b.lshr(a, amount))

    def _value_BoolOp(self, node: ast.BoolOp) -> ir.Value:
        b = self.builder
        is_and = isinstance(node.op, ast.And)
        end = self.new_block("bend")
        incoming = []
        for v in node.values[:-1]:
            cond = self.truth(v)
            incoming.append((ir.Constant(I1, 0 if is_and else 1), b.block))
            nxt = self.new_block("bnext")
            if is_and:
                b.cbranch(cond, nxt, end)
            else:
                b.cbranch(cond, end, nxt)
            b.position_at_end(nxt)
        last = self.truth(node.values[-1])
        incoming.append((last, b.block))
        b.branch(end)
        b.position_at_end(end)
        phi = b.phi(I1)
        for val, bb in incoming:
            phi.add_incoming(val, bb)
        return phi

    def _value_Compare(self, node: ast.Compare) -> ir.Value:
        b = self.builder
        left = self.value(node.left)
        lnode = node.left
        if len(node.ops) == 1:
            return self.compare(node.ops[0], left, self.value(node.comparators[0]), lnode.kty)
        end = self.new_block("cend")
        incoming = []
        for i, (op, comp) in enumerate(zip(node.ops, node.comparators, strict=True)):
            right = self.value(comp)
            result = self.compare(op, left, right, lnode.kty)
            if i == len(node.ops) - 1:
                incoming.append((result, b.block))
                b.branch(end)
            else:
                nxt = self.new_block("cnext")
                incoming.append((ir.Constant(I1, 0), b.block))
                b.cbranch(result, nxt, end)
                b.position_at_end(nxt)
            left, lnode = right, comp
        b.position_at_end(end)
        phi = b.phi(I1)
        for val, bb in incoming:
            phi.add_incoming(val, bb)
        return phi

    def compare(self, op: ast.cmpop, a: ir.Value, c: ir.Value, ty: Type) -> ir.Value:
        """One comparison: signed for signed integers, unsigned for the rest (pointers included)."""
        text = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[type(op)]
        if isinstance(ty, IntType) and ty.signed:
            return self.builder.icmp_signed(text, a, c)
        return self.builder.icmp_unsigned(text, a, c)

    def _value_IfExp(self, node: ast.IfExp) -> ir.Value:
        b = self.builder
        then_bb, else_bb, end = self.new_block("tthen"), self.new_block("telse"), self.new_block("tend")
        b.cbranch(self.truth(node.test), then_bb, else_bb)
        b.position_at_end(then_bb)
        tv = self.value(node.body)
        tb = b.block
        b.branch(end)
        b.position_at_end(else_bb)
        ev = self.value(node.orelse)
        eb = b.block
        b.branch(end)
        b.position_at_end(end)
        phi = b.phi(tv.type)
        phi.add_incoming(tv, tb)
        phi.add_incoming(ev, eb)
        return phi

    # ----- calls ----------------------------------------------------------
    def _value_Call(self, node: ast.Call) -> ir.Value:
        kind = node.kcall
        b = self.builder
        if isinstance(kind, FuncSym):
            args = []
            for p, a in zip(kind.params, node.kargs, strict=True):
                if isinstance(a, ConstSym):
                    args.append(self.const(p.type, a.value))
                elif p.converts:
                    args.append(self.convert(a, p.type))  # an Arg: as usize(a)
                else:
                    args.append(self.value(a))
            result = b.call(self.low.declare_function(kind), args)
            if kind.attrs.noreturn:
                b.unreachable()
                b.position_at_end(self.new_block("after_noreturn"))
            return result
        if isinstance(kind, Builtin):
            return kind.lower(self, node)
        if isinstance(kind, FuncType):
            return self.call_through(node, kind)
        raise AssertionError(f"unknown call kind {kind}")

    def call_through(self, node: ast.Call, fty: FuncType) -> ir.Value:
        """A call through a function value; a checked build panics (kind NULL) when it is NULL.

        As in Python the callee and the arguments are evaluated before the call fails.
        """
        callee = self.value(node.func)
        args = [self.value(a) for a in node.args]
        self.null_check(callee, node, "call through a NULL function value")
        ret = ir.VoidType() if isinstance(fty.result, VoidType) else self.low.val_ty(fty.result)
        ftype = ir.FunctionType(ret, [self.low.val_ty(p) for p in fty.params])
        return self.builder.call(_Callee(callee, ftype), args)

    def convert(self, arg: ast.expr, to: IntType) -> ir.Value:
        """``T(x)``: reduce modulo 2**bits, extending by the source's signedness (language.md, "Conversions are explicit")."""
        v = self.value(arg)
        src = arg.kty
        if isinstance(src, BoolType):
            return self.builder.zext(v, ir.IntType(to.bits))
        if isinstance(src, PtrType | StrType):
            v = self.builder.ptrtoint(v, ir.IntType(self.low.target.pointer_bits))
            src = self.low.usize
        return self.widen(v, src, to.bits)


def lower_program(prog: Program, functions: list[CheckedFunction], checked: bool) -> ir.Module:
    """Lower a checked program to one ir.Module (kcc.llir) for ``prog.target``.

    Raises CompileError when two functions claim the same symbol (e.g. two @export of one name).
    """
    low = Lowerer(prog, functions, checked)
    try:
        return low.lower()
    except _Duplicate as dup:
        _report_duplicate(prog, dup)
        raise


def lower_units(prog: Program, functions: list[CheckedFunction], checked: bool) -> dict[str, ir.Module]:
    """Lower a checked program to one ir.Module per source module that defines code or data.

    Each unit defines its own module's functions and globals; what it uses from other units is
    declared, and a definition another unit uses gets external linkage (internal otherwise, so
    the optimiser still drops what nothing calls). ``@inline`` functions are copied into every
    unit that calls them. Returns dotted module name -> module, in the program's module order.

    Raises CompileError when two functions claim the same symbol (e.g. two @export of one name).
    """
    check_symbols(prog)
    lowerers = [Lowerer(prog, functions, checked, mod) for mod in unit_modules(prog)]
    for low in lowerers:
        low.lower()
    imported = set().union(*(low.imported for low in lowerers))
    for low in lowerers:
        low.export(imported)
    return {low.unit.name: low.module for low in lowerers}


def unit_modules(prog: Program) -> list[Module]:
    """The modules of ``prog`` that become units: those that define code or data, in the program's order."""
    return [mod for mod in prog.modules.values() if mod.globals or any(not f.attrs.extern for f in mod.functions)]


def check_symbols(prog: Program) -> None:
    """Raise CompileError when two functions of ``prog`` claim the same symbol (e.g. two @export of one name).

    Every unit declares only what it uses, so no single unit would see the clash: the whole
    program's functions are declared in one scratch module to find it.
    """
    whole = Lowerer(prog, [], False)
    try:
        for mod in prog.modules.values():
            for fn in mod.functions:
                whole.declare_function(fn)
    except _Duplicate as dup:
        _report_duplicate(prog, dup)
        raise


def _report_duplicate(prog: Program, dup: _Duplicate) -> None:
    """Report a symbol defined twice as a located error and raise the CompileError."""
    prog.reporter.error(dup.fn.module.source, dup.fn.node, f"symbol '{dup.fn.symbol}' is defined twice")
    prog.reporter.check()
