"""Attribute sets and decoded attributes: nests, arrays, keyed nests, structs,
sub-sets chosen by a sibling, unknown and repeated attributes, whole messages."""

from __future__ import annotations

import enum
import ipaddress
import struct

import pytest

from nlwire.errors import DecodeError
from nlwire.wire import (
    IP,
    MAC,
    NLA_F_NESTED,
    NLA_F_NET_BYTEORDER,
    NUL_STRING,
    STRING,
    U8,
    U16,
    U32,
    Array,
    Attrs,
    AttrSet,
    Flags,
    Keyed,
    Message,
    MessageSpec,
    Nested,
    Select,
    Struct,
    StructType,
    pack_attribute,
    pack_message,
    parse_messages,
    resolve_offset,
)
from nlwire.wire import Enum as EnumCodec


class Kind(enum.IntEnum):
    UP = 1
    DOWN = 2


class Inner(enum.IntEnum):
    NAME = 1
    PORT = 2


class Top(enum.IntEnum):
    NAME = 1
    MTU = 2
    PORT = 3
    INNER = 4
    LIST = 5
    TABLE = 6
    STATS = 7
    KIND = 8
    DATA = 9
    ADDR = 10
    MAC = 11
    STATE = 12


INNER = AttrSet("inner", Inner, {Inner.NAME: NUL_STRING, Inner.PORT: U16})
STATS = StructType("stats", [("packets", "I"), ("", "4x"), ("bytes", "Q")])
VETH = AttrSet("veth", Inner, {Inner.NAME: STRING})
TOP = AttrSet(
    "top",
    Top,
    {
        Top.NAME: STRING,
        Top.MTU: U32,
        Top.PORT: U16,
        Top.INNER: Nested(INNER),
        Top.LIST: Array(U32),
        Top.TABLE: Keyed(Nested(INNER)),
        Top.STATS: Struct(STATS),
        Top.KIND: STRING,
        Top.DATA: Select("kind", {"veth": Nested(VETH), "counter": U32}),
        Top.ADDR: IP,
        Top.MAC: MAC,
        Top.STATE: EnumCodec(U8, Kind),
    },
)


def attr(type_: int, value: bytes, flags: int = 0) -> bytes:
    return pack_attribute(type_, value, flags=flags)


def decode(data: bytes) -> Attrs:
    return TOP.decode(data)


# -- plain attributes ------------------------------------------------------------


def test_encode_produces_kernel_layout_with_padding() -> None:
    data = TOP.encode({"name": "eth0", "mtu": 1500})
    assert data == (
        struct.pack("=HH", 8, 1) + b"eth0" + struct.pack("=HH", 8, 2) + struct.pack("=I", 1500)
    )
    odd = TOP.encode({"name": "abc"})
    assert odd == struct.pack("=HH", 7, 1) + b"abc\0"
    assert len(odd) % 4 == 0


def test_decoded_attributes_read_by_name() -> None:
    attrs = decode(TOP.encode({"name": "eth0", "mtu": 9000, "state": "up"}))
    assert attrs["name"] == "eth0"
    assert attrs["mtu"] == 9000
    assert attrs["state"] is Kind.UP
    assert "mtu" in attrs and "port" not in attrs
    assert attrs.get("port") is None
    assert list(attrs) == ["name", "mtu", "state"]
    assert len(attrs) == 3
    with pytest.raises(KeyError):
        attrs["port"]


def test_none_values_are_left_out_and_unknown_names_refused() -> None:
    assert TOP.encode({"name": None, "mtu": 1}) == TOP.encode({"mtu": 1})
    with pytest.raises(KeyError, match="no attribute 'bogus'"):
        TOP.encode({"bogus": 1})


def test_addresses_inside_a_set() -> None:
    data = TOP.encode({"addr": "2001:db8::2", "mac": "aa:bb:cc:00:11:22"})
    attrs = decode(data)
    assert attrs["addr"] == ipaddress.ip_address("2001:db8::2")
    assert attrs["mac"] == "aa:bb:cc:00:11:22"


def test_raw_bytes_stay_reachable() -> None:
    attrs = decode(TOP.encode({"mtu": 1500}))
    assert bytes(attrs.raw("mtu")) == struct.pack("=I", 1500)


