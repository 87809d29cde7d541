"""``kcc.load_python``: run a pure kcc module under CPython with the compiled program's meaning (language.md, "The host target and CPython").

Plain CPython would let ``x: u8 = 255; x + 1`` grow to 256. The loader parses
the source, rewrites its AST so that every place the compiler gives a value a
declared type does the same at run time, and executes it as a fresh module:

* annotated assignments, assignments to declared names (locals, parameters,
  ``global`` variables), parameters on entry and ``return`` values convert
  through :func:`kcc.lang.coerce` (a plain int that does not fit raises
  OverflowError, another integer type TypeError, as the compiler rejects them);
* a declaration without a value (``x: u32``, ``table: Array[T, N]``,
  ``s: S``) gives the zero value; assigning an Array or struct copies it;
* a local inferred from its first assignment keeps that type afterwards;
* ``for i in range(...)`` yields values of the loop's type (the declared
  variable's, the bounds', or the one the variable's first typed use gives,
  else i32: language.md, "Control flow");
* ``assert`` raises AssertionError even under ``python -O``;
* ``@struct`` fields are resolved lazily so a field may name a later struct;
* imports of modules of the source root load them through this loader
  (``arch.x`` is ``arch/host/x.py``, ``board`` holds the given board constants).

Only pure code runs: pointers, MMIO, asm and linker symbols raise
kcc.lang.NotPureError when reached.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kcc import lang
from kcc.parse import LoopUse, assigned_names, loop_variable_uses
from kcc.resolve import module_file, module_name

RT = "_kcc_rt"
"""Name under which the loader's runtime helpers are bound in every module it loads."""


class _Unset:
    """The value of a local that has not been assigned yet (its type is still open)."""

    def __repr__(self) -> str:
        return "<unassigned>"


UNSET = _Unset()


def rebind(old: Any, new: Any) -> Any:
    """The value a name inferred from its first assignment takes on a later assignment.

    The compiler fixes an undeclared local's type at its first assignment; a
    later assignment converts to that type as an annotated one would.
    """
    if old is UNSET:
        return lang.copy_value(new)
    t = type(old)
    if lang.is_int_type(t) or t is bool or isinstance(old, lang.Array) or lang.is_struct(t):
        return lang.coerce(t, new)
    return new


def typed_range(hint: Any, uses: tuple[Callable[[], Any], ...], *args: Any) -> Iterator[Any]:
    """``range(*args)`` yielding values of the loop variable's type.

    Args:
        hint: the loop variable's declared type, or its current value (UNSET when
            it has none yet).
        uses: when neither ``hint`` nor a bound is typed, thunks giving the type each use of the
            variable suggests, in source order (kcc.parse.loop_variable_uses); the first integer
            type decides, else i32, as the compiler does (kcc.typecheck, loop_type_from_uses).

    Raises:
        TypeError: bounds of different types.
        OverflowError: a constant bound outside the loop type's range.
        ValueError: a zero step.
    """
    if not 1 <= len(args) <= 3:
        raise TypeError(f"range takes 1 to 3 arguments, {len(args)} given")
    t = None
    if lang.is_int_type(hint):
        t = hint
    elif lang.is_int_type(type(hint)):
        t = type(hint)
    else:
        t = next((type(a) for a in args if lang.is_int_type(type(a))), None)
    if t is None:
        t = next((u for u in map(_suggested, uses) if lang.is_int_type(u)), lang.i32)
    bounds = [int(lang.coerce(t, a)) for a in args]
    for v in range(*bounds):
        yield int.__new__(t, v)


def _suggested(use: Callable[[], Any]) -> Any:
    """The type a use of a loop variable suggests, or None when the thing it names does not exist yet."""
    try:
        return use()
    except (NameError, AttributeError, KeyError, lang.NullPointerError, lang.NotPureError):
        return None


