"""uart: the user-mode 16550 console driver, serving the console ("tty") over IPC with interrupt-driven input.

Holds the UART's registers (a device region, proto.SLOT_RES0) and its
interrupt line (an IRQ capability, proto.SLOT_RES1), both granted by init
from the manifest. Two threads share the process's memory:

- the *input thread* waits on the notification the IRQ is bound to, moves
  every received byte from the UART's FIFO into a ring of RING bytes,
  counts Ctrl-C, acknowledges the interrupt and signals the *data*
  notification; with the ring full it masks the receive interrupt, so the
  bytes wait in the UART (and QEMU stops feeding it) instead of being lost;
- the *server* (the main thread) answers proto.TTY_* messages on the
  endpoint registered as "tty": writes (payloads) go straight to the
  transmitter through the driver's own mapping of the UART, reads take bytes
  from the ring and wait on the data notification when it is empty.

A blocking read holds the server until a key arrives, so other clients'
calls queue behind it meanwhile; only the foreground program reads.
The kernel's console keeps the same UART for the kernel's own messages.
"""

import board
from kcc.lang import *

from lib import abi
from user.lib import console, names, proto, syscall
from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic

UART_VA: Final = 0x30_0000_0000         # where the registers are mapped
STACK_VA: Final = 0x31_0000_0000        # the input thread's stack
STACK_PAGES: Final = 2
RING: Final = 4096                      # bytes of typed input kept for readers (a power of two)
OUT_MAX: Final = 4096                   # bytes of one write taken at a time (the client sends the rest after)

SLOT_EP: Final = proto.FIRST_FREE       # the endpoint clients call
SLOT_IRQ_NTFN: Final = proto.FIRST_FREE + 1
SLOT_DATA: Final = proto.FIRST_FREE + 2  # signalled by the input thread after each interrupt
SLOT_STACK: Final = proto.FIRST_FREE + 3
SLOT_INPUT: Final = proto.FIRST_FREE + 4

# 16550 registers (index << UART0_REG_SHIFT bytes from the base) and bits (16550 datasheet).
_RBR_THR: Final = 0
_IER: Final = 1
_FCR: Final = 2
_MCR: Final = 4
_LSR: Final = 5
_IER_RDA: Final[u8] = 0x01              # "received data available" interrupt
_FCR_ENABLE: Final[u8] = 0x01           # FIFOs on (the kernel enabled them), not cleared: typed-ahead bytes stay
_MCR_DTR_RTS_OUT2: Final[u8] = 0x0B     # OUT2 gates the interrupt output on a real 16550
_LSR_DR: Final[u8] = 0x01               # a received byte is waiting
_LSR_THRE: Final[u8] = 0x20             # the transmit holding register is empty
_IRQ_BIT: Final = 1
_CTRL_C: Final[u8] = 3

_ring: Array[u8, RING]
_head: usize = 0        # bytes ever put in the ring (written by the input thread only)
_tail: usize = 0        # bytes ever taken (written by the server only)
_intr: usize = 0        # Ctrl-C typed (written by the input thread only)
_paused: usize = 0      # 1 while the receive interrupt is masked because the ring is full
_out: Array[u8, OUT_MAX]


def _reg(index: usize) -> Ptr[u8]:
    """The UART register ``index`` in this process's mapping."""
    return cast(Ptr[u8], UART_VA + (index << board.UART0_REG_SHIFT))


def _get(p: Ptr[usize]) -> usize:
    """Read a word the other thread writes."""
    return volatile_load(p)


def _set(p: Ptr[usize], v: usize) -> None:
    """Write a word the other thread reads."""
    volatile_store(p, v)


def _drain() -> None:
    """Move every byte waiting in the UART into the ring; mask the interrupt when the ring is full."""
    while volatile_load(_reg(_LSR)) & _LSR_DR != 0:
        head = _get(addr(_head))
        if head - _get(addr(_tail)) >= RING:
            volatile_store(_reg(_IER), u8(0))
            _set(addr(_paused), 1)
            return
        c = volatile_load(_reg(_RBR_THR))
        if c == _CTRL_C:
            _set(addr(_intr), _get(addr(_intr)) + 1)
        _ring[head % RING] = c
        _set(addr(_head), head + 1)


def _input_thread(a0: usize, a1: usize) -> None:
    """The input thread: serve each receive interrupt, then tell a waiting reader."""
    res: syscall.SysResult
    while True:
        syscall.ntfn_wait(SLOT_IRQ_NTFN, addr(res))
        _drain()
        syscall.irq_ack(proto.SLOT_RES1)
        syscall.ntfn_signal(SLOT_DATA, 1)


def _putc(c: u8) -> None:
    """Send one byte, waiting for the transmitter."""
    while volatile_load(_reg(_LSR)) & _LSR_THRE == 0:
        pass
    volatile_store(_reg(_RBR_THR), c)


