"""Properties of the codec, checked with Hypothesis.

1. encode -> decode -> encode gives the same bytes, for generated values of
   every codec (nests, arrays, keyed nests, structs and select included).
2. Whatever the bytes, the decoders either return or raise DecodeError:
   parse_messages, Attrs.to_dict over any schema, parse_ack (and the error
   built from it), MessageSpec.decode(...).to_dict(), resolve_offset.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlwire.errors import DecodeError, NetlinkError
from nlwire.genl import CTRL, CTRL_SPEC
from nlwire.genl.family import family_from_attrs, policy_from_records
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
    NLA_F_NESTED,
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
    Array,
    Attr,
    AttrSet,
    Codec,
    Enum,
    Flags,
    Keyed,
    MessageSpec,
    Nested,
    Select,
    Struct,
    StructType,
    error_from_ack,
    pack_attribute,
    pack_message,
    parse_ack,
    parse_messages,
    resolve_offset,
)
from nlwire.wire.ack import EXTACK

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Mode(enum.IntEnum):
    OFF = 0
    ON = 1


class Bits(enum.IntFlag):
    A = 1
    B = 2
    C = 8


INTEGERS: dict[str, tuple[Codec, int, int]] = {
    "u8": (U8, 0, 2**8 - 1),
    "u16": (U16, 0, 2**16 - 1),
    "u32": (U32, 0, 2**32 - 1),
    "u64": (U64, 0, 2**64 - 1),
    "s8": (S8, -(2**7), 2**7 - 1),
    "s16": (S16, -(2**15), 2**15 - 1),
    "s32": (S32, -(2**31), 2**31 - 1),
    "s64": (S64, -(2**63), 2**63 - 1),
    "uint": (UINT, 0, 2**64 - 1),
    "sint": (SINT, -(2**63), 2**63 - 1),
    "be16": (BE16, 0, 2**16 - 1),
    "be32": (BE32, 0, 2**32 - 1),
    "be64": (BE64, 0, 2**64 - 1),
    "net16": (NET16, 0, 2**16 - 1),
    "net32": (NET32, 0, 2**32 - 1),
    "net64": (NET64, 0, 2**64 - 1),
}

POINT = StructType("point", [("x", "i"), ("", "4x"), ("y", "Q"), ("mode", "B", Mode)])
LEAF = AttrSet("leaf", None)
for _number, _name, _codec in [
    (1, "label", NUL_STRING),
    (2, "weight", U32),
    (3, "on", FLAG),
]:
    LEAF.add(Attr(_number, _name, _codec))

ALL = AttrSet("all", None)
_CODECS: list[tuple[str, Codec]] = [(name, codec) for name, (codec, _, _) in INTEGERS.items()]
_CODECS += [
    ("string", STRING),
    ("nul_string", NUL_STRING),
    ("binary", BINARY),
    ("flag", FLAG),
    ("ipv4", IPV4),
    ("ipv6", IPV6),
    ("ip", IP),
    ("mac", MAC),
    ("mode", Enum(U8, Mode)),
    ("bits", Flags(U32, Bits)),
    ("leaf", Nested(LEAF)),
    ("bare_leaf", Nested(LEAF, nested_flag=False)),
    ("numbers", Array(U16)),
    ("leaves", Array(Nested(LEAF))),
    ("table", Keyed(Keyed(Nested(LEAF)))),
    ("point", Struct(POINT)),
    ("kind", STRING),
    ("data", Select("kind", {"leaf": Nested(LEAF), "count": U32})),
]
for _number, (_name, _codec) in enumerate(_CODECS, 1):
    ALL.add(Attr(_number, _name, _codec))
SPEC = MessageSpec("all", ALL, StructType("hdr", [("cmd", "B"), ("version", "B"), ("", "2x")]))

# A set that nests itself, for deep and cyclic bytes.
TREE = AttrSet("tree", None)
TREE.add(Attr(1, "name", STRING))
TREE.add(Attr(2, "child", Nested(TREE)))
TREE.add(Attr(3, "children", Array(Nested(TREE))))

text = st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"]), max_size=20)
leaf_values = st.fixed_dictionaries(
    {},
    optional={"label": text, "weight": st.integers(0, 2**32 - 1), "on": st.just(True)},
)


def integer(name: str) -> st.SearchStrategy[int]:
    _, low, high = INTEGERS[name]
    return st.integers(low, high)


VALUES: dict[str, st.SearchStrategy[Any]] = {name: integer(name) for name in INTEGERS}
VALUES.update(
    {
        "string": text,
        "nul_string": text,
        "binary": st.binary(max_size=40),
        "flag": st.just(True),
        "ipv4": st.ip_addresses(v=4),
        "ipv6": st.ip_addresses(v=6),
        "ip": st.ip_addresses(),
        "mac": st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b)),
        "mode": st.sampled_from(Mode),
        "bits": st.integers(0, 2**32 - 1),
        "leaf": leaf_values,
        "bare_leaf": leaf_values,
        "numbers": st.lists(st.integers(0, 2**16 - 1), max_size=5),
        "leaves": st.lists(leaf_values, max_size=3),
        "table": st.dictionaries(
            st.integers(0, 200),
            st.dictionaries(st.integers(0, 50), leaf_values, max_size=2),
            max_size=3,
        ),
        "point": st.fixed_dictionaries(
            {},
            optional={
                "x": st.integers(-(2**31), 2**31 - 1),
                "y": st.integers(0, 2**64 - 1),
                "mode": st.sampled_from(Mode),
            },
        ),
    }
)
value_sets = st.fixed_dictionaries({}, optional=VALUES)
unknown = st.dictionaries(
    st.integers(len(_CODECS) + 1, 0x3FFF).map(lambda n: f"#{n}"),
    st.binary(max_size=12),
    max_size=3,
)


def re_encode(attrs: Any) -> bytes:
    """Encode decoded attributes again, every repeat in order."""
    parts = []
    for name in attrs:
        for value in attrs.getall(name):
            parts.append(ALL.encode({name: value}))
    return b"".join(parts)


# -- 1. round trips ------------------------------------------------------------


@SETTINGS
@given(value_sets, unknown)
def test_encode_decode_encode_is_stable(values: dict[str, Any], extra: dict[str, bytes]) -> None:
    first = ALL.encode({**values, **extra})
    decoded = ALL.decode(first)
    assert re_encode(decoded) == first
    assert set(decoded) == set(values) | set(extra)
    for name, value in values.items():
        got = decoded[name]
        if isinstance(value, int | str | bytes) and name not in ("mac",):
            assert got == value, name
        elif name in ("ipv4", "ipv6", "ip"):
            assert got == ipaddress.ip_address(value)


@SETTINGS
@given(st.sampled_from(["leaf", "count"]), leaf_values, st.integers(0, 2**32 - 1))
def test_select_round_trip(choice: str, leaf: dict[str, Any], count: int) -> None:
    value = leaf if choice == "leaf" else count
    data = ALL.encode({"kind": choice, "data": (choice, value)})
    decoded = ALL.decode(data)
    again = ALL.encode({"kind": decoded["kind"], "data": (choice, decoded["data"])})
    assert again == data


@SETTINGS
@given(st.sampled_from(["u16", "u32", "u64", "s16", "s32", "s64"]), st.data())
def test_host_order_codec_reads_net_byteorder_values(name: str, data: st.DataObject) -> None:
    _, low, high = INTEGERS[name]
    value = data.draw(st.integers(low, high))
    fmt = {"u16": ">H", "u32": ">I", "u64": ">Q", "s16": ">h", "s32": ">i", "s64": ">q"}[name]
    number = ALL.by_name[name].type
    decoded = ALL.decode(
        pack_attribute(number, struct.pack(fmt, value), flags=NLA_F_NET_BYTEORDER)
    )
    assert decoded[name] == value


# -- 2. arbitrary bytes ---------------------------------------------------------------


def tlv_tree(depth: int = 3) -> st.SearchStrategy[bytes]:
    """Bytes that frame as attributes, nested a few levels, with random types."""
    leaf = st.builds(
        lambda t, f, v: pack_attribute(t, v, flags=f),
        st.integers(0, 40),
        st.sampled_from([0, NLA_F_NESTED, NLA_F_NET_BYTEORDER]),
        st.binary(max_size=20),
    )
    if depth == 0:
        return leaf
    nest = st.builds(
        lambda t, f, inner: pack_attribute(t, b"".join(inner), flags=f),
        st.integers(0, 40),
        st.sampled_from([0, NLA_F_NESTED]),
        st.lists(tlv_tree(depth - 1), max_size=4),
    )
    return st.one_of(leaf, nest)


attribute_bytes = st.one_of(
    st.binary(max_size=300), st.lists(tlv_tree(), max_size=6).map(b"".join)
)
SCHEMAS = [ALL, LEAF, TREE, CTRL, EXTACK, AttrSet("empty", None)]


def decode_or_decode_error(attr_set: AttrSet, data: bytes) -> None:
    try:
        attrs = attr_set.decode(data)
        attrs.to_dict()
        for name in list(attrs):
            attrs.getall(name)
        attrs.unknown()
    except DecodeError:
        pass


@SETTINGS
@given(st.sampled_from(SCHEMAS), attribute_bytes)
def test_attrs_to_dict_returns_or_raises_decode_error(attr_set: AttrSet, data: bytes) -> None:
    decode_or_decode_error(attr_set, data)


@SETTINGS
@given(st.binary(max_size=400))
def test_parse_messages_returns_or_raises_decode_error(data: bytes) -> None:
    try:
        messages = parse_messages(data)
    except DecodeError:
        return
    assert sum((len(m) + 3) & ~3 for m in messages) >= len(data)


message_bytes = st.builds(
    lambda type_, flags, body: pack_message(type_, flags, 1, 2, body),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=4).flatmap(
            lambda head: attribute_bytes.map(lambda attrs: head + attrs)
        ),
    ),
)


@SETTINGS
@given(st.sampled_from([SPEC, CTRL_SPEC]), st.one_of(message_bytes, st.binary(max_size=200)))
def test_message_spec_decode_to_dict_returns_or_raises_decode_error(
    spec: MessageSpec, data: bytes
) -> None:
    try:
        for message in parse_messages(data):
            record = spec.decode(message)
            record.to_dict()
            if spec is CTRL_SPEC:
                family_from_attrs(record.attrs)
                policy_from_records([record])
    except DecodeError:
        pass


error_payloads = st.one_of(
    st.binary(max_size=120),
    st.builds(
        lambda code, request, tlvs: struct.pack("=i", code) + request + tlvs,
        st.integers(-(2**31), 2**31 - 1),
        message_bytes,
        st.lists(tlv_tree(1), max_size=5).map(b"".join),
    ),
)


@SETTINGS
@given(error_payloads, st.integers(0, 0xFFFF), st.one_of(st.none(), message_bytes))
def test_parse_ack_returns_or_raises_decode_error(
    payload: bytes, flags: int, request: bytes | None
) -> None:
    try:
        ack = parse_ack(memoryview(payload), flags)
        ack.extack.to_dict()
        error = error_from_ack(ack, request, SPEC)
    except DecodeError:
        return
    assert isinstance(error, NetlinkError)
    str(error)


@SETTINGS
@given(st.one_of(message_bytes, st.binary(max_size=100)), st.integers(0, 300))
def test_resolve_offset_always_returns_a_path(request: bytes, offset: int) -> None:
    path = resolve_offset(request, offset, SPEC)
    assert isinstance(path, tuple) and all(isinstance(p, str) for p in path)
