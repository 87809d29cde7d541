"""The incremental front end of ``kcc build``: each unit's IR text kept between builds, so an edit
re-checks and re-lowers only the units it can change.

A unit (one source module's IR, kcc.lower.lower_units) is a function of its own module's source
and of what it can see of the others: the declarations it names. So the cache key of a unit is a
SHA-256 over

- kcc itself (kcc.codegen.compiler_digest), the target, the build mode, the board's constants,
  the source root, the working directory (diagnostics and panic messages name files by their
  path from it) and the program's module list;
- the unit's whole source, and every module's imports and other statements that are not
  declarations (so a changed import anywhere changes every key);
- of every other module, the *visible part* of each top-level declaration whose name occurs in
  the unit's name set: a class or assignment whole, a function's decorators and signature (and
  its body too when it is ``@inline``, as it is then copied into the units that call it), each
  with its path and first line. The name set starts as every identifier the unit's source
  spells, and grows by the identifiers of each visible part taken (its types, defaults,
  constants, inline bodies) until nothing new is named.

Names are matched as words of the text, comments and strings included, so the set is too large
rather than too small: a unit is never reused when a declaration it could use changed. An edit
that adds a function nobody names, or changes a body that is not ``@inline``, re-checks and
re-lowers the edited unit alone.

One thing a unit's IR depends on beyond that: which of its definitions other units use (they get
external linkage, kcc.lower.Lowerer.export). Each cached unit records the symbols it refers to in
others and those of its own it exported; a reused unit whose exports would now differ is lowered
again.

Every module is still loaded, bound and declared (kcc.resolve) on every build, so errors in
declarations and imports are found as before; a module's body checks are skipped only when its
unit is reused, which its key makes safe: nothing it can see has changed since it checked clean.
A source text that once parsed clean is parsed again without the language-subset walk
(kcc.parse.parse_trusted), keyed by its text and kcc itself.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kcc import llir as ir
from kcc.compiler import BuildOptions, _collector_paused
from kcc.diagnostics import SourceFile
from kcc.lower import Lowerer, check_symbols, unit_modules
from kcc.parse import _PARSER_RECURSION_LIMIT, parse_source, stage_recursion
from kcc.resolve import FuncSym, Module, Program, resolve_program
from kcc.typecheck import CheckedFunction, check_functions

# Entries kept per unit: the current one and a few earlier variants (checked and release builds,
# or an edit and its undo, switch back and forth).
KEEP_PER_UNIT = 4
# The file of source digests that parsed clean (kcc.parse.parse_trusted), and how many it keeps.
TRUSTED = "trusted.json"
KEEP_TRUSTED = 2000

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class _Decl:
    """The visible part of one top-level declaration: where it is, its text and the names it spells."""

    text: str
    names: frozenset[str]


@dataclass
class _Summary:
    """What a module shows other units: its declarations by name and everything else (imports, ...)."""

    decls: dict[str, list[_Decl]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)


@dataclass
class FrontEndResult:
    """The IR text of each unit, in the program's module order, and how many were lowered (not reused)."""

    units: dict[str, str]
    lowered: int


def _segment(lines: list[str], first: int, last: int) -> str:
    """Source lines ``first``..``last`` (1-based, inclusive) of a module."""
    return "\n".join(lines[first - 1:last])


def _bound_names(stmt: ast.stmt) -> list[str]:
    """The names a top-level declaration binds; empty for statements that are not declarations."""
    if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
        return [stmt.name]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    return []


def summarize(mod: Module) -> _Summary:
    """The visible parts of ``mod``'s top-level statements (see the module doc)."""
    inline = {id(f.node) for f in mod.functions if f.attrs.inline}
    lines = mod.source.text.splitlines()
    out = _Summary()
    for stmt in mod.tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        last = stmt.end_lineno or stmt.lineno
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue  # a docstring
        names = _bound_names(stmt)
        if isinstance(stmt, ast.FunctionDef) and id(stmt) not in inline and stmt.body[0].lineno > stmt.lineno:
            last = stmt.body[0].lineno - 1  # the signature; the body is the unit's own business
        # Where an import stands matters to nobody; where a declaration stands is in the debug information.
        where = "" if isinstance(stmt, ast.Import | ast.ImportFrom) else f":{first}"
        text = f"{mod.source.path}{where}\n{_segment(lines, first, last)}"
        if not names:
            out.other.append(text)
            continue
        decl = _Decl(text, frozenset(_IDENT.findall(text)))
        for name in names:
            out.decls.setdefault(name, []).append(decl)
    return out


