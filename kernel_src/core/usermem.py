"""Checked copies from user memory into the kernel and between address spaces: the only use of user pointers.

Each page of the user range is translated through the process's own
mappings (arch.vm.translate) with the access it needs, so a kernel address,
an unmapped page, a read-only page written to, a page of a device region,
or a length that wraps around the address space fails with
abi.ERR_BAD_ADDRESS before anything is copied for that page. A page of a
copy-on-write mapping the kernel is to write is copied first, as the
program's own store would have it copied (core.process.cow_fault), so a
payload can land in memory a clone shares. The kernel
never dereferences a user address itself, nor reads or writes device
registers for a user, so no access fault can happen in the kernel on a
user's behalf.
"""

from kcc.lang import *

from arch import vm
from core import process
from lib import abi

_PAGE: Final = 4096


def check(space: u32, uaddr: usize, length: usize, write: bool) -> u32:
    """Return abi.OK when all of [uaddr, uaddr + length) is user memory of ``space`` allowing the access.

    ``write`` asks for write permission too; a copy-on-write page then gets
    its private copy here (charged to ``space``; past its quota the page
    stays read-only and the answer is ERR_BAD_ADDRESS, as a store would
    fault). ERR_BAD_ADDRESS otherwise, also when the range wraps. Cost: one
    translation per page, and a page copy for each copy-on-write page.
    """
    if length == 0:
        return abi.OK
    if uaddr + length < uaddr:
        return abi.ERR_BAD_ADDRESS
    # One address in each page the range touches: its first byte, then each following page's start.
    at = uaddr
    end = uaddr + length
    while at < end:
        if vm.translate(space, at, write) == 0 and not (write and process.cow_fault(space, at)):
            return abi.ERR_BAD_ADDRESS
        at = (at & ~usize(_PAGE - 1)) + _PAGE
        if at == 0:
            break
    return abi.OK


def copy_in(space: u32, dst: Ptr[u8], uaddr: usize, length: usize) -> u32:
    """Copy ``length`` bytes from user address ``uaddr`` of ``space`` to kernel memory ``dst``.

    Returns abi.OK or abi.ERR_BAD_ADDRESS (then nothing is copied: the whole
    range is checked first).
    """
    err = check(space, uaddr, length, False)
    if err != abi.OK:
        return err
    i: usize = 0
    while i < length:
        pa = vm.translate(space, uaddr + i, False)
        chunk = _PAGE - ((uaddr + i) & (_PAGE - 1))
        if chunk > length - i:
            chunk = length - i
        src = cast(Ptr[u8], pa)
        j: usize = 0
        while j < chunk:
            dst[i + j] = src[j]
            j += 1
        i += chunk
    return abi.OK


def copy_between(src_space: u32, src: usize, dst_space: u32, dst: usize, length: usize) -> u32:
    """Copy ``length`` bytes from user address ``src`` of ``src_space`` to ``dst`` of ``dst_space``.

    Both ranges are checked first (the source readable, the destination
    writable), then the bytes go page piece by page piece through the
    kernel's identity mapping of physical memory: no intermediate buffer, so
    a payload is never stored in the kernel. Returns abi.OK or
    abi.ERR_BAD_ADDRESS (nothing copied). Cost: O(length).
    """
    if check(src_space, src, length, False) != abi.OK or check(dst_space, dst, length, True) != abi.OK:
        return abi.ERR_BAD_ADDRESS
    done: usize = 0
    while done < length:
        s = vm.translate(src_space, src + done, False)
        d = vm.translate(dst_space, dst + done, True)
        chunk = _PAGE - ((src + done) & (_PAGE - 1))
        room = _PAGE - ((dst + done) & (_PAGE - 1))
        if room < chunk:
            chunk = room
        if chunk > length - done:
            chunk = length - done
        j: usize = 0
        if (s | d | chunk) & 7 == 0:
            # Both sides 8-byte aligned (a page-aligned payload, say): a word at a time.
            from_w = cast(Ptr[u64], s)
            to_w = cast(Ptr[u64], d)
            while j < chunk // 8:
                to_w[j] = from_w[j]
                j += 1
        else:
            from_p = cast(Ptr[u8], s)
            to_p = cast(Ptr[u8], d)
            while j < chunk:
                to_p[j] = from_p[j]
                j += 1
        done += chunk
    return abi.OK