def test_host_order_value_with_net_byteorder_flag_is_read_big_endian() -> None:
    data = attr(Top.PORT, struct.pack(">H", 8080), NLA_F_NET_BYTEORDER)
    data += attr(Top.MTU, struct.pack(">I", 1500), NLA_F_NET_BYTEORDER)
    attrs = decode(data)
    assert attrs["port"] == 8080
    assert attrs["mtu"] == 1500


def test_net_byteorder_flag_reaches_enum_and_flags_of_host_integers() -> None:
    class Bits(enum.IntFlag):
        A = 1
        B = 0x100

    typed = AttrSet(
        "typed", Inner, {Inner.NAME: EnumCodec(U16, Kind), Inner.PORT: Flags(U32, Bits)}
    )
    data = attr(Inner.NAME, struct.pack(">H", 2), NLA_F_NET_BYTEORDER)
    data += attr(Inner.PORT, struct.pack(">I", 0x101), NLA_F_NET_BYTEORDER)
    attrs = typed.decode(data)
    assert attrs["name"] is Kind.DOWN
    assert attrs["port"] == Bits.A | Bits.B


# -- unknown and repeated ----------------------------------------------------------


def test_unknown_attributes_are_kept_and_never_an_error() -> None:
    data = TOP.encode({"mtu": 1}) + attr(99, b"\xde\xad") + attr(200, b"", NLA_F_NESTED)
    attrs = decode(data)
    assert attrs["mtu"] == 1
    assert attrs["#99"] == b"\xde\xad"
    assert attrs["#200"] == b""
    assert "#99" in attrs
    assert attrs.unknown() == [(99, b"\xde\xad"), (200, b"")]
    assert attrs.to_dict() == {"mtu": 1, "#99": "dead", "#200": ""}


def test_unknown_attributes_are_encoded_back_by_number() -> None:
    data = TOP.encode({"mtu": 5, "#77": b"\1\2\3"})
    assert decode(data)["#77"] == b"\1\2\3"
    assert TOP.encode(dict(decode(data))) == data


def test_repeated_attributes_via_getall() -> None:
    data = TOP.encode({"mtu": 1}) + TOP.encode({"mtu": 2}) + TOP.encode({"name": "x"})
    data += TOP.encode({"mtu": 3}) + attr(50, b"a") + attr(50, b"b")
    attrs = decode(data)
    assert attrs["mtu"] == 1
    assert attrs.getall("mtu") == [1, 2, 3]
    assert attrs.getall("name") == ["x"]
    assert attrs.getall("port") == []
    assert attrs.getall("#50") == [b"a", b"b"]
    assert attrs.unknown() == [(50, b"a"), (50, b"b")]
    assert attrs.to_dict() == {"mtu": [1, 2, 3], "name": "x", "#50": ["61", "62"]}


# -- nests --------------------------------------------------------------------


def test_nested_with_and_without_the_nested_flag() -> None:
    inner = INNER.encode({"name": "lo", "port": 7})
    flagged = decode(attr(Top.INNER, inner, NLA_F_NESTED))
    plain = decode(attr(Top.INNER, inner))
    for attrs in (flagged, plain):
        assert attrs["inner"]["name"] == "lo"
        assert attrs["inner"]["port"] == 7
        assert attrs.to_dict() == {"inner": {"name": "lo", "port": 7}}


def test_nested_encoding_sets_the_flag_unless_told_not_to() -> None:
    data = TOP.encode({"inner": {"port": 1}})
    assert struct.unpack_from("=H", data, 2)[0] == Top.INNER | NLA_F_NESTED
    bare = AttrSet("bare", Top, {Top.INNER: Nested(INNER, nested_flag=False)})
    data = bare.encode({"inner": {"port": 1}})
    assert struct.unpack_from("=H", data, 2)[0] == Top.INNER


def test_nested_round_trip_through_decoded_values() -> None:
    data = TOP.encode({"inner": {"name": "a", "port": 2}, "mtu": 3})
    assert TOP.encode(decode(data)) == data


def test_indexed_array() -> None:
    data = TOP.encode({"list": [10, 20, 30]})
    nest = data[4:]
    assert [struct.unpack_from("=HH", nest, 8 * i)[1] for i in range(3)] == [1, 2, 3]
    assert decode(data)["list"] == [10, 20, 30]
    assert decode(TOP.encode({"list": []}))["list"] == []
    with pytest.raises(TypeError, match="sequence"):
        TOP.encode({"list": "abc"})


