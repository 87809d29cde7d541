"""The armv8m port: boot on QEMU mps2-an505, the ELF of both boards (vector table, regions, no FPU code), kernel.hex, flashing, 64-bit division."""

from __future__ import annotations

import re
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import capstone
import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from hypothesis import given
from hypothesis import strategies as st
from intelhex import IntelHex
from kernel_harness import assert_self_test_passed, panicking_kernel, patched_kernel, run_kcc

import kcc
from kcc import flash, link
from kcc.boards import BoardError, FlashConfig, load_board, load_board_file
from kcc.image import load_segments, merged_ranges
from kcc.lang import Panic

ROOT = Path(__file__).resolve().parent.parent
INT64 = ROOT / "kernel_src" / "lib" / "int64.py"

# ARMv8-M ARM B3.30: 16 architectural vector table entries, then one per external interrupt;
# entries 7..10 are reserved on a core without the Security Extension's SecureFault (7 is SecureFault
# here) and 8..10 and 13 are always reserved.
RESERVED_VECTORS = (8, 9, 10, 13)

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                                reason="qemu-system-arm is not installed (make qemu-deps)")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build directories of both armv8m boards (checked builds)."""
    out = {}
    for board in ("mps2-an505", "stm32l5"):
        d = tmp_path_factory.mktemp(board)
        result = run_kcc("build", "--arch", "armv8m", "--board", board, "-o", str(d))
        assert result.returncode == 0, result.stdout + result.stderr
        out[board] = d
    return out


def _symbols(f: ELFFile) -> dict[str, int]:
    return {s.name: s["st_value"] for s in f.get_section_by_name(".symtab").iter_symbols() if s.name}


def _word(f: ELFFile, address: int) -> int:
    """The 32-bit little-endian word the image holds at load address ``address``."""
    for seg in f.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] <= address < seg["p_paddr"] + seg["p_filesz"]:
            return struct.unpack_from("<I", seg.data(), address - seg["p_paddr"])[0]
    raise AssertionError(f"no loaded byte at {address:#x}")


# --- boot on QEMU ---------------------------------------------------------------------------------


@needs_qemu
@pytest.mark.parametrize("mode", [[], ["--release"]], ids=["checked", "release"])
def test_boot_self_test_passes_on_mps2_an505(tmp_path: Path, mode: list[str]) -> None:
    result = run_kcc("run", "--arch", "armv8m", "--board", "mps2-an505", "-o", str(tmp_path / "build"),
                  "--timeout", "300", *mode)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"^kcc-kernel \S+ \(armv8m, board mps2-an505\), boot hart 0$", out, re.MULTILINE), out
    assert re.search(r"^memory map \(from the board description at 0x0+\):$", out, re.MULTILINE), out
    assert re.search(r"^  ram +0x38000000\.\.0x38400000 +4096 KiB$", out, re.MULTILINE), out
    assert re.search(r"^  image ro +0x10000000\.\.0x1000[0-9a-f]{4} ", out, re.MULTILINE), out
    assert re.search(r"^  image rw +0x38000000\.\.0x3800[0-9a-f]{4} ", out, re.MULTILINE), out
    assert re.search(r"^free pages: \d+ of \d+, 4096 bytes each", out, re.MULTILINE), out
    assert_self_test_passed(out)
    assert re.search(r"^  timer: \d+ ticks at 100 Hz in \d+ ms$", out, re.MULTILINE), out
    # The UDF breakpoints run with PRIMASK set, which escalates the UsageFault to a HardFault
    # (ARMv8-M ARM B3.12); either way the fault status says UNDEFINSTR (CFSR bit 16).
    faults = re.findall(r"^trap: exception (\d+) \((\w+)\)\ntrap:   pc=0x([0-9a-f]{8}) .*\n"
                        r"trap:   cfsr=0x([0-9a-f]{8}) ", out, re.MULTILINE)
    assert len(faults) == 2, out
    for number, name, pc, cfsr in faults:
        assert (number, name) in (("3", "HardFault"), ("6", "UsageFault"))
        assert int(cfsr, 16) & (1 << 16)
        assert 0x1000_0000 <= int(pc, 16) < 0x1040_0000
    assert faults[0][2] != faults[1][2]
    cost = re.search(r"^boot cost: (\d+) instructions \((\d+) busy, (\d+) idle", out, re.MULTILINE)
    assert cost and int(cost.group(1)) > 0 and int(cost.group(2)) > 0, out


@needs_qemu
def test_boot_cost_under_icount_is_stable(tmp_path: Path) -> None:
    """Under -icount shift=0 the SysTick follows the instruction count, so two boots report nearly the same busy cost.

    Not exactly the same: with icount's default sleep=on, QEMU advances virtual
    time in real time while the CPU sleeps in wfi, which shifts where the
    50-instruction SysTick quanta fall around each sleep.
    """
    costs = []
    for _ in range(2):
        result = run_kcc("run", "--arch", "armv8m", "-o", str(tmp_path / "build"), "--icount", "--timeout", "300")
        assert result.returncode == 0, result.stdout + result.stderr
        match = re.search(r"^boot cost: \d+ instructions \((\d+) busy", result.stdout, re.MULTILINE)
        assert match, result.stdout
        costs.append(int(match.group(1)))
    assert costs[0] > 0 and abs(costs[0] - costs[1]) <= costs[0] // 100
    # INSTRET_SCALE: one 20 MHz SysTick cycle is 50 instructions at one instruction per ns.
    assert costs[0] % 50 == 0


@needs_qemu
def test_panic_exit_code_reaches_the_host_through_semihosting(tmp_path: Path) -> None:
    src = panicking_kernel(tmp_path)
    result = run_kcc("run", "--arch", "armv8m", "-o", str(tmp_path / "build"), "--src", str(src), "--timeout", "300")
    # lib/panic.py halts with PANIC_EXIT_CODE = 2; SYS_EXIT_EXTENDED hands it to QEMU's exit status.
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"panic: division by zero: .* at .*core/main\.py:\d+:\d+", result.stdout), result.stdout


@needs_qemu
def test_uncopied_data_is_caught(tmp_path: Path) -> None:
    """If the reset code copied .data from the wrong place, the boot stops with a located panic."""
    src = patched_kernel(tmp_path, "arch/armv8m/entry.S", r"ldr     r2, =__data_load", "ldr     r2, =__data_start")
    result = run_kcc("run", "--arch", "armv8m", "-o", str(tmp_path / "build"), "--src", str(src), "--timeout", "300")
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"panic: explicit panic: initialised data was not copied from flash.* at .*arch/armv8m/boot\.py",
                     result.stdout), result.stdout


# --- the ELF of both boards -------------------------------------------------------------------------


@pytest.mark.parametrize("board_name", ["mps2-an505", "stm32l5"])
def test_elf_header_and_vector_table(builds: dict[str, Path], board_name: str) -> None:
    board = load_board(board_name)
    flash_region, sram = board.regions["flash"], board.regions["sram"]
    with (builds[board_name] / "kernel.elf").open("rb") as fh:
        f = ELFFile(fh)
        assert f.elfclass == 32 and f.little_endian
        assert f.header["e_machine"] == "EM_ARM" and f.header["e_type"] == "ET_EXEC"
        sym = _symbols(f)
        text = f.get_section_by_name(".text")
        text_start, text_end = text["sh_addr"], text["sh_addr"] + text["sh_size"]
        assert f.header["e_entry"] == sym["_start"]
        assert sym["_start"] & 1, "a Thumb entry point has bit 0 set"

        vectors = f.get_section_by_name(".vectors")
        assert vectors["sh_addr"] == flash_region.origin == board.link.load_address
        count = 16 + board.constants["NUM_IRQS"]
        assert vectors["sh_size"] == 4 * count
        table = [_word(f, flash_region.origin + 4 * i) for i in range(count)]
        # Word 0: the initial main stack pointer, the top of the stacks in SRAM, 8-byte aligned.
        assert table[0] == sym["__stack_top"] and sram.origin < table[0] <= sram.end and table[0] % 8 == 0
        # Word 1: the reset vector, Thumb bit set, pointing into .text at _start.
        assert table[1] == sym["_start"] and table[1] & 1 and text_start <= table[1] - 1 < text_end
        for i in range(2, count):
            if i in RESERVED_VECTORS:
                assert table[i] == 0
            else:
                assert table[i] == sym["exc_entry"] and table[i] & 1, f"vector {i}"
        # VTOR alignment: the table size rounded up to a power of two (at least 128 bytes).
        assert flash_region.origin % max(128, 1 << (4 * count - 1).bit_length()) == 0


@pytest.mark.parametrize("board_name", ["mps2-an505", "stm32l5"])
def test_sections_inside_the_board_memory(builds: dict[str, Path], board_name: str) -> None:
    board = load_board(board_name)
    flash_region, sram = board.regions["flash"], board.regions["sram"]

    def inside(region, start: int, size: int) -> bool:
        return region.origin <= start and start + size <= region.end

    with (builds[board_name] / "kernel.elf").open("rb") as fh:
        f = ELFFile(fh)
        allocated = {s.name: s for s in f.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]}
        assert {".vectors", ".text", ".rodata", ".data", ".bss", ".stack"} <= set(allocated)
        for name in (".vectors", ".text", ".rodata"):
            assert inside(flash_region, allocated[name]["sh_addr"], allocated[name]["sh_size"]), name
        for name in (".data", ".bss", ".stack"):
            assert inside(sram, allocated[name]["sh_addr"], allocated[name]["sh_size"]), name
        for name, s in allocated.items():
            assert any(inside(r, s["sh_addr"], s["sh_size"]) for r in board.regions.values()), name
        # Every file-backed byte is loaded into flash; .data runs from SRAM but is stored after .rodata.
        sym = _symbols(f)
        for seg in f.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                assert inside(flash_region, seg["p_paddr"], seg["p_filesz"])
        data = allocated[".data"]
        assert data["sh_addr"] == sym["__data_start"] == sram.origin
        assert flash_region.origin < sym["__data_load"] and sym["__data_load"] >= sym["__rodata_end"]
        assert _word(f, sym["__data_load"]) == 0x6B63_6364  # entry.S's data_copy_marker
        assert sym["__stack_bottom"] >= sym["__bss_end"] and sym["__stack_top"] % 16 == 0


def test_stm32l5_fits_its_flash_and_sram(builds: dict[str, Path]) -> None:
    """The acceptance numbers of the issue: vectors at 0x0800_0000, within 512 KiB flash and 256 KiB SRAM."""
    with (builds["stm32l5"] / "kernel.elf").open("rb") as fh:
        f = ELFFile(fh)
        assert f.get_section_by_name(".vectors")["sh_addr"] == 0x0800_0000
        loads = [s for s in f.iter_segments() if s["p_type"] == "PT_LOAD"]
        flash_end = max(s["p_paddr"] + s["p_filesz"] for s in loads if s["p_filesz"])
        sram = [s for s in loads if 0x2000_0000 <= s["p_vaddr"] < 0x2004_0000]
        sram_end = max(s["p_vaddr"] + s["p_memsz"] for s in sram)
        assert 0x0800_0000 < flash_end <= 0x0800_0000 + 512 * 1024
        assert 0x2000_0000 < sram_end <= 0x2000_0000 + 256 * 1024
        assert _symbols(f)["_end"] <= 0x2004_0000


def test_stm32l5_selects_pclk1_for_lpuart1_before_clocking_it(builds: dict[str, Path]) -> None:
    """RCC_CCIPR1.LPUART1SEL (RCC + 0x88, bits 11:10) is written to 00, PCLK1, before LPUART1EN is set.

    Read from the optimised IR of lib/stm32_lpuart.py's stm32l5_lpuart1_setup: a volatile
    read-modify-write of CCIPR1 that clears exactly bits 11:10 (and with ~0xC00) and sets none,
    stored before the first store to APB1ENR2 (RCC + 0x5C). The build keeps each module's IR as
    compiled (obj/<module>.<hash>.ll), optimised here at the build's level as the build's clang
    did; compiled on its own, the function reaches the registers from its rcc_base parameter.
    """
    from kcc.build import default_opt
    from kcc.optimize import optimize
    from kcc.targets import get_target

    [ll] = (builds["stm32l5"] / "obj").glob("lib.stm32_lpuart.*.ll")
    ir = str(optimize(ll.read_text(encoding="utf-8"), get_target("armv8m"), default_opt(False)))
    setup = re.search(r"^define [^\n]*stm32l5_lpuart1_setup\(.*?^}", ir, re.MULTILINE | re.DOTALL)
    assert setup, "no stm32l5_lpuart1_setup in the module"
    body = setup.group(0)

    def register_store(offset: int) -> re.Match[str] | None:
        """The first volatile store to rcc_base + ``offset``."""
        address = re.search(rf"(%[\w.]+) = add i32 %rcc_base, {offset}\b", body)
        pointer = address and re.search(rf"(%[\w.]+) = inttoptr i32 {re.escape(address.group(1))} to ptr", body)
        return pointer and re.search(rf"store volatile i32 (%[\w.]+), ptr {re.escape(pointer.group(1))}\b", body)

    store = register_store(0x88)
    assert store, "no store to RCC_CCIPR1"
    value = re.search(re.escape(store.group(1)) + r" = and i32 %[\w.]+, (-?\d+)", body)
    assert value and int(value.group(1)) & 0xFFFF_FFFF == ~0xC00 & 0xFFFF_FFFF
    enable = register_store(0x5C)
    assert enable and store.start() < enable.start()


@pytest.mark.parametrize("board_name", ["mps2-an505", "stm32l5"])
def test_no_floating_point_instructions(builds: dict[str, Path], board_name: str) -> None:
    """Kernel code is soft-float (kcc/targets/armv8m.py): no VFP/MVE instruction, so exceptions never stack FP state."""
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    with (builds[board_name] / "kernel.elf").open("rb") as fh:
        f = ELFFile(fh)
        text = f.get_section_by_name(".text")
        code, base = text.data(), text["sh_addr"]
        # Literal pools sit between functions; decode function by function from the symbol table.
        funcs = sorted({s["st_value"] & ~1 for s in f.get_section_by_name(".symtab").iter_symbols()
                        if s["st_info"]["type"] == "STT_FUNC" and base <= s["st_value"] & ~1 < base + len(code)})
    assert len(funcs) > 20
    udf = 0
    for start, end in zip(funcs, [*funcs[1:], base + len(code)], strict=True):
        for ins in md.disasm(code[start - base:end - base], start):
            assert not ins.mnemonic.startswith(("v", "vcvt")), f"{ins.address:#x}: {ins.mnemonic} {ins.op_str}"
            udf += ins.mnemonic.startswith("udf")
    assert udf >= 2, "cpu.breakpoint and cpu.breakpoint_wide each hold a UDF"


def test_both_udf_encodings_are_in_the_image(builds: dict[str, Path]) -> None:
    """breakpoint() is the 16-bit UDF #0 (0xDE00), breakpoint_wide() the 32-bit UDF.W #0 (0xF7F0 0xA000)."""
    code = (builds["mps2-an505"] / "kernel.bin").read_bytes()
    assert struct.pack("<H", 0xDE00) in code
    assert struct.pack("<HH", 0xF7F0, 0xA000) in code


