"""The optimisation stage: parse and verify the lowered LLVM IR, then run LLVM's -O0..-O3 pipeline."""

from __future__ import annotations

import llvmlite.binding as llvm

from kcc.targets.base import Target


class InternalCompilerError(Exception):
    """A bug in kcc itself (the lowering produced IR that LLVM rejects); the CLI reports it as exit 2."""


def _summary(exc: Exception) -> str:
    """The informative line of an LLVM error: the ``<string>:line:col: error: ...`` line when present."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln:
            return ln
    return lines[0] if lines else "no message"


def parse_ir(ir_text: str, target: Target) -> llvm.ModuleRef:
    """Parse textual LLVM IR and run the verifier; set the target's triple and data layout.

    Raises:
        InternalCompilerError: when the IR does not parse or fails verification.
    """
    try:
        mod = llvm.parse_assembly(ir_text)
        mod.verify()
    except RuntimeError as exc:
        raise InternalCompilerError(f"LLVM rejected the generated IR: {_summary(exc)}") from exc
    mod.triple = target.triple
    mod.data_layout = target.data_layout
    return mod


def optimize(ir_text: str, target: Target, level: int) -> llvm.ModuleRef:
    """Return the verified, optimised module for ``ir_text``.

    Runs LLVM's default new-pass-manager pipeline for ``-O<level>`` (the same
    pipelines clang uses: PassBuilder with PipelineTuningOptions at
    speed_level = level), tuned by the target machine, then verifies again.
    Volatile loads and stores survive every level (LLVM LangRef, "Volatile
    Memory Accesses").

    Args:
        ir_text: the lowered module as LLVM IR text.
        target: the target whose machine tunes the passes.
        level: 0..3.

    Raises:
        ValueError: when ``level`` is outside 0..3.
        InternalCompilerError: when the IR fails to parse or verify, before or after the passes.
    """
    if level not in (0, 1, 2, 3):
        raise ValueError(f"optimisation level must be 0..3, not {level}")
    mod = parse_ir(ir_text, target)
    tm = target.target_machine(level)
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pb = llvm.create_pass_builder(tm, pto)
    pm = pb.getModulePassManager()
    pm.run(mod, pb)
    try:
        mod.verify()
    except RuntimeError as exc:
        raise InternalCompilerError(f"LLVM verifier failed after -O{level}: {_summary(exc)}") from exc
    return mod
