"""make fuzz-kcc: mutate kcc sources by the thousand and hold the compiler to a located diagnostic or success.

Run as ``python tests/fuzzkcc.py -n 100000 --seed 1`` (the Makefile's fuzz-kcc target). Input i
of seed S is a deterministic mutant (tests/mutators.py, drawn from ``random.Random(f"{S}:{i}")``)
of one source file of kernel_src/, tests/fixtures/fuzz/ or tests/lang_cases/: text operations
(tokens inserted, spans deleted, lines duplicated and swapped, numbers and names changed, names
broken, deep nesting, bytes that are not UTF-8 or not line ends) or ast rewrites that still parse
(expressions swapped, statements duplicated, moved and swapped, operators, comparisons,
annotations and arguments changed, expressions nested deeper). The mutated module is compiled
as the entry, with what it imports, as ``kcc check`` compiles a file (kcc.compiler.compile_program),
in worker processes (one per CPU), each importing kcc once and keeping a private copy of the
source roots. One input in BUILD_EVERY is also taken through LLVM to object code
(kcc.codegen.compile_unit, the build's path: clang, inline asm assembled), the targets rotating
over riscv64, armv8m and i586.

Each result is one of:

- ``ok``: compiled (and, for a build, an object was written);
- ``diagnostic``: CompileError whose every diagnostic is located (a source, line >= 1,
  column >= 1) and renders as ``path:line:col: error: ...`` in UTF-8;
- ``internal``: any other exception, or a diagnostic without a place (``unlocated``, counted
  among the internal errors and shown apart in the progress lines);
- ``crash``: the worker died (a signal such as SIGABRT or SIGSEGV, or an exit from inside LLVM);
- ``hang``: no result within the per-input time limit (the worker is killed).

A crashed or hung worker is replaced. Each failing input is written to build/fuzz-kcc/ as
``<kind>-<seed>-<index>.py`` (the mutant's bytes) and ``.json`` (seed, index, file, target,
detail); ``--replay FILE.json`` runs it again in this process and prints the traceback. The last
line is ``fuzz-kcc: N inputs, I internal errors, C crashes, H hangs``; the exit status is 1 when
any of the three is not 0.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mutators  # (beside this file, not a package)

REPO = Path(__file__).resolve().parent.parent
ROOTS = {"kernel": REPO / "kernel_src", "fixtures": REPO / "tests" / "fixtures" / "fuzz",
         "cases": REPO / "tests" / "lang_cases"}
OUT = REPO / "build" / "fuzz-kcc"
BUILD_TARGETS = ("riscv64", "armv8m", "i586")
ALL_TARGETS = ("host", "riscv64", "armv8m", "i586")
BOARDS = {"riscv64": "qemu-virt", "armv8m": "mps2-an505", "i586": "pc"}
BUILD_EVERY = 100
CHECK_SECONDS = 60.0        # per input; a build gets BUILD_SECONDS
BUILD_SECONDS = 240.0
MEMORY_LIMIT = 3 << 30      # bytes of address space per worker: a runaway mutant gets MemoryError
# The share of inputs made by ast rewrites (the rest by text operations).
TREE_SHARE = 0.5
# A seed is drawn with weight (modules it compiles) ** -COST_EXPONENT: a core module compiles most of
# the kernel (35 modules, about 1 s), a leaf of lib/ itself alone (a few ms), so drawing them alike
# would spend nearly all the time on a few files. Every seed is still drawn hundreds of times in 100,000.
COST_EXPONENT = 1.0


@dataclass(frozen=True)
class Seed:
    """A source file mutants derive from: its root (a ROOTS key), its path below it, the targets it builds for."""

    root: str
    path: str
    targets: tuple[str, ...]


def closure_size(root: Path, path: Path, target: str) -> int:
    """How many modules compiling ``path`` as the entry loads (its imports, followed), from the text alone."""
    from kcc.modload import module_file

    seen: set[Path] = set()
    todo = [path]
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, OSError):
            continue
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.module != "kcc.lang":
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for dotted in names:
                found = module_file(root, dotted, target)
                if found is not None:
                    todo.append(found)
    return len(seen)


@dataclass(frozen=True)
class Job:
    """Input ``index`` of ``seed``: the file mutated, the target, whether it goes through LLVM, the mutant."""

    seed: int
    index: int
    file: Seed
    target: str
    build: bool
    how: str            # "text" or "tree", and the operations, for the record
    data: bytes


def corpus() -> list[Seed]:
    """Every seed file: the kernel's modules (arch/<a>/ files for their own target, the rest for the
    three kernel targets), the fuzz fixtures and the language cases (every target, the host too)."""
    seeds = []
    for path in sorted(ROOTS["kernel"].rglob("*.py")):
        rel = path.relative_to(ROOTS["kernel"])
        if "__pycache__" in rel.parts:
            continue
        if rel.parts[0] == "arch":
            if len(rel.parts) > 2 and rel.parts[1] in BUILD_TARGETS:
                seeds.append(Seed("kernel", str(rel), (rel.parts[1],)))
            continue
        targets = ("riscv64",) if rel.parts[0] == "user" else BUILD_TARGETS  # user programs run on qemu-virt
        seeds.append(Seed("kernel", str(rel), targets))
    for key in ("fixtures", "cases"):
        seeds += [Seed(key, str(p.relative_to(ROOTS[key])), ALL_TARGETS)
                  for p in sorted(ROOTS[key].rglob("*.py")) if "__pycache__" not in p.parts]
    return seeds


def seed_weights(seeds: list[Seed]) -> list[float]:
    """The weight each seed is drawn with (COST_EXPONENT), from its import closure on its first target."""
    return [closure_size(ROOTS[s.root], ROOTS[s.root] / s.path, s.targets[0]) ** -COST_EXPONENT for s in seeds]


def make_job(seeds: list[Seed], weights: list[float], originals: dict[Seed, str], seed: int, index: int) -> Job:
    """Input ``index`` of campaign ``seed``: the same mutant on every machine and every run."""
    rng = random.Random(f"{seed}:{index}")
    build = index % BUILD_EVERY == BUILD_EVERY - 1
    if build:
        target = BUILD_TARGETS[(index // BUILD_EVERY) % len(BUILD_TARGETS)]
        fits = [i for i, s in enumerate(seeds) if target in s.targets]
        file = seeds[rng.choices(fits, [weights[i] for i in fits])[0]]
    else:
        file = rng.choices(seeds, weights)[0]
        target = rng.choice(file.targets)
    text = originals[file]
    mutant = None
    if rng.random() < TREE_SHARE:
        ops = [mutators.random_tree_op(rng) for _ in range(rng.randint(1, 3))]
        mutant = mutators.tree_mutant(text, ops)
        how = f"tree {ops!r}"
    if mutant is None:
        ops = [mutators.random_text_op(rng) for _ in range(rng.randint(1, 4))]
        mutant = text
        for op in ops:
            mutant = mutators.mutate_text(mutant, op)
        how = f"text {ops!r}"
    return Job(seed, index, file, target, build, how, mutators.encode_mutant(mutant))


# ----- running one input (in a worker, or in this process for --replay) ---------------------------------

def _entry(file: Seed, target: str) -> str:
    from kcc.modload import module_name

    return module_name(Path(file.path), target)


def run_job(job: Job, roots: dict[str, Path], scratch: Path) -> tuple[str, str]:
    """Compile ``job``'s mutant in the private ``roots``; (outcome, detail) with outcome one of
    "ok", "diagnostic", "internal", "unlocated". Restores the file afterwards."""
    from kcc.boards import load_board
    from kcc.compiler import BuildOptions, compile_program, compile_units
    from kcc.diagnostics import CompileError
    from kcc.targets import get_target

    path = roots[job.file.root] / job.file.path
    original = path.read_bytes()
    path.write_bytes(job.data)
    target = get_target(job.target)
    constants = load_board(BOARDS[job.target]).code_constants if job.target in BOARDS else {}
    options = BuildOptions(target, board_constants=constants)
    entry = _entry(job.file, job.target)
    try:
        if not job.build:
            compile_program(roots[job.file.root], entry, options)
        else:
            _build(compile_units(roots[job.file.root], entry, options), entry, target, scratch)
        return "ok", ""
    except CompileError as exc:
        return _judge(exc)
    except Exception as exc:  # noqa: BLE001  (any other exception is a bug in kcc)
        return "internal", "".join(traceback.format_exception(exc))[-4000:]
    finally:
        path.write_bytes(original)


def _build(units: dict, entry: str, target: object, scratch: Path) -> None:
    """The object code of the entry module's unit (or the first unit), as kcc build makes it."""
    from kcc import codegen

    if not units:
        return
    name = entry if entry in units else next(iter(units))
    codegen.compile_unit(str(units[name]), target, 1, scratch / f"{name}.o")