# --- kernel.hex, kernel.bin and flashing ------------------------------------------------------------


def test_kernel_hex_holds_the_load_image(builds: dict[str, Path]) -> None:
    out = builds["stm32l5"]
    assert not (builds["mps2-an505"] / "kernel.hex").exists(), "only boards with [flash] get a hex file"
    ih = IntelHex(str(out / "kernel.hex"))
    entry, segments = load_segments(out / "kernel.elf")
    assert ih.start_addr == {"EIP": entry}
    assert [(a, b) for a, b in ih.segments()] == merged_ranges(segments)
    for seg in segments:
        assert ih.tobinstr(start=seg.address, size=len(seg.data)) == seg.data
    # kernel.bin is the same image from the first load address, gaps zero-filled.
    binary = (out / "kernel.bin").read_bytes()
    assert binary[:16] == ih.tobinstr(start=0x0800_0000, size=16)
    assert len(binary) == segments[-1].end - 0x0800_0000


def test_flash_dry_run_prints_the_pyocd_steps(builds: dict[str, Path]) -> None:
    result = run_kcc("flash", "--board", "stm32l5", "--dry-run", "-o", str(builds["stm32l5"]))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "flash: board stm32l5, pyocd target type stm32l552zetxq" in out
    assert f"flash: image {builds['stm32l5'] / 'kernel.hex'} (Intel HEX, " in out
    assert "flash: region 0x08000000..0x08080000 (512 KiB)" in out
    assert re.search(r"^flash:   program 0x08000000\.\.0x080[0-9a-f]{5} \(\d+ bytes\)$", out, re.MULTILINE), out
    assert "ConnectHelper.session_with_chosen_probe(target_override='stm32l552zetxq')" in out
    assert "FileProgrammer(session).program(" in out
    assert "flash: dry run, nothing written" in out


