"""Controller dumps captured from a real kernel, decoded and compared with
what iproute2's ``genl`` printed at the same moment.

``tests/data/genl/capture.py`` made the files: raw datagrams as the kernel
sent them (multipart, ended by NLMSG_DONE) and the expected decoding parsed
from ``genl ctrl list`` / ``genl ctrl policy`` output.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from nlwire.genl import CTRL_SPEC, CtrlCmd, Family, FamilyPolicy, GenlClient, OpFlags
from nlwire.genl.client import Controller
from nlwire.genl.family import family_from_attrs, policy_from_records
from nlwire.socket import NETLINK_GENERIC, NetlinkSocket
from nlwire.socket.fake import FakeTransport
from nlwire.wire import Message, MessageFlags, MessageType, Record, parse_messages

DATA = Path(__file__).parents[1] / "data/genl"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text())
    return document


def messages_of(document: dict[str, Any]) -> list[Message]:
    return [m for d in document["datagrams"] for m in parse_messages(bytes.fromhex(d))]


def records_of(document: dict[str, Any]) -> list[Record]:
    return [CTRL_SPEC.decode(m) for m in messages_of(document) if m.type == CTRL_SPEC_TYPE]


CTRL_SPEC_TYPE = 16  # GENL_ID_CTRL: replies carry the controller's id as their type


def summary(family: Family) -> dict[str, Any]:
    """``Family.to_dict()`` as iproute2 prints it: no flag names, and no
    operation flags at all for families below version 2."""
    result = family.to_dict()
    shown = family.version >= 2
    result["ops"] = [
        {"id": op["id"], "flags": op["flags"] if shown else None} for op in result["ops"]
    ]
    return result


# -- the captures themselves --------------------------------------------------


@pytest.mark.parametrize("name", ["family_dump.json", "policy_dump.json"])
def test_capture_is_a_multipart_dump_ended_by_done(name: str) -> None:
    document = load(name)
    (request,) = parse_messages(bytes.fromhex(document["request"]))
    assert request.flags & MessageFlags.DUMP == MessageFlags.DUMP
    messages = messages_of(document)
    assert len(messages) > 2
    assert len(document["datagrams"]) >= 2
    assert messages[-1].type == MessageType.DONE
    for message in messages:
        assert message.flags & MessageFlags.MULTI
        assert message.seq == request.seq
        assert not message.flags & MessageFlags.DUMP_INTR


# -- family dump ---------------------------------------------------------------


def test_family_dump_equals_genl_ctrl_list() -> None:
    document = load("family_dump.json")
    families = [family_from_attrs(record.attrs) for record in records_of(document)]
    assert [summary(family) for family in families] == document["expected"]


def test_family_dump_header_and_known_families() -> None:
    records = records_of(load("family_dump.json"))
    for record in records:
        assert record.header is not None
        assert record.header["cmd"] is CtrlCmd.NEWFAMILY
        assert record.attrs.unknown() == []
    by_name = {f.name: f for f in (family_from_attrs(r.attrs) for r in records)}
    nlctrl = by_name["nlctrl"]
    assert nlctrl.id == 16 and nlctrl.version == 2
    assert [group.to_dict() for group in nlctrl.mcast_groups] == [{"name": "notify", "id": 16}]
    assert nlctrl.ops[0].id == CtrlCmd.GETFAMILY
    assert OpFlags.CMD_CAP_DUMP in nlctrl.ops[0].flags


def test_family_dump_to_dict_is_json_ready() -> None:
    for record in records_of(load("family_dump.json")):
        text = json.dumps(record.to_dict())
        assert json.loads(text)["attrs"]["family_name"] == record.attrs["family_name"]


# -- policy dump ------------------------------------------------------------------


def test_policy_dump_equals_genl_ctrl_policy() -> None:
    document = load("policy_dump.json")
    want = document["expected"]
    policy = policy_from_records(records_of(document)).to_dict()
    assert policy["ops"] == want["ops"]
    assert set(policy["policies"]) == set(want["policies"])
    for index, attributes in want["policies"].items():
        assert set(policy["policies"][index]) == set(attributes), index
        for attr_type, details in attributes.items():
            got = policy["policies"][index][attr_type]
            assert {key: got.get(key) for key in details} == details, (index, attr_type)


def test_policy_dump_nested_policy_points_at_a_dumped_table() -> None:
    policy = policy_from_records(records_of(load("policy_dump.json")))
    nested = [
        details
        for table in policy.policies.values()
        for details in table.values()
        if details["type"] == "NESTED"
    ]
    assert nested
    for details in nested:
        assert details["policy_idx"] in policy.policies


# -- the controller over a fake kernel answering with the captured bytes -------------


def replay(document: dict[str, Any]) -> FakeTransport:
    """A fake kernel that answers the first request with the captured datagrams."""
    datagrams = [bytes.fromhex(d) for d in document["datagrams"]]

    def kernel(request: Message) -> list[bytes]:
        return [resequence(d, request.seq, request.port) for d in datagrams]

    return FakeTransport(kernel)


def resequence(datagram: bytes, seq: int, port: int) -> bytes:
    """Rewrite every message's sequence number and port to answer a new request."""
    out = bytearray(datagram)
    offset = 0
    while offset < len(out):
        (length,) = struct.unpack_from("=I", out, offset)
        struct.pack_into("=II", out, offset + 8, seq, port)
        offset += (length + 3) & ~3
    return bytes(out)


def test_controller_lists_families_from_captured_replies() -> None:
    document = load("family_dump.json")
    with NetlinkSocket(NETLINK_GENERIC, transport=replay(document)) as sock:
        families = Controller(sock=sock).list_families()
    assert [summary(family) for family in families] == document["expected"]
    assert all(isinstance(family, Family) for family in families)


def test_controller_policy_from_captured_replies() -> None:
    document = load("policy_dump.json")
    with NetlinkSocket(NETLINK_GENERIC, transport=replay(document)) as sock:
        policy = Controller(sock=sock).get_policy(document["expected"]["family"])
    assert isinstance(policy, FamilyPolicy)
    assert policy.to_dict()["ops"] == document["expected"]["ops"]
    assert issubclass(Controller, GenlClient)
