"""Fuzzing the front end with mutated sources: a short make fuzz-kcc campaign, its classification, and regressions.

language.md, "Diagnostics": no input, however malformed, gives a bare traceback. tests/fuzzkcc.py
(make fuzz-kcc) mutates the kernel's sources, the fuzz fixtures and the language cases with the
operations of tests/mutators.py and holds every result to success or a located diagnostic. Here:
a few hundred of its inputs (make check's share of the campaign), that the driver tells crashes,
hangs, internal and unlocated errors apart and records them for --replay, that `kcc check` on its
mutants prints no traceback, the mutations themselves, and the minimal programs distilled from
what fuzzing found.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import time
from pathlib import Path

import fuzzkcc
import mutators
import pytest
from click.testing import CliRunner

from kcc.cli import cli
from kcc.compiler import BuildOptions, compile_program, compile_units
from kcc.diagnostics import CompileError
from kcc.optimize import parse_ir
from kcc.targets import get_target


def test_a_short_campaign_finds_no_internal_error_crash_or_hang(tmp_path: Path) -> None:
    """make check's share of make fuzz-kcc: 300 inputs of seed 1 on two workers, within a minute."""
    started = time.monotonic()
    counts = fuzzkcc.campaign(300, 1, 2, tmp_path, quiet=True)
    assert fuzzkcc.summary(300, counts) == "fuzz-kcc: 300 inputs, 0 internal errors, 0 crashes, 0 hangs", \
        [p.read_text() for p in tmp_path.glob("*.json")]
    assert counts["ok"] > 30 and counts["diagnostic"] > 100   # mutants reach every stage, and fail too
    assert time.monotonic() - started < 120


def test_inputs_are_the_same_on_every_run() -> None:
    seeds = fuzzkcc.corpus()
    originals = {s: (fuzzkcc.ROOTS[s.root] / s.path).read_text(encoding="utf-8") for s in seeds}
    weights = fuzzkcc.seed_weights(seeds)
    first = [fuzzkcc.make_job(seeds, weights, originals, 5, i) for i in range(40)]
    again = [fuzzkcc.make_job(seeds, weights, originals, 5, i) for i in range(40)]
    assert first == again
    assert len({job.data for job in first}) == 40
    assert {j.target for j in first} >= {"riscv64", "i586"} and any(j.how.startswith("tree") for j in first)
    assert [fuzzkcc.make_job(seeds, weights, originals, 5, i).build for i in (98, 99, 199, 299)] == \
        [False, True, True, True]
    assert [fuzzkcc.make_job(seeds, weights, originals, 5, i).target for i in (99, 199, 299)] == \
        ["riscv64", "armv8m", "i586"]


def _misbehaving(job: fuzzkcc.Job, roots: dict, scratch: Path) -> tuple[str, str]:
    """A run_job stand-in (inherited by the forked workers) that fails each way on chosen inputs."""
    if job.index == 3:
        faulthandler.disable()      # pytest's handler would print the worker's stack
        os.kill(os.getpid(), signal.SIGABRT)
    if job.index == 5:
        time.sleep(60)
    if job.index == 7:
        return "internal", "Traceback ...\nRecursionError: maximum recursion depth exceeded"
    if job.index == 9:
        return "unlocated", "kcc: error: somewhere"
    return "diagnostic", "m.py:1:1: error: fine"


def test_crashes_hangs_and_internal_errors_are_told_apart_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(fuzzkcc, "run_job", _misbehaving)
    monkeypatch.setattr(fuzzkcc, "CHECK_SECONDS", 3.0)
    counts = fuzzkcc.campaign(12, 4, 2, tmp_path, quiet=True)
    assert {k: counts[k] for k in ("diagnostic", "internal", "unlocated", "crash", "hang")} == \
        {"diagnostic": 8, "internal": 1, "unlocated": 1, "crash": 1, "hang": 1}
    assert fuzzkcc.summary(12, counts) == "fuzz-kcc: 12 inputs, 2 internal errors, 1 crashes, 1 hangs"
    records = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert set(records) == {"crash-4-3", "hang-4-5", "internal-4-7", "unlocated-4-9"}
    assert records["crash-4-3"]["detail"] == "worker died: SIGABRT"
    assert (tmp_path / "internal-4-7.py").read_bytes() == fuzzkcc.Campaign(
        4, *_plan_parts()).job(7).data
    monkeypatch.undo()
    assert fuzzkcc.replay(tmp_path / "internal-4-7.json") in (0, 1)   # the real compiler runs it again
    assert "input 7 of seed 4" in capsys.readouterr().out


def _plan_parts() -> tuple[list, list, dict]:
    seeds = fuzzkcc.corpus()
    return seeds, fuzzkcc.seed_weights(seeds), {s: (fuzzkcc.ROOTS[s.root] / s.path).read_text(encoding="utf-8")
                                                for s in seeds}


