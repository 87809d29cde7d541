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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from kcc import __version__, emit, initrd, optimize, toolchain, userimage
from kcc.boards import Board
from kcc.compiler import BuildOptions, compile_program
from kcc.paths import PACKAGE_DIR, data_dir
from kcc.targets.base import Target

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
# The board constants a user build needs: where programs are linked, and how far they may reach.
REQUIRED_CONSTANTS = ("USER_BASE", "USER_END", "PAGE_SIZE")

Progress = Callable[[str, str], None]


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


def _digest(files: list[Path], options: dict[str, object], extra: dict[str, bytes]) -> str:
    """A SHA-256 over kcc itself (version and every module), ``options``, ``extra`` and ``files``' contents."""
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    add("version", __version__.encode())
    add("options", json.dumps(options, sort_keys=True, default=str).encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        add(f"kcc/{path.relative_to(PACKAGE_DIR)}", path.read_bytes())
    for label, data in extra.items():
        add(label, data)
    for path in files:
        add(f"src/{path}", path.read_bytes())
    return h.hexdigest()


def _recorded(stamp: Path) -> tuple[str | None, list[Path]]:
    """The digest and source files a program's stamp recorded; (None, []) when it is missing or unreadable."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        return str(data["digest"]), [Path(p) for p in data["sources"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None, []


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
    options = {"arch": target.name, "board": board.name, "release": release, "opt": opt, "program": name,
               "src": str(src_root)}
    extra = {"template": template_path(board.arch).read_bytes()}
    if board.path is not None:
        extra["board"] = board.path.read_bytes()
    recorded, sources = _recorded(stamp)
    if not force and recorded is not None and elf.is_file() and image.is_file() and \
            all(p.is_file() for p in sources) and _digest(sources, options, extra) == recorded:
        return UserProgram(name, elf, image, True)

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
    used = sorted(Path(s.path).resolve() for s in program.sources)
    stamp.write_text(json.dumps({"digest": _digest(used, options, extra), "sources": [str(p) for p in used]},
                                indent=1), encoding="utf-8")
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
    images: dict[str, bytes] = {}
    elves: dict[str, bytes] = {}
    for name in names:
        program = build_program(name, board, target, src_root, out_dir, release=release, opt=opt,
                                progress=progress, force=force)
        images[name] = program.image.read_bytes()
        elves[f"{BIN}/{name}"] = program.elf.read_bytes()
    images.update(elves)
    files = src_root / USER_DIR / FILES
    if files.is_dir():
        for path in sorted(p for p in files.rglob("*") if p.is_file()):
            images[path.relative_to(src_root / USER_DIR).as_posix()] = path.read_bytes()
    return initrd.write(images, out_dir / INITRD)