def _judge(exc: Exception) -> tuple[str, str]:
    """A CompileError is a success of the contract when every diagnostic is located and renders."""
    diags = exc.diagnostics
    if not diags:
        return "unlocated", "CompileError without diagnostics"
    for diag in diags:
        try:
            text = diag.render()
            text.encode("utf-8")            # what kcc check prints must be printable
        except Exception as bad:  # noqa: BLE001  (a diagnostic that cannot be shown is a bug)
            return "internal", f"diagnostic does not render: {type(bad).__name__}: {bad}"
        if diag.source is None or diag.line < 1 or diag.col < 1:
            return "unlocated", text[:2000]
        if not text.startswith(f"{diag.source.path}:{diag.line}:{diag.col}: error: ") \
                and diag.severity == "error":
            return "internal", f"diagnostic head malformed: {text[:500]}"
    return "diagnostic", diags[0].render().splitlines()[0][:300]


@dataclass
class Campaign:
    """What every process of a campaign knows: the seeds, their weights and texts, the campaign seed."""

    seed: int
    seeds: list[Seed]
    weights: list[float]
    originals: dict[Seed, str]

    def job(self, index: int) -> Job:
        """Input ``index`` (make_job)."""
        return make_job(self.seeds, self.weights, self.originals, self.seed, index)


