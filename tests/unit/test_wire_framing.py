"""Message framing: headers, alignment, control messages, multipart batches
and the attribute walk, including every way the bytes can be cut short."""

from __future__ import annotations

import struct

import pytest

from nlwire.errors import DecodeError
from nlwire.wire import (
    NLA_F_NESTED,
    NLA_F_NET_BYTEORDER,
    NLA_TYPE_MASK,
    NLMSG_HDRLEN,
    Message,
    MessageFlags,
    MessageType,
    align,
    format_message,
    hexdump,
    iter_attributes,
    pack_attribute,
    pack_message,
    pack_nested,
    parse_messages,
)


def header(length: int, type_: int, flags: int = 0, seq: int = 0, port: int = 0) -> bytes:
    return struct.pack("=IHHII", length, type_, flags, seq, port)


def test_pack_message_layout_and_padding() -> None:
    data = pack_message(0x1234, MessageFlags.REQUEST | MessageFlags.ACK, 7, 99, b"abcde")
    assert data[:16] == header(21, 0x1234, 5, 7, 99)
    assert data[16:21] == b"abcde"
    assert data[21:] == b"\0\0\0"
    assert [align(n) for n in (0, 1, 4, 5, 21)] == [0, 4, 4, 8, 24]


def test_parse_single_message_fields_and_views() -> None:
    (message,) = parse_messages(pack_message(20, 2, 3, 4, b"\1\2\3\4"))
    assert (message.type, message.flags, message.seq, message.port) == (20, 2, 3, 4)
    assert bytes(message.payload) == b"\1\2\3\4"
    assert len(message) == 20
    assert isinstance(message.raw, memoryview)
    assert "seq=3" in repr(message)


def test_parse_batch_honours_alignment_between_messages() -> None:
    batch = pack_message(20, 2, 1, 9, b"x") + pack_message(21, 2, 1, 9, b"yyyy")
    batch += pack_message(MessageType.DONE, 2, 1, 9, struct.pack("=i", 0))
    messages = parse_messages(batch)
    assert [m.type for m in messages] == [20, 21, MessageType.DONE]
    assert bytes(messages[0].payload) == b"x"
    assert bytes(messages[1].payload) == b"yyyy"


def test_unaligned_last_message_without_padding_is_accepted() -> None:
    data = pack_message(20, 0, 0, 0, b"abc")[:19]
    (message,) = parse_messages(data)
    assert bytes(message.payload) == b"abc"


def test_control_messages_are_named() -> None:
    data = b"".join(
        pack_message(kind, 0, 1, 2, b"\0" * 4)
        for kind in (MessageType.NOOP, MessageType.ERROR, MessageType.DONE, MessageType.OVERRUN)
    )
    messages = parse_messages(data)
    assert [MessageType(m.type).name for m in messages] == ["NOOP", "ERROR", "DONE", "OVERRUN"]
    assert "type=DONE" in repr(messages[2])


def test_flag_aliases_have_kernel_values() -> None:
    assert MessageFlags.DUMP == MessageFlags.ROOT | MessageFlags.MATCH == 0x300
    assert int(MessageFlags.CAPPED) == 0x100 and int(MessageFlags.ACK_TLVS) == 0x200
    assert int(MessageFlags.DUMP_INTR) == 0x10 and int(MessageFlags.MULTI) == 2


def test_empty_buffer_holds_no_messages() -> None:
    assert parse_messages(b"") == []


@pytest.mark.parametrize(
    "data",
    [
        header(16, 20)[:15],  # truncated header
        header(15, 20),  # length smaller than a header
        header(0, 20),
        header(24, 20) + b"\0" * 4,  # overlong: claims more than the buffer
        pack_message(20, 0, 0, 0) + b"\0\0",  # stray bytes after the last message
        pack_message(20, 0, 0, 0) + header(17, 20),  # second message overlong
    ],
)
def test_truncated_or_overlong_frames_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_messages(data)