def param_type(fn: Any, slot: int | str) -> Any:
    """The annotated type of parameter ``slot`` (a position or a name) of the Python function ``fn``, or None."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    names = code.co_varnames[:code.co_argcount]
    name = names[slot] if isinstance(slot, int) and slot < len(names) else slot
    ann = fn.__annotations__.get(name) if isinstance(name, str) else None
    if isinstance(ann, str):
        # Loaded modules keep annotations as text (they compile under this module's
        # ``from __future__ import annotations``), so a parameter may name a later struct.
        ann = eval(ann, fn.__globals__)
    return ann


def check_assert(cond: Any, msg: str | None = None) -> None:
    """``assert cond, msg``: raise AssertionError when ``cond`` is false, whatever ``python -O`` says."""
    if not cond:
        raise AssertionError(msg) if msg is not None else AssertionError()


class _Runtime:
    """The helpers transformed code calls, bound as ``_kcc_rt`` in each loaded module."""

    UNSET = UNSET
    coerce = staticmethod(lang.coerce)
    zero = staticmethod(lang.zero)
    copy = staticmethod(lang.copy_value)
    rebind = staticmethod(rebind)
    range = staticmethod(typed_range)
    param_type = staticmethod(param_type)
    check_assert = staticmethod(check_assert)

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader

    def import_module(self, name: str) -> types.ModuleType:
        """``import a.b as m``: the module ``a.b`` of the source root."""
        return self.loader.load(name)

    def import_top(self, name: str) -> types.ModuleType:
        """``import a.b``: load ``a.b`` and return ``a`` with ``b`` reachable as an attribute."""
        parts = name.split(".")
        mod = self.loader.load(name)
        for i in range(len(parts) - 1, 0, -1):
            parent = self.loader.package(".".join(parts[:i]))
            setattr(parent, parts[i], mod)
            mod = parent
        return mod

    def import_from(self, module: str, name: str) -> Any:
        """``from module import name``: a submodule ``module.name`` or a name defined in ``module``.

        Raises:
            ImportError: when neither exists.
        """
        sub = f"{module}.{name}"
        if self.loader.module_path(sub) is not None:
            return self.loader.load(sub)
        mod = self.loader.load(module) if module == "board" or self.loader.module_path(module) else None
        if mod is None or not hasattr(mod, name):
            raise ImportError(f"cannot import '{name}' from '{module}' (source root {self.loader.root})")
        return getattr(mod, name)


class _Loader:
    """Loads the modules of one source root once each, for one load_python call."""

    def __init__(self, root: Path, board_constants: dict[str, int | str]) -> None:
        self.root = root
        self.board_constants = board_constants
        self.modules: dict[str, types.ModuleType] = {}
        self.runtime = _Runtime(self)

    def module_path(self, dotted: str) -> Path | None:
        """The file of module ``dotted``; ``arch.x`` maps to ``arch/host/x.py`` (TARGET is "host")."""
        return module_file(self.root, dotted, lang.TARGET)

    def package(self, dotted: str) -> types.ModuleType:
        """The module object standing for package ``dotted`` (its ``__init__.py``, or an empty namespace)."""
        if self.module_path(dotted) is not None:
            return self.load(dotted)
        if dotted not in self.modules:
            self.modules[dotted] = types.ModuleType(dotted)
        return self.modules[dotted]

    def load(self, dotted: str) -> types.ModuleType:
        """Load module ``dotted`` of the source root (once).

        Raises:
            ImportError: when the source root has no such module.
        """
        if dotted in self.modules:
            return self.modules[dotted]
        if dotted == "board":
            mod = types.ModuleType("board")
            mod.__dict__.update(self.board_constants)
            self.modules[dotted] = mod
            return mod
        path = self.module_path(dotted)
        if path is None:
            raise ImportError(f"no module '{dotted}' in the source root {self.root}")
        return self.exec_file(dotted, path)

    def exec_file(self, dotted: str, path: Path) -> types.ModuleType:
        """Transform and execute ``path`` as module ``dotted``; registered before it runs (cycles)."""
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        tree = _Transformer().transform(tree)
        code = compile(tree, str(path), "exec")
        mod = types.ModuleType(dotted)
        mod.__file__ = str(path)
        mod.__dict__[RT] = self.runtime
        self.modules[dotted] = mod
        exec(code, mod.__dict__)  # noqa: S102 - running the kcc module is this loader's purpose
        return mod


# ---------------------------------------------------------------------------------------------
# The AST rewrite


def _rt(attr: str) -> ast.expr:
    return ast.Attribute(value=ast.Name(id=RT, ctx=ast.Load()), attr=attr, ctx=ast.Load())


def _call(attr: str, *args: ast.expr) -> ast.expr:
    return ast.Call(func=_rt(attr), args=list(args), keywords=[])


def _name(id_: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(id=id_, ctx=ctx or ast.Load())


def _copy(node: ast.expr) -> ast.expr:
    """A fresh copy of an annotation expression so one node is not shared by two places."""
    return ast.parse(ast.unparse(node), mode="eval").body


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _is_struct_class(node: ast.ClassDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Name) and target.id == "struct":
            return True
        if isinstance(target, ast.Attribute) and target.attr == "struct":
            return True
    return False


class _Transformer:
    """Rewrites one module's AST (see the module docstring)."""

    def __init__(self) -> None:
        self.module_decls: dict[str, ast.expr] = {}   # module-level name -> its annotation
        self.ret: ast.expr | None = None              # the return annotation of the function being rewritten

    def transform(self, tree: ast.Module) -> ast.Module:
        """Return the rewritten module tree, with locations fixed."""
        self._collect_module_decls(tree.body)
        tree.body = self.module_body(tree.body)
        return ast.fix_missing_locations(tree)

    def _collect_module_decls(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                self.module_decls[stmt.target.id] = stmt.annotation
            elif isinstance(stmt, ast.If):
                self._collect_module_decls(stmt.body)
                self._collect_module_decls(stmt.orelse)

    # ----- module level ---------------------------------------------------
    def module_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """Rewrite module-level statements (also inside module-level ``if TARGET == ...:`` blocks)."""
        out: list[ast.stmt] = []
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                out.extend(self.import_(stmt))
            elif isinstance(stmt, ast.FunctionDef):
                out.append(self.function(stmt))
            elif isinstance(stmt, ast.ClassDef) and _is_struct_class(stmt):
                out.append(self.struct_class(stmt))
            elif isinstance(stmt, ast.If):
                stmt.body = self.module_body(stmt.body)
                stmt.orelse = self.module_body(stmt.orelse)
                out.append(stmt)
            else:
                out.extend(self.stmt(stmt, self.module_decls, module_level=True))
        return out

    def import_(self, stmt: ast.Import | ast.ImportFrom) -> list[ast.stmt]:
        """Imports of the source root go through the loader; ``kcc.*`` imports stay real imports."""
        out: list[ast.stmt] = []
        if isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            if stmt.level or module == "kcc" or module.startswith("kcc."):
                return [stmt]
            for alias in stmt.names:
                value = _call("import_from", ast.Constant(module), ast.Constant(alias.name))
                out.append(ast.copy_location(
                    ast.Assign(targets=[_name(alias.asname or alias.name, ast.Store())], value=value), stmt))
            return out
        for alias in stmt.names:
            if alias.name == "kcc" or alias.name.startswith("kcc."):
                out.append(ast.copy_location(ast.Import(names=[alias]), stmt))
            elif alias.asname:
                out.append(ast.copy_location(ast.Assign(
                    targets=[_name(alias.asname, ast.Store())],
                    value=_call("import_module", ast.Constant(alias.name))), stmt))
            else:
                out.append(ast.copy_location(ast.Assign(
                    targets=[_name(alias.name.split(".")[0], ast.Store())],
                    value=_call("import_top", ast.Constant(alias.name))), stmt))
        return out

    def struct_class(self, node: ast.ClassDef) -> ast.ClassDef:
        """Replace annotated fields by ``__kcc_fields__``: (name, type thunk) pairs.

        Thunks are lambdas; in a class body they see the module's globals, so a
        field may name a struct defined later, as the compiler allows.
        """
        fields: list[ast.expr] = []
        body: list[ast.stmt] = []
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                fields.append(ast.Tuple(elts=[ast.Constant(stmt.target.id), _thunk(stmt.annotation)],
                                        ctx=ast.Load()))
            else:
                body.append(stmt)
        body.append(ast.copy_location(ast.Assign(
            targets=[_name("__kcc_fields__", ast.Store())],
            value=ast.Tuple(elts=fields, ctx=ast.Load())), node))
        node.body = body
        return node

    # ----- functions ------------------------------------------------------
    def function(self, node: ast.FunctionDef) -> ast.FunctionDef:
        """Convert parameters on entry, returns on exit, and every store to a declared or inferred local.

        Undeclared locals start as UNSET so that their first assignment fixes their type.
        """
        declared: dict[str, ast.expr] = {}
        globals_: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Global):
                globals_.update(sub.names)
        for name in globals_:
            if name in self.module_decls:
                declared[name] = self.module_decls[name]
        args = node.args.args
        for a in args:
            if a.annotation is not None:
                declared[a.arg] = a.annotation
        for sub in ast.walk(node):
            if isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
                declared.setdefault(sub.target.id, sub.annotation)
        self.ret = node.returns
        prologue: list[ast.stmt] = []
        for a in args:
            if a.annotation is not None:
                prologue.append(ast.Assign(targets=[_name(a.arg, ast.Store())],
                                           value=_call("coerce", _copy(a.annotation), _name(a.arg))))
        params = {a.arg for a in args}
        for name in assigned_names(node.body):
            if name not in declared and name not in params and name not in globals_:
                prologue.append(ast.Assign(targets=[_name(name, ast.Store())], value=_rt("UNSET")))
        body = node.body
        head: list[ast.stmt] = []
        if body and _is_docstring(body[0]):
            head, body = [body[0]], body[1:]
        for p in prologue:
            ast.copy_location(p, node)
        node.body = head + prologue + self.block(body, declared) or [ast.Pass()]
        return node

    def block(self, body: list[ast.stmt], declared: dict[str, ast.expr]) -> list[ast.stmt]:
        """Rewrite a statement list; ``declared`` maps the names with a declared type to their annotation."""
        out: list[ast.stmt] = []
        for stmt in body:
            out.extend(self.stmt(stmt, declared))
        return out

    # ----- statements -----------------------------------------------------
    def stmt(self, stmt: ast.stmt, declared: dict[str, ast.expr], module_level: bool = False) -> list[ast.stmt]:
        """The statements that replace ``stmt``."""
        if isinstance(stmt, ast.AnnAssign):
            return [self.ann_assign(stmt)]
        if isinstance(stmt, ast.Assign):
            return self.assign(stmt, declared, module_level)
        if isinstance(stmt, ast.Return) and not module_level:
            if stmt.value is not None and self.ret is not None:
                stmt.value = _call("coerce", _copy(self.ret), stmt.value)
            return [stmt]
        if isinstance(stmt, ast.Assert):
            args = [stmt.test]
            if stmt.msg is not None:
                args.append(stmt.msg)
            return [ast.copy_location(ast.Expr(value=_call("check_assert", *args)), stmt)]
        if isinstance(stmt, ast.For):
            return [self.for_(stmt, declared)]
        if isinstance(stmt, ast.If | ast.While):
            stmt.body = self.block(stmt.body, declared)
            stmt.orelse = self.block(stmt.orelse, declared)
            return [stmt]
        return [stmt]

    def ann_assign(self, stmt: ast.AnnAssign) -> ast.stmt:
        """``x: T = v`` becomes ``x = coerce(T, v)``; ``x: T`` becomes ``x = zero(T)``."""
        if not isinstance(stmt.target, ast.Name):
            return stmt
        if stmt.value is None:
            value = _call("zero", _copy(stmt.annotation))
        else:
            value = _call("coerce", _copy(stmt.annotation), stmt.value)
        return ast.copy_location(ast.Assign(targets=[stmt.target], value=value), stmt)

    def _store(self, target: ast.expr, value: ast.expr, declared: dict[str, ast.expr], module_level: bool) -> ast.expr:
        """The value to store into ``target``: converted to its declared or inferred type."""
        if isinstance(target, ast.Name):
            if target.id in declared:
                return _call("coerce", _copy(declared[target.id]), value)
            if not module_level:
                return _call("rebind", _name(target.id), value)
        # Fields and elements convert in __setattr__/__setitem__; copying keeps value semantics.
        return _call("copy", value)

    def assign(self, stmt: ast.Assign, declared: dict[str, ast.expr], module_level: bool) -> list[ast.stmt]:
        """Plain, tuple (``a, b = b, a + b``) and chained assignment, each store converted."""
        value = stmt.value
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) \
                and isinstance(value, ast.Tuple) and len(value.elts) == len(stmt.targets[0].elts):
            # a, b = b, a + b: evaluate every value first, then store each as a single assignment would.
            tmp = "_kcc_tuple"
            out: list[ast.stmt] = [ast.copy_location(
                ast.Assign(targets=[_name(tmp, ast.Store())], value=value), stmt)]
            for i, t in enumerate(stmt.targets[0].elts):
                item = ast.Subscript(value=_name(tmp), slice=ast.Constant(i), ctx=ast.Load())
                out.append(ast.copy_location(
                    ast.Assign(targets=[t], value=self._store(t, item, declared, module_level)), stmt))
            return out
        if len(stmt.targets) == 1:
            stmt.value = self._store(stmt.targets[0], value, declared, module_level)
            return [stmt]
        tmp = "_kcc_value"
        out = [ast.copy_location(ast.Assign(targets=[_name(tmp, ast.Store())], value=value), stmt)]
        for t in stmt.targets:
            out.append(ast.copy_location(
                ast.Assign(targets=[t], value=self._store(t, _name(tmp), declared, module_level)), stmt))
        return out

    def for_(self, stmt: ast.For, declared: dict[str, ast.expr]) -> ast.stmt:
        """``for i in range(...)`` yields values of the loop variable's type."""
        it = stmt.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
                and isinstance(stmt.target, ast.Name) and not it.keywords:
            name = stmt.target.id
            if name in declared:
                hint = _copy(declared[name])
            else:
                hint = _name(name)
            uses = ast.Tuple(elts=[_thunk(self.suggestion(u)) for u in loop_variable_uses(name, stmt.body)],
                             ctx=ast.Load())
            stmt.iter = ast.copy_location(_call("range", hint, uses, *it.args), it)
        stmt.body = self.block(stmt.body, declared)
        stmt.orelse = self.block(stmt.orelse, declared)
        return stmt


    def suggestion(self, use: LoopUse) -> ast.expr:
        """The expression giving the type ``use`` suggests for a loop variable (see typed_range)."""
        if use.kind == "argument":
            assert isinstance(use.node, ast.Call)
            return _call("param_type", _copy(use.node.func), ast.Constant(use.slot))
        if use.kind == "operand":
            return ast.Call(func=_name("type"), args=[_copy(use.node)], keywords=[])
        if use.kind == "declared":
            return _copy(use.node)
        return _copy(self.ret) if self.ret is not None else ast.Constant(None)


