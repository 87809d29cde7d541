"""The i586 port: the pc board's ELF (class, machine, Multiboot header, layout, no FPU code), its boot on QEMU, the VGA screen, 64-bit division."""

from __future__ import annotations

import ctypes
import dataclasses
import json
import mmap
import platform
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import capstone
import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from hypothesis import given
from hypothesis import strategies as st
from kernel_harness import assert_self_test_passed, panicking_kernel, run_kcc

import kcc
from kcc import link, qemu, toolchain
from kcc.boards import load_board

ROOT = Path(__file__).resolve().parent.parent
DIVMOD64 = ROOT / "kernel_src" / "arch" / "i586" / "divmod64.py"

# Multiboot Specification 0.6.96, section 3.1.1: magic, flags, checksum, 4-byte aligned in the first 8 KiB.
MULTIBOOT_MAGIC = 0x1BADB002
MULTIBOOT_SEARCH = 8192

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-i386") is None,
                                reason="qemu-system-i386 is not installed (make qemu-deps)")


@pytest.fixture(scope="module")
def pc_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pc")
    result = run_kcc("build", "--arch", "i586", "--board", "pc", "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "kernel.elf"


def _symbols(f: ELFFile) -> dict[str, int]:
    return {s.name: s["st_value"] for s in f.get_section_by_name(".symtab").iter_symbols()}


def test_elf_is_a_32_bit_x86_executable(pc_elf: Path) -> None:
    with pc_elf.open("rb") as fh:
        f = ELFFile(fh)
        assert f.elfclass == 32 and f.little_endian
        assert f.header["e_machine"] == "EM_386"
        assert f.header["e_type"] == "ET_EXEC"
        sym = _symbols(f)
        assert f.header["e_entry"] == sym["_start"]
        text = f.get_section_by_name(".text")
        assert text["sh_addr"] <= sym["_start"] < text["sh_addr"] + text["sh_size"]


def test_multiboot_header_in_the_first_8_kib(pc_elf: Path) -> None:
    data = pc_elf.read_bytes()
    offsets = [off for off in range(0, MULTIBOOT_SEARCH - 12 + 1, 4)
               if struct.unpack_from("<I", data, off)[0] == MULTIBOOT_MAGIC]
    assert len(offsets) == 1, offsets
    magic, flags, checksum = struct.unpack_from("<III", data, offsets[0])
    assert (magic + flags + checksum) & 0xFFFF_FFFF == 0
    # Page-aligned modules and memory information; bit 16 clear: the loader reads the ELF headers.
    assert flags == 0x3
    board = load_board("pc")
    with pc_elf.open("rb") as fh:
        f = ELFFile(fh)
        # The header's file offset lies in the segment loaded at the load address, so it is in memory there.
        seg = next(s for s in f.iter_segments() if s["p_type"] == "PT_LOAD"
                   and s["p_offset"] <= offsets[0] < s["p_offset"] + s["p_filesz"])
        assert seg["p_paddr"] + offsets[0] - seg["p_offset"] == board.link.load_address
        assert _symbols(f)["__multiboot_header"] == board.link.load_address


def test_sections_and_segments_inside_the_board_memory(pc_elf: Path) -> None:
    regions = list(load_board("pc").regions.values())

    def inside(start: int, size: int) -> bool:
        return any(r.origin <= start and start + size <= r.end for r in regions)

    with pc_elf.open("rb") as fh:
        f = ELFFile(fh)
        allocated = [s for s in f.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]]
        assert {".text", ".rodata", ".bss", ".stack"} <= {s.name for s in allocated}
        for s in allocated:
            assert inside(s["sh_addr"], s["sh_size"]), s.name
        for seg in f.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                # QEMU's Multiboot loader places segments at their physical addresses.
                assert seg["p_paddr"] == seg["p_vaddr"]
                assert inside(seg["p_paddr"], seg["p_memsz"])
        sym = _symbols(f)
    assert sym["__stack_top"] % 16 == 0
    assert sym["_end"] % 4096 == 0 and sym["_end"] >= sym["__stack_top"]


