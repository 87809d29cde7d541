"""System-call stubs for user programs: one function per operation of lib/abi.py.

Every kernel operation invokes a capability slot (docs/abi.md). ``invoke`` is
the one trap into the kernel; the functions below name each operation and its
arguments. Design:

- Every stub returns the error code (``abi.OK`` = 0 on success) as a usize.
- An operation with results takes ``res: Ptr[SysResult]`` last; the kernel's
  result words land in ``res.v0``, ``res.v1``, ... in the order lib/abi.py
  lists them (OP_CAP_IDENTIFY: v0 = kind, v1 = rights, v2 = badge), and the
  error also in ``res.error``. Operations without results take no ``res``.
- Slots, numbers and addresses are all usize words, as they travel.
- OP_EXIT and OP_CONSOLE_HALT never return (``@noreturn``).

riscv64 (the registers of lib/abi.py): a7 = operation, a0 = slot, a1..a6 =
arguments, ``ecall``; on return a0 = error, a1..a6 = results. The stub relies
on the kernel keeping every other register, as a trap preserves the
interrupted context. Other architectures have no user mode yet, so ``invoke``
exists only for riscv64.
"""

from kcc.lang import *

from lib import abi


@struct
class SysResult:
    """What one system call returned: ``error`` (0: success) and the result words v0..v5 (a1..a6 on riscv64)."""

    error: usize
    v0: usize
    v1: usize
    v2: usize
    v3: usize
    v4: usize
    v5: usize


