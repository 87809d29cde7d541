"""The protocols of the system services: message labels, reply conventions, error codes, the child's slots.

Every service is an endpoint; a client calls it with a label from this
module and up to four words, and the reply's label is an error code (0 on
success, an abi.ERR_* or one of the E_* below) with the results in its
words. Text that fits 32 bytes (service names) travels in the four words
(``pack_word``/``unpack``); longer data goes first as a payload
(OP_EP_SEND_PAYLOAD), which the server keeps for that client (by badge)
until the call that uses it.

Slots of a process the process manager (init) starts: the first three match
lib/initcaps.py so that console printf and panics work in every program.
"""

from kcc.lang import *

from lib import initcaps

# ---- the capability slots of every process init starts ------------------------------------------
SLOT_PROCESS: Final = initcaps.SLOT_SELF_PROCESS   # the process itself (to create its own objects)
SLOT_THREAD: Final = initcaps.SLOT_SELF_THREAD     # its main thread
SLOT_CONSOLE: Final = initcaps.SLOT_CONSOLE        # the kernel's debug console (panics, kernel-side debugging)
SLOT_PM: Final = 3              # the process manager's endpoint, badged with this process's id
SLOT_TTY: Final = 4             # the console driver, looked up by name on first use (user/lib/tty.py)
SLOT_FS: Final = 5              # the file system, looked up by name on first use (user/lib/fsc.py)
SLOT_RES0: Final = 6            # resources the manifest grants: the UART device (uart), the initrd (fs)
SLOT_RES1: Final = 7            # the UART's IRQ (uart)
SLOT_LOOKUP: Final = 8          # where a name lookup lands before the client moves it
SLOT_PIPE_IN: Final = 9         # 9, 10, 11: the pipe this program reads (frame, data and space notifications)
SLOT_PIPE_OUT: Final = 12       # 12, 13, 14: the pipe it writes (frame, space and data notifications); user/lib/pipe.py
FIRST_FREE: Final = 15          # the first slot a program may use as it likes

# ---- process manager and name service (init's endpoint) -----------------------------------------
PM_REGISTER: Final = 1          # (name in w0..w3) + a capability -> (); later lookups get a copy of it
PM_LOOKUP: Final = 2            # (name in w0..w3); label bits 16.. = the caller's empty slot -> ()
PM_STAGE: Final = 3             # payload: a command line "prog arg1 arg2"; kept for the next PM_SPAWN
PM_SPAWN: Final = 4             # () -> (pid): start the staged command line as a child of the caller; a
                                # capability sent along becomes the child's SLOT_TTY (its console: a file it serves)
PM_STATUS: Final = 5            # (pid) -> (state, exit code); never blocks
PM_KILL: Final = 6              # (pid) -> ()
PM_PS: Final = 7                # (index) -> (pid | parent << 16 | state << 32 | restarts << 40, exit code,
                                #             name bytes 0..7, name bytes 8..15); E_NOENT past the end
PM_MEM: Final = 8               # () -> (free pages of init's quota, pages used, free threads, free frames)
PM_CLONE: Final = 9             # (pc, regs, quota pages) -> (pid): clone the caller, its memory copy-on-write; its
                                # thread starts at pc with sp = a0 = regs (user/lib/clone.py); a capability sent
                                # along becomes the clone's SLOT_TTY
PM_GIVE: Final = 10             # a capability along; label bits 16.. = a slot: the next PM_SPAWN of the same
                                # caller puts a copy there in the new process (a pipe's frame and notifications)
SLOT_SHIFT: Final = 16          # PM_LOOKUP, PM_GIVE: where the slot number sits in the label

# Process states (PM_STATUS, PM_PS).
PS_RUNNING: Final = 1
PS_EXITED: Final = 2
PS_FAULTED: Final = 3           # a thread faulted (or the process died of a fault without a handler)
PS_KILLED: Final = 4
KILLED_CODE: Final = 137        # the exit code of a killed process (128 + SIGKILL, as a Unix shell shows it)
FAULT_CODE: Final = 139         # the exit code of a faulted process (128 + SIGSEGV)

