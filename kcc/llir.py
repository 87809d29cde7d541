"""LLVM IR built as text: the types, values and IRBuilder that kcc.lower and kcc.debuginfo use.

Why not llvmlite.ir: it keeps an object graph per instruction and formats every object with
``str.format`` when the module is printed, which took over half of the front end's time (the
issue 10 profile: 1.1 s of 1.5 s for 6,000 lines). Here an instruction's text is made once, when
it is inserted, since its name, operands and debug location are all known by then; only what
changes later is formatted when the module is printed: phi nodes (their incoming edges come
after them), function headers and global variables (Lowerer.export changes their linkage once
every unit is lowered), and identified struct types (``packed`` is set after their body).

The API is the part of llvmlite.ir's that kcc needs, with the same names and meanings, and the
text is byte for byte what llvmlite 0.46 prints for the same calls (the same value numbering,
metadata numbering and spacing), so objects cached before this module existed stay valid and a
whole-program comparison proves the two equal. The syntax is LLVM's (LLVM Language Reference
Manual: "Identifiers", "Instruction Reference", "Metadata"); clang verifies every module it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar, Self

# Bytes that a quoted LLVM string (c"..." constants, metadata strings) holds as they are; every
# other byte is written \XX (LangRef, "String constants"). The same set as llvmlite's.
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                   b" !#$%&'()*+,-./:;<=>?@[]^_`{|}~")
_ESCAPE = [chr(c) if c in _PLAIN else f"\\{c:02x}" for c in range(256)]
# A label that needs no quotes (LangRef, "Identifiers").
_SIMPLE_LABEL = re.compile(r"[-a-zA-Z$._][-a-zA-Z$._0-9]*$")
# Comparison operators as kcc.lower spells them, to icmp's condition codes (LangRef, "'icmp' Instruction").
_CMP = {">": "gt", "<": "lt", "==": "eq", "!=": "ne", ">=": "ge", "<=": "le"}


def escape_string(data: bytes | bytearray | str) -> str:
    """The body of a quoted LLVM string for ``data`` (str is encoded as UTF-8): printable ASCII
    other than ``"`` and ``\\`` as it is, every other byte as ``\\XX``."""
    if isinstance(data, str):
        if data.isascii() and data.isprintable() and '"' not in data and "\\" not in data:
            return data
        data = data.encode()
    return "".join([_ESCAPE[c] for c in data])


def _quote(name: str) -> str:
    """A name as a quoted identifier: ``\\`` and ``"`` escaped (LangRef, "Identifiers")."""
    if "\\" in name or '"' in name:
        name = name.replace("\\", "\\5c").replace('"', "\\22")
    return f'"{name}"'


class NameScope:
    """The names of one function's values (or a module's globals), made unique as llvmlite does:
    an unnamed value gets ``.1``, ``.2``, ...; a name in use gets ``name.1``, ``name.2``, ...

    The numbers of unnamed values come from a counter without a look-up: no other name starts
    with a dot (kcc names values after Python identifiers and blocks after fixed words), so
    ``.N`` is always free.
    """

    __slots__ = ("blank", "counters", "used")

    def __init__(self) -> None:
        self.used: set[str] = {""}
        self.counters: dict[str, int] = {}
        self.blank = 0

    def unique(self, name: str) -> str:
        """Register and return ``name``, or the first free ``name.N`` when it is taken."""
        if not name:
            self.blank += 1
            return f".{self.blank}"
        used = self.used
        if name not in used:
            used.add(name)
            return name
        candidate = self.deduplicate(name)
        used.add(candidate)
        return candidate

    def register(self, name: str) -> str:
        """Register ``name`` exactly; ValueError when it is already taken (a global defined twice)."""
        if name in self.used:
            raise ValueError(f"duplicate global name {name!r}")
        self.used.add(name)
        return name

    def deduplicate(self, name: str) -> str:
        """``name``, or the first free ``name.N`` when it is taken; not registered."""
        counters = self.counters
        candidate = name
        while candidate in self.used:
            counters[name] = n = counters.get(name, 0) + 1
            candidate = f"{name}.{n}"
        return candidate


# ----- types --------------------------------------------------------------------------------
class Type:
    """An LLVM type; ``str()`` is its IR spelling, equality is equality of spelling."""

    __slots__ = ("text",)
    null = "zeroinitializer"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Type) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


