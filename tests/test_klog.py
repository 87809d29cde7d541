"""Compact logs end to end: log.info in the kernel sends frames that kcc.logs decodes against the ELF, or text
where the board sets LOG_PLAIN (kernel_src/lib/klog.py, kcc/builtins.py, kcc/logs.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from kernel_harness import ROOT

from kcc import logs, qemu
from kcc.boards import load_board
from kcc.build import build
from kcc.compiler import BuildOptions, compile_program
from kcc.diagnostics import CompileError
from kcc.targets import get_target

BOOTS = {
    "riscv64": ("qemu-virt", "qemu-system-riscv64", r"0x[0-9a-f]{16}"),
    "armv8m": ("mps2-an505", "qemu-system-arm", r"0x[0-9a-f]{8}"),
}


def _run(arch: str, board: str, out: Path) -> bytes:
    """Build the self-test kernel into ``out``, boot it and return every console byte as the wire carries it.

    Not through ``kcc run``, whose console view decodes the frames (kcc.logs.ConsoleView).
    """
    result = build(arch, board, out_dir=out)
    run = qemu.boot(load_board(board), result.elf, timeout=300, initrd=result.initrd, append="selftest")
    assert run.exit_code == 0, run.output.decode("utf-8", "replace")
    return run.output


@pytest.mark.parametrize("arch", sorted(BOOTS))
def test_compact_boot_decodes(tmp_path: Path, arch: str) -> None:
    """The kernel-image lines travel as frames (no format text on the wire) and decode to their lines."""
    board, qemu, pointer = BOOTS[arch]
    if shutil.which(qemu) is None:
        pytest.skip(f"{qemu} is not installed (make qemu-deps)")
    raw = _run(arch, board, tmp_path)
    assert bytes([logs.SYNC]) in raw
    assert b"kernel image:" not in raw
    records = logs.load_records(tmp_path / "kernel.elf")
    decoder = logs.Decoder(records)
    lines = decoder.feed(raw) + decoder.finish()
    text = "\n".join(lines)
    assert re.search(r"^\[info\] core/main\.py:\d+: kernel image:$", text, re.MULTILINE), text
    for label in (".text", ".rodata", ".data", ".bss", "stacks"):
        assert re.search(rf"^\[info\] core/main\.py:\d+:   {re.escape(label)} +{pointer}\.\.{pointer} +\d+ KiB$",
                         text, re.MULTILINE), text
    # The plain text around the frames passes through: the lines before and after them.
    assert re.search(r"^memory map \(from the ", text, re.MULTILINE), text
    assert re.search(r"^  image ro +", text, re.MULTILINE), text
    assert re.search(r"^self-test: (\d+)/\1 passed$", text, re.MULTILINE), text


def test_plain_board_prints_text(tmp_path: Path) -> None:
    """A board with LOG_PLAIN = 1 gets the same lines as text with a level prefix, and no records."""
    if shutil.which("qemu-system-riscv64") is None:
        pytest.skip("qemu-system-riscv64 is not installed (make qemu-deps)")
    toml = (ROOT / "boards" / "qemu-virt" / "board.toml").read_text(encoding="utf-8")
    board = tmp_path / "qemu-virt" / "board.toml"
    board.parent.mkdir()
    board.write_text(toml.replace("[constants]\n", "[constants]\nLOG_PLAIN = 1\n", 1), encoding="utf-8")
    raw = _run("riscv64", str(board), tmp_path / "build")
    assert bytes([logs.SYNC]) not in raw
    text = raw.decode("utf-8")
    assert re.search(r"^\[info\] kernel image:\r?$", text, re.MULTILINE), text
    assert re.search(r"^\[info\]   \.text +0x[0-9a-f]{16}\.\.0x[0-9a-f]{16} +\d+ KiB\r?$", text, re.MULTILINE), text
    assert logs.load_records(tmp_path / "build" / "kernel.elf").by_offset == {}


@pytest.mark.parametrize(("body", "message"), [
    ('log.info("%s\\n", x)', "'%s' formats a string, not u32"),
    ('log.warning("%u %u\\n", x)', "'%u' has no argument: the format converts 2, the call passes 1"),
    ("log.error(f, x)", "the format of log.error is a string literal or a Final string"),
    ('log.debug("%u", x, x, x, x, x, x, x)', "log.debug formats at most 6 values"),
])
def test_log_calls_are_checked(tmp_path: Path, body: str, message: str) -> None:
    """A log call's format is checked against its values as a @printf_like call's is (kcc/formats.py)."""
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\n\ndef g(x: u32, f: Ptr[u8]) -> None:\n"
                                   f"    {body}\n", encoding="utf-8")
    with pytest.raises(CompileError) as err:
        compile_program(tmp_path, "m", BuildOptions(get_target("riscv64")))
    assert [d.message for d in err.value.diagnostics] == [message]
