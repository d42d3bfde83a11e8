"""Decoding ``NLMSG_ERROR``: acknowledgements, errors and extended ACKs.

The payload of an error message is ``struct nlmsgerr``::

     0       4                    20
    +-------+--------------------+--------------------------+----------------+
    | error | the request's      | the request's payload    | extended ACK   |
    | (s32) | nlmsghdr (16)      | (absent if NLM_F_CAPPED) | TLVs (if       |
    +-------+--------------------+--------------------------+ NLM_F_ACK_TLVS)|

``error`` is 0 for an ACK, a negative errno otherwise. The extended ACK
carries a message, the byte offset of the attribute the kernel objected to
(counted from the start of the request), a missing attribute and policy.
"""

from __future__ import annotations

import enum
import struct
from typing import NamedTuple

from nlwire.errors import DecodeError, MissingAttribute, NetlinkError
from nlwire.wire.attrs import NLA_F_NESTED, NLA_TYPE_MASK, iter_attributes
from nlwire.wire.codecs import NUL_STRING, U32, Array, Codec, Keyed, Nested
from nlwire.wire.header import NLMSG_HDRLEN, MessageFlags, unpack_header
from nlwire.wire.schema import EMPTY_SET, Attrs, AttrSet, MessageSpec


class ExtAckAttr(enum.IntEnum):
    """Extended ACK attribute types (``NLMSGERR_ATTR_*``)."""

    MSG = 1  # NLMSGERR_ATTR_MSG
    OFFS = 2  # NLMSGERR_ATTR_OFFS
    COOKIE = 3  # NLMSGERR_ATTR_COOKIE
    POLICY = 4  # NLMSGERR_ATTR_POLICY
    MISS_TYPE = 5  # NLMSGERR_ATTR_MISS_TYPE
    MISS_NEST = 6  # NLMSGERR_ATTR_MISS_NEST


EXTACK = AttrSet(
    "extack",
    ExtAckAttr,
    {
        ExtAckAttr.MSG: NUL_STRING,
        ExtAckAttr.OFFS: U32,
        ExtAckAttr.MISS_TYPE: U32,
        ExtAckAttr.MISS_NEST: U32,
    },
)

_ERROR = struct.Struct("=i")


class Ack(NamedTuple):
    """A decoded ``NLMSG_ERROR`` message.

    ``code`` is the kernel's (0 or a negative errno); ``request_header`` the
    ``(length, type, flags, seq, port)`` of the request it answers; ``extack``
    the extended-ACK attributes (possibly empty).
    """

    code: int
    request_header: tuple[int, int, int, int, int]
    request: bytes
    extack: Attrs


def parse_ack(payload: memoryview, flags: int) -> Ack:
    """Decode the payload of an ``NLMSG_ERROR`` message with header ``flags``.

    Raises :class:`DecodeError` when it is shorter than ``struct nlmsgerr``
    or its parts do not fit.
    """
    if len(payload) < 4 + NLMSG_HDRLEN:
        raise DecodeError(f"NLMSG_ERROR payload of {len(payload)} bytes (minimum 20)")
    code = _ERROR.unpack_from(payload)[0]
    header = unpack_header(payload, 4)
    echoed = 4 + NLMSG_HDRLEN
    if not flags & MessageFlags.CAPPED:
        echoed = 4 + max(header[0], NLMSG_HDRLEN)
        if echoed > len(payload):
            raise DecodeError(
                f"NLMSG_ERROR echoes a {header[0]}-byte request but holds {len(payload) - 4}"
            )
    request = bytes(payload[4:echoed])
    tlv_start = (echoed + 3) & ~3
    extack = payload[tlv_start:] if flags & MessageFlags.ACK_TLVS else payload[:0]
    return Ack(code, header, request, Attrs(extack, EXTACK))


