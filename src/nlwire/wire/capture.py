"""Reading captured netlink traffic: hex text, pcap and pcapng (sans-IO).

Every reader takes the whole input (``str`` or ``bytes``) and returns
:class:`Datagram` records; none of them opens a file. :func:`read_capture`
picks the reader by the first bytes: the pcap and pcapng magic numbers, or
else hex text.

Hex text (what ``nlwire decode`` accepts when it is not a capture file):

1. Bytes are hex digits in tokens separated by whitespace or commas; a token
   holds any even number of digits (``4c000000`` or ``4c 00 00 00`` or the
   60-digit lines of ``xxd -p``).
2. A token may start with ``0x``; it must then be exactly one byte
   (``0x4c``), because ``0x0000004c`` could mean a little- or big-endian
   word and guessing would decode garbage.
3. ``#`` starts a comment that runs to the end of the line.
4. A blank line ends a datagram. Messages inside one datagram need no
   separator: the lengths in their headers frame them.
5. The debug layout of :mod:`nlwire.wire.dump` (``nlwire --debug`` output)
   is recognised by its ``>>> send`` / ``<<< recv`` header lines: each block
   becomes one datagram with its protocol, and the printable-character
   column and the decoded JSON line are ignored, as are lines in between
   that belong to no block.

Capture files (``tcpdump -i nlmon0 -w FILE``) must have link type 253,
``LINKTYPE_NETLINK``: each packet starts with a 16-byte cooked header::

     0        2          4                              14         16
    +--------+----------+------------------------------+----------+----------
    | packet | ARPHRD   | address length and address   | protocol | nlmsghdr…
    | type   | (824)    | (unused for netlink)         | (BE16)   |
    +--------+----------+------------------------------+----------+----------

The protocol is the netlink protocol (0 route, 12 netfilter, 16 generic).
The packet type, where the writer kept the kernel's, is 6 (``PACKET_USER``:
delivered to a user socket) or 7 (``PACKET_KERNEL``: sent to the kernel).

Known limitation: the netlink messages themselves are read in this
machine's byte order; a capture taken on a machine of the other byte order
decodes as garbage lengths (and then fails with a :class:`DecodeError`).
Every error is a :class:`DecodeError` that says where the input is wrong.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Final

from nlwire.errors import DecodeError
from nlwire.wire.dump import protocol_name

LINKTYPE_NETLINK: Final = 253
ARPHRD_NETLINK: Final = 824
COOKED_HEADER_LEN: Final = 16
PACKET_USER: Final = 6
PACKET_KERNEL: Final = 7

_LINKTYPE_NAMES = {
    0: "LINKTYPE_NULL",
    1: "LINKTYPE_ETHERNET",
    101: "LINKTYPE_RAW",
    113: "LINKTYPE_LINUX_SLL",
    239: "LINKTYPE_NFLOG",
    253: "LINKTYPE_NETLINK",
    276: "LINKTYPE_LINUX_SLL2",
}

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB: Final = b"\x0a\x0d\x0d\x0a"


@dataclass(frozen=True, slots=True)
class Datagram:
    """One datagram of netlink messages read from a capture or hex text.

    ``protocol`` is the netlink protocol when the input says it (pcap files
    and the debug layout do; plain hex does not: ``None``). ``where``
    locates it in the input for error messages (``"line 3"``, ``"packet 2
    at byte 40"``). ``direction`` is ``"send"`` (to the kernel),
    ``"recv"`` (to a user socket) or ``None`` when the input does not say.
    ``timestamp`` is seconds since the epoch for capture files.
    """

    data: bytes
    protocol: int | None
    where: str
    direction: str | None = None
    timestamp: float | None = None


def detect_format(data: bytes) -> str:
    """Return ``"pcap"``, ``"pcapng"`` or ``"hex"`` from the first bytes of ``data``."""
    if data[:4] in _PCAP_MAGIC:
        return "pcap"
    if data[:4] == _PCAPNG_SHB:
        return "pcapng"
    return "hex"


def read_capture(data: bytes) -> list[Datagram]:
    """Read ``data`` as pcap, pcapng or hex text, whichever it is.

    Raises :class:`DecodeError` for malformed input, including hex text that
    is not valid UTF-8 (a binary file that is no capture).
    """
    kind = detect_format(data)
    if kind == "pcap":
        return parse_pcap(data)
    if kind == "pcapng":
        return parse_pcapng(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"byte {exc.start}: not hex text and not a pcap/pcapng capture file"
        ) from None
    return parse_hex(text)


# -- hex text ------------------------------------------------------------------

_DEBUG_HEAD = re.compile(r"^(>>> send|<<< recv) (NETLINK_\w+) (\d+) bytes: ")
_DEBUG_DUMP = re.compile(r"^\s+([0-9a-f]{4,})  ")
_PROTOCOL_NUMBERS = {protocol_name(number): number for number in range(32)}


def parse_hex(text: str) -> list[Datagram]:
    """Read hex text (rules in the module docstring) into datagrams.

    Raises :class:`DecodeError` naming the line and column of a bad token.
    """
    lines = text.splitlines()
    if any(_DEBUG_HEAD.match(line) for line in lines):
        return _parse_debug_layout(lines)

    datagrams: list[Datagram] = []
    chunk = bytearray()
    first_line = 0
    for number, line in enumerate(lines, 1):
        content = line.split("#", 1)[0]
        if not content.strip():
            if chunk and not line.strip():
                datagrams.append(Datagram(bytes(chunk), None, f"line {first_line}"))
                chunk = bytearray()
            continue
        if not chunk:
            first_line = number
        chunk += _hex_line(content, number)
    if chunk:
        datagrams.append(Datagram(bytes(chunk), None, f"line {first_line}"))
    return datagrams


def _hex_line(content: str, number: int) -> bytes:
    out = bytearray()
    for match in re.finditer(r"[^\s,]+", content):
        token, column = match.group(), match.start() + 1
        prefixed = token[:2] in ("0x", "0X")
        digits = token[2:] if prefixed else token
        bad = re.search(r"[^0-9a-fA-F]", digits)
        if bad:
            where = column + bad.start() + (2 if prefixed else 0)
            raise DecodeError(f"line {number}, column {where}: {bad.group()!r} is not a hex digit")
        if prefixed and len(digits) not in (1, 2):
            raise DecodeError(
                f"line {number}, column {column}: {token!r}: a 0x token must be one byte "
                f"(0x00 to 0xff); write longer values as plain bytes in memory order"
            )
        if not prefixed and len(digits) % 2:
            raise DecodeError(
                f"line {number}, column {column}: {token!r} has an odd number of hex digits"
            )
        out += bytes.fromhex(digits.zfill(2) if prefixed else digits)
    return bytes(out)


def _parse_debug_layout(lines: list[str]) -> list[Datagram]:
    datagrams: list[Datagram] = []
    block: bytearray | None = None
    protocol: int | None = None
    direction = ""
    start = 0
    for number, line in enumerate(lines, 1):
        head = _DEBUG_HEAD.match(line)
        if head:
            if block is not None:
                datagrams.append(_debug_block(block, protocol, direction, start))
            block, start = bytearray(), number
            direction = "send" if head.group(1).startswith(">") else "recv"
            protocol = _PROTOCOL_NUMBERS.get(head.group(2))
            if protocol is None and head.group(2)[8:].isdigit():
                protocol = int(head.group(2)[8:])
            continue
        dump = _DEBUG_DUMP.match(line)
        if block is None or dump is None:
            continue
        if int(dump.group(1), 16) != len(block):
            raise DecodeError(
                f"line {number}: hex dump offset {dump.group(1)} does not follow the "
                f"{len(block)} bytes before it (a line is missing)"
            )
        columns = line[dump.end() :]
        block += _hex_line(columns[:23] + " " + columns[25:48], number)
    if block is not None:
        datagrams.append(_debug_block(block, protocol, direction, start))
    return datagrams


def _debug_block(block: bytearray, protocol: int | None, direction: str, line: int) -> Datagram:
    return Datagram(bytes(block), protocol, f"line {line}", direction)


# -- pcap ----------------------------------------------------------------------


def parse_pcap(data: bytes) -> list[Datagram]:
    """Read a classic pcap file (either byte order, micro- or nanoseconds).

    Raises :class:`DecodeError` for a file that is truncated, has another
    link type than ``LINKTYPE_NETLINK`` or holds packets cut by the snap
    length.
    """
    if len(data) < 24 or data[:4] not in _PCAP_MAGIC:
        raise DecodeError(f"not a pcap file: {len(data)} bytes, no pcap file header")
    order, tick = _PCAP_MAGIC[data[:4]]
    major, minor, _, _, _, network = struct.unpack_from(order + "HHiIII", data, 4)
    if major != 2:
        raise DecodeError(f"byte 4: pcap version {major}.{minor} (expected 2.x)")
    _check_linktype(network & 0xFFFF, "the pcap file header (byte 20)")

    datagrams: list[Datagram] = []
    record = struct.Struct(order + "IIII")
    offset = 24
    while offset < len(data):
        index = len(datagrams) + 1
        if len(data) - offset < record.size:
            raise DecodeError(
                f"byte {offset}: packet {index} header is truncated "
                f"({len(data) - offset} of {record.size} bytes)"
            )
        seconds, fraction, captured, original = record.unpack_from(data, offset)
        body = offset + record.size
        where = f"packet {index} at byte {offset}"
        packet = _packet_bytes(data, body, captured, original, where)
        datagrams.append(_cooked(packet, where, seconds + fraction * tick))
        offset = body + captured
    return datagrams


def _packet_bytes(data: bytes, start: int, captured: int, original: int, where: str) -> bytes:
    if captured > len(data) - start:
        raise DecodeError(
            f"{where}: truncated file: the packet claims {captured} bytes, "
            f"{len(data) - start} remain"
        )
    if captured < original:
        raise DecodeError(
            f"{where}: only {captured} of {original} bytes were captured "
            f"(the snap length cut the packet; capture again with tcpdump -s 0)"
        )
    return data[start : start + captured]


def _check_linktype(linktype: int, where: str) -> None:
    if linktype != LINKTYPE_NETLINK:
        name = _LINKTYPE_NAMES.get(linktype, "unknown")
        raise DecodeError(
            f"{where}: link type {linktype} ({name}), not {LINKTYPE_NETLINK} "
            f"(LINKTYPE_NETLINK); capture netlink on an nlmon device: tcpdump -i nlmon0 -w FILE"
        )


def _cooked(packet: bytes, where: str, timestamp: float | None) -> Datagram:
    if len(packet) < COOKED_HEADER_LEN:
        raise DecodeError(
            f"{where}: {len(packet)} bytes, shorter than the "
            f"{COOKED_HEADER_LEN}-byte LINKTYPE_NETLINK header"
        )
    packet_type, hatype = struct.unpack_from(">HH", packet)
    protocol = struct.unpack_from(">H", packet, 14)[0]
    if hatype not in (ARPHRD_NETLINK, 0):
        raise DecodeError(
            f"{where}: ARPHRD type {hatype} in the cooked header, not {ARPHRD_NETLINK} "
            f"(ARPHRD_NETLINK)"
        )
    direction = {PACKET_KERNEL: "send", PACKET_USER: "recv"}.get(packet_type)
    return Datagram(packet[COOKED_HEADER_LEN:], protocol, where, direction, timestamp)


# -- pcapng --------------------------------------------------------------------

_BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
_IDB, _SPB, _EPB, _OLD_PB = 1, 3, 6, 2


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    tick: float
    number: int


def parse_pcapng(data: bytes) -> list[Datagram]:
    """Read a pcapng file: every section, either byte order.

    Packets are taken from Enhanced, Simple and (obsolete) Packet Blocks;
    other blocks are skipped. Raises :class:`DecodeError` for a malformed
    block, or for a packet on an interface whose link type is not
    ``LINKTYPE_NETLINK``.
    """
    datagrams: list[Datagram] = []
    interfaces: list[_Interface] = []
    order = "<"
    offset = 0
    while offset < len(data):
        if data[offset : offset + 4] == _PCAPNG_SHB:
            order = _section_order(data, offset)
            interfaces = []
        block_type, body, end = _block(data, offset, order)
        where = f"block at byte {offset}"
        if block_type == _IDB:
            interfaces.append(_interface(body, order, len(interfaces), where))
        elif block_type in (_EPB, _SPB, _OLD_PB):
            index = len(datagrams) + 1
            where = f"packet {index} at byte {offset}"
            datagrams.append(_packet_block(block_type, body, order, interfaces, where))
        offset = end
    return datagrams


def _section_order(data: bytes, offset: int) -> str:
    if len(data) - offset < 12:
        raise DecodeError(f"byte {offset}: truncated pcapng section header")
    for order in "<>":
        if struct.unpack_from(order + "I", data, offset + 8)[0] == _BYTE_ORDER_MAGIC:
            return order
    raise DecodeError(f"byte {offset + 8}: pcapng section header without its byte-order magic")


def _block(data: bytes, offset: int, order: str) -> tuple[int, bytes, int]:
    if len(data) - offset < 12:
        raise DecodeError(
            f"byte {offset}: truncated pcapng block ({len(data) - offset} bytes remain)"
        )
    block_type, length = struct.unpack_from(order + "II", data, offset)
    if length < 12 or length % 4 or length > len(data) - offset:
        raise DecodeError(
            f"byte {offset}: pcapng block claims {length} bytes, {len(data) - offset} remain "
            f"(a block is at least 12 bytes and a multiple of 4)"
        )
    trailer = struct.unpack_from(order + "I", data, offset + length - 4)[0]
    if trailer != length:
        raise DecodeError(
            f"byte {offset}: pcapng block length {length} does not match its trailer {trailer}"
        )
    return block_type, data[offset + 8 : offset + length - 4], offset + length


def _interface(body: bytes, order: str, number: int, where: str) -> _Interface:
    if len(body) < 8:
        raise DecodeError(f"{where}: interface description block of {len(body)} bytes")
    linktype, _, snaplen = struct.unpack_from(order + "HHI", body)
    tick = 1e-6
    for code, value in _options(body, 8, order, where):
        if code == 9 and value:  # if_tsresol
            exponent = value[0] & 0x7F
            tick = 2.0**-exponent if value[0] & 0x80 else 10.0**-exponent
    return _Interface(linktype, snaplen, tick, number)


def _options(body: bytes, offset: int, order: str, where: str) -> list[tuple[int, bytes]]:
    options = []
    while len(body) - offset >= 4:
        code, length = struct.unpack_from(order + "HH", body, offset)
        if code == 0:  # opt_endofopt
            break
        value = body[offset + 4 : offset + 4 + length]
        if len(value) < length:
            raise DecodeError(f"{where}: option {code} runs past the end of its block")
        options.append((code, value))
        offset += 4 + ((length + 3) & ~3)
    return options


def _packet_block(
    block_type: int, body: bytes, order: str, interfaces: list[_Interface], where: str
) -> Datagram:
    if block_type == _SPB:
        interface_id, ticks, start = 0, None, 4
        original = struct.unpack_from(order + "I", body)[0] if len(body) >= 4 else 0
        captured = min(original, len(body) - 4)
    elif block_type == _EPB and len(body) >= 20:
        interface_id, high, low, captured, original = struct.unpack_from(order + "IIIII", body)
        ticks, start = (high << 32) | low, 20
    elif block_type == _OLD_PB and len(body) >= 20:
        interface_id, _, high, low, captured, original = struct.unpack_from(order + "HHIIII", body)
        ticks, start = (high << 32) | low, 20
    else:
        raise DecodeError(f"{where}: packet block of {len(body)} bytes is too short")

    if interface_id >= len(interfaces):
        raise DecodeError(f"{where}: packet on interface {interface_id}, which was not described")
    interface = interfaces[interface_id]
    _check_linktype(interface.linktype, f"{where}: interface {interface_id}")
    if block_type == _SPB and interface.snaplen:
        captured = min(captured, interface.snaplen)
    packet = _packet_bytes(body, start, captured, original, where)
    timestamp = ticks * interface.tick if ticks is not None else None
    return _cooked(packet, where, timestamp)
