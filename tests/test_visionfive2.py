"""The VisionFive 2 board (boards/visionfive2): its image for U-Boot, checked without hardware.

No emulator models the JH7110, so these tests read the build: the load address and entry, the RISC-V
Linux image header that booti checks, and the UART base and register stride compiled into the code.
The same header and raw-image path then boots on qemu-virt (a copy of its board file with the header).
"""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import capstone
import pytest
from elftools.elf.elffile import ELFFile

from kcc import qemu, toolchain
from kcc.boards import IMAGE_HEADER_SIZE, BoardError, load_board, load_board_file
from kcc.build import BuildResult, build
from kcc.targets import get_target

ROOT = Path(__file__).resolve().parent.parent

# StarFive's U-Boot environment for the board (docs/visionfive2.md).
KERNEL_ADDR_R = 0x4020_0000
FDT_ADDR_R = 0x4600_0000
UART0 = 0x1000_0000

# The header layout (Linux, Documentation/arch/riscv/boot-image-header.rst), little-endian.
HEADER = struct.Struct("<IIQQQIIQQII")

# "0xc(a0)", "-8(sp)": the displacement and base register of a load or store in capstone's syntax.
_MEMORY_OPERAND = re.compile(r"(-?(?:0x[0-9a-f]+|\d+))\((\w+)\)$")