def unit_keys(prog: Program, options: BuildOptions, compiler: str) -> dict[str, str]:
    """The cache key of every module of ``prog`` (see the module doc), by dotted name."""
    summaries = {name: summarize(mod) for name, mod in prog.modules.items()}
    base = hashlib.sha256()
    target = options.target
    for part in (compiler, target.name, target.triple, target.cpu, target.features, target.data_layout,
                 str(options.checked), json.dumps(options.board_constants, sort_keys=True),
                 str(prog.root.resolve()), os.getcwd(),
                 *(f"{name}={mod.source.path}" for name, mod in prog.modules.items())):
        base.update(part.encode() + b"\0")
    for summary in summaries.values():
        for text in summary.other:
            base.update(text.encode() + b"\0")
    index: dict[str, list[tuple[str, _Decl]]] = {}
    for other, summary in summaries.items():
        for ident, decls in summary.decls.items():
            index.setdefault(ident, []).extend((other, decl) for decl in decls)
    declared = set(index)
    refs = {id(decl): decl.names & declared for decls in index.values() for _, decl in decls}
    keys = {}
    for name, mod in prog.modules.items():
        seen = set(_IDENT.findall(mod.source.text)) & declared
        todo = list(seen)
        taken: dict[int, str] = {}
        while todo:
            for other, decl in index[todo.pop()]:
                if other != name and id(decl) not in taken:
                    taken[id(decl)] = decl.text
                    new = refs[id(decl)] - seen
                    seen |= new
                    todo.extend(new)
        h = base.copy()
        h.update(f"unit {name}\0{mod.source.path}\0".encode() + mod.source.text.encode() + b"\0")
        for text in sorted(taken.values()):
            h.update(text.encode() + b"\0")
        keys[name] = h.hexdigest()[:32]
    return keys


