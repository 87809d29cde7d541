"""Where kcc finds its data directories (linker/, boards/, qemu/, kernel_src/) in a checkout or a wheel,
and the listings and file stats the builds' up-to-date checks read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def data_dir(name: str) -> Path:
    """Return the directory ``name`` ("linker", "boards", "qemu" or "kernel_src").

    A wheel ships these under ``kcc/_data/`` (pyproject.toml, force-include); a
    source checkout or editable install has them at the repository root. The
    packaged copy wins when both exist.

    Raises:
        FileNotFoundError: when neither location holds the directory.
    """
    for candidate in (PACKAGE_DIR / "_data" / name, REPO_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"kcc data directory '{name}' not found (looked in {PACKAGE_DIR / '_data'} and {REPO_ROOT})")


def source_files(root: Path, suffixes: tuple[str, ...] = (".py", ".S", ".s", ".h", ".inc")) -> list[Path]:
    """Every file under ``root`` whose name ends in one of ``suffixes`` (by default those a kernel
    build reads: kcc sources, assembly, headers), sorted; ``__pycache__`` directories are skipped.

    os.walk, because it is several times faster than Path.rglob and an unchanged build is
    mostly this walk.
    """
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        found.extend(Path(directory, f) for f in files if f.endswith(suffixes))
    return sorted(found)


def file_stats(paths: Iterable[Path]) -> dict[str, list[int]]:
    """Size, modification time (ns) and inode of each of ``paths`` that exists, by path.

    When none of these changed since a build, neither did the files (make's and ninja's
    assumption, with the size and inode besides), so the build can say it is up to date without
    reading and hashing them; ``--force`` bypasses the check.
    """
    stats = {}
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        stats[str(path)] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return stats
