"""Stage 2: find the modules of a source root, bind every module-level name, fold constants, resolve types.

``resolve_program`` drives the parts of ``Program``, one file each (listed in its docstring). The
symbol classes live in kcc/symbols.py and are re-exported here, where the later stages import them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kcc.archcheck import ArchInterfaceCheck
from kcc.binding import NameBinder
from kcc.constfold import MAX_CONST_BITS, ConstFolder, show_int
from kcc.declarations import DECORATORS, DeclarationResolver
from kcc.diagnostics import CompileError, Diagnostic, Reporter, SourceFile
from kcc.modload import ModuleLoader, module_file, module_name
from kcc.symbols import (
    LANG_NAMES,
    ZERO,
    ConstSym,
    EnumSym,
    FuncAttrs,
    FuncSym,
    GlobalSym,
    LangSym,
    Module,
    ModuleSym,
    PackageSym,
    Param,
    StructSym,
    Symbol,
)
from kcc.typeres import TypeResolver
from kcc.types import int_types

if TYPE_CHECKING:
    from kcc.targets.base import Target

__all__ = [
    "DECORATORS", "LANG_NAMES", "MAX_CONST_BITS", "ZERO", "ConstSym", "EnumSym", "FuncAttrs", "FuncSym",
    "GlobalSym", "LangSym", "Module", "ModuleSym", "PackageSym", "Param", "Program", "StructSym", "Symbol",
    "module_file", "module_name", "resolve_program", "show_int",
]


class Program(ModuleLoader, NameBinder, ConstFolder, TypeResolver, DeclarationResolver, ArchInterfaceCheck):
    """Every module reachable from the entry, resolved, plus the target facts the later stages need.

    Each part has its own file: loading (kcc/modload.py), name binding and lookup
    (kcc/binding.py), constant folding (kcc/constfold.py), types and their layout
    (kcc/typeres.py), declarations (kcc/declarations.py) and the architecture
    interface (kcc/archcheck.py); the state they share is declared in
    kcc/programstate.py and set here.
    """

    def __init__(self, root: Path, target: Target, board_constants: dict[str, int | str],
                 parser: Callable[[SourceFile], ast.Module] | None = None) -> None:
        self.root = root
        self.target = target
        self.ints = int_types(target.pointer_bits)
        self.modules: dict[str, Module] = {}
        self.board_constants = board_constants
        self.reporter = Reporter()
        self.entry: Module | None = None
        self._board: Module | None = None
        self._module_files: dict[str, Path | None] = {}
        self.parser = parser


def resolve_program(root: Path, entry: str, target: Target, board_constants: dict[str, int | str],
                    parser: Callable[[SourceFile], ast.Module] | None = None) -> Program:
    """Load the entry module and everything it imports, then resolve all declarations.

    ``entry`` is a dotted module name or a path to a .py file under ``root``. ``parser`` parses
    each module's source (default kcc.parse.parse_source, which it must agree with).
    Raises CompileError with every error found.
    """
    prog = Program(root, target, board_constants, parser)
    dotted = entry
    if entry.endswith(".py"):
        path = Path(entry).resolve()
        try:
            rel = path.relative_to(root.resolve())
        except ValueError:
            raise CompileError([Diagnostic(None, 0, 0, f"{entry} is not inside the source root {root}")]) from None
        dotted = module_name(rel, target.name)
        if not path.is_file():
            raise CompileError([Diagnostic(None, 0, 0, f"no such file: {entry}")])
        # A file named by path is compiled as it is, even one of another architecture's arch/ directory.
        prog.entry = prog.load(dotted, None, None, path)
    else:
        prog.entry = prog.load(dotted, None, None)
    prog.reporter.check()
    prog.resolve_declarations()
    prog.check_arch_interface()
    prog.reporter.check()
    return prog

