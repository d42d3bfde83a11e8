"""NLMSG_ERROR decoding: ACKs, errors, extended ACKs and attribute paths.

The golden cases in ``tests/data/wire/extack.json`` are real answers of this
kernel's ethtool family (see ``capture.py`` there for how they were made and
where the expected values come from).
"""

from __future__ import annotations

import enum
import errno
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from nlwire.errors import DecodeError, MissingAttribute, NetlinkError
from nlwire.genl.schema import POLICY, AttributeType, genl_header
from nlwire.wire import (
    NLA_F_NESTED,
    NUL_STRING,
    U32,
    Array,
    AttrSet,
    Keyed,
    MessageFlags,
    MessageSpec,
    MessageType,
    Nested,
    error_from_ack,
    pack_attribute,
    pack_message,
    parse_ack,
    parse_messages,
    resolve_offset,
)

GOLDEN = json.loads((Path(__file__).parents[1] / "data/wire/extack.json").read_text())


class HeaderAttr(enum.IntEnum):
    DEV_INDEX = 1
    DEV_NAME = 2
    FLAGS = 3


class LinkinfoAttr(enum.IntEnum):
    HEADER = 1
    PORT = 2


HEADER = AttrSet(
    "header",
    HeaderAttr,
    {HeaderAttr.DEV_INDEX: U32, HeaderAttr.DEV_NAME: NUL_STRING, HeaderAttr.FLAGS: U32},
)
LINKINFO = AttrSet("linkinfo", LinkinfoAttr, {LinkinfoAttr.HEADER: Nested(HEADER)})
SPEC = MessageSpec("ethtool", LINKINFO, genl_header())
SETS = [LINKINFO, HEADER]


def names(numbers: list[int]) -> tuple[str, ...]:
    return tuple(attr_set.name_of(n) for attr_set, n in zip(SETS, numbers, strict=False))


def tlv(type_: int, value: bytes) -> bytes:
    return pack_attribute(type_, value)


def error_message(
    request: bytes, code: int, *, capped: bool, tlvs: bytes = b"", seq: int = 1
) -> bytes:
    echo = request[:16] if capped else request + b"\0" * (-len(request) % 4)
    flags = (MessageFlags.CAPPED if capped else 0) | (MessageFlags.ACK_TLVS if tlvs else 0)
    return pack_message(MessageType.ERROR, flags, seq, 77, struct.pack("=i", code) + echo + tlvs)


def sample_request() -> bytes:
    attrs = LINKINFO.encode({"header": {"dev_index": 3, "dev_name": "eth0"}})
    return pack_message(21, MessageFlags.REQUEST | MessageFlags.ACK, 1, 77, b"\2\1\0\0" + attrs)


def ack_of(data: bytes) -> Any:
    (message,) = parse_messages(data)
    assert message.type == MessageType.ERROR
    return parse_ack(message.payload, message.flags)


# -- plain ACKs and errors ------------------------------------------------------


def test_ack_is_code_zero_with_the_request_header() -> None:
    request = sample_request()
    ack = ack_of(error_message(request, 0, capped=True))
    assert ack.code == 0
    assert ack.request_header == struct.unpack_from("=IHHII", request)
    assert ack.request == request[:16]
    assert len(ack.extack) == 0


def test_uncapped_error_echoes_the_whole_request() -> None:
    request = sample_request()
    ack = ack_of(error_message(request, -errno.EINVAL, capped=False))
    assert ack.code == -errno.EINVAL
    assert ack.request == request


def test_extended_ack_after_capped_and_uncapped_echo() -> None:
    request = sample_request()
    tlvs = tlv(1, b"bad things\0") + tlv(2, struct.pack("=I", 24))
    for capped in (True, False):
        ack = ack_of(error_message(request, -errno.EINVAL, capped=capped, tlvs=tlvs))
        assert ack.extack["msg"] == "bad things"
        assert ack.extack["offs"] == 24


