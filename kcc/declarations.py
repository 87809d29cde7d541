"""Declarations: struct fields, globals and tables, function signatures and decorators, resolved in order."""

from __future__ import annotations

import ast

from kcc.constfold import show_int
from kcc.parse import decorator_name
from kcc.programstate import ProgramState
from kcc.symbols import ConstSym, EnumSym, FuncSym, GlobalSym, LangSym, Param, StructSym, symbol_name_problem
from kcc.types import BOOL, VOID, ArrayType, FuncType, IntType, PtrType, StructType, Type

DECORATORS = frozenset({"section", "export", "extern", "naked", "inline", "noinline", "noreturn",
                        "interrupt", "printf_like"})


class DeclarationResolver(ProgramState):
    """Resolves every module's declarations once all modules are bound."""

    def resolve_declarations(self) -> None:
        """Resolve struct fields, global types and initialisers, function signatures, constants."""
        for mod in list(self.modules.values()):
            for st in mod.structs:
                self._resolve_struct(st)
        for mod in list(self.modules.values()):
            for st in mod.structs:
                self._check_recursive(st)
        for mod in list(self.modules.values()):
            for sym in list(mod.symbols.values()):
                if isinstance(sym, ConstSym) and sym.module is mod:
                    self.const_value(sym)
                if isinstance(sym, EnumSym):
                    for member in sym.members.values():
                        self.const_value(member)
            for fn in mod.functions:
                self._resolve_function(fn)
        # After every signature: a table or a Callable global may name any module's function.
        for mod in list(self.modules.values()):
            for g in mod.globals:
                self._resolve_global(g)

    def _resolve_struct(self, st: StructSym) -> None:
        mod = st.module
        for stmt in st.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is not None:
                    self.reporter.error(mod.source, stmt.value, "struct fields cannot have default values",
                                        "fields start zeroed")
                ty = self.resolve_type(stmt.annotation, mod)
                if st.type.field_index(stmt.target.id) >= 0:
                    self.reporter.error(mod.source, stmt, f"duplicate field '{stmt.target.id}'")
                st.type.fields.append((stmt.target.id, ty))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                    and isinstance(stmt.value.value, str):
                continue
            elif isinstance(stmt, ast.Pass | ast.FunctionDef):
                continue  # methods were reported by the parser
            else:
                self.reporter.error(mod.source, stmt, "a @struct body holds only annotated fields")

    def _check_recursive(self, st: StructSym) -> None:
        def contains(ty: Type, seen: tuple[StructType, ...]) -> bool:
            if isinstance(ty, ArrayType):
                return contains(ty.element, seen)
            if isinstance(ty, StructType):
                if ty in seen:
                    return True
                return any(contains(f, seen + (ty,)) for _, f in ty.fields)
            return False
        if any(contains(f, (st.type,)) for _, f in st.type.fields):
            self.reporter.error(st.module.source, st.node, f"struct {st.type} contains itself",
                                "hold a Ptr to it instead")
            st.type.fields.clear()  # it has no size; later stages must not recurse into it

    def _resolve_global(self, g: GlobalSym) -> None:
        mod = g.module
        stmt = g.node
        assert isinstance(stmt, ast.AnnAssign)
        ann = stmt.annotation.slice if g.readonly and isinstance(stmt.annotation, ast.Subscript) \
            else stmt.annotation
        g.type = self.resolve_type(ann, mod)
        if not self.check_size(g.type, mod, stmt.annotation):
            g.type = VOID
            return
        if stmt.value is None:
            return
        if g.readonly or isinstance(g.type, FuncType):
            g.init = self.constant_value(g.type, stmt.value, mod)
            return
        if isinstance(g.type, PtrType) and self.names_null(stmt.value, mod):
            return  # NULL: the zero pointer, like every global that is not given a value
        errors = len(self.reporter.diagnostics)
        value = self.const_eval(stmt.value, mod, report=False)
        if value is None:
            if len(self.reporter.diagnostics) == errors:
                self.reporter.error(mod.source, stmt.value, "a global's initial value must be a constant",
                                    "assign it at boot inside a function")
            return
        if isinstance(g.type, IntType):
            if isinstance(value.value, bool) or not isinstance(value.value, int):
                self.reporter.error(mod.source, stmt.value, f"expected {g.type}, found {value.type or 'a string'}")
            elif value.type is not None and value.type != g.type:
                self.reporter.error(mod.source, stmt.value, f"expected {g.type}, found {value.type}")
            elif not g.type.fits(value.value):
                self.reporter.error(mod.source, stmt.value, f"{show_int(value.value)} does not fit {g.type}",
                                    f"{g.type} holds {g.type.min}..{g.type.max}")
            else:
                g.init = value.value
        elif g.type is BOOL:
            if value.type is not BOOL:
                self.reporter.error(mod.source, stmt.value, "expected a bool")
            else:
                g.init = bool(value.value)
        else:
            self.reporter.error(mod.source, stmt.value, f"a global of type {g.type} starts zeroed",
                                "leave out the initial value")

    def _resolve_function(self, fn: FuncSym) -> None:
        mod, node = fn.module, fn.node
        err = self.reporter.error
        for dec in node.decorator_list:
            self._apply_decorator(fn, dec)
        args = node.args
        defaults: list[ast.expr | None] = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(args.args, defaults, strict=True):
            if arg.annotation is None:
                err(mod.source, arg, f"parameter '{arg.arg}' needs a type annotation")
                ty: Type = VOID
            else:
                ty = self.resolve_type(arg.annotation, mod)
            marker = self.resolve_name_expr(arg.annotation, mod) if arg.annotation is not None else None
            converts = isinstance(marker, LangSym) and marker.name == "Arg"
            dsym = None
            if default is not None:
                dsym = self.const_eval(default, mod, report=False)
                if dsym is None and not self.names_null(default, mod):
                    err(mod.source, default, "a default value must be a constant")
                elif dsym is None:
                    dsym = ConstSym("NULL", 0, ty, default, mod)
            fn.params.append(Param(arg.arg, ty, dsym, arg, converts))
        if fn.attrs.printf_like is not None:
            self._check_printf_like(fn)
        if node.returns is None:
            err(mod.source, node, f"function '{node.name}' needs a return annotation", "write -> None")
        else:
            fn.result = self.resolve_type(node.returns, mod, allow_void=True)
        if fn.attrs.export:
            fn.symbol = fn.attrs.export
        elif fn.attrs.extern:
            fn.symbol = node.name
        if fn.attrs.extern:
            body = [s for s in node.body if not _is_docstring(s)]
            if len(body) != 1 or not (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                                      and body[0].value.value is Ellipsis):
                err(mod.source, node, "an @extern function's body is '...'",
                    "it is defined in assembly or by the linker")

    def _check_printf_like(self, fn: FuncSym) -> None:
        """``@printf_like("fmt")``: ``fmt`` is a Ptr[u8] parameter and every later one an Arg or a usize."""
        names = [p.name for p in fn.params]
        dec = next(d for d in fn.node.decorator_list if decorator_name(d) == "printf_like")
        if fn.attrs.printf_like not in names:
            self.reporter.error(fn.module.source, dec, f"'{fn.name}' has no parameter '{fn.attrs.printf_like}'",
                                "parameters: " + ", ".join(names))
            fn.attrs.printf_like = None
            return
        index = names.index(fn.attrs.printf_like)
        fmt = fn.params[index]
        if fmt.type != PtrType(self.ints["u8"]):
            self.reporter.error(fn.module.source, fmt.node, f"the format parameter '{fmt.name}' must be a Ptr[u8], "
                                f"not {fmt.type}")
            fn.attrs.printf_like = None
            return
        for p in fn.params[index + 1:]:
            if not p.converts and p.type != self.ints["usize"]:
                self.reporter.error(fn.module.source, p.node, f"'{p.name}' follows the format parameter: "
                                    f"it must be an Arg or a usize, not {p.type}")
                fn.attrs.printf_like = None

    def _apply_decorator(self, fn: FuncSym, dec: ast.expr) -> None:
        mod = fn.module
        err = self.reporter.error
        name = decorator_name(dec)
        sym = self.resolve_name_expr(dec.func if isinstance(dec, ast.Call) else dec, mod)
        if not isinstance(sym, LangSym) or sym.name not in DECORATORS:
            err(mod.source, dec, f"unknown decorator '{ast.unparse(dec)}'",
                "known: " + ", ".join(sorted(DECORATORS)))
            return
        name = sym.name
        args = dec.args if isinstance(dec, ast.Call) else []
        if name == "printf_like":
            if len(args) != 1 or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str):
                err(mod.source, dec, "@printf_like takes the name of the format parameter: @printf_like(\"fmt\")")
                return
            fn.attrs.printf_like = args[0].value
            return
        if name in ("section", "export"):
            if not args and name == "export":
                fn.attrs.export = fn.name
                return
            if len(args) != 1 or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str) \
                    or not args[0].value:
                err(mod.source, dec, f"@{name} takes one non-empty string")
                return
            problem = symbol_name_problem(args[0].value)
            if problem is not None:
                what = "symbol" if name == "export" else "section"
                err(mod.source, args[0], f"the {what} name {args[0].value!r} {problem}")
                return
            setattr(fn.attrs, name, args[0].value)
            return
        if isinstance(dec, ast.Call):
            err(mod.source, dec, f"@{name} takes no arguments")
            return
        setattr(fn.attrs, name, True)
        if fn.attrs.inline and fn.attrs.noinline:
            err(mod.source, dec, "a function cannot be both @inline and @noinline")


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)

