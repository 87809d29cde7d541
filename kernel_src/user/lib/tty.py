"""Client of the console driver (user/uart, registered as "tty"): write, read, Ctrl-C count, printf.

The capability lives in proto.SLOT_TTY and is looked up on first use,
unless the process was started with one there (a file its parent serves
with the same protocol: pm.spawn). When
the driver dies (killed, faulted) the capability goes stale; every call then
looks the name up again, waiting up to RECONNECT_TICKS for the restarted
driver to register, and retries, so a program survives a driver restart.

A program started as an end of a pipe (user/lib/pipe.py: the slots
proto.SLOT_PIPE_OUT, proto.SLOT_PIPE_IN) writes its output into the pipe it
holds, or reads its input from it, instead of the console; the rest (Ctrl-C
count, flush) still goes to the console.
"""

from kcc.lang import *

from lib import abi, string
from lib import kprintf as fmt
from user.lib import names, pipe, proto, syscall

NAME: Final = "tty"
RECONNECT_TICKS: Final = 500    # 5 s at HZ 100: a restart takes a few ticks
LINE_MAX: Final = 256           # one printf's output is formatted on the stack and cut at this size less one

_connected: bool = False
_looked: bool = False           # the pipe slots were looked at (_pipes)
_out: pipe.End                  # the pipe output goes to (ring 0: the console)
_in: pipe.End                   # the pipe input comes from (ring 0: the console)


def _pipes() -> None:
    """On first use, attach the pipes this process was started with (none: output and input are the console)."""
    global _looked
    if _looked:
        return
    _looked = True
    res: syscall.SysResult
    if syscall.cap_identify(proto.SLOT_PIPE_OUT, addr(res)) == abi.OK:
        pipe.attach(addr(_out), proto.SLOT_PIPE_OUT, proto.SLOT_PIPE_OUT + 1, proto.SLOT_PIPE_OUT + 2, pipe.OUT_VA)
    if syscall.cap_identify(proto.SLOT_PIPE_IN, addr(res)) == abi.OK:
        pipe.attach(addr(_in), proto.SLOT_PIPE_IN, proto.SLOT_PIPE_IN + 1, proto.SLOT_PIPE_IN + 2, pipe.IN_VA)


def _reconnect() -> bool:
    """Look the driver up again into SLOT_TTY; False when it does not come back within RECONNECT_TICKS."""
    global _connected
    _connected = names.connect(NAME, proto.SLOT_TTY, RECONNECT_TICKS) == abi.OK
    return _connected


def _lost(err: usize) -> bool:
    """True when ``err`` says the driver's endpoint is gone (or was never there) and a reconnect may help."""
    return err == abi.ERR_STALE or err == abi.ERR_EMPTY_SLOT


def _ready() -> bool:
    """Connect on first use (keeping a console the process was started with); False when there is none."""
    global _connected
    if _connected:
        return True
    res: syscall.SysResult
    if syscall.cap_identify(proto.SLOT_TTY, addr(res)) == abi.OK:
        _connected = True       # a file the parent serves, given at start (pm.spawn)
        return True
    return _reconnect()


def write(text: Ptr[u8], length: usize) -> usize:
    """Print ``length`` bytes at ``text`` on the console (or into our pipe); abi.OK or the last attempt's error."""
    _pipes()
    if _out.ring != 0:
        return pipe.write(addr(_out), text, length)
    if not _ready():
        return proto.E_NOENT
    done: usize = 0
    res: syscall.SysResult
    while done < length:
        chunk = length - done
        if chunk > abi.MAX_PAYLOAD:
            chunk = abi.MAX_PAYLOAD
        err = syscall.ep_send_payload(proto.SLOT_TTY, proto.TTY_WRITE, text + done, chunk, 0, addr(res))
        if _lost(err):
            if not _reconnect():
                return err
            continue
        if err != abi.OK:
            return err
        done += res.v0
    return abi.OK


def puts(text: Ptr[u8]) -> usize:
    """Print the NUL-terminated ``text`` (no newline added); return the error."""
    return write(text, string.strlen(text))


def putc(c: u8) -> usize:
    """Print one byte; return the error."""
    b: Array[u8, 1]
    b[0] = c
    return write(addr(b[0]), 1)


@printf_like("fmt_text")
def printf(fmt_text: Ptr[u8], a: usize = 0, b: usize = 0, c: usize = 0, d: usize = 0, e: usize = 0,
           f: usize = 0) -> usize:
    """Format ``fmt_text`` (lib/kprintf.py's conversions) with up to six arguments and print it; the error."""
    buf: Array[u8, LINE_MAX]
    n = fmt.ksnprintf(addr(buf[0]), LINE_MAX, fmt_text, a, b, c, d, e, f)
    if n >= LINE_MAX:
        n = LINE_MAX - 1
    return write(addr(buf[0]), n)


def _call(label: usize, w0: usize, w1: usize, res: Ptr[syscall.SysResult]) -> usize:
    """Call the driver, reconnecting once when it is gone; the reply's label (an error code) is the result."""
    if not _ready():
        return proto.E_NOENT
    err = syscall.ep_call(proto.SLOT_TTY, label, w0, w1, 0, 0, res)
    if _lost(err):
        if not _reconnect():
            return err
        err = syscall.ep_call(proto.SLOT_TTY, label, w0, w1, 0, 0, res)
    if err != abi.OK:
        return err
    return res.v1


def read(buf: Ptr[u8], capacity: usize, nowait: bool) -> usize:
    """Read up to ``capacity`` (at most 32) typed bytes into ``buf``; return how many (0: none, or an error).

    Waits for at least one byte unless ``nowait``; 0 also means the end of
    our pipe (its writer is done). Ctrl-C arrives as byte 3.
    """
    res: syscall.SysResult
    if capacity > 32:
        capacity = 32
    _pipes()
    if _in.ring != 0:
        return pipe.read(addr(_in), buf, capacity, nowait)
    err = _call(proto.TTY_READ, capacity, proto.READ_NOWAIT if nowait else 0, addr(res))
    if err & 0xFFFF != abi.OK:
        return 0
    n = err >> proto.COUNT_SHIFT
    src = cast(Ptr[u8], addr(res.v2))      # w0..w3 are v2..v5, consecutive words of the result
    for i in range(usize(0), n):
        buf[i] = src[i]
    return n


def getc() -> u8:
    """Wait for one typed byte and return it (0 when the driver is gone)."""
    b: Array[u8, 1]
    if read(addr(b[0]), 1, False) == 0:
        return 0
    return b[0]


def interrupts() -> usize:
    """How many Ctrl-C were typed since the driver started (0 when it is gone); compare two readings."""
    res: syscall.SysResult
    if _call(proto.TTY_INTR, 0, 0, addr(res)) != abi.OK:
        return 0
    return res.v2


def flush() -> usize:
    """Drop whatever was typed and not yet read; return the error."""
    res: syscall.SysResult
    return _call(proto.TTY_FLUSH, 0, 0, addr(res))
