"""The portable core names no architecture, register or address (design of record, principle 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "kernel_src" / "core"
ARCH_NAMES = ("riscv64", "armv8m", "i586", "x86", "arm", "riscv")
# kcc.lang built-ins that touch the machine directly: only arch/ and lib/ drivers may call them.
MACHINE_BUILTINS = {"asm", "mmio", "volatile_load", "volatile_store"}
# The link-script symbols every architecture's template defines (linker/*.ld.j2): the core may read those.
PORTABLE_SYMBOLS = {"__text_start", "__text_end", "__rodata_start", "__rodata_end", "__data_start",
                    "__data_end", "__bss_start", "__bss_end", "__stack_bottom", "__stack_top", "_end"}
CORE_FILES = sorted(CORE.glob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_is_portable(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in MACHINE_BUILTINS, f"{path.name}:{node.lineno} calls {node.func.id}"
            if node.func.id == "extern_symbol":
                assert node.args[0].value in PORTABLE_SYMBOLS, f"{path.name}:{node.lineno}"
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            assert not (parts[0] == "arch" and len(parts) > 1 and parts[1] in ARCH_NAMES), \
                f"{path.name}:{node.lineno} imports a specific architecture"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not any(a in alias.name.split(".") for a in ARCH_NAMES), alias.name
        if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value in ARCH_NAMES
                                                 for c in node.comparators):
            pytest.fail(f"{path.name}:{node.lineno} tests TARGET against an architecture")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = node.value.replace(":", " ").replace("(", " ").split()
            assert not any(w in ARCH_NAMES for w in words), f"{path.name}:{node.lineno} names an architecture"


def test_there_is_a_core() -> None:
    assert len(CORE_FILES) >= 3


# The kernels' templates; linker/user-<arch>.ld.j2 links user programs, which have no stack of their own.
@pytest.mark.parametrize("template", sorted(p for p in (CORE.parent.parent / "linker").glob("*.ld.j2")
                                            if not p.name.startswith("user-")), ids=lambda p: p.name)
def test_every_link_script_defines_the_portable_symbols(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    for symbol in PORTABLE_SYMBOLS:
        assert f"{symbol} =" in text or f"{symbol}=" in text, f"{template.name} lacks {symbol}"
