"""Loading: which file a dotted module name is, and reading, parsing and binding each module once."""

from __future__ import annotations

import ast
from pathlib import Path

from kcc.diagnostics import CompileError, SourceFile, load_source
from kcc.parse import parse_source
from kcc.programstate import ProgramState
from kcc.symbols import ConstSym, Module


class ModuleLoader(ProgramState):
    """Finds and loads the modules of the source root, and the synthetic ``board`` module."""

    _board: Module | None     # set by Program.__init__; made on first use
    # module_path's answers by dotted name (set by Program.__init__): binding and checking ask
    # again for every use of a package's module, and each answer costs file-system lookups.
    _module_files: dict[str, Path | None]

    def module_path(self, dotted: str) -> Path | None:
        """The file of module ``dotted`` (see module_file)."""
        if dotted not in self._module_files:
            self._module_files[dotted] = module_file(self.root, dotted, self.target.name)
        return self._module_files[dotted]

    def is_package(self, dotted: str) -> bool:
        """True when ``dotted`` names a directory of the source root (a namespace or regular package)."""
        parts = dotted.split(".")
        if parts[0] == "arch":
            parts = ["arch", self.target.name] + parts[1:] if len(parts) > 1 else ["arch"]
        return self.root.joinpath(*parts).is_dir()

    def load(self, dotted: str, node: ast.AST | None = None, source: SourceFile | None = None,
             path: Path | None = None) -> Module | None:
        """Load (once) and bind module ``dotted`` (from ``path`` when given); report a located error
        when it does not exist."""
        if dotted in self.modules:
            return self.modules[dotted]
        if dotted == "board":
            return self.board_module()
        path = path or self.module_path(dotted)
        if path is None:
            where = f"arch/{self.target.name}/" if dotted.startswith("arch.") else ""
            self.reporter.error(source, node, f"no module '{dotted}' in the source root {self.root}",
                                f"looked for {where}{dotted.replace('.', '/')}.py; only modules of the "
                                "source root and kcc.lang can be imported")
            return None
        try:
            shown = str(path.relative_to(Path.cwd()))
        except ValueError:
            shown = str(path)
        src = load_source(path, shown)
        try:
            tree = (self.parser or parse_source)(src)
        except CompileError as exc:
            self.reporter.diagnostics.extend(exc.diagnostics)
            return None
        mod = Module(dotted, src, tree)
        self.modules[dotted] = mod
        self.bind_module(mod)
        return mod

    def board_module(self) -> Module:
        """The synthetic ``board`` module: the board's constants as Final constants."""
        if self._board is None:
            src = SourceFile("<board>", "")
            mod = Module("board", src, ast.Module(body=[], type_ignores=[]))
            for name, value in self.board_constants.items():
                mod.symbols[name] = ConstSym(name, value, None, None, mod)
            self.modules["board"] = mod
            self._board = mod
        return self._board


def module_file(root: Path, dotted: str, arch: str) -> Path | None:
    """The file of module ``dotted`` under source root ``root``, or None; ``arch.x`` is ``arch/<arch>/x.py``.

    The inverse of module_name. A package is its ``__init__.py``.
    """
    parts = dotted.split(".")
    if parts[0] == "arch" and len(parts) > 1:
        parts = ["arch", arch, *parts[1:]]
    base = root.joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def module_name(relative: Path, arch: str) -> str:
    """The dotted name of the module at ``relative`` (a path inside the source root) when compiling for ``arch``.

    ``pkg/__init__.py`` is ``pkg``; ``arch/<arch>/x.py`` is ``arch.x``, the name other modules import it by.
    """
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if len(parts) >= 2 and parts[0] == "arch" and parts[1] == arch:
        parts.pop(1)
    return ".".join(parts)

