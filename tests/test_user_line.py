"""kernel_src/user/lib/line.py, the shell's line editor, under CPython (kcc.load_python) and compiled for the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcc import load_host, load_python

KERNEL_SRC = Path(__file__).resolve().parent.parent / "kernel_src"
LINE = KERNEL_SRC / "user" / "lib" / "line.py"
LINE_MAX = load_python(LINE, root=KERNEL_SRC).LINE_MAX   # a compiled module exposes functions only


@pytest.fixture(params=["python", "host"])
def editor(request: pytest.FixtureRequest):
    """The module, run by CPython or compiled for the build machine."""
    if request.param == "python":
        return load_python(LINE, root=KERNEL_SRC)
    return load_host(LINE, root=KERNEL_SRC)


def _type(ed, text: bytes) -> list[int]:
    """Feed every byte of ``text``; the actions."""
    return [ed.feed(c) for c in text]


def _line(ed) -> bytes:
    """The line typed so far."""
    return bytes(ed.char_at(i) for i in range(ed.length()))


def test_printable_bytes_echo_and_enter_ends_the_line(editor) -> None:
    editor.reset()
    assert _type(editor, b"ls /bin") == [1] * 7             # ACT_ECHO each
    assert editor.feed(13) == 3                              # CR: ACT_ENTER
    assert _line(editor) == b"ls /bin"


def test_backspace_and_ctrl_u_erase(editor) -> None:
    editor.reset()
    _type(editor, b"echx")
    assert editor.feed(0x7F) == 2 and editor.erased() == 1   # DEL: ACT_ERASE one character
    _type(editor, b"o")
    assert _line(editor) == b"echo"
    assert editor.feed(8) == 2                                # BS works too
    assert editor.feed(21) == 2 and editor.erased() == 3     # Ctrl-U erases the three left
    assert editor.length() == 0
    assert editor.feed(0x7F) == 0                             # nothing left to erase
    assert editor.feed(21) == 0


def test_ctrl_c_abandons_and_ctrl_d_ends_input_only_on_an_empty_line(editor) -> None:
    editor.reset()
    _type(editor, b"abc")
    assert editor.feed(3) == 4                                # ACT_INTR
    assert editor.length() == 0
    _type(editor, b"x")
    assert editor.feed(4) == 0                                # Ctrl-D ignored mid-line
    assert editor.feed(0x7F) == 2
    assert editor.feed(4) == 5                                # ACT_EOF on an empty line


def test_cr_lf_is_one_enter_and_other_controls_are_ignored(editor) -> None:
    editor.reset()
    assert editor.feed(13) == 3
    assert editor.feed(10) == 0                               # the LF of CR LF
    assert editor.feed(10) == 3                               # a lone LF ends a line
    assert _type(editor, b"\x01\x1b\t") == [0, 0, 0]


def test_a_full_line_takes_no_more(editor) -> None:
    editor.reset()
    assert _type(editor, b"a" * LINE_MAX) == [1] * LINE_MAX
    assert editor.feed(ord("b")) == 0
    assert editor.feed(13) == 3
    assert _line(editor) == b"a" * LINE_MAX