def _worker(conn: Connection, plan: Campaign, roots: dict[str, Path], scratch: Path) -> None:
    """A worker's loop: receive an input's index, make the input (the mutation runs here, not in the
    parent) and send back (outcome, detail, CPU seconds); None ends it."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent decides when to stop
    import kcc.compiler  # noqa: F401  (import the front end once, before the first input)

    while True:
        try:
            index = conn.recv()
        except EOFError:  # the parent is gone: nothing more to do
            return
        if index is None:
            return
        started = time.process_time()
        outcome, detail = run_job(plan.job(index), roots, scratch)
        conn.send((outcome, detail, time.process_time() - started))


# ----- the parent: workers, time limits, records -----------------------------------------------------------

class Worker:
    """One worker process with a private copy of the source roots, and the job it is running."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, plan: Campaign, base: Path, number: int) -> None:
        self.dir = base / f"w{number}-{time.monotonic_ns()}"
        self.roots = {}
        for key, src in ROOTS.items():
            self.roots[key] = self.dir / key
            shutil.copytree(src, self.roots[key], ignore=shutil.ignore_patterns("__pycache__"))
        (self.roots["fixtures"] / "core").mkdir(exist_ok=True)
        scratch = self.dir / "obj"
        scratch.mkdir()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, plan, self.roots, scratch), daemon=True)
        self.process.start()
        child.close()
        self.job: int | None = None
        self.started = 0.0

    def give(self, index: int) -> None:
        """Start input ``index``."""
        self.job, self.started = index, time.monotonic()
        self.conn.send(index)

    def overdue(self) -> bool:
        """True when the input has run past its time limit (a build gets longer)."""
        limit = BUILD_SECONDS if self.job is not None and self.job % BUILD_EVERY == BUILD_EVERY - 1 \
            else CHECK_SECONDS
        return self.job is not None and time.monotonic() - self.started > limit

    def end(self) -> None:
        """Stop the process (killed if it does not stop) and remove its copy of the sources."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _record(out: Path, job: Job, outcome: str, detail: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{outcome}-{job.seed}-{job.index}"
    stem.with_suffix(".py").write_bytes(job.data)
    meta = {"seed": job.seed, "index": job.index, "file": asdict(job.file), "target": job.target,
            "build": job.build, "how": job.how, "outcome": outcome, "detail": detail}
    stem.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM in the parent: stop like KeyboardInterrupt, so the workers are stopped and removed."""
    raise KeyboardInterrupt


