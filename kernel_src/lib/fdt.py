"""Read-only flattened device tree (DTB) parser: memory and reserved ranges, /chosen, without allocation.

Format: Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB)
Format". Every multi-byte field is big-endian (5.1). The structure block is a
stream of 32-bit tokens (5.4.1): FDT_BEGIN_NODE + NUL-terminated name padded
to 4 bytes, FDT_PROP + len + nameoff + value padded to 4 bytes, FDT_END_NODE,
FDT_NOP, FDT_END. A node's properties precede its children.
"""

from kcc.lang import *

from lib import string
from lib.memmap import MemRegion

MAGIC: Final = 0xD00DFEED
# Header field offsets (5.2, struct fdt_header).
_OFF_MAGIC: Final = 0
_OFF_TOTALSIZE: Final = 4
_OFF_DT_STRUCT: Final = 8
_OFF_DT_STRINGS: Final = 12
_OFF_MEM_RSVMAP: Final = 16
_OFF_VERSION: Final = 20
_OFF_LAST_COMP_VERSION: Final = 24
_OFF_SIZE_DT_STRUCT: Final = 36
# Version 17 is current; 16 is the oldest layout with the fields read here.
_MIN_VERSION: Final = 16
_LAST_COMPATIBLE: Final = 17

# Structure block tokens (5.4.1).
FDT_BEGIN_NODE: Final = 1
FDT_END_NODE: Final = 2
FDT_PROP: Final = 3
FDT_NOP: Final = 4             # FDT_END is 9: the scan stops at any token not listed here

# Defaults when a node has no #address-cells / #size-cells (Devicetree Specification 2.3.5).
_DEFAULT_ADDRESS_CELLS: Final = 2
_DEFAULT_SIZE_CELLS: Final = 1


def be32(p: usize) -> u32:
    """Read a big-endian 32-bit value at address ``p`` (any alignment)."""
    b = cast(Ptr[u8], p)
    return (u32(b[0]) << 24) | (u32(b[1]) << 16) | (u32(b[2]) << 8) | u32(b[3])


def be64(p: usize) -> u64:
    """Read a big-endian 64-bit value at address ``p`` (any alignment)."""
    return (u64(be32(p)) << 32) | u64(be32(p + 4))


def _cells(p: usize, n: u32) -> u64:
    """Read a value of ``n`` 32-bit cells (0, 1 or 2; more keeps the low 64 bits)."""
    v: u64 = 0
    for i in range(n):
        v = (v << 32) | u64(be32(p + usize(i) * 4))
    return v


def _align4(x: usize) -> usize:
    """Round ``x`` up to a multiple of 4 (structure-block alignment, 5.4.2)."""
    return (x + 3) & ~usize(3)


def valid(dtb: usize) -> bool:
    """Return True when ``dtb`` points at a DTB this parser understands (magic and version, 5.2)."""
    if dtb == 0 or dtb & 3 != 0:
        return False
    if be32(dtb + _OFF_MAGIC) != MAGIC:
        return False
    return be32(dtb + _OFF_VERSION) >= _MIN_VERSION and be32(dtb + _OFF_LAST_COMP_VERSION) <= _LAST_COMPATIBLE


def total_size(dtb: usize) -> usize:
    """Return the size in bytes of the whole blob (header field totalsize)."""
    return usize(be32(dtb + _OFF_TOTALSIZE))


def _node_is(name: Ptr[u8], base: Ptr[u8]) -> bool:
    """Return True when node ``name`` is ``base`` or ``base@unit-address`` (2.2.1)."""
    n = string.strlen(base)
    return string.starts_with(name, base) and (name[n] == 0 or name[n] == 0x40)


def _append_reg(reg: usize, reg_len: u32, address_cells: u32, size_cells: u32,
                out: Ptr[MemRegion], count: u32, capacity: u32) -> u32:
    """Append every (address, size) pair of a ``reg`` value to ``out``; return the new count.

    Pairs with size 0 are skipped; pairs beyond ``capacity`` are dropped.
    """
    pair = (address_cells + size_cells) * 4
    if pair == 0:
        return count
    off: u32 = 0
    while off + pair <= reg_len and count < capacity:
        base = _cells(reg + usize(off), address_cells)
        size = _cells(reg + usize(off + address_cells * 4), size_cells)
        if size != 0:
            out[count].base = usize(base)
            out[count].size = usize(size)
            count += 1
        off += pair
    return count