# ---- the console driver ("tty") -----------------------------------------------------------------
TTY_WRITE: Final = 0x100        # payload: bytes to print ("\n" becomes "\r\n"); the sender learns how many were taken
TTY_READ: Final = 0x101         # (max bytes <= 32, flags) -> label = error | count << COUNT_SHIFT, w0..w3 = the bytes
TTY_INTR: Final = 0x102         # () -> (how many Ctrl-C were typed since the driver started)
TTY_FLUSH: Final = 0x103        # () -> (): drop the input typed so far
READ_NOWAIT: Final = 1          # TTY_READ flag: return 0 bytes instead of waiting for input
COUNT_SHIFT: Final = 16         # TTY_READ reply: bytes returned = label >> COUNT_SHIFT

# ---- the file system ("fs") ---------------------------------------------------------------------
# A path (absolute, at most PATH_MAX bytes) goes first as an FS_PATH payload; the server keeps it for
# that client until the next FS_PATH. File names are at most FS_NAME_MAX bytes.
FS_PATH: Final = 0x200          # payload: the path the next FS_OPEN/STAT/READDIR/MKDIR/UNLINK works on
FS_OPEN: Final = 0x201          # (flags OPEN_*) -> (fd)
FS_READ: Final = 0x202          # (fd, max bytes <= 32) -> label = error | count << COUNT_SHIFT, w0..w3 = the bytes
FS_WRITE: Final = 0x203         # payload with w0 = fd: the bytes, written at the descriptor's offset
FS_CLOSE: Final = 0x204         # (fd) -> ()
FS_STAT: Final = 0x205          # () -> (kind FS_FILE/FS_DIR, size in bytes)
FS_READDIR: Final = 0x206       # (index) -> (kind | size << 8, name bytes 0..7, 8..15, 16..23); E_NOENT past the end
FS_MKDIR: Final = 0x207         # () -> ()
FS_UNLINK: Final = 0x208        # () -> (): a file, or an empty directory
FS_USAGE: Final = 0x209         # () -> (nodes used, nodes, blocks used, blocks)
OPEN_WRITE: Final = 1           # FS_OPEN flags: writable
OPEN_CREATE: Final = 2          # create the file when it is missing
OPEN_TRUNC: Final = 4           # empty it first
OPEN_APPEND: Final = 8          # every write goes to the end
FS_FILE: Final = 1
FS_DIR: Final = 2
PATH_MAX: Final = 255
FS_NAME_MAX: Final = 24

# ---- errors of the services (besides abi.ERR_*) -------------------------------------------------
E_NOENT: Final = 32             # no such file, directory, process or service name
E_EXIST: Final = 33             # it exists already
E_NOTDIR: Final = 34            # a path component is not a directory
E_ISDIR: Final = 35             # it is a directory
E_NOTEMPTY: Final = 36          # the directory is not empty
E_NOSPC: Final = 37             # no room: nodes, blocks, descriptors or table entries
E_BADF: Final = 38              # not an open descriptor of this client
E_NAMETOOLONG: Final = 39       # a name or path is too long
E_NOEXEC: Final = 40            # not an executable image


@struct
class Words:
    """Four message words: a short string packed little-endian, 8 bytes a word."""

    w: Array[usize, 4]


NAME_MAX: Final = 32            # bytes a packed string can hold (no NUL needed when it is full)


def pack(text: Ptr[u8], out: Ptr[Words]) -> bool:
    """Pack the NUL-terminated ``text`` into ``out``; False (``out`` zero) when it is longer than NAME_MAX bytes."""
    for i in range(u32(0), 4):
        out.w[i] = 0
    n: usize = 0
    while text[n] != 0:
        if n == NAME_MAX:
            for i in range(u32(0), 4):
                out.w[i] = 0
            return False
        out.w[n // 8] |= usize(text[n]) << ((n % 8) * 8)
        n += 1
    return True


def unpack(words: Ptr[Words], out: Ptr[u8]) -> None:
    """Write the string packed in ``words`` to ``out`` (NAME_MAX + 1 bytes: the text and its NUL)."""
    n: usize = 0
    while n < NAME_MAX:
        c = u8((words.w[n // 8] >> ((n % 8) * 8)) & 0xFF)
        if c == 0:
            break
        out[n] = c
        n += 1
    out[n] = 0
