"""sh: the interactive shell on the console driver: line editing, built-in commands, programs from /bin.

Reads a line after the prompt ``$ `` with user/lib/line.py's editing
(backspace, Ctrl-U, Ctrl-C abandons the line, Ctrl-D on an empty line exits
this shell: a nested one returns to its parent, the top-level one is
restarted by init). A line is words separated by blanks; ``$?`` is the last
exit status. Built-ins are listed by ``help``; any other word is a program
in /bin, started through the process manager with the line's words as its
argv (``run PROG ARGS`` says the same explicitly). The shell waits for it,
polling its state, and kills it when Ctrl-C is typed meanwhile; with a
final ``&`` it prints the new id and does not wait. Files are
the file system service's (user/fs, through user/lib/fsc.py); the shell
keeps a current directory and resolves relative paths against it
(user/lib/path.py). ``CMD > FILE`` sends a built-in's output to FILE.
``A | B`` connects A's output to B's input through a pipe
(user/lib/pipe.py) the shell makes for the job.
"""

from kcc.lang import *

from lib import abi, initcaps, string
from user.lib import cmds, fsc, line, path, pipe, pm, proto, syscall, text, tty
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

MAX_WORDS: Final = 16
WAIT_TICKS: Final = 1           # between two looks at a foreground program
NO_FD: Final = 0xFFFF_FFFF      # _redirect_fd when output goes to the console

_words: Array[usize, MAX_WORDS]     # addresses of the words in _store
_nwords: usize = 0
_store: Array[u8, line.LINE_MAX + MAX_WORDS * 4]
_status: usize = 0                  # the last exit status, $?
_cmd: Array[u8, line.LINE_MAX + 1]  # a program's command line as sent to the process manager
_cwd: Array[u8, path.PATH_MAX + 1]  # the current directory, absolute ("" until main sets "/")
_target: usize = 0                  # the word after ">" (0: no redirection)
_background: bool = False           # the line ended with "&": start the program and do not wait
_redirect_fd: usize = NO_FD         # where built-ins write while a "> FILE" is in force
_path: Array[u8, path.PATH_MAX + 1]  # a resolved path argument
_io: Array[u8, 256]

# A program's "> FILE" (alone or on the right of "|"): its console is the shell's own endpoint, badged
# B_FILE, and the shell serves the tty protocol on it while it waits (_serve_job).
SLOT_JOBS: Final = proto.FIRST_FREE
SLOT_MINT: Final = proto.FIRST_FREE + 1
B_FILE: Final = 3
JOB_IO: Final = 4096
_job_fd: usize = NO_FD          # the file of "> FILE" for a job's console output
_job_io: Array[u8, JOB_IO]
# The pipe of "A | B": made for the job, mapped by the shell too (to write a built-in's output into it and to
# close it when A ends), given to A and B by init in their pipe slots (pm.give).
SLOT_FRAME: Final = proto.FIRST_FREE + 2
SLOT_DATA: Final = proto.FIRST_FREE + 3     # B waits on it, A signals it
SLOT_SPACE: Final = proto.FIRST_FREE + 4    # A waits on it, B signals it
JOB_VA: Final = 0x3A_0002_0000              # not pipe.OUT_VA: a shell started on a pipe maps that one
_job_pipe: pipe.End                         # the shell's writing end (ring 0: no pipe)
_to_pipe: bool = False          # a built-in on the left of "|" writes into the pipe
_reader: usize = 0              # the pid of B while the built-in A writes


def _write(data: Ptr[u8], n: usize) -> usize:
    """Built-in output: into the pipe, to the redirection's file while one is in force, else to the console.

    Returns the error code (the pipe's reader ended: the rest is dropped).
    """
    if _to_pipe:
        return _pipe_write(data, n)
    if _redirect_fd != NO_FD:
        return fsc.write(_redirect_fd, data, n)
    return tty.write(data, n)


def _puts(msg: Ptr[u8]) -> None:
    """Built-in output of a NUL-terminated string."""
    _write(msg, string.strlen(msg))


def _resolve(arg: Ptr[u8]) -> Ptr[u8]:
    """``arg`` made absolute against the current directory, in _path."""
    path.resolve(addr(_cwd[0]), arg, addr(_path[0]))
    return addr(_path[0])


def _word(i: usize) -> Ptr[u8]:
    """Word ``i`` of the current line."""
    return cast(Ptr[u8], _words[i])


