"""The HTML documentation site: stage the guides and a generated API reference, then build with MkDocs.

``python -m kcc.docsite`` (what ``make docs`` runs) writes ``build/docs/src``
(the Markdown sources), ``build/docs/mkdocs.yml`` (the repository's
``mkdocs.yml`` through MkDocs' ``INHERIT``, plus the navigation of the
generated pages) and builds ``build/docs/html`` with ``mkdocs build
--strict``, so a broken link, a missing page or an unknown reference fails
the build.

The guides keep their place in the repository (``docs/kernel.md`` stays
``docs/kernel.md``), so their relative links work unchanged on the site.

The kernel's API reference is read *statically* with Python's ``ast``: the
kernel modules import ``board`` and ``arch``, which exist only inside a kcc
build, so they cannot be imported under CPython. Each module gets a page with
its docstring, its public functions (signature and docstring), its
``@struct`` classes (fields with their types and end-of-line comments), its
``Final`` constants and its public globals. kcc's own Python API
(``kcc.load_python``, ``kcc.load_host``) is rendered by mkdocstrings, and the
command line is the help text that ``kcc COMMAND --help`` prints.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# The hand-written guides, by their path in the repository (which is also their path on the site).
GUIDES = (
    "README.md",
    "docs/language.md",
    "docs/architecture.md",
    "docs/boards.md",
    "docs/visionfive2.md",
    "docs/kernel.md",
    "docs/abi.md",
    "docs/userspace.md",
    "docs/performance.md",
    "docs/reliability.md",
    "kernel_src/arch/README.md",
    "qemu/README.md",
)

# Kernel source directories documented, in the order the reference lists them, with their titles.
KERNEL_PACKAGES = (
    ("core", "Portable core"),
    ("lib", "Libraries"),
    ("arch/riscv64", "Architecture: riscv64"),
    ("arch/armv8m", "Architecture: armv8m"),
    ("arch/i586", "Architecture: i586"),
    ("user/lib", "User library"),
    ("user/init", "User program: init"),
    ("user/systest", "User program: systest"),
)

# Google-style docstring section headers that become bold labels with a list of their entries.
_SECTIONS = ("Args", "Arguments", "Returns", "Raises", "Attributes", "Yields", "Errors")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


class DocsError(Exception):
    """The site cannot be staged or built: a source is missing or MkDocs failed."""


@dataclass
class Function:
    """A public function: its name, ``def`` line (without the colon) and docstring ("" when it has none)."""

    name: str
    signature: str
    doc: str


@dataclass
class Field:
    """One field of a struct: name, type as written, and the comment at the end of its line ("" if none)."""

    name: str
    type: str
    comment: str


@dataclass
class Struct:
    """A ``@struct`` class: name, docstring and fields in declaration order."""

    name: str
    doc: str
    fields: list[Field]


@dataclass
class Constant:
    """A module-level ``Final`` constant or global: name, type ("" for a bare ``Final``), value, comment."""

    name: str
    type: str
    value: str
    comment: str


@dataclass
class ModuleDoc:
    """What the reference shows of one kernel module.

    Attributes:
        name: the dotted module name as kcc code imports it (``core.objects``, ``arch.riscv64.boot``).
        path: the source file, relative to the kernel source root.
        doc: the module docstring ("" when it has none).
        functions, structs, constants: the public ones (no leading underscore), in source order.
        globals: public module-level variables (``name: T`` without ``Final``).
    """

    name: str
    path: str
    doc: str
    functions: list[Function] = field(default_factory=list)
    structs: list[Struct] = field(default_factory=list)
    constants: list[Constant] = field(default_factory=list)
    globals: list[Constant] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The first line of the module docstring, for the index."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


def _comments(source: str) -> dict[int, str]:
    """The text of each end-of-line ``#`` comment of ``source``, by 1-based line number."""
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    return comments


def _final_type(annotation: ast.expr) -> str | None:
    """For ``Final`` return "", for ``Final[T]`` the text of T, for any other annotation None."""
    if isinstance(annotation, ast.Name) and annotation.id == "Final":
        return ""
    if (isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name)
            and annotation.value.id == "Final"):
        return ast.unparse(annotation.slice)
    return None


