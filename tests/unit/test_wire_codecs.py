"""Value codecs: every attribute type encodes to the kernel's bytes and back."""

from __future__ import annotations

import enum
import ipaddress
import struct
import sys
from typing import Any

import pytest

from nlwire.errors import DecodeError
from nlwire.wire import (
    BE16,
    BE32,
    BE64,
    BINARY,
    FLAG,
    IP,
    IPV4,
    IPV6,
    MAC,
    NET16,
    NET32,
    NET64,
    NLA_F_NET_BYTEORDER,
    NUL_STRING,
    S8,
    S16,
    S32,
    S64,
    SINT,
    STRING,
    U8,
    U16,
    U32,
    U64,
    UINT,
    Codec,
    Enum,
    Flags,
)

LITTLE = sys.byteorder == "little"


def decode(codec: Codec, data: bytes) -> Any:
    return codec.decode(memoryview(data))


# -- integers ----------------------------------------------------------------

FIXED = [
    (U8, "=B", [0, 1, 0xFF]),
    (U16, "=H", [0, 0x1234, 0xFFFF]),
    (U32, "=I", [0, 0x12345678, 0xFFFFFFFF]),
    (U64, "=Q", [0, 0x123456789ABCDEF0, 2**64 - 1]),
    (S8, "=b", [-128, -1, 0, 127]),
    (S16, "=h", [-(2**15), -2, 2**15 - 1]),
    (S32, "=i", [-(2**31), -3, 2**31 - 1]),
    (S64, "=q", [-(2**63), -4, 2**63 - 1]),
    (BE16, ">H", [0, 0x1234, 0xFFFF]),
    (BE32, ">I", [0, 0x12345678, 0xFFFFFFFF]),
    (BE64, ">Q", [0, 0x0102030405060708, 2**64 - 1]),
    (NET16, ">H", [0, 443, 0xFFFF]),
    (NET32, ">I", [0, 0xC0A80001, 0xFFFFFFFF]),
    (NET64, ">Q", [0, 2**40 + 5, 2**64 - 1]),
]


@pytest.mark.parametrize(("codec", "fmt", "values"), FIXED, ids=lambda x: repr(x)[:12])
def test_fixed_width_integers_match_struct_layout(
    codec: Codec, fmt: str, values: list[int]
) -> None:
    for value in values:
        packed = codec.encode(value)
        assert packed == struct.pack(fmt, value)
        assert decode(codec, packed) == value


@pytest.mark.parametrize(("codec", "fmt", "values"), FIXED, ids=lambda x: repr(x)[:12])
def test_fixed_width_integers_reject_out_of_range_and_wrong_length(
    codec: Codec, fmt: str, values: list[int]
) -> None:
    size = struct.calcsize(fmt)
    with pytest.raises(ValueError, match="does not fit"):
        codec.encode(max(values) + 1)
    with pytest.raises(ValueError, match="does not fit"):
        codec.encode(min(values) - 1)
    for wrong in (size - 1, size + 1, 0):
        with pytest.raises(DecodeError):
            decode(codec, b"\0" * wrong)


def test_big_endian_codecs_differ_from_host_order_on_the_wire() -> None:
    assert BE16.encode(0x0102) == b"\x01\x02"
    assert BE32.encode(1) == b"\0\0\0\1"
    assert NET32.encode(1) == b"\0\0\0\1"
    expected = b"\x02\x01" if LITTLE else b"\x01\x02"
    assert U16.encode(0x0102) == expected


def test_only_net_codecs_set_the_byte_order_flag() -> None:
    assert NET16.flags == NET32.flags == NET64.flags == NLA_F_NET_BYTEORDER
    assert BE16.flags == BE32.flags == BE64.flags == U32.flags == 0


def test_swapped_host_codec_reads_big_endian() -> None:
    swapped = U32.swapped()
    assert decode(swapped, b"\0\0\1\0") == 256
    assert decode(U16.swapped(), b"\x12\x34") == 0x1234


@pytest.mark.parametrize(
    ("codec", "value", "size"),
    [
        (UINT, 0, 4),
        (UINT, 2**32 - 1, 4),
        (UINT, 2**32, 8),
        (UINT, 2**64 - 1, 8),
        (SINT, -1, 4),
        (SINT, -(2**31), 4),
        (SINT, 2**31, 8),
        (SINT, -(2**63), 8),
    ],
)
def test_variable_width_integers_use_4_bytes_when_they_fit(
    codec: Codec, value: int, size: int
) -> None:
    packed = codec.encode(value)
    assert len(packed) == size
    assert decode(codec, packed) == value


def test_variable_width_integers_read_both_widths_and_nothing_else() -> None:
    assert decode(UINT, struct.pack("=Q", 7)) == 7
    assert decode(SINT, struct.pack("=q", -7)) == -7
    for length in (0, 1, 2, 3, 5, 16):
        with pytest.raises(DecodeError, match="expected 4 or 8"):
            decode(UINT, b"\0" * length)
    with pytest.raises(ValueError, match="does not fit"):
        UINT.encode(2**64)
    with pytest.raises(ValueError, match="does not fit"):
        UINT.encode(-1)


