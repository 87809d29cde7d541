"""init: starts the system from the manifest etc/init.rc and runs the process manager and the name service.

Init holds every capability the kernel gave it (lib/initcaps.py), so it is
the one place that builds processes (user/init/loader.py), grants them the
devices the manifest names, and keeps the process table: ids, names,
states, parents, exit codes. It serves one endpoint; each process it starts
holds a copy badged with its id (proto.SLOT_PM), so init knows who calls.
The protocol is proto.PM_*:

- names: a service registers its endpoint under a name; a lookup gives the
  caller a copy badged with the caller's id, put straight into the caller's
  table (init holds every process capability, so the reply needs no
  capability transfer);
- processes: spawn (a staged command line), clone (the caller's memory
  copy-on-write, user/lib/clone.py), status (never blocks: a shell polls it
  while it watches for Ctrl-C), kill, ps, mem.

Every thread init starts has init's endpoint as its fault endpoint. A
process whose main thread exits or faults, whose process died of a fault in
another thread, or that was killed, is destroyed; one the manifest marks
``restart`` is started again whatever the reason (a driver or service keeps
the system going, Hubris-style; the top-level shell comes back after
Ctrl-D, as a getty would). Exits are noticed by polling the main threads' states at
every message and at least every REAP_TICKS ticks.
"""

import board
from kcc.lang import *

from lib import abi, cpio, initcaps, string
from user.init import loader
from user.lib import clone, console, proto, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

MANIFEST: Final = "etc/init.rc"
SLOT_EP: Final = initcaps.INIT_FIRST_FREE           # the process manager's endpoint
SLOT_RECV: Final = initcaps.INIT_FIRST_FREE + 1     # a capability that arrives with a message
SLOT_TMP: Final = initcaps.INIT_FIRST_FREE + 2      # a minted copy on its way to a client
SLOT_UART_IRQ: Final = initcaps.INIT_FIRST_FREE + 3  # the UART's interrupt line, claimed once
SLOT_FRAME: Final = initcaps.INIT_FIRST_FREE + 4    # the loader's frame being filled
SLOT_FS: Final = initcaps.INIT_FIRST_FREE + 5       # the file system, when a program is loaded from a file
SLOT_FILE: Final = initcaps.INIT_FIRST_FREE + 6     # the loader's buffer for an executable read from a file
FIRST_DYNAMIC: Final = initcaps.INIT_FIRST_FREE + 7  # process, thread and service capabilities from here on

MAX_PROCS: Final = 24
MAX_NAMES: Final = 8
REAP_TICKS: Final = 10
PRIO_PROGRAM: Final = 20                # programs started with PM_SPAWN
EXTRA_PROGRAM: Final = 64               # pages of quota beyond its image for such a program
RES_UART: Final = 1                     # manifest flag "uart": the UART's registers and its IRQ
RES_INITRD: Final = 2                   # manifest flag "initrd": the initrd frame


@struct
class Proc:
    """One entry of the process table (pid 0: a free entry)."""

    pid: usize
    parent: usize
    state: usize            # proto.PS_*
    exit_code: usize
    tid: usize              # the kernel's id of the main thread (fault messages name it)
    pslot: usize            # init's slots of the process and its main thread
    tslot: usize
    prio: usize
    extra: usize            # quota pages beyond the image
    res: usize              # RES_* granted at start
    restart: bool
    restarts: usize
    console: usize          # init's slot of a console endpoint the spawner gave, for the process's SLOT_TTY (0: none)
    argc: usize
    args_len: usize
    args: Array[u8, loader.ARGS_MAX]


@struct
class Name:
    """A registered service: its name, init's slot of its endpoint and the id of the process that registered it."""

    slot: usize             # 0: a free entry
    owner: usize
    name: Array[u8, proto.NAME_MAX + 1]


_procs: Array[Proc, MAX_PROCS]
_names: Array[Name, MAX_NAMES]
_next_pid: usize = 1
_staged: Array[u8, loader.ARGS_MAX]
_staged_len: usize = 0
_staged_by: usize = 0       # the badge that staged the command line (0: nothing staged)
GIFTS_MAX: Final = 6
_gift_slot: Array[usize, GIFTS_MAX]     # init's slots of capabilities given with PM_GIVE (0: none)
_gift_to: Array[usize, GIFTS_MAX]       # the slot each goes to in the process of the giver's next PM_SPAWN
_gifts_by: usize = 0                    # the badge that gave them
_gifting: bool = False                  # PM_SPAWN is starting the giver's program: _finish hands the gifts over