def test_extended_ack_attributes_are_ignored_without_ack_tlvs_flag() -> None:
    request = sample_request()
    data = bytearray(error_message(request, -1, capped=True, tlvs=tlv(1, b"x\0")))
    data[6:8] = struct.pack("=H", MessageFlags.CAPPED)
    assert len(ack_of(bytes(data)).extack) == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        struct.pack("=i", -1),
        struct.pack("=i", -1) + b"\0" * 15,
        # not capped, but the echoed header claims 40 bytes and 16 follow
        struct.pack("=iIHHII", -1, 40, 20, 0, 0, 0),
    ],
)
def test_short_error_payloads_raise_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_ack(memoryview(payload), 0)


def test_error_codes_map_to_python_exception_classes() -> None:
    request = sample_request()
    for code, kind in [
        (errno.EPERM, PermissionError),
        (errno.EACCES, PermissionError),
        (errno.ENOENT, FileNotFoundError),
        (errno.EEXIST, FileExistsError),
        (errno.ESRCH, ProcessLookupError),
    ]:
        error = error_from_ack(ack_of(error_message(request, -code, capped=True)))
        assert isinstance(error, kind) and isinstance(error, NetlinkError)
        assert error.errno == code
    error = error_from_ack(ack_of(error_message(request, -errno.EBUSY, capped=True)))
    assert type(error) is NetlinkError and error.errno_name == "EBUSY"


def test_except_permission_error_catches_eperm() -> None:
    request = sample_request()
    with pytest.raises(PermissionError) as caught:
        raise error_from_ack(ack_of(error_message(request, -errno.EPERM, capped=True)))
    assert caught.value.errno == errno.EPERM
    assert str(caught.value) == "[Errno 1] Operation not permitted"


# -- offsets to attribute paths ----------------------------------------------------


def test_offset_resolves_to_top_level_and_nested_paths() -> None:
    request = sample_request()
    assert resolve_offset(request, 20, SPEC) == ("header",)
    assert resolve_offset(request, 24, SPEC) == ("header", "dev_index")
    assert resolve_offset(request, 26, SPEC) == ("header", "dev_index")
    assert resolve_offset(request, 32, SPEC) == ("header", "dev_name")
    assert resolve_offset(request, 16, SPEC) == ()
    assert resolve_offset(request, 500, SPEC) == ()


def test_offset_inside_unknown_nested_attribute_uses_numbers() -> None:
    inner = pack_attribute(9, b"\0" * 4)
    attrs = pack_attribute(7, inner, flags=NLA_F_NESTED)
    request = pack_message(21, 1, 1, 0, b"\2\1\0\0" + attrs)
    assert resolve_offset(request, 24, SPEC) == ("#7", "#9")


def test_offset_inside_array_and_keyed_elements_names_their_members() -> None:
    class ListAttr(enum.IntEnum):
        ITEMS = 1
        TABLE = 2

    lists = AttrSet(
        "lists",
        ListAttr,
        {ListAttr.ITEMS: Array(Nested(HEADER)), ListAttr.TABLE: Keyed(Nested(HEADER))},
    )
    spec = MessageSpec("lists", lists, genl_header())
    items = [{"dev_index": 1}, {"dev_index": 2, "flags": 3}]
    body = lists.encode({"items": items, "table": {7: {"dev_name": "x"}}})
    request = pack_message(21, 1, 1, 0, b"\2\1\0\0" + body)
    # items @20, element 1 @24, its dev_index @28, element 2 @36, its flags @48
    assert resolve_offset(request, 48, spec) == ("items", "#2", "flags")
    assert resolve_offset(request, 36, spec) == ("items", "#2")
    table = 20 + 4 + 12 + 20
    assert resolve_offset(request, table + 8, spec) == ("table", "#7", "dev_name")


def test_offset_in_a_request_that_does_not_frame_gives_what_was_found() -> None:
    request = sample_request()[:30]
    assert resolve_offset(request, 24, SPEC) == ()


def test_error_from_ack_fills_message_offset_and_path() -> None:
    request = sample_request()
    tlvs = tlv(1, b"no device matches name\0") + tlv(2, struct.pack("=I", 32))
    ack = ack_of(error_message(request, -errno.ENODEV, capped=True, tlvs=tlvs))
    error = error_from_ack(ack, request, SPEC)
    assert error.errno == errno.ENODEV
    assert error.message == "no device matches name"
    assert error.offset == 32
    assert error.attr_path == ("header", "dev_name")
    assert error.request == request
    assert str(error) == "[Errno 19] No such device: no device matches name (at header/dev_name)"


