"""The object emission stage: optimised LLVM module -> relocatable object for the target."""

from __future__ import annotations

import re
from pathlib import Path

import llvmlite.binding as llvm

from kcc import toolchain
from kcc.targets.base import Target

# Inline asm appears in IR as a call through ``asm [sideeffect] [alignstack] [inteldialect] "..."``
# or as module-level ``module asm "..."`` (LLVM LangRef, "Inline Assembler Expressions").
_INLINE_ASM = re.compile(r'^module asm "|\basm (?:sideeffect |alignstack |inteldialect |unwind )*"', re.MULTILINE)


def has_inline_asm(ir_text: str) -> bool:
    """True when the IR text holds an inline-asm call or module-level asm."""
    return _INLINE_ASM.search(ir_text) is not None


def _clang_for_asm(target: Target) -> bool:
    """True when a module with inline asm for ``target`` goes through clang though llvmlite could emit it.

    LLVM reports a bad asm instruction through its context's default handler, which prints the
    error and exits the process (LLVMContext::diagnose), so llvmlite's emitter would end kcc with
    no kcc diagnostic; clang reports it as output kcc.backdiag locates. The host target keeps
    llvmlite's emitter (kcc.load_host's code, built for the machine kcc runs on).
    """
    return target.name != "host" and toolchain.reads_llvmlite_ir()


def emit_object(mod: llvm.ModuleRef, target: Target, path: Path, opt: int) -> Path:
    """Write ``mod`` as an object file at ``path`` and its IR text next to it (``path`` with ``.ll``).

    llvmlite's own code generator emits the object, except when the module
    holds inline asm and the target's LLVM in llvmlite has no assembly parser
    (``Target.llvmlite_asm_parser`` False: the PyPI llvmlite lacks the RISC-V
    and Arm MC asm parsers, so its emitter rejects inline asm there), or when a
    clang that reads the IR is there (_clang_for_asm). Then the written ``.ll``
    goes through clang (kcc.toolchain.compile_ir), whose LLVM has every asm
    parser, so the asm stays inline and its errors are located.

    Args:
        mod: the verified, optimised module (kcc.optimize.optimize).
        target: the target to emit for.
        path: the object file to write.
        opt: code generation level 0..3.

    Raises:
        kcc.diagnostics.CompileError: the inline asm does not assemble (located at its asm() calls).
        kcc.toolchain.ToolchainError: when the clang path is needed and fails or is missing.
    """
    ir_text = str(mod)
    path.parent.mkdir(parents=True, exist_ok=True)
    ll_path = path.with_suffix(".ll")
    ll_path.write_text(ir_text, encoding="utf-8")
    if has_inline_asm(ir_text) and (not target.llvmlite_asm_parser or _clang_for_asm(target)):
        return toolchain.compile_ir(ll_path, path, target, opt)
    path.write_bytes(target.target_machine(opt).emit_object(mod))
    return path