def _free_slot(after: usize) -> usize:
    """The first empty slot of init's table from FIRST_DYNAMIC on, above ``after``; 0 when the table is full."""
    res: syscall.SysResult
    slot: usize = FIRST_DYNAMIC
    while slot < board.CAP_SLOTS:
        if slot != after and syscall.cap_identify(slot, addr(res)) == abi.ERR_EMPTY_SLOT:
            return slot
        slot += 1
    return 0


def _drop_gifts() -> None:
    """Forget the capabilities given with PM_GIVE (deleting init's copies)."""
    global _gifts_by
    for k in range(usize(0), GIFTS_MAX):
        if _gift_slot[k] != 0:
            syscall.cap_delete(_gift_slot[k])
            _gift_slot[k] = 0
    _gifts_by = 0


def _give_next(badge: usize, to: usize) -> usize:
    """PM_GIVE: keep the capability in SLOT_RECV for slot ``to`` of ``badge``'s next PM_SPAWN; the error.

    Gifts of another caller are dropped. ``to`` must be a program's own
    slot (from proto.SLOT_PIPE_IN); E_NOSPC when GIFTS_MAX are waiting.
    """
    global _gifts_by
    if to < proto.SLOT_PIPE_IN or to >= board.CAP_SLOTS:
        return abi.ERR_INVALID_ARG
    if _gifts_by != badge:
        _drop_gifts()
    for k in range(usize(0), GIFTS_MAX):
        if _gift_slot[k] == 0:
            slot = _free_slot(0)
            if slot == 0 or syscall.cap_move(SLOT_RECV, slot) != abi.OK:
                return proto.E_NOSPC
            _gift_slot[k] = slot
            _gift_to[k] = to
            _gifts_by = badge
            return abi.OK
    return proto.E_NOSPC


def _by_pid(pid: usize) -> usize:
    """The table index of live or dead process ``pid``; MAX_PROCS when there is none."""
    for i in range(usize(0), MAX_PROCS):
        if pid != 0 and _procs[i].pid == pid:
            return i
    return MAX_PROCS


def _split(line: Ptr[u8], length: usize, out: Ptr[u8], argc: Ptr[usize]) -> usize:
    """Split ``length`` bytes of ``line`` at spaces and tabs into NUL-terminated words in ``out``.

    ``out`` holds loader.ARGS_MAX bytes; sets ``argc[0]``; returns the bytes
    used (0 when there is no word or they do not fit).
    """
    n: usize = 0
    argc[0] = 0
    i: usize = 0
    while i < length:
        while i < length and (line[i] == 0x20 or line[i] == 0x09):
            i += 1
        if i == length or line[i] == 0:
            break
        if argc[0] + 1 >= loader.ARGV_MAX:
            return 0
        while i < length and line[i] != 0x20 and line[i] != 0x09 and line[i] != 0:
            if n + 1 >= loader.ARGS_MAX:
                return 0
            out[n] = line[i]
            n += 1
            i += 1
        out[n] = 0
        n += 1
        argc[0] += 1
    return n


def _give(p: usize, src: usize, dst: usize) -> usize:
    """Copy init's capability in ``src`` into slot ``dst`` of process ``p``; the error."""
    return syscall.proc_give(p, src, dst)


def _start(e: Ptr[Proc]) -> usize:
    """Load and start the program of entry ``e`` (its args, prio, extra, res) under a fresh pid; the error."""
    e.pslot = _free_slot(0)
    e.tslot = _free_slot(e.pslot)
    if e.pslot == 0 or e.tslot == 0:
        return proto.E_NOSPC
    name = addr(e.args[0])
    if string.starts_with(name, "/bin/"):
        name = name + 5                     # the initrd has every program of /bin: no need to ask fs
    fs: usize = 0
    if name[0] == 0x2F and _connect_fs():
        fs = SLOT_FS
    err = loader.load(name, addr(e.args[0]), e.args_len, e.argc, e.extra, e.pslot, e.tslot, SLOT_FRAME, e.prio,
                      SLOT_EP, fs, SLOT_FILE)
    if err != abi.OK:
        return err
    return _finish(e)