def _write(n: usize) -> None:
    """Send the ``n`` bytes in _out, each newline as carriage return + newline (a terminal's onlcr)."""
    for i in range(usize(0), n):
        if _out[i] == 0x0A:
            _putc(0x0D)
        _putc(_out[i])


def _read(capacity: usize, nowait: bool, words: Ptr[proto.Words]) -> usize:
    """Take up to ``capacity`` (<= 32) bytes from the ring into ``words``; wait for one unless ``nowait``."""
    res: syscall.SysResult
    while _get(addr(_head)) == _tail and not nowait:
        syscall.ntfn_wait(SLOT_DATA, addr(res))
    out = cast(Ptr[u8], addr(words.w[0]))
    n: usize = 0
    while n < capacity and n < 32 and _get(addr(_head)) != _tail:
        out[n] = _ring[_tail % RING]
        _set(addr(_tail), _tail + 1)
        n += 1
    if _get(addr(_paused)) != 0:
        # The reader made room: let the UART interrupt again (the bytes it held come in then).
        _set(addr(_paused), 0)
        volatile_store(_reg(_IER), _IER_RDA)
    return n


def _setup() -> usize:
    """Map the UART, create the endpoint, notifications and input thread, program the UART; return the error."""
    me: usize = proto.SLOT_PROCESS
    err = syscall.proc_map(me, proto.SLOT_RES0, UART_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        err = syscall.proc_create(me, abi.KIND_ENDPOINT, SLOT_EP, 0)
    if err == abi.OK:
        err = syscall.proc_create(me, abi.KIND_NOTIFICATION, SLOT_IRQ_NTFN, 0)
    if err == abi.OK:
        err = syscall.proc_create(me, abi.KIND_NOTIFICATION, SLOT_DATA, 0)
    if err == abi.OK:
        err = syscall.proc_create(me, abi.KIND_FRAME, SLOT_STACK, STACK_PAGES)
    if err == abi.OK:
        err = syscall.proc_map(me, SLOT_STACK, STACK_VA, abi.RIGHT_READ | abi.RIGHT_WRITE)
    if err == abi.OK:
        err = syscall.proc_create(me, abi.KIND_THREAD, SLOT_INPUT, 0)
    if err == abi.OK:
        err = syscall.thread_set_regs(SLOT_INPUT, addr(_input_thread), STACK_VA + STACK_PAGES * board.PAGE_SIZE,
                                      0, 0)
    if err != abi.OK:
        return err
    volatile_store(_reg(_IER), u8(0))
    volatile_store(_reg(_FCR), _FCR_ENABLE)
    volatile_store(_reg(_MCR), _MCR_DTR_RTS_OUT2)
    err = syscall.irq_bind(proto.SLOT_RES1, SLOT_IRQ_NTFN, _IRQ_BIT)
    if err == abi.OK:
        err = syscall.thread_start(SLOT_INPUT)
    if err != abi.OK:
        return err
    volatile_store(_reg(_IER), _IER_RDA)
    # A restarted driver finds its predecessor's interrupt unacknowledged: acknowledging it lets the
    # line through again (ERR_BAD_STATE just means there was none).
    syscall.irq_ack(proto.SLOT_RES1)
    return names.register("tty", SLOT_EP)


@export("main")
def main(arg0: usize, arg1: usize) -> usize:
    """Set the driver up and serve the console forever; return 1 if it cannot start."""
    err = _setup()
    if err != abi.OK:
        console.printf("uart: cannot start: error %u\n", err)
        return 1
    res: syscall.SysResult
    acc: syscall.SysResult
    words: proto.Words
    while True:
        if syscall.ep_recv(SLOT_EP, 0, addr(res)) != abi.OK:
            continue
        label = res.v1 & abi.LABEL_MASK
        if res.v1 & abi.MSG_PAYLOAD != 0:
            if label == proto.TTY_WRITE and syscall.accept(addr(_out[0]), OUT_MAX, addr(acc)) == abi.OK:
                _write(acc.v0)
            else:
                syscall.refuse()
            continue
        if label == proto.TTY_READ:
            n = _read(res.v2, res.v3 & proto.READ_NOWAIT != 0, addr(words))
            syscall.reply(n << proto.COUNT_SHIFT, words.w[0], words.w[1], words.w[2], words.w[3])
        elif label == proto.TTY_INTR:
            syscall.reply(abi.OK, _get(addr(_intr)), 0, 0, 0)
        elif label == proto.TTY_FLUSH:
            _set(addr(_tail), _get(addr(_head)))
            syscall.reply(abi.OK, 0, 0, 0, 0)
        else:
            syscall.reply(abi.ERR_UNKNOWN_OP, 0, 0, 0, 0)