def test_no_fpu_mmx_or_sse_instructions(pc_elf: Path) -> None:
    """Kernel code is built without x87/MMX/SSE (kcc/targets/i586.py); trap entry saves no FPU state."""
    forbidden_groups = {"fpu", "mmx", "3dnow", "sse1", "sse2", "sse3", "ssse3", "sse41", "sse42", "avx", "avx2"}
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
    md.detail = True
    with pc_elf.open("rb") as fh:
        text = ELFFile(fh).get_section_by_name(".text")
        code, base = text.data(), text["sh_addr"]
    decoded = 0
    for ins in md.disasm(code, base):
        decoded += ins.size
        groups = {ins.group_name(g) for g in ins.groups}
        assert not groups & forbidden_groups, f"{ins.address:#x}: {ins.mnemonic} {ins.op_str}"
        assert not re.search(r"\b(x|y)?mm\d|\bst\(", ins.op_str), f"{ins.address:#x}: {ins.mnemonic} {ins.op_str}"
    assert decoded == len(code), "capstone stopped before the end of .text"


def test_both_breakpoint_encodings_are_in_the_image(pc_elf: Path) -> None:
    """cpu.breakpoint is int3 (0xCC), cpu.breakpoint_wide the 2-byte int $3 (0xCD 0x03) that the trap handler tells apart."""
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
    assembly = {"_start", "trap_stubs", "trap_common"}
    encodings = set()
    with pc_elf.open("rb") as fh:
        f = ELFFile(fh)
        text = f.get_section_by_name(".text")
        data = text.data()
        # Only compiled functions: the stubs' padding, and the linker's between objects, are int3 bytes too.
        for sym in f.get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["type"] == "STT_FUNC" and sym["st_size"] and sym.name not in assembly:
                start = sym["st_value"] - text["sh_addr"]
                code = data[start:start + sym["st_size"]]
                encodings |= {bytes(ins.bytes) for ins in md.disasm(code, sym["st_value"])
                              if ins.mnemonic in ("int3", "int")}
    assert encodings == {b"\xcc", b"\xcd\x03"}


def test_link_script_keeps_the_multiboot_header_first() -> None:
    text = link.render_link_script(load_board("pc"))
    assert 'OUTPUT_FORMAT("elf32-i386")' in text
    assert text.index("KEEP(*(.multiboot))") < text.index("KEEP(*(.text.entry))") < text.index("*(.text .text.*)")
    assert "ram (rwx) : ORIGIN = 0x100000, LENGTH = 0x7e00000" in text
    assert "ASSERT(__multiboot_header == 0x100000" in text


def test_too_small_ram_fails_the_link_with_the_assert_message(tmp_path: Path) -> None:
    board = tmp_path / "board.toml"
    board.write_text((ROOT / "boards" / "pc" / "board.toml").read_text().replace(
        "length = 0x07E0_0000", "length = 0x0000_8000"))
    result = run_kcc("build", "--arch", "i586", "--board", str(board), "-o", str(tmp_path / "build"))
    assert result.returncode == 1
    assert re.search(r"kcc: .* overflows? region 'ram' of board 'pc'", result.stdout + result.stderr)


