"""The back end of a build: IR modules -> objects, cached by content and run on every core.

Each unit (one source module's IR, kcc.lower.lower_units) is optimised and compiled to its own
object by the toolchain's clang (``clang -O<n> -c unit.ll``, which verifies the IR it reads;
the same -O pipeline kcc.optimize builds, from an LLVM of the same version built without
assertions, which makes it about twice as fast as the LLVM inside llvmlite's wheel). A
system clang older than llvmlite's LLVM cannot read the IR; then kcc.optimize and kcc.emit do
the work in this process.

The object's name holds a hash of everything that decides its bytes: the unit's IR text, the
optimisation level, the target machine and kcc itself (its sources and llvmlite's version). An
object whose name is already in the cache directory is reused, so a change to one module
recompiles only the units whose IR it changed. The units left to compile run as concurrent
clang processes, one per core.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kcc.paths import PACKAGE_DIR
from kcc.targets.base import Target

# Objects kept per unit in the cache directory: the current one and a few earlier variants
# (a checked and a release build share the build directory and switch back and forth).
KEEP_PER_UNIT = 4


@dataclass
class CodegenResult:
    """The objects of one build, in unit order, and how many of them were compiled (not cached)."""

    objects: list[Path]
    compiled: int
    jobs: int


@cache
def compiler_digest() -> str:
    """A SHA-256 over kcc's own sources and llvmlite's version: a new compiler means new objects."""
    import llvmlite

    h = hashlib.sha256(llvmlite.__version__.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def object_key(ir_text: str, target: Target, opt: int) -> str:
    """The cache key of the object for ``ir_text``: 24 hex digits of a SHA-256 (see the module doc)."""
    h = hashlib.sha256(compiler_digest().encode())
    for part in (target.triple, target.cpu, target.features, target.code_model, target.reloc, str(opt)):
        h.update(part.encode() + b"\0")
    h.update(ir_text.encode())
    return h.hexdigest()[:24]


def default_jobs() -> int:
    """Worker processes for the back end: ``$KCC_JOBS`` when set, else the CPUs this process may use.

    Raises:
        ValueError: when ``KCC_JOBS`` is not a positive integer.
    """
    env = os.environ.get("KCC_JOBS")
    if env:
        jobs = int(env)
        if jobs < 1:
            raise ValueError(f"KCC_JOBS must be at least 1, not {jobs}")
        return jobs
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def compile_unit(ir_text: str, target: Target, opt: int, obj: Path) -> Path:
    """Optimise ``ir_text`` at ``-O opt`` and write its object to ``obj``, with the IR beside it (``.ll``).

    Written under temporary names and renamed, so an interrupted build never leaves a partial
    object under a cache name.

    Raises:
        kcc.optimize.InternalCompilerError: the IR is invalid.
        kcc.diagnostics.CompileError: the unit's inline asm does not assemble (located).
        kcc.toolchain.ToolchainError: clang failed.
    """
    from kcc import toolchain

    tmp = obj.with_name(f"{obj.stem}.tmp{os.getpid()}-{os.urandom(4).hex()}.o")
    ll = tmp.with_suffix(".ll")
    try:
        if toolchain.reads_llvmlite_ir():
            ll.write_text(ir_text, encoding="utf-8")
            try:
                toolchain.compile_ir(ll, tmp, target, opt, optimised=False)
            except toolchain.ToolchainError:
                # clang verifies the IR it reads as well; when it fails, kcc's own IR errors are
                # reported as such (llvmlite's verifier), not as clang's. Valid IR is checked once.
                from kcc.optimize import parse_ir

                parse_ir(ir_text, target)
                raise
        else:
            from kcc.emit import emit_object
            from kcc.optimize import optimize

            emit_object(optimize(ir_text, target, opt), target, tmp, opt)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a rejected unit (e.g. bad inline asm) leaves nothing behind
        ll.unlink(missing_ok=True)
        raise
    os.replace(ll, obj.with_suffix(".ll"))
    os.replace(tmp, obj)
    return obj


def compile_units(units: dict[str, str], target: Target, opt: int, cache_dir: Path,
                  jobs: int | None = None) -> CodegenResult:
    """Objects for ``units`` (dotted module name -> IR text), from ``cache_dir`` or compiled there.

    Args:
        units: the IR text of each unit.
        target: the target to compile for.
        opt: optimisation and code generation level 0..3.
        cache_dir: where objects are kept, named ``<unit>.<key>.o`` (object_key).
        jobs: units compiled at once (default default_jobs()).

    Raises:
        kcc.optimize.InternalCompilerError, kcc.toolchain.ToolchainError: as compile_unit.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: cache_dir / f"{name}.{object_key(text, target, opt)}.o" for name, text in units.items()}
    missing = sorted((name for name, path in paths.items() if not path.is_file()),
                     key=lambda name: -len(units[name]))  # the biggest first, for an even spread
    jobs = min(jobs or default_jobs(), len(missing)) or 1
    # Threads suffice: each waits on its clang process (llvmlite's verification, under its lock, is short).
    with ThreadPoolExecutor(jobs) as pool:
        for future in [pool.submit(compile_unit, units[name], target, opt, paths[name]) for name in missing]:
            future.result()
    for path in paths.values():
        path.touch()  # the newest objects of a unit are the ones _prune keeps
    prune(cache_dir, set(units))
    return CodegenResult([paths[name] for name in units], len(missing), jobs)


def prune(cache_dir: Path, names: set[str]) -> None:
    """Keep the KEEP_PER_UNIT newest objects ``<name>.<key>.o`` of each name in ``names`` (with their
    ``.ll``) in ``cache_dir``; delete the older ones."""
    by_unit: dict[str, list[Path]] = {}
    for obj in cache_dir.glob("*.o"):
        unit = obj.name.rsplit(".", 2)[0]  # <unit>.<key>.o; temporaries and assembled files never match
        if unit in names:
            by_unit.setdefault(unit, []).append(obj)
    for objs in by_unit.values():
        objs.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in objs[KEEP_PER_UNIT:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".ll").unlink(missing_ok=True)
