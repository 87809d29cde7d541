"""System tests of capability operations: copy, mint (rights and badges), move, delete, rights enforcement, destroy and staleness."""

from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall
from user.systest import harness, spawn

SELF: Final = initcaps.SLOT_SELF_PROCESS


def _endpoint() -> usize:
    """Create an endpoint owned by init; return its slot (NONE: the test failed)."""
    s = spawn.take()
    if s == spawn.NONE:
        return spawn.NONE
    if not harness.expect_eq(syscall.proc_create(SELF, abi.KIND_ENDPOINT, s, 0), abi.OK, "create endpoint"):
        return spawn.NONE
    return s


def _notification() -> usize:
    """Create a notification owned by init; return its slot (NONE: the test failed)."""
    s = spawn.take()
    if s == spawn.NONE:
        return spawn.NONE
    if not harness.expect_eq(syscall.proc_create(SELF, abi.KIND_NOTIFICATION, s, 0), abi.OK,
                             "create notification"):
        return spawn.NONE
    return s


def _expect_cap(slot: usize, kind: usize, rights: usize, badge: usize) -> None:
    """Check that ``slot`` identifies as ``kind`` with exactly ``rights`` and ``badge``."""
    res: syscall.SysResult
    if harness.expect_eq(syscall.cap_identify(slot, addr(res)), abi.OK, "identify"):
        harness.expect_eq(res.v0, kind, "kind")
        harness.expect_eq(res.v1, rights, "rights")
        harness.expect_eq(res.v2, badge, "badge")


def copy_keeps_everything() -> None:
    """A copy has the kind, rights and badge of its source; a full, empty or invalid slot is refused."""
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    _expect_cap(ep, abi.KIND_ENDPOINT, abi.RIGHTS_ALL, 0)
    dst = spawn.take()
    harness.expect_eq(syscall.cap_copy(ep, dst), abi.OK, "copy")
    _expect_cap(dst, abi.KIND_ENDPOINT, abi.RIGHTS_ALL, 0)
    harness.expect_eq(syscall.cap_copy(ep, dst), abi.ERR_SLOT_FULL, "copy onto a full slot")
    empty = spawn.take()
    harness.expect_eq(syscall.cap_copy(empty, empty + 1), abi.ERR_EMPTY_SLOT, "copy from an empty slot")
    harness.expect_eq(syscall.cap_copy(ep, 9999), abi.ERR_INVALID_SLOT, "copy to slot 9999")
    harness.expect_eq(syscall.cap_copy(ep, ep), abi.ERR_SLOT_FULL, "copy onto itself")


def mint_shrinks_rights() -> None:
    """Mint masks the rights; a second mint can never get back a right the first removed."""
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    ro = spawn.take()
    harness.expect_eq(syscall.cap_mint(ep, ro, abi.RIGHT_READ | abi.RIGHT_GRANT, 0), abi.OK, "mint read+grant")
    _expect_cap(ro, abi.KIND_ENDPOINT, abi.RIGHT_READ | abi.RIGHT_GRANT, 0)
    again = spawn.take()
    harness.expect_eq(syscall.cap_mint(ro, again, abi.RIGHTS_ALL, 0), abi.OK, "mint with every right")
    _expect_cap(again, abi.KIND_ENDPOINT, abi.RIGHT_READ | abi.RIGHT_GRANT, 0)
    bad = spawn.take()
    harness.expect_eq(syscall.cap_mint(ep, bad, abi.RIGHTS_ALL + 1, 0), abi.ERR_INVALID_ARG, "mask past RIGHTS_ALL")
    harness.expect_eq(syscall.cap_mint(ep, bad, 0, 0), abi.OK, "mint with no rights")
    _expect_cap(bad, abi.KIND_ENDPOINT, 0, 0)


def mint_badges_once() -> None:
    """A badge goes only on an unbadged capability; badge 0 keeps the source's badge through later mints."""
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    b = spawn.take()
    harness.expect_eq(syscall.cap_mint(ep, b, abi.RIGHTS_ALL, 0x5EED), abi.OK, "mint badge")
    _expect_cap(b, abi.KIND_ENDPOINT, abi.RIGHTS_ALL, 0x5EED)
    c = spawn.take()
    harness.expect_eq(syscall.cap_mint(b, c, abi.RIGHTS_ALL, 7), abi.ERR_INVALID_ARG, "rebadge")
    harness.expect_eq(syscall.cap_mint(b, c, abi.RIGHT_WRITE, 0), abi.OK, "mint badged, badge 0")
    _expect_cap(c, abi.KIND_ENDPOINT, abi.RIGHT_WRITE, 0x5EED)
    d = spawn.take()
    harness.expect_eq(syscall.cap_copy(b, d), abi.OK, "copy badged")
    _expect_cap(d, abi.KIND_ENDPOINT, abi.RIGHTS_ALL, 0x5EED)
    _expect_cap(ep, abi.KIND_ENDPOINT, abi.RIGHTS_ALL, 0)