def test_parse_accepts_bytearray_and_memoryview_without_copying() -> None:
    buffer = bytearray(pack_message(20, 0, 0, 0, b"data"))
    (message,) = parse_messages(memoryview(buffer))
    buffer[16] = ord("D")
    assert bytes(message.payload) == b"Data"


# -- attributes ---------------------------------------------------------------


def test_pack_attribute_layout() -> None:
    assert pack_attribute(3, b"ab") == struct.pack("=HH", 6, 3) + b"ab\0\0"
    assert pack_attribute(3, b"") == struct.pack("=HH", 4, 3)
    assert pack_attribute(1, b"\0" * 4, flags=NLA_F_NET_BYTEORDER)[2:4] == b"\x01\x40"
    nest = pack_nested(7, pack_attribute(1, b"abcd"))
    assert struct.unpack_from("=HH", nest) == (12, 7 | NLA_F_NESTED)
    assert struct.unpack_from("=HH", pack_nested(7, b"", nested_flag=False)) == (4, 7)


def test_pack_attribute_refuses_what_cannot_be_framed() -> None:
    with pytest.raises(ValueError, match="too long"):
        pack_attribute(1, b"\0" * 65532)
    assert len(pack_attribute(1, b"\0" * 65531)) == 65536
    with pytest.raises(ValueError, match="16 bits"):
        pack_attribute(0x10000, b"")


def test_iter_attributes_yields_types_with_flags_and_value_ranges() -> None:
    data = pack_attribute(1, b"abc") + pack_nested(2, pack_attribute(5, b""))
    found = list(iter_attributes(data))
    assert found[0] == (1, 4, 7)
    assert found[1][0] & NLA_TYPE_MASK == 2 and found[1][0] & NLA_F_NESTED
    start, end = found[1][1], found[1][2]
    assert list(iter_attributes(data, start, end)) == [(5, start + 4, start + 4)]


@pytest.mark.parametrize(
    "data",
    [
        struct.pack("=HH", 3, 1),  # shorter than its header
        struct.pack("=HH", 9, 1) + b"abcd",  # runs past the end
        pack_attribute(1, b"abcd") + b"\1\2",  # stray bytes
    ],
)
def test_bad_attribute_framing_raises_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        list(iter_attributes(data))


def test_last_attribute_may_lack_its_padding() -> None:
    data = pack_attribute(1, b"abc")[:7]
    assert list(iter_attributes(data)) == [(1, 4, 7)]


# -- debug layout ---------------------------------------------------------------


def test_debug_layout_has_head_json_and_hex_lines() -> None:
    raw = pack_message(MessageType.DONE, MessageFlags.MULTI, 7, 2148, struct.pack("=i", 0))
    (message,) = parse_messages(raw)
    text = format_message(message, direction="<<< recv", protocol=16)
    head, body, *dump = text.splitlines()
    assert head == "<<< recv NETLINK_GENERIC 20 bytes: type=DONE(3) flags=MULTI seq=7 port=2148"
    assert body.strip() == '{"done": true}'
    assert dump[0].startswith("    0000  14 00 00 00 03 00 02 00  07 00 00 00 64 08 00 00")
    assert dump[1] == "    0010  00 00 00 00" + " " * 12 + " " * 27 + "...."


def test_debug_layout_says_undecodable_instead_of_raising() -> None:
    raw = pack_message(MessageType.ERROR, 0, 1, 1, b"\0\0")
    (message,) = parse_messages(raw)
    text = format_message(message, direction="<<< recv", protocol=0)
    assert "undecodable:" in text.splitlines()[1]


def test_hexdump_lines() -> None:
    assert hexdump(bytes(range(18))).splitlines()[1].startswith("0010  10 11")
    assert hexdump(b"AB") == "0000  41 42" + " " * 18 + "  " + " " * 23 + "  AB"
    assert NLMSG_HDRLEN == 16
    assert isinstance(parse_messages(pack_message(20, 0, 0, 0))[0], Message)
