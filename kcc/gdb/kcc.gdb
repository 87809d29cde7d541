# gdb settings for kernels built by kcc. `kcc debug` (and `make qemu-gdb`) loads this file, then
# kcc/gdb/printers.py, then connects to QEMU's gdb stub.
#
# The DWARF names the source language DW_LANG_Python; gdb reads it with its "minimal" language,
# whose expressions are C's: `p r.next` or `p r->next` for a Ptr to a struct, `p *page`,
# `p _ranges[0].start`, `ptype Range`. Functions carry their qualified names: `break
# lib.pagealloc.alloc`, and in expressions quoted: `ptype 'lib.pagealloc.alloc'`. Exported
# functions keep their symbol (`break kmain`), source lines work as `break pagealloc.py:110`.

set pagination off
set confirm off
# A kernel is debugged over a slow link: no need to ask before reading registers or memory.
set remotetimeout 10

# Stop in the panic handler before it prints and powers the machine off, so a failed check
# (overflow, bad index, NULL) can be inspected with `bt`, `up` and `info locals`.
break __kcc_panic
