"""Running init's own code in another process: map init's image frames into a child's address space.

Init holds a frame capability for each segment of its image
(lib/initcaps.py: SLOT_TEXT, SLOT_RODATA, SLOT_DATA). Mapping the text
read + execute and the rodata read-only at the addresses they have in init
lets a child process run any function of init's program; its data and bss
are mapped only when the child is meant to share init's globals, as a
thread would. Without them the child's code may use only its stack, its
arguments, string literals and system calls.
"""

import board
from kcc.lang import *

from lib import abi, initcaps
from user.lib import syscall

PAGE: Final = board.PAGE_SIZE


def segment_pages(slot: usize) -> usize:
    """Return the pages of init's image frame in ``slot`` (0 when the slot is empty: a program without rodata)."""
    res: syscall.SysResult
    if syscall.frame_info(slot, addr(res)) != abi.OK:
        return 0
    return res.v0


def map_into(proc_slot: usize, share_data: bool) -> usize:
    """Map init's text (R+X) at board.USER_BASE, its rodata (R) after it and, with ``share_data``, its data (R+W).

    ``proc_slot`` names the child process (WRITE). Returns abi.OK or the
    first error of OP_PROC_MAP (e.g. ERR_NO_MEMORY when the child's quota
    cannot pay for the page tables).
    """
    va: usize = board.USER_BASE
    err = syscall.proc_map(proc_slot, initcaps.SLOT_TEXT, va, abi.RIGHT_READ | abi.RIGHT_EXEC)
    va += segment_pages(initcaps.SLOT_TEXT) * PAGE
    rodata = segment_pages(initcaps.SLOT_RODATA)
    if err == abi.OK and rodata != 0:
        err = syscall.proc_map(proc_slot, initcaps.SLOT_RODATA, va, abi.RIGHT_READ)
    va += rodata * PAGE
    if err == abi.OK and share_data:
        err = syscall.proc_map(proc_slot, initcaps.SLOT_DATA, va, abi.RIGHT_READ | abi.RIGHT_WRITE)
    return err