def _thunk(expr: ast.expr) -> ast.expr:
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                         kw_defaults=[], kwarg=None, defaults=[]), body=expr)


def load_python(path: str | Path, root: str | Path | None = None,
                board_constants: dict[str, int | str] | None = None) -> types.ModuleType:
    """Load the kcc source ``path`` as a Python module whose values behave as the compiled code's.

    Args:
        path: the ``.py`` file of a pure kcc module.
        root: the source root its imports resolve against (the directory that
            holds the top package); default: the file's own directory.
        board_constants: the values ``import board`` / ``from board import X`` give.

    Returns:
        A fresh module object (a new one per call, with its own globals); the
        modules it imports are fresh too and reachable through its attributes.

    Raises:
        ValueError: when ``path`` is not inside ``root``.
        ImportError: when an import names no module of the source root.
        SyntaxError: when the source does not parse.
        Exception: whatever the module's top level raises while it runs.
    """
    path = Path(path).resolve()
    base = Path(root).resolve() if root is not None else path.parent
    try:
        rel = path.relative_to(base)
    except ValueError:
        raise ValueError(f"{path} is not inside the source root {base}") from None
    dotted = module_name(rel, lang.TARGET) or path.stem
    loader = _Loader(base, dict(board_constants or {}))
    return loader.exec_file(dotted, path)
