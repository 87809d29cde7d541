"""The loader: build a process from a flat program image in the initrd and start it with argv on its stack.

The kernel knows no executable format; this module reads the image header
of lib/uimage.py (the build packs every program of kernel_src/user/ so),
creates an empty process with a memory quota, gives it one frame per
segment holding the segment's bytes, mapped with the segment's permissions
(text R+X, rodata R, data+bss R+W: W^X), a stack with the argument strings
and the argv array at its top, and a thread that starts at the image's
entry with a0 = argc and a1 = argv, as rt.py's ``_start`` expects.

Frames are created owned by (charged to) the new process, filled through a
scratch mapping in init, then mapped into the process; init keeps no
capability to them, so they go when the process goes.
"""

import board
from kcc.lang import *

from lib import abi, cpio, initcaps, string, uimage
from user.lib import proto, syscall

PAGE: Final = board.PAGE_SIZE
INITRD_VA: Final = 0x28_0000_0000       # where init maps the initrd (read-only)
SCRATCH_VA: Final = 0x30_0000_0000      # where init maps a frame while it fills it
ARGS_MAX: Final = 256                   # bytes of argument strings (with their NULs)
ARGV_MAX: Final = 16                    # arguments, program name included
TABLE_PAGES: Final = 12                 # page tables a process may need for its image, stack and own mappings

_initrd_size: usize = 0


def map_initrd() -> usize:
    """Map the initrd (initcaps.SLOT_INITRD) read-only at INITRD_VA; return the error."""
    global _initrd_size
    res: syscall.SysResult
    err = syscall.frame_info(initcaps.SLOT_INITRD, addr(res))
    if err != abi.OK:
        return err
    _initrd_size = res.v0 * PAGE
    return syscall.proc_map(initcaps.SLOT_SELF_PROCESS, initcaps.SLOT_INITRD, INITRD_VA, abi.RIGHT_READ)


def find(name: Ptr[u8], out: Ptr[cpio.CpioFile]) -> bool:
    """Find the initrd member ``name``; False when there is none."""
    return cpio.find(INITRD_VA, _initrd_size, name, out)


def _pages(size: usize) -> usize:
    """Pages that hold ``size`` bytes."""
    return (size + PAGE - 1) // PAGE


def _segment(p: usize, fslot: usize, src: Ptr[u8], copy: usize, pages: usize, va: usize, rights: usize) -> usize:
    """Give process ``p`` a frame of ``pages`` pages at ``va`` with ``rights`` holding ``copy`` bytes from ``src``.

    ``fslot`` is an empty slot of init's, empty again on return. The error.
    """
    err = syscall.proc_create(p, abi.KIND_FRAME, fslot, pages)
    if err != abi.OK:
        return err
    res: syscall.SysResult
    if copy != 0:
        err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, fslot, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
        if err == abi.OK:
            string.memcpy(cast(Ptr[u8], SCRATCH_VA), src, copy)
            syscall.proc_unmap(initcaps.SLOT_SELF_PROCESS, SCRATCH_VA, pages, addr(res))
    if err == abi.OK:
        err = syscall.proc_map(p, fslot, va, rights)
    syscall.cap_delete(fslot)
    return err


def _stack(p: usize, fslot: usize, args: Ptr[u8], args_len: usize, argc: usize, argv_va: Ptr[usize]) -> usize:
    """Give process ``p`` its stack below USER_STACK_TOP with the argument block and argv at its top.

    ``args`` holds ``argc`` NUL-terminated strings in ``args_len`` bytes.
    Sets ``argv_va[0]`` to argv's address in the process (16-byte aligned:
    the initial stack pointer). The error.
    """
    pages: usize = board.USER_STACK_PAGES
    err = syscall.proc_create(p, abi.KIND_FRAME, fslot, pages)
    if err != abi.OK:
        return err
    err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, fslot, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        bottom: usize = board.USER_STACK_TOP - pages * PAGE
        strings_va: usize = board.USER_STACK_TOP - ARGS_MAX
        string.memcpy(cast(Ptr[u8], SCRATCH_VA + (strings_va - bottom)), args, args_len)
        argv: usize = (strings_va - (argc + 1) * 8) & ~usize(15)
        slots = cast(Ptr[usize], SCRATCH_VA + (argv - bottom))
        off: usize = 0
        for i in range(usize(0), argc):
            slots[i] = strings_va + off
            off += string.strlen(args + off) + 1
        slots[argc] = 0
        argv_va[0] = argv
        res: syscall.SysResult
        syscall.proc_unmap(initcaps.SLOT_SELF_PROCESS, SCRATCH_VA, pages, addr(res))
        err = syscall.proc_map(p, fslot, bottom, abi.RIGHT_READ | abi.RIGHT_WRITE)
    syscall.cap_delete(fslot)
    return err