class UnitCache:
    """Unit IR kept in a directory: ``<unit>.<key>.ll`` and ``<unit>.<key>.json`` (imports, exports)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def get(self, unit: str, key: str) -> tuple[str, dict[str, list[str]]] | None:
        """The IR text and record of ``unit`` under ``key``, or None when there is none (or it is unreadable)."""
        try:
            record = json.loads((self.dir / f"{unit}.{key}.json").read_text(encoding="utf-8"))
            text = (self.dir / f"{unit}.{key}.ll").read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("size") != len(text):
            return None  # written by a build that was interrupted
        return text, record

    def put(self, unit: str, key: str, text: str, record: dict[str, object]) -> None:
        """Store ``unit``'s IR text and record under ``key`` (under temporary names, then renamed)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        base = self.dir / f"{unit}.{key}"
        tag = f".tmp{os.getpid()}-{os.urandom(4).hex()}"
        for suffix, data in ((".ll", text), (".json", json.dumps({**record, "size": len(text)}))):
            tmp = base.with_name(base.name + suffix + tag)
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, base.with_name(base.name + suffix))

    def prune(self, current: dict[str, str]) -> None:
        """Keep the KEEP_PER_UNIT newest entries of each unit; ``current`` (unit -> key) is touched first."""
        for unit, key in current.items():
            path = self.dir / f"{unit}.{key}.json"
            if path.is_file():
                path.touch()
        by_unit: dict[str, list[Path]] = {}
        for record in self.dir.glob("*.json"):
            if record.name == TRUSTED:
                continue
            by_unit.setdefault(record.name.rsplit(".", 2)[0], []).append(record)
        for records in by_unit.values():
            records.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in records[KEEP_PER_UNIT:]:
                old.unlink(missing_ok=True)
                old.with_suffix(".ll").unlink(missing_ok=True)

    def trusted(self) -> set[str]:
        """Digests of source texts that parsed clean (kcc.parse.parse_trusted)."""
        try:
            data = json.loads((self.dir / TRUSTED).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        return set(data) if isinstance(data, list) else set()

    def trust(self, known: set[str], digests: set[str]) -> None:
        """Add ``digests`` to the trusted file (which held ``known``), keeping at most KEEP_TRUSTED."""
        if digests <= known:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f"{TRUSTED}.tmp{os.getpid()}"
        tmp.write_text(json.dumps(sorted(digests | known)[-KEEP_TRUSTED:]), encoding="utf-8")
        os.replace(tmp, self.dir / TRUSTED)


def _defined(module: ir.Module) -> list[str]:
    """The symbols a unit defines (functions with bodies and variables): those export() may make external."""
    return sorted(name for name, value in module.globals.items()
                  if isinstance(value, ir.GlobalVariable) and not value.name.startswith(".")
                  or isinstance(value, ir.Function) and value.blocks)


def _parser(known: set[str], compiler: str, seen: set[str]) -> Callable[[SourceFile], ast.Module]:
    """A kcc.parse.parse_source that skips the subset check of texts whose digest is in ``known``.

    A text that passed parse_source once passes it again (the check reads nothing but the text,
    and ``compiler`` is part of the digest), and Python's parser alone gives the same tree. The
    digests of every text parsed are added to ``seen``.
    """

    def parse(source: SourceFile) -> ast.Module:
        digest = hashlib.sha256(f"{compiler}\0".encode() + source.text.encode()).hexdigest()[:32]
        seen.add(digest)
        if digest not in known:
            return parse_source(source)
        old = sys.getrecursionlimit()
        # CPython's parser scales its C recursion limit by this one: the default, not the stages' raised one.
        sys.setrecursionlimit(_PARSER_RECURSION_LIMIT)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(source.text, filename=source.path, type_comments=False)
        finally:
            sys.setrecursionlimit(old)

    return parse


def _check(prog: Program, functions: list[FuncSym]) -> dict[int, CheckedFunction]:
    """kcc.typecheck.check_functions of ``functions``, by id of the symbol.

    Raises kcc.diagnostics.CompileError with every error found.
    """
    return {id(cf.sym): cf for cf in check_functions(prog, functions)}


def compile_units(root: Path, entry: str, options: BuildOptions, cache_dir: Path,
                  compiler: str, emit: Callable[[str, str], object] | None = None) -> FrontEndResult:
    """Compile like kcc.compiler.compile_units, to IR text, reusing the units ``cache_dir`` holds.

    Args:
        root: the source root; entry: the entry module (dotted); options: target, mode, board constants.
        cache_dir: where units are kept between builds (UnitCache).
        compiler: kcc's own digest (kcc.codegen.compiler_digest), part of every key.
        emit: called as ``emit(unit, text)`` with each unit's IR text as soon as it is final, in
            the program's order, so that the back end can start on it (kcc.codegen.ObjectCompiler.add).

    Returns the units' IR text, byte for byte what kcc.compiler.compile_units gives.
    Raises kcc.diagnostics.CompileError as kcc.compiler.compile_units does.
    """
    cache = UnitCache(cache_dir)
    known = cache.trusted()
    parsed: set[str] = set()
    with _collector_paused(), stage_recursion():
        prog = resolve_program(Path(root), entry, options.target, options.board_constants,
                               _parser(known, compiler, parsed))
        keys = unit_keys(prog, options, compiler)
        units = unit_modules(prog)
        check_symbols(prog)
        cached = {mod.name: hit for mod in units if (hit := cache.get(mod.name, keys[mod.name])) is not None}
        # Every @inline function is checked: a unit being lowered may copy any of them in.
        checked = _check(prog, [f for mod in prog.modules.values() for f in mod.functions if f.attrs.inline])
        lowered: dict[str, Lowerer] = {}
        while True:
            todo = [mod for mod in units if mod.name not in cached and mod.name not in lowered]
            for mod in todo:
                checked.update(_check(prog, [f for f in mod.functions if not f.attrs.inline]))
            # In the program's order, as kcc.typecheck.check_program lists them.
            functions = [checked[id(f)] for mod in prog.modules.values() for f in mod.functions if id(f) in checked]
            for mod in todo:
                low = Lowerer(prog, functions, options.checked, mod)
                low.lower()
                lowered[mod.name] = low
            imported = set().union(*(low.imported for low in lowered.values()),
                                   *(set(record["imported"]) for _, record in cached.values()))
            # A reused unit whose definitions other units now use differently: lowered again.
            stale = [name for name, (_, record) in cached.items()
                     if sorted(imported.intersection(record["defined"])) != record["exported"]]
            if not stale:
                break
            for name in stale:
                del cached[name]
        texts: dict[str, str] = {}
        for mod in units:
            if mod.name in cached:
                text = cached[mod.name][0]
            else:
                low = lowered[mod.name]
                low.export(imported)
                text = str(low.module)
                defined = _defined(low.module)
                cache.put(mod.name, keys[mod.name], text,
                          {"imported": sorted(low.imported), "defined": defined,
                           "exported": sorted(imported.intersection(defined))})
            texts[mod.name] = text
            if emit is not None:
                emit(mod.name, text)
    cache.prune({mod.name: keys[mod.name] for mod in units})
    cache.trust(known, parsed)
    return FrontEndResult(texts, len(lowered))
