"""Reading captured netlink traffic: hex text, the debug layout, pcap and pcapng."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlwire.errors import DecodeError
from nlwire.wire import format_message, pack_attribute, pack_message, parse_messages
from nlwire.wire.capture import (
    ARPHRD_NETLINK,
    PACKET_KERNEL,
    PACKET_USER,
    detect_format,
    parse_hex,
    parse_pcap,
    parse_pcapng,
    read_capture,
)

# A GETFAMILY request for "nlctrl" and a DONE: two messages, 48 bytes.
REQUEST = pack_message(16, 0x5, 7, 0, bytes((3, 2, 0, 0)) + pack_attribute(2, b"nlctrl\0"))
DONE = pack_message(3, 0x2, 7, 4242, struct.pack("=i", 0))


# -- hex text -------------------------------------------------------------------


def test_xxd_plain_lines_make_one_datagram() -> None:
    data = REQUEST + DONE
    text = "\n".join(data[i : i + 30].hex() for i in range(0, len(data), 30)) + "\n"

    [datagram] = parse_hex(text)

    assert datagram.data == data
    assert datagram.protocol is None
    assert datagram.where == "line 1"


@pytest.mark.parametrize(
    "text",
    [
        " ".join(f"{b:02x}" for b in REQUEST),
        ", ".join(f"0x{b:02X}" for b in REQUEST),
        "\t".join(REQUEST[i : i + 4].hex() for i in range(0, len(REQUEST), 4)),
        "# a comment line\n" + REQUEST.hex() + "  # trailing comment",
    ],
    ids=["spaced-bytes", "0x-commas", "words-tabs", "comments"],
)
def test_hex_spellings_give_the_same_bytes(text: str) -> None:
    [datagram] = parse_hex(text)
    assert datagram.data == REQUEST


def test_blank_line_separates_datagrams_and_comment_lines_do_not() -> None:
    text = f"{REQUEST.hex()}\n# still the first datagram\n{DONE.hex()}\n\n\n{DONE.hex()}\n"

    datagrams = parse_hex(text)

    assert [d.data for d in datagrams] == [REQUEST + DONE, DONE]
    assert [d.where for d in datagrams] == ["line 1", "line 6"]


def test_single_digit_0x_byte_is_zero_padded() -> None:
    [datagram] = parse_hex("0x1 0xa 0xff")
    assert datagram.data == b"\x01\x0a\xff"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4c 00\n00 0x0000004c", r"line 2, column 4: '0x0000004c': a 0x token must be one byte"),
        ("4c 0g", "line 1, column 5: 'g' is not a hex digit"),
        ("4c 0xzz", "line 1, column 6: 'z' is not a hex digit"),
        ("4c000", "line 1, column 1: '4c000' has an odd number of hex digits"),
        ("00000000: 4c00 0000", "line 1, column 9: ':' is not a hex digit"),
    ],
)
def test_bad_hex_names_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(DecodeError, match=expected):
        parse_hex(text)


def test_debug_layout_is_read_back_with_protocol_and_direction() -> None:
    [request] = parse_messages(REQUEST)
    [done] = parse_messages(DONE)
    text = "\n".join(
        [
            "some unrelated line",
            format_message(request, direction=">>> send", protocol=16),
            "nlwire: warning: interleaved",
            format_message(done, direction="<<< recv", protocol=0),
        ]
    )

    datagrams = parse_hex(text)

    assert [d.data for d in datagrams] == [REQUEST, DONE]
    assert [d.protocol for d in datagrams] == [16, 0]
    assert [d.direction for d in datagrams] == ["send", "recv"]
    assert datagrams[0].where == "line 2"


def test_debug_layout_with_a_missing_dump_line_is_an_error() -> None:
    long_name = pack_attribute(2, b"a family name of 28 letters\0")
    [request] = parse_messages(pack_message(16, 0x5, 7, 0, bytes((3, 2, 0, 0)) + long_name))
    lines = format_message(request, direction=">>> send", protocol=16).splitlines()
    del lines[3]  # the second hex dump line (offset 0010)

    with pytest.raises(DecodeError, match=r"line 4: hex dump offset 0020 does not follow"):
        parse_hex("\n".join(lines))


def test_debug_layout_ascii_column_that_looks_like_hex_is_ignored() -> None:
    payload = b"abcdefabcdefabcd" * 2
    message = pack_message(0x20, 0, 1, 0, payload)
    [parsed] = parse_messages(message)
    text = format_message(parsed, direction="<<< recv", protocol=16)

    [datagram] = parse_hex(text)

    assert datagram.data == message


# -- format detection -------------------------------------------------------------


def test_detect_format_by_magic() -> None:
    assert detect_format(b"\xd4\xc3\xb2\xa1rest") == "pcap"
    assert detect_format(b"\xa1\xb2\x3c\x4drest") == "pcap"
    assert detect_format(b"\x0a\x0d\x0d\x0arest") == "pcapng"
    assert detect_format(b"1c000000") == "hex"


def test_binary_that_is_no_capture_is_a_clear_error() -> None:
    with pytest.raises(DecodeError, match="byte 1: not hex text and not a pcap/pcapng"):
        read_capture(b"\x00\xff\xfe")


# -- pcap -------------------------------------------------------------------------


def cooked(protocol: int, data: bytes, packet_type: int = PACKET_USER) -> bytes:
    """The 16-byte LINKTYPE_NETLINK header in front of ``data``."""
    return struct.pack(">HHH8sH", packet_type, ARPHRD_NETLINK, 0, b"", protocol) + data


def pcap(
    packets: list[bytes], *, order: str = "<", nanos: bool = False, linktype: int = 253
) -> bytes:
    """A classic pcap file holding ``packets`` (timestamps 1000 s + i ticks)."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for index, packet in enumerate(packets):
        out += struct.pack(order + "IIII", 1000, index, len(packet), len(packet)) + packet
    return out


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_both_byte_orders_and_resolutions(order: str, nanos: bool) -> None:
    data = pcap(
        [cooked(16, REQUEST, PACKET_KERNEL), cooked(0, DONE, PACKET_USER)],
        order=order,
        nanos=nanos,
    )

    datagrams = read_capture(data)

    assert [d.data for d in datagrams] == [REQUEST, DONE]
    assert [d.protocol for d in datagrams] == [16, 0]
    assert [d.direction for d in datagrams] == ["send", "recv"]
    assert datagrams[1].timestamp == pytest.approx(1000 + (1e-9 if nanos else 1e-6))
    assert datagrams[1].where == f"packet 2 at byte {24 + 16 + 16 + len(REQUEST)}"


