"""The architecture interface: every ``arch/<a>/m.py`` offers the same public functions with the same signatures."""

from __future__ import annotations

import ast
from pathlib import Path

from kcc.diagnostics import Diagnostic, SourceFile
from kcc.programstate import ProgramState


class ArchInterfaceCheck(ProgramState):
    """Compares the target's arch modules with every other architecture's."""

    def check_arch_interface(self) -> None:
        """Every ``arch/<a>/m.py`` defines the same public functions with the same signatures as the target's.

        language.md, "Architecture code: `arch.`": "Architecture code lives in arch/<arch>/ modules with the
        same names and signatures on every architecture; the compiler checks the interface."
        """
        own = self.root / "arch" / self.target.name
        if not own.is_dir():
            return
        mine: dict[Path, dict[str, tuple[str, int]] | None] = {}  # by path, read once for every peer
        sources: dict[Path, SourceFile] = {}
        for other in sorted((self.root / "arch").iterdir()):
            if not other.is_dir() or other == own:
                continue
            for path in sorted(own.glob("*.py")):
                peer = other / path.name
                if not peer.is_file():
                    continue
                if path not in mine:
                    # The target's module was parsed when the program imported it: its tree is reused.
                    loaded = self.modules.get("arch." + path.stem)
                    mine[path] = _signatures(path, loaded.tree if loaded is not None else None)
                ours = mine[path]
                theirs = _signatures(peer)
                if ours is None or theirs is None:
                    continue
                for fname, (sig, line) in ours.items():
                    if fname in theirs and theirs[fname][0] == sig:
                        continue
                    if path not in sources:
                        sources[path] = SourceFile(str(path), path.read_text(encoding="utf-8"))
                    src = sources[path]
                    if fname not in theirs:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}' is missing from {peer}",
                            hints=["every architecture's module defines the same functions"]))
                    else:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}{sig}' differs from "
                            f"'{fname}{theirs[fname][0]}' in {peer}"))


def _signatures(path: Path, tree: ast.Module | None = None) -> dict[str, tuple[str, int]] | None:
    """Public function signatures of a file as text: {name: ("(a: u32) -> None", line)}.

    ``tree`` is the file's ast when it is already parsed. Returns None when the file cannot be
    read or parsed, or nests too deeply to unparse.
    """
    # A file that does not parse, or nests too deeply for ast.unparse, has its own located error
    # from loading (kcc.parse.parse_source); there is no interface to compare then.
    try:
        if tree is None:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        out = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("_"):
                params = ", ".join(f"{a.arg}: {ast.unparse(a.annotation) if a.annotation else '?'}"
                                   for a in stmt.args.args)
                ret = ast.unparse(stmt.returns) if stmt.returns else "?"
                out[stmt.name] = (f"({params}) -> {ret}", stmt.lineno)
    except (SyntaxError, OSError, UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        return None
    return out

