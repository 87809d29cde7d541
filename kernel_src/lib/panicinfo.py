"""Names of the panic kinds, shared by the kernel's panic path (lib/panic.py) and user programs' (user/lib/rt.py)."""

from kcc.lang import *


def kind_name(kind: i32) -> Ptr[u8]:
    """Return the name of a panic kind, as numbered by kcc.runtime.PanicKind."""
    if kind == 1:
        return "division by zero"
    if kind == 2:
        return "integer overflow"
    if kind == 3:
        return "index out of range"
    if kind == 4:
        return "NULL dereference"
    if kind == 5:
        return "assertion failed"
    if kind == 6:
        return "negative shift count"
    if kind == 7:
        return "explicit panic"
    if kind == 8:
        return "zero range step"
    return "unknown panic kind"
