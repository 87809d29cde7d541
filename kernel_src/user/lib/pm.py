"""Client of the process manager (init): start a program, poll its state, kill it, list processes, memory."""

from kcc.lang import *

from lib import abi, string
from user.lib import clone as _clone
from user.lib import proto, syscall


@struct
class ProcInfo:
    """One process as PM_PS reports it."""

    pid: usize
    parent: usize
    state: usize            # proto.PS_*
    restarts: usize
    exit_code: usize
    name: Array[u8, 17]     # the first 16 bytes of its program name, NUL-terminated


def _call(label: usize, w0: usize, res: Ptr[syscall.SysResult]) -> usize:
    """Call the process manager; the reply's label (an error code) is the result."""
    err = syscall.ep_call(proto.SLOT_PM, label, w0, 0, 0, 0, res)
    if err != abi.OK:
        return err
    return res.v1


def spawn(line: Ptr[u8], pid: Ptr[usize], console: usize = abi.NO_CAP) -> usize:
    """Start the command ``line`` ("prog arg1 arg2", the program a name in /bin) as our child; set ``pid[0]``.

    ``console`` (abi.NO_CAP: none) is a slot of ours holding an endpoint
    that speaks the tty protocol: the child gets a copy as its console
    instead of the driver (a file the caller serves). Returns the
    error: proto.E_NOENT when there is no such program.
    """
    res: syscall.SysResult
    err = syscall.ep_send_payload(proto.SLOT_PM, proto.PM_STAGE, line, string.strlen(line), 0, addr(res))
    if err != abi.OK:
        return err
    err = syscall.invoke(proto.SLOT_PM, abi.OP_EP_CALL, proto.PM_SPAWN, 0, 0, 0, 0, console, addr(res))
    if err == abi.OK:
        err = res.v1
    pid[0] = res.v2
    return err


def give(slot: usize, to: usize) -> usize:
    """Have the next ``spawn`` of ours put a copy of our capability in ``slot`` in the new process's slot ``to``.

    The capability needs GRANT; ``to`` is from proto.SLOT_PIPE_IN on (the
    program's own slots). Up to 6 wait for one spawn, which takes them
    whether it succeeds or not. Returns the error (ERR_INVALID_ARG: a slot
    ``to`` below that; proto.E_NOSPC: too many waiting).
    """
    res: syscall.SysResult
    err = syscall.invoke(proto.SLOT_PM, abi.OP_EP_CALL, proto.PM_GIVE | to << proto.SLOT_SHIFT, 0, 0, 0, 0, slot,
                         addr(res))
    if err != abi.OK:
        return err
    return res.v1


def clone(pages: usize, pid: Ptr[usize]) -> usize:
    """Fork: make a copy of this process, its memory copy-on-write, that goes on from this call as our child.

    Returns twice: in the caller with ``pid[0]`` = the clone's id, and in
    the clone with ``pid[0]`` = 0 (both with abi.OK). ``pages`` of our quota
    become the clone's (its page tables and the pages it writes: one per
    page it stores to, as ours from now on are charged to us). The clone
    runs this thread only (POSIX fork), at our priority, with our program
    name in ``ps``; it gets our console (SLOT_TTY) and looks the other
    services up again, so a descriptor of ours is not one of its
    (user/lib/fsc.py keeps descriptors per client). The clone is owned by
    us: it ends when we end (its memory is our frames), and its exit code
    reaches us through ``status``/``wait``. Errors (nothing made):
    ERR_NO_MEMORY (our quota, or ``pages`` too few for its page tables),
    proto.E_NOSPC (the process table), abi errors of the kernel.
    """
    regs: _clone.Regs
    console: usize = abi.NO_CAP
    res: syscall.SysResult
    if syscall.cap_identify(proto.SLOT_TTY, addr(res)) == abi.OK:
        console = proto.SLOT_TTY
    err = _clone.fork_invoke(addr(regs), proto.SLOT_PM, abi.OP_EP_CALL, proto.PM_CLONE, addr(_clone.resume),
                             usize(addr(regs)), pages, 0, console)
    if err == _clone.CHILD:
        pid[0] = 0
        return abi.OK
    if err == abi.OK:
        err = regs.w[_clone.R_RESULTS + 2]      # the reply's label
    pid[0] = regs.w[_clone.R_RESULTS + 3]
    return err


def wait(pid: usize, code: Ptr[usize]) -> usize:
    """Wait until process ``pid`` has ended (polling PM_STATUS once a tick); its exit code to ``code[0]``.

    Returns the error of PM_STATUS (proto.E_NOENT: no such process).
    """
    state: usize = 0
    while True:
        err = status(pid, addr(state), code)
        if err != abi.OK or state != proto.PS_RUNNING:
            return err
        syscall.sleep(1)


def status(pid: usize, state: Ptr[usize], code: Ptr[usize]) -> usize:
    """The state (proto.PS_*) and exit code of process ``pid``, without waiting; the error (E_NOENT: unknown)."""
    res: syscall.SysResult
    err = _call(proto.PM_STATUS, pid, addr(res))
    state[0] = res.v2
    code[0] = res.v3
    return err


def kill(pid: usize) -> usize:
    """Kill process ``pid``; the error (E_NOENT when it is not running)."""
    res: syscall.SysResult
    return _call(proto.PM_KILL, pid, addr(res))


def ps(index: usize, out: Ptr[ProcInfo]) -> usize:
    """Entry ``index`` of the process table into ``out`` (pid 0: an unused entry); E_NOENT past the end."""
    res: syscall.SysResult
    err = _call(proto.PM_PS, index, addr(res))
    if err != abi.OK:
        return err
    out.pid = res.v2 & 0xFFFF
    out.parent = (res.v2 >> 16) & 0xFFFF
    out.state = (res.v2 >> 32) & 0xFF
    out.restarts = res.v2 >> 40
    out.exit_code = res.v3
    src = cast(Ptr[u8], addr(res.v4))       # v4, v5: consecutive words holding the name
    for i in range(usize(0), 16):
        out.name[i] = src[i]
    out.name[16] = 0
    return abi.OK


def mem(res: Ptr[syscall.SysResult]) -> usize:
    """PM_MEM: v2 = free pages of init's quota, v3 = pages it uses, v4 = free threads, v5 = free frames."""
    return _call(proto.PM_MEM, 0, res)


def state_name(state: usize) -> Ptr[u8]:
    """A short name for a proto.PS_* state."""
    if state == proto.PS_RUNNING:
        return "running"
    if state == proto.PS_EXITED:
        return "exited"
    if state == proto.PS_FAULTED:
        return "faulted"
    if state == proto.PS_KILLED:
        return "killed"
    return "-"
