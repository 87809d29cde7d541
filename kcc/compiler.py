"""The front end's pipeline: parse, resolve, type-check and lower a program to LLVM IR modules."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kcc import llir as ir
from kcc import lowerpool
from kcc.diagnostics import SourceFile
from kcc.lower import check_symbols, lower_program, lower_units, unit_modules
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


def compile_units(root: Path, entry: str, options: BuildOptions, jobs: int | None = None) -> dict[str, str]:
    """Compile like compile_program, but to the IR text of one unit per source module (kcc.lower.lower_units).

    Each module compiles to its own object; a module's IR changes only when its source, or what
    it uses of other modules (signatures, layouts, constants, ``@inline`` bodies), changes.
    Units are checked and lowered by ``jobs`` processes (default: kcc.codegen.default_jobs())
    when the program is big enough to repay them (kcc.lowerpool); the text is the same either way.
    Returns dotted module name -> IR text. Raises kcc.diagnostics.CompileError as compile_program.
    """
    with _collector_paused(), stage_recursion():
        prog = resolve_program(Path(root), entry, options.target, options.board_constants)
        units = unit_modules(prog)
        if jobs is None:
            from kcc.codegen import default_jobs

            jobs = default_jobs()
        if jobs > 1 and len(units) > 1 and "fork" in multiprocessing.get_all_start_methods() and sum(
                lowerpool.body_lines(mod) for mod in units) >= lowerpool.MIN_PARALLEL_LINES:
            texts = lowerpool.lower_in_workers(prog, units, options.checked, min(jobs, len(units)))
            if texts is not None:
                check_symbols(prog)  # after the type errors, as lower_units reports them
                return texts
        return {name: str(module) for name, module in lower_units(prog, check_program(prog), options.checked).items()}
