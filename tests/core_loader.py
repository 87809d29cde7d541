"""Load a module of kernel_src/core/ under CPython or compiled for the host, with board constants, for the core tests.

Both ways give the same face: ``load(way, "cap").cap.insert(...)`` and
``.objects.alloc(...)`` reach the entry module and the core modules it imports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kcc
from kcc.boards import load_board

KERNEL_SRC = Path(__file__).resolve().parents[1] / "kernel_src"
WAYS = ["python", "host"]

# Small pools, so tests reach exhaustion and slot reuse quickly; the real sizes only change bounds.
SMALL = {
    "MAX_PROCESSES": 3,
    "MAX_THREADS": 8,
    "MAX_ENDPOINTS": 4,
    "MAX_NOTIFICATIONS": 4,
    "MAX_FRAMES": 6,
    "MAX_IRQS": 3,
    "MAX_DEVICES": 2,
    "MAX_PORTALS": 2,
    "CAP_SLOTS": 6,
    "NUM_PRIORITIES": 64,
    "TIMESLICE_TICKS": 2,
}


def board_constants(name: str = "qemu-virt") -> dict[str, int]:
    """The integer constants of a real board, for the tests that use its pool sizes."""
    return {k: v for k, v in load_board(name).code_constants.items() if isinstance(v, int)}


class _Functions:
    """A compiled module's functions as attributes."""

    def __init__(self, functions: dict[str, Any]) -> None:
        self.__dict__.update(functions)


class Core:
    """The loaded core modules by short name (``objects``, ``cap``, ``sched``)."""

    def __init__(self, way: str, modules: dict[str, Any]) -> None:
        self.way = way
        self.__dict__.update(modules)


def load(way: str, entry: str, constants: dict[str, int] | None = None) -> Core:
    """Load core/<entry>.py ("python": kcc.load_python, "host": kcc.load_host) with ``constants``."""
    path = KERNEL_SRC / "core" / f"{entry}.py"
    consts = dict(constants or SMALL)
    if way == "python":
        mod = kcc.load_python(path, root=KERNEL_SRC, board_constants=consts)
        found = {entry: mod}
        found.update({name: getattr(mod, name) for name in ("objects", "cap", "sched") if hasattr(mod, name)})
        return Core(way, found)
    lib = kcc.load_host(path, root=KERNEL_SRC, board_constants=consts)
    return Core(way, {dotted.split(".")[-1]: _Functions(funcs) for dotted, funcs in lib.modules.items()
                      if dotted.startswith("core.")})
