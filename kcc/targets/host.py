"""The host target: the machine kcc runs on, for kcc.load_host and tests."""

import llvmlite.binding as llvm

from kcc.targets.base import Target, init_llvm


def _host() -> Target:
    init_llvm()
    triple = llvm.get_process_triple()
    bits = 64 if triple.startswith(("x86_64", "aarch64", "riscv64", "powerpc64", "s390x")) else 32
    return Target(
        name="host",
        triple=triple,
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
        pointer_bits=bits,
        clang_args=("-fPIC",),
        llvmlite_asm_parser=True,
        reloc="pic",
        freestanding=False,
    )


TARGET = _host()