class IntType(Type):
    """``iN``: one object per width."""

    __slots__ = ("width",)
    null = "0"
    _cache: ClassVar[dict[int, IntType]] = {}

    def __new__(cls, bits: int) -> Self:
        cached = cls._cache.get(bits)
        if cached is None:
            cached = super().__new__(cls)
            cached.width = bits
            cached.text = f"i{bits}"
            cls._cache[bits] = cached
        return cached


class PointerType(Type):
    """``ptr``: the opaque pointer of address space 0."""

    __slots__ = ()
    null = "null"

    def __init__(self) -> None:
        self.text = "ptr"


class VoidType(Type):
    """``void``: a function's result when it returns nothing."""

    __slots__ = ()

    def __init__(self) -> None:
        self.text = "void"


class MetaDataType(Type):
    """``metadata``: the type of metadata arguments (``llvm.dbg.declare``)."""

    __slots__ = ()

    def __init__(self) -> None:
        self.text = "metadata"


class LabelType(Type):
    """``label``: the type of a basic block as a branch operand."""

    __slots__ = ()

    def __init__(self) -> None:
        self.text = "label"


class ArrayType(Type):
    """``[count x element]``."""

    __slots__ = ("count", "element")

    def __init__(self, element: Type, count: int) -> None:
        self.element = element
        self.count = count
        self.text = f"[{count} x {element.text}]"


class LiteralStructType(Type):
    """``{a, b}`` (``<{a, b}>`` when packed): a struct type spelled by its members."""

    __slots__ = ("elements", "packed")

    def __init__(self, elements: Sequence[Type], packed: bool = False) -> None:
        self.elements = tuple(elements)
        self.packed = packed
        body = "{" + ", ".join([e.text for e in self.elements]) + "}"
        self.text = f"<{body}>" if packed else body


class IdentifiedStructType(Type):
    """``%"Name"``: a named struct type, declared once at the top of the module (Context)."""

    __slots__ = ("elements", "name", "packed")

    def __init__(self, name: str) -> None:
        self.name = name
        self.elements: tuple[Type, ...] | None = None
        self.packed = False
        self.text = "%" + _quote(name)

    def set_body(self, *elements: Type) -> None:
        """Give the type its members (once)."""
        self.elements = elements

    def declaration(self) -> str:
        """The ``%"Name" = type {...}`` line (``opaque`` without a body)."""
        if self.elements is None:
            return f"{self.text} = type opaque"
        body = "{" + ", ".join([e.text for e in self.elements]) + "}"
        return f"{self.text} = type {'<' + body + '>' if self.packed else body}"


class FunctionType(Type):
    """``ret (args)``: a function's signature."""

    __slots__ = ("args", "return_type", "var_arg")

    def __init__(self, return_type: Type, args: Sequence[Type], var_arg: bool = False) -> None:
        self.return_type = return_type
        self.args = tuple(args)
        self.var_arg = var_arg
        inside = ", ".join([a.text for a in self.args])
        if var_arg:
            inside = f"{inside}, ..." if inside else "..."
        self.text = f"{return_type.text} ({inside})"


class Context:
    """The identified struct types of one module, in the order they were first named."""

    def __init__(self) -> None:
        self.identified_types: dict[str, IdentifiedStructType] = {}

    def get_identified_type(self, name: str) -> IdentifiedStructType:
        """The struct type called ``name``, made on first use."""
        ty = self.identified_types.get(name)
        if ty is None:
            ty = self.identified_types[name] = IdentifiedStructType(name)
        return ty


PTR = PointerType()
VOID = VoidType()
METADATA = MetaDataType()
LABEL = LabelType()
I1 = IntType(1)


# ----- values -------------------------------------------------------------------------------
class Value:
    """A value: its type and the text that refers to it in an operand (``%"x"``, ``42``, ``@"f"``)."""

    __slots__ = ("ref", "type")

    def __init__(self, type: Type, ref: str) -> None:
        self.type = type
        self.ref = ref

    def __str__(self) -> str:
        return f"{self.type.text} {self.ref}"


