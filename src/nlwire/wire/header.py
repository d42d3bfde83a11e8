"""The netlink message header and the framing of a receive buffer.

Every netlink message starts with ``struct nlmsghdr`` (host byte order)::

     0               4       6       8              12             16
    +---------------+-------+-------+---------------+---------------+----
    | nlmsg_len     | type  | flags | nlmsg_seq     | nlmsg_pid     | payload…
    +---------------+-------+-------+---------------+---------------+----

``nlmsg_len`` counts the header and the payload; the next message starts at
the next 4-byte boundary. One datagram can carry many messages (a dump
batches them, flagged ``NLM_F_MULTI``, and ends with ``NLMSG_DONE``).
"""

from __future__ import annotations

import enum
import struct
from typing import Final

from nlwire.errors import DecodeError

NLMSG_ALIGNTO: Final = 4
NLMSG_HDRLEN: Final = 16

_HEADER = struct.Struct("=IHHII")


def align(length: int) -> int:
    """Round ``length`` up to the netlink alignment of 4 bytes."""
    return (length + 3) & ~3


class MessageType(enum.IntEnum):
    """The control message types every netlink protocol shares (``NLMSG_*``)."""

    NOOP = 1  # NLMSG_NOOP: ignore
    ERROR = 2  # NLMSG_ERROR: an error, or an ACK when the code is 0
    DONE = 3  # NLMSG_DONE: the end of a dump
    OVERRUN = 4  # NLMSG_OVERRUN: data lost (unused by Linux)


#: Message types below this are control messages (``NLMSG_MIN_TYPE``).
MIN_TYPE: Final = 0x10


class MessageFlags(enum.IntFlag):
    """``nlmsg_flags`` bits (``NLM_F_*``).

    The upper byte means different things for GET requests (ROOT, MATCH,
    ATOMIC), NEW requests (REPLACE, EXCL, CREATE, APPEND), DELETE requests
    (NONREC, BULK) and ACKs (CAPPED, ACK_TLVS); the aliases share values.
    """

    REQUEST = 0x01  # NLM_F_REQUEST
    MULTI = 0x02  # NLM_F_MULTI: part of a multipart reply ended by DONE
    ACK = 0x04  # NLM_F_ACK: ask for an acknowledgement
    ECHO = 0x08  # NLM_F_ECHO
    DUMP_INTR = 0x10  # NLM_F_DUMP_INTR: the dump was inconsistent
    DUMP_FILTERED = 0x20  # NLM_F_DUMP_FILTERED
    ROOT = 0x100  # NLM_F_ROOT
    MATCH = 0x200  # NLM_F_MATCH
    ATOMIC = 0x400  # NLM_F_ATOMIC
    DUMP = 0x300  # NLM_F_DUMP = ROOT | MATCH
    REPLACE = 0x100  # NLM_F_REPLACE
    EXCL = 0x200  # NLM_F_EXCL
    CREATE = 0x400  # NLM_F_CREATE
    APPEND = 0x800  # NLM_F_APPEND
    NONREC = 0x100  # NLM_F_NONREC
    BULK = 0x200  # NLM_F_BULK
    CAPPED = 0x100  # NLM_F_CAPPED: the error carries only the request's header
    ACK_TLVS = 0x200  # NLM_F_ACK_TLVS: extended ACK attributes follow


class Message:
    """One netlink message: the header fields and a view of the payload.

    ``raw`` is a zero-copy ``memoryview`` of the whole message (header
    included) inside the receive buffer; ``payload`` the part after the
    header. Keep the ``Message`` and the buffer stays alive.
    """

    __slots__ = ("flags", "port", "raw", "seq", "type")

    def __init__(self, type: int, flags: int, seq: int, port: int, raw: memoryview) -> None:
        self.type = type
        self.flags = flags
        self.seq = seq
        self.port = port
        self.raw = raw

    @property
    def payload(self) -> memoryview:
        """The bytes after the 16-byte header."""
        return self.raw[NLMSG_HDRLEN:]

    def __repr__(self) -> str:
        kind = _type_name(self.type)
        return (
            f"Message(type={kind}, flags={self.flags:#x}, seq={self.seq}, port={self.port}, "
            f"len={len(self.raw)})"
        )

    def __len__(self) -> int:
        return len(self.raw)


def _type_name(value: int) -> str:
    try:
        return MessageType(value).name
    except ValueError:
        return str(value)


def parse_messages(data: bytes | bytearray | memoryview) -> list[Message]:
    """Split a receive buffer into messages, without copying.

    Raises :class:`DecodeError` when a header is truncated or a length points
    outside the buffer. Alignment padding after the last message is allowed.
    """
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    messages: list[Message] = []
    offset, end = 0, len(view)
    unpack = _HEADER.unpack_from
    while end - offset >= NLMSG_HDRLEN:
        length, type_, flags, seq, port = unpack(view, offset)
        if length < NLMSG_HDRLEN or length > end - offset:
            raise DecodeError(
                f"netlink message at byte {offset} claims {length} bytes, "
                f"{end - offset} remain (minimum {NLMSG_HDRLEN})"
            )
        messages.append(Message(type_, flags, seq, port, view[offset : offset + length]))
        offset += (length + 3) & ~3
    if end - offset > 0:
        raise DecodeError(f"{end - offset} stray bytes after the last netlink message")
    return messages


def pack_header(length: int, type: int, flags: int, seq: int, port: int) -> bytes:
    """Pack a ``struct nlmsghdr``; ``length`` includes the header."""
    return _HEADER.pack(length, type, flags, seq, port)


def pack_message(type: int, flags: int, seq: int, port: int, payload: bytes = b"") -> bytes:
    """Build one message: header and payload, padded to the 4-byte boundary."""
    length = NLMSG_HDRLEN + len(payload)
    padding = b"\0" * (align(length) - length)
    return _HEADER.pack(length, type, flags, seq, port) + payload + padding


def unpack_header(data: bytes | memoryview, offset: int = 0) -> tuple[int, int, int, int, int]:
    """Unpack ``(length, type, flags, seq, port)`` at ``offset``.

    Raises :class:`DecodeError` when fewer than 16 bytes remain.
    """
    if len(data) - offset < NLMSG_HDRLEN:
        raise DecodeError(f"truncated netlink header: {len(data) - offset} of 16 bytes")
    length, type_, flags, seq, port = _HEADER.unpack_from(data, offset)
    return length, type_, flags, seq, port
