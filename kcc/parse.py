"""Stage 1: parse a source file with Python's own parser and reject what the language leaves out (language.md, "Not in the language")."""

from __future__ import annotations

import ast
import io
import sys
import tokenize
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kcc.diagnostics import CompileError, Diagnostic, Reporter, SourceFile, located

# The deepest nesting of syntax a module may have: levels of the ast from the module down, each
# statement, expression, operand, argument and subscript one level (language.md, "Diagnostics").
# clang's default -fbracket-depth is 256 (bracket levels only); here a flat chain counts too, since
# ``1 + 1 + ... + 1`` is a tree as deep as it has terms: a 200-term sum inside a function body is
# accepted, a 300-term one is not. The later stages walk the tree recursively: STAGE_RECURSION_LIMIT
# Python frames cover this depth with room to spare.
MAX_NESTING = 256
STAGE_RECURSION_LIMIT = 16 * MAX_NESTING + 4000
# The recursion limit ast.parse runs under: CPython's parser scales its own C recursion limit by
# the interpreter's, so it must not see STAGE_RECURSION_LIMIT (it would overrun the C stack).
_PARSER_RECURSION_LIMIT = 1000

# Node kinds that language.md, "Not in the language" forbids outright, with the message and hint given for each.
_FORBIDDEN: dict[type, tuple[str, str]] = {
    ast.List: ("lists are not in the language", "use Array[T, N]; a Final table is a tuple: (a, b, c)"),
    ast.ListComp: ("comprehensions are not in the language", "write a for loop over range()"),
    ast.SetComp: ("comprehensions are not in the language", "write a for loop over range()"),
    ast.DictComp: ("comprehensions are not in the language", "write a for loop over range()"),
    ast.GeneratorExp: ("generator expressions are not in the language", "write a for loop over range()"),
    ast.Dict: ("dicts are not in the language", "use a @struct or an Array"),
    ast.Set: ("sets are not in the language", "use an Array of bool or a bit mask"),
    ast.JoinedStr: ("f-strings are not in the language", "use kprintf-style formatting"),
    ast.Lambda: ("lambdas are not in the language", "define a module-level function"),
    ast.Try: ("try is not in the language", "return an error code"),
    ast.TryStar: ("try is not in the language", "return an error code"),
    ast.With: ("with is not in the language", ""),
    ast.AsyncWith: ("async is not in the language", ""),
    ast.Raise: ("raise is not in the language", "call panic(\"...\") or return an error code"),
    ast.Yield: ("generators are not in the language", ""),
    ast.YieldFrom: ("generators are not in the language", ""),
    ast.AsyncFunctionDef: ("async is not in the language", ""),
    ast.AsyncFor: ("async is not in the language", ""),
    ast.Await: ("async is not in the language", ""),
    ast.Nonlocal: ("nonlocal is not in the language", "use a module-level global"),
    ast.NamedExpr: ("assignment expressions (:=) are not in the language", "assign in a statement"),
    ast.Starred: ("starred expressions are not in the language", ""),
    ast.Slice: ("slices are not in the language", "index one element at a time"),
    ast.Delete: ("del is not in the language", ""),
    ast.Match: ("match is not in the language", "use if/elif"),
}


