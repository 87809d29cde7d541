"""Source mutators for fuzzing kcc's front end: text and ast rewrites of kcc programs, drawn from a seed.

Used by tests/fuzzkcc.py (make fuzz-kcc) and tests/test_fuzz.py. Each operation is a tuple
``(kind, a, b)`` whose integers are taken modulo the candidates the text or tree offers, so any
integers make a valid operation and a random.Random draws them (random_text_op, random_tree_op).

Text operations work on ``str``; a lone surrogate U+DC80..U+DCFF stands for the raw byte 0x80..0xFF,
so ``encode_mutant`` (UTF-8 with surrogateescape) turns the "bytes" operation's insertions into
bytes that are not UTF-8.
"""

from __future__ import annotations

import ast
import copy
import keyword
import random
import re

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
    'extern_symbol("")', 'extern_symbol("nope")', '"\\udc80"', '"\\x00"', 'asm("bogus insn")',
    "Array[u8, 1 << 40]", "Array[u8, 100000]", "2 ** 2 ** 2 ** 2 ** 2",
]
NUMBERS = [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, -128, -129, 255, 256, 65535, 65536,
           2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]
NAMES = ["u8", "i64", "usize", "bool", "Ptr", "Array", "Reg", "NULL", "TARGET", "Final", "addr", "cast",
         "sizeof", "len", "range", "panic", "asm", "mmio", "volatile_load", "struct", "export", "int",
         "None", "True", "x", "undefined_name"]
TYPES = ["u8", "i8", "u64", "i64", "usize", "bool", "Ptr[u8]", "Ptr[Ptr[u32]]", "Array[u8, 4]", "Array[u8, 0]",
         "Reg[u32]", "None", "Final", "Final[u8]", "int", "Array[u8, 1 << 40]", "Array[Array[u64, 4096], 64]"]
OPERATORS = ["Add", "Sub", "Mult", "FloorDiv", "Mod", "LShift", "RShift", "BitAnd", "BitOr", "BitXor", "Pow"]
COMPARISONS = ["Eq", "NotEq", "Lt", "GtE"]
# Characters that are not what they seem in source: raw bytes that are not UTF-8 (as surrogates,
# see encode_mutant), line-like separators Python does not end lines at, NUL, a BOM, a lone \r.
BAD_CHARS = ["\udcff", "\udc80", "\udcc3", "\udce2\udc82", "\f", "\v", "\x1c", "\x85", "\u2028", "\u2029",
             "\x00", "\ufeff", "\r", "\t", "\x7f", "\u00e9"]
# Shapes of deep nesting (language.md, "Diagnostics": 256 levels) and depths around the limit.
DEEP_SHAPES = ["sum", "unary", "invert", "power", "not", "parens", "subscript", "call", "conditional", "shift"]
DEPTHS = [10, 100, 200, 250, 255, 256, 257, 300, 325, 1000, 6000]