def _is_struct(node: ast.ClassDef) -> bool:
    """True for a class decorated with ``@struct`` (language.md, "Module level: constants, globals, structs")."""
    return any(isinstance(d, ast.Name) and d.id == "struct" for d in node.decorator_list)


def _signature(node: ast.FunctionDef) -> str:
    """The ``def`` line of ``node`` as source text, decorators first, without the body."""
    decorators = "".join(f"@{ast.unparse(d)}\n" for d in node.decorator_list)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{decorators}def {node.name}({ast.unparse(node.args)}){returns}"


def read_module(path: Path, root: Path) -> ModuleDoc:
    """Read the documentation of the kcc-language module at ``path`` without importing it.

    Args:
        path: a ``.py`` file under ``root``.
        root: the kernel source root (``kernel_src``); the module's dotted name is relative to it.

    Raises:
        DocsError: when the file cannot be read or is not valid Python syntax.
    """
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise DocsError(f"cannot read {path}: {exc}") from exc
    comments = _comments(source)
    rel = path.relative_to(root)
    parts = rel.with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    mod = ModuleDoc(name, rel.as_posix(), ast.get_docstring(tree) or "")
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            mod.functions.append(Function(node.name, _signature(node), ast.get_docstring(node) or ""))
        elif isinstance(node, ast.ClassDef) and _is_struct(node) and not node.name.startswith("_"):
            fields = [Field(item.target.id, ast.unparse(item.annotation), comments.get(item.lineno, ""))
                      for item in node.body
                      if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                      and not item.target.id.startswith("_")]
            mod.structs.append(Struct(node.name, ast.get_docstring(node) or "", fields))
        elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and not node.target.id.startswith("_")):
            final = _final_type(node.annotation)
            # As written (0xFFFF_FFFF stays hex), not as ast.unparse would print the value.
            value = (ast.get_source_segment(source, node.value) or ast.unparse(node.value)
                     if node.value is not None else "")
            comment = comments.get(node.lineno, "")
            if final is not None:
                mod.constants.append(Constant(node.target.id, final, value, comment))
            else:
                mod.globals.append(Constant(node.target.id, ast.unparse(node.annotation), value, comment))
    return mod


def kernel_modules(src_root: Path) -> list[tuple[str, list[ModuleDoc]]]:
    """Every documented kernel module, grouped as KERNEL_PACKAGES lists them (title, modules by name).

    Raises:
        DocsError: as read_module.
    """
    groups = []
    for package, title in KERNEL_PACKAGES:
        directory = src_root / package
        files = sorted(p for p in directory.glob("*.py") if p.is_file())
        if files:
            groups.append((title, [read_module(p, src_root) for p in files]))
    return groups