def campaign(count: int, seed: int, jobs: int, out: Path, quiet: bool = False, first: int = 0) -> dict[str, int]:
    """Run inputs first..first+count-1 of ``seed`` on ``jobs`` workers; return the count of each outcome.

    A campaign split into ranges (``first``) runs the same inputs as one run of them all.
    """
    seeds = corpus()
    plan = Campaign(seed, seeds, seed_weights(seeds),
                    {s: (ROOTS[s.root] / s.path).read_text(encoding="utf-8") for s in seeds})
    ctx = multiprocessing.get_context("fork")
    counts = dict.fromkeys(("ok", "diagnostic", "internal", "unlocated", "crash", "hang"), 0)
    base = Path(tempfile.mkdtemp(prefix="fuzz-kcc-"))
    numbers = itertools.count()
    workers = [Worker(ctx, plan, base, next(numbers)) for _ in range(jobs)]
    made = 0
    done = 0
    costs: dict[int, float] = {}     # CPU seconds of each input
    started = last = time.monotonic()

    def failed(worker: Worker, outcome: str, detail: str) -> None:
        assert worker.job is not None
        counts[outcome] += 1
        job = plan.job(worker.job)
        _record(out, job, outcome, detail)
        if not quiet:
            print(f"fuzz-kcc: input {job.index} ({job.file.path}, {job.target}): "
                  f"{outcome}: {detail.strip().splitlines()[-1] if detail.strip() else ''}", flush=True)

    # SIGTERM ends the campaign as Ctrl-C does: through the finally below, so no worker is orphaned.
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        for worker in workers:
            if made < count:
                worker.give(first + made)
                made += 1
        while done < count:
            busy = {w.conn: w for w in workers if w.job is not None}
            for conn in wait(list(busy), timeout=1.0):
                worker = busy[conn]
                try:
                    outcome, detail, cpu = conn.recv()
                except (EOFError, OSError):
                    worker.process.join(5)
                    code = worker.process.exitcode
                    how = signal.Signals(-code).name if code is not None and code < 0 else f"exit status {code}"
                    failed(worker, "crash", f"worker died: {how}")
                    job = worker.job
                    worker.end()
                    workers[workers.index(worker)] = worker = Worker(ctx, plan, base, next(numbers))
                    worker.job = job
                else:
                    if outcome in ("internal", "unlocated"):
                        failed(worker, outcome, detail)
                    else:
                        counts[outcome] += 1
                    costs[worker.job] = cpu
                worker.job = None
                done += 1
                if made < count:
                    worker.give(first + made)
                    made += 1
            for i, worker in enumerate(workers):
                if worker.overdue():
                    failed(worker, "hang", f"no result after {time.monotonic() - worker.started:.0f} s")
                    worker.end()
                    workers[i] = Worker(ctx, plan, base, next(numbers))
                    done += 1
                    if made < count:
                        workers[i].give(first + made)
                        made += 1
            now = time.monotonic()
            if not quiet and now - last >= 30:
                last = now
                print(f"fuzz-kcc: {done}/{count} inputs, {done / (now - started):.1f}/s: "
                      f"{counts['ok']} ok, {counts['diagnostic']} located diagnostics, "
                      f"{counts['internal'] + counts['unlocated']} internal errors "
                      f"({counts['unlocated']} unlocated), {counts['crash']} crashes, {counts['hang']} hangs",
                      flush=True)
    finally:
        for worker in workers:
            if worker.process.is_alive() and worker.job is None:
                worker.conn.send(None)
            worker.end()
        shutil.rmtree(base, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    counts["seconds"] = round(time.monotonic() - started)
    counts["cpu"] = round(sum(costs.values()))
    if os.environ.get("FUZZ_KCC_COSTS"):  # the costliest inputs, to tune COST_EXPONENT
        for index, cpu in sorted(costs.items(), key=lambda kv: -kv[1])[:20]:
            job = plan.job(index)
            print(f"{cpu:8.2f} s CPU input {index} {job.file.path} {job.target} {job.how[:60]}")
    return counts


def summary(count: int, counts: dict[str, int]) -> str:
    """The result line: unlocated diagnostics count as internal errors."""
    return (f"fuzz-kcc: {count} inputs, {counts['internal'] + counts['unlocated']} internal errors, "
            f"{counts['crash']} crashes, {counts['hang']} hangs")


def replay(record: Path) -> int:
    """Run the input ``record`` (a .json from build/fuzz-kcc/) again in this process; print its outcome."""
    meta = json.loads(record.read_text(encoding="utf-8"))
    job = Job(meta["seed"], meta["index"], Seed(meta["file"]["root"], meta["file"]["path"],
                                                tuple(meta["file"]["targets"])),
              meta["target"], meta["build"], meta["how"], record.with_suffix(".py").read_bytes())
    with tempfile.TemporaryDirectory(prefix="fuzz-kcc-replay-") as tmp:
        roots = {key: Path(tmp) / key for key in ROOTS}
        for key, src in ROOTS.items():
            shutil.copytree(src, roots[key], ignore=shutil.ignore_patterns("__pycache__"))
        (roots["fixtures"] / "core").mkdir(exist_ok=True)
        (Path(tmp) / "obj").mkdir()
        print(f"input {job.index} of seed {job.seed}: {job.file.root}/{job.file.path} for {job.target}"
              f"{' (build)' if job.build else ''}: {job.how}")
        outcome, detail = run_job(job, roots, Path(tmp) / "obj")
    print(f"{outcome}: {detail}")
    return 0 if outcome in ("ok", "diagnostic") else 1


def main(argv: list[str] | None = None) -> int:
    """Command line: a campaign (-n, --seed, --jobs) or --replay RECORD.json. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--inputs", type=int, default=100_000, help="inputs to run (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed (default 1)")
    parser.add_argument("--first", type=int, default=0, help="index of the first input (default 0)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="worker processes")
    parser.add_argument("--out", type=Path, default=OUT, help="where failing inputs go (build/fuzz-kcc)")
    parser.add_argument("--replay", type=Path, help="run one recorded input again, with its traceback")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return replay(args.replay)
    counts = campaign(args.inputs, args.seed, max(args.jobs, 1), args.out, first=args.first)
    print(f"fuzz-kcc: seed {args.seed}, {counts['seconds']} s ({args.inputs / max(counts['seconds'], 1):.1f} "
          f"inputs/s on {args.jobs} workers, {1000 * counts['cpu'] / max(args.inputs, 1):.0f} ms CPU per input): {counts['ok']} ok, {counts['diagnostic']} located diagnostics, "
          f"{counts['unlocated']} unlocated (counted as internal errors)")
    print(summary(args.inputs, counts))
    return 1 if counts["internal"] + counts["unlocated"] + counts["crash"] + counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
