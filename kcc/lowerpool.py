"""Type-check and lower a program's units on every core: the front end's second half in worker processes.

Checking and lowering one unit (kcc.lower.lower_units) needs the resolved program, its own
module's functions and the ``@inline`` functions it may copy in, never another unit's results,
so disjoint sets of units can go to separate processes. Workers are forked after resolution,
when the parsed and resolved program is already in memory (copy-on-write: nothing is sent to
them), and the parent process works on one set itself.

One fact crosses units: a definition another unit refers to must not have internal linkage
(Lowerer.export). So the exchange has two rounds: each worker lowers its units and sends the
symbols they import; the parent sends back the union; each worker then fixes its linkage and
sends its units' IR text. The text is byte for byte what the serial path gives.

A worker that meets an error (a program that does not type-check, or an internal error) says so
and stops; the parent then returns None and the caller compiles serially, which meets the same
error and reports it as it always does, every type error in the usual order.
Only POSIX ``fork`` makes this cheap, so elsewhere, and for programs too small to repay a fork
(a few milliseconds each), the caller stays serial.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.connection import Connection

from kcc.lower import Lowerer
from kcc.resolve import Module, Program
from kcc.typecheck import check_functions

# Below this many source lines in function bodies, the whole program is checked and lowered in
# less time than forking and joining a worker takes (measured: ~5 ms per worker, ~3,500 lines/s).
MIN_PARALLEL_LINES = 1500


def body_lines(mod: Module) -> int:
    """Source lines in ``mod``'s function bodies: the measure by which units are shared out."""
    return sum(f.node.end_lineno - f.node.lineno + 1 for f in mod.functions if f.node.end_lineno)


def shares(units: list[Module], jobs: int) -> list[list[Module]]:
    """``units`` in ``jobs`` sets of about equal body_lines (largest first, each to the lightest set),
    each set in the program's order; empty sets are dropped."""
    bins: list[list[Module]] = [[] for _ in range(jobs)]
    weight = [0] * jobs
    for mod in sorted(units, key=body_lines, reverse=True):
        i = weight.index(min(weight))
        bins[i].append(mod)
        weight[i] += body_lines(mod)
    order = {id(mod): n for n, mod in enumerate(units)}
    return [sorted(b, key=lambda m: order[id(m)]) for b in bins if b]


def _lower_share(prog: Program, share: list[Module], checked: bool) -> list[Lowerer]:
    """Check the functions of ``share`` and every ``@inline`` function, then lower each unit of ``share``.

    Raises kcc.diagnostics.CompileError when a function does not type-check.
    """
    owned = {id(mod) for mod in share}
    results = check_functions(prog, [fn for mod in prog.modules.values() for fn in mod.functions
                                     if id(mod) in owned or fn.attrs.inline])
    lowerers = [Lowerer(prog, results, checked, mod) for mod in share]
    for low in lowerers:
        low.lower()
    return lowerers


def _worker(prog: Program, share: list[Module], checked: bool, conn: Connection) -> None:
    """A worker's two rounds (see the module doc): imported symbols out, their union in, IR text out."""
    try:
        lowerers = _lower_share(prog, share, checked)
    except Exception:  # noqa: BLE001 - the serial pass meets the same error and reports it in order
        conn.send(None)
        return
    conn.send(set().union(*(low.imported for low in lowerers)))
    imported = conn.recv()
    if imported is None:
        return
    for low in lowerers:
        low.export(imported)
    conn.send({low.unit.name: str(low.module) for low in lowerers if low.unit})


def _receive(conn: Connection) -> object:
    """The worker's next message; None when it ended without one (killed, or out of memory)."""
    try:
        return conn.recv()
    except EOFError:
        return None


def lower_in_workers(prog: Program, units: list[Module], checked: bool, jobs: int) -> dict[str, str] | None:
    """The IR text of each of ``units`` (by module name, in ``units``' order), made by ``jobs`` processes.

    Args:
        prog: the resolved program (not yet type-checked).
        units: the modules to compile to units, in the program's order.
        checked: with the checks of a checked build.
        jobs: processes to use, the parent included (at least 2).

    Returns None when some unit's functions do not type-check: the caller then compiles serially
    to report the errors. Raises OSError when a worker cannot be started.
    """
    parts = shares(units, jobs)
    reported = len(prog.reporter.diagnostics)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # a forked worker must not write the parent's buffered output again
    ctx = multiprocessing.get_context("fork")
    workers = []
    for part in parts[1:]:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(prog, part, checked, theirs), daemon=True)
        proc.start()
        theirs.close()
        workers.append((proc, mine))
    try:
        try:
            own: list[Lowerer] | None = _lower_share(prog, parts[0], checked)
        except Exception:  # noqa: BLE001 - as in _worker
            own = None
        imports = [_receive(conn) for _, conn in workers]
        if own is None or any(i is None for i in imports):
            for (_, conn), sent in zip(workers, imports, strict=True):
                if sent is not None:  # a worker that failed has stopped already
                    conn.send(None)
            del prog.reporter.diagnostics[reported:]  # the serial pass reports them again, in order
            return None
        imported = set().union(*imports, *(low.imported for low in own))
        for _, conn in workers:
            conn.send(imported)
        texts: dict[str, str] = {}
        for low in own:
            low.export(imported)
            texts[low.unit.name] = str(low.module)  # type: ignore[union-attr]
        for _, conn in workers:
            sent = _receive(conn)
            if sent is None:
                return None
            texts.update(sent)
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join()
    return {mod.name: texts[mod.name] for mod in units}
