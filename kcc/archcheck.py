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
        for other in sorted((self.root / "arch").iterdir()):
            if not other.is_dir() or other == own:
                continue
            for path in sorted(own.glob("*.py")):
                peer = other / path.name
                if not peer.is_file():
                    continue
                mine = _signatures(path)
                theirs = _signatures(peer)
                if mine is None or theirs is None:
                    continue
                for fname, (sig, line) in mine.items():
                    src = SourceFile(str(path), path.read_text(encoding="utf-8"))
                    if fname not in theirs:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}' is missing from {peer}",
                            hints=["every architecture's module defines the same functions"]))
                    elif theirs[fname][0] != sig:
                        self.reporter.diagnostics.append(Diagnostic(
                            src, line, 1, f"arch interface: '{fname}{sig}' differs from "
                            f"'{fname}{theirs[fname][0]}' in {peer}"))



def _signatures(path: Path) -> dict[str, tuple[str, int]] | None:
    """Public function signatures of a file as text: {name: ("(a: u32) -> None", line)}."""
    # A file that does not parse, or nests too deeply for ast.unparse, has its own located error
    # from loading (kcc.parse.parse_source); there is no interface to compare then.
    try:
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