@needs_qemu
@pytest.mark.parametrize("mode", [[], ["--release"]], ids=["checked", "release"])
def test_boot_self_test_passes(tmp_path: Path, mode: list[str]) -> None:
    result = run_kcc("run", "--arch", "i586", "--board", "pc", "-o", str(tmp_path / "build"), "--timeout", "300", *mode)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"^kcc-kernel \S+ \(i586, board pc\), boot hart 0\r?$", out, re.MULTILINE), out
    assert re.search(r"^memory map \(from the multiboot information at 0x[0-9a-f]{8}\):\r?$", out, re.MULTILINE), out
    # QEMU's e820 map for -m 128M: conventional memory, then 1 MiB up to SeaBIOS's tables near the top.
    assert re.search(r"^  ram +0x00000000\.\.0x0009fc00 ", out, re.MULTILINE), out
    assert re.search(r"^  ram +0x00100000\.\.0x07fe0000 ", out, re.MULTILINE), out
    assert re.search(r"^  reserved +0x00000000\.\.0x00001000 ", out, re.MULTILINE), out
    assert re.search(r"^free pages: \d+ of \d+, 4096 bytes each", out, re.MULTILINE), out
    assert_self_test_passed(out)
    assert len(re.findall(r"^trap: exception 3 \(Breakpoint\)\r?$", out, re.MULTILINE)) == 2, out
    assert re.search(r"^trap:   eip=0x[0-9a-f]{8} error=0x00000000 vector=3\r?$", out, re.MULTILINE), out


@needs_qemu
def test_panic_exit_code_comes_through_isa_debug_exit(tmp_path: Path) -> None:
    """QEMU exits with ((2 + 1) << 1) | 1 for the panic's code 2; `kcc run` must turn that back into 2."""
    src = panicking_kernel(tmp_path)
    result = run_kcc("run", "--arch", "i586", "--board", "pc", "--src", str(src), "-o", str(tmp_path / "build"),
                  "--timeout", "300")
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"panic: division by zero: .* at .*core/main\.py:\d+:\d+", result.stdout), result.stdout


@needs_qemu
def test_clang_object_path_boots_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a host that is not x86, llvmlite has no X86 asm parser and the kernel's object comes from
    clang with Target.clang_args instead (kcc.emit); that kernel must boot the same way."""
    import kcc.targets.i586 as i586_target
    from kcc.build import build

    monkeypatch.setattr(i586_target, "TARGET", dataclasses.replace(i586_target.TARGET, llvmlite_asm_parser=False))
    through_clang: list[Path] = []
    compile_ir = toolchain.compile_ir

    def recording_compile_ir(ll_path: Path, *args: object, **kwargs: object) -> Path:
        through_clang.append(ll_path)
        return compile_ir(ll_path, *args, **kwargs)

    monkeypatch.setattr(toolchain, "compile_ir", recording_compile_ir)
    result = build("i586", "pc", out_dir=tmp_path / "build")
    # Every module that holds inline asm goes through clang; arch.cpu is one of them.
    assert any(p.name.startswith("arch.cpu.") for p in through_clang), through_clang
    run = qemu.boot(load_board("pc"), result.elf, timeout=300)
    assert run.exit_code == 0, run.text
    assert re.search(r"^self-test: (\d+)/\1 passed\r?$", run.text, re.MULTILINE), run.text


class _Qmp:
    """A minimal QMP client (QEMU docs, "QEMU Machine Protocol"): one command at a time, events skipped."""

    def __init__(self, path: Path, deadline: float):
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("QEMU did not open its QMP socket")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rw")
        json.loads(self.file.readline())    # the greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, **arguments: object) -> object:
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        self.file.write(json.dumps(message) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" not in reply:
                assert "error" not in reply, reply
                return reply["return"]


@needs_qemu
def test_vga_screen_shows_the_log_and_acpi_powers_off(tmp_path: Path) -> None:
    """Without isa-debug-exit the kernel's halt falls back to ACPI soft-off; -no-shutdown keeps the
    machine so that the VGA text buffer can be read: it must end with the same lines as COM1."""
    board = load_board("pc")
    build = run_kcc("build", "--arch", "i586", "--board", "pc", "-o", str(tmp_path / "build"))
    assert build.returncode == 0, build.stdout + build.stderr
    qmp_path = tmp_path / "qmp.sock"
    serial = tmp_path / "serial.txt"
    screen = tmp_path / "vga.bin"
    assert board.qemu is not None
    args: list[str] = []
    for arg in board.qemu.args:
        if arg.startswith("isa-debug-exit"):
            args.pop()      # its "-device"
        elif arg != "-nographic":
            args.append(arg)
    cmd = [shutil.which(board.qemu.binary) or board.qemu.binary, "-M", board.qemu.machine, "-m", board.qemu.memory,
           *args, "-display", "none", "-serial", f"file:{serial}", "-monitor", "none", "-no-shutdown",
           "-qmp", f"unix:{qmp_path},server=on,wait=off", "-kernel", str(tmp_path / "build" / "kernel.elf")]
    deadline = time.monotonic() + 300
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        monitor = _Qmp(qmp_path, deadline)
        while monitor.execute("query-status")["status"] == "running":
            assert time.monotonic() < deadline, "the kernel did not power off"
            time.sleep(0.1)
        assert monitor.execute("query-status")["status"] == "shutdown"
        columns, rows = board.constants["VGA_COLUMNS"], board.constants["VGA_ROWS"]
        monitor.execute("pmemsave", val=board.constants["VGA_TEXT_BASE"], size=columns * rows * 2,
                        filename=str(screen))
        monitor.execute("quit")
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cells = screen.read_bytes()
    # Light grey on black everywhere.
    assert set(cells[1::2]) == {0x07}
    shown = [cells[r * columns * 2:(r + 1) * columns * 2:2].decode("cp437") for r in range(rows)]
    log = serial.read_bytes()
    assert re.search(rb"^self-test: (\d+)/\1 passed\r$", log, re.MULTILINE), log
    # The screen was cleared by console.init just before the kernel's first output ("\n" + banner).
    start = log.rindex(b"\nkcc-kernel")
    assert shown == _screen_after(log[start:], columns, rows), "\n".join(shown)


def _screen_after(text: bytes, columns: int, rows: int) -> list[str]:
    """What lib/vga_text shows after printing ``text`` on a blank screen: '\\r' returns, '\\n' starts a new
    row, a full row wraps, and the bottom row scrolls (printable ASCII only, as the kernel prints)."""
    screen = [[" "] * columns for _ in range(rows)]
    row = column = 0

    def newline() -> None:
        nonlocal row, column
        column = 0
        if row + 1 == rows:
            screen.pop(0)
            screen.append([" "] * columns)
        else:
            row += 1

    for ch in text.decode("ascii"):
        if ch == "\n":
            newline()
        elif ch == "\r":
            column = 0
        else:
            screen[row][column] = ch
            column += 1
            if column == columns:
                newline()
    return ["".join(r) for r in screen]


# A host-compiled probe around lib/multiboot: the reader takes 32-bit addresses, so the boot
# information under test lives in memory below 4 GiB (Linux x86-64 mmap flag MAP_32BIT).
MULTIBOOT_PROBE = """
from kcc.lang import *

