"""The loader: build a process from a static ELF executable (or a flat image) in the initrd, argv on its stack.

The kernel knows no executable format. For program NAME this module reads
the initrd member ``bin/NAME``, the program's static ELF (kcc build packs
every program of kernel_src/user/ so); a name that is an absolute path is
read from the file system service instead (FILE_PAGES at most), so a
program copied or written there runs too. The loader checks the ELF header
(64-bit, little-endian, RISC-V, an executable), creates an empty process with a
memory quota, and for each PT_LOAD segment gives it a frame holding the
segment's file bytes (the rest zero: bss), mapped at the segment's address
with the segment's permissions (R, R+W or R+X; W+X is refused). A member
without an ELF falls back to the flat image NAME of lib/uimage.py, the
format the kernel starts init from. Then the process gets a stack with the
argument strings and the argv array at its top, and a thread that starts at
the entry with a0 = argc and a1 = argv, as rt.py's ``_start`` expects.

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
FILE_VA: Final = 0x34_0000_0000         # where init keeps an executable read from the file system
FILE_PAGES: Final = 256                 # the largest such executable: 1 MiB

# ELF (System V ABI, ELF-64 object file format; RISC-V ELF psABI for the machine number).
ELF_CLASS64: Final = 2
ELF_DATA_LE: Final = 1
ET_EXEC: Final = 2
EM_RISCV: Final = 243
PT_LOAD: Final = 1
PF_X: Final = 1
PF_W: Final = 2
PF_R: Final = 4
MAX_PHDRS: Final = 16


@struct(packed=True)
class ElfHeader:
    """The ELF-64 file header (packed: the initrd keeps members only 4-byte aligned)."""

    ident: Array[u8, 16]
    e_type: u16
    e_machine: u16
    e_version: u32
    e_entry: u64
    e_phoff: u64
    e_shoff: u64
    e_flags: u32
    e_ehsize: u16
    e_phentsize: u16
    e_phnum: u16
    e_shentsize: u16
    e_shnum: u16
    e_shstrndx: u16


@struct(packed=True)
class ElfPhdr:
    """An ELF-64 program header."""

    p_type: u32
    p_flags: u32
    p_offset: u64
    p_vaddr: u64
    p_paddr: u64
    p_filesz: u64
    p_memsz: u64
    p_align: u64


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


def _segment(p: usize, fslot: usize, src: Ptr[u8], copy: usize, pages: usize, va: usize, rights: usize,
             skip: usize = 0) -> usize:
    """Give process ``p`` a frame of ``pages`` pages at ``va`` with ``rights`` holding ``copy`` bytes from ``src``.

    The bytes start ``skip`` bytes into the frame; the rest stays zero.
    ``fslot`` is an empty slot of init's, empty again on return. The error.
    """
    err = syscall.proc_create(p, abi.KIND_FRAME, fslot, pages)
    if err != abi.OK:
        return err
    res: syscall.SysResult
    if copy != 0:
        err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, fslot, SCRATCH_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
        if err == abi.OK:
            string.memcpy(cast(Ptr[u8], SCRATCH_VA + skip), src, copy)
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


_file_mapped: bool = False


def _read_file(fs: usize, buf_slot: usize, path: Ptr[u8], out: Ptr[cpio.CpioFile]) -> usize:
    """Read the file ``path`` through the file system endpoint ``fs`` into init's buffer at FILE_VA.

    The buffer is a frame of FILE_PAGES pages created in ``buf_slot`` on
    first use. Sets ``out`` to the bytes read; the error (proto.E_NOSPC for
    a file larger than the buffer).
    """
    global _file_mapped
    res: syscall.SysResult
    if not _file_mapped:
        err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_FRAME, buf_slot, FILE_PAGES)
        if err == abi.OK:
            err = syscall.proc_map(initcaps.SLOT_SELF_PROCESS, buf_slot, FILE_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
        if err != abi.OK:
            syscall.cap_destroy(buf_slot)
            syscall.cap_delete(buf_slot)
            return err
        _file_mapped = True
    err = syscall.ep_send_payload(fs, proto.FS_PATH, path, string.strlen(path), 0, addr(res))
    if err == abi.OK:
        err = syscall.ep_call(fs, proto.FS_OPEN, 0, 0, 0, 0, addr(res))
    if err == abi.OK:
        err = res.v1
    if err != abi.OK:
        return err
    fd = res.v2
    size: usize = 0
    while size < FILE_PAGES * PAGE:
        err = syscall.ep_call(fs, proto.FS_READ, fd, 32, 0, 0, addr(res))
        if err != abi.OK or res.v1 & 0xFFFF != abi.OK:
            break
        n = res.v1 >> proto.COUNT_SHIFT
        if n > FILE_PAGES * PAGE - size:
            n = FILE_PAGES * PAGE - size
        string.memcpy(cast(Ptr[u8], FILE_VA + size), cast(Ptr[u8], addr(res.v2)), n)     # v2..v5: the bytes
        size += n
        if n < 32:
            break
    syscall.ep_call(fs, proto.FS_CLOSE, fd, 0, 0, 0, addr(res))
    if size == FILE_PAGES * PAGE:
        return proto.E_NOSPC
    out.data = FILE_VA
    out.size = size
    return abi.OK


def _elf_ok(f: Ptr[cpio.CpioFile]) -> bool:
    """True when member ``f`` is a static 64-bit little-endian RISC-V executable whose headers lie inside it."""
    if f.size < sizeof(ElfHeader):
        return False
    h = cast(Ptr[ElfHeader], f.data)
    if h.ident[0] != 0x7F or h.ident[1] != 0x45 or h.ident[2] != 0x4C or h.ident[3] != 0x46:
        return False
    if h.ident[4] != ELF_CLASS64 or h.ident[5] != ELF_DATA_LE or h.e_type != ET_EXEC or h.e_machine != EM_RISCV:
        return False
    if usize(h.e_phentsize) != sizeof(ElfPhdr) or h.e_phnum == 0 or h.e_phnum > MAX_PHDRS:
        return False
    return usize(h.e_phoff) <= f.size and usize(h.e_phnum) * sizeof(ElfPhdr) <= f.size - usize(h.e_phoff)


def _phdr(f: Ptr[cpio.CpioFile], i: usize) -> Ptr[ElfPhdr]:
    """Program header ``i`` of the checked ELF ``f``."""
    h = cast(Ptr[ElfHeader], f.data)
    return cast(Ptr[ElfPhdr], f.data + usize(h.e_phoff) + i * sizeof(ElfPhdr))


def _elf_pages(f: Ptr[cpio.CpioFile]) -> usize:
    """Pages the PT_LOAD segments of ``f`` need; 0 when one is malformed (outside the file or the user window)."""
    h = cast(Ptr[ElfHeader], f.data)
    total: usize = 0
    for i in range(usize(0), usize(h.e_phnum)):
        ph = _phdr(f, i)
        if ph.p_type != PT_LOAD:
            continue
        va = usize(ph.p_vaddr)
        memsz = usize(ph.p_memsz)
        filesz = usize(ph.p_filesz)
        limit: usize = board.USER_STACK_TOP - board.USER_STACK_PAGES * PAGE
        if filesz > memsz or usize(ph.p_offset) > f.size or filesz > f.size - usize(ph.p_offset) or \
                va < board.USER_BASE or va >= limit or memsz > limit - va or \
                ph.p_flags & PF_W != 0 and ph.p_flags & PF_X != 0:
            return 0
        total += _pages(va + memsz) - va // PAGE
    return total


def _load_elf(f: Ptr[cpio.CpioFile], p: usize, fslot: usize, entry: Ptr[usize]) -> usize:
    """Map every PT_LOAD segment of ``f`` into process ``p`` with its permissions; sets ``entry[0]``; the error."""
    h = cast(Ptr[ElfHeader], f.data)
    entry[0] = usize(h.e_entry)
    for i in range(usize(0), usize(h.e_phnum)):
        ph = _phdr(f, i)
        if ph.p_type != PT_LOAD or ph.p_memsz == 0:
            continue
        va = usize(ph.p_vaddr)
        start = va & ~usize(PAGE - 1)
        rights: usize = abi.RIGHT_READ
        if ph.p_flags & PF_W != 0:
            rights |= abi.RIGHT_WRITE
        if ph.p_flags & PF_X != 0:
            rights |= abi.RIGHT_EXEC
        err = _segment(p, fslot, cast(Ptr[u8], f.data + usize(ph.p_offset)), usize(ph.p_filesz),
                       _pages(va + usize(ph.p_memsz)) - start // PAGE, start, rights, va - start)
        if err != abi.OK:
            return err
    return abi.OK


def _load_flat(f: Ptr[cpio.CpioFile], p: usize, fslot: usize, entry: Ptr[usize]) -> usize:
    """Map the segments of the checked flat image ``f`` into process ``p``; sets ``entry[0]``; the error."""
    h = cast(Ptr[uimage.UserImage], f.data)
    text = usize(h.text_size)
    rodata = usize(h.rodata_size)
    data = usize(h.data_size)
    bss = usize(h.bss_size)
    entry[0] = usize(h.entry)
    src = cast(Ptr[u8], f.data + uimage.HEADER_SIZE)
    va: usize = board.USER_BASE
    err = _segment(p, fslot, src, text, text // PAGE, va, abi.RIGHT_READ | abi.RIGHT_EXEC)
    if err == abi.OK and rodata != 0:
        err = _segment(p, fslot, src + text, rodata, rodata // PAGE, va + text, abi.RIGHT_READ)
    if err == abi.OK and data + bss != 0:
        err = _segment(p, fslot, src + text + rodata, data, _pages(data + bss), va + text + rodata,
                       abi.RIGHT_READ | abi.RIGHT_WRITE)
    return err


def _flat_pages(f: Ptr[cpio.CpioFile]) -> usize:
    """Pages the flat image ``f`` needs; 0 when it is not a valid image."""
    if f.size < uimage.HEADER_SIZE:
        return 0
    h = cast(Ptr[uimage.UserImage], f.data)
    text = usize(h.text_size)
    rodata = usize(h.rodata_size)
    data = usize(h.data_size)
    if h.magic != uimage.MAGIC or h.version != uimage.VERSION or usize(h.base) != board.USER_BASE or \
            text % PAGE != 0 or rodata % PAGE != 0 or text == 0 or \
            uimage.HEADER_SIZE + text + rodata + data > f.size:
        return 0
    return text // PAGE + rodata // PAGE + _pages(data + usize(h.bss_size))


def load(name: Ptr[u8], args: Ptr[u8], args_len: usize, argc: usize, extra_pages: usize, p: usize, t: usize,
         fslot: usize, prio: usize, fault_ep: usize, fs: usize, buf_slot: usize) -> usize:
    """Create process ``p`` (an empty slot of init's) from program ``name``, and its thread ``t``.

    The program is the ELF ``bin/<name>`` of the initrd, else the flat
    image ``<name>``; a ``name`` starting with "/" is an ELF file read
    through the file system endpoint in slot ``fs`` (0: none) into the
    buffer frame of ``buf_slot``.
    The process gets its segments' pages + stack + TABLE_PAGES +
    ``extra_pages`` pages of quota; the thread runs at ``prio`` with
    ``fault_ep`` as its fault endpoint, main(argc, argv) with the ``argc``
    strings of ``args`` (``args_len`` bytes, at most ARGS_MAX). The thread
    is left INACTIVE: the caller gives the capabilities and starts it.
    Returns the error (proto.E_NOENT: no such program, proto.E_NOEXEC: not
    a valid executable); on an error nothing is left behind (``p`` and
    ``t`` are empty).
    """
    if args_len > ARGS_MAX or argc >= ARGV_MAX:
        return proto.E_NOEXEC
    f: cpio.CpioFile
    elf = True
    if name[0] == 0x2F:
        if fs == 0:
            return proto.E_NOENT
        err = _read_file(fs, buf_slot, name, addr(f))
        if err != abi.OK:
            return err
    else:
        if string.strlen(name) > proto.NAME_MAX:
            return proto.E_NOENT
        path: Array[u8, proto.NAME_MAX + 5]
        string.memcpy(addr(path[0]), "bin/", 4)
        string.memcpy(addr(path[4]), name, string.strlen(name) + 1)
        elf = find(addr(path[0]), addr(f))
        if not elf and not find(name, addr(f)):
            return proto.E_NOENT
    if elf and not _elf_ok(addr(f)):
        return proto.E_NOEXEC
    pages = _elf_pages(addr(f)) if elf else _flat_pages(addr(f))
    if pages == 0:
        return proto.E_NOEXEC
    quota = pages + board.USER_STACK_PAGES + TABLE_PAGES + extra_pages
    err = syscall.proc_create(initcaps.SLOT_SELF_PROCESS, abi.KIND_PROCESS, p, quota)
    if err != abi.OK:
        return err
    entry: usize = 0
    if elf:
        err = _load_elf(addr(f), p, fslot, addr(entry))
    else:
        err = _load_flat(addr(f), p, fslot, addr(entry))
    argv: usize = 0
    if err == abi.OK:
        err = _stack(p, fslot, args, args_len, argc, addr(argv))
    if err == abi.OK:
        err = syscall.proc_create(p, abi.KIND_THREAD, t, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(t, entry, argv, argc, argv)
    if err == abi.OK:
        err = syscall.thread_set_sched(t, prio, 0, 0)
    if err == abi.OK:
        err = syscall.thread_set_fault(t, fault_ep)
    if err != abi.OK:
        syscall.cap_destroy(p)
        syscall.cap_delete(p)
        syscall.cap_delete(t)
    return err
