"""make benchmark: kcc's kernel build time (cold and with nothing changed) and the kernel's boot cost.

Build times are wall-clock times of whole ``python -m kcc build`` processes, as a developer sees
them: "cold" builds into an empty directory, "cached" repeats the build with no input changed
(kcc.build skips the work when the input digest matches). The boot cost is the number of guest
instructions from the kernel's entry to its last self-test line, which the kernel measures with
rdinstret and prints as ``boot cost: <n> instructions (<b> busy, <i> idle ...)``; the boot runs
under ``-icount shift=0`` so the count does not depend on the host's speed. Under -icount the time a
CPU sleeps in wfi is credited as instructions, so the busy figure (without the timer test's sleep)
is the one to compare between changes. On armv8m (mps2-an505), whose Cortex-M33 has no instruction
counter, the kernel derives the figure from the SysTick, which QEMU drives from virtual time: under
``-icount shift=0`` one 20 MHz cycle is 50 instructions, so that board's count is exact to 50
instructions (kernel_src/arch/armv8m/cpu.py, read_instret). On i586 (pc) the kernel reads the TSC,
which under ``-icount shift=0`` counts virtual nanoseconds, that is guest instructions, exactly; its
busy figure includes the 2 ms (2,000,000 instructions) of polling that calibrate the TSC against the
PIT (kernel_src/arch/i586/timer.py).

Boards that run user processes (board constant USER_PROCESSES = 1, qemu-virt) boot into init unless
the command line asks for the self-tests (``selftest``), so there the boot cost above comes from a
``--append selftest`` boot, and a second boot of the release build measures the capability kernel's
start-up: the guest instructions from the kernel's first instruction to the moment it enters init,
which the kernel prints as ``boot: starting 'init' after <n> instructions``
(``boot_to_init_instructions``; docs/kernel.md, "Boot into init"; issue 6 asks for at most 1,000,000).
A third boot runs the user program ``bench`` (kernel_src/user/bench/main.py) as init: the kernel's
micro-benchmarks, each the median guest instructions of 1,000 iterations after warm-up (of 101 for
``spawn_elf`` and ``clone_64k``, issue 8's, which make a whole process each), printed as
``bench: <name> <n>`` and reported beside the reference figures of other kernels on this QEMU.

The compiler's own speed is measured against clang (the ziglang package's, the toolchain kcc
uses) in the same run, so the ratios hold on any machine: benchmarks/generate.py writes the
same 400 functions (loops, arithmetic, calls) as 8 kcc modules and as 8 C files; kcc compiles
the program to objects (release, -O2) in one process, clang compiles the C files with
``-O2 -g``, two at a time as ``make -j2`` would. Both start with empty caches (kcc's object
cache and zig's). ``compile_ratio_vs_clang`` is kcc's wall-clock time over clang's;
``frontend_lines_per_s`` the source lines the front end (parse to IR text) handles per second.
``build_one_module_s`` is a kernel rebuild after one kernel module changed (a function appended
to core/events.py, which no user program imports), as a developer sees it.

On riscv64 the code-quality suite (benchmarks/codegen_suite.py) also runs: eleven kernel-style
functions in kcc and in C, counted in guest instructions; ``codegen_ratio_vs_clang`` (release)
and ``codegen_ratio_checked_vs_clang`` (checked) are the geometric means of kcc over clang -O2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import codegen_suite
from generate import write_program

from kcc.boards import default_board, load_board
from kcc.build import build
from kcc.paths import data_dir
from kcc.qemu import boot
from kcc.targets import get_target
from kcc.toolchain import find_toolchain

# The generated program: modules x functions per module.
GEN_MODULES = 8
GEN_FUNCTIONS = 50

# kcc's side of the comparison, run as its own process: the front end, then the back end's objects,
# each unit's compiled while the next one's IR text is written, as kcc build does (kcc.codegen.ObjectCompiler),
# and like kcc build's process (kcc.cli.main) without the cyclic garbage collector and ending with os._exit.
KCC_OBJECTS = """
import gc
import os
import sys
gc.disable()
from pathlib import Path
from kcc.codegen import ObjectCompiler
from kcc.compiler import BuildOptions, compile_units as front_end
from kcc.targets import get_target
target = get_target(sys.argv[1])
units = front_end(Path(sys.argv[2]), "main", BuildOptions(target, checked=False))
with ObjectCompiler(target, 2, Path(sys.argv[3]), 2) as objects:
    for name, module in units.items():
        objects.add(name, str(module))
    objects.finish()