def _finish(e: Ptr[Proc]) -> usize:
    """Give the new process of entry ``e`` (built in e.pslot, e.tslot) its id and slots, and start it; the error.

    On an error the process is destroyed and both slots emptied.
    """
    global _next_pid
    _next_pid += 1
    e.pid = _next_pid
    res: syscall.SysResult
    syscall.thread_id(e.tslot, addr(res))
    e.tid = res.v0
    err = _give(e.pslot, e.pslot, proto.SLOT_PROCESS)
    if err == abi.OK:
        err = _give(e.pslot, e.tslot, proto.SLOT_THREAD)
    if err == abi.OK:
        err = _give(e.pslot, initcaps.SLOT_CONSOLE, proto.SLOT_CONSOLE)
    if err == abi.OK:
        err = syscall.cap_mint(SLOT_EP, SLOT_TMP, abi.RIGHT_WRITE | abi.RIGHT_GRANT, e.pid)
    if err == abi.OK:
        err = _give(e.pslot, SLOT_TMP, proto.SLOT_PM)
        syscall.cap_delete(SLOT_TMP)
    if err == abi.OK and e.res == RES_UART:
        err = _give(e.pslot, initcaps.SLOT_DEVICES, proto.SLOT_RES0)
        if err == abi.OK:
            err = _give(e.pslot, SLOT_UART_IRQ, proto.SLOT_RES1)
    if err == abi.OK and e.res == RES_INITRD:
        err = _give(e.pslot, initcaps.SLOT_INITRD, proto.SLOT_RES0)
    if err == abi.OK and e.console != 0:
        # The spawner's own console for this program (a file it serves): only the first start gets it.
        err = _give(e.pslot, e.console, proto.SLOT_TTY)
        syscall.cap_delete(e.console)
        e.console = 0
    if _gifting:
        for k in range(usize(0), GIFTS_MAX):
            if err == abi.OK and _gift_slot[k] != 0:
                err = _give(e.pslot, _gift_slot[k], _gift_to[k])
    if err == abi.OK:
        err = syscall.thread_start(e.tslot)
    if err != abi.OK:
        syscall.cap_destroy(e.pslot)
        syscall.cap_delete(e.pslot)
        syscall.cap_delete(e.tslot)
        return err
    e.state = proto.PS_RUNNING
    e.exit_code = 0
    return abi.OK


def _entry() -> usize:
    """A table index for a new process: a free entry, else the oldest ended one; MAX_PROCS when all run."""
    best: usize = MAX_PROCS
    for i in range(usize(0), MAX_PROCS):
        if _procs[i].pid == 0:
            return i
        if _procs[i].state != proto.PS_RUNNING and (best == MAX_PROCS or _procs[i].pid < _procs[best].pid):
            best = i
    return best


def _take_console(e: Ptr[Proc], console: usize) -> bool:
    """Move init's slot ``console`` (0: none) to a free slot of init's, recorded as ``e.console``.

    False when no slot is free (``e.console`` is then 0, and ``console`` stays where it was).
    """
    e.console = 0
    if console == 0:
        return True
    e.console = _free_slot(0)
    if e.console == 0 or syscall.cap_move(console, e.console) != abi.OK:
        e.console = 0
        return False
    return True


def _settle(e: Ptr[Proc], err: usize, pid: Ptr[usize]) -> usize:
    """The end of PM_SPAWN and PM_CLONE for entry ``e``: returns ``err``.

    On success ``pid[0]`` is the new process's id; on failure the entry is
    free again and the console it was to get is deleted.
    """
    if err != abi.OK:
        if e.console != 0:
            syscall.cap_delete(e.console)
        e.pid = 0
        return err
    pid[0] = e.pid
    return abi.OK


