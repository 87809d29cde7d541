"""armv8m boot console: the board's UART, chosen by its UART_KIND constant (arch.console interface).

``UART_KIND`` is "cmsdk" (Arm CMSDK APB UART, mps2-an505) or "stm32_lpuart"
(STM32L5 LPUART1 on the Nucleo's ST-LINK virtual COM port). The branch for
the other kind is dropped at compile time, so each board only needs the
constants of its own UART.

Unlike a 16550, neither UART sends anything before it is configured (the
CMSDK UART even keeps its buffer full while TX is disabled, so a polling
writer would wait forever), so putc() configures the UART itself when
init() has not run yet: a panic raised before kmain's console.init() still
reaches the console.
"""

import board
from kcc.lang import *

from lib import cmsdk_uart, stm32_lpuart

_ready: bool = False


def init() -> None:
    """Clock and configure the UART for UART_BAUD 8N1 transmission; safe to call first thing."""
    global _ready
    _ready = True
    if board.UART_KIND == "cmsdk":
        cmsdk_uart.init(board.UART0_BASE, board.UART0_CLOCK_HZ, board.UART_BAUD)
    elif board.UART_KIND == "stm32_lpuart":
        stm32_lpuart.stm32l5_lpuart1_setup(board.RCC_BASE, board.PWR_BASE, board.UART_GPIO_BASE,
                                           board.UART_TX_PIN, board.UART_RX_PIN, board.UART_AF)
        stm32_lpuart.init(board.UART0_BASE, board.UART0_CLOCK_HZ, board.UART_BAUD)
    else:
        panic("board UART_KIND names no UART driver of arch/armv8m")


def putc(c: u8) -> None:
    """Write one byte to the console, waiting while the transmitter is full (configuring it first if needed)."""
    if not _ready:
        init()
    if board.UART_KIND == "cmsdk":
        cmsdk_uart.putc(board.UART0_BASE, c)
    elif board.UART_KIND == "stm32_lpuart":
        stm32_lpuart.putc(board.UART0_BASE, c)
