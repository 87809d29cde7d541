"""The system-call ABI shared by the kernel and the user library: object kinds, rights, operations, errors.

Every kernel operation is an invocation of a capability slot (docs/abi.md):
the caller names a slot of its own capability table, an operation number and
up to six argument words; the kernel answers with an error code and up to six
result words. How those travel in registers is the architecture's part
(riscv64: ``a7`` = operation, ``a0`` = slot, ``a1..a6`` = arguments; on
return ``a0`` = error, ``a1..a6`` = results). This module holds the numbers
both sides must agree on, and nothing else, so the kernel and every user
program compile it from one source.
"""

from kcc.lang import *

# ---- object kinds (the type of a capability) --------------------------------------------------
KIND_NULL: Final = 0            # an empty slot
KIND_PROCESS: Final = 1         # address space + capability table + memory quota
KIND_THREAD: Final = 2          # saved context, priority, budget, state
KIND_ENDPOINT: Final = 3        # synchronous message rendezvous; receives fault messages
KIND_NOTIFICATION: Final = 4    # a word of bits OR-ed by signal, taken by wait/poll
KIND_FRAME: Final = 5           # physically contiguous pages, mappable
KIND_IRQ_CONTROL: Final = 6     # the right to claim interrupt lines
KIND_IRQ: Final = 7             # one claimed interrupt line, bindable to a notification
KIND_DEVICE: Final = 8          # an MMIO region, mappable (never executable)
KIND_CONSOLE: Final = 9         # the kernel's debug console and debug operations
KIND_PORTAL: Final = 10         # a callee's entry point and stacks: thread-migrating calls run there
NUM_KINDS: Final = 11

# ---- rights -----------------------------------------------------------------------------------
RIGHT_READ: Final = 1           # receive / wait; map readable; read state
RIGHT_WRITE: Final = 2          # send / signal; map writable; change state (registers, start, map into)
RIGHT_GRANT: Final = 4          # give this capability to another process, or transfer capabilities through it
RIGHT_EXEC: Final = 8           # frames: map executable
RIGHT_DESTROY: Final = 16       # destroy the object (revokes every copy)
RIGHTS_ALL: Final = 31
# OP_PROC_MAP flag beside the R/W/X rights: map the frame copy-on-write (read-only until the first
# store to a page, which gives the storing process a private copy charged to its quota).
MAP_COW: Final = 32

# ---- operations (the operation number; the slot is the capability invoked) --------------------
# Any capability.
OP_CAP_IDENTIFY: Final = 1      # () -> (kind, rights, badge)
OP_CAP_COPY: Final = 2          # (dst_slot) -> ()
OP_CAP_MINT: Final = 3          # (dst_slot, rights_mask, badge) -> (); badge only on an unbadged capability
OP_CAP_MOVE: Final = 4          # (dst_slot) -> ()
OP_CAP_DELETE: Final = 5        # () -> (); the object lives on
OP_CAP_DESTROY: Final = 6       # () -> (); needs DESTROY; every copy of it becomes stale
# The calling thread itself: the slot is ignored.
OP_YIELD: Final = 16            # () -> ()
OP_SLEEP: Final = 17            # (ticks) -> ()
OP_EXIT: Final = 18             # (code) -> never returns
OP_SELF: Final = 19             # () -> (thread id, process slot count, priority)
OP_REPLY: Final = 20            # (label, w0, w1, w2, w3) -> (); answers the call this thread received last
OP_ACCEPT: Final = 21           # (buffer, capacity) -> (bytes): copy the payload announced to this thread
OP_REFUSE: Final = 22           # () -> (): refuse it; its sender gets ERR_REFUSED
OP_MIGRATE_RETURN: Final = 23   # (r0, r1, r2, r3) -> never returns here: the migrated caller resumes with them
OP_THREAD_RECV: Final = 24      # (timeout ticks, 0: forever; NO_WAIT: poll) -> (sender id, label, w0..w3)
# Process (the slot names a process; WRITE unless noted).
OP_PROC_CREATE: Final = 32      # (kind, dst_slot, arg) -> (); object owned by the process, capability to the caller
OP_PROC_MAP: Final = 33         # (frame_or_device_slot, vaddr, rights) -> ()
OP_PROC_UNMAP: Final = 34       # (vaddr, pages) -> (pages unmapped)
OP_PROC_GIVE: Final = 35        # (src_slot, dst_slot) -> (); src needs GRANT; copies into the process's table
OP_PROC_INFO: Final = 36        # () -> (quota pages, pages used, threads); READ
OP_PROC_CLONE: Final = 37       # (src process slot, WRITE on it) -> (); the empty process gets src's frame mappings,
                                # writable ones copy-on-write on both sides