def spawn(line: Ptr[u8], length: usize, parent: usize, prio: usize, extra: usize, res: usize, restart: bool,
          console: usize, pid: Ptr[usize]) -> usize:
    """Start the command ``line`` (``length`` bytes: program and arguments) as a child of ``parent``.

    ``console`` (0: none) is a slot of init's holding an endpoint that
    becomes the program's proto.SLOT_TTY, moved out of init's table.
    Sets ``pid[0]``; returns the error (proto.E_NOENT: no such program,
    E_NOSPC: the table is full, kernel errors such as ERR_NO_MEMORY).
    """
    i = _entry()
    if i == MAX_PROCS:
        return proto.E_NOSPC
    e = addr(_procs[i])
    argc: usize = 0
    n = _split(line, length, addr(e.args[0]), addr(argc))
    if n == 0:
        return abi.ERR_INVALID_ARG
    e.args_len = n
    e.argc = argc
    e.parent = parent
    e.prio = prio
    e.extra = extra
    e.res = res
    e.restart = restart
    e.restarts = 0
    if not _take_console(e, console):
        e.pid = 0
        return proto.E_NOSPC
    return _settle(e, _start(e), pid)


def _clone(badge: usize, pc: usize, regs: usize, pages: usize, console: usize, pid: Ptr[usize]) -> usize:
    """PM_CLONE: clone the calling process ``badge`` (user/lib/clone.py) and list the clone as its child.

    The clone is owned by the caller with ``pages`` of the caller's quota;
    its thread starts at ``pc`` with sp = a0 = ``regs`` at the caller's
    priority, its name and arguments are the caller's, and it is never
    restarted. ``console`` (0: none) is a slot of init's holding the
    caller's console, for the clone's SLOT_TTY. Sets ``pid[0]``; the error
    (E_NOSPC: the table or init's slots are full; ERR_NO_MEMORY: the
    caller's quota; ERR_BAD_STATE: the caller maps a device).
    """
    c = _by_pid(badge)
    if c == MAX_PROCS or _procs[c].state != proto.PS_RUNNING or _procs[c].tslot == 0:
        return abi.ERR_INVALID_ARG
    i = _entry()
    if i == MAX_PROCS:
        return proto.E_NOSPC
    src = addr(_procs[c])
    e = addr(_procs[i])
    e.pid = 0
    if not _take_console(e, console):
        return proto.E_NOSPC
    e.pslot = _free_slot(0)
    e.tslot = _free_slot(e.pslot)
    err: usize = proto.E_NOSPC
    if e.pslot != 0 and e.tslot != 0:
        err = clone.make(src.pslot, pages, e.pslot, e.tslot, pc, regs, regs, src.prio, SLOT_EP)
    if err != abi.OK:
        return _settle(e, err, pid)
    string.memcpy(addr(e.args[0]), addr(src.args[0]), loader.ARGS_MAX)
    e.args_len = src.args_len
    e.argc = src.argc
    e.parent = badge
    e.prio = src.prio
    e.extra = pages
    e.res = 0
    e.restart = False
    e.restarts = 0
    return _settle(e, _finish(e), pid)


def _connect_fs() -> bool:
    """Put a capability to the registered file system (badged with init's id, 1) in SLOT_FS; False without one."""
    syscall.cap_delete(SLOT_FS)
    for i in range(usize(0), MAX_NAMES):
        if _names[i].slot != 0 and string.streq(addr(_names[i].name[0]), "fs"):
            return syscall.cap_mint(_names[i].slot, SLOT_FS, abi.RIGHT_WRITE, 1) == abi.OK
    return False


def _drop_names(pid: usize) -> None:
    """Forget every name process ``pid`` registered (its endpoints died with it)."""
    for i in range(usize(0), MAX_NAMES):
        if _names[i].slot != 0 and _names[i].owner == pid:
            syscall.cap_delete(_names[i].slot)
            _names[i].slot = 0


def _ended(e: Ptr[Proc], state: usize, code: usize, why: Ptr[u8]) -> None:
    """Process ``e`` ended (``state``, exit ``code``): destroy what is left of it, then restart it if it should."""
    syscall.cap_destroy(e.pslot)
    syscall.cap_delete(e.pslot)
    syscall.cap_delete(e.tslot)
    _drop_names(e.pid)
    e.state = state
    e.exit_code = code
    # Its clones were owned by it (user/lib/clone.py), so the kernel has just destroyed them too.
    res: syscall.SysResult
    for i in range(usize(0), MAX_PROCS):
        k = addr(_procs[i])
        if k.pid != 0 and k.parent == e.pid and k.state == proto.PS_RUNNING and k.tslot != 0 and \
                syscall.thread_state(k.tslot, addr(res)) == abi.ERR_STALE:
            _ended(k, proto.PS_KILLED, proto.KILLED_CODE, "ended with its parent")
    if not e.restart:
        return
    old = e.pid
    e.restarts += 1
    err = _start(e)
    if err != abi.OK:
        console.printf("init: %s (pid %u) %s; restart failed: error %u\n", usize(addr(e.args[0])), old, usize(why),
                       err)
        e.pid = old
        return
    console.printf("init: %s (pid %u) %s; restarted as pid %u\n", usize(addr(e.args[0])), old, usize(why), e.pid)


