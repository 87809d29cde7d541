"""One object per source module: kcc.lower.lower_units and the object cache of kcc.codegen.

tests/fixtures/units: app.py calls helper.add (a plain function), helper.fast (@inline) and
reads helper.counter (a global); helper.unused is called by nobody.
"""

from __future__ import annotations

import ctypes
import re
import shutil
from pathlib import Path

# isort: split
import kcc  # noqa: F401  (before llvmlite: it selects llvmlite's opaque-pointer IR layer)

# isort: split
import pytest

from kcc import codegen
from kcc.compiler import BuildOptions, compile_units
from kcc.diagnostics import CompileError
from kcc.targets import get_target
from kcc.toolchain import link_shared

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "units"
RISCV64 = get_target("riscv64")


def unit_texts(root: Path, target: str = "riscv64") -> dict[str, str]:
    """The IR text of each unit of app.py under ``root``."""
    units = compile_units(root, "app", BuildOptions(get_target(target), checked=False))
    return {name: str(module) for name, module in units.items()}


def definition(ir_text: str, symbol: str) -> str:
    """The ``define`` line of ``symbol``; fails when the unit does not define it."""
    m = re.search(rf'^define [^\n]*@"{re.escape(symbol)}"\(', ir_text, re.MULTILINE)
    assert m, f"{symbol} is not defined"
    return m.group(0)


def test_each_module_is_a_unit_with_what_others_use_made_external() -> None:
    units = unit_texts(FIXTURES)
    assert list(units) == ["app", "helper"]
    helper, app = units["helper"], units["app"]
    assert "internal" not in definition(helper, "helper.add")  # app calls it
    assert "internal" in definition(helper, "helper.unused")  # nobody else does: the optimiser may drop it
    assert re.search(r'^@"helper\.counter" = global i32 5', helper, re.MULTILINE)
    assert re.search(r'^declare [^\n]*@"helper\.add"\(', app, re.MULTILINE)
    assert re.search(r'^@"helper\.counter" = external global i32', app, re.MULTILINE)
    # @inline: a private copy in each unit that calls it, so it still inlines.
    assert "internal" in definition(app, "helper.fast")


def test_units_link_and_run_on_the_host(tmp_path: Path) -> None:
    host = get_target("host")
    result = codegen.compile_units(unit_texts(FIXTURES, "host"), host, 2, tmp_path / "obj")
    lib = ctypes.CDLL(str(link_shared(result.objects, tmp_path / "app.so", host)))
    run = lib["app_run"]
    run.argtypes, run.restype = [ctypes.c_uint32], ctypes.c_uint32
    assert run(10) == 10 + 30 + 6 + 6


def test_objects_are_reused_until_their_ir_changes(tmp_path: Path) -> None:
    root = tmp_path / "src"
    shutil.copytree(FIXTURES, root)
    cache = tmp_path / "obj"
    first = codegen.compile_units(unit_texts(root), RISCV64, 1, cache, jobs=2)
    assert first.compiled == 2 and all(p.is_file() and p.with_suffix(".ll").is_file() for p in first.objects)
    again = codegen.compile_units(unit_texts(root), RISCV64, 1, cache, jobs=2)
    assert again.compiled == 0 and again.objects == first.objects
    # Another level is another object; the first ones stay for when the level comes back.
    assert codegen.compile_units(unit_texts(root), RISCV64, 2, cache).compiled == 2
    app = root / "app.py"
    app.write_text(app.read_text().replace("+ helper.counter", "- helper.counter"))
    changed = codegen.compile_units(unit_texts(root), RISCV64, 1, cache)
    assert changed.compiled == 1
    assert changed.objects[1] == first.objects[1] and changed.objects[0] != first.objects[0]


def test_units_added_one_at_a_time(tmp_path: Path) -> None:
    """kcc.codegen.ObjectCompiler: each unit starts as it is added; the same text again is not compiled again."""
    texts = unit_texts(FIXTURES)
    cache = tmp_path / "obj"
    with codegen.ObjectCompiler(RISCV64, 1, cache, jobs=2) as compiler:
        paths = [compiler.add(name, text) for name, text in texts.items()]
        assert [compiler.add(name, text) for name, text in texts.items()] == paths
        result = compiler.finish()
    assert result.compiled == 2 and result.objects == paths and all(p.is_file() for p in paths)
    assert codegen.compile_units(texts, RISCV64, 1, cache).objects == paths
    with codegen.ObjectCompiler(RISCV64, 1, cache) as compiler:
        compiler.add("app", texts["app"])
        assert compiler.finish().compiled == 0


def test_old_objects_are_pruned(tmp_path: Path) -> None:
    root = tmp_path / "src"
    shutil.copytree(FIXTURES, root)
    cache = tmp_path / "obj"
    app = root / "app.py"
    for k in range(codegen.KEEP_PER_UNIT + 2):
        app.write_text(app.read_text().replace(f"helper.fast(x) + {k})", f"helper.fast(x) + {k + 1})")
                       if k else app.read_text().replace("helper.fast(x))", "helper.fast(x) + 1)"))
        codegen.compile_units(unit_texts(root), RISCV64, 1, cache)
    assert len(list(cache.glob("app.*.o"))) == codegen.KEEP_PER_UNIT
    assert len(list(cache.glob("app.*.ll"))) == codegen.KEEP_PER_UNIT
    assert len(list(cache.glob("helper.*.o"))) == 1


def test_a_symbol_defined_in_two_units_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "src")
    helper = tmp_path / "src" / "helper.py"
    helper.write_text(helper.read_text() + '\n\n@export("app_run")\ndef other(x: u32) -> u32:\n    return x\n')
    with pytest.raises(CompileError, match="symbol 'app_run' is defined twice"):
        unit_texts(tmp_path / "src")