def test_pcap_truncated_packet_names_its_offset() -> None:
    data = pcap([cooked(16, REQUEST), cooked(16, DONE)])[:-5]

    with pytest.raises(DecodeError, match=r"packet 2 at byte \d+: truncated file"):
        parse_pcap(data)


def test_pcap_truncated_record_header() -> None:
    data = pcap([cooked(16, REQUEST)]) + b"\x00" * 7

    with pytest.raises(DecodeError, match=r"packet 2 header is truncated \(7 of 16 bytes\)"):
        parse_pcap(data)


def test_pcap_wrong_link_type_is_named() -> None:
    with pytest.raises(DecodeError, match=r"link type 1 \(LINKTYPE_ETHERNET\), not 253"):
        parse_pcap(pcap([b"\x00" * 60], linktype=1))


def test_pcap_packet_cut_by_snaplen() -> None:
    data = pcap([cooked(16, REQUEST)])
    cut = data[:24] + struct.pack("<IIII", 1000, 0, 30, 16 + len(REQUEST)) + data[40:70]

    with pytest.raises(DecodeError, match="only 30 of 48 bytes were captured"):
        parse_pcap(cut)


def test_pcap_packet_shorter_than_cooked_header() -> None:
    with pytest.raises(DecodeError, match="shorter than the 16-byte LINKTYPE_NETLINK header"):
        parse_pcap(pcap([b"\x00" * 10]))