def parse_source(source: SourceFile) -> ast.Module:
    """Parse ``source`` and check it against language.md, "Not in the language".

    Returns the module's ast with positions. Raises CompileError holding every
    forbidden construct found (or the one syntax error Python's parser reports).
    """
    try:
        with warnings.catch_warnings(), _recursion_limit(_PARSER_RECURSION_LIMIT):
            # Python's parser warns about things like "1is8"; the language reports its own errors.
            warnings.simplefilter("ignore")
            tree = ast.parse(source.text, filename=source.path, type_comments=False)
    except (RecursionError, MemoryError):  # CPython's parser gives up on nesting thousands deep
        raise CompileError([_too_deep_in_text(source)]) from None
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = exc.offset or 1
        end_col = exc.end_offset if exc.end_offset and exc.end_lineno == line else col + 1
        raise CompileError([Diagnostic(source, line, col, f"syntax error: {exc.msg}", line,
                                       max(end_col, col + 1))]) from None
    except ValueError as exc:  # e.g. source holds NUL bytes
        raise CompileError([Diagnostic(source, 1, 1, f"cannot parse: {exc}")]) from None
    reporter = Reporter()
    subset = _Subset(source, reporter, _SUBSET_LEVELS)
    subset.visit(tree)
    # A module nested too deep gets that one error and no other. The subset walk stops short of
    # MAX_NESTING and skips what it reports, so only then need the depth be measured exactly.
    if subset.near_limit or reporter.diagnostics:
        deepest = too_deep(tree)
        if deepest is not None:
            raise CompileError([_too_deep(source, deepest)])
    if subset.near_limit:  # no deeper than MAX_NESTING after all: walk all of it
        reporter = Reporter()
        _Subset(source, reporter, sys.maxsize).visit(tree)
    reporter.check()
    return tree


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    """Run the body with Python's recursion limit at ``limit``, then restore the previous limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@contextmanager
def stage_recursion() -> Iterator[None]:
    """Run compiler stages with STAGE_RECURSION_LIMIT: trees MAX_NESTING deep need that many frames.

    Python 3.11 keeps Python-to-Python calls off the C stack, so the higher limit only lets the
    recursive ast walks of binding, constant folding, type checking and lowering reach MAX_NESTING;
    parse_source lowers it again around CPython's parser.
    """
    with _recursion_limit(max(sys.getrecursionlimit(), STAGE_RECURSION_LIMIT)):
        yield


def too_deep(tree: ast.AST, limit: int = MAX_NESTING) -> ast.AST | None:
    """The outermost expression holding a node more than ``limit`` levels below ``tree``, or None.

    The expression is the one directly under a statement (or the statement itself when the deep
    node is not in an expression), so a diagnostic spans what to split. Iterative, so a tree of any
    depth is measured without recursion.
    """
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    push = stack.append
    expr, stmt, node_type = ast.expr, ast.stmt, ast.AST
    while stack:
        node, depth, outer = stack.pop()
        if depth > limit:
            return outer
        depth += 1
        in_expr = isinstance(outer, expr)
        # ast.iter_child_nodes, inlined: this walk visits every node of every module.
        for name in node._fields:
            value = getattr(node, name, None)
            children = value if type(value) is list else (value,)
            for child in children:
                if isinstance(child, node_type):
                    push((child, depth, child if not in_expr and isinstance(child, expr | stmt) else outer))
    return None


_LAYOUT = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT})
_NESTING_HINTS = (f"kcc accepts syntax nested up to {MAX_NESTING} levels (language.md, \"Diagnostics\")",
                  "split the expression: name a part of it with an assignment")


def _too_deep(source: SourceFile, node: ast.AST) -> Diagnostic:
    """The located error for a module whose ``node`` lies deeper than MAX_NESTING."""
    return located(source, node, f"expression too deeply nested (more than {MAX_NESTING} levels)",
                   *_NESTING_HINTS)


def _too_deep_in_text(source: SourceFile) -> Diagnostic:
    """The located error for a module CPython's parser could not build a tree for (RecursionError).

    Nesting that deep needs at least MAX_NESTING tokens in one logical line, so the error points at
    the first such line (the start of the file when the tokenizer fails first).
    """
    line, col, count = 1, 0, 0
    start: tuple[int, int] | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if tok.type == tokenize.NEWLINE:
                start, count = None, 0
                continue
            if tok.type in _LAYOUT:
                continue
            start = start or tok.start
            count += 1
            if count > MAX_NESTING:
                line, col = start
                break
    except (tokenize.TokenError, SyntaxError):
        pass
    return Diagnostic(source, line, col + 1, f"expression too deeply nested (more than {MAX_NESTING} levels)",
                      hints=list(_NESTING_HINTS))


# How deep parse_source's first subset walk descends (the module is level 0). It does not visit
# names, aliases, or context and operator leaves (none more than two levels below a node it
# visits) and counts some levels as more than they are, so a module it walks to the end is no
# deeper than MAX_NESTING.
_SUBSET_LEVELS = MAX_NESTING - 4
# Fields the subset walk does not descend: they hold names and numbers, context and operator
# leaves (Load, Add, ...) which nothing forbids, or (Import's names) aliases it never visits.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "name", "names", "type_comment", "kind", "arg", "attr",
                          "module", "level", "is_async", "conversion"})


class _Subset(ast.NodeVisitor):
    """Walks a module and reports every construct language.md, "Not in the language" lists, located.

    ``max_level`` is how deep it descends (the module is level 0); ``near_limit`` becomes True
    when it stopped there, leaving the rest of the module unwalked.
    """

    def __init__(self, source: SourceFile, reporter: Reporter, max_level: int) -> None:
        self.source = source
        self.reporter = reporter
        self.max_level = max_level
        self.depth = 0  # function nesting
        self.level = 0  # ast levels below the module of the node being visited
        self.near_limit = False

    def _err(self, node: ast.AST, message: str, hint: str = "") -> None:
        self.reporter.error(self.source, node, message, *([hint] if hint else []))

    def visit(self, node: ast.AST) -> None:
        """Visit ``node`` with its ``visit_<Class>`` method or generic_visit (ast.NodeVisitor's
        dispatch, with the method looked up once per class: this walk visits every node)."""
        cls = type(node)
        method = _SUBSET_DISPATCH.get(cls)
        if method is None:
            method = _SUBSET_DISPATCH[cls] = getattr(type(self), "visit_" + cls.__name__, _Subset.generic_visit)
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        cls = type(node)
        rule = _FORBIDDEN.get(cls)
        if rule is not None:
            self._err(node, rule[0], rule[1])
            return
        level = self.level + 1
        if level > self.max_level:
            self.near_limit = True
            return
        fields = _SUBSET_FIELDS.get(cls)
        if fields is None:
            fields = _SUBSET_FIELDS[cls] = tuple(f for f in cls._fields if f not in _LEAF_FIELDS)
        # visit(), inlined: this walk visits nearly every node of every module.
        dispatch = _SUBSET_DISPATCH
        node_type, name_type, constant_type = ast.AST, ast.Name, ast.Constant
        for name in fields:
            value = getattr(node, name, None)
            for item in value if type(value) is list else (value,):
                if isinstance(item, node_type):
                    item_cls = type(item)
                    if item_cls is name_type or (item_cls is constant_type and type(item.value) is int):
                        continue  # nothing to check: a name and its context leaf, an integer
                    method = dispatch.get(item_cls)
                    if method is None:
                        method = dispatch[item_cls] = getattr(_Subset, "visit_" + item_cls.__name__,
                                                              _Subset.generic_visit)
                    self.level = level
                    method(self, item)
        self.level = level - 1

    def visit_Subscript(self, node: ast.Subscript) -> None:
        """``Callable[[A, B], R]`` writes its parameter types as a list: the one list the language has."""
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else []
        if decorator_name(node.value) == "Callable" and elts and isinstance(elts[0], ast.List):
            level = self.level
            for child in [node.value, *elts[0].elts, *elts[1:]]:
                self.level = level + 3  # as deep as the parameter types (in a List in a Tuple), or deeper
                self.visit(child)
            self.level = level
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, float):
            self._err(node, "floats are not in the language", "use a fixed-point integer")
        elif isinstance(node.value, complex):
            self._err(node, "complex numbers are not in the language")
        elif isinstance(node.value, bytes):
            self._err(node, "bytes literals are not in the language", "use a string literal (Ptr[u8])")
        elif isinstance(node.value, str):
            try:
                node.value.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = node.value[exc.start]
                self._err(node, f"a string literal must be encodable as UTF-8: it holds the lone surrogate "
                                f"{bad!r}", "kcc stores strings as UTF-8, where the surrogates U+D800..U+DFFF have no encoding")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if self.depth > 0:
            self._err(node, "nested functions and closures are not in the language",
                      "move the function to module level")
            return
        args = node.args
        if args.vararg or args.kwarg:
            bad = args.vararg or args.kwarg
            self._err(bad or node, "*args and **kwargs are not in the language", "list the parameters")
        if args.kwonlyargs or args.posonlyargs:
            self._err(node, "keyword-only and positional-only parameters are not in the language")
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.depth > 0:
            self._err(node, "classes inside functions are not in the language")
            return
        if is_int_enum(node):
            self.int_enum(node)
            return
        if node.bases or node.keywords:
            self._err(node, "inheritance is not in the language", "a @struct stands alone")
        if not any(decorator_name(d) == "struct" for d in node.decorator_list):
            self._err(node, "classes other than @struct are not in the language",
                      "decorate it with @struct to get a C-layout aggregate")
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef):
                self._err(stmt, "methods are not in the language", "write a module-level function")
        self.generic_visit(node)

    def int_enum(self, node: ast.ClassDef) -> None:
        """``class Cause(IntEnum):`` holds ``NAME = value`` members (a docstring too), nothing else."""
        if node.decorator_list or node.keywords:
            self._err(node, "an IntEnum class takes no decorators or keywords")
        for stmt in node.body:
            member = isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            if not (member or isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(
                    stmt.value, ast.Constant) and isinstance(stmt.value.value, str))):
                self._err(stmt, "an IntEnum class holds only NAME = value members", "Cause.NAME is then a constant")
            else:
                level = self.level
                self.level = level + 1
                self.generic_visit(stmt)
                self.level = level

    def visit_Compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if isinstance(op, (ast.Is, ast.IsNot)):
                self._err(node, "'is' is not in the language", "compare with == (NULL == p)")
            elif isinstance(op, (ast.In, ast.NotIn)):
                self._err(node, "'in' is not in the language", "compare elements in a loop")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if node.orelse:
            self._err(node.orelse[0], "for ... else is not in the language")
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        if node.orelse:
            self._err(node.orelse[0], "while ... else is not in the language")
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        if self.depth > 0:
            self._err(node, "imports belong at module level")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.depth > 0:
            self._err(node, "imports belong at module level")
        elif node.level:
            self._err(node, "relative imports are not in the language",
                      "import by the module's path from the source root")
        for alias in node.names:
            if alias.name == "*" and node.module != "kcc.lang":
                self._err(node, "'import *' is only allowed from kcc.lang")


# _Subset's method for each node class, and the fields it walks, filled as classes are met.
_SUBSET_DISPATCH: dict[type, Callable[[_Subset, ast.AST], None]] = {}
_SUBSET_FIELDS: dict[type, tuple[str, ...]] = {}


def is_int_enum(node: ast.ClassDef) -> bool:
    """True for ``class X(IntEnum):``, a group of named integer constants."""
    return len(node.bases) == 1 and decorator_name(node.bases[0]) == "IntEnum"


def decorator_name(node: ast.expr) -> str:
    """The bare name of a decorator (``struct`` for ``@struct`` and ``@struct(packed=True)``)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""