def move_and_delete() -> None:
    """Move empties the source; delete empties a slot but the object lives on through its other copies."""
    n = _notification()
    if n == spawn.NONE:
        return
    res: syscall.SysResult
    m = spawn.take()
    harness.expect_eq(syscall.cap_move(n, m), abi.OK, "move")
    harness.expect_eq(syscall.cap_identify(n, addr(res)), abi.ERR_EMPTY_SLOT, "source after move")
    _expect_cap(m, abi.KIND_NOTIFICATION, abi.RIGHTS_ALL, 0)
    harness.expect_eq(syscall.cap_move(m, m), abi.ERR_SLOT_FULL, "move onto itself")
    harness.expect_eq(syscall.cap_move(n, m), abi.ERR_EMPTY_SLOT, "move from an empty slot")
    c = spawn.take()
    harness.expect_eq(syscall.cap_copy(m, c), abi.OK, "copy")
    harness.expect_eq(syscall.cap_delete(m), abi.OK, "delete")
    harness.expect_eq(syscall.cap_identify(m, addr(res)), abi.ERR_EMPTY_SLOT, "deleted slot")
    harness.expect_eq(syscall.cap_delete(m), abi.ERR_EMPTY_SLOT, "delete twice")
    # The object lives on: a signal through the other copy is still seen.
    harness.expect_eq(syscall.ntfn_signal(c, 0x30), abi.OK, "signal through the copy")
    if harness.expect_eq(syscall.ntfn_poll(c, addr(res)), abi.OK, "poll"):
        harness.expect_eq(res.v0, 0x30, "bits")