@pytest.fixture(scope="module")
def vf2(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build("riscv64", "visionfive2", out_dir=tmp_path_factory.mktemp("visionfive2"))


@pytest.fixture(scope="module")
def virt(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build("riscv64", "qemu-virt", out_dir=tmp_path_factory.mktemp("qemu-virt"))


def _symbols(elf: Path) -> dict[str, int]:
    with elf.open("rb") as fh:
        return {s.name: s["st_value"] for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}


def uart_accesses(elf: Path) -> set[tuple[str, int]]:
    """(mnemonic, address) of every load and store in .text to UART0's first 256 bytes, as far as ``lui`` shows.

    A register keeps the value of its last ``lui`` until an instruction writes it (its first operand,
    for every instruction but stores and branches) or a call clobbers every register. Compressed
    instructions count under their full names (c.sw is sw).
    """
    with elf.open("rb") as fh:
        text = ELFFile(fh).get_section_by_name(".text")
        code, base = text.data(), text["sh_addr"]
    md = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
    md.skipdata = True          # the image header at the start of .text is data
    known: dict[str, int] = {}
    found: set[tuple[str, int]] = set()
    for insn in md.disasm(code, base):
        name = insn.mnemonic.removeprefix("c.")
        operands = [o.strip() for o in insn.op_str.split(",")]
        if name == "lui":
            known[operands[0]] = int(operands[1], 0) << 12
            continue
        mem = _MEMORY_OPERAND.search(insn.op_str)
        if mem and mem.group(2) in known:
            found.add((name, known[mem.group(2)] + int(mem.group(1), 0)))
        if name in ("jal", "jalr", "call", "tail", "ret"):
            known.clear()
        elif not name.startswith(("s", "b")):
            known.pop(operands[0], None)
    return {(m, a) for m, a in found if UART0 <= a < UART0 + 0x100}


def test_board_facts() -> None:
    board = load_board("visionfive2")
    c = board.constants
    assert board.arch == "riscv64" and board.qemu is None
    assert board.link.load_address == KERNEL_ADDR_R and board.link.image_header == "riscv"
    assert board.link.entry_address == KERNEL_ADDR_R + IMAGE_HEADER_SIZE
    assert board.data_region.end == FDT_ADDR_R
    assert (c["RAM_BASE"], c["UART0_BASE"], c["UART0_REG_SHIFT"], c["TIMEBASE_HZ"]) == (
        0x4000_0000, UART0, 2, 4_000_000)
    assert (c["PLIC_BASE"], c["TEST_BASE"], c["USER_PROCESSES"]) == (0x0C00_0000, 0, 1)


def test_board_defines_every_constant_qemu_virt_has() -> None:
    """arch/riscv64 and core read the same board constants on every riscv64 board."""
    missing = set(load_board("qemu-virt").constants) - set(load_board("visionfive2").constants)
    assert not missing


def test_image_header(vf2: BuildResult) -> None:
    image = vf2.binary.read_bytes()
    symbols = _symbols(vf2.elf)
    (code0, code1, text_offset, image_size, flags, version, res1, res2, magic, magic2,
     res3) = HEADER.unpack_from(image)
    md = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
    jump = next(md.disasm(image[:4], KERNEL_ADDR_R))
    assert (jump.mnemonic, jump.op_str) == ("j", "0x40")      # capstone prints the offset: +64
    assert (code0, code1) == (0x0400_006F, 0x0000_0013)          # jal zero, +64; nop
    assert text_offset == KERNEL_ADDR_R - 0x4000_0000
    assert image_size == symbols["_end"] - KERNEL_ADDR_R and image_size >= len(image)
    assert (flags, version, res1, res2, res3) == (0, 2, 0, 0, 0)
    assert magic.to_bytes(8, "little") == b"RISCV\0\0\0"
    assert magic2.to_bytes(4, "little") == b"RSC\x05"


def test_load_address_and_entry(vf2: BuildResult) -> None:
    symbols = _symbols(vf2.elf)
    # The ELF entry is where booti and go jump: the header's code0, which jumps on to _start.
    assert vf2.entry == symbols["__image_header"] == KERNEL_ADDR_R
    assert symbols["_start"] == KERNEL_ADDR_R + IMAGE_HEADER_SIZE
    with vf2.elf.open("rb") as fh:
        loads = [s for s in ELFFile(fh).iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
    assert min(s["p_paddr"] for s in loads) == KERNEL_ADDR_R        # kernel.bin's first byte
    assert symbols["_end"] <= FDT_ADDR_R                             # U-Boot's device tree stays intact
    assert vf2.initrd is not None and vf2.initrd.stat().st_size > 0


def test_uart_base_and_stride_compiled_in(vf2: BuildResult, virt: BuildResult) -> None:
    """visionfive2 reaches the 8250 with 32-bit accesses 4 bytes apart; qemu-virt with bytes 1 apart."""
    wide = uart_accesses(vf2.elf)
    narrow = uart_accesses(virt.elf)
    # init(): IER = 0, LCR = 8N1, FCR; putc(): LSR polled, THR written (lib/uart16550.py).
    assert {("sw", UART0 + 4), ("sw", UART0 + 12), ("sw", UART0 + 8), ("lw", UART0 + 20)} <= wide
    assert {("sb", UART0 + 1), ("sb", UART0 + 3), ("sb", UART0 + 2), ("lbu", UART0 + 5)} <= narrow
    assert not {m for m, _ in wide} & {"sb", "lbu", "lb"}
    assert not {m for m, _ in narrow} & {"sw", "lw", "lwu"}


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 is not installed (make qemu-deps)")
def test_header_and_raw_image_boot_on_qemu_virt(tmp_path: Path) -> None:
    """qemu-virt with the image header, booted from kernel.bin (not the ELF), runs init.

    QEMU loads a raw image at the first 2 MiB boundary after OpenSBI (0x8020_0000, the load address)
    and OpenSBI enters its first byte in S-mode with a0 = hart id and a1 = the device tree, as
    U-Boot's booti does on the VisionFive 2: code0's jump, the entry code and the initrd from
    /chosen all run as they would there.
    """
    text = (ROOT / "boards" / "qemu-virt" / "board.toml").read_text(encoding="utf-8")
    text = text.replace('name = "qemu-virt"', 'name = "qemu-virt-image"')
    text, count = re.subn(r"(?m)^\[link\]$", '[link]\nimage_header = "riscv"', text)
    assert count == 1
    board_file = tmp_path / "board.toml"
    board_file.write_text(text, encoding="utf-8")
    result = build("riscv64", str(board_file), release=True, out_dir=tmp_path / "build")
    assert result.binary.read_bytes()[56:60] == b"RSC\x05"
    run = qemu.boot(load_board(str(board_file)), result.binary, timeout=300, initrd=result.initrd,
                    console_input=b"halt\n")
    out = run.text
    assert run.exit_code == 0, out
    assert "(riscv64, board qemu-virt-image)" in out
    assert re.search(r"^init: hello from user space", out, re.MULTILINE), out


@pytest.mark.parametrize(("edit", "message"), [
    (('image_header = "riscv"', 'image_header = "arm64"'), "'image_header' must be one of riscv"),
    (('arch = "riscv64"', 'arch = "armv8m"'), "image_header 'riscv' is for riscv64, not armv8m"),
    (("RAM_BASE = 0x4000_0000", "RAM_BASE = 0x5000_0000"), "needs \\[constants\\] RAM_BASE at or below"),
])
def test_image_header_is_validated(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    text = (ROOT / "boards" / "visionfive2" / "board.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "board.toml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(BoardError, match=message):
        load_board_file(path)


# Plays U-Boot's go on qemu-virt: OpenSBI enters it with a0 = hart id and a1 = the device tree; it
# writes that address as "0x" and 16 hex digits and calls the kernel as go would, kernel(1, argv).
# It runs on hart 1 whichever hart OpenSBI's boot lottery picked (on hart 0 it starts hart 1 through
# SBI HSM and stops itself), so the kernel must find its hart id without being told it.
GO_SHIM = """
    .section .text.shim, "awx", @progbits
    .globl _start
_start:
    bnez    a0, on_hart_1
    mv      a2, a1                  /* hart_start(1, _start, opaque = the device tree) */
    li      a0, 1
    lla     a1, _start
    li      a7, 0x48534D
    li      a6, 0
    ecall
    bnez    a0, on_hart_1           /* no hart 1: carry on here (the test then fails on the hart id) */
    li      a7, 0x48534D            /* hart_stop */
    li      a6, 1
    ecall
on_hart_1:
    lla     t0, digits_end
    li      t1, 16
1:  andi    t2, a1, 15
    addi    t2, t2, '0'
    li      t4, '9' + 1
    blt     t2, t4, 2f
    addi    t2, t2, 'a' - '0' - 10
2:  addi    t0, t0, -1
    sb      t2, 0(t0)
    srli    a1, a1, 4
    addi    t1, t1, -1
    bnez    t1, 1b
    lla     t0, text
    lla     a1, argv
    sd      t0, 0(a1)
    li      a0, 1
    li      t0, {kernel:#x}
    jr      t0
text:
    .ascii  "0x"
    .space  16
digits_end:
    .byte   0
    .balign 8
argv:
    .dword  0, 0
"""


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 is not installed (make qemu-deps)")
def test_uboot_go_convention_on_qemu_virt(tmp_path: Path) -> None:
    """Entered as U-Boot's go enters it (argc, argv with the device tree's address), the kernel boots into init.

    The kernel (qemu-virt with the image header, linked at 0x8040_0000) is loaded by QEMU's generic
    loader; GO_SHIM, QEMU's -kernel at 0x8020_0000, starts it on hart 1. The kernel must find that
    hart id itself (go passes none): with the wrong one the console's interrupt goes to another
    hart's PLIC context, the shell never sees the "halt" typed to it and the run times out.
    """
    kernel_at = 0x8040_0000
    text = (ROOT / "boards" / "qemu-virt" / "board.toml").read_text(encoding="utf-8")
    for old, new in (('name = "qemu-virt"', 'name = "qemu-virt-go"'), ("[link]", '[link]\nimage_header = "riscv"'),
                     ("origin = 0x8020_0000", f"origin = {kernel_at:#x}"), ("length = 0x07E0_0000", "length = 0x07C0_0000"),
                     ("load_address = 0x8020_0000", f"load_address = {kernel_at:#x}"),
                     ("KERNEL_BASE = 0x8020_0000", f"KERNEL_BASE = {kernel_at:#x}")):
        assert old in text, old
        text = text.replace(old, new, 1)
    board_file = tmp_path / "board.toml"
    board_file.write_text(text, encoding="utf-8")
    board = load_board(str(board_file))
    result = build("riscv64", str(board_file), release=True, out_dir=tmp_path / "build")

    target = get_target("riscv64")
    (tmp_path / "shim.S").write_text(GO_SHIM.format(kernel=kernel_at), encoding="utf-8")
    (tmp_path / "shim.ld").write_text("SECTIONS { . = 0x80200000; .text : { *(.text.shim) } }\n", encoding="utf-8")
    shim_o = toolchain.assemble(tmp_path / "shim.S", tmp_path / "shim.o", target)
    shim_elf = toolchain.link([shim_o], tmp_path / "shim.ld", tmp_path / "shim.elf", tmp_path / "shim.map", target)
    shim_bin = toolchain.objcopy_binary(shim_elf, tmp_path / "shim.bin")

    cmd = qemu.qemu_command(board, shim_bin, initrd=result.initrd,
                            extra=("-device", f"loader,file={result.binary},addr={kernel_at:#x}"))
    run = qemu.run_qemu(cmd, "sifive_test", 300, None, b"halt\n")
    out = run.text
    assert run.exit_code == 0, out
    assert "(riscv64, board qemu-virt-go), boot hart 1" in out, out
    assert re.search(r"^memory map \(from the device tree at 0x[0-9a-f]+\):\r?$", out, re.MULTILINE), out
    assert re.search(r"^init: hello from user space", out, re.MULTILINE), out
