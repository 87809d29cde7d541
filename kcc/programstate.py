"""The state the parts of resolve.Program share (one Program object holds it; each part is a base class)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kcc.diagnostics import Reporter, SourceFile
from kcc.symbols import Module
from kcc.types import IntType

if TYPE_CHECKING:
    from kcc.targets.base import Target


class ProgramState:
    """The state a Program's parts share; each part's methods read it through ``self`` (kcc/resolve.py)."""

    root: Path
    target: Target
    ints: dict[str, IntType]
    modules: dict[str, Module]
    board_constants: dict[str, int | str]
    reporter: Reporter
    entry: Module | None
    # Parses a module's source; None: kcc.parse.parse_source (kcc.incremental skips the subset
    # check of a text that passed it before).
    parser: Callable[[SourceFile], ast.Module] | None
