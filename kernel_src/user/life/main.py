"""life: Conway's Game of Life on a 40x20 torus, animated in place with ANSI escapes; Ctrl-C stops it early.

``life [GENERATIONS]`` (default 100) starts from a glider, a blinker and an
R-pentomino, draws each generation at the top of the screen ("ESC[H", then
the rows) and sleeps FRAME_TICKS ticks between them.
"""

from kcc.lang import *

from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.lib import syscall, tty

W: Final = 40
H: Final = 20
DEFAULT_GENERATIONS: Final = 100
FRAME_TICKS: Final = 5

_cells: Array[u8, W * H]
_next: Array[u8, W * H]
_row: Array[u8, W + 2]


def _set(x: usize, y: usize) -> None:
    """Make cell (x, y) alive."""
    _cells[(y % H) * W + x % W] = 1


def _alive(x: usize, y: usize) -> usize:
    """1 when the cell at (x, y), wrapped around the torus, is alive."""
    return usize(_cells[(y % H) * W + x % W])


def _step() -> usize:
    """Compute the next generation; return how many cells live in it."""
    live: usize = 0
    for y in range(usize(0), H):
        for x in range(usize(0), W):
            n = _alive(x + W - 1, y + H - 1) + _alive(x, y + H - 1) + _alive(x + 1, y + H - 1) + \
                _alive(x + W - 1, y) + _alive(x + 1, y) + \
                _alive(x + W - 1, y + 1) + _alive(x, y + 1) + _alive(x + 1, y + 1)
            on = n == 3 or (n == 2 and _alive(x, y) == 1)
            _next[y * W + x] = 1 if on else 0
            if on:
                live += 1
    for i in range(usize(0), W * H):
        _cells[i] = _next[i]
    return live


def _draw(generation: usize, live: usize) -> None:
    """Draw the board from the top-left corner of the screen, then a status line."""
    tty.puts("\x1b[H")
    for y in range(usize(0), H):
        for x in range(usize(0), W):
            _row[x] = 0x23 if _cells[y * W + x] != 0 else 0x2E
        _row[W] = 0x0A
        tty.write(addr(_row[0]), W + 1)
    tty.printf("generation %u, %u alive\n", generation, live)


def _number(text: Ptr[u8]) -> usize:
    """The decimal value of ``text`` (0 when it is not a number)."""
    v: usize = 0
    i: usize = 0
    while 0x30 <= text[i] <= 0x39:
        v = v * 10 + usize(text[i] - 0x30)
        i += 1
    return v if text[i] == 0 else 0


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Run the given number of generations; exit status 0."""
    args = cast(Ptr[usize], argv)
    generations: usize = DEFAULT_GENERATIONS
    if argc > 1:
        generations = _number(cast(Ptr[u8], args[1]))
    _set(1, 0)          # a glider
    _set(2, 1)
    _set(0, 2)
    _set(1, 2)
    _set(2, 2)
    _set(30, 3)         # a blinker
    _set(31, 3)
    _set(32, 3)
    _set(20, 11)        # an R-pentomino
    _set(21, 11)
    _set(19, 12)
    _set(20, 12)
    _set(20, 13)
    tty.puts("\x1b[2J")
    live: usize = 0
    for g in range(usize(0), generations + 1):
        if g > 0:
            live = _step()
        else:
            for i in range(usize(0), W * H):
                live += usize(_cells[i])
        _draw(g, live)
        syscall.sleep(FRAME_TICKS)
    return 0
