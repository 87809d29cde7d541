"""Name lookup: every module-level name bound to a symbol, and names and attributes looked up."""

from __future__ import annotations

import ast

from kcc.parse import is_int_enum
from kcc.programstate import ProgramState
from kcc.symbols import (
    LANG_METHODS,
    LANG_NAMES,
    ConstSym,
    Deferred,
    EnumSym,
    FuncAttrs,
    FuncSym,
    GlobalSym,
    LangSym,
    Module,
    ModuleSym,
    PackageSym,
    StructSym,
    Symbol,
)
from kcc.types import VOID, StructType


class NameBinder(ProgramState):
    """Binds module-level statements to symbols and looks names up in a module's namespace."""

    def bind_module(self, mod: Module) -> None:
        """Bind every module-level statement of ``mod`` (ModuleLoader.load calls this once per module)."""
        self._bind_body(mod, mod.tree.body)

    def _bind_body(self, mod: Module, body: list[ast.stmt]) -> None:
        """Bind statements in order; a module-level ``if <constant>:`` keeps only the branch taken.

        The condition sees the names bound above it, as in Python (``if TARGET == "i586":``).
        """
        for stmt in body:
            if isinstance(stmt, ast.If):
                value = self.const_eval(stmt.test, mod)
                if value is None:
                    self.reporter.error(mod.source, stmt.test,
                                        "a module-level 'if' needs a compile-time condition",
                                        "compare TARGET or a Final constant")
                    continue
                self._bind_body(mod, stmt.body if value.value else stmt.orelse)
            else:
                self._bind_stmt(mod, stmt)

    def _define(self, mod: Module, name: str, sym: Symbol, node: ast.AST) -> bool:
        if name in mod.symbols and not isinstance(mod.symbols[name], LangSym | ModuleSym | PackageSym):
            self.reporter.error(mod.source, node, f"'{name}' is already defined in this module")
            return False
        mod.symbols[name] = sym
        return True

    def _bind_stmt(self, mod: Module, stmt: ast.stmt) -> None:
        err = self.reporter.error
        if isinstance(stmt, ast.ImportFrom):
            self._bind_import_from(mod, stmt)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name == "kcc.lang" or alias.name.startswith("kcc."):
                    err(mod.source, stmt, "import names from kcc.lang with 'from kcc.lang import ...'")
                    continue
                target = self.load(alias.name, stmt, mod.source)
                if target is None:
                    continue
                if alias.asname:
                    mod.symbols[alias.asname] = ModuleSym(target)
                elif "." in alias.name:
                    mod.symbols[alias.name.split(".")[0]] = PackageSym(alias.name.split(".")[0])
                else:
                    mod.symbols[alias.name] = ModuleSym(target)
        elif isinstance(stmt, ast.FunctionDef):
            fn = FuncSym(stmt.name, mod, stmt, [], VOID, FuncAttrs(), f"{mod.name}.{stmt.name}")
            if self._define(mod, stmt.name, fn, stmt):
                mod.functions.append(fn)
        elif isinstance(stmt, ast.ClassDef) and is_int_enum(stmt):
            self._bind_enum(mod, stmt)
        elif isinstance(stmt, ast.ClassDef):
            packed = False
            for dec in stmt.decorator_list:
                if isinstance(dec, ast.Call):
                    for kw in dec.keywords:
                        if kw.arg == "packed" and isinstance(kw.value, ast.Constant):
                            packed = bool(kw.value.value)
                        else:
                            err(mod.source, kw, "@struct takes only packed=True or packed=False")
            st = StructSym(StructType(f"{mod.name}.{stmt.name}", [], packed), stmt, mod)
            if self._define(mod, stmt.name, st, stmt):
                mod.structs.append(st)
        elif isinstance(stmt, ast.AnnAssign):
            self._bind_annassign(mod, stmt)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                and isinstance(stmt.value.value, str):
            pass  # docstring
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Assign):
            err(mod.source, stmt, "module-level names need a type",
                "write NAME: Final = value for a constant, or name: T = value for a variable")
        else:
            err(mod.source, stmt, "only imports, constants, globals, functions and @struct classes "
                "may appear at module level")

    def _bind_enum(self, mod: Module, stmt: ast.ClassDef) -> None:
        """Bind an IntEnum class: each ``NAME = value`` becomes an untyped Final constant ``Class.NAME``."""
        base = self.resolve_name_expr(stmt.bases[0], mod)
        if not (isinstance(base, LangSym) and base.name == "IntEnum"):
            self.reporter.error(mod.source, stmt.bases[0], "IntEnum is kcc.lang's: from kcc.lang import IntEnum")
            return
        enum = EnumSym(stmt.name, {}, stmt)
        for member in stmt.body:
            if not isinstance(member, ast.Assign):
                continue
            name = member.targets[0].id
            if name in enum.members:
                self.reporter.error(mod.source, member, f"'{name}' is already a member of {stmt.name}")
                continue
            # As `NAME: Final = value`, so const_value folds it like any other constant.
            decl = ast.copy_location(ast.AnnAssign(target=member.targets[0], annotation=ast.Name("Final"),
                                                   value=member.value, simple=1), member)
            enum.members[name] = ConstSym(f"{stmt.name}.{name}", None, None, decl, mod)
        self._define(mod, stmt.name, enum, stmt)

    def _bind_import_from(self, mod: Module, stmt: ast.ImportFrom) -> None:
        err = self.reporter.error
        name = stmt.module or ""
        if name == "kcc.lang":
            for alias in stmt.names:
                if alias.name == "*":
                    for lang in LANG_NAMES:
                        mod.symbols.setdefault(lang, LangSym(lang))
                elif alias.name not in LANG_NAMES:
                    err(mod.source, stmt, f"kcc.lang has no name '{alias.name}'")
                else:
                    mod.symbols[alias.asname or alias.name] = LangSym(alias.name)
            return
        if name.split(".")[0] == "kcc":
            err(mod.source, stmt, f"cannot import '{name}': of kcc, only kcc.lang can be imported")
            return
        source_mod = None
        if self.module_path(name) is not None or name == "board":
            source_mod = self.load(name, stmt, mod.source)
            if source_mod is None:
                return
        elif not self.is_package(name):
            err(mod.source, stmt, f"cannot import '{name}': no such module in the source root {self.root}",
                "only modules of the source root and kcc.lang can be imported")
            return
        for alias in stmt.names:
            local = alias.asname or alias.name
            if source_mod is not None and alias.name in source_mod.symbols:
                mod.symbols[local] = source_mod.symbols[alias.name]
                continue
            sub = f"{name}.{alias.name}"
            if self.module_path(sub) is not None:
                target = self.load(sub, stmt, mod.source)
                if target is not None:
                    mod.symbols[local] = ModuleSym(target)
            elif source_mod is not None and alias.name != "*":
                # The name may be bound later in a module that imports us back: bind lazily.
                mod.symbols[local] = Deferred(source_mod, alias.name, stmt)
            else:
                err(mod.source, stmt, f"cannot import '{alias.name}' from '{name}'")

    def _bind_annassign(self, mod: Module, stmt: ast.AnnAssign) -> None:
        err = self.reporter.error
        if not isinstance(stmt.target, ast.Name):
            err(mod.source, stmt.target, "module-level declarations name a single variable")
            return
        name = stmt.target.id
        ann = stmt.annotation
        is_final = (isinstance(ann, ast.Name) and self._lang_name(mod, ann.id) == "Final") or (
            isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name)
            and self._lang_name(mod, ann.value.id) == "Final")
        if is_final:
            if stmt.value is None:
                err(mod.source, stmt, "a Final constant needs a value")
                return
            if isinstance(ann, ast.Subscript) and self._is_table_type(mod, ann.slice):
                table = GlobalSym(name, VOID, None, stmt, mod, f"{mod.name}.{name}", readonly=True)
                if self._define(mod, name, table, stmt):
                    mod.globals.append(table)
                return
            self._define(mod, name, ConstSym(name, None, None, stmt, mod), stmt)
            return
        gsym = GlobalSym(name, VOID, None, stmt, mod, f"{mod.name}.{name}")
        if self._define(mod, name, gsym, stmt):
            mod.globals.append(gsym)

    def _is_table_type(self, mod: Module, ann: ast.expr) -> bool:
        """True when ``Final[ann]`` is a constant table in memory (an Array, a struct or a Callable),
        not a folded scalar constant."""
        if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name):
            return self._lang_name(mod, ann.value.id) in ("Array", "Callable")
        if isinstance(ann, ast.Name):
            return ann.id != "bool" and self._lang_name(mod, ann.id) is None
        return isinstance(ann, ast.Attribute)

    def _lang_name(self, mod: Module, name: str) -> str | None:
        sym = mod.symbols.get(name)
        return sym.name if isinstance(sym, LangSym) else None

    # ----- lookups --------------------------------------------------------
    def lookup(self, mod: Module, name: str) -> Symbol | None:
        """The module-level binding of ``name`` in ``mod`` (following deferred imports)."""
        sym = mod.symbols.get(name)
        if isinstance(sym, Deferred):
            real = sym.module.symbols.get(sym.name)
            if real is None or isinstance(real, Deferred):
                self.reporter.error(mod.source, sym.node, f"cannot import '{sym.name}' from "
                                    f"'{sym.module.name}'")
                mod.symbols.pop(name)
                return None
            mod.symbols[name] = real
            return real
        return sym

    def attribute(self, sym: Symbol, attr: str) -> Symbol | None:
        """``sym.attr`` where ``sym`` is a module or package binding; None when there is no such name."""
        if isinstance(sym, ModuleSym):
            return self.lookup(sym.module, attr)
        if isinstance(sym, PackageSym):
            dotted = f"{sym.prefix}.{attr}"
            if self.module_path(dotted) is not None:
                target = self.load(dotted)
                return ModuleSym(target) if target else None
            if self.is_package(dotted):
                return PackageSym(dotted)
        return None

    def names_null(self, node: ast.expr, mod: Module) -> bool:
        """True when ``node`` is kcc.lang's ``NULL`` as ``mod`` sees it."""
        sym = self.resolve_name_expr(node, mod)
        return isinstance(sym, LangSym) and sym.name == "NULL"

    def resolve_name_expr(self, node: ast.expr, mod: Module) -> Symbol | None:
        """The module-level symbol a Name or dotted Attribute chain denotes, or None."""
        if isinstance(node, ast.Name):
            return self.lookup(mod, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve_name_expr(node.value, mod)
            if isinstance(base, ModuleSym | PackageSym):
                return self.attribute(base, node.attr)
            if isinstance(base, EnumSym):
                return base.members.get(node.attr)
            if isinstance(base, LangSym) and f"{base.name}.{node.attr}" in LANG_METHODS:
                return LangSym(f"{base.name}.{node.attr}")   # log.info: a built-in reached through its namespace
        return None

