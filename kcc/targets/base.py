"""The target layer's interface: what a compiler stage may ask of an architecture."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import llvmlite.binding as llvm

_initialised = False


def init_llvm() -> None:
    """Initialise every LLVM target, target info and asm printer once per process.

    Also the host's ("native") assembly parser, the only one llvmlite's binding
    can initialise (there is no initialize_all_asmparsers): without it the object
    emitter rejects inline asm even for the host's own architecture. On an x86
    host it is the X86 parser, which serves the i586 target too.
    """
    global _initialised
    import llvmlite.binding as llvm  # here, not at the top: a build with nothing to do never needs LLVM

    if not _initialised:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        llvm.initialize_native_asmparser()
        _initialised = True


@dataclass(frozen=True)
class Target:
    """One architecture kcc can compile for.

    Attributes:
        name: the language's ``TARGET`` value ("riscv64", "armv8m", "i586", "host").
        triple: the LLVM target triple.
        cpu: the LLVM CPU name ("" for the generic CPU).
        features: the LLVM feature string, e.g. "+m,+a,+c".
        pointer_bits: width of ``usize``/``isize`` and of pointers, in bits.
        clang_args: arguments that make clang (``zig cc``) produce the same
            code as ``triple``/``cpu``/``features``; used by the assembler pass
            for modules with inline ``asm`` on targets whose LLVM in llvmlite
            has no assembly parser (docs/architecture.md, "emit — `kcc/emit.py`").
        llvmlite_asm_parser: True when llvmlite can emit objects from IR that
            holds inline asm for this target (x86 and the host), False on
            RISC-V and Arm.
        interrupt_attrs: LLVM function attributes that give ``@interrupt`` the
            target's handler convention, as (key, value) string pairs.
        interrupt_cc: the LLVM calling convention of ``@interrupt`` handlers where the
            target has one instead of an attribute ("x86_intrcc" on i586), else "".
        elf_machine: the ``e_machine`` name pyelftools reports ("EM_RISCV", ...).
        link_emulation: the ld.lld ``-m`` emulation, "" for the host.
        code_model: LLVM code model ("default", "small", "medium", ...).
        reloc: LLVM relocation model ("static" or "pic").
        freestanding: False only for the host, whose code runs under an operating system: its
            functions stay global (kcc.load_host finds them) and LLVM may call its C library.
        int64_align: the ABI alignment of 64-bit integers in bytes (4 under the i386 System V ABI).
        sign_extend_i32: True where the calling convention passes and returns 32-bit integers
            sign-extended to the 64-bit register whatever their signedness (RISC-V psABI,
            "Integer Calling Convention"); see Target.extension.
        unwind_tables: True where every function must carry LLVM's ``uwtable`` attribute for
            its call frames to be described correctly. LLVM's Arm frame lowering saves no
            callee-saved register, lr included, in a function that is ``noreturn`` and
            ``nounwind`` but not ``uwtable`` (TargetFrameLowering::determineCalleeSaves), and
            LLVM infers ``noreturn`` for functions such as kmain that end by powering off; the
            call-frame information then says lr still holds the return address, which the
            calls made since have overwritten, and gdb's backtrace repeats that frame forever
            (DWARF 5, "Call Frame Information": the same-value rule).
        low_address_asm: an inline-asm template (``$0`` the result, ``$1`` the symbol) that loads the
            absolute address of a symbol linked below 2 GiB, where the code model would reach it
            PC-relative and so not at all from a kernel linked 2 GiB above it (RISC-V medany: a
            compact-log record's address is its offset in ``.kcc_log``, linked at 0); "" where
            taking the address needs nothing special.
        llvm_data_layout: LLVM's data layout string for this target when it does not depend on the
            build machine, so that lowering never loads LLVM's library just to ask for it
            (tests/test_targets.py checks it against LLVM's own); "" asks LLVM.
    """

    name: str
    triple: str
    cpu: str
    features: str
    pointer_bits: int
    clang_args: tuple[str, ...]
    llvmlite_asm_parser: bool
    interrupt_attrs: tuple[tuple[str, str], ...] = ()
    interrupt_cc: str = ""
    elf_machine: str = ""
    link_emulation: str = ""
    code_model: str = "default"
    reloc: str = "static"
    freestanding: bool = True
    int64_align: int = 8
    sign_extend_i32: bool = False
    unwind_tables: bool = False
    low_address_asm: str = ""
    llvm_data_layout: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def target_machine(self, opt: int = 2) -> llvm.TargetMachine:
        """An llvmlite TargetMachine for this target at optimisation level ``opt`` (0..3)."""
        import llvmlite.binding as llvm

        init_llvm()
        tgt = llvm.Target.from_triple(self.triple)
        return tgt.create_target_machine(
            cpu=self.cpu, features=self.features, opt=opt,
            reloc=self.reloc, codemodel=self.code_model)

    def extension(self, bits: int, signed: bool) -> str | None:
        """The LLVM parameter/result attribute ("signext", "zeroext") for an integer of ``bits``.

        Every C ABI kcc targets (i386 System V, AAPCS, x86-64 System V as clang implements it,
        RISC-V LP64) has the side that produces an integer narrower than 32 bits (the caller
        for an argument, the callee for a result) extend it to 32 bits by its own signedness;
        bool (1 bit) is zero-extended. On RISC-V 64 a 32-bit integer is also sign-extended to
        64 bits, even an unsigned one (``sign_extend_i32``). None: the value is passed as it is.
        Clang marks C functions the same way, so kcc and C code can call each other.

        Args:
            bits: the integer's width in bits (1 for bool).
            signed: whether the integer type is signed (ignored for bool).
        """
        if bits == 1:
            return "zeroext"
        if bits < 32:
            return "signext" if signed else "zeroext"
        if bits == 32 and self.sign_extend_i32:
            return "signext"
        return None

    @cached_property
    def data_layout(self) -> str:
        """The LLVM data layout string of this target (llvm_data_layout, else from LLVM itself)."""
        return self.llvm_data_layout or str(self.target_machine(0).target_data)

    @property
    def pointer_bytes(self) -> int:
        """Width of a pointer in bytes."""
        return self.pointer_bits // 8