def _escape(text: str) -> str:
    """``text`` with ``<``, ``>`` and ``&`` escaped for Markdown outside code spans (kept verbatim)."""
    out = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    """Escape HTML-significant characters, ``**`` between operands and a leading ``#`` (a heading)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Python's power operator (2**32) would otherwise open bold text.
    text = re.sub(r"(?<=\S)\*\*(?=\S)", r"\*\*", text)
    return re.sub(r"(?m)^(\s*)#", r"\1\\#", text)


def docstring_markdown(doc: str) -> str:
    """Render a docstring as Markdown.

    Plain paragraphs stay as written (HTML-significant characters escaped
    outside code spans). Google-style sections (``Args:``, ``Returns:``,
    ``Raises:``, ...) become a bold label followed by a list with one item per
    entry; an entry's continuation lines join it. Indented blocks elsewhere
    are kept as code blocks.
    """
    lines = inspect.cleandoc(doc).splitlines() if doc else []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        header = line.strip().rstrip(":")
        if line.strip().endswith(":") and header in _SECTIONS and not line.startswith(" "):
            out += ["", f"**{header}:**", ""]
            i += 1
            entries: list[str] = []
            entry_indent = None
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body = lines[i]
                if body.strip():
                    indent = len(body) - len(body.lstrip())
                    if entry_indent is None:
                        entry_indent = indent
                    if indent <= entry_indent or not entries:
                        entries.append(body.strip())
                    else:
                        entries[-1] += " " + body.strip()
                i += 1
            out += [f"- {_escape(e)}" for e in entries]
            out.append("")
            continue
        out.append(_escape(line) if not line.startswith("    ") else line)
        i += 1
    return "\n".join(out).strip() + "\n"


def _cell(text: str) -> str:
    """``text`` for a Markdown table cell: escaped, pipes escaped, on one line."""
    return _escape(text).replace("|", "\\|").replace("\n", " ")


def module_page(mod: ModuleDoc) -> str:
    """The Markdown page of one kernel module (its reference)."""
    out = [f"# `{mod.name}`", "", f"Source: `kernel_src/{mod.path}`", ""]
    if mod.doc:
        out += [docstring_markdown(mod.doc), ""]
    if mod.constants:
        out += ["## Constants", "", "| name | type | value | note |", "| --- | --- | --- | --- |"]
        for c in mod.constants:
            out.append(f"| `{c.name}` | {f'`{c.type}`' if c.type else ''} | `{_cell(c.value)}` | "
                       f"{_cell(c.comment)} |")
        out.append("")
    if mod.globals:
        out += ["## Globals", "", "| name | type | note |", "| --- | --- | --- |"]
        for g in mod.globals:
            out.append(f"| `{g.name}` | `{_cell(g.type)}` | {_cell(g.comment)} |")
        out.append("")
    if mod.structs:
        out += ["## Structs", ""]
        for s in mod.structs:
            out += [f"### `{s.name}`", ""]
            if s.doc:
                out += [docstring_markdown(s.doc), ""]
            if s.fields:
                out += ["| field | type | note |", "| --- | --- | --- |"]
                out += [f"| `{f.name}` | `{_cell(f.type)}` | {_cell(f.comment)} |" for f in s.fields]
                out.append("")
    if mod.functions:
        out += ["## Functions", ""]
        for f in mod.functions:
            out += [f"### `{f.name}`", "", "```python", f.signature, "```", ""]
            out += [docstring_markdown(f.doc) if f.doc else "*(no docstring)*", ""]
    return "\n".join(out).rstrip() + "\n"


def kernel_index_page(groups: list[tuple[str, list[ModuleDoc]]]) -> str:
    """The index of the kernel reference: one table per group, a row (link and summary) per module."""
    out = ["# Kernel API reference", "",
           ("Generated from the docstrings of `kernel_src/` by reading the sources (they import `board` "
            "and `arch`, which exist only inside a kcc build). See [the kernel](../../docs/kernel.md) for "
            "the design and [the ABI](../../docs/abi.md) for the system calls."), ""]
    for title, mods in groups:
        out += [f"## {title}", "", "| module | summary |", "| --- | --- |"]
        out += [f"| [`{m.name}`]({m.name}.md) | {_cell(m.summary)} |" for m in mods]
        out.append("")
    return "\n".join(out)


PYTHON_API_PAGE = """# Python API

