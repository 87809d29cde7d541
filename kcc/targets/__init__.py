"""The target layer: one module per architecture, looked up by its TARGET name."""

from __future__ import annotations

import importlib

from kcc.targets.base import Target

ARCHES = ("riscv64", "armv8m", "i586", "host")


def get_target(name: str) -> Target:
    """Return the Target named ``name`` (one of ARCHES).

    Raises:
        KeyError: when no module kcc.targets.<name> exists.
    """
    try:
        mod = importlib.import_module(f"kcc.targets.{name}")
    except ModuleNotFoundError as exc:
        raise KeyError(f"unknown architecture '{name}' (known: {', '.join(ARCHES)})") from exc
    return mod.TARGET