def test_kcc_check_on_mutants_never_prints_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line on a few fixture mutants: exit status 0 or 1, diagnostics, no traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "core").mkdir()
    seeds, _weights, originals = _plan_parts()
    fixtures = [s for s in seeds if s.root == "fixtures" and "/" not in s.path]
    for index in range(12):
        job = fuzzkcc.make_job(fixtures, [1.0] * len(fixtures), originals, 9, index)
        (tmp_path / "core" / "m.py").write_bytes(job.data)
        result = CliRunner().invoke(cli, ["check", "--arch", job.target, "core/m.py"])
        assert "Traceback" not in result.output and "internal error" not in result.output, result.output
        assert result.exit_code in (0, 1), result.output
        assert ("error:" in result.output) if result.exit_code else ("no errors" in result.output)


# ----- the mutations -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("op", "before", "after"), [
    (("insert", 0, "+"), "a = b", " + a = b"),
    (("delete", 2, 3), "a = b + c", "a  + c"),
    (("duplicate", 1, 0), "x\ny\nz", "x\ny\ny\nz"),
    (("swap", 0, 2), "x\ny\nz", "z\ny\nx"),
    (("number", 1, 256), "a = 1 + 0x10", "a = 1 + 256"),
    (("rename", 0, "NULL"), "p = q", "NULL = q"),
    (("break-name", 0, 3), "count = 1", "cout = 1"),
    (("break-name", 0, 4), "count = 1", "countt = 1"),
    (("deep", 1, ("unary", 3)), "a = b", "a = (- - - b)"),
    (("bytes", 1, "\udcff"), "a = b", "a\udcff = b"),
])
def test_text_mutations_do_what_they_say(op: tuple, before: str, after: str) -> None:
    assert mutators.mutate_text(before, op) == after


def test_tree_mutations_keep_the_text_parseable() -> None:
    assert mutators.tree_mutant("x = a + b\n", [("deepen", 1, ("USub", 3))]) == "x = ---(a + b)"
    assert mutators.tree_mutant("def f():\n    a = 1\n    b = 2\n", [("swap-statements", 1, 1)]) == \
        "def f():\n    b = 2\n    a = 1"
    assert mutators.tree_mutant("x = (", [("name", 0, "y")]) is None
    assert mutators.encode_mutant("a\udcffb\u00e9") == b"a\xffb\xc3\xa9"


# ----- regressions: minimal programs distilled from what fuzzing found ---------------------------------

REGRESSIONS = [
    pytest.param("X: Final = 1 << (1 << 63)\n", "error", id="huge-constant-shift"),
    pytest.param("def f() -> u8:\n    return 1 << 20000\n", "error", id="constant-of-thousands-of-digits"),
    pytest.param("def f(a: u32, c: bool) -> u32:\n    return a << (1 if c else 2)\n", "ok",
                 id="shift-by-conditional-literals"),
    *[pytest.param(f"def f(x: u32) -> bool:\n    {body}\n", "ok",
                   id=f"conditional-literals-{name}")
      for name, body in [("compared", "return (0 if x == 0 else 1) == 0"),
                         ("as-condition", "return True if (0 if x == 0 else 1) else False"),
                         ("negated", "return not (2 if x == 0 else 1)")]],
    pytest.param("def f(c: bool) -> u8:\n    return u8(1 if c else 2)\n", "ok",
                 id="conversion-of-conditional-literals"),
    pytest.param("def f() -> u64:\n    return u64(3) << 5000\n", "ok",
                 id="typed-constant-shifted-far"),
    pytest.param("@struct\nclass S:\n    a: S\n\n\ns: S\n", "error",
                 id="global-of-recursive-struct"),
    pytest.param("def f() -> u8:\n    a: Array[u8, 1 << 64]\n    return a[0]\n", "error",
                 id="array-larger-than-memory"),
    pytest.param("g: Array[u8, 1 << 64]\n", "error",
                 id="global-array-larger-than-memory"),
]


@pytest.mark.parametrize("arch", ["host", "riscv64", "i586"])
def test_a_negative_final_constant_gives_ir_llvm_reads(tmp_path: Path, arch: str) -> None:
    """Its debug-info value (DW_OP_consts) is written as the unsigned 64-bit operand LLVM's IR parser wants."""
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\nLOW: Final = -1\nTINY: Final[i8] = -128\n"
                                   "\n\ndef f() -> i64:\n    return LOW + i64(TINY)\n", encoding="utf-8")
    target = get_target(arch)
    for unit in compile_units(tmp_path, "m", BuildOptions(target)).values():
        parse_ir(str(unit), target)


@pytest.mark.parametrize(("body", "outcome"), REGRESSIONS)
def test_fuzzing_regressions(tmp_path: Path, body: str, outcome: str) -> None:
    (tmp_path / "m.py").write_text("from kcc.lang import *\n\n" + body, encoding="utf-8")
    try:
        compile_program(tmp_path, "m", BuildOptions(get_target("host")))
    except CompileError as exc:
        assert outcome == "error"
        assert fuzzkcc._judge(exc)[0] == "diagnostic"
        return
    assert outcome == "ok"