def reap() -> None:
    """Notice processes whose main thread exited or whose whole process is gone, and end them."""
    res: syscall.SysResult
    for i in range(usize(0), MAX_PROCS):
        e = addr(_procs[i])
        if e.pid == 0 or e.state != proto.PS_RUNNING or e.tslot == 0:
            continue
        if syscall.thread_state(e.tslot, addr(res)) != abi.OK:
            _ended(e, proto.PS_FAULTED, proto.FAULT_CODE, "died")
        elif res.v0 == abi.STATE_EXITED:
            _ended(e, proto.PS_EXITED, res.v1, "exited")


def _fault(tid: usize, kind: usize, pc: usize, address: usize) -> None:
    """A thread init started faulted: report it and end its process."""
    for i in range(usize(0), MAX_PROCS):
        e = addr(_procs[i])
        if e.pid != 0 and e.state == proto.PS_RUNNING and e.tid == tid:
            console.printf("init: %s (pid %u) faulted: kind %u at pc %p, address %p\n", usize(addr(e.args[0])), e.pid,
                           kind, pc, address)
            _ended(e, proto.PS_FAULTED, proto.FAULT_CODE, "faulted")
            return


def _register(badge: usize, words: Ptr[proto.Words]) -> usize:
    """PM_REGISTER: keep the capability that came in SLOT_RECV under the packed name; the error."""
    name: Array[u8, proto.NAME_MAX + 1]
    proto.unpack(words, addr(name[0]))
    free: usize = MAX_NAMES
    for i in range(usize(0), MAX_NAMES):
        if _names[i].slot != 0 and string.streq(addr(_names[i].name[0]), addr(name[0])):
            syscall.cap_delete(_names[i].slot)
            _names[i].slot = 0
        if _names[i].slot == 0 and free == MAX_NAMES:
            free = i
    if free == MAX_NAMES:
        return proto.E_NOSPC
    slot = _free_slot(0)
    if slot == 0:
        return proto.E_NOSPC
    err = syscall.cap_move(SLOT_RECV, slot)
    if err != abi.OK:
        return err
    _names[free].slot = slot
    _names[free].owner = badge
    string.memcpy(addr(_names[free].name[0]), addr(name[0]), proto.NAME_MAX + 1)
    return abi.OK


def _lookup(badge: usize, dst: usize, words: Ptr[proto.Words]) -> usize:
    """PM_LOOKUP: put a copy of the named endpoint, badged with the caller's id, in the caller's ``dst``."""
    name: Array[u8, proto.NAME_MAX + 1]
    proto.unpack(words, addr(name[0]))
    caller = _by_pid(badge)
    if caller == MAX_PROCS or _procs[caller].state != proto.PS_RUNNING:
        return abi.ERR_INVALID_ARG
    for i in range(usize(0), MAX_NAMES):
        if _names[i].slot != 0 and string.streq(addr(_names[i].name[0]), addr(name[0])):
            err = syscall.cap_mint(_names[i].slot, SLOT_TMP, abi.RIGHT_WRITE | abi.RIGHT_GRANT, badge)
            if err == abi.OK:
                err = syscall.proc_give(_procs[caller].pslot, SLOT_TMP, dst)
                syscall.cap_delete(SLOT_TMP)
            if err == abi.ERR_STALE:
                return proto.E_NOENT        # its service died and has not registered again yet
            return err
    return proto.E_NOENT


def _kill(pid: usize) -> usize:
    """PM_KILL: destroy process ``pid`` (restarting it if the manifest says so); the error."""
    i = _by_pid(pid)
    if i == MAX_PROCS or _procs[i].state != proto.PS_RUNNING:
        return proto.E_NOENT
    if _procs[i].tslot == 0:
        return abi.ERR_INVALID_ARG          # init itself
    _ended(addr(_procs[i]), proto.PS_KILLED, proto.KILLED_CODE, "killed")
    return abi.OK


