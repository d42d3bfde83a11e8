"""The declarative schema vocabulary that families describe messages with.

* :class:`StructType` — a fixed C struct (a family header such as
  ``struct genlmsghdr``, or a struct inside an attribute), decoded by
  length: fields present in the bytes are decoded, the rest are absent.
* :class:`AttrSet` — the attributes of one message or nest: type number,
  name and :mod:`codec <nlwire.wire.codecs>`, declared from an ``IntEnum``
  so the kernel's own spellings stay greppable.
* :class:`Attrs` — the lazy, read-only mapping a decoded attribute list
  becomes. It indexes the attributes on first access and converts a value
  only when it is read; unknown attributes are kept as ``"#<type>"``.
* :class:`MessageSpec` — a fixed header plus an attribute set: one message.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator, Mapping
from typing import Any, Final

from nlwire.errors import DecodeError
from nlwire.wire.attrs import (
    NLA_F_NET_BYTEORDER,
    NLA_TYPE_MASK,
    Buffer,
    iter_attributes,
    pack_attribute,
)
from nlwire.wire.codecs import Codec, net_order
from nlwire.wire.header import NLMSG_HDRLEN, Message


class StructValue(Mapping[str, Any]):
    """A decoded struct: its present fields by name, and any trailing bytes."""

    __slots__ = ("_fields", "size", "trailing")

    def __init__(self, fields: dict[str, Any], size: int, trailing: bytes) -> None:
        self._fields = fields
        self.size = size
        self.trailing = trailing

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"StructValue({self._fields!r})"


class StructType:
    """A fixed-layout C struct, given as ``(name, struct-format)`` pairs.

    Formats use :mod:`struct` letters in host byte order; padding is spelled
    as its own field named ``""`` (e.g. ``("", "2x")``). A field may carry an
    enum type as a third item. Decoding takes the fields that fit in the
    bytes given and keeps whatever follows the last known field.
    """

    def __init__(self, name: str, fields: list[tuple[Any, ...]]) -> None:
        self.name = name
        self._layout: list[tuple[str, struct.Struct, int, type[enum.IntEnum] | None]] = []
        offset = 0
        for field in fields:
            unit = struct.Struct("=" + field[1])
            enum_type = field[2] if len(field) > 2 else None
            self._layout.append((field[0], unit, offset, enum_type))
            offset += unit.size
        self.size = offset

    def decode(self, data: Buffer) -> StructValue:
        """Decode the fields present in ``data``; never reads past its end."""
        values: dict[str, Any] = {}
        end = 0
        for name, unit, offset, enum_type in self._layout:
            if offset + unit.size > len(data):
                break
            end = offset + unit.size
            if not name:
                continue
            value = unit.unpack_from(data, offset)[0]
            values[name] = _as_enum(enum_type, value) if enum_type else value
        return StructValue(values, len(data), bytes(data[end:]) if len(data) > end else b"")

    def pack(self, values: Mapping[str, Any]) -> bytes:
        """Pack ``values``; fields not given are zero (bytes fields: empty).

        Raises ``ValueError`` for a value that does not fit its field.
        """
        parts = []
        for name, unit, _, _ in self._layout:
            if not name:
                parts.append(unit.pack())
                continue
            value = values.get(name, b"" if unit.format.endswith("s") else 0)
            try:
                parts.append(unit.pack(value))
            except struct.error as exc:
                raise ValueError(f"{self.name}.{name}: {value!r} does not fit ({exc})") from None
        return b"".join(parts)


def _as_enum(enum_type: type[enum.IntEnum], value: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return value


class Attr:
    """One attribute of a set: type number, name and codec."""

    __slots__ = ("codec", "name", "type")

    def __init__(self, type: int, name: str, codec: Codec) -> None:
        self.type = type
        self.name = name
        self.codec = codec

    def __repr__(self) -> str:
        return f"Attr({self.type}, {self.name!r}, {self.codec!r})"


class AttrSet:
    """The attributes allowed in one message or nest.

    Declared from an ``IntEnum`` whose members are the attribute types (their
    lower-cased names become the attribute names) and a codec per member;
    members without a codec are read as binary.
    """

    def __init__(
        self,
        name: str,
        types: type[enum.IntEnum] | None = None,
        codecs: Mapping[Any, Codec] | None = None,
    ) -> None:
        self.name = name
        self.by_type: dict[int, Attr] = {}
        self.by_name: dict[str, Attr] = {}
        for member in types or ():
            codec = (codecs or {}).get(member) or Codec()
            self.add(Attr(int(member), member.name.lower(), codec))

    def add(self, attr: Attr) -> None:
        """Add ``attr``; used to close cycles between sets after declaring them."""
        self.by_type[attr.type] = attr
        self.by_name[attr.name] = attr

    def set_codec(self, name: str, codec: Codec) -> None:
        """Replace the codec of attribute ``name`` (for sets that nest each other)."""
        attr = self.by_name[name]
        self.add(Attr(attr.type, name, codec))

    def name_of(self, type: int) -> str:
        """The name of attribute ``type`` (flag bits ignored), or ``"#<type>"``."""
        attr = self.by_type.get(type & NLA_TYPE_MASK)
        return attr.name if attr else f"#{type & NLA_TYPE_MASK}"

    def decode(self, data: Buffer, start: int = 0, end: int | None = None) -> Attrs:
        """Return a lazy :class:`Attrs` over ``data[start:end]``."""
        view = data if isinstance(data, memoryview) else memoryview(data)
        return Attrs(view[start:end], self)

    def encode(self, values: Mapping[str, Any]) -> bytes:
        """Pack ``values`` (name → value, or ``"#<type>"`` → bytes) in order.

        Raises ``KeyError`` for a name the set does not have, ``ValueError`` or
        ``TypeError`` for a value its codec cannot take.
        """
        parts = []
        for name, value in values.items():
            if value is None:
                continue
            attr = self._attr_for(name)
            codec = attr.codec if attr else Codec()
            number = attr.type if attr else int(name[1:])
            flags = codec.flags_for(value)
            parts.append(pack_attribute(number, codec.encode(value), flags=flags))
        return b"".join(parts)

    def _attr_for(self, name: str) -> Attr | None:
        if name.startswith("#") and name[1:].isdigit():
            return self.by_type.get(int(name[1:]))
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"attribute set {self.name!r} has no attribute {name!r}") from None

    def __repr__(self) -> str:
        return f"AttrSet({self.name!r}, {len(self.by_type)} attributes)"


EMPTY_SET = AttrSet("unknown")

#: Deeper nests are refused, so that bytes crafted for a schema that nests
#: itself raise DecodeError instead of exhausting Python's recursion limit.
MAX_DEPTH: Final = 64


class Attrs(Mapping[str, Any]):
    """A decoded attribute list: a lazy, read-only mapping of name → value.

    The attribute table is built on first access (raising
    :class:`DecodeError` if the bytes do not frame) and each value is
    converted when read (raising :class:`DecodeError` if it does not fit its
    codec). Attributes the set does not know appear as ``"#<type>"`` with
    their raw bytes. When a type repeats, indexing gives the first;
    :meth:`getall` gives every one. ``depth`` counts the nests around it
    (0 for a message's own attributes).
    """

    __slots__ = ("_data", "_index", "_repeats", "attr_set", "depth")

    def __init__(self, data: memoryview, attr_set: AttrSet, depth: int = 0) -> None:
        self._data = data
        self.attr_set = attr_set
        self.depth = depth
        self._index: dict[int, tuple[int, int, int]] | None = None
        self._repeats: list[tuple[int, int, int, int]] = []

    def _table(self) -> dict[int, tuple[int, int, int]]:
        index = self._index
        if index is None:
            index = {}
            for type_, start, end in iter_attributes(self._data):
                number = type_ & NLA_TYPE_MASK
                if number in index:
                    self._repeats.append((number, type_, start, end))
                else:
                    index[number] = (type_, start, end)
            self._index = index
        return index

    def _number(self, name: str) -> int:
        attr = self.attr_set.by_name.get(name)
        if attr is not None:
            return attr.type
        if name.startswith("#") and name[1:].isdigit():
            return int(name[1:])
        raise KeyError(name)

    def _decode(self, number: int, type_: int, start: int, end: int) -> Any:
        attr = self.attr_set.by_type.get(number)
        if attr is None:
            return bytes(self._data[start:end])
        codec = net_order(attr.codec) if type_ & NLA_F_NET_BYTEORDER else attr.codec
        return codec.decode(self._data[start:end], self)

    def __getitem__(self, name: str) -> Any:
        number = self._number(name)
        entry = self._table().get(number)
        if entry is None:
            raise KeyError(name)
        return self._decode(number, *entry)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            return self._number(name) in self._table()
        except KeyError:
            return False

    def __iter__(self) -> Iterator[str]:
        name_of = self.attr_set.name_of
        return (name_of(number) for number in self._table())

    def __len__(self) -> int:
        return len(self._table())

    def getall(self, name: str) -> list[Any]:
        """Every value of attribute ``name``, in message order (empty if absent)."""
        number = self._number(name)
        entry = self._table().get(number)
        if entry is None:
            return []
        values = [self._decode(number, *entry)]
        for repeat, type_, start, end in self._repeats:
            if repeat == number:
                values.append(self._decode(number, type_, start, end))
        return values

    def raw(self, name: str) -> memoryview:
        """The undecoded value bytes of attribute ``name``."""
        _, start, end = self._table()[self._number(name)]
        return self._data[start:end]

    def unknown(self) -> list[tuple[int, bytes]]:
        """``(type, value bytes)`` of every attribute the set does not know."""
        known = self.attr_set.by_type
        entries = [(n, s, e) for n, (_, s, e) in self._table().items() if n not in known]
        entries += [(n, s, e) for n, _, s, e in self._repeats if n not in known]
        return [(number, bytes(self._data[start:end])) for number, start, end in entries]

    def to_dict(self) -> dict[str, Any]:
        """Decode everything into plain dicts and lists (repeats become lists)."""
        result: dict[str, Any] = {}
        for name in self:
            values = [plain(value) for value in self.getall(name)]
            result[name] = values[0] if len(values) == 1 else values
        return result

    def __repr__(self) -> str:
        return f"Attrs({self.attr_set.name}: {', '.join(self)})"


def plain(value: Any) -> Any:
    """Turn decoded values (Attrs, StructValue, enums, addresses) into plain data."""
    if isinstance(value, Attrs):
        return value.to_dict()
    if isinstance(value, StructValue):
        fields = {name: plain(item) for name, item in value.items()}
        if value.trailing:
            fields["trailing"] = value.trailing.hex()
        return fields
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.name if value.name is not None else value.value
    if isinstance(value, bool | int | str | float) or value is None:
        return value
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class Record:
    """A decoded message: its netlink header, fixed header and attributes."""

    __slots__ = ("attrs", "header", "message", "spec")

    def __init__(self, message: Message, spec: MessageSpec) -> None:
        self.message = message
        self.spec = spec
        data = message.raw
        fixed = spec.fixed
        offset = NLMSG_HDRLEN
        if fixed is not None:
            if len(data) - offset < fixed.size:
                raise DecodeError(
                    f"{spec.name} message of {len(data)} bytes is too short for its "
                    f"{fixed.size}-byte {fixed.name}"
                )
            self.header: StructValue | None = fixed.decode(data[offset : offset + fixed.size])
            offset += (fixed.size + 3) & ~3
        else:
            self.header = None
        self.attrs = Attrs(data[offset:], spec.attrs_for(self.header))

    def to_dict(self) -> dict[str, Any]:
        """The whole message as plain data (for JSON and debugging)."""
        msg = self.message
        result: dict[str, Any] = {
            "type": msg.type,
            "flags": msg.flags,
            "seq": msg.seq,
            "port": msg.port,
        }
        if self.header is not None:
            result["header"] = plain(self.header)
        result["attrs"] = self.attrs.to_dict()
        return result


class MessageSpec:
    """One kind of message: a name, an optional fixed header and its attributes.

    ``by_command`` gives other attribute sets for some values of the fixed
    header's ``cmd`` field, for families whose requests and replies number
    their attributes differently (taskstats, for one).
    """

    def __init__(
        self,
        name: str,
        attrs: AttrSet,
        fixed: StructType | None = None,
        *,
        by_command: Mapping[int, AttrSet] | None = None,
    ) -> None:
        self.name = name
        self.attrs = attrs
        self.fixed = fixed
        self.by_command = dict(by_command or {})

    def attrs_for(self, header: Mapping[str, Any] | None) -> AttrSet:
        """The attribute set of a message with fixed header ``header``."""
        if self.by_command and header is not None and "cmd" in header:
            return self.by_command.get(int(header["cmd"]), self.attrs)
        return self.attrs

    def decode(self, message: Message) -> Record:
        """Decode ``message``; attributes are read lazily."""
        return Record(message, self)

    def attribute_offset(self) -> int:
        """The offset of the first attribute from the start of the message."""
        return NLMSG_HDRLEN + (((self.fixed.size + 3) & ~3) if self.fixed else 0)