def _is(i: usize, name: Ptr[u8]) -> bool:
    """True when word ``i`` exists and is ``name``."""
    return i < _nwords and string.streq(_word(i), name)


def _split(text: Ptr[u8]) -> None:
    """Split ``text`` at blanks into _words; ``$?`` becomes the last status; ``> FILE`` sets _target."""
    global _nwords, _target, _background
    _nwords = 0
    _target = 0
    _background = False
    out: usize = 0
    i: usize = 0
    while text[i] != 0 and _nwords < MAX_WORDS:
        while text[i] == 0x20 or text[i] == 0x09:
            i += 1
        if text[i] == 0:
            break
        if text[i] == 0x3E:                 # ">": the next word (or the rest of this one) is the target
            i += 1
            while text[i] == 0x20 or text[i] == 0x09:
                i += 1
            _target = _nwords + 1           # word numbers from 1 so that 0 means none
        start = addr(_store[out])
        _words[_nwords] = usize(start)
        if text[i] == 0x24 and text[i + 1] == 0x3F and (text[i + 2] == 0 or text[i + 2] == 0x20):
            n: usize = 0
            digits: Array[u8, 24]
            v = _status
            while True:
                digits[n] = u8(0x30 + v % 10)
                n += 1
                v = v // 10
                if v == 0:
                    break
            while n > 0:
                n -= 1
                _store[out] = digits[n]
                out += 1
            i += 2
        else:
            while text[i] != 0 and text[i] != 0x20 and text[i] != 0x09:
                _store[out] = text[i]
                out += 1
                i += 1
        _store[out] = 0
        out += 1
        _nwords += 1
    if _nwords > 0 and string.streq(_word(_nwords - 1), "&"):
        _background = True
        _nwords -= 1


def _read_line() -> u32:
    """Read one edited line (echoing as it goes); return line.ACT_ENTER, ACT_INTR or ACT_EOF."""
    line.reset()
    while True:
        c = tty.getc()
        act = line.feed(c)
        if act == line.ACT_ECHO:
            tty.putc(c)
        elif act == line.ACT_ERASE:
            for i in range(usize(0), line.erased()):
                tty.puts("\b \b")
        elif act == line.ACT_ENTER:
            tty.puts("\n")
            return act
        elif act == line.ACT_INTR:
            tty.puts("^C\n")
            return act
        elif act == line.ACT_EOF:
            tty.puts("\n")
            return act


def _help() -> None:
    """The built-in commands."""
    _puts("built-in commands:\n"
             "  help              this list\n"
             "  echo WORDS        print the words\n"
             "  ls [PATH]         list a directory (/ and /bin, /etc from the initrd)\n"
             "  cat FILE...       print files\n"
             "  cd [DIR], pwd     change, print the current directory\n"
             "  mkdir DIR, rm PATH  make a directory, remove a file or an empty directory\n"
             "  cp SRC DST        copy a file (a program copied anywhere runs by its path)\n"
             "  run PROG ARGS     run a program of /bin (a bare PROG does the same; PROG ARGS & in the background)\n"
             "  ps                the processes\n"
             "  kill PID          stop a process\n"
             "  mem               free memory and kernel object pools\n"
             "  exit [N]          leave this shell (Ctrl-D on an empty line too)\n"
             "  halt              power the machine off\n"
             "ls, cat, ps and kill are also programs in /bin: run ls, /bin/cat, ... | cat\n"
             "  (they take paths from /; the built-ins from the current directory)\n"
             "CMD > FILE writes the output of CMD to FILE; A | B pipes A's output into B;\n"
             "$? is the last exit status;\n"
             "Ctrl-C stops the program running in the foreground.\n")


def _echo() -> None:
    """echo: the words after it, separated by one space."""
    for i in range(usize(1), _nwords):
        if i > 1:
            _puts(" ")
        _puts(_word(i))
    _puts("\n")


def _kill() -> usize:
    """kill PID: ask the process manager to destroy the process."""
    if _nwords != 2:
        tty.puts("usage: kill PID\n")
        return 2
    return cmds.kill(_word(1))


