"""One struct layout (kcc.types.layout) for the compiler on every target and for kcc.lang.sizeof under CPython."""

from pathlib import Path

import pytest

from kcc import lang, load_python
from kcc.resolve import resolve_program
from kcc.targets import get_target

SOURCE = """from kcc.lang import *

@struct
class Rec:
    tag: u8
    wide: u64
    next: Ptr[Rec]
    run: Callable[[u32], None]

@struct(packed=True)
class Wire:
    kind: u8
    length: u32

def sizes() -> u32:
    return u32(sizeof(Rec) * 100 + sizeof(Wire))
"""
# (sizeof(Rec), sizeof(Wire)): i586 aligns u64 to 4 bytes (i386 System V ABI), the others to 8.
EXPECTED = {"riscv64": (32, 5), "host": (32, 5), "armv8m": (24, 5), "i586": (20, 5)}


@pytest.mark.parametrize("arch", list(EXPECTED))
def test_the_compiler_lays_structs_out_by_the_target_abi(tmp_path: Path, arch: str) -> None:
    (tmp_path / "m.py").write_text(SOURCE, encoding="utf-8")
    prog = resolve_program(tmp_path, "m", get_target(arch), {})
    structs = {s.type.name.rsplit(".", 1)[1]: s.type for s in prog.modules["m"].structs}
    assert (prog.sizeof(structs["Rec"]), prog.sizeof(structs["Wire"])) == EXPECTED[arch]


def test_kcc_lang_sizeof_agrees_with_the_host_build(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE, encoding="utf-8")
    mod = load_python(tmp_path / "m.py")
    assert (lang.sizeof(mod.Rec), lang.sizeof(mod.Wire)) == EXPECTED["host"]
    assert mod.sizes() == 100 * EXPECTED["host"][0] + EXPECTED["host"][1]