class Constant(Value):
    """A constant of ``type``: an int, True/False, None (zero/null), a bytearray (``c"..."``) or a
    list of element values (array or struct)."""

    __slots__ = ()

    def __init__(self, type: Type, value: object) -> None:
        self.type = type
        if value is None:
            self.ref = type.null
        elif isinstance(value, bool):
            self.ref = "true" if value else "false"
        elif isinstance(value, int):
            self.ref = str(value)
        elif isinstance(value, bytearray):
            self.ref = f'c"{escape_string(value)}"'
        else:
            items = ", ".join([f"{v.type.text} {v.ref}" for v in value])  # type: ignore[attr-defined]
            if isinstance(type, ArrayType):
                self.ref = f"[{items}]"
            else:
                self.ref = f"<{{{items}}}>" if getattr(type, "packed", False) else f"{{{items}}}"

    def inttoptr(self, typ: Type) -> Value:
        """The constant expression ``inttoptr (iN v to ptr)``."""
        return Value(typ, f"inttoptr ({self.type.text} {self.ref} to {typ.text})")


class MDNode(Value):
    """A numbered metadata node (``!N``); ``text`` is its ``!N = ...`` line."""

    __slots__ = ("text",)

    def __init__(self, number: int) -> None:
        self.type = METADATA
        self.ref = f"!{number}"
        self.text = ""


DIValue = MDNode


class DIToken:
    """A bare word in debug-info metadata (``DW_TAG_member``, ``DIFlagPrototyped``)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


class Argument(Value):
    """A function parameter; renaming it (``arg.name = ...``) registers the new name."""

    __slots__ = ("_name", "attributes", "function")

    def __init__(self, function: Function, type: Type) -> None:
        self.type = type
        self.function = function
        self.attributes: set[str] = set()
        self.name = ""

    @property
    def name(self) -> str:
        """The parameter's name in the function."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = self.function.scope.unique(name)
        self.ref = "%" + _quote(self._name)

    def add_attribute(self, attr: str) -> None:
        """Add a parameter attribute such as ``signext`` (LangRef, "Parameter Attributes")."""
        self.attributes.add(attr)

    def __str__(self) -> str:
        if self.attributes:
            return f"{self.type.text} {' '.join(sorted(self.attributes))} {self.ref}"
        return f"{self.type.text} {self.ref}"


class ReturnValue:
    """A function's result, which carries attributes (``signext``) like a parameter."""

    __slots__ = ("attributes", "type")

    def __init__(self, function: Function, type: Type) -> None:
        function.scope.unique("")  # llvmlite names it too: the numbering of values counts it
        self.type = type
        self.attributes: set[str] = set()

    def add_attribute(self, attr: str) -> None:
        """Add a result attribute such as ``zeroext``."""
        self.attributes.add(attr)

    def __str__(self) -> str:
        if self.attributes:
            return f"{' '.join(sorted(self.attributes))} {self.type.text}"
        return self.type.text


class GlobalValue(Value):
    """A function or global variable: ``@"name"`` with a linkage, a section and metadata."""

    __slots__ = ("linkage", "metadata", "module", "name", "section")

    def __init__(self, module: Module, name: str) -> None:
        self.module = module
        self.name = module.scope.register(name)
        self.ref = "@" + _quote(name)
        self.type = PTR
        self.linkage = ""
        self.section = ""
        self.metadata: dict[str, MDNode] = {}
        module.globals[name] = self

    def set_metadata(self, kind: str, node: MDNode) -> None:
        """Attach ``node`` as ``!kind`` (e.g. ``!dbg``)."""
        self.metadata[kind] = node


class GlobalVariable(GlobalValue):
    """A module-level variable of ``value_type``; external unless given an initializer or linkage."""

    __slots__ = ("align", "global_constant", "initializer", "unnamed_addr", "value_type")

    def __init__(self, module: Module, typ: Type, name: str) -> None:
        super().__init__(module, name)
        self.value_type = typ
        self.initializer: Value | None = None
        self.unnamed_addr = False
        self.global_constant = False
        self.align: int | None = None

    def __str__(self) -> str:
        linkage = self.linkage or ("external" if self.initializer is None else "")
        out = [f"{self.ref} = "]
        if linkage:
            out.append(linkage + " ")
        if self.unnamed_addr:
            out.append("unnamed_addr ")
        out.append(f"{'constant' if self.global_constant else 'global'} {self.value_type.text}")
        if self.initializer is not None:
            out.append(" " + self.initializer.ref)
        elif linkage not in ("external", "extern_weak"):
            out.append(" undef")
        if self.section:
            out.append(f', section "{self.section}"')
        if self.align is not None:
            out.append(f", align {self.align}")
        out += [f", !{k} {v.ref}" for k, v in self.metadata.items()]
        return "".join(out).rstrip()


