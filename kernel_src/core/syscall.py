"""The single system-call entry: decode (slot, operation, arguments), check the capability, do the operation.

Every operation is an invocation of a slot of the caller's own capability
table (docs/abi.md): the operation number picks a group by its range, the
group's capability kind and rights are checked by core.cap before anything
else, and every argument is validated before any state changes. Results go
back through arch.context; an operation that blocks returns ipc.BLOCKED and
its results are written when the thread is woken.
"""

import board
from kcc.lang import *

from arch import console, context, cpu
from core import cap, ipc, kernel, memory, migrate, objects, process, sched, thread, usermem
from lib import abi

BLOCKED: Final[u32] = ipc.BLOCKED
NO_INDEX: Final[u32] = objects.NO_INDEX
_CONSOLE_CHUNK: Final = 128
MAX_CONSOLE_WRITE: Final = 4096


def _arg(t: u32, i: u32) -> usize:
    """Argument ``i`` of the running call."""
    return context.syscall_arg(t, i)


def _slot_arg(t: u32, i: u32) -> u32:
    """Argument ``i`` as a slot number; an out-of-range value becomes a slot no table has (ERR_INVALID_SLOT)."""
    v = _arg(t, i)
    if v >= usize(board.CAP_SLOTS):
        return cap.NO_SLOT
    return u32(v)


def _empty_slot(p: u32, slot: u32) -> u32:
    """OK when ``slot`` of ``p`` exists and is empty (a destination), else ERR_INVALID_SLOT or ERR_SLOT_FULL."""
    if slot >= board.CAP_SLOTS:
        return abi.ERR_INVALID_SLOT
    if cap.kind_of(p, slot) != abi.KIND_NULL:
        return abi.ERR_SLOT_FULL
    return abi.OK


def _cap_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """The operations every capability has (OP_CAP_*)."""
    if op == abi.OP_CAP_IDENTIFY:
        err = cap.lookup(p, slot, abi.KIND_NULL, 0)
        if err != abi.OK:
            return err
        context.set_result(t, 0, usize(cap.kind_of(p, slot)))
        context.set_result(t, 1, usize(cap.rights_of(p, slot)))
        context.set_result(t, 2, usize(cap.badge_of(p, slot)))
        return abi.OK
    if op == abi.OP_CAP_COPY:
        return cap.copy(p, slot, p, _slot_arg(t, 0))
    if op == abi.OP_CAP_MINT:
        mask = _arg(t, 1)
        if mask > abi.RIGHTS_ALL:
            return abi.ERR_INVALID_ARG
        return cap.mint(p, slot, _slot_arg(t, 0), u32(mask), u64(_arg(t, 2)))
    if op == abi.OP_CAP_MOVE:
        return cap.move(p, slot, p, _slot_arg(t, 0))
    if op == abi.OP_CAP_DELETE:
        return cap.delete(p, slot)
    if op == abi.OP_CAP_DESTROY:
        err = cap.lookup(p, slot, abi.KIND_NULL, abi.RIGHT_DESTROY)
        if err != abi.OK:
            return err
        return process.destroy_object(cap.kind_of(p, slot), cap.index_of(p, slot))
    return abi.ERR_UNKNOWN_OP


def _create(t: u32, p: u32, target: u32) -> u32:
    """OP_PROC_CREATE(kind, dst_slot, arg): an object owned by ``target``, its capability in the caller's slot."""
    kind = _arg(t, 0)
    dst = _slot_arg(t, 1)
    extra = _arg(t, 2)
    err = _empty_slot(p, dst)
    if err != abi.OK:
        return err
    index: u32 = NO_INDEX
    rights: u32 = abi.RIGHTS_ALL
    if kind == abi.KIND_PROCESS:
        err = process.create(target, extra, addr(index))
    elif kind == abi.KIND_THREAD:
        index = objects.alloc(abi.KIND_THREAD)
        if index == NO_INDEX:
            return abi.ERR_NO_OBJECTS
        objects.set_owner(abi.KIND_THREAD, index, target)
        thread.setup(index, target)
        sched.init_thread(index)
        sched.set_params(index, sched.priority(t), 0, 0)
    elif kind == abi.KIND_ENDPOINT or kind == abi.KIND_NOTIFICATION or kind == abi.KIND_PORTAL:
        index = objects.alloc(u32(kind))
        if index == NO_INDEX:
            return abi.ERR_NO_OBJECTS
        objects.set_owner(u32(kind), index, target)
        if kind == abi.KIND_ENDPOINT:
            ipc.endpoint_init(index)
        elif kind == abi.KIND_NOTIFICATION:
            ipc.notification_init(index)
        else:
            migrate.portal_init(index)
    elif kind == abi.KIND_FRAME:
        err = process.frame_create(target, extra, addr(index))
        rights = abi.RIGHTS_ALL
    else:
        return abi.ERR_INVALID_ARG
    if err != abi.OK:
        return err
    return cap.insert(p, dst, u32(kind), rights, index, objects.generation(u32(kind), index), 0)