def test_pcap_wrong_arphrd_is_refused() -> None:
    packet = struct.pack(">HHH8sH", 0, 1, 6, b"", 0x800) + REQUEST  # Ethernet, IPv4

    with pytest.raises(DecodeError, match="ARPHRD type 1 in the cooked header"):
        parse_pcap(pcap([packet]))


# -- pcapng -----------------------------------------------------------------------


def block(order: str, kind: int, body: bytes) -> bytes:
    """One pcapng block with its length before and after."""
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def section(order: str) -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def interface(order: str, linktype: int = 253, tsresol: int | None = None) -> bytes:
    options = b""
    if tsresol is not None:
        options = struct.pack(order + "HH", 9, 1) + bytes((tsresol, 0, 0, 0))
        options += struct.pack(order + "HH", 0, 0)
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, 0) + options)


def enhanced(order: str, packet: bytes, ticks: int = 0, iface: int = 0) -> bytes:
    head = struct.pack(
        order + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(packet), len(packet)
    )
    return block(order, 6, head + packet)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_enhanced_and_simple_packets(order: str) -> None:
    data = (
        section(order)
        + interface(order, tsresol=9)
        + block(order, 0x0BAD, b"custom block, skipped")
        + enhanced(order, cooked(16, REQUEST, PACKET_KERNEL), ticks=2_500_000_000)
        + block(order, 3, struct.pack(order + "I", 16 + len(DONE)) + cooked(16, DONE))
    )

    datagrams = read_capture(data)

    assert [d.data for d in datagrams] == [REQUEST, DONE]
    assert [d.direction for d in datagrams] == ["send", "recv"]
    assert datagrams[0].timestamp == pytest.approx(2.5)
    assert datagrams[1].timestamp is None


def test_pcapng_sections_may_change_byte_order() -> None:
    data = section("<") + interface("<") + enhanced("<", cooked(16, REQUEST))
    data += section(">") + interface(">") + enhanced(">", cooked(0, DONE))

    datagrams = parse_pcapng(data)

    assert [(d.protocol, d.data) for d in datagrams] == [(16, REQUEST), (0, DONE)]


def test_pcapng_wrong_link_type() -> None:
    data = section("<") + interface("<", linktype=113) + enhanced("<", cooked(16, REQUEST))

    with pytest.raises(DecodeError, match=r"interface 0: link type 113 \(LINKTYPE_LINUX_SLL\)"):
        parse_pcapng(data)


def test_pcapng_packet_on_undescribed_interface() -> None:
    data = section("<") + interface("<") + enhanced("<", cooked(16, REQUEST), iface=3)

    with pytest.raises(DecodeError, match="interface 3, which was not described"):
        parse_pcapng(data)


def test_pcapng_truncated_and_mismatched_blocks() -> None:
    good = section("<") + interface("<") + enhanced("<", cooked(16, REQUEST))
    with pytest.raises(DecodeError, match=r"byte 48: pcapng block claims \d+ bytes, \d+ remain"):
        parse_pcapng(good[:-4])

    broken = bytearray(good)
    broken[-4:] = struct.pack("<I", 999)
    with pytest.raises(DecodeError, match="does not match its trailer 999"):
        parse_pcapng(bytes(broken))


# -- any bytes: a result or a DecodeError ------------------------------------------


@given(st.binary(max_size=200), st.sampled_from([b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a"]))
def test_any_input_decodes_or_raises_decode_error(tail: bytes, magic: bytes) -> None:
    try:
        datagrams = read_capture(magic + tail)
    except DecodeError:
        return
    assert all(isinstance(d.data, bytes) for d in datagrams)


@given(st.text(alphabet="0123456789abcdefx# ,\n\t>-<NETLINK_sendrcv:", max_size=200))
def test_any_hex_like_text_decodes_or_raises_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        parse_hex(text)