def test_array_of_nests_and_index_order_is_message_order() -> None:
    ops = AttrSet("ops", Top, {Top.LIST: Array(Nested(INNER))})
    body = attr(3, INNER.encode({"port": 3}), NLA_F_NESTED) + attr(1, INNER.encode({"port": 1}))
    attrs = ops.decode(attr(Top.LIST, body, NLA_F_NESTED))
    assert [item["port"] for item in attrs["list"]] == [3, 1]


def test_keyed_nest() -> None:
    table = {5: {"name": "five"}, 2: {"port": 22}}
    data = TOP.encode({"table": table})
    decoded = decode(data)["table"]
    assert list(decoded) == [5, 2]
    assert decoded[5]["name"] == "five"
    assert decoded[2]["port"] == 22
    assert decode(data).to_dict() == {"table": {5: {"name": "five"}, 2: {"port": 22}}}


def test_badly_framed_nest_raises_decode_error_when_read() -> None:
    attrs = decode(attr(Top.INNER, b"\x09\x00\x01\x00abc"))
    with pytest.raises(DecodeError):
        attrs["inner"]["name"]
    with pytest.raises(DecodeError):
        attrs.to_dict()


# -- structs ------------------------------------------------------------------


def test_struct_inside_attribute_full_length() -> None:
    data = TOP.encode({"stats": {"packets": 3, "bytes": 2**40}})
    assert len(data) == 4 + 16
    stats = decode(data)["stats"]
    assert dict(stats) == {"packets": 3, "bytes": 2**40}
    assert stats.trailing == b""
    assert stats.size == 16


def test_short_struct_reports_missing_fields_absent() -> None:
    stats = decode(attr(Top.STATS, struct.pack("=I", 9)))["stats"]
    assert dict(stats) == {"packets": 9}
    assert "bytes" not in stats
    empty = decode(attr(Top.STATS, b""))["stats"]
    assert dict(empty) == {}


def test_longer_struct_keeps_trailing_bytes() -> None:
    raw = struct.pack("=I4xQ", 1, 2) + b"\xaa\xbb\xcc"
    stats = decode(attr(Top.STATS, raw))["stats"]
    assert dict(stats) == {"packets": 1, "bytes": 2}
    assert stats.trailing == b"\xaa\xbb\xcc"
    assert decode(attr(Top.STATS, raw)).to_dict() == {
        "stats": {"packets": 1, "bytes": 2, "trailing": "aabbcc"}
    }


def test_struct_enum_fields() -> None:
    typed = StructType("typed", [("kind", "B", Kind), ("", "3x"), ("n", "I")])
    assert typed.decode(bytes([2, 0, 0, 0]) + struct.pack("=I", 5))["kind"] is Kind.DOWN
    assert typed.decode(bytes([7, 0, 0, 0]))["kind"] == 7
    assert typed.pack({"kind": Kind.UP, "n": 1}) == bytes([1, 0, 0, 0]) + struct.pack("=I", 1)


def test_struct_fields_not_given_are_packed_as_zeros() -> None:
    named = StructType("named", [("n", "I"), ("comm", "8s")])
    assert named.pack({}) == b"\0" * 12
    assert named.pack({"comm": b"ab"}) == b"\0" * 4 + b"ab" + b"\0" * 6
    assert dict(named.decode(named.pack({"n": 5}))) == {"n": 5, "comm": b"\0" * 8}


def test_struct_value_out_of_range_is_a_usage_error() -> None:
    with pytest.raises(ValueError):
        STATS.pack({"packets": -1})


# -- select -------------------------------------------------------------------


def test_select_picks_the_codec_named_by_a_sibling() -> None:
    veth = TOP.encode({"kind": "veth", "data": ("veth", {"name": "peer0"})})
    assert decode(veth)["data"]["name"] == "peer0"
    counter = TOP.encode({"kind": "counter", "data": ("counter", 77)})
    assert decode(counter)["data"] == 77
    assert decode(counter).to_dict() == {"kind": "counter", "data": 77}


def test_select_order_does_not_matter_and_unknown_choice_stays_bytes() -> None:
    data = TOP.encode({"data": ("counter", 5)}) + TOP.encode({"kind": "counter"})
    assert decode(data)["data"] == 5
    other = TOP.encode({"kind": "bond"}) + attr(Top.DATA, b"\1\2")
    assert decode(other)["data"] == b"\1\2"
    missing = attr(Top.DATA, b"\3")
    assert decode(missing)["data"] == b"\3"


