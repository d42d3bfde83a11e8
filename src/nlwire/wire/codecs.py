"""Value codecs: how the bytes of one attribute become a Python value.

Each codec checks the length before it unpacks and raises
:class:`~nlwire.errors.DecodeError` for bytes it cannot read; encoding a
value of the wrong type or range raises ``ValueError`` or ``TypeError``.
Codecs are stateless and shared; the schema module pairs them with names.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nlwire.errors import DecodeError
from nlwire.wire.attrs import (
    NLA_F_NESTED,
    NLA_F_NET_BYTEORDER,
    NLA_TYPE_MASK,
    iter_attributes,
    pack_attribute,
)

if TYPE_CHECKING:
    from nlwire.wire.schema import Attrs, AttrSet, StructType


class Codec:
    """Turns an attribute value into a Python value and back.

    ``decode`` receives the value bytes and the :class:`Attrs` the attribute
    belongs to (so a codec can look at a sibling, as :class:`Select` does).
    ``flags`` are the NLA_F_* bits set when the value is packed.
    """

    kind = "binary"
    flags = 0

    def flags_for(self, value: Any) -> int:
        """The NLA_F_* bits to pack ``value`` with (``flags`` but for :class:`Select`)."""
        return self.flags

    def decode(self, data: memoryview, parent: Attrs | None = None) -> Any:
        """Return the value held in ``data``."""
        return bytes(data)

    def encode(self, value: Any) -> bytes:
        """Return the bytes for ``value``."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"a binary attribute takes bytes, not {type(value).__name__}")
        return bytes(value)

    def __repr__(self) -> str:
        return self.kind


class Int(Codec):
    """A fixed-width integer: host order, or big-endian for ``be*`` codecs."""

    def __init__(
        self, kind: str, fmt: str, *, big_endian: bool = False, net_flag: bool = False
    ) -> None:
        self.kind = kind
        self.big_endian = big_endian
        self.flags = NLA_F_NET_BYTEORDER if net_flag else 0
        self._fmt = fmt
        self._struct = struct.Struct((">" if big_endian else "=") + fmt)
        self.size = self._struct.size

    def swapped(self) -> Int:
        """The big-endian twin of a host-order codec (for NLA_F_NET_BYTEORDER values)."""
        return Int(f"{self.kind}(be)", self._fmt, big_endian=not self.big_endian)

    def decode(self, data: memoryview, parent: Attrs | None = None) -> int:
        if len(data) != self.size:
            raise DecodeError(f"{self.kind} attribute of {len(data)} bytes (expected {self.size})")
        value: int = self._struct.unpack(data)[0]
        return value

    def encode(self, value: Any) -> bytes:
        try:
            return self._struct.pack(int(value))
        except struct.error as exc:
            raise ValueError(f"{value!r} does not fit in {self.kind}") from exc


class VarInt(Codec):
    """``NLA_UINT`` / ``NLA_SINT``: 4 bytes when the value fits, else 8."""

    def __init__(self, *, signed: bool) -> None:
        self.kind = "sint" if signed else "uint"
        self._signed = signed
        self._narrow = struct.Struct("=i" if signed else "=I")
        self._wide = struct.Struct("=q" if signed else "=Q")

    def decode(self, data: memoryview, parent: Attrs | None = None) -> int:
        if len(data) == 4:
            narrow: int = self._narrow.unpack(data)[0]
            return narrow
        if len(data) == 8:
            wide: int = self._wide.unpack(data)[0]
            return wide
        raise DecodeError(f"{self.kind} attribute of {len(data)} bytes (expected 4 or 8)")

    def encode(self, value: Any) -> bytes:
        number = int(value)
        try:
            return self._narrow.pack(number)
        except struct.error:
            pass
        try:
            return self._wide.pack(number)
        except struct.error as exc:
            raise ValueError(f"{value!r} does not fit in {self.kind}") from exc


class String(Codec):
    """Text. ``NLA_STRING`` may end in NUL or not; ``NLA_NUL_STRING`` must.

    Decoding stops at the first NUL and replaces bytes that are not UTF-8,
    so the result is always a clean ``str``.
    """

    def __init__(self, *, nul_terminated: bool) -> None:
        self.kind = "nul-string" if nul_terminated else "string"
        self._nul = nul_terminated

    def decode(self, data: memoryview, parent: Attrs | None = None) -> str:
        raw = bytes(data)
        end = raw.find(b"\0")
        return (raw if end < 0 else raw[:end]).decode("utf-8", "replace")

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"a string attribute takes str, not {type(value).__name__}")
        encoded = value.encode()
        if b"\0" in encoded:
            raise ValueError("a string attribute cannot hold a NUL character")
        return encoded + b"\0" if self._nul else encoded


