"""fs: the RAM file system service ("fs"): a writable tree of directories and files starting with the initrd's.

At start it maps the initrd (proto.SLOT_RES0, granted by init from the
manifest) and makes a node for every member: ``etc/init.rc`` becomes
/etc/init.rc, each program's ELF ``bin/NAME`` becomes /bin/NAME, and each
flat image (a member without a directory: what the kernel can start as
init) becomes /boot/NAME. Those files keep pointing into the initrd until they are
written, when their bytes are copied into blocks of the file system's own
memory (one frame of NBLOCKS pages): a file has up to FILE_BLOCKS blocks of
BLOCK bytes. The protocol is proto.FS_*: a path travels first as a payload
(FS_PATH) and is kept for that client (by badge) until its next one; file
data is written with payloads and read 32 bytes per call. Descriptors
belong to the client that opened them.
"""

import board
from kcc.lang import *

from lib import abi, string
from user.lib import console, names, proto, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

INITRD_VA: Final = 0x28_0000_0000
DATA_VA: Final = 0x30_0000_0000
BLOCK: Final = 4096
NBLOCKS: Final = 256                    # 1 MiB of file data
FILE_BLOCKS: Final = 16                 # at most 64 KiB in a written file
MAX_NODES: Final = 128
MAX_FDS: Final = 32
MAX_CLIENTS: Final = 8                  # clients with a staged path at one time
NONE: Final[u32] = 0xFFFF_FFFF
SLOT_EP: Final = proto.FIRST_FREE
SLOT_DATA: Final = proto.FIRST_FREE + 1
IO_MAX: Final = 4096                    # bytes of one write payload taken at a time

# cpio newc (lib/cpio.py describes the format)
_CPIO_HEADER: Final = 110


@struct
class Node:
    """A file or directory (``used`` False: a free node). Node 0 is the root."""

    used: bool
    dir: bool
    parent: u32
    size: usize
    ro: usize                           # the initrd bytes of a file never written (0: none)
    blocks: Array[u16, FILE_BLOCKS]     # block numbers + 1 (0: none yet)
    name: Array[u8, proto.FS_NAME_MAX + 1]


@struct
class Fd:
    """An open file: its client, node and offset."""

    used: bool
    writable: bool
    append: bool
    owner: usize
    node: u32
    offset: usize


@struct
class Staged:
    """The last path a client sent."""

    badge: usize
    path: Array[u8, proto.PATH_MAX + 1]


_nodes: Array[Node, MAX_NODES]
_fds: Array[Fd, MAX_FDS]
_staged: Array[Staged, MAX_CLIENTS]
_next_victim: usize = 0
_block_used: Array[bool, NBLOCKS]
_io: Array[u8, IO_MAX]


def _new_node(parent: u32, name: Ptr[u8], length: usize, is_dir: bool) -> u32:
    """A new empty node named by ``length`` bytes of ``name`` in directory ``parent``; NONE when full or too long."""
    if length == 0 or length > proto.FS_NAME_MAX:
        return NONE
    for i in range(u32(1), MAX_NODES):
        if not _nodes[i].used:
            n = addr(_nodes[i])
            string.memset(cast(Ptr[u8], n), 0, sizeof(Node))
            n.used = True
            n.dir = is_dir
            n.parent = parent
            string.memcpy(addr(n.name[0]), name, length)
            n.name[length] = 0
            return i
    return NONE


def _child(parent: u32, name: Ptr[u8], length: usize) -> u32:
    """The node named by ``length`` bytes of ``name`` in directory ``parent``; NONE when there is none."""
    if length == 0 or length > proto.FS_NAME_MAX:
        return NONE
    for i in range(u32(1), MAX_NODES):
        n = addr(_nodes[i])
        if n.used and n.parent == parent and n.name[length] == 0:
            same = True
            for k in range(usize(0), length):
                if n.name[k] != name[k]:
                    same = False
                    break
            if same:
                return i
    return NONE


