"""User programs: compile each program of ``<src>/user/`` into a flat image and pack them all into the initrd.

A user program is a package ``user/<name>/`` of the source root with an
entry module ``main.py`` (dotted ``user.<name>.main``); ``user/lib/`` is the
user library, not a program. For a board whose constant USER_PROCESSES is 1,
``kcc build`` calls ``build_initrd``, which for every program

1. compiles it with the kernel's compiler, target, build mode and board
   constants (kcc.compiler.compile_program), optimises and emits an object;
2. links it at the board's USER_BASE with ``linker/user-<arch>.ld.j2``;
3. writes the flat image of kernel_src/lib/uimage.py (kcc.userimage);

then stores the images, each under its program's name, in
``<out>/initrd.cpio`` (kcc.initrd). Each program has its own directory
``<out>/user/<name>/`` with its ELF (for gdb), image, map and a stamp that
records the source files the program was compiled from; when none of them,
nor kcc, the board file, the link template or the options changed, the
program is not rebuilt.

With ``KCC_CACHE_DIR`` set, built programs are also kept there, shared by
every build directory and source tree (ccache's idea): a program whose
sources, read from the current source root by their paths relative to it,
hash as recorded is copied from there instead of compiled. Like ccache with
``hash_dir = false``, the copy's debug information then names the source
tree it was first built from. The test suite sets it, so its many riscv64
kernels in fresh source copies compile each user program once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kcc import __version__, initrd
from kcc.boards import Board
from kcc.paths import PACKAGE_DIR, data_dir, file_stats, source_files

if TYPE_CHECKING:
    from kcc.targets.base import Target

# The stages (jinja2, the front end, LLVM, pyelftools) are imported where a program is rebuilt, so
# that a build whose programs are all unchanged never loads them.

USER_DIR = "user"
LIBRARY = "lib"
ENTRY = "main"
INITRD = "initrd.cpio"
# Plain files under <src>/user/etc/ go into the initrd too, as "etc/<path>" (init's manifest etc/init.rc).
FILES = "etc"
# Each program's static ELF goes in as "bin/<name>" too: init's loader starts programs from these
# (kernel_src/user/init/loader.py); the kernel starts init from its flat image.
BIN = "bin"
STAMP = "build.json"
# build_initrd's own stamp, in <out>/user/: the stats of every file the initrd was made from.
INITRD_STAMP = "initrd.json"
CACHE_ENV = "KCC_CACHE_DIR"
# Variants of one program kept in the shared cache (source trees patched by tests differ).
CACHE_VARIANTS = 8
# What a cached variant holds, besides its stamp.
CACHED_SUFFIXES = (".elf", ".img", ".map")
# The board constants a user build needs: where programs are linked, and how far they may reach.
REQUIRED_CONSTANTS = ("USER_BASE", "USER_END", "PAGE_SIZE")

Progress = Callable[[str, str], None]


# Source digests read during one build_initrd, which empties it before and after: a file edited
# between two builds in one process is read again.
_FILE_DIGESTS: dict[Path, str] = {}


class UserBuildError(Exception):
    """A user program cannot be built: no entry point, missing board constants, a bad template."""


@dataclass(frozen=True)
class UserProgram:
    """One built program: its name, ELF and flat image, and whether it came from the cache."""

    name: str
    elf: Path
    image: Path
    cached: bool


def program_names(src_root: Path) -> list[str]:
    """The programs under ``src_root/user``: every directory but ``lib`` that holds ``main.py``, sorted."""
    base = src_root / USER_DIR
    if not base.is_dir():
        return []
    return sorted(d.name for d in base.iterdir()
                  if d.is_dir() and d.name != LIBRARY and (d / f"{ENTRY}.py").is_file())


def template_path(arch: str) -> Path:
    """The user link-script template ``linker/user-<arch>.ld.j2``."""
    return data_dir("linker") / f"user-{arch}.ld.j2"


def render_link_script(board: Board, program: str) -> str:
    """The link script of ``program`` for ``board``: linked at USER_BASE, pages of PAGE_SIZE, below USER_END.

    Raises:
        UserBuildError: when the template is missing or does not render.
    """
    import jinja2

    path = template_path(board.arch)
    if not path.is_file():
        raise UserBuildError(f"no user link-script template for architecture '{board.arch}' ({path} is missing)")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["hex"] = lambda value: f"{value:#x}"
    c = board.code_constants
    try:
        return env.get_template(path.name).render(board=board, program=program, base=c["USER_BASE"],
                                                  limit=c["USER_END"], page=c["PAGE_SIZE"])
    except jinja2.TemplateError as exc:
        raise UserBuildError(f"{path}: cannot render for program '{program}' on board '{board.name}': {exc}") from exc


def _digest(sources: list[str], src_root: Path, options: dict[str, object], extra: dict[str, bytes]) -> str:
    """A SHA-256 over kcc itself (version, kcc.codegen.compiler_digest), ``options``, ``extra`` and the sources' contents.

    ``sources`` are paths relative to ``src_root`` (or absolute, for a file outside it): the
    digest names them so, and it does not depend on where the source tree lives.
    """
    from kcc.codegen import compiler_digest

    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    add("version", __version__.encode())
    add("options", json.dumps(options, sort_keys=True, default=str).encode())
    add("kcc", compiler_digest().encode())
    for label, data in extra.items():
        add(label, data)
    for name in sources:
        add(f"src/{name}", _file_digest(src_root / name).encode())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    """The SHA-256 of a source file's bytes, read once per build_initrd (the programs share user/lib)."""
    digest = _FILE_DIGESTS.get(path)
    if digest is None:
        digest = _FILE_DIGESTS[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def _source_names(used: list[Path], src_root: Path) -> list[str]:
    """``used`` (resolved paths) relative to ``src_root`` where they lie inside it, absolute otherwise."""
    root = src_root.resolve()
    return [str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in used]


def _recorded(stamp: Path) -> tuple[str | None, list[str]]:
    """The digest and source names a program's stamp recorded; (None, []) when it is missing or unreadable."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        return str(data["digest"]), [str(p) for p in data["sources"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None, []


def _unchanged(stamp: Path, src_root: Path, options: dict[str, object], extra: dict[str, bytes]) -> bool:
    """True when ``stamp`` records sources that all exist under ``src_root`` and still hash as recorded."""
    recorded, sources = _recorded(stamp)
    return recorded is not None and all((src_root / n).is_file() for n in sources) and \
        _digest(sources, src_root, options, extra) == recorded


def _write_stamp(stamp: Path, sources: list[str], src_root: Path, options: dict[str, object],
                 extra: dict[str, bytes]) -> str:
    """Record ``sources`` and their digest (_digest) in ``stamp``; return the digest."""
    digest = _digest(sources, src_root, options, extra)
    stamp.write_text(json.dumps({"digest": digest, "sources": sources}, indent=1), encoding="utf-8")
    return digest


def _shared_dir(name: str, options: dict[str, object], extra: dict[str, bytes]) -> Path | None:
    """The shared-cache directory of program ``name`` built with ``options`` (None without KCC_CACHE_DIR).

    ``options`` must not name the source tree. The directory holds up to CACHE_VARIANTS
    variants, each a directory named by its digest.
    """
    root = os.environ.get(CACHE_ENV)
    if not root:
        return None
    return Path(root) / USER_DIR / f"{name}-{_digest([], Path(), options, extra)[:20]}"


def _from_shared(shared: Path, work: Path, name: str, src_root: Path, options: dict[str, object],
                 extra: dict[str, bytes]) -> list[str] | None:
    """Copy a variant of ``shared`` whose sources are unchanged under ``src_root`` into ``work``.

    Returns the variant's source names, or None when no variant fits.
    """
    if not shared.is_dir():
        return None
    for variant in shared.iterdir():
        if variant.name.startswith(".") or not _unchanged(variant / STAMP, src_root, options, extra):
            continue
        work.mkdir(parents=True, exist_ok=True)
        try:
            for suffix in CACHED_SUFFIXES:
                shutil.copyfile(variant / f"{name}{suffix}", work / f"{name}{suffix}")
        except OSError:
            continue  # pruned by another build meanwhile
        return _recorded(variant / STAMP)[1]
    return None


def _to_shared(shared: Path, work: Path, name: str, sources: list[str], src_root: Path,
               options: dict[str, object], extra: dict[str, bytes]) -> None:
    """Store the program just built in ``work`` as a variant of ``shared``; keep the newest few.

    Written under a temporary name and renamed, so concurrent builds (pytest-xdist) never see
    half a variant; a variant another build stored first is kept.
    """
    tmp = shared / f".tmp-{os.getpid()}-{os.urandom(4).hex()}"
    tmp.mkdir(parents=True)
    for suffix in CACHED_SUFFIXES:
        shutil.copyfile(work / f"{name}{suffix}", tmp / f"{name}{suffix}")
    digest = _write_stamp(tmp / STAMP, sources, src_root, options, extra)
    try:
        tmp.rename(shared / digest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    def newest_first(variant: Path) -> float:
        try:
            return -variant.stat().st_mtime
        except OSError:
            return 0.0  # removed by another build meanwhile

    variants = sorted((v for v in shared.iterdir() if not v.name.startswith(".")), key=newest_first)
    for old in variants[CACHE_VARIANTS:]:
        shutil.rmtree(old, ignore_errors=True)


def _quiet(stage: str, detail: str) -> None:
    """A progress callback that reports nothing."""


def build_program(name: str, board: Board, target: Target, src_root: Path, out_dir: Path, *, release: bool,
                  opt: int, progress: Progress = _quiet, force: bool = False) -> UserProgram:
    """Build the user program ``name`` into ``out_dir/user/<name>/`` unless its recorded inputs are unchanged.

    Calls ``progress("user", name)`` when it rebuilds.

    Raises:
        UserBuildError: when the entry module lacks ``main`` or ``_start``.
        kcc.diagnostics.CompileError, kcc.toolchain.ToolchainError, kcc.userimage.UserImageError:
            from compiling, linking and writing the image.
    """
    work = out_dir / USER_DIR / name
    elf = work / f"{name}.elf"
    image = work / f"{name}.img"
    stamp = work / STAMP
    options: dict[str, object] = {"arch": target.name, "board": board.name, "release": release, "opt": opt,
                                  "program": name}
    here = {**options, "src": str(src_root)}
    extra = {"template": template_path(board.arch).read_bytes()}
    if board.path is not None:
        extra["board"] = board.path.read_bytes()
    if not force and elf.is_file() and image.is_file() and _unchanged(stamp, src_root, here, extra):
        return UserProgram(name, elf, image, True)
    shared = _shared_dir(name, options, extra)
    if not force and shared is not None:
        sources = _from_shared(shared, work, name, src_root, options, extra)
        if sources is not None:
            _write_stamp(stamp, sources, src_root, here, extra)
            return UserProgram(name, elf, image, True)

    from kcc import emit, optimize, toolchain, userimage
    from kcc.compiler import BuildOptions, compile_program

    progress("user", name)
    work.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    entry = f"{USER_DIR}.{name}.{ENTRY}"
    program = compile_program(src_root, entry, BuildOptions(target, checked=not release,
                                                            board_constants=board.code_constants))
    symbols = {f.symbol for f in program.functions}
    entry_file = src_root / USER_DIR / name / f"{ENTRY}.py"
    if "main" not in symbols:
        raise UserBuildError(f"{entry_file}: a user program defines its entry as "
                             f"@export(\"main\") def main(arg0: usize, arg1: usize) -> usize")
    if "_start" not in symbols:
        raise UserBuildError(f"{entry_file}: a user program imports user.lib.rt, which defines _start "
                             f"(from user.lib import rt as _rt)")
    module = optimize.optimize(str(program.ir), target, opt)
    obj = emit.emit_object(module, target, work / f"{name}.o", opt)
    script = work / "link.ld"
    script.write_text(render_link_script(board, name), encoding="utf-8")
    toolchain.link([obj], script, elf, work / f"{name}.map", target)
    userimage.write_image(elf, image, int(board.code_constants["PAGE_SIZE"]), userimage.header_format(src_root))
    used = _source_names(sorted(Path(s.path).resolve() for s in program.sources), src_root)
    _write_stamp(stamp, used, src_root, here, extra)
    if shared is not None:
        _to_shared(shared, work, name, used, src_root, options, extra)
    return UserProgram(name, elf, image, False)


def build_initrd(board: Board, target: Target, src_root: Path, out_dir: Path, *, release: bool, opt: int,
                 progress: Progress, force: bool = False) -> Path | None:
    """Build every user program (build_program) and pack their images into ``out_dir/initrd.cpio``.

    Each image is stored under its program's name, its ELF under
    ``bin/<name>``, and each file under ``src_root/user/etc/`` under its
    path from ``user/`` (``etc/init.rc``). ``progress("user", name)``
    is called for each program that is rebuilt. Returns the initrd's path, or
    None when ``src_root`` holds no user program (a kernel-only source tree,
    such as the small kernels of the tests): then no initrd is written.

    Raises:
        UserBuildError: when the board lacks a constant of REQUIRED_CONSTANTS.
        The errors of build_program, and kcc.initrd.InitrdError.
    """
    names = program_names(src_root)
    if not names:
        return None
    missing = [c for c in REQUIRED_CONSTANTS if not isinstance(board.code_constants.get(c), int)]
    if missing:
        raise UserBuildError(f"board '{board.name}' runs user programs (USER_PROCESSES = 1) but lacks the "
                             f"integer constant{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    options = {"arch": target.name, "board": board.name, "release": release, "opt": opt, "src": str(src_root),
               "programs": names}
    stamp = out_dir / USER_DIR / INITRD_STAMP
    inputs = _initrd_inputs(board, src_root, out_dir, names)
    before = file_stats(inputs)
    if not force and _initrd_unchanged(stamp, options, before, out_dir, names):
        return out_dir / INITRD
    stamp.unlink(missing_ok=True)
    images: dict[str, bytes] = {}
    elves: dict[str, bytes] = {}
    _FILE_DIGESTS.clear()
    try:
        for name in names:
            program = build_program(name, board, target, src_root, out_dir, release=release, opt=opt,
                                    progress=progress, force=force)
            images[name] = program.image.read_bytes()
            elves[f"{BIN}/{name}"] = program.elf.read_bytes()
    finally:
        _FILE_DIGESTS.clear()
    images.update(elves)
    for path in _plain_files(src_root):
        images[path.relative_to(src_root / USER_DIR).as_posix()] = path.read_bytes()
    archive = initrd.write(images, out_dir / INITRD)
    # The inputs' stats from before the build: a file edited meanwhile then differs next time.
    stamp.write_text(json.dumps({"options": options, "inputs": before,
                                 "outputs": file_stats(_initrd_outputs(out_dir, names))}), encoding="utf-8")
    return archive


def _plain_files(src_root: Path) -> list[Path]:
    """The files under ``src_root/user/etc/`` that go into the initrd as they are, sorted."""
    files = src_root / USER_DIR / FILES
    return sorted(p for p in files.rglob("*") if p.is_file()) if files.is_dir() else []


def _initrd_inputs(board: Board, src_root: Path, out_dir: Path, names: list[str]) -> list[Path]:
    """Every file build_initrd's outcome depends on, as far as the programs' stamps tell: each
    program's recorded sources, kcc's modules, the user link template, the board file and the
    plain files (a program without a stamp is rebuilt anyway)."""
    sources = {source for name in names for source in _recorded(out_dir / USER_DIR / name / STAMP)[1]}
    paths = {src_root / source for source in sources}  # the programs share most of theirs (user/lib)
    paths.update(source_files(PACKAGE_DIR, (".py",)))
    paths.add(template_path(board.arch))
    if board.path is not None:
        paths.add(board.path)
    return [*sorted(paths), *_plain_files(src_root)]


def _initrd_outputs(out_dir: Path, names: list[str]) -> list[Path]:
    """What build_initrd leaves in ``out_dir``: each program's ELF, image and stamp, and the initrd."""
    work = out_dir / USER_DIR
    return [*(work / name / f"{name}{suffix}" for name in names for suffix in (".elf", ".img")),
            *(work / name / STAMP for name in names), out_dir / INITRD]


def _initrd_unchanged(stamp: Path, options: dict[str, object], inputs: dict[str, list[int]], out_dir: Path,
                      names: list[str]) -> bool:
    """True when ``stamp`` records ``options`` and the stats of exactly these ``inputs`` and of the
    outputs as they are (kcc.paths.file_stats): then build_initrd would make the same initrd."""
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
        return bool(recorded["options"] == options and recorded["inputs"] == inputs
                    and recorded["outputs"] == file_stats(_initrd_outputs(out_dir, names)))
    except (OSError, ValueError, KeyError, TypeError):
        return False
