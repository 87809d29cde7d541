"""A tiny riscv64 kernel (assembly entry + hand-written IR) for testing link, build and QEMU without the front end."""

from __future__ import annotations

from pathlib import Path

UART0 = 0x1000_0000

# Entry: one stack, call kmain, report its i32 result through the sifive test device
# (0x5555 = pass; (code << 16) | 0x3333 = fail with code; QEMU hw/misc/sifive_test.c).
ENTRY_S = r"""
#include "board.h"
    .section .text.entry, "ax"
    .globl _start
_start:
    la      sp, __stack_top
    call    kmain
    li      t0, BOARD_TEST_BASE
    beqz    a0, 1f
    slli    a0, a0, 16
    li      t1, 0x3333
    or      t1, t1, a0
    sw      t1, 0(t0)
    j       2f
1:  li      t1, 0x5555
    sw      t1, 0(t0)
2:  wfi
    j       2b
"""


def kmain_ir(message: str, exit_code: int, triple: str = "riscv64-unknown-none-elf") -> str:
    """IR for ``i32 kmain()``: write ``message`` to the UART with volatile stores, run an inline-asm
    nop, return ``exit_code``."""
    data = message.encode() + b"\0"
    escaped = "".join(f"\\{b:02X}" for b in data)
    n = len(data)
    return f"""
target triple = "{triple}"
@msg = private unnamed_addr constant [{n} x i8] c"{escaped}"

define i32 @kmain() {{
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %body ]
  %p = getelementptr [{n} x i8], ptr @msg, i64 0, i64 %i
  %c = load i8, ptr %p
  %end = icmp eq i8 %c, 0
  br i1 %end, label %done, label %body
body:
  store volatile i8 %c, ptr inttoptr (i64 {UART0} to ptr)
  %next = add i64 %i, 1
  br label %loop
done:
  call void asm sideeffect "nop", "~{{memory}}"()
  ret i32 {exit_code}
}}
"""


def write_src_root(root: Path) -> Path:
    """Create a source root holding only ``arch/riscv64/entry.S`` (the IR comes from kmain_ir)."""
    arch = root / "arch" / "riscv64"
    arch.mkdir(parents=True, exist_ok=True)
    (arch / "entry.S").write_text(ENTRY_S)
    return root


def write_board(path: Path, *, origin: int = 0x8020_0000, length: int = 0x07E0_0000,
                load_address: int | None = None, stack_size: int = 4096, harts: int = 2,
                arch: str = "riscv64", name: str = "tiny") -> Path:
    """Write a board.toml at ``path`` with one RAM region and the qemu-virt QEMU settings."""
    load = origin if load_address is None else load_address
    path.write_text(f"""
name = "{name}"
arch = "{arch}"
description = "test board"
[memory.ram]
origin = {origin:#x}
length = {length:#x}
[link]
load_address = {load:#x}
text_region = "ram"
data_region = "ram"
stack_size = {stack_size}
harts = {harts}
[constants]
TEST_BASE = 0x100000
UART0_BASE = 0x10000000
[qemu]
binary = "qemu-system-riscv64"
machine = "virt"
memory = "128M"
args = ["-bios", "default", "-nographic"]
exit = "sifive_test"
""")
    return path