from lib import multiboot
from lib.memmap import MemRegion

_out: Array[MemRegion, 8]


def ram(info: usize, capacity: u32) -> u32:
    return multiboot.memory_regions(info, addr(_out[0]), capacity)


def reserved(info: usize, capacity: u32) -> u32:
    return multiboot.reserved_regions(info, addr(_out[0]), capacity)


def region(i: u32) -> usize:
    return _out[i].base


def length(i: u32) -> usize:
    return _out[i].size


def module(info: usize, index: u32) -> bool:
    return multiboot.module(info, index, addr(_out[0]))


def command_line_byte(info: usize, i: usize) -> u8:
    return multiboot.command_line(info)[i]
"""
MAP_32BIT = 0x40    # linux/mman.h (x86-64 only)


@pytest.fixture(scope="module")
def multiboot_probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, mmap.mmap, int]:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.skip("needs Linux x86-64 for memory below 4 GiB (MAP_32BIT)")
    root = tmp_path_factory.mktemp("multiboot")
    (root / "lib").mkdir()
    for name in ("multiboot", "memmap", "string"):
        shutil.copy(ROOT / "kernel_src" / "lib" / f"{name}.py", root / "lib" / f"{name}.py")
    (root / "probe.py").write_text(MULTIBOOT_PROBE)
    memory = mmap.mmap(-1, 1 << 16, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_32BIT)
    base = ctypes.addressof((ctypes.c_char * len(memory)).from_buffer(memory))
    assert base + len(memory) <= 1 << 32
    return kcc.load_host(root / "probe.py", root=root), memory, base


def _regions(probe: object, n: int) -> list[tuple[int, int]]:
    return [(probe.region(i), probe.length(i)) for i in range(n)]


def _info(flags: int, mem_lower: int = 0, mem_upper: int = 0, cmdline: int = 0, mods: tuple[int, int] = (0, 0),
          mmap_: tuple[int, int] = (0, 0), loader_name: int = 0) -> bytes:
    """struct multiboot_info (Multiboot 0.6.96, 3.3) up to boot_loader_name."""
    return struct.pack("<7I16x6I", flags, mem_lower, mem_upper, 0, cmdline, *mods, *mmap_, 0, 0, 0, loader_name)


def test_multiboot_memory_map_entries_cut_at_4_gib(multiboot_probe: tuple[object, mmap.mmap, int]) -> None:
    probe, memory, base = multiboot_probe
    entries = [(0, 0x9_FC00, 1), (0x9_FC00, 0x400, 2), (0x10_0000, 0x7EE_0000, 1), (0xFFF0_0000, 0x20_0000, 1),
               (0x1_0000_0000, 0x1000_0000, 1), (0x800_0000, 0, 1)]
    table = b"".join(struct.pack("<IQQI", 20, b, n, kind) for b, n, kind in entries)
    memory[0x100:0x100 + len(table)] = table
    info = _info(0x41, 639, 129920, mmap_=(len(table), base + 0x100))
    memory[:len(info)] = info
    n = probe.ram(base, 8)
    # Type-1 entries only; the one crossing 4 GiB ends at the last page below it; above it and empty ones are dropped.
    assert _regions(probe, n) == [(0, 0x9_FC00), (0x10_0000, 0x7EE_0000), (0xFFF0_0000, 0xF_F000)]
    assert probe.ram(base, 2) == 2
    assert probe.ram(0, 8) == 0


def test_multiboot_mem_fields_without_a_memory_map(multiboot_probe: tuple[object, mmap.mmap, int]) -> None:
    probe, memory, base = multiboot_probe
    info = _info(0x1, 639, 129920)
    memory[:len(info)] = info
    n = probe.ram(base, 8)
    assert _regions(probe, n) == [(0, 639 * 1024), (0x10_0000, 129920 * 1024)]


def test_multiboot_reserved_ranges(multiboot_probe: tuple[object, mmap.mmap, int]) -> None:
    probe, memory, base = multiboot_probe
    memory[0x200:0x209] = b"-v quiet\0"
    memory[0x300:0x305] = b"qemu\0"
    modules = struct.pack("<4I4I", base + 0x1000, base + 0x1800, 0, 0, base + 0x2000, base + 0x2000, 0, 0)
    memory[0x400:0x400 + len(modules)] = modules
    table = struct.pack("<IQQI", 20, 0x10_0000, 0x100_0000, 1)
    memory[0x500:0x500 + len(table)] = table
    flags = 0x1 | 0x4 | 0x8 | 0x40 | 0x200
    info = _info(flags, cmdline=base + 0x200, mods=(2, base + 0x400), mmap_=(len(table), base + 0x500),
                 loader_name=base + 0x300)
    memory[:len(info)] = info
    n = probe.reserved(base, 8)
    # The information (88 bytes), the memory map, the command line and loader name with their NULs,
    # the module list, and each non-empty module.
    assert _regions(probe, n) == [(base, 88), (base + 0x500, 24), (base + 0x200, 9), (base + 0x300, 5),
                                  (base + 0x400, 32), (base + 0x1000, 0x800)]
    assert probe.reserved(base, 3) == 3


def test_multiboot_modules_and_command_line(multiboot_probe: tuple[object, mmap.mmap, int]) -> None:
    """What arch.boot.initrd and command_line read on i586: the first module, the command line."""
    probe, memory, base = multiboot_probe
    text = b"build/pc/kernel.elf init=systest\0"     # QEMU puts the kernel's file name first
    memory[0x200:0x200 + len(text)] = text
    modules = struct.pack("<4I4I", base + 0x1000, base + 0x1800, 0, 0, base + 0x2000, base + 0x2000, 0, 0)
    memory[0x400:0x400 + len(modules)] = modules
    info = _info(0x4 | 0x8, cmdline=base + 0x200, mods=(2, base + 0x400))
    memory[:len(info)] = info
    assert probe.module(base, 0) and _regions(probe, 1) == [(base + 0x1000, 0x800)]
    assert not probe.module(base, 1)    # empty
    assert not probe.module(base, 2)    # past mods_count
    line = bytearray()
    while (byte := probe.command_line_byte(base, len(line))) != 0:
        line.append(byte)
    assert line == text[:-1]
    memory[:len(info)] = _info(0)       # neither flag: no module, an empty command line
    assert not probe.module(base, 0)
    assert probe.command_line_byte(base, 0) == 0
    assert not probe.module(0, 0) and probe.command_line_byte(0, 0) == 0


def _c_quotient(n: int, d: int) -> int:
    q = abs(n) // abs(d)
    return q if (n < 0) == (d < 0) else -q


def _wrap(v: int, bits: int = 64, signed: bool = False) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


u64s = st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2**63, 2**64 - 1]))
i64s = st.one_of(st.integers(-2**63, 2**63 - 1), st.sampled_from([-2**63, -1, 0, 1, 2**63 - 1]))


@pytest.fixture(scope="module")
def divmod64(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    # The compiler resolves arch.* to the target's own directory, so the module is compiled for the
    # host from a copy outside arch/, next to the lib/int64 it imports.
    root = tmp_path_factory.mktemp("divmod64")
    (root / "lib").mkdir()
    shutil.copy(ROOT / "kernel_src" / "lib" / "int64.py", root / "lib" / "int64.py")
    module = root / "divmod64.py"
    shutil.copy(DIVMOD64, module)
    return kcc.load_python(module, root=root), kcc.load_host(module, root=root)


@given(n=u64s, d=u64s.filter(lambda d: d != 0))
def test_unsigned_64_bit_division_routines(divmod64: tuple[object, object], n: int, d: int) -> None:
    for impl in divmod64:
        assert impl.udivdi3(n, d) == n // d
        assert impl.umoddi3(n, d) == n % d


@given(n=i64s, d=i64s.filter(lambda d: d != 0))
def test_signed_64_bit_division_routines_truncate_like_c(divmod64: tuple[object, object], n: int, d: int) -> None:
    q = _c_quotient(n, d)
    for impl in divmod64:
        assert impl.divdi3(n, d) == _wrap(q, signed=True)
        assert impl.moddi3(n, d) == n - q * d


def test_division_by_zero_in_the_runtime_panics(divmod64: tuple[object, object]) -> None:
    for impl in divmod64:
        with pytest.raises(kcc.lang.Panic, match="division by zero"):
            impl.udivdi3(1, 0)


def test_board_exit_method_maps_status_back() -> None:
    """isa-debug-exit: the kernel writes code + 1, QEMU exits with that << 1 | 1; kcc reports the code."""
    for code in (0, 1, 2, 126):
        assert qemu.kernel_exit_code("isa_debug_exit", ((code + 1) << 1) | 1) == code


@needs_qemu
def test_qemu_failing_by_itself_is_not_a_pass(tmp_path: Path) -> None:
    """QEMU exits with 1 when it cannot load the kernel: the same status a written 0 would give, so the
    kernel never writes 0 and kcc must not report success."""
    bogus = tmp_path / "kernel.elf"
    bogus.write_bytes(b"\x7fELF" + bytes(60))
    result = qemu.boot(load_board("pc"), bogus, timeout=60)
    assert result.qemu_status == 1, result.text
    assert result.exit_code != 0
