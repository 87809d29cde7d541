"""Where kcc finds its data directories (linker/, boards/, qemu/, kernel_src/) in a checkout or a wheel."""

from __future__ import annotations

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