if TARGET == "riscv64":
    def invoke(slot: usize, op: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize,
               res: Ptr[SysResult]) -> usize:
        """Invoke capability ``slot`` with operation ``op`` and six argument words; store every answer in ``res``.

        Returns the error code (also in ``res.error``). The operands come in
        registers the compiler chooses among those the template does not name
        (a0..a7 are clobbered), so moving them into a0..a7 cannot overwrite
        one another; the offsets are SysResult's fields, 8 bytes apart.
        """
        asm("mv a0, {0}\nmv a7, {1}\nmv a1, {2}\nmv a2, {3}\nmv a3, {4}\nmv a4, {5}\nmv a5, {6}\nmv a6, {7}\n"
            "ecall\n"
            "sd a0, 0({8})\nsd a1, 8({8})\nsd a2, 16({8})\nsd a3, 24({8})\nsd a4, 32({8})\nsd a5, 40({8})\n"
            "sd a6, 48({8})",
            slot, op, a1, a2, a3, a4, a5, a6, res,
            clobbers=("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "memory"))
        return res.error


def call(slot: usize, op: usize, a1: usize = 0, a2: usize = 0, a3: usize = 0, a4: usize = 0,
         a5: usize = 0, a6: usize = 0) -> usize:
    """Invoke ``slot`` with ``op`` and arguments, discarding the result words; return the error code."""
    res: SysResult
    return invoke(slot, op, a1, a2, a3, a4, a5, a6, addr(res))


# ---- any capability -----------------------------------------------------------------------------

def cap_identify(slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_CAP_IDENTIFY: v0 = kind (abi.KIND_*), v1 = rights (abi.RIGHT_*), v2 = badge."""
    return invoke(slot, abi.OP_CAP_IDENTIFY, 0, 0, 0, 0, 0, 0, res)


def cap_copy(slot: usize, dst_slot: usize) -> usize:
    """OP_CAP_COPY: copy the capability in ``slot`` to the empty ``dst_slot``."""
    return call(slot, abi.OP_CAP_COPY, dst_slot)


def cap_mint(slot: usize, dst_slot: usize, rights_mask: usize, badge: usize) -> usize:
    """OP_CAP_MINT: copy with the rights cut to ``rights_mask`` and, on an unbadged capability, ``badge``."""
    return call(slot, abi.OP_CAP_MINT, dst_slot, rights_mask, badge)


def cap_move(slot: usize, dst_slot: usize) -> usize:
    """OP_CAP_MOVE: move the capability in ``slot`` to the empty ``dst_slot``."""
    return call(slot, abi.OP_CAP_MOVE, dst_slot)


def cap_delete(slot: usize) -> usize:
    """OP_CAP_DELETE: empty ``slot``; the object lives on."""
    return call(slot, abi.OP_CAP_DELETE)


def cap_destroy(slot: usize) -> usize:
    """OP_CAP_DESTROY: destroy the object (needs RIGHT_DESTROY); every copy becomes stale."""
    return call(slot, abi.OP_CAP_DESTROY)


# ---- the calling thread (the slot is ignored) ---------------------------------------------------

def thread_yield() -> usize:
    """OP_YIELD: let the other ready threads of this priority run first."""
    return call(0, abi.OP_YIELD)


def sleep(ticks: usize) -> usize:
    """OP_SLEEP: block for ``ticks`` timer ticks (the board's HZ)."""
    return call(0, abi.OP_SLEEP, ticks)


@noreturn
def exit(code: usize) -> None:
    """OP_EXIT: end the calling thread with exit ``code``; never returns."""
    call(0, abi.OP_EXIT, code)
    while True:         # the kernel never returns from OP_EXIT; nothing else may run on
        pass


def self_info(res: Ptr[SysResult]) -> usize:
    """OP_SELF: v0 = this thread's id, v1 = the process's capability-table slot count, v2 = priority."""
    return invoke(0, abi.OP_SELF, 0, 0, 0, 0, 0, 0, res)


# ---- process ------------------------------------------------------------------------------------

def proc_create(proc_slot: usize, kind: usize, dst_slot: usize, arg: usize) -> usize:
    """OP_PROC_CREATE: a new object of ``kind`` owned by the process; its capability goes to ``dst_slot``."""
    return call(proc_slot, abi.OP_PROC_CREATE, kind, dst_slot, arg)


def proc_map(proc_slot: usize, mem_slot: usize, vaddr: usize, rights: usize) -> usize:
    """OP_PROC_MAP: map the frame or device in ``mem_slot`` at ``vaddr`` with ``rights`` (RIGHT_READ/WRITE/EXEC)."""
    return call(proc_slot, abi.OP_PROC_MAP, mem_slot, vaddr, rights)


def proc_unmap(proc_slot: usize, vaddr: usize, pages: usize, res: Ptr[SysResult]) -> usize:
    """OP_PROC_UNMAP: unmap ``pages`` pages from ``vaddr``; v0 = pages that were mapped."""
    return invoke(proc_slot, abi.OP_PROC_UNMAP, vaddr, pages, 0, 0, 0, 0, res)


def proc_give(proc_slot: usize, src_slot: usize, dst_slot: usize) -> usize:
    """OP_PROC_GIVE: copy our ``src_slot`` (needs RIGHT_GRANT) into the process's ``dst_slot``."""
    return call(proc_slot, abi.OP_PROC_GIVE, src_slot, dst_slot)


def proc_info(proc_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_PROC_INFO: v0 = quota in pages, v1 = pages used, v2 = threads."""
    return invoke(proc_slot, abi.OP_PROC_INFO, 0, 0, 0, 0, 0, 0, res)


def proc_clone(proc_slot: usize, src_slot: usize) -> usize:
    """OP_PROC_CLONE: give the empty process ``proc_slot`` every frame mapping of process ``src_slot``.

    Writable mappings become copy-on-write in both (docs/abi.md, "Process").
    Errors: slot errors of ``src_slot``, ERR_INVALID_ARG (the same process),
    ERR_BAD_STATE (the target maps something already, or the source maps a
    device), ERR_NO_OBJECTS, ERR_NO_MEMORY (the target's quota).
    """
    return call(proc_slot, abi.OP_PROC_CLONE, src_slot)


# ---- thread -------------------------------------------------------------------------------------

def thread_set_regs(thread_slot: usize, pc: usize, sp: usize, arg0: usize, arg1: usize) -> usize:
    """OP_THREAD_SET_REGS: where the thread starts, its stack top and its two arguments."""
    return call(thread_slot, abi.OP_THREAD_SET_REGS, pc, sp, arg0, arg1)


def thread_set_sched(thread_slot: usize, priority: usize, budget: usize, period: usize) -> usize:
    """OP_THREAD_SET_SCHED: priority (at most the caller's), budget and period in ticks."""
    return call(thread_slot, abi.OP_THREAD_SET_SCHED, priority, budget, period)


def thread_start(thread_slot: usize) -> usize:
    """OP_THREAD_START: an inactive thread becomes ready."""
    return call(thread_slot, abi.OP_THREAD_START)


def thread_stop(thread_slot: usize) -> usize:
    """OP_THREAD_STOP: a live thread becomes stopped."""
    return call(thread_slot, abi.OP_THREAD_STOP)


def thread_resume(thread_slot: usize) -> usize:
    """OP_THREAD_RESUME: a stopped or faulted thread becomes ready."""
    return call(thread_slot, abi.OP_THREAD_RESUME)


def thread_state(thread_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_THREAD_STATE: v0 = state (abi.STATE_*), v1 = exit code, v2 = fault kind, v3 = fault address, v4 = fault pc."""
    return invoke(thread_slot, abi.OP_THREAD_STATE, 0, 0, 0, 0, 0, 0, res)


def thread_set_fault(thread_slot: usize, endpoint_slot: usize) -> usize:
    """OP_THREAD_SET_FAULT: the endpoint in ``endpoint_slot`` receives the thread's faults."""
    return call(thread_slot, abi.OP_THREAD_SET_FAULT, endpoint_slot)


def thread_id(thread_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_THREAD_ID: v0 = the thread's id."""
    return invoke(thread_slot, abi.OP_THREAD_ID, 0, 0, 0, 0, 0, 0, res)


def thread_send(thread_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize, block: bool) -> usize:
    """OP_THREAD_SEND: ``label`` and four words to the thread's OP_THREAD_RECV.

    When the thread is not receiving: abi.ERR_WOULD_BLOCK, or with ``block``
    wait until it does (abi.ERR_STALE if it exits or is destroyed first).
    """
    return call(thread_slot, abi.OP_THREAD_SEND, label, w0, w1, w2, w3, 1 if block else 0)


def thread_recv(timeout: usize, res: Ptr[SysResult]) -> usize:
    """OP_THREAD_RECV: wait ``timeout`` ticks (0: forever, abi.NO_WAIT: poll) for a message sent to this thread.

    v0 = the sender's thread id, v1 = label, v2..v5 = w0..w3.
    """
    return invoke(0, abi.OP_THREAD_RECV, timeout, 0, 0, 0, 0, 0, res)


# ---- endpoint and notification ------------------------------------------------------------------

def ep_recv(ep_slot: usize, timeout: usize, res: Ptr[SysResult]) -> usize:
    """OP_EP_RECV: wait ``timeout`` ticks (0: forever, abi.NO_WAIT: poll); v0 = badge, v1 = label, v2..v5 = w0..w3."""
    return invoke(ep_slot, abi.OP_EP_RECV, timeout, abi.NO_CAP, 0, 0, 0, 0, res)


def ep_recv_cap(ep_slot: usize, timeout: usize, cap_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_EP_RECV accepting a capability into the empty ``cap_slot``; v1 has abi.MSG_CAP when one arrived."""
    return invoke(ep_slot, abi.OP_EP_RECV, timeout, cap_slot, 0, 0, 0, 0, res)


def ep_send(ep_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize) -> usize:
    """OP_EP_SEND: send ``label`` and four words; blocks until received."""
    return call(ep_slot, abi.OP_EP_SEND, label, w0, w1, w2, w3, abi.NO_CAP)


def ep_send_cap(ep_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize,
                cap_slot: usize) -> usize:
    """OP_EP_SEND moving a copy of the capability in ``cap_slot`` too (needs GRANT on the endpoint)."""
    return call(ep_slot, abi.OP_EP_SEND, label, w0, w1, w2, w3, cap_slot)


def ep_call(ep_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize,
            res: Ptr[SysResult]) -> usize:
    """OP_EP_CALL: send and wait for the one reply; v1 = the reply's label, v2..v5 = its words."""
    return invoke(ep_slot, abi.OP_EP_CALL, label, w0, w1, w2, w3, abi.NO_CAP, res)


def reply(label: usize, w0: usize, w1: usize, w2: usize, w3: usize) -> usize:
    """OP_REPLY: answer the call this thread received last (once)."""
    return call(0, abi.OP_REPLY, label, w0, w1, w2, w3)


def ep_reply_recv(ep_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize,
                  res: Ptr[SysResult]) -> usize:
    """OP_EP_REPLY_RECV: reply to the pending call, then wait on the endpoint; results as ep_recv."""
    return invoke(ep_slot, abi.OP_EP_REPLY_RECV, label, w0, w1, w2, w3, abi.NO_CAP, res)


def ep_post(ep_slot: usize, label: usize, w0: usize, w1: usize, w2: usize, w3: usize, block: bool) -> usize:
    """OP_EP_POST: queue a short message in the endpoint's ring; a full ring gives ERR_WOULD_BLOCK unless ``block``."""
    return call(ep_slot, abi.OP_EP_POST, label, w0, w1, w2, w3, 1 if block else 0)


def ep_send_payload(ep_slot: usize, label: usize, data: Ptr[u8], length: usize, w0: usize,
                    res: Ptr[SysResult]) -> usize:
    """OP_EP_SEND_PAYLOAD: offer ``length`` bytes at ``data``; blocks until accepted (v0 = bytes taken) or refused."""
    return invoke(ep_slot, abi.OP_EP_SEND_PAYLOAD, label, usize(data), length, w0, 0, 0, res)


def accept(buffer: Ptr[u8], capacity: usize, res: Ptr[SysResult]) -> usize:
    """OP_ACCEPT: copy the payload announced to this thread into ``buffer``; v0 = bytes copied."""
    return invoke(0, abi.OP_ACCEPT, usize(buffer), capacity, 0, 0, 0, 0, res)


def refuse() -> usize:
    """OP_REFUSE: refuse the payload announced to this thread (its sender gets ERR_REFUSED)."""
    return call(0, abi.OP_REFUSE)


def portal_set(portal_slot: usize, entry: usize, stack_base: usize, stack_size: usize, stacks: usize) -> usize:
    """OP_PORTAL_SET: migrated calls run at ``entry`` on one of ``stacks`` stacks of ``stack_size`` bytes."""
    return call(portal_slot, abi.OP_PORTAL_SET, entry, stack_base, stack_size, stacks)


def migrate_call(portal_slot: usize, a1: usize, a2: usize, a3: usize, a4: usize, res: Ptr[SysResult]) -> usize:
    """OP_MIGRATE_CALL: run this thread in the portal's process; v0..v3 = the callee's four results."""
    return invoke(portal_slot, abi.OP_MIGRATE_CALL, a1, a2, a3, a4, 0, 0, res)


def migrate_forward(portal_slot: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize:
    """OP_MIGRATE_FORWARD: pass the current migrated call on; returns only on an error."""
    return call(portal_slot, abi.OP_MIGRATE_FORWARD, a1, a2, a3, a4)


def migrate_notify(portal_slot: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize:
    """OP_MIGRATE_NOTIFY: a one-way call; a new activation runs the portal's entry, this thread goes on at once."""
    return call(portal_slot, abi.OP_MIGRATE_NOTIFY, a1, a2, a3, a4)


def migrate_return(r0: usize, r1: usize, r2: usize, r3: usize) -> usize:
    """OP_MIGRATE_RETURN: end the migrated call; the caller gets r0..r3. Returns only on an error."""
    return call(0, abi.OP_MIGRATE_RETURN, r0, r1, r2, r3)


def ntfn_signal(ntfn_slot: usize, bits: usize) -> usize:
    """OP_NTFN_SIGNAL: OR ``bits`` (and the capability's badge) into the notification."""
    return call(ntfn_slot, abi.OP_NTFN_SIGNAL, bits)


def ntfn_wait(ntfn_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_NTFN_WAIT: block until a bit is set; v0 = the bits, which are cleared."""
    return invoke(ntfn_slot, abi.OP_NTFN_WAIT, 0, 0, 0, 0, 0, 0, res)


def ntfn_poll(ntfn_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_NTFN_POLL: v0 = the bits set (cleared), without blocking."""
    return invoke(ntfn_slot, abi.OP_NTFN_POLL, 0, 0, 0, 0, 0, 0, res)


# ---- interrupts, devices, frames ----------------------------------------------------------------

def irq_claim(control_slot: usize, irq: usize, dst_slot: usize) -> usize:
    """OP_IRQ_CLAIM: on IRQ control, claim line ``irq``; its capability goes to ``dst_slot``."""
    return call(control_slot, abi.OP_IRQ_CLAIM, irq, dst_slot)


def irq_bind(irq_slot: usize, ntfn_slot: usize, bits: usize) -> usize:
    """OP_IRQ_BIND: the interrupt signals ``bits`` on the notification in ``ntfn_slot``."""
    return call(irq_slot, abi.OP_IRQ_BIND, ntfn_slot, bits)


def irq_ack(irq_slot: usize) -> usize:
    """OP_IRQ_ACK: unmask the line again after handling it."""
    return call(irq_slot, abi.OP_IRQ_ACK)


def device_info(device_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_DEVICE_INFO: v0 = physical base, v1 = size in bytes."""
    return invoke(device_slot, abi.OP_DEVICE_INFO, 0, 0, 0, 0, 0, 0, res)


def frame_info(frame_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_FRAME_INFO: v0 = pages."""
    return invoke(frame_slot, abi.OP_FRAME_INFO, 0, 0, 0, 0, 0, 0, res)


# ---- the debug console --------------------------------------------------------------------------

def console_write(console_slot: usize, text: Ptr[u8], length: usize, res: Ptr[SysResult]) -> usize:
    """OP_CONSOLE_WRITE: write ``length`` bytes at ``text``; v0 = bytes written."""
    return invoke(console_slot, abi.OP_CONSOLE_WRITE, usize(text), length, 0, 0, 0, 0, res)


def console_pool(console_slot: usize, kind: usize, res: Ptr[SysResult]) -> usize:
    """OP_CONSOLE_POOL: for object ``kind``, v0 = free objects, v1 = capacity."""
    return invoke(console_slot, abi.OP_CONSOLE_POOL, kind, 0, 0, 0, 0, 0, res)


@noreturn
def console_halt(console_slot: usize, status: usize) -> None:
    """OP_CONSOLE_HALT: power the machine off with exit ``status``; if the kernel refuses, exit the thread."""
    call(console_slot, abi.OP_CONSOLE_HALT, status)
    # Reached only when the slot is not a console: this thread cannot go on as if it had halted.
    exit(status)


def console_fastpath(console_slot: usize, enabled: bool) -> usize:
    """OP_CONSOLE_FASTPATH: turn the kernel's IPC fast path on or off (both paths give the same results)."""
    return call(console_slot, abi.OP_CONSOLE_FASTPATH, 1 if enabled else 0)


def console_check(console_slot: usize, res: Ptr[SysResult]) -> usize:
    """OP_CONSOLE_CHECK: v0 = how many of the kernel's invariants are violated."""
    return invoke(console_slot, abi.OP_CONSOLE_CHECK, 0, 0, 0, 0, 0, 0, res)
