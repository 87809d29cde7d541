"""The front end on every core (kcc.lowerpool): the same IR text and the same diagnostics as one process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kcc import lowerpool
from kcc.compiler import BuildOptions, compile_units
from kcc.diagnostics import CompileError
from kcc.resolve import resolve_program
from kcc.targets import get_target

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import write_program

TARGET = get_target("riscv64")


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's generated program: 6 modules of 30 functions (above MIN_PARALLEL_LINES)."""
    root = tmp_path_factory.mktemp("gen")
    write_program(root, 6, 30)
    return root


def copy_program(program: Path, root: Path) -> Path:
    """A copy of ``program``'s sources in the new directory ``root``, to be edited."""
    root.mkdir()
    for source in program.iterdir():
        (root / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def diagnostics(root: Path, jobs: int) -> str:
    with pytest.raises(CompileError) as failure:
        compile_units(root, "main", BuildOptions(TARGET), jobs=jobs)
    return str(failure.value)


def test_the_program_is_big_enough_to_go_to_workers(program: Path) -> None:
    prog = resolve_program(program, "main", TARGET, {})
    assert sum(lowerpool.body_lines(mod) for mod in prog.modules.values()) >= lowerpool.MIN_PARALLEL_LINES


@pytest.mark.parametrize("checked", [True, False])
def test_workers_give_the_serial_text(program: Path, checked: bool) -> None:
    serial = compile_units(program, "main", BuildOptions(TARGET, checked=checked), jobs=1)
    assert compile_units(program, "main", BuildOptions(TARGET, checked=checked), jobs=2) == serial
    assert compile_units(program, "main", BuildOptions(TARGET, checked=checked), jobs=3) == serial


def test_type_errors_in_several_workers_are_reported_in_order(program: Path, tmp_path: Path) -> None:
    root = copy_program(program, tmp_path / "bad")
    (root / "m1.py").write_text((root / "m1.py").read_text().replace("acc: u32 = a ^ 8", "acc: u32 = a ^ q"))
    (root / "m4.py").write_text((root / "m4.py").read_text().replace("acc: u32 = a ^ 11", "acc: u8 = a ^ 11"))
    serial = diagnostics(root, 1)
    assert "m1.py" in serial and "m4.py" in serial
    assert diagnostics(root, 2) == serial


def test_a_symbol_defined_in_two_workers_units_is_reported(program: Path, tmp_path: Path) -> None:
    root = copy_program(program, tmp_path / "twice")
    (root / "m5.py").write_text((root / "m5.py").read_text().replace('@export("m5_f3")', '@export("m0_f3")'))
    assert "symbol 'm0_f3' is defined twice" in diagnostics(root, 2)
    assert diagnostics(root, 2) == diagnostics(root, 1)


def test_shares_balance_lines_and_keep_program_order(program: Path) -> None:
    prog = resolve_program(program, "main", TARGET, {})
    units = [mod for mod in prog.modules.values() if mod.functions]
    parts = lowerpool.shares(units, 2)
    assert sorted(m.name for part in parts for m in part) == sorted(m.name for m in units)
    weights = [sum(lowerpool.body_lines(m) for m in part) for part in parts]
    assert max(weights) - min(weights) <= max(lowerpool.body_lines(m) for m in units)
    order = [m.name for m in units]
    for part in parts:
        assert [m.name for m in part] == sorted((m.name for m in part), key=order.index)
