"""Names of the panic kinds, shared by the kernel's panic path (lib/panic.py) and user programs' (user/lib/rt.py)."""

from kcc.lang import *

# Indexed by kcc.runtime.PanicKind; 0 is no kind.
_KIND_NAMES: Final[Array[Ptr[u8], 9]] = (
    "unknown panic kind", "division by zero", "integer overflow", "index out of range", "NULL dereference",
    "assertion failed", "negative shift count", "explicit panic", "zero range step",
)


def kind_name(kind: i32) -> Ptr[u8]:
    """Return the name of a panic kind, as numbered by kcc.runtime.PanicKind."""
    if 0 <= kind < len(_KIND_NAMES):
        return _KIND_NAMES[kind]
    return "unknown panic kind"