def test_select_sets_the_nested_flag_only_for_a_nested_choice() -> None:
    veth = TOP.encode({"data": ("veth", {"name": "p"})})
    counter = TOP.encode({"data": ("counter", 7)})
    assert struct.unpack_from("=H", veth, 2)[0] == Top.DATA | NLA_F_NESTED
    assert struct.unpack_from("=H", counter, 2)[0] == Top.DATA


def test_select_encoding_needs_the_choice() -> None:
    with pytest.raises(ValueError, match="choice"):
        TOP.encode({"data": 5})
    with pytest.raises(ValueError, match="choice"):
        TOP.encode({"data": ("bond", b"")})


# -- whole messages ------------------------------------------------------------


HEADER = StructType("hdr", [("cmd", "B"), ("version", "B"), ("", "2x")])
SPEC = MessageSpec("test", TOP, HEADER)


def test_message_spec_decodes_header_and_attributes() -> None:
    payload = HEADER.pack({"cmd": 3, "version": 1}) + TOP.encode({"mtu": 7})
    (message,) = parse_messages(pack_message(0x20, 2, 5, 6, payload))
    record = SPEC.decode(message)
    assert record.header is not None and record.header["cmd"] == 3
    assert record.attrs["mtu"] == 7
    assert record.to_dict() == {
        "type": 0x20,
        "flags": 2,
        "seq": 5,
        "port": 6,
        "header": {"cmd": 3, "version": 1},
        "attrs": {"mtu": 7},
    }
    assert SPEC.attribute_offset() == 20


def test_message_too_short_for_its_fixed_header() -> None:
    (message,) = parse_messages(pack_message(0x20, 0, 0, 0, b"\1\2"))
    with pytest.raises(DecodeError, match="too short"):
        SPEC.decode(message)


def test_attribute_set_declared_from_enum_names_and_cycles() -> None:
    tree = AttrSet("tree", Inner, {Inner.NAME: STRING})
    tree.set_codec("port", Nested(tree))
    data = tree.encode({"name": "root", "port": {"name": "child", "port": {"name": "leaf"}}})
    attrs = tree.decode(data)
    assert attrs["port"]["port"]["name"] == "leaf"
    assert tree.name_of(Inner.NAME | NLA_F_NESTED) == "name"
    assert tree.name_of(42) == "#42"


def self_nesting_set() -> AttrSet:
    tree = AttrSet("tree", Inner, {Inner.NAME: STRING})
    tree.set_codec("port", Nested(tree))
    return tree


def nest_levels(levels: int) -> bytes:
    data = b""
    for _ in range(levels):
        data = attr(Inner.PORT, data, NLA_F_NESTED)
    return data


def test_deep_nesting_of_a_self_nesting_set_is_a_decode_error() -> None:
    tree = self_nesting_set()
    shallow = tree.decode(nest_levels(60)).to_dict()
    assert shallow["port"]["port"]["port"] is not None
    with pytest.raises(DecodeError, match="nested more than"):
        tree.decode(nest_levels(3000)).to_dict()


def test_attribute_set_chosen_by_command() -> None:
    class Req(enum.IntEnum):
        NAME = 1

    class Rep(enum.IntEnum):
        COUNT = 1

    requests = AttrSet("req", Req, {Req.NAME: NUL_STRING})
    replies = AttrSet("rep", Rep, {Rep.COUNT: U32})
    header = StructType("hdr", [("cmd", "B"), ("version", "B"), ("reserved", "H")])
    spec = MessageSpec("demo", replies, header, by_command={1: requests})

    def message(cmd: int, attrs: bytes) -> Message:
        (msg,) = parse_messages(pack_message(0x20, 0, 1, 0, bytes((cmd, 1, 0, 0)) + attrs))
        return msg

    assert spec.decode(message(1, requests.encode({"name": "eth0"}))).attrs.to_dict() == {
        "name": "eth0"
    }
    assert spec.decode(message(2, replies.encode({"count": 7}))).attrs.to_dict() == {"count": 7}
    request = message(1, requests.encode({"name": "eth0"}))
    assert resolve_offset(bytes(request.raw), 20, spec) == ("name",)
