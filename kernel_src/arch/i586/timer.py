"""i586 periodic timer: 8254 PIT channel 0 on IRQ 0; time from the TSC, calibrated by PIT channel 2 (arch.timer interface).

PIT programming: Intel 82C54 datasheet (order 231244), "Control Word Format",
"Counter Latch Command" and modes 0 (interrupt on terminal count) and 2 (rate
generator); on the PC its clock is PIT_HZ (1.193182 MHz), channel 0 drives
IRQ 0, and channel 2's gate is bit 0 of port 0x61, bit 1 routing its output
to the speaker (QEMU hw/audio/pcspk.c).
"""

import board
from kcc.lang import *

from arch import divmod64 as _divmod64  # noqa: F401  defines __udivdi3, which u64 // compiles to
from arch import i8259, ioport, tsc

_CHANNEL0: Final = 0x40
_CHANNEL2: Final = 0x42
_CONTROL: Final = 0x43
_PORT_B: Final = 0x61           # PC system control port B

# Control words: channel (bits 7..6), access lobyte then hibyte (5..4 = 11), mode (3..1), binary.
_CH0_RATE_GENERATOR: Final = 0x34   # channel 0, mode 2
_CH0_ONE_SHOT: Final = 0x30         # channel 0, mode 0: counting stops until a count is written
_CH2_ONE_SHOT: Final = 0xB0         # channel 2, mode 0: counts down from the loaded value
_CH2_LATCH: Final = 0x80            # channel 2, access 00: latch the count for the next two reads
_PORT_B_GATE2: Final = 0x01
_PORT_B_SPEAKER: Final = 0x02

# TSC calibration: the PIT counts _CALIBRATION_CLOCKS (2 ms) between two samples, each the
# tightest of _SAMPLE_TRIES TSC-bracketed reads of the count.
_CALIBRATION_CLOCKS: Final = board.PIT_HZ // 500
_SAMPLE_TRIES: Final = 5
_COUNT_START: Final = 0xFFFF

# TSC ticks per second, measured on first use; 0 until then.
_tsc_hz: u64 = 0
# The last _sample(): a TSC value and the channel 2 count read at that moment.
_sample_tsc: u64 = 0
_sample_count: u32 = 0


def _channel2_count() -> u32:
    """Return PIT channel 2's current count (latched, then read low byte first)."""
    ioport.outb(_CONTROL, _CH2_LATCH)
    low = ioport.inb(_CHANNEL2)
    high = ioport.inb(_CHANNEL2)
    return (u32(high) << 8) | u32(low)


def _sample() -> None:
    """Pair a channel 2 count with the TSC: of several reads, keep the one the two TSC reads around it bound tightest.

    An emulator's vCPU (or an SMI on real hardware) may be delayed in the
    middle of a read; the tightest bracket is the one that was not.
    """
    global _sample_tsc, _sample_count
    best: u64 = 0xFFFF_FFFF_FFFF_FFFF
    for _ in range(u32(0), _SAMPLE_TRIES):
        before = tsc.read()
        count = _channel2_count()
        after = tsc.read()
        if after - before < best:
            best = after - before
            _sample_tsc = before + (after - before) // 2
            _sample_count = count


def _calibrate() -> u64:
    """Measure the TSC's rate against PIT channel 2 and return it in Hz.

    Channel 2 (gate on, speaker off) counts down from 0xFFFF in mode 0; its
    count and the TSC are sampled, then sampled again once the count has
    dropped by _CALIBRATION_CLOCKS. The rate is the TSC's advance scaled by
    PIT_HZ over the PIT's. Interrupts do not matter: channel 2 has no IRQ.
    """
    saved = ioport.inb(_PORT_B)
    ioport.outb(_PORT_B, (saved & ~u8(_PORT_B_SPEAKER)) | _PORT_B_GATE2)
    ioport.outb(_CONTROL, _CH2_ONE_SHOT)
    ioport.outb(_CHANNEL2, u8(_COUNT_START & 0xFF))
    ioport.outb(_CHANNEL2, u8(_COUNT_START >> 8))
    _sample()
    start_tsc = _sample_tsc
    start_count = _sample_count
    while start_count - _channel2_count() < _CALIBRATION_CLOCKS:
        pass
    _sample()
    ioport.outb(_PORT_B, saved)
    return (_sample_tsc - start_tsc) * board.PIT_HZ // u64(start_count - _sample_count)


def init(hz: u32) -> None:
    """Start IRQ 0 ``hz`` times a second (PIT channel 0 in mode 2) and unmask it at the PIC.

    The divisor is PIT_HZ / hz rounded to nearest and kept in 1..65535. Call
    with interrupts off; they still need arch.cpu.interrupts_enable() to be taken.
    """
    divisor = (u32(board.PIT_HZ) + hz // 2) // hz
    if divisor == 0:
        divisor = 1
    if divisor > 0xFFFF:
        divisor = 0xFFFF
    ioport.outb(_CONTROL, _CH0_RATE_GENERATOR)
    ioport.outb(_CHANNEL0, u8(divisor & 0xFF))
    ioport.outb(_CHANNEL0, u8(divisor >> 8))
    i8259.unmask(board.PIT_IRQ)
    # The PIT ran at the BIOS's 18.2 Hz until now, and a masked line still latches its
    # requests: one left over would arrive as a tick right away, less than a period after init.
    i8259.drop_pending()


def stop() -> None:
    """Mask IRQ 0 and stop channel 0 (mode 0 without a count)."""
    i8259.mask(board.PIT_IRQ)
    ioport.outb(_CONTROL, _CH0_ONE_SHOT)


def frequency() -> u64:
    """Return the rate of now() in Hz: the TSC's, measured against the PIT on first use."""
    global _tsc_hz
    if _tsc_hz == 0:
        _tsc_hz = _calibrate()
    return _tsc_hz


def now() -> u64:
    """Return the time-stamp counter, which runs at frequency() Hz."""
    return tsc.read()


def handle_interrupt() -> None:
    """Acknowledge IRQ 0 at the PIC so the next tick can come; the PIT reloads by itself in mode 2."""
    i8259.eoi(board.PIT_IRQ)
