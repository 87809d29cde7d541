"""The link stage: render the architecture's link-script template for a board, then link with ld.lld."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kcc import __version__, toolchain
from kcc.boards import Board
from kcc.paths import PACKAGE_DIR, data_dir
from kcc.targets.base import Target

# Beside link.ld: the digest of what it was rendered from (write_link_script).
KEY_SUFFIX = ".key"


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
    import jinja2  # a tenth of a one-module rebuild's time; write_link_script mostly does without

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


def _render_key(board: Board) -> str:
    """A SHA-256 over everything render_link_script reads: the template, the board (its repr: every
    field the template can name) and this module (its rendering code, the ``hex`` filter)."""
    h = hashlib.sha256(__version__.encode())
    for data in (template_path(board.arch).read_bytes(), repr(board).encode(),
                 (PACKAGE_DIR / "link.py").read_bytes()):
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def write_link_script(board: Board, out_dir: Path) -> Path:
    """Render ``board``'s link script to ``out_dir/link.ld`` and return that path.

    The script is kept when it was rendered from the same inputs (_render_key) and has not been
    touched since (its size and modification time), as ``link.ld.key`` beside it records; that
    spares a rebuild jinja2's import and the rendering.

    Raises:
        LinkScriptError: as render_link_script.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "link.ld"
    key_file = script.with_name(script.name + KEY_SUFFIX)

    def recorded(key: str) -> str:
        st = script.stat()
        return f"{key} {st.st_size} {st.st_mtime_ns}"

    try:
        key = _render_key(board)
    except OSError:
        key = None  # no template: render_link_script says so
    try:
        if key is not None and key_file.read_text(encoding="utf-8") == recorded(key):
            return script
    except OSError:
        pass  # no key recorded, or no script: render
    key_file.unlink(missing_ok=True)  # a script being rewritten is not the one the key describes
    script.write_text(render_link_script(board), encoding="utf-8")
    if key is not None:
        key_file.write_text(recorded(key), encoding="utf-8")
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
