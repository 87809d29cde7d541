"""Clone: a new process whose memory is the caller's mapped copy-on-write, resuming where the caller was (fork).

Three layers, so the process manager, the benchmarks and the system tests
share one code path:

- ``make`` builds the clone from the kernel's operations: a process owned
  by the source process (its quota taken from the source's, so the clone
  goes when the source goes: its memory is the source's frames), every
  frame mapping of the source given to it copy-on-write (OP_PROC_CLONE,
  docs/abi.md, "Process"), and an INACTIVE thread at a given pc, stack and
  argument. The capability table is not cloned: the kernel cannot know what
  each slot means to the program (slot 0 names the process itself), so the
  builder gives the clone the slots it should have.
- ``fork_invoke`` gives a thread *fork semantics* without help from the
  kernel: it saves the callee-saved registers, the stack pointer and the
  return address (RISC-V psABI: everything a callee must preserve) in a
  ``Regs`` on the caller's stack, then makes one system call; the clone is
  made during that call, so its copy of the stack holds the saved
  registers. A clone thread started at ``resume`` with a0 = that ``Regs``
  loads them and returns from ``fork_invoke`` a second time, with CHILD
  instead of the call's error. Caller-saved registers are dead across a
  call, so the compiled caller needs nothing else.
- ``user.lib.pm.clone`` is what programs use: the call is PM_CLONE to the
  process manager, which builds the clone with ``make`` and lists it.

Fork rather than "start at a function": a clone is useful exactly because
it goes on with the caller's state (its locals, its position in a loop),
which a fresh function would have to be handed through memory by hand;
starting at a function is still available to a builder through ``make``.
Only the calling thread is cloned (POSIX fork): a lock another thread held
stays held in the clone.
"""

from kcc.lang import *

from lib import abi
from user.lib import syscall

CHILD: Final = 0xFFFF_FFFF_FFFF_FFFF    # what fork_invoke returns in the clone (no error code is this large)

# Regs.w: 0 ra, 1 sp, 2 gp, 3 tp, 4..15 s0..s11 (saved before the call), 16 the slot and 17 the operation
# of the call, 18..24 its results a0..a6. The assembly below uses these offsets (8 bytes a word).
R_SLOT: Final = 16
R_OP: Final = 17
R_RESULTS: Final = 18
REG_WORDS: Final = 25


@struct
class Regs:
    """What a clone resumes with, and the results of the call it was made in (see the layout above)."""

    w: Array[usize, REG_WORDS]


if TARGET == "riscv64":
    @naked
    def _save_and_invoke(regs: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize,
                         a6: usize) -> usize:
        """Save the registers a clone resumes with in ``regs``, then ecall with its slot and op and a1..a6.

        The results a0..a6 go to ``regs`` after the call (t0 keeps ``regs``:
        the kernel preserves every register but a0..a6); returns the error.
        """
        asm("sd ra, 0(a0)\nsd sp, 8(a0)\nsd gp, 16(a0)\nsd tp, 24(a0)\n"
            "sd s0, 32(a0)\nsd s1, 40(a0)\nsd s2, 48(a0)\nsd s3, 56(a0)\nsd s4, 64(a0)\nsd s5, 72(a0)\n"
            "sd s6, 80(a0)\nsd s7, 88(a0)\nsd s8, 96(a0)\nsd s9, 104(a0)\nsd s10, 112(a0)\nsd s11, 120(a0)\n"
            "mv t0, a0\nld a7, 136(t0)\nld a0, 128(t0)\n"
            "ecall\n"
            "sd a0, 144(t0)\nsd a1, 152(t0)\nsd a2, 160(t0)\nsd a3, 168(t0)\nsd a4, 176(t0)\nsd a5, 184(t0)\n"
            "sd a6, 192(t0)\n"
            "ret")

    @naked
    @export("__clone_resume")
    def resume(regs: usize) -> None:
        """A clone's first instruction (pc of its thread, a0 = the Regs): return from fork_invoke with CHILD."""
        asm("ld ra, 0(a0)\nld sp, 8(a0)\nld gp, 16(a0)\nld tp, 24(a0)\n"
            "ld s0, 32(a0)\nld s1, 40(a0)\nld s2, 48(a0)\nld s3, 56(a0)\nld s4, 64(a0)\nld s5, 72(a0)\n"
            "ld s6, 80(a0)\nld s7, 88(a0)\nld s8, 96(a0)\nld s9, 104(a0)\nld s10, 112(a0)\nld s11, 120(a0)\n"
            "li a0, -1\n"
            "ret")


def fork_invoke(regs: Ptr[Regs], slot: usize, op: usize, a1: usize, a2: usize, a3: usize, a4: usize,
                a5: usize, a6: usize) -> usize:
    """Invoke ``slot`` with ``op`` and a1..a6 after saving in ``regs`` what a clone made during the call resumes with.

    ``regs`` must be in memory the clone gets a copy of (the caller's
    stack). Returns the call's error (its results in ``regs.w[R_RESULTS:]``,
    a0..a6) in the caller, and CHILD in a clone whose thread was started at
    ``resume`` with a0 = ``regs``.
    """
    regs.w[R_SLOT] = slot
    regs.w[R_OP] = op
    return _save_and_invoke(usize(regs), a1, a2, a3, a4, a5, a6)


def make(src: usize, pages: usize, pslot: usize, tslot: usize, pc: usize, sp: usize, arg: usize, prio: usize,
         fault_ep: usize) -> usize:
    """Build a clone of process ``src`` (a slot with WRITE) in our empty slots ``pslot`` and ``tslot``.

    The clone is a process owned by ``src`` with ``pages`` pages of quota
    taken from ``src``'s (its page tables and the pages either side copies
    later come out of it), holding ``src``'s memory copy-on-write
    (OP_PROC_CLONE), and a thread left INACTIVE with pc ``pc``, stack
    ``sp``, a0 = ``arg``, priority ``prio`` (at most ours) and fault
    endpoint ``fault_ep`` (abi.NO_CAP: none). Returns the first error:
    ERR_NO_MEMORY (``src``'s quota cannot give ``pages``, or they do not
    cover the page tables and copies), ERR_INVALID_ARG (0 pages),
    ERR_BAD_STATE (``src`` maps a device), ERR_NO_OBJECTS, slot errors; on
    an error both slots are empty and ``src``'s memory is as it was.
    """
    err = syscall.proc_create(src, abi.KIND_PROCESS, pslot, pages)
    if err != abi.OK:
        return err
    err = syscall.proc_clone(pslot, src)
    if err == abi.OK:
        err = syscall.proc_create(pslot, abi.KIND_THREAD, tslot, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(tslot, pc, sp, arg, 0)
    if err == abi.OK:
        err = syscall.thread_set_sched(tslot, prio, 0, 0)
    if err == abi.OK and fault_ep != abi.NO_CAP:
        err = syscall.thread_set_fault(tslot, fault_ep)
    if err != abi.OK:
        syscall.cap_destroy(pslot)          # its thread goes with it
        syscall.cap_delete(pslot)
        syscall.cap_delete(tslot)
    return err
