"""Polled driver for the STM32 LPUART (transmit only) and the STM32L5 clock and pin set-up it needs.

Registers from ST RM0438 (STM32L552xx/L562xx reference manual): chapter 45
"Low-power universal asynchronous receiver transmitter (LPUART)": CR1 +0x00
(UE bit 0, RE bit 2, TE bit 3), CR2 +0x04, CR3 +0x08, BRR +0x0C (LPUARTDIV =
256 * f_ck / baud, at least 0x300), ISR +0x1C (TXE bit 7 with the FIFO off),
TDR +0x28; chapter 9 "Reset and clock control (RCC)": AHB2ENR +0x4C
(GPIOGEN bit 6), APB1ENR1 +0x58 (PWREN bit 28), APB1ENR2 +0x5C (LPUART1EN
bit 0), CCIPR1 +0x88 (LPUART1SEL bits 11:10: 00 PCLK1, 01 SYSCLK, 10 HSI16,
11 LSE); chapter 8 "Power control (PWR)": CR2 +0x04 (IOSV bit 9, VDDIO2 valid,
needed for PG2..PG15); chapter 13 "General-purpose I/Os (GPIO)": MODER +0x00
(2 bits per pin, 10 = alternate function), AFRL +0x20 and AFRH +0x24 (4 bits
per pin).
"""

from kcc.lang import *

CR1_UE: Final = 1 << 0
CR1_TE: Final = 1 << 3
ISR_TXE: Final = 1 << 7
BRR_MIN: Final = 0x300

RCC_AHB2ENR: Final = 0x4C
RCC_APB1ENR1: Final = 0x58
RCC_APB1ENR2: Final = 0x5C
RCC_CCIPR1: Final = 0x88
RCC_AHB2ENR_GPIOGEN: Final = 1 << 6
RCC_APB1ENR1_PWREN: Final = 1 << 28
RCC_APB1ENR2_LPUART1EN: Final = 1 << 0
RCC_CCIPR1_LPUART1SEL_MASK: Final = 3 << 10
RCC_CCIPR1_LPUART1SEL_PCLK1: Final = 0 << 10
PWR_CR2: Final = 0x04
PWR_CR2_IOSV: Final = 1 << 9
GPIO_MODER: Final = 0x00
GPIO_AFRL: Final = 0x20
GPIO_MODE_AF: Final = 2


@struct
class Lpuart:
    """CR1 through TDR."""

    cr1: Reg[u32]
    cr2: Reg[u32]
    cr3: Reg[u32]
    brr: Reg[u32]
    _gap: Array[u32, 3]     # GTPR (not on the LPUART), RTOR, RQR
    isr: Reg[u32]           # +0x1C
    icr: Reg[u32]
    rdr: Reg[u32]
    tdr: Reg[u32]           # +0x28


def _modify(addr: usize, clear: u32, set: u32) -> None:
    """Read-modify-write the 32-bit register at ``addr``: clear the bits of ``clear``, set those of ``set``."""
    reg = cast(Ptr[u32], addr)
    volatile_store(reg, (volatile_load(reg) & ~clear) | set)


def _pin_af(gpio_base: usize, pin: u32, af: u32) -> None:
    """Put ``pin`` (0..15) of the GPIO port at ``gpio_base`` in alternate function ``af``."""
    afr = gpio_base + GPIO_AFRL + usize(pin // 8) * 4
    shift = (pin % 8) * 4
    _modify(afr, u32(0xF) << shift, af << shift)
    _modify(gpio_base + GPIO_MODER, u32(3) << (pin * 2), u32(GPIO_MODE_AF) << (pin * 2))


def stm32l5_lpuart1_setup(rcc_base: usize, pwr_base: usize, gpio_base: usize, tx_pin: u32,
                          rx_pin: u32, af: u32) -> None:
    """Clock LPUART1, its GPIO port (G) and the PWR block; validate VDDIO2; route the two pins to ``af``.

    LPUART1's kernel clock is set to PCLK1 (RCC_CCIPR1.LPUART1SEL = 00) explicitly, while the
    LPUART is still unclocked: 00 is also the reset value, but a boot loader or a previous
    program may have left another source selected, and the baud rate divisor assumes PCLK1.
    """
    _modify(rcc_base + RCC_CCIPR1, RCC_CCIPR1_LPUART1SEL_MASK, RCC_CCIPR1_LPUART1SEL_PCLK1)
    _modify(rcc_base + RCC_APB1ENR1, 0, RCC_APB1ENR1_PWREN)
    _modify(rcc_base + RCC_AHB2ENR, 0, RCC_AHB2ENR_GPIOGEN)
    _modify(rcc_base + RCC_APB1ENR2, 0, RCC_APB1ENR2_LPUART1EN)
    # RM0438 9.4: a read back after enabling a clock gives the bus time to apply it.
    volatile_load(cast(Ptr[u32], rcc_base + RCC_APB1ENR2))
    _modify(pwr_base + PWR_CR2, 0, PWR_CR2_IOSV)
    _pin_af(gpio_base, tx_pin, af)
    _pin_af(gpio_base, rx_pin, af)


def init(base: usize, clock_hz: u32, baud: u32) -> None:
    """Program 8N1 at ``baud`` from the kernel clock ``clock_hz`` and enable the transmitter.

    LPUARTDIV = 256 * clock_hz / baud (RM0438 45.4.7), split into whole and
    fractional parts so that it stays within 32 bits for any clock up to the
    part's 110 MHz (and any baud below 16 Mbaud), and clamped to the minimum the
    LPUART accepts.
    """
    u = mmio(Lpuart, base)
    u.cr1.write(0)
    div = (clock_hz // baud) * 256 + (clock_hz % baud) * 256 // baud
    if div < BRR_MIN:
        div = BRR_MIN
    u.brr.write(div)
    u.cr2.write(0)
    u.cr3.write(0)
    u.cr1.write(CR1_UE | CR1_TE)


def putc(base: usize, c: u8) -> None:
    """Send one byte, spinning until the transmit data register is empty."""
    u = mmio(Lpuart, base)
    while u.isr.read() & ISR_TXE == 0:
        pass
    u.tdr.write(u32(c))