class Function(GlobalValue):
    """A function: declared, or defined once it has basic blocks."""

    __slots__ = (
        "args",
        "attributes",
        "blocks",
        "calling_convention",
        "function_type",
        "return_value",
        "scope",
    )

    def __init__(self, module: Module, ftype: FunctionType, name: str) -> None:
        super().__init__(module, name)
        self.function_type = ftype
        self.scope = NameScope()
        self.blocks: list[Block] = []
        self.attributes: set[str] = set()
        self.args = tuple(Argument(self, t) for t in ftype.args)
        self.return_value = ReturnValue(self, ftype.return_type)
        self.calling_convention = ""

    @property
    def entry_basic_block(self) -> Block:
        """The first block."""
        return self.blocks[0]

    def append_basic_block(self, name: str = "") -> Block:
        """A new block at the end of the function."""
        block = Block(self, name)
        self.blocks.append(block)
        return block

    def __str__(self) -> str:
        state = "define" if self.blocks else "declare"
        prefix = " ".join([x for x in (state, self.linkage, self.calling_convention, str(self.return_value)) if x])
        args = ", ".join([str(a) for a in self.args])
        if self.function_type.var_arg:
            args = f"{args}, ..." if args else "..."
        attrs = " " + " ".join(sorted(self.attributes)) if self.attributes else ""
        section = f' section "{self.section}"' if self.section else ""
        meta = " " + ", ".join([f"!{k} {v.ref}" for k, v in self.metadata.items()]) if self.metadata else ""
        out = [f"{prefix} {self.ref}({args}){attrs}{section}{meta}\n"]
        if self.blocks:
            out.append("{\n")
            for block in self.blocks:
                block.render(out)
            out.append("}\n")
        return "".join(out)


class Block(Value):
    """A basic block: its instructions as text (phi nodes as Phi objects, rendered last)."""

    __slots__ = ("function", "instructions", "is_terminated", "name")

    def __init__(self, function: Function, name: str) -> None:
        self.function = function
        self.name = function.scope.unique(name)
        self.type = LABEL
        self.ref = "%" + _quote(self.name)
        self.instructions: list[str | Phi] = []
        self.is_terminated = False

    def render(self, out: list[str]) -> None:
        """Append the block's label and instruction lines to ``out``."""
        name = self.name if _SIMPLE_LABEL.match(self.name) else _quote(self.name)
        out.append(f"{name}:\n")
        out += [f"  {i}\n" if isinstance(i, str) else f"  {i.render()}\n" for i in self.instructions]


class Phi(Value):
    """A phi node; its incoming (value, block) pairs are added after it is inserted."""

    __slots__ = ("incomings", "meta")

    def __init__(self, type: Type, ref: str, meta: str) -> None:
        self.type = type
        self.ref = ref
        self.meta = meta
        self.incomings: list[tuple[Value, Block]] = []

    def add_incoming(self, value: Value, block: Block) -> None:
        """Add the value the phi takes when control comes from ``block``."""
        self.incomings.append((value, block))

    def render(self) -> str:
        """The instruction's text."""
        incs = ", ".join([f"[{v.ref}, {b.ref}]" for v, b in self.incomings])
        return f"{self.ref} = phi  {self.type.text} {incs} {self.meta}".rstrip()


class InlineAsm(Value):
    """An inline assembly callee: ``asm sideeffect "template", "constraints"`` of ``ftype``."""

    __slots__ = ("function_type",)

    def __init__(self, ftype: FunctionType, asm: str, constraint: str, side_effect: bool = False) -> None:
        self.function_type = ftype
        self.type = ftype.return_type
        self.ref = f'asm {"sideeffect" if side_effect else ""} "{asm}", "{constraint}"'