kcc's Python entry points for running kcc-language modules from Python: under
CPython with the language's meaning, or compiled for the build machine. See
[the language reference](../docs/language.md#the-host-target-and-cpython).

::: kcc.load_python

::: kcc.load_host
"""

def cli_page() -> str:
    """The command-line reference: ``kcc --help`` and every command's ``--help``, verbatim.

    The text comes from the click definitions in kcc.cli, as the terminal
    shows it, in fenced blocks (so ``build/<board>`` stays as written).
    """
    import click

    from kcc.cli import cli

    def help_text(command: click.Command, name: str, parent: click.Context | None) -> str:
        with click.Context(command, info_name=name, parent=parent, terminal_width=100,
                           **command.context_settings) as ctx:
            return command.get_help(ctx)

    out = ["# Command line", "", "Every `kcc` command with its options, as `kcc COMMAND --help` prints them.", "",
           "## kcc", "", "```text", help_text(cli, "kcc", None), "```", ""]
    with click.Context(cli, info_name="kcc", **cli.context_settings) as root:
        for name in sorted(cli.commands):
            out += [f"## kcc {name}", "", "```text", help_text(cli.commands[name], name, root), "```", ""]
    return "\n".join(out)


def stage(repo: Path, out: Path) -> list:
    """Write the site's Markdown sources to ``out/src`` and return the navigation of the generated pages.

    Copies GUIDES to their repository paths under ``out/src`` and writes the
    kernel reference (``api/kernel/``), the Python API page and the command
    line page. Anything previously in ``out/src`` is removed first.

    Raises:
        DocsError: when a guide is missing or a kernel module cannot be read.
    """
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    for guide in GUIDES:
        path = repo / guide
        if not path.is_file():
            raise DocsError(f"guide {guide} is missing")
        (src / guide).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, src / guide)
    groups = kernel_modules(repo / "kernel_src")
    api = src / "api"
    (api / "kernel").mkdir(parents=True)
    (api / "python.md").write_text(PYTHON_API_PAGE, encoding="utf-8")
    (api / "cli.md").write_text(cli_page(), encoding="utf-8")
    (api / "kernel" / "index.md").write_text(kernel_index_page(groups), encoding="utf-8")
    kernel_nav: list = ["api/kernel/index.md"]
    for title, mods in groups:
        for mod in mods:
            (api / "kernel" / f"{mod.name}.md").write_text(module_page(mod), encoding="utf-8")
        kernel_nav.append({title: [{mod.name: f"api/kernel/{mod.name}.md"} for mod in mods]})
    return [{"Command line": "api/cli.md"}, {"Python API": "api/python.md"}, {"Kernel API": kernel_nav}]


def write_config(repo: Path, out: Path, api_nav: list) -> Path:
    """Write ``out/mkdocs.yml``: the repository's mkdocs.yml (INHERIT) with the full navigation.

    The navigation is the base file's ``nav`` followed by ``api_nav`` under
    "Reference"; ``docs_dir`` and ``site_dir`` are ``out/src`` and ``out/html``.

    Raises:
        DocsError: when the base mkdocs.yml is missing or has no ``nav`` list.
    """
    base = repo / "mkdocs.yml"
    try:
        base_nav = yaml.safe_load(base.read_text(encoding="utf-8")).get("nav")
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise DocsError(f"cannot read {base}: {exc}") from exc
    if not isinstance(base_nav, list):
        raise DocsError(f"{base} has no 'nav' list")
    config = {
        "INHERIT": str(base),
        "docs_dir": str((out / "src").resolve()),
        "site_dir": str((out / "html").resolve()),
        "nav": base_nav + [{"Reference": api_nav}],
    }
    path = out / "mkdocs.yml"
    path.write_text("# Generated by kcc.docsite; do not edit (edit mkdocs.yml instead).\n"
                    + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def build_site(repo: Path = REPO_ROOT, out: Path | None = None) -> Path:
    """Stage the sources and build the HTML site with ``mkdocs build --strict``; return its index.html.

    Args:
        repo: the repository root (holds mkdocs.yml, the guides and kernel_src/).
        out: the output directory (default ``repo/build/docs``): ``src/``, ``mkdocs.yml``, ``html/``.

    Raises:
        DocsError: when staging fails or MkDocs reports an error or (strict mode) a warning,
            such as a link to a page or anchor that does not exist; the message holds its output.
    """
    out = (out or repo / "build" / "docs").resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = write_config(repo, out, stage(repo, out))
    # NO_MKDOCS_2_WARNING: the Material theme's banner about its successor is no warning about our site.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(config)],
                            capture_output=True, text=True, check=False, cwd=repo, env=env)
    if result.returncode != 0:
        raise DocsError(f"mkdocs build failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    index = out / "html" / "index.html"
    if not index.is_file():
        raise DocsError(f"mkdocs wrote no {index}")
    return index


def main(argv: list[str] | None = None) -> int:
    """``python -m kcc.docsite [--out DIR]``: build the site; print its entry or the error (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m kcc.docsite", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output directory (default build/docs)")
    args = parser.parse_args(argv)
    try:
        index = build_site(REPO_ROOT, args.out)
    except DocsError as exc:
        print(f"docs: error: {exc}", file=sys.stderr)
        return 1
    print(f"docs: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