os._exit(0)
"""

# The kernel's line: "boot cost: <n> instructions (<busy> busy, <idle> idle in wait-for-interrupt)".
BOOT_COST = re.compile(rb"boot cost: (\d+) instructions(?: \((\d+) busy, (\d+) idle)?")
# The capability kernel's line when it enters init (kernel_src/core/kernel.py, start).
BOOT_TO_INIT = re.compile(rb"boot: starting '[^']*' after (\d+) instructions")
# kernel_src/user/bench/main.py's lines.
BENCH_LINE = re.compile(rb"^bench: ([a-z0-9_]+) (\d+)\r?$", re.MULTILINE)

# The micro-benchmarks issue 7 asks for, with their targets (None: no target) and the reference
# figures measured on this QEMU or published for other kernels (docs/performance.md), in guest
# instructions (cycles for seL4 on a SiFive U54). A name the kernel does not measure yet is printed
# as such and written as null.
MICRO: list[tuple[str, int | None, str]] = [
    ("null_syscall", 100, "xv6-riscv getpid: 1,130"),
    ("ipc_call_reply", 300, "seL4 (U54, published): Call 694 + ReplyRecv 740 cycles"),
    ("ipc_call_reply_slow", None, ""),
    ("ipc_migrate", 250, "kmi migrating request + response: 492"),
    ("notify_signal_wait", None, ""),
    ("async_send_recv", None, ""),
    ("ipc_large_4k", None, ""),
    ("frame_map_unmap", None, ""),
    ("thread_yield", None, ""),
    ("process_create_destroy", None, ""),
    ("spawn_elf", None, "bin/bench's ELF from the initrd to main (issue 8)"),
    ("clone_64k", None, "a process with 64 KiB of data cloned, to the clone's first instruction"),
]


def timed_build(arch: str, board: str, out_dir: Path, release: bool) -> float:
    """Run ``python -m kcc build`` once and return its wall-clock seconds; exit on failure."""
    cmd = [sys.executable, "-m", "kcc", "build", "--arch", arch, "--board", board, "-o", str(out_dir)]
    if release:
        cmd.append("--release")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark: build failed:\n{proc.stdout}{proc.stderr}")
    return elapsed


def fresh_zig_cache(tmp: Path) -> dict[str, str]:
    """The environment with zig's caches in a new directory under ``tmp``: zig cc reuses the
    object of an input it compiled before, which would time a cache lookup instead of clang."""
    cache = Path(tempfile.mkdtemp(prefix="zig-cache-", dir=tmp))
    return {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache), "ZIG_LOCAL_CACHE_DIR": str(cache)}


def run_timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``cmd`` and return its wall-clock seconds; exit on failure."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd[:4])} ... failed:\n{proc.stdout}{proc.stderr}")
    return elapsed


def compile_speed(arch: str, repeat: int, tmp: Path) -> dict[str, float]:
    """kcc against clang on the generated program (see the module doc); medians of ``repeat`` runs."""
    from kcc.compiler import BuildOptions, compile_units

    kcc_files, c_files = write_program(tmp / "gen", GEN_MODULES, GEN_FUNCTIONS)
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in kcc_files)
    target = get_target(arch)
    cc = [*find_toolchain().cc, *find_toolchain().target_args(target), "-O2", "-g", "-c"]
    if arch != "host":
        cc.append("-ffreestanding")
    kcc_s, clang_s, front_s = [], [], []
    for i in range(repeat):
        env = fresh_zig_cache(tmp)
        kcc_s.append(run_timed([sys.executable, "-c", KCC_OBJECTS, arch, str(tmp / "gen"), str(tmp / f"obj{i}")],
                               env))
        env = fresh_zig_cache(tmp)
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(partial(run_timed, env=env), [[*cc, str(c), "-o", str(c.with_suffix(f".{i}.o"))]
                                                         for c in c_files]))
        clang_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        units = compile_units(tmp / "gen", "main", BuildOptions(target, checked=False))
        for module in units.values():
            str(module)
        front_s.append(time.perf_counter() - start)
    return {"compile_kcc_s": statistics.median(kcc_s), "compile_clang_s": statistics.median(clang_s),
            "compile_ratio_vs_clang": statistics.median(kcc_s) / statistics.median(clang_s),
            "frontend_lines": lines, "frontend_lines_per_s": lines / statistics.median(front_s)}


def one_module_rebuilds(arch: str, board: str, release: bool, repeat: int, tmp: Path) -> list[float]:
    """Wall-clock seconds of kernel rebuilds after a function is appended to core/events.py."""
    src = tmp / "kernel_src"
    shutil.copytree(data_dir("kernel_src"), src)
    out = tmp / "one-module"
    cmd = [sys.executable, "-m", "kcc", "build", "--arch", arch, "--board", board, "-o", str(out), "--src", str(src)]
    if release:
        cmd.append("--release")
    run_timed(cmd)
    times = []
    edited = src / "core" / "events.py"
    for i in range(repeat):
        with edited.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\ndef _benchmark_edit_{i}(x: u32) -> u32:\n    return x ^ {i + 1}\n")
        times.append(run_timed(cmd))
    return times


def main() -> int:
    """Print the build times and boot cost and write them as JSON (``--json FILE``). Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="riscv64")
    parser.add_argument("--board", default=None)
    parser.add_argument("--release", action="store_true", help="benchmark the release build")
    parser.add_argument("--repeat", type=int, default=3, help="builds of each kind (median reported)")
    parser.add_argument("--timeout", type=float, default=300.0, help="QEMU safety net, seconds")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the results as JSON (default build/benchmark/<board>.json)")
    args = parser.parse_args()
    board = args.board or default_board(args.arch)

    cold: list[float] = []
    cached: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kcc-bench-") as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"cold{i}"
            cold.append(timed_build(args.arch, board, out, args.release))
            cached.append(timed_build(args.arch, board, out, args.release))
        stages = json.loads((Path(tmp) / "cold0" / "build.json").read_text())["stages"]
        one_module = one_module_rebuilds(args.arch, board, args.release, args.repeat, Path(tmp))
        speed = compile_speed(args.arch, args.repeat, Path(tmp))
        suite: dict[str, list[codegen_suite.Pair]] = {}
        if args.arch == "riscv64":
            for mode in ("release", "checked"):
                elf = codegen_suite.build_suite(Path(tmp) / f"suite-{mode}", checked=mode == "checked")
                suite[mode] = codegen_suite.run_suite(elf, args.timeout)

    board_info = load_board(board)
    processes = board_info.constants.get("USER_PROCESSES") == 1
    result = build(args.arch, board, release=args.release)
    run = boot(board_info, result.elf, timeout=args.timeout, icount=True, initrd=result.initrd,
               append="selftest" if processes else None)
    match = BOOT_COST.search(run.output)
    to_init: int | None = None
    if processes:
        release = build(args.arch, board, release=True, out_dir=Path("build") / f"{board}-release")
        init_run = boot(board_info, release.elf, timeout=args.timeout, icount=True, initrd=release.initrd,
                        console_input=b"halt\n")   # init starts the shell; halt powers off
        init_match = BOOT_TO_INIT.search(init_run.output)
        to_init = int(init_match.group(1)) if init_match else None
        bench_run = boot(board_info, release.elf, timeout=args.timeout, icount=True, initrd=release.initrd,
                         append="init=bench")
        measured = {m.group(1).decode(): int(m.group(2)) for m in BENCH_LINE.finditer(bench_run.output)}
    image = sum(s.size for s in result.sections if s.name != ".stack")

    report = {
        "arch": args.arch, "board": board, "release": args.release,
        "build_cold_s": statistics.median(cold), "build_cached_s": statistics.median(cached),
        "build_stages_s": stages, "image_bytes": image,
        "build_nochange_s": statistics.median(cached), "build_one_module_s": statistics.median(one_module),
        **speed,
        **({"codegen_ratio_vs_clang": codegen_suite.geometric_mean(suite["release"]),
            "codegen_ratio_checked_vs_clang": codegen_suite.geometric_mean(suite["checked"]),
            "codegen_ratios": {p.name: [p.ratio, checked.ratio]
                               for p, checked in zip(suite["release"], suite["checked"], strict=True)}}
           if suite else {}),
        "boot_cost_instructions": int(match.group(1)) if match else None,
        "boot_busy_instructions": int(match.group(2)) if match and match.group(2) else None,
        "boot_exit_code": run.exit_code, "boot_wall_s": run.seconds,
        "boot_to_init_instructions": to_init,
    }
    if processes:
        report["boot_to_init"] = to_init
        for name, _target, _reference in MICRO:
            report[name] = measured.get(name)
    row = "  {:<24}{}".format
    print(f"kcc benchmark: {args.arch} on {board} ({'release' if args.release else 'checked'} build)")
    print(row("build, cold", f"{report['build_cold_s']:.2f} s (median of {args.repeat})"))
    print(row("", ", ".join(f"{k} {v:.2f}s" for k, v in stages.items())))
    print(row("build, nothing changed", f"{report['build_cached_s']:.2f} s (median of {args.repeat})"))
    print(row("build, one module edited", f"{report['build_one_module_s']:.2f} s (median of {args.repeat})"))
    print(row("compile vs clang", f"{speed['compile_ratio_vs_clang']:.2f}x: kcc {speed['compile_kcc_s']:.2f} s, "
                                  f"clang -O2 -g {speed['compile_clang_s']:.2f} s "
                                  f"({GEN_MODULES * GEN_FUNCTIONS} functions, {speed['frontend_lines']} lines)"))
    print(row("front end", f"{speed['frontend_lines_per_s']:,.0f} lines/s"))
    if suite:
        print(row("code vs clang -O2", f"{report['codegen_ratio_vs_clang']:.3f} release, "
                                       f"{report['codegen_ratio_checked_vs_clang']:.3f} checked "
                                       "(geometric mean of guest instructions)"))
        for name, (release, checked) in report["codegen_ratios"].items():
            print(row("", f"{name:<10} {release:.3f} release, {checked:.3f} checked"))
    print(row("image without stacks", f"{image} bytes"))
    if match:
        print(row("boot cost", f"{report['boot_cost_instructions']:,d} guest instructions "
                               "(entry to the last self-test line, -icount shift=0)"))
        if report["boot_busy_instructions"] is not None:
            # Under -icount a CPU asleep in wfi is credited instructions; the kernel keeps them apart.
            print(row("boot cost, busy", f"{report['boot_busy_instructions']:,d} guest instructions "
                                         "(without the time asleep waiting for timer ticks)"))
    else:
        print(row("boot cost", "not reported: the kernel printed no 'boot cost: <n> instructions' line"))
    print(row("boot", f"exit code {run.exit_code}, {run.seconds:.2f} s wall clock"))
    if processes:
        shown = f"{to_init:,d} guest instructions" if to_init is not None else "not reported"
        print(row("boot to init", f"{shown} (release build, kernel entry to init's first instruction; "
                                  "target 1,000,000)"))
        print("  micro-benchmarks, release build, guest instructions (median of 1,000 after warm-up; "
              "spawn_elf and clone_64k: of 101):")
        for name, target, reference in MICRO:
            value = measured.get(name)
            if value is None:
                figure = "not measured yet"
            elif target is None:
                figure = f"{value:,d}"
            elif value <= target:
                figure = f"{value:,d} (target {target:,d}: met)"
            else:
                figure = f"{value:,d} (target {target:,d}: missed by {value - target:,d})"
            print(f"    {name:<24}{figure:<40}{reference}")
    out_json = args.json or Path("build") / "benchmark" / f"{board}.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(report, indent=2) + "\n")
    print(row("figures", str(out_json)))
    return 0 if match and run.exit_code == 0 and (to_init is not None or not processes) else 1


if __name__ == "__main__":
    sys.exit(main())
