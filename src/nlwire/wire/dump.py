"""A stable, human-readable layout for one netlink message (for debugging).

The layout, one block per message::

    <<< recv NETLINK_GENERIC 76 bytes: type=nlctrl(16) flags=0x0 seq=7 port=2148
        {"header": {"cmd": "NEWFAMILY", "version": 2, "reserved": 0}, "attrs": {…}}
        0000  4c 00 00 00 10 00 00 00  07 00 00 00 64 08 00 00  L...........d...
        …

The first line gives the direction (``>>> send`` or ``<<< recv``), the
protocol, the length, the message type (named when known), flags, sequence
number and port id. The second line is the decoded message as one line of
JSON, or ``undecodable: <reason>`` when it does not parse. Then the bytes as
a hex dump, 16 to a line, with their offsets.
"""

from __future__ import annotations

import json
from typing import Any

from nlwire.errors import DecodeError
from nlwire.wire.ack import parse_ack
from nlwire.wire.header import Message, MessageFlags, MessageType
from nlwire.wire.schema import MessageSpec, plain

_PROTOCOLS = {
    0: "NETLINK_ROUTE",
    4: "NETLINK_SOCK_DIAG",
    9: "NETLINK_AUDIT",
    12: "NETLINK_NETFILTER",
    15: "NETLINK_KOBJECT_UEVENT",
    16: "NETLINK_GENERIC",
}


def protocol_name(protocol: int) -> str:
    """The kernel's name for netlink protocol number ``protocol``."""
    return _PROTOCOLS.get(protocol, f"NETLINK_{protocol}")


def hexdump(data: bytes | memoryview, indent: str = "") -> str:
    """Format ``data`` as offset, 16 hex bytes and printable characters per line."""
    raw = bytes(data)
    lines = []
    for offset in range(0, len(raw), 16):
        chunk = raw[offset : offset + 16]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{indent}{offset:04x}  {left:<23}  {right:<23}  {text}")
    return "\n".join(lines)


def describe(message: Message, spec: MessageSpec | None) -> dict[str, Any]:
    """Decode ``message`` into plain data, using ``spec`` when it is known.

    Control messages (ERROR/ACK, DONE) are decoded without a spec. Raises
    :class:`DecodeError` when the message does not parse.
    """
    if message.type == MessageType.ERROR:
        ack = parse_ack(message.payload, message.flags)
        return {
            "error": -ack.code,
            "request": {"type": ack.request_header[1], "seq": ack.request_header[3]},
            "extack": ack.extack.to_dict(),
        }
    if message.type == MessageType.DONE:
        return {"done": True}
    if spec is None:
        return {"payload": bytes(message.payload).hex()}
    decoded = spec.decode(message).to_dict()
    return {key: decoded[key] for key in ("header", "attrs") if key in decoded}


def format_message(
    message: Message,
    *,
    direction: str,
    protocol: int,
    spec: MessageSpec | None = None,
    type_name: str | None = None,
) -> str:
    """Render ``message`` in the debug layout described in this module."""
    name = type_name or _control_name(message.type)
    head = (
        f"{direction} {protocol_name(protocol)} {len(message.raw)} bytes: "
        f"type={name}({message.type}) flags={_flag_text(message.flags)} "
        f"seq={message.seq} port={message.port}"
    )
    try:
        body = json.dumps(plain(describe(message, spec)), default=str, sort_keys=False)
    except DecodeError as exc:
        body = f"undecodable: {exc}"
    return f"{head}\n    {body}\n{hexdump(message.raw, '    ')}"


def _control_name(type_: int) -> str:
    try:
        return MessageType(type_).name
    except ValueError:
        return "?"


def _flag_text(flags: int) -> str:
    names = [flag.name for flag in _BASIC_FLAGS if flags & flag and flag.name]
    rest = flags & ~sum(_BASIC_FLAGS)
    if rest:
        names.append(f"{rest:#x}")
    return "|".join(names) or "0"


_BASIC_FLAGS = (
    MessageFlags.REQUEST,
    MessageFlags.MULTI,
    MessageFlags.ACK,
    MessageFlags.ECHO,
    MessageFlags.DUMP_INTR,
    MessageFlags.DUMP_FILTERED,
)