def _mem() -> usize:
    """mem: free pages, and the kernel's object pools."""
    res: syscall.SysResult
    if pm.mem(addr(res)) != abi.OK:
        tty.puts("mem: the process manager did not answer\n")
        return 1
    cmds.printf(_write, "memory: %u KiB free, %u KiB used by init and its processes\n", res.v2 * 4, res.v3 * 4)
    names: Array[usize, 6]
    names[0] = usize("processes")
    names[1] = usize("threads")
    names[2] = usize("endpoints")
    names[3] = usize("notifications")
    names[4] = usize("frames")
    names[5] = usize("irqs")
    pool: syscall.SysResult
    for k in range(usize(0), 6):
        if syscall.console_pool(initcaps.SLOT_CONSOLE, k + abi.KIND_PROCESS, addr(pool)) == abi.OK:
            cmds.printf(_write, "  %-14s %3u of %3u free\n", names[k], pool.v0, pool.v1)
    if fsc.usage(addr(res)) == abi.OK:
        cmds.printf(_write, "  %-14s %3u of %3u free\n", usize("file nodes"), res.v3 - res.v2, res.v3)
        cmds.printf(_write, "  %-14s %3u of %3u free (4 KiB each)\n", usize("file blocks"), res.v5 - res.v4, res.v5)
    return 0


def _ls() -> usize:
    """ls [PATH]: the entries of a directory (the current one without PATH), or a file's name."""
    return cmds.ls(_write, _resolve(_word(1) if _nwords > 1 else "."))


def _cat() -> usize:
    """cat FILE...: print each file."""
    status: usize = 0
    for w in range(usize(1), _nwords):
        status |= cmds.cat(_write, _resolve(_word(w)), _word(w))
    return status


def _has_slash(text: Ptr[u8]) -> bool:
    """True when ``text`` holds a "/" (a path rather than a program name of /bin)."""
    i: usize = 0
    while text[i] != 0:
        if text[i] == 0x2F:
            return True
        i += 1
    return False


def _cp() -> usize:
    """cp SRC DST: copy a file (DST is created or emptied first)."""
    if _nwords != 3:
        tty.puts("usage: cp SRC DST\n")
        return 2
    src: usize = 0
    dst: usize = 0
    err = fsc.open(_resolve(_word(1)), 0, addr(src))
    if err != abi.OK:
        return cmds.fail("cp", _word(1), err)
    err = fsc.open(_resolve(_word(2)), proto.OPEN_WRITE | proto.OPEN_CREATE | proto.OPEN_TRUNC, addr(dst))
    if err != abi.OK:
        fsc.close(src)
        return cmds.fail("cp", _word(2), err)
    n: usize = 0
    while err == abi.OK:
        err = fsc.read(src, addr(_io[0]), 256, addr(n))
        if err != abi.OK or n == 0:
            break
        err = fsc.write(dst, addr(_io[0]), n)
    fsc.close(src)
    fsc.close(dst)
    if err != abi.OK:
        return cmds.fail("cp", _word(2), err)
    return 0


def _cd() -> usize:
    """cd [DIR]: change the current directory (to / without an argument)."""
    arg: Ptr[u8] = "/"
    if _nwords > 1:
        arg = _word(1)
    p = _resolve(arg)
    kind: usize = 0
    size: usize = 0
    err = fsc.stat(p, addr(kind), addr(size))
    if err == abi.OK and kind != proto.FS_DIR:
        err = proto.E_NOTDIR
    if err != abi.OK:
        return cmds.fail("cd", arg, err)
    string.memcpy(addr(_cwd[0]), p, string.strlen(p) + 1)
    return 0


def _each_path(what: Ptr[u8], make: bool) -> usize:
    """mkdir DIR... (``make``) or rm PATH...: apply to each argument; status 1 if one failed."""
    status: usize = 0
    if _nwords < 2:
        tty.printf("usage: %s PATH...\n", usize(what))
        return 2
    for w in range(usize(1), _nwords):
        p = _resolve(_word(w))
        err = fsc.mkdir(p) if make else fsc.unlink(p)
        if err != abi.OK:
            status = cmds.fail(what, _word(w), err)
    return status


def _wait(pid: usize) -> usize:
    """Wait for process ``pid`` to end, killing it on Ctrl-C; return its exit status."""
    state: usize = 0
    code: usize = 0
    base = tty.interrupts()
    while True:
        if pm.status(pid, addr(state), addr(code)) != abi.OK:
            return 1
        if state != proto.PS_RUNNING:
            if state == proto.PS_FAULTED:
                tty.printf("sh: process %u faulted\n", pid)
            return code
        if tty.interrupts() != base:
            pm.kill(pid)
            tty.flush()
            tty.puts("^C\n")
            base = tty.interrupts()
        syscall.sleep(WAIT_TICKS)


