"""The system tests' framework: name a test, check values inside it, print its result, summarise.

A test module (user/systest/t_*.py) has a ``run()`` that runs each test as::

    harness.begin("caps: identify the console")
    identify_console()              # calls harness.expect_* as often as it likes
    harness.end()                   # prints "PASS: <name>" or "FAIL: <name> (<first failed check>)"

tests/test_systest.py finds every test by its ``harness.begin("...")`` call,
so a name is a string literal and unique. ``summary()`` prints
"system tests: N/M passed" as the last line and returns the number failed.
"""

from kcc.lang import *

from lib import kprintf as fmt
from user.lib import console

DETAIL_MAX: Final = 160

_name: Ptr[u8] = NULL       # the test in progress
_failed_now: bool = False   # a check of the current test failed
_detail: Array[u8, DETAIL_MAX]
_run: u32 = 0
_passed: u32 = 0


def begin(name: Ptr[u8]) -> None:
    """Start the test called ``name`` (a string literal)."""
    global _name, _failed_now
    _name = name
    _failed_now = False
    _detail[0] = 0


def fail(what: Ptr[u8], a: usize = 0, b: usize = 0, c: usize = 0) -> None:
    """Fail the current test; ``what`` (formatted with a, b, c as by printf) is kept if it is the first failure."""
    global _failed_now
    if not _failed_now:
        fmt.ksnprintf(addr(_detail[0]), DETAIL_MAX, what, a, b, c)
    _failed_now = True


def expect(condition: bool, what: Ptr[u8]) -> bool:
    """Fail the current test with ``what`` unless ``condition``; return ``condition``."""
    if not condition:
        fail(what)
    return condition


def expect_eq(actual: usize, expected: usize, what: Ptr[u8]) -> bool:
    """Fail the current test unless ``actual == expected`` ("<what>: got A, expected E"); return whether equal."""
    if actual != expected:
        fail("%s: got %u, expected %u", usize(what), actual, expected)
        return False
    return True


def failing() -> bool:
    """True when a check of the current test has failed so far."""
    return _failed_now


def end() -> None:
    """Finish the current test: print ``PASS: <name>`` or ``FAIL: <name> (<detail>)`` and count it."""
    global _run, _passed
    _run += 1
    if _failed_now:
        console.printf("FAIL: %s (%s)\n", usize(_name), usize(addr(_detail[0])))
    else:
        _passed += 1
        console.printf("PASS: %s\n", usize(_name))


def summary() -> u32:
    """Print the last line, ``system tests: N/M passed``; return how many tests failed."""
    console.printf("system tests: %u/%u passed\n", usize(_passed), usize(_run))
    return _run - _passed
