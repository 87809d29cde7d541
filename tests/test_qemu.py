"""Tests of kcc.qemu: command lines, exit-code translation, and real boots of a tiny image on qemu-virt."""

from __future__ import annotations

import io

import pytest
from tiny_image import kmain_ir, write_board, write_src_root

from kcc import build as build_mod
from kcc import qemu
from kcc.boards import load_board
from kcc.build import build


def tiny_kernel(tmp_path, monkeypatch, message: str, exit_code: int, ir: str | None = None):
    """Build the tiny image (entry.S + kmain IR) for qemu-virt; return its BuildResult."""
    text = ir if ir is not None else kmain_ir(message, exit_code)
    monkeypatch.setattr(build_mod, "_compile", lambda src_root, target, board, checked, whole, cache_dir, emit: {"core.main": text})
    return build("riscv64", "qemu-virt", out_dir=tmp_path / "out", src_root=write_src_root(tmp_path / "src"))


def test_command_line_from_the_board(tmp_path):
    board = load_board("qemu-virt")
    kernel = tmp_path / "kernel.elf"
    cmd = qemu.qemu_command(board, kernel)
    assert cmd[0].endswith("qemu-system-riscv64")
    assert cmd[1:7] == ["-M", "virt", "-m", "128M", "-smp", "2"]
    assert cmd[-2:] == ["-kernel", str(kernel)]
    assert "-bios" in cmd and "-nographic" in cmd
    assert "-icount" not in cmd and "-S" not in cmd
    debug = qemu.qemu_command(board, kernel, gdb=True, icount=True)
    assert debug[debug.index("-icount") + 1] == "shift=0"
    assert "-s" in debug and "-S" in debug


def test_missing_emulator_names_the_package(tmp_path):
    path = write_board(tmp_path / "board.toml")
    path.write_text(path.read_text().replace("qemu-system-riscv64", "qemu-system-nonexistent-arch"))
    with pytest.raises(qemu.QemuError, match="qemu-system-nonexistent-arch not found on PATH"):
        qemu.qemu_command(load_board(str(path)), tmp_path / "k.elf")


def test_board_without_qemu(tmp_path):
    path = write_board(tmp_path / "board.toml")
    path.write_text(path.read_text().split("[qemu]")[0])
    with pytest.raises(qemu.QemuError, match="has no \\[qemu\\] table"):
        qemu.qemu_command(load_board(str(path)), tmp_path / "k.elf")


@pytest.mark.parametrize("method, status, code", [
    ("sifive_test", 0, 0), ("sifive_test", 3, 3), ("sifive_test", 255, 255),
    ("isa_debug_exit", 3, 0), ("isa_debug_exit", 9, 3), ("isa_debug_exit", 255, 126),
    ("isa_debug_exit", 1, 1), ("isa_debug_exit", 0, 0),
    ("semihosting", 5, 5), ("none", 1, 1), ("sifive_test", -9, 137),
])
def test_kernel_exit_code(method, status, code):
    assert qemu.kernel_exit_code(method, status) == code


def test_boot_passes_with_exit_code_zero(tmp_path, monkeypatch):
    result = tiny_kernel(tmp_path, monkeypatch, "hello from the tiny kernel\n", 0)
    echo = io.BytesIO()
    run = qemu.boot(load_board("qemu-virt"), result.elf, timeout=60, echo=echo)
    assert not run.timed_out
    assert run.exit_code == 0
    assert "hello from the tiny kernel" in run.text
    assert echo.getvalue() == run.output


def test_boot_reports_the_kernel_exit_code(tmp_path, monkeypatch):
    result = tiny_kernel(tmp_path, monkeypatch, "failing\n", 3)
    run = qemu.boot(load_board("qemu-virt"), result.elf, timeout=60, icount=True)
    assert (run.exit_code, run.qemu_status, run.timed_out) == (3, 3, False)
    assert "failing" in run.text


def test_timeout_stops_qemu(tmp_path, monkeypatch):
    spin = kmain_ir("spinning\n", 0).replace("ret i32 0", "br label %done")
    result = tiny_kernel(tmp_path, monkeypatch, "", 0, ir=spin)
    run = qemu.boot(load_board("qemu-virt"), result.elf, timeout=3)
    assert run.timed_out
    assert run.exit_code == qemu.TIMEOUT_STATUS
    assert "spinning" in run.text
    assert run.seconds < 30


def test_qemu_does_not_outlive_an_error_in_kcc(tmp_path, monkeypatch):
    spin = kmain_ir("spinning\n", 0).replace("ret i32 0", "br label %done")
    result = tiny_kernel(tmp_path, monkeypatch, "", 0, ir=spin)
    started = []
    real_popen = qemu.subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    class BrokenConsole(io.BytesIO):
        def write(self, data):
            raise RuntimeError("console gone")

    monkeypatch.setattr(qemu.subprocess, "Popen", recording_popen)
    with pytest.raises(RuntimeError, match="console gone"):
        qemu.boot(load_board("qemu-virt"), result.elf, timeout=60, echo=BrokenConsole())
    assert len(started) == 1
    assert started[0].wait(10) is not None
