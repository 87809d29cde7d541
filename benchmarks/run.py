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
micro-benchmarks, each the median guest instructions of 1,000 iterations after warm-up, printed as
``bench: <name> <n>`` and reported beside the reference figures of other kernels on this QEMU.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kcc.boards import default_board, load_board
from kcc.build import build
from kcc.qemu import boot

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
        print("  micro-benchmarks, release build, guest instructions (median of 1,000 after warm-up):")
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