def _name_word(e: Ptr[Proc], index: usize) -> usize:
    """Bytes 8*index .. 8*index+7 of the program name (argv[0]) of ``e``, little-endian, NUL-padded."""
    w: usize = 0
    for k in range(usize(0), 8):
        at = index * 8 + k
        if at >= e.args_len or e.args[at] == 0:
            break
        w |= usize(e.args[at]) << (k * 8)
    return w


def _serve(badge: usize, label: usize, res: Ptr[syscall.SysResult], out: Ptr[proto.Words]) -> usize:
    """Handle one call; put its results in ``out`` and return the reply's label (the error)."""
    global _gifting
    words: proto.Words
    words.w[0] = res.v2
    words.w[1] = res.v3
    words.w[2] = res.v4
    words.w[3] = res.v5
    op = label & 0xFFFF
    if op == proto.PM_REGISTER:
        if label & abi.MSG_CAP == 0:
            return abi.ERR_INVALID_ARG
        return _register(badge, addr(words))
    if op == proto.PM_LOOKUP:
        return _lookup(badge, (label & abi.LABEL_MASK) >> proto.SLOT_SHIFT, addr(words))
    if op == proto.PM_SPAWN:
        if _staged_by != badge:
            return abi.ERR_INVALID_ARG
        console: usize = SLOT_RECV if label & abi.MSG_CAP != 0 else 0
        _gifting = _gifts_by == badge
        err = spawn(addr(_staged[0]), _staged_len, badge, PRIO_PROGRAM, EXTRA_PROGRAM, 0, False, console,
                    addr(out.w[0]))
        _gifting = False
        if _gifts_by == badge:
            _drop_gifts()
        return err
    if op == proto.PM_GIVE:
        if label & abi.MSG_CAP == 0:
            return abi.ERR_INVALID_ARG
        return _give_next(badge, (label & abi.LABEL_MASK) >> proto.SLOT_SHIFT)
    if op == proto.PM_CLONE:
        clone_console: usize = SLOT_RECV if label & abi.MSG_CAP != 0 else 0
        return _clone(badge, res.v2, res.v3, res.v4, clone_console, addr(out.w[0]))
    if op == proto.PM_STATUS:
        i = _by_pid(res.v2)
        if i == MAX_PROCS:
            return proto.E_NOENT
        out.w[0] = _procs[i].state
        out.w[1] = _procs[i].exit_code
        return abi.OK
    if op == proto.PM_KILL:
        return _kill(res.v2)
    if op == proto.PM_PS:
        if res.v2 >= MAX_PROCS:
            return proto.E_NOENT
        e = addr(_procs[res.v2])
        out.w[0] = e.pid | (e.parent << 16) | (e.state << 32) | (e.restarts << 40)
        out.w[1] = e.exit_code
        out.w[2] = _name_word(e, 0)
        out.w[3] = _name_word(e, 1)
        return abi.OK
    if op == proto.PM_MEM:
        info: syscall.SysResult
        syscall.proc_info(initcaps.SLOT_SELF_PROCESS, addr(info))
        out.w[0] = info.v0 - info.v1
        out.w[1] = info.v1
        syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_THREAD, addr(info))
        out.w[2] = info.v0
        syscall.console_pool(initcaps.SLOT_CONSOLE, abi.KIND_FRAME, addr(info))
        out.w[3] = info.v0
        return abi.OK
    return abi.ERR_UNKNOWN_OP


def _number(p: Ptr[u8], at: Ptr[usize], end: usize) -> usize:
    """Read a decimal number at ``p[at[0]]`` after blanks, advancing ``at``; 0 when there is none."""
    while at[0] < end and (p[at[0]] == 0x20 or p[at[0]] == 0x09):
        at[0] += 1
    v: usize = 0
    while at[0] < end and 0x30 <= p[at[0]] <= 0x39:
        v = v * 10 + usize(p[at[0]] - 0x30)
        at[0] += 1
    return v


