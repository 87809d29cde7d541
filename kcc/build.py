"""The build driver: kernel sources + board -> kernel.elf/.bin/.map in build/<board>/, skipping unchanged work.

The stages' modules (the front end, LLVM, the toolchain, pyelftools) are imported when a stage
first runs, so that a build with nothing to do starts and finishes quickly.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kcc import __version__
from kcc.boards import Board, board_header, load_board
from kcc.paths import PACKAGE_DIR, data_dir, file_stats, source_files

if TYPE_CHECKING:
    from kcc.targets.base import Target

ENTRY_MODULE = "core.main"
STAMP = "build.json"

# Checked builds keep their panics cheap to step through at -O1; release builds are -O2
# (README.md, "Using kcc": --release drops the checks and builds at -O2).
DEFAULT_OPT_CHECKED = 1
DEFAULT_OPT_RELEASE = 2

Progress = Callable[[str, str], None]


class BuildError(Exception):
    """The build request is inconsistent (e.g. the board belongs to another architecture)."""


@dataclass
class SectionSize:
    """One allocated section of kernel.elf: name, start address and size in bytes."""

    name: str
    address: int
    size: int


@dataclass
class BuildResult:
    """What a build produced.

    Attributes:
        out_dir: the build directory; elf/binary/map_file/link_script: the outputs in it.
        entry: the ELF entry address.
        sections: allocated sections in address order.
        cached: True when the inputs were unchanged and nothing was rebuilt.
        seconds: wall-clock time of the build (or of the cache check).
        stages: seconds spent per stage, in order.
        hex_file: kernel.hex (Intel HEX of the load image) for boards with a [flash] table, else None.
        initrd: initrd.cpio (the user programs, kcc.userbuild) for boards with USER_PROCESSES = 1 and a
            source root that has user programs, else None.
    """

    out_dir: Path
    elf: Path
    binary: Path
    map_file: Path
    link_script: Path
    entry: int
    sections: list[SectionSize]
    cached: bool
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    hex_file: Path | None = None
    initrd: Path | None = None


def default_opt(release: bool) -> int:
    """The optimisation level when -O is not given: 1 for checked builds, 2 for release."""
    return DEFAULT_OPT_RELEASE if release else DEFAULT_OPT_CHECKED


def source_digest(src_root: Path, options: dict[str, object], extra: dict[str, bytes] | None = None) -> str:
    """A SHA-256 over kcc itself, every source file under ``src_root``, ``options`` and ``extra``.

    Covers kcc's version and kcc itself (kcc.codegen.compiler_digest: a changed compiler
    rebuilds), every source file under ``src_root`` with its relative path, the ``options`` (as
    sorted JSON) and the labelled ``extra`` inputs (board file, link-script template, ...).
    """
    import hashlib  # not at the top: its OpenSSL start-up is a few per cent of an up-to-date build

    from kcc.codegen import compiler_digest

    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    add("version", __version__.encode())
    add("options", json.dumps(options, sort_keys=True, default=str).encode())
    add("kcc", compiler_digest().encode())
    for path in source_files(src_root):
        add(f"src/{path.relative_to(src_root)}", path.read_bytes())
    for label, data in (extra or {}).items():
        add(label, data)
    return h.hexdigest()


def _templates(board: Board) -> dict[str, Path]:
    """The link-script templates a build of ``board`` reads: the kernel's and the user programs'
    (kcc.link.template_path and kcc.userbuild.template_path, without importing jinja2)."""
    linker = data_dir("linker")
    return {"template": linker / f"{board.arch}.ld.j2", "user template": linker / f"user-{board.arch}.ld.j2"}


def input_digest(src_root: Path, board: Board, options: dict[str, object]) -> str:
    """The kernel build's source_digest: also the board file and the link-script templates (so that
    the digest covers the initrd too)."""
    extra = {}
    if board.path is not None:
        extra["board"] = board.path.read_bytes()
    for label, template in _templates(board).items():
        if template.is_file():
            extra[label] = template.read_bytes()
    return source_digest(src_root, options, extra)


def input_stats(src_root: Path, board: Board) -> dict[str, list[int]]:
    """kcc.paths.file_stats of every file input_digest reads: when none changed since a build, the
    build is up to date without reading and hashing them; any change sends it to the digest."""
    files = [*source_files(PACKAGE_DIR, (".py",)), *source_files(src_root), *_templates(board).values()]
    if board.path is not None:
        files.append(board.path)
    return file_stats(files)


def section_sizes(elf: Path) -> tuple[int, list[SectionSize]]:
    """The entry address and the allocated (SHF_ALLOC) sections of ``elf``, in address order (pyelftools)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as fh:
        f = ELFFile(fh)
        sections = [SectionSize(s.name, s["sh_addr"], s["sh_size"]) for s in f.iter_sections()
                    if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0]
        return f.header["e_entry"], sorted(sections, key=lambda s: s.address)


def _quiet(stage: str, detail: str) -> None:
    """A progress callback that reports nothing."""


