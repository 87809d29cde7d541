"""The target layer's fixed facts agree with LLVM's."""

from __future__ import annotations

import pytest

from kcc.targets import ARCHES, get_target


@pytest.mark.parametrize("arch", [a for a in ARCHES if get_target(a).llvm_data_layout])
def test_the_written_data_layout_is_llvms(arch: str) -> None:
    target = get_target(arch)
    assert target.llvm_data_layout == str(target.target_machine(0).target_data)