def _scan(dtb: usize, reserved: bool, out: Ptr[MemRegion], count: u32, capacity: u32) -> u32:
    """Walk the structure block and append the ``reg`` ranges of the wanted nodes to ``out``.

    ``reserved`` False: the children of the root that are memory nodes
    (device_type "memory" or named memory@..., 3.4), with the root's cell
    sizes. True: the children of /reserved-memory (3.5), with that node's
    cell sizes. Stops at FDT_END, at the end of the block, or at an unknown
    token (a malformed blob yields what was found so far). Returns the count.
    """
    p = dtb + usize(be32(dtb + _OFF_DT_STRUCT))
    end = p + usize(be32(dtb + _OFF_SIZE_DT_STRUCT))
    strings = dtb + usize(be32(dtb + _OFF_DT_STRINGS))
    # The root is at depth 1; wanted nodes sit at depth 2 (memory) or 3 (reserved).
    target: u32 = 2
    if reserved:
        target = 3
    depth: u32 = 0
    acells: u32 = _DEFAULT_ADDRESS_CELLS     # cell sizes for the wanted nodes' reg
    scells: u32 = _DEFAULT_SIZE_CELLS
    in_reserved = False     # inside /reserved-memory
    wanted = False          # the current node at the target depth qualifies by name or parent
    reg: usize = 0          # the current target node's reg value, 0 when it has none
    reg_len: u32 = 0
    while p + 4 <= end:
        token = be32(p)
        p += 4
        if token == FDT_BEGIN_NODE:
            name = cast(Ptr[u8], p)
            p = _align4(p + string.strlen(name) + 1)
            depth += 1
            if depth == 2:
                in_reserved = _node_is(name, "reserved-memory")
            if depth == target:
                if reserved:
                    wanted = in_reserved
                else:
                    wanted = _node_is(name, "memory")
                reg = 0
        elif token == FDT_END_NODE:
            if depth == 0:
                return count
            if depth == target and wanted and reg != 0:
                count = _append_reg(reg, reg_len, acells, scells, out, count, capacity)
            if depth == target:
                wanted = False
                reg = 0
            if depth == 2:
                in_reserved = False
            depth -= 1
        elif token == FDT_PROP:
            length = be32(p)
            pname = cast(Ptr[u8], strings + usize(be32(p + 4)))
            value = p + 8
            p = _align4(value + usize(length))
            # The cells that size a reg come from its node's parent (2.3.5).
            if depth == target - 1 and (depth == 1 or in_reserved):
                if string.streq(pname, "#address-cells"):
                    acells = be32(value)
                elif string.streq(pname, "#size-cells"):
                    scells = be32(value)
            elif depth == 1 and string.streq(pname, "#address-cells"):
                acells = be32(value)
            elif depth == 1 and string.streq(pname, "#size-cells"):
                scells = be32(value)
            elif depth == target:
                if string.streq(pname, "reg"):
                    reg = value
                    reg_len = length
                elif not reserved and string.streq(pname, "device_type") and length > 0 \
                        and string.streq(cast(Ptr[u8], value), "memory"):
                    wanted = True
        elif token != FDT_NOP:
            # FDT_END, or a token this parser does not know: stop with what was found.
            return count
    return count