def build(arch: str, board_name: str, *, release: bool = False, opt_level: int | None = None,
          out_dir: Path | None = None, src_root: Path | None = None, progress: Progress = _quiet,
          force: bool = False) -> BuildResult:
    """Build the kernel for ``board_name``.

    Stages: compile (the front end on ``src_root``, entry module ``core.main``, to one IR
    module per source module: kcc.compiler.compile_units; a release build lowers the whole
    program to one module instead, kcc.compiler.compile_program, so that LLVM inlines across
    modules as clang -flto=full would), codegen (each module optimised and
    emitted to its own object, reused from ``out_dir/obj`` when its IR is unchanged, the rest
    compiled on every core: kcc.codegen), assemble ``src_root/arch/<arch>/*.S`` with
    ``-I out_dir`` (board.h), link with the rendered link.ld into kernel.elf and kernel.map
    (kcc.link), write kernel.bin, and for boards that are flashed (a [flash] table) kernel.hex
    (kcc.image.write_hex). When the input digest (input_digest) equals the one recorded in
    ``out_dir/build.json`` and every output exists, nothing is rebuilt (the digest covers the
    user programs too). Otherwise, for a board whose USER_PROCESSES constant is 1, the user
    programs and ``initrd.cpio`` are built first (kcc.userbuild.build_initrd, which caches each
    program by itself).

    Args:
        arch: the TARGET name; must be the board's architecture.
        board_name: a board under boards/ (or a path to a board.toml).
        release: release build (checks out) instead of a checked build.
        opt_level: 0..3, or None for default_opt(release).
        out_dir: the build directory (default ``build/<board>`` under the current directory).
        src_root: the kernel's source root (default: kcc's ``kernel_src``).
        progress: called as ``progress(stage, detail)`` when each stage starts.
        force: rebuild even when the inputs are unchanged (objects whose IR is unchanged are
            still reused).

    Raises:
        BuildError: arch and board disagree, or the optimisation level is out of range.
        kcc.boards.BoardError, kcc.diagnostics.CompileError, kcc.toolchain.ToolchainError,
        kcc.link.LinkScriptError, kcc.image.ImageError, kcc.userbuild.UserBuildError,
        kcc.userimage.UserImageError, kcc.initrd.InitrdError: from the stages.
        kcc.optimize.InternalCompilerError: when the compiler produced invalid IR.
    """
    started = time.monotonic()
    board = load_board(board_name)
    if board.arch != arch:
        raise BuildError(f"board '{board.name}' is for {board.arch}, not {arch}")
    opt = default_opt(release) if opt_level is None else opt_level
    if opt not in (0, 1, 2, 3):
        raise BuildError(f"optimisation level must be 0..3, not {opt}")
    src_root = (src_root or data_dir("kernel_src")).resolve()
    out_dir = (out_dir or Path("build") / board.name).resolve()
    options = {"arch": arch, "board": board.name, "release": release, "opt": opt, "src": str(src_root)}
    stats = input_stats(src_root, board)

    outputs = {name: out_dir / name for name in ("kernel.elf", "kernel.bin", "kernel.map", "link.ld")}
    if board.flash is not None:
        outputs["kernel.hex"] = out_dir / "kernel.hex"
    stamp = out_dir / STAMP
    digest: str | None = None
    if not force and stamp.is_file() and all(p.is_file() for p in outputs.values()):
        try:
            recorded = json.loads(stamp.read_text(encoding="utf-8"))
            initrd = out_dir / recorded["initrd"] if recorded["initrd"] else None
            same = recorded["options"] == options and recorded["stats"] == stats
            if not same:
                digest = input_digest(src_root, board, options)
                same = recorded["digest"] == digest
                if same:  # touched, not changed: remember the new times
                    recorded["stats"] = stats
                    stamp.write_text(json.dumps(recorded, indent=2), encoding="utf-8")
            if same and (initrd is None or initrd.is_file()):
                entry = recorded["entry"]
                sections = [SectionSize(**s) for s in recorded["sections"]]
                return BuildResult(out_dir, outputs["kernel.elf"], outputs["kernel.bin"], outputs["kernel.map"],
                                   outputs["link.ld"], entry, sections, True, time.monotonic() - started,
                                   hex_file=outputs.get("kernel.hex"), initrd=initrd)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # an unreadable or older stamp: build

    digest = digest or input_digest(src_root, board, options)
    from kcc import codegen, link, toolchain
    from kcc.targets import get_target

    target = get_target(arch)
    stamp.unlink(missing_ok=True)
    initrd = None
    if board.code_constants.get("USER_PROCESSES") == 1:
        from kcc import userbuild

        initrd = userbuild.build_initrd(board, target, src_root, out_dir, release=release, opt=opt,
                                        progress=progress, force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}

    def stage(name: str, detail: str) -> None:
        stages[name] = time.monotonic()
        progress(name, detail)

    stage("compile", f"{ENTRY_MODULE} from {src_root}")
    obj_dir = out_dir / "obj"
    # The units the front end hands over early are compiled while it works on the others; the
    # compile stage's time then includes theirs, and codegen's is what is left.
    with codegen.ObjectCompiler(target, opt, obj_dir) as compiler:
        units = _compile(src_root, target, board, checked=not release, whole=release, cache_dir=out_dir / "fe",
                         emit=compiler.add)
        stage("codegen", f"{len(units)} modules, -O{opt}")
        unit_objects = [compiler.add(name, text) for name, text in units.items()]
        compiler.finish()
    stage("assemble", f"arch/{arch}/*.S")
    (out_dir / "board.h").write_text(board_header(board), encoding="utf-8")
    asm_objects = [_assemble(source, target, out_dir, obj_dir)
                   for source in sorted((src_root / "arch" / arch).glob("*.S"))]
    codegen.prune(obj_dir, {obj.name.rsplit(".", 2)[0] for obj in asm_objects})
    stage("link", "kernel.elf")
    # The assembly first: its sections lead their output sections (entry.S's data marker heads .data).
    link.link_kernel(asm_objects + unit_objects, board, target, out_dir)
    stage("binary", "kernel.bin")
    toolchain.objcopy_binary(outputs["kernel.elf"], outputs["kernel.bin"])
    if "kernel.hex" in outputs:
        from kcc import image

        stage("hex", "kernel.hex")
        image.write_hex(outputs["kernel.elf"], outputs["kernel.hex"])

    order = list(stages)
    end = time.monotonic()
    durations = {name: (stages[order[i + 1]] if i + 1 < len(order) else end) - stages[name]
                 for i, name in enumerate(order)}
    entry, sections = section_sizes(outputs["kernel.elf"])
    stamp.write_text(json.dumps({"digest": digest, "options": options, "stages": durations, "entry": entry,
                                 "sections": [asdict(s) for s in sections],
                                 "initrd": initrd.name if initrd else None, "stats": stats}, indent=2),
                     encoding="utf-8")
    return BuildResult(out_dir, outputs["kernel.elf"], outputs["kernel.bin"], outputs["kernel.map"],
                       outputs["link.ld"], entry, sections, False, end - started, durations,
                       hex_file=outputs.get("kernel.hex"), initrd=initrd)