def _walk(path: Ptr[u8], parent: Ptr[u32], leaf: Ptr[usize], leaf_len: Ptr[usize]) -> u32:
    """Resolve the absolute ``path``; return its node, or NONE when it does not exist.

    Also sets ``parent[0]`` to the directory that does or would hold it
    (NONE when that is missing or not a directory) and ``leaf``/``leaf_len``
    to its last component (for creating it). The root has itself as parent
    and an empty leaf.
    """
    cur: u32 = 0
    parent[0] = 0
    leaf[0] = usize(path)
    leaf_len[0] = 0
    i: usize = 0
    while True:
        while path[i] == 0x2F:
            i += 1
        if path[i] == 0:
            return cur
        start = i
        while path[i] != 0 and path[i] != 0x2F:
            i += 1
        if cur == NONE or not _nodes[cur].dir:
            parent[0] = NONE
            return NONE
        parent[0] = cur
        leaf[0] = usize(path + start)
        leaf_len[0] = i - start
        cur = _child(cur, path + start, i - start)
    return NONE


def _walk_only(path: Ptr[u8]) -> u32:
    """The node of ``path`` or NONE."""
    parent: u32 = 0
    leaf: usize = 0
    leaf_len: usize = 0
    return _walk(path, addr(parent), addr(leaf), addr(leaf_len))


def _data(block: u16) -> Ptr[u8]:
    """The bytes of block number ``block`` (1-based as stored in a node)."""
    return cast(Ptr[u8], DATA_VA + usize(block - 1) * BLOCK)


def _alloc_block() -> u16:
    """A free block, zeroed, as a 1-based number; 0 when none is left."""
    for b in range(usize(0), NBLOCKS):
        if not _block_used[b]:
            _block_used[b] = True
            string.memset(cast(Ptr[u8], DATA_VA + b * BLOCK), 0, BLOCK)
            return u16(b + 1)
    return 0


def _free_blocks(n: Ptr[Node]) -> None:
    """Give back every block of ``n``."""
    for k in range(usize(0), FILE_BLOCKS):
        if n.blocks[k] != 0:
            _block_used[n.blocks[k] - 1] = False
            n.blocks[k] = 0


