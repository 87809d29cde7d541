"""Generated programs for make benchmark: the same functions written in the kcc language and in C.

``write_program(dir, modules, functions)`` writes ``modules`` kcc modules (``m0.py`` ...) of
``functions`` functions each, loops and arithmetic with a call to the previous function of the
module, an entry module ``main.py`` importing them, and the same functions in C (``m0.c`` ...),
so that kcc and clang compile the same code.
"""

from __future__ import annotations

from pathlib import Path

# One function in the two languages; {m} module, {i} function index, {prev} the callee (or None).
KCC_FUNCTION = '''
@export("m{m}_f{i}")
def f{i}(a: u32, b: u32, n: u32) -> u32:
    acc: u32 = a ^ {k}
    i: u32 = 0
    while i < n:
        acc = (acc * 31 + b) ^ (acc >> 3)
        if acc & 1 == 1:
            acc += i * {k}
        else:
            acc -= b >> 2
        i += 1
    t: u32 = (acc << 5) | (acc >> 27)
    return {tail}
'''

C_FUNCTION = '''
uint32_t m{m}_f{i}(uint32_t a, uint32_t b, uint32_t n) {{
    uint32_t acc = a ^ {k};
    uint32_t i = 0;
    while (i < n) {{
        acc = (acc * 31 + b) ^ (acc >> 3);
        if ((acc & 1) == 1)
            acc += i * {k};
        else
            acc -= b >> 2;
        i += 1;
    }}
    uint32_t t = (acc << 5) | (acc >> 27);
    return {tail};
}}
'''


def write_program(directory: Path, modules: int, functions: int) -> tuple[list[Path], list[Path]]:
    """Write the kcc and C versions under ``directory``; return (kcc files, C files).

    The kcc entry module is ``main`` (it imports every ``m<k>``); the C files are independent
    translation units of the same functions.
    """
    directory.mkdir(parents=True, exist_ok=True)
    kcc_files, c_files = [], []
    for m in range(modules):
        kcc_text = ["from kcc.lang import *\n"]
        c_text = ["#include <stdint.h>\n"]
        for i in range(functions):
            k = 7 + 13 * i + m
            kcc_tail = f"t + f{i - 1}(acc, b, n & 7)" if i else "t"
            c_tail = f"t + m{m}_f{i - 1}(acc, b, n & 7)" if i else "t"
            kcc_text.append(KCC_FUNCTION.format(m=m, i=i, k=k, tail=kcc_tail))
            c_text.append(C_FUNCTION.format(m=m, i=i, k=k, tail=c_tail))
        kcc_files.append(directory / f"m{m}.py")
        kcc_files[-1].write_text("\n".join(kcc_text), encoding="utf-8")
        c_files.append(directory / f"m{m}.c")
        c_files[-1].write_text("\n".join(c_text), encoding="utf-8")
    main = directory / "main.py"
    main.write_text("".join(f"import m{m}  # noqa: F401\n" for m in range(modules)), encoding="utf-8")
    return [main, *kcc_files], c_files