@pytest.mark.skipif(flash.pyocd_available(), reason="pyocd is installed: the missing-pyocd message cannot show")
def test_flash_without_pyocd_names_the_extra(builds: dict[str, Path]) -> None:
    result = run_kcc("flash", "--board", "stm32l5", "-o", str(builds["stm32l5"]))
    assert result.returncode == 1
    assert "pip install 'kcc[flash]'" in result.stderr


def test_flash_refuses_boards_without_a_flash_table() -> None:
    result = run_kcc("flash", "--board", "mps2-an505", "--dry-run")
    assert result.returncode == 1
    assert "board 'mps2-an505' has no [flash] table" in result.stderr and "stm32l5" in result.stderr


def test_flash_plan_rejects_bytes_outside_the_flash_region(builds: dict[str, Path]) -> None:
    board = load_board("mps2-an505")
    wrong = replace(board, flash=FlashConfig("pyocd", "x", "sram"))
    with pytest.raises(flash.FlashError, match=r"outside flash region 'sram'"):
        flash.plan_flash(wrong, builds["mps2-an505"] / "kernel.elf", Path("kernel.hex"))


def test_flash_table_is_validated(tmp_path: Path) -> None:
    text = (ROOT / "boards" / "stm32l5" / "board.toml").read_text(encoding="utf-8")
    table = '[flash]\ntool = "pyocd"\ntarget = "stm32l552zetxq"\nregion = "flash"\n'
    assert table in text
    for new, message in (('[flash]\ntool = "openocd"\ntarget = "x"\nregion = "flash"\n', "'tool' must be one of pyocd"),
                         ('[flash]\ntool = "pyocd"\ntarget = "x"\nregion = "rom"\n', "'region' names region 'rom'"),
                         (table + "speed = 4\n", "unknown key 'speed'"),
                         ('[flash]\ntool = "pyocd"\nregion = "flash"\n', "missing key 'target'")):
        path = tmp_path / "board.toml"
        path.write_text(text.replace(table, new), encoding="utf-8")
        with pytest.raises(BoardError, match=message):
            load_board_file(path)


