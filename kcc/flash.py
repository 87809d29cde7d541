"""kcc flash: write a built kernel to a real board's flash through pyocd (an optional dependency).

pyocd is installed with ``pip install 'kcc[flash]'``. kcc uses its Python API
(pyocd documentation, "Python API": ``ConnectHelper.session_with_chosen_probe``
opens a session on a connected debug probe (``blocking=False``: None when there
is none, instead of waiting), ``FileProgrammer.program`` erases and writes
a hex, ELF or binary file into the target's flash but does not reset the
target, so flash() resets it afterwards with ``session.target.reset()``).
pyocd has no built-in STM32L5 target: its target type comes from ST's
CMSIS-Pack (``pyocd pack install <target>``). A dry run needs no pyocd and no
board: it only reports what would be done.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kcc.boards import Board
from kcc.image import ImageError, load_segments, merged_ranges

INSTALL_HINT = "install it with `pip install 'kcc[flash]'` (or `pip install pyocd`)"


class FlashError(Exception):
    """Flashing cannot be done: no [flash] table, pyocd missing, no probe, or the image misfits the flash."""


@dataclass(frozen=True)
class FlashPlan:
    """What ``kcc flash`` writes, checked against the board before anything is touched.

    Attributes:
        board: the board's name; tool and target: from its [flash] table.
        image: the Intel HEX file that is programmed (kernel.hex).
        ranges: the [start, end) address ranges the image covers, merged.
        region_start, region_end: the flash region of the board, [start, end).
    """

    board: str
    tool: str
    target: str
    image: Path
    ranges: list[tuple[int, int]]
    region_start: int
    region_end: int

    @property
    def size(self) -> int:
        """Bytes that are programmed."""
        return sum(end - start for start, end in self.ranges)


def plan_flash(board: Board, elf: Path, hex_file: Path) -> FlashPlan:
    """Check that ``elf``'s load image fits ``board``'s flash region and describe the programming of ``hex_file``.

    Raises:
        FlashError: when the board has no [flash] table, the ELF cannot be
            read, or a loadable byte lies outside the flash region (the
            build's link script should have stopped that already).
    """
    if board.flash is None:
        raise FlashError(f"board '{board.name}' has no [flash] table: kcc does not flash it"
                         + (" (it runs under QEMU: use `kcc run`)" if board.qemu else ""))
    region = board.regions[board.flash.region]
    try:
        _, segments = load_segments(elf)
    except ImageError as exc:
        raise FlashError(str(exc)) from exc
    ranges = merged_ranges(segments)
    for start, end in ranges:
        if start < region.origin or end > region.end:
            raise FlashError(f"{elf}: bytes at {start:#x}..{end:#x} lie outside flash region "
                             f"'{region.name}' ({region.origin:#x}..{region.end:#x}) of board '{board.name}'")
    return FlashPlan(board.name, board.flash.tool, board.flash.target, hex_file, ranges,
                     region.origin, region.end)


def describe(plan: FlashPlan) -> list[str]:
    """The steps ``kcc flash`` takes for ``plan``, one line each, as ``--dry-run`` prints them."""
    size_kib = (plan.region_end - plan.region_start) // 1024
    lines = [f"flash: board {plan.board}, {plan.tool} target type {plan.target}",
             f"flash: image {plan.image} (Intel HEX, {plan.size} bytes)",
             f"flash: region {plan.region_start:#010x}..{plan.region_end:#010x} ({size_kib} KiB)"]
    for start, end in plan.ranges:
        lines.append(f"flash:   program {start:#010x}..{end:#010x} ({end - start} bytes)")
    lines.append(f"flash: 0. pyocd must know target type {plan.target}: built in for some chips, from the "
                 f"vendor's CMSIS-Pack for others (the STM32L5), installed once with "
                 f"`pyocd pack install {plan.target}`")
    lines.append(f"flash: 1. ConnectHelper.session_with_chosen_probe(target_override={plan.target!r}) "
                 f"opens the only (or the --probe) debug probe")
    lines.append(f"flash: 2. FileProgrammer(session).program({str(plan.image)!r}, file_format='hex') "
                 f"erases the sectors it covers and writes them")
    lines.append("flash: 3. the target is reset and runs the kernel; its console is the ST-LINK virtual COM port")
    return lines


def pyocd_available() -> bool:
    """True when the pyocd package can be imported."""
    return importlib.util.find_spec("pyocd") is not None


def flash(plan: FlashPlan, probe: str | None = None, report: Callable[[str], None] = print) -> None:
    """Program ``plan.image`` into the board through pyocd and reset it.

    Args:
        plan: from plan_flash.
        probe: the unique id of the debug probe to use; None picks the only one connected
            (pyocd asks on the terminal when there are several).
        report: called with one line per step.

    Raises:
        FlashError: when pyocd is not installed, no probe is connected, or pyocd fails.
    """
    if plan.tool != "pyocd":
        raise FlashError(f"flashing tool {plan.tool!r} is not supported (only pyocd)")
    if not pyocd_available():
        raise FlashError(f"kcc flash needs pyocd, which is not installed; {INSTALL_HINT}")
    from pyocd.core.exceptions import TargetSupportError
    from pyocd.core.helpers import ConnectHelper
    from pyocd.flash.file_programmer import FileProgrammer

    report(f"flash: connecting to a debug probe (target type {plan.target})")
    try:
        session = ConnectHelper.session_with_chosen_probe(blocking=False, unique_id=probe,
                                                          target_override=plan.target)
        if session is None:
            raise FlashError("no debug probe found: connect the board's ST-LINK USB port"
                             + (f" (looked for probe {probe})" if probe else ""))
        with session:
            report(f"flash: programming {plan.image} ({plan.size} bytes)")
            FileProgrammer(session).program(str(plan.image), file_format="hex")
            # FileProgrammer.program does not reset the target (pyocd's own `flash` command resets
            # after calling it, unless given --no-reset), so the kernel would not start without this.
            report("flash: resetting the target")
            session.target.reset()
    except FlashError:
        raise
    except TargetSupportError as exc:
        raise FlashError(f"pyocd does not know target type {plan.target}; install its CMSIS-Pack once with "
                         f"`pyocd pack install {plan.target}` ({exc})") from exc
    except Exception as exc:
        # pyocd reports probe, transport and flash-algorithm failures with its own exception
        # classes (pyocd.core.exceptions); they all become one readable message here.
        raise FlashError(f"pyocd failed: {type(exc).__name__}: {exc}") from exc
    report("flash: done")
