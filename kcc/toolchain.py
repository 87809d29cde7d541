"""The external tools kcc drives: a clang driver (assembler, IR compiler), ld.lld and objcopy.

kcc never assumes a tool at a fixed path. It prefers the ``ziglang`` Python
package, which ships clang and ld.lld inside a wheel (``python -m ziglang cc``,
``python -m ziglang ld.lld``, ``python -m ziglang objcopy``), and falls back to
the system's ``clang`` and ``ld.lld`` (Debian packages clang and lld). Setting
``KCC_TOOLCHAIN=zig`` or ``KCC_TOOLCHAIN=system`` forces one of the two.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kcc.targets.base import Target

INSTALL_HINT = "install one with `pip install ziglang` (preferred) or `apt-get install clang lld`"


class ToolchainError(Exception):
    """A tool is missing or failed; the message is complete and meant for the user (exit status 1)."""


@dataclass(frozen=True)
class Toolchain:
    """Command prefixes for the tools of one toolchain.

    Attributes:
        kind: "zig" (the ziglang package) or "system" (clang and ld.lld on PATH).
        cc: the clang driver, e.g. ``[python, -m, ziglang, cc]``.
        ld: ld.lld.
        objcopy: an objcopy that writes raw binaries, or None (then kcc writes them with pyelftools).
    """

    kind: str
    cc: tuple[str, ...]
    ld: tuple[str, ...]
    objcopy: tuple[str, ...] | None

    def target_args(self, target: Target) -> list[str]:
        """Driver arguments that select ``target``'s triple, CPU, features and ABI.

        ``Target.clang_args`` are spelt for ``zig cc`` (``-target arch-os-abi``,
        ``-mcpu=cpu+feat``). For a system clang the triple, CPU and feature
        string are passed in clang's own spelling instead, and every other
        argument (``-mabi``, ``-mcmodel``, ``-fPIC``) is kept.
        """
        if self.kind == "zig":
            return list(target.clang_args)
        args: list[str] = []
        skip = False
        for arg in target.clang_args:
            if skip:
                skip = False
                continue
            if arg == "-target":
                skip = True
                continue
            if arg.startswith(("-mcpu=", "--target=", "-target=")):
                continue
            args.append(arg)
        if target.name == "host":
            return args
        head = [f"--target={target.triple}"]
        if target.cpu:
            head.append(f"-mcpu={target.cpu}")
        for feature in filter(None, target.features.split(",")):
            head += ["-Xclang", "-target-feature", "-Xclang", feature]
        return head + args


def _zig_toolchain() -> Toolchain | None:
    spec = importlib.util.find_spec("ziglang")
    if spec is None:
        return None
    # The package's own binary, run directly: ``python -m ziglang`` only execs it, and a Python
    # start-up per tool run costs more than assembling a small file.
    binary = Path(spec.origin or "").parent / ("zig.exe" if os.name == "nt" else "zig")
    zig: tuple[str, ...] = (str(binary),) if os.access(binary, os.X_OK) else (sys.executable, "-m", "ziglang")
    return Toolchain("zig", zig + ("cc",), zig + ("ld.lld",), zig + ("objcopy",))


def _system_toolchain() -> Toolchain | None:
    clang = shutil.which("clang")
    lld = shutil.which("ld.lld")
    if clang is None or lld is None:
        return None
    objcopy = shutil.which("llvm-objcopy")
    return Toolchain("system", (clang,), (lld,), (objcopy,) if objcopy else None)


@cache
def find_toolchain() -> Toolchain:
    """Return the toolchain kcc uses (cached for the process).

    Order: ``KCC_TOOLCHAIN`` when set ("zig" or "system"), else the ziglang
    package, else system clang + ld.lld.

    Raises:
        ToolchainError: when no usable toolchain is found, naming what to install.
    """
    choice = os.environ.get("KCC_TOOLCHAIN", "")
    finders = {"zig": _zig_toolchain, "system": _system_toolchain}
    if choice:
        if choice not in finders:
            raise ToolchainError(f"KCC_TOOLCHAIN={choice!r} is not one of: zig, system")
        found = finders[choice]()
        if found is None:
            what = "the ziglang package" if choice == "zig" else "clang and ld.lld on PATH"
            raise ToolchainError(f"KCC_TOOLCHAIN={choice} but {what} not found; {INSTALL_HINT}")
        return found
    for finder in (_zig_toolchain, _system_toolchain):
        found = finder()
        if found is not None:
            return found
    raise ToolchainError(f"no assembler/linker found (neither the ziglang package nor clang + ld.lld); "
                         f"{INSTALL_HINT}")


def run_tool(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run one tool command, returning the completed process.

    Args:
        cmd: the full command line.
        what: a short description for error messages ("assemble entry.S").

    Raises:
        ToolchainError: when the tool cannot be started or exits non-zero; the
            message holds the tool's stderr so a link-script ASSERT reaches the user.
    """
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ToolchainError(f"cannot {what}: {cmd[0]}: {exc}; {INSTALL_HINT}") from exc
    if proc.returncode != 0:
        output = (proc.stderr + proc.stdout).strip()
        raise ToolchainError(f"cannot {what} (exit status {proc.returncode}):\n{output}")
    return proc