def _start(first: usize, last: usize, console: usize, pid: Ptr[usize]) -> usize:
    """Start words ``first`` .. ``last`` - 1 as a program (with ``console`` as its console, abi.NO_CAP: the driver).

    Sets ``pid[0]``; returns abi.OK, or the exit status to report after
    printing why it could not start (127: not found, 126: not executable).
    """
    n: usize = 0
    for i in range(first, last):
        w = _word(i)
        if i == first and _has_slash(w):
            w = _resolve(w)                 # a program file of the file system, by its absolute path
        k = string.strlen(w)
        if n + k + 2 > line.LINE_MAX:
            break
        if i > first:
            _cmd[n] = 0x20
            n += 1
        string.memcpy(addr(_cmd[n]), w, k)
        n += k
    _cmd[n] = 0
    err = pm.spawn(addr(_cmd[0]), pid, console)
    if err == proto.E_NOENT:
        tty.printf("sh: %s: command not found\n", usize(_word(first)))
        return 127
    if err == proto.E_NOEXEC:
        tty.printf("sh: %s: not an executable\n", usize(_word(first)))
        return 126
    if err != abi.OK:
        tty.printf("sh: %s: cannot start: error %u\n", usize(_word(first)), err)
        return 126
    return abi.OK


def _run(first: usize) -> usize:
    """Start words ``first``.. as a program and wait for it (unless "&"); return its exit status."""
    pid: usize = 0
    err = _start(first, _nwords, abi.NO_CAP, addr(pid))
    if err != abi.OK:
        return err
    if _background:
        tty.printf("[%u]\n", pid)
        return 0
    return _wait(pid)


def _pipe_write(data: Ptr[u8], n: usize) -> usize:
    """A built-in's output into the job's pipe, waiting for room while its reader runs; the error code.

    The shell looks again every tick instead of waiting on the space
    notification: it must notice a reader that ended without reading
    (proto.E_NOENT, the rest dropped) and Ctrl-C, which kills the reader.
    """
    done: usize = 0
    code: usize = 0
    base = tty.interrupts()
    while done < n:
        k = pipe.put(addr(_job_pipe), data + done, n - done)
        done += k
        if k == 0:
            if not _running(_reader, addr(code)):
                return proto.E_NOENT
            if tty.interrupts() != base:
                pm.kill(_reader)
                tty.flush()
                tty.puts("^C\n")
                return proto.E_NOENT
            syscall.sleep(WAIT_TICKS)
    return abi.OK


def _job_message(res: Ptr[syscall.SysResult]) -> None:
    """Serve one tty-protocol message from the program writing the file of "> FILE"."""
    label = res.v1 & abi.LABEL_MASK
    acc: syscall.SysResult
    if res.v1 & abi.MSG_PAYLOAD != 0:
        if label == proto.TTY_WRITE and syscall.accept(addr(_job_io[0]), JOB_IO, addr(acc)) == abi.OK:
            fsc.write(_job_fd, addr(_job_io[0]), acc.v0)
        else:
            syscall.refuse()
        return
    if label == proto.TTY_READ:
        syscall.reply(abi.OK, 0, 0, 0, 0)   # a program writing a file has no input
    elif label == proto.TTY_INTR:
        syscall.reply(abi.OK, tty.interrupts(), 0, 0, 0)
    elif label == proto.TTY_FLUSH:
        syscall.reply(abi.OK, 0, 0, 0, 0)
    else:
        syscall.reply(abi.ERR_UNKNOWN_OP, 0, 0, 0, 0)


def _running(pid: usize, code: Ptr[usize]) -> bool:
    """True while process ``pid`` (0: none) runs; once it ended, its exit status goes to ``code``."""
    state: usize = 0
    if pid == 0:
        return False
    if pm.status(pid, addr(state), code) != abi.OK:
        code[0] = 1
        return False
    return state == proto.PS_RUNNING


