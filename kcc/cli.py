"""The kcc command line (click): build, run, check and boards; errors become messages, never tracebacks."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

import click

from kcc import __version__
from kcc.boards import default_board, list_boards, load_board
from kcc.build import BuildResult, build, default_opt
from kcc.initrd import member_names
from kcc.targets import ARCHES

# The stages (and LLVM) are imported by the commands that use them, so that `kcc --help` and a
# build with nothing to do start fast. An exception class is looked up only in modules already
# imported: one that was never imported cannot have raised.

# Commands defined in modules of their own, imported only when one of them runs (or --help lists
# them): kcc.systest needs kcc.qemu, kcc.logs its decoder, neither of which `kcc build` needs.
LAZY_COMMANDS = {"systest": ("kcc.systest", "systest_cmd"), "logs": ("kcc.logs", "logs_cmd"),
                 "fuzz": ("kcc.sysfuzz", "fuzz_cmd")}

# Errors in what the user asked for or has installed, as (module, class): a message and exit status 1.
USER_ERRORS = (("kcc.boards", "BoardError"), ("kcc.build", "BuildError"), ("kcc.toolchain", "ToolchainError"),
               ("kcc.link", "LinkScriptError"), ("kcc.qemu", "QemuError"), ("kcc.flash", "FlashError"),
               ("kcc.image", "ImageError"), ("kcc.userbuild", "UserBuildError"),
               ("kcc.userimage", "UserImageError"), ("kcc.initrd", "InitrdError"),
               ("kcc.logs", "LogError"))


# The click context's obj when main() runs the command: the process ends with it (a test's
# CliRunner runs commands inside a process that goes on).
OWN_PROCESS = object()


def _raised(exc: BaseException, module: str, name: str) -> bool:
    """True when ``exc`` is a ``module.name`` (False when that module was never imported)."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(exc, getattr(mod, name))


class KccGroup(click.Group):
    """A click group that turns every exception into a one-line report and an exit status.

    CompileError: rendered diagnostics, status 1 (language.md, "Diagnostics"). A user
    error (USER_ERRORS): ``kcc: error: ...``, status 1. Anything else is a bug
    in kcc: ``kcc: internal error: <summary>``, status 2. ``--debug`` re-raises
    so Python prints the traceback.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, the lazily imported ones (LAZY_COMMANDS) included, sorted."""
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command ``name``; one of LAZY_COMMANDS is imported now, when it is asked for."""
        if name in LAZY_COMMANDS and name not in self.commands:
            module, attr = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        """Run the sub-command, reporting its exceptions as described on the class."""
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            if _raised(exc, "kcc.diagnostics", "CompileError"):
                from kcc.diagnostics import CompileError  # imported already, by what raised it

                assert isinstance(exc, CompileError)
                for diag in exc.diagnostics:
                    click.echo(diag.render(), err=True)
                count = sum(1 for d in exc.diagnostics if d.severity == "error")
                click.echo(f"kcc: {count} error{'s' if count != 1 else ''}", err=True)
                raise click.exceptions.Exit(1) from None
            if any(_raised(exc, module, name) for module, name in USER_ERRORS):
                click.echo(f"kcc: error: {exc}", err=True)
                raise click.exceptions.Exit(1) from None
            click.echo(f"kcc: internal error: {_summary(exc)}", err=True)
            click.echo("kcc: this is a bug in kcc; rerun with `kcc --debug ...` to see the traceback",
                       err=True)
            raise click.exceptions.Exit(2) from None


def _summary(exc: BaseException) -> str:
    """One line naming an unexpected exception: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if _raised(exc, "kcc.optimize", "InternalCompilerError"):
        return first
    return f"{type(exc).__name__}: {first}"[:300] if first else type(exc).__name__


