"""gdb pretty-printers for kcc's types, loaded by ``kcc debug`` (gdb manual, "Pretty Printing API").

Values print with Python's spelling: a ``@struct`` instance as ``Range(start=4096, next=8192,
end=36864)``, a ``Ptr[T]`` as ``Ptr[Range](0x104000)`` (a ``Ptr[u8]`` also shows the
NUL-terminated text it points to, as kcc strings are), a ``bool`` as ``True``/``False``.
Expressions keep gdb's C syntax; only the display changes (``disable pretty-printer`` turns
them off). The kcc type names come from the DWARF (kcc.debuginfo): integer base types are
named ``u8`` ... ``usize``, structures by their class name.
"""

from __future__ import annotations

import gdb  # provided by gdb itself


def kcc_type_name(ty: gdb.Type) -> str:
    """A type spelled as in kcc: ``Ptr[T]``, ``Array[T, N]``, ``bool``, integer and class names."""
    stripped = ty.strip_typedefs()
    if stripped.code == gdb.TYPE_CODE_PTR:
        target = ty.strip_typedefs().target()
        if target.code == gdb.TYPE_CODE_FUNC:
            return "Callable"
        return f"Ptr[{kcc_type_name(target)}]"
    if stripped.code == gdb.TYPE_CODE_ARRAY:
        low, high = stripped.range()
        return f"Array[{kcc_type_name(stripped.target())}, {high - low + 1}]"
    if stripped.code == gdb.TYPE_CODE_STRUCT:
        return stripped.tag or stripped.name or str(stripped)
    return ty.name or str(ty)


class StructPrinter:
    """A ``@struct`` value as ``Name(field=value, ...)``; nested values use their own printers."""

    def __init__(self, value: gdb.Value) -> None:
        self.value = value

    def to_string(self) -> str:
        """The constructor-call spelling of the value."""
        ty = self.value.type.strip_typedefs()
        fields = ", ".join(f"{f.name}={self.value[f.name].format_string()}" for f in ty.fields())
        return f"{kcc_type_name(ty)}({fields})"


class PtrPrinter:
    """A ``Ptr[T]`` as ``Ptr[T](0xADDRESS)``, with the text of a non-NULL ``Ptr[u8]``."""

    MAX_TEXT = 200

    def __init__(self, value: gdb.Value) -> None:
        self.value = value

    def to_string(self) -> str:
        """The pointer's kcc type and address (and string, for ``Ptr[u8]``)."""
        address = int(self.value)
        shown = f"{kcc_type_name(self.value.type)}({address:#x})"
        target = self.value.type.strip_typedefs().target()
        if address and target.name == "u8":
            # Read a bounded block and cut it at the NUL: the text may end anywhere in it.
            try:
                data = bytes(gdb.selected_inferior().read_memory(address, self.MAX_TEXT))
            except gdb.MemoryError:
                return shown
            text = data.split(b"\0", 1)[0].decode("utf-8", "replace")
            shown += f" {text!r}"
        return shown


class BoolPrinter:
    """A ``bool`` as ``True`` or ``False``."""

    def __init__(self, value: gdb.Value) -> None:
        self.value = value

    def to_string(self) -> str:
        """Python's spelling of the truth value."""
        return "True" if int(self.value) else "False"


def lookup(value: gdb.Value) -> StructPrinter | PtrPrinter | BoolPrinter | None:
    """The printer for ``value``, or None to let gdb print it (integers, arrays, functions)."""
    ty = value.type.strip_typedefs()
    if ty.code == gdb.TYPE_CODE_STRUCT:
        return StructPrinter(value)
    if ty.code == gdb.TYPE_CODE_PTR and ty.target().strip_typedefs().code != gdb.TYPE_CODE_FUNC:
        return PtrPrinter(value)
    if ty.code == gdb.TYPE_CODE_BOOL:
        return BoolPrinter(value)
    return None


gdb.pretty_printers.append(lookup)