def test_error_without_spec_gives_raw_offset() -> None:
    request = sample_request()
    tlvs = tlv(2, struct.pack("=I", 24))
    error = error_from_ack(ack_of(error_message(request, -errno.EINVAL, capped=True, tlvs=tlvs)))
    assert error.attr_path == ("@24",)
    assert error.message is None


def test_missing_attribute_top_level_and_in_a_nest() -> None:
    request = sample_request()
    top = tlv(5, struct.pack("=I", LinkinfoAttr.HEADER))
    error = error_from_ack(
        ack_of(error_message(request, -errno.EINVAL, capped=True, tlvs=top)), request, SPEC
    )
    assert error.missing == MissingAttribute(1, (), "header")
    assert "missing attribute header" in str(error)

    nested = tlv(5, struct.pack("=I", HeaderAttr.FLAGS)) + tlv(6, struct.pack("=I", 20))
    error = error_from_ack(
        ack_of(error_message(request, -errno.EINVAL, capped=True, tlvs=nested)), request, SPEC
    )
    assert error.missing == MissingAttribute(3, ("header",), "flags")


def test_missing_attribute_without_spec_has_only_its_number() -> None:
    request = sample_request()
    top = tlv(5, struct.pack("=I", 4))
    error = error_from_ack(ack_of(error_message(request, -errno.EINVAL, capped=True, tlvs=top)))
    assert error.missing == MissingAttribute(4)
    assert "missing attribute 4" in str(error)


def test_policy_is_kept_raw() -> None:
    request = sample_request()
    policy = pack_attribute(1, struct.pack("=I", AttributeType.U32))
    tlvs = tlv(1, b"x\0") + pack_attribute(4, policy, flags=NLA_F_NESTED)
    error = error_from_ack(ack_of(error_message(request, -errno.EINVAL, capped=True, tlvs=tlvs)))
    assert error.policy == policy
    assert POLICY.decode(error.policy)["type"] is AttributeType.U32


# -- golden: real kernel answers ---------------------------------------------------

CASES = sorted(name for name in GOLDEN if name != "kernel")


@pytest.mark.parametrize("name", CASES)
def test_golden_kernel_error_decodes_to_expected(name: str) -> None:
    case = GOLDEN[name]
    want = case["expected"]
    request = bytes.fromhex(case["request"])
    (message,) = parse_messages(bytes.fromhex(case["datagram"]))
    ack = parse_ack(message.payload, message.flags)

    assert bool(message.flags & MessageFlags.CAPPED) == case["capped"]
    assert ack.request == (request[:16] if case["capped"] else request)
    assert ack.request_header[3] == message.seq

    error = error_from_ack(ack, request, SPEC)
    assert error.errno == want["errno"]
    assert error.message == want["message"]
    assert error.offset == want["offset"]
    assert error.attr_path == names(want["attr_path"])


def test_golden_uncapped_error_resolves_path_from_the_echo_alone() -> None:
    case = GOLDEN["no_device_uncapped"]
    (message,) = parse_messages(bytes.fromhex(case["datagram"]))
    error = error_from_ack(parse_ack(message.payload, message.flags), spec=SPEC)
    assert error.attr_path == ("header", "dev_name")


def test_golden_policy_violation_reports_the_policy() -> None:
    case = GOLDEN["bad_length_policy"]
    (message,) = parse_messages(bytes.fromhex(case["datagram"]))
    error = error_from_ack(parse_ack(message.payload, message.flags))
    assert error.policy is not None
    policy = POLICY.decode(error.policy)
    assert policy["type"] == case["expected"]["policy_type"]
    assert policy["max_value_u"] == 2**32 - 1


def test_golden_missing_attribute() -> None:
    case = GOLDEN["missing_header"]
    request = bytes.fromhex(case["request"])
    (message,) = parse_messages(bytes.fromhex(case["datagram"]))
    error = error_from_ack(parse_ack(message.payload, message.flags), request, SPEC)
    assert error.missing == MissingAttribute(case["expected"]["missing_type"], (), "header")
