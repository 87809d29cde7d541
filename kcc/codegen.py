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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Self

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


class ObjectCompiler:
    """Objects for units handed over one at a time, each compiled as soon as it is added.

    The front end produces the units' IR text one unit after another (kcc.incremental), so
    clang can compile the first units while the front end is still writing the others; what
    is left of the front end's work then overlaps the back end's instead of preceding it. A
    context manager: leaving it waits for the units being compiled and stops the workers.

    Args:
        target: the target to compile for.
        opt: optimisation and code generation level 0..3.
        cache_dir: where objects are kept, named ``<unit>.<key>.o`` (object_key).
        jobs: units compiled at once (default default_jobs()).
    """

    def __init__(self, target: Target, opt: int, cache_dir: Path, jobs: int | None = None) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.target, self.opt, self.cache_dir = target, opt, cache_dir
        self.jobs = jobs or default_jobs()
        # Threads suffice: each waits on its clang process (llvmlite's verification, under its lock, is short).
        self._pool = ThreadPoolExecutor(self.jobs)
        self._texts: dict[str, str] = {}
        self._paths: dict[str, Path] = {}
        self._pending: list[Future[Path]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, name: str, ir_text: str) -> Path:
        """Take unit ``name``'s IR text: its object comes from the cache or starts compiling now.

        Adding the same text (the same str object) for a name again does nothing more. Returns
        where the object will be once finish() has returned.
        """
        if name in self._texts and self._texts[name] is ir_text:
            return self._paths[name]
        path = self.cache_dir / f"{name}.{object_key(ir_text, self.target, self.opt)}.o"
        self._texts[name], self._paths[name] = ir_text, path
        if not path.is_file():
            self._pending.append(self._pool.submit(compile_unit, ir_text, self.target, self.opt, path))
        return path

    def finish(self) -> CodegenResult:
        """Wait for every unit added; return their objects in the order they were added.

        Raises:
            kcc.optimize.InternalCompilerError, kcc.diagnostics.CompileError,
            kcc.toolchain.ToolchainError: as compile_unit, for the first unit added that failed.
        """
        for future in self._pending:
            future.result()
        for path in self._paths.values():
            path.touch()  # the newest objects of a unit are the ones prune keeps
        prune(self.cache_dir, set(self._paths))
        return CodegenResult(list(self._paths.values()), len(self._pending),
                             min(self.jobs, len(self._pending)) or 1)


def compile_units(units: dict[str, str], target: Target, opt: int, cache_dir: Path,
                  jobs: int | None = None) -> CodegenResult:
    """Objects for ``units`` (dotted module name -> IR text), from ``cache_dir`` or compiled there.

    The units are handed to an ObjectCompiler biggest first, for an even spread over the jobs;
    the objects come back in the order of ``units``.

    Args:
        units: the IR text of each unit.
        target, opt, cache_dir, jobs: as ObjectCompiler.

    Raises:
        kcc.optimize.InternalCompilerError, kcc.toolchain.ToolchainError: as compile_unit.
    """
    with ObjectCompiler(target, opt, cache_dir, jobs) as compiler:
        paths = {name: compiler.add(name, units[name]) for name in sorted(units, key=lambda name: -len(units[name]))}
        result = compiler.finish()
    return CodegenResult([paths[name] for name in units], result.compiled, result.jobs)


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