def endpoint_rights() -> None:
    """A READ-only endpoint cannot send, a WRITE-only one cannot receive: ERR_RIGHTS, and nothing is queued."""
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    res: syscall.SysResult
    ro = spawn.take()
    syscall.cap_mint(ep, ro, abi.RIGHT_READ, 0)
    wo = spawn.take()
    syscall.cap_mint(ep, wo, abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.ep_send(ro, 1, 2, 3, 4, 5), abi.ERR_RIGHTS, "send on READ-only")
    harness.expect_eq(syscall.ep_recv(wo, abi.NO_WAIT, addr(res)), abi.ERR_RIGHTS, "receive on WRITE-only")
    harness.expect_eq(syscall.ep_recv(ro, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "receive on READ-only")


def notification_rights() -> None:
    """A READ-only notification cannot signal; a WRITE-only one cannot poll or wait."""
    n = _notification()
    if n == spawn.NONE:
        return
    res: syscall.SysResult
    ro = spawn.take()
    syscall.cap_mint(n, ro, abi.RIGHT_READ, 0)
    wo = spawn.take()
    syscall.cap_mint(n, wo, abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.ntfn_signal(ro, 1), abi.ERR_RIGHTS, "signal on READ-only")
    harness.expect_eq(syscall.ntfn_poll(wo, addr(res)), abi.ERR_RIGHTS, "poll on WRITE-only")
    harness.expect_eq(syscall.ntfn_wait(wo, addr(res)), abi.ERR_RIGHTS, "wait on WRITE-only")
    harness.expect_eq(syscall.ntfn_signal(wo, 1), abi.OK, "signal on WRITE-only")
    if harness.expect_eq(syscall.ntfn_poll(ro, addr(res)), abi.OK, "poll on READ-only"):
        harness.expect_eq(res.v0, 1, "bits")


def frame_rights() -> None:
    """A frame without WRITE cannot be mapped writable, without EXEC not executable; W+X never."""
    f = spawn.frame(1)
    if f == spawn.NONE:
        return
    ro = spawn.take()
    syscall.cap_mint(f, ro, abi.RIGHT_READ, 0)
    va: usize = spawn.TEST_AREA
    rw: usize = abi.RIGHT_READ | abi.RIGHT_WRITE
    harness.expect_eq(syscall.proc_map(SELF, ro, va, rw), abi.ERR_RIGHTS, "map READ-only frame writable")
    harness.expect_eq(syscall.proc_map(SELF, ro, va, abi.RIGHT_READ | abi.RIGHT_EXEC), abi.ERR_RIGHTS,
                      "map READ-only frame executable")
    none = spawn.take()
    syscall.cap_mint(f, none, abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.proc_map(SELF, none, va, abi.RIGHT_WRITE), abi.ERR_RIGHTS,
                      "map a frame without READ")
    harness.expect_eq(syscall.proc_map(SELF, f, va, abi.RIGHT_WRITE | abi.RIGHT_EXEC), abi.ERR_INVALID_ARG,
                      "W+X")
    harness.expect_eq(syscall.proc_map(SELF, ro, va, abi.RIGHT_READ), abi.OK, "map READ-only frame readable")
    # The initrd's frame has no WRITE right either.
    harness.expect_eq(syscall.proc_map(SELF, initcaps.SLOT_INITRD, va + 0x10_0000, rw), abi.ERR_RIGHTS,
                      "map the initrd writable")


def process_and_thread_rights() -> None:
    """Process and thread operations check their rights: READ reads, WRITE changes, GRANT gives, DESTROY destroys."""
    res: syscall.SysResult
    p = spawn.child(spawn.CHILD_QUOTA, False)
    if p == spawn.NONE:
        return
    pro = spawn.take()
    syscall.cap_mint(p, pro, abi.RIGHT_READ, 0)
    dst = spawn.take()
    harness.expect_eq(syscall.proc_create(pro, abi.KIND_ENDPOINT, dst, 0), abi.ERR_RIGHTS, "create via READ-only")
    harness.expect_eq(syscall.proc_info(pro, addr(res)), abi.OK, "info via READ-only")
    pwo = spawn.take()
    syscall.cap_mint(p, pwo, abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.proc_info(pwo, addr(res)), abi.ERR_RIGHTS, "info via WRITE-only")
    harness.expect_eq(syscall.cap_destroy(pwo), abi.ERR_RIGHTS, "destroy without DESTROY")
    # GRANT: a capability without it cannot be given to another process.
    n = _notification()
    nog = spawn.take()
    syscall.cap_mint(n, nog, abi.RIGHT_READ | abi.RIGHT_WRITE, 0)
    harness.expect_eq(syscall.proc_give(p, nog, 3), abi.ERR_RIGHTS, "give without GRANT")
    harness.expect_eq(syscall.proc_give(p, n, 3), abi.OK, "give with GRANT")
    harness.expect_eq(syscall.proc_give(p, n, 3), abi.ERR_SLOT_FULL, "give onto a full slot")
    # A thread capability with READ only may read the state but not start the thread.
    t = spawn.child_thread(p, 0, 0, 0, spawn.LOW)
    if t == spawn.NONE:
        return
    tro = spawn.take()
    syscall.cap_mint(t, tro, abi.RIGHT_READ, 0)
    harness.expect_eq(syscall.thread_start(tro), abi.ERR_RIGHTS, "start via READ-only")
    harness.expect_eq(syscall.thread_set_regs(tro, 0, 0, 0, 0), abi.ERR_RIGHTS, "set regs via READ-only")
    if harness.expect_eq(syscall.thread_state(tro, addr(res)), abi.OK, "state via READ-only"):
        harness.expect_eq(res.v0, abi.STATE_INACTIVE, "state")


def system_objects_cannot_be_destroyed() -> None:
    """Init's console, IRQ control and devices carry no DESTROY right: OP_CAP_DESTROY is ERR_RIGHTS."""
    harness.expect_eq(syscall.cap_destroy(initcaps.SLOT_CONSOLE), abi.ERR_RIGHTS, "console")
    harness.expect_eq(syscall.cap_destroy(initcaps.SLOT_IRQ_CONTROL), abi.ERR_RIGHTS, "IRQ control")
    harness.expect_eq(syscall.cap_destroy(initcaps.SLOT_DEVICES), abi.ERR_RIGHTS, "UART device")
    res: syscall.SysResult
    harness.expect_eq(syscall.cap_identify(initcaps.SLOT_CONSOLE, addr(res)), abi.OK, "console still there")


def wrong_kind() -> None:
    """An operation on a capability of another kind is ERR_WRONG_KIND, whatever its rights."""
    n = _notification()
    if n == spawn.NONE:
        return
    res: syscall.SysResult
    harness.expect_eq(syscall.ep_send(n, 0, 0, 0, 0, 0), abi.ERR_WRONG_KIND, "send on a notification")
    harness.expect_eq(syscall.thread_start(n), abi.ERR_WRONG_KIND, "start a notification")
    harness.expect_eq(syscall.proc_info(n, addr(res)), abi.ERR_WRONG_KIND, "info of a notification")
    harness.expect_eq(syscall.frame_info(n, addr(res)), abi.ERR_WRONG_KIND, "frame info of a notification")
    harness.expect_eq(syscall.proc_map(SELF, n, spawn.TEST_AREA, abi.RIGHT_READ), abi.ERR_WRONG_KIND,
                      "map a notification")


def destroy_makes_every_copy_stale() -> None:
    """After OP_CAP_DESTROY every copy and mint is ERR_STALE; stale ones can still be moved and deleted."""
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    res: syscall.SysResult
    c = spawn.take()
    syscall.cap_copy(ep, c)
    m = spawn.take()
    syscall.cap_mint(ep, m, abi.RIGHT_WRITE, 9)
    harness.expect_eq(syscall.cap_destroy(ep), abi.OK, "destroy")
    harness.expect_eq(syscall.cap_identify(ep, addr(res)), abi.ERR_STALE, "the destroyed slot")
    harness.expect_eq(syscall.cap_identify(c, addr(res)), abi.ERR_STALE, "copy")
    harness.expect_eq(syscall.ep_send(m, 0, 0, 0, 0, 0), abi.ERR_STALE, "badged mint")
    harness.expect_eq(syscall.ep_recv(c, abi.NO_WAIT, addr(res)), abi.ERR_STALE, "receive")
    harness.expect_eq(syscall.cap_destroy(c), abi.ERR_STALE, "destroy again")
    d = spawn.take()
    harness.expect_eq(syscall.cap_copy(c, d), abi.ERR_STALE, "copy a stale capability")
    harness.expect_eq(syscall.cap_mint(c, d, abi.RIGHT_READ, 0), abi.ERR_STALE, "mint a stale capability")
    harness.expect_eq(syscall.cap_move(c, d), abi.OK, "move a stale capability")
    harness.expect_eq(syscall.cap_delete(d), abi.OK, "delete a stale capability")


def reused_pool_slot_unreachable() -> None:
    """An object made after a destroy (in the pool slot just freed) is never reached by the old capability."""
    res: syscall.SysResult
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_ENDPOINT, addr(res))
    free_before = res.v0
    ep = _endpoint()
    if ep == spawn.NONE:
        return
    old = spawn.take()
    syscall.cap_copy(ep, old)
    syscall.cap_destroy(ep)
    syscall.cap_delete(ep)
    # The pool hands out the slot freed last first, so the new endpoint takes the old one's place.
    fresh = _endpoint()
    if fresh == spawn.NONE:
        return
    syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_ENDPOINT, addr(res))
    harness.expect_eq(res.v0, free_before - 1, "free endpoints")
    harness.expect_eq(syscall.cap_identify(old, addr(res)), abi.ERR_STALE, "old capability")
    harness.expect_eq(syscall.ep_recv(old, abi.NO_WAIT, addr(res)), abi.ERR_STALE, "receive via the old one")
    harness.expect_eq(syscall.ep_recv(fresh, abi.NO_WAIT, addr(res)), abi.ERR_WOULD_BLOCK, "the new one works")
    harness.expect_eq(syscall.cap_destroy(old), abi.ERR_STALE, "destroy via the old one")
    harness.expect_eq(syscall.cap_identify(fresh, addr(res)), abi.OK, "the new one survives")