# --- the link script ------------------------------------------------------------------------------


def _variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = (ROOT / "boards" / "stm32l5" / "board.toml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "board.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_link_script_has_the_lma_split_and_asserts() -> None:
    text = link.render_link_script(load_board("stm32l5"))
    assert "flash (rx) : ORIGIN = 0x8000000, LENGTH = 0x80000" in text
    assert "sram (rwx) : ORIGIN = 0x20000000, LENGTH = 0x40000" in text
    assert "} > sram AT > flash" in text and "__data_load = LOADADDR(.data);" in text
    assert "KEEP(*(.vectors))" in text and "KEEP(*(.text.entry))" in text
    assert "ASSERT(__vectors_end - __vectors_start == 500," in text  # 16 + 109 interrupts
    assert "ASSERT((0x8000000 & 0x1ff) == 0," in text
    assert "{{" not in text and "{%" not in text


def test_flash_overflow_is_a_link_error(tmp_path: Path) -> None:
    board = _variant(tmp_path, ("length = 0x0008_0000", "length = 0x0000_1000"))
    result = run_kcc("build", "--arch", "armv8m", "--board", str(board), "-o", str(tmp_path / "build"))
    assert result.returncode == 1
    assert "kcc: .text overflows region 'flash' of board 'stm32l5'" in result.stderr


def test_sram_overflow_is_a_link_error(tmp_path: Path) -> None:
    board = _variant(tmp_path, ("length = 0x0004_0000", "length = 0x0000_1000"))
    result = run_kcc("build", "--arch", "armv8m", "--board", str(board), "-o", str(tmp_path / "build"))
    assert result.returncode == 1
    assert "overflows region 'sram' of board 'stm32l5'" in result.stderr


def test_misaligned_vector_table_is_a_link_error(tmp_path: Path) -> None:
    board = _variant(tmp_path, ("origin = 0x0800_0000", "origin = 0x0800_0100"),
                     ("load_address = 0x0800_0000", "load_address = 0x0800_0100"))
    result = run_kcc("build", "--arch", "armv8m", "--board", str(board), "-o", str(tmp_path / "build"))
    assert result.returncode == 1
    assert "is not aligned to 512 bytes as VTOR needs" in result.stderr


# --- lib/int64: 64-bit division for 32-bit targets --------------------------------------------------

U64 = st.integers(0, 2**64 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)


@given(U64, U64.filter(bool))
def test_udiv64_is_python_floor_division(n: int, d: int) -> None:
    assert kcc.load_python(INT64).udiv64(n, d) == n // d


@given(I64, I64.filter(bool))
def test_sdiv64_truncates_toward_zero(n: int, d: int) -> None:
    q = abs(n) // abs(d) * (1 if (n < 0) == (d < 0) else -1)
    if q == 2**63:  # INT64_MIN / -1 wraps, as the machine instruction does
        q = -(2**63)
    assert kcc.load_python(INT64).sdiv64(n, d) == q


@pytest.mark.parametrize(("n", "d"), [(2**64 - 1, 1), (2**64 - 1, 2**63), (2**63, 2**63 + 1), (5, 2**32 + 1),
                                      (2**40 + 7, 3), (0, 9), (2**32, 2**32), (2**64 - 1, 2**32 - 1)])
def test_udiv64_edges(n: int, d: int) -> None:
    assert kcc.load_python(INT64).udiv64(n, d) == n // d


def test_divide_by_zero_panics() -> None:
    with pytest.raises(Panic):
        kcc.load_python(INT64).udiv64(1, 0)