class Module:
    """An LLVM module: struct types, globals and functions in order of creation, then metadata."""

    def __init__(self, name: str = "", context: Context | None = None) -> None:
        self.name = name
        self.context = context or Context()
        self.triple = "unknown-unknown-unknown"
        self.data_layout = ""
        self.scope = NameScope()
        self.globals: dict[str, GlobalValue] = {}
        self.metadata: list[MDNode] = []
        self.namedmetadata: dict[str, list[MDNode]] = {}
        self._cache: dict[object, MDNode] = {}

    def get_unique_name(self, name: str = "") -> str:
        """A global name not yet used, from the hint ``name``."""
        return self.scope.deduplicate(name)

    def _node(self, body: str) -> MDNode:
        node = MDNode(len(self.metadata))
        node.text = f"{node.ref} = {body}"
        self.metadata.append(node)
        return node

    def add_metadata(self, operands: Sequence[object]) -> MDNode:
        """The tuple node ``!{ ... }`` of ``operands`` (nodes, constants, strings, None for null,
        nested sequences), made once per distinct content."""
        parts = []
        for op in operands:
            if op is None:
                parts.append("null")
            elif isinstance(op, str):
                parts.append(f'!"{escape_string(op)}"')
            elif isinstance(op, list | tuple):
                parts.append(self.add_metadata(op).ref)
            elif isinstance(op, MDNode):
                parts.append(op.ref)
            else:
                parts.append(str(op))
        body = "!{ " + ", ".join(parts) + " }"
        node = self._cache.get(body)
        if node is None:
            node = self._cache[body] = self._node(body)
        return node

    def add_debug_info(self, kind: str, operands: dict[str, object], is_distinct: bool = False) -> MDNode:
        """The specialised node ``!kind(key: value, ...)`` (keys in sorted order), made once per
        distinct content. A DIToken is a bare word; as in llvmlite, nodes with tokens other than
        ``encoding`` are shared only when they hold the same token objects."""
        parts = []
        tokens: list[DIToken] = []
        for key in sorted(operands):
            value = operands[key]
            vtype = type(value)
            if vtype is MDNode:
                text = value.ref  # type: ignore[attr-defined]
            elif vtype is int:
                text = str(value)
            elif vtype is str:
                text = f'"{escape_string(value)}"'  # type: ignore[arg-type]
            elif value is None:
                text = "null"
            elif value is True:
                text = "true"
            elif value is False:
                text = "false"
            elif isinstance(value, DIToken):
                text = value.value
                if key != "encoding":
                    tokens.append(value)
            elif isinstance(value, str):
                text = f'"{escape_string(value)}"'
            elif isinstance(value, int):
                text = str(value)
            elif isinstance(value, list | tuple):
                text = self.add_metadata(value).ref
            elif isinstance(value, Constant):
                text = str(value)
            else:
                text = value.ref  # type: ignore[attr-defined]
            parts.append(f"{key}: {text}")
        body = f"{'distinct ' if is_distinct else ''}!{kind}({', '.join(parts)})"
        key = (body, *tokens)
        node = self._cache.get(key)
        if node is None:
            node = self._cache[key] = self._node(body)
        return node

    def add_location(self, line: int, column: int, scope: MDNode) -> MDNode:
        """The ``!DILocation`` of ``line``:``column`` in ``scope``: add_debug_info's node, made faster."""
        body = f"!DILocation(column: {column}, line: {line}, scope: {scope.ref})"
        key = (body,)
        node = self._cache.get(key)
        if node is None:
            node = self._cache[key] = self._node(body)
        return node

    def add_expression(self, ops: Sequence[str | int]) -> MDNode:
        """A new ``!DIExpression(op, ...)`` node (DWARF expression operators, positional)."""
        return self._node(f"!DIExpression({', '.join([str(op) for op in ops])})")

    def add_named_metadata(self, name: str, element: MDNode | Sequence[object]) -> None:
        """Append ``element`` (a node, or the operands of a new tuple node) to ``!name``."""
        node = element if isinstance(element, MDNode) else self.add_metadata(element)
        self.namedmetadata.setdefault(name, []).append(node)

    def __str__(self) -> str:
        lines = [f'; ModuleID = "{self.name}"', f'target triple = "{self.triple}"',
                 f'target datalayout = "{self.data_layout}"', ""]
        lines += [t.declaration() for t in self.context.identified_types.values()]
        lines += [str(g) for g in self.globals.values()]
        lines += [f"!{name} = !{{ {', '.join([n.ref for n in nodes])} }}" for name, nodes in self.namedmetadata.items()]
        lines += [n.text for n in self.metadata]
        return "\n".join(lines)