def error_from_ack(
    ack: Ack, request: bytes | None = None, spec: MessageSpec | None = None
) -> NetlinkError:
    """Build the :class:`NetlinkError` for a failed ``ack``.

    ``request`` is the full request as sent (the kernel may echo only its
    header) and ``spec`` its message spec, used to turn the extended ACK's
    byte offset into an attribute path.
    """
    extack = ack.extack
    sent = request if request is not None else ack.request
    offset = extack.get("offs")
    path = resolve_offset(sent, offset, spec) if offset is not None and spec else ()
    if offset is not None and not path:
        path = (f"@{offset}",)
    missing = None
    if "miss_type" in extack:
        missing = _missing(extack["miss_type"], extack.get("miss_nest"), sent, spec)
    policy = bytes(extack.raw("policy")) if "policy" in extack else None
    return NetlinkError(
        -ack.code,
        extack.get("msg"),
        request=sent,
        offset=offset,
        attr_path=path,
        missing=missing,
        policy=policy,
    )


def _missing(
    type_: int, nest: int | None, request: bytes, spec: MessageSpec | None
) -> MissingAttribute:
    """The missing attribute, named from the set of the nest it belongs in."""
    if spec is None:
        return MissingAttribute(type_)
    nest_path, nest_set = _walk(request, nest, spec) if nest is not None else ((), spec.attrs)
    attr = nest_set.by_type.get(type_) if nest_set is not None else None
    return MissingAttribute(type_, nest_path, attr.name if attr else None)


def resolve_offset(request: bytes, offset: int, spec: MessageSpec) -> tuple[str, ...]:
    """Name the attribute at byte ``offset`` of ``request`` as a path.

    Descends into nests the schema knows (and into unknown attributes that
    set NLA_F_NESTED). Returns ``()`` when the offset is not inside the
    attributes or the request does not frame.
    """
    return _walk(request, offset, spec)[0]


def _walk(
    request: bytes, offset: int, spec: MessageSpec
) -> tuple[tuple[str, ...], AttrSet | None]:
    """The path to the attribute at ``offset``, and its set if it is a nest."""
    path: list[str] = []
    start, end = spec.attribute_offset(), len(request)
    header = None
    if spec.fixed is not None and start <= end:
        header = spec.fixed.decode(request[NLMSG_HDRLEN : NLMSG_HDRLEN + spec.fixed.size])
    members: AttrSet | Codec = spec.attrs_for(header)
    inner: AttrSet | None = None
    try:
        while True:
            hit = _attribute_at(request, start, end, offset)
            if hit is None:
                break
            type_, value_start, value_end = hit
            name, codec = _member(members, type_)
            path.append(name)
            inner, below = _inside(codec, type_)
            if offset < value_start or below is None:
                break
            members, start, end = below, value_start, value_end
    except DecodeError:
        pass
    return tuple(path), inner


def _attribute_at(data: bytes, start: int, end: int, offset: int) -> tuple[int, int, int] | None:
    for type_, value_start, value_end in iter_attributes(data, start, end):
        if value_start - 4 <= offset < max(value_end, value_start):
            return type_, value_start, value_end
    return None


def _member(members: AttrSet | Codec, type_: int) -> tuple[str, Codec | None]:
    """Name and codec of a member: of a set, or of an array or keyed nest."""
    number = type_ & NLA_TYPE_MASK
    if not isinstance(members, AttrSet):
        return f"#{number}", members
    attr = members.by_type.get(number)
    return (attr.name, attr.codec) if attr else (f"#{number}", None)


def _inside(codec: Codec | None, type_: int) -> tuple[AttrSet | None, AttrSet | Codec | None]:
    """The set of a nest, and what its members are (a set or an element codec)."""
    if isinstance(codec, Nested):
        attr_set = codec.attr_set or EMPTY_SET
        return attr_set, attr_set
    if isinstance(codec, Array | Keyed):
        return EMPTY_SET, codec.element
    if codec is None and type_ & NLA_F_NESTED:
        return EMPTY_SET, EMPTY_SET
    return None, None