def _serve_job(writer: usize, reader: usize) -> usize:
    """Wait for a job's programs (writer 0: none) and serve "> FILE"; the reader's status.

    When the writer ends its pipe is closed (the reader sees the end of its
    input after the bytes left); when the reader ends first the writer is
    killed, as nobody takes its output any more. Ctrl-C kills both.
    """
    res: syscall.SysResult
    code: usize = 0
    writer_code: usize = 0
    writing = writer != 0
    base = tty.interrupts()
    while True:
        if writing and not _running(writer, addr(writer_code)):
            writing = False
            pipe.close(addr(_job_pipe))
        if not _running(reader, addr(code)):
            if writing:
                pm.kill(writer)
            return code
        if tty.interrupts() != base:
            pm.kill(writer)
            pm.kill(reader)
            tty.flush()
            tty.puts("^C\n")
            base = tty.interrupts()
        if syscall.ep_recv(SLOT_JOBS, WAIT_TICKS, addr(res)) == abi.OK:
            _job_message(addr(res))


def _console_for(badge: usize) -> usize:
    """A copy of the shell's job endpoint badged ``badge`` in SLOT_MINT (for pm.spawn); abi.NO_CAP on an error."""
    syscall.cap_delete(SLOT_MINT)
    if syscall.cap_mint(SLOT_JOBS, SLOT_MINT, abi.RIGHT_WRITE | abi.RIGHT_GRANT, badge) != abi.OK:
        return abi.NO_CAP
    return SLOT_MINT


def _give_pipe(first: usize, wait: usize, wake: usize) -> usize:
    """Have init give the job's pipe to the next program started: slots ``first`` .. + 2; abi.OK, else 1 (printed)."""
    err = pm.give(SLOT_FRAME, first)
    if err == abi.OK:
        err = pm.give(wait, first + 1)
    if err == abi.OK:
        err = pm.give(wake, first + 2)
    if err != abi.OK:
        tty.printf("sh: cannot give a program its pipe: error %u\n", err)
        return 1
    return abi.OK


def _make_pipe() -> usize:
    """Make the job's pipe and map it as the shell's writing end; the error (printed)."""
    err = pipe.create(SLOT_FRAME, SLOT_DATA, SLOT_SPACE)
    if err == abi.OK:
        err = pipe.attach(addr(_job_pipe), SLOT_FRAME, SLOT_SPACE, SLOT_DATA, JOB_VA)
        if err != abi.OK:
            pipe.destroy(SLOT_FRAME, SLOT_DATA, SLOT_SPACE)
    if err != abi.OK:
        tty.printf("sh: cannot make a pipe: error %u\n", err)
    return err


def _piped(bar: usize, last: usize, console: usize) -> usize:
    """Run ``A | B`` (words 0 .. ``bar`` - 1, ``bar`` + 1 .. ``last`` - 1; B's console ``console``); the status."""
    global _nwords, _to_pipe, _reader
    if _make_pipe() != abi.OK:
        return 1
    reader: usize = 0
    writer: usize = 0
    status = _give_pipe(proto.SLOT_PIPE_IN, SLOT_DATA, SLOT_SPACE)
    if status == abi.OK:
        status = _start(bar + 1, last, console, addr(reader))
    if status == abi.OK:
        _nwords = bar
        _to_pipe = True
        _reader = reader
        builtin = _builtin()                # a built-in on the left writes into the pipe itself
        _to_pipe = False
        _nwords = last
        if builtin:
            pipe.close(addr(_job_pipe))
        else:
            status = _give_pipe(proto.SLOT_PIPE_OUT, SLOT_SPACE, SLOT_DATA)
            if status == abi.OK:
                status = _start(0, bar, abi.NO_CAP, addr(writer))
            if status != abi.OK:
                pm.kill(reader)
    if status == abi.OK:
        status = _serve_job(writer, reader)
    pipe.detach(addr(_job_pipe))
    pipe.destroy(SLOT_FRAME, SLOT_DATA, SLOT_SPACE)
    return status


def _job(bar: usize) -> usize:
    """Run ``A | B``, ``A | B > FILE`` or ``PROG > FILE`` (A may be a built-in); return the exit status."""
    global _job_fd
    last = _nwords
    console: usize = abi.NO_CAP
    if _target != 0:
        p = _resolve(_word(_target - 1))
        err = fsc.open(p, proto.OPEN_WRITE | proto.OPEN_CREATE | proto.OPEN_TRUNC, addr(_job_fd))
        if err != abi.OK:
            _job_fd = NO_FD
            return cmds.fail("sh", _word(_target - 1), err)
        last = _nwords - 1
        console = _console_for(B_FILE)
    status: usize = abi.OK
    if bar != 0:
        status = _piped(bar, last, console)
    else:
        pid: usize = 0
        status = _start(0, last, console, addr(pid))
        if status == abi.OK:
            status = _serve_job(0, pid)
    syscall.cap_delete(SLOT_MINT)
    if _job_fd != NO_FD:
        fsc.close(_job_fd)
        _job_fd = NO_FD
    return status


