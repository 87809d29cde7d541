"""g2048: the sliding-tile game 2048, full screen on the console, played with w/a/s/d or the arrow keys.

``g2048 [SEED]``: tiles of equal value merge when the board slides toward
them; each move adds a 2 (or, one time in ten, a 4) on a free cell, chosen
by a linear congruential generator started from SEED (default 1), so a game
replays exactly. q ends the game; the exit status is 0 (1 when the board
filled up: game over).
"""

from kcc.lang import *

from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.lib import tty

N: Final = 4
_board: Array[u32, N * N]
_score: usize = 0
_seed: u64 = 1


def _random(bound: u32) -> u32:
    """A number in 0 .. bound - 1 (Knuth's MMIX linear congruential generator, high bits)."""
    global _seed
    _seed = _seed * 6364136223846793005 + 1442695040888963407
    return u32(_seed >> 33) % bound


def _add_tile() -> None:
    """Put a 2 (or a 4) on a random free cell, if there is one."""
    free: u32 = 0
    for i in range(u32(0), N * N):
        if _board[i] == 0:
            free += 1
    if free == 0:
        return
    pick = _random(free)
    for i in range(u32(0), N * N):
        if _board[i] == 0:
            if pick == 0:
                _board[i] = 4 if _random(10) == 0 else 2
                return
            pick -= 1


def _slide_line(start: i32, cell_step: i32) -> bool:
    """Slide one line toward its cell ``start`` (cells start + k * cell_step), merging pairs once; True if it moved."""
    global _score
    line: Array[u32, N]
    n: u32 = 0
    for k in range(i32(0), N):
        v = _board[start + k * cell_step]
        if v != 0:
            line[n] = v
            n += 1
    out: Array[u32, N]
    m: u32 = 0
    i: u32 = 0
    while i < n:
        if i + 1 < n and line[i] == line[i + 1]:
            out[m] = line[i] * 2
            _score += usize(out[m])
            i += 2
        else:
            out[m] = line[i]
            i += 1
        m += 1
    moved = False
    for k in range(i32(0), N):
        at = start + k * cell_step
        if _board[at] != out[k]:
            moved = True
        _board[at] = out[k]
    return moved


def _move(start: i32, line_step: i32, cell_step: i32) -> bool:
    """Slide every line (the first cell of line l at start + l * line_step); True if a tile moved."""
    moved = False
    for line_index in range(i32(0), N):
        if _slide_line(start + line_index * line_step, cell_step):
            moved = True
    return moved


def _can_move() -> bool:
    """True while a cell is free or two neighbours are equal."""
    for y in range(u32(0), N):
        for x in range(u32(0), N):
            v = _board[y * N + x]
            if v == 0 or (x + 1 < N and _board[y * N + x + 1] == v) or (y + 1 < N and _board[(y + 1) * N + x] == v):
                return True
    return False


def _draw() -> None:
    """Clear the screen and draw the board, the score and the keys."""
    tty.puts("\x1b[H\x1b[2J2048\n\n")
    for y in range(u32(0), N):
        for x in range(u32(0), N):
            v = _board[y * N + x]
            if v == 0:
                tty.puts("    .")
            else:
                tty.printf("%5u", usize(v))
        tty.puts("\n")
    tty.printf("\nscore %u   w a s d or arrows to move, q to quit\n", _score)


def _key() -> u8:
    """The next key: w, a, s, d (arrow keys are mapped to them), q, or another byte."""
    c = tty.getc()
    if c != 0x1B:
        return c
    if tty.getc() != 0x5B:      # ESC [ A..D: the arrows
        return 0
    arrow = tty.getc()
    if arrow == 0x41:
        return 0x77             # up: w
    if arrow == 0x42:
        return 0x73             # down: s
    if arrow == 0x43:
        return 0x64             # right: d
    if arrow == 0x44:
        return 0x61             # left: a
    return 0


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Play until q (status 0) or until no move is left (status 1)."""
    global _seed
    args = cast(Ptr[usize], argv)
    if argc > 1:
        text = cast(Ptr[u8], args[1])
        _seed = 0
        i: usize = 0
        while 0x30 <= text[i] <= 0x39:
            _seed = _seed * 10 + u64(text[i] - 0x30)
            i += 1
    _add_tile()
    _add_tile()
    while True:
        _draw()
        if not _can_move():
            tty.puts("game over\n")
            return 1
        k = _key()
        moved = False
        if k == 0x71 or k == 0:         # q, or the driver is gone
            tty.puts("bye\n")
            return 0
        if k == 0x61:
            moved = _move(0, N, 1)
        elif k == 0x64:
            moved = _move(N - 1, N, -1)
        elif k == 0x77:
            moved = _move(0, 1, N)
        elif k == 0x73:
            moved = _move(N * (N - 1), 1, -N)
        if moved:
            _add_tile()
