"""The table of built-ins (kcc/builtins.py) covers what kcc.lang offers, and each entry names its CPython meaning."""

import importlib

import pytest

from kcc import lang
from kcc.builtins import BUILTINS, PYTHON_NAMES, REG_METHODS
from kcc.resolve import LANG_NAMES

# kcc.lang names that are not called as functions: types, decorators, constants, markers.
NOT_CALLED = {"Ptr", "Array", "Reg", "Callable", "struct", "Final", "NULL", "TARGET", "section", "export",
              "extern", "naked", "inline", "noinline", "noreturn", "interrupt", "printf_like", "IntEnum", "Arg",
              "RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST", "log"}


def test_every_callable_name_of_the_language_has_an_entry() -> None:
    assert sorted(LANG_NAMES - NOT_CALLED - set(BUILTINS)) == []
    assert PYTHON_NAMES <= set(BUILTINS)
    assert {f"Reg.{m}" for m in REG_METHODS} <= set(BUILTINS)
    assert {f"log.{level}" for level in ("debug", "info", "warning", "error")} <= set(BUILTINS)


def test_names_the_compiler_knows_are_the_ones_kcc_lang_exports() -> None:
    assert set(lang.__all__) - {"NullPointerError", "Panic"} == set(LANG_NAMES)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_each_entry_names_its_meaning_under_cpython(name: str) -> None:
    entry = BUILTINS[name]
    root, _, rest = entry.python.partition(".") if entry.python.startswith("builtins.") else \
        ("kcc.lang", ".", entry.python.removeprefix("kcc.lang."))
    obj = importlib.import_module(root)
    for part in rest.split("."):
        obj = getattr(obj, part)
    assert callable(obj), entry.python
    assert entry.lower is not None or name in ("len", "range", "sizeof"), name