_BOUNDARY = re.compile(r"\b|(?<=[^\w\s])|(?=[^\w\s])|(?<=\s)(?=\S)")
_NUMBER = re.compile(r"(?<![\w.])(?:0[xX][0-9a-fA-F_]+|\d[\d_]*)(?![\w.])")
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_OPERAND = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*|\d[\d_]*)(?![\w(])")


def deep_expression(shape: str, depth: int, leaf: str = "x") -> str:
    """Source text of an expression ``depth`` levels deep in ``shape`` around ``leaf``."""
    builders = {
        "sum": lambda: " + ".join([leaf] * depth),
        "unary": lambda: "- " * depth + leaf,
        "invert": lambda: "~" * depth + leaf,
        "power": lambda: " ** ".join([leaf] * depth),
        "not": lambda: "not " * depth + leaf,
        "parens": lambda: "(" * min(depth, 190) + leaf + ")" * min(depth, 190),
        "subscript": lambda: leaf + "[0]" * depth,
        "call": lambda: "f(" * min(depth, 190) + leaf + ")" * min(depth, 190),
        "conditional": lambda: " if x else ".join([leaf] * depth),
        "shift": lambda: " << ".join([leaf] * depth),
    }
    return "(" + builders[shape]() + ")"


def encode_mutant(text: str) -> bytes:
    """The bytes of a mutant: UTF-8, each U+DC80..U+DCFF written as the raw byte it stands for."""
    return text.encode("utf-8", errors="surrogateescape")


# ----- text mutations ----------------------------------------------------------------------------

TEXT_KINDS = ("insert", "delete", "duplicate", "swap", "number", "rename", "break-name", "deep", "bytes")


def random_text_op(rng: random.Random) -> tuple:
    """One text operation drawn from ``rng``: (kind, position, argument)."""
    kind = rng.choice(TEXT_KINDS)
    position = rng.randrange(10**6)
    arguments = {
        "insert": lambda: rng.choice(TOKENS),
        "delete": lambda: rng.randint(1, 40),
        "duplicate": lambda: 0,
        "swap": lambda: rng.randrange(10**6),
        "number": lambda: rng.choice(NUMBERS),
        "rename": lambda: rng.choice(NAMES),
        "break-name": lambda: rng.randrange(10**6),
        "deep": lambda: (rng.choice(DEEP_SHAPES), rng.choice(DEPTHS)),
        "bytes": lambda: rng.choice(BAD_CHARS),
    }
    return kind, position, arguments[kind]()


def mutate_text(text: str, op: tuple) -> str:
    """Apply one text operation; positions are taken modulo the candidates the text offers."""
    kind, a, b = op
    if kind in ("insert", "delete", "bytes"):
        spots = [m.start() for m in _BOUNDARY.finditer(text)] or [0]
        i = spots[a % len(spots)]
        if kind == "insert":
            return text[:i] + f" {b} " + text[i:]
        if kind == "bytes":
            return text[:i] + b + text[i:]
        return text[:i] + text[i + b:]
    lines = text.split("\n")
    if kind == "duplicate":
        k = a % len(lines)
        return "\n".join(lines[:k + 1] + lines[k:])
    if kind == "swap":
        i, j = a % len(lines), b % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    pattern = {"number": _NUMBER, "rename": _IDENT, "break-name": _IDENT, "deep": _OPERAND}[kind]
    found = list(pattern.finditer(text))
    if not found:
        return text
    m = found[a % len(found)]
    if kind == "break-name":  # one character of the name dropped, doubled or changed
        name, k = m.group(), b % len(m.group())
        new = [name[:k] + name[k + 1:], name[:k + 1] + name[k:], name[:k] + "Q" + name[k + 1:]][b % 3]
    elif kind == "deep":
        new = deep_expression(b[0], b[1], m.group())
    else:
        new = str(b)
    return text[:m.start()] + new + text[m.end():]


# ----- AST mutations (the result still parses, so later stages run) ----------------------------------

TREE_KINDS = ("swap-expr", "constant", "statement", "operator", "name", "annotation", "arguments", "compare",
              "deepen", "swap-statements")


def random_tree_op(rng: random.Random) -> tuple:
    """One ast operation drawn from ``rng``: (kind, index, argument)."""
    kind = rng.choice(TREE_KINDS)
    index = rng.randrange(10**6)
    arguments = {
        "swap-expr": lambda: rng.randrange(10**6),
        "constant": lambda: rng.choice(NUMBERS + [True, "s", None, "", "\udc80", "a\x00b"]),
        "statement": lambda: rng.randrange(10**6),
        "operator": lambda: rng.choice(OPERATORS),
        "name": lambda: rng.choice(NAMES),
        "annotation": lambda: rng.choice(TYPES),
        "arguments": lambda: rng.randrange(10**6),
        "compare": lambda: rng.choice(COMPARISONS),
        "deepen": lambda: (rng.choice(["UAdd", "USub", "Invert", "Not", "Add", "Pow"]), rng.choice(DEPTHS[:9])),
        "swap-statements": lambda: rng.randrange(10**6),
    }
    return kind, index, arguments[kind]()


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


def _deepened(expr: ast.expr, op: str, depth: int) -> ast.expr:
    """``expr`` under ``depth`` unary operators, or ``depth`` copies of it chained by a binary one."""
    out = expr
    for _ in range(depth):
        if op in ("UAdd", "USub", "Invert", "Not"):
            out = ast.UnaryOp(getattr(ast, op)(), out)
        else:
            out = ast.BinOp(out, getattr(ast, op)(), copy.deepcopy(expr))
    return out


def mutate_tree(tree: ast.Module, op: tuple) -> None:
    """Apply one ast operation in place; indices are taken modulo the candidate nodes."""
    kind, a, b = op
    if kind == "swap-expr":
        exprs = _nodes(tree, ast.expr)
        if exprs:
            _replace_child(tree, exprs[a % len(exprs)], copy.deepcopy(exprs[b % len(exprs)]))
    elif kind == "constant":
        consts = _nodes(tree, ast.Constant)
        if consts:
            consts[a % len(consts)].value = b
    elif kind in ("statement", "swap-statements"):
        bodies = [n.body for n in ast.walk(tree) if isinstance(getattr(n, "body", None), list) and n.body]
        body = bodies[a % len(bodies)]
        i = b % len(body)
        if kind == "swap-statements":
            j = (b // 7) % len(body)
            body[i], body[j] = body[j], body[i]
            return
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
    elif kind == "deepen":
        exprs = [e for e in _nodes(tree, ast.expr) if not isinstance(e, ast.Starred | ast.Slice)]
        if exprs:
            target = exprs[a % len(exprs)]
            _replace_child(tree, target, _deepened(target, b[0], b[1]))


def tree_mutant(text: str, ops: list[tuple]) -> str | None:
    """``text`` parsed, rewritten by ``ops`` and printed again; None when it does not parse or print.

    ast.unparse cannot print some mutants (a None constant as an assignment target, a tree
    deeper than its recursion allows); the caller mutates the text instead.
    """
    try:
        tree = ast.parse(text)
        for op in ops:
            mutate_tree(tree, op)
        return ast.unparse(ast.fix_missing_locations(tree))
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError, MemoryError):
        return None