def _has_word(p: Ptr[u8], start: usize, end: usize, word: Ptr[u8]) -> bool:
    """True when the blank-separated word ``word`` appears in ``p[start:end]``."""
    n = string.strlen(word)
    i = start
    while i + n <= end:
        before = i == start or p[i - 1] == 0x20 or p[i - 1] == 0x09
        after = i + n == end or p[i + n] == 0x20 or p[i + n] == 0x09
        if before and after:
            same = True
            for k in range(usize(0), n):
                if p[i + k] != word[k]:
                    same = False
                    break
            if same:
                return True
        i += 1
    return False


def _manifest_line(p: Ptr[u8], start: usize, end: usize) -> None:
    """Start the service one manifest line names: ``NAME PRIORITY EXTRA_PAGES [restart] [uart] [initrd]``."""
    at = start
    while at < end and (p[at] == 0x20 or p[at] == 0x09):
        at += 1
    if at == end or p[at] == 0x23:          # blank or a comment
        return
    name_end = at
    while name_end < end and p[name_end] != 0x20 and p[name_end] != 0x09:
        name_end += 1
    rest = name_end
    prio = _number(p, addr(rest), end)
    extra = _number(p, addr(rest), end)
    res: usize = 0
    if _has_word(p, rest, end, "uart"):
        res = RES_UART
    if _has_word(p, rest, end, "initrd"):
        res = RES_INITRD
    pid: usize = 0
    err = spawn(p + at, name_end - at, 1, prio, extra, res, _has_word(p, rest, end, "restart"), 0, addr(pid))
    if err != abi.OK:
        console.printf("init: cannot start line %u..%u of %s: error %u\n", start, end, usize(MANIFEST), err)


def _boot() -> usize:
    """Map the initrd, create the endpoint, claim the UART's IRQ, start every manifest line; the error."""
    err = loader.map_initrd()
    if err == abi.OK:
        err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_ENDPOINT, SLOT_EP, 0)
    if err == abi.OK:
        err = syscall.irq_claim(initcaps.SLOT_IRQ_CONTROL, board.UART0_IRQ, SLOT_UART_IRQ)
    if err != abi.OK:
        return err
    _procs[0].pid = 1
    _procs[0].state = proto.PS_RUNNING
    string.memcpy(addr(_procs[0].args[0]), "init", 5)
    _procs[0].args_len = 5
    f: cpio.CpioFile
    if not loader.find(MANIFEST, addr(f)):
        return proto.E_NOENT
    text = cast(Ptr[u8], f.data)
    start: usize = 0
    for i in range(usize(0), f.size + 1):
        if i == f.size or text[i] == 0x0A:
            _manifest_line(text, start, i)
            start = i + 1
    return abi.OK


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Boot the system from the manifest, then serve the process manager forever (halt with 1 if boot fails)."""
    global _staged_len, _staged_by
    me: syscall.SysResult
    if syscall.self_info(addr(me)) == abi.OK:
        console.printf("init: hello from user space, thread %x (%u capability slots, priority %u)\n", me.v0, me.v1,
                       me.v2)
    err = _boot()
    if err != abi.OK:
        console.printf("init: boot failed: error %u\n", err)
        syscall.console_halt(initcaps.SLOT_CONSOLE, 1)
    res: syscall.SysResult
    acc: syscall.SysResult
    out: proto.Words
    while True:
        reap()
        syscall.cap_delete(SLOT_RECV)
        err = syscall.ep_recv_cap(SLOT_EP, REAP_TICKS, SLOT_RECV, addr(res))
        if err != abi.OK:
            continue
        badge = res.v0
        label = res.v1
        if label & abi.MSG_PAYLOAD != 0:
            if label & abi.LABEL_MASK == proto.PM_STAGE and \
                    syscall.accept(addr(_staged[0]), loader.ARGS_MAX - 1, addr(acc)) == abi.OK:
                _staged_len = acc.v0
                _staged_by = badge
            else:
                syscall.refuse()
            continue
        if label & abi.LABEL_MASK == abi.LABEL_FAULT and badge == 0:
            _fault(res.v5, res.v2, res.v4, res.v3)
            continue
        reap()
        for k in range(u32(0), 4):
            out.w[k] = 0
        status = _serve(badge, label & (abi.LABEL_MASK | abi.MSG_CAP), addr(res), addr(out))
        syscall.reply(status, out.w[0], out.w[1], out.w[2], out.w[3])
