"""Tests of the link stage: the rendered link.ld places the symbols at the board's addresses and fails on overflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from tiny_image import ENTRY_S, kmain_ir, write_board

from kcc import emit, link, optimize, toolchain
from kcc.boards import board_header, load_board
from kcc.targets import get_target

RV = get_target("riscv64")


def elf_symbols(path: Path) -> dict[str, int]:
    with path.open("rb") as fh:
        return {s.name: s["st_value"] for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}


def build_image(tmp_path: Path, board_path: Path | str, entry_s: str = ENTRY_S, extra_s: str = "") -> Path:
    """Assemble ``entry_s`` (+ ``extra_s``), compile kmain from IR, link for the board; return kernel.elf."""
    board = load_board(str(board_path))
    (tmp_path / "board.h").write_text(board_header(board))
    objects = []
    for name, text in (("entry", entry_s), ("extra", extra_s)):
        if text:
            src = tmp_path / f"{name}.S"
            src.write_text(text)
            objects.append(toolchain.assemble(src, tmp_path / f"{name}.o", RV, (tmp_path,)))
    module = optimize.optimize(kmain_ir("hi\n", 0), RV, 2)
    objects.append(emit.emit_object(module, RV, tmp_path / "kernel.o", 2))
    return link.link_kernel(objects, board, RV, tmp_path)


def test_rendered_script_has_the_board_regions_and_asserts():
    text = link.render_link_script(load_board("qemu-virt"))
    assert "ram (rwx) : ORIGIN = 0x80200000, LENGTH = 0x7e00000" in text
    assert "ENTRY(_start)" in text
    assert "KEEP(*(.text.entry))" in text
    assert "ASSERT(_start == 0x80200000" in text
    assert ". += 0x20000;" in text  # 8 harts * 16 KiB
    assert "{{" not in text and "{%" not in text


def test_qemu_virt_image_layout(tmp_path):
    board = load_board("qemu-virt")
    elf = build_image(tmp_path, "qemu-virt", extra_s=".data\n.globl d\nd: .quad 5\n.bss\n.globl b\nb: .space 24\n")
    assert (tmp_path / "link.ld").is_file()
    assert "kmain" in (tmp_path / "kernel.map").read_text()
    sym = elf_symbols(elf)
    with elf.open("rb") as fh:
        f = ELFFile(fh)
        assert f.elfclass == 64 and f.header["e_machine"] == "EM_RISCV"
        assert f.header["e_entry"] == 0x8020_0000
        assert f.header["e_type"] == "ET_EXEC"
    assert sym["_start"] == sym["__text_start"] == board.link.load_address
    order = ["__text_start", "__text_end", "__rodata_start", "__rodata_end", "__data_start", "__data_end",
             "__bss_start", "__bss_end", "__stack_bottom", "__stack_top", "_end"]
    values = [sym[name] for name in order]
    assert values == sorted(values)
    assert sym["__text_start"] <= sym["kmain"] < sym["__text_end"]
    assert sym["__data_start"] <= sym["d"] < sym["__data_end"]
    assert sym["__bss_start"] <= sym["b"] < sym["__bss_end"]
    assert sym["__rodata_start"] % 4096 == 0 and sym["__data_start"] % 4096 == 0
    assert sym["__bss_start"] % 8 == 0 and sym["__bss_end"] % 8 == 0
    assert sym["__stack_top"] - sym["__stack_bottom"] == board.link.harts * board.link.stack_size
    assert sym["__stack_top"] % 16 == 0
    assert sym["_end"] % 4096 == 0 and sym["_end"] >= sym["__stack_top"]
    assert sym["_end"] <= board.data_region.end


def test_text_overflow_fails_the_link_with_the_assert_message(tmp_path):
    board = write_board(tmp_path / "board.toml", length=0x1_0000)
    with pytest.raises(toolchain.ToolchainError) as err:
        build_image(tmp_path, board, extra_s='.section .text.big, "ax"\n.space 0x10000\n')
    assert "kcc: .text overflows region 'ram' of board 'tiny'" in str(err.value)


def test_stack_overflow_of_the_region_fails_the_link(tmp_path):
    # 0x8000 of RAM: the code fits, 4 stacks of 8 KiB do not.
    board = write_board(tmp_path / "board.toml", length=0x8000, stack_size=8192, harts=4)
    with pytest.raises(toolchain.ToolchainError) as err:
        build_image(tmp_path, board)
    assert "kcc: the kernel image with its 4 stacks overflows region 'ram' of board 'tiny'" in str(err.value)


def test_bss_overflow_fails_the_link(tmp_path):
    board = write_board(tmp_path / "board.toml", length=0x1_0000, stack_size=16, harts=1)
    with pytest.raises(toolchain.ToolchainError) as err:
        build_image(tmp_path, board, extra_s=".bss\n.space 0x10000\n")
    assert "kcc: .data and .bss overflow region 'ram'" in str(err.value)


def test_a_fitting_image_links_on_the_small_board(tmp_path):
    board = write_board(tmp_path / "board.toml", length=0x1_0000)
    assert elf_symbols(build_image(tmp_path, board))["_start"] == 0x8020_0000


def test_entry_not_first_fails_the_link(tmp_path):
    board = write_board(tmp_path / "board.toml")
    late_entry = ENTRY_S.replace("_start:\n", "    nop\n_start:\n", 1)
    with pytest.raises(toolchain.ToolchainError) as err:
        build_image(tmp_path, board, entry_s=late_entry)
    assert "kcc: _start is not at the load address 0x80200000" in str(err.value)


def test_load_address_above_region_origin(tmp_path):
    board = write_board(tmp_path / "board.toml", origin=0x8000_0000, length=0x100_0000,
                        load_address=0x8010_0000)
    sym = elf_symbols(build_image(tmp_path, board))
    assert sym["_start"] == 0x8010_0000


def test_missing_template_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(link, "template_path", lambda arch: tmp_path / f"{arch}.ld.j2")
    with pytest.raises(link.LinkScriptError, match="no link-script template for architecture 'riscv64'"):
        link.render_link_script(load_board("qemu-virt"))


def test_undefined_template_names_are_errors(tmp_path, monkeypatch):
    (tmp_path / "riscv64.ld.j2").write_text("ENTRY({{ link.entry }})\n{{ no_such_value }}\n")
    monkeypatch.setattr(link, "template_path", lambda arch: tmp_path / f"{arch}.ld.j2")
    with pytest.raises(link.LinkScriptError, match="no_such_value"):
        link.render_link_script(load_board("qemu-virt"))


def test_an_unchanged_script_is_not_rendered_again(tmp_path, monkeypatch):
    board = write_board(tmp_path / "board.toml")
    rendered: list[str] = []
    real = link.render_link_script

    def counting(board):
        rendered.append(board.name)
        return real(board)

    monkeypatch.setattr(link, "render_link_script", counting)
    out = tmp_path / "out"
    script = link.write_link_script(load_board(str(board)), out)
    text = script.read_text()
    assert link.write_link_script(load_board(str(board)), out).read_text() == text
    assert len(rendered) == 1
    write_board(board, stack_size=8192)                       # another board: rendered again
    assert link.write_link_script(load_board(str(board)), out).read_text() != text
    assert len(rendered) == 2
    template = tmp_path / "riscv64.ld.j2"                      # another template: rendered again
    template.write_text(link.template_path("riscv64").read_text() + "/* changed */\n")
    monkeypatch.setattr(link, "template_path", lambda arch: template)
    assert link.write_link_script(load_board(str(board)), out).read_text().endswith("/* changed */\n")
    assert len(rendered) == 3
    script.write_text("edited by hand\n")                    # a script edited since: rendered again
    assert link.write_link_script(load_board(str(board)), out).read_text().endswith("/* changed */\n")
    assert len(rendered) == 4
    (out / "link.ld.key").unlink()                            # a script whose key is gone: rendered again
    assert link.write_link_script(load_board(str(board)), out).read_text().endswith("/* changed */\n")
    assert len(rendered) == 5
