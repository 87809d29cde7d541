"""Client of the name service (run by init): register a service's endpoint under a name, look one up.

The capability a lookup returns is a copy of the registered one, badged with
the caller's process id, so the service can tell its clients apart.
"""

from kcc.lang import *

from lib import abi
from user.lib import proto, syscall


def register(name: Ptr[u8], cap_slot: usize) -> usize:
    """Register the endpoint in ``cap_slot`` under ``name`` (at most proto.NAME_MAX bytes); return the error.

    A later registration of the same name replaces it (a restarted service
    registers again). E_NAMETOOLONG for a long name.
    """
    words: proto.Words
    if not proto.pack(name, addr(words)):
        return proto.E_NAMETOOLONG
    res: syscall.SysResult
    err = syscall.invoke(proto.SLOT_PM, abi.OP_EP_CALL, proto.PM_REGISTER, words.w[0], words.w[1], words.w[2],
                         words.w[3], cap_slot, addr(res))
    if err != abi.OK:
        return err
    return res.v1


def lookup(name: Ptr[u8], dst_slot: usize) -> usize:
    """Put a capability to the service registered as ``name`` into ``dst_slot`` (emptied first); return the error.

    proto.E_NOENT when no live service has that name (yet: a restarting
    service registers again once it is up).
    """
    words: proto.Words
    if not proto.pack(name, addr(words)):
        return proto.E_NAMETOOLONG
    syscall.cap_delete(dst_slot)
    res: syscall.SysResult
    err = syscall.ep_call(proto.SLOT_PM, proto.PM_LOOKUP | (dst_slot << proto.SLOT_SHIFT), words.w[0], words.w[1],
                          words.w[2], words.w[3], addr(res))
    if err != abi.OK:
        return err
    return res.v1


def connect(name: Ptr[u8], slot: usize, ticks: usize) -> usize:
    """lookup(name, slot), retried once a tick for up to ``ticks`` ticks while the name is missing; the error."""
    err = lookup(name, slot)
    n: usize = 0
    while err == proto.E_NOENT and n < ticks:
        syscall.sleep(1)
        err = lookup(name, slot)
        n += 1
    return err
