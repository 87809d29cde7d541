"""The documentation site (kcc.docsite, make docs): the static kernel reference and the strict MkDocs build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from kcc import docsite

REPO = docsite.REPO_ROOT

MODULE = '''\
"""A test module: its first line is the summary.

More text with <angle> brackets and 2**32.
"""

import board
from kcc.lang import *

LIMIT: Final[u32] = 0xFFFF_FFFF     # the largest count
PLAIN: Final = board.RAM_BASE + 16
_HIDDEN: Final = 3
counter: u64                        # events seen so far


@struct
class Pair:
    """Two halves."""

    low: u32            # the low word
    high: Array[u8, 4]


def add(a: u32, b: u32 = 1) -> u32:
    """Add.

    Args:
        a: the first term,
            continued here.
        b: the second term.

    Returns:
        The sum.
    """
    return a + b


def _private() -> None:
    pass
'''


def test_read_module_collects_public_items_statically(tmp_path: Path) -> None:
    # The module imports `board`, which CPython cannot import: it must be read, never run.
    (tmp_path / "lib").mkdir()
    path = tmp_path / "lib" / "thing.py"
    path.write_text(MODULE, encoding="utf-8")
    mod = docsite.read_module(path, tmp_path)
    assert mod.name == "lib.thing" and mod.path == "lib/thing.py"
    assert mod.summary == "A test module: its first line is the summary."
    assert [(c.name, c.type, c.value, c.comment) for c in mod.constants] == [
        ("LIMIT", "u32", "0xFFFF_FFFF", "the largest count"), ("PLAIN", "", "board.RAM_BASE + 16", "")]
    assert [(g.name, g.type, g.comment) for g in mod.globals] == [("counter", "u64", "events seen so far")]
    assert [(f.name, f.type, f.comment) for f in mod.structs[0].fields] == [
        ("low", "u32", "the low word"), ("high", "Array[u8, 4]", "")]
    assert [f.name for f in mod.functions] == ["add"]
    assert mod.functions[0].signature == "def add(a: u32, b: u32=1) -> u32"


def test_module_page_renders_sections_and_escapes_html(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "thing.py"
    path.write_text(MODULE, encoding="utf-8")
    page = docsite.module_page(docsite.read_module(path, tmp_path))
    assert page.startswith("# `core.thing`\n")
    assert "&lt;angle&gt;" in page and "<angle>" not in page
    assert r"2\*\*32" in page
    assert "| `LIMIT` | `u32` | `0xFFFF_FFFF` | the largest count |" in page
    assert "| `low` | `u32` | the low word |" in page
    assert "**Args:**\n\n- a: the first term, continued here.\n- b: the second term." in page
    assert "_private" not in page and "_HIDDEN" not in page


def test_docstring_code_spans_are_kept_verbatim() -> None:
    text = docsite.docstring_markdown("Writes ``build/<board>/kernel.elf`` for <board>.")
    assert text == "Writes ``build/<board>/kernel.elf`` for &lt;board&gt;.\n"


def test_every_kernel_module_is_documented() -> None:
    groups = docsite.kernel_modules(REPO / "kernel_src")
    documented = {m.path for _, mods in groups for m in mods}
    expected = {p.relative_to(REPO / "kernel_src").as_posix()
                for package, _ in docsite.KERNEL_PACKAGES
                for p in (REPO / "kernel_src" / package).glob("*.py")}
    assert documented == expected
    assert {"core/main.py", "lib/fdt.py", "arch/riscv64/boot.py"} <= documented


def test_make_docs_site_builds_strict(tmp_path: Path) -> None:
    groups = docsite.kernel_modules(REPO / "kernel_src")
    index = docsite.build_site(REPO, tmp_path)
    html = tmp_path / "html"
    assert index == html / "index.html"
    for _, mods in groups:
        for mod in mods:
            assert (html / "api" / "kernel" / f"{mod.name}.html").is_file(), mod.name
    for guide in docsite.GUIDES:
        page = "index.html" if guide == "README.md" else guide.replace("README.md", "index.html")
        assert (html / page.replace(".md", ".html")).is_file(), guide
    # Every guide keeps its own entry in the navigation (a README must not turn into a section's index).
    index_html = index.read_text(encoding="utf-8")
    guides = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"][1]["Guides"]
    for entry in guides:
        (title,) = entry
        assert re.search(r'class="md-ellipsis">\s*' + re.escape(title) + r"\s*<", index_html), title
    python_api = (html / "api" / "python.html").read_text(encoding="utf-8")
    assert "kcc.load_python" in python_api and "kcc.load_host" in python_api
    cli = (html / "api" / "cli.html").read_text(encoding="utf-8")
    assert all(f"kcc {command}" in cli for command in ("build", "run", "check", "flash", "boards"))


def _small_repo(tmp_path: Path) -> Path:
    """A copy of the repository's docs inputs with a one-module kernel, for a quick build."""
    repo = tmp_path / "repo"
    for guide in docsite.GUIDES:
        (repo / guide).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / guide, repo / guide)
    shutil.copyfile(REPO / "mkdocs.yml", repo / "mkdocs.yml")
    (repo / "kernel_src" / "lib").mkdir(parents=True)
    shutil.copyfile(REPO / "kernel_src" / "lib" / "string.py", repo / "kernel_src" / "lib" / "string.py")
    return repo


@pytest.mark.parametrize("broken", [
    "See [the missing page](missing.md).",
    "See [a missing section](language.md#no-such-heading).",
    "See [an unknown API object][kcc.no_such_function].",
])
def test_broken_link_fails_the_build(tmp_path: Path, broken: str) -> None:
    repo = _small_repo(tmp_path)
    boards = repo / "docs" / "boards.md"
    boards.write_text(boards.read_text(encoding="utf-8") + "\n" + broken + "\n", encoding="utf-8")
    with pytest.raises(docsite.DocsError, match="missing.md|no-such-heading|kcc.no_such_function"):
        docsite.build_site(repo, tmp_path / "out")


def test_small_repo_builds(tmp_path: Path) -> None:
    # The control for test_broken_link_fails_the_build: the same inputs without the broken link pass.
    index = docsite.build_site(_small_repo(tmp_path), tmp_path / "out")
    assert index.is_file()
    kernel_index = (tmp_path / "out" / "html" / "api" / "kernel" / "index.html").read_text(encoding="utf-8")
    assert "lib.string.html" in kernel_index
