"""kcc's user-program build: flat images, the initrd, the per-program cache, and the errors it reports."""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

from kcc import initrd, qemu, userbuild, userimage
from kcc.boards import load_board
from kcc.build import build
from kcc.cli import cli
from kcc.pyload import load_python
from kcc.targets import get_target

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SRC = ROOT / "kernel_src"
BOARD = load_board("qemu-virt")
TARGET = get_target("riscv64")
PAGE = BOARD.code_constants["PAGE_SIZE"]
UIMAGE = load_python(KERNEL_SRC / "lib" / "uimage.py", root=KERNEL_SRC)


class Recorder:
    """A progress callback that remembers which programs were rebuilt."""

    def __init__(self) -> None:
        self.rebuilt: list[str] = []

    def __call__(self, stage: str, detail: str) -> None:
        assert stage == "user"
        self.rebuilt.append(detail)


def _source_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(KERNEL_SRC, src, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _small_copy(tmp_path: Path) -> Path:
    """A copy of kernel_src whose only user programs are hello and wc (the cache tests build it many times)."""
    src = _source_copy(tmp_path)
    for name in userbuild.program_names(src):
        if name not in ("hello", "wc"):
            shutil.rmtree(src / "user" / name)
    return src


def _build(src: Path, out: Path, release: bool = False, shared: Path | str | None = None) -> tuple[Path | None, list[str]]:
    """Build ``src``'s user programs into ``out``; (initrd, programs compiled). Only ``shared`` as KCC_CACHE_DIR."""
    progress = Recorder()
    with pytest.MonkeyPatch.context() as mp:
        if shared is None:
            mp.delenv(userbuild.CACHE_ENV, raising=False)
        else:
            mp.setenv(userbuild.CACHE_ENV, str(shared))
        path = userbuild.build_initrd(BOARD, TARGET, src, out, release=release, opt=2 if release else 1,
                                      progress=progress)
    return path, progress.rebuilt


def _header(image: bytes) -> dict[str, int]:
    names = ("magic", "version", "entry", "base", "text_size", "rodata_size", "data_size", "bss_size")
    return dict(zip(names, struct.unpack_from(userimage.HEADER_FORMAT, image), strict=True))


def test_programs_are_the_user_packages_but_lib() -> None:
    names = userbuild.program_names(KERNEL_SRC)
    assert "init" in names and "systest" in names
    assert "lib" not in names


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One build of the real user programs: (source copy, build directory)."""
    tmp = tmp_path_factory.mktemp("userbuild")
    src = _source_copy(tmp)
    path, _ = _build(src, tmp / "out", shared=os.environ.get(userbuild.CACHE_ENV))
    assert path == tmp / "out" / "initrd.cpio"
    return src, tmp / "out"


def test_initrd_holds_every_image_under_its_name(built: tuple[Path, Path]) -> None:
    src, out = built
    members = initrd.unpack((out / "initrd.cpio").read_bytes())
    files = sorted(m for m in members if m.startswith(f"{userbuild.FILES}/"))
    assert files == sorted(f"{userbuild.FILES}/{p.name}" for p in (src / "user" / userbuild.FILES).iterdir())
    for name in files:
        del members[name]
    for name in userbuild.program_names(src):
        assert members.pop(f"{userbuild.BIN}/{name}") == (out / "user" / name / f"{name}.elf").read_bytes()
    assert sorted(members) == userbuild.program_names(src)
    for name, data in members.items():
        assert data == (out / "user" / name / f"{name}.img").read_bytes()


@pytest.mark.parametrize("program", ["init", "systest"])
def test_image_header_and_bytes_match_the_elf(built: tuple[Path, Path], program: str) -> None:
    _, out = built
    image = (out / "user" / program / f"{program}.img").read_bytes()
    h = _header(image)
    assert (h["magic"], h["version"]) == (UIMAGE.MAGIC, UIMAGE.VERSION)
    assert h["base"] == BOARD.code_constants["USER_BASE"]
    assert h["base"] % PAGE == h["text_size"] % PAGE == h["rodata_size"] % PAGE == 0
    assert h["text_size"] > 0
    assert len(image) == UIMAGE.HEADER_SIZE + h["text_size"] + h["rodata_size"] + h["data_size"]
    with (out / "user" / program / f"{program}.elf").open("rb") as fh:
        elf = ELFFile(fh)
        symbols = elf.get_section_by_name(".symtab")
        start = symbols.get_symbol_by_name("_start")[0]["st_value"]
        # _start comes first: the kernel enters at the image's first byte.
        assert h["entry"] == start == h["base"]
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD":
                continue
            # W^X: no segment is both writable and executable, and each starts on its own page.
            assert not (seg["p_flags"] & P_FLAGS.PF_W and seg["p_flags"] & P_FLAGS.PF_X)
            assert seg["p_vaddr"] % PAGE == 0
            offset = UIMAGE.HEADER_SIZE + seg["p_vaddr"] - h["base"]
            assert image[offset:offset + seg["p_filesz"]] == seg.data()
        text = elf.get_section_by_name(".text")
        assert image[UIMAGE.HEADER_SIZE:UIMAGE.HEADER_SIZE + text["sh_size"]] == text.data()


def test_unchanged_programs_are_not_rebuilt(tmp_path: Path) -> None:
    src = _small_copy(tmp_path)
    out = tmp_path / "out"
    everything = ["hello", "wc"]
    first, rebuilt = _build(src, out)
    assert sorted(rebuilt) == everything
    archive = first.read_bytes()
    mtime = first.stat().st_mtime_ns

    _, rebuilt = _build(src, out)
    assert rebuilt == []
    assert first.read_bytes() == archive and first.stat().st_mtime_ns == mtime

    # With no input touched since, not even the programs' stamps are read again.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(userbuild, "build_program", None)
        assert _build(src, out) == (first, [])

    # A file touched but not changed is read and hashed again, and nothing is rebuilt.
    hello = src / "user" / "hello" / "main.py"
    hello.write_text(hello.read_text(encoding="utf-8"), encoding="utf-8")
    assert _build(src, out) == (first, [])
    # A program's output removed is made again.
    (out / "user" / "hello" / "hello.img").unlink()
    assert _build(src, out) == (first, ["hello"])

    # A file only wc imports: hello stays cached.
    wc = src / "user" / "wc" / "main.py"
    wc.write_text(wc.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    _, rebuilt = _build(src, out)
    assert rebuilt == ["wc"]

    # The system-call stubs every program imports: all rebuild.
    stubs = src / "user" / "lib" / "syscall.py"
    stubs.write_text(stubs.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    _, rebuilt = _build(src, out)
    assert sorted(rebuilt) == everything

    # Another build mode is another set of inputs.
    _, rebuilt = _build(src, out, release=True)
    assert sorted(rebuilt) == everything

    # So is another source tree with the same files, built into the same directory.
    other = shutil.copytree(src, tmp_path / "other")
    _, rebuilt = _build(other, out, release=True)
    assert sorted(rebuilt) == everything


def test_the_shared_cache_serves_another_tree_and_build_directory(tmp_path: Path) -> None:
    """KCC_CACHE_DIR: a second source tree with the same files, built elsewhere, compiles nothing."""
    src = _small_copy(tmp_path)
    shared = tmp_path / "cache"
    first, rebuilt = _build(src, tmp_path / "out1", shared=shared)
    assert sorted(rebuilt) == ["hello", "wc"]

    other = shutil.copytree(src, tmp_path / "other")
    second, rebuilt = _build(other, tmp_path / "out2", shared=shared)
    assert rebuilt == []
    assert first is not None and second is not None and second.read_bytes() == first.read_bytes()
    _, rebuilt = _build(other, tmp_path / "out2", shared=shared)
    assert rebuilt == []                                  # the copied programs got their own stamps

    # A change only wc sees: wc compiles, hello still comes from the cache; without it, both compile.
    wc = other / "user" / "wc" / "main.py"
    wc.write_text(wc.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    _, rebuilt = _build(other, tmp_path / "out3", shared=shared)
    assert rebuilt == ["wc"]
    _, rebuilt = _build(other, tmp_path / "out4")
    assert sorted(rebuilt) == ["hello", "wc"]


def test_a_source_root_without_user_programs_has_no_initrd(tmp_path: Path) -> None:
    src = _source_copy(tmp_path)
    shutil.rmtree(src / "user")
    path, rebuilt = _build(src, tmp_path / "out")
    assert path is None and rebuilt == []
    assert not (tmp_path / "out" / "initrd.cpio").exists()


def _program(src: Path, name: str, text: str) -> None:
    (src / "user" / name).mkdir()
    (src / "user" / name / "main.py").write_text(text, encoding="utf-8")


def test_a_program_without_main_is_reported(tmp_path: Path) -> None:
    src = _small_copy(tmp_path)
    _program(src, "nomain", "from kcc.lang import *\n\nfrom user.lib import rt as _rt  # noqa: F401\n")
    with pytest.raises(userbuild.UserBuildError, match=r"nomain/main\.py: .*@export\(\"main\"\)"):
        _build(src, tmp_path / "out")


def test_a_program_without_the_runtime_is_reported(tmp_path: Path) -> None:
    src = _small_copy(tmp_path)
    _program(src, "nostart", 'from kcc.lang import *\n\n\n@export("main")\n'
                             "def main(arg0: usize, arg1: usize) -> usize:\n    return 0\n")
    with pytest.raises(userbuild.UserBuildError, match=r"nostart/main\.py: .*user\.lib\.rt"):
        _build(src, tmp_path / "out")


def test_a_board_without_user_constants_is_reported(tmp_path: Path) -> None:
    text = BOARD.path.read_text(encoding="utf-8")
    board_file = tmp_path / "board.toml"
    board_file.write_text(text.replace("USER_BASE = ", "NO_USER_BASE = "), encoding="utf-8")
    with pytest.raises(userbuild.UserBuildError, match="lacks the integer constant USER_BASE"):
        userbuild.build_initrd(load_board(str(board_file)), TARGET, KERNEL_SRC, tmp_path / "out", release=False,
                               opt=1, progress=Recorder())


def test_kernel_build_result_names_the_initrd(tmp_path: Path) -> None:
    result = build("riscv64", "qemu-virt", out_dir=tmp_path / "out")
    assert result.initrd == tmp_path / "out" / "initrd.cpio"
    assert result.initrd.is_file()
    # A board without user processes gets none.
    assert build("armv8m", "mps2-an505", out_dir=tmp_path / "m").initrd is None


def test_initrd_round_trip_is_reproducible(tmp_path: Path) -> None:
    files = {"init": b"\x01\x02\x03", "a/b": b"", "five5": b"12345"}
    archive = initrd.pack(files)
    assert archive == initrd.pack(files)
    assert len(archive) % 4 == 0
    assert initrd.unpack(archive) == files
    assert initrd.member_names(initrd.write(files, tmp_path / "initrd.cpio")) == list(files)
    # The newc header: magic, then ino 1, mode 0100644, ... filesize 3, namesize 5 ("init" + NUL).
    assert archive.startswith(b"070701" + b"%08X" % 1 + b"%08X" % 0o100644)
    assert archive[6 + 6 * 8:6 + 7 * 8] == b"00000003"
    assert archive[6 + 11 * 8:6 + 12 * 8] == b"00000005"
    assert b"TRAILER!!!\0" in archive[-124:]


@pytest.mark.parametrize("name", ["", "a\0b", "TRAILER!!!"])
def test_initrd_refuses_bad_names(name: str) -> None:
    with pytest.raises(initrd.InitrdError, match="cannot store"):
        initrd.pack({name: b"x"})


def test_initrd_unpack_reports_truncation(tmp_path: Path) -> None:
    archive = initrd.pack({"init": b"abcdefgh"})
    cut_file = tmp_path / "initrd.cpio"
    for cut in (0, 120, 130):   # empty; in the first member's data; in the trailer's header
        with pytest.raises(initrd.InitrdError, match="truncated"):
            initrd.unpack(archive[:cut])
        cut_file.write_bytes(archive[:cut])
        with pytest.raises(initrd.InitrdError, match="truncated"):
            initrd.member_names(cut_file)


def test_qemu_command_passes_initrd_and_command_line(tmp_path: Path) -> None:
    if shutil.which(BOARD.qemu.binary) is None:
        pytest.skip(f"{BOARD.qemu.binary} is not installed")
    cmd = qemu.qemu_command(BOARD, tmp_path / "kernel.elf", initrd=tmp_path / "initrd.cpio", append="init=systest")
    assert cmd[-6:] == ["-initrd", str(tmp_path / "initrd.cpio"), "-append", "init=systest",
                        "-kernel", str(tmp_path / "kernel.elf")]
    assert "-initrd" not in qemu.qemu_command(BOARD, tmp_path / "kernel.elf")


def test_run_rejects_an_unknown_init(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--arch", "riscv64", "-o", str(tmp_path / "out"), "--init", "nosuch"])
    assert result.exit_code == 2
    assert "no user program 'nosuch'" in result.output and "init, " in result.output
    # kcc build names the initrd and what it holds.
    assert re.search(r"initrd\.cpio: \d+ user programs \(.*\binit\b.*\), \d+ bytes", result.output)


def test_run_init_needs_a_board_with_user_programs(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--arch", "armv8m", "--board", "mps2-an505", "-o", str(tmp_path / "out"),
                                      "--init", "init"])
    assert result.exit_code == 2
    assert "runs no user programs" in result.output