def run() -> None:
    """Run every test of this module."""
    spawn.pools_saved()
    harness.begin("capops: copy keeps kind, rights and badge")
    copy_keeps_everything()
    spawn.done()
    harness.begin("capops: mint only shrinks rights")
    mint_shrinks_rights()
    spawn.done()
    harness.begin("capops: a badge is set once")
    mint_badges_once()
    spawn.done()
    harness.begin("capops: move and delete")
    move_and_delete()
    spawn.done()
    harness.begin("capops: endpoint rights are enforced")
    endpoint_rights()
    spawn.done()
    harness.begin("capops: notification rights are enforced")
    notification_rights()
    spawn.done()
    harness.begin("capops: frame rights limit mappings")
    frame_rights()
    spawn.done()
    harness.begin("capops: process and thread rights are enforced")
    process_and_thread_rights()
    spawn.done()
    harness.begin("capops: system objects cannot be destroyed")
    system_objects_cannot_be_destroyed()
    spawn.done()
    harness.begin("capops: wrong kind")
    wrong_kind()
    spawn.done()
    harness.begin("capops: destroy makes every copy stale")
    destroy_makes_every_copy_stale()
    spawn.done()
    harness.begin("capops: a reused pool slot is not reached by a stale capability")
    reused_pool_slot_unreachable()
    spawn.done()
    harness.begin("capops: invariants hold and pools are restored")
    spawn.expect_clean()
    harness.end()