def _bar() -> usize:
    """The index of the word "|" (0: none); MAX_WORDS when there are two, or one at either end."""
    bar: usize = 0
    for i in range(usize(0), _nwords):
        if _is(i, "|"):
            if bar != 0 or i == 0 or i + 1 == _nwords:
                return MAX_WORDS
            bar = i
    return bar


def _builtin() -> bool:
    """Run the current line when it is a built-in with output; False when it is not one."""
    global _status
    if _is(0, "help"):
        _help()
        _status = 0
    elif _is(0, "echo"):
        _echo()
        _status = 0
    elif _is(0, "ps"):
        _status = cmds.ps(_write)
    elif _is(0, "mem"):
        _status = _mem()
    elif _is(0, "ls"):
        _status = _ls()
    elif _is(0, "cat"):
        _status = _cat()
    elif _is(0, "pwd"):
        cmds.printf(_write, "%s\n", usize(addr(_cwd[0])))
        _status = 0
    else:
        return False
    return True


def _redirected() -> bool:
    """Run a built-in with its output in the file after ">"; False when the line is not a built-in."""
    global _redirect_fd, _status, _nwords
    target = _word(_target - 1)
    _nwords -= 1                            # the target is not an argument
    p = _resolve(target)
    fd: usize = 0
    err = fsc.open(p, proto.OPEN_WRITE | proto.OPEN_CREATE | proto.OPEN_TRUNC, addr(fd))
    if err != abi.OK:
        _status = cmds.fail("sh", target, err)
        return True
    _redirect_fd = fd
    done = _builtin()
    _redirect_fd = NO_FD
    fsc.close(fd)
    if not done:
        _nwords += 1                        # a program: it writes to the file through the shell
        _status = _job(0)
    return True


def _execute() -> bool:
    """Run the words of the current line; False when the shell must exit."""
    global _status
    if _nwords == 0:
        return True
    bar = _bar()
    if _target != 0 and _target != _nwords:
        tty.puts("sh: > needs one file name, last on the line\n")
        _status = 2
        return True
    if bar == MAX_WORDS:
        tty.puts("sh: | needs one program on each side\n")
        _status = 2
        return True
    if (bar != 0 or _target != 0) and _background:
        tty.puts("sh: & does not go with | or >\n")
        _status = 2
        return True
    if bar != 0:
        _status = _job(bar)
        return True
    if _target != 0:
        return _redirected()
    if _builtin():
        return True
    if _is(0, "exit"):
        code: u64 = 0
        if _nwords > 1 and not text.parse_u64(_word(1), 10, addr(code)):
            code = 2
        _status = usize(code)
        return False
    elif _is(0, "halt"):
        tty.puts("halting\n")
        syscall.console_halt(initcaps.SLOT_CONSOLE, 0)
    elif _is(0, "kill"):
        _status = _kill()
    elif _is(0, "cd"):
        _status = _cd()
    elif _is(0, "cp"):
        _status = _cp()
    elif _is(0, "mkdir"):
        _status = _each_path("mkdir", True)
    elif _is(0, "rm"):
        _status = _each_path("rm", False)
    elif _is(0, "run"):
        if _nwords < 2:
            tty.puts("usage: run PROG ARGS\n")
            _status = 2
        else:
            _status = _run(1)
    else:
        _status = _run(0)
    return True


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Prompt, read, execute until Ctrl-D or exit; return the exit status."""
    _cwd[0] = 0x2F
    err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_ENDPOINT, SLOT_JOBS, 0)
    if err != abi.OK:
        tty.printf("sh: no endpoint for pipes: error %u\n", err)
    tty.puts("kcc shell; type help for the commands\n")
    while True:
        tty.puts("$ ")
        act = _read_line()
        if act == line.ACT_EOF:
            return 0
        if act == line.ACT_ENTER:
            _split(line.text())
            if not _execute():
                return _status