@click.group(cls=KccGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
@click.version_option(version=__version__, prog_name="kcc", message="%(prog)s %(version)s")
def cli(debug: bool) -> None:
    """kcc: compile kernels written in a typed Python subset to native code through LLVM.

    Build the kernel (kcc build), boot it under QEMU (kcc run) or check sources
    for errors (kcc check). See README.md and docs/language.md.
    """


def _arch_option(default: str | None = "riscv64"):
    return click.option("--arch", type=click.Choice(ARCHES), default=default, show_default=True,
                        help="Target architecture.")


def _build_options(func):
    """The options kcc build and kcc run share."""
    for option in reversed([
        _arch_option(),
        click.option("--board", default=None, metavar="NAME",
                     help="Board under boards/ (default: the architecture's default board, "
                          "qemu-virt for riscv64)."),
        click.option("--release", is_flag=True,
                     help="Release build: checks out, -O2 by default. Default: checked build at -O1."),
        click.option("-O", "opt_level", type=click.IntRange(0, 3), default=None,
                     help="Optimisation level 0..3 (overrides the build mode's default)."),
        click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, help="Build directory (default: build/<board>)."),
        click.option("--src", "src_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     default=None, help="Kernel source root (default: kernel_src/)."),
        click.option("--force", is_flag=True, help="Rebuild even when nothing changed."),
    ]):
        func = option(func)
    return func


def _do_build(arch: str, board: str | None, release: bool, opt_level: int | None, out_dir: Path | None,
              src_root: Path | None, force: bool) -> BuildResult:
    """Build with progress on stderr and the section sizes on stdout."""
    board_name = board or default_board(arch)
    def progress(stage: str, detail: str) -> None:
        click.echo(f"  {stage:<9} {detail}", err=True)

    result = build(arch, board_name, release=release, opt_level=opt_level, out_dir=out_dir,
                   src_root=src_root, progress=progress, force=force)
    if result.cached:
        click.echo(f"kcc: {_shown(result.elf)} is up to date", err=True)
    else:
        timings = ", ".join(f"{name} {secs:.2f}s" for name, secs in result.stages.items())
        click.echo(f"kcc: built {_shown(result.elf)} in {result.seconds:.2f}s ({timings})", err=True)
    _print_sections(result)
    if result.initrd is not None:
        programs = member_names(result.initrd)
        click.echo(f"{_shown(result.initrd)}: {len(programs)} user programs ({', '.join(programs)}), "
                   f"{result.initrd.stat().st_size} bytes")
    return result


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_sections(result: BuildResult) -> None:
    click.echo(f"{_shown(result.elf)}: entry {result.entry:#x}")
    click.echo(f"  {'section':<16} {'address':>18} {'size':>10}")
    for sec in result.sections:
        click.echo(f"  {sec.name:<16} {sec.address:>#18x} {sec.size:>10}")
    click.echo(f"  {'total':<16} {'':>18} {sum(s.size for s in result.sections):>10}")


@cli.command("build")
@_build_options
@click.option("--entry", default=None, metavar="MODULE",
              help="With --arch host: the module (dotted name or .py file under --src) to build as a "
                   "shared library.")
def build_cmd(arch: str, board: str | None, release: bool, opt_level: int | None, out_dir: Path | None,
              src_root: Path | None, force: bool, entry: str | None) -> None:
    """Build the kernel: kernel.elf, kernel.bin, kernel.map, link.ld in build/<board>/.

    Compiles kernel_src/ (entry module core.main) for --arch, links it with the
    link script generated for --board, and prints the section sizes. Nothing is
    rebuilt when no input changed (sources, board, templates, options, kcc).
    With --arch host, compiles --entry (and what it imports) for this machine
    into build/host/<module>/lib.so, callable through ctypes (language.md, "The host target and CPython";
    kcc.load_host does the same from Python).
    Exit status 1 on compile, board or link errors.
    """
    if arch == "host":
        _build_host(entry, src_root, release, opt_level, out_dir)
        return
    if entry is not None:
        raise click.UsageError("--entry applies to --arch host; kernels start at core.main")
    if click.get_current_context().obj is OWN_PROCESS:
        # A build makes its objects (syntax trees, IR) by the hundred thousand and keeps nearly all
        # of them to its end, and the process ends with it: the cyclic collector would only walk
        # them, during the build and again at exit (about 5% of a rebuild after one module changed).
        gc.disable()
    _do_build(arch, board, release, opt_level, out_dir, src_root, force)


def _build_host(entry: str | None, src_root: Path | None, release: bool, opt_level: int | None,
                out_dir: Path | None) -> None:
    """``kcc build --arch host``: a shared library of one module and what it imports."""
    from kcc.host import build_library
    from kcc.resolve import module_name

    if entry is None:
        raise click.UsageError("--arch host needs --entry MODULE (a dotted module name or a .py file)")
    root = (src_root or Path.cwd()).resolve()
    if entry.endswith(".py"):
        path = Path(entry).resolve()
    else:
        path = root.joinpath(*entry.split(".")).with_suffix(".py")
    if not path.is_file():
        raise click.UsageError(f"no module {entry} under {root}")
    name = module_name(path.relative_to(root), "host") if path.is_relative_to(root) else path.stem
    out = (out_dir or Path("build") / "host" / name).resolve()
    out.mkdir(parents=True, exist_ok=True)
    opt = opt_level if opt_level is not None else default_opt(release)
    library = build_library(root, path, not release, opt, {}, out)
    click.echo(f"kcc: built {_shown(library)} ({'release' if release else 'checked'}, -O{opt})", err=True)


@cli.command("run")
@_build_options
@click.option("--timeout", type=float, default=120.0, show_default=True, metavar="SECONDS",
              help="Stop QEMU after this long (a safety net; exit status 124).")
@click.option("--gdb", is_flag=True, help="Start halted with QEMU's gdb stub on tcp::1234; no timeout.")
@click.option("--icount", is_flag=True,
              help="Run under -icount shift=0: one guest instruction per virtual ns (exact counts).")
@click.option("--append", "append", default=None, metavar="TEXT",
              help="The kernel command line (QEMU -append), e.g. 'init=systest'.")
@click.option("--init", "init", default=None, metavar="PROGRAM",
              help="The user program the kernel starts as init (a directory of kernel_src/user/); "
                   "short for --append init=PROGRAM, added after any --append text.")
@click.pass_context
def run_cmd(ctx: click.Context, arch: str, board: str | None, release: bool, opt_level: int | None,
            out_dir: Path | None, src_root: Path | None, force: bool, timeout: float, gdb: bool,
            icount: bool, append: str | None, init: str | None) -> None:
    """Build the kernel, boot it under QEMU, stream its console, and exit with the kernel's exit code.

    For a board that runs user programs (USER_PROCESSES = 1) the initrd the
    build made is passed with -initrd. The exit code comes from the board's
    exit device (the sifive test device on qemu-virt: 0 when the kernel powers
    off with PASS; isa-debug-exit on pc, whose QEMU status (code << 1) | 1 is
    turned back into the code). A run stopped by --timeout exits with 124.
    """
    from kcc import qemu
    from kcc.logs import console_view

    result = _do_build(arch, board, release, opt_level, out_dir, src_root, force)
    board_desc = load_board(board or default_board(arch))
    if init is not None:
        if result.initrd is None:
            raise click.UsageError(f"--init: board '{board_desc.name}' runs no user programs (USER_PROCESSES is not 1)")
        programs = sorted(member_names(result.initrd))
        if init not in programs:
            raise click.UsageError(f"--init: no user program '{init}' in {_shown(result.initrd)} "
                                   f"(there are: {', '.join(programs)})")
        append = f"{append} init={init}" if append else f"init={init}"
    cmd = qemu.qemu_command(board_desc, result.elf, gdb=gdb, icount=icount, initrd=result.initrd, append=append)
    click.echo(f"kcc: {' '.join(cmd)}", err=True)
    if gdb:
        click.echo(f"kcc: waiting for gdb: gdb-multiarch {_shown(result.elf)} -ex 'target remote :1234' "
                   "(kcc debug does both)", err=True)
    # Compact log frames (kcc.logs) are shown decoded, as `kcc logs` would print them.
    run = qemu.boot(board_desc, result.elf, timeout=timeout, gdb=gdb, icount=icount,
                    echo=console_view(result.elf, sys.stdout.buffer), initrd=result.initrd, append=append)
    if run.timed_out:
        click.echo(f"\nkcc: QEMU stopped after {timeout:g}s (--timeout)", err=True)
    elif run.exit_code != 0:
        click.echo(f"\nkcc: kernel exited with code {run.exit_code}", err=True)
    ctx.exit(run.exit_code)


@cli.command("debug", context_settings={"ignore_unknown_options": True})
@_build_options
@click.option("--port", type=click.IntRange(1, 65535), default=1234, show_default=True,
              help="TCP port of QEMU's gdb stub.")
@click.option("--append", "append", default=None, metavar="TEXT",
              help="The kernel command line (QEMU -append), as for kcc run.")
@click.argument("gdb_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def debug_cmd(ctx: click.Context, arch: str, board: str | None, release: bool, opt_level: int | None,
              out_dir: Path | None, src_root: Path | None, force: bool, port: int, append: str | None,
              gdb_args: tuple[str, ...]) -> None:
    """Build the kernel, start it halted under QEMU and debug it with gdb-multiarch.

    QEMU waits at the first instruction with its gdb stub on --port; gdb-multiarch
    loads kernel.elf with full DWARF (locals, arguments, globals, types), the
    source directory, kcc/gdb/kcc.gdb and the pretty-printers of kcc/gdb/printers.py,
    connects, and gives its prompt: `break kmain`, `continue`. The guest's console
    goes to standard output. GDB_ARGS after `--` are passed on to gdb, e.g.
    `kcc debug --arch armv8m -- -batch -x session.gdb`. QEMU stops when gdb exits;
    the exit status is gdb's. Needs gdb-multiarch (`make qemu-deps` installs it).
    """
    from kcc import gdbsession
    from kcc.paths import data_dir

    gdbsession.find_gdb()  # before a build that would be wasted
    result = _do_build(arch, board, release, opt_level, out_dir, src_root, force)
    board_desc = load_board(board or default_board(arch))
    root = (src_root or data_dir("kernel_src")).resolve()
    click.echo(f"kcc: QEMU halted with its gdb stub on localhost:{port}; gdb-multiarch attached", err=True)
    ctx.exit(gdbsession.debug(board_desc, result.elf, source_dirs=[root], port=port, gdb_args=gdb_args,
                              initrd=result.initrd, append=append))


def source_root_of(path: Path) -> Path:
    """The source root a kcc file belongs to.

    The nearest ancestor directory that holds ``core/`` or ``arch/`` (a kernel
    source root), searching no higher than a directory with ``.git`` or
    ``pyproject.toml`` (the project's top); failing that, the file's own directory.
    """
    path = path.resolve()
    for parent in path.parents:
        if (parent / "core").is_dir() or (parent / "arch").is_dir():
            return parent
        if (parent / ".git").exists() or (parent / "pyproject.toml").is_file():
            break
    return path.parent


@cli.command("check")
@_arch_option()
@click.option("--board", default=None, metavar="NAME",
              help="Board whose constants `import board` sees (default: the architecture's default).")
@click.option("--release", is_flag=True, help="Check as a release build.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_cmd(arch: str, board: str | None, release: bool, files: tuple[Path, ...]) -> None:
    """Report the diagnostics of FILES without writing anything; exit status 1 on any error.

    Each file is compiled with everything it imports, from its source root
    (the nearest ancestor holding core/ or arch/, else its own directory).
    """
    from kcc.compiler import BuildOptions, compile_program
    from kcc.diagnostics import CompileError
    from kcc.targets import get_target

    target = get_target(arch)
    constants: dict[str, int | str] = {}
    if arch != "host":
        constants = load_board(board or default_board(arch)).code_constants
    diagnostics = []
    for file in files:
        try:
            compile_program(source_root_of(file), str(file.resolve()),
                            BuildOptions(target, checked=not release, board_constants=constants))
        except CompileError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise CompileError(diagnostics)
    click.echo(f"kcc: {len(files)} file{'s' if len(files) != 1 else ''} checked, no errors", err=True)


@cli.command("flash")
@click.option("--board", default=None, metavar="NAME",
              help="Board to flash (one with a [flash] table in its board.toml, e.g. stm32l5).")
@click.option("--release", is_flag=True,
              help="Release build: checks out, -O2 by default. Default: checked build at -O1.")
@click.option("-O", "opt_level", type=click.IntRange(0, 3), default=None,
              help="Optimisation level 0..3 (overrides the build mode's default).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build directory (default: build/<board>).")
@click.option("--src", "src_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Kernel source root (default: kernel_src/).")
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@click.option("--dry-run", is_flag=True,
              help="Build and print what would be programmed, where, and how; touch no hardware (needs no pyocd).")
@click.option("--probe", default=None, metavar="UID", help="Unique id of the debug probe (default: the only one).")
def flash_cmd(board: str | None, release: bool, opt_level: int | None, out_dir: Path | None,
              src_root: Path | None, force: bool, dry_run: bool, probe: str | None) -> None:
    """Build the kernel for a real board and write it to the board's flash with pyocd.

    The architecture is the board's. The image written is build/<board>/kernel.hex;
    every loadable byte must lie in the board's flash region. pyocd is optional
    (``pip install 'kcc[flash]'``); --dry-run works without it and without a board.
    Exit status 1 when the board cannot be flashed, pyocd is missing or fails.
    """
    from kcc import flash
    from kcc.boards import BoardError

    flashable = [name for name in list_boards() if load_board(name).flash is not None]
    if board is None:
        raise BoardError(f"kcc flash needs --board (boards that can be flashed: {', '.join(flashable) or 'none'})")
    chosen = load_board(board)
    if chosen.flash is None:
        raise flash.FlashError(f"board '{chosen.name}' has no [flash] table, so kcc does not flash it "
                               f"(boards that can be flashed: {', '.join(flashable) or 'none'})")
    result = _do_build(chosen.arch, board, release, opt_level, out_dir, src_root, force)
    assert result.hex_file is not None  # a board with [flash] always gets kernel.hex
    plan = flash.plan_flash(chosen, result.elf, result.hex_file)
    if dry_run:
        for line in flash.describe(plan):
            click.echo(line)
        click.echo("flash: dry run, nothing written")
        if not flash.pyocd_available():
            click.echo(f"flash: note: pyocd is not installed; {flash.INSTALL_HINT}")
        return
    flash.flash(plan, probe=probe, report=click.echo)


@cli.command("boards")
def boards_cmd() -> None:
    """List the boards kcc knows: name, architecture, whether QEMU runs it, description."""
    for name in list_boards():
        b = load_board(name)
        runs = "qemu" if b.qemu else "-"
        click.echo(f"{b.name:<14} {b.arch:<8} {runs:<5} {b.description}")




def main() -> None:
    """Console-script entry point (``kcc``, ``python -m kcc``): one command, then the process ends.

    It ends with os._exit once the output is flushed: Python's own shutdown would free a build's
    objects one by one (about a seventh of a rebuild after one module changed), which the
    operating system does at once. Every command finishes its own work (temporary files, child
    processes) before it returns.
    """
    code: int | str | None = 0
    try:
        cli(prog_name="kcc", obj=OWN_PROCESS)  # click's standalone mode ends in SystemExit
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)  # what SystemExit does with a message
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = code or 120  # Python's own exit status when it cannot flush stdout
    os._exit(code or 0)
