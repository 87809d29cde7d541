"""Suite-wide set-up: one shared user-program cache for every kernel the tests build.

Many tests build the riscv64 kernel from a fresh copy of kernel_src into a fresh directory,
and each such build compiles every user program for the initrd. With KCC_CACHE_DIR
(kcc.userbuild) they share the programs instead: each is compiled once per suite run and
per set of sources (the cache is keyed by content, so a patched tree still gets its own).
A KCC_CACHE_DIR the caller set is kept; tests of the caching itself choose their own.
"""

import os
from pathlib import Path

from kcc import userbuild

os.environ.setdefault(userbuild.CACHE_ENV, str(Path(__file__).resolve().parents[1] / "build" / "test-cache"))