# Thread (WRITE unless noted).
OP_THREAD_SET_REGS: Final = 48  # (pc, sp, arg0, arg1) -> ()
OP_THREAD_SET_SCHED: Final = 49 # (priority, budget ticks, period ticks) -> (); priority <= the caller's
OP_THREAD_START: Final = 50     # () -> (); an inactive thread becomes ready
OP_THREAD_STOP: Final = 51      # () -> (); any live thread becomes stopped
OP_THREAD_RESUME: Final = 52    # () -> (); a stopped or faulted thread becomes ready
OP_THREAD_STATE: Final = 53     # () -> (state, exit code, fault kind, fault address, fault pc); READ
OP_THREAD_SET_FAULT: Final = 54 # (endpoint_slot) -> (); the endpoint receives this thread's faults
OP_THREAD_ID: Final = 55        # () -> (thread id); READ
OP_THREAD_SEND: Final = 56      # (label, w0, w1, w2, w3, block) -> (); to the thread's OP_THREAD_RECV
# Endpoint.
OP_EP_RECV: Final = 64          # (timeout ticks, 0: forever; NO_WAIT: poll, cap dst slot) -> (badge, label, w0..w3); READ
OP_EP_SEND: Final = 65          # (label, w0, w1, w2, w3, cap slot) -> (); WRITE; blocks until received
OP_EP_CALL: Final = 66          # (label, w0, w1, w2, w3, cap slot) -> (0, label, w0..w3) of the reply; WRITE
OP_EP_REPLY_RECV: Final = 67    # (label, w0, w1, w2, w3, cap dst slot) -> (badge, label, w0..w3); READ; reply, then receive
OP_EP_POST: Final = 68          # (label, w0, w1, w2, w3, block) -> (); WRITE; queued in the ring, ERR_WOULD_BLOCK when full
OP_EP_SEND_PAYLOAD: Final = 69  # (label, pointer, length, w0) -> (bytes accepted); WRITE; blocks until accepted or refused
# Portal (thread migration, kmi): the caller's own thread runs the callee's entry in its space.
OP_PORTAL_SET: Final = 72       # (entry, stack base, stack bytes, stack count) -> (); WRITE; the callee's set-up
OP_MIGRATE_CALL: Final = 73     # (a1, a2, a3, a4) -> (r0, r1, r2, r3); WRITE; the entry gets (badge, a1..a4)
OP_MIGRATE_FORWARD: Final = 74  # (a1, a2, a3, a4) -> never returns here; WRITE; from a callee: pass the call on
                                # (also the tail call): the next callee's return goes to the original caller
OP_MIGRATE_NOTIFY: Final = 75   # (a1, a2, a3, a4) -> (); WRITE; one-way: a new activation runs the entry,
                                # the caller goes on at once and never gets results
# Notification.
OP_NTFN_SIGNAL: Final = 80      # (bits) -> (); WRITE; ORs bits | badge
OP_NTFN_WAIT: Final = 81        # () -> (bits); READ; blocks until some bit is set, clears them
OP_NTFN_POLL: Final = 82        # () -> (bits); READ; never blocks
# Interrupts.
OP_IRQ_CLAIM: Final = 96        # (irq number, dst_slot) -> (); on IRQ control
OP_IRQ_BIND: Final = 97         # (notification_slot, bits) -> (); on an IRQ
OP_IRQ_ACK: Final = 98          # () -> (); on an IRQ: unmask it again
# Device region.
OP_DEVICE_INFO: Final = 112     # () -> (physical base, size in bytes)
# Frame.
OP_FRAME_INFO: Final = 113      # () -> (pages)
# Debug console (the kernel's own console; for early programs and tests).
OP_CONSOLE_WRITE: Final = 128   # (user pointer, length in bytes) -> (bytes written)
OP_CONSOLE_POOL: Final = 129    # (kind) -> (free objects, capacity)
OP_CONSOLE_HALT: Final = 130    # (exit status) -> never returns: powers the machine off
OP_CONSOLE_CHECK: Final = 131   # () -> (violations): check the kernel's invariants
OP_CONSOLE_FASTPATH: Final = 132  # (0: off, 1: on) -> (): the IPC fast path, so tests can compare both paths

