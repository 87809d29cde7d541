"""Physical memory ranges as passed between the architecture's boot code and the core."""

from kcc.lang import *


@struct
class MemRegion:
    """A physical address range [base, base + size) in bytes."""

    base: usize
    size: usize