def _read(n: Ptr[Node], offset: usize, out: Ptr[u8], count: usize) -> usize:
    """Copy up to ``count`` bytes of file ``n`` from ``offset`` to ``out``; return how many."""
    if offset >= n.size:
        return 0
    if count > n.size - offset:
        count = n.size - offset
    if n.ro != 0:
        string.memcpy(out, cast(Ptr[u8], n.ro + offset), count)
        return count
    for k in range(usize(0), count):
        at = offset + k
        b = n.blocks[at // BLOCK]
        out[k] = 0 if b == 0 else _data(b)[at % BLOCK]
    return count


def _own(n: Ptr[Node]) -> usize:
    """Give an initrd-backed file blocks of its own holding its bytes; the error (E_NOSPC when it is too big)."""
    if n.ro == 0:
        return abi.OK
    if n.size > FILE_BLOCKS * BLOCK:
        return proto.E_NOSPC
    src = n.ro
    n.ro = 0
    done: usize = 0
    k: usize = 0
    while done < n.size:
        b = _alloc_block()
        if b == 0:
            _free_blocks(n)
            n.ro = src
            return proto.E_NOSPC
        n.blocks[k] = b
        chunk = n.size - done
        if chunk > BLOCK:
            chunk = BLOCK
        string.memcpy(_data(b), cast(Ptr[u8], src + done), chunk)
        done += chunk
        k += 1
    return abi.OK


def _write(n: Ptr[Node], offset: usize, src: Ptr[u8], count: usize) -> usize:
    """Write ``count`` bytes at ``offset`` of file ``n``; return how many fit (short when the blocks run out)."""
    if _own(n) != abi.OK:
        return 0
    done: usize = 0
    while done < count:
        at = offset + done
        k = at // BLOCK
        if k >= FILE_BLOCKS:
            break
        if n.blocks[k] == 0:
            n.blocks[k] = _alloc_block()
            if n.blocks[k] == 0:
                break
        _data(n.blocks[k])[at % BLOCK] = src[done]
        done += 1
    if offset + done > n.size:
        n.size = offset + done
    return done


def _truncate(n: Ptr[Node]) -> None:
    """Empty file ``n``."""
    n.ro = 0
    _free_blocks(n)
    n.size = 0


def _staged_path(badge: usize) -> Ptr[u8]:
    """The path client ``badge`` sent last (an empty string when none)."""
    for i in range(usize(0), MAX_CLIENTS):
        if _staged[i].badge == badge:
            return addr(_staged[i].path[0])
    return ""


def _stage(badge: usize) -> None:
    """Accept the path payload announced by client ``badge`` into its entry (taking the oldest when full)."""
    global _next_victim
    slot: usize = MAX_CLIENTS
    for i in range(usize(0), MAX_CLIENTS):
        if _staged[i].badge == badge:
            slot = i
    if slot == MAX_CLIENTS:
        slot = _next_victim
        _next_victim = (_next_victim + 1) % MAX_CLIENTS
    res: syscall.SysResult
    _staged[slot].badge = badge
    if syscall.accept(addr(_staged[slot].path[0]), proto.PATH_MAX, addr(res)) == abi.OK:
        _staged[slot].path[res.v0] = 0
    else:
        _staged[slot].path[0] = 0


def _open(badge: usize, flags: usize, fd: Ptr[usize]) -> usize:
    """FS_OPEN of the staged path; sets ``fd[0]``; the error."""
    path = _staged_path(badge)
    parent: u32 = 0
    leaf: usize = 0
    leaf_len: usize = 0
    node = _walk(path, addr(parent), addr(leaf), addr(leaf_len))
    if node == NONE:
        if flags & proto.OPEN_CREATE == 0 or parent == NONE:
            return proto.E_NOENT
        if leaf_len > proto.FS_NAME_MAX:
            return proto.E_NAMETOOLONG
        node = _new_node(parent, cast(Ptr[u8], leaf), leaf_len, False)
        if node == NONE:
            return proto.E_NOSPC
    n = addr(_nodes[node])
    if n.dir:
        return proto.E_ISDIR
    for i in range(usize(0), MAX_FDS):
        if not _fds[i].used:
            if flags & proto.OPEN_TRUNC != 0 and flags & proto.OPEN_WRITE != 0:
                _truncate(n)
            _fds[i].used = True
            _fds[i].writable = flags & proto.OPEN_WRITE != 0
            _fds[i].append = flags & proto.OPEN_APPEND != 0
            _fds[i].owner = badge
            _fds[i].node = node
            _fds[i].offset = 0
            fd[0] = i
            return abi.OK
    return proto.E_NOSPC


def _fd(badge: usize, fd: usize) -> Ptr[Fd]:
    """Descriptor ``fd`` when client ``badge`` holds it and its file still exists; NULL otherwise."""
    if fd >= MAX_FDS or not _fds[fd].used or _fds[fd].owner != badge or not _nodes[_fds[fd].node].used:
        return NULL
    return addr(_fds[fd])


def _readdir(badge: usize, index: usize, out: Ptr[proto.Words]) -> usize:
    """FS_READDIR: entry ``index`` of the staged directory into ``out``; the error."""
    d = _walk_only(_staged_path(badge))
    if d == NONE:
        return proto.E_NOENT
    if not _nodes[d].dir:
        return proto.E_NOTDIR
    seen: usize = 0
    for i in range(u32(1), MAX_NODES):
        n = addr(_nodes[i])
        if n.used and n.parent == d:
            if seen == index:
                out.w[0] = (proto.FS_DIR if n.dir else proto.FS_FILE) | (n.size << 8)
                name = cast(Ptr[u8], addr(out.w[1]))     # w1..w3: consecutive words
                string.memcpy(name, addr(n.name[0]), proto.FS_NAME_MAX)
                return abi.OK
            seen += 1
    return proto.E_NOENT


def _mkdir(badge: usize) -> usize:
    """FS_MKDIR of the staged path; the error."""
    parent: u32 = 0
    leaf: usize = 0
    leaf_len: usize = 0
    if _walk(_staged_path(badge), addr(parent), addr(leaf), addr(leaf_len)) != NONE:
        return proto.E_EXIST
    if parent == NONE:
        return proto.E_NOENT
    if leaf_len > proto.FS_NAME_MAX:
        return proto.E_NAMETOOLONG
    if _new_node(parent, cast(Ptr[u8], leaf), leaf_len, True) == NONE:
        return proto.E_NOSPC
    return abi.OK


def _unlink(badge: usize) -> usize:
    """FS_UNLINK of the staged path (a file or an empty directory, never the root); the error."""
    node = _walk_only(_staged_path(badge))
    if node == NONE:
        return proto.E_NOENT
    if node == 0:
        return abi.ERR_INVALID_ARG
    n = addr(_nodes[node])
    if n.dir:
        for i in range(u32(1), MAX_NODES):
            if _nodes[i].used and _nodes[i].parent == node:
                return proto.E_NOTEMPTY
    _truncate(n)
    n.used = False
    for k in range(usize(0), MAX_FDS):
        if _fds[k].used and _fds[k].node == node:
            _fds[k].used = False
    return abi.OK


def _serve(badge: usize, label: usize, res: Ptr[syscall.SysResult], out: Ptr[proto.Words]) -> usize:
    """Handle one call; results in ``out``; return the reply's label."""
    if label == proto.FS_OPEN:
        return _open(badge, res.v2, addr(out.w[0]))
    if label == proto.FS_READ:
        f = _fd(badge, res.v2)
        if f == NULL:
            return proto.E_BADF
        want = res.v3
        if want > 32:
            want = 32
        n = _read(addr(_nodes[f.node]), f.offset, cast(Ptr[u8], addr(out.w[0])), want)
        f.offset += n
        return n << proto.COUNT_SHIFT
    if label == proto.FS_CLOSE:
        f = _fd(badge, res.v2)
        if f == NULL:
            return proto.E_BADF
        f.used = False
        return abi.OK
    if label == proto.FS_STAT:
        node = _walk_only(_staged_path(badge))
        if node == NONE:
            return proto.E_NOENT
        out.w[0] = proto.FS_DIR if _nodes[node].dir else proto.FS_FILE
        out.w[1] = _nodes[node].size
        return abi.OK
    if label == proto.FS_READDIR:
        return _readdir(badge, res.v2, out)
    if label == proto.FS_MKDIR:
        return _mkdir(badge)
    if label == proto.FS_UNLINK:
        return _unlink(badge)
    if label == proto.FS_USAGE:
        for i in range(usize(0), MAX_NODES):
            if _nodes[i].used:
                out.w[0] += 1
        out.w[1] = MAX_NODES
        for b in range(usize(0), NBLOCKS):
            if _block_used[b]:
                out.w[2] += 1
        out.w[3] = NBLOCKS
        return abi.OK
    return abi.ERR_UNKNOWN_OP


def _hex(p: Ptr[u8]) -> usize:
    """The eight hex digits at ``p`` (a cpio header field)."""
    v: usize = 0
    for i in range(usize(0), 8):
        c = p[i]
        d: usize = 0
        if 0x30 <= c <= 0x39:
            d = usize(c - 0x30)
        elif 0x41 <= c <= 0x46:
            d = usize(c - 0x41 + 10)
        elif 0x61 <= c <= 0x66:
            d = usize(c - 0x61 + 10)
        v = (v << 4) | d
    return v


def _add_member(name: Ptr[u8], data: usize, size: usize) -> None:
    """Make /boot/NAME for a flat image, /DIR/.../NAME (directories included) for any other member."""
    dir: u32 = 0
    if string.strlen(name) > 0 and not _has_slash(name):
        dir = _mkdir_in(0, "boot", 4)
    i: usize = 0
    while True:
        start = i
        while name[i] != 0 and name[i] != 0x2F:
            i += 1
        if name[i] == 0:
            node = _new_node(dir, name + start, i - start, False)
            if node != NONE:
                _nodes[node].ro = data
                _nodes[node].size = size
            return
        dir = _mkdir_in(dir, name + start, i - start)
        if dir == NONE:
            return
        i += 1


def _has_slash(name: Ptr[u8]) -> bool:
    """True when ``name`` holds a '/'."""
    i: usize = 0
    while name[i] != 0:
        if name[i] == 0x2F:
            return True
        i += 1
    return False


def _mkdir_in(parent: u32, name: Ptr[u8], length: usize) -> u32:
    """The directory ``name`` in ``parent``, made when missing; NONE when that fails."""
    d = _child(parent, name, length)
    if d == NONE:
        d = _new_node(parent, name, length, True)
    return d


def _load_initrd() -> usize:
    """Map the initrd and make a node for each member; the error."""
    res: syscall.SysResult
    err = syscall.frame_info(proto.SLOT_RES0, addr(res))
    if err != abi.OK:
        return err
    size = res.v0 * board.PAGE_SIZE
    err = syscall.proc_map(proto.SLOT_PROCESS, proto.SLOT_RES0, INITRD_VA, abi.RIGHT_READ)
    if err != abi.OK:
        return err
    off: usize = 0
    while off + _CPIO_HEADER <= size:
        h = cast(Ptr[u8], INITRD_VA + off)
        if h[0] != 0x30 or h[1] != 0x37:      # "07": the magic 070701 (lib/cpio.py checks it in full)
            break
        filesize = _hex(h + 54)
        namesize = _hex(h + 94)
        name = h + _CPIO_HEADER
        data = off + _CPIO_HEADER + namesize
        data = (data + 3) & ~usize(3)
        if data + filesize > size or namesize == 0:
            break
        if string.streq(name, "TRAILER!!!"):
            break
        _add_member(name, INITRD_VA + data, filesize)
        off = (data + filesize + 3) & ~usize(3)
    return abi.OK


def _setup() -> usize:
    """The root, the initrd's files, the data blocks, the endpoint and its name; the error."""
    _nodes[0].used = True
    _nodes[0].dir = True
    err = _load_initrd()
    if err == abi.OK:
        err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_FRAME, SLOT_DATA, NBLOCKS)
    if err == abi.OK:
        err = syscall.proc_map(proto.SLOT_PROCESS, SLOT_DATA, DATA_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        err = syscall.proc_create(proto.SLOT_PROCESS, abi.KIND_ENDPOINT, SLOT_EP, 0)
    if err == abi.OK:
        err = names.register("fs", SLOT_EP)
    return err


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Set up and serve the file system forever; return 1 if it cannot start."""
    err = _setup()
    if err != abi.OK:
        console.printf("fs: cannot start: error %u\n", err)
        return 1
    res: syscall.SysResult
    acc: syscall.SysResult
    out: proto.Words
    while True:
        if syscall.ep_recv(SLOT_EP, 0, addr(res)) != abi.OK:
            continue
        badge = res.v0
        label = res.v1 & abi.LABEL_MASK
        if res.v1 & abi.MSG_PAYLOAD != 0:
            if label == proto.FS_PATH:
                _stage(badge)
            elif label == proto.FS_WRITE:
                f = _fd(badge, res.v3)          # v2 = length, v3 = the sender's w0 (the descriptor)
                if f == NULL or not f.writable:
                    syscall.refuse()
                    continue
                n = res.v2
                if n > IO_MAX:
                    n = IO_MAX
                if syscall.accept(addr(_io[0]), n, addr(acc)) != abi.OK:
                    continue
                node = addr(_nodes[f.node])
                if f.append:
                    f.offset = node.size
                f.offset += _write(node, f.offset, addr(_io[0]), acc.v0)
            else:
                syscall.refuse()
            continue
        for k in range(u32(0), 4):
            out.w[k] = 0
        status = _serve(badge, label, addr(res), addr(out))
        syscall.reply(status, out.w[0], out.w[1], out.w[2], out.w[3])