class Flag(Codec):
    """``NLA_FLAG``: present (``True``) with no value bytes."""

    kind = "flag"

    def decode(self, data: memoryview, parent: Attrs | None = None) -> bool:
        if len(data):
            raise DecodeError(f"flag attribute with {len(data)} value bytes (expected none)")
        return True

    def encode(self, value: Any) -> bytes:
        if value is not True:
            raise ValueError("a flag attribute is encoded only when it is True")
        return b""


class Address(Codec):
    """An IP address: IPv4 (4 bytes), IPv6 (16), or either by length."""

    def __init__(self, kind: str, sizes: tuple[int, ...]) -> None:
        self.kind = kind
        self._sizes = sizes

    def decode(
        self, data: memoryview, parent: Attrs | None = None
    ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        if len(data) not in self._sizes:
            raise DecodeError(f"{self.kind} attribute of {len(data)} bytes")
        return ipaddress.ip_address(bytes(data))

    def encode(self, value: Any) -> bytes:
        packed = ipaddress.ip_address(value).packed
        if len(packed) not in self._sizes:
            raise ValueError(f"{value!r} is not an {self.kind} address")
        return packed


class LinkAddress(Codec):
    """A link-layer address such as a MAC, shown as ``aa:bb:cc:dd:ee:ff``."""

    kind = "mac"

    def decode(self, data: memoryview, parent: Attrs | None = None) -> str:
        return ":".join(f"{byte:02x}" for byte in bytes(data))

    def encode(self, value: Any) -> bytes:
        try:
            return bytes(int(part, 16) for part in str(value).split(":"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a link-layer address like aa:bb:cc") from exc


class Enum(Codec):
    """An integer shown as a member of ``enum_type`` when it names one."""

    def __init__(self, inner: Codec, enum_type: type[enum.IntEnum]) -> None:
        self.kind = f"{inner.kind}:{enum_type.__name__}"
        self._inner = inner
        self._enum = enum_type

    def decode(self, data: memoryview, parent: Attrs | None = None) -> int:
        value: int = self._inner.decode(data, parent)
        try:
            return self._enum(value)
        except ValueError:
            return value

    def encode(self, value: Any) -> bytes:
        if isinstance(value, str):
            try:
                value = self._enum[value.upper()]
            except KeyError:
                names = ", ".join(member.name.lower() for member in self._enum)
                raise ValueError(
                    f"{value!r} is not a {self._enum.__name__} (one of: {names})"
                ) from None
        return self._inner.encode(value)


class Flags(Codec):
    """An integer bit set shown as ``flag_type`` (unknown bits kept)."""

    def __init__(self, inner: Codec, flag_type: type[enum.IntFlag]) -> None:
        self.kind = f"{inner.kind}:{flag_type.__name__}"
        self._inner = inner
        self._flags = flag_type

    def decode(self, data: memoryview, parent: Attrs | None = None) -> int:
        return self._flags(self._inner.decode(data, parent))

    def encode(self, value: Any) -> bytes:
        return self._inner.encode(int(value))


class Nested(Codec):
    """A nest decoded with ``attr_set``; the NLA_F_NESTED bit is optional on input."""

    def __init__(self, attr_set: AttrSet | None = None, *, nested_flag: bool = True) -> None:
        self.kind = "nest"
        self.attr_set = attr_set
        self.flags = NLA_F_NESTED if nested_flag else 0

    def decode(self, data: memoryview, parent: Attrs | None = None) -> Attrs:
        from nlwire.wire.schema import EMPTY_SET, MAX_DEPTH, Attrs

        depth = parent.depth + 1 if parent is not None else 1
        if depth > MAX_DEPTH:
            raise DecodeError(f"attributes nested more than {MAX_DEPTH} levels deep")
        return Attrs(data, self.attr_set or EMPTY_SET, depth)

    def encode(self, value: Any) -> bytes:
        from nlwire.wire.schema import EMPTY_SET

        if not isinstance(value, Mapping):
            raise TypeError(f"a nested attribute takes a mapping, not {type(value).__name__}")
        return (self.attr_set or EMPTY_SET).encode(value)


class Array(Codec):
    """An indexed array: a nest whose members' types are indexes 1, 2, 3…

    Decodes to a list in message order; the index numbers are not kept.
    """

    def __init__(self, element: Codec, *, nested_flag: bool = True, first_index: int = 1) -> None:
        self.kind = f"array[{element.kind}]"
        self.element = element
        self.flags = NLA_F_NESTED if nested_flag else 0
        self._first = first_index

    def decode(self, data: memoryview, parent: Attrs | None = None) -> list[Any]:
        decode = self.element.decode
        return [decode(data[start:end], parent) for _, start, end in iter_attributes(data)]

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            raise TypeError(f"an array attribute takes a sequence, not {type(value).__name__}")
        parts = [
            pack_attribute(index, self.element.encode(item), flags=self.element.flags_for(item))
            for index, item in enumerate(value, self._first)
        ]
        return b"".join(parts)


class Keyed(Codec):
    """A nest whose member types are keys, not names (``{type: value}``).

    Used where the kernel numbers members by an id, such as the policy
    dumps of generic netlink (policy index → attribute type → details).
    """

    def __init__(self, element: Codec, *, nested_flag: bool = True) -> None:
        self.kind = f"keyed[{element.kind}]"
        self.element = element
        self.flags = NLA_F_NESTED if nested_flag else 0

    def decode(self, data: memoryview, parent: Attrs | None = None) -> dict[int, Any]:
        decode = self.element.decode
        return {
            type_ & NLA_TYPE_MASK: decode(data[start:end], parent)
            for type_, start, end in iter_attributes(data)
        }

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, Mapping):
            raise TypeError(f"a keyed nest takes a mapping, not {type(value).__name__}")
        parts = [
            pack_attribute(int(key), self.element.encode(item), flags=self.element.flags_for(item))
            for key, item in value.items()
        ]
        return b"".join(parts)


class Struct(Codec):
    """A fixed C struct inside an attribute, decoded by length."""

    def __init__(self, struct_type: StructType) -> None:
        self.kind = f"struct {struct_type.name}"
        self.struct_type = struct_type

    def decode(self, data: memoryview, parent: Attrs | None = None) -> Any:
        return self.struct_type.decode(data)

    def encode(self, value: Any) -> bytes:
        return self.struct_type.pack(value)


class Select(Codec):
    """A value whose codec is chosen by a sibling attribute (a sub-set).

    ``Select("kind", {"veth": Nested(VETH), …})`` reads the sibling ``kind``
    of the same nest; a choice it does not know is decoded with ``default``.
    Encoding needs the choice spelled out: ``(kind, value)``.
    """

    def __init__(self, key: str, choices: Mapping[str, Codec], default: Codec | None = None):
        self.kind = f"select({key})"
        self.key = key
        self.choices = dict(choices)
        self.default = default or BINARY
        self.flags = NLA_F_NESTED if any(c.flags for c in self.choices.values()) else 0

    def flags_for(self, value: Any) -> int:
        """The flags of the chosen codec: NLA_F_NESTED only for a nested choice."""
        if isinstance(value, tuple) and len(value) == 2 and value[0] in self.choices:
            return self.choices[value[0]].flags_for(value[1])
        return self.flags

    def decode(self, data: memoryview, parent: Attrs | None = None) -> Any:
        choice = parent.get(self.key) if parent is not None else None
        codec = self.choices.get(choice, self.default) if isinstance(choice, str) else None
        return (codec or self.default).decode(data, parent)

    def encode(self, value: Any) -> bytes:
        if not (isinstance(value, tuple) and len(value) == 2 and value[0] in self.choices):
            raise ValueError(
                f"encode {self.kind} as (choice, value) with a choice in {sorted(self.choices)}"
            )
        return self.choices[value[0]].encode(value[1])


def net_order(codec: Codec) -> Codec:
    """The codec for a value flagged NLA_F_NET_BYTEORDER.

    Host-order integers, also under :class:`Enum` and :class:`Flags`, are
    read big-endian; every other codec is returned unchanged.
    """
    if isinstance(codec, Int):
        return codec if codec.big_endian else codec.swapped()
    if isinstance(codec, Enum | Flags):
        inner = net_order(codec._inner)
        if inner is codec._inner:
            return codec
        return Enum(inner, codec._enum) if isinstance(codec, Enum) else Flags(inner, codec._flags)
    return codec


def attribute_type(type_with_flags: int) -> int:
    """Strip the NLA_F_* flag bits from an attribute type."""
    return type_with_flags & NLA_TYPE_MASK


U8 = Int("u8", "B")
U16 = Int("u16", "H")
U32 = Int("u32", "I")
U64 = Int("u64", "Q")
S8 = Int("s8", "b")
S16 = Int("s16", "h")
S32 = Int("s32", "i")
S64 = Int("s64", "q")
BE16 = Int("be16", "H", big_endian=True)
BE32 = Int("be32", "I", big_endian=True)
BE64 = Int("be64", "Q", big_endian=True)
NET16 = Int("net16", "H", big_endian=True, net_flag=True)
NET32 = Int("net32", "I", big_endian=True, net_flag=True)
NET64 = Int("net64", "Q", big_endian=True, net_flag=True)
UINT = VarInt(signed=False)
SINT = VarInt(signed=True)
STRING = String(nul_terminated=False)
NUL_STRING = String(nul_terminated=True)
BINARY = Codec()
FLAG = Flag()
IPV4 = Address("ipv4", (4,))
IPV6 = Address("ipv6", (16,))
IP = Address("ip", (4, 16))
MAC = LinkAddress()
