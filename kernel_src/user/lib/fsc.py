"""Client of the file system service ("fs", user/fs): open, read, write, close, stat, readdir, mkdir, unlink.

Paths are absolute (the shell resolves relative ones against its current
directory, user/lib/path.py); each operation on a path first sends it as a
payload (proto.FS_PATH). The capability lives in proto.SLOT_FS and is
looked up on first use, and again when the service was restarted (its old
endpoint is stale; descriptors opened before are gone with it). Every
function returns an error code: abi.OK, abi.ERR_* or proto.E_*.
"""

from kcc.lang import *

from lib import abi, string
from user.lib import names, proto, syscall

NAME: Final = "fs"
RECONNECT_TICKS: Final = 500

_connected: bool = False


def _ready(force: bool) -> bool:
    """Look the service up when not connected yet (or ``force``); False when it is not there."""
    global _connected
    if _connected and not force:
        return True
    _connected = names.connect(NAME, proto.SLOT_FS, RECONNECT_TICKS) == abi.OK
    return _connected


def _lost(err: usize) -> bool:
    """True when ``err`` says the service's endpoint is gone."""
    return err == abi.ERR_STALE or err == abi.ERR_EMPTY_SLOT


def _send_path(path: Ptr[u8]) -> usize:
    """Send ``path`` as the path of the next operation; reconnects once if the service restarted."""
    n = string.strlen(path)
    if n > proto.PATH_MAX:
        return proto.E_NAMETOOLONG
    if not _ready(False):
        return proto.E_NOENT
    res: syscall.SysResult
    err = syscall.ep_send_payload(proto.SLOT_FS, proto.FS_PATH, path, n, 0, addr(res))
    if _lost(err) and _ready(True):
        err = syscall.ep_send_payload(proto.SLOT_FS, proto.FS_PATH, path, n, 0, addr(res))
    return err


def _call(label: usize, w0: usize, w1: usize, res: Ptr[syscall.SysResult]) -> usize:
    """Call the service; the reply's label (error, and a count in its upper bits for reads) is the result."""
    if not _ready(False):
        return proto.E_NOENT
    err = syscall.ep_call(proto.SLOT_FS, label, w0, w1, 0, 0, res)
    if err != abi.OK:
        return err
    return res.v1


def _path_call(path: Ptr[u8], label: usize, w0: usize, res: Ptr[syscall.SysResult]) -> usize:
    """Send ``path``, then call with ``label`` and ``w0``; the error."""
    err = _send_path(path)
    if err != abi.OK:
        return err
    return _call(label, w0, 0, res)


def open(path: Ptr[u8], flags: usize, fd: Ptr[usize]) -> usize:
    """Open ``path`` with proto.OPEN_* ``flags``; the descriptor goes to ``fd[0]``; the error."""
    res: syscall.SysResult
    err = _path_call(path, proto.FS_OPEN, flags, addr(res))
    fd[0] = res.v2
    return err


def read(fd: usize, buf: Ptr[u8], capacity: usize, count: Ptr[usize]) -> usize:
    """Read up to ``capacity`` bytes from ``fd`` into ``buf``; ``count[0]`` = bytes read (0 at the end); the error."""
    res: syscall.SysResult
    done: usize = 0
    while done < capacity:
        want = capacity - done
        if want > 32:
            want = 32
        label = _call(proto.FS_READ, fd, want, addr(res))
        if label & 0xFFFF != abi.OK:
            count[0] = done
            return label & 0xFFFF
        n = label >> proto.COUNT_SHIFT
        string.memcpy(buf + done, cast(Ptr[u8], addr(res.v2)), n)   # v2..v5: consecutive words
        done += n
        if n < want:
            break
    count[0] = done
    return abi.OK


def write(fd: usize, data: Ptr[u8], length: usize) -> usize:
    """Write ``length`` bytes at ``data`` to ``fd``; the error (ERR_REFUSED: not a writable descriptor)."""
    if not _ready(False):
        return proto.E_NOENT
    res: syscall.SysResult
    done: usize = 0
    while done < length:
        err = syscall.ep_send_payload(proto.SLOT_FS, proto.FS_WRITE, data + done, length - done, fd, addr(res))
        if err != abi.OK:
            return err
        if res.v0 == 0:
            return proto.E_NOSPC
        done += res.v0
    return abi.OK


def close(fd: usize) -> usize:
    """Close ``fd``; the error."""
    res: syscall.SysResult
    return _call(proto.FS_CLOSE, fd, 0, addr(res))


def stat(path: Ptr[u8], kind: Ptr[usize], size: Ptr[usize]) -> usize:
    """The kind (proto.FS_FILE or FS_DIR) and size in bytes of ``path``; the error."""
    res: syscall.SysResult
    err = _path_call(path, proto.FS_STAT, 0, addr(res))
    kind[0] = res.v2
    size[0] = res.v3
    return err


def readdir(path: Ptr[u8], index: usize, kind: Ptr[usize], size: Ptr[usize], name: Ptr[u8]) -> usize:
    """Entry ``index`` of directory ``path``: its kind, size and name (FS_NAME_MAX + 1 bytes); E_NOENT past the end."""
    res: syscall.SysResult
    err = _path_call(path, proto.FS_READDIR, index, addr(res))
    if err != abi.OK:
        return err
    kind[0] = res.v2 & 0xFF
    size[0] = res.v2 >> 8
    string.memcpy(name, cast(Ptr[u8], addr(res.v3)), proto.FS_NAME_MAX)    # v3..v5: the name's 24 bytes
    name[proto.FS_NAME_MAX] = 0
    return abi.OK


def mkdir(path: Ptr[u8]) -> usize:
    """Make the directory ``path``; the error (E_EXIST, E_NOENT for a missing parent)."""
    res: syscall.SysResult
    return _path_call(path, proto.FS_MKDIR, 0, addr(res))


def unlink(path: Ptr[u8]) -> usize:
    """Remove the file or empty directory ``path``; the error (E_NOTEMPTY)."""
    res: syscall.SysResult
    return _path_call(path, proto.FS_UNLINK, 0, addr(res))


def usage(res: Ptr[syscall.SysResult]) -> usize:
    """FS_USAGE: v2 = nodes used, v3 = nodes, v4 = blocks used, v5 = blocks."""
    return _call(proto.FS_USAGE, 0, 0, res)


def error_text(err: usize) -> Ptr[u8]:
    """A short message for an error code of the services."""
    if err == proto.E_NOENT:
        return "no such file or directory"
    if err == proto.E_EXIST:
        return "file exists"
    if err == proto.E_NOTDIR:
        return "not a directory"
    if err == proto.E_ISDIR:
        return "is a directory"
    if err == proto.E_NOTEMPTY:
        return "directory not empty"
    if err == proto.E_NOSPC:
        return "no space left"
    if err == proto.E_NAMETOOLONG:
        return "name too long"
    if err == proto.E_BADF:
        return "bad descriptor"
    return "error"
