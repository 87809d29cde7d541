"""The front end's pipeline: parse, resolve, type-check and lower a program to LLVM IR modules."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kcc import llir as ir
from kcc.diagnostics import SourceFile
from kcc.lower import lower_program, lower_units
from kcc.parse import stage_recursion
from kcc.resolve import resolve_program
from kcc.targets.base import Target
from kcc.typecheck import check_program
from kcc.types import Type


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for a front-end run.

    The front end allocates its ast and IR objects by the hundred thousand and keeps nearly
    all of them to the end, so every collection would traverse them again for little garbage
    (about a sixth of the front end's time); the collector runs again afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class BuildOptions:
    """How to compile: for which target, checked (default) or release, with which board constants."""

    target: Target
    checked: bool = True
    board_constants: dict[str, int | str] = field(default_factory=dict)


@dataclass
class FunctionInfo:
    """A compiled function: its module, name, symbol in the object, parameters, defaults and result type.

    ``defaults`` maps a parameter name to its folded constant default (int, bool or str; 0 for NULL).
    """

    module: str
    name: str
    symbol: str
    params: list[tuple[str, Type]]
    result: Type
    defaults: dict[str, int | bool | str] = field(default_factory=dict)


@dataclass
class Program:
    """The front end's output: the unoptimised module and what it holds."""

    ir: ir.Module
    functions: list[FunctionInfo]
    sources: list[SourceFile]


def compile_program(root: Path, entry: str, options: BuildOptions) -> Program:
    """Compile the module ``entry`` of source root ``root`` and everything it imports.

    Args:
        root: the source root (directory holding the top-level packages, e.g. kernel_src/).
        entry: a dotted module name ("core.main") or a path to a .py file inside ``root``.
        options: target, build mode and board constants.

    Returns the Program (one ir.Module with the target's triple and data layout).
    Raises kcc.diagnostics.CompileError with every error of the failing stage.
    """
    with _collector_paused(), stage_recursion():
        prog = resolve_program(Path(root), entry, options.target, options.board_constants)
        checked = check_program(prog)
        module = lower_program(prog, checked, options.checked)
    infos = [FunctionInfo(cf.sym.module.name, cf.sym.name, cf.sym.symbol,
                          [(p.name, p.type) for p in cf.sym.params], cf.sym.result,
                          {p.name: p.default.value for p in cf.sym.params if p.default is not None})
             for cf in checked if not cf.sym.attrs.extern]
    return Program(module, infos, [m.source for m in prog.modules.values() if m.name != "board"])


def compile_units(root: Path, entry: str, options: BuildOptions) -> dict[str, ir.Module]:
    """Compile like compile_program, but to one IR module per source module (kcc.lower.lower_units).

    Each module compiles to its own object; a module's IR changes only when its source, or what
    it uses of other modules (signatures, layouts, constants, ``@inline`` bodies), changes.
    Returns dotted module name -> ir.Module. Raises kcc.diagnostics.CompileError as compile_program.
    """
    with _collector_paused(), stage_recursion():
        prog = resolve_program(Path(root), entry, options.target, options.board_constants)
        return lower_units(prog, check_program(prog), options.checked)