def image_pages(name: Ptr[u8]) -> usize:
    """Pages the image ``name`` occupies when loaded (0 when it is missing or not an image)."""
    f: cpio.CpioFile
    if not find(name, addr(f)) or f.size < uimage.HEADER_SIZE:
        return 0
    h = cast(Ptr[uimage.UserImage], f.data)
    return usize(h.text_size + h.rodata_size) // PAGE + _pages(usize(h.data_size + h.bss_size))


def load(name: Ptr[u8], args: Ptr[u8], args_len: usize, argc: usize, extra_pages: usize, p: usize, t: usize,
         fslot: usize, prio: usize, fault_ep: usize) -> usize:
    """Create process ``p`` (an empty slot of init's) from the initrd image ``name`` and its thread ``t``.

    The process gets image + stack + TABLE_PAGES + ``extra_pages`` pages of
    quota; the thread runs at ``prio`` with ``fault_ep`` as its fault
    endpoint, main(argc, argv) with the ``argc`` strings of ``args``
    (``args_len`` bytes, at most ARGS_MAX). The thread is left INACTIVE: the
    caller gives the capabilities and starts it. Returns the error
    (proto.E_NOENT: no such member, proto.E_NOEXEC: not a valid image);
    on an error nothing is left behind (``p`` and ``t`` are empty).
    """
    f: cpio.CpioFile
    if not find(name, addr(f)):
        return proto.E_NOENT
    if f.size < uimage.HEADER_SIZE or args_len > ARGS_MAX or argc >= ARGV_MAX:
        return proto.E_NOEXEC
    h = cast(Ptr[uimage.UserImage], f.data)
    text = usize(h.text_size)
    rodata = usize(h.rodata_size)
    data = usize(h.data_size)
    bss = usize(h.bss_size)
    if h.magic != uimage.MAGIC or h.version != uimage.VERSION or usize(h.base) != board.USER_BASE or \
            text % PAGE != 0 or rodata % PAGE != 0 or text == 0 or \
            uimage.HEADER_SIZE + text + rodata + data > f.size:
        return proto.E_NOEXEC
    quota = text // PAGE + rodata // PAGE + _pages(data + bss) + board.USER_STACK_PAGES + TABLE_PAGES + extra_pages
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS, p, quota)
    if err != abi.OK:
        return err
    src = cast(Ptr[u8], f.data + uimage.HEADER_SIZE)
    va: usize = board.USER_BASE
    err = _segment(p, fslot, src, text, text // PAGE, va, abi.RIGHT_READ | abi.RIGHT_EXEC)
    if err == abi.OK and rodata != 0:
        err = _segment(p, fslot, src + text, rodata, rodata // PAGE, va + text, abi.RIGHT_READ)
    if err == abi.OK and data + bss != 0:
        err = _segment(p, fslot, src + text + rodata, data, _pages(data + bss), va + text + rodata,
                       abi.RIGHT_READ | abi.RIGHT_WRITE)
    argv: usize = 0
    if err == abi.OK:
        err = _stack(p, fslot, args, args_len, argc, addr(argv))
    if err == abi.OK:
        err = syscall.proc_create(p, abi.KIND_THREAD, t, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(t, usize(h.entry), argv, argc, argv)
    if err == abi.OK:
        err = syscall.thread_set_sched(t, prio, 0, 0)
    if err == abi.OK:
        err = syscall.thread_set_fault(t, fault_ep)
    if err != abi.OK:
        syscall.cap_destroy(p)
        syscall.cap_delete(p)
        syscall.cap_delete(t)
    return err
