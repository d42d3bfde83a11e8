"""Netlink attributes (``struct nlattr``): walking and packing, no schema.

An attribute is a 4-byte header followed by its value, padded to 4 bytes::

     0       2       4
    +-------+-------+---------------------+---------+
    | len   | type  | value (len - 4)     | padding |
    +-------+-------+---------------------+---------+

The top two bits of ``type`` are flags: ``NLA_F_NESTED`` (the value is
itself a list of attributes) and ``NLA_F_NET_BYTEORDER`` (the value is
big-endian). Many kernel families nest without setting ``NLA_F_NESTED``,
so the schema, not the flag, decides how a value is read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from nlwire.errors import DecodeError

NLA_HDRLEN: Final = 4
NLA_F_NESTED: Final = 1 << 15
NLA_F_NET_BYTEORDER: Final = 1 << 14
NLA_TYPE_MASK: Final = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF

_NLA = struct.Struct("=HH")

Buffer = bytes | bytearray | memoryview


def iter_attributes(
    data: Buffer, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int, int]]:
    """Yield ``(type, value_start, value_end)`` for each attribute in a range.

    ``type`` keeps its flag bits (mask with :data:`NLA_TYPE_MASK`). Offsets
    index ``data``, so nothing is copied. Raises :class:`DecodeError` when an
    attribute is shorter than its header or runs past ``end``.
    """
    if end is None:
        end = len(data)
    unpack = _NLA.unpack_from
    offset = start
    while end - offset >= NLA_HDRLEN:
        length, type_ = unpack(data, offset)
        if length < NLA_HDRLEN or length > end - offset:
            raise DecodeError(
                f"attribute at byte {offset} claims {length} bytes, {end - offset} remain"
            )
        yield type_, offset + NLA_HDRLEN, offset + length
        offset += (length + 3) & ~3
    if end - offset > 0:
        raise DecodeError(f"{end - offset} stray bytes after the last attribute")


def pack_attribute(type: int, value: Buffer, *, flags: int = 0) -> bytes:
    """Pack one attribute (header, value, padding); ``flags`` are NLA_F_* bits.

    Raises ``ValueError`` when the value is too long for the 16-bit length
    or the type (with any flag bits) does not fit in 16 bits.
    """
    length = NLA_HDRLEN + len(value)
    if length > 0xFFFF:
        raise ValueError(f"attribute {type} value of {len(value)} bytes is too long (max 65531)")
    if not 0 <= type | flags <= 0xFFFF:
        raise ValueError(f"attribute type {type:#x} with flags {flags:#x} is not 16 bits")
    return _NLA.pack(length, type | flags) + bytes(value) + b"\0" * (-length % 4)


def pack_nested(type: int, attributes: Buffer, *, nested_flag: bool = True) -> bytes:
    """Pack already-packed ``attributes`` as a nest, flagged NLA_F_NESTED by default."""
    return pack_attribute(type, attributes, flags=NLA_F_NESTED if nested_flag else 0)