def _assemble(source: Path, target: Target, out_dir: Path, obj_dir: Path) -> Path:
    """The object of the assembly file ``source``, reused from ``obj_dir`` while its inputs are unchanged.

    The object is named ``<file>.S.<key>.o`` by a hash of kcc itself, the target, the file and
    every header it can include (board.h in ``out_dir``, ``*.h``/``*.inc`` beside it).

    Raises:
        kcc.toolchain.ToolchainError: the assembler failed.
    """
    import hashlib

    from kcc import codegen, toolchain

    h = hashlib.sha256(codegen.compiler_digest().encode())
    h.update(f"{target.triple}\0{target.cpu}\0{target.features}\0".encode())
    headers = [out_dir / "board.h", *sorted(source.parent.glob("*.h")), *sorted(source.parent.glob("*.inc"))]
    for path in (source, *headers):
        data = path.read_bytes() if path.is_file() else b""
        h.update(path.name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    obj = obj_dir / f"{source.name}.{h.hexdigest()[:24]}.o"
    if not obj.is_file():
        tmp = obj.with_name(f"{obj.stem}.tmp{os.getpid()}.o")
        toolchain.assemble(source, tmp, target, (out_dir,))
        os.replace(tmp, obj)
    obj.touch()  # the newest objects are the ones codegen.prune keeps
    return obj


def _compile(src_root: Path, target: Target, board: Board, checked: bool, whole: bool,
             cache_dir: Path, emit: Callable[[str, str], object]) -> dict[str, str]:
    """Run the front end on the kernel; return each unit's unoptimised IR text by unit name.

    ``emit(unit, text)`` is called with a unit's text as soon as it is known, where the front end
    produces them one by one (kcc.incremental), so the back end can start early; the caller still
    takes every unit from the result.

    ``checked``: with the checks of a checked build. ``whole`` (release builds): one unit,
    "kernel", holding the whole program. A release kernel is built to be measured and shipped, and per-module
    objects cost it every call between modules that is not ``@inline`` (the IPC round trip
    took 1,143 guest instructions as one unit and 2,255 as per-module objects, docs/performance.md);
    a checked build keeps one unit per module, each kept in ``cache_dir`` between builds
    (kcc.incremental), so an edit re-checks and re-lowers only the units it can change.
    """
    from kcc.compiler import BuildOptions

    options = BuildOptions(target, checked=checked, board_constants=board.code_constants)
    if whole:
        from kcc.compiler import compile_program

        return {"kernel": str(compile_program(src_root, ENTRY_MODULE, options).ir)}
    from kcc import codegen, incremental

    return incremental.compile_units(src_root, ENTRY_MODULE, options, cache_dir, codegen.compiler_digest(),
                                     emit).units