# ----- the builder --------------------------------------------------------------------------
class IRBuilder:
    """Appends instructions to a block, each located at ``debug_metadata`` (a DILocation) when set.

    Every instruction takes a name from its function's scope, printed or not (a store or a void
    call too), which is what keeps the numbering of unnamed values the same as llvmlite's.
    """

    def __init__(self, block: Block) -> None:
        self.block = block
        self.scope = block.function.scope
        self._anchor: int | None = None  # None: at the end of the block
        self._location: MDNode | None = None
        # The location as the instructions' text ends with it: ", !dbg !N", and " , !dbg !N" for
        # the instructions that llvmlite prints with a space before it (icmp, casts, select, ...).
        self.meta = self.smeta = ""

    @property
    def debug_metadata(self) -> MDNode | None:
        """The DILocation given to each instruction inserted from now on (None: no location)."""
        return self._location

    @debug_metadata.setter
    def debug_metadata(self, location: MDNode | None) -> None:
        self._location = location
        self.meta = f", !dbg {location.ref}" if location is not None else ""
        self.smeta = " " + self.meta if location is not None else ""

    # ----- position ---------------------------------------------------------
    def position_at_end(self, block: Block) -> None:
        """Append from now on to the end of ``block``."""
        self.block = block
        self._anchor = None

    def position_at_start(self, block: Block) -> None:
        """Insert from now on at the start of ``block`` (then after what was inserted there)."""
        self.block = block
        self._anchor = 0

    @contextmanager
    def at_start(self, block: Block) -> Iterator[None]:
        """Insert at the start of ``block`` inside the ``with``; back to the end of the current block after."""
        saved = self.block
        self.position_at_start(block)
        try:
            yield
        finally:
            self.position_at_end(saved)

    # ----- insertion --------------------------------------------------------
    def _emit(self, text: str | Phi) -> None:
        if self._anchor is None:
            self.block.instructions.append(text)
        else:
            self.block.instructions.insert(self._anchor, text)
            self._anchor += 1

    def _value(self, type: Type, body: str, name: str = "") -> Value:
        """Insert ``%name = body`` and return the value it defines."""
        scope = self.scope
        if name:
            ref = "%" + _quote(scope.unique(name))
        else:
            scope.blank += 1
            ref = f'%".{scope.blank}"'
        if self._anchor is None:
            self.block.instructions.append(f"{ref} = {body}")
        else:
            self._emit(f"{ref} = {body}")
        return Value(type, ref)

    def _void(self, body: str) -> None:
        """Insert an instruction without a result (it still uses up a name)."""
        self.scope.blank += 1
        self._emit(body)

    def _terminate(self, body: str) -> None:
        self._void(body)
        self.block.is_terminated = True

    # ----- arithmetic -------------------------------------------------------
    def _binop(self, op: str, a: Value, b: Value, name: str, flags: Sequence[str]) -> Value:
        if flags:
            op = " ".join([op, *flags])
        return self._value(a.type, f"{op} {a.type.text} {a.ref}, {b.ref}{self.meta}", name)

    def add(self, a: Value, b: Value, name: str = "", flags: Sequence[str] = ()) -> Value:
        """``add``, with ``nsw``/``nuw`` when given in ``flags``."""
        return self._binop("add", a, b, name, flags)

    def sub(self, a: Value, b: Value, name: str = "", flags: Sequence[str] = ()) -> Value:
        """``sub``."""
        return self._binop("sub", a, b, name, flags)

    def mul(self, a: Value, b: Value, name: str = "", flags: Sequence[str] = ()) -> Value:
        """``mul``."""
        return self._binop("mul", a, b, name, flags)

    def udiv(self, a: Value, b: Value, name: str = "") -> Value:
        """``udiv``."""
        return self._binop("udiv", a, b, name, ())

    def sdiv(self, a: Value, b: Value, name: str = "") -> Value:
        """``sdiv``."""
        return self._binop("sdiv", a, b, name, ())

    def urem(self, a: Value, b: Value, name: str = "") -> Value:
        """``urem``."""
        return self._binop("urem", a, b, name, ())

    def srem(self, a: Value, b: Value, name: str = "") -> Value:
        """``srem``."""
        return self._binop("srem", a, b, name, ())

    def and_(self, a: Value, b: Value, name: str = "") -> Value:
        """``and``."""
        return self._binop("and", a, b, name, ())

    def or_(self, a: Value, b: Value, name: str = "") -> Value:
        """``or``."""
        return self._binop("or", a, b, name, ())

    def xor(self, a: Value, b: Value, name: str = "") -> Value:
        """``xor``."""
        return self._binop("xor", a, b, name, ())

    def shl(self, a: Value, b: Value, name: str = "") -> Value:
        """``shl``."""
        return self._binop("shl", a, b, name, ())

    def lshr(self, a: Value, b: Value, name: str = "") -> Value:
        """``lshr``."""
        return self._binop("lshr", a, b, name, ())

    def ashr(self, a: Value, b: Value, name: str = "") -> Value:
        """``ashr``."""
        return self._binop("ashr", a, b, name, ())

    def not_(self, a: Value, name: str = "") -> Value:
        """Bitwise complement: ``xor a, -1``."""
        return self.xor(a, Constant(a.type, -1), name)

    def neg(self, a: Value, name: str = "") -> Value:
        """Negation: ``sub 0, a``."""
        return self.sub(Constant(a.type, 0), a, name)

    def icmp_signed(self, op: str, a: Value, b: Value, name: str = "") -> Value:
        """Signed comparison (``op`` one of == != < <= > >=) to an i1."""
        code = _CMP[op]
        return self._value(I1, f"icmp {code if op in ('==', '!=') else 's' + code} {a.type.text} {a.ref}, "
                               f"{b.ref}{self.smeta}", name)

    def icmp_unsigned(self, op: str, a: Value, b: Value, name: str = "") -> Value:
        """Unsigned (or pointer) comparison to an i1."""
        code = _CMP[op]
        return self._value(I1, f"icmp {code if op in ('==', '!=') else 'u' + code} {a.type.text} {a.ref}, "
                               f"{b.ref}{self.smeta}", name)

    def select(self, cond: Value, a: Value, b: Value, name: str = "") -> Value:
        """``select cond, a, b``."""
        return self._value(a.type, f"select  {cond.type.text} {cond.ref}, {a.type.text} {a.ref}, "
                                   f"{b.type.text} {b.ref}{self.smeta}", name)

    def _cast(self, op: str, v: Value, typ: Type, name: str) -> Value:
        return self._value(typ, f"{op} {v.type.text} {v.ref} to {typ.text}{self.smeta}", name)

    def trunc(self, v: Value, typ: Type, name: str = "") -> Value:
        """``trunc`` to the narrower ``typ``."""
        return self._cast("trunc", v, typ, name)

    def zext(self, v: Value, typ: Type, name: str = "") -> Value:
        """``zext`` to the wider ``typ``."""
        return self._cast("zext", v, typ, name)

    def sext(self, v: Value, typ: Type, name: str = "") -> Value:
        """``sext`` to the wider ``typ``."""
        return self._cast("sext", v, typ, name)

    def ptrtoint(self, v: Value, typ: Type, name: str = "") -> Value:
        """``ptrtoint`` to the integer ``typ``."""
        return self._cast("ptrtoint", v, typ, name)

    def inttoptr(self, v: Value, typ: Type, name: str = "") -> Value:
        """``inttoptr`` to ``ptr``."""
        return self._cast("inttoptr", v, typ, name)

    # ----- memory -----------------------------------------------------------
    def alloca(self, typ: Type, name: str = "") -> Value:
        """A stack slot for one ``typ``."""
        return self._value(PTR, f"alloca {typ.text}{self.meta}", name)

    def load(self, ptr: Value, typ: Type, volatile: bool = False, name: str = "") -> Value:
        """Load a ``typ`` from ``ptr``; ``volatile`` for ``load volatile`` (LangRef, "'load' Instruction")."""
        op = "load volatile" if volatile else "load"
        return self._value(typ, f"{op} {typ.text}, {ptr.type.text} {ptr.ref}{self.meta}", name)

    def store(self, value: Value, ptr: Value, volatile: bool = False) -> None:
        """Store ``value`` at ``ptr``; ``volatile`` for ``store volatile``."""
        op = "store volatile" if volatile else "store"
        self._void(f"{op} {value.type.text} {value.ref}, {ptr.type.text} {ptr.ref}{self.meta}")

    def load_atomic(self, ptr: Value, ordering: str, align: int, typ: Type, name: str = "") -> Value:
        """``load atomic`` with a C11 ``ordering`` (LangRef, "Atomic Memory Ordering Constraints")."""
        return self._value(typ, f"load atomic {typ.text}, {ptr.type.text} {ptr.ref} {ordering}, align {align}"
                                f"{self.meta}", name)

    def store_atomic(self, value: Value, ptr: Value, ordering: str, align: int) -> None:
        """``store atomic`` with a C11 ``ordering``."""
        self._void(f"store atomic {value.type.text} {value.ref}, {ptr.type.text} {ptr.ref} {ordering}, "
                   f"align {align}{self.meta}")

    def atomic_rmw(self, op: str, ptr: Value, value: Value, ordering: str, name: str = "") -> Value:
        """``atomicrmw op`` (``add``, ``xchg``): the old value."""
        return self._value(value.type, f"atomicrmw {op} {ptr.type.text} {ptr.ref}, {value.type.text} {value.ref} "
                                       f"{ordering}{self.smeta}", name)

    def cmpxchg(self, ptr: Value, cmp: Value, value: Value, ordering: str, failordering: str,
                name: str = "") -> Value:
        """``cmpxchg``: the pair {old value, i1 success}."""
        t = cmp.type.text
        return self._value(LiteralStructType([value.type, I1]),
                           f"cmpxchg {ptr.type.text} {ptr.ref}, {t} {cmp.ref}, {t} {value.ref} {ordering} "
                           f"{failordering}{self.smeta}", name)

    def extract_value(self, agg: Value, index: int, name: str = "") -> Value:
        """Member ``index`` of a struct value."""
        typ = agg.type.elements[index]  # type: ignore[attr-defined]
        return self._value(typ, f"extractvalue {agg.type.text} {agg.ref}, {index}{self.smeta}", name)

    def gep(self, ptr: Value, indices: Sequence[Value], inbounds: bool = False, name: str = "",
            source_etype: Type | None = None) -> Value:
        """``getelementptr [inbounds] source_etype, ptr, indices``."""
        assert source_etype is not None, "opaque pointers: the element type must be given"
        op = "getelementptr inbounds" if inbounds else "getelementptr"
        idx = ", ".join([f"{i.type.text} {i.ref}" for i in indices])
        return self._value(ptr.type, f"{op} {source_etype.text}, {ptr.type.text} {ptr.ref}, {idx}{self.smeta}",
                           name)

    def phi(self, typ: Type, name: str = "") -> Phi:
        """A phi node of ``typ``; add its incoming edges with Phi.add_incoming."""
        ref = "%" + _quote(self.scope.unique(name))
        phi = Phi(typ, ref, self.meta)
        self._emit(phi)
        return phi

    # ----- calls ------------------------------------------------------------
    def call(self, fn: Value, args: Sequence[Value], name: str = "") -> Value:
        """Call ``fn`` (a Function, InlineAsm or any value with a ``function_type``) with ``args``.

        Arguments of ``metadata`` parameters that are ordinary values are wrapped as
        ``metadata <type> <value>`` (``llvm.dbg.declare``'s slot).
        """
        fnty: FunctionType = fn.function_type  # type: ignore[attr-defined]
        parts = []
        for param, a in zip(fnty.args, args, strict=True):
            if isinstance(param, MetaDataType) and not isinstance(a.type, MetaDataType):
                parts.append(f"metadata {a.type.text} {a.ref}")
            else:
                parts.append(f"{a.type.text} {a.ref}")
        callee = f"{(fnty if fnty.var_arg else fnty.return_type).text} {fn.ref}"
        cconv = fn.calling_convention if isinstance(fn, Function) else ""
        if cconv:
            callee = f"{cconv} {callee}"
        body = f"call {callee}({', '.join(parts)}){self.meta}"
        if isinstance(fnty.return_type, VoidType):
            self._void(body)
            return Value(VOID, "")
        return self._value(fnty.return_type, body, name)

    # ----- terminators ------------------------------------------------------
    def branch(self, target: Block) -> None:
        """``br label %target``."""
        self._terminate(f"br label {target.ref}{self.meta}")

    def cbranch(self, cond: Value, then: Block, otherwise: Block) -> None:
        """``br i1 cond, label %then, label %otherwise``."""
        self._terminate(f"br {cond.type.text} {cond.ref}, label {then.ref}, label {otherwise.ref}{self.meta}")

    def ret(self, value: Value) -> None:
        """``ret <value>``."""
        self._terminate(f"ret {value.type.text} {value.ref}{self.meta}")

    def ret_void(self) -> None:
        """``ret void``."""
        self._terminate(f"ret void{self.meta}")

    def unreachable(self) -> None:
        """``unreachable`` (printed without a location, as llvmlite prints it)."""
        self._terminate("unreachable")