NO_WAIT: Final = 0xFFFF_FFFF    # OP_EP_RECV timeout: do not block
NO_CAP: Final = 0xFFFF_FFFF     # the cap slot argument of send, call and receive: no capability transfer

# Messages: a label of LABEL_BITS bits and four words, in registers. The label result of a receive
# also carries MSG_CAP when a capability arrived in the receiver's slot.
MSG_WORDS: Final = 4
LABEL_BITS: Final = 48
LABEL_MASK: Final = (1 << LABEL_BITS) - 1
MSG_CAP: Final = 1 << LABEL_BITS
MSG_PAYLOAD: Final = 1 << (LABEL_BITS + 1)     # a payload is announced: w0 = its length, w1 = the sender's w0
MAX_PAYLOAD: Final = 64 * 1024                 # bytes in one payload

# ---- error codes (the first result word; 0 is success) ----------------------------------------
OK: Final = 0
ERR_INVALID_SLOT: Final = 1     # the slot number is outside the capability table
ERR_EMPTY_SLOT: Final = 2       # the slot holds no capability
ERR_STALE: Final = 3            # the object the capability named was destroyed
ERR_WRONG_KIND: Final = 4       # the capability is of another kind than the operation needs
ERR_RIGHTS: Final = 5           # the capability lacks a right the operation needs
ERR_INVALID_ARG: Final = 6      # an argument is out of range or inconsistent
ERR_BAD_ADDRESS: Final = 7      # a user pointer is not mapped as needed, reaches the kernel, or wraps
ERR_NO_MEMORY: Final = 8        # the memory quota is exhausted
ERR_NO_OBJECTS: Final = 9       # the kernel's pool of that object kind is exhausted
ERR_SLOT_FULL: Final = 10       # the destination slot is occupied
ERR_UNKNOWN_OP: Final = 11      # no such operation (for this kind)
ERR_BAD_STATE: Final = 12       # the object is not in a state that allows the operation
ERR_MAPPED: Final = 13          # the virtual range is already (partly) mapped
ERR_TIMEOUT: Final = 14         # a blocking operation's timeout expired
ERR_WOULD_BLOCK: Final = 15     # a non-blocking operation found nothing to do (or a full ring)
ERR_REFUSED: Final = 16         # the receiver refused the payload (or dropped it unanswered)
ERR_FAULTED: Final = 17         # the callee of a migrated call faulted; the caller goes on

# ---- thread states (OP_THREAD_STATE) ----------------------------------------------------------
STATE_INACTIVE: Final = 0       # created, never started
STATE_READY: Final = 1          # runnable (or running)
STATE_BLOCKED: Final = 2        # sleeping, receiving, sending or waiting
STATE_STOPPED: Final = 3        # stopped by OP_THREAD_STOP
STATE_FAULTED: Final = 4        # stopped by a fault, waiting for its handler
STATE_EXITED: Final = 5         # OP_EXIT; the exit code is kept

# ---- fault kinds (portable; fault messages and OP_THREAD_STATE) -------------------------------
FAULT_NONE: Final = 0
FAULT_PAGE: Final = 1           # access to an unmapped page or against its permissions
FAULT_ILLEGAL: Final = 2        # illegal instruction
FAULT_BREAKPOINT: Final = 3
FAULT_MISALIGNED: Final = 4
FAULT_ACCESS: Final = 5         # bus / physical-access fault

# Message labels the kernel itself sends (OP_EP_RECV's label result).
LABEL_FAULT: Final = 0xFA17     # w0 = fault kind, w1 = address, w2 = pc, w3 = thread id

# Thread ids: (generation << 32) | index; a thread id never names a later thread in the same slot.
TID_INDEX_BITS: Final = 32