def memory_regions(dtb: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the RAM ranges of the /memory nodes' ``reg``; return how many (<= capacity).

    Returns 0 when ``dtb`` is not a valid blob.
    """
    if not valid(dtb):
        return 0
    return _scan(dtb, False, out, 0, capacity)


def reserved_regions(dtb: usize, out: Ptr[MemRegion], capacity: u32) -> u32:
    """Fill ``out`` with the ranges the OS must not use; return how many (<= capacity).

    Those are the entries of the memory reservation block (5.3) followed by
    the ``reg`` ranges of /reserved-memory's children (3.5.2; children given
    only by size, allocated by the OS, are not reported). The blob itself is
    not included: see total_size().
    """
    if not valid(dtb):
        return 0
    count: u32 = 0
    entry = dtb + usize(be32(dtb + _OFF_MEM_RSVMAP))
    while count < capacity:
        base = be64(entry)
        size = be64(entry + 8)
        if base == 0 and size == 0:
            break
        out[count].base = usize(base)
        out[count].size = usize(size)
        count += 1
        entry += 16
    return _scan(dtb, True, out, count, capacity)


def _chosen_property(dtb: usize, wanted: Ptr[u8], length: Ptr[u32]) -> usize:
    """The address of the value of property ``wanted`` of the root's child ``chosen``; 0 when absent.

    Stores the value's length in bytes in ``length``. The walk stops at
    FDT_END, at the end of the structure block or at an unknown token.
    """
    if not valid(dtb):
        return 0
    p = dtb + usize(be32(dtb + _OFF_DT_STRUCT))
    end = p + usize(be32(dtb + _OFF_SIZE_DT_STRUCT))
    strings = dtb + usize(be32(dtb + _OFF_DT_STRINGS))
    depth: u32 = 0          # the root node is depth 1, /chosen depth 2
    in_chosen = False
    while p + 4 <= end:
        token = be32(p)
        p += 4
        if token == FDT_BEGIN_NODE:
            name = cast(Ptr[u8], p)
            p = _align4(p + string.strlen(name) + 1)
            depth += 1
            if depth == 2:
                in_chosen = string.streq(name, "chosen")
        elif token == FDT_END_NODE:
            if depth == 0:
                return 0
            if depth == 2 and in_chosen:
                return 0        # /chosen ended without the property
            depth -= 1
        elif token == FDT_PROP:
            value_len = be32(p)
            pname = cast(Ptr[u8], strings + usize(be32(p + 4)))
            value = p + 8
            p = _align4(value + usize(value_len))
            if depth == 2 and in_chosen and string.streq(pname, wanted):
                length[0] = value_len
                return value
        elif token != FDT_NOP:
            return 0
    return 0


def _address_value(value: usize, length: u32, out: Ptr[u64]) -> bool:
    """Read a one- or two-cell (4- or 8-byte) address property into ``out``; False for another length."""
    if length == 4:
        out[0] = u64(be32(value))
        return True
    if length == 8:
        out[0] = be64(value)
        return True
    return False


def chosen_initrd(dtb: usize, out: Ptr[MemRegion]) -> bool:
    """Fill ``out`` with the initrd's range from /chosen and return True; False when there is none.

    The boot loader (QEMU's ``-initrd``, U-Boot's booti) stores where it put
    the initial RAM disk as ``linux,initrd-start`` (inclusive) and
    ``linux,initrd-end`` (exclusive), each 32 or 64 bits wide (Linux,
    Documentation/devicetree/bindings/chosen.txt; dt-schema chosen.yaml).
    False also when either is missing, has another width, or end <= start.
    """
    length: u32 = 0
    start: u64 = 0
    finish: u64 = 0
    value = _chosen_property(dtb, "linux,initrd-start", addr(length))
    if value == 0 or not _address_value(value, length, addr(start)):
        return False
    value = _chosen_property(dtb, "linux,initrd-end", addr(length))
    if value == 0 or not _address_value(value, length, addr(finish)):
        return False
    if finish <= start:
        return False
    out.base = usize(start)
    out.size = usize(finish - start)
    return True


def chosen_bootargs(dtb: usize) -> Ptr[u8]:
    """The kernel command line, /chosen ``bootargs`` (Devicetree Specification 3.6); "" when absent.

    QEMU stores its ``-append`` text there. A value that is empty or not
    NUL-terminated inside its length gives "" too.
    """
    length: u32 = 0
    value = _chosen_property(dtb, "bootargs", addr(length))
    if value == 0 or length == 0 or cast(Ptr[u8], value)[length - 1] != 0:
        return ""
    return cast(Ptr[u8], value)