def compile_source(source: Path, output: Path, target: Target, *, include_dirs: tuple[Path, ...] = (),
                   defines: dict[str, str] | None = None, opt: int = 2,
                   extra: tuple[str, ...] = ()) -> Path:
    """Compile one ``.S``, ``.c`` or ``.ll`` file to an object for ``target`` with the clang driver.

    Args:
        source: the input; its suffix picks the language.
        output: the object file to write.
        include_dirs: ``-I`` directories (the build directory that holds board.h).
        defines: ``-D`` macros, name -> value.
        opt: code generation level 0..3 (``-O``).
        extra: further driver arguments.

    Raises:
        ToolchainError: when no toolchain exists or the compiler reports an error.
    """
    tc = find_toolchain()
    cmd = [*tc.cc, *tc.target_args(target), f"-O{opt}", "-g"]
    if target.name != "host":
        cmd.append("-ffreestanding")
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += [f"-D{k}={v}" for k, v in (defines or {}).items()]
    cmd += [*extra, "-c", str(source), "-o", str(output)]
    run_tool(cmd, f"compile {source.name}")
    return output


def assemble(source: Path, output: Path, target: Target, include_dirs: tuple[Path, ...] = (),
             defines: dict[str, str] | None = None) -> Path:
    """Assemble a preprocessed assembly file (``.S``) for ``target``.

    Raises:
        ToolchainError: on a missing toolchain or an assembler error.
    """
    return compile_source(source, output, target, include_dirs=include_dirs, defines=defines)


def compile_ir(ll_path: Path, output: Path, target: Target, opt: int, optimised: bool = True) -> Path:
    """Compile LLVM IR text to an object with clang.

    ``optimised``: the IR was already optimised by kcc.optimize (modules with inline asm on
    targets whose llvmlite build has no assembly parser, ``Target.llvmlite_asm_parser`` False),
    so clang's IR passes are switched off (``-disable-llvm-optzns``) and only code generation
    runs at ``-O opt``. Otherwise clang runs its own ``-O opt`` pipeline first, the same
    pipeline kcc.optimize builds. clang replaces the module's triple with the driver's spelling
    of the same target, which ``-Wno-override-module`` keeps quiet about.

    Raises:
        kcc.diagnostics.CompileError: the module's inline asm does not assemble; each error is
            located at the asm() call that made it (kcc.backdiag).
        ToolchainError: on a missing toolchain, a clang older than llvmlite's LLVM, or another
            compiler error.
    """
    tc = find_toolchain()
    if tc.kind == "system":
        _check_ir_reader(tc)
    extra = ("-Wno-override-module", "-Xclang", "-disable-llvm-optzns") if optimised else ("-Wno-override-module",)
    try:
        return compile_source(ll_path, output, target, opt=opt, extra=extra)
    except ToolchainError as exc:
        from kcc.backdiag import inline_asm_errors
        from kcc.diagnostics import CompileError

        located = inline_asm_errors(ll_path.read_text(encoding="utf-8"), str(exc))
        if located is None:
            raise
        raise CompileError(located) from None


