"""Documents cite each other by heading, and every cited document and heading exists.

Code, tests and documents cite a document's section by its heading text, not its number:
``language.md, "Control flow"`` (a path ending in ``.md``, a comma, the heading in double quotes).
Markdown links cite it by anchor: ``[text](boards.md#exit-codes)`` or ``[text](#exit-codes)``.
Citations by section number (the document's name followed by "section" and a number, or a
section sign) went stale whenever sections moved, so they are refused.

Scanned: the compiler, its tests, the documents, the boards and link scripts, the benchmarks and
the whole kernel (its portable core, every architecture, the libraries and the user programs).
"""

import re
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ["README.md", "pyproject.toml", "Makefile", "docs", "kcc", "tests", "boards", "linker", "qemu",
           "benchmarks", "kernel_src"]
SUFFIXES = {".py", ".md", ".toml", ".j2", ".S", ""}
CITATION = re.compile(r"([\w./-]*\.md),? \"([^\"\n]+)\"")
LINK = re.compile(r"\]\(([\w./-]*\.md)?#([\w-]+)\)")
NUMBERED = re.compile(r"(language|architecture|boards)\.md,? (section|§) ?\d|§\d")


def scanned_files() -> list[Path]:
    out = []
    for name in SCANNED:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        out += [f for f in files if f.suffix in SUFFIXES and "__pycache__" not in f.parts]
    return out


def document(cited: str, citing: Path) -> Path | None:
    """The file a citation names: relative to the citing file, the repository, or docs/."""
    for base in (citing.parent, ROOT, ROOT / "docs"):
        candidate = base / cited
        if candidate.is_file():
            return candidate
    return None


def headings(doc: Path) -> list[str]:
    """The heading texts of a Markdown document, outside fenced code blocks."""
    out, fenced = [], False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#+ (.+)", line)):
            out.append(m.group(1).strip())
    return out


def anchor(heading: str) -> str:
    """The anchor the docs site (MkDocs, Python-Markdown's toc) gives a heading."""
    return slugify(heading, "-")


def citations() -> list[tuple[Path, int, str, str, str]]:
    """(file, line, kind, document, heading or anchor) of every citation in the repository."""
    out = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            out += [(path, lineno, "heading", m.group(1), m.group(2)) for m in CITATION.finditer(line)]
            # Links: in Markdown, also to the document itself; in a program (a page it writes), to a file.
            # Tests are left out: tests/test_docs.py writes a broken link on purpose.
            out += [(path, lineno, "anchor", m.group(1) or path.name, m.group(2)) for m in LINK.finditer(line)
                    if path.suffix == ".md" or (m.group(1) and path.parent.name != "tests")]
    return out


def test_there_are_citations_to_check() -> None:
    kinds = {kind for _, _, kind, _, _ in citations()}
    assert kinds == {"heading", "anchor"}


@pytest.mark.parametrize("path, line, kind, cited, target",
                         [pytest.param(*c, id=f"{c[0].relative_to(ROOT)}:{c[1]}") for c in citations()])
def test_cited_document_and_heading_exist(path: Path, line: int, kind: str, cited: str, target: str) -> None:
    doc = path if kind == "anchor" and cited == path.name else document(cited, path)
    assert doc is not None, f"{path}:{line}: no document {cited}"
    found = headings(doc)
    if kind == "heading":
        assert target in found, f"{path}:{line}: {cited} has no heading \"{target}\"; it has {found}"
    else:
        assert target in [anchor(h) for h in found], f"{path}:{line}: {cited} has no heading with anchor #{target}"


def test_no_citation_by_section_number() -> None:
    numbered = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in scanned_files() if p.suffix != ""
                for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                if NUMBERED.search(line)]
    assert not numbered, "cite the heading instead:\n" + "\n".join(numbered)
