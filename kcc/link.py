"""The link stage: render the architecture's link-script template for a board, then link with ld.lld."""

from __future__ import annotations

from pathlib import Path

import jinja2

from kcc import toolchain
from kcc.boards import Board
from kcc.paths import data_dir
from kcc.targets.base import Target


class LinkScriptError(Exception):
    """The architecture has no link-script template, or the template does not render."""


def template_path(arch: str) -> Path:
    """The template ``linker/<arch>.ld.j2`` for architecture ``arch``."""
    return data_dir("linker") / f"{arch}.ld.j2"


def render_link_script(board: Board) -> str:
    """Render the link script of ``board`` from ``linker/<board.arch>.ld.j2``.

    The template sees ``board``, ``link`` (the board's [link] table),
    ``regions`` (the board's memory regions, in file order), ``stack_bytes``
    (harts * stack_size) and a ``hex`` filter. Undefined names in the template
    are errors (jinja2.StrictUndefined), never empty strings.

    Raises:
        LinkScriptError: when the template is missing or fails to render.
    """
    path = template_path(board.arch)
    if not path.is_file():
        raise LinkScriptError(f"no link-script template for architecture '{board.arch}' ({path} is missing)")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["hex"] = lambda value: f"{value:#x}"
    try:
        return env.get_template(path.name).render(
            board=board,
            link=board.link,
            regions=list(board.regions.values()),
            stack_bytes=board.link.harts * board.link.stack_size,
        )
    except jinja2.TemplateError as exc:
        raise LinkScriptError(f"{path}: cannot render for board '{board.name}': {exc}") from exc


def write_link_script(board: Board, out_dir: Path) -> Path:
    """Render ``board``'s link script to ``out_dir/link.ld`` and return that path.

    Raises:
        LinkScriptError: as render_link_script.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "link.ld"
    script.write_text(render_link_script(board), encoding="utf-8")
    return script


def link_kernel(objects: list[Path], board: Board, target: Target, out_dir: Path) -> Path:
    """Write ``out_dir/link.ld`` for ``board`` and link ``objects`` into ``out_dir/kernel.elf``.

    Also writes the link map ``out_dir/kernel.map``.

    Raises:
        LinkScriptError: when the script cannot be generated.
        kcc.toolchain.ToolchainError: when ld.lld fails, e.g. a section overflows a
            region (the script's ASSERT message is in the error).
    """
    script = write_link_script(board, out_dir)
    return toolchain.link(objects, script, out_dir / "kernel.elf", out_dir / "kernel.map", target)
