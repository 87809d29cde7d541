"""kcc: an ahead-of-time compiler for the kcc language (a typed Python subset) through llvmlite.

``kcc.load_python(path)`` runs a pure kcc module under CPython with the
language's meaning; ``kcc.load_host(path)`` compiles it for the host and calls
it through ctypes (language.md, "The host target and CPython"). Both are imported on first
use so that ``from kcc.lang import *`` in kcc sources stays light.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# llvmlite's IR builder must emit opaque pointers (``ptr``), as LLVM 22 requires: kcc builds its
# IR with kcc.llir, but tests/test_llir.py compares it with llvmlite.ir's. llvmlite reads this
# switch once, when it is first imported, so it is set before anything of kcc imports llvmlite.
os.environ["LLVMLITE_ENABLE_IR_LAYER_TYPED_POINTERS"] = "0"

__version__ = "0.1.0"
__all__ = ["__version__", "load_host", "load_python"]

if TYPE_CHECKING:
    from kcc.host import load_host
    from kcc.pyload import load_python


def __getattr__(name: str) -> Any:
    if name == "load_python":
        from kcc.pyload import load_python
        return load_python
    if name == "load_host":
        from kcc.host import load_host
        return load_host
    raise AttributeError(f"module 'kcc' has no attribute '{name}'")
