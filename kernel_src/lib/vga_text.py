"""Output driver for the VGA text screen at the board's VGA_TEXT_BASE (80x25 colour text, mode 3).

Each cell is a 16-bit word: the character (code page 437) in the low byte and
its attribute in the high byte, rows one after another (IBM VGA Technical
Reference, "Alphanumeric Modes"; QEMU hw/display/vga.c). The BIOS leaves the
PC in mode 3 with the buffer at 0xB_8000. Writes only: reads of VGA memory
are slow under emulation and nothing needs them.
"""

import board
from kcc.lang import *

# Light grey on black: background 0 in bits 15..12, foreground 7 in bits 11..8.
ATTRIBUTE: Final = 0x07
TAB_WIDTH: Final = 8

_BLANK: Final = (ATTRIBUTE << 8) | 0x20
_NEWLINE: Final = 0x0A
_RETURN: Final = 0x0D
_BACKSPACE: Final = 0x08
_TAB: Final = 0x09
_CELLS: Final = board.VGA_COLUMNS * board.VGA_ROWS

# What the screen shows, kept in RAM so that scrolling never reads VGA memory.
_shadow: Array[u16, _CELLS]
_row: u32 = 0
_column: u32 = 0


def _store(index: u32, cell: u16) -> None:
    """Put ``cell`` at position ``index`` on the screen and in the shadow copy."""
    _shadow[index] = cell
    volatile_store(cast(Ptr[u16], board.VGA_TEXT_BASE) + index, cell)


def clear() -> None:
    """Blank the whole screen and put the cursor position at the top left."""
    global _row, _column
    for i in range(u32(0), _CELLS):
        _store(i, _BLANK)
    _row = 0
    _column = 0


def init() -> None:
    """Start with a blank screen."""
    clear()


def _scroll() -> None:
    """Move every row up by one and blank the last row."""
    for i in range(u32(0), _CELLS - board.VGA_COLUMNS):
        _store(i, _shadow[i + board.VGA_COLUMNS])
    for i in range(u32(_CELLS - board.VGA_COLUMNS), _CELLS):
        _store(i, _BLANK)


def _newline() -> None:
    """Go to the start of the next row, scrolling at the bottom."""
    global _row, _column
    _column = 0
    if _row + 1 == board.VGA_ROWS:
        _scroll()
    else:
        _row += 1


def putc(c: u8) -> None:
    """Show byte ``c`` at the cursor position and advance; '\\n', '\\r', '\\b' and '\\t' move it instead."""
    global _column
    if c == _NEWLINE:
        _newline()
    elif c == _RETURN:
        _column = 0
    elif c == _BACKSPACE:
        if _column > 0:
            _column -= 1
    elif c == _TAB:
        _column = (_column // TAB_WIDTH + 1) * TAB_WIDTH
        if _column >= board.VGA_COLUMNS:
            _newline()
    else:
        _store(_row * board.VGA_COLUMNS + _column, (u16(ATTRIBUTE) << 8) | u16(c))
        _column += 1
        if _column == board.VGA_COLUMNS:
            _newline()