def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The direct children of ``node``, as ast.iter_child_nodes gives them, as a list."""
    out: list[ast.AST] = []
    node_type = ast.AST
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(child for child in value if isinstance(child, node_type))
        elif isinstance(value, node_type):
            out.append(value)
    return out


# The fields holding the children of the expression classes the language has, without the
# context and operator leaves (Load, Add, ...) that hold nothing. A field in a tuple holds a list.
_EXPR_CHILDREN: dict[type, tuple[str | tuple[str], ...]] = {
    ast.Constant: (), ast.Attribute: ("value",), ast.Subscript: ("value", "slice"),
    ast.BinOp: ("left", "right"), ast.UnaryOp: ("operand",), ast.BoolOp: (("values",),),
    ast.Compare: ("left", ("comparators",)), ast.IfExp: ("test", "body", "orelse"),
    ast.Call: ("func", ("args",), ("keywords",)), ast.keyword: ("value",), ast.Tuple: (("elts",),),
}


def sub_nodes(node: ast.AST) -> list[ast.AST]:
    """The children of ``node`` as child_nodes gives them, but for the expression classes of the
    language without their context and operator leaves, which hold no names or values.

    Found from a table of fields rather than by testing every field: the type checker asks this of
    every expression it checks.
    """
    fields = _EXPR_CHILDREN.get(type(node))
    if fields is None:
        return child_nodes(node)
    out: list[ast.AST] = []
    for name in fields:
        if type(name) is tuple:
            out.extend(getattr(node, name[0]))
        else:
            out.append(getattr(node, name))
    return out


def walk(root: ast.AST) -> list[ast.AST]:
    """Every node under ``root`` (itself first), in ast.walk's breadth-first order, as a list.

    ast.walk's generators cost more than the work they do in the later stages' many small walks.
    """
    todo = [root]
    push = todo.append
    node_type = ast.AST
    i = 0
    while i < len(todo):
        node = todo[i]
        i += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, node_type):
                        push(child)
            elif isinstance(value, node_type):
                push(value)
    return todo


def assigned_names(body: list[ast.stmt]) -> list[str]:
    """Names a function body binds (assignment, annotated or augmented assignment, ``for``), in order.

    As in Python, these are the function's locals unless declared ``global``; kcc.typecheck and
    kcc.pyload both scope names by this list.
    """
    out: list[str] = []

    def bind(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in out:
                out.append(target.id)
        elif isinstance(target, ast.Tuple):
            for elt in target.elts:
                bind(elt)

    # Only statements bind, and only statements (or the handlers and cases holding them) hold
    # statements: walking them alone, breadth-first, meets the binding statements in ast.walk's
    # order without visiting the expressions, which are most of the nodes.
    todo: list[ast.AST] = list(body)
    push = todo.append
    i = 0
    while i < len(todo):
        node = todo[i]
        i += 1
        cls = type(node)
        if cls is ast.Assign:
            for t in node.targets:
                bind(t)
        elif cls is ast.AnnAssign or cls is ast.AugAssign or cls is ast.For:
            bind(node.target)
        for name in _BLOCK_FIELDS.get(cls, ()):
            for child in getattr(node, name):
                push(child)
    return out


# The fields that hold statements (or the except handlers and match cases holding them), by node
# class, in _fields order.
_BLOCK_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f for f in cls._fields if f in ("body", "orelse", "finalbody", "handlers", "cases"))
    for cls in (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.FunctionDef,
                ast.AsyncFunctionDef, ast.ClassDef, ast.Try, ast.TryStar, ast.ExceptHandler, ast.Match,
                ast.match_case)
}


@dataclass(frozen=True)
class LoopUse:
    """A use of a ``for`` loop's variable that may decide its type when every range bound is untyped.

    ``kind`` is "argument" (``node`` is the Call, ``slot`` the parameter's position or keyword),
    "operand" (``node`` is the other operand: a name, or a field or module attribute of one),
    "declared" (``node`` is the annotation of ``x: T = i``) or "return" (``return i``).
    """

    kind: str
    node: ast.AST
    slot: int | str = 0


def _is_plain_path(node: ast.expr) -> bool:
    """A name or a chain of attributes of one: evaluating it has no effect in either meaning."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def loop_variable_uses(name: str, body: list[ast.stmt]) -> list[LoopUse]:
    """The uses of loop variable ``name`` in ``body`` that can give it a type, in source order.

    kcc.typecheck takes the first whose other side has an integer type; kcc.pyload does the same
    at run time, so both give the variable one type (language.md, "Control flow").
    """
    found: list[tuple[tuple[int, int], LoopUse]] = []

    def is_var(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    def add(at: ast.AST, use: LoopUse) -> None:
        found.append(((getattr(at, "lineno", 0), getattr(at, "col_offset", 0)), use))

    for node in walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Call):
            for i, a in enumerate(node.args):
                if is_var(a):
                    add(a, LoopUse("argument", node, i))
            for kw in node.keywords:
                if kw.arg is not None and is_var(kw.value):
                    add(kw.value, LoopUse("argument", node, kw.arg))
        elif isinstance(node, ast.BinOp) and not isinstance(node.op, ast.LShift | ast.RShift):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if is_var(mine) and _is_plain_path(other) and not is_var(other):
                    add(mine, LoopUse("operand", other))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for i, mine in enumerate(operands):
                for other in operands[max(i - 1, 0):i] + operands[i + 1:i + 2]:
                    if is_var(mine) and _is_plain_path(other) and not is_var(other):
                        add(mine, LoopUse("operand", other))
        elif isinstance(node, ast.AugAssign) and is_var(node.value) \
                and not isinstance(node.op, ast.LShift | ast.RShift) and _is_plain_path(node.target):
            add(node.value, LoopUse("operand", node.target))
        elif isinstance(node, ast.AnnAssign) and node.value is not None and is_var(node.value):
            add(node.value, LoopUse("declared", node.annotation))
        elif isinstance(node, ast.Return) and node.value is not None and is_var(node.value):
            add(node.value, LoopUse("return", node))
    return [use for _, use in sorted(found, key=lambda f: f[0])]