# -- strings, bytes, flags -----------------------------------------------------


def test_string_may_or_may_not_end_in_nul() -> None:
    assert STRING.encode("eth0") == b"eth0"
    assert decode(STRING, b"eth0") == "eth0"
    assert decode(STRING, b"eth0\0") == "eth0"
    assert decode(STRING, b"eth0\0garbage") == "eth0"
    assert decode(STRING, b"") == ""


def test_nul_string_is_encoded_with_its_terminator() -> None:
    assert NUL_STRING.encode("nlctrl") == b"nlctrl\0"
    assert decode(NUL_STRING, b"nlctrl\0") == "nlctrl"
    assert decode(NUL_STRING, "grüße".encode() + b"\0") == "grüße"


def test_strings_replace_invalid_utf8_and_refuse_bad_values() -> None:
    assert decode(STRING, b"a\xffb") == "a\ufffdb"
    with pytest.raises(ValueError, match="NUL"):
        STRING.encode("a\0b")
    with pytest.raises(TypeError, match="str"):
        NUL_STRING.encode(b"bytes")


def test_binary_is_kept_as_bytes() -> None:
    assert BINARY.encode(b"\x00\x01\xff") == b"\x00\x01\xff"
    assert BINARY.encode(bytearray(b"ab")) == b"ab"
    assert decode(BINARY, b"\x00\x01\xff") == b"\x00\x01\xff"
    with pytest.raises(TypeError, match="bytes"):
        BINARY.encode("text")


def test_flag_has_no_value_bytes() -> None:
    assert FLAG.encode(True) == b""
    assert decode(FLAG, b"") is True
    with pytest.raises(DecodeError, match="flag"):
        decode(FLAG, b"\1")
    with pytest.raises(ValueError, match="True"):
        FLAG.encode(False)


# -- addresses -------------------------------------------------------------------


def test_ipv4_and_ipv6_addresses() -> None:
    assert IPV4.encode("192.0.2.1") == bytes([192, 0, 2, 1])
    assert decode(IPV4, bytes([192, 0, 2, 1])) == ipaddress.IPv4Address("192.0.2.1")
    packed = IPV6.encode("2001:db8::1")
    assert len(packed) == 16
    assert decode(IPV6, packed) == ipaddress.IPv6Address("2001:db8::1")
    assert IPV4.encode(ipaddress.IPv4Address("10.0.0.1")) == b"\n\0\0\1"


def test_ip_takes_either_family_by_length() -> None:
    assert decode(IP, b"\x7f\0\0\1") == ipaddress.ip_address("127.0.0.1")
    assert decode(IP, b"\0" * 15 + b"\1") == ipaddress.ip_address("::1")
    for wrong in (0, 3, 5, 8, 17):
        with pytest.raises(DecodeError):
            decode(IP, b"\0" * wrong)


def test_addresses_of_the_wrong_family_are_refused() -> None:
    with pytest.raises(ValueError, match="ipv4"):
        IPV4.encode("::1")
    with pytest.raises(ValueError, match="ipv6"):
        IPV6.encode("10.0.0.1")
    with pytest.raises(DecodeError):
        decode(IPV4, b"\0" * 16)


def test_mac_address() -> None:
    assert MAC.encode("02:00:5e:10:00:01") == bytes.fromhex("02005e100001")
    assert decode(MAC, bytes.fromhex("02005e100001")) == "02:00:5e:10:00:01"
    assert decode(MAC, bytes.fromhex("0a0b")) == "0a:0b"
    with pytest.raises(ValueError, match="link-layer"):
        MAC.encode("not-a-mac")
    with pytest.raises(ValueError):
        MAC.encode("1ff:00")


# -- enums and flags -------------------------------------------------------------


class Colour(enum.IntEnum):
    RED = 1
    GREEN = 2


class Perm(enum.IntFlag):
    READ = 1
    WRITE = 2


def test_enum_names_known_values_and_keeps_unknown_ones() -> None:
    codec = Enum(U8, Colour)
    assert decode(codec, b"\2") is Colour.GREEN
    unknown = decode(codec, b"\x09")
    assert unknown == 9 and not isinstance(unknown, Colour)
    assert codec.encode(Colour.RED) == b"\1"
    assert codec.encode("green") == b"\2"
    assert codec.encode(2) == b"\2"


def test_enum_encoding_an_unknown_name_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="Colour"):
        Enum(U8, Colour).encode("purple")


def test_flags_keep_unknown_bits() -> None:
    codec = Flags(U32, Perm)
    value = decode(codec, struct.pack("=I", 3))
    assert value == Perm.READ | Perm.WRITE
    assert Perm.WRITE in value
    odd = decode(codec, struct.pack("=I", 0x101))
    assert int(odd) == 0x101 and Perm.READ in odd
    assert codec.encode(Perm.READ | Perm.WRITE) == struct.pack("=I", 3)
