"""Types: type expressions resolved to kcc/types.py types, and their C layout on the target."""

from __future__ import annotations

import ast

from kcc.constfold import show_int
from kcc.programstate import ProgramState
from kcc.symbols import LangSym, Module, StructSym
from kcc.types import BOOL, VOID, ArrayType, FuncType, PtrType, RegType, Type, layout

# The most bytes a function's locals may take on each target. The largest stack any board gives
# kcc code is a user program's 64 KiB (qemu-virt: USER_STACK_PAGES = 16 pages); kernel stacks are
# 8 or 16 KiB per hart (boards/*/board.toml, stack_size), so a bigger frame overflows every stack
# there is. On the host (kcc.load_host, kcc build --arch host) code runs on a thread's 8 MiB Linux
# stack; 1 MiB leaves the caller the rest.
DEFAULT_STACK_FRAME_LIMIT = 64 << 10
STACK_FRAME_LIMIT: dict[str, int] = {"host": 1 << 20}


class TypeResolver(ProgramState):
    """Resolves annotations to types and gives sizes and alignments under the target's C ABI."""

    def resolve_type(self, node: ast.expr | None, mod: Module, allow_void: bool = False) -> Type:
        """The kcc type a type expression denotes (language.md, "Types"); reports and returns VOID on error."""
        err = self.reporter.error
        if node is None:
            err(mod.source, node, "missing type")
            return VOID
        if isinstance(node, ast.Constant) and node.value is None:
            if not allow_void:
                err(mod.source, node, "None is only a return type")
            return VOID
        if isinstance(node, ast.Name) and node.id == "bool" and node.id not in mod.symbols:
            return BOOL
        if isinstance(node, ast.Name) and node.id in ("int", "str", "float", "list", "dict"):
            err(mod.source, node, f"'{node.id}' is not a kcc type",
                "use a fixed-width integer such as u32 or i64" if node.id == "int" else
                "see language.md, \"Types\"")
            return VOID
        if isinstance(node, ast.Subscript):
            base = self.resolve_name_expr(node.value, mod)
            if not isinstance(base, LangSym) or base.name not in ("Ptr", "Array", "Reg", "Callable"):
                err(mod.source, node, "unknown generic type", "use Ptr[T], Array[T, N], Reg[T] or Callable[[A], R]")
                return VOID
            args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if base.name == "Callable":
                if len(args) != 2 or not isinstance(args[0], ast.List):
                    err(mod.source, node, "Callable takes the parameter types and the result: Callable[[A, B], R]")
                    return VOID
                params = tuple(self.resolve_type(a, mod) for a in args[0].elts)
                return FuncType(params, self.resolve_type(args[1], mod, allow_void=True))
            if base.name == "Array":
                if len(args) != 2:
                    err(mod.source, node, "Array takes an element type and a count: Array[T, N]")
                    return VOID
                elem = self.resolve_type(args[0], mod)
                count = self.const_eval(args[1], mod, report=True)
                if count is None:
                    return VOID
                if not isinstance(count.value, int) or isinstance(count.value, bool) or count.value < 0:
                    err(mod.source, args[1], "an Array's count must be a non-negative integer constant")
                    return VOID
                return ArrayType(elem, count.value)
            if len(args) != 1:
                err(mod.source, node, f"{base.name} takes one type: {base.name}[T]")
                return VOID
            inner = self.resolve_type(args[0], mod)
            return PtrType(inner) if base.name == "Ptr" else RegType(inner)
        sym = self.resolve_name_expr(node, mod)
        if isinstance(sym, LangSym) and sym.name in self.ints:
            return self.ints[sym.name]
        if isinstance(sym, LangSym) and sym.name == "Arg":
            return self.ints["usize"]  # a formatting argument (Param.converts): a usize inside the function
        if isinstance(sym, StructSym):
            return sym.type
        err(mod.source, node, f"'{ast.unparse(node)}' is not a type")
        return VOID

    def sizeof(self, ty: Type) -> int:
        """Size in bytes of ``ty`` in memory under the target's C ABI (bool: 1 byte)."""
        return self.layout(ty)[0]

    def check_size(self, ty: Type, mod: Module, node: ast.AST) -> bool:
        """Report a variable whose type is larger than half the target's address space (LLVM's limit)."""
        size = self.sizeof(ty)
        if size >= 1 << (self.target.pointer_bits - 1):
            self.reporter.error(mod.source, node, f"{ty} takes {show_int(size)} bytes, more than "
                                f"{self.target.name}'s address space allows")
            return False
        return True

    def check_frame(self, ty: Type, locals_bytes: int, mod: Module, node: ast.AST, function: str) -> None:
        """Report a local of ``ty`` that takes the locals of ``function`` past the target's stack limit.

        ``locals_bytes`` is what the function's other locals take. The limit is STACK_FRAME_LIMIT's
        (language.md, "Diagnostics"); LLVM would otherwise lay out a frame no stack holds, and for
        frames of terabytes run out of memory and abort.
        """
        limit = STACK_FRAME_LIMIT.get(self.target.name, DEFAULT_STACK_FRAME_LIMIT)
        total = locals_bytes + self.sizeof(ty)
        if total > limit:
            self.reporter.error(mod.source, node, f"too large for the stack: the locals of '{function}' would take "
                                f"{show_int(total)} bytes, more than the {show_int(limit)} a frame may take "
                                f"on {self.target.name}",
                                "make it a module-level global (static storage) or pass a pointer to one")

    def layout(self, ty: Type) -> tuple[int, int]:
        """(size, alignment) in bytes of ``ty`` under the target's C ABI (kcc.types.layout)."""
        return layout(ty, self.target.pointer_bytes, self.target.int64_align)