def reads_llvmlite_ir() -> bool:
    """True when the toolchain's clang can compile the IR that llvmlite's LLVM writes (compile_ir).

    The ziglang package's clang always can; a system clang must be at least as new as llvmlite's LLVM.
    """
    try:
        tc = find_toolchain()
        if tc.kind == "system":
            _check_ir_reader(tc)
    except ToolchainError:
        return False
    return True


@cache
def _clang_major(cc: tuple[str, ...]) -> int:
    """The major version of the clang driver ``cc`` (``clang --version``), 0 when it cannot be told."""
    proc = run_tool([*cc, "--version"], "ask clang for its version")
    match = re.search(r"clang version (\d+)", proc.stdout)
    return int(match.group(1)) if match else 0


def _check_ir_reader(tc: Toolchain) -> None:
    """Fail early when a system clang is older than llvmlite's LLVM.

    LLVM's textual IR is not backwards compatible (an older clang rejects what
    a newer LLVM prints, e.g. opaque ``ptr`` types before LLVM 15), so
    compile_ir needs a clang at least as new as the LLVM inside llvmlite.
    The ziglang package's clang is always new enough for the llvmlite kcc pins.
    """
    import llvmlite.binding as llvm  # LLVM's library, loaded only to ask a system clang this

    needed = llvm.llvm_version_info[0]
    have = _clang_major(tc.cc)
    if have < needed:
        raise ToolchainError(
            f"the system clang (version {have or 'unknown'}) cannot read the IR of llvmlite's LLVM {needed}, "
            f"which inline asm on this target needs; `pip install ziglang` (kcc then uses its clang) "
            f"or install clang >= {needed}")


def link(objects: list[Path], script: Path, output: Path, map_file: Path, target: Target) -> Path:
    """Link ``objects`` into a static executable with ld.lld under link script ``script``.

    Args:
        objects: object files, in command-line order.
        script: the generated link.ld.
        output: the ELF to write; map_file: where ld.lld writes the link map.

    Raises:
        kcc.diagnostics.CompileError: symbols are undefined; each reference is located at its
            source line (kcc.backdiag, from the IR written beside each object).
        ToolchainError: when ld.lld fails otherwise, e.g. an ``ASSERT`` in the script or a region overflow.
    """
    tc = find_toolchain()
    cmd = [*tc.ld]
    if target.link_emulation:
        cmd += ["-m", target.link_emulation]
    cmd += ["--static", "-T", str(script), "-Map", str(map_file), "-o", str(output)]
    cmd += [str(o) for o in objects]
    try:
        run_tool(cmd, f"link {output.name}")
    except ToolchainError as exc:
        from kcc.backdiag import undefined_symbol_errors
        from kcc.diagnostics import CompileError

        located = undefined_symbol_errors(str(exc))
        if located is None:
            raise
        raise CompileError(located) from None
    return output


def link_shared(inputs: list[Path], output: Path, target: Target, extra: tuple[str, ...] = ()) -> Path:
    """Compile and link ``inputs`` (objects, C sources) into a shared library for ctypes (``cc -shared``).

    Args:
        inputs: object files and C sources, in command-line order.
        output: the library to write; target: the host target (its driver arguments are passed).
        extra: further driver arguments (e.g. ``-O2`` for the C sources).

    Raises:
        ToolchainError: on a missing toolchain, a compiler or a linker error.
    """
    tc = find_toolchain()
    # -Bsymbolic: the library's calls to its own definitions bind to them, not to the process's
    # (ld's manual, "Options"); a kcc memset or memcpy under test must not be libc's.
    cmd = [*tc.cc, *tc.target_args(target), "-shared", "-fPIC", "-Wl,-Bsymbolic", *extra, "-o", str(output),
           *[str(i) for i in inputs]]
    run_tool(cmd, f"link {output.name}")
    return output


def objcopy_binary(elf: Path, output: Path) -> Path:
    """Write ``output`` as the raw binary of ``elf`` (kernel.bin) with the toolchain's objcopy.

    Falls back to :func:`kcc.image.write_binary` when the toolchain has no objcopy.

    Raises:
        ToolchainError: when objcopy fails; kcc.image.ImageError when the ELF cannot be read.
    """
    tc = find_toolchain()
    if tc.objcopy is None:
        from kcc import image

        return image.write_binary(elf, output)
    run_tool([*tc.objcopy, "-O", "binary", str(elf), str(output)], f"write {output.name}")
    return output