def _process_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """OP_PROC_*: on the process named by ``slot``."""
    need: u32 = abi.RIGHT_READ if op == abi.OP_PROC_INFO else abi.RIGHT_WRITE
    err = cap.lookup(p, slot, abi.KIND_PROCESS, need)
    if err != abi.OK:
        return err
    target = cap.index_of(p, slot)
    if op == abi.OP_PROC_CREATE:
        return _create(t, p, target)
    if op == abi.OP_PROC_MAP:
        fslot = _slot_arg(t, 0)
        err = cap.lookup(p, fslot, abi.KIND_NULL, abi.RIGHT_READ)
        if err != abi.OK:
            return err
        kind = cap.kind_of(p, fslot)
        if kind != abi.KIND_FRAME and kind != abi.KIND_DEVICE:
            return abi.ERR_WRONG_KIND
        rights = _arg(t, 2)
        if rights & ~usize(abi.RIGHT_READ | abi.RIGHT_WRITE | abi.RIGHT_EXEC | abi.MAP_COW) != 0:
            return abi.ERR_INVALID_ARG
        needed = rights & ~usize(abi.MAP_COW)
        if rights & abi.MAP_COW != 0:
            needed &= ~usize(abi.RIGHT_WRITE)      # a copy-on-write mapping never writes the frame itself
        if needed & ~usize(cap.rights_of(p, fslot)) != 0:
            return abi.ERR_RIGHTS
        return process.map(target, kind, cap.index_of(p, fslot), _arg(t, 1), rights)
    if op == abi.OP_PROC_UNMAP:
        count: usize = 0
        err = process.unmap(target, _arg(t, 0), _arg(t, 1), addr(count))
        context.set_result(t, 0, count)
        return err
    if op == abi.OP_PROC_GIVE:
        return cap.give(p, _slot_arg(t, 0), target, _slot_arg(t, 1))
    if op == abi.OP_PROC_CLONE:
        src = _slot_arg(t, 0)
        err = cap.lookup(p, src, abi.KIND_PROCESS, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        return process.clone_space(target, cap.index_of(p, src))
    if op == abi.OP_PROC_INFO:
        context.set_result(t, 0, memory.limit(target))
        context.set_result(t, 1, memory.used(target))
        context.set_result(t, 2, usize(thread.count_in(target)))
        return abi.OK
    return abi.ERR_UNKNOWN_OP


def _thread_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """OP_THREAD_*: on the thread named by ``slot``."""
    need: u32 = abi.RIGHT_WRITE
    if op == abi.OP_THREAD_STATE or op == abi.OP_THREAD_ID:
        need = abi.RIGHT_READ
    err = cap.lookup(p, slot, abi.KIND_THREAD, need)
    if err != abi.OK:
        return err
    target = cap.index_of(p, slot)
    th = thread.get(target)
    st = th.state
    if op == abi.OP_THREAD_SET_REGS:
        if st == abi.STATE_READY or st == abi.STATE_BLOCKED or st == abi.STATE_EXITED:
            return abi.ERR_BAD_STATE
        context.init_user(target, _arg(t, 0), _arg(t, 1), _arg(t, 2), _arg(t, 3))
        return abi.OK
    if op == abi.OP_THREAD_SET_SCHED:
        prio = _arg(t, 0)
        budget = _arg(t, 1)
        period = _arg(t, 2)
        # Tick counts are u32 in core.sched: a longer period (and so budget) is refused, not truncated.
        if prio >= usize(board.NUM_PRIORITIES) or budget > period or (budget == 0 and period != 0) \
                or period > 0xFFFF_FFFF:
            return abi.ERR_INVALID_ARG
        if prio > usize(sched.priority(t)):
            return abi.ERR_RIGHTS
        queued = st == abi.STATE_READY and target != t
        if queued:
            sched.remove(target)
        err = sched.set_params(target, u32(prio), u32(budget), u32(period))
        if queued:
            sched.make_ready(target)
        return err
    if op == abi.OP_THREAD_START:
        if st != abi.STATE_INACTIVE:
            return abi.ERR_BAD_STATE
        th.state = abi.STATE_READY
        sched.make_ready(target)
        return abi.OK
    if op == abi.OP_THREAD_STOP:
        if st != abi.STATE_READY and st != abi.STATE_BLOCKED:
            return abi.ERR_BAD_STATE
        if st == abi.STATE_BLOCKED:
            ipc.cancel(target, abi.ERR_BAD_STATE)
        elif target != t:
            sched.remove(target)
        th.state = abi.STATE_STOPPED
        return abi.OK
    if op == abi.OP_THREAD_RESUME:
        if st != abi.STATE_STOPPED and st != abi.STATE_FAULTED:
            return abi.ERR_BAD_STATE
        if st == abi.STATE_FAULTED:
            ipc.cancel(target, abi.OK)
            th.fault_kind = abi.FAULT_NONE
        th.state = abi.STATE_READY
        sched.make_ready(target)
        return abi.OK
    if op == abi.OP_THREAD_STATE:
        context.set_result(t, 0, usize(st))
        context.set_result(t, 1, th.exit_code)
        context.set_result(t, 2, usize(th.fault_kind))
        context.set_result(t, 3, th.fault_address)
        context.set_result(t, 4, th.fault_pc)
        return abi.OK
    if op == abi.OP_THREAD_SET_FAULT:
        eslot = _slot_arg(t, 0)
        err = cap.lookup(p, eslot, abi.KIND_ENDPOINT, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        th.fault_ep = cap.index_of(p, eslot)
        th.fault_ep_gen = cap.gen_of(p, eslot)
        th.fault_badge = cap.badge_of(p, eslot)
        return abi.OK
    if op == abi.OP_THREAD_ID:
        context.set_result(t, 0, usize(ipc.thread_id(target)))
        return abi.OK
    if op == abi.OP_THREAD_SEND:
        if _arg(t, 0) > abi.LABEL_MASK or _arg(t, 5) > 1:
            return abi.ERR_INVALID_ARG
        return ipc.thread_send(t, target, _arg(t, 5) == 1)
    return abi.ERR_UNKNOWN_OP


def _self_op(t: u32, op: usize, now: u64) -> u32:
    """OP_YIELD, OP_SLEEP, OP_EXIT, OP_SELF, OP_REPLY, OP_ACCEPT, OP_REFUSE, OP_MIGRATE_RETURN, OP_THREAD_RECV.

    All on the calling thread, with no capability.
    """
    th = thread.get(t)
    if op == abi.OP_YIELD:
        kernel.request_yield()
        return abi.OK
    if op == abi.OP_SLEEP:
        ticks = _arg(t, 0)
        if ticks == 0:
            kernel.request_yield()
            return abi.OK
        th.state = abi.STATE_BLOCKED
        th.wait = thread.WAIT_SLEEP
        sched.sleep_until(t, sched.deadline(now, u64(ticks)))
        return BLOCKED
    if op == abi.OP_EXIT:
        if migrate.is_activation(t):
            migrate.destroy_thread(t)       # no capability names it: nobody could ever destroy it
            return BLOCKED
        th.exit_code = _arg(t, 0)
        th.state = abi.STATE_EXITED
        ipc.thread_dead(t)
        return BLOCKED
    if op == abi.OP_ACCEPT:
        return ipc.accept_payload(t, _arg(t, 0), _arg(t, 1))
    if op == abi.OP_REFUSE:
        return ipc.refuse_payload(t)
    if op == abi.OP_MIGRATE_RETURN:
        return _blocked_or(migrate.ret(t))
    if op == abi.OP_THREAD_RECV:
        return ipc.thread_receive(t, _arg(t, 0), now)
    if op == abi.OP_REPLY:
        if _arg(t, 0) > abi.LABEL_MASK:
            return abi.ERR_INVALID_ARG
        return ipc.reply(t)
    if op == abi.OP_SELF:
        context.set_result(t, 0, usize(ipc.thread_id(t)))
        context.set_result(t, 1, board.CAP_SLOTS)
        context.set_result(t, 2, usize(sched.priority(t)))
        return abi.OK
    return abi.ERR_UNKNOWN_OP


def _receive_slot(t: u32, i: u32, out: Ptr[u32]) -> u32:
    """Read argument ``i`` as the slot a received capability goes to: abi.NO_CAP (none) or a slot number."""
    v = _arg(t, i)
    if v == abi.NO_CAP:
        out[0] = thread.NO_THREAD
        return abi.OK
    if v >= usize(board.CAP_SLOTS):
        return abi.ERR_INVALID_SLOT
    out[0] = u32(v)
    return abi.OK


def _check_send(t: u32, p: u32, slot: u32) -> u32:
    """Validate a send or call on ``slot``: WRITE on an endpoint, the label's width, and the capability to move.

    A capability to move (argument 5, not abi.NO_CAP) must be live, and moving
    it needs GRANT on the endpoint capability (Iris: otherwise refused).
    """
    err = cap.lookup(p, slot, abi.KIND_ENDPOINT, abi.RIGHT_WRITE)
    if err != abi.OK:
        return err
    if _arg(t, 0) > abi.LABEL_MASK:
        return abi.ERR_INVALID_ARG
    moved = _arg(t, 5)
    if moved == abi.NO_CAP:
        return abi.OK
    if moved >= usize(board.CAP_SLOTS):
        return abi.ERR_INVALID_SLOT
    err = cap.lookup(p, u32(moved), abi.KIND_NULL, 0)
    if err != abi.OK:
        return err
    if cap.rights_of(p, slot) & abi.RIGHT_GRANT == 0:
        return abi.ERR_RIGHTS
    return abi.OK


def _endpoint_op(t: u32, p: u32, slot: u32, op: usize, now: u64) -> u32:
    """OP_EP_RECV, OP_EP_REPLY_RECV (READ); OP_EP_SEND, OP_EP_CALL, OP_EP_POST, OP_EP_SEND_PAYLOAD (WRITE).

    Calls and reply-receives try the fast path first.
    """
    dst: u32 = thread.NO_THREAD
    if op == abi.OP_EP_RECV or op == abi.OP_EP_REPLY_RECV:
        err = cap.lookup(p, slot, abi.KIND_ENDPOINT, abi.RIGHT_READ)
        if err == abi.OK:
            err = _receive_slot(t, 1 if op == abi.OP_EP_RECV else 5, addr(dst))
        if err != abi.OK:
            return err
        ep = cap.index_of(p, slot)
        if op == abi.OP_EP_RECV:
            return ipc.receive(t, ep, _arg(t, 0), dst, now)
        if _arg(t, 0) > abi.LABEL_MASK:
            return abi.ERR_INVALID_ARG
        c = ipc.fast_reply_recv(t, ep)
        if c != thread.NO_THREAD:
            kernel.switch_to(c)
            return BLOCKED
        ipc.reply(t)            # a caller that is gone is no reason not to receive
        return ipc.receive(t, ep, 0, dst, now)
    if op == abi.OP_EP_POST:
        err = cap.lookup(p, slot, abi.KIND_ENDPOINT, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        if _arg(t, 0) > abi.LABEL_MASK or _arg(t, 5) > 1:
            return abi.ERR_INVALID_ARG
        return ipc.post(t, cap.index_of(p, slot), cap.badge_of(p, slot), _arg(t, 5) == 1)
    if op == abi.OP_EP_SEND_PAYLOAD:
        err = cap.lookup(p, slot, abi.KIND_ENDPOINT, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        if _arg(t, 0) > abi.LABEL_MASK or _arg(t, 2) > abi.MAX_PAYLOAD:
            return abi.ERR_INVALID_ARG
        err = usermem.check(p, _arg(t, 1), _arg(t, 2), False)
        if err != abi.OK:
            return err
        return ipc.send_payload(t, cap.index_of(p, slot), cap.badge_of(p, slot))
    if op == abi.OP_EP_SEND or op == abi.OP_EP_CALL:
        err = _check_send(t, p, slot)
        if err != abi.OK:
            return err
        ep = cap.index_of(p, slot)
        if op == abi.OP_EP_CALL:
            r = ipc.fast_call(t, ep, cap.badge_of(p, slot))
            if r != thread.NO_THREAD:
                kernel.switch_to(r)
                return BLOCKED
        return ipc.send(t, ep, cap.badge_of(p, slot), op == abi.OP_EP_CALL)
    return abi.ERR_UNKNOWN_OP


def _blocked_or(result: u32) -> u32:
    """core.migrate's results: migrate.DONE means the thread's registers are set already (BLOCKED here)."""
    if result == migrate.DONE:
        return BLOCKED
    return result


def _portal_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """OP_PORTAL_SET, OP_MIGRATE_CALL, OP_MIGRATE_FORWARD and OP_MIGRATE_NOTIFY, all on a portal capability with WRITE."""
    err = cap.lookup(p, slot, abi.KIND_PORTAL, abi.RIGHT_WRITE)
    if err != abi.OK:
        return err
    q = cap.index_of(p, slot)
    if op == abi.OP_PORTAL_SET:
        return migrate.portal_set(q, _arg(t, 0), _arg(t, 1), _arg(t, 2), _arg(t, 3))
    if op == abi.OP_MIGRATE_CALL:
        return _blocked_or(migrate.call(t, q, cap.badge_of(p, slot)))
    if op == abi.OP_MIGRATE_FORWARD:
        return _blocked_or(migrate.forward(t, q, cap.badge_of(p, slot)))
    if op == abi.OP_MIGRATE_NOTIFY:
        return migrate.notify(t, q, cap.badge_of(p, slot))
    return abi.ERR_UNKNOWN_OP


def _notification_op(t: u32, p: u32, slot: u32, op: usize, now: u64) -> u32:
    """OP_NTFN_SIGNAL (WRITE), OP_NTFN_WAIT and OP_NTFN_POLL (READ)."""
    need: u32 = abi.RIGHT_WRITE if op == abi.OP_NTFN_SIGNAL else abi.RIGHT_READ
    err = cap.lookup(p, slot, abi.KIND_NOTIFICATION, need)
    if err != abi.OK:
        return err
    n = cap.index_of(p, slot)
    if op == abi.OP_NTFN_SIGNAL:
        ipc.signal(n, u64(_arg(t, 0)) | cap.badge_of(p, slot))
        return abi.OK
    if op == abi.OP_NTFN_WAIT or op == abi.OP_NTFN_POLL:
        return ipc.wait(t, n, op == abi.OP_NTFN_WAIT, now)
    return abi.ERR_UNKNOWN_OP


def _irq_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """OP_IRQ_CLAIM (on IRQ control), OP_IRQ_BIND and OP_IRQ_ACK (on an IRQ)."""
    if op == abi.OP_IRQ_CLAIM:
        err = cap.lookup(p, slot, abi.KIND_IRQ_CONTROL, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        line = _arg(t, 0)
        dst = _slot_arg(t, 1)
        err = _empty_slot(p, dst)
        if err != abi.OK:
            return err
        if line == 0 or line >= 1024:       # PLIC sources are 1..1023 (PLIC spec, "Interrupt Sources")
            return abi.ERR_INVALID_ARG
        q = process.irq_claim(u32(line), p)
        if q == NO_INDEX:
            return abi.ERR_BAD_STATE if objects.free_count(abi.KIND_IRQ) != 0 else abi.ERR_NO_OBJECTS
        return cap.insert(p, dst, abi.KIND_IRQ, abi.RIGHTS_ALL, q, objects.generation(abi.KIND_IRQ, q), 0)
    if op == abi.OP_IRQ_BIND:
        err = cap.lookup(p, slot, abi.KIND_IRQ, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        nslot = _slot_arg(t, 0)
        err = cap.lookup(p, nslot, abi.KIND_NOTIFICATION, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        if _arg(t, 1) == 0:
            return abi.ERR_INVALID_ARG
        process.irq_bind(cap.index_of(p, slot), cap.index_of(p, nslot), u64(_arg(t, 1)))
        return abi.OK
    if op == abi.OP_IRQ_ACK:
        err = cap.lookup(p, slot, abi.KIND_IRQ, abi.RIGHT_WRITE)
        if err != abi.OK:
            return err
        return process.irq_ack(cap.index_of(p, slot))
    return abi.ERR_UNKNOWN_OP


def _console_write(t: u32, p: u32) -> u32:
    """OP_CONSOLE_WRITE(pointer, length): copy the bytes in (checked) and print them; result: bytes written."""
    uaddr = _arg(t, 0)
    length = _arg(t, 1)
    if length > MAX_CONSOLE_WRITE:
        return abi.ERR_INVALID_ARG
    buf: Array[u8, _CONSOLE_CHUNK]
    done: usize = 0
    while done < length:
        n = length - done
        if n > _CONSOLE_CHUNK:
            n = _CONSOLE_CHUNK
        err = usermem.copy_in(p, addr(buf[0]), uaddr + done, n)
        if err != abi.OK:
            return err
        for i in range(n):
            console.putc(buf[i])
        done += n
    context.set_result(t, 0, done)
    return abi.OK


def _console_op(t: u32, p: u32, slot: u32, op: usize) -> u32:
    """OP_CONSOLE_*: the debug console and debug operations."""
    err = cap.lookup(p, slot, abi.KIND_CONSOLE, abi.RIGHT_WRITE)
    if err != abi.OK:
        return err
    if op == abi.OP_CONSOLE_WRITE:
        # Check the whole range first so that a bad pointer prints nothing at all.
        err = usermem.check(p, _arg(t, 0), _arg(t, 1), False)
        if err != abi.OK:
            return err
        return _console_write(t, p)
    if op == abi.OP_CONSOLE_POOL:
        kind = _arg(t, 0)
        if kind >= abi.NUM_KINDS:
            return abi.ERR_INVALID_ARG
        context.set_result(t, 0, usize(objects.free_count(u32(kind))))
        context.set_result(t, 1, usize(objects.capacity(u32(kind))))
        return abi.OK
    if op == abi.OP_CONSOLE_HALT:
        cpu.halt(u32(_arg(t, 0) & 0xFFFF))
    if op == abi.OP_CONSOLE_FASTPATH:
        if _arg(t, 0) > 1:
            return abi.ERR_INVALID_ARG
        ipc.set_fastpath(_arg(t, 0) == 1)
        return abi.OK
    if op == abi.OP_CONSOLE_CHECK:
        context.set_result(t, 0, usize(objects.check() + cap.check() + sched.check() + process.check(t)))
        return abi.OK
    return abi.ERR_UNKNOWN_OP


def dispatch(t: u32, now: u64) -> u32:
    """Run the system call thread ``t`` (the caller, in process ``thread.process_of(t)``) made.

    Returns the abi error code for the caller, or BLOCKED when the thread
    blocked (or exited) and its results come later. ``now`` is the tick count.
    """
    p = thread.process_of(t)
    op = context.syscall_op(t)
    raw_slot = context.syscall_slot(t)
    slot: u32 = cap.NO_SLOT
    if raw_slot < usize(board.CAP_SLOTS):
        slot = u32(raw_slot)
    if op < 16:
        return _cap_op(t, p, slot, op)
    if op < 32:
        return _self_op(t, op, now)
    if op < 48:
        return _process_op(t, p, slot, op)
    if op < 64:
        return _thread_op(t, p, slot, op)
    if op >= abi.OP_PORTAL_SET and op <= abi.OP_MIGRATE_NOTIFY:
        return _portal_op(t, p, slot, op)
    if op < 80:
        return _endpoint_op(t, p, slot, op, now)
    if op < 96:
        return _notification_op(t, p, slot, op, now)
    if op < 112:
        return _irq_op(t, p, slot, op)
    if op == abi.OP_DEVICE_INFO:
        err = cap.lookup(p, slot, abi.KIND_DEVICE, abi.RIGHT_READ)
        if err != abi.OK:
            return err
        d = cap.index_of(p, slot)
        context.set_result(t, 0, process.device_base(d))
        context.set_result(t, 1, process.device_size(d))
        return abi.OK
    if op == abi.OP_FRAME_INFO:
        err = cap.lookup(p, slot, abi.KIND_FRAME, abi.RIGHT_READ)
        if err != abi.OK:
            return err
        context.set_result(t, 0, process.frame_pages(cap.index_of(p, slot)))
        return abi.OK
    if op >= 128 and op < 144:
        return _console_op(t, p, slot, op)
    return abi.ERR_UNKNOWN_OP
