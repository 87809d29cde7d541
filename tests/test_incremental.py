"""kcc.incremental: the units it reuses or lowers again are byte for byte what a fresh compile gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcc.compiler import BuildOptions, compile_units
from kcc.diagnostics import CompileError
from kcc.incremental import compile_units as incremental_units
from kcc.targets import get_target

SOURCES = {
    "main.py": '''from kcc.lang import *

from lib import shapes
from lib.shapes import Box


@export("kmain")
def kmain(a: u32) -> u32:
    b: Box
    b.w = a
    return shapes.area(addr(b)) + shapes.twice(a) + shapes.LIMIT
''',
    "lib/__init__.py": "",
    "lib/shapes.py": '''from kcc.lang import *

from lib import util

LIMIT: Final = 7


@struct
class Box:
    w: u32
    h: u32


@inline
def twice(x: u32) -> u32:
    return x + x


def area(b: Ptr[Box]) -> u32:
    return b.w * b.h + util.helper(b.w)
''',
    "lib/util.py": '''from kcc.lang import *


def helper(x: u32) -> u32:
    return x ^ 3


def unused(x: u32) -> u32:
    return x
''',
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small source root: main imports lib.shapes, which imports lib.util."""
    for name, text in SOURCES.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "src"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _same_as_fresh(root: Path, cache: Path, checked: bool = True) -> int:
    """Compile incrementally and afresh; assert the units agree; return how many were lowered."""
    options = BuildOptions(get_target("riscv64"), checked=checked)
    emitted: list[tuple[str, str]] = []
    result = incremental_units(root, "main", options, cache, "test-compiler",
                               emit=lambda unit, text: emitted.append((unit, text)))
    assert emitted == list(result.units.items())  # every unit handed over, reused or lowered, in order
    fresh = {name: str(module) for name, module in compile_units(root, "main", options).items()}
    assert list(result.units) == list(fresh)
    for name, text in fresh.items():
        assert result.units[name] == text, name
    return result.lowered


def test_edits_relower_only_the_units_they_can_change(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fe"
    assert _same_as_fresh(root, cache) == 3
    assert _same_as_fresh(root, cache) == 0
    # A function nobody names, and a body that is not @inline: only the edited unit.
    (root / "lib/util.py").write_text((root / "lib/util.py").read_text() + "\n\ndef added() -> u32:\n    return 1\n")
    assert _same_as_fresh(root, cache) == 1
    _edit(root / "lib/util.py", "return x ^ 3", "return x ^ 5")
    assert _same_as_fresh(root, cache) == 1
    # An @inline body is copied into its callers; a struct's layout and a constant are seen by users.
    _edit(root / "lib/shapes.py", "return x + x", "return x + x + 1")
    assert _same_as_fresh(root, cache) == 2
    _edit(root / "lib/shapes.py", "    h: u32\n", "    h: u32\n    d: u64\n")
    assert _same_as_fresh(root, cache) == 2
    _edit(root / "lib/shapes.py", "LIMIT: Final = 7", "LIMIT: Final = 9")
    assert _same_as_fresh(root, cache) == 2
    # A signature: its callers change too.
    _edit(root / "lib/util.py", "def helper(x: u32) -> u32:", "def helper(x: u32, y: u32 = 2) -> u32:")
    assert _same_as_fresh(root, cache) == 2


def test_a_definition_another_unit_starts_using_is_exported(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fe"
    _same_as_fresh(root, cache)
    # util.unused was internal; main now calls it, so util's unit is lowered again with it external.
    _edit(root / "main.py", "from lib import shapes\n", "from lib import shapes, util\n")
    _edit(root / "main.py", "+ shapes.LIMIT", "+ shapes.LIMIT + util.unused(a)")
    _same_as_fresh(root, cache)
    _edit(root / "main.py", "+ util.unused(a)", "")
    _same_as_fresh(root, cache)


def test_release_and_checked_units_are_kept_apart(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fe"
    _same_as_fresh(root, cache, checked=True)
    assert _same_as_fresh(root, cache, checked=False) == 3
    assert _same_as_fresh(root, cache, checked=True) == 0


def test_errors_are_reported_and_nothing_stale_is_reused(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fe"
    _same_as_fresh(root, cache)
    _edit(root / "lib/util.py", "return x ^ 3", "return x ^ y")
    options = BuildOptions(get_target("riscv64"))
    with pytest.raises(CompileError, match="y"):
        incremental_units(root, "main", options, cache, "test-compiler")
    _edit(root / "lib/util.py", "return x ^ y", "return x ^ 4")
    assert _same_as_fresh(root, cache) == 1
