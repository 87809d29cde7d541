"""Tests of the build driver (kcc.build) with the front end replaced by hand-written IR."""

from __future__ import annotations

import json

import pytest
from tiny_image import kmain_ir, write_board, write_src_root

from kcc import build as build_mod
from kcc import toolchain
from kcc.build import BuildError, build, default_opt


@pytest.fixture
def fake_front_end(monkeypatch):
    """Replace the front end by kmain_ir; records each call's (checked) flag."""
    calls: list[bool] = []

    def compile_stub(src_root, target, board, checked, whole, cache_dir, emit):
        calls.append(checked)
        return {"core.main": kmain_ir("built\n", 0, target.triple)}

    monkeypatch.setattr(build_mod, "_compile", compile_stub)
    return calls


def test_build_writes_every_output_and_reports_sections(tmp_path, fake_front_end):
    src = write_src_root(tmp_path / "src")
    out = tmp_path / "out"
    stages: list[str] = []
    result = build("riscv64", "qemu-virt", out_dir=out, src_root=src,
                   progress=lambda stage, detail: stages.append(stage))
    assert not result.cached
    assert stages == ["compile", "codegen", "assemble", "link", "binary"]
    assert list(result.stages) == stages
    for name in ("kernel.elf", "kernel.bin", "kernel.map", "link.ld", "board.h", "build.json"):
        assert (out / name).is_file(), name
    [_] = (out / "obj").glob("entry.S.*.o")
    [obj] = (out / "obj").glob("core.main.*.o")
    assert obj.with_suffix(".ll").is_file()
    assert result.entry == 0x8020_0000
    names = [s.name for s in result.sections]
    assert names[0] == ".text" and ".stack" in names
    assert result.sections[0].address == 0x8020_0000
    assert "#define BOARD_TEST_BASE 0x100000" in (out / "board.h").read_text()
    assert fake_front_end == [True]
    recorded = json.loads((out / "build.json").read_text())
    assert recorded["options"]["opt"] == default_opt(False) == 1


def test_unchanged_inputs_are_not_rebuilt_and_changes_are(tmp_path, fake_front_end):
    src = write_src_root(tmp_path / "src")
    out = tmp_path / "out"
    first = build("riscv64", "qemu-virt", out_dir=out, src_root=src)
    elf_time = first.elf.stat().st_mtime_ns
    again = build("riscv64", "qemu-virt", out_dir=out, src_root=src)
    assert again.cached and again.sections == first.sections
    assert again.elf.stat().st_mtime_ns == elf_time
    assert len(fake_front_end) == 1

    (src / "arch" / "riscv64" / "entry.S").write_text((src / "arch" / "riscv64" / "entry.S").read_text() + "\n")
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src).cached
    (src / "core").mkdir()
    (src / "core" / "main.py").write_text("# a kcc module\n")
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src).cached
    assert build("riscv64", "qemu-virt", out_dir=out, src_root=src).cached
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src, opt_level=3).cached
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src, opt_level=3, release=True).cached
    assert fake_front_end[-1] is False
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src, opt_level=3, release=True,
                     force=True).cached
    (out / "kernel.bin").unlink()
    assert not build("riscv64", "qemu-virt", out_dir=out, src_root=src, opt_level=3, release=True).cached


def test_board_file_changes_rebuild(tmp_path, fake_front_end):
    src = write_src_root(tmp_path / "src")
    board = write_board(tmp_path / "board.toml")
    out = tmp_path / "out"
    assert not build("riscv64", str(board), out_dir=out, src_root=src).cached
    assert build("riscv64", str(board), out_dir=out, src_root=src).cached
    write_board(board, stack_size=8192)
    assert not build("riscv64", str(board), out_dir=out, src_root=src).cached


def test_release_defaults_to_o2():
    assert default_opt(True) == 2


def test_board_of_another_architecture(tmp_path, fake_front_end):
    board = write_board(tmp_path / "board.toml", arch="armv8m", name="m33")
    with pytest.raises(BuildError, match="board 'm33' is for armv8m, not riscv64"):
        build("riscv64", str(board), out_dir=tmp_path / "out", src_root=tmp_path)


def test_bad_optimisation_level(tmp_path, fake_front_end):
    with pytest.raises(BuildError, match="0..3"):
        build("riscv64", "qemu-virt", opt_level=7, out_dir=tmp_path / "out", src_root=tmp_path)


def test_assembly_objects_are_reused_until_an_input_changes(tmp_path, fake_front_end, monkeypatch):
    assembled: list[str] = []
    real = toolchain.assemble

    def counting(source, *args, **kwargs):
        assembled.append(source.name)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(toolchain, "assemble", counting)
    src = write_src_root(tmp_path / "src")
    out = tmp_path / "out"
    build("riscv64", "qemu-virt", out_dir=out, src_root=src)
    build("riscv64", "qemu-virt", out_dir=out, src_root=src, force=True)
    assert assembled == ["entry.S"]
    entry = src / "arch" / "riscv64" / "entry.S"
    entry.write_text(entry.read_text() + "\n    nop\n")
    build("riscv64", "qemu-virt", out_dir=out, src_root=src)
    assert assembled == ["entry.S", "entry.S"]
    assert len(list((out / "obj").glob("entry.S.*.o"))) == 2

